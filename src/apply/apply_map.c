/*
 * apply_map.c - identities: SID and Entra object ID parsing, --map-user,
 * --map-domain and --map-file (CSV), and the rewriting of profile paths and
 * SIDs inside migrated string data.
 */
#include "apply/apply_private.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ws_fs.h"
#include "util/ws_utf.h"

/* ---- SIDs and object IDs ------------------------------------------------- */

/* Parse a decimal number of at most `max`; returns chars used, 0 if none. */
static size_t parse_dec(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i = 0;

	while (isdigit((unsigned char)s[i])) {
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > max || i > 20)
			return 0;
		i++;
	}
	*out = v;
	return i;
}

int apply_sid_valid(const char *s)
{
	unsigned long long v;
	size_t n;
	int subs = 0;

	if (!s || (s[0] != 'S' && s[0] != 's') || s[1] != '-' || s[2] != '1' || s[3] != '-')
		return 0;
	s += 4;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		size_t h = 0;

		while (isxdigit((unsigned char)s[2 + h]))
			h++;
		if (h != 12)
			return 0;
		s += 14;
	} else {
		if (!(n = parse_dec(s, 0xFFFFFFFFFFFFull, &v)))
			return 0;
		s += n;
	}
	while (*s) {
		if (*s != '-' || !(n = parse_dec(s + 1, 0xFFFFFFFFull, &v)))
			return 0;
		s += 1 + n;
		if (++subs > 15)
			return 0;
	}
	return subs >= 1;
}

int apply_sid_from_object_id(const char *guid, struct ws_buf *out,
			     struct ws_error *err)
{
	unsigned char b[16];
	size_t len = strlen(guid);
	const char *g = guid;
	static const int groups[] = { 8, 4, 4, 4, 12 };
	char hex[33];
	size_t k = 0;
	uint32_t d[4];

	if (len == 38 && g[0] == '{' && g[37] == '}') {
		g++;
		len -= 2;
	}
	if (len != 36)
		goto bad;
	for (int gi = 0, pos = 0; gi < 5; gi++) {
		for (int i = 0; i < groups[gi]; i++, pos++) {
			if (!isxdigit((unsigned char)g[pos]))
				goto bad;
			hex[k++] = g[pos];
		}
		if (gi < 4 && g[pos++] != '-')
			goto bad;
	}
	hex[32] = '\0';
	for (int i = 0; i < 16; i++) {
		unsigned v;

		sscanf(hex + 2 * i, "%2x", &v);
		b[i] = (unsigned char)v;
	}
	/* Text order -> Windows GUID byte order (Data1..3 little-endian). */
	{
		unsigned char w[16] = { b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6],
					b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15] };

		for (int i = 0; i < 4; i++)
			d[i] = ws_get_u32le(w + 4 * i);
	}
	ws_buf_addf(out, "S-1-12-1-%u-%u-%u-%u", d[0], d[1], d[2], d[3]);
	return WS_OK;
bad:
	return ws_error_set(err, WS_E_USAGE, guid,
			    "malformed object ID: expected a GUID like "
			    "f82d79af-1278-4894-ac01-d90e30875cf8");
}

/* Looks like an attempt at a GUID: the 8-4-4-4-12 dash layout (braces
 * allowed), or only hex digits, dashes and braces with a dash. */
static int guidish(const char *s)
{
	size_t n = strlen(s), off = 0;
	int dash = 0, hexonly = 1;

	if (n == 38 && s[0] == '{')
		off = 1;
	if (n - 2 * off == 36 && s[off + 8] == '-' && s[off + 13] == '-' &&
	    s[off + 18] == '-' && s[off + 23] == '-')
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '-')
			dash = 1;
		else if (!isxdigit((unsigned char)s[i]) && s[i] != '{' && s[i] != '}')
			hexonly = 0;
	}
	return hexonly && dash && n >= 8;
}

static int sidish(const char *s)
{
	return (s[0] == 'S' || s[0] == 's') && s[1] == '-';
}

/* ---- mappings ------------------------------------------------------------ */

void amap_release(struct amaps *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].old);
		free(m->v[i].new_account);
		free(m->v[i].new_sid);
	}
	free(m->v);
	for (size_t i = 0; i < m->ndom; i++) {
		free(m->dom_old[i]);
		free(m->dom_new[i]);
	}
	free(m->dom_old);
	free(m->dom_new);
	memset(m, 0, sizeof(*m));
}

