/*
 * rule_xml.c - loading rule files: expat into a small element tree (line and
 * column on every node, nodes and strings in chunks freed with the file),
 * load-time validation (unknown elements, helper functions winstate lacks,
 * by-name references and their cycles), the component table, Config.xml,
 * and the rule_set accessors.
 */
#include "rules_private.h"

#include <expat.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "util/ws_fs.h"
#include "util/ws_utf.h"

static const char *const tag_names[T_COUNT] = {
	[T_UNKNOWN] = "", [T_MIGRATION] = "migration", [T_COMPONENT] = "component",
	[T_ROLE] = "role", [T_RULES] = "rules", [T_INCLUDE] = "include",
	[T_EXCLUDE] = "exclude", [T_UNCOND_EXCLUDE] = "unconditionalExclude",
	[T_OBJECTSET] = "objectSet", [T_PATTERN] = "pattern", [T_SCRIPT] = "script",
	[T_DETECTION] = "detection", [T_DETECTS] = "detects", [T_DETECT] = "detect",
	[T_CONDITIONS] = "conditions", [T_CONDITION] = "condition",
	[T_ENVIRONMENT] = "environment", [T_VARIABLE] = "variable", [T_TEXT] = "text",
	[T_NAMEDELEMENTS] = "namedElements", [T_LOCATIONMODIFY] = "locationModify",
	[T_MERGE] = "merge", [T_CONTENTMODIFY] = "contentModify",
	[T_DESTCLEANUP] = "destinationCleanup", [T_ADDOBJECTS] = "addObjects",
	[T_OBJECT] = "object", [T_LOCATION] = "location", [T_ATTRIBUTES] = "attributes",
	[T_BYTES] = "bytes", [T_INCLUDEATTRS] = "includeAttributes",
	[T_EXCLUDEATTRS] = "excludeAttributes", [T_CONTENT] = "content",
	[T_EXTENSIONS] = "extensions", [T_EXTENSION] = "extension", [T_PATHS] = "paths",
	[T_PATH] = "path", [T_PROCESSING] = "processing",
	[T_EXTERNALPROCESS] = "externalProcess", [T_COMMANDLINE] = "commandLine",
	[T_DISPLAYNAME] = "displayName", [T_DESCRIPTION] = "description",
	[T_MANUFACTURER] = "manufacturer", [T_VERSION] = "version", [T_ICON] = "icon",
	[T_LIBRARY] = "library", [T_PLUGIN] = "plugin",
	[T_WINDOWSOBJECTS] = "windowsObjects", [T_LOCDEFINITION] = "_locDefinition",
	[T_LOCDEFAULT] = "_locDefault", [T_LOCTAG] = "_locTag",
};

int rule_tag_of(const char *name)
{
	/* first characters equal but for case (every name begins with a
	 * letter or '_') before the whole compare: one per element read */
	unsigned char c0 = (unsigned char)name[0] | 0x20;

	for (int t = 1; t < T_COUNT; t++)
		if (((unsigned char)tag_names[t][0] | 0x20) == c0 &&
		    !strcasecmp(name, tag_names[t]))
			return t;
	return T_UNKNOWN;
}

const char *rule_tag_name(int tag)
{
	return tag > 0 && tag < T_COUNT ? tag_names[tag] : "?";
}

const char *rule_attr(const struct rule_node *n, const char *name)
{
	for (size_t i = 0; i < n->nattrs; i++)
		if (!strcasecmp(n->attrs[2 * i], name))
			return n->attrs[2 * i + 1];
	return NULL;
}

int rule_parse_context(const char *s)
{
	if (!s)
		return 0;
	while (*s == ' ')
		s++;
	if (!strncasecmp(s, "UserAndSystem", 13))
		return RULE_CTX_USER_AND_SYSTEM;
	if (!strncasecmp(s, "User", 4))
		return RULE_CTX_USER;
	if (!strncasecmp(s, "System", 6))
		return RULE_CTX_SYSTEM;
	return 0;
}

int rule_parse_bool(const char *s, int dflt)
{
	if (!s)
		return dflt;
	while (*s == ' ')
		s++;
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcmp(s, "1"))
		return 1;
	if (!strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcmp(s, "0"))
		return 0;
	return dflt;
}

