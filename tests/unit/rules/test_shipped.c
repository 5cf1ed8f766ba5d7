/* test_shipped.c - winstate's own rule files in rules/: they load without a
 * warning and select what they promise for a user alice. */
#include "tu.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rules/rules.h"

static int any_exists(void *ctx, const char *path)
{
	return 1; /* every known folder exists on this fake volume */
}

struct fixture {
	struct rule_set *rs;
	struct rule_env *env;
	struct rule_sel *sel;
	struct rule_probe probe;
};

static void load_all(struct fixture *fx, int ctx)
{
	static const char *files[] = { "winstate-userdata.xml", "winstate-docs.xml",
				       "winstate-apps.xml", "winstate-settings.xml" };
	const char *src = getenv("WS_SOURCE_DIR");
	char *dir;
	struct ws_log log = { 0 };
	struct ws_error err;
	struct rule_sel_opts o = { 0 };

	setenv("WS_RULES_DIR", src ? src : ".", 1);
	/* WS_RULES_DIR names the folder itself */
	{
		char p[4096];

		snprintf(p, sizeof(p), "%s/rules", src ? src : ".");
		setenv("WS_RULES_DIR", p, 1);
	}
	dir = rule_default_dir(NULL);
	assert_non_null(dir);
	log.max_level = WS_LOG_DEBUG;
	fx->rs = rule_set_new();
	for (size_t i = 0; i < 4; i++) {
		char p[4096];

		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		ws_error_clear(&err);
		tu_assert_ok(rule_set_load_file(fx->rs, p, &log, &err), &err);
	}
	free(dir);
	assert_int_equal(log.warnings, 0);
	fx->env = rule_env_new();
	rule_env_set(fx->env, "SYSTEMDRIVE", "C:");
	rule_env_set(fx->env, "CSIDL_WINDOWS", "C:\\Windows");
	rule_env_set(fx->env, "CSIDL_PROGRAM_FILES", "C:\\Program Files");
	rule_env_set(fx->env, "CSIDL_PROGRAM_FILESX86", "C:\\Program Files (x86)");
	rule_env_set(fx->env, "CSIDL_COMMON_APPDATA", "C:\\ProgramData");
	rule_env_set(fx->env, "PROFILESFOLDER", "C:\\Users");
	rule_env_set(fx->env, "CSIDL_COMMON_DOCUMENTS", "C:\\Users\\Public\\Documents");
	rule_env_set(fx->env, "CSIDL_COMMON_DESKTOPDIRECTORY", "C:\\Users\\Public\\Desktop");
	if (ctx == RULE_CTX_USER) {
		rule_env_set(fx->env, "CSIDL_PROFILE", "C:\\Users\\alice");
		rule_env_set(fx->env, "CSIDL_PERSONAL", "%CSIDL_PROFILE%\\Documents");
		rule_env_set(fx->env, "CSIDL_DESKTOP", "%CSIDL_PROFILE%\\Desktop");
		rule_env_set(fx->env, "CSIDL_MYPICTURES", "%CSIDL_PROFILE%\\Pictures");
		rule_env_set(fx->env, "CSIDL_MYMUSIC", "%CSIDL_PROFILE%\\Music");
		rule_env_set(fx->env, "CSIDL_MYVIDEO", "%CSIDL_PROFILE%\\Videos");
		rule_env_set(fx->env, "CSIDL_FAVORITES", "%CSIDL_PROFILE%\\Favorites");
		rule_env_set(fx->env, "CSIDL_APPDATA", "%CSIDL_PROFILE%\\AppData\\Roaming");
		rule_env_set(fx->env, "CSIDL_LOCAL_APPDATA", "%CSIDL_PROFILE%\\AppData\\Local");
	}
	memset(&fx->probe, 0, sizeof(fx->probe));
	fx->probe.file_exists = any_exists;
	o.context = ctx;
	o.env = fx->env;
	o.probe = &fx->probe;
	o.log = &log;
	o.current_user = -1;
	tu_assert_ok(rule_sel_new(fx->rs, &o, &fx->sel, &err), &err);
	if (log.warnings)
		fail_msg("%u warnings while compiling the shipped rules", log.warnings);
}

static void release(struct fixture *fx)
{
	rule_sel_free(fx->sel);
	rule_env_free(fx->env);
	rule_set_free(fx->rs);
}

struct expect {
	const char *path;
	int migrated;
};

