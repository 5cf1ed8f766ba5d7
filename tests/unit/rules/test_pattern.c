/* test_pattern.c - USMT pattern syntax, matching, pruning and specificity. */
#include "tu.h"

#include <string.h>

#include "rules/rules.h"
#include "rules/rules_private.h"

static struct rule_pattern *pc(const char *text, int type)
{
	struct rule_pattern *p = NULL;
	struct ws_error err;

	ws_error_clear(&err);
	tu_assert_ok(rule_pattern_compile(text, type, &p, &err), &err);
	return p;
}

struct mcase {
	const char *pattern;
	int type;
	const char *node, *leaf;
	int expect;
};

static void match_table(void **state)
{
	static const struct mcase cases[] = {
		/* "Dir\ [*]": files in that folder only */
		{ "C:\\Folder\\ [*]", RULE_FILE, "C:\\Folder", "a.txt", 1 },
		{ "C:\\Folder\\ [*]", RULE_FILE, "C:\\Folder\\Sub", "a.txt", 0 },
		/* "Dir\* [*]": the whole tree, including the folder itself */
		{ "C:\\Folder\\* [*]", RULE_FILE, "C:\\Folder", "a.txt", 1 },
		{ "C:\\Folder\\* [*]", RULE_FILE, "C:\\Folder\\Sub\\Deep", "a.txt", 1 },
		{ "C:\\Folder\\* [*]", RULE_FILE, "C:\\FolderX", "a.txt", 0 },
		/* a node pattern without leaf matches containers, never leaves */
		{ "C:\\Windows\\*", RULE_FILE, "C:\\Windows\\System32", NULL, 1 },
		{ "C:\\Windows\\*", RULE_FILE, "C:\\Windows", NULL, 1 },
		{ "C:\\Windows\\*", RULE_FILE, "C:\\Windows", "notepad.exe", 0 },
		{ "C:\\Folder\\* [*]", RULE_FILE, "C:\\Folder\\Sub", NULL, 0 },
		/* extension patterns */
		{ "C:\\Folder\\ [*.mp3]", RULE_FILE, "C:\\Folder", "song.MP3", 1 },
		{ "C:\\Folder\\ [*.mp3]", RULE_FILE, "C:\\Folder", "song.mp4", 0 },
		{ "C:\\* [Sample.doc]", RULE_FILE, "C:\\a\\b\\c", "sample.DOC", 1 },
		/* case-insensitive, non-ASCII too */
		{ "C:\\Users\\Zo\xc3\xab\\* [*]", RULE_FILE, "c:\\USERS\\ZO\xc3\x8b\\x", "y", 1 },
		{ "C:\\\xd0\x94\xd0\xbe\xd0\xba\\ [*]", RULE_FILE, "C:\\\xd0\xb4\xd0\x9e\xd0\x9a", "f", 1 },
		/* ^ escapes literal brackets */
		{ "c:\\documents\\mydocs [file^].txt]", RULE_FILE, "C:\\documents\\mydocs", "file].txt", 1 },
		{ "c:\\docs ^[old^]\\ [*]", RULE_FILE, "C:\\docs [old]", "a", 1 },
		/* regex metacharacters are literal */
		{ "C:\\a.b (c)+\\ [x$.txt]", RULE_FILE, "C:\\a.b (c)+", "x$.txt", 1 },
		{ "C:\\a.b\\ [x.txt]", RULE_FILE, "C:\\aXb", "x.txt", 0 },
		/* registry: default value, HKEY_* names */
		{ "HKLM\\SOFTWARE\\MyKey []", RULE_REGISTRY, "HKLM\\Software\\MyKey", "", 1 },
		{ "HKLM\\SOFTWARE\\MyKey []", RULE_REGISTRY, "HKLM\\Software\\MyKey", "x", 0 },
		{ "HKEY_CURRENT_USER\\Control Panel\\Desktop [WallPaper]", RULE_REGISTRY,
		  "HKCU\\Control Panel\\Desktop", "Wallpaper", 1 },
		{ "HKCU\\Control Panel\\Desktop [WallPaper]", RULE_REGISTRY,
		  "HKEY_CURRENT_USER\\control panel\\desktop", "WALLPAPER", 1 },
		{ "HKCU\\Software\\X\\* [*]", RULE_REGISTRY, "HKCU\\Software\\X\\Y", "v", 1 },
		/* trailing backslash normalisation on both sides */
		{ "C:\\Data\\\\ [*]", RULE_FILE, "C:\\Data\\", "f", 1 },
		/* no space before the leaf (MigDocs.xml writes "*[*.library-ms]") */
		{ "*[*.library-ms]", RULE_FILE, "C:\\Users\\a\\Libs", "Docs.library-ms", 1 },
		/* leading blanks (real files have them) */
		{ "   C:\\Windows [*.bmp]", RULE_FILE, "C:\\Windows", "x.bmp", 1 },
		/* leaf shapes: prefix, infix, exact; node with a partial segment */
		{ "C:\\L\\ [report*]", RULE_FILE, "C:\\L", "Report-2024.pdf", 1 },
		{ "C:\\L\\ [report*]", RULE_FILE, "C:\\L", "my-report.pdf", 0 },
		{ "C:\\L\\ [a*z.txt]", RULE_FILE, "C:\\L", "abcz.TXT", 1 },
		{ "C:\\L\\ [a*z.txt]", RULE_FILE, "C:\\L", "abcz.txt.bak", 0 },
		{ "C:\\L\\ [*.txt]", RULE_FILE, "C:\\L", "txt", 0 },
		{ "C:\\Us*\\x [*]", RULE_FILE, "C:\\Users\\a\\x", "f", 1 },
		{ "C:\\Us*\\x [*]", RULE_FILE, "C:\\Users\\a\\y", "f", 0 },
		/* Ini */
		{ "C:\\w\\Winamp.ini|WinAmp[keeponscreen]", RULE_INI, "C:\\w\\winamp.ini|Winamp",
		  "KeepOnScreen", 1 },
		{ "C:\\w\\Winamp.ini|WinAmp[keeponscreen]", RULE_INI, "C:\\w\\winamp.ini|Other",
		  "KeepOnScreen", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rule_pattern *p = pc(cases[i].pattern, cases[i].type);

		/* Many times over: a pattern is interpreted at first and
		 * JIT-compiled once it has run often; both must agree. */
		for (int round = 0; round < 200; round++) {
			int got = rule_pattern_match(p, cases[i].node, cases[i].leaf);

			if (got != cases[i].expect)
				fail_msg("case %zu, round %d: '%s' vs '%s' [%s]: got %d", i,
					 round, cases[i].pattern, cases[i].node,
					 cases[i].leaf ? cases[i].leaf : "(none)", got);
		}
		rule_pattern_free(p);
	}
}

static void normalised_text_and_root(void **state)
{
	struct rule_pattern *p = pc("C:\\Data\\ [*]", RULE_FILE);

	assert_string_equal(rule_pattern_text(p), "C:\\Data [*]");
	assert_string_equal(rule_pattern_root(p), "C:\\Data");
	rule_pattern_free(p);
	p = pc("HKEY_LOCAL_MACHINE\\Software\\Vendor\\App*\\Sub [x]", RULE_REGISTRY);
	assert_string_equal(rule_pattern_root(p), "HKLM\\Software\\Vendor");
	rule_pattern_free(p);
	p = pc("C:\\* [*.doc]", RULE_FILE);
	assert_string_equal(rule_pattern_root(p), "C:");
	rule_pattern_free(p);
}

static void malformed_patterns_refused(void **state)
{
	static const char *bad[] = { "C:\\x [abc", "C:\\x ]abc[", "C:\\x [a] tail", "   ",
				     "C:\\x [a[b]]",
				     /* not UTF-8, in the shapes whose regexes are
				      * otherwise compiled when first run or never */
				     "C:\\D\xffta\\* [*]", "C:\\Data\\* [*.t\xfft]",
				     "C:\\D\xff [a.txt]", "C:\\Data [\xc3]" };
	struct ws_error err;
	struct rule_pattern *p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ws_error_clear(&err);
		assert_int_equal(rule_pattern_compile(bad[i], RULE_FILE, &p, &err), WS_E_RULES);
		assert_null(p);
	}
	assert_int_equal(rule_pattern_compile("no-bar[x]", RULE_INI, &p, &err), WS_E_RULES);
}

