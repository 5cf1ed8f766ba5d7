/*
 * store_extract.c - restoring a scan's files into a plain folder.  Paths
 * come from a catalog that may be hostile: every component is checked (a
 * name Windows cannot hold is refused, as apply does), the
 * tree is walked with openat/mkdirat and O_NOFOLLOW so nothing is written
 * outside the destination, and content is written to an unnamed file (or,
 * where the file system has none, a temporary name) that is named only
 * when every chunk verified.
 *
 * The reading thread reads the catalog, checks each path and finds each
 * chunk in its pack, and gathers files and folders into batches (64, or
 * 1 MiB of content); with two threads or more, placing threads (the
 * store's threads less one, at most three) take the batches in turn and,
 * for each file, read, verify and decompress its chunks (those lying one
 * after another in a pack read together) into the unnamed file, then
 * name it: the per-file work of the file system (create, write, times,
 * name) is shared, a thread takes a batch when it is free (none waits on
 * a fixed share), and threads wake once per batch, not per file.  When
 * batches wait already, the reading thread places the oldest itself; it
 * places files over 4 MiB itself as it reads them, their chunks decoded
 * on every thread.  Each thread keeps its own folder chain; a file is
 * still named only once whole.
 */
#include "store/store_private.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/ws_fs.h"
#include "util/ws_root.h"
#include "util/ws_winname.h"

#define EXTRACT_PATH_MAX 4096

#define XDEPTH 513

/* A batch: up to XB_ITEMS files and folders, or XB_BYTES of content (a
 * larger file closes it).  At most XQ_BATCHES wait for a placing thread:
 * then the reading thread places the oldest itself.  Files larger than
 * XBIG are placed by the reading thread when read, their chunks decoded on
 * every thread (store_catalog_read_file). */
#define XB_ITEMS 64
#define XB_BYTES (1u << 20)
#define XQ_BATCHES 4
#define XBIG (4u << 20)
#define XPLACERS_MAX 4
/* Chunks of a batch that follow each other in a pack (at most XSPAN_GAP
 * bytes apart) are read together, XSPAN_MAX bytes at most. */
#define XSPAN_MAX (1u << 20)
#define XSPAN_GAP 4096u

/* A placing thread's folder chain: that of the last file it placed, held
 * open (files come folder by folder): one walk per folder. */
struct xchain {
	char *name[XDEPTH];
	int fd[XDEPTH];
	int depth;
	int no_tmpfile;          /* the destination has no unnamed files */
	int no_noreplace;        /* nor renameat2(RENAME_NOREPLACE) */
};

/* A file or folder of a batch: its path (checked) and its chunks
 * (resolved to their packs by the reading thread), offsets into the
 * batch's arrays. */
struct xitem {
	size_t path;
	size_t chunk0, n_chunks;
	uint32_t flags;
	uint64_t size, accessed_ft, written_ft;
};

struct xbatch {
	struct xitem *it;
	size_t n, cap;
	struct ws_buf paths;     /* the items' paths, NUL-terminated */
	struct store_pack **p;   /* chunk k: its pack and index entry */
	const struct store_ix_entry **e;
	size_t nc, capc;
	uint64_t bytes;
	struct xbatch *next;
};

struct xctx;

/* A placing thread: pl[0] is the reading thread's own. */
struct xplacer {
	struct xctx *x;
	struct xchain c;
	struct store_zctx z;     /* for the chunks of its batches */
	struct ws_buf data;      /* a chunk decoded */
	struct ws_buf span;      /* bytes of span_p from span_off: chunks read together */
	const struct store_pack *span_p;
	uint64_t span_off;
	uint64_t files, bytes, dirs;   /* placed, not yet in the stats */
	pthread_t th;
	int started;
};

struct xctx {
	struct store_catalog *cat;
	struct store *st;
	const struct store_extract_opts *o;
	struct store_extract_stats *s;
	struct ws_root *root;
	struct xplacer pl[XPLACERS_MAX];
	unsigned n_pl;
	pthread_mutex_t mu;      /* the queue, the stats, the failure, on_problem */
	pthread_cond_t more;     /* placing threads: a batch, or stop */
	struct xbatch *qhead, *qtail;   /* batches to place, oldest first */
	size_t qn;
	struct xbatch *spare;    /* placed batches, to reuse */
	struct xbatch *cur;      /* being filled by the reading thread */
	unsigned waiting;        /* placing threads waiting for a batch */
	int stop;
	int failed;              /* frc is set (read without the lock) */
	int frc;                 /* the first failure: nothing more is placed */
	struct ws_error ferr;
};

