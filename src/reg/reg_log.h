/*
 * reg_log.h - replay of a dirty hive's transaction logs (new format, "HvLE"
 * log entries, Windows 8.1 and later) into a recovered private copy, the
 * way Windows does when it loads the hive (regf specification, "Format of
 * transaction log files").  The primary file and its logs are never
 * modified.
 *
 * Old-format logs (a "DIRT" dirty vector, Windows XP to 8) are not
 * replayed: a dirty hive whose only logs are of that format gives
 * WS_E_UNSUPPORTED.
 */
#ifndef REG_LOG_H
#define REG_LOG_H

#include "reg/reg.h"

/* What reg_log_recover() did. */
struct reg_log_result {
	unsigned applied;       /* log entries written into the copy */
	uint32_t first_seq;     /* sequence number of the first applied entry */
	uint32_t last_seq;      /* ... and of the last one (0 if none) */
	int was_dirty;          /* the primary was dirty (or its header damaged) */
};

/*
 * Write to `out` (which must not exist) the primary hive `primary` with the
 * entries of `logs` (normally {".LOG1", ".LOG2"}, NULL entries and missing
 * files skipped) whose sequence number is at least the primary's secondary
 * sequence number applied in sequence order, stopping at the first gap or
 * at the first entry whose hashes or fields are wrong (an entry may grow the
 * hive only as far as its pages reach, so memory and the copy's size stay
 * proportional to the files read).  The copy is marked clean
 * (both sequence numbers = the last applied entry's) and can be opened
 * with reg_hive_open() without REG_OPEN_ALLOW_DIRTY.  A primary that is
 * not dirty is copied unchanged.
 * Errors: WS_E_IO (read/write), WS_E_HIVE (primary not a hive, or dirty
 * with no usable log), WS_E_UNSUPPORTED (only old-format logs).
 */
int reg_log_recover(const char *primary, const char *const *logs, size_t nlogs,
		    const char *out, struct reg_log_result *res,
		    struct ws_error *err);

/*
 * Find `<primary>.LOG1` and `<primary>.LOG2` beside the primary, names
 * compared case-insensitively as on NTFS.  Each found path is appended to
 * log1/log2 (left empty when absent).
 */
int reg_log_find(const char *primary, struct ws_buf *log1, struct ws_buf *log2,
		 struct ws_error *err);

/* Marvin32 hash (as used by log entries) of `len` bytes with `seed`. */
uint64_t reg_log_marvin32(const void *data, size_t len, uint64_t seed);

#endif
