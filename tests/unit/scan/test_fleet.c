/* test_fleet.c - waves of devices: the inventory CSV (quoting, bad lines,
 * duplicates), parallel scans into one store, one bad device never stopping
 * the others, the wave's status. */
#include "scan_tu.h"

#include <pthread.h>
#include <sys/stat.h>

static struct rule_set *rs;

static void inventory_is_parsed_with_quotes_and_patterns(void **state)
{
	static const char csv[] =
		"\xEF\xBB\xBF# wave 1\r\n"
		"Source, Device ,users-exclude,users-include\r\n"
		"/mnt/a,PC-A,,\r\n"
		"\r\n"
		"\"/mnt/with, comma\",\"PC \"\"B\"\"\",*\\admin; *-500 ,CONTOSO\\*\r\n"
		"# a comment\r\n"
		"\"/mnt/multi\nline\",,,\n"
		"/mnt/last,PC-C,,";
	struct scan_wave w = SCAN_WAVE_INIT;
	struct ws_error err;

	ws_error_clear(&err);
	tu_assert_ok(scan_inventory_parse("inv.csv", csv, sizeof(csv) - 1, &w, &err), &err);
	assert_int_equal(w.n, 4);
	assert_string_equal(w.v[0].source, "/mnt/a");
	assert_string_equal(w.v[0].device, "PC-A");
	assert_int_equal(w.v[0].line, 3);
	assert_int_equal(w.v[0].n_users_include, 0);
	assert_string_equal(w.v[1].source, "/mnt/with, comma");
	assert_string_equal(w.v[1].device, "PC \"B\"");
	assert_int_equal(w.v[1].line, 5);
	assert_int_equal(w.v[1].n_users_exclude, 2);
	assert_string_equal(w.v[1].users_exclude[0], "*\\admin");
	assert_string_equal(w.v[1].users_exclude[1], "*-500");
	assert_int_equal(w.v[1].n_users_include, 1);
	assert_string_equal(w.v[1].users_include[0], "CONTOSO\\*");
	assert_string_equal(w.v[2].source, "/mnt/multi\nline");
	assert_null(w.v[2].device);
	assert_int_equal(w.v[2].line, 7);
	assert_string_equal(w.v[3].device, "PC-C");
	assert_int_equal(w.v[3].line, 9);
	for (size_t i = 0; i < w.n; i++)
		assert_false(w.v[i].bad);
	scan_wave_release(&w);
}

static void bad_lines_are_reported_and_the_rest_kept(void **state)
{
	static const char csv[] =
		"device,source\n"
		"A,/mnt/a\n"                 /* 2 */
		"\"B,/mnt/b\n"               /* 3: unbalanced quote */
		"C,/mnt/c,extra\n"           /* 4: too many fields */
		"D,\n"                       /* 5: no source */
		"a,/mnt/a2\n"                /* 6: duplicate of A (case-insensitive) */
		"E,\"/mnt/e\"x\n"            /* 7: text after quote */
		"F,/mnt/f\n";                /* 8 */
	struct scan_wave w = SCAN_WAVE_INIT;
	struct ws_error err;

	ws_error_clear(&err);
	tu_assert_ok(scan_inventory_parse("inv.csv", csv, sizeof(csv) - 1, &w, &err), &err);
	assert_int_equal(w.n, 7);
	assert_false(w.v[0].bad);
	assert_true(w.v[1].bad);
	assert_int_equal(w.v[1].line, 3);
	assert_non_null(strstr(w.v[1].message, "inv.csv:3: "));
	assert_true(w.v[2].bad);
	assert_non_null(strstr(w.v[2].message, "inv.csv:4: 3 fields"));
	assert_string_equal(w.v[2].device, "C");
	assert_true(w.v[3].bad);
	assert_non_null(strstr(w.v[3].message, "no source"));
	assert_true(w.v[4].bad);
	assert_non_null(strstr(w.v[4].message, "already listed on line 2"));
	assert_true(w.v[5].bad);
	assert_int_equal(w.v[5].line, 7);
	assert_false(w.v[6].bad);
	assert_string_equal(w.v[6].device, "F");
	assert_int_equal(w.v[6].line, 8);
	scan_wave_release(&w);
}

