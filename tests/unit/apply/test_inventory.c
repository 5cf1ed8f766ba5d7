/* test_inventory.c - apply's inventory CSV (apply_inventory_parse): columns
 * in any order and case, mappings split on ';', BOM, CRLF, comments, and
 * every refused line a bad target whose message names FILE:LINE. */
#include "tu.h"

#include <string.h>

#include "apply/apply.h"

static void columns_and_lists(void **state)
{
	static const char csv[] = "\xEF\xBB\xBF# wave 3\r\n"
				  "Map-User,TARGET,device,scan\r\n"
				  "\"bob=carol; x=y\",/mnt/a,PC1,\r\n"
				  "\r\n"
				  ",\"/mnt/b, new\",,20260101T000000Z-0123456789abcdef\n";
	struct apply_wave w = APPLY_WAVE_INIT;
	struct ws_error e;
	(void)state;

	ws_error_clear(&e);
	tu_assert_ok(apply_inventory_parse("t.csv", csv, sizeof(csv) - 1, &w, &e), &e);
	assert_int_equal(w.n, 2);
	assert_false(w.v[0].bad);
	assert_string_equal(w.v[0].target, "/mnt/a");
	assert_string_equal(w.v[0].device, "PC1");
	assert_null(w.v[0].scan);
	assert_int_equal(w.v[0].n_map_user, 2);
	assert_string_equal(w.v[0].map_user[1], "x=y");
	assert_int_equal(w.v[0].line, 3);
	assert_string_equal(w.v[1].target, "/mnt/b, new");
	assert_null(w.v[1].device);
	assert_string_equal(w.v[1].scan, "20260101T000000Z-0123456789abcdef");
	assert_int_equal(w.v[1].line, 5);
	apply_wave_release(&w);
}

static void bad_lines_name_file_and_line(void **state)
{
	static const char csv[] = "target,device\n"
				  "/mnt/a,PC1\n"
				  "/mnt/b,PC2,extra\n"
				  ",PC3\n"
				  "/mnt/a,PC4\n"
				  "\"/mnt/c,PC5\n";
	static const struct { long line; const char *what; } want[] = {
		{ 3, "t.csv:3: 3 fields where the header has 2" },
		{ 4, "t.csv:4: no target folder" },
		{ 5, "t.csv:5: target '/mnt/a' is already listed on line 2" },
		{ 6, "t.csv:6: unbalanced quote" },
	};
	struct apply_wave w = APPLY_WAVE_INIT;
	struct ws_error e;
	(void)state;

	tu_assert_ok(apply_inventory_parse("t.csv", csv, sizeof(csv) - 1, &w, &e), &e);
	assert_int_equal(w.n, 5);
	assert_false(w.v[0].bad);
	for (size_t i = 0; i < 4; i++) {
		assert_true(w.v[i + 1].bad);
		assert_int_equal(w.v[i + 1].code, WS_E_USAGE);
		assert_int_equal(w.v[i + 1].line, want[i].line);
		assert_non_null(strstr(w.v[i + 1].message, want[i].what));
	}
	apply_wave_release(&w);
	/* no target column, no header */
	assert_int_equal(apply_inventory_parse("t.csv", "device\nPC1\n", 10, &w, &e), WS_E_USAGE);
	assert_int_equal(e.line, 1);
	apply_wave_release(&w);
	assert_int_equal(apply_inventory_parse("t.csv", "# only\n", 7, &w, &e), WS_E_USAGE);
	apply_wave_release(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(columns_and_lists),
		cmocka_unit_test(bad_lines_name_file_and_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
