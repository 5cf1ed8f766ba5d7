/*
 * apply_rules.c - the USMT LoadState-side rules at apply time: the rule
 * files (--rules, else the scan's own by base name, else the shipped set)
 * compiled per applied user with the *target* profile's variables and once
 * for the system, as LoadState does on the destination; then, per object,
 * NeverRestore, locationModify, contentModify and merge, plus the
 * destinationCleanup pass and <addObjects>.  The transforms themselves are
 * in rules/ (rule_loadstate.c); this file finds the rule, runs it and
 * reports each decision with its rule file:line.
 */
#include "apply/apply_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reg/reg_map.h"
#include "rules/rules.h"
#include "util/ws_fs.h"
#include "util/ws_utf.h"

/* Bytes of a file read for its version resource (NewestVersion). */
#define AR_VERSION_MAX (16u << 20)
/* Folder depth and entries a destinationCleanup walk visits. */
#define AR_CLEAN_DEPTH 64
#define AR_CLEAN_MAX 1000000

struct ar_ctx {
	uint32_t user;                   /* source user index or STORE_SYSTEM */
	struct rule_env *env;
	struct rule_vprobe *vp;
	struct rule_sel *sel;
	char **roots;                    /* known-folder values, for Move */
	size_t nroots;
	/* what file rules the selection has: none, no lookup per file */
	int file_never_restore, file_moves;
};

struct arules {
	struct rule_set *rs;
	struct vol *vol;
	struct store_catalog *cat;
	const struct apply_opts *o;
	struct ws_log *log;
	struct ar_ctx *v;
	size_t n, alloc;
	char **cleaned;                  /* host paths destinationCleanup deleted */
	size_t ncleaned, acleaned;
	char **warned;                   /* "file:line" warned about once */
	size_t nwarned, awarned;
	const struct apf *pf;            /* what destinationCleanup may not delete */
};

static void act(struct arules *r, int kind, const char *user, const char *object,
		const char *target, const char *reason)
{
	struct apply_action ac = { kind, user, object, target, reason };

	if (r->o->on_action)
		r->o->on_action(r->o->on_action_ctx, &ac);
}

/* ---- loading ---------------------------------------------------------- */

static const char *base_of(const char *p)
{
	const char *s = strrchr(p, '/'), *b = strrchr(p, '\\');

	if (b && (!s || b > s))
		s = b;
	return s ? s + 1 : p;
}

/* The rule files: --rules, else the scan's by base name, else shipped. */
static int pick_files(struct arules *r, char ***files, size_t *n, struct ws_error *err)
{
	const struct apply_opts *o = r->o;
	const struct store_scan_info *si = store_catalog_info(r->cat);
	size_t alloc = 0;
	char *own = NULL;
	const char *dir = o->rules_dir;
	int missing = 0;

	if (o->n_rule_files) {
		for (size_t i = 0; i < o->n_rule_files; i++) {
			struct stat st;

			if (stat(o->rule_files[i], &st) != 0)
				return ws_error_hint(err, ws_error_set_errno(err, WS_E_RULES, errno,
									     o->rule_files[i],
									     "cannot read"),
						     WS_INPUT_RULES, WS_HINT_NONE);
			if (S_ISDIR(st.st_mode)) {
				size_t before = *n;

				if (ws_list_dir_suffix(o->rule_files[i], NULL, ".xml", files, n,
						       &alloc) < 0)
					return ws_error_hint(err, ws_error_set_errno(err, WS_E_RULES,
						errno, o->rule_files[i], "cannot read the folder"),
						WS_INPUT_RULES, WS_HINT_NONE);
				if (*n == before)
					return ws_error_hint(err, ws_error_set(err, WS_E_RULES,
						o->rule_files[i], "no .xml files in this folder"),
						WS_INPUT_RULES, WS_HINT_NONE);
			} else {
				WS_ALLOC_GROW(*files, *n + 1, alloc);
				(*files)[(*n)++] = ws_xstrdup(o->rule_files[i]);
			}
		}
		return WS_OK;
	}
	if (!si->n_rule_files)
		return WS_OK; /* the scan names no rule files: nothing to evaluate */
	if (!dir)
		dir = own = rule_default_dir(NULL);
	for (size_t i = 0; i < si->n_rule_files; i++) {
		const char *b = base_of(si->rule_files[i]);
		struct ws_buf p = WS_BUF_INIT;
		int found = 0;

		if (dir && *b) {
			ws_path_join(&p, dir, b);
			found = ws_path_exists(p.buf);
		}
		if (!found && ws_path_exists(si->rule_files[i])) {
			ws_buf_reset(&p);
			ws_buf_adds(&p, si->rule_files[i]);
			found = 1;
		}
		if (found) {
			WS_ALLOC_GROW(*files, *n + 1, alloc);
			(*files)[(*n)++] = ws_buf_detach(&p, NULL);
		} else {
			missing = 1;
			ws_logf(r->log, WS_LOG_WARN, si->rule_files[i],
				"rule file of the scan not found (looked in %s): using the "
				"shipped rule files for the LoadState rules", dir ? dir : "-");
		}
		ws_buf_release(&p);
	}
	if (missing) {
		char *shipped = rule_default_dir(NULL);

		for (size_t i = 0; i < *n; i++)
			free((*files)[i]);
		*n = 0;
		if (!shipped || ws_list_dir_suffix(shipped, "winstate-", ".xml", files, n,
						   &alloc) < 0)
			ws_logf(r->log, WS_LOG_WARN, NULL, "%s",
				"no shipped rule files either: merge, locationModify, "
				"contentModify and destinationCleanup rules are not applied");
		free(shipped);
	}
	free(own);
	return WS_OK;
}

