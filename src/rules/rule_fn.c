/*
 * rule_fn.c - USMT helper functions (MigXmlHelper.*): parsing a call, the
 * table of known functions, and offline evaluation of conditions,
 * pattern-generating scripts and string scripts through struct rule_probe.
 */
#include "rules_private.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "util/ws_utf.h"
#include "util/ws_str.h"

/* ------------------------------ parsing --------------------------------- */

void rule_call_release(struct rule_call *c)
{
	free(c->prefix);
	free(c->fn);
	for (int i = 0; i < c->nargs; i++)
		free(c->args[i]);
	memset(c, 0, sizeof(*c));
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

int rule_call_parse(const char *text, struct rule_call *c)
{
	const char *p = skip_ws(text), *b, *dot = NULL;

	memset(c, 0, sizeof(*c));
	b = p;
	while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == '.')) {
		if (*p == '.')
			dot = p;
		p++;
	}
	if (p == b)
		return -1;
	if (dot) {
		c->prefix = ws_xstrndup(b, (size_t)(dot - b));
		c->fn = ws_xstrndup(dot + 1, (size_t)(p - dot - 1));
	} else {
		c->prefix = ws_xstrdup("");
		c->fn = ws_xstrndup(b, (size_t)(p - b));
	}
	p = skip_ws(p);
	if (*p != '(') {
		/* a bare name is a call without arguments */
		if (!*p)
			return 0;
		rule_call_release(c);
		return -1;
	}
	p = skip_ws(p + 1);
	if (*p == ')')
		goto done;
	for (;;) {
		struct ws_buf a = WS_BUF_INIT;
		int quoted = 0;

		p = skip_ws(p);
		if (*p == '"' || *p == '\'') {
			char q = *p++;

			while (*p && *p != q)
				ws_buf_addch(&a, *p++);
			if (*p != q) {
				ws_buf_release(&a);
				rule_call_release(c);
				return -1;
			}
			p++;
			quoted = 1;
		} else {
			while (*p && *p != ',' && *p != ')')
				ws_buf_addch(&a, *p++);
			while (a.len && (a.buf[a.len - 1] == ' ' || a.buf[a.len - 1] == '\t'))
				ws_buf_setlen(&a, a.len - 1);
		}
		if (c->nargs >= RULE_CALL_MAX_ARGS) {
			ws_buf_release(&a);
			rule_call_release(c);
			return -1;
		}
		if (!quoted && !strcasecmp(a.buf, "NULL")) {
			c->args[c->nargs++] = NULL;
			ws_buf_release(&a);
		} else {
			c->args[c->nargs++] = ws_buf_detach(&a, NULL);
		}
		p = skip_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == ')')
			break;
		rule_call_release(c);
		return -1;
	}
done:
	p = skip_ws(p + 1);
	if (*p) {
		rule_call_release(c);
		return -1;
	}
	return 0;
}

/* ------------------------------- table ---------------------------------- */

static const struct {
	const char *name;
	int cls;
	int impl;
} fns[] = {
	{ "DoesOSMatch", FN_COND, 1 },           { "IsNative64Bit", FN_COND, 1 },
	{ "IsOSLaterThan", FN_COND, 1 },         { "IsOSEarlierThan", FN_COND, 1 },
	{ "DoesObjectExist", FN_COND, 1 },       { "DoesFileVersionMatch", FN_COND, 1 },
	{ "IsFileVersionAbove", FN_COND, 1 },    { "IsFileVersionBelow", FN_COND, 1 },
	{ "IsSystemContext", FN_COND, 1 },       { "DoesStringContentEqual", FN_COND, 1 },
	{ "DoesStringContentContain", FN_COND, 1 }, { "IsSameObject", FN_COND, 1 },
	{ "IsSameContent", FN_COND, 1 },         { "IsSameStringContent", FN_COND, 1 },
	{ "GetStringContent", FN_SCRIPT, 1 },    { "GenerateDrivePatterns", FN_SCRIPT, 1 },
	{ "GenerateUserPatterns", FN_SCRIPT, 1 }, { "GenerateDocPatterns", FN_SCRIPT, 1 },
	{ "IgnoreIrrelevantLinks", FN_FILTER, 1 }, { "AnswerNo", FN_FILTER, 1 },
	{ "NeverRestore", FN_FILTER, 1 },        { "CompareStringContent", FN_FILTER, 1 },
	{ "FileProperties", FN_FILTER, 1 },      { "SameRegContent", FN_FILTER, 1 },
	{ "ExtractSingleFile", FN_CONTENT, 1 },  { "ExtractMultipleFiles", FN_CONTENT, 1 },
	{ "ExtractDirectory", FN_CONTENT, 1 },
	/* LoadState side: recorded for the apply engine */
	{ "ConvertToDWORD", FN_LOADSTATE, 1 },   { "ConvertToString", FN_LOADSTATE, 1 },
	{ "ConvertToBinary", FN_LOADSTATE, 1 },  { "OffsetValue", FN_LOADSTATE, 1 },
	{ "SetValueByTable", FN_LOADSTATE, 1 },  { "KeepExisting", FN_LOADSTATE, 1 },
	{ "MergeMultiSzContent", FN_LOADSTATE, 1 }, { "MergeDelimitedContent", FN_LOADSTATE, 1 },
	{ "MergeShellLibraries", FN_LOADSTATE, 1 }, { "ExactMove", FN_LOADSTATE, 1 },
	{ "RelativeMove", FN_LOADSTATE, 1 },     { "Move", FN_LOADSTATE, 1 },
	{ "SourcePriority", FN_LOADSTATE, 1 },   { "DestinationPriority", FN_LOADSTATE, 1 },
	{ "FindFilePlaceByPattern", FN_LOADSTATE, 1 }, { "LeafPattern", FN_LOADSTATE, 1 },
	{ "NewestVersion", FN_LOADSTATE, 1 },    { "HigherValue", FN_LOADSTATE, 1 },
	{ "LowerValue", FN_LOADSTATE, 1 },
	/* <processing>: recorded, never executed */
	{ "AskForLogoff", FN_PROCESSING, 1 },    { "ConvertToShortFileName", FN_PROCESSING, 1 },
	{ "KillExplorer", FN_PROCESSING, 1 },    { "RegisterFonts", FN_PROCESSING, 1 },
	{ "RemoveEmptyDirectories", FN_PROCESSING, 1 }, { "RestartExplorer", FN_PROCESSING, 1 },
	{ "StartService", FN_PROCESSING, 1 },    { "StopService", FN_PROCESSING, 1 },
	{ "SyncSCM", FN_PROCESSING, 1 },
};

