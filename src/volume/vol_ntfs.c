/*
 * vol_ntfs.c - the NTFS backend: a Windows volume read in-process through
 * libntfs-3g from a byte source (blockdev/), read-only, without a mount.
 *
 * libntfs-3g reads through our own device operations (ntfs_device_alloc),
 * so an image file, a partition at an offset and a decrypted BitLocker
 * volume all work, and nothing can be written: every write operation of
 * the device fails with EROFS.  What the handle reports is what ntfs-3g
 * shows when it mounts the same volume (ntfs-3g.c's getattr, readdir and
 * readlink, the system.ntfs_* xattrs): the same library calls produce
 * attributes, times, reparse data, link texts and security descriptors, so a
 * scan of an image equals a scan of the mounted volume.
 *
 * Handles of the backend's folder operations are MFT record numbers.
 */
#include "volume/volume_private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>   /* before ntfs-3g's headers: they test st_mtime */
#include <unistd.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/cache.h>
#include <ntfs-3g/device.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/layout.h>
#include <ntfs-3g/reparse.h>
#include <ntfs-3g/security.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>

#include "blockdev/blockdev.h"
#include "util/ws_fs.h"
#include "util/ws_utf.h"

/* ntfs-3g.c's text for a reparse point it cannot show as a link */
#define BAD_REPARSE "unsupported reparse tag 0x%08lx"

/* A hive copied out of the image (vol_nt_local_copy). */
struct nt_copy {
	char *src, *local;
};

struct vol_nt {
	struct bd_source *src;
	int owns_src;             /* vol_open_source opened it */
	ntfs_volume *nv;
	struct nt_copy *copies;
	size_t ncopies, acopies;
};

/* ---- device operations over a byte source --------------------------------- */

struct nt_dev {
	struct bd_source *src;
	s64 pos;
};

static int dev_open(struct ntfs_device *dev, int flags)
{
	if ((flags & O_ACCMODE) != O_RDONLY) {
		errno = EROFS;
		return -1;
	}
	NDevSetOpen(dev);
	NDevSetReadOnly(dev);
	return 0;
}

static int dev_close(struct ntfs_device *dev)
{
	NDevClearOpen(dev);
	return 0;
}

