/*
 * cmd_report.c - `winstate report`: the wave as the store tells it (devices,
 * last attempt and last capture, applies, first-sign-in outcomes, Windows
 * 10 -> 11 verdicts) as text, JSON, CSV or one self-contained HTML file.
 * The model is built by src/report/; this file only prints it.  Every
 * string from the store is escaped for the format it goes into.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_common.h"
#include "cli/cli_text.h"
#include "cli/cli_json.h"
#include "report/report.h"
#include "util/ws_buf.h"

static const char usage_text[] =
	"usage: winstate report --store DIR [--target DIR ...] [--json] [--csv FILE]\n"
	"                       [--html FILE]\n"
	"\n"
	"Report a wave from its store: per device the last attempt (with the reason\n"
	"of a failure) and the last good capture (users, sizes, new bytes, dedup\n"
	"savings, warnings and errors), every apply (target computer, mode per user,\n"
	"counts, exit status), first-sign-in outcomes, and the Windows 10 -> 11\n"
	"verdicts summed over the applies.\n"
	"\n"
	"  --store DIR             migration store\n"
	"  --target DIR            first collect the first-sign-in results of this\n"
	"                          target (ProgramData\\winstate\\results) into the\n"
	"                          store (repeatable; the target is only read)\n"
	"  --json                  print the report as JSON on stdout\n"
	"  --csv FILE              write one CSV row per device, apply and sign-in\n"
	"  --html FILE             write one self-contained HTML page (no external\n"
	"                          script, font or style; charts as inline SVG)\n"
	"  --key-file F | --passphrase-env VAR   key of an encrypted store\n"
	"  -q, --quiet             no text report (only what --json/--csv/--html ask)\n"
	"  -v, --verbose           more messages\n"
	"\n"
	"Exit: 0 the report was made (failed devices and applies are in it, not in\n"
	"the exit code); 11 bad usage; 27/37 store or key; 26 --target is not Windows.\n";

enum { OPT_STORE = 256, OPT_TARGET, OPT_JSON, OPT_CSV, OPT_HTML, OPT_KEYFILE, OPT_PASSENV };

static const struct option options[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "csv", required_argument, NULL, OPT_CSV },
	{ "html", required_argument, NULL, OPT_HTML },
	{ "key-file", required_argument, NULL, OPT_KEYFILE },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void utc(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm)) {
		snprintf(out, n, "%s", "");
		return;
	}
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static uint64_t cnt(const struct store_event *e, const char *name)
{
	return store_count_get(e->counts, e->n_counts, name);
}

static const char *level_word(int level)
{
	return level == WS_LOG_ERROR ? "error" : "warning";
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_time(struct cli_json *j, const char *key, int64_t t)
{
	char b[32], k[64];

	cli_json_i64(j, key, t);
	utc(t, b, sizeof(b));
	snprintf(k, sizeof(k), "%s_utc", key);
	cli_json_opt(j, k, b);
}

static void json_notes(struct cli_json *j, const struct store_event *e)
{
	cli_json_arr(j, "notes");
	for (size_t i = 0; e && i < e->n_notes; i++) {
		cli_json_obj(j, NULL);
		cli_json_str(j, "level", level_word(e->notes[i].level));
		cli_json_opt(j, "where", e->notes[i].where);
		cli_json_opt(j, "text", e->notes[i].text);
		cli_json_end(j);
	}
	cli_json_end(j);
}

static void json_device(struct cli_json *j, const struct report_device *d)
{
	const struct store_event *a = d->last_attempt;

	cli_json_obj(j, NULL);
	cli_json_opt(j, "device", d->device);
	cli_json_opt(j, "computer", d->computer);
	cli_json_opt(j, "os_product", d->os_product);
	cli_json_opt(j, "os_build", d->os_build);
	cli_json_str(j, "result", report_result_word(d->attempt_status));
	cli_json_i64(j, "status", d->attempt_status);
	cli_json_u64(j, "scans", d->scans);
	cli_json_u64(j, "attempts", d->attempts);
	cli_json_u64(j, "failures", d->failures);
	if (a) {
		cli_json_obj(j, "last_attempt");
		cli_json_opt(j, "id", a->id);
		json_time(j, "started", a->started);
		cli_json_i64(j, "status", a->status);
		cli_json_str(j, "result", report_result_word(a->status));
		cli_json_opt(j, "source", a->location);
		cli_json_opt(j, "scan", a->scan_id);
		cli_json_opt(j, "message", a->message);
		cli_json_u64(j, "warnings", cnt(a, "warnings"));
		cli_json_u64(j, "errors", cnt(a, "errors"));
		json_notes(j, a);
		cli_json_end(j);
	} else {
		cli_json_null(j, "last_attempt");
	}
	if (d->scan_id[0]) {
		cli_json_obj(j, "last_capture");
		cli_json_str(j, "scan", d->scan_id);
		json_time(j, "started", d->scan_started);
		json_time(j, "finished", d->scan_finished);
		cli_json_u64(j, "users", d->users);
		cli_json_u64(j, "values", d->values);
		cli_json_u64(j, "files", d->files);
		cli_json_u64(j, "bytes", d->bytes);
		if (d->has_bytes_new) {
			cli_json_u64(j, "bytes_new", d->bytes_new);
			cli_json_u64(j, "dedup_saved",
				     d->bytes > d->bytes_new ? d->bytes - d->bytes_new : 0);
		} else {
			cli_json_null(j, "bytes_new");
			cli_json_null(j, "dedup_saved");
		}
		cli_json_end(j);
	} else {
		cli_json_null(j, "last_capture");
	}
	cli_json_arr(j, "users");
	for (size_t k = 0; k < d->n_accounts; k++)
		cli_json_str(j, NULL, d->accounts[k]);
	cli_json_end(j);
	cli_json_end(j);
}

static void json_apply(struct cli_json *j, const struct store_event *a)
{
	static const char *const top[] = {
		"users_applied", "users_staged", "users_missing", "bundles", "values_set",
		"values_staged", "files_placed", "files_renamed", "files_staged", "bytes",
		"values_dropped", "warnings", "errors", "source_build", "target_build"
	};
	static const char *const per_user[] = {
		"values_set", "values_staged", "files_placed", "files_staged", "bytes"
	};

	cli_json_obj(j, NULL);
	cli_json_opt(j, "id", a->id);
	json_time(j, "started", a->started);
	json_time(j, "finished", a->finished);
	cli_json_opt(j, "device", a->device);
	cli_json_opt(j, "scan", a->scan_id);
	cli_json_opt(j, "target_computer", a->computer);
	cli_json_opt(j, "target", a->location);
	cli_json_i64(j, "status", a->status);
	cli_json_str(j, "result", report_result_word(a->status));
	cli_json_opt(j, "message", a->message);
	for (size_t k = 0; k < sizeof(top) / sizeof(top[0]); k++)
		cli_json_u64(j, top[k], cnt(a, top[k]));
	cli_json_bool(j, "win10_to_11", cnt(a, "win10_to_11") != 0);
	cli_json_arr(j, "users");
	for (size_t i = 0; i < a->n_users; i++) {
		const struct store_event_user *u = &a->users[i];

		cli_json_obj(j, NULL);
		cli_json_opt(j, "account", u->account);
		cli_json_opt(j, "sid", u->sid);
		cli_json_opt(j, "new_account", u->new_account);
		cli_json_opt(j, "mode", u->mode);
		cli_json_opt(j, "target", u->target);
		cli_json_opt(j, "reason", u->reason);
		for (size_t k = 0; k < sizeof(per_user) / sizeof(per_user[0]); k++)
			cli_json_u64(j, per_user[k],
				     store_count_get(u->counts, u->n_counts, per_user[k]));
		cli_json_end(j);
	}
	cli_json_end(j);
	json_notes(j, a);
	cli_json_end(j);
}

static void json_signin(struct cli_json *j, const struct report *r,
			const struct store_event *e)
{
	const struct store_event_signin *s = e->signin;
	const struct store_event *a = report_signin_apply(r, e);

	cli_json_obj(j, NULL);
	cli_json_opt(j, "target_computer", e->computer);
	cli_json_opt(j, "target", e->location);
	cli_json_opt(j, "device", a ? a->device : NULL);
	cli_json_opt(j, "key", s->key);
	cli_json_opt(j, "account", s->account);
	cli_json_opt(j, "bundle_id", s->bundle_id);
	cli_json_str(j, "outcome", s->outcome);
	cli_json_u64(j, "attempt", s->attempt);
	cli_json_opt(j, "when", s->when);
	cli_json_opt(j, "last_line", s->last_line);
	cli_json_u64(j, "lines", s->lines);
	cli_json_u64(j, "size", s->size);
	json_time(j, "collected", e->started);
	cli_json_end(j);
}

static void json_report(struct cli_json *j, const struct report *r, const char *store)
{
	const struct report_totals *t = &r->t;
	char now[32];

	utc((int64_t)time(NULL), now, sizeof(now));
	cli_json_obj(j, NULL);
	cli_json_str(j, "store", store);
	cli_json_str(j, "generated_utc", now);
	cli_json_obj(j, "totals");
	cli_json_u64(j, "devices", t->devices);
	cli_json_u64(j, "devices_captured", t->devices_captured);
	cli_json_u64(j, "devices_failed", t->devices_failed);
	cli_json_u64(j, "scans", t->scans);
	cli_json_u64(j, "users", t->users);
	cli_json_u64(j, "bytes", t->bytes);
	cli_json_u64(j, "bytes_new", t->bytes_new);
	cli_json_u64(j, "dedup_saved", t->dedup_saved);
	cli_json_u64(j, "packs", t->packs);
	cli_json_u64(j, "store_bytes", t->store_bytes);
	cli_json_u64(j, "applies", t->applies);
	cli_json_u64(j, "applies_failed", t->applies_failed);
	cli_json_u64(j, "applies_partial", t->applies_partial);
	cli_json_u64(j, "users_offline", t->users_offline);
	cli_json_u64(j, "users_staged", t->users_staged);
	cli_json_u64(j, "users_skipped", t->users_skipped);
	cli_json_u64(j, "signins", t->signins);
	cli_json_u64(j, "signins_restored", t->signins_restored);
	cli_json_u64(j, "signins_failed", t->signins_failed);
	cli_json_u64(j, "signins_pending", t->signins_pending);
	cli_json_u64(j, "carried", t->carried);
	cli_json_u64(j, "translated", t->translated);
	cli_json_u64(j, "dropped", t->dropped);
	cli_json_u64(j, "catalogs_damaged", r->catalogs_damaged);
	cli_json_u64(j, "events_damaged", r->events.damaged);
	cli_json_end(j);
	cli_json_arr(j, "devices");
	for (size_t i = 0; i < r->n_devices; i++)
		json_device(j, &r->devices[i]);
	cli_json_end(j);
	cli_json_arr(j, "applies");
	for (size_t i = 0; i < r->n_applies; i++)
		json_apply(j, r->applies[i]);
	cli_json_end(j);
	cli_json_arr(j, "signins");
	for (size_t i = 0; i < r->n_signins; i++)
		json_signin(j, r, r->signins[i]);
	cli_json_end(j);
	cli_json_arr(j, "win10_to_11");
	for (size_t i = 0; i < r->n_verdicts; i++) {
		const struct report_verdict *v = &r->verdicts[i];

		cli_json_obj(j, NULL);
		cli_json_opt(j, "component", v->component);
		cli_json_opt(j, "verdict", v->verdict);
		cli_json_u64(j, "applies", v->applies);
		cli_json_u64(j, "values", v->values);
		cli_json_u64(j, "files", v->files);
		cli_json_end(j);
	}
	cli_json_end(j);
	cli_json_arr(j, "problems");
	for (size_t i = 0; i < r->n_problems; i++)
		cli_json_str(j, NULL, r->problems[i]);
	cli_json_end(j);
	cli_json_end(j);
}

/* ---- CSV ----------------------------------------------------------------- */

