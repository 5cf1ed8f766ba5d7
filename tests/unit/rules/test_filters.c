/* test_filters.c - the helper functions that look at objects
 * (IsSameContent, CompareStringContent, FileProperties, SameRegContent),
 * <detect> with an objectSet, and the apply-side accessors (variable
 * remap="TRUE", <addObjects>), on small XML and a fake probe. */
#include "tu.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rules/rules_private.h"
#include "util/ws_utf.h"

/* ---- a fake source: a few registry values and files ---- */

struct fval {
	const char *key, *name;
	uint32_t type;
	const char *text;        /* REG_SZ text, or NULL for `raw` */
	const char *raw;
	size_t rawlen;
};

static const struct fval fvals[] = {
	{ "HKCU\\Control Panel\\Desktop", "WallPaper", 1, "C:\\W\\sun.jpg", NULL, 0 },
	{ "HKCU\\Control Panel\\Desktop", "Theme", 1, "dark", NULL, 0 },
	{ "HKCU\\Control Panel\\Desktop", "ThemeCopy", 1, "dark", NULL, 0 },
	{ "HKCU\\Control Panel\\Desktop", "ThemeOther", 1, "light", NULL, 0 },
	{ "HKLM\\Software\\Defaults", "Theme", 1, "dark", NULL, 0 },
	{ "HKCU\\Software\\App", "Level", 4, NULL, "\x2a\0\0\0", 4 },
	{ "HKCU\\Software\\App", "Level2", 4, NULL, "\x2a\0\0\0", 4 },
	{ "HKCU\\Software\\App", "LevelSz", 1, "42", NULL, 0 },
	{ NULL, NULL, 0, NULL, NULL, 0 }
};

struct ffile {
	const char *path;
	const char *content;
	uint64_t size;
	uint64_t mtime;          /* FILETIME */
};

/* 2008/05/16 12:00 UTC = unix 1210939200 */
#define FT(unix) (((uint64_t)(unix) + 11644473600ULL) * 10000000ULL)

static const struct ffile ffiles[] = {
	{ "C:\\Data\\a.txt", "hello", 5, FT(1210939200) },
	{ "C:\\Data\\b.txt", "hello", 5, FT(1210939200 + 86400 * 3) },
	{ "C:\\Data\\c.txt", "world", 5, FT(1210939200 - 86400 * 30) },
	{ "C:\\Data\\big.iso", "x", 3ULL << 30, FT(1210939200) },
	{ "C:\\App\\app.exe", "MZ", 2, FT(1210939200) },
	{ "C:\\App\\Plugins\\p1.dll", "MZ", 2, FT(1210939200) },
	{ NULL, NULL, 0, 0 }
};

struct fake {
	unsigned reads, stats, lists;
};

static const struct fval *find_val(const char *key, const char *name)
{
	for (size_t i = 0; fvals[i].key; i++)
		if (!strcasecmp(fvals[i].key, key) && !strcasecmp(fvals[i].name, name))
			return &fvals[i];
	return NULL;
}

static const struct ffile *find_file(const char *path)
{
	for (size_t i = 0; ffiles[i].path; i++)
		if (!strcasecmp(ffiles[i].path, path))
			return &ffiles[i];
	return NULL;
}

static int f_reg_read(void *ctx, const char *key, const char *value, uint32_t *type,
		      struct ws_buf *data)
{
	const struct fval *v = find_val(key, value ? value : "");
	struct fake *f = ctx;

	f->reads++;
	if (!v)
		return 0;
	*type = v->type;
	if (v->text)
		ws_utf8_to_utf16le(v->text, strlen(v->text) + 1, data);
	else
		ws_buf_add(data, v->raw, v->rawlen);
	return 1;
}

static int f_reg_exists(void *ctx, const char *key, const char *value)
{
	if (value)
		return find_val(key, value) != NULL;
	for (size_t i = 0; fvals[i].key; i++)
		if (!strcasecmp(fvals[i].key, key))
			return 1;
	return 0;
}

static int f_exists(void *ctx, const char *path)
{
	size_t l = strlen(path);

	for (size_t i = 0; ffiles[i].path; i++)
		if (!strncasecmp(ffiles[i].path, path, l) &&
		    (ffiles[i].path[l] == 0 || ffiles[i].path[l] == '\\'))
			return 1;
	return 0;
}

