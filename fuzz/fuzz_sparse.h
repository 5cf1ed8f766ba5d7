/* fuzz_sparse.h - what the fuzz targets that read a disk image share: the
 * input taken as a sparse image, records of (u32 LE offset, u16 LE length,
 * bytes) over zeros, read through a bd_source whose impl is a struct
 * fz_sparse (ops: fz_sparse_ops).  A record's offset wraps at the image's
 * size and its bytes stop at its end; a later record overwrites an earlier
 * one, so the seeds (the non-zero blocks of real images) stay short. */
#ifndef FUZZ_SPARSE_H
#define FUZZ_SPARSE_H

#include <stdint.h>
#include <string.h>

#include "blockdev/blockdev.h"

struct fz_sparse {
	const uint8_t *data;
	size_t size;
	uint64_t image_size;
};

/* Zeros, then every record overlapping the read, in input order. */
static int fz_sparse_read_at(struct bd_source *s, void *buf, size_t n, uint64_t off,
			     struct ws_error *err)
{
	const struct fz_sparse *sp = s->impl;
	size_t p = 0;

	(void)err;
	memset(buf, 0, n);
	while (p + 6 <= sp->size) {
		uint32_t o = (uint32_t)sp->data[p] | (uint32_t)sp->data[p + 1] << 8 |
			     (uint32_t)sp->data[p + 2] << 16 | (uint32_t)sp->data[p + 3] << 24;
		size_t len = (size_t)sp->data[p + 4] | (size_t)sp->data[p + 5] << 8;
		const uint8_t *b = sp->data + p + 6;

		p += 6;
		if (len > sp->size - p)
			len = sp->size - p;
		p += len;
		o = (uint32_t)(o % sp->image_size);
		if (len > sp->image_size - o)
			len = (size_t)(sp->image_size - o);
		/* overlap of [o, o+len) with [off, off+n) */
		if (o < off + n && off < (uint64_t)o + len) {
			uint64_t from = o > off ? o : off;
			uint64_t to = (uint64_t)o + len < off + n ? (uint64_t)o + len : off + n;

			memcpy((uint8_t *)buf + (from - off), b + (from - o), (size_t)(to - from));
		}
	}
	return WS_OK;
}

static void fz_sparse_close(struct bd_source *s)
{
	(void)s;
}

static const struct bd_source_ops fz_sparse_ops = { fz_sparse_read_at, fz_sparse_close };

#endif