/* RFC 4180 quoting; a text cell a spreadsheet would read as a formula
 * (= + - @ first) gets a leading apostrophe. */
static void csv_cell(FILE *f, const char *s, int last)
{
	if (!s)
		s = "";
	fputc('"', f);
	if (strchr("=+-@", *s) && *s)
		fputc('\'', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputs(last ? "\"\r\n" : "\",", f);
}

static void csv_num(FILE *f, uint64_t v)
{
	fprintf(f, "%llu,", (unsigned long long)v);
}

static void csv_report(FILE *f, const struct report *r)
{
	fputs("kind,device,computer,time_utc,result,status,scan,users,files,bytes,"
	      "bytes_new,warnings,errors,target,account,mode,outcome,message\r\n", f);
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct report_device *d = &r->devices[i];
		char tb[32], nb[32];

		utc(d->attempt_time, tb, sizeof(tb));
		csv_cell(f, "device", 0);
		csv_cell(f, d->device, 0);
		csv_cell(f, d->computer, 0);
		csv_cell(f, tb, 0);
		csv_cell(f, report_result_word(d->attempt_status), 0);
		fprintf(f, "%d,", d->attempt_status);
		csv_cell(f, d->scan_id, 0);
		csv_num(f, d->users);
		csv_num(f, d->files);
		csv_num(f, d->bytes);
		snprintf(nb, sizeof(nb), "%llu", (unsigned long long)d->bytes_new);
		fprintf(f, "%s,", d->has_bytes_new ? nb : "");
		csv_num(f, d->warnings);
		csv_num(f, d->errors);
		csv_cell(f, d->last_attempt ? d->last_attempt->location : "", 0);
		csv_cell(f, "", 0);
		csv_cell(f, "", 0);
		csv_cell(f, "", 0);
		csv_cell(f, d->last_attempt ? d->last_attempt->message : "", 1);
	}
	for (size_t i = 0; i < r->n_applies; i++) {
		const struct store_event *a = r->applies[i];

		for (size_t k = 0; k < a->n_users; k++) {
			const struct store_event_user *u = &a->users[k];
			char tb[32];

			utc(a->started, tb, sizeof(tb));
			csv_cell(f, "apply", 0);
			csv_cell(f, a->device, 0);
			csv_cell(f, a->computer, 0);
			csv_cell(f, tb, 0);
			csv_cell(f, report_result_word(a->status), 0);
			fprintf(f, "%d,", a->status);
			csv_cell(f, a->scan_id, 0);
			csv_num(f, 1);
			csv_num(f, store_count_get(u->counts, u->n_counts, "files_placed") +
					store_count_get(u->counts, u->n_counts, "files_staged"));
			csv_num(f, store_count_get(u->counts, u->n_counts, "bytes"));
			fputs(",", f);
			csv_num(f, cnt(a, "warnings"));
			csv_num(f, cnt(a, "errors"));
			csv_cell(f, a->location, 0);
			csv_cell(f, u->account, 0);
			csv_cell(f, u->mode, 0);
			csv_cell(f, "", 0);
			csv_cell(f, a->message, 1);
		}
	}
	for (size_t i = 0; i < r->n_signins; i++) {
		const struct store_event *e = r->signins[i];
		const struct store_event *a = report_signin_apply(r, e);

		csv_cell(f, "signin", 0);
		csv_cell(f, a ? a->device : "", 0);
		csv_cell(f, e->computer, 0);
		csv_cell(f, e->signin->when, 0);
		csv_cell(f, report_result_word(e->status), 0);
		fprintf(f, "%d,", e->status);
		csv_cell(f, a ? a->scan_id : "", 0);
		fputs(",,,,,,", f);
		csv_cell(f, e->location, 0);
		csv_cell(f, e->signin->account, 0);
		csv_cell(f, "first-sign-in", 0);
		csv_cell(f, e->signin->outcome, 0);
		csv_cell(f, e->signin->last_line, 1);
	}
}

