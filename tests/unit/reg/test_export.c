/* test_export.c - the .reg writer: exact text, UTF-16LE/CRLF form, and a
 * merge by hivexregedit whose result is compared byte for byte. */
#include "tu.h"

#include <stdio.h>
#include <string.h>

#include "reg/reg_export.h"
#include "util/ws_utf.h"

static void exact_text(void **state)
{
	struct reg_export x;
	struct ws_error e;
	struct reg_value sz = { "Wall\"Paper", REG_SZ, (unsigned char *)"C\0:\0\\\0\"\0\0\0", 10 };
	struct reg_value def = { "", REG_SZ, (unsigned char *)"d\0\0\0", 4 };
	struct reg_value dw = { "Dw", REG_DWORD, (unsigned char *)"\x78\x56\x34\x12", 4 };
	struct reg_value q = { "Q", REG_QWORD, (unsigned char *)"\1\2\3\4\5\6\7\x08", 8 };
	struct reg_value nl = { "Nl", REG_SZ, (unsigned char *)"a\0\n\0\0\0", 6 };
	struct reg_value empty = { "E", REG_BINARY, NULL, 0 };
	const char *expect =
		"Windows Registry Editor Version 5.00\n"
		"\n[HKEY_CURRENT_USER\\Control Panel]\n"
		"\n[HKEY_CURRENT_USER\\Control Panel\\Desktop]\n"
		"\"Wall\\\"Paper\"=\"C:\\\\\\\"\"\n"
		"@=\"d\"\n"
		"\"Dw\"=dword:12345678\n"
		"\"Q\"=hex(b):01,02,03,04,05,06,07,08\n"
		"\"Nl\"=hex(1):61,00,0a,00,00,00\n"
		"\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\n"
		"\"E\"=hex:\n"
		"\n[HKEY_CURRENT_USER\\Control Panel\\Desktop]\n"
		"\"Dw\"=dword:12345678\n";

	ws_error_clear(&e);
	reg_export_init(&x);
	tu_assert_ok(reg_export_add(&x, "HKCU\\Control Panel\\Desktop\\", &sz, &e), &e);
	tu_assert_ok(reg_export_add(&x, "hkcu\\\\Control Panel\\Desktop", &def, &e), &e);
	tu_assert_ok(reg_export_add(&x, "HKCU\\Control Panel\\Desktop", &dw, &e), &e);
	tu_assert_ok(reg_export_add(&x, "HKCU\\Control Panel\\Desktop", &q, &e), &e);
	tu_assert_ok(reg_export_add(&x, "HKCU\\Control Panel\\Desktop", &nl, &e), &e);
	tu_assert_ok(reg_export_add(&x, "HKLM\\SOFTWARE\\X", &empty, &e), &e);
	tu_assert_ok(reg_export_add(&x, "HKEY_CURRENT_USER\\Control Panel\\Desktop", &dw, &e), &e);
	assert_string_equal(reg_export_utf8(&x), expect);
	/* refusals */
	assert_int_equal(reg_export_add(&x, "HKXX\\A", &dw, &e), WS_E_UNSUPPORTED);
	assert_int_equal(reg_export_add(&x, "HKCU\\a\nb", &dw, &e), WS_E_UNSUPPORTED);
	assert_int_equal(reg_export_add(&x, "\\\\", NULL, &e), WS_E_UNSUPPORTED);
	assert_int_equal(reg_export_add(&x, "HKCU\\A", &(struct reg_value){ "a\rb", REG_NONE,
							    NULL, 0 }, &e), WS_E_UNSUPPORTED);
	assert_string_equal(reg_export_utf8(&x), expect);
	reg_export_release(&x);
}

/* Every value exactly, whatever its type number and length, and names with
 * the format's special characters; key names ending with ']'. */
