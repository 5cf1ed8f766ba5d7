/*
 * store_catalog.c - the catalog reader: a scan's catalog found and its
 * sealed zlib frames opened, users/rules/apps held in memory, values/keys/
 * files streamed frame by frame, file content through the pack indexes.
 * The record encoder is in store_catcodec.c, the scan listing in
 * store_list.c.
 */
#include "store/store_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "util/ws_fs.h"
#include "util/ws_utf.h"

#define CAT_HEAD_LEN 8
#define CAT_MAX_META (64u << 20)   /* users+rules+apps+pack table, plain */
/* ---------------------------------------------------------------------- */
/* Decoding                                                               */

/* Strings owned by an object: a simple list freed together. */
struct strpool {
	char **v;
	size_t n, alloc;
};

static const char *pool_str(struct strpool *sp, struct store_cur *c)
{
	char *s = NULL;
	const char *r = store_cur_str(c, STORE_VALUE_MAX, &s);

	if (s) {
		WS_ALLOC_GROW(sp->v, sp->n + 1, sp->alloc);
		sp->v[sp->n++] = s;
	}
	return r;
}

static void pool_clear(struct strpool *sp)
{
	for (size_t i = 0; i < sp->n; i++)
		free(sp->v[i]);
	sp->n = 0;
}

static void pool_release(struct strpool *sp)
{
	pool_clear(sp);
	free(sp->v);
	sp->v = NULL;
	sp->alloc = 0;
}

/* ---------------------------------------------------------------------- */
/* The catalog object                                                     */

/* The body frame after the one being decoded, read, unsealed and inflated
 * on a thread of its own (store_cat_prefetch).  One frame at a time:
 * asked for (want), being read (busy), or read (ready) with read_frame's
 * result. */
struct cat_prefetch {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int want, busy, ready, stop;
	uint64_t pos, next;
	uint32_t no;
	int rc;
	struct ws_error err;
	struct ws_buf out;
	unsigned char h[16];             /* of out, when the caller wants it */
};

struct store_catalog {
	struct store *st;
	struct ws_buf rel;               /* scans/<id>.cat */
	int fd;
	uint64_t file_size;
	unsigned char head[CAT_HEAD_LEN];
	struct store_scan_info info;
	struct store_trailer tr;
	struct strpool meta_pool;        /* strings of info/users/rules/apps */
	struct store_user *users;
	size_t n_users, alloc_users;
	struct store_rule *rules;
	size_t n_rules, alloc_rules;
	struct store_app *apps;
	size_t n_apps, alloc_apps;
	char (*pack_ids)[STORE_PACK_ID_LEN + 1];
	struct store_pack **pack_ptrs;   /* resolved lazily */
	size_t n_packs;
	const char **rule_files;
	size_t n_rule_files, alloc_rule_files;
	/* streaming state */
	uint64_t pos;                    /* next body frame offset */
	uint32_t frame_no;
	struct ws_buf frame;             /* current body frame payload */
	size_t frame_pos;
	struct strpool rec_pool;         /* strings of the current record */
	struct store_chunk_ref *chunks;
	size_t alloc_chunks;
	unsigned char *value_data;
	struct store_ahead *ahead;       /* store_catalog_ahead, or NULL */
	store_cat_frame_fn on_frame;     /* store_cat_on_body_frame, or NULL */
	void *on_frame_ctx;
	unsigned char frame_key[crypto_shorthash_siphashx24_KEYBYTES];
	unsigned char frame_h[16];       /* of `frame`, for on_frame */
	struct cat_prefetch *pf;         /* store_cat_prefetch, or NULL */
};