static int f_read(void *ctx, const char *path, size_t max, struct ws_buf *data)
{
	const struct ffile *f = find_file(path);

	((struct fake *)ctx)->reads++;
	if (!f)
		return 0;
	ws_buf_add(data, f->content, strlen(f->content) < max ? strlen(f->content) : max);
	return 1;
}

static int f_stat(void *ctx, const char *path, struct rule_file_stat *st)
{
	const struct ffile *f = find_file(path);

	((struct fake *)ctx)->stats++;
	if (!f)
		return 0;
	memset(st, 0, sizeof(*st));
	st->size = f->size;
	st->write_time = st->creation_time = st->access_time = f->mtime;
	return 1;
}

/* children of a folder, from the file table */
static int f_list(void *ctx, int type, const char *node,
		  void (*fn)(void *arg, const char *name, int is_container), void *arg)
{
	size_t l = strlen(node);
	char seen[16][64];
	size_t nseen = 0;

	((struct fake *)ctx)->lists++;
	for (size_t i = 0; ffiles[i].path; i++) {
		const char *p = ffiles[i].path, *rest, *bs;
		char name[64];
		int dup = 0;

		if (strncasecmp(p, node, l) || p[l] != '\\')
			continue;
		rest = p + l + 1;
		bs = strchr(rest, '\\');
		snprintf(name, sizeof(name), "%.*s", (int)(bs ? (size_t)(bs - rest) : strlen(rest)),
			 rest);
		for (size_t j = 0; j < nseen; j++)
			dup |= !strcasecmp(seen[j], name);
		if (dup || nseen >= 16)
			continue;
		strcpy(seen[nseen++], name);
		fn(arg, name, bs != NULL);
	}
	return 1;
}

static void fake_probe(struct fake *f, struct rule_probe *p)
{
	memset(f, 0, sizeof(*f));
	memset(p, 0, sizeof(*p));
	p->ctx = f;
	p->file_exists = f_exists;
	p->reg_exists = f_reg_exists;
	p->reg_read = f_reg_read;
	p->file_read = f_read;
	p->file_stat = f_stat;
	p->list = f_list;
	p->os_major = 10;
	p->os_build = 19045;
	p->native64 = 1;
}

/* ---- capturing log ---- */

struct logcap {
	char text[8192];
};

static void cap_fn(void *ctx, int level, const char *where, const char *msg)
{
	struct logcap *c = ctx;
	size_t l = strlen(c->text);

	snprintf(c->text + l, sizeof(c->text) - l, "%s: %s\n", where, msg);
}

/* ---- a selection over one XML text ---- */

struct t {
	struct rule_set *rs;
	struct rule_env *env;
	struct rule_sel *sel;
	struct fake fake;
	struct rule_probe probe;
	struct logcap cap;
	struct ws_log log;
};

static void t_open(struct t *t, const char *xml, int ctx)
{
	struct rule_sel_opts o = { 0 };
	struct ws_error err;

	memset(t, 0, sizeof(*t));
	fake_probe(&t->fake, &t->probe);
	t->log.fn = cap_fn;
	t->log.ctx = &t->cap;
	t->log.max_level = WS_LOG_DEBUG;
	t->rs = rule_set_new();
	t->env = rule_env_new();
	rule_env_set(t->env, "SYSTEMDRIVE", "C:");
	rule_env_set(t->env, "APPDIR", "C:\\App");
	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(t->rs, "f.xml", xml, strlen(xml), &t->log, &err), &err);
	o.context = ctx;
	o.env = t->env;
	o.probe = &t->probe;
	o.log = &t->log;
	o.current_user = -1;
	tu_assert_ok(rule_sel_new(t->rs, &o, &t->sel, &err), &err);
}

static void t_close(struct t *t)
{
	rule_sel_free(t->sel);
	rule_set_free(t->rs);
	rule_env_free(t->env);
}

static int comp_state(const struct t *t, size_t i)
{
	struct rule_component_info ci;

	rule_sel_component(t->sel, i, &ci);
	return ci.state;
}

