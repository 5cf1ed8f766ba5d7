/*
 * cmd_apply.c - `winstate apply`: replay a scan onto an offline Windows
 * installation; `--dry-run` prints the plan and touches nothing.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply/apply.h"
#include "cli/cli_common.h"
#include "cli/cli_text.h"
#include "cli/cli_json.h"
#include "cli/cli_run.h"
#include "rules/rules.h"
#include "scan/scan.h"
#include "util/ws_buf.h"

static const char usage_text[] =
	"usage: winstate apply --store DIR [--device NAME] --target DIR|DISK|IMAGE[@partN] [options]\n"
	"       winstate apply --store DIR --inventory targets.csv [--jobs N] [options]\n"
	"\n"
	"Replay a scan onto an offline Windows installation: registry values into\n"
	"the existing profiles' hives, files into those profiles; users without a\n"
	"profile are staged for their first sign-in.  Every change is journaled:\n"
	"'winstate undo --target DIR' reverts it.\n"
	"\n"
	"  --store DIR             migration store\n"
	"  --device NAME           device whose scan is applied (any case; default: the\n"
	"                          target's computer name); a scan without users is\n"
	"                          refused (exit 31)\n"
	"  --inventory FILE        many targets: CSV with header target[,device,scan,\n"
	"                          map-user,map-domain] (mappings in a cell separated by\n"
	"                          ';'; empty device = the target's computer name); bad\n"
	"                          lines are reported as FILE:LINE, the rest applied\n"
	"  --jobs N                apply to N targets at a time (default 1)\n"
	"  --scan ID               that scan (default: the device's newest)\n"
	"  --target DIR            root of the target Windows installation; or a disk,\n"
	"                          disk image, partition or DISK@partN: its Windows\n"
	"                          partition is mounted with ntfs-3g while apply runs\n"
	"  --mode auto|offline|first-sign-in|extract\n"
	"                          auto (default): offline for users whose profile exists\n"
	"                          on the target, first-sign-in bundles for the others;\n"
	"                          extract: files as a plain tree and settings as .reg\n"
	"                          files into the --target folder\n"
	"  --default-profile       write the scan's user into Users\\Default: every new\n"
	"                          user starts with the settings\n"
	"  --map-user OLD=NEW      source user OLD (SID, user or DOMAIN\\user) is NEW\n"
	"                          (DOMAIN\\user, UPN, SID, Entra object ID or Default)\n"
	"  --map-domain OLD=NEW    accounts OLD\\x become NEW\\x (repeatable)\n"
	"  --map-file CSV          lines OLD,NEW[,NEW...] as for --map-user\n"
	"  --users-include PAT     only the scan's users matching: DOMAIN\\user, user or\n"
	"                          SID pattern (repeatable); an include always wins\n"
	"  --users-exclude PAT     leave the scan's users matching out (repeatable)\n"
	"  --users-since DAYS|YYYY/MM/DD\n"
	"                          only users who used the source in the last DAYS days\n"
	"                          or since that day; beats --users-exclude (USMT\n"
	"                          LoadState's /ui /ue /uel; a user left out gets nothing)\n"
	"  --prompt                first sign-in: ask the user before restoring\n"
	"  --expires YYYY-MM-DD    first sign-in: after that day the bundle is only removed\n"
	"  --rules FILE|DIR        LoadState rules (merge, locationModify, contentModify,\n"
	"                          destinationCleanup, addObjects, NeverRestore) from these\n"
	"                          files (repeatable); default: the scan's rule files\n"
	"  --app-cache DIR         folder of offline Store packages (.msix .msixbundle\n"
	"                          .appx .appxbundle): matching ones are copied into the\n"
	"                          bundles and installed at sign-in without the Store\n"
	"  --conflict source|destination\n"
	"                          on a file collision, overwrite (source) or keep the\n"
	"                          target's (destination); default: keep the target's and\n"
	"                          place the source's as name(1).ext, as USMT does\n"
	"  --dry-run               print the plan; change nothing\n"
	"  --allow-plain-target    accept a target that cannot hold Windows security\n"
	"                          descriptors (a plain folder, FAT: refused with exit 71\n"
	"                          otherwise); for test targets: what apply creates there\n"
	"                          gets no ACL.  Mount NTFS with ntfs-3g -o permissions\n"
	"                          or the ntfs3 driver instead (docs/apply.md)\n"
	"  --allow-shared-bundle   stage a user whose SID the target cannot know (another\n"
	"                          domain, --map-domain) although every local user can\n"
	"                          read that bundle until the user signs in (exit 11\n"
	"                          otherwise: give the SID with --map-user OLD=SID)\n"
	"  --key-file F | --passphrase-env VAR   key of an encrypted store\n"
	"  --threads N             threads that hash, compress or decompress content;\n"
	"                          with --mode extract and two or more, they also\n"
	"                          write the files, taking batches in turn\n"
	"                          (default: one per core)\n"
	"  --log FILE              append the command line, every action and message,\n"
	"                          each target's start and end to FILE (docs/logs.md)\n"
	"  --log-level LEVEL       what --log records: error, warn, info (default), debug\n"
	"  --progress-log FILE     append USMT-style progress lines to FILE\n"
	"  --json                  print the plan/report as JSON\n"
	"  -v, --verbose           list every action (a dry run too);  -q, --quiet  only\n"
	"                          errors\n"
	"\n"
	"Ctrl-C stops between entries (exit 2): what was done is journaled, 'winstate\n"
	"undo' reverts it and applying again completes it (docs/logs.md).\n";

enum {
	OPT_STORE = 256, OPT_DEVICE, OPT_SCAN, OPT_TARGET, OPT_MODE, OPT_MAPUSER,
	OPT_CONFLICT, OPT_DRYRUN, OPT_KEYFILE, OPT_PASSENV, OPT_LOG, OPT_JSON,
	OPT_DEFPROF, OPT_MAPDOM, OPT_MAPFILE, OPT_PROMPT, OPT_EXPIRES, OPT_APPCACHE,
	OPT_RULES, OPT_ALLOWPLAIN, OPT_ALLOWSHARED, OPT_INVENTORY, OPT_JOBS,
	OPT_THREADS, OPT_LOGLEVEL, OPT_PROGLOG, OPT_UINC, OPT_UEXC, OPT_USINCE
};

static const struct option options[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "scan", required_argument, NULL, OPT_SCAN },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "map-user", required_argument, NULL, OPT_MAPUSER },
	{ "map-domain", required_argument, NULL, OPT_MAPDOM },
	{ "map-file", required_argument, NULL, OPT_MAPFILE },
	{ "users-include", required_argument, NULL, OPT_UINC },
	{ "users-exclude", required_argument, NULL, OPT_UEXC },
	{ "users-since", required_argument, NULL, OPT_USINCE },
	{ "default-profile", no_argument, NULL, OPT_DEFPROF },
	{ "prompt", no_argument, NULL, OPT_PROMPT },
	{ "expires", required_argument, NULL, OPT_EXPIRES },
	{ "conflict", required_argument, NULL, OPT_CONFLICT },
	{ "app-cache", required_argument, NULL, OPT_APPCACHE },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "dry-run", no_argument, NULL, OPT_DRYRUN },
	{ "allow-plain-target", no_argument, NULL, OPT_ALLOWPLAIN },
	{ "allow-shared-bundle", no_argument, NULL, OPT_ALLOWSHARED },
	{ "inventory", required_argument, NULL, OPT_INVENTORY },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "key-file", required_argument, NULL, OPT_KEYFILE },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "log-level", required_argument, NULL, OPT_LOGLEVEL },
	{ "progress-log", required_argument, NULL, OPT_PROGLOG },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

struct plan_out {
	int json, verbose, quiet, dry_run;
	struct cli_json actions;      /* the actions array, written as they come */
	struct cli_run *run;
};