static int cat_read_at(struct store_catalog *cat, void *buf, size_t len,
		       uint64_t off)
{
	char *p = buf;

	if (off > cat->file_size || len > cat->file_size - off)
		return -1;
	while (len) {
		ssize_t n = pread(cat->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Read and open frame number `no` at `off`; payload into out; *next after. */
static int read_frame(struct store_catalog *cat, uint64_t off, uint32_t no,
		      unsigned want_kind, struct ws_buf *out, uint64_t *next,
		      struct ws_error *err)
{
	unsigned char h[5];
	uint32_t len;
	struct ws_buf sealed = WS_BUF_INIT, z = WS_BUF_INIT, ad = WS_BUF_INIT;
	int rc = WS_OK;

	if (cat_read_at(cat, h, 5, off) != 0)
		return ws_error_set(err, WS_E_CORRUPT, cat->rel.buf,
				    "catalog truncated (frame %u)", no);
	len = ws_get_u32le(h);
	if (h[4] != want_kind || len > 2 * STORE_FRAME_MAX + 64)
		return ws_error_set(err, WS_E_CORRUPT, cat->rel.buf,
				    "catalog frame %u damaged", no);
	ws_buf_grow(&sealed, len);
	if (cat_read_at(cat, sealed.buf, len, off + 5) != 0) {
		rc = ws_error_set(err, WS_E_CORRUPT, cat->rel.buf,
				  "catalog truncated (frame %u)", no);
		goto out;
	}
	ws_buf_setlen(&sealed, len);
	store_cat_frame_ad(&ad, cat->head, cat->info.scan_id, no, want_kind);
	if (store_unseal(cat->st, cat->st->k_cat, ad.buf, ad.len, sealed.buf,
			 sealed.len, &z) != 0) {
		rc = ws_error_set(err, WS_E_CORRUPT, cat->rel.buf,
				  "catalog frame %u damaged (checksum/authentication failed)", no);
		goto out;
	}
	if (store_cat_decompress(cat->head[5], z.buf, z.len, STORE_FRAME_MAX, out) != 0) {
		rc = ws_error_set(err, WS_E_CORRUPT, cat->rel.buf,
				  "catalog frame %u does not decompress or is too large", no);
		goto out;
	}
	*next = off + 5 + len;
out:
	ws_buf_release(&sealed);
	ws_buf_release(&z);
	ws_buf_release(&ad);
	return rc;
}

static int bad_rec(struct store_catalog *cat, const char *what,
		   struct ws_error *err)
{
	return ws_error_set(err, WS_E_CORRUPT, cat->rel.buf,
			    "catalog record invalid (%s)", what);
}

static int parse_head(struct store_catalog *cat, const struct ws_buf *pl,
		      struct ws_error *err)
{
	struct store_cur c = { (const unsigned char *)pl->buf,
			 (const unsigned char *)pl->buf + pl->len, 0 };
	struct store_scan_info *in = &cat->info;
	struct strpool *sp = &cat->meta_pool;
	uint64_t blen;
	const char *id;
	uint64_t nrf;

	if (c.p >= c.end || *c.p++ != REC_HEAD)
		return bad_rec(cat, "head", err);
	blen = store_cur_varint(&c);
	if (c.bad || blen > (uint64_t)(c.end - c.p))
		return bad_rec(cat, "head", err);
	c.end = c.p + blen;
	id = pool_str(sp, &c);
	if (strcmp(id, in->scan_id) != 0)
		return ws_error_set(err, WS_E_CORRUPT, cat->rel.buf,
				    "catalog belongs to another scan (%s)", id);
	in->device = pool_str(sp, &c);
	in->computer = pool_str(sp, &c);
	in->os_product = pool_str(sp, &c);
	in->os_build = pool_str(sp, &c);
	in->os_edition = pool_str(sp, &c);
	in->os_arch = pool_str(sp, &c);
	in->tool_version = pool_str(sp, &c);
	uint64_t drive = store_cur_varint(&c);
	in->system_drive = (drive >= 'A' && drive <= 'Z') ? (char)drive : 0;
	in->started = (int64_t)store_cur_varint(&c);
	nrf = store_cur_varint(&c);
	if (c.bad || nrf > 65536 || !in->system_drive || !*in->device)
		return bad_rec(cat, "head", err);
	for (uint64_t i = 0; i < nrf && !c.bad; i++) {
		const char *s = pool_str(sp, &c);
		WS_ALLOC_GROW(cat->rule_files, cat->n_rule_files + 1, cat->alloc_rule_files);
		cat->rule_files[cat->n_rule_files++] = s;
	}
	in->started_ns = -1;
	if (!c.bad && c.p < c.end) {
		uint64_t ns = store_cur_varint(&c);

		if (c.bad || ns > 999999999u)
			return bad_rec(cat, "head", err);
		in->started_ns = (int32_t)ns;
	}
	if (c.bad)
		return bad_rec(cat, "head", err);
	in->rule_files = cat->rule_files;
	in->n_rule_files = cat->n_rule_files;
	return WS_OK;
}

static int parse_trailer(struct store_catalog *cat, const struct ws_buf *pl,
			 struct ws_error *err)
{
	struct store_cur c = { (const unsigned char *)pl->buf,
			 (const unsigned char *)pl->buf + pl->len, 0 };
	struct store_trailer *t = &cat->tr;

	if (c.p >= c.end || *c.p++ != REC_TRAILER)
		return bad_rec(cat, "trailer", err);
	store_cur_varint(&c);
	t->finished = (int64_t)store_cur_varint(&c);
	t->n_users = store_cur_varint(&c);
	t->n_values = store_cur_varint(&c);
	t->n_keys = store_cur_varint(&c);
	t->n_files = store_cur_varint(&c);
	t->n_apps = store_cur_varint(&c);
	t->n_rules = store_cur_varint(&c);
	t->bytes = store_cur_varint(&c);
	t->meta_offset = store_cur_varint(&c);
	t->meta_first_frame = store_cur_u32(&c);
	if (c.bad || t->meta_offset < CAT_HEAD_LEN || t->meta_offset > cat->file_size)
		return bad_rec(cat, "trailer", err);
	cat->info.finished = t->finished;
	return WS_OK;
}

static int parse_meta(struct store_catalog *cat, const struct ws_buf *pl,
		      struct ws_error *err)
{
	struct store_cur c = { (const unsigned char *)pl->buf,
			 (const unsigned char *)pl->buf + pl->len, 0 };
	struct strpool *sp = &cat->meta_pool;

	while (c.p < c.end) {
		unsigned type = *c.p++;
		uint64_t blen = store_cur_varint(&c);
		struct store_cur r;

		if (c.bad || blen > (uint64_t)(c.end - c.p))
			return bad_rec(cat, "meta", err);
		r.p = c.p;
		r.end = c.p + blen;
		r.bad = 0;
		c.p += blen;
		if (type == REC_USER) {
			struct store_user u;
			u.index = store_cur_u32(&r);
			u.sid = pool_str(sp, &r);
			u.account = pool_str(sp, &r);
			u.profile_path = pool_str(sp, &r);
			u.last_use_ft = store_cur_varint(&r);
			u.flags = store_cur_u32(&r);
			WS_ALLOC_GROW(cat->users, cat->n_users + 1, cat->alloc_users);
			cat->users[cat->n_users++] = u;
		} else if (type == REC_RULE) {
			struct store_rule x;
			x.index = store_cur_u32(&r);
			x.text = pool_str(sp, &r);
			WS_ALLOC_GROW(cat->rules, cat->n_rules + 1, cat->alloc_rules);
			cat->rules[cat->n_rules++] = x;
		} else if (type == REC_APP) {
			struct store_app a;
			a.user = store_user_dec(store_cur_varint(&r));
			a.family = pool_str(sp, &r);
			a.full_name = pool_str(sp, &r);
			a.version = pool_str(sp, &r);
			a.arch = pool_str(sp, &r);
			a.publisher = pool_str(sp, &r);
			a.app_class = pool_str(sp, &r);
			WS_ALLOC_GROW(cat->apps, cat->n_apps + 1, cat->alloc_apps);
			cat->apps[cat->n_apps++] = a;
		} else if (type == REC_PACKS) {
			uint64_t n = store_cur_varint(&r);
			if (r.bad || n > (uint64_t)(r.end - r.p) / STORE_PACK_ID_LEN)
				return bad_rec(cat, "pack table", err);
			size_t base = cat->n_packs;
			cat->pack_ids = ws_xrealloc(cat->pack_ids,
				(base + n + 1) * sizeof(*cat->pack_ids));
			for (uint64_t i = 0; i < n; i++) {
				char *d = cat->pack_ids[base + i];
				memcpy(d, r.p, STORE_PACK_ID_LEN);
				d[STORE_PACK_ID_LEN] = '\0';
				if (!store_is_hex(d, STORE_PACK_ID_LEN))
					return bad_rec(cat, "pack id", err);
				r.p += STORE_PACK_ID_LEN;
			}
			cat->n_packs = base + n;
		}
		if (r.bad)
			return bad_rec(cat, "meta", err);
	}
	return WS_OK;
}

static int user_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct store_user *)a)->index;
	uint32_t y = ((const struct store_user *)b)->index;
	return x < y ? -1 : x > y;
}

