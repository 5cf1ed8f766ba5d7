/*
 * ws_strset.h - a set of strings, each with a 32-bit value, in an
 * open-addressing table keyed at random (ws_hash): for names and paths that
 * come from a store, a source or a hive, which could otherwise be chosen to
 * fill one run of slots.  Strings compare byte for byte, or as NTFS
 * compares names (WS_STRSET_NOCASE: ws_name_ncasecmp, ws_hash_name).
 *
 *   struct ws_strset s = WS_STRSET_INIT;      (s.flags = WS_STRSET_NOCASE)
 *   if (ws_strset_add(&s, path)) ...          the first time path is added
 *   *ws_strset_at(&s, path, NULL) = 7;        its value, added when missing
 *   ws_strset_release(&s);
 */
#ifndef WS_STRSET_H
#define WS_STRSET_H

#include <stddef.h>
#include <stdint.h>

#include "ws_hash.h"

#define WS_STRSET_NOCASE 0x1u  /* equal ignoring case, as NTFS names */

struct ws_strset {
	char **tab;              /* copies; NULL: free */
	uint32_t *h;             /* their hashes (low bits) */
	uint32_t *val;           /* their values */
	size_t cap, n;
	unsigned flags;          /* WS_STRSET_*: set before the first use */
	struct ws_hkey key;      /* drawn when the table is first made */
	size_t probes;           /* occupied slots looked at (tests) */
};

#define WS_STRSET_INIT { NULL, NULL, NULL, 0, 0, 0, { { 0 } }, 0 }

/* Add a copy of str: 1 when it was not there, 0 when it was. */
int ws_strset_add(struct ws_strset *s, const char *str);
/* The value of str, added (value 0) when missing; *added (may be NULL)
 * tells which.  The pointer holds until the next addition. */
uint32_t *ws_strset_at(struct ws_strset *s, const char *str, int *added);
/* The value of str, or NULL when str is not in the set. */
uint32_t *ws_strset_get(struct ws_strset *s, const char *str);
/* 1 when str is in the set. */
int ws_strset_has(struct ws_strset *s, const char *str);
/* How many strings the set holds. */
size_t ws_strset_count(const struct ws_strset *s);
void ws_strset_release(struct ws_strset *s);

#endif