int rule_fn_lookup(const char *prefix, const char *fn, int *implemented)
{
	*implemented = 0;
	if (prefix && *prefix && strcasecmp(prefix, "MigXmlHelper"))
		return 0; /* MigSysHelper.* and plug-ins: not ours */
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (!strcasecmp(fns[i].name, fn)) {
			*implemented = fns[i].impl;
			return fns[i].cls;
		}
	return 0;
}

/* ----------------------------- evaluation ------------------------------- */

static int fail(struct rule_eval *ev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct rule_eval *ev, const char *fmt, ...)
{
	va_list ap;

	ws_buf_reset(&ev->reason);
	va_start(ap, fmt);
	ws_buf_vaddf(&ev->reason, fmt, ap);
	va_end(ap);
	return -1;
}

static int arg_type(const char *s)
{
	if (!s)
		return -1;
	if (!strcasecmp(s, "File"))
		return RULE_FILE;
	if (!strcasecmp(s, "Registry"))
		return RULE_REGISTRY;
	if (!strcasecmp(s, "Ini"))
		return RULE_INI;
	return -1;
}

/* Expand %VAR% in an argument; -1 (with reason) when a variable is unset. */
static int expand_arg(struct rule_eval *ev, const char *in, struct ws_buf *out)
{
	char missing[128];

	ws_buf_reset(out);
	if (!in)
		return 0;
	if (rule_env_expand(ev->env, in, out, missing, sizeof(missing)) < 0) {
		ws_buf_reset(&ev->reason);
		ws_buf_addf(&ev->reason, "variable %%%s%% is not set", missing);
		return -1;
	}
	return 0;
}

static const struct rule_probe *probe(const struct rule_eval *ev)
{
	return ev->opts ? ev->opts->probe : NULL;
}

struct walk_arg {
	struct ws_buf *names;   /* NUL-separated child names with a type byte */
};

static void collect(void *arg, const char *name, int is_container)
{
	struct ws_buf *b = arg;

	if (b->len > (8u << 20))
		return; /* bounded: a huge folder only weakens a wildcard test */
	ws_buf_addch(b, is_container ? 'C' : 'L');
	ws_buf_adds(b, name);
	ws_buf_addch(b, 0);
}

/*
 * Walk the objects below `node` that wildcard pattern `pat` matches, with
 * probe->list: fn(arg, node, leaf) for each (leaf NULL for a folder or
 * key itself, else a file or value of node); a non-zero return stops the
 * walk and is returned.  Bounded in depth and in folders listed.
 */
static int walk_wild(struct rule_eval *ev, int type, const struct rule_pattern *pat,
		     const char *node, int depth, size_t *budget,
		     int (*fn)(void *arg, const char *node, const char *leaf), void *arg)
{
	const struct rule_probe *pr = probe(ev);
	struct ws_buf kids = WS_BUF_INIT;
	int stop = 0;

	if (depth > 32 || !*budget)
		return 0;
	(*budget)--;
	if (!rule_pattern_may_match_below(pat, node))
		return 0;
	if (pr->list(pr->ctx, type, node, collect, &kids) < 0) {
		ws_buf_release(&kids);
		return 0;
	}
	for (size_t off = 0; off < kids.len && !stop;) {
		const char *e = kids.buf + off;
		size_t l = strlen(e);
		struct ws_buf child = WS_BUF_INIT;

		if (e[0] == 'L') {
			if (rule_pattern_match(pat, node, e + 1) == 1)
				stop = fn(arg, node, e + 1);
		} else {
			ws_buf_addf(&child, "%s\\%s", node, e + 1);
			if (rule_pattern_match(pat, child.buf, NULL) == 1)
				stop = fn(arg, child.buf, NULL);
			if (!stop)
				stop = walk_wild(ev, type, pat, child.buf, depth + 1, budget, fn, arg);
		}
		ws_buf_release(&child);
		off += l + 1;
	}
	ws_buf_release(&kids);
	return stop;
}

