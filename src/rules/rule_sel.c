/*
 * rule_sel.c - compiling a rule set for one context into a selection, and
 * deciding objects with USMT's precedence: per component the most specific
 * pattern wins (equal: exclude), components are independent, an
 * unconditionalExclude anywhere wins.  Also the walker's pruning question,
 * the roots, and the LoadState-side rule lookups.
 */
#include "rule_int.h"

#include <string.h>
#include <strings.h>

#include "util/ws_utf.h"

struct cpat {
	struct rule_pattern *p;
	int kind;
	size_t comp;
	const char *file;
	long line;
	char *filter;        /* filter= of the include/exclude, or NULL */
	int never_restore;
	char *script;        /* for actions: script=/attributes= text */
	char *function;
};

struct cpat_list {
	struct cpat *v;
	size_t n, alloc;
};

struct comp_sel {
	int state;
	char *reason;
	int includes;        /* include patterns compiled */
	struct rule_env *env;
};

struct rule_sel {
	const struct rule_set *rs;
	struct rule_sel_opts opts;
	struct cpat_list ie;                 /* include + exclude, grouped by component */
	struct cpat_list ux;                 /* unconditionalExclude */
	struct cpat_list act[RULE_KIND_COUNT]; /* merge ... excludeAttributes */
	struct comp_sel *cs;
	char **roots[3];
	size_t nroots[3];
	size_t total;
	int failed;
	struct ws_error *err;
};

const char *rule_kind_name(int kind)
{
	static const char *const names[RULE_KIND_COUNT] = {
		"include", "exclude", "unconditionalExclude", "merge", "locationModify",
		"contentModify", "destinationCleanup", "includeAttributes", "excludeAttributes"
	};
	return kind >= 0 && kind < RULE_KIND_COUNT ? names[kind] : "none";
}

static void where_of(const struct rule_node *n, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%ld", n->file->path, n->line);
}

/* Per-objectSet compile context. */
struct oset_ctx {
	struct rule_sel *sel;
	size_t comp;
	int kind;
	const struct rule_node *at;   /* element giving file:line */
	const char *filter;
	int never_restore;
	const char *script;
	struct rule_eval *ev;
};

static void add_pattern(struct oset_ctx *oc, int type, const char *text,
			const struct rule_node *at)
{
	struct rule_sel *sel = oc->sel;
	struct rule_pattern *p;
	struct ws_error perr;
	struct cpat_list *list;
	struct cpat *cp;
	char where[1200];

	if (sel->failed)
		return;
	ws_error_clear(&perr);
	where_of(at, where, sizeof(where));
	if (rule_pattern_compile(text, type, &p, &perr)) {
		ws_logf(sel->opts.log, WS_LOG_WARN, where, "pattern '%s' skipped: %s", text,
			perr.msg);
		return;
	}
	if (++sel->total > RULE_MAX_PATTERNS) {
		rule_pattern_free(p);
		sel->failed = 1;
		ws_error_set(sel->err, WS_E_RULES, at->file->path,
			     "more than %d patterns in one selection", RULE_MAX_PATTERNS);
		ws_error_at(sel->err, at->line, at->col);
		return;
	}
	list = oc->kind == RULE_INCLUDE || oc->kind == RULE_EXCLUDE ? &sel->ie :
	       oc->kind == RULE_UNCOND_EXCLUDE			  ? &sel->ux :
									    &sel->act[oc->kind];
	WS_ALLOC_GROW(list->v, list->n + 1, list->alloc);
	cp = &list->v[list->n++];
	memset(cp, 0, sizeof(*cp));
	cp->p = p;
	cp->kind = oc->kind;
	cp->comp = oc->comp;
	cp->file = at->file->path;
	cp->line = at->line;
	cp->filter = oc->filter ? ws_xstrdup(oc->filter) : NULL;
	cp->never_restore = oc->never_restore;
	if (oc->script) {
		struct rule_call c;

		cp->script = ws_xstrdup(oc->script);
		if (rule_call_parse(oc->script, &c) == 0) {
			cp->function = ws_xstrdup(c.fn);
			rule_call_release(&c);
		} else {
			cp->function = ws_xstrdup(oc->script);
		}
	}
	if (oc->kind == RULE_INCLUDE)
		sel->cs[oc->comp].includes++;
}

