/*
 * apply_tu.h - helpers shared by the apply tests: a source and a target
 * installation built in-process with fx_build, a store holding a scan of the
 * source, tree hashes of a target, and hand-made stores for hostile input.
 */
#ifndef APPLY_TU_H
#define APPLY_TU_H

#include "tu.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply/apply.h"
#include "fixture.h"
#include "reg/reg.h"
#include "rules/rules.h"
#include "scan/scan.h"
#include "store/store.h"
#include "util/ws_fs.h"

static const char atu_rules[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<migration urlid=\"http://example/apply-test\">\n"
	" <component type=\"Documents\" context=\"User\">\n"
	"  <displayName>Test</displayName>\n"
	"  <role role=\"Data\"><rules><include><objectSet>\n"
	"   <pattern type=\"File\">%CSIDL_PERSONAL%\\* [*]</pattern>\n"
	"   <pattern type=\"Registry\">HKCU\\Control Panel\\Desktop [*]</pattern>\n"
	"   <pattern type=\"Registry\">HKCU\\Control Panel\\International [*]</pattern>\n"
	"   <pattern type=\"Registry\">HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Themes\\Personalize [*]</pattern>\n"
	"   <pattern type=\"Registry\">HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\User Shell Folders [*]</pattern>\n"
	"  </objectSet></include></rules></role>\n"
	" </component>\n"
	"</migration>\n";

struct atu {
	char *dir, *src, *tgt, *store;
	char device[64];
};

static __attribute__((unused)) void atu_fixture(const char *out, int kind, unsigned users, const char *existing,
			uint64_t seed)
{
	struct fx_opts o;
	struct ws_error e;

	fx_opts_init(&o);
	o.out_dir = out;
	o.kind = kind;
	o.users = users;
	o.files = 4;
	o.seed = seed;
	o.existing_user = existing;
	ws_error_clear(&e);
	tu_assert_ok(fx_build(&o, NULL, &e), &e);
}

/* A new temporary folder with the paths of its source, target and store
 * (none made yet). */
static __attribute__((unused)) void atu_init(struct atu *t)
{
	memset(t, 0, sizeof(*t));
	t->dir = tu_tmpdir();
	t->src = ws_xasprintf("%s/src", t->dir);
	t->tgt = ws_xasprintf("%s/tgt", t->dir);
	t->store = ws_xasprintf("%s/st", t->dir);
}

/* The source scanned with `rs` into a new store; t->device the device the
 * scan recorded. */
static __attribute__((unused)) void atu_scan(struct atu *t, struct rule_set *rs)
{
	struct store_open_opts so = { 0 };
	struct scan_opts sc;
	struct scan_result res;
	struct store *st;
	struct ws_error e;

	so.create = 1;
	ws_error_clear(&e);
	tu_assert_ok(store_open(t->store, &so, &st, &e), &e);
	scan_opts_init(&sc);
	sc.source = t->src;
	sc.rules = rs;
	tu_assert_ok(scan_device(st, &sc, &res, &e), &e);
	snprintf(t->device, sizeof(t->device), "%s", res.device);
	store_close(st);
}

/* Source with `users` users scanned into a store; target (seed 2) with an
 * existing profile `existing` (may be NULL). */
static __attribute__((unused)) void atu_setup(struct atu *t, unsigned users, const char *existing)
{
	struct rule_set *rs = rule_set_new();
	struct ws_error e;

	atu_init(t);
	atu_fixture(t->src, FX_SOURCE, users, NULL, 1);
	atu_fixture(t->tgt, FX_TARGET, 0, existing, 2);
	ws_error_clear(&e);
	tu_assert_ok(rule_set_load_mem(rs, "t.xml", atu_rules, strlen(atu_rules), NULL, &e), &e);
	atu_scan(t, rs);
	rule_set_free(rs);
}

static __attribute__((unused)) void atu_release(struct atu *t)
{
	free(t->src);
	free(t->tgt);
	free(t->store);
	free(t->dir);
}

static struct store *atu_open(const char *dir)
{
	struct store_open_opts so = { 0 };
	struct store *st;
	struct ws_error e;

	ws_error_clear(&e);
	tu_assert_ok(store_open(dir, &so, &st, &e), &e);
	return st;
}

/* Apply with options set up by the caller (target/device filled here). */
static __attribute__((unused)) int atu_apply(struct atu *t, struct apply_opts *o, struct apply_report *r,
		     struct ws_error *e)
{
	struct store *st = atu_open(t->store);
	int rc;

	o->target = t->tgt;
	o->device = t->device;
	ws_error_clear(e);
	rc = apply_scan(st, o, r, e);
	store_close(st);
	return rc;
}

/* A default apply onto the plain (non-NTFS) target that must succeed; the
 * path of its journal.log (to free). */
static __attribute__((unused)) char *atu_apply_journal(struct atu *t)
{
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *lp;

	apply_opts_init(&o);
	o.allow_plain_target = 1;
	tu_assert_ok(atu_apply(t, &o, &r, &e), &e);
	lp = ws_xasprintf("%s/journal.log", r.journal);
	apply_report_release(&r);
	return lp;
}

/* ---- tree hash: every path, type, size and content hash, nothing excluded */

static struct ws_buf *atu_tree_out;
static size_t atu_tree_root;

static __attribute__((unused)) uint64_t atu_fnv(const char *path)
{
	uint64_t h = 1469598103934665603ull;
	unsigned char buf[65536];
	int fd = open(path, O_RDONLY | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
	close(fd);
	return h;
}

static __attribute__((unused)) int atu_tree_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	char type = S_ISDIR(st->st_mode) ? 'd' : S_ISLNK(st->st_mode) ? 'l' :
		    S_ISREG(st->st_mode) ? 'f' : 'o';
	(void)flag;
	(void)f;
	ws_buf_addf(atu_tree_out, "%s\t%c\t%lld\t%016llx\n", path + atu_tree_root, type,
		    type == 'd' ? 0LL : (long long)st->st_size,
		    type == 'f' ? (unsigned long long)atu_fnv(path) : 0ULL);
	return 0;
}

static __attribute__((unused)) int atu_line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted listing of the tree (malloc'd). */
static char *atu_tree(const char *root)
{
	struct ws_buf raw = WS_BUF_INIT, out = WS_BUF_INIT;
	char **lines = NULL;
	size_t n = 0, a = 0;

	atu_tree_out = &raw;
	atu_tree_root = strlen(root);
	assert_int_equal(nftw(root, atu_tree_cb, 32, FTW_PHYS), 0);
	for (char *s = raw.buf; *s;) {
		char *nl = strchr(s, '\n');
		*nl = '\0';
		WS_ALLOC_GROW(lines, n + 1, a);
		lines[n++] = s;
		s = nl + 1;
	}
	qsort(lines, n, sizeof(*lines), atu_line_cmp);
	for (size_t i = 0; i < n; i++) {
		ws_buf_adds(&out, lines[i]);
		ws_buf_addch(&out, '\n');
	}
	free(lines);
	ws_buf_release(&raw);
	return ws_buf_detach(&out, NULL);
}

/* ---- hand-made stores ---------------------------------------------------- */

struct atu_file {
	const char *path;
	const char *content;
};

struct atu_val {
	const char *key, *name;
	uint32_t type;
	const void *data;
	size_t len;
};

/* A scan of `device` with one user (index 0) and the given files and
 * values; scan id written to id_out. */
/* The staged file at `rel` (below the profile, backslashes) of the bundle
 * folder `bdir`: files\\<n> as files.txt maps it; malloc'd content or NULL. */
static __attribute__((unused)) char *atu_bundle_file(const char *bdir, const char *rel, size_t *len)
{
	char *man = ws_xasprintf("%s/files.txt", bdir), *txt = tu_read_file(man, NULL), *out = NULL;
	char *want = ws_xasprintf("\t%s\r\n", rel);

	for (char *l = txt; l && *l;) {
		char *nl = strchr(l, '\n'), *tab = strchr(l, '\t');

		if (tab && (!nl || tab < nl) && !strncmp(tab, want, strlen(want)) && *l != '-') {
			char *p = ws_xasprintf("%s/files/%.*s", bdir, (int)(tab - l), l);

			out = tu_read_file(p, len);
			free(p);
			break;
		}
		l = nl ? nl + 1 : NULL;
	}
	free(want);
	free(txt);
	free(man);
	return out;
}

static __attribute__((unused)) void atu_store_make(const char *dir, const char *device, const char *sid,
			   const char *account, const char *profile,
			   const struct atu_val *vals, size_t nvals,
			   const struct atu_file *files, size_t nfiles)
{
	struct store_open_opts so = { 0 };
	struct store *st;
	struct store_writer *w;
	struct store_scan_info info = { 0 };
	struct store_user u = { 0, sid, account, profile, 0, STORE_USER_LOCAL };
	struct ws_error e;

	so.create = 1;
	ws_error_clear(&e);
	tu_assert_ok(store_open(dir, &so, &st, &e), &e);
	info.device = device;
	info.system_drive = 'C';
	tu_assert_ok(store_scan_begin(st, &info, &w, &e), &e);
	tu_assert_ok(store_scan_add_user(w, &u, &e), &e);
	for (size_t i = 0; i < nvals; i++) {
		struct store_value v = { 0, vals[i].key, vals[i].name, vals[i].type,
					 vals[i].data, vals[i].len, 0 };
		tu_assert_ok(store_scan_add_value(w, &v, &e), &e);
	}
	for (size_t i = 0; i < nfiles; i++) {
		struct store_file f = { 0 };

		f.user = 0;
		f.path = files[i].path;
		f.size = strlen(files[i].content);
		f.written_ft = 133000000000000000ull;
		tu_assert_ok(store_scan_add_file_mem(w, &f, files[i].content,
						     strlen(files[i].content), &e), &e);
	}
	tu_assert_ok(store_scan_commit(w, NULL, &e), &e);
	store_close(st);
}

/* Read a value from a hive file; returns 1 when found. */
static __attribute__((unused)) int atu_hive_value(const char *hive, const char *key, const char *name,
			  struct reg_value *out)
{
	struct reg_hive *h;
	struct ws_error e;
	reg_node n = 0;
	int found = 0;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_open(hive, 0, &h, &e), &e);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), key, &n, &e), &e);
	if (n)
		tu_assert_ok(reg_value_get(h, n, name, out, &found, &e), &e);
	reg_hive_close(h);
	return found;
}

#endif
