/* fuzz_reg_export.c - random keys, value names, types and data through the
 * .reg writer (reg_export.h).  Nothing may crash or leak, and the result
 * must be well formed and lossless: the UTF-16LE form has a BOM, CRLF line
 * ends and decodes back to the UTF-8 text; reading the text back (headers
 * up to the line's last ']', "text", dword:, hex:/hex(N): with continuation
 * lines) the way reg import does gives, in order, exactly the keys, names,
 * types and bytes that were accepted, but for the NUL bytes that
 * reg_export_import_growth() announces.
 *
 * Input: records of  root(1) keylen(1) key flags(1) namelen(1) name
 * type(1) datalen(2) data; flags bit 0 = key only, bit 1 = NULL name. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reg/reg_export.h"
#include "util/ws_utf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXREC 64

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static size_t take(struct fz_in *in, size_t want, const uint8_t **out)
{
	if (want > in->n)
		want = in->n;
	*out = in->p;
	in->p += want;
	in->n -= want;
	return want;
}

static unsigned byte(struct fz_in *in)
{
	const uint8_t *b;

	return take(in, 1, &b) ? b[0] : 0;
}

static const char *const roots[] = { "HKCU", "HKLM", "hkcr", "HKU", "HKCC",
				     "HKEY_CURRENT_USER", "hkey_local_machine", "HKEY_USERS",
				     "HKEY_CLASSES_ROOT", "HKEY_CURRENT_CONFIG", "HKXX", "" };

/* What a successful add must come back as. */
struct expect {
	char *key;          /* normalised: long root, single backslashes */
	int has_value;
	char *name;         /* "" for the default value */
	uint32_t type;
	unsigned char *data;
	size_t len;
};

static const char *long_root(const char *r, size_t n)
{
	static const char *const map[][2] = {
		{ "HKCU", "HKEY_CURRENT_USER" }, { "HKLM", "HKEY_LOCAL_MACHINE" },
		{ "HKCR", "HKEY_CLASSES_ROOT" }, { "HKU", "HKEY_USERS" },
		{ "HKCC", "HKEY_CURRENT_CONFIG" },
	};

	for (size_t i = 0; i < 5; i++)
		for (int j = 0; j < 2; j++)
			if (!ws_name_ncasecmp(r, n, map[i][j], strlen(map[i][j])))
				return map[i][1];
	return NULL;
}

