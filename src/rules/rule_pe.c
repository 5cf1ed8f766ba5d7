/*
 * rule_pe.c - reading the version resource (VS_VERSIONINFO) of a PE image
 * from bytes, for DoesFileVersionMatch / IsFileVersionAbove / Below, and
 * dotted version comparison.  Every offset is bounds-checked: the bytes
 * come from the source volume and may be anything.
 */
#include "rules_private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/ws_utf.h"

struct pe {
	const unsigned char *d;
	size_t len;
	size_t sec_off;      /* section table */
	unsigned nsec;
};

static int rd16(const struct pe *pe, size_t off, unsigned *v)
{
	if (off > pe->len || pe->len - off < 2)
		return -1;
	*v = ws_get_u16le(pe->d + off);
	return 0;
}

static int rd32(const struct pe *pe, size_t off, uint32_t *v)
{
	if (off > pe->len || pe->len - off < 4)
		return -1;
	*v = ws_get_u32le(pe->d + off);
	return 0;
}

/* RVA -> file offset through the section table; -1 if unmapped. */
static int rva_off(const struct pe *pe, uint32_t rva, size_t *off)
{
	for (unsigned i = 0; i < pe->nsec; i++) {
		size_t s = pe->sec_off + (size_t)i * 40;
		uint32_t vsize, va, rawsize, rawptr, span;

		if (rd32(pe, s + 8, &vsize) || rd32(pe, s + 12, &va) ||
		    rd32(pe, s + 16, &rawsize) || rd32(pe, s + 20, &rawptr))
			return -1;
		span = vsize > rawsize ? vsize : rawsize;
		if (rva >= va && rva - va < span) {
			*off = (size_t)rawptr + (rva - va);
			return *off < pe->len ? 0 : -1;
		}
	}
	return -1;
}

/* Entry of a resource directory at `dir` (offset in file) matching id, or the
 * first one when id < 0; returns the entry's OffsetToData or -1. */
static int64_t res_entry(const struct pe *pe, size_t dir, long id)
{
	unsigned named, ids;

	if (rd16(pe, dir + 12, &named) || rd16(pe, dir + 14, &ids))
		return -1;
	for (unsigned i = 0; i < named + ids && i < 4096; i++) {
		uint32_t name, data;

		if (rd32(pe, dir + 16 + (size_t)i * 8, &name) ||
		    rd32(pe, dir + 20 + (size_t)i * 8, &data))
			return -1;
		if (id < 0 || (!(name & 0x80000000u) && name == (uint32_t)id))
			return data;
	}
	return -1;
}

struct vblock {
	size_t start, end;       /* block bounds */
	size_t key, keylen;      /* UTF-16 key offset and length in bytes (no NUL) */
	size_t val, vallen;      /* value bytes */
	size_t kids;             /* first child */
};

static size_t align4(size_t base, size_t off)
{
	return base + ((off - base + 3) & ~(size_t)3);
}

static int vblock_read(const struct pe *pe, size_t base, size_t off, size_t limit,
		       struct vblock *b)
{
	unsigned len, vlen, type;
	size_t k;

	if (rd16(pe, off, &len) || rd16(pe, off + 2, &vlen) || rd16(pe, off + 4, &type))
		return -1;
	if (len < 6 || off + len > limit)
		return -1;
	b->start = off;
	b->end = off + len;
	b->key = off + 6;
	for (k = b->key; k + 1 < b->end; k += 2)
		if (!pe->d[k] && !pe->d[k + 1])
			break;
	if (k + 1 >= b->end)
		return -1;
	b->keylen = k - b->key;
	b->val = align4(base, k + 2);
	b->vallen = type == 1 ? (size_t)vlen * 2 : vlen;
	if (b->val > b->end)
		b->val = b->end;
	if (b->vallen > b->end - b->val)
		b->vallen = b->end - b->val;
	b->kids = align4(base, b->val + b->vallen);
	return 0;
}

static int key_is(const struct pe *pe, const struct vblock *b, const char *s)
{
	size_t n = strlen(s);

	if (b->keylen != n * 2)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned c = pe->d[b->key + 2 * i] | (unsigned)pe->d[b->key + 2 * i + 1] << 8;

		if (c >= 0x80 || ((c | 0x20) != ((unsigned)s[i] | 0x20)))
			return 0;
	}
	return 1;
}

