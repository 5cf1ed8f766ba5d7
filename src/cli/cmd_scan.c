/*
 * cmd_scan.c - `winstate scan`: capture one or more offline Windows
 * installations (--source repeated, or an --inventory CSV) into a store,
 * several at a time with --jobs, with a per-device summary.
 */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_common.h"
#include "cli/cli_text.h"
#include "cli/cli_json.h"
#include "cli/cli_run.h"
#include "blockdev/blockdev.h"
#include "scan/scan.h"
#include "util/ws_buf.h"

static const char usage_text[] =
	"usage: winstate scan --source SRC [--source SRC ...] --store DIR [options]\n"
	"       winstate scan --inventory devices.csv --store DIR [options]\n"
	"\n"
	"Capture users' settings and files from offline Windows installations.\n"
	"\n"
	"  --source SRC            a Windows installation (repeatable): the root folder of\n"
	"                          a mounted one, or a disk, block device, disk image or\n"
	"                          partition image read in-process; DISK@partN picks\n"
	"                          partition N of a disk holding several installations\n"
	"  --inventory FILE        CSV with header device,source[,users-include,users-exclude]\n"
	"                          (patterns in a cell separated by ';'; empty device =\n"
	"                          computer name); bad lines are reported, the rest scanned\n"
	"  --store DIR             migration store (created if missing)\n"
	CLI_BDE_USAGE
	"  --jobs N                scan N devices at a time (default 1)\n"
	"  --rules FILE|DIR        USMT-style rule file or folder of them (repeatable);\n"
	"                          default: winstate's own rules\n"
	"  --config FILE           USMT Config.xml: components with migrate=\"no\" are off\n"
	"  --device NAME           device name (default: the computer name); one --source only\n"
	"  --users-include PAT     DOMAIN\\user, user or SID pattern to include (repeatable);\n"
	"                          an include always wins\n"
	"  --users-exclude PAT     pattern to exclude (repeatable)\n"
	"  --users-since DAYS|YYYY/MM/DD\n"
	"                          only profiles used in the last DAYS days, or on or\n"
	"                          after that day (UTC); as USMT's /uel it takes\n"
	"                          precedence over --users-exclude (0, USMT's users signed\n"
	"                          in now, is refused: offline nobody is signed in)\n"
	"  --allow-empty           commit a scan that selects no user, and accept\n"
	"                          --users-include patterns that match no profile\n"
	"                          (otherwise exit 31, nothing committed)\n"
	"  --encrypt               encrypt a new store (needs a key option)\n"
	"  --key-file F            32-byte key file (raw or 64 hex digits)\n"
	"  --passphrase-env VAR    passphrase from environment variable VAR\n"
	"  --threads N             threads that hash, compress or decompress content\n"
	"                          (default: one per core); with 2 or more, folders\n"
	"                          of a mounted source are also read ahead of the walk\n"
	"  --reread                read every file; without it a file whose size and\n"
	"                          times equal the device's previous scan is not read\n"
	"  --estimate              count what would be captured; write nothing\n"
	"  --list-files FILE       write every selected file path to FILE (one device:\n"
	"                          PATH per line; several: DEVICE<TAB>PATH)\n"
	"  --progress-log FILE     append USMT-style progress lines to FILE\n"
	"  --log FILE              append time-stamped messages to FILE\n"
	"  --log-level LEVEL       what --log records: error, warn, info (default), debug\n"
	"  --continue-on-error     skip unreadable objects (exit 3) instead of stopping\n"
	"  --only-failed           rerun of a wave: skip every device whose last attempt\n"
	"                          recorded in the store succeeded (failed and new ones\n"
	"                          are scanned)\n"
	"  --no-apps               do not record users' Store apps (reinstall list)\n"
	"  --json                  print the summary as JSON\n"
	"  -v, --verbose           more messages;  -q, --quiet  only errors\n"
	"\n"
	"Exit: 0 every device succeeded; 3 every device completed, some objects\n"
	"skipped (--continue-on-error); else the highest code of a failed device\n"
	"(31: a --users-include pattern matched no profile, or no user selected).\n"
	"Ctrl-C stops at a safe point (exit 2): the devices completed are committed,\n"
	"the packs written for the others are kept and the same command again stores\n"
	"only what is missing (docs/logs.md).\n";

