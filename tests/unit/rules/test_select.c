/* test_select.c - selection with USMT precedence (the worked examples of
 * the conflicts-and-precedence page), contexts, roots, pruning, the
 * shipped-with-the-ADK MigUser.xml / MigDocs.xml for a user alice. */
#include "tu.h"

#include <stdio.h>
#include <string.h>

#include "rules/rules.h"
#include "rules/rules_private.h"

static struct rule_set *load_xml(const char *xml)
{
	struct rule_set *rs = rule_set_new();
	struct ws_error err;

	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "t.xml", xml, strlen(xml), NULL, &err), &err);
	return rs;
}

static struct rule_sel *sel_for(const struct rule_set *rs, const struct rule_env *env,
				int ctx, const struct rule_probe *probe)
{
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel = NULL;
	struct ws_error err;

	o.context = ctx;
	o.env = env;
	o.probe = probe;
	o.current_user = -1;
	ws_error_clear(&err);
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	return sel;
}

/* One component holding the given rules (pattern type File unless Registry). */
static char *one_component(const char *type, const char *inc, const char *exc)
{
	return ws_xasprintf(
		"<migration urlid=\"p\"><component type=\"Documents\" context=\"System\">"
		"<displayName>P</displayName><role role=\"Data\"><rules>"
		"<include><objectSet><pattern type=\"%s\">%s</pattern></objectSet></include>"
		"<exclude><objectSet><pattern type=\"%s\">%s</pattern></objectSet></exclude>"
		"</rules></role></component></migration>",
		type, inc, type, exc);
}

struct prec {
	const char *type, *inc, *exc;
	const char *node, *leaf;
	int migrated;
};

static void precedence_examples(void **state)
{
	static const struct prec t[] = {
		/* "directory names take precedence over file extensions" */
		{ "File", "C:\\Data\\* [*]", "C:\\* [*.mp3]", "C:\\Data", "a.mp3", 1 },
		{ "File", "C:\\Data\\* [*]", "C:\\* [*.mp3]", "C:\\Data\\Sub", "b.mp3", 1 },
		{ "File", "C:\\Data\\* [*]", "C:\\* [*.mp3]", "C:\\Other", "c.mp3", 0 },
		/* include Dir1 tree, exclude *.txt in the same tree */
		{ "File", "C:\\Dir1\\* [*]", "C:\\Dir1\\* [*.txt]", "C:\\Dir1\\x", "a.txt", 0 },
		{ "File", "C:\\Dir1\\* [*]", "C:\\Dir1\\* [*.txt]", "C:\\Dir1\\x", "a.doc", 1 },
		/* exclude *.txt only below Dir2 */
		{ "File", "C:\\Dir1\\* [*]", "C:\\Dir1\\Dir2\\* [*.txt]", "C:\\Dir1", "a.txt", 1 },
		{ "File", "C:\\Dir1\\* [*]", "C:\\Dir1\\Dir2\\* [*.txt]", "C:\\Dir1\\Dir2\\z", "a.txt", 0 },
		/* include *.txt in Dir2, exclude all of Dir2: the txt files migrate */
		{ "File", "C:\\Dir1\\Dir2\\* [*.txt]", "C:\\Dir1\\Dir2\\* [*]", "C:\\Dir1\\Dir2", "a.txt", 1 },
		{ "File", "C:\\Dir1\\Dir2\\* [*.txt]", "C:\\Dir1\\Dir2\\* [*]", "C:\\Dir1\\Dir2", "a.doc", 0 },
		/* equally specific: exclude wins */
		{ "File", "C:\\Data\\ [a.txt]", "C:\\Data\\ [a.txt]", "C:\\Data", "a.txt", 0 },
		/* registry: all of Command Processor but DefaultColor ... */
		{ "Registry", "HKLM\\Software\\Microsoft\\Command Processor\\* [*]",
		  "HKLM\\Software\\Microsoft\\Command Processor [DefaultColor]",
		  "HKLM\\Software\\Microsoft\\Command Processor", "DefaultColor", 0 },
		{ "Registry", "HKLM\\Software\\Microsoft\\Command Processor\\* [*]",
		  "HKLM\\Software\\Microsoft\\Command Processor [DefaultColor]",
		  "HKLM\\Software\\Microsoft\\Command Processor", "AutoRun", 1 },
		/* ... and swapped: only DefaultColor */
		{ "Registry", "HKLM\\Software\\Microsoft\\Command Processor [DefaultColor]",
		  "HKLM\\Software\\Microsoft\\Command Processor\\* [*]",
		  "HKLM\\Software\\Microsoft\\Command Processor", "DefaultColor", 1 },
		{ "Registry", "HKLM\\Software\\Microsoft\\Command Processor [DefaultColor]",
		  "HKLM\\Software\\Microsoft\\Command Processor\\* [*]",
		  "HKLM\\Software\\Microsoft\\Command Processor", "AutoRun", 0 },
	};
	struct rule_env *env = rule_env_new();

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *xml = one_component(t[i].type, t[i].inc, t[i].exc);
		struct rule_set *rs = load_xml(xml);
		struct rule_sel *sel = sel_for(rs, env, RULE_CTX_SYSTEM, NULL);
		struct rule_decision d;
		int type = !strcmp(t[i].type, "Registry") ? RULE_REGISTRY : RULE_FILE;
		int got = rule_sel_object(sel, type, t[i].node, t[i].leaf, &d);

		if (got != t[i].migrated)
			fail_msg("example %zu: include '%s' exclude '%s': %s [%s] -> %d", i,
				 t[i].inc, t[i].exc, t[i].node, t[i].leaf, got);
		assert_int_equal(d.kind, got ? RULE_INCLUDE : RULE_EXCLUDE);
		assert_string_equal(d.file, "t.xml");
		assert_string_equal(d.component, "P");
		rule_sel_free(sel);
		rule_set_free(rs);
		free(xml);
	}
	rule_env_free(env);
}

