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
	"\nExit: 0 sound, 42 damage found, 37 wrong key, 27 not a store.\n";

enum { OPT_STORE = 256, OPT_DEVICE, OPT_DEEP, OPT_JSON, OPT_KEYFILE, OPT_PASSENV, OPT_HELP,
       OPT_THREADS };

static const struct option verify_options[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "deep", no_argument, NULL, OPT_DEEP },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "key-file", required_argument, NULL, OPT_KEYFILE },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "threads", required_argument, NULL, OPT_THREADS },
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
};

static void on_problem(void *ctx, const struct store_problem *p)
{
	struct verify_out *o = ctx;
	struct cli_json *j = &o->problems;

	if (!o->json) {
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
	struct cli_log_sink sink = { NULL, 0, 0 };
	struct ws_log log;
	struct store *st = NULL;
	struct ws_error err;
	int deep = 0, c, rc;
	unsigned long threads = 0;

	memset(&out, 0, sizeof(out));
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", verify_options, NULL)) != -1) {
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
		case 'h':
		case OPT_HELP: fputs(verify_usage, stdout); return WS_OK;
		default: return cli_bad_option("verify", verify_options, "+h", argc, argv);
		}
	}
	if (optind < argc)
		return cli_usage("verify", "unexpected argument '%s'", argv[optind]);
	if (!store_dir)
		return cli_usage("verify", "--store is required");
	cli_log_init(&log, &sink);
	rc = cli_store_open("verify", store_dir, &key, 0, 0, &log, &st);
	if (rc)
		return rc;
	cli_json_init(&out.problems, 1);
	cli_json_arr(&out.problems, NULL);
	memset(&vo, 0, sizeof(vo));
	vo.device = device;
	vo.deep = deep;
	vo.on_problem = on_problem;
	vo.ctx = &out;
	ws_error_clear(&err);
	rc = store_verify(st, &vo, &vs, &err);
	store_close(st);
	if (rc && rc != WS_E_CORRUPT) {
		cli_json_release(&out.problems);
		return cli_fail(&err);
	}
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
	} else if (rc) {
		printf("store damaged: %llu problem(s); %llu file(s) of scans lost content\n",
		       (unsigned long long)vs.problems, (unsigned long long)vs.files_damaged);
	} else {
		printf("store sound: %llu scan(s), %llu pack(s)%s, %llu file(s) checked\n",
		       (unsigned long long)vs.scans, (unsigned long long)vs.packs,
		       deep ? " (deep)" : "", (unsigned long long)vs.files_checked);
	}
	cli_json_release(&out.problems);
	return rc ? WS_E_CORRUPT : WS_OK;
}
