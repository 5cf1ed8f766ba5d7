/*
 * cmd_verify.c - `winstate verify`: check a store and list the damage with
 * the scans and files it affects.  Exit 0 when sound, 42 when damaged.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_text.h"
#include "cli/cli_common.h"
#include "cli/cli_json.h"
#include "cli/cli_run.h"
#include "util/ws_buf.h"

static const char verify_usage[] =
	"usage: winstate verify --store DIR [--device NAME] [--deep] [--json]\n"
	"                       [--key-file F | --passphrase-env VAR] [--threads N]\n"
	"\n"
	"  --store DIR             the migration store\n"
	"  --device NAME           only this device's scans (any case) and the packs\n"
	"                          they use\n"
	"  --deep                  also decode and hash every blob (reads everything)\n"
	"  --json                  machine-readable report on stdout (docs/store-format.md)\n"
	"  --key-file F            key of an encrypted store\n"
	"  --passphrase-env VAR    passphrase of an encrypted store, from variable VAR\n"
	"  --threads N             threads that decompress and hash blobs with --deep\n"
	"                          (default: one per core)\n"
	"  --log FILE              append the command line, every problem and the\n"
	"                          result to FILE (docs/logs.md)\n"
	"  --log-level LEVEL       what --log records: error, warn, info (default), debug\n"
	"  --progress-log FILE     append USMT-style progress lines to FILE\n"
	"  -q, --quiet             only errors (the damage found is still listed)\n"
	"\nExit: 0 sound, 42 damage found, 37 wrong key, 27 not a store, 2 stopped\n"
	"(Ctrl-C).\n";

enum { OPT_STORE = 256, OPT_DEVICE, OPT_DEEP, OPT_JSON, OPT_KEYFILE, OPT_PASSENV, OPT_HELP,
       OPT_THREADS, OPT_LOG, OPT_LOGLEVEL, OPT_PROGLOG };

static const struct option verify_options[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "deep", no_argument, NULL, OPT_DEEP },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "key-file", required_argument, NULL, OPT_KEYFILE },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "log-level", required_argument, NULL, OPT_LOGLEVEL },
	{ "progress-log", required_argument, NULL, OPT_PROGLOG },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 }
};

static const char *kind_name(int kind)
{
	switch (kind) {
	case STORE_PROBLEM_HEADER: return "header";
	case STORE_PROBLEM_PACK: return "pack";
	case STORE_PROBLEM_INDEX: return "index";
	case STORE_PROBLEM_BLOB: return "blob";
	case STORE_PROBLEM_CATALOG: return "catalog";
	case STORE_PROBLEM_EVENT: return "event";
	default: return "file";
	}
}

struct verify_out {
	int json;
	struct cli_json problems;     /* the problems array, written as found */
	struct cli_run *run;
};

static void on_problem(void *ctx, const struct store_problem *p)
{
	struct verify_out *o = ctx;
	struct cli_json *j = &o->problems;

	cli_run_record(o->run, WS_LOG_ERROR, p->object, "damaged %s: %s%s%s%s%s%s%s",
		       kind_name(p->kind), p->message, p->scan_id ? " [scan " : "",
		       p->scan_id ? p->scan_id : "", p->scan_id ? "]" : "",
		       p->file ? " [file " : "", p->file ? p->file : "", p->file ? "]" : "");
	if (!o->json) {
		cli_run_clear(o->run);
		printf("DAMAGED %-7s %s: %s", kind_name(p->kind), p->object, p->message);
		if (p->scan_id)
			printf(" [scan %s%s%s]", p->device ? p->device : "", p->device ? " " : "", p->scan_id);
		if (p->file)
			printf(" [file %s]", p->file);
		printf("\n");
		return;
	}
	cli_json_obj(j, NULL);
	cli_json_str(j, "kind", kind_name(p->kind));
	cli_json_str(j, "object", p->object);
	cli_json_str(j, "device", p->device);
	cli_json_str(j, "scan", p->scan_id);
	cli_json_str(j, "file", p->file);
	cli_json_str(j, "message", p->message);
	cli_json_end(j);
}