static void unusable_inventory_is_an_error(void **state)
{
	struct scan_wave w = SCAN_WAVE_INIT;
	struct ws_error err;

	ws_error_clear(&err);
	assert_int_equal(scan_inventory_parse("x.csv", "", 0, &w, &err), WS_E_USAGE);
	assert_int_equal(scan_inventory_parse("x.csv", "device,path\nA,/b\n", 17, &w, &err),
			 WS_E_USAGE);
	assert_non_null(strstr(err.msg, "'source'"));
	assert_int_equal(err.line, 1);
	assert_int_equal(scan_inventory_load("/nonexistent/inv.csv", &w, &err), WS_E_IO);
	assert_int_equal(w.n, 0);
	scan_wave_release(&w);
}

static void status_is_the_worst_device(void **state)
{
	struct scan_report r[3];

	memset(r, 0, sizeof(r));
	assert_int_equal(scan_fleet_status(r, 3), WS_OK);
	r[1].status = WS_PARTIAL;
	assert_int_equal(scan_fleet_status(r, 3), WS_PARTIAL);
	r[2].status = WS_E_USAGE;
	assert_int_equal(scan_fleet_status(r, 3), WS_E_USAGE);
	r[0].status = WS_E_HIVE;
	assert_int_equal(scan_fleet_status(r, 3), WS_E_HIVE);
	assert_int_equal(scan_fleet_status(r, 0), WS_OK);
}

/* A cancel that stopped a device is seen whatever the wave's status (a
 * failure ranks above it); a wave that ended on its own was not stopped. */
static void stopped_by_a_cancel(void **state)
{
	struct scan_report r[3];

	(void)state;
	memset(r, 0, sizeof(r));
	assert_false(scan_fleet_stopped(r, 3));
	r[0].status = WS_PARTIAL;
	r[1].status = WS_E_HIVE;
	assert_false(scan_fleet_stopped(r, 3));
	r[2].status = WS_E_CANCELED;
	assert_true(scan_fleet_stopped(r, 3));
	assert_int_equal(scan_fleet_status(r, 3), WS_E_HIVE);
	assert_false(scan_fleet_stopped(r, 2));
	assert_false(scan_fleet_stopped(r, 0));
}

/* Callback checks: serialised, and a start before every end. */
struct watch {
	pthread_mutex_t mu;
	int inside, overlap;
	unsigned started, ended, files, warnings;
};

static void watch_enter(struct watch *w)
{
	if (pthread_mutex_trylock(&w->mu) != 0) {
		w->overlap = 1;
		return;
	}
	if (w->inside++)
		w->overlap = 1;
}

static void watch_leave(struct watch *w)
{
	w->inside--;
	pthread_mutex_unlock(&w->mu);
}

static void on_dev(void *ctx, size_t i, const struct scan_report *rep)
{
	struct watch *w = ctx;

	(void)i;
	watch_enter(w);
	if (rep)
		w->ended++;
	else
		w->started++;
	watch_leave(w);
}

static void on_file(void *ctx, const struct scan_file_event *ev)
{
	struct watch *w = ctx;

	watch_enter(w);
	assert_non_null(ev->device);
	w->files++;
	watch_leave(w);
}

static void on_log(void *ctx, int level, const char *where, const char *msg)
{
	struct watch *w = ctx;

	(void)msg;
	watch_enter(w);
	if (level == WS_LOG_WARN)
		w->warnings++;
	/* every line names its device */
	assert_true(!strncmp(where, "PC-", 3) || !strncmp(where, "DUP", 3) ||
		    strchr(where, '/'));
	watch_leave(w);
}

static void run_wave(const char *store_dir, struct scan_wave *w, unsigned jobs,
		     int cont, struct scan_report *reps, int *status,
		     struct watch *wt)
{
	struct scan_fleet_opts fo;
	struct ws_log log = { on_log, wt, WS_LOG_DEBUG, 0, 0 };
	struct ws_error err;