/* The level an action is logged at: what was left undone is a warning,
 * what was already there a detail. */
static int action_level(int kind)
{
	switch (kind) {
	case APPLY_REG_SAME:
	case APPLY_FILE_SAME:
		return WS_LOG_DEBUG;
	case APPLY_USER_MISSING:
	case APPLY_REG_SKIP:
	case APPLY_FILE_SKIP:
	case APPLY_RULE_UNSUPPORTED:
		return WS_LOG_WARN;
	default:
		return WS_LOG_INFO;
	}
}

static void on_action(void *ctx, const struct apply_action *a)
{
	struct plan_out *p = ctx;

	cli_run_record(p->run, action_level(a->kind), a->user, "%s%s %s%s%s%s%s%s",
		       p->dry_run ? "would " : "", apply_action_name(a->kind), a->object,
		       a->target ? " -> " : "", a->target ? a->target : "",
		       a->reason ? "  (" : "", a->reason ? a->reason : "", a->reason ? ")" : "");
	if (p->json) {
		struct cli_json *j = &p->actions;

		cli_json_obj(j, NULL);
		cli_json_str(j, "action", apply_action_name(a->kind));
		cli_json_opt(j, "user", a->user);
		cli_json_str(j, "object", a->object);
		cli_json_opt(j, "target", a->target);
		cli_json_opt(j, "reason", a->reason);
		cli_json_end(j);
		return;
	}
	/* the same lines for a dry run as for the real one: -v lists all */
	if (p->quiet)
		return;
	if (!p->verbose && a->kind != APPLY_USER_MAP &&
	    a->kind != APPLY_USER_MISSING && a->kind != APPLY_REG_DEFERRED &&
	    a->kind != APPLY_FILE_RENAME && a->kind != APPLY_USER_STAGE &&
	    a->kind != APPLY_BUNDLE && a->kind != APPLY_APP_STAGE &&
	    a->kind != APPLY_REG_DROPPED && a->kind != APPLY_FILE_DROPPED &&
	    a->kind != APPLY_SETTINGS_FILE && a->kind < APPLY_RULE_MOVE)
		return;
	cli_run_clear(p->run);
	printf("%-14s %-12s %s%s%s%s%s%s\n", apply_action_name(a->kind), a->user,
	       a->object, a->target ? " -> " : "", a->target ? a->target : "",
	       a->reason ? "  (" : "", a->reason ? a->reason : "",
	       a->reason ? ")" : "");
}