struct rule_chunk {
	struct rule_chunk *next;
	size_t used, size;
	_Alignas(16) char data[];
};

#define RULE_CHUNK_BYTES 32768

/* `n` bytes aligned on `align` (a power of two) from f's chunks. */
static void *file_alloc(struct rule_file *f, size_t n, size_t align)
{
	struct rule_chunk *c = f->mem;
	size_t at = c ? (c->used + align - 1) & ~(align - 1) : 0;

	if (!c || at > c->size || c->size - at < n) {
		/* a large string gets a chunk of its own, behind the current one */
		size_t size = n > RULE_CHUNK_BYTES / 4 ? n : RULE_CHUNK_BYTES;
		struct rule_chunk *nc = ws_xmalloc(sizeof(*nc) + size);

		nc->used = 0;
		nc->size = size;
		if (c && size != RULE_CHUNK_BYTES) {
			nc->next = c->next;
			c->next = nc;
		} else {
			nc->next = c;
			f->mem = nc;
		}
		c = nc;
		at = 0;
	}
	c->used = at + n;
	return c->data + at;
}

static char *file_strndup(struct rule_file *f, const char *s, size_t len)
{
	char *d = file_alloc(f, len + 1, 1);

	memcpy(d, s, len);
	d[len] = 0;
	return d;
}

/* The text of an element without any */
static char no_text[1];

void rule_file_free(struct rule_file *f)
{
	if (!f)
		return;
	while (f->mem) {
		struct rule_chunk *next = f->mem->next;

		free(f->mem);
		f->mem = next;
	}
	free(f->path);
	free(f->urlid);
	free(f);
}

/* ---------------------------- expat loader ------------------------------ */

struct parse_state {
	XML_Parser p;
	struct rule_file *file;
	struct rule_node *cur;
	/* character data of the open elements by depth (cur's at `depth`),
	 * an element's copied once at its end; seg: cur's since its last
	 * child began or ended (the limits are checked as when each piece was
	 * joined to the element's text then) */
	struct ws_buf text[RULE_MAX_DEPTH + 1];
	size_t seg;
	int depth, unknown_depth;    /* unknown_depth: inside an unknown element */
	size_t nodes;
	int strict;
	struct ws_log *log;
	struct ws_error *err;
	int failed;
	/* elements' line and column counted here rather than by expat per
	 * element (its count walks its byte classes); only for the text
	 * where the two agree: UTF-8, no CR, no byte order mark */
	const char *data;
	size_t len;
	int own_pos;
	size_t pos;                  /* counted up to here: */
	long line, col;              /* 1-based, 0-based characters */
};

