/* test_explain.c - `rules explain` underneath (every matching rule with its
 * component state, the winner and the reason), `rules genconfig`
 * underneath (Config.xml of the detected components and its round trip
 * through rule_set_load_config), and the cost evidence for the scanner's
 * pruning: how many folders a walker guided by rule_sel_dir() enters, how
 * many listings a wildcard DoesObjectExist needs, and the exact roots of the
 * ADK's MigUser.xml / MigDocs.xml for one user. */
#include "tu.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rules/rules.h"
#include "util/ws_fs.h"

static const char *explain_xml =
	"<migration urlid=\"http://example.test/x\">"
	"<component type=\"Documents\" context=\"System\"><displayName>Data</displayName>"
	"<role role=\"Data\"><rules>"
	"<include><objectSet><pattern type=\"File\">C:\\Data\\* [*]</pattern></objectSet></include>"
	"<exclude><objectSet><pattern type=\"File\">C:\\* [*.mp3]</pattern></objectSet></exclude>"
	"<exclude><objectSet><pattern type=\"File\">C:\\Data\\Tmp\\* [*]</pattern></objectSet></exclude>"
	"<exclude><objectSet><pattern type=\"File\">C:\\Data\\ [same.txt]</pattern></objectSet></exclude>"
	"<include><objectSet><pattern type=\"File\">C:\\Data [same.txt]</pattern></objectSet></include>"
	"</rules></role></component>"
	"<component type=\"Documents\" context=\"System\"><displayName>Off</displayName>"
	"<role role=\"Data\"><rules><include><objectSet>"
	"<pattern type=\"File\">C:\\Data\\Off\\* [*]</pattern></objectSet></include></rules></role>"
	"</component>"
	"<component type=\"Application\" context=\"System\"><displayName>NotHere</displayName>"
	"<role role=\"Settings\"><detection><conditions><condition>"
	"MigXmlHelper.DoesObjectExist(\"File\",\"C:\\Nope\")</condition></conditions></detection>"
	"<rules><include><objectSet><pattern type=\"File\">C:\\Data\\* [*.doc]</pattern>"
	"</objectSet></include></rules></role></component>"
	"<component type=\"Application\" context=\"System\"><displayName>Unsup</displayName>"
	"<role role=\"Settings\"><detection><conditions><condition>"
	"MigXmlHelper.MigrateActiveDesktop()</condition></conditions></detection>"
	"<rules><include><objectSet><pattern type=\"File\">C:\\Data\\* [*.log]</pattern>"
	"</objectSet></include></rules></role></component>"
	"<component type=\"System\" context=\"System\"><displayName>Junk</displayName>"
	"<role role=\"Settings\"><rules><include><objectSet><pattern type=\"File\">C:\\Junk\\* [*]"
	"</pattern></objectSet></include><unconditionalExclude><objectSet>"
	"<pattern type=\"File\">C:\\Data\\* [*.tmp]</pattern></objectSet></unconditionalExclude>"
	"</rules></role></component>"
	"<component type=\"Application\" context=\"User\"><displayName>UserApp</displayName>"
	"<role role=\"Container\">"
	"<component type=\"Application\" context=\"User\"><displayName>UserApp Child</displayName>"
	"<role role=\"Settings\"><rules><include><objectSet>"
	"<pattern type=\"Registry\">HKCU\\Software\\UA\\* [*]</pattern></objectSet></include>"
	"</rules></role></component>"
	"<component type=\"Application\" context=\"User\"><displayName>UserApp &amp; Co</displayName>"
	"<role role=\"Settings\"><rules><include><objectSet>"
	"<pattern type=\"Registry\">HKCU\\Software\\UA2\\* [*]</pattern></objectSet></include>"
	"</rules></role></component>"
	"</role></component>"
	"</migration>";

static int fake_exists(void *ctx, const char *path)
{
	return !strcasecmp(path, "C:\\Data");
}

struct ex {
	struct rule_set *rs;
	struct rule_env *env;
	struct rule_probe probe;
	struct rule_sel *sel;
};

static void ex_open(struct ex *x, int ctx, int explain)
{
	struct rule_sel_opts o = { 0 };
	struct ws_error err;

	memset(x, 0, sizeof(*x));
	ws_error_clear(&err);
	x->rs = rule_set_new();
	tu_assert_ok(rule_set_load_mem(x->rs, "x.xml", explain_xml, strlen(explain_xml), NULL,
				       &err),
		     &err);
	assert_int_equal(rule_set_disable(x->rs, "Off"), 1);
	x->env = rule_env_new();
	rule_env_set(x->env, "SYSTEMDRIVE", "C:");
	x->probe.file_exists = fake_exists;
	x->probe.os_major = 10;
	o.context = ctx;
	o.env = x->env;
	o.probe = &x->probe;
	o.current_user = -1;
	o.explain = explain;
	tu_assert_ok(rule_sel_new(x->rs, &o, &x->sel, &err), &err);
}