static void odd_values_and_names(void **state)
{
	struct reg_export x;
	struct ws_error e;
	struct reg_value v[] = {
		{ "x\"\\y[]", REG_DWORD, (unsigned char *)"\1\2\3", 3 },
		{ "q5", REG_QWORD, (unsigned char *)"\1\2\3\4\5", 5 },
		{ "d0", REG_DWORD, NULL, 0 },
		{ "n", REG_NONE, NULL, 0 },
		{ "big", 0x20000, (unsigned char *)"\xaa", 1 },
		{ "ff", 0xffffffffu, (unsigned char *)"\1", 1 },
		{ "be", REG_DWORD_BIG_ENDIAN, (unsigned char *)"\0\0\0\1", 4 },
		{ "", REG_SZ, (unsigned char *)"A\0B", 3 },             /* odd, unterminated */
		{ "oddz", REG_SZ, (unsigned char *)"A\0\0\0B", 5 },    /* odd, last unit NUL */
		{ "one", REG_SZ, (unsigned char *)"\0", 1 },
		{ "unt", REG_EXPAND_SZ, (unsigned char *)"A\0", 2 },
		{ "emb", REG_SZ, (unsigned char *)"A\0\0\0B\0\0\0", 8 },
		{ "esz", REG_SZ, NULL, 0 },
		{ "m", REG_MULTI_SZ, (unsigned char *)"a\0\0\0b\0\0\0\0\0", 10 },
	};
	static const size_t growth[] = { 0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 2, 0, 0, 0 };
	const char *expect =
		"Windows Registry Editor Version 5.00\n"
		"\n[HKEY_CURRENT_USER\\S]\n"
		"\n[HKEY_CURRENT_USER\\S\\a]]]\n"
		"\"x\\\"\\\\y[]\"=hex(4):01,02,03\n"
		"\"q5\"=hex(b):01,02,03,04,05\n"
		"\"d0\"=hex(4):\n"
		"\"n\"=hex(0):\n"
		"\"big\"=hex(20000):aa\n"
		"\"ff\"=hex(ffffffff):01\n"
		"\"be\"=hex(5):00,00,00,01\n"
		"@=hex(1):41,00,42,00\n"
		"\"oddz\"=hex(1):41,00,00,00,42\n"
		"\"one\"=hex(1):00,00\n"
		"\"unt\"=hex(2):41,00\n"
		"\"emb\"=hex(1):41,00,00,00,42,00,00,00\n"
		"\"esz\"=hex(1):\n"
		"\"m\"=hex(7):61,00,00,00,62,00,00,00,00,00\n"
		"\n[HKEY_CURRENT_USER\\S\\[b]\n"
		"\n[HKEY_CURRENT_USER\\S\\[b\\c]d]]\n"
		"\n[HKEY_USERS\\*']]\n";

	reg_export_init(&x);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tu_assert_ok(reg_export_add(&x, "HKCU\\S\\a]]", &v[i], &e), &e);
		assert_int_equal(reg_export_import_growth(&v[i]), growth[i]);
	}
	tu_assert_ok(reg_export_add(&x, "HKCU\\S\\[b\\c]d]", NULL, &e), &e);
	tu_assert_ok(reg_export_add(&x, "HKU\\*']", NULL, &e), &e);
	assert_string_equal(reg_export_utf8(&x), expect);
	reg_export_release(&x);
}

static void hex_lines_wrap(void **state)
{
	unsigned char data[100];
	struct reg_value v = { "Favorites", REG_BINARY, data, sizeof(data) };
	struct reg_export x;
	struct ws_error e;
	const char *t, *line;
	size_t lines = 0, bytes = 0;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)i;
	reg_export_init(&x);
	tu_assert_ok(reg_export_add(&x, "HKCU\\T", &v, &e), &e);
	t = strstr(reg_export_utf8(&x), "\"Favorites\"=hex:00,01,");
	assert_non_null(t);
	for (line = t; *line; lines++) {
		const char *end = strchr(line, '\n');

		assert_true(end - line <= 80);
		if (lines)
			assert_memory_equal(line, "  ", 2);
		for (const char *c = line; c < end; c++)
			bytes += *c == ',';
		if (end[-1] != '\\')
			break;
		line = end + 1;
	}
	assert_true(lines >= 4);
	assert_int_equal(bytes, sizeof(data) - 1);
	reg_export_release(&x);
}

static void utf16_form(void **state)
{
	struct reg_export x;
	struct ws_buf w = WS_BUF_INIT, back = WS_BUF_INIT, expect = WS_BUF_INIT;
	struct reg_value v = { "\xd0\x98\xd0\xbc\xd1\x8f", REG_SZ,
			       (unsigned char *)"\x1f\x04\0\0", 4 };
	struct ws_error e;
	char *d = tu_tmpdir(), *p = ws_xasprintf("%s/s.reg", d), *file;
	size_t n;

	reg_export_init(&x);
	tu_assert_ok(reg_export_add(&x, "HKCU\\\xc3\x89t\xc3\xa9", &v, &e), &e);
	reg_export_to_utf16(&x, &w);
	assert_memory_equal(w.buf, "\xff\xfeW\0i\0n\0", 8);
	ws_utf16le_to_utf8(w.buf + 2, w.len - 2, &back, 0);
	for (const char *c = reg_export_utf8(&x); *c; c++) {
		if (*c == '\n')
			ws_buf_addch(&expect, '\r');
		ws_buf_addch(&expect, *c);
	}
	ws_buf_adds(&expect, "\r\n");
	assert_string_equal(back.buf, expect.buf);
	assert_non_null(strstr(back.buf, "[HKEY_CURRENT_USER\\\xc3\x89t\xc3\xa9]\r\n"
					 "\"\xd0\x98\xd0\xbc\xd1\x8f\"=\"\xd0\x9f\"\r\n"));
	tu_assert_ok(reg_export_write_file(&x, p, REG_EXPORT_UTF16, &e), &e);
	file = tu_read_file(p, &n);
	assert_int_equal(n, w.len);
	assert_memory_equal(file, w.buf, n);
	free(file);
	ws_buf_release(&w);
	ws_buf_release(&back);
	ws_buf_release(&expect);
	reg_export_release(&x);
	free(p);
	free(d);
}

