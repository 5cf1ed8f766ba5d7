/*
 * rule_pat.c - USMT location patterns: parsing "node [leaf]" (with ^
 * escapes, Ini "file|Section[Key]"), normalisation (HKEY_* names, trailing
 * backslash), compilation to PCRE2 (JIT when available) over upper-cased
 * text so that case folding is the NTFS one, matching, partial matching for
 * walker pruning, and the specificity order USMT's precedence relies on.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules_private.h"

#include <pcre2.h>
#include <string.h>
#include <strings.h>

#include "util/ws_utf.h"

struct rule_pattern {
	int type;
	char *text;        /* normalised, original case */
	char *root;        /* literal folder/key prefix, original case */
	char *lit_upper;   /* upper-cased literal prefix of the node (prefilter) */
	pcre2_code *node_re;
	pcre2_code *leaf_re;   /* NULL: pattern has no leaf (containers only), or
				  a fast one (leaf_fast: never run) */
	/* the node's regex to compile when first run (node_code), or NULL:
	 * a fast node runs it only for rule_pattern_may_match_below, and only
	 * patterns near the walked folders are asked that */
	char *node_re_src;
	int node_src_upper;  /* node_re_src is the upper-cased node (to_regex'd then) */
	pcre2_match_data *md;        /* made on the first regex run (re_match) */
	pcre2_match_context *mctx;
	/* Regex runs so far: JIT compiling costs about what a few hundred
	 * interpreted matches do, and most patterns of a rule set are never
	 * run (literal prefilters and fast paths answer first), so a pattern
	 * is JIT-compiled only once it has been run RULE_JIT_AFTER times.
	 * Mutable state like md: a compiled pattern is used by one thread. */
	unsigned re_runs;
	/* fast paths that avoid PCRE2 for the common shapes */
	int node_fast;       /* FAST_NONE, FAST_LITERAL ("X"), FAST_TREE ("X\\*") */
	int leaf_fast;       /* FAST_NONE, FAST_LITERAL, FAST_ANY, FAST_SUFFIX, FAST_PREFIX */
	char *node_lit_text; /* upper-cased literal node for FAST_LITERAL/FAST_TREE */
	char *leaf_lit_text; /* upper-cased literal part of the leaf */
	/* their lengths: matching runs per object and pattern */
	size_t lit_ulen, node_lit_tlen, leaf_lit_tlen;
	/* specificity */
	size_t node_lit;
	int node_wild;
	int has_leaf;
	size_t leaf_lit;
	int leaf_wild;
};

enum { FAST_NONE = 0, FAST_LITERAL, FAST_TREE, FAST_ANY, FAST_SUFFIX, FAST_PREFIX };

