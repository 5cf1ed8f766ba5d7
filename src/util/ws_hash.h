/*
 * ws_hash.h - keyed hashes for the hash tables whose keys come from
 * outside: names and paths read from a store, a source volume or a hive.
 *
 * A table indexed by an unkeyed hash (FNV, a fixed multiplier) can be
 * filled on purpose: names whose hashes share their low bits all land in
 * one run of slots, and every lookup then walks the whole run (a folder
 * of crafted names makes an apply quadratic).  With a key drawn at random
 * for each table, nobody can tell which names collide.
 *
 *   struct ws_hkey k;
 *   ws_hkey_init(&k);                       once, when the table is made
 *   slot = ws_hash_str(&k, name) & (cap - 1);
 *
 * SipHash-2-4 (libsodium's crypto_shorthash): a keyed function meant for
 * exactly this, fast on short inputs.
 */
#ifndef WS_HASH_H
#define WS_HASH_H

#include <stddef.h>
#include <stdint.h>

struct ws_hkey {
	unsigned char k[16];
};

/* A new random key. */
void ws_hkey_init(struct ws_hkey *k);

/* The hash of `len` bytes at `p`. */
uint64_t ws_hash(const struct ws_hkey *k, const void *p, size_t len);

/* The hash of a NUL-terminated string. */
uint64_t ws_hash_str(const struct ws_hkey *k, const char *s);

/*
 * The hash of a name (or '/'-separated path) as NTFS compares names: names
 * equal under ws_name_ncasecmp hash alike.  UTF-8 and WTF-8 sequences are
 * decoded and upper-cased; any other byte stands for itself.
 */
uint64_t ws_hash_name(const struct ws_hkey *k, const char *s, size_t len);

/* A random odd 64-bit multiplier, for tables of numbers (hive cell
 * offsets): slot = (x * mul) >> (64 - bits). */
uint64_t ws_hash_mul_new(void);

#endif
