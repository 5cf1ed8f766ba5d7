/*
 * reg_walk.c - iterative depth-first walk over a key and its subtree, with
 * a depth limit and loop detection for damaged hives (the scanner's engine).
 */
#include "reg/reg.h"

#include <stdlib.h>
#include <string.h>

#include "util/ws_hash.h"

struct walk_frame {
	reg_node *kids;
	size_t n, next;
	size_t pathlen;     /* length of the frame key's path in the walk's buffer */
};

/* Open-addressing set of visited nodes: a loop in a damaged hive is caught.
 * Slots are the top bits of the offset times a random odd number: a hive
 * laid out on purpose cannot put its keys in one run of slots. */
struct node_set {
	reg_node *slot;
	size_t cap, used;
	unsigned shift;          /* 64 - log2(cap) */
	uint64_t mul;            /* random, odd */
};

static size_t hash_node(reg_node n, const struct node_set *s)
{
	return (size_t)(((uint64_t)n * s->mul) >> s->shift);
}

/* Add n; returns 0 if it was already present. */
static int set_add(struct node_set *s, reg_node n)
{
	size_t i;

	if ((s->used + 1) * 2 > s->cap) {
		struct node_set big = { NULL, s->cap ? s->cap * 2 : 1024, 0, 0, s->mul };

		big.shift = 64u - (unsigned)__builtin_ctzll((unsigned long long)big.cap);
		big.slot = ws_xcalloc(big.cap, sizeof(*big.slot));
		for (size_t j = 0; j < s->cap; j++)
			if (s->slot[j])
				set_add(&big, s->slot[j]);
		free(s->slot);
		*s = big;
	}
	for (i = hash_node(n, s); s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (s->slot[i] == n)
			return 0;
	s->slot[i] = n;
	s->used++;
	return 1;
}

/* Visit one key; on success push a frame for its subkeys unless skipped. */
static int visit(struct reg_hive *h, reg_node key, struct ws_buf *path,
		 unsigned depth, unsigned max_depth, unsigned flags,
		 reg_walk_fn fn, void *ctx, struct node_set *seen,
		 struct walk_frame *top, struct ws_error *err)
{
	struct reg_value *vals = NULL;
	size_t nv = 0;
	int rc;

	memset(top, 0, sizeof(*top));
	if (!set_add(seen, key))
		return ws_error_set(err, WS_E_HIVE, reg_hive_path(h),
				    "key '%s' reached twice: loop in a damaged "
				    "hive", path->buf);
	if (flags & REG_WALK_VALUES) {
		rc = reg_key_values(h, key, &vals, &nv, err);
		if (rc)
			return rc;
	}
	rc = fn(ctx, h, key, path->buf, depth, vals, nv, err);
	reg_values_free(vals, nv);
	if (rc == REG_WALK_SKIP || (rc == WS_OK && depth >= max_depth))
		return WS_OK;
	if (rc)
		return rc;
	top->pathlen = path->len;
	return reg_key_children(h, key, &top->kids, &top->n, err);
}

int reg_walk(struct reg_hive *h, reg_node from, unsigned max_depth,
	     unsigned flags, reg_walk_fn fn, void *ctx, struct ws_error *err)
{
	struct walk_frame *st;
	struct node_set seen = { NULL, 0, 0, 0, ws_hash_mul_new() };
	struct ws_buf path = WS_BUF_INIT;
	size_t depth = 0;
	int rc;

	if (!from)
		return ws_error_set(err, WS_E_INTERNAL, reg_hive_path(h),
				    "no key given to walk");
	if (!max_depth || max_depth > 512)
		max_depth = 512;
	st = ws_xcalloc((size_t)max_depth + 1, sizeof(*st));
	rc = visit(h, from, &path, 0, max_depth, flags, fn, ctx, &seen, &st[0],
		   err);
	while (!rc) {
		struct walk_frame *f = &st[depth];
		reg_node kid;

		if (f->next >= f->n) {
			free(f->kids);
			f->kids = NULL;
			if (!depth)
				break;
			depth--;
			continue;
		}
		kid = f->kids[f->next++];
		ws_buf_setlen(&path, f->pathlen);
		if (path.len)
			ws_buf_addch(&path, '\\');
		rc = reg_key_name(h, kid, &path, err);
		if (rc)
			break;
		depth++;
		rc = visit(h, kid, &path, (unsigned)depth, max_depth, flags, fn,
			   ctx, &seen, &st[depth], err);
	}
	for (size_t i = 0; i <= max_depth; i++)
		free(st[i].kids);
	free(st);
	free(seen.slot);
	ws_buf_release(&path);
	return rc;
}
