/* test_buf_utf.c - ws_buf, UTF-16/UTF-8 conversion, case folding, errors. */
#include "tu.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/ws_fs.h"
#include "util/ws_str.h"
#include "util/ws_utf.h"

static void buf_grows_and_formats(void **state)
{
	struct ws_buf b = WS_BUF_INIT;

	assert_string_equal(b.buf, "");
	for (int i = 0; i < 1000; i++)
		ws_buf_addf(&b, "%d,", i);
	assert_int_equal(b.len, strlen(b.buf));
	assert_memory_equal(b.buf, "0,1,2,", 6);
	ws_buf_reset(&b);
	assert_int_equal(b.len, 0);
	ws_buf_add_varint(&b, 300);
	assert_int_equal(b.len, 2);
	assert_int_equal((unsigned char)b.buf[0], 0xac);
	assert_int_equal((unsigned char)b.buf[1], 0x02);
	/* the ends of one byte, and the longest (ten bytes), after it */
	ws_buf_add_varint(&b, 0);
	ws_buf_add_varint(&b, 127);
	ws_buf_add_varint(&b, 128);
	ws_buf_add_varint(&b, ~0ULL);
	assert_int_equal(b.len, 2 + 1 + 1 + 2 + 10);
	assert_memory_equal(b.buf + 2, "\x00\x7f\x80\x01", 4);
	for (int i = 0; i < 9; i++)
		assert_int_equal((unsigned char)b.buf[6 + i], 0xff);
	assert_int_equal((unsigned char)b.buf[15], 0x01);
	assert_int_equal(b.buf[16], '\0');
	ws_buf_release(&b);
}

static void utf16_roundtrip_bmp_and_astral(void **state)
{
	const char *s = "Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80 \xd0\x9f\xd1\x80\xd0\xb8";
	struct ws_buf u = WS_BUF_INIT, back = WS_BUF_INIT;

	assert_int_equal(ws_utf8_to_utf16le(s, strlen(s), &u), 0);
	/* "Zoë € 😀 При": 10 BMP units + 1 surrogate pair = 12 units */
	assert_int_equal(u.len, 24);
	assert_int_equal(ws_utf16le_to_utf8(u.buf, u.len, &back, 0), 0);
	assert_string_equal(back.buf, s);
	ws_buf_release(&u);
	ws_buf_release(&back);
}

static void lone_surrogate_survives_roundtrip(void **state)
{
	const unsigned char raw[] = { 'a', 0, 0x00, 0xd8, 'b', 0 };
	struct ws_buf u8 = WS_BUF_INIT, u16 = WS_BUF_INIT;

	assert_int_equal(ws_utf16le_to_utf8(raw, sizeof(raw), &u8, 0), 1);
	assert_false(ws_utf8_valid(u8.buf, u8.len));
	assert_int_equal(ws_utf8_to_utf16le(u8.buf, u8.len, &u16), 0);
	assert_int_equal(u16.len, sizeof(raw));
	assert_memory_equal(u16.buf, raw, sizeof(raw));
	ws_buf_release(&u8);
	ws_buf_release(&u16);
}

static void invalid_utf8_is_refused(void **state)
{
	struct ws_buf u = WS_BUF_INIT;

	ws_buf_adds(&u, "keep");
	assert_int_equal(ws_utf8_to_utf16le("\xff\xfe", 2, &u), -1);
	assert_string_equal(u.buf, "keep");
	assert_int_equal(ws_utf8_to_utf16le("\xc0\x80", 2, &u), -1);
	ws_buf_release(&u);
}

/* The units counted without converting are those a conversion makes, and
 * it fails where the conversion does (lone surrogates are WTF-8: held). */
