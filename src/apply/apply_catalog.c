/*
 * apply_catalog.c - the notes of the Windows settings catalog's rule files
 * at apply time: each component's "10to11" verdict and note, and which
 * includes are NeverRestore, looked up by a rule record's file and line.
 */
#include "apply/apply_private.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/rules.h"
#include "util/ws_fs.h"

/* Bounds for hostile rule folders and catalogs. */
#define ACAT_MAX_FILES 64
#define ACAT_MAX_BYTES (4u << 20)
#define ACAT_MAX_COMPS 4096
#define ACAT_MAX_PATTERNS 65536

/* ---- catalog notes --------------------------------------------------------- */

struct acat_pat {
	size_t file;             /* index into files */
	long line;               /* line of the <pattern> */
	size_t comp;
	int never_restore;
};

struct acat {
	char **files;            /* base names loaded */
	size_t nfiles;
	struct acat_comp *comps;
	size_t ncomps, acomps;
	struct acat_pat *pats;
	size_t npats, apats;
};

/* Parser state of one file. */
struct acat_parse {
	struct acat *c;
	XML_Parser p;
	size_t file;
	long comp;               /* current component, -1 outside */
	long comp_stack[16];
	int depth_comp;
	int in_include;          /* 1 include, 2 exclude or other */
	int include_never;       /* filter of the current include says NeverRestore */
	int text_of;             /* 1 displayName, 2 description */
	struct ws_buf text;
	int any_include, all_never;
};

static int lname_eq(const XML_Char *name, const char *want)
{
	return !strcasecmp(name, want);
}

static void XMLCALL ap_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct acat_parse *s = ud;
	struct acat *c = s->c;

	if (lname_eq(name, "component")) {
		struct acat_comp *k;

		if (c->ncomps >= ACAT_MAX_COMPS || s->depth_comp >= 16) {
			XML_StopParser(s->p, XML_FALSE);
			return;
		}
		WS_ALLOC_GROW(c->comps, c->ncomps + 1, c->acomps);
		k = &c->comps[c->ncomps];
		memset(k, 0, sizeof(*k));
		k->name = ws_xstrdup("");
		k->file = ws_xstrdup(c->files[s->file]);
		k->note = ws_xstrdup("");
		k->all_never_restore = 1;
		s->comp_stack[s->depth_comp++] = s->comp;
		s->comp = (long)c->ncomps++;
	} else if (s->comp >= 0 && lname_eq(name, "displayName")) {
		s->text_of = 1;
		ws_buf_reset(&s->text);
	} else if (s->comp >= 0 && lname_eq(name, "description")) {
		s->text_of = 2;
		ws_buf_reset(&s->text);
	} else if (lname_eq(name, "include")) {
		s->in_include = 1;
		s->include_never = 0;
		for (size_t i = 0; atts[i]; i += 2)
			if (lname_eq(atts[i], "filter") && strstr(atts[i + 1], "NeverRestore"))
				s->include_never = 1;
	} else if (lname_eq(name, "exclude") || lname_eq(name, "unconditionalExclude")) {
		s->in_include = 2;
	} else if (lname_eq(name, "pattern") && s->comp >= 0 && s->in_include == 1) {
		struct acat_pat *p;

		if (c->npats >= ACAT_MAX_PATTERNS) {
			XML_StopParser(s->p, XML_FALSE);
			return;
		}
		WS_ALLOC_GROW(c->pats, c->npats + 1, c->apats);
		p = &c->pats[c->npats++];
		p->file = s->file;
		p->line = (long)XML_GetCurrentLineNumber(s->p);
		p->comp = (size_t)s->comp;
		p->never_restore = s->include_never;
		if (!s->include_never)
			c->comps[s->comp].all_never_restore = 0;
	}
}

/* The "10to11: ..." line of a description. */
static void parse_note(struct acat_comp *k, const char *text)
{
	const char *l = text;

	while (l && *l) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);

		while (n && (*l == ' ' || *l == '\t' || *l == '\r'))
			l++, n--;
		if (n > 6 && !strncmp(l, "10to11:", 7)) {
			const char *v = l + 7;
			size_t vn = n - 7;
			struct { const char *w; int m; } moves[] = {
				{ "carried", ACAT_CARRIED }, { "translated", ACAT_TRANSLATED },
				{ "dropped", ACAT_DROPPED }
			};

			while (vn && (*v == ' '))
				v++, vn--;
			while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\r'))
				vn--;
			for (size_t i = 0; i < 3; i++) {
				size_t wl = strlen(moves[i].w);

				if (vn >= wl && !strncmp(v, moves[i].w, wl)) {
					k->move = moves[i].m;
					v += wl, vn -= wl;
					while (vn && (*v == ':' || *v == ' '))
						v++, vn--;
					free(k->note);
					k->note = ws_xstrndup(v, vn);
				}
			}
		}
		l = e ? e + 1 : NULL;
	}
}

