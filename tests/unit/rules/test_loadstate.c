/* test_loadstate.c - the LoadState transforms of rule_loadstate.c, table
 * driven: script parsing with variables, locationModify (Move, RelativeMove,
 * ExactMove), contentModify on raw registry data, merge decisions and the
 * FindFilePlaceByPattern names; unsupported functions are refused with a
 * reason, never a silent success. */
#include "tu.h"

#include <stdio.h>
#include <string.h>

#include "rules/rules.h"
#include "util/ws_utf.h"

static void parse_or_die(const char *script, const struct rule_env *env, struct rule_ls_call *c)
{
	struct ws_buf why = WS_BUF_INIT;

	if (rule_ls_parse(script, env, c, &why) != 0)
		fail_msg("parse '%s': %s", script, why.buf ? why.buf : "");
	ws_buf_release(&why);
}

static void parse_expands_variables(void **state)
{
	struct rule_env *env = rule_env_new();
	struct rule_ls_call c;
	struct ws_buf why = WS_BUF_INIT;
	(void)state;

	rule_env_set(env, "CSIDL_APPDATA", "C:\\Users\\bob\\AppData\\Roaming");
	parse_or_die("MigXmlHelper.RelativeMove('%CSIDL_APPDATA%\\Office', \"%CSIDL_APPDATA%\")",
		     env, &c);
	assert_string_equal(c.fn, "RelativeMove");
	assert_int_equal(c.nargs, 2);
	assert_string_equal(c.args[0], "C:\\Users\\bob\\AppData\\Roaming\\Office");
	assert_string_equal(c.args[1], "C:\\Users\\bob\\AppData\\Roaming");
	rule_ls_call_release(&c);
	parse_or_die("ConvertToDWORD(NULL)", env, &c);
	assert_string_equal(c.fn, "ConvertToDWORD");
	assert_int_equal(c.nargs, 1);
	assert_null(c.args[0]);
	rule_ls_call_release(&c);
	/* unset variable, other prefix, syntax: refused with a reason */
	assert_int_equal(rule_ls_parse("MigXmlHelper.Move('%NOPE%\\x')", env, &c, &why), -1);
	assert_non_null(strstr(why.buf, "NOPE"));
	rule_ls_call_release(&c);
	ws_buf_reset(&why);
	assert_int_equal(rule_ls_parse("MigSysHelper.ConvertToOfficeLangID()", env, &c, &why), -1);
	assert_non_null(strstr(why.buf, "MigSysHelper"));
	rule_ls_call_release(&c);
	assert_int_equal(rule_ls_parse("Move('unclosed", env, &c, NULL), -1);
	rule_ls_call_release(&c);
	assert_int_equal(rule_ls_parse(NULL, env, &c, NULL), -1);
	ws_buf_release(&why);
	rule_env_free(env);
}

/* ---- locationModify ------------------------------------------------------ */

struct loc_case {
	const char *script;
	int type;
	const char *node, *leaf;
	int rc;
	const char *new_node, *new_leaf;
};

