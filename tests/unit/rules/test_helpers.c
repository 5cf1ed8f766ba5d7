/* test_helpers.c - variables, conditions and helper functions evaluated
 * offline through a fake probe; PE version resources built here. */
#include "tu.h"

#include "util/ws_str.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rules/rules_private.h"
#include "rules/rules.h"
#include "util/ws_utf.h"

/* ------------------------- a PE with a version -------------------------- */

static void u16(struct ws_buf *b, unsigned v) { ws_buf_add_u16le(b, v); }
static void u32(struct ws_buf *b, unsigned long v) { ws_buf_add_u32le(b, v); }

static void pad4(struct ws_buf *b, size_t start)
{
	while ((b->len - start) % 4)
		ws_buf_addch(b, 0);
}

static void vblock(struct ws_buf *out, const char *key, const void *val, size_t vbytes,
		   int text, const struct ws_buf *kids)
{
	size_t start = out->len;

	u16(out, 0);
	u16(out, text ? (unsigned)(vbytes / 2) : (unsigned)vbytes);
	u16(out, text ? 1 : 0);
	ws_utf8_to_utf16le(key, strlen(key) + 1, out);
	pad4(out, start);
	ws_buf_add(out, val, vbytes);
	pad4(out, start);
	if (kids)
		ws_buf_add(out, kids->buf, kids->len);
	out->buf[start] = (char)((out->len - start) & 0xff);
	out->buf[start + 1] = (char)((out->len - start) >> 8);
}

static void vstring(struct ws_buf *out, const char *key, const char *val)
{
	struct ws_buf v = WS_BUF_INIT;

	ws_utf8_to_utf16le(val, strlen(val) + 1, &v);
	vblock(out, key, v.buf, v.len, 1, NULL);
	pad4(out, 0);
	ws_buf_release(&v);
}

static void build_pe(struct ws_buf *pe)
{
	struct ws_buf fixed = WS_BUF_INIT, strs = WS_BUF_INIT, tbl = WS_BUF_INIT,
		      sfi = WS_BUF_INIT, vi = WS_BUF_INIT;
	size_t opt, rsrc;

	u32(&fixed, 0xFEEF04BDul);
	u32(&fixed, 0x10000);
	u32(&fixed, (6ul << 16) | 1);
	u32(&fixed, (7601ul << 16) | 17514);
	u32(&fixed, (6ul << 16) | 1);
	u32(&fixed, (7601ul << 16) | 0);
	for (int i = 0; i < 7; i++)
		u32(&fixed, 0);
	vstring(&strs, "CompanyName", "Contoso");
	vstring(&strs, "FileVersion", "6.1.7601.17514 (win7sp1_rtm)");
	vblock(&tbl, "040904B0", NULL, 0, 1, &strs);
	pad4(&tbl, 0);
	vblock(&sfi, "StringFileInfo", NULL, 0, 1, &tbl);
	pad4(&sfi, 0);
	vblock(&vi, "VS_VERSION_INFO", fixed.buf, fixed.len, 0, &sfi);

	ws_buf_add(pe, "MZ", 2);
	while (pe->len < 0x3c)
		ws_buf_addch(pe, 0);
	u32(pe, 0x40);
	ws_buf_add(pe, "PE\0\0", 4);
	u16(pe, 0x14c);
	u16(pe, 1);
	u32(pe, 0);
	u32(pe, 0);
	u32(pe, 0);
	u16(pe, 0xE0);
	u16(pe, 0x102);
	opt = pe->len;
	u16(pe, 0x10b);
	while (pe->len < opt + 92)
		ws_buf_addch(pe, 0);
	u32(pe, 16);
	while (pe->len < opt + 112)
		ws_buf_addch(pe, 0);
	u32(pe, 0x1000);
	u32(pe, (unsigned long)(0x58 + vi.len));
	while (pe->len < opt + 0xE0)
		ws_buf_addch(pe, 0);
	ws_buf_add(pe, ".rsrc\0\0\0", 8);
	u32(pe, (unsigned long)(0x58 + vi.len));
	u32(pe, 0x1000);
	u32(pe, (unsigned long)(0x58 + vi.len));
	u32(pe, 0x200);
	while (pe->len < 0x200)
		ws_buf_addch(pe, 0);
	rsrc = pe->len;
	/* root -> type 16 -> name 1 -> language 0x409 -> data entry */
	u32(pe, 0); u32(pe, 0); u32(pe, 0); u16(pe, 0); u16(pe, 1);
	u32(pe, 16); u32(pe, 0x80000000ul | 0x18);
	u32(pe, 0); u32(pe, 0); u32(pe, 0); u16(pe, 0); u16(pe, 1);
	u32(pe, 1); u32(pe, 0x80000000ul | 0x30);
	u32(pe, 0); u32(pe, 0); u32(pe, 0); u16(pe, 0); u16(pe, 1);
	u32(pe, 0x409); u32(pe, 0x48);
	u32(pe, 0x1000 + 0x58); u32(pe, (unsigned long)vi.len); u32(pe, 0); u32(pe, 0);
	assert_int_equal(pe->len - rsrc, 0x58);
	ws_buf_add(pe, vi.buf, vi.len);
	ws_buf_release(&fixed);
	ws_buf_release(&strs);
	ws_buf_release(&tbl);
	ws_buf_release(&sfi);
	ws_buf_release(&vi);
}