int arules_new(struct vol *vol, struct store_catalog *cat, const struct apply_opts *o,
	       struct arules **out, struct ws_error *err)
{
	struct arules *r = ws_xcalloc(1, sizeof(*r));
	char **files = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	r->vol = vol;
	r->cat = cat;
	r->o = o;
	r->log = o->log;
	if ((rc = pick_files(r, &files, &n, err)))
		goto out;
	if (n)
		r->rs = rule_set_new();
	for (size_t i = 0; i < n; i++) {
		struct ws_error e;

		ws_error_clear(&e);
		if ((rc = rule_set_load_file(r->rs, files[i], r->log, &e))) {
			if (o->n_rule_files) {
				*err = e;
				goto out;
			}
			/* the scan's or shipped files: a warning, the others still count */
			{
				char b[2300];

				ws_logf(r->log, WS_LOG_WARN, files[i], "rule file not used at apply: %s",
					ws_error_format(&e, b, sizeof(b)));
			}
			rc = WS_OK;
		}
	}
out:
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	if (rc) {
		arules_free(r);
		return rc;
	}
	*out = r;
	return WS_OK;
}

/* Compile one context's selection from the target's variables. */
static int add_ctx(struct arules *r, uint32_t user, const struct vol_profile *p,
		   const struct vol_vars *vars, struct ws_error *err)
{
	struct ar_ctx *c;
	struct rule_sel_opts so = { 0 };
	struct rule_vol_opts vo = { p, NULL, NULL };
	int rc;

	WS_ALLOC_GROW(r->v, r->n + 1, r->alloc);
	c = &r->v[r->n];
	memset(c, 0, sizeof(*c));
	c->user = user;
	c->env = rule_env_from_vars(vars);
	for (size_t i = 0; i < vars->n; i++) {
		const char *nm = vars->v[i].name, *val = vars->v[i].value;

		if (val && val[0] && val[1] == ':' &&
		    (!strncasecmp(nm, "CSIDL_", 6) || !strncasecmp(nm, "FOLDERID_", 9) ||
		     !strcasecmp(nm, "USERPROFILE") || !strcasecmp(nm, "APPDATA") ||
		     !strcasecmp(nm, "LOCALAPPDATA"))) {
			c->roots = ws_xrealloc(c->roots, (c->nroots + 1) * sizeof(*c->roots));
			c->roots[c->nroots++] = ws_xstrdup(val);
		}
	}
	so.context = user == STORE_SYSTEM ? RULE_CTX_SYSTEM : RULE_CTX_USER;
	so.env = c->env;
	so.log = r->log;
	so.current_user = -1;
	/* LoadState ignores <detects>: every component of the store counts as
	 * found on the destination (conditions of <rules> still evaluate) */
	so.ignore_detection = 1;
	r->n++;
	rc = rule_sel_new_vol(r->rs, r->vol, &vo, &so, &c->vp, &c->sel, err);
	if (!rc) {
		c->file_never_restore = rule_sel_never_restores(c->sel, RULE_FILE);
		c->file_moves = rule_sel_pattern_count(c->sel, RULE_LOCATION_MODIFY) > 0;
	}
	return rc;
}

int arules_user(struct arules *r, uint32_t user, const struct vol_profile *p,
		const char *win_path, const char *sid, const char *account,
		struct ws_error *err)
{
	struct vol_vars vars = VOL_VARS_INIT;
	int rc;

	if (!r || !r->rs)
		return WS_OK;
	if (user == STORE_SYSTEM) {
		rc = vol_system_vars(r->vol, &vars, err);
		if (!rc)
			rc = add_ctx(r, user, NULL, &vars, err);
		vol_vars_release(&vars);
		return rc;
	}
	if (!p) {
		/* a staged user: the profile Windows will make at first sign-in,
		 * whose known folders are the defaults */
		struct vol_profile st;

		memset(&st, 0, sizeof(st));
		st.win_path = win_path;
		st.sid = sid ? sid : "";
		st.account = account ? account : "";
		st.kind = VOL_PROFILE_USER;
		if ((rc = vol_user_vars(r->vol, &st, &vars, err))) {
			vol_vars_release(&vars);
			return rc;
		}
		rc = add_ctx(r, user, NULL, &vars, err);
		vol_vars_release(&vars);
		return rc;
	}
	rc = vol_user_vars(r->vol, p, &vars, err);
	if (!rc)
		rc = add_ctx(r, user, p, &vars, err);
	vol_vars_release(&vars);
	return rc;
}

void arules_release_hives(struct arules *r)
{
	for (size_t i = 0; r && i < r->n; i++)
		rule_vprobe_release_hives(r->v[i].vp);
}

void arules_free(struct arules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		struct ar_ctx *c = &r->v[i];

		rule_sel_free(c->sel);
		rule_vprobe_free(c->vp);
		rule_env_free(c->env);
		for (size_t k = 0; k < c->nroots; k++)
			free(c->roots[k]);
		free(c->roots);
	}
	free(r->v);
	for (size_t i = 0; i < r->ncleaned; i++)
		free(r->cleaned[i]);
	free(r->cleaned);
	for (size_t i = 0; i < r->nwarned; i++)
		free(r->warned[i]);
	free(r->warned);
	rule_set_free(r->rs);
	free(r);
}

