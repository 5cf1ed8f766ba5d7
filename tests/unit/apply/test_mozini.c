/* test_mozini.c - Mozilla profile lists (profiles.ini, installs.ini) placed
 * by apply: absolute profile paths into moved locations rewritten, every
 * other byte kept; hostile text warned about, never rewritten wrongly. */
#include "tu.h"

#include <string.h>
#include <strings.h>

#include <stdlib.h>

#include "apply/apply_private.h"

/* The test's moves: C:\Users\jdoe -> C:\Users\john.doe, D:\ -> C:\ */
static int map(void *ctx, const char *p, struct ws_buf *out)
{
	(void)ctx;
	if (!strncasecmp(p, "C:\\Users\\jdoe\\", 14)) {
		ws_buf_addf(out, "C:\\Users\\john.doe\\%s", p + 14);
		return 1;
	}
	if (p[0] == 'D') {
		ws_buf_addf(out, "C:%s", p + 2);
		return 1;
	}
	if (!strncasecmp(p, "C:\\Same\\", 8)) {
		ws_buf_adds(out, p); /* mapped onto itself: not a rewrite */
		return 1;
	}
	return 0;
}

static int rewrite(const char *in, int kind, struct ws_buf *out, struct amoz_notes *n)
{
	return amoz_rewrite(in, strlen(in), kind, map, NULL, out, n);
}

static size_t warnings(const struct amoz_notes *n, size_t line)
{
	size_t k = 0;

	for (size_t i = 0; i < n->n; i++)
		if (n->v[i].warn && n->v[i].line == line)
			k++;
	return k;
}

static void profiles_ini_bytes_kept(void **state)
{
	/* BOM, CRLF, a comment, an unknown key, IsRelative after Path, a
	 * relative profile, a Default=1 flag, spaces around the value, no end
	 * of line at the end */
	const char *in =
		"\xef\xbb\xbf[General]\r\nStartWithLastProfile=1\r\n; kept\r\n\r\n"
		"[Profile1]\r\nName=elsewhere\r\nPath=C:\\Users\\jdoe\\Documents\\ff\\x.default\r\n"
		"IsRelative=0\r\nDefault=1\r\nX-Unknown=C:\\Users\\jdoe\\y\r\n\r\n"
		"[Profile0]\r\nName=default\r\nIsRelative=1\r\nPath=Profiles/k2.default-release\r\n\r\n"
		"[Profile2]\r\nIsRelative=0\r\nPath = D:\\FirefoxProfiles\\a1.default  \r\n\r\n"
		"[Install308046B0AF4A39CB]\r\nDefault=C:\\Users\\jdoe\\Documents\\ff\\x.default\r\nLocked=1";
	const char *want =
		"\xef\xbb\xbf[General]\r\nStartWithLastProfile=1\r\n; kept\r\n\r\n"
		"[Profile1]\r\nName=elsewhere\r\nPath=C:\\Users\\john.doe\\Documents\\ff\\x.default\r\n"
		"IsRelative=0\r\nDefault=1\r\nX-Unknown=C:\\Users\\jdoe\\y\r\n\r\n"
		"[Profile0]\r\nName=default\r\nIsRelative=1\r\nPath=Profiles/k2.default-release\r\n\r\n"
		"[Profile2]\r\nIsRelative=0\r\nPath = C:\\FirefoxProfiles\\a1.default  \r\n\r\n"
		"[Install308046B0AF4A39CB]\r\nDefault=C:\\Users\\john.doe\\Documents\\ff\\x.default\r\nLocked=1";
	struct ws_buf out = WS_BUF_INIT;
	struct amoz_notes n = { 0 };
	(void)state;

	assert_int_equal(rewrite(in, AMOZ_PROFILES, &out, &n), 3);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.buf, want, out.len);
	assert_int_equal(n.n, 3);
	assert_int_equal(n.v[0].line, 7);
	assert_string_equal(n.v[0].key, "Path");
	assert_string_equal(n.v[0].from, "C:\\Users\\jdoe\\Documents\\ff\\x.default");
	assert_string_equal(n.v[0].to, "C:\\Users\\john.doe\\Documents\\ff\\x.default");
	assert_int_equal(n.v[1].line, 19);
	assert_int_equal(n.v[2].line, 22);
	assert_string_equal(n.v[2].key, "Default");
	amoz_notes_release(&n);
	ws_buf_release(&out);
}