static void utf16_units_counted_as_converted(void **state)
{
	const char *s[] = { "", "abc", "caf\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80x",
			    "\xed\xa0\x80", "\xff", "\xc0\xaf", "a\xe6\x97", "\xf4\x90\x80\x80" };

	(void)state;
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		struct ws_buf b = WS_BUF_INIT;
		int rc = ws_utf8_to_utf16le(s[i], strlen(s[i]), &b);

		assert_int_equal(ws_utf8_utf16_units(s[i], strlen(s[i])),
				 rc ? (size_t)-1 : b.len / 2);
		ws_buf_release(&b);
	}
	assert_int_equal(ws_utf8_utf16_units("\xf0\x9f\x98\x80", 4), 2);
	assert_int_equal(ws_utf8_utf16_units("\xff", 1), (size_t)-1);
}

static void stop_at_nul(void **state)
{
	const unsigned char raw[] = { 'h', 0, 'i', 0, 0, 0, 'x', 0 };
	struct ws_buf u8 = WS_BUF_INIT;

	ws_utf16le_to_utf8(raw, sizeof(raw), &u8, WS_UTF16_STOP_AT_NUL);
	assert_string_equal(u8.buf, "hi");
	ws_buf_release(&u8);
}

static void names_compare_like_ntfs(void **state)
{
	assert_int_equal(ws_name_casecmp("NTUSER.DAT", "ntuser.dat"), 0);
	assert_int_equal(ws_name_casecmp("\xc3\x89t\xc3\xa9", "\xc3\xa9T\xc3\x89"), 0); /* Été */
	assert_int_equal(ws_name_casecmp("\xd0\x9f\xd1\x80\xd0\xb8", "\xd0\xbf\xd0\xa0\xd0\x98"), 0); /* При */
	assert_true(ws_name_casecmp("abc", "abd") < 0);
	assert_true(ws_name_casecmp("abc", "ab") > 0);
}

/* Validity wherever a sequence sits in runs of ASCII (taken eight bytes
 * at a time): a stray byte, a truncated sequence or a surrogate is found
 * at any offset, a well-formed sequence passes at any offset. */
static void utf8_valid_at_any_offset(void **state)
{
	static const struct { const char *seq; int valid; } t[] = {
		{ "\xff", 0 }, { "\x80", 0 }, { "\xc3\xa9", 1 }, { "\xe2\x82\xac", 1 },
		{ "\xf0\x9f\x98\x80", 1 }, { "\xed\xa0\x80", 0 }, { "\xe2\x82", 0 },
		{ "\x00", 1 },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t sl = t[i].seq[0] ? strlen(t[i].seq) : 1;

		for (size_t k = 0; k < 24; k++) {
			for (size_t after = 0; after < 20; after++) {
				size_t n = k + sl + after;

				memset(buf, 'a', sizeof(buf));
				memcpy(buf + k, t[i].seq, sl);
				if (ws_utf8_valid(buf, n) != t[i].valid)
					fail_msg("sequence %zu at %zu of %zu bytes: %d", i, k, n,
						 !t[i].valid);
			}
		}
	}
	memset(buf, 'a', sizeof(buf));
	for (size_t n = 0; n <= sizeof(buf); n++)
		assert_true(ws_utf8_valid(buf, n));
}

/* The store's device tags (store_device_tag) rest on this: upper-casing
 * keeps every ASCII character ASCII and every other one above it. */
static void upper_keeps_ascii_apart(void **state)
{
	(void)state;
	for (uint32_t c = 0; c < 0x110000u; c++)
		if ((ws_ucs_upper(c) < 0x80) != (c < 0x80))
			fail_msg("ws_ucs_upper(U+%04X) = U+%04X", (unsigned)c,
				 (unsigned)ws_ucs_upper(c));
}

/* Names upper-cased as NTFS does, ASCII runs and other characters mixed,
 * appended to what the buffer holds; each character as ws_ucs_upper says. */