static void json_counts(struct cli_json *j, const struct apply_counts *c)
{
	cli_json_u64(j, "values_set", c->values_set);
	cli_json_u64(j, "values_same", c->values_same);
	cli_json_u64(j, "values_deferred", c->values_deferred);
	cli_json_u64(j, "values_skipped", c->values_skipped);
	cli_json_u64(j, "values_staged", c->values_staged);
	cli_json_u64(j, "keys_created", c->keys_created);
	cli_json_u64(j, "files_placed", c->files_placed);
	cli_json_u64(j, "files_renamed", c->files_renamed);
	cli_json_u64(j, "files_overwritten", c->files_overwritten);
	cli_json_u64(j, "files_same", c->files_same);
	cli_json_u64(j, "files_kept", c->files_kept);
	cli_json_u64(j, "files_skipped", c->files_skipped);
	cli_json_u64(j, "files_staged", c->files_staged);
	cli_json_u64(j, "dirs_created", c->dirs_created);
	cli_json_u64(j, "bytes", c->bytes);
	cli_json_u64(j, "apps_offline", c->apps_offline);
	cli_json_u64(j, "apps_winget", c->apps_winget);
	cli_json_u64(j, "apps_needs_store", c->apps_needs_store);
	cli_json_u64(j, "apps_skipped", c->apps_skipped);
	cli_json_u64(j, "values_dropped", c->values_dropped);
	cli_json_u64(j, "files_dropped", c->files_dropped);
	cli_json_u64(j, "values_translated", c->values_translated);
	cli_json_u64(j, "objects_moved", c->objects_moved);
	cli_json_u64(j, "values_modified", c->values_modified);
	cli_json_u64(j, "values_kept", c->values_kept);
	cli_json_u64(j, "objects_cleaned", c->objects_cleaned);
	cli_json_u64(j, "rules_unsupported", c->rules_unsupported);
}

static void json_app(struct cli_json *j, const struct apply_app *a)
{
	cli_json_obj(j, NULL);
	cli_json_str(j, "family", a->family);
	cli_json_opt(j, "full_name", a->full_name);
	cli_json_opt(j, "version", a->version);
	cli_json_opt(j, "arch", a->arch);
	cli_json_str(j, "source", apply_app_source_name(a->source));
	cli_json_opt(j, "product_id", a->product_id);
	cli_json_opt(j, "package", a->package);
	cli_json_arr(j, "dependencies");
	for (size_t i = 0; i < a->ndeps; i++)
		cli_json_str(j, NULL, a->deps[i]);
	cli_json_end(j);
	cli_json_opt(j, "license", a->license);
	cli_json_end(j);
}

