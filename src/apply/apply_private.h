/*
 * apply_private.h - what the files of src/apply/ share: the undo journal, the
 * identity mapping, the first-sign-in staging, and the state of one apply
 * with the functions of the files that work on it (users, bundles,
 * registry, files, safety pass, extract).
 */
#ifndef APPLY_PRIVATE_H
#define APPLY_PRIVATE_H

#ifndef WS_APPLY_INTERNAL
#error "apply_private.h is private to src/apply/ (its files and tests define WS_APPLY_INTERNAL)"
#endif

#include <time.h>

#include "apply/apply.h"
#include "reg/reg.h"
#include "reg/reg_export.h"
#include "reg/reg_map.h"
#include "util/ws_hash.h"
#include "util/ws_root.h"
#include "util/ws_strset.h"
#include "volume/volume.h"

/* ---- off-limits objects (apply_preflight.c) ------------------------------- */

struct apf;

/* What file entries may not touch on the target `vol`: its machine hives
 * (System32\config), every profile's NTUSER.DAT* / NTUSER.MAN* /
 * UsrClass.dat* (all profiles of `vol`, every folder of `profiles_dir`),
 * `programdata`\winstate, boot files, pagefile/hiberfil/swapfile.sys and
 * System Volume Information.  Windows paths are compared as NTFS does. */
struct apf *apf_new(struct vol *vol, const char *programdata, const char *profiles_dir);
/* A profile that does not exist yet (a staged user's future profile). */
void apf_add_profile(struct apf *p, const char *profile_win);
void apf_free(struct apf *p);
/* Why the target Windows path `tpath` is off limits (what it is), or NULL. */
const char *apf_refusal(const struct apf *p, const char *tpath);
/* 1 when the hive at host path `host` (below the installation root `root`)
 * is not a regular file or is reached through a link. */
int apf_hive_is_link(const char *root, const char *host);

/* ---- journal (apply_journal.c) ------------------------------------------- */

struct aj;
struct ws_root;

/*
 * Create ProgramData\winstate\journal\<id>\ under the target root (through
 * a confined ws_root of vol's root: links refused), recording which of the
 * winstate folders it made.  `hook` is called after each durable entry.
 * Every aj_* call that takes host paths requires them below the root and
 * reaches them only through that root (apply_journal.c).
 */
int aj_begin(struct vol *vol, void (*hook)(void *, unsigned long), void *hook_ctx,
	     const struct ws_newobj *newobj, unsigned fd_share, struct aj **out,
	     struct ws_error *err);
/* Last line of a journal: the apply stopped writing (END). */
int aj_end(struct aj *j, struct ws_error *err);
/* Close the log; the journal stays on the target for apply_undo. */
void aj_close(struct aj *j);
const char *aj_dir(const struct aj *j);
/* The confined root of the target (owned by the journal). */
struct ws_root *aj_root(struct aj *j);
/* Tests: called with a folder's host path right after it is made, before
 * it is used. */
void aj_set_mkdir_hook(struct aj *j, void (*fn)(void *ctx, const char *host), void *ctx);

/* A temporary path inside the journal (same file system as the target),
 * named through the held work/ folder; only such paths go to aj_place. */
void aj_temp(struct aj *j, const char *tag, struct ws_buf *out);

/* Save the regular file `host` (once), then delete it. */
int aj_remove(struct aj *j, const char *host, struct ws_error *err);

/* Before creating the file `host` (which does not exist); its identity is
 * unknown, so undo removes whatever regular file is there. */
int aj_will_create(struct aj *j, const char *host, struct ws_error *err);

/* mkdir -p `host`, recording each folder before it is made. */
int aj_mkdirs(struct aj *j, const char *host, struct ws_error *err);
/* Folders aj_mkdirs made (recorded) so far: what undo removes. */
uint64_t aj_dirs_made(const struct aj *j);

/* Place the finished temporary file `tmp` at `dest`: new (link, recorded
 * before, with its inode and size) or replacing (saved before, keeps the
 * old file's security descriptor and attributes, rename).  Nothing may be
 * placed inside the journal folder (WS_E_UNSUPPORTED); a link on the way:
 * WS_E_TARGET. */
/* replace = AJ_REPLACE_ALL: the old file's attributes replace the new
 * one's too (a hive: NTUSER.DAT stays hidden+system). */
#define AJ_REPLACE_ALL 2
/* or'ed into replace: on success the journal owns the temporary (the
 * caller does not remove it), so a new file is queued without renaming it */
#define AJ_OWN_TEMP 4
int aj_place(struct aj *j, const char *tmp, const char *dest, int replace,
	     struct ws_error *err);
/* A new temporary (aj_temp) created and opened for writing through the held
 * work/ folder: *fd, or an error.  `unnamed` (for a new file only, never a
 * replacement): an unnamed file where the target has them, tmp then "". */
int aj_temp_open(struct aj *j, const char *tag, int unnamed, struct ws_buf *tmp, int *fd,
		 struct ws_error *err);
/* aj_place of the temporary open as *fd (from aj_temp_open): the journal
 * takes the descriptor (*fd = -1), so the file is not opened again. */
int aj_place_fd(struct aj *j, const char *tmp, int *fd, const char *dest, int replace,
		struct ws_error *err);

