/*
 * cmd_scan.c - `winstate scan`: capture one or more offline Windows
 * installations into a store.
 */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "scan/scan.h"
#include "util/ws_buf.h"

static const char usage_text[] =
	"usage: winstate scan --source DIR [--source DIR ...] --store DIR [options]\n"
	"\n"
	"Capture users' settings and files from offline Windows installations.\n"
	"\n"
	"  --source DIR            root of a Windows installation (repeatable)\n"
	"  --store DIR             migration store (created if missing)\n"
	"  --rules FILE|DIR        USMT-style rule file or folder of them (repeatable);\n"
	"                          default: winstate's own rules\n"
	"  --config FILE           USMT Config.xml: components with migrate=\"no\" are off\n"
	"  --device NAME           device name (default: the computer name); one --source only\n"
	"  --users-include PAT     DOMAIN\\user or SID pattern to include (repeatable)\n"
	"  --users-exclude PAT     pattern to exclude (repeatable); include wins\n"
	"  --users-since DAYS      only profiles used in the last DAYS days\n"
	"  --encrypt               encrypt a new store (needs a key option)\n"
	"  --key-file F            32-byte key file (raw or 64 hex digits)\n"
	"  --passphrase-env VAR    passphrase from environment variable VAR\n"
	"  --estimate              count what would be captured; write nothing\n"
	"  --list-files FILE       write every selected file path to FILE\n"
	"  --progress-log FILE     append USMT-style progress lines to FILE\n"
	"  --log FILE              write every message (incl. info and debug) to FILE\n"
	"  --continue-on-error     skip unreadable objects (exit 3) instead of stopping\n"
	"  --json                  print the summary as JSON\n"
	"  -v, --verbose           more messages;  -q, --quiet  only errors\n";

enum {
	OPT_SOURCE = 256, OPT_STORE, OPT_RULES, OPT_CONFIG, OPT_DEVICE,
	OPT_UINC, OPT_UEXC, OPT_USINCE, OPT_ENCRYPT, OPT_KEYFILE, OPT_PASSENV,
	OPT_ESTIMATE, OPT_LISTFILES, OPT_PROGLOG, OPT_LOG, OPT_CONTINUE, OPT_JSON
};

static const struct option options[] = {
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "users-include", required_argument, NULL, OPT_UINC },
	{ "users-exclude", required_argument, NULL, OPT_UEXC },
	{ "users-since", required_argument, NULL, OPT_USINCE },
	{ "encrypt", no_argument, NULL, OPT_ENCRYPT },
	{ "key-file", required_argument, NULL, OPT_KEYFILE },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "estimate", no_argument, NULL, OPT_ESTIMATE },
	{ "list-files", required_argument, NULL, OPT_LISTFILES },
	{ "progress-log", required_argument, NULL, OPT_PROGLOG },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "continue-on-error", no_argument, NULL, OPT_CONTINUE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

struct strv {
	const char **v;
	size_t n, alloc;
};

static void strv_push(struct strv *s, const char *x)
{
	WS_ALLOC_GROW(s->v, s->n + 1, s->alloc);
	s->v[s->n++] = x;
}

static void list_file_cb(void *ctx, const struct scan_file_event *ev)
{
	fprintf((FILE *)ctx, "%s%s\n", ev->path, ev->not_captured ? "\t(cloud)" : "");
}

static void print_result(const struct scan_result *r, int rc, int json,
			 int estimate, struct ws_buf *js)
{
	if (json) {
		if (js->len)
			ws_buf_adds(js, ",");
		ws_buf_adds(js, "\n  {\"device\": \"");
		ws_buf_add_json_str(js, r->device, strlen(r->device));
		ws_buf_addf(js, "\", \"scan\": \"%s\", \"status\": %d, "
			    "\"users\": %u, \"users_skipped\": %u, \"values\": %llu, "
			    "\"keys\": %llu, \"files\": %llu, \"dirs\": %llu, "
			    "\"cloud\": %llu, \"bytes\": %llu, \"bytes_new\": %llu, "
			    "\"warnings\": %u, \"errors\": %u, \"components_skipped\": %u}",
			    r->scan_id, rc, r->users, r->users_skipped,
			    (unsigned long long)r->values, (unsigned long long)r->keys,
			    (unsigned long long)r->files, (unsigned long long)r->dirs,
			    (unsigned long long)r->cloud, (unsigned long long)r->bytes,
			    (unsigned long long)r->bytes_new, r->warnings, r->errors,
			    r->components_skipped);
		return;
	}
	printf("%s%s: %u users (%u skipped), %llu registry values, %llu files "
	       "(%.1f MB, %.1f MB new), %llu folders, %llu cloud-only, "
	       "%u warnings, %u errors%s%s\n",
	       estimate ? "estimate " : "", r->device, r->users, r->users_skipped,
	       (unsigned long long)r->values, (unsigned long long)r->files,
	       (double)r->bytes / 1048576.0, (double)r->bytes_new / 1048576.0,
	       (unsigned long long)r->dirs, (unsigned long long)r->cloud,
	       r->warnings, r->errors, r->scan_id[0] ? ", scan " : "", r->scan_id);
}