struct item {
	const char *key, *name;
	uint32_t type;
	const char *data;
	size_t len;
};

static const struct item items[] = {
	{ "Control Panel\\Desktop", "WallPaper", REG_SZ, "C\0:\0\\\0w\0.\0j\0p\0g\0\0\0", 18 },
	{ "Control Panel\\Desktop", "", REG_SZ, "q\0\"\0\\\0\0\0", 8 },
	{ "Control Panel\\Desktop", "WheelScrollLines", REG_SZ, "3\0\0\0", 4 },
	{ "Control Panel\\Desktop", "Dw", REG_DWORD, "\x01\0\0\x80", 4 },
	{ "Control Panel\\Desktop", "Short", REG_DWORD, "\x01\0", 2 },
	{ "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced", "HideFileExt", REG_DWORD, "\0\0\0\0", 4 },
	{ "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced", "Be", REG_DWORD_BIG_ENDIAN, "\0\0\0\x05", 4 },
	{ "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced", "Qw", REG_QWORD, "\1\2\3\4\5\6\7\x08", 8 },
	{ "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced", "Exp", REG_EXPAND_SZ, "%\0U\0%\0\0\0", 8 },
	{ "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced", "Multi", REG_MULTI_SZ, "a\0\0\0b\0\0\0\0\0", 10 },
	{ "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced", "None", REG_NONE, "", 0 },
	{ "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced", "EmptyBin", REG_BINARY, "", 0 },
	{ "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced", "NoNul", REG_SZ, "a\0b\0", 4 },
	{ "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced", "Odd", 0x4242, "xyz", 3 },
	{ "Software\\Odd]", "x\"\\y[]", REG_DWORD, "\1\2\3", 3 },
	{ "Software\\Odd]", "q5", REG_QWORD, "\1\2\3\4\5", 5 },
	{ "Software\\Odd]", "big", 0x20000, "\xaa", 1 },
	{ "Software\\Odd]", "oddsz", REG_SZ, "A\0B", 3 },
	{ "Software\\[Odd]\\x]]", "", REG_NONE, "", 0 },
	{ "Keyboard Layout\\Preload", "1", REG_SZ, "0\0\x30\0\x30\0\x30\0\x30\0\x38\0\x30\0\x39\0\0\0", 18 },
	{ "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", "\xd0\x98\xd0\xbc\xd1\x8f", REG_SZ,
	  "\x1f\x04\x40\x04\x38\x04\0\0", 8 },
	{ "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", "\xc3\x89t\xc3\xa9", REG_SZ,
	  "\xc9\0t\0\xe9\0 \0\x3d\xd8\x00\xde\0\0", 14 },
};

static int have_hivexregedit(void)
{
	if (system("command -v hivexregedit >/dev/null 2>&1") != 0 ||
	    system("command -v iconv >/dev/null 2>&1") != 0) {
		printf("[  SKIP    ] hivexregedit or iconv not installed\n");
		return 0;
	}
	return 1;
}

/* Merge `regfile` into a fresh hive and compare every exported value. */
static void merge_and_compare(const char *dir, const char *regfile, unsigned char *big)
{
	char *hive = ws_xasprintf("%s/merged-%zu.dat", dir, strlen(regfile));
	char *cmd = ws_xasprintf("PERL_UNICODE=SD hivexregedit --merge --prefix "
				 "'HKEY_CURRENT_USER' '%s' '%s'", hive, regfile);
	struct reg_create_opts o = { .minor = 5 };
	struct reg_hive *h;
	struct ws_error e;
	reg_node k;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_create(hive, &o, &e), &e);
	assert_int_equal(system(cmd), 0);
	tu_assert_ok(reg_hive_open(hive, 0, &h, &e), &e);
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		struct reg_value v;
		int found;

		tu_assert_ok(reg_key_lookup(h, reg_root(h), items[i].key, &k, &e), &e);
		assert_true(k != 0);
		tu_assert_ok(reg_value_get(h, k, items[i].name, &v, &found, &e), &e);
		assert_true(found);
		assert_string_equal(v.name, items[i].name);
		assert_int_equal(v.type, items[i].type);
		/* hivexregedit keeps hex data as written: odd strings padded */
		assert_int_equal(v.len, items[i].len + (reg_export_import_growth(
			&(struct reg_value){ NULL, items[i].type, (unsigned char *)items[i].data,
					     items[i].len }) & 1));
		if (items[i].len)
			assert_memory_equal(v.data, items[i].data, items[i].len);
		reg_value_release(&v);
	}
	{
		struct reg_value v;
		int found;

		tu_assert_ok(reg_key_lookup(h, reg_root(h), "Software\\Big", &k, &e), &e);
		tu_assert_ok(reg_value_get(h, k, "Favorites", &v, &found, &e), &e);
		assert_true(found);
		assert_int_equal(v.len, 3000);
		assert_memory_equal(v.data, big, 3000);
		reg_value_release(&v);
	}
	reg_hive_close(h);
	free(cmd);
	free(hive);
}

