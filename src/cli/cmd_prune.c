/*
 * cmd_prune.c - `winstate prune`: keep the newest N scans of every device
 * and remove the packs nothing references any more (safe while scanners
 * write: see docs/store-format.md).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_text.h"
#include "cli/cli_common.h"

static const char prune_usage[] =
	"usage: winstate prune --store DIR --keep N [--grace SECONDS] [--dry-run]\n"
	"                      [--force] [--key-file F | --passphrase-env VAR]\n"
	"\n"
	"  --keep N                newest scans kept per device (>= 1); a device's\n"
	"                          newest scan with users is kept too when newer\n"
	"                          scans have none (scan --allow-empty)\n"
	"  --force                 keep only the newest N, with users or not\n"
	"  --grace SECONDS         packs younger than this and live scanners are\n"
	"                          left alone (default 86400)\n"
	"  --dry-run               only report what would be removed\n"
	"  --key-file F / --passphrase-env VAR   key of an encrypted store\n";

enum { OPT_STORE = 256, OPT_KEEP, OPT_GRACE, OPT_DRY, OPT_KEYFILE, OPT_PASSENV, OPT_HELP,
       OPT_FORCE };

static const struct option prune_options[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "keep", required_argument, NULL, OPT_KEEP },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "dry-run", no_argument, NULL, OPT_DRY },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "key-file", required_argument, NULL, OPT_KEYFILE },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 }
};

int cmd_prune(int argc, char **argv)
{
	const char *store_dir = NULL;
	struct cli_key_opts key = { 0 };
	struct store_prune_opts po;
	struct store_prune_stats ps;
	struct cli_log_sink sink = { NULL, 1, 0 };
	struct ws_log log;
	struct store *st = NULL;
	struct ws_error err;
	unsigned long keep = 0, grace = STORE_GRACE_DEFAULT;
	int have_keep = 0, dry = 0, force = 0, c, rc;

	optind = 1;
	memset(&po, 0, sizeof(po));
	while ((c = getopt_long(argc, argv, "+h", prune_options, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store_dir = optarg; break;
		case OPT_KEEP:
			if (cli_parse_uint(optarg, 1, 1000000, &keep))
				return cli_usage("prune", "--keep needs a number >= 1");
			have_keep = 1;
			break;
		case OPT_GRACE:
			if (cli_parse_uint(optarg, 0, 100ul * 365 * 86400, &grace))
				return cli_usage("prune", "--grace needs a number of seconds");
			break;
		case OPT_DRY: dry = 1; break;
		case OPT_FORCE: force = 1; break;
		case OPT_KEYFILE: key.key_file = optarg; break;
		case OPT_PASSENV: key.passphrase_env = optarg; break;
		case 'h':
		case OPT_HELP: fputs(prune_usage, stdout); return WS_OK;
		default: return cli_bad_option("prune", prune_options, "+h", argc, argv);
		}
	}
	if (optind < argc)
		return cli_usage("prune", "unexpected argument '%s'", argv[optind]);
	if (!store_dir || !have_keep)
		return cli_usage("prune", "--store and --keep are required");
	cli_log_init(&log, &sink);
	rc = cli_store_open("prune", store_dir, &key, 0, 0, &log, &st);
	if (rc)
		return rc;
	po.keep = (unsigned)keep;
	po.grace_seconds = (int64_t)grace;
	po.dry_run = dry;
	po.force = force;
	po.log = &log;
	ws_error_clear(&err);
	rc = store_prune(st, &po, &ps, &err);
	store_close(st);
	printf("%s%llu scan(s) and %llu pack(s) removed, %llu bytes freed",
	       dry ? "dry run: " : "", (unsigned long long)ps.scans_removed,
	       (unsigned long long)ps.packs_removed, (unsigned long long)ps.bytes_freed);
	if (ps.scans_kept_users)
		printf("; %llu older scan(s) kept: the newest with users of their device "
		       "(--force removes them)", (unsigned long long)ps.scans_kept_users);
	if (ps.packs_kept_young)
		printf("; %llu unreferenced pack(s) younger than the grace period kept",
		       (unsigned long long)ps.packs_kept_young);
	if (ps.writers_alive)
		printf("; scans are being written: packs left for a later prune");
	printf("\n");
	return rc ? cli_fail(&err) : WS_OK;
}
