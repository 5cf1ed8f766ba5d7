/* test_guards.c - apply refuses bad targets and hostile input without
 * touching the target: not Windows, read-only, scan of another device,
 * paths escaping the target, dirty hives; and a format 1.5 hive holding
 * big data stays valid, the values under that key going to the bundle. */
#include "apply_tu.h"

#include <sys/mount.h>

#include "util/ws_utf.h"

static void not_windows(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *empty;
	(void)state;

	atu_setup(&t, 1, "alice");
	empty = tu_tmpdir();
	free(t.tgt);
	t.tgt = ws_xstrdup(empty);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_NOT_WINDOWS);
	apply_report_release(&r);
	/* nothing written into the folder: no journal, no ProgramData */
	assert_true(tu_dir_empty(empty));
	free(empty);
	atu_release(&t);
}

static void read_only_target(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *mnt;
	(void)state;

	atu_setup(&t, 1, "alice");
	mnt = ws_xasprintf("%s/ro", t.dir);
	assert_int_equal(mkdir(mnt, 0755), 0);
	if (geteuid() != 0 || mount(t.tgt, mnt, NULL, MS_BIND, NULL) != 0) {
		printf("[  SKIP    ] read-only bind mount not possible here\n");
		free(mnt);
		atu_release(&t);
		skip();
	}
	if (mount(NULL, mnt, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) != 0) {
		umount(mnt);
		printf("[  SKIP    ] read-only remount not possible here\n");
		free(mnt);
		atu_release(&t);
		skip();
	}
	{
		char *keep = t.tgt, *before = atu_tree(t.tgt), *after;
		struct apply_undo_report u;

		t.tgt = mnt;
		apply_opts_init(&o);
		o.allow_plain_target = 1;
		assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_TARGET);
		assert_non_null(strstr(e.msg, "read-only"));
		apply_report_release(&r);
		/* A dry run of a read-only target is fine. */
		o.dry_run = 1;
		tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
		apply_report_release(&r);
		ws_error_clear(&e);
		assert_int_equal(apply_undo(mnt, NULL, NULL, &u, &e), WS_E_TARGET);
		t.tgt = keep;
		/* the tree under the mount is the same after all three */
		after = atu_tree(t.tgt);
		assert_string_equal(before, after);
		free(before);
		free(after);
	}
	assert_int_equal(umount(mnt), 0);
	free(mnt);
	atu_release(&t);
}

static void scan_of_another_device(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	struct store *st;
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	char other[STORE_SCAN_ID_MAX];
	char *before, *after;
	(void)state;

	atu_setup(&t, 1, "alice");
	before = atu_tree(t.tgt);
	atu_store_make(t.store, "OTHERPC", "S-1-5-21-1-2-3-1001", "alice", "C:\\Users\\alice",
		       NULL, 0, NULL, 0);
	st = atu_open(t.store);
	ws_error_clear(&e);
	tu_assert_ok(store_list_scans(st, "OTHERPC", &l, &e), &e);
	assert_int_equal(l.n, 1);
	snprintf(other, sizeof(other), "%s", l.v[0].info.scan_id);
	store_scan_list_release(&l);
	store_close(st);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.scan_id = other;
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_USAGE);
	assert_non_null(strstr(e.msg, "OTHERPC"));
	apply_report_release(&r);
	/* A device that is not in the store at all. */
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	snprintf(t.device, sizeof(t.device), "NOSUCHPC");
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_USAGE);
	apply_report_release(&r);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	free(before);
	free(after);
	atu_release(&t);
}

/* A store with one file at `path` for user alice is refused whole; when
 * nbad is not 0, the error counts that many store entries refused. */
static void refused_n(struct atu *t, const char *path, int n, unsigned nbad)
{
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	struct atu_file files[] = {
		{ "C:\\Users\\alice\\Documents\\fine.txt", "fine" },
		{ path, "evil" },
	};
	char *store = ws_xasprintf("%s/st%d", t->dir, n), *keep = t->store;
	char *before = atu_tree(t->tgt), *after;

	atu_store_make(store, "EVILPC", "S-1-5-21-9-9-9-1001", "alice", "C:\\Users\\alice",
		       NULL, 0, files, 2);
	t->store = store;
	snprintf(t->device, sizeof(t->device), "EVILPC");
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	ws_error_clear(&e);
	if (atu_apply(t, &o, &r, &e) != WS_E_UNSUPPORTED)
		fail_msg("%s: expected refusal, got %d: %s", path, e.code, e.msg);
	assert_non_null(strstr(e.msg, "refused"));
	if (nbad > 1) {
		char want[64];

		snprintf(want, sizeof(want), "%u store entries refused", nbad);
		if (!strstr(e.msg, want))
			fail_msg("%s: expected \"%s\" in: %s", path, want, e.msg);
	}
	apply_report_release(&r);
	after = atu_tree(t->tgt);
	assert_string_equal(before, after);
	t->store = keep;
	free(store);
	free(before);
	free(after);
}

