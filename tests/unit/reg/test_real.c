/* test_real.c - reg/ against the real Windows hives in ../shared/testdata:
 * complete walks, dirty and damaged files, the big-data write guard. */
#include "tu.h"

#include <stdio.h>
#include <string.h>

#include "reg/reg.h"

static char *scratch;

static int setup(void **state)
{
	scratch = tu_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	free(scratch);
	return 0;
}

struct counts {
	size_t keys, values, bytes, big;
	reg_node big_key;
	char big_path[512];
};

static int count_cb(void *ctx, struct reg_hive *h, reg_node key, const char *path,
		    unsigned depth, const struct reg_value *vals, size_t n,
		    struct ws_error *err)
{
	struct counts *c = ctx;

	c->keys++;
	c->values += n;
	for (size_t i = 0; i < n; i++) {
		c->bytes += vals[i].len;
		if (vals[i].len > REG_BIG_DATA_MAX) {
			c->big++;
			if (!c->big_key) {
				c->big_key = key;
				snprintf(c->big_path, sizeof(c->big_path), "%s", path);
			}
		}
	}
	return WS_OK;
}

static void walk_real_hives(void **state)
{
	static const char *const hives[] = {
		"hives/regipy/NTUSER.DAT", "hives/regipy/NTUSER-WSL.DAT",
		"hives/regipy/NTUSER_with_winscp.DAT", "hives/regipy/UsrClass.dat",
		"hives/regipy/SYSTEM_WIN_10_1709", "hives/regipy/ntuser_software_partial",
		"hives/dfwinreg/NTUSER.DAT", "hives/dfwinreg/UsrClass.dat",
		"hives/notatin/NTUSER.DAT",
	};
	int done = 0;

	for (size_t i = 0; i < sizeof(hives) / sizeof(hives[0]); i++) {
		char *p = tu_testdata_hive(hives[i], scratch);
		struct reg_hive *h = NULL;
		struct counts c = { 0 };
		struct ws_error e;

		if (!p)
			continue;
		ws_error_clear(&e);
		/* several of these were copied while Windows had unflushed
		 * logs (dirty): read their primary file as it is */
		tu_assert_ok(reg_hive_open(p, REG_OPEN_ALLOW_DIRTY, &h, &e), &e);
		tu_assert_ok(reg_walk(h, reg_root(h), 0, REG_WALK_VALUES, count_cb,
				      &c, &e), &e);
		printf("  %s: %zu keys, %zu values, %zu bytes of data\n", hives[i],
		       c.keys, c.values, c.bytes);
		assert_true(c.keys > 10);
		assert_true(c.values > 10);
		assert_true(c.bytes > 1000);
		reg_hive_close(h);
		free(p);
		done++;
	}
	if (!done)
		skip();
}

static void known_values_read(void **state)
{
	char *p = tu_testdata_hive("hives/regipy/SYSTEM_WIN_10_1709", scratch);
	struct reg_hive *h = NULL;
	struct ws_error e;
	uint32_t cur = 0;
	reg_node k;
	int found;

	if (!p)
		skip();
	ws_error_clear(&e);
	tu_assert_ok(reg_hive_open(p, REG_OPEN_ALLOW_DIRTY, &h, &e), &e);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "select", &k, &e), &e);
	tu_assert_ok(reg_get_dword(h, k, "CURRENT", &cur, &found, &e), &e);
	assert_true(found);
	assert_true(cur >= 1 && cur <= 9);
	reg_hive_close(h);
	free(p);
}

static void dirty_real_hive_detected(void **state)
{
	char *p = tu_testdata_hive("hives/regipy/transactions_NTUSER.DAT", scratch);
	struct reg_hive_info info;
	struct reg_hive *h = NULL;
	struct ws_error e;

	if (!p)
		skip();
	ws_error_clear(&e);
	tu_assert_ok(reg_hive_probe(p, &info, &e), &e);
	assert_true(info.dirty);
	assert_int_not_equal(info.seq1, info.seq2);
	assert_int_equal(reg_hive_open(p, 0, &h, &e), WS_E_HIVE);
	assert_null(h);
	assert_int_equal(reg_hive_open(p, REG_OPEN_WRITE | REG_OPEN_ALLOW_DIRTY, &h, &e),
			 WS_E_HIVE);
	tu_assert_ok(reg_hive_open(p, REG_OPEN_ALLOW_DIRTY, &h, &e), &e);
	reg_hive_close(h);
	free(p);
}

static void corrupted_hive_clear_error(void **state)
{
	char *p = tu_testdata_hive("hives/regipy/corrupted_system_hive", scratch);
	struct reg_hive *h = NULL;
	struct counts c = { 0 };
	struct ws_error e;
	int rc;

	if (!p)
		skip();
	ws_error_clear(&e);
	assert_int_equal(reg_hive_open(p, 0, &h, &e), WS_E_HIVE);
	assert_null(h);
	assert_string_equal(e.where, p);
	assert_true(strlen(e.msg) > 10);
	/* salvage mode opens it; walking may stop on damage but never crashes */
	tu_assert_ok(reg_hive_open(p, REG_OPEN_UNSAFE, &h, &e), &e);
	rc = reg_walk(h, reg_root(h), 0, REG_WALK_VALUES, count_cb, &c, &e);
	assert_true(rc == WS_OK || rc == WS_E_HIVE);
	assert_true(c.keys > 0);
	reg_hive_close(h);
	assert_int_equal(reg_hive_open(p, REG_OPEN_UNSAFE | REG_OPEN_WRITE, &h, &e),
			 WS_E_UNSUPPORTED);
	free(p);
}

