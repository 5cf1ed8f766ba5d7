/* test_slips.c - operator slips the scanner refuses (WS_E_EMPTY, nothing
 * committed): a --users-include pattern that matches no profile, a
 * selection of no user (after a scan with users, or a device without
 * profiles), both accepted with allow_empty; a wave's shared patterns need
 * not match on every device; a device name in another case is recorded
 * under the store's spelling. */
#include "scan_tu.h"

static struct rule_set *rs;

static size_t nscans(const char *sd, const char *device)
{
	struct store *st = stu_store(sd, 0);
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct ws_error err;
	size_t n;

	ws_error_clear(&err);
	tu_assert_ok(store_list_scans(st, device, &l, &err), &err);
	n = l.n;
	store_scan_list_release(&l);
	store_close(st);
	return n;
}

/* Scan src into sd (or estimate when sd is NULL) with these patterns. */
static int scan_pats(const char *sd, const char *src, const char *device,
		     const char *const *inc, size_t ninc, const char *const *exc,
		     size_t nexc, int allow_empty, struct stu_log *l,
		     struct scan_result *r, struct ws_error *err)
{
	struct store *st = sd ? stu_store(sd, 1) : NULL;
	struct scan_opts o;
	int rc;

	scan_opts_init(&o);
	o.source = src;
	o.device = device;
	o.rules = rs;
	o.estimate = !sd;
	o.users_include = inc;
	o.n_users_include = ninc;
	o.users_exclude = exc;
	o.n_users_exclude = nexc;
	o.allow_empty = allow_empty;
	o.log = l ? &l->log : NULL;
	ws_error_clear(err);
	rc = scan_device(st, &o, r, err);
	store_close(st);
	return rc;
}

static void unmatched_include_is_refused(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 61, 2, "SLIP-PC");
	char *sd = stu_path(dir, "store");
	const char *typo[] = { "CONTOSO\\alcie" };
	const char *all[] = { "*" };
	const char *two[] = { "alice", "zed", "y?" };
	struct scan_result r;
	struct ws_error err;
	struct stu_log l;

	(void)state;
	tu_assert_ok(scan_pats(sd, src, NULL, NULL, 0, NULL, 0, 0, NULL, &r, &err), &err);
	assert_int_equal(r.users, 2);

	/* the typo: refused, pattern and profiles named, no scan */
	assert_int_equal(scan_pats(sd, src, NULL, typo, 1, all, 1, 0, NULL, &r, &err),
			 WS_E_EMPTY);
	assert_int_equal(err.code, WS_E_EMPTY);
	assert_non_null(strstr(err.msg, "'CONTOSO\\alcie' matches no user profile"));
	assert_non_null(strstr(err.msg, "its profiles: alice, bob"));
	/* the way out is a hint the CLI words, not an option named here */
	assert_int_equal(err.hint, WS_HINT_SCAN_ANYWAY);
	assert_null(strstr(err.msg, "--"));
	assert_string_equal(r.scan_id, "");
	assert_int_equal(nscans(sd, "SLIP-PC"), 1);
	/* estimate predicts it */
	assert_int_equal(scan_pats(NULL, src, NULL, typo, 1, all, 1, 0, NULL, &r, &err),
			 WS_E_EMPTY);

	/* one good pattern does not excuse the others; each bad one named */
	assert_int_equal(scan_pats(sd, src, NULL, two, 3, NULL, 0, 0, NULL, &r, &err),
			 WS_E_EMPTY);
	assert_non_null(strstr(err.msg, "'zed', 'y?' match no"));
	assert_null(strstr(err.msg, "'alice'"));
	assert_int_equal(nscans(sd, "SLIP-PC"), 1);

	/* allow_empty: scanned anyway, with a warning */
	stu_log_init(&l);
	tu_assert_ok(scan_pats(sd, src, NULL, two, 3, NULL, 0, 1, &l, &r, &err), &err);
	assert_int_equal(r.users, 2);
	assert_non_null(strstr(l.last_warn, "'zed', 'y?' match no user profile"));
	assert_non_null(strstr(l.last_warn, "scanned anyway"));
	ws_buf_release(&l.all);
	assert_int_equal(nscans(sd, "SLIP-PC"), 2);
	free(src);
	free(sd);
}

