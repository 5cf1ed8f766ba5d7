/* test_mapcsv.c - the --map-file CSV parser from memory (amap_parse_csv):
 * the entry point the fuzz target uses, and the hostile lines it met. */
#include "tu.h"

#include <string.h>

#include "apply/apply_private.h"

#define OLD_SID "S-1-5-21-1-2-3-1001"

static void parses_lines_from_memory(void **state)
{
	static const char csv[] = "\xEF\xBB\xBFold,new\r\n"
				  "# comment\n"
				  "\n"
				  OLD_SID ", \"CONTOSO\\bob\"\"s\" ,S-1-5-21-7-8-9-500\r\n"
				  "PC\\carol,Default\n";
	struct amaps m = { 0 };
	struct ws_error e;
	(void)state;

	ws_error_clear(&e);
	tu_assert_ok(amap_parse_csv("map.csv", csv, sizeof(csv) - 1, &m, &e), &e);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.v[0].old, OLD_SID);
	assert_string_equal(m.v[0].new_account, "CONTOSO\\bob\"s");
	assert_string_equal(m.v[0].new_sid, "S-1-5-21-7-8-9-500");
	assert_string_equal(m.v[1].old, "PC\\carol");
	assert_true(m.v[1].to_default);
	amap_release(&m);
}

static void hostile_lines_are_usage_errors(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		long line;
	} bad[] = {
		{ "a\n", 2, 1 },
		{ "old,new\n\"unterminated,\n", 24, 2 },
		{ "S-1-5-x,bob\n", 12, 1 },
		{ "bob,S-1-5-\n", 11, 1 },
		{ "bob,\xff\xfe\n", 7, 1 },
		{ ",bob\n", 5, 1 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct amaps m = { 0 };
		struct ws_error e;

		ws_error_clear(&e);
		assert_int_equal(amap_parse_csv("map.csv", bad[i].text, bad[i].len, &m, &e),
				 WS_E_USAGE);
		assert_int_equal(e.line, bad[i].line);
		amap_release(&m);
	}
}

static void embedded_nul_ends_the_text(void **state)
{
	static const char csv[] = "bob,alice\n\0carol,S-1-5-x\n";
	struct amaps m = { 0 };
	struct ws_error e;
	(void)state;

	ws_error_clear(&e);
	tu_assert_ok(amap_parse_csv("map.csv", csv, sizeof(csv) - 1, &m, &e), &e);
	assert_int_equal(m.n, 1);
	amap_release(&m);
	tu_assert_ok(amap_parse_csv("map.csv", "", 0, &m, &e), &e);
	assert_int_equal(m.n, 0);
	amap_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_lines_from_memory),
		cmocka_unit_test(hostile_lines_are_usage_errors),
		cmocka_unit_test(embedded_nul_ends_the_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
