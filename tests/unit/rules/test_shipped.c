/* test_shipped.c - winstate's own rule files in rules/: they load without a
 * warning, select what they promise for a user alice, and decide the same
 * with the selection's node cache as without it. */
#include "tu.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rules/rules.h"
#include "rules/rules_private.h"

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

/* A selection of the fixture's rules in context ctx. */
static struct rule_sel *sel_new(struct fixture *fx, int ctx)
{
	struct ws_log log = { 0 };
	struct ws_error err;
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel = NULL;

	log.max_level = WS_LOG_DEBUG;
	o.context = ctx;
	o.env = fx->env;
	o.probe = &fx->probe;
	o.log = &log;
	o.current_user = -1;
	ws_error_clear(&err);
	tu_assert_ok(rule_sel_new(fx->rs, &o, &sel, &err), &err);
	if (log.warnings)
		fail_msg("%u warnings while compiling the shipped rules", log.warnings);
	return sel;
}

static void load_all(struct fixture *fx, int ctx)
{
	static const char *files[] = { "winstate-userdata.xml", "winstate-docs.xml",
				       "winstate-apps.xml", "winstate-settings.xml" };
	const char *src = getenv("WS_SOURCE_DIR");
	char *dir;
	struct ws_log log = { 0 };
	struct ws_error err;

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
	fx->sel = sel_new(fx, ctx);
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

/*
 * The node cache (candidates per folder, bucketed by a leaf's last byte)
 * gives every object the verdict and deciding pattern that testing every
 * pattern gives: files of many kinds in the folders the shipped rules name,
 * asked in an order that makes the cache forget and find folders again;
 * leaves of every length around the 8 bytes the tails hold, in any case,
 * with the extensions the rules name and others, folders themselves, and
 * registry values.
 */
static void check_cached_as_uncached(int ctx)
{
	static const char *const nodes[] = {
		"C:\\Users\\alice\\Documents", "C:\\Users\\alice\\Documents\\sub",
		"C:\\Users\\alice\\Desktop", "C:\\Users\\alice\\Downloads",
		"C:\\Users\\alice\\Pictures\\2024", "C:\\Users\\alice\\Music",
		"C:\\Users\\alice\\Favorites\\Links", "C:\\Users\\alice\\Projects",
		"C:\\Users\\alice", "C:\\Users\\alice\\AppData\\Local\\Vendor",
		"C:\\Users\\alice\\AppData\\Local\\Temp",
		"C:\\Users\\alice\\AppData\\Local\\Microsoft\\Edge\\User Data\\Default",
		"C:\\Users\\alice\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Cache",
		"C:\\Users\\alice\\AppData\\Roaming\\Mozilla\\Firefox\\Profiles\\ab.default",
		"C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Signatures",
		"C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Templates",
		"C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu",
		"C:\\Users\\Public\\Documents", "C:\\Users\\Public\\Desktop", "C:\\Data",
		"C:\\Data\\Old", "C:\\ProgramData\\Microsoft", "C:\\Program Files\\App",
		"C:\\Windows", "C:\\", "D:\\Share",
	};
	static const char *const leaves[] = {
		"report.docx", "REPORT.DOCX", "Report.Docx", "~$report.docx", "x.tmp", "X.TMP",
		"Thumbs.db", "thumbs.DB", "desktop.ini", "DESKTOP.INI", "a.pst", "mail.ost",
		"book.xlsx", "deck.pptx", "n.txt", "n.md", "scan.pdf", "link.lnk", "site.url",
		"photo.jpg", "photo.heic", "song.flac", "v.mkv", "setup.exe", "lib.dll",
		"places.sqlite", "Bookmarks", "Local State", "Login Data", "profiles.ini",
		"Normal.dotm", "CUSTOM.DIC", "Work.htm", "NTUSER.DAT", "ntuser.dat.LOG1",
		"a", "ab", "x.y", "1234567", "12345678", "123456789", ".tmp", "a.tmp.bak",
		"tmp", "noext", "\xc3\xa9t\xc3\xa9.docx", "\xc3\x89T\xc3\x89.TMP", "caf\xc3\xa9",
		"trailing.", "file.docx ", "index", "f_000001", "data_0",
		NULL, /* the folder itself */
	};
	static const struct { const char *key, *value; } regs[] = {
		{ "HKCU\\Control Panel\\Desktop", "WallPaper" },
		{ "HKCU\\Control Panel\\Desktop", "ScreenSaveActive" },
		{ "HKCU\\Control Panel\\Mouse", "MouseSpeed" },
		{ "HKCU\\Keyboard Layout\\Preload", "1" },
		{ "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced", "HideFileExt" },
		{ "HKCU\\Software\\Classes", "x" },
		{ "HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion", "ProductName" },
	};
	enum { NN = sizeof(nodes) / sizeof(nodes[0]), NL = sizeof(leaves) / sizeof(leaves[0]) };
	struct fixture fx;
	struct rule_sel *cached;
	size_t asked = 0, migrated = 0;

	/* two selections of the same rules: the fixture's loses its cache */
	load_all(&fx, ctx);
	cached = sel_new(&fx, ctx);
	rule_node_cache_free(fx.sel->nodes);
	fx.sel->nodes = NULL;
	for (int pass = 0; pass < 3; pass++) {
		for (size_t k = 0; k < NN * NL; k++) {
			/* pass 0 walks folder by folder; 1 and 2 jump between them */
			size_t i = pass == 0 ? k : (k * (pass == 1 ? 7 : 31)) % (NN * NL);
			const char *node = nodes[i / NL], *leaf = leaves[i % NL];
			struct rule_decision want, got;
			int w = rule_sel_object(fx.sel, RULE_FILE, node, leaf, &want);
			int g = rule_sel_object(cached, RULE_FILE, node, leaf, &got);

			if (w != g || want.kind != got.kind ||
			    (want.pattern == NULL) != (got.pattern == NULL) ||
			    (want.pattern && strcmp(want.pattern, got.pattern)))
				fail_msg("%s [%s]: cached %d (%s), uncached %d (%s)", node,
					 leaf ? leaf : "(none)", g,
					 got.pattern ? got.pattern : "-", w,
					 want.pattern ? want.pattern : "-");
			asked++;
			migrated += (size_t)g;
		}
	}
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		struct rule_decision want, got;
		int w = rule_sel_object(fx.sel, RULE_REGISTRY, regs[i].key, regs[i].value, &want);
		int g = rule_sel_object(cached, RULE_REGISTRY, regs[i].key, regs[i].value, &got);

		if (w != g || want.kind != got.kind)
			fail_msg("%s [%s]: cached %d, uncached %d", regs[i].key, regs[i].value, g, w);
	}
	/* both verdicts are well represented (user 38 %, system 10 %) */
	assert_int_equal(asked, 3 * NN * NL);
	assert_true(migrated > asked / 20 && migrated < asked - asked / 20);
	rule_sel_free(cached);
	release(&fx);
}

static void cached_decisions_are_uncached_ones(void **state)
{
	(void)state;
	check_cached_as_uncached(RULE_CTX_USER);
	check_cached_as_uncached(RULE_CTX_SYSTEM);
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
		cmocka_unit_test(cached_decisions_are_uncached_ones),
		cmocka_unit_test(default_dir_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