static void names_upper_case_like_ntfs(void **state)
{
	static const char *const in[] = {
		"", "a", "C:\\Users\\alice\\Documents", "r\xc3\xa9sum\xc3\xa9 final.docx",
		"\xc3\xa9t\xc3\xa9", "\xd0\xbf\xd1\x80\xd0\xbe\xd0\xb5\xd0\xba\xd1\x82 2024",
		"mixed-\xce\xb1\xce\xb2-abc_XYZ{}~", "\xff bad \xc3", "\xf0\x9f\x98\x80 emoji z",
	};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct ws_buf got = WS_BUF_INIT, want = WS_BUF_INIT;

		ws_buf_adds(&got, "pre:");
		ws_name_upper(in[i], &got);
		/* the expectation, one code point at a time */
		ws_buf_adds(&want, "pre:");
		for (const unsigned char *p = (const unsigned char *)in[i]; *p;) {
			size_t n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;

			if (strnlen((const char *)p, n) < n || !ws_utf8_valid((const char *)p, n)) {
				ws_buf_add(&want, p, 1); /* not UTF-8: the byte as it is */
				p++;
				continue;
			}
			if (n == 1) {
				ws_buf_addch(&want, *p >= 'a' && *p <= 'z' ? *p - 0x20 : *p);
			} else {
				struct ws_buf one = WS_BUF_INIT;

				ws_buf_add(&one, p, n);
				ws_name_upper(one.buf, &want); /* single non-ASCII: the slow path */
				ws_buf_release(&one);
			}
			p += n;
		}
		assert_string_equal(got.buf, want.buf);
		assert_int_equal(got.len, want.len);
		ws_buf_release(&got);
		ws_buf_release(&want);
	}
	{
		struct ws_buf b = WS_BUF_INIT;

		ws_name_upper("r\xc3\xa9sum\xc3\xa9 \xd0\xbf", &b);
		assert_string_equal(b.buf, "R\xc3\x89SUM\xc3\x89 \xd0\x9f");
		ws_buf_release(&b);
	}
}

static void error_formats_location(void **state)
{
	struct ws_error e;
	char buf[2200];

	ws_error_clear(&e);
	assert_int_equal(ws_error_set(&e, WS_E_RULES, "a.xml", "bad tag <%s>", "x"), WS_E_RULES);
	ws_error_at(&e, 3, 7);
	assert_string_equal(ws_error_format(&e, buf, sizeof(buf)), "a.xml:3:7: bad tag <x>");
	assert_int_equal(ws_error_set_errno(&e, WS_E_IO, ENOSPC, "/x", "write"), WS_E_NOSPACE);
	assert_int_equal(e.code, WS_E_NOSPACE);
	assert_non_null(strstr(e.msg, "space"));
	assert_string_equal(ws_error_format(&e, buf, sizeof(buf)),
			    "/x: disk full: write: No space left on device");
	assert_int_equal(ws_error_set_errno(&e, WS_E_IO, EDQUOT, "/q", "write"), WS_E_NOSPACE);
	assert_non_null(strstr(e.msg, "disk full: write: "));
	assert_int_equal(ws_error_set_errno(&e, WS_E_IO, EIO, "/y", "write"), WS_E_IO);
	assert_null(strstr(e.msg, "disk full"));
	assert_int_equal(ws_error_set(NULL, WS_E_IO, NULL, "ignored"), WS_E_IO);
}

static void fd_path_names_the_file(void **state)
{
	char *d = tu_tmpdir();
	char *p = ws_xasprintf("%s/named file", d);
	struct ws_buf b = WS_BUF_INIT;
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);

	assert_true(fd >= 0);
	ws_fd_path(fd, &b);
	assert_string_equal(b.buf, p);
	close(fd);
	ws_buf_reset(&b);
	ws_fd_path(-1, &b);
	assert_string_equal(b.buf, "(descriptor -1)");
	/* messages name a held folder's real path, not /proc/self/fd/N */
	{
		struct ws_error e;
		int dfd = open(d, O_RDONLY | O_DIRECTORY);
		char *via = ws_xasprintf("/proc/self/fd/%d/x.tmp", dfd), *want;

		assert_true(dfd >= 0);
		want = ws_xasprintf("%s/x.tmp", d);
		ws_error_set(&e, WS_E_IO, via, "cannot write");
		assert_string_equal(e.where, want);
		ws_error_set(&e, WS_E_IO, "/proc/self/fdx/1", "cannot write");
		assert_string_equal(e.where, "/proc/self/fdx/1");
		close(dfd);
		free(via);
		free(want);
	}
	ws_buf_release(&b);
	free(p);
	free(d);
}

