/*
 * vol_walk.c - a safe walk over a folder tree of an offline Windows volume.
 *
 * Never follows a symlink (ntfs-3g shows junctions and OneDrive placeholders
 * as symlinks), never enters a folder already on the current path (same
 * st_dev/st_ino: loops through bind mounts or damaged trees) nor another
 * file system, opens every folder relative to its parent so that long paths
 * work, and reports what it cannot read as an ERROR entry instead of
 * stopping.  Windows attributes and times come from ntfs-3g's xattrs when
 * the mount exposes them.
 */
#include "volume/volume_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/ws_fs.h"
#include "util/ws_utf.h"

#define LINK_TARGET_MAX 65536
#define CLOUD_TEXT "unsupported reparse tag 0x"

void vol_entry_hold_release(struct vol_entry_hold *hold)
{
	ws_buf_release(&hold->path);
	ws_buf_release(&hold->win);
	ws_buf_release(&hold->name);
	ws_buf_release(&hold->target);
	ws_buf_release(&hold->win_target);
	ws_buf_release(&hold->msg);
}

static uint64_t be_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t ft_of(const struct timespec *ts)
{
	return ws_filetime_from_unix_ns((int64_t)ts->tv_sec * 1000000000LL +
					ts->tv_nsec);
}

/* lgetxattr on `name` inside the folder `dirfd` without a long path:
 * /proc/self/fd/N/name (only the last component is not followed). */
