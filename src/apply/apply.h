/*
 * apply.h - replay one scan from a store onto an offline Windows
 * installation (the target), and undo it.
 *
 * Modes, chosen per source user (enum apply_mode):
 *   offline        the user's profile exists on the target (matched by SID,
 *                  then by account name, after mapping): registry values go
 *                  into that profile's NTUSER.DAT / UsrClass.dat, files into
 *                  the profile folder.  Machine values go into SOFTWARE /
 *                  SYSTEM.  Hives are changed in memory and committed
 *                  atomically at the end.
 *   first-sign-in  no profile yet (or forced): a bundle is staged under
 *                  ProgramData\winstate\bundles\<SID or account>\ (settings
 *                  as a regedit .reg file, files as a folder tree relative
 *                  to the profile, a generated PowerShell script) and an
 *                  Active Setup component is registered in SOFTWARE so that
 *                  the script runs once when that user first signs in
 *                  (docs/first-sign-in.md).  Values that cannot be written
 *                  offline (big data in a format >= 1.4 hive, missing
 *                  UsrClass.dat) of offline users go into such a bundle too.
 *   default        the settings and files are written into Users\Default so
 *                  every new profile starts with them (--default-profile,
 *                  or --map-user USER=Default).
 *   extract        no Windows target: files are restored as a plain folder
 *                  tree (store_extract) and each user's settings are written
 *                  as <target>\<account>.reg.
 *
 * Undo journal: before the first change, apply creates
 * ProgramData\winstate\journal\<id>\ on the target.  Its journal.log is
 * append-only and each line is fsynced before the change it announces:
 * every file or folder about to be created, every existing file (hives
 * included) copied into the journal before it is replaced.  apply_undo()
 * restores the target byte for byte, removes what apply created, then the
 * journal, then the winstate folders apply made.  An apply killed at any
 * point can be undone.
 *
 * Collisions follow USMT: a registry value of the source overwrites the
 * target's; a file that exists on the target with other content is kept and
 * the source's lands beside it as "name(1).ext" ... unless conflict =
 * SOURCE (overwrite) or DESTINATION (keep target, skip source).
 *
 * Rewriting inside string data (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ) and
 * file paths: the source profile folder -> the target profile folder
 * (%USERPROFILE% in REG_EXPAND_SZ data of staged users), old SID -> new SID
 * of every mapped user, source system drive -> target system drive.
 *
 * Other drives: a system file of another drive than the scan's system drive
 * lands on the target's system drive in the same folders (USMT's rule for a
 * drive the destination lacks), one warning per drive with its count.
 *
 * Safety: before anything is written the whole catalog is checked; a file
 * path that is not absolute, holds "", "." or ".." components, or (where it
 * lands) would pass through a link on the target refuses the whole apply
 * (WS_E_UNSUPPORTED), target untouched.  A dirty target hive
 * (unreplayed transaction logs) refuses it too (WS_E_HIVE).
 *
 * Store apps (docs/apply.md "Store apps"): for every offline or staged user
 * the catalog's app records of that user give the reinstall list (class
 * user, installed, not deprovisioned, not provisioned or shipped by the
 * target image's AppxAllUserStore; one per family, highest version).  It
 * goes into the user's bundle as apps.json (winget-import JSON) and the
 * script's app step; with app_cache the matching packages, dependencies
 * included, are copied into the bundle's apps\ folder (hard links between
 * bundles when two users need the same file).  Users of the Default
 * profile get no apps.
 *
 * Wi-Fi: the WLAN profiles among the scan's system files are parsed; those
 * whose key must be typed again are listed in the report.
 *
 * With dry_run nothing on the target is touched: every action is still
 * computed and passed to on_action, so the caller can show the plan.
 */
#ifndef APPLY_H
#define APPLY_H

#include <signal.h>
#include <stdint.h>

#include "store/store.h"
#include "util/ws_buf.h"
#include "util/ws_error.h"
#include "util/ws_log.h"

enum apply_conflict {
	APPLY_CONFLICT_RENAME = 0,   /* USMT default: keep target, add name(1).ext */
	APPLY_CONFLICT_SOURCE,       /* source wins: overwrite */
	APPLY_CONFLICT_DESTINATION   /* target wins: skip the source's file */
};

enum apply_mode {
	APPLY_MODE_AUTO = 0,         /* offline when the profile exists, else staged */
	APPLY_MODE_OFFLINE,
	APPLY_MODE_FIRST_SIGN_IN,
	APPLY_MODE_EXTRACT,
	APPLY_MODE_DEFAULT           /* per user only: into Users\Default */
};