static void location_table(void **state)
{
	static const char *const roots[] = {
		"C:\\Users\\alice", "C:\\Users\\alice\\Documents", "C:\\Users\\alice\\AppData\\Roaming"
	};
	static const struct loc_case cases[] = {
		/* RelativeMove keeps the path below the source root */
		{ "RelativeMove('C:\\EngineeringDrafts','C:\\Users\\alice\\Documents')", RULE_FILE,
		  "C:\\EngineeringDrafts\\Sub\\Deep", "a.dwg", 1,
		  "C:\\Users\\alice\\Documents\\Sub\\Deep", "a.dwg" },
		{ "RelativeMove('C:\\EngineeringDrafts\\','C:\\Dest\\')", RULE_FILE,
		  "c:\\engineeringdrafts", "a.dwg", 1, "C:\\Dest", "a.dwg" },
		/* a folder merely sharing the prefix is not below the root */
		{ "RelativeMove('C:\\Eng','C:\\Dest')", RULE_FILE, "C:\\Engine", "a", 0, NULL, NULL },
		{ "RelativeMove('C:\\Eng','C:\\Dest')", RULE_FILE, "D:\\Eng", "a", 0, NULL, NULL },
		/* the folder itself (no leaf) */
		{ "RelativeMove('C:\\Eng','C:\\Dest')", RULE_FILE, "C:\\Eng\\x", NULL, 1,
		  "C:\\Dest\\x", NULL },
		{ "RelativeMove('HKEY_CURRENT_USER\\Software\\Old','HKCU\\Software\\New')",
		  RULE_REGISTRY, "HKCU\\Software\\Old\\Settings", "Level", 1,
		  "HKCU\\Software\\New\\Settings", "Level" },
		/* Move: below the longest known folder holding it */
		{ "Move('D:\\Archive')", RULE_FILE, "C:\\Users\\alice\\Documents\\Sub", "r.doc", 1,
		  "D:\\Archive\\Sub", "r.doc" },
		{ "Move('D:\\Archive')", RULE_FILE, "C:\\Users\\alice\\Documents", "r.doc", 1,
		  "D:\\Archive", "r.doc" },
		{ "Move('D:\\Archive')", RULE_FILE, "C:\\Data\\x", "r.doc", 1,
		  "D:\\Archive\\Data\\x", "r.doc" },
		{ "Move('HKCU\\Software\\Moved')", RULE_REGISTRY, "HKCU\\Software\\App", "V", 1,
		  "HKCU\\Software\\Moved\\Software\\App", "V" },
		/* ExactMove: a leaf replaces node and leaf; a node keeps the leaf */
		{ "ExactMove('HKCU\\Keyboard Layout\\Toggle [HotKey]')", RULE_REGISTRY,
		  "HKCU\\Keyboard Layout\\Toggle", "", 1, "HKCU\\Keyboard Layout\\Toggle", "HotKey" },
		{ "ExactMove('C:\\Flat')", RULE_FILE, "C:\\Users\\alice\\Documents\\a\\b", "f.txt", 1,
		  "C:\\Flat", "f.txt" },
		{ "ExactMove('C:\\Flat [one^].txt]')", RULE_FILE, "C:\\X", "f.txt", 1,
		  "C:\\Flat", "one].txt" },
		/* bad arguments and other functions */
		{ "RelativeMove('C:\\Only')", RULE_FILE, "C:\\Only", "a", -1, NULL, NULL },
		{ "Move()", RULE_FILE, "C:\\x", "a", -1, NULL, NULL },
		{ "ExactMove(NULL)", RULE_FILE, "C:\\x", "a", -1, NULL, NULL },
		{ "SourcePriority()", RULE_FILE, "C:\\x", "a", -1, NULL, NULL },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct loc_case *k = &cases[i];
		struct rule_ls_call c;
		struct ws_buf n = WS_BUF_INIT, l = WS_BUF_INIT, why = WS_BUF_INIT;
		int rc;

		parse_or_die(k->script, NULL, &c);
		rc = rule_ls_location(&c, k->type, k->node, k->leaf, roots, 3, &n, &l, &why);
		if (rc != k->rc)
			fail_msg("case %zu %s: rc %d, want %d (%s)", i, k->script, rc, k->rc,
				 why.buf ? why.buf : "");
		if (rc < 0)
			assert_true(why.len > 0);
		if (k->new_node)
			assert_string_equal(n.buf, k->new_node);
		if (k->new_leaf)
			assert_string_equal(l.buf ? l.buf : "", k->new_leaf);
		if (rc == 1 && !k->leaf)
			assert_int_equal(l.len, 0);
		rule_ls_call_release(&c);
		ws_buf_release(&n);
		ws_buf_release(&l);
		ws_buf_release(&why);
	}
}

