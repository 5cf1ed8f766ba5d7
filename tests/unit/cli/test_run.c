/* test_run.c - the progress line (bar, rate, ETA, item), durations and
 * sizes, the USMT progress-log line and the masked command line of
 * cli_run.h. */
#include "tu.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_run.h"

static void durations_and_sizes(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(cli_fmt_duration(b, sizeof(b), 7.2), "0:07");
	assert_string_equal(cli_fmt_duration(b, sizeof(b), 754), "12:34");
	assert_string_equal(cli_fmt_duration(b, sizeof(b), 3723), "1:02:03");
	assert_string_equal(cli_fmt_duration(b, sizeof(b), -1), "--:--");
	assert_string_equal(cli_fmt_hms(b, sizeof(b), 75.9), "00:01:15");
	assert_string_equal(cli_fmt_hms(b, sizeof(b), 36000), "10:00:00");
	assert_string_equal(cli_fmt_bytes(b, sizeof(b), 512), "512 B");
	assert_string_equal(cli_fmt_bytes(b, sizeof(b), 1536), "1.5 KB");
	assert_string_equal(cli_fmt_bytes(b, sizeof(b), 4718592), "4.5 MB");
	assert_string_equal(cli_fmt_bytes(b, sizeof(b), 3ull << 30), "3.00 GB");
}

static void rate_eta_percent(void **state)
{
	struct cli_bar b = { "PC1", "scan", NULL, 50, 100, 10u << 20, 40u << 20, 5.0 };

	(void)state;
	/* 10 MB in 5 s: 2 MB/s; 30 MB left: 15 s */
	assert_true(cli_bar_rate(&b) > 2097151.0 && cli_bar_rate(&b) < 2097153.0);
	assert_true(cli_bar_eta(&b) > 14.9 && cli_bar_eta(&b) < 15.1);
	/* files and bytes weigh together: 50/100 files, 160/640 64K units */
	assert_int_equal(cli_bar_percent(&b), (int)((50.0 + 160.0) * 100.0 / (100.0 + 640.0)));
	b.phase = "done";
	assert_int_equal(cli_bar_percent(&b), 100);
	/* nothing known: no percentage, no ETA */
	memset(&b, 0, sizeof(b));
	b.phase = "apply";
	assert_int_equal(cli_bar_percent(&b), -1);
	assert_true(cli_bar_eta(&b) < 0);
	assert_true(cli_bar_rate(&b) == 0);
	/* objects only: ETA from the objects' pace */
	b.done = 25;
	b.total = 100;
	b.elapsed = 10;
	assert_true(cli_bar_eta(&b) > 29.9 && cli_bar_eta(&b) < 30.1);
}

static void bar_layout(void **state)
{
	struct cli_bar b = { "PC1", "scan", "C:\\Users\\alice\\Documents\\report.docx", 50, 100,
			     10u << 20, 40u << 20, 5.0 };
	char line[512];

	(void)state;
	cli_bar_format(line, sizeof(line), &b, 200, 1);
	assert_non_null(strstr(line, "PC1 scan ["));
	assert_non_null(strstr(line, "] "));
	assert_non_null(strstr(line, "10.0 MB/40.0 MB"));
	assert_non_null(strstr(line, "(50/100)"));
	assert_non_null(strstr(line, "2.0 MB/s ETA 0:15"));
	assert_non_null(strstr(line, " C:\\Users\\alice\\Documents\\report.docx"));
	/* 28 % -> 5 of 20 cells filled */
	assert_non_null(strstr(line, "[#####...............]"));
	/* cut to the width: the item keeps its end */
	cli_bar_format(line, sizeof(line), &b, 100, 1);
	assert_true(strlen(line) <= 100);
	assert_non_null(strstr(line, " ..."));
	assert_non_null(strstr(line, "report.docx"));
	/* a plain line (no terminal): no bar */
	cli_bar_format(line, sizeof(line), &b, 200, 0);
	assert_null(strchr(line, '['));
	assert_non_null(strstr(line, "PC1 scan  28% 10.0 MB/40.0 MB"));
	/* a narrow terminal: the head is cut, never overflowing */
	cli_bar_format(line, sizeof(line), &b, 30, 1);
	assert_int_equal(strlen(line), 30);
}

static void progress_log_line(void **state)
{
	char line[256];
	struct tm tm = { 0 };
	time_t t;

	(void)state;
	tm.tm_year = 106;
	tm.tm_mon = 5;
	tm.tm_mday = 8;
	tm.tm_hour = 13;
	tm.tm_min = 49;
	tm.tm_sec = 13;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	cli_plog_format(line, sizeof(line), t, 10.4, "totalPercentageCompleted, 25, device, PC1");
	/* USMT's example: 08 Jun 2006, 13:49:13, 00:00:10, then the pairs */
	assert_string_equal(line, "08 Jun 2006, 13:49:13, 00:00:10, totalPercentageCompleted, 25, "
				  "device, PC1");
	assert_string_equal(cli_usmt_phase("scan"), "Scanning");
	assert_string_equal(cli_usmt_phase("commit"), "Saving");
	assert_string_equal(cli_usmt_phase("apply"), "Applying");
	assert_string_equal(cli_usmt_phase(NULL), "Initializing");
}