static void atomic_write_replaces_and_refuses(void **state)
{
	char *d = tu_tmpdir();
	char *p = ws_xasprintf("%s/f", d);
	struct ws_error e;
	size_t n;
	char *got;

	ws_error_clear(&e);
	tu_assert_ok(ws_write_file_atomic(p, "one", 3, 0, WS_E_IO, &e), &e);
	tu_assert_ok(ws_write_file_atomic(p, "two!", 4, 0, WS_E_IO, &e), &e);
	got = tu_read_file(p, &n);
	assert_int_equal(n, 4);
	assert_memory_equal(got, "two!", 4);
	free(got);
	assert_int_not_equal(ws_write_file_atomic(p, "three", 5, 1, WS_E_STORE, &e), WS_OK);
	assert_int_equal(e.sys_errno, EEXIST);
	got = tu_read_file(p, &n);
	assert_memory_equal(got, "two!", 4);
	free(got);
	free(p);
	free(d);
}

/* The durable first step the undo journal uses too: a new file only, never
 * through a link, removed when it cannot be written whole. */
static void new_file_write_is_exclusive(void **state)
{
	char *d = tu_tmpdir();
	char *p = ws_xasprintf("%s/n", d), *l = ws_xasprintf("%s/l", d);
	char *victim = ws_xasprintf("%s/victim", d);
	struct ws_error e;
	struct stat st;
	size_t n;
	char *got;

	(void)state;
	ws_error_clear(&e);
	tu_assert_ok(ws_write_file_new(p, NULL, "data", 4, WS_E_IO, &e), &e);
	got = tu_read_file(p, &n);
	assert_int_equal(n, 4);
	assert_memory_equal(got, "data", 4);
	free(got);
	/* an existing file is left as it is */
	assert_int_equal(ws_write_file_new(p, "C:\\x", "other", 5, WS_E_IO, &e), WS_E_IO);
	assert_int_equal(e.sys_errno, EEXIST);
	assert_non_null(strstr(e.msg, "cannot create temporary file"));
	got = tu_read_file(p, &n);
	assert_memory_equal(got, "data", 4);
	free(got);
	/* a link at the name is not followed: its target is not created */
	assert_int_equal(symlink(victim, l), 0);
	assert_int_equal(ws_write_file_new(l, NULL, "x", 1, WS_E_STORE, &e), WS_E_STORE);
	assert_int_equal(e.sys_errno, EEXIST);
	assert_int_not_equal(lstat(victim, &st), 0);
	free(p);
	free(l);
	free(victim);
	free(d);
}

static void json_escaping_is_always_valid(void **state)
{
	struct ws_buf b = WS_BUF_INIT;
	const char in[] = "a\"b\\c\n\x01\xc3\xa9\xff\xed\xa0\x80z";

	ws_buf_add_json_str(&b, in, sizeof(in) - 1);
	/* quotes, backslashes and controls escaped; valid UTF-8 kept; invalid
	 * bytes (0xff, an encoded surrogate) escaped byte by byte */
	assert_string_equal(b.buf, "a\\\"b\\\\c\\n\\u0001\xc3\xa9\\u00ff\\u00ed\\u00a0\\u0080z");
	ws_buf_release(&b);
}