/* "auto", "offline", "first-sign-in", "extract", "default". */
const char *apply_mode_name(int mode);
/* Parse a --mode word; -1 when unknown. */
int apply_mode_parse(const char *s);

enum apply_action_kind {
	APPLY_USER_MAP = 0,      /* a source user mapped to a target profile */
	APPLY_USER_MISSING,      /* no profile on the target: user not applied */
	APPLY_REG_SET,           /* value created or overwritten */
	APPLY_REG_SAME,          /* value already equal on the target */
	APPLY_REG_DEFERRED,      /* cannot be written offline (see reason) */
	APPLY_REG_SKIP,          /* not applied (see reason) */
	APPLY_KEY_CREATE,        /* an empty selected key created */
	APPLY_FILE_PLACE,        /* new file written */
	APPLY_FILE_RENAME,       /* collision: written as name(N).ext */
	APPLY_FILE_OVERWRITE,    /* collision, source wins */
	APPLY_FILE_SAME,         /* already identical on the target */
	APPLY_FILE_KEEP,         /* collision, target wins: source skipped */
	APPLY_FILE_SKIP,         /* not applied (see reason) */
	APPLY_DIR_CREATE,        /* folder created */
	APPLY_USER_STAGE,        /* a source user staged for first sign-in */
	APPLY_REG_STAGE,         /* value written into a bundle's .reg */
	APPLY_FILE_STAGE,        /* file copied into a bundle */
	APPLY_BUNDLE,            /* bundle completed and Active Setup registered */
	APPLY_APP_STAGE,         /* a Store app to reinstall at sign-in (reason: from where) */
	APPLY_APP_SKIP,          /* a Store app not reinstalled (reason: why) */
	APPLY_REG_DROPPED,       /* a setting deliberately not restored (reason:
				    Windows 10 -> 11 verdict, NeverRestore) */
	APPLY_FILE_DROPPED,      /* likewise for a file (start2.bin ...) */
	APPLY_REG_TRANSLATED,    /* a setting turned into a generated file
				    (target: that file; reason: how) */
	APPLY_SETTINGS_FILE,     /* a generated file: start-pins.json,
				    default-apps.xml, LayoutModification.json */
	/* LoadState rules (docs/apply.md "LoadState rules"); reason names the
	 * rule's script and file:line. */
	APPLY_RULE_MOVE,         /* locationModify: target = the new location */
	APPLY_RULE_CONTENT,      /* contentModify changed the value's data */
	APPLY_REG_KEEP,          /* merge rule: the target's value is kept */
	APPLY_RULE_CLEANUP,      /* destinationCleanup deleted (dry run: would
				    delete) this target object before apply */
	APPLY_RULE_ADD,          /* addObjects: a value emulated as captured */
	APPLY_RULE_UNSUPPORTED,  /* a rule not applied (unsupported function,
				    bad arguments): default behaviour kept */
	APPLY_USER_LEFT_OUT      /* a source user the user selection leaves
				    out (reason: which rule): nothing of it */
};

/* Stable lower-case name of an action ("reg-set", "file-rename" ...). */
const char *apply_action_name(int kind);

struct apply_action {
	int kind;                /* enum apply_action_kind */
	const char *user;        /* source account, or "system" */
	const char *object;      /* source object: "HKCU\\X [Name]" or a file path */
	const char *target;      /* where it goes on the target (path), or NULL */
	const char *reason;      /* why (skips, deferrals, renames), or NULL */
};