static const char *two_components =
	"<migration urlid=\"u\">"
	"<component type=\"Documents\" context=\"System\"><displayName>Ex</displayName>"
	"<role role=\"Data\"><rules><exclude><objectSet>"
	"<pattern type=\"File\">C:\\Userdocs\\* [*.mp3]</pattern></objectSet></exclude></rules></role>"
	"</component>"
	"<component type=\"Documents\" context=\"System\"><displayName>In</displayName>"
	"<role role=\"Data\"><rules><include><objectSet>"
	"<pattern type=\"File\">C:\\Userdocs\\* [*]</pattern></objectSet></include></rules></role>"
	"</component>"
	"<component type=\"Documents\" context=\"System\"><displayName>Global</displayName>"
	"<role role=\"Data\"><rules><unconditionalExclude><objectSet>"
	"<pattern type=\"File\">C:\\* [*.tmp]</pattern></objectSet></unconditionalExclude></rules></role>"
	"</component></migration>";

static void components_independent_and_uncond_global(void **state)
{
	struct rule_set *rs = load_xml(two_components);
	struct rule_env *env = rule_env_new();
	struct rule_sel *sel = sel_for(rs, env, RULE_CTX_SYSTEM, NULL);
	struct rule_decision d;
	struct rule_component_info ci;

	/* the exclude of another component does not matter */
	assert_true(rule_sel_file(sel, "C:\\Userdocs\\song.mp3", &d));
	assert_string_equal(d.component, "In");
	/* unconditionalExclude beats every include, in any component */
	assert_false(rule_sel_file(sel, "C:\\Userdocs\\x\\a.TMP", &d));
	assert_int_equal(d.kind, RULE_UNCOND_EXCLUDE);
	assert_string_equal(d.component, "Global");
	/* a component with only excludes does nothing */
	rule_sel_component(sel, 0, &ci);
	assert_int_equal(ci.state, RULE_COMP_NO_INCLUDE);
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
}

static void config_no_turns_component_off(void **state)
{
	struct rule_set *rs = load_xml(two_components);
	struct rule_env *env = rule_env_new();
	struct rule_sel *sel;

	assert_int_equal(rule_set_disable(rs, "in"), 1);
	sel = sel_for(rs, env, RULE_CTX_SYSTEM, NULL);
	assert_false(rule_sel_file(sel, "C:\\Userdocs\\a.doc", NULL));
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
}