/* rule_pattern_check (load-time validation) answers as compiling does, with
 * the same message. */
static void check_agrees_with_compile(void **state)
{
	static const struct {
		const char *text;
		int type;
	} cases[] = {
		{ "C:\\Data\\* [*]", RULE_FILE }, { "C:\\x [abc", RULE_FILE },
		{ "C:\\x ]abc[", RULE_FILE }, { "C:\\x [a] tail", RULE_FILE },
		{ "   ", RULE_FILE }, { "C:\\x [a[b]]", RULE_FILE },
		{ "C:\\D\xffta\\* [*]", RULE_FILE }, { "C:\\Data\\* [*.t\xfft]", RULE_FILE },
		{ "C:\\D\xff [a.txt]", RULE_FILE }, { "C:\\Data [\xc3]", RULE_FILE },
		{ "C:\\A*\\B\xc3\\* [*]", RULE_FILE }, { "C:\\A*\\B [x*y\xc3]", RULE_FILE },
		{ "C:\\\xc3^\xa9\\* [*]", RULE_FILE }, { "C:\\x^", RULE_FILE },
		{ "HKLM\\Software\\*\\Vendor [*]", RULE_REGISTRY },
		{ "HKEY_CURRENT_USER\\ [x]", RULE_REGISTRY },
		{ "no-bar[x]", RULE_INI }, { "C:\\a.ini|Sec*[K*y]", RULE_INI },
		{ "C:\\a.ini|[K]", RULE_INI }, { "*", RULE_FILE }, { "[x]", RULE_FILE },
	};
	struct ws_buf tmp[4] = { WS_BUF_INIT, WS_BUF_INIT, WS_BUF_INIT, WS_BUF_INIT };
	struct ws_buf big = WS_BUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]) + 1; i++) {
		const char *text = i < sizeof(cases) / sizeof(cases[0]) ? cases[i].text : NULL;
		int type = text ? cases[i].type : RULE_FILE;
		struct ws_error e1, e2;
		struct rule_pattern *p;
		int rc1, rc2;

		if (!text) { /* one byte too long */
			for (int k = 0; k <= RULE_MAX_PATTERN_LEN; k++)
				ws_buf_addch(&big, 'x');
			text = big.buf;
		}
		ws_error_clear(&e1);
		ws_error_clear(&e2);
		rc1 = rule_pattern_compile(text, type, &p, &e1);
		rule_pattern_free(p);
		rc2 = rule_pattern_check(text, type, tmp, &e2);
		assert_int_equal(rc1, rc2);
		assert_string_equal(e1.msg, e2.msg);
	}
	for (int i = 0; i < 4; i++)
		ws_buf_release(&tmp[i]);
	ws_buf_release(&big);
}

