/*
 * store_writer.c - writing one scan: the dedup table over every complete
 * pack, chunking of file content, the pipeline that hashes and compresses
 * chunks on every core, the open pack, and the catalog, streamed into tmp/
 * (its body frames by a thread of their own) and renamed into scans/ last
 * so an interrupted scan stays invisible.
 */
#include "store/store_private.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "util/ws_fs.h"

/* A chunk the dedup table knows: stored in a pack of the store or by
 * this scan.  Entries are dense and found through a table of their
 * numbers: a store's chunks cost about 50 bytes each in memory, not the
 * 100 to 200 of slots in the table itself half empty. */
struct dd_ent {
	unsigned char hash[STORE_HASH_LEN];
	uint32_t pack;            /* in dd_packs */
	uint32_t raw_len;
};

/*
 * The pipeline (st->threads > 1):
 * - the caller's thread reads and cuts files and queues their chunks,
 *   copied into one ring of bytes (no allocation per chunk);
 * - workers hash chunks, look them up in the dedup table and compress the
 *   new ones; the caller's thread does not (with as many workers as cores,
 *   a third thread compressing only makes the threads take turns on the
 *   cores, each evicting the others' zstd tables from the cache);
 * - chunks are retired in queue order (dedup insert, pack append) and each
 *   file's record emitted once its chunks are retired, so packs and
 *   catalogs come out as a single-threaded writer writes them, whatever
 *   the threads' timing.  Whichever thread finds the oldest chunk done (or
 *   the oldest file ready) and nobody retiring does it, holding `busy`:
 *   mostly the worker that has just compressed that chunk, while its bytes
 *   are in its cache, and no thread sleeps and wakes per chunk for it.
 *   A record with nothing in flight before it (an unchanged file, a
 *   folder) is written by the caller's thread at once (pipe_is_idle):
 *   handing it to a worker would cost a lock, and a wake-up per batch,
 *   for no work done elsewhere.
 * Chunks in flight are bounded in number and bytes, so memory does not grow
 * with the profile.  Everything below the mutex is named in each field's
 * comment; the thread holding `busy` owns the packs, the dedup table's
 * inserts, the catalog and the stats while the pipeline runs, and they are
 * the caller's thread's again on a drain (every queued chunk and file
 * retired).
 */
#define PIPE_JOBS 128u                /* chunks in flight */
#define PIPE_FILES 1024u              /* file records waiting for their chunks */
/* The byte ring: plain bytes in flight, each chunk after one byte for its
 * blob's flags (plain stores encode blobs in place), plus a page so that
 * two of the largest chunks fit. */
#define PIPE_BYTES (STORE_PIPE_BYTES + 4096u)

enum { JOB_QUEUED, JOB_TAKEN, JOB_DONE };

struct wjob {
	uint64_t start, end;          /* its bytes in the byte ring (positions
					 that only grow; start % PIPE_BYTES):
					 a flags byte, then the chunk */
	size_t len;
	size_t blob_len;              /* blob encoded in place at start, or 0 */
	int compress;
	int state;                    /* under the mutex */
	int known;                    /* in the dedup table when hashed */
	uint64_t file;                /* number of its wfile */
	size_t ref;                   /* its index in the file's refs */
	unsigned char hash[STORE_HASH_LEN];
	struct ws_buf blob;           /* encoded by the worker unless known or
					 encoded in place */
};

/* What a thread that works on jobs needs of its own. */
struct wctx {
	struct store_zctx z;
	struct ws_buf scratch;        /* zstd output before it is copied in place */
};

struct prev_file;

struct wfile {
	struct store_file meta;       /* path owned */
	struct store_chunk_ref *refs; /* grown and filled under the mutex */
	size_t n_refs, a_refs, n_done;
	uint64_t size;
	const struct prev_file *prev; /* unchanged: its previous chunks */
	int sealed;                   /* every chunk submitted (mutex) */
	int dropped;                  /* read error: no record (mutex) */
};

struct wpipe;
struct wworker {
	struct store_writer *w;
	struct wctx c;
	pthread_t th;
	int started;
};

struct wpipe {
	pthread_mutex_t mu;
	pthread_cond_t work;          /* a job queued, or records to emit (workers) */
	pthread_cond_t freed;         /* a job retired or a file emitted (caller) */
	struct wworker *workers;
	size_t n_workers;
	struct wjob ring[PIPE_JOBS];
	uint64_t head, take, tail;    /* next to retire, to take, free slot */
	unsigned char *bytes;         /* the byte ring, PIPE_BYTES */
	struct wctx caller;           /* the caller's, for the chunks it retires */
	uint64_t bput, bget;          /* next free position, oldest in use */
	struct wfile files[PIPE_FILES];
	uint64_t fhead, ftail;
	int busy;                     /* a thread retires (outside the mutex) */
	int caller_waits;             /* the caller sleeps on `freed` */
	int emit_asked;               /* a worker was woken to emit records */
	int failed;                   /* the writer's first failure code and */
	struct ws_error fail_err;     /* error, for the caller (mutex) */
	int stop;
};

/* A file of the device's previous scan (unchanged files are not read);
 * 48 bytes: a rescan holds one per file. */
struct prev_file {
	unsigned char key[16];        /* prev_key of user and path */
	uint64_t size, written_ft, created_ft;
	uint32_t first;               /* its chunks in prev_chunks */
	uint32_t n : 31;
	uint32_t whole : 1;           /* every chunk's pack complete (load_prev) */
};

/* A body frame of the previous scan's catalog: an unchanged rescan
 * writes the same records, so the same frames (store_cat_on_body_frame). */
struct prev_frame {
	uint32_t no, sealed_len;      /* its number; sealed bytes after its header */
	uint64_t off;                 /* its header in the previous catalog */
	size_t len;                   /* plain payload */
	unsigned char h[16];          /* SipHash-128 of the payload (prev_hkey) */
};

/* 40 bytes, one per chunk of the previous scan's files. */
struct prev_chunk {
	unsigned char hash[STORE_HASH_LEN];
	uint32_t raw_len;
	uint32_t pack;                /* in prev_pack_list (load_prev) */
};

struct store_writer {
	struct store *st;
	struct wpipe *pipe;           /* NULL: single-threaded */
	int pipe_idle;                /* the caller's thread saw the pipeline
					 empty, sound and with nobody retiring,
					 and has queued nothing since: until it
					 does, nothing else runs there, and it
					 writes records itself (pipe_is_idle) */
	struct prev_file *prev;       /* in catalog order, found by prev_tab */
	size_t n_prev, a_prev;
	uint32_t *prev_tab;           /* open addressing: index + 1 in prev, 0 = empty */
	size_t prev_next;             /* after the last one found (prev_find) */
	unsigned char prev_hkey[crypto_shorthash_siphashx24_KEYBYTES];
	size_t prev_mask;
	struct prev_chunk *prev_chunks;
	struct store_pack **prev_pack_list; /* the previous catalog's pack table
					       (prev_packs: NULL where not complete) */
	size_t n_prev_chunks, a_prev_chunks;
	struct prev_frame *pframes;   /* in frame order */
	size_t n_pframes, a_pframes, pf_next;
	int prev_cat_fd;              /* the previous catalog, or -1 */
	struct prev_loader *pl;       /* reading it still, on a thread of its
					 own: prev_wait before any use */
	unsigned char prev_head[8];   /* its file header */
	char prev_cat_id[STORE_SCAN_ID_MAX];
	struct store_scan_info info;
	char prev_id[STORE_SCAN_ID_MAX]; /* the caller's info->scan_id */
	char **strs;                  /* copies of info strings */
	size_t n_strs;
	char scan_id[STORE_SCAN_ID_MAX];
	struct ws_buf marker, cat_tmp;
	int cat_fd;
	uint64_t cat_pos;
	uint32_t frame_no;
	struct ws_buf body;           /* pending body frame payload */
	struct frame_thread *ft;      /* writes body frames, or NULL: see
					 flush_body */
	struct ws_buf meta;           /* users, rules, apps records */
	uint32_t *user_ix, *rule_ix;
	size_t n_users, a_users, n_rules, a_rules;
	struct store_trailer tr;
	/* dedup: loaded when the first chunk is looked up (dd_need) */
	struct dd_ent *dd;            /* dd_used of them, in insertion order */
	size_t dd_used, dd_alloc;
	uint32_t *dd_tab;             /* open addressing: entry number + 1, 0 = empty */
	size_t dd_cap;                /* power of 2, at least twice dd_used; 0 = none */
	uint64_t dd_mul;              /* random, odd: a slot is the top bits of a
					 hash's first 8 bytes times it */
	unsigned dd_shift;            /* 64 - log2(dd_cap) */
	struct store_pack **dd_packs; /* the packs entries name */
	size_t n_dd_packs, a_dd_packs;
	int dd_loaded;
	/* catalog pack table, in wno order */
	struct store_pack **wpacks;
	size_t n_wpacks, a_wpacks;
	/* open pack */
	struct store_packw *pw;
	struct store_pack *pw_pack;
	struct store_ix_entry *pix;
	size_t n_pix, a_pix;
	/* content */
	struct store_cdc cdc;
	size_t buf_len;               /* STORE_CDC_FACTOR chunk-sizes: the
					 threshold of content-defined chunking */
	unsigned char *chunk;
	struct store_chunk_ref *refs;
	size_t a_refs;
	struct store_write_stats stats;
	time_t last_touch;
	int failed;                   /* code of a failed write into the store:
					 the scan cannot be committed */
	struct ws_error fail_err;     /* its error, for the commit to report
					 (a chunk in flight may fail late) */
};

/*
 * A hash's first slot.  Content hashes of a plain store are plain SHA-256
 * or BLAKE2b: content on a source could be made whose hashes share their
 * low bits and pile up in one run of slots (each insertion then walking
 * all of them).  Multiplied by a key of the writer's and the top bits
 * taken, they spread whatever the content.
 */
static size_t dd_pos(const struct store_writer *w, const unsigned char *h)
{
	uint64_t k;

	memcpy(&k, h, sizeof(k));
	return (size_t)((k * w->dd_mul) >> w->dd_shift);
}

/* The table slot of hash h: its entry's, or the empty one it would take;
 * *probes (may be NULL) counts the slots looked at past the first. */
static size_t dd_slot_of(const struct store_writer *w, const unsigned char *h,
			 uint64_t *probes)
{
	size_t i = dd_pos(w, h), n = 0;

	while (w->dd_tab[i] && memcmp(w->dd[w->dd_tab[i] - 1].hash, h, STORE_HASH_LEN)) {
		i = (i + 1) & (w->dd_cap - 1);
		n++;
	}
	if (probes)
		*probes += n;
	return i;
}

/* The entry of hash h, or NULL. */
static const struct dd_ent *dd_get(const struct store_writer *w, const unsigned char *h)
{
	size_t i;

	if (!w->dd_cap)
		return NULL;
	i = dd_slot_of(w, h, NULL);
	return w->dd_tab[i] ? &w->dd[w->dd_tab[i] - 1] : NULL;
}

