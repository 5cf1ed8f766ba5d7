/*
 * sd_sid.c - SIDs: strict canonical text, the binary form, well-known SIDs
 * (sd.h).
 */
#include "sd.h"

#include <stdio.h>
#include <string.h>

const struct sd_sid sd_sid_system = { 1, 5, { 18 } };
const struct sd_sid sd_sid_administrators = { 2, 5, { 32, 544 } };
const struct sd_sid sd_sid_users = { 2, 5, { 32, 545 } };
const struct sd_sid sd_sid_everyone = { 1, 1, { 0 } };
const struct sd_sid sd_sid_creator_owner = { 1, 3, { 0 } };
const struct sd_sid sd_sid_creator_group = { 1, 3, { 1 } };
const struct sd_sid sd_sid_authenticated = { 1, 5, { 11 } };

#define SID_AUTH_MAX 0xFFFFFFFFFFFFull

/* One decimal part of [p, end) up to '-' or end: digits only, no leading
 * zero, value <= max.  Returns the position after it, or NULL. */
static const char *dec_part(const char *p, const char *end, uint64_t max, uint64_t *v)
{
	const char *start = p;
	uint64_t x = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		x = x * 10 + (uint64_t)(*p - '0');
		if (x > max)
			return NULL;
		p++;
	}
	if (p == start || (p - start > 1 && *start == '0'))
		return NULL;
	if (p < end && *p != '-')
		return NULL;
	*v = x;
	return p;
}

int sd_sid_from_textn(struct sd_sid *sid, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	struct sd_sid s = { 0 };
	uint64_t v;

	if (!text || len >= SD_SID_TEXT_MAX || len < 4 || memcmp(p, "S-1-", 4) != 0)
		return -1;
	p += 4;
	if (!(p = dec_part(p, end, SID_AUTH_MAX, &v)))
		return -1;
	s.auth = v;
	while (p < end) {
		p++;                   /* the '-' dec_part stopped at */
		if (s.nsub == SD_SID_MAX_SUB || !(p = dec_part(p, end, 0xFFFFFFFFu, &v)))
			return -1;
		s.sub[s.nsub++] = (uint32_t)v;
	}
	if (s.nsub == 0)
		return -1;
	*sid = s;
	return 0;
}

int sd_sid_from_text(struct sd_sid *sid, const char *text)
{
	if (!text)
		return -1;
	/* strnlen: a long hostile string is refused without reading it all */
	return sd_sid_from_textn(sid, text, strnlen(text, SD_SID_TEXT_MAX));
}

int sd_sid_valid_text(const char *text)
{
	struct sd_sid s;

	return sd_sid_from_text(&s, text) == 0;
}

char *sd_sid_to_text(const struct sd_sid *sid, char *buf)
{
	size_t n = (size_t)snprintf(buf, SD_SID_TEXT_MAX, "S-1-%llu",
				    (unsigned long long)sid->auth);

	for (unsigned i = 0; i < sid->nsub && i < SD_SID_MAX_SUB && n < SD_SID_TEXT_MAX; i++)
		n += (size_t)snprintf(buf + n, SD_SID_TEXT_MAX - n, "-%lu",
				      (unsigned long)sid->sub[i]);
	return buf;
}

int sd_sid_from_bin(struct sd_sid *sid, const void *data, size_t len, size_t *used)
{
	const unsigned char *p = data;
	struct sd_sid s = { 0 };
	size_t need;

	if (len < 8 || p[0] != 1 || p[1] > SD_SID_MAX_SUB)
		return -1;
	s.nsub = p[1];
	need = 8 + 4 * (size_t)s.nsub;
	if (len < need)
		return -1;
	for (int i = 2; i < 8; i++)
		s.auth = (s.auth << 8) | p[i];
	for (unsigned i = 0; i < s.nsub; i++) {
		const unsigned char *q = p + 8 + 4 * i;

		s.sub[i] = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
			   (uint32_t)q[3] << 24;
	}
	*sid = s;
	if (used)
		*used = need;
	return 0;
}

void sd_sid_to_bin(const struct sd_sid *sid, struct ws_buf *out)
{
	unsigned n = sid->nsub > SD_SID_MAX_SUB ? SD_SID_MAX_SUB : sid->nsub;

	ws_buf_add_u8(out, 1);
	ws_buf_add_u8(out, n);
	for (int shift = 40; shift >= 0; shift -= 8)
		ws_buf_add_u8(out, (unsigned)(sid->auth >> shift) & 0xFF);
	for (unsigned i = 0; i < n; i++)
		ws_buf_add_u32le(out, sid->sub[i]);
}

size_t sd_sid_size(const struct sd_sid *sid)
{
	return 8 + 4 * (size_t)(sid->nsub > SD_SID_MAX_SUB ? SD_SID_MAX_SUB : sid->nsub);
}

int sd_sid_equal(const struct sd_sid *a, const struct sd_sid *b)
{
	if (a->nsub != b->nsub || a->auth != b->auth)
		return 0;
	for (unsigned i = 0; i < a->nsub && i < SD_SID_MAX_SUB; i++)
		if (a->sub[i] != b->sub[i])
			return 0;
	return 1;
}