static void xproblem(struct xctx *x, int kind, const char *object,
		     const char *file, const char *msg)
{
	const struct store_scan_info *in = store_catalog_info(x->cat);
	struct store_problem p = { kind, object, in->device, in->scan_id, file, msg };

	pthread_mutex_lock(&x->mu);
	if (x->o->on_problem)
		x->o->on_problem(x->o->ctx, &p);
	pthread_mutex_unlock(&x->mu);
}

/* *field += n under the lock (stats both threads change). */
static void xcount(struct xctx *x, uint64_t *field, uint64_t n)
{
	pthread_mutex_lock(&x->mu);
	*field += n;
	pthread_mutex_unlock(&x->mu);
}

/*
 * Split a Windows path into components (backslash separated) after the
 * drive: returns the count, or -1 with *why set when the path is refused.
 * check = 0: a path checked before (only split).
 */
static int split_path(const char *path, char *copy,
		      char **comp, size_t max, int check, const char **why)
{
	size_t len = strlen(path), n = 0;
	char *p;

	if (len > EXTRACT_PATH_MAX) {
		*why = "path too long";
		return -1;
	}
	if (len < 3 || path[1] != ':' || path[2] != '\\' ||
	    !((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z'))) {
		*why = "not an absolute Windows path";
		return -1;
	}
	memcpy(copy, path + 3, len - 2);
	/* A folder may be recorded with a trailing backslash. */
	if (len > 3 && copy[len - 4] == '\\')
		copy[len - 4] = '\0';
	if (!*copy)
		return 0;
	for (p = copy;;) {
		char *sep = strchr(p, '\\');

		if (sep)
			*sep = '\0';
		/* the names apply refuses too: the tree must be one Windows can hold */
		if (check && (*why = ws_winname_check(p, strlen(p))))
			return -1;
		if (n == max) {
			*why = "path too deep";
			return -1;
		}
		comp[n++] = p;
		if (!sep)
			break;
		p = sep + 1;
	}
	return (int)n;
}

static int selected(const struct store_extract_opts *o, const char *path)
{
	int inc = o->n_include == 0;

	for (size_t i = 0; i < o->n_include && !inc; i++)
		if (fnmatch(o->include[i], path, FNM_NOESCAPE | FNM_CASEFOLD) == 0)
			inc = 1;
	for (size_t i = 0; i < o->n_exclude && inc; i++)
		if (fnmatch(o->exclude[i], path, FNM_NOESCAPE | FNM_CASEFOLD) == 0)
			inc = 0;
	return inc;
}

static void chain_cut(struct xchain *c, int keep)
{
	while (c->depth > keep) {
		c->depth--;
		close(c->fd[c->depth]);
		free(c->name[c->depth]);
	}
}

/* Open (creating) the folder chain comp[0..n) below the root, never
 * through a link: the part shared with the last file's chain is reused.
 * Returns the chain's descriptor (the caller does not close it: valid until
 * the next open_dirs), or -1 + errno.  Another thread may make the same
 * folder meanwhile: an existing folder is opened as one (never a link). */
static int open_dirs(struct xctx *x, struct xchain *c, char **comp, int n)
{
	int k = 0, fd;

	while (k < n && k < c->depth && !strcmp(c->name[k], comp[k]))
		k++;
	chain_cut(c, k);
	fd = k ? c->fd[k - 1] : ws_root_fd(x->root);
	for (int i = k; i < n; i++) {
		int next;

		if (mkdirat(fd, comp[i], 0755) != 0 && errno != EEXIST)
			return -1;
		next = ws_root_step(x->root, fd, comp[i]);
		if (next < 0)
			return -1;
		c->fd[c->depth] = next;
		c->name[c->depth++] = ws_xstrdup(comp[i]);
		fd = next;
	}
	return fd;
}

/* dest/comp[0]/.../comp[n-1]: the host path messages name. */
static void host_path(const struct xctx *x, char **comp, int n, struct ws_buf *out)
{
	ws_buf_reset(out);
	ws_buf_adds(out, x->o->dest);
	for (int i = 0; i < n; i++)
		ws_buf_addf(out, "/%s", comp[i]);
}

/* A full disk stops the extract (nothing more would fit); 1 if errnum is it. */
static int nospace(int errnum)
{
	return errnum == ENOSPC || errnum == EDQUOT;
}

static void set_times(int fd, uint64_t accessed_ft, uint64_t written_ft)
{
	struct timespec ts[2];
	int64_t a = accessed_ft ? ws_filetime_to_unix_ns(accessed_ft) : 0;
	int64_t m = written_ft ? ws_filetime_to_unix_ns(written_ft) : 0;

	ts[0].tv_sec = a / 1000000000;
	ts[0].tv_nsec = a % 1000000000;
	ts[1].tv_sec = m / 1000000000;
	ts[1].tv_nsec = m % 1000000000;
	if (!accessed_ft)
		ts[0].tv_nsec = UTIME_OMIT;
	if (!written_ft)
		ts[1].tv_nsec = UTIME_OMIT;
	if (ts[0].tv_nsec >= 0 && ts[1].tv_nsec >= 0 && (accessed_ft || written_ft))
		futimens(fd, ts);
}

/* The folder of file `path` (split into all[0..n]) opened through chain c;
 * -1 when it cannot be: a full disk is an error (rc), anything else a
 * refused file (reported). */
static int file_dir(struct xctx *x, struct xchain *c, char **all, int n, const char *path,
		    int *rc, struct ws_error *err)
{
	struct ws_buf host = WS_BUF_INIT;
	int dfd = open_dirs(x, c, all, n), en = errno;

	if (dfd < 0 && nospace(en)) {
		host_path(x, all, n, &host);
		*rc = ws_error_set_errno(err, WS_E_IO, en, host.buf, "cannot create folder");
	} else if (dfd < 0) {
		xcount(x, &x->s->refused, 1);
		xproblem(x, STORE_PROBLEM_FILE, "", path,
			 "cannot create its folder (a file or link is in the way)");
	}
	ws_buf_release(&host);
	return dfd;
}

/* The file that will hold leaf's content in dfd: unnamed, or a temporary
 * name (tmp) where the file system has no unnamed files.  -1 + errno. */
static int open_content(struct xchain *c, int dfd, const char *leaf, struct ws_buf *tmp)
{
	int fd = c->no_tmpfile ? -1 : ws_tmpfile_open(dfd, 0644);

	if (fd < 0 && (c->no_tmpfile || errno == ENOTSUP)) {
		c->no_tmpfile = 1;
		ws_buf_addf(tmp, ".%.200s.ws-part-", leaf);
		ws_random_hex(tmp, 6);
		fd = openat(dfd, tmp->buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	}
	return fd;
}

/* Name the whole file fd (its temporary tmp, or unnamed) leaf in dfd,
 * never replacing anything; then count it, or report a name taken.  rc.
 * all[0..nall): the file's components below dest, for messages. */
static int name_content(struct xplacer *pl, int dfd, int fd,
			const struct ws_buf *tmp, const char *leaf, const char *path,
			uint64_t size, char **all, int nall, struct ws_error *err)
{
	struct xctx *x = pl->x;
	struct xchain *c = &pl->c;
	int le;

	if (!tmp->len) {
		le = ws_tmpfile_link(fd, dfd, leaf);
	} else if (!c->no_noreplace &&
		   renameat2(dfd, tmp->buf, dfd, leaf, RENAME_NOREPLACE) == 0) {
		le = 0;
	} else if (!c->no_noreplace && errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
		le = errno;
		unlinkat(dfd, tmp->buf, 0);
	} else {
		/* no RENAME_NOREPLACE here (not asked again: on FUSE each
		 * refusal is a round trip): link (never replaces), unlink */
		c->no_noreplace = 1;
		le = linkat(dfd, tmp->buf, dfd, leaf, 0) == 0 ? 0 : errno;
		unlinkat(dfd, tmp->buf, 0);
	}
	if (le == EEXIST) {
		xcount(x, &x->s->refused, 1);
		xproblem(x, STORE_PROBLEM_FILE, "", path,
			 "not extracted: a file of that name exists (names that differ only in case?)");
		return WS_OK;
	}
	if (le) {
		struct ws_buf host = WS_BUF_INIT;
		int rc;

		host_path(x, all, nall, &host);
		rc = ws_error_set_errno(err, WS_E_IO, le, host.buf, "cannot create file for '%s'",
					path);
		ws_buf_release(&host);
		return rc;
	}
	pl->files++;
	pl->bytes += size;
	return WS_OK;
}

/* A damaged file: reported, not extracted. */
static void damaged(struct xctx *x, const char *path, const struct ws_error *e)
{
	char m[WS_ERROR_TEXT_MAX + 64];

	snprintf(m, sizeof(m), "not extracted: %s", e->msg);
	xcount(x, &x->s->damaged, 1);
	xproblem(x, STORE_PROBLEM_FILE, e->where, path, m);
}

/* The failure that stops every thread (the first one is kept). */
static void xfail(struct xctx *x, int rc, const struct ws_error *e)
{
	pthread_mutex_lock(&x->mu);
	if (!x->frc) {
		x->frc = rc;
		x->ferr = *e;
		__atomic_store_n(&x->failed, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&x->mu);
}

/* A folder of a batch made through pl's chain.  rc. */
static int place_dir(struct xplacer *pl, const char *path, char **all, int n,
		     struct ws_error *err)
{
	struct xctx *x = pl->x;
	int dfd = open_dirs(x, &pl->c, all, n), en = errno, rc = WS_OK;

	if (dfd < 0 && nospace(en)) {
		struct ws_buf host = WS_BUF_INIT;

		host_path(x, all, n, &host);
		rc = ws_error_set_errno(err, WS_E_IO, en, host.buf, "cannot create folder");
		ws_buf_release(&host);
	} else if (dfd < 0) {
		xcount(x, &x->s->refused, 1);
		xproblem(x, STORE_PROBLEM_FILE, "", path,
			 "cannot create the folder (a file or link is in the way)");
	} else {
		pl->dirs++;
	}
	return rc;
}

/* Chunk k of batch b, whole and verified, into pl->data.  The chunks after
 * it in the batch that lie close behind it in the same pack are read with it
 * (one read), and decoded from memory when their turn comes.  A chunk that
 * does not decode so is read alone, as store_pack_read_blob_z does, for
 * its error.  rc. */
static int read_chunk(struct xplacer *pl, const struct xbatch *b, size_t k,
		      struct ws_error *err)
{
	struct store_pack *p = b->p[k];
	const struct store_ix_entry *e = b->e[k];
	const char *why = NULL;

	if (p != pl->span_p || e->off < pl->span_off ||
	    e->off + e->stored_len > pl->span_off + pl->span.len) {
		uint64_t end = e->off + e->stored_len;
		size_t j;

		for (j = k + 1; j < b->nc && b->p[j] == p; j++) {
			const struct store_ix_entry *n = b->e[j];

			if (n->off < end || n->off - end > XSPAN_GAP ||
			    n->off + n->stored_len - e->off > XSPAN_MAX)
				break;
			end = n->off + n->stored_len;
		}
		pl->span_p = NULL;
		ws_buf_reset(&pl->span);
		if (j > k + 1) {
			ws_buf_grow(&pl->span, (size_t)(end - e->off));
			if (store_read_at(p->fd, pl->span.buf, (size_t)(end - e->off), e->off) == 0) {
				ws_buf_setlen(&pl->span, (size_t)(end - e->off));
				pl->span_p = p;
				pl->span_off = e->off;
			}
		}
	}
	if (pl->span_p == p) {
		if (store_blob_decode(pl->x->st, &pl->z, e->hash, e->raw_len,
				      pl->span.buf + (e->off - pl->span_off), e->stored_len,
				      &pl->data, &why) == 0)
			return WS_OK;
		ws_buf_reset(&pl->data);
	}
	return store_pack_read_blob_z(pl->x->st, p, e, &pl->z, &pl->data, err);
}

/* An item of batch b placed by pl: a folder made, or a file's chunks
 * decoded and verified into an unnamed file (a temporary where the file
 * system has none), named only once all are whole.  rc: only what stops
 * the extract; a damaged or refused file is reported. */
static int place_item(struct xplacer *pl, const struct xbatch *b, const struct xitem *it,
		      struct ws_error *err)
{
	struct xctx *x = pl->x;
	const char *path = b->paths.buf + it->path;
	char copy[EXTRACT_PATH_MAX + 1];
	char *comp[XDEPTH - 1], *all[XDEPTH];
	char drive[2] = { (char)(path[0] & ~0x20), 0 };
	const char *why = NULL;
	struct ws_buf tmp = WS_BUF_INIT, host = WS_BUF_INIT;
	int n, dfd, fd = -1, rc = WS_OK, e;

	n = split_path(path, copy, comp, XDEPTH - 1, 0, &why);
	if (n < 0 || (n == 0 && !(it->flags & STORE_FILE_DIR)))
		return ws_error_set(err, WS_E_INTERNAL, path, "not a file path");
	all[0] = drive;
	memcpy(all + 1, comp, (size_t)n * sizeof(char *));
	if (it->flags & STORE_FILE_DIR)
		return place_dir(pl, path, all, n + 1, err);
	if ((dfd = file_dir(x, &pl->c, all, n, path, &rc, err)) < 0 ||
	    (it->flags & STORE_FILE_NOT_CAPTURED))
		return rc;
	if ((fd = open_content(&pl->c, dfd, comp[n - 1], &tmp)) < 0) {
		host_path(x, all, n + 1, &host);
		rc = ws_error_set_errno(err, WS_E_IO, errno, host.buf, "cannot create file for '%s'",
					path);
		goto out;
	}
	for (size_t k = 0; k < it->n_chunks; k++) {
		struct ws_error de;

		ws_error_clear(&de);
		ws_buf_reset(&pl->data);
		rc = read_chunk(pl, b, it->chunk0 + k, &de);
		if (rc) {
			ws_error_prefix(&de, "file '%s'", path);
			if (rc == WS_E_CORRUPT) {
				damaged(x, path, &de);
				rc = WS_OK;
			} else if (err) {
				*err = de;
			}
			goto drop;
		}
		if ((e = ws_write_all(fd, pl->data.buf, pl->data.len))) {
			host_path(x, all, n + 1, &host);
			rc = ws_error_set_errno(err, WS_E_IO, e, host.buf,
						"cannot write the content of '%s'", path);
			goto drop;
		}
	}
	set_times(fd, it->accessed_ft, it->written_ft);
	rc = name_content(pl, dfd, fd, &tmp, comp[n - 1], path, it->size, all, n + 1, err);
	goto out;
drop:
	if (tmp.len)
		unlinkat(dfd, tmp.buf, 0);
out:
	if (fd >= 0)
		close(fd);
	ws_buf_release(&tmp);
	ws_buf_release(&host);
	return rc;
}

/* Place a batch (nothing more after a failure), then add what was placed
 * to the stats. */
static void place_batch(struct xplacer *pl, const struct xbatch *b)
{
	struct xctx *x = pl->x;

	pl->span_p = NULL;     /* the batch's chunks are read again */
	for (size_t i = 0; i < b->n && !__atomic_load_n(&x->failed, __ATOMIC_ACQUIRE); i++) {
		struct ws_error e;
		int rc;

		ws_error_clear(&e);
		if ((rc = place_item(pl, b, &b->it[i], &e)))
			xfail(x, rc, &e);
	}
	pthread_mutex_lock(&x->mu);
	x->s->files += pl->files;
	x->s->bytes += pl->bytes;
	x->s->dirs += pl->dirs;
	pthread_mutex_unlock(&x->mu);
	pl->files = pl->bytes = pl->dirs = 0;
}

/* An empty batch (lock held, or no other thread): a placed one reused. */
static struct xbatch *batch_new(struct xctx *x)
{
	struct xbatch *b = x->spare;

	if (b) {
		x->spare = b->next;
	} else {
		b = ws_xcalloc(1, sizeof(*b));
		b->cap = XB_ITEMS;
		b->it = ws_xcalloc(b->cap, sizeof(*b->it));
	}
	b->n = b->nc = 0;
	b->bytes = 0;
	b->next = NULL;
	ws_buf_reset(&b->paths);
	return b;
}

/* A placed batch kept for reuse (lock held, or no other thread). */
static void batch_done(struct xctx *x, struct xbatch *b)
{
	b->next = x->spare;
	x->spare = b;
}

static void batch_free_list(struct xbatch *b)
{
	while (b) {
		struct xbatch *next = b->next;

		free(b->it);
		free(b->p);
		free(b->e);
		ws_buf_release(&b->paths);
		free(b);
		b = next;
	}
}

/* The oldest batch waiting (lock held), or NULL. */
static struct xbatch *queue_take(struct xctx *x)
{
	struct xbatch *b = x->qhead;

	if (b) {
		x->qhead = b->next;
		if (!x->qhead)
			x->qtail = NULL;
		x->qn--;
	}
	return b;
}

static void *placer_main(void *arg)
{
	struct xplacer *pl = arg;
	struct xctx *x = pl->x;

	pthread_mutex_lock(&x->mu);
	for (;;) {
		struct xbatch *b = queue_take(x);

		if (!b) {
			if (x->stop)
				break;
			x->waiting++;
			pthread_cond_wait(&x->more, &x->mu);
			x->waiting--;
			continue;
		}
		pthread_mutex_unlock(&x->mu);
		place_batch(pl, b);
		pthread_mutex_lock(&x->mu);
		batch_done(x, b);
	}
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

/* The failure of any thread (copied to err): rc. */
static int xfailed(struct xctx *x, struct ws_error *err)
{
	int rc;

	if (!__atomic_load_n(&x->failed, __ATOMIC_ACQUIRE))
		return WS_OK;
	pthread_mutex_lock(&x->mu);
	rc = x->frc;
	if (err)
		*err = x->ferr;
	pthread_mutex_unlock(&x->mu);
	return rc;
}

/* The reading thread's batch goes to the placing threads (placed here
 * without them); when XQ_BATCHES wait already, the reading thread places
 * the oldest itself meanwhile.  drain: every batch waiting is placed
 * before returning (by whichever thread is free).  rc: a failure. */
static int batch_push(struct xctx *x, int drain, struct ws_error *err)
{
	struct xbatch *b = x->cur;

	x->cur = NULL;
	pthread_mutex_lock(&x->mu);
	if (b && !b->n) {
		batch_done(x, b);
		b = NULL;
	}
	if (b) {
		if (x->qtail)
			x->qtail->next = b;
		else
			x->qhead = b;
		x->qtail = b;
		x->qn++;
		if (x->waiting)
			pthread_cond_signal(&x->more);
	}
	while (x->qn > (drain || x->n_pl == 1 ? 0 : XQ_BATCHES)) {
		struct xbatch *o = queue_take(x);

		pthread_mutex_unlock(&x->mu);
		place_batch(&x->pl[0], o);
		pthread_mutex_lock(&x->mu);
		batch_done(x, o);
	}
	pthread_mutex_unlock(&x->mu);
	return xfailed(x, err);
}

/* A file larger than XBIG, placed by the reading thread as it is read:
 * its chunks decoded on every thread (store_catalog_read_file), into an
 * unnamed file named once every chunk verified.  rc. */
static int place_big(struct xctx *x, const struct store_file *f, char **comp, int n,
		     char **all, struct ws_error *err)
{
	struct xplacer *pl = &x->pl[0];
	struct ws_buf tmp = WS_BUF_INIT, host = WS_BUF_INIT;
	struct ws_error e;
	int dfd, fd, rc = WS_OK;

	if ((dfd = file_dir(x, &pl->c, all, n, f->path, &rc, err)) < 0)
		return rc;
	host_path(x, all, n + 1, &host);
	if ((fd = open_content(&pl->c, dfd, comp[n - 1], &tmp)) < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, host.buf, "cannot create file for '%s'",
					f->path);
		goto out;
	}
	ws_error_clear(&e);
	rc = store_catalog_read_file(x->cat, f, fd, &e);
	if (rc == WS_E_CORRUPT) {
		damaged(x, f->path, &e);
		rc = WS_OK;
		goto drop;
	}
	if (rc) {
		if (e.sys_errno)   /* the write failed: name the file, not its temporary */
			snprintf(e.where, sizeof(e.where), "%s", host.buf);
		if (err)
			*err = e;
		goto drop;
	}
	set_times(fd, f->accessed_ft, f->written_ft);
	rc = name_content(pl, dfd, fd, &tmp, comp[n - 1], f->path, f->size, all, n + 1, err);
	if (!rc) {
		pthread_mutex_lock(&x->mu);
		x->s->files += pl->files;
		x->s->bytes += pl->bytes;
		pthread_mutex_unlock(&x->mu);
		pl->files = pl->bytes = 0;
	}
	goto out;
drop:
	if (tmp.len)
		unlinkat(dfd, tmp.buf, 0);
out:
	if (fd >= 0)
		close(fd);
	ws_buf_release(&tmp);
	ws_buf_release(&host);
	return rc;
}

/* A record of the catalog: its path checked (refused: reported), its
 * chunks found in their packs (damage: reported), then added to the
 * reading thread's batch, or placed here when large.  rc. */
static int extract_one(struct xctx *x, const struct store_file *f, struct ws_error *err)
{
	char copy[EXTRACT_PATH_MAX + 1];
	char *comp[XDEPTH - 1], *all[XDEPTH];
	char drive[2] = { (char)(f->path[0] & ~0x20), 0 };
	const char *why = NULL;
	struct xbatch *b;
	struct xitem *it;
	size_t plen;
	int n, rc = WS_OK;

	n = split_path(f->path, copy, comp, XDEPTH - 1, 1, &why);
	if (n < 0 || (n == 0 && !(f->flags & STORE_FILE_DIR))) {
		xcount(x, &x->s->refused, 1);
		xproblem(x, STORE_PROBLEM_FILE, "", f->path, why ? why : "not a file path");
		return WS_OK;
	}
	if (!(f->flags & (STORE_FILE_DIR | STORE_FILE_NOT_CAPTURED)) && f->size > XBIG) {
		/* the batches before it go first, to the other threads */
		all[0] = drive;
		memcpy(all + 1, comp, (size_t)n * sizeof(char *));
		if ((rc = batch_push(x, 0, err)))
			return rc;
		return place_big(x, f, comp, n, all, err);
	}
	if (!x->cur) {
		pthread_mutex_lock(&x->mu);
		x->cur = batch_new(x);
		pthread_mutex_unlock(&x->mu);
	}
	b = x->cur;
	if (!(f->flags & (STORE_FILE_DIR | STORE_FILE_NOT_CAPTURED))) {
		if (b->nc + f->n_chunks > b->capc) {
			b->capc = (b->nc + f->n_chunks) * 2 + 64;
			b->p = ws_xrealloc(b->p, b->capc * sizeof(*b->p));
			b->e = ws_xrealloc(b->e, b->capc * sizeof(*b->e));
		}
		for (size_t k = 0; k < f->n_chunks; k++) {
			struct ws_error e;

			ws_error_clear(&e);
			rc = store_cat_chunk_entry(x->cat, f, k, &b->p[b->nc + k], &b->e[b->nc + k], &e);
			if (rc == WS_E_CORRUPT) {
				damaged(x, f->path, &e);
				return WS_OK;
			}
			if (rc) {
				if (err)
					*err = e;
				return rc;
			}
		}
	}
	if (b->n == b->cap) {
		b->cap *= 2;
		b->it = ws_xrealloc(b->it, b->cap * sizeof(*b->it));
	}
	it = &b->it[b->n++];
	memset(it, 0, sizeof(*it));
	it->flags = f->flags & (STORE_FILE_DIR | STORE_FILE_NOT_CAPTURED);
	it->path = b->paths.len;
	plen = strlen(f->path);
	ws_buf_add(&b->paths, f->path, plen + 1);
	if (!(it->flags & (STORE_FILE_DIR | STORE_FILE_NOT_CAPTURED))) {
		it->chunk0 = b->nc;
		it->n_chunks = f->n_chunks;
		b->nc += f->n_chunks;
		it->size = f->size;
		it->accessed_ft = f->accessed_ft;
		it->written_ft = f->written_ft;
		b->bytes += f->size;
	}
	if (b->n >= XB_ITEMS || b->bytes >= XB_BYTES)
		return batch_push(x, 0, err);
	return WS_OK;
}

int store_extract(struct store_catalog *cat,
		  const struct store_extract_opts *opts,
		  struct store_extract_stats *stats, struct ws_error *err)
{
	struct store_extract_stats dummy;
	struct xctx x;
	struct store_record rec;
	uint64_t all_records, all_bytes;
	unsigned want;
	int rc, frc;

	if (!stats)
		stats = &dummy;
	memset(stats, 0, sizeof(*stats));
	if (!opts || !opts->dest || !*opts->dest)
		return ws_error_set(err, WS_E_USAGE, "", "extract needs a destination folder");
	rc = ws_mkdir_p(opts->dest, WS_E_TARGET, err);
	if (rc)
		return rc;
	memset(&x, 0, sizeof(x));
	x.cat = cat;
	x.st = store_cat_store(cat);
	x.o = opts;
	x.s = stats;
	if ((rc = ws_root_open(opts->dest, 0, &x.root, err)))
		return rc;
	pthread_mutex_init(&x.mu, NULL);
	pthread_cond_init(&x.more, NULL);
	ws_error_clear(&x.ferr);
	/* the reading thread places too; one more placing thread per core */
	want = store_cat_threads(cat);
	if (want > XPLACERS_MAX)
		want = XPLACERS_MAX;
	x.n_pl = 1;
	for (unsigned k = 0; k < XPLACERS_MAX; k++)
		x.pl[k].x = &x;
	for (unsigned k = 1; k < want; k++) {
		x.pl[k].started = pthread_create(&x.pl[k].th, NULL, placer_main, &x.pl[k]) == 0;
		if (!x.pl[k].started)
			break;
		x.n_pl++;
	}
	store_catalog_rewind(cat);
	store_catalog_totals(cat, &all_records, &all_bytes);
	if (opts->n_include || opts->n_exclude)
		all_bytes = 0;          /* a part: its size is not known beforehand */
	for (;;) {
		struct ws_error ce;

		if (opts->cancel && *opts->cancel) {
			/* between files: every file written so far is whole */
			rc = ws_error_set(err, WS_E_CANCELED, opts->dest, "stopped on request");
			break;
		}
		ws_error_clear(&ce);
		rc = store_catalog_next(cat, &rec, &ce);
		if (rc == WS_E_CORRUPT) {
			/* Lost catalog records: report, go on with the rest. */
			xcount(&x, &stats->damaged, 1);
			xproblem(&x, STORE_PROBLEM_CATALOG, ce.where, NULL, ce.msg);
			rc = WS_OK;
			continue;
		}
		if (rc) {
			if (err)
				*err = ce;
			break;
		}
		if (rec.kind == STORE_REC_END)
			break;
		if (rec.kind != STORE_REC_FILE || !selected(opts, rec.u.file.path))
			continue;
		rc = extract_one(&x, &rec.u.file, err);
		if (!rc)
			rc = xfailed(&x, err);
		if (rc)
			break;
		pthread_mutex_lock(&x.mu);
		struct ws_progress_event ev = { "extract", store_catalog_info(cat)->device, NULL,
						stats->files, 0, stats->bytes, all_bytes,
						(unsigned)(stats->damaged + stats->refused),
						rec.u.file.path };
		pthread_mutex_unlock(&x.mu);
		ws_progress_emit(opts->progress, &ev);
	}
	/* the batches read are placed (after a failure: dropped) */
	frc = batch_push(&x, 1, rc ? NULL : err);
	if (!rc)
		rc = frc;
	pthread_mutex_lock(&x.mu);
	x.stop = 1;
	pthread_cond_broadcast(&x.more);
	pthread_mutex_unlock(&x.mu);
	for (unsigned k = 1; k < x.n_pl; k++)
		pthread_join(x.pl[k].th, NULL);
	if (!rc)
		rc = xfailed(&x, err);
	for (unsigned k = 0; k < x.n_pl; k++) {
		chain_cut(&x.pl[k].c, 0);
		store_zctx_release(&x.pl[k].z);
		ws_buf_release(&x.pl[k].data);
		ws_buf_release(&x.pl[k].span);
	}
	batch_free_list(x.qhead);
	batch_free_list(x.spare);
	pthread_cond_destroy(&x.more);
	pthread_mutex_destroy(&x.mu);
	ws_root_free(x.root);
	if (rc)
		return rc;
	if (stats->damaged)
		return ws_error_set(err, WS_E_CORRUPT, store_catalog_info(cat)->scan_id,
				    "%llu file(s) or catalog part(s) not extracted: content damaged",
				    (unsigned long long)stats->damaged);
	if (stats->refused)
		return ws_error_set(err, WS_PARTIAL, store_catalog_info(cat)->scan_id,
				    "%llu file(s) refused (invalid path or already present)",
				    (unsigned long long)stats->refused);
	return WS_OK;
}
