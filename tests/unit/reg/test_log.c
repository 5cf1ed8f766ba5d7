/* test_log.c - transaction log replay into a recovered copy of a dirty hive
 * (regipy's transactions_NTUSER.DAT with its new-format logs). */
#include "tu.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "reg/reg_log.h"

static char *dir;

static int setup(void **state)
{
	dir = tu_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	free(dir);
	return 0;
}

struct sources {
	char *primary, *log1, *log2;
};

static int get_sources(struct sources *s)
{
	s->primary = tu_testdata_hive("hives/regipy/transactions_NTUSER.DAT", dir);
	s->log1 = tu_testdata_hive("hives/regipy/transactions_ntuser.dat.log1", dir);
	s->log2 = tu_testdata_hive("hives/regipy/transactions_ntuser.dat.log2", dir);
	return s->primary && s->log1 && s->log2;
}

static void free_sources(struct sources *s)
{
	free(s->primary);
	free(s->log1);
	free(s->log2);
}

static void marvin32_vectors(void **state)
{
	/* published Marvin32 test vectors (seed 0x004fb61a001bdbcc) */
	assert_true(reg_log_marvin32("", 0, 0x004fb61a001bdbccULL) == 0x30ed35c100cd3c7dULL);
	assert_true(reg_log_marvin32("\xaf", 1, 0x004fb61a001bdbccULL) == 0x48e73fc77d75ddc1ULL);
}

static int count_cb(void *ctx, struct reg_hive *h, reg_node key, const char *path,
		    unsigned depth, const struct reg_value *vals, size_t n,
		    struct ws_error *err)
{
	(*(size_t *)ctx)++;
	return WS_OK;
}

static uint32_t dword_at(struct reg_hive *h, const char *key, const char *name)
{
	struct ws_error e;
	uint32_t v = 0;
	reg_node k;
	int found = 0;

	ws_error_clear(&e);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), key, &k, &e), &e);
	assert_true(k != 0);
	tu_assert_ok(reg_get_dword(h, k, name, &v, &found, &e), &e);
	assert_true(found);
	return v;
}

static void recover_real_dirty_hive(void **state)
{
	struct sources s;
	const char *logs[2];
	char *out = ws_xasprintf("%s/recovered.dat", dir);
	struct reg_log_result r;
	struct reg_hive *stale, *rec;
	struct ws_error e;
	size_t n1, n2, n3, m1, m2, m3, keys_stale = 0, keys_rec = 0;
	char *b1, *b2, *b3, *a1, *a2, *a3;
	reg_node k;

	if (!get_sources(&s)) {
		free_sources(&s);
		free(out);
		skip();
	}
	b1 = tu_read_file(s.primary, &n1);
	b2 = tu_read_file(s.log1, &n2);
	b3 = tu_read_file(s.log2, &n3);
	logs[0] = s.log1;
	logs[1] = s.log2;
	ws_error_clear(&e);
	tu_assert_ok(reg_log_recover(s.primary, logs, 2, out, &r, &e), &e);
	assert_true(r.was_dirty);
	/* primary sequence numbers 567/566: LOG1 holds entries 566..588,
	 * replayed from 566 on (the last write to reach the primary may be
	 * partial); LOG2 only holds an older 562 */
	assert_int_equal(r.applied, 23);
	assert_int_equal(r.first_seq, 566);
	assert_int_equal(r.last_seq, 588);
	/* sources untouched */
	a1 = tu_read_file(s.primary, &m1);
	a2 = tu_read_file(s.log1, &m2);
	a3 = tu_read_file(s.log2, &m3);
	assert_true(n1 == m1 && memcmp(a1, b1, n1) == 0);
	assert_true(n2 == m2 && memcmp(a2, b2, n2) == 0);
	assert_true(n3 == m3 && memcmp(a3, b3, n3) == 0);

	/* the copy is clean and newer than the stale primary */
	tu_assert_ok(reg_hive_open(out, 0, &rec, &e), &e);
	tu_assert_ok(reg_hive_open(s.primary, REG_OPEN_ALLOW_DIRTY, &stale, &e), &e);
	tu_assert_ok(reg_walk(rec, reg_root(rec), 0, REG_WALK_VALUES, count_cb, &keys_rec, &e), &e);
	tu_assert_ok(reg_walk(stale, reg_root(stale), 0, 0, count_cb, &keys_stale, &e), &e);
	assert_true(keys_rec > keys_stale);
	assert_int_equal(dword_at(stale, "Control Panel\\Desktop", "MaxVirtualDesktopDimension"), 0x800);
	assert_int_equal(dword_at(rec, "Control Panel\\Desktop", "MaxVirtualDesktopDimension"), 0xb40);
	assert_int_equal(dword_at(stale, "Control Panel\\Desktop\\WindowMetrics", "AppliedDPI"), 0x60);
	assert_int_equal(dword_at(rec, "Control Panel\\Desktop\\WindowMetrics", "AppliedDPI"), 0xc0);
	assert_int_equal(dword_at(rec, "Software\\Microsoft\\Unistore", "StoreVersion"), 0xcb);
	tu_assert_ok(reg_key_lookup(stale, reg_root(stale), "Software\\ThinPrint\\TPAutoConnect", &k, &e), &e);
	assert_true(k == 0);
	tu_assert_ok(reg_key_lookup(rec, reg_root(rec), "Software\\ThinPrint\\TPAutoConnect", &k, &e), &e);
	assert_true(k != 0);
	reg_hive_close(rec);
	reg_hive_close(stale);
	/* never overwrites */
	assert_int_equal(reg_log_recover(s.primary, logs, 2, out, &r, &e), WS_E_IO);
	free(b1), free(b2), free(b3), free(a1), free(a2), free(a3);
	free(out);
	free_sources(&s);
}

