/*
 * apps.h - Microsoft Store (AppX/MSIX) apps of a user, read offline, and
 * what is needed to bring them back on the target: the reinstall list
 * (winget-import-compatible JSON staged for first sign-in), a matcher for
 * an admin-supplied folder of offline packages, and the Wi-Fi profiles
 * whose keys the user must type again.
 *
 * Where the inventory comes from (../shared/reference/hives.md 3a):
 *   UsrClass.dat  Local Settings\Software\Microsoft\Windows\CurrentVersion\
 *                 AppModel\Repository\Packages\<PackageFullName>
 *                 (values PackageRootFolder, DisplayName, Framework ...)
 *                 and ...\Repository\Families\<FamilyName>\<FullName>
 *   SOFTWARE      Microsoft\Windows\CurrentVersion\Appx\AppxAllUserStore\
 *                 Applications\<FullName>       (provisioned for every user)
 *                 InboxApplications\<FullName>  (shipped with Windows)
 *                 <UserSID>\<FullName>          (installed for that user)
 *                 Deprovisioned\<FamilyName>    (removed from the image)
 *   files         %LOCALAPPDATA%\Packages\<FamilyName> folder names
 *
 * Classification, first rule that applies:
 *   framework  repository value Framework = 1, or a name of the framework
 *              table (Microsoft.VCLibs.*, Microsoft.NET.Native.*,
 *              Microsoft.UI.Xaml.*, Microsoft.WindowsAppRuntime.*,
 *              Microsoft.WinJS.*, Microsoft.Media.PlayReadyClient.*,
 *              Microsoft.Advertising.Xaml, Microsoft.Services.Store.Engagement)
 *   resource   a resource package (resource id other than "", "~" and
 *              "neutral", e.g. "split.scale-100"): part of a bundle, never
 *              installed alone
 *   system     PackageRootFolder under \Windows\SystemApps\ (or empty with
 *              publisher cw5n1h2txyewy), publisher id cw5n1h2txyewy, or
 *              listed in InboxApplications
 *   inbox      provisioned (AppxAllUserStore\Applications) or a family name
 *              of the built-in table of apps Windows 8.1/10/11 provision by
 *              default (Calculator, Photos, Store, Mail ...); without the
 *              SOFTWARE hive this table is the only signal, so a default
 *              app the image did not provision is still called inbox
 *   user       everything else: installed by the user (Store or sideload)
 *
 * Ownership: struct apps_list owns every string of its packages;
 * apps_list_release() frees them.  Nothing here prints; per-object
 * problems (a malformed package name, an unreadable Wi-Fi profile) are
 * warnings through the struct ws_log given and the object is skipped.
 */
#ifndef APPS_H
#define APPS_H

#include <stddef.h>
#include <stdint.h>

#include "reg/reg.h"
#include "util/ws_buf.h"
#include "util/ws_error.h"
#include "util/ws_log.h"

struct vol;
struct vol_profile;

/* Relative key of the package repository inside UsrClass.dat. */
#define APPS_REPOSITORY_KEY \
	"Local Settings\\Software\\Microsoft\\Windows\\CurrentVersion\\AppModel\\Repository"
/* Key of the machine-wide store inside the SOFTWARE hive. */
#define APPS_ALLUSER_KEY \
	"Microsoft\\Windows\\CurrentVersion\\Appx\\AppxAllUserStore"

/* ---- package identities ------------------------------------------------- */

/*
 * The parts of a PackageFullName "Name_Version_Arch_ResourceId_PublisherId"
 * (e.g. "Microsoft.VCLibs.140.00_14.0.30704.0_x64__8wekyb3d8bbwe"), each a
 * NUL-terminated copy inside the struct.
 */