static void print_report(const struct apply_report *r, int json, int dry_run,
			 int rc, struct plan_out *p, const char *mode)
{
	if (json) {
		struct apply_counts tot = {
			r->values_set, r->values_same, r->values_deferred, r->values_skipped,
			r->values_staged, r->keys_created, r->files_placed, r->files_renamed,
			r->files_overwritten, r->files_same, r->files_kept, r->files_skipped,
			r->dirs_created, r->files_staged, r->bytes, r->apps_offline,
			r->apps_winget, r->apps_needs_store, r->apps_skipped,
			r->values_dropped, r->files_dropped, r->values_translated,
			r->objects_moved, r->values_modified, r->values_kept, r->objects_cleaned,
			r->rules_unsupported
		};
		struct cli_json j;

		cli_json_init(&j, 0);
		cli_json_obj(&j, NULL);
		cli_json_opt(&j, "scan", r->scan_id);
		cli_json_bool(&j, "dry_run", dry_run);
		cli_json_i64(&j, "status", rc);
		cli_json_str(&j, "mode", mode);
		cli_json_opt(&j, "journal", r->journal);
		cli_json_u64(&j, "users_applied", r->users_applied);
		cli_json_u64(&j, "users_missing", r->users_missing);
		cli_json_u64(&j, "users_staged", r->users_staged);
		if (r->users_left_out)
			cli_json_u64(&j, "users_left_out", r->users_left_out);
		cli_json_u64(&j, "bundles", r->bundles);
		cli_json_u64(&j, "hives_committed", r->hives_committed);
		json_counts(&j, &tot);
		cli_json_arr(&j, "users");
		for (size_t i = 0; i < r->n_users; i++) {
			const struct apply_user_report *u = &r->users[i];

			cli_json_obj(&j, NULL);
			cli_json_opt(&j, "account", u->account);
			cli_json_opt(&j, "sid", u->sid);
			cli_json_opt(&j, "new_account", u->new_account);
			cli_json_opt(&j, "new_sid", u->new_sid);
			cli_json_str(&j, "mode", apply_mode_name(u->mode));
			cli_json_opt(&j, "target", u->target);
			cli_json_opt(&j, "reason", u->reason);
			json_counts(&j, &u->c);
			cli_json_arr(&j, "apps");
			for (size_t k = 0; k < u->n_apps; k++)
				json_app(&j, &u->apps[k]);
			cli_json_end(&j);
			cli_json_end(&j);
		}
		cli_json_end(&j);
		cli_json_u64(&j, "wifi_profiles", r->wifi_profiles);
		cli_json_arr(&j, "wifi_reenter");
		for (size_t k = 0; k < r->n_wifi; k++) {
			cli_json_obj(&j, NULL);
			cli_json_opt(&j, "ssid", r->wifi[k].ssid);
			cli_json_opt(&j, "authentication", r->wifi[k].authentication);
			cli_json_opt(&j, "file", r->wifi[k].file);
			cli_json_opt(&j, "reason", r->wifi[k].reason);
			cli_json_end(&j);
		}
		cli_json_end(&j);
		cli_json_u64(&j, "source_build", r->source_build);
		cli_json_u64(&j, "target_build", r->target_build);
		cli_json_bool(&j, "win10_to_11", r->win10_to_11);
		cli_json_arr(&j, "compat");
		for (size_t k = 0; k < r->n_compat; k++) {
			cli_json_obj(&j, NULL);
			cli_json_opt(&j, "component", r->compat[k].component);
			cli_json_opt(&j, "verdict", r->compat[k].verdict);
			cli_json_opt(&j, "note", r->compat[k].note);
			cli_json_u64(&j, "values", r->compat[k].values);
			cli_json_u64(&j, "files", r->compat[k].files);
			cli_json_end(&j);
		}
		cli_json_end(&j);
		cli_json_end(&p->actions);
		cli_json_raw(&j, "actions", cli_json_text(&p->actions));
		cli_json_end(&j);
		cli_json_print(&j, stdout);
		cli_json_release(&j);
		return;
	}
	printf("%s scan %s: %u users applied, %u staged for first sign-in, %u missing on the target\n"
	       "  registry: %llu set, %llu already equal, %llu deferred, %llu skipped, %llu staged, "
	       "%llu keys created\n"
	       "  files:    %llu placed, %llu renamed on collision, %llu overwritten, "
	       "%llu already equal, %llu kept, %llu skipped, %llu staged, %llu folders created (%.1f MB)\n",
	       dry_run ? "plan for" : "applied", r->scan_id, r->users_applied, r->users_staged,
	       r->users_missing, (unsigned long long)r->values_set,
	       (unsigned long long)r->values_same, (unsigned long long)r->values_deferred,
	       (unsigned long long)r->values_skipped, (unsigned long long)r->values_staged,
	       (unsigned long long)r->keys_created,
	       (unsigned long long)r->files_placed, (unsigned long long)r->files_renamed,
	       (unsigned long long)r->files_overwritten, (unsigned long long)r->files_same,
	       (unsigned long long)r->files_kept, (unsigned long long)r->files_skipped,
	       (unsigned long long)r->files_staged,
	       (unsigned long long)r->dirs_created, (double)r->bytes / 1048576.0);
	if (r->users_left_out)
		printf("  users:    %u left out by --users-include, --users-exclude or "
		       "--users-since (nothing of theirs written)\n", r->users_left_out);
	if (r->values_dropped || r->files_dropped || r->values_translated)
		printf("  settings catalog: %llu values and %llu files dropped on purpose (see "
		       "reg-dropped / file-dropped), %llu values translated into generated files\n",
		       (unsigned long long)r->values_dropped, (unsigned long long)r->files_dropped,
		       (unsigned long long)r->values_translated);
	if (r->objects_moved || r->values_modified || r->values_kept || r->objects_cleaned ||
	    r->rules_unsupported)
		printf("  LoadState rules: %llu objects moved, %llu values changed, %llu target "
		       "values kept, %llu target objects cleaned up, %llu rules not applied\n",
		       (unsigned long long)r->objects_moved, (unsigned long long)r->values_modified,
		       (unsigned long long)r->values_kept, (unsigned long long)r->objects_cleaned,
		       (unsigned long long)r->rules_unsupported);
	if (r->win10_to_11) {
		printf("  Windows 10 (build %u) -> Windows 11 (build %u): %zu settings groups\n",
		       r->source_build, r->target_build, r->n_compat);
		for (size_t k = 0; k < r->n_compat; k++)
			printf("    %-11s %s%s%s\n", r->compat[k].verdict, r->compat[k].component,
			       *r->compat[k].note ? ": " : "", r->compat[k].note);
	}
	if (r->bundles)
		printf("  %u first-sign-in bundles staged under ProgramData\\winstate\\bundles\n",
		       r->bundles);
	for (size_t i = 0; i < r->n_users; i++) {
		const struct apply_user_report *u = &r->users[i];

		if (!u->n_apps)
			continue;
		printf("  Store apps for %s (%s): %zu to reinstall at sign-in (%llu offline "
		       "package, %llu winget, %llu need the Store; %llu not reinstalled)\n",
		       u->account, u->target ? u->target : "-", u->n_apps,
		       (unsigned long long)u->c.apps_offline, (unsigned long long)u->c.apps_winget,
		       (unsigned long long)u->c.apps_needs_store, (unsigned long long)u->c.apps_skipped);
		for (size_t k = 0; k < u->n_apps; k++) {
			const struct apply_app *a = &u->apps[k];

			printf("    %-48s %-14s %s", a->family, a->version,
			       apply_app_source_name(a->source));
			if (a->source == APPLY_APP_OFFLINE)
				printf(" %s (+%zu dependencies)", a->package, a->ndeps);
			else if (a->source == APPLY_APP_WINGET)
				printf(" --id %s", a->product_id);
			printf("\n");
		}
	}
	if (r->wifi_profiles)
		printf("  Wi-Fi: %u profiles; %zu networks need their key typed again on the target%s\n",
		       r->wifi_profiles, r->n_wifi, r->n_wifi ? ":" : "");
	for (size_t k = 0; k < r->n_wifi; k++)
		printf("    %s (%s): %s\n", r->wifi[k].ssid,
		       *r->wifi[k].authentication ? r->wifi[k].authentication : "unknown",
		       r->wifi[k].reason);
	if (*r->journal && !dry_run)
		printf("  undo journal: %s  (winstate undo --target DIR)\n", r->journal);
}

