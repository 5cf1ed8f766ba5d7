/* test_hive.c - reg/ on hives made by reg_hive_create: values of every type,
 * Unicode names, case-insensitive lookup, key operations, atomic commit,
 * dirty and damaged files, the walker. */
#include "tu.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reg/reg.h"

#define PRIVET "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"       /* Привет */
#define PRIVET_MIXED "\xd0\xbf\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2" /* пРИВЕТ */
#define IMYA "\xd0\x98\xd0\xbc\xd1\x8f"                                 /* Имя */
#define IMYA_LOWER "\xd0\xb8\xd0\xbc\xd1\x8f"                           /* имя */

/* A new empty hive of format 1.<minor> in a fresh folder (malloc'd path). */
static char *new_hive(unsigned minor)
{
	char *d = tu_tmpdir();
	char *p = ws_xasprintf("%s/NTUSER.DAT", d);
	struct reg_create_opts o = { .minor = minor };
	struct ws_error e;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_create(p, &o, &e), &e);
	free(d);
	return p;
}

static struct reg_hive *open_hive(const char *p, unsigned flags)
{
	struct reg_hive *h = NULL;
	struct ws_error e;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_open(p, flags, &h, &e), &e);
	return h;
}

struct typed {
	const char *name;
	uint32_t type;
	const char *data;
	size_t len;
};

static const struct typed all_types[] = {
	{ "none", REG_NONE, "", 0 },
	{ "sz", REG_SZ, "h\0i\0\0\0", 6 },
	{ "expand", REG_EXPAND_SZ, "%\0X\0%\0\0\0", 8 },
	{ "bin", REG_BINARY, "\x01\x02\x03\x00\xff", 5 },
	{ "dword", REG_DWORD, "\x78\x56\x34\x12", 4 },
	{ "dword_be", REG_DWORD_BIG_ENDIAN, "\x12\x34\x56\x78", 4 },
	{ "link", REG_LINK, "\\\0R\0", 4 },
	{ "multi", REG_MULTI_SZ, "a\0\0\0b\0\0\0\0\0", 10 },
	{ "reslist", REG_RESOURCE_LIST, "\x01\0\0\0", 4 },
	{ "fullres", REG_FULL_RESOURCE_DESCRIPTOR, "\x02\0\0\0\x05", 5 },
	{ "reqlist", REG_RESOURCE_REQUIREMENTS_LIST, "\x03\0\0\0\0\0", 6 },
	{ "qword", REG_QWORD, "\x01\x02\x03\x04\x05\x06\x07\x08", 8 },
	{ "odd_type", 0x12345, "xyz", 3 },
	{ "small", REG_BINARY, "\x09", 1 },
};

static void every_type_roundtrips(void **state)
{
	char *p = new_hive(5);
	struct reg_hive *h = open_hive(p, REG_OPEN_WRITE);
	struct ws_error e;
	reg_node k;
	size_t n = sizeof(all_types) / sizeof(all_types[0]), nv;
	struct reg_value *vals;

	ws_error_clear(&e);
	tu_assert_ok(reg_key_create(h, reg_root(h), "Software\\Types", &k, &e), &e);
	for (size_t i = 0; i < n; i++) {
		struct reg_value v = { (char *)all_types[i].name, all_types[i].type,
				       (unsigned char *)all_types[i].data,
				       all_types[i].len };
		tu_assert_ok(reg_value_set(h, k, &v, &e), &e);
	}
	tu_assert_ok(reg_hive_commit(h, NULL, &e), &e);
	reg_hive_close(h);

	h = open_hive(p, 0);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "software\\TYPES", &k, &e), &e);
	assert_true(k != 0);
	tu_assert_ok(reg_key_values(h, k, &vals, &nv, &e), &e);
	assert_int_equal(nv, n);
	for (size_t i = 0; i < n; i++) {
		struct reg_value v;
		int found;

		tu_assert_ok(reg_value_get(h, k, all_types[i].name, &v, &found, &e), &e);
		assert_true(found);
		assert_string_equal(v.name, all_types[i].name);
		assert_int_equal(v.type, all_types[i].type);
		assert_int_equal(v.len, all_types[i].len);
		if (v.len)
			assert_memory_equal(v.data, all_types[i].data, v.len);
		else
			assert_null(v.data);
		reg_value_release(&v);
	}
	reg_values_free(vals, nv);
	assert_string_equal(reg_type_name(REG_MULTI_SZ), "REG_MULTI_SZ");
	assert_string_equal(reg_type_name(0x12345), "REG_0x12345");
	reg_hive_close(h);
	free(p);
}