static void stop(struct parse_state *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void stop(struct parse_state *ps, const char *fmt, ...)
{
	char msg[WS_ERROR_TEXT_MAX];
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ws_error_set(ps->err, WS_E_RULES, ps->file->path, "%s", msg);
	ws_error_at(ps->err, (long)XML_GetCurrentLineNumber(ps->p),
		    (long)XML_GetCurrentColumnNumber(ps->p) + 1);
	XML_StopParser(ps->p, XML_FALSE);
}

/* Where the current element begins: expat's line and column (1-based). */
static void element_pos(struct parse_state *ps, long *line, long *col)
{
	XML_Index idx = ps->own_pos ? XML_GetCurrentByteIndex(ps->p) : -1;
	const char *s, *e, *nl;

	if (idx < 0 || (size_t)idx < ps->pos || (size_t)idx > ps->len) {
		*line = (long)XML_GetCurrentLineNumber(ps->p);
		*col = (long)XML_GetCurrentColumnNumber(ps->p) + 1;
		return;
	}
	s = ps->data + ps->pos;
	e = ps->data + idx;
	while ((nl = memchr(s, '\n', (size_t)(e - s)))) {
		ps->line++;
		ps->col = 0;
		s = nl + 1;
	}
	for (; s < e; s++)
		ps->col += ((unsigned char)*s & 0xc0) != 0x80; /* characters */
	ps->pos = (size_t)idx;
	*line = ps->line;
	*col = ps->col + 1;
}

/* A child of cur begins or cur ends: its text so far within the limit? */
static void flush_text(struct parse_state *ps)
{
	if (!ps->cur)
		return;
	if (ps->seg && ps->text[ps->depth].len > RULE_MAX_TEXT) {
		stop(ps, "text of <%s> exceeds the limit", ps->cur->name);
		return;
	}
	ps->seg = 0;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct parse_state *ps = ud;
	struct rule_node *n;
	size_t na = 0;

	if (ps->failed)
		return;
	flush_text(ps);
	if (++ps->depth > RULE_MAX_DEPTH) {
		stop(ps, "elements nested deeper than the limit at <%s>", name);
		return;
	}
	if (++ps->nodes > RULE_MAX_NODES) {
		stop(ps, "more elements than the limit at <%s>", name);
		return;
	}
	while (atts[2 * na])
		na++;
	if (na > RULE_MAX_ATTRS) {
		stop(ps, "too many attributes on <%s>", name);
		return;
	}
	n = file_alloc(ps->file, sizeof(*n), _Alignof(struct rule_node));
	memset(n, 0, sizeof(*n));
	n->name = file_strndup(ps->file, name, strlen(name));
	n->tag = rule_tag_of(name);
	n->text = no_text;
	element_pos(ps, &n->line, &n->col);
	n->file = ps->file;
	n->nattrs = na;
	n->attrs = file_alloc(ps->file, (2 * na + 1) * sizeof(char *), _Alignof(char *));
	for (size_t i = 0; i < 2 * na; i++) {
		size_t l = strlen(atts[i]);

		n->attrs[i] = l > RULE_MAX_TEXT ? no_text : file_strndup(ps->file, atts[i], l);
	}
	n->attrs[2 * na] = NULL;
	n->parent = ps->cur;
	if (ps->cur) {
		if (ps->cur->last)
			ps->cur->last->next = n;
		else
			ps->cur->first = n;
		ps->cur->last = n;
	} else {
		ps->file->root = n;
	}
	ps->cur = n;
	if (ps->strict && n->tag == T_UNKNOWN && !ps->unknown_depth) {
		char where[1200];

		snprintf(where, sizeof(where), "%s:%ld", ps->file->path, n->line);
		ws_logf(ps->log, WS_LOG_WARN, where, "unknown element <%s> ignored", name);
	}
	if (n->tag == T_UNKNOWN || ps->unknown_depth)
		ps->unknown_depth++;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct parse_state *ps = ud;

	if (ps->failed)
		return;
	flush_text(ps);
	if (ps->cur && ps->text[ps->depth].len) {
		struct ws_buf *t = &ps->text[ps->depth];

		ps->cur->text = file_strndup(ps->file, t->buf, t->len);
		ws_buf_reset(t);
	}
	if (ps->unknown_depth)
		ps->unknown_depth--;
	ps->depth--;
	if (ps->cur)
		ps->cur = ps->cur->parent;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct parse_state *ps = ud;

	if (ps->failed || !ps->cur)
		return;
	if (ps->seg + (size_t)len > RULE_MAX_TEXT) {
		stop(ps, "text of <%s> exceeds the limit", ps->cur->name);
		return;
	}
	ws_buf_add(&ps->text[ps->depth], s, (size_t)len);
	ps->seg += (size_t)len;
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int pe,
			      const XML_Char *value, int vlen, const XML_Char *base,
			      const XML_Char *sys, const XML_Char *pub,
			      const XML_Char *notation)
{
	/* Rule files never need entities; refusing them defeats entity bombs. */
	stop(ud, "entity declaration '%s' not allowed in rule files", name);
}

int rule_xml_parse(const char *name, const char *data, size_t len, int strict,
		   struct ws_log *log, struct rule_file **out, struct ws_error *err)
{
	struct parse_state ps = { 0 };
	int rc = WS_OK;

	*out = NULL;
	if (len > RULE_MAX_FILE_BYTES)
		return ws_error_set(err, WS_E_RULES, name, "rule file larger than %u bytes",
				    RULE_MAX_FILE_BYTES);
	ps.file = ws_xcalloc(1, sizeof(*ps.file));
	ps.file->path = ws_xstrdup(name);
	for (int i = 0; i <= RULE_MAX_DEPTH; i++)
		ps.text[i] = (struct ws_buf)WS_BUF_INIT;
	ps.strict = strict;
	ps.log = log;
	ps.err = err;
	ps.data = data;
	ps.len = len;
	ps.own_pos = !memchr(data, '\r', len) &&
		     !(len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) && ws_utf8_valid(data, len);
	ps.line = 1;
	ps.p = XML_ParserCreate("UTF-8");
	if (!ps.p) {
		rule_file_free(ps.file);
		return ws_error_set(err, WS_E_INTERNAL, name, "cannot create XML parser");
	}
	XML_SetUserData(ps.p, &ps);
	XML_SetElementHandler(ps.p, on_start, on_end);
	XML_SetCharacterDataHandler(ps.p, on_text);
	XML_SetEntityDeclHandler(ps.p, on_entity);
	if (XML_Parse(ps.p, data, (int)len, XML_TRUE) == XML_STATUS_ERROR && !ps.failed) {
		ws_error_set(err, WS_E_RULES, name, "malformed XML: %s",
			     XML_ErrorString(XML_GetErrorCode(ps.p)));
		ws_error_at(err, (long)XML_GetCurrentLineNumber(ps.p),
			    (long)XML_GetCurrentColumnNumber(ps.p) + 1);
		ps.failed = 1;
	}
	XML_ParserFree(ps.p);
	for (int i = 0; i <= RULE_MAX_DEPTH; i++)
		ws_buf_release(&ps.text[i]);
	if (ps.failed) {
		rule_file_free(ps.file);
		return err ? err->code : WS_E_RULES;
	}
	if (!ps.file->root) {
		rule_file_free(ps.file);
		return ws_error_set(err, WS_E_RULES, name, "no root element");
	}
	*out = ps.file;
	return rc;
}

/* ----------------------------- validation ------------------------------- */

struct rule_set *rule_set_new(void)
{
	return ws_xcalloc(1, sizeof(struct rule_set));
}

void rule_set_free(struct rule_set *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nfiles; i++)
		rule_file_free(rs->files[i]);
	free(rs->files);
	for (size_t i = 0; i < rs->ncomps; i++) {
		free(rs->comps[i].name);
		free(rs->comps[i].reason);
	}
	free(rs->comps);
	free(rs);
}

