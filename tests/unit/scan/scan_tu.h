/* scan_tu.h - helpers shared by the scanner's unit tests (not a test
 * itself): fixture installations, a small rule set, scanning into a store,
 * reading the catalog back. */
#ifndef SCAN_TU_H
#define SCAN_TU_H

#include "tu.h"

#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "fx_fleet.h"
#include "rules/rules.h"
#include "scan/scan.h"
#include "store/store.h"
#include "util/ws_fs.h"

/* Documents and Desktop of every user, HKCU desktop settings, a machine
 * key and the public documents. */
static const char stu_rules_xml[] =
	"<?xml version='1.0' encoding='UTF-8'?>\n"
	"<migration urlid='http://winstate.test/scan'>\n"
	" <component type='Documents' context='User'>\n"
	"  <displayName>User data</displayName>\n"
	"  <role role='Data'><rules><include><objectSet>\n"
	"   <pattern type='File'>%CSIDL_PERSONAL%\\* [*]</pattern>\n"
	"   <pattern type='File'>%CSIDL_DESKTOP%\\* [*]</pattern>\n"
	"   <pattern type='File'>%USERPROFILE%\\OneDrive\\* [*]</pattern>\n"
	"   <pattern type='Registry'>HKCU\\Control Panel\\Desktop [*]</pattern>\n"
	"  </objectSet></include></rules></role>\n"
	" </component>\n"
	" <component type='Application' context='System'>\n"
	"  <displayName>Machine</displayName>\n"
	"  <role role='Settings'><rules><include><objectSet>\n"
	"   <pattern type='Registry'>HKLM\\SOFTWARE\\Contoso\\Editor [*]</pattern>\n"
	"   <pattern type='File'>%PUBLIC%\\Documents\\* [*]</pattern>\n"
	"  </objectSet></include></rules></role>\n"
	" </component>\n"
	"</migration>\n";

/* Everything in every profile: the walk meets every junction and loop. */
static const char stu_profile_xml[] =
	"<migration urlid='http://winstate.test/profile'>\n"
	" <component type='Documents' context='User'>\n"
	"  <displayName>Whole profile</displayName>\n"
	"  <role role='Data'><rules><include><objectSet>\n"
	"   <pattern type='File'>%USERPROFILE%\\* [*]</pattern>\n"
	"  </objectSet></include></rules></role>\n"
	" </component>\n"
	"</migration>\n";

/* tu_tmpdir() whose path stu_cleanup() frees at the end of main. */
static inline char *stu_tmpdir(void)
{
	return tu_tmpdir_kept();
}

static inline void stu_cleanup(void)
{
	tu_cleanup();
}

/* "<dir>/<name>" in a buffer the caller releases. */
static inline char *stu_path(const char *dir, const char *name)
{
	return ws_xasprintf("%s/%s", dir, name);
}

static inline struct rule_set *stu_rules_from(const char *xml)
{
	struct rule_set *rs = rule_set_new();
	struct ws_error err;

	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "scan-test.xml", xml, strlen(xml),
				       NULL, &err), &err);
	return rs;
}

static inline struct rule_set *stu_rules(void)
{
	return stu_rules_from(stu_rules_xml);
}

/* Build a source installation under dir/name; returns its path. */
static inline char *stu_build(const char *dir, const char *name, uint64_t seed,
			      unsigned users, const char *computer)
{
	struct fx_opts o;
	struct ws_error err;
	char *out = stu_path(dir, name);

	fx_opts_init(&o);
	o.out_dir = out;
	o.seed = seed;
	o.users = users;
	o.files = 3;
	o.computer = computer;
	ws_error_clear(&err);
	tu_assert_ok(fx_build(&o, NULL, &err), &err);
	return out;
}

static inline struct store *stu_store(const char *dir, int create)
{
	struct store_open_opts so;
	struct store *st = NULL;
	struct ws_error err;

	memset(&so, 0, sizeof(so));
	so.create = create;
	so.chunk_size = 64 * 1024;
	ws_error_clear(&err);
	tu_assert_ok(store_open(dir, &so, &st, &err), &err);
	return st;
}

/* Log that counts and keeps the last warning. */
struct stu_log {
	struct ws_log log;
	char last_warn[2048];
	unsigned infos;
	struct ws_buf all;
};

static inline void stu_log_fn(void *ctx, int level, const char *where,
			      const char *msg)
{
	struct stu_log *l = ctx;

	if (level == WS_LOG_WARN)
		snprintf(l->last_warn, sizeof(l->last_warn), "%s: %s", where, msg);
	if (level == WS_LOG_INFO)
		l->infos++;
	ws_buf_addf(&l->all, "%d %s: %s\n", level, where, msg);
}

static inline void stu_log_init(struct stu_log *l)
{
	memset(l, 0, sizeof(*l));
	ws_buf_init(&l->all);
	l->log.fn = stu_log_fn;
	l->log.ctx = l;
	l->log.max_level = WS_LOG_DEBUG;
}

/* What a catalog holds, read back for assertions. */
struct stu_cat {
	struct ws_buf files;     /* "path\n" for every file record (not dirs) */
	struct ws_buf values;    /* "key [name]=hex\n" */
	size_t nfiles, ncloud, nvalues;
};

static inline void stu_cat_read(struct store *st, const char *device,
				struct stu_cat *c)
{
	struct store_catalog *cat;
	struct store_record rec;
	struct ws_error err;

	memset(c, 0, sizeof(*c));
	ws_buf_init(&c->files);
	ws_buf_init(&c->values);
	ws_error_clear(&err);
	tu_assert_ok(store_catalog_open(st, device, NULL, &cat, &err), &err);
	for (;;) {
		tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
		if (rec.kind == STORE_REC_END)
			break;
		if (rec.kind == STORE_REC_FILE && !(rec.u.file.flags & STORE_FILE_DIR)) {
			ws_buf_addf(&c->files, "%s\n", rec.u.file.path);
			c->nfiles++;
			if (rec.u.file.flags & STORE_FILE_NOT_CAPTURED)
				c->ncloud++;
		}
		if (rec.kind == STORE_REC_VALUE) {
			ws_buf_addf(&c->values, "%s [%s]=", rec.u.value.key,
				    rec.u.value.name);
			for (size_t i = 0; i < rec.u.value.len; i++)
				ws_buf_addf(&c->values, "%02x", rec.u.value.data[i]);
			ws_buf_addch(&c->values, '\n');
			c->nvalues++;
		}
	}
	store_catalog_free(cat);
}

static inline void stu_cat_release(struct stu_cat *c)
{
	ws_buf_release(&c->files);
	ws_buf_release(&c->values);
}

#endif