static void ex_close(struct ex *x)
{
	rule_sel_free(x->sel);
	rule_set_free(x->rs);
	rule_env_free(x->env);
}

struct seen {
	struct rule_match m[16];
	char pat[16][128], comp[16][64];
	size_t n;
};

static void collect(void *arg, const struct rule_match *m)
{
	struct seen *s = arg;

	assert_true(s->n < 16);
	s->m[s->n] = *m;
	snprintf(s->pat[s->n], sizeof(s->pat[0]), "%s", m->pattern);
	snprintf(s->comp[s->n], sizeof(s->comp[0]), "%s", m->component_name);
	s->n++;
}

/* The match of component `comp` with pattern `pat`, or NULL. */
static const struct rule_match *find(const struct seen *s, const char *comp, const char *pat)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->comp[i], comp) && !strcmp(s->pat[i], pat))
			return &s->m[i];
	return NULL;
}

static int explain(struct ex *x, const char *path, struct seen *s, struct rule_explanation *e)
{
	const char *bs = strrchr(path, '\\');
	char node[256];

	memset(s, 0, sizeof(*s));
	snprintf(node, sizeof(node), "%.*s", (int)(bs - path), path);
	return rule_sel_explain(x->sel, RULE_FILE, node, bs + 1, NULL, collect, s, e);
}

static void explain_reasons(void **state)
{
	struct ex x;
	struct seen s;
	struct rule_explanation e;
	const struct rule_match *m;

	ex_open(&x, RULE_CTX_SYSTEM, 0);
	/* a directory beats an extension: include more specific than the mp3 exclude */
	assert_int_equal(explain(&x, "C:\\Data\\song.mp3", &s, &e), 1);
	assert_int_equal(e.why, RULE_WHY_MOST_SPECIFIC_INCLUDE);
	assert_int_equal(s.n, 2);
	m = find(&s, "Data", "C:\\Data\\* [*]");
	assert_non_null(m);
	assert_true(m->decisive);
	assert_int_equal(m->kind, RULE_INCLUDE);
	assert_int_equal(m->state, RULE_COMP_ACTIVE);
	assert_int_equal(m->spec.node_literal, 7);
	assert_true(m->spec.node_wildcard && m->spec.has_leaf && m->spec.leaf_wildcard);
	m = find(&s, "Data", "C:\\* [*.mp3]");
	assert_non_null(m);
	assert_false(m->decisive);
	assert_int_equal(m->kind, RULE_EXCLUDE);
	assert_string_equal(e.decision.pattern, "C:\\Data\\* [*]");
	assert_string_equal(e.decision.file, "x.xml");
	/* a deeper exclude wins */
	assert_int_equal(explain(&x, "C:\\Data\\Tmp\\x.txt", &s, &e), 0);
	assert_int_equal(e.why, RULE_WHY_MORE_SPECIFIC_EXCLUDE);
	assert_string_equal(e.decision.pattern, "C:\\Data\\Tmp\\* [*]");
	assert_int_equal(e.decision.kind, RULE_EXCLUDE);
	/* equal specificity (trailing backslash or not): the exclude */
	assert_int_equal(explain(&x, "C:\\Data\\same.txt", &s, &e), 0);
	assert_int_equal(e.why, RULE_WHY_EQUAL_EXCLUDE);
	assert_int_equal(s.n, 3);
	/* unconditionalExclude from another component beats everything */
	assert_int_equal(explain(&x, "C:\\Data\\x.tmp", &s, &e), 0);
	assert_int_equal(e.why, RULE_WHY_UNCOND_EXCLUDE);
	assert_string_equal(e.decision.component, "Junk");
	assert_int_equal(s.m[0].kind, RULE_UNCOND_EXCLUDE);
	assert_true(s.m[0].decisive);
	/* only an exclude matches */
	assert_int_equal(explain(&x, "C:\\Music\\a.mp3", &s, &e), 0);
	assert_int_equal(e.why, RULE_WHY_ONLY_EXCLUDES);
	/* nothing at all */
	assert_int_equal(explain(&x, "C:\\Windows\\x.dll", &s, &e), 0);
	assert_int_equal(e.why, RULE_WHY_NO_MATCH);
	assert_int_equal(e.decision.kind, -1);
	assert_int_equal(s.n, 0);
	/* without explain mode, inactive components' rules are not there */
	assert_int_equal(explain(&x, "C:\\Data\\a.doc", &s, &e), 1);
	assert_int_equal(s.n, 1);
	assert_non_null(strstr(rule_why_text(RULE_WHY_EQUAL_EXCLUDE), "equally specific"));
	assert_non_null(strstr(rule_why_text(RULE_WHY_UNCOND_EXCLUDE), "unconditionalExclude"));
	ex_close(&x);
}