static void logs_found_case_insensitively(void **state)
{
	struct sources s;
	struct ws_buf l1 = WS_BUF_INIT, l2 = WS_BUF_INIT;
	struct ws_error e;

	if (!get_sources(&s)) {
		free_sources(&s);
		skip();
	}
	ws_error_clear(&e);
	tu_assert_ok(reg_log_find(s.primary, &l1, &l2, &e), &e);
	assert_string_equal(l1.buf, s.log1);
	assert_string_equal(l2.buf, s.log2);
	ws_buf_release(&l1);
	ws_buf_release(&l2);
	free_sources(&s);
}

static void damaged_entry_stops_replay(void **state)
{
	struct sources s;
	char *bad = ws_xasprintf("%s/bad.log1", dir);
	char *out = ws_xasprintf("%s/partial.dat", dir);
	const char *logs[1];
	struct reg_log_result r;
	struct reg_hive *h;
	struct ws_error e;
	size_t n;
	char *img;

	if (!get_sources(&s)) {
		free_sources(&s);
		free(bad), free(out);
		skip();
	}
	/* flip one byte inside the third entry (sequence 568, at 348160) */
	img = tu_read_file(s.log1, &n);
	img[348160 + 4096] ^= 0x5a;
	tu_write_file(bad, img, n);
	free(img);
	logs[0] = bad;
	ws_error_clear(&e);
	tu_assert_ok(reg_log_recover(s.primary, logs, 1, out, &r, &e), &e);
	assert_int_equal(r.applied, 2);
	assert_int_equal(r.last_seq, 567);
	tu_assert_ok(reg_hive_open(out, 0, &h, &e), &e);
	reg_hive_close(h);
	free(bad);
	free(out);
	free_sources(&s);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A log whose one entry (sequence 7) declares `hbins` bytes of bins and
 * carries one zero page at `po` (none when po is UINT32_MAX). */
static void write_log(const char *path, const unsigned char *hive_base, uint32_t hbins,
		      uint32_t po)
{
	unsigned char log[512 + 512 + 4096] = { 0 };
	unsigned char *e = log + 512;
	uint32_t np = po == UINT32_MAX ? 0 : 1, size = np ? 512 + 4096 : 512, sum = 0;
	uint64_t h;

	memcpy(log, hive_base, 512);
	put32(log + 28, 6);
	for (int i = 0; i < 127; i++)
		sum ^= get32(log + 4 * i);
	put32(log + 508, sum);
	memcpy(e, "HvLE", 4);
	put32(e + 4, size);
	put32(e + 12, 7);
	put32(e + 16, hbins);
	put32(e + 20, np);
	if (np) {
		put32(e + 40, po);
		put32(e + 44, 4096);
	}
	h = reg_log_marvin32(e + 40, size - 40, 0x82EF4D887A4E55C5ULL);
	put32(e + 24, (uint32_t)h);
	put32(e + 28, (uint32_t)(h >> 32));
	h = reg_log_marvin32(e, 32, 0x82EF4D887A4E55C5ULL);
	put32(e + 32, (uint32_t)h);
	put32(e + 36, (uint32_t)(h >> 32));
	tu_write_file(path, log, 512 + size);
}

/* Found by fuzz_reg_log: a 1 KiB log whose entry claimed 2 GiB of bins made
 * the replay allocate 3 GiB and write a 2 GiB copy.  An entry may grow the
 * hive only as far as its pages reach. */
static void entry_cannot_grow_beyond_its_pages(void **state)
{
	char *p = ws_xasprintf("%s/grow.dat", dir), *l = ws_xasprintf("%s/grow.dat.LOG1", dir);
	char *o1 = ws_xasprintf("%s/grow-out1", dir), *o2 = ws_xasprintf("%s/grow-out2", dir);
	const char *logs[1] = { l };
	struct reg_create_opts co = { 0 };
	struct reg_log_result r;
	struct ws_error e;
	unsigned char *img;
	size_t n, m;
	uint32_t hb;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_create(p, &co, &e), &e);
	img = (unsigned char *)tu_read_file(p, &n);
	hb = (uint32_t)(n - 4096);
	/* dirty: sequence numbers 8 and 7 */
	put32(img + 4, 8);
	put32(img + 8, 7);
	{
		uint32_t sum = 0;

		for (int i = 0; i < 127; i++)
			sum ^= get32(img + 4 * i);
		put32(img + 508, sum);
	}
	unlink(p);
	tu_write_file(p, img, n);

	write_log(l, img, 0x7ffff000u, UINT32_MAX);
	tu_assert_ok(reg_log_recover(p, logs, 1, o1, &r, &e), &e);
	assert_int_equal(r.applied, 0);
	free(tu_read_file(o1, &m));
	assert_int_equal(m, n);

	/* growing by one bin that the entry carries is fine */
	unlink(l);
	write_log(l, img, hb + 4096, hb);
	tu_assert_ok(reg_log_recover(p, logs, 1, o2, &r, &e), &e);
	assert_int_equal(r.applied, 1);
	free(tu_read_file(o2, &m));
	assert_int_equal(m, n + 4096);
	free(img);
	free(p);
	free(l);
	free(o1);
	free(o2);
}