/* One UserAndSystem component with `body` inside <rules>. */
static char *comp_xml(const char *body)
{
	return ws_xasprintf("<migration urlid=\"f\"><component type=\"Application\" "
			    "context=\"UserAndSystem\"><displayName>F</displayName>"
			    "<role role=\"Settings\"><rules>%s</rules></role></component>"
			    "</migration>",
			    body);
}

/* ---- conditions ---- */

static int cond(const char *text)
{
	char *body = ws_xasprintf("<conditions><condition>%s</condition></conditions>"
				  "<include><objectSet><pattern type=\"File\">C:\\Hit\\* [*]"
				  "</pattern></objectSet></include>",
				  text);
	char *xml = comp_xml(body);
	struct t t;
	int rc;

	t_open(&t, xml, RULE_CTX_SYSTEM);
	rc = rule_sel_file(t.sel, "C:\\Hit\\x", NULL);
	if (comp_state(&t, 0) == RULE_COMP_ERROR)
		rc = -1;
	t_close(&t);
	free(xml);
	free(body);
	return rc;
}

static void is_same_content(void **state)
{
	/* registry: same type and bytes */
	assert_int_equal(cond("MigXmlHelper.IsSameContent(\"Registry\",\"HKCU\\Control Panel\\Desktop [Theme]\","
			      "\"Registry\",\"HKCU\\Control Panel\\Desktop [ThemeCopy]\")"), 1);
	assert_int_equal(cond("MigXmlHelper.IsSameContent(\"Registry\",\"HKCU\\Control Panel\\Desktop [Theme]\","
			      "\"Registry\",\"HKCU\\Control Panel\\Desktop [ThemeOther]\")"), 0);
	assert_int_equal(cond("MigXmlHelper.IsSameContent(\"Registry\",\"HKCU\\Software\\App [Level]\","
			      "\"Registry\",\"HKCU\\Software\\App [Level2]\")"), 1);
	/* same text, different type: not the same content */
	assert_int_equal(cond("MigXmlHelper.IsSameContent(\"Registry\",\"HKCU\\Software\\App [Level]\","
			      "\"Registry\",\"HKCU\\Software\\App [LevelSz]\")"), 0);
	/* files: byte for byte; a missing side is FALSE */
	assert_int_equal(cond("MigXmlHelper.IsSameContent(\"File\",\"C:\\Data [a.txt]\","
			      "\"File\",\"C:\\Data [b.txt]\")"), 1);
	assert_int_equal(cond("MigXmlHelper.IsSameContent(\"File\",\"C:\\Data [a.txt]\","
			      "\"File\",\"C:\\Data [c.txt]\")"), 0);
	assert_int_equal(cond("MigXmlHelper.IsSameContent(\"File\",\"C:\\Data [a.txt]\","
			      "\"File\",\"C:\\Data [none.txt]\")"), 0);
	/* variables expand; a key (no value) cannot be compared */
	assert_int_equal(cond("MigXmlHelper.IsSameContent(\"File\",\"%APPDIR% [app.exe]\","
			      "\"File\",\"C:\\App [app.exe]\")"), 1);
	assert_int_equal(cond("MigXmlHelper.IsSameContent(\"Registry\",\"HKCU\\Software\\App\","
			      "\"Registry\",\"HKCU\\Software\\App\")"), -1);
	assert_int_equal(cond("MigXmlHelper.IsSameContent(\"File\",\"C:\\Data [a.txt]\")"), -1);
}

/* ---- include/exclude filters ---- */