static void explain_shows_inactive_components(void **state)
{
	struct ex x;
	struct seen s;
	struct rule_explanation e;
	const struct rule_match *m;

	ex_open(&x, RULE_CTX_SYSTEM, 1);
	assert_int_equal(explain(&x, "C:\\Data\\a.doc", &s, &e), 1);
	m = find(&s, "NotHere", "C:\\Data\\* [*.doc]");
	assert_non_null(m);
	assert_int_equal(m->state, RULE_COMP_NOT_DETECTED);
	assert_false(m->decisive);
	assert_string_equal(e.decision.component, "Data");
	assert_int_equal(explain(&x, "C:\\Data\\Off\\b.bin", &s, &e), 1);
	m = find(&s, "Off", "C:\\Data\\Off\\* [*]");
	assert_non_null(m);
	assert_int_equal(m->state, RULE_COMP_DISABLED);
	/* the disabled, more specific include does not decide */
	assert_string_equal(e.decision.component, "Data");
	assert_int_equal(explain(&x, "C:\\Data\\z.log", &s, &e), 1);
	m = find(&s, "Unsup", "C:\\Data\\* [*.log]");
	assert_non_null(m);
	assert_int_equal(m->state, RULE_COMP_UNSUPPORTED);
	/* explain mode changes no decision, root or state */
	{
		struct ex y;
		struct rule_component_info a, b;

		ex_open(&y, RULE_CTX_SYSTEM, 0);
		assert_int_equal(rule_sel_root_count(x.sel, RULE_FILE),
				 rule_sel_root_count(y.sel, RULE_FILE));
		for (size_t i = 0; i < rule_set_component_count(x.rs); i++) {
			rule_sel_component(x.sel, i, &a);
			rule_sel_component(y.sel, i, &b);
			assert_int_equal(a.state, b.state);
		}
		assert_false(rule_sel_file(x.sel, "C:\\Data\\Off\\q.txt", NULL) !=
			     rule_sel_file(y.sel, "C:\\Data\\Off\\q.txt", NULL));
		assert_false(rule_sel_dir(x.sel, RULE_FILE, "C:\\Windows"));
		ex_close(&y);
	}
	ex_close(&x);
}

/* ---- genconfig ---- */

static void genconfig_lists_detected_components(void **state)
{
	struct ex sys, user;
	const struct rule_sel *sels[2];
	struct ws_buf out = WS_BUF_INIT;

	ex_open(&sys, RULE_CTX_SYSTEM, 0);
	ex_open(&user, RULE_CTX_USER, 0);
	sels[0] = sys.sel;
	sels[1] = user.sel;
	rule_set_write_config(sys.rs, sels, 2, &out);
	assert_non_null(strstr(out.buf, "<Configuration>"));
	assert_non_null(strstr(out.buf, "<component displayname=\"Data\" migrate=\"yes\" "
					 "ID=\"http://example.test/x/Data\"/>"));
	/* disabled: listed as migrate="no" so the file round-trips */
	assert_non_null(strstr(out.buf, "displayname=\"Off\" migrate=\"no\""));
	/* not detected: left out, as ScanState does */
	assert_null(strstr(out.buf, "displayname=\"NotHere\""));
	/* unsupported: named in a comment only */
	assert_null(strstr(out.buf, "displayname=\"Unsup\""));
	assert_non_null(strstr(out.buf, "<!-- not listed: \"Unsup\""));
	/* a User component found in the user pass, nested, escaped */
	assert_non_null(strstr(out.buf, "<component displayname=\"UserApp\" migrate=\"yes\" "
					 "ID=\"http://example.test/x/UserApp\">\n"
					 "      <component displayname=\"UserApp Child\""));
	assert_non_null(strstr(out.buf, "displayname=\"UserApp &amp; Co\""));
	/* sections by component type */
	assert_true(strstr(out.buf, "<Applications>") < strstr(out.buf, "UserApp"));
	assert_true(strstr(out.buf, "<Documents>") < strstr(out.buf, "\"Data\""));
	assert_true(strstr(out.buf, "<WindowsComponents>") < strstr(out.buf, "\"Junk\""));
	ws_buf_release(&out);
	/* the system pass alone does not see the User component */
	rule_set_write_config(sys.rs, sels, 1, &out);
	assert_null(strstr(out.buf, "UserApp"));
	ws_buf_release(&out);
	ex_close(&sys);
	ex_close(&user);
}

