/*
 * rule_ini.c - INI files and paths read from a source's content: the
 * sections and keys of an INI text (GetStringContent on an Ini location,
 * content filters over profiles.ini), and the check that a path found in
 * such content names a folder of the source before a pattern is made of it.
 * Both read text written by whoever used the source machine: nothing in it
 * is trusted.
 */
#include "rules_private.h"

#include <string.h>
#include <strings.h>

#include "util/ws_buf.h"
#include "util/ws_ini.h"
#include "util/ws_utf.h"

int rule_ini_text(const char *raw, size_t len, struct ws_buf *out)
{
	const unsigned char *u = (const unsigned char *)raw;

	ws_buf_reset(out);
	if (len >= 2 && u[0] == 0xff && u[1] == 0xfe) {
		ws_utf16le_to_utf8(raw + 2, len - 2, out, 0);
		return 0;
	}
	if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
		raw += 3;
		len -= 3;
	}
	ws_buf_add(out, raw, len);
	return 0;
}

int rule_ini_each(const char *text, size_t len, const char *section, const char *key,
		  int (*fn)(void *arg, const char *section, const char *value, long line),
		  void *arg)
{
	const char *p = text, *e = text + len;
	struct ws_buf sec = WS_BUF_INIT, val = WS_BUF_INIT;
	struct ws_ini_line l;
	size_t klen = strlen(key);
	long line = 0;
	int in = 0, rc = 0;

	while (p < e && !rc) {
		p = ws_ini_next(p, e, &l);
		line++;
		if (l.kind == WS_INI_SECTION) {
			ws_buf_reset(&sec);
			/* "[Profile0" without its bracket: no section */
			in = l.nb && !memchr(l.nb, '\0', (size_t)(l.ne - l.nb));
			if (in) {
				ws_buf_add(&sec, l.nb, (size_t)(l.ne - l.nb));
				in = rule_wild_match(section, sec.buf);
			}
		} else if (in && l.kind == WS_INI_KEY && (size_t)(l.ne - l.nb) == klen &&
			   !strncasecmp(l.nb, key, klen) &&
			   !memchr(l.vb, '\0', (size_t)(l.ve - l.vb))) {
			ws_buf_reset(&val);
			ws_buf_add(&val, l.vb, (size_t)(l.ve - l.vb));
			rc = fn(arg, sec.buf, val.buf, line);
		}
	}
	ws_buf_release(&sec);
	ws_buf_release(&val);
	return rc;
}

/* Characters no Windows file name holds (besides the separators). */
static int bad_char(unsigned char c)
{
	return c < 32 || c == 127 || strchr("*?\"<>|", c) != NULL;
}

const char *rule_content_path(const char *value, const char *base, struct ws_buf *out)
{
	struct ws_buf in = WS_BUF_INIT;
	const char *why = NULL, *p;
	size_t n;

	ws_buf_reset(out);
	/* Mozilla writes relative paths with '/', Windows accepts both */
	ws_buf_adds(&in, value);
	for (size_t i = 0; i < in.len; i++)
		if (in.buf[i] == '/')
			in.buf[i] = '\\';
	p = in.buf;
	if (!*p) {
		why = "an empty path";
	} else if (p[0] == '\\' && p[1] == '\\') {
		why = "a network path (UNC), not on the source's disks";
	} else if (((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') && p[1] == ':') {
		if (p[2] != '\\')
			why = "a path relative to a drive's current folder";
		else
			ws_buf_addf(out, "%c:%s", p[0] & ~0x20, p + 2);
	} else if (p[0] == '\\') {
		why = "a path without a drive";
	} else if (!base) {
		why = "a relative path with nothing to be relative to";
	} else {
		ws_buf_addf(out, "%s\\%s", base, p);
	}
	if (!why) {
		/* every component a real name: no '.', '..', empty or odd one */
		const char *c = out->buf + 3;

		for (const unsigned char *u = (const unsigned char *)out->buf; *u; u++)
			if (bad_char(*u) || (*u == ':' && u - (const unsigned char *)out->buf != 1))
				why = "has characters Windows paths cannot hold";
		while (!why && *c) {
			const char *ce = strchr(c, '\\');
			size_t cl = ce ? (size_t)(ce - c) : strlen(c);

			if ((cl == 1 && c[0] == '.') || (cl == 2 && c[0] == '.' && c[1] == '.'))
				why = "has a '.' or '..' component";
			else if (!cl && ce && ce[1])
				why = "has an empty component";
			c = ce ? ce + 1 : c + cl;
		}
		if (!why && out->len > 32767)
			why = "longer than Windows paths are";
	}
	if (why) {
		ws_buf_reset(out);
	} else {
		/* no trailing separator: "D:\Profiles\" is the folder D:\Profiles */
		n = out->len;
		while (n > 3 && out->buf[n - 1] == '\\')
			n--;
		ws_buf_setlen(out, n);
	}
	ws_buf_release(&in);
	return why;
}

void rule_escape_literal(const char *s, struct ws_buf *out)
{
	for (; *s; s++) {
		if (*s == '[' || *s == ']' || *s == '^' || *s == '*' || *s == '?')
			ws_buf_addch(out, '^');
		ws_buf_addch(out, *s);
	}
}
