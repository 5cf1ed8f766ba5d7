/*
 * volume.h - a Windows installation as Linux sees it: the root folder of an
 * offline (not running) Windows volume, typically an NTFS partition mounted
 * with ntfs-3g or ntfs3.
 *
 * What this module answers:
 *   - is this folder a Windows installation (vol_open)?
 *   - where is a Windows path on the host (vol_resolve), matching names
 *     case-insensitively as NTFS does, never following a symlink/junction and
 *     never leaving the root; and the way back (vol_winpath);
 *   - which device is it (computer name, OS product/build/edition/arch);
 *   - which user profiles does it hold (ProfileList + Users\* fallback);
 *   - the USMT environment variables (system and per user: known folders);
 *   - a safe walk over a folder tree (vol_walk) that records reparse points
 *     (junctions, symlinks, OneDrive placeholders) instead of following them.
 *
 * Lifecycle:
 *   struct vol *v;  vol_open(root, &v, &err)  ...  vol_close(v);
 * vol_open reads the SYSTEM and SOFTWARE hives once (read-only; a dirty hive
 * is read through a private copy with its logs replayed, or from its primary
 * file when that is impossible, as vol_info says: vol_hive_open) and keeps them open
 * for the life of the handle: vol_system_hive()/vol_software_hive() lend them.
 * Everything returned as `const` pointer is owned by the handle and valid
 * until vol_close.  A handle is not thread-safe; open one per thread.
 *
 * Windows paths are UTF-8 with backslashes ("C:\Users\alice"); host paths are
 * what open(2) takes.  Paths on the installation's system drive (taken from
 * SOFTWARE\...\CurrentVersion [SystemRoot], default C:) are resolvable;
 * other drives are reported as such, never guessed.
 */
#ifndef VOLUME_H
#define VOLUME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "reg/reg.h"
#include "util/ws_buf.h"
#include "util/ws_error.h"

struct vol; /* opaque */
struct bd_source; /* blockdev/blockdev.h */

/* ---- open / identity ----------------------------------------------------- */

/* Device identity read from the SYSTEM and SOFTWARE hives.  Strings are never
 * NULL ("" when the value is absent). */
struct vol_info {
	const char *root;             /* absolute host path of the installation root */
	char system_drive;            /* 'C' unless SystemRoot says otherwise */
	const char *system_root;      /* Windows path of the Windows folder, "C:\Windows" */
	const char *computer_name;    /* ControlSet00N\Control\ComputerName\ComputerName */
	unsigned control_set;         /* N from SYSTEM Select\Current (1 when absent) */
	const char *product_name;     /* "Windows 10 Pro" (as stored; Win11 says 10 too) */
	const char *current_build;    /* CurrentBuild, else CurrentBuildNumber: "22631" */
	unsigned build_number;        /* the same as a number, 0 when unknown */
	const char *edition_id;       /* "Professional" */
	const char *display_version;  /* "23H2" */
	const char *installation_type;/* "Client", "Server" */
	const char *architecture;     /* PROCESSOR_ARCHITECTURE: "AMD64", "ARM64", "x86" */
	/* A dirty hive (its transaction logs hold newer data) is replayed
	 * into a private copy under $TMPDIR (removed by vol_close) and that
	 * copy is read: *_dirty and *_replayed.  When it has no .LOG1/.LOG2
	 * or they cannot be replayed, its primary file is read as is,
	 * possibly stale (a profile created just before shutdown may be
	 * missing): *_dirty alone.  *_dirty always describes the file on the
	 * volume (writers must refuse it); the source files are never
	 * written. */
	int system_dirty;             /* SYSTEM's file is dirty */
	int software_dirty;           /* SOFTWARE's file likewise */
	int system_replayed;          /* SYSTEM read through its replayed logs */
	int software_replayed;        /* SOFTWARE likewise */
	/* dirty and not replayed: why not ("" otherwise) */
	const char *system_why;
	const char *software_why;
	/* Users' NTUSER.DAT met by vol_user_vars, each counted once: */
	unsigned user_hives_replayed; /* dirty, read through replayed logs */
	unsigned user_hives_dirty;    /* dirty (replayed or read stale) */
	/* vol_open_bd only (0 for a folder): the NTFS file system was left
	 * hibernated / by Fast Startup, or is marked dirty.  Read all the
	 * same (read-only); what Windows had in memory is not on it. */
	int ntfs_hibernated;
	int ntfs_dirty;
};

/*
 * Recognise the Windows installation at `root_dir` (names matched
 * case-insensitively): Windows/System32/config/SYSTEM and SOFTWARE must be
 * present and be valid hives.  Reads identity and the profile list.
 * Errors: WS_E_NOT_WINDOWS (folder missing, not a folder, a hive missing or
 * not a hive; the message names the folder and what is missing),
 * WS_E_IO (unreadable), WS_E_HIVE (a hive damaged beyond reading).
 * *out is set only on success.
 */
