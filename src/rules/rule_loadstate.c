/*
 * rule_loadstate.c - the LoadState-side helper functions as pure
 * transforms: locationModify (Move, RelativeMove, ExactMove), contentModify
 * (ConvertToDWORD/String/Binary, OffsetValue, SetValueByTable, KeepExisting,
 * MergeMultiSzContent, MergeDelimitedContent) on raw registry data, and the
 * merge decisions (SourcePriority, DestinationPriority, NewestVersion,
 * HigherValue, LowerValue, FindFilePlaceByPattern).  The apply engine asks
 * the selection which rule matches an object and feeds its script here.
 */
#include "rules_private.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "util/ws_utf.h"
#include "util/ws_str.h"

/* Registry types used here (reg.h numbers; rules/ does not include reg/). */
#define T_SZ 1u
#define T_EXPAND_SZ 2u
#define T_BINARY 3u
#define T_DWORD 4u
#define T_DWORD_BE 5u
#define T_MULTI_SZ 7u
#define T_QWORD 11u

static int bad(struct ws_buf *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct ws_buf *why, const char *fmt, ...)
{
	va_list ap;

	if (why) {
		va_start(ap, fmt);
		ws_buf_vaddf(why, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- parsing ------------------------------------------------------------- */

int rule_ls_parse(const char *script, const struct rule_env *env, struct rule_ls_call *c,
		  struct ws_buf *why)
{
	struct rule_call rc;

	memset(c, 0, sizeof(*c));
	if (!script || rule_call_parse(script, &rc) != 0)
		return bad(why, "malformed script '%s'", script ? script : "");
	if (rc.prefix && *rc.prefix && strcasecmp(rc.prefix, "MigXmlHelper")) {
		bad(why, "%s.%s is not a MigXmlHelper function", rc.prefix, rc.fn);
		rule_call_release(&rc);
		return -1;
	}
	c->fn = ws_xstrdup(rc.fn);
	c->nargs = rc.nargs < RULE_LS_MAX_ARGS ? rc.nargs : RULE_LS_MAX_ARGS;
	for (int i = 0; i < c->nargs; i++) {
		struct ws_buf e = WS_BUF_INIT;
		char missing[128];

		if (!rc.args[i])
			continue; /* bare NULL */
		if (env && rule_env_expand(env, rc.args[i], &e, missing, sizeof(missing)) < 0) {
			bad(why, "%s: variable %%%s%% is not set on the target", c->fn, missing);
			ws_buf_release(&e);
			rule_call_release(&rc);
			rule_ls_call_release(c);
			return -1;
		}
		if (!env)
			ws_buf_adds(&e, rc.args[i]);
		c->args[i] = ws_buf_detach(&e, NULL);
	}
	rule_call_release(&rc);
	return 0;
}

void rule_ls_call_release(struct rule_ls_call *c)
{
	free(c->fn);
	for (int i = 0; i < RULE_LS_MAX_ARGS; i++)
		free(c->args[i]);
	memset(c, 0, sizeof(*c));
}

static int is_fn(const struct rule_ls_call *c, const char *name)
{
	return c->fn && !strcasecmp(c->fn, name);
}

/* Argument i, or NULL when absent or a bare NULL or the text "NULL". */
static const char *arg(const struct rule_ls_call *c, int i)
{
	if (i >= c->nargs || !c->args[i] || !strcasecmp(c->args[i], "NULL"))
		return NULL;
	return c->args[i];
}

/* ---- locationModify ------------------------------------------------------ */

/* Does `node` equal `root` or lie below it?  Length of the root when so. */
static size_t under(const char *node, const char *root)
{
	size_t rl = strlen(root), nl = strlen(node);

	if (!rl || nl < rl || ws_name_ncasecmp(node, rl, root, rl))
		return 0;
	if (node[rl] && node[rl] != '\\')
		return 0;
	return rl;
}

int rule_ls_location(const struct rule_ls_call *c, int type, const char *node,
		     const char *leaf, const char *const *roots, size_t nroots,
		     struct ws_buf *new_node, struct ws_buf *new_leaf, struct ws_buf *why)
{
	struct ws_buf n = WS_BUF_INIT, a0 = WS_BUF_INIT, a1 = WS_BUF_INIT;
	int rc = 1;

	rule_node_norm(node, type, &n);
	if (is_fn(c, "RelativeMove")) {
		size_t l;

		if (!arg(c, 0) || !arg(c, 1)) {
			rc = bad(why, "RelativeMove needs a source root and a destination root");
			goto out;
		}
		rule_node_norm(arg(c, 0), type, &a0);
		rule_node_norm(arg(c, 1), type, &a1);
		if (!(l = under(n.buf, a0.buf))) {
			rc = 0; /* not below the source root: not moved */
			goto out;
		}
		ws_buf_adds(new_node, a1.buf);
		ws_buf_adds(new_node, n.buf + l);
		if (leaf)
			ws_buf_adds(new_leaf, leaf);
	} else if (is_fn(c, "Move")) {
		size_t best = 0;

		if (!arg(c, 0)) {
			rc = bad(why, "Move needs a destination root");
			goto out;
		}
		rule_node_norm(arg(c, 0), type, &a1);
		for (size_t i = 0; i < nroots; i++) {
			struct ws_buf r = WS_BUF_INIT;
			size_t l;

			rule_node_norm(roots[i], type, &r);
			l = under(n.buf, r.buf);
			if (l > best)
				best = l;
			ws_buf_release(&r);
		}
		if (!best) {
			/* no known folder holds it: keep the path below the drive
			 * or root key */
			const char *bs = strchr(n.buf, '\\');

			best = bs ? (size_t)(bs - n.buf) : n.len;
		}
		ws_buf_adds(new_node, a1.buf);
		ws_buf_adds(new_node, n.buf + best);
		if (leaf)
			ws_buf_adds(new_leaf, leaf);
	} else if (is_fn(c, "ExactMove")) {
		struct ws_buf ln = WS_BUF_INIT, ll = WS_BUF_INIT;
		int has_leaf = 0;

		if (!arg(c, 0) || rule_loc_split(arg(c, 0), type, &ln, &ll, &has_leaf) != 0 ||
		    !ln.len) {
			rc = bad(why, "ExactMove needs an encoded location, not '%s'",
				 arg(c, 0) ? arg(c, 0) : "");
		} else {
			rule_node_norm(ln.buf, type, new_node);
			if (leaf)
				ws_buf_adds(new_leaf, has_leaf ? ll.buf : leaf);
		}
		ws_buf_release(&ln);
		ws_buf_release(&ll);
	} else {
		rc = bad(why, "locationModify function '%s' is not supported", c->fn ? c->fn : "");
	}
out:
	ws_buf_release(&n);
	ws_buf_release(&a0);
	ws_buf_release(&a1);
	return rc;
}

/* ---- contentModify -------------------------------------------------------- */

/* Text of a string value (UTF-8, up to the first NUL). */
static void text_of(const struct rule_ls_value *v, struct ws_buf *out)
{
	ws_utf16le_to_utf8(v->data, v->len, out, WS_UTF16_STOP_AT_NUL);
}

static int is_string(uint32_t t)
{
	return t == T_SZ || t == T_EXPAND_SZ;
}

/* A decimal ("-12", "+3") or hex ("0x1F") integer, blanks around allowed. */
static int parse_num(const char *s, int64_t *out)
{
	char *end;
	int neg = 0;
	uint64_t u;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!(*s >= '0' && *s <= '9'))
		return -1;
	errno = 0;
	u = strtoull(s, &end, (s[0] == '0' && (s[1] | 0x20) == 'x') ? 16 : 10);
	if (errno || end == s)
		return -1;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end || u > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

/* The number a value holds: DWORD, DWORD_BE, QWORD, or a numeric string. */
static int value_num(const struct rule_ls_value *v, int64_t *out)
{
	if ((v->type == T_DWORD || v->type == T_DWORD_BE) && v->len == 4) {
		uint32_t x = ws_get_u32le(v->data);

		if (v->type == T_DWORD_BE)
			x = (x >> 24) | ((x >> 8) & 0xff00u) | ((x << 8) & 0xff0000u) | (x << 24);
		*out = x;
		return 0;
	}
	if (v->type == T_QWORD && v->len == 8) {
		uint64_t x = ws_get_u64le(v->data);

		if (x > (uint64_t)INT64_MAX)
			return -1;
		*out = (int64_t)x;
		return 0;
	}
	if (is_string(v->type)) {
		struct ws_buf t = WS_BUF_INIT;
		int rc;

		text_of(v, &t);
		rc = parse_num(t.buf ? t.buf : "", out);
		ws_buf_release(&t);
		return rc;
	}
	return -1;
}

/* A DWORD result from any integer in [-2^31, 2^32). */
static int dword_of(int64_t n, uint32_t *out)
{
	if (n < INT32_MIN || n > (int64_t)UINT32_MAX)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

static void put_string(const char *utf8, struct ws_buf *out)
{
	if (ws_utf8_to_utf16le(utf8, strlen(utf8), out) != 0)
		return;
	ws_buf_add_u16le(out, 0);
}

static void put_dword(uint32_t v, struct ws_buf *out)
{
	ws_buf_add_u32le(out, v);
}

/* The value as text for tables: strings as written, numbers in decimal. */
static int value_text(const struct rule_ls_value *v, struct ws_buf *out)
{
	int64_t n;

	if (is_string(v->type)) {
		text_of(v, out);
		return 0;
	}
	if (value_num(v, &n) == 0) {
		ws_buf_addf(out, "%lld", (long long)n);
		return 0;
	}
	return -1;
}

/* Item i of a comma-separated list (blanks trimmed), or -1 when none. */
static int list_item(const char *list, size_t i, struct ws_buf *out)
{
	const char *s = list;

	for (;;) {
		const char *e = strchr(s, ',');
		size_t l = e ? (size_t)(e - s) : strlen(s);

		if (i-- == 0) {
			while (l && (*s == ' ' || *s == '\t'))
				s++, l--;
			while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
				l--;
			ws_buf_add(out, s, l);
			if (!out->buf)
				ws_buf_adds(out, "");
			return 0;
		}
		if (!e)
			return -1;
		s = e + 1;
	}
}

/* Write `text` in the kind of the source value: a number stays a number when
 * it parses as one, else a string of the source's string type (REG_SZ). */
static void typed_result(uint32_t src_type, const char *text, uint32_t *type,
			 struct ws_buf *out)
{
	int64_t n;
	uint32_t d;

	if ((src_type == T_DWORD || src_type == T_DWORD_BE) && parse_num(text, &n) == 0 &&
	    dword_of(n, &d) == 0) {
		*type = T_DWORD;
		put_dword(d, out);
	} else if (src_type == T_QWORD && parse_num(text, &n) == 0) {
		*type = T_QWORD;
		ws_buf_add_u64le(out, (unsigned long long)n);
	} else {
		*type = src_type == T_EXPAND_SZ ? T_EXPAND_SZ : T_SZ;
		put_string(text, out);
	}
}

/* Items of a list value: MULTI_SZ strings, or a string split at `delims`. */
struct items {
	char **v;
	size_t n, alloc;
};

static void items_add(struct items *it, const char *s, size_t len)
{
	if (!len)
		return;
	for (size_t i = 0; i < it->n; i++)
		if (!ws_name_ncasecmp(it->v[i], strlen(it->v[i]), s, len))
			return; /* duplicates removed */
	WS_ALLOC_GROW(it->v, it->n + 1, it->alloc);
	it->v[it->n++] = ws_xstrndup(s, len);
}

static void items_remove(struct items *it, const char *s)
{
	for (size_t i = 0; i < it->n;) {
		if (!ws_name_casecmp(it->v[i], s)) {
			free(it->v[i]);
			memmove(&it->v[i], &it->v[i + 1], (it->n - i - 1) * sizeof(*it->v));
			it->n--;
		} else {
			i++;
		}
	}
}

static void items_release(struct items *it)
{
	for (size_t i = 0; i < it->n; i++)
		free(it->v[i]);
	free(it->v);
}

static void items_of(const struct rule_ls_value *v, const char *delims, struct items *it)
{
	struct ws_buf t = WS_BUF_INIT;

	if (!v || !v->data)
		return;
	if (v->type == T_MULTI_SZ) {
		/* NUL-separated: convert the whole data, split at U+0000 */
		ws_utf16le_to_utf8(v->data, v->len, &t, 0);
		for (size_t s = 0, i = 0; t.buf && i <= t.len; i++)
			if (i == t.len || t.buf[i] == '\0') {
				items_add(it, t.buf + s, i - s);
				s = i + 1;
			}
	} else if (is_string(v->type)) {
		text_of(v, &t);
		for (size_t s = 0, i = 0; t.buf && i <= t.len; i++)
			if (i == t.len || (delims && *delims && strchr(delims, t.buf[i]))) {
				items_add(it, t.buf + s, i - s);
				s = i + 1;
			}
	}
	ws_buf_release(&t);
}

/* Add/Remove instructions from argument `first` on. */
static int instructions(const struct rule_ls_call *c, int first, struct items *it,
			struct ws_buf *why)
{
	if ((c->nargs - first) % 2)
		return bad(why, "%s: instructions come in pairs (Add|Remove, String)", c->fn);
	for (int i = first; i + 1 < c->nargs; i += 2) {
		const char *op = arg(c, i), *s = c->args[i + 1] ? c->args[i + 1] : "";

		if (op && !strcasecmp(op, "Add"))
			items_add(it, s, strlen(s));
		else if (op && !strcasecmp(op, "Remove"))
			items_remove(it, s);
		else
			return bad(why, "%s: instruction '%s' is neither Add nor Remove", c->fn,
				   op ? op : "NULL");
	}
	return 0;
}

static int merge_content(const struct rule_ls_call *c, const struct rule_ls_value *src,
			 const struct rule_ls_value *dst, int delimited, uint32_t *type,
			 struct ws_buf *out, struct ws_buf *why)
{
	struct items it = { 0 };
	const char *delims = delimited ? arg(c, 0) : NULL;
	int rc = 1;

	if (delimited && !delims)
		return bad(why, "MergeDelimitedContent needs delimiters");
	if (delimited ? !is_string(src->type) : (src->type != T_MULTI_SZ && !is_string(src->type)))
		return bad(why, "%s: the value is not a %s", c->fn,
			   delimited ? "string" : "multi-string");
	/* the destination's content first, then what the source adds */
	if (dst && (delimited ? is_string(dst->type) : dst->type == T_MULTI_SZ))
		items_of(dst, delims, &it);
	items_of(src, delims, &it);
	if (instructions(c, delimited ? 1 : 0, &it, why) < 0) {
		rc = -1;
		goto out;
	}
	if (delimited) {
		struct ws_buf s = WS_BUF_INIT;

		for (size_t i = 0; i < it.n; i++) {
			if (i)
				ws_buf_addch(&s, delims[0]);
			ws_buf_adds(&s, it.v[i]);
		}
		*type = src->type;
		put_string(s.buf ? s.buf : "", out);
		ws_buf_release(&s);
	} else {
		*type = T_MULTI_SZ;
		for (size_t i = 0; i < it.n; i++)
			put_string(it.v[i], out);
		ws_buf_add_u16le(out, 0);
	}
out:
	items_release(&it);
	return rc;
}

int rule_ls_content(const struct rule_ls_call *c, const struct rule_ls_value *src,
		    const struct rule_ls_value *dst, uint32_t *out_type, struct ws_buf *out,
		    struct ws_buf *why)
{
	int64_t n;
	uint32_t d;
	int rc = 1;
	size_t start = out->len;

	*out_type = src->type;
	if (is_fn(c, "ConvertToDWORD")) {
		if (src->type == T_DWORD && src->len == 4)
			return 0;
		if (!(value_num(src, &n) == 0 && dword_of(n, &d) == 0) &&
		    !(src->type == T_BINARY && src->len == 4 && ((d = ws_get_u32le(src->data)), 1))) {
			/* conversion failed: the default (NULL = 0) */
			const char *def = arg(c, 0);

			d = 0;
			if (def && (parse_num(def, &n) != 0 || dword_of(n, &d) != 0))
				return bad(why, "ConvertToDWORD: neither the value nor the default "
					   "'%s' is a number", def);
		}
		*out_type = T_DWORD;
		put_dword(d, out);
	} else if (is_fn(c, "ConvertToString")) {
		struct ws_buf t = WS_BUF_INIT;

		if (src->type == T_SZ)
			return 0;
		if (src->type == T_EXPAND_SZ)
			text_of(src, &t);
		else if (value_num(src, &n) == 0)
			ws_buf_addf(&t, "%lld", (long long)n);
		else
			ws_buf_adds(&t, arg(c, 0) ? arg(c, 0) : "0");
		*out_type = T_SZ;
		put_string(t.buf ? t.buf : "", out);
		ws_buf_release(&t);
	} else if (is_fn(c, "ConvertToBinary")) {
		if (src->type == T_BINARY)
			return 0;
		*out_type = T_BINARY;
		ws_buf_add(out, src->data, src->len);
	} else if (is_fn(c, "OffsetValue")) {
		int64_t off;

		if (!arg(c, 0) || parse_num(arg(c, 0), &off) != 0)
			return bad(why, "OffsetValue needs a number, not '%s'",
				   arg(c, 0) ? arg(c, 0) : "NULL");
		if (value_num(src, &n) != 0)
			return bad(why, "OffsetValue: the value is not a number");
		if (src->type == T_DWORD || src->type == T_DWORD_BE) {
			*out_type = T_DWORD;
			put_dword((uint32_t)((uint64_t)n + (uint64_t)off), out);
		} else if (src->type == T_QWORD) {
			ws_buf_add_u64le(out, (unsigned long long)((uint64_t)n + (uint64_t)off));
		} else {
			char s[32];

			snprintf(s, sizeof(s), "%lld", (long long)((uint64_t)n + (uint64_t)off));
			put_string(s, out);
		}
	} else if (is_fn(c, "SetValueByTable")) {
		struct ws_buf v = WS_BUF_INIT, it = WS_BUF_INIT, srct = WS_BUF_INIT,
			      dstt = WS_BUF_INIT, res = WS_BUF_INIT;
		const char *def;
		int found = -1;

		/* (SourceTable, DestinationTable, Default) or ("src|dst", Default) */
		if (arg(c, 0) && strchr(arg(c, 0), '|') && c->nargs <= 2) {
			const char *bar = strchr(arg(c, 0), '|');

			ws_buf_add(&srct, arg(c, 0), (size_t)(bar - arg(c, 0)));
			ws_buf_adds(&dstt, bar + 1);
			def = arg(c, 1);
		} else {
			ws_buf_adds(&srct, arg(c, 0) ? arg(c, 0) : "");
			ws_buf_adds(&dstt, arg(c, 1) ? arg(c, 1) : "");
			def = arg(c, 2);
		}
		if (!arg(c, 0)) {
			rc = bad(why, "SetValueByTable needs a source table");
		} else if (value_text(src, &v) == 0) {
			for (size_t i = 0; found < 0 && list_item(srct.buf, i, &it) == 0; i++) {
				if (!ws_name_casecmp(it.buf, v.buf ? v.buf : ""))
					found = (int)i;
				ws_buf_reset(&it);
			}
		}
		if (rc > 0) {
			if (found >= 0 && dstt.len && list_item(dstt.buf, (size_t)found, &res) == 0)
				typed_result(src->type, res.buf, out_type, out);
			else if (def)
				typed_result(src->type, def, out_type, out);
			else
				rc = 0; /* no match, no default: the value is not changed */
		}
		ws_buf_release(&v);
		ws_buf_release(&it);
		ws_buf_release(&srct);
		ws_buf_release(&dstt);
		ws_buf_release(&res);
		if (rc <= 0)
			return rc;
	} else if (is_fn(c, "KeepExisting")) {
		/* security, times and file attributes: nothing in registry data */
		return 0;
	} else if (is_fn(c, "MergeMultiSzContent")) {
		rc = merge_content(c, src, dst, 0, out_type, out, why);
	} else if (is_fn(c, "MergeDelimitedContent")) {
		rc = merge_content(c, src, dst, 1, out_type, out, why);
	} else {
		return bad(why, "contentModify function '%s' is not supported", c->fn ? c->fn : "");
	}
	if (rc > 0 && *out_type == src->type && out->len - start == src->len &&
	    (!src->len || !memcmp(out->buf + start, src->data, src->len))) {
		ws_buf_setlen(out, start);
		return 0;
	}
	return rc;
}

/* ---- merge ---------------------------------------------------------------- */

int rule_ls_merge(const struct rule_ls_call *c, int type, const struct rule_ls_side *src,
		  const struct rule_ls_side *dst, struct ws_buf *why)
{
	if (is_fn(c, "SourcePriority"))
		return RULE_LS_SOURCE;
	if (is_fn(c, "DestinationPriority"))
		return RULE_LS_DESTINATION;
	if (is_fn(c, "FindFilePlaceByPattern")) {
		struct ws_buf t = WS_BUF_INIT;
		int rc;

		if (type != RULE_FILE)
			return bad(why, "FindFilePlaceByPattern applies to files only");
		rc = rule_ls_place_name(arg(c, 0), "x.y", 1, &t, why);
		ws_buf_release(&t);
		return rc < 0 ? -1 : RULE_LS_PLACE;
	}
	if (is_fn(c, "NewestVersion")) {
		const char *tag = arg(c, 0);

		if (type != RULE_FILE)
			return bad(why, "NewestVersion applies to files only");
		if (!tag || (strcasecmp(tag, "FileVersion") && strcasecmp(tag, "ProductVersion")))
			return bad(why, "NewestVersion takes FileVersion or ProductVersion, not '%s'",
				   tag ? tag : "NULL");
		if (src->version && dst->version && *src->version && *dst->version) {
			int k = ws_version_cmp(src->version, dst->version, 0);

			if (k)
				return k > 0 ? RULE_LS_SOURCE : RULE_LS_DESTINATION;
		}
		/* no version resource on one side, or equal: the newer file */
		return src->time > dst->time ? RULE_LS_SOURCE : RULE_LS_DESTINATION;
	}
	if (is_fn(c, "HigherValue") || is_fn(c, "LowerValue")) {
		int64_t a, b;

		if (type != RULE_REGISTRY || !src->value || !dst->value)
			return bad(why, "%s applies to registry values only", c->fn);
		if (value_num(src->value, &a) != 0 || value_num(dst->value, &b) != 0)
			return bad(why, "%s: the values are not both numbers", c->fn);
		if (is_fn(c, "HigherValue"))
			return a > b ? RULE_LS_SOURCE : RULE_LS_DESTINATION;
		return a < b ? RULE_LS_SOURCE : RULE_LS_DESTINATION;
	}
	if (is_fn(c, "LeafPattern"))
		return bad(why, "merge function LeafPattern is undocumented: not supported");
	return bad(why, "merge function '%s' is not supported", c->fn ? c->fn : "");
}

int rule_ls_place_name(const char *pattern, const char *name, unsigned n,
		       struct ws_buf *out, struct ws_buf *why)
{
	const char *dot = strrchr(name, '.');
	size_t fl = dot && dot != name ? (size_t)(dot - name) : strlen(name);
	const char *ext = dot && dot != name ? dot + 1 : "";
	size_t start = out->len;

	if (!pattern || !strstr(pattern, "<F>") || !strstr(pattern, "<N>"))
		return bad(why, "FindFilePlaceByPattern needs a pattern with <F> and <N>, "
			   "not '%s'", pattern ? pattern : "NULL");
	for (const char *p = pattern; *p;) {
		if (!strncmp(p, "<F>", 3)) {
			ws_buf_add(out, name, fl);
			p += 3;
		} else if (!strncmp(p, "<N>", 3)) {
			ws_buf_addf(out, "%u", n);
			p += 3;
		} else if (!strncmp(p, "<E>", 3)) {
			/* no extension: drop the '.' written before it */
			if (!*ext && out->len > start && out->buf[out->len - 1] == '.')
				ws_buf_setlen(out, out->len - 1);
			ws_buf_adds(out, ext);
			p += 3;
		} else {
			ws_buf_addch(out, *p++);
		}
	}
	if (out->len == start || memchr(out->buf + start, '\\', out->len - start) ||
	    memchr(out->buf + start, '/', out->len - start))
		return bad(why, "FindFilePlaceByPattern: '%s' does not make a file name", pattern);
	return 0;
}

int rule_ls_keep_existing(const struct rule_ls_call *c, int *times, uint32_t *attrs,
			  struct ws_buf *why)
{
	static const char letters[] = "ACEHIORST";
	static const uint32_t bits[] = { 0x20, 0x800, 0x4000, 0x2, 0x2000, 0x1000, 0x1, 0x4,
					 0x100 };

	*times = 0;
	*attrs = 0;
	if (!is_fn(c, "KeepExisting"))
		return bad(why, "not KeepExisting");
	for (int i = 0; i < c->nargs; i++) {
		const char *s = arg(c, i);

		if (!s)
			continue;
		if (!strcasecmp(s, "TimeFields")) {
			*times = 1;
		} else if (!strncasecmp(s, "FileAttrib:", 11)) {
			uint32_t m = 0;

			/* the right-most FileAttrib option counts; bad letters ignored */
			for (const char *l = s + 11; *l; l++) {
				const char *k = strchr(letters, *l & ~0x20);

				if (k && *l != ' ')
					m |= bits[k - letters];
			}
			*attrs = m;
		} else if (strcasecmp(s, "Security")) {
			return bad(why, "KeepExisting: unknown option '%s'", s);
		}
	}
	return 0;
}

int rule_file_version(const unsigned char *data, size_t len, const char *tag,
		      struct ws_buf *out)
{
	return rule_pe_version(data, len, tag, out);
}
