/*
 * store_ahead.c - decoding ahead (store_catalog_ahead): the catalog's
 * records are read into a ring ahead of the caller, and worker threads
 * read, check and decompress the content of the small files among them
 * while the caller writes the one before.  The ring is a delay line: the
 * caller gets the same records, errors and content in the same order as
 * without it; a file's damage is kept with it and reported only when the
 * caller reads that file.
 *
 * Threads: the caller's thread alone reads the catalog, loads pack
 * indexes and opens pack files; a worker only decodes a slot it took
 * (PENDING -> BUSY under the lock) with its own zstd contexts, into the
 * slot's own buffer.  The caller decodes a slot itself when no worker has
 * taken it yet.
 */
#include "store/store_private.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Records read ahead at most; bytes held at most, files' content and
 * values' data (one record more when the ring holds none); larger files are
 * read when their turn comes (every thread on their chunks,
 * store_catalog_read_file_cb). */
#define AHEAD_RECORDS 256
#define AHEAD_BYTES (16u << 20)
#define AHEAD_FILE_MAX STORE_CHUNK_MAX
#define AHEAD_THREADS_MAX 8
#define AHEAD_WAKE 16

enum slot_state {
	SLOT_NONE,      /* no content ahead (not a file, too large, pack not loaded yet) */
	SLOT_PENDING,   /* to decode */
	SLOT_BUSY,      /* being decoded */
	SLOT_DONE       /* decoded, or its error kept */
};

struct slot {
	int rc;                        /* store_catalog_next's status */
	struct ws_error err;           /* its error */
	struct store_record rec;       /* pointers to this slot's copies */
	char *s1, *s2;                 /* copied strings */
	void *data;                    /* copied chunk refs or value data */
	size_t value_len;              /* a value's data, held in the ring */
	/* content */
	int state;                     /* enum slot_state */
	int maybe;                     /* NONE for now: a pack not loaded, or no room */
	struct store_pack **p;         /* chunk i: pack and index entry */
	const struct store_ix_entry **e;
	struct ws_buf out;             /* the decoded bytes (chunks in order) */
	int read_rc;                   /* of the read; its error: */
	struct ws_error read_err;
};

struct ahead_worker {
	struct store_ahead *ah;
	struct store_zctx z;
	pthread_t th;
	int started;
};

struct store_ahead {
	struct store_catalog *cat;
	struct store *st;
	pthread_mutex_t mu;
	pthread_cond_t work;           /* workers: a slot is pending, or stop */
	pthread_cond_t done;           /* caller: a slot is decoded */
	struct ahead_worker *w;
	unsigned n_alloc, n_w;         /* workers made, started */
	struct slot slots[AHEAD_RECORDS];
	size_t head, count;            /* ring */
	uint64_t head_seq;             /* records handed out before slots[head] */
	uint64_t scan_seq;             /* no slot before this one is PENDING */
	int handed;                    /* slots[head] was returned to the caller */
	int ended;                     /* the reader returned the end or a hard error */
	int stop;
	unsigned idle;                 /* workers waiting for work */
	size_t pending;                /* slots PENDING */
	size_t maybe;                  /* slots left NONE for now (slot.maybe) */
	uint64_t bytes;                /* files' content and values' data in the ring */
};

static struct slot *ring_at(struct store_ahead *ah, size_t k)
{
	return &ah->slots[(ah->head + k) % AHEAD_RECORDS];
}

/* Decode a taken slot's chunks into its buffer (any thread). */
static void slot_decode(struct store_ahead *ah, struct slot *s, struct store_zctx *z)
{
	const struct store_file *f = &s->rec.u.file;

	for (size_t i = 0; i < f->n_chunks; i++) {
		ws_error_clear(&s->read_err);
		s->read_rc = store_pack_read_blob_z(ah->st, s->p[i], s->e[i], z, &s->out,
						    &s->read_err);
		if (s->read_rc) {
			ws_error_prefix(&s->read_err, "file '%s'", f->path);
			return;
		}
	}
}