static void dd_insert_locked(struct store_writer *w, const unsigned char *h,
			     struct store_pack *p, uint32_t raw_len);

/* Workers read the table: the caller's thread changes it under the mutex. */
static void dd_insert(struct store_writer *w, const unsigned char *h,
		      struct store_pack *p, uint32_t raw_len)
{
	if (w->pipe)
		pthread_mutex_lock(&w->pipe->mu);
	dd_insert_locked(w, h, p, raw_len);
	if (w->pipe)
		pthread_mutex_unlock(&w->pipe->mu);
}

/* Entry numbers are 32-bit: past this many chunks (4 billion) the table
 * takes no more, and a chunk it does not know is stored again. */
#define DD_MAX ((size_t)UINT32_MAX - 1)

/*
 * Room for `more` entries, the table at most half full, grown in one step
 * (a pack's whole index at a time: no rehash per doubling).  The new table
 * is written (zeroed) before it is read: calloc's fresh pages are the
 * shared zero page until written, and each first write into one then
 * costs a copy-on-write fault that flushes the other cores' TLBs while the
 * previous catalog is read on another thread.
 */

static void dd_reserve_locked(struct store_writer *w, size_t more)
{
	size_t need, cap = w->dd_cap ? w->dd_cap : 1024;

	if (more > DD_MAX - w->dd_used)
		more = DD_MAX - w->dd_used;
	need = w->dd_used + more;
	if (need > w->dd_alloc) {
		size_t a = w->dd_alloc + w->dd_alloc / 2 + 64;

		w->dd_alloc = a > need ? a : need;
		w->dd = ws_xrealloc(w->dd, w->dd_alloc * sizeof(*w->dd));
	}
	while (need * 2 > cap)
		cap *= 2;
	if (cap == w->dd_cap)
		return;
	free(w->dd_tab);
	w->dd_tab = ws_xmalloc(cap * sizeof(*w->dd_tab));
	memset(w->dd_tab, 0, cap * sizeof(*w->dd_tab));
	if (!w->dd_cap) {
		randombytes_buf(&w->dd_mul, sizeof(w->dd_mul));
		w->dd_mul |= 1;
	}
	w->dd_cap = cap;
	w->dd_shift = 64;
	while (cap > 1) {
		cap >>= 1;
		w->dd_shift--;
	}
	for (size_t n = 0; n < w->dd_used; n++)
		w->dd_tab[dd_slot_of(w, w->dd[n].hash, NULL)] = (uint32_t)n + 1;
}

static void dd_insert_locked(struct store_writer *w, const unsigned char *h,
			     struct store_pack *p, uint32_t raw_len)
{
	struct dd_ent *e;
	size_t i;

	if (w->dd_used >= DD_MAX)
		return;
	dd_reserve_locked(w, 1);
	i = dd_slot_of(w, h, &w->stats.dd_probes);
	if (w->dd_tab[i])
		return; /* first copy wins */
	/* the pack of the entries before it, mostly (a pack's index, or the
	 * pack being written) */
	if (!w->n_dd_packs || w->dd_packs[w->n_dd_packs - 1] != p) {
		WS_ALLOC_GROW(w->dd_packs, w->n_dd_packs + 1, w->a_dd_packs);
		w->dd_packs[w->n_dd_packs++] = p;
	}
	e = &w->dd[w->dd_used++];
	memcpy(e->hash, h, STORE_HASH_LEN);
	e->pack = (uint32_t)(w->n_dd_packs - 1);
	e->raw_len = raw_len;
	w->dd_tab[i] = (uint32_t)w->dd_used;
}

static const char *keep_str(struct store_writer *w, const char *s)
{
	if (!s)
		return NULL;
	w->strs = ws_xrealloc(w->strs, (w->n_strs + 1) * sizeof(char *));
	w->strs[w->n_strs] = ws_xstrdup(s);
	return w->strs[w->n_strs++];
}

static int close_pack(struct store_writer *w, struct ws_error *err);
static void prev_wait(struct store_writer *w);
static void pipe_start(struct store_writer *w, unsigned n);
static long pack_no(struct store_writer *w, struct store_pack *p);
static void pipe_free(struct store_writer *w);
static int pipe_drain(struct store_writer *w, struct ws_error *err);

/*
 * A write into the store failed: remember it (the scan cannot be committed
 * any more) and, when the disk is full, close the open pack if it can be
 * closed so a rerun deduplicates against what it holds.
 */
static int writer_fail(struct store_writer *w, int rc, struct ws_error *err)
{
	if (!w->failed)
		w->failed = rc;
	if (w->pw && rc == WS_E_NOSPACE) {
		struct ws_error e2;
		int failed = w->failed;

		ws_error_clear(&e2);
		close_pack(w, &e2);
		w->failed = failed;
	}
	return store_nospace_hint(w->st, rc, err);
}

/* The writer failed earlier: its first error (with the store's hint when
 * the disk is full), since a chunk in flight may have failed after its
 * file's call returned. */
static int failed_rc(struct store_writer *w, struct ws_error *err)
{
	if (w->fail_err.code) {
		if (err)
			*err = w->fail_err;
		return w->failed;
	}
	return ws_error_set(err, w->failed, w->st->dir,
			    "an earlier write into the store failed: the scan cannot be completed");
}

/* Append to the catalog; a failure is only returned (frame_write). */
static int cat_append(struct store_writer *w, const struct ws_buf *b,
		      struct ws_error *err)
{
	int e = store_write_all(w->st, w->cat_fd, w->cat_tmp.buf, b->buf, b->len);

	if (e)
		return ws_error_set_errno(err, WS_E_IO, e, w->cat_tmp.buf,
					  "cannot write catalog");
	w->cat_pos += b->len;
	return WS_OK;
}

static int cat_write(struct store_writer *w, const struct ws_buf *b,
		     struct ws_error *err)
{
	int rc = cat_append(w, b, err);

	return rc ? writer_fail(w, rc, err) : WS_OK;
}

static int emit_frame(struct store_writer *w, unsigned kind, const void *pl,
		      size_t len, struct ws_error *err)
{
	struct ws_buf f = WS_BUF_INIT;
	int rc;

	store_cat_frame(w->st, w->scan_id, w->frame_no, kind, pl, len, &f);
	rc = cat_write(w, &f, err);
	w->frame_no++;
	ws_buf_release(&f);
	return rc;
}

/*
 * The body frame now due as the previous catalog has it, when its payload
 * is the same (an unchanged rescan: same records, same frame boundaries):
 * its deflated bytes unsealed and sealed again for this catalog, into
 * `out`; 0 when it cannot be (the payload differs, the frame is gone or
 * damaged): the caller deflates.  Payloads are compared by a keyed hash:
 * names on a source cannot be chosen to collide with it.
 */
static int reuse_frame(struct store_writer *w, const void *pl, size_t len,
		       struct ws_buf *out)
{
	struct ws_buf sealed = WS_BUF_INIT, z = WS_BUF_INIT, ad = WS_BUF_INIT;
	const struct prev_frame *f;
	unsigned char h[16];
	int ok = 0;

	prev_wait(w);
	while (w->pf_next < w->n_pframes && w->pframes[w->pf_next].no < w->frame_no)
		w->pf_next++;
	if (w->prev_cat_fd < 0 || w->pf_next >= w->n_pframes)
		return 0;
	/* its compressed bytes are kept: only into a catalog that compresses
	 * as it does (a 4.0 header over older catalogs: zlib, not zstd) */
	if ((w->prev_head[5] >= STORE_CAT_MAJOR_ZSTD) !=
	    (store_cat_major(w->st) >= STORE_CAT_MAJOR_ZSTD))
		return 0;
	f = &w->pframes[w->pf_next];
	if (f->no != w->frame_no || f->len != len)
		return 0;
	crypto_shorthash_siphashx24(h, pl, len, w->prev_hkey);
	if (memcmp(h, f->h, sizeof(h)))
		return 0;
	ws_buf_grow(&sealed, f->sealed_len);
	if (store_read_at(w->prev_cat_fd, sealed.buf, f->sealed_len, f->off + 5) != 0)
		goto out;
	ws_buf_setlen(&sealed, f->sealed_len);
	store_cat_frame_ad(&ad, w->prev_head, w->prev_cat_id, f->no, FR_BODY);
	if (store_unseal(w->st, w->st->k_cat, ad.buf, ad.len, sealed.buf, sealed.len, &z) != 0)
		goto out;
	ws_buf_reset(&ad);
	store_cat_frame_sealed(w->st, w->scan_id, w->frame_no, FR_BODY, z.buf, z.len, out);
	ok = 1;
out:
	ws_buf_release(&sealed);
	ws_buf_release(&z);
	ws_buf_release(&ad);
	return ok;
}

/* Room for a whole frame in the body payload before records are added:
 * grown a record at a time, it is copied a dozen times per frame. */
static void body_reserve(struct store_writer *w)
{
	ws_buf_grow(&w->body, STORE_FRAME_TARGET + 64 * 1024);
}

/* Write the body frame of payload `pl`, the previous scan's when it is the
 * same; *reused set then.  A failure is only returned (no writer_fail):
 * this runs on the frame thread too. */
static int frame_write(struct store_writer *w, const struct ws_buf *pl,
		       int *reused, struct ws_error *err)
{
	struct ws_buf f = WS_BUF_INIT;
	int rc;

	*reused = reuse_frame(w, pl->buf, pl->len, &f);
	if (!*reused)
		store_cat_frame(w->st, w->scan_id, w->frame_no, FR_BODY, pl->buf, pl->len, &f);
	rc = cat_append(w, &f, err);
	w->frame_no++;
	ws_buf_release(&f);
	return rc;
}

/*
 * Body frames written on a thread of their own.  Writing one is hashing
 * its payload against the previous scan's frame and, for an unchanged
 * rescan, unsealing and sealing that frame again, or else compressing and
 * sealing it: a few milliseconds per frame that would otherwise hold up
 * the thread adding records (the walk's, on an unchanged rescan).  One
 * payload waits at most while another is written.  From the first hand-
 * over until ft_drain, the frame thread owns frame_no, cat_pos, the
 * catalog descriptor and the previous catalog's frames; failures and
 * frames reused wait in the struct for ft_drain.
 */
struct frame_thread {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;            /* a payload handed over, taken or written */
	struct ws_buf slot;           /* the payload handed over (full) */
	int full, busy, stop;
	unsigned long reused;         /* frames reused since the last drain */
	int rc;                       /* first failure, and its error */
	struct ws_error err;
};