static void pe_version_resource(void **state)
{
	struct ws_buf pe = WS_BUF_INIT, v = WS_BUF_INIT;

	build_pe(&pe);
	assert_int_equal(rule_pe_version((unsigned char *)pe.buf, pe.len, "FileVersion", &v), 1);
	assert_string_equal(v.buf, "6.1.7601.17514");
	ws_buf_reset(&v);
	assert_int_equal(rule_pe_version((unsigned char *)pe.buf, pe.len, "ProductVersion", &v), 1);
	assert_string_equal(v.buf, "6.1.7601.0");
	ws_buf_reset(&v);
	assert_int_equal(rule_pe_version((unsigned char *)pe.buf, pe.len, "CompanyName", &v), 1);
	assert_string_equal(v.buf, "Contoso");
	ws_buf_reset(&v);
	assert_int_equal(rule_pe_version((unsigned char *)pe.buf, pe.len, "ProductName", &v), 0);
	/* every truncation and a flipped byte anywhere: no crash, no overread */
	for (size_t n = 0; n < pe.len; n++) {
		ws_buf_reset(&v);
		rule_pe_version((unsigned char *)pe.buf, n, "CompanyName", &v);
	}
	for (size_t i = 0; i < pe.len; i += 3) {
		char save = pe.buf[i];

		pe.buf[i] = (char)0xff;
		ws_buf_reset(&v);
		rule_pe_version((unsigned char *)pe.buf, pe.len, "CompanyName", &v);
		pe.buf[i] = save;
	}
	assert_true(ws_version_cmp("6.1.7601.17514", "6.1", 1) == 0);
	assert_true(ws_version_cmp("6.1.7601.17514", "6.2", 1) < 0);
	assert_true(ws_version_cmp("10.0", "6.3.9600", 1) > 0);
	ws_buf_release(&pe);
	ws_buf_release(&v);
}

/* ------------------------------ fake probe ------------------------------ */

struct fake {
	struct ws_buf pe;
	const char *const *files;
	int calls;
};

static const char *const files_default[] = { "C:\\App\\app.exe", "C:\\App\\conf",
					     "C:\\Cfg\\app.ini", NULL };

static int f_exists(void *ctx, const char *path)
{
	struct fake *f = ctx;

	f->calls++;
	for (size_t i = 0; f->files[i]; i++)
		if (!strcasecmp(f->files[i], path))
			return 1;
	return 0;
}

static void put_sz(struct ws_buf *b, const char *s)
{
	ws_utf8_to_utf16le(s, strlen(s) + 1, b);
}