struct rule_node *rule_named_find(const struct rule_set *rs,
				  const struct rule_file *pref, int tag,
				  const char *name)
{
	for (size_t pass = 0; pass <= (rs ? rs->nfiles : 0); pass++) {
		const struct rule_file *f = pass == 0 ? pref : rs->files[pass - 1];

		if (!f || (pass > 0 && f == pref))
			continue;
		for (struct rule_node *ne = f->root->first; ne; ne = ne->next) {
			if (ne->tag != T_NAMEDELEMENTS)
				continue;
			for (struct rule_node *d = ne->first; d; d = d->next) {
				const char *nm = rule_attr(d, "name");

				if (d->tag == tag && nm && !strcasecmp(nm, name))
					return d;
			}
		}
	}
	return NULL;
}

/* Is `n` a by-name reference (name= outside namedElements)? */
static int is_reference(const struct rule_node *n)
{
	return rule_attr(n, "name") && n->parent && n->parent->tag != T_NAMEDELEMENTS &&
	       (n->tag == T_RULES || n->tag == T_DETECTION || n->tag == T_DETECTS ||
		n->tag == T_DETECT || n->tag == T_ENVIRONMENT || n->tag == T_CONDITIONS);
}

const struct rule_node *rule_resolve(const struct rule_set *rs, const struct rule_node *n)
{
	const struct rule_node *def;

	if (!is_reference(n))
		return n;
	def = rule_named_find(rs, n->file, n->tag, rule_attr(n, "name"));
	/* an undefined name with a body of its own keeps that body */
	return def ? def : (n->first ? n : NULL);
}

struct check {
	struct rule_set *rs;        /* with the new file appended */
	struct rule_file *file;
	struct ws_log *log;
	struct ws_error *err;
	struct ws_buf unsupported;  /* reasons for the current component */
	struct ws_buf pat, pat_tmp[4]; /* check_pattern's, kept between patterns */
	char **vars;                /* <variable name=...> defined in the file */
	size_t nvars, avars;
	const struct rule_node *stack[RULE_MAX_NAMED_DEPTH];
	int nstack;
	int failed;
};