int vol_open(const char *root_dir, struct vol **out, struct ws_error *err);
/* vol_open with the private copies of replayed hives made under `tmp_dir`
 * (NULL: $TMPDIR, else /tmp). */
int vol_open_in(const char *root_dir, const char *tmp_dir, struct vol **out,
		struct ws_error *err);
void vol_close(struct vol *vol);

/* ---- NTFS images, read in-process (no mount, no FUSE, no root) ----------- */

/*
 * Open the NTFS file system held by `src` (a bare file system: an image
 * file, a partition at an offset, a decrypted BitLocker volume) read-only
 * through libntfs-3g, and the Windows installation at its root.  Afterwards
 * the handle behaves as one from vol_open on the same volume mounted with
 * ntfs-3g: the same info, profiles, variables, walk and stat results
 * (types, sizes, attributes, times, reparse tags, link texts), and hives
 * read through vol_hive_open (copied into the handle's private folder under
 * `tmp_dir`, NULL: $TMPDIR, and replayed there when dirty).  "Host paths"
 * of such a handle are names under a root that does not exist on the host
 * ("ntfs:<source name>"): they are only meaningful to this module's
 * functions (vol_stat, vol_walk, vol_list, vol_file_open, vol_hive_open,
 * vol_sd_get, vol_streams), never to open(2).  vol_info.root is that name.
 * Nothing is ever written to `src`.  A hibernated / Fast Startup volume or
 * one marked dirty is read all the same (read-only is safe):
 * vol_info.ntfs_hibernated / ntfs_dirty say so, for a warning.
 * The handle keeps `src` (not owned): close it after vol_close.
 * Errors: WS_E_NOT_WINDOWS (not NTFS, or NTFS without a Windows
 * installation at its root), WS_E_IO (the file system cannot be read: a
 * truncated image, damaged MFT records, a read error of `src`).
 */
int vol_open_bd(struct bd_source *src, const char *tmp_dir, struct vol **out,
		struct ws_error *err);

/*
 * Open the NTFS file system in `src` as a data volume of drive `drive`
 * ('D'...), without looking for Windows: no hives (vol_system_hive and
 * vol_software_hive are NULL), no profiles; paths, walk, stat, files,
 * descriptors and streams work as for vol_open_bd.  For the other NTFS
 * partitions of a disk, mapped to their drive letters.  Errors as
 * vol_open_bd's, never WS_E_NOT_WINDOWS for a missing installation.
 */
int vol_open_bd_data(struct bd_source *src, char drive, const char *tmp_dir,
		     struct vol **out, struct ws_error *err);

/* vol_source_open (below) without BitLocker keys or log. */
int vol_open_source(const char *source, const char *tmp_dir, struct vol **out,
		    struct ws_error *err);

/* What a cheap look at an NTFS file system tells (vol_ntfs_probe). */
struct vol_ntfs_facts {
	int is_ntfs;             /* an NTFS boot sector libntfs-3g mounts */
	char label[256];         /* volume label (UTF-8), "" when none */
	uint64_t serial;         /* volume serial number (boot sector) */
	uint64_t size;           /* bytes of the file system */
	int dirty;               /* $Volume says dirty (unclean shutdown, chkdsk due) */
	int hibernated;          /* hiberfil.sys holds a hibernation image:
				    Windows hibernated or shut down with Fast
				    Startup; its state is in the image */
	int has_windows;         /* Windows\System32\config\SYSTEM exists
				    (names matched case-insensitively) */
};

/*
 * Look at `src` without opening an installation: is it NTFS, its label,
 * serial, dirty and hibernated states, does it hold Windows.  Not NTFS is
 * not an error (out->is_ntfs = 0, WS_OK).  Errors: WS_E_IO when `src`
 * cannot be read, or is NTFS whose metadata is damaged beyond mounting
 * (out->is_ntfs = 1 then; the message says why).
 */
int vol_ntfs_probe(struct bd_source *src, struct vol_ntfs_facts *out,
		   struct ws_error *err);

/* Is the handle reading an NTFS image in-process (vol_open_bd)? */
int vol_is_image(const struct vol *vol);

/* ---- reading through the volume (both kinds of handles) ----------------- */

/*
 * Names in the folder `host_dir` (a host path under the root), sorted
 * bytewise, without "." and ".."; *names (the pointers and the names in
 * one ws_x-allocated block) is freed with vol_list_free, whole.  Errors: WS_E_USAGE (not under the root), WS_E_IO.
 */