static struct slot *first_pending(struct store_ahead *ah)
{
	size_t k = ah->scan_seq > ah->head_seq ? (size_t)(ah->scan_seq - ah->head_seq) : 0;

	for (; k < ah->count; k++) {
		struct slot *s = ring_at(ah, k);

		if (s->state == SLOT_PENDING) {
			ah->scan_seq = ah->head_seq + k + 1;
			return s;
		}
	}
	ah->scan_seq = ah->head_seq + ah->count;
	return NULL;
}

static void *worker_main(void *arg)
{
	struct ahead_worker *w = arg;
	struct store_ahead *ah = w->ah;

	pthread_mutex_lock(&ah->mu);
	while (!ah->stop) {
		struct slot *s = first_pending(ah);

		if (!s) {
			ah->idle++;
			pthread_cond_wait(&ah->work, &ah->mu);
			ah->idle--;
			continue;
		}
		s->state = SLOT_BUSY;
		ah->pending--;
		pthread_mutex_unlock(&ah->mu);
		slot_decode(ah, s, &w->z);
		pthread_mutex_lock(&ah->mu);
		s->state = SLOT_DONE;
		pthread_cond_broadcast(&ah->done);
	}
	pthread_mutex_unlock(&ah->mu);
	return NULL;
}

/* Wait until no worker decodes s (lock held). */
static void slot_quiet(struct store_ahead *ah, struct slot *s)
{
	while (s->state == SLOT_BUSY)
		pthread_cond_wait(&ah->done, &ah->mu);
}

/* Forget a slot's record and content (lock held, slot not BUSY). */
static void slot_clear(struct store_ahead *ah, struct slot *s)
{
	if (s->rec.kind == STORE_REC_FILE && s->state != SLOT_NONE)
		ah->bytes -= s->rec.u.file.size;
	ah->bytes -= s->value_len;
	if (s->state == SLOT_PENDING)
		ah->pending--;
	if (s->maybe)
		ah->maybe--;
	free(s->s1);
	free(s->s2);
	free(s->data);
	free(s->p);
	free(s->e);
	ws_buf_release(&s->out);
	memset(s, 0, sizeof(*s));
}

/* A copy of rec whose pointers the slot owns. */
static void slot_copy(struct slot *s, const struct store_record *rec)
{
	s->rec = *rec;
	if (rec->kind == STORE_REC_KEY) {
		s->rec.u.key.path = s->s1 = ws_xstrdup(rec->u.key.path);
	} else if (rec->kind == STORE_REC_VALUE) {
		const struct store_value *v = &rec->u.value;

		s->rec.u.value.key = s->s1 = ws_xstrdup(v->key);
		s->rec.u.value.name = s->s2 = ws_xstrdup(v->name);
		s->data = ws_xmemdup(v->data, v->len ? v->len : 1);
		s->rec.u.value.data = s->data;
		s->value_len = v->len;
	} else if (rec->kind == STORE_REC_FILE) {
		const struct store_file *f = &rec->u.file;

		s->rec.u.file.path = s->s1 = ws_xstrdup(f->path);
		s->data = ws_xmemdup(f->chunks, (f->n_chunks ? f->n_chunks : 1) *
				     sizeof(*f->chunks));
		s->rec.u.file.chunks = s->data;
	}
}

/* Whether a file's content is worth taking ahead at all. */
static int slot_small_file(const struct slot *s)
{
	const struct store_file *f = &s->rec.u.file;

	return s->rc == WS_OK && s->rec.kind == STORE_REC_FILE &&
	       !(f->flags & (STORE_FILE_DIR | STORE_FILE_NOT_CAPTURED)) &&
	       f->n_chunks >= 1 && f->size <= AHEAD_FILE_MAX;
}

/*
 * Resolve a small file's chunks (caller's thread) and make it PENDING:
 * only through packs already loaded, so that loading one (and the error it
 * keeps) happens when the file is read in order, as without reading ahead.
 * A chunk not in its pack or a pack that does not open: the error is kept
 * for the read.  Returns 1 when the slot takes content bytes.
 */
