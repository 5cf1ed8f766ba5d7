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
#include "cli/cli_common.h"
#include "reg/reg.h"
#include "util/ws_buf.h"
#include "util/ws_utf.h"

static const char list_usage[] =
	"usage: winstate list --store DIR [--device NAME] [--scan ID]\n"
	"                     [--users|--registry|--files|--apps [--reinstall]|--rules]\n"
	"                     [--json]\n"
	"                     [--key-file F | --passphrase-env VAR]\n"
	"\n"
	"Without --device: every device and its scans, newest first.  Device names\n"
	"are case-insensitive; an unknown one is exit 11 listing the devices.\n"
	"With --device: the newest scan (or --scan ID); every section unless one is named.\n"
	"--reinstall: only the Store apps apply reinstalls (class user, installed, not\n"
	"deprovisioned); it implies --apps.\n";

enum { OPT_STORE = 256, OPT_DEVICE, OPT_SCAN, OPT_USERS, OPT_REGISTRY, OPT_FILES,
       OPT_APPS, OPT_RULES, OPT_JSON, OPT_KEYFILE, OPT_PASSENV, OPT_HELP, OPT_REINSTALL };

static const struct option list_options[] = {
	{ "store", required_argument, NULL, OPT_STORE },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "scan", required_argument, NULL, OPT_SCAN },
	{ "users", no_argument, NULL, OPT_USERS },
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

static void js(struct ws_buf *b, const char *s)
{
	if (!s) {
		ws_buf_adds(b, "null");
		return;
	}
	ws_buf_addch(b, '"');
	ws_buf_add_json_str(b, s, strlen(s));
	ws_buf_addch(b, '"');
}

static void jkey(struct ws_buf *b, const char *k, const char *v)
{
	ws_buf_addf(b, "\"%s\": ", k);
	js(b, v);
}