	memset(&fo, 0, sizeof(fo));
	fo.store_dir = store_dir;
	fo.store.create = 1;
	fo.jobs = jobs;
	scan_opts_init(&fo.base);
	fo.base.rules = rs;
	fo.base.continue_on_error = cont;
	fo.base.log = &log;
	fo.base.on_file = on_file;
	fo.base.on_file_ctx = wt;
	fo.on_device = on_dev;
	fo.on_device_ctx = wt;
	ws_error_clear(&err);
	*status = scan_fleet(&fo, w, reps, &err);
}

static void wave_goes_on_past_bad_devices(void **state)
{
	char *dir = stu_tmpdir(), *sd = stu_path(dir, "store");
	char *src[6], *notwin = stu_path(dir, "notwin");
	struct scan_wave w = SCAN_WAVE_INIT;
	struct scan_report reps[9];
	struct watch wt = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0, 0 };
	struct ws_buf csv = WS_BUF_INIT;
	struct ws_error err;
	struct store *st;
	struct store_scan_list list = STORE_SCAN_LIST_INIT;
	int status;

	for (int i = 0; i < 5; i++) {
		char name[16];

		snprintf(name, sizeof(name), "d%d", i);
		src[i] = stu_build(dir, name, 100 + (uint64_t)i, 2, NULL);
	}
	/* same computer name as d0 (PC-100): a cloned image */
	src[5] = stu_build(dir, "clone", 200, 1, "PC-100");
	ws_error_clear(&err);
	tu_assert_ok(fx_damage_ntuser(src[3], "bob", &err), &err);
	mkdir(notwin, 0700);
	ws_buf_addf(&csv, "device,source,users-exclude\n"
		    ",%s,\n"            /* 2: PC-100 */
		    ",%s,bob\n"         /* 3: PC-101 without bob */
		    "\"broken,%s,\n"    /* 4: bad line */
		    ",%s,\n"            /* 5: PC-103, damaged hive */
		    ",%s,\n"            /* 6: PC-104 */
		    "NOTWIN,%s,\n"      /* 7: not Windows */
		    ",%s,\n"            /* 8: PC-102 */
		    ",%s,\n",           /* 9: computer name PC-100 again */
		    src[0], src[1], src[2], src[3], src[4], notwin, src[2], src[5]);
	tu_assert_ok(scan_inventory_parse("wave.csv", csv.buf, csv.len, &w, &err), &err);
	assert_int_equal(w.n, 8);

	run_wave(sd, &w, 2, 0, reps, &status, &wt);
	assert_false(wt.overlap);
	assert_int_equal(wt.started, 7); /* the bad line is never started */
	assert_int_equal(wt.ended, 7);
	assert_true(wt.files > 0);
	assert_int_equal(reps[0].status, WS_OK);
	assert_string_equal(reps[0].res.device, "PC-100");
	assert_int_equal(reps[1].status, WS_OK);
	assert_int_equal(reps[1].res.users, 1);
	assert_int_equal(reps[1].res.users_skipped, 2);
	assert_int_equal(reps[2].status, WS_E_USAGE);
	assert_int_equal(reps[3].status, WS_E_HIVE);
	assert_string_equal(reps[3].res.device, "PC-103");
	assert_int_equal(reps[4].status, WS_OK);
	assert_int_equal(reps[5].status, WS_E_NOT_WINDOWS);
	assert_int_equal(reps[6].status, WS_OK);
	assert_int_equal(reps[7].status, WS_E_USAGE);
	assert_non_null(strstr(reps[7].err.msg, "PC-100"));
	assert_int_equal(status, WS_E_HIVE);
	for (int i = 0; i < 8; i++)
		assert_ptr_equal(reps[i].target, &w.v[i]);

	st = stu_store(sd, 0);
	tu_assert_ok(store_list_scans(st, NULL, &list, &err), &err);
	assert_int_equal(list.n, 4); /* PC-100, PC-101, PC-104, PC-102 */
	store_scan_list_release(&list);
	store_close(st);

	/* with --continue-on-error the damaged device completes: only
	 * unscannable lines keep the wave from 3 */
	memset(&wt, 0, sizeof(wt));
	pthread_mutex_init(&wt.mu, NULL);
	run_wave(sd, &w, 3, 1, reps, &status, &wt);
	assert_int_equal(reps[3].status, WS_PARTIAL);
	assert_int_equal(reps[3].res.users_no_registry, 1);
	assert_int_equal(reps[0].res.bytes_new, 0); /* rescan: nothing new */
	assert_int_equal(status, WS_E_NOT_WINDOWS);
	pthread_mutex_destroy(&wt.mu);

	scan_wave_release(&w);
	ws_buf_release(&csv);
	for (int i = 0; i < 6; i++)
		free(src[i]);
	free(notwin);
	free(sd);
}