/* Make a dirty copy look clean (seq2 = seq1, checksum redone) so that it
 * can be opened for writing: only the guard is under test here. */
static void mark_clean(const char *p)
{
	size_t n;
	unsigned char *b = (unsigned char *)tu_read_file(p, &n);
	uint32_t sum = 0;

	memcpy(b + 8, b + 4, 4);
	for (int i = 0; i < 127; i++) {
		uint32_t w;

		memcpy(&w, b + 4 * i, 4);
		sum ^= w;
	}
	memcpy(b + 508, &sum, 4);
	tu_write_file(p, b, n);
	free(b);
}

/* A v1.5 hive holding db values: every write on such a key is refused. */
static void big_data_guard(const char *rel)
{
	char *p = tu_testdata_hive(rel, scratch);
	struct reg_hive *h = NULL;
	struct reg_hive_info info;
	struct counts c = { 0 };
	struct ws_error e;
	struct reg_value *before, *after;
	size_t nb, na, n1, n2;
	char *orig, *now;
	unsigned char big[20000] = { 1 };
	reg_node other;
	int yes = 0;

	if (!p)
		skip();
	mark_clean(p);
	orig = tu_read_file(p, &n1);
	ws_error_clear(&e);
	tu_assert_ok(reg_hive_open(p, REG_OPEN_WRITE, &h, &e), &e);
	reg_hive_get_info(h, &info);
	assert_true(info.minor >= 4);
	tu_assert_ok(reg_walk(h, reg_root(h), 0, REG_WALK_VALUES, count_cb, &c, &e), &e);
	assert_true(c.big >= 2);
	printf("  %s: big-data value under '%s'\n", rel, c.big_path);
	tu_assert_ok(reg_key_has_big_data(h, c.big_key, &yes, &e), &e);
	assert_true(yes);
	tu_assert_ok(reg_key_values(h, c.big_key, &before, &nb, &e), &e);
	assert_int_equal(reg_set_dword(h, c.big_key, "Extra", 1, &e), WS_E_UNSUPPORTED);
	assert_string_equal(e.where, p);
	assert_non_null(strstr(e.msg, c.big_path));
	assert_int_equal(reg_value_delete(h, c.big_key, before[0].name, &e),
			 WS_E_UNSUPPORTED);
	/* a new big value anywhere is refused too */
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "Software", &other, &e), &e);
	assert_true(other != 0);
	assert_int_equal(reg_set_binary(h, other, "Big", big, sizeof(big), &e),
			 WS_E_UNSUPPORTED);
	/* values unchanged in memory */
	tu_assert_ok(reg_key_values(h, c.big_key, &after, &na, &e), &e);
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_int_equal(after[i].len, before[i].len);
		if (after[i].len)
			assert_memory_equal(after[i].data, before[i].data, after[i].len);
	}
	reg_values_free(before, nb);
	reg_values_free(after, na);
	reg_hive_close(h);
	now = tu_read_file(p, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(orig, now, n1);
	free(orig);
	free(now);
	free(p);
}

static void big_data_guard_winscp(void **state)
{
	big_data_guard("hives/regipy/NTUSER_with_winscp.DAT");
}

static void big_data_guard_notatin(void **state)
{
	big_data_guard("hives/notatin/NTUSER.DAT");
}

static void v13_hive_accepts_big_value(void **state)
{
	char *p = tu_testdata_hive("hives/regipy/NTUSER-WSL.DAT", scratch);
	unsigned char *big = ws_xmalloc(20480);
	struct reg_hive *h = NULL;
	struct reg_value v;
	struct ws_error e;
	reg_node k;
	int found;

	if (!p) {
		free(big);
		skip();
	}
	for (size_t i = 0; i < 20480; i++)
		big[i] = (unsigned char)(i * 31 + 7);
	ws_error_clear(&e);
	tu_assert_ok(reg_hive_open(p, REG_OPEN_WRITE, &h, &e), &e);
	tu_assert_ok(reg_key_create(h, reg_root(h), "Software\\winstate-test", &k, &e), &e);
	tu_assert_ok(reg_set_binary(h, k, "Blob", big, 20480, &e), &e);
	tu_assert_ok(reg_set_dword(h, k, "After", 5, &e), &e);
	tu_assert_ok(reg_hive_commit(h, NULL, &e), &e);
	reg_hive_close(h);
	tu_assert_ok(reg_hive_open(p, 0, &h, &e), &e);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "SOFTWARE\\WINSTATE-TEST", &k, &e), &e);
	tu_assert_ok(reg_value_get(h, k, "blob", &v, &found, &e), &e);
	assert_true(found);
	assert_int_equal(v.len, 20480);
	assert_memory_equal(v.data, big, 20480);
	reg_value_release(&v);
	/* existing Windows data survived */
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "Control Panel\\Desktop", &k, &e), &e);
	assert_true(k != 0);
	reg_hive_close(h);
	free(big);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walk_real_hives),
		cmocka_unit_test(known_values_read),
		cmocka_unit_test(dirty_real_hive_detected),
		cmocka_unit_test(corrupted_hive_clear_error),
		cmocka_unit_test(big_data_guard_winscp),
		cmocka_unit_test(big_data_guard_notatin),
		cmocka_unit_test(v13_hive_accepts_big_value),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
