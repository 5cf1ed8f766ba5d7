/*
 * ws_root.c - confined walks below a held root descriptor (see ws_root.h).
 * Each step opens one component relative to the descriptor of its parent:
 * openat2 refuses symlinks, magic links and anything resolving above the
 * parent; the fallback's O_NOFOLLOW | O_DIRECTORY refuses a final link,
 * which with one component per step is every link.
 */
#include "ws_root.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ws_utf.h"

struct ws_root {
	char *path;
	int fd;
	int openat2;
	struct ws_newobj newobj;
	void (*after_mkdir)(void *, int, const char *, const char *);
	void *after_mkdir_ctx;
};

const char *const ws_ntfs_xattrs[] = { "system.ntfs_acl", "system.ntfs_attrib_be", NULL };

static int step2(int dirfd, const char *name)
{
#ifdef SYS_openat2
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
#else
	(void)dirfd;
	(void)name;
	errno = ENOSYS;
	return -1;
#endif
}

int ws_root_open(const char *path, unsigned flags, struct ws_root **out,
		 struct ws_error *err)
{
	struct ws_root *r;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return ws_error_set_errno(err, WS_E_TARGET, errno, path, "cannot open the folder");
	r = ws_xcalloc(1, sizeof(*r));
	r->path = ws_xstrdup(path);
	{
		size_t n = strlen(r->path);

		while (n > 1 && r->path[n - 1] == '/')
			r->path[--n] = '\0';
	}
	r->fd = fd;
	if (getenv("WS_TEST_NO_OPENAT2"))
		flags |= WS_ROOT_NO_OPENAT2;
	if (!(flags & WS_ROOT_NO_OPENAT2)) {
		/* Probe: ENOSYS on old kernels, EPERM under some seccomp filters. */
		int t = step2(fd, ".");

		if (t >= 0) {
			close(t);
			r->openat2 = 1;
		}
	}
	*out = r;
	return WS_OK;
}

void ws_root_free(struct ws_root *r)
{
	if (!r)
		return;
	close(r->fd);
	free(r->path);
	free(r);
}

const char *ws_root_path(const struct ws_root *r)
{
	return r->path;
}

int ws_root_fd(const struct ws_root *r)
{
	return r->fd;
}

int ws_root_has_openat2(const struct ws_root *r)
{
	return r->openat2;
}

void ws_root_set_newobj(struct ws_root *r, const struct ws_newobj *n)
{
	if (n)
		r->newobj = *n;
	else
		memset(&r->newobj, 0, sizeof(r->newobj));
}

void ws_root_set_after_mkdir(struct ws_root *r,
			     void (*fn)(void *ctx, int parent, const char *name,
					const char *rel),
			     void *ctx)
{
	r->after_mkdir = fn;
	r->after_mkdir_ctx = ctx;
}

const char *ws_root_rel(const struct ws_root *r, const char *host)
{
	size_t n = strlen(r->path);

	if (n == 1 && r->path[0] == '/')
		return host[0] == '/' && host[1] ? host + 1 : NULL;
	if (strncmp(host, r->path, n) || host[n] != '/' || !host[n + 1])
		return NULL;
	return host + n + 1;
}

int ws_root_find_child(int dirfd, const char *name, size_t len, struct ws_buf *out)
{
	char exact[NAME_MAX + 1];
	struct stat st;
	DIR *d;
	struct dirent *de;
	char *best = NULL;
	int fd2, e;

	if (len == 0 || len > NAME_MAX)
		return 0;
	memcpy(exact, name, len);
	exact[len] = '\0';
	if (fstatat(dirfd, exact, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		ws_buf_add(out, exact, len);
		return 1;
	}
	fd2 = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd2 < 0)
		return -1;
	d = fdopendir(fd2);
	if (!d) {
		close(fd2);
		return -1;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (ws_name_ncasecmp(de->d_name, strlen(de->d_name), name, len) == 0 &&
		    (!best || strcmp(de->d_name, best) < 0)) {
			free(best);
			best = ws_xstrdup(de->d_name);
		}
		errno = 0;
	}
	e = errno;
	closedir(d);
	if (e && !best) {
		errno = e;
		return -1;
	}
	if (!best)
		return 0;
	ws_buf_adds(out, best);
	free(best);
	return 1;
}

