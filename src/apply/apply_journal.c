/*
 * apply_journal.c - the undo journal of an apply and apply_undo().
 *
 * Layout on the target:
 *   ProgramData/winstate/journal/<id>/journal.log   append-only, one line per entry
 *   ProgramData/winstate/journal/<id>/saved/<n>     copies of replaced files
 *   ProgramData/winstate/journal/<id>/work/         temporary files of the apply
 * journal.log lines (paths relative to the target root, '%', TAB, CR, LF
 * percent-encoded):
 *   winstate-journal 1
 *   T <path>                          a winstate folder made before the log
 *   D <path>                          folder about to be created
 *   F <path>                          file about to be created
 *   S <n> <mode> <mtime-s> <mtime-ns> <path>   file saved as saved/<n>,
 *                                     about to be replaced
 * Every line is written with one write(2) and fsynced before the change it
 * announces, so the journal is always ahead of the target; a torn last line
 * (no newline) announces nothing that happened.  Temporary files live in
 * work/, so removing the journal removes them.
 */
#include "apply/apply_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "util/ws_fs.h"
#include "util/ws_utf.h"

#define AJ_LOG "journal.log"
#define AJ_MAGIC "winstate-journal 1\n"

struct aj {
	char *root;              /* target root (host), no trailing '/' */
	char *dir;               /* journal folder */
	int fd;                  /* journal.log */
	unsigned long entries;
	unsigned long saved;     /* next saved/<n> */
	unsigned long temps;
	char **done;             /* files saved or created: saved once only */
	size_t ndone, adone;
	void (*hook)(void *, unsigned long);
	void *hook_ctx;
};

const char *aj_dir(const struct aj *j)
{
	return j->dir;
}