static void compare_string_content_filter(void **state)
{
	char *xml = comp_xml(
		"<include filter='MigXmlHelper.CompareStringContent(\"dark\",\"Equal\")'><objectSet>"
		"<pattern type=\"Registry\">HKCU\\Control Panel\\Desktop\\* [Theme*]</pattern>"
		"</objectSet></include>"
		"<include filter='MigXmlHelper.CompareStringContent(\"42\",\"NotEqual\")'><objectSet>"
		"<pattern type=\"Registry\">HKCU\\Software\\App [*]</pattern></objectSet></include>");
	struct t t;
	struct rule_object obj = { 0 };
	struct ws_buf raw = WS_BUF_INIT;

	t_open(&t, xml, RULE_CTX_USER);
	assert_int_equal(comp_state(&t, 0), RULE_COMP_ACTIVE);
	assert_true(rule_sel_reg(t.sel, "HKCU\\Control Panel\\Desktop", "Theme", NULL));
	assert_true(rule_sel_reg(t.sel, "HKCU\\Control Panel\\Desktop", "ThemeCopy", NULL));
	assert_false(rule_sel_reg(t.sel, "HKCU\\Control Panel\\Desktop", "ThemeOther", NULL));
	/* a value the probe cannot read: the filter answers FALSE */
	assert_false(rule_sel_reg(t.sel, "HKCU\\Control Panel\\Desktop", "ThemeGone", NULL));
	/* DWORDs compare as decimal text; "NotEqual" inverts */
	assert_false(rule_sel_reg(t.sel, "HKCU\\Software\\App", "Level", NULL));
	/* content supplied by the walker wins over the probe */
	ws_utf8_to_utf16le("7", 2, &raw);
	obj.has_value = 1;
	obj.reg_type = 1;
	obj.data = raw.buf;
	obj.len = raw.len;
	t.fake.reads = 0;
	assert_true(rule_sel_object_ex(t.sel, RULE_REGISTRY, "HKCU\\Software\\App", "Level", &obj,
				       NULL));
	assert_int_equal(t.fake.reads, 0);
	ws_buf_release(&raw);
	t_close(&t);
	free(xml);
}

static void file_properties_filter(void **state)
{
	char *xml = comp_xml(
		"<include filter='MigXmlHelper.FileProperties(\"filesize\",\"lt\",\"1GB\")'><objectSet>"
		"<pattern type=\"File\">C:\\Data\\* [*]</pattern></objectSet></include>"
		"<exclude filter='MigXmlHelper.FileProperties(\"dateModified\",\"range\","
		"\"2008/05/15-2008/05/17\")'><objectSet>"
		"<pattern type=\"File\">C:\\Data\\* [*.txt]</pattern></objectSet></exclude>");
	struct t t;
	struct rule_object obj = { 0 };

	t_open(&t, xml, RULE_CTX_SYSTEM);
	assert_int_equal(comp_state(&t, 0), RULE_COMP_ACTIVE);
	/* a.txt modified 2008/05/16: in the excluded range */
	assert_false(rule_sel_file(t.sel, "C:\\Data\\a.txt", NULL));
	/* b.txt 2008/05/19 and c.txt in April: outside, so included */
	assert_true(rule_sel_file(t.sel, "C:\\Data\\b.txt", NULL));
	assert_true(rule_sel_file(t.sel, "C:\\Data\\c.txt", NULL));
	/* 3 GiB: the include's size test fails */
	assert_false(rule_sel_file(t.sel, "C:\\Data\\big.iso", NULL));
	/* walker-supplied stat: no probe call */
	t.fake.stats = 0;
	obj.has_stat = 1;
	obj.st.size = 100;
	obj.st.write_time = FT(1210939200 + 86400 * 10);
	assert_true(rule_sel_object_ex(t.sel, RULE_FILE, "C:\\Data", "new.txt", &obj, NULL));
	obj.st.write_time = FT(1210939200 + 86400); /* 05/17: range end is inclusive */
	assert_false(rule_sel_object_ex(t.sel, RULE_FILE, "C:\\Data", "new.txt", &obj, NULL));
	assert_int_equal(t.fake.stats, 0);
	t_close(&t);
	free(xml);
}

