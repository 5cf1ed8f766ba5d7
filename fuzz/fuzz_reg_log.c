/* fuzz_reg_log.c - a hostile transaction log replayed against a small
 * dirty primary (fuzz_reg_common.h): the first input byte chooses whether
 * entry hashes are recomputed (so mutated entries get applied), whether the
 * log is given as both .LOG1 and .LOG2, whether the primary's base block is
 * damaged, and whether the input is the whole log or only what follows the
 * log's base block.  A recovered copy must then open and walk cleanly or
 * fail with an error.  Nothing may crash, hang or leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_reg_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	char *dir, *primary, *bad_primary, *log1, *log2, *out;
	unsigned char log_base[512];
} fz;

static char *join(const char *dir, const char *name)
{
	struct ws_buf b = WS_BUF_INIT;

	ws_buf_addf(&b, "%s/%s", dir, name);
	return ws_buf_detach(&b, NULL);
}

static void cleanup(void)
{
	ws_remove_tree(fz.dir, NULL);
}

static void setup(void)
{
	/* tmpfs when there is one: the recovered copy is fsynced each run */
	char shm[] = "/dev/shm/wsfuzz-log-XXXXXX", tmpl[] = "/tmp/wsfuzz-log-XXXXXX";
	const char *dir = mkdtemp(shm);
	struct ws_buf img = WS_BUF_INIT;

	if (!dir)
		dir = mkdtemp(tmpl);
	if (!dir)
		abort();
	fz.dir = ws_xstrdup(dir);
	atexit(cleanup);
	fz.primary = join(dir, "primary.dat");
	fz.bad_primary = join(dir, "bad.dat");
	fz.log1 = join(dir, "primary.dat.LOG1");
	fz.log2 = join(dir, "primary.dat.LOG2");
	fz.out = join(dir, "recovered.dat");
	if (fz_make_hive(fz.primary, 5, 0) || ws_read_file(fz.primary, 1u << 20, &img, NULL))
		abort();
	fz_set_seq((unsigned char *)img.buf, FZ_PRIMARY_SEQ1, FZ_PRIMARY_SEQ2);
	fz_log_base((const unsigned char *)img.buf, fz.log_base);
	unlink(fz.primary);
	if (ws_write_file_atomic(fz.primary, img.buf, img.len, 0, WS_E_IO, NULL))
		abort();
	img.buf[508] ^= 1;
	if (ws_write_file_atomic(fz.bad_primary, img.buf, img.len, 0, WS_E_IO, NULL))
		abort();
	ws_buf_release(&img);
}

static int on_key(void *ctx, struct reg_hive *h, reg_node key, const char *kpath,
		  unsigned depth, const struct reg_value *vals, size_t n, struct ws_error *err)
{
	struct ws_buf b = WS_BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		ws_buf_reset(&b);
		reg_value_to_utf8(&vals[i], &b, NULL);
	}
	ws_buf_release(&b);
	return WS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_buf log = WS_BUF_INIT;
	struct reg_log_result res;
	struct reg_hive *h;
	struct ws_error e;
	const char *logs[2];
	unsigned flags;

	if (!fz.primary)
		setup();
	if (!size)
		return 0;
	flags = data[0];
	data++;
	size--;
	if (!(flags & FZ_LOG_RAW))
		ws_buf_add(&log, fz.log_base, sizeof(fz.log_base));
	ws_buf_add(&log, data, size);
	if (flags & FZ_LOG_HASH)
		fz_log_fix_hashes((unsigned char *)log.buf, log.len);
	if (ws_write_file_atomic(fz.log1, log.buf, log.len, 0, WS_E_IO, NULL))
		abort();
	ws_buf_release(&log);
	logs[0] = fz.log1;
	logs[1] = flags & FZ_LOG_TWO ? fz.log1 : fz.log2;
	unlink(fz.out);
	if (reg_log_recover(flags & FZ_LOG_BADBASE ? fz.bad_primary : fz.primary, logs, 2,
			    fz.out, &res, &e) != WS_OK)
		return 0;
	if (reg_hive_open(fz.out, 0, &h, &e) == WS_OK) {
		reg_walk(h, reg_root(h), 0, REG_WALK_VALUES, on_key, NULL, &e);
		reg_hive_close(h);
	}
	return 0;
}