static void typed_helpers(void **state)
{
	char *p = new_hive(3);
	struct reg_hive *h = open_hive(p, REG_OPEN_WRITE);
	struct ws_error e;
	struct ws_buf s = WS_BUF_INIT;
	const char *multi[] = { "one", "tw\xc3\xb6" };
	struct reg_value v;
	uint32_t d = 0;
	reg_node k;
	int found;

	ws_error_clear(&e);
	tu_assert_ok(reg_key_create(h, reg_root(h), "Control Panel\\Desktop", &k, &e), &e);
	tu_assert_ok(reg_set_string(h, k, "WallPaper", REG_SZ, "C:\\w\xc3\xa4ll.jpg", &e), &e);
	tu_assert_ok(reg_set_string(h, k, "Path", REG_EXPAND_SZ, "%USERPROFILE%", &e), &e);
	tu_assert_ok(reg_set_dword(h, k, "Dw", 0xdeadbeef, &e), &e);
	tu_assert_ok(reg_set_qword(h, k, "Qw", 0x0102030405060708ULL, &e), &e);
	tu_assert_ok(reg_set_binary(h, k, "Bin", "\0\1", 2, &e), &e);
	tu_assert_ok(reg_set_multi_sz(h, k, "Multi", multi, 2, &e), &e);
	tu_assert_ok(reg_hive_commit(h, NULL, &e), &e);
	reg_hive_close(h);

	h = open_hive(p, 0);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "control panel\\desktop", &k, &e), &e);
	tu_assert_ok(reg_get_string(h, k, "wallpaper", &s, &found, &e), &e);
	assert_true(found);
	assert_string_equal(s.buf, "C:\\w\xc3\xa4ll.jpg");
	ws_buf_reset(&s);
	tu_assert_ok(reg_get_string(h, k, "PATH", &s, &found, &e), &e);
	assert_string_equal(s.buf, "%USERPROFILE%");
	tu_assert_ok(reg_get_dword(h, k, "dw", &d, &found, &e), &e);
	assert_true(found);
	assert_int_equal(d, 0xdeadbeef);
	tu_assert_ok(reg_value_get(h, k, "Qw", &v, &found, &e), &e);
	assert_int_equal(v.type, REG_QWORD);
	assert_memory_equal(v.data, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
	reg_value_release(&v);
	tu_assert_ok(reg_value_get(h, k, "Multi", &v, &found, &e), &e);
	assert_int_equal(v.len, 18);
	assert_memory_equal(v.data, "o\0n\0e\0\0\0t\0w\0\xf6\0\0\0\0\0", 18);
	reg_value_release(&v);
	/* wrong types and absent names */
	assert_int_equal(reg_get_dword(h, k, "WallPaper", &d, &found, &e), WS_E_UNSUPPORTED);
	assert_int_equal(reg_get_string(h, k, "Dw", &s, &found, &e), WS_E_UNSUPPORTED);
	tu_assert_ok(reg_get_dword(h, k, "Missing", &d, &found, &e), &e);
	assert_false(found);
	tu_assert_ok(reg_get_string(h, 0, "x", &s, &found, &e), &e);
	assert_false(found);
	ws_buf_release(&s);
	reg_hive_close(h);
	free(p);
}

