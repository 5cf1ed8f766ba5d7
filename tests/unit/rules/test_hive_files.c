/* test_hive_files.c - a profile's registry hives and their logs are never
 * selected as files, even by a rule that takes every file of the profile
 * (USMT's behaviour), and `rules explain` says why; files that merely look
 * alike (ntuser.ini, a document called ntuser.txt) still migrate. */
#include "tu.h"

#include <string.h>

#include "rules/rules.h"

static const char *every_file_xml =
	"<migration urlid=\"http://example.test/all\">"
	"<component type=\"Documents\" context=\"System\"><displayName>Everything</displayName>"
	"<role role=\"Data\"><rules>"
	"<include><objectSet><pattern type=\"File\">C:\\Users\\alice\\* [*]</pattern>"
	"<pattern type=\"File\">C:\\Users\\alice [NTUSER.DAT]</pattern></objectSet></include>"
	"</rules></role></component></migration>";

static struct rule_sel *select_all(struct rule_set **rs, struct rule_env *env)
{
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel = NULL;
	struct ws_error err;

	*rs = rule_set_new();
	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(*rs, "all.xml", every_file_xml, strlen(every_file_xml),
				       NULL, &err), &err);
	o.context = RULE_CTX_SYSTEM;
	o.env = env;
	o.current_user = -1;
	tu_assert_ok(rule_sel_new(*rs, &o, &sel, &err), &err);
	return sel;
}

static void hives_never_selected(void **state)
{
	static const char *const hives[][2] = {
		{ "C:\\Users\\alice", "NTUSER.DAT" },
		{ "C:\\Users\\alice", "ntuser.dat.LOG1" },
		{ "C:\\Users\\alice", "ntuser.dat.LOG2" },
		{ "C:\\Users\\alice",
		  "NTUSER.DAT{53b39e88-18c4-11ea-a811-000d3aa4692b}.TM.blf" },
		{ "C:\\Users\\alice",
		  "NTUSER.DAT{53b39e88-18c4-11ea-a811-000d3aa4692b}.TMContainer00000000000000000001.regtrans-ms" },
		{ "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Windows", "UsrClass.dat" },
		{ "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Windows", "UsrClass.dat.LOG1" },
		{ "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Windows",
		  "UsrClass.dat{a1b2c3d4-0000-0000-0000-000000000000}.TM.blf" },
		{ "C:\\Users\\alice\\AppData\\Local\\Packages\\X_8wekyb3d8bbwe\\Settings",
		  "settings.dat.LOG1" },
	};
	static const char *const files[][2] = {
		{ "C:\\Users\\alice", "ntuser.ini" },
		{ "C:\\Users\\alice\\Documents", "ntuser.txt" },
		{ "C:\\Users\\alice\\Documents", "report.log" },
		{ "C:\\Users\\alice\\Documents", "a.docx" },
	};
	struct rule_set *rs;
	struct rule_env *env = rule_env_new();
	struct rule_sel *sel = select_all(&rs, env);
	struct rule_explanation ex;
	struct rule_decision d;

	(void)state;
	for (size_t i = 0; i < sizeof(hives) / sizeof(hives[0]); i++) {
		assert_true(rule_is_hive_file(hives[i][1]));
		if (rule_sel_object(sel, RULE_FILE, hives[i][0], hives[i][1], &d))
			fail_msg("%s\\%s selected", hives[i][0], hives[i][1]);
		assert_int_equal(d.kind, -1);
		rule_sel_explain(sel, RULE_FILE, hives[i][0], hives[i][1], NULL, NULL, NULL, &ex);
		assert_false(ex.included);
		assert_int_equal(ex.why, RULE_WHY_HIVE_FILE);
	}
	assert_non_null(strstr(rule_why_text(RULE_WHY_HIVE_FILE), "hive"));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		assert_false(rule_is_hive_file(files[i][1]));
		if (!rule_sel_object(sel, RULE_FILE, files[i][0], files[i][1], &d))
			fail_msg("%s\\%s not selected", files[i][0], files[i][1]);
	}
	/* the folders stay walkable; registry values are not file names */
	assert_true(rule_sel_dir(sel, RULE_FILE, "C:\\Users\\alice"));
	assert_false(rule_is_hive_file(""));
	assert_false(rule_is_hive_file(NULL));
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hives_never_selected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
