/*
 * test_devices.c - device names in the store are case-insensitive (list,
 * catalog open, verify, prune; a store holding both spellings is one
 * device), an unknown device's error lists the store's devices, and prune
 * keeps a device's newest scan with users behind newer empty scans.
 */
#include "store_tu.h"

#include <time.h>
#include <unistd.h>

/* A scan with a value but no user (scan --allow-empty). */
static void scan_empty(struct store *st, const char *device, char *id_out)
{
	struct ws_error err;
	struct store_writer *w;
	struct store_scan_info in = stu_info(device);
	unsigned char dw[4] = { 0, 0, 0, 0 };
	struct store_value v = { STORE_SYSTEM, "HKLM\\Software\\X", "Y", 4, dw, 4, 0 };

	ws_error_clear(&err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	tu_assert_ok(store_scan_add_value(w, &v, &err), &err);
	tu_assert_ok(store_scan_commit(w, id_out, &err), &err);
}

static void scan_user(struct store *st, const char *device, const char *text,
		      char *id_out)
{
	const char *paths[] = { "C:\\Users\\alice\\a.txt" };
	const void *data[] = { text };
	size_t lens[] = { strlen(text) };

	stu_scan(st, device, paths, data, lens, 1, id_out);
}

static void names_any_case(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct store_catalog *cat;
	char a[STORE_SCAN_ID_MAX], b[STORE_SCAN_ID_MAX], c[STORE_SCAN_ID_MAX];
	char name[64];

	(void)state;
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	/* a store written before names were compared case-insensitively */
	scan_user(st, "pc01", "first", a);
	scan_user(st, "PC01", "second", b);
	scan_user(st, "PC02", "other", c);

	tu_assert_ok(store_list_scans(st, "Pc01", &l, &err), &err);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].info.scan_id, b);
	assert_string_equal(l.v[1].info.scan_id, a);
	store_scan_list_release(&l);

	/* newest of either spelling; a scan id with the device in any case */
	tu_assert_ok(store_catalog_open(st, "pc01", NULL, &cat, &err), &err);
	assert_string_equal(store_catalog_info(cat)->scan_id, b);
	store_catalog_free(cat);
	tu_assert_ok(store_catalog_open(st, "PC01", a, &cat, &err), &err);
	assert_string_equal(store_catalog_info(cat)->device, "pc01");
	store_catalog_free(cat);
	assert_int_equal(store_catalog_open(st, "pc02", a, &cat, &err), WS_E_USAGE);

	tu_assert_ok(store_device_find(st, "pC01", name, sizeof(name), &err), &err);
	assert_string_equal(name, "PC01");  /* the newest scan's spelling */

	/* unknown: the store's devices, each once, newest first */
	ws_error_clear(&err);
	assert_int_equal(store_device_find(st, "NOPE", NULL, 0, &err), WS_E_USAGE);
	assert_string_equal(err.where, "NOPE");
	assert_non_null(strstr(err.msg, "its devices: PC02, PC01"));
	assert_null(strstr(err.msg, "pc01"));
	ws_error_clear(&err);
	assert_int_equal(store_catalog_open(st, "NOPE", NULL, &cat, &err), WS_E_USAGE);
	assert_null(cat);
	assert_non_null(strstr(err.msg, "its devices: PC02, PC01"));

	/* verify: a device in any case; an unknown one is an error */
	struct store_verify_opts vo = { .device = "pc01", .deep = 1 };
	struct store_verify_stats vs;
	tu_assert_ok(store_verify(st, &vo, &vs, &err), &err);
	assert_int_equal(vs.scans, 2);
	vo.device = "nope";
	ws_error_clear(&err);
	assert_int_equal(store_verify(st, &vo, &vs, &err), WS_E_USAGE);
	assert_non_null(strstr(err.msg, "PC02, PC01"));

	/* prune: both spellings are one device */
	struct store_prune_opts po = { .keep = 1, .grace_seconds = 0 };
	struct store_prune_stats ps;
	tu_assert_ok(store_prune(st, &po, &ps, &err), &err);
	assert_int_equal(ps.scans_removed, 1);
	tu_assert_ok(store_list_scans(st, "PC01", &l, &err), &err);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].info.scan_id, b);
	store_scan_list_release(&l);
	store_close(st);

	/* an empty store says so */
	dir = stu_tmpdir();
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	ws_error_clear(&err);
	assert_int_equal(store_device_find(st, "PC01", NULL, 0, &err), WS_E_USAGE);
	assert_non_null(strstr(err.msg, "it holds no scan"));
	store_close(st);
}