static void *frame_main(void *arg)
{
	struct store_writer *w = arg;
	struct frame_thread *ft = w->ft;
	struct ws_buf pl = WS_BUF_INIT, tmp;

	pthread_mutex_lock(&ft->mu);
	for (;;) {
		struct ws_error e;
		int reused = 0, rc = WS_OK;

		while (!ft->full && !ft->stop)
			pthread_cond_wait(&ft->cv, &ft->mu);
		if (!ft->full)
			break;
		tmp = ft->slot; /* take it: the slot gets the emptied buffer */
		ft->slot = pl;
		pl = tmp;
		ft->full = 0;
		ft->busy = 1;
		pthread_cond_broadcast(&ft->cv);
		/* after a failure the scan is lost: nothing more is written */
		if (!ft->rc) {
			pthread_mutex_unlock(&ft->mu);
			ws_error_clear(&e);
			rc = frame_write(w, &pl, &reused, &e);
			pthread_mutex_lock(&ft->mu);
		}
		ws_buf_reset(&pl);
		ft->reused += (unsigned long)reused;
		if (rc && !ft->rc) {
			ft->rc = rc;
			ft->err = e;
		}
		ft->busy = 0;
		pthread_cond_broadcast(&ft->cv);
	}
	pthread_mutex_unlock(&ft->mu);
	ws_buf_release(&pl);
	return NULL;
}

/* Wait until every payload handed over is written; its failure, as any
 * writer failure (the frame thread cannot close packs or touch `failed`). */
static int ft_drain(struct store_writer *w, struct ws_error *err)
{
	struct frame_thread *ft = w->ft;
	struct ws_error e;
	int rc;

	if (!ft)
		return WS_OK;
	pthread_mutex_lock(&ft->mu);
	while (ft->full || ft->busy)
		pthread_cond_wait(&ft->cv, &ft->mu);
	w->stats.frames_reused += ft->reused;
	ft->reused = 0;
	rc = ft->rc;
	e = ft->err;
	pthread_mutex_unlock(&ft->mu);
	if (!rc)
		return WS_OK;
	if (err)
		*err = e;
	return writer_fail(w, rc, err);
}

static void ft_stop(struct store_writer *w)
{
	struct frame_thread *ft = w->ft;

	if (!ft)
		return;
	pthread_mutex_lock(&ft->mu);
	ft->stop = 1;
	pthread_cond_broadcast(&ft->cv);
	pthread_mutex_unlock(&ft->mu);
	pthread_join(ft->th, NULL);
	ws_buf_release(&ft->slot);
	pthread_mutex_destroy(&ft->mu);
	pthread_cond_destroy(&ft->cv);
	free(ft);
	w->ft = NULL;
}

/* Hand the body payload to the frame thread, started on the first one
 * (0), or -1 when there is none to be had. */
static int ft_hand(struct store_writer *w, struct ws_error *err)
{
	struct frame_thread *ft = w->ft;
	struct ws_buf tmp;
	int rc;

	if (!ft) {
		if (w->st->threads < 2)
			return -1;
		ft = ws_xcalloc(1, sizeof(*ft));
		ws_buf_init(&ft->slot);
		pthread_mutex_init(&ft->mu, NULL);
		pthread_cond_init(&ft->cv, NULL);
		w->ft = ft;
		if (pthread_create(&ft->th, NULL, frame_main, w) != 0) {
			pthread_mutex_destroy(&ft->mu);
			pthread_cond_destroy(&ft->cv);
			free(ft);
			w->ft = NULL;
			return -1;
		}
	}
	pthread_mutex_lock(&ft->mu);
	while (ft->full)
		pthread_cond_wait(&ft->cv, &ft->mu);
	rc = ft->rc;
	if (!rc) {
		tmp = ft->slot;
		ft->slot = w->body;
		w->body = tmp;
		ft->full = 1;
		pthread_cond_broadcast(&ft->cv);
	}
	pthread_mutex_unlock(&ft->mu);
	ws_buf_reset(&w->body);
	body_reserve(w);
	/* a frame failed: the scan is lost, as it is told at once here */
	return rc ? ft_drain(w, err) : 0;
}

static int flush_body(struct store_writer *w, int force, struct ws_error *err)
{
	int rc, reused;

	if (!w->body.len || (!force && w->body.len < STORE_FRAME_TARGET))
		return force ? ft_drain(w, err) : WS_OK;
	/* the previous scan is read before its frames are compared, and on
	 * this thread: the frame thread never waits for it */
	prev_wait(w);
	rc = ft_hand(w, err);
	if (rc >= 0)
		return rc || !force ? rc : ft_drain(w, err);
	rc = frame_write(w, &w->body, &reused, err);
	w->stats.frames_reused += (unsigned long)reused;
	ws_buf_reset(&w->body);
	return rc ? writer_fail(w, rc, err) : WS_OK;
}

/* Keep the marker young so prune knows this writer is alive. */
static void touch_marker(struct store_writer *w)
{
	w->last_touch = time(NULL);
	utimensat(AT_FDCWD, w->marker.buf, NULL, 0);
}

/* load_prev on a thread of its own. */
struct prev_loader {
	struct store_writer *w;
	pthread_t t;
};

static void load_prev(struct store_writer *w);

static void *load_prev_thread(void *arg)
{
	struct prev_loader *l = arg;

	load_prev(l->w);
	return NULL;
}

/*
 * Wait until the previous scan is read (its files, frames and the packs
 * of their chunks): the caller's thread, before anything that looks at
 * them, at the store's pack list or at the dedup table.  Until then the
 * caller only prepares (a selection compiled, folders listed, users and
 * rules recorded) while the loader thread reads.
 */
static void prev_wait(struct store_writer *w)
{
	struct prev_loader *l = w->pl;

	if (!l)
		return;
	pthread_join(l->t, NULL);
	free(l);
	w->pl = NULL;
}

static void writer_free(struct store_writer *w)
{
	prev_wait(w);
	ft_stop(w);
	for (size_t i = 0; i < w->n_strs; i++)
		free(w->strs[i]);
	free(w->strs);
	if (w->cat_fd >= 0)
		close(w->cat_fd);
	ws_buf_release(&w->marker);
	ws_buf_release(&w->cat_tmp);
	ws_buf_release(&w->body);
	ws_buf_release(&w->meta);
	free(w->user_ix);
	free(w->rule_ix);
	free(w->dd);
	free(w->dd_tab);
	free(w->dd_packs);
	free(w->wpacks);
	free(w->pix);
	free(w->chunk);
	free(w->refs);
	free(w->prev);
	free(w->prev_tab);
	free(w->prev_chunks);
	free(w->prev_pack_list);
	free(w->pframes);
	if (w->prev_cat_fd >= 0)
		close(w->prev_cat_fd);
	for (size_t i = 0; i < w->st->n_packs; i++)
		w->st->packs[i]->wno = -1;
	free(w);
}

/*
 * Before the first chunk is looked up (the caller's thread, nothing in
 * flight yet): load the index of every pack listed complete when the
 * scan began into the dedup table.  An unchanged rescan never needs it:
 * its files are found where the previous scan put them (load_prev), and
 * a store of many devices keeps its indexes on disk.  The packs were
 * listed at the scan's beginning, after its marker: as safe against
 * prune as reading their indexes then (docs/store-format.md §8).
 */
static void dd_need(struct store_writer *w)
{
	struct store *st = w->st;

	if (w->dd_loaded)
		return;
	w->dd_loaded = 1;
	prev_wait(w);
	for (size_t i = 0; i < st->n_packs; i++) {
		struct store_pack *p = st->packs[i];
		struct ws_error e2;

		/* Only packs whose index is present and readable in full:
		 * a pack without .idx is either being written or being
		 * pruned (docs/store-format.md). */
		if (!p->has_idx || !p->has_tar)
			continue;
		ws_error_clear(&e2);
		if (store_pack_load(st, p, &e2) != WS_OK) {
			ws_logf(st->log, WS_LOG_WARN, e2.where,
				"pack not used for deduplication: %s", e2.msg);
			continue;
		}
		w->stats.indexes_read++;
		/* no chunk is in flight yet: the lock for form's sake */
		if (w->pipe)
			pthread_mutex_lock(&w->pipe->mu);
		dd_reserve_locked(w, p->n_ix);
		for (size_t k = 0; k < p->n_ix; k++)
			dd_insert_locked(w, p->ix[k].hash, p, p->ix[k].raw_len);
		if (w->pipe)
			pthread_mutex_unlock(&w->pipe->mu);
		/* Indexes are not needed in memory any more. */
		free(p->ix);
		p->ix = NULL;
		p->n_ix = 0;
		p->loaded = 0;
	}
}

/* A file's key in the previous scan's table: SipHash-128 of its path under
 * the writer's random key with the user mixed in (keyed: names on a source
 * cannot be chosen to collide; about a third of BLAKE2b's time on a path). */
static void prev_key(const struct store_writer *w, uint32_t user, const char *path,
		     unsigned char key[16])
{
	unsigned char k[crypto_shorthash_siphashx24_KEYBYTES];

	memcpy(k, w->prev_hkey, sizeof(k));
	k[0] ^= (unsigned char)user;
	k[1] ^= (unsigned char)(user >> 8);
	k[2] ^= (unsigned char)(user >> 16);
	k[3] ^= (unsigned char)(user >> 24);
	crypto_shorthash_siphashx24(key, (const unsigned char *)path, strlen(path), k);
}

/* The key's slot in prev_tab: the key is a hash already. */
static size_t prev_slot(const struct store_writer *w, const unsigned char key[16])
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return (size_t)h & w->prev_mask;
}

static void prev_frame_seen(void *ctx, uint32_t no, uint64_t off, uint32_t sealed_len,
			    const unsigned char h[16], size_t len)
{
	struct store_writer *w = ctx;
	struct prev_frame *f;

	WS_ALLOC_GROW(w->pframes, w->n_pframes + 1, w->a_pframes);
	f = &w->pframes[w->n_pframes++];
	f->no = no;
	f->off = off;
	f->sealed_len = sealed_len;
	f->len = len;
	memcpy(f->h, h, sizeof(f->h));
}

static int pack_id_cmp(const void *a, const void *b)
{
	return strcmp((*(struct store_pack *const *)a)->id, (*(struct store_pack *const *)b)->id);
}

/*
 * The previous catalog's pack table as the store's packs listed when the
 * scan began, NULL for each pack not complete then (no .idx or no pack
 * file: being pruned, or damaged).  Packs never change once complete, so
 * a chunk is still where the previous scan's commit found it.
 */
static struct store_pack **prev_packs(struct store_writer *w,
				      const struct store_catalog *cat)
{
	struct store *st = w->st;
	size_t n = store_cat_n_packs(cat), m = st->n_packs;
	struct store_pack **byid = ws_xmalloc((m ? m : 1) * sizeof(*byid)), **out;

	out = ws_xcalloc(n ? n : 1, sizeof(*out));
	if (m)
		memcpy(byid, st->packs, m * sizeof(*byid));
	qsort(byid, m, sizeof(*byid), pack_id_cmp);
	for (size_t i = 0; i < n; i++) {
		struct store_pack key, *kp = &key, **hit;

		memcpy(key.id, store_catalog_pack_id(cat, (uint32_t)i), sizeof(key.id));
		hit = bsearch(&kp, byid, m, sizeof(*byid), pack_id_cmp);
		if (hit && (*hit)->has_idx && (*hit)->has_tar)
			out[i] = *hit;
	}
	free(byid);
	return out;
}

