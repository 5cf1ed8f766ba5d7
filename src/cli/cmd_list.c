/*
 * cmd_list.c - `winstate list`: the devices and scans of a store, or the
 * content of one scan (users, registry, files, apps, rules).  --json output
 * is documented in docs/store-format.md ("JSON output of list").
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/apps.h"
#include "cli/cli.h"
#include "cli/cli_text.h"
#include "cli/cli_common.h"
#include "cli/cli_json.h"
#include "reg/reg.h"
#include "report/report.h"
#include "util/ws_buf.h"
#include "util/ws_utf.h"

static const char list_usage[] =
	"usage: winstate list --store DIR [--device NAME] [--scan ID]\n"
	"                     [--users|--registry|--files|--apps [--reinstall]|--rules]\n"
	"                     [--json]\n"
	"                     [--key-file F | --passphrase-env VAR]\n"
	"       winstate list --store DIR --user PATTERN [--json]\n"
	"\n"
	"--user: that user on every device and scan: PATTERN (case-insensitive,\n"
	"wildcards * ? [..]) against DOMAIN\\user, user, SID or profile folder.\n"
	"Without --device: every device and its scans, newest first.  Device names\n"
	"are case-insensitive; an unknown one is exit 11 listing the devices.\n"
	"With --device: the newest scan (or --scan ID); every section unless one is named.\n"
	"--reinstall: only the Store apps apply reinstalls (class user, installed, not\n"
	"deprovisioned); it implies --apps.\n";

enum { OPT_STORE = 256, OPT_DEVICE, OPT_SCAN, OPT_USERS, OPT_REGISTRY, OPT_FILES,
       OPT_APPS, OPT_RULES, OPT_JSON, OPT_KEYFILE, OPT_PASSENV, OPT_HELP, OPT_REINSTALL,
       OPT_USER };

static const struct option list_options[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "scan", required_argument, NULL, OPT_SCAN },
	{ "users", no_argument, NULL, OPT_USERS },
	{ "user", required_argument, NULL, OPT_USER },
	{ "registry", no_argument, NULL, OPT_REGISTRY },
	{ "files", no_argument, NULL, OPT_FILES },
	{ "apps", no_argument, NULL, OPT_APPS },
	{ "reinstall", no_argument, NULL, OPT_REINSTALL },
	{ "rules", no_argument, NULL, OPT_RULES },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "key-file", required_argument, NULL, OPT_KEYFILE },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 }
};

enum { SEC_USERS = 1, SEC_REGISTRY = 2, SEC_FILES = 4, SEC_APPS = 8, SEC_RULES = 16,
       SEC_REINSTALL = 32 };

/* Would apply reinstall this app record? (apps_list_add_record decides
 * like the apply does; malformed records never are.) */
static int app_reinstallable(const struct store_app *a)
{
	struct apps_list l = APPS_LIST_INIT;
	int yes = apps_list_add_record(&l, a->family ? a->family : "", a->full_name,
				       a->app_class, NULL) == 0 &&
		  apps_is_reinstallable(&l.v[0]);

	apps_list_release(&l);
	return yes;
}