static size_t count_ch(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* Classify upper-cased node/leaf texts for the fast paths. */
static void classify(struct rule_pattern *p, const char *unode, const char *uleaf)
{
	size_t ln = strlen(unode);

	if (!strchr(unode, '^')) {
		size_t stars = count_ch(unode, '*');

		if (!stars) {
			p->node_fast = FAST_LITERAL;
			p->node_lit_text = ws_xstrdup(unode);
		} else if (stars == 1 && ln >= 2 && unode[ln - 1] == '*' && unode[ln - 2] == '\\') {
			p->node_fast = FAST_TREE;
			p->node_lit_text = ws_xstrndup(unode, ln - 2);
		}
	}
	if (uleaf && !strchr(uleaf, '^')) {
		size_t stars = count_ch(uleaf, '*'), ll = strlen(uleaf);

		if (!stars) {
			p->leaf_fast = FAST_LITERAL;
			p->leaf_lit_text = ws_xstrdup(uleaf);
		} else if (stars == 1 && ll == 1) {
			p->leaf_fast = FAST_ANY;
		} else if (stars == 1 && uleaf[0] == '*') {
			p->leaf_fast = FAST_SUFFIX;
			p->leaf_lit_text = ws_xstrdup(uleaf + 1);
		} else if (stars == 1 && uleaf[ll - 1] == '*') {
			p->leaf_fast = FAST_PREFIX;
			p->leaf_lit_text = ws_xstrndup(uleaf, ll - 1);
		}
	}
}

void rule_upper(const char *s, struct ws_buf *out)
{
	ws_name_upper(s, out);
}

static const struct {
	const char *lng, *shrt;
} hkeys[] = {
	{ "HKEY_CURRENT_USER", "HKCU" },   { "HKEY_LOCAL_MACHINE", "HKLM" },
	{ "HKEY_CLASSES_ROOT", "HKCR" },   { "HKEY_USERS", "HKU" },
	{ "HKEY_CURRENT_CONFIG", "HKCC" },
};

/* rule_node_norm of node[0, len) */
static void node_norm_n(const char *node, size_t len, int type, struct ws_buf *out)
{
	size_t start = out->len;

	if (type == RULE_REGISTRY) {
		for (size_t i = 0; i < sizeof(hkeys) / sizeof(hkeys[0]); i++) {
			size_t l = strlen(hkeys[i].lng);

			if (l <= len && !strncasecmp(node, hkeys[i].lng, l) &&
			    (l == len || node[l] == '\\')) {
				ws_buf_adds(out, hkeys[i].shrt);
				node += l;
				len -= l;
				break;
			}
		}
	}
	ws_buf_add(out, node, len);
	/* "C:\Data\" and "C:\Data" name the same folder (USMT's diag log agrees) */
	while (out->len > start + 1 && out->buf[out->len - 1] == '\\' &&
	       !(out->len >= start + 2 && out->buf[out->len - 2] == '^'))
		ws_buf_setlen(out, out->len - 1);
}

void rule_node_norm(const char *node, int type, struct ws_buf *out)
{
	node_norm_n(node, strlen(node), type, out);
}

/*
 * Split pattern text into node and leaf, keeping ^-escapes in place (they
 * are resolved by the compiler).  The leaf is the first unescaped '[' up to
 * the final unescaped ']'.
 */
static int split(const char *text, int type, struct ws_buf *node, struct ws_buf *leaf,
		 int *has_leaf)
{
	size_t len = strlen(text), b = 0, e, open = (size_t)-1;

	while (b < len && (text[b] == ' ' || text[b] == '\t' || text[b] == '\r' ||
			   text[b] == '\n'))
		b++;
	e = len;
	while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r' ||
			 text[e - 1] == '\n'))
		e--;
	for (size_t i = b; i < e; i++) {
		if (text[i] == '^' && i + 1 < e) {
			i++;
			continue;
		}
		if (text[i] == '[') {
			open = i;
			break;
		}
		if (text[i] == ']')
			return -1;
	}
	*has_leaf = open != (size_t)-1;
	if (*has_leaf) {
		size_t j, close = (size_t)-1;

		for (j = open + 1; j < e; j++) {
			if (text[j] == '^' && j + 1 < e) {
				j++;
				continue;
			}
			if (text[j] == ']') {
				close = j;
				break;
			}
			if (text[j] == '[')
				return -1;
		}
		if (close == (size_t)-1 || close + 1 != e)
			return -1;
		ws_buf_add(leaf, text + open + 1, close - open - 1);
		e = open;
		while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t'))
			e--;
	}
	node_norm_n(text + b, e - b, type, node);
	return 0;
}

int rule_loc_split(const char *text, int type, struct ws_buf *node,
		   struct ws_buf *leaf, int *has_leaf)
{
	struct ws_buf n = WS_BUF_INIT, l = WS_BUF_INIT;
	int rc = split(text, type, &n, &l, has_leaf);

	/* resolve ^ escapes: a location names one object literally */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		struct ws_buf *src = pass ? &l : &n, *dst = pass ? leaf : node;

		for (size_t i = 0; i < src->len; i++) {
			if (src->buf[i] == '^' && i + 1 < src->len)
				i++;
			ws_buf_addch(dst, src->buf[i]);
		}
	}
	ws_buf_release(&n);
	ws_buf_release(&l);
	return rc;
}

int rule_location_split(const char *text, int type, struct ws_buf *node,
			struct ws_buf *leaf, int *has_leaf)
{
	return rule_loc_split(text, type, node, leaf, has_leaf);
}

/* Bytes a regex holds as they are (ASCII ones but letters and digits are
 * written \x{..}). */
static int regex_plain(unsigned char ch)
{
	return ch >= 0x80 || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9');
}

/* Translate one part (already upper-cased) into a regex body; `re` NULL:
 * only its literal count and whether it has a wildcard. */