static void add_expanded(struct oset_ctx *oc, int type, const char *raw,
			 const struct rule_node *at)
{
	struct ws_buf b = WS_BUF_INIT;
	char missing[128], where[1200];

	if (rule_env_expand(oc->ev->env, raw, &b, missing, sizeof(missing)) < 0) {
		where_of(at, where, sizeof(where));
		ws_logf(oc->sel->opts.log, WS_LOG_WARN, where,
			"pattern '%s' skipped: variable %%%s%% is not set", raw, missing);
	} else {
		add_pattern(oc, type, b.buf, at);
	}
	ws_buf_release(&b);
}

static int pattern_type(const struct rule_node *n)
{
	const char *t = rule_attr(n, "type");

	if (t && !strcasecmp(t, "Registry"))
		return RULE_REGISTRY;
	if (t && !strcasecmp(t, "Ini"))
		return RULE_INI;
	return RULE_FILE;
}

struct gen_arg {
	struct oset_ctx *oc;
	const struct rule_node *at;
};

static void gen_add(void *arg, int type, const char *pattern)
{
	struct gen_arg *g = arg;

	add_pattern(g->oc, type, pattern, g->at);
}

/* Combined result of a condition tree: 1, 0, or -1 (error; reason in ev). */
static int eval_conditions(struct rule_sel *sel, struct rule_eval *ev,
			   const struct rule_node *n, int depth);

static int eval_condition_node(struct rule_sel *sel, struct rule_eval *ev,
			       const struct rule_node *k, int depth)
{
	int r;

	if (k->tag == T_CONDITIONS)
		return eval_conditions(sel, ev, k, depth + 1);
	r = rule_eval_condition(ev, k->text);
	if (r >= 0 && rule_parse_bool(rule_attr(k, "negation"), 0))
		r = !r;
	return r;
}

static int eval_conditions(struct rule_sel *sel, struct rule_eval *ev,
			   const struct rule_node *n, int depth)
{
	int is_or, any = 0, result;

	n = rule_resolve(sel->rs, n);
	if (!n || depth > RULE_MAX_DEPTH)
		return 1;
	is_or = rule_attr(n, "operation") && !strcasecmp(rule_attr(n, "operation"), "OR");
	result = is_or ? 0 : 1;
	for (const struct rule_node *k = n->first; k; k = k->next) {
		int r;

		if (k->tag != T_CONDITION && k->tag != T_CONDITIONS)
			continue;
		r = eval_condition_node(sel, ev, k, depth);
		if (r < 0)
			return -1;
		any = 1;
		if (is_or && r)
			return 1;
		if (!is_or && !r)
			return 0;
	}
	return any ? result : 1;
}

/* Separate <conditions>/<condition> children of `n` are AND-ed. */
static int eval_child_conditions(struct rule_sel *sel, struct rule_eval *ev,
				 const struct rule_node *n)
{
	for (const struct rule_node *k = n->first; k; k = k->next)
		if (k->tag == T_CONDITIONS || k->tag == T_CONDITION) {
			int r = eval_condition_node(sel, ev, k, 0);

			if (r <= 0)
				return r;
		}
	return 1;
}

/* <detect>: its conditions OR-ed. */
static int eval_detect(struct rule_sel *sel, struct rule_eval *ev, const struct rule_node *d)
{
	int any = 0;

	d = rule_resolve(sel->rs, d);
	if (!d)
		return 1;
	for (const struct rule_node *k = d->first; k; k = k->next) {
		int r;

		if (k->tag != T_CONDITION && k->tag != T_CONDITIONS)
			continue;
		any = 1;
		r = eval_condition_node(sel, ev, k, 0);
		if (r != 0)
			return r;
	}
	return any ? 0 : 1;
}

/* <detects>: AND of its <detect>s. */
static int eval_detects(struct rule_sel *sel, struct rule_eval *ev, const struct rule_node *d)
{
	d = rule_resolve(sel->rs, d);
	if (!d)
		return 1;
	for (const struct rule_node *k = d->first; k; k = k->next)
		if (k->tag == T_DETECT) {
			int r = eval_detect(sel, ev, k);

			if (r <= 0)
				return r;
		}
	return 1;
}