static s64 dev_pread(struct ntfs_device *dev, void *buf, s64 count, s64 off)
{
	struct nt_dev *d = dev->d_private;
	uint64_t size = bd_size(d->src);

	if (count < 0 || off < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((uint64_t)off >= size || count == 0)
		return 0;
	if ((uint64_t)count > size - (uint64_t)off)
		count = (s64)(size - (uint64_t)off);
	if (bd_read_at(d->src, buf, (size_t)count, (uint64_t)off, NULL) != WS_OK) {
		errno = EIO;
		return -1;
	}
	return count;
}

static s64 dev_seek(struct ntfs_device *dev, s64 offset, int whence)
{
	struct nt_dev *d = dev->d_private;
	s64 base = whence == SEEK_SET ? 0 :
		   whence == SEEK_CUR ? d->pos : (s64)bd_size(d->src);

	if ((whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) ||
	    base + offset < 0) {
		errno = EINVAL;
		return -1;
	}
	d->pos = base + offset;
	return d->pos;
}

static s64 dev_read(struct ntfs_device *dev, void *buf, s64 count)
{
	struct nt_dev *d = dev->d_private;
	s64 n = dev_pread(dev, buf, count, d->pos);

	if (n > 0)
		d->pos += n;
	return n;
}

static s64 dev_write(struct ntfs_device *dev, const void *buf, s64 count)
{
	(void)dev; (void)buf; (void)count;
	errno = EROFS;
	return -1;
}

static s64 dev_pwrite(struct ntfs_device *dev, const void *buf, s64 count,
		      s64 off)
{
	(void)dev; (void)buf; (void)count; (void)off;
	errno = EROFS;
	return -1;
}

static int dev_sync(struct ntfs_device *dev)
{
	(void)dev;
	return 0;
}

static int dev_stat(struct ntfs_device *dev, struct stat *st)
{
	struct nt_dev *d = dev->d_private;

	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0444;
	st->st_size = (off_t)bd_size(d->src);
	return 0;
}

static int dev_ioctl(struct ntfs_device *dev, unsigned long request, void *argp)
{
	(void)dev; (void)request; (void)argp;
	errno = ENOTTY;
	return -1;
}

static struct ntfs_device_operations nt_dev_ops = {
	.open = dev_open, .close = dev_close, .seek = dev_seek,
	.read = dev_read, .write = dev_write, .pread = dev_pread,
	.pwrite = dev_pwrite, .sync = dev_sync, .stat = dev_stat,
	.ioctl = dev_ioctl,
};

/* Mount `src` read-only.  Not NTFS: WS_E_NOT_WINDOWS with *not_ntfs = 1. */
static int nt_mount(struct bd_source *src, ntfs_volume **out, int *not_ntfs,
		    struct ws_error *err)
{
	struct nt_dev *d;
	struct ntfs_device *dev;
	ntfs_volume *nv;
	unsigned char bs[512];
	int e;

	*out = NULL;
	*not_ntfs = 0;
	if (bd_size(src) < sizeof(bs) ||
	    bd_read_at(src, bs, sizeof(bs), 0, NULL) != WS_OK ||
	    memcmp(bs + 3, "NTFS    ", 8) != 0) {
		*not_ntfs = 1;
		return ws_error_set(err, WS_E_NOT_WINDOWS, src->name,
				    "not an NTFS file system (no NTFS boot sector)");
	}
	d = ws_xcalloc(1, sizeof(*d));
	d->src = src;
	dev = ntfs_device_alloc(src->name, 0, &nt_dev_ops, d);
	if (!dev) {
		free(d);
		return ws_error_set(err, WS_E_INTERNAL, src->name,
				    "cannot allocate an NTFS device");
	}
	/* read-only: libntfs-3g then neither checks nor touches the
	 * hibernation file or the journal, and writes nothing */
	errno = 0;
	nv = ntfs_device_mount(dev, NTFS_MNT_RDONLY);
	if (!nv) {
		e = errno ? errno : EIO;
		ntfs_device_free(dev);
		free(d);
		return ws_error_set_errno(err, WS_E_IO, e, src->name,
					  "the NTFS file system cannot be read "
					  "(damaged or truncated)");
	}
	/* as ntfs_mount does: its name lookups need the caches */
	ntfs_create_lru_caches(nv);
	/* what ntfs-3g shows by default: no metadata files, hidden ones too */
	ntfs_set_shown_files(nv, FALSE, TRUE, FALSE);
	*out = nv;
	return WS_OK;
}

static void nt_umount(ntfs_volume *nv)
{
	struct ntfs_device *dev;
	struct nt_dev *d;

	if (!nv)
		return;
	dev = nv->dev;
	d = dev->d_private;
	ntfs_umount(nv, TRUE); /* frees the device */
	free(d);
}

void vol_nt_close(struct vol_nt *nt)
{
	if (!nt)
		return;
	for (size_t i = 0; i < nt->ncopies; i++) {
		free(nt->copies[i].src);
		free(nt->copies[i].local);
	}
	free(nt->copies);
	nt_umount(nt->nv);
	if (nt->owns_src)
		bd_close(nt->src);
	free(nt);
}

/* ---- folders ------------------------------------------------------------ */

static ntfs_volume *NV(struct vol *vol)
{
	return vol->nt->nv;
}

static long long nt_open_root(struct vol *vol)
{
	(void)vol;
	return FILE_root;
}

/* The inode of `name` in folder `h` ("." is the folder); NULL with errno. */
static ntfs_inode *child_inode(struct vol *vol, long long h, const char *name)
{
	ntfs_inode *dir, *ni;
	u64 mref;

	if (!strcmp(name, "."))
		return ntfs_inode_open(NV(vol), (MFT_REF)h);
	dir = ntfs_inode_open(NV(vol), (MFT_REF)h);
	if (!dir)
		return NULL;
	errno = 0;
	mref = ntfs_inode_lookup_by_mbsname(dir, name);
	ntfs_inode_close(dir);
	/* ntfs-3g never shows records 0 and 1 */
	if (mref == (u64)-1 || MREF(mref) <= 1) {
		errno = ENOENT;
		return NULL;
	}
	ni = ntfs_inode_open(NV(vol), MREF(mref));
	return ni;
}

static int is_dir(const ntfs_inode *ni)
{
	return !!(ni->mrec->flags & MFT_RECORD_IS_DIRECTORY);
}

static long long nt_open_dir(struct vol *vol, long long h, const char *name)
{
	ntfs_inode *ni = child_inode(vol, h, name);
	long long r;

	if (!ni)
		return -1;
	if (ni->flags & FILE_ATTR_REPARSE_POINT) {
		errno = ELOOP; /* a link on a mount: O_NOFOLLOW refuses it */
		r = -1;
	} else if (!is_dir(ni)) {
		errno = ENOTDIR;
		r = -1;
	} else {
		r = (long long)ni->mft_no;
	}
	ntfs_inode_close(ni);
	return r;
}

static void nt_close_dir(struct vol *vol, long long h)
{
	(void)vol;
	(void)h;
}

struct names_ctx {
	struct ws_buf bytes;      /* the names, each ending in '\0' */
	size_t n;
	int err;
};

/* ntfs_readdir's callback: the names ntfs-3g's readdir would give. */
static int names_fill(void *ctx, const ntfschar *name, const int name_len,
		      const int name_type, const s64 pos, const MFT_REF mref,
		      const unsigned dt_type)
{
	struct names_ctx *c = ctx;
	char *s = NULL;
	int len;

	(void)pos;
	(void)dt_type;
	if (name_type == FILE_NAME_DOS || MREF(mref) <= 1)
		return 0;
	len = ntfs_ucstombs(name, name_len, &s, 0);
	if (len < 0) {
		c->err = errno ? errno : EILSEQ;
		return -1;
	}
	if ((len == 1 && s[0] == '.') || (len == 2 && !strcmp(s, ".."))) {
		free(s);
		return 0;
	}
	ws_buf_add(&c->bytes, s, strlen(s) + 1);
	c->n++;
	free(s);
	return 0;
}

static int nt_read_names(struct vol *vol, long long h, char ***names, size_t *n)
{
	struct names_ctx c = { WS_BUF_INIT, 0, 0 };
	ntfs_inode *dir = ntfs_inode_open(NV(vol), (MFT_REF)h);
	s64 pos = 0;
	int r;

	if (!dir)
		return -1;
	errno = 0;
	r = ntfs_readdir(dir, &pos, &c, names_fill);
	int e = c.err ? c.err : errno;
	ntfs_inode_close(dir);
	if (r || c.err) {
		ws_buf_release(&c.bytes);
		errno = e ? e : EIO;
		return -1;
	}
	*names = vol_names_block(c.bytes.buf, c.bytes.len, c.n);
	*n = c.n;
	ws_buf_release(&c.bytes);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Exact name first, else the bytewise smallest case-insensitive match:
 * the rule of ws_root_find_child. */
static int nt_find_child(struct vol *vol, long long h, const char *name,
			 size_t len, struct ws_buf *out)
{
	char **v;
	size_t n;
	char *want = ws_xstrndup(name, len);
	int found = 0;

	if (nt_read_names(vol, h, &v, &n) < 0) {
		free(want);
		return -1;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n && !found; i++)
		if (!strcmp(v[i], want)) {
			ws_buf_adds(out, v[i]);
			found = 1;
		}
	for (size_t i = 0; i < n && !found; i++)
		if (!ws_name_casecmp(v[i], want)) {
			ws_buf_adds(out, v[i]);
			found = 1;
		}
	vol_list_free(v, n);
	free(want);
	return found;
}

/* ---- one entry ---------------------------------------------------------- */

static uint32_t reparse_tag(ntfs_inode *ni)
{
	REPARSE_POINT *rp = ntfs_get_reparse_point(ni);
	uint32_t tag = rp ? le32_to_cpu(rp->reparse_tag) : 0;

	free(rp);
	return tag;
}

/*
 * A system file may be an Interix special file, as ntfs-3g's getattr reads
 * it: a FIFO (0 bytes) or socket (1 byte) when not hidden, or a symbolic
 * link or device by its content.  Returns the type (VOL_ENT_FILE when
 * none); a link's text goes to h->target.
 */
static enum vol_entry_type interix(ntfs_inode *ni, struct vol_entry_hold *h,
				   mode_t *mode)
{
	enum vol_entry_type t = VOL_ENT_FILE;
	ntfs_attr *na;
	s64 size;

	*mode = S_IFREG | 0777;
	if (!(ni->flags & FILE_ATTR_SYSTEM))
		return t;
	na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (!na)
		return t;
	size = na->data_size;
	if (!(ni->flags & FILE_ATTR_HIDDEN) && (size == 0 || size == 1)) {
		t = VOL_ENT_OTHER;
		*mode = (size ? S_IFSOCK : S_IFIFO) | 0777;
	}
	if (size > (s64)sizeof(INTX_FILE_TYPES) &&
	    size <= (s64)(sizeof(INTX_FILE_TYPES) + sizeof(ntfschar) * PATH_MAX)) {
		INTX_FILE *ix = ws_xmalloc((size_t)size);

		if (ntfs_attr_pread(na, 0, size, ix) == size) {
			if ((ix->magic == INTX_BLOCK_DEVICE ||
			     ix->magic == INTX_CHARACTER_DEVICE) &&
			    size == (s64)offsetof(INTX_FILE, device_end)) {
				t = VOL_ENT_OTHER;
				*mode = (ix->magic == INTX_BLOCK_DEVICE ? S_IFBLK
									: S_IFCHR) | 0777;
			}
			if (ix->magic == INTX_SYMBOLIC_LINK) {
				char *target = NULL;
				/* the text follows the magic (unaligned) */
				ntfschar *u = ws_xmalloc((size_t)size);
				memcpy(u, (char *)ix + offsetof(INTX_FILE, target),
				       (size_t)size - offsetof(INTX_FILE, target));
				int len = ntfs_ucstombs(u,
					(int)((size - (s64)offsetof(INTX_FILE, target)) /
					      (s64)sizeof(ntfschar)), &target, 0);

				if (len >= 0) {
					t = VOL_ENT_LINK;
					*mode = S_IFLNK | 0777;
					ws_buf_reset(&h->target);
					ws_buf_add(&h->target, target, (size_t)len);
				}
				free(target);
				free(u);
			}
		}
		free(ix);
	}
	ntfs_attr_close(na);
	return t;
}

static void nt_fill_inode(struct vol *vol, ntfs_inode *ni, struct vol_entry *e,
			  struct vol_entry_hold *h)
{
	unsigned char le[32];

	e->dev = 0;
	e->ino = (ino_t)ni->mft_no;
	if (ntfs_get_ntfs_attrib(ni, (char *)le, 4) == 4) {
		e->attributes = ws_get_u32le(le);
		e->attrs_from_ntfs = 1;
	}
	if (ntfs_inode_get_times(ni, (char *)le, sizeof(le)) == (int)sizeof(le)) {
		e->creation_time = ws_get_u64le(le);
		e->write_time = ws_get_u64le(le + 8);
		e->access_time = ws_get_u64le(le + 16);
		e->change_time = ws_get_u64le(le + 24);
	}
	if (ni->flags & FILE_ATTR_REPARSE_POINT) {
		char rp[16384];
		char *target;

		e->type = VOL_ENT_LINK;
		e->mode = S_IFLNK | 0777;
		if (ntfs_get_ntfs_reparse_data(ni, rp, sizeof(rp)) >= 4)
			e->reparse_tag = ws_get_u32le(rp);
		errno = 0;
		target = ntfs_make_symlink(ni, vol->root);
		ws_buf_reset(&h->target);
		if (target) {
			ws_buf_adds(&h->target, target);
			free(target);
		} else if (errno == EOPNOTSUPP || errno == ELIBACC ||
			   errno == EINVAL) {
			ws_buf_addf(&h->target, BAD_REPARSE,
				    (unsigned long)reparse_tag(ni));
		} else {
			vol_entry_set_error(e, h, WS_E_IO, errno ? errno : EIO,
					    "cannot read link");
			return;
		}
		e->link_target = h->target.buf;
		if (!e->reparse_tag)
			e->reparse_tag = reparse_tag(ni);
	} else if (is_dir(ni)) {
		e->type = VOL_ENT_DIR;
		e->mode = S_IFDIR | 0777;
	} else {
		e->type = interix(ni, h, &e->mode);
		if (e->type == VOL_ENT_FILE)
			e->size = ni->data_size > 0 ? (uint64_t)ni->data_size : 0;
		if (e->type == VOL_ENT_LINK)
			e->link_target = h->target.buf;
	}
	vol_entry_classify(vol, e, h);
}

static void nt_fill(struct vol *vol, long long dh, struct vol_entry *e,
		    struct vol_entry_hold *h, unsigned depth)
{
	const char *name = h->name.buf;
	ntfs_inode *ni;

	memset(e, 0, sizeof(*e));
	e->host_path = h->path.buf;
	e->win_path = h->win.buf;
	e->name = name;
	e->depth = depth;
	e->name_valid = ws_utf8_valid(name, h->name.len);
	ni = child_inode(vol, dh, name);
	if (!ni) {
		vol_entry_set_error(e, h, WS_E_IO, errno ? errno : EIO,
				    "cannot examine");
		return;
	}
	nt_fill_inode(vol, ni, e, h);
	ntfs_inode_close(ni);
}

const struct vol_fsops vol_nt_ops = {
	nt_open_root, nt_open_dir, nt_close_dir, nt_read_names,
	nt_find_child, nt_fill
};

/* ---- files by host path ------------------------------------------------- */

/* The inode at host path `path` (no link followed on the way): NULL with
 * errno; a reparse point is returned (the caller decides). */
static ntfs_inode *path_inode(struct vol *vol, const char *path)
{
	size_t rel_len;
	const char *rel = vol_rel_of(vol, path, &rel_len);
	char *r, *slash;
	long long dh;
	ntfs_inode *ni;

	if (!rel) {
		errno = EXDEV;
		return NULL;
	}
	if (!rel_len)
		return ntfs_inode_open(NV(vol), FILE_root);
	r = ws_xstrndup(rel, rel_len);
	slash = strrchr(r, '/');
	if (slash) {
		*slash = '\0';
		dh = vol_open_rel(vol, r);
	} else {
		dh = FILE_root;
	}
	ni = dh < 0 ? NULL : child_inode(vol, dh, slash ? slash + 1 : r);
	int e = errno;
	free(r);
	errno = e;
	return ni;
}

int vol_nt_file_open(struct vol *vol, const char *path, struct vol_file **out,
		     struct ws_error *err)
{
	ntfs_inode *ni = path_inode(vol, path);
	ntfs_attr *na;
	struct vol_file *f;

	*out = NULL;
	if (!ni)
		return ws_error_set_errno(err, WS_E_IO, errno ? errno : EIO, path,
					  "cannot open file");
	struct vol_entry_hold hold = VOL_ENTRY_HOLD_INIT;
	struct vol_entry e;

	memset(&e, 0, sizeof(e));
	nt_fill_inode(vol, ni, &e, &hold);
	vol_entry_hold_release(&hold);
	if (!S_ISREG(e.mode) || e.type == VOL_ENT_ERROR) {
		ntfs_inode_close(ni);
		return ws_error_set_errno(err, WS_E_IO, EINVAL, path,
					  "cannot open file: not a regular file");
	}
	na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (!na) {
		int en = errno ? errno : EIO;

		ntfs_inode_close(ni);
		return ws_error_set_errno(err, WS_E_IO, en, path, "cannot open file");
	}
	f = ws_xcalloc(1, sizeof(*f));
	f->fd = -1;
	f->ni = ni;
	f->na = na;
	f->size = na->data_size > 0 ? (uint64_t)na->data_size : 0;
	f->path = ws_xstrdup(path);
	*out = f;
	return WS_OK;
}

long long vol_nt_file_read(struct vol_file *f, void *buf, size_t n,
			   struct ws_error *err)
{
	s64 r;

	if (f->pos >= f->size || !n)
		return 0;
	if (n > f->size - f->pos)
		n = (size_t)(f->size - f->pos);
	errno = 0;
	r = ntfs_attr_pread(f->na, (s64)f->pos, (s64)n, buf);
	if (r <= 0) {
		ws_error_set_errno(err, WS_E_IO, errno ? errno : EIO, f->path,
				   "cannot read");
		return -1;
	}
	f->pos += (uint64_t)r;
	return r;
}

void vol_nt_file_close(struct vol_file *f)
{
	if (f->na)
		ntfs_attr_close(f->na);
	if (f->ni)
		ntfs_inode_close(f->ni);
}

/* Copy one file of the image to `dst` (a new file). */
static int copy_out(struct vol *vol, const char *path, const char *dst,
		    struct ws_error *err)
{
	struct vol_file *f;
	char buf[65536];
	long long n;
	int fd, rc;

	rc = vol_file_open(vol, path, &f, err);
	if (rc)
		return rc;
	fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, dst,
					"cannot make a private copy of a hive");
		vol_file_close(f);
		return rc;
	}
	while ((n = vol_file_read(f, buf, sizeof(buf), err)) > 0) {
		int we = ws_write_all(fd, buf, (size_t)n);

		if (we) {
			rc = ws_error_set_errno(err, WS_E_IO, we, dst,
						"cannot make a private copy of a hive");
			break;
		}
	}
	if (n < 0)
		rc = err ? err->code : WS_E_IO;
	if (close(fd) != 0 && !rc)
		rc = ws_error_set_errno(err, WS_E_IO, errno, dst, "cannot write");
	vol_file_close(f);
	return rc;
}