/*
 * A new file written under its own name by the batch (docs/apply.md,
 * "written in place"): where the target gives new objects no security
 * descriptor, a small new file's content is held in memory with the open
 * batch; once the batch's "C" lines are durable the linking thread creates
 * it (O_EXCL), writes it and sets its times.  aj_data_room: 1 when a file of
 * `size` bytes may go that way now; aj_data_begin: the buffer to append its
 * content to (*start: where it begins); aj_data_abort drops what was
 * appended; aj_place_data queues it at `dest` (ts: atime and mtime to set,
 * or NULL).
 */
int aj_data_room(const struct aj *j, uint64_t size);
struct ws_buf *aj_data_begin(struct aj *j, size_t *start);
void aj_data_abort(struct aj *j, size_t start);
int aj_place_data(struct aj *j, size_t start, const struct timespec *ts, const char *dest,
		  struct ws_error *err);

/*
 * Durability by batches (apply_journal.c, docs/apply.md "Undo journal"):
 * new files placed (aj_place without replace) and folders made (aj_mkdirs)
 * are only queued: their journal lines, one flush, then the changes, when
 * a batch is full (aj_batch_size), before any other change (a replace, a
 * removal, a link), at aj_end, or when aj_commit is called.  Until then a
 * queued file or folder is not on disk: aj_settle commits the batch when
 * `host` is such a queued file (call it before looking at a target path a
 * file entry may already have been placed at).
 */
int aj_commit(struct aj *j, struct ws_error *err);
/* The most new files a batch holds where the process may open open_max
 * files (its RLIMIT_NOFILE): 2048, less where two batches' files and the
 * folder cache would not fit, 16 at least.  A batch is launched from 512
 * files (or that most, when smaller) once no flush is in flight. */
size_t aj_batch_size(uint64_t open_max);
/* The open files one apply needs at least (its folder cache, its reserve
 * and two of the smallest batches): apply_fleet runs no more applies at
 * once than the process limit holds of these. */
uint64_t aj_open_min(void);
int aj_settle(struct aj *j, const char *host, struct ws_error *err);
/* vol_resolve of `winpath` through the journal's root and folder cache
 * (the open batch's files and folders count as there); vol_resolve when
 * j is NULL (a dry run). */
int aj_resolve(struct aj *j, struct vol *vol, const char *winpath, struct ws_buf *host,
	       enum vol_res *res, struct ws_error *err);
/* The same through any root with its folder cache on (ws_root_cache_on). */
int aj_resolve_root(struct ws_root *root, struct vol *vol, const char *winpath,
		    struct ws_buf *host, enum vol_res *res, struct ws_error *err);
/* Flushes (syncfs, fsync, fdatasync) the journal made so far. */
unsigned long aj_flushes(const struct aj *j);
/* Tests: slots visited in the set of the batches' paths (about one per
 * lookup with its keyed hash, whatever the names). */
unsigned long aj_pset_probes(const struct aj *j);

/* Hard link the regular file `src` as the new file `dest` (recorded);
 * *linked 0 (WS_OK) when no link can be made: the caller copies. */
int aj_link(struct aj *j, const char *src, const char *dest, int *linked,
	    struct ws_error *err);

/* ---- security descriptors (apply_sec.c) ---------------------------------- */

struct asec;
struct sd_desc;
struct sd_sid;

/* What a new object's descriptor is made from (asec_classify). */
enum asec_kind {
	ASEC_INHERIT = 0,    /* inherited from its parent folder */
	ASEC_SHARED,         /* ProgramData/winstate, bundles/A-<hash> */
	ASEC_PRIVATE,        /* bundles/<SID>: private to that SID */
	ASEC_RESULTS,        /* results: users add their own record */
	ASEC_ADMIN_ONLY      /* journal */
};

/*
 * Probe the target root (root_path NULL: no target, for tests of the
 * decisions): a file system without security descriptors is refused
 * (WS_E_TARGET, naming the mount options) unless allow_plain; then every
 * hook call does nothing.
 */
int asec_new(const char *root_path, int allow_plain, struct asec **out,
	     struct ws_error *err);
void asec_free(struct asec *s);
/* The xattr descriptors are written with; NULL = none (plain target). */
const char *asec_xattr(const struct asec *s);
/* ProgramData/winstate as found on disk below the root. */
void asec_set_winstate(struct asec *s, const char *wrel);
/* A profile folder (below the root) and its user's SID: objects made
 * inside get that owner.  -1 when sid is not a SID (nothing added). */
int asec_add_profile(struct asec *s, const char *rel, const char *sid);
/* enum asec_kind of the object at rel; *sid set for ASEC_PRIVATE. */
int asec_classify(const struct asec *s, const char *rel, struct sd_sid *sid);
/* The descriptor the new object at rel gets, its parent folder's being
 * `parent` (NULL when unknown).  `out` is released first. */
void asec_build(const struct asec *s, const char *rel, int is_dir,
		const struct sd_desc *parent, struct sd_desc *out);
/* The results folder's descriptor. */
void asec_results(struct sd_desc *sd);
/* 1 (why filled) when sd lets anyone but SYSTEM/Administrators change the
 * object or is not owned by one of them. */
int asec_hostile(const struct sd_desc *sd, char *why, size_t n);
/* Before writing: an existing ProgramData/winstate (restore.ps1, bundles,
 * journal) that users could change, and a profile folder apply writes
 * into without a descriptor, are refused (WS_E_TARGET). */
