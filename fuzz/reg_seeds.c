/* reg_seeds.c - write the seed corpora of fuzz_reg_hive and fuzz_reg_log
 * (fuzz/corpus/reg_hive, fuzz/corpus/reg_log): small hives made by
 * reg_hive_create() and reg/ setters, truncated and damaged variants, and
 * transaction logs whose entries carry a newer state of the log target's
 * primary.  Usage: reg_seeds OUTDIR (normally fuzz/corpus). */
#include <stdio.h>

#include "fuzz_reg_common.h"
#include "util/ws_buf.h"

static char *tmp;

static void put(const char *out, const char *sub, const char *name, const void *data,
		size_t len)
{
	struct ws_buf p = WS_BUF_INIT;

	ws_buf_addf(&p, "%s/%s", out, sub);
	if (ws_mkdir_p(p.buf, WS_E_IO, NULL))
		exit(1);
	ws_buf_addf(&p, "/%s", name);
	if (ws_write_file_atomic(p.buf, data, len, 0, WS_E_IO, NULL))
		exit(1);
	ws_buf_release(&p);
}

/* A hive file's bytes. */
static void hive(unsigned minor, int extra, struct ws_buf *out)
{
	struct ws_buf p = WS_BUF_INIT;
	static int n;

	ws_buf_addf(&p, "%s/h%d", tmp, n++);
	if (fz_make_hive(p.buf, minor, extra) || ws_read_file(p.buf, 1u << 20, out, NULL))
		exit(1);
	unlink(p.buf);
	ws_buf_release(&p);
}

static void hive_seed(const char *out, const char *name, unsigned flags, const void *d,
		      size_t len)
{
	struct ws_buf b = WS_BUF_INIT;

	ws_buf_addch(&b, (char)flags);
	ws_buf_add(&b, d, len);
	put(out, "reg_hive", name, b.buf, b.len);
	ws_buf_release(&b);
}

/* One log entry: `pages` pairs of (offset, size) into `img` (a whole hive). */
static void entry(struct ws_buf *log, uint32_t seq, uint32_t hbins, const struct ws_buf *img,
		  const uint32_t (*pages)[2], uint32_t np)
{
	size_t start = log->len, size = 40 + 8 * (size_t)np;
	unsigned char h[40] = "HvLE";

	for (uint32_t i = 0; i < np; i++)
		size += pages[i][1];
	size = (size + 511) / 512 * 512;
	fz_wr32(h + 4, (uint32_t)size);
	fz_wr32(h + 12, seq);
	fz_wr32(h + 16, hbins);
	fz_wr32(h + 20, np);
	ws_buf_add(log, h, sizeof(h));
	for (uint32_t i = 0; i < np; i++) {
		unsigned char pr[8];

		fz_wr32(pr, pages[i][0]);
		fz_wr32(pr + 4, pages[i][1]);
		ws_buf_add(log, pr, 8);
	}
	for (uint32_t i = 0; i < np; i++) {
		size_t o = REG_BASE_BLOCK_SIZE + pages[i][0], l = pages[i][1];
		unsigned char zero[4096] = { 0 };

		if (o + l <= img->len) {
			ws_buf_add(log, img->buf + o, l);
		} else {
			while (l) {
				size_t c = l < sizeof(zero) ? l : sizeof(zero);

				ws_buf_add(log, zero, c);
				l -= c;
			}
		}
	}
	while (log->len - start < size)
		ws_buf_addch(log, 0);
}

