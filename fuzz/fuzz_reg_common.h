/* fuzz_reg_common.h - what the registry fuzz targets and their seed
 * generator (reg_seeds.c) share: the small hive they build with
 * reg_hive_create() and reg/ setters, the dirty primary the log target
 * replays against, and the log entry layout (with hashes recomputed, so
 * mutated entries get past the Marvin32 checks). */
#ifndef FUZZ_REG_COMMON_H
#define FUZZ_REG_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reg/reg.h"
#define WS_REG_INTERNAL /* a white-box target: may use the private header */
#include "reg/reg_private.h"
#include "reg/reg_log.h"
#include "util/ws_fs.h"

#define FZ_LOG_SEED 0x82EF4D887A4E55C5ULL
#define FZ_TIMESTAMP 133000000000000000ULL
#define FZ_PRIMARY_SEQ1 8u
#define FZ_PRIMARY_SEQ2 7u

/* Flags of the first byte of a reg_hive input. */
#define FZ_HIVE_SEAL 1u    /* recompute the base block checksum */
#define FZ_HIVE_UNSAFE 2u  /* also open with REG_OPEN_UNSAFE */
#define FZ_HIVE_DIRTY 4u   /* also open with REG_OPEN_ALLOW_DIRTY */

/* Flags of the first byte of a reg_log input. */
#define FZ_LOG_HASH 1u     /* recompute each entry's two hashes */
#define FZ_LOG_TWO 2u      /* the same log as .LOG1 and .LOG2 */
#define FZ_LOG_BADBASE 4u  /* damage the primary's base block checksum */
#define FZ_LOG_RAW 8u      /* the input is the whole log, base block too */

static inline void fz_wr32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static inline uint32_t fz_rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* A small hive at `path` (which must not exist): a few keys and one value
 * of each common type; `extra` adds one more value (the "newer" state a
 * log entry carries).  0 on success. */
static inline int fz_make_hive(const char *path, unsigned minor, int extra)
{
	struct reg_create_opts o = { 0 };
	struct reg_hive *h;
	reg_node k, sub;
	static const char *const multi[] = { "one", "two", "" };
	static const unsigned char bin[] = { 0, 1, 2, 0xfe, 0xff };
	int rc;

	o.minor = minor;
	o.root_name = "ROOT";
	o.file_name = "\\??\\C:\\Users\\f\\ntuser.dat";
	o.timestamp = FZ_TIMESTAMP;
	if (reg_hive_create(path, &o, NULL) || reg_hive_open(path, REG_OPEN_WRITE, &h, NULL))
		return -1;
	rc = reg_key_create(h, reg_root(h), "Control Panel\\Desktop", &k, NULL) ||
	     reg_set_string(h, k, "WallPaper", REG_SZ, "C:\\Users\\f\\w\xc3\xa9.jpg", NULL) ||
	     reg_set_string(h, k, "Path", REG_EXPAND_SZ, "%USERPROFILE%\\x", NULL) ||
	     reg_set_dword(h, k, "Dw", 0x12345678u, NULL) ||
	     reg_set_qword(h, k, "Qw", 0x1122334455667788ull, NULL) ||
	     reg_set_binary(h, k, "", bin, sizeof(bin), NULL) ||
	     reg_set_multi_sz(h, k, "Multi", multi, 2, NULL) ||
	     reg_key_create(h, k, "WindowMetrics\\Deep\\Deeper", &sub, NULL) ||
	     reg_set_string(h, sub, "Link", REG_LINK, "\\Registry\\Machine", NULL) ||
	     reg_key_create(h, reg_root(h), "Software\\Vendor", &sub, NULL);
	if (!rc && extra)
		rc = reg_set_dword(h, sub, "Added", 7, NULL);
	if (!rc)
		rc = reg_hive_commit(h, NULL, NULL);
	reg_hive_close(h);
	return rc ? -1 : 0;
}

/* Set the base block's sequence numbers and reseal it. */
static inline void fz_set_seq(unsigned char *base, uint32_t seq1, uint32_t seq2)
{
	fz_wr32(base + 4, seq1);
	fz_wr32(base + 8, seq2);
	reg_base_seal(base);
}

/* The base block of a new-format log made from a hive's base block. */
static inline void fz_log_base(const unsigned char *hive_base, unsigned char out[512])
{
	memcpy(out, hive_base, 512);
	fz_wr32(out + 28, 6);
	fz_wr32(out + 508, reg_base_checksum(out));
}

/* Recompute the hashes of every "HvLE" entry of `log` (from offset 512)
 * whose size field is sane, as a writer would. */
static inline void fz_log_fix_hashes(unsigned char *log, size_t n)
{
	size_t off = 512;

	while (off + 40 <= n && !memcmp(log + off, "HvLE", 4)) {
		uint32_t size = fz_rd32(log + off + 4);
		uint64_t h;

		if (size < 40 || size % 512 || size > n - off)
			break;
		h = reg_log_marvin32(log + off + 40, size - 40, FZ_LOG_SEED);
		fz_wr32(log + off + 24, (uint32_t)h);
		fz_wr32(log + off + 28, (uint32_t)(h >> 32));
		h = reg_log_marvin32(log + off, 32, FZ_LOG_SEED);
		fz_wr32(log + off + 32, (uint32_t)h);
		fz_wr32(log + off + 36, (uint32_t)(h >> 32));
		off += size;
	}
}

#endif