/* ---- HTML ---------------------------------------------------------------- */

static void h(FILE *f, const char *s)
{
	struct ws_buf b = WS_BUF_INIT;

	ws_buf_add_xml(&b, s ? s : "");
	fputs(b.buf ? b.buf : "", f);
	ws_buf_release(&b);
}

/* A number the test compares with --json: data-json names its path. */
static void hnum(FILE *f, const char *path, uint64_t v)
{
	fprintf(f, "<span class=\"n\" data-json=\"%s\">%llu</span>", path,
		(unsigned long long)v);
}

static void hmb(FILE *f, uint64_t v)
{
	fprintf(f, " <small>(%.1f MB)</small>", (double)v / 1048576.0);
}

static const char css[] =
	"body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;padding:1rem;"
	"color:#1b1f24;background:#fff;line-height:1.4}"
	"h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin-top:1.6rem;"
	"border-bottom:1px solid #ddd}"
	".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.6rem}"
	".card{border:1px solid #ddd;border-radius:.4rem;padding:.5rem .7rem}"
	".card b{display:block;font-size:1.3rem}"
	".wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}"
	"table{border-collapse:collapse;width:100%;font-size:.9rem}"
	"th,td{border-bottom:1px solid #eee;padding:.3rem .4rem;text-align:left;vertical-align:top}"
	"th{background:#f6f8fa}td.r{text-align:right}"
	".ok{color:#116329}.partial{color:#9a6700}.failed{color:#cf222e;font-weight:600}"
	"svg{max-width:100%;height:auto}small{color:#57606a}"
	"ul.notes{margin:.2rem 0;padding-left:1.1rem;font-size:.85rem}"
	"@media (max-width:600px){body{padding:.5rem}th,td{padding:.25rem}"
	"table{font-size:.8rem}}";