static void genconfig_round_trip(void **state)
{
	struct ex sys, user;
	const struct rule_sel *sels[2];
	struct ws_buf out = WS_BUF_INIT;
	struct rule_set *rs;
	struct ws_error err;
	char *dir = tu_tmpdir(), *path = ws_xasprintf("%s/Config.xml", dir), *at;
	size_t disabled = 0, before = 0;

	ex_open(&sys, RULE_CTX_SYSTEM, 0);
	ex_open(&user, RULE_CTX_USER, 0);
	sels[0] = sys.sel;
	sels[1] = user.sel;
	rule_set_write_config(sys.rs, sels, 2, &out);
	/* unchanged, it switches off only what was already off */
	tu_write_file(path, out.buf, out.len);
	rs = rule_set_new();
	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "x.xml", explain_xml, strlen(explain_xml), NULL, &err),
		     &err);
	tu_assert_ok(rule_set_load_config(rs, path, NULL, &err), &err);
	for (size_t i = 0; i < rule_set_component_count(rs); i++) {
		struct rule_component_info ci;

		rule_set_component(rs, i, &ci);
		before += ci.state == RULE_COMP_DISABLED;
	}
	assert_int_equal(before, 1);
	rule_set_free(rs);
	/* the admin sets one component to migrate="no" */
	at = strstr(out.buf, "displayname=\"UserApp Child\" migrate=\"yes\"");
	assert_non_null(at);
	memcpy(strstr(at, "\"yes\""), "\"no\" ", 5);
	tu_write_file(path, out.buf, out.len);
	rs = rule_set_new();
	tu_assert_ok(rule_set_load_mem(rs, "x.xml", explain_xml, strlen(explain_xml), NULL, &err),
		     &err);
	tu_assert_ok(rule_set_load_config(rs, path, NULL, &err), &err);
	for (size_t i = 0; i < rule_set_component_count(rs); i++) {
		struct rule_component_info ci;

		rule_set_component(rs, i, &ci);
		if (ci.state == RULE_COMP_DISABLED && strcmp(ci.name, "Off")) {
			assert_string_equal(ci.name, "UserApp Child");
			disabled++;
		}
	}
	assert_int_equal(disabled, 1);
	rule_set_free(rs);
	ws_buf_release(&out);
	ex_close(&sys);
	ex_close(&user);
	free(path);
	free(dir);
}

/* ---- cost evidence for the scanner's pruning ---- */

static void walker_enters_only_reachable_folders(void **state)
{
	const char *xml =
		"<migration urlid=\"w\"><component type=\"Documents\" context=\"System\">"
		"<displayName>W</displayName><role role=\"Data\"><rules>"
		"<include><objectSet><pattern type=\"File\">C:\\Root\\d7\\* [*]</pattern>"
		"<pattern type=\"File\">C:\\Root\\d42\\e3 [*.txt]</pattern></objectSet></include>"
		"<exclude><objectSet><pattern type=\"File\">C:\\Root\\* [*.tmp]</pattern></objectSet>"
		"</exclude></rules></role></component></migration>";
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel;
	struct ws_error err;
	unsigned calls = 0, yes = 0;
	char path[64];

	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "w.xml", xml, strlen(xml), NULL, &err), &err);
	o.context = RULE_CTX_SYSTEM;
	o.env = env;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	/* a tree of 1 + 100 + 100 x 100 = 10,101 folders, walked top-down
	 * the way the scanner does: a folder is entered only when
	 * rule_sel_dir() says something below it may be migrated */
	calls++;
	yes += rule_sel_dir(sel, RULE_FILE, "C:\\Root");
	for (int d = 0; d < 100; d++) {
		snprintf(path, sizeof(path), "C:\\Root\\d%d", d);
		calls++;
		if (!rule_sel_dir(sel, RULE_FILE, path))
			continue;
		yes++;
		for (int e = 0; e < 100; e++) {
			snprintf(path, sizeof(path), "C:\\Root\\d%d\\e%d", d, e);
			calls++;
			yes += rule_sel_dir(sel, RULE_FILE, path);
		}
	}
	/* Root, d7, d42, d7's 100 children and d42\e3 */
	assert_int_equal(yes, 1 + 2 + 100 + 1);
	assert_int_equal(calls, 1 + 100 + 2 * 100);
	/* and the walk starts at the two literal roots, not at C:\Root */
	assert_int_equal(rule_sel_root_count(sel, RULE_FILE), 2);
	assert_string_equal(rule_sel_root(sel, RULE_FILE, 0), "C:\\Root\\d42\\e3");
	assert_string_equal(rule_sel_root(sel, RULE_FILE, 1), "C:\\Root\\d7");
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
}

