/* test_ini.c - INI files read by content filters (profiles.ini naming
 * Mozilla profiles wherever they are kept): the INI reader on what editors
 * and users leave (byte order marks, CRLF, a lone CR, no end of line, NUL
 * bytes), the check of a path found in a source's content, and
 * ExtractDirectory over Ini locations in a selection through a fake probe:
 * relative and absolute profiles taken, their caches left out by the
 * PatternSuffix, hostile entries refused with a warning naming file and line. */
#include "tu.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rules/rules_private.h"
#include "rules/rules.h"

/* ------------------------------ the reader ------------------------------ */

static int collect(void *arg, const char *section, const char *value, long line)
{
	ws_buf_addf(arg, "%s:%ld=%s;", section, line, value);
	return 0;
}

static void each(const char *text, size_t len, const char *sec, const char *key,
		 const char *want)
{
	struct ws_buf got = WS_BUF_INIT, txt = WS_BUF_INIT;

	rule_ini_text(text, len, &txt);
	assert_int_equal(rule_ini_each(txt.buf, txt.len, sec, key, collect, &got), 0);
	assert_string_equal(got.buf, want);
	ws_buf_release(&got);
	ws_buf_release(&txt);
}

static void ini_reader_line_ends_and_marks(void **state)
{
	static const char crlf[] = "[Profile0]\r\nPath=Profiles/a.default\r\n\r\n"
				   "[Profile1]\r\nIsRelative=0\r\nPath=D:\\FF\\b.default\r\n";
	static const char bom[] = "\xef\xbb\xbf[Profile0]\nPath=x\n";
	static const char cr[] = "[Profile0]\rPath=a\r[General]\rPath=no\r[profile9]\rpath = b ";
	static const char noeol[] = "[Profile0]\nName=n\nPath=last";
	static const char u16[] = "\xff\xfe[\0P\0]\0\n\0P\0a\0t\0h\0=\0w\0";
	static const char nul[] = "[Profile0]\nPath=a\0b\nPath=c\n";
	static const char junk[] = "[Profile0\nPath=a\n]\nPath=b\n= \n;Path=c\n[Profile1]\n Path = d \n";

	each(crlf, sizeof(crlf) - 1, "Profile*", "Path",
	     "Profile0:2=Profiles/a.default;Profile1:6=D:\\FF\\b.default;");
	each(bom, sizeof(bom) - 1, "Profile0", "Path", "Profile0:2=x;");
	each(cr, sizeof(cr) - 1, "Profile*", "Path", "Profile0:2=a;profile9:6=b;");
	each(noeol, sizeof(noeol) - 1, "Profile*", "Path", "Profile0:3=last;");
	each(u16, sizeof(u16) - 1, "P", "Path", "P:2=w;");
	/* a line with a NUL is no setting; the next one is */
	each(nul, sizeof(nul) - 1, "*", "Path", "Profile0:3=c;");
	/* a section without its ']' ends the section before it: nothing
	 * until the next real one; comments are not settings */
	each(junk, sizeof(junk) - 1, "Profile*", "Path", "Profile1:8=d;");
	each("", 0, "*", "Path", "");
}

/* --------------------------- paths from content -------------------------- */

static void content_path(const char *value, const char *base, const char *want)
{
	struct ws_buf out = WS_BUF_INIT;
	const char *why = rule_content_path(value, base, &out);

	if (want) {
		assert_null(why);
		assert_string_equal(out.buf, want);
	} else {
		assert_non_null(why);
		assert_int_equal(out.len, 0);
	}
	ws_buf_release(&out);
}