static void unicode_names_and_case(void **state)
{
	char *p = new_hive(5);
	struct reg_hive *h = open_hive(p, REG_OPEN_WRITE);
	struct ws_error e;
	struct ws_buf s = WS_BUF_INIT;
	const char *data = "\xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac \xc3\x89t\xc3\xa9";
	reg_node k, k2;
	size_t nv;
	struct reg_value *vals;
	int found;

	ws_error_clear(&e);
	tu_assert_ok(reg_key_create(h, reg_root(h), PRIVET "\\\xc3\x89t\xc3\xa9", &k, &e), &e);
	tu_assert_ok(reg_set_string(h, k, IMYA, REG_SZ, data, &e), &e);
	/* same name in other case replaces, does not duplicate */
	tu_assert_ok(reg_set_string(h, k, IMYA_LOWER, REG_SZ, data, &e), &e);
	tu_assert_ok(reg_key_values(h, k, &vals, &nv, &e), &e);
	assert_int_equal(nv, 1);
	assert_string_equal(vals[0].name, IMYA);
	reg_values_free(vals, nv);
	/* creating with different case finds the existing key */
	tu_assert_ok(reg_key_create(h, reg_root(h), PRIVET_MIXED "\\\xc3\xa9T\xc3\x89", &k2, &e), &e);
	assert_true(k2 == k);
	tu_assert_ok(reg_hive_commit(h, NULL, &e), &e);
	reg_hive_close(h);

	h = open_hive(p, 0);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "\\" PRIVET_MIXED "\\\xc3\xa9T\xc3\x89\\\\", &k, &e), &e);
	assert_true(k != 0);
	ws_buf_reset(&s);
	tu_assert_ok(reg_key_path(h, k, &s, &e), &e);
	assert_string_equal(s.buf, PRIVET "\\\xc3\x89t\xc3\xa9");
	ws_buf_reset(&s);
	tu_assert_ok(reg_get_string(h, k, IMYA_LOWER, &s, &found, &e), &e);
	assert_true(found);
	assert_string_equal(s.buf, data);
	ws_buf_release(&s);
	reg_hive_close(h);
	free(p);
}

static void key_operations(void **state)
{
	char *p = new_hive(5);
	struct reg_hive *h = open_hive(p, REG_OPEN_WRITE);
	struct ws_error e;
	struct ws_buf s = WS_BUF_INIT;
	reg_node a, b, c, par, *kids;
	size_t n;
	uint64_t ft = 0;

	ws_error_clear(&e);
	tu_assert_ok(reg_key_create(h, reg_root(h), "A\\B\\C", &c, &e), &e);
	tu_assert_ok(reg_key_create(h, reg_root(h), "A\\B2", &b, &e), &e);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "a", &a, &e), &e);
	tu_assert_ok(reg_key_lookup(h, a, "", &par, &e), &e);
	assert_true(par == a);
	tu_assert_ok(reg_key_children(h, a, &kids, &n, &e), &e);
	assert_int_equal(n, 2);
	free(kids);
	tu_assert_ok(reg_key_parent(h, c, &par, &e), &e);
	tu_assert_ok(reg_key_name(h, par, &s, &e), &e);
	assert_string_equal(s.buf, "B");
	tu_assert_ok(reg_key_parent(h, reg_root(h), &par, &e), &e);
	assert_true(par == 0);
	ws_buf_reset(&s);
	tu_assert_ok(reg_key_path(h, reg_root(h), &s, &e), &e);
	assert_string_equal(s.buf, "");
	tu_assert_ok(reg_key_name(h, reg_root(h), &s, &e), &e);
	assert_string_equal(s.buf, "ROOT");
	tu_assert_ok(reg_key_mtime(h, c, &ft, &e), &e);
	assert_true(ft > 116444736000000000ULL);
	/* missing is not an error */
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "A\\nope\\deeper", &par, &e), &e);
	assert_true(par == 0);
	/* delete a subtree, never the root */
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "A\\B", &b, &e), &e);
	tu_assert_ok(reg_key_delete(h, b, &e), &e);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "A\\B\\C", &par, &e), &e);
	assert_true(par == 0);
	assert_int_equal(reg_key_delete(h, reg_root(h), &e), WS_E_UNSUPPORTED);
	/* names Windows would refuse */
	assert_int_equal(reg_key_create(h, reg_root(h), "bad\xff", &par, &e), WS_E_UNSUPPORTED);
	tu_assert_ok(reg_hive_commit(h, NULL, &e), &e);
	reg_hive_close(h);
	h = open_hive(p, 0);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "A\\B2", &b, &e), &e);
	assert_true(b != 0);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "A\\B", &b, &e), &e);
	assert_true(b == 0);
	ws_buf_release(&s);
	reg_hive_close(h);
	free(p);
}

