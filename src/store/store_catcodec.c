/*
 * store_catcodec.c - the catalog record encoder (varints, strings, one
 * record per head/user/rule/app/key/value/file/trailer) and the sealed
 * frame, file header and footer around them; the bounded cursor records
 * are read back with (catalog, events), and scan and event ids.
 */
#include "store/store_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/ws_fs.h"
#include "util/ws_utf.h"

/* ---------------------------------------------------------------------- */
/* Encoding                                                               */

uint32_t store_user_dec(uint64_t v)
{
	return v == 0 ? STORE_SYSTEM : (uint32_t)(v - 1);
}

static uint64_t user_enc(uint32_t u)
{
	return u == STORE_SYSTEM ? 0 : (uint64_t)u + 1;
}

void store_rec_put_bytes(struct ws_buf *b, const void *p, size_t n)
{
	ws_buf_add_varint(b, n);
	ws_buf_add(b, p, n);
}

void store_rec_put_str(struct ws_buf *b, const char *s)
{
	if (!s)
		s = "";
	store_rec_put_bytes(b, s, strlen(s));
}

/* Append record `type` whose body is `body` (then released). */
static void rec_emit(struct ws_buf *b, unsigned type, struct ws_buf *body)
{
	ws_buf_add_u8(b, type);
	ws_buf_add_varint(b, body->len);
	ws_buf_add(b, body->buf, body->len);
	ws_buf_release(body);
}

void store_enc_head(struct ws_buf *b, const struct store_scan_info *in)
{
	struct ws_buf r = WS_BUF_INIT;

	store_rec_put_str(&r, in->scan_id);
	store_rec_put_str(&r, in->device);
	store_rec_put_str(&r, in->computer);
	store_rec_put_str(&r, in->os_product);
	store_rec_put_str(&r, in->os_build);
	store_rec_put_str(&r, in->os_edition);
	store_rec_put_str(&r, in->os_arch);
	store_rec_put_str(&r, in->tool_version);
	ws_buf_add_varint(&r, (unsigned char)(in->system_drive ? in->system_drive : 'C'));
	ws_buf_add_varint(&r, (uint64_t)(in->started > 0 ? in->started : 0));
	ws_buf_add_varint(&r, in->n_rule_files);
	for (size_t i = 0; i < in->n_rule_files; i++)
		store_rec_put_str(&r, in->rule_files[i]);
	/* format 1.1: trailing field, skipped by 1.0 readers */
	if (in->started_ns >= 0)
		ws_buf_add_varint(&r, (uint64_t)in->started_ns);
	rec_emit(b, REC_HEAD, &r);
}

void store_enc_user(struct ws_buf *b, const struct store_user *u)
{
	struct ws_buf r = WS_BUF_INIT;

	ws_buf_add_varint(&r, u->index);
	store_rec_put_str(&r, u->sid);
	store_rec_put_str(&r, u->account);
	store_rec_put_str(&r, u->profile_path);
	ws_buf_add_varint(&r, u->last_use_ft);
	ws_buf_add_varint(&r, u->flags);
	rec_emit(b, REC_USER, &r);
}

void store_enc_rule(struct ws_buf *b, const struct store_rule *x)
{
	struct ws_buf r = WS_BUF_INIT;

	ws_buf_add_varint(&r, x->index);
	store_rec_put_str(&r, x->text);
	rec_emit(b, REC_RULE, &r);
}

void store_enc_app(struct ws_buf *b, const struct store_app *a)
{
	struct ws_buf r = WS_BUF_INIT;

	ws_buf_add_varint(&r, user_enc(a->user));
	store_rec_put_str(&r, a->family);
	store_rec_put_str(&r, a->full_name);
	store_rec_put_str(&r, a->version);
	store_rec_put_str(&r, a->arch);
	store_rec_put_str(&r, a->publisher);
	store_rec_put_str(&r, a->app_class);
	rec_emit(b, REC_APP, &r);
}

void store_enc_key(struct ws_buf *b, const struct store_key *k)
{
	struct ws_buf r = WS_BUF_INIT;

	ws_buf_add_varint(&r, user_enc(k->user));
	store_rec_put_str(&r, k->path);
	ws_buf_add_varint(&r, k->rule);
	rec_emit(b, REC_KEY, &r);
}

