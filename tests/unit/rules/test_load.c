/* test_load.c - loading rule files: real-world sloppiness, errors with
 * positions, warnings, by-name references, unsupported helpers, limits. */
#include "tu.h"

#include <stdio.h>
#include <string.h>

#include <expat.h>

#include "rules/rules.h"
#include "rules/rules_private.h"

struct logcap {
	struct ws_buf text;
	int warnings;
};

static void cap_fn(void *ctx, int level, const char *where, const char *msg)
{
	struct logcap *c = ctx;

	if (level <= WS_LOG_WARN)
		c->warnings++;
	ws_buf_addf(&c->text, "%s: %s\n", where, msg);
}

static void cap_init(struct logcap *c, struct ws_log *log)
{
	memset(c, 0, sizeof(*c));
	c->text = (struct ws_buf)WS_BUF_INIT;
	memset(log, 0, sizeof(*log));
	log->fn = cap_fn;
	log->ctx = c;
	log->max_level = WS_LOG_INFO;
}

static int load(struct rule_set *rs, const char *name, const char *xml, struct ws_log *log,
		struct ws_error *err)
{
	ws_error_clear(err);
	return rule_set_load_mem(rs, name, xml, strlen(xml), log, err);
}

static void bom_crlf_and_case_variants(void **state)
{
	const char *xml =
		"\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
		"<Migration urlid=\" http://example.com/x\">\r\n"
		"  <Component Type=\"Documents\" Context=\"user\" id=\"c1\">\r\n"
		"    <DisplayName>Docs</DisplayName>\r\n"
		"    <Role role=\"data\">\r\n"
		"      <Rules>\r\n"
		"        <Include><ObjectSet><Pattern Type=\"File\">C:\\Data\\* [*]</Pattern></ObjectSet></Include>\r\n"
		"        <Exclude><objectset><pattern type=\"file\">C:\\Data\\* [*.tmp]</pattern></objectset></Exclude>\r\n"
		"      </Rules>\r\n"
		"    </Role>\r\n"
		"  </Component>\r\n"
		"</Migration>\r\n";
	struct rule_set *rs = rule_set_new();
	struct ws_error err;
	struct logcap cap;
	struct ws_log log;
	struct rule_component_info ci;

	cap_init(&cap, &log);
	tu_assert_ok(load(rs, "bom.xml", xml, &log, &err), &err);
	assert_int_equal(cap.warnings, 0);
	assert_int_equal(rule_set_component_count(rs), 1);
	rule_set_component(rs, 0, &ci);
	assert_string_equal(ci.name, "Docs");
	assert_string_equal(ci.urlid, "http://example.com/x");
	assert_int_equal(ci.context, RULE_CTX_USER);
	assert_int_equal(ci.line, 3);
	assert_int_equal(ci.state, RULE_COMP_ACTIVE);
	assert_true(rule_set_file_has_include(rs, 0));
	rule_set_free(rs);
	ws_buf_release(&cap.text);
}

static void malformed_xml_reports_position(void **state)
{
	const char *xml = "<migration urlid=\"u\">\n  <component>\n    <role>\n  </component>\n";
	struct rule_set *rs = rule_set_new();
	struct ws_error err;
	char buf[2300];

	assert_int_equal(load(rs, "bad.xml", xml, NULL, &err), WS_E_RULES);
	assert_string_equal(err.where, "bad.xml");
	assert_int_equal(err.line, 4);
	assert_true(err.col > 0);
	ws_error_format(&err, buf, sizeof(buf));
	assert_non_null(strstr(buf, "bad.xml:4:"));
	assert_int_equal(rule_set_component_count(rs), 0);
	rule_set_free(rs);
}

static void wrong_root_and_entities_refused(void **state)
{
	struct rule_set *rs = rule_set_new();
	struct ws_error err;

	assert_int_equal(load(rs, "r.xml", "<Configuration/>", NULL, &err), WS_E_RULES);
	assert_int_equal(load(rs, "e.xml",
			      "<!DOCTYPE m [<!ENTITY a \"aaaa\">]><migration urlid=\"x\">&a;</migration>",
			      NULL, &err),
			 WS_E_RULES);
	assert_int_equal(err.line, 1);
	rule_set_free(rs);
}