static void file_properties_values(void **state)
{
	uint64_t lo, hi;

	assert_int_equal(rule_parse_size_range("5GB", &lo, &hi), 0);
	assert_true(lo == 5ULL << 30 && hi == (5ULL << 30) + 1);
	assert_int_equal(rule_parse_size_range("1KB-1MB", &lo, &hi), 0);
	assert_true(lo == 1024 && hi == (1 << 20) + 1);
	assert_int_equal(rule_parse_size_range("1.5 kb", &lo, &hi), 0);
	assert_true(lo == 1536);
	assert_int_equal(rule_parse_size_range("12", &lo, &hi), 0);
	assert_true(lo == 12 && hi == 13);
	assert_int_equal(rule_parse_size_range("1MB-1KB", &lo, &hi), -1);
	assert_int_equal(rule_parse_size_range("5XB", &lo, &hi), -1);
	assert_int_equal(rule_parse_size_range("99999999999999999999", &lo, &hi), -1);
	assert_int_equal(rule_parse_size_range("", &lo, &hi), -1);
	assert_int_equal(rule_parse_date_range("2008/05/16", &lo, &hi), 0);
	assert_true(lo == FT(1210896000) && hi == FT(1210896000 + 86400));
	assert_int_equal(rule_parse_date_range("2008/05/16 12:00:00", &lo, &hi), 0);
	assert_true(lo == FT(1210939200) && hi == FT(1210939201));
	assert_int_equal(rule_parse_date_range("2008/05/15-2008/05/17", &lo, &hi), 0);
	assert_true(hi - lo == 3ULL * 86400 * 10000000ULL);
	assert_int_equal(rule_parse_date_range("2008/13/01", &lo, &hi), -1);
	assert_int_equal(rule_parse_date_range("2008/05/17-2008/05/15", &lo, &hi), -1);
	assert_int_equal(rule_parse_date_range("yesterday", &lo, &hi), -1);
}

static void bad_filter_arguments_make_component_error(void **state)
{
	static const char *const bad[] = {
		"MigXmlHelper.FileProperties(\"color\",\"eq\",\"red\")",
		"MigXmlHelper.FileProperties(\"filesize\",\"about\",\"1KB\")",
		"MigXmlHelper.FileProperties(\"dateCreated\",\"lt\",\"2008-05-15\")",
		"MigXmlHelper.CompareStringContent()",
		"MigXmlHelper.SameRegContent()",
		"MigXmlHelper.SameRegContent(\"%NOPE%\\X [v]\")",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *body = ws_xasprintf("<include filter='%s'><objectSet><pattern type=\"File\">"
					  "C:\\Data\\* [*]</pattern></objectSet></include>",
					  bad[i]);
		char *xml = comp_xml(body);
		struct t t;
		struct rule_component_info ci;

		t_open(&t, xml, RULE_CTX_SYSTEM);
		rule_sel_component(t.sel, 0, &ci);
		if (ci.state != RULE_COMP_ERROR)
			fail_msg("filter %s: state %d", bad[i], ci.state);
		assert_non_null(strstr(t.cap.text, "skipped"));
		assert_false(rule_sel_file(t.sel, "C:\\Data\\a.txt", NULL));
		t_close(&t);
		free(xml);
		free(body);
	}
}

static void same_reg_content_exclude(void **state)
{
	/* leave out Desktop values equal to the machine's default */
	char *xml = comp_xml(
		"<include><objectSet><pattern type=\"Registry\">HKCU\\Control Panel\\Desktop [*]"
		"</pattern></objectSet></include>"
		"<exclude filter='MigXmlHelper.SameRegContent(\"Registry\",\"HKLM\\Software\\Defaults [Theme]\")'>"
		"<objectSet><pattern type=\"Registry\">HKCU\\Control Panel\\Desktop [*]</pattern>"
		"</objectSet></exclude>");
	struct t t;

	t_open(&t, xml, RULE_CTX_USER);
	assert_int_equal(comp_state(&t, 0), RULE_COMP_ACTIVE);
	assert_false(rule_sel_reg(t.sel, "HKCU\\Control Panel\\Desktop", "Theme", NULL));
	assert_true(rule_sel_reg(t.sel, "HKCU\\Control Panel\\Desktop", "ThemeOther", NULL));
	assert_true(rule_sel_reg(t.sel, "HKCU\\Control Panel\\Desktop", "WallPaper", NULL));
	t_close(&t);
	free(xml);
}

/* ---- <detect> with an objectSet ---- */

static int detect_state(const char *detect)
{
	char *xml = ws_xasprintf(
		"<migration urlid=\"d\"><component type=\"Application\" context=\"System\">"
		"<displayName>D</displayName><role role=\"Settings\">"
		"<detects><detect>%s</detect></detects>"
		"<rules><include><objectSet><pattern type=\"File\">C:\\App\\* [*]</pattern>"
		"</objectSet></include></rules></role></component></migration>",
		detect);
	struct t t;
	int st;

	t_open(&t, xml, RULE_CTX_SYSTEM);
	st = comp_state(&t, 0);
	t_close(&t);
	free(xml);
	return st;
}