/* ---- contentModify ------------------------------------------------------- */

/* Raw data of a value written as "sz:text", "esz:text", "dw:N", "qw:N",
 * "bin:hex", "multi:a|b|c". */
static void raw(const char *spec, uint32_t *type, struct ws_buf *out)
{
	const char *colon = strchr(spec, ':');
	const char *v = colon + 1;

	if (!strncmp(spec, "sz:", 3) || !strncmp(spec, "esz:", 4)) {
		*type = spec[0] == 'e' ? 2 : 1;
		ws_utf8_to_utf16le(v, strlen(v), out);
		ws_buf_add_u16le(out, 0);
	} else if (!strncmp(spec, "dw:", 3)) {
		*type = 4;
		ws_buf_add_u32le(out, strtoul(v, NULL, 0));
	} else if (!strncmp(spec, "qw:", 3)) {
		*type = 11;
		ws_buf_add_u64le(out, strtoull(v, NULL, 0));
	} else if (!strncmp(spec, "bin:", 4)) {
		*type = 3;
		for (; v[0] && v[1]; v += 2) {
			char h[3] = { v[0], v[1], 0 };
			ws_buf_addch(out, (int)strtoul(h, NULL, 16));
		}
	} else if (!strncmp(spec, "multi:", 6)) {
		*type = 7;
		while (*v) {
			const char *bar = strchr(v, '|');
			size_t l = bar ? (size_t)(bar - v) : strlen(v);

			ws_utf8_to_utf16le(v, l, out);
			ws_buf_add_u16le(out, 0);
			v += l + (bar ? 1 : 0);
		}
		ws_buf_add_u16le(out, 0);
	} else {
		fail_msg("bad spec %s", spec);
	}
}

struct content_case {
	const char *script;
	const char *src;
	const char *dst;         /* NULL: no value on the target */
	int rc;
	const char *want;        /* spec of the result when rc == 1 */
};

