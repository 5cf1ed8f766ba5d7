/*
 * reg_hash.h - key names in subkey lists as Windows computes them, and the
 * repair of a hive file written by hivex so its lists are what Windows
 * itself would have written.
 *
 * Windows compares, hashes and sorts key names by UTF-16 code unit after
 * upper-casing each unit with its upcase table (the one NTFS keeps in
 * $UpCase; built here by libntfs-3g's ntfs_upcase_table_build).  A
 * compressed name (nk flag KEY_COMP_NAME) is a string of Latin-1 units.
 *   - lh (hash leaf) element: hash = hash * 37 + upcase(unit), from 0.
 *   - lf (fast leaf) element: the first 4 units as bytes, 0-padded; all
 *     zero when one of them does not fit in a byte.
 *   - every leaf is sorted by the upper-cased units (a prefix sorts first),
 *     all leaves of one index root (ri) as a whole.
 *   - hives of format 1.3 and 1.4 hold lf leaves only: Windows writes lh
 *     leaves from format 1.5 on (every Windows-written 1.3 hive in
 *     ../shared/testdata has thousands of lf and not one lh).
 * hivex instead hashes the UTF-8 bytes with ASCII-only upper-casing, uses
 * the UTF-8 bytes as lf hints, orders non-ASCII names by UTF-8 bytes, and
 * starts a new lh leaf even in a 1.3 hive.  reg_fix_image() repairs all of
 * that (and stamps new keys' last-written times) in place; reg_hive_commit()
 * runs it on the temporary file before the rename.
 */
#ifndef REG_HASH_H
#define REG_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "util/ws_error.h"

/* Windows' default upper-case table: 65536 UTF-16 units. */
struct reg_upcase;

struct reg_upcase *reg_upcase_new(void);
void reg_upcase_free(struct reg_upcase *uc);
uint16_t reg_upcase_unit(const struct reg_upcase *uc, uint16_t unit);

/* A key name exactly as an nk record stores it. */
struct reg_name {
	const unsigned char *p;
	size_t len;            /* bytes */
	int comp;              /* Latin-1 bytes (KEY_COMP_NAME), else UTF-16LE */
};

/* The lh hash of a name. */
uint32_t reg_name_hash(const struct reg_upcase *uc, const struct reg_name *n);

/* The lf name hint of a name, as the 4 stored bytes read little-endian. */
uint32_t reg_name_hint(const struct reg_name *n);

/* Windows' order of two sibling names: <0, 0 (same key name), >0. */
int reg_name_cmp(const struct reg_upcase *uc, const struct reg_name *a,
		 const struct reg_name *b);

/* A key whose last-written time is set: node is the key's file offset
 * (a hivex node handle), filetime its new time. */
struct reg_stamp {
	uint64_t node;
	uint64_t filetime;
};

/* What reg_fix_image() saw and changed. */
struct reg_fix_stats {
	size_t keys;           /* key nodes visited */
	size_t lh, lf;         /* leaf elements seen (after conversion) */
	size_t hashes_fixed;   /* lh hashes rewritten */
	size_t hints_fixed;    /* lf hints rewritten */
	size_t converted;      /* lh leaves turned into lf (format <= 1.4) */
	size_t resorted;       /* keys whose subkey lists were re-ordered */
	size_t stamped;        /* key nodes given a stamp's time */
	size_t skipped;        /* damaged records left as they were */
};

/*
 * Repair a whole hive file image in memory (`img`, `len` bytes, base block
 * first): every subkey list reachable from the root gets Windows' hashes,
 * hints and order, lh leaves become lf leaves when the base block's minor
 * version is below 5, and each key listed in `stamps` (sorted by node, no
 * duplicates) gets its time.  Records it cannot make sense of are counted
 * in stats->skipped and left unchanged.  WS_E_HIVE only when the image has
 * no usable base block or root key.
 */
int reg_fix_image(unsigned char *img, size_t len, const struct reg_upcase *uc,
		  const struct reg_stamp *stamps, size_t nstamps,
		  struct reg_fix_stats *stats, const char *path,
		  struct ws_error *err);

/* reg_fix_image() on a file, rewritten in place when anything changed
 * (not fsynced: the caller does that). */
int reg_fix_file(const char *path, const struct reg_stamp *stamps,
		 size_t nstamps, struct reg_fix_stats *stats,
		 struct ws_error *err);

#endif
