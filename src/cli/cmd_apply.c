/*
 * cmd_apply.c - `winstate apply`: replay a scan onto an offline Windows
 * installation; `--dry-run` prints the plan and touches nothing.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "apply/apply.h"
#include "cli/cli_common.h"
#include "util/ws_buf.h"

static const char usage_text[] =
	"usage: winstate apply --store DIR --device NAME --target DIR [options]\n"
	"\n"
	"Replay a scan onto an offline Windows installation: registry values into\n"
	"the existing profiles' hives, files into those profiles.\n"
	"\n"
	"  --store DIR             migration store\n"
	"  --device NAME           device whose scan is applied\n"
	"  --scan ID               that scan (default: the device's newest)\n"
	"  --target DIR            root of the target Windows installation\n"
	"  --mode offline          write into existing profiles (the only mode of this version)\n"
	"  --map-user OLD=NEW      apply source user OLD (SID, user or DOMAIN\\user)\n"
	"                          to target profile NEW (repeatable)\n"
	"  --conflict source|destination\n"
	"                          on a file collision, overwrite (source) or keep the\n"
	"                          target's (destination); default: keep the target's and\n"
	"                          place the source's as name(1).ext, as USMT does\n"
	"  --dry-run               print the plan; change nothing\n"
	"  --key-file F | --passphrase-env VAR   key of an encrypted store\n"
	"  --log FILE              write every message to FILE\n"
	"  --json                  print the plan/report as JSON\n"
	"  -v, --verbose           list every action;  -q, --quiet  only errors\n";

enum {
	OPT_STORE = 256, OPT_DEVICE, OPT_SCAN, OPT_TARGET, OPT_MODE, OPT_MAPUSER,
	OPT_CONFLICT, OPT_DRYRUN, OPT_KEYFILE, OPT_PASSENV, OPT_LOG, OPT_JSON
};

static const struct option options[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "scan", required_argument, NULL, OPT_SCAN },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "map-user", required_argument, NULL, OPT_MAPUSER },
	{ "conflict", required_argument, NULL, OPT_CONFLICT },
	{ "dry-run", no_argument, NULL, OPT_DRYRUN },
	{ "key-file", required_argument, NULL, OPT_KEYFILE },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

struct plan_out {
	int json, verbose, dry_run;
	struct ws_buf js;
	size_t n;
};

static void on_action(void *ctx, const struct apply_action *a)
{
	struct plan_out *p = ctx;

	if (p->json) {
		ws_buf_adds(&p->js, p->n++ ? ",\n    " : "\n    ");
		ws_buf_addf(&p->js, "{\"action\": \"%s\", \"user\": \"", apply_action_name(a->kind));
		ws_buf_add_json_str(&p->js, a->user, strlen(a->user));
		ws_buf_adds(&p->js, "\", \"object\": \"");
		ws_buf_add_json_str(&p->js, a->object, strlen(a->object));
		ws_buf_adds(&p->js, "\"");
		if (a->target) {
			ws_buf_adds(&p->js, ", \"target\": \"");
			ws_buf_add_json_str(&p->js, a->target, strlen(a->target));
			ws_buf_adds(&p->js, "\"");
		}
		if (a->reason) {
			ws_buf_adds(&p->js, ", \"reason\": \"");
			ws_buf_add_json_str(&p->js, a->reason, strlen(a->reason));
			ws_buf_adds(&p->js, "\"");
		}
		ws_buf_adds(&p->js, "}");
		return;
	}
	if (!p->verbose && !p->dry_run && a->kind != APPLY_USER_MAP &&
	    a->kind != APPLY_USER_MISSING && a->kind != APPLY_REG_DEFERRED &&
	    a->kind != APPLY_FILE_RENAME)
		return;
	printf("%-14s %-12s %s%s%s%s%s%s\n", apply_action_name(a->kind), a->user,
	       a->object, a->target ? " -> " : "", a->target ? a->target : "",
	       a->reason ? "  (" : "", a->reason ? a->reason : "",
	       a->reason ? ")" : "");
}

static void print_report(const struct apply_report *r, int json, int dry_run,
			 int rc, struct plan_out *p)
{
	if (json) {
		printf("{\"scan\": \"%s\", \"dry_run\": %s, \"status\": %d,\n"
		       "  \"users_applied\": %u, \"users_missing\": %u,\n"
		       "  \"values_set\": %llu, \"values_same\": %llu, \"values_deferred\": %llu, "
		       "\"values_skipped\": %llu, \"keys_created\": %llu,\n"
		       "  \"files_placed\": %llu, \"files_renamed\": %llu, \"files_overwritten\": %llu, "
		       "\"files_same\": %llu, \"files_kept\": %llu, \"files_skipped\": %llu, "
		       "\"dirs_created\": %llu, \"bytes\": %llu, \"hives_committed\": %u,\n"
		       "  \"actions\": [%s\n  ]}\n",
		       r->scan_id, dry_run ? "true" : "false", rc, r->users_applied,
		       r->users_missing, (unsigned long long)r->values_set,
		       (unsigned long long)r->values_same, (unsigned long long)r->values_deferred,
		       (unsigned long long)r->values_skipped, (unsigned long long)r->keys_created,
		       (unsigned long long)r->files_placed, (unsigned long long)r->files_renamed,
		       (unsigned long long)r->files_overwritten, (unsigned long long)r->files_same,
		       (unsigned long long)r->files_kept, (unsigned long long)r->files_skipped,
		       (unsigned long long)r->dirs_created, (unsigned long long)r->bytes,
		       r->hives_committed, p->js.buf);
		return;
	}
	printf("%s scan %s: %u users applied, %u missing on the target\n"
	       "  registry: %llu set, %llu already equal, %llu deferred, %llu skipped, %llu keys created\n"
	       "  files:    %llu placed, %llu renamed on collision, %llu overwritten, "
	       "%llu already equal, %llu kept, %llu skipped, %llu folders created (%.1f MB)\n",
	       dry_run ? "plan for" : "applied", r->scan_id, r->users_applied,
	       r->users_missing, (unsigned long long)r->values_set,
	       (unsigned long long)r->values_same, (unsigned long long)r->values_deferred,
	       (unsigned long long)r->values_skipped, (unsigned long long)r->keys_created,
	       (unsigned long long)r->files_placed, (unsigned long long)r->files_renamed,
	       (unsigned long long)r->files_overwritten, (unsigned long long)r->files_same,
	       (unsigned long long)r->files_kept, (unsigned long long)r->files_skipped,
	       (unsigned long long)r->dirs_created, (double)r->bytes / 1048576.0);
}

int cmd_apply(int argc, char **argv)
{
	const char *store_dir = NULL, *log_path = NULL, *mode = NULL;
	const char **maps = NULL;
	size_t nmaps = 0, amaps = 0;
	struct cli_key_opts key = { 0 };
	struct apply_opts o;
	struct apply_report r;
	struct plan_out plan = { 0 };
	struct cli_log_sink sink = { 0 };
	struct cli_progress prog;
	struct ws_log log;
	struct ws_error err;
	struct store *st = NULL;
	FILE *lf = NULL;
	int c, rc, quiet = 0, verbose = 0;

	apply_opts_init(&o);
	ws_buf_init(&plan.js);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+vqh", options, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store_dir = optarg; break;
		case OPT_DEVICE: o.device = optarg; break;
		case OPT_SCAN: o.scan_id = optarg; break;
		case OPT_TARGET: o.target = optarg; break;
		case OPT_MODE: mode = optarg; break;
		case OPT_MAPUSER:
			WS_ALLOC_GROW(maps, nmaps + 1, amaps);
			maps[nmaps++] = optarg;
			break;
		case OPT_CONFLICT:
			if (!strcmp(optarg, "source"))
				o.conflict = APPLY_CONFLICT_SOURCE;
			else if (!strcmp(optarg, "destination"))
				o.conflict = APPLY_CONFLICT_DESTINATION;
			else {
				rc = cli_usage("apply", "--conflict takes source or destination, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_DRYRUN: o.dry_run = 1; break;
		case OPT_KEYFILE: key.key_file = optarg; break;
		case OPT_PASSENV: key.passphrase_env = optarg; break;
		case OPT_LOG: log_path = optarg; break;
		case OPT_JSON: plan.json = 1; break;
		case 'v': verbose++; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage_text, stdout); rc = WS_HELP; goto out;
		default: rc = cli_usage("apply", "unknown option"); goto out;
		}
	}
	if (optind < argc) {
		rc = cli_usage("apply", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!store_dir || !o.device || !o.target) {
		rc = cli_usage("apply", "--store, --device and --target are required");
		goto out;
	}
	if (mode && strcmp(mode, "offline")) {
		rc = cli_usage("apply", "--mode %s: this version applies offline into existing "
			       "profiles only (--mode offline)", mode);
		goto out;
	}
	if (log_path && !(lf = fopen(log_path, "a"))) {
		rc = cli_usage("apply", "cannot write --log %s: %s", log_path, strerror(errno));
		goto out;
	}
	sink.log_file = lf;
	sink.quiet = quiet;
	sink.verbose = verbose;
	cli_log_init(&log, &sink);
	cli_progress_init(&prog, NULL, quiet || plan.json);
	plan.verbose = verbose;
	plan.dry_run = o.dry_run;
	o.map_user = maps;
	o.n_map_user = nmaps;
	o.on_action = on_action;
	o.on_action_ctx = &plan;
	o.log = &log;
	o.progress = &prog.sink;
	if ((rc = cli_store_open("apply", store_dir, &key, 0, 0, &log, &st)))
		goto out;
	ws_error_clear(&err);
	rc = apply_scan(st, &o, &r, &err);
	cli_progress_end(&prog);
	if (rc != WS_OK && rc != WS_PARTIAL) {
		cli_fail(&err);
		goto out;
	}
	print_report(&r, plan.json, o.dry_run, rc, &plan);
out:
	store_close(st);
	if (lf)
		fclose(lf);
	free(maps);
	ws_buf_release(&plan.js);
	return rc;
}