static int string_value(const struct pe *pe, size_t base, const struct vblock *root,
			const char *tag, struct ws_buf *out)
{
	for (size_t o = root->kids; o + 6 <= root->end;) {
		struct vblock sfi;

		if (vblock_read(pe, base, o, root->end, &sfi))
			return 0;
		if (key_is(pe, &sfi, "StringFileInfo")) {
			for (size_t t = sfi.kids; t + 6 <= sfi.end;) {
				struct vblock tbl;

				if (vblock_read(pe, base, t, sfi.end, &tbl))
					break;
				for (size_t s = tbl.kids; s + 6 <= tbl.end;) {
					struct vblock str;

					if (vblock_read(pe, base, s, tbl.end, &str))
						break;
					if (key_is(pe, &str, tag)) {
						ws_utf16le_to_utf8(pe->d + str.val, str.vallen, out,
								   WS_UTF16_STOP_AT_NUL);
						return 1;
					}
					s = align4(base, str.end);
				}
				t = align4(base, tbl.end);
			}
		}
		o = align4(base, sfi.end);
	}
	return 0;
}

int rule_pe_version(const unsigned char *data, size_t len, const char *tag,
		    struct ws_buf *out)
{
	struct pe pe = { data, len, 0, 0 };
	uint32_t lfanew, sig, res_rva, nrva;
	unsigned nsec, optsz, magic;
	size_t opt, res_off, vi_off;
	int64_t e;
	uint32_t data_rva, data_size;
	struct vblock root;

	if (len < 64 || data[0] != 'M' || data[1] != 'Z' || rd32(&pe, 0x3c, &lfanew))
		return 0;
	if (rd32(&pe, lfanew, &sig) || sig != 0x00004550u)
		return 0;
	if (rd16(&pe, (size_t)lfanew + 6, &nsec) || rd16(&pe, (size_t)lfanew + 20, &optsz))
		return 0;
	opt = (size_t)lfanew + 24;
	if (rd16(&pe, opt, &magic))
		return 0;
	if (magic == 0x10b) {
		if (rd32(&pe, opt + 92, &nrva) || nrva < 3 || rd32(&pe, opt + 112, &res_rva))
			return 0;
	} else if (magic == 0x20b) {
		if (rd32(&pe, opt + 108, &nrva) || nrva < 3 || rd32(&pe, opt + 128, &res_rva))
			return 0;
	} else {
		return 0;
	}
	pe.sec_off = opt + optsz;
	pe.nsec = nsec > 96 ? 96 : nsec;
	if (!res_rva || rva_off(&pe, res_rva, &res_off))
		return 0;
	/* type RT_VERSION (16) -> first name -> first language -> data entry */
	e = res_entry(&pe, res_off, 16);
	if (e < 0 || !(e & 0x80000000))
		return 0;
	e = res_entry(&pe, res_off + (size_t)(e & 0x7fffffff), -1);
	if (e < 0 || !(e & 0x80000000))
		return 0;
	e = res_entry(&pe, res_off + (size_t)(e & 0x7fffffff), -1);
	if (e < 0 || (e & 0x80000000))
		return 0;
	if (rd32(&pe, res_off + (size_t)e, &data_rva) ||
	    rd32(&pe, res_off + (size_t)e + 4, &data_size))
		return 0;
	if (rva_off(&pe, data_rva, &vi_off) || data_size > len - vi_off)
		return 0;
	if (vblock_read(&pe, vi_off, vi_off, vi_off + data_size, &root) ||
	    !key_is(&pe, &root, "VS_VERSION_INFO"))
		return 0;
	if (!strcasecmp(tag, "FileVersion") || !strcasecmp(tag, "ProductVersion")) {
		uint32_t s, ms, ls;
		size_t f = root.val + (strcasecmp(tag, "FileVersion") ? 16 : 8);

		if (root.vallen >= 52 && !rd32(&pe, root.val, &s) && s == 0xFEEF04BDu &&
		    !rd32(&pe, f, &ms) && !rd32(&pe, f + 4, &ls)) {
			ws_buf_addf(out, "%u.%u.%u.%u", (unsigned)(ms >> 16), (unsigned)(ms & 0xffff),
				    (unsigned)(ls >> 16), (unsigned)(ls & 0xffff));
			return 1;
		}
	}
	return string_value(&pe, vi_off, &root, tag, out);
}