static void warn_at(struct check *c, const struct rule_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warn_at(struct check *c, const struct rule_node *n, const char *fmt, ...)
{
	va_list ap;
	char where[1200];

	char msg[2048];

	snprintf(where, sizeof(where), "%s:%ld", n->file->path, n->line);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ws_logf(c->log, WS_LOG_WARN, where, "%s", msg);
}

static void check_function(struct check *c, const struct rule_node *n, const char *text)
{
	struct rule_call call;
	int impl = 0, cls;

	if (rule_call_parse(text, &call) < 0) {
		warn_at(c, n, "cannot parse helper call '%s'%s", text, "");
		ws_buf_addf(&c->unsupported, "%s%s:%ld: unparsable helper call '%s'",
			    c->unsupported.len ? "; " : "", n->file->path, n->line, text);
		return;
	}
	cls = rule_fn_lookup(call.prefix, call.fn, &impl);
	if (!cls || !impl) {
		warn_at(c, n, "helper function %s is not supported by winstate; "
			"its component is skipped%s", call.fn, "");
		ws_buf_addf(&c->unsupported, "%s%s:%ld: unsupported helper function %s%s%s",
			    c->unsupported.len ? "; " : "", n->file->path, n->line,
			    call.prefix, *call.prefix ? "." : "", call.fn);
	} else if (cls == FN_PROCESSING) {
		warn_at(c, n, "helper %s in <processing> is recorded, never executed%s",
			call.fn, "");
	}
	rule_call_release(&call);
}

static void collect_vars(struct check *c, const struct rule_node *n)
{
	for (; n; n = n->next) {
		if (n->tag == T_VARIABLE && rule_attr(n, "name")) {
			WS_ALLOC_GROW(c->vars, c->nvars + 1, c->avars);
			c->vars[c->nvars++] = (char *)rule_attr(n, "name");
		}
		collect_vars(c, n->first);
	}
}

/* Pattern syntax and variable names are checked at load time so that lint
 * reports them; the values are only known per context. */
static void check_pattern(struct check *c, const struct rule_node *n)
{
	struct ws_buf *x = &c->pat;
	const char *p = n->text, *t = rule_attr(n, "type");
	int type = t && !strcasecmp(t, "Registry") ? RULE_REGISTRY :
		   t && !strcasecmp(t, "Ini")	    ? RULE_INI :
						      RULE_FILE;
	struct ws_error perr;

	ws_buf_reset(x);
	while (*p) {
		const char *e = *p == '%' ? strchr(p + 1, '%') : NULL;

		if (e && e > p + 1 && !memchr(p + 1, ' ', (size_t)(e - p - 1)) &&
		    !memchr(p + 1, '\\', (size_t)(e - p - 1))) {
			char name[128];
			size_t l = (size_t)(e - p - 1), i;
			int known;

			snprintf(name, sizeof(name), "%.*s", (int)l, p + 1);
			known = rule_variable_scope(name) != 0;
			for (i = 0; i < c->nvars && !known; i++)
				known = !strcasecmp(c->vars[i], name);
			if (!known)
				warn_at(c, n, "variable %%%s%% is neither a USMT variable nor "
					"defined in this file", name);
			ws_buf_addch(x, 'X');
			p = e + 1;
		} else {
			/* up to the next '%' in one append */
			const char *q = strchr(p + 1, '%');
			size_t l = q ? (size_t)(q - p) : strlen(p);

			ws_buf_add(x, p, l);
			p += l;
		}
	}
	ws_error_clear(&perr);
	if (rule_pattern_check(x->buf, type, c->pat_tmp, &perr))
		warn_at(c, n, "malformed pattern '%s': %s", n->text, perr.msg);
}

static int one_of(const char *v, const char *const *allowed)
{
	while (*v == ' ')
		v++;
	for (; *allowed; allowed++)
		if (!strcasecmp(v, *allowed))
			return 1;
	return 0;
}

/* Attribute values USMT defines: anything else is a warning, never fatal. */
static void check_values(struct check *c, const struct rule_node *n)
{
	static const char *const types[] = { "File", "Registry", "Ini", NULL };
	static const char *const ctypes[] = { "System", "Application", "Device", "Documents", NULL };
	static const char *const roles[] = { "Container", "Binaries", "Settings", "Data", NULL };
	static const char *const ctxs[] = { "User", "System", "UserAndSystem", NULL };
	const char *v;

	if (n->tag == T_PATTERN && (v = rule_attr(n, "type")) && !one_of(v, types))
		warn_at(c, n, "pattern type=\"%s\" is not File, Registry or Ini (File assumed)", v);
	if (n->tag == T_COMPONENT && (v = rule_attr(n, "type")) && !one_of(v, ctypes))
		warn_at(c, n, "component type=\"%s\" is unknown", v);
	if (n->tag == T_ROLE && (v = rule_attr(n, "role")) && !one_of(v, roles))
		warn_at(c, n, "role=\"%s\" is unknown", v);
	if ((n->tag == T_COMPONENT || n->tag == T_RULES) && (v = rule_attr(n, "context")) &&
	    !one_of(v, ctxs))
		warn_at(c, n, "context=\"%s\" is unknown (UserAndSystem assumed)", v);
}

/* Walk one subtree, following by-name references; stop at nested components. */
static void check_tree(struct check *c, const struct rule_node *n, int top)
{
	if (c->failed)
		return;
	if (!top && n->tag == T_COMPONENT)
		return;
	if (is_reference(n)) {
		const char *nm = rule_attr(n, "name");
		struct rule_node *def = rule_named_find(c->rs, n->file, n->tag, nm);

		if (!def && n->first)
			goto body;
		if (!def) {
			ws_error_set(c->err, WS_E_RULES, n->file->path,
				     "<%s name=\"%s\"> refers to no namedElements definition",
				     n->name, nm);
			ws_error_at(c->err, n->line, n->col);
			c->failed = 1;
			return;
		}
		for (int i = 0; i < c->nstack; i++)
			if (c->stack[i] == def) {
				ws_error_set(c->err, WS_E_RULES, n->file->path,
					     "cyclic reference to namedElements '%s'", nm);
				ws_error_at(c->err, n->line, n->col);
				c->failed = 1;
				return;
			}
		if (c->nstack >= RULE_MAX_NAMED_DEPTH) {
			ws_error_set(c->err, WS_E_RULES, n->file->path,
				     "namedElements references nested deeper than %d",
				     RULE_MAX_NAMED_DEPTH);
			ws_error_at(c->err, n->line, n->col);
			c->failed = 1;
			return;
		}
		c->stack[c->nstack++] = def;
		for (const struct rule_node *k = def->first; k; k = k->next)
			check_tree(c, k, 0);
		c->nstack--;
		return;
	}
body:
	check_values(c, n);
	switch (n->tag) {
	case T_PATTERN:
		check_pattern(c, n);
		break;
	case T_CONDITION:
	case T_SCRIPT:
		check_function(c, n, n->text);
		break;
	case T_INCLUDE:
	case T_EXCLUDE:
	case T_CONTENT:
	case T_DESTCLEANUP:
		if (rule_attr(n, "filter"))
			check_function(c, n, rule_attr(n, "filter"));
		if (n->tag == T_INCLUDE)
			c->file->has_include = 1;
		break;
	case T_MERGE:
	case T_CONTENTMODIFY:
	case T_LOCATIONMODIFY:
		if (rule_attr(n, "script"))
			check_function(c, n, rule_attr(n, "script"));
		break;
	case T_EXTERNALPROCESS:
		warn_at(c, n, "<externalProcess> is recorded, never executed%s%s", "", "");
		break;
	case T_EXTENSION:
		c->file->has_include = 1;
		break;
	default:
		break;
	}
	if (n->tag == T_UNKNOWN)
		return;
	for (const struct rule_node *k = n->first; k; k = k->next)
		check_tree(c, k, 0);
}

static char *display_name(const struct rule_node *comp)
{
	for (const struct rule_node *k = comp->first; k; k = k->next)
		if (k->tag == T_DISPLAYNAME) {
			const char *s = k->text;
			size_t l;

			while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
				s++;
			l = strlen(s);
			while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' ||
				     s[l - 1] == '\r' || s[l - 1] == '\n'))
				l--;
			return ws_xstrndup(s, l);
		}
	return ws_xstrdup("");
}

