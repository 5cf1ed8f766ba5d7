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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ws_hash.h"
#include "ws_utf.h"

struct rent {
	char *name;              /* NULL: free slot */
	struct ws_rdir *node;    /* the folder's node once walked into */
	unsigned h;
	int dead;                /* removed (a tombstone) */
};

struct ws_rdir {
	struct ws_root *root;    /* for the hash key and the probe count */
	char *rel;               /* path on disk below the root, "" = root */
	const char *name;        /* last component of rel */
	struct ws_rdir *parent;
	int fd;                  /* -1: closed, or pending */
	int pending;             /* announced, not made yet */
	int listed;              /* tab holds every name of the folder */
	struct rent *tab;
	size_t cap, used;        /* slots, slots not free (tombstones too) */
};

struct ws_root {
	char *path;
	int fd;
	int openat2;
	struct ws_newobj newobj;
	void (*after_mkdir)(void *, int, const char *, const char *);
	void *after_mkdir_ctx;
	int cache, defer;
	struct ws_rdir *top;     /* the root's node (fd = r->fd) */
	struct ws_rdir **nodes;  /* every node, in creation order */
	size_t nnodes, anodes;
	struct ws_rdir **pend;   /* pending folders, parents first */
	size_t npend, apend;
	size_t nopen;            /* descriptors held by nodes besides the root */
	struct ws_hkey hkey;     /* the folders' name tables (names come from a store) */
	size_t probes;           /* slots those tables visited (ws_root_probes) */
};

const char *const ws_ntfs_xattrs[] = { "system.ntfs_acl", "system.ntfs_attrib_be", NULL };
const char *const ws_ntfs_xattrs_kept[] = { "user.winstate.ntfs_acl",
					    "user.winstate.ntfs_attrib_be", NULL };

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


/* ---- folder cache ------------------------------------------------------------ */

static unsigned name_hash(const struct ws_rdir *d, const char *name, size_t len)
{
	return (unsigned)ws_hash_name(&d->root->hkey, name, len);
}

/* The entry of `name` (hash h): the one spelled so, else the first in
 * byte order of those equal ignoring case; NULL when none. */
static struct rent *tab_find_h(struct ws_rdir *d, const char *name, size_t len, unsigned h)
{
	struct rent *best = NULL;

	if (!d->cap)
		return NULL;
	for (size_t i = h & (d->cap - 1), k = 0; k < d->cap; i = (i + 1) & (d->cap - 1), k++) {
		struct rent *e = &d->tab[i];

		d->root->probes++;
		if (!e->name && !e->dead)
			break;
		if (e->dead || e->h != h)
			continue;
		if (strlen(e->name) == len && !memcmp(e->name, name, len))
			return e;
		if (ws_name_ncasecmp(e->name, strlen(e->name), name, len) == 0 &&
		    (!best || strcmp(e->name, best->name) < 0))
			best = e;
	}
	return best;
}

static struct rent *tab_find(struct ws_rdir *d, const char *name, size_t len)
{
	return d->cap ? tab_find_h(d, name, len, name_hash(d, name, len)) : NULL;
}

static struct rent *tab_add(struct ws_rdir *d, const char *name)
{
	size_t len = strlen(name);
	unsigned h = name_hash(d, name, len);
	struct rent *e;