int vol_nt_local_copy(struct vol *vol, const char *path, int with_logs,
		      const char **local, struct ws_error *err)
{
	struct vol_nt *nt = vol->nt;
	struct ws_buf dir = WS_BUF_INIT, dst = WS_BUF_INIT, src = WS_BUF_INIT;
	const char *slash = strrchr(path, '/');
	const char *leaf = slash ? slash + 1 : path;
	char **names = NULL;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < nt->ncopies; i++)
		if (!strcmp(nt->copies[i].src, path)) {
			*local = nt->copies[i].local;
			return WS_OK;
		}
	if ((rc = vol_tmp_dir(vol, err)))
		return rc;
	/* one folder per copy: the hive keeps its name beside its logs */
	ws_buf_addf(&dir, "%s/img-%zu", vol->tmp_dir, nt->ncopies);
	if (mkdir(dir.buf, 0700) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, dir.buf,
					"cannot make a private folder");
		goto out;
	}
	ws_buf_addf(&dst, "%s/%s", dir.buf, leaf);
	if ((rc = copy_out(vol, path, dst.buf, err)))
		goto out;
	if (with_logs && slash) {
		ws_buf_add(&src, path, (size_t)(slash - path));
		if (vol_list(vol, src.buf, &names, &n, NULL) == WS_OK) {
			size_t ll = strlen(leaf);

			for (size_t i = 0; i < n && !rc; i++) {
				struct ws_buf lsrc = WS_BUF_INIT, ldst = WS_BUF_INIT;

				if (strlen(names[i]) <= ll + 4 ||
				    ws_name_ncasecmp(names[i], ll, leaf, ll) ||
				    ws_name_ncasecmp(names[i] + ll, 4, ".LOG", 4))
					continue;
				ws_buf_addf(&lsrc, "%s/%s", src.buf, names[i]);
				ws_buf_addf(&ldst, "%s/%s", dir.buf, names[i]);
				/* a log that cannot be read is left out: the
				 * replay then says what is missing */
				struct ws_error le;
				if (copy_out(vol, lsrc.buf, ldst.buf, &le) != WS_OK)
					unlink(ldst.buf);
				ws_buf_release(&lsrc);
				ws_buf_release(&ldst);
			}
		}
	}
	WS_ALLOC_GROW(nt->copies, nt->ncopies + 1, nt->acopies);
	nt->copies[nt->ncopies].src = ws_xstrdup(path);
	nt->copies[nt->ncopies].local = ws_buf_detach(&dst, NULL);
	*local = nt->copies[nt->ncopies++].local;