static void depth_limit(void **state)
{
	struct ws_buf x = WS_BUF_INIT;
	struct rule_set *rs = rule_set_new();
	struct ws_error err;

	ws_buf_adds(&x, "<migration urlid=\"d\">");
	for (int i = 0; i < RULE_MAX_DEPTH + 5; i++)
		ws_buf_adds(&x, "<rules>");
	for (int i = 0; i < RULE_MAX_DEPTH + 5; i++)
		ws_buf_adds(&x, "</rules>");
	ws_buf_adds(&x, "</migration>");
	assert_int_equal(load(rs, "deep.xml", x.buf, NULL, &err), WS_E_RULES);
	assert_non_null(strstr(err.msg, "deeper"));
	ws_buf_release(&x);
	rule_set_free(rs);
}

static void unknown_element_warns_with_line(void **state)
{
	const char *xml = "<migration urlid=\"u\">\n"
			  "<component type=\"Documents\" context=\"System\">\n"
			  "<displayName>A</displayName>\n"
			  "<frobnicate><deeper/></frobnicate>\n"
			  "<role role=\"Data\"><rules><include><objectSet>\n"
			  "<pattern type=\"File\">C:\\A\\* [*]</pattern>\n"
			  "</objectSet></include></rules></role></component></migration>";
	struct rule_set *rs = rule_set_new();
	struct ws_error err;
	struct logcap cap;
	struct ws_log log;

	cap_init(&cap, &log);
	tu_assert_ok(load(rs, "unk.xml", xml, &log, &err), &err);
	assert_int_equal(cap.warnings, 1);
	assert_non_null(strstr(cap.text.buf, "unk.xml:4: unknown element <frobnicate>"));
	rule_set_free(rs);
	ws_buf_release(&cap.text);
}

static const char *cyclic =
	"<migration urlid=\"cyc\">\n"
	"<namedElements>\n"
	"  <rules name=\"A\"><rules name=\"B\"/></rules>\n"
	"  <rules name=\"B\"><rules name=\"A\"/></rules>\n"
	"</namedElements>\n"
	"<component type=\"Documents\" context=\"System\"><displayName>C</displayName>\n"
	"<role role=\"Data\"><rules name=\"A\"/></role></component>\n"
	"</migration>\n";

static void cyclic_named_elements_error(void **state)
{
	struct rule_set *rs = rule_set_new();
	struct ws_error err;

	assert_int_equal(load(rs, "cyc.xml", cyclic, NULL, &err), WS_E_RULES);
	assert_non_null(strstr(err.msg, "cyclic"));
	assert_true(err.line == 3 || err.line == 4);
	assert_int_equal(rule_set_file_count(rs), 0);
	rule_set_free(rs);
}

static void undefined_reference_error(void **state)
{
	const char *xml = "<migration urlid=\"u\"><component type=\"Documents\" context=\"System\">"
			  "<displayName>C</displayName><role role=\"Data\"><rules name=\"Nope\"/>"
			  "</role></component></migration>";
	struct rule_set *rs = rule_set_new();
	struct ws_error err;

	assert_int_equal(load(rs, "u.xml", xml, NULL, &err), WS_E_RULES);
	assert_non_null(strstr(err.msg, "Nope"));
	rule_set_free(rs);
}