static struct ar_ctx *ctx_of(struct arules *r, uint32_t user)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].user == user && r->v[i].sel)
			return &r->v[i];
	return NULL;
}

/* "Fn(...) at file:line" of a rule, for reasons. */
static void rule_where(const struct rule_action *h, const char *kind, struct ws_buf *out)
{
	ws_buf_addf(out, "%s %s at %s:%ld", kind, h->script, h->file, h->line);
}

/* A rule that cannot be applied: warn once per rule, report per object. */
static void unsupported(struct arules *r, const struct rule_action *h, const char *kind,
			const char *why, const char *uname, const char *obj,
			struct apply_counts *c)
{
	struct ws_buf where = WS_BUF_INIT, reason = WS_BUF_INIT;
	size_t i;

	ws_buf_addf(&where, "%s:%ld", h->file, h->line);
	for (i = 0; i < r->nwarned && strcmp(r->warned[i], where.buf); i++)
		;
	if (i == r->nwarned) {
		WS_ALLOC_GROW(r->warned, r->nwarned + 1, r->awarned);
		r->warned[r->nwarned++] = ws_xstrdup(where.buf);
		ws_logf(r->log, WS_LOG_WARN, where.buf, "%s rule %s not applied: %s; its "
			"objects keep the default behaviour", kind, h->script, why);
	}
	ws_buf_addf(&reason, "%s %s at %s not applied: %s (default behaviour kept)", kind,
		    h->script, where.buf, why);
	c->rules_unsupported++;
	act(r, APPLY_RULE_UNSUPPORTED, uname, obj, NULL, reason.buf);
	ws_buf_release(&where);
	ws_buf_release(&reason);
}

/* Parse the rule's script with the context's variables. */
static int parse_hit(struct ar_ctx *x, const struct rule_action *h, struct rule_ls_call *c,
		     struct ws_buf *why)
{
	return rule_ls_parse(h->script, x->env, c, why);
}

/* ---- registry values --------------------------------------------------- */

void arules_val_init(struct arules_val *av)
{
	memset(av, 0, sizeof(*av));
	ws_buf_init(&av->key);
	ws_buf_init(&av->name);
}

void arules_val_release(struct arules_val *av)
{
	ws_buf_release(&av->key);
	ws_buf_release(&av->name);
	memset(av, 0, sizeof(*av));
}

int arules_value_pre(struct arules *r, const struct store_value *v, struct arules_val *av,
		     const char *uname, const char *obj, struct apply_counts *c)
{
	struct ar_ctx *x = ctx_of(r, v->user);
	struct rule_decision d;
	struct rule_action h;

	av->v = *v;
	av->src_key = v->key;
	av->src_name = v->name;
	av->set = 1;
	if (!x)
		return 0;
	if (rule_sel_reg(x->sel, v->key, v->name, &d) == 1 && d.kind == RULE_INCLUDE &&
	    d.never_restore) {
		char why[1400];

		snprintf(why, sizeof(why), "NeverRestore(): captured but never restored "
			 "(include at %s:%ld)", d.file, d.line);
		c->values_dropped++;
		act(r, APPLY_REG_DROPPED, uname, obj, NULL, why);
		return 1;
	}
	if (rule_sel_action(x->sel, RULE_LOCATION_MODIFY, RULE_REGISTRY, v->key, v->name, &h)) {
		struct rule_ls_call call;
		struct ws_buf why = WS_BUF_INIT, nk = WS_BUF_INIT, nn = WS_BUF_INIT;
		int k = parse_hit(x, &h, &call, &why);

		if (k == 0)
			k = rule_ls_location(&call, RULE_REGISTRY, v->key, v->name, NULL, 0, &nk,
					     &nn, &why);
		if (k < 0) {
			unsupported(r, &h, "locationModify", why.buf, uname, obj, c);
		} else if (k == 1) {
			struct ws_buf t = WS_BUF_INIT, reason = WS_BUF_INIT;

			ws_buf_reset(&av->key);
			ws_buf_adds(&av->key, nk.buf);
			ws_buf_reset(&av->name);
			ws_buf_adds(&av->name, nn.buf ? nn.buf : "");
			av->v.key = av->key.buf;
			av->v.name = av->name.buf;
			ws_buf_addf(&t, "%s [%s]", av->v.key, av->v.name);
			rule_where(&h, "locationModify", &reason);
			c->objects_moved++;
			act(r, APPLY_RULE_MOVE, uname, obj, t.buf, reason.buf);
			ws_buf_release(&t);
			ws_buf_release(&reason);
		}
		rule_ls_call_release(&call);
		ws_buf_release(&why);
		ws_buf_release(&nk);
		ws_buf_release(&nn);
	}
	return 0;
}

void arules_value_content(struct arules *r, struct arules_val *av, uint32_t *type,
			  const unsigned char **data, size_t *len, const struct reg_value *cur,
			  struct ws_buf *store, const char *uname, const char *obj,
			  struct apply_counts *c)
{
	struct ar_ctx *x = av->set ? ctx_of(r, av->v.user) : NULL;
	struct rule_action h;
	struct rule_ls_call call;
	struct ws_buf why = WS_BUF_INIT, out = WS_BUF_INIT;
	struct rule_ls_value src = { *type, *data, *len }, dst;
	uint32_t nt = *type;
	int k;