static void hivexregedit_merge_roundtrip(void **state)
{
	char *d = tu_tmpdir();
	char *u16 = ws_xasprintf("%s/settings.reg", d);
	char *u8 = ws_xasprintf("%s/settings-utf8.reg", d);
	char *conv = ws_xasprintf("%s/settings-iconv.reg", d);
	char *cmd;
	unsigned char big[3000];
	struct reg_value bv = { "Favorites", REG_BINARY, big, sizeof(big) };
	struct reg_export x;
	struct ws_error e;

	if (!have_hivexregedit()) {
		free(d), free(u16), free(u8), free(conv);
		skip();
	}
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 13);
	ws_error_clear(&e);
	reg_export_init(&x);
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		char *key = ws_xasprintf("HKCU\\%s", items[i].key);
		struct reg_value v = { (char *)items[i].name, items[i].type,
				       (unsigned char *)items[i].data, items[i].len };

		tu_assert_ok(reg_export_add(&x, key, &v, &e), &e);
		free(key);
	}
	tu_assert_ok(reg_export_add(&x, "HKEY_CURRENT_USER\\Software\\Big", &bv, &e), &e);
	tu_assert_ok(reg_export_write_file(&x, u16, REG_EXPORT_UTF16, &e), &e);
	tu_assert_ok(reg_export_write_file(&x, u8, 0, &e), &e);
	reg_export_release(&x);

	/* hivexregedit reads UTF-8 with LF: the plain UTF-8 output ... */
	merge_and_compare(d, u8, big);
	/* ... and the Windows file converted the way its manual says */
	cmd = ws_xasprintf("iconv -f utf-16le -t utf-8 < '%s' | tr -d '\\r' > '%s'", u16, conv);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	merge_and_compare(d, conv, big);
	free(u16);
	free(u8);
	free(conv);
	free(d);
}

/* Keys whose names were searched for (as anyone could) to share the low
 * bits of their FNV-1a hashes, the unkeyed hash the writer's table of
 * keys already written used: keyed now, they cost a slot or two each. */
static void crafted_keys_spread(void **state)
{
	enum { N = 1500 };
	struct reg_export x;
	struct ws_error e;
	struct reg_value dw = { "D", REG_DWORD, (unsigned char *)"\1\0\0\0", 4 };
	uint64_t next = 0;
	unsigned found;
	const char *p;

	(void)state;
	ws_error_clear(&e);
	reg_export_init(&x);
	for (unsigned k = 0; k < N; k++) {
		char name[24], key[64];

		/* searched as the table sees it: upper case */
		tu_fnv_crafted("HKEY_CURRENT_USER\\SOFTWARE\\C\\", 'K', 0x7FF, &next, name);
		snprintf(key, sizeof(key), "HKCU\\Software\\C\\%s", name);
		tu_assert_ok(reg_export_add(&x, key, &dw, &e), &e);
	}
	/* about one occupied slot per lookup; two runs of 750 cost 560,000 */
	assert_true(x.seen.probes < 10 * N);
	/* every key written once, its ancestors once */
	for (found = 0, p = reg_export_utf8(&x); (p = strstr(p, "[HKEY_CURRENT_USER\\Software\\C\\K"));
	     p++)
		found++;
	assert_int_equal(found, N);
	assert_non_null(strstr(reg_export_utf8(&x), "\n[HKEY_CURRENT_USER\\Software\\C]\n"));
	assert_null(strstr(strstr(reg_export_utf8(&x), "[HKEY_CURRENT_USER\\Software\\C]") + 1,
			   "[HKEY_CURRENT_USER\\Software\\C]"));
	reg_export_release(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_text),
		cmocka_unit_test(odd_values_and_names),
		cmocka_unit_test(hex_lines_wrap),
		cmocka_unit_test(utf16_form),
		cmocka_unit_test(hivexregedit_merge_roundtrip),
		cmocka_unit_test(crafted_keys_spread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