static ssize_t xattr_at(struct vol *vol, int dirfd, const char *name,
			const char *full, const char *attr, void *buf,
			size_t size)
{
	char p[64 + NAME_MAX];
	ssize_t r;

	/* atomic: the walk's reading-ahead thread fills entries too */
	if (__atomic_load_n(&vol->no_ntfs_xattr, __ATOMIC_RELAXED))
		return -1;
	if (dirfd >= 0 && strlen(name) <= NAME_MAX)
		snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", dirfd, name);
	else
		snprintf(p, sizeof(p), "%s", "");
	r = lgetxattr(p[0] ? p : full, attr, buf, size);
	if (r < 0 && p[0] && errno == ENOENT) /* no /proc: use the long path */
		r = lgetxattr(full, attr, buf, size);
	if (r < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
		__atomic_store_n(&vol->no_ntfs_xattr, 1, __ATOMIC_RELAXED);
	return r;
}

/* Is the tag a cloud-files placeholder (0x9000?01A)? */
static int tag_is_cloud(uint32_t tag)
{
	return (tag & VOL_TAG_CLOUD_MASK) == VOL_TAG_CLOUD;
}

void vol_entry_set_error(struct vol_entry *e, struct vol_entry_hold *h,
			int code, int errnum, const char *what)
{
	e->type = VOL_ENT_ERROR;
	e->err_code = code;
	e->err_errno = errnum;
	ws_buf_reset(&h->msg);
	if (errnum)
		ws_buf_addf(&h->msg, "%s: %s", what, strerror(errnum));
	else
		ws_buf_adds(&h->msg, what);
	e->err_msg = h->msg.buf;
}

/*
 * Fill `e` for `name` inside the open folder `dirfd`; h->path / h->win /
 * h->name already hold its paths.  Never fails: problems become ERROR.
 */
static void dir_fill(struct vol *vol, long long dh, struct vol_entry *e,
		     struct vol_entry_hold *h, unsigned depth)
{
	int dirfd = (int)dh;
	struct stat st;
	const char *name = h->name.buf;
	unsigned char be[32];

	memset(e, 0, sizeof(*e));
	e->host_path = h->path.buf;
	e->win_path = h->win.buf;
	e->name = name;
	e->depth = depth;
	e->name_valid = ws_utf8_valid(name, h->name.len);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		vol_entry_set_error(e, h, WS_E_IO, errno, "cannot examine");
		return;
	}
	e->mode = st.st_mode;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->write_time = ft_of(&st.st_mtim);
	e->access_time = ft_of(&st.st_atim);
	e->change_time = ft_of(&st.st_ctim);
	e->creation_time = e->write_time;

	if (S_ISREG(st.st_mode)) {
		e->type = VOL_ENT_FILE;
		e->size = (uint64_t)st.st_size;
		e->attributes = VOL_ATTR_ARCHIVE;
		if (!(st.st_mode & 0222))
			e->attributes |= VOL_ATTR_READONLY;
	} else if (S_ISDIR(st.st_mode)) {
		e->type = VOL_ENT_DIR;
		e->attributes = VOL_ATTR_DIRECTORY;
	} else if (S_ISLNK(st.st_mode)) {
		e->type = VOL_ENT_LINK;
		e->attributes = VOL_ATTR_REPARSE_POINT;
	} else {
		e->type = VOL_ENT_OTHER;
	}

	if (xattr_at(vol, dirfd, name, h->path.buf, "system.ntfs_attrib_be",
		     be, 4) == 4) {
		e->attributes = ((uint32_t)be[0] << 24) | ((uint32_t)be[1] << 16) |
				((uint32_t)be[2] << 8) | be[3];
		e->attrs_from_ntfs = 1;
		if (xattr_at(vol, dirfd, name, h->path.buf,
			     "system.ntfs_times_be", be, 32) == 32) {
			e->creation_time = be_u64(be);
			e->write_time = be_u64(be + 8);
			e->access_time = be_u64(be + 16);
			e->change_time = be_u64(be + 24);
		}
	}

	if (e->type == VOL_ENT_LINK ||
	    (e->attributes & VOL_ATTR_REPARSE_POINT)) {
		unsigned char rp[16384]; /* MAXIMUM_REPARSE_DATA_BUFFER_SIZE */

		if (xattr_at(vol, dirfd, name, h->path.buf,
			     "system.ntfs_reparse_data", rp, sizeof(rp)) >= 4)
			e->reparse_tag = ws_get_u32le(rp);
	}

	if (e->type == VOL_ENT_LINK) {
		size_t cap = (size_t)st.st_size + 1;
		ssize_t r;

		if (cap < 64 || cap > LINK_TARGET_MAX)
			cap = cap < 64 ? 64 : LINK_TARGET_MAX;
		for (;;) {
			ws_buf_reset(&h->target);
			ws_buf_grow(&h->target, cap);
			r = readlinkat(dirfd, name, h->target.buf, cap);
			if (r < 0) {
				vol_entry_set_error(e, h, WS_E_IO, errno,
					  "cannot read link");
				return;
			}
			/* st_size can understate (some FUSE file systems) */
			if ((size_t)r < cap || cap >= LINK_TARGET_MAX)
				break;
			cap *= 2;
		}
		ws_buf_setlen(&h->target, (size_t)r);
		e->link_target = h->target.buf;
	}
	vol_entry_classify(vol, e, h);
}

void vol_entry_classify(struct vol *vol, struct vol_entry *e,
			struct vol_entry_hold *h)
{
	if (e->type == VOL_ENT_LINK) {
		size_t rl;

		/* ntfs-3g's text for a tag it has no plugin for */
		if (!e->reparse_tag && e->link_target &&
		    !strncmp(e->link_target, CLOUD_TEXT, strlen(CLOUD_TEXT)))
			e->reparse_tag = (uint32_t)strtoul(
				e->link_target + strlen(CLOUD_TEXT), NULL, 16);
		if (tag_is_cloud(e->reparse_tag)) {
			e->type = VOL_ENT_CLOUD;
		} else if (e->link_target && vol_rel_of(vol, e->link_target, &rl)) {
			ws_buf_reset(&h->win_target);
			if (vol_winpath(vol, e->link_target, &h->win_target,
					NULL) == WS_OK)
				e->link_win_target = h->win_target.buf;
		}
	} else if (e->type == VOL_ENT_FILE &&
		   (tag_is_cloud(e->reparse_tag) ||
		    (e->attrs_from_ntfs &&
		     (e->attributes & (VOL_ATTR_RECALL_ON_DATA_ACCESS |
				       VOL_ATTR_OFFLINE))))) {
		e->type = VOL_ENT_CLOUD;
	}
}