int vol_list(struct vol *vol, const char *host_dir, char ***names, size_t *n,
	     struct ws_error *err);
void vol_list_free(char **names, size_t n);

struct vol_file; /* an open regular file of the volume */

/*
 * Open the regular file at `host_path` for reading (its unnamed data
 * stream), never through a link: a link, folder or device is WS_E_IO
 * (EINVAL).  vol_file_read reads the next bytes: the count, 0 at the end,
 * -1 on error (err names the host path).
 */
int vol_file_open(struct vol *vol, const char *host_path,
		  struct vol_file **out, struct ws_error *err);
long long vol_file_read(struct vol_file *f, void *buf, size_t n,
			struct ws_error *err);
uint64_t vol_file_size(const struct vol_file *f);
void vol_file_close(struct vol_file *f);

/*
 * The Windows security descriptor of `host_path` (self-relative, as
 * ntfs-3g's system.ntfs_acl gives it), appended to `out`; *found = 0 (and
 * WS_OK) when the file system keeps none (not NTFS).  Links not followed.
 */
int vol_sd_get(struct vol *vol, const char *host_path, struct ws_buf *out,
	       int *found, struct ws_error *err);

/* A named data stream (alternate data stream) of a file or folder. */
struct vol_stream {
	char *name;                  /* "Zone.Identifier" */
	uint64_t size;
};

/*
 * The named data streams of `host_path` (sorted by name): on an ntfs-3g
 * mount they are the user.* xattrs (streams_interface=xattr, ntfs-3g's
 * default), in an image the $DATA attributes with a name.  *v is freed
 * with vol_streams_free.  None is not an error.
 */
int vol_streams(struct vol *vol, const char *host_path, struct vol_stream **v,
		size_t *n, struct ws_error *err);
void vol_streams_free(struct vol_stream *v, size_t n);
/* Append the content of stream `name` of `host_path` to `out`. */
int vol_stream_read(struct vol *vol, const char *host_path, const char *name,
		    struct ws_buf *out, struct ws_error *err);

const struct vol_info *vol_get_info(const struct vol *vol);

/* The letters of the fixed drives the handle reaches, sorted: its system
 * drive and the data partitions attached to it (vol_source_open of a disk);
 * NUL-terminated in out (27 bytes hold them all).  The count. */
size_t vol_fixed_drives(const struct vol *vol, char *out, size_t n);

/* The open SYSTEM / SOFTWARE hives (read-only, owned by the handle). */
struct reg_hive *vol_system_hive(struct vol *vol);
struct reg_hive *vol_software_hive(struct vol *vol);
/* Close the SYSTEM and SOFTWARE hives: vol_system_hive/vol_software_hive
 * return NULL afterwards (what was read from them at open, vol_info and the
 * profiles, stays).  For apply before it replaces those files: a read
 * handle keeps its file open, and a file renamed over while open stays on
 * an ntfs-3g volume as .fuse_hidden* until it is closed. */
void vol_release_hives(struct vol *vol);

/* ---- source hives -------------------------------------------------------- */

enum vol_hive_state {
	VOL_HIVE_CLEAN = 0,       /* not dirty: the primary file */
	VOL_HIVE_REPLAYED = 1,    /* dirty: its logs replayed into a copy */
	VOL_HIVE_DIRTY = 2        /* dirty, logs missing or unusable: the
				     primary file as is (stale) */
};

/* vol_hive_open flags */
#define VOL_HIVE_STRICT 1u        /* a dirty hive whose logs cannot be
				     replayed is an error, not its stale
				     primary */

struct vol_hive_how {
	enum vol_hive_state state;
	int first;                /* this call met the hive's dirtiness first
				     for this handle (count it once) */
	struct ws_error why;      /* dirty and not replayed (state DIRTY, or a
				     strict refusal): why, naming the hive */
};

/*
 * Open the hive at host path `path` (a file of this installation: SYSTEM,
 * SAM, a user's NTUSER.DAT or UsrClass.dat ...) read-only.  This is how
 * every module reads a source hive, so that one scan replays a dirty hive
 * once and every reader sees the same data.  A clean hive is opened as is.
 * A dirty one has its .LOG1/.LOG2 (found case-insensitively beside it)
 * replayed once per handle into a private copy in the handle's temporary
 * folder; later opens reuse the copy.  When replay is impossible (no logs,
 * old-format logs, damaged logs, no room for the copy) the reason is kept:
 * with VOL_HIVE_STRICT the open fails with it (WS_E_HIVE, WS_E_UNSUPPORTED,
 * WS_E_IO: the message names the hive); without, the primary file is
 * opened as is (stale) and how->why tells why.  `how` may be NULL.
 * The source files are never written.  The hive is the caller's
 * (reg_hive_close), to be closed before vol_close.  Other errors: those of
 * reg_hive_probe / reg_hive_open on the primary file.
 */