	if (!x || !rule_sel_action(x->sel, RULE_CONTENT_MODIFY, RULE_REGISTRY, av->src_key,
				   av->src_name, &h))
		return;
	if (cur) {
		dst.type = cur->type;
		dst.data = cur->data;
		dst.len = cur->len;
	}
	k = parse_hit(x, &h, &call, &why);
	if (k == 0)
		k = rule_ls_content(&call, &src, cur ? &dst : NULL, &nt, &out, &why);
	if (k < 0) {
		unsupported(r, &h, "contentModify", why.buf, uname, obj, c);
	} else if (k == 1) {
		struct ws_buf reason = WS_BUF_INIT;

		ws_buf_reset(store);
		ws_buf_add(store, out.buf ? out.buf : "", out.len);
		*type = nt;
		*data = (const unsigned char *)store->buf;
		*len = out.len;
		rule_where(&h, "contentModify", &reason);
		ws_buf_addf(&reason, ": now %s, %zu bytes", reg_type_name(nt), out.len);
		c->values_modified++;
		act(r, APPLY_RULE_CONTENT, uname, obj, NULL, reason.buf);
		ws_buf_release(&reason);
	}
	rule_ls_call_release(&call);
	ws_buf_release(&why);
	ws_buf_release(&out);
}

int arules_value_merge(struct arules *r, struct arules_val *av, uint32_t type,
		       const unsigned char *data, size_t len, const struct reg_value *cur,
		       const char *uname, const char *obj, struct apply_counts *c)
{
	struct ar_ctx *x = av->set ? ctx_of(r, av->v.user) : NULL;
	struct rule_action h;
	struct rule_ls_call call;
	struct ws_buf why = WS_BUF_INIT;
	struct rule_ls_value sv = { type, data, len }, dv = { cur->type, cur->data, cur->len };
	struct rule_ls_side ss = { &sv, NULL, 0 }, ds = { &dv, NULL, 0 };
	int k, keep = 0;

	if (!x || !rule_sel_action(x->sel, RULE_MERGE, RULE_REGISTRY, av->v.key, av->v.name, &h))
		return 0;
	k = parse_hit(x, &h, &call, &why);
	if (k == 0)
		k = rule_ls_merge(&call, RULE_REGISTRY, &ss, &ds, &why);
	if (k < 0) {
		unsupported(r, &h, "merge", why.buf, uname, obj, c);
	} else if (k == RULE_LS_DESTINATION) {
		struct ws_buf reason = WS_BUF_INIT;

		rule_where(&h, "merge", &reason);
		ws_buf_adds(&reason, ": the target's value is kept");
		c->values_kept++;
		act(r, APPLY_REG_KEEP, uname, obj, NULL, reason.buf);
		ws_buf_release(&reason);
		keep = 1;
	}
	rule_ls_call_release(&call);
	ws_buf_release(&why);
	return keep;
}

void arules_value_merge_staged(struct arules *r, struct arules_val *av, const char *uname,
			       const char *obj, struct apply_counts *c)
{
	struct ar_ctx *x = av->set ? ctx_of(r, av->v.user) : NULL;
	struct rule_action h;
	struct rule_ls_call call;
	struct ws_buf why = WS_BUF_INIT;
	int k;

	if (!x || !rule_sel_action(x->sel, RULE_MERGE, RULE_REGISTRY, av->v.key, av->v.name, &h))
		return;
	k = parse_hit(x, &h, &call, &why);
	/* reg import replaces what the new profile holds: SourcePriority */
	if (k == 0 && !(call.fn && !strcasecmp(call.fn, "SourcePriority")))
		ws_buf_addf(&why, "the first-sign-in script's reg import cannot carry out %s() "
			    "(the source's value replaces the new profile's)", call.fn ? call.fn : "?");
	if (why.len)
		unsupported(r, &h, "merge", why.buf, uname, obj, c);
	rule_ls_call_release(&call);
	ws_buf_release(&why);
}

/* ---- files ------------------------------------------------------------- */

static void split_path(const char *p, struct ws_buf *node, const char **leaf)
{
	const char *bs = strrchr(p, '\\');

	ws_buf_reset(node);
	if (!bs) {
		ws_buf_adds(node, p);
		*leaf = "";
		return;
	}
	ws_buf_add(node, p, (size_t)(bs - p));
	*leaf = bs + 1;
}

