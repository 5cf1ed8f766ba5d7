/*
 * store_cdc.c - content-defined chunking (FastCDC: a gear rolling hash
 * with normalised chunking) for large files, so an insertion or deletion
 * moves the boundaries after it with the content instead of shifting
 * every fixed-size chunk.  See docs/store-format.md, §5.
 */
#include "store/store_private.h"

#include <string.h>

/* splitmix64: the gear table is fixed by the format's seed, so every
 * writer cuts the same content at the same places (dedup across writers). */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The `bits` highest bits: gear hashes shift left, so the high bits carry
 * the last 64 bytes while the low ones only the last few. */
static uint64_t top_mask(unsigned bits)
{
	return bits >= 64 ? ~0ull : ~0ull << (64 - bits);
}

void store_cdc_init(struct store_cdc *c, uint32_t avg)
{
	uint64_t seed = STORE_CDC_SEED;
	unsigned bits = 0;

	for (size_t i = 0; i < 256; i++)
		c->gear[i] = splitmix64(&seed);
	c->avg = avg;
	c->min = avg / 4;
	c->max = (uint64_t)avg * 4 > STORE_CHUNK_MAX ? STORE_CHUNK_MAX : avg * 4;
	while ((1u << (bits + 1)) <= avg)
		bits++;
	/* Normalised chunking (level 2): a harder mask before the average,
	 * an easier one after it, so sizes gather around the average. */
	c->mask_s = top_mask(bits + 2);
	c->mask_l = top_mask(bits > 2 ? bits - 2 : 1);
}

size_t store_cdc_cut(const struct store_cdc *c, const unsigned char *p, size_t n)
{
	size_t i, normal, end;
	uint64_t h = 0;

	if (n <= c->min)
		return n;
	end = n < c->max ? n : c->max;
	normal = end < c->avg ? end : c->avg;
	/* Bytes before min are skipped: no chunk is shorter (but the last);
	 * the hash warms up over the 64 bytes before min. */
	i = c->min >= 64 ? c->min - 64 : 0;
	for (; i < c->min; i++)
		h = (h << 1) + c->gear[p[i]];
	for (; i < normal; i++) {
		h = (h << 1) + c->gear[p[i]];
		if (!(h & c->mask_s))
			return i + 1;
	}
	for (; i < end; i++) {
		h = (h << 1) + c->gear[p[i]];
		if (!(h & c->mask_l))
			return i + 1;
	}
	return end;
}
