/*
 * store_pack.c - packs.  Format 2.0 (<id>.pack): a short header, blobs back
 * to back, the index and a footer locating it.  Format 1.x (<id>.tar, still
 * read; written only for the tests): ustar archives (libarchive, loaded then) whose
 * entries are blobs named by their hash, closed by an "index" entry.  Both
 * copy the index beside the pack as <id>.idx.  Reading uses the index's
 * offsets directly (pread), so a blob costs one read.
 */
#include "store/store_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/ws_fs.h"
#include "util/ws_libarchive.h"

#define IX_ENTRY_LEN (STORE_HASH_LEN + 8 + 4 + 4)
#define IX_HEAD_LEN 8
#define IX_FILE_MAX (128u << 20)

static uint64_t pad512(uint64_t n)
{
	return (n + 511) & ~(uint64_t)511;
}

uint64_t store_tar_size(uint64_t blobs_end, size_t index_len)
{
	return blobs_end + 512 + pad512(index_len) + 1024;
}

uint64_t store_pack_size(const struct store_pack *p, uint64_t blobs_end,
			 size_t index_len)
{
	return p->v2 ? blobs_end + index_len + STORE_PACK_FOOT_LEN :
		       store_tar_size(blobs_end, index_len);
}

/* The index header of a pack of layout v2 (1 = 2.0, 0 = 1.x). */
static void ix_head(const struct store *st, int v2, unsigned char h[IX_HEAD_LEN])
{
	memcpy(h, STORE_INDEX_MAGIC, 5);
	h[5] = v2 ? STORE_OBJ_MAJOR : 1;
	h[6] = v2 ? STORE_OBJ_MINOR : 1;
	h[7] = st->encrypted ? 1 : 0;
}

static void ix_ad(const unsigned char *head, const char *pack_id,
		  struct ws_buf *ad)
{
	ws_buf_add(ad, head, IX_HEAD_LEN);
	ws_buf_add(ad, pack_id, STORE_PACK_ID_LEN);
}

void store_index_encode(const struct store *st, const struct store_pack *p,
			const struct store_ix_entry *ix, size_t n,
			uint64_t blobs_end, struct ws_buf *out)
{
	const char *pack_id = p->id;
	unsigned char head[IX_HEAD_LEN];
	struct ws_buf pl = WS_BUF_INIT, ad = WS_BUF_INIT;

	ix_head(st, p->v2, head);
	ws_buf_add_u64le(&pl, blobs_end);
	ws_buf_add_u32le(&pl, (unsigned long)n);
	for (size_t i = 0; i < n; i++) {
		ws_buf_add(&pl, ix[i].hash, STORE_HASH_LEN);
		ws_buf_add_u64le(&pl, ix[i].off);
		ws_buf_add_u32le(&pl, ix[i].stored_len);
		ws_buf_add_u32le(&pl, ix[i].raw_len);
	}
	ix_ad(head, pack_id, &ad);
	ws_buf_add(out, head, sizeof(head));
	store_seal(st, st->k_index, ad.buf, ad.len, pl.buf, pl.len, out);
	ws_buf_release(&pl);
	ws_buf_release(&ad);
}

