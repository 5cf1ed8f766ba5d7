/*
 * rule_sel.c - compiling a rule set for one context into a selection (the
 * include/exclude/action patterns per component, the roots, the remaps and
 * addObjects), freeing it, and the apply-side accessors.  Deciding objects is
 * in rule_decide.c, the Config.xml writer in rule_config.c.
 */
#include "rules_private.h"

#include <string.h>
#include <strings.h>

#include "util/ws_utf.h"

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

/* Filter that looks at each object (CompareStringContent ...), parsed per
 * pattern; validity was checked by compile_rule_elem. */
static void set_filter(struct rule_cpat *cp, const char *filter, const struct rule_env *env)
{
	struct ws_buf why = WS_BUF_INIT;

	if (filter && rule_filter_parse(filter, env, &cp->filt, &why) < 0)
		memset(&cp->filt, 0, sizeof(cp->filt));
	ws_buf_release(&why);
}

static void add_pattern(struct oset_ctx *oc, int type, const char *text,
			const struct rule_node *at)
{
	struct rule_sel *sel = oc->sel;
	struct rule_pattern *p;
	struct ws_error perr;
	struct rule_cpat_list *list;
	struct rule_cpat *cp;
	char where[1200];

	if (sel->failed)
		return;
	ws_error_clear(&perr);
	if (rule_pattern_compile(text, type, &p, &perr)) {
		where_of(at, where, sizeof(where));
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
	if (sel->forcing && oc->kind >= RULE_MERGE) {
		rule_pattern_free(p); /* explain shows include/exclude rules only */
		return;
	}
	if (sel->forcing)
		list = oc->kind == RULE_UNCOND_EXCLUDE ? &sel->xux : &sel->xie;
	else
		list = oc->kind == RULE_INCLUDE || oc->kind == RULE_EXCLUDE ? &sel->ie :
		       oc->kind == RULE_UNCOND_EXCLUDE			  ? &sel->ux :
										    &sel->act[oc->kind];
	WS_ALLOC_GROW(list->v, list->n + 1, list->alloc);
	cp = &list->v[list->n++];
	memset(cp, 0, sizeof(*cp));
	cp->p = p;
	cp->type = rule_pattern_type(p);
	cp->ulit = rule_pattern_lit_upper(p, &cp->ulit_len);
	rule_pattern_leaf_quick(p, &cp->quick);
	cp->tree = rule_pattern_node_is_tree(p);
	cp->kind = oc->kind;
	cp->comp = oc->comp;
	cp->file = at->file->path;
	cp->line = at->line;
	cp->filter = oc->filter ? ws_xstrdup(oc->filter) : NULL;
	cp->never_restore = oc->never_restore;
	set_filter(cp, oc->filter, oc->ev->env);
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
	if (oc->kind == RULE_INCLUDE && !sel->forcing)
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

struct exists_arg {
	struct rule_eval *ev;
	int found, failed;
};

static void exists_add(void *arg, int type, const char *pattern)
{
	struct exists_arg *x = arg;
	int r;

	if (x->found || x->failed)
		return;
	r = rule_object_exists(x->ev, type, pattern);
	if (r < 0)
		x->failed = 1;
	else
		x->found = r;
}

/* An objectSet in <detect>: TRUE when it names at least one existing object
 * (its own conditions first).  1, 0, or -1 with the reason in ev. */
static int objectset_exists(struct rule_sel *sel, struct rule_eval *ev,
			    const struct rule_node *os)
{
	struct exists_arg x = { ev, 0, 0 };
	int r = eval_child_conditions(sel, ev, os);

	if (r <= 0)
		return r;
	for (const struct rule_node *k = os->first; k && !x.found && !x.failed; k = k->next) {
		if (k->tag == T_PATTERN) {
			struct ws_buf loc = WS_BUF_INIT;

			/* an unset variable names nothing that exists */
			if (rule_env_expand(ev->env, k->text, &loc, NULL, 0) == 0)
				exists_add(&x, pattern_type(k), loc.buf);
			ws_buf_release(&loc);
		} else if (k->tag == T_SCRIPT) {
			if (rule_eval_script(ev, k->text, exists_add, &x) < 0)
				return -1;
		}
	}
	return x.failed ? -1 : x.found;
}

/* <detect>: its conditions and objectSets OR-ed. */
static int eval_detect(struct rule_sel *sel, struct rule_eval *ev, const struct rule_node *d)
{
	int any = 0;

	d = rule_resolve(sel->rs, d);
	if (!d)
		return 1;
	for (const struct rule_node *k = d->first; k; k = k->next) {
		int r;

		if (k->tag == T_OBJECTSET)
			r = objectset_exists(sel, ev, k);
		else if (k->tag == T_CONDITION || k->tag == T_CONDITIONS)
			r = eval_condition_node(sel, ev, k, 0);
		else
			continue;
		any = 1;
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

/* Role/rules level: several detects/detection are OR-ed; none = detected.
 * With opts.ignore_detection (LoadState) everything counts as detected. */
static int eval_detection(struct rule_sel *sel, struct rule_eval *ev, const struct rule_node *n)
{
	int any = 0;

	if (sel->opts.ignore_detection)
		return 1;

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

	if (sel->forcing)
		return; /* explain: the component's real state is already known */
	where_of(at, where, sizeof(where));
	if (sel->cs[ci].state == RULE_COMP_ACTIVE) {
		sel->cs[ci].state = RULE_COMP_ERROR;
		free(sel->cs[ci].reason);
		sel->cs[ci].reason = ws_xasprintf("%s: %s", where, why);
	}
	ws_logf(sel->opts.log, WS_LOG_WARN, where, "component \"%s\" skipped: %s",
		sel->rs->comps[ci].name, why);
}

/* A content filter's call: ExtractSingleFile(Separators, PathHints),
 * ExtractMultipleFiles(Separators, PathHints), ExtractDirectory(Separators,
 * LevelsToTrim, PatternSuffix). */
struct extract {
	struct oset_ctx *oc;
	int kind;                 /* 0 single file, 1 several, 2 a folder */
	const char *sep;          /* ExtractMultipleFiles: separators */
	unsigned trim;            /* ExtractDirectory: levels to trim */
	const char *suffix;       /* ExtractDirectory: "* [*]" or the rule's */
	int type;                 /* type of the location read */
	const struct rule_node *pt;
	const char *where;        /* Ini: the file read, for messages */
	const char *base;         /* Ini: its folder, for relative paths */
};

/* Say why a path of the content is not taken: the include's pass says it
 * (an exclude reading the same file would only repeat it); Ini files are
 * the source user's own text, hence a warning, registry values a note. */
static void extract_refuse(struct extract *x, long line, const char *value, const char *why)
{
	char where[1200];

	if (x->oc->kind != RULE_INCLUDE)
		return;
	if (x->where)
		snprintf(where, sizeof(where), "%s:%ld", x->where, line);
	else
		where_of(x->pt, where, sizeof(where));
	ws_logf(x->oc->sel->opts.log, x->where ? WS_LOG_WARN : WS_LOG_INFO, where,
		"component \"%s\": '%s': %s: not taken",
		x->oc->sel->rs->comps[x->oc->comp].name, value, why);
}

/* One path read from the content -> its pattern. */
static void extract_path(struct extract *x, const char *value, long line)
{
	const struct rule_probe *pr = x->oc->sel->opts.probe;
	struct ws_buf path = WS_BUF_INIT, pat = WS_BUF_INIT;
	const char *why = rule_content_path(value, x->base, &path);
	char *bs;

	if (why) {
		/* a registry value that is no path at all (a wallpaper cleared
		 * to "") is nothing to say */
		if (x->where || *value)
			extract_refuse(x, line, value, why);
		goto out;
	}
	if (x->kind == 2) {
		for (unsigned i = 0; i < x->trim; i++) {
			bs = strrchr(path.buf, '\\');
			if (!bs || bs - path.buf <= 2) {
				extract_refuse(x, line, value, "shorter than the levels to trim");
				goto out;
			}
			ws_buf_setlen(&path, (size_t)(bs - path.buf));
		}
		if (path.len <= 3) {
			/* a whole drive: never what a profile path means */
			extract_refuse(x, line, value, "a whole drive");
			goto out;
		}
		rule_escape_literal(path.buf, &pat);
		ws_buf_addf(&pat, "%s%s", x->suffix[0] == '[' ? " " : "\\", x->suffix);
	} else {
		bs = strrchr(path.buf, '\\');
		if (!bs || !bs[1] || bs - path.buf < 2)
			goto out;
		*bs = 0;
		rule_escape_literal(path.buf, &pat);
		ws_buf_adds(&pat, bs - path.buf == 2 ? "\\ [" : " [");
		rule_escape_literal(bs + 1, &pat);
		ws_buf_addch(&pat, ']');
		*bs = '\\';
	}
	if (x->where && x->oc->kind == RULE_INCLUDE && pr && pr->file_exists) {
		char drive[4] = { path.buf[0], ':', '\\', 0 };

		if (!pr->file_exists(pr->ctx, drive))
			extract_refuse(x, line, value, "on a drive the source does not have");
		else if (!pr->file_exists(pr->ctx, path.buf))
			ws_logf(x->oc->sel->opts.log, WS_LOG_INFO, x->where,
				"line %ld: '%s' does not exist on the source (a stale entry)",
				line, value);
	}
	add_pattern(x->oc, RULE_FILE, pat.buf, x->pt);
out:
	ws_buf_release(&path);
	ws_buf_release(&pat);
}

/* One registry value's content: the path(s) it holds. */
static void extract_loc(struct extract *x, const char *loc)
{
	struct ws_buf val = WS_BUF_INIT;

	if (rule_get_path_content(x->oc->ev, x->type, loc, &val) == 1) {
		char *s = val.buf;

		for (;;) {
			char *end = x->sep ? strpbrk(s, x->sep) : NULL;

			if (end)
				*end = 0;
			while (*s == ' ')
				s++;
			if (*s)
				extract_path(x, s, 0);
			if (!end)
				break;
			s = end + 1;
		}
	}
	ws_buf_release(&val);
}

static int extract_each(void *arg, const char *node, const char *leaf)
{
	struct extract *x = arg;
	struct ws_buf loc = WS_BUF_INIT;

	if (leaf) {
		ws_buf_addf(&loc, "%s [%s]", node, leaf);
		extract_loc(x, loc.buf);
	}
	ws_buf_release(&loc);
	return 0;
}

static int extract_ini_value(void *arg, const char *section, const char *value, long line)
{
	(void)section;
	if (*value)
		extract_path(arg, value, line);
	return 0;
}

/*
 * An Ini location "file|Section [Key]" (Section may hold '*': Profile*):
 * every path its matching keys hold, relative ones from the file's folder
 * (profiles.ini's Path= with IsRelative=1).  The file is the source user's
 * own: one over RULE_INI_MAX is not read, with a warning.
 */
static void extract_ini(struct extract *x, const char *loc)
{
	const struct rule_probe *pr = x->oc->sel->opts.probe;
	struct ws_buf node = WS_BUF_INIT, key = WS_BUF_INIT, raw = WS_BUF_INIT,
		      txt = WS_BUF_INIT, base = WS_BUF_INIT;
	int has_leaf = 0;
	char *bar, *bs;

	if (!pr || !pr->file_read || rule_loc_split(loc, RULE_INI, &node, &key, &has_leaf) < 0 ||
	    !has_leaf || !(bar = strchr(node.buf, '|')))
		goto out;
	*bar = 0;
	if (pr->file_read(pr->ctx, node.buf, RULE_INI_MAX + 1, &raw) <= 0)
		goto out;
	x->where = node.buf;
	if (raw.len > RULE_INI_MAX) {
		if (x->oc->kind == RULE_INCLUDE)
			ws_logf(x->oc->sel->opts.log, WS_LOG_WARN, node.buf,
				"component \"%s\": larger than %u bytes, not an INI file an "
				"application wrote: not read", x->oc->sel->rs->comps[x->oc->comp].name,
				RULE_INI_MAX);
		goto out;
	}
	ws_buf_adds(&base, node.buf);
	bs = strrchr(base.buf, '\\');
	if (bs)
		ws_buf_setlen(&base, (size_t)(bs - base.buf));
	x->base = bs ? base.buf : NULL;
	rule_ini_text(raw.buf, raw.len, &txt);
	rule_ini_each(txt.buf, txt.len, bar + 1, key.buf, extract_ini_value, x);
out:
	x->where = x->base = NULL;
	ws_buf_release(&node);
	ws_buf_release(&key);
	ws_buf_release(&raw);
	ws_buf_release(&txt);
	ws_buf_release(&base);
}

/*
 * Content -> file patterns.  A registry location with wildcards (Outlook's
 * mail profiles: Profiles\* [001f6700]) is read at every value it matches;
 * an Ini one at every section its name matches.
 */
static void content_extract(struct oset_ctx *oc, const struct rule_node *content)
{
	struct rule_call c;
	const char *filter = rule_attr(content, "filter");
	struct extract x = { oc, 0, NULL, 0, "* [*]", 0, NULL, NULL, NULL };

	if (!filter || rule_call_parse(filter, &c) < 0)
		return;
	x.kind = !strcasecmp(c.fn, "ExtractDirectory") ? 2 :
		 !strcasecmp(c.fn, "ExtractMultipleFiles") ? 1 : 0;
	if (x.kind == 1 && c.nargs > 0 && c.args[0] && *c.args[0])
		x.sep = c.args[0];
	if (x.kind == 2 && c.nargs > 1 && c.args[1]) {
		char *e;
		unsigned long n = strtoul(c.args[1], &e, 10);

		x.trim = *e || n > 64 ? 0 : (unsigned)n;
	}
	if (x.kind == 2 && c.nargs > 2 && c.args[2] && *c.args[2])
		x.suffix = c.args[2];
	for (const struct rule_node *os = content->first; os; os = os->next) {
		if (os->tag != T_OBJECTSET)
			continue;
		for (const struct rule_node *pt = os->first; pt; pt = pt->next) {
			struct ws_buf loc = WS_BUF_INIT;

			x.type = pattern_type(pt);
			x.pt = pt;
			if (pt->tag != T_PATTERN ||
			    rule_env_expand(oc->ev->env, pt->text, &loc, NULL, 0) < 0) {
				ws_buf_release(&loc);
				continue;
			}
			if (x.type == RULE_INI) {
				extract_ini(&x, loc.buf);
			} else if (strchr(loc.buf, '*')) {
				/* without a listing probe (a selection made without a
				 * source) there is no content to read: nothing taken */
				if (x.type == RULE_REGISTRY && oc->sel->opts.probe &&
				    oc->sel->opts.probe->list &&
				    rule_object_list(oc->ev, x.type, loc.buf, extract_each, &x) < 0)
					comp_error(oc->sel, oc->comp, pt, oc->ev->reason.buf);
			} else {
				extract_loc(&x, loc.buf);
			}
			ws_buf_release(&loc);
		}
	}
	rule_call_release(&c);
}

static void compile_objectset(struct oset_ctx *oc, const struct rule_node *os)
{
	int r = eval_child_conditions(oc->sel, oc->ev, os);

	if (r < 0 && !oc->sel->forcing) {
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
			/* an exclude's content names what its include's left out
			 * (ExtractDirectory's PatternSuffix: a profile's cache) */
			if (oc->kind == RULE_INCLUDE || oc->kind == RULE_EXCLUDE ||
			    oc->kind == RULE_UNCOND_EXCLUDE)
				content_extract(oc, k);
		}
	}
}

/* "Archive, Read-only" -> FILE_ATTRIBUTE_*; "Dword" -> REG_DWORD.  -1 unknown. */
static long object_attributes(int type, const char *text)
{
	static const struct {
		const char *name;
		uint32_t v;
	} fa[] = { { "Archive", 0x20 }, { "Read-only", 0x1 }, { "ReadOnly", 0x1 },
		   { "System", 0x4 }, { "Hidden", 0x2 }, { "Normal", 0x80 } },
	  ra[] = { { "None", 0 }, { "String", 1 }, { "REG_SZ", 1 }, { "ExpandString", 2 },
		   { "REG_EXPAND_SZ", 2 }, { "Binary", 3 }, { "REG_BINARY", 3 },
		   { "Dword", 4 }, { "REG_DWORD", 4 }, { "MultiString", 7 },
		   { "REG_MULTI_SZ", 7 }, { "Qword", 11 }, { "REG_QWORD", 11 } };
	uint32_t v = 0;
	char *copy = ws_xstrdup(text), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t l;
		int hit = 0;

		while (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n')
			t++;
		l = strlen(t);
		while (l && (t[l - 1] == ' ' || t[l - 1] == '\t' || t[l - 1] == '\r' ||
			     t[l - 1] == '\n'))
			t[--l] = 0;
		if (!l)
			continue;
		if (type == RULE_REGISTRY) {
			for (size_t i = 0; i < sizeof(ra) / sizeof(ra[0]) && !hit; i++)
				if (!strcasecmp(t, ra[i].name)) {
					v = ra[i].v;
					hit = 1;
				}
		} else {
			for (size_t i = 0; i < sizeof(fa) / sizeof(fa[0]) && !hit; i++)
				if (!strcasecmp(t, fa[i].name)) {
					v |= fa[i].v;
					hit = 1;
				}
		}
		if (!hit) {
			free(copy);
			return -1;
		}
	}
	free(copy);
	return (long)v;
}

/* <bytes>: hex pairs (white space ignored), or with string="Yes" the text
 * (expand="Yes": variables expanded) as UTF-16LE with its NUL.  -1 bad hex. */
static int object_bytes(struct rule_eval *ev, const struct rule_node *b, struct ws_buf *out)
{
	if (rule_parse_bool(rule_attr(b, "string"), 0)) {
		struct ws_buf x = WS_BUF_INIT;

		if (!rule_parse_bool(rule_attr(b, "expand"), 0) ||
		    rule_env_expand(ev->env, b->text, &x, NULL, 0) < 0) {
			ws_buf_reset(&x);
			ws_buf_adds(&x, b->text);
		}
		ws_utf8_to_utf16le(x.buf, x.len + 1, out);
		ws_buf_release(&x);
		return 0;
	}
	for (const char *p = b->text; *p;) {
		int hi, lo;

		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			p++;
			continue;
		}
		hi = ws_hex_value(p[0]);
		lo = p[1] ? ws_hex_value(p[1]) : -1;
		if (hi < 0 || lo < 0)
			return -1;
		ws_buf_addch(out, (char)(hi << 4 | lo));
		p += 2;
	}
	return 0;
}

/* <addObjects>: record every <object> whose conditions hold. */
static void compile_add_objects(struct rule_sel *sel, struct rule_eval *ev, size_t ci,
				const struct rule_node *el)
{
	char where[1200];
	int r = eval_child_conditions(sel, ev, el);

	if (r < 0)
		comp_error(sel, ci, el, ev->reason.buf);
	if (r <= 0 || sel->forcing)
		return;
	for (const struct rule_node *o = el->first; o; o = o->next) {
		const struct rule_node *loc = NULL, *attrs = NULL, *bytes = NULL;
		struct ws_buf l = WS_BUF_INIT, data = WS_BUF_INIT;
		struct rule_sel_add *a;
		long av = 0;
		int type;

		if (o->tag != T_OBJECT)
			continue;
		r = eval_child_conditions(sel, ev, o);
		if (r < 0)
			comp_error(sel, ci, o, ev->reason.buf);
		if (r <= 0)
			continue;
		for (const struct rule_node *k = o->first; k; k = k->next) {
			if (k->tag == T_LOCATION)
				loc = k;
			else if (k->tag == T_ATTRIBUTES)
				attrs = k;
			else if (k->tag == T_BYTES)
				bytes = k;
		}
		where_of(o, where, sizeof(where));
		if (!loc) {
			ws_logf(sel->opts.log, WS_LOG_WARN, where, "%s", "<object> without <location> ignored");
			continue;
		}
		type = pattern_type(loc);
		r = -1;
		for (const struct rule_node *k = loc->first; k; k = k->next)
			if (k->tag == T_SCRIPT)
				r = rule_eval_string(ev, k->text, &l) == 1 ? 0 : -1;
		if (!loc->first)
			r = rule_env_expand(ev->env, loc->text, &l, NULL, 0);
		if (r < 0 || !l.len) {
			ws_logf(sel->opts.log, WS_LOG_WARN, where,
				"<object> location '%s' cannot be expanded: ignored", loc->text);
		} else if (attrs && (av = object_attributes(type, attrs->text)) < 0) {
			ws_logf(sel->opts.log, WS_LOG_WARN, where,
				"<object> attributes '%s' unknown: ignored", attrs->text);
		} else if (bytes && object_bytes(ev, bytes, &data) < 0) {
			ws_logf(sel->opts.log, WS_LOG_WARN, where,
				"<object> bytes are not hex pairs: ignored%s", "");
		} else {
			WS_ALLOC_GROW(sel->adds, sel->nadds + 1, sel->aadds);
			a = &sel->adds[sel->nadds++];
			memset(a, 0, sizeof(*a));
			a->type = type;
			a->location = ws_buf_detach(&l, NULL);
			a->attributes = ws_xstrdup(attrs ? attrs->text : "");
			if (type == RULE_REGISTRY)
				a->reg_type = attrs ? (uint32_t)av : 1;
			else
				a->file_attributes = (uint32_t)av;
			if (bytes) {
				a->len = data.len;
				a->data = (unsigned char *)ws_buf_detach(&data, NULL);
			}
			a->comp = ci;
			a->file = o->file->path;
			a->line = o->line;
		}
		ws_buf_release(&l);
		ws_buf_release(&data);
	}
}

static void compile_rule_elem(struct rule_sel *sel, struct rule_eval *ev, size_t ci,
			      const struct rule_node *el)
{
	struct oset_ctx oc = { sel, ci, 0, el, NULL, 0, NULL, ev };
	const char *filter = rule_attr(el, "filter");

	switch (el->tag) {
	case T_ADDOBJECTS: compile_add_objects(sel, ev, ci, el); return;
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
		{
			struct rule_filter f;
			struct ws_buf why = WS_BUF_INIT;
			int bad = rule_filter_parse(filter, ev->env, &f, &why) < 0;

			if (bad)
				comp_error(sel, ci, el, why.buf);
			else
				rule_filter_release(&f);
			ws_buf_release(&why);
			if (bad)
				return;
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
	if (!sel->forcing) {
		/* explain compiles rules whatever their conditions say */
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

/* A remap="TRUE" variable: only its name and place are stored; the value
 * is read from the component's environment when asked (rule_sel_remap). */
static void record_remap(struct rule_sel *sel, size_t ci, const struct rule_node *v)
{
	struct rule_remap_var *r;

	if (sel->forcing || !rule_parse_bool(rule_attr(v, "remap"), 0))
		return;
	WS_ALLOC_GROW(sel->remaps, sel->nremaps + 1, sel->aremaps);
	r = &sel->remaps[sel->nremaps++];
	r->name = ws_xstrdup(rule_attr(v, "name"));
	r->comp = ci;
	r->file = v->file->path;
	r->line = v->line;
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
		record_remap(sel, ci, v);
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
	if (r < 0 && !sel->forcing) {
		comp_error(sel, ci, role, ev->reason.buf);
		return;
	}
	if (sel->forcing)
		r = 1; /* explain: show the rules of an undetected component too */
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

static void list_truncate(struct rule_cpat_list *l, size_t n);

/* Environments, roles and extensions of one component. */
static void compile_body(struct rule_sel *sel, size_t ci, struct rule_eval *ev,
			 int *had_rules, int *detected)
{
	const struct rule_comp *c = &sel->rs->comps[ci];
	struct rule_comp_sel *cs = &sel->cs[ci];

	for (const struct rule_node *k = c->node->first; k; k = k->next)
		if (k->tag == T_ENVIRONMENT)
			eval_environment(sel, ev, ci, k, cs->env);
	for (const struct rule_node *k = c->node->first; k && cs->state == RULE_COMP_ACTIVE;
	     k = k->next) {
		if (k->tag == T_ROLE) {
			compile_role(sel, ev, ci, k, c->context, had_rules, detected);
		} else if (k->tag == T_EXTENSIONS) {
			/* <extension>doc</extension> = GenerateDrivePatterns("* [*.doc]","Fixed") */
			struct oset_ctx oc = { sel, ci, RULE_INCLUDE, k, NULL, 0, NULL, ev };

			char drives[26][3];
			size_t nd = rule_fixed_drives(ev->opts, cs->env, drives);

			for (const struct rule_node *e = k->first; e; e = e->next)
				for (size_t d = 0; e->tag == T_EXTENSION && d < nd; d++) {
					struct ws_buf s = WS_BUF_INIT;

					ws_buf_addf(&s, "%s\\* [*.%s]", drives[d], e->text);
					add_pattern(&oc, RULE_FILE, s.buf, e);
					ws_buf_release(&s);
				}
			*had_rules = *detected = 1;
		}
	}
}

/* Explain mode: compile a component that takes no part into the explain
 * lists, dropping what its real compilation left in the working lists. */
static void compile_forced(struct rule_sel *sel, size_t ci, struct rule_eval *ev,
			   const size_t *marks)
{
	struct rule_comp_sel *cs = &sel->cs[ci];
	int state = cs->state, had = 0, det = 0;

	list_truncate(&sel->ie, marks[0]);
	list_truncate(&sel->ux, marks[1]);
	for (int k = RULE_MERGE; k < RULE_KIND_COUNT; k++)
		list_truncate(&sel->act[k], marks[2 + k]);
	while (sel->nadds > marks[RULE_KIND_COUNT + 2]) {
		struct rule_sel_add *a = &sel->adds[--sel->nadds];

		free(a->location);
		free(a->attributes);
		free(a->data);
	}
	while (sel->nremaps > marks[RULE_KIND_COUNT + 3])
		free(sel->remaps[--sel->nremaps].name);
	cs->includes = 0;
	cs->state = RULE_COMP_ACTIVE;
	sel->forcing = 1;
	compile_body(sel, ci, ev, &had, &det);
	sel->forcing = 0;
	cs->state = state;
}

static void compile_component(struct rule_sel *sel, size_t ci)
{
	const struct rule_comp *c = &sel->rs->comps[ci];
	struct rule_comp_sel *cs = &sel->cs[ci];
	struct rule_eval ev = { &sel->opts, NULL, WS_BUF_INIT };
	int had_rules = 0, detected = 0;
	size_t marks[RULE_KIND_COUNT + 4];

	marks[0] = sel->ie.n;
	marks[1] = sel->ux.n;
	for (int k = RULE_MERGE; k < RULE_KIND_COUNT; k++)
		marks[2 + k] = sel->act[k].n;
	marks[RULE_KIND_COUNT + 2] = sel->nadds;
	marks[RULE_KIND_COUNT + 3] = sel->nremaps;
	cs->state = c->state;
	cs->reason = ws_xstrdup(c->reason ? c->reason : "");
	if (c->parent >= 0) {
		const struct rule_comp_sel *ps = &sel->cs[c->parent];

		if (ps->state == RULE_COMP_DISABLED || ps->state == RULE_COMP_NOT_DETECTED ||
		    ps->state == RULE_COMP_OTHER_CONTEXT) {
			if (cs->state == RULE_COMP_ACTIVE)
				cs->state = ps->state;
		}
	}
	cs->env = rule_env_child(c->parent >= 0 && sel->cs[c->parent].env ?
					 sel->cs[c->parent].env : sel->opts.env);
	ev.env = cs->env;
	if (cs->state == RULE_COMP_ACTIVE && !(c->context & sel->opts.context))
		cs->state = RULE_COMP_OTHER_CONTEXT;
	if (cs->state == RULE_COMP_ACTIVE) {
		compile_body(sel, ci, &ev, &had_rules, &detected);
		if (cs->state == RULE_COMP_ACTIVE) {
			if (had_rules && !detected) {
				cs->state = RULE_COMP_NOT_DETECTED;
				free(cs->reason);
				cs->reason = ws_xstrdup("detection evaluated FALSE");
			} else if (had_rules && !cs->includes) {
				cs->state = RULE_COMP_NO_INCLUDE;
			}
		}
	}
	if (sel->opts.explain && !sel->failed && cs->state != RULE_COMP_ACTIVE &&
	    cs->state != RULE_COMP_NO_INCLUDE && cs->state != RULE_COMP_OTHER_CONTEXT &&
	    (c->context & sel->opts.context))
		compile_forced(sel, ci, &ev, marks);
	ws_buf_release(&ev.reason);
}

/* ws_name_ncasecmp, ASCII (most roots) compared here without decoding */
static int root_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	size_t n = al < bl ? al : bl;

	for (size_t i = 0; i < n; i++) {
		unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[i];

		if ((ca | cb) & 0x80)
			return ws_name_ncasecmp(a, al, b, bl);
		if (ca >= 'a' && ca <= 'z')
			ca -= 0x20;
		if (cb >= 'a' && cb <= 'z')
			cb -= 0x20;
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return al > n ? 1 : bl > n ? -1 : 0;
}

/* Is r (rl bytes) root (l bytes) or below it? */
static int root_under(const char *r, size_t rl, const char *root, size_t l)
{
	if (!l)
		return 1;
	return rl >= l && (r[l] == 0 || r[l] == '\\') && !root_cmp(r, l, root, l);
}

static int cmp_root(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;

	return root_cmp(x, strlen(x), y, strlen(y));
}

static void build_roots(struct rule_sel *sel)
{
	for (int t = 0; t < 3; t++) {
		char **all = NULL;
		size_t n = 0, alloc = 0, *lens;

		for (size_t i = 0; i < sel->ie.n; i++) {
			const struct rule_cpat *cp = &sel->ie.v[i];

			if (cp->kind != RULE_INCLUDE || rule_pattern_type(cp->p) != t ||
			    sel->cs[cp->comp].state != RULE_COMP_ACTIVE)
				continue;
			WS_ALLOC_GROW(all, n + 1, alloc);
			all[n++] = (char *)rule_pattern_root(cp->p);
		}
		if (n)
			qsort(all, n, sizeof(*all), cmp_root);
		sel->roots[t] = ws_xcalloc(n + 1, sizeof(char *));
		lens = ws_xcalloc(n + 1, sizeof(*lens)); /* of the roots kept */
		for (size_t i = 0; i < n; i++) {
			size_t rl = strlen(all[i]);
			int covered = 0;

			for (size_t j = 0; j < sel->nroots[t] && !covered; j++)
				covered = root_under(all[i], rl, sel->roots[t][j], lens[j]);
			if (!covered) {
				lens[sel->nroots[t]] = rl;
				sel->roots[t][sel->nroots[t]++] = ws_xstrdup(all[i]);
			}
		}
		free(lens);
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
	for (size_t i = sel->ie.n; i-- > 0;) {
		struct rule_comp_sel *cs = &sel->cs[sel->ie.v[i].comp];

		if (cs->ie_end == 0)
			cs->ie_end = i + 1;
		cs->ie_start = i;
	}
	build_roots(sel);
	/* complete now: decisions may be cached per node */
	sel->nodes = ws_xcalloc(1, sizeof(*sel->nodes));
	sel->nodes->raw_type = -1;
	ws_buf_init(&sel->nodes->raw);
	ws_buf_init(&sel->nodes->norm);
	ws_buf_init(&sel->nodes->upper);
	ws_buf_init(&sel->nodes->uleaf);
	sel->err = NULL;
	*out = sel;
	return WS_OK;
}

static void list_truncate(struct rule_cpat_list *l, size_t n)
{
	while (l->n > n) {
		struct rule_cpat *cp = &l->v[--l->n];

		rule_pattern_free(cp->p);
		free(cp->filter);
		free(cp->script);
		free(cp->function);
		rule_filter_release(&cp->filt);
	}
}

static void list_free(struct rule_cpat_list *l)
{
	list_truncate(l, 0);
	free(l->v);
}

void rule_sel_free(struct rule_sel *sel)
{
	if (!sel)
		return;
	list_free(&sel->ie);
	list_free(&sel->ux);
	list_free(&sel->xie);
	list_free(&sel->xux);
	for (size_t i = 0; i < sel->nremaps; i++)
		free(sel->remaps[i].name);
	free(sel->remaps);
	for (size_t i = 0; i < sel->nadds; i++) {
		free(sel->adds[i].location);
		free(sel->adds[i].attributes);
		free(sel->adds[i].data);
	}
	free(sel->adds);
	for (int k = 0; k < RULE_KIND_COUNT; k++)
		list_free(&sel->act[k]);
	for (size_t i = 0; i < sel->rs->ncomps; i++) {
		free(sel->cs[i].reason);
		rule_env_free(sel->cs[i].env);
	}
	free(sel->cs);
	rule_node_cache_free(sel->nodes);
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

/* ----------------------- apply-side accessors --------------------------- */

static int comp_active(const struct rule_sel *sel, size_t ci)
{
	return sel->cs[ci].state == RULE_COMP_ACTIVE;
}

size_t rule_sel_remap_count(const struct rule_sel *sel)
{
	size_t n = 0;

	for (size_t i = 0; i < sel->nremaps; i++)
		n += comp_active(sel, sel->remaps[i].comp) &&
		     rule_env_get(sel->cs[sel->remaps[i].comp].env, sel->remaps[i].name);
	return n;
}

int rule_sel_remap(const struct rule_sel *sel, size_t i, struct rule_remap *out)
{
	for (size_t j = 0; j < sel->nremaps; j++) {
		const struct rule_remap_var *r = &sel->remaps[j];
		const char *val = comp_active(sel, r->comp) ?
					  rule_env_get(sel->cs[r->comp].env, r->name) : NULL;

		if (!val || i-- > 0)
			continue;
		out->name = r->name;
		out->value = val;
		out->component = sel->rs->comps[r->comp].name;
		out->file = r->file;
		out->line = r->line;
		return 0;
	}
	return -1;
}

size_t rule_sel_add_object_count(const struct rule_sel *sel)
{
	size_t n = 0;

	for (size_t i = 0; i < sel->nadds; i++)
		n += comp_active(sel, sel->adds[i].comp);
	return n;
}

int rule_sel_add_object(const struct rule_sel *sel, size_t i, struct rule_add_object *out)
{
	for (size_t j = 0; j < sel->nadds; j++) {
		const struct rule_sel_add *a = &sel->adds[j];

		if (!comp_active(sel, a->comp) || i-- > 0)
			continue;
		memset(out, 0, sizeof(*out));
		out->type = a->type;
		out->location = a->location;
		out->attributes = a->attributes;
		out->reg_type = a->reg_type;
		out->file_attributes = a->file_attributes;
		out->data = a->data;
		out->len = a->len;
		out->component = sel->rs->comps[a->comp].name;
		out->file = a->file;
		out->line = a->line;
		return 0;
	}
	return -1;
}