static void prune_keeps_newest_scan_with_users(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct store_prune_opts po = { .keep = 1, .grace_seconds = 0 };
	struct store_prune_stats ps;
	char u1[STORE_SCAN_ID_MAX], u2[STORE_SCAN_ID_MAX];
	char e1[STORE_SCAN_ID_MAX], e2[STORE_SCAN_ID_MAX], q[STORE_SCAN_ID_MAX];

	(void)state;
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	scan_user(st, "PC01", "old", u1);
	scan_user(st, "PC01", "good", u2);
	scan_empty(st, "PC01", e1);
	scan_empty(st, "pc01", e2);
	scan_user(st, "PC02", "q", q);

	/* dry run first: the same decisions, nothing removed */
	po.dry_run = 1;
	tu_assert_ok(store_prune(st, &po, &ps, &err), &err);
	assert_int_equal(ps.scans_removed, 2);
	assert_int_equal(ps.scans_kept_users, 1);
	tu_assert_ok(store_list_scans(st, "PC01", &l, &err), &err);
	assert_int_equal(l.n, 4);
	store_scan_list_release(&l);

	/* keep 1: the newest (empty) and the newest with users stay */
	po.dry_run = 0;
	tu_assert_ok(store_prune(st, &po, &ps, &err), &err);
	assert_int_equal(ps.scans_removed, 2);
	assert_int_equal(ps.scans_kept_users, 1);
	tu_assert_ok(store_list_scans(st, "PC01", &l, &err), &err);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].info.scan_id, e2);
	assert_string_equal(l.v[1].info.scan_id, u2);
	store_scan_list_release(&l);

	/* keep 2 covers it: nothing "kept for users" is counted */
	po.keep = 2;
	tu_assert_ok(store_prune(st, &po, &ps, &err), &err);
	assert_int_equal(ps.scans_removed, 0);
	assert_int_equal(ps.scans_kept_users, 0);

	/* --force: only the newest N, with users or not */
	po.keep = 1;
	po.force = 1;
	tu_assert_ok(store_prune(st, &po, &ps, &err), &err);
	assert_int_equal(ps.scans_removed, 1);
	assert_int_equal(ps.scans_kept_users, 0);
	tu_assert_ok(store_list_scans(st, "PC01", &l, &err), &err);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].info.scan_id, e2);
	store_scan_list_release(&l);
	/* the other device is untouched */
	tu_assert_ok(store_list_scans(st, "PC02", &l, &err), &err);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].info.scan_id, q);
	assert_int_equal(l.v[0].n_users, 1);
	store_scan_list_release(&l);
	(void)u1;
	(void)e1;
	store_close(st);
}

/* The path of scans/<id>.<tag>.dev for `device` (to free). */
static char *tag_path(struct store *st, const char *dir, const char *id, const char *device)
{
	char tag[33];

	assert_int_equal(store_device_tag(st, device, tag), 0);
	return ws_xasprintf("%s/scans/%s.%s.dev", dir, id, tag);
}

/* Device tags: a scan's catalog is tagged with its device (keyed in an
 * encrypted store); looking for one device's scans does not open another
 * device's catalogs (a damaged one is not even seen), a catalog without a
 * tag (an older writer's) is still opened, a planted second tag hides
 * nothing, and prune removes a pruned scan's tag and orphan tags. */