/* The files of the device's newest scan, when there is one (any failure:
 * none, every file is read), and its body frames (reuse_frame). */
static void load_prev(struct store_writer *w)
{
	struct store_catalog *cat;
	struct store_record rec;
	struct ws_buf path = WS_BUF_INIT, rel = WS_BUF_INIT;
	struct store_pack **packs;

	if (w->st->reread ||
	    store_catalog_open(w->st, w->info.device, w->prev_id[0] ? w->prev_id : NULL,
			       &cat, NULL) != WS_OK)
		return;
	/* its own descriptor: the frames are read again while this scan's
	 * catalog is written */
	snprintf(w->prev_cat_id, sizeof(w->prev_cat_id), "%s", store_cat_scan_id(cat));
	memcpy(w->prev_head, store_cat_head(cat), sizeof(w->prev_head));
	ws_buf_addf(&rel, "scans/%s.cat", w->prev_cat_id);
	store_abs(w->st, &path, rel.buf);
	w->prev_cat_fd = open(path.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ws_buf_release(&path);
	ws_buf_release(&rel);
	if (w->prev_cat_fd >= 0)
		store_cat_on_body_frame(cat, prev_frame_seen, w, w->prev_hkey);
	store_cat_prefetch(cat);
	packs = prev_packs(w, cat);
	while (store_catalog_next(cat, &rec, NULL) == WS_OK && rec.kind != STORE_REC_END) {
		const struct store_file *f = &rec.u.file;
		struct prev_file *pf;

		/* empty files too: a record without chunks, never opened;
		 * past 2^31 chunks of a file or 2^32 in all (never in
		 * practice) the file is read again */
		if (rec.kind != STORE_REC_FILE || (!f->n_chunks && f->size) ||
		    !f->written_ft ||
		    (f->flags & (STORE_FILE_DIR | STORE_FILE_NOT_CAPTURED)) ||
		    f->n_chunks > 0x7FFFFFFFu || f->n_chunks > UINT32_MAX - w->n_prev_chunks)
			continue;
		WS_ALLOC_GROW(w->prev, w->n_prev + 1, w->a_prev);
		pf = &w->prev[w->n_prev++];
		prev_key(w, f->user, f->path, pf->key);
		pf->size = f->size;
		pf->written_ft = f->written_ft;
		pf->created_ft = f->created_ft;
		pf->first = (uint32_t)w->n_prev_chunks;
		pf->n = (uint32_t)f->n_chunks;
		pf->whole = 1;
		WS_ALLOC_GROW(w->prev_chunks, w->n_prev_chunks + f->n_chunks, w->a_prev_chunks);
		for (size_t i = 0; i < f->n_chunks; i++) {
			struct prev_chunk *c = &w->prev_chunks[w->n_prev_chunks++];

			memcpy(c->hash, f->chunks[i].hash, STORE_HASH_LEN);
			c->raw_len = f->chunks[i].raw_len;
			/* the reader checked the number against the table */
			c->pack = f->chunks[i].pack;
			if (!packs[c->pack])
				pf->whole = 0;
		}
	}
	w->prev_pack_list = packs;
	store_catalog_free(cat);
	if (!w->n_prev)
		return;
	/* a table at most half full: a lookup per walked file costs one or
	 * two key comparisons */
	w->prev_mask = 15;
	while (w->prev_mask + 1 < 2 * w->n_prev)
		w->prev_mask = w->prev_mask * 2 + 1;
	w->prev_tab = ws_xcalloc(w->prev_mask + 1, sizeof(*w->prev_tab));
	for (size_t i = 0; i < w->n_prev; i++) {
		size_t k = prev_slot(w, w->prev[i].key);

		while (w->prev_tab[k])
			k = (k + 1) & w->prev_mask;
		w->prev_tab[k] = (uint32_t)i + 1;
	}
}

/* A rescan walks the files in the previous scan's order: the one after
 * the last found is tried first (memory read in order), then the table. */
static const struct prev_file *prev_find(struct store_writer *w,
					 const unsigned char key[16])
{
	if (w->prev_next < w->n_prev && !memcmp(w->prev[w->prev_next].key, key, 16))
		return &w->prev[w->prev_next++];
	for (size_t k = prev_slot(w, key); w->prev_tab[k]; k = (k + 1) & w->prev_mask) {
		const struct prev_file *pf = &w->prev[w->prev_tab[k] - 1];

		if (!memcmp(pf->key, key, 16)) {
			w->prev_next = w->prev_tab[k];
			return pf;
		}
	}
	return NULL;
}

/*
 * The previous scan's record of this file when it is unchanged (size and
 * both times equal) and every pack it has chunks in was complete when the
 * scan began (none is removed while it runs: prune sees its marker); NULL
 * else.
 */
static const struct prev_file *prev_unchanged(struct store_writer *w,
					      const struct store_file *meta)
{
	unsigned char key[16];
	const struct prev_file *pf;

	/* a creation time of 0 (unknown on some sources) compares equal */
	if (!w->n_prev || !meta->written_ft)
		return NULL;
	prev_key(w, meta->user, meta->path, key);
	pf = prev_find(w, key);
	if (!pf || !pf->whole || pf->size != meta->size ||
	    pf->written_ft != meta->written_ft || pf->created_ft != meta->created_ft)
		return NULL;
	return pf;
}

/* Fill refs from an unchanged file's previous chunks (counted as chunks
 * referenced, none new). */
static void prev_refs(struct store_writer *w, const struct prev_file *pf,
		      struct store_chunk_ref *refs)
{
	for (size_t i = 0; i < pf->n; i++) {
		const struct prev_chunk *c = &w->prev_chunks[pf->first + i];

		memcpy(refs[i].hash, c->hash, STORE_HASH_LEN);
		refs[i].raw_len = c->raw_len;
		refs[i].pack = (uint32_t)pack_no(w, w->prev_pack_list[c->pack]);
		w->stats.chunks++;
		w->stats.bytes += c->raw_len;
	}
	w->stats.files_unchanged++;
}

int store_scan_begin(struct store *st, const struct store_scan_info *info,
		     struct store_writer **out, struct ws_error *err)
{
	struct store_writer *w;
	struct ws_buf head = WS_BUF_INIT, rel = WS_BUF_INIT;
	const char **rf = NULL;
	int rc, fd;

	*out = NULL;
	if (!info || !info->device || !*info->device)
		return ws_error_set(err, WS_E_USAGE, st->dir, "a scan needs a device name");
	if (info->system_drive && !(info->system_drive >= 'A' && info->system_drive <= 'Z'))
		return ws_error_set(err, WS_E_USAGE, info->device, "system drive must be A..Z");
	w = ws_xcalloc(1, sizeof(*w));
	w->st = st;
	w->cat_fd = -1;
	w->prev_cat_fd = -1;
	ws_buf_init(&w->marker);
	ws_buf_init(&w->cat_tmp);
	ws_buf_init(&w->body);
	body_reserve(w);
	ws_buf_init(&w->meta);
	for (size_t i = 0; i < st->n_packs; i++)
		st->packs[i]->wno = -1;
	w->info = *info;
	memcpy(w->prev_id, info->scan_id, sizeof(w->prev_id));
	w->prev_id[sizeof(w->prev_id) - 1] = '\0';
	randombytes_buf(w->prev_hkey, sizeof(w->prev_hkey));
	store_make_id(st, w->scan_id, &w->info.started_ns);
	memcpy(w->info.scan_id, w->scan_id, sizeof(w->scan_id));
	w->info.device = keep_str(w, info->device);
	w->info.computer = keep_str(w, info->computer);
	w->info.os_product = keep_str(w, info->os_product);
	w->info.os_build = keep_str(w, info->os_build);
	w->info.os_edition = keep_str(w, info->os_edition);
	w->info.os_arch = keep_str(w, info->os_arch);
	w->info.tool_version = keep_str(w, info->tool_version);
	if (!w->info.system_drive)
		w->info.system_drive = 'C';
	if (!w->info.started)
		w->info.started = (int64_t)time(NULL);
	if (info->n_rule_files) {
		rf = ws_xcalloc(info->n_rule_files, sizeof(*rf));
		for (size_t i = 0; i < info->n_rule_files; i++)
			rf[i] = keep_str(w, info->rule_files[i]);
	}
	w->info.rule_files = rf;
	for (size_t i = 0; i < 2; i++) {
		ws_buf_reset(&rel);
		store_abs(st, &rel, i ? "tmp" : "scans");
		rc = ws_mkdir_p(rel.buf, WS_E_STORE, err);
		if (rc)
			goto fail;
	}
	ws_buf_reset(&rel);
	/* The marker first: prune must see us before we read any index. */
	ws_buf_addf(&rel, "scans/%s.open", w->scan_id);
	store_abs(st, &w->marker, rel.buf);
	rc = store_fault(st, w->marker.buf);
	fd = rc ? -1 : open(w->marker.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = ws_error_set_errno(err, WS_E_STORE, rc ? rc : errno, w->marker.buf,
					"cannot create scan marker");
		ws_buf_reset(&w->marker);
		goto fail;
	}
	close(fd);
	w->last_touch = time(NULL);
	/* The packs complete now, after the marker (prune sees it): the only
	 * ones this scan references (dd_need, load_prev). */
	rc = store_list_packs(st, err);
	if (rc)
		goto fail;
	{
		/* the previous scan's files are read on another thread while
		 * the caller prepares its walk (prev_wait) */
		struct prev_loader *l = ws_xcalloc(1, sizeof(*l));

		l->w = w;
		if (st->threads > 1 && pthread_create(&l->t, NULL, load_prev_thread, l) == 0) {
			w->pl = l;
		} else {
			free(l);
			load_prev(w);
		}
	}
	store_abs(st, &w->cat_tmp, "tmp/");
	ws_buf_addf(&w->cat_tmp, "%s.cat.part", w->scan_id);
	rc = store_fault(st, w->cat_tmp.buf);
	w->cat_fd = rc ? -1 : open(w->cat_tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (w->cat_fd < 0) {
		rc = ws_error_set_errno(err, WS_E_STORE, rc ? rc : errno, w->cat_tmp.buf,
					"cannot create catalog");
		ws_buf_reset(&w->cat_tmp);
		goto fail;
	}
	store_cat_file_header(st, &head);
	rc = cat_write(w, &head, err);
	ws_buf_reset(&head);
	store_enc_head(&head, &w->info);
	if (!rc)
		rc = emit_frame(w, FR_HEAD, head.buf, head.len, err);
	if (rc)
		goto fail;
	store_cdc_init(&w->cdc, st->chunk_size);
	w->buf_len = (size_t)STORE_CDC_FACTOR * st->chunk_size;
	w->chunk = ws_xmalloc(w->buf_len);
	pipe_start(w, st->threads);
	ws_buf_release(&head);
	ws_buf_release(&rel);
	*out = w;
	return WS_OK;
fail:
	ws_buf_release(&head);
	ws_buf_release(&rel);
	w->info.rule_files = NULL;
	free(rf);
	store_scan_abort(w);
	return store_nospace_hint(st, rc, err);
}

const char *store_writer_scan_id(const struct store_writer *w)
{
	return w->scan_id;
}

static int check_dup(uint32_t **arr, size_t *n, size_t *alloc, uint32_t v)
{
	for (size_t i = 0; i < *n; i++)
		if ((*arr)[i] == v)
			return -1;
	WS_ALLOC_GROW(*arr, *n + 1, *alloc);
	(*arr)[(*n)++] = v;
	return 0;
}

int store_scan_add_user(struct store_writer *w, const struct store_user *u,
			struct ws_error *err)
{
	if (!u->sid || !*u->sid || u->index == STORE_SYSTEM)
		return ws_error_set(err, WS_E_USAGE, "", "a user needs a SID and an index");
	if (check_dup(&w->user_ix, &w->n_users, &w->a_users, u->index))
		return ws_error_set(err, WS_E_USAGE, u->sid, "user index %u used twice", u->index);
	store_enc_user(&w->meta, u);
	w->tr.n_users++;
	return WS_OK;
}

int store_scan_add_rule(struct store_writer *w, const struct store_rule *r,
			struct ws_error *err)
{
	if (check_dup(&w->rule_ix, &w->n_rules, &w->a_rules, r->index))
		return ws_error_set(err, WS_E_USAGE, r->text ? r->text : "",
				    "rule index %u used twice", r->index);
	store_enc_rule(&w->meta, r);
	w->tr.n_rules++;
	return WS_OK;
}

int store_scan_add_app(struct store_writer *w, const struct store_app *a,
		       struct ws_error *err)
{
	if (!a->family || !*a->family)
		return ws_error_set(err, WS_E_USAGE, "", "an app needs a package family name");
	store_enc_app(&w->meta, a);
	w->tr.n_apps++;
	return WS_OK;
}

int store_scan_add_key(struct store_writer *w, const struct store_key *k,
		       struct ws_error *err)
{
	int rc;

	if (!k->path || !*k->path)
		return ws_error_set(err, WS_E_USAGE, "", "a key record needs a path");
	/* body records keep the caller's order: files in flight first */
	if ((rc = pipe_drain(w, err)))
		return rc;
	store_enc_key(&w->body, k);
	w->tr.n_keys++;
	return flush_body(w, 0, err);
}

int store_scan_add_value(struct store_writer *w, const struct store_value *v,
			 struct ws_error *err)
{
	if (!v->key || !*v->key || (v->len && !v->data))
		return ws_error_set(err, WS_E_USAGE, v->key ? v->key : "",
				    "a value needs a key path and its data");
	if (v->len > STORE_VALUE_MAX)
		return ws_error_set(err, WS_E_UNSUPPORTED, v->key,
				    "value '%s' larger than %u bytes", v->name ? v->name : "",
				    STORE_VALUE_MAX);
	int rc = pipe_drain(w, err);
	if (rc)
		return rc;
	store_enc_value(&w->body, v);
	w->tr.n_values++;
	return flush_body(w, 0, err);
}

static long pack_no(struct store_writer *w, struct store_pack *p)
{
	if (p->wno < 0) {
		WS_ALLOC_GROW(w->wpacks, w->n_wpacks + 1, w->a_wpacks);
		p->wno = (long)w->n_wpacks;
		w->wpacks[w->n_wpacks++] = p;
	}
	return p->wno;
}

static int close_pack(struct store_writer *w, struct ws_error *err)
{
	int rc;

	if (!w->pw)
		return WS_OK;
	rc = store_packw_finish(w->pw, w->pix, w->n_pix, err);
	w->pw = NULL;
	if (rc) {
		w->pw_pack = NULL;
		w->n_pix = 0;
		return writer_fail(w, rc, err);
	}
	w->pw_pack->has_tar = w->pw_pack->has_idx = 1;
	w->pw_pack = NULL;
	for (size_t i = 0; i < w->n_pix; i++)
		w->stats.bytes_kept += w->pix[i].raw_len;
	w->n_pix = 0;
	w->stats.packs_new++;
	touch_marker(w);
	return WS_OK;
}

/* The open pack failed to take a blob: keep what reached the disk whole
 * when the disk is full, else drop the pack. */
static int pack_write_failed(struct store_writer *w, int rc, struct ws_error *err)
{
	struct store_packw *pw = w->pw;
	size_t kept = 0;

	w->pw = NULL;
	if (rc == WS_E_NOSPACE) {
		struct ws_error e2;

		ws_error_clear(&e2);
		if (store_packw_salvage(pw, w->pix, w->n_pix, &kept, &e2) == WS_OK) {
			w->pw_pack->has_tar = w->pw_pack->has_idx = 1;
			w->stats.packs_new++;
			for (size_t i = 0; i < kept; i++)
				w->stats.bytes_kept += w->pix[i].raw_len;
		}
	} else {
		store_packw_discard(pw);
	}
	w->pw_pack = NULL;
	w->n_pix = 0;
	return writer_fail(w, rc, err);
}

/*
 * Reference or store one hashed chunk (ref->hash set).  `blob_in`
 * (`blob_len` bytes): its encoded form made by a worker, or NULL to encode
 * it here with `z` when it is new.
 */
static int store_chunk_hashed(struct store_writer *w, struct store_zctx *z,
			      const unsigned char *data, size_t len, int compress,
			      const void *blob_in, size_t blob_len,
			      struct store_chunk_ref *ref, struct ws_error *err)
{
	struct store *st = w->st;
	const struct dd_ent *known;
	int rc;

	if (w->failed)
		return failed_rc(w, err);
	ref->raw_len = (uint32_t)len;
	w->stats.chunks++;
	w->stats.bytes += len;
	if ((known = dd_get(w, ref->hash)) && known->raw_len == len) {
		ref->pack = (uint32_t)pack_no(w, w->dd_packs[known->pack]);
		return WS_OK;
	}
	if (!w->pw) {
		rc = store_packw_new(st, &w->pw, err);
		if (rc)
			return writer_fail(w, rc, err);
		w->pw_pack = store_pack_add(st, store_packw_id(w->pw));
		w->pw_pack->v2 = store_packw_v2(w->pw);
	}
	struct ws_buf own = WS_BUF_INIT;
	struct store_ix_entry *e;
	uint64_t off;

	if (!blob_in || !blob_len) {
		store_blob_encode(st, z, ref->hash, data, len, compress, &own);
		blob_in = own.buf;
		blob_len = own.len;
	}
	rc = store_packw_add(w->pw, ref->hash, blob_in, blob_len, &off, err);
	if (rc) {
		ws_buf_release(&own);
		return pack_write_failed(w, rc, err);
	}
	WS_ALLOC_GROW(w->pix, w->n_pix + 1, w->a_pix);
	e = &w->pix[w->n_pix++];
	memcpy(e->hash, ref->hash, STORE_HASH_LEN);
	e->off = off;
	e->stored_len = (uint32_t)blob_len;
	e->raw_len = (uint32_t)len;
	w->stats.chunks_new++;
	w->stats.bytes_new += len;
	w->stats.bytes_written += blob_len;
	ws_buf_release(&own);
	dd_insert(w, ref->hash, w->pw_pack, (uint32_t)len);
	ref->pack = (uint32_t)pack_no(w, w->pw_pack);
	if (store_packw_size(w->pw) >= st->pack_size || w->n_pix >= STORE_PACK_BLOBS_MAX)
		return close_pack(w, err);
	return WS_OK;
}

static int store_chunk(struct store_writer *w, const unsigned char *data,
		       size_t len, int compress, struct store_chunk_ref *ref,
		       struct ws_error *err)
{
	if (w->failed)
		return failed_rc(w, err);
	store_content_hash(w->st, data, len, ref->hash);
	return store_chunk_hashed(w, &w->st->z, data, len, compress, NULL, 0, ref, err);
}

static int add_file_record(struct store_writer *w, const struct store_file *meta,
			   uint64_t size, const struct store_chunk_ref *refs,
			   size_t n_refs, struct ws_error *err)
{
	struct store_file f = *meta;

	f.size = size;
	f.chunks = refs;
	f.n_chunks = n_refs;
	store_enc_file(&w->body, &f);
	w->tr.n_files++;
	w->tr.bytes += size;
	if (time(NULL) - w->last_touch > 60)
		touch_marker(w);
	return flush_body(w, 0, err);
}

static int check_file_meta(const struct store_file *meta, int has_content,
			   struct ws_error *err)
{
	if (!meta->path || !*meta->path)
		return ws_error_set(err, WS_E_USAGE, "", "a file needs a path");
	if (has_content && (meta->flags & (STORE_FILE_DIR | STORE_FILE_NOT_CAPTURED)))
		return ws_error_set(err, WS_E_USAGE, meta->path,
				    "folders and uncaptured files have no content");
	return WS_OK;
}


/* ---------------------------------------------------------------------- */
/* Pipeline                                                               */

/* Chunks never wrap around the byte ring's end: any chunk fits once the
 * ring is empty. */
_Static_assert(PIPE_BYTES >= 2u * (STORE_CHUNK_MAX + 1u), "byte ring too small");

/* The job's flags byte, followed by its chunk. */
static unsigned char *job_slot(const struct wpipe *p, const struct wjob *j)
{
	return p->bytes + j->start % PIPE_BYTES;
}

static unsigned char *job_data(const struct wpipe *p, const struct wjob *j)
{
	return job_slot(p, j) + 1;
}

/* Where `len` bytes go in the byte ring, or UINT64_MAX while it has no room
 * (mutex held). */
static uint64_t ring_place(const struct wpipe *p, size_t len)
{
	uint64_t pos = p->bput, off = pos % PIPE_BYTES;

	if (off + len > PIPE_BYTES)
		pos += PIPE_BYTES - off; /* skip the end: never wrap */
	return pos + len - p->bget <= PIPE_BYTES ? pos : UINT64_MAX;
}

/* The writer's first failure (mutex held). */
static void pipe_fail_locked(struct wpipe *p, int rc, const struct ws_error *e)
{
	if (!p->failed) {
		p->failed = rc;
		p->fail_err = *e;
	}
}

/* Its code and error for the caller's thread (mutex held). */
static int pipe_failed_locked(struct wpipe *p, struct ws_error *err)
{
	if (p->failed && err)
		*err = p->fail_err;
	return p->failed;
}

/* Whether the writer failed, as the caller's thread may see it. */
static int caller_failed(struct store_writer *w)
{
	int f;

	if (!w->pipe)
		return w->failed;
	if (w->pipe_idle)
		return 0; /* seen sound, and nothing ran there since */
	pthread_mutex_lock(&w->pipe->mu);
	f = w->pipe->failed;
	pthread_mutex_unlock(&w->pipe->mu);
	return f;
}

/* Hash, look up, compress: what a worker does to a taken job. */
static void job_work(struct store_writer *w, struct wjob *j, struct wctx *c)
{
	struct wpipe *p = w->pipe;
	const unsigned char *data = job_data(p, j);
	const struct dd_ent *e;

	store_content_hash(w->st, data, j->len, j->hash);
	pthread_mutex_lock(&p->mu);
	j->known = (e = dd_get(w, j->hash)) && e->raw_len == j->len;
	pthread_mutex_unlock(&p->mu);
	/* A chunk already stored is not compressed again; two equal new
	 * chunks in flight are both compressed and the second is dropped. */
	if (j->known)
		return;
	if (!w->st->encrypted && !w->st->write_v1)
		j->blob_len = store_blob_encode_inplace(w->st, &c->z, job_slot(p, j), j->len,
							j->compress, &c->scratch);
	else
		store_blob_encode(w->st, &c->z, j->hash, data, j->len, j->compress, &j->blob);
}

/* Take the oldest queued job and work on it (mutex held, released while
 * working). */
static void take_and_work(struct store_writer *w, struct wctx *c)
{
	struct wpipe *p = w->pipe;
	struct wjob *j = &p->ring[p->take++ % PIPE_JOBS];

	j->state = JOB_TAKEN;
	pthread_mutex_unlock(&p->mu);
	job_work(w, j, c);
	pthread_mutex_lock(&p->mu);
	j->state = JOB_DONE;
}

/* Whether the caller, waiting for room, should be woken (mutex held): once
 * the pipeline is half empty, not at every retired chunk, so that it
 * queues many chunks per wake-up; always when everything is retired (a
 * drain waits for that). */
static int pipe_roomy(const struct wpipe *p)
{
	if (p->head == p->tail && p->fhead == p->ftail)
		return 1;
	return p->tail - p->head <= PIPE_JOBS / 2 && p->bput - p->bget <= PIPE_BYTES / 2 &&
	       p->ftail - p->fhead <= PIPE_FILES / 2;
}

static void pipe_retire(struct store_writer *w, struct wctx *c);

/* Whether nobody retires and the oldest file's record or the oldest chunk
 * can be retired (mutex held). */
static int pipe_retirable(const struct wpipe *p)
{
	const struct wfile *f = &p->files[p->fhead % PIPE_FILES];

	if (p->busy)
		return 0;
	return (p->fhead < p->ftail && f->sealed && f->n_done == f->n_refs) ||
	       (p->head < p->tail && p->ring[p->head % PIPE_JOBS].state == JOB_DONE);
}

static void *pipe_worker(void *arg)
{
	struct wworker *me = arg;
	struct wpipe *p = me->w->pipe;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		/* retiring first: it frees room for the caller, and the chunk
		 * just compressed is often the oldest */
		if (pipe_retirable(p))
			pipe_retire(me->w, &me->c);
		else if (p->take < p->tail)
			take_and_work(me->w, &me->c);
		else
			pthread_cond_wait(&p->work, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* The caller's thread waits for room: it retires when it can, else sleeps
 * until something is retired (mutex held). */
static void caller_help_or_wait(struct store_writer *w)
{
	struct wpipe *p = w->pipe;

	if (pipe_retirable(p)) {
		pipe_retire(w, &p->caller);
	} else {
		p->caller_waits = 1;
		pthread_cond_wait(&p->freed, &p->mu);
		p->caller_waits = 0;
	}
}

/* Store the oldest job's chunk (mutex held, released while the pack is
 * written; busy). */
static void writer_retire(struct store_writer *w, struct store_zctx *z)
{
	struct wpipe *p = w->pipe;
	struct wjob *j = &p->ring[p->head % PIPE_JOBS];
	struct wfile *f = &p->files[j->file % PIPE_FILES];
	struct store_chunk_ref ref;
	struct ws_error e;
	int dropped = f->dropped, rc = WS_OK;

	pthread_mutex_unlock(&p->mu);
	ws_error_clear(&e);
	memset(&ref, 0, sizeof(ref));
	memcpy(ref.hash, j->hash, STORE_HASH_LEN);
	if (!dropped) {
		if (j->blob_len)
			rc = store_chunk_hashed(w, z, job_data(p, j), j->len, j->compress,
						job_slot(p, j), j->blob_len, &ref, &e);
		else
			rc = store_chunk_hashed(w, z, job_data(p, j), j->len, j->compress,
						j->blob.buf, j->blob.len, &ref, &e);
		if (rc && !w->fail_err.code)
			w->fail_err = e;
	}
	ws_buf_release(&j->blob);
	pthread_mutex_lock(&p->mu);
	if (!dropped)
		f->refs[j->ref] = ref;
	if (rc) {
		f->dropped = 1; /* the scan cannot be committed any more */
		pipe_fail_locked(p, rc, &e);
	}
	f->n_done++;
	p->bget = j->end;
	p->head++;
	if (p->caller_waits && pipe_roomy(p))
		pthread_cond_signal(&p->freed);
}

/* The record of the oldest file, whose chunks are all retired (mutex held,
 * released while the catalog is written; busy). */
static void writer_emit(struct store_writer *w)
{
	struct wpipe *p = w->pipe;
	struct wfile *f = &p->files[p->fhead % PIPE_FILES];
	struct ws_error e;
	int rc = WS_OK, skip = f->dropped || p->failed;

	pthread_mutex_unlock(&p->mu);
	ws_error_clear(&e);
	if (!skip && f->prev) {
		WS_ALLOC_GROW(f->refs, f->prev->n, f->a_refs);
		prev_refs(w, f->prev, f->refs);
		f->n_refs = f->prev->n;
	}
	if (!skip)
		rc = add_file_record(w, &f->meta, f->size, f->refs, f->n_refs, &e);
	if (rc && !w->fail_err.code)
		w->fail_err = e;
	free((char *)f->meta.path);
	free(f->refs);
	memset(f, 0, sizeof(*f));
	pthread_mutex_lock(&p->mu);
	if (rc)
		pipe_fail_locked(p, rc, &e);
	p->fhead++;
	if (p->caller_waits && pipe_roomy(p))
		pthread_cond_signal(&p->freed);
}

/* Retire in order whatever can be, holding busy (mutex held, released
 * while packs and catalog are written): records of files whose chunks are
 * retired first, then done chunks. */
static void pipe_retire(struct store_writer *w, struct wctx *c)
{
	struct wpipe *p = w->pipe;

	p->busy = 1;
	p->emit_asked = 0;
	while (!p->stop) {
		struct wfile *f = &p->files[p->fhead % PIPE_FILES];

		if (p->fhead < p->ftail && f->sealed && f->n_done == f->n_refs)
			writer_emit(w);
		else if (p->head < p->tail && p->ring[p->head % PIPE_JOBS].state == JOB_DONE)
			writer_retire(w, &c->z);
		else
			break;
	}
	p->busy = 0;
	/* a drain waits for busy to drop too */
	if (p->caller_waits && pipe_roomy(p))
		pthread_cond_signal(&p->freed);
}

static void pipe_free(struct store_writer *w)
{
	struct wpipe *p = w->pipe;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->n_workers; i++) {
		if (p->workers[i].started)
			pthread_join(p->workers[i].th, NULL);
		store_zctx_release(&p->workers[i].c.z);
		ws_buf_release(&p->workers[i].c.scratch);
	}
	for (uint64_t i = p->head; i < p->tail; i++)
		ws_buf_release(&p->ring[i % PIPE_JOBS].blob);
	for (uint64_t i = p->fhead; i < p->ftail; i++) {
		free((char *)p->files[i % PIPE_FILES].meta.path);
		free(p->files[i % PIPE_FILES].refs);
	}
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->mu);
	store_zctx_release(&p->caller.z);
	ws_buf_release(&p->caller.scratch);
	free(p->bytes);
	free(p->workers);
	free(p);
	w->pipe = NULL;
}

/* Start n workers; without them (n < 2, or a thread could not start) the
 * writer stays single-threaded. */
static void pipe_start(struct store_writer *w, unsigned n)
{
	struct wpipe *p;

	if (n < 2)
		return;
	p = ws_xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->freed, NULL);
	for (size_t i = 0; i < PIPE_JOBS; i++)
		ws_buf_init(&p->ring[i].blob);
	ws_buf_init(&p->caller.scratch);
	p->bytes = ws_xmalloc(PIPE_BYTES);
	p->workers = ws_xcalloc(n, sizeof(*p->workers));
	p->n_workers = n;
	w->pipe = p;
	for (unsigned i = 0; i < n; i++) {
		p->workers[i].w = w;
		ws_buf_init(&p->workers[i].c.scratch);
		p->workers[i].started =
			pthread_create(&p->workers[i].th, NULL, pipe_worker, &p->workers[i]) == 0;
	}
	if (!p->workers[0].started)
		pipe_free(w);
}

/* Everything queued is stored and recorded (before key/value records, the
 * commit, or stats): the writer's state is the caller's again.  The
 * writer's first failure, if any. */
static int pipe_drain(struct store_writer *w, struct ws_error *err)
{
	struct wpipe *p = w->pipe;
	int rc;

	if (!p)
		return WS_OK;
	pthread_mutex_lock(&p->mu);
	while (p->head < p->tail || p->fhead < p->ftail || p->busy)
		caller_help_or_wait(w);
	rc = pipe_failed_locked(p, err);
	w->pipe_idle = !rc;
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/*
 * Whether the pipeline is idle (see pipe_idle): looked at under the mutex
 * only while it may not be.  An idle pipeline stays so until the caller's
 * thread queues a file: workers only ever take what it queues.  A record
 * with nothing in flight before it (an unchanged file or a folder, most of
 * an unchanged rescan) is then written by the caller's thread at once, as
 * a single-threaded writer does, instead of being handed to a worker:
 * no lock, no wake-up, no thread switch per file.
 */
static int pipe_is_idle(struct store_writer *w)
{
	struct wpipe *p = w->pipe;

	if (w->pipe_idle)
		return 1;
	pthread_mutex_lock(&p->mu);
	w->pipe_idle = p->head == p->tail && p->fhead == p->ftail && !p->busy && !p->failed;
	pthread_mutex_unlock(&p->mu);
	return w->pipe_idle;
}

/* A job slot and room in the byte ring for a chunk of at most `len`
 * bytes: where its flags byte goes (waits while too much is in flight).
 * Only the caller's thread queues: slot and room stay its own until
 * pipe_queue. */
static int pipe_reserve(struct store_writer *w, size_t len, uint64_t *pos,
			struct ws_error *err)
{
	struct wpipe *p = w->pipe;
	int rc;

	*pos = UINT64_MAX;
	pthread_mutex_lock(&p->mu);
	while (!p->failed && (p->tail - p->head >= PIPE_JOBS ||
			      (*pos = ring_place(p, 1 + len)) == UINT64_MAX))
		caller_help_or_wait(w);
	rc = pipe_failed_locked(p, err);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* Queue the chunk of file number `fno` whose `len` bytes are in the room
 * reserved at `pos`. */
static void pipe_queue(struct store_writer *w, uint64_t fno, uint64_t pos,
		       size_t len, int compress)
{
	struct wpipe *p = w->pipe;
	struct wfile *f = &p->files[fno % PIPE_FILES];
	struct wjob *j = &p->ring[p->tail % PIPE_JOBS];

	j->start = pos;
	j->end = pos + 1 + len;
	j->len = len;
	j->compress = compress;
	j->known = 0;
	j->blob_len = 0;
	j->file = fno;
	pthread_mutex_lock(&p->mu);
	/* refs move only under the mutex: retiring fills them */
	WS_ALLOC_GROW(f->refs, f->n_refs + 1, f->a_refs);
	j->ref = f->n_refs++;
	j->state = JOB_QUEUED;
	p->bput = j->end;
	p->tail++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
}

/* Queue one chunk of file number `fno` (copied into the byte ring): waits
 * while too much is in flight. */
static int pipe_submit(struct store_writer *w, uint64_t fno, const unsigned char *data,
		       size_t len, int compress, struct ws_error *err)
{
	uint64_t pos;
	int rc = pipe_reserve(w, len, &pos, err);

	if (rc)
		return rc;
	memcpy(w->pipe->bytes + pos % PIPE_BYTES + 1, data, len);
	pipe_queue(w, fno, pos, len, compress);
	return WS_OK;
}

/* Under p->mu: wait for a free file slot and fill it with meta (its path
 * `path`, owned by the slot from then on) and prev; the caller makes it
 * visible with p->ftail++.  The pipeline's failure, if any (path freed). */
static int pipe_slot_locked(struct store_writer *w, const struct store_file *meta,
			    const struct prev_file *prev, char *path, struct wfile **out,
			    struct ws_error *err)
{
	struct wpipe *p = w->pipe;
	struct wfile *f;
	int rc;

	while (!p->failed && p->ftail - p->fhead >= PIPE_FILES)
		caller_help_or_wait(w);
	if ((rc = pipe_failed_locked(p, err))) {
		free(path);
		return rc;
	}
	f = &p->files[p->ftail % PIPE_FILES];
	memset(f, 0, sizeof(*f));
	f->meta = *meta;
	f->meta.path = path;
	f->meta.chunks = NULL;
	f->meta.n_chunks = 0;
	f->prev = prev;
	*out = f;
	return WS_OK;
}

/* Under p->mu, a file just sealed: records are emitted in batches (files
 * without chunks in flight, an unchanged rescan, would otherwise wake a
 * worker once each); they are also emitted when a chunk is retired, and
 * when the caller waits. */
static void pipe_emit_batch_locked(struct wpipe *p)
{
	if (!p->emit_asked && p->ftail - p->fhead >= PIPE_FILES / 8 && pipe_retirable(p)) {
		p->emit_asked = 1;
		pthread_cond_signal(&p->work);
	}
}

/* A file record waiting for its chunks (or, with `prev`, taking an
 * unchanged file's previous chunks); its number. */
static int pipe_file_begin(struct store_writer *w, const struct store_file *meta,
			   const struct prev_file *prev, uint64_t *fno,
			   struct ws_error *err)
{
	struct wpipe *p = w->pipe;
	char *path = ws_xstrdup(meta->path);
	struct wfile *f;
	int rc;

	w->pipe_idle = 0;
	pthread_mutex_lock(&p->mu);
	rc = pipe_slot_locked(w, meta, prev, path, &f, err);
	if (!rc)
		*fno = p->ftail++;
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* Every chunk of file `fno` is queued (or it is dropped): the writer may
 * emit its record once they are retired. */
static int pipe_file_end(struct store_writer *w, uint64_t fno, uint64_t size,
			 int dropped, struct ws_error *err)
{
	struct wpipe *p = w->pipe;
	struct wfile *f = &p->files[fno % PIPE_FILES];
	int rc;

	pthread_mutex_lock(&p->mu);
	f->size = size;
	f->dropped |= dropped;
	f->sealed = 1;
	pipe_emit_batch_locked(p);
	rc = dropped ? WS_OK : pipe_failed_locked(p, err);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* pipe_file_begin and pipe_file_end of a file without chunks to queue
 * (unchanged: its previous ones), under one lock instead of three: an
 * unchanged rescan does this for every file while a worker takes the
 * same lock to emit the records. */
static int pipe_file_done(struct store_writer *w, const struct store_file *meta,
			  const struct prev_file *prev, struct ws_error *err)
{
	struct wpipe *p = w->pipe;
	char *path = ws_xstrdup(meta->path);
	struct wfile *f;
	int rc;

	w->pipe_idle = 0;
	pthread_mutex_lock(&p->mu);
	rc = pipe_slot_locked(w, meta, prev, path, &f, err);
	if (!rc) {
		f->size = prev->size;
		f->sealed = 1;
		p->ftail++;
		pipe_emit_batch_locked(p);
		rc = pipe_failed_locked(p, err);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* Record an unchanged file with its previous chunks, in order with the
 * files still in the pipeline. */
static int add_unchanged(struct store_writer *w, const struct store_file *meta,
			 const struct prev_file *pf, struct ws_error *err)
{
	if (!w->pipe || pipe_is_idle(w)) {
		WS_ALLOC_GROW(w->refs, pf->n, w->a_refs);
		prev_refs(w, pf, w->refs);
		return add_file_record(w, meta, pf->size, w->refs, pf->n, err);
	}
	return pipe_file_done(w, meta, pf, err);
}

/*
 * Store the chunks of buf[0..n): fixed chunk-size pieces, or content-defined
 * ones when `cdc`.  Unless `eof`, only what is followed by enough bytes to
 * place the next boundary is cut; *used gets the bytes consumed.
 */
static int cut_chunks(struct store_writer *w, uint64_t fno,
		      const unsigned char *buf, size_t n, int eof, int cdc,
		      int compress, size_t *n_refs, size_t *used,
		      struct ws_error *err)
{
	size_t off = 0;
	int rc;

	while (off < n) {
		size_t left = n - off, len;

		if (cdc) {
			if (!eof && left < w->cdc.max)
				break;
			len = store_cdc_cut(&w->cdc, buf + off, left);
		} else {
			if (!eof && left < w->st->chunk_size)
				break;
			len = left < w->st->chunk_size ? left : w->st->chunk_size;
		}
		if (w->pipe) {
			rc = pipe_submit(w, fno, buf + off, len, compress, err);
		} else {
			WS_ALLOC_GROW(w->refs, *n_refs + 1, w->a_refs);
			rc = store_chunk(w, buf + off, len, compress, &w->refs[*n_refs], err);
		}
		if (rc)
			return rc;
		(*n_refs)++;
		off += len;
	}
	*used = off;
	return WS_OK;
}

/* Content-defined chunks for files of at least buf_len bytes (format 2.0). */
static int use_cdc(const struct store_writer *w, size_t known)
{
	return !w->st->write_v1 && known >= w->buf_len;
}

/* read(2) as a store_read_fn */
static long long fd_read(void *ctx, void *buf, size_t n, struct ws_error *err)
{
	int fd = *(const int *)ctx;
	ssize_t r;

	(void)err;
	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

/* The error of a failed read of `meta`'s content (re: the callback's). */
static int read_failed(const struct store_file *meta, store_read_fn rd, int e,
		       const struct ws_error *re, struct ws_error *err)
{
	int rc;

	if (rd == fd_read)
		return ws_error_set_errno(err, WS_E_IO, e, meta->path, "cannot read");
	rc = ws_error_set(err, WS_E_IO, meta->path, "%s", re->msg[0] ? re->msg : "cannot read");
	if (err)
		err->sys_errno = re->sys_errno;
	return rc;
}

/*
 * A file of one chunk by its size is read straight into the byte ring
 * (not copied there on the caller's thread) and queued: *done.  One byte
 * more is asked for: a file grown since it was examined goes the usual
 * way, with the bytes read so far moved to w->chunk (*filled).  *size:
 * the bytes read.
 */
static int pipe_read_direct(struct store_writer *w, uint64_t fno,
			    const struct store_file *meta, store_read_fn rd,
			    void *ctx, size_t *filled, uint64_t *size, int *done,
			    struct ws_error *err)
{
	size_t want = (size_t)meta->size + 1, got = 0;
	unsigned char *dst;
	uint64_t pos;
	int rc = pipe_reserve(w, want, &pos, err);

	*done = 0;
	if (rc)
		return rc;
	dst = w->pipe->bytes + pos % PIPE_BYTES + 1;
	while (got < want) {
		struct ws_error re = { 0 };
		long long n = rd(ctx, dst + got, want - got, &re);

		if (n < 0)
			return read_failed(meta, rd, errno, &re, err);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*size = got;
	if (got == want) {
		memcpy(w->chunk, dst, got);
		*filled = got;
		return WS_OK;
	}
	/* as cut_chunks cuts a file shorter than a chunk: one chunk, or none */
	if (got)
		pipe_queue(w, fno, pos, got, store_magic_compressed(dst, got) ? 0 : -1);
	*done = 1;
	return WS_OK;
}

static int add_file_from(struct store_writer *w, const struct store_file *meta,
			 store_read_fn rd, void *ctx, struct ws_error *err)
{
	uint64_t size = 0, fno = 0;
	size_t n_refs = 0, filled = 0;
	int compress = -1, cdc = -1, eof = rd == NULL;
	int rc = check_file_meta(meta, rd != NULL, err);
	const struct prev_file *pf;

	prev_wait(w);
	if (rc)
		return rc;
	if (rd && !caller_failed(w) && (pf = prev_unchanged(w, meta)))
		return add_unchanged(w, meta, pf, err);
	if (rd)
		dd_need(w);
	/* a folder or a file without content, nothing in flight: at once */
	if (!rd && w->pipe && pipe_is_idle(w))
		return add_file_record(w, meta, 0, NULL, 0, err);
	if (w->pipe && (rc = pipe_file_begin(w, meta, NULL, &fno, err)))
		return rc;
	if (w->pipe && rd && meta->size && meta->size <= w->st->chunk_size) {
		int done;

		rc = pipe_read_direct(w, fno, meta, rd, ctx, &filled, &size, &done, err);
		if (rc) {
			pipe_file_end(w, fno, 0, 1, NULL);
			return rc;
		}
		if (done)
			return pipe_file_end(w, fno, size, 0, err);
	}
	while (!eof) {
		size_t used;

		while (filled < w->buf_len) {
			struct ws_error re = { 0 };
			long long n = rd(ctx, w->chunk + filled, w->buf_len - filled, &re);

			if (n < 0) {
				rc = read_failed(meta, rd, errno, &re, err);
				if (w->pipe)
					pipe_file_end(w, fno, 0, 1, NULL);
				return rc;
			}
			if (n == 0) {
				eof = 1;
				break;
			}
			filled += (size_t)n;
			size += (uint64_t)n;
		}
		if (cdc < 0) {
			cdc = use_cdc(w, filled);
			/* Already-compressed formats are recognised by their first bytes. */
			if (filled && store_magic_compressed(w->chunk, filled))
				compress = 0;
		}
		rc = cut_chunks(w, fno, w->chunk, filled, eof, cdc, compress,
				&n_refs, &used, err);
		if (rc) {
			if (w->pipe)
				pipe_file_end(w, fno, 0, 1, NULL);
			return rc;
		}
		memmove(w->chunk, w->chunk + used, filled - used);
		filled -= used;
	}
	if (w->pipe)
		return pipe_file_end(w, fno, size, 0, err);
	return add_file_record(w, meta, size, w->refs, n_refs, err);
}

int store_scan_add_file(struct store_writer *w, const struct store_file *meta,
			int fd, struct ws_error *err)
{
	return add_file_from(w, meta, fd >= 0 ? fd_read : NULL, &fd, err);
}

int store_scan_add_file_read(struct store_writer *w,
			     const struct store_file *meta, store_read_fn read,
			     void *ctx, struct ws_error *err)
{
	return add_file_from(w, meta, read, ctx, err);
}

int store_scan_add_file_unchanged(struct store_writer *w,
				  const struct store_file *meta, int *taken,
				  struct ws_error *err)
{
	const struct prev_file *pf;
	int rc = check_file_meta(meta, 1, err);

	prev_wait(w);
	*taken = 0;
	if (rc)
		return rc;
	if (caller_failed(w) || !(pf = prev_unchanged(w, meta)))
		return WS_OK;
	if ((rc = add_unchanged(w, meta, pf, err)))
		return rc;
	*taken = 1;
	return WS_OK;
}

int store_scan_add_file_mem(struct store_writer *w,
			    const struct store_file *meta, const void *data,
			    size_t len, struct ws_error *err)
{
	size_t n_refs = 0, used;
	uint64_t fno = 0;
	int rc = check_file_meta(meta, len > 0, err);
	int compress = len && store_magic_compressed(data, len) ? 0 : -1;

	prev_wait(w);
	if (rc)
		return rc;
	if (len)
		dd_need(w);
	if (w->pipe && (rc = pipe_file_begin(w, meta, NULL, &fno, err)))
		return rc;
	rc = cut_chunks(w, fno, data, len, 1, use_cdc(w, len), compress,
			&n_refs, &used, err);
	if (w->pipe) {
		int r = pipe_file_end(w, fno, len, rc != WS_OK, rc ? NULL : err);
		return rc ? rc : r;
	}
	if (rc)
		return rc;
	return add_file_record(w, meta, len, w->refs, n_refs, err);
}

void store_writer_stats(struct store_writer *w, struct store_write_stats *out)
{
	prev_wait(w);
	/* counted when retired: the chunks in flight first, then the frames
	 * their records fill */
	if (w->pipe)
		pipe_drain(w, NULL);
	ft_drain(w, NULL);
	*out = w->stats;
}

/* Every pack the catalog names must still exist (see prune's rules). */
static int check_packs(struct store_writer *w, struct ws_error *err)
{
	for (size_t i = 0; i < w->n_wpacks; i++) {
		struct ws_buf rel = WS_BUF_INIT, abs = WS_BUF_INIT;
		int ok;

		store_rel_pack(&rel, w->wpacks[i]->id, store_pack_ext(w->wpacks[i]));
		store_abs(w->st, &abs, rel.buf);
		ok = ws_path_exists(abs.buf);
		if (!ok)
			ws_error_set(err, WS_E_CORRUPT, rel.buf,
				     "pack vanished while the scan was written (pruned with a grace period shorter than the scan?)");
		ws_buf_release(&rel);
		ws_buf_release(&abs);
		if (!ok)
			return WS_E_CORRUPT;
	}
	return WS_OK;
}

/* scans/<id>.<tag>.dev before the catalog appears (§2 device tags): a
 * reader looking for another device's scans passes this one unopened.
 * Lost in a crash, the catalog is only opened by every such reader, as an
 * older writer's is; left without its catalog, it is ignored (and pruned). */
static int write_device_tag(struct store_writer *w, struct ws_error *err)
{
	struct ws_buf rel = WS_BUF_INIT, abs = WS_BUF_INIT;
	char tag[33];
	int fd, rc = WS_OK;

	if (store_device_tag(w->st, w->info.device, tag) != 0)
		return WS_OK;
	ws_buf_addf(&rel, "scans/%s.%s.dev", w->scan_id, tag);
	store_abs(w->st, &abs, rel.buf);
	fd = open(abs.buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || close(fd) != 0)
		rc = ws_error_set_errno(err, WS_E_IO, errno, rel.buf, "cannot write");
	ws_buf_release(&rel);
	ws_buf_release(&abs);
	return rc;
}

int store_scan_commit(struct store_writer *w, char *scan_id_out,
		      struct ws_error *err)
{
	struct ws_buf b = WS_BUF_INIT, dst = WS_BUF_INIT, dir = WS_BUF_INIT;
	struct ws_buf rel = WS_BUF_INIT;
	struct store *st = w->st;
	uint64_t toff;
	int rc, e = 0;

	prev_wait(w);
	rc = pipe_drain(w, err);
	if (!rc && w->failed)
		rc = WS_OK; /* reported below */
	if (w->failed && w->fail_err.code) {
		if (err)
			*err = w->fail_err; /* the first failure, with its hint */
		rc = w->failed;
		goto out;
	}
	if (w->failed) {
		rc = ws_error_set(err, w->failed, w->st->dir,
				  "an earlier write into the store failed: scan not committed");
		goto out;
	}
	if (rc)
		goto out;
	rc = close_pack(w, err);
	if (!rc)
		rc = flush_body(w, 1, err);
	if (rc)
		goto out;
	/* Meta: pack table first, then users, rules, apps. */
	w->tr.meta_offset = w->cat_pos;
	w->tr.meta_first_frame = w->frame_no;
	ws_buf_add_u8(&b, REC_PACKS);
	{
		struct ws_buf r = WS_BUF_INIT;
		ws_buf_add_varint(&r, w->n_wpacks);
		for (size_t i = 0; i < w->n_wpacks; i++)
			ws_buf_add(&r, w->wpacks[i]->id, STORE_PACK_ID_LEN);
		ws_buf_add_varint(&b, r.len);
		ws_buf_add(&b, r.buf, r.len);
		ws_buf_release(&r);
	}
	ws_buf_add(&b, w->meta.buf, w->meta.len);
	/* Split at record boundaries into frames of bounded size. */
	{
		size_t pos = 0, start = 0;
		while (pos < b.len) {
			const unsigned char *q = (const unsigned char *)b.buf + pos + 1;
			uint64_t l = 0;
			int sh = 0;
			while (*q & 0x80) {
				l |= (uint64_t)(*q & 0x7f) << sh;
				sh += 7;
				q++;
			}
			l |= (uint64_t)*q << sh;
			q++;
			size_t next = (size_t)(q - (const unsigned char *)b.buf) + (size_t)l;
			if (next - start > STORE_FRAME_TARGET && pos > start) {
				rc = emit_frame(w, FR_META, b.buf + start, pos - start, err);
				if (rc)
					goto out;
				start = pos;
			}
			if (next - start > STORE_FRAME_MAX) {
				rc = ws_error_set(err, WS_E_UNSUPPORTED, w->scan_id,
						  "a catalog record is too large");
				goto out;
			}
			pos = next;
		}
		if (pos > start) {
			rc = emit_frame(w, FR_META, b.buf + start, pos - start, err);
			if (rc)
				goto out;
		}
	}
	ws_buf_reset(&b);
	w->tr.finished = (int64_t)time(NULL);
	toff = w->cat_pos;
	store_enc_trailer(&b, &w->tr);
	rc = emit_frame(w, FR_TRAILER, b.buf, b.len, err);
	ws_buf_reset(&b);
	store_cat_footer(&b, toff, w->frame_no - 1);
	if (!rc)
		rc = cat_write(w, &b, err);
	if (rc)
		goto out;
	if (fsync(w->cat_fd) != 0)
		e = errno;
	if (close(w->cat_fd) != 0 && !e)
		e = errno;
	w->cat_fd = -1;
	if (e) {
		rc = ws_error_set_errno(err, WS_E_IO, e, w->cat_tmp.buf, "cannot write catalog");
		goto out;
	}
	rc = check_packs(w, err);
	if (rc)
		goto out;
	if ((rc = write_device_tag(w, err)))
		goto out;
	ws_buf_addf(&rel, "scans/%s.cat", w->scan_id);
	store_abs(w->st, &dst, rel.buf);
	store_abs(w->st, &dir, "scans");
	if (rename(w->cat_tmp.buf, dst.buf) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, dst.buf, "cannot move catalog into place");
		goto out;
	}
	ws_buf_reset(&w->cat_tmp);
	rc = ws_fsync_dir(dir.buf, WS_E_IO, err);
	if (!rc && scan_id_out)
		memcpy(scan_id_out, w->scan_id, STORE_SCAN_ID_MAX);
out:
	ws_buf_release(&b);
	ws_buf_release(&dst);
	ws_buf_release(&dir);
	ws_buf_release(&rel);
	store_scan_abort(w);
	return store_nospace_hint(st, rc, err);
}

void store_scan_stop(struct store_writer *w, struct store_write_stats *out)
{
	struct ws_error e;

	if (!w)
		return;
	prev_wait(w);
	ws_error_clear(&e);
	pipe_drain(w, &e);
	ft_drain(w, &e);
	if (!w->failed)
		close_pack(w, &e);
	if (out)
		*out = w->stats;
	store_scan_abort(w);
}

void store_scan_abort(struct store_writer *w)
{
	if (!w)
		return;
	prev_wait(w);
	pipe_free(w);
	ft_stop(w); /* before its descriptor goes */
	if (w->pw)
		store_packw_discard(w->pw);
	if (w->cat_fd >= 0)
		close(w->cat_fd);
	w->cat_fd = -1;
	if (w->cat_tmp.len)
		unlink(w->cat_tmp.buf);
	if (w->marker.len)
		unlink(w->marker.buf);
	free((void *)w->info.rule_files);
	writer_free(w);
}