int vol_hive_open(struct vol *vol, const char *path, unsigned flags,
		  struct reg_hive **out, struct vol_hive_how *how,
		  struct ws_error *err);

/* ---- paths --------------------------------------------------------------- */

enum vol_res {
	VOL_RES_FOUND = 0,       /* every component exists; host path complete */
	VOL_RES_MISSING = 1,     /* some component does not exist (see below) */
	VOL_RES_LINK_IN_PATH = 2,/* a component before the last is a symlink /
				    junction: not followed */
	VOL_RES_OTHER_DRIVE = 3  /* a drive letter other than the system drive,
				    or a UNC path: not on this volume */
};

/*
 * Map a Windows path ("C:\Users\ALICE\ntuser.dat", "\Users\x", or relative
 * to the root "Users/alice/NTUSER.DAT"; '\' and '/' both separate) to the
 * host path, component by component: an exact-case name wins, else the first
 * case-insensitive match (ws_name_casecmp) in the folder.  "." is skipped,
 * ".." goes up but never above the root.  The last component may itself be a
 * symlink (found, not followed: lstat it).
 *
 * Returns WS_OK and sets *res; `host` is reset and receives:
 *   FOUND        the full host path;
 *   MISSING      the host path of the part that exists followed by the rest
 *                of the components as given (what mkdir/create would make);
 *   LINK_IN_PATH the host path up to and including the link;
 *   OTHER_DRIVE  nothing.
 * "C:" or "C:\" alone is the root.
 * Errors: WS_E_IO when a folder on the way cannot be read,
 *         WS_E_USAGE for an empty path.
 */
int vol_resolve(struct vol *vol, const char *winpath, struct ws_buf *host,
		enum vol_res *res, struct ws_error *err);

/*
 * Windows path of a host path inside the root ("<root>/Users/a" ->
 * "C:\Users\a"; the root itself -> "C:\").  Lexical only.  WS_E_USAGE when
 * `host_path` is not under the root.
 */
int vol_winpath(const struct vol *vol, const char *host_path,
		struct ws_buf *out, struct ws_error *err);

/* ---- profiles ------------------------------------------------------------ */

enum vol_profile_kind {
	VOL_PROFILE_USER = 0,    /* a person's profile */
	VOL_PROFILE_SYSTEM,      /* S-1-5-18 / 19 / 20 (LocalSystem, Local/Network Service) */
	VOL_PROFILE_DEFAULT,     /* Users\Default: the template of new profiles */
	VOL_PROFILE_PUBLIC       /* Users\Public */
};

struct vol_profile {
	const char *sid;           /* "S-1-5-21-..."; "" for Default, Public and
				      folders found only under Users\ */
	const char *account;       /* account name as cheaply known: the folder
				      name ("alice"); SAM is not read */
	const char *win_path;      /* "C:\Users\alice" (ProfileImagePath expanded) */
	const char *host_path;     /* host folder; NULL when it does not exist */
	const char *ntuser_path;   /* host path of NTUSER.DAT; NULL when missing */
	const char *usrclass_path; /* host path of AppData\Local\Microsoft\Windows\
				      UsrClass.dat; NULL when missing */
	enum vol_profile_kind kind;
	int in_profile_list;       /* 1 = from ProfileList, 0 = found in Users\ only */
	int stale;                 /* folder or NTUSER.DAT missing, or path off-volume */
	const char *stale_reason;  /* "" unless stale: "profile folder missing" ... */
	uint64_t load_time;        /* FILETIME LocalProfileLoadTimeHigh/Low, 0 = none */
	uint64_t unload_time;      /* FILETIME LocalProfileUnloadTimeHigh/Low, 0 = none */
	uint64_t last_use;         /* max(load, unload) else NTUSER.DAT mtime, 0 = unknown */
	uint32_t flags, state;     /* ProfileList Flags / State (0 when absent) */
};

/*
 * All profiles: ProfileList entries in hive order (S-1-5-18/19/20 included,
 * "<SID>.bak" keys skipped), then Default and Public (from ProfileList
 * [Default]/[Public], else Users\Default, Users\Public), then folders under
 * the profiles directory that hold an NTUSER.DAT and are not claimed by any
 * entry.  Owned by the handle.
 */
const struct vol_profile *vol_profiles(const struct vol *vol, size_t *n);

/* Profile by SID (exact, case-insensitive) or, failing that, by account
 * name (case-insensitive); NULL when none. */
const struct vol_profile *vol_profile_find(const struct vol *vol,
					   const char *sid_or_name);

const char *vol_profile_kind_name(enum vol_profile_kind kind); /* "user"... */

