/* test_hostile.c - bad input to the rule engine: pathological patterns
 * (thousands of stars, nested brackets, kilobytes of carets) are refused
 * with WS_E_RULES or fail their match within PCRE2's limits, never hang;
 * cyclic and self-referencing namedElements are errors; a file that
 * selects nothing is flagged; a pathological pattern inside a rule file
 * costs one warning, not the selection. */
#include "tu.h"

#include <stdio.h>
#include <string.h>

#include "rules/rules.h"

static char *rep(const char *head, char c, size_t n, const char *tail)
{
	struct ws_buf b = WS_BUF_INIT;

	ws_buf_adds(&b, head);
	for (size_t i = 0; i < n; i++)
		ws_buf_addch(&b, c);
	ws_buf_adds(&b, tail);
	return ws_buf_detach(&b, NULL);
}

static void thousands_of_stars(void **state)
{
	char *node = rep("C:\\", '*', 2000, " [*]");
	char *leaf = rep("C:\\X [", '*', 2000, "]");
	char *both = rep("C:\\a", '*', 1000, "");
	char *subj = rep("C:\\", 'a', 3000, "");
	struct rule_pattern *p;

	/* refused, or compiled and bounded: a match gives 0/1 or a limit error */
	if (rule_pattern_compile(node, RULE_FILE, &p, NULL) == WS_OK) {
		int r = rule_pattern_match(p, subj, "x");

		assert_true(r == 1 || r == 0 || r < 0);
		assert_true(rule_pattern_may_match_below(p, subj) >= 0);
		rule_pattern_free(p);
	}
	if (rule_pattern_compile(leaf, RULE_FILE, &p, NULL) == WS_OK) {
		char *l = rep("", 'b', 3000, "c");

		assert_true(rule_pattern_match(p, "C:\\X", l) <= 1);
		free(l);
		rule_pattern_free(p);
	}
	{
		/* "a*a*a*...b" against "aaaa...": classic exponential backtracking */
		char *pat = NULL;
		struct ws_buf b = WS_BUF_INIT;

		ws_buf_adds(&b, "C:\\");
		for (int i = 0; i < 400; i++)
			ws_buf_adds(&b, "a*");
		ws_buf_adds(&b, "b [x]");
		pat = ws_buf_detach(&b, NULL);
		assert_int_equal(rule_pattern_compile(pat, RULE_FILE, &p, NULL), WS_OK);
		assert_true(rule_pattern_match(p, subj, "x") <= 0);
		assert_true(rule_pattern_may_match_below(p, subj) >= 0);
		rule_pattern_free(p);
		free(pat);
	}
	(void)both;
	free(both);
	free(node);
	free(leaf);
	free(subj);
}

static void nested_brackets_and_carets(void **state)
{
	char *open = rep("C:\\x ", '[', 1500, "");
	char *nested = rep("C:\\x [", '[', 1000, "]");
	char *closes = rep("C:\\x ", ']', 1000, "");
	char *carets = rep("C:\\", '^', 4090, "");
	char *carets_odd = rep("C:\\x [", '^', 4089, "]");
	struct rule_pattern *p;
	struct ws_error err;

	ws_error_clear(&err);
	assert_int_equal(rule_pattern_compile(open, RULE_FILE, &p, &err), WS_E_RULES);
	assert_int_equal(rule_pattern_compile(nested, RULE_FILE, &p, &err), WS_E_RULES);
	assert_int_equal(rule_pattern_compile(closes, RULE_FILE, &p, &err), WS_E_RULES);
	assert_non_null(strstr(err.msg, "malformed"));
	/* 4 KB of carets: pairs of escaped carets, a literal name */
	assert_int_equal(rule_pattern_compile(carets, RULE_FILE, &p, &err), WS_OK);
	assert_int_equal(rule_pattern_match(p, "C:\\x", NULL), 0);
	rule_pattern_free(p);
	/* an odd caret escapes the closing bracket: no leaf end */
	assert_int_equal(rule_pattern_compile(carets_odd, RULE_FILE, &p, &err), WS_E_RULES);
	/* over the length limit */
	{
		char *big = rep("C:\\", '^', RULE_MAX_PATTERN_LEN, "");

		assert_int_equal(rule_pattern_compile(big, RULE_FILE, &p, &err), WS_E_RULES);
		assert_non_null(strstr(err.msg, "longer"));
		free(big);
	}
	free(open);
	free(nested);
	free(closes);
	free(carets);
	free(carets_odd);
}

