/*
 * scan.h - capture of offline Windows installations into a store: one device
 * (scan_device), or a wave of many devices scanned in parallel into one
 * store (scan_fleet), listed on the command line or in an inventory CSV.
 *
 * One device:
 *   struct scan_opts o; scan_opts_init(&o); o.source = ...; o.rules = rs;
 *   struct scan_result r;
 *   rc = scan_device(store, &o, &r, &err);     (store NULL with o.estimate)
 *
 * What is walked: for the system context and for each selected user, the
 * rule engine compiles a selection for that context's variables; only the
 * registry keys and folders that some include pattern can reach are walked
 * (rule_sel_root / rule_sel_dir).  HKCU lives in the user's NTUSER.DAT and
 * UsrClass.dat, HKLM in Windows\System32\config.  Junctions and symlinks are
 * never followed; cloud-only placeholders are recorded, not read.  Files of
 * user profiles are captured in their user's pass only; the store's own
 * folder is never captured when it lies on the source.
 *
 * Users (USMT /ui /ue /uel, offline): every person's profile is scanned
 * unless filtered.  Account names are resolved offline: local accounts from
 * the SAM hive (SAM\Domains\Account\Users\Names, the RID matched against the
 * SID's last part within the machine SID) as "COMPUTER\name"; the last
 * signed-in user from LogonUI [LastLoggedOnSAMUser]; Entra ID profiles
 * (S-1-12-1-...) as "AzureAD\<folder>"; others by their profile folder name
 * with an unknown domain.  The SID always identifies the user.
 * Order of decision: a --users-include match always scans; with
 * users_since_days, the last use decides (USMT: /uel beats /ue); else a
 * --users-exclude match skips.  System/service profiles, Default, stale
 * ProfileList entries are skipped with a note; Public is captured in the
 * system context.
 *
 * Store apps (with o.apps): each user's packages (apps_inventory: UsrClass.dat repository,
 * AppxAllUserStore, %LOCALAPPDATA%\Packages folders) become catalog app
 * records for apply's reinstall list; an unreadable inventory is a warning.
 *
 * Dirty hives: a hive whose sequence numbers differ (user NTUSER.DAT,
 * UsrClass.dat, SAM, and SOFTWARE/SYSTEM when vol_open flags them) has its
 * .LOG1/.LOG2 replayed into a private copy in a temporary folder, which is
 * read instead; the source is never modified.  A user hive that cannot be
 * read (damaged, or dirty without usable logs) stops the device with
 * WS_E_HIVE, or with continue_on_error the user is scanned without registry
 * data and an error is counted.
 *
 * Device names are case-insensitive (Windows computer names are): when the
 * store already holds scans of the device under another spelling, the new
 * scan takes the spelling of the device's newest scan (res->device).
 *
 * Operator slips: a --users-include pattern that matches none of the
 * device's user profiles, or a selection of no user at all (whether the
 * device has no profile, the filters left every one out, or its newest
 * scan in the store had users), fails the device with WS_E_EMPTY before
 * anything is written; the message names the pattern and the device's
 * profiles.  o->allow_empty turns both into warnings (an empty scan is
 * then committed; apply refuses it, prune keeps the newest scan with users).
 *
 * Errors: WS_E_NOT_WINDOWS / WS_E_HIVE / WS_E_IO / store codes stop the
 * device.  Per-object problems (an unreadable file, an unreadable user
 * hive) stop it too unless continue_on_error is set; then they are
 * warnings, counted in the result, and scan_device returns WS_PARTIAL after
 * committing.
 */
#ifndef SCAN_H
#define SCAN_H

#include <signal.h>
#include <stdint.h>

#include "rules/rules.h"
#include "store/store.h"
#include "util/ws_error.h"
#include "util/ws_log.h"

struct scan_file_event {
	const char *device;
	const char *path;        /* Windows path */
	uint64_t size;
	uint32_t user;           /* user index or STORE_SYSTEM */
	int not_captured;        /* cloud-only placeholder */
};

struct bd_keys;