out:
	vol_list_free(names, n);
	ws_buf_release(&dir);
	ws_buf_release(&dst);
	ws_buf_release(&src);
	return rc;
}

/* ---- descriptors and streams -------------------------------------------- */

int vol_nt_sd_get(struct vol *vol, const char *path, struct ws_buf *out,
		  int *found, struct ws_error *err)
{
	struct SECURITY_CONTEXT scx;
	ntfs_inode *ni = path_inode(vol, path);
	int n;

	*found = 0;
	if (!ni)
		return ws_error_set_errno(err, WS_E_IO, errno ? errno : EIO, path,
					  "cannot read the security descriptor");
	memset(&scx, 0, sizeof(scx));
	scx.vol = NV(vol);
	n = ntfs_get_ntfs_acl(&scx, ni, NULL, 0);
	if (n > 0) {
		ws_buf_grow(out, (size_t)n);
		if (ntfs_get_ntfs_acl(&scx, ni, out->buf + out->len, (size_t)n) == n) {
			ws_buf_setlen(out, out->len + (size_t)n);
			*found = 1;
		}
	}
	ntfs_inode_close(ni);
	return WS_OK;
}

static int cmp_stream(const void *a, const void *b)
{
	return strcmp(((const struct vol_stream *)a)->name,
		      ((const struct vol_stream *)b)->name);
}

