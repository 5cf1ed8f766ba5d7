/*
 * bd_source.c - byte sources: a range of a file or block device (pread, so
 * reads from several threads need no lock) and a borrowed memory buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blockdev_private.h"
#include "util/ws_buf.h"

struct file_impl {
	int fd;
	uint64_t base;
};

static int file_read_at(struct bd_source *s, void *buf, size_t n, uint64_t off,
			struct ws_error *err)
{
	struct file_impl *f = s->impl;
	char *p = buf;

	while (n) {
		ssize_t r = pread(f->fd, p, n, (off_t)(f->base + off));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ws_error_set_errno(err, WS_E_IO, errno, s->name,
						  "cannot read %zu bytes at offset %llu", n,
						  (unsigned long long)off);
		if (r == 0)
			return ws_error_set(err, WS_E_IO, s->name,
					    "ends early: no data at offset %llu",
					    (unsigned long long)off);
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return WS_OK;
}

static void file_close(struct bd_source *s)
{
	struct file_impl *f = s->impl;

	close(f->fd);
	free(f);
}

static const struct bd_source_ops file_ops = { file_read_at, file_close };

int bd_file_open(const char *path, uint64_t offset, uint64_t length,
		 struct bd_source **out, struct ws_error *err)
{
	char name[512];
	off_t end;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return ws_error_set_errno(err, WS_E_IO, errno, path, "cannot open");
	/* SEEK_END gives the size of block devices as well as of files. */
	end = lseek(fd, 0, SEEK_END);
	if (end < 0) {
		int e = errno;

		close(fd);
		return ws_error_set_errno(err, WS_E_IO, e, path, "cannot find its size");
	}
	if (offset > (uint64_t)end || (length && length > (uint64_t)end - offset)) {
		close(fd);
		return ws_error_set(err, WS_E_IO, path,
				    "range of %llu bytes at offset %llu reaches past its end (%llu bytes)",
				    (unsigned long long)length, (unsigned long long)offset,
				    (unsigned long long)end);
	}
	if (offset)
		snprintf(name, sizeof(name), "%s@%llu", path, (unsigned long long)offset);
	else
		snprintf(name, sizeof(name), "%s", path);
	*out = bd_fd_source(fd, offset, length ? length : (uint64_t)end - offset, name);
	return WS_OK;
}

struct bd_source *bd_fd_source(int fd, uint64_t base, uint64_t length, const char *name)
{
	struct file_impl *f = ws_xcalloc(1, sizeof(*f));
	struct bd_source *s = ws_xcalloc(1, sizeof(*s));

	f->fd = fd;
	f->base = base;
	s->ops = &file_ops;
	s->impl = f;
	s->size = length;
	snprintf(s->name, sizeof(s->name), "%s", name);
	return s;
}

static int mem_read_at(struct bd_source *s, void *buf, size_t n, uint64_t off,
		       struct ws_error *err)
{
	memcpy(buf, (const char *)s->impl + off, n);
	return WS_OK;
}

static void mem_close(struct bd_source *s) { (void)s; }

static const struct bd_source_ops mem_ops = { mem_read_at, mem_close };

struct bd_source *bd_mem_open(const void *data, size_t len, const char *name)
{
	struct bd_source *s = ws_xcalloc(1, sizeof(*s));

	s->ops = &mem_ops;
	s->impl = (void *)data;
	s->size = len;
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "(memory)");
	return s;
}

int bd_read_at(struct bd_source *s, void *buf, size_t n, uint64_t off,
	       struct ws_error *err)
{
	if (off > s->size || n > s->size - off)
		return ws_error_set(err, WS_E_IO, s->name,
				    "read of %zu bytes at offset %llu past its end (%llu bytes)",
				    n, (unsigned long long)off, (unsigned long long)s->size);
	if (!n)
		return WS_OK;
	return s->ops->read_at(s, buf, n, off, err);
}

void bd_close(struct bd_source *s)
{
	if (!s)
		return;
	s->ops->close(s);
	free(s);
}