static int found_one(void *arg, const char *node, const char *leaf)
{
	(void)arg;
	(void)node;
	(void)leaf;
	return 1;
}

int rule_object_list(struct rule_eval *ev, int type, const char *loc,
		     int (*fn)(void *arg, const char *node, const char *leaf), void *arg)
{
	const struct rule_probe *pr = probe(ev);
	struct rule_pattern *pat;
	size_t budget = 100000;
	int rc;

	if (!pr || !pr->list)
		return fail(ev, "%s", "a wildcard location needs a listing probe");
	if (rule_pattern_compile(loc, type, &pat, NULL))
		return fail(ev, "bad location '%s'", loc);
	rc = walk_wild(ev, type, pat, rule_pattern_root(pat), 0, &budget, fn, arg);
	rule_pattern_free(pat);
	return rc;
}

int rule_object_exists(struct rule_eval *ev, int type, const char *loc)
{
	const struct rule_probe *pr = probe(ev);
	struct ws_buf node = WS_BUF_INIT, leaf = WS_BUF_INIT;
	int has_leaf = 0, rc;

	if (!pr)
		return fail(ev, "%s", "no probe of the source installation");
	if (strchr(loc, '*')) {
		struct rule_pattern *pat;
		size_t budget = 100000;

		if (!pr->list)
			return fail(ev, "%s", "wildcard DoesObjectExist needs a listing probe");
		if (rule_pattern_compile(loc, type, &pat, NULL))
			return fail(ev, "bad location '%s'", loc);
		/* the root itself may be what "X\*" names */
		rc = rule_pattern_match(pat, rule_pattern_root(pat), NULL) == 1 &&
		     (type == RULE_REGISTRY ?
			      pr->reg_exists && pr->reg_exists(pr->ctx, rule_pattern_root(pat), NULL) > 0 :
			      pr->file_exists && pr->file_exists(pr->ctx, rule_pattern_root(pat)) > 0);
		if (!rc)
			rc = walk_wild(ev, type, pat, rule_pattern_root(pat), 0, &budget,
				       found_one, NULL);
		rule_pattern_free(pat);
		return rc;
	}
	if (rule_loc_split(loc, type, &node, &leaf, &has_leaf) < 0) {
		ws_buf_release(&node);
		ws_buf_release(&leaf);
		return fail(ev, "bad location '%s'", loc);
	}
	if (type == RULE_REGISTRY) {
		if (!pr->reg_exists)
			rc = fail(ev, "%s", "no registry probe");
		else
			rc = pr->reg_exists(pr->ctx, node.buf, has_leaf ? leaf.buf : NULL) > 0;
	} else {
		if (!pr->file_exists) {
			rc = fail(ev, "%s", "no file probe");
		} else if (has_leaf) {
			struct ws_buf full = WS_BUF_INIT;

			ws_buf_addf(&full, "%s\\%s", node.buf, leaf.buf);
			rc = pr->file_exists(pr->ctx, full.buf) > 0;
			ws_buf_release(&full);
		} else {
			rc = pr->file_exists(pr->ctx, node.buf) > 0;
		}
	}
	ws_buf_release(&node);
	ws_buf_release(&leaf);
	return rc;
}

void rule_reg_to_string(uint32_t type, const void *data, size_t len, struct ws_buf *out)
{
	const unsigned char *d = data;

	if (type == 4 && len >= 4) {
		ws_buf_addf(out, "%lu", (unsigned long)ws_get_u32le(d));
	} else if (type == 11 && len >= 8) {
		ws_buf_addf(out, "%llu", (unsigned long long)ws_get_u64le(d));
	} else if (type == 1 || type == 2 || type == 7) {
		ws_utf16le_to_utf8(data, len, out, WS_UTF16_STOP_AT_NUL);
	} else if (len) {
		ws_buf_add(out, data, len);
	}
}

/* Registry value bytes -> UTF-8 text (strings, DWORD as decimal). */
static void reg_to_string(uint32_t type, const struct ws_buf *raw, int expand_env,
			  struct rule_eval *ev, struct ws_buf *out)
{
	if (type == 4 && raw->len >= 4) {
		ws_buf_addf(out, "%lu", (unsigned long)ws_get_u32le(raw->buf));
		return;
	}
	if (type == 1 || type == 2 || type == 7) {
		struct ws_buf s = WS_BUF_INIT;

		ws_utf16le_to_utf8(raw->buf, raw->len, &s, WS_UTF16_STOP_AT_NUL);
		if (type == 2 && expand_env) {
			/* unset variables are kept as written */
			if (rule_env_expand(ev->env, s.buf, out, NULL, 0) < 0) {
				ws_buf_reset(out);
				ws_buf_add(out, s.buf, s.len);
			}
		} else {
			ws_buf_add(out, s.buf, s.len);
		}
		ws_buf_release(&s);
		return;
	}
	ws_buf_add(out, raw->buf, raw->len);
}