static void context_narrowing(void **state)
{
	const char *xml =
		"<migration urlid=\"c\">"
		"<component type=\"Application\" context=\"User\"><displayName>U</displayName>"
		"<role role=\"Settings\">"
		"<rules context=\"System\"><include><objectSet>"
		"<pattern type=\"Registry\">HKLM\\Software\\Sys\\* [*]</pattern></objectSet></include></rules>"
		"<rules context=\"UserAndSystem\"><include><objectSet>"
		"<pattern type=\"Registry\">HKCU\\Software\\App\\* [*]</pattern></objectSet></include></rules>"
		"</role></component>"
		"<component type=\"Application\" context=\"System\"><displayName>S</displayName>"
		"<role role=\"Settings\"><rules><include><objectSet>"
		"<pattern type=\"Registry\">HKLM\\Software\\Mach [v]</pattern></objectSet></include></rules>"
		"</role></component></migration>";
	struct rule_set *rs = load_xml(xml);
	struct rule_env *env = rule_env_new();
	struct rule_sel *user = sel_for(rs, env, RULE_CTX_USER, NULL);
	struct rule_sel *sys = sel_for(rs, env, RULE_CTX_SYSTEM, NULL);
	struct rule_component_info ci;

	assert_true(rule_sel_reg(user, "HKCU\\Software\\App", "x", NULL));
	/* a System rule inside a User component acts as though not there */
	assert_false(rule_sel_reg(user, "HKLM\\Software\\Sys", "x", NULL));
	assert_false(rule_sel_reg(sys, "HKLM\\Software\\Sys", "x", NULL));
	assert_false(rule_sel_reg(user, "HKLM\\Software\\Mach", "v", NULL));
	assert_true(rule_sel_reg(sys, "HKLM\\Software\\Mach", "v", NULL));
	rule_sel_component(sys, 0, &ci);
	assert_int_equal(ci.state, RULE_COMP_OTHER_CONTEXT);
	rule_sel_free(user);
	rule_sel_free(sys);
	rule_set_free(rs);
	rule_env_free(env);
}

/* A probe over a tiny fake volume: a list of existing paths. */
static const char *const fake_fs[] = {
	"C:\\Users\\alice\\Documents", "C:\\Users\\alice\\Music", "C:\\Users\\alice\\Pictures",
	"C:\\Users\\alice\\Desktop", "C:\\Users\\alice\\Favorites", NULL
};

static int fake_exists(void *ctx, const char *path)
{
	for (size_t i = 0; fake_fs[i]; i++)
		if (!strcasecmp(fake_fs[i], path))
			return 1;
	return 0;
}

static struct rule_env *alice_env(void)
{
	struct rule_env *e = rule_env_new();

	rule_env_set(e, "SYSTEMDRIVE", "C:");
	rule_env_set(e, "CSIDL_PROFILE", "C:\\Users\\alice");
	rule_env_set(e, "USERPROFILE", "%CSIDL_PROFILE%");
	rule_env_set(e, "CSIDL_PERSONAL", "C:\\Users\\alice\\Documents");
	rule_env_set(e, "CSIDL_MYMUSIC", "C:\\Users\\alice\\Music");
	rule_env_set(e, "CSIDL_MYPICTURES", "C:\\Users\\alice\\Pictures");
	rule_env_set(e, "CSIDL_MYVIDEO", "C:\\Users\\alice\\Videos");
	rule_env_set(e, "CSIDL_DESKTOP", "C:\\Users\\alice\\Desktop");
	rule_env_set(e, "CSIDL_FAVORITES", "C:\\Users\\alice\\Favorites");
	rule_env_set(e, "CSIDL_STARTMENU", "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu");
	rule_env_set(e, "CSIDL_APPDATA", "C:\\Users\\alice\\AppData\\Roaming");
	rule_env_set(e, "CSIDL_LOCAL_APPDATA", "C:\\Users\\alice\\AppData\\Local");
	return e;
}