static void empty_selection_is_refused(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 62, 2, "SLIP-PC2");
	char *kiosk = stu_build(dir, "kiosk", 63, 0, "KIOSK");
	char *sd = stu_path(dir, "store");
	const char *all[] = { "*" };
	struct scan_result r;
	struct ws_error err;
	char good[STORE_SCAN_ID_MAX];

	(void)state;
	tu_assert_ok(scan_pats(sd, src, NULL, NULL, 0, NULL, 0, 0, NULL, &r, &err), &err);
	snprintf(good, sizeof(good), "%s", r.scan_id);

	/* every profile filtered out after a scan with users */
	assert_int_equal(scan_pats(sd, src, NULL, NULL, 0, all, 1, 0, NULL, &r, &err),
			 WS_E_EMPTY);
	assert_non_null(strstr(err.msg, "no user selected"));
	assert_int_equal(err.hint, WS_HINT_COMMIT_EMPTY);
	assert_non_null(strstr(err.msg, "(alice, bob)"));
	assert_non_null(strstr(err.msg, good));
	assert_non_null(strstr(err.msg, "has 2 user(s)"));
	assert_int_equal(nscans(sd, "SLIP-PC2"), 1);
	assert_int_equal(scan_pats(NULL, src, NULL, NULL, 0, all, 1, 0, NULL, &r, &err),
			 WS_E_EMPTY);

	/* allow_empty commits it; the next refusal still names the good scan */
	tu_assert_ok(scan_pats(sd, src, NULL, NULL, 0, all, 1, 1, NULL, &r, &err), &err);
	assert_int_equal(r.users, 0);
	assert_true(r.scan_id[0]);
	assert_int_equal(nscans(sd, "SLIP-PC2"), 2);
	assert_int_equal(scan_pats(sd, src, NULL, NULL, 0, all, 1, 0, NULL, &r, &err),
			 WS_E_EMPTY);
	assert_non_null(strstr(err.msg, good));

	/* a device without any profile: refused on its first scan too */
	assert_int_equal(scan_pats(sd, kiosk, NULL, NULL, 0, NULL, 0, 0, NULL, &r, &err),
			 WS_E_EMPTY);
	assert_non_null(strstr(err.msg, "the device has no user profile"));
	assert_int_equal(nscans(sd, "KIOSK"), 0);
	tu_assert_ok(scan_pats(sd, kiosk, NULL, NULL, 0, NULL, 0, 1, NULL, &r, &err), &err);
	assert_int_equal(nscans(sd, "KIOSK"), 1);
	free(src);
	free(kiosk);
	free(sd);
}

static void device_name_takes_the_stored_spelling(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 64, 1, "CASE-PC");
	char *sd = stu_path(dir, "store");
	struct scan_result r;
	struct ws_error err;
	struct stu_log l;
	struct store *st;
	struct store_scan_list list = STORE_SCAN_LIST_INIT;

	(void)state;
	tu_assert_ok(scan_pats(sd, src, "Room-42", NULL, 0, NULL, 0, 0, NULL, &r, &err), &err);
	assert_string_equal(r.device, "Room-42");
	stu_log_init(&l);
	tu_assert_ok(scan_pats(sd, src, "ROOM-42", NULL, 0, NULL, 0, 0, &l, &r, &err), &err);
	assert_string_equal(r.device, "Room-42");
	assert_non_null(strstr(l.all.buf, "the store names this device 'Room-42'"));
	ws_buf_release(&l.all);
	st = stu_store(sd, 0);
	tu_assert_ok(store_list_scans(st, NULL, &list, &err), &err);
	assert_int_equal(list.n, 2);
	assert_string_equal(list.v[0].info.device, "Room-42");
	assert_string_equal(list.v[1].info.device, "Room-42");
	store_scan_list_release(&list);
	store_close(st);
	free(src);
	free(sd);
}

static void wave_patterns_need_not_match_everywhere(void **state)
{
	char *dir = stu_tmpdir();
	char *a = stu_build(dir, "a", 65, 2, "WAVE-A"), *b = stu_build(dir, "b", 66, 1, "WAVE-B");
	char *sd = stu_path(dir, "store");
	const char *shared[] = { "bob" };
	struct scan_wave w = SCAN_WAVE_INIT;
	struct scan_fleet_opts fo;
	struct scan_report reps[2];
	struct ws_error err;
	int rc;

	(void)state;
	scan_wave_add(&w, a, NULL);
	scan_wave_add(&w, b, NULL);
	/* WAVE-B's own pattern is a typo */
	w.v[1].users_include = ws_xcalloc(1, sizeof(char *));
	w.v[1].users_include[0] = ws_xstrdup("zed");
	w.v[1].n_users_include = 1;
	memset(&fo, 0, sizeof(fo));
	fo.store_dir = sd;
	fo.store.create = 1;
	fo.jobs = 2;
	scan_opts_init(&fo.base);
	fo.base.rules = rs;
	fo.base.users_include = shared;
	fo.base.n_users_include = 1;
	ws_error_clear(&err);
	rc = scan_fleet(&fo, &w, reps, &err);
	assert_int_equal(rc, WS_E_EMPTY);
	assert_int_equal(reps[0].status, WS_OK);
	assert_int_equal(reps[0].res.users, 2);
	assert_int_equal(reps[1].status, WS_E_EMPTY);
	assert_non_null(strstr(reps[1].err.msg, "'zed'"));
	assert_null(strstr(reps[1].err.msg, "'bob'"));
	assert_int_equal(nscans(sd, "WAVE-B"), 0);
	scan_wave_release(&w);

	/* one device: the command line's pattern must match it */
	scan_wave_add(&w, b, NULL);
	rc = scan_fleet(&fo, &w, reps, &err);
	assert_int_equal(rc, WS_E_EMPTY);
	assert_non_null(strstr(reps[0].err.msg, "'bob' matches no"));
	scan_wave_release(&w);
	free(a);
	free(b);
	free(sd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unmatched_include_is_refused),
		cmocka_unit_test(empty_selection_is_refused),
		cmocka_unit_test(device_name_takes_the_stored_spelling),
		cmocka_unit_test(wave_patterns_need_not_match_everywhere),
	};
	int rc;

	rs = stu_rules();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rule_set_free(rs);
	stu_cleanup();
	return rc;
}