static void to_regex(const char *s, int is_node, struct ws_buf *re, size_t *lit,
		     int *wild)
{
	size_t len = strlen(s);
	int seen_wild = 0, escaped = 0; /* escaped: the last character was ^-escaped */

	*lit = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		int was_escaped = escaped;

		escaped = 0;
		if (regex_plain(ch)) {
			/* a run of letters, digits and non-ASCII bytes, as is */
			size_t j = i + 1;

			while (j < len && regex_plain((unsigned char)s[j]))
				j++;
			if (!seen_wild || !is_node)
				*lit += j - i;
			if (re)
				ws_buf_add(re, s + i, j - i);
			i = j - 1;
			continue;
		}
		if (ch == '^' && i + 1 < len) {
			ch = (unsigned char)s[++i];
			escaped = 1;
		} else if (ch == '*') {
			/* "X\*" at the end of a node: X itself and everything below
			 * (not "X^\*", an escaped '\'; "X^^\*" is a '^' then the
			 * separator) */
			if (!re) {
			} else if (is_node && i + 1 == len && i > 0 && s[i - 1] == '\\' &&
				   !was_escaped) {
				ws_buf_setlen(re, re->len - 2); /* drop the escaped '\' */
				ws_buf_add(re, "(?:\\\\.*)?", 9);
			} else {
				ws_buf_add(re, ".*", 2);
			}
			seen_wild = 1;
			continue;
		}
		/* node: literal prefix length; leaf: every literal character */
		if (!seen_wild || !is_node)
			(*lit)++;
		if (!re)
			continue;
		if (ch == '\\') {
			ws_buf_add(re, "\\\\", 2);
		} else if (!regex_plain(ch)) {
			/* "\x{%x}" without a printf per character */
			static const char hex[] = "0123456789abcdef";
			char x[6] = { '\\', 'x', '{' };
			size_t n = 3;

			if (ch >= 0x10)
				x[n++] = hex[ch >> 4];
			x[n++] = hex[ch & 15];
			x[n++] = '}';
			ws_buf_add(re, x, n);
		} else {
			ws_buf_addch(re, (char)ch);
		}
	}
	*wild = seen_wild;
}

static pcre2_code *compile_re(const char *body, const char *text, struct ws_error *err)
{
	int ec;
	PCRE2_SIZE eo;
	struct ws_buf re = WS_BUF_INIT;
	pcre2_code *code;

	ws_buf_addf(&re, "^(?:%s)$", body);
	code = pcre2_compile((PCRE2_SPTR)re.buf, re.len,
			     PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOTALL |
			     PCRE2_NO_AUTO_CAPTURE,
			     &ec, &eo, NULL);
	ws_buf_release(&re);
	if (!code) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		ws_error_set(err, WS_E_RULES, text, "pattern cannot be compiled: %s", msg);
		return NULL;
	}
	return code;
}

/* The checks of a pattern's text before its regexes: its length, an Ini
 * pattern's '|', "node [leaf]" split into `node` and `leaf`. */
static int pattern_split(const char *text, int type, struct ws_buf *node,
			 struct ws_buf *leaf, int *has_leaf, struct ws_error *err)
{
	if (strlen(text) > RULE_MAX_PATTERN_LEN)
		return ws_error_set(err, WS_E_RULES, "", "pattern longer than %d bytes",
				    RULE_MAX_PATTERN_LEN);
	if (type == RULE_INI) {
		/* "file|Section[Key]": node = "file|Section", leaf = Key */
		if (!strchr(text, '|'))
			return ws_error_set(err, WS_E_RULES, text,
					    "Ini pattern needs 'file|Section[Setting]'");
	}
	if (split(text, type, node, leaf, has_leaf) < 0 || !node->len)
		return ws_error_set(err, WS_E_RULES, text,
				    "malformed pattern (expected 'node [leaf]')");
	return WS_OK;
}

/* Can one half's regex be compiled?  Only one that is not UTF-8 can fail
 * (see rule_pattern_compile): that one is compiled for PCRE2's answer. */
static int regex_check(const char *part, int is_node, const char *text, struct ws_buf *up,
		       struct ws_buf *re, struct ws_error *err)
{
	size_t lit;
	int wild;
	pcre2_code *code;

	ws_buf_reset(up);
	ws_buf_reset(re);
	rule_upper(part, up);
	to_regex(up->buf, is_node, re, &lit, &wild);
	if (ws_utf8_valid(re->buf, re->len))
		return WS_OK;
	if (!(code = compile_re(re->buf, text, err)))
		return WS_E_RULES;
	pcre2_code_free(code);
	return WS_OK;
}

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