static void miguser_for_alice(void **state)
{
	char *p = tu_testdata("usmt-xml/MigUser.xml");
	struct rule_set *rs;
	struct rule_env *env;
	struct rule_sel *sel;
	struct rule_probe probe = { 0 };
	struct rule_decision d;
	struct rule_component_info ci;
	struct rule_action act;
	struct ws_error err;
	int saw_docs = 0;

	if (!p)
		skip();
	rs = rule_set_new();
	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_file(rs, p, NULL, &err), &err);
	env = alice_env();
	probe.file_exists = fake_exists;
	sel = sel_for(rs, env, RULE_CTX_USER, &probe);

	assert_true(rule_sel_file(sel, "C:\\Users\\alice\\Documents\\x.docx", &d));
	assert_string_equal(d.component, "My Documents");
	assert_string_equal(d.pattern, "C:\\Users\\alice\\Documents\\* [*]");
	assert_string_equal(d.filter, "MigXmlHelper.IgnoreIrrelevantLinks()");
	assert_true(d.line > 200);
	assert_true(rule_sel_file(sel, "C:\\users\\ALICE\\documents\\sub\\y.bin", NULL));
	assert_true(rule_sel_file(sel, "C:\\Users\\alice\\Music\\a.mp3", &d));
	assert_string_equal(d.component, "My Music");
	assert_true(rule_sel_file(sel, "C:\\Users\\alice\\Desktop\\todo.txt", NULL));
	/* Videos does not exist on the fake volume: not detected */
	assert_false(rule_sel_file(sel, "C:\\Users\\alice\\Videos\\v.mp4", NULL));
	assert_false(rule_sel_file(sel, "C:\\Users\\alice\\AppData\\Local\\x.dat", NULL));
	assert_false(rule_sel_file(sel, "C:\\Windows\\notepad.exe", NULL));
	/* System components do not run in a user pass */
	for (size_t i = 0; i < rule_set_component_count(rs); i++) {
		rule_sel_component(sel, i, &ci);
		if (!strcmp(ci.name, "Shared Video"))
			assert_int_equal(ci.state, RULE_COMP_OTHER_CONTEXT);
		if (!strcmp(ci.name, "My Video"))
			assert_int_equal(ci.state, RULE_COMP_NOT_DETECTED);
		if (!strcmp(ci.name, "Start Menu"))
			assert_int_equal(ci.state, RULE_COMP_NOT_DETECTED);
	}
	/* the walker prunes what no include reaches, and starts at the roots */
	assert_true(rule_sel_dir(sel, RULE_FILE, "C:\\Users"));
	assert_true(rule_sel_dir(sel, RULE_FILE, "C:\\Users\\alice\\Documents\\Deep"));
	assert_false(rule_sel_dir(sel, RULE_FILE, "C:\\Windows"));
	assert_false(rule_sel_dir(sel, RULE_FILE, "C:\\Users\\bob"));
	for (size_t i = 0; i < rule_sel_root_count(sel, RULE_FILE); i++)
		saw_docs |= !strcmp(rule_sel_root(sel, RULE_FILE, i), "C:\\Users\\alice\\Documents");
	assert_true(saw_docs);
	assert_int_equal(rule_sel_root_count(sel, RULE_REGISTRY), 0);
	/* the LoadState-side merge rule is recorded */
	assert_int_equal(rule_sel_action(sel, RULE_MERGE, RULE_FILE, "C:\\Users\\alice\\Documents",
					 "desktop.ini", &act), 1);
	assert_string_equal(act.function, "DestinationPriority");
	assert_int_equal(rule_sel_action(sel, RULE_MERGE, RULE_FILE, "C:\\Users\\alice\\Documents",
					 "a.doc", &act), 0);
	rule_sel_free(sel);
	rule_env_free(env);
	rule_set_free(rs);
	free(p);
}

static void miguser_documents_excludes_nested_music(void **state)
{
	/* XP layout: Music inside Documents is excluded by My Documents, but My
	 * Music includes it (components are independent) */
	char *p = tu_testdata("usmt-xml/MigUser.xml");
	struct rule_set *rs;
	struct rule_env *env;
	struct rule_sel *sel;
	struct rule_probe probe = { 0 };
	struct rule_decision d;
	struct ws_error err;

	if (!p)
		skip();
	rs = rule_set_new();
	tu_assert_ok(rule_set_load_file(rs, p, NULL, &err), &err);
	env = alice_env();
	rule_env_set(env, "CSIDL_MYMUSIC", "C:\\Users\\alice\\Documents\\My Music");
	probe.file_exists = fake_exists;
	sel = sel_for(rs, env, RULE_CTX_USER, &probe);
	/* My Music is not detected on the fake volume: only My Documents speaks */
	assert_false(rule_sel_file(sel, "C:\\Users\\alice\\Documents\\My Music\\a.mp3", &d));
	assert_int_equal(d.kind, RULE_EXCLUDE);
	assert_string_equal(d.component, "My Documents");
	rule_sel_free(sel);
	rule_env_free(env);
	rule_set_free(rs);
	free(p);
}