static void value_delete_keeps_others(void **state)
{
	char *p = new_hive(5);
	struct reg_hive *h = open_hive(p, REG_OPEN_WRITE);
	struct ws_error e;
	struct reg_value *vals;
	size_t n;
	reg_node k;

	ws_error_clear(&e);
	tu_assert_ok(reg_key_create(h, reg_root(h), "K", &k, &e), &e);
	tu_assert_ok(reg_set_dword(h, k, "One", 1, &e), &e);
	tu_assert_ok(reg_set_string(h, k, "Two", REG_SZ, "2", &e), &e);
	tu_assert_ok(reg_set_binary(h, k, "", "\1\2\3\4\5", 5, &e), &e);
	tu_assert_ok(reg_value_delete(h, k, "two", &e), &e);
	tu_assert_ok(reg_value_delete(h, k, "absent", &e), &e);
	tu_assert_ok(reg_key_values(h, k, &vals, &n, &e), &e);
	assert_int_equal(n, 2);
	assert_string_equal(vals[0].name, "One");
	assert_string_equal(vals[1].name, "");
	assert_memory_equal(vals[1].data, "\1\2\3\4\5", 5);
	reg_values_free(vals, n);
	reg_hive_close(h);
	free(p);
}

static void read_only_handle_refuses_writes(void **state)
{
	char *p = new_hive(5);
	struct reg_hive *h = open_hive(p, 0);
	struct ws_error e;
	reg_node k;

	ws_error_clear(&e);
	assert_int_equal(reg_key_create(h, reg_root(h), "X", &k, &e), WS_E_INTERNAL);
	assert_int_equal(reg_set_dword(h, reg_root(h), "X", 1, &e), WS_E_INTERNAL);
	assert_int_equal(reg_hive_commit(h, NULL, &e), WS_E_INTERNAL);
	assert_string_equal(e.where, p);
	reg_hive_close(h);
	free(p);
}