struct apply_opts {
	const char *target;              /* root of the target installation
					    (extract mode: output folder) */
	const char *device;              /* scan's device (required) */
	const char *scan_id;             /* NULL = the device's newest scan */
	int mode;                        /* enum apply_mode (AUTO = 0) */
	int default_profile;             /* the scan's user -> Users\Default */
	int dry_run;
	/* A target whose file system cannot hold Windows security descriptors
	 * (a plain folder, FAT) is refused (WS_E_TARGET) unless this is set:
	 * for test targets; apply then writes no descriptors.  Extract mode
	 * never writes descriptors (its output is not a Windows target). */
	int allow_plain_target;
	/* A first-sign-in user whose SID the target cannot know (another
	 * domain, --map-domain) is refused on a target with descriptors, since
	 * the bundle could not be private to that user; this accepts a bundle
	 * readable by every local user (docs/first-sign-in.md, Access). */
	int allow_shared_bundle;
	int conflict;                    /* enum apply_conflict */
	/* "OLD=NEW": OLD a SID, account or DOMAIN\\account of the source;
	 * NEW an account, DOMAIN\\account, UPN, SID or Entra object ID. */
	const char *const *map_user;
	size_t n_map_user;
	/* "OLD=NEW" domain renames: OLD\\x is looked up as NEW\\x. */
	const char *const *map_domain;
	size_t n_map_domain;
	const char *map_file;            /* CSV: old,new per line; NULL = none */
	/* Which of the scan's users are applied (USMT LoadState /ui /ue /uel;
	 * none given: all).  As scan's selection: an include pattern match is
	 * always applied; with users_since_days or users_since_time the user's
	 * last use on the source (the catalog's; unknown = kept) decides; else
	 * an exclude match leaves the user out.  Patterns (ws_account_match)
	 * match the source account "DOMAIN\\user", "user" or the SID.  A
	 * user left out gets nothing written, is reported once
	 * (APPLY_USER_LEFT_OUT, users_left_out), and does not make the apply
	 * partial; every user left out is WS_E_EMPTY, nothing written.  Not
	 * for the extract mode (it writes every user's files). */
	const char *const *users_include;
	size_t n_users_include;
	const char *const *users_exclude;
	size_t n_users_exclude;
	unsigned users_since_days;       /* 0 = no limit */
	int64_t users_since_time;        /* Unix seconds; 0 = no limit */
	int64_t now;                     /* for users_since_days; 0 = time() */
	/* First-sign-in bundles. */
	int prompt;                      /* ask the user before restoring */
	const char *expires;             /* "YYYY-MM-DD": after it the script only
					    cleans up; NULL = never */
	const char *rules_dir;           /* where the scan's rule files are found
					    by base name for their catalog notes;
					    NULL = rule_default_dir(NULL) */
	/* LoadState rules: rule files or folders (*.xml) as given to
	 * `apply --rules`; none = the scan's rule files found by base name in
	 * rules_dir (else at their recorded path), or the shipped set when one
	 * of them cannot be found (a warning). */
	const char *const *rule_files;
	size_t n_rule_files;
	const char *app_cache;           /* folder of offline app packages
					    (.msix/.appx[bundle], *_License*.xml);
					    NULL = none */
	void (*on_action)(void *ctx, const struct apply_action *a);
	void *on_action_ctx;
	/* Called after each journal entry is durable and before the change it
	 * announces (n counts entries from 1): for progress, and for tests
	 * that interrupt an apply at a known point.  It may run on several
	 * threads at once (files written in place), n not in order. */
	void (*on_journal)(void *ctx, unsigned long n);
	void *on_journal_ctx;
	/* Tests: called with the host path of each folder apply makes, right
	 * after mkdir and before the folder is used (to swap it for a link).
	 * It may run on several threads at once (a batch's folders are made
	 * by the threads writing its files). */
	void (*on_mkdir)(void *ctx, const char *host);
	void *on_mkdir_ctx;
	/* Called for every file and folder apply creates on the target (the
	 * journal's too), with its descriptor: a folder right after it is
	 * made, before anything is put in it; a file as the temporary that
	 * becomes it, before it is linked or renamed into place.  `rel` is its
	 * final path below the target root.  For a Windows security descriptor
	 * and attributes (system.ntfs_acl, system.ntfs_attrib_be); a replaced
	 * file keeps the old one's instead.  Non-zero stops the apply with that
	 * status.  NULL = none (struct ws_newobj in util/ws_root.h). */
	int (*on_newobj)(void *ctx, int fd, int is_dir, const char *rel,
			 struct ws_error *err);
	void *on_newobj_ctx;
	/* Applies running at once in this process and so sharing its limit
	 * on open files (apply_fleet sets it to its jobs): the journal sizes
	 * its batches from this share of the limit.  0 = 1. */
	unsigned fd_share;
	struct ws_log *log;
	const struct ws_progress *progress;
	/* Polled at safe points: nonzero stops the operation with
	 * WS_E_CANCELED, what is done kept (Ctrl-C).  May be NULL. */
	const volatile sig_atomic_t *cancel;
};

void apply_opts_init(struct apply_opts *o);