static void content_table(void **state)
{
	static const struct content_case cases[] = {
		{ "ConvertToDWORD(NULL)", "sz:1", NULL, 1, "dw:1" },
		{ "ConvertToDWORD(NULL)", "sz: 0x1F ", NULL, 1, "dw:31" },
		{ "ConvertToDWORD(NULL)", "sz:-1", NULL, 1, "dw:0xFFFFFFFF" },
		{ "ConvertToDWORD('7')", "sz:seven", NULL, 1, "dw:7" },
		{ "ConvertToDWORD(NULL)", "sz:seven", NULL, 1, "dw:0" },
		{ "ConvertToDWORD()", "sz:99999999999", NULL, 1, "dw:0" },
		{ "ConvertToDWORD('x')", "sz:seven", NULL, -1, NULL },
		{ "ConvertToDWORD(NULL)", "dw:5", NULL, 0, NULL },
		{ "ConvertToDWORD(NULL)", "qw:12", NULL, 1, "dw:12" },
		{ "ConvertToDWORD(NULL)", "bin:0a000000", NULL, 1, "dw:10" },
		{ "ConvertToString(NULL)", "dw:42", NULL, 1, "sz:42" },
		{ "ConvertToString(NULL)", "qw:5000000000", NULL, 1, "sz:5000000000" },
		{ "ConvertToString('1')", "bin:ff", NULL, 1, "sz:1" },
		{ "ConvertToString(NULL)", "bin:ff", NULL, 1, "sz:0" },
		{ "ConvertToString(NULL)", "sz:same", NULL, 0, NULL },
		{ "ConvertToString(NULL)", "esz:%WINDIR%", NULL, 1, "sz:%WINDIR%" },
		{ "ConvertToBinary()", "dw:1", NULL, 1, "bin:01000000" },
		{ "ConvertToBinary()", "bin:0102", NULL, 0, NULL },
		{ "OffsetValue('-2')", "dw:14", NULL, 1, "dw:12" },
		{ "OffsetValue(2)", "dw:0xFFFFFFFF", NULL, 1, "dw:1" },
		{ "OffsetValue('10')", "sz:5", NULL, 1, "sz:15" },
		{ "OffsetValue('0')", "dw:3", NULL, 0, NULL },
		{ "OffsetValue('x')", "dw:3", NULL, -1, NULL },
		{ "OffsetValue('1')", "sz:abc", NULL, -1, NULL },
		{ "SetValueByTable('0,1,2','10,11,12',NULL)", "dw:1", NULL, 1, "dw:11" },
		{ "SetValueByTable('a, b','x, y','zz')", "sz:B", NULL, 1, "sz:y" },
		{ "SetValueByTable('a,b','x,y','zz')", "sz:c", NULL, 1, "sz:zz" },
		{ "SetValueByTable('a,b','x',NULL)", "sz:b", NULL, 0, NULL },
		{ "SetValueByTable('a,b|x,y','d')", "sz:a", NULL, 1, "sz:x" },
		{ "SetValueByTable('a,b|x,y','d')", "sz:q", NULL, 1, "sz:d" },
		{ "SetValueByTable(NULL)", "sz:q", NULL, -1, NULL },
		{ "KeepExisting('Security')", "dw:1", NULL, 0, NULL },
		{ "MergeMultiSzContent('Add','c','Remove','a')", "multi:a|b", "multi:d|B", 1,
		  "multi:d|B|c" },
		{ "MergeMultiSzContent()", "multi:a|b", NULL, 0, NULL },
		{ "MergeMultiSzContent('Add')", "multi:a", NULL, -1, NULL },
		{ "MergeMultiSzContent('Swap','x')", "multi:a", NULL, -1, NULL },
		{ "MergeMultiSzContent()", "dw:1", NULL, -1, NULL },
		{ "MergeDelimitedContent(';','Add','C:\\x')", "sz:C:\\a;C:\\b", "sz:C:\\b;C:\\z", 1,
		  "sz:C:\\b;C:\\z;C:\\a;C:\\x" },
		{ "MergeDelimitedContent(',;','Remove','b')", "sz:a,b;c", NULL, 1, "sz:a,c" },
		{ "MergeDelimitedContent(NULL)", "sz:a", NULL, -1, NULL },
		{ "MergeShellLibraries('TRUE','TRUE')", "sz:a", NULL, -1, NULL },
		{ "Frobnicate()", "sz:a", NULL, -1, NULL },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct content_case *k = &cases[i];
		struct rule_ls_call c;
		struct ws_buf s = WS_BUF_INIT, d = WS_BUF_INIT, out = WS_BUF_INIT, w = WS_BUF_INIT,
			      why = WS_BUF_INIT;
		struct rule_ls_value sv, dv;
		uint32_t ot = 99, wt = 0;
		int rc;

		parse_or_die(k->script, NULL, &c);
		raw(k->src, &sv.type, &s);
		sv.data = (const unsigned char *)s.buf;
		sv.len = s.len;
		if (k->dst) {
			raw(k->dst, &dv.type, &d);
			dv.data = (const unsigned char *)d.buf;
			dv.len = d.len;
		}
		rc = rule_ls_content(&c, &sv, k->dst ? &dv : NULL, &ot, &out, &why);
		if (rc != k->rc)
			fail_msg("case %zu %s on %s: rc %d, want %d (%s)", i, k->script, k->src, rc,
				 k->rc, why.buf ? why.buf : "");
		if (rc == 1) {
			raw(k->want, &wt, &w);
			if (ot != wt || out.len != w.len || memcmp(out.buf, w.buf, w.len))
				fail_msg("case %zu %s on %s: wrong result (type %u, %zu bytes)", i,
					 k->script, k->src, ot, out.len);
		} else {
			assert_int_equal(out.len, 0);
		}
		if (rc < 0)
			assert_true(why.len > 0);
		rule_ls_call_release(&c);
		ws_buf_release(&s);
		ws_buf_release(&d);
		ws_buf_release(&out);
		ws_buf_release(&w);
		ws_buf_release(&why);
	}
}