static void versions_compare_numerically(void **state)
{
	assert_true(ws_version_cmp("1.10", "1.9", 0) > 0);
	assert_true(ws_version_cmp("10.0.22631", "10.0.22631.4317", 0) < 0);
	assert_true(ws_version_cmp("10.0.22631.0", "10.0.22631", 0) == 0);
	assert_true(ws_version_cmp("2.2345.6.0", "2.2345.6.0", 0) == 0);
	/* USMT conditions: only the components the wanted version names */
	assert_true(ws_version_cmp("6.0.6001", "6.0", 1) == 0);
	assert_true(ws_version_cmp("6.0.6001", "6.0", 0) > 0);
	assert_true(ws_version_cmp("", "1", 0) < 0);
	assert_true(ws_version_cmp("x.y", "0.0", 0) == 0);
}

static void filetime_conversion(void **state)
{
	assert_int_equal(ws_filetime_from_unix_ns(0), 116444736000000000ULL);
	assert_int_equal(ws_filetime_to_unix_ns(116444736000000000ULL + 10), 1000);
	/* hostile values saturate instead of overflowing (UBSan would stop) */
	assert_true(ws_filetime_to_unix_ns(UINT64_MAX) == INT64_MAX);
	assert_true(ws_filetime_to_unix_ns(0) == INT64_MIN);
}

/* The shared byte helpers: little-endian fields, hex digits, XML text. */
static void bytes_hex_and_xml(void **state)
{
	const unsigned char le[8] = { 0x78, 0x56, 0x34, 0x12, 0xf0, 0xde, 0xbc, 0x9a };
	unsigned char out[4];
	char hex[9];
	struct ws_buf b = WS_BUF_INIT;
	(void)state;

	assert_int_equal(ws_get_u16le(le), 0x5678);
	assert_int_equal(ws_get_u32le(le), 0x12345678u);
	assert_true(ws_get_u64le(le) == 0x9abcdef012345678ull);
	ws_put_u32le(out, 0xa1b2c3d4u);
	assert_memory_equal(out, "\xd4\xc3\xb2\xa1", 4);

	assert_int_equal(ws_hex_value('7'), 7);
	assert_int_equal(ws_hex_value('b'), 11);
	assert_int_equal(ws_hex_value('F'), 15);
	assert_int_equal(ws_hex_value('g'), -1);
	assert_int_equal(ws_hex_value(-3), -1);
	ws_hex_encode(hex, le, 4);
	assert_string_equal(hex, "78563412");
	ws_buf_add_hex(&b, le + 4, 4);
	assert_string_equal(b.buf, "f0debc9a");

	/* entities, the three whitespace controls as references, every
	 * other control (not representable in XML 1.0) as U+FFFD */
	ws_buf_reset(&b);
	ws_buf_add_xml(&b, "a&b<c>\"d'\t\n\r\x01\x1f\x7f\xc3\xa9");
	assert_string_equal(b.buf, "a&amp;b&lt;c&gt;&quot;d'&#9;&#10;&#13;"
				   "\xef\xbf\xbd\xef\xbf\xbd\x7f\xc3\xa9");
	ws_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_grows_and_formats),
		cmocka_unit_test(utf16_roundtrip_bmp_and_astral),
		cmocka_unit_test(lone_surrogate_survives_roundtrip),
		cmocka_unit_test(utf8_valid_at_any_offset),
		cmocka_unit_test(invalid_utf8_is_refused),
		cmocka_unit_test(stop_at_nul),
		cmocka_unit_test(utf16_units_counted_as_converted),
		cmocka_unit_test(names_compare_like_ntfs),
		cmocka_unit_test(names_upper_case_like_ntfs),
		cmocka_unit_test(error_formats_location),
		cmocka_unit_test(fd_path_names_the_file),
		cmocka_unit_test(atomic_write_replaces_and_refuses),
		cmocka_unit_test(json_escaping_is_always_valid),
		cmocka_unit_test(versions_compare_numerically),
		cmocka_unit_test(filetime_conversion),
		cmocka_unit_test(upper_keeps_ascii_apart),
		cmocka_unit_test(new_file_write_is_exclusive),
		cmocka_unit_test(bytes_hex_and_xml),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