struct scan_opts {
	const char *source;              /* what --source names: a folder, a disk,
					    an image, SOURCE@partN (vol_source_open) */
	const struct bd_keys *bde_keys;  /* BitLocker keys for such sources; may be NULL */
	const char *device;              /* NULL = the computer name */
	const struct rule_set *rules;    /* required */
	const char *const *rule_files;   /* recorded in the catalog */
	size_t n_rule_files;
	/* User selection (USMT /ui /ue): fnmatch patterns, case-insensitive,
	 * matched against "user", "DOMAIN\\user" and the SID (see above). */
	const char *const *users_include;
	size_t n_users_include;
	const char *const *users_exclude;
	size_t n_users_exclude;
	unsigned users_since_days;       /* 0 = no limit (USMT /uel) */
	/* USMT /uel:YYYY/MM/DD: Unix seconds; a profile last used before
	 * that time is left out (as with users_since_days).  0 = none. */
	int64_t users_since_time;
	/* Operator slips (WS_E_EMPTY, nothing committed): a users_include
	 * pattern that matches no user profile of the device (except the
	 * first n_users_include_optional ones: a wave's shared patterns), and
	 * a scan that selects no user.  allow_empty accepts both (warnings). */
	size_t n_users_include_optional;
	int allow_empty;
	int64_t now;                     /* Unix seconds for users_since; 0 = time() */
	int continue_on_error;
	int estimate;                    /* count only: no store writes (store may be NULL) */
	int precount;                    /* count files first so progress has a total */
	int apps;                        /* record each user's Store apps (the CLI does) */
	const char *exclude_host_dir;    /* the store folder, never captured */
	const char *tmp_dir;             /* for replayed hive copies; NULL = $TMPDIR or /tmp */
	/* Called for every file selected (for --list-files); may be NULL. */
	void (*on_file)(void *ctx, const struct scan_file_event *ev);
	void *on_file_ctx;
	/* Opens a captured file read-only and returns the descriptor, or -1
	 * with errno set.  NULL = open(2) with O_NOFOLLOW|O_NONBLOCK (a file
	 * turned into a FIFO meanwhile must not hang the scan).  Tests use it
	 * to inject read failures. */
	int (*open_file)(void *ctx, const char *host_path);
	void *open_file_ctx;
	/* Called once the device name is known, before anything is written;
	 * nonzero refuses the name (a fleet's duplicate): the device then
	 * fails with WS_E_USAGE.  May be NULL. */
	int (*claim_device)(void *ctx, const char *device);
	void *claim_device_ctx;
	struct ws_log *log;              /* warnings and notes; may be NULL */
	const struct ws_progress *progress;
	/* Polled at safe points: nonzero stops the operation with
	 * WS_E_CANCELED, what is done kept (Ctrl-C).  May be NULL. */
	const volatile sig_atomic_t *cancel;
};

void scan_opts_init(struct scan_opts *o);

struct scan_result {
	char device[256];
	char scan_id[STORE_SCAN_ID_MAX];
	/* identity of the installation (empty when it could not be opened) */
	char computer[256];
	char os_product[128], os_build[32], os_edition[64], os_arch[32];
	unsigned users;                  /* users captured */
	unsigned users_skipped;          /* person profiles skipped: stale, filtered */
	unsigned users_no_registry;      /* captured without registry data (bad hive) */
	unsigned hives_replayed;         /* dirty hives read through their logs */
	uint64_t values, keys;
	uint64_t files, dirs, cloud;     /* cloud = placeholders recorded, not read */
	uint64_t bytes;                  /* content bytes selected */
	uint64_t bytes_new;              /* content bytes newly stored */
	uint64_t packs_kept, bytes_kept; /* scan not committed (interrupted,
					    failed): packs closed and the content
					    bytes in them, which a rerun reuses */
	unsigned warnings, errors;       /* per-object problems */
	unsigned components_skipped;     /* unsupported/erroneous rule components */
	unsigned apps;                   /* Store app records (all users) */
};

int scan_device(struct store *st, const struct scan_opts *o,
		struct scan_result *res, struct ws_error *err);

/*
 * The user selection alone (for tests and `rules explain`): is a user with
 * this domain ("" = unknown), user name and SID matched by one of the
 * patterns?  A pattern with a backslash is matched against "DOMAIN\\user"
 * when the domain is known, else its part after the last backslash against
 * the user name; a pattern without one against the user name and the SID.
 */
int scan_users_match(const char *const *pats, size_t n, const char *domain,
		     const char *user, const char *sid);

/*
 * A users-since limit as USMT's /uel writes it: a number of days (1 to
 * 36500) into *days, or a day "YYYY/MM/DD" (also "YYYY-MM-DD"; month and
 * day may have one digit) into *since as Unix seconds of that day's start,
 * UTC.  The other output is set to 0.  "0" is USMT's "the users signed in
 * now": an offline installation has nobody signed in, so it could only
 * select no one — refused (WS_E_USAGE) with that explanation, like
 * anything else that is neither form.
 */
int scan_users_since_parse(const char *text, unsigned *days, int64_t *since,
			   struct ws_error *err);

/* ---- many devices ------------------------------------------------------- */