/* ---- merge ---------------------------------------------------------------- */

struct merge_case {
	const char *script;
	int type;
	const char *src, *dst;           /* registry specs, or NULL */
	const char *sver, *dver;         /* file versions */
	uint64_t stime, dtime;
	int want;
};

static void merge_table(void **state)
{
	static const struct merge_case cases[] = {
		{ "SourcePriority()", RULE_FILE, NULL, NULL, NULL, NULL, 0, 0, RULE_LS_SOURCE },
		{ "MigXmlHelper.DestinationPriority()", RULE_REGISTRY, "dw:1", "dw:2", NULL, NULL, 0, 0,
		  RULE_LS_DESTINATION },
		{ "FindFilePlaceByPattern('<F> (<N>).<E>')", RULE_FILE, NULL, NULL, NULL, NULL, 0, 0,
		  RULE_LS_PLACE },
		{ "FindFilePlaceByPattern('<F>.<E>')", RULE_FILE, NULL, NULL, NULL, NULL, 0, 0, -1 },
		{ "FindFilePlaceByPattern('<F> (<N>).<E>')", RULE_REGISTRY, "dw:1", "dw:1", NULL, NULL,
		  0, 0, -1 },
		/* NewestVersion: version first ("1.10" > "1.9"), then time */
		{ "NewestVersion('FileVersion')", RULE_FILE, NULL, NULL, "1.10.0.0", "1.9.0.0", 1, 2,
		  RULE_LS_SOURCE },
		{ "NewestVersion('FileVersion')", RULE_FILE, NULL, NULL, "1.0.0.0", "2.0.0.0", 2, 1,
		  RULE_LS_DESTINATION },
		{ "NewestVersion('ProductVersion')", RULE_FILE, NULL, NULL, NULL, "2.0", 200, 100,
		  RULE_LS_SOURCE },
		{ "NewestVersion('FileVersion')", RULE_FILE, NULL, NULL, "3.0", "3.0", 100, 200,
		  RULE_LS_DESTINATION },
		{ "NewestVersion('FileVersion')", RULE_FILE, NULL, NULL, NULL, NULL, 5, 5,
		  RULE_LS_DESTINATION },
		{ "NewestVersion('CompanyName')", RULE_FILE, NULL, NULL, NULL, NULL, 0, 0, -1 },
		{ "HigherValue()", RULE_REGISTRY, "dw:10", "dw:3", NULL, NULL, 0, 0, RULE_LS_SOURCE },
		{ "HigherValue()", RULE_REGISTRY, "dw:3", "sz:10", NULL, NULL, 0, 0,
		  RULE_LS_DESTINATION },
		{ "HigherValue()", RULE_REGISTRY, "dw:3", "dw:3", NULL, NULL, 0, 0, RULE_LS_DESTINATION },
		{ "LowerValue()", RULE_REGISTRY, "qw:1", "dw:3", NULL, NULL, 0, 0, RULE_LS_SOURCE },
		{ "LowerValue()", RULE_REGISTRY, "sz:x", "dw:3", NULL, NULL, 0, 0, -1 },
		{ "HigherValue()", RULE_FILE, NULL, NULL, NULL, NULL, 0, 0, -1 },
		{ "LeafPattern()", RULE_FILE, NULL, NULL, NULL, NULL, 0, 0, -1 },
		{ "RelativeMove('a','b')", RULE_FILE, NULL, NULL, NULL, NULL, 0, 0, -1 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct merge_case *k = &cases[i];
		struct rule_ls_call c;
		struct ws_buf s = WS_BUF_INIT, d = WS_BUF_INIT, why = WS_BUF_INIT;
		struct rule_ls_value sv = { 0 }, dv = { 0 };
		struct rule_ls_side ss = { NULL, k->sver, k->stime }, ds = { NULL, k->dver, k->dtime };
		int rc;

		parse_or_die(k->script, NULL, &c);
		if (k->src) {
			raw(k->src, &sv.type, &s);
			sv.data = (const unsigned char *)s.buf;
			sv.len = s.len;
			ss.value = &sv;
		}
		if (k->dst) {
			raw(k->dst, &dv.type, &d);
			dv.data = (const unsigned char *)d.buf;
			dv.len = d.len;
			ds.value = &dv;
		}
		rc = rule_ls_merge(&c, k->type, &ss, &ds, &why);
		if (rc != k->want)
			fail_msg("case %zu %s: %d, want %d (%s)", i, k->script, rc, k->want,
				 why.buf ? why.buf : "");
		if (rc < 0)
			assert_true(why.len > 0);
		rule_ls_call_release(&c);
		ws_buf_release(&s);
		ws_buf_release(&d);
		ws_buf_release(&why);
	}
}

static void place_names(void **state)
{
	static const struct {
		const char *pattern, *name;
		unsigned n;
		const char *want;
	} cases[] = {
		{ "<F> (<N>).<E>", "MyDocument.doc", 1, "MyDocument (1).doc" },
		{ "<F> (<N>).<E>", "archive.tar.gz", 3, "archive.tar (3).gz" },
		{ "<F> (<N>).<E>", "README", 2, "README (2)" },
		{ "<F>_copy<N>.<E>", ".profile", 1, ".profile_copy1" },
		{ "<N>-<F>.<E>", "a.txt", 12, "12-a.txt" },
		{ "<F>.<E>", "a.txt", 1, NULL },
		{ "<F>\\<N>.<E>", "a.txt", 1, NULL },
		{ NULL, "a.txt", 1, NULL },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ws_buf out = WS_BUF_INIT, why = WS_BUF_INIT;
		int rc = rule_ls_place_name(cases[i].pattern, cases[i].name, cases[i].n, &out, &why);

		if (cases[i].want) {
			assert_int_equal(rc, 0);
			assert_string_equal(out.buf, cases[i].want);
		} else {
			assert_int_equal(rc, -1);
			assert_true(why.len > 0);
		}
		ws_buf_release(&out);
		ws_buf_release(&why);
	}
}

static void keep_existing_options(void **state)
{
	struct rule_ls_call c;
	int times = -1;
	uint32_t attrs = 7;
	(void)state;

	parse_or_die("KeepExisting('Security','TimeFields','FileAttrib:H','FileAttrib:hrz')",
		     NULL, &c);
	assert_int_equal(rule_ls_keep_existing(&c, &times, &attrs, NULL), 0);
	assert_int_equal(times, 1);
	assert_int_equal(attrs, 0x2u | 0x1u); /* right-most option; 'z' ignored */
	rule_ls_call_release(&c);
	parse_or_die("KeepExisting('Owner')", NULL, &c);
	assert_int_equal(rule_ls_keep_existing(&c, &times, &attrs, NULL), -1);
	rule_ls_call_release(&c);
	parse_or_die("SourcePriority()", NULL, &c);
	assert_int_equal(rule_ls_keep_existing(&c, &times, &attrs, NULL), -1);
	rule_ls_call_release(&c);
}

static void file_version_of_non_pe(void **state)
{
	struct ws_buf out = WS_BUF_INIT;
	(void)state;

	assert_int_equal(rule_file_version((const unsigned char *)"plain text", 10,
					   "FileVersion", &out), 0);
	assert_int_equal(out.len, 0);
	ws_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_expands_variables),
		cmocka_unit_test(location_table),
		cmocka_unit_test(content_table),
		cmocka_unit_test(merge_table),
		cmocka_unit_test(place_names),
		cmocka_unit_test(keep_existing_options),
		cmocka_unit_test(file_version_of_non_pe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