static int count_files(const char *dir)
{
	char cmd[600];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	f = popen(cmd, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

static void commit_is_atomic(void **state)
{
	char *p = new_hive(5);
	char *dir = ws_xstrndup(p, strrchr(p, '/') - p);
	char *sub = ws_xasprintf("%s/sub", dir);
	char *missing = ws_xasprintf("%s/nope/NTUSER.DAT", dir);
	struct reg_hive *h = open_hive(p, REG_OPEN_WRITE);
	struct reg_hive_info before, after;
	struct ws_error e;
	size_t n1, n2;
	char *orig = tu_read_file(p, &n1), *now;
	reg_node k;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_probe(p, &before, &e), &e);
	tu_assert_ok(reg_key_create(h, reg_root(h), "New", &k, &e), &e);
	/* destination folder missing: error, original untouched */
	assert_int_not_equal(reg_hive_commit(h, missing, &e), WS_OK);
	assert_string_equal(e.where, missing);
	/* destination is a folder: the rename fails, temp file removed */
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_not_equal(reg_hive_commit(h, sub, &e), WS_OK);
	assert_int_equal(count_files(dir), 2);
	if (geteuid() != 0) {
		chmod(dir, 0555);
		assert_int_not_equal(reg_hive_commit(h, NULL, &e), WS_OK);
		chmod(dir, 0755);
	}
	now = tu_read_file(p, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(orig, now, n1);
	free(now);
	/* a successful commit bumps both sequence numbers and the time */
	tu_assert_ok(reg_hive_commit(h, NULL, &e), &e);
	tu_assert_ok(reg_hive_probe(p, &after, &e), &e);
	assert_true(after.seq1 > before.seq1);
	assert_int_equal(after.seq2, after.seq1);
	assert_false(after.dirty);
	assert_true(after.last_written >= before.last_written);
	assert_int_equal(count_files(dir), 2);
	reg_hive_close(h);
	free(orig);
	free(dir);
	free(sub);
	free(missing);
	free(p);
}

/* Rewrite a dword of the base block and fix the checksum. */
static void patch_base(const char *p, size_t off, uint32_t v, int fix_sum)
{
	size_t n;
	unsigned char *b = (unsigned char *)tu_read_file(p, &n);
	uint32_t sum = 0;

	memcpy(b + off, &v, 4);
	for (int i = 0; i < 127; i++) {
		uint32_t w;

		memcpy(&w, b + 4 * i, 4);
		sum ^= w;
	}
	if (fix_sum)
		memcpy(b + 508, &sum, 4);
	tu_write_file(p, b, n);
	free(b);
}

static void dirty_hive_refused(void **state)
{
	char *p = new_hive(5);
	struct reg_hive *h = NULL;
	struct reg_hive_info info;
	struct ws_error e;

	ws_error_clear(&e);
	patch_base(p, 8, 7, 1);
	tu_assert_ok(reg_hive_probe(p, &info, &e), &e);
	assert_true(info.dirty);
	assert_int_equal(info.seq2, 7);
	assert_int_equal(reg_hive_open(p, 0, &h, &e), WS_E_HIVE);
	assert_null(h);
	assert_string_equal(e.where, p);
	assert_non_null(strstr(e.msg, "dirty"));
	assert_int_equal(reg_hive_open(p, REG_OPEN_WRITE | REG_OPEN_ALLOW_DIRTY, &h, &e),
			 WS_E_HIVE);
	tu_assert_ok(reg_hive_open(p, REG_OPEN_ALLOW_DIRTY, &h, &e), &e);
	reg_hive_get_info(h, &info);
	assert_true(info.dirty);
	reg_hive_close(h);
	/* a wrong checksum is damage */
	patch_base(p, 8, 1, 0);
	assert_int_equal(reg_hive_probe(p, &info, &e), WS_E_HIVE);
	assert_non_null(strstr(e.msg, "checksum"));
	free(p);
}

static void garbage_and_truncated_files(void **state)
{
	char *d = tu_tmpdir();
	char *p = ws_xasprintf("%s/bad", d);
	char *good = new_hive(5);
	unsigned char junk[16384];
	struct reg_hive *h = NULL;
	struct ws_error e;
	size_t n;
	char *img = tu_read_file(good, &n);

	ws_error_clear(&e);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 7919 + 13);
	tu_write_file(p, junk, sizeof(junk));
	assert_int_equal(reg_hive_open(p, 0, &h, &e), WS_E_HIVE);
	assert_string_equal(e.where, p);
	tu_write_file(p, "regf", 4);
	assert_int_equal(reg_hive_open(p, 0, &h, &e), WS_E_HIVE);
	tu_write_file(p, "", 0);
	assert_int_equal(reg_hive_open(p, 0, &h, &e), WS_E_HIVE);
	/* base block alone, then cut inside the hive bin */
	tu_write_file(p, img, 4096);
	assert_int_equal(reg_hive_open(p, 0, &h, &e), WS_E_HIVE);
	tu_write_file(p, img, 6000);
	assert_int_equal(reg_hive_open(p, REG_OPEN_WRITE, &h, &e), WS_E_HIVE);
	/* garbage instead of the hive bin */
	memcpy(img + 4096, junk, 4096);
	tu_write_file(p, img, n);
	assert_int_equal(reg_hive_open(p, 0, &h, &e), WS_E_HIVE);
	assert_null(h);
	free(p);
	p = ws_xasprintf("%s/absent", d);
	assert_int_equal(reg_hive_open(p, 0, &h, &e), WS_E_IO);
	free(img);
	free(p);
	free(good);
	free(d);
}

static void create_checks(void **state)
{
	char *d = tu_tmpdir();
	char *p = ws_xasprintf("%s/h", d);
	struct reg_create_opts o = { .minor = 3, .root_name = "CsiTool-CreateHive-{00000000-0000-0000-0000-000000000000}",
				     .file_name = "\\??\\C:\\Users\\alice\\ntuser.dat",
				     .owner_sid = "S-1-5-21-111-222-333-1001",
				     .timestamp = 132000000000000000ULL };
	struct reg_hive_info info;
	struct reg_hive *h;
	struct ws_buf s = WS_BUF_INIT;
	struct ws_error e;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_create(p, &o, &e), &e);
	assert_int_equal(reg_hive_create(p, &o, &e), WS_E_IO);
	assert_int_equal(e.sys_errno, EEXIST);
	tu_assert_ok(reg_hive_probe(p, &info, &e), &e);
	assert_int_equal(info.major, 1);
	assert_int_equal(info.minor, 3);
	assert_int_equal(info.seq1, info.seq2);
	assert_int_equal(info.hbins_size, 4096);
	assert_true(info.last_written - o.timestamp < 10);
	h = open_hive(p, 0);
	tu_assert_ok(reg_key_name(h, reg_root(h), &s, &e), &e);
	assert_string_equal(s.buf, o.root_name);
	reg_hive_close(h);
	free(p);
	/* refusals: bad SID, bad version, bad root name */
	p = ws_xasprintf("%s/h2", d);
	o.owner_sid = "S-1-5-x";
	assert_int_equal(reg_hive_create(p, &o, &e), WS_E_USAGE);
	o.owner_sid = NULL;
	o.minor = 4;
	assert_int_equal(reg_hive_create(p, &o, &e), WS_E_USAGE);
	o.minor = 0;
	o.root_name = "a\\b";
	assert_int_equal(reg_hive_create(p, &o, &e), WS_E_USAGE);
	assert_false(access(p, F_OK) == 0);
	/* a non-Latin root name is stored as UTF-16 */
	o.root_name = PRIVET;
	tu_assert_ok(reg_hive_create(p, &o, &e), &e);
	h = open_hive(p, 0);
	ws_buf_reset(&s);
	tu_assert_ok(reg_key_name(h, reg_root(h), &s, &e), &e);
	assert_string_equal(s.buf, PRIVET);
	reg_hive_close(h);
	ws_buf_release(&s);
	free(p);
	free(d);
}