static int rule_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct store_rule *)a)->index;
	uint32_t y = ((const struct store_rule *)b)->index;
	return x < y ? -1 : x > y;
}

/* Open scans/<scan_id>.cat; with `full`, also the meta frames. */
int store_cat_load(struct store *st, const char *scan_id, int full,
		    struct store_catalog **out, struct ws_error *err)
{
	struct store_catalog *cat = ws_xcalloc(1, sizeof(*cat));
	struct ws_buf abs = WS_BUF_INIT, pl = WS_BUF_INIT;
	unsigned char head[CAT_HEAD_LEN], foot[STORE_CAT_FOOTER_LEN];
	uint64_t toff, next, off;
	uint32_t tno;
	int rc;

	cat->st = st;
	cat->fd = -1;
	ws_buf_init(&cat->rel);
	ws_buf_init(&cat->frame);
	ws_buf_addf(&cat->rel, "scans/%s.cat", scan_id);
	snprintf(cat->info.scan_id, sizeof(cat->info.scan_id), "%s", scan_id);
	store_abs(st, &abs, cat->rel.buf);
	cat->fd = open(abs.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (cat->fd < 0) {
		rc = ws_error_set_errno(err, errno == ENOENT ? WS_E_USAGE : WS_E_IO,
					errno, cat->rel.buf, "cannot open catalog");
		goto fail;
	}
	off_t sz = lseek(cat->fd, 0, SEEK_END);
	cat->file_size = sz > 0 ? (uint64_t)sz : 0;
	if (cat_read_at(cat, head, sizeof(head), 0) != 0 ||
	    memcmp(head, STORE_CAT_MAGIC, 5) != 0) {
		rc = ws_error_set(err, WS_E_CORRUPT, cat->rel.buf, "not a catalog (bad magic or empty)");
		goto fail;
	}
	memcpy(cat->head, head, sizeof(head));
	/* Catalogs of 1.x and 2.0 have the same layout (2.0 ones name 2.0
	 * packs), and those of 4.0 stores too with zstd frames; another major
	 * or encryption state in this store is damage. */
	if (head[5] < 1 || head[5] > STORE_CAT_MAJOR_ZSTD ||
	    head[7] != (st->encrypted ? 1 : 0)) {
		rc = ws_error_set(err, WS_E_CORRUPT, cat->rel.buf, "catalog header damaged");
		goto fail;
	}
	if (cat->file_size < CAT_HEAD_LEN + STORE_CAT_FOOTER_LEN ||
	    cat_read_at(cat, foot, sizeof(foot), cat->file_size - sizeof(foot)) != 0 ||
	    memcmp(foot, STORE_CAT_FOOTER, 8) != 0 ||
	    foot[20] || foot[21] || foot[22] || foot[23]) {
		rc = ws_error_set(err, WS_E_CORRUPT, cat->rel.buf,
				  "catalog truncated (no footer): the scan is unreadable");
		goto fail;
	}
	toff = ws_get_u64le(foot + 8);
	tno = ws_get_u32le(foot + 16);
	if (toff < CAT_HEAD_LEN || toff >= cat->file_size) {
		rc = ws_error_set(err, WS_E_CORRUPT, cat->rel.buf, "catalog footer damaged");
		goto fail;
	}
	rc = read_frame(cat, CAT_HEAD_LEN, 0, FR_HEAD, &pl, &cat->pos, err);
	if (!rc)
		rc = parse_head(cat, &pl, err);
	ws_buf_reset(&pl);
	if (!rc)
		rc = read_frame(cat, toff, tno, FR_TRAILER, &pl, &next, err);
	if (!rc && next != cat->file_size - STORE_CAT_FOOTER_LEN)
		rc = ws_error_set(err, WS_E_CORRUPT, cat->rel.buf, "catalog footer damaged");
	if (!rc)
		rc = parse_trailer(cat, &pl, err);
	if (rc)
		goto fail;
	cat->frame_no = 1;
	if (full) {
		size_t total = 0;
		off = cat->tr.meta_offset;
		uint32_t no = cat->tr.meta_first_frame;
		for (; off < toff; no++) {
			ws_buf_reset(&pl);
			rc = read_frame(cat, off, no, FR_META, &pl, &off, err);
			if (!rc)
				rc = parse_meta(cat, &pl, err);
			total += pl.len;
			if (!rc && total > CAT_MAX_META)
				rc = bad_rec(cat, "meta too large", err);
			if (rc)
				goto fail;
		}
		if (off != toff || no != tno) {
			rc = ws_error_set(err, WS_E_CORRUPT, cat->rel.buf, "catalog frames inconsistent");
			goto fail;
		}
		if (cat->n_users)
			qsort(cat->users, cat->n_users, sizeof(*cat->users), user_cmp);
		/* a record names its user by index: two users with one index
		 * would make whose file or value it is a guess */
		for (size_t i = 1; i < cat->n_users; i++) {
			if (cat->users[i].index == cat->users[i - 1].index) {
				rc = ws_error_set(err, WS_E_CORRUPT, cat->rel.buf,
						  "catalog record invalid (two users with index %u)",
						  (unsigned)cat->users[i].index);
				goto fail;
			}
		}
		if (cat->n_rules)
			qsort(cat->rules, cat->n_rules, sizeof(*cat->rules), rule_cmp);
		cat->pack_ptrs = ws_xcalloc(cat->n_packs + 1, sizeof(*cat->pack_ptrs));
	}
	ws_buf_release(&abs);
	ws_buf_release(&pl);
	*out = cat;
	return WS_OK;
fail:
	ws_buf_release(&abs);
	ws_buf_release(&pl);
	store_catalog_free(cat);
	return rc;
}

static void prefetch_free(struct cat_prefetch *pf)
{
	if (!pf)
		return;
	pthread_mutex_lock(&pf->mu);
	pf->stop = 1;
	pthread_cond_broadcast(&pf->cv);
	pthread_mutex_unlock(&pf->mu);
	pthread_join(pf->th, NULL);
	pthread_mutex_destroy(&pf->mu);
	pthread_cond_destroy(&pf->cv);
	ws_buf_release(&pf->out);
	free(pf);
}

void store_catalog_free(struct store_catalog *cat)
{
	if (!cat)
		return;
	store_ahead_free(cat->ahead);
	prefetch_free(cat->pf);
	if (cat->fd >= 0)
		close(cat->fd);
	ws_buf_release(&cat->rel);
	ws_buf_release(&cat->frame);
	pool_release(&cat->meta_pool);
	pool_release(&cat->rec_pool);
	free(cat->users);
	free(cat->rules);
	free(cat->apps);
	free(cat->pack_ids);
	free(cat->pack_ptrs);
	free(cat->rule_files);
	free(cat->chunks);
	free(cat->value_data);
	free(cat);
}

/* ---------------------------------------------------------------------- */
/* Reader                                                                 */

static int any_scan(const struct store_scan_entry *e, void *ctx)
{
	(void)e;
	(void)ctx;
	return 1;
}

int store_catalog_open(struct store *st, const char *device,
		       const char *scan_id, struct store_catalog **out,
		       struct ws_error *err)
{
	struct store_scan_list list = STORE_SCAN_LIST_INIT;
	int rc;

