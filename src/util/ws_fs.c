/* ws_fs.c - durable file writes, directory helpers and listings, random
 * names, time. */
#include "ws_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int ws_tmpfile_open(int dirfd, mode_t mode)
{
	int fd = openat(dirfd, ".", O_WRONLY | O_TMPFILE | O_CLOEXEC, mode);

	/* EISDIR: a kernel without O_TMPFILE; EOPNOTSUPP: the file system */
	if (fd < 0 && (errno == EISDIR || errno == EOPNOTSUPP || errno == EINVAL ||
		       errno == ENOSYS))
		errno = ENOTSUP;
	return fd;
}

int ws_tmpfile_link(int fd, int dirfd, const char *name)
{
	char p[64];

	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc's link does not */
	if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT && errno != EPERM && errno != EINVAL)
		return errno;
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, p, dirfd, name, AT_SYMLINK_FOLLOW) == 0 ? 0 : errno;
}

int ws_mkdir_p(const char *path, int code, struct ws_error *err)
{
	struct ws_buf b = WS_BUF_INIT;
	int rc = WS_OK;

	ws_buf_adds(&b, path);
	for (size_t i = 1; i <= b.len; i++) {
		char saved = b.buf[i];
		struct stat st;

		if (saved != '/' && saved != '\0')
			continue;
		b.buf[i] = '\0';
		if (mkdir(b.buf, 0755) != 0 && errno != EEXIST) {
			rc = ws_error_set_errno(err, code, errno, b.buf,
						"cannot create folder");
			break;
		}
		if (stat(b.buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
			rc = ws_error_set(err, code, b.buf,
					  "exists and is not a folder");
			break;
		}
		b.buf[i] = saved;
	}
	ws_buf_release(&b);
	return rc;
}

int ws_read_file(const char *path, size_t max, struct ws_buf *out,
		 struct ws_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char tmp[65536];
	size_t total = 0;

	if (fd < 0)
		return ws_error_set_errno(err, WS_E_IO, errno, path,
					  "cannot open");
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return ws_error_set_errno(err, WS_E_IO, e, path,
						  "cannot read");
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (total > max) {
			close(fd);
			return ws_error_set(err, WS_E_UNSUPPORTED, path,
					    "file larger than %zu bytes", max);
		}
		ws_buf_add(out, tmp, (size_t)n);
	}
	close(fd);
	return WS_OK;
}

void ws_fd_path(int fd, struct ws_buf *out)
{
	char link[64], target[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n > 0 && target[0] == '/')
		ws_buf_add(out, target, (size_t)n);
	else
		ws_buf_addf(out, "(descriptor %d)", fd);
}

int ws_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (n == 0)
			return EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ws_fsync_dir(const char *dir, int code, struct ws_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return ws_error_set_errno(err, code, errno, dir,
					  "cannot open folder");
	/* Some file systems (FAT over FUSE, SMB) refuse fsync on folders. */
	if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP) {
		int e = errno;
		close(fd);
		return ws_error_set_errno(err, code, e, dir,
					  "cannot sync folder");
	}
	close(fd);
	return WS_OK;
}

void ws_random_hex(struct ws_buf *out, size_t nbytes)
{
	unsigned char r[64];

	if (nbytes > sizeof(r))
		nbytes = sizeof(r);
	size_t got = 0;
	while (got < nbytes) {
		ssize_t n = getrandom(r + got, nbytes - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			abort(); /* no entropy source: nothing sane to do */
		}
		got += (size_t)n;
	}
	ws_buf_add_hex(out, r, nbytes);
}

static void split_dir(const char *path, struct ws_buf *dir, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		ws_buf_adds(dir, ".");
		*base = path;
	} else if (slash == path) {
		ws_buf_adds(dir, "/");
		*base = slash + 1;
	} else {
		ws_buf_add(dir, path, (size_t)(slash - path));
		*base = slash + 1;
	}
}

int ws_write_file_new(const char *path, const char *shown, const void *data, size_t len,
		      int code, struct ws_error *err)
{
	int fd, e;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return ws_error_set_errno(err, code, errno, path, shown && strcmp(shown, path) ?
					  "cannot create temporary file" : "cannot create");
	e = ws_write_all(fd, data, len);
	if (!e && fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && !e)
		e = errno;
	if (e) {
		unlink(path);
		return ws_error_set_errno(err, code, e, shown ? shown : path, "cannot write");
	}
	return WS_OK;
}

