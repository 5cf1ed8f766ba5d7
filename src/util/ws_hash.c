/*
 * ws_hash.c - keyed hashes for tables filled from outside (see ws_hash.h).
 */
#include "ws_hash.h"

#include <sodium.h>
#include <string.h>

#include "ws_utf.h"

void ws_hkey_init(struct ws_hkey *k)
{
	randombytes_buf(k->k, sizeof(k->k));
}

static uint64_t le64(const unsigned char *b)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

uint64_t ws_hash(const struct ws_hkey *k, const void *p, size_t len)
{
	unsigned char out[crypto_shorthash_siphash24_BYTES];

	crypto_shorthash_siphash24(out, p, len, k->k);
	return le64(out);
}

uint64_t ws_hash_str(const struct ws_hkey *k, const char *s)
{
	return ws_hash(k, s, strlen(s));
}

/* The upper-cased code points go into buf as UTF-8 (ASCII, most of a path,
 * a byte each); a full buffer is hashed and its hash starts the next one,
 * so a long path needs no allocation. */
#define NAME_BUF 256

uint64_t ws_hash_name(const struct ws_hkey *k, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + len;
	unsigned char buf[NAME_BUF];
	size_t n = 8;
	uint64_t h;

	memset(buf, 0, 8);
	while (p < e) {
		uint32_t cp = *p;
		size_t step = 1;

		if (n > sizeof(buf) - 4) {
			h = ws_hash(k, buf, n);
			for (int i = 0; i < 8; i++)
				buf[i] = (unsigned char)(h >> (8 * i));
			n = 8;
		}
		if (cp < 0x80) {
			buf[n++] = (unsigned char)(cp >= 'a' && cp <= 'z' ? cp - 0x20 : cp);
			p++;
			continue;
		}
		/* decode as ws_name_ncasecmp does for valid UTF-8 (WTF-8 too);
		 * any other byte stands for itself */
		if (cp >= 0xC0 && cp < 0xE0 && e - p >= 2 && (p[1] & 0xC0) == 0x80) {
			cp = ((cp & 0x1Fu) << 6) | (p[1] & 0x3Fu);
			step = 2;
		} else if (cp >= 0xE0 && cp < 0xF0 && e - p >= 3 && (p[1] & 0xC0) == 0x80 &&
			   (p[2] & 0xC0) == 0x80) {
			cp = ((cp & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
			step = 3;
		} else if (cp >= 0xF0 && cp < 0xF8 && e - p >= 4 && (p[1] & 0xC0) == 0x80 &&
			   (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80) {
			cp = ((cp & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
			     (p[3] & 0x3Fu);
			step = 4;
		}
		if (step > 1 && cp < 0x110000u)
			cp = ws_ucs_upper(cp);
		p += step;
		/* UTF-8's layout, which keeps code points apart, up to 21 bits */
		if (cp < 0x80) {
			buf[n++] = (unsigned char)cp;
		} else if (cp < 0x800) {
			buf[n++] = (unsigned char)(0xC0 | (cp >> 6));
			buf[n++] = (unsigned char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			buf[n++] = (unsigned char)(0xE0 | (cp >> 12));
			buf[n++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
			buf[n++] = (unsigned char)(0x80 | (cp & 0x3F));
		} else {
			buf[n++] = (unsigned char)(0xF0 | (cp >> 18));
			buf[n++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
			buf[n++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
			buf[n++] = (unsigned char)(0x80 | (cp & 0x3F));
		}
	}
	return ws_hash(k, buf, n);
}

uint64_t ws_hash_mul_new(void)
{
	uint64_t m;

	randombytes_buf(&m, sizeof(m));
	return m | 1;
}