struct walk_count {
	size_t keys, values, maxdepth;
	const char *skip;
};

static int count_cb(void *ctx, struct reg_hive *h, reg_node key, const char *path,
		    unsigned depth, const struct reg_value *vals, size_t n,
		    struct ws_error *err)
{
	struct walk_count *c = ctx;

	c->keys++;
	c->values += n;
	if (depth > c->maxdepth)
		c->maxdepth = depth;
	if (c->skip && strcmp(path, c->skip) == 0)
		return REG_WALK_SKIP;
	return WS_OK;
}

static int stop_cb(void *ctx, struct reg_hive *h, reg_node key, const char *path,
		   unsigned depth, const struct reg_value *vals, size_t n,
		   struct ws_error *err)
{
	return depth == 2 ? ws_error_set(err, WS_E_RULES, path, "stop") : WS_OK;
}

static void walk_visits_everything(void **state)
{
	char *p = new_hive(5);
	struct reg_hive *h = open_hive(p, REG_OPEN_WRITE);
	struct walk_count c = { 0 };
	struct ws_error e;
	reg_node k;

	ws_error_clear(&e);
	for (int i = 0; i < 20; i++) {
		char path[64];

		snprintf(path, sizeof(path), "S\\K%02d\\L1\\L2", i);
		tu_assert_ok(reg_key_create(h, reg_root(h), path, &k, &e), &e);
		tu_assert_ok(reg_set_dword(h, k, "v", (uint32_t)i, &e), &e);
		tu_assert_ok(reg_set_dword(h, k, "w", (uint32_t)i, &e), &e);
	}
	tu_assert_ok(reg_walk(h, reg_root(h), 0, REG_WALK_VALUES, count_cb, &c, &e), &e);
	assert_int_equal(c.keys, 1 + 1 + 20 * 3);
	assert_int_equal(c.values, 40);
	assert_int_equal(c.maxdepth, 4);
	memset(&c, 0, sizeof(c));
	tu_assert_ok(reg_walk(h, reg_root(h), 2, 0, count_cb, &c, &e), &e);
	assert_int_equal(c.keys, 22);
	assert_int_equal(c.values, 0);
	memset(&c, 0, sizeof(c));
	c.skip = "S\\K03";
	tu_assert_ok(reg_walk(h, reg_root(h), 0, 0, count_cb, &c, &e), &e);
	assert_int_equal(c.keys, 62 - 2);
	assert_int_equal(reg_walk(h, reg_root(h), 0, 0, stop_cb, NULL, &e), WS_E_RULES);
	reg_hive_close(h);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_type_roundtrips),
		cmocka_unit_test(typed_helpers),
		cmocka_unit_test(unicode_names_and_case),
		cmocka_unit_test(key_operations),
		cmocka_unit_test(value_delete_keeps_others),
		cmocka_unit_test(read_only_handle_refuses_writes),
		cmocka_unit_test(commit_is_atomic),
		cmocka_unit_test(dirty_hive_refused),
		cmocka_unit_test(garbage_and_truncated_files),
		cmocka_unit_test(create_checks),
		cmocka_unit_test(walk_visits_everything),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