/* GetStringContent of an Ini location: the first value of Key in
 * [Section] (rule_ini_each), 1 found. */
static int ini_first(void *arg, const char *section, const char *value, long line)
{
	(void)section;
	(void)line;
	ws_buf_adds(arg, value);
	return 1;
}

/*
 * A REG_BINARY value that holds one NUL-terminated UTF-16LE string of
 * printable characters (MAPI properties in Outlook's profile: the path of
 * a .pst in 001f6700) -> that string; 0 when it is anything else.
 */
static int binary_text(const struct ws_buf *raw, struct ws_buf *out)
{
	const unsigned char *d = (const unsigned char *)raw->buf;
	size_t n = raw->len;

	if (n < 4 || n % 2 || d[n - 1] || d[n - 2])
		return 0;
	for (size_t i = 0; i + 2 < n; i += 2) {
		unsigned u = d[i] | (unsigned)d[i + 1] << 8;

		if (u < 0x20 || u == 0x7f)
			return 0;
	}
	ws_utf16le_to_utf8(raw->buf, n, out, WS_UTF16_STOP_AT_NUL);
	return 1;
}

static int string_content(struct rule_eval *ev, int type, const char *loc, int binary_paths,
			  struct ws_buf *out);

int rule_get_string_content(struct rule_eval *ev, int type, const char *loc,
			    struct ws_buf *out)
{
	return string_content(ev, type, loc, 0, out);
}

int rule_get_path_content(struct rule_eval *ev, int type, const char *loc, struct ws_buf *out)
{
	return string_content(ev, type, loc, 1, out);
}

static int string_content(struct rule_eval *ev, int type, const char *loc, int binary_paths,
			  struct ws_buf *out)
{
	const struct rule_probe *pr = probe(ev);
	struct ws_buf node = WS_BUF_INIT, leaf = WS_BUF_INIT, raw = WS_BUF_INIT;
	int has_leaf = 0, rc = 0;

	if (!pr)
		return fail(ev, "%s", "no probe of the source installation");
	if (type == RULE_FILE)
		return 0; /* USMT: files always return NULL */
	if (rule_loc_split(loc, type, &node, &leaf, &has_leaf) < 0 || !has_leaf) {
		ws_buf_release(&node);
		ws_buf_release(&leaf);
		return fail(ev, "bad location '%s'", loc);
	}
	if (type == RULE_REGISTRY) {
		uint32_t t = 0;

		if (!pr->reg_read) {
			rc = fail(ev, "%s", "no registry probe");
		} else {
			rc = pr->reg_read(pr->ctx, node.buf, leaf.buf, &t, &raw);
			if (rc > 0 && t == 3 && binary_paths) {
				rc = binary_text(&raw, out);
			} else if (rc > 0) {
				reg_to_string(t, &raw, 1, ev, out);
				rc = 1;
			} else {
				rc = 0;
			}
		}
	} else {
		char *bar = strchr(node.buf, '|');

		if (!bar || !pr->file_read) {
			rc = bar ? fail(ev, "%s", "no file probe") : fail(ev, "bad Ini location '%s'", loc);
		} else {
			*bar = 0;
			rc = pr->file_read(pr->ctx, node.buf, RULE_INI_MAX, &raw);
			if (rc > 0) {
				struct ws_buf txt = WS_BUF_INIT;

				rule_ini_text(raw.buf, raw.len, &txt);
				rc = rule_ini_each(txt.buf, txt.len, bar + 1, leaf.buf, ini_first, out);
				ws_buf_release(&txt);
			} else {
				rc = 0;
			}
		}
	}
	ws_buf_release(&node);
	ws_buf_release(&leaf);
	ws_buf_release(&raw);
	return rc;
}

static int file_version(struct rule_eval *ev, const char *loc, const char *tag,
			struct ws_buf *out)
{
	const struct rule_probe *pr = probe(ev);
	struct ws_buf node = WS_BUF_INIT, leaf = WS_BUF_INIT, raw = WS_BUF_INIT,
		      full = WS_BUF_INIT;
	int has_leaf = 0, rc;

	if (!pr || !pr->file_read)
		return fail(ev, "%s", "no file-reading probe for version resources");
	if (rule_loc_split(loc, RULE_FILE, &node, &leaf, &has_leaf) < 0) {
		ws_buf_release(&node);
		ws_buf_release(&leaf);
		return fail(ev, "bad location '%s'", loc);
	}
	if (has_leaf)
		ws_buf_addf(&full, "%s\\%s", node.buf, leaf.buf);
	else
		ws_buf_adds(&full, node.buf);
	/* resources sit in the last section; 16 MiB covers real binaries */
	rc = pr->file_read(pr->ctx, full.buf, 16u << 20, &raw);
	if (rc > 0)
		rc = rule_pe_version((const unsigned char *)raw.buf, raw.len, tag, out);
	else
		rc = 0;
	ws_buf_release(&node);
	ws_buf_release(&leaf);
	ws_buf_release(&raw);
	ws_buf_release(&full);
	return rc;
}