/* Role/rules level: several detects/detection are OR-ed; none = detected. */
static int eval_detection(struct rule_sel *sel, struct rule_eval *ev, const struct rule_node *n)
{
	int any = 0;

	for (const struct rule_node *k = n->first; k; k = k->next) {
		int r;

		if (k->tag == T_DETECTS)
			r = eval_detects(sel, ev, k);
		else if (k->tag == T_DETECTION) {
			const struct rule_node *d = rule_resolve(sel->rs, k);

			r = d ? eval_child_conditions(sel, ev, d) : 1;
		} else
			continue;
		any = 1;
		if (r != 0)
			return r;
	}
	return any ? 0 : 1;
}

static void comp_error(struct rule_sel *sel, size_t ci, const struct rule_node *at,
		       const char *why)
{
	char where[1200];

	where_of(at, where, sizeof(where));
	if (sel->cs[ci].state == RULE_COMP_ACTIVE) {
		sel->cs[ci].state = RULE_COMP_ERROR;
		free(sel->cs[ci].reason);
		sel->cs[ci].reason = ws_xasprintf("%s: %s", where, why);
	}
	ws_logf(sel->opts.log, WS_LOG_WARN, where, "component \"%s\" skipped: %s",
		sel->rs->comps[ci].name, why);
}

/* Registry content -> file patterns (ExtractSingleFile and friends). */
static void content_extract(struct oset_ctx *oc, const struct rule_node *content)
{
	struct rule_call c;
	const char *filter = rule_attr(content, "filter");
	int kind;

	if (!filter || rule_call_parse(filter, &c) < 0)
		return;
	kind = !strcasecmp(c.fn, "ExtractDirectory") ? 2 :
	       !strcasecmp(c.fn, "ExtractMultipleFiles") ? 1 : 0;
	for (const struct rule_node *os = content->first; os; os = os->next) {
		if (os->tag != T_OBJECTSET)
			continue;
		for (const struct rule_node *pt = os->first; pt; pt = pt->next) {
			struct ws_buf loc = WS_BUF_INIT, val = WS_BUF_INIT;

			if (pt->tag != T_PATTERN ||
			    rule_env_expand(oc->ev->env, pt->text, &loc, NULL, 0) < 0 ||
			    strchr(loc.buf, '*')) {
				ws_buf_release(&loc);
				continue;
			}
			if (rule_get_string_content(oc->ev, pattern_type(pt), loc.buf, &val) == 1) {
				const char *sep = c.nargs > 0 && c.args[0] && kind == 1 ? c.args[0] : NULL;
				char *s = val.buf;

				for (;;) {
					char *end = sep ? strpbrk(s, sep) : NULL;
					struct ws_buf path = WS_BUF_INIT, pat = WS_BUF_INIT;
					char *bs;

					ws_buf_add(&path, s, end ? (size_t)(end - s) : strlen(s));
					bs = strrchr(path.buf, '\\');
					if (path.len && bs) {
						*bs = 0;
						if (kind == 2)
							ws_buf_addf(&pat, "%s\\* [*]", path.buf);
						else
							ws_buf_addf(&pat, "%s [%s]", path.buf, bs + 1);
						/* brackets in the file name must not end the leaf */
						add_pattern(oc, RULE_FILE, pat.buf, pt);
					}
					ws_buf_release(&path);
					ws_buf_release(&pat);
					if (!end)
						break;
					s = end + 1;
				}
			}
			ws_buf_release(&loc);
			ws_buf_release(&val);
		}
	}
	rule_call_release(&c);
}

static void compile_objectset(struct oset_ctx *oc, const struct rule_node *os)
{
	int r = eval_child_conditions(oc->sel, oc->ev, os);

	if (r < 0) {
		comp_error(oc->sel, oc->comp, os, oc->ev->reason.buf);
		return;
	}
	if (!r)
		return; /* conditions FALSE: the set is empty */
	for (const struct rule_node *k = os->first; k; k = k->next) {
		if (k->tag == T_PATTERN) {
			add_expanded(oc, pattern_type(k), k->text, k);
		} else if (k->tag == T_SCRIPT) {
			struct gen_arg g = { oc, k };

			if (rule_eval_script(oc->ev, k->text, gen_add, &g) < 0)
				comp_error(oc->sel, oc->comp, k, oc->ev->reason.buf);
		} else if (k->tag == T_CONTENT) {
			if (oc->kind == RULE_INCLUDE)
				content_extract(oc, k);
		}
	}
}