static void add_components(struct check *c, const struct rule_node *n, long parent,
			   int depth, int ctx)
{
	for (const struct rule_node *k = n->first; k && !c->failed; k = k->next) {
		if (k->tag == T_COMPONENT) {
			struct rule_comp *rc;
			int cctx = rule_parse_context(rule_attr(k, "context"));
			size_t idx;

			if (!cctx)
				cctx = RULE_CTX_USER_AND_SYSTEM;
			if (ctx)
				cctx &= ctx;
			WS_ALLOC_GROW(c->rs->comps, c->rs->ncomps + 1, c->rs->acomps);
			idx = c->rs->ncomps++;
			rc = &c->rs->comps[idx];
			memset(rc, 0, sizeof(*rc));
			rc->node = (struct rule_node *)k;
			rc->file = c->file;
			rc->parent = parent;
			rc->depth = depth;
			rc->context = cctx;
			rc->name = display_name(k);
			ws_buf_reset(&c->unsupported);
			check_tree(c, k, 1);
			if (c->unsupported.len) {
				c->rs->comps[idx].state = RULE_COMP_UNSUPPORTED;
				c->rs->comps[idx].reason = ws_xstrdup(c->unsupported.buf);
			} else {
				c->rs->comps[idx].reason = ws_xstrdup("");
			}
			add_components(c, k, (long)idx, depth + 1, cctx);
		} else if (k->tag == T_ROLE) {
			add_components(c, k, parent, depth, ctx);
		}
	}
}