static void XMLCALL ap_end(void *ud, const XML_Char *name)
{
	struct acat_parse *s = ud;

	if (lname_eq(name, "component") && s->depth_comp > 0) {
		s->comp = s->comp_stack[--s->depth_comp];
	} else if (s->text_of && (lname_eq(name, "displayName") || lname_eq(name, "description"))) {
		struct acat_comp *k = &s->c->comps[s->comp];

		if (s->text_of == 1) {
			const char *t = s->text.buf;
			size_t n = s->text.len;

			while (n && (*t == ' ' || *t == '\n' || *t == '\r' || *t == '\t'))
				t++, n--;
			while (n && (t[n - 1] == ' ' || t[n - 1] == '\n' || t[n - 1] == '\r' ||
				     t[n - 1] == '\t'))
				n--;
			free(k->name);
			k->name = ws_xstrndup(t, n);
		} else {
			parse_note(k, s->text.buf);
		}
		s->text_of = 0;
	} else if (lname_eq(name, "include") || lname_eq(name, "exclude") ||
		   lname_eq(name, "unconditionalExclude")) {
		s->in_include = 0;
	}
}

static void XMLCALL ap_text(void *ud, const XML_Char *t, int len)
{
	struct acat_parse *s = ud;

	if (s->text_of && s->text.len + (size_t)len < 65536)
		ws_buf_add(&s->text, t, (size_t)len);
}

static void XMLCALL ap_doctype(void *ud, const XML_Char *n, const XML_Char *sy,
			       const XML_Char *pu, int has)
{
	struct acat_parse *s = ud;

	(void)n, (void)sy, (void)pu, (void)has;
	XML_StopParser(s->p, XML_FALSE); /* no DTDs: no entity expansion games */
}

struct acat *acat_new(void)
{
	return ws_xcalloc(1, sizeof(struct acat));
}

int acat_add_mem(struct acat *c, const char *base, const char *xml, size_t len,
		 struct ws_error *err)
{
	struct acat_parse s;
	size_t comps0 = c->ncomps, pats0 = c->npats;
	int rc = WS_OK;

	if (c->nfiles >= ACAT_MAX_FILES || len > ACAT_MAX_BYTES || len > (size_t)INT32_MAX)
		return ws_error_set(err, WS_E_RULES, base, "rule file too large or too many files");
	memset(&s, 0, sizeof(s));
	s.c = c;
	s.comp = -1;
	ws_buf_init(&s.text);
	c->files = ws_xrealloc(c->files, (c->nfiles + 1) * sizeof(*c->files));
	c->files[c->nfiles] = ws_xstrdup(base);
	s.file = c->nfiles++;
	s.p = XML_ParserCreate(NULL);
	XML_SetUserData(s.p, &s);
	XML_SetElementHandler(s.p, ap_start, ap_end);
	XML_SetCharacterDataHandler(s.p, ap_text);
	XML_SetStartDoctypeDeclHandler(s.p, ap_doctype);
	if (XML_Parse(s.p, xml, (int)len, 1) != XML_STATUS_OK) {
		rc = ws_error_set(err, WS_E_RULES, base, "rule file not read for its catalog "
				  "notes: %s", XML_ErrorString(XML_GetErrorCode(s.p)));
		ws_error_at(err, (long)XML_GetCurrentLineNumber(s.p),
			    (long)XML_GetCurrentColumnNumber(s.p) + 1);
		/* Drop what this file added. */
		for (size_t i = comps0; i < c->ncomps; i++) {
			free(c->comps[i].name);
			free(c->comps[i].file);
			free(c->comps[i].note);
		}
		c->ncomps = comps0;
		c->npats = pats0;
		free(c->files[--c->nfiles]);
	}
	XML_ParserFree(s.p);
	ws_buf_release(&s.text);
	return rc;
}