/* Add NEW descriptor `s` to mapping `a`. */
static int add_new(struct amap *a, const char *s, const char *where, long line,
		   struct ws_error *err)
{
	struct ws_buf sid = WS_BUF_INIT;
	int rc;

	if (!*s)
		return WS_OK;
	if (sidish(s)) {
		if (!apply_sid_valid(s)) {
			rc = ws_error_set(err, WS_E_USAGE, where, "malformed SID '%s'", s);
			return line ? ws_error_at(err, line, 0) : rc;
		}
		free(a->new_sid);
		a->new_sid = ws_xstrdup(s);
		a->new_sid[0] = 'S';
		return WS_OK;
	}
	if (guidish(s)) {
		if (apply_sid_from_object_id(s, &sid, NULL)) {
			ws_buf_release(&sid);
			rc = ws_error_set(err, WS_E_USAGE, where,
					  "malformed Entra object ID (GUID) '%s'", s);
			return line ? ws_error_at(err, line, 0) : rc;
		}
		free(a->new_sid);
		a->new_sid = ws_buf_detach(&sid, NULL);
		return WS_OK;
	}
	if (!ws_name_casecmp(s, "Default")) {
		a->to_default = 1;
		return WS_OK;
	}
	free(a->new_account);
	a->new_account = ws_xstrdup(s);
	return WS_OK;
}

static int check_old(const char *old, const char *where, long line,
		     struct ws_error *err)
{
	int rc;

	if (!*old) {
		rc = ws_error_set(err, WS_E_USAGE, where, "empty source user");
		return line ? ws_error_at(err, line, 0) : rc;
	}
	if (sidish(old) && !apply_sid_valid(old)) {
		rc = ws_error_set(err, WS_E_USAGE, where, "malformed SID '%s'", old);
		return line ? ws_error_at(err, line, 0) : rc;
	}
	return WS_OK;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Split a CSV line in place (quotes with "" escapes); returns field count. */
static size_t csv_split(char *s, char **f, size_t max)
{
	size_t n = 0;

	while (n < max) {
		char *w;

		while (*s == ' ' || *s == '\t')
			s++;
		w = s;
		f[n++] = w;
		if (*s == '"') {
			s++;
			while (*s) {
				if (*s == '"' && s[1] == '"') {
					*w++ = '"';
					s += 2;
				} else if (*s == '"') {
					s++;
					break;
				} else {
					*w++ = *s++;
				}
			}
			while (*s && *s != ',')
				s++;
		} else {
			while (*s && *s != ',')
				*w++ = *s++;
		}
		if (*s == ',') {
			*w = '\0';
			s++;
			f[n - 1] = trim(f[n - 1]);
			continue;
		}
		*w = '\0';
		f[n - 1] = trim(f[n - 1]);
		break;
	}
	return n;
}

int amap_parse_csv(const char *path, const char *data, size_t len, struct amaps *m,
		   struct ws_error *err)
{
	struct ws_buf text = WS_BUF_INIT;
	char *s, *nl;
	long line = 0;
	int rc = WS_OK;

