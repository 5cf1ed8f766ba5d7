/* test_catalog.c - the Windows settings catalog (rules/winstate-catalog-*.xml):
 * every file loads without a warning, group names are unique, and a
 * selection for user alice over the real Windows 10 hive NTUSER-WSL.DAT
 * picks the wallpaper, colours, accent, keyboard layouts and region values
 * while leaving UserChoice hashes, MRU lists and caches out. */
#include "tu.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "reg/reg.h"
#include "rules/rules.h"

static void warn_fn(void *ctx, int level, const char *where, const char *msg)
{
	struct ws_buf *b = ctx;

	ws_buf_addf(b, "%s: %s\n", where, msg);
}

/* Load every rules/winstate-catalog-*.xml; returns the number of files. */
static size_t load_catalog(struct rule_set *rs, struct ws_buf *msgs, unsigned *warnings)
{
	const char *src = getenv("WS_SOURCE_DIR");
	char *dir = ws_xasprintf("%s/rules", src ? src : ".");
	DIR *d = opendir(dir);
	struct dirent *de;
	struct ws_log log = { warn_fn, msgs, WS_LOG_WARN, 0, 0 };
	char *names[64];
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) && n < 64)
		if (!strncmp(de->d_name, "winstate-catalog-", 17) &&
		    strstr(de->d_name, ".xml"))
			names[n++] = ws_xasprintf("%s/%s", dir, de->d_name);
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		struct ws_error e;

		ws_error_clear(&e);
		tu_assert_ok(rule_set_load_file(rs, names[i], &log, &e), &e);
		free(names[i]);
	}
	free(dir);
	*warnings = log.warnings;
	return n;
}

static void catalog_loads_clean(void **state)
{
	struct rule_set *rs = rule_set_new();
	struct ws_buf msgs = WS_BUF_INIT;
	unsigned warnings;
	size_t nfiles = load_catalog(rs, &msgs, &warnings), nc;

	if (warnings)
		fail_msg("catalog warnings:\n%s", msgs.buf);
	assert_true(nfiles >= 5);
	nc = rule_set_component_count(rs);
	assert_true(nc >= 30);
	for (size_t i = 0; i < nc; i++) {
		struct rule_component_info a;

		rule_set_component(rs, i, &a);
		assert_int_equal(a.state, RULE_COMP_ACTIVE);
		/* "Category: group" names, unique, so Config.xml can switch each off */
		if (!strchr(a.name, ':'))
			fail_msg("component without a category prefix: %s", a.name);
		for (size_t j = 0; j < i; j++) {
			struct rule_component_info b;

			rule_set_component(rs, j, &b);
			if (!strcasecmp(a.name, b.name))
				fail_msg("duplicate displayName %s", a.name);
		}
	}
	ws_buf_release(&msgs);
	rule_set_free(rs);
}

/* The probe reads HKCU from the real hive (for ExtractSingleFile). */
struct hive_probe {
	struct reg_hive *h;
};

static const char *strip_hkcu(const char *key)
{
	if (!strncasecmp(key, "HKCU\\", 5))
		return key + 5;
	if (!strncasecmp(key, "HKEY_CURRENT_USER\\", 18))
		return key + 18;
	return NULL;
}

static int probe_reg_read(void *ctx, const char *key, const char *value,
			  uint32_t *type, struct ws_buf *data)
{
	struct hive_probe *hp = ctx;
	const char *rel = strip_hkcu(key);
	reg_node k = 0;
	struct reg_value v;
	int found = 0;

	if (!rel || reg_key_lookup(hp->h, reg_root(hp->h), rel, &k, NULL) || !k)
		return 0;
	if (reg_value_get(hp->h, k, value ? value : "", &v, &found, NULL) || !found)
		return 0;
	*type = v.type;
	ws_buf_add(data, v.data, v.len);
	reg_value_release(&v);
	return 1;
}

static int probe_exists(void *ctx, const char *path)
{
	return 1;
}

static struct rule_env *alice_env(int user)
{
	struct rule_env *env = rule_env_new();

	rule_env_set(env, "SYSTEMDRIVE", "C:");
	rule_env_set(env, "CSIDL_WINDOWS", "C:\\Windows");
	rule_env_set(env, "CSIDL_COMMON_APPDATA", "C:\\ProgramData");
	if (user) {
		rule_env_set(env, "CSIDL_PROFILE", "C:\\Users\\alice");
		rule_env_set(env, "CSIDL_APPDATA", "C:\\Users\\alice\\AppData\\Roaming");
		rule_env_set(env, "CSIDL_LOCAL_APPDATA", "C:\\Users\\alice\\AppData\\Local");
	}
	return env;
}