static void detect_with_object_set(void **state)
{
	assert_int_equal(detect_state("<objectSet><pattern type=\"File\">C:\\App [app.exe]</pattern>"
				      "</objectSet>"),
			 RULE_COMP_ACTIVE);
	assert_int_equal(detect_state("<objectSet><pattern type=\"File\">C:\\App [gone.exe]</pattern>"
				      "</objectSet>"),
			 RULE_COMP_NOT_DETECTED);
	/* any one object of the set is enough; variables expand */
	assert_int_equal(detect_state("<objectSet><pattern type=\"File\">C:\\Nope [x]</pattern>"
				      "<pattern type=\"File\">%APPDIR% [app.exe]</pattern></objectSet>"),
			 RULE_COMP_ACTIVE);
	/* wildcards walk the probe's listing */
	assert_int_equal(detect_state("<objectSet><pattern type=\"File\">C:\\App\\* [*.dll]</pattern>"
				      "</objectSet>"),
			 RULE_COMP_ACTIVE);
	assert_int_equal(detect_state("<objectSet><pattern type=\"File\">C:\\App\\* [*.ocx]</pattern>"
				      "</objectSet>"),
			 RULE_COMP_NOT_DETECTED);
	/* registry objects, and the set's own conditions */
	assert_int_equal(detect_state("<objectSet><pattern type=\"Registry\">HKLM\\Software\\Defaults "
				      "[Theme]</pattern></objectSet>"),
			 RULE_COMP_ACTIVE);
	assert_int_equal(detect_state("<objectSet><condition>MigXmlHelper.IsNative64Bit()</condition>"
				      "<pattern type=\"File\">C:\\App [app.exe]</pattern></objectSet>"),
			 RULE_COMP_ACTIVE);
	assert_int_equal(detect_state("<objectSet><condition negation=\"Yes\">MigXmlHelper."
				      "IsNative64Bit()</condition><pattern type=\"File\">C:\\App "
				      "[app.exe]</pattern></objectSet>"),
			 RULE_COMP_NOT_DETECTED);
	/* OR-ed with the detect's conditions */
	assert_int_equal(detect_state("<condition>MigXmlHelper.DoesObjectExist(\"File\",\"C:\\Nope\")"
				      "</condition><objectSet><pattern type=\"File\">C:\\Data [a.txt]"
				      "</pattern></objectSet>"),
			 RULE_COMP_ACTIVE);
}

/* ---- apply-side accessors ---- */

static void remap_variables_listed(void **state)
{
	const char *xml =
		"<migration urlid=\"r\"><component type=\"Application\" context=\"System\">"
		"<displayName>R</displayName>"
		"<environment><variable name=\"AppRoot\" remap=\"TRUE\"><text>C:\\App</text></variable>"
		"<variable name=\"Plain\"><text>C:\\Plain</text></variable>"
		"<variable name=\"Found\" remap=\"yes\"><objectSet>"
		"<pattern type=\"File\">C:\\Nope\\*</pattern>"
		"<pattern type=\"File\">C:\\Data [a.txt]</pattern></objectSet></variable></environment>"
		"<role role=\"Settings\"><rules><include><objectSet>"
		"<pattern type=\"File\">%AppRoot%\\* [*]</pattern></objectSet></include></rules></role>"
		"</component>"
		"<component type=\"Application\" context=\"System\"><displayName>Off</displayName>"
		"<environment><variable name=\"OffRoot\" remap=\"TRUE\"><text>C:\\Off</text></variable>"
		"</environment><role role=\"Settings\"><detection><conditions><condition>"
		"MigXmlHelper.DoesObjectExist(\"File\",\"C:\\Off\")</condition></conditions></detection>"
		"<rules><include><objectSet><pattern type=\"File\">C:\\Off\\* [*]</pattern></objectSet>"
		"</include></rules></role></component></migration>";
	struct t t;
	struct rule_remap r;

	t_open(&t, xml, RULE_CTX_SYSTEM);
	/* only the active component's remap variables, with their values */
	assert_int_equal(rule_sel_remap_count(t.sel), 2);
	assert_int_equal(rule_sel_remap(t.sel, 0, &r), 0);
	assert_string_equal(r.name, "AppRoot");
	assert_string_equal(r.value, "C:\\App");
	assert_string_equal(r.component, "R");
	assert_string_equal(r.file, "f.xml");
	assert_int_equal(rule_sel_remap(t.sel, 1, &r), 0);
	assert_string_equal(r.name, "Found");
	assert_string_equal(r.value, "C:\\Data");
	assert_int_equal(rule_sel_remap(t.sel, 2, &r), -1);
	t_close(&t);
}