static void utc(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A section's start: the JSON array `name`, or as text its heading. */
static void section_begin(struct cli_json *j, int json, const char *name)
{
	if (json)
		cli_json_arr(j, name);
	else
		printf("%s:\n", name);
}

/* A record's user: its index, null for the system context. */
static void user_field(struct cli_json *j, uint32_t u)
{
	if (u == STORE_SYSTEM)
		cli_json_null(j, "user");
	else
		cli_json_u64(j, "user", u);
}

static void scan_json(struct cli_json *j, const char *key,
		      const struct store_scan_entry *e)
{
	const struct store_scan_info *in = &e->info;
	char s1[32], s2[32], drive[2] = { in->system_drive, 0 };

	utc(in->started, s1, sizeof(s1));
	utc(in->finished, s2, sizeof(s2));
	cli_json_obj(j, key);
	cli_json_opt(j, "id", in->scan_id);
	cli_json_opt(j, "device", in->device);
	cli_json_opt(j, "computer", in->computer);
	cli_json_opt(j, "os_product", in->os_product);
	cli_json_opt(j, "os_build", in->os_build);
	cli_json_opt(j, "os_edition", in->os_edition);
	cli_json_opt(j, "os_arch", in->os_arch);
	cli_json_opt(j, "tool_version", in->tool_version);
	cli_json_opt(j, "system_drive", drive);
	cli_json_i64(j, "started", in->started);
	cli_json_i64(j, "finished", in->finished);
	cli_json_str(j, "started_utc", s1);
	cli_json_str(j, "finished_utc", s2);
	cli_json_arr(j, "rule_files");
	for (size_t i = 0; i < in->n_rule_files; i++)
		cli_json_str(j, NULL, in->rule_files[i]);
	cli_json_end(j);
	cli_json_u64(j, "users", e->n_users);
	cli_json_u64(j, "values", e->n_values);
	cli_json_u64(j, "keys", e->n_keys);
	cli_json_u64(j, "files", e->n_files);
	cli_json_u64(j, "apps", e->n_apps);
	cli_json_u64(j, "rules", e->n_rules);
	cli_json_u64(j, "bytes", e->bytes);
	cli_json_end(j);
}

static int list_devices(struct store *st, int json)
{
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct ws_error err;
	struct cli_json j;
	char **devs = NULL;
	size_t nd = 0;
	int rc;

	ws_error_clear(&err);
	cli_json_init(&j, 0);
	rc = store_list_scans(st, NULL, &l, &err);
	if (rc)
		return cli_fail(&err);
	for (size_t i = 0; i < l.n; i++) {
		size_t k;
		/* one device whatever the case its scans were written with; it
		 * is named as its newest scan names it (the list is newest first) */
		for (k = 0; k < nd && ws_name_casecmp(devs[k], l.v[i].info.device); k++)
			;
		if (k == nd) {
			devs = realloc(devs, (nd + 1) * sizeof(*devs));
			devs[nd++] = (char *)l.v[i].info.device;
		}
	}
	if (json) {
		cli_json_obj(&j, NULL);
		cli_json_arr(&j, "devices");
	}
	for (size_t k = 0; k < nd; k++) {
		if (json) {
			cli_json_obj(&j, NULL);
			cli_json_str(&j, "device", devs[k]);
			cli_json_arr(&j, "scans");
		} else {
			printf("%s\n", devs[k]);
		}
		for (size_t i = 0; i < l.n; i++) {
			const struct store_scan_entry *e = &l.v[i];
			char s1[32];
			if (ws_name_casecmp(e->info.device, devs[k]))
				continue;
			if (json) {
				scan_json(&j, NULL, e);
			} else {
				utc(e->info.started, s1, sizeof(s1));
				printf("  %s  %s  %s %s  users %llu  values %llu  files %llu  %llu bytes\n",
				       e->info.scan_id, s1, e->info.os_product, e->info.os_build,
				       (unsigned long long)e->n_users, (unsigned long long)e->n_values,
				       (unsigned long long)e->n_files, (unsigned long long)e->bytes);
			}
		}
		if (json) {
			cli_json_end(&j);
			cli_json_end(&j);
		}
	}
	if (json) {
		cli_json_end(&j);
		cli_json_u64(&j, "damaged_catalogs", l.damaged);
		cli_json_end(&j);
		cli_json_print(&j, stdout);
	} else if (l.damaged) {
		printf("(%zu damaged catalog(s) skipped: run winstate verify)\n", l.damaged);
	}
	cli_json_release(&j);
	free(devs);
	store_scan_list_release(&l);
	return WS_OK;
}

/* Registry data as text. */
static void value_text(struct ws_buf *b, const struct store_value *v)
{
	const unsigned char *d = v->data;
	size_t n = v->len;

	if ((v->type == REG_SZ || v->type == REG_EXPAND_SZ || v->type == REG_LINK)) {
		ws_utf16le_to_utf8(d, n, b, WS_UTF16_STOP_AT_NUL);
		return;
	}
	if (v->type == REG_MULTI_SZ) {
		size_t pos = 0, k = 0;
		while (pos + 1 < n) {
			size_t end = pos;
			while (end + 1 < n && (d[end] || d[end + 1]))
				end += 2;
			if (end == pos)
				break;
			if (k++)
				ws_buf_adds(b, " | ");
			ws_utf16le_to_utf8(d + pos, end - pos, b, 0);
			pos = end + 2;
		}
		return;
	}
	if ((v->type == REG_DWORD || v->type == REG_DWORD_BIG_ENDIAN) && n == 4) {
		uint32_t x = v->type == REG_DWORD ? ws_get_u32le(d) :
			(uint32_t)d[3] | (uint32_t)d[2] << 8 | (uint32_t)d[1] << 16 | (uint32_t)d[0] << 24;
		ws_buf_addf(b, "%u", x);
		return;
	}
	if (v->type == REG_QWORD && n == 8) {
		ws_buf_addf(b, "%llu", (unsigned long long)ws_get_u64le(d));
		return;
	}
	ws_buf_add_hex(b, d, n);
}

/* Registry data as JSON, typed: strings, an array of strings, numbers,
 * else hex digits in a string. */
static void value_json(struct cli_json *j, const char *key, const struct store_value *v)
{
	const unsigned char *d = v->data;
	size_t n = v->len;
	struct ws_buf s = WS_BUF_INIT;

	if (v->type == REG_MULTI_SZ) {
		size_t pos = 0;

		cli_json_arr(j, key);
		while (pos + 1 < n) {
			size_t end = pos;
			while (end + 1 < n && (d[end] || d[end + 1]))
				end += 2;
			if (end == pos)
				break;
			ws_buf_reset(&s);
			ws_utf16le_to_utf8(d + pos, end - pos, &s, 0);
			cli_json_strn(j, NULL, s.buf, s.len);
			pos = end + 2;
		}
		cli_json_end(j);
	} else {
		value_text(&s, v);
		if (((v->type == REG_DWORD || v->type == REG_DWORD_BIG_ENDIAN) && n == 4) ||
		    (v->type == REG_QWORD && n == 8))
			cli_json_raw(j, key, s.buf);
		else
			cli_json_strn(j, key, s.buf, s.len);
	}
	ws_buf_release(&s);
}

static void file_flags(struct cli_json *j, uint32_t f)
{
	static const char *const names[] = { "directory", "not_captured", "reparse", "sparse", "offline" };

	cli_json_arr(j, "flags");
	for (int i = 0; i < 5; i++)
		if (f & (1u << i))
			cli_json_str(j, NULL, names[i]);
	cli_json_end(j);
}

static int list_scan(struct store *st, const char *device, const char *scan_id,
		     unsigned sections, int json)
{
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct store_catalog *cat = NULL;
	struct ws_error err;
	struct cli_json j;
	const struct store_scan_entry *entry = NULL;
	struct store_record rec;
	size_t n;
	int rc;

	ws_error_clear(&err);
	rc = store_catalog_open(st, device, scan_id, &cat, &err);
	if (!rc)
		rc = store_list_scans(st, device, &l, &err);
	if (rc) {
		store_catalog_free(cat);
		return cli_fail(&err);
	}
	cli_json_init(&j, 0);
	for (size_t i = 0; i < l.n; i++)
		if (!strcmp(l.v[i].info.scan_id, store_catalog_info(cat)->scan_id))
			entry = &l.v[i];
	if (json) {
		cli_json_obj(&j, NULL);
		if (entry)
			scan_json(&j, "scan", entry);
		else
			cli_json_null(&j, "scan");
	} else if (entry) {
		char s1[32];
		utc(entry->info.started, s1, sizeof(s1));
		printf("scan %s of %s (%s %s %s), %s\n", entry->info.scan_id, entry->info.device,
		       entry->info.os_product, entry->info.os_build, entry->info.os_arch, s1);
	}
	if (sections & SEC_USERS) {
		const struct store_user *u = store_catalog_users(cat, &n);
		section_begin(&j, json, "users");
		for (size_t i = 0; i < n; i++) {
			if (json) {
				cli_json_obj(&j, NULL);
				cli_json_u64(&j, "index", u[i].index);
				cli_json_opt(&j, "sid", u[i].sid);
				cli_json_opt(&j, "account", u[i].account);
				cli_json_opt(&j, "profile", u[i].profile_path);
				cli_json_u64(&j, "last_use", u[i].last_use_ft);
				cli_json_u64(&j, "flags", u[i].flags);
				cli_json_end(&j);
			} else {
				printf("  [%u] %s  %s  %s\n", u[i].index, u[i].sid,
				       *u[i].account ? u[i].account : "-", u[i].profile_path);
			}
		}
		if (json)
			cli_json_end(&j);
	}
	if (sections & (SEC_REGISTRY | SEC_FILES)) {
		/* one pass over the catalog fills three lists */
		struct cli_json regs, keys, files;

		cli_json_init(&regs, 1);
		cli_json_init(&keys, 1);
		cli_json_init(&files, 1);
		cli_json_arr(&regs, NULL);
		cli_json_arr(&keys, NULL);
		cli_json_arr(&files, NULL);
		for (;;) {
			rc = store_catalog_next(cat, &rec, &err);
			if (rc || rec.kind == STORE_REC_END)
				break;
			if (rec.kind == STORE_REC_VALUE && (sections & SEC_REGISTRY)) {
				const struct store_value *v = &rec.u.value;
				if (json) {
					cli_json_obj(&regs, NULL);
					user_field(&regs, v->user);
					cli_json_str(&regs, "key", v->key);
					cli_json_str(&regs, "name", v->name);
					cli_json_str(&regs, "type", reg_type_name(v->type));
					cli_json_u64(&regs, "type_code", v->type);
					value_json(&regs, "data", v);
					{
						struct ws_buf raw = WS_BUF_INIT;

						ws_buf_add_hex(&raw, v->data, v->len);
						cli_json_strn(&regs, "raw", raw.buf, raw.len);
						ws_buf_release(&raw);
					}
					cli_json_u64(&regs, "rule", v->rule);
					cli_json_end(&regs);
				} else {
					struct ws_buf d = WS_BUF_INIT;
					value_text(&d, v);
					printf("  %s [%s] %s = %s\n", v->key, *v->name ? v->name : "(default)",
					       reg_type_name(v->type), d.buf);
					ws_buf_release(&d);
				}
			} else if (rec.kind == STORE_REC_KEY && (sections & SEC_REGISTRY)) {
				if (json) {
					cli_json_obj(&keys, NULL);
					user_field(&keys, rec.u.key.user);
					cli_json_str(&keys, "key", rec.u.key.path);
					cli_json_u64(&keys, "rule", rec.u.key.rule);
					cli_json_end(&keys);
				} else {
					printf("  %s (key)\n", rec.u.key.path);
				}
			} else if (rec.kind == STORE_REC_FILE && (sections & SEC_FILES)) {
				const struct store_file *f = &rec.u.file;
				if (json) {
					cli_json_obj(&files, NULL);
					user_field(&files, f->user);
					cli_json_str(&files, "path", f->path);
					cli_json_u64(&files, "size", f->size);
					cli_json_u64(&files, "attributes", f->attributes);
					cli_json_u64(&files, "created", f->created_ft);
					cli_json_u64(&files, "written", f->written_ft);
					cli_json_u64(&files, "accessed", f->accessed_ft);
					cli_json_bool(&files, "dir", f->flags & STORE_FILE_DIR);
					file_flags(&files, f->flags);
					cli_json_u64(&files, "rule", f->rule);
					cli_json_u64(&files, "chunks", f->n_chunks);
					cli_json_end(&files);
				} else {
					printf("  %s%s  %llu\n", f->path,
					       (f->flags & STORE_FILE_DIR) ? "\\" : "",
					       (unsigned long long)f->size);
				}
			}
		}
		cli_json_end(&regs);
		cli_json_end(&keys);
		cli_json_end(&files);
		if (json) {
			if (sections & SEC_REGISTRY) {
				cli_json_raw(&j, "registry", cli_json_text(&regs));
				cli_json_raw(&j, "keys", cli_json_text(&keys));
			}
			if (sections & SEC_FILES)
				cli_json_raw(&j, "files", cli_json_text(&files));
		}
		cli_json_release(&regs);
		cli_json_release(&keys);
		cli_json_release(&files);
	}
	if (!rc && (sections & SEC_APPS)) {
		const struct store_app *a = store_catalog_apps(cat, &n);
		section_begin(&j, json, "apps");
		for (size_t i = 0; i < n; i++) {
			if ((sections & SEC_REINSTALL) && !app_reinstallable(&a[i]))
				continue;
			if (json) {
				cli_json_obj(&j, NULL);
				user_field(&j, a[i].user);
				cli_json_str(&j, "family", a[i].family);
				cli_json_opt(&j, "full_name", a[i].full_name);
				cli_json_opt(&j, "version", a[i].version);
				cli_json_opt(&j, "arch", a[i].arch);
				cli_json_opt(&j, "publisher", a[i].publisher);
				cli_json_opt(&j, "class", a[i].app_class);
				cli_json_end(&j);
			} else {
				const struct store_user *u = a[i].user == STORE_SYSTEM ? NULL :
					store_catalog_user(cat, a[i].user);

				printf("  %-12s %-48s %-64s %-14s %-7s %s\n",
				       u ? (*u->account ? u->account : u->sid) : "-", a[i].family,
				       *a[i].full_name ? a[i].full_name : "-", a[i].version,
				       a[i].arch, a[i].app_class);
			}
		}
		if (json)
			cli_json_end(&j);
	}
	if (!rc && (sections & SEC_RULES)) {
		const struct store_rule *r = store_catalog_rules(cat, &n);
		section_begin(&j, json, "rules");
		for (size_t i = 0; i < n; i++) {
			if (json) {
				cli_json_obj(&j, NULL);
				cli_json_u64(&j, "index", r[i].index);
				cli_json_str(&j, "text", r[i].text);
				cli_json_end(&j);
			} else {
				printf("  [%u] %s\n", r[i].index, r[i].text);
			}
		}
		if (json)
			cli_json_end(&j);
	}
	if (json && !rc) {
		cli_json_end(&j);
		cli_json_print(&j, stdout);
	}
	cli_json_release(&j);
	store_catalog_free(cat);
	store_scan_list_release(&l);
	return rc ? cli_fail(&err) : WS_OK;
}

/* --user: a user across devices (report_find_user). */
static int list_user(struct store *st, const char *pattern, int json)
{
	struct report_user_hits hits = { NULL, 0, 0 };
	struct ws_error err;
	struct cli_json j;
	char pat[1024];
	int rc;

	/* without wildcards the whole name must match */
	snprintf(pat, sizeof(pat), "%s", pattern);
	ws_error_clear(&err);
	if ((rc = report_find_user(st, pat, &hits, &err)))
		return cli_fail(&err);
	cli_json_init(&j, 0);
	if (json) {
		cli_json_obj(&j, NULL);
		cli_json_str(&j, "pattern", pattern);
		cli_json_arr(&j, "users");
	} else if (!hits.n) {
		printf("no user matching '%s' in any scan\n", pattern);
	}
	for (size_t i = 0; i < hits.n; i++) {
		const struct report_user_hit *h = &hits.v[i];
		char s1[32];

		utc(h->started, s1, sizeof(s1));
		if (json) {
			cli_json_obj(&j, NULL);
			cli_json_opt(&j, "device", h->device);
			cli_json_opt(&j, "scan", h->scan_id);
			cli_json_i64(&j, "started", h->started);
			cli_json_opt(&j, "started_utc", s1);
			cli_json_bool(&j, "newest", h->newest);
			cli_json_opt(&j, "account", h->account);
			cli_json_opt(&j, "sid", h->sid);
			cli_json_opt(&j, "profile", h->profile);
			cli_json_u64(&j, "last_use", h->last_use_ft);
			cli_json_end(&j);
		} else {
			printf("%-20s %-34s %s %-24s %s %s%s\n", h->device, h->scan_id, s1,
			       *h->account ? h->account : "-", h->sid, h->profile,
			       h->newest ? "" : "  (older scan)");
		}
	}
	if (json) {
		cli_json_end(&j);
		cli_json_end(&j);
		cli_json_print(&j, stdout);
	}
	cli_json_release(&j);
	report_user_hits_release(&hits);
	return WS_OK;
}

int cmd_list(int argc, char **argv)
{
	const char *store_dir = NULL, *device = NULL, *scan_id = NULL, *user = NULL;
	struct cli_key_opts key = { 0 };
	struct cli_log_sink sink = { NULL, 0, 0 };
	struct ws_log log;
	struct store *st = NULL;
	unsigned sections = 0;
	int json = 0, c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", list_options, NULL)) != -1) {
		switch (c) {
		case OPT_STORE: store_dir = optarg; break;
		case OPT_DEVICE: device = optarg; break;
		case OPT_SCAN: scan_id = optarg; break;
		case OPT_USER: user = optarg; break;
		case OPT_USERS: sections |= SEC_USERS; break;
		case OPT_REGISTRY: sections |= SEC_REGISTRY; break;
		case OPT_FILES: sections |= SEC_FILES; break;
		case OPT_APPS: sections |= SEC_APPS; break;
		case OPT_REINSTALL: sections |= SEC_APPS | SEC_REINSTALL; break;
		case OPT_RULES: sections |= SEC_RULES; break;
		case OPT_JSON: json = 1; break;
		case OPT_KEYFILE: key.key_file = optarg; break;
		case OPT_PASSENV: key.passphrase_env = optarg; break;
		case 'h':
		case OPT_HELP: fputs(list_usage, stdout); return WS_OK;
		default: return cli_bad_option("list", list_options, "+h", argc, argv);
		}
	}
	if (optind < argc)
		return cli_usage("list", "unexpected argument '%s'", argv[optind]);
	if (!store_dir)
		return cli_usage("list", "--store is required");
	if (sections && !device && !scan_id)
		return cli_usage("list", "a section needs --device or --scan");
	if (user && (sections || device || scan_id))
		return cli_usage("list", "--user searches every device: no --device, --scan or section");
	cli_log_init(&log, &sink);
	rc = cli_store_open("list", store_dir, &key, 0, 0, &log, &st);
	if (rc)
		return rc;
	if (user)
		rc = list_user(st, user, json);
	else if (!device && !scan_id)
		rc = list_devices(st, json);
	else
		rc = list_scan(st, device, scan_id,
			       sections ? sections : SEC_USERS | SEC_REGISTRY | SEC_FILES | SEC_APPS | SEC_RULES,
			       json);
	store_close(st);
	return rc;
}