static int f_reg_read(void *ctx, const char *key, const char *value, uint32_t *type,
		      struct ws_buf *data)
{
	if (!strcasecmp(key, "HKLM\\Software\\App") && !strcasecmp(value, "InstallDir")) {
		*type = 1;
		put_sz(data, "C:\\App");
		return 1;
	}
	if (!strcasecmp(key, "HKCU\\Control Panel\\Desktop") && !strcasecmp(value, "WallPaper")) {
		*type = 2;
		put_sz(data, "%CSIDL_PROFILE%\\Pictures\\sunset.jpg");
		return 1;
	}
	/* a mail profile: MAPI string properties kept as REG_BINARY */
	if (!strcasecmp(key, "HKCU\\Software\\Mail\\Profiles\\P1\\svc1") &&
	    !strcasecmp(value, "001f6700")) {
		*type = 3;
		put_sz(data, "C:\\Users\\alice\\Old Mail\\a.pst");
		return 1;
	}
	if (!strcasecmp(key, "HKCU\\Software\\Mail\\Profiles\\P1\\svc2") &&
	    !strcasecmp(value, "001f6700")) {
		*type = 3;  /* not text: no file */
		ws_buf_add(data, "\x01\x02C\0:\0\\\0x\0\0\0", 12);
		return 1;
	}
	if (!strcasecmp(key, "HKCU\\Software\\Mail\\Profiles\\P1\\svc1") &&
	    !strcasecmp(value, "001f6610")) {
		*type = 3;
		put_sz(data, "C:\\Users\\alice\\cache.ost");
		return 1;
	}
	if (!strcasecmp(key, "HKLM\\Software\\App") && !strcasecmp(value, "Level")) {
		*type = 4;
		ws_buf_add(data, "\x2a\0\0\0", 4);
		return 1;
	}
	return 0;
}

static int f_reg_exists(void *ctx, const char *key, const char *value)
{
	uint32_t t;
	struct ws_buf b = WS_BUF_INIT;
	int rc = value ? f_reg_read(ctx, key, value, &t, &b) :
			 !strcasecmp(key, "HKLM\\Software\\App");

	ws_buf_release(&b);
	return rc;
}

static int f_read(void *ctx, const char *path, size_t max, struct ws_buf *data)
{
	struct fake *f = ctx;

	if (!strcasecmp(path, "C:\\App\\app.exe")) {
		ws_buf_add(data, f->pe.buf, f->pe.len < max ? f->pe.len : max);
		return 1;
	}
	if (!strcasecmp(path, "C:\\Cfg\\app.ini")) {
		ws_buf_adds(data, "[General]\r\nTheme = dark\r\n[Other]\r\nTheme=light\r\n");
		return 1;
	}
	return 0;
}

static int f_list(void *ctx, int type, const char *node,
		  void (*fn)(void *arg, const char *name, int is_container), void *arg)
{
	if (!strcasecmp(node, "C:\\App")) {
		fn(arg, "app.exe", 0);
		fn(arg, "conf", 1);
		return 1;
	}
	if (!strcasecmp(node, "C:")) {
		fn(arg, "App", 1);
		fn(arg, "Cfg", 1);
		return 1;
	}
	if (!strcasecmp(node, "HKCU\\Software\\Mail\\Profiles")) {
		fn(arg, "P1", 1);
		return 1;
	}
	if (!strcasecmp(node, "HKCU\\Software\\Mail\\Profiles\\P1")) {
		fn(arg, "svc1", 1);
		fn(arg, "svc2", 1);
		return 1;
	}
	if (!strcasecmp(node, "HKCU\\Software\\Mail\\Profiles\\P1\\svc1")) {
		fn(arg, "001f6700", 0);
		fn(arg, "001f6610", 0);
		return 1;
	}
	if (!strcasecmp(node, "HKCU\\Software\\Mail\\Profiles\\P1\\svc2")) {
		fn(arg, "001f6700", 0);
		return 1;
	}
	return 0;
}

static void fake_init(struct fake *f, struct rule_probe *p)
{
	memset(f, 0, sizeof(*f));
	f->pe = (struct ws_buf)WS_BUF_INIT;
	build_pe(&f->pe);
	f->files = files_default;
	memset(p, 0, sizeof(*p));
	p->ctx = f;
	p->file_exists = f_exists;
	p->reg_exists = f_reg_exists;
	p->reg_read = f_reg_read;
	p->file_read = f_read;
	p->list = f_list;
	p->os_major = 10;
	p->os_minor = 0;
	p->os_build = 19045;
	p->native64 = 1;
}

/* A component detected by `cond` (condition text) including C:\Hit\* [*]. */
static int detected(const char *cond, int ctx, struct rule_probe *probe, int *state_out)
{
	char *xml = ws_xasprintf(
		"<migration urlid=\"d\"><component type=\"Application\" context=\"UserAndSystem\">"
		"<displayName>D</displayName><role role=\"Settings\">"
		"<detection><conditions>%s</conditions></detection>"
		"<rules><include><objectSet><pattern type=\"File\">C:\\Hit\\* [*]</pattern>"
		"</objectSet></include></rules></role></component></migration>",
		cond);
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel;
	struct ws_error err;
	struct rule_component_info ci;
	int rc;

	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "d.xml", xml, strlen(xml), NULL, &err), &err);
	o.context = ctx;
	o.env = env;
	o.probe = probe;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	rc = rule_sel_file(sel, "C:\\Hit\\x", NULL);
	rule_sel_component(sel, 0, &ci);
	if (state_out)
		*state_out = ci.state;
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
	free(xml);
	return rc;
}