static void pct_encode(const char *s, struct ws_buf *out)
{
	for (; *s; s++) {
		if (*s == '%' || *s == '\t' || *s == '\r' || *s == '\n' || *s == ' ')
			ws_buf_addf(out, "%%%02X", (unsigned char)*s);
		else
			ws_buf_addch(out, *s);
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode in place; -1 on a bad escape. */
static int pct_decode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '%') {
			int h = hexval(s[1]), l = h < 0 ? -1 : hexval(s[2]);

			if (h < 0 || l < 0)
				return -1;
			*w++ = (char)(h * 16 + l);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return 0;
}

/* Path of `host` relative to the root; NULL when outside it. */
static const char *rel_of(const struct aj *j, const char *host)
{
	size_t n = strlen(j->root);

	if (strncmp(host, j->root, n) || host[n] != '/' || !host[n + 1])
		return NULL;
	return host + n + 1;
}

static int is_done(const struct aj *j, const char *rel)
{
	for (size_t i = 0; i < j->ndone; i++)
		if (!strcmp(j->done[i], rel))
			return 1;
	return 0;
}

static void mark_done(struct aj *j, const char *rel)
{
	WS_ALLOC_GROW(j->done, j->ndone + 1, j->adone);
	j->done[j->ndone++] = ws_xstrdup(rel);
}

/* Append one line and make it durable. */
static int log_line(struct aj *j, const char *line, size_t len, struct ws_error *err)
{
	int e = ws_write_all(j->fd, line, len);

	if (!e && fdatasync(j->fd) != 0)
		e = errno;
	if (e)
		return ws_error_set_errno(err, WS_E_IO, e, j->dir, "cannot write the undo journal");
	j->entries++;
	if (j->hook)
		j->hook(j->hook_ctx, j->entries);
	return WS_OK;
}

static int log_entry(struct aj *j, const char *head, const char *host, struct ws_error *err)
{
	struct ws_buf l = WS_BUF_INIT;
	const char *rel = rel_of(j, host);
	int rc;

	if (!rel)
		return ws_error_set(err, WS_E_INTERNAL, host, "path outside the target");
	ws_buf_adds(&l, head);
	pct_encode(rel, &l);
	ws_buf_addch(&l, '\n');
	rc = log_line(j, l.buf, l.len, err);
	ws_buf_release(&l);
	return rc;
}

static int parent_fsync(const char *path, struct ws_error *err)
{
	struct ws_buf d = WS_BUF_INIT;
	const char *s = strrchr(path, '/');
	int rc;

	ws_buf_add(&d, path, s && s != path ? (size_t)(s - path) : 1);
	rc = ws_fsync_dir(d.buf, WS_E_IO, err);
	ws_buf_release(&d);
	return rc;
}

/* Create the ProgramData\winstate\journal chain; the folders made are
 * appended to `made` (host paths, NUL-separated). */
static int make_tops(struct vol *vol, struct ws_buf *jroot, struct ws_buf *made,
		     struct ws_error *err)
{
	struct vol_vars vars = VOL_VARS_INIT;
	struct ws_buf win = WS_BUF_INIT, host = WS_BUF_INIT;
	const char *pd;
	enum vol_res res;
	int rc;

	if ((rc = vol_system_vars(vol, &vars, err)))
		goto out;
	pd = vol_vars_get(&vars, "PROGRAMDATA");
	ws_buf_addf(&win, "%s\\winstate\\journal", pd ? pd : "C:\\ProgramData");
	if ((rc = vol_resolve(vol, win.buf, &host, &res, err)))
		goto out;
	if (res == VOL_RES_LINK_IN_PATH || res == VOL_RES_OTHER_DRIVE) {
		rc = ws_error_set(err, WS_E_TARGET, win.buf,
				  "the target's ProgramData folder is a link or elsewhere: "
				  "no journal can be kept there");
		goto out;
	}
	if (res == VOL_RES_MISSING) {
		/* Make each missing level, remembering it. */
		char *p = host.buf;
		size_t rootlen = strlen(vol_get_info(vol)->root);

		for (char *s = p + rootlen + 1; ; s++) {
			if (*s == '/' || *s == '\0') {
				char c = *s;
				struct stat st;

				*s = '\0';
				if (lstat(p, &st) != 0) {
					if (mkdir(p, 0755) != 0) {
						rc = ws_error_set_errno(err, WS_E_IO, errno, p,
									"cannot create folder");
						*s = c;
						goto out;
					}
					ws_buf_add(made, p, strlen(p) + 1);
				} else if (!S_ISDIR(st.st_mode)) {
					rc = ws_error_set(err, WS_E_TARGET, p, "not a folder");
					*s = c;
					goto out;
				}
				*s = c;
				if (!c)
					break;
			}
		}
	}
	ws_buf_add(jroot, host.buf, host.len);
out:
	vol_vars_release(&vars);
	ws_buf_release(&win);
	ws_buf_release(&host);
	return rc;
}

int aj_begin(struct vol *vol, void (*hook)(void *, unsigned long), void *hook_ctx,
	     struct aj **out, struct ws_error *err)
{
	struct aj *j = ws_xcalloc(1, sizeof(*j));
	struct ws_buf jroot = WS_BUF_INIT, made = WS_BUF_INIT, p = WS_BUF_INIT,
		      id = WS_BUF_INIT;
	struct timespec ts;
	struct tm tm;
	int rc;

	j->fd = -1;
	j->hook = hook;
	j->hook_ctx = hook_ctx;
	j->root = ws_xstrdup(vol_get_info(vol)->root);
	if ((rc = make_tops(vol, &jroot, &made, err)))
		goto fail;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	ws_buf_addf(&id, "%04d%02d%02dT%02d%02d%02d.%06ldZ-", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    ts.tv_nsec / 1000);
	ws_random_hex(&id, 4);
	ws_path_join(&p, jroot.buf, id.buf);
	j->dir = ws_buf_detach(&p, NULL);
	if (mkdir(j->dir, 0755) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, j->dir, "cannot create the undo journal");
		goto fail;
	}
	ws_path_join(&p, j->dir, AJ_LOG);
	j->fd = open(p.buf, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
	if (j->fd < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, p.buf, "cannot create the undo journal");
		goto fail;
	}
	{
		struct ws_buf l = WS_BUF_INIT;

		ws_buf_adds(&l, AJ_MAGIC);
		for (size_t off = 0; off < made.len; off += strlen(made.buf + off) + 1) {
			const char *rel = rel_of(j, made.buf + off);

			if (!rel)
				continue;
			ws_buf_adds(&l, "T ");
			pct_encode(rel, &l);
			ws_buf_addch(&l, '\n');
		}
		rc = log_line(j, l.buf, l.len, err);
		ws_buf_release(&l);
		if (rc)
			goto fail;
	}
	ws_buf_reset(&p);
	ws_path_join(&p, j->dir, "saved");
	if (mkdir(p.buf, 0755) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, p.buf, "cannot create folder");
		goto fail;
	}
	ws_buf_reset(&p);
	ws_path_join(&p, j->dir, "work");
	if (mkdir(p.buf, 0755) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, p.buf, "cannot create folder");
		goto fail;
	}
	if ((rc = ws_fsync_dir(j->dir, WS_E_IO, err)) || (rc = parent_fsync(j->dir, err)))
		goto fail;
	*out = j;
	goto out;