static void jobs_do_not_change_what_is_captured(void **state)
{
	char *dir = stu_tmpdir(), *sd1 = stu_path(dir, "s1"), *sd2 = stu_path(dir, "s2");
	struct scan_wave w = SCAN_WAVE_INIT;
	struct scan_report r1[5], r2[5];
	struct watch wt = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0, 0 };
	char *src[5];
	int s1, s2;

	for (int i = 0; i < 5; i++) {
		char name[16];

		snprintf(name, sizeof(name), "d%d", i);
		src[i] = stu_build(dir, name, 300 + (uint64_t)i, 1, NULL);
		scan_wave_add(&w, src[i], NULL);
	}
	run_wave(sd1, &w, 1, 0, r1, &s1, &wt);
	run_wave(sd2, &w, 4, 0, r2, &s2, &wt);
	assert_int_equal(s1, WS_OK);
	assert_int_equal(s2, WS_OK);
	for (int i = 0; i < 5; i++) {
		assert_string_equal(r1[i].res.device, r2[i].res.device);
		assert_int_equal(r1[i].res.files, r2[i].res.files);
		assert_int_equal(r1[i].res.values, r2[i].res.values);
		assert_int_equal(r1[i].res.bytes, r2[i].res.bytes);
		free(src[i]);
	}
	/* shared content (same seed-only files across devices) is stored once */
	{
		uint64_t sum_new = 0, sum = 0;

		for (int i = 0; i < 5; i++) {
			sum_new += r2[i].res.bytes_new;
			sum += r2[i].res.bytes;
		}
		assert_true(sum_new <= sum);
	}
	scan_wave_release(&w);
	free(sd1);
	free(sd2);
}

static void estimate_wave_needs_no_store(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "d", 400, 2, NULL);
	struct scan_wave w = SCAN_WAVE_INIT;
	struct scan_fleet_opts fo;
	struct scan_report rep[2];
	struct ws_error err;

	scan_wave_add(&w, src, "EST-1");
	scan_wave_add(&w, src, "EST-2");
	memset(&fo, 0, sizeof(fo));
	fo.jobs = 2;
	scan_opts_init(&fo.base);
	fo.base.rules = rs;
	fo.base.estimate = 1;
	ws_error_clear(&err);
	assert_int_equal(scan_fleet(&fo, &w, rep, &err), WS_OK);
	assert_string_equal(rep[0].res.device, "EST-1");
	assert_string_equal(rep[1].res.device, "EST-2");
	assert_int_equal(rep[0].res.files, rep[1].res.files);
	assert_true(rep[0].res.files > 0);
	scan_wave_release(&w);
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(inventory_is_parsed_with_quotes_and_patterns),
		cmocka_unit_test(bad_lines_are_reported_and_the_rest_kept),
		cmocka_unit_test(unusable_inventory_is_an_error),
		cmocka_unit_test(status_is_the_worst_device),
		cmocka_unit_test(stopped_by_a_cancel),
		cmocka_unit_test(wave_goes_on_past_bad_devices),
		cmocka_unit_test(jobs_do_not_change_what_is_captured),
		cmocka_unit_test(estimate_wave_needs_no_store),
	};
	int rc;

	rs = stu_rules();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rule_set_free(rs);
	stu_cleanup();
	return rc;
}