static void device_tags_skip_other_devices(void **state)
{
	char *dir = stu_tmpdir(), *edir = stu_tmpdir();
	struct store *st, *est;
	struct ws_error err;
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct store_prune_opts po = { .keep = 1, .grace_seconds = 0 };
	struct store_prune_stats ps;
	struct store_catalog *cat;
	char a[STORE_SCAN_ID_MAX], b[STORE_SCAN_ID_MAX], c[STORE_SCAN_ID_MAX];
	char t1[33], t2[33], t3[33], t4[33];
	char *p, *q;

	(void)state;
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	/* case-insensitive like the names; another device, another tag */
	assert_int_equal(store_device_tag(st, "pc01", t1), 0);
	assert_int_equal(store_device_tag(st, "PC01", t2), 0);
	assert_string_equal(t1, t2);
	assert_int_equal(store_device_tag(st, "PC02", t3), 0);
	assert_string_not_equal(t1, t3);
	assert_int_equal(store_device_tag(st, "PC\x01", t4), -1);  /* control: none */
	tu_assert_ok(stu_open(edir, 1, "pass phrase", NULL, 0, &est, &err), &err);
	assert_int_equal(store_device_tag(est, "PC01", t4), 0);
	assert_string_not_equal(t1, t4);   /* keyed: names not guessable */
	store_close(est);

	scan_user(st, "PC01", "first", a);
	scan_user(st, "PC02", "other", b);
	scan_user(st, "pc01", "second", c);
	p = tag_path(st, dir, a, "PC01");
	assert_true(ws_path_exists(p));
	free(p);

	/* PC02's catalog damaged: PC01's scans are found without opening it */
	p = ws_xasprintf("%s/scans/%s.cat", dir, b);
	assert_int_equal(truncate(p, 3), 0);
	free(p);
	tu_assert_ok(store_list_scans(st, "PC01", &l, &err), &err);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.damaged, 0);
	store_scan_list_release(&l);
	tu_assert_ok(store_list_scans(st, NULL, &l, &err), &err);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.damaged, 1);
	store_scan_list_release(&l);
	tu_assert_ok(store_catalog_open(st, "pc01", NULL, &cat, &err), &err);
	assert_string_equal(store_catalog_info(cat)->scan_id, c);
	store_catalog_free(cat);

	/* an older writer's catalog has no tag: opened, found */
	p = tag_path(st, dir, c, "PC01");
	assert_int_equal(unlink(p), 0);
	free(p);
	tu_assert_ok(store_list_scans(st, "PC01", &l, &err), &err);
	assert_int_equal(l.n, 2);
	store_scan_list_release(&l);
	/* a planted tag of another device beside the real one hides nothing */
	p = tag_path(st, dir, a, "PC02");
	tu_write_file(p, "", 0);
	free(p);
	tu_assert_ok(store_list_scans(st, "PC01", &l, &err), &err);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.damaged, 0);
	store_scan_list_release(&l);

	/* prune (PC02's damaged catalog put back first): a's catalog and its
	 * tag go; the planted tag, now an orphan, goes too */
	p = ws_xasprintf("%s/scans/%s.cat", dir, b);
	assert_int_equal(unlink(p), 0);
	free(p);
	tu_assert_ok(store_prune(st, &po, &ps, &err), &err);
	assert_int_equal(ps.scans_removed, 1);
	p = tag_path(st, dir, a, "PC01");
	q = tag_path(st, dir, a, "PC02");
	assert_false(ws_path_exists(p));
	assert_false(ws_path_exists(q));
	free(p);
	free(q);
	p = tag_path(st, dir, b, "PC02");
	assert_false(ws_path_exists(p));   /* b's catalog was removed by hand: orphan */
	free(p);
	tu_assert_ok(store_list_scans(st, "PC01", &l, &err), &err);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].info.scan_id, c);
	store_scan_list_release(&l);
	store_close(st);
}

/* A device name with non-ASCII letters has a tag too: the same in any
 * case; names differing only in those letters share it (their catalogs are
 * opened and told apart by their contents), other devices' catalogs are
 * passed unopened. */
static void device_tags_non_ascii_names(void **state)
{
	char *dir = stu_tmpdir(), *p;
	struct store *st;
	struct ws_error err;
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct store_catalog *cat;
	char a[STORE_SCAN_ID_MAX], b[STORE_SCAN_ID_MAX], c[STORE_SCAN_ID_MAX],
	     d[STORE_SCAN_ID_MAX];
	char t1[33], t2[33], t3[33], t4[33];

	(void)state;
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	/* "PC-RÉCEPTION" in two cases, "PC-RÜCEPTION", "PC-RECEPTION" */
	assert_int_equal(store_device_tag(st, "PC-R\xc3\x89" "CEPTION", t1), 0);
	assert_int_equal(store_device_tag(st, "pc-r\xc3\xa9" "ception", t2), 0);
	assert_string_equal(t1, t2);
	assert_int_equal(store_device_tag(st, "PC-R\xc3\x9c" "CEPTION", t3), 0);
	assert_string_equal(t1, t3);
	assert_int_equal(store_device_tag(st, "PC-RECEPTION", t4), 0);
	assert_string_not_equal(t1, t4);
	/* a run of non-ASCII bytes counts once, wherever it is */
	assert_int_equal(store_device_tag(st, "\xd0\x9f\xd0\x9a-1", t3), 0);
	assert_int_equal(store_device_tag(st, "\xc3\x89-1", t4), 0);
	assert_string_equal(t3, t4);

	scan_user(st, "PC-R\xc3\x89" "CEPTION", "first", a);
	scan_user(st, "PC-R\xc3\x9c" "CEPTION", "other", b);
	scan_user(st, "PC-RECEPTION", "ascii", c);
	scan_user(st, "pc-r\xc3\xa9" "ception", "second", d);
	p = tag_path(st, dir, a, "PC-R\xc3\x89" "CEPTION");
	assert_true(ws_path_exists(p));
	free(p);
	/* the ASCII device's catalog damaged: not opened for the other */
	p = ws_xasprintf("%s/scans/%s.cat", dir, c);
	assert_int_equal(truncate(p, 3), 0);
	free(p);
	tu_assert_ok(store_list_scans(st, "Pc-R\xc3\xa9" "ception", &l, &err), &err);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.damaged, 0);
	assert_string_equal(l.v[0].info.scan_id, d);
	assert_string_equal(l.v[1].info.scan_id, a);
	store_scan_list_release(&l);
	tu_assert_ok(store_catalog_open(st, "PC-R\xc3\x9c" "CEPTION", NULL, &cat, &err), &err);
	assert_string_equal(store_catalog_info(cat)->scan_id, b);
	store_catalog_free(cat);
	store_close(st);
}