int rule_pattern_check(const char *text, int type, struct ws_buf tmp[4],
		       struct ws_error *err)
{
	int has_leaf = 0, rc;

	ws_buf_reset(&tmp[0]);
	ws_buf_reset(&tmp[1]);
	rc = pattern_split(text, type, &tmp[0], &tmp[1], &has_leaf, err);
	/* ASCII text (most) upper-cases to ASCII and makes ASCII regexes */
	if (!rc && is_ascii(text))
		return WS_OK;
	if (!rc)
		rc = regex_check(tmp[0].buf, 1, text, &tmp[2], &tmp[3], err);
	if (!rc && has_leaf)
		rc = regex_check(tmp[1].buf, 0, text, &tmp[2], &tmp[3], err);
	return rc;
}

int rule_pattern_compile(const char *text, int type, struct rule_pattern **out,
			 struct ws_error *err)
{
	struct ws_buf node = WS_BUF_INIT, leaf = WS_BUF_INIT, up = WS_BUF_INIT,
		      re = WS_BUF_INIT, t = WS_BUF_INIT;
	struct rule_pattern *p;
	int has_leaf = 0, rc;

	*out = NULL;
	if ((rc = pattern_split(text, type, &node, &leaf, &has_leaf, err))) {
		ws_buf_release(&node);
		ws_buf_release(&leaf);
		return rc;
	}
	p = ws_xcalloc(1, sizeof(*p));
	p->type = type;
	p->has_leaf = has_leaf;
	ws_buf_add(&t, node.buf, node.len);
	if (has_leaf) {
		ws_buf_adds(&t, type == RULE_INI ? "[" : " [");
		ws_buf_add(&t, leaf.buf, leaf.len);
		ws_buf_addch(&t, ']');
	}
	p->text = ws_buf_detach(&t, NULL);

	/* literal root: up to the first wildcard, cut back to a whole folder */
	{
		size_t i, cut = 0, lit_end = node.len, k;
		char *r;

		for (i = 0; i < node.len; i++) {
			if (node.buf[i] == '^' && i + 1 < node.len) {
				i++;
				continue;
			}
			if (node.buf[i] == '*') {
				lit_end = i;
				break;
			}
		}
		if (lit_end == node.len) {
			cut = node.len;
		} else {
			for (i = 0; i < lit_end; i++)
				if (node.buf[i] == '\\')
					cut = i;
		}
		if (type == RULE_INI) {
			char *bar = memchr(node.buf, '|', cut);
			if (bar)
				cut = (size_t)(bar - node.buf);
		}
		/* node[0, cut) and node[0, lit_end) without their ^ escapes */
		r = ws_xmalloc((cut > lit_end ? cut : lit_end) + 1);
		for (i = k = 0; i < cut; i++) {
			if (node.buf[i] == '^' && i + 1 < cut)
				i++;
			r[k++] = node.buf[i];
		}
		r[k] = 0;
		p->root = ws_xstrndup(r, k);
		for (i = k = 0; i < lit_end; i++) {
			if (node.buf[i] == '^' && i + 1 < lit_end)
				i++;
			r[k++] = node.buf[i];
		}
		while (k && r[k - 1] == '\\')
			k--;
		r[k] = 0;
		rule_upper(r, &up);
		p->lit_upper = ws_buf_detach(&up, NULL);
		free(r);
	}

	/* the node and the leaf upper-cased once: for the fast shapes and the
	 * regexes */
	struct ws_buf ul = WS_BUF_INIT;

	rule_upper(node.buf, &up);
	if (has_leaf)
		rule_upper(leaf.buf, &ul);
	classify(p, up.buf, has_leaf ? ul.buf : NULL);
	/* ASCII (most patterns) makes an ASCII regex: made when first run */
	int node_ascii = is_ascii(up.buf);

	to_regex(up.buf, 1, node_ascii ? NULL : &re, &p->node_lit, &p->node_wild);
	/* a trailing backslash of the literal part does not make it more specific */
	if (p->node_wild && p->node_lit && up.buf[p->node_lit - 1] == '\\')
		p->node_lit--;
	/* the node's regex is left uncompiled until it is first run (most
	 * never are: the fast shapes and the literal prefixes answer first,
	 * and compiling was most of loading a rule set and of building a
	 * selection).  A regex to_regex makes holds only escaped literals,
	 * ".*" and one "(?:\\\\.*)?", at most a few times the pattern's
	 * RULE_MAX_PATTERN_LEN bytes: it cannot fail to compile when it is
	 * UTF-8 (PCRE2_UTF), else it is compiled here so that the pattern is
	 * refused as before */
	int bad = 0;

