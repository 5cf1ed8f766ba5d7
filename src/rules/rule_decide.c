/*
 * rule_decide.c - deciding objects against a compiled selection with USMT's
 * precedence: per component the most specific pattern wins (equal: exclude),
 * components are independent, an unconditionalExclude anywhere wins.  Also
 * the walker's pruning question, the roots, and the LoadState-side rule
 * lookups.
 */
#include "rules_private.h"

#include <string.h>
#include <strings.h>

static void fill(const struct rule_sel *sel, const struct rule_cpat *cp, int included,
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

/* Does pattern cp match the (upper-cased) object, its filter included? */
static int cp_matches(const struct rule_sel *sel, const struct rule_cpat *cp, int type,
		      const char *un, size_t unl, const char *ul, const char *node,
		      const char *leaf, const struct rule_object *obj, int *filter_passed)
{
	if (filter_passed)
		*filter_passed = 1;
	if (rule_pattern_type(cp->p) != type ||
	    rule_pattern_match_upper_n(cp->p, un, unl, ul) != 1)
		return 0;
	if (cp->filt.kind != FILT_NONE &&
	    !rule_filter_eval(&cp->filt, sel->opts.probe, type, node, leaf, obj)) {
		if (filter_passed)
			*filter_passed = 0;
		return filter_passed ? 1 : 0;
	}
	return 1;
}

/* A component whose unconditionalExcludes count (one with only excludes
 * does nothing, but its unconditionalExclude still beats everything). */
static int ux_counts(const struct rule_sel *sel, const struct rule_cpat *cp)
{
	int st = sel->cs[cp->comp].state;

	return st == RULE_COMP_ACTIVE || st == RULE_COMP_NO_INCLUDE;
}

struct verdict {
	const struct rule_cpat *who;   /* deciding rule or NULL */
	int included;
	int why;                  /* enum rule_why */
};

static int has_suffix_ci(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);

	return n >= m && !strncasecmp(s + n - m, suf, m);
}

int rule_is_hive_file(const char *leaf)
{
	size_t n = leaf ? strlen(leaf) : 0;

	if (!n)
		return 0;
	return !strncasecmp(leaf, "NTUSER.DAT", 10) || !strncasecmp(leaf, "UsrClass.dat", 12) ||
	       has_suffix_ci(leaf, n, ".LOG1") || has_suffix_ci(leaf, n, ".LOG2") ||
	       has_suffix_ci(leaf, n, ".blf") || has_suffix_ci(leaf, n, ".regtrans-ms");
}

/* The patterns of `list` whose type is `type` and whose node half matches
 * (a limit hit counts as no match, as in cp_matches); with `quick`, each
 * one's leaf prefilter too (grown with *idx).  Only the patterns `from`
 * names are looked at (in order; NULL: all of them), and the ones whose
 * literal prefix and the node are one a prefix of the other are listed in
 * *cidx (struct rule_node_slot). */
static void node_candidates(const struct rule_cpat_list *list, int type, const char *un,
			    size_t unl, const uint32_t *from, size_t nfrom, size_t known,
			    uint32_t **idx, struct rule_leaf_quick **quick,
			    size_t *n, size_t *alloc, uint32_t **cidx, size_t *nc,
			    size_t *ac)
{
	size_t count = from ? nfrom : list->n;

	*n = 0;
	*nc = 0;
	/* at most every one looked at is listed: no growth per candidate */
	WS_ALLOC_GROW(*cidx, count, *ac);
	for (size_t k = 0; k < count; k++) {
		size_t i = from ? from[k] : k;
		const struct rule_cpat *cp = &list->v[i];
		const struct rule_pattern *p = cp->p;
		size_t ll = cp->ulit_len;

		/* the literal prefix here, without a call: most patterns of a
		 * rule set name other folders.  One of `from` whose prefix is
		 * no longer than `known`, the node it was listed for, which
		 * begins this one, is of this type and matches it already
		 * (most of a subfolder's: those naming its parents). */
		if (!(from && ll <= known) &&
		    (cp->type != type || memcmp(un, cp->ulit, ll < unl ? ll : unl)))
			continue;
		(*cidx)[(*nc)++] = (uint32_t)i;
		if (ll > unl)
			continue;
		/* a tree's node is its prefix, matched just above, at a
		 * folder's boundary: no call (most candidates of a folder) */
		if (cp->tree ? (un[ll] == '\0' || un[ll] == '\\') :
			       rule_pattern_match_node_upper(p, un, unl) == 1) {
			if (*n + 1 > *alloc && quick) {
				size_t a = *alloc;

				WS_ALLOC_GROW(*idx, *n + 1, a);
				*quick = ws_xrealloc(*quick, a * sizeof(**quick));
				*alloc = a;
			} else {
				WS_ALLOC_GROW(*idx, *n + 1, *alloc);
			}
			if (quick)
				(*quick)[*n] = cp->quick;
			(*idx)[(*n)++] = (uint32_t)i;
		}
	}
}