static void os_and_context_conditions(void **state)
{
	struct fake f;
	struct rule_probe p;

	fake_init(&f, &p);
	assert_true(detected("<condition>MigXmlHelper.DoesOSMatch(\"NT\",\"10.0.*\")</condition>",
			     RULE_CTX_SYSTEM, &p, NULL));
	assert_false(detected("<condition>MigXmlHelper.DoesOSMatch(\"NT\",\"6.1.*\")</condition>",
			      RULE_CTX_SYSTEM, &p, NULL));
	assert_true(detected("<condition>MigXmlHelper.IsOSLaterThan(\"NT\",\"6.1\")</condition>",
			     RULE_CTX_SYSTEM, &p, NULL));
	assert_false(detected("<condition>MigXmlHelper.IsOSEarlierThan(\"NT\",\"6.1\")</condition>",
			      RULE_CTX_SYSTEM, &p, NULL));
	assert_false(detected("<condition>MigXmlHelper.IsOSLaterThan(\"9x\",\"4.0\")</condition>",
			      RULE_CTX_SYSTEM, &p, NULL));
	assert_true(detected("<condition>MigXmlHelper.IsNative64Bit()</condition>",
			     RULE_CTX_SYSTEM, &p, NULL));
	assert_true(detected("<condition>MigXmlHelper.IsSystemContext()</condition>",
			     RULE_CTX_SYSTEM, &p, NULL));
	assert_false(detected("<condition>MigXmlHelper.IsSystemContext()</condition>",
			      RULE_CTX_USER, &p, NULL));
	assert_true(detected("<condition negation=\"Yes\">MigXmlHelper.IsSystemContext()</condition>",
			     RULE_CTX_USER, &p, NULL));
	ws_buf_release(&f.pe);
}

static void and_or_nesting(void **state)
{
	struct fake f;
	struct rule_probe p;
	const char *t = "<condition>MigXmlHelper.IsNative64Bit()</condition>";
	const char *fls = "<condition negation=\"yes\">MigXmlHelper.IsNative64Bit()</condition>";
	char buf[1024];

	fake_init(&f, &p);
	snprintf(buf, sizeof(buf), "%s%s", t, fls);
	assert_false(detected(buf, RULE_CTX_SYSTEM, &p, NULL)); /* AND by default */
	snprintf(buf, sizeof(buf), "<conditions operation=\"OR\">%s%s</conditions>", fls, t);
	assert_true(detected(buf, RULE_CTX_SYSTEM, &p, NULL));
	snprintf(buf, sizeof(buf), "<conditions operation=\"OR\">%s%s</conditions>%s", fls, fls, t);
	assert_false(detected(buf, RULE_CTX_SYSTEM, &p, NULL));
	ws_buf_release(&f.pe);
}