static void migdocs_for_alice(void **state)
{
	char *p = tu_testdata("usmt-xml/MigDocs.xml");
	struct rule_set *rs;
	struct rule_env *env;
	struct rule_sel *sel;
	struct ws_error err;
	struct rule_decision d;

	if (!p)
		skip();
	rs = rule_set_new();
	tu_assert_ok(rule_set_load_file(rs, p, NULL, &err), &err);
	env = alice_env();
	sel = sel_for(rs, env, RULE_CTX_USER, NULL);
	assert_true(rule_sel_file(sel, "C:\\Users\\alice\\Documents\\x.docx", &d));
	assert_string_equal(d.component, "MigDocUser");
	assert_true(rule_sel_file(sel, "C:\\Users\\alice\\Projects\\plan.xlsx", NULL));
	assert_false(rule_sel_file(sel, "C:\\Users\\alice\\Projects\\tool.exe", NULL));
	/* the document finder's excludes: application data */
	assert_false(rule_sel_file(sel, "C:\\Users\\alice\\AppData\\Local\\Temp\\x.docx", &d));
	assert_int_equal(d.kind, RULE_EXCLUDE);
	assert_false(rule_sel_file(sel, "C:\\Users\\bob\\Documents\\x.docx", NULL));
	rule_sel_free(sel);
	rule_env_free(env);

	/* system pass: documents outside profiles and system folders */
	env = rule_env_new();
	rule_env_set(env, "SYSTEMDRIVE", "C:");
	rule_env_set(env, "CSIDL_WINDOWS", "C:\\Windows");
	rule_env_set(env, "CSIDL_PROGRAM_FILES", "C:\\Program Files");
	rule_env_set(env, "CSIDL_PROGRAM_FILESX86", "C:\\Program Files (x86)");
	rule_env_set(env, "PROFILESFOLDER", "C:\\Users");
	rule_env_set(env, "CSIDL_COMMON_APPDATA", "C:\\ProgramData");
	sel = sel_for(rs, env, RULE_CTX_SYSTEM, NULL);
	assert_true(rule_sel_file(sel, "C:\\Data\\report.pdf", NULL));
	assert_false(rule_sel_file(sel, "C:\\Windows\\Help\\x.txt", NULL));
	assert_false(rule_sel_file(sel, "C:\\Users\\alice\\x.docx", NULL));
	rule_sel_free(sel);
	rule_env_free(env);
	rule_set_free(rs);
	free(p);
}

static void unset_variable_skips_pattern_with_warning(void **state)
{
	const char *xml = "<migration urlid=\"v\">\n"
			  "<component type=\"Documents\" context=\"User\"><displayName>V</displayName>\n"
			  "<role role=\"Data\"><rules><include><objectSet>\n"
			  "<pattern type=\"File\">%NOT_SET_ANYWHERE%\\* [*]</pattern>\n"
			  "<pattern type=\"File\">%CSIDL_PERSONAL%\\* [*]</pattern>\n"
			  "</objectSet></include></rules></role></component></migration>";
	struct rule_set *rs = load_xml(xml);
	struct rule_env *env = alice_env();
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel;
	struct ws_log log = { 0 };
	struct ws_error err;

	log.max_level = WS_LOG_DEBUG;
	o.context = RULE_CTX_USER;
	o.env = env;
	o.log = &log;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	assert_int_equal(log.warnings, 1);
	assert_true(rule_sel_file(sel, "C:\\Users\\alice\\Documents\\a", NULL));
	assert_int_equal(rule_sel_pattern_count(sel, RULE_INCLUDE), 1);
	rule_sel_free(sel);
	rule_env_free(env);
	rule_set_free(rs);
}