/* A horizontal bar chart: one bar per row, `v` against the largest. */
static void svg_bars(FILE *f, const char *title, const char *const *labels,
		     const uint64_t *v, const uint64_t *v2, size_t n, const char *unit)
{
	uint64_t max = 1;
	unsigned rowh = 22, w = 600, lw = 170;

	for (size_t i = 0; i < n; i++) {
		if (v[i] > max)
			max = v[i];
		if (v2 && v2[i] > max)
			max = v2[i];
	}
	fprintf(f, "<svg viewBox=\"0 0 %u %zu\" role=\"img\" aria-label=\"", w, n * rowh + 8);
	h(f, title);
	fputs("\" xmlns=\"http://www.w3.org/2000/svg\">", f);
	for (size_t i = 0; i < n; i++) {
		unsigned y = (unsigned)i * rowh + 4;
		double bw = (double)(w - lw - 90) * (double)v[i] / (double)max;

		fprintf(f, "<text x=\"0\" y=\"%u\" font-size=\"12\">", y + 14);
		h(f, labels[i]);
		fprintf(f, "</text><rect x=\"%u\" y=\"%u\" width=\"%.1f\" height=\"%u\" "
			   "fill=\"#0969da\"/>", lw, y + 2, bw, rowh - 8);
		if (v2) {
			double bw2 = (double)(w - lw - 90) * (double)v2[i] / (double)max;

			fprintf(f, "<rect x=\"%u\" y=\"%u\" width=\"%.1f\" height=\"%u\" "
				   "fill=\"#54aeff\"/>", lw, y + 2, bw2, rowh - 8);
		}
		fprintf(f, "<text x=\"%.1f\" y=\"%u\" font-size=\"11\">%.1f %s</text>",
			lw + bw + 4, y + 14,
			unit[0] == 'M' ? (double)v[i] / 1048576.0 : (double)v[i], unit);
	}
	fputs("</svg>\n", f);
}