#define APPS_NAME_MAX 64   /* Windows allows 50 characters */
struct apps_id {
	char name[APPS_NAME_MAX + 1];
	char version[24];         /* "14.0.30704.0": four numbers 0..65535 */
	char arch[8];             /* x86 x64 arm arm64 neutral x86a64 */
	char resource_id[APPS_NAME_MAX + 1]; /* "" for most; "~" for bundles */
	char publisher_id[14];    /* 13 characters, Crockford base32 */
};

/*
 * Parse a full name.  Returns 0, or -1 when it is not one: wrong number of
 * parts, a name with characters other than A-Z a-z 0-9 . - (or longer than
 * APPS_NAME_MAX), a version that is not four numbers, an unknown
 * architecture, a publisher id that is not 13 base32 characters.
 */
int apps_parse_full_name(const char *full, struct apps_id *id);

/*
 * Parse a family name "Name_PublisherId".  Fills id->name and
 * id->publisher_id, leaves the other fields empty.  0 or -1 as above.
 */
int apps_parse_family_name(const char *family, struct apps_id *id);

/* "Name_PublisherId" of a parsed id, appended to out. */
void apps_family_of(const struct apps_id *id, struct ws_buf *out);

/*
 * Publisher id of a publisher distinguished name as Windows derives it:
 * SHA-256 of the UTF-16LE name, first 8 bytes, Crockford base32 (13
 * characters), e.g. "CN=Microsoft Corporation, O=Microsoft Corporation,
 * L=Redmond, S=Washington, C=US" -> "8wekyb3d8bbwe".  `out` gets 14 bytes.
 */
void apps_publisher_id(const char *publisher, char out[14]);

/* (Package versions "a.b.c.d" compare with ws_version_cmp(a, b, 0), util/ws_str.h.) */

/* Is `arch` one of the architecture names of package identities? */
int apps_arch_valid(const char *arch);

/*
 * Package architecture of a Windows PROCESSOR_ARCHITECTURE ("AMD64" ->
 * "x64", "ARM64" -> "arm64", "x86" -> "x86", compared case-insensitively),
 * or NULL when unknown or NULL.
 */
const char *apps_arch_from_processor(const char *processor_architecture);

/* ---- inventory ----------------------------------------------------------- */

enum apps_class {
	APPS_CLASS_USER = 0,    /* installed by the user: reinstall */
	APPS_CLASS_INBOX,       /* provisioned / shipped default app */
	APPS_CLASS_SYSTEM,      /* part of Windows (SystemApps) */
	APPS_CLASS_FRAMEWORK,   /* framework / dependency (VCLibs ...) */
	APPS_CLASS_RESOURCE     /* resource part of a bundle */
};

/* "user", "inbox", "system", "framework", "resource". */
const char *apps_class_name(int cls);

/* Where a package was seen (apps_package.sources bits). */
enum apps_source {
	APPS_SRC_REPOSITORY = 1u << 0,  /* UsrClass Repository\Packages */
	APPS_SRC_FAMILIES = 1u << 1,    /* UsrClass Repository\Families */
	APPS_SRC_FOLDER = 1u << 2,      /* %LOCALAPPDATA%\Packages\<family> */
	APPS_SRC_USER_STORE = 1u << 3,  /* SOFTWARE AppxAllUserStore\<SID> */
	APPS_SRC_PROVISIONED = 1u << 4, /* SOFTWARE ...\Applications */
	APPS_SRC_INBOX = 1u << 5        /* SOFTWARE ...\InboxApplications */
};

struct apps_package {
	char *full_name;     /* NULL when only the family is known (data folder) */
	char *family_name;   /* never NULL */
	struct apps_id id;   /* parsed; version/arch/resource "" when unknown */
	char *display_name;  /* repository DisplayName as stored ("@{...}" for
				resource strings), "" when absent */
	char *root_folder;   /* repository PackageRootFolder, "" when absent */
	char *sid;           /* the user it was inventoried for, "" if none given */
	int cls;             /* enum apps_class */
	unsigned sources;    /* enum apps_source bits */
	int framework_flag;  /* repository value Framework = 1 */
	int deprovisioned;   /* family listed in AppxAllUserStore\Deprovisioned */
	int installed;       /* evidence it is installed for the user (repository
				or <SID> key), not just a leftover data folder */
};