static void refused(struct atu *t, const char *path, int n)
{
	refused_n(t, path, n, 0);
}

static void escaping_paths_refused(void **state)
{
	struct atu t;
	char *outside, *docs, *cmd;
	(void)state;

	atu_setup(&t, 1, "alice");
	refused(&t, "C:\\Users\\alice\\..\\..\\Windows\\evil.txt", 1);
	refused(&t, "C:\\Users\\alice\\Documents\\..\\..\\Public\\evil.txt", 2);
	refused(&t, "D:\\..\\Windows\\evil.txt", 3);   /* another drive: checked too */
	refused(&t, "C:\\Users\\alice\\.\\evil.txt", 4);
	refused(&t, "C:\\Users\\alice\\Documents\\a/../../evil.txt", 5);
	refused(&t, "\\\\server\\share\\evil.txt", 6);
	refused(&t, "Users\\alice\\evil.txt", 7);
	/* names Windows cannot hold (ws_winname_check) */
	refused(&t, "C:\\Users\\alice\\Documents\\fine.txt:stream", 20);
	refused(&t, "C:\\Users\\alice\\Documents\\NUL.txt", 21);
	refused(&t, "C:\\Users\\alice\\Documents\\dot.\\x.txt", 22);
	refused(&t, "C:\\Users\\alice\\Documents\\a\tb.txt", 23);
	/* off limits to file entries (apply_preflight.c) */
	refused(&t, "C:\\Users\\alice\\NTUSER.DAT", 30);
	refused(&t, "C:\\Users\\alice\\ntuser.dat.LOG1", 31);
	refused(&t, "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Windows\\UsrClass.dat", 32);
	/* Documents on the target is a link to a folder outside it. */
	outside = tu_tmpdir();
	docs = ws_xasprintf("%s/Users/alice/Documents", t.tgt);
	cmd = ws_xasprintf("rm -rf '%s'", docs);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(symlink(outside, docs), 0);
	/* both files of the folder behind the link: the first one's refusal
	 * does not vouch for the folder */
	refused_n(&t, "C:\\Users\\alice\\Documents\\evil.txt", 8, 2);
	{
		char *probe = ws_xasprintf("%s/evil.txt", outside);
		assert_false(ws_path_exists(probe));
		free(probe);
	}
	free(cmd);
	free(docs);
	free(outside);
	atu_release(&t);
}

static void winstate_folder_behind_link_refused(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *outside, *link, *before, *after;
	(void)state;

	atu_setup(&t, 2, "alice");
	outside = tu_tmpdir();
	link = ws_xasprintf("%s/ProgramData/winstate", t.tgt);
	assert_int_equal(symlink(outside, link), 0);
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_TARGET);
	apply_report_release(&r);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	assert_true(tu_dir_empty(outside));
	free(before);
	free(after);
	free(link);
	free(outside);
	atu_release(&t);
}

/* Make a hive dirty: secondary sequence number != primary, checksum fixed. */
static void make_dirty(const char *path)
{
	size_t len;
	unsigned char *b = (unsigned char *)tu_read_file(path, &len);
	uint32_t x = 0;

	assert_true(len > 4096);
	b[8] ^= 0x01;
	for (int i = 0; i < 127; i++)
		x ^= (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
		     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
	b[508] = (unsigned char)x;
	b[509] = (unsigned char)(x >> 8);
	b[510] = (unsigned char)(x >> 16);
	b[511] = (unsigned char)(x >> 24);
	tu_write_file(path, b, len);
	free(b);
}

static void dirty_target_hive_refused(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *hive, *before, *after;
	(void)state;

	atu_setup(&t, 2, "alice");
	hive = ws_xasprintf("%s/Users/alice/NTUSER.DAT", t.tgt);
	make_dirty(hive);
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_HIVE);
	assert_non_null(strstr(e.msg, "dirty"));
	assert_string_equal(e.where, hive);
	apply_report_release(&r);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(hive);
	atu_release(&t);
}