static int load_parsed(struct rule_set *rs, struct rule_file *f, struct ws_log *log,
		       struct ws_error *err)
{
	struct check c = { 0 };
	size_t old_ncomps = rs->ncomps;
	const char *urlid;

	if (f->root->tag != T_MIGRATION) {
		ws_error_set(err, WS_E_RULES, f->path, "root element is <%s>, not <migration>",
			     f->root->name);
		ws_error_at(err, f->root->line, f->root->col);
		rule_file_free(f);
		return WS_E_RULES;
	}
	urlid = rule_attr(f->root, "urlid");
	while (urlid && (*urlid == ' ' || *urlid == '\t'))
		urlid++;
	f->urlid = ws_xstrdup(urlid ? urlid : "");
	for (size_t i = 0; i < rs->nfiles; i++)
		if (*f->urlid && !strcasecmp(rs->files[i]->urlid, f->urlid)) {
			char where[1200];

			snprintf(where, sizeof(where), "%s:%ld", f->path, f->root->line);
			ws_logf(log, WS_LOG_WARN, where,
				"urlid \"%s\" already loaded from %s: file not processed (as USMT)",
				f->urlid, rs->files[i]->path);
			rule_file_free(f);
			return WS_OK;
		}
	WS_ALLOC_GROW(rs->files, rs->nfiles + 1, rs->afiles);
	rs->files[rs->nfiles++] = f;
	c.rs = rs;
	c.file = f;
	c.log = log;
	c.err = err;
	c.unsupported = (struct ws_buf)WS_BUF_INIT;
	c.pat = (struct ws_buf)WS_BUF_INIT;
	for (int i = 0; i < 4; i++)
		c.pat_tmp[i] = (struct ws_buf)WS_BUF_INIT;
	collect_vars(&c, f->root);
	/* namedElements definitions: check their own references for cycles */
	for (const struct rule_node *ne = f->root->first; ne && !c.failed; ne = ne->next)
		if (ne->tag == T_NAMEDELEMENTS)
			for (const struct rule_node *d = ne->first; d && !c.failed; d = d->next) {
				c.stack[0] = d;
				c.nstack = 1;
				for (const struct rule_node *k = d->first; k && !c.failed; k = k->next)
					check_tree(&c, k, 0);
				c.nstack = 0;
			}
	ws_buf_reset(&c.unsupported);
	if (!c.failed)
		add_components(&c, f->root, -1, 0, 0);
	ws_buf_release(&c.unsupported);
	ws_buf_release(&c.pat);
	for (int i = 0; i < 4; i++)
		ws_buf_release(&c.pat_tmp[i]);
	free(c.vars);
	if (c.failed) {
		for (size_t i = old_ncomps; i < rs->ncomps; i++) {
			free(rs->comps[i].name);
			free(rs->comps[i].reason);
		}
		rs->ncomps = old_ncomps;
		rs->nfiles--;
		rule_file_free(f);
		return WS_E_RULES;
	}
	return WS_OK;
}