/* The pattern of the slot's k-th include/exclude candidate. */
static const struct rule_pattern *c_pat(const struct rule_sel *sel,
					const struct rule_node_slot *sl, size_t k)
{
	return sel->ie.v[sl->ie[k]].p;
}

/* The bucketed form of the slot's include/exclude list (struct
 * rule_ieset): interned, built for the first slot that has that list;
 * NULL past RULE_IESET_MAX lists (the slot's objects are then tested
 * against every candidate). */
static const struct rule_ieset *ieset_for(const struct rule_sel *sel,
					  struct rule_node_cache *c,
					  const struct rule_node_slot *sl)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a over the indexes */
	size_t nn = 0, nnode = 0, total;
	unsigned cnt[256] = { 0 };
	struct rule_ieset *set;

	for (size_t k = 0; k < sl->n_ie; k++)
		h = (h ^ sl->ie[k]) * 1099511628211ULL;
	for (size_t i = 0; i < c->nsets; i++) {
		set = c->sets[i];
		if (set->hash == h && set->n == sl->n_ie &&
		    (!sl->n_ie || !memcmp(set->ie, sl->ie, sl->n_ie * sizeof(*sl->ie))))
			return set;
	}
	if (c->nsets >= RULE_IESET_MAX)
		return NULL;
	for (size_t k = 0; k < sl->n_ie; k++) {
		if (sl->ieq[k].mask)
			cnt[sl->ieq[k].tail & 0xFF]++;
		else
			nn++;
		if (!rule_pattern_has_leaf(c_pat(sel, sl, k)))
			nnode++;
	}
	total = nn + nnode;
	for (unsigned b = 0; b < 256; b++)
		if (cnt[b])
			total += nn + cnt[b];
	set = ws_xcalloc(1, sizeof(*set));
	set->hash = h;
	set->n = sl->n_ie;
	set->ie = ws_xmalloc((sl->n_ie ? sl->n_ie : 1) * sizeof(*set->ie));
	if (sl->n_ie)
		memcpy(set->ie, sl->ie, sl->n_ie * sizeof(*sl->ie));
	set->pos = ws_xmalloc((total ? total : 1) * sizeof(*set->pos));
	/* bucket 0..255 without a tail of its own: the tail-less ones, first */
	total = 0;
	for (size_t k = 0; k < sl->n_ie; k++)
		if (!sl->ieq[k].mask)
			set->pos[total++] = (uint32_t)k;
	for (unsigned b = 0; b < 256; b++) {
		set->len[b] = (uint32_t)nn;
		if (!cnt[b])
			continue;
		set->off[b] = (uint32_t)total;
		for (size_t k = 0; k < sl->n_ie; k++)
			if (!sl->ieq[k].mask || (sl->ieq[k].tail & 0xFF) == b)
				set->pos[total++] = (uint32_t)k;
		set->len[b] = (uint32_t)(total - set->off[b]);
	}
	set->node_off = (uint32_t)total;
	for (size_t k = 0; k < sl->n_ie; k++)
		if (!rule_pattern_has_leaf(c_pat(sel, sl, k)))
			set->pos[total++] = (uint32_t)k;
	set->node_len = (uint32_t)nnode;
	WS_ALLOC_GROW(c->sets, c->nsets + 1, c->asets);
	c->sets[c->nsets++] = set;
	return set;
}

