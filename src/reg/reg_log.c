/*
 * reg_log.c - new-format ("HvLE") transaction log replay into a private
 * recovered copy of a dirty hive, and the Marvin32 hash that guards log
 * entries.
 */
#include "reg/reg_log.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg/reg_private.h"
#include "util/ws_fs.h"
#include "util/ws_utf.h"

/* The specification gives the seed as 14219357686671994754 "little-endian":
 * those are the bytes c5 55 4e 7a 88 4d ef 82 in memory order, i.e. the
 * 64-bit value below when loaded as a little-endian word. */
#define LOG_SEED 0x82EF4D887A4E55C5ULL
#define HIVE_MAX ((size_t)1 << 31)   /* Windows' own hive size limit */
#define ENTRY_HEADER 40

static uint32_t rotl(uint32_t v, int n)
{
	return (v << n) | (v >> (32 - n));
}

static void marvin_block(uint32_t *s0, uint32_t *s1)
{
	*s1 ^= *s0;
	*s0 = rotl(*s0, 20) + *s1;
	*s1 = rotl(*s1, 9) ^ *s0;
	*s0 = rotl(*s0, 27) + *s1;
	*s1 = rotl(*s1, 19);
}

uint64_t reg_log_marvin32(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint32_t s0 = (uint32_t)seed, s1 = (uint32_t)(seed >> 32), fin;

	for (; len >= 4; p += 4, len -= 4) {
		s0 += ws_get_u32le(p);
		marvin_block(&s0, &s1);
	}
	/* the tail bytes, then a 0x80 marker byte, as one last word */
	fin = 0x80u << (8 * len);
	for (size_t i = 0; i < len; i++)
		fin |= (uint32_t)p[i] << (8 * i);
	s0 += fin;
	marvin_block(&s0, &s1);
	marvin_block(&s0, &s1);
	return (uint64_t)s1 << 32 | s0;
}

struct log_entry {
	const unsigned char *p;   /* the entry, inside its log's buffer */
	uint32_t seq, hbins, npages;
	uint64_t cover;           /* end of the last byte its pages write */
	size_t order;             /* position across logs, to keep ties stable */
};

struct entry_list {
	struct log_entry *v;
	size_t n, alloc;
};

/* Valid log entries of one log file, in file order, up to the first bad one.
 * Returns 1 for a new-format log, 2 for an old-format one, 0 if unusable. */