	*out = NULL;
	if (scan_id) {
		if (!store_scan_id_valid(scan_id))
			return ws_error_set(err, WS_E_USAGE, scan_id, "not a scan id");
		rc = store_cat_load(st, scan_id, 1, out, err);
		if (!rc && device && ws_name_casecmp(device, (*out)->info.device)) {
			rc = ws_error_set(err, WS_E_USAGE, scan_id,
					  "scan belongs to device '%s', not '%s'",
					  (*out)->info.device, device);
			store_catalog_free(*out);
			*out = NULL;
		}
		return rc;
	}
	if (!device)
		return ws_error_set(err, WS_E_USAGE, "", "a device or a scan id is needed");
	rc = store_list_scans_until(st, device, any_scan, NULL, &list, err);
	if (rc)
		return rc;
	if (!list.n && list.damaged)
		rc = ws_error_set(err, WS_E_CORRUPT, device,
				  "no readable scan of this device (%zu damaged catalogs in the store)",
				  list.damaged);
	else if (!list.n)
		rc = store_device_find(st, device, NULL, 0, err);
	else
		rc = store_cat_load(st, list.v[0].info.scan_id, 1, out, err);
	store_scan_list_release(&list);
	return rc;
}

const struct store_scan_info *store_catalog_info(const struct store_catalog *cat)
{
	return &cat->info;
}

const struct store_user *store_catalog_users(const struct store_catalog *cat, size_t *n)
{
	*n = cat->n_users;
	return cat->users;
}

const struct store_rule *store_catalog_rules(const struct store_catalog *cat, size_t *n)
{
	*n = cat->n_rules;
	return cat->rules;
}

const struct store_app *store_catalog_apps(const struct store_catalog *cat, size_t *n)
{
	*n = cat->n_apps;
	return cat->apps;
}

const struct store_user *store_catalog_user(const struct store_catalog *cat,
					    uint32_t index)
{
	struct store_user key;

	key.index = index;
	return cat->n_users ? bsearch(&key, cat->users, cat->n_users,
				      sizeof(key), user_cmp) : NULL;
}

const char *store_catalog_rule_text(const struct store_catalog *cat, uint32_t index)
{
	struct store_rule key, *r;

	key.index = index;
	r = cat->n_rules ? bsearch(&key, cat->rules, cat->n_rules, sizeof(key),
				   rule_cmp) : NULL;
	return r ? r->text : NULL;
}

void store_cat_on_body_frame(struct store_catalog *cat, store_cat_frame_fn fn, void *ctx,
			     const unsigned char key[16])
{
	cat->on_frame = fn;
	cat->on_frame_ctx = ctx;
	memcpy(cat->frame_key, key, sizeof(cat->frame_key));
}

/* The hash on_frame gets, of a frame just inflated. */
static void frame_hash(const struct store_catalog *cat, const struct ws_buf *pl,
		       unsigned char h[16])
{
	if (cat->on_frame)
		crypto_shorthash_siphashx24(h, (const unsigned char *)pl->buf, pl->len,
					    cat->frame_key);
}

const char *store_cat_scan_id(const struct store_catalog *cat)
{
	return cat->info.scan_id;
}

const unsigned char *store_cat_head(const struct store_catalog *cat)
{
	return cat->head;
}

size_t store_cat_n_packs(const struct store_catalog *cat)
{
	return cat->n_packs;
}

unsigned store_cat_threads(const struct store_catalog *cat)
{
	return cat->st->threads;
}

struct store *store_cat_store(const struct store_catalog *cat)
{
	return cat->st;
}

void store_catalog_totals(const struct store_catalog *cat, uint64_t *records,
			  uint64_t *bytes)
{
	*records = cat->tr.n_values + cat->tr.n_keys + cat->tr.n_files;
	*bytes = cat->tr.bytes;
}

const struct store_trailer *store_cat_trailer(const struct store_catalog *cat)
{
	return &cat->tr;
}

const char *store_catalog_pack_id(const struct store_catalog *cat, uint32_t pack)
{
	return pack < cat->n_packs ? cat->pack_ids[pack] : NULL;
}

void store_catalog_rewind(struct store_catalog *cat)
{
	uint64_t dummy;
	unsigned char h[5];

	if (cat->ahead)
		store_ahead_reset(cat->ahead);
	/* Body frames start right after the head frame. */
	if (cat_read_at(cat, h, 5, CAT_HEAD_LEN) == 0) {
		dummy = ws_get_u32le(h);
		cat->pos = CAT_HEAD_LEN + 5 + dummy;
	}
	cat->frame_no = 1;
	ws_buf_reset(&cat->frame);
	cat->frame_pos = 0;
}

static int decode_record(struct store_catalog *cat, unsigned type,
			 struct store_cur *r, struct store_record *rec,
			 struct ws_error *err)
{
	struct strpool *sp = &cat->rec_pool;