/* The cache slot of (type, un), filled on a miss; NULL without a cache. */
static const struct rule_node_slot *node_slot(const struct rule_sel *sel, int type,
					      const char *un, size_t unl)
{
	struct rule_node_cache *c = sel->nodes;
	struct rule_node_slot *victim, *up = NULL;

	if (!c)
		return NULL;
	c->clock++;
	victim = &c->slot[0];
	for (int i = 0; i < RULE_NODE_CACHE_SLOTS; i++) {
		struct rule_node_slot *sl = &c->slot[i];

		if (sl->unode && sl->type == type && sl->unl == unl && !memcmp(sl->unode, un, unl)) {
			sl->used = c->clock;
			return sl;
		}
		if (sl->used < victim->used)
			victim = sl;
	}
	/* the longest node cached that this one starts with (its folder,
	 * mostly): this node's candidates are among its listed patterns */
	for (int i = 0; i < RULE_NODE_CACHE_SLOTS; i++) {
		struct rule_node_slot *sl = &c->slot[i];

		if (sl != victim && sl->unode && sl->type == type && sl->unl < unl &&
		    !memcmp(sl->unode, un, sl->unl) && (!up || sl->unl > up->unl))
			up = sl;
	}
	free(victim->unode);
	victim->unode = ws_xstrndup(un, unl);
	victim->unl = unl;
	victim->type = type;
	victim->used = c->clock;
	node_candidates(&sel->ux, type, un, unl, up ? up->cux : NULL, up ? up->n_cux : 0,
			up ? up->unl : 0,
			&victim->ux, NULL, &victim->n_ux, &victim->a_ux, &victim->cux,
			&victim->n_cux, &victim->a_cux);
	node_candidates(&sel->ie, type, un, unl, up ? up->cie : NULL, up ? up->n_cie : 0,
			up ? up->unl : 0,
			&victim->ie, &victim->ieq, &victim->n_ie, &victim->a_ie, &victim->cie,
			&victim->n_cie, &victim->a_cie);
	victim->set = ieset_for(sel, c, victim);
	return victim;
}

void rule_node_cache_free(struct rule_node_cache *c)
{
	if (!c)
		return;
	ws_buf_release(&c->raw);
	ws_buf_release(&c->norm);
	ws_buf_release(&c->upper);
	ws_buf_release(&c->uleaf);
	for (int i = 0; i < RULE_NODE_CACHE_SLOTS; i++) {
		free(c->slot[i].unode);
		free(c->slot[i].ux);
		free(c->slot[i].ie);
		free(c->slot[i].ieq);
		free(c->slot[i].cux);
		free(c->slot[i].cie);
	}
	for (size_t i = 0; i < c->nsets; i++) {
		free(c->sets[i]->ie);
		free(c->sets[i]->pos);
		free(c->sets[i]);
	}
	free(c->sets);
	free(c);
}

/* Does cp match, its node half known to match? (cp_matches otherwise) */
static int cp_matches_leaf(const struct rule_sel *sel, const struct rule_cpat *cp, int type,
			   const char *ul, const char *node, const char *leaf,
			   const struct rule_object *obj)
{
	if (rule_pattern_match_leaf_upper(cp->p, ul) != 1)
		return 0;
	return cp->filt.kind == FILT_NONE ||
	       rule_filter_eval(&cp->filt, sel->opts.probe, type, node, leaf, obj);
}

/* USMT precedence over the compiled rules (see the file comment). */
static void decide(const struct rule_sel *sel, int type, const char *un, const char *ul,
		   const char *node, const char *leaf, const struct rule_object *obj,
		   struct verdict *v)
{
	size_t unl = strlen(un);   /* once per object, not per pattern */
	size_t ull = ul ? strlen(ul) : 0;
	uint64_t utail = ul ? rule_leaf_tail(ul, ull) : 0;
	const struct rule_cpat *inc = NULL, *exc = NULL;
	const struct rule_node_slot *ns;
	size_t cur = (size_t)-1, n_ux, n_ie, npos;
	const uint32_t *pos = NULL;  /* positions in ns->ie to look at (NULL: all) */
	int first_no_why = RULE_WHY_NO_MATCH;