static void command_line_masks_secrets(void **state)
{
	char *argv[] = { "scan", "--source", "/mnt/my disk", "--recovery-password",
			 "111111-222222-333333", "--bitlocker-password=hunter2",
			 "--passphrase-env", "WS_PASS", "--store", "st", NULL };
	char buf[512];

	(void)state;
	cli_cmdline_masked(buf, sizeof(buf), 10, argv);
	assert_string_equal(buf, "scan --source \"/mnt/my disk\" --recovery-password *** "
				 "--bitlocker-password=*** --passphrase-env WS_PASS --store st");
	assert_null(strstr(buf, "111111"));
	assert_null(strstr(buf, "hunter2"));
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* A run of two devices, one failing: both files carry its whole story. */
static void run_writes_both_logs(void **state)
{
	char dir[] = "/tmp/wsclirun-XXXXXX", logp[64], plogp[64];
	char *argv[] = { "scan", "--inventory", "inv.csv", "--recovery-password", "123456-654321",
			 NULL };
	struct ws_progress_event ev = { 0 };
	struct cli_run run;
	char *log, *plog;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(logp, sizeof(logp), "%s/run.log", dir);
	snprintf(plogp, sizeof(plogp), "%s/run.prog", dir);
	cli_run_init(&run, "scan", 5, argv);
	assert_int_equal(cli_run_open(&run, logp, WS_LOG_WARN, plogp), 0);
	cli_run_output(&run, 0, 1, 0, 1);             /* -q: nothing on the terminal */
	run.devices = 2;
	cli_run_device_start(&run, "PC-1", "scan of /dev/sdb");
	ev.phase = "scan";
	ev.device = "PC-1";
	ev.total = 10;
	ev.bytes_total = 3u << 20;
	for (unsigned i = 0; i <= 10; i++) {
		ev.done = i;
		ev.bytes_done = (uint64_t)i * (3u << 20) / 10;
		ws_progress_emit(cli_run_progress(&run), &ev);
	}
	ws_logf(cli_run_log(&run), WS_LOG_INFO, "PC-1", "an info line the warn level drops");
	ws_logf(cli_run_log(&run), WS_LOG_WARN, "PC-1: C:\\x", "a warning");
	cli_run_device_end(&run, "PC-1", 0, "1 users, 10 files", NULL, 0);
	cli_run_device_start(&run, "PC-2", "scan of /dev/sdc");
	cli_run_device_end(&run, "PC-2", 33, NULL, "NTUSER.DAT: not a hive", 0);
	assert_int_equal(cli_run_finish(&run, 33, "2 devices: 1 ok, 1 failed"), 33);

	log = slurp(logp);
	assert_non_null(strstr(log, "\trun\t\tprogram: winstate scan, version "));
	assert_non_null(strstr(log, "\trun\t\tcommand line: winstate scan --inventory inv.csv "
				    "--recovery-password ***\n"));
	assert_null(strstr(log, "654321"));
	assert_non_null(strstr(log, "\trun\tPC-1\tstart: scan of /dev/sdb\n"));
	assert_null(strstr(log, "an info line"));
	assert_non_null(strstr(log, "\twarning\tPC-1: C:\\x\ta warning\n"));
	assert_non_null(strstr(log, "\trun\tPC-1\tend: ok: 1 users, 10 files\n"));
	assert_non_null(strstr(log, "\terror\tPC-2\tend: failed (exit 33, hive): NTUSER.DAT: not a hive\n"));
	assert_non_null(strstr(log, "\terror\t\tfinished: exit 33 (hive), elapsed "));
	assert_non_null(strstr(log, ": 2 devices: 1 ok, 1 failed\n"));

	plog = slurp(plogp);
	assert_non_null(strstr(plog, ", program, winstate scan\n"));
	assert_non_null(strstr(plog, ", commandLine, winstate scan --inventory inv.csv "
				     "--recovery-password ***\n"));
	assert_non_null(strstr(plog, ", PHASE, Scanning, device, PC-1\n"));
	assert_non_null(strstr(plog, ", totalSizeInMBToTransfer, 3.00, device, PC-1\n"));
	assert_non_null(strstr(plog, ", totalPercentageCompleted, 50, device, PC-1\n"));
	assert_non_null(strstr(plog, ", totalPercentageCompleted, 100, device, PC-1\n"));
	assert_non_null(strstr(plog, ", errorCode, 0, numberOfIgnoredErrors, 0, device, PC-1, "
				     "message, Successful run\n"));
	assert_non_null(strstr(plog, ", errorCode, 33, numberOfIgnoredErrors, 0, device, PC-2, "
				     "message, NTUSER.DAT: not a hive\n"));
	assert_non_null(strstr(plog, ", Elapsed Time, 00:"));
	assert_non_null(strstr(plog, ", errorCode, 33, numberOfIgnoredErrors, 0, message, hive\n"));
	/* 100 % once per device, whatever reports it */
	assert_null(strstr(strstr(plog, "totalPercentageCompleted, 100") + 1,
			   "totalPercentageCompleted, 100, device, PC-1"));
	free(log);
	free(plog);
	unlink(logp);
	unlink(plogp);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations_and_sizes),
		cmocka_unit_test(rate_eta_percent),
		cmocka_unit_test(bar_layout),
		cmocka_unit_test(progress_log_line),
		cmocka_unit_test(command_line_masks_secrets),
		cmocka_unit_test(run_writes_both_logs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