/* Counts for one source user (and for "system"). */
struct apply_counts {
	uint64_t values_set, values_same, values_deferred, values_skipped;
	uint64_t values_staged;          /* into a bundle's .reg */
	uint64_t keys_created;
	uint64_t files_placed, files_renamed, files_overwritten, files_same;
	uint64_t files_kept, files_skipped, dirs_created;
	uint64_t files_staged;           /* into a bundle */
	uint64_t bytes;                  /* content bytes written */
	/* Store apps to reinstall at sign-in, by planned source, and skipped. */
	uint64_t apps_offline, apps_winget, apps_needs_store, apps_skipped;
	/* Settings catalog: dropped on purpose (Windows 10 -> 11, NeverRestore,
	 * incompatible Start layout), and turned into a generated file. */
	uint64_t values_dropped, files_dropped, values_translated;
	/* LoadState rules: objects moved (locationModify), values changed
	 * (contentModify), target values kept by a merge rule, target objects
	 * deleted by destinationCleanup, rules not applied (a warning each). */
	uint64_t objects_moved, values_modified, values_kept, objects_cleaned;
	uint64_t rules_unsupported;
};

enum apply_app_source {
	APPLY_APP_OFFLINE = 0,   /* package copied into the bundle: Add-AppxPackage */
	APPLY_APP_WINGET,        /* winget install --id <ProductId> --source msstore
				    (when winget and a network are there at sign-in) */
	APPLY_APP_NEEDS_STORE    /* no package, no ProductId: "needs Store" */
};

/* "offline-package", "winget", "needs-store". */
const char *apply_app_source_name(int source);

/* One Store app to reinstall for a user. */
struct apply_app {
	char *family, *full_name, *version, *arch;
	char *product_id;        /* Store ProductId, NULL when unknown */
	int source;              /* enum apply_app_source */
	char *package;           /* OFFLINE: bundle-relative "apps\\<file>", else NULL */
	char **deps;             /* OFFLINE: bundle-relative dependency files */
	size_t ndeps;
	char *license;           /* license file found in the cache (host path; not
				    used by a per-user install, see docs), or NULL */
};

/* A Wi-Fi network whose key must be entered again on the target. */
struct apply_wifi {
	char *file;              /* the profile's path in the scan */
	char *ssid;              /* SSID, else the profile name */
	char *authentication;    /* "WPA2PSK", "WPA2" ... "" when unknown */
	char *reason;
};

/* One catalog group met by a Windows 10 -> 11 apply. */
struct apply_compat {
	char *component;         /* display name */
	char *verdict;           /* "carried", "translated", "dropped" */
	char *note;              /* the catalog's how / why ("" when none) */
	uint64_t values, files;  /* objects of the scan in that group */
};

struct apply_user_report {
	char *account;                   /* source account */
	char *sid;                       /* source SID */
	char *new_account;               /* after mapping ("" when unknown) */
	char *new_sid;                   /* after mapping ("" when unknown) */
	int mode;                        /* enum apply_mode actually used; -1 = skipped */
	char *target;                    /* target profile path, bundle path or NULL */
	char *reason;                    /* why skipped / staged, or NULL */
	struct apply_counts c;
	struct apply_app *apps;          /* reinstall list, in family order */
	size_t n_apps;
};

struct apply_report {
	char scan_id[STORE_SCAN_ID_MAX];
	char target_computer[256];       /* the target's computer name ("" unknown) */
	char journal[1024];              /* host path of the undo journal ("" if none) */
	unsigned users_applied, users_missing, users_staged;
	unsigned users_left_out;         /* by the user selection (not missing) */
	unsigned bundles;
	/* Totals over every user and the system: */
	uint64_t values_set, values_same, values_deferred, values_skipped;
	uint64_t values_staged;
	uint64_t keys_created;
	uint64_t files_placed, files_renamed, files_overwritten, files_same;
	uint64_t files_kept, files_skipped, dirs_created;
	uint64_t files_staged;
	uint64_t bytes;                  /* content bytes written */
	uint64_t apps_offline, apps_winget, apps_needs_store, apps_skipped;
	unsigned hives_committed;
	/* Wi-Fi profiles among the scan's files, and those needing their key. */
	unsigned wifi_profiles;
	struct apply_wifi *wifi;
	size_t n_wifi;
	uint64_t values_dropped, files_dropped, values_translated;
	uint64_t objects_moved, values_modified, values_kept, objects_cleaned;
	uint64_t rules_unsupported;
	/* Windows versions: build numbers (0 = unknown); win10_to_11 when the
	 * scan is of Windows 10 (< 22000) and the target Windows 11; then
	 * compat lists each catalog group met with its verdict. */
	unsigned source_build, target_build;
	int win10_to_11;
	struct apply_compat *compat;
	size_t n_compat;
	/* Per user, in catalog order, then "system" last. */
	struct apply_user_report *users;
	size_t n_users;
};