enum {
	OPT_SOURCE = 256, OPT_STORE, OPT_RULES, OPT_CONFIG, OPT_DEVICE,
	OPT_UINC, OPT_UEXC, OPT_USINCE, OPT_ENCRYPT, OPT_KEYFILE, OPT_PASSENV,
	OPT_ESTIMATE, OPT_LISTFILES, OPT_PROGLOG, OPT_LOG, OPT_LOGLEVEL,
	OPT_CONTINUE, OPT_JSON, OPT_INVENTORY, OPT_JOBS, OPT_NOAPPS, OPT_ALLOWEMPTY,
	OPT_ONLYFAILED, OPT_THREADS, OPT_REREAD
};

static const struct option options[] = {
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "inventory", required_argument, NULL, OPT_INVENTORY },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "users-include", required_argument, NULL, OPT_UINC },
	{ "users-exclude", required_argument, NULL, OPT_UEXC },
	{ "users-since", required_argument, NULL, OPT_USINCE },
	{ "allow-empty", no_argument, NULL, OPT_ALLOWEMPTY },
	{ "encrypt", no_argument, NULL, OPT_ENCRYPT },
	{ "key-file", required_argument, NULL, OPT_KEYFILE },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "reread", no_argument, NULL, OPT_REREAD },
	{ "estimate", no_argument, NULL, OPT_ESTIMATE },
	{ "list-files", required_argument, NULL, OPT_LISTFILES },
	{ "progress-log", required_argument, NULL, OPT_PROGLOG },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "log-level", required_argument, NULL, OPT_LOGLEVEL },
	{ "continue-on-error", no_argument, NULL, OPT_CONTINUE },
	{ "only-failed", no_argument, NULL, OPT_ONLYFAILED },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-apps", no_argument, NULL, OPT_NOAPPS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	CLI_BDE_OPTIONS,
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

/* ---- wave callbacks ----------------------------------------------------- */

struct wave_ctx {
	struct cli_run *run;
	FILE *listf;
	int list_device;              /* prefix paths with the device */
	int estimate;
	const struct scan_wave *wave;
	unsigned char *ended;         /* per wave index: its end is logged */
};

static void list_file_cb(void *ctx, const struct scan_file_event *ev)
{
	struct wave_ctx *w = ctx;

	if (w->list_device)
		fprintf(w->listf, "%s\t", ev->device);
	fprintf(w->listf, "%s%s\n", ev->path, ev->not_captured ? "\t(cloud)" : "");
}

/* How the summary names a target that may have no name yet. */
static const char *target_label(const struct scan_report *rep, char *buf,
				size_t n)
{
	if (rep->res.device[0])
		return rep->res.device;
	if (rep->target->source)
		return rep->target->source;
	snprintf(buf, n, "line %ld", rep->target->line);
	return buf;
}

/* How a device's counts read in the log (start and end lines). */
static void device_totals(const struct scan_result *r, int estimate, char *buf, size_t n)
{
	snprintf(buf, n, "%s%u users (%u skipped), %llu registry values, %llu files "
		 "(%.1f MB, %.1f MB new), %llu folders, %llu cloud-only, %u warnings, "
		 "%u errors%s%s%s", estimate ? "estimate: " : "", r->users, r->users_skipped,
		 (unsigned long long)r->values, (unsigned long long)r->files,
		 (double)r->bytes / 1048576.0, (double)r->bytes_new / 1048576.0,
		 (unsigned long long)r->dirs, (unsigned long long)r->cloud, r->warnings,
		 r->errors, r->scan_id[0] ? ", scan " : "", r->scan_id,
		 r->users ? "" : " (empty: no user)");
}