	memset(v, 0, sizeof(*v));
	/* Hives travel as registry values, never as files: before any rule. */
	if (type == RULE_FILE && leaf && rule_is_hive_file(leaf)) {
		v->why = RULE_WHY_HIVE_FILE;
		return;
	}
	/* Only the patterns whose node matches take part: from the cache, or
	 * every pattern tested whole. */
	ns = node_slot(sel, type, un, unl);
	n_ux = ns ? ns->n_ux : sel->ux.n;
	n_ie = ns ? ns->n_ie : sel->ie.n;
#define MATCHES(cp) (ns ? cp_matches_leaf(sel, cp, type, ul, node, leaf, obj) \
			: cp_matches(sel, cp, type, un, unl, ul, node, leaf, obj, NULL))
	for (size_t k = 0; k < n_ux; k++) {
		const struct rule_cpat *cp = &sel->ux.v[ns ? ns->ux[k] : k];

		if (ux_counts(sel, cp) && MATCHES(cp)) {
			v->who = cp;
			v->why = RULE_WHY_UNCOND_EXCLUDE;
			return;
		}
	}
	/* only the candidates whose tail may end as the leaf does (the others
	 * would fail rule_leaf_quick_may below), or without a leaf for an
	 * object without one (the others never match it): a component none
	 * of whose candidates is looked at decides nothing, as when all fail */
	npos = n_ie;
	if (ns && ns->set) {
		pos = ns->set->pos + (ul ? ns->set->off[utail & 0xFF] : ns->set->node_off);
		npos = ul ? ns->set->len[utail & 0xFF] : ns->set->node_len;
	}
	for (size_t j = 0; j <= npos; j++) {
		size_t k = j < npos ? (pos ? pos[j] : j) : n_ie;
		const struct rule_cpat *cp = k < n_ie ? &sel->ie.v[ns ? ns->ie[k] : k] : NULL;

		if (!cp || cp->comp != cur) {
			/* close the previous component */
			int c = inc && exc ? rule_pattern_cmp_specificity(inc->p, exc->p) : 0;

			if (inc && (!exc || c > 0)) {
				v->who = inc;
				v->included = 1;
				v->why = RULE_WHY_MOST_SPECIFIC_INCLUDE;
				return;
			}
			if (exc && !v->who) {
				v->who = exc;
				first_no_why = !inc ? RULE_WHY_ONLY_EXCLUDES :
					       c == 0 ? RULE_WHY_EQUAL_EXCLUDE :
							RULE_WHY_MORE_SPECIFIC_EXCLUDE;
			}
			inc = exc = NULL;
			if (!cp)
				break;
			cur = cp->comp;
		}
		/* most candidates of a folder are ruled out by their leaf's
		 * last bytes (extensions), without a call */
		if (ns && ul && !rule_leaf_quick_may(&ns->ieq[k], ull, utail))
			continue;
		if (sel->cs[cp->comp].state != RULE_COMP_ACTIVE || !MATCHES(cp))
			continue;
		if (cp->kind == RULE_INCLUDE) {
			if (!inc || rule_pattern_cmp_specificity(cp->p, inc->p) > 0)
				inc = cp;
		} else if (!exc || rule_pattern_cmp_specificity(cp->p, exc->p) > 0) {
			exc = cp;
		}
	}
#undef MATCHES
	v->why = first_no_why;
}

/* The node normalised and upper-cased into the cache's kept buffers,
 * once per folder (its own rule_sel_dir, its objects): no allocation per
 * call. */
static void cache_node(struct rule_node_cache *c, int type, const char *node)
{
	size_t rl = strlen(node);

	if (c->raw_type != type || c->raw.len != rl || memcmp(c->raw.buf, node, rl)) {
		ws_buf_reset(&c->raw);
		ws_buf_add(&c->raw, node, rl);
		c->raw_type = type;
		ws_buf_reset(&c->norm);
		rule_node_norm(node, type, &c->norm);
		ws_buf_reset(&c->upper);
		rule_upper(c->norm.buf, &c->upper);
	}
}

int rule_sel_object_ex(const struct rule_sel *sel, int type, const char *node,
		       const char *leaf, const struct rule_object *obj,
		       struct rule_decision *d)
{
	struct ws_buf n = WS_BUF_INIT, un = WS_BUF_INIT, ul = WS_BUF_INIT;
	struct rule_node_cache *c = sel->nodes;
	struct verdict v;

	if (c) {
		/* the leaf into a kept buffer: no allocation per object */
		cache_node(c, type, node);
		if (leaf) {
			ws_buf_reset(&c->uleaf);
			rule_upper(leaf, &c->uleaf);
		}
		decide(sel, type, c->upper.buf, leaf ? c->uleaf.buf : NULL,
		       c->norm.buf, leaf, obj, &v);
		fill(sel, v.who, v.included, d);
		return v.included;
	}
	rule_node_norm(node, type, &n);
	rule_upper(n.buf, &un);
	if (leaf)
		rule_upper(leaf, &ul);
	decide(sel, type, un.buf, leaf ? ul.buf : NULL, n.buf, leaf, obj, &v);
	fill(sel, v.who, v.included, d);
	ws_buf_release(&n);
	ws_buf_release(&un);
	ws_buf_release(&ul);
	return v.included;
}