int arules_file_pre(struct arules *r, const struct store_file *f, struct ws_buf *tpath,
		    const char *uname, struct apply_counts *c)
{
	struct ar_ctx *x = ctx_of(r, f->user);
	struct ws_buf node = WS_BUF_INIT;
	struct rule_decision d;
	struct rule_action h;
	const char *leaf = NULL;
	int is_dir = (f->flags & STORE_FILE_DIR) != 0, found, rc = 0;

	if (!x)
		return 0;
	if (!is_dir && x->file_never_restore && rule_sel_file(x->sel, tpath->buf, &d) == 1 &&
	    d.kind == RULE_INCLUDE && d.never_restore) {
		char why[1400];

		snprintf(why, sizeof(why), "NeverRestore(): captured but never restored "
			 "(include at %s:%ld)", d.file, d.line);
		c->files_dropped++;
		act(r, APPLY_FILE_DROPPED, uname, f->path, NULL, why);
		return 1;
	}
	if (!x->file_moves) {
		found = 0;   /* no locationModify at all: nothing to look up */
	} else if (is_dir) {
		/* a folder moves with the files directly in it */
		ws_buf_adds(&node, tpath->buf);
		leaf = NULL;
		found = rule_sel_action(x->sel, RULE_LOCATION_MODIFY, RULE_FILE, node.buf, NULL, &h) ||
			rule_sel_action(x->sel, RULE_LOCATION_MODIFY, RULE_FILE, node.buf, "", &h);
	} else {
		split_path(tpath->buf, &node, &leaf);
		found = rule_sel_action(x->sel, RULE_LOCATION_MODIFY, RULE_FILE, node.buf, leaf, &h);
	}
	if (found) {
		struct rule_ls_call call;
		struct ws_buf why = WS_BUF_INIT, nn = WS_BUF_INIT, nl = WS_BUF_INIT;
		int k = parse_hit(x, &h, &call, &why);

		if (k == 0)
			k = rule_ls_location(&call, RULE_FILE, node.buf, leaf,
					     (const char *const *)x->roots, x->nroots, &nn, &nl, &why);
		if (k < 0) {
			unsupported(r, &h, "locationModify", why.buf, uname, f->path, c);
		} else if (k == 1) {
			struct ws_buf reason = WS_BUF_INIT;

			ws_buf_reset(tpath);
			ws_buf_adds(tpath, nn.buf);
			if (leaf) {
				ws_buf_addch(tpath, '\\');
				ws_buf_adds(tpath, nl.buf ? nl.buf : "");
			}
			rule_where(&h, "locationModify", &reason);
			c->objects_moved++;
			act(r, APPLY_RULE_MOVE, uname, f->path, tpath->buf, reason.buf);
			ws_buf_release(&reason);
		}
		rule_ls_call_release(&call);
		ws_buf_release(&why);
		ws_buf_release(&nn);
		ws_buf_release(&nl);
	}
	ws_buf_release(&node);
	return rc;
}

struct vread {
	struct ws_buf *b;
};

static int vread_cb(void *ctx, const void *data, size_t len)
{
	struct vread *v = ctx;

	if (v->b->len + len > AR_VERSION_MAX)
		return 1;
	ws_buf_add(v->b, data, len);
	return 0;
}

/* Version resource of the stored file and of the target's (host). */
static void versions(struct arules *r, const struct store_file *f, const char *host,
		     const char *tag, struct ws_buf *sv, struct ws_buf *dv)
{
	struct ws_buf data = WS_BUF_INIT;
	struct vread v = { &data };
	struct ws_error e;

	ws_error_clear(&e);
	store_catalog_read_file_cb(r->cat, f, vread_cb, &v, &e);
	rule_file_version((const unsigned char *)data.buf, data.len, tag, sv);
	ws_buf_reset(&data);
	if (ws_read_file(host, AR_VERSION_MAX, &data, &e) == WS_OK)
		rule_file_version((const unsigned char *)data.buf, data.len, tag, dv);
	ws_buf_release(&data);
}

int arules_file_merge(struct arules *r, const struct store_file *f, const char *win,
		      const char *host, int *conflict, char **place, struct ws_buf *reason,
		      const char *uname, struct apply_counts *c)
{
	struct ar_ctx *x = ctx_of(r, f->user);
	struct ws_buf node = WS_BUF_INIT, why = WS_BUF_INIT, sv = WS_BUF_INIT, dv = WS_BUF_INIT;
	struct rule_action h;
	struct rule_ls_call call;
	const char *leaf;
	int k, decided = 0;

	*place = NULL;
	if (!x)
		return 0;
	split_path(win, &node, &leaf);
	if (!rule_sel_action(x->sel, RULE_MERGE, RULE_FILE, node.buf, leaf, &h)) {
		ws_buf_release(&node);
		return 0;
	}
	k = parse_hit(x, &h, &call, &why);
	if (k == 0) {
		struct rule_ls_side ss = { NULL, NULL, f->written_ft }, ds = { NULL, NULL, 0 };
		struct stat st;

		if (call.fn && !strcasecmp(call.fn, "NewestVersion") && call.nargs && call.args[0]) {
			versions(r, f, host, call.args[0], &sv, &dv);
			ss.version = sv.buf;
			ds.version = dv.buf;
		}
		if (lstat(host, &st) == 0)
			ds.time = ws_filetime_from_unix_ns((int64_t)st.st_mtim.tv_sec * 1000000000 +
							 st.st_mtim.tv_nsec);
		k = rule_ls_merge(&call, RULE_FILE, &ss, &ds, &why);
	}
	if (k < 0) {
		unsupported(r, &h, "merge", why.buf, uname, f->path, c);
	} else {
		decided = 1;
		rule_where(&h, "merge", reason);
		if (k == RULE_LS_SOURCE) {
			*conflict = APPLY_CONFLICT_SOURCE;
			ws_buf_adds(reason, ": the source's file replaces the target's");
		} else if (k == RULE_LS_DESTINATION) {
			*conflict = APPLY_CONFLICT_DESTINATION;
			ws_buf_adds(reason, ": the target's file is kept");
		} else {
			*conflict = APPLY_CONFLICT_RENAME;
			*place = ws_xstrdup(call.args[0]);
		}
	}
	rule_ls_call_release(&call);
	ws_buf_release(&node);
	ws_buf_release(&why);
	ws_buf_release(&sv);
	ws_buf_release(&dv);
	return decided;
}

