/*
 * report.h - the wave report: what a store says about a wave of devices and
 * targets, collected into one model that the CLI prints as text, JSON, CSV
 * or HTML (printing is the CLI's).  Sources: the catalogs of the scans, and
 * the event records (docs/store-format.md §13) of scan attempts, applies and
 * first-sign-in outcomes.  Also: collecting first-sign-in result records
 * from a target into the store, and finding a user across devices.
 *
 *   struct report r;
 *   report_build(st, &r, &err);  ... r.devices, r.applies ...  report_release(&r);
 *
 * Every string of the model comes from the store and is untrusted: printers
 * escape it for their format.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/ws_error.h"
#include "util/ws_log.h"

/* One device: its newest attempt and its newest committed scan. */
struct report_device {
	char *device;                    /* as its newest scan or attempt names it */
	char *computer, *os_product, *os_build; /* of the newest scan ("" unknown) */
	/* newest attempt: a scan event, else (stores without events) the
	 * newest scan itself */
	const struct store_event *last_attempt; /* NULL: no event */
	int64_t attempt_time;            /* Unix seconds */
	int attempt_status;              /* exit status */
	/* newest committed scan ("" scan_id: none) */
	char scan_id[STORE_SCAN_ID_MAX];
	int64_t scan_started, scan_finished;
	uint64_t users, values, files, bytes;
	int has_bytes_new;               /* its scan event was found */
	uint64_t bytes_new;              /* content the scan added to the store */
	char **accounts;                 /* users of the newest scan */
	size_t n_accounts;
	size_t scans;                    /* committed scans in the store */
	size_t attempts, failures;       /* scan events */
	uint64_t warnings, errors;       /* of the newest attempt */
};

/* Windows 10 -> 11 verdicts summed over every apply. */
struct report_verdict {
	char *component, *verdict;
	uint64_t applies, values, files;
};

struct report_totals {
	size_t devices, devices_captured, devices_failed; /* failed: newest attempt */
	size_t scans, users;
	uint64_t bytes, bytes_new;       /* newest scans; new: where known */
	uint64_t dedup_saved;            /* bytes - bytes_new (scans with events) */
	uint64_t store_bytes, packs;     /* pack files on disk */
	size_t applies, applies_failed, applies_partial;
	size_t users_offline, users_staged, users_skipped;
	size_t signins, signins_restored, signins_failed, signins_pending;
	uint64_t carried, translated, dropped; /* verdicts: groups met */
};

struct report {
	struct store_event_list events;  /* owns every event */
	struct report_device *devices;   /* by device name */
	size_t n_devices;
	const struct store_event **applies;  /* oldest first */
	size_t n_applies;
	const struct store_event **signins;  /* newest per target and key */
	size_t n_signins;
	struct report_verdict *verdicts; /* by component, then verdict */
	size_t n_verdicts;
	struct report_totals t;
	size_t catalogs_damaged;
	char **problems;                 /* damaged events and catalogs */
	size_t n_problems;
};

/*
 * Build the report of the store.  Damaged catalogs and events are counted
 * and named in r->problems, never fatal.  Errors: store listing errors.
 * Release with report_release() whatever the result.
 */
int report_build(struct store *st, struct report *r, struct ws_error *err);
void report_release(struct report *r);

/* The apply a first-sign-in outcome belongs to: the newest apply onto the
 * same target computer that staged a bundle with the outcome's key; NULL
 * when none (its `device` is the source device). */
const struct store_event *report_signin_apply(const struct report *r,
					      const struct store_event *signin);

/* "ok", "partial" or "failed" for an exit status. */
const char *report_result_word(int status);

/* ---- first-sign-in outcomes -------------------------------------------- */

struct report_collect_stats {
	unsigned found;        /* result files read */
	unsigned recorded;     /* new events written */
	unsigned unchanged;    /* already in the store */
	unsigned refused;      /* names or sizes refused (warnings) */
};

/*
 * Read the result records a target's first-sign-in restores wrote
 * (ProgramData\winstate\results\<key>.txt, docs/first-sign-in.md) and record
 * each new or changed one as a first-sign-in event.  The target is reached
 * through a confined root (no link followed); a file is read only when its
 * name is a SID or A-<32 hex> with .txt, it is a regular file of at most
 * 1 MiB; its text is untrusted (control characters kept as \xNN).  A target
 * without results\ has nothing to collect (WS_OK).  Errors: WS_E_NOT_WINDOWS
 * (not a Windows installation), WS_E_TARGET, store write errors.
 */
int report_collect_signins(struct store *st, const char *target,
			   struct ws_log *log, struct report_collect_stats *stats,
			   struct ws_error *err);

/* Classify the last line of a result record: "restored", "failed",
 * "retrying", "gave-up", "declined", "expired" or "unknown". */
const char *report_signin_outcome(const char *line);

/* ---- a user across devices --------------------------------------------- */

struct report_user_hit {
	char *device, *scan_id;
	int64_t started;
	char *account, *sid, *profile;
	uint64_t last_use_ft;
	int newest;                      /* in the device's newest scan */
};

struct report_user_hits {
	struct report_user_hit *v;
	size_t n, alloc;
};

/*
 * Every user of every scan whose account, user name (after the last
 * backslash), SID or profile folder name matches `pattern` (fnmatch,
 * case-insensitive; a pattern without wildcards matches the whole name),
 * by device then newest scan first.  Damaged catalogs are skipped.
 */
int report_find_user(struct store *st, const char *pattern,
		     struct report_user_hits *hits, struct ws_error *err);
void report_user_hits_release(struct report_user_hits *hits);

#endif