/* ---- the folder backend's operations ------------------------------------ */

static long long dir_open_root(struct vol *vol)
{
	return open(vol->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static long long dir_open_dir(struct vol *vol, long long h, const char *name)
{
	(void)vol;
	return openat((int)h, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static void dir_close_dir(struct vol *vol, long long h)
{
	(void)vol;
	if (h >= 0)
		close((int)h);
}

void vol_list_free(char **names, size_t n)
{
	(void)n;
	free(names); /* one block: vol_names_block */
}

char **vol_names_block(const char *bytes, size_t len, size_t n)
{
	size_t ptrs = (n + 1) * sizeof(char *);
	char **v = ws_xmalloc(ptrs + (len ? len : 1));
	char *s = (char *)v + ptrs;

	if (len)
		memcpy(s, bytes, len);
	for (size_t i = 0; i < n; i++) {
		v[i] = s;
		s += strlen(s) + 1;
	}
	v[n] = NULL;
	return v;
}

static int dot_or_dotdot(const char *s)
{
	return s[0] == '.' && (!s[1] || (s[1] == '.' && !s[2]));
}

/*
 * Read all names of a folder just opened (its descriptor at offset 0:
 * every caller opens it for this); -1 with errno on failure.  The entries
 * are read straight from the descriptor the walk holds, not through a
 * second descriptor and a DIR stream: a folder costs its open and its
 * reads, nothing more.  The records are kept whole (on the stack for most
 * folders) and their names then copied into one block: one allocation
 * per folder, not one per name.
 */
static int dir_read_names(struct vol *vol, long long h, char ***names, size_t *n)
{
	_Alignas(struct dirent64) char stack[32768];
	char *buf = stack;
	size_t cap = sizeof(stack), len = 0, cnt = 0, bytes = 0;
	int fd = (int)h;

	(void)vol;
	for (;;) {
		/* room for a few records, the longest at least (else EINVAL;
		 * FUSE gives names of up to 1024 bytes) */
		if (cap - len < 8192) {
			char *nb = ws_xmalloc(cap * 2);

			memcpy(nb, buf, len);
			if (buf != stack)
				free(buf);
			buf = nb;
			cap *= 2;
		}
		ssize_t got = getdents64(fd, buf + len, cap - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;

			if (buf != stack)
				free(buf);
			errno = e;
			return -1;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	for (size_t off = 0; off < len;) {
		const struct dirent64 *de = (const struct dirent64 *)(buf + off);

		off += de->d_reclen;
		if (dot_or_dotdot(de->d_name))
			continue;
		cnt++;
		bytes += strlen(de->d_name) + 1;
	}

	size_t ptrs = (cnt + 1) * sizeof(char *);
	char **v = ws_xmalloc(ptrs + (bytes ? bytes : 1));
	char *s = (char *)v + ptrs;
	size_t i = 0;

	for (size_t off = 0; off < len;) {
		const struct dirent64 *de = (const struct dirent64 *)(buf + off);
		size_t l;

		off += de->d_reclen;
		if (dot_or_dotdot(de->d_name))
			continue;
		l = strlen(de->d_name) + 1;
		memcpy(s, de->d_name, l);
		v[i++] = s;
		s += l;
	}
	v[cnt] = NULL;
	if (buf != stack)
		free(buf);
	*names = v;
	*n = cnt;
	return 0;
}

static int dir_find_child(struct vol *vol, long long h, const char *name,
			  size_t len, struct ws_buf *out)
{
	(void)vol;
	return vol_find_child((int)h, name, len, out);
}

const struct vol_fsops vol_dir_ops = {
	dir_open_root, dir_open_dir, dir_close_dir, dir_read_names,
	dir_find_child, dir_fill
};

/* ---- walk and stat, over either backend ---------------------------------- */

/* One open folder on the walk's current path. */
struct frame {
	long long h;
	char **names;
	size_t n, i;
	size_t path_len, win_len;
	dev_t dev;
	ino_t ino;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* All names of folder `h`, sorted; -1 with errno. */
int vol_walk_read_names(struct vol *vol, long long h, char ***names, size_t *n)
{
	if (vol->ops->read_names(vol, h, names, n) < 0)
		return -1;
	if (*n)
		qsort(*names, *n, sizeof(**names), cmp_names);
	return 0;
}

long long vol_open_rel(struct vol *vol, const char *rel)
{
	long long h = vol->ops->open_root(vol);
	const char *p = rel;

	while (h >= 0 && *p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		char name[NAME_MAX * 4 + 1];
		long long next;

		if (len == 0) {
			p++;
			continue;
		}
		if (len > NAME_MAX * 4 || (len == 2 && !memcmp(p, "..", 2))) {
			vol->ops->close_dir(vol, h);
			errno = len > NAME_MAX * 4 ? ENAMETOOLONG : EINVAL;
			return -1;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		next = vol->ops->open_dir(vol, h, name);
		int e = errno;
		vol->ops->close_dir(vol, h);
		errno = e;
		h = next;
		p += len;
	}
	return h;
}

int vol_list(struct vol *vol, const char *host_dir, char ***names, size_t *n,
	     struct ws_error *err)
{
	size_t rel_len;
	const char *rel;
	char *r;
	long long h;
	int rc = WS_OK;

	vol = vol_route(vol, host_dir);
	rel = vol_rel_of(vol, host_dir, &rel_len);

	*names = NULL;
	*n = 0;
	if (!rel)
		return ws_error_set(err, WS_E_USAGE, host_dir,
				    "path is not inside the Windows volume %s",
				    vol->root);
	r = ws_xstrndup(rel, rel_len);
	h = vol_open_rel(vol, r);
	free(r);
	if (h < 0 || vol_walk_read_names(vol, h, names, n) < 0)
		rc = ws_error_set_errno(err, WS_E_IO, errno, host_dir,
					"cannot read folder");
	if (h >= 0)
		vol->ops->close_dir(vol, h);
	return rc;
}

/* Split a host path under the root into the parent folder (opened without
 * following links) and the last name.  Returns the handle or -1 with errno. */
static long long open_parent(struct vol *vol, const char *host_path,
			     struct ws_buf *name)
{
	size_t rel_len;
	const char *rel = vol_rel_of(vol, host_path, &rel_len);
	struct ws_buf dir = WS_BUF_INIT;
	long long h;

	ws_buf_reset(name);
	if (rel_len == 0) {
		/* the root: examine it as "." of itself */
		ws_buf_adds(name, ".");
		return vol->ops->open_root(vol);
	}
	ws_buf_add(&dir, rel, rel_len);
	char *slash = strrchr(dir.buf, '/');
	if (slash) {
		ws_buf_adds(name, slash + 1);
		ws_buf_setlen(&dir, (size_t)(slash - dir.buf));
	} else {
		ws_buf_adds(name, dir.buf);
		ws_buf_reset(&dir);
	}
	h = vol_open_rel(vol, dir.buf);
	ws_buf_release(&dir);
	return h;
}

int vol_walk_stat_start(struct vol *vol, const char *host_path,
			struct vol_entry *e, struct vol_entry_hold *h,
			long long *ph, struct ws_error *err)
{
	size_t rel_len;
	long long dh;

	if (!vol_rel_of(vol, host_path, &rel_len))
		return ws_error_set(err, WS_E_USAGE, host_path,
				    "path is not inside the Windows volume %s",
				    vol->root);
	ws_buf_reset(&h->path);
	ws_buf_adds(&h->path, host_path);
	while (h->path.len > 1 && h->path.buf[h->path.len - 1] == '/')
		ws_buf_setlen(&h->path, h->path.len - 1);
	ws_buf_reset(&h->win);
	vol_winpath(vol, h->path.buf, &h->win, NULL);
	dh = open_parent(vol, h->path.buf, &h->name);
	if (dh < 0) {
		memset(e, 0, sizeof(*e));
		e->host_path = h->path.buf;
		e->win_path = h->win.buf;
		e->name = h->name.buf;
		vol_entry_set_error(e, h, WS_E_IO, errno,
			  errno == ELOOP || errno == ENOTDIR
				  ? "a folder on the way is a link or not a folder"
				  : "cannot open parent folder");
		if (ph)
			*ph = -1;
		return WS_OK;
	}
	vol->ops->fill(vol, dh, e, h, 0);
	if (ph)
		*ph = dh;
	else
		vol->ops->close_dir(vol, dh);
	return WS_OK;
}

int vol_stat(struct vol *vol, const char *host_path, struct vol_entry *e,
	     struct vol_entry_hold *hold, struct ws_error *err)
{
	vol = vol_route(vol, host_path);
	return vol_walk_stat_start(vol, host_path, e, hold, NULL, err);
}

/* Run the callback; map a negative return to an error code. */
int vol_walk_call(vol_walk_fn fn, const struct vol_entry *e, void *ctx,
		  struct ws_error *err, int *stop_rc)
{
	struct ws_error cb;
	int r;

	/* cleared, not zeroed: its two texts are 2 KiB, for every entry */
	ws_error_clear(&cb);
	r = fn(e, ctx, &cb);

	if (r < 0) {
		if (cb.code == WS_OK)
			ws_error_set(&cb, WS_E_INTERNAL, e->host_path,
				     "walk callback failed");
		if (err)
			*err = cb;
		*stop_rc = cb.code;
		return VOL_WALK_STOP;
	}
	return r;
}

/* The folder just examined as `e` (dev/ino), opened inside `parent`; the
 * folder backend checks it was not replaced between stat and open. */
long long vol_walk_open_dir(struct vol *vol, long long parent,
			    const char *name, const struct vol_entry *e)
{
	long long h = vol->ops->open_dir(vol, parent, name);
	struct stat fst;

	if (h >= 0 && !vol->nt &&
	    (fstat((int)h, &fst) != 0 || fst.st_dev != e->dev ||
	     fst.st_ino != e->ino)) {
		/* replaced between stat and open: do not trust it */
		vol->ops->close_dir(vol, h);
		h = -1;
		errno = ESTALE;
	}
	return h;
}

int vol_walk_begin(struct vol *vol, const char *host_dir, vol_walk_fn fn,
		   void *ctx, struct vol_entry *e, struct vol_entry_hold *h,
		   long long *ph, int *go, struct ws_error *err)
{
	int rc, stop_rc = WS_OK, r;

	*go = 0;
	*ph = -1;
	rc = vol_walk_stat_start(vol, host_dir, e, h, ph, err);
	if (rc != WS_OK)
		return rc;
	if (e->type == VOL_ENT_ERROR && *ph < 0)
		return ws_error_set_errno(err, WS_E_IO, e->err_errno, host_dir,
					  "%s", "cannot open folder to walk");
	r = vol_walk_call(fn, e, ctx, err, &stop_rc);
	if (r == VOL_WALK_STOP)
		return stop_rc;   /* the callback's error, even on the start folder */
	*go = e->type == VOL_ENT_DIR && r != VOL_WALK_SKIP;
	return WS_OK;
}

int vol_walk(struct vol *vol, const char *host_dir, vol_walk_fn fn, void *ctx,
	     struct ws_error *err)
{
	struct vol_entry_hold h = VOL_ENTRY_HOLD_INIT;
	struct vol_entry e;
	struct frame *st = NULL;
	size_t nst = 0, ast = 0;
	long long ph = -1;
	int rc = WS_OK, stop_rc = WS_OK, r, go;

	vol = vol_route(vol, host_dir);
	if (vol->walk_ahead && vol->ops == &vol_dir_ops)
		return vol_walk_ahead(vol, host_dir, fn, ctx, err);
	rc = vol_walk_begin(vol, host_dir, fn, ctx, &e, &h, &ph, &go, err);
	if (rc != WS_OK || !go)
		goto out;

	/* push the start folder */
	{
		long long dh = vol->ops->open_dir(vol, ph, h.name.buf);
		char **names = NULL;
		size_t n = 0;

		if (dh < 0 || vol_walk_read_names(vol, dh, &names, &n) < 0) {
			rc = ws_error_set_errno(err, WS_E_IO, errno, host_dir,
						"cannot read folder");
			if (dh >= 0)
				vol->ops->close_dir(vol, dh);
			goto out;
		}
		WS_ALLOC_GROW(st, 1, ast);
		st[0] = (struct frame){ dh, names, n, 0, h.path.len, h.win.len,
					e.dev, e.ino };
		nst = 1;
	}

	while (nst) {
		struct frame *f = &st[nst - 1];

		if (f->i == f->n) {
			vol->ops->close_dir(vol, f->h);
			vol_list_free(f->names, f->n);
			nst--;
			continue;
		}
		const char *name = f->names[f->i++];
		unsigned depth = (unsigned)nst;

		ws_buf_setlen(&h.path, f->path_len);
		if (!(h.path.len == 1 && h.path.buf[0] == '/'))
			ws_buf_addch(&h.path, '/');
		ws_buf_adds(&h.path, name);
		ws_buf_setlen(&h.win, f->win_len);
		if (h.win.buf[h.win.len - 1] != '\\')
			ws_buf_addch(&h.win, '\\');
		ws_buf_adds(&h.win, name);
		ws_buf_reset(&h.name);
		ws_buf_adds(&h.name, name);
		vol->ops->fill(vol, f->h, &e, &h, depth);
		if (e.type == VOL_ENT_DIR) {
			for (size_t k = 0; k < nst; k++)
				if (st[k].dev == e.dev && st[k].ino == e.ino)
					e.loop = 1;
			if (e.dev != vol->root_dev)
				e.other_device = 1;
		}
		r = vol_walk_call(fn, &e, ctx, err, &stop_rc);
		if (r == VOL_WALK_STOP)
			break;
		if (e.type != VOL_ENT_DIR || r == VOL_WALK_SKIP || e.loop ||
		    e.other_device)
			continue;
		if (depth >= VOL_WALK_MAX_DEPTH) {
			vol_entry_set_error(&e, &h, WS_E_UNSUPPORTED, 0,
				  "folder nesting too deep: not walked");
			if (vol_walk_call(fn, &e, ctx, err, &stop_rc) == VOL_WALK_STOP)
				break;
			continue;
		}
		long long dh = vol_walk_open_dir(vol, f->h, name, &e);
		char **names = NULL;
		size_t n = 0;

		if (dh < 0 || vol_walk_read_names(vol, dh, &names, &n) < 0) {
			int en = errno;

			if (dh >= 0)
				vol->ops->close_dir(vol, dh);
			vol_entry_set_error(&e, &h, WS_E_IO, en, "cannot read folder");
			if (vol_walk_call(fn, &e, ctx, err, &stop_rc) == VOL_WALK_STOP)
				break;
			continue;
		}
		WS_ALLOC_GROW(st, nst + 1, ast);
		st[nst] = (struct frame){ dh, names, n, 0, h.path.len, h.win.len,
					  e.dev, e.ino };
		nst++;
	}
	while (nst) {
		nst--;
		vol->ops->close_dir(vol, st[nst].h);
		vol_list_free(st[nst].names, st[nst].n);
	}
	if (stop_rc != WS_OK)
		rc = stop_rc;
out:
	free(st);
	if (ph >= 0)
		vol->ops->close_dir(vol, ph);
	vol_entry_hold_release(&h);
	return rc;
}