/* Wait until the clock (that of scan ids) is in its next second. */
static void next_second(void)
{
	time_t t = time(NULL);

	while (time(NULL) == t)
		usleep(10000);
}

static int any_scan(const struct store_scan_entry *e, void *ctx)
{
	(void)e;
	(void)ctx;
	return 1;
}

static int never(const struct store_scan_entry *e, void *ctx)
{
	(void)e;
	(void)ctx;
	return 0;
}

static int with_users(const struct store_scan_entry *e, void *ctx)
{
	(void)ctx;
	return e->n_users > 0;
}

/* Finding a device's newest scan (or newest with users, as scan does)
 * opens catalogs newest first and none older than needed: a damaged old
 * catalog is not even seen; listing every scan still counts it. */
static void newest_scans_found_without_older_catalogs(void **state)
{
	char *dir = stu_tmpdir(), *p;
	struct store *st;
	struct ws_error err;
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct store_catalog *cat;
	char a[STORE_SCAN_ID_MAX], b[STORE_SCAN_ID_MAX], c[STORE_SCAN_ID_MAX],
	     d[STORE_SCAN_ID_MAX];

	(void)state;
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	scan_user(st, "PC01", "old", a);
	next_second();
	scan_user(st, "PC01", "with users", b);
	next_second();
	scan_empty(st, "PC01", c);
	scan_empty(st, "pc01", d);
	p = ws_xasprintf("%s/scans/%s.cat", dir, a);
	assert_int_equal(truncate(p, 3), 0);
	free(p);

	tu_assert_ok(store_catalog_open(st, "PC01", NULL, &cat, &err), &err);
	assert_string_equal(store_catalog_info(cat)->scan_id, d);
	store_catalog_free(cat);
	tu_assert_ok(store_list_scans_until(st, "PC01", any_scan, NULL, &l, &err), &err);
	assert_true(l.n >= 1 && l.n <= 2);   /* c too when in d's second */
	assert_string_equal(l.v[0].info.scan_id, d);
	assert_int_equal(l.damaged, 0);
	store_scan_list_release(&l);
	/* back to the newest with users, in order, the damaged one unopened */
	tu_assert_ok(store_list_scans_until(st, "PC01", with_users, NULL, &l, &err), &err);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].info.scan_id, d);
	assert_string_equal(l.v[1].info.scan_id, c);
	assert_string_equal(l.v[2].info.scan_id, b);
	assert_int_equal(l.damaged, 0);
	store_scan_list_release(&l);
	tu_assert_ok(store_list_scans(st, "PC01", &l, &err), &err);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.damaged, 1);
	store_scan_list_release(&l);
	/* nothing satisfies: every catalog opened */
	tu_assert_ok(store_list_scans_until(st, "PC01", never, NULL, &l, &err), &err);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.damaged, 1);
	store_scan_list_release(&l);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_any_case),
		cmocka_unit_test(prune_keeps_newest_scan_with_users),
		cmocka_unit_test(device_tags_skip_other_devices),
		cmocka_unit_test(device_tags_non_ascii_names),
		cmocka_unit_test(newest_scans_found_without_older_catalogs),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	stu_cleanup();
	return rc;
}