/* Largest file IsSameContent compares. */
#define SAME_CONTENT_MAX (64u << 20)

/*
 * The bytes of an object for IsSameContent: a registry value's raw data and
 * type, a file's bytes (type 0), an Ini setting's text (type 1).  1 found,
 * 0 missing, -1 cannot evaluate (reason set).
 */
static int raw_content(struct rule_eval *ev, int type, const char *loc, uint32_t *t,
		       struct ws_buf *out)
{
	const struct rule_probe *pr = probe(ev);
	struct ws_buf node = WS_BUF_INIT, leaf = WS_BUF_INIT, full = WS_BUF_INIT;
	int has_leaf = 0, rc;

	ws_buf_reset(out);
	*t = 0;
	if (!pr)
		return fail(ev, "%s", "no probe of the source installation");
	if (type == RULE_INI) {
		*t = 1;
		return rule_get_string_content(ev, type, loc, out);
	}
	if (rule_loc_split(loc, type, &node, &leaf, &has_leaf) < 0) {
		ws_buf_release(&node);
		ws_buf_release(&leaf);
		return fail(ev, "bad location '%s'", loc);
	}
	if (type == RULE_REGISTRY) {
		if (!pr->reg_read)
			rc = fail(ev, "%s", "no registry probe");
		else if (!has_leaf)
			rc = fail(ev, "IsSameContent needs a registry value, not the key '%s'", loc);
		else
			rc = pr->reg_read(pr->ctx, node.buf, leaf.buf, t, out) > 0;
	} else if (!pr->file_read) {
		rc = fail(ev, "%s", "no file-reading probe");
	} else {
		if (has_leaf)
			ws_buf_addf(&full, "%s\\%s", node.buf, leaf.buf);
		else
			ws_buf_adds(&full, node.buf);
		/* one byte over the limit tells a large file from one of exactly the limit */
		rc = pr->file_read(pr->ctx, full.buf, SAME_CONTENT_MAX + 1, out) > 0;
		if (rc && out->len > SAME_CONTENT_MAX)
			rc = fail(ev, "'%s' is larger than %u bytes: not compared", full.buf,
				  SAME_CONTENT_MAX);
	}
	ws_buf_release(&node);
	ws_buf_release(&leaf);
	ws_buf_release(&full);
	return rc;
}

static int os_version_cmp(const struct rule_probe *pr, const char *want)
{
	char have[64];

	snprintf(have, sizeof(have), "%u.%u.%u", pr->os_major, pr->os_minor, pr->os_build);
	return ws_version_cmp(have, want, 1);
}