static void html_report(FILE *f, const struct report *r, const char *store)
{
	const struct report_totals *t = &r->t;
	char now[32], path[96];

	utc((int64_t)time(NULL), now, sizeof(now));
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	      "<title>winstate wave report</title><style>", f);
	fputs(css, f);
	fputs("</style></head><body>\n<h1>winstate wave report</h1>\n<p><small>store ", f);
	h(f, store);
	fprintf(f, ", made %s</small></p>\n<div class=\"cards\">", now);
#define CARD(label, key, val)                                                   \
	do {                                                                    \
		fputs("<div class=\"card\"><b>", f);                            \
		hnum(f, "totals." key, (val));                                  \
		fputs("</b>" label "</div>", f);                                \
	} while (0)
	CARD("devices", "devices", t->devices);
	CARD("captured", "devices_captured", t->devices_captured);
	CARD("failed (last attempt)", "devices_failed", t->devices_failed);
	CARD("users", "users", t->users);
	CARD("applies", "applies", t->applies);
	CARD("applies failed", "applies_failed", t->applies_failed);
	CARD("first sign-ins restored", "signins_restored", t->signins_restored);
	CARD("first sign-ins not restored", "signins_failed", t->signins_failed);
	CARD("first sign-ins pending", "signins_pending", t->signins_pending);
