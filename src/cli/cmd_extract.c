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

static const char extract_usage[] =
	"usage: winstate extract --store DIR --device NAME [--scan ID] --to DIR\n"
	"                        [--include PAT]... [--exclude PAT]...\n"
	"                        [--key-file F | --passphrase-env VAR]\n"
	"\n"
	"  --include/--exclude PAT  wildcard on the Windows path, case-insensitive\n"
	"                           (\"C:\\Users\\*\\Documents\\*\"); exclude wins\n"
	"\nExit: 0 done, 3 some paths refused, 42 some files damaged (the rest written).\n";

enum { OPT_STORE = 256, OPT_DEVICE, OPT_SCAN, OPT_TO, OPT_INCLUDE, OPT_EXCLUDE,
       OPT_KEYFILE, OPT_PASSENV, OPT_HELP };

static const struct option extract_options[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "scan", required_argument, NULL, OPT_SCAN },
	{ "to", required_argument, NULL, OPT_TO },
	{ "include", required_argument, NULL, OPT_INCLUDE },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "key-file", required_argument, NULL, OPT_KEYFILE },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 }
};

static void on_problem(void *ctx, const struct store_problem *p)
{
	(void)ctx;
	fprintf(stderr, "winstate: warning: %s: %s\n", p->file ? p->file : p->object, p->message);
}

int cmd_extract(int argc, char **argv)
{
	const char *store_dir = NULL, *device = NULL, *scan_id = NULL, *to = NULL;
	const char **inc = NULL, **exc = NULL;
	size_t ninc = 0, nexc = 0;
	struct cli_key_opts key = { 0 };
	struct cli_log_sink sink = { NULL, 0, 0 };
	struct ws_log log;
	struct store *st = NULL;
	struct store_catalog *cat = NULL;
	struct store_extract_opts xo;
	struct store_extract_stats xs;
	struct ws_error err;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", extract_options, NULL)) != -1) {
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
		case 'h':
		case OPT_HELP:
			free(inc);
			free(exc);
			fputs(extract_usage, stdout);
			return WS_OK;
		default:
			free(inc);
			free(exc);
			return cli_bad_option("extract", extract_options, "+h", argc, argv);
		}
	}
	rc = WS_OK;
	if (optind < argc)
		rc = cli_usage("extract", "unexpected argument '%s'", argv[optind]);
	else if (!store_dir || !device || !to)
		rc = cli_usage("extract", "--store, --device and --to are required");
	if (rc)
		goto out;
	cli_log_init(&log, &sink);
	rc = cli_store_open("extract", store_dir, &key, 0, 0, &log, &st);
	if (rc)
		goto out;
	ws_error_clear(&err);
	rc = store_catalog_open(st, device, scan_id, &cat, &err);
	if (rc) {
		rc = cli_fail(&err);
		goto out;
	}
	memset(&xo, 0, sizeof(xo));
	xo.dest = to;
	xo.include = inc;
	xo.n_include = ninc;
	xo.exclude = exc;
	xo.n_exclude = nexc;
	xo.on_problem = on_problem;
	rc = store_extract(cat, &xo, &xs, &err);
	printf("%llu file(s), %llu folder(s), %llu bytes extracted to %s",
	       (unsigned long long)xs.files, (unsigned long long)xs.dirs,
	       (unsigned long long)xs.bytes, to);
	if (xs.damaged)
		printf("; %llu damaged file(s) skipped", (unsigned long long)xs.damaged);
	if (xs.refused)
		printf("; %llu path(s) refused", (unsigned long long)xs.refused);
	printf("\n");
	if (rc && rc != WS_PARTIAL)
		rc = cli_fail(&err);
out:
	store_catalog_free(cat);
	store_close(st);
	free(inc);
	free(exc);
	return rc;
}
