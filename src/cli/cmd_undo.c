/*
 * cmd_undo.c - `winstate undo`: revert an apply on an offline Windows
 * installation from the journal it left under ProgramData\winstate\journal.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "apply/apply.h"
#include "cli/cli.h"
#include "cli/cli_text.h"
#include "cli/cli_json.h"
#include "cli/cli_run.h"
#include "volume/volume.h"

static const char usage_text[] =
	"usage: winstate undo --target DIR|DISK|IMAGE[@partN] [--journal DIR|FILE] [--json]\n"
	"\n"
	"Revert an apply: every file and hive it changed is restored byte for byte\n"
	"from its journal, everything it created is removed, then the journal itself.\n"
	"Only a journal whose every line verifies is used; links are never followed.\n"
	"\n"
	"  --target DIR            root of the Windows installation apply wrote to; or\n"
	"                          the disk, image or partition apply was given\n"
	"                          (mounted with ntfs-3g while undo runs)\n"
	"  --journal DIR|FILE      the journal folder (or its journal.log); default:\n"
	"                          the newest under ProgramData\\winstate\\journal\n"
	"  --json                  print the result as JSON\n"
	"  --log FILE              append the command line, every message and the\n"
	"                          result to FILE (docs/logs.md)\n"
	"  --log-level LEVEL       what --log records: error, warn, info (default), debug\n"
	"  --progress-log FILE     append USMT-style progress lines to FILE\n"
	"  -q, --quiet             only errors\n";

enum { OPT_TARGET = 256, OPT_JOURNAL, OPT_JSON, OPT_LOG, OPT_LOGLEVEL, OPT_PROGLOG };

static const struct option options[] = {
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "journal", required_argument, NULL, OPT_JOURNAL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "log-level", required_argument, NULL, OPT_LOGLEVEL },
	{ "progress-log", required_argument, NULL, OPT_PROGLOG },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

int cmd_undo(int argc, char **argv)
{
	const char *target = NULL, *journal = NULL, *log_path = NULL, *prog_log = NULL;
	struct apply_undo_report r;
	struct cli_run run;
	struct ws_error err, uerr;
	struct cli_target tg;
	char shown[sizeof(r.journal)];
	int c, rc, urc, json = 0, quiet = 0, level = WS_LOG_INFO;
	char totals[1024] = "";

	cli_run_init(&run, "undo", argc, argv);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+qh", options, NULL)) != -1) {
		switch (c) {
		case OPT_TARGET: target = optarg; break;
		case OPT_JOURNAL: journal = optarg; break;
		case OPT_JSON: json = 1; break;
		case OPT_LOG: log_path = optarg; break;
		case OPT_LOGLEVEL:
			if ((level = cli_run_parse_level(optarg)) < 0)
				return cli_usage("undo", "--log-level is error, warn, info or debug, not '%s'",
						 optarg);
			break;
		case OPT_PROGLOG: prog_log = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage_text, stdout); return WS_OK;
		default: return cli_bad_option("undo", options, "+qh", argc, argv);
		}
	}
	if (optind < argc)
		return cli_usage("undo", "unexpected argument '%s'", argv[optind]);
	if (!target)
		return cli_usage("undo", "--target is required");
	if (journal && vol_target_is_device(target))
		return cli_usage("undo", "--journal names a journal folder of a mounted target; "
				 "with a disk or image --target the newest journal is undone");
	if ((rc = cli_run_open(&run, log_path, level, prog_log)))
		return cli_run_finish(&run, rc, NULL);
	cli_run_output(&run, 0, quiet, json, 1);
	cli_run_device_start(&run, target, journal ? journal : "undo of the newest apply");
	ws_error_clear(&err);
	memset(&r, 0, sizeof(r));
	/* a disk, image or partition: mounted with ntfs-3g while undo runs */
	if ((rc = cli_target_open(&tg, target, 0, cli_run_log(&run), &err))) {
		char buf[2 * WS_ERROR_TEXT_MAX + 64];

		cli_error_format(&err, NULL, buf, sizeof(buf));
		cli_run_fail(&run, &err, NULL);
		cli_run_device_end(&run, target, rc, NULL, buf, 0);
		return cli_run_finish(&run, rc, NULL);
	}
	rc = apply_undo_ex(tg.root, journal, cli_run_log(&run), cli_run_progress(&run), &r, &err);
	cli_run_clear(&run);
	cli_target_show(&tg, r.journal, shown, sizeof(shown));
	snprintf(r.journal, sizeof(r.journal), "%s", shown);
	cli_target_error(&tg, &err);
	if (!rc || rc == WS_PARTIAL)
		snprintf(totals, sizeof(totals), "undone %s%s: %llu files restored, %llu files and "
			 "%llu folders removed, %llu folders and %llu files left", r.journal,
			 r.complete ? "" : " (an apply that was interrupted)",
			 (unsigned long long)r.restored, (unsigned long long)r.removed_files,
			 (unsigned long long)r.removed_dirs, (unsigned long long)r.left_dirs,
			 (unsigned long long)r.left_files);
	if (rc && rc != WS_PARTIAL) {
		char buf[2 * WS_ERROR_TEXT_MAX + 64];

		cli_error_format(&err, NULL, buf, sizeof(buf));
		cli_run_fail(&run, &err, NULL);
		cli_run_device_end(&run, target, rc, NULL, buf, 0);
	} else {
		cli_run_device_end(&run, target, rc, totals, NULL, 0);
	}
	if (rc && rc != WS_PARTIAL) {
		/* reported above */
	} else if (json) {
		struct cli_json j;

		cli_json_init(&j, 0);
		cli_json_obj(&j, NULL);
		cli_json_opt(&j, "journal", r.journal);
		cli_json_u64(&j, "restored", r.restored);
		cli_json_u64(&j, "removed_files", r.removed_files);
		cli_json_u64(&j, "removed_dirs", r.removed_dirs);
		cli_json_u64(&j, "left_dirs", r.left_dirs);
		cli_json_u64(&j, "left_files", r.left_files);
		cli_json_bool(&j, "complete", r.complete);
		cli_json_end(&j);
		cli_json_print(&j, stdout);
		cli_json_release(&j);
	} else if (!quiet) {
		printf("undone %s%s: %llu files restored, %llu files and %llu folders removed%s%s\n",
		       r.journal, r.complete ? "" : " (an apply that was interrupted)",
		       (unsigned long long)r.restored,
		       (unsigned long long)r.removed_files, (unsigned long long)r.removed_dirs,
		       r.left_dirs ? " (some folders were not empty and were left)" : "",
		       r.left_files ? "; files changed since apply were left in place" : "");
	}
	if (rc == WS_PARTIAL)
		cli_run_fail(&run, &err, NULL);
	ws_error_clear(&uerr);
	if ((urc = cli_target_close(&tg, &uerr))) {
		cli_run_fail(&run, &uerr, NULL);
		if (rc == WS_OK || rc == WS_PARTIAL)
			rc = urc;
	}
	return cli_run_finish(&run, rc, totals);
}