#undef CARD
	fputs("</div>\n<p>Captured ", f);
	hnum(f, "totals.bytes", t->bytes);
	hmb(f, t->bytes);
	fputs(" bytes; new to the store ", f);
	hnum(f, "totals.bytes_new", t->bytes_new);
	hmb(f, t->bytes_new);
	fputs("; saved by deduplication ", f);
	hnum(f, "totals.dedup_saved", t->dedup_saved);
	hmb(f, t->dedup_saved);
	fputs("; packs on disk ", f);
	hnum(f, "totals.store_bytes", t->store_bytes);
	hmb(f, t->store_bytes);
	fputs(".</p>\n", f);

	/* devices */
	fputs("<h2>Devices</h2>\n", f);
	if (r->n_devices) {
		const char **labels = ws_xcalloc(r->n_devices, sizeof(*labels));
		uint64_t *b = ws_xcalloc(r->n_devices, sizeof(*b));
		uint64_t *bn = ws_xcalloc(r->n_devices, sizeof(*bn));

		for (size_t i = 0; i < r->n_devices; i++) {
			labels[i] = r->devices[i].device;
			b[i] = r->devices[i].bytes;
			bn[i] = r->devices[i].bytes_new;
		}
		svg_bars(f, "captured bytes per device (light: new to the store)", labels, b,
			 bn, r->n_devices, "MB");
		free(labels);
		free(b);
		free(bn);
	}
	fputs("<div class=\"wrap\"><table><tr><th>device</th><th>last attempt</th>"
	      "<th>last capture</th><th>users</th><th>files</th><th>bytes</th>"
	      "<th>new bytes</th><th>warnings</th><th>errors</th></tr>\n", f);
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct report_device *d = &r->devices[i];
		const struct store_event *a = d->last_attempt;
		const char *w = report_result_word(d->attempt_status);
		char tb[32], cb[32];

		utc(d->attempt_time, tb, sizeof(tb));
		utc(d->scan_started, cb, sizeof(cb));
		fputs("<tr><td>", f);
		h(f, d->device);
		fprintf(f, "<br><small>");
		h(f, d->computer);
		fprintf(f, " ");
		h(f, d->os_product);
		fprintf(f, "</small></td><td><span class=\"%s\">%s</span> %s", w, w, tb);
		if (a && *a->message) {
			fputs("<br><small>", f);
			h(f, a->message);
			fputs("</small>", f);
		}
		if (a && a->n_notes) {
			fputs("<ul class=\"notes\">", f);
			for (size_t k = 0; k < a->n_notes; k++) {
				fprintf(f, "<li>%s: ", level_word(a->notes[k].level));
				h(f, a->notes[k].where);
				fputs(" ", f);
				h(f, a->notes[k].text);
				fputs("</li>", f);
			}
			fputs("</ul>", f);
		}
		fputs("</td><td>", f);
		if (d->scan_id[0]) {
			h(f, d->scan_id);
			fprintf(f, "<br><small>%s</small>", cb);
		} else {
			fputs("none", f);
		}
		fputs("</td><td class=\"r\">", f);
		snprintf(path, sizeof(path), "devices.%zu.last_capture.users", i);
		if (d->scan_id[0])
			hnum(f, path, d->users);
		fputs("<br><small>", f);
		for (size_t k = 0; k < d->n_accounts; k++) {
			if (k)
				fputs(", ", f);
			h(f, d->accounts[k]);
		}
		fputs("</small></td><td class=\"r\">", f);
		snprintf(path, sizeof(path), "devices.%zu.last_capture.files", i);
		if (d->scan_id[0])
			hnum(f, path, d->files);
		fputs("</td><td class=\"r\">", f);
		snprintf(path, sizeof(path), "devices.%zu.last_capture.bytes", i);
		if (d->scan_id[0])
			hnum(f, path, d->bytes);
		fputs("</td><td class=\"r\">", f);
		snprintf(path, sizeof(path), "devices.%zu.last_capture.bytes_new", i);
		if (d->scan_id[0] && d->has_bytes_new)
			hnum(f, path, d->bytes_new);
		fputs("</td><td class=\"r\">", f);
		snprintf(path, sizeof(path), "devices.%zu.last_attempt.warnings", i);
		if (a)
			hnum(f, path, d->warnings);
		fputs("</td><td class=\"r\">", f);
		snprintf(path, sizeof(path), "devices.%zu.last_attempt.errors", i);
		if (a)
			hnum(f, path, d->errors);
		fputs("</td></tr>\n", f);
	}
	fputs("</table></div>\n", f);

	/* applies */
	fputs("<h2>Applies</h2>\n<div class=\"wrap\"><table><tr><th>target</th><th>scan</th>"
	      "<th>result</th><th>users (mode)</th><th>values set</th><th>files placed</th>"
	      "<th>files staged</th></tr>\n", f);
	for (size_t i = 0; i < r->n_applies; i++) {
		const struct store_event *a = r->applies[i];
		const char *w = report_result_word(a->status);
		char tb[32];

		utc(a->started, tb, sizeof(tb));
		fputs("<tr><td>", f);
		h(f, a->computer);
		fputs("<br><small>", f);
		h(f, a->location);
		fprintf(f, " %s</small></td><td>", tb);
		h(f, a->device);
		fputs("<br><small>", f);
		h(f, a->scan_id);
		fprintf(f, "</small></td><td><span class=\"%s\">%s</span>", w, w);
		if (*a->message) {
			fputs("<br><small>", f);
			h(f, a->message);
			fputs("</small>", f);
		}
		fputs("</td><td>", f);
		for (size_t k = 0; k < a->n_users; k++) {
			h(f, a->users[k].account);
			fputs(" (", f);
			h(f, a->users[k].mode);
			fputs(")<br>", f);
		}
		fputs("</td><td class=\"r\">", f);
		snprintf(path, sizeof(path), "applies.%zu.values_set", i);
		hnum(f, path, cnt(a, "values_set"));
		fputs("</td><td class=\"r\">", f);
		snprintf(path, sizeof(path), "applies.%zu.files_placed", i);
		hnum(f, path, cnt(a, "files_placed"));
		fputs("</td><td class=\"r\">", f);
		snprintf(path, sizeof(path), "applies.%zu.files_staged", i);
		hnum(f, path, cnt(a, "files_staged"));
		fputs("</td></tr>\n", f);
	}
	fputs("</table></div>\n", f);

	/* first sign-in */
	fputs("<h2>First sign-in</h2>\n<div class=\"wrap\"><table><tr><th>target</th>"
	      "<th>user</th><th>outcome</th><th>attempt</th><th>last line</th></tr>\n", f);
	for (size_t i = 0; i < r->n_signins; i++) {
		const struct store_event *e = r->signins[i];
		const char *o = e->signin->outcome;

		fputs("<tr><td>", f);
		h(f, e->computer);
		fputs("</td><td>", f);
		h(f, *e->signin->account ? e->signin->account : e->signin->key);
		fprintf(f, "</td><td><span class=\"%s\">", !strcmp(o, "restored") ? "ok" : "failed");
		h(f, o);
		fputs("</span></td><td class=\"r\">", f);
		snprintf(path, sizeof(path), "signins.%zu.attempt", i);
		hnum(f, path, e->signin->attempt);
		fputs("</td><td><small>", f);
		h(f, e->signin->last_line);
		fputs("</small></td></tr>\n", f);
	}
	fputs("</table></div>\n", f);

	/* verdicts */
	fputs("<h2>Windows 10 &#8594; 11</h2>\n<p>Settings groups met by the applies: ", f);
	hnum(f, "totals.carried", t->carried);
	fputs(" carried, ", f);
	hnum(f, "totals.translated", t->translated);
	fputs(" translated, ", f);
	hnum(f, "totals.dropped", t->dropped);
	fputs(" dropped.</p>\n", f);
	{
		const char *labels[3] = { "carried", "translated", "dropped" };
		uint64_t v[3] = { t->carried, t->translated, t->dropped };

		svg_bars(f, "Windows 10 to 11 verdicts", labels, v, NULL, 3, "groups");
	}
	fputs("<div class=\"wrap\"><table><tr><th>settings group</th><th>verdict</th>"
	      "<th>applies</th><th>values</th><th>files</th></tr>\n", f);
	for (size_t i = 0; i < r->n_verdicts; i++) {
		const struct report_verdict *v = &r->verdicts[i];

		fputs("<tr><td>", f);
		h(f, v->component);
		fputs("</td><td>", f);
		h(f, v->verdict);
		fputs("</td><td class=\"r\">", f);
		snprintf(path, sizeof(path), "win10_to_11.%zu.applies", i);
		hnum(f, path, v->applies);
		fputs("</td><td class=\"r\">", f);
		snprintf(path, sizeof(path), "win10_to_11.%zu.values", i);
		hnum(f, path, v->values);
		fputs("</td><td class=\"r\">", f);
		snprintf(path, sizeof(path), "win10_to_11.%zu.files", i);
		hnum(f, path, v->files);
		fputs("</td></tr>\n", f);
	}
	fputs("</table></div>\n", f);
	if (r->n_problems) {
		fputs("<h2>Problems</h2>\n<ul>", f);
		for (size_t i = 0; i < r->n_problems; i++) {
			fputs("<li>", f);
			h(f, r->problems[i]);
			fputs("</li>", f);
		}
		fputs("</ul>\n", f);
	}
	fputs("</body></html>\n", f);
}