int cmd_scan(int argc, char **argv)
{
	struct strv sources = { 0 }, rules = { 0 }, uinc = { 0 }, uexc = { 0 };
	const char *store_dir = NULL, *config = NULL, *device = NULL;
	const char *list_files = NULL, *prog_log = NULL, *log_path = NULL;
	struct cli_key_opts key = { 0 };
	unsigned long since = 0;
	int encrypt = 0, estimate = 0, cont = 0, json = 0, verbose = 0, quiet = 0;
	int c, rc = WS_OK, worst = WS_OK;
	struct cli_log_sink sink = { 0 };
	struct ws_log log;
	struct cli_progress prog;
	struct rule_set *rs = NULL;
	char **rule_files = NULL;
	size_t n_rule_files = 0;
	struct store *st = NULL;
	FILE *lf = NULL, *pf = NULL, *listf = NULL;
	char store_real[PATH_MAX];
	struct ws_buf js = WS_BUF_INIT;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+vqh", options, NULL)) != -1) {
		switch (c) {
		case OPT_SOURCE: strv_push(&sources, optarg); break;
		case OPT_STORE: store_dir = optarg; break;
		case OPT_RULES: strv_push(&rules, optarg); break;
		case OPT_CONFIG: config = optarg; break;
		case OPT_DEVICE: device = optarg; break;
		case OPT_UINC: strv_push(&uinc, optarg); break;
		case OPT_UEXC: strv_push(&uexc, optarg); break;
		case OPT_USINCE:
			if (cli_parse_uint(optarg, 1, 36500, &since)) {
				rc = cli_usage("scan", "--users-since takes a number of days, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_ENCRYPT: encrypt = 1; break;
		case OPT_KEYFILE: key.key_file = optarg; break;
		case OPT_PASSENV: key.passphrase_env = optarg; break;
		case OPT_ESTIMATE: estimate = 1; break;
		case OPT_LISTFILES: list_files = optarg; break;
		case OPT_PROGLOG: prog_log = optarg; break;
		case OPT_LOG: log_path = optarg; break;
		case OPT_CONTINUE: cont = 1; break;
		case OPT_JSON: json = 1; break;
		case 'v': verbose++; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage_text, stdout); rc = WS_HELP; goto out;
		default: rc = cli_usage("scan", "unknown option"); goto out;
		}
	}
	if (optind < argc) {
		rc = cli_usage("scan", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!sources.n) {
		rc = cli_usage("scan", "--source is required");
		goto out;
	}
	if (!store_dir && !estimate) {
		rc = cli_usage("scan", "--store is required (or --estimate)");
		goto out;
	}
	if (device && sources.n > 1) {
		rc = cli_usage("scan", "--device names one device: give a single --source");
		goto out;
	}
	if (list_files && !(listf = fopen(list_files, "w"))) {
		rc = cli_usage("scan", "cannot write --list-files %s: %s", list_files, strerror(errno));
		goto out;
	}
	if (prog_log && !(pf = fopen(prog_log, "a"))) {
		rc = cli_usage("scan", "cannot write --progress-log %s: %s", prog_log, strerror(errno));
		goto out;
	}
	if (log_path && !(lf = fopen(log_path, "a"))) {
		rc = cli_usage("scan", "cannot write --log %s: %s", log_path, strerror(errno));
		goto out;
	}
	sink.log_file = lf;
	sink.verbose = verbose;
	sink.quiet = quiet;
	cli_log_init(&log, &sink);
	cli_progress_init(&prog, pf, quiet || json);

	if ((rc = cli_rules_load(rules.v, rules.n, config, &log, &rs,
				 &rule_files, &n_rule_files)))
		goto out;
	if (!estimate) {
		if ((rc = cli_store_open("scan", store_dir, &key, 1, encrypt, &log, &st)))
			goto out;
		if (!realpath(store_dir, store_real))
			store_real[0] = '\0';
	}

	for (size_t i = 0; i < sources.n; i++) {
		struct scan_opts o;
		struct scan_result r;
		struct ws_error err;

		scan_opts_init(&o);
		o.source = sources.v[i];
		o.device = device;
		o.rules = rs;
		o.rule_files = (const char *const *)rule_files;
		o.n_rule_files = n_rule_files;
		o.users_include = uinc.v;
		o.n_users_include = uinc.n;
		o.users_exclude = uexc.v;
		o.n_users_exclude = uexc.n;
		o.users_since_days = (unsigned)since;
		o.continue_on_error = cont;
		o.estimate = estimate;
		o.exclude_host_dir = (!estimate && store_real[0]) ? store_real : NULL;
		o.on_file = listf ? list_file_cb : NULL;
		o.on_file_ctx = listf;
		o.log = &log;
		o.progress = &prog.sink;
		log.warnings = log.errors = 0;
		ws_error_clear(&err);
		rc = scan_device(st, &o, &r, &err);
		cli_progress_end(&prog);
		if (rc != WS_OK && rc != WS_PARTIAL) {
			fprintf(stderr, "winstate: scan of %s failed\n", sources.v[i]);
			cli_fail(&err);
		}
		print_result(&r, rc, json, estimate, &js);
		if (rc == WS_PARTIAL && worst == WS_OK)
			worst = WS_PARTIAL;
		else if (rc != WS_OK && rc != WS_PARTIAL && (worst == WS_OK || worst == WS_PARTIAL))
			worst = rc;
	}
	if (json)
		printf("{\"devices\": [%s\n]}\n", js.buf);
	rc = worst;
out:
	store_close(st);
	rule_set_free(rs);
	cli_strv_free(rule_files, n_rule_files);
	if (lf)
		fclose(lf);
	if (pf)
		fclose(pf);
	if (listf && fclose(listf) != 0 && rc == WS_OK)
		rc = cli_usage("scan", "cannot write --list-files %s", list_files);
	free(sources.v);
	free(rules.v);
	free(uinc.v);
	free(uexc.v);
	ws_buf_release(&js);
	return rc;
}
