/*
 * store_extract.c - restoring a scan's files into a plain folder.  Paths
 * come from a catalog that may be hostile: every component is checked (a
 * name Windows cannot hold is refused, as apply does), the
 * tree is walked with openat/mkdirat and O_NOFOLLOW so nothing is written
 * outside the destination, and content is written to an unnamed file (or,
 * where the file system has none, a temporary name) that is named only
 * when every chunk verified.
 *
 * With two threads or more, the files of half of the folders (by a hash of
 * the folder's path) are placed by a second thread: the reading thread
 * reads and verifies their content into memory and hands them over, so
 * the two threads share the per-file work of the file system (create,
 * write, times, name).  Each thread keeps its own folder chain; a file is
 * still named only once its content is whole.
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

/* Files handed to the placing thread at a time, and their content bytes;
 * larger files than XJOB_MAX are placed by the reading thread. */
#define XQ_JOBS 64
#define XQ_BYTES (8u << 20)
#define XJOB_MAX (1u << 20)

/* A placing thread's folder chain: that of the last file it placed, held
 * open (files come folder by folder): one walk per folder. */
struct xchain {
	char *name[XDEPTH];
	int fd[XDEPTH];
	int depth;
	int no_tmpfile;          /* the destination has no unnamed files */
	int no_noreplace;        /* nor renameat2(RENAME_NOREPLACE) */
};

/* A file for the placing thread: its path (checked) and its content (read
 * and verified). */
struct xjob {
	char *path;
	struct ws_buf data;
	uint64_t accessed_ft, written_ft;
};

struct xctx {
	struct store_catalog *cat;
	const struct store_extract_opts *o;
	struct store_extract_stats *s;
	struct ws_root *root;
	struct xchain mc;        /* the reading thread's */
	/* the placing thread (started: the store has two threads or more) */
	int helper;
	pthread_t th;
	struct xchain hc;
	pthread_mutex_t mu;      /* the queue, the stats, on_problem */
	pthread_cond_t more;     /* helper: a job, or stop */
	pthread_cond_t room;     /* reader: a job taken or done */
	struct xjob q[XQ_JOBS];
	size_t qhead, qn, qbytes;
	int busy;                /* the helper is placing a job */
	int stop;
	int hrc;                 /* the helper failed (no more placed): */
	struct ws_error herr;
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
 */
static int split_path(const char *path, char *copy,
		      char **comp, size_t max, const char **why)
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
		if ((*why = ws_winname_check(p, strlen(p))))
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
 * never replacing anything; then count it, or report a name taken.  rc. */
static int name_content(struct xctx *x, struct xchain *c, int dfd, int fd,
			const struct ws_buf *tmp, const char *leaf, const char *path,
			uint64_t size, const char *host, struct ws_error *err)
{
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
	if (le)
		return ws_error_set_errno(err, WS_E_IO, le, host, "cannot create file for '%s'", path);
	pthread_mutex_lock(&x->mu);
	x->s->files++;
	x->s->bytes += size;
	pthread_mutex_unlock(&x->mu);
	return WS_OK;
}

/* The placing thread's part: a job's file written and named (its path was
 * checked by the reader). */
static int place_job(struct xctx *x, const struct xjob *j, struct ws_error *err)
{
	char *copy = ws_xmalloc(strlen(j->path) + 1);
	char *comp[512], *all[513];
	char drive[2] = { (char)(j->path[0] & ~0x20), 0 };
	const char *why = NULL;
	struct ws_buf tmp = WS_BUF_INIT, host = WS_BUF_INIT;
	int n, dfd, fd = -1, rc = WS_OK, e;

	n = split_path(j->path, copy, comp, 512, &why);
	if (n < 1) {
		rc = ws_error_set(err, WS_E_INTERNAL, j->path, "not a file path");
		goto out;
	}
	all[0] = drive;
	memcpy(all + 1, comp, (size_t)n * sizeof(char *));
	if ((dfd = file_dir(x, &x->hc, all, n, j->path, &rc, err)) < 0)
		goto out;
	host_path(x, all, n + 1, &host);
	if ((fd = open_content(&x->hc, dfd, comp[n - 1], &tmp)) < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, host.buf, "cannot create file for '%s'",
					j->path);
		goto out;
	}
	if ((e = ws_write_all(fd, j->data.buf, j->data.len))) {
		rc = ws_error_set_errno(err, WS_E_IO, e, host.buf, "cannot write the content of '%s'",
					j->path);
		if (tmp.len)
			unlinkat(dfd, tmp.buf, 0);
		goto out;
	}
	set_times(fd, j->accessed_ft, j->written_ft);
	rc = name_content(x, &x->hc, dfd, fd, &tmp, comp[n - 1], j->path, j->data.len, host.buf,
			  err);
out:
	if (fd >= 0)
		close(fd);
	ws_buf_release(&tmp);
	ws_buf_release(&host);
	free(copy);
	return rc;
}

