/*
 * store_verify.c - checking a store: catalogs read through, pack indexes
 * against their packs, (deep) every blob decoded and hashed, and every
 * file of every scan checked against what survived, so damage is reported
 * with the scans and files it affects.
 */
#include "store/store_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/ws_fs.h"
#include "util/ws_utf.h"

struct vctx {
	struct store *st;
	const struct store_verify_opts *o;
	struct store_verify_stats *s;
};

static void problem(struct vctx *v, int kind, const char *object,
		    const char *device, const char *scan_id, const char *file,
		    const char *msg)
{
	struct store_problem p = { kind, object, device, scan_id, file, msg };

	v->s->problems++;
	if (v->o->on_problem)
		v->o->on_problem(v->o->ctx, &p);
}

static void pack_problem(struct vctx *v, struct store_pack *p, int kind,
			 const char *ext, const char *msg)
{
	struct ws_buf rel = WS_BUF_INIT;

	store_rel_pack(&rel, p->id, ext);
	problem(v, kind, rel.buf, NULL, NULL, NULL, msg);
	ws_buf_release(&rel);
}

static int zeros(int fd, uint64_t off, uint64_t n)
{
	unsigned char buf[1024];

	while (n) {
		size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
		if (pread(fd, buf, k, (off_t)off) != (ssize_t)k)
			return 0;
		for (size_t i = 0; i < k; i++)
			if (buf[i])
				return 0;
		off += k;
		n -= k;
	}
	return 1;
}

static uint64_t pad512(uint64_t n)
{
	return (n + 511) & ~(uint64_t)511;
}

static int off_cmp(const void *a, const void *b, void *ctx)
{
	const struct store_pack *p = ctx;
	uint64_t x = p->ix[*(const size_t *)a].off;
	uint64_t y = p->ix[*(const size_t *)b].off;
	return x < y ? -1 : x > y;
}

/* Decoding one blob of a pack for deep_walk_v2 (any thread). */
struct vdec {
	struct store *st;
	struct store_pack *p;
	struct ws_error *err;         /* per index entry */
};

static void vdec_one(void *ctx, size_t i, struct store_zctx *z)
{
	struct vdec *d = ctx;
	struct ws_buf out = WS_BUF_INIT;

	ws_error_clear(&d->err[i]);
	store_pack_read_blob_z(d->st, d->p, &d->p->ix[i], z, &out, &d->err[i]);
	ws_buf_release(&out);
}

/* 2.0: header, blobs back to back from byte 8 to blobs_end, index,
 * footer; every blob decoded and hashed. */
static void deep_walk_v2(struct vctx *v, struct store_pack *p, size_t idx_len)
{
	size_t *order = ws_xcalloc(p->n_ix + 1, sizeof(*order));
	struct ws_buf out = WS_BUF_INIT;
	uint64_t pos = STORE_PACK_HEAD_LEN;
	unsigned char h[STORE_PACK_HEAD_LEN], f[STORE_PACK_FOOT_LEN];
	char hx[2 * STORE_HASH_LEN + 1], m[200];

	if (pread(p->fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h, STORE_PACK_MAGIC, 6) || h[6] != STORE_OBJ_MAJOR)
		pack_problem(v, p, STORE_PROBLEM_PACK, ".pack", "pack header damaged");
	for (size_t i = 0; i < p->n_ix; i++)
		order[i] = i;
	if (p->n_ix)
		qsort_r(order, p->n_ix, sizeof(*order), off_cmp, p);
	struct vdec dec = { v->st, p, ws_xcalloc(p->n_ix + 1, sizeof(*dec.err)) };
	for (size_t k = 0; k < p->n_ix; k++) {
		size_t i = order[k];
		const struct store_ix_entry *e = &p->ix[i];

		v->s->blobs_checked++;
		if (e->off != pos) {
			store_hash_hex(e->hash, hx);
			snprintf(m, sizeof(m), "blob %.16s: entries overlap or leave a gap", hx);
			pack_problem(v, p, STORE_PROBLEM_BLOB, ".pack", m);
			p->vbad[i] = 1;
		}
		pos = e->off + e->stored_len;
	}
	/* Every blob decrypted, decompressed and hashed on every core; the
	 * problems are reported afterwards in pack order. */
	store_parallel(v->st, p->n_ix, vdec_one, &dec);
	for (size_t k = 0; k < p->n_ix; k++) {
		size_t i = order[k];

		if (dec.err[i].code != WS_OK && !p->vbad[i]) {
			p->vbad[i] = 1;
			problem(v, STORE_PROBLEM_BLOB, dec.err[i].where, NULL, NULL, NULL,
				dec.err[i].msg);
		}
	}
	free(dec.err);
	if (pos != p->blobs_end ||
	    pread(p->fd, f, sizeof(f), (off_t)(pos + idx_len)) != (ssize_t)sizeof(f) ||
	    ws_get_u64le(f) != p->blobs_end || ws_get_u32le(f + 8) != idx_len ||
	    memcmp(f + 12, STORE_PACK_FOOT_MAGIC, 4))
		pack_problem(v, p, STORE_PROBLEM_PACK, ".pack",
			     "blobs do not end at the index, or the footer is damaged");
	ws_buf_release(&out);
	free(order);
}