int ws_root_step(const struct ws_root *r, int dirfd, const char *name)
{
	int fd;

	if (!strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/')) {
		errno = EINVAL;
		return -1;
	}
	if (r->openat2) {
		fd = step2(dirfd, name);
		/* openat2 says EXDEV for an escape */
		if (fd < 0 && errno == EXDEV)
			errno = ELOOP;
	} else {
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	/* A link may give ENOTDIR with O_DIRECTORY|O_NOFOLLOW: tell them apart. */
	if (fd < 0 && errno == ENOTDIR) {
		struct stat st;

		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			errno = ELOOP;
		else
			errno = ENOTDIR;
	}
	return fd;
}

/* Fill err for a failed step at `where`. */
static int step_error(int e, const char *where, struct ws_error *err)
{
	if (e == ELOOP)
		return ws_error_set(err, WS_E_TARGET, where,
				    "a link (symlink or junction) is in the way: refused, "
				    "nothing is written through it");
	if (e == ENOTDIR)
		return ws_error_set(err, WS_E_TARGET, where, "not a folder");
	if (e == EINVAL)
		return ws_error_set(err, WS_E_UNSUPPORTED, where, "invalid path component");
	return ws_error_set_errno(err, WS_E_IO, e, where, "cannot open folder");
}

/* Next component of *p (skipping nothing: "" is an error). */
static int next_comp(const char **p, char *name, struct ws_error *err, const char *rel)
{
	const char *s = *p, *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);

	if (len == 0 || len > NAME_MAX || (len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.'))
		return ws_error_set(err, WS_E_UNSUPPORTED, rel,
				    "invalid path component (empty, '.', '..' or too long)");
	memcpy(name, s, len);
	name[len] = '\0';
	*p = slash ? slash + 1 : s + len;
	return WS_OK;
}

/* Walk rel from the root; mk: make what is missing (before() first). */
static int walk(struct ws_root *r, const char *rel, int mk,
		int (*before)(void *, const char *, struct ws_error *), void *ctx,
		int *out, struct ws_buf *actual, struct ws_error *err)
{
	struct ws_buf done = WS_BUF_INIT, found = WS_BUF_INIT;
	const char *p = rel;
	char name[NAME_MAX + 1];
	int fd = dup(r->fd), rc = WS_OK;

	if (fd < 0)
		return ws_error_set_errno(err, WS_E_IO, errno, r->path, "cannot open the root");
	while (*p) {
		int made = 0, next, f;

		if ((rc = next_comp(&p, name, err, rel)))
			break;
		ws_buf_reset(&found);
		f = ws_root_find_child(fd, name, strlen(name), &found);
		if (f < 0) {
			rc = ws_error_set_errno(err, WS_E_IO, errno, done.len ? done.buf : r->path,
						"cannot read folder");
			break;
		}
		if (done.len)
			ws_buf_addch(&done, '/');
		ws_buf_adds(&done, f ? found.buf : name);
		if (!f) {
			if (!mk) {
				rc = ws_error_set_errno(err, WS_E_IO, ENOENT, done.buf,
							"cannot open folder");
				break;
			}
			if (before && (rc = before(ctx, done.buf, err)))
				break;
			if (mkdirat(fd, name, 0755) != 0) {
				rc = ws_error_set_errno(err, WS_E_IO, errno, done.buf,
							"cannot create folder");
				break;
			}
			made = 1;
			if (r->after_mkdir)
				r->after_mkdir(r->after_mkdir_ctx, fd, name, done.buf);
		}
		next = ws_root_step(r, fd, f ? found.buf : name);
		if (next < 0) {
			rc = step_error(errno, done.buf, err);
			break;
		}
		close(fd);
		fd = next;
		if (made && (rc = ws_root_newobj(r, fd, 1, done.buf, err)))
			break;
	}
	if (!rc && actual)
		ws_buf_add(actual, done.buf ? done.buf : "", done.len);
	if (rc || !out)
		close(fd);
	else
		*out = fd;
	ws_buf_release(&done);
	ws_buf_release(&found);
	return rc;
}

int ws_root_opendir(struct ws_root *r, const char *rel, int *fd, struct ws_buf *actual,
		    struct ws_error *err)
{
	return walk(r, rel, 0, NULL, NULL, fd, actual, err);
}

int ws_root_mkdirs(struct ws_root *r, const char *rel,
		   int (*before)(void *ctx, const char *rel, struct ws_error *err),
		   void *ctx, int *fd, struct ws_error *err)
{
	return walk(r, rel, 1, before, ctx, fd, NULL, err);
}

int ws_root_parent(struct ws_root *r, const char *rel, int *dirfd, struct ws_buf *leaf,
		   struct ws_buf *actual, struct ws_error *err)
{
	const char *slash = strrchr(rel, '/');
	const char *name = slash ? slash + 1 : rel;
	struct ws_buf dir = WS_BUF_INIT, act = WS_BUF_INIT;
	size_t mark = leaf->len;
	int rc, f;

	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || strlen(name) > NAME_MAX)
		return ws_error_set(err, WS_E_UNSUPPORTED, rel,
				    "invalid path component (empty, '.', '..' or too long)");
	if (slash)
		ws_buf_add(&dir, rel, (size_t)(slash - rel));
	else
		ws_buf_adds(&dir, "");
	rc = walk(r, dir.buf, 0, NULL, NULL, dirfd, &act, err);
	if (!rc) {
		f = ws_root_find_child(*dirfd, name, strlen(name), leaf);
		if (f < 0) {
			rc = ws_error_set_errno(err, WS_E_IO, errno, rel, "cannot read folder");
			close(*dirfd);
			*dirfd = -1;
		} else if (f == 0) {
			ws_buf_setlen(leaf, mark);
			ws_buf_adds(leaf, name);
		}
	}
	if (!rc && actual) {
		ws_buf_add(actual, act.buf ? act.buf : "", act.len);
		if (act.len)
			ws_buf_addch(actual, '/');
		ws_buf_adds(actual, leaf->buf + mark);
	}
	ws_buf_release(&dir);
	ws_buf_release(&act);
	return rc;
}

int ws_root_newobj(struct ws_root *r, int fd, int is_dir, const char *rel,
		   struct ws_error *err)
{
	if (!r->newobj.fn)
		return WS_OK;
	return r->newobj.fn(r->newobj.ctx, fd, is_dir, rel, err);
}

int ws_remove_tree_at(int at, const char *name)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int fd, e = 0;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0) == 0 || errno == ENOENT ? 0 : errno;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno;
	d = fdopendir(fd);
	if (!d) {
		e = errno;
		close(fd);
		return e;
	}
	while (!e && (de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		e = ws_remove_tree_at(dirfd(d), de->d_name);
	}
	closedir(d);
	if (!e && unlinkat(at, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		e = errno;
	return e;
}

int ws_copy_xattrs(int from, int to, const char *const *names, int keep_existing)
{
	char stack[4096];

	for (; *names; names++) {
		char *buf = stack;
		ssize_t n = fgetxattr(from, *names, NULL, 0);

		if (n < 0) {
			if (errno == ENODATA || errno == ENOTSUP || errno == EOPNOTSUPP)
				continue;
			return errno;
		}
		if (keep_existing && fgetxattr(to, *names, NULL, 0) >= 0)
			continue;
		if ((size_t)n > sizeof(stack))
			buf = ws_xmalloc((size_t)n);
		n = fgetxattr(from, *names, buf, (size_t)n);
		if (n >= 0 && fsetxattr(to, *names, buf, (size_t)n, 0) != 0 &&
		    errno != ENOTSUP && errno != EOPNOTSUPP) {
			int e = errno;

			if (buf != stack)
				free(buf);
			return e;
		}
		if (buf != stack)
			free(buf);
	}
	return 0;
}