/* ---- variables ----------------------------------------------------------- */

/* A USMT environment variable: name without % (upper case, e.g.
 * "CSIDL_PERSONAL"), value a Windows path ("C:\Users\alice\Documents"). */
struct vol_var {
	char *name;
	char *value;
};

struct vol_vars {
	struct vol_var *v;
	size_t n, alloc;
};
#define VOL_VARS_INIT { NULL, 0, 0 }

void vol_vars_release(struct vol_vars *vars);
/* Add or replace (name compared case-insensitively). */
void vol_vars_set(struct vol_vars *vars, const char *name, const char *value);
/* Value of `name` (case-insensitive) or NULL. */
const char *vol_vars_get(const struct vol_vars *vars, const char *name);

/*
 * Expand %NAME% references in `in` (case-insensitive lookup) into `out`
 * (appended).  Unknown names are left as written, "%%" is kept.  Returns the
 * number of unknown references.
 */
size_t vol_vars_expand(const struct vol_vars *vars, const char *in,
		       struct ws_buf *out);

/*
 * System-context variables (USMT "System"): WINDIR, SYSTEMROOT, SYSTEMDRIVE,
 * SYSTEM, SYSTEM16, SYSTEM32, PROGRAMFILES, PROGRAMFILES(X86),
 * COMMONPROGRAMFILES, COMMONPROGRAMFILES(X86), PROGRAMDATA, ALLUSERSPROFILE,
 * ALLUSERSAPPDATA, PUBLIC, PROFILESFOLDER, DEFAULTUSERPROFILE, SYSTEMPROFILE,
 * CSIDL_WINDOWS, CSIDL_SYSTEM, CSIDL_FONTS, CSIDL_RESOURCES,
 * CSIDL_PROGRAM_FILES(_COMMON)(X86), CSIDL_COMMON_* and CSIDL_DEFAULT_*.
 * Values come from the hives (ProfileList, CurrentVersion ProgramFilesDir...)
 * with the Windows defaults as fallback.  Appended to `out`.
 */
int vol_system_vars(struct vol *vol, struct vol_vars *out,
		    struct ws_error *err);

/*
 * User-context variables for `p` (USMT "UserAndSystem": the system set above
 * plus) USERPROFILE, CSIDL_PROFILE, HOMEDRIVE, HOMEPATH, USERNAME, USERSID,
 * APPDATA, LOCALAPPDATA, TEMP, TMP, CSIDL_APPDATA, CSIDL_LOCAL_APPDATA,
 * CSIDL_PERSONAL, CSIDL_MYDOCUMENTS, CSIDL_DESKTOP, CSIDL_DESKTOPDIRECTORY,
 * CSIDL_MYPICTURES, CSIDL_MYMUSIC, CSIDL_MYVIDEO, CSIDL_FAVORITES,
 * CSIDL_STARTMENU, CSIDL_PROGRAMS, CSIDL_STARTUP, CSIDL_ALTSTARTUP,
 * CSIDL_RECENT, CSIDL_SENDTO, CSIDL_TEMPLATES, CSIDL_COOKIES, CSIDL_HISTORY,
 * CSIDL_INTERNET_CACHE, CSIDL_NETHOOD, CSIDL_PRINTHOOD, CSIDL_ADMINTOOLS,
 * CSIDL_CDBURN_AREA, CSIDL_CONTACTS, CSIDL_PLAYLISTS, FOLDERID_DOWNLOADS,
 * FOLDERID_SAVEDGAMES, FOLDERID_LINKS, FOLDERID_SEARCHES.
 * Known folders come from the user's NTUSER.DAT
 * Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders
 * (REG_EXPAND_SZ, %USERPROFILE% expanded; GUID-named values such as
 * {374DE290-123F-4565-9164-39C4925E467B} = Downloads), then Shell Folders,
 * then the Windows defaults under the profile.  A missing or unreadable
 * NTUSER.DAT falls back to the defaults (not an error).  A dirty NTUSER.DAT
 * is read like a dirty SOFTWARE (replayed copy, else primary; counted in
 * vol_info user_hives_replayed / user_hives_dirty).  Appended to `out`.
 */
int vol_user_vars(struct vol *vol, const struct vol_profile *p,
		  struct vol_vars *out, struct ws_error *err);

/* ---- walking ------------------------------------------------------------- */

/* Windows file attributes (FILE_ATTRIBUTE_*). */
#define VOL_ATTR_READONLY      0x00000001u
#define VOL_ATTR_HIDDEN        0x00000002u
#define VOL_ATTR_SYSTEM        0x00000004u
#define VOL_ATTR_DIRECTORY     0x00000010u
#define VOL_ATTR_ARCHIVE       0x00000020u
#define VOL_ATTR_SPARSE        0x00000200u
#define VOL_ATTR_REPARSE_POINT 0x00000400u
#define VOL_ATTR_OFFLINE       0x00001000u
#define VOL_ATTR_RECALL_ON_DATA_ACCESS 0x00400000u

