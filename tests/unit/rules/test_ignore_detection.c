/* test_ignore_detection.c - rule_sel_opts.ignore_detection (LoadState
 * semantics): a component whose <detects> / <detection> evaluate FALSE is
 * active with the option and takes part in decisions and LoadState
 * actions, while conditions inside <rules> and objectSets still evaluate. */
#include "tu.h"

#include <stdio.h>
#include <string.h>

#include "rules/rules.h"

/* Nothing exists on this fake volume. */
static int nothing_exists(void *ctx, const char *path)
{
	(void)ctx;
	(void)path;
	return 0;
}

static const char xml[] =
	"<migration urlid=\"http://t/ls\">"
	"<component type=\"Application\" context=\"User\">"
	"<displayName>App</displayName>"
	"<role role=\"Settings\">"
	"<detects><detect><condition>MigXmlHelper.DoesObjectExist(\"File\","
	"\"C:\\Program Files\\App\\app.exe\")</condition></detect></detects>"
	"<rules>"
	"<include><objectSet><pattern type=\"File\">C:\\Users\\u\\AppData\\App\\* [*]</pattern>"
	"</objectSet></include>"
	"<merge script=\"MigXmlHelper.DestinationPriority()\"><objectSet>"
	"<pattern type=\"File\">C:\\Users\\u\\AppData\\App\\* [*]</pattern></objectSet></merge>"
	"</rules>"
	/* rules-level <detection>: also ignored */
	"<rules><detection><conditions><condition>MigXmlHelper.DoesObjectExist("
	"\"File\",\"C:\\Also\\missing\")</condition></conditions></detection>"
	"<include><objectSet><pattern type=\"File\">C:\\Users\\u\\Other\\* [*]</pattern>"
	"</objectSet></include>"
	"</rules>"
	/* a <rules> condition still evaluates */
	"<rules>"
	"<conditions><condition>MigXmlHelper.DoesObjectExist(\"File\","
	"\"C:\\Nope\")</condition></conditions>"
	"<include><objectSet><pattern type=\"File\">C:\\Users\\u\\Cond\\* [*]</pattern>"
	"</objectSet></include>"
	"</rules>"
	"</role></component>"
	"</migration>";

static struct rule_sel *sel_with(const struct rule_set *rs, const struct rule_env *env,
				 const struct rule_probe *probe, int ignore)
{
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel = NULL;
	struct ws_error err;

	o.context = RULE_CTX_USER;
	o.env = env;
	o.probe = probe;
	o.current_user = -1;
	o.ignore_detection = ignore;
	ws_error_clear(&err);
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	return sel;
}

static void undetected_component_active_with_option(void **state)
{
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_probe probe = { 0 };
	struct rule_sel *sel;
	struct rule_component_info ci;
	struct rule_action act;
	struct ws_error err;
	(void)state;

	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "ls.xml", xml, strlen(xml), NULL, &err), &err);
	probe.file_exists = nothing_exists;

	/* scan semantics: not detected, nothing decided */
	sel = sel_with(rs, env, &probe, 0);
	rule_sel_component(sel, 0, &ci);
	assert_int_equal(ci.state, RULE_COMP_NOT_DETECTED);
	assert_false(rule_sel_file(sel, "C:\\Users\\u\\AppData\\App\\a.ini", NULL));
	assert_int_equal(rule_sel_action(sel, RULE_MERGE, RULE_FILE, "C:\\Users\\u\\AppData\\App",
					 "a.ini", NULL), 0);
	rule_sel_free(sel);

	/* LoadState semantics: detected, its rules take part */
	sel = sel_with(rs, env, &probe, 1);
	rule_sel_component(sel, 0, &ci);
	assert_int_equal(ci.state, RULE_COMP_ACTIVE);
	assert_true(rule_sel_file(sel, "C:\\Users\\u\\AppData\\App\\a.ini", NULL));
	assert_int_equal(rule_sel_action(sel, RULE_MERGE, RULE_FILE, "C:\\Users\\u\\AppData\\App",
					 "a.ini", &act), 1);
	assert_string_equal(act.function, "DestinationPriority");
	assert_string_equal(act.component, "App");
	/* the rules-level <detection> is ignored too */
	assert_true(rule_sel_file(sel, "C:\\Users\\u\\Other\\b.txt", NULL));
	/* but a condition of <rules> still decides */
	assert_false(rule_sel_file(sel, "C:\\Users\\u\\Cond\\c.txt", NULL));
	rule_sel_free(sel);

	rule_env_free(env);
	rule_set_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(undetected_component_active_with_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