int cmd_verify(int argc, char **argv)
{
	const char *store_dir = NULL, *device = NULL;
	struct cli_key_opts key = { 0 };
	struct verify_out out;
	struct store_verify_opts vo;
	struct store_verify_stats vs;
	const char *log_path = NULL, *prog_log = NULL;
	struct cli_run run;
	char totals[512] = "";
	struct store *st = NULL;
	struct ws_error err;
	int deep = 0, c, rc, quiet = 0, level = WS_LOG_INFO;
	unsigned long threads = 0;

	memset(&out, 0, sizeof(out));
	cli_run_init(&run, "verify", argc, argv);
	out.run = &run;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+qh", verify_options, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store_dir = optarg; break;
		case OPT_DEVICE: device = optarg; break;
		case OPT_DEEP: deep = 1; break;
		case OPT_JSON: out.json = 1; break;
		case OPT_KEYFILE: key.key_file = optarg; break;
		case OPT_PASSENV: key.passphrase_env = optarg; break;
		case OPT_THREADS:
			if (cli_parse_uint(optarg, 1, 64, &threads))
				return cli_usage("verify", "--threads takes a number from 1 to 64, not '%s'",
						 optarg);
			key.threads = (unsigned)threads;
			break;
		case OPT_LOG: log_path = optarg; break;
		case OPT_LOGLEVEL:
			if ((level = cli_run_parse_level(optarg)) < 0)
				return cli_usage("verify", "--log-level is error, warn, info or debug, "
						 "not '%s'", optarg);
			break;
		case OPT_PROGLOG: prog_log = optarg; break;
		case 'q': quiet = 1; break;
		case 'h':
		case OPT_HELP: fputs(verify_usage, stdout); return WS_OK;
		default: return cli_bad_option("verify", verify_options, "+qh", argc, argv);
		}
	}
	if (optind < argc)
		return cli_usage("verify", "unexpected argument '%s'", argv[optind]);
	if (!store_dir)
		return cli_usage("verify", "--store is required");
	if ((rc = cli_run_open(&run, log_path, level, prog_log)))
		return cli_run_finish(&run, rc, NULL);
	/* a bar for the deep check, which reads everything */
	cli_run_output(&run, 0, quiet, out.json, deep);
	cli_run_catch_signals();
	rc = cli_store_open("verify", store_dir, &key, 0, 0, cli_run_log(&run), &st);
	if (rc)
		return cli_run_finish(&run, rc, NULL);
	snprintf(totals, sizeof(totals), "%sverify of %s%s%s", deep ? "deep " : "", store_dir,
		 device ? ", device " : "", device ? device : "");
	cli_run_device_start(&run, store_dir, totals);
	cli_json_init(&out.problems, 1);
	cli_json_arr(&out.problems, NULL);
	memset(&vo, 0, sizeof(vo));
	vo.device = device;
	vo.deep = deep;
	vo.on_problem = on_problem;
	vo.ctx = &out;
	vo.progress = cli_run_progress(&run);
	vo.cancel = cli_run_cancel_flag();
	ws_error_clear(&err);
	rc = store_verify(st, &vo, &vs, &err);
	store_close(st);
	cli_run_clear(&run);
	if (rc && rc != WS_E_CORRUPT) {
		char buf[2 * WS_ERROR_TEXT_MAX + 64];

		cli_json_release(&out.problems);
		cli_error_format(&err, NULL, buf, sizeof(buf));
		rc = cli_run_fail(&run, &err, NULL);
		if (rc == WS_E_CANCELED)
			cli_run_note(&run, WS_LOG_ERROR, "", "interrupted: %llu pack(s) checked, "
				     "%llu problem(s) so far; the store is unchanged",
				     (unsigned long long)vs.packs, (unsigned long long)vs.problems);
		cli_run_device_end(&run, store_dir, rc, NULL, buf, 0);
		return cli_run_finish(&run, rc, NULL);
	}
	if (rc)
		snprintf(totals, sizeof(totals), "store damaged: %llu problem(s); %llu file(s) of "
			 "scans lost content", (unsigned long long)vs.problems,
			 (unsigned long long)vs.files_damaged);
	else
		snprintf(totals, sizeof(totals), "store sound: %llu scan(s), %llu pack(s)%s, %llu "
			 "file(s) checked", (unsigned long long)vs.scans,
			 (unsigned long long)vs.packs, deep ? " (deep)" : "",
			 (unsigned long long)vs.files_checked);
	if (rc)
		cli_run_device_end(&run, store_dir, WS_E_CORRUPT, NULL, totals, 0);
	else
		cli_run_device_end(&run, store_dir, WS_OK, totals, NULL, 0);
	if (out.json) {
		struct cli_json j;

		cli_json_end(&out.problems);
		cli_json_init(&j, 0);
		cli_json_obj(&j, NULL);
		cli_json_str(&j, "store", store_dir);
		cli_json_bool(&j, "sound", !rc);
		cli_json_bool(&j, "deep", deep);
		cli_json_u64(&j, "scans", vs.scans);
		cli_json_u64(&j, "packs", vs.packs);
		cli_json_u64(&j, "blobs_checked", vs.blobs_checked);
		cli_json_u64(&j, "files_checked", vs.files_checked);
		cli_json_u64(&j, "files_damaged", vs.files_damaged);
		cli_json_raw(&j, "problems", cli_json_text(&out.problems));
		cli_json_end(&j);
		cli_json_print(&j, stdout);
		cli_json_release(&j);
	} else if (rc || !quiet) {
		printf("%s\n", totals);
	}
	cli_json_release(&out.problems);
	return cli_run_finish(&run, rc ? WS_E_CORRUPT : WS_OK, totals);
}
