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
#include "fuzz_sparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IMAGE_SIZE (128u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_sparse sp = { data, size, IMAGE_SIZE };
	struct bd_source *src = calloc(1, sizeof(*src)), *vol = NULL;
	struct bd_bde_info info;
	struct ws_error e;
	int rc;

	src->ops = &fz_sparse_ops;
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