/* A node's regex is compiled when first run: the longest patterns, made of
 * what becomes the longest regexes (escaped punctuation and separators,
 * 4-byte characters, stars), still compile then (a regex that cannot be
 * compiled answers -1). */
static void longest_patterns_compile_when_run(void **state)
{
	static const struct {
		const char *unit, *subj_unit; /* in the pattern, in a subject it matches */
		const char *other;            /* a subject it does not match */
	} cases[] = {
		{ "!", "!", "C:\\AxB\\?" },
		{ "\\x", "\\x", "C:\\AxB\\y" },
		{ "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", "C:\\AxB\\?" },
		{ "*", "z", "C:\\AxC" },
		/* matched by backtracking past any limit: only the miss a
		 * missing '!' tells at once */
		{ "*!", NULL, "C:\\AxB\\zz" },
	};

	for (size_t u = 0; u < sizeof(cases) / sizeof(cases[0]); u++) {
		struct ws_buf pat = WS_BUF_INIT, subj = WS_BUF_INIT;
		struct rule_pattern *p;
		size_t ul = strlen(cases[u].unit);

		ws_buf_adds(&pat, "C:\\A*B\\");
		ws_buf_adds(&subj, "C:\\AxB\\");
		while (pat.len + ul + 4 <= RULE_MAX_PATTERN_LEN) {
			ws_buf_adds(&pat, cases[u].unit);
			if (cases[u].subj_unit)
				ws_buf_adds(&subj, cases[u].subj_unit);
		}
		ws_buf_adds(&pat, " [*]");
		p = pc(pat.buf, RULE_FILE);
		if (cases[u].subj_unit)
			assert_int_equal(rule_pattern_match(p, subj.buf, "f"), 1);
		assert_int_equal(rule_pattern_match(p, cases[u].other, "f"), 0);
		rule_pattern_free(p);
		ws_buf_release(&pat);
		ws_buf_release(&subj);
	}
}

