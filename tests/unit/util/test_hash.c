/* test_hash.c - keyed hashes (ws_hash): names equal ignoring case hash
 * alike, the key changes every hash, and a set of names made to collide
 * under an unkeyed FNV-1a spreads over a table like any other. */
#include "tu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ws_hash.h"
#include "util/ws_utf.h"

/* The unkeyed hash the tables used before: FNV-1a over the upper-cased
 * code points (the crafted names' reference). */
static uint32_t fnv_name(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t h = 2166136261u;

	while (*p) {
		uint32_t cp = *p;
		size_t n = ws_utf8_seq_len((const char *)p, strlen((const char *)p));

		if (n == 4)
			cp = ((cp & 7u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
			     (p[3] & 0x3Fu);
		else
			n = 1;
		p += n;
		h = (h ^ ws_ucs_upper(cp)) * 16777619u;
	}
	return h;
}

static void equal_names_hash_alike(void **state)
{
	struct ws_hkey k;
	static const char *const same[][2] = {
		{ "Documents", "DOCUMENTS" },
		{ "ntuser.dat", "NTUSER.DAT" },
		{ "\xc3\xa9t\xc3\xa9", "\xc3\x89T\xc3\x89" },                 /* été, ÉTÉ */
		{ "\xce\xb1\xce\xb2", "\xce\x91\xce\x92" },                   /* αβ, ΑΒ */
		{ "\xd0\xb4\xd0\xbe\xd0\xbc", "\xd0\x94\xd0\x9e\xd0\x9c" },   /* дом, ДОМ */
		{ "a\xed\xa0\x80z", "A\xed\xa0\x80Z" },                       /* WTF-8 lone surrogate */
		{ "\xf0\x9f\x98\x80.txt", "\xf0\x9f\x98\x80.TXT" },
		{ "bad\xff" "byte", "BAD\xff" "BYTE" },
	};

	(void)state;
	ws_hkey_init(&k);
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_int_equal(ws_name_ncasecmp(same[i][0], strlen(same[i][0]), same[i][1],
						  strlen(same[i][1])), 0);
		assert_true(ws_hash_name(&k, same[i][0], strlen(same[i][0])) ==
			    ws_hash_name(&k, same[i][1], strlen(same[i][1])));
	}
	assert_true(ws_hash_name(&k, "a", 1) != ws_hash_name(&k, "b", 1));
	assert_true(ws_hash_name(&k, "ab", 2) != ws_hash_name(&k, "ba", 2));
	assert_true(ws_hash_name(&k, "", 0) != ws_hash_name(&k, "a", 1));
}

/* Past one buffer (248 bytes of upper-cased UTF-8), and more: a long path
 * equal ignoring case hashes alike; one differing in its last character
 * does not.  Every fifth character is a two-byte one (é / É). */
static void long_paths(void **state)
{
	struct ws_hkey k;
	char a[1200], b[1200];

	(void)state;
	ws_hkey_init(&k);
	for (size_t n = 1; n < 1000; n++) {
		for (size_t i = 0; i < n; i++) {
			a[i] = (char)('a' + i % 26);
			b[i] = (char)('A' + i % 26);
			if (i % 5 == 3 && i + 2 < n) {
				memcpy(a + i, "\xc3\xa9", 2);
				memcpy(b + i, "\xc3\x89", 2);
				i++;
			}
		}
		a[n] = b[n] = '\0';
		assert_true(ws_hash_name(&k, a, n) == ws_hash_name(&k, b, n));
		b[n - 1] = b[n - 1] == 'Z' ? 'Y' : 'Z';
		assert_true(ws_hash_name(&k, a, n) != ws_hash_name(&k, b, n));
	}
}

static void key_changes_every_hash(void **state)
{
	struct ws_hkey k1, k2;
	int same = 0;

	(void)state;
	ws_hkey_init(&k1);
	ws_hkey_init(&k2);
	assert_memory_not_equal(k1.k, k2.k, sizeof(k1.k));
	for (int i = 0; i < 64; i++) {
		char name[16];

		snprintf(name, sizeof(name), "file%d", i);
		same += ws_hash_str(&k1, name) == ws_hash_str(&k2, name);
		same += ws_hash_name(&k1, name, strlen(name)) == ws_hash_name(&k2, name, strlen(name));
	}
	assert_int_equal(same, 0);
	assert_true(ws_hash(&k1, "abc", 3) == ws_hash_str(&k1, "abc"));
	assert_true((ws_hash_mul_new() & 1) == 1);
}

/* The crafted set: one slot of 65,536 under FNV-1a, spread when keyed. */
static void crafted_names_spread(void **state)
{
	enum { N = 4096, SLOTS = 4096 };
	struct ws_hkey k;
	unsigned *count = calloc(SLOTS, sizeof(*count)), most = 0;
	uint32_t low = 0;

	(void)state;
	ws_hkey_init(&k);
	for (unsigned i = 0; i < N; i++) {
		char name[13];

		tu_crafted_name(i, name);
		assert_int_equal(strlen(name), 12);
		if (i == 0)
			low = fnv_name(name) & 0xFFFF;
		assert_int_equal(fnv_name(name) & 0xFFFF, low);
		count[ws_hash_name(&k, name, 12) & (SLOTS - 1)]++;
	}
	for (unsigned i = 0; i < SLOTS; i++)
		most = count[i] > most ? count[i] : most;
	/* 4,096 balls in 4,096 bins: the fullest holds about 7 */
	assert_true(most <= 16);
	free(count);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(equal_names_hash_alike),
		cmocka_unit_test(long_paths),
		cmocka_unit_test(key_changes_every_hash),
		cmocka_unit_test(crafted_names_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