	memset(rec, 0, sizeof(*rec));
	if (type == REC_KEY) {
		rec->kind = STORE_REC_KEY;
		rec->u.key.user = store_user_dec(store_cur_varint(r));
		rec->u.key.path = pool_str(sp, r);
		rec->u.key.rule = store_cur_u32(r);
	} else if (type == REC_VALUE) {
		struct store_value *v = &rec->u.value;
		uint64_t n;

		rec->kind = STORE_REC_VALUE;
		v->user = store_user_dec(store_cur_varint(r));
		v->key = pool_str(sp, r);
		v->name = pool_str(sp, r);
		v->type = store_cur_u32(r);
		n = store_cur_varint(r);
		if (r->bad || n > (uint64_t)(r->end - r->p) || n > STORE_VALUE_MAX)
			return bad_rec(cat, "value data", err);
		free(cat->value_data);
		cat->value_data = ws_xmemdup(r->p, n ? n : 1);
		v->data = cat->value_data;
		v->len = (size_t)n;
		r->p += n;
		v->rule = store_cur_u32(r);
	} else {
		struct store_file *f = &rec->u.file;
		uint64_t n, sum = 0;

		rec->kind = STORE_REC_FILE;
		f->user = store_user_dec(store_cur_varint(r));
		f->path = pool_str(sp, r);
		f->size = store_cur_varint(r);
		f->attributes = store_cur_u32(r);
		f->created_ft = store_cur_varint(r);
		f->written_ft = store_cur_varint(r);
		f->accessed_ft = store_cur_varint(r);
		f->flags = store_cur_u32(r);
		f->rule = store_cur_u32(r);
		n = store_cur_varint(r);
		if (r->bad || n > (uint64_t)(r->end - r->p) / (STORE_HASH_LEN + 2))
			return bad_rec(cat, "chunk list", err);
		WS_ALLOC_GROW(cat->chunks, n + 1, cat->alloc_chunks);
		for (uint64_t i = 0; i < n; i++) {
			struct store_chunk_ref *c = &cat->chunks[i];
			c->pack = store_cur_u32(r);
			c->raw_len = store_cur_u32(r);
			if (r->bad || r->end - r->p < STORE_HASH_LEN ||
			    c->pack >= cat->n_packs || c->raw_len > STORE_CHUNK_MAX ||
			    c->raw_len == 0)
				return ws_error_set(err, WS_E_CORRUPT, cat->rel.buf,
						    "file '%s': invalid chunk reference", f->path);
			memcpy(c->hash, r->p, STORE_HASH_LEN);
			r->p += STORE_HASH_LEN;
			sum += c->raw_len;
		}
		if (sum != f->size)
			return ws_error_set(err, WS_E_CORRUPT, cat->rel.buf,
					    "file '%s': size %llu does not match its chunks (%llu)",
					    f->path, (unsigned long long)f->size,
					    (unsigned long long)sum);
		f->chunks = cat->chunks;
		f->n_chunks = (size_t)n;
	}
	if (r->bad)
		return bad_rec(cat, "body", err);
	return WS_OK;
}

/* The prefetching thread: read_frame only reads what store_cat_load set
 * (descriptor, sizes, header, id), as the caller's thread does. */
static void *prefetch_main(void *arg)
{
	struct store_catalog *cat = arg;
	struct cat_prefetch *pf = cat->pf;

	pthread_mutex_lock(&pf->mu);
	for (;;) {
		struct ws_buf out = WS_BUF_INIT;
		struct ws_error e;
		uint64_t pos, next = 0;
		uint32_t no;
		unsigned char h[16] = { 0 };
		int rc;

		while (!pf->stop && !pf->want)
			pthread_cond_wait(&pf->cv, &pf->mu);
		if (pf->stop)
			break;
		pf->want = 0;
		pf->busy = 1;
		pos = pf->pos;
		no = pf->no;
		pthread_mutex_unlock(&pf->mu);
		ws_error_clear(&e);
		rc = read_frame(cat, pos, no, FR_BODY, &out, &next, &e);
		if (!rc)
			frame_hash(cat, &out, h);
		pthread_mutex_lock(&pf->mu);
		ws_buf_release(&pf->out);
		pf->out = out;
		memcpy(pf->h, h, sizeof(h));
		pf->rc = rc;
		pf->err = e;
		pf->next = next;
		pf->busy = 0;
		pf->ready = 1;
		pthread_cond_broadcast(&pf->cv);
	}
	pthread_mutex_unlock(&pf->mu);
	return NULL;
}

void store_cat_prefetch(struct store_catalog *cat)
{
	struct cat_prefetch *pf;

	if (cat->pf || cat->st->threads < 2)
		return;
	pf = ws_xcalloc(1, sizeof(*pf));
	pthread_mutex_init(&pf->mu, NULL);
	pthread_cond_init(&pf->cv, NULL);
	ws_buf_init(&pf->out);
	cat->pf = pf;
	/* the first body frame at once, unless the caller has begun */
	if (cat->frame_no == 1 && !cat->frame.len && cat->pos < cat->tr.meta_offset) {
		pf->pos = cat->pos;
		pf->no = 1;
		pf->want = 1;
	}
	if (pthread_create(&pf->th, NULL, prefetch_main, cat) != 0) {
		pthread_mutex_destroy(&pf->mu);
		pthread_cond_destroy(&pf->cv);
		free(pf);
		cat->pf = NULL;
	}
}

/* Body frame `no` at `pos` into out (read_frame's result): the one read
 * ahead when it is that one, else read here; then the next one is asked
 * for. */
static int frame_get(struct store_catalog *cat, uint64_t pos, uint32_t no,
		     struct ws_buf *out, uint64_t *next, struct ws_error *err)
{
	struct cat_prefetch *pf = cat->pf;
	int rc = WS_OK, got = 0;