static void content_paths_checked(void **state)
{
	const char *base = "C:\\Users\\alice\\AppData\\Roaming\\Mozilla\\Firefox";

	(void)state;
	content_path("Profiles/k2x9.default-release", base,
		     "C:\\Users\\alice\\AppData\\Roaming\\Mozilla\\Firefox\\Profiles\\k2x9.default-release");
	content_path("d:\\FirefoxProfiles\\abc.default\\", base, "D:\\FirefoxProfiles\\abc.default");
	content_path("C:/Users/alice/Documents/ff/xyz", NULL, "C:\\Users\\alice\\Documents\\ff\\xyz");
	content_path("C:\\ff [old]\\x", NULL, "C:\\ff [old]\\x");
	/* refused: climbing out, shares, paths without a drive, odd names */
	content_path("Profiles/../../../../Windows", base, NULL);
	content_path("C:\\Users\\alice\\..\\bob\\x", NULL, NULL);
	content_path("C:\\a\\.\\b", NULL, NULL);
	content_path("\\\\nas\\profiles\\x.default", base, NULL);
	content_path("//nas/profiles/x", base, NULL);
	content_path("\\\\?\\C:\\x", base, NULL);
	content_path("\\Profiles\\x", base, NULL);
	content_path("D:Profiles\\x", base, NULL);
	content_path("Profiles/x", NULL, NULL);
	content_path("C:\\a*\\b", NULL, NULL);
	content_path("C:\\a\\b:stream", NULL, NULL);
	content_path("C:\\a\\\\b", NULL, NULL);
	content_path("C:\\a\tb", NULL, NULL);
	content_path("", base, NULL);
}

/* ------------------------- through a selection ------------------------- */

struct fake_file {
	const char *path;
	const char *text;      /* NULL: a folder */
	size_t len;            /* 0: strlen(text) */
};

struct fake {
	const struct fake_file *files;
	size_t big;            /* > 0: profiles.ini of that many bytes */
};

static const struct fake_file *find(const struct fake *f, const char *path)
{
	for (size_t i = 0; f->files[i].path; i++)
		if (!strcasecmp(f->files[i].path, path))
			return &f->files[i];
	return NULL;
}

static int f_exists(void *ctx, const char *path)
{
	const struct fake *f = ctx;

	if (!strcasecmp(path, "C:\\"))
		return 1;
	return find(f, path) != NULL;
}

static int f_read(void *ctx, const char *path, size_t max, struct ws_buf *out)
{
	const struct fake *f = ctx;
	const struct fake_file *ff = find(f, path);
	size_t n;

	if (!ff || !ff->text)
		return 0;
	if (f->big) {
		/* a valid INI, only too large to be what Firefox writes */
		ws_buf_adds(out, "[Profile0]\nPath=C:\\Huge\\p\n");
		while (out->len < f->big && out->len < max)
			ws_buf_adds(out, "; padding padding padding padding padding\n");
		if (out->len > f->big)
			ws_buf_setlen(out, f->big);
		return 1;
	}
	n = ff->len ? ff->len : strlen(ff->text);
	ws_buf_add(out, ff->text, n < max ? n : max);
	return 1;
}

#define FFDIR "C:\\Users\\alice\\AppData\\Roaming\\Mozilla\\Firefox"

static const char mozilla_xml[] =
	"<migration urlid=\"z\"><component type=\"Application\" context=\"User\">"
	"<displayName>Mozilla Firefox profiles</displayName><role role=\"Settings\"><rules>"
	"<include><objectSet>"
	"<pattern type=\"File\">%CSIDL_APPDATA%\\Mozilla\\Firefox\\* [*]</pattern>"
	"<content filter='MigXmlHelper.ExtractDirectory(NULL, \"0\")'><objectSet>"
	"<pattern type=\"Ini\">%CSIDL_APPDATA%\\Mozilla\\Firefox\\profiles.ini|Profile* [Path]</pattern>"
	"<pattern type=\"Ini\">%CSIDL_APPDATA%\\Mozilla\\Firefox\\installs.ini|* [Default]</pattern>"
	"</objectSet></content></objectSet></include>"
	"<unconditionalExclude><objectSet>"
	"<content filter='MigXmlHelper.ExtractDirectory(NULL, \"0\", \"cache2\\* [*]\")'><objectSet>"
	"<pattern type=\"Ini\">%CSIDL_APPDATA%\\Mozilla\\Firefox\\profiles.ini|Profile* [Path]</pattern>"
	"</objectSet></content>"
	"<content filter='MigXmlHelper.ExtractDirectory(NULL, \"0\", \"[parent.lock]\")'><objectSet>"
	"<pattern type=\"Ini\">%CSIDL_APPDATA%\\Mozilla\\Firefox\\profiles.ini|Profile* [Path]</pattern>"
	"</objectSet></content>"
	"</objectSet></unconditionalExclude>"
	"</rules></role></component>"
	/* a second component taking all of D:\ : the unconditional exclude wins */
	"<component type=\"Documents\" context=\"User\"><displayName>All of D</displayName>"
	"<role role=\"Data\"><rules><include><objectSet>"
	"<pattern type=\"File\">D:\\* [*]</pattern>"
	"</objectSet></include></rules></role></component></migration>";

