/*
 * apps_inv.c - the Store app inventory of one user (UsrClass repository,
 * SOFTWARE AppxAllUserStore, %LOCALAPPDATA%\Packages folders), its
 * classification, and the reinstall list as winget-import JSON.
 */
#include "apps/apps_private.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "util/ws_utf.h"
#include "util/ws_fs.h"
#include "util/ws_str.h"
#include "volume/volume.h"

/* Most children read from one key: bounded work on a hostile hive. */
#define APPS_MAX_KEYS 100000u

const char *apps_class_name(int cls)
{
	switch (cls) {
	case APPS_CLASS_USER: return "user";
	case APPS_CLASS_INBOX: return "inbox";
	case APPS_CLASS_SYSTEM: return "system";
	case APPS_CLASS_FRAMEWORK: return "framework";
	case APPS_CLASS_RESOURCE: return "resource";
	default: return "unknown";
	}
}

static void pkg_release(struct apps_package *p)
{
	free(p->full_name);
	free(p->family_name);
	free(p->display_name);
	free(p->root_folder);
	free(p->sid);
	memset(p, 0, sizeof(*p));
}

void apps_list_release(struct apps_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		pkg_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

/* struct apps_names helpers (apps.h): a sorted set compared like NTFS names. */
static void strset_add(struct apps_names *s, const char *str)
{
	WS_ALLOC_GROW(s->v, s->n + 1, s->alloc);
	s->v[s->n++] = ws_xstrdup(str);
}

static int cmp_str(const void *a, const void *b)
{
	return ws_name_casecmp(*(char *const *)a, *(char *const *)b);
}

static void strset_sort(struct apps_names *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_str);
}

static int strset_has(const struct apps_names *s, const char *str)
{
	return s->n && bsearch(&str, s->v, s->n, sizeof(*s->v), cmp_str) != NULL;
}