static struct rule_sel *select_for(const struct rule_set *rs, struct rule_env *env,
				   int ctx, struct rule_probe *probe)
{
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel = NULL;
	struct ws_error e;

	o.context = ctx;
	o.env = env;
	o.probe = probe;
	o.current_user = -1;
	ws_error_clear(&e);
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &e), &e);
	return sel;
}

struct walk {
	const struct rule_sel *sel;
	struct ws_buf selected;   /* "HKCU\key [value]\n" lines */
	size_t nvisited;
};

static int walk_fn(void *ctx, struct reg_hive *h, reg_node key, const char *path,
		   unsigned depth, const struct reg_value *vals, size_t n,
		   struct ws_error *err)
{
	struct walk *w = ctx;
	struct ws_buf full = WS_BUF_INIT, abs = WS_BUF_INIT;

	reg_key_path(h, key, &full, NULL);
	ws_buf_addf(&abs, "HKCU\\%s", full.buf);
	if (!rule_sel_dir(w->sel, RULE_REGISTRY, abs.buf)) {
		ws_buf_release(&full);
		ws_buf_release(&abs);
		return REG_WALK_SKIP;
	}
	for (size_t i = 0; i < n; i++) {
		w->nvisited++;
		if (rule_sel_reg(w->sel, abs.buf, vals[i].name, NULL))
			ws_buf_addf(&w->selected, "%s [%s]\n", abs.buf, vals[i].name);
	}
	ws_buf_release(&full);
	ws_buf_release(&abs);
	return WS_OK;
}

static void assert_has(const struct ws_buf *b, const char *line, int want)
{
	char *l = ws_xasprintf("%s\n", line);
	/* the hive spells some keys in capitals ("SOFTWARE"): compare as Windows does */
	int has = strcasestr(b->buf, l) != NULL;

	free(l);
	if (has != want)
		fail_msg("%s %s", line, want ? "not selected" : "selected but must not be");
}