int store_index_parse(const struct store *st, const char *pack_id,
		      const void *data, size_t len, struct store_pack *p,
		      const char *where, struct ws_error *err)
{
	const unsigned char *d = data;
	unsigned char head[IX_HEAD_LEN];
	struct ws_buf pl = WS_BUF_INIT, ad = WS_BUF_INIT;
	const unsigned char *q;
	uint32_t n;
	int rc = WS_OK;

	/* a pack known only by its .idx (pack file gone) takes the layout its
	 * index names */
	if (!p->has_tar && len > 5)
		p->v2 = d[5] >= 2;
	ix_head(st, p->v2, head);
	if (len < IX_HEAD_LEN || memcmp(d, STORE_INDEX_MAGIC, 5) != 0) {
		rc = ws_error_set(err, WS_E_CORRUPT, where, "pack index: bad magic");
		goto out;
	}
	/* the minor (byte 6) is the writer's: 1.0 indexes carry 0 and stay
	 * readable; the major (1 for .tar packs, 2 for .pack) and the
	 * encryption flag must match */
	if (d[5] != head[5] || d[7] != head[7]) {
		rc = ws_error_set(err, WS_E_CORRUPT, where, "pack index: bad header");
		goto out;
	}
	ix_ad(d, pack_id, &ad);
	if (store_unseal(st, st->k_index, ad.buf, ad.len, d + IX_HEAD_LEN,
			 len - IX_HEAD_LEN, &pl) != 0) {
		rc = ws_error_set(err, WS_E_CORRUPT, where,
				  "pack index damaged (checksum/authentication failed)");
		goto out;
	}
	if (pl.len < 12) {
		rc = ws_error_set(err, WS_E_CORRUPT, where, "pack index truncated");
		goto out;
	}
	q = (const unsigned char *)pl.buf;
	n = ws_get_u32le(q + 8);
	if (n > STORE_MAX_INDEX_ENTRIES || pl.len != 12 + (size_t)n * IX_ENTRY_LEN) {
		rc = ws_error_set(err, WS_E_CORRUPT, where, "pack index size inconsistent");
		goto out;
	}
	p->blobs_end = ws_get_u64le(q);
	if (p->blobs_end > STORE_PACK_MAX + (uint64_t)STORE_CHUNK_MAX * 2 ||
	    (!p->v2 && p->blobs_end % 512) ||
	    (p->v2 && p->blobs_end < STORE_PACK_HEAD_LEN)) {
		rc = ws_error_set(err, WS_E_CORRUPT, where, "pack index: bad pack length");
		goto out;
	}
	free(p->ix);
	p->ix = ws_xcalloc(n ? n : 1, sizeof(*p->ix));
	p->n_ix = n;
	q += 12;
	for (uint32_t i = 0; i < n; i++, q += IX_ENTRY_LEN) {
		struct store_ix_entry *e = &p->ix[i];

		memcpy(e->hash, q, STORE_HASH_LEN);
		e->off = ws_get_u64le(q + 32);
		e->stored_len = ws_get_u32le(q + 40);
		e->raw_len = ws_get_u32le(q + 44);
		if ((p->v2 ? e->off < STORE_PACK_HEAD_LEN :
			     e->off < 512 || (e->off - 512) % 512) ||
		    e->off + e->stored_len > p->blobs_end ||
		    e->raw_len > STORE_CHUNK_MAX || e->stored_len < 1 ||
		    e->stored_len > (uint64_t)e->raw_len + 1 + STORE_SEAL_ENC ||
		    (i && memcmp(p->ix[i - 1].hash, e->hash, STORE_HASH_LEN) >= 0)) {
			rc = ws_error_set(err, WS_E_CORRUPT, where,
					  "pack index entry %u is invalid", i);
			free(p->ix);
			p->ix = NULL;
			p->n_ix = 0;
			goto out;
		}
	}
	p->ix_len = len;
	p->tar_size = store_pack_size(p, p->blobs_end, len);
out:
	ws_buf_release(&pl);
	ws_buf_release(&ad);
	return rc;
}