#define PUSH "Software\\Microsoft\\Windows\\CurrentVersion\\PushNotifications"

static void big_data_hive_stays_valid(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *real, *hive, *dir;
	struct reg_value before = { 0 }, after = { 0 }, v = { 0 };
	struct atu_val vals[] = {
		{ "HKCU\\" PUSH, "WinstateTest", REG_DWORD, "\x01\0\0\0", 4 },
		{ "HKCU\\Control Panel\\Desktop", "WinstateOk", REG_SZ, "o\0k\0\0", 6 },
	};
	(void)state;

	atu_setup(&t, 1, "alice");
	dir = tu_tmpdir();
	real = tu_testdata_hive("hives/notatin/NTUSER.DAT", dir);
	if (!real) {
		free(dir);
		atu_release(&t);
		skip();
	}
	hive = ws_xasprintf("%s/Users/alice/NTUSER.DAT", t.tgt);
	assert_int_equal(rename(real, hive), 0);
	assert_true(atu_hive_value(hive, PUSH, "AppDB", &before));
	assert_true(before.len > REG_BIG_DATA_MAX);
	free(t.store);
	t.store = ws_xasprintf("%s/st-big", t.dir);
	atu_store_make(t.store, "BIGPC", "S-1-5-21-9-9-9-1001", "alice", "C:\\Users\\alice",
		       vals, 2, NULL, 0);
	snprintf(t.device, sizeof(t.device), "BIGPC");
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_int_equal(r.values_set, 1);
	assert_int_equal(r.values_deferred, 1);
	assert_int_equal(r.values_staged, 1);
	assert_int_equal(r.bundles, 1);
	assert_int_equal(r.users[0].mode, APPLY_MODE_OFFLINE);
	{
		char *regf = ws_xasprintf("%s/ProgramData/winstate/bundles/%s/settings.reg", t.tgt,
					  r.users[0].new_sid);
		size_t len;
		char *raw = tu_read_file(regf, &len);
		struct ws_buf u = WS_BUF_INIT;

		assert_non_null(raw);
		ws_utf16le_to_utf8(raw + 2, len - 2, &u, 0);
		assert_non_null(strstr(u.buf, "[HKEY_CURRENT_USER\\" PUSH "]"));
		assert_non_null(strstr(u.buf, "\"WinstateTest\"=dword:00000001"));
		assert_null(strstr(u.buf, "WinstateOk"));
		ws_buf_release(&u);
		free(raw);
		free(regf);
	}
	apply_report_release(&r);
	/* The hive reopens, its big value is intact, the deferred one absent. */
	{
		struct reg_hive *h;
		struct reg_hive_info hi;

		ws_error_clear(&e);
		tu_assert_ok(reg_hive_open(hive, 0, &h, &e), &e);
		reg_hive_get_info(h, &hi);
		assert_int_equal(hi.minor, 5);
		assert_false(hi.dirty);
		reg_hive_close(h);
	}
	assert_true(atu_hive_value(hive, PUSH, "AppDB", &after));
	assert_int_equal(after.len, before.len);
	assert_memory_equal(after.data, before.data, before.len);
	assert_false(atu_hive_value(hive, PUSH, "WinstateTest", &v));
	assert_true(atu_hive_value(hive, "Control Panel\\Desktop", "WinstateOk", &v));
	reg_value_release(&v);
	if (system("command -v reglookup >/dev/null 2>&1") == 0) {
		char *cmd = ws_xasprintf("reglookup -p '/Control Panel/Desktop' '%s' 2>/dev/null | "
					 "grep -q WinstateOk", hive);
		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	if (system("command -v regfexport >/dev/null 2>&1") == 0) {
		char *cmd = ws_xasprintf("regfexport '%s' >/dev/null 2>&1", hive);
		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	reg_value_release(&before);
	reg_value_release(&after);
	free(hive);
	free(real);
	free(dir);
	atu_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(not_windows),
		cmocka_unit_test(read_only_target),
		cmocka_unit_test(scan_of_another_device),
		cmocka_unit_test(escaping_paths_refused),
		cmocka_unit_test(winstate_folder_behind_link_refused),
		cmocka_unit_test(dirty_target_hive_refused),
		cmocka_unit_test(big_data_hive_stays_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
