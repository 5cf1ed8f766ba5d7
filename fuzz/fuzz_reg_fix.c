/* fuzz_reg_fix.c - any bytes as the hive file reg_hive_commit() repairs
 * (reg_fix_image: our own walk over key nodes and subkey lists, rewriting
 * hashes, hints, order and times in place).  Byte 0 bit 0 reseals the base
 * block checksum so mutations get past it; a few stamps aim at offsets the
 * input names.  Nothing may crash, hang, leak or write out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_reg_common.h"
#include "reg/reg_hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int stamp_order(const void *a, const void *b)
{
	const struct reg_stamp *x = a, *y = b;

	return (x->node > y->node) - (x->node < y->node);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct reg_upcase *uc;
	struct reg_stamp st[4];
	struct reg_fix_stats stats;
	struct ws_error e;
	unsigned char *img;
	size_t n = 0;

	if (!uc)
		uc = reg_upcase_new();
	if (!size)
		return 0;
	img = malloc(size - 1 ? size - 1 : 1);
	memcpy(img, data + 1, size - 1);
	if ((data[0] & FZ_HIVE_SEAL) && size - 1 >= REG_BASE_BLOCK_SIZE)
		reg_base_seal(img);
	/* the root, and the key nodes the input's last words point at */
	if (size - 1 >= REG_BASE_BLOCK_SIZE)
		st[n++] = (struct reg_stamp){ REG_BASE_BLOCK_SIZE + fz_rd32(img + 36),
					       FZ_TIMESTAMP };
	for (size_t i = 1; i <= 3 && size - 1 >= 4 * i; i++) {
		uint64_t node = REG_BASE_BLOCK_SIZE + (uint64_t)fz_rd32(img + size - 1 - 4 * i);
		int dup = 0;

		for (size_t j = 0; j < n; j++)
			dup |= st[j].node == node;
		if (!dup)
			st[n++] = (struct reg_stamp){ node, FZ_TIMESTAMP + i };
	}
	qsort(st, n, sizeof(st[0]), stamp_order);
	reg_fix_image(img, size - 1, uc, st, n, &stats, "fuzz", &e);
	/* a second pass over what the first one wrote */
	reg_fix_image(img, size - 1, uc, NULL, 0, &stats, "fuzz", &e);
	free(img);
	return 0;
}