int vol_nt_streams(struct vol *vol, const char *path, struct vol_stream **v,
		   size_t *n, struct ws_error *err)
{
	ntfs_inode *ni = path_inode(vol, path);
	ntfs_attr_search_ctx *ctx;
	size_t alloc = 0;

	*v = NULL;
	*n = 0;
	if (!ni)
		return ws_error_set_errno(err, WS_E_IO, errno ? errno : EIO, path,
					  "cannot list the data streams");
	ctx = ntfs_attr_get_search_ctx(ni, NULL);
	while (ctx && !ntfs_attr_lookup(AT_DATA, NULL, 0, CASE_SENSITIVE, 0,
					NULL, 0, ctx)) {
		const ATTR_RECORD *a = ctx->attr;
		char *s = NULL;

		if (!a->name_length || (a->non_resident && a->lowest_vcn))
			continue;
		if (ntfs_ucstombs((const ntfschar *)((const char *)a +
						     le16_to_cpu(a->name_offset)),
				  a->name_length, &s, 0) < 0)
			continue;
		WS_ALLOC_GROW(*v, *n + 1, alloc);
		(*v)[*n].name = ws_xstrdup(s);
		(*v)[*n].size = a->non_resident
					? (uint64_t)sle64_to_cpu(a->data_size)
					: le32_to_cpu(a->value_length);
		(*n)++;
		free(s);
	}
	if (ctx)
		ntfs_attr_put_search_ctx(ctx);
	ntfs_inode_close(ni);
	if (*n > 1)
		qsort(*v, *n, sizeof(**v), cmp_stream);
	return WS_OK;
}

