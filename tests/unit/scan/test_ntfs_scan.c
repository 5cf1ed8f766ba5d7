/* test_ntfs_scan.c - scanning a real NTFS file system (an image mounted with
 * ntfs-3g): real junctions are not followed (no file twice, no loop), the
 * OneDrive placeholder is recorded as cloud-only without an error, Windows
 * attributes and creation times come from the ntfs-3g xattrs, long paths
 * and Unicode names are captured.  Skipped without root, /dev/fuse, mkntfs
 * or ntfs-3g; the volume is unmounted in every case (group teardown). */
#include "scan_tu.h"

#include "fx_ntfs.h"

static struct fx_ntfs ntfs;
static struct rule_set *rs, *whole;
static char *work;
static int ready;
static char why[WS_ERROR_TEXT_MAX];

static int setup(void **state)
{
	struct fx_opts o;
	struct ws_error err;

	work = stu_tmpdir();
	fx_ntfs_init(&ntfs, work);
	ws_error_clear(&err);
	if (fx_ntfs_create(&ntfs, 64, &err)) {
		snprintf(why, sizeof(why), "%s%s%s", err.where, err.where[0] ? ": " : "",
			 err.msg);
		return 0;
	}
	fx_opts_init(&o);
	o.users = 2;
	o.files = 4;
	o.computer = "NTFS-PC";
	if (fx_ntfs_build_source(&ntfs, &o, &err)) {
		snprintf(why, sizeof(why), "building on NTFS: %s: %s", err.where, err.msg);
		return 0;
	}
	ready = 1;
	return 0;
}

static int teardown(void **state)
{
	fx_ntfs_release(&ntfs);
	return 0;
}

static void need_ntfs(void)
{
	if (!ready) {
		print_message("skipped: no NTFS test volume: %s\n", why);
		skip();
	}
}

static void scan_on_ntfs_respects_reparse_points(void **state)
{
	char *sd;
	struct scan_opts o;
	struct scan_result r;
	struct ws_error err;
	struct store *st;
	struct store_catalog *cat;
	struct store_record rec;
	struct stu_log l;
	int hidden = 0, cloud = 0, deep = 0;

	need_ntfs();
	sd = stu_path(work, "store");
	stu_log_init(&l);
	scan_opts_init(&o);
	o.source = ntfs.mnt;
	o.rules = whole;
	o.log = &l.log;
	st = stu_store(sd, 1);
	ws_error_clear(&err);
	tu_assert_ok(scan_device(st, &o, &r, &err), &err);
	assert_string_equal(r.device, "NTFS-PC");
	assert_int_equal(r.users, 2);
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.cloud, 2);
	/* both junctions of both users were seen and not followed */
	assert_non_null(strstr(l.all.buf, "alice\\My Documents: link not followed"));
	assert_non_null(strstr(l.all.buf, "bob\\AppData\\Local\\Application Data: link not followed"));
	tu_assert_ok(store_catalog_open(st, "NTFS-PC", NULL, &cat, &err), &err);
	for (;;) {
		tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
		if (rec.kind == STORE_REC_END)
			break;
		if (rec.kind != STORE_REC_FILE)
			continue;
		const struct store_file *f = &rec.u.file;

		assert_null(strstr(f->path, "My Documents"));
		assert_null(strstr(f->path, "Application Data"));
		if (strstr(f->path, "\\hidden.txt")) {
			hidden++;
			assert_int_equal(f->attributes, 0x22);
			assert_int_equal(f->created_ft, 132224256000000000ull);
		}
		if (strstr(f->path, "cloud only.docx")) {
			cloud++;
			assert_true(f->flags & STORE_FILE_NOT_CAPTURED);
			assert_int_equal(f->n_chunks, 0);
		}
		if (strlen(f->path) > 260)
			deep++;
	}
	assert_int_equal(hidden, 2);
	assert_int_equal(cloud, 2);
	assert_int_equal(deep, 2);
	store_catalog_free(cat);
	store_close(st);
	ws_buf_release(&l.all);
	free(sd);
}

static void rescan_on_ntfs_stores_nothing_new(void **state)
{
	char *sd;
	struct scan_opts o;
	struct scan_result r;
	struct ws_error err;
	struct store *st;

	need_ntfs();
	sd = stu_path(work, "store2");
	scan_opts_init(&o);
	o.source = ntfs.mnt;
	o.rules = rs;
	st = stu_store(sd, 1);
	ws_error_clear(&err);
	tu_assert_ok(scan_device(st, &o, &r, &err), &err);
	assert_true(r.bytes_new > 0);
	tu_assert_ok(scan_device(st, &o, &r, &err), &err);
	assert_int_equal(r.bytes_new, 0);
	store_close(st);
	free(sd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scan_on_ntfs_respects_reparse_points),
		cmocka_unit_test(rescan_on_ntfs_stores_nothing_new),
	};
	int rc;

	rs = stu_rules();
	whole = stu_rules_from(stu_profile_xml);
	rc = cmocka_run_group_tests(tests, setup, teardown);
	rule_set_free(rs);
	rule_set_free(whole);
	stu_cleanup();
	/* every test skipped: tell ctest (77) */
	return !ready && rc == 0 ? 77 : rc;
}