static void log_seed(const char *out, const char *name, unsigned flags, struct ws_buf *log)
{
	struct ws_buf b = WS_BUF_INIT;

	fz_log_fix_hashes((unsigned char *)log->buf, log->len);
	ws_buf_addch(&b, (char)flags);
	if (flags & FZ_LOG_RAW)
		ws_buf_add(&b, log->buf, log->len);
	else
		ws_buf_add(&b, log->buf + 512, log->len - 512);
	put(out, "reg_log", name, b.buf, b.len);
	ws_buf_release(&b);
	ws_buf_reset(log);
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/wsfuzz-seeds-XXXXXX";
	struct ws_buf h5 = WS_BUF_INIT, h3 = WS_BUF_INIT, newer = WS_BUF_INIT, log = WS_BUF_INIT;
	unsigned char lbase[512];
	uint32_t hb;

	if (argc != 2) {
		fprintf(stderr, "usage: reg_seeds OUTDIR\n");
		return 2;
	}
	tmp = mkdtemp(tmpl);
	if (!tmp)
		return 1;
	hive(5, 0, &h5);
	hive(3, 0, &h3);
	hive(5, 1, &newer);

	/* reg_hive: whole hives, with and without the checksum fixed up */
	hive_seed(argv[1], "v15", FZ_HIVE_SEAL | FZ_HIVE_UNSAFE, h5.buf, h5.len);
	hive_seed(argv[1], "v13", FZ_HIVE_SEAL, h3.buf, h3.len);
	hive_seed(argv[1], "v15-raw", 0, h5.buf, h5.len);
	hive_seed(argv[1], "truncated", FZ_HIVE_SEAL | FZ_HIVE_UNSAFE, h5.buf, 4096 + 700);
	hive_seed(argv[1], "base-only", FZ_HIVE_SEAL, h5.buf, 4096);
	fz_set_seq((unsigned char *)h3.buf, 5, 4);
	hive_seed(argv[1], "dirty", FZ_HIVE_DIRTY, h3.buf, h3.len);
	{
		/* garbage in the cells: every 61st byte of the bins flipped */
		struct ws_buf g = WS_BUF_INIT;

		ws_buf_add(&g, h5.buf, h5.len);
		for (size_t i = 4096 + 32; i < g.len; i += 61)
			g.buf[i] = (char)(g.buf[i] ^ 0x5a);
		hive_seed(argv[1], "garbage", FZ_HIVE_SEAL | FZ_HIVE_UNSAFE, g.buf, g.len);
		ws_buf_release(&g);
	}
	hive_seed(argv[1], "empty", FZ_HIVE_SEAL, "", 0);

	/* reg_log: entries carrying the newer state (one more value) */
	hb = (uint32_t)(newer.len - REG_BASE_BLOCK_SIZE);
	fz_log_base((const unsigned char *)h5.buf, lbase);
	{
		const uint32_t all[][2] = { { 0, hb } };
		const uint32_t first[][2] = { { 0, 4096 } };
		const uint32_t grow[][2] = { { 0, 4096 }, { hb, 4096 } };

		ws_buf_add(&log, lbase, 512);
		entry(&log, FZ_PRIMARY_SEQ2, hb, &newer, all, 1);
		log_seed(argv[1], "one-entry", FZ_LOG_HASH, &log);

		ws_buf_add(&log, lbase, 512);
		entry(&log, FZ_PRIMARY_SEQ2, hb, &newer, all, 1);
		entry(&log, FZ_PRIMARY_SEQ1, hb, &newer, first, 1);
		log_seed(argv[1], "two-entries", FZ_LOG_HASH | FZ_LOG_TWO, &log);

		ws_buf_add(&log, lbase, 512);
		entry(&log, FZ_PRIMARY_SEQ2, hb, &newer, first, 1);
		entry(&log, FZ_PRIMARY_SEQ2 + 5, hb, &newer, all, 1);
		log_seed(argv[1], "gap", FZ_LOG_HASH, &log);

		ws_buf_add(&log, lbase, 512);
		entry(&log, FZ_PRIMARY_SEQ1, hb + 4096, &newer, grow, 2);
		log_seed(argv[1], "grow-badbase", FZ_LOG_HASH | FZ_LOG_BADBASE, &log);

		ws_buf_add(&log, lbase, 512);
		entry(&log, FZ_PRIMARY_SEQ2, hb, &newer, all, 1);
		log_seed(argv[1], "raw", FZ_LOG_RAW, &log);

		/* 2 GiB of bins claimed by an entry with no page */
		ws_buf_add(&log, lbase, 512);
		entry(&log, FZ_PRIMARY_SEQ2, 0x7ffff000u, &newer, NULL, 0);
		log_seed(argv[1], "huge-hbins", FZ_LOG_HASH, &log);

		ws_buf_add(&log, lbase, 512);
		fz_wr32((unsigned char *)log.buf + 28, 1);
		fz_wr32((unsigned char *)log.buf + 508,
			reg_base_checksum((const unsigned char *)log.buf));
		ws_buf_add(&log, "DIRT", 4);
		log_seed(argv[1], "old-format", FZ_LOG_RAW, &log);
	}
	ws_buf_release(&h5);
	ws_buf_release(&h3);
	ws_buf_release(&newer);
	ws_buf_release(&log);
	rmdir(tmp);
	return 0;
}
