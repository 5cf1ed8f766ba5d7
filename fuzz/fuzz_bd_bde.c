/* fuzz_bd_bde.c - BitLocker volume headers and metadata as libbde reads them
 * through blockdev/: the input is a sparse 128 MiB image, records of
 * (u32 LE offset, u16 LE length, bytes) over zeros (seeds: the non-zero
 * blocks of cryptsetup's real BitLocker images, bde_seeds.py).  Opened
 * without keys (a key would cost a 2^20-round stretch per run): probe,
 * metadata, protector list, and a clear-key volume's first and last
 * sectors.  Must never crash, hang or leak; a failure is one of the
 * documented codes with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blockdev/blockdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IMAGE_SIZE (128u << 20)

struct sparse {
	const uint8_t *data;
	size_t size;
};

/* Zeros, then every record overlapping the read, in input order. */
static int sparse_read_at(struct bd_source *s, void *buf, size_t n, uint64_t off,
			  struct ws_error *err)
{
	const struct sparse *sp = s->impl;
	size_t p = 0;

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
		o %= IMAGE_SIZE;
		if (len > IMAGE_SIZE - o)
			len = IMAGE_SIZE - o;
		/* overlap of [o, o+len) with [off, off+n) */
		if (o < off + n && off < (uint64_t)o + len) {
			uint64_t from = o > off ? o : off;
			uint64_t to = (uint64_t)o + len < off + n ? (uint64_t)o + len : off + n;

			memcpy((uint8_t *)buf + (from - off), b + (from - o), (size_t)(to - from));
		}
	}
	return WS_OK;
}

static void sparse_close(struct bd_source *s) { (void)s; }

static const struct bd_source_ops sparse_ops = { sparse_read_at, sparse_close };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sparse sp = { data, size };
	struct bd_source *src = calloc(1, sizeof(*src)), *vol = NULL;
	struct bd_bde_info info;
	struct ws_error e;
	int rc;

	src->ops = &sparse_ops;
	src->impl = &sp;
	src->size = IMAGE_SIZE;
	strcpy(src->name, "fuzz.img");
	ws_error_clear(&e);
	(void)bd_bde_probe(src, &e);
	rc = bd_bde_open(src, NULL, &vol, &info, &e);
	if (rc == WS_OK) {
		static uint8_t buf[4096];

		if (!vol)
			abort();
		(void)bd_read_at(vol, buf, sizeof(buf) < bd_size(vol) ? sizeof(buf) : bd_size(vol), 0, &e);
		if (bd_size(vol) >= 512)
			(void)bd_read_at(vol, buf, 512, bd_size(vol) - 512, &e);
		bd_close(vol);
	} else if ((rc != WS_E_UNSUPPORTED && rc != WS_E_BDE_LOCKED && rc != WS_E_IO) ||
		   !e.msg[0] || vol) {
		abort();
	}
	if (info.nprotectors < 0 || info.nprotectors > BD_BDE_MAX_PROTECTORS)
		abort();
	free(src);
	return 0;
}