int asec_precheck_winstate(struct asec *s, struct ws_error *err);
int asec_precheck_profile(struct asec *s, const char *rel, struct ws_error *err);
/* struct ws_newobj hook: sets the descriptor of the object open as fd. */
int asec_newobj(void *ctx, int fd, int is_dir, const char *rel, struct ws_error *err);

/* ---- identities (apply_map.c) -------------------------------------------- */

/* One OLD=NEW mapping from --map-user or a CSV line. */
struct amap {
	char *old;               /* SID, DOMAIN\\user or user */
	char *new_account;       /* DOMAIN\\user, user or UPN; NULL when only a SID */
	char *new_sid;           /* SID (given or derived); NULL when unknown */
	int to_default;          /* NEW is "Default" */
};

struct amaps {
	struct amap *v;
	size_t n, alloc;
	char **dom_old, **dom_new; /* --map-domain */
	size_t ndom;
};

/* Parse --map-user / --map-domain values and the CSV file. */
int amap_load(const struct apply_opts *o, struct amaps *m, struct ws_error *err);
void amap_release(struct amaps *m);
/* The --map-file CSV from memory (`path` names it in errors), appended to
 * `m`; on error `m` keeps the lines before (amap_release frees it). */
int amap_parse_csv(const char *path, const char *data, size_t len, struct amaps *m,
		   struct ws_error *err);
/* Mapping of a source user, or NULL. */
const struct amap *amap_find(const struct amaps *m, const char *sid,
			     const char *account);
/* Account after --map-domain (malloc'd). */
char *amap_domain(const struct amaps *m, const char *account);

/* A rewrite inside string data: `from` -> `to`. */
struct asub {
	const char *from, *to;
	int sid;                 /* SID boundary (next char not a digit) instead of
				    path boundary */
};

/* Rewrite UTF-8 `s`; 1 when something changed (result appended to out). */
int asub_string(const char *s, const struct asub *subs, size_t n, struct ws_buf *out);
/* Rewrite REG_SZ/EXPAND_SZ/MULTI_SZ data; 1 when changed (raw data in out). */
int asub_value(uint32_t type, const unsigned char *data, size_t len,
	       const struct asub *subs, size_t n, struct ws_buf *out);

/* ---- checks of store and target values (apply_check.c) ------------------ */

/* 1 when `s` is a SID apply may put into a folder name, a bundle or the
 * registry: canonical SID text (sd_sid_valid_text: "S-1-", decimal
 * authority < 2^48, 1..15 decimal subauthorities < 2^32, no leading
 * zeros).  The single check for SIDs from a store or a target. */
int acheck_sid(const char *s);
/* An account name: "user", "DOMAIN\\user" or "user@domain"; valid UTF-8, at
 * most 256 bytes, no control characters, none of " / : * ? < > | %, at most
 * one backslash between two non-empty parts, no "." or ".." part, no
 * leading or trailing space.  Apostrophes are allowed (o'brien). */
int acheck_account(const char *s);
/* A device or scan name kept in bundle.ini: valid UTF-8, 1..255 bytes, no
 * control characters. */
int acheck_name(const char *s);
/* A Windows folder path apply builds commands from (ProgramData):
 * "X:\\" then letters, digits, space . _ - ( ) and single backslashes,
 * no "\\." step, at most 120 characters, no trailing backslash. */
int acheck_win_dir(const char *s);
/* A token of [A-Za-z0-9._-], 1..max characters, not "." or "..". */
int acheck_token(const char *s, size_t max);
/* `s` for an error message: control characters as \xNN, \ and ' escaped. */
void acheck_show(const char *s, struct ws_buf *out);
/* Folder name of a bundle below ProgramData\winstate\bundles: the (checked)
 * SID, or when the account has no known SID "A-" and the first 16 bytes of
 * SHA-256 of the account name with A-Z folded to a-z, in lower-case hex
 * (the restore script computes the same from the signing-in user's names). */
void acheck_bundle_key(const char *sid, const char *account, struct ws_buf *out);

/* ---- staging (apply_stage.c) --------------------------------------------- */

struct bundle {
	char *key;               /* folder name: acheck_bundle_key */
	char *host;              /* host path of the bundle folder */
	char *win;               /* its Windows path */
	char *sid, *account;     /* identity the script checks */
	char guid[40];           /* the bundle's id "{...}" (logs, HKCU markers) */
	struct reg_export reg;   /* settings */
	uint64_t values, files;  /* files: also the last files\\<n> used */
	int created;             /* folder made */
	struct ws_buf manifest;  /* files.txt: "n TAB rel" per file, "- TAB rel"
				    per folder (rel below the profile) */
	struct ws_buf apps_json; /* apps.json; empty = no apps */
	const struct apply_app *apps; /* the script's app step (the user report's) */
	size_t napps;
	struct ws_buf start_pins;   /* start-pins.json; empty = none */
	struct ws_buf default_apps; /* default-apps.xml; empty = none */
	struct ws_buf merge;        /* merge.txt: "keep|overwrite TAB rel" lines
				       (enum arules_stage_policy); empty = none */
};

/* The Active Setup component every bundle shares. */
#define BUNDLE_COMPONENT "{7D3F1C52-9A4E-4B6D-8E21-5C0A9F3B6D17}"

void bundle_init(struct bundle *b);
void bundle_release(struct bundle *b);

/* Write settings.reg, files.txt, merge.txt, apps.txt, the app and Start
 * files and bundle.ini (last) into the bundle folder (journaled). */