/* Walk the whole tar in order: headers, blobs, padding, index, end. */
static void deep_walk(struct vctx *v, struct store_pack *p, size_t idx_len)
{
	size_t *order = ws_xcalloc(p->n_ix + 1, sizeof(*order));
	struct ws_buf out = WS_BUF_INIT;
	uint64_t pos = 0;
	unsigned char h[512];
	char name[101], hx[2 * STORE_HASH_LEN + 1], m[200];
	uint64_t size;

	for (size_t i = 0; i < p->n_ix; i++)
		order[i] = i;
	if (p->n_ix)
		qsort_r(order, p->n_ix, sizeof(*order), off_cmp, p);
	for (size_t k = 0; k < p->n_ix; k++) {
		size_t i = order[k];
		const struct store_ix_entry *e = &p->ix[i];
		struct ws_error er;
		const char *why = NULL;

		v->s->blobs_checked++;
		store_hash_hex(e->hash, hx);
		ws_error_clear(&er);
		ws_buf_reset(&out);
		if (e->off - 512 != pos)
			why = "entries overlap or leave a gap";
		else if (pread(p->fd, h, 512, (off_t)pos) != 512 ||
			 store_tar_header(h, name, &size) != 0)
			why = "tar header damaged";
		else if (strcmp(name, hx) || size != e->stored_len)
			why = "tar header does not match the index";
		else if (!zeros(p->fd, e->off + e->stored_len,
				pad512(e->stored_len) - e->stored_len))
			why = "padding damaged";
		if (why) {
			snprintf(m, sizeof(m), "blob %.16s: %s", hx, why);
			pack_problem(v, p, STORE_PROBLEM_BLOB, ".tar", m);
			p->vbad[i] = 1;
		} else if (store_pack_read_blob(v->st, p, e, &out, &er) != WS_OK) {
			p->vbad[i] = 1;
			problem(v, STORE_PROBLEM_BLOB, er.where, NULL, NULL, NULL, er.msg);
		}
		pos = e->off + pad512(e->stored_len);
	}
	if (pos != p->blobs_end || pread(p->fd, h, 512, (off_t)pos) != 512 ||
	    store_tar_header(h, name, &size) != 0 || strcmp(name, "index") ||
	    size != idx_len ||
	    !zeros(p->fd, pos + 512 + idx_len, pad512(idx_len) - idx_len + 1024))
		pack_problem(v, p, STORE_PROBLEM_PACK, ".tar",
			     "index entry, padding or end of archive damaged");
	ws_buf_release(&out);
	free(order);
}

static void check_pack(struct vctx *v, struct store_pack *p)
{
	struct store *st = v->st;
	struct ws_error e;
	struct ws_buf rel = WS_BUF_INIT, abs = WS_BUF_INIT, idx = WS_BUF_INIT,
		      emb = WS_BUF_INIT;
	struct stat sb;

	p->vstate = 2;
	v->s->packs++;
	ws_error_clear(&e);
	if (!p->has_tar) {
		pack_problem(v, p, STORE_PROBLEM_PACK, store_pack_ext(p),
			     "pack missing (its index is present)");
		return;
	}
	if (store_pack_load(st, p, &e) != WS_OK) {
		problem(v, STORE_PROBLEM_INDEX, e.where, NULL, NULL, NULL, e.msg);
		return;
	}
	if (store_pack_open_fd(st, p, &e) != WS_OK) {
		problem(v, STORE_PROBLEM_PACK, e.where, NULL, NULL, NULL, e.msg);
		return;
	}
	store_rel_pack(&rel, p->id, store_pack_ext(p));
	if (fstat(p->fd, &sb) != 0 || (uint64_t)sb.st_size != p->tar_size) {
		char m[160];
		snprintf(m, sizeof(m), "pack size %llu, expected %llu: %s",
			 (unsigned long long)sb.st_size, (unsigned long long)p->tar_size,
			 (uint64_t)sb.st_size < p->tar_size ? "truncated" : "extra data");
		problem(v, STORE_PROBLEM_PACK, rel.buf, NULL, NULL, NULL, m);
		/* Blobs before the damage may still be fine: go on checking. */
	}
	/* The embedded index must equal the .idx file. */
	if (p->has_idx) {
		ws_buf_reset(&rel);
		store_rel_pack(&rel, p->id, ".idx");
		store_abs(st, &abs, rel.buf);
		if (ws_read_file(abs.buf, 128u << 20, &idx, &e) == WS_OK) {
			size_t n = idx.len;
			ws_buf_grow(&emb, n);
			if (pread(p->fd, emb.buf, n,
				  (off_t)(p->blobs_end + (p->v2 ? 0 : 512))) != (ssize_t)n ||
			    memcmp(emb.buf, idx.buf, n) != 0) {
				ws_buf_reset(&rel);
				store_rel_pack(&rel, p->id, store_pack_ext(p));
				problem(v, STORE_PROBLEM_PACK, rel.buf, NULL, NULL, NULL,
					"index inside the pack differs from the .idx file");
			}
		}
	}
	p->vbad = ws_xcalloc(p->n_ix + 1, 1);
	if (v->o->deep && p->v2)
		deep_walk_v2(v, p, p->ix_len);
	else if (v->o->deep)
		deep_walk(v, p, p->ix_len);
	p->vstate = 1;
	ws_buf_release(&rel);
	ws_buf_release(&abs);
	ws_buf_release(&idx);
	ws_buf_release(&emb);
}

