/*
 * cmd_verify.c - `winstate verify`: check a store and list the damage with
 * the scans and files it affects.  Exit 0 when sound, 42 when damaged.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_common.h"
#include "util/ws_buf.h"

static const char verify_usage[] =
	"usage: winstate verify --store DIR [--device NAME] [--deep] [--json]\n"
	"                       [--key-file F | --passphrase-env VAR]\n"
	"\n"
	"  --store DIR             the migration store\n"
	"  --device NAME           only this device's scans (any case) and the packs\n"
	"                          they use\n"
	"  --deep                  also decode and hash every blob (reads everything)\n"
	"  --json                  machine-readable report on stdout (docs/store-format.md)\n"
	"  --key-file F            key of an encrypted store\n"
	"  --passphrase-env VAR    passphrase of an encrypted store, from variable VAR\n"
	"\nExit: 0 sound, 42 damage found, 37 wrong key, 27 not a store.\n";

enum { OPT_STORE = 256, OPT_DEVICE, OPT_DEEP, OPT_JSON, OPT_KEYFILE, OPT_PASSENV, OPT_HELP };

static const struct option verify_options[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "deep", no_argument, NULL, OPT_DEEP },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "key-file", required_argument, NULL, OPT_KEYFILE },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
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
	default: return "file";
	}
}

struct verify_out {
	int json;
	size_t n;
	struct ws_buf j;
};

static void json_str_field(struct ws_buf *b, const char *name, const char *v)
{
	ws_buf_addf(b, "\"%s\": ", name);
	if (!v) {
		ws_buf_adds(b, "null");
		return;
	}
	ws_buf_addch(b, '"');
	ws_buf_add_json_str(b, v, strlen(v));
	ws_buf_addch(b, '"');
}

static void on_problem(void *ctx, const struct store_problem *p)
{
	struct verify_out *o = ctx;

	if (!o->json) {
		printf("DAMAGED %-7s %s: %s", kind_name(p->kind), p->object, p->message);
		if (p->scan_id)
			printf(" [scan %s%s%s]", p->device ? p->device : "", p->device ? " " : "", p->scan_id);
		if (p->file)
			printf(" [file %s]", p->file);
		printf("\n");
	} else {
		ws_buf_adds(&o->j, o->n ? ",\n    {" : "\n    {");
		json_str_field(&o->j, "kind", kind_name(p->kind));
		ws_buf_adds(&o->j, ", ");
		json_str_field(&o->j, "object", p->object);
		ws_buf_adds(&o->j, ", ");
		json_str_field(&o->j, "device", p->device);
		ws_buf_adds(&o->j, ", ");
		json_str_field(&o->j, "scan", p->scan_id);
		ws_buf_adds(&o->j, ", ");
		json_str_field(&o->j, "file", p->file);
		ws_buf_adds(&o->j, ", ");
		json_str_field(&o->j, "message", p->message);
		ws_buf_addch(&o->j, '}');
	}
	o->n++;
}

int cmd_verify(int argc, char **argv)
{
	const char *store_dir = NULL, *device = NULL;
	struct cli_key_opts key = { 0 };
	struct verify_out out = { 0, 0, WS_BUF_INIT };
	struct store_verify_opts vo;
	struct store_verify_stats vs;
	struct cli_log_sink sink = { NULL, 0, 0 };
	struct ws_log log;
	struct store *st = NULL;
	struct ws_error err;
	int deep = 0, c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", verify_options, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store_dir = optarg; break;
		case OPT_DEVICE: device = optarg; break;
		case OPT_DEEP: deep = 1; break;
		case OPT_JSON: out.json = 1; break;
		case OPT_KEYFILE: key.key_file = optarg; break;
		case OPT_PASSENV: key.passphrase_env = optarg; break;
		case 'h':
		case OPT_HELP: fputs(verify_usage, stdout); return WS_HELP;
		default: return cli_usage("verify", "unknown option");
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
	memset(&vo, 0, sizeof(vo));
	vo.device = device;
	vo.deep = deep;
	vo.on_problem = on_problem;
	vo.ctx = &out;
	ws_error_clear(&err);
	rc = store_verify(st, &vo, &vs, &err);
	store_close(st);
	if (rc && rc != WS_E_CORRUPT) {
		ws_buf_release(&out.j);
		return cli_fail(&err);
	}
	if (out.json) {
		printf("{\n  \"store\": \"");
		struct ws_buf s = WS_BUF_INIT;
		ws_buf_add_json_str(&s, store_dir, strlen(store_dir));
		printf("%s\",\n  \"sound\": %s,\n  \"deep\": %s,\n", s.buf,
		       rc ? "false" : "true", deep ? "true" : "false");
		ws_buf_release(&s);
		printf("  \"scans\": %llu,\n  \"packs\": %llu,\n  \"blobs_checked\": %llu,\n"
		       "  \"files_checked\": %llu,\n  \"files_damaged\": %llu,\n"
		       "  \"problems\": [%s%s]\n}\n",
		       (unsigned long long)vs.scans, (unsigned long long)vs.packs,
		       (unsigned long long)vs.blobs_checked,
		       (unsigned long long)vs.files_checked,
		       (unsigned long long)vs.files_damaged, out.j.buf, out.n ? "\n  " : "");
	} else if (rc) {
		printf("store damaged: %llu problem(s); %llu file(s) of scans lost content\n",
		       (unsigned long long)vs.problems, (unsigned long long)vs.files_damaged);
	} else {
		printf("store sound: %llu scan(s), %llu pack(s)%s, %llu file(s) checked\n",
		       (unsigned long long)vs.scans, (unsigned long long)vs.packs,
		       deep ? " (deep)" : "", (unsigned long long)vs.files_checked);
	}
	ws_buf_release(&out.j);
	return rc ? WS_E_CORRUPT : WS_OK;
}