void store_enc_value(struct ws_buf *b, const struct store_value *v)
{
	struct ws_buf r = WS_BUF_INIT;

	ws_buf_add_varint(&r, user_enc(v->user));
	store_rec_put_str(&r, v->key);
	store_rec_put_str(&r, v->name);
	ws_buf_add_varint(&r, v->type);
	store_rec_put_bytes(&r, v->data, v->len);
	ws_buf_add_varint(&r, v->rule);
	rec_emit(b, REC_VALUE, &r);
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static unsigned char *put_varint(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

/* The bytes rec_emit would append for the same fields, written straight
 * into b once their length is known: a record per file of every scan, no
 * buffer of its own allocated, grown and copied for each. */
void store_enc_file(struct ws_buf *b, const struct store_file *f)
{
	const char *path = f->path ? f->path : "";
	size_t plen = strlen(path), len;
	uint64_t v[8] = { user_enc(f->user), f->size, f->attributes, f->created_ft,
			  f->written_ft, f->accessed_ft, f->flags, f->rule };
	unsigned char *p;

	len = varint_len(plen) + plen + varint_len(f->n_chunks);
	for (size_t i = 0; i < 8; i++)
		len += varint_len(v[i]);
	for (size_t i = 0; i < f->n_chunks; i++)
		len += varint_len(f->chunks[i].pack) + varint_len(f->chunks[i].raw_len) +
		       STORE_HASH_LEN;
	ws_buf_grow(b, 1 + varint_len(len) + len);
	p = (unsigned char *)b->buf + b->len;
	*p++ = REC_FILE;
	p = put_varint(p, len);
	p = put_varint(p, v[0]);
	p = put_varint(p, plen);
	memcpy(p, path, plen);
	p += plen;
	for (size_t i = 1; i < 8; i++)
		p = put_varint(p, v[i]);
	p = put_varint(p, f->n_chunks);
	for (size_t i = 0; i < f->n_chunks; i++) {
		p = put_varint(p, f->chunks[i].pack);
		p = put_varint(p, f->chunks[i].raw_len);
		memcpy(p, f->chunks[i].hash, STORE_HASH_LEN);
		p += STORE_HASH_LEN;
	}
	b->len = (size_t)(p - (unsigned char *)b->buf);
	b->buf[b->len] = '\0';
}

void store_enc_trailer(struct ws_buf *b, const struct store_trailer *t)
{
	struct ws_buf r = WS_BUF_INIT;

	ws_buf_add_varint(&r, (uint64_t)(t->finished > 0 ? t->finished : 0));
	ws_buf_add_varint(&r, t->n_users);
	ws_buf_add_varint(&r, t->n_values);
	ws_buf_add_varint(&r, t->n_keys);
	ws_buf_add_varint(&r, t->n_files);
	ws_buf_add_varint(&r, t->n_apps);
	ws_buf_add_varint(&r, t->n_rules);
	ws_buf_add_varint(&r, t->bytes);
	ws_buf_add_varint(&r, t->meta_offset);
	ws_buf_add_varint(&r, t->meta_first_frame);
	rec_emit(b, REC_TRAILER, &r);
}

void store_cat_frame_ad(struct ws_buf *ad, const unsigned char *head,
			const char *scan_id, uint32_t frame_no, unsigned kind)
{
	/* The file header is bound to every frame: no byte goes unchecked. */
	ws_buf_add(ad, head, 8);
	ws_buf_adds(ad, scan_id);
	ws_buf_add_u32le(ad, frame_no);
	ws_buf_add_u8(ad, kind);
}

void store_cat_frame_sealed(const struct store *st, const char *scan_id,
			    uint32_t frame_no, unsigned kind, const void *z,
			    size_t zlen, struct ws_buf *out)
{
	struct ws_buf ad = WS_BUF_INIT, sealed = WS_BUF_INIT, head = WS_BUF_INIT;

	store_cat_file_header(st, &head);
	store_cat_frame_ad(&ad, (const unsigned char *)head.buf, scan_id, frame_no, kind);
	store_seal(st, st->k_cat, ad.buf, ad.len, z, zlen, &sealed);
	ws_buf_add_u32le(out, (unsigned long)sealed.len);
	ws_buf_add_u8(out, kind);
	ws_buf_add(out, sealed.buf, sealed.len);
	ws_buf_release(&head);
	ws_buf_release(&ad);
	ws_buf_release(&sealed);
}

void store_cat_frame(const struct store *st, const char *scan_id,
		     uint32_t frame_no, unsigned kind, const void *payload,
		     size_t len, struct ws_buf *out)
{
	struct ws_buf z = WS_BUF_INIT;

	store_cat_compress(store_cat_major(st), payload, len, &z);
	store_cat_frame_sealed(st, scan_id, frame_no, kind, z.buf, z.len, out);
	ws_buf_release(&z);
}

void store_cat_file_header(const struct store *st, struct ws_buf *out)
{
	ws_buf_adds(out, STORE_CAT_MAGIC);
	ws_buf_add_u8(out, store_cat_major(st));
	ws_buf_add_u8(out, st->write_v1 ? 1 : STORE_OBJ_MINOR);
	ws_buf_add_u8(out, st->encrypted ? 1 : 0);
}

void store_cat_footer(struct ws_buf *out, uint64_t trailer_off,
		      uint32_t trailer_frame)
{
	ws_buf_adds(out, STORE_CAT_FOOTER);
	ws_buf_add_u64le(out, trailer_off);
	ws_buf_add_u32le(out, trailer_frame);
	ws_buf_add_u32le(out, 0);
}

/* ---- reading records ---------------------------------------------------- */

uint64_t store_cur_varint(struct store_cur *c)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		unsigned char b;

		if (c->p >= c->end) {
			c->bad = 1;
			return 0;
		}
		b = *c->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	c->bad = 1;
	return 0;
}

uint32_t store_cur_u32(struct store_cur *c)
{
	uint64_t v = store_cur_varint(c);

	if (v > UINT32_MAX)
		c->bad = 1;
	return (uint32_t)v;
}

const char *store_cur_str(struct store_cur *c, size_t max, char **owned)
{
	uint64_t n = store_cur_varint(c);
	char *s;

	*owned = NULL;
	if (c->bad || n > (uint64_t)(c->end - c->p) || n > max) {
		c->bad = 1;
		return "";
	}
	s = ws_xstrndup((const char *)c->p, (size_t)n);
	if (strlen(s) != n) /* embedded NUL: refused */
		c->bad = 1;
	c->p += n;
	*owned = s;
	return s;
}

void store_make_id(const struct store *st, char *out, int32_t *ns)
{
	struct ws_buf r = WS_BUF_INIT;
	struct timespec ts;
	struct tm tm;
	time_t now;

	if (st->clock)
		st->clock(st->clock_ctx, &ts);
	else if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
		ts.tv_sec = time(NULL);
		ts.tv_nsec = 0;
	}
	now = ts.tv_sec;
	*ns = (int32_t)ts.tv_nsec;
	gmtime_r(&now, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
	ws_random_hex(&r, 8);
	out[16] = '-';
	memcpy(out + 17, r.buf, 17);
	ws_buf_release(&r);
}