static void unknown_helper_warns_and_skips_component(void **state)
{
	const char *xml =
		"<migration urlid=\"h\">\n"
		"<library prefix=\"MigSysHelper\">MigSys.dll</library>\n"
		"<component type=\"Application\" context=\"UserAndSystem\">\n"
		"<displayName>Office</displayName>\n"
		"<role role=\"Settings\"><rules>\n"
		"<include><objectSet><pattern type=\"Registry\">HKCU\\Software\\Office\\* [*]</pattern></objectSet></include>\n"
		"<contentModify script=\"MigSysHelper.ConvertToOfficeLangID('Registry','x','y')\">\n"
		"<objectSet><pattern type=\"Registry\">HKCU\\Software\\Office [Lang]</pattern></objectSet>\n"
		"</contentModify></rules></role></component>\n"
		"<component type=\"Application\" context=\"UserAndSystem\">\n"
		"<displayName>Fine</displayName>\n"
		"<role role=\"Settings\"><rules><include><objectSet>\n"
		"<pattern type=\"Registry\">HKCU\\Software\\Fine\\* [*]</pattern>\n"
		"</objectSet></include>\n"
		"<merge script=\"MigXmlHelper.SourcePriority()\"><objectSet>"
		"<pattern type=\"Registry\">HKCU\\Software\\Fine\\* [*]</pattern></objectSet></merge>\n"
		"</rules></role></component>\n"
		"</migration>\n";
	struct rule_set *rs = rule_set_new();
	struct ws_error err;
	struct logcap cap;
	struct ws_log log;
	struct rule_component_info ci;

	cap_init(&cap, &log);
	tu_assert_ok(load(rs, "h.xml", xml, &log, &err), &err);
	assert_int_equal(rule_set_component_count(rs), 2);
	rule_set_component(rs, 0, &ci);
	assert_int_equal(ci.state, RULE_COMP_UNSUPPORTED);
	assert_non_null(strstr(ci.reason, "h.xml:7"));
	assert_non_null(strstr(ci.reason, "MigSysHelper.ConvertToOfficeLangID"));
	rule_set_component(rs, 1, &ci);
	assert_int_equal(ci.state, RULE_COMP_ACTIVE);
	assert_non_null(strstr(cap.text.buf, "h.xml:7: helper function ConvertToOfficeLangID"));
	rule_set_free(rs);
	ws_buf_release(&cap.text);
}

static void duplicate_urlid_skipped(void **state)
{
	const char *xml = "<migration urlid=\"same\"><component type=\"Documents\" context=\"System\">"
			  "<displayName>A</displayName><role role=\"Data\"><rules><include><objectSet>"
			  "<pattern type=\"File\">C:\\A [*]</pattern></objectSet></include></rules></role>"
			  "</component></migration>";
	struct rule_set *rs = rule_set_new();
	struct ws_error err;
	struct logcap cap;
	struct ws_log log;

	cap_init(&cap, &log);
	tu_assert_ok(load(rs, "a.xml", xml, &log, &err), &err);
	tu_assert_ok(load(rs, "b.xml", xml, &log, &err), &err);
	assert_int_equal(rule_set_file_count(rs), 1);
	assert_int_equal(rule_set_component_count(rs), 1);
	assert_int_equal(cap.warnings, 1);
	rule_set_free(rs);
	ws_buf_release(&cap.text);
}

static void nested_components_narrow_context(void **state)
{
	const char *xml =
		"<migration urlid=\"n\"><component type=\"Application\" context=\"User\">"
		"<displayName>Parent</displayName><role role=\"Container\">"
		"<component type=\"Application\" context=\"UserAndSystem\"><displayName>Child</displayName>"
		"<role role=\"Settings\"><rules><include><objectSet>"
		"<pattern type=\"File\">C:\\X [*]</pattern></objectSet></include></rules></role>"
		"</component></role></component></migration>";
	struct rule_set *rs = rule_set_new();
	struct ws_error err;
	struct rule_component_info ci;

	tu_assert_ok(load(rs, "n.xml", xml, NULL, &err), &err);
	assert_int_equal(rule_set_component_count(rs), 2);
	rule_set_component(rs, 1, &ci);
	assert_string_equal(ci.name, "Child");
	assert_int_equal(ci.depth, 1);
	assert_int_equal(ci.context, RULE_CTX_USER);
	rule_set_free(rs);
}