struct logcap {
	unsigned warnings;
	char last[1024];
};

static void cap_fn(void *ctx, int level, const char *where, const char *msg)
{
	struct logcap *c = ctx;

	if (level <= WS_LOG_WARN) {
		c->warnings++;
		snprintf(c->last, sizeof(c->last), "%s: %s", where, msg);
	}
}

static void pathological_pattern_in_a_rule_file(void **state)
{
	/* one bad pattern (unbalanced brackets after expansion through a
	 * variable) is skipped with a warning; the rest of the file works */
	const char *xml =
		"<migration urlid=\"h\"><component type=\"Documents\" context=\"System\">"
		"<displayName>H</displayName><role role=\"Data\"><rules><include><objectSet>"
		"<pattern type=\"File\">%BAD%\\* [*]</pattern>"
		"<pattern type=\"File\">C:\\Good\\* [*]</pattern>"
		"</objectSet></include></rules></role></component></migration>";
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel;
	struct ws_error err;
	struct logcap cap = { 0 };
	struct ws_log log = { 0 };
	char *bad = rep("C:\\[[[", ']', 50, "");

	log.fn = cap_fn;
	log.ctx = &cap;
	log.max_level = WS_LOG_WARN;
	rule_env_set(env, "BAD", bad);
	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "h.xml", xml, strlen(xml), NULL, &err), &err);
	o.context = RULE_CTX_SYSTEM;
	o.env = env;
	o.log = &log;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	assert_int_equal(cap.warnings, 1);
	assert_non_null(strstr(cap.last, "h.xml:1"));
	assert_non_null(strstr(cap.last, "skipped"));
	assert_true(rule_sel_file(sel, "C:\\Good\\a.txt", NULL));
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
	free(bad);
}

static void named_element_cycles(void **state)
{
	static const char *const xml[] = {
		/* self reference */
		"<migration urlid=\"c1\"><namedElements><rules name=\"A\"><rules name=\"A\"/>"
		"</rules></namedElements><component context=\"System\" type=\"Documents\">"
		"<displayName>X</displayName><role role=\"Data\"><rules name=\"A\"/></role>"
		"</component></migration>",
		/* A -> B -> C -> A, reached from a component */
		"<migration urlid=\"c2\"><namedElements>"
		"<rules name=\"A\"><rules name=\"B\"/></rules>"
		"<rules name=\"B\"><rules name=\"C\"/></rules>"
		"<rules name=\"C\"><rules name=\"A\"/></rules>"
		"</namedElements><component context=\"System\" type=\"Documents\">"
		"<displayName>X</displayName><role role=\"Data\"><rules name=\"B\"/></role>"
		"</component></migration>",
		/* a cycle through conditions */
		"<migration urlid=\"c3\"><namedElements>"
		"<conditions name=\"P\"><conditions name=\"Q\"/></conditions>"
		"<conditions name=\"Q\"><conditions name=\"P\"/></conditions>"
		"</namedElements></migration>",
	};

	for (size_t i = 0; i < sizeof(xml) / sizeof(xml[0]); i++) {
		struct rule_set *rs = rule_set_new();
		struct ws_error err;

		ws_error_clear(&err);
		assert_int_equal(rule_set_load_mem(rs, "c.xml", xml[i], strlen(xml[i]), NULL, &err),
				 WS_E_RULES);
		assert_non_null(strstr(err.msg, "cyclic"));
		assert_true(err.line > 0);
		assert_int_equal(rule_set_component_count(rs), 0);
		rule_set_free(rs);
	}
}

static void deep_reference_chain_limited(void **state)
{
	/* a chain of 40 distinct references: deeper than the limit, refused */
	struct ws_buf b = WS_BUF_INIT;
	struct rule_set *rs = rule_set_new();
	struct ws_error err;

	ws_buf_adds(&b, "<migration urlid=\"d\"><namedElements>");
	for (int i = 0; i < 40; i++)
		ws_buf_addf(&b, "<rules name=\"R%d\"><rules name=\"R%d\"/></rules>", i, i + 1);
	ws_buf_adds(&b, "<rules name=\"R40\"><include><objectSet><pattern type=\"File\">C:\\x [*]"
			"</pattern></objectSet></include></rules></namedElements></migration>");
	ws_error_clear(&err);
	assert_int_equal(rule_set_load_mem(rs, "d.xml", b.buf, b.len, NULL, &err), WS_E_RULES);
	assert_non_null(strstr(err.msg, "deeper"));
	rule_set_free(rs);
	ws_buf_release(&b);
}