static void clean_and_logless_hives(void **state)
{
	char *clean = ws_xasprintf("%s/clean.dat", dir);
	char *copy = ws_xasprintf("%s/clean-copy.dat", dir);
	char *out = ws_xasprintf("%s/nolog.dat", dir);
	struct reg_create_opts o = { 0 };
	struct reg_log_result r;
	struct sources s;
	const char *none[2] = { NULL, "/nonexistent.LOG2" };
	struct ws_error e;
	size_t n1, n2;
	char *a, *b;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_create(clean, &o, &e), &e);
	tu_assert_ok(reg_log_recover(clean, none, 2, copy, &r, &e), &e);
	assert_false(r.was_dirty);
	assert_int_equal(r.applied, 0);
	a = tu_read_file(clean, &n1);
	b = tu_read_file(copy, &n2);
	assert_true(n1 == n2 && memcmp(a, b, n1) == 0);
	free(a);
	free(b);
	if (get_sources(&s)) {
		assert_int_equal(reg_log_recover(s.primary, none, 2, out, &r, &e), WS_E_HIVE);
		assert_string_equal(e.where, s.primary);
		/* a log that is not a log at all is no help either */
		none[0] = clean;
		assert_int_equal(reg_log_recover(s.primary, none, 2, out, &r, &e), WS_E_HIVE);
	}
	free_sources(&s);
	free(clean);
	free(copy);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(marvin32_vectors),
		cmocka_unit_test(recover_real_dirty_hive),
		cmocka_unit_test(logs_found_case_insensitively),
		cmocka_unit_test(damaged_entry_stops_replay),
		cmocka_unit_test(clean_and_logless_hives),
		cmocka_unit_test(entry_cannot_grow_beyond_its_pages),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