	e = tab_find_h(d, name, len, h);
	if (e && !strcmp(e->name, name))
		return e;
	if ((d->used + 1) * 4 >= d->cap * 3) {
		struct rent *old = d->tab;
		size_t ocap = d->cap;

		d->cap = d->cap ? d->cap * 2 : 16;
		d->tab = ws_xcalloc(d->cap, sizeof(*d->tab));
		d->used = 0;
		for (size_t i = 0; i < ocap; i++) {
			if (!old[i].name)
				continue;
			for (size_t j = old[i].h & (d->cap - 1);; j = (j + 1) & (d->cap - 1)) {
				d->root->probes++;
				if (!d->tab[j].name) {
					d->tab[j] = old[i];
					d->used++;
					break;
				}
			}
		}
		free(old);
	}
	for (size_t i = h & (d->cap - 1);; i = (i + 1) & (d->cap - 1)) {
		e = &d->tab[i];
		d->root->probes++;
		if (!e->name) {
			if (!e->dead)
				d->used++;
			e->name = ws_xstrdup(name);
			e->node = NULL;
			e->h = h;
			e->dead = 0;
			return e;
		}
	}
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
	ws_hkey_init(&r->hkey);
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

static void rdir_free(struct ws_rdir *d, int rootfd)
{
	for (size_t i = 0; i < d->cap; i++)
		free(d->tab[i].name);
	free(d->tab);
	if (d->fd >= 0 && d->fd != rootfd)
		close(d->fd);
	free(d->rel);
	free(d);
}

void ws_root_free(struct ws_root *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nnodes; i++)
		rdir_free(r->nodes[i], r->fd);
	free(r->nodes);
	free(r->pend);
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

int ws_root_step_error(int e, const char *where, struct ws_error *err)
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
			rc = ws_root_step_error(errno, done.buf, err);
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

static struct ws_rdir *node_new(struct ws_root *r, struct ws_rdir *parent, const char *name)
{
	struct ws_rdir *d = ws_xcalloc(1, sizeof(*d));