static void on_device(void *ctx, size_t index, const struct scan_report *rep)
{
	struct wave_ctx *w = ctx;
	char buf[2 * WS_ERROR_TEXT_MAX + 64], tot[1024], lb[32];

	if (!rep) {
		const struct scan_target *t = &w->wave->v[index];

		snprintf(buf, sizeof(buf), "%s of %s%s", w->estimate ? "estimate" : "scan",
			 t->source ? t->source : "-", t->device ? "" : " (device named by its computer name)");
		cli_run_device_start(w->run, t->device ? t->device : t->source ? t->source : "", buf);
		return;
	}
	w->ended[index] = 1;
	if (rep->status != WS_OK && rep->status != WS_PARTIAL) {
		cli_run_clear(w->run);
		cli_error_format(&rep->err, NULL, buf, sizeof(buf));
		/* through the log so --log records it and -q still shows it */
		ws_logf(cli_run_log(w->run), WS_LOG_ERROR, rep->res.device[0] ? rep->res.device :
			rep->target->source ? rep->target->source : "",
			"scan failed (%s): %s", ws_code_name(rep->status), buf);
		if (rep->res.packs_kept)
			ws_logf(cli_run_log(w->run), WS_LOG_INFO, rep->res.device,
				"kept for a rerun: %llu packs (%.1f MB of content)",
				(unsigned long long)rep->res.packs_kept,
				(double)rep->res.bytes_kept / 1048576.0);
		cli_run_device_end(w->run, target_label(rep, lb, sizeof(lb)), rep->status, NULL,
				   buf, 0);
		return;
	}
	device_totals(&rep->res, w->estimate, tot, sizeof(tot));
	cli_run_device_end(w->run, rep->res.device, rep->status, tot, NULL, rep->res.errors);
}

/* ---- summary ------------------------------------------------------------ */

static const char *status_word(int st)
{
	return st == WS_OK ? "ok" : st == WS_PARTIAL ? "partial" : "failed";
}

static void json_report(struct cli_json *j, const struct scan_report *rep)
{
	const struct scan_result *r = &rep->res;
	const struct scan_target *t = rep->target;
	char buf[2 * WS_ERROR_TEXT_MAX + 64];

	cli_json_obj(j, NULL);
	cli_json_opt(j, "device", r->device);
	cli_json_str(j, "source", t->source);
	cli_json_i64(j, "line", t->line);
	cli_json_i64(j, "status", rep->status);
	cli_json_str(j, "result", status_word(rep->status));
	if (rep->status != WS_OK && rep->status != WS_PARTIAL) {
		cli_error_format(&rep->err, NULL, buf, sizeof(buf));
		cli_json_str(j, "error", buf);
	}
	cli_json_opt(j, "scan", r->scan_id);
	cli_json_opt(j, "computer", r->computer);
	cli_json_opt(j, "os_product", r->os_product);
	cli_json_opt(j, "os_build", r->os_build);
	cli_json_opt(j, "os_edition", r->os_edition);
	cli_json_opt(j, "os_arch", r->os_arch);
	cli_json_u64(j, "users", r->users);
	cli_json_u64(j, "users_skipped", r->users_skipped);
	cli_json_u64(j, "users_no_registry", r->users_no_registry);
	cli_json_u64(j, "hives_replayed", r->hives_replayed);
	cli_json_u64(j, "objects", r->values + r->keys + r->files + r->dirs + r->cloud);
	cli_json_u64(j, "values", r->values);
	cli_json_u64(j, "keys", r->keys);
	cli_json_u64(j, "files", r->files);
	cli_json_u64(j, "dirs", r->dirs);
	cli_json_u64(j, "cloud", r->cloud);
	cli_json_u64(j, "bytes", r->bytes);
	cli_json_u64(j, "bytes_new", r->bytes_new);
	cli_json_u64(j, "warnings", r->warnings);
	cli_json_u64(j, "errors", r->errors);
	cli_json_u64(j, "components_skipped", r->components_skipped);
	cli_json_u64(j, "apps", r->apps);
	cli_json_bool(j, "empty", (rep->status == WS_OK || rep->status == WS_PARTIAL) && !r->users);
	cli_json_end(j);
}