int ws_write_file_atomic(const char *path, const void *data, size_t len,
			 int no_replace, int code, struct ws_error *err)
{
	struct ws_buf dir = WS_BUF_INIT, tmp = WS_BUF_INIT;
	const char *base;
	int e, rc = WS_OK;

	split_dir(path, &dir, &base);
	ws_buf_addf(&tmp, "%s/.%s.tmp-%ld-", dir.buf, base, (long)getpid());
	ws_random_hex(&tmp, 4);
	if ((rc = ws_write_file_new(tmp.buf, path, data, len, code, err)))
		goto out;
	if (no_replace) {
		if (link(tmp.buf, path) != 0) {
			e = errno;
			unlink(tmp.buf);
			if (e == EPERM || e == ENOTSUP || e == EOPNOTSUPP ||
			    e == ENOSYS) {
				/* No hard links (FAT/exFAT): exclusive create. */
				if ((rc = ws_write_file_new(path, NULL, data, len, code, err)))
					goto out;
			} else {
				rc = ws_error_set_errno(err, code, e, path,
							"cannot create");
				goto out;
			}
		} else {
			unlink(tmp.buf);
		}
	} else if (rename(tmp.buf, path) != 0) {
		rc = ws_error_set_errno(err, code, errno, path,
					"cannot rename into place");
		unlink(tmp.buf);
		goto out;
	}
	rc = ws_fsync_dir(dir.buf, code, err);
out:
	ws_buf_release(&dir);
	ws_buf_release(&tmp);
	return rc;
}

void ws_path_join(struct ws_buf *out, const char *a, const char *b)
{
	size_t la = strlen(a);

	ws_buf_add(out, a, la);
	while (*b == '/')
		b++;
	if (la && a[la - 1] != '/' && *b)
		ws_buf_addch(out, '/');
	ws_buf_adds(out, b);
}

int ws_remove_tree(const char *path, struct ws_error *err)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int rc = WS_OK;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return WS_OK;
		return ws_error_set_errno(err, WS_E_IO, errno, path,
					  "cannot inspect");
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) != 0)
			return ws_error_set_errno(err, WS_E_IO, errno, path,
						  "cannot remove");
		return WS_OK;
	}
	d = opendir(path);
	if (!d)
		return ws_error_set_errno(err, WS_E_IO, errno, path,
					  "cannot open folder");
	while ((de = readdir(d)) != NULL) {
		struct ws_buf child = WS_BUF_INIT;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ws_path_join(&child, path, de->d_name);
		rc = ws_remove_tree(child.buf, err);
		ws_buf_release(&child);
		if (rc)
			break;
	}
	closedir(d);
	if (!rc && rmdir(path) != 0)
		rc = ws_error_set_errno(err, WS_E_IO, errno, path,
					"cannot remove folder");
	return rc;
}

int ws_path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

#define FT_UNIX_EPOCH 116444736000000000ULL /* 1970-01-01 in FILETIME */

uint64_t ws_filetime_from_unix_ns(int64_t ns)
{
	int64_t t = ns / 100;

	if (t < -(int64_t)FT_UNIX_EPOCH)
		return 0;
	return (uint64_t)(t + (int64_t)FT_UNIX_EPOCH);
}

int64_t ws_filetime_to_unix_ns(uint64_t ft)
{
	int64_t t;

	/* FILETIMEs come from hives and stores, i.e. from anyone: saturate
	 * instead of overflowing. */
	if (ft > (uint64_t)INT64_MAX)
		ft = (uint64_t)INT64_MAX;
	t = (int64_t)ft - (int64_t)FT_UNIX_EPOCH;
	if (t > INT64_MAX / 100)
		return INT64_MAX;
	if (t < INT64_MIN / 100)
		return INT64_MIN; /* before 1677 */
	return t * 100;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ws_list_dir_suffix(const char *dir, const char *prefix, const char *suffix,
		       char ***v, size_t *n, size_t *alloc)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t first = *n, slen = strlen(suffix);

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len <= slen || strcasecmp(de->d_name + len - slen, suffix) ||
		    (prefix && strncmp(de->d_name, prefix, strlen(prefix))))
			continue;
		WS_ALLOC_GROW(*v, *n + 1, *alloc);
		(*v)[(*n)++] = ws_xasprintf("%s/%s", dir, de->d_name);
	}
	closedir(d);
	if (*n - first > 1)   /* never qsort(NULL, 0): an empty folder leaves *v NULL */
		qsort(*v + first, *n - first, sizeof(char *), cmp_str);
	return 0;
}