	if (!pf) {
		rc = read_frame(cat, pos, no, FR_BODY, out, next, err);
		if (!rc)
			frame_hash(cat, out, cat->frame_h);
		return rc;
	}
	pthread_mutex_lock(&pf->mu);
	while (pf->want || pf->busy)
		pthread_cond_wait(&pf->cv, &pf->mu);
	if (pf->ready && pf->pos == pos && pf->no == no) {
		ws_buf_release(out);
		*out = pf->out;
		ws_buf_init(&pf->out);
		rc = pf->rc;
		if (rc && err)
			*err = pf->err;
		*next = pf->next;
		memcpy(cat->frame_h, pf->h, sizeof(cat->frame_h));
		got = 1;
	}
	pf->ready = 0; /* a frame read for another place (a rewind) is dropped */
	pthread_mutex_unlock(&pf->mu);
	if (!got) {
		rc = read_frame(cat, pos, no, FR_BODY, out, next, err);
		if (!rc)
			frame_hash(cat, out, cat->frame_h);
	}
	if (!rc && *next < cat->tr.meta_offset) {
		pthread_mutex_lock(&pf->mu);
		pf->pos = *next;
		pf->no = no + 1;
		pf->want = 1;
		pthread_cond_signal(&pf->cv);
		pthread_mutex_unlock(&pf->mu);
	}
	return rc;
}

void store_catalog_ahead(struct store_catalog *cat, int on)
{
	if (!on || cat->st->threads < 2) {
		/* records read ahead are lost: only before the first, or with
		 * a rewind after */
		store_ahead_free(cat->ahead);
		cat->ahead = NULL;
	} else if (!cat->ahead) {
		cat->ahead = store_ahead_new(cat, cat->st);
	}
}

int store_catalog_next(struct store_catalog *cat, struct store_record *rec,
		       struct ws_error *err)
{
	if (cat->ahead)
		return store_ahead_next(cat->ahead, rec, err);
	return store_cat_next_raw(cat, rec, err);
}

int store_cat_next_raw(struct store_catalog *cat, struct store_record *rec,
		       struct ws_error *err)
{
	pool_clear(&cat->rec_pool);
	for (;;) {
		if (cat->frame_pos >= cat->frame.len) {
			uint64_t next;
			int rc;

			if (cat->pos >= cat->tr.meta_offset) {
				if (cat->pos != cat->tr.meta_offset ||
				    cat->frame_no != cat->tr.meta_first_frame) {
					cat->pos = cat->tr.meta_offset;
					cat->frame_no = cat->tr.meta_first_frame;
					return ws_error_set(err, WS_E_CORRUPT, cat->rel.buf,
							    "catalog frames inconsistent");
				}
				memset(rec, 0, sizeof(*rec));
				rec->kind = STORE_REC_END;
				return WS_OK;
			}
			ws_buf_reset(&cat->frame);
			cat->frame_pos = 0;
			rc = frame_get(cat, cat->pos, cat->frame_no, &cat->frame, &next, err);
			if (rc) {
				/* Salvage: skip the damaged frame when its length
				 * is plausible, else give up on the rest. */
				unsigned char h[5];
				uint64_t len = 0;
				if (cat_read_at(cat, h, 5, cat->pos) == 0)
					len = ws_get_u32le(h);
				ws_buf_reset(&cat->frame);
				if (len && cat->pos + 5 + len <= cat->tr.meta_offset) {
					cat->pos += 5 + len;
					cat->frame_no++;
				} else {
					cat->pos = cat->tr.meta_offset;
					cat->frame_no = cat->tr.meta_first_frame;
				}
				return rc;
			}
			if (cat->on_frame)
				cat->on_frame(cat->on_frame_ctx, cat->frame_no, cat->pos,
					       (uint32_t)(next - cat->pos - 5), cat->frame_h,
					       cat->frame.len);
			cat->pos = next;
			cat->frame_no++;
			continue;
		}
		struct store_cur c = { (const unsigned char *)cat->frame.buf + cat->frame_pos,
				 (const unsigned char *)cat->frame.buf + cat->frame.len, 0 };
		unsigned type = *c.p++;
		uint64_t blen = store_cur_varint(&c);

		if (c.bad || blen > (uint64_t)(c.end - c.p)) {
			cat->frame_pos = cat->frame.len; /* rest of the frame lost */
			return bad_rec(cat, "framing", err);
		}
		struct store_cur r = { c.p, c.p + blen, 0 };
		cat->frame_pos = (size_t)(c.p + blen - (const unsigned char *)cat->frame.buf);
		if (type != REC_KEY && type != REC_VALUE && type != REC_FILE)
			continue; /* unknown (newer minor) or misplaced: skipped */
		return decode_record(cat, type, &r, rec, err);
	}
}

static struct store_pack *cat_pack(struct store_catalog *cat, uint32_t i,
				   struct ws_error *err, int *rc)
{
	if (!cat->pack_ptrs[i]) {
		struct store *st = cat->st;
		struct store_pack *p;

		if (!st->packs_listed) {
			*rc = store_list_packs(st, err);
			if (*rc)
				return NULL;
		}
		p = store_pack_find(st, cat->pack_ids[i]);
		if (!p || (!p->has_tar)) {
			struct ws_buf rel = WS_BUF_INIT;
			store_rel_pack(&rel, cat->pack_ids[i],
				       p ? store_pack_ext(p) : cat->head[5] < 2 ? ".tar" : ".pack");
			*rc = ws_error_set(err, WS_E_CORRUPT, rel.buf, "pack missing");
			ws_buf_release(&rel);
			return NULL;
		}
		cat->pack_ptrs[i] = p;
	}
	*rc = store_pack_load(cat->st, cat->pack_ptrs[i], err);
	return *rc ? NULL : cat->pack_ptrs[i];
}

/* Chunks of a file decoded ahead of their delivery (any thread). */
struct rdec {
	struct store *st;
	struct store_pack **p;
	const struct store_ix_entry **e;
	struct ws_buf *out;
	struct ws_error *err;
};

static void rdec_one(void *ctx, size_t i, struct store_zctx *z)
{
	struct rdec *d = ctx;

	ws_error_clear(&d->err[i]);
	store_pack_read_blob_z(d->st, d->p[i], d->e[i], z, &d->out[i], &d->err[i]);
}

int store_cat_pack_loaded(const struct store_catalog *cat, uint32_t pack)
{
	return pack < cat->n_packs && cat->pack_ptrs[pack] && cat->pack_ptrs[pack]->loaded;
}

/* Resolve chunk i of file to its pack and index entry (caller's thread:
 * loads indexes, opens the pack file). */
int store_cat_chunk_entry(struct store_catalog *cat, const struct store_file *file,
		       size_t i, struct store_pack **pp,
		       const struct store_ix_entry **ep, struct ws_error *err)
{
	const struct store_chunk_ref *c = &file->chunks[i];
	struct store_pack *p;
	int rc = WS_OK;

	if (c->pack >= cat->n_packs)
		return bad_rec(cat, "chunk pack", err);
	p = cat_pack(cat, c->pack, err, &rc);
	if (!p)
		return rc;
	*ep = store_pack_lookup(p, c->hash);
	if (!*ep || (*ep)->raw_len != c->raw_len) {
		struct ws_buf rel = WS_BUF_INIT;
		store_rel_pack(&rel, p->id, store_pack_ext(p));
		rc = ws_error_set(err, WS_E_CORRUPT, rel.buf,
				  "chunk %zu of '%s' is not in its pack", i, file->path);
		ws_buf_release(&rel);
		return rc;
	}
	*pp = p;
	return store_pack_open_fd(cat->st, p, err);
}

/* Files of several chunks: windows of chunks decoded in parallel, then
 * delivered in order (memory: one window of chunks). */
static int read_file_parallel(struct store_catalog *cat,
			      const struct store_file *file, store_data_fn fn,
			      void *ctx, struct ws_error *err)
{
	size_t win = 2 * (size_t)cat->st->threads;
	struct rdec d;
	int rc = WS_OK;

	d.st = cat->st;
	d.p = ws_xcalloc(win, sizeof(*d.p));
	d.e = ws_xcalloc(win, sizeof(*d.e));
	d.out = ws_xcalloc(win, sizeof(*d.out));
	d.err = ws_xcalloc(win, sizeof(*d.err));
	for (size_t k = 0; k < win; k++)
		ws_buf_init(&d.out[k]);
	for (size_t base = 0; base < file->n_chunks && !rc;) {
		size_t n = 0;
		uint64_t bytes = 0;

		/* at most win chunks, about STORE_PIPE_BYTES of them */
		while (n < win && base + n < file->n_chunks && !rc &&
		       (!n || bytes + file->chunks[base + n].raw_len <= STORE_PIPE_BYTES)) {
			ws_buf_reset(&d.out[n]);
			bytes += file->chunks[base + n].raw_len;
			rc = store_cat_chunk_entry(cat, file, base + n, &d.p[n], &d.e[n], err);
			n++;
		}
		if (rc)
			break;
		store_parallel(cat->st, n, rdec_one, &d);
		for (size_t k = 0; k < n && !rc; k++) {
			if (d.err[k].code != WS_OK) {
				if (err)
					*err = d.err[k];
				ws_error_prefix(err, "file '%s'", file->path);
				rc = d.err[k].code;
				break;
			}
			rc = fn(ctx, d.out[k].buf, d.out[k].len);
		}
		base += n;
	}
	for (size_t k = 0; k < win; k++)
		ws_buf_release(&d.out[k]);
	free(d.p);
	free(d.e);
	free(d.out);
	free(d.err);
	return rc;
}

int store_catalog_read_file_cb(struct store_catalog *cat,
			       const struct store_file *file,
			       store_data_fn fn, void *ctx,
			       struct ws_error *err)
{
	struct ws_buf chunk = WS_BUF_INIT;
	int rc = WS_OK;

