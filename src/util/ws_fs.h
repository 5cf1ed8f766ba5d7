/*
 * ws_fs.h - file-system primitives with the durability rules winstate relies
 * on: write to a temporary name, fsync, rename into place, fsync the folder.
 * Every failure names the path and is mapped to a ws_error code (ENOSPC ->
 * WS_E_NOSPACE, EROFS -> WS_E_TARGET unless the caller says WS_E_STORE).
 */
#ifndef WS_FS_H
#define WS_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ws_buf.h"
#include "ws_error.h"

/* mkdir -p with mode 0755.  `code` is the ws_code used on failure. */
int ws_mkdir_p(const char *path, int code, struct ws_error *err);

/* Read a whole regular file (at most `max` bytes, else WS_E_UNSUPPORTED). */
int ws_read_file(const char *path, size_t max, struct ws_buf *out,
		 struct ws_error *err);

/* write(2) all of buf, retrying on EINTR/short writes; returns 0 or errno. */
int ws_write_all(int fd, const void *buf, size_t len);

/* The path an open descriptor was opened as (Linux /proc/self/fd), appended
 * to out for messages; "(descriptor N)" when it cannot be known. */
void ws_fd_path(int fd, struct ws_buf *out);

/* fsync a directory so a rename inside it is durable. */
int ws_fsync_dir(const char *dir, int code, struct ws_error *err);

/*
 * Create `path` as a new file (O_EXCL: an existing name, a link too, is an
 * error, EEXIST), write `len` bytes of `data`, fsync and close it; on
 * failure the file is removed.  The durable first step of every
 * replacement: ws_write_file_atomic's temporary file, and the undo
 * journal's (apply/), which the journal records then renames into place.
 * `shown` (NULL: `path`) is the file the caller is writing, named in write
 * errors; when it differs `path` is called a temporary file.
 */
int ws_write_file_new(const char *path, const char *shown, const void *data, size_t len,
		      int code, struct ws_error *err);

/*
 * Atomically replace (or create) `path` with `len` bytes of `data`:
 * `<dir>/.<name>.tmp-<pid>-<rand>`, fsync, rename, fsync(dir).
 * If `no_replace` is set, an existing `path` is an error (EEXIST) and is left
 * untouched (link(2) is used; on file systems without hard links an O_EXCL
 * create-then-write is used instead).
 */
int ws_write_file_atomic(const char *path, const void *data, size_t len,
			 int no_replace, int code, struct ws_error *err);

/*
 * An unnamed file in the folder dirfd (O_TMPFILE: no name until
 * ws_tmpfile_link gives it one; gone if the process dies first).  Returns
 * the descriptor (open for writing), or -1 with errno; ENOTSUP where the
 * file system has no unnamed files (FUSE, ...): use a named temporary.
 */
int ws_tmpfile_open(int dirfd, mode_t mode);
/* Give the unnamed file fd the name `name` in dirfd, never replacing
 * anything (EEXIST).  Returns 0 or errno. */
int ws_tmpfile_link(int fd, int dirfd, const char *name);

/* 16 random hex chars (64 bits from getrandom) appended to out. */
void ws_random_hex(struct ws_buf *out, size_t nbytes);

/* Join a and b with exactly one '/' (b may be relative). Appends to out. */
void ws_path_join(struct ws_buf *out, const char *a, const char *b);

/* Remove a directory tree without following symlinks (for tests/undo). */
int ws_remove_tree(const char *path, struct ws_error *err);

/*
 * Append "<dir>/<name>" (ws_xasprintf'd) to the string vector *v (*n used,
 * *alloc allocated, grown with WS_ALLOC_GROW) for every entry of `dir` whose
 * name ends in `suffix` (ASCII case-insensitive, with at least one character
 * before it) and, if `prefix` is not NULL, starts with `prefix` (exact case).
 * The appended entries are sorted with strcmp. Returns 0, or -1 with errno
 * set when the folder cannot be opened (nothing appended).
 */
int ws_list_dir_suffix(const char *dir, const char *prefix, const char *suffix,
		       char ***v, size_t *n, size_t *alloc);

/* True if `path` exists (lstat). */
int ws_path_exists(const char *path);

/* FILETIME (100 ns since 1601) <-> Unix time in nanoseconds; values beyond
 * what an int64 of nanoseconds holds (year 2262) saturate. */
uint64_t ws_filetime_from_unix_ns(int64_t ns);
int64_t ws_filetime_to_unix_ns(uint64_t ft);

#endif