struct apps_list {
	struct apps_package *v;
	size_t n, alloc;
};
#define APPS_LIST_INIT { NULL, 0, 0 }

/* Free every package and its strings; the list is empty afterwards. */
void apps_list_release(struct apps_list *l);

/*
 * Inventory one user's packages and append them to `out`, sorted by family
 * then full name (stable, so listings and tests are deterministic).
 *   usrclass  the user's UsrClass.dat, open read-only; may be NULL
 *   software  the SOFTWARE hive; may be NULL (classification then rests on
 *             the repository values and the built-in tables)
 *   sid       the user's SID ("" or NULL: the <SID> subkey is not read)
 *   folders   names of the folders under the user's %LOCALAPPDATA%\Packages
 *             (nfolders of them; may be NULL/0)
 * One entry per full name; a family seen only as a data folder or in
 * AppxAllUserStore\<SID> without a repository key gets one entry with the
 * information found.  Malformed names are skipped with a warning naming the
 * key or folder.  Errors: WS_E_HIVE when a hive cannot be read (err names
 * the hive and key); `out` keeps what was appended before.
 */
int apps_inventory(struct reg_hive *usrclass, struct reg_hive *software,
		   const char *sid, const char *const *folders, size_t nfolders,
		   struct apps_list *out, struct ws_log *log,
		   struct ws_error *err);

/*
 * The same for a profile of a mounted installation: opens the profile's
 * UsrClass.dat read-only with vol_hive_open (a dirty hive through its
 * replayed logs, else from its primary file with a warning saying why; a
 * missing one is not an error), takes the SOFTWARE hive from the
 * volume handle and lists %LOCALAPPDATA%\Packages (from vol_user_vars).
 * Errors as apps_inventory, WS_E_IO when the Packages folder exists but
 * cannot be read.
 */
int apps_user_inventory(struct vol *vol, const struct vol_profile *p,
			struct apps_list *out, struct ws_log *log,
			struct ws_error *err);

/* ---- the image's own packages --------------------------------------------- */

/* A sorted set of family names, compared like NTFS names. */
struct apps_names {
	char **v;
	size_t n, alloc;
};

/* What a SOFTWARE hive's AppxAllUserStore says, as family names. */
struct apps_image {
	struct apps_names provisioned;   /* ...\Applications\<FullName> */
	struct apps_names inbox;         /* ...\InboxApplications\<FullName> */
	struct apps_names deprovisioned; /* ...\Deprovisioned\<FamilyName> */
};
#define APPS_IMAGE_INIT { { NULL, 0, 0 }, { NULL, 0, 0 }, { NULL, 0, 0 } }

/*
 * Read the AppxAllUserStore sets of `software` into `out` (which must be
 * APPS_IMAGE_INIT or released).  Malformed key names are skipped with a
 * warning; absent keys give empty sets.  Errors: WS_E_HIVE naming the hive
 * and key; release `out` with apps_image_release() whatever the result.
 */
int apps_image_read(struct reg_hive *software, struct apps_image *out,
		    struct ws_log *log, struct ws_error *err);

/* 1 when the image provisions or ships `family` for every new user
 * (Applications or InboxApplications): no need to reinstall it there. */
int apps_image_provides(const struct apps_image *img, const char *family);

void apps_image_release(struct apps_image *img);

/* ---- catalog records ------------------------------------------------------ */

/*
 * The `app_class` text of a catalog app record (struct store_app,
 * docs/store-format.md): the class name ("user", "inbox", "system",
 * "framework", "resource"), prefixed by "deprovisioned-" when the family is
 * listed in the source's AppxAllUserStore\Deprovisioned.  A package known
 * only from its data folder (not installed) has an empty full name in the
 * record.  Appended to out.
 */