static void *helper_main(void *arg)
{
	struct xctx *x = arg;

	pthread_mutex_lock(&x->mu);
	for (;;) {
		struct xjob j;
		struct ws_error e;
		int rc = WS_OK;

		while (!x->qn && !x->stop)
			pthread_cond_wait(&x->more, &x->mu);
		if (!x->qn)
			break;
		j = x->q[x->qhead];
		x->qhead = (x->qhead + 1) % XQ_JOBS;
		x->qn--;
		x->qbytes -= j.data.len;
		x->busy = 1;
		pthread_cond_signal(&x->room);
		/* after a failure nothing more is placed */
		if (!x->hrc) {
			pthread_mutex_unlock(&x->mu);
			ws_error_clear(&e);
			rc = place_job(x, &j, &e);
			pthread_mutex_lock(&x->mu);
		}
		if (rc && !x->hrc) {
			x->hrc = rc;
			x->herr = e;
		}
		x->busy = 0;
		pthread_cond_signal(&x->room);
		free(j.path);
		ws_buf_release(&j.data);
	}
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

/* The helper's failure, if any (then copied to err). */
static int helper_failed(struct xctx *x, struct ws_error *err)
{
	int rc;

	pthread_mutex_lock(&x->mu);
	rc = x->hrc;
	if (rc && err)
		*err = x->herr;
	pthread_mutex_unlock(&x->mu);
	return rc;
}

/* Wait until the helper placed every file handed over. */
static void helper_drain(struct xctx *x)
{
	pthread_mutex_lock(&x->mu);
	while (x->qn || x->busy)
		pthread_cond_wait(&x->room, &x->mu);
	pthread_mutex_unlock(&x->mu);
}

/* Hand a job over (waits for room); the helper's failure stops it. */
static int helper_give(struct xctx *x, struct xjob *j, struct ws_error *err)
{
	int rc;

	pthread_mutex_lock(&x->mu);
	while (!x->hrc && (x->qn == XQ_JOBS || (x->qn && x->qbytes + j->data.len > XQ_BYTES)))
		pthread_cond_wait(&x->room, &x->mu);
	if (!(rc = x->hrc)) {
		x->q[(x->qhead + x->qn) % XQ_JOBS] = *j;
		x->qn++;
		x->qbytes += j->data.len;
		pthread_cond_signal(&x->more);
	} else if (err) {
		*err = x->herr;
	}
	pthread_mutex_unlock(&x->mu);
	if (rc) {
		free(j->path);
		ws_buf_release(&j->data);
	}
	return rc;
}

/* Which thread places the files of path's folder: 1 the helper. */
static int helper_part(const char *path)
{
	const char *end = strrchr(path, '\\');
	uint32_t h = 2166136261u;

	for (const char *p = path; p < end; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return (int)((h >> 7) & 1);
}

static int buf_sink(void *ctx, const void *data, size_t len)
{
	ws_buf_add(ctx, data, len);
	return 0;
}

/* A damaged file: reported, not extracted. */
static void damaged(struct xctx *x, const struct store_file *f, const struct ws_error *e)
{
	char m[WS_ERROR_TEXT_MAX + 64];

	snprintf(m, sizeof(m), "not extracted: %s", e->msg);
	xcount(x, &x->s->damaged, 1);
	xproblem(x, STORE_PROBLEM_FILE, e->where, f->path, m);
}

static int extract_one(struct xctx *x, const struct store_file *f,
		       struct ws_error *err)
{
	char *copy = ws_xmalloc(strlen(f->path) + 1);
	char *comp[512];
	const char *why = NULL;
	int n, dfd = -1, fd = -1, rc = WS_OK;
	struct ws_buf tmp = WS_BUF_INIT, host = WS_BUF_INIT;
	char drive[2] = { (char)(f->path[0] & ~0x20), 0 };
	char *all[513];

	n = split_path(f->path, copy, comp, 512, &why);
	if (n < 0 || (n == 0 && !(f->flags & STORE_FILE_DIR))) {
		xcount(x, &x->s->refused, 1);
		xproblem(x, STORE_PROBLEM_FILE, "", f->path, why ? why : "not a file path");
		goto out;
	}
	all[0] = drive;
	memcpy(all + 1, comp, (size_t)n * sizeof(char *));
	if (f->flags & STORE_FILE_DIR) {
		int en;

		dfd = open_dirs(x, &x->mc, all, n + 1);
		en = errno;
		if (dfd < 0 && nospace(en)) {
			host_path(x, all, n + 1, &host);
			rc = ws_error_set_errno(err, WS_E_IO, en, host.buf, "cannot create folder");
		} else if (dfd < 0) {
			xcount(x, &x->s->refused, 1);
			xproblem(x, STORE_PROBLEM_FILE, "", f->path,
				 "cannot create the folder (a file or link is in the way)");
		} else {
			x->s->dirs++;
		}
		goto out;
	}
	if (x->helper && !(f->flags & STORE_FILE_NOT_CAPTURED) && helper_part(f->path)) {
		struct xjob j = { NULL, WS_BUF_INIT, f->accessed_ft, f->written_ft };
		struct ws_error e;

		if (f->size > XJOB_MAX) {
			/* placed here, after the helper's files before it */
			helper_drain(x);
		} else {
			ws_error_clear(&e);
			rc = store_catalog_read_file_cb(x->cat, f, buf_sink, &j.data, &e);
			if (rc == WS_E_CORRUPT) {
				damaged(x, f, &e);
				ws_buf_release(&j.data);
				rc = WS_OK;
				goto out;
			}
			if (rc) {
				if (err)
					*err = e;
				ws_buf_release(&j.data);
				goto out;
			}
			j.path = ws_xstrdup(f->path);
			rc = helper_give(x, &j, err);
			goto out;
		}
	}
	if ((dfd = file_dir(x, &x->mc, all, n, f->path, &rc, err)) < 0)
		goto out;
	if (f->flags & STORE_FILE_NOT_CAPTURED)
		goto out;
	host_path(x, all, n + 1, &host);
	/* an unnamed file, named only once every chunk verified; a named
	 * temporary where the file system has no unnamed files */
	fd = open_content(&x->mc, dfd, comp[n - 1], &tmp);
	if (fd < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, host.buf, "cannot create file for '%s'",
					f->path);
		goto out;
	}
	struct ws_error e;
	ws_error_clear(&e);
	rc = store_catalog_read_file(x->cat, f, fd, &e);
	if (rc == WS_E_CORRUPT) {
		damaged(x, f, &e);
		if (tmp.len)
			unlinkat(dfd, tmp.buf, 0);
		rc = WS_OK;
		goto out;
	}
	if (rc) {
		if (e.sys_errno)   /* the write failed: name the file, not its temporary */
			snprintf(e.where, sizeof(e.where), "%s", host.buf);
		if (err)
			*err = e;
		if (tmp.len)
			unlinkat(dfd, tmp.buf, 0);
		goto out;
	}
	set_times(fd, f->accessed_ft, f->written_ft);
	rc = name_content(x, &x->mc, dfd, fd, &tmp, comp[n - 1], f->path, f->size, host.buf, err);
out:
	if (fd >= 0)
		close(fd);
	ws_buf_release(&tmp);
	ws_buf_release(&host);
	free(copy);
	return rc;
}

int store_extract(struct store_catalog *cat,
		  const struct store_extract_opts *opts,
		  struct store_extract_stats *stats, struct ws_error *err)
{
	struct store_extract_stats dummy;
	struct xctx x;
	struct store_record rec;
	uint64_t all_records, all_bytes;
	int rc, hrc;

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
	x.o = opts;
	x.s = stats;
	if ((rc = ws_root_open(opts->dest, 0, &x.root, err)))
		return rc;
	pthread_mutex_init(&x.mu, NULL);
	pthread_cond_init(&x.more, NULL);
	pthread_cond_init(&x.room, NULL);
	ws_error_clear(&x.herr);
	if (store_cat_threads(cat) > 1)
		x.helper = pthread_create(&x.th, NULL, helper_main, &x) == 0;
	store_catalog_rewind(cat);
	/* the next files' content decoded on the other threads meanwhile */
	store_catalog_ahead(cat, 1);
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
		if (!rc && x.helper)
			rc = helper_failed(&x, err);
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
	if (x.helper) {
		/* the files handed over are placed (after a failure: dropped) */
		pthread_mutex_lock(&x.mu);
		x.stop = 1;
		pthread_cond_signal(&x.more);
		pthread_mutex_unlock(&x.mu);
		pthread_join(x.th, NULL);
		hrc = helper_failed(&x, rc ? NULL : err);
		if (!rc)
			rc = hrc;
	}
	store_catalog_ahead(cat, 0);
	chain_cut(&x.mc, 0);
	chain_cut(&x.hc, 0);
	pthread_cond_destroy(&x.more);
	pthread_cond_destroy(&x.room);
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