static int parse_log(const unsigned char *d, size_t n, struct entry_list *out)
{
	size_t off = 512;
	uint32_t type;

	if (n < 512 || memcmp(d, "regf", 4) != 0 ||
	    reg_base_checksum(d) != ws_get_u32le(d + 508))
		return 0;
	type = ws_get_u32le(d + 28);
	if (type == 1 || type == 2)
		return 2;
	if (type != 6)
		return 0;
	while (off + ENTRY_HEADER <= n && memcmp(d + off, "HvLE", 4) == 0) {
		const unsigned char *e = d + off;
		uint32_t size = ws_get_u32le(e + 4), hbins = ws_get_u32le(e + 16), np = ws_get_u32le(e + 20);
		size_t used;
		uint64_t cover;

		if (size < ENTRY_HEADER || size % 512 || size > n - off ||
		    !hbins || hbins % REG_HBIN_SIZE || hbins > HIVE_MAX ||
		    np > (size - ENTRY_HEADER) / 8)
			break;
		if (reg_log_marvin32(e + ENTRY_HEADER, size - ENTRY_HEADER,
				     LOG_SEED) != ws_get_u64le(e + 24) ||
		    reg_log_marvin32(e, 32, LOG_SEED) != ws_get_u64le(e + 32))
			break;
		used = ENTRY_HEADER + (size_t)np * 8;
		cover = 0;
		for (uint32_t i = 0; i < np; i++) {
			uint32_t po = ws_get_u32le(e + ENTRY_HEADER + 8 * i);
			uint32_t ps = ws_get_u32le(e + ENTRY_HEADER + 8 * i + 4);

			if (po > hbins || ps > hbins - po) {
				used = SIZE_MAX;
				break;
			}
			used += ps;
			if ((uint64_t)po + ps > cover)
				cover = (uint64_t)po + ps;
		}
		if (used > size)
			break;
		WS_ALLOC_GROW(out->v, out->n + 1, out->alloc);
		out->v[out->n].p = e;
		out->v[out->n].seq = ws_get_u32le(e + 12);
		out->v[out->n].hbins = hbins;
		out->v[out->n].npages = np;
		out->v[out->n].cover = cover;
		out->v[out->n].order = out->n;
		out->n++;
		off += size;
	}
	return 1;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct log_entry *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Write one entry's dirty pages into the image, resized to its hbins size. */
static void apply_entry(struct ws_buf *img, const struct log_entry *e)
{
	size_t want = REG_BASE_BLOCK_SIZE + (size_t)e->hbins;
	const unsigned char *page = e->p + ENTRY_HEADER + (size_t)e->npages * 8;

	if (img->len < want) {
		size_t old = img->len;

		ws_buf_grow(img, want - old);
		memset(img->buf + old, 0, want - old);
	}
	ws_buf_setlen(img, want);
	for (uint32_t i = 0; i < e->npages; i++) {
		uint32_t po = ws_get_u32le(e->p + ENTRY_HEADER + 8 * i);
		uint32_t ps = ws_get_u32le(e->p + ENTRY_HEADER + 8 * i + 4);

		memcpy(img->buf + REG_BASE_BLOCK_SIZE + po, page, ps);
		page += ps;
	}
}

int reg_log_recover(const char *primary, const char *const *logs, size_t nlogs,
		    const char *out, struct reg_log_result *res,
		    struct ws_error *err)
{
	struct ws_buf img = WS_BUF_INIT, *lb;
	struct entry_list el = { NULL, 0, 0 };
	struct reg_hive_info info;
	unsigned char *base;
	int rc, bad_base, newfmt = 0, oldfmt = 0;
	uint32_t from;
	size_t i;

	memset(res, 0, sizeof(*res));
	rc = ws_read_file(primary, HIVE_MAX, &img, err);
	if (rc)
		return rc;
	if (img.len < REG_BASE_BLOCK_SIZE || memcmp(img.buf, "regf", 4) != 0) {
		ws_buf_release(&img);
		return ws_error_set(err, WS_E_HIVE, primary,
				    "not a registry hive: no 'regf' base block");
	}
	base = (unsigned char *)img.buf;
	bad_base = reg_base_parse(base, img.len, primary, &info, NULL) != WS_OK;
	res->was_dirty = bad_base || info.dirty;
	if (!res->was_dirty) {
		rc = ws_write_file_atomic(out, img.buf, img.len, 1, WS_E_IO, err);
		ws_buf_release(&img);
		return rc;
	}

	lb = ws_xcalloc(nlogs ? nlogs : 1, sizeof(*lb));
	for (i = 0; i < nlogs; i++) {
		struct entry_list one = { NULL, 0, 0 };
		int kind;

		ws_buf_init(&lb[i]);
		if (!logs[i] || !ws_path_exists(logs[i]))
			continue;
		rc = ws_read_file(logs[i], HIVE_MAX, &lb[i], err);
		if (rc)
			goto out;
		kind = parse_log((unsigned char *)lb[i].buf, lb[i].len, &one);
		newfmt |= kind == 1;
		oldfmt |= kind == 2;
		/* a damaged primary header is rebuilt from the log's copy */
		if (kind == 1 && bad_base) {
			memcpy(base, lb[i].buf, 512);
			ws_put_u32le(base + 28, 0);
			bad_base = 0;
		}
		for (size_t j = 0; j < one.n; j++) {
			WS_ALLOC_GROW(el.v, el.n + 1, el.alloc);
			el.v[el.n] = one.v[j];
			el.v[el.n].order = el.n;
			el.n++;
		}
		free(one.v);
	}
	if (!newfmt || bad_base) {
		rc = oldfmt && !newfmt
			? ws_error_set(err, WS_E_UNSUPPORTED, primary,
				       "dirty hive has only old-format transaction "
				       "logs, which cannot be replayed")
			: ws_error_set(err, WS_E_HIVE, primary,
				       "dirty hive has no usable transaction log");
		goto out;
	}
	/*
	 * Replay from the secondary sequence number on (the last write known
	 * complete), not from the primary one as the specification words it:
	 * the write that bumped the primary number may have reached the file
	 * only in part.  Re-applying that entry is harmless, skipping it left
	 * dangling cells in regipy's transactions_NTUSER.DAT.  Entries must
	 * follow each other without a gap.
	 */
	if (el.n)
		qsort(el.v, el.n, sizeof(*el.v), cmp_entry);
	from = ws_get_u32le(base + 8);
	for (i = 0; i < el.n; i++) {
		const struct log_entry *e = &el.v[i];

		if (e->seq < from)
			continue;
		if (res->applied && e->seq == res->last_seq)
			continue;        /* same entry in both logs */
		if (res->applied && e->seq != res->last_seq + 1)
			break;
		/* Windows marks a new bin dirty in full, so an entry grows the
		 * hive only as far as its pages reach: a bigger size is a
		 * damaged (or hostile) entry, not gigabytes of zeros to add */
		if ((uint64_t)e->hbins > img.len - REG_BASE_BLOCK_SIZE &&
		    e->hbins > (e->cover + REG_HBIN_SIZE - 1) / REG_HBIN_SIZE * REG_HBIN_SIZE)
			break;
		apply_entry(&img, e);
		base = (unsigned char *)img.buf;
		if (!res->applied)
			res->first_seq = e->seq;
		res->last_seq = e->seq;
		res->applied++;
	}
	if (res->applied) {
		ws_put_u32le(base + 4, res->last_seq);
		ws_put_u32le(base + 8, res->last_seq);
		ws_put_u32le(base + 40, (uint32_t)(img.len - REG_BASE_BLOCK_SIZE));
	} else {
		ws_put_u32le(base + 8, ws_get_u32le(base + 4));
	}
	reg_base_seal(base);
	rc = ws_write_file_atomic(out, img.buf, img.len, 1, WS_E_IO, err);
out:
	for (i = 0; i < nlogs; i++)
		ws_buf_release(&lb[i]);
	free(lb);
	free(el.v);
	ws_buf_release(&img);
	return rc;
}

int reg_log_find(const char *primary, struct ws_buf *log1, struct ws_buf *log2,
		 struct ws_error *err)
{
	const char *slash = strrchr(primary, '/');
	const char *base = slash ? slash + 1 : primary;
	struct ws_buf dir = WS_BUF_INIT, n1 = WS_BUF_INIT, n2 = WS_BUF_INIT;
	struct dirent *de;
	DIR *d;

	if (slash)
		ws_buf_add(&dir, primary, (size_t)(slash - primary));
	if (!dir.len)
		ws_buf_adds(&dir, slash ? "/" : ".");
	d = opendir(dir.buf);
	if (!d) {
		int rc = ws_error_set_errno(err, WS_E_IO, errno, dir.buf,
					    "cannot list folder of hive");

		ws_buf_release(&dir);
		return rc;
	}
	ws_buf_addf(&n1, "%s.LOG1", base);
	ws_buf_addf(&n2, "%s.LOG2", base);
	while ((de = readdir(d)) != NULL) {
		struct ws_buf *to = NULL;

		if (ws_name_casecmp(de->d_name, n1.buf) == 0 && !log1->len)
			to = log1;
		else if (ws_name_casecmp(de->d_name, n2.buf) == 0 && !log2->len)
			to = log2;
		if (to)
			ws_path_join(to, dir.buf, de->d_name);
	}
	closedir(d);
	ws_buf_release(&dir);
	ws_buf_release(&n1);
	ws_buf_release(&n2);
	return WS_OK;
}
