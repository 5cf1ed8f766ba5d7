/*
 * apply.h - replay one scan from a store onto an offline Windows
 * installation (the target).
 *
 * Offline mode (this module's current scope): for every user of the scan
 * whose profile exists on the target (matched by SID, then by account name,
 * after --map-user mapping), registry values are written into that profile's
 * NTUSER.DAT / UsrClass.dat, machine values into SOFTWARE / SYSTEM, and
 * files are placed into the target profile.  Every hive is written through
 * reg/ and committed atomically once all its values are set; a dirty target
 * hive is refused; values hivex cannot write correctly (big data in a
 * format >= 1.4 hive) are deferred and reported, never written.
 *
 * Collisions follow USMT: a registry value of the source overwrites the
 * target's; a file that exists on the target with other content is kept and
 * the source's lands beside it as "name(1).ext", "(2)" ... unless
 * conflict = SOURCE (overwrite) or DESTINATION (keep target, skip source).
 * Identical files and values are left alone.
 *
 * Paths: the source profile folder inside string values (REG_SZ,
 * REG_EXPAND_SZ, REG_MULTI_SZ) and file paths is rewritten to the target
 * profile folder.  A catalog path with "..", "." or empty components, or
 * one that would pass through a link on the target, is refused.
 *
 * With dry_run nothing on the target is touched: every action is still
 * computed and passed to on_action, so the caller can show the plan.
 */
#ifndef APPLY_H
#define APPLY_H

#include <stdint.h>

#include "store/store.h"
#include "util/ws_error.h"
#include "util/ws_log.h"

enum apply_conflict {
	APPLY_CONFLICT_RENAME = 0,   /* USMT default: keep target, add name(1).ext */
	APPLY_CONFLICT_SOURCE,       /* source wins: overwrite */
	APPLY_CONFLICT_DESTINATION   /* target wins: skip the source's file */
};

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
	APPLY_DIR_CREATE         /* folder created */
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
	const char *target;              /* root of the target installation */
	const char *device;              /* scan's device (required) */
	const char *scan_id;             /* NULL = the device's newest scan */
	int dry_run;
	int conflict;                    /* enum apply_conflict */
	/* "OLD=NEW": OLD a SID, account or DOMAIN\\account of the source;
	 * NEW an account name or SID of an existing target profile. */
	const char *const *map_user;
	size_t n_map_user;
	void (*on_action)(void *ctx, const struct apply_action *a);
	void *on_action_ctx;
	struct ws_log *log;
	const struct ws_progress *progress;
};

void apply_opts_init(struct apply_opts *o);

struct apply_report {
	char scan_id[STORE_SCAN_ID_MAX];
	unsigned users_applied, users_missing;
	uint64_t values_set, values_same, values_deferred, values_skipped;
	uint64_t keys_created;
	uint64_t files_placed, files_renamed, files_overwritten, files_same;
	uint64_t files_kept, files_skipped, dirs_created;
	uint64_t bytes;                  /* content bytes written */
	unsigned hives_committed;
};

/*
 * Apply.  Errors: WS_E_NOT_WINDOWS (target), WS_E_TARGET (read-only
 * target), WS_E_USAGE (no such device/scan, malformed --map-user),
 * WS_E_NOUSER (no user of the scan has a profile on the target: nothing is
 * written), WS_E_HIVE (a target hive is damaged or dirty), store codes,
 * WS_E_IO / WS_E_NOSPACE.  Returns WS_PARTIAL when it completed but some
 * users or objects were not applied (each reported through on_action and
 * the log).
 */
int apply_scan(struct store *st, const struct apply_opts *o,
	       struct apply_report *r, struct ws_error *err);

#endif