int vol_nt_stream_read(struct vol *vol, const char *path, const char *name,
		       struct ws_buf *out, struct ws_error *err)
{
	ntfs_inode *ni = path_inode(vol, path);
	ntfschar *uname = NULL;
	int ulen, rc = WS_OK;
	ntfs_attr *na;

	if (!ni)
		return ws_error_set_errno(err, WS_E_IO, errno ? errno : EIO, path,
					  "cannot read a data stream");
	ulen = ntfs_mbstoucs(name, &uname);
	na = ulen > 0 ? ntfs_attr_open(ni, AT_DATA, uname, (u32)ulen) : NULL;
	if (!na) {
		rc = ws_error_set_errno(err, WS_E_IO, errno ? errno : ENOENT, path,
					"no data stream '%s'", name);
	} else {
		s64 size = na->data_size, got = 0;

		ws_buf_grow(out, (size_t)size + 1);
		while (got < size) {
			s64 r = ntfs_attr_pread(na, got, size - got,
						out->buf + out->len + got);
			if (r <= 0) {
				rc = ws_error_set_errno(err, WS_E_IO,
							errno ? errno : EIO, path,
							"cannot read data stream '%s'",
							name);
				break;
			}
			got += r;
		}
		if (!rc)
			ws_buf_setlen(out, out->len + (size_t)size);
		ntfs_attr_close(na);
	}
	free(uname);
	ntfs_inode_close(ni);
	return rc;
}