static void object_and_version_conditions(void **state)
{
	struct fake f;
	struct rule_probe p;

	fake_init(&f, &p);
	assert_true(detected("<condition>MigXmlHelper.DoesObjectExist(\"File\",\"C:\\App [app.exe]\")"
			     "</condition>", RULE_CTX_SYSTEM, &p, NULL));
	assert_false(detected("<condition>MigXmlHelper.DoesObjectExist(\"File\",\"C:\\App [no.exe]\")"
			      "</condition>", RULE_CTX_SYSTEM, &p, NULL));
	assert_true(detected("<condition>MigXmlHelper.DoesObjectExist(\"Registry\","
			     "\"HKLM\\Software\\App [InstallDir]\")</condition>", RULE_CTX_SYSTEM, &p, NULL));
	/* wildcards walk the listing probe */
	assert_true(detected("<condition>MigXmlHelper.DoesObjectExist(\"File\",\"C:\\* [*.exe]\")"
			     "</condition>", RULE_CTX_SYSTEM, &p, NULL));
	assert_false(detected("<condition>MigXmlHelper.DoesObjectExist(\"File\",\"C:\\* [*.dll]\")"
			      "</condition>", RULE_CTX_SYSTEM, &p, NULL));
	assert_true(detected("<condition>MigXmlHelper.DoesFileVersionMatch(\"C:\\App\\app.exe\","
			     "\"FileVersion\",\"6.1.*\")</condition>", RULE_CTX_SYSTEM, &p, NULL));
	assert_false(detected("<condition>MigXmlHelper.DoesFileVersionMatch(\"C:\\App [app.exe]\","
			      "\"FileVersion\",\"7.*\")</condition>", RULE_CTX_SYSTEM, &p, NULL));
	assert_true(detected("<condition>MigXmlHelper.IsFileVersionAbove(\"C:\\App\\app.exe\","
			     "\"ProductVersion\",\"6.0\")</condition>", RULE_CTX_SYSTEM, &p, NULL));
	assert_true(detected("<condition>MigXmlHelper.IsFileVersionBelow(\"C:\\App\\app.exe\","
			     "\"FileVersion\",\"6.2\")</condition>", RULE_CTX_SYSTEM, &p, NULL));
	assert_true(detected("<condition>MigXmlHelper.DoesStringContentEqual(\"Registry\","
			     "\"HKLM\\Software\\App [Level]\",\"42\")</condition>", RULE_CTX_SYSTEM, &p, NULL));
	assert_true(detected("<condition>MigXmlHelper.DoesStringContentContain(\"Registry\","
			     "\"HKLM\\Software\\App [InstallDir]\",\"App\")</condition>",
			     RULE_CTX_SYSTEM, &p, NULL));
	assert_true(detected("<condition>MigXmlHelper.DoesStringContentEqual(\"Ini\","
			     "\"C:\\Cfg\\app.ini|Other[theme]\",\"light\")</condition>",
			     RULE_CTX_SYSTEM, &p, NULL));
	assert_true(detected("<condition>MigXmlHelper.IsSameObject(\"File\",\"C:\\A\\\","
			     "\"c:\\a\")</condition>", RULE_CTX_SYSTEM, &p, NULL));
	ws_buf_release(&f.pe);
}

static void missing_probe_is_an_error_not_success(void **state)
{
	int st = 0;

	assert_false(detected("<condition>MigXmlHelper.DoesObjectExist(\"File\",\"C:\\App\")"
			      "</condition>", RULE_CTX_SYSTEM, NULL, &st));
	assert_int_equal(st, RULE_COMP_ERROR);
}

static void component_environment_variables(void **state)
{
	const char *xml =
		"<migration urlid=\"e\">"
		"<namedElements><environment name=\"GlobalEnv\">"
		"<variable name=\"AppRoot\"><script>MigXmlHelper.GetStringContent(\"Registry\","
		"\"HKLM\\Software\\App [InstallDir]\")</script></variable>"
		"</environment></namedElements>"
		"<component type=\"Application\" context=\"System\"><displayName>E</displayName>"
		"<environment name=\"GlobalEnv\"/>"
		"<environment><variable name=\"AppData\"><text>%AppRoot%\\Data</text></variable>"
		"<variable name=\"Found\"><objectSet><pattern type=\"File\">C:\\Nope [x]</pattern>"
		"<pattern type=\"File\">C:\\App [app.exe]</pattern></objectSet></variable></environment>"
		"<role role=\"Settings\"><rules><include><objectSet>"
		"<pattern type=\"File\">%AppData%\\* [*]</pattern>"
		"<pattern type=\"File\">%Found%\\conf\\ [*]</pattern>"
		"</objectSet></include></rules></role></component>"
		"<component type=\"Application\" context=\"System\"><displayName>Other</displayName>"
		"<role role=\"Settings\"><rules><include><objectSet>"
		"<pattern type=\"File\">%AppData%\\x [*]</pattern>"
		"</objectSet></include></rules></role></component></migration>";
	struct fake f;
	struct rule_probe p;
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel;
	struct ws_error err;
	struct ws_log log = { 0 };

	fake_init(&f, &p);
	log.max_level = WS_LOG_DEBUG;
	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "e.xml", xml, strlen(xml), NULL, &err), &err);
	o.context = RULE_CTX_SYSTEM;
	o.env = env;
	o.probe = &p;
	o.log = &log;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	assert_true(rule_sel_file(sel, "C:\\App\\Data\\sub\\f.txt", NULL));
	assert_true(rule_sel_file(sel, "C:\\App\\conf\\c.cfg", NULL));
	/* variables are private to their component */
	assert_int_equal(log.warnings, 1);
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
	ws_buf_release(&f.pe);
}