static void roots_are_reduced(void **state)
{
	const char *xml =
		"<migration urlid=\"r\"><component type=\"Documents\" context=\"System\">"
		"<displayName>R</displayName><role role=\"Data\"><rules><include><objectSet>"
		"<pattern type=\"File\">C:\\Data\\* [*]</pattern>"
		"<pattern type=\"File\">C:\\Data\\Sub\\ [x]</pattern>"
		"<pattern type=\"File\">C:\\Data Old\\ [x]</pattern>"
		"<pattern type=\"File\">C:\\Pro*\\ [x]</pattern>"
		"<pattern type=\"Registry\">HKEY_CURRENT_USER\\Control Panel\\Desktop [WallPaper]</pattern>"
		"</objectSet></include></rules></role></component></migration>";
	struct rule_set *rs = load_xml(xml);
	struct rule_env *env = rule_env_new();
	struct rule_sel *sel = sel_for(rs, env, RULE_CTX_SYSTEM, NULL);

	/* "C:\Pro*" starts at C:, which covers everything else */
	assert_int_equal(rule_sel_root_count(sel, RULE_FILE), 1);
	assert_string_equal(rule_sel_root(sel, RULE_FILE, 0), "C:");
	assert_int_equal(rule_sel_root_count(sel, RULE_REGISTRY), 1);
	assert_string_equal(rule_sel_root(sel, RULE_REGISTRY, 0), "HKCU\\Control Panel\\Desktop");
	assert_true(rule_sel_dir(sel, RULE_REGISTRY, "HKEY_CURRENT_USER\\Control Panel"));
	assert_false(rule_sel_dir(sel, RULE_REGISTRY, "HKCU\\Software"));
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
}

static void roots_without_wildcards(void **state)
{
	const char *xml =
		"<migration urlid=\"r\"><component type=\"Documents\" context=\"System\">"
		"<displayName>R</displayName><role role=\"Data\"><rules><include><objectSet>"
		"<pattern type=\"File\">C:\\Data\\* [*]</pattern>"
		"<pattern type=\"File\">C:\\Data\\Sub\\ [x]</pattern>"
		"<pattern type=\"File\">C:\\Data Old\\ [x]</pattern>"
		"</objectSet></include></rules></role></component></migration>";
	struct rule_set *rs = load_xml(xml);
	struct rule_env *env = rule_env_new();
	struct rule_sel *sel = sel_for(rs, env, RULE_CTX_SYSTEM, NULL);

	assert_int_equal(rule_sel_root_count(sel, RULE_FILE), 2);
	assert_string_equal(rule_sel_root(sel, RULE_FILE, 0), "C:\\Data");
	assert_string_equal(rule_sel_root(sel, RULE_FILE, 1), "C:\\Data Old");
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
}

/* Roots in NTFS case-insensitive order, ASCII or not, each covering those
 * below it in any case. */
