/*
 * blockdev_private.h - what the key set and the BitLocker opener share inside
 * blockdev/: the key records themselves, and file sources over a
 * descriptor (partitions).
 */
#ifndef BLOCKDEV_PRIVATE_H
#define BLOCKDEV_PRIVATE_H

#ifndef WS_BLOCKDEV_INTERNAL
#error "blockdev_private.h is private to src/blockdev/ (its files and tests define WS_BLOCKDEV_INTERNAL)"
#endif

#include "blockdev.h"

struct bd_key {
	enum bd_key_kind kind;
	char *secret;          /* NUL-terminated; recovery passwords normalised to 6-digit groups with '-' */
	size_t secret_len;
	char id[37];           /* protector GUID the key belongs to, "" if unknown */
	char *origin;          /* "keys.csv:12", "--password" ...: never the key */
	char *computer;        /* computer name column, "" if none */
};

struct bd_keys {
	struct bd_key *v;
	size_t n, alloc;
	size_t skipped;        /* CSV rows without a recovery password */
};

/* A file source over `fd` (owned from now on: closed by bd_close) reading
 * `length` bytes from `base`; the caller checked the range. */
struct bd_source *bd_fd_source(int fd, uint64_t base, uint64_t length, const char *name);

#endif