static const char profiles_ini[] =
	"\xef\xbb\xbf[Install308046B0AF4A39CB]\r\nDefault=Profiles/rel.default-release\r\n\r\n"
	"[Profile0]\r\nIsRelative=1\r\nPath=Profiles/rel.default-release\r\n\r\n"
	"[Profile1]\r\nIsRelative=0\r\nPath=D:\\FirefoxProfiles\\esr.default-esr\r\n\r\n"
	"[Profile2]\r\nIsRelative=0\r\nPath=C:\\Users\\alice\\Documents\\ff\\dev.dev-edition-default\r\n\r\n"
	"[Profile3]\r\nIsRelative=1\r\nPath=Profiles/../../../../../Windows\r\n\r\n"
	"[Profile4]\r\nIsRelative=0\r\nPath=\\\\nas\\profiles\\x.default\r\n\r\n"
	"[Profile5]\r\nIsRelative=0\r\nPath=E:\\Gone\\y.default\r\n\r\n"
	"[Profile6]\r\nIsRelative=0\r\nPath=C:\\Projects [2024]\\z.default\r\n\r\n"
	"[Profile7]\r\nIsRelative=0\r\nPath=C:\\Odd\\y.default^";

struct logged {
	struct ws_buf text;
};

static void log_fn(void *ctx, int level, const char *where, const char *msg)
{
	struct logged *l = ctx;

	if (level <= WS_LOG_WARN)
		ws_buf_addf(&l->text, "%s: %s\n", where, msg);
}

static struct rule_sel *select_with(const struct fake_file *files, size_t big,
				    struct logged *lg, struct rule_set **rs_out,
				    struct rule_env **env_out, struct fake *f,
				    struct rule_probe *p, struct ws_log *log)
{
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel;
	struct ws_error err;

	f->files = files;
	f->big = big;
	memset(p, 0, sizeof(*p));
	p->ctx = f;
	p->file_exists = f_exists;
	p->file_read = f_read;
	memset(log, 0, sizeof(*log));
	log->fn = log_fn;
	log->ctx = lg;
	log->max_level = WS_LOG_DEBUG;
	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "moz.xml", mozilla_xml, sizeof(mozilla_xml) - 1, NULL,
				       &err), &err);
	rule_env_set(env, "CSIDL_APPDATA", "C:\\Users\\alice\\AppData\\Roaming");
	rule_env_set(env, "CSIDL_PROFILE", "C:\\Users\\alice");
	o.context = RULE_CTX_USER;
	o.env = env;
	o.probe = p;
	o.log = log;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	*rs_out = rs;
	*env_out = env;
	return sel;
}