/* Reparse tags. */
#define VOL_TAG_MOUNT_POINT 0xA0000003u /* junction */
#define VOL_TAG_SYMLINK     0xA000000Cu
#define VOL_TAG_CLOUD_MASK  0xFFFF0FFFu /* (tag & mask) == VOL_TAG_CLOUD: OneDrive */
#define VOL_TAG_CLOUD       0x9000001Au

enum vol_entry_type {
	VOL_ENT_FILE = 0,
	VOL_ENT_DIR,
	VOL_ENT_LINK,     /* symlink or junction (any name-surrogate reparse point) */
	VOL_ENT_CLOUD,    /* cloud placeholder (OneDrive Files-On-Demand): no data */
	VOL_ENT_OTHER,    /* device, FIFO, socket */
	VOL_ENT_ERROR     /* could not be examined: see err_code / err_msg */
};

struct vol_entry {
	const char *host_path;   /* full host path */
	const char *win_path;    /* "C:\Users\alice\Documents\x.docx" */
	const char *name;        /* last component as on the host */
	unsigned depth;          /* 0 = the start folder itself */
	enum vol_entry_type type;
	int name_valid;          /* name is valid UTF-8 */
	int loop;                /* DIR already being walked above (dev,ino): not entered */
	int other_device;        /* DIR on another file system: not entered */
	mode_t mode;
	dev_t dev;
	ino_t ino;
	uint64_t size;           /* bytes (0 for dirs/links) */
	uint32_t attributes;     /* VOL_ATTR_* */
	int attrs_from_ntfs;     /* attributes/times read from the ntfs-3g xattrs */
	uint64_t creation_time;  /* FILETIMEs; creation = last write when unknown */
	uint64_t write_time;
	uint64_t access_time;
	uint64_t change_time;
	uint32_t reparse_tag;    /* LINK/CLOUD: tag when known, else 0 */
	const char *link_target; /* LINK/CLOUD: readlink text, else NULL */
	const char *link_win_target; /* LINK whose target lies inside the root:
				      its Windows path; else NULL */
	int err_code;            /* ERROR: WS_E_* code */
	int err_errno;           /* ERROR: errno */
	const char *err_msg;     /* ERROR: message */
};

/* Callback results. */
enum {
	VOL_WALK_CONTINUE = 0, /* go on (descend into a DIR) */
	VOL_WALK_SKIP = 1,     /* DIR: do not descend; other types: same as CONTINUE */
	VOL_WALK_STOP = 2      /* end the walk; vol_walk returns WS_OK */
};

/* The callback may also return a negative value: the walk stops and vol_walk
 * returns the ws_error code previously stored in `cb_err` by the callback
 * (WS_E_INTERNAL if it stored none). */
typedef int (*vol_walk_fn)(const struct vol_entry *e, void *ctx,
			   struct ws_error *cb_err);

/* Maximum folder depth below the start folder; deeper folders are reported
 * as ERROR entries (bounded file descriptors and memory). */
#define VOL_WALK_MAX_DEPTH 200

/*
 * Walk `host_dir` (a host path under the root, e.g. from vol_resolve or a
 * profile's host_path) depth-first, pre-order, names sorted bytewise, calling
 * `fn` for the start folder (depth 0) and every entry below it.  Symlinks are
 * never followed (junctions and OneDrive placeholders included: reparse tag
 * from lgetxattr system.ntfs_reparse_data when available, else from the
 * ntfs-3g "unsupported reparse tag 0x..." link text).  Folders are opened
 * relative to their parent (openat, O_NOFOLLOW), so paths longer than
 * PATH_MAX and names that are not valid UTF-8 are walked.  Unreadable
 * entries are passed as VOL_ENT_ERROR; the walk goes on.
 * Errors: WS_E_USAGE (host_dir not under the root), WS_E_IO (host_dir
 * itself cannot be opened), or the callback's code.
 */
int vol_walk(struct vol *vol, const char *host_dir, vol_walk_fn fn, void *ctx,
	     struct ws_error *err);

/*
 * With `on`, vol_walk on a mounted folder (not an image read in-process)
 * reads folders on a second thread ahead of the callback: each folder the
 * walk enters has its subfolders opened, listed and their entries examined
 * before the callback gets to them (one level ahead only: a folder the
 * callback then skips costs its own listing, nothing below it).  The
 * callback sees the same entries in the same order and runs on the
 * calling thread; it may use the handle meanwhile.  Applies to the
 * attached drives too.  Worth it with two cores or more.
 */