static void utc(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void user_field(struct ws_buf *b, uint32_t u)
{
	if (u == STORE_SYSTEM)
		ws_buf_adds(b, "\"user\": null");
	else
		ws_buf_addf(b, "\"user\": %u", u);
}

static void scan_json(struct ws_buf *b, const struct store_scan_entry *e)
{
	const struct store_scan_info *in = &e->info;
	char s1[32], s2[32];

	utc(in->started, s1, sizeof(s1));
	utc(in->finished, s2, sizeof(s2));
	ws_buf_addch(b, '{');
	jkey(b, "id", in->scan_id);
	ws_buf_adds(b, ", ");
	jkey(b, "device", in->device);
	ws_buf_adds(b, ", ");
	jkey(b, "computer", in->computer);
	ws_buf_adds(b, ", ");
	jkey(b, "os_product", in->os_product);
	ws_buf_adds(b, ", ");
	jkey(b, "os_build", in->os_build);
	ws_buf_adds(b, ", ");
	jkey(b, "os_edition", in->os_edition);
	ws_buf_adds(b, ", ");
	jkey(b, "os_arch", in->os_arch);
	ws_buf_adds(b, ", ");
	jkey(b, "tool_version", in->tool_version);
	ws_buf_addf(b, ", \"system_drive\": \"%c\", \"started\": %lld, \"finished\": %lld, ",
		    in->system_drive, (long long)in->started, (long long)in->finished);
	jkey(b, "started_utc", s1);
	ws_buf_adds(b, ", ");
	jkey(b, "finished_utc", s2);
	ws_buf_adds(b, ", \"rule_files\": [");
	for (size_t i = 0; i < in->n_rule_files; i++) {
		if (i)
			ws_buf_adds(b, ", ");
		js(b, in->rule_files[i]);
	}
	ws_buf_addf(b, "], \"users\": %llu, \"values\": %llu, \"keys\": %llu, \"files\": %llu, "
		    "\"apps\": %llu, \"rules\": %llu, \"bytes\": %llu}",
		    (unsigned long long)e->n_users, (unsigned long long)e->n_values,
		    (unsigned long long)e->n_keys, (unsigned long long)e->n_files,
		    (unsigned long long)e->n_apps, (unsigned long long)e->n_rules,
		    (unsigned long long)e->bytes);
}

static int list_devices(struct store *st, int json)
{
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct ws_error err;
	struct ws_buf b = WS_BUF_INIT;
	char **devs = NULL;
	size_t nd = 0;
	int rc;

	ws_error_clear(&err);
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
	if (json)
		ws_buf_adds(&b, "{\"devices\": [");
	for (size_t k = 0; k < nd; k++) {
		int first = 1;
		if (json) {
			ws_buf_adds(&b, k ? ",\n  {" : "\n  {");
			jkey(&b, "device", devs[k]);
			ws_buf_adds(&b, ", \"scans\": [");
		} else {
			printf("%s\n", devs[k]);
		}
		for (size_t i = 0; i < l.n; i++) {
			const struct store_scan_entry *e = &l.v[i];
			char s1[32];
			if (ws_name_casecmp(e->info.device, devs[k]))
				continue;
			if (json) {
				ws_buf_adds(&b, first ? "\n    " : ",\n    ");
				scan_json(&b, e);
			} else {
				utc(e->info.started, s1, sizeof(s1));
				printf("  %s  %s  %s %s  users %llu  values %llu  files %llu  %llu bytes\n",
				       e->info.scan_id, s1, e->info.os_product, e->info.os_build,
				       (unsigned long long)e->n_users, (unsigned long long)e->n_values,
				       (unsigned long long)e->n_files, (unsigned long long)e->bytes);
			}
			first = 0;
		}
		if (json)
			ws_buf_adds(&b, "]}");
	}
	if (json) {
		ws_buf_addf(&b, "%s], \"damaged_catalogs\": %zu}\n", nd ? "\n" : "", l.damaged);
		fputs(b.buf, stdout);
	} else if (l.damaged) {
		printf("(%zu damaged catalog(s) skipped: run winstate verify)\n", l.damaged);
	}
	ws_buf_release(&b);
	free(devs);
	store_scan_list_release(&l);
	return WS_OK;
}

/* Registry data as JSON (typed) or text. */
static void value_data(struct ws_buf *b, const struct store_value *v, int json)
{
	const unsigned char *d = v->data;
	size_t n = v->len;

	if ((v->type == REG_SZ || v->type == REG_EXPAND_SZ || v->type == REG_LINK)) {
		struct ws_buf s = WS_BUF_INIT;
		ws_utf16le_to_utf8(d, n, &s, WS_UTF16_STOP_AT_NUL);
		if (json)
			js(b, s.buf);
		else
			ws_buf_add(b, s.buf, s.len);
		ws_buf_release(&s);
		return;
	}
	if (v->type == REG_MULTI_SZ) {
		size_t pos = 0, k = 0;
		if (json)
			ws_buf_addch(b, '[');
		while (pos + 1 < n) {
			size_t end = pos;
			while (end + 1 < n && (d[end] || d[end + 1]))
				end += 2;
			if (end == pos)
				break;
			struct ws_buf s = WS_BUF_INIT;
			ws_utf16le_to_utf8(d + pos, end - pos, &s, 0);
			if (k++)
				ws_buf_adds(b, json ? ", " : " | ");
			if (json)
				js(b, s.buf);
			else
				ws_buf_add(b, s.buf, s.len);
			ws_buf_release(&s);
			pos = end + 2;
		}
		if (json)
			ws_buf_addch(b, ']');
		return;
	}
	if ((v->type == REG_DWORD || v->type == REG_DWORD_BIG_ENDIAN) && n == 4) {
		uint32_t x = v->type == REG_DWORD ?
			(uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24 :
			(uint32_t)d[3] | (uint32_t)d[2] << 8 | (uint32_t)d[1] << 16 | (uint32_t)d[0] << 24;
		ws_buf_addf(b, "%u", x);
		return;
	}
	if (v->type == REG_QWORD && n == 8) {
		uint64_t x = 0;
		for (int i = 7; i >= 0; i--)
			x = (x << 8) | d[i];
		ws_buf_addf(b, "%llu", (unsigned long long)x);
		return;
	}
	if (json)
		ws_buf_addch(b, '"');
	for (size_t i = 0; i < n; i++)
		ws_buf_addf(b, "%02x", d[i]);
	if (json)
		ws_buf_addch(b, '"');
}

static void file_flags(struct ws_buf *b, uint32_t f)
{
	static const char *const names[] = { "directory", "not_captured", "reparse", "sparse", "offline" };
	int first = 1;

	ws_buf_addch(b, '[');
	for (int i = 0; i < 5; i++) {
		if (f & (1u << i)) {
			ws_buf_addf(b, "%s\"%s\"", first ? "" : ", ", names[i]);
			first = 0;
		}
	}
	ws_buf_addch(b, ']');
}

static int list_scan(struct store *st, const char *device, const char *scan_id,
		     unsigned sections, int json)
{
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct store_catalog *cat = NULL;
	struct ws_error err;
	struct ws_buf b = WS_BUF_INIT;
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
	for (size_t i = 0; i < l.n; i++)
		if (!strcmp(l.v[i].info.scan_id, store_catalog_info(cat)->scan_id))
			entry = &l.v[i];
	if (json) {
		ws_buf_adds(&b, "{\"scan\": ");
		if (entry)
			scan_json(&b, entry);
		else
			ws_buf_adds(&b, "null");
	} else if (entry) {
		char s1[32];
		utc(entry->info.started, s1, sizeof(s1));
		printf("scan %s of %s (%s %s %s), %s\n", entry->info.scan_id, entry->info.device,
		       entry->info.os_product, entry->info.os_build, entry->info.os_arch, s1);
	}
	if (sections & SEC_USERS) {
		const struct store_user *u = store_catalog_users(cat, &n);
		if (json)
			ws_buf_adds(&b, ",\n \"users\": [");
		else
			printf("users:\n");
		for (size_t i = 0; i < n; i++) {
			if (json) {
				ws_buf_addf(&b, "%s{\"index\": %u, ", i ? ",\n  " : "\n  ", u[i].index);
				jkey(&b, "sid", u[i].sid);
				ws_buf_adds(&b, ", ");
				jkey(&b, "account", u[i].account);
				ws_buf_adds(&b, ", ");
				jkey(&b, "profile", u[i].profile_path);
				ws_buf_addf(&b, ", \"last_use\": %llu, \"flags\": %u}",
					    (unsigned long long)u[i].last_use_ft, u[i].flags);
			} else {
				printf("  [%u] %s  %s  %s\n", u[i].index, u[i].sid,
				       *u[i].account ? u[i].account : "-", u[i].profile_path);
			}
		}
		if (json)
			ws_buf_adds(&b, "]");
	}
	if (sections & (SEC_REGISTRY | SEC_FILES)) {
		struct ws_buf regs = WS_BUF_INIT, keys = WS_BUF_INIT, files = WS_BUF_INIT;
		size_t nr = 0, nk = 0, nf = 0;

		for (;;) {
			rc = store_catalog_next(cat, &rec, &err);
			if (rc || rec.kind == STORE_REC_END)
				break;
			if (rec.kind == STORE_REC_VALUE && (sections & SEC_REGISTRY)) {
				const struct store_value *v = &rec.u.value;
				if (json) {
					ws_buf_adds(&regs, nr++ ? ",\n  {" : "\n  {");
					user_field(&regs, v->user);
					ws_buf_adds(&regs, ", ");
					jkey(&regs, "key", v->key);
					ws_buf_adds(&regs, ", ");
					jkey(&regs, "name", v->name);
					ws_buf_adds(&regs, ", ");
					jkey(&regs, "type", reg_type_name(v->type));
					ws_buf_addf(&regs, ", \"type_code\": %u, \"data\": ", v->type);
					value_data(&regs, v, 1);
					ws_buf_adds(&regs, ", \"raw\": \"");
					for (size_t i = 0; i < v->len; i++)
						ws_buf_addf(&regs, "%02x", v->data[i]);
					ws_buf_addf(&regs, "\", \"rule\": %u}", v->rule);
				} else {
					struct ws_buf d = WS_BUF_INIT;
					value_data(&d, v, 0);
					printf("  %s [%s] %s = %s\n", v->key, *v->name ? v->name : "(default)",
					       reg_type_name(v->type), d.buf);
					ws_buf_release(&d);
				}
			} else if (rec.kind == STORE_REC_KEY && (sections & SEC_REGISTRY)) {
				if (json) {
					ws_buf_adds(&keys, nk++ ? ",\n  {" : "\n  {");
					user_field(&keys, rec.u.key.user);
					ws_buf_adds(&keys, ", ");
					jkey(&keys, "key", rec.u.key.path);
					ws_buf_addf(&keys, ", \"rule\": %u}", rec.u.key.rule);
				} else {
					printf("  %s (key)\n", rec.u.key.path);
				}
			} else if (rec.kind == STORE_REC_FILE && (sections & SEC_FILES)) {
				const struct store_file *f = &rec.u.file;
				if (json) {
					ws_buf_adds(&files, nf++ ? ",\n  {" : "\n  {");
					user_field(&files, f->user);
					ws_buf_adds(&files, ", ");
					jkey(&files, "path", f->path);
					ws_buf_addf(&files, ", \"size\": %llu, \"attributes\": %u, "
						    "\"created\": %llu, \"written\": %llu, \"accessed\": %llu, "
						    "\"dir\": %s, \"flags\": ",
						    (unsigned long long)f->size, f->attributes,
						    (unsigned long long)f->created_ft,
						    (unsigned long long)f->written_ft,
						    (unsigned long long)f->accessed_ft,
						    (f->flags & STORE_FILE_DIR) ? "true" : "false");
					file_flags(&files, f->flags);
					ws_buf_addf(&files, ", \"rule\": %u, \"chunks\": %zu}", f->rule,
						    f->n_chunks);
				} else {
					printf("  %s%s  %llu\n", f->path,
					       (f->flags & STORE_FILE_DIR) ? "\\" : "",
					       (unsigned long long)f->size);
				}
			}
		}
		if (json) {
			if (sections & SEC_REGISTRY)
				ws_buf_addf(&b, ",\n \"registry\": [%s],\n \"keys\": [%s]", regs.buf, keys.buf);
			if (sections & SEC_FILES)
				ws_buf_addf(&b, ",\n \"files\": [%s]", files.buf);
		}
		ws_buf_release(&regs);
		ws_buf_release(&keys);
		ws_buf_release(&files);
	}
	if (!rc && (sections & SEC_APPS)) {
		const struct store_app *a = store_catalog_apps(cat, &n);
		if (json)
			ws_buf_adds(&b, ",\n \"apps\": [");
		else
			printf("apps:\n");
		for (size_t i = 0, k = 0; i < n; i++) {
			if ((sections & SEC_REINSTALL) && !app_reinstallable(&a[i]))
				continue;
			if (json) {
				ws_buf_adds(&b, k++ ? ",\n  {" : "\n  {");
				user_field(&b, a[i].user);
				ws_buf_adds(&b, ", ");
				jkey(&b, "family", a[i].family);
				ws_buf_adds(&b, ", ");
				jkey(&b, "full_name", a[i].full_name);
				ws_buf_adds(&b, ", ");
				jkey(&b, "version", a[i].version);
				ws_buf_adds(&b, ", ");
				jkey(&b, "arch", a[i].arch);
				ws_buf_adds(&b, ", ");
				jkey(&b, "publisher", a[i].publisher);
				ws_buf_adds(&b, ", ");
				jkey(&b, "class", a[i].app_class);
				ws_buf_addch(&b, '}');
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
			ws_buf_adds(&b, "]");
	}
	if (!rc && (sections & SEC_RULES)) {
		const struct store_rule *r = store_catalog_rules(cat, &n);
		if (json)
			ws_buf_adds(&b, ",\n \"rules\": [");
		else
			printf("rules:\n");
		for (size_t i = 0; i < n; i++) {
			if (json) {
				ws_buf_addf(&b, "%s{\"index\": %u, ", i ? ",\n  " : "\n  ", r[i].index);
				jkey(&b, "text", r[i].text);
				ws_buf_addch(&b, '}');
			} else {
				printf("  [%u] %s\n", r[i].index, r[i].text);
			}
		}
		if (json)
			ws_buf_adds(&b, "]");
	}
	if (json && !rc) {
		ws_buf_adds(&b, "}\n");
		fputs(b.buf, stdout);
	}
	ws_buf_release(&b);
	store_catalog_free(cat);
	store_scan_list_release(&l);
	return rc ? cli_fail(&err) : WS_OK;
}

int cmd_list(int argc, char **argv)
{
	const char *store_dir = NULL, *device = NULL, *scan_id = NULL;
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
		case OPT_HELP: fputs(list_usage, stdout); return WS_HELP;
		default: return cli_usage("list", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("list", "unexpected argument '%s'", argv[optind]);
	if (!store_dir)
		return cli_usage("list", "--store is required");
	if (sections && !device && !scan_id)
		return cli_usage("list", "a section needs --device or --scan");
	cli_log_init(&log, &sink);
	rc = cli_store_open("list", store_dir, &key, 0, 0, &log, &st);
	if (rc)
		return rc;
	if (!device && !scan_id)
		rc = list_devices(st, json);
	else
		rc = list_scan(st, device, scan_id,
			       sections ? sections : SEC_USERS | SEC_REGISTRY | SEC_FILES | SEC_APPS | SEC_RULES,
			       json);
	store_close(st);
	return rc;
}