fail:
	aj_close(j);
out:
	ws_buf_release(&jroot);
	ws_buf_release(&made);
	ws_buf_release(&p);
	ws_buf_release(&id);
	return rc;
}

void aj_close(struct aj *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	for (size_t i = 0; i < j->ndone; i++)
		free(j->done[i]);
	free(j->done);
	free(j->root);
	free(j->dir);
	free(j);
}

void aj_temp(struct aj *j, const char *tag, struct ws_buf *out)
{
	ws_buf_addf(out, "%s/work/%s-%lu.tmp", j->dir, tag, ++j->temps);
}

/* Copy src to dst (new), fsync. */
static int copy_file(const char *src, const char *dst, struct ws_error *err)
{
	char buf[65536];
	int in, o, rc = WS_OK;
	ssize_t n;

	in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return ws_error_set_errno(err, WS_E_IO, errno, src, "cannot read");
	o = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (o < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, dst, "cannot create");
		close(in);
		return rc;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		int e;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = ws_error_set_errno(err, WS_E_IO, errno, src, "cannot read");
			break;
		}
		if ((e = ws_write_all(o, buf, (size_t)n))) {
			rc = ws_error_set_errno(err, WS_E_IO, e, dst, "cannot write");
			break;
		}
	}
	if (!rc && fsync(o) != 0)
		rc = ws_error_set_errno(err, WS_E_IO, errno, dst, "cannot write");
	close(in);
	if (close(o) != 0 && !rc)
		rc = ws_error_set_errno(err, WS_E_IO, errno, dst, "cannot write");
	return rc;
}