	if (node_ascii) {
		p->node_re_src = ws_buf_detach(&up, NULL);
		p->node_src_upper = 1;
	} else if (ws_utf8_valid(re.buf, re.len)) {
		p->node_re_src = ws_buf_detach(&re, NULL);
	} else if (!(p->node_re = compile_re(re.buf, text, err))) {
		bad = 1;
	}
	if (!bad && has_leaf && p->leaf_fast != FAST_NONE && is_ascii(ul.buf)) {
		/* a fast leaf's regex is never run */
		to_regex(ul.buf, 0, NULL, &p->leaf_lit, &p->leaf_wild);
	} else if (!bad && has_leaf) {
		ws_buf_reset(&re);
		to_regex(ul.buf, 0, &re, &p->leaf_lit, &p->leaf_wild);
		if (p->leaf_fast == FAST_NONE || !ws_utf8_valid(re.buf, re.len))
			bad = !(p->leaf_re = compile_re(re.buf, text, err));
	}
	ws_buf_release(&ul);
	ws_buf_release(&node);
	ws_buf_release(&leaf);
	ws_buf_release(&up);
	ws_buf_release(&re);
	if (bad) {
		rule_pattern_free(p);
		return WS_E_RULES;
	}
	p->lit_ulen = strlen(p->lit_upper);
	p->node_lit_tlen = p->node_lit_text ? strlen(p->node_lit_text) : 0;
	p->leaf_lit_tlen = p->leaf_lit_text ? strlen(p->leaf_lit_text) : 0;
	*out = p;
	return WS_OK;
}

void rule_pattern_free(struct rule_pattern *p)
{
	if (!p)
		return;
	pcre2_code_free(p->node_re);
	pcre2_code_free(p->leaf_re);
	free(p->node_re_src);
	pcre2_match_data_free(p->md);
	pcre2_match_context_free(p->mctx);
	free(p->text);
	free(p->root);
	free(p->lit_upper);
	free(p->node_lit_text);
	free(p->leaf_lit_text);
	free(p);
}

#define RULE_JIT_AFTER 64

/* The node's regex, compiled on its first run (see node_re_src); NULL
 * when it cannot be (no memory): its runs then count as a limit hit. */
static pcre2_code *node_code(const struct rule_pattern *p)
{
	struct rule_pattern *mp = (struct rule_pattern *)p; /* see re_runs */

	if (!mp->node_re && mp->node_re_src) {
		if (mp->node_src_upper) {
			struct ws_buf re = WS_BUF_INIT;
			size_t lit;
			int wild;

			to_regex(mp->node_re_src, 1, &re, &lit, &wild);
			mp->node_re = compile_re(re.buf, mp->text, NULL);
			ws_buf_release(&re);
		} else {
			mp->node_re = compile_re(mp->node_re_src, mp->text, NULL);
		}
		free(mp->node_re_src);
		mp->node_re_src = NULL;
		/* compiled after re_match's JIT point (the leaf's runs count) */
		if (mp->node_re && mp->re_runs >= RULE_JIT_AFTER)
			(void)pcre2_jit_compile(mp->node_re,
						PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_SOFT);
	}
	return mp->node_re;
}

static int re_match(const struct rule_pattern *p, pcre2_code *re, const char *s,
		    size_t len, uint32_t opts)
{
	struct rule_pattern *mp = (struct rule_pattern *)p; /* see re_runs */
	int rc;

	if (!re)
		return -1;
	if (!mp->md) {
		/* made for the first regex run, like the regexes themselves */
		mp->md = pcre2_match_data_create(1, NULL);
		if (!mp->md)
			return -1;
	}
	if (!mp->mctx) {
		mp->mctx = pcre2_match_context_create(NULL);
		if (!mp->mctx)
			return -1;
		pcre2_set_match_limit(mp->mctx, RULE_PCRE_MATCH_LIMIT);
		pcre2_set_depth_limit(mp->mctx, RULE_PCRE_MATCH_LIMIT);
	}
	if (mp->re_runs < RULE_JIT_AFTER && ++mp->re_runs == RULE_JIT_AFTER) {
		/* JIT is an optimisation: its absence is not an error */
		if (mp->node_re)
			(void)pcre2_jit_compile(mp->node_re,
						PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_SOFT);
		if (mp->leaf_re)
			(void)pcre2_jit_compile(mp->leaf_re, PCRE2_JIT_COMPLETE |
							     PCRE2_JIT_PARTIAL_SOFT);
	}
	rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, opts, p->md, p->mctx);

	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_PARTIAL)
		return 2;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return -1;
}