void acat_free(struct acat *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ncomps; i++) {
		free(c->comps[i].name);
		free(c->comps[i].file);
		free(c->comps[i].note);
	}
	for (size_t i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	free(c->comps);
	free(c->pats);
	free(c);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int acat_has_file(const struct acat *c, const char *base, size_t n)
{
	for (size_t i = 0; i < c->nfiles; i++)
		if (strlen(c->files[i]) == n && !strncmp(c->files[i], base, n))
			return 1;
	return 0;
}

/* Base name of a rule record's text ("file.xml:12 component ..."). */
static size_t rule_base(const char *text)
{
	const char *colon = strchr(text, ':');

	return colon ? (size_t)(colon - text) : 0;
}

struct acat *acat_load(const char *rules_dir, struct store_catalog *cat, struct ws_log *log)
{
	struct acat *c = acat_new();
	const struct store_scan_info *si = store_catalog_info(cat);
	char *own = NULL;
	size_t nr;
	const struct store_rule *rules = store_catalog_rules(cat, &nr);

	if (!rules_dir)
		rules_dir = own = rule_default_dir(NULL);
	for (size_t i = 0; i < nr && c->nfiles < ACAT_MAX_FILES; i++) {
		size_t bl = rule_base(rules[i].text);
		char *base;
		struct ws_buf path = WS_BUF_INIT, data = WS_BUF_INIT;
		struct ws_error e;
		int found = 0;

		if (!bl || bl > 255 || acat_has_file(c, rules[i].text, bl))
			continue;
		base = ws_xstrndup(rules[i].text, bl);
		if (strchr(base, '/') || !strcmp(base, "..") || !strcmp(base, ".")) {
			free(base);
			continue;
		}
		if (rules_dir) {
			ws_path_join(&path, rules_dir, base);
			found = ws_path_exists(path.buf);
		}
		for (size_t k = 0; !found && k < si->n_rule_files; k++)
			if (!strcmp(base_name(si->rule_files[k]), base) &&
			    ws_path_exists(si->rule_files[k])) {
				ws_buf_reset(&path);
				ws_buf_adds(&path, si->rule_files[k]);
				found = 1;
			}
		ws_error_clear(&e);
		if (!found) {
			/* Record the name so it is looked up once. */
			c->files = ws_xrealloc(c->files, (c->nfiles + 1) * sizeof(*c->files));
			c->files[c->nfiles++] = ws_xstrdup(base);
			ws_logf(log, WS_LOG_DEBUG, base, "rule file of the scan not found: its "
				"catalog notes (Windows 10 -> 11, NeverRestore) are not used");
		} else if (ws_read_file(path.buf, ACAT_MAX_BYTES, &data, &e) ||
			   acat_add_mem(c, base, data.buf, data.len, &e)) {
			char b[2300];

			c->files = ws_xrealloc(c->files, (c->nfiles + 1) * sizeof(*c->files));
			c->files[c->nfiles++] = ws_xstrdup(base);
			ws_logf(log, WS_LOG_WARN, path.buf, "catalog notes not read: %s",
				ws_error_format(&e, b, sizeof(b)));
		}
		free(base);
		ws_buf_release(&path);
		ws_buf_release(&data);
	}
	free(own);
	return c;
}

size_t acat_count(const struct acat *c)
{
	return c ? c->ncomps : 0;
}

struct acat_comp *acat_get(struct acat *c, size_t i)
{
	return &c->comps[i];
}

struct acat_comp *acat_find(struct acat *c, const char *text, int *never_restore)
{
	size_t bl, nl;
	const char *q, *name;
	long line;
	char *end;

	*never_restore = 0;
	if (!c || !text || !(bl = rule_base(text)))
		return NULL;
	line = strtol(text + bl + 1, &end, 10);
	q = strstr(end, " component '");
	if (!q)
		return NULL;
	name = q + 12;
	for (size_t i = 0; i < c->ncomps; i++) {
		struct acat_comp *k = &c->comps[i];

		nl = strlen(k->name);
		if (strlen(k->file) != bl || strncmp(k->file, text, bl) ||
		    strncmp(name, k->name, nl) || name[nl] != '\'')
			continue;
		*never_restore = k->all_never_restore;
		/* The pattern at that line, when the file is the one scanned. */
		for (size_t p = 0; p < c->npats; p++)
			if (c->pats[p].comp == i && c->pats[p].line == line) {
				*never_restore = c->pats[p].never_restore;
				break;
			}
		return k;
	}
	return NULL;
}