static int eval_call(struct rule_eval *ev, const struct rule_call *c)
{
	const struct rule_probe *pr = probe(ev);
	struct ws_buf a = WS_BUF_INIT, b = WS_BUF_INIT, s1 = WS_BUF_INIT, s2 = WS_BUF_INIT;
	const char *fn = c->fn;
	int rc = -1, t;

	if (!strcasecmp(fn, "IsSystemContext")) {
		rc = ev->opts && ev->opts->context == RULE_CTX_SYSTEM;
	} else if (!strcasecmp(fn, "IsNative64Bit")) {
		rc = pr ? pr->native64 != 0 : fail(ev, "%s", "no probe for the OS architecture");
	} else if (!strcasecmp(fn, "DoesOSMatch") || !strcasecmp(fn, "IsOSLaterThan") ||
		   !strcasecmp(fn, "IsOSEarlierThan")) {
		char have[64];

		if (!pr || !pr->os_major)
			rc = fail(ev, "%s", "source OS version unknown");
		else if (c->nargs < 2 || !c->args[0] || !c->args[1])
			rc = fail(ev, "%s needs 2 arguments", fn);
		else if (strcasecmp(c->args[0], "NT"))
			rc = 0; /* the 9x family is never the source */
		else if (!strcasecmp(fn, "DoesOSMatch")) {
			snprintf(have, sizeof(have), "%u.%u.%u", pr->os_major, pr->os_minor,
				 pr->os_build);
			rc = rule_wild_match(c->args[1], have);
			if (!rc) {
				snprintf(have, sizeof(have), "%u.%u", pr->os_major, pr->os_minor);
				rc = rule_wild_match(c->args[1], have);
			}
		} else if (!strcasecmp(fn, "IsOSLaterThan"))
			rc = os_version_cmp(pr, c->args[1]) >= 0;
		else
			rc = os_version_cmp(pr, c->args[1]) < 0;
	} else if (!strcasecmp(fn, "DoesObjectExist")) {
		t = arg_type(c->nargs > 0 ? c->args[0] : NULL);
		if (t < 0 || c->nargs < 2)
			rc = fail(ev, "%s needs (\"File|Registry\", location)", fn);
		else if (expand_arg(ev, c->args[1], &a) < 0)
			rc = 0; /* an unset variable names nothing that exists */
		else
			rc = rule_object_exists(ev, t, a.buf);
	} else if (!strcasecmp(fn, "DoesFileVersionMatch") ||
		   !strcasecmp(fn, "IsFileVersionAbove") ||
		   !strcasecmp(fn, "IsFileVersionBelow")) {
		if (c->nargs < 3 || !c->args[0] || !c->args[1] || !c->args[2])
			rc = fail(ev, "%s needs 3 arguments", fn);
		else if (expand_arg(ev, c->args[0], &a) < 0)
			rc = 0;
		else {
			rc = file_version(ev, a.buf, c->args[1], &s1);
			if (rc == 1) {
				if (!strcasecmp(fn, "DoesFileVersionMatch"))
					rc = rule_wild_match(c->args[2], s1.buf);
				else if (!strcasecmp(fn, "IsFileVersionAbove"))
					rc = ws_version_cmp(s1.buf, c->args[2], 1) >= 0;
				else
					rc = ws_version_cmp(s1.buf, c->args[2], 1) < 0;
			}
		}
	} else if (!strcasecmp(fn, "DoesStringContentEqual") ||
		   !strcasecmp(fn, "DoesStringContentContain")) {
		t = arg_type(c->nargs > 0 ? c->args[0] : NULL);
		if (t < 0 || c->nargs < 3 || !c->args[1] || !c->args[2])
			rc = fail(ev, "%s needs (type, location, string)", fn);
		else if (expand_arg(ev, c->args[1], &a) < 0)
			rc = 0;
		else {
			rc = rule_get_string_content(ev, t, a.buf, &s1);
			if (rc == 1) {
				if (!strcasecmp(fn, "DoesStringContentEqual"))
					rc = !strcmp(s1.buf, c->args[2]);
				else
					rc = strstr(s1.buf, c->args[2]) != NULL;
			}
		}
	} else if (!strcasecmp(fn, "IsSameObject")) {
		if (c->nargs < 3 || !c->args[1] || !c->args[2])
			rc = fail(ev, "%s needs 3 arguments", fn);
		else if (expand_arg(ev, c->args[1], &a) < 0 || expand_arg(ev, c->args[2], &b) < 0)
			rc = 0;
		else {
			t = arg_type(c->args[0]);
			rule_node_norm(a.buf, t, &s1);
			rule_node_norm(b.buf, t, &s2);
			rc = ws_name_casecmp(s1.buf, s2.buf) == 0;
		}
	} else if (!strcasecmp(fn, "IsSameStringContent")) {
		if (c->nargs < 4 || !c->args[1] || !c->args[3])
			rc = fail(ev, "%s needs 4 arguments", fn);
		else if (expand_arg(ev, c->args[1], &a) < 0 || expand_arg(ev, c->args[3], &b) < 0)
			rc = 0;
		else {
			int r1 = rule_get_string_content(ev, arg_type(c->args[0]), a.buf, &s1);
			int r2 = rule_get_string_content(ev, arg_type(c->args[2]), b.buf, &s2);

			rc = r1 < 0 || r2 < 0 ? -1 : r1 == 1 && r2 == 1 && !strcmp(s1.buf, s2.buf);
		}
	} else if (!strcasecmp(fn, "IsSameContent")) {
		if (c->nargs < 4 || !c->args[1] || !c->args[3] || arg_type(c->args[0]) < 0 ||
		    arg_type(c->args[2]) < 0)
			rc = fail(ev, "%s needs (type1, location1, type2, location2)", fn);
		else if (expand_arg(ev, c->args[1], &a) < 0 || expand_arg(ev, c->args[3], &b) < 0)
			rc = 0;
		else {
			uint32_t t1 = 0, t2 = 0;
			int r1 = raw_content(ev, arg_type(c->args[0]), a.buf, &t1, &s1);
			int r2 = r1 == 1 ? raw_content(ev, arg_type(c->args[2]), b.buf, &t2, &s2) : 0;

			rc = r1 < 0 || r2 < 0 ? -1 :
			     r1 == 1 && r2 == 1 && t1 == t2 && s1.len == s2.len &&
				     !memcmp(s1.buf, s2.buf, s1.len);
		}
	} else {
		rc = fail(ev, "helper function %s cannot be evaluated", fn);
	}
	ws_buf_release(&a);
	ws_buf_release(&b);
	ws_buf_release(&s1);
	ws_buf_release(&s2);
	return rc;
}

int rule_eval_condition(struct rule_eval *ev, const char *text)
{
	struct rule_call c;
	int impl, rc;

	if (rule_call_parse(text, &c) < 0)
		return fail(ev, "cannot parse condition '%s'", text);
	if (rule_fn_lookup(c.prefix, c.fn, &impl) != FN_COND || !impl) {
		rc = fail(ev, "condition function %s is not supported", c.fn);
	} else {
		rc = eval_call(ev, &c);
	}
	rule_call_release(&c);
	return rc;
}