/* The apply's event record in the store (for `winstate report`); a record
 * that cannot be written is a warning, the apply is what counts. */
static void record_apply(struct store *st, const struct apply_opts *o,
			 const struct apply_report *r, int rc,
			 const struct ws_error *failure, int64_t started,
			 const struct apply_notes *notes, struct ws_log *log)
{
	char buf[2 * WS_ERROR_TEXT_MAX + 64];
	struct ws_error e;

	buf[0] = '\0';
	if (rc != WS_OK && rc != WS_PARTIAL)
		cli_error_format(failure, NULL, buf, sizeof(buf));
	ws_error_clear(&e);
	if (apply_event_write(st, o, r, rc, buf, started, notes, &e) != WS_OK) {
		cli_error_format(&e, NULL, buf, sizeof(buf));
		ws_logf(log, WS_LOG_WARN, "", "the apply's event record was not written: %s", buf);
	}
}

/* ---- many targets (--inventory) ---------------------------------------- */

static void wave_json(struct cli_json *j, const struct apply_fleet_report *rep)
{
	const struct apply_target *t = rep->target;
	const struct apply_report *r = &rep->r;
	char buf[2 * WS_ERROR_TEXT_MAX + 64];

	cli_json_obj(j, NULL);
	cli_json_opt(j, "target", t->target);
	cli_json_opt(j, "device", rep->device);
	cli_json_i64(j, "line", t->line);
	cli_json_i64(j, "status", rep->status);
	cli_json_str(j, "result", rep->status == WS_OK ? "ok" :
			 rep->status == WS_PARTIAL ? "partial" : "failed");
	buf[0] = '\0';
	if (rep->status != WS_OK && rep->status != WS_PARTIAL)
		cli_error_format(&rep->err, NULL, buf, sizeof(buf));
	cli_json_opt(j, "error", buf);
	cli_json_opt(j, "scan", r->scan_id);
	cli_json_opt(j, "target_computer", r->target_computer);
	cli_json_opt(j, "journal", r->journal);
	cli_json_u64(j, "users_applied", r->users_applied);
	cli_json_u64(j, "users_staged", r->users_staged);
	cli_json_u64(j, "users_missing", r->users_missing);
	cli_json_u64(j, "values_set", r->values_set);
	cli_json_u64(j, "files_placed", r->files_placed);
	cli_json_u64(j, "files_staged", r->files_staged);
	cli_json_u64(j, "bytes", r->bytes);
	cli_json_end(j);
}

/* How an apply's counts read in the log. */
static void apply_totals(const struct apply_report *r, int dry_run, char *buf, size_t n)
{
	snprintf(buf, n, "%sscan %s: %u users applied, %u staged, %u missing; %llu values "
		 "set, %llu staged; %llu files placed, %llu renamed, %llu staged, %llu folders "
		 "created (%.1f MB)%s%s", dry_run ? "plan for " : "", r->scan_id,
		 r->users_applied, r->users_staged, r->users_missing,
		 (unsigned long long)r->values_set, (unsigned long long)r->values_staged,
		 (unsigned long long)r->files_placed, (unsigned long long)r->files_renamed,
		 (unsigned long long)r->files_staged, (unsigned long long)r->dirs_created,
		 (double)r->bytes / 1048576.0, *r->journal && !dry_run ? ", journal " : "",
		 dry_run ? "" : r->journal);
}

struct wave_out {
	struct cli_run *run;
	const struct apply_wave *w;
	int dry_run;
	unsigned char *ended;         /* per target: its end is logged */
};

/* A wave's actions: into --log only, each under its target. */
static void wave_on_action(void *ctx, size_t index, const struct apply_action *a)
{
	struct wave_out *wo = ctx;
	const struct apply_target *t = &wo->w->v[index];
	char where[1024];

	snprintf(where, sizeof(where), "%s: %s", t->target ? t->target : "", a->user);
	cli_run_record(wo->run, action_level(a->kind), where, "%s%s %s%s%s%s%s%s",
		       wo->dry_run ? "would " : "", apply_action_name(a->kind), a->object,
		       a->target ? " -> " : "", a->target ? a->target : "",
		       a->reason ? "  (" : "", a->reason ? a->reason : "", a->reason ? ")" : "");
}