/* Matching on already normalised, upper-cased subjects (selection fast path). */
int rule_pattern_match_upper(const struct rule_pattern *p, const char *unode,
			     const char *uleaf)
{
	return rule_pattern_match_upper_n(p, unode, strlen(unode), uleaf);
}

/* the literal prefix: long enough, its last byte (paths share their
 * beginnings, they differ at their ends), then the whole */
static int lit_prefix_ok(const struct rule_pattern *p, const char *unode, size_t unl)
{
	return !p->lit_ulen || (unl >= p->lit_ulen &&
				unode[p->lit_ulen - 1] == p->lit_upper[p->lit_ulen - 1] &&
				!memcmp(unode, p->lit_upper, p->lit_ulen));
}

/* the node test once the literal prefix has passed */
static int node_rest(const struct rule_pattern *p, const char *unode, size_t unl)
{
	int rc;

	if (p->node_fast == FAST_LITERAL)
		return unl == p->node_lit_tlen && !memcmp(unode, p->node_lit_text, unl);
	if (p->node_fast == FAST_TREE) {
		size_t tl = p->node_lit_tlen;

		/* prefix already checked against lit_upper == node_lit_text */
		return unl >= tl && !memcmp(unode, p->node_lit_text, tl) &&
		       (unode[tl] == 0 || unode[tl] == '\\');
	}
	rc = re_match(p, node_code(p), unode, unl, 0);
	return rc < 0 ? -1 : rc == 1;
}

int rule_pattern_match_node_upper(const struct rule_pattern *p, const char *unode,
				  size_t unl)
{
	return lit_prefix_ok(p, unode, unl) ? node_rest(p, unode, unl) : 0;
}

int rule_pattern_match_leaf_upper(const struct rule_pattern *p, const char *uleaf)
{
	size_t ll, tl = p->leaf_lit_tlen;
	int rc;

	if ((uleaf != NULL) != (p->has_leaf != 0))
		return 0;
	if (!uleaf)
		return 1;
	switch (p->leaf_fast) {
	case FAST_ANY:
		return 1;
	case FAST_LITERAL:
		return uleaf[0] == p->leaf_lit_text[0] && !strcmp(uleaf, p->leaf_lit_text);
	case FAST_SUFFIX:
		ll = strlen(uleaf);
		return ll >= tl && !memcmp(uleaf + ll - tl, p->leaf_lit_text, tl);
	case FAST_PREFIX:
		return !strncmp(uleaf, p->leaf_lit_text, tl);
	default:
		rc = re_match(p, p->leaf_re, uleaf, strlen(uleaf), 0);
		return rc < 0 ? -1 : rc == 1;
	}
}

void rule_pattern_leaf_quick(const struct rule_pattern *p, struct rule_leaf_quick *q)
{
	size_t tl = p->leaf_lit_tlen, k = tl < 8 ? tl : 8;

	memset(q, 0, sizeof(*q));
	if (!p->has_leaf || (p->leaf_fast != FAST_LITERAL && p->leaf_fast != FAST_SUFFIX))
		return;
	q->min_len = (uint32_t)tl;
	q->exact = p->leaf_fast == FAST_LITERAL;
	q->tail = rule_leaf_tail(p->leaf_lit_text, tl);
	q->mask = k == 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * k)) - 1;
}

int rule_pattern_match_upper_n(const struct rule_pattern *p, const char *unode, size_t unl,
			       const char *uleaf)
{
	int rc;

	if (!lit_prefix_ok(p, unode, unl))
		return 0;
	/* the leaf test is the cheaper and the more selective one: first */
	if ((rc = rule_pattern_match_leaf_upper(p, uleaf)) != 1)
		return rc;
	return node_rest(p, unode, unl);
}