static void roots_ordered_and_covered_in_any_case(void **state)
{
	const char *xml =
		"<migration urlid=\"r\"><component type=\"Documents\" context=\"System\">"
		"<displayName>R</displayName><role role=\"Data\"><rules><include><objectSet>"
		"<pattern type=\"File\">C:\\zeta\\ [x]</pattern>"
		"<pattern type=\"File\">C:\\a\\x\\ [x]</pattern>"
		"<pattern type=\"File\">C:\\A B\\ [x]</pattern>"
		"<pattern type=\"File\">C:\\\xc3\xa9t\xc3\xa9\\y\\ [x]</pattern>"
		"<pattern type=\"File\">C:\\A\\ [x]</pattern>"
		"<pattern type=\"File\">C:\\\xc3\x89T\xc3\x89\\ [x]</pattern>"
		"<pattern type=\"File\">C:\\\xc3\x89TA\\ [x]</pattern>"
		"<pattern type=\"File\">C:\\Beta\\ [x]</pattern>"
		"<pattern type=\"File\">C:\\BETA\\Sub\\ [x]</pattern>"
		"<pattern type=\"File\">C:\\Z\\ [x]</pattern>"
		"</objectSet></include></rules></role></component></migration>";
	static const char *const want[] = {
		"C:\\A", "C:\\A B", "C:\\Beta", "C:\\Z", "C:\\zeta",
		"C:\\\xc3\x89TA", "C:\\\xc3\x89T\xc3\x89",
	};
	struct rule_set *rs = load_xml(xml);
	struct rule_env *env = rule_env_new();
	struct rule_sel *sel = sel_for(rs, env, RULE_CTX_SYSTEM, NULL);

	assert_int_equal(rule_sel_root_count(sel, RULE_FILE), sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(rule_sel_root(sel, RULE_FILE, i), want[i]);
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
}

static void filters_answer_no_and_never_restore(void **state)
{
	const char *xml =
		"<migration urlid=\"f\"><component type=\"Documents\" context=\"System\">"
		"<displayName>F</displayName><role role=\"Data\"><rules>"
		"<include filter=\"MigXmlHelper.AnswerNo()\"><objectSet>"
		"<pattern type=\"File\">C:\\No\\* [*]</pattern></objectSet></include>"
		"<include filter='MigXmlHelper.NeverRestore()'><objectSet>"
		"<pattern type=\"File\">C:\\Keep\\* [*]</pattern></objectSet></include>"
		"</rules></role></component></migration>";
	struct rule_set *rs = load_xml(xml);
	struct rule_env *env = rule_env_new();
	struct rule_sel *sel = sel_for(rs, env, RULE_CTX_SYSTEM, NULL);
	struct rule_decision d;

	assert_false(rule_sel_file(sel, "C:\\No\\a", NULL));
	assert_true(rule_sel_file(sel, "C:\\Keep\\a", &d));
	assert_true(d.never_restore);
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
}

/*
 * A selection remembers which patterns match the last few folders and keys
 * (and buckets them by the last byte of a leaf); its answers must be those
 * of a selection without that cache, which tests every pattern, whatever
 * the order of the questions (folders revisited after others pushed them
 * out, files and folders themselves, patterns with and without a leaf,
 * files and registry values under the same text).
 */
static void node_cache_answers_as_fresh(void **state)
{
	static const char xml[] =
		"<migration urlid=\"p\">"
		"<component type=\"Documents\" context=\"System\"><displayName>A</displayName>"
		"<role role=\"Data\"><rules>"
		"<include><objectSet>"
		"<pattern type=\"File\">C:\\Data\\* [*]</pattern>"
		"<pattern type=\"File\">C:\\Users\\*\\Doc*s\\* [*.docx]</pattern>"
		"<pattern type=\"File\">C:\\Deep\\A\\B [keep.txt]</pattern>"
		"<pattern type=\"Registry\">HKLM\\Software\\Data\\* [*]</pattern>"
		"<pattern type=\"File\">C:\\Data\\Kept</pattern>"
		"<pattern type=\"File\">C:\\Deep\\*</pattern>"
		"<pattern type=\"Registry\">HKLM\\Software\\Data\\Sub\\*</pattern>"
		"</objectSet></include>"
		"<exclude><objectSet>"
		"<pattern type=\"File\">C:\\Data\\* [*.tmp]</pattern>"
		"<pattern type=\"File\">C:\\Data\\Cache\\* [*]</pattern>"
		"<pattern type=\"File\">C:\\Deep\\A\\*</pattern>"
		"<pattern type=\"Registry\">HKLM\\Software\\Data\\Secret [*]</pattern>"
		"</objectSet></exclude>"
		"</rules></role></component>"
		"<component type=\"Documents\" context=\"System\"><displayName>B</displayName>"
		"<role role=\"Data\"><rules>"
		"<include><objectSet>"
		"<pattern type=\"File\">C:\\Data\\Cache\\ [important.*]</pattern>"
		"<pattern type=\"File\">C:\\* [*.pst]</pattern>"
		"</objectSet></include>"
		"<unconditionalExclude><objectSet>"
		"<pattern type=\"File\">C:\\*\\Temp\\* [*]</pattern>"
		"</objectSet></unconditionalExclude>"
		"</rules></role></component></migration>";
	static const struct { int type; const char *node, *leaf; } obj[] = {
		{ RULE_FILE, "C:\\Data", "a.txt" },
		{ RULE_FILE, "C:\\Data", "a.tmp" },
		{ RULE_FILE, "C:\\Data", NULL },
		{ RULE_FILE, "C:\\Data\\Cache", "x.bin" },
		{ RULE_FILE, "C:\\Data\\Cache", "important.doc" },
		{ RULE_FILE, "C:\\Data\\Cache", NULL },
		{ RULE_FILE, "C:\\Data\\Temp", "t.txt" },
		{ RULE_FILE, "C:\\Users\\bob\\Documents", "r.docx" },
		{ RULE_FILE, "C:\\Users\\bob\\Documents", "r.txt" },
		{ RULE_FILE, "C:\\Users\\bob\\Downloads", "r.docx" },
		{ RULE_FILE, "C:\\Deep\\A\\B", "keep.txt" },
		{ RULE_FILE, "C:\\Deep\\A\\B", "drop.txt" },
		{ RULE_FILE, "C:\\Deep\\A", "keep.txt" },
		{ RULE_FILE, "C:\\Other", "mail.pst" },
		{ RULE_FILE, "C:\\Other\\Sub", "mail.pst" },
		{ RULE_FILE, "C:\\Other\\Sub", "mail.ost" },
		{ RULE_REGISTRY, "HKLM\\Software\\Data", "v" },
		{ RULE_REGISTRY, "HKLM\\Software\\Data\\Secret", "v" },
		{ RULE_REGISTRY, "HKLM\\Software\\Data\\Secret", NULL },
		{ RULE_REGISTRY, "C:\\Data", "a.txt" },
		{ RULE_FILE, "C:\\data", "B.TXT" },
		{ RULE_FILE, "C:\\Data\\Kept", NULL },
		{ RULE_FILE, "C:\\Data\\Kept", "k.txt" },
		{ RULE_FILE, "C:\\Deep", NULL },
		{ RULE_FILE, "C:\\Deep\\X", NULL },
		{ RULE_FILE, "C:\\Deep\\A\\C", NULL },
		{ RULE_REGISTRY, "HKLM\\Software\\Data\\Sub\\K", NULL },
		{ RULE_REGISTRY, "HKLM\\Software\\Data\\Sub\\K", "v" },
	};
	enum { N = sizeof(obj) / sizeof(obj[0]) };
	struct rule_set *rs = load_xml(xml);
	struct rule_sel *kept = sel_for(rs, NULL, RULE_CTX_SYSTEM, NULL);
	struct rule_decision d, got;
	char *want[N];           /* the deciding pattern (the selection owns d's) */
	int included[N];
	struct rule_sel *bare = sel_for(rs, NULL, RULE_CTX_SYSTEM, NULL);

	(void)state;
	rule_node_cache_free(bare->nodes);
	bare->nodes = NULL;
	for (size_t i = 0; i < N; i++) {
		included[i] = rule_sel_object(bare, obj[i].type, obj[i].node, obj[i].leaf, &d);
		want[i] = d.pattern ? ws_xstrdup(d.pattern) : NULL;
	}
	rule_sel_free(bare);
	/* the table holds a few of each verdict, with and without a leaf */
	assert_true(included[0] && !included[1] && !included[3] && included[4] &&
		    !included[6] && included[7] && !included[8] && included[10] &&
		    !included[11] && included[13] && !included[17] && included[N - 7] &&
		    included[N - 5] && included[N - 4] && !included[N - 3] && included[N - 2]);
	/* forwards, backwards and strided: more folders than the cache holds
	 * come between two questions about the same one */
	for (int pass = 0; pass < 3; pass++) {
		for (size_t k = 0; k < N; k++) {
			size_t i = pass == 0 ? k : pass == 1 ? N - 1 - k : (k * 7) % N;
			int inc = rule_sel_object(kept, obj[i].type, obj[i].node,
						  obj[i].leaf, &got);

			if (inc != included[i] || (want[i] == NULL) != (got.pattern == NULL) ||
			    (want[i] && strcmp(want[i], got.pattern)))
				fail_msg("pass %d, %s [%s]: got %d (%s), fresh %d (%s)", pass,
					 obj[i].node, obj[i].leaf ? obj[i].leaf : "(none)", inc,
					 got.pattern ? got.pattern : "-", included[i],
					 want[i] ? want[i] : "-");
		}
	}
	for (size_t i = 0; i < N; i++)
		free(want[i]);
	rule_sel_free(kept);
	rule_set_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(precedence_examples),
		cmocka_unit_test(components_independent_and_uncond_global),
		cmocka_unit_test(config_no_turns_component_off),
		cmocka_unit_test(context_narrowing),
		cmocka_unit_test(miguser_for_alice),
		cmocka_unit_test(miguser_documents_excludes_nested_music),
		cmocka_unit_test(migdocs_for_alice),
		cmocka_unit_test(unset_variable_skips_pattern_with_warning),
		cmocka_unit_test(roots_are_reduced),
		cmocka_unit_test(roots_without_wildcards),
		cmocka_unit_test(roots_ordered_and_covered_in_any_case),
		cmocka_unit_test(filters_answer_no_and_never_restore),
		cmocka_unit_test(node_cache_answers_as_fresh),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