static int slot_prepare(struct store_ahead *ah, struct slot *s, size_t k)
{
	const struct store_file *f = &s->rec.u.file;

	int later = ah->bytes && ah->bytes + f->size > AHEAD_BYTES;   /* no room now */

	for (size_t i = 0; i < f->n_chunks && !later; i++)
		later = !store_cat_pack_loaded(ah->cat, f->chunks[i].pack);
	if (later != s->maybe) {
		if (later)
			ah->maybe++;
		else
			ah->maybe--;
		s->maybe = later;
	}
	if (later)
		return 0;
	s->p = ws_xcalloc(f->n_chunks, sizeof(*s->p));
	s->e = ws_xcalloc(f->n_chunks, sizeof(*s->e));
	ws_buf_grow(&s->out, (size_t)f->size);
	for (size_t i = 0; i < f->n_chunks; i++) {
		ws_error_clear(&s->read_err);
		s->read_rc = store_cat_chunk_entry(ah->cat, f, i, &s->p[i], &s->e[i],
						   &s->read_err);
		if (s->read_rc) {
			s->state = SLOT_DONE;
			ah->bytes += f->size;
			return 1;
		}
	}
	s->state = SLOT_PENDING;
	if (ah->scan_seq > ah->head_seq + k)
		ah->scan_seq = ah->head_seq + k;
	ah->pending++;
	ah->bytes += f->size;
	return 1;
}

/* Read records into the ring while there is room (caller's thread). */
static void ahead_fill(struct store_ahead *ah)
{
	int woke = 0;

	/* files left without content (a pack not loaded then, or no room) */
	for (size_t k = ah->handed ? 1 : 0; ah->maybe && k < ah->count; k++) {
		struct slot *s = ring_at(ah, k);

		if (s->maybe && s->state == SLOT_NONE) {
			pthread_mutex_lock(&ah->mu);
			woke |= slot_prepare(ah, s, k);
			pthread_mutex_unlock(&ah->mu);
		}
	}
	while (!ah->ended && ah->count < AHEAD_RECORDS && ah->bytes < AHEAD_BYTES) {
		struct store_record rec;
		struct slot *s = ring_at(ah, ah->count);

		memset(s, 0, sizeof(*s));
		ws_error_clear(&s->err);
		s->rc = store_cat_next_raw(ah->cat, &rec, &s->err);
		if (s->rc == WS_OK)
			slot_copy(s, &rec);
		/* damage: the reader goes on after it; anything else ends */
		if ((s->rc && s->rc != WS_E_CORRUPT) ||
		    (s->rc == WS_OK && rec.kind == STORE_REC_END))
			ah->ended = 1;
		pthread_mutex_lock(&ah->mu);
		ah->count++;
		ah->bytes += s->value_len;      /* values count against the budget too */
		if (ah->n_w && slot_small_file(s))
			woke |= slot_prepare(ah, s, ah->count - 1);
		pthread_mutex_unlock(&ah->mu);
	}
	/* workers are woken for a batch of files, not for each (each wake
	 * is a system call or two); the caller decodes a file itself when
	 * its turn comes first */
	if (woke) {
		pthread_mutex_lock(&ah->mu);
		if (ah->idle && (ah->pending >= AHEAD_WAKE ||
				 (ah->pending && (ah->bytes >= AHEAD_BYTES / 2 || ah->ended))))
			pthread_cond_broadcast(&ah->work);
		pthread_mutex_unlock(&ah->mu);
	}
}

/* Give the handed slot back. */
static void ahead_release_head(struct store_ahead *ah)
{
	if (!ah->handed)
		return;
	pthread_mutex_lock(&ah->mu);
	slot_quiet(ah, &ah->slots[ah->head]);
	slot_clear(ah, &ah->slots[ah->head]);
	ah->head = (ah->head + 1) % AHEAD_RECORDS;
	ah->head_seq++;
	ah->count--;
	ah->handed = 0;
	pthread_mutex_unlock(&ah->mu);
}

int store_ahead_next(struct store_ahead *ah, struct store_record *rec,
		     struct ws_error *err)
{
	struct slot *s;

