/*
 * sd_io.c - security descriptors and Windows attributes of objects on a
 * mounted NTFS volume, through the xattrs ntfs-3g and ntfs3 expose, and the
 * probe telling which of them a target has (sd.h).
 */
#include "sd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/xattr.h>

/* statfs f_type values worth naming in a message. */
static const char *fs_name(long type)
{
	switch ((unsigned long)type & 0xFFFFFFFFul) {
	case 0x65735546ul: return "fuse";
	case 0x7366746eul: return "ntfs3";
	case 0x5346544eul: return "ntfs";
	case 0xEF53ul: return "ext4";
	case 0x4d44ul: return "vfat";
	case 0x2011BAB0ul: return "exfat";
	case 0x01021994ul: return "tmpfs";
	case 0x9123683Eul: return "btrfs";
	case 0x58465342ul: return "xfs";
	case 0x6969ul: return "nfs";
	case 0xFF534D42ul: return "cifs";
	case 0xFE534D42ul: return "smb2";
	case 0x794c7630ul: return "overlayfs";
	default: return "other";
	}
}

static int no_such_xattr(int e)
{
	return e == ENOTSUP || e == EOPNOTSUPP || e == ENODATA;
}

static int io_error(struct ws_error *err, int e, const char *what, const char *xattr,
		    const char *verb)
{
	if (no_such_xattr(e))
		return ws_error_set(err, WS_E_UNSUPPORTED, what,
				    "the file system has no %s (not an NTFS volume mounted "
				    "with ntfs-3g or ntfs3?)", xattr);
	if (e == EINVAL && verb[0] == 'w')
		return ws_error_set(err, WS_E_UNSUPPORTED, what,
				    "the file system refused the value of %s", xattr);
	return ws_error_set_errno(err, WS_E_IO, e, what, "cannot %s %s", verb, xattr);
}

/* getxattr by path (no final symlink followed) or fd: size first, then an
 * exact buffer; retried if the value grew in between. */
static int read_xattr(const char *path, int fd, const char *xattr, const char *what,
		      struct ws_buf *out, struct ws_error *err)
{
	int e = 0;

	for (int tries = 0; tries < 4; tries++) {
		ssize_t n = path ? lgetxattr(path, xattr, NULL, 0) : fgetxattr(fd, xattr, NULL, 0);
		ssize_t got;

		if (n < 0)
			return io_error(err, errno, what, xattr, "read");
		ws_buf_reset(out);
		ws_buf_grow(out, (size_t)n + 1);
		got = path ? lgetxattr(path, xattr, out->buf, (size_t)n)
			   : fgetxattr(fd, xattr, out->buf, (size_t)n);
		if (got >= 0) {
			ws_buf_setlen(out, (size_t)got);
			return WS_OK;
		}
		e = errno;
		if (e != ERANGE && e != EIO)       /* EIO: ntfs-3g's "grew" */
			break;
	}
	return io_error(err, e, what, xattr, "read");
}

int sd_read_path(const char *path, const char *xattr, struct ws_buf *out,
		 struct ws_error *err)
{
	return read_xattr(path, -1, xattr, path, out, err);
}

int sd_read_fd(int fd, const char *xattr, const char *what, struct ws_buf *out,
	       struct ws_error *err)
{
	return read_xattr(NULL, fd, xattr, what, out, err);
}

int sd_write_fd(int fd, const char *xattr, const char *what, const void *sd,
		size_t len, struct ws_error *err)
{
	if (fsetxattr(fd, xattr, sd, len, 0) != 0)
		return io_error(err, errno, what, xattr, "write");
	return WS_OK;
}

int sd_load_path(const char *path, const char *xattr, struct sd_desc *sd,
		 struct ws_error *err)
{
	struct ws_buf b = WS_BUF_INIT;
	int rc = sd_read_path(path, xattr, &b, err);