/* Read a catalog through and check every file's chunks. */
static void check_catalog(struct vctx *v, struct store_catalog *cat)
{
	const struct store_scan_info *in = store_catalog_info(cat);
	struct ws_buf rel = WS_BUF_INIT;
	struct store_record rec;
	struct ws_error e;
	size_t np = store_cat_n_packs(cat);
	struct store_pack **pp = ws_xcalloc(np + 1, sizeof(*pp));
	unsigned errors = 0;

	v->s->scans++;
	ws_buf_addf(&rel, "scans/%s.cat", in->scan_id);
	for (size_t i = 0; i < np; i++)
		pp[i] = store_pack_find(v->st, store_catalog_pack_id(cat, (uint32_t)i));
	for (;;) {
		ws_error_clear(&e);
		if (store_catalog_next(cat, &rec, &e) != WS_OK) {
			/* The reader skips what is damaged: report and go on. */
			problem(v, STORE_PROBLEM_CATALOG, e.where, in->device,
				in->scan_id, NULL, e.msg);
			if (++errors > 1000)
				break;
			continue;
		}
		if (rec.kind == STORE_REC_END)
			break;
		if (rec.kind != STORE_REC_FILE)
			continue;
		const struct store_file *f = &rec.u.file;
		v->s->files_checked++;
		for (size_t c = 0; c < f->n_chunks; c++) {
			struct store_pack *p = pp[f->chunks[c].pack];
			const struct store_ix_entry *ie = NULL;
			const char *why = NULL;
			struct ws_buf obj = WS_BUF_INIT;

			store_rel_pack(&obj, store_catalog_pack_id(cat, f->chunks[c].pack),
				       store_pack_ext(p));
			if (!p || !p->has_tar)
				why = "its pack is missing";
			else if (p->vstate != 1)
				why = "its pack is damaged";
			else if (!(ie = store_pack_lookup(p, f->chunks[c].hash)) ||
				 ie->raw_len != f->chunks[c].raw_len)
				why = "a chunk is not in its pack";
			else if (p->vbad[ie - p->ix])
				why = "a chunk is damaged";
			if (why) {
				char m[200];
				snprintf(m, sizeof(m), "file lost content: %s", why);
				v->s->files_damaged++;
				problem(v, STORE_PROBLEM_FILE, obj.buf, in->device,
					in->scan_id, f->path, m);
				ws_buf_release(&obj);
				break;
			}
			ws_buf_release(&obj);
		}
	}
	free(pp);
	ws_buf_release(&rel);
}

/* A pack file's size on disk, for the progress of a deep check (0 when
 * it cannot be read: the check says why). */
static uint64_t pack_file_size(const struct store *st, const struct store_pack *p)
{
	struct ws_buf rel = WS_BUF_INIT, path = WS_BUF_INIT;
	struct stat sb;
	uint64_t n = 0;

	if (!p->has_tar)
		return 0;
	store_rel_pack(&rel, p->id, store_pack_ext(p));
	store_abs(st, &path, rel.buf);
	if (stat(path.buf, &sb) == 0)
		n = (uint64_t)sb.st_size;
	ws_buf_release(&rel);
	ws_buf_release(&path);
	return n;
}

int store_verify(struct store *st, const struct store_verify_opts *opts,
		 struct store_verify_stats *stats, struct ws_error *err)
{
	struct store_verify_opts none;
	struct store_verify_stats dummy;
	struct vctx v;
	char **ids = NULL;
	size_t n = 0, ncat = 0;
	struct store_catalog **cats = NULL;
	uint64_t n_check = 0, n_done = 0, bytes_all = 0, bytes_done = 0;
	int rc;