int rule_set_load_mem(struct rule_set *rs, const char *name, const char *data,
		      size_t len, struct ws_log *log, struct ws_error *err)
{
	struct rule_file *f;
	int rc = rule_xml_parse(name, data, len, 1, log, &f, err);

	if (rc)
		return rc;
	return load_parsed(rs, f, log, err);
}

int rule_set_load_file(struct rule_set *rs, const char *path,
		       struct ws_log *log, struct ws_error *err)
{
	struct ws_buf b = WS_BUF_INIT;
	int rc = ws_read_file(path, RULE_MAX_FILE_BYTES, &b, err);

	if (rc == WS_E_UNSUPPORTED)
		rc = ws_error_set(err, WS_E_RULES, path, "rule file larger than %u bytes",
				  RULE_MAX_FILE_BYTES);
	if (!rc)
		rc = rule_set_load_mem(rs, path, b.buf, b.len, log, err);
	ws_buf_release(&b);
	return rc;
}

size_t rule_set_disable(struct rule_set *rs, const char *display_name)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->ncomps; i++)
		if (!strcasecmp(rs->comps[i].name, display_name)) {
			if (rs->comps[i].state == RULE_COMP_ACTIVE)
				rs->comps[i].state = RULE_COMP_DISABLED;
			n++;
		}
	return n;
}

static void config_walk(struct rule_set *rs, const struct rule_node *n, int off,
			struct ws_log *log)
{
	for (const struct rule_node *k = n->first; k; k = k->next) {
		int koff = off;

		if (!strcasecmp(k->name, "component")) {
			const char *dn = rule_attr(k, "displayname");

			if (!rule_parse_bool(rule_attr(k, "migrate"), 1))
				koff = 1;
			if (koff && dn && !rule_set_disable(rs, dn)) {
				char where[1200];

				snprintf(where, sizeof(where), "%s:%ld", k->file->path, k->line);
				ws_logf(log, WS_LOG_INFO, where,
					"component \"%s\" switched off but not in the rule files", dn);
			}
		}
		config_walk(rs, k, koff, log);
	}
}

int rule_set_load_config(struct rule_set *rs, const char *path,
			 struct ws_log *log, struct ws_error *err)
{
	struct ws_buf b = WS_BUF_INIT;
	struct rule_file *f = NULL;
	int rc = ws_read_file(path, RULE_MAX_FILE_BYTES, &b, err);

	if (!rc)
		rc = rule_xml_parse(path, b.buf, b.len, 0, log, &f, err);
	ws_buf_release(&b);
	if (rc)
		return rc;
	if (strcasecmp(f->root->name, "Configuration")) {
		ws_error_set(err, WS_E_RULES, path, "root element is <%s>, not <Configuration>",
			     f->root->name);
		rule_file_free(f);
		return WS_E_RULES;
	}
	config_walk(rs, f->root, 0, log);
	rule_file_free(f);
	return WS_OK;
}

size_t rule_set_component_count(const struct rule_set *rs)
{
	return rs->ncomps;
}

void rule_set_component(const struct rule_set *rs, size_t i,
			struct rule_component_info *out)
{
	const struct rule_comp *c = &rs->comps[i];
	const char *t = rule_attr(c->node, "type");

	memset(out, 0, sizeof(*out));
	out->name = c->name;
	out->urlid = c->file->urlid;
	out->file = c->file->path;
	out->line = c->node->line;
	out->type_text = t ? t : "";
	out->type = t != NULL;
	out->context = c->context;
	out->state = c->state;
	out->reason = c->reason ? c->reason : "";
	out->depth = c->depth;
}

size_t rule_set_file_count(const struct rule_set *rs)
{
	return rs->nfiles;
}

const char *rule_set_file_name(const struct rule_set *rs, size_t i)
{
	return rs->files[i]->path;
}

int rule_set_file_has_include(const struct rule_set *rs, size_t i)
{
	return rs->files[i]->has_include;
}