int bundle_finish(struct bundle *b, struct aj *j, const struct apply_opts *o,
		  const char *device, const char *scan_id, struct ws_error *err);

/* Once per apply with bundles: ProgramData\\winstate\\restore.ps1 (root_host
 * and root_win: the winstate folder), the results\\ folder, and the Active
 * Setup component BUNDLE_COMPONENT in `software` (open for write) with
 * bundle_command(root_win, "setup") and a Version one above the installed
 * one.  WS_E_UNSUPPORTED when root_win fails acheck_win_dir. */
int bundle_install(struct aj *j, struct reg_hive *software, const char *root_host,
		   const char *root_win, struct ws_error *err);

/* What earlier applies left on this target (root_host: the winstate folder),
 * as log lines: the last line of each results\\<key>.txt (INFO, WARN when it
 * failed; control characters escaped: users write these files) and each
 * bundle still there (WARN: its restore has not run or not finished). */
void bundle_earlier(const char *root_host, struct ws_log *log);

/* The restore script (fixed text, for tests and docs). */
void bundle_script(struct ws_buf *out);

/* The command line that starts the script in `phase` ("setup", "restore"):
 * powershell.exe -Command loading root_win\\restore.ps1 as a script block
 * (not gated by the execution policy); fixed text and root_win only. */
void bundle_command(const char *root_win, const char *phase, struct ws_buf *out);

/* Write `data` as a new file `host` through the journal (or directly when
 * j is NULL). */
int aj_write_new(struct aj *j, const char *host, const void *data, size_t len,
		 struct ws_error *err);

/* ---- Store apps and Wi-Fi (apply_apps.c) --------------------------------- */

struct apps_ctx;

/*
 * Read what the app step needs of the target: its AppxAllUserStore sets
 * (SOFTWARE through `vol`), its architecture, and the index of `app_cache`
 * (NULL = none).  Errors: WS_E_USAGE when app_cache cannot be read,
 * WS_E_HIVE from the SOFTWARE hive.  Free with aapps_free (also on error).
 */
int aapps_new(struct vol *vol, const char *app_cache, struct ws_log *log,
	      struct apps_ctx **out, struct ws_error *err);
void aapps_free(struct apps_ctx *x);

/*
 * One user's reinstall list from the catalog's app records of user
 * `u->index`: rep->apps and the skip counts are filled, every package not
 * reinstalled is reported (APPLY_APP_SKIP through o->on_action), and
 * apps.json is appended to `json` when the list is not empty.
 */
void aapps_plan(struct apps_ctx *x, const struct store_app *recs, size_t n,
		const struct store_user *u, const struct apply_opts *o,
		struct ws_log *log, struct apply_user_report *rep, struct ws_buf *json);

/*
 * Copy the offline packages of rep->apps into <bundle_host>/apps/ through
 * the journal (j NULL = dry run: nothing copied).  A package file that
 * cannot be read is a warning: that app falls back to winget / needs Store.
 * Then every app is reported (APPLY_APP_STAGE) and counted.  Errors: those
 * of writing the target.
 */
int aapps_stage(struct apps_ctx *x, struct aj *j, const char *bundle_host,
		const struct apply_opts *o, struct ws_log *log, const char *user,
		struct apply_user_report *rep, struct ws_error *err);

/* Free rep->apps. */
void aapps_report_release(struct apply_user_report *rep);

/*
 * If `f` is a WLAN profile of the scan (ProgramData\Microsoft\Wlansvc\
 * Profiles\Interfaces\...\*.xml), parse it from the store and add it to
 * r->wifi when its key must be typed again.  Problems are warnings.
 */
void awifi_check(struct store_catalog *cat, const struct store_file *f,
		 struct apply_report *r, struct ws_log *log);

/* ---- settings catalog notes (apply_catalog.c) ---------------------------- */

/* A component's "10to11:" verdict in its rule file's <description>. */
enum acat_move { ACAT_UNKNOWN = 0, ACAT_CARRIED, ACAT_TRANSLATED, ACAT_DROPPED };

struct acat_comp {
	char *name;              /* <displayName> */
	char *file;              /* base name of its rule file */
	int move;                /* enum acat_move */
	char *note;              /* text after "carried" / "translated:" / "dropped:" */
	int all_never_restore;   /* every include has filter NeverRestore() */
	uint64_t values, files;  /* objects of this apply met (the report) */
};

struct acat;

/*
 * The notes of the rule files the scan's rule records name ("file.xml:LINE
 * component 'NAME' include PATTERN"): each base name is looked up in
 * rules_dir (NULL = rule_default_dir(NULL)), else at the path the scan
 * recorded.  A file not found or not parsed is a log message: its objects
 * then have no component (carried as before).  Never fails.  acat_free().
 */
struct acat *acat_load(const char *rules_dir, struct store_catalog *cat, struct ws_log *log);
struct acat *acat_new(void);
/* Add the notes of one rule file from memory (tests).  WS_E_RULES when it
 * does not parse (nothing added). */
int acat_add_mem(struct acat *c, const char *base, const char *xml, size_t len,
		 struct ws_error *err);
void acat_free(struct acat *c);
size_t acat_count(const struct acat *c);
struct acat_comp *acat_get(struct acat *c, size_t i);
/* Component of a rule record's text, or NULL; *never_restore set from the
 * include at that line (else from the component's includes). */
struct acat_comp *acat_find(struct acat *c, const char *rule_text, int *never_restore);