	ahead_release_head(ah);
	/* the reader after its end or a hard error: asked again, as without */
	if (!ah->count)
		ah->ended = 0;
	ahead_fill(ah);
	s = &ah->slots[ah->head];
	ah->handed = 1;
	if (s->rc) {
		if (err)
			*err = s->err;
		memset(rec, 0, sizeof(*rec));
		return s->rc;
	}
	*rec = s->rec;
	return WS_OK;
}

int store_ahead_read(struct store_ahead *ah, const struct store_file *file,
		     store_data_fn fn, void *ctx, int *rc, struct ws_error *err)
{
	struct slot *s;

	if (!ah->handed)
		return 0;
	s = &ah->slots[ah->head];
	if (s->rc || s->rec.kind != STORE_REC_FILE || file->path != s->rec.u.file.path ||
	    file->chunks != s->rec.u.file.chunks)
		return 0;       /* not the record last returned: read as usual */
	pthread_mutex_lock(&ah->mu);
	if (s->state == SLOT_NONE) {
		pthread_mutex_unlock(&ah->mu);
		return 0;
	}
	if (s->state == SLOT_PENDING) {
		s->state = SLOT_BUSY;
		ah->pending--;
		pthread_mutex_unlock(&ah->mu);
		slot_decode(ah, s, &ah->st->z);
		pthread_mutex_lock(&ah->mu);
		s->state = SLOT_DONE;
	}
	slot_quiet(ah, s);
	pthread_mutex_unlock(&ah->mu);
	/* what decoded before a damaged chunk goes out first, as without */
	*rc = s->out.len ? fn(ctx, s->out.buf, s->out.len) : WS_OK;
	if (!*rc && s->read_rc) {
		if (err)
			*err = s->read_err;
		*rc = s->read_rc;
	}
	return 1;
}

/* Forget every record read ahead (the reader's position is reset by the
 * caller). */
void store_ahead_reset(struct store_ahead *ah)
{
	pthread_mutex_lock(&ah->mu);
	while (ah->count) {
		struct slot *s = &ah->slots[ah->head];

		slot_quiet(ah, s);
		slot_clear(ah, s);
		ah->head = (ah->head + 1) % AHEAD_RECORDS;
		ah->count--;
	}
	ah->head = 0;
	ah->head_seq = ah->scan_seq = 0;
	ah->handed = 0;
	ah->ended = 0;
	pthread_mutex_unlock(&ah->mu);
}

struct store_ahead *store_ahead_new(struct store_catalog *cat, struct store *st)
{
	struct store_ahead *ah = ws_xcalloc(1, sizeof(*ah));
	unsigned n = st->threads > 1 ? st->threads - 1 : 0;

	if (n > AHEAD_THREADS_MAX)
		n = AHEAD_THREADS_MAX;
	ah->cat = cat;
	ah->st = st;
	pthread_mutex_init(&ah->mu, NULL);
	pthread_cond_init(&ah->work, NULL);
	pthread_cond_init(&ah->done, NULL);
	ah->w = ws_xcalloc(n ? n : 1, sizeof(*ah->w));
	ah->n_alloc = n;
	for (unsigned k = 0; k < n; k++) {
		ah->w[k].ah = ah;
		ah->w[k].started = pthread_create(&ah->w[k].th, NULL, worker_main, &ah->w[k]) == 0;
		if (ah->w[k].started)
			ah->n_w++;
	}
	return ah;
}

void store_ahead_free(struct store_ahead *ah)
{
	if (!ah)
		return;
	store_ahead_reset(ah);
	pthread_mutex_lock(&ah->mu);
	ah->stop = 1;
	pthread_cond_broadcast(&ah->work);
	pthread_mutex_unlock(&ah->mu);
	for (unsigned k = 0; k < ah->n_alloc; k++) {
		if (ah->w[k].started)
			pthread_join(ah->w[k].th, NULL);
		store_zctx_release(&ah->w[k].z);
	}
	free(ah->w);
	pthread_cond_destroy(&ah->work);
	pthread_cond_destroy(&ah->done);
	pthread_mutex_destroy(&ah->mu);
	free(ah);
}