	if (!opts) {
		memset(&none, 0, sizeof(none));
		opts = &none;
	}
	if (!stats)
		stats = &dummy;
	memset(stats, 0, sizeof(*stats));
	v.st = st;
	v.o = opts;
	v.s = stats;
	/* Fresh view of the folder; pack objects stay (catalogs point to them). */
	for (size_t i = 0; i < st->n_packs; i++) {
		store_pack_release(st->packs[i]);
		st->packs[i]->has_tar = st->packs[i]->has_idx = 0;
	}
	rc = store_list_packs(st, err);
	if (!rc)
		rc = store_cat_list_ids(st, &ids, &n, err);
	if (rc)
		return rc;
	cats = ws_xcalloc(n + 1, sizeof(*cats));
	for (size_t i = 0; i < n; i++) {
		struct store_catalog *cat = NULL;
		struct ws_error e;
		struct ws_buf rel = WS_BUF_INIT;

		ws_error_clear(&e);
		rc = store_cat_load(st, ids[i], 1, &cat, &e);
		if (rc == WS_E_STORE) {
			if (err)
				*err = e;
			goto out;
		}
		rc = WS_OK;
		if (!cat) {
			ws_buf_addf(&rel, "scans/%s.cat", ids[i]);
			problem(&v, STORE_PROBLEM_CATALOG, rel.buf, NULL, ids[i], NULL,
				e.msg);
			ws_buf_release(&rel);
			continue;
		}
		if (opts->device && ws_name_casecmp(opts->device, store_catalog_info(cat)->device)) {
			store_catalog_free(cat);
			continue;
		}
		for (size_t k = 0; k < store_cat_n_packs(cat); k++) {
			struct store_pack *p = store_pack_find(st, store_catalog_pack_id(cat, (uint32_t)k));
			if (p)
				p->vref = 1;
		}
		cats[ncat++] = cat;
	}
	/* An unknown device is a slip, not a sound store; a device whose
	 * catalogs are all damaged has had them reported above. */
	if (opts->device && !ncat && !stats->problems) {
		rc = store_device_find(st, opts->device, NULL, 0, err);
		if (rc)
			goto out;
	}
	for (size_t i = 0; i < st->n_packs; i++) {
		struct store_pack *p = st->packs[i];

		if ((opts->device && !p->vref) || (!p->has_tar && !p->has_idx))
			continue;
		n_check++;
		bytes_all += pack_file_size(st, p);
	}
	for (size_t i = 0; i < st->n_packs; i++) {
		struct store_pack *p = st->packs[i];
		struct ws_progress_event ev = { "verify", opts->device, NULL, n_done, n_check,
						bytes_done, opts->deep ? bytes_all : 0,
						(unsigned)stats->problems, p->id };

		if ((opts->device && !p->vref) || (!p->has_tar && !p->has_idx))
			continue;
		if (opts->cancel && *opts->cancel) {
			rc = ws_error_set(err, WS_E_CANCELED, NULL, "stopped on request");
			goto out;
		}
		ws_progress_emit(opts->progress, &ev);
		check_pack(&v, p);
		n_done++;
		bytes_done += pack_file_size(st, p);
		if (p->fd >= 0)
			close(p->fd);
		p->fd = -1;
	}
	for (size_t i = 0; i < ncat; i++)
		check_catalog(&v, cats[i]);
	/* event records (whole store only: they are not a device's content) */
	if (!opts->device) {
		struct store_event_list el = STORE_EVENT_LIST_INIT;

		if ((rc = store_event_list(st, 0, &el, err)))
			goto out;
		stats->events = el.n + el.damaged;
		for (size_t i = 0; i < el.damaged; i++) {
			const char *why = strstr(el.damaged_why[i], ": ");
			struct ws_buf rel = WS_BUF_INIT;

			ws_buf_add(&rel, el.damaged_why[i],
				   why ? (size_t)(why - el.damaged_why[i]) : 0);
			problem(&v, STORE_PROBLEM_EVENT, rel.buf ? rel.buf : "events", NULL,
				NULL, NULL, why ? why + 2 : el.damaged_why[i]);
			ws_buf_release(&rel);
		}
		store_event_list_release(&el);
	}
	if (stats->problems)
		rc = ws_error_set(err, WS_E_CORRUPT, st->dir,
				  "%llu problem(s) found, %llu file(s) of scans lost content",
				  (unsigned long long)stats->problems,
				  (unsigned long long)stats->files_damaged);
out:
	for (size_t i = 0; i < ncat; i++)
		store_catalog_free(cats[i]);
	free(cats);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	for (size_t i = 0; i < st->n_packs; i++) {
		st->packs[i]->vref = 0;
		st->packs[i]->vstate = 0;
		free(st->packs[i]->vbad);
		st->packs[i]->vbad = NULL;
	}
	return rc;
}