static void file_selecting_nothing_is_flagged(void **state)
{
	const char *only_ex =
		"<migration urlid=\"n\"><component type=\"Documents\" context=\"System\">"
		"<displayName>N</displayName><role role=\"Data\"><rules><exclude><objectSet>"
		"<pattern type=\"File\">C:\\* [*]</pattern></objectSet></exclude></rules></role>"
		"</component></migration>";
	const char *with_inc =
		"<migration urlid=\"m\"><component type=\"Documents\" context=\"System\">"
		"<displayName>M</displayName><role role=\"Data\"><rules><include><objectSet>"
		"<pattern type=\"File\">C:\\* [*]</pattern></objectSet></include></rules></role>"
		"</component></migration>";
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel;
	struct rule_component_info ci;
	struct ws_error err;

	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "n.xml", only_ex, strlen(only_ex), NULL, &err), &err);
	tu_assert_ok(rule_set_load_mem(rs, "m.xml", with_inc, strlen(with_inc), NULL, &err), &err);
	assert_int_equal(rule_set_file_count(rs), 2);
	assert_false(rule_set_file_has_include(rs, 0));
	assert_true(rule_set_file_has_include(rs, 1));
	o.context = RULE_CTX_SYSTEM;
	o.env = env;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	/* and its component does nothing (USMT: excludes alone select nothing) */
	rule_sel_component(sel, 0, &ci);
	assert_int_equal(ci.state, RULE_COMP_NO_INCLUDE);
	assert_true(rule_sel_file(sel, "C:\\a.txt", NULL));
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
}

static void filter_and_object_garbage(void **state)
{
	/* absurd filter values and object bytes never crash the compile */
	static const char *const filters[] = {
		"MigXmlHelper.FileProperties(\"filesize\",\"eq\",\"18446744073709551615TB\")",
		"MigXmlHelper.FileProperties(\"dateModified\",\"eq\",\"99999/99/99\")",
		"MigXmlHelper.FileProperties(\"dateModified\",\"range\",\"2008/01/01-\")",
		"MigXmlHelper.FileProperties(\"filesize\",\"range\",\"-5\")",
		"MigXmlHelper.CompareStringContent(NULL)",
		"MigXmlHelper.FileProperties(\"a\",\"b\"",
	};

	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		char *xml = ws_xasprintf(
			"<migration urlid=\"g\"><component type=\"Documents\" context=\"System\">"
			"<displayName>G</displayName><role role=\"Data\"><rules>"
			"<include filter='%s'><objectSet><pattern type=\"File\">C:\\* [*]</pattern>"
			"</objectSet></include></rules></role></component></migration>",
			filters[i]);
		struct rule_set *rs = rule_set_new();
		struct rule_env *env = rule_env_new();
		struct rule_sel_opts o = { 0 };
		struct rule_sel *sel;
		struct rule_component_info ci;
		struct ws_error err;

		ws_error_clear(&err);
		tu_assert_ok(rule_set_load_mem(rs, "g.xml", xml, strlen(xml), NULL, &err), &err);
		o.context = RULE_CTX_SYSTEM;
		o.env = env;
		tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
		rule_sel_component(sel, 0, &ci);
		if (ci.state == RULE_COMP_ACTIVE)
			fail_msg("filter %s accepted", filters[i]);
		assert_false(rule_sel_file(sel, "C:\\a.txt", NULL));
		rule_sel_free(sel);
		rule_set_free(rs);
		rule_env_free(env);
		free(xml);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(thousands_of_stars),
		cmocka_unit_test(nested_brackets_and_carets),
		cmocka_unit_test(pathological_pattern_in_a_rule_file),
		cmocka_unit_test(named_element_cycles),
		cmocka_unit_test(deep_reference_chain_limited),
		cmocka_unit_test(file_selecting_nothing_is_flagged),
		cmocka_unit_test(filter_and_object_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
