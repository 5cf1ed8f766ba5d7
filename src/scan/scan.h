/*
 * scan.h - capture of one device: the source installation's profiles, their
 * registry values and files selected by the rule set, streamed into a store.
 *
 * Use:
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
 * Errors: WS_E_NOT_WINDOWS / WS_E_HIVE / WS_E_IO / store codes stop the
 * device.  Per-object problems (an unreadable file, a dirty user hive) stop
 * it too unless continue_on_error is set; then they are warnings, counted
 * in the result, and scan_device returns WS_PARTIAL after committing.
 */
#ifndef SCAN_H
#define SCAN_H

#include <stdint.h>

#include "rules/rules.h"
#include "store/store.h"
#include "util/ws_error.h"
#include "util/ws_log.h"

struct scan_file_event {
	const char *path;        /* Windows path */
	uint64_t size;
	uint32_t user;           /* user index or STORE_SYSTEM */
	int not_captured;        /* cloud-only placeholder */
};

struct scan_opts {
	const char *source;              /* root of the Windows installation */
	const char *device;              /* NULL = the computer name */
	const struct rule_set *rules;    /* required */
	const char *const *rule_files;   /* recorded in the catalog */
	size_t n_rule_files;
	/* User selection (USMT /ui /ue): fnmatch patterns, case-insensitive,
	 * matched against "account", "DOMAIN\\account" forms and the SID.
	 * An include wins over an exclude. */
	const char *const *users_include;
	size_t n_users_include;
	const char *const *users_exclude;
	size_t n_users_exclude;
	unsigned users_since_days;       /* 0 = no limit (USMT /uel) */
	int64_t now;                     /* Unix seconds for users_since; 0 = time() */
	int continue_on_error;
	int estimate;                    /* count only: no store writes (store may be NULL) */
	const char *exclude_host_dir;    /* the store folder, never captured */
	/* Called for every file selected (for --list-files); may be NULL. */
	void (*on_file)(void *ctx, const struct scan_file_event *ev);
	void *on_file_ctx;
	struct ws_log *log;              /* warnings and notes; may be NULL */
	const struct ws_progress *progress;
};

void scan_opts_init(struct scan_opts *o);

struct scan_result {
	char device[256];
	char scan_id[STORE_SCAN_ID_MAX];
	unsigned users;                  /* users captured */
	unsigned users_skipped;          /* system, default, stale, filtered */
	uint64_t values, keys;
	uint64_t files, dirs, cloud;     /* cloud = placeholders recorded, not read */
	uint64_t bytes;                  /* content bytes selected */
	uint64_t bytes_new;              /* content bytes newly stored */
	unsigned warnings, errors;       /* per-object problems */
	unsigned components_skipped;     /* unsupported/erroneous rule components */
};

int scan_device(struct store *st, const struct scan_opts *o,
		struct scan_result *res, struct ws_error *err);

#endif