/* ---- open and probe ------------------------------------------------------ */

int vol_is_image(const struct vol *vol)
{
	return vol->nt != NULL;
}

/* A handle over a mounted image, without an installation yet. */
static struct vol *image_handle(struct bd_source *src, ntfs_volume *nv,
				const char *tmp_dir)
{
	struct vol *vol = ws_xcalloc(1, sizeof(*vol));

	vol->nt = ws_xcalloc(1, sizeof(*vol->nt));
	vol->nt->src = src;
	vol->nt->nv = nv;
	vol->ops = &vol_nt_ops;
	vol->root = ws_xasprintf("ntfs:%s", src->name);
	vol->root_len = strlen(vol->root);
	vol->root_dev = 0;
	vol->info.system_drive = 'C';
	vol->info.root = vol->root;
	if (tmp_dir && *tmp_dir)
		vol->tmp_parent = ws_xstrdup(tmp_dir);
	return vol;
}

/* hiberfil.sys holds a hibernation image (libntfs-3g's own test). */
static int hibernated(ntfs_volume *nv)
{
	errno = 0;
	return ntfs_volume_check_hiberfile(nv, 0) < 0 && errno == EPERM;
}

int vol_open_bd(struct bd_source *src, const char *tmp_dir, struct vol **out,
		struct ws_error *err)
{
	ntfs_volume *nv;
	struct vol *vol;
	int not_ntfs, rc;