	d->root = r;
	d->parent = parent;
	d->fd = -1;
	if (!parent)
		d->rel = ws_xstrdup("");
	else if (!parent->rel[0])
		d->rel = ws_xstrdup(name);
	else
		d->rel = ws_xasprintf("%s/%s", parent->rel, name);
	d->name = strrchr(d->rel, '/') ? strrchr(d->rel, '/') + 1 : d->rel;
	WS_ALLOC_GROW(r->nodes, r->nnodes + 1, r->anodes);
	r->nodes[r->nnodes++] = d;
	return d;
}

void ws_root_cache_on(struct ws_root *r, int defer)
{
	if (!r->cache) {
		r->cache = 1;
		r->top = node_new(r, NULL, "");
		r->top->fd = r->fd;
	}
	r->defer = defer;
}

/* Close the descriptors the nodes hold (not the root's) when too many. */
static void evict(struct ws_root *r)
{
	if (r->nopen < WS_ROOT_MAX_OPEN)
		return;
	for (size_t i = 0; i < r->nnodes; i++) {
		struct ws_rdir *d = r->nodes[i];

		if (d != r->top && d->fd >= 0) {
			close(d->fd);
			d->fd = -1;
		}
	}
	r->nopen = 0;
}

int ws_rdir_fd(struct ws_root *r, struct ws_rdir *d)
{
	int pfd;

	if (d->fd >= 0)
		return d->fd;
	if (d->pending) {
		errno = ENOENT;
		return -1;
	}
	if ((pfd = ws_rdir_fd(r, d->parent)) < 0)
		return -1;
	d->fd = ws_root_step(r, pfd, d->name);
	if (d->fd >= 0)
		r->nopen++;
	return d->fd;
}

/* Read every name of d once. */
static int rdir_list(struct ws_root *r, struct ws_rdir *d)
{
	DIR *dir;
	struct dirent *de;
	int fd, e;

	if (d->listed || d->pending)
		return 0;
	if ((fd = ws_rdir_fd(r, d)) < 0)
		return -1;
	if ((fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (!(dir = fdopendir(fd))) {
		close(fd);
		return -1;
	}
	errno = 0;
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			tab_add(d, de->d_name);
		errno = 0;
	}
	e = errno;
	closedir(dir);
	if (e) {
		errno = e;
		return -1;
	}
	d->listed = 1;
	return 0;
}

int ws_rdir_find(struct ws_root *r, struct ws_rdir *d, const char *name, struct ws_buf *out)
{
	struct rent *e;

	if (rdir_list(r, d) < 0)
		return -1;
	e = tab_find(d, name, strlen(name));
	if (!e)
		return 0;
	ws_buf_adds(out, e->name);
	return 1;
}

int ws_rdir_pending(const struct ws_rdir *d)
{
	return d->pending;
}

const char *ws_rdir_rel(const struct ws_rdir *d)
{
	return d->rel;
}

void ws_rdir_note(struct ws_rdir *d, const char *name, int present)
{
	struct rent *e;

	if (present) {
		if (d->listed || d->pending)
			tab_add(d, name);
		return;
	}
	e = tab_find(d, name, strlen(name));
	if (e && !strcmp(e->name, name)) {
		free(e->name);
		e->name = NULL;
		e->dead = 1;
		if (e->node) {
			/* a folder removed: its node is forgotten (kept for freeing) */
			e->node->pending = 0;
		}
		e->node = NULL;
	}
}

int ws_root_has_pending(const struct ws_root *r)
{
	return r->npend > 0;
}

/* The cached walk: as walk(), through held nodes; *out the last folder. */
static int cwalk(struct ws_root *r, const char *rel, int mk,
		 int (*before)(void *, const char *, struct ws_error *), void *ctx,
		 struct ws_rdir **out, struct ws_error *err)
{
	struct ws_rdir *d = r->top;
	const char *p = rel;
	char name[NAME_MAX + 1];
	int rc = WS_OK;

	evict(r);
	while (*p) {
		struct ws_rdir *c;
		struct rent *e;

		if ((rc = next_comp(&p, name, err, rel)))
			return rc;
		if (rdir_list(r, d) < 0)
			return ws_error_set_errno(err, WS_E_IO, errno, d->rel[0] ? d->rel : r->path,
						  "cannot read folder");
		e = tab_find(d, name, strlen(name));
		if (!e) {
			char *crel = d->rel[0] ? ws_xasprintf("%s/%s", d->rel, name) : ws_xstrdup(name);
			int pfd;

			if (!mk) {
				rc = ws_error_set_errno(err, WS_E_IO, ENOENT, crel, "cannot open folder");
				free(crel);
				return rc;
			}
			if (before && (rc = before(ctx, crel, err))) {
				free(crel);
				return rc;
			}
			free(crel);
			if (r->defer || d->pending) {
				e = tab_add(d, name);
				c = e->node = node_new(r, d, name);
				c->pending = c->listed = 1;
				WS_ALLOC_GROW(r->pend, r->npend + 1, r->apend);
				r->pend[r->npend++] = c;
				d = c;
				continue;
			}
			if ((pfd = ws_rdir_fd(r, d)) < 0)
				return ws_root_step_error(errno, d->rel, err);
			c = node_new(r, d, name);
			if (mkdirat(pfd, name, 0755) != 0)
				return ws_error_set_errno(err, WS_E_IO, errno, c->rel,
							  "cannot create folder");
			e = tab_add(d, name);
			e->node = c;
			c->listed = 1;
			if (r->after_mkdir)
				r->after_mkdir(r->after_mkdir_ctx, pfd, name, c->rel);
			if (ws_rdir_fd(r, c) < 0)
				return ws_root_step_error(errno, c->rel, err);
			if ((rc = ws_root_newobj(r, c->fd, 1, c->rel, err)))
				return rc;
			d = c;
			continue;
		}
		if (!e->node)
			e->node = node_new(r, d, e->name);
		c = e->node;
		if (!c->pending && ws_rdir_fd(r, c) < 0)
			return ws_root_step_error(errno, c->rel, err);
		d = c;
	}
	*out = d;
	return WS_OK;
}

int ws_root_make_pending(struct ws_root *r, struct ws_error *err)
{
	return ws_root_make_pending_n(r, r->npend, err);
}

size_t ws_root_pending_count(const struct ws_root *r)
{
	return r->npend;
}

size_t ws_root_probes(const struct ws_root *r)
{
	return r->probes;
}

int ws_root_make_pending_n(struct ws_root *r, size_t n, struct ws_error *err)
{
	int rc = WS_OK;
	size_t i;

	if (n > r->npend)
		n = r->npend;
	for (i = 0; i < n && !rc; i++) {
		struct ws_rdir *c = r->pend[i];
		int pfd = ws_rdir_fd(r, c->parent);

		if (!c->pending)
			continue;   /* removed meanwhile */
		if (pfd < 0) {
			rc = ws_root_step_error(errno, c->parent->rel, err);
			break;
		}
		if (mkdirat(pfd, c->name, 0755) != 0) {
			rc = ws_error_set_errno(err, WS_E_IO, errno, c->rel, "cannot create folder");
			break;
		}
		c->pending = 0;
		if (r->after_mkdir)
			r->after_mkdir(r->after_mkdir_ctx, pfd, c->name, c->rel);
		if (ws_rdir_fd(r, c) < 0)
			rc = ws_root_step_error(errno, c->rel, err);
		else
			rc = ws_root_newobj(r, c->fd, 1, c->rel, err);
	}
	/* on an error the rest stay pending and unmade: nothing is written in them */
	if (i < r->npend)
		memmove(r->pend, r->pend + i, (r->npend - i) * sizeof(*r->pend));
	r->npend -= i;
	return rc;
}

void ws_root_note(struct ws_root *r, const char *rel, int present)
{
	const char *slash = strrchr(rel, '/');
	struct ws_buf dir = WS_BUF_INIT;
	struct ws_rdir *d;

	if (!r->cache)
		return;
	if (slash)
		ws_buf_add(&dir, rel, (size_t)(slash - rel));
	else
		ws_buf_adds(&dir, "");
	if (!cwalk(r, dir.buf, 0, NULL, NULL, &d, NULL))
		ws_rdir_note(d, slash ? slash + 1 : rel, present);
	ws_buf_release(&dir);
}

struct ws_rdir *ws_root_pending_at(const struct ws_root *r, size_t i)
{
	return i < r->npend ? r->pend[i] : NULL;
}

void ws_root_take_pending_n(struct ws_root *r, size_t n)
{
	if (n > r->npend)
		n = r->npend;
	memmove(r->pend, r->pend + n, (r->npend - n) * sizeof(*r->pend));
	r->npend -= n;
}

void ws_root_made(struct ws_root *r, struct ws_rdir *d, int fd)
{
	d->pending = 0;
	if (fd < 0)
		return;
	if (d->fd >= 0 || r->nopen >= WS_ROOT_MAX_OPEN) {
		close(fd);
		return;
	}
	d->fd = fd;
	r->nopen++;
}

void ws_root_unmade(struct ws_root *r, struct ws_rdir *d,
		    void (*fn)(void *ctx, const char *rel), void *ctx)
{
	(void)r;
	if (!d->pending)
		return;
	if (fn)
		fn(ctx, d->rel);
	ws_rdir_note(d->parent, d->name, 0);
	d->pending = 0;
}

struct ws_rdir *ws_rdir_parent(const struct ws_rdir *d)
{
	return d->parent;
}

const char *ws_rdir_name(const struct ws_rdir *d)
{
	return d->name;
}

void ws_root_after_mkdir(const struct ws_root *r, int parent, const char *name,
			 const char *rel)
{
	if (r->after_mkdir)
		r->after_mkdir(r->after_mkdir_ctx, parent, name, rel);
}

int ws_root_has_newobj(const struct ws_root *r)
{
	return r->newobj.fn != NULL;
}

void ws_root_drop_pending(struct ws_root *r, void (*fn)(void *ctx, const char *rel), void *ctx)
{
	/* children first: the lines that void them come in that order */
	for (size_t i = r->npend; i-- > 0;) {
		struct ws_rdir *c = r->pend[i];

		if (!c->pending)
			continue;
		if (fn)
			fn(ctx, c->rel);
		ws_rdir_note(c->parent, c->name, 0);
		c->pending = 0;
	}
	r->npend = 0;
}

int ws_root_dir(struct ws_root *r, const char *rel, struct ws_rdir **d,
		struct ws_buf *actual, struct ws_error *err)
{
	int rc;

	if (!r->cache)
		return ws_error_set(err, WS_E_INTERNAL, rel, "no folder cache");
	if ((rc = cwalk(r, rel, 0, NULL, NULL, d, err)))
		return rc;
	if (actual)
		ws_buf_adds(actual, (*d)->rel);
	return WS_OK;
}

/* A descriptor of a cached folder for a caller that closes it. */
static int cdup(struct ws_root *r, struct ws_rdir *d, int *fd, struct ws_error *err)
{
	int h = d->pending ? -1 : ws_rdir_fd(r, d);

	if (h < 0 && d->pending)
		return ws_error_set(err, WS_E_INTERNAL, d->rel, "folder not made yet");
	if (h < 0)
		return ws_root_step_error(errno, d->rel, err);
	if ((*fd = fcntl(h, F_DUPFD_CLOEXEC, 0)) < 0)
		return ws_error_set_errno(err, WS_E_IO, errno, d->rel, "cannot open folder");
	return WS_OK;
}

int ws_root_opendir(struct ws_root *r, const char *rel, int *fd, struct ws_buf *actual,
		    struct ws_error *err)
{
	struct ws_rdir *d;
	int rc;

	if (!r->cache)
		return walk(r, rel, 0, NULL, NULL, fd, actual, err);
	if ((rc = cwalk(r, rel, 0, NULL, NULL, &d, err)) || (rc = cdup(r, d, fd, err)))
		return rc;
	if (actual)
		ws_buf_adds(actual, d->rel);
	return WS_OK;
}

int ws_root_mkdirs(struct ws_root *r, const char *rel,
		   int (*before)(void *ctx, const char *rel, struct ws_error *err),
		   void *ctx, int *fd, struct ws_error *err)
{
	struct ws_rdir *d;
	int rc;

	if (!r->cache)
		return walk(r, rel, 1, before, ctx, fd, NULL, err);
	if ((rc = cwalk(r, rel, 1, before, ctx, &d, err)))
		return rc;
	if (fd && d->pending)
		*fd = -1;
	else if (fd)
		return cdup(r, d, fd, err);
	return WS_OK;
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
	struct ws_rdir *d = NULL;

	if (r->cache) {
		if (!(rc = cwalk(r, dir.buf, 0, NULL, NULL, &d, err)) &&
		    !(rc = cdup(r, d, dirfd, err)))
			ws_buf_adds(&act, d->rel);
	} else {
		rc = walk(r, dir.buf, 0, NULL, NULL, dirfd, &act, err);
	}
	if (!rc) {
		f = d ? ws_rdir_find(r, d, name, leaf)
		      : ws_root_find_child(*dirfd, name, strlen(name), leaf);
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
	return ws_copy_xattrs_as(from, names, to, names, keep_existing);
}

int ws_copy_xattrs_as(int from, const char *const *names, int to, const char *const *as,
		      int keep_existing)
{
	char stack[4096];

	for (; *names; names++, as++) {
		char *buf = stack;
		ssize_t n = fgetxattr(from, *names, NULL, 0);

		if (n < 0) {
			if (errno == ENODATA || errno == ENOTSUP || errno == EOPNOTSUPP)
				continue;
			return errno;
		}
		if (keep_existing && fgetxattr(to, *as, NULL, 0) >= 0)
			continue;
		if ((size_t)n > sizeof(stack))
			buf = ws_xmalloc((size_t)n);
		n = fgetxattr(from, *names, buf, (size_t)n);
		if (n >= 0 && fsetxattr(to, *as, buf, (size_t)n, 0) != 0 &&
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