static void profiles_ini_names_every_profile(void **state)
{
	static const struct fake_file files[] = {
		{ FFDIR "\\profiles.ini", profiles_ini, 0 },
		{ FFDIR "\\installs.ini", "[308046B0AF4A39CB]\nDefault=D:\\Installs\\only.default\n", 0 },
		{ "D:\\", NULL, 0 },
		{ "D:\\FirefoxProfiles\\esr.default-esr", NULL, 0 },
		{ "C:\\Users\\alice\\Documents\\ff\\dev.dev-edition-default", NULL, 0 },
		{ NULL, NULL, 0 },
	};
	struct logged lg = { WS_BUF_INIT };
	struct rule_set *rs;
	struct rule_env *env;
	struct fake f;
	struct rule_probe p;
	struct ws_log log;
	struct rule_sel *sel = select_with(files, 0, &lg, &rs, &env, &f, &p, &log);
	struct rule_decision d;

	(void)state;
	/* relative, absolute on another drive, absolute inside the profile,
	 * installs.ini's default, a name with brackets: taken */
	assert_true(rule_sel_file(sel, FFDIR "\\Profiles\\rel.default-release\\prefs.js", NULL));
	assert_true(rule_sel_file(sel, "D:\\FirefoxProfiles\\esr.default-esr\\places.sqlite", &d));
	assert_string_equal(d.component, "Mozilla Firefox profiles");
	assert_true(rule_sel_file(sel, "D:\\FirefoxProfiles\\esr.default-esr\\sub\\x.json", NULL));
	assert_true(rule_sel_file(sel,
		    "C:\\Users\\alice\\Documents\\ff\\dev.dev-edition-default\\key4.db", NULL));
	assert_true(rule_sel_file(sel, "D:\\Installs\\only.default\\prefs.js", NULL));
	assert_true(rule_sel_file(sel, "C:\\Projects [2024]\\z.default\\prefs.js", NULL));
	assert_false(rule_sel_file(sel, "C:\\Projects [2024]\\other\\prefs.js", NULL));
	assert_false(rule_sel_file(sel, "C:\\Projects 2\\z.default\\prefs.js", NULL));
	/* a folder name ending in '^' (the pattern's escape character) */
	assert_true(rule_sel_file(sel, "C:\\Odd\\y.default^\\prefs.js", NULL));
	assert_true(rule_sel_file(sel, "C:\\Odd\\y.default^\\sub\\a.txt", NULL));
	assert_false(rule_sel_file(sel, "C:\\Odd\\y.default^\\cache2\\a", NULL));
	assert_false(rule_sel_file(sel, "C:\\Odd\\y.default\\prefs.js", NULL));
	/* caches and the lock file left out in every one of them, whatever
	 * else includes them (All of D) */
	assert_false(rule_sel_file(sel, "D:\\FirefoxProfiles\\esr.default-esr\\cache2\\entries\\A", &d));
	assert_int_equal(d.kind, RULE_UNCOND_EXCLUDE);
	assert_false(rule_sel_file(sel, "D:\\FirefoxProfiles\\esr.default-esr\\parent.lock", NULL));
	assert_false(rule_sel_dir(sel, RULE_FILE, "D:\\FirefoxProfiles\\esr.default-esr\\cache2"));
	assert_true(rule_sel_dir_excluded(sel, RULE_FILE, "D:\\FirefoxProfiles\\esr.default-esr\\cache2"));
	assert_false(rule_sel_dir_excluded(sel, RULE_FILE, "D:\\FirefoxProfiles\\esr.default-esr"));
	assert_false(rule_sel_file(sel,
		     "C:\\Users\\alice\\Documents\\ff\\dev.dev-edition-default\\cache2\\x", NULL));
	assert_false(rule_sel_file(sel, FFDIR "\\Profiles\\rel.default-release\\cache2\\x", NULL));
	assert_true(rule_sel_file(sel, "D:\\Elsewhere\\file.txt", NULL));
	/* refused: climbing out, a share; nothing of Windows is taken */
	assert_false(rule_sel_file(sel, "C:\\Windows\\System32\\config\\SAM", NULL));
	assert_false(rule_sel_file(sel, "C:\\Users\\Windows\\x", NULL));
	/* one warning per refused entry, naming the file and the line, said
	 * once (not again by the excludes reading the same file) */
	assert_non_null(strstr(lg.text.buf, FFDIR "\\profiles.ini:18: component \"Mozilla Firefox "
				"profiles\": 'Profiles/../../../../../Windows': has a '.' or '..' component"));
	assert_non_null(strstr(lg.text.buf, FFDIR "\\profiles.ini:22: component \"Mozilla Firefox "
				"profiles\": '\\\\nas\\profiles\\x.default': a network path (UNC)"));
	assert_non_null(strstr(lg.text.buf, FFDIR "\\profiles.ini:26: component \"Mozilla Firefox "
				"profiles\": 'E:\\Gone\\y.default': on a drive the source does not have"));
	assert_int_equal(log.warnings, 3);
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
	ws_buf_release(&lg.text);
}

