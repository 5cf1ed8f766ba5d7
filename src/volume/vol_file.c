/*
 * vol_file.c - reading files, security descriptors and named streams
 * through the volume, whichever backend holds it: a folder (open(2) and
 * ntfs-3g's xattrs) or an NTFS image (vol_ntfs.c).
 */
#include "volume/volume_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/ws_fs.h"

/* ntfs-3g shows named streams as user.* xattrs (streams_interface=xattr) */
#define STREAM_PREFIX "user."

int vol_file_open(struct vol *vol, const char *host_path,
		  struct vol_file **out, struct ws_error *err)
{
	struct vol_file *f;
	struct stat st;
	int fd;

	*out = NULL;
	vol = vol_route(vol, host_path);
	if (vol->nt)
		return vol_nt_file_open(vol, host_path, out, err);
	fd = open(host_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return ws_error_set_errno(err, WS_E_IO, errno, host_path,
					  "cannot open file");
	/* what was a file when walked may have been replaced meanwhile */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ws_error_set_errno(err, WS_E_IO, EINVAL, host_path,
					  "cannot open file: not a regular file");
	}
	f = ws_xcalloc(1, sizeof(*f));
	f->fd = fd;
	f->size = (uint64_t)st.st_size;
	f->path = ws_xstrdup(host_path);
	*out = f;
	return WS_OK;
}

long long vol_file_read(struct vol_file *f, void *buf, size_t n,
			struct ws_error *err)
{
	ssize_t r;

	if (f->fd < 0)
		return vol_nt_file_read(f, buf, n, err);
	do
		r = read(f->fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		ws_error_set_errno(err, WS_E_IO, errno, f->path, "cannot read");
		return -1;
	}
	f->pos += (uint64_t)r;
	return r;
}

uint64_t vol_file_size(const struct vol_file *f)
{
	return f->size;
}

void vol_file_close(struct vol_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	else
		vol_nt_file_close(f);
	free(f->path);
	free(f);
}

int vol_sd_get(struct vol *vol, const char *host_path, struct ws_buf *out,
	       int *found, struct ws_error *err)
{
	ssize_t n;

	*found = 0;
	vol = vol_route(vol, host_path);
	if (vol->nt)
		return vol_nt_sd_get(vol, host_path, out, found, err);
	for (int tries = 0; tries < 4; tries++) {
		n = lgetxattr(host_path, "system.ntfs_acl", NULL, 0);
		if (n < 0)
			break;
		ws_buf_grow(out, (size_t)n);
		n = lgetxattr(host_path, "system.ntfs_acl", out->buf + out->len,
			      (size_t)n);
		if (n >= 0) {
			ws_buf_setlen(out, out->len + (size_t)n);
			*found = 1;
			return WS_OK;
		}
		if (errno != ERANGE)
			break;
	}
	if (errno == ENODATA || errno == ENOTSUP || errno == EOPNOTSUPP)
		return WS_OK;
	return ws_error_set_errno(err, WS_E_IO, errno, host_path,
				  "cannot read the security descriptor");
}

static int cmp_stream(const void *a, const void *b)
{
	return strcmp(((const struct vol_stream *)a)->name,
		      ((const struct vol_stream *)b)->name);
}

int vol_streams(struct vol *vol, const char *host_path, struct vol_stream **v,
		size_t *n, struct ws_error *err)
{
	struct ws_buf list = WS_BUF_INIT;
	size_t alloc = 0;
	ssize_t len;

	vol = vol_route(vol, host_path);
	*v = NULL;
	*n = 0;
	if (vol->nt)
		return vol_nt_streams(vol, host_path, v, n, err);
	len = llistxattr(host_path, NULL, 0);
	if (len <= 0)
		return len < 0 && errno != ENOTSUP && errno != EOPNOTSUPP
			       ? ws_error_set_errno(err, WS_E_IO, errno, host_path,
						    "cannot list the data streams")
			       : WS_OK;
	ws_buf_grow(&list, (size_t)len + 1);
	len = llistxattr(host_path, list.buf, (size_t)len);
	if (len < 0) {
		ws_buf_release(&list);
		return ws_error_set_errno(err, WS_E_IO, errno, host_path,
					  "cannot list the data streams");
	}
	for (ssize_t i = 0; i < len; i += (ssize_t)strlen(list.buf + i) + 1) {
		const char *name = list.buf + i;
		ssize_t sz;

		if (strncmp(name, STREAM_PREFIX, strlen(STREAM_PREFIX)))
			continue;
		sz = lgetxattr(host_path, name, NULL, 0);
		WS_ALLOC_GROW(*v, *n + 1, alloc);
		(*v)[*n].name = ws_xstrdup(name + strlen(STREAM_PREFIX));
		(*v)[*n].size = sz > 0 ? (uint64_t)sz : 0;
		(*n)++;
	}
	ws_buf_release(&list);
	if (*n > 1)
		qsort(*v, *n, sizeof(**v), cmp_stream);
	return WS_OK;
}

void vol_streams_free(struct vol_stream *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

int vol_stream_read(struct vol *vol, const char *host_path, const char *name,
		    struct ws_buf *out, struct ws_error *err)
{
	struct ws_buf x = WS_BUF_INIT;
	ssize_t n;

	vol = vol_route(vol, host_path);
	if (vol->nt)
		return vol_nt_stream_read(vol, host_path, name, out, err);
	ws_buf_addf(&x, STREAM_PREFIX "%s", name);
	n = lgetxattr(host_path, x.buf, NULL, 0);
	if (n >= 0) {
		ws_buf_grow(out, (size_t)n);
		n = lgetxattr(host_path, x.buf, out->buf + out->len, (size_t)n);
	}
	ws_buf_release(&x);
	if (n < 0)
		return ws_error_set_errno(err, WS_E_IO, errno, host_path,
					  "cannot read data stream '%s'", name);
	ws_buf_setlen(out, out->len + (size_t)n);
	return WS_OK;
}