	*out = NULL;
	rc = nt_mount(src, &nv, &not_ntfs, err);
	if (rc) {
		if (not_ntfs)
			ws_error_prefix(err, "%s is not a Windows installation",
					src->name);
		return rc;
	}
	vol = image_handle(src, nv, tmp_dir);
	vol->info.ntfs_hibernated = hibernated(nv);
	vol->info.ntfs_dirty = !!(nv->flags & VOLUME_IS_DIRTY);
	return vol_open_finish(vol, out, err);
}

int vol_open_bd_data(struct bd_source *src, char drive, const char *tmp_dir,
		     struct vol **out, struct ws_error *err)
{
	ntfs_volume *nv;
	struct vol *vol;
	int not_ntfs, rc;

	*out = NULL;
	if (!((drive >= 'A' && drive <= 'Z') || (drive >= 'a' && drive <= 'z')))
		return ws_error_set(err, WS_E_USAGE, src->name,
				    "'%c' is not a drive letter", drive);
	rc = nt_mount(src, &nv, &not_ntfs, err);
	if (rc)
		return rc;
	vol = image_handle(src, nv, tmp_dir);
	vol->info.system_drive = (char)(drive & ~0x20);
	vol->info.system_root = vol_keep(vol, "");
	vol->info.computer_name = vol->info.product_name = vol_keep(vol, "");
	vol->info.current_build = vol->info.edition_id = vol->info.system_root;
	vol->info.display_version = vol->info.installation_type = vol->info.system_root;
	vol->info.architecture = vol->info.system_root;
	vol->info.system_why = vol->info.software_why = vol->info.system_root;
	vol->info.ntfs_hibernated = hibernated(nv);
	vol->info.ntfs_dirty = !!(nv->flags & VOLUME_IS_DIRTY);
	*out = vol;
	return WS_OK;
}

int vol_open_source(const char *source, const char *tmp_dir, struct vol **out,
		    struct ws_error *err)
{
	struct vol_source_opts o = { NULL, tmp_dir, NULL };

	/* disks, partitions and BitLocker: vol_source.c */
	return vol_source_open(source, &o, out, err);
}

int vol_ntfs_probe(struct bd_source *src, struct vol_ntfs_facts *out,
		   struct ws_error *err)
{
	unsigned char bs[512];
	ntfs_volume *nv;
	struct vol *vol;
	struct ws_buf host = WS_BUF_INIT;
	enum vol_res res;
	int not_ntfs, rc;

	memset(out, 0, sizeof(*out));
	rc = nt_mount(src, &nv, &not_ntfs, err);
	if (not_ntfs) {
		if (err)
			ws_error_clear(err);
		return WS_OK;
	}
	out->is_ntfs = 1;
	if (rc)
		return rc;
	if (bd_read_at(src, bs, sizeof(bs), 0, NULL) == WS_OK)
		out->serial = ws_get_u64le(bs + 0x48);
	out->size = (uint64_t)nv->nr_clusters * nv->cluster_size;
	if (nv->vol_name)
		snprintf(out->label, sizeof(out->label), "%s", nv->vol_name);
	out->dirty = !!(nv->flags & VOLUME_IS_DIRTY);
	out->hibernated = hibernated(nv);
	vol = image_handle(src, nv, NULL);
	if (vol_resolve(vol, "Windows\\System32\\config\\SYSTEM", &host, &res,
			NULL) == WS_OK && res == VOL_RES_FOUND) {
		struct vol_entry_hold h = VOL_ENTRY_HOLD_INIT;
		struct vol_entry e;

		out->has_windows = vol_stat(vol, host.buf, &e, &h, NULL) == WS_OK &&
				   e.type == VOL_ENT_FILE;
		vol_entry_hold_release(&h);
	}
	ws_buf_release(&host);
	vol_close(vol);
	return WS_OK;
}