static void compile_rule_elem(struct rule_sel *sel, struct rule_eval *ev, size_t ci,
			      const struct rule_node *el)
{
	struct oset_ctx oc = { sel, ci, 0, el, NULL, 0, NULL, ev };
	const char *filter = rule_attr(el, "filter");

	switch (el->tag) {
	case T_INCLUDE: oc.kind = RULE_INCLUDE; break;
	case T_EXCLUDE: oc.kind = RULE_EXCLUDE; break;
	case T_UNCOND_EXCLUDE: oc.kind = RULE_UNCOND_EXCLUDE; break;
	case T_MERGE: oc.kind = RULE_MERGE; oc.script = rule_attr(el, "script"); break;
	case T_LOCATIONMODIFY: oc.kind = RULE_LOCATION_MODIFY; oc.script = rule_attr(el, "script"); break;
	case T_CONTENTMODIFY: oc.kind = RULE_CONTENT_MODIFY; oc.script = rule_attr(el, "script"); break;
	case T_DESTCLEANUP: oc.kind = RULE_DESTINATION_CLEANUP; oc.script = filter; break;
	case T_INCLUDEATTRS: oc.kind = RULE_INCLUDE_ATTRIBUTES; oc.script = rule_attr(el, "attributes"); break;
	case T_EXCLUDEATTRS: oc.kind = RULE_EXCLUDE_ATTRIBUTES; oc.script = rule_attr(el, "attributes"); break;
	default: return;
	}
	if (filter && (oc.kind == RULE_INCLUDE || oc.kind == RULE_EXCLUDE)) {
		struct rule_call c;

		if (rule_call_parse(filter, &c) == 0) {
			int answer_no = !strcasecmp(c.fn, "AnswerNo");

			oc.never_restore = !strcasecmp(c.fn, "NeverRestore");
			rule_call_release(&c);
			if (answer_no)
				return; /* the filter answers "no" for every object */
		}
		oc.filter = filter;
	}
	for (const struct rule_node *k = el->first; k; k = k->next)
		if (k->tag == T_OBJECTSET)
			compile_objectset(&oc, k);
}

static void compile_rules(struct rule_sel *sel, struct rule_eval *ev, size_t ci,
			  const struct rule_node *rules, int ctx, int depth)
{
	int rctx;

	rules = rule_resolve(sel->rs, rules);
	if (!rules || depth > RULE_MAX_NAMED_DEPTH)
		return;
	rctx = rule_parse_context(rule_attr(rules, "context"));
	if (rctx)
		ctx &= rctx;
	/* a rule wider than its component is narrowed; one outside it is not there */
	if (!(ctx & sel->opts.context))
		return;
	{
		int r = eval_child_conditions(sel, ev, rules);

		if (r == 0)
			return;
		if (r < 0) {
			comp_error(sel, ci, rules, ev->reason.buf);
			return;
		}
		r = eval_detection(sel, ev, rules);
		if (r == 0)
			return;
		if (r < 0) {
			comp_error(sel, ci, rules, ev->reason.buf);
			return;
		}
	}
	for (const struct rule_node *k = rules->first; k; k = k->next) {
		if (k->tag == T_RULES)
			compile_rules(sel, ev, ci, k, ctx, depth + 1);
		else
			compile_rule_elem(sel, ev, ci, k);
	}
}