static void wallpaper_content_extraction(void **state)
{
	char *path = tu_testdata("usmt-xml/wallpaper.xml");
	struct fake f;
	struct rule_probe p;
	struct rule_set *rs;
	struct rule_env *env;
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel;
	struct ws_error err;

	if (!path)
		skip();
	fake_init(&f, &p);
	rs = rule_set_new();
	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_file(rs, path, NULL, &err), &err);
	env = rule_env_new();
	rule_env_set(env, "CSIDL_PROFILE", "C:\\Users\\alice");
	o.context = RULE_CTX_USER;
	o.env = env;
	o.probe = &p;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	assert_true(rule_sel_reg(sel, "HKCU\\Control Panel\\Desktop", "WallPaper", NULL));
	assert_true(rule_sel_reg(sel, "HKCU\\Control Panel\\Desktop", "wallpaperstyle", NULL));
	assert_false(rule_sel_reg(sel, "HKCU\\Control Panel\\Desktop", "Other", NULL));
	/* the file the value points at is migrated too */
	assert_true(rule_sel_file(sel, "C:\\Users\\alice\\Pictures\\sunset.jpg", NULL));
	assert_false(rule_sel_file(sel, "C:\\Users\\alice\\Pictures\\other.jpg", NULL));
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
	ws_buf_release(&f.pe);
	free(path);
}

/* Content locations with wildcards are read at every value they match, and
 * a REG_BINARY holding UTF-16 text (Outlook's profile) is a path; other
 * binary data is none. */
static void wildcard_binary_content_extraction(void **state)
{
	const char *xml =
		"<migration urlid=\"m\"><component type=\"Application\" context=\"User\">"
		"<displayName>M</displayName><role role=\"Settings\"><rules><include><objectSet>"
		"<content filter=\"MigXmlHelper.ExtractSingleFile(NULL, NULL)\"><objectSet>"
		"<pattern type=\"Registry\">HKCU\\Software\\Mail\\Profiles\\* [001f6700]</pattern>"
		"<pattern type=\"Registry\">HKCU\\Software\\Mail\\Profiles\\P1\\svc2 [001f6700]</pattern>"
		"</objectSet></content></objectSet></include></rules></role></component></migration>";
	struct fake f;
	struct rule_probe p;
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel;
	struct ws_error err;

	(void)state;
	fake_init(&f, &p);
	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "m.xml", xml, strlen(xml), NULL, &err), &err);
	o.context = RULE_CTX_USER;
	o.env = env;
	o.probe = &p;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	assert_true(rule_sel_file(sel, "C:\\Users\\alice\\Old Mail\\a.pst", NULL));
	assert_false(rule_sel_file(sel, "C:\\Users\\alice\\Old Mail\\b.pst", NULL));
	assert_false(rule_sel_file(sel, "C:\\Users\\alice\\cache.ost", NULL));
	assert_false(rule_sel_file(sel, "C:\\x", NULL));
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
	ws_buf_release(&f.pe);
}

static void generate_user_patterns(void **state)
{
	const char *xml =
		"<migration urlid=\"g\"><component type=\"Application\" context=\"System\">"
		"<displayName>G</displayName><role role=\"Settings\"><rules>"
		"<include><objectSet><pattern type=\"File\">C:\\Users\\* [*.cfg]</pattern></objectSet></include>"
		"<exclude><objectSet><script>MigXmlHelper.GenerateUserPatterns(\"File\","
		"\"%USERPROFILE%\\* [*]\",\"TRUE\")</script></objectSet></exclude>"
		"</rules></role></component></migration>";
	struct rule_set *rs = rule_set_new();
	struct rule_env *sys = rule_env_new(), *u1 = rule_env_new(), *u2 = rule_env_new();
	const struct rule_env *users[2] = { u1, u2 };
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel;
	struct ws_error err;

	rule_env_set(u1, "USERPROFILE", "C:\\Users\\alice");
	rule_env_set(u2, "USERPROFILE", "C:\\Users\\bob");
	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "g.xml", xml, strlen(xml), NULL, &err), &err);
	o.context = RULE_CTX_SYSTEM;
	o.env = sys;
	o.users = users;
	o.nusers = 2;
	o.current_user = -1;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	assert_false(rule_sel_file(sel, "C:\\Users\\alice\\a.cfg", NULL));
	assert_false(rule_sel_file(sel, "C:\\Users\\bob\\x\\a.cfg", NULL));
	assert_true(rule_sel_file(sel, "C:\\Users\\Public\\a.cfg", NULL));
	assert_int_equal(rule_sel_pattern_count(sel, RULE_EXCLUDE), 2);
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(sys);
	rule_env_free(u1);
	rule_env_free(u2);
}