/* rule_sel_dir answers for a folder from the candidates the selection's
 * node cache lists for it: whatever was asked before (its parent, its
 * children, other trees, objects, registry keys), the answer is the one a
 * fresh selection gives for that folder alone. */
static void folder_answers_do_not_depend_on_the_cache(void **state)
{
	const char *xml =
		"<migration urlid=\"c\"><component type=\"Documents\" context=\"System\">"
		"<displayName>C</displayName><role role=\"Data\"><rules>"
		"<include><objectSet><pattern type=\"File\">C:\\* [*.doc]</pattern>"
		"<pattern type=\"File\">C:\\Windows\\Fonts\\* [*]</pattern>"
		"<pattern type=\"File\">C:\\Users\\*\\Documents\\* [*]</pattern>"
		"<pattern type=\"File\">C:\\Data\\Keep [*.txt]</pattern></objectSet></include>"
		"<exclude><objectSet><pattern type=\"File\">C:\\Windows\\* [*]</pattern>"
		"<pattern type=\"File\">C:\\Users\\*\\Documents\\Cache\\* [*]</pattern>"
		"<pattern type=\"File\">C:\\Temp\\* [*.doc]</pattern></objectSet></exclude>"
		"</rules></role></component>"
		"<component type=\"Documents\" context=\"System\"><displayName>Q</displayName>"
		"<role role=\"Data\"><rules><include><objectSet>"
		"<pattern type=\"Registry\">HKLM\\Software\\Q\\* [*]</pattern></objectSet></include>"
		"<unconditionalExclude><objectSet><pattern type=\"File\">C:\\Junk\\* [*]</pattern>"
		"</objectSet></unconditionalExclude></rules></role></component></migration>";
	static const char *const dirs[] = {
		"C:\\Windows", "C:\\Windows\\Fonts", "C:\\Windows\\Fonts\\Sub",
		"C:\\Windows\\System32", "C:\\windows\\system32\\drivers", "C:\\Data",
		"C:\\Data\\Keep", "C:\\Data\\Keep\\x", "C:\\Data\\Other", "C:\\Users",
		"C:\\Users\\a", "C:\\Users\\a\\Documents", "C:\\Users\\a\\Documents\\Cache",
		"C:\\Users\\a\\Documents\\Cache\\z", "C:\\Users\\a\\Desktop", "C:\\Temp",
		"C:\\Junk", "C:\\Junk\\deep", "C:\\Junkyard", "C:\\Windows\\Fonts\\Sub\\Deeper",
	};
	enum { N = sizeof(dirs) / sizeof(dirs[0]) };
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel;
	struct ws_error err;
	int alone[N];

	(void)state;
	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "c.xml", xml, strlen(xml), NULL, &err), &err);
	o.context = RULE_CTX_SYSTEM;
	o.env = env;
	for (int i = 0; i < N; i++) {
		tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
		alone[i] = rule_sel_dir(sel, RULE_FILE, dirs[i]);
		rule_sel_free(sel);
	}
	/* what must be seen for the comparison to mean something */
	assert_true(alone[1] && !alone[3] && !alone[16] && alone[18] && alone[11]);
	for (int order = 0; order < 3; order++) {
		tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
		for (int k = 0; k < 3 * N; k++) {
			int i = order == 0 ? k % N : order == 1 ? N - 1 - k % N : (k * 7) % N;
			struct rule_decision d;

			assert_int_equal(rule_sel_dir(sel, RULE_FILE, dirs[i]), alone[i]);
			/* the objects of another folder, and a registry key, between */
			rule_sel_object(sel, RULE_FILE, dirs[(i + 5) % N], "a.doc", &d);
			rule_sel_dir(sel, RULE_REGISTRY, "HKLM\\Software\\Q\\Sub");
		}
		rule_sel_free(sel);
	}
	rule_set_free(rs);
	rule_env_free(env);
}