	if (rc == WS_OK && (rc = sd_parse(sd, b.buf, b.len, err)) != WS_OK && err)
		snprintf(err->where, sizeof(err->where), "%s", path);
	ws_buf_release(&b);
	return rc;
}

int sd_store_fd(int fd, const char *xattr, const char *what,
		const struct sd_desc *sd, struct ws_error *err)
{
	struct ws_buf b = WS_BUF_INIT;
	int rc = sd_serialize(sd, &b, err);

	if (rc == WS_OK)
		rc = sd_write_fd(fd, xattr, what, b.buf, b.len, err);
	else if (err)
		snprintf(err->where, sizeof(err->where), "%s", what);
	ws_buf_release(&b);
	return rc;
}

static int attrib_decode(const struct ws_buf *b, const char *what, uint32_t *attrib,
			 struct ws_error *err)
{
	const unsigned char *p = (const unsigned char *)b->buf;

	if (b->len != 4)
		return ws_error_set(err, WS_E_IO, what, "%s has %zu bytes, not 4",
				    SD_XATTR_ATTRIB_BE, b->len);
	*attrib = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return WS_OK;
}

int sd_attrib_read_path(const char *path, uint32_t *attrib, struct ws_error *err)
{
	struct ws_buf b = WS_BUF_INIT;
	int rc = read_xattr(path, -1, SD_XATTR_ATTRIB_BE, path, &b, err);

	if (rc == WS_OK)
		rc = attrib_decode(&b, path, attrib, err);
	ws_buf_release(&b);
	return rc;
}

int sd_attrib_read_fd(int fd, const char *what, uint32_t *attrib, struct ws_error *err)
{
	struct ws_buf b = WS_BUF_INIT;
	int rc = read_xattr(NULL, fd, SD_XATTR_ATTRIB_BE, what, &b, err);

	if (rc == WS_OK)
		rc = attrib_decode(&b, what, attrib, err);
	ws_buf_release(&b);
	return rc;
}

int sd_attrib_write_fd(int fd, const char *what, uint32_t attrib, struct ws_error *err)
{
	unsigned char be[4] = { (unsigned char)(attrib >> 24), (unsigned char)(attrib >> 16),
				(unsigned char)(attrib >> 8), (unsigned char)attrib };

	if (fsetxattr(fd, SD_XATTR_ATTRIB_BE, be, 4, 0) != 0)
		return io_error(err, errno, what, SD_XATTR_ATTRIB_BE, "write");
	return WS_OK;
}

int sd_target_probe(const char *root, struct sd_target *t, struct ws_error *err)
{
	static const char *const names[] = { SD_XATTR_NTFS3G, SD_XATTR_NTFS3 };
	struct statfs sf;
	int last = 0;

	memset(t, 0, sizeof(*t));
	if (statfs(root, &sf) != 0)
		return ws_error_set_errno(err, WS_E_IO, errno, root, "cannot examine the target");
	snprintf(t->fs, sizeof(t->fs), "%s", fs_name((long)sf.f_type));
	t->attrib = lgetxattr(root, SD_XATTR_ATTRIB_BE, NULL, 0) == 4;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (lgetxattr(root, names[i], NULL, 0) > 0) {
			t->acl_xattr = names[i];
			return WS_OK;
		}
		if (!no_such_xattr(errno))
			last = errno;
	}
	if (last && last != EPERM && last != EACCES)
		return ws_error_set_errno(err, WS_E_IO, last, root,
					  "cannot read the security descriptor");
	if (last)
		snprintf(t->reason, sizeof(t->reason),
			 "reading the security descriptor of the target's root is not "
			 "permitted (%s)", strerror(last));
	else
		snprintf(t->reason, sizeof(t->reason),
			 "the target's file system (%s) exposes no Windows security "
			 "descriptors (%s or %s): not an NTFS volume mounted with ntfs-3g "
			 "or the ntfs3 driver", t->fs, SD_XATTR_NTFS3G, SD_XATTR_NTFS3);
	return WS_OK;
}