int aj_save(struct aj *j, const char *host, struct ws_error *err)
{
	const char *rel = rel_of(j, host);
	struct ws_buf saved = WS_BUF_INIT, l = WS_BUF_INIT;
	struct stat st;
	unsigned long n;
	int rc;

	if (!rel)
		return ws_error_set(err, WS_E_INTERNAL, host, "path outside the target");
	if (is_done(j, rel))
		return WS_OK;
	if (lstat(host, &st) != 0 || !S_ISREG(st.st_mode))
		return ws_error_set(err, WS_E_IO, host, "not a regular file: cannot save it");
	n = j->saved++;
	ws_buf_addf(&saved, "%s/saved/%lu", j->dir, n);
	if ((rc = copy_file(host, saved.buf, err)) ||
	    (rc = parent_fsync(saved.buf, err)))
		goto out;
	ws_buf_addf(&l, "S %lu %o %lld %ld ", n, (unsigned)(st.st_mode & 07777),
		    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	pct_encode(rel, &l);
	ws_buf_addch(&l, '\n');
	if ((rc = log_line(j, l.buf, l.len, err)))
		goto out;
	mark_done(j, rel);
out:
	ws_buf_release(&saved);
	ws_buf_release(&l);
	return rc;
}

int aj_will_create(struct aj *j, const char *host, struct ws_error *err)
{
	int rc = log_entry(j, "F ", host, err);

	if (!rc)
		mark_done(j, rel_of(j, host));
	return rc;
}

int aj_mkdirs(struct aj *j, const char *host, struct ws_error *err)
{
	char *p = ws_xstrdup(host);
	size_t rootlen = strlen(j->root);
	int rc = WS_OK;

	if (strncmp(p, j->root, rootlen) || p[rootlen] != '/') {
		free(p);
		return ws_error_set(err, WS_E_INTERNAL, host, "path outside the target");
	}
	for (char *s = p + rootlen + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			struct stat st;

			*s = '\0';
			if (lstat(p, &st) != 0) {
				if ((rc = log_entry(j, "D ", p, err)))
					break;
				if (mkdir(p, 0755) != 0) {
					rc = ws_error_set_errno(err, WS_E_IO, errno, p,
								"cannot create folder");
					break;
				}
			} else if (!S_ISDIR(st.st_mode)) {
				rc = ws_error_set(err, WS_E_IO, p, "not a folder");
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return rc;
}

int aj_place(struct aj *j, const char *tmp, const char *dest, int replace,
	     struct ws_error *err)
{
	int rc;

	if (replace) {
		if ((rc = aj_save(j, dest, err)))
			return rc;
		if (rename(tmp, dest) != 0)
			return ws_error_set_errno(err, WS_E_IO, errno, dest,
						  "cannot rename into place");
	} else {
		/* Never announce the creation of something that exists: undo
		 * would remove it. */
		if (ws_path_exists(dest))
			return ws_error_set_errno(err, WS_E_IO, EEXIST, dest, "cannot place file");
		if ((rc = aj_will_create(j, dest, err)))
			return rc;
		if (link(tmp, dest) != 0)
			return ws_error_set_errno(err, WS_E_IO, errno, dest,
						  "cannot place file");
		unlink(tmp);
	}
	return parent_fsync(dest, err);
}

int aj_write_new(struct aj *j, const char *host, const void *data, size_t len,
		 struct ws_error *err)
{
	struct ws_buf tmp = WS_BUF_INIT;
	int fd, e, rc;

	if (!j)
		return ws_write_file_atomic(host, data, len, 0, WS_E_IO, err);
	aj_temp(j, "new", &tmp);
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, tmp.buf, "cannot create");
		goto out;
	}
	e = ws_write_all(fd, data, len);
	if (!e && fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && !e)
		e = errno;
	if (e) {
		rc = ws_error_set_errno(err, WS_E_IO, e, host, "cannot write");
		unlink(tmp.buf);
		goto out;
	}
	rc = aj_place(j, tmp.buf, host, ws_path_exists(host), err);
	unlink(tmp.buf);
out:
	ws_buf_release(&tmp);
	return rc;
}

/* ---- undo ------------------------------------------------------------------ */

struct jent {
	char kind;               /* T D F S */
	unsigned long n;
	unsigned mode;
	long long sec;
	long nsec;
	char *path;              /* host path */
};

static void jents_free(struct jent *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

static int parse_journal(const char *root, const char *jdir, struct jent **out,
			 size_t *nout, struct ws_error *err)
{
	struct ws_buf text = WS_BUF_INIT, lp = WS_BUF_INIT;
	struct jent *v = NULL;
	size_t n = 0, a = 0;
	char *s, *end;
	long lineno = 1;
	int rc = WS_OK;

	ws_path_join(&lp, jdir, AJ_LOG);
	if (!ws_path_exists(lp.buf))
		goto out; /* killed before the log existed: nothing happened */
	if ((rc = ws_read_file(lp.buf, (size_t)1 << 30, &text, err)))
		goto out;
	s = text.buf;
	end = text.buf + text.len;
	if (text.len && (text.len < strlen(AJ_MAGIC) || strncmp(s, AJ_MAGIC, strlen(AJ_MAGIC)))) {
		rc = ws_error_set(err, WS_E_CORRUPT, lp.buf, "not a winstate undo journal");
		goto out;
	}
	if (text.len)
		s += strlen(AJ_MAGIC);
	while (s < end) {
		char *nl = memchr(s, '\n', (size_t)(end - s));
		struct jent e = { 0 };
		char *p, *sp;

		lineno++;
		if (!nl)
			break; /* torn last line: announces nothing that happened */
		*nl = '\0';
		e.kind = s[0];
		p = s + 2;
		if (s[1] != ' ' || !strchr("TDFS", e.kind) || !s[0])
			goto bad;
		if (e.kind == 'S') {
			if (sscanf(p, "%lu %o %lld %ld", &e.n, &e.mode, &e.sec, &e.nsec) != 4)
				goto bad;
			for (int k = 0; k < 4; k++) {
				sp = strchr(p, ' ');
				if (!sp)
					goto bad;
				p = sp + 1;
			}
		}
		if (!*p || pct_decode(p) || strstr(p, "..") == p || strstr(p, "/../") ||
		    p[0] == '/')
			goto bad;
		e.path = ws_xasprintf("%s/%s", root, p);
		WS_ALLOC_GROW(v, n + 1, a);
		v[n++] = e;
		s = nl + 1;
		continue;
bad:
		rc = ws_error_set(err, WS_E_CORRUPT, lp.buf, "malformed journal entry");
		ws_error_at(err, lineno, 0);
		goto out;
	}
out:
	if (rc) {
		jents_free(v, n);
		v = NULL;
		n = 0;
	}
	*out = v;
	*nout = n;
	ws_buf_release(&text);
	ws_buf_release(&lp);
	return rc;
}

/* Newest journal under ProgramData/winstate/journal. */
static int find_journal(struct vol *vol, struct ws_buf *out, struct ws_error *err)
{
	struct vol_vars vars = VOL_VARS_INIT;
	struct ws_buf win = WS_BUF_INIT, host = WS_BUF_INIT;
	enum vol_res res;
	char best[256] = "";
	DIR *d;
	struct dirent *de;
	int rc;

	if ((rc = vol_system_vars(vol, &vars, err)))
		goto out;
	ws_buf_addf(&win, "%s\\winstate\\journal",
		    vol_vars_get(&vars, "PROGRAMDATA") ? vol_vars_get(&vars, "PROGRAMDATA")
						       : "C:\\ProgramData");
	if ((rc = vol_resolve(vol, win.buf, &host, &res, err)))
		goto out;
	if (res != VOL_RES_FOUND || !(d = opendir(host.buf))) {
		rc = ws_error_set(err, WS_E_USAGE, win.buf, "no undo journal on this target");
		goto out;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strlen(de->d_name) < sizeof(best) &&
		    strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof(best), "%s", de->d_name);
	closedir(d);
	if (!best[0]) {
		rc = ws_error_set(err, WS_E_USAGE, win.buf, "no undo journal on this target");
		goto out;
	}
	ws_path_join(out, host.buf, best);
out:
	vol_vars_release(&vars);
	ws_buf_release(&win);
	ws_buf_release(&host);
	return rc;
}

/* Put saved/<n> back at e->path. */
static int restore_one(const char *jdir, const struct jent *e, struct ws_error *err)
{
	struct ws_buf src = WS_BUF_INIT, tmp = WS_BUF_INIT;
	struct timespec ts[2];
	struct stat st;
	int rc = WS_OK;

	ws_buf_addf(&src, "%s/saved/%lu", jdir, e->n);
	ws_buf_addf(&tmp, "%s/work/undo-%lu.tmp", jdir, e->n);
	if (lstat(src.buf, &st) != 0) {
		rc = ws_error_set_errno(err, WS_E_CORRUPT, errno, src.buf,
					"the journal's copy of %s is missing", e->path);
		goto out;
	}
	if ((rc = copy_file(src.buf, tmp.buf, err)))
		goto out;
	chmod(tmp.buf, e->mode & 07777);
	ts[0].tv_sec = (time_t)e->sec;
	ts[0].tv_nsec = e->nsec;
	ts[1] = ts[0];
	utimensat(AT_FDCWD, tmp.buf, ts, 0);
	if (rename(tmp.buf, e->path) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, e->path, "cannot restore");
		unlink(tmp.buf);
		goto out;
	}
	rc = parent_fsync(e->path, err);
out:
	ws_buf_release(&src);
	ws_buf_release(&tmp);
	return rc;
}

int apply_undo(const char *target, const char *journal, struct ws_log *log,
	       struct apply_undo_report *r, struct ws_error *err)
{
	struct vol *vol = NULL;
	struct ws_buf jdir = WS_BUF_INIT;
	struct jent *v = NULL;
	size_t n = 0;
	struct statvfs sv;
	const char *root;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = vol_open(target, &vol, err)))
		return rc;
	root = vol_get_info(vol)->root;
	if (statvfs(root, &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
		rc = ws_error_set(err, WS_E_TARGET, root, "the target is mounted read-only");
		goto out;
	}
	if (journal) {
		char *rp = realpath(journal, NULL);
		size_t rl = strlen(root);
		size_t l;

		if (!rp) {
			rc = ws_error_set_errno(err, WS_E_USAGE, errno, journal, "no such journal");
			goto out;
		}
		l = strlen(rp);
		if (l > strlen("/" AJ_LOG) && !strcmp(rp + l - strlen("/" AJ_LOG), "/" AJ_LOG))
			rp[l - strlen("/" AJ_LOG)] = '\0';
		if (strncmp(rp, root, rl) || rp[rl] != '/') {
			rc = ws_error_set(err, WS_E_USAGE, journal,
					  "this journal is not on the target %s", root);
			free(rp);
			goto out;
		}
		ws_buf_adds(&jdir, rp);
		free(rp);
	} else if ((rc = find_journal(vol, &jdir, err))) {
		goto out;
	}
	snprintf(r->journal, sizeof(r->journal), "%s", jdir.buf);
	if ((rc = parse_journal(root, jdir.buf, &v, &n, err)))
		goto out;
	/* Every saved copy must be there before anything is touched. */
	for (size_t i = 0; i < n; i++) {
		struct ws_buf s = WS_BUF_INIT;

		if (v[i].kind == 'S') {
			ws_buf_addf(&s, "%s/saved/%lu", jdir.buf, v[i].n);
			if (!ws_path_exists(s.buf))
				rc = ws_error_set(err, WS_E_CORRUPT, s.buf,
						  "the journal's copy of %s is missing: nothing undone",
						  v[i].path);
		}
		ws_buf_release(&s);
		if (rc)
			goto out;
	}
	/* Newest first. */
	for (size_t i = n; i-- > 0;) {
		struct jent *e = &v[i];
		struct stat st;

		if (e->kind == 'S') {
			if ((rc = restore_one(jdir.buf, e, err)))
				goto out;
			r->restored++;
		} else if (e->kind == 'F') {
			if (lstat(e->path, &st) == 0 && !S_ISDIR(st.st_mode)) {
				if (unlink(e->path) != 0) {
					rc = ws_error_set_errno(err, WS_E_IO, errno, e->path,
								"cannot remove");
					goto out;
				}
				r->removed_files++;
			}
		} else if (e->kind == 'D') {
			if (rmdir(e->path) == 0)
				r->removed_dirs++;
			else if (errno != ENOENT) {
				r->left_dirs++;
				ws_logf(log, WS_LOG_WARN, e->path,
					"folder made by apply is not empty: left in place");
			}
		}
	}
	if ((rc = ws_remove_tree(jdir.buf, err)))
		goto out;
	/* The winstate folders apply made, innermost first, when empty. */
	for (size_t i = n; i-- > 0;)
		if (v[i].kind == 'T' && rmdir(v[i].path) == 0)
			r->removed_dirs++;
	{
		char *s = strrchr(jdir.buf, '/');

		/* Best effort: the folder may be gone with the winstate ones. */
		if (s) {
			*s = '\0';
			(void)ws_fsync_dir(jdir.buf, WS_E_IO, NULL);
		}
	}
out:
	jents_free(v, n);
	ws_buf_release(&jdir);
	vol_close(vol);
	return rc;
}