static void excluded_trees_are_pruned(void **state)
{
	const char *xml =
		"<migration urlid=\"p\"><component type=\"Documents\" context=\"System\">"
		"<displayName>P</displayName><role role=\"Data\"><rules>"
		"<include><objectSet><pattern type=\"File\">C:\\* [*.doc]</pattern>"
		"<pattern type=\"File\">C:\\Windows\\Fonts\\* [*]</pattern></objectSet></include>"
		"<exclude><objectSet><pattern type=\"File\">C:\\Windows\\* [*]</pattern>"
		"<pattern type=\"File\">C:\\Temp\\* [*.doc]</pattern></objectSet></exclude>"
		"<exclude filter='MigXmlHelper.FileProperties(\"filesize\",\"gt\",\"1MB\")'>"
		"<objectSet><pattern type=\"File\">C:\\Big\\* [*]</pattern></objectSet></exclude>"
		"</rules></role></component>"
		"<component type=\"Documents\" context=\"System\"><displayName>Q</displayName>"
		"<role role=\"Data\"><rules><include><objectSet>"
		"<pattern type=\"Registry\">HKLM\\Software\\Q\\* [*]</pattern></objectSet></include>"
		"<unconditionalExclude><objectSet><pattern type=\"File\">C:\\Junk\\* [*]</pattern>"
		"</objectSet></unconditionalExclude></rules></role></component></migration>";
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel;
	struct ws_error err;

	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "p.xml", xml, strlen(xml), NULL, &err), &err);
	o.context = RULE_CTX_SYSTEM;
	o.env = env;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	assert_true(rule_sel_dir(sel, RULE_FILE, "C:\\Data"));
	/* Fonts' include is more specific than the Windows exclude */
	assert_true(rule_sel_dir(sel, RULE_FILE, "C:\\Windows"));
	assert_true(rule_sel_dir(sel, RULE_FILE, "C:\\Windows\\Fonts\\Sub"));
	assert_false(rule_sel_dir(sel, RULE_FILE, "C:\\Windows\\System32"));
	assert_false(rule_sel_dir(sel, RULE_FILE, "C:\\windows\\system32\\drivers"));
	/* only a "tree [*]" exclude prunes; a filtered one never does */
	assert_true(rule_sel_dir(sel, RULE_FILE, "C:\\Temp"));
	assert_true(rule_sel_dir(sel, RULE_FILE, "C:\\Big"));
	/* an unconditionalExclude from another component prunes everything below */
	assert_false(rule_sel_dir(sel, RULE_FILE, "C:\\Junk"));
	assert_false(rule_sel_dir(sel, RULE_FILE, "C:\\Junk\\deep"));
	assert_true(rule_sel_dir(sel, RULE_FILE, "C:\\Junkyard"));
	/* decisions agree with the pruning */
	assert_false(rule_sel_file(sel, "C:\\Windows\\System32\\a.doc", NULL));
	assert_true(rule_sel_file(sel, "C:\\Windows\\Fonts\\a.ttf", NULL));
	assert_true(rule_sel_dir(sel, RULE_REGISTRY, "HKLM\\Software"));
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
}

/* A listing probe over the same 10,101-folder tree, counting its calls. */
struct tree {
	unsigned lists;
};

static int tree_list(void *ctx, int type, const char *node,
		     void (*fn)(void *arg, const char *name, int is_container), void *arg)
{
	struct tree *t = ctx;
	char name[32];
	int d, e;

	t->lists++;
	if (!strcasecmp(node, "C:\\Root")) {
		for (d = 0; d < 100; d++) {
			snprintf(name, sizeof(name), "d%d", d);
			fn(arg, name, 1);
		}
	} else if (sscanf(node, "C:\\Root\\d%d\\e%d", &d, &e) == 2) {
		fn(arg, "readme.txt", 0);
		if (d == 42 && e == 50)
			fn(arg, "x.cfg", 0);
	} else if (sscanf(node, "C:\\Root\\d%d", &d) == 1) {
		for (e = 0; e < 100; e++) {
			snprintf(name, sizeof(name), "e%d", e);
			fn(arg, name, 1);
		}
	}
	return 1;
}

static int tree_exists(void *ctx, const char *path)
{
	return !strncasecmp(path, "C:\\Root", 7);
}