static void installs_ini_and_lf(void **state)
{
	const char *in = "[308046B0AF4A39CB]\nDefault=D:\\P\\a.default\nLocked=1\n\n"
			 "[9F0C2E1D]\nDefault=Profiles/b.dev-edition-default\n";
	struct ws_buf out = WS_BUF_INIT;
	struct amoz_notes n = { 0 };
	(void)state;

	assert_int_equal(rewrite(in, AMOZ_INSTALLS, &out, &n), 1);
	assert_string_equal(out.buf, "[308046B0AF4A39CB]\nDefault=C:\\P\\a.default\nLocked=1\n\n"
				     "[9F0C2E1D]\nDefault=Profiles/b.dev-edition-default\n");
	amoz_notes_release(&n);
	/* the same text as a profiles.ini: no Install or Profile section */
	assert_int_equal(rewrite(in, AMOZ_PROFILES, &out, &n), 0);
	assert_int_equal(out.len, 0);
	amoz_notes_release(&n);
	ws_buf_release(&out);
}

static void nothing_moved_nothing_written(void **state)
{
	const char *in = "[Profile0]\nIsRelative=0\nPath=C:\\Elsewhere\\p\n"
			 "[Profile1]\nIsRelative=0\nPath=C:\\Same\\p\n"
			 "[Profile2]\nIsRelative=0\nPath=\\\\nas\\share\\p\n"
			 "[Profile3]\nIsRelative=0\nPath=C:Users\\jdoe\\p\n"
			 "[Profile4]\nPath=C:\\Users\\jdoe\\p\nIsRelative=1\n"
			 "[Profile5\nIsRelative=0\nPath=C:\\Users\\jdoe\\p\n";
	struct ws_buf out = WS_BUF_INIT;
	struct amoz_notes n = { 0 };
	(void)state;

	assert_int_equal(rewrite(in, AMOZ_PROFILES, &out, &n), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(n.n, 0);
	assert_int_equal(amoz_rewrite("", 0, AMOZ_PROFILES, map, NULL, &out, &n), 0);
	assert_int_equal(amoz_rewrite(in, strlen(in), AMOZ_NONE, map, NULL, &out, &n), 0);
	amoz_notes_release(&n);
	ws_buf_release(&out);
}

static void hostile_text(void **state)
{
	struct ws_buf in = WS_BUF_INIT, out = WS_BUF_INIT;
	struct amoz_notes n = { 0 };
	char *longpath;
	(void)state;

	/* '..', invalid UTF-8, odd characters, a value longer than any path:
	 * each a warning naming its line, the good one still rewritten */
	longpath = malloc(40000);
	memset(longpath, 'a', 39999);
	longpath[39999] = '\0';
	ws_buf_addf(&in, "[Profile0]\nIsRelative=0\nPath=C:\\Users\\jdoe\\..\\..\\Windows\n"
			 "[Profile1]\nIsRelative=0\nPath=C:\\Users\\jdoe\\\xff\xfe.default\n"
			 "[Profile2]\nIsRelative=0\nPath=C:\\Users\\jdoe\\a|b\n"
			 "[Profile3]\nIsRelative=0\nPath=C:\\Users\\jdoe\\%s\n"
			 "[Profile4]\nIsRelative=0\nPath=C:\\Users\\jdoe\\ok\n", longpath);
	assert_int_equal(amoz_rewrite(in.buf, in.len, AMOZ_PROFILES, map, NULL, &out, &n), 1);
	assert_int_equal(warnings(&n, 3), 1);
	assert_int_equal(warnings(&n, 6), 1);
	assert_int_equal(warnings(&n, 9), 1);
	assert_int_equal(warnings(&n, 12), 1);
	assert_non_null(strstr(n.v[0].msg, "'..'"));
	assert_non_null(strstr(n.v[1].msg, "UTF-8"));
	assert_non_null(strstr(out.buf, "Path=C:\\Users\\john.doe\\ok\n"));
	assert_non_null(strstr(out.buf, "Path=C:\\Users\\jdoe\\..\\..\\Windows\n"));
	assert_int_equal(out.len, in.len + 4);
	amoz_notes_release(&n);

	/* a NUL inside a value */
	{
		const char t[] = "[Profile0]\nIsRelative=0\nPath=C:\\Users\\jdoe\\a\0b\n";

		assert_int_equal(amoz_rewrite(t, sizeof(t) - 1, AMOZ_PROFILES, map, NULL, &out, &n), 0);
		assert_int_equal(warnings(&n, 3), 1);
		amoz_notes_release(&n);
	}
	/* over the size limit: not read, one warning for the file */
	ws_buf_reset(&in);
	ws_buf_adds(&in, "[Profile0]\nIsRelative=0\nPath=C:\\Users\\jdoe\\ok\n");
	while (in.len <= AMOZ_MAX_BYTES)
		ws_buf_adds(&in, "; padding padding padding padding padding padding\n");
	assert_int_equal(amoz_rewrite(in.buf, in.len, AMOZ_PROFILES, map, NULL, &out, &n), 0);
	assert_int_equal(n.n, 1);
	assert_int_equal(warnings(&n, 0), 1);
	amoz_notes_release(&n);
	/* UTF-16: not the UTF-8 Mozilla writes */
	assert_int_equal(amoz_rewrite("\xff\xfe[\0P\0", 6, AMOZ_PROFILES, map, NULL, &out, &n), 0);
	assert_int_equal(warnings(&n, 1), 1);
	amoz_notes_release(&n);
	/* one line of 1 MiB without an end, binary junk: no crash, nothing */
	ws_buf_reset(&in);
	for (size_t i = 0; i < AMOZ_MAX_BYTES; i++)
		ws_buf_addch(&in, (int)((i * 131u + 7u) & 0xff) | 1);
	assert_int_equal(amoz_rewrite(in.buf, in.len, AMOZ_PROFILES, map, NULL, &out, &n), 0);
	amoz_notes_release(&n);
	free(longpath);
	ws_buf_release(&in);
	ws_buf_release(&out);
}

static void which_files(void **state)
{
	const char *prof = "C:\\Users\\jdoe";
	(void)state;

	assert_int_equal(amoz_kind_of("C:\\Users\\jdoe\\AppData\\Roaming\\Mozilla\\Firefox\\profiles.ini",
				      prof, NULL), AMOZ_PROFILES);
	assert_int_equal(amoz_kind_of("C:\\Users\\jdoe\\AppData\\Roaming\\Mozilla\\Firefox\\installs.ini",
				      prof, NULL), AMOZ_INSTALLS);
	assert_int_equal(amoz_kind_of("C:\\Users\\jdoe\\AppData\\Roaming\\thunderbird\\Profiles.ini",
				      prof, NULL), AMOZ_PROFILES);
	assert_int_equal(amoz_kind_of("C:\\Users\\jdoe\\AppData\\Roaming\\librewolf\\profiles.ini",
				      prof, NULL), AMOZ_PROFILES);
	/* taken by the group, wherever it lies */
	assert_int_equal(amoz_kind_of("D:\\Portable\\Firefox\\profiles.ini", NULL,
				      "Mozilla Firefox profiles"), AMOZ_PROFILES);
	/* a bare name elsewhere is not one */
	assert_int_equal(amoz_kind_of("C:\\Users\\jdoe\\Documents\\profiles.ini", prof, "Documents"),
			 AMOZ_NONE);
	assert_int_equal(amoz_kind_of("C:\\Users\\jdoe\\AppData\\Roaming\\Mozilla\\Firefox\\Profiles\\x\\profiles.ini",
				      prof, NULL), AMOZ_NONE);
	assert_int_equal(amoz_kind_of("C:\\Users\\jdoe\\AppData\\Roaming\\Mozilla\\Firefox\\prefs.js",
				      prof, "Mozilla Firefox profiles"), AMOZ_NONE);
	assert_int_equal(amoz_kind_of("C:\\Users\\other\\AppData\\Roaming\\Mozilla\\Firefox\\profiles.ini",
				      prof, NULL), AMOZ_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(profiles_ini_bytes_kept),
		cmocka_unit_test(installs_ini_and_lf),
		cmocka_unit_test(nothing_moved_nothing_written),
		cmocka_unit_test(hostile_text),
		cmocka_unit_test(which_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