static void text_summary(const struct scan_report *reps, size_t n, int estimate)
{
	if (n > 1)
		printf("%-20s %-8s %5s %8s %9s %9s %8s %6s\n", "device", "result",
		       "users", "objects", "MB", "new MB", "warnings", "errors");
	for (size_t i = 0; n > 1 && i < n; i++) {
		const struct scan_result *r = &reps[i].res;
		char lb[32];
		const char *name = target_label(&reps[i], lb, sizeof(lb));

		printf("%-20s %-8s %5u %8llu %9.1f %9.1f %8u %6u\n", name,
		       status_word(reps[i].status), r->users,
		       (unsigned long long)(r->values + r->keys + r->files +
					    r->dirs + r->cloud),
		       (double)r->bytes / 1048576.0,
		       (double)r->bytes_new / 1048576.0, r->warnings, r->errors);
	}
	for (size_t i = 0; i < n; i++) {
		const struct scan_result *r = &reps[i].res;

		if (reps[i].status != WS_OK && reps[i].status != WS_PARTIAL) {
			char buf[2 * WS_ERROR_TEXT_MAX + 64], lb[32];

			cli_error_format(&reps[i].err, NULL, buf, sizeof(buf));
			printf("failed: %s: %s\n",
			       target_label(&reps[i], lb, sizeof(lb)), buf);
			continue;
		}
		printf("%s%s: %u users (%u skipped), %llu registry values, %llu files "
		       "(%.1f MB, %.1f MB new), %llu folders, %llu cloud-only, "
		       "%u hives replayed, %u warnings, %u errors%s%s%s\n",
		       estimate ? "estimate " : "", r->device, r->users,
		       r->users_skipped, (unsigned long long)r->values,
		       (unsigned long long)r->files, (double)r->bytes / 1048576.0,
		       (double)r->bytes_new / 1048576.0, (unsigned long long)r->dirs,
		       (unsigned long long)r->cloud, r->hives_replayed,
		       r->warnings, r->errors, r->scan_id[0] ? ", scan " : "", r->scan_id,
		       r->users ? "" : " (empty: no user, apply refuses it)");
	}
}

/* Ctrl-C: what was kept, on stderr and in the log. */
static void canceled_note(struct cli_run *run, const struct scan_report *reps, size_t n)
{
	size_t done = 0;
	uint64_t packs = 0, bytes = 0;

	for (size_t i = 0; i < n; i++) {
		if (reps[i].status == WS_OK || reps[i].status == WS_PARTIAL)
			done++;
		packs += reps[i].res.packs_kept;
		bytes += reps[i].res.bytes_kept;
	}
	cli_run_note(run, WS_LOG_ERROR, "", "interrupted: %zu of %zu devices completed and "
		     "committed; %llu packs (%.1f MB of content) of the interrupted scans are "
		     "kept: the same command again stores only what is missing",
		     done, n, (unsigned long long)packs, (double)bytes / 1048576.0);
}

/* The closing line of the log: devices by result. */
static const char *summary_words(const struct scan_report *reps, size_t n, int rc,
				 char *buf, size_t size)
{
	size_t ok = 0, partial = 0, failed = 0;

	if (!reps) {
		snprintf(buf, size, "%s", rc ? "nothing scanned" : "");
		return buf;
	}
	for (size_t i = 0; i < n; i++) {
		if (reps[i].status == WS_OK)
			ok++;
		else if (reps[i].status == WS_PARTIAL)
			partial++;
		else
			failed++;
	}
	snprintf(buf, size, "%zu devices: %zu ok, %zu partial, %zu failed", n, ok, partial,
		 failed);
	return buf;
}