void vol_set_walk_ahead(struct vol *vol, int on);

/* Storage for the strings of one vol_entry filled by vol_stat. */
struct vol_entry_hold {
	struct ws_buf path, win, name, target, win_target, msg;
};
#define VOL_ENTRY_HOLD_INIT { WS_BUF_INIT, WS_BUF_INIT, WS_BUF_INIT, \
			      WS_BUF_INIT, WS_BUF_INIT, WS_BUF_INIT }
void vol_entry_hold_release(struct vol_entry_hold *hold);

/*
 * Examine one host path under the root without following it (what vol_walk
 * reports for that entry, depth 0).  `e`'s strings live in `hold` (reused,
 * release with vol_entry_hold_release).  A path that cannot be examined is
 * not an error: e->type = VOL_ENT_ERROR (ENOENT included, err_errno says).
 * Errors: WS_E_USAGE when host_path is not under the root.
 */
int vol_stat(struct vol *vol, const char *host_path, struct vol_entry *e,
	     struct vol_entry_hold *hold, struct ws_error *err);

/* ---- sources: folders, disks, images, partitions (vol_source.c) ---------- */

struct bd_keys;     /* blockdev/blockdev.h */
struct bd_disk;
struct bd_part;
struct ws_log;

/*
 * What `--source` names (docs/scan.md "Disks and images"):
 *   a folder                  a mounted installation (vol_open_in);
 *   a block device or file    a whole disk (GPT or MBR: every NTFS partition,
 *                             BitLocker ones unlocked with `keys`, is
 *                             looked at; the one holding Windows is opened),
 *                             or a bare file system (a partition image);
 *   SOURCE@partN              partition N of that disk (Linux numbering:
 *                             sdX N; 1-4 primary, 5+ logical on MBR), when
 *                             the disk holds more than one installation or
 *                             to name the one to use.
 */
struct vol_source_opts {
	const struct bd_keys *keys;  /* BitLocker keys; NULL = none */
	const char *tmp_dir;         /* replayed hive copies; NULL = $TMPDIR */
	struct ws_log *log;          /* notes (what unlocked what); may be NULL */
};

/* One partition of a disk as vol_disk_open saw it. */
struct vol_disk_part {
	const struct bd_part *part;  /* in the disk's table (bd_disk) */
	int bitlocker;               /* a BitLocker volume */
	int unlocked;                /* ... decrypted with a key given (or clear key) */
	char unlocked_by[160];       /* key origin ("keys.csv:12", "--bek"), never the key */
	char method[48];             /* BitLocker encryption method, "" if unknown */
	int nprotectors;
	struct { char id[37]; char type[32]; } protectors[16]; /* BitLocker key protectors */
	int ntfs;                    /* an NTFS file system (inside BitLocker too) */
	char label[256];             /* NTFS volume label */
	int hibernated, dirty;       /* NTFS left hibernated / marked dirty */
	int windows;                 /* holds a Windows installation at its root */
	int status;                  /* WS_OK, or why it could not be looked into */
	struct ws_error err;         /* (locked: WS_E_BDE_LOCKED naming the protector IDs) */
	struct bd_source *src;       /* what a file system reader reads (decrypted), or NULL */
	struct bd_source *raw;       /* the partition's bytes */
};

struct vol_disk {
	struct bd_disk *disk;
	size_t n;
	struct vol_disk_part *parts; /* one per disk->parts entry, same order */
};

/*
 * Read the partition table of the disk or image at `path` and look into
 * every partition: BitLocker ones unlocked with o->keys, NTFS probed
 * (vol_ntfs_probe), Windows installations recognised.  A partition that
 * cannot be looked into (locked, damaged, outside the disk) is not an error
 * here: its `status`/`err` say why.  Errors: those of bd_part_scan.
 */
int vol_disk_open(const char *path, const struct vol_source_opts *o,
		  struct vol_disk **out, struct ws_error *err);
void vol_disk_close(struct vol_disk *d);   /* NULL is allowed */

/*
 * Open the Windows installation `source` names (see above).  A folder is
 * vol_open_in; a disk or image needs exactly one installation among its
 * partitions (or SOURCE@partN).  The partitions the installation's
 * SYSTEM\MountedDevices gives drive letters (MBR: disk signature and
 * offset; GPT: "DMIO:ID:" and the partition GUID) are found on the same
 * disk and attached to the handle as those drives.  The handle owns the
 * disk and its decrypted sources (vol_close frees them).
 * Errors: WS_E_NOT_WINDOWS (no installation: the message lists the
 * partitions seen), WS_E_BDE_LOCKED (no installation found and a BitLocker
 * partition stays locked: the message names its protector IDs),
 * WS_E_USAGE (two installations and none chosen: the message lists them as
 * SOURCE@partN; partition N absent), those of vol_disk_open/vol_open_bd.
 */