static void eval_environment(struct rule_sel *sel, struct rule_eval *ev, size_t ci,
			     const struct rule_node *envn, struct rule_env *env)
{
	int r;

	envn = rule_resolve(sel->rs, envn);
	if (!envn)
		return;
	r = eval_child_conditions(sel, ev, envn);
	if (r <= 0) {
		if (r < 0)
			comp_error(sel, ci, envn, ev->reason.buf);
		return;
	}
	for (const struct rule_node *v = envn->first; v; v = v->next) {
		const char *name = rule_attr(v, "name");

		if (v->tag != T_VARIABLE || !name)
			continue;
		for (const struct rule_node *k = v->first; k; k = k->next) {
			if (k->tag == T_TEXT) {
				rule_env_set(env, name, k->text);
				break;
			} else if (k->tag == T_SCRIPT) {
				struct ws_buf out = WS_BUF_INIT;

				r = rule_eval_string(ev, k->text, &out);
				if (r == 1)
					rule_env_set(env, name, out.buf);
				else if (r < 0)
					comp_error(sel, ci, k, ev->reason.buf);
				ws_buf_release(&out);
				break;
			} else if (k->tag == T_OBJECTSET) {
				/* value = the first object of the set that exists */
				for (const struct rule_node *pt = k->first; pt; pt = pt->next) {
					struct ws_buf loc = WS_BUF_INIT, node = WS_BUF_INIT,
						      leaf = WS_BUF_INIT;
					int has_leaf = 0, found = 0;
					struct ws_buf cond = WS_BUF_INIT;

					if (pt->tag == T_PATTERN &&
					    rule_env_expand(ev->env, pt->text, &loc, NULL, 0) == 0 &&
					    rule_loc_split(loc.buf, pattern_type(pt), &node, &leaf,
							   &has_leaf) == 0) {
						ws_buf_addf(&cond, "DoesObjectExist(\"%s\",\"%s\")",
							    pattern_type(pt) == RULE_REGISTRY ? "Registry" : "File",
							    loc.buf);
						if (rule_eval_condition(ev, cond.buf) == 1) {
							rule_env_set(env, name, node.buf);
							found = 1;
						}
					}
					ws_buf_release(&cond);
					ws_buf_release(&loc);
					ws_buf_release(&node);
					ws_buf_release(&leaf);
					if (found)
						break;
				}
				break;
			}
		}
	}
}

/* Walk a role: environments, detection, rules, nested roles. */
static void compile_role(struct rule_sel *sel, struct rule_eval *ev, size_t ci,
			 const struct rule_node *role, int ctx, int *had_rules,
			 int *detected)
{
	int r;

	for (const struct rule_node *k = role->first; k; k = k->next)
		if (k->tag == T_ENVIRONMENT)
			eval_environment(sel, ev, ci, k, sel->cs[ci].env);
	r = eval_detection(sel, ev, role);
	if (r < 0) {
		comp_error(sel, ci, role, ev->reason.buf);
		return;
	}
	for (const struct rule_node *k = role->first; k; k = k->next) {
		if (k->tag == T_RULES || k->tag == T_DESTCLEANUP) {
			*had_rules = 1;
			if (!r)
				continue;
			*detected = 1;
			if (k->tag == T_RULES)
				compile_rules(sel, ev, ci, k, ctx, 0);
			else
				compile_rule_elem(sel, ev, ci, k); /* MigApp's Chrome puts it here */
		} else if (k->tag == T_ROLE && r) {
			compile_role(sel, ev, ci, k, ctx, had_rules, detected);
		}
	}
}