static void testdata_files_load_clean(void **state)
{
	static const char *files[] = { "usmt-xml/MigUser.xml", "usmt-xml/MigDocs.xml",
				       "usmt-xml/wallpaper.xml" };
	struct rule_set *rs = rule_set_new();
	struct logcap cap;
	struct ws_log log;
	struct ws_error err;

	cap_init(&cap, &log);
	for (size_t i = 0; i < 3; i++) {
		char *p = tu_testdata(files[i]);

		if (!p) {
			rule_set_free(rs);
			ws_buf_release(&cap.text);
			skip();
		}
		ws_error_clear(&err);
		tu_assert_ok(rule_set_load_file(rs, p, &log, &err), &err);
		free(p);
	}
	if (cap.warnings)
		fail_msg("unexpected warnings:\n%s", cap.text.buf);
	assert_int_equal(rule_set_file_count(rs), 3);
	/* MigUser 16 + MigDocs 2 + wallpaper 2 */
	assert_int_equal(rule_set_component_count(rs), 20);
	for (size_t i = 0; i < rule_set_component_count(rs); i++) {
		struct rule_component_info ci;

		rule_set_component(rs, i, &ci);
		assert_int_equal(ci.state, RULE_COMP_ACTIVE);
	}
	rule_set_free(rs);
	ws_buf_release(&cap.text);
}

static void file_errors(void **state)
{
	struct rule_set *rs = rule_set_new();
	struct ws_error err;

	ws_error_clear(&err);
	assert_int_equal(rule_set_load_file(rs, "/nonexistent/x.xml", NULL, &err), WS_E_IO);
	rule_set_free(rs);
}

static void config_xml_switches_off(void **state)
{
	const char *xml = "<migration urlid=\"c\">"
			  "<component type=\"Documents\" context=\"System\"><displayName>Keep</displayName>"
			  "<role role=\"Data\"><rules><include><objectSet><pattern type=\"File\">C:\\K [*]"
			  "</pattern></objectSet></include></rules></role></component>"
			  "<component type=\"Documents\" context=\"System\"><displayName>Drop</displayName>"
			  "<role role=\"Data\"><rules><include><objectSet><pattern type=\"File\">C:\\D [*]"
			  "</pattern></objectSet></include></rules></role></component></migration>";
	const char *cfg = "<?xml version=\"1.0\"?><Configuration><Documents>"
			  "<component displayname=\"Keep\" migrate=\"yes\"/>"
			  "<component displayname=\"Group\" migrate=\"no\">"
			  "<component displayname=\"Drop\" migrate=\"yes\"/></component>"
			  "</Documents></Configuration>";
	struct rule_set *rs = rule_set_new();
	struct ws_error err;
	struct rule_component_info ci;
	char *dir = tu_tmpdir(), path[4096];

	tu_assert_ok(load(rs, "c.xml", xml, NULL, &err), &err);
	snprintf(path, sizeof(path), "%s/Config.xml", dir);
	tu_write_file(path, cfg, strlen(cfg));
	tu_assert_ok(rule_set_load_config(rs, path, NULL, &err), &err);
	rule_set_component(rs, 0, &ci);
	assert_int_equal(ci.state, RULE_COMP_ACTIVE);
	rule_set_component(rs, 1, &ci);
	assert_int_equal(ci.state, RULE_COMP_DISABLED);
	free(dir);
	rule_set_free(rs);
}

