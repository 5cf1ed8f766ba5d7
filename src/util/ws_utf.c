/* ws_utf.c - UTF-16LE/UTF-8 (WTF-8) conversion and case folding. */
#include "ws_utf.h"

#include <string.h>

static void put_utf8(struct ws_buf *out, uint32_t cp)
{
	unsigned char c[4];
	size_t n;

	if (cp < 0x80) {
		c[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		c[0] = (unsigned char)(0xc0 | (cp >> 6));
		c[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		c[0] = (unsigned char)(0xe0 | (cp >> 12));
		c[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		c[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		c[0] = (unsigned char)(0xf0 | (cp >> 18));
		c[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		c[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		c[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	ws_buf_add(out, c, n);
}

size_t ws_utf16le_to_utf8(const void *src, size_t nbytes, struct ws_buf *out,
			  unsigned flags)
{
	const unsigned char *p = src;
	size_t units = nbytes / 2, lone = 0;

	for (size_t i = 0; i < units; i++) {
		uint32_t u = (uint32_t)p[2 * i] | ((uint32_t)p[2 * i + 1] << 8);

		if (u == 0 && (flags & WS_UTF16_STOP_AT_NUL))
			break;
		if (u >= 0xd800 && u <= 0xdbff && i + 1 < units) {
			uint32_t v = (uint32_t)p[2 * i + 2] |
				     ((uint32_t)p[2 * i + 3] << 8);
			if (v >= 0xdc00 && v <= 0xdfff) {
				put_utf8(out, 0x10000 + ((u - 0xd800) << 10) +
						      (v - 0xdc00));
				i++;
				continue;
			}
		}
		if (u >= 0xd800 && u <= 0xdfff)
			lone++;
		put_utf8(out, u);
	}
	return lone;
}

/* Decode one (W)UTF-8 sequence; returns its length or 0 if invalid. */
static size_t get_utf8(const unsigned char *s, size_t n, uint32_t *cp,
		       int allow_surrogates)
{
	unsigned c = s[0];
	size_t len;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		len = 2;
		v = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3;
		v = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && v < 0x80) || (len == 3 && v < 0x800) ||
	    (len == 4 && (v < 0x10000 || v > 0x10ffff)))
		return 0;
	if (!allow_surrogates && v >= 0xd800 && v <= 0xdfff)
		return 0;
	*cp = v;
	return len;
}

int ws_utf8_to_utf16le(const char *s, size_t len, struct ws_buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = out->len, i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = get_utf8(p + i, len - i, &cp, 1);

		if (!n) {
			if (out->alloc)
				ws_buf_setlen(out, start);
			return -1;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			ws_buf_add_u16le(out, 0xd800 + (cp >> 10));
			ws_buf_add_u16le(out, 0xdc00 + (cp & 0x3ff));
		} else {
			ws_buf_add_u16le(out, cp);
		}
		i += n;
	}
	return 0;
}

size_t ws_utf8_utf16_units(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, units = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = get_utf8(p + i, len - i, &cp, 1);

		if (!n)
			return (size_t)-1;
		units += cp >= 0x10000 ? 2 : 1;
		i += n;
	}
	return units;
}

size_t ws_utf8_seq_len(const char *s, size_t n)
{
	uint32_t cp;

	return n ? get_utf8((const unsigned char *)s, n, &cp, 0) : 0;
}

int ws_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n;

		/* runs of ASCII (most of a path) eight bytes at a time */
		while (i + 8 <= len) {
			uint64_t w;

			memcpy(&w, p + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i < len && p[i] < 0x80) {
			i++;
			continue;
		}
		if (i >= len)
			break;
		n = get_utf8(p + i, len - i, &cp, 0);
		if (!n)
			return 0;
		i += n;
	}
	return 1;
}

uint32_t ws_ucs_upper(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') ? c - 0x20 : c;
	if (c >= 0xe0 && c <= 0xfe && c != 0xf7)
		return c - 0x20;
	if (c == 0xff)
		return 0x178;
	if (c >= 0x100 && c <= 0x17f) {
		if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
			return (c & 1) ? c : c - 1; /* odd = upper in these runs */
		if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 ||
		    c == 0x17f)
			return c;
		return (c & 1) ? c - 1 : c;
	}
	if (c >= 0x3b1 && c <= 0x3cb && c != 0x3c2)
		return c - 0x20;
	if (c == 0x3c2)
		return 0x3a3;
	if (c >= 0x3ac && c <= 0x3af) {
		static const uint16_t t[] = { 0x386, 0x388, 0x389, 0x38a };
		return t[c - 0x3ac];
	}
	if (c >= 0x430 && c <= 0x44f)
		return c - 0x20;
	if (c >= 0x450 && c <= 0x45f)
		return c - 0x50;
	if ((c >= 0x460 && c <= 0x481) || (c >= 0x48a && c <= 0x4bf) ||
	    (c >= 0x4d0 && c <= 0x52f))
		return (c & 1) ? c - 1 : c;
	if (c >= 0xff41 && c <= 0xff5a)
		return c - 0x20;
	return c;
}

/* Next code point of a UTF-8 string, invalid bytes as 0x110000+byte. */
static uint32_t next_cp(const unsigned char **p, const unsigned char *end)
{
	uint32_t cp;
	size_t n = get_utf8(*p, (size_t)(end - *p), &cp, 1);

	if (!n) {
		cp = 0x110000u + **p;
		n = 1;
	}
	*p += n;
	return cp;
}

int ws_name_ncasecmp(const char *a, size_t alen, const char *b, size_t blen)
{
	const unsigned char *pa = (const unsigned char *)a, *ea = pa + alen;
	const unsigned char *pb = (const unsigned char *)b, *eb = pb + blen;

	while (pa < ea && pb < eb) {
		uint32_t ca = ws_ucs_upper(next_cp(&pa, ea));
		uint32_t cb = ws_ucs_upper(next_cp(&pb, eb));

		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	if (pa < ea)
		return 1;
	if (pb < eb)
		return -1;
	return 0;
}

int ws_name_casecmp(const char *a, const char *b)
{
	return ws_name_ncasecmp(a, strlen(a), b, strlen(b));
}

void ws_name_upper(const char *s, struct ws_buf *out)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + strlen(s);

	while (p < e) {
		const unsigned char *q = p;
		uint32_t cp;

		if (*p < 0x80) {
			/* a run of ASCII (most of a path) in one piece */
			size_t n;
			char *d;

			while (p < e && *p < 0x80)
				p++;
			n = (size_t)(p - q);
			ws_buf_grow(out, n);
			d = out->buf + out->len;
			for (size_t i = 0; i < n; i++)
				d[i] = (char)(q[i] >= 'a' && q[i] <= 'z' ? q[i] - 0x20 : q[i]);
			ws_buf_setlen(out, out->len + n);
			continue;
		}
		cp = next_cp(&p, e);

		if (cp >= 0x110000u)
			ws_buf_add(out, q, 1);
		else
			put_utf8(out, ws_ucs_upper(cp));
	}
}