int rule_sel_object(const struct rule_sel *sel, int type, const char *node,
		    const char *leaf, struct rule_decision *d)
{
	return rule_sel_object_ex(sel, type, node, leaf, NULL, d);
}

const char *rule_why_text(int why)
{
	switch (why) {
	case RULE_WHY_UNCOND_EXCLUDE:
		return "unconditionalExclude (beats every rule of every component)";
	case RULE_WHY_MOST_SPECIFIC_INCLUDE:
		return "most specific: the include is the most specific matching rule of its component";
	case RULE_WHY_MORE_SPECIFIC_EXCLUDE:
		return "most specific: the exclude is more specific than every matching include of its component";
	case RULE_WHY_EQUAL_EXCLUDE:
		return "exclude beats an equally specific include";
	case RULE_WHY_ONLY_EXCLUDES:
		return "only exclude rules match: nothing includes the object";
	case RULE_WHY_HIVE_FILE:
		return "a registry hive or hive log is never migrated as a file, whatever the "
		       "rules say (its settings travel through the registry)";
	default:
		return "no include rule matches";
	}
}

static void report(const struct rule_sel *sel, const struct rule_cpat *cp, int filter_passed,
		   const struct verdict *v,
		   void (*fn)(void *arg, const struct rule_match *m), void *arg)
{
	struct rule_match m;

	memset(&m, 0, sizeof(m));
	m.kind = cp->kind;
	m.component = cp->comp;
	m.component_name = sel->rs->comps[cp->comp].name;
	m.state = sel->cs[cp->comp].state;
	m.file = cp->file;
	m.line = cp->line;
	m.pattern = rule_pattern_text(cp->p);
	m.filter = cp->filter;
	m.filter_passed = filter_passed;
	rule_pattern_specificity(cp->p, &m.spec);
	m.decisive = cp == v->who;
	fn(arg, &m);
}

int rule_sel_explain(const struct rule_sel *sel, int type, const char *node,
		     const char *leaf, const struct rule_object *obj,
		     void (*fn)(void *arg, const struct rule_match *m), void *arg,
		     struct rule_explanation *out)
{
	struct ws_buf n = WS_BUF_INIT, un = WS_BUF_INIT, ul = WS_BUF_INIT;
	const struct rule_cpat_list *order[4] = { &sel->ux, &sel->xux, &sel->ie, &sel->xie };
	struct verdict v;
	const char *u;