static void known_variables_listed(void **state)
{
	const char *const *v = rule_known_variables();
	int personal = 0, vs = 0;
	size_t n = 0;

	for (; v[n]; n++) {
		personal |= !strcmp(v[n], "CSIDL_PERSONAL");
		vs |= !strcmp(v[n], "CSIDL_VIRTUALSTORE_PROGRAMFILES(X86)");
	}
	assert_true(n > 100);
	assert_true(personal && vs);
	assert_int_equal(rule_variable_scope("csidl_personal"), RULE_CTX_USER);
	assert_int_equal(rule_variable_scope("WINDIR"), RULE_CTX_USER_AND_SYSTEM);
	assert_int_equal(rule_variable_scope("NOPE"), 0);
	/* every name, in any case: per user from APPDATA on in the list */
	for (size_t i = 0, user = 0; v[i]; i++) {
		char low[128];
		size_t k;

		user |= !strcmp(v[i], "APPDATA");
		for (k = 0; v[i][k] && k + 1 < sizeof(low); k++)
			low[k] = (char)(v[i][k] >= 'A' && v[i][k] <= 'Z' ? v[i][k] + 32 : v[i][k]);
		low[k] = 0;
		assert_int_equal(rule_variable_scope(v[i]),
				 user ? RULE_CTX_USER : RULE_CTX_USER_AND_SYSTEM);
		assert_int_equal(rule_variable_scope(low), rule_variable_scope(v[i]));
	}
	assert_int_equal(rule_variable_scope(""), 0);
	assert_int_equal(rule_variable_scope("CSIDL_"), 0);
	assert_int_equal(rule_variable_scope("WINDIRX"), 0);
	assert_int_equal(rule_variable_scope("AAAA"), 0);
	assert_int_equal(rule_variable_scope("ZZZZ"), 0);
	assert_int_equal(rule_variable_scope("CSIDL_VIRTUALSTORE_COMMONPROGRAMFILES(X86)_AND_"
					     "A_GOOD_DEAL_LONGER_THAN_ANY_NAME"), 0);
}

/* expat's own line and column of every element, in document order */
struct expat_pos {
	XML_Parser p;
	long line[64], col[64];
	int n;
};

static void XMLCALL expat_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct expat_pos *e = ud;

	if (e->n < 64) {
		e->line[e->n] = (long)XML_GetCurrentLineNumber(e->p);
		e->col[e->n] = (long)XML_GetCurrentColumnNumber(e->p) + 1;
	}
	e->n++;
}

static void XMLCALL expat_end(void *ud, const XML_Char *name)
{
}

static void tree_pos(const struct rule_node *n, struct expat_pos *e)
{
	for (; n; n = n->next) {
		if (e->n < 64) {
			e->line[e->n] = n->line;
			e->col[e->n] = n->col;
		}
		e->n++;
		tree_pos(n->first, e);
	}
}

/* The loader counts elements' lines and columns itself where it can:
 * the same numbers as expat's in every kind of text. */
static void element_positions_are_expats(void **state)
{
	static const char *const docs[] = {
		"<migration urlid=\"p\">\n\t<component>\t<x\n a=\"1\n2\"\n/>\n"
		"<!-- a\ncomment <y/> -->\n<![CDATA[\n<z/>\n]]>  <w/></component></migration>",
		"<?xml version=\"1.0\"?>\n<migration>\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80<a/>"
		"\n  \xc3\xa9<b c=\"\xe2\x82\xac\"/><c/>\n\n\n<d/></migration>\n",
		"<migration>\r\n<a/>\r<b/>\n\r\n  <c/></migration>",
		"\xef\xbb\xbf<migration><a/>\n <b/></migration>",
		"<migration\n\n>text &amp; &#x20AC;\n&lt;<a/>x<b>\xc3\xa9</b>&#10;<c/></migration>",
	};

	for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
		struct expat_pos want = { 0 }, got = { 0 };
		struct rule_file *f;
		struct ws_error err;

		want.p = XML_ParserCreate("UTF-8");
		XML_SetUserData(want.p, &want);
		XML_SetElementHandler(want.p, expat_start, expat_end);
		assert_int_equal(XML_Parse(want.p, docs[d], (int)strlen(docs[d]), XML_TRUE),
				 XML_STATUS_OK);
		XML_ParserFree(want.p);
		ws_error_clear(&err);
		tu_assert_ok(rule_xml_parse("p.xml", docs[d], strlen(docs[d]), 0, NULL, &f, &err),
			     &err);
		tree_pos(f->root, &got);
		assert_int_equal(got.n, want.n);
		for (int i = 0; i < want.n && i < 64; i++) {
			assert_int_equal(got.line[i], want.line[i]);
			assert_int_equal(got.col[i], want.col[i]);
		}
		rule_file_free(f);
	}
}