static void wave_on_target(void *ctx, size_t index, const struct apply_fleet_report *rep)
{
	struct wave_out *wo = ctx;
	struct ws_log *log = cli_run_log(wo->run);
	char buf[2 * WS_ERROR_TEXT_MAX + 64], tot[1024];
	const struct apply_target *t = &wo->w->v[index];
	const char *label = t->target ? t->target : "";

	if (!rep) {
		snprintf(buf, sizeof(buf), "%s of %s's scan to %s", wo->dry_run ? "dry run" : "apply",
			 t->device ? t->device : "the target's computer", label);
		cli_run_device_start(wo->run, label, buf);
		return;
	}
	wo->ended[index] = 1;
	if (rep->status == WS_OK || rep->status == WS_PARTIAL) {
		apply_totals(&rep->r, wo->dry_run, tot, sizeof(tot));
		cli_run_device_end(wo->run, label, rep->status, tot, NULL, 0);
		return;
	}
	cli_run_clear(wo->run);
	cli_error_format(&rep->err, NULL, buf, sizeof(buf));
	ws_logf(log, WS_LOG_ERROR, label, "apply failed (%s): %s", ws_code_name(rep->status), buf);
	if (*rep->r.journal)
		ws_logf(log, WS_LOG_ERROR, label, "the changes made so far are journaled in %s: "
			"'winstate undo --target %s' reverts them", rep->r.journal, label);
	cli_run_device_end(wo->run, label, rep->status, NULL, buf, 0);
}

/* apply --inventory: every target, a summary per target, the wave's code. */
static int apply_wave_run(struct store *st, const char *store_dir,
			  const struct cli_key_opts *key, const char *inventory,
			  unsigned jobs, const struct apply_opts *base, int json,
			  int quiet, struct cli_run *run)
{
	struct ws_log *log = cli_run_log(run);
	struct wave_out wo = { 0 };
	struct apply_wave w = APPLY_WAVE_INIT;
	struct apply_fleet_report *reps = NULL;
	struct apply_fleet_opts fo;
	unsigned char keybuf[STORE_KEY_LEN];
	struct ws_error err;
	int rc;

	(void)st;
	ws_error_clear(&err);
	if ((rc = apply_inventory_load(inventory, &w, &err))) {
		cli_fail_log(log, &err);
		goto out;
	}
	if (!w.n) {
		rc = cli_usage("apply", "the inventory %s lists no target", inventory);
		goto out;
	}
	memset(&fo, 0, sizeof(fo));
	fo.store_dir = store_dir;
	fo.store.log = log;
	if (key->key_file) {
		if ((rc = store_key_file_read(key->key_file, keybuf, &err))) {
			cli_fail_log(log, &err);
			goto out;
		}
		fo.store.key = keybuf;
	}
	if (key->passphrase_env)
		fo.store.passphrase = getenv(key->passphrase_env);
	fo.jobs = jobs;
	fo.base = *base;
	fo.base.log = log;
	fo.record_events = 1;
	run->devices = w.n > 1 ? w.n : 0;
	wo.ended = ws_xcalloc(w.n, 1);
	wo.run = run;
	wo.w = &w;
	wo.dry_run = base->dry_run;
	fo.on_target = wave_on_target;
	fo.on_target_ctx = &wo;
	if (run->log) {
		fo.on_action = wave_on_action;
		fo.on_action_ctx = &wo;
	}
	reps = ws_xcalloc(w.n, sizeof(*reps));
	rc = apply_fleet(&fo, &w, reps, &err);
	cli_run_clear(run);
	if (rc && apply_fleet_status(reps, w.n) != rc) {
		cli_fail_log(log, &err);
		goto out;
	}
	/* targets refused before applying (bad inventory lines) */
	for (size_t i = 0; i < w.n; i++)
		if (!wo.ended[i])
			wave_on_target(&wo, i, &reps[i]);
	if (json) {
		struct cli_json j;

		cli_json_init(&j, 0);
		cli_json_obj(&j, NULL);
		cli_json_i64(&j, "status", rc);
		cli_json_bool(&j, "dry_run", base->dry_run);
		cli_json_arr(&j, "targets");
		for (size_t i = 0; i < w.n; i++)
			wave_json(&j, &reps[i]);
		cli_json_end(&j);
		cli_json_end(&j);
		cli_json_print(&j, stdout);
		cli_json_release(&j);
	} else if (!quiet) {
		printf("%-28s %-16s %-8s %5s %6s %8s %8s\n", "target", "device", "result",
		       "users", "staged", "values", "files");
		for (size_t i = 0; i < w.n; i++) {
			const struct apply_fleet_report *p = &reps[i];

			printf("%-28s %-16s %-8s %5u %6u %8llu %8llu\n",
			       p->target->target ? p->target->target : "-",
			       p->device[0] ? p->device : "-",
			       p->status == WS_OK ? "ok" : p->status == WS_PARTIAL ? "partial" : "failed",
			       p->r.users_applied, p->r.users_staged,
			       (unsigned long long)p->r.values_set,
			       (unsigned long long)(p->r.files_placed + p->r.files_staged));
		}
		for (size_t i = 0; i < w.n; i++) {
			char buf[2 * WS_ERROR_TEXT_MAX + 64];

			if (reps[i].status == WS_OK || reps[i].status == WS_PARTIAL)
				continue;
			cli_error_format(&reps[i].err, NULL, buf, sizeof(buf));
			printf("failed: %s: %s\n", reps[i].target->target ? reps[i].target->target :
			       "-", buf);
		}
	}
out:
	memset(keybuf, 0, sizeof(keybuf));
	for (size_t i = 0; reps && i < w.n; i++)
		apply_report_release(&reps[i].r);
	free(reps);
	apply_wave_release(&w);
	free(wo.ended);
	return rc;
}