static void user_pass(void **state)
{
	static const struct expect e[] = {
		{ "C:\\Users\\alice\\Documents\\report.docx", 1 },
		{ "C:\\Users\\alice\\Documents\\sub\\~$report.docx", 0 },
		{ "C:\\Users\\alice\\Documents\\sub\\x.tmp", 0 },
		{ "C:\\Users\\alice\\Desktop\\todo.txt", 1 },
		{ "C:\\Users\\alice\\Downloads\\setup.exe", 1 },
		{ "C:\\Users\\alice\\Pictures\\Thumbs.db", 0 },
		{ "C:\\Users\\alice\\Pictures\\2024\\a.heic", 1 },
		{ "C:\\Users\\alice\\Music\\a.flac", 1 },
		{ "C:\\Users\\alice\\Videos\\v.mkv", 1 },
		{ "C:\\Users\\alice\\Favorites\\Links\\x.url", 1 },
		/* documents elsewhere in the profile, not application data */
		{ "C:\\Users\\alice\\Projects\\plan.xlsx", 1 },
		{ "C:\\Users\\alice\\Projects\\tool.exe", 0 },
		{ "C:\\Users\\alice\\AppData\\Local\\Vendor\\x.docx", 0 },
		{ "C:\\Users\\alice\\AppData\\Local\\Temp\\x.docx", 0 },
		/* browsers without caches */
		{ "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Edge\\User Data\\Default\\Bookmarks", 1 },
		{ "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Edge\\User Data\\Local State", 1 },
		{ "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Edge\\User Data\\Default\\Cache\\Cache_Data\\f_000001", 0 },
		{ "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Edge\\User Data\\Profile 1\\Code Cache\\js\\index", 0 },
		{ "C:\\Users\\alice\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Login Data", 1 },
		{ "C:\\Users\\alice\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\GPUCache\\data_0", 0 },
		{ "C:\\Users\\alice\\AppData\\Roaming\\Mozilla\\Firefox\\profiles.ini", 1 },
		{ "C:\\Users\\alice\\AppData\\Roaming\\Mozilla\\Firefox\\Profiles\\ab.default\\places.sqlite", 1 },
		{ "C:\\Users\\alice\\AppData\\Roaming\\Mozilla\\Firefox\\Profiles\\ab.default\\cache2\\entries\\1", 0 },
		{ "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Signatures\\Work.htm", 1 },
		{ "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Templates\\Normal.dotm", 1 },
		{ "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\UProof\\CUSTOM.DIC", 1 },
		{ "C:\\Users\\alice\\AppData\\Local\\Packages\\Microsoft.MicrosoftStickyNotes_8wekyb3d8bbwe\\LocalState\\plum.sqlite", 1 },
		{ "C:\\Users\\alice\\AppData\\Local\\Packages\\Other_x\\LocalState\\a.db", 0 },
		{ "C:\\Windows\\win.ini", 0 },
	};
	struct fixture fx;

	load_all(&fx, RULE_CTX_USER);
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		struct rule_decision d;
		int got = rule_sel_file(fx.sel, e[i].path, &d);

		if (got != e[i].migrated)
			fail_msg("%s: expected %d, got %d (%s %s:%ld %s)", e[i].path, e[i].migrated,
				 got, rule_kind_name(d.kind), d.file ? d.file : "-", d.line,
				 d.pattern ? d.pattern : "");
	}
	assert_true(rule_sel_reg(fx.sel, "HKCU\\Control Panel\\Desktop", "WallPaper", NULL));
	assert_false(rule_sel_reg(fx.sel, "HKCU\\Control Panel\\Desktop", "ScreenSaveActive", NULL));
	assert_true(rule_sel_reg(fx.sel, "HKCU\\Control Panel\\International\\Geo", "Nation", NULL));
	assert_true(rule_sel_reg(fx.sel, "HKCU\\Keyboard Layout\\Preload", "1", NULL));
	assert_true(rule_sel_reg(fx.sel, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced",
				 "HideFileExt", NULL));
	assert_true(rule_sel_reg(fx.sel, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Themes\\Personalize",
				 "AppsUseLightTheme", NULL));
	assert_true(rule_sel_reg(fx.sel, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Accent",
				 "AccentPalette", NULL));
	assert_true(rule_sel_reg(fx.sel, "HKCU\\Control Panel\\Mouse", "MouseSpeed", NULL));
	assert_false(rule_sel_dir(fx.sel, RULE_REGISTRY, "HKCU\\Software\\Classes"));
	assert_false(rule_sel_dir(fx.sel, RULE_FILE, "C:\\Windows"));
	assert_true(rule_sel_root_count(fx.sel, RULE_REGISTRY) >= 6);
	release(&fx);
}

static void system_pass(void **state)
{
	struct fixture fx;

	load_all(&fx, RULE_CTX_SYSTEM);
	assert_true(rule_sel_file(fx.sel, "C:\\Users\\Public\\Documents\\shared.xlsx", NULL));
	assert_true(rule_sel_file(fx.sel, "C:\\Data\\report.pdf", NULL));
	assert_false(rule_sel_file(fx.sel, "C:\\Program Files\\App\\readme.txt", NULL));
	assert_false(rule_sel_file(fx.sel, "C:\\Users\\alice\\Documents\\report.docx", NULL));
	assert_false(rule_sel_reg(fx.sel, "HKCU\\Control Panel\\Desktop", "WallPaper", NULL));
	release(&fx);
}

static void default_dir_lookup(void **state)
{
	char *d;

	setenv("WS_RULES_DIR", "/nonexistent-winstate-rules", 1);
	d = rule_default_dir("/nonexistent-bin");
	assert_null(d);
	unsetenv("WS_RULES_DIR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(user_pass),
		cmocka_unit_test(system_pass),
		cmocka_unit_test(default_dir_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