int arules_file_merge_staged(struct arules *r, const struct store_file *f, const char *win,
			     struct ws_buf *reason, const char *uname, struct apply_counts *c)
{
	struct ar_ctx *x = ctx_of(r, f->user);
	struct ws_buf node = WS_BUF_INIT, why = WS_BUF_INIT;
	struct rule_action h;
	struct rule_ls_call call;
	const char *leaf;
	int k, policy = ARULES_STAGE_DEFAULT;

	if (!x || (f->flags & STORE_FILE_DIR))
		return policy;
	split_path(win, &node, &leaf);
	if (!rule_sel_action(x->sel, RULE_MERGE, RULE_FILE, node.buf, leaf, &h)) {
		ws_buf_release(&node);
		return policy;
	}
	k = parse_hit(x, &h, &call, &why);
	if (k == 0 && call.fn && !strcasecmp(call.fn, "SourcePriority")) {
		policy = ARULES_STAGE_OVERWRITE;
		rule_where(&h, "merge", reason);
		ws_buf_adds(reason, ": at first sign-in the source's file replaces one already there");
	} else if (k == 0 && call.fn && !strcasecmp(call.fn, "DestinationPriority")) {
		policy = ARULES_STAGE_KEEP;
		rule_where(&h, "merge", reason);
		ws_buf_adds(reason, ": at first sign-in a file already there is kept");
	} else {
		/* the script compares hashes only: versions, times and
		 * FindFilePlaceByPattern names are out of its reach */
		if (k == 0)
			ws_buf_addf(&why, "the first-sign-in script cannot carry out %s() "
				    "(a collision there gets name(1).ext)", call.fn ? call.fn : "?");
		unsupported(r, &h, "merge", why.buf, uname, f->path, c);
	}
	rule_ls_call_release(&call);
	ws_buf_release(&node);
	ws_buf_release(&why);
	return policy;
}

int arules_cleaned(const struct arules *r, const char *host)
{
	for (size_t i = 0; r && i < r->ncleaned; i++)
		if (!strcmp(r->cleaned[i], host))
			return 1;
	return 0;
}

/* ---- destinationCleanup ------------------------------------------------- */

struct reg_del {
	reg_node key;
	char *path;              /* "HKCU\\X" */
	char *name;              /* NULL: the key itself */
};

struct clean_walk {
	struct rule_pattern *p;
	const char *root;        /* live path of the walk's start, "HKCU\\X" */
	struct reg_del *v;
	size_t n, alloc;
	int has_leaf;
};

static int reg_clean_cb(void *ctx, struct reg_hive *h, reg_node key, const char *path,
			unsigned depth, const struct reg_value *vals, size_t n,
			struct ws_error *err)
{
	struct clean_walk *w = ctx;
	struct ws_buf live = WS_BUF_INIT;
	(void)h;
	(void)depth;
	(void)err;

	ws_buf_adds(&live, w->root);
	if (*path) {
		ws_buf_addch(&live, '\\');
		ws_buf_adds(&live, path);
	}
	if (!w->has_leaf) {
		if (*path && rule_pattern_match(w->p, live.buf, NULL) == 1) {
			WS_ALLOC_GROW(w->v, w->n + 1, w->alloc);
			w->v[w->n].key = key;
			w->v[w->n].path = ws_buf_detach(&live, NULL);
			w->v[w->n++].name = NULL;
			return REG_WALK_SKIP; /* the whole subtree goes */
		}
	} else {
		for (size_t i = 0; i < n && w->n < AR_CLEAN_MAX; i++)
			if (rule_pattern_match(w->p, live.buf, vals[i].name) == 1) {
				WS_ALLOC_GROW(w->v, w->n + 1, w->alloc);
				w->v[w->n].key = key;
				w->v[w->n].path = ws_xstrdup(live.buf);
				w->v[w->n++].name = ws_xstrdup(vals[i].name);
			}
	}
	ws_buf_release(&live);
	return w->n >= AR_CLEAN_MAX ? REG_WALK_SKIP : WS_OK;
}

static int clean_reg(struct arules *r, struct ar_ctx *x, struct rule_pattern *p,
		     const char *uname, struct apply_counts *c, arules_hive_fn hive, void *hctx,
		     struct ws_error *err)
{
	const char *root = rule_pattern_root(p);
	struct clean_walk w = { p, root, NULL, 0, 0, 0 };
	struct ws_buf inner = WS_BUF_INIT, tmp = WS_BUF_INIT;
	struct reg_hive *h = NULL;
	reg_node start = 0;
	int rc;

