/* test_report.c - the report model: a store written before event records
 * existed reads as devices with their newest scan as last attempt and new
 * bytes unknown; scan, apply and sign-in events give last attempts, failure
 * reasons, dedup savings, pending and restored first sign-ins and summed
 * verdicts; result lines are classified as the restore script writes them. */
#include "tu.h"

#include <string.h>

#include "report/report.h"
#include "util/ws_fs.h"

static void outcomes(void **state)
{
	static const struct { const char *line, *want; } t[] = {
		{ "2026-01-01T10:00:00 PC\\bob {X} attempt 1: restored: settings (reg.exe import exit code 0)", "restored" },
		{ "2026-01-01T10:00:00 PC\\bob {X} attempt 1: FAILED, 2 step(s): ...", "failed" },
		{ "2026-01-01T10:00:00 PC\\bob {X} attempt 1: failed: file a.txt: denied", "failed" },
		{ "2026-01-01T10:00:00 PC\\bob {X} attempt 2: runs again at the next sign-in (attempt 3 of 3)", "retrying" },
		{ "2026-01-01T10:00:00 PC\\bob {X} attempt 3: gave up after 3 attempts: ...", "gave-up" },
		{ "2026-01-01T10:00:00 PC\\bob {X} attempt 1: declined by the user: nothing restored", "declined" },
		{ "2026-01-01T10:00:00 PC\\bob {X} attempt 1: declined earlier: nothing restored", "declined" },
		{ "2026-01-01T10:00:00 PC\\bob {X} attempt 1: bundle expired on 2026-01-01: nothing restored", "expired" },
		{ "2026-01-01T10:00:00 PC\\bob {X} setup: Start pins placed: 3 pins as C:\\Users\\bob\\AppData\\Local\\Microsoft\\Windows\\Shell\\LayoutModification.json, read when Start makes this profile's first layout", "started" },
		{ "2026-01-01T10:00:00 PC\\bob {X} setup: Start pins not placed: this profile has a Start layout already (start2.bin)", "started" },
		{ "garbage", "unknown" },
		{ "", "unknown" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(report_signin_outcome(t[i].line), t[i].want);
}

static void scan_of(struct store *st, const char *device, const char *text)
{
	struct store_scan_info in;
	struct store_writer *w;
	struct store_user u = { 0, "S-1-5-21-1-2-3-1001", "PC\\alice", "C:\\Users\\alice", 0, 1 };
	struct store_file f;
	struct ws_error e;

	memset(&in, 0, sizeof(in));
	in.device = device;
	in.computer = device;
	memset(&f, 0, sizeof(f));
	f.user = 0;
	f.path = "C:\\Users\\alice\\a.txt";
	tu_assert_ok(store_scan_begin(st, &in, &w, &e), &e);
	tu_assert_ok(store_scan_add_user(w, &u, &e), &e);
	tu_assert_ok(store_scan_add_file_mem(w, &f, text, strlen(text), &e), &e);
	tu_assert_ok(store_scan_commit(w, NULL, &e), &e);
}

static void model(void **state)
{
	char *dir = tu_tmpdir();
	struct store_open_opts oo;
	struct store *st;
	struct ws_error e;
	struct report r;
	(void)state;

	memset(&oo, 0, sizeof(oo));
	oo.create = 1;
	tu_assert_ok(store_open(dir, &oo, &st, &e), &e);
	scan_of(st, "PC1", "hello");
	/* as an older winstate left it: no events */
	tu_assert_ok(report_build(st, &r, &e), &e);
	assert_int_equal(r.n_devices, 1);
	assert_false(r.devices[0].has_bytes_new);
	assert_null(r.devices[0].last_attempt);
	assert_int_equal(r.devices[0].attempt_status, WS_OK);
	assert_int_equal(r.devices[0].n_accounts, 1);
	assert_string_equal(r.devices[0].accounts[0], "PC\\alice");
	assert_int_equal(r.t.devices_captured, 1);
	report_release(&r);

	/* events: PC1 failed later (reason kept), PC2 never captured, an
	 * apply staging bob on NEW1 with verdicts, bob's sign-in restored */
	{
		struct store_event ev;
		struct store_count uc[] = { { "files_staged", 2 } };
		struct store_event_user u[] = {
			{ "PC\\bob", "S-1", "PC\\bob", "S-1", "first-sign-in",
			  "C:\\ProgramData\\winstate\\bundles\\S-1-5-21-9-9-9-1002", "", uc, 1 },
			{ "PC\\carol", "S-2", "", "", "first-sign-in",
			  "C:\\ProgramData\\winstate\\bundles\\S-1-5-21-9-9-9-1003", "", uc, 1 },
		};
		struct store_event_compat k[] = { { "Start", "dropped", 3, 0 }, { "Mouse", "carried", 2, 0 } };
		struct store_event_signin s;

		memset(&ev, 0, sizeof(ev));
		ev.type = STORE_EVENT_SCAN;
		ev.status = 33;
		ev.device = "pc1";
		ev.location = "/mnt/pc1";
		ev.message = "damaged hive";
		tu_assert_ok(store_event_write(st, &ev, NULL, &e), &e);
		ev.device = "";
		ev.location = "/mnt/pc2";
		ev.status = 26;
		ev.message = "not Windows";
		tu_assert_ok(store_event_write(st, &ev, NULL, &e), &e);
		memset(&ev, 0, sizeof(ev));
		ev.type = STORE_EVENT_APPLY;
		ev.device = "PC1";
		ev.computer = "NEW1";
		ev.users = u;
		ev.n_users = 2;
		ev.compat = k;
		ev.n_compat = 2;
		tu_assert_ok(store_event_write(st, &ev, NULL, &e), &e);
		tu_assert_ok(store_event_write(st, &ev, NULL, &e), &e); /* applied twice */
		memset(&s, 0, sizeof(s));
		s.key = "S-1-5-21-9-9-9-1002";
		s.outcome = "restored";
		memset(&ev, 0, sizeof(ev));
		ev.type = STORE_EVENT_SIGNIN;
		ev.computer = "new1";
		ev.signin = &s;
		tu_assert_ok(store_event_write(st, &ev, NULL, &e), &e);
	}
	tu_assert_ok(report_build(st, &r, &e), &e);
	assert_int_equal(r.n_devices, 2);
	/* sorted by name: "/mnt/pc2" (no device name known) before PC1 */
	assert_string_equal(r.devices[0].device, "/mnt/pc2");
	assert_int_equal(r.devices[0].attempt_status, 26);
	assert_string_equal(r.devices[1].device, "PC1");
	assert_int_equal(r.devices[1].attempt_status, 33);
	assert_string_equal(r.devices[1].last_attempt->message, "damaged hive");
	assert_non_null(r.devices[1].scan_id[0] ? r.devices[1].scan_id : NULL);
	assert_int_equal(r.t.devices_failed, 2);
	assert_int_equal(r.t.devices_captured, 1);
	assert_int_equal(r.n_applies, 2);
	assert_int_equal(r.n_signins, 1);
	assert_int_equal(r.t.signins_restored, 1);
	assert_int_equal(r.t.signins_pending, 2); /* carol, in each apply */
	assert_ptr_equal(report_signin_apply(&r, r.signins[0]), r.applies[1]);
	assert_int_equal(r.n_verdicts, 2);
	assert_string_equal(r.verdicts[0].component, "Mouse");
	assert_int_equal(r.verdicts[1].applies, 2);
	assert_int_equal(r.verdicts[1].values, 6);
	assert_int_equal(r.t.dropped, 2);
	assert_int_equal(r.t.carried, 2);
	report_release(&r);
	store_close(st);
	free(dir);
}

/* A result record whose last line is the setup phase's (the restore has
 * not recorded its outcome yet) counts as pending, not as failed. */
static void setup_line_is_pending(void **state)
{
	char *dir = tu_tmpdir();
	struct store_open_opts oo;
	struct store *st;
	struct ws_error e;
	struct report r;
	struct store_event ev;
	struct store_count uc[] = { { "files_staged", 1 } };
	struct store_event_user u[] = {
		{ "PC\\dave", "S-4", "PC\\dave", "S-4", "first-sign-in",
		  "C:\\ProgramData\\winstate\\bundles\\S-1-5-21-9-9-9-1004", "", uc, 1 },
	};
	struct store_event_signin s;

	(void)state;
	memset(&oo, 0, sizeof(oo));
	oo.create = 1;
	tu_assert_ok(store_open(dir, &oo, &st, &e), &e);
	scan_of(st, "PC4", "hello");
	memset(&ev, 0, sizeof(ev));
	ev.type = STORE_EVENT_APPLY;
	ev.device = "PC4";
	ev.computer = "NEW4";
	ev.users = u;
	ev.n_users = 1;
	tu_assert_ok(store_event_write(st, &ev, NULL, &e), &e);
	memset(&s, 0, sizeof(s));
	s.key = "S-1-5-21-9-9-9-1004";
	s.outcome = report_signin_outcome("2026-01-01T10:00:00 PC\\dave {X} setup: Start pins placed: 2 pins");
	memset(&ev, 0, sizeof(ev));
	ev.type = STORE_EVENT_SIGNIN;
	ev.computer = "NEW4";
	ev.signin = &s;
	tu_assert_ok(store_event_write(st, &ev, NULL, &e), &e);
	tu_assert_ok(report_build(st, &r, &e), &e);
	assert_int_equal(r.n_signins, 1);
	assert_string_equal(r.signins[0]->signin->outcome, "started");
	assert_int_equal(r.t.signins_pending, 1);
	assert_int_equal(r.t.signins_failed, 0);
	assert_int_equal(r.t.signins_restored, 0);
	report_release(&r);
	store_close(st);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(outcomes),
		cmocka_unit_test(model),
		cmocka_unit_test(setup_line_is_pending),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tu_cleanup();
	return rc;
}