static void strset_release(struct apps_names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* One observation; merged with the others of the same package later. */
static struct apps_package *obs_add(struct apps_list *l, const char *full,
				    const struct apps_id *id, unsigned src,
				    const char *sid)
{
	struct apps_package *p;
	struct ws_buf fam = WS_BUF_INIT;

	WS_ALLOC_GROW(l->v, l->n + 1, l->alloc);
	p = &l->v[l->n++];
	memset(p, 0, sizeof(*p));
	apps_family_of(id, &fam);
	p->full_name = full ? ws_xstrdup(full) : NULL;
	p->family_name = ws_buf_detach(&fam, NULL);
	p->id = *id;
	p->display_name = ws_xstrdup("");
	p->root_folder = ws_xstrdup("");
	p->sid = ws_xstrdup(sid ? sid : "");
	p->sources = src;
	p->installed = (src & (APPS_SRC_REPOSITORY | APPS_SRC_FAMILIES |
			       APPS_SRC_USER_STORE)) != 0;
	return p;
}

static void warn_name(struct ws_log *log, const char *where, const char *what,
		      const char *name)
{
	ws_logf(log, WS_LOG_WARN, where, "%s \"%s\" is not a package %s name: skipped",
		what, name, strcmp(what, "folder") ? "full" : "family");
}

/* Call fn for every child name of `path` under `from` (absent key: nothing). */
typedef int (*child_fn)(void *ctx, struct reg_hive *h, reg_node key,
			const char *name, struct ws_error *err);

static int each_child(struct reg_hive *h, reg_node from, const char *path,
		      child_fn fn, void *ctx, struct ws_error *err)
{
	reg_node key = 0, *kids = NULL;
	size_t n = 0;
	int rc;

	rc = reg_key_lookup(h, from, path, &key, err);
	if (rc != WS_OK || !key)
		return rc;
	rc = reg_key_children(h, key, &kids, &n, err);
	if (rc != WS_OK)
		return rc;
	if (n > APPS_MAX_KEYS)
		n = APPS_MAX_KEYS;
	for (size_t i = 0; i < n && rc == WS_OK; i++) {
		struct ws_buf name = WS_BUF_INIT;

		rc = reg_key_name(h, kids[i], &name, err);
		if (rc == WS_OK)
			rc = fn(ctx, h, kids[i], name.buf, err);
		ws_buf_release(&name);
	}
	free(kids);
	return rc;
}

struct inv {
	struct apps_list *out;
	const char *sid;
	struct ws_log *log;
	struct apps_image *m;
	struct apps_names *set;   /* target of the machine-set callbacks */
	int set_is_family;    /* keys are family names, not full names */
	unsigned src;
	const char *where;    /* key path for warnings */
	size_t cap;           /* stop adding packages at this list length */
	int capped;           /* the cap was hit (warned once) */
};

/* Bounded memory on a hostile hive: at most APPS_MAX_KEYS packages per call. */
static int full(struct inv *iv)
{
	if (iv->out->n < iv->cap)
		return 0;
	if (!iv->capped)
		ws_logf(iv->log, WS_LOG_WARN, iv->where,
			"more than %u packages: the rest is ignored", APPS_MAX_KEYS);
	iv->capped = 1;
	return 1;
}

/* A value read that may fail for a wrong type: that is a warning, not an error. */
static int soft(int rc, struct ws_error *tmp, struct ws_log *log,
		const char *where, struct ws_error *err)
{
	if (rc == WS_E_UNSUPPORTED) {
		ws_logf(log, WS_LOG_WARN, where, "%s: ignored", tmp->msg);
		return WS_OK;
	}
	if (rc != WS_OK && err)
		*err = *tmp;
	return rc;
}

static int repo_package(void *ctx, struct reg_hive *h, reg_node key,
			const char *name, struct ws_error *err)
{
	struct inv *iv = ctx;
	struct apps_id id;
	struct apps_package *p;
	struct ws_buf s = WS_BUF_INIT;
	struct ws_error tmp;
	uint32_t fw = 0;
	int found = 0, rc;

	if (full(iv))
		return WS_OK;
	if (apps_parse_full_name(name, &id) < 0) {
		warn_name(iv->log, iv->where, "repository key", name);
		return WS_OK;
	}
	p = obs_add(iv->out, name, &id, APPS_SRC_REPOSITORY, iv->sid);
	ws_error_clear(&tmp);
	rc = reg_get_string(h, key, "PackageRootFolder", &s, &found, &tmp);
	if (rc == WS_OK && found) {
		free(p->root_folder);
		p->root_folder = ws_buf_detach(&s, NULL);
	}
	rc = soft(rc, &tmp, iv->log, iv->where, err);
	ws_buf_reset(&s);
	if (rc == WS_OK) {
		rc = reg_get_string(h, key, "DisplayName", &s, &found, &tmp);
		if (rc == WS_OK && found) {
			free(p->display_name);
			p->display_name = ws_buf_detach(&s, NULL);
		}
		rc = soft(rc, &tmp, iv->log, iv->where, err);
	}
	ws_buf_release(&s);
	if (rc == WS_OK) {
		rc = reg_get_dword(h, key, "Framework", &fw, &found, &tmp);
		if (rc == WS_OK && found && fw)
			p->framework_flag = 1;
		rc = soft(rc, &tmp, iv->log, iv->where, err);
	}
	return rc;
}

/* A key named after a package's full name, seen by source `src`; `what`
 * names the kind of key in the warning when its name does not parse. */
static int observe_full_name(struct inv *iv, const char *name, unsigned src, const char *what)
{
	struct apps_id id;

	if (full(iv))
		return WS_OK;
	if (apps_parse_full_name(name, &id) < 0) {
		warn_name(iv->log, iv->where, what, name);
		return WS_OK;
	}
	obs_add(iv->out, name, &id, src, iv->sid);
	return WS_OK;
}

static int family_member(void *ctx, struct reg_hive *h, reg_node key,
			 const char *name, struct ws_error *err)
{
	return observe_full_name(ctx, name, APPS_SRC_FAMILIES, "family member");
}

static int repo_family(void *ctx, struct reg_hive *h, reg_node key,
		       const char *name, struct ws_error *err)
{
	return each_child(h, key, "", family_member, ctx, err);
}

static int user_store_pkg(void *ctx, struct reg_hive *h, reg_node key,
			  const char *name, struct ws_error *err)
{
	return observe_full_name(ctx, name, APPS_SRC_USER_STORE, "AppxAllUserStore key");
}

/* Applications / InboxApplications / Deprovisioned: family names into a set. */
static int machine_entry(void *ctx, struct reg_hive *h, reg_node key,
			 const char *name, struct ws_error *err)
{
	struct inv *iv = ctx;
	struct apps_id id;
	struct ws_buf fam = WS_BUF_INIT;

	if (iv->set_is_family ? apps_parse_family_name(name, &id) < 0
			      : apps_parse_full_name(name, &id) < 0) {
		warn_name(iv->log, iv->where, "AppxAllUserStore key", name);
		return WS_OK;
	}
	apps_family_of(&id, &fam);
	strset_add(iv->set, fam.buf);
	ws_buf_release(&fam);
	return WS_OK;
}

/* NULL full names first, then by name. */
static int cmp_pkg(const void *a, const void *b)
{
	const struct apps_package *x = a, *y = b;
	int c = ws_name_casecmp(x->family_name, y->family_name);

	if (c)
		return c;
	if (!x->full_name || !y->full_name)
		return !!x->full_name - !!y->full_name;
	return ws_name_casecmp(x->full_name, y->full_name);
}

static void take_str(char **dst, char **src)
{
	if (!**dst && **src) {
		free(*dst);
		*dst = *src;
		*src = NULL;
	}
}

static int is_system_root(const char *root)
{
	const char *p = root;

	for (; *p; p++)
		if (!strncasecmp(p, "\\SystemApps\\", 12))
			return 1;
	return 0;
}

static void classify(struct apps_package *p, const struct apps_image *m)
{
	if (p->framework_flag || apps_is_framework_name(p->id.name))
		p->cls = APPS_CLASS_FRAMEWORK;
	else if (p->id.resource_id[0] && strcmp(p->id.resource_id, "~") &&
		 strcasecmp(p->id.resource_id, "neutral"))
		p->cls = APPS_CLASS_RESOURCE;
	else if (is_system_root(p->root_folder) ||
		 !strcasecmp(p->id.publisher_id, APPS_PUB_WINDOWS) ||
		 strset_has(&m->inbox, p->family_name))
		p->cls = APPS_CLASS_SYSTEM;
	else if (strset_has(&m->provisioned, p->family_name) ||
		 apps_is_inbox_name(p->id.name))
		p->cls = APPS_CLASS_INBOX;
	else
		p->cls = APPS_CLASS_USER;
	if (p->sources & APPS_SRC_INBOX)
		p->cls = p->cls == APPS_CLASS_USER ? APPS_CLASS_SYSTEM : p->cls;
	p->deprovisioned = strset_has(&m->deprovisioned, p->family_name);
}

/*
 * Merge the observations appended after `start` (sorted first): same full
 * name -> one entry; a family-only observation folds into the entries of
 * its family, or stays as the family's single entry.
 */
static void merge(struct apps_list *l, size_t start, const struct apps_image *m)
{
	size_t w = start;

	if (l->n - start > 1)
		qsort(l->v + start, l->n - start, sizeof(*l->v), cmp_pkg);
	for (size_t r = start; r < l->n; r++) {
		struct apps_package *cur = &l->v[r];
		struct apps_package *last = w > start ? &l->v[w - 1] : NULL;
		int same_family = last && !ws_name_casecmp(last->family_name,
							   cur->family_name);

		if (same_family && (!last->full_name ||
				    (cur->full_name &&
				     !ws_name_casecmp(last->full_name, cur->full_name)))) {
			if (!last->full_name && cur->full_name) {
				/* family-only entry first: the package takes its place */
				free(last->full_name);
				last->full_name = cur->full_name;
				cur->full_name = NULL;
				last->id = cur->id;
			}
			last->sources |= cur->sources;
			last->installed |= cur->installed;
			last->framework_flag |= cur->framework_flag;
			take_str(&last->display_name, &cur->display_name);
			take_str(&last->root_folder, &cur->root_folder);
			pkg_release(cur);
			continue;
		}
		if (same_family && !cur->full_name) {
			last->sources |= cur->sources;
			pkg_release(cur);
			continue;
		}
		if (w != r)
			l->v[w] = *cur;
		w++;
	}
	/* a data folder of a family with packages: mark every package */
	for (size_t i = start; i + 1 < w; i++)
		if (!ws_name_casecmp(l->v[i].family_name, l->v[i + 1].family_name)) {
			unsigned f = (l->v[i].sources | l->v[i + 1].sources) & APPS_SRC_FOLDER;

			l->v[i].sources |= f;
			l->v[i + 1].sources |= f;
		}
	l->n = w;
	for (size_t i = start; i < l->n; i++) {
		if (strset_has(&m->inbox, l->v[i].family_name))
			l->v[i].sources |= APPS_SRC_INBOX;
		if (strset_has(&m->provisioned, l->v[i].family_name))
			l->v[i].sources |= APPS_SRC_PROVISIONED;
		classify(&l->v[i], m);
	}
}

int apps_image_read(struct reg_hive *software, struct apps_image *out,
		    struct ws_log *log, struct ws_error *err)
{
	static const struct {
		const char *sub;
		int family;
	} sets[] = { { "Applications", 0 }, { "InboxApplications", 0 },
		     { "Deprovisioned", 1 } };
	struct apps_names *dst[] = { &out->provisioned, &out->inbox, &out->deprovisioned };
	struct apps_list none = APPS_LIST_INIT;
	struct inv iv = { &none, "", log, out, NULL, 0, 0, "", APPS_MAX_KEYS, 0 };
	struct ws_buf where = WS_BUF_INIT;
	int rc = WS_OK;

	for (size_t i = 0; i < 3 && rc == WS_OK; i++) {
		struct ws_buf k = WS_BUF_INIT;

		ws_buf_addf(&k, "%s\\%s", APPS_ALLUSER_KEY, sets[i].sub);
		ws_buf_reset(&where);
		ws_buf_addf(&where, "%s:%s", reg_hive_path(software), k.buf);
		iv.where = where.buf;
		iv.set = dst[i];
		iv.set_is_family = sets[i].family;
		rc = each_child(software, reg_root(software), k.buf, machine_entry, &iv, err);
		ws_buf_release(&k);
	}
	strset_sort(&out->provisioned);
	strset_sort(&out->inbox);
	strset_sort(&out->deprovisioned);
	ws_buf_release(&where);
	return rc;
}

int apps_image_provides(const struct apps_image *img, const char *family)
{
	return strset_has(&img->provisioned, family) || strset_has(&img->inbox, family);
}

void apps_image_release(struct apps_image *img)
{
	strset_release(&img->provisioned);
	strset_release(&img->inbox);
	strset_release(&img->deprovisioned);
}

int apps_inventory(struct reg_hive *usrclass, struct reg_hive *software,
		   const char *sid, const char *const *folders, size_t nfolders,
		   struct apps_list *out, struct ws_log *log,
		   struct ws_error *err)
{
	struct apps_image m = APPS_IMAGE_INIT;
	struct inv iv = { out, sid ? sid : "", log, &m, NULL, 0, 0, "",
			  out->n + APPS_MAX_KEYS, 0 };
	size_t start = out->n;
	struct ws_buf where = WS_BUF_INIT;
	int rc = WS_OK;

	if (usrclass) {
		reg_node root = reg_root(usrclass);

		ws_buf_addf(&where, "%s:%s\\Packages", reg_hive_path(usrclass),
			    APPS_REPOSITORY_KEY);
		iv.where = where.buf;
		rc = each_child(usrclass, root, APPS_REPOSITORY_KEY "\\Packages",
				repo_package, &iv, err);
		if (rc == WS_OK) {
			ws_buf_reset(&where);
			ws_buf_addf(&where, "%s:%s\\Families", reg_hive_path(usrclass),
				    APPS_REPOSITORY_KEY);
			iv.where = where.buf;
			rc = each_child(usrclass, root, APPS_REPOSITORY_KEY "\\Families",
					repo_family, &iv, err);
		}
	}
	if (rc == WS_OK && software) {
		reg_node root = reg_root(software);

		rc = apps_image_read(software, &m, log, err);
		if (rc == WS_OK && iv.sid[0]) {
			struct ws_buf k = WS_BUF_INIT;

			ws_buf_addf(&k, "%s\\%s", APPS_ALLUSER_KEY, iv.sid);
			ws_buf_reset(&where);
			ws_buf_addf(&where, "%s:%s", reg_hive_path(software), k.buf);
			iv.where = where.buf;
			rc = each_child(software, root, k.buf, user_store_pkg, &iv, err);
			ws_buf_release(&k);
		}
	}
	for (size_t i = 0; rc == WS_OK && i < nfolders && !full(&iv); i++) {
		struct apps_id id;

		if (apps_parse_family_name(folders[i], &id) < 0) {
			warn_name(log, "%LOCALAPPDATA%\\Packages", "folder", folders[i]);
			continue;
		}
		obs_add(out, NULL, &id, APPS_SRC_FOLDER, iv.sid);
	}
	merge(out, start, &m);
	apps_image_release(&m);
	ws_buf_release(&where);
	return rc;
}

/* Folder names under `host_dir` (sorted); a missing folder is no error.
 * Read through the volume: a folder or an NTFS image. */
static int list_folders(struct vol *vol, const char *host_dir,
			struct apps_names *names, struct ws_error *err)
{
	struct vol_entry_hold h = VOL_ENTRY_HOLD_INIT;
	struct ws_buf p = WS_BUF_INIT;
	struct vol_entry e;
	char **v = NULL;
	size_t n = 0;
	int rc;

	if (vol_stat(vol, host_dir, &e, &h, NULL) != WS_OK ||
	    (e.type == VOL_ENT_ERROR && (e.err_errno == ENOENT || e.err_errno == ENOTDIR)) ||
	    (e.type != VOL_ENT_DIR && e.type != VOL_ENT_ERROR)) {
		vol_entry_hold_release(&h);
		return WS_OK;
	}
	rc = vol_list(vol, host_dir, &v, &n, err);
	if (rc != WS_OK) {
		vol_entry_hold_release(&h);
		return rc;
	}
	for (size_t i = 0; i < n && names->n < APPS_MAX_KEYS; i++) {
		if (v[i][0] == '.')
			continue;
		ws_buf_reset(&p);
		ws_path_join(&p, host_dir, v[i]);
		if (!vol_stat(vol, p.buf, &e, &h, NULL) && e.type == VOL_ENT_DIR)
			strset_add(names, v[i]);
	}
	vol_list_free(v, n);
	vol_entry_hold_release(&h);
	ws_buf_release(&p);
	strset_sort(names);
	return WS_OK;
}

int apps_user_inventory(struct vol *vol, const struct vol_profile *p,
			struct apps_list *out, struct ws_log *log,
			struct ws_error *err)
{
	struct reg_hive *uc = NULL;
	struct vol_vars vars = VOL_VARS_INIT;
	struct apps_names names = { 0 };
	struct ws_buf win = WS_BUF_INIT, host = WS_BUF_INIT;
	int rc = WS_OK;

	if (p->usrclass_path) {
		struct vol_hive_how how;

		/* a dirty hive through its replayed logs, else its primary */
		rc = vol_hive_open(vol, p->usrclass_path, 0, &uc, &how, err);
		if (rc == WS_OK && how.state == VOL_HIVE_DIRTY)
			ws_logf(log, WS_LOG_WARN, p->usrclass_path,
				"hive has unreplayed transaction logs: Store apps read "
				"from its older primary file (%s)", how.why.msg);
	}
	if (rc == WS_OK)
		rc = vol_user_vars(vol, p, &vars, err);
	if (rc == WS_OK) {
		const char *lad = vol_vars_get(&vars, "LOCALAPPDATA");
		enum vol_res res;

		if (!lad)
			lad = vol_vars_get(&vars, "CSIDL_LOCAL_APPDATA");
		if (lad) {
			ws_buf_addf(&win, "%s\\Packages", lad);
			rc = vol_resolve(vol, win.buf, &host, &res, err);
			if (rc == WS_OK && res == VOL_RES_FOUND)
				rc = list_folders(vol, host.buf, &names, err);
		}
	}
	if (rc == WS_OK)
		rc = apps_inventory(uc, vol_software_hive(vol), p->sid,
				    (const char *const *)names.v, names.n, out,
				    log, err);
	if (uc)
		reg_hive_close(uc);
	vol_vars_release(&vars);
	strset_release(&names);
	ws_buf_release(&win);
	ws_buf_release(&host);
	return rc;
}

/* ---- reinstall list --------------------------------------------------------- */

int apps_is_reinstallable(const struct apps_package *p)
{
	return p->cls == APPS_CLASS_USER && p->installed && !p->deprovisioned &&
	       p->full_name != NULL;
}

/* ---- catalog records ------------------------------------------------------- */

#define DEPROV_PREFIX "deprovisioned-"

void apps_class_encode(const struct apps_package *p, struct ws_buf *out)
{
	if (p->deprovisioned)
		ws_buf_adds(out, DEPROV_PREFIX);
	ws_buf_adds(out, apps_class_name(p->cls));
}

int apps_class_parse(const char *s, int *cls, int *deprovisioned)
{
	size_t pl = strlen(DEPROV_PREFIX);

	*deprovisioned = 0;
	if (!s)
		return -1;
	if (!strncmp(s, DEPROV_PREFIX, pl)) {
		*deprovisioned = 1;
		s += pl;
	}
	for (int c = APPS_CLASS_USER; c <= APPS_CLASS_RESOURCE; c++)
		if (!strcmp(s, apps_class_name(c))) {
			*cls = c;
			return 0;
		}
	return -1;
}

int apps_list_add_record(struct apps_list *out, const char *family,
			 const char *full_name, const char *app_class,
			 const char *sid)
{
	struct apps_id id, fid;
	struct ws_buf fam = WS_BUF_INIT;
	struct apps_package *p;
	int cls, deprov, has_full = full_name && *full_name;

	if (apps_class_parse(app_class, &cls, &deprov) < 0)
		return -1;
	if (has_full) {
		if (apps_parse_full_name(full_name, &id) < 0)
			return -1;
		apps_family_of(&id, &fam);
		/* the record's family must be the full name's own */
		if (family && *family && ws_name_casecmp(family, fam.buf)) {
			ws_buf_release(&fam);
			return -1;
		}
	} else {
		if (apps_parse_family_name(family, &fid) < 0)
			return -1;
		id = fid;
		apps_family_of(&id, &fam);
	}
	p = obs_add(out, has_full ? full_name : NULL, &id,
		    has_full ? APPS_SRC_REPOSITORY : APPS_SRC_FOLDER, sid);
	free(p->family_name);
	p->family_name = ws_buf_detach(&fam, NULL);
	p->cls = cls;
	p->deprovisioned = deprov;
	p->installed = has_full;
	return 0;
}

static void json_kv(struct ws_buf *b, const char *k, const char *v, int comma)
{
	ws_buf_addch(b, '"');
	ws_buf_add_json_str(b, k, strlen(k));
	ws_buf_adds(b, "\": ");
	if (v) {
		ws_buf_addch(b, '"');
		ws_buf_add_json_str(b, v, strlen(v));
		ws_buf_addch(b, '"');
	} else {
		ws_buf_adds(b, "null");
	}
	if (comma)
		ws_buf_addch(b, ',');
}

size_t apps_reinstall_json(const struct apps_list *l, const char *creation_date,
			   struct ws_buf *out)
{
	const struct apps_package **pick = NULL;
	size_t npick = 0, nstore = 0;
	char now[40];

	pick = ws_xcalloc(l->n ? l->n : 1, sizeof(*pick));
	for (size_t i = 0; i < l->n; i++) {
		const struct apps_package *p = &l->v[i];
		size_t j;

		if (!apps_is_reinstallable(p))
			continue;
		for (j = 0; j < npick; j++)
			if (!ws_name_casecmp(pick[j]->family_name, p->family_name))
				break;
		if (j == npick)
			pick[npick++] = p;
		else if (ws_version_cmp(p->id.version, pick[j]->id.version, 0) > 0)
			pick[j] = p;
	}
	if (!creation_date) {
		time_t t = time(NULL);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S.000-00:00", &tm);
		creation_date = now;
	}
	for (size_t i = 0; i < npick; i++)
		nstore += apps_store_product_id(pick[i]->family_name) != NULL;

	ws_buf_adds(out, "{\n  ");
	json_kv(out, "$schema", "https://aka.ms/winget-packages.schema.2.0.json", 1);
	ws_buf_adds(out, "\n  ");
	json_kv(out, "CreationDate", creation_date, 1);
	ws_buf_adds(out, "\n  \"Sources\": [");
	if (nstore) {
		size_t k = 0;

		ws_buf_adds(out, "\n    {\n      \"SourceDetails\": {\n        ");
		json_kv(out, "Name", "msstore", 1);
		ws_buf_adds(out, "\n        ");
		json_kv(out, "Identifier", "StoreEdgeFD", 1);
		ws_buf_adds(out, "\n        ");
		json_kv(out, "Argument", "https://storeedgefd.dsx.mp.microsoft.com/v9.0", 1);
		ws_buf_adds(out, "\n        ");
		json_kv(out, "Type", "Microsoft.Rest", 0);
		ws_buf_adds(out, "\n      },\n      \"Packages\": [");
		for (size_t i = 0; i < npick; i++) {
			const char *pid = apps_store_product_id(pick[i]->family_name);

			if (!pid)
				continue;
			ws_buf_adds(out, "\n        { ");
			json_kv(out, "PackageIdentifier", pid, 0);
			ws_buf_adds(out, ++k < nstore ? " }," : " }");
		}
		ws_buf_adds(out, "\n      ]\n    }\n  ");
	}
	ws_buf_adds(out, "],\n  \"winstate\": {\n    \"version\": 1,\n    \"apps\": [");
	for (size_t i = 0; i < npick; i++) {
		const struct apps_package *p = pick[i];
		const char *pid = apps_store_product_id(p->family_name);

		ws_buf_adds(out, i ? ",\n      {\n        " : "\n      {\n        ");
		json_kv(out, "PackageFamilyName", p->family_name, 1);
		ws_buf_adds(out, "\n        ");
		json_kv(out, "PackageFullName", p->full_name, 1);
		ws_buf_adds(out, "\n        ");
		json_kv(out, "Name", p->id.name, 1);
		ws_buf_adds(out, "\n        ");
		json_kv(out, "Version", p->id.version, 1);
		ws_buf_adds(out, "\n        ");
		json_kv(out, "Architecture", p->id.arch, 1);
		ws_buf_adds(out, "\n        ");
		json_kv(out, "PublisherId", p->id.publisher_id, 1);
		ws_buf_adds(out, "\n        ");
		json_kv(out, "SourceSid", p->sid, 1);
		ws_buf_adds(out, "\n        ");
		json_kv(out, "StoreProductId", pid, 1);
		ws_buf_adds(out, "\n        ");
		json_kv(out, "Route", pid ? "msstore" : "offline-or-manual", 0);
		ws_buf_adds(out, "\n      }");
	}
	ws_buf_adds(out, npick ? "\n    ]\n  }\n}\n" : "]\n  }\n}\n");
	free(pick);
	return npick;
}