/* Free the per-user part of a report (apply_scan fills it). */
void apply_report_release(struct apply_report *r);

/*
 * Apply.  Errors: WS_E_NOT_WINDOWS (target), WS_E_TARGET (read-only
 * target), WS_E_USAGE (no such device/scan, scan of another device,
 * malformed --map-user / --map-domain / --map-file (naming the CSV line),
 * bad --expires), WS_E_EMPTY (the scan has no user: nothing is written),
 * WS_E_NOUSER (offline mode and no user of the scan has a
 * profile on the target: nothing is written), WS_E_HIVE (a target hive is
 * damaged or dirty), WS_E_UNSUPPORTED (a hostile path in the store:
 * nothing is written), store codes, WS_E_IO / WS_E_NOSPACE.  Returns
 * WS_PARTIAL when it completed but some users or objects were not applied
 * (each reported through on_action and the log).  On an error after
 * changes began, the journal (r->journal) lets apply_undo() revert them.
 * Release `r` with apply_report_release() whatever the result.
 */
int apply_scan(struct store *st, const struct apply_opts *o,
	       struct apply_report *r, struct ws_error *err);

/* ---- the apply's event record ---------------------------------------------- */

/*
 * A logger that forwards to `inner` (may be NULL) and keeps the first
 * STORE_EVENT_NOTES_MAX warnings and errors for the event record: pass
 * &notes->log as apply_opts.log.
 */
struct apply_notes {
	struct ws_log log;
	struct ws_log *inner;
	struct store_event_note v[STORE_EVENT_NOTES_MAX];
	size_t n;
};
void apply_notes_init(struct apply_notes *notes, struct ws_log *inner);
void apply_notes_release(struct apply_notes *notes);

/*
 * Record an apply in the store (docs/store-format.md §13, kind apply): the
 * target's computer name, times, the status and, when it failed, `failure`
 * (NULL = none), the totals, one user entry per source user with its mode
 * and counts, the Windows 10 -> 11 verdicts, the notes.  Dry runs are not
 * recorded (WS_OK, nothing written).  `r` may be partly filled after a
 * failure.  Errors: those of store_event_write.
 */
int apply_event_write(struct store *st, const struct apply_opts *o,
		      const struct apply_report *r, int status,
		      const char *failure, int64_t started,
		      const struct apply_notes *notes, struct ws_error *err);

/* ---- many targets ----------------------------------------------------------- */

/*
 * The device a target was scanned as, by default: the target's computer
 * name (its SYSTEM hive), copied into name (n bytes).  A refreshed PC keeps
 * its name, so its new image finds its old scan.  Errors: vol_open's
 * (WS_E_NOT_WINDOWS ...), WS_E_USAGE when the target has no computer name.
 */
int apply_target_device(const char *target, char *name, size_t n,
			struct ws_error *err);

/* One target of a wave (apply --inventory). */
struct apply_target {
	char *target;            /* root of the target installation */
	char *device;            /* NULL = the target's computer name */
	char *scan;              /* NULL = the device's newest scan */
	char **map_user;         /* OLD=NEW, added to the wave's */
	size_t n_map_user;
	char **map_domain;
	size_t n_map_domain;
	long line;               /* inventory line */
	int bad;                 /* refused line: code and message */
	int code;
	char *message;
};

struct apply_wave {
	struct apply_target *v;
	size_t n, alloc;
};
#define APPLY_WAVE_INIT { NULL, 0, 0 }

/*
 * Read an apply inventory: CSV (as scan's: RFC 4180, BOM, CRLF, '#'
 * comments) whose header names `target` and optionally `device`, `scan`,
 * `map-user`, `map-domain` (any order and case; several mappings in a cell
 * separated by ';').  A malformed line, a line without a target, a target
 * already listed become `bad` targets whose message starts "FILE:LINE: ".
 * Errors: WS_E_IO, WS_E_USAGE (no header or no `target` column; err->line).
 */
int apply_inventory_load(const char *path, struct apply_wave *w,
			 struct ws_error *err);