static void compile_component(struct rule_sel *sel, size_t ci)
{
	const struct rule_comp *c = &sel->rs->comps[ci];
	struct comp_sel *cs = &sel->cs[ci];
	struct rule_eval ev = { &sel->opts, NULL, WS_BUF_INIT };
	int had_rules = 0, detected = 0;

	cs->state = c->state;
	cs->reason = ws_xstrdup(c->reason ? c->reason : "");
	if (c->parent >= 0) {
		const struct comp_sel *ps = &sel->cs[c->parent];

		if (ps->state == RULE_COMP_DISABLED || ps->state == RULE_COMP_NOT_DETECTED ||
		    ps->state == RULE_COMP_OTHER_CONTEXT) {
			if (cs->state == RULE_COMP_ACTIVE)
				cs->state = ps->state;
		}
	}
	cs->env = rule_env_child(c->parent >= 0 && sel->cs[c->parent].env ?
					 sel->cs[c->parent].env : sel->opts.env);
	if (cs->state != RULE_COMP_ACTIVE)
		return;
	if (!(c->context & sel->opts.context)) {
		cs->state = RULE_COMP_OTHER_CONTEXT;
		return;
	}
	ev.env = cs->env;
	for (const struct rule_node *k = c->node->first; k; k = k->next)
		if (k->tag == T_ENVIRONMENT)
			eval_environment(sel, &ev, ci, k, cs->env);
	for (const struct rule_node *k = c->node->first; k && cs->state == RULE_COMP_ACTIVE;
	     k = k->next) {
		if (k->tag == T_ROLE) {
			compile_role(sel, &ev, ci, k, c->context, &had_rules, &detected);
		} else if (k->tag == T_EXTENSIONS) {
			/* <extension>doc</extension> = GenerateDrivePatterns("* [*.doc]","Fixed") */
			struct oset_ctx oc = { sel, ci, RULE_INCLUDE, k, NULL, 0, NULL, &ev };

			for (const struct rule_node *e = k->first; e; e = e->next)
				if (e->tag == T_EXTENSION) {
					struct ws_buf s = WS_BUF_INIT;
					const char *d = rule_env_get(cs->env, "SYSTEMDRIVE");

					ws_buf_addf(&s, "%s\\* [*.%s]", d ? d : "C:", e->text);
					add_pattern(&oc, RULE_FILE, s.buf, e);
					ws_buf_release(&s);
				}
			had_rules = detected = 1;
		}
	}
	if (cs->state == RULE_COMP_ACTIVE) {
		if (had_rules && !detected) {
			cs->state = RULE_COMP_NOT_DETECTED;
			free(cs->reason);
			cs->reason = ws_xstrdup("detection evaluated FALSE");
		} else if (had_rules && !cs->includes) {
			cs->state = RULE_COMP_NO_INCLUDE;
		}
	}
	ws_buf_release(&ev.reason);
}

static int root_under(const char *r, const char *root)
{
	size_t l = strlen(root);

	if (!l)
		return 1;
	return !ws_name_ncasecmp(r, l < strlen(r) ? l : strlen(r), root, l) &&
	       strlen(r) >= l && (r[l] == 0 || r[l] == '\\');
}

static int cmp_root(const void *a, const void *b)
{
	return ws_name_casecmp(*(char *const *)a, *(char *const *)b);
}

static void build_roots(struct rule_sel *sel)
{
	for (int t = 0; t < 3; t++) {
		char **all = NULL;
		size_t n = 0, alloc = 0;

		for (size_t i = 0; i < sel->ie.n; i++) {
			const struct cpat *cp = &sel->ie.v[i];

			if (cp->kind != RULE_INCLUDE || rule_pattern_type(cp->p) != t ||
			    sel->cs[cp->comp].state != RULE_COMP_ACTIVE)
				continue;
			WS_ALLOC_GROW(all, n + 1, alloc);
			all[n++] = (char *)rule_pattern_root(cp->p);
		}
		if (n)
			qsort(all, n, sizeof(*all), cmp_root);
		sel->roots[t] = ws_xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++) {
			int covered = 0;

			for (size_t j = 0; j < sel->nroots[t] && !covered; j++)
				covered = root_under(all[i], sel->roots[t][j]);
			if (!covered)
				sel->roots[t][sel->nroots[t]++] = ws_xstrdup(all[i]);
		}
		free(all);
	}
}

int rule_sel_new(const struct rule_set *rs, const struct rule_sel_opts *opts,
		 struct rule_sel **out, struct ws_error *err)
{
	struct rule_sel *sel = ws_xcalloc(1, sizeof(*sel));

	*out = NULL;
	sel->rs = rs;
	sel->opts = *opts;
	sel->err = err;
	sel->cs = ws_xcalloc(rs->ncomps + 1, sizeof(*sel->cs));
	for (size_t i = 0; i < rs->ncomps && !sel->failed; i++)
		compile_component(sel, i);
	if (sel->failed) {
		rule_sel_free(sel);
		return WS_E_RULES;
	}
	build_roots(sel);
	sel->err = NULL;
	*out = sel;
	return WS_OK;
}

static void list_free(struct cpat_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		rule_pattern_free(l->v[i].p);
		free(l->v[i].filter);
		free(l->v[i].script);
		free(l->v[i].function);
	}
	free(l->v);
}