static int wild_detect(const char *pattern, unsigned *lists)
{
	char *xml = ws_xasprintf(
		"<migration urlid=\"t\"><component type=\"Application\" context=\"System\">"
		"<displayName>T</displayName><role role=\"Settings\"><detection><conditions>"
		"<condition>MigXmlHelper.DoesObjectExist(\"File\",\"%s\")</condition></conditions>"
		"</detection><rules><include><objectSet><pattern type=\"File\">C:\\T\\* [*]</pattern>"
		"</objectSet></include></rules></role></component></migration>",
		pattern);
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = rule_env_new();
	struct rule_sel_opts o = { 0 };
	struct rule_probe probe = { 0 };
	struct tree t = { 0 };
	struct rule_sel *sel;
	struct rule_component_info ci;
	struct ws_error err;

	probe.ctx = &t;
	probe.list = tree_list;
	probe.file_exists = tree_exists;
	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_mem(rs, "t.xml", xml, strlen(xml), NULL, &err), &err);
	o.context = RULE_CTX_SYSTEM;
	o.env = env;
	o.probe = &probe;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	rule_sel_component(sel, 0, &ci);
	*lists = t.lists;
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
	free(xml);
	return ci.state == RULE_COMP_ACTIVE;
}

static void wildcard_detection_lists_only_reachable_folders(void **state)
{
	unsigned lists;

	/* the literal root d42 is listed, then its children until the hit */
	assert_true(wild_detect("C:\\Root\\d42\\* [x.cfg]", &lists));
	assert_true(lists >= 2 && lists <= 101);
	/* a miss under one subtree costs that subtree only */
	assert_false(wild_detect("C:\\Root\\d41\\* [x.cfg]", &lists));
	assert_int_equal(lists, 101);
	/* a pattern naming one level lists the root and the 11 d4x folders only */
	/* '*' in a node crosses levels (USMT: "C:\* [Sample.doc]" is anywhere) */
	assert_true(wild_detect("C:\\Root\\d4* [x.cfg]", &lists));
	/* a miss lists the root, the d9x folders and their children only */
	assert_false(wild_detect("C:\\Root\\d9* [x.cfg]", &lists));
	assert_int_equal(lists, 1 + 11 + 11 * 100);
}

/* ---- MigUser / MigDocs roots for one user ---- */

static struct rule_env *alice_env(void)
{
	static const char *const v[][2] = {
		{ "SYSTEMDRIVE", "C:" },
		{ "CSIDL_PROFILE", "C:\\Users\\alice" },
		{ "USERPROFILE", "C:\\Users\\alice" },
		{ "CSIDL_PERSONAL", "C:\\Users\\alice\\Documents" },
		{ "CSIDL_MYDOCUMENTS", "C:\\Users\\alice\\Documents" },
		{ "CSIDL_MYMUSIC", "C:\\Users\\alice\\Music" },
		{ "CSIDL_MYPICTURES", "C:\\Users\\alice\\Pictures" },
		{ "CSIDL_MYVIDEO", "C:\\Users\\alice\\Videos" },
		{ "CSIDL_DESKTOP", "C:\\Users\\alice\\Desktop" },
		{ "CSIDL_DESKTOPDIRECTORY", "C:\\Users\\alice\\Desktop" },
		{ "CSIDL_FAVORITES", "C:\\Users\\alice\\Favorites" },
		{ "CSIDL_APPDATA", "C:\\Users\\alice\\AppData\\Roaming" },
		{ "CSIDL_LOCAL_APPDATA", "C:\\Users\\alice\\AppData\\Local" },
		{ "CSIDL_STARTMENU", "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu" },
		{ "CSIDL_PROGRAMS", "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs" },
		{ "CSIDL_STARTUP", "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup" },
		{ "CSIDL_RECENT", "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Windows\\Recent" },
		{ "CSIDL_QUICKLAUNCH", "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Internet Explorer\\Quick Launch" },
		{ "CSIDL_WINDOWS", "C:\\Windows" },
		{ "CSIDL_PROGRAM_FILES", "C:\\Program Files" },
		{ "CSIDL_PROGRAM_FILESX86", "C:\\Program Files (x86)" },
		{ "PROFILESFOLDER", "C:\\Users" },
		{ "CSIDL_COMMON_APPDATA", "C:\\ProgramData" },
	};
	struct rule_env *e = rule_env_new();

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		rule_env_set(e, v[i][0], v[i][1]);
	return e;
}

static int all_exist(void *ctx, const char *path)
{
	return 1;
}