/* ------------------------- pattern generators --------------------------- */

/* Extensions our document finder treats as documents (GenerateDocPatterns). */
static const char *const doc_exts[] = {
	"doc", "docx", "docm", "dot", "dotx", "dotm", "rtf", "odt", "ott", "txt", "md",
	"pdf", "xps", "oxps", "xls", "xlsx", "xlsm", "xlsb", "xlt", "xltx", "xltm", "csv",
	"ods", "ots", "ppt", "pptx", "pptm", "pps", "ppsx", "pot", "potx", "odp", "otp",
	"one", "onepkg", "vsd", "vsdx", "mpp", "pub", "accdb", "mdb", "wpd", "wps", "wri",
	"msg", "eml", "vcf", "ics", "pst", "epub", "odg", "tex", "xml", "json",
	"jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "heic", "raw", "cr2", "nef", "svg",
	"mp3", "m4a", "wav", "wma", "flac", "ogg", "aac",
	"mp4", "m4v", "mov", "avi", "wmv", "mkv", "zip", "7z", "rar", "library-ms",
	NULL
};

size_t rule_fixed_drives(const struct rule_sel_opts *o, const struct rule_env *env,
			 char out[26][3])
{
	const char *l = o ? o->drives : NULL;
	const char *sd = rule_env_get(env, "SYSTEMDRIVE");
	size_t n = 0;

	if (!l || !*l) {
		out[0][0] = sd && isalpha((unsigned char)sd[0]) && sd[1] == ':' ?
			    (char)toupper((unsigned char)sd[0]) : 'C';
		out[0][1] = ':';
		out[0][2] = 0;
		return 1;
	}
	for (; *l && n < 26; l++) {
		if (!isalpha((unsigned char)*l))
			continue;
		out[n][0] = (char)toupper((unsigned char)*l);
		out[n][1] = ':';
		out[n++][2] = 0;
	}
	return n;
}

static int gen_drive(struct rule_eval *ev, const struct rule_call *c,
		     void (*add)(void *, int, const char *), void *arg)
{
	const char *seg = c->nargs > 0 ? c->args[0] : NULL;
	const char *kind = c->nargs > 1 ? c->args[1] : "Fixed";
	char drives[26][3];
	size_t n;
	struct ws_buf p = WS_BUF_INIT;

	if (!seg)
		return fail(ev, "%s", "GenerateDrivePatterns needs a pattern segment");
	/* fixed drives only: the installation's volumes reached (no removable
	 * or network drive is attached to an offline scan) */
	if (kind && strcasecmp(kind, "Fixed"))
		return 0;
	n = rule_fixed_drives(ev->opts, ev->env, drives);
	for (size_t i = 0; i < n; i++) {
		ws_buf_reset(&p);
		ws_buf_adds(&p, drives[i]);
		if (*seg != '\\')
			ws_buf_addch(&p, '\\');
		ws_buf_adds(&p, seg);
		add(arg, RULE_FILE, p.buf);
	}
	ws_buf_release(&p);
	return 0;
}

static int gen_user(struct rule_eval *ev, const struct rule_call *c,
		    void (*add)(void *, int, const char *), void *arg)
{
	const struct rule_sel_opts *o = ev->opts;
	int t = arg_type(c->nargs > 0 ? c->args[0] : NULL);
	int self = rule_parse_bool(c->nargs > 2 ? c->args[2] : NULL, 0);
	struct ws_buf p = WS_BUF_INIT;

	if (t < 0 || c->nargs < 2 || !c->args[1])
		return fail(ev, "%s", "GenerateUserPatterns needs (type, pattern, bool)");
	for (size_t i = 0; o && i < o->nusers; i++) {
		if (!self && (long)i == o->current_user)
			continue;
		ws_buf_reset(&p);
		if (rule_env_expand(o->users[i], c->args[1], &p, NULL, 0) == 0)
			add(arg, t, p.buf);
	}
	ws_buf_release(&p);
	return 0;
}