void rule_sel_free(struct rule_sel *sel)
{
	if (!sel)
		return;
	list_free(&sel->ie);
	list_free(&sel->ux);
	for (int k = 0; k < RULE_KIND_COUNT; k++)
		list_free(&sel->act[k]);
	for (size_t i = 0; i < sel->rs->ncomps; i++) {
		free(sel->cs[i].reason);
		rule_env_free(sel->cs[i].env);
	}
	free(sel->cs);
	for (int t = 0; t < 3; t++) {
		for (size_t i = 0; i < sel->nroots[t]; i++)
			free(sel->roots[t][i]);
		free(sel->roots[t]);
	}
	free(sel);
}

void rule_sel_component(const struct rule_sel *sel, size_t i,
			struct rule_component_info *out)
{
	rule_set_component(sel->rs, i, out);
	out->state = sel->cs[i].state;
	out->reason = sel->cs[i].reason ? sel->cs[i].reason : "";
}

static void fill(const struct rule_sel *sel, const struct cpat *cp, int included,
		 struct rule_decision *d)
{
	if (!d)
		return;
	memset(d, 0, sizeof(*d));
	d->included = included;
	d->kind = cp ? cp->kind : -1;
	if (!cp)
		return;
	d->file = cp->file;
	d->line = cp->line;
	d->component = sel->rs->comps[cp->comp].name;
	d->pattern = rule_pattern_text(cp->p);
	d->filter = cp->filter;
	d->never_restore = cp->never_restore;
}

int rule_sel_object(const struct rule_sel *sel, int type, const char *node,
		    const char *leaf, struct rule_decision *d)
{
	struct ws_buf n = WS_BUF_INIT, un = WS_BUF_INIT, ul = WS_BUF_INIT;
	const struct cpat *inc = NULL, *exc = NULL, *decided_no = NULL;
	size_t cur = (size_t)-1;
	int result = 0;

	rule_node_norm(node, type, &n);
	rule_upper(n.buf, &un);
	if (leaf)
		rule_upper(leaf, &ul);
	for (size_t i = 0; i < sel->ux.n; i++) {
		const struct cpat *cp = &sel->ux.v[i];

		if (rule_pattern_type(cp->p) == type &&
		    rule_pattern_match_upper(cp->p, un.buf, leaf ? ul.buf : NULL) == 1) {
			fill(sel, cp, 0, d);
			result = -1;
			break;
		}
	}
	for (size_t i = 0; result == 0 && i <= sel->ie.n; i++) {
		const struct cpat *cp = i < sel->ie.n ? &sel->ie.v[i] : NULL;

		if (!cp || cp->comp != cur) {
			/* close the previous component */
			if (inc && (!exc || rule_pattern_cmp_specificity(inc->p, exc->p) > 0)) {
				fill(sel, inc, 1, d);
				result = 1;
				break;
			}
			if (exc && !decided_no)
				decided_no = exc;
			inc = exc = NULL;
			if (!cp)
				break;
			cur = cp->comp;
		}
		if (sel->cs[cp->comp].state != RULE_COMP_ACTIVE ||
		    rule_pattern_type(cp->p) != type ||
		    rule_pattern_match_upper(cp->p, un.buf, leaf ? ul.buf : NULL) != 1)
			continue;
		if (cp->kind == RULE_INCLUDE) {
			if (!inc || rule_pattern_cmp_specificity(cp->p, inc->p) > 0)
				inc = cp;
		} else if (!exc || rule_pattern_cmp_specificity(cp->p, exc->p) > 0) {
			exc = cp;
		}
	}
	if (result == 0)
		fill(sel, decided_no, 0, d);
	ws_buf_release(&n);
	ws_buf_release(&un);
	ws_buf_release(&ul);
	return result == 1;
}

int rule_sel_file(const struct rule_sel *sel, const char *path, struct rule_decision *d)
{
	const char *bs = strrchr(path, '\\');
	char *node;
	int rc;

	if (!bs)
		return rule_sel_object(sel, RULE_FILE, "", path, d);
	node = ws_xstrndup(path, (size_t)(bs - path));
	rc = rule_sel_object(sel, RULE_FILE, node, bs + 1, d);
	free(node);
	return rc;
}