/* ---- text ---------------------------------------------------------------- */

static void text_report(const struct report *r)
{
	const struct report_totals *t = &r->t;

	printf("%zu devices: %zu captured, %zu failed at their last attempt; %zu users, "
	       "%.1f MB captured, %.1f MB new, %.1f MB saved by deduplication, "
	       "%.1f MB of packs\n",
	       t->devices, t->devices_captured, t->devices_failed, t->users,
	       (double)t->bytes / 1048576.0, (double)t->bytes_new / 1048576.0,
	       (double)t->dedup_saved / 1048576.0, (double)t->store_bytes / 1048576.0);
	if (r->n_devices)
		printf("%-20s %-8s %-20s %5s %8s %9s %9s %8s %6s\n", "device", "result",
		       "last attempt", "users", "files", "MB", "new MB", "warnings", "errors");
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct report_device *d = &r->devices[i];
		char tb[32], nb[32];

		utc(d->attempt_time, tb, sizeof(tb));
		snprintf(nb, sizeof(nb), "%.1f", (double)d->bytes_new / 1048576.0);
		printf("%-20s %-8s %-20s %5llu %8llu %9.1f %9s %8llu %6llu\n", d->device,
		       report_result_word(d->attempt_status), tb,
		       (unsigned long long)d->users, (unsigned long long)d->files,
		       (double)d->bytes / 1048576.0, d->has_bytes_new ? nb : "-",
		       (unsigned long long)d->warnings, (unsigned long long)d->errors);
	}
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct report_device *d = &r->devices[i];

		if (d->last_attempt && *d->last_attempt->message)
			printf("  %s: %s\n", d->device, d->last_attempt->message);
	}
	printf("%zu applies (%zu failed, %zu partial); users: %zu offline, %zu staged for "
	       "first sign-in (%zu restored, %zu not restored, %zu not reported yet), "
	       "%zu skipped\n",
	       t->applies, t->applies_failed, t->applies_partial, t->users_offline,
	       t->users_staged, t->signins_restored, t->signins_failed, t->signins_pending,
	       t->users_skipped);
	for (size_t i = 0; i < r->n_applies; i++) {
		const struct store_event *a = r->applies[i];

		printf("  %s <- %s (%s): %s%s%s\n", *a->computer ? a->computer : a->location,
		       a->device, a->scan_id, report_result_word(a->status),
		       *a->message ? ": " : "", a->message);
	}
	for (size_t i = 0; i < r->n_signins; i++) {
		const struct store_event *e = r->signins[i];

		printf("  first sign-in on %s of %s: %s\n", e->computer,
		       *e->signin->account ? e->signin->account : e->signin->key,
		       e->signin->outcome);
	}
	if (r->n_verdicts)
		printf("Windows 10 -> 11: %llu groups carried, %llu translated, %llu dropped\n",
		       (unsigned long long)t->carried, (unsigned long long)t->translated,
		       (unsigned long long)t->dropped);
	for (size_t i = 0; i < r->n_problems; i++)
		printf("problem: %s\n", r->problems[i]);
}