static int gen_docs(struct rule_eval *ev, const struct rule_call *c,
		    void (*add)(void *, int, const char *), void *arg)
{
	int scan_pf = rule_parse_bool(c->nargs > 0 ? c->args[0] : NULL, 0);
	int incl = rule_parse_bool(c->nargs > 1 ? c->args[1] : NULL, 1);
	int user = ev->opts && ev->opts->context == RULE_CTX_USER;
	struct ws_buf p = WS_BUF_INIT;
	char drives[26][3];
	size_t nd = rule_fixed_drives(ev->opts, ev->env, drives);

	if (incl) {
		/* user pass: the profile; system pass: every fixed drive outside
		 * profiles (the exclusions below) */
		for (size_t d = 0; d < (user ? 1 : nd); d++) {
			for (size_t i = 0; doc_exts[i]; i++) {
				struct ws_buf x = WS_BUF_INIT;

				ws_buf_reset(&p);
				ws_buf_addf(&p, "%s\\* [*.%s]", user ? "%CSIDL_PROFILE%" : drives[d],
					    doc_exts[i]);
				if (rule_env_expand(ev->env, p.buf, &x, NULL, 0) == 0)
					add(arg, RULE_FILE, x.buf);
				ws_buf_release(&x);
			}
		}
	} else {
		static const char *const sys_ex[] = {
			"%CSIDL_WINDOWS%\\* [*]", "%CSIDL_PROGRAM_FILES%\\* [*]",
			"%CSIDL_PROGRAM_FILESX86%\\* [*]", "%PROFILESFOLDER%\\* [*]",
			"%CSIDL_COMMON_APPDATA%\\* [*]", "%SYSTEMDRIVE%\\$Recycle.Bin\\* [*]",
			"%SYSTEMDRIVE%\\System Volume Information\\* [*]",
			"%SYSTEMDRIVE%\\Windows.old\\* [*]", "%SYSTEMDRIVE%\\$WINDOWS.~BT\\* [*]",
			NULL
		};
		static const char *const user_ex[] = {
			"%CSIDL_LOCAL_APPDATA%\\* [*]", "%CSIDL_APPDATA%\\* [*]",
			"%CSIDL_PROFILE%\\OneDrive*\\* [*]", "%CSIDL_PROFILE%\\AppData\\* [*]",
			NULL
		};
		const char *const *list = user ? user_ex : sys_ex;
		const char *sd = rule_env_get(ev->env, "SYSTEMDRIVE");

		/* the other drives' recycle bins and system folders */
		for (size_t d = 0; !user && d < nd; d++) {
			if (sd && !strncasecmp(sd, drives[d], 2))
				continue;
			ws_buf_reset(&p);
			ws_buf_addf(&p, "%s\\$Recycle.Bin\\* [*]", drives[d]);
			add(arg, RULE_FILE, p.buf);
			ws_buf_reset(&p);
			ws_buf_addf(&p, "%s\\System Volume Information\\* [*]", drives[d]);
			add(arg, RULE_FILE, p.buf);
		}
		for (size_t i = 0; list[i]; i++) {
			if (scan_pf && strstr(list[i], "PROGRAM_FILES"))
				continue;
			ws_buf_reset(&p);
			if (rule_env_expand(ev->env, list[i], &p, NULL, 0) == 0)
				add(arg, RULE_FILE, p.buf);
		}
	}
	ws_buf_release(&p);
	return 0;
}

int rule_eval_script(struct rule_eval *ev, const char *text,
		     void (*add)(void *arg, int type, const char *pattern), void *arg)
{
	struct rule_call c;
	int rc;

	if (rule_call_parse(text, &c) < 0)
		return fail(ev, "cannot parse script '%s'", text);
	if (!strcasecmp(c.fn, "GenerateDrivePatterns"))
		rc = gen_drive(ev, &c, add, arg);
	else if (!strcasecmp(c.fn, "GenerateUserPatterns"))
		rc = gen_user(ev, &c, add, arg);
	else if (!strcasecmp(c.fn, "GenerateDocPatterns"))
		rc = gen_docs(ev, &c, add, arg);
	else if (!strcasecmp(c.fn, "GetStringContent")) {
		/* in an objectSet the content is itself a pattern */
		struct ws_buf loc = WS_BUF_INIT, v = WS_BUF_INIT;
		int t = arg_type(c.nargs > 0 ? c.args[0] : NULL);

		rc = 0;
		if (t < 0 || c.nargs < 2 || !c.args[1])
			rc = fail(ev, "%s", "GetStringContent needs (type, location)");
		else if (expand_arg(ev, c.args[1], &loc) == 0 &&
			 rule_get_string_content(ev, t, loc.buf, &v) == 1 && v.len)
			add(arg, RULE_FILE, v.buf);
		ws_buf_release(&loc);
		ws_buf_release(&v);
	} else
		rc = fail(ev, "script function %s is not supported", c.fn);
	rule_call_release(&c);
	return rc;
}

int rule_eval_string(struct rule_eval *ev, const char *text, struct ws_buf *out)
{
	struct rule_call c;
	int rc;

	if (rule_call_parse(text, &c) < 0)
		return fail(ev, "cannot parse script '%s'", text);
	if (strcasecmp(c.fn, "GetStringContent")) {
		rc = fail(ev, "string function %s is not supported", c.fn);
	} else {
		struct ws_buf loc = WS_BUF_INIT;
		int t = arg_type(c.nargs > 0 ? c.args[0] : NULL);

		if (t < 0 || c.nargs < 2 || !c.args[1])
			rc = fail(ev, "%s", "GetStringContent needs (type, location)");
		else if (expand_arg(ev, c.args[1], &loc) < 0)
			rc = 0;
		else
			rc = rule_get_string_content(ev, t, loc.buf, out);
		ws_buf_release(&loc);
	}
	rule_call_release(&c);
	return rc;
}