static char *normalise(const char *path)
{
	struct ws_buf b = WS_BUF_INIT;
	const char *p = path;
	int first = 1;

	while (*p) {
		const char *e;

		while (*p == '\\')
			p++;
		if (!*p)
			break;
		e = strchr(p, '\\');
		if (!e)
			e = p + strlen(p);
		if (first) {
			ws_buf_adds(&b, long_root(p, (size_t)(e - p)));
			first = 0;
		} else {
			ws_buf_addch(&b, '\\');
			ws_buf_add(&b, p, (size_t)(e - p));
		}
		p = e;
	}
	return ws_buf_detach(&b, NULL);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Read a quoted string at *s (after the opening quote) up to the closing
 * quote, undoing \\ and \" escapes. */
static void unquote(const char **s, struct ws_buf *out)
{
	const char *p = *s;

	for (;;) {
		if (!*p || *p == '\n')
			abort();
		if (*p == '"')
			break;
		if (*p == '\\') {
			p++;
			if (*p != '\\' && *p != '"')
				abort();
		}
		ws_buf_addch(out, *p++);
	}
	*s = p + 1;
}

/* What reg import stores from hex(1)/hex(2)/hex(7) data: a NUL UTF-16
 * unit appended unless the last whole unit is one.  The writer never
 * leaves it an odd last byte to overwrite. */
static void import_string(struct ws_buf *val)
{
	size_t u = val->len / 2 * 2;

	if (val->len == 0)
		return;
	if (u == 0)
		abort();
	if (!val->buf[u - 1] && !val->buf[u - 2])
		return;
	if (u != val->len)
		abort();
	ws_buf_add(val, "\0\0", 2);
}

/* Check the text against the expected sequence. */
static void read_back(const char *text, const struct expect *ex, size_t nex)
{
	const char *hdr = "Windows Registry Editor Version 5.00\n";
	const char *p = text, *key = NULL;
	size_t keylen = 0, next = 0;
	struct ws_buf name = WS_BUF_INIT, val = WS_BUF_INIT, headers = WS_BUF_INIT;

	if (strncmp(p, hdr, strlen(hdr)))
		abort();
	p += strlen(hdr);
	while (*p) {
		const char *eol = strchr(p, '\n');
		uint32_t type;

		if (!eol)
			abort();         /* every line ends */
		if (eol == p) {
			p++;
			continue;
		}
		if (*p == '[') {
			/* a header: the key ends at the line's last character */
			if (eol[-1] != ']' || eol - p < 3)
				abort();
			key = p + 1;
			keylen = (size_t)(eol - 1 - key);
			ws_buf_add(&headers, "\n", 1);
			ws_buf_add(&headers, key, keylen);
			p = eol + 1;
			continue;
		}
		/* a value line of the key of the next expected value (key-only
		 * adds are checked against the headers at the end) */
		while (next < nex && !ex[next].has_value)
			next++;
		if (next >= nex || !key ||
		    keylen != strlen(ex[next].key) || memcmp(key, ex[next].key, keylen))
			abort();
		ws_buf_reset(&name);
		ws_buf_reset(&val);
		if (*p == '@') {
			p++;
		} else if (*p == '"') {
			p++;
			unquote(&p, &name);
		} else {
			abort();
		}
		if (*p++ != '=')
			abort();
		if (*p == '"') {
			p++;
			{
				struct ws_buf s = WS_BUF_INIT;

				unquote(&p, &s);
				if (ws_utf8_to_utf16le(s.buf, s.len, &val))
					abort();
				ws_buf_add(&val, "\0\0", 2);
				ws_buf_release(&s);
			}
			type = 1;
		} else if (!strncmp(p, "dword:", 6)) {
			unsigned long v;

			p += 6;
			for (int i = 0; i < 8; i++)
				if (hexval(p[i]) < 0)
					abort();
			v = strtoul(p, NULL, 16);
			for (int i = 0; i < 4; i++)
				ws_buf_addch(&val, (char)(v >> (8 * i)));
			p += 8;
			type = 4;
		} else if (!strncmp(p, "hex", 3)) {
			p += 3;
			if (*p == ':') {
				type = 3;
			} else if (*p == '(') {
				char *end;

				type = (uint32_t)strtoul(p + 1, &end, 16);
				if (*end != ')' || type == 3)
					abort();
				p = end + 1;
				if (*p != ':')
					abort();
			} else {
				abort();
			}
			p++;
			while (hexval(p[0]) >= 0) {
				if (hexval(p[1]) < 0)
					abort();
				ws_buf_addch(&val, (char)(hexval(p[0]) << 4 | hexval(p[1])));
				p += 2;
				if (*p != ',')
					break;
				p++;
				if (!strncmp(p, "\\\n  ", 4))
					p += 4;
			}
		} else {
			abort();
		}
		if (*p != '\n')
			abort();
		p++;
		if (type == 1 || type == 2 || type == 7)
			import_string(&val);
		if (strcmp(name.buf, ex[next].name) || type != ex[next].type ||
		    val.len != ex[next].len || (val.len && memcmp(val.buf, ex[next].data, val.len)))
			abort();
		next++;
	}
	while (next < nex && !ex[next].has_value)
		next++;
	if (next != nex)
		abort();
	ws_buf_addch(&headers, '\n');
	for (size_t i = 0; i < nex; i++) {
		struct ws_buf k = WS_BUF_INIT;

		ws_buf_addf(&k, "\n%s\n", ex[i].key);
		if (!strstr(headers.buf, k.buf))
			abort();
		ws_buf_release(&k);
	}
	ws_buf_release(&headers);
	ws_buf_release(&name);
	ws_buf_release(&val);
}

static void check_utf16(const struct reg_export *x)
{
	struct ws_buf u = WS_BUF_INIT, back = WS_BUF_INIT, want = WS_BUF_INIT;
	const char *t = reg_export_utf8(x);

	reg_export_to_utf16(x, &u);
	if (u.len < 2 || u.len % 2 || memcmp(u.buf, "\xff\xfe", 2))
		abort();
	for (size_t i = 2; i + 1 < u.len; i += 2)
		if (u.buf[i] == '\n' && !u.buf[i + 1] &&
		    (i < 4 || u.buf[i - 2] != '\r' || u.buf[i - 1]))
			abort();
	ws_utf16le_to_utf8(u.buf + 2, u.len - 2, &back, 0);
	for (; *t; t++) {
		if (*t == '\n')
			ws_buf_addch(&want, '\r');
		ws_buf_addch(&want, *t);
	}
	ws_buf_add(&want, "\r\n", 2);
	if (back.len != want.len || memcmp(back.buf, want.buf, back.len))
		abort();
	ws_buf_release(&u);
	ws_buf_release(&back);
	ws_buf_release(&want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct reg_export x;
	struct expect ex[MAXREC];
	size_t nex = 0;

	reg_export_init(&x);
	while (in.n && nex < MAXREC) {
		struct ws_buf key = WS_BUF_INIT, name = WS_BUF_INIT;
		struct reg_value v = { 0 };
		const uint8_t *b;
		size_t l;
		unsigned flags;
		struct ws_error e;

		ws_buf_adds(&key, roots[byte(&in) % (sizeof(roots) / sizeof(roots[0]))]);
		l = take(&in, byte(&in) % 80, &b);
		ws_buf_add(&key, b, l);
		flags = byte(&in);
		l = take(&in, byte(&in) % 40, &b);
		ws_buf_add(&name, b, l);
		v.type = byte(&in);
		if (v.type > 12)
			v.type = 0x7fff0000u | v.type;
		l = byte(&in);
		l = take(&in, (l | (size_t)byte(&in) << 8) % 600, &b);
		v.len = l;
		v.data = l ? (unsigned char *)b : NULL;
		v.name = flags & 2 ? NULL : name.buf;
		if (strlen(key.buf) == key.len &&
		    reg_export_add(&x, key.buf, flags & 1 ? NULL : &v, &e) == WS_OK) {
			struct expect *t = &ex[nex++];

			t->key = normalise(key.buf);
			t->has_value = !(flags & 1);
			t->name = ws_xstrdup(v.name ? v.name : "");
			t->type = v.type;
			/* what reg import stores: the data, then the NULs announced */
			t->len = v.len + (flags & 1 ? 0 : reg_export_import_growth(&v));
			t->data = ws_xcalloc(1, t->len + 1);
			if (v.len)
				memcpy(t->data, v.data, v.len);
		}
		ws_buf_release(&key);
		ws_buf_release(&name);
	}
	read_back(reg_export_utf8(&x), ex, nex);
	check_utf16(&x);
	for (size_t i = 0; i < nex; i++) {
		free(ex[i].key);
		free(ex[i].name);
		free(ex[i].data);
	}
	reg_export_release(&x);
	return 0;
}