static void pathological_pattern_terminates(void **state)
{
	/* many stars against a long non-matching subject: PCRE2 limits, no hang */
	struct ws_buf pat = WS_BUF_INIT, subj = WS_BUF_INIT;
	struct rule_pattern *p;

	for (int i = 0; i < 40; i++)
		ws_buf_adds(&pat, "*a");
	ws_buf_adds(&pat, "*b [*]");
	for (int i = 0; i < 3000; i++)
		ws_buf_addch(&subj, 'a');
	p = pc(pat.buf, RULE_FILE);
	/* interpreted, then JIT-compiled: the limits hold in both */
	for (int round = 0; round < 100; round++)
		assert_true(rule_pattern_match(p, subj.buf, "x") <= 0);
	rule_pattern_free(p);
	ws_buf_release(&pat);
	ws_buf_release(&subj);
}

static void too_long_pattern_refused(void **state)
{
	struct ws_buf pat = WS_BUF_INIT;
	struct rule_pattern *p;

	for (int i = 0; i < RULE_MAX_PATTERN_LEN + 10; i++)
		ws_buf_addch(&pat, 'x');
	assert_int_equal(rule_pattern_compile(pat.buf, RULE_FILE, &p, NULL), WS_E_RULES);
	ws_buf_release(&pat);
}

static void partial_match_for_pruning(void **state)
{
	struct rule_pattern *p = pc("C:\\Users\\alice\\Documents\\* [*]", RULE_FILE);

	assert_true(rule_pattern_may_match_below(p, "C:"));
	assert_true(rule_pattern_may_match_below(p, "C:\\Users"));
	assert_true(rule_pattern_may_match_below(p, "C:\\users\\ALICE"));
	assert_true(rule_pattern_may_match_below(p, "C:\\Users\\alice\\Documents\\x"));
	assert_false(rule_pattern_may_match_below(p, "C:\\Windows"));
	assert_false(rule_pattern_may_match_below(p, "C:\\Users\\bob"));
	assert_false(rule_pattern_may_match_below(p, "C:\\Users\\alice\\DocumentsOld"));
	rule_pattern_free(p);
	p = pc("C:\\Users\\*\\AppData\\Foo [x]", RULE_FILE);
	assert_true(rule_pattern_may_match_below(p, "C:\\Users\\bob"));
	assert_false(rule_pattern_may_match_below(p, "C:\\ProgramData"));
	rule_pattern_free(p);
}

static int spec(const char *a, const char *b, int type)
{
	struct rule_pattern *pa = pc(a, type), *pb = pc(b, type);
	int c = rule_pattern_cmp_specificity(pa, pb);

	rule_pattern_free(pa);
	rule_pattern_free(pb);
	return c;
}

static void specificity_order(void **state)
{
	/* directory beats extension */
	assert_true(spec("C:\\Data\\* [*]", "C:\\* [*.mp3]", RULE_FILE) > 0);
	/* same folder: a named leaf beats a wildcard leaf */
	assert_true(spec("C:\\Dir1\\* [*.txt]", "C:\\Dir1\\* [*]", RULE_FILE) > 0);
	/* a literal key beats the tree below it */
	assert_true(spec("HKLM\\Software\\Microsoft\\Command Processor [DefaultColor]",
			 "HKLM\\Software\\Microsoft\\Command Processor\\* [*]", RULE_REGISTRY) > 0);
	assert_int_equal(spec("C:\\A\\* [*]", "c:\\a\\* [*]", RULE_FILE), 0);
	assert_true(spec("C:\\Dir1\\Dir2\\* [*.txt]", "C:\\Dir1\\* [*]", RULE_FILE) > 0);
}

/* The leaf prefilter decide() runs per candidate pattern rules out only
 * leaves the pattern does not match, and does rule out most of those. */