int vol_source_open(const char *source, const struct vol_source_opts *o,
		    struct vol **out, struct ws_error *err);

/* Split "SOURCE@partN": the path length and N; 0 when `source` has no such
 * suffix (then *number = 0). */
size_t vol_source_split(const char *source, unsigned *number);

/* A drive letter Windows gave a volume: SYSTEM\MountedDevices
 * \DosDevices\X: of a basic disk's partition. */
struct vol_mount {
	char letter;                 /* 'A'..'Z' */
	int gpt;                     /* 1: part_guid; 0: mbr_signature + offset */
	uint32_t mbr_signature;
	uint64_t offset;             /* bytes from the start of the disk */
	char part_guid[37];          /* lowercase */
};

/* The drive letters of `system` (an open SYSTEM hive), sorted by letter;
 * values of other forms (removable media, dynamic disks) are skipped.
 * *v is malloc'd.  Errors: those of reading the hive. */
int vol_mounted_devices(struct reg_hive *system, struct vol_mount **v, size_t *n,
			struct ws_error *err);

/* The partition of `d` that `m` names (MBR: same disk signature and
 * offset; GPT: same partition GUID), or NULL. */
struct vol_disk_part *vol_disk_match(struct vol_disk *d, const struct vol_mount *m);

/* ---- targets: disks, images and partitions, mounted (vol_target.c) ------- */

/*
 * apply and undo write through a folder (descriptor-relative walks below a
 * confined root, journal, syncfs).  A target that is a disk, a disk image,
 * a partition (image) or DISK@partN is therefore mounted: its partition
 * holding Windows is found as vol_source_open finds a source's, then
 * mounted with ntfs-3g (read-write, -o permissions; read-only when asked)
 * at a private mount point ($TMPDIR/winstate-target-<random>/mnt, the
 * folder 0700), a partition inside an image or disk through a loop device
 * at its offset that the kernel detaches when the mount goes.  Needs root
 * and FUSE.  docs/apply.md "Targets on disks and images".
 */
struct vol_tmount;

struct vol_tmount_opts {
	const char *tmp_dir;         /* where the mount point is made; NULL = $TMPDIR, /tmp */
	int read_only;               /* mount read-only (a dry run) */
	struct ws_log *log;          /* a leftover mount of another image: warning */
};

/* 1 when `target` is a file, block device or DISK@partN (not a folder). */
int vol_target_is_device(const char *target);

/*
 * Mount the Windows partition of `target`.  Refused before anything is
 * mounted: the same image or device mounted already, or still mounted by
 * a run that was killed (WS_E_TARGET naming the mount point); a BitLocker
 * partition (WS_E_TARGET: winstate cannot write BitLocker); a hibernated
 * / Fast Startup Windows (WS_E_TARGET); an image or device that cannot be
 * opened for writing (WS_E_TARGET, read-only); no Windows, two of them,
 * no partition N, a damaged table: as vol_source_open (WS_E_NOT_WINDOWS,
 * WS_E_USAGE, WS_E_IO); ntfs-3g's refusal (WS_E_TARGET with its message;
 * WS_E_IO for a damaged file system).  Nothing is left mounted on error.
 */
int vol_target_mount(const char *target, const struct vol_tmount_opts *o,
		     struct vol_tmount **out, struct ws_error *err);
/* The mounted installation's root folder. */
const char *vol_tmount_root(const struct vol_tmount *m);
/* "disk.img@part2": what was mounted, for messages. */
const char *vol_tmount_what(const struct vol_tmount *m);
/*
 * syncfs, unmount (checked: a busy mount is retried, then WS_E_TARGET
 * naming where it stays), remove the mount point, fsync the image.  Frees
 * `m` whatever the result; NULL is allowed.
 */
int vol_target_unmount(struct vol_tmount *m, struct ws_error *err);
/*
 * For a signal handler (async-signal-safe): detach the mount lazily and
 * remove the mount point; the unmount completes when the process's
 * descriptors close (at exit).  `m` is not freed.
 */
void vol_tmount_abort(const struct vol_tmount *m);

/*
 * Bytes and files below `host_dir` (a host path under the root, e.g. a
 * profile's host_path), by vol_walk: links and cloud placeholders count
 * nothing, unreadable entries are skipped.  For `winstate devices`'
 * profile sizes.  Errors: those of vol_walk on host_dir itself.
 */
int vol_tree_size(struct vol *vol, const char *host_dir, uint64_t *bytes,
		  uint64_t *files, struct ws_error *err);

#endif