int apply_inventory_parse(const char *name, const char *data, size_t len,
			  struct apply_wave *w, struct ws_error *err);
void apply_wave_release(struct apply_wave *w);

/* What happened to one target. */
struct apply_fleet_report {
	const struct apply_target *target;
	char device[256];        /* the device applied (given or the computer name) */
	int status;              /* WS_OK, WS_PARTIAL or the failure code */
	struct ws_error err;
	struct apply_report r;   /* totals (users: released; n_users kept) */
};

struct apply_fleet_opts {
	const char *store_dir;
	struct store_open_opts store; /* each worker opens its own handle */
	unsigned jobs;                /* 0 = 1 */
	/* Template: every option but target/device/scan_id, whose map_user and
	 * map_domain the target's own are added to.  log is called from the
	 * workers one at a time, `where` prefixed with the target. */
	struct apply_opts base;
	int record_events;            /* an apply event per target (not dry runs) */
	/* Called (serialised) when a target starts (rep NULL) and ends. */
	void (*on_target)(void *ctx, size_t index, const struct apply_fleet_report *rep);
	void *on_target_ctx;
	/* Each action of target `index` (serialised; base.on_action is not
	 * used for a wave); may be NULL. */
	void (*on_action)(void *ctx, size_t index, const struct apply_action *a);
	void *on_action_ctx;
};

/*
 * Apply to every target of `w`, up to opts->jobs at a time; one target's
 * failure never stops the others.  reports[i] gets target i's outcome
 * (release each with apply_report_release).  Returns the wave's status as
 * scan_fleet does (WS_OK; WS_PARTIAL; else the highest failure code), or a
 * code when the store cannot be opened (err filled).
 */
int apply_fleet(const struct apply_fleet_opts *opts, const struct apply_wave *w,
		struct apply_fleet_report *reports, struct ws_error *err);
int apply_fleet_status(const struct apply_fleet_report *reports, size_t n);

/* ---- undo ----------------------------------------------------------------- */

struct apply_undo_report {
	char journal[1024];              /* journal that was undone */
	uint64_t restored;               /* files put back from the journal */
	uint64_t removed_files, removed_dirs;
	uint64_t left_dirs;              /* folders not empty: left in place */
	uint64_t left_files;             /* created files changed since (or behind a
					    link now): left in place, WS_PARTIAL */
	int complete;                    /* the journal had its END line */
};

/*
 * Undo an apply on the installation at `target`: the journal folder
 * `journal` (or its journal.log), or the newest one under
 * ProgramData\winstate\journal when NULL.  Restores every saved file,
 * removes every file and folder the apply created (newest first), removes
 * the journal, and the winstate folders the apply created if empty.
 * Idempotent: an undo interrupted midway can be run again.  The target is
 * reached only through a confined root (no link followed); it need not
 * look like Windows any more.  Only a journal whose every line verifies
 * is used (see apply_journal.c); a created file is removed only while it
 * is still the object apply made.
 * Errors: WS_E_USAGE (no journal found, or it belongs to another target),
 * WS_E_CORRUPT (journal damaged or a saved copy missing or damaged:
 * nothing is touched), WS_E_UNSUPPORTED (format-1 journal, or a newer
 * winstate's: the newest journal is never passed over), WS_E_TARGET
 * (read-only, or a link where the journal folder should be), WS_E_IO;
 * WS_PARTIAL when created files had changed and were left in place.
 */
int apply_undo(const char *target, const char *journal, struct ws_log *log,
	       struct apply_undo_report *r, struct ws_error *err);
/* The same, telling `progress` (may be NULL) how many journal lines are
 * undone (phase "undo", item: the path). */
int apply_undo_ex(const char *target, const char *journal, struct ws_log *log,
		  const struct ws_progress *progress, struct apply_undo_report *r,
		  struct ws_error *err);

/* ---- identities ----------------------------------------------------------- */

/* 1 when `s` is a well-formed SID string ("S-1-5-21-1-2-3-1001"). */
int apply_sid_valid(const char *s);

/*
 * Entra ID object ID (GUID, optional braces) -> its SID
 * "S-1-12-1-a-b-c-d": the GUID's 16 bytes in Windows order read as four
 * little-endian uint32.  Appended to out.  WS_E_USAGE when malformed.
 */
int apply_sid_from_object_id(const char *guid, struct ws_buf *out,
			     struct ws_error *err);

#endif