int store_read_at(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return -1; /* short file */
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int store_pack_open_fd(struct store *st, struct store_pack *p,
		       struct ws_error *err)
{
	struct ws_buf rel = WS_BUF_INIT, abs = WS_BUF_INIT;
	int rc = WS_OK;

	if (p->fd >= 0)
		return WS_OK;
	store_rel_pack(&rel, p->id, store_pack_ext(p));
	store_abs(st, &abs, rel.buf);
	p->fd = open(abs.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (p->fd < 0)
		rc = errno == ENOENT ?
			ws_error_set(err, WS_E_CORRUPT, rel.buf, "pack missing") :
			ws_error_set_errno(err, WS_E_IO, errno, rel.buf, "cannot open pack");
	ws_buf_release(&rel);
	ws_buf_release(&abs);
	return rc;
}

int store_tar_header(const unsigned char *h, char name[101], uint64_t *size)
{
	unsigned sum = 0, want = 0;

	for (int i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	for (int i = 148; i < 156 && h[i] >= '0' && h[i] <= '7'; i++)
		want = want * 8 + (unsigned)(h[i] - '0');
	if (sum != want || memcmp(h + 257, "ustar", 5) != 0)
		return -1;
	memcpy(name, h, 100);
	name[100] = '\0';
	*size = 0;
	for (int i = 124; i < 136 && h[i] >= '0' && h[i] <= '7'; i++)
		*size = *size * 8 + (uint64_t)(h[i] - '0');
	return 0;
}

/* Find the tar's "index" entry by walking the headers (recovery path). */
static int index_from_tar(struct store *st, struct store_pack *p,
			  struct ws_buf *out, const char *where,
			  struct ws_error *err)
{
	unsigned char h[512];
	uint64_t off = 0;
	char name[101];
	uint64_t size;

	for (;;) {
		int e = store_read_at(p->fd, h, 512, off);
		if (e)
			return ws_error_set(err, WS_E_CORRUPT, where,
					    "pack truncated before its index");
		if (store_tar_header(h, name, &size) != 0)
			return ws_error_set(err, WS_E_CORRUPT, where,
					    "pack has a damaged tar header at offset %llu",
					    (unsigned long long)off);
		if (!strcmp(name, "index")) {
			if (size > IX_FILE_MAX)
				return ws_error_set(err, WS_E_CORRUPT, where, "pack index too large");
			ws_buf_grow(out, size);
			if (store_read_at(p->fd, out->buf + out->len, size, off + 512))
				return ws_error_set(err, WS_E_CORRUPT, where, "pack index truncated");
			ws_buf_setlen(out, out->len + size);
			return WS_OK;
		}
		if (size > STORE_CHUNK_MAX * 2ull)
			return ws_error_set(err, WS_E_CORRUPT, where, "pack entry too large");
		off += 512 + pad512(size);
	}
}

/* The same for a 2.0 pack: its footer says where the index is. */
static int index_from_pack(struct store_pack *p, struct ws_buf *out,
			   const char *where, struct ws_error *err)
{
	unsigned char f[STORE_PACK_FOOT_LEN], h[STORE_PACK_HEAD_LEN];
	struct stat sb;
	uint64_t be;
	uint32_t n;

	if (fstat(p->fd, &sb) != 0 || (uint64_t)sb.st_size < STORE_PACK_HEAD_LEN + STORE_PACK_FOOT_LEN ||
	    store_read_at(p->fd, h, sizeof(h), 0) ||
	    memcmp(h, STORE_PACK_MAGIC, 6) != 0 || h[6] != STORE_OBJ_MAJOR ||
	    store_read_at(p->fd, f, sizeof(f), (uint64_t)sb.st_size - sizeof(f)) ||
	    memcmp(f + 12, STORE_PACK_FOOT_MAGIC, 4) != 0)
		return ws_error_set(err, WS_E_CORRUPT, where,
				    "pack header or footer damaged (truncated?)");
	be = ws_get_u64le(f);
	n = ws_get_u32le(f + 8);
	if (n > IX_FILE_MAX || be < STORE_PACK_HEAD_LEN ||
	    be + n + sizeof(f) != (uint64_t)sb.st_size)
		return ws_error_set(err, WS_E_CORRUPT, where, "pack footer inconsistent");
	ws_buf_grow(out, n);
	if (store_read_at(p->fd, out->buf + out->len, n, be))
		return ws_error_set(err, WS_E_CORRUPT, where, "pack index truncated");
	ws_buf_setlen(out, out->len + n);
	return WS_OK;
}

int store_pack_load(struct store *st, struct store_pack *p, struct ws_error *err)
{
	struct ws_buf rel = WS_BUF_INIT, abs = WS_BUF_INIT, data = WS_BUF_INIT;
	int rc;

	if (p->loaded)
		return WS_OK;
	if (p->load_rc)
		return ws_error_set(err, p->load_rc, "", "pack %s is unusable", p->id);
	if (!p->has_idx && !p->has_tar) {
		store_rel_pack(&rel, p->id, store_pack_ext(p));
		rc = ws_error_set(err, WS_E_CORRUPT, rel.buf, "pack missing");
		ws_buf_release(&rel);
		p->load_rc = rc;
		return rc;
	}
	rc = WS_E_CORRUPT;
	if (p->has_idx) {
		store_rel_pack(&rel, p->id, ".idx");
		store_abs(st, &abs, rel.buf);
		rc = ws_read_file(abs.buf, IX_FILE_MAX, &data, err);
		if (rc == WS_E_UNSUPPORTED)
			rc = ws_error_set(err, WS_E_CORRUPT, rel.buf, "pack index too large");
		else if (rc == WS_E_IO)
			rc = ws_error_set(err, WS_E_CORRUPT, rel.buf, "pack index unreadable");
		if (!rc)
			rc = store_index_parse(st, p->id, data.buf, data.len, p, rel.buf, err);
		if (rc == WS_E_CORRUPT && p->has_tar)
			ws_logf(st->log, WS_LOG_WARN, rel.buf,
				"damaged: using the copy inside the pack");
	}
	if (rc == WS_E_CORRUPT && p->has_tar) {
		/* No usable .idx: the pack carries its own copy. */
		struct ws_error e2;
		ws_error_clear(&e2);
		ws_buf_reset(&rel);
		ws_buf_reset(&data);
		store_rel_pack(&rel, p->id, store_pack_ext(p));
		rc = store_pack_open_fd(st, p, &e2);
		if (!rc)
			rc = p->v2 ? index_from_pack(p, &data, rel.buf, &e2) :
				     index_from_tar(st, p, &data, rel.buf, &e2);
		if (!rc)
			rc = store_index_parse(st, p->id, data.buf, data.len, p, rel.buf, &e2);
		if (rc && err && (!p->has_idx || err->code == WS_OK))
			*err = e2;
	}
	if (rc)
		p->load_rc = rc;
	else
		p->loaded = 1;
	ws_buf_release(&rel);
	ws_buf_release(&abs);
	ws_buf_release(&data);
	return rc;
}

const struct store_ix_entry *store_pack_lookup(const struct store_pack *p,
					       const unsigned char *hash)
{
	size_t lo = 0, hi = p->n_ix;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(p->ix[mid].hash, hash, STORE_HASH_LEN);
		if (!c)
			return &p->ix[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int store_pack_read_blob(struct store *st, struct store_pack *p,
			 const struct store_ix_entry *e, struct ws_buf *out,
			 struct ws_error *err)
{
	return store_pack_read_blob_z(st, p, e, &st->z, out, err);
}

int store_pack_read_blob_z(struct store *st, struct store_pack *p,
			   const struct store_ix_entry *e, struct store_zctx *z,
			   struct ws_buf *out, struct ws_error *err)
{
	struct ws_buf blob = WS_BUF_INIT, rel = WS_BUF_INIT;
	char hx[2 * STORE_HASH_LEN + 1];
	const char *why = NULL;
	int rc, r;

	store_rel_pack(&rel, p->id, store_pack_ext(p));
	rc = store_pack_open_fd(st, p, err);
	if (rc)
		goto out;
	ws_buf_grow(&blob, e->stored_len);
	r = store_read_at(p->fd, blob.buf, e->stored_len, e->off);
	store_hash_hex(e->hash, hx);
	if (r) {
		rc = r < 0 ? ws_error_set(err, WS_E_CORRUPT, rel.buf,
					  "pack truncated: blob %.16s missing", hx) :
			     ws_error_set_errno(err, WS_E_IO, r, rel.buf, "cannot read");
		goto out;
	}
	ws_buf_setlen(&blob, e->stored_len);
	if (store_blob_decode(st, z, e->hash, e->raw_len, blob.buf, blob.len,
			      out, &why) != 0)
		rc = ws_error_set(err, WS_E_CORRUPT, rel.buf, "blob %.16s: %s", hx, why);
out:
	ws_buf_release(&blob);
	ws_buf_release(&rel);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Pack writer                                                            */

struct store_packw {
	struct store *st;
	struct store_pack tag;   /* id and layout (v2) for the index */
	struct ws_buf tmp;
	int fd;
	int dead;        /* after a failed write: nothing more reaches the file */
	int werr;        /* errno of the first failed write */
	const struct ws_libarchive *la; /* 1.x (tests) only: */
	struct archive *a;
	struct archive_entry *ent;
	uint64_t size;   /* logical bytes so far */
};

static int packw_fail(struct store_packw *pw, const char *what,
		      struct ws_error *err)
{
	int e = pw->werr ? pw->werr : pw->a ? pw->la->archive_errno(pw->a) : EIO;

	if (e > 0 || !pw->a)
		return ws_error_set_errno(err, WS_E_IO, e > 0 ? e : EIO, pw->tmp.buf,
					  "%s", what);
	return ws_error_set(err, WS_E_IO, pw->tmp.buf, "%s: %s", what,
			    pw->la->archive_error_string(pw->a));
}

/* Our own writes (also libarchive's), so the fault hook sees them and a
 * failed pack can be cut back to what reached the disk whole.  A failure
 * is recorded, not returned: libarchive would otherwise enter its fatal
 * state, in which freeing the writer leaks its output buffer.  Callers
 * check pw->werr. */
static void packw_write(struct store_packw *pw, const void *buf, size_t len)
{
	int e;

	if (pw->dead)
		return;
	e = store_write_all(pw->st, pw->fd, pw->tmp.buf, buf, len);
	if (e) {
		pw->dead = 1;
		pw->werr = e;
	}
}

static la_ssize_t packw_write_cb(struct archive *a, void *ctx,
				 const void *buf, size_t len)
{
	(void)a;
	packw_write(ctx, buf, len);
	return (la_ssize_t)len;
}

/* A new archive writer (1.x) on pw->fd at its current position. */
static int packw_archive(struct store_packw *pw, struct ws_error *err)
{
	const struct ws_libarchive *la;
	int rc = ws_libarchive(&la, err);

	if (rc)
		return rc;
	pw->la = la;
	pw->a = la->archive_write_new();
	if (la->archive_write_set_format_ustar(pw->a) != ARCHIVE_OK ||
	    la->archive_write_add_filter_none(pw->a) != ARCHIVE_OK ||
	    la->archive_write_set_bytes_per_block(pw->a, 512) != ARCHIVE_OK ||
	    la->archive_write_set_bytes_in_last_block(pw->a, 1) != ARCHIVE_OK ||
	    la->archive_write_open(pw->a, pw, NULL, packw_write_cb, NULL) != ARCHIVE_OK)
		return packw_fail(pw, "cannot start pack", err);
	return WS_OK;
}

int store_packw_new(struct store *st, struct store_packw **out,
		    struct ws_error *err)
{
	struct store_packw *pw = ws_xcalloc(1, sizeof(*pw));
	struct ws_buf id = WS_BUF_INIT;
	int e, rc;

	pw->st = st;
	pw->tag.v2 = !st->write_v1;
	ws_random_hex(&id, STORE_PACK_ID_LEN / 2);
	memcpy(pw->tag.id, id.buf, STORE_PACK_ID_LEN + 1);
	ws_buf_release(&id);
	ws_buf_init(&pw->tmp);
	store_abs(st, &pw->tmp, "tmp/");
	ws_buf_addf(&pw->tmp, "%s%s.part", pw->tag.id, store_pack_ext(&pw->tag));
	e = store_fault(st, pw->tmp.buf);
	pw->fd = e ? -1 : open(pw->tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (pw->fd < 0) {
		rc = ws_error_set_errno(err, WS_E_STORE, e ? e : errno, pw->tmp.buf,
					"cannot create pack");
		ws_buf_release(&pw->tmp);
		free(pw);
		return rc;
	}
	if (pw->tag.v2) {
		unsigned char h[STORE_PACK_HEAD_LEN];

		memcpy(h, STORE_PACK_MAGIC, 6);
		h[6] = STORE_OBJ_MAJOR;
		h[7] = STORE_OBJ_MINOR;
		packw_write(pw, h, sizeof(h));
		pw->size = sizeof(h);
		rc = pw->werr ? packw_fail(pw, "cannot write pack", err) : WS_OK;
	} else {
		rc = packw_archive(pw, err);
		if (!rc)
			pw->ent = pw->la->archive_entry_new();
	}
	if (rc) {
		store_packw_discard(pw);
		return rc;
	}
	*out = pw;
	return WS_OK;
}

static int packw_entry(struct store_packw *pw, const char *name,
		       const void *data, size_t len, struct ws_error *err)
{
	if (pw->tag.v2) {
		packw_write(pw, data, len);
		if (pw->werr)
			return packw_fail(pw, "cannot write pack", err);
		pw->size += len;
		return WS_OK;
	}
	pw->la->archive_entry_clear(pw->ent);
	pw->la->archive_entry_set_pathname(pw->ent, name);
	pw->la->archive_entry_set_size(pw->ent, (la_int64_t)len);
	pw->la->archive_entry_set_filetype(pw->ent, AE_IFREG);
	pw->la->archive_entry_set_perm(pw->ent, 0644);
	pw->la->archive_entry_set_mtime(pw->ent, 0, 0); /* leaks nothing */
	if (pw->la->archive_write_header(pw->a, pw->ent) != ARCHIVE_OK || pw->werr)
		return packw_fail(pw, "cannot write pack", err);
	if (len && (pw->la->archive_write_data(pw->a, data, len) != (la_ssize_t)len || pw->werr))
		return packw_fail(pw, "cannot write pack", err);
	pw->size += 512 + pad512(len);
	return WS_OK;
}

int store_packw_add(struct store_packw *pw, const unsigned char *hash,
		    const void *blob, size_t len, uint64_t *off,
		    struct ws_error *err)
{
	char name[2 * STORE_HASH_LEN + 1];

	store_hash_hex(hash, name);
	*off = pw->tag.v2 ? pw->size : pw->size + 512;
	return packw_entry(pw, name, blob, len, err);
}

int store_packw_salvage(struct store_packw *pw, const struct store_ix_entry *ix,
			size_t n, size_t *kept, struct ws_error *err)
{
	struct stat sb;
	uint64_t data_end = 0;
	size_t k = 0;

	*kept = 0;
	/* Drop the failed writer without letting it flush anything more. */
	pw->dead = 1;
	if (pw->a)
		pw->la->archive_write_free(pw->a);
	pw->a = NULL;
	if (fstat(pw->fd, &sb) != 0)
		goto discard;
	/* Blobs are written in order: keep the prefix that is whole on disk. */
	for (; k < n; k++) {
		uint64_t end = ix[k].off + ix[k].stored_len;
		if (end > (uint64_t)sb.st_size)
			break;
		data_end = end;
	}
	if (!k)
		goto discard;
	/* Cut the partial blob (freeing its space), (1.x: pad the last whole
	 * one with zeros) and append the index as usual. */
	pw->size = pw->tag.v2 ? data_end : pad512(data_end);
	if (ftruncate(pw->fd, (off_t)pw->size) != 0 ||
	    lseek(pw->fd, (off_t)pw->size, SEEK_SET) < 0)
		goto discard;
	pw->dead = 0;
	pw->werr = 0;
	if (!pw->tag.v2 && packw_archive(pw, err) != WS_OK)
		goto discard;
	*kept = k;
	return store_packw_finish(pw, ix, k, err);
discard:
	ws_error_set(err, WS_E_IO, pw->tmp.buf, "nothing of the pack could be kept");
	store_packw_discard(pw);
	return WS_E_IO;
}

uint64_t store_packw_size(const struct store_packw *pw)
{
	return pw->size;
}

const char *store_packw_id(const struct store_packw *pw)
{
	return pw->tag.id;
}

int store_packw_v2(const struct store_packw *pw)
{
	return pw->tag.v2;
}

static int ix_cmp(const void *a, const void *b)
{
	return memcmp(((const struct store_ix_entry *)a)->hash,
		      ((const struct store_ix_entry *)b)->hash, STORE_HASH_LEN);
}

/* 2.0: the index then the footer that locates it. */
static int packw_index_v2(struct store_packw *pw, const struct ws_buf *idx,
			  struct ws_error *err)
{
	unsigned char f[STORE_PACK_FOOT_LEN];
	uint64_t blobs_end = pw->size;

	ws_put_u32le(f, (uint32_t)blobs_end);
	ws_put_u32le(f + 4, (uint32_t)(blobs_end >> 32));
	ws_put_u32le(f + 8, (uint32_t)idx->len);
	memcpy(f + 12, STORE_PACK_FOOT_MAGIC, 4);
	packw_write(pw, idx->buf, idx->len);
	packw_write(pw, f, sizeof(f));
	if (pw->werr)
		return packw_fail(pw, "cannot write pack", err);
	pw->size += idx->len + sizeof(f);
	return WS_OK;
}

int store_packw_finish(struct store_packw *pw, const struct store_ix_entry *ix,
		       size_t n, struct ws_error *err)
{
	struct store *st = pw->st;
	struct store_ix_entry *sorted = ws_xcalloc(n ? n : 1, sizeof(*sorted));
	struct ws_buf idx = WS_BUF_INIT, rel = WS_BUF_INIT, dst = WS_BUF_INIT,
		      dir = WS_BUF_INIT;
	uint64_t blobs_end = pw->size;
	int rc, e = 0;

	if (n) {
		memcpy(sorted, ix, n * sizeof(*ix));
		qsort(sorted, n, sizeof(*sorted), ix_cmp);
	}
	store_index_encode(st, &pw->tag, sorted, n, blobs_end, &idx);
	if (pw->tag.v2) {
		rc = packw_index_v2(pw, &idx, err);
		if (rc)
			goto fail;
	} else {
		rc = packw_entry(pw, "index", idx.buf, idx.len, err);
		if (rc)
			goto fail;
		if (pw->la->archive_write_close(pw->a) != ARCHIVE_OK || pw->werr) {
			rc = packw_fail(pw, "cannot finish pack", err);
			goto fail;
		}
	}
	if (fsync(pw->fd) != 0)
		e = errno;
	if (close(pw->fd) != 0 && !e)
		e = errno;
	pw->fd = -1;
	if (e) {
		rc = ws_error_set_errno(err, WS_E_IO, e, pw->tmp.buf, "cannot write pack");
		goto fail;
	}
	ws_buf_addf(&rel, "packs/%.2s", pw->tag.id);
	store_abs(st, &dir, rel.buf);
	rc = ws_mkdir_p(dir.buf, WS_E_STORE, err);
	if (rc)
		goto fail;
	ws_buf_reset(&rel);
	store_rel_pack(&rel, pw->tag.id, store_pack_ext(&pw->tag));
	store_abs(st, &dst, rel.buf);
	if (rename(pw->tmp.buf, dst.buf) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, dst.buf, "cannot move pack into place");
		goto fail;
	}
	rc = ws_fsync_dir(dir.buf, WS_E_IO, err);
	if (rc)
		goto out;
	/* The .idx is written last: a pack becomes visible for dedup only
	 * when it is complete. */
	ws_buf_reset(&dst);
	ws_buf_reset(&rel);
	store_rel_pack(&rel, pw->tag.id, ".idx");
	store_abs(st, &dst, rel.buf);
	e = store_fault(st, dst.buf);
	if (e)
		rc = ws_error_set_errno(err, WS_E_IO, e, dst.buf, "cannot write pack index");
	else
		rc = ws_write_file_atomic(dst.buf, idx.buf, idx.len, 1, WS_E_IO, err);
	if (rc) {
		/* Without its .idx no writer would use the pack and no catalog
		 * names it yet: give its space back. */
		ws_buf_reset(&dst);
		ws_buf_reset(&rel);
		store_rel_pack(&rel, pw->tag.id, store_pack_ext(&pw->tag));
		store_abs(st, &dst, rel.buf);
		unlink(dst.buf);
	}
	goto out;
fail:
	if (pw->fd >= 0)
		close(pw->fd);
	pw->fd = -1;
	unlink(pw->tmp.buf);
out:
	pw->dead = 1; /* nothing more after a failure */
	if (pw->a)
		pw->la->archive_write_free(pw->a);
	if (pw->ent)
		pw->la->archive_entry_free(pw->ent);
	ws_buf_release(&pw->tmp);
	ws_buf_release(&idx);
	ws_buf_release(&rel);
	ws_buf_release(&dst);
	ws_buf_release(&dir);
	free(sorted);
	free(pw);
	return rc;
}

void store_packw_discard(struct store_packw *pw)
{
	if (!pw)
		return;
	pw->dead = 1;
	if (pw->a)
		pw->la->archive_write_free(pw->a); /* closes the archive, not our fd */
	if (pw->ent)
		pw->la->archive_entry_free(pw->ent);
	if (pw->fd >= 0)
		close(pw->fd);
	unlink(pw->tmp.buf);
	ws_buf_release(&pw->tmp);
	free(pw);
}