/* ---- Windows 10 -> 11, Start pins, default apps (apply_win11.c) ----------- */

/* What becomes of one object. */
enum aw_verdict {
	AW_CARRY = 0,            /* written as is */
	AW_DROP,                 /* not written; reason given */
	AW_START_TILES,          /* Windows 10 Start tiles -> start-pins.json */
	AW_DEFAULT_APP           /* UserChoice ProgId -> default-apps.xml */
};

struct aw {
	unsigned src_build, dst_build;  /* 0 = unknown */
	int to11;                       /* Windows 10 source, Windows 11 target */
};

/* Source build from the scan's os_build text ("19045", "22631.4317"). */
void aw_init(struct aw *w, const char *src_build, unsigned dst_build);
/* Verdict for a value / a file (why: filled for anything but AW_CARRY). */
int aw_value(const struct aw *w, const char *key, const char *name,
	     const struct acat_comp *comp, int never_restore, char *why, size_t whylen);
int aw_file(const struct aw *w, const char *path, const struct acat_comp *comp,
	    char *why, size_t whylen);
/* UserChoice [ProgId] of a file type or protocol; its identifier (".pdf",
 * "https") appended to id (may be NULL). */
int aw_is_default_app(const char *key, const char *name, struct ws_buf *id);
/* The Windows 10 Start tile collection value (CloudStore ...start.tilegrid...). */
int aw_is_start_tiles(const char *key, const char *name);
/* 1 when a value's type and size fit what Windows keeps there; else 0 and
 * the reason.  Only a table of well-known catalog values is judged (type,
 * DWORD/QWORD sizes); every other value fits. */
int aw_check_type(const char *key, const char *name, uint32_t type, size_t len,
		  char *why, size_t whylen);

enum aw_pin_kind { AW_PIN_PACKAGED = 0, AW_PIN_DESKTOP_ID, AW_PIN_LINK };

struct aw_pin {
	int kind;                /* enum aw_pin_kind */
	char *id;                /* AUMID, desktop app ID or .lnk path */
};

struct aw_pins {
	struct aw_pin *v;
	size_t n, alloc;
	size_t secondary;        /* secondary tiles (pinned pages ...) left out */
};

/*
 * Heuristic over the undocumented tile collection blob: UTF-16 strings at
 * any alignment; "P~<PackageFamilyName>!<AppId>" -> packaged app,
 * "W~<id>" -> desktop app ID, a path ending ".lnk" -> shortcut.  Pins are
 * appended in blob order, without duplicates (at most 512).
 */
void aw_pins_from_tiles(const unsigned char *blob, size_t len, struct aw_pins *out);
/* ConfigureStartPins JSON ({"pinnedList":[...]}); shortcut paths under the
 * source profile's AppData\Roaming become %APPDATA%\..., ProgramData
 * ones %ALLUSERSPROFILE%\... */
void aw_pins_json(const struct aw_pins *p, const char *profile, struct ws_buf *out);
void aw_pins_release(struct aw_pins *p);

struct aw_assoc_entry {
	char *id, *progid, *app;
};

struct aw_assoc {
	struct aw_assoc_entry *v;
	size_t n, alloc;
};

/* First choice per identifier wins; at most 4096. */
void aw_assoc_add(struct aw_assoc *a, const char *id, const char *progid, const char *app);
/* <DefaultAssociations> XML as dism /export-defaultappassociations writes it. */
void aw_assoc_xml(const struct aw_assoc *a, struct ws_buf *out);
void aw_assoc_release(struct aw_assoc *a);

/* ---- LoadState rules (apply_rules.c) ------------------------------------- */

struct arules;

/*
 * The rule files of o->rule_files (files, or folders of .xml files), else those
 * the scan recorded, found by base name in o->rules_dir / rule_default_dir
 * (else at the recorded path), else (one missing: a warning) the shipped
 * winstate-...xml files.  A scan that names no rule files gets an empty set
 * (nothing evaluated).  Errors: WS_E_RULES for a --rules file or folder
 * that cannot be read or does not load (the scan's own files only warn).
 */
int arules_new(struct vol *vol, struct store_catalog *cat, const struct apply_opts *o,
	       struct arules **out, struct ws_error *err);
void arules_free(struct arules *r);
/* Close every hive the rules' conditions opened on the target (before
 * apply replaces hives: rule_vprobe_release_hives); conditions evaluated
 * afterwards find no hive. */
void arules_release_hives(struct arules *r);
/* Compile the selection of source user `user` (STORE_SYSTEM: the system
 * context) with the target's variables: profile `p`, or for a staged user
 * (p NULL) the profile Windows will make at win_path. */
int arules_user(struct arules *r, uint32_t user, const struct vol_profile *p,
		const char *win_path, const char *sid, const char *account,
		struct ws_error *err);

/* A value on its way to the target: moved and with the original name. */
struct arules_val {
	struct store_value v;    /* what to write (key/name may point into key/name) */
	const char *src_key, *src_name;
	struct ws_buf key, name;
	int set;
};
void arules_val_init(struct arules_val *av);
void arules_val_release(struct arules_val *av);

/* NeverRestore (1: dropped, counted, reported) and locationModify (av->v
 * moved, reported); 0 = write av->v. */
int arules_value_pre(struct arules *r, const struct store_value *v, struct arules_val *av,
		     const char *uname, const char *obj, struct apply_counts *c);