/* One device of a wave. */
struct scan_target {
	char *device;            /* NULL = the computer name */
	char *source;
	char **users_include;    /* added to the wave's patterns */
	size_t n_users_include;
	char **users_exclude;
	size_t n_users_exclude;
	long line;               /* inventory line, 0 = given on the command line */
	int bad;                 /* not scannable: code and message below */
	int code;
	char *message;
};

struct scan_wave {
	struct scan_target *v;
	size_t n, alloc;
};
#define SCAN_WAVE_INIT { NULL, 0, 0 }

/* Append a device given on the command line (strings copied). */
void scan_wave_add(struct scan_wave *w, const char *source, const char *device);
void scan_wave_release(struct scan_wave *w);

/*
 * Read an inventory: CSV (RFC 4180 quoting, "" inside quotes, CRLF or LF,
 * UTF-8 with or without BOM), a header line naming the columns `device`,
 * `source` and optionally `users-include`, `users-exclude` (any order,
 * case-insensitive); pattern columns hold patterns separated by ';'.
 * Empty lines and lines starting with '#' are ignored.  A malformed line
 * (unbalanced quote, wrong field count, empty source) and a device name
 * already used on an earlier line become `bad` targets (WS_E_USAGE, the
 * message naming the line) so the wave can report them and go on.
 * Errors: WS_E_IO (unreadable), WS_E_USAGE (no header, or no `source`
 * column, file over 64 MiB), with err->line set.
 */
int scan_inventory_load(const char *path, struct scan_wave *w,
			struct ws_error *err);

/* Same from memory; `name` is what messages call the file. */
int scan_inventory_parse(const char *name, const char *data, size_t len,
			 struct scan_wave *w, struct ws_error *err);

/*
 * For a rerun of a wave (scan --only-failed): drop from `w` every target
 * whose newest scan event in the store (docs/store-format.md §13) ended
 * well (WS_OK or WS_PARTIAL).  A target is matched by its device name (any
 * case) when the inventory gives one, else by its source folder as written.
 * Failed targets, bad lines and targets never tried stay.  *dropped (may be
 * NULL) gets the count.  Errors: store listing errors.
 */
int scan_wave_keep_failed(struct store *st, struct scan_wave *w, size_t *dropped,
			  struct ws_error *err);

/* What happened to one target. */
struct scan_report {
	const struct scan_target *target;
	int status;                      /* WS_OK, WS_PARTIAL or the failure code */
	struct ws_error err;             /* the failure, when status is one */
	struct scan_result res;
};

struct scan_fleet_opts {
	const char *store_dir;           /* NULL with base.estimate */
	struct store_open_opts store;    /* each worker opens its own handle */
	unsigned jobs;                   /* worker threads; 0 = 1 */
	/* Template for every device: rules, user filters (the target's own
	 * patterns are added), flags, callbacks.  source/device/claim_device
	 * are set per target.  base.log and base.on_file are called from the
	 * workers one at a time (the fleet serialises them); log lines carry
	 * the device name in `where` ("PC-1: C:\\Users\\..."). */
	struct scan_opts base;
	/* Write an event record per target into the store (committed or
	 * failed, docs/store-format.md §13); not with base.estimate. */
	int record_events;
	/* Called (serialised) when a device starts and when it ends; may be
	 * NULL.  `rep` is NULL at the start. */
	void (*on_device)(void *ctx, size_t index, const struct scan_report *rep);
	void *on_device_ctx;
};

/*
 * Scan every target of `w` with up to opts->jobs threads, each with its own
 * store handle and volume; one device's failure never stops the others.
 * reports[i] (w->n entries, caller-allocated) gets target i's outcome; bad
 * targets are reported without being scanned.  Two targets that end up
 * with the same device name (any case): the later one fails with WS_E_USAGE.
 * With several targets, the base's users_include patterns apply to every
 * device and need not match on each (n_users_include_optional); a
 * target's own patterns must match on its device.
 * Returns the wave's status (scan_fleet_status), or an error code when no
 * device could be attempted (store cannot be opened: err filled).
 */
int scan_fleet(const struct scan_fleet_opts *opts, const struct scan_wave *w,
	       struct scan_report *reports, struct ws_error *err);

/* WS_OK if every report is WS_OK; else the highest failure code if any
 * device failed; else WS_PARTIAL. */
int scan_fleet_status(const struct scan_report *reports, size_t n);

/* 1 when a cancel stopped a device of the wave (its status WS_E_CANCELED:
 * interrupted, or not started), whatever the wave's status is (another
 * device's failure ranks above a cancel); 0 when every device ended on
 * its own, as when Ctrl-C comes after the last one. */
int scan_fleet_stopped(const struct scan_report *reports, size_t n);

#endif