/* Write a file through `fn`; a failed write is reported (72 when full). */
static int write_out(const char *path, const char *what,
		     void (*fn)(FILE *, const struct report *, const char *),
		     const struct report *r, const char *store)
{
	FILE *f = fopen(path, "w");
	struct ws_error e;
	int bad;

	if (!f)
		return cli_usage("report", "cannot write %s %s: %s", what, path, strerror(errno));
	fn(f, r, store);
	bad = ferror(f);
	errno = 0;
	if (fclose(f) != 0 || bad) {
		ws_error_set_errno(&e, WS_E_IO, errno ? errno : EIO, path, "cannot write the %s", what);
		return cli_fail(&e);
	}
	return WS_OK;
}

static void csv_fn(FILE *f, const struct report *r, const char *store)
{
	(void)store;
	csv_report(f, r);
}

int cmd_report(int argc, char **argv)
{
	const char *store_dir = NULL, *csv = NULL, *html = NULL;
	const char **targets = NULL;
	size_t ntargets = 0, atargets = 0;
	struct cli_key_opts key = { 0 };
	struct cli_log_sink sink = { 0 };
	struct ws_log log;
	struct ws_error err;
	struct store *st = NULL;
	struct report r;
	int c, rc = WS_OK, json = 0, built = 0;

	memset(&r, 0, sizeof(r));
	optind = 1;
	while ((c = getopt_long(argc, argv, "+vqh", options, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store_dir = optarg; break;
		case OPT_TARGET:
			WS_ALLOC_GROW(targets, ntargets + 1, atargets);
			targets[ntargets++] = optarg;
			break;
		case OPT_JSON: json = 1; break;
		case OPT_CSV: csv = optarg; break;
		case OPT_HTML: html = optarg; break;
		case OPT_KEYFILE: key.key_file = optarg; break;
		case OPT_PASSENV: key.passphrase_env = optarg; break;
		case 'q': sink.quiet = 1; break;
		case 'v': sink.verbose++; break;
		case 'h': fputs(usage_text, stdout); rc = WS_OK; goto out;
		default: rc = cli_bad_option("report", options, "+vqh", argc, argv); goto out;
		}
	}
	if (optind < argc) {
		rc = cli_usage("report", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!store_dir) {
		rc = cli_usage("report", "--store is required");
		goto out;
	}
	cli_log_init(&log, &sink);
	if ((rc = cli_store_open("report", store_dir, &key, 0, 0, &log, &st)))
		goto out;
	ws_error_clear(&err);
	for (size_t i = 0; i < ntargets; i++) {
		struct report_collect_stats cs;

		if ((rc = report_collect_signins(st, targets[i], &log, &cs, &err))) {
			cli_fail(&err);
			goto out;
		}
		ws_logf(&log, WS_LOG_INFO, targets[i],
			"first-sign-in results: %u found, %u recorded, %u already in the "
			"store, %u refused", cs.found, cs.recorded, cs.unchanged, cs.refused);
		if (!json && !sink.quiet)
			printf("%s: first-sign-in results: %u found, %u recorded, %u already in "
			       "the store, %u refused\n", targets[i], cs.found, cs.recorded,
			       cs.unchanged, cs.refused);
	}
	if ((rc = report_build(st, &r, &err))) {
		cli_fail(&err);
		goto out;
	}
	built = 1;
	if (csv && (rc = write_out(csv, "CSV report", csv_fn, &r, store_dir)))
		goto out;
	if (html && (rc = write_out(html, "HTML report", html_report, &r, store_dir)))
		goto out;
	if (json) {
		struct cli_json j;

		cli_json_init(&j, 0);
		json_report(&j, &r, store_dir);
		cli_json_print(&j, stdout);
		cli_json_release(&j);
	} else if (!sink.quiet) {
		text_report(&r);
	}
out:
	if (built || r.n_devices)
		report_release(&r);
	store_close(st);
	free(targets);
	return rc;
}