int rule_pattern_match(const struct rule_pattern *p, const char *node, const char *leaf)
{
	struct ws_buf n = WS_BUF_INIT, un = WS_BUF_INIT, ul = WS_BUF_INIT;
	int rc;

	rule_node_norm(node, p->type, &n);
	rule_upper(n.buf, &un);
	if (leaf)
		rule_upper(leaf, &ul);
	rc = rule_pattern_match_upper(p, un.buf, leaf ? ul.buf : NULL);
	ws_buf_release(&n);
	ws_buf_release(&un);
	ws_buf_release(&ul);
	return rc;
}

int rule_pattern_may_match_below_upper(const struct rule_pattern *p, const char *unode)
{
	size_t ln = strlen(unode), lp = strlen(p->lit_upper);
	struct ws_buf s = WS_BUF_INIT;
	int rc;

	/* cheap test: one must be a prefix of the other */
	if (strncmp(unode, p->lit_upper, ln < lp ? ln : lp))
		return 0;
	if (re_match(p, node_code(p), unode, ln, 0) == 1)
		return 1;
	ws_buf_add(&s, unode, ln);
	ws_buf_addch(&s, '\\');
	rc = re_match(p, node_code(p), s.buf, s.len, PCRE2_PARTIAL_SOFT);
	ws_buf_release(&s);
	return rc != 0; /* partial, full, or a limit hit (be conservative) */
}

int rule_pattern_covers_tree_upper(const struct rule_pattern *p, const char *unode)
{
	size_t tl;

	if (p->node_fast != FAST_TREE || p->leaf_fast != FAST_ANY)
		return 0;
	tl = p->node_lit_tlen;
	return !strncmp(unode, p->node_lit_text, tl) && (unode[tl] == 0 || unode[tl] == '\\');
}

int rule_pattern_has_leaf(const struct rule_pattern *p)
{
	return p->has_leaf;
}

int rule_pattern_node_is_tree(const struct rule_pattern *p)
{
	return p->node_fast == FAST_TREE && p->node_lit_tlen == p->lit_ulen &&
	       !memcmp(p->node_lit_text, p->lit_upper, p->lit_ulen);
}

int rule_pattern_may_match_below(const struct rule_pattern *p, const char *node)
{
	struct ws_buf n = WS_BUF_INIT, un = WS_BUF_INIT;
	int rc;

	rule_node_norm(node, p->type, &n);
	rule_upper(n.buf, &un);
	rc = rule_pattern_may_match_below_upper(p, un.buf);
	ws_buf_release(&n);
	ws_buf_release(&un);
	return rc;
}

void rule_pattern_specificity(const struct rule_pattern *p, struct rule_specificity *s)
{
	s->node_literal = p->node_lit;
	s->node_wildcard = p->node_wild;
	s->has_leaf = p->has_leaf;
	s->leaf_literal = p->leaf_lit;
	s->leaf_wildcard = p->leaf_wild;
}

static int cmp_sz(size_t a, size_t b)
{
	return a < b ? -1 : a > b;
}

int rule_pattern_cmp_specificity(const struct rule_pattern *a,
				 const struct rule_pattern *b)
{
	int c;

	/* a longer literal folder prefix wins: directory beats extension */
	if ((c = cmp_sz(a->node_lit, b->node_lit)))
		return c;
	if ((c = (!a->node_wild) - (!b->node_wild)))
		return c;
	if ((c = a->has_leaf - b->has_leaf))
		return c;
	if ((c = cmp_sz(a->leaf_lit, b->leaf_lit)))
		return c;
	return (!a->leaf_wild) - (!b->leaf_wild);
}

const char *rule_pattern_text(const struct rule_pattern *p)
{
	return p->text;
}

const char *rule_pattern_root(const struct rule_pattern *p)
{
	return p->root;
}

int rule_pattern_type(const struct rule_pattern *p)
{
	return p->type;
}

const char *rule_pattern_lit_upper(const struct rule_pattern *p, size_t *len)
{
	*len = p->lit_ulen;
	return p->lit_upper;
}

int rule_wild_match(const char *pat, const char *s)
{
	/* iterative '*' matcher with one backtrack point: linear time */
	const char *star = NULL, *ss = NULL;

	while (*s) {
		if (*pat == '*') {
			star = pat++;
			ss = s;
		} else if ((unsigned char)*pat < 0x80 && (unsigned char)*s < 0x80 &&
			   (*pat | 0x20) == (*s | 0x20) && *pat) {
			pat++;
			s++;
		} else if (*pat && *pat == *s) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++ss;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return !*pat;
}