	rule_node_norm(node, type, &n);
	rule_upper(n.buf, &un);
	if (leaf)
		rule_upper(leaf, &ul);
	u = leaf ? ul.buf : NULL;
	decide(sel, type, un.buf, u, n.buf, leaf, obj, &v);
	for (int l = 0; fn && l < 4; l++) {
		const struct rule_cpat_list *list = order[l];

		for (size_t i = 0; i < list->n; i++) {
			int passed;

			if (cp_matches(sel, &list->v[i], type, un.buf, un.len, u, n.buf, leaf, obj, &passed))
				report(sel, &list->v[i], passed, &v, fn, arg);
		}
	}
	if (out) {
		memset(out, 0, sizeof(*out));
		out->included = v.included;
		out->why = v.why;
		fill(sel, v.who, v.included, &out->decision);
	}
	ws_buf_release(&n);
	ws_buf_release(&un);
	ws_buf_release(&ul);
	return v.included;
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

/* Is everything below `unode` that include `inc` could reach excluded by a
 * tree exclude "R\\* [*]" of the same component at least as specific (so
 * that it wins for every object there)?  Filtered excludes do not count. */
static int tree_excluded(const struct rule_sel *sel, const struct rule_cpat *inc, const char *unode)
{
	const struct rule_comp_sel *cs = &sel->cs[inc->comp];

	if (!rule_pattern_has_leaf(inc->p))
		return 0; /* folder/key objects themselves: keep walking */
	for (size_t j = cs->ie_start; j < cs->ie_end; j++) {
		const struct rule_cpat *e = &sel->ie.v[j];

		if (e->kind == RULE_EXCLUDE && e->filt.kind == FILT_NONE &&
		    rule_pattern_type(e->p) == rule_pattern_type(inc->p) &&
		    rule_pattern_covers_tree_upper(e->p, unode) &&
		    rule_pattern_cmp_specificity(e->p, inc->p) >= 0)
			return 1;
	}
	return 0;
}

int rule_sel_dir(const struct rule_sel *sel, int type, const char *node)
{
	struct ws_buf n = WS_BUF_INIT, own = WS_BUF_INIT;
	const char *ub;
	size_t ulen;
	const struct rule_node_slot *ns;
	size_t n_ie;
	int rc = 0, gone = 0;

	if (sel->nodes) {
		cache_node(sel->nodes, type, node);
		ub = sel->nodes->upper.buf;
		ulen = sel->nodes->upper.len;
	} else {
		rule_node_norm(node, type, &n);
		rule_upper(n.buf, &own);
		ub = own.buf;
		ulen = own.len;
	}
	/* an unconditionalExclude of the whole tree wins for everything below */
	for (size_t i = 0; i < sel->ux.n && !gone; i++) {
		const struct rule_cpat *cp = &sel->ux.v[i];

		gone = ux_counts(sel, cp) && cp->filt.kind == FILT_NONE &&
		       rule_pattern_type(cp->p) == type &&
		       rule_pattern_covers_tree_upper(cp->p, ub);
	}
	/* the includes tested below are those whose literal prefix and the
	 * node are one a prefix of the other: the cache's list of them for
	 * this node (which the objects of the folder then find there), in
	 * the same order, else every include */
	ns = gone ? NULL : node_slot(sel, type, ub, ulen);
	n_ie = ns ? ns->n_cie : sel->ie.n;
	for (size_t k = 0; k < n_ie && !rc && !gone; k++) {
		const struct rule_cpat *cp = &sel->ie.v[ns ? ns->cie[k] : k];
		size_t m = cp->ulit_len < ulen ? cp->ulit_len : ulen;

		/* one must be a prefix of the other (the test
		 * rule_pattern_may_match_below_upper begins with), here */
		if (cp->kind == RULE_INCLUDE && cp->type == type && !memcmp(ub, cp->ulit, m) &&
		    sel->cs[cp->comp].state == RULE_COMP_ACTIVE &&
		    rule_pattern_may_match_below_upper(cp->p, ub))
			rc = !tree_excluded(sel, cp, ub);
	}
	ws_buf_release(&n);
	ws_buf_release(&own);
	return rc;
}

int rule_sel_dir_excluded(const struct rule_sel *sel, int type, const char *node)
{
	struct ws_buf n = WS_BUF_INIT, un = WS_BUF_INIT;
	int hit = 0;

	rule_node_norm(node, type, &n);
	rule_upper(n.buf, &un);
	for (size_t i = 0; i < sel->ux.n && !hit; i++) {
		const struct rule_cpat *cp = &sel->ux.v[i];

		hit = ux_counts(sel, cp) && cp->filt.kind == FILT_NONE &&
		      rule_pattern_type(cp->p) == type &&
		      rule_pattern_covers_tree_upper(cp->p, un.buf);
	}
	for (size_t i = 0; i < sel->ie.n && !hit; i++) {
		const struct rule_cpat *cp = &sel->ie.v[i];

		hit = cp->kind == RULE_EXCLUDE && sel->cs[cp->comp].state == RULE_COMP_ACTIVE &&
		      cp->filt.kind == FILT_NONE && rule_pattern_type(cp->p) == type &&
		      rule_pattern_covers_tree_upper(cp->p, un.buf);
	}
	ws_buf_release(&n);
	ws_buf_release(&un);
	return hit;
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
	const struct rule_cpat *best = NULL;

	if (kind < RULE_MERGE || kind >= RULE_KIND_COUNT)
		return 0;
	rule_node_norm(node, type, &n);
	rule_upper(n.buf, &un);
	if (leaf)
		rule_upper(leaf, &ul);
	for (size_t i = 0; i < sel->act[kind].n; i++) {
		const struct rule_cpat *cp = &sel->act[kind].v[i];

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

int rule_sel_never_restores(const struct rule_sel *sel, int type)
{
	for (size_t i = 0; i < sel->ie.n; i++)
		if (sel->ie.v[i].kind == RULE_INCLUDE && sel->ie.v[i].never_restore &&
		    rule_pattern_type(sel->ie.v[i].p) == type)
			return 1;
	return 0;
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
	const struct rule_cpat *cp = NULL;

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