static void env_expansion(void **state)
{
	struct rule_env *e = rule_env_new();
	struct ws_buf b = WS_BUF_INIT;
	char missing[64];

	rule_env_set(e, "Profile", "C:\\Users\\a");
	rule_env_set(e, "DOCS", "%PROFILE%\\Documents");
	rule_env_set(e, "loop", "%LOOP%x");
	assert_int_equal(rule_env_expand(e, "%docs%\\* [*]", &b, missing, sizeof(missing)), 0);
	assert_string_equal(b.buf, "C:\\Users\\a\\Documents\\* [*]");
	ws_buf_reset(&b);
	assert_int_equal(rule_env_expand(e, "100% sure %% %", &b, NULL, 0), 0);
	assert_string_equal(b.buf, "100% sure %% %");
	ws_buf_reset(&b);
	assert_int_equal(rule_env_expand(e, "%NOPE%\\x", &b, missing, sizeof(missing)), -1);
	assert_string_equal(missing, "NOPE");
	ws_buf_reset(&b);
	/* self reference terminates */
	rule_env_expand(e, "%loop%", &b, missing, sizeof(missing));
	rule_env_set(e, "docs", "D:\\Docs");
	assert_string_equal(rule_env_get(e, "DOCS"), "D:\\Docs");
	ws_buf_release(&b);
	rule_env_free(e);
}

static void call_parsing(void **state)
{
	struct rule_call c;
	int impl;

	assert_int_equal(rule_call_parse(" MigXmlHelper.GenerateDrivePatterns (\"* [*.doc]\", 'Fixed') ",
					 &c), 0);
	assert_string_equal(c.prefix, "MigXmlHelper");
	assert_string_equal(c.fn, "GenerateDrivePatterns");
	assert_int_equal(c.nargs, 2);
	assert_string_equal(c.args[0], "* [*.doc]");
	assert_string_equal(c.args[1], "Fixed");
	rule_call_release(&c);
	assert_int_equal(rule_call_parse("MigXmlHelper.ExtractSingleFile(NULL, NULL)", &c), 0);
	assert_null(c.args[0]);
	rule_call_release(&c);
	assert_int_equal(rule_call_parse("Fn(\"unterminated)", &c), -1);
	assert_int_equal(rule_call_parse("Fn(a) trailing", &c), -1);
	assert_int_equal(rule_fn_lookup("MigSysHelper", "ConvertToOfficeLangID", &impl), 0);
	assert_int_equal(rule_fn_lookup("MigXmlHelper", "IsSameContent", &impl), FN_COND);
	assert_true(impl);
	assert_int_equal(rule_fn_lookup("MigXmlHelper", "FileProperties", &impl), FN_FILTER);
	assert_true(impl);
	assert_int_equal(rule_fn_lookup("MigXmlHelper", "MigrateActiveDesktop", &impl), 0);
	assert_false(impl);
	assert_int_equal(rule_fn_lookup("", "SourcePriority", &impl), FN_LOADSTATE);
	assert_true(impl);
}

static void extensions_and_drive_patterns(void **state)
{
	const char *xml =
		"<migration urlid=\"x\"><component type=\"Documents\" context=\"System\">"
		"<displayName>X</displayName><extensions><extension>odt</extension></extensions>"
		"<role role=\"Data\"><rules><include><objectSet>"
		"<script>MigXmlHelper.GenerateDrivePatterns(\"\\Projects\\* [*]\", \"Fixed\")</script>"
		"<script>MigXmlHelper.GenerateDrivePatterns(\"* [*.cd]\", \"Removable\")</script>"
		"</objectSet></include></rules></role></component></migration>";
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel;
	struct ws_error err;

	rule_env_set(env, "SYSTEMDRIVE", "D:");
	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "x.xml", xml, strlen(xml), NULL, &err), &err);
	o.context = RULE_CTX_SYSTEM;
	o.env = env;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	assert_true(rule_sel_file(sel, "D:\\deep\\er\\a.ODT", NULL));
	assert_true(rule_sel_file(sel, "D:\\Projects\\p\\a.bin", NULL));
	assert_false(rule_sel_file(sel, "D:\\x\\a.cd", NULL));
	assert_false(rule_sel_file(sel, "E:\\deep\\a.odt", NULL));
	rule_sel_free(sel);
	/* every fixed drive given (a disk scan's attached partitions) */
	o.drives = "DE";
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	assert_true(rule_sel_file(sel, "D:\\deep\\er\\a.ODT", NULL));
	assert_true(rule_sel_file(sel, "E:\\deep\\a.odt", NULL));
	assert_true(rule_sel_file(sel, "E:\\Projects\\p\\a.bin", NULL));
	assert_false(rule_sel_file(sel, "C:\\Projects\\p\\a.bin", NULL));
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
}

