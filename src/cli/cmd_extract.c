/*
 * cmd_extract.c - `winstate extract`: restore a scan's files into a plain
 * folder (DEST/<drive>/<path>), salvaging everything that is not damaged.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_text.h"
#include "cli/cli_common.h"
#include "cli/cli_run.h"

static const char extract_usage[] =
	"usage: winstate extract --store DIR --device NAME [--scan ID] --to DIR\n"
	"                        [--include PAT]... [--exclude PAT]...\n"
	"                        [--key-file F | --passphrase-env VAR]\n"
	"\n"
	"  --include/--exclude PAT  wildcard on the Windows path, case-insensitive\n"
	"                           (\"C:\\Users\\*\\Documents\\*\"); exclude wins\n"
	"  --log FILE               append the command line, every message and the\n"
	"                           result to FILE (docs/logs.md)\n"
	"  --log-level LEVEL        what --log records: error, warn, info (default), debug\n"
	"  --progress-log FILE      append USMT-style progress lines to FILE\n"
	"  -q, --quiet              only errors\n"
	"Ctrl-C stops between files (exit 2): every file written is whole.\n"
	"\nExit: 0 done, 3 some paths refused, 42 some files damaged (the rest written).\n";

enum { OPT_STORE = 256, OPT_DEVICE, OPT_SCAN, OPT_TO, OPT_INCLUDE, OPT_EXCLUDE,
       OPT_KEYFILE, OPT_PASSENV, OPT_HELP, OPT_LOG, OPT_LOGLEVEL, OPT_PROGLOG };

static const struct option extract_options[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "scan", required_argument, NULL, OPT_SCAN },
	{ "to", required_argument, NULL, OPT_TO },
	{ "include", required_argument, NULL, OPT_INCLUDE },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "key-file", required_argument, NULL, OPT_KEYFILE },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "log-level", required_argument, NULL, OPT_LOGLEVEL },
	{ "progress-log", required_argument, NULL, OPT_PROGLOG },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 }
};

static void on_problem(void *ctx, const struct store_problem *p)
{
	ws_logf(cli_run_log(ctx), WS_LOG_WARN, p->file ? p->file : p->object, "%s", p->message);
}

int cmd_extract(int argc, char **argv)
{
	const char *store_dir = NULL, *device = NULL, *scan_id = NULL, *to = NULL;
	const char **inc = NULL, **exc = NULL;
	size_t ninc = 0, nexc = 0;
	struct cli_key_opts key = { 0 };
	const char *log_path = NULL, *prog_log = NULL;
	struct cli_run run;
	int quiet = 0, level = WS_LOG_INFO;
	char totals[1024] = "";
	struct store *st = NULL;
	struct store_catalog *cat = NULL;
	struct store_extract_opts xo;
	struct store_extract_stats xs;
	struct ws_error err;
	int c, rc;

	cli_run_init(&run, "extract", argc, argv);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+qh", extract_options, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store_dir = optarg; break;
		case OPT_DEVICE: device = optarg; break;
		case OPT_SCAN: scan_id = optarg; break;
		case OPT_TO: to = optarg; break;
		case OPT_INCLUDE:
			inc = realloc(inc, (ninc + 1) * sizeof(*inc));
			inc[ninc++] = optarg;
			break;
		case OPT_EXCLUDE:
			exc = realloc(exc, (nexc + 1) * sizeof(*exc));
			exc[nexc++] = optarg;
			break;
		case OPT_KEYFILE: key.key_file = optarg; break;
		case OPT_PASSENV: key.passphrase_env = optarg; break;
		case OPT_LOG: log_path = optarg; break;
		case OPT_LOGLEVEL:
			if ((level = cli_run_parse_level(optarg)) < 0) {
				free(inc);
				free(exc);
				return cli_usage("extract", "--log-level is error, warn, info or debug, "
						 "not '%s'", optarg);
			}
			break;
		case OPT_PROGLOG: prog_log = optarg; break;
		case 'q': quiet = 1; break;
		case 'h':
		case OPT_HELP:
			free(inc);
			free(exc);
			fputs(extract_usage, stdout);
			return WS_OK;
		default:
			free(inc);
			free(exc);
			return cli_bad_option("extract", extract_options, "+qh", argc, argv);
		}
	}
	rc = WS_OK;
	if (optind < argc)
		rc = cli_usage("extract", "unexpected argument '%s'", argv[optind]);
	else if (!store_dir || !device || !to)
		rc = cli_usage("extract", "--store, --device and --to are required");
	if (rc) {
		free(inc);
		free(exc);
		return rc;
	}
	if ((rc = cli_run_open(&run, log_path, level, prog_log)))
		goto out;
	cli_run_output(&run, 0, quiet, 0, 1);
	cli_run_catch_signals();
	rc = cli_store_open("extract", store_dir, &key, 0, 0, cli_run_log(&run), &st);
	if (rc)
		goto out;
	ws_error_clear(&err);
	rc = store_catalog_open(st, device, scan_id, &cat, &err);
	if (rc) {
		rc = cli_run_fail(&run, &err, device);
		goto out;
	}
	snprintf(totals, sizeof(totals), "extract of %s's scan %s to %s", device,
		 store_catalog_info(cat)->scan_id, to);
	cli_run_device_start(&run, device, totals);
	memset(&xo, 0, sizeof(xo));
	xo.dest = to;
	xo.include = inc;
	xo.n_include = ninc;
	xo.exclude = exc;
	xo.n_exclude = nexc;
	xo.on_problem = on_problem;
	xo.ctx = &run;
	xo.progress = cli_run_progress(&run);
	xo.cancel = cli_run_cancel_flag();
	rc = store_extract(cat, &xo, &xs, &err);
	cli_run_clear(&run);
	snprintf(totals, sizeof(totals), "%llu file(s), %llu folder(s), %llu bytes extracted to %s",
		 (unsigned long long)xs.files, (unsigned long long)xs.dirs,
		 (unsigned long long)xs.bytes, to);
	if (xs.damaged)
		snprintf(totals + strlen(totals), sizeof(totals) - strlen(totals),
			 "; %llu damaged file(s) skipped", (unsigned long long)xs.damaged);
	if (xs.refused)
		snprintf(totals + strlen(totals), sizeof(totals) - strlen(totals),
			 "; %llu path(s) refused", (unsigned long long)xs.refused);
	if (!quiet)
		printf("%s\n", totals);
	if (rc && rc != WS_PARTIAL) {
		char buf[2 * WS_ERROR_TEXT_MAX + 64];

		cli_error_format(&err, device, buf, sizeof(buf));
		rc = cli_run_fail(&run, &err, device);
		if (rc == WS_E_CANCELED)
			cli_run_note(&run, WS_LOG_ERROR, "", "interrupted: %s; every file written "
				     "is whole, extracting again writes them all", totals);
		cli_run_device_end(&run, device, rc, NULL, buf, 0);
	} else {
		cli_run_device_end(&run, device, rc, totals, NULL, 0);
	}
out:
	store_catalog_free(cat);
	store_close(st);
	free(inc);
	free(exc);
	return cli_run_finish(&run, rc, totals);
}