int cmd_scan(int argc, char **argv)
{
	struct strv sources = { 0 }, rules = { 0 }, uinc = { 0 }, uexc = { 0 };
	const char *store_dir = NULL, *config = NULL, *device = NULL;
	const char *list_files = NULL, *prog_log = NULL, *log_path = NULL;
	const char *inventory = NULL;
	struct cli_key_opts key = { 0 };
	struct bd_keys *bde_keys = NULL;
	unsigned long threads = 0;
	int reread = 0;
	unsigned long jobs = 1;
	unsigned since = 0;
	int64_t since_time = 0;
	int encrypt = 0, estimate = 0, cont = 0, json = 0, verbose = 0, quiet = 0;
	int no_apps = 0, allow_empty = 0, only_failed = 0;
	int c, rc = WS_OK, file_level = WS_LOG_INFO;
	struct cli_run run;
	struct ws_log *log;
	struct rule_set *rs = NULL;
	char **rule_files = NULL;
	size_t n_rule_files = 0;
	FILE *listf = NULL;
	char store_real[PATH_MAX];
	unsigned char keybuf[STORE_KEY_LEN];
	struct scan_wave wave = SCAN_WAVE_INIT;
	struct scan_report *reps = NULL;
	struct scan_fleet_opts fo;
	struct wave_ctx wc;
	struct ws_error err;
	char summary[256];

	cli_run_init(&run, "scan", argc, argv);
	log = cli_run_log(&run);
	memset(&wc, 0, sizeof(wc));
	store_real[0] = '\0';
	optind = 1;
	while ((c = getopt_long(argc, argv, "+vqh", options, NULL)) != -1) {
		switch (c) {
		case OPT_SOURCE: strv_push(&sources, optarg); break;
		case OPT_INVENTORY: inventory = optarg; break;
		case OPT_JOBS:
			if (cli_parse_uint(optarg, 1, 64, &jobs)) {
				rc = cli_usage("scan", "--jobs takes a number from 1 to 64, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_STORE: store_dir = optarg; break;
		case OPT_RULES: strv_push(&rules, optarg); break;
		case OPT_CONFIG: config = optarg; break;
		case OPT_DEVICE: device = optarg; break;
		case OPT_UINC: strv_push(&uinc, optarg); break;
		case OPT_UEXC: strv_push(&uexc, optarg); break;
		case OPT_USINCE:
			/* USMT /uel's forms: days, YYYY/MM/DD; 0 is explained */
			ws_error_clear(&err);
			if (scan_users_since_parse(optarg, &since, &since_time, &err)) {
				rc = cli_usage("scan", "--users-since %s: %s", optarg, err.msg);
				goto out;
			}
			break;
		case OPT_ENCRYPT: encrypt = 1; break;
		case OPT_KEYFILE: key.key_file = optarg; break;
		case OPT_PASSENV: key.passphrase_env = optarg; break;
		case OPT_THREADS:
			if (cli_parse_uint(optarg, 1, 64, &threads)) {
				rc = cli_usage("scan", "--threads takes a number from 1 to 64, not '%s'", optarg);
				goto out;
			}
			key.threads = (unsigned)threads;
			break;
		case OPT_REREAD: reread = 1; break;

		case OPT_ESTIMATE: estimate = 1; break;
		case OPT_LISTFILES: list_files = optarg; break;
		case OPT_PROGLOG: prog_log = optarg; break;
		case OPT_LOG: log_path = optarg; break;
		case OPT_LOGLEVEL:
			if ((file_level = cli_run_parse_level(optarg)) < 0) {
				rc = cli_usage("scan", "--log-level is error, warn, info or debug, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_CONTINUE: cont = 1; break;
		case OPT_ONLYFAILED: only_failed = 1; break;
		case OPT_JSON: json = 1; break;
		case OPT_NOAPPS: no_apps = 1; break;
		case OPT_ALLOWEMPTY: allow_empty = 1; break;
		case 'v': verbose++; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage_text, stdout); rc = WS_OK; goto out;
		default:
			if ((rc = cli_bde_option(&bde_keys, c, optarg)) == 0)
				break;
			if (rc < 0)
				rc = cli_bad_option("scan", options, "+vqh", argc, argv);
			goto out;
		}
	}
	if (optind < argc) {
		rc = cli_unexpected("scan", argv[optind]);
		goto out;
	}
	if (!sources.n && !inventory) {
		rc = cli_usage("scan", "--source is required (or --inventory)");
		goto out;
	}
	if (!store_dir && !estimate) {
		rc = cli_usage("scan", "--store is required (or --estimate)");
		goto out;
	}
	if (only_failed && estimate) {
		rc = cli_usage("scan", "--only-failed reads the store's records: not with --estimate");
		goto out;
	}
	if (device && (sources.n != 1 || inventory)) {
		rc = cli_usage("scan", "--device names one device: give a single --source");
		goto out;
	}
	if (list_files && !(listf = fopen(list_files, "w"))) {
		rc = cli_usage("scan", "cannot write --list-files %s: %s", list_files, strerror(errno));
		goto out;
	}
	if ((rc = cli_run_open(&run, log_path, file_level, prog_log)))
		goto out;
	cli_run_output(&run, verbose, quiet, json, 1);
	cli_run_catch_signals();

	ws_error_clear(&err);
	for (size_t i = 0; i < sources.n; i++)
		scan_wave_add(&wave, sources.v[i], i == 0 ? device : NULL);
	if (inventory && (rc = scan_inventory_load(inventory, &wave, &err))) {
		cli_run_fail(&run, &err, NULL);
		goto out;
	}
	if (!wave.n) {
		rc = cli_usage("scan", "the inventory %s lists no device", inventory);
		goto out;
	}

	if ((rc = cli_rules_load(rules.v, rules.n, config, log, &rs,
				 &rule_files, &n_rule_files)))
		goto out;
	memset(&fo, 0, sizeof(fo));
	if (!estimate) {
		struct store *st = NULL;

		/* create the store and check the key once, with clear messages */
		if ((rc = cli_store_open("scan", store_dir, &key, 1, encrypt, log, &st)))
			goto out;
		if (only_failed) {
			size_t dropped = 0;

			rc = scan_wave_keep_failed(st, &wave, &dropped, &err);
			if (rc) {
				store_close(st);
				cli_run_fail(&run, &err, NULL);
				goto out;
			}
			ws_logf(log, WS_LOG_INFO, "", "--only-failed: %zu devices whose last "
				"attempt succeeded are not scanned again", dropped);
			if (!wave.n) {
				store_close(st);
				if (!quiet && !json)
					printf("nothing to rescan: every device's last attempt succeeded\n");
				if (json) {
					struct cli_json j;

					cli_json_init(&j, 0);
					cli_json_obj(&j, NULL);
					cli_json_i64(&j, "status", 0);
					cli_json_arr(&j, "devices");
					cli_json_end(&j);
					cli_json_end(&j);
					cli_json_print(&j, stdout);
					cli_json_release(&j);
				}
				goto out;
			}
		}
		store_close(st);
		if (!realpath(store_dir, store_real))
			store_real[0] = '\0';
		fo.store_dir = store_dir;
		fo.store.log = log;
		if (key.key_file) {
			if ((rc = store_key_file_read(key.key_file, keybuf, &err))) {
				cli_run_fail(&run, &err, NULL);
				goto out;
			}
			fo.store.key = keybuf;
		}
		if (key.passphrase_env)
			fo.store.passphrase = getenv(key.passphrase_env);
		fo.store.threads = key.threads;
		fo.store.reread = reread;
	}

	run.devices = wave.n > 1 ? wave.n : 0;
	wc.run = &run;
	wc.listf = listf;
	wc.list_device = wave.n > 1;
	wc.estimate = estimate;
	wc.wave = &wave;
	wc.ended = ws_xcalloc(wave.n, 1);
	fo.jobs = (unsigned)jobs;
	fo.record_events = 1;
	fo.on_device = on_device;
	fo.on_device_ctx = &wc;
	scan_opts_init(&fo.base);
	fo.base.rules = rs;
	fo.base.bde_keys = bde_keys;
	fo.base.rule_files = (const char *const *)rule_files;
	fo.base.n_rule_files = n_rule_files;
	fo.base.users_include = uinc.v;
	fo.base.n_users_include = uinc.n;
	fo.base.users_exclude = uexc.v;
	fo.base.n_users_exclude = uexc.n;
	fo.base.users_since_days = since;
	fo.base.users_since_time = since_time;
	fo.base.allow_empty = allow_empty;
	fo.base.continue_on_error = cont;
	fo.base.estimate = estimate;
	fo.base.precount = cli_run_progress(&run) != NULL;
	fo.base.apps = !no_apps;
	fo.base.exclude_host_dir = store_real[0] ? store_real : NULL;
	fo.base.on_file = listf ? list_file_cb : NULL;
	fo.base.on_file_ctx = &wc;
	fo.base.log = log;
	fo.base.progress = cli_run_progress(&run);
	fo.base.cancel = cli_run_cancel_flag();

	reps = ws_xcalloc(wave.n, sizeof(*reps));
	rc = scan_fleet(&fo, &wave, reps, &err);
	cli_run_clear(&run);
	if (rc && scan_fleet_status(reps, wave.n) != rc) {
		/* the wave could not start (store) */
		cli_run_fail(&run, &err, NULL);
		goto out;
	}
	/* devices refused before scanning (bad inventory lines, names twice) */
	for (size_t i = 0; i < wave.n; i++)
		if (!wc.ended[i])
			on_device(&wc, i, &reps[i]);
	if (cli_run_canceled() && rc != WS_E_CANCELED && !scan_fleet_stopped(reps, wave.n))
		/* the signal came once every device had ended: nothing stopped */
		cli_run_note(&run, WS_LOG_WARN, "", "Ctrl-C came after every device had ended: "
			     "the scan was not interrupted (its result stands as reported)");
	else if (rc == WS_E_CANCELED || cli_run_canceled())
		canceled_note(&run, reps, wave.n);
	if (json) {
		struct cli_json j;

		cli_json_init(&j, 0);
		cli_json_obj(&j, NULL);
		cli_json_i64(&j, "status", rc);
		cli_json_arr(&j, "devices");
		for (size_t i = 0; i < wave.n; i++)
			json_report(&j, &reps[i]);
		cli_json_end(&j);
		cli_json_end(&j);
		cli_json_print(&j, stdout);
		cli_json_release(&j);
	} else if (!quiet) {
		text_summary(reps, wave.n, estimate);
	}
out:
	summary_words(reps, wave.n, rc, summary, sizeof(summary));
	memset(keybuf, 0, sizeof(keybuf));
	bd_keys_free(bde_keys);
	rule_set_free(rs);
	cli_strv_free(rule_files, n_rule_files);
	scan_wave_release(&wave);
	free(reps);
	free(wc.ended);
	if (listf) {
		int bad = ferror(listf);

		errno = 0;
		if ((fclose(listf) != 0 || bad) && rc == WS_OK) {
			struct ws_error le;

			/* a full disk is 72 and says so, like every other write */
			ws_error_set_errno(&le, WS_E_IO, errno ? errno : EIO, list_files,
					   "cannot write the --list-files list");
			rc = cli_run_fail(&run, &le, NULL);
		}
	}
	free(sources.v);
	free(rules.v);
	free(uinc.v);
	free(uexc.v);
	return cli_run_finish(&run, rc, summary);
}