int rule_sel_reg(const struct rule_sel *sel, const char *key, const char *value,
		 struct rule_decision *d)
{
	return rule_sel_object(sel, RULE_REGISTRY, key, value, d);
}

int rule_sel_dir(const struct rule_sel *sel, int type, const char *node)
{
	struct ws_buf n = WS_BUF_INIT, un = WS_BUF_INIT;
	int rc = 0;

	rule_node_norm(node, type, &n);
	rule_upper(n.buf, &un);
	for (size_t i = 0; i < sel->ie.n && !rc; i++) {
		const struct cpat *cp = &sel->ie.v[i];

		if (cp->kind == RULE_INCLUDE && sel->cs[cp->comp].state == RULE_COMP_ACTIVE &&
		    rule_pattern_type(cp->p) == type)
			rc = rule_pattern_may_match_below_upper(cp->p, un.buf);
	}
	ws_buf_release(&n);
	ws_buf_release(&un);
	return rc;
}

size_t rule_sel_root_count(const struct rule_sel *sel, int type)
{
	return type >= 0 && type < 3 ? sel->nroots[type] : 0;
}

const char *rule_sel_root(const struct rule_sel *sel, int type, size_t i)
{
	return type >= 0 && type < 3 && i < sel->nroots[type] ? sel->roots[type][i] : NULL;
}

int rule_sel_action(const struct rule_sel *sel, int kind, int type, const char *node,
		    const char *leaf, struct rule_action *hit)
{
	struct ws_buf n = WS_BUF_INIT, un = WS_BUF_INIT, ul = WS_BUF_INIT;
	const struct cpat *best = NULL;

	if (kind < RULE_MERGE || kind >= RULE_KIND_COUNT)
		return 0;
	rule_node_norm(node, type, &n);
	rule_upper(n.buf, &un);
	if (leaf)
		rule_upper(leaf, &ul);
	for (size_t i = 0; i < sel->act[kind].n; i++) {
		const struct cpat *cp = &sel->act[kind].v[i];

		if (sel->cs[cp->comp].state != RULE_COMP_ACTIVE ||
		    rule_pattern_type(cp->p) != type ||
		    rule_pattern_match_upper(cp->p, un.buf, leaf ? ul.buf : NULL) != 1)
			continue;
		if (!best || rule_pattern_cmp_specificity(cp->p, best->p) > 0)
			best = cp;
	}
	ws_buf_release(&n);
	ws_buf_release(&un);
	ws_buf_release(&ul);
	if (!best)
		return 0;
	if (hit) {
		hit->script = best->script ? best->script : "";
		hit->function = best->function ? best->function : "";
		hit->pattern = rule_pattern_text(best->p);
		hit->file = best->file;
		hit->line = best->line;
		hit->component = sel->rs->comps[best->comp].name;
	}
	return 1;
}

size_t rule_sel_pattern_count(const struct rule_sel *sel, int kind)
{
	if (kind == RULE_INCLUDE || kind == RULE_EXCLUDE) {
		size_t n = 0;

		for (size_t i = 0; i < sel->ie.n; i++)
			n += sel->ie.v[i].kind == kind;
		return n;
	}
	if (kind == RULE_UNCOND_EXCLUDE)
		return sel->ux.n;
	return kind > 0 && kind < RULE_KIND_COUNT ? sel->act[kind].n : 0;
}

const char *rule_sel_pattern_text(const struct rule_sel *sel, int kind, size_t i,
				  int *type)
{
	const struct cpat *cp = NULL;

	if (kind == RULE_INCLUDE || kind == RULE_EXCLUDE) {
		for (size_t j = 0; j < sel->ie.n && !cp; j++)
			if (sel->ie.v[j].kind == kind && i-- == 0)
				cp = &sel->ie.v[j];
	} else if (kind == RULE_UNCOND_EXCLUDE) {
		cp = i < sel->ux.n ? &sel->ux.v[i] : NULL;
	} else if (kind > 0 && kind < RULE_KIND_COUNT && i < sel->act[kind].n) {
		cp = &sel->act[kind].v[i];
	}
	if (!cp)
		return NULL;
	if (type)
		*type = rule_pattern_type(cp->p);
	return rule_pattern_text(cp->p);
}