static void add_objects_listed_typed(void **state)
{
	char *xml = comp_xml(
		"<include><objectSet><pattern type=\"Registry\">HKCU\\Software\\App\\* [*]</pattern>"
		"</objectSet></include>"
		"<addObjects>"
		"<object><location type=\"Registry\">HKCU\\Software\\App [Emulated]</location>"
		"<attributes>DWORD</attributes><bytes>2A 00 00 00</bytes></object>"
		"<object><location type=\"Registry\">HKCU\\Software\\App [Where]</location>"
		"<attributes>ExpandString</attributes><bytes string=\"Yes\" expand=\"Yes\">%APPDIR%</bytes>"
		"</object>"
		"<object><location type=\"File\">%APPDIR% [marker.txt]</location>"
		"<attributes>Archive, Hidden</attributes></object>"
		"<object><location type=\"Registry\">HKCU\\Software\\App [Bad]</location>"
		"<attributes>Dword</attributes><bytes>2A0</bytes></object>"
		"<object><location type=\"Registry\">HKCU\\Software\\App [BadType]</location>"
		"<attributes>Colour</attributes></object>"
		"<object><condition>MigXmlHelper.DoesObjectExist(\"File\",\"C:\\Nope\")</condition>"
		"<location type=\"Registry\">HKCU\\Software\\App [Never]</location></object>"
		"</addObjects>"
		"<addObjects><conditions><condition negation=\"Yes\">MigXmlHelper.IsNative64Bit()"
		"</condition></conditions><object><location type=\"Registry\">HKCU\\X [Never2]</location>"
		"</object></addObjects>");
	struct t t;
	struct rule_add_object a;

	t_open(&t, xml, RULE_CTX_USER);
	assert_int_equal(rule_sel_add_object_count(t.sel), 3);
	assert_int_equal(rule_sel_add_object(t.sel, 0, &a), 0);
	assert_int_equal(a.type, RULE_REGISTRY);
	assert_string_equal(a.location, "HKCU\\Software\\App [Emulated]");
	assert_int_equal(a.reg_type, 4);
	assert_int_equal(a.len, 4);
	assert_memory_equal(a.data, "\x2a\0\0\0", 4);
	assert_string_equal(a.component, "F");
	assert_int_equal(rule_sel_add_object(t.sel, 1, &a), 0);
	assert_int_equal(a.reg_type, 2);
	assert_int_equal(a.len, 14); /* "C:\App" + NUL in UTF-16LE */
	assert_memory_equal(a.data, "C\0:\0\\\0A\0p\0p\0\0\0", 14);
	assert_int_equal(rule_sel_add_object(t.sel, 2, &a), 0);
	assert_int_equal(a.type, RULE_FILE);
	assert_string_equal(a.location, "C:\\App [marker.txt]");
	assert_int_equal(a.file_attributes, 0x22);
	assert_null(a.data);
	assert_int_equal(rule_sel_add_object(t.sel, 3, &a), -1);
	/* the malformed objects are named in warnings */
	assert_non_null(strstr(t.cap.text, "not hex pairs"));
	assert_non_null(strstr(t.cap.text, "attributes 'Colour' unknown"));
	t_close(&t);
	free(xml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(is_same_content),
		cmocka_unit_test(compare_string_content_filter),
		cmocka_unit_test(file_properties_filter),
		cmocka_unit_test(file_properties_values),
		cmocka_unit_test(bad_filter_arguments_make_component_error),
		cmocka_unit_test(same_reg_content_exclude),
		cmocka_unit_test(detect_with_object_set),
		cmocka_unit_test(remap_variables_listed),
		cmocka_unit_test(add_objects_listed_typed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