static void leaf_prefilter_never_rules_out_a_match(void **state)
{
	static const char *const pats[] = {
		"C:\\D\\* [*.txt]", "C:\\D\\* [*.docx]", "C:\\D\\* [notes.txt]",
		"C:\\D\\* [*]", "C:\\D\\* [a*]", "C:\\D\\* [*.verylongextension]",
		"C:\\D\\* [*x?y]", "C:\\D\\* [x]", "C:\\D\\* [*.TXT]", "C:\\D\\*",
		"C:\\D\\* [*é.txt]",
	};
	static const char *const leaves[] = {
		"a.txt", "A.TXT", "b.docx", "notes.txt", "xnotes.txt", "x", "", "t",
		"file.verylongextension", "verylongextension", "ab", "axzy", "é.txt", "Ä.TXT",
		NULL,
	};
	size_t ruled_out = 0, non_matches = 0;

	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		struct rule_pattern *p = pc(pats[i], RULE_FILE);
		struct rule_leaf_quick q;

		rule_pattern_leaf_quick(p, &q);
		for (size_t k = 0; k < sizeof(leaves) / sizeof(leaves[0]); k++) {
			struct ws_buf ul = WS_BUF_INIT;
			int m, may;

			if (!leaves[k]) {
				/* containers (no leaf) are never given to the prefilter */
				continue;
			}
			rule_upper(leaves[k], &ul);
			m = rule_pattern_match_leaf_upper(p, ul.buf);
			may = rule_leaf_quick_may(&q, ul.len, rule_leaf_tail(ul.buf, ul.len));
			if (m != 0 && !may)
				fail_msg("'%s' matches '%s' but the prefilter rules it out",
					 pats[i], leaves[k]);
			non_matches += m == 0;
			ruled_out += !may;
			ws_buf_release(&ul);
		}
		rule_pattern_free(p);
	}
	/* literal and suffix leaves are told apart from most others */
	assert_true(ruled_out * 2 > non_matches);
}

/* A tree's node ("L\\*", L its literal prefix) is matched by the selection
 * as "starts with L, then its end or a backslash": the same answer as the
 * pattern's own node test, for every node. */
static void tree_node_is_its_prefix(void **state)
{
	static const char *pats[] = {
		"C:\\Data\\* [*]", "C:\\Data\\* [*.txt]", "C:\\* [*.mp3]",
		"C:\\Users\\Bob\\AppData\\* [x.ini]", "HKLM\\Software\\Acme\\* [*]",
		/* not trees: a wildcard inside, a literal node, an escape */
		"C:\\Data\\*\\Cache\\* [*]", "C:\\Data [*]", "C:\\Da*ta\\* [*]",
		"C:\\Data^*\\* [*]",
	};
	static const char *nodes[] = {
		"C:", "C:\\DATA", "C:\\DATA\\SUB", "C:\\DATAX", "C:\\DAT", "C:\\DATA\\",
		"C:\\USERS\\BOB\\APPDATA", "C:\\USERS\\BOB\\APPDATA2\\X",
		"C:\\USERS\\BOB\\APPDATA\\LOCAL", "HKLM\\SOFTWARE\\ACME",
		"HKLM\\SOFTWARE\\ACMEX", "C:\\DATA\\A\\CACHE", "C:\\DATA*\\A", "",
	};
	int trees = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		int type = pats[i][0] == 'H' ? RULE_REGISTRY : RULE_FILE;
		struct rule_pattern *p = pc(pats[i], type);
		size_t ll;
		const char *lit = rule_pattern_lit_upper(p, &ll);

		if (!rule_pattern_node_is_tree(p)) {
			rule_pattern_free(p);
			continue;
		}
		trees++;
		for (size_t k = 0; k < sizeof(nodes) / sizeof(nodes[0]); k++) {
			const char *un = nodes[k];
			size_t unl = strlen(un);
			int quick = unl >= ll && !memcmp(un, lit, ll) &&
				    (un[ll] == '\0' || un[ll] == '\\');

			if (quick != (rule_pattern_match_node_upper(p, un, unl) == 1))
				fail_msg("'%s' on node '%s': prefix test %d, node test %d",
					 pats[i], un, quick,
					 rule_pattern_match_node_upper(p, un, unl));
		}
		rule_pattern_free(p);
	}
	assert_int_equal(trees, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(match_table),
		cmocka_unit_test(leaf_prefilter_never_rules_out_a_match),
		cmocka_unit_test(normalised_text_and_root),
		cmocka_unit_test(malformed_patterns_refused),
		cmocka_unit_test(check_agrees_with_compile),
		cmocka_unit_test(longest_patterns_compile_when_run),
		cmocka_unit_test(pathological_pattern_terminates),
		cmocka_unit_test(too_long_pattern_refused),
		cmocka_unit_test(partial_match_for_pruning),
		cmocka_unit_test(specificity_order),
		cmocka_unit_test(tree_node_is_its_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