/* GenerateDocPatterns in the system pass: documents on every fixed drive
 * (as MigDocs.xml finds them), outside Windows, the profiles and each
 * drive's recycle bin and System Volume Information. */
static void doc_patterns_every_fixed_drive(void **state)
{
	const char *xml =
		"<migration urlid=\"x\"><component type=\"Documents\" context=\"System\">"
		"<displayName>X</displayName><role role=\"Data\"><rules>"
		"<include><objectSet><script>MigXmlHelper.GenerateDocPatterns(\"FALSE\",\"TRUE\",\"FALSE\")</script>"
		"</objectSet></include><exclude><objectSet>"
		"<script>MigXmlHelper.GenerateDocPatterns(\"FALSE\",\"FALSE\",\"FALSE\")</script>"
		"</objectSet></exclude></rules></role></component></migration>";
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_sel_opts o = { 0 };
	struct rule_decision d;
	struct rule_sel *sel;
	struct ws_error err;
	(void)state;

	rule_env_set(env, "SYSTEMDRIVE", "C:");
	rule_env_set(env, "CSIDL_WINDOWS", "C:\\Windows");
	rule_env_set(env, "PROFILESFOLDER", "C:\\Users");
	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "x.xml", xml, strlen(xml), NULL, &err), &err);
	o.context = RULE_CTX_SYSTEM;
	o.env = env;
	o.drives = "CD";
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	assert_int_equal(rule_sel_file(sel, "C:\\Data\\plan.docx", &d), 1);
	assert_int_equal(d.kind, RULE_INCLUDE);
	assert_int_equal(rule_sel_file(sel, "D:\\Work\\report.docx", &d), 1);
	assert_int_equal(d.kind, RULE_INCLUDE);
	assert_int_equal(rule_sel_file(sel, "D:\\Work\\tool.exe", &d), 0);
	assert_int_equal(d.kind, -1);
	assert_int_equal(rule_sel_file(sel, "D:\\$Recycle.Bin\\S-1-5-21\\$R1.docx", &d), 0);
	assert_int_equal(d.kind, RULE_EXCLUDE);
	assert_int_equal(rule_sel_file(sel, "D:\\System Volume Information\\x.txt", &d), 0);
	assert_int_equal(d.kind, RULE_EXCLUDE);
	assert_int_equal(rule_sel_file(sel, "C:\\Windows\\notes.txt", &d), 0);
	assert_int_equal(d.kind, RULE_EXCLUDE);
	rule_sel_free(sel);
	/* no drives given: the system drive only, as before */
	o.drives = NULL;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	assert_int_equal(rule_sel_file(sel, "C:\\Data\\plan.docx", &d), 1);
	assert_int_equal(rule_sel_file(sel, "D:\\Work\\report.docx", &d), 0);
	assert_int_equal(d.kind, -1);
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pe_version_resource),
		cmocka_unit_test(os_and_context_conditions),
		cmocka_unit_test(and_or_nesting),
		cmocka_unit_test(object_and_version_conditions),
		cmocka_unit_test(missing_probe_is_an_error_not_success),
		cmocka_unit_test(component_environment_variables),
		cmocka_unit_test(wallpaper_content_extraction),
		cmocka_unit_test(generate_user_patterns),
		cmocka_unit_test(env_expansion),
		cmocka_unit_test(call_parsing),
		cmocka_unit_test(extensions_and_drive_patterns),
		cmocka_unit_test(doc_patterns_every_fixed_drive),
		cmocka_unit_test(wildcard_binary_content_extraction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