/* An element's text is all the character data directly inside it, also
 * when children cut it (kept apart from the file's chunks then). */
static void text_around_children_is_joined(void **state)
{
	const char *xml = "<migration a=\"1\" b=\"\"><x>one<y>in y</y>two<z/>three</x>"
			  "<w>\n</w><v/></migration>";
	struct rule_file *f;
	struct ws_error err;
	const struct rule_node *x, *y;

	ws_error_clear(&err);
	tu_assert_ok(rule_xml_parse("t.xml", xml, strlen(xml), 0, NULL, &f, &err), &err);
	assert_string_equal(rule_attr(f->root, "a"), "1");
	assert_string_equal(rule_attr(f->root, "B"), "");
	assert_null(rule_attr(f->root, "c"));
	assert_string_equal(f->root->text, "");
	x = f->root->first;
	assert_string_equal(x->text, "onetwothree");
	y = x->first;
	assert_string_equal(y->text, "in y");
	assert_string_equal(y->next->text, "");
	assert_string_equal(x->next->text, "\n");
	assert_string_equal(x->next->next->name, "v");
	assert_string_equal(x->next->next->text, "");
	rule_file_free(f);

	/* strings larger than a quarter of a chunk, between small ones */
	struct ws_buf big = WS_BUF_INIT;

	ws_buf_adds(&big, "<migration><a v=\"");
	for (int i = 0; i < 20000; i++)
		ws_buf_addch(&big, (char)('a' + i % 26));
	ws_buf_adds(&big, "\"/><b>");
	for (int i = 0; i < 30000; i++)
		ws_buf_addch(&big, (char)('A' + i % 26));
	ws_buf_adds(&big, "</b><c w=\"small\">t</c></migration>");
	tu_assert_ok(rule_xml_parse("big.xml", big.buf, big.len, 0, NULL, &f, &err), &err);
	x = f->root->first;
	assert_int_equal(strlen(rule_attr(x, "v")), 20000);
	assert_int_equal(rule_attr(x, "v")[19999], 'a' + 19999 % 26);
	assert_int_equal(strlen(x->next->text), 30000);
	assert_string_equal(rule_attr(x->next->next, "w"), "small");
	assert_string_equal(x->next->next->text, "t");
	rule_file_free(f);
	ws_buf_release(&big);
}

/* Text over RULE_MAX_TEXT: refused where the piece that crosses the limit
 * is (one text piece), or where the next child or the end tag is (pieces
 * around children), as when each piece was joined at once. */