/* contentModify (matched on the source location) on the data about to be
 * written; `cur` the target's value or NULL.  When changed, the type,
 * data and length are replaced, the data kept in `store`. */
void arules_value_content(struct arules *r, struct arules_val *av, uint32_t *type,
			  const unsigned char **data, size_t *len, const struct reg_value *cur,
			  struct ws_buf *store, const char *uname, const char *obj,
			  struct apply_counts *c);
/* Collision with the target's `cur`: 1 when a merge rule keeps the target's
 * value (counted, reported). */
int arules_value_merge(struct arules *r, struct arules_val *av, uint32_t type,
		       const unsigned char *data, size_t len, const struct reg_value *cur,
		       const char *uname, const char *obj, struct apply_counts *c);

/* A staged user's value: a merge rule other than SourcePriority() cannot be
 * carried out by the script's reg import (it replaces the new profile's
 * value): reported per object as rule-unsupported (counted). */
void arules_value_merge_staged(struct arules *r, struct arules_val *av, const char *uname,
			       const char *obj, struct apply_counts *c);

/* NeverRestore (1: dropped) and locationModify of a file about to land at
 * the target's Windows path tpath (rewritten when moved); 0 = go on. */
int arules_file_pre(struct arules *r, const struct store_file *f, struct ws_buf *tpath,
		    const char *uname, struct apply_counts *c);
/* Collision at `win` (host path `host`): 1 when a merge rule decided:
 * *conflict set (enum apply_conflict), *place the FindFilePlaceByPattern
 * pattern (malloc'd) or NULL, reason appended. */
int arules_file_merge(struct arules *r, const struct store_file *f, const char *win,
		      const char *host, int *conflict, char **place, struct ws_buf *reason,
		      const char *uname, struct apply_counts *c);
/* What the first-sign-in script does when a staged file collides with one
 * already in the new profile (arules_file_merge_staged). */
enum arules_stage_policy {
	ARULES_STAGE_DEFAULT = 0,        /* identical: skipped, else name(N).ext */
	ARULES_STAGE_KEEP,               /* DestinationPriority(): the existing file stays */
	ARULES_STAGE_OVERWRITE           /* SourcePriority(): the source's file replaces it */
};
/* Merge rule of a staged user's file landing at `win` (future profile):
 * its enum arules_stage_policy (reason appended when not DEFAULT).  A
 * merge rule the script cannot express (NewestVersion, HigherValue,
 * FindFilePlaceByPattern, unsupported) is reported per object as
 * rule-unsupported (counted) and gives DEFAULT. */
int arules_file_merge_staged(struct arules *r, const struct store_file *f, const char *win,
			     struct ws_buf *reason, const char *uname, struct apply_counts *c);
/* 1 when destinationCleanup deleted the file at host path `host`. */
int arules_cleaned(const struct arules *r, const char *host);

/* The target hive holding live key `key` for user (STORE_SYSTEM: machine),
 * *h NULL when there is none to clean; `inner` gets the path in the hive. */
typedef int (*arules_hive_fn)(void *ctx, uint32_t user, const char *key,
			      struct reg_hive **h, struct ws_buf *inner, struct ws_error *err);
/* What destinationCleanup may never delete (the safety pass's list): such a
 * file is reported as rule-unsupported and kept. */
void arules_off_limits(struct arules *r, const struct apf *pf);

/* destinationCleanup of one context, before anything is applied: matching
 * registry values/keys deleted in the hives (committed, hence journaled,
 * with the apply), matching files saved in the journal then deleted;
 * dry run: only reported. */
int arules_cleanup(struct arules *r, uint32_t user, struct aj *j, const char *uname,
		   struct apply_counts *c, arules_hive_fn hive, void *hctx,
		   struct ws_error *err);
/* A staged user (no profile yet): each destinationCleanup pattern of its
 * selection is reported as rule-unsupported (counted), one warning. */
void arules_cleanup_staged(struct arules *r, uint32_t user, const char *uname,
			   struct apply_counts *c);
/* <addObjects> registry values of every context, each passed to fn as a
 * captured value of that user. */
int arules_add_objects(struct arules *r, int (*fn)(void *ctx, const struct store_value *v,
						    struct ws_error *err),
		       void *ctx, const char *(*uname_of)(void *ctx, uint32_t user),
		       struct apply_counts *(*counts_of)(void *ctx, uint32_t user),
		       struct ws_error *err);


/* ---- the state of one apply (apply.c) ----------------------------------- */

#define APPLY_MAX_SUBS 64

/* One source user and where it lands. */
struct apply_user {
	const struct store_user *src;
	int mode;                        /* OFFLINE, FIRST_SIGN_IN, DEFAULT; -1 skipped */
	int left_out;                    /* skipped by the user selection: silent */
	const struct vol_profile *dst;   /* OFFLINE / DEFAULT */
	char *new_sid, *new_account;     /* NULL when unknown */
	char *dst_win;                   /* target profile path (expected one when staged) */
	struct reg_hive *ntuser, *usrclass;
	struct bundle *bundle;           /* staged settings/files, lazily made */
	struct asub subs[APPLY_MAX_SUBS], xsubs[APPLY_MAX_SUBS]; /* xsubs: REG_EXPAND_SZ data */
	size_t nsubs;
	struct apply_user_report *rep;
	struct aw_pins pins;             /* Windows 10 Start tiles, translated */
	int has_tiles;
	struct aw_assoc assoc;           /* UserChoice ProgIds */
};