static void roots_of(const char *file, int ctx, struct ws_buf *out)
{
	char *p = tu_testdata(file);
	struct rule_set *rs = rule_set_new();
	struct rule_env *env = alice_env();
	struct rule_probe probe = { 0 };
	struct rule_sel_opts o = { 0 };
	struct rule_sel *sel;
	struct ws_error err;

	ws_error_clear(&err);
	tu_assert_ok(rule_set_load_file(rs, p, NULL, &err), &err);
	probe.file_exists = all_exist;
	probe.os_major = 10;
	o.context = ctx;
	o.env = env;
	o.probe = &probe;
	o.current_user = -1;
	tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
	for (int t = RULE_FILE; t <= RULE_REGISTRY; t++)
		for (size_t i = 0; i < rule_sel_root_count(sel, t); i++)
			ws_buf_addf(out, "%s%s\n", t == RULE_FILE ? "F " : "R ",
				    rule_sel_root(sel, t, i));
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
	free(p);
}

static void miguser_migdocs_roots_for_alice(void **state)
{
	struct ws_buf r = WS_BUF_INIT;
	char *have = tu_testdata("usmt-xml/MigUser.xml");

	if (!have)
		skip();
	free(have);
	/* MigUser: the known folders, each once, and the drive-wide roots of
	 * its per-extension include (C: for "C:\* [*.doc]" ...) which then
	 * covers everything else */
	roots_of("usmt-xml/MigUser.xml", RULE_CTX_USER, &r);
	assert_string_equal(r.buf,
			    "F C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Internet Explorer\\Quick Launch\n"
			    "F C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\n"
			    "F C:\\Users\\alice\\Desktop\n"
			    "F C:\\Users\\alice\\Documents\n"
			    "F C:\\Users\\alice\\Favorites\n"
			    "F C:\\Users\\alice\\Music\n"
			    "F C:\\Users\\alice\\Pictures\n"
			    "F C:\\Users\\alice\\Videos\n");
	ws_buf_reset(&r);
	/* MigUser's system pass: the per-extension "C:\* [*.doc]" rules, drive-wide */
	roots_of("usmt-xml/MigUser.xml", RULE_CTX_SYSTEM, &r);
	assert_string_equal(r.buf, "F C:\n");
	ws_buf_reset(&r);
	/* MigDocs (GenerateDocPatterns): the user pass starts at the profile only */
	roots_of("usmt-xml/MigDocs.xml", RULE_CTX_USER, &r);
	assert_string_equal(r.buf, "F C:\\Users\\alice\n");
	ws_buf_reset(&r);
	/* MigDocs system pass: the drive, pruned by its excludes */
	roots_of("usmt-xml/MigDocs.xml", RULE_CTX_SYSTEM, &r);
	assert_string_equal(r.buf, "F C:\n");
	{
		/* ... and the walker skips Windows, Program Files, the profiles */
		struct rule_set *rs = rule_set_new();
		struct rule_env *env = alice_env();
		struct rule_sel_opts o = { 0 };
		struct rule_sel *sel;
		struct ws_error err;
		char *p = tu_testdata("usmt-xml/MigDocs.xml");

		ws_error_clear(&err);
		tu_assert_ok(rule_set_load_file(rs, p, NULL, &err), &err);
		o.context = RULE_CTX_SYSTEM;
		o.env = env;
		tu_assert_ok(rule_sel_new(rs, &o, &sel, &err), &err);
		assert_true(rule_sel_dir(sel, RULE_FILE, "C:\\Data"));
		assert_false(rule_sel_dir(sel, RULE_FILE, "C:\\Windows"));
		assert_false(rule_sel_dir(sel, RULE_FILE, "C:\\Program Files"));
		assert_false(rule_sel_dir(sel, RULE_FILE, "C:\\Program Files (x86)\\X"));
		assert_false(rule_sel_dir(sel, RULE_FILE, "C:\\Users"));
		assert_false(rule_sel_dir(sel, RULE_FILE, "C:\\ProgramData"));
		rule_sel_free(sel);
		rule_set_free(rs);
		rule_env_free(env);
		free(p);
	}
	ws_buf_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(explain_reasons),
		cmocka_unit_test(explain_shows_inactive_components),
		cmocka_unit_test(genconfig_lists_detected_components),
		cmocka_unit_test(genconfig_round_trip),
		cmocka_unit_test(walker_enters_only_reachable_folders),
		cmocka_unit_test(excluded_trees_are_pruned),
		cmocka_unit_test(folder_answers_do_not_depend_on_the_cache),
		cmocka_unit_test(wildcard_detection_lists_only_reachable_folders),
		cmocka_unit_test(miguser_migdocs_roots_for_alice),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tu_cleanup();
	return rc;
}
