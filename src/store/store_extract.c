/*
 * store_extract.c - restoring a scan's files into a plain folder.  Paths
 * come from a catalog that may be hostile: every component is checked (a
 * name Windows cannot hold is refused, as apply does), the
 * tree is walked with openat/mkdirat and O_NOFOLLOW so nothing is written
 * outside the destination, and content is written to an unnamed file (or,
 * where the file system has none, a temporary name) that is named only
 * when every chunk verified.
 */
#include "store/store_private.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
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

struct xctx {
	struct store_catalog *cat;
	const struct store_extract_opts *o;
	struct store_extract_stats *s;
	struct ws_root *root;
	/* the folder chain of the last file, held open: one walk per folder
	 * (files come folder by folder) */
	char *name[XDEPTH];
	int fd[XDEPTH];
	int depth;
	int no_tmpfile;          /* the destination has no unnamed files */
	int no_noreplace;        /* nor renameat2(RENAME_NOREPLACE) */
};

static void xproblem(struct xctx *x, int kind, const char *object,
		     const char *file, const char *msg)
{
	const struct store_scan_info *in = store_catalog_info(x->cat);
	struct store_problem p = { kind, object, in->device, in->scan_id, file, msg };

	if (x->o->on_problem)
		x->o->on_problem(x->o->ctx, &p);
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

static void chain_cut(struct xctx *x, int keep)
{
	while (x->depth > keep) {
		x->depth--;
		close(x->fd[x->depth]);
		free(x->name[x->depth]);
	}
}

/* Open (creating) the folder chain comp[0..n) below the root, never
 * through a link: the part shared with the last file's chain is reused.
 * Returns the chain's descriptor (the caller does not close it: valid until
 * the next open_dirs), or -1 + errno. */
static int open_dirs(struct xctx *x, char **comp, int n)
{
	int k = 0, fd;

	while (k < n && k < x->depth && !strcmp(x->name[k], comp[k]))
		k++;
	chain_cut(x, k);
	fd = k ? x->fd[k - 1] : ws_root_fd(x->root);
	for (int i = k; i < n; i++) {
		int next;

		if (mkdirat(fd, comp[i], 0755) != 0 && errno != EEXIST)
			return -1;
		next = ws_root_step(x->root, fd, comp[i]);
		if (next < 0)
			return -1;
		x->fd[x->depth] = next;
		x->name[x->depth++] = ws_xstrdup(comp[i]);
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

static void set_times(int fd, const struct store_file *f)
{
	struct timespec ts[2];
	int64_t a = f->accessed_ft ? ws_filetime_to_unix_ns(f->accessed_ft) : 0;
	int64_t m = f->written_ft ? ws_filetime_to_unix_ns(f->written_ft) : 0;

	ts[0].tv_sec = a / 1000000000;
	ts[0].tv_nsec = a % 1000000000;
	ts[1].tv_sec = m / 1000000000;
	ts[1].tv_nsec = m % 1000000000;
	if (!f->accessed_ft)
		ts[0].tv_nsec = UTIME_OMIT;
	if (!f->written_ft)
		ts[1].tv_nsec = UTIME_OMIT;
	if (ts[0].tv_nsec >= 0 && ts[1].tv_nsec >= 0 && (f->accessed_ft || f->written_ft))
		futimens(fd, ts);
}

static int extract_one(struct xctx *x, const struct store_file *f,
		       struct ws_error *err)
{
	char *copy = ws_xmalloc(strlen(f->path) + 1);
	char *comp[512];
	const char *why = NULL;
	int n, dfd = -1, fd = -1, rc = WS_OK, le;
	struct ws_buf tmp = WS_BUF_INIT, host = WS_BUF_INIT;
	char drive[2] = { (char)(f->path[0] & ~0x20), 0 };
	char *all[513];

	n = split_path(f->path, copy, comp, 512, &why);
	if (n < 0 || (n == 0 && !(f->flags & STORE_FILE_DIR))) {
		x->s->refused++;
		xproblem(x, STORE_PROBLEM_FILE, "", f->path, why ? why : "not a file path");
		goto out;
	}
	all[0] = drive;
	memcpy(all + 1, comp, (size_t)n * sizeof(char *));
	if (f->flags & STORE_FILE_DIR) {
		int en;

		dfd = open_dirs(x, all, n + 1);
		en = errno;
		if (dfd < 0 && nospace(en)) {
			host_path(x, all, n + 1, &host);
			rc = ws_error_set_errno(err, WS_E_IO, en, host.buf, "cannot create folder");
		} else if (dfd < 0) {
			x->s->refused++;
			xproblem(x, STORE_PROBLEM_FILE, "", f->path,
				 "cannot create the folder (a file or link is in the way)");
		} else {
			x->s->dirs++;
		}
		goto out;
	}
	dfd = open_dirs(x, all, n);
	if (dfd < 0 && nospace(errno)) {
		int en = errno;

		host_path(x, all, n, &host);
		rc = ws_error_set_errno(err, WS_E_IO, en, host.buf, "cannot create folder");
		goto out;
	}
	if (dfd < 0) {
		x->s->refused++;
		xproblem(x, STORE_PROBLEM_FILE, "", f->path,
			 "cannot create its folder (a file or link is in the way)");
		goto out;
	}
	if (f->flags & STORE_FILE_NOT_CAPTURED)
		goto out;
	host_path(x, all, n + 1, &host);
	/* an unnamed file, named only once every chunk verified; a named
	 * temporary where the file system has no unnamed files */
	fd = x->no_tmpfile ? -1 : ws_tmpfile_open(dfd, 0644);
	if (fd < 0 && (x->no_tmpfile || errno == ENOTSUP)) {
		x->no_tmpfile = 1;
		ws_buf_addf(&tmp, ".%.200s.ws-part-", comp[n - 1]);
		ws_random_hex(&tmp, 6);
		fd = openat(dfd, tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	}
	if (fd < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, host.buf, "cannot create file for '%s'",
					f->path);
		goto out;
	}
	struct ws_error e;
	ws_error_clear(&e);
	rc = store_catalog_read_file(x->cat, f, fd, &e);
	if (rc == WS_E_CORRUPT) {
		char m[WS_ERROR_TEXT_MAX + 64];
		snprintf(m, sizeof(m), "not extracted: %s", e.msg);
		x->s->damaged++;
		xproblem(x, STORE_PROBLEM_FILE, e.where, f->path, m);
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
	set_times(fd, f);
	if (!tmp.len) {
		le = ws_tmpfile_link(fd, dfd, comp[n - 1]);
	} else if (!x->no_noreplace &&
		   renameat2(dfd, tmp.buf, dfd, comp[n - 1], RENAME_NOREPLACE) == 0) {
		le = 0;
	} else if (!x->no_noreplace && errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
		le = errno;
		unlinkat(dfd, tmp.buf, 0);
	} else {
		/* no RENAME_NOREPLACE here (not asked again: on FUSE each
		 * refusal is a round trip): link (never replaces), unlink */
		x->no_noreplace = 1;
		le = linkat(dfd, tmp.buf, dfd, comp[n - 1], 0) == 0 ? 0 : errno;
		unlinkat(dfd, tmp.buf, 0);
	}
	if (le) {
		if (le == EEXIST) {
			x->s->refused++;
			xproblem(x, STORE_PROBLEM_FILE, "", f->path,
				 "not extracted: a file of that name exists (names that differ only in case?)");
		} else {
			rc = ws_error_set_errno(err, WS_E_IO, le, host.buf, "cannot create file for '%s'",
						f->path);
		}
		goto out;
	}
	x->s->files++;
	x->s->bytes += f->size;
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
	int rc;

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
			stats->damaged++;
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
		if (rc)
			break;
		struct ws_progress_event ev = { "extract", store_catalog_info(cat)->device, NULL,
						stats->files, 0, stats->bytes, all_bytes,
						(unsigned)(stats->damaged + stats->refused),
						rec.u.file.path };
		ws_progress_emit(opts->progress, &ev);
	}
	store_catalog_ahead(cat, 0);
	chain_cut(&x, 0);
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