struct apply {
	const struct apply_opts *o;
	struct apply_report *r;
	struct vol *vol;
	struct store_catalog *cat;
	struct amaps maps;
	struct apply_user *users;
	size_t nusers;
	struct apply_user_report *sysrep;
	struct asub syssubs[APPLY_MAX_SUBS];
	size_t nsyssubs;
	char drive_from[3], drive_to[3];
	struct reg_hive *software, *system;
	struct apf *pf;                  /* what file entries may not touch */
	struct aj *j;
	struct ws_root *rroot;           /* the target, for reads (also dry-run) */
	struct ws_log *log;
	char *programdata;               /* Windows path */
	char *profiles_dir;              /* Windows path of the profiles folder */
	int need_software, need_system;  /* found by the safety pass */
	struct apps_ctx *apps;           /* Store apps: target image, app cache */
	struct acat *acat;               /* notes of the scan's rule files */
	/* apply_comp_of's answers by rule index (a scan has a few hundred
	 * rules; entries of different rules interleave) */
	struct acomp_memo {
		struct acat_comp *comp;
		int never, known;
	} *comp_memo;
	size_t n_comp_memo;
	struct aw aw;                    /* source and target Windows builds */
	struct arules *rules;            /* LoadState rules (apply_rules.c) */
	struct asec *sec;                /* security descriptors (apply_sec.c) */
	uint64_t lost;                   /* deferred values not staged anywhere */
	uint64_t done;
	uint64_t bytes_done;             /* file content written so far (progress) */
	/* dry run: the folders the real run would make */
	struct ws_strset dry_dirs;
	/* the system files of drives the target lacks, rerouted onto its
	 * system drive (ASCII letters in lower case, sorted): what a Mozilla
	 * profile list's path on such a drive may be rewritten to */
	char **rerouted;
	size_t n_rerouted, a_rerouted;
	/* the content to write instead of the stored one for the file being
	 * applied (a Mozilla profile list with rewritten paths), or NULL */
	const struct ws_buf *file_data;
	int no_ntfs_xattrs;              /* the target refused system.ntfs_*: not tried again */
	/* collisions renamed so far: per target path (as NTFS compares
	 * names), the last name(N) looked at.  Entries landing on one path (a
	 * store's case variants of a name) go on from there instead of each
	 * trying name(1), name(2) ... again: quadratic, and each try may read
	 * a file */
	struct ws_strset renames;
	uint64_t started_ft;             /* FILETIME of the start: every key written gets it */
};

/* Report one action through o->on_action. */
void apply_act(struct apply *a, int kind, const char *user, const char *object,
	       const char *target, const char *reason);
/* The mapped user of a catalog user index, or NULL. */
struct apply_user *apply_user_of(struct apply *a, uint32_t index);
/* Counts of a user's report (um NULL: the system's). */
struct apply_counts *apply_cnt(struct apply *a, struct apply_user *um);
/* The catalog's component of an object (counted for the report). */
struct acat_comp *apply_comp_of(struct apply *a, uint32_t rule, int is_file, int *never);
/* ProgramData\winstate: its Windows and host paths. */
void apply_winstate_dir(struct apply *a, struct ws_buf *win, struct ws_buf *host);
/* The report's totals from its users' counts. */
void apply_sum_counts(struct apply_report *r);

/* ---- Mozilla profile lists (apply_mozini.c) ------------------------------ */

#define AMOZ_MAX_BYTES (1024u * 1024u) /* as the scan reads them */
enum { AMOZ_NONE = 0, AMOZ_PROFILES, AMOZ_INSTALLS };

/*
 * Whether the file `path` is a Mozilla profile list: named profiles.ini
 * (AMOZ_PROFILES) or installs.ini (AMOZ_INSTALLS) and taken by the
 * Firefox, Thunderbird or LibreWolf group (`group`: the rule's display
 * name, or NULL) or lying in one of their folders under the user's
 * `profile` (AppData\Roaming\Mozilla\Firefox ...).
 */
int amoz_kind_of(const char *path, const char *profile, const char *group);

/* What amoz_rewrite found: a rewrite (warn 0: key, from, to, the value's
 * offset and length in the text) or a warning (warn 1: msg; line 0 = the
 * whole file). */
struct amoz_note {
	size_t line;
	int warn;
	char *key, *from, *to, *msg;
	size_t off, len;
};
struct amoz_notes {
	struct amoz_note *v;
	size_t n, alloc;
};
void amoz_notes_release(struct amoz_notes *n);

/* 1 and the new path in `out` when `path` lies in a location apply moved. */
typedef int (*amoz_map_fn)(void *ctx, const char *path, struct ws_buf *out);

/*
 * Rewrite the profile paths of a profiles.ini / installs.ini text: in
 * profiles.ini a [Profile*] section's Path= unless the section says
 * IsRelative=1, and [Install*] Default=; in installs.ini every section's
 * Default=; only absolute ones (X:\...), each through `map`.  Every other
 * byte is kept (encoding mark, line ends, comments, unknown keys, order).
 * Returns the number of values rewritten; `out` holds the new text when
 * there is one (else it is empty).  Notes are appended to `notes`: the
 * rewrites, and warnings for a text over AMOZ_MAX_BYTES or in UTF-16 (not
 * rewritten), a value not valid UTF-8, with a '.' or '..' component, odd
 * characters or too long (that value not rewritten).
 */