	{
		struct ws_buf n = WS_BUF_INIT, l = WS_BUF_INIT;

		rule_location_split(rule_pattern_text(p), RULE_REGISTRY, &n, &l, &w.has_leaf);
		ws_buf_release(&n);
		ws_buf_release(&l);
	}
	if ((rc = hive(hctx, x->user, root, &h, &inner, err)) || !h)
		goto out;
	if ((rc = reg_key_lookup(h, reg_root(h), inner.buf, &start, err)) || !start)
		goto out;
	if ((rc = reg_walk(h, start, 0, w.has_leaf ? REG_WALK_VALUES : 0, reg_clean_cb, &w, err)))
		goto out;
	for (size_t i = 0; i < w.n; i++) {
		struct rule_action ha;
		struct ws_buf obj = WS_BUF_INIT, reason = WS_BUF_INIT;

		if (w.v[i].name)
			ws_buf_addf(&obj, "%s [%s]", w.v[i].path, w.v[i].name);
		else
			ws_buf_adds(&obj, w.v[i].path);
		if (rule_sel_action(x->sel, RULE_DESTINATION_CLEANUP, RULE_REGISTRY, w.v[i].path,
				    w.v[i].name, &ha))
			ws_buf_addf(&reason, "destinationCleanup at %s:%ld", ha.file, ha.line);
		else
			ws_buf_addf(&reason, "destinationCleanup %s", rule_pattern_text(p));
		ws_buf_adds(&reason, r->o->dry_run ? ": would be deleted before apply" :
			    ": deleted before apply (undo restores it)");
		if (!r->o->dry_run) {
			if (w.v[i].name)
				rc = reg_value_delete(h, w.v[i].key, w.v[i].name, err);
			else
				rc = reg_key_delete(h, w.v[i].key, err);
		}
		if (!rc) {
			c->objects_cleaned++;
			act(r, APPLY_RULE_CLEANUP, uname, obj.buf, NULL, reason.buf);
		}
		ws_buf_release(&obj);
		ws_buf_release(&reason);
		if (rc)
			break;
	}
out:
	for (size_t i = 0; i < w.n; i++) {
		free(w.v[i].path);
		free(w.v[i].name);
	}
	free(w.v);
	ws_buf_release(&inner);
	ws_buf_release(&tmp);
	return rc;
}

struct file_del {
	char *host, *win;
};

/* Regular files under host folder `dir` (Windows path `win`) matching p. */
static void walk_files(const char *dir, const char *win, unsigned depth,
		       struct rule_pattern *p, struct file_del **v, size_t *n, size_t *alloc)
{
	DIR *d;
	struct dirent *de;

	if (depth > AR_CLEAN_DEPTH || *n >= AR_CLEAN_MAX || !(d = opendir(dir)))
		return;
	while ((de = readdir(d)) && *n < AR_CLEAN_MAX) {
		struct ws_buf h = WS_BUF_INIT, w = WS_BUF_INIT;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ws_buf_addf(&h, "%s/%s", dir, de->d_name);
		ws_buf_addf(&w, "%s\\%s", win, de->d_name);
		if (lstat(h.buf, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				if (rule_pattern_may_match_below(p, w.buf) == 1)
					walk_files(h.buf, w.buf, depth + 1, p, v, n, alloc);
			} else if (S_ISREG(st.st_mode) &&
				   rule_pattern_match(p, win, de->d_name) == 1) {
				WS_ALLOC_GROW(*v, *n + 1, *alloc);
				(*v)[*n].host = ws_buf_detach(&h, NULL);
				(*v)[(*n)++].win = ws_buf_detach(&w, NULL);
			}
		}
		ws_buf_release(&h);
		ws_buf_release(&w);
	}
	closedir(d);
}

static int file_del_cmp(const void *a, const void *b)
{
	return strcmp(((const struct file_del *)a)->host, ((const struct file_del *)b)->host);
}

static int clean_files(struct arules *r, struct ar_ctx *x, struct rule_pattern *p,
		       struct aj *j, const char *uname, struct apply_counts *c,
		       struct ws_error *err)
{
	const char *root = rule_pattern_root(p);
	struct ws_buf host = WS_BUF_INIT;
	struct file_del *v = NULL;
	size_t n = 0, alloc = 0;
	enum vol_res res;
	int rc;

	if ((rc = vol_resolve(r->vol, root, &host, &res, err)))
		goto out;
	if (res != VOL_RES_FOUND)
		goto out; /* nothing there, or behind a link / off the volume */
	walk_files(host.buf, root, 0, p, &v, &n, &alloc);
	if (n > 1)
		qsort(v, n, sizeof(*v), file_del_cmp);
	for (size_t i = 0; i < n; i++) {
		struct rule_action ha;
		struct ws_buf node = WS_BUF_INIT, reason = WS_BUF_INIT;
		const char *leaf;

		if (arules_cleaned(r, v[i].host))
			continue;
		if (r->pf && (leaf = apf_refusal(r->pf, v[i].win))) {
			ws_buf_addf(&reason, "destinationCleanup %s: not deleted: %s",
				    rule_pattern_text(p), leaf);
			c->rules_unsupported++;
			act(r, APPLY_RULE_UNSUPPORTED, uname, v[i].win, NULL, reason.buf);
			ws_buf_release(&reason);
			continue;
		}
		split_path(v[i].win, &node, &leaf);
		if (rule_sel_action(x->sel, RULE_DESTINATION_CLEANUP, RULE_FILE, node.buf, leaf, &ha))
			ws_buf_addf(&reason, "destinationCleanup at %s:%ld", ha.file, ha.line);
		else
			ws_buf_addf(&reason, "destinationCleanup %s", rule_pattern_text(p));
		ws_buf_adds(&reason, r->o->dry_run ? ": would be deleted before apply" :
			    ": deleted before apply (undo restores it)");
		if (!r->o->dry_run) {
			/* saved in the journal first: undo puts it back */
			if ((rc = aj_remove(j, v[i].host, err)))
				ws_error_prefix(err, "destinationCleanup");
		}
		if (!rc) {
			WS_ALLOC_GROW(r->cleaned, r->ncleaned + 1, r->acleaned);
			r->cleaned[r->ncleaned++] = ws_xstrdup(v[i].host);
			c->objects_cleaned++;
			act(r, APPLY_RULE_CLEANUP, uname, v[i].win, NULL, reason.buf);
		}
		ws_buf_release(&node);
		ws_buf_release(&reason);
		if (rc)
			break;
	}
out:
	for (size_t i = 0; i < n; i++) {
		free(v[i].host);
		free(v[i].win);
	}
	free(v);
	ws_buf_release(&host);
	return rc;
}

