/*
 * reg_hash.c - Windows' upcase table, the lh hash, the lf name hint and the
 * sibling order of key names, and reg_fix_image(): the walk over a hive
 * file written by hivex that puts its subkey lists (and new keys' times)
 * into the form Windows writes.  See reg_hash.h for the rules and where
 * they were proven.
 */
#include "reg/reg_hash.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>   /* before ntfs-3g's headers: they test st_mtime */
#include <unistd.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/volume.h>
#include <ntfs-3g/unistr.h>

#include "reg/reg_private.h"
#include "util/ws_buf.h"
#include "util/ws_fs.h"

/* nk flag: the name is stored as Latin-1 bytes */
#define KEY_COMP_NAME 0x0020
#define NO_CELL 0xffffffffu
/* hivex refuses larger hives; so do we (a bound for the read) */
#define REG_FIX_MAX_FILE ((size_t)1 << 31)

struct reg_upcase {
	uint16_t t[65536];
};

struct reg_upcase *reg_upcase_new(void)
{
	struct reg_upcase *uc = ws_xmalloc(sizeof(*uc));

	/* the length is in bytes; the table is little-endian ntfschar */
	ntfs_upcase_table_build((ntfschar *)uc->t, (u32)sizeof(uc->t));
	for (size_t i = 0; i < 65536; i++)
		uc->t[i] = le16toh(uc->t[i]);
	return uc;
}

void reg_upcase_free(struct reg_upcase *uc)
{
	free(uc);
}

uint16_t reg_upcase_unit(const struct reg_upcase *uc, uint16_t unit)
{
	return uc->t[unit];
}

static size_t name_units(const struct reg_name *n)
{
	return n->comp ? n->len : n->len / 2;
}

static uint16_t name_unit(const struct reg_name *n, size_t i)
{
	if (n->comp)
		return n->p[i];
	return (uint16_t)(n->p[2 * i] | n->p[2 * i + 1] << 8);
}

uint32_t reg_name_hash(const struct reg_upcase *uc, const struct reg_name *n)
{
	uint32_t h = 0;
	size_t k = name_units(n);

	for (size_t i = 0; i < k; i++)
		h = h * 37u + uc->t[name_unit(n, i)];
	return h;
}

uint32_t reg_name_hint(const struct reg_name *n)
{
	uint32_t hint = 0;
	size_t k = name_units(n);

	for (size_t i = 0; i < 4 && i < k; i++) {
		uint16_t u = name_unit(n, i);

		if (u > 0xff)
			return 0;
		hint |= (uint32_t)u << (8 * i);
	}
	return hint;
}

int reg_name_cmp(const struct reg_upcase *uc, const struct reg_name *a,
		 const struct reg_name *b)
{
	size_t ka = name_units(a), kb = name_units(b);

	for (size_t i = 0; i < ka && i < kb; i++) {
		uint16_t x = uc->t[name_unit(a, i)], y = uc->t[name_unit(b, i)];

		if (x != y)
			return x < y ? -1 : 1;
	}
	return (ka > kb) - (ka < kb);
}

/* ---- the walk over a hive image ------------------------------------------ */

struct fixer {
	unsigned char *img;
	size_t len;
	const struct reg_upcase *uc;
	int lf_only;                   /* format <= 1.4: no lh leaves */
	const struct reg_stamp *stamps;
	size_t nstamps;
	struct reg_fix_stats *st;
	unsigned char *seen;           /* one bit per 8 bytes of hive bins */
};

/* Data of the allocated cell at hive-bins offset `off`, or NULL. */
static unsigned char *cell(const struct fixer *f, uint32_t off, size_t *dlen)
{
	size_t at = REG_BASE_BLOCK_SIZE + (size_t)off;
	int64_t sz;

	if (off == NO_CELL || at + 4 > f->len)
		return NULL;
	sz = (int32_t)ws_get_u32le(f->img + at);
	if (sz >= 0 || -sz < 8 || (size_t)-sz > f->len - at)
		return NULL;           /* free, or not within the file */
	*dlen = (size_t)-sz - 4;
	return f->img + at + 4;
}

/* The key node at `off`: its data and name, or NULL. */
static unsigned char *key_node(const struct fixer *f, uint32_t off,
			       struct reg_name *name)
{
	size_t dlen;
	unsigned char *d = cell(f, off, &dlen);