void apps_class_encode(const struct apps_package *p, struct ws_buf *out);

/* Parse such a text: 0 with *cls and *deprovisioned set, -1 when unknown. */
int apps_class_parse(const char *s, int *cls, int *deprovisioned);

/*
 * Append the package a catalog app record describes: identity from
 * `full_name` (or from `family` when the full name is empty: then it is a
 * data-folder-only entry, installed = 0), class and deprovisioned flag from
 * `app_class`, sid (may be NULL) for the side data.  Returns 0, or -1 with
 * nothing appended when a name does not parse, the full name belongs to
 * another family than `family` (when `family` is not empty), or the class
 * is unknown.
 */
int apps_list_add_record(struct apps_list *out, const char *family,
			 const char *full_name, const char *app_class,
			 const char *sid);

/* ---- reinstall list ------------------------------------------------------- */

/*
 * Should this package be reinstalled for the user at first sign-in?  Only
 * class user, installed, not deprovisioned, with a known full name.
 */
int apps_is_reinstallable(const struct apps_package *p);

/*
 * Microsoft Store ProductId of a family name from the small built-in table
 * of common Store apps (docs/settings-catalog.md lists it), or NULL.  The
 * ProductId cannot be derived offline: families not in the table travel in
 * the side data only.
 */
const char *apps_store_product_id(const char *family_name);

/*
 * The reinstall list as JSON compatible with `winget import`
 * (https://aka.ms/winget-packages.schema.2.0.json):
 *   { "$schema": ..., "CreationDate": ...,
 *     "Sources": [ { "SourceDetails": { msstore }, "Packages": [
 *        { "PackageIdentifier": "<ProductId>" } ... ] } ],
 *     "winstate": { "version": 1, "apps": [ { "PackageFamilyName",
 *        "PackageFullName", "Name", "Version", "Architecture",
 *        "PublisherId", "SourceSid", "StoreProductId" (or null),
 *        "Route": "msstore" | "offline-or-manual" } ... ] } }
 * Only apps_is_reinstallable() packages, one per family (highest version).
 * "Sources" holds the msstore source only when at least one app has a
 * known ProductId (the schema requires a non-empty Packages array), else
 * it is []; winget ignores the "winstate" member (the schema allows extra
 * properties).  `creation_date` is an ISO 8601 text; NULL = now (UTC).
 * Appends to out; returns the number of apps in the side data.
 */
size_t apps_reinstall_json(const struct apps_list *l, const char *creation_date,
			   struct ws_buf *out);

/* ---- offline package folder ---------------------------------------------- */

/* One package file found in an admin's offline folder. */
struct apps_offline_file {
	char *path;          /* host path */
	char *file;          /* file name */
	struct apps_id id;   /* from the manifest inside when readable, else
				from the file name; fields "" when unknown */
	char *family_name;   /* "" when the publisher id is unknown */
	int bundle;          /* .msixbundle / .appxbundle */
	int framework;       /* manifest <Framework>true, or framework name */
	int from_manifest;   /* identity read from AppxManifest.xml /
				AppxMetadata/AppxBundleManifest.xml */
};

struct apps_offline {
	struct apps_offline_file *files;
	size_t nfiles, alloc_files;
	char **licenses;     /* host paths of *_License*.xml files */
	size_t nlicenses, alloc_licenses;
};
#define APPS_OFFLINE_INIT { NULL, 0, 0, NULL, 0, 0 }

void apps_offline_release(struct apps_offline *off);

/*
 * Index the folder `dir` (not recursive): every .msix .msixbundle .appx
 * .appxbundle file (extensions compared case-insensitively) and every
 * *_License*.xml.  The identity comes from the package's manifest (zip,
 * read with libarchive, at most 1 MiB of manifest) when readable, else from
 * the file name ("Name_Version_Arch_Res_Pub", "Name_Version_Arch_Pub",
 * "Name_Version_Pub" or "Name_Version_Arch"); a file whose name and content
 * say nothing usable is skipped with a warning.  When libarchive cannot be
 * loaded, one warning at the folder's first package, and file names only.
 * Errors: WS_E_IO when the folder cannot be read.
 */