static void profiles_ini_too_large(void **state)
{
	static const struct fake_file files[] = {
		{ FFDIR "\\profiles.ini", "x", 0 },
		{ NULL, NULL, 0 },
	};
	struct logged lg = { WS_BUF_INIT };
	struct rule_set *rs;
	struct rule_env *env;
	struct fake f;
	struct rule_probe p;
	struct ws_log log;
	struct rule_sel *sel = select_with(files, RULE_INI_MAX + 100, &lg, &rs, &env, &f, &p, &log);

	(void)state;
	/* not read at all (its first profile is not taken), said once; the
	 * component still takes the application's folder */
	assert_false(rule_sel_file(sel, "C:\\Huge\\p\\prefs.js", NULL));
	assert_true(rule_sel_file(sel, FFDIR "\\Profiles\\a\\prefs.js", NULL));
	assert_non_null(strstr(lg.text.buf, FFDIR "\\profiles.ini: component \"Mozilla Firefox "
				"profiles\": larger than 1048576 bytes"));
	assert_int_equal(log.warnings, 1);
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
	ws_buf_release(&lg.text);

	/* one of exactly the limit is read */
	lg.text = (struct ws_buf)WS_BUF_INIT;
	sel = select_with(files, RULE_INI_MAX, &lg, &rs, &env, &f, &p, &log);
	assert_true(rule_sel_file(sel, "C:\\Huge\\p\\prefs.js", NULL));
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
	ws_buf_release(&lg.text);
}

/* ExtractDirectory's LevelsToTrim, on a registry value pointing inside the
 * folder to take. */
static int r_read(void *ctx, const char *key, const char *value, uint32_t *type,
		  struct ws_buf *data)
{
	(void)ctx;
	if (strcasecmp(key, "HKCU\\Software\\App") || strcasecmp(value, "Data"))
		return 0;
	*type = 1;
	for (const char *s = "C:\\AppData\\sub\\file.dat"; *s; s++)
		ws_buf_add_u16le(data, (unsigned char)*s);
	ws_buf_add_u16le(data, 0);
	return 1;
}

static void extract_directory_trims(void **state)
{
	const char *xml =
		"<migration urlid=\"t\"><component type=\"Application\" context=\"User\">"
		"<displayName>T</displayName><role role=\"Settings\"><rules><include><objectSet>"
		"<content filter='MigXmlHelper.ExtractDirectory(NULL, \"2\")'><objectSet>"
		"<pattern type=\"Registry\">HKCU\\Software\\App [Data]</pattern>"
		"</objectSet></content></objectSet></include></rules></role></component></migration>";
	struct rule_probe p = { 0 };
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel;
	struct ws_error err;

	(void)state;
	p.reg_read = r_read;
	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "t.xml", xml, strlen(xml), NULL, &err), &err);
	o.context = RULE_CTX_USER;
	o.env = env;
	o.probe = &p;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	/* the value's path less two levels: C:\AppData, all of it */
	assert_true(rule_sel_file(sel, "C:\\AppData\\other\\x.txt", NULL));
	assert_true(rule_sel_file(sel, "C:\\AppData\\y.txt", NULL));
	assert_false(rule_sel_file(sel, "C:\\Other\\x.txt", NULL));
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ini_reader_line_ends_and_marks),
		cmocka_unit_test(content_paths_checked),
		cmocka_unit_test(profiles_ini_names_every_profile),
		cmocka_unit_test(profiles_ini_too_large),
		cmocka_unit_test(extract_directory_trims),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