	if (!d || dlen < 76 || d[0] != 'n' || d[1] != 'k')
		return NULL;
	name->len = ws_get_u16le(d + 72);
	name->comp = (ws_get_u16le(d + 2) & KEY_COMP_NAME) != 0;
	name->p = d + 76;
	if (76 + name->len > dlen || (!name->comp && name->len % 2))
		return NULL;
	return d;
}

static int leaf_sig(const unsigned char *d)
{
	if (d[0] == 'l' && (d[1] == 'i' || d[1] == 'f' || d[1] == 'h'))
		return d[1];
	return 0;
}

struct entry {
	uint32_t off;          /* child key node */
	size_t pos;            /* place before sorting (keeps the sort stable) */
	struct reg_name name;
};

static int entry_cmp(const void *a, const void *b, void *ctx)
{
	const struct entry *x = a, *y = b;
	int c = reg_name_cmp(ctx, &x->name, &y->name);

	if (c)
		return c;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

static int stamp_cmp(const void *key, const void *elt)
{
	uint64_t node = *(const uint64_t *)key;
	const struct reg_stamp *s = elt;

	return (node > s->node) - (node < s->node);
}

static void stamp_key(struct fixer *f, uint32_t off, unsigned char *nk)
{
	uint64_t node = REG_BASE_BLOCK_SIZE + (uint64_t)off;
	const struct reg_stamp *s;

	if (!f->nstamps)
		return;
	s = bsearch(&node, f->stamps, f->nstamps, sizeof(*s), stamp_cmp);
	if (!s)
		return;
	ws_put_u32le(nk + 4, (uint32_t)s->filetime);
	ws_put_u32le(nk + 8, (uint32_t)(s->filetime >> 32));
	f->st->stamped++;
}

/*
 * The leaves of a subkey list (one leaf, or the leaves of an index root):
 * their data pointers into leaves[], the number of elements in total.
 * Returns -1 when some record is not what it must be.
 */
static int list_leaves(const struct fixer *f, uint32_t list,
		       unsigned char ***leaves, size_t *nleaves, size_t *total)
{
	size_t dlen, n = 1;
	unsigned char *d = cell(f, list, &dlen);
	unsigned char **out;
	int root;

	*leaves = NULL;
	*nleaves = *total = 0;
	if (!d || dlen < 4)
		return -1;
	root = d[0] == 'r' && d[1] == 'i';
	if (root) {
		n = ws_get_u16le(d + 2);
		if (4 + 4 * n > dlen)
			return -1;
	}
	out = ws_xcalloc(n ? n : 1, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		uint32_t off = root ? ws_get_u32le(d + 4 + 4 * i) : list;
		size_t llen, cnt, esz;
		unsigned char *l = cell(f, off, &llen);

		if (!l || llen < 4 || !leaf_sig(l)) {
			free(out);
			return -1;
		}
		cnt = ws_get_u16le(l + 2);
		esz = l[1] == 'i' ? 4 : 8;
		if (4 + cnt * esz > llen) {
			free(out);
			return -1;
		}
		out[i] = l;
		*total += cnt;
	}
	*leaves = out;
	*nleaves = n;
	return 0;
}

/* Mark a key node visited; 0 if it already was (a loop). */
static int first_visit(struct fixer *f, uint32_t off)
{
	size_t bit = (size_t)off / 8;

	if (f->seen[bit / 8] & (1u << (bit % 8)))
		return 0;
	f->seen[bit / 8] |= (unsigned char)(1u << (bit % 8));
	return 1;
}

/* Re-sort, re-hash and re-hint the subkey lists of one key; children that
 * are key nodes are pushed on the walk's stack. */
static void fix_lists(struct fixer *f, unsigned char *nk, uint32_t **stack,
		      size_t *depth, size_t *alloc)
{
	uint32_t list = ws_get_u32le(nk + 28);
	unsigned char **leaves;
	size_t nleaves, total, k = 0, moved = 0;
	struct entry *e;

	if (!ws_get_u32le(nk + 20) || list == NO_CELL)
		return;
	if (list_leaves(f, list, &leaves, &nleaves, &total) != 0) {
		f->st->skipped++;
		return;
	}
	e = ws_xcalloc(total ? total : 1, sizeof(*e));
	for (size_t i = 0; i < nleaves; i++) {
		size_t esz = leaves[i][1] == 'i' ? 4 : 8;

		for (size_t j = 0; j < ws_get_u16le(leaves[i] + 2); j++, k++) {
			e[k].off = ws_get_u32le(leaves[i] + 4 + esz * j);
			e[k].pos = k;
			if (!key_node(f, e[k].off, &e[k].name)) {
				f->st->skipped++;
				goto out;
			}
		}
	}
	for (k = 0; k < total; k++) {
		if (!first_visit(f, e[k].off)) {
			f->st->skipped++;   /* a loop: keep out of it */
			goto out;
		}
		WS_ALLOC_GROW(*stack, *depth + 1, *alloc);
		(*stack)[(*depth)++] = e[k].off;
	}
	qsort_r(e, total, sizeof(*e), entry_cmp, (void *)f->uc);
	k = 0;
	for (size_t i = 0; i < nleaves; i++) {
		unsigned char *l = leaves[i];

		if (l[1] == 'h' && f->lf_only) {
			l[1] = 'f';
			f->st->converted++;
		}
		for (size_t j = 0; j < ws_get_u16le(l + 2); j++, k++) {
			unsigned char *el = l + 4 + (l[1] == 'i' ? 4 : 8) * j;
			uint32_t want;

			if (ws_get_u32le(el) != e[k].off) {
				ws_put_u32le(el, e[k].off);
				moved++;
			}
			if (l[1] == 'i')
				continue;
			if (l[1] == 'h') {
				want = reg_name_hash(f->uc, &e[k].name);
				f->st->lh++;
				if (ws_get_u32le(el + 4) != want)
					f->st->hashes_fixed++;
			} else {
				want = reg_name_hint(&e[k].name);
				f->st->lf++;
				if (ws_get_u32le(el + 4) != want)
					f->st->hints_fixed++;
			}
			ws_put_u32le(el + 4, want);
		}
	}
	if (moved)
		f->st->resorted++;
out:
	free(e);
	free(leaves);
}

int reg_fix_image(unsigned char *img, size_t len, const struct reg_upcase *uc,
		  const struct reg_stamp *stamps, size_t nstamps,
		  struct reg_fix_stats *stats, const char *path,
		  struct ws_error *err)
{
	struct reg_hive_info info;
	struct fixer f = { img, len, uc, 0, stamps, nstamps, stats, NULL };
	uint32_t *stack = NULL, root;
	size_t depth = 0, alloc = 0;
	struct reg_name nm;
	int rc;

	memset(stats, 0, sizeof(*stats));
	rc = reg_base_parse(img, len, path, &info, err);
	if (rc)
		return rc;
	f.lf_only = info.minor < 5;
	root = ws_get_u32le(img + 36);
	if (!key_node(&f, root, &nm))
		return ws_error_set(err, WS_E_HIVE, path,
				    "registry hive has no usable root key");
	f.seen = ws_xcalloc((len - REG_BASE_BLOCK_SIZE) / 64 + 1, 1);
	first_visit(&f, root);
	WS_ALLOC_GROW(stack, 1, alloc);
	stack[depth++] = root;
	while (depth) {
		uint32_t off = stack[--depth];
		unsigned char *nk = key_node(&f, off, &nm);

		stats->keys++;
		stamp_key(&f, off, nk);
		fix_lists(&f, nk, &stack, &depth, &alloc);
	}
	free(stack);
	free(f.seen);
	return WS_OK;
}

int reg_fix_file(const char *path, const struct reg_stamp *stamps,
		 size_t nstamps, struct reg_fix_stats *stats,
		 struct ws_error *err)
{
	struct ws_buf img = WS_BUF_INIT, orig = WS_BUF_INIT;
	struct reg_upcase *uc;
	int rc, fd, e;

	rc = ws_read_file(path, REG_FIX_MAX_FILE, &img, err);
	if (rc)
		return rc;
	ws_buf_add(&orig, img.buf, img.len);
	uc = reg_upcase_new();
	rc = reg_fix_image((unsigned char *)img.buf, img.len, uc, stamps,
			   nstamps, stats, path, err);
	reg_upcase_free(uc);
	if (rc || memcmp(img.buf, orig.buf, img.len) == 0)
		goto out;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, path,
					"cannot reopen registry hive");
		goto out;
	}
	/* only the hive bins change: the base block is the caller's */
	e = lseek(fd, REG_BASE_BLOCK_SIZE, SEEK_SET) < 0 ? errno :
	    ws_write_all(fd, img.buf + REG_BASE_BLOCK_SIZE,
			 img.len - REG_BASE_BLOCK_SIZE);
	if (close(fd) != 0 && !e)
		e = errno;
	if (e)
		rc = ws_error_set_errno(err, WS_E_IO, e, path,
					"cannot write registry hive");
out:
	ws_buf_release(&img);
	ws_buf_release(&orig);
	return rc;
}
