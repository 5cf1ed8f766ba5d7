/* test_drives.c - files of other drives than the scan's system drive: which
 * paths count as another drive, where they land on a target that has no such
 * drive (its system drive, same folders, as USMT does), one warning per
 * drive with its count, and undo putting the target back exactly. */
#include "apply_tu.h"

#include "apply/apply_private.h"

static void other_drive_detected(void **state)
{
	(void)state;
	assert_int_equal(afiles_other_drive("D:\\Data\\x.txt", 'C'), 'D');
	assert_int_equal(afiles_other_drive("e:\\Data", 'C'), 'E');
	assert_int_equal(afiles_other_drive("D:", 'C'), 'D');
	assert_int_equal(afiles_other_drive("C:\\Users\\a", 'C'), 0);
	assert_int_equal(afiles_other_drive("c:\\Users\\a", 'C'), 0);
	assert_int_equal(afiles_other_drive("D:\\Users\\a", 'd'), 0);
	/* not drive-absolute: not a drive at all */
	assert_int_equal(afiles_other_drive("D:relative", 'C'), 0);
	assert_int_equal(afiles_other_drive("\\\\server\\share\\x", 'C'), 0);
	assert_int_equal(afiles_other_drive("1:\\x", 'C'), 0);
	assert_int_equal(afiles_other_drive("", 'C'), 0);
	assert_int_equal(afiles_other_drive(NULL, 'C'), 0);
}

static void reroute_keeps_folders(void **state)
{
	struct ws_buf b = WS_BUF_INIT;

	(void)state;
	afiles_reroute("D:\\Data\\Projects\\model.bin", 'C', &b);
	assert_string_equal(b.buf, "C:\\Data\\Projects\\model.bin");
	afiles_reroute("E:\\x", 'C', &b);   /* reset first */
	assert_string_equal(b.buf, "C:\\x");
	afiles_reroute("D:", 'C', &b);
	assert_string_equal(b.buf, "C:\\");
	ws_buf_release(&b);
}

struct logcap {
	struct ws_buf warn;
	unsigned nwarn;
};

static void cap(void *ctx, int level, const char *where, const char *msg)
{
	struct logcap *c = ctx;

	if (level == WS_LOG_WARN) {
		ws_buf_addf(&c->warn, "%s: %s\n", where ? where : "", msg);
		c->nwarn++;
	}
}

/* A scan with system files on D: and E:, one user file on D: (outside
 * its profile), and the profile's own file. */
static void store_with_drives(const char *dir)
{
	static const struct { uint32_t user; const char *path, *content; } fs[] = {
		{ STORE_SYSTEM, "D:\\Data\\plan.txt", "plan\n" },
		{ STORE_SYSTEM, "D:\\Data\\Projects\\model.bin", "model" },
		{ STORE_SYSTEM, "E:\\Media\\song.txt", "la la\n" },
		{ 0, "D:\\Elsewhere\\a.txt", "not in the profile\n" },
		{ 0, "C:\\Users\\alice\\Documents\\mine.txt", "mine\n" },
	};
	struct store_open_opts so = { 0 };
	struct store *st;
	struct store_writer *w;
	struct store_scan_info info = { 0 };
	struct store_user u = { 0, "S-1-5-21-1-2-3-1001", "alice", "C:\\Users\\alice", 0,
				STORE_USER_LOCAL };
	struct ws_error e;

	so.create = 1;
	ws_error_clear(&e);
	tu_assert_ok(store_open(dir, &so, &st, &e), &e);
	info.device = "DRIVES-PC";
	info.system_drive = 'C';
	tu_assert_ok(store_scan_begin(st, &info, &w, &e), &e);
	tu_assert_ok(store_scan_add_user(w, &u, &e), &e);
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		struct store_file f = { 0 };

		f.user = fs[i].user;
		f.path = fs[i].path;
		f.size = strlen(fs[i].content);
		f.written_ft = 133000000000000000ull;
		tu_assert_ok(store_scan_add_file_mem(w, &f, fs[i].content, strlen(fs[i].content),
						     &e), &e);
	}
	tu_assert_ok(store_scan_commit(w, NULL, &e), &e);
	store_close(st);
}

static char *slurp(const char *path)
{
	struct ws_buf b = WS_BUF_INIT;
	struct ws_error e;

	ws_error_clear(&e);
	if (ws_read_file(path, 1 << 20, &b, &e)) {
		ws_buf_release(&b);
		return NULL;
	}
	return ws_buf_detach(&b, NULL);
}

