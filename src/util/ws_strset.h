/*
 * ws_strset.h - a set of strings (compared byte for byte) in an
 * open-addressing table keyed at random (ws_hash): for names and paths that
 * come from a store, a source or a hive, which could otherwise be chosen to
 * fill one run of slots.
 *
 *   struct ws_strset s = WS_STRSET_INIT;
 *   if (ws_strset_add(&s, path)) ...   the first time path is added
 *   ws_strset_release(&s);
 */
#ifndef WS_STRSET_H
#define WS_STRSET_H

#include <stddef.h>
#include <stdint.h>

#include "ws_hash.h"

struct ws_strset {
	char **tab;              /* copies; NULL: free */
	uint32_t *h;             /* their hashes (low bits) */
	size_t cap, n;
	struct ws_hkey key;      /* drawn when the table is first made */
	size_t probes;           /* occupied slots looked at (tests) */
};

#define WS_STRSET_INIT { NULL, NULL, 0, 0, { { 0 } }, 0 }

/* Add a copy of s: 1 when it was not there, 0 when it was. */
int ws_strset_add(struct ws_strset *s, const char *str);
/* 1 when str is in the set. */
int ws_strset_has(struct ws_strset *s, const char *str);
/* How many strings the set holds. */
size_t ws_strset_count(const struct ws_strset *s);
void ws_strset_release(struct ws_strset *s);

#endif