static void text_limit_errors_keep_their_position(void **state)
{
	static const struct {
		const char *head;
		char c1;
		int n1;
		const char *mid;
		char c2;
		int n2;
		const char *tail;
		long line, col;           /* 0: loads */
	} cases[] = {
		{ "<migration>\n<a>", 'x', 40000, "<b/>", 'y', 30000, "\n<c/></a></migration>", 3, 1 },
		{ "<migration>\n\n<a>", 'z', 70000, "", 'z', 0, "</a></migration>", 3, 4 },
		{ "<migration>\n<a>", 'x', 40000, "<b/>", 'y', 30000, "</a></migration>", 2, 70008 },
		{ "<migration>\n<a>", 'x', 40000, "<b>w</b>", 'y', 25536, "</a></migration>", 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ws_buf doc = WS_BUF_INIT;
		struct rule_file *f;
		struct ws_error err;
		int rc;

		ws_buf_adds(&doc, cases[i].head);
		for (int k = 0; k < cases[i].n1; k++)
			ws_buf_addch(&doc, cases[i].c1);
		ws_buf_adds(&doc, cases[i].mid);
		for (int k = 0; k < cases[i].n2; k++)
			ws_buf_addch(&doc, cases[i].c2);
		ws_buf_adds(&doc, cases[i].tail);
		ws_error_clear(&err);
		rc = rule_xml_parse("lim.xml", doc.buf, doc.len, 1, NULL, &f, &err);
		if (!cases[i].line) {
			tu_assert_ok(rc, &err);
			assert_int_equal(strlen(f->root->first->text), RULE_MAX_TEXT);
			rule_file_free(f);
		} else {
			assert_int_equal(rc, WS_E_RULES);
			assert_string_equal(err.msg, "text of <a> exceeds the limit");
			assert_int_equal(err.line, cases[i].line);
			assert_int_equal(err.col, cases[i].col);
		}
		ws_buf_release(&doc);
	}
}

static void lint_checks_patterns_and_variables(void **state)
{
	const char *xml = "<migration urlid=\"v\">\n"
			  "<component type=\"Documents\" context=\"User\"><displayName>V</displayName>\n"
			  "<environment><variable name=\"Mine\"><text>C:\\M</text></variable></environment>\n"
			  "<role role=\"Data\"><rules><include><objectSet>\n"
			  "<pattern type=\"File\">%CSIDL_PERSONAL%\\* [*]</pattern>\n"
			  "<pattern type=\"File\">%Mine%\\* [*]</pattern>\n"
			  "<pattern type=\"File\">%TYPO_VAR%\\* [*]</pattern>\n"
			  "<pattern type=\"File\">C:\\x [unclosed</pattern>\n"
			  "</objectSet></include></rules></role></component></migration>";
	struct rule_set *rs = rule_set_new();
	struct ws_error err;
	struct logcap cap;
	struct ws_log log;

	cap_init(&cap, &log);
	tu_assert_ok(load(rs, "v.xml", xml, &log, &err), &err);
	assert_int_equal(cap.warnings, 2);
	assert_non_null(strstr(cap.text.buf, "v.xml:7: variable %TYPO_VAR%"));
	assert_non_null(strstr(cap.text.buf, "v.xml:8: malformed pattern"));
	rule_set_free(rs);
	ws_buf_release(&cap.text);
}

static void unknown_attribute_values_warn(void **state)
{
	const char *xml = "<migration urlid=\"a\">\n"
			  "<component type=\"Gadget\" context=\"Everyone\"><displayName>A</displayName>\n"
			  "<role role=\"Bogus\"><rules><include><objectSet>\n"
			  "<pattern type=\"Disk\">C:\\A [*]</pattern>\n"
			  "</objectSet></include></rules></role></component></migration>";
	struct rule_set *rs = rule_set_new();
	struct ws_error err;
	struct logcap cap;
	struct ws_log log;

	cap_init(&cap, &log);
	tu_assert_ok(load(rs, "a.xml", xml, &log, &err), &err);
	assert_int_equal(cap.warnings, 4);
	assert_non_null(strstr(cap.text.buf, "a.xml:2: component type=\"Gadget\""));
	assert_non_null(strstr(cap.text.buf, "a.xml:3: role=\"Bogus\""));
	assert_non_null(strstr(cap.text.buf, "a.xml:4: pattern type=\"Disk\""));
	rule_set_free(rs);
	ws_buf_release(&cap.text);
}

static int teardown(void **state)
{
	tu_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bom_crlf_and_case_variants),
		cmocka_unit_test(malformed_xml_reports_position),
		cmocka_unit_test(element_positions_are_expats),
		cmocka_unit_test(text_around_children_is_joined),
		cmocka_unit_test(text_limit_errors_keep_their_position),
		cmocka_unit_test(wrong_root_and_entities_refused),
		cmocka_unit_test(depth_limit),
		cmocka_unit_test(unknown_element_warns_with_line),
		cmocka_unit_test(cyclic_named_elements_error),
		cmocka_unit_test(undefined_reference_error),
		cmocka_unit_test(unknown_helper_warns_and_skips_component),
		cmocka_unit_test(duplicate_urlid_skipped),
		cmocka_unit_test(nested_components_narrow_context),
		cmocka_unit_test(testdata_files_load_clean),
		cmocka_unit_test(file_errors),
		cmocka_unit_test(config_xml_switches_off),
		cmocka_unit_test(known_variables_listed),
		cmocka_unit_test(lint_checks_patterns_and_variables),
		cmocka_unit_test(unknown_attribute_values_warn),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