int amoz_rewrite(const char *data, size_t len, int kind, amoz_map_fn map, void *ctx,
		 struct ws_buf *out, struct amoz_notes *notes);

/*
 * For the file `f` of user `um` (NULL: the system's) taken by `group`:
 * when it is a Mozilla profile list whose paths name locations this apply
 * moves (the user's profile folder, a drive the target lacks), its new
 * content in `out` and 1; warnings are logged naming the file and line.
 */
int amoz_prepare(struct apply *a, struct apply_user *um, const struct store_file *f,
		 const char *group, struct ws_buf *out, struct amoz_notes *notes);
/* One rule-content action per rewrite of the file placed at `target`. */
void amoz_report(struct apply *a, struct apply_user *um, const struct store_file *f,
		 const char *target, const struct amoz_notes *notes);
/* Sort a->rerouted (after the safety pass has filled it). */
void amoz_rerouted_done(struct apply *a);

/* ---- users (apply_users.c) ---------------------------------------------- */

/* Map every user of the scan (a->users, the report's users, the rewrites);
 * refuses store identities that are not plain and mapped accounts. */
int ausers_map(struct apply *a, struct ws_error *err);
/* The target's Default profile (with its NTUSER.DAT), or NULL. */
const struct vol_profile *ausers_default_profile(struct apply *a);

/* ---- bundles (apply_bundles.c) ------------------------------------------ */

/* The user's bundle, made on first use. */
struct bundle *abundles_of(struct apply *a, struct apply_user *um);
/* Each offline or staged user's Store apps: the reinstall list, apps.json
 * into the user's bundle (made for it when needed). */
int abundles_plan_apps(struct apply *a, struct ws_error *err);
/* Start pins and default apps of each user: into the bundle, or for the
 * Default profile LayoutModification.json and ProgramData\\winstate. */
int abundles_translated(struct apply *a, struct ws_error *err);
/* Staged users' Start pins on Windows 11: the Default profile's
 * LayoutModification.json, when every staged user with pins has the same
 * list; else none there, and each user's own list is placed in that
 * user's profile by the first-sign-in script (one action per user). */
int abundles_staged_layout(struct apply *a, struct ws_error *err);
/* Every bundle finished, then restore.ps1 and the Active Setup component. */
int abundles_finish(struct apply *a, struct ws_error *err);

/* ---- registry (apply_regs.c) -------------------------------------------- */

/* One catalog value (v) or key (k, v NULL) onto the target. */
int aregs_apply(struct apply *a, const struct store_value *v, const struct store_key *k,
		struct ws_error *err);
/* Host path of the target's SOFTWARE or SYSTEM hive. */
int aregs_hive_host(struct apply *a, enum reg_hive_kind kind, struct ws_buf *host,
		    struct ws_error *err);
/* The target's SOFTWARE or SYSTEM hive, opened (for write) on first use. */
int aregs_system(struct apply *a, enum reg_hive_kind kind, struct reg_hive **out,
		 struct ws_error *err);
/* arules_hive_fn for destinationCleanup (ctx: struct apply). */
int aregs_cleanup_hive(void *ctx, uint32_t user, const char *key, struct reg_hive **h,
		       struct ws_buf *inner, struct ws_error *err);
/* Commit a hive written in memory (temporary file, journal, rename). */
int aregs_commit(struct apply *a, struct reg_hive *h, struct ws_error *err);

/* ---- files (apply_files.c) ---------------------------------------------- */

/* Open the target file `host` for reading through the held root (no link
 * followed; WS_E_TARGET for a link or not a plain file). */
int afiles_open_read(struct apply *a, const char *host, int *fd, struct ws_error *err);
/* Profile-relative part of a user's file path, or NULL. */
const char *afiles_profile_rel(const char *path, const char *profile);
/* The drive letter (upper case) of the Windows path `path` when it is
 * "X:\\..." on another drive than `system_drive`; 0 otherwise (the system
 * drive, not drive-absolute). */
char afiles_other_drive(const char *path, char system_drive);
/* "X:\\rest" -> "<drive>:\\rest" into out (reset first): the file of a
 * drive the target lacks, in the same folders of `drive` (USMT). */
void afiles_reroute(const char *path, char drive, struct ws_buf *out);
/* Windows path on the target of a file record (a system file of another
 * drive rerouted to the scan's system drive, then rewritten); 0 when not
 * placeable (reason set). */
int afiles_target_path(struct apply *a, struct apply_user *um, const struct store_file *f,
		       struct ws_buf *tpath, const char **why);
/* One catalog file or folder onto the target (or into a staged user's
 * bundle). */
/* Dry run: count the folders mkdir -p `host` would make (each once). */
void afiles_would_mkdirs(struct apply *a, const char *host);
int afiles_apply(struct apply *a, const struct store_file *f, struct ws_error *err);
/* Write `data` at the target's Windows path `win` (replacing, journaled). */
int afiles_write_target(struct apply *a, const char *win, const struct ws_buf *data,
			struct ws_error *err);

/* ---- safety pass (apply_safety.c) --------------------------------------- */

/* Check every file path and every hive before anything is written. */
int asafety_pass(struct apply *a, struct ws_error *err);

/* ---- extract mode (apply_extract.c) ------------------------------------- */

/* Files as a plain tree (store_extract), settings as <account>.reg each. */
int aextract_run(struct store *st, struct apply *a, struct ws_error *err);

#endif