int cmd_apply(int argc, char **argv)
{
	const char *store_dir = NULL, *log_path = NULL, *mode = NULL;
	const char **maps = NULL, **doms = NULL, **rules = NULL;
	size_t nmaps = 0, amaps = 0, ndoms = 0, adoms = 0, nrules = 0, arules = 0;
	const char **uinc = NULL, **uexc = NULL;
	size_t nuinc = 0, auinc = 0, nuexc = 0, auexc = 0;
	struct cli_key_opts key = { 0 };
	unsigned long threads = 0;
	struct apply_opts o;
	struct apply_report r;
	struct plan_out plan = { 0 };
	struct cli_run run;
	struct ws_log *log;
	struct ws_error err;
	struct store *st = NULL;
	char *exe_dir, *rules_dir = NULL;
	const char *prog_log = NULL;
	int c, rc, quiet = 0, verbose = 0, log_level = WS_LOG_INFO;
	char summary[1024] = "";
	struct apply_notes notes;
	int64_t started;
	const char *inventory = NULL;
	unsigned long jobs = 1;
	char device_buf[256];
	struct cli_target tg;
	const char *target_arg = NULL;

	cli_run_init(&run, "apply", argc, argv);
	log = cli_run_log(&run);
	memset(&r, 0, sizeof(r));
	memset(&tg, 0, sizeof(tg));
	apply_opts_init(&o);
	apply_notes_init(&notes, NULL);
	cli_json_init(&plan.actions, 1);
	cli_json_arr(&plan.actions, NULL);
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
		case OPT_MAPDOM:
			WS_ALLOC_GROW(doms, ndoms + 1, adoms);
			doms[ndoms++] = optarg;
			break;
		case OPT_MAPFILE: o.map_file = optarg; break;
		case OPT_UINC:
			WS_ALLOC_GROW(uinc, nuinc + 1, auinc);
			uinc[nuinc++] = optarg;
			break;
		case OPT_UEXC:
			WS_ALLOC_GROW(uexc, nuexc + 1, auexc);
			uexc[nuexc++] = optarg;
			break;
		case OPT_USINCE:
			ws_error_clear(&err);
			if (scan_users_since_parse(optarg, &o.users_since_days, &o.users_since_time,
						   &err)) {
				rc = cli_usage("apply", "--users-since %s: %s", optarg, err.msg);
				goto out;
			}
			break;
		case OPT_DEFPROF: o.default_profile = 1; break;
		case OPT_PROMPT: o.prompt = 1; break;
		case OPT_EXPIRES: o.expires = optarg; break;
		case OPT_APPCACHE: o.app_cache = optarg; break;
		case OPT_RULES:
			WS_ALLOC_GROW(rules, nrules + 1, arules);
			rules[nrules++] = optarg;
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
		case OPT_ALLOWPLAIN: o.allow_plain_target = 1; break;
		case OPT_ALLOWSHARED: o.allow_shared_bundle = 1; break;
		case OPT_INVENTORY: inventory = optarg; break;
		case OPT_JOBS:
			if (cli_parse_uint(optarg, 1, 64, &jobs)) {
				rc = cli_usage("apply", "--jobs takes a number from 1 to 64, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_KEYFILE: key.key_file = optarg; break;
		case OPT_PASSENV: key.passphrase_env = optarg; break;
		case OPT_THREADS:
			if (cli_parse_uint(optarg, 1, 64, &threads)) {
				rc = cli_usage("apply", "--threads takes a number from 1 to 64, not '%s'", optarg);
				goto out;
			}
			key.threads = (unsigned)threads;
			break;

		case OPT_LOG: log_path = optarg; break;
		case OPT_LOGLEVEL:
			if ((log_level = cli_run_parse_level(optarg)) < 0) {
				rc = cli_usage("apply", "--log-level is error, warn, info or debug, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_PROGLOG: prog_log = optarg; break;
		case OPT_JSON: plan.json = 1; break;
		case 'v': verbose++; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage_text, stdout); rc = WS_OK; goto out;
		default: rc = cli_bad_option("apply", options, "+vqh", argc, argv); goto out;
		}
	}
	if (optind < argc) {
		rc = cli_unexpected("apply", argv[optind]);
		goto out;
	}
	if (inventory && (o.target || o.device)) {
		rc = cli_usage("apply", "--inventory names the targets and devices: no --target or --device");
		goto out;
	}
	if (!store_dir || (!o.target && !inventory)) {
		rc = cli_usage("apply", "--store and --target (or --inventory) are required");
		goto out;
	}
	if (mode && (o.mode = apply_mode_parse(mode)) < 0) {
		rc = cli_usage("apply", "--mode takes auto, offline, first-sign-in or extract, not '%s'",
			       mode);
		goto out;
	}
	if (o.mode == APPLY_MODE_EXTRACT &&
	    (nuinc || nuexc || o.users_since_days || o.users_since_time)) {
		rc = cli_usage("apply", "--mode extract writes every user's files: no "
			       "--users-include, --users-exclude or --users-since");
		goto out;
	}
	if ((rc = cli_run_open(&run, log_path, log_level, prog_log)))
		goto out;
	cli_run_output(&run, verbose, quiet, plan.json, 1);
	cli_run_catch_signals();
	plan.run = &run;
	plan.quiet = quiet;
	plan.verbose = verbose;
	plan.dry_run = o.dry_run;
	o.map_user = maps;
	o.n_map_user = nmaps;
	o.map_domain = doms;
	o.n_map_domain = ndoms;
	o.users_include = uinc;
	o.n_users_include = nuinc;
	o.users_exclude = uexc;
	o.n_users_exclude = nuexc;
	o.rule_files = rules;
	o.n_rule_files = nrules;
	/* The shipped rules also beside a relocated binary (boot media). */
	exe_dir = cli_exe_dir();
	o.rules_dir = rules_dir = rule_default_dir(exe_dir);
	free(exe_dir);
	o.on_action = on_action;
	o.on_action_ctx = &plan;
	apply_notes_init(&notes, log);
	o.log = &notes.log;
	o.progress = cli_run_progress(&run);
	o.cancel = cli_run_cancel_flag();
	if ((rc = cli_store_open("apply", store_dir, &key, 0, 0, log, &st)))
		goto out;
	ws_error_clear(&err);
	if (inventory) {
		rc = apply_wave_run(st, store_dir, &key, inventory, (unsigned)jobs, &o,
				    plan.json, quiet, &run);
		goto out;
	}
	/* a disk, image or partition: mounted with ntfs-3g while apply runs */
	target_arg = o.target;
	if (o.mode != APPLY_MODE_EXTRACT) {
		if ((rc = cli_target_open(&tg, o.target, o.dry_run, log, &err))) {
			cli_run_fail(&run, &err, NULL);
			goto out;
		}
		o.target = tg.root;
	}
	if (!o.device) {
		/* a refreshed PC keeps its name: the target's is the device's */
		if ((rc = apply_target_device(o.target, device_buf, sizeof(device_buf), &err))) {
			cli_run_fail(&run, &err, NULL);
			goto out;
		}
		o.device = device_buf;
	}
	{
		char what[2048];

		snprintf(what, sizeof(what), "%s of %s's %s%s to %s", o.dry_run ? "dry run" : "apply",
			 o.device, o.scan_id ? "scan " : "newest scan", o.scan_id ? o.scan_id : "",
			 o.target);
		cli_run_device_start(&run, o.device, what);
	}
	started = (int64_t)time(NULL);
	rc = apply_scan(st, &o, &r, &err);
	cli_run_clear(&run);
	o.target = target_arg;
	if (tg.m) {
		char shown[sizeof(r.journal)];

		cli_target_show(&tg, r.journal, shown, sizeof(shown));
		snprintf(r.journal, sizeof(r.journal), "%s", shown);
		cli_target_error(&tg, &err);
	}
	record_apply(st, &o, &r, rc, &err, started, &notes, log);
	if (rc != WS_OK && rc != WS_PARTIAL) {
		char buf[2 * WS_ERROR_TEXT_MAX + 64];

		cli_error_format(&err, o.device, buf, sizeof(buf));
		cli_run_fail(&run, &err, o.device);
		if (*r.journal)
			cli_run_note(&run, WS_LOG_ERROR, "", "%sthe changes made so far are journaled "
				     "in %s: 'winstate undo --target %s' reverts them, applying again "
				     "completes them", rc == WS_E_CANCELED ? "interrupted: " : "",
				     r.journal, o.target);
		cli_run_device_end(&run, o.device, rc, NULL, buf, 0);
		apply_report_release(&r);
		goto out;
	}
	apply_totals(&r, o.dry_run, summary, sizeof(summary));
	cli_run_device_end(&run, o.device, rc, summary, NULL, 0);
	if (!quiet || plan.json)
		print_report(&r, plan.json, o.dry_run, rc, &plan, apply_mode_name(o.mode));
	apply_report_release(&r);
out:
	if (tg.m || tg.handlers) {
		struct ws_error uerr;
		int urc;

		ws_error_clear(&uerr);
		if ((urc = cli_target_close(&tg, &uerr))) {
			cli_run_fail(&run, &uerr, NULL);
			if (rc == WS_OK || rc == WS_PARTIAL)
				rc = urc;
		}
	}
	apply_notes_release(&notes);
	store_close(st);
	free(maps);
	free(doms);
	free(uinc);
	free(uexc);
	free(rules);
	free(rules_dir);
	cli_json_release(&plan.actions);
	return cli_run_finish(&run, rc, summary);
}