static void selection_on_real_windows10_hive(void **state)
{
	char *dir = tu_tmpdir();
	char *path = tu_testdata_hive("hives/regipy/NTUSER-WSL.DAT", dir);
	struct rule_set *rs;
	struct ws_buf msgs = WS_BUF_INIT;
	unsigned warnings;
	struct hive_probe hp;
	struct rule_probe probe;
	struct rule_env *env;
	struct rule_sel *sel;
	struct walk w;
	struct ws_error e;
	struct rule_decision d;

	if (!path) {
		free(dir);
		skip();
	}
	ws_error_clear(&e);
	tu_assert_ok(reg_hive_open(path, 0, &hp.h, &e), &e);
	rs = rule_set_new();
	load_catalog(rs, &msgs, &warnings);
	memset(&probe, 0, sizeof(probe));
	probe.ctx = &hp;
	probe.reg_read = probe_reg_read;
	probe.file_exists = probe_exists;
	probe.os_major = 10;
	probe.os_build = 19041;
	probe.native64 = 1;
	env = alice_env(1);
	sel = select_for(rs, env, RULE_CTX_USER, &probe);

	memset(&w, 0, sizeof(w));
	w.sel = sel;
	ws_buf_init(&w.selected);
	for (size_t i = 0; i < rule_sel_root_count(sel, RULE_REGISTRY); i++) {
		const char *root = rule_sel_root(sel, RULE_REGISTRY, i);
		const char *rel = strip_hkcu(root);
		reg_node k = 0;

		assert_non_null(rel);
		tu_assert_ok(reg_key_lookup(hp.h, reg_root(hp.h), rel, &k, &e), &e);
		if (k)
			tu_assert_ok(reg_walk(hp.h, k, 0, REG_WALK_VALUES, walk_fn, &w, &e), &e);
	}
	assert_true(w.nvisited > 100);

	/* wallpaper, dark/light mode, accent */
	assert_has(&w.selected, "HKCU\\Control Panel\\Desktop [WallPaper]", 1);
	assert_has(&w.selected, "HKCU\\Control Panel\\Desktop [WallpaperStyle]", 1);
	assert_has(&w.selected, "HKCU\\Control Panel\\Desktop [TileWallpaper]", 1);
	assert_has(&w.selected, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Themes\\Personalize [AppsUseLightTheme]", 1);
	assert_has(&w.selected, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Themes\\Personalize [SystemUsesLightTheme]", 1);
	assert_has(&w.selected, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Accent [AccentColorMenu]", 1);
	assert_has(&w.selected, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Accent [AccentPalette]", 1);
	assert_has(&w.selected, "HKCU\\Software\\Microsoft\\Windows\\DWM [AccentColor]", 1);
	assert_has(&w.selected, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Themes [CurrentTheme]", 1);
	/* keyboard layouts fr-FR + en-GB, languages, region */
	assert_has(&w.selected, "HKCU\\Keyboard Layout\\Preload [1]", 1);
	assert_has(&w.selected, "HKCU\\Keyboard Layout\\Preload [2]", 1);
	assert_has(&w.selected, "HKCU\\Control Panel\\International\\User Profile [Languages]", 1);
	assert_has(&w.selected, "HKCU\\Control Panel\\Desktop [PreferredUILanguages]", 1);
	assert_has(&w.selected, "HKCU\\Control Panel\\International [LocaleName]", 1);
	assert_has(&w.selected, "HKCU\\Control Panel\\International [sCurrency]", 1);
	assert_has(&w.selected, "HKCU\\Control Panel\\International\\Geo [Nation]", 1);
	/* others from the hive */
	assert_has(&w.selected, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced [HideFileExt]", 1);
	assert_has(&w.selected, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\PrecisionTouchPad [TapsEnabled]", 1);
	assert_has(&w.selected, "HKCU\\System\\GameConfigStore [GameDVR_Enabled]", 1);
	assert_has(&w.selected, "HKCU\\Control Panel\\Accessibility\\StickyKeys [Flags]", 1);
	assert_has(&w.selected, "HKCU\\Control Panel\\Mouse [MouseSensitivity]", 1);

	/* caches, MRUs, hashes, hardware state: not selected */
	assert_has(&w.selected, "HKCU\\Control Panel\\Desktop [TranscodedImageCache]", 0);
	assert_has(&w.selected, "HKCU\\Control Panel\\Desktop [PreviousPreferredUILanguages]", 0);
	assert_has(&w.selected, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\FileExts\\.txt\\UserChoice [Hash]", 0);
	assert_has(&w.selected, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs [MRUListEx]", 0);
	assert_has(&w.selected, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Wallpapers [BackgroundHistoryPath0]", 0);
	assert_has(&w.selected, "HKCU\\System\\GameConfigStore [Win32_GameModeRelatedProcesses]", 0);
	assert_has(&w.selected, "HKCU\\Software\\Microsoft\\Windows\\DWM [EnableAeroPeek]", 0);
	assert_null(strcasestr(w.selected.buf, "\\UserAssist\\"));
	assert_null(strcasestr(w.selected.buf, "\\ComDlg32\\"));
	/* Of the cloud data store cache only the Windows 10 Start tiles, captured
	 * for apply to translate into a Start pins list, never written back. */
	{
		const char *p = w.selected.buf;
		int tiles = 0;

		while ((p = strcasestr(p, "\\CloudStore\\"))) {
			const char *eol = strchr(p, '\n');

			assert_non_null(eol);
			assert_true(memmem(p, (size_t)(eol - p), "$start.tilegrid$", 16) != NULL);
			assert_true(memmem(p, (size_t)(eol - p), "\\Current [Data]", 15) != NULL);
			tiles++;
			p = eol;
		}
		assert_int_equal(tiles, 1);
		assert_int_equal(rule_sel_reg(sel, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\"
					      "CloudStore\\Store\\Cache\\DefaultAccount\\$de${1}$start.tilegrid$"
					      "windows.data.curatedtilecollection.tilecollection\\Current",
					      "Data", &d), 1);
		assert_true(d.never_restore);
	}
	assert_null(strcasestr(w.selected.buf, "\\PrecisionTouchPad\\Status ["));

	/* the default-app choice is recorded but never written back */
	assert_int_equal(rule_sel_reg(sel, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\FileExts\\.txt\\UserChoice",
				      "ProgId", &d), 1);
	assert_true(d.never_restore);
	assert_int_equal(rule_sel_reg(sel, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\FileExts\\.txt\\UserChoice",
				      "Hash", &d), 0);
	assert_int_equal(rule_sel_reg(sel, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\FileExts\\.txt\\OpenWithList",
				      "a", &d), 0);

	/* files: the image WallPaper names (ExtractSingleFile through the probe),
	 * the transcoded copy, Start pins, Quick access but no other jump list */
	assert_int_equal(rule_sel_file(sel, "C:\\Windows\\web\\wallpaper\\Windows\\img0.jpg", &d), 1);
	assert_string_equal(d.component, "Personalization: wallpaper");
	assert_int_equal(rule_sel_file(sel, "C:\\Windows\\web\\wallpaper\\Windows\\img1.jpg", NULL), 0);
	assert_int_equal(rule_sel_file(sel, "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Windows\\Themes\\TranscodedWallpaper", NULL), 1);
	assert_int_equal(rule_sel_file(sel, "C:\\Users\\alice\\AppData\\Local\\Packages\\Microsoft.Windows.StartMenuExperienceHost_cw5n1h2txyewy\\LocalState\\start2.bin", NULL), 1);
	assert_int_equal(rule_sel_file(sel, "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Windows\\Recent\\AutomaticDestinations\\f01b4d95cf55d32a.automaticDestinations-ms", NULL), 1);
	assert_int_equal(rule_sel_file(sel, "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Windows\\Recent\\AutomaticDestinations\\5f7b5f1e01b83767.automaticDestinations-ms", NULL), 0);
	assert_int_equal(rule_sel_file(sel, "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Spelling\\en-GB\\default.dic", NULL), 1);
	assert_int_equal(rule_sel_file(sel, "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Internet Explorer\\Quick Launch\\User Pinned\\TaskBar\\Edge.lnk", NULL), 1);
	assert_int_equal(rule_sel_file(sel, "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Windows\\Fonts\\Inter.ttf", NULL), 1);
	/* Wi-Fi profiles are machine data: not in a user pass */
	assert_int_equal(rule_sel_file(sel, "C:\\ProgramData\\Microsoft\\Wlansvc\\Profiles\\Interfaces\\{6E5F0C4A-1111-2222-3333-444455556666}\\{A1}.xml", NULL), 0);

	rule_sel_free(sel);
	rule_env_free(env);

	/* an admin switches the wallpaper group off in Config.xml */
	assert_int_equal(rule_set_disable(rs, "Personalization: wallpaper"), 1);
	env = alice_env(1);
	sel = select_for(rs, env, RULE_CTX_USER, &probe);
	assert_int_equal(rule_sel_reg(sel, "HKCU\\Control Panel\\Desktop", "WallPaper", NULL), 0);
	assert_int_equal(rule_sel_reg(sel, "HKCU\\Control Panel\\Desktop", "PreferredUILanguages", NULL), 1);
	rule_sel_free(sel);
	rule_env_free(env);

	ws_buf_release(&w.selected);
	ws_buf_release(&msgs);
	rule_set_free(rs);
	reg_hive_close(hp.h);
	free(path);
	free(dir);
}

static void wifi_profiles_in_system_pass(void **state)
{
	struct rule_set *rs = rule_set_new();
	struct ws_buf msgs = WS_BUF_INIT;
	unsigned warnings;
	struct rule_env *env = alice_env(0);
	struct rule_sel *sel;

	load_catalog(rs, &msgs, &warnings);
	sel = select_for(rs, env, RULE_CTX_SYSTEM, NULL);
	assert_int_equal(rule_sel_file(sel, "C:\\ProgramData\\Microsoft\\Wlansvc\\Profiles\\Interfaces\\{6E5F0C4A-1111-2222-3333-444455556666}\\{A1}.xml", NULL), 1);
	assert_int_equal(rule_sel_file(sel, "C:\\ProgramData\\Microsoft\\Wlansvc\\Profiles\\Interfaces\\{6E5F0C4A-1111-2222-3333-444455556666}\\notes.txt", NULL), 0);
	/* nothing of the user's hive in the system pass */
	assert_int_equal(rule_sel_reg(sel, "HKCU\\Control Panel\\Desktop", "WallPaper", NULL), 0);
	rule_sel_free(sel);
	rule_env_free(env);
	ws_buf_release(&msgs);
	rule_set_free(rs);
}

static void catalog_loads_beside_the_other_rule_files(void **state)
{
	static const char *others[] = { "winstate-userdata.xml", "winstate-docs.xml",
					"winstate-apps.xml", "winstate-settings.xml" };
	const char *src = getenv("WS_SOURCE_DIR");
	struct rule_set *rs = rule_set_new();
	struct ws_buf msgs = WS_BUF_INIT;
	struct ws_log log = { warn_fn, &msgs, WS_LOG_WARN, 0, 0 };
	unsigned warnings;
	size_t before;

	/* distinct urlids: no file is skipped as "already loaded" */
	load_catalog(rs, &msgs, &warnings);
	before = rule_set_component_count(rs);
	for (size_t i = 0; i < 4; i++) {
		char *p = ws_xasprintf("%s/rules/%s", src ? src : ".", others[i]);
		struct ws_error e;

		ws_error_clear(&e);
		if (rule_set_load_file(rs, p, &log, &e) != WS_OK)
			fail_msg("%s does not load", p);
		free(p);
	}
	if (warnings || log.warnings)
		fail_msg("warnings:\n%s", msgs.buf);
	assert_true(rule_set_component_count(rs) > before);
	assert_int_equal(rule_set_file_count(rs), 12);
	ws_buf_release(&msgs);
	rule_set_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(catalog_loads_clean),
		cmocka_unit_test(catalog_loads_beside_the_other_rule_files),
		cmocka_unit_test(selection_on_real_windows10_hive),
		cmocka_unit_test(wifi_profiles_in_system_pass),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tu_cleanup();
	return rc;
}
