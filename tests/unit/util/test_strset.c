/* test_strset.c - the keyed set of strings (ws_strset): each string counted
 * once, byte for byte or ignoring case as NTFS, through growth, with its
 * value; strings searched for to share the low bits of their FNV-1a hashes
 * cost a slot or two each. */
#include "tu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ws_strset.h"

static void adds_once(void **state)
{
	struct ws_strset s = WS_STRSET_INIT;
	char name[32];

	(void)state;
	assert_false(ws_strset_has(&s, "a"));
	assert_int_equal(ws_strset_add(&s, "a"), 1);
	assert_int_equal(ws_strset_add(&s, "a"), 0);
	assert_int_equal(ws_strset_add(&s, "A"), 1);   /* byte for byte */
	assert_int_equal(ws_strset_add(&s, ""), 1);
	assert_true(ws_strset_has(&s, ""));
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "/t/Users/alice/d%d", i);
		assert_int_equal(ws_strset_add(&s, name), 1);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "/t/Users/alice/d%d", i);
		assert_true(ws_strset_has(&s, name));
		assert_int_equal(ws_strset_add(&s, name), 0);
	}
	assert_false(ws_strset_has(&s, "/t/Users/alice/d5000"));
	assert_int_equal(ws_strset_count(&s), 5003);
	ws_strset_release(&s);
	assert_int_equal(ws_strset_count(&s), 0);
	assert_false(ws_strset_has(&s, "a"));
}

/* Values follow their strings through growth; a NOCASE set finds a name
 * in any case (and keeps the first spelling's value), and stays NOCASE
 * when released. */
static void values_and_nocase(void **state)
{
	struct ws_strset s = WS_STRSET_INIT;
	char name[32];
	int added;

	(void)state;
	assert_null(ws_strset_get(&s, "x"));
	for (uint32_t i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "f%u", (unsigned)i);
		*ws_strset_at(&s, name, &added) = i * 7 + 1;
		assert_true(added);
	}
	for (uint32_t i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "f%u", (unsigned)i);
		assert_int_equal(*ws_strset_get(&s, name), i * 7 + 1);
		assert_int_equal(*ws_strset_at(&s, name, &added), i * 7 + 1);
		assert_false(added);
	}
	assert_null(ws_strset_get(&s, "F1"));
	ws_strset_release(&s);

	s.flags = WS_STRSET_NOCASE;
	*ws_strset_at(&s, "/t/Users/Alice/\xc3\x89t\xc3\xa9.txt", NULL) = 5;
	assert_int_equal(*ws_strset_get(&s, "/T/USERS/ALICE/\xc3\x89T\xc3\x89.TXT"), 5);
	assert_int_equal(ws_strset_add(&s, "/t/users/alice/\xc3\xa9t\xc3\xa9.txt"), 0);
	assert_int_equal(ws_strset_count(&s), 1);
	assert_null(ws_strset_get(&s, "/t/Users/Alice/ete.txt"));
	ws_strset_release(&s);
	assert_int_equal(s.flags, WS_STRSET_NOCASE);
	assert_int_equal(ws_strset_add(&s, "A"), 1);
	assert_int_equal(ws_strset_add(&s, "a"), 0);
	ws_strset_release(&s);
}

/* 2,000 paths whose FNV-1a-64 hashes end in 12 zero bits: unkeyed, they
 * would fill two runs of slots (4,096 slots) and cost a million looks. */
static void crafted_paths_spread(void **state)
{
	enum { N = 2000 };
	struct ws_strset s = WS_STRSET_INIT;
	uint64_t next = 0;

	(void)state;
	for (unsigned k = 0; k < N; k++) {
		char name[24], path[64];

		tu_fnv_crafted("/target/Users/alice/", 'd', 0xFFF, &next, name);
		snprintf(path, sizeof(path), "/target/Users/alice/%s", name);
		assert_int_equal(ws_strset_add(&s, path), 1);
	}
	assert_int_equal(ws_strset_count(&s), N);
	assert_true(s.probes < 4 * N);
	ws_strset_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(adds_once),
		cmocka_unit_test(values_and_nocase),
		cmocka_unit_test(crafted_paths_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