	ws_buf_add(&text, data, len);
	s = text.buf;
	if (text.len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
		s += 3;
	for (; s && *s; s = nl ? nl + 1 : NULL) {
		char *f[8], *ln;
		size_t nf;
		struct amap a = { 0 };

		line++;
		nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
		ln = trim(s);
		if (!*ln || *ln == '#')
			continue;
		if (!ws_utf8_valid(ln, strlen(ln))) {
			rc = ws_error_set(err, WS_E_USAGE, path, "not UTF-8 text");
			ws_error_at(err, line, 0);
			goto out;
		}
		nf = csv_split(ln, f, 8);
		if (line == 1 && (!ws_name_casecmp(f[0], "old") || !ws_name_casecmp(f[0], "source") ||
				  !ws_name_casecmp(f[0], "old_user")))
			continue; /* header */
		if (nf < 2 || !*f[1]) {
			rc = ws_error_set(err, WS_E_USAGE, path,
					  "expected OLD,NEW (old SID or DOMAIN\\user, then new "
					  "DOMAIN\\user, UPN, SID or object ID)");
			ws_error_at(err, line, 0);
			goto out;
		}
		if ((rc = check_old(f[0], path, line, err)))
			goto out;
		a.old = ws_xstrdup(f[0]);
		for (size_t i = 1; i < nf && !rc; i++)
			rc = add_new(&a, f[i], path, line, err);
		WS_ALLOC_GROW(m->v, m->n + 1, m->alloc);
		m->v[m->n++] = a;
		if (rc)
			goto out;
	}
out:
	ws_buf_release(&text);
	return rc;
}

static int load_csv(const char *path, struct amaps *m, struct ws_error *err)
{
	struct ws_buf text = WS_BUF_INIT;
	int rc;

	if ((rc = ws_read_file(path, 16u << 20, &text, err))) {
		/* An unreadable map is a command-line problem. */
		if (err)
			err->code = WS_E_USAGE;
		ws_buf_release(&text);
		return ws_error_hint(err, WS_E_USAGE, WS_INPUT_MAP_FILE, WS_HINT_NONE);
	}
	rc = amap_parse_csv(path, text.buf, text.len, m, err);
	ws_buf_release(&text);
	return rc;
}

int amap_load(const struct apply_opts *o, struct amaps *m, struct ws_error *err)
{
	int rc = WS_OK;

	memset(m, 0, sizeof(*m));
	for (size_t k = 0; k < o->n_map_user; k++) {
		const char *s = o->map_user[k], *eq = strchr(s, '=');
		struct amap a = { 0 };

		if (!eq || eq == s || !eq[1]) {
			rc = ws_error_hint(err, ws_error_set(err, WS_E_USAGE, s, "takes OLD=NEW"),
					   WS_INPUT_MAP_USER, WS_HINT_NONE);
			goto fail;
		}
		a.old = ws_xstrndup(s, (size_t)(eq - s));
		WS_ALLOC_GROW(m->v, m->n + 1, m->alloc);
		m->v[m->n++] = a;
		if ((rc = check_old(a.old, s, 0, err)) ||
		    (rc = add_new(&m->v[m->n - 1], eq + 1, s, 0, err)))
			goto fail;
	}
	for (size_t k = 0; k < o->n_map_domain; k++) {
		const char *s = o->map_domain[k], *eq = strchr(s, '=');

		if (!eq || eq == s || !eq[1] || strchr(s, '\\')) {
			rc = ws_error_hint(err, ws_error_set(err, WS_E_USAGE, s,
							     "takes OLD=NEW domain names"),
					   WS_INPUT_MAP_DOMAIN, WS_HINT_NONE);
			goto fail;
		}
		m->dom_old = ws_xrealloc(m->dom_old, (m->ndom + 1) * sizeof(char *));
		m->dom_new = ws_xrealloc(m->dom_new, (m->ndom + 1) * sizeof(char *));
		m->dom_old[m->ndom] = ws_xstrndup(s, (size_t)(eq - s));
		m->dom_new[m->ndom++] = ws_xstrdup(eq + 1);
	}
	if (o->map_file && (rc = load_csv(o->map_file, m, err)))
		goto fail;
	return WS_OK;
fail:
	amap_release(m);
	return rc;
}

static const char *short_name(const char *account)
{
	const char *bs = strrchr(account, '\\');

	return bs ? bs + 1 : account;
}

const struct amap *amap_find(const struct amaps *m, const char *sid,
			     const char *account)
{
	/* Exact SID or full account first, then the bare user name. */
	for (size_t i = 0; i < m->n; i++)
		if (!ws_name_casecmp(m->v[i].old, sid) ||
		    (*account && !ws_name_casecmp(m->v[i].old, account)))
			return &m->v[i];
	for (size_t i = 0; i < m->n; i++) {
		const char *o = m->v[i].old;

		if (*account && (!ws_name_casecmp(o, short_name(account)) ||
				 (strchr(o, '\\') && !strchr(account, '\\') &&
				  !ws_name_casecmp(short_name(o), account))))
			return &m->v[i];
	}
	return NULL;
}

char *amap_domain(const struct amaps *m, const char *account)
{
	const char *bs = strchr(account, '\\');

	if (bs)
		for (size_t i = 0; i < m->ndom; i++)
			if (!ws_name_ncasecmp(account, (size_t)(bs - account), m->dom_old[i],
					      strlen(m->dom_old[i])))
				return ws_xasprintf("%s%s", m->dom_new[i], bs);
	return ws_xstrdup(account);
}

/* ---- rewriting ----------------------------------------------------------- */

/* An ASCII character as a case-insensitive name compares it. */
static unsigned char ascii_fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

/* Do s and the first fl bytes of `from` differ in an ASCII letter or sign
 * before any other byte?  Then they are different names whatever follows
 * (both sides one byte per character so far); 0 means "ask
 * ws_name_ncasecmp". */
static int ascii_differs(const char *s, const char *from, size_t fl)
{
	for (size_t i = 0; i < fl; i++) {
		unsigned char x = (unsigned char)s[i], y = (unsigned char)from[i];

		if (!x || x >= 0x80 || y >= 0x80)
			return 0;
		if (ascii_fold(x) != ascii_fold(y))
			return 1;
	}
	return 0;
}

int asub_string(const char *s, const struct asub *subs, size_t n, struct ws_buf *out)
{
	int changed = 0, any = 0;
	const char *start = s;
	/* bytes a match may start with: a substitution's first ASCII byte in
	 * either case, and every non-ASCII byte (Unicode folds those); text
	 * between them is copied whole */
	uint64_t may[4] = { 0, 0, ~(uint64_t)0, ~(uint64_t)0 };

	for (size_t k = 0; k < n; k++) {
		unsigned char f0 = (unsigned char)subs[k].from[0];

		if (f0 >= 0x80)
			any = 1;
		else if (f0) {
			may[f0 >> 6] |= (uint64_t)1 << (f0 & 63);
			if (ascii_fold(f0) != f0 || (f0 >= 'a' && f0 <= 'z')) {
				unsigned char o = (unsigned char)(f0 ^ 0x20);

				may[o >> 6] |= (uint64_t)1 << (o & 63);
			}
		}
	}
	while (*s) {
		unsigned char c0 = (unsigned char)*s;
		size_t k;

		if (!any && !(may[c0 >> 6] >> (c0 & 63) & 1)) {
			const char *r = s + 1;

			while (*r && !(may[(unsigned char)*r >> 6] >> ((unsigned char)*r & 63) & 1))
				r++;
			ws_buf_add(out, s, (size_t)(r - s));
			s = r;
			continue;
		}

		for (k = 0; k < n; k++) {
			const struct asub *a = &subs[k];
			unsigned char f0 = (unsigned char)a->from[0];
			size_t fl;
			char nx;

			/* two ASCII characters are the same name character only when
			 * they are the same letter: most positions end here */
			if (!f0 || (c0 < 0x80 && f0 < 0x80 && ascii_fold(c0) != ascii_fold(f0)))
				continue;
			fl = strlen(a->from);
			if (ascii_differs(s, a->from, fl) ||
			    ws_name_ncasecmp(s, strnlen(s, fl), a->from, fl))
				continue;
			nx = s[fl];
			if (a->sid) {
				if (isdigit((unsigned char)nx) ||
				    (s > start && (isalnum((unsigned char)s[-1]) || s[-1] == '-')))
					continue;
			} else if (!(nx == '\0' || nx == '\\' || nx == '"' || nx == ';' ||
				     nx == ',' || nx == ' ' || nx == '/' || nx == '\'')) {
				continue;
			}
			ws_buf_adds(out, a->to);
			s += fl;
			changed = 1;
			break;
		}
		if (k == n)
			ws_buf_addch(out, *s++);
	}
	return changed;
}

int asub_value(uint32_t type, const unsigned char *data, size_t len,
	       const struct asub *subs, size_t n, struct ws_buf *out)
{
	struct ws_buf u8 = WS_BUF_INIT, tmp = WS_BUF_INIT;
	int changed = 0;
	size_t off = 0;

	if (!n || (type != 1 && type != 2 && type != 7) || len < 2)
		return 0;
	/* Each NUL-separated string (one for SZ, several for MULTI_SZ). */
	while (off + 1 < len) {
		size_t end = off;

		while (end + 1 < len && (data[end] || data[end + 1]))
			end += 2;
		ws_buf_reset(&u8);
		ws_buf_reset(&tmp);
		ws_utf16le_to_utf8(data + off, end - off, &u8, 0);
		if (asub_string(u8.buf, subs, n, &tmp)) {
			changed = 1;
			ws_utf8_to_utf16le(tmp.buf, tmp.len, out);
		} else {
			ws_buf_add(out, data + off, end - off);
		}
		if (end + 1 < len)
			ws_buf_add(out, "\0\0", 2);
		off = end + 2;
		if (type != 7)
			break;
	}
	if (off < len)
		ws_buf_add(out, data + off, len - off);
	if (!changed)
		ws_buf_reset(out);
	ws_buf_release(&u8);
	ws_buf_release(&tmp);
	return changed;
}