	if (cat->ahead && store_ahead_read(cat->ahead, file, fn, ctx, &rc, err)) {
		if (rc && err && err->code == WS_OK)
			ws_error_set(err, rc, file->path, "reading stopped");
		return rc;
	}
	if (file->n_chunks > 1 && cat->st->threads > 1) {
		rc = read_file_parallel(cat, file, fn, ctx, err);
		if (rc && err && err->code == WS_OK)
			ws_error_set(err, rc, file->path, "reading stopped");
		return rc;
	}
	for (size_t i = 0; i < file->n_chunks && !rc; i++) {
		const struct store_chunk_ref *c = &file->chunks[i];
		const struct store_ix_entry *e;
		struct store_pack *p;

		if (c->pack >= cat->n_packs) {
			rc = bad_rec(cat, "chunk pack", err);
			break;
		}
		p = cat_pack(cat, c->pack, err, &rc);
		if (!p)
			break;
		e = store_pack_lookup(p, c->hash);
		if (!e || e->raw_len != c->raw_len) {
			struct ws_buf rel = WS_BUF_INIT;
			store_rel_pack(&rel, p->id, store_pack_ext(p));
			rc = ws_error_set(err, WS_E_CORRUPT, rel.buf,
					  "chunk %zu of '%s' is not in its pack", i, file->path);
			ws_buf_release(&rel);
			break;
		}
		ws_buf_reset(&chunk);
		rc = store_pack_read_blob(cat->st, p, e, &chunk, err);
		if (rc) {
			ws_error_prefix(err, "file '%s'", file->path);
			break;
		}
		rc = fn(ctx, chunk.buf, chunk.len);
	}
	if (rc && err && err->code == WS_OK)
		ws_error_set(err, rc, file->path, "reading stopped");
	ws_buf_release(&chunk);
	return rc;
}

struct fd_sink {
	int fd;
	int errnum;   /* of the failed write, 0 if none */
};

static int fd_sink(void *ctx, const void *data, size_t len)
{
	struct fd_sink *s = ctx;

	s->errnum = ws_write_all(s->fd, data, len);
	return s->errnum ? WS_E_IO : 0;
}

int store_catalog_read_file(struct store_catalog *cat,
			    const struct store_file *file, int fd,
			    struct ws_error *err)
{
	struct fd_sink s = { fd, 0 };
	int rc = store_catalog_read_file_cb(cat, file, fd_sink, &s, err);

	/* a write failed, not the store: name the file being written */
	if (rc && s.errnum) {
		struct ws_buf p = WS_BUF_INIT;

		ws_fd_path(fd, &p);
		rc = ws_error_set_errno(err, WS_E_IO, s.errnum, p.buf,
					"cannot write the content of '%s'", file->path);
		ws_buf_release(&p);
	}
	return rc;
}
