/* test_winname.c - names and paths Windows can hold (ws_winname). */
#include "tu.h"

#include <string.h>

#include "util/ws_buf.h"
#include "util/ws_winname.h"

static const char *chk(const char *s)
{
	return ws_winname_check(s, strlen(s));
}

static void ordinary_names_pass(void **state)
{
	const char *ok[] = {
		"a.txt", "Contoso note 0.xlsx", ".gitconfig",
		"CONSOLE", "CONFIG.SYS", "COM10", "COM0", "lpt0.txt", "LPT", "NULL.txt", "xCON",
		"AUX_", "com1x.txt",
		"caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "a b", "#tag", "COM\xc2\xb9x",
		"\xed\xa0\x80", /* lone surrogate: NTFS holds it */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_null(chk(ok[i]));
}

static void reserved_devices_refused(void **state)
{
	const char *bad[] = {
		"CON", "con", "Con.txt", "NUL.txt", "nul.tar.gz", "PRN", "aux.h", "COM1", "com9.log",
		"LPT1", "lpt9", "NUL .txt", "CON  ",
		"COM\xc2\xb9", "lpt\xc2\xb2.txt", "COM\xc2\xb3",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = chk(bad[i]);

		assert_non_null(why);
		if (strcmp(bad[i], "CON  ") != 0)
			assert_non_null(strstr(why, "reserved device"));
	}
}

static void bad_characters_refused(void **state)
{
	const char *bad[] = {
		"name:stream", "a<b", "a>b", "a\"b", "a/b", "a\\b", "a|b", "a?b", "a*b",
		"tab\there", "nl\n", "\x01", "\x1f", "end.", "end ", "..", ".", "",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_non_null(chk(bad[i]));
	assert_non_null(ws_winname_check("a\0b", 3));
	assert_non_null(strstr(chk("name:stream"), "stream"));
	assert_non_null(strstr(chk("end."), "dot or space"));
	assert_non_null(chk("\xff\xfe"));   /* not UTF-8 */
	assert_non_null(chk("\xc0\xaf"));   /* overlong '/' */
}

static void lengths_count_utf16_units(void **state)
{
	struct ws_buf b = WS_BUF_INIT;

	(void)state;
	for (int i = 0; i < 255; i++)
		ws_buf_addch(&b, 'a');
	assert_null(chk(b.buf));
	ws_buf_addch(&b, 'a');
	assert_non_null(strstr(chk(b.buf), "255"));
	/* 127 astral characters are 254 units (508 bytes): held; 128 are not */
	ws_buf_reset(&b);
	for (int i = 0; i < 127; i++)
		ws_buf_adds(&b, "\xf0\x9f\x98\x80");
	assert_null(chk(b.buf));
	ws_buf_adds(&b, "\xf0\x9f\x98\x80");
	assert_non_null(chk(b.buf));
	/* whole paths: 32767 units */
	ws_buf_reset(&b);
	ws_buf_adds(&b, "C:");
	while (b.len + 201 <= 32767) {
		ws_buf_addch(&b, '\\');
		for (int i = 0; i < 200; i++)
			ws_buf_addch(&b, 'p');
	}
	assert_null(ws_winpath_check(b.buf, NULL));
	ws_buf_adds(&b, "\\xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	assert_true(b.len > 32767);
	assert_non_null(strstr(ws_winpath_check(b.buf, NULL), "32767"));
	/* units, not bytes: 40,100 bytes of two-byte characters are 20,100 */
	ws_buf_reset(&b);
	ws_buf_adds(&b, "C:");
	for (int k = 0; k < 100; k++) {
		ws_buf_addch(&b, '\\');
		for (int i = 0; i < 200; i++)
			ws_buf_adds(&b, "\xc3\xa9");
	}
	assert_true(b.len > 32767);
	assert_null(ws_winpath_check(b.buf, NULL));
	ws_buf_release(&b);
}

static void paths_name_the_bad_component(void **state)
{
	const char *bad = NULL, *p = "C:\\Users\\alice\\CON\\x.txt";

	(void)state;
	assert_null(ws_winpath_check("C:\\Users\\alice\\a.txt", NULL));
	assert_null(ws_winpath_check("C:\\", NULL));
	assert_null(ws_winpath_check("d:\\x", NULL));
	assert_non_null(ws_winpath_check(p, &bad));
	assert_ptr_equal(bad, p + 15);
	assert_non_null(ws_winpath_check("C:\\Users\\..\\x", NULL));
	assert_non_null(ws_winpath_check("C:\\Users\\\\x", NULL));
	assert_non_null(ws_winpath_check("C:\\Users\\", NULL));
	assert_non_null(ws_winpath_check("C:\\a\\b:c", NULL));
	assert_non_null(ws_winpath_check("\\\\server\\share\\x", NULL));
	assert_non_null(ws_winpath_check("Users\\x", NULL));
	assert_non_null(ws_winpath_check("C:/x", NULL));
	assert_non_null(ws_winpath_check("C:\\a/..\\b", NULL));
}

/* Only what follows a folder that passed is looked at, and with the same
 * answers as the whole check (the safety pass asks so for the files of one
 * folder). */
static void rest_of_a_checked_folder(void **state)
{
	const char *ok[] = { "C:\\Users\\alice\\a.txt", "C:\\Users\\alice\\caf\xc3\xa9",
			     "C:\\Users\\alice\\sub\\x" };
	const char *bad[] = { "C:\\Users\\alice\\NUL.txt", "C:\\Users\\alice\\end.",
			      "C:\\Users\\alice\\a:b", "C:\\Users\\alice\\",
			      "C:\\Users\\alice\\\xff", "C:\\Users\\alice\\sub\\CON" };
	size_t n = strlen("C:\\Users\\alice\\");
	const char *where = NULL;
	struct ws_buf b = WS_BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_null(ws_winpath_check_rest(ok[i], n, NULL));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = ws_winpath_check_rest(bad[i], n, NULL);

		assert_non_null(why);
		assert_string_equal(why, ws_winpath_check(bad[i], NULL));
	}
	assert_non_null(ws_winpath_check_rest(bad[5], n, &where));
	assert_ptr_equal(where, bad[5] + n + 4);
	/* the folder is taken as it is: a bad name in it is not seen again */
	assert_null(ws_winpath_check_rest("C:\\CON\\a.txt", 7, NULL));
	/* 3 ("X:\\") is the whole check but the drive */
	assert_non_null(ws_winpath_check_rest("C:\\CON\\a.txt", 3, NULL));
	/* the length is the whole path's */
	ws_buf_adds(&b, "C:\\f\\");
	while (b.len <= 32767)
		ws_buf_adds(&b, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\\");
	ws_buf_adds(&b, "z");
	assert_non_null(strstr(ws_winpath_check_rest(b.buf, b.len - 1, NULL), "32767"));
	assert_non_null(ws_winpath_check_rest(b.buf, 3, NULL));
	ws_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ordinary_names_pass),
		cmocka_unit_test(reserved_devices_refused),
		cmocka_unit_test(bad_characters_refused),
		cmocka_unit_test(lengths_count_utf16_units),
		cmocka_unit_test(paths_name_the_bad_component),
		cmocka_unit_test(rest_of_a_checked_folder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