static void rerouted_to_system_drive_and_undone(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct logcap c = { WS_BUF_INIT, 0 };
	struct ws_log log;
	struct ws_error e;
	char *before, *after, *p, *s;

	(void)state;
	atu_init(&t);
	atu_fixture(t.tgt, FX_TARGET, 0, "alice", 2);
	store_with_drives(t.store);
	snprintf(t.device, sizeof(t.device), "DRIVES-PC");
	before = atu_tree(t.tgt);

	memset(&log, 0, sizeof(log));
	log.fn = cap;
	log.ctx = &c;
	log.max_level = WS_LOG_WARN;
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.mode = APPLY_MODE_OFFLINE;
	o.log = &log;
	memset(&r, 0, sizeof(r));
	/* the user's file outside the profile is skipped: partial */
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_PARTIAL);
	p = ws_xasprintf("%s/Data/plan.txt", t.tgt);
	assert_non_null(s = slurp(p));
	assert_string_equal(s, "plan\n");
	free(s);
	free(p);
	p = ws_xasprintf("%s/Data/Projects/model.bin", t.tgt);
	assert_non_null(s = slurp(p));
	assert_string_equal(s, "model");
	free(s);
	free(p);
	p = ws_xasprintf("%s/Media/song.txt", t.tgt);
	assert_non_null(s = slurp(p));
	free(s);
	free(p);
	p = ws_xasprintf("%s/Elsewhere", t.tgt);
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	/* one warning per drive, naming it and its count */
	assert_non_null(strstr(c.warn.buf, "D:\\: the target has no drive D: here: the scan's "
				      "2 files and folders of that drive are placed on its system "
				      "drive C: in the same folders"));
	assert_non_null(strstr(c.warn.buf, "E:\\: the target has no drive E: here: the scan's "
				      "1 file and folder"));
	assert_null(strstr(strstr(strstr(c.warn.buf, "has no drive") + 1, "has no drive") + 1,
			   "has no drive"));   /* once per drive */
	apply_report_release(&r);

	ws_error_clear(&e);
	tu_assert_ok(apply_undo(t.tgt, NULL, NULL, &u, &e), &e);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	free(before);
	free(after);
	ws_buf_release(&c.warn);
	atu_release(&t);
}

/* A file of another drive aimed at what apply may never write once
 * rerouted (a machine hive) is refused like one of the system drive. */
static void rerouted_still_confined(void **state)
{
	static const char *paths[] = { "D:\\Windows\\System32\\config\\SAM",
				       "D:\\ProgramData\\winstate\\journal\\x" };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct atu t;
		struct apply_opts o;
		struct apply_report r;
		struct store_open_opts so = { 0 };
		struct store *st;
		struct store_writer *w;
		struct store_scan_info info = { 0 };
		struct store_user us = { 0, "S-1-5-21-1-2-3-1001", "alice", "C:\\Users\\alice", 0,
					 STORE_USER_LOCAL };
		struct store_file f = { 0 };
		struct ws_error e;
		char *before, *after;

		atu_init(&t);
		atu_fixture(t.tgt, FX_TARGET, 0, "alice", 2);
		so.create = 1;
		ws_error_clear(&e);
		tu_assert_ok(store_open(t.store, &so, &st, &e), &e);
		info.device = "HOSTILE";
		info.system_drive = 'C';
		tu_assert_ok(store_scan_begin(st, &info, &w, &e), &e);
		tu_assert_ok(store_scan_add_user(w, &us, &e), &e);
		f.user = STORE_SYSTEM;
		f.path = paths[i];
		f.size = 4;
		tu_assert_ok(store_scan_add_file_mem(w, &f, "evil", 4, &e), &e);
		tu_assert_ok(store_scan_commit(w, NULL, &e), &e);
		store_close(st);
		snprintf(t.device, sizeof(t.device), "HOSTILE");
		before = atu_tree(t.tgt);
		apply_opts_init(&o);
		o.allow_plain_target = 1;
		memset(&r, 0, sizeof(r));
		assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_UNSUPPORTED);
		assert_non_null(strstr(e.where, paths[i]));
		after = atu_tree(t.tgt);
		assert_string_equal(before, after);
		apply_report_release(&r);
		free(before);
		free(after);
		atu_release(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(other_drive_detected),
		cmocka_unit_test(reroute_keeps_folders),
		cmocka_unit_test(rerouted_to_system_drive_and_undone),
		cmocka_unit_test(rerouted_still_confined),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