int apps_offline_scan(const char *dir, struct apps_offline *off,
		      struct ws_log *log, struct ws_error *err);

/* What the folder offers for one app. */
struct apps_offline_hit {
	const struct apps_offline_file *package; /* NULL: not in the folder */
	const struct apps_offline_file **deps;   /* frameworks of a compatible
						    architecture (malloc'd array) */
	size_t ndeps;
	const char *license;                     /* license file path or NULL */
};

/*
 * Find the package for `app` (same family; when the family is unknown for a
 * file, same name): a bundle, or a package whose architecture is the app's,
 * neutral, or - for x86 apps - x86.  The highest version wins.  `deps` are
 * the framework files whose architecture fits `target_arch` ("x64",
 * "arm64", "x86"; NULL = the app's architecture) or neutral, and `license`
 * the first license file whose name starts with the app's name or family
 * name.  Returns 1 when a package was found, 0 if not; release `hit` with
 * apps_offline_hit_release.
 */
int apps_offline_find(const struct apps_offline *off,
		      const struct apps_package *app, const char *target_arch,
		      struct apps_offline_hit *hit);
void apps_offline_hit_release(struct apps_offline_hit *hit);

/* ---- Wi-Fi profiles ------------------------------------------------------- */

/* One WLANProfile (ProgramData\Microsoft\Wlansvc\Profiles\Interfaces\{GUID}\*.xml). */
struct apps_wlan {
	char *file;            /* as given to the parser (path or name) */
	char *profile_name;    /* <name> of the profile */
	char *ssid;            /* SSIDConfig/SSID/name, else hex decoded, "" */
	char *authentication;  /* open, shared, WPA2PSK, WPA3SAE, WPA2 ... "" */
	char *encryption;      /* none, WEP, AES, TKIP, GCMP ... "" */
	char *connection_mode; /* auto / manual, "" */
	int one_x;             /* 802.1X / EAP (useOneX true) */
	int has_key;           /* a <sharedKey> with keyMaterial */
	int key_protected;     /* <protected>true: DPAPI blob of the source machine */
	int must_reenter;      /* the user must type the key / sign in again */
};

struct apps_wlan_list {
	struct apps_wlan *v;
	size_t n, alloc;
};
#define APPS_WLAN_LIST_INIT { NULL, 0, 0 }

void apps_wlan_list_release(struct apps_wlan_list *l);

/* Largest profile file read. */
#define APPS_WLAN_MAX_BYTES (256u * 1024u)

/*
 * Parse one profile from memory and append it to `out`.  must_reenter is
 * set for a protected shared key (it cannot be decrypted off the source
 * machine) and for 802.1X profiles (per-user credentials).
 * Errors: WS_E_UNSUPPORTED naming `name` (malformed XML, not a WLANProfile,
 * larger than APPS_WLAN_MAX_BYTES); `out` is unchanged then.
 */
int apps_wlan_parse(const char *name, const char *xml, size_t len,
		    struct apps_wlan_list *out, struct ws_error *err);

/*
 * Parse every *.xml under `dir` and its interface sub-folders (the host
 * path of ...\Wlansvc\Profiles\Interfaces or of one interface folder),
 * sorted by path; a file that does not parse is skipped with a warning.
 * Errors: WS_E_IO when `dir` cannot be read.
 */
int apps_wlan_scan(const char *dir, struct apps_wlan_list *out,
		   struct ws_log *log, struct ws_error *err);

/* "Networks whose key must be re-entered" as text lines "SSID (auth)\n". */
void apps_wlan_reenter_list(const struct apps_wlan_list *l, struct ws_buf *out);

#endif