void arules_off_limits(struct arules *r, const struct apf *pf)
{
	if (r)
		r->pf = pf;
}

int arules_cleanup(struct arules *r, uint32_t user, struct aj *j, const char *uname,
		   struct apply_counts *c, arules_hive_fn hive, void *hctx,
		   struct ws_error *err)
{
	struct ar_ctx *x = ctx_of(r, user);
	size_t n;
	int rc = WS_OK;

	if (!x)
		return WS_OK;
	n = rule_sel_pattern_count(x->sel, RULE_DESTINATION_CLEANUP);
	for (size_t i = 0; !rc && i < n; i++) {
		int type = -1;
		const char *text = rule_sel_pattern_text(x->sel, RULE_DESTINATION_CLEANUP, i, &type);
		struct rule_pattern *p;
		struct ws_error e;

		ws_error_clear(&e);
		if (!text || rule_pattern_compile(text, type, &p, &e))
			continue; /* compiled once already: cannot fail here */
		if (type == RULE_REGISTRY)
			rc = clean_reg(r, x, p, uname, c, hive, hctx, err);
		else if (type == RULE_FILE)
			rc = clean_files(r, x, p, j, uname, c, err);
		rule_pattern_free(p);
	}
	return rc;
}

void arules_cleanup_staged(struct arules *r, uint32_t user, const char *uname,
			   struct apply_counts *c)
{
	struct ar_ctx *x = ctx_of(r, user);
	size_t n = x ? rule_sel_pattern_count(x->sel, RULE_DESTINATION_CLEANUP) : 0;

	for (size_t i = 0; i < n; i++) {
		int type = -1;
		const char *text = rule_sel_pattern_text(x->sel, RULE_DESTINATION_CLEANUP, i, &type);

		if (!text)
			continue;
		c->rules_unsupported++;
		act(r, APPLY_RULE_UNSUPPORTED, uname, text, NULL,
		    "destinationCleanup not carried out for a user staged for first sign-in: "
		    "the profile does not exist yet (Windows makes it from the Default profile "
		    "at sign-in)");
	}
	if (n)
		ws_logf(r->log, WS_LOG_WARN, uname, "%zu destinationCleanup pattern(s) not "
			"carried out: the user is staged for first sign-in", n);
}

/* ---- addObjects ---------------------------------------------------------- */

int arules_add_objects(struct arules *r, int (*fn)(void *ctx, const struct store_value *v,
						    struct ws_error *err),
		       void *ctx, const char *(*uname_of)(void *ctx, uint32_t user),
		       struct apply_counts *(*counts_of)(void *ctx, uint32_t user),
		       struct ws_error *err)
{
	int rc = WS_OK;

	for (size_t i = 0; r && !rc && i < r->n; i++) {
		struct ar_ctx *x = &r->v[i];
		size_t n = x->sel ? rule_sel_add_object_count(x->sel) : 0;

		for (size_t k = 0; !rc && k < n; k++) {
			struct rule_add_object ao;
			struct ws_buf node = WS_BUF_INIT, leaf = WS_BUF_INIT, reason = WS_BUF_INIT;
			int has_leaf = 0;

			if (rule_sel_add_object(x->sel, k, &ao) != 0)
				continue;
			if (ao.type != RULE_REGISTRY ||
			    rule_location_split(ao.location, RULE_REGISTRY, &node, &leaf, &has_leaf) ||
			    !has_leaf) {
				struct rule_action h = { "addObjects", "addObjects", ao.location,
							 ao.file, ao.line, ao.component };

				unsupported(r, &h, "addObjects",
					    ao.type == RULE_REGISTRY ? "a registry object needs a value name in brackets" :
					    "file objects are not created at apply",
					    uname_of(ctx, x->user), ao.location, counts_of(ctx, x->user));
			} else {
				struct store_value v = { x->user, node.buf, leaf.buf ? leaf.buf : "",
							 ao.reg_type, ao.data, ao.len, UINT32_MAX };

				ws_buf_addf(&reason, "addObjects at %s:%ld: emulated as if captured",
					    ao.file, ao.line);
				act(r, APPLY_RULE_ADD, uname_of(ctx, x->user), ao.location, NULL,
				    reason.buf);
				rc = fn(ctx, &v, err);
			}
			ws_buf_release(&node);
			ws_buf_release(&leaf);
			ws_buf_release(&reason);
		}
	}
	return rc;
}
