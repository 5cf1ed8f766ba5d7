/* ws_buf.c - growable buffer and allocation wrappers. */
#include "ws_buf.h"
#include "ws_utf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char ws_buf_empty[1];

static void *oom(void)
{
	abort();
}

void *ws_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	return p ? p : oom();
}

void *ws_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	return p ? p : oom();
}

void *ws_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	return q ? q : oom();
}

char *ws_xstrdup(const char *s)
{
	return ws_xmemdup(s, strlen(s) + 1);
}

char *ws_xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = ws_xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void *ws_xmemdup(const void *p, size_t n)
{
	void *q = ws_xmalloc(n);

	if (n)
		memcpy(q, p, n);
	return q;
}

char *ws_xasprintf(const char *fmt, ...)
{
	struct ws_buf b = WS_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	ws_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return ws_buf_detach(&b, NULL);
}

void ws_buf_init(struct ws_buf *b)
{
	b->buf = ws_buf_empty;
	b->len = b->alloc = 0;
}

void ws_buf_release(struct ws_buf *b)
{
	if (b->alloc)
		free(b->buf);
	ws_buf_init(b);
}

char *ws_buf_detach(struct ws_buf *b, size_t *len)
{
	char *p;

	if (len)
		*len = b->len;
	p = b->alloc ? b->buf : ws_xstrdup("");
	ws_buf_init(b);
	return p;
}

void ws_buf_grow_slow(struct ws_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need < b->len)
		abort(); /* size_t overflow */
	if (need <= b->alloc)
		return;
	if (!b->alloc) {
		size_t n = need < 64 ? 64 : need;
		b->buf = ws_xmalloc(n);
		b->buf[0] = '\0';
		b->alloc = n;
		return;
	}
	{
		size_t n = b->alloc * 2;
		while (n < need)
			n *= 2;
		b->buf = ws_xrealloc(b->buf, n);
		b->alloc = n;
	}
}

void ws_buf_reset(struct ws_buf *b)
{
	ws_buf_setlen(b, 0);
}

void ws_buf_setlen(struct ws_buf *b, size_t len)
{
	if (!b->alloc) {
		if (len)
			abort();
		return;
	}
	if (len >= b->alloc)
		abort();
	b->len = len;
	b->buf[len] = '\0';
}

void ws_buf_add(struct ws_buf *b, const void *data, size_t len)
{
	if (!len)
		return;
	ws_buf_grow(b, len);
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void ws_buf_adds(struct ws_buf *b, const char *s)
{
	ws_buf_add(b, s, strlen(s));
}

void ws_buf_addch(struct ws_buf *b, int c)
{
	char ch = (char)c;

	ws_buf_add(b, &ch, 1);
}

void ws_buf_vaddf(struct ws_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	ws_buf_grow(b, (size_t)n);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void ws_buf_addf(struct ws_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ws_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void ws_buf_add_u8(struct ws_buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;

	ws_buf_add(b, &c, 1);
}

void ws_buf_add_u16le(struct ws_buf *b, unsigned v)
{
	unsigned char c[2] = { (unsigned char)v, (unsigned char)(v >> 8) };

	ws_buf_add(b, c, 2);
}

void ws_buf_add_u32le(struct ws_buf *b, unsigned long v)
{
	unsigned char c[4];

	for (int i = 0; i < 4; i++)
		c[i] = (unsigned char)(v >> (8 * i));
	ws_buf_add(b, c, 4);
}

void ws_buf_add_u64le(struct ws_buf *b, unsigned long long v)
{
	unsigned char c[8];

	for (int i = 0; i < 8; i++)
		c[i] = (unsigned char)(v >> (8 * i));
	ws_buf_add(b, c, 8);
}

void ws_buf_add_varint(struct ws_buf *b, unsigned long long v)
{
	unsigned char *p;

	/* written in place (a catalog record is mostly varints) */
	ws_buf_grow(b, 10);
	p = (unsigned char *)b->buf + b->len;
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	b->len = (size_t)(p - (unsigned char *)b->buf);
	b->buf[b->len] = '\0';
}

void ws_buf_add_json_str(struct ws_buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = p[i];
		size_t n;

		switch (c) {
		case '"': ws_buf_adds(b, "\\\""); i++; continue;
		case '\\': ws_buf_adds(b, "\\\\"); i++; continue;
		case '\n': ws_buf_adds(b, "\\n"); i++; continue;
		case '\r': ws_buf_adds(b, "\\r"); i++; continue;
		case '\t': ws_buf_adds(b, "\\t"); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			ws_buf_addf(b, "\\u%04x", c);
			i++;
			continue;
		}
		n = ws_utf8_seq_len((const char *)p + i, len - i);
		if (!n) {
			ws_buf_addf(b, "\\u%04x", c);
			i++;
			continue;
		}
		ws_buf_add(b, p + i, n);
		i += n;
	}
}

int ws_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void ws_hex_encode(char *out, const void *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[s[i] >> 4];
		out[2 * i + 1] = digits[s[i] & 15];
	}
	out[2 * n] = '\0';
}

void ws_buf_add_hex(struct ws_buf *b, const void *p, size_t n)
{
	ws_buf_grow(b, 2 * n + 1);
	ws_hex_encode(b->buf + b->len, p, n);
	ws_buf_setlen(b, b->len + 2 * n);
}

void ws_buf_add_xml(struct ws_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': ws_buf_adds(b, "&amp;"); break;
		case '<': ws_buf_adds(b, "&lt;"); break;
		case '>': ws_buf_adds(b, "&gt;"); break;
		case '"': ws_buf_adds(b, "&quot;"); break;
		case '\t': ws_buf_adds(b, "&#9;"); break;
		case '\n': ws_buf_adds(b, "&#10;"); break;
		case '\r': ws_buf_adds(b, "&#13;"); break;
		default:
			if (c < 0x20)
				ws_buf_adds(b, "\xef\xbf\xbd");
			else
				ws_buf_addch(b, c);
		}
	}
}

void ws_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void ws_strv_merge(const char *const *a, size_t na, char *const *b, size_t nb,
		   const char ***out)
{
	*out = ws_xcalloc(na + nb + 1, sizeof(**out));
	for (size_t i = 0; i < na; i++)
		(*out)[i] = a[i];
	for (size_t i = 0; i < nb; i++)
		(*out)[na + i] = b[i];
}
