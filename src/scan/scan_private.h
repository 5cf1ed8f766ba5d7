/*
 * scan_private.h - pieces of the scanner shared between its files: offline
 * account names.
 */
#ifndef SCAN_PRIVATE_H
#define SCAN_PRIVATE_H

#ifndef WS_SCAN_INTERNAL
#error "scan_private.h is private to src/scan/ (its files and tests define WS_SCAN_INTERNAL)"
#endif

#include "reg/reg.h"
#include "reg/reg_map.h"
#include "util/ws_buf.h"
#include "util/ws_error.h"
#include "util/ws_strset.h"
#include "util/ws_log.h"
#include "volume/volume.h"

/* Account names known offline. */
struct scan_names;

/*
 * Read the SAM hive (local accounts and the machine SID) and LogonUI's last
 * signed-in user from `software`.  Never fails: what cannot be read is
 * reported to `log` as a note and left unknown.
 */
struct scan_names *scan_names_load(struct vol *vol, struct reg_hive *software,
				   struct ws_log *log);
void scan_names_free(struct scan_names *n);

/* Domain ("" when unknown) and user name of profile `p`; `computer` is the
 * local domain name. */
void scan_names_resolve(const struct scan_names *n, const struct vol_profile *p,
			const char *computer, struct ws_buf *domain,
			struct ws_buf *user);

/* ---- one device's scan (scan.c, scan_walk.c) ---- */

/* Rule texts: each deciding rule is stored once per scan. */
struct rule_slot {
	char *text;
	uint32_t index;
};

struct rule_table {
	struct rule_slot *slots;  /* open addressing, power-of-two size */
	size_t size, used;
};

struct scan {
	const struct scan_opts *o;
	struct vol *vol;
	struct store_writer *w;
	struct scan_result *res;
	struct rule_table rules;
	struct ws_log *log;
	struct scan_names *names;
	struct reg_hive *software, *system;   /* machine hives as the volume reads them */

	/* current pass */
	uint32_t user;                  /* user index or STORE_SYSTEM */
	const struct vol_profile *prof; /* NULL in the system pass */
	const char *user_label;
	const char *cur_item;            /* file being recorded (progress), or NULL */
	struct rule_sel *sel;
	struct reg_hive *ntuser, *usrclass;
	int ntuser_failed, usrclass_failed; /* tried and reported already */
	int ntuser_replayed;            /* NTUSER.DAT read through its logs */
	int counting;                   /* precount pass: totals only, silent */
	/* host folders the current file pass must not enter */
	char **skip_dirs;
	size_t n_skip, a_skip;
	/* paths a user pass decided outside profiles (each with its mark:
	 * 'R' recorded or 'X' left out by a rule; keyed, the names are the
	 * source's) and host folders its rules left out there: the system
	 * pass does not decide them again */
	struct ws_strset outside;
	char **outside_dirs;
	size_t n_outside_dirs, a_outside_dirs;

	/* deciding rules seen lately and their indexes (scan_rule_index),
	 * by the decision's strings, which belong to the pass's selection:
	 * cleared with it (scan_rule_memo_clear) */
	struct scan_rule_memo {
		const char *file, *component, *pattern;
		long line;
		int kind;
		uint32_t index;
	} ri[64];

	uint64_t objects;
	uint64_t total_files, total_bytes; /* from the precount, 0 = unknown */
	struct ws_buf tmp_path;
	struct ws_buf sel_node;         /* sel_entry: a file's folder */
};

/* scan.c: progress events, a per-object problem (warn and go on, or stop),
 * the catalog index of a deciding rule's text. */
void scan_progress(struct scan *s, const char *phase);
int scan_object_problem(struct scan *s, struct ws_error *err,
			const struct ws_error *what);
void scan_rule_memo_clear(struct scan *s);
int scan_rule_index(struct scan *s, const struct rule_decision *d,
		    uint32_t *out, struct ws_error *err);

/* scan_walk.c: a user's hive opened once per pass, host folders a file pass
 * must not enter, one pass over the selection's roots. */
int scan_walk_user_hive(struct scan *s, enum reg_hive_kind kind, int quiet,
			struct reg_hive **out, struct ws_error *err);
int scan_walk_under_dir(const char *path, const char *dir);
void scan_walk_outside_free(struct scan *s);
void scan_walk_skip_outside_dirs(struct scan *s);
void scan_walk_skip_dir_add(struct scan *s, const char *host);
void scan_walk_skip_dirs_clear(struct scan *s);
int scan_walk_run_pass(struct scan *s, const struct rule_env *env, int context,
		       const struct rule_env *const *users, size_t nusers,
		       long current, struct ws_error *err);

#endif
