/*
 * test_loadstate.c - the LoadState rules at apply: locationModify moving a
 * folder, merge rules on file and registry collisions (USMT's worked
 * example included), contentModify, destinationCleanup with undo, dry run,
 * NeverRestore, addObjects, unsupported functions, and which rule files are
 * used (--rules, the scan's own, the shipped fallback).  Targets are
 * fixture installations with an existing profile "alice"; scans are made
 * through the store API.
 */
#include "apply_tu.h"

#include <stdlib.h>

#include "util/ws_utf.h"

#define SRC_SID "S-1-5-21-9-9-9-1001"

struct lt {
	struct atu t;
	char *rules;             /* the --rules file */
	char *home;              /* host path of the target profile */
	struct ws_buf actions;   /* "kind|object|target|reason" lines */
	struct ws_buf logs;
	struct ws_log log;
	const char *rfiles[1];
};

static void on_act(void *ctx, const struct apply_action *a)
{
	struct lt *t = ctx;

	ws_buf_addf(&t->actions, "%s|%s|%s|%s\n", apply_action_name(a->kind), a->object,
		    a->target ? a->target : "", a->reason ? a->reason : "");
}

static void on_log(void *ctx, int level, const char *where, const char *msg)
{
	struct lt *t = ctx;

	ws_buf_addf(&t->logs, "%d %s: %s\n", level, where ? where : "", msg);
}

/* A rule file: one User component including the profile and HKCU\Software,
 * with `extra` inside its <rules>. */
static void write_rules(struct lt *t, const char *extra)
{
	struct ws_buf x = WS_BUF_INIT;

	ws_buf_addf(&x,
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"             /* 1 */
		    "<migration urlid=\"http://example/loadstate-test\">\n"    /* 2 */
		    " <component type=\"Documents\" context=\"User\">\n"       /* 3 */
		    "  <displayName>LS</displayName>\n"                        /* 4 */
		    "  <role role=\"Data\"><rules>\n"                          /* 5 */
		    "   <include><objectSet>\n"                                /* 6 */
		    "    <pattern type=\"File\">%%CSIDL_PROFILE%%\\* [*]</pattern>\n" /* 7 */
		    "    <pattern type=\"Registry\">HKCU\\Software\\* [*]</pattern>\n" /* 8 */
		    "   </objectSet></include>\n"                              /* 9 */
		    "%s"                                                       /* 10 ... */
		    "  </rules></role>\n"
		    " </component>\n"
		    "</migration>\n", extra);
	tu_write_file(t->rules, x.buf, x.len);
	ws_buf_release(&x);
}

/* Target with profile `existing` (NULL: none, alice is staged for first
 * sign-in); a scan of user alice with these values/files. */
static void lt_setup_ex(struct lt *t, const char *existing, const struct atu_val *vals,
			size_t nv, const struct atu_file *files, size_t nf)
{
	memset(t, 0, sizeof(*t));
	atu_init(&t->t);
	t->rules = ws_xasprintf("%s/t.xml", t->t.dir);
	t->home = ws_xasprintf("%s/Users/alice", t->t.tgt);
	atu_fixture(t->t.tgt, FX_TARGET, 0, existing, 2);
	snprintf(t->t.device, sizeof(t->t.device), "SRCPC");
	atu_store_make(t->t.store, "SRCPC", SRC_SID, "alice", "C:\\Users\\alice", vals, nv, files,
		       nf);
	ws_buf_init(&t->actions);
	ws_buf_init(&t->logs);
	t->log.fn = on_log;
	t->log.ctx = t;
	t->log.max_level = WS_LOG_DEBUG;
	t->rfiles[0] = t->rules;
}

static void lt_setup(struct lt *t, const struct atu_val *vals, size_t nv,
		     const struct atu_file *files, size_t nf)
{
	lt_setup_ex(t, "alice", vals, nv, files, nf);
}

static void lt_release(struct lt *t)
{
	free(t->rules);
	free(t->home);
	ws_buf_release(&t->actions);
	ws_buf_release(&t->logs);
	atu_release(&t->t);
}

static int lt_apply(struct lt *t, int dry_run, struct apply_report *r, struct ws_error *e)
{
	struct apply_opts o;

	apply_opts_init(&o);

	o.allow_plain_target = 1;
	o.dry_run = dry_run;
	o.rule_files = t->rfiles;
	o.n_rule_files = 1;
	o.on_action = on_act;
	o.on_action_ctx = t;
	o.log = &t->log;
	ws_buf_reset(&t->actions);
	return atu_apply(&t->t, &o, r, e);
}

/* Target file relative to the profile: content, or NULL when missing. */
static char *home_file(struct lt *t, const char *rel)
{
	char *p = ws_xasprintf("%s/%s", t->home, rel);
	size_t len;
	char *d = tu_read_file(p, &len);

	free(p);
	return d;
}

static void home_write(struct lt *t, const char *rel, const char *content)
{
	char *p = ws_xasprintf("%s/%s", t->home, rel);
	char *slash = strrchr(p, '/');
	struct ws_error e;

	*slash = '\0';
	ws_error_clear(&e);
	tu_assert_ok(ws_mkdir_p(p, 0755, &e), &e);
	*slash = '/';
	tu_write_file(p, content, strlen(content));
	free(p);
}

static void assert_home(struct lt *t, const char *rel, const char *want)
{
	char *d = home_file(t, rel);

	if (!want) {
		if (d)
			fail_msg("%s should not exist", rel);
		return;
	}
	if (!d)
		fail_msg("%s is missing", rel);
	assert_string_equal(d, want);
	free(d);
}

/* Set a value in the target profile's NTUSER.DAT. */
static void hive_set(struct lt *t, const char *key, const char *name, uint32_t type,
		     const void *data, size_t len)
{
	char *hive = ws_xasprintf("%s/NTUSER.DAT", t->home);
	struct reg_hive *h;
	struct reg_value v = { (char *)name, type, (unsigned char *)data, len };
	struct ws_error e;
	reg_node n;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_open(hive, REG_OPEN_WRITE, &h, &e), &e);
	tu_assert_ok(reg_key_create(h, reg_root(h), key, &n, &e), &e);
	tu_assert_ok(reg_value_set(h, n, &v, &e), &e);
	tu_assert_ok(reg_hive_commit(h, NULL, &e), &e);
	reg_hive_close(h);
	free(hive);
}

/* 1 when found; *out filled (release it). */
static int hive_get(struct lt *t, const char *key, const char *name, struct reg_value *out)
{
	char *hive = ws_xasprintf("%s/NTUSER.DAT", t->home);
	int found = atu_hive_value(hive, key, name, out);

	free(hive);
	return found;
}

static int has_action(struct lt *t, const char *needle)
{
	return t->actions.buf && strstr(t->actions.buf, needle) != NULL;
}

#define ASSERT_ACTION(t, s) \
	do { if (!has_action(t, s)) fail_msg("no action '%s' in:\n%s", s, (t)->actions.buf ? (t)->actions.buf : ""); } while (0)

/* UTF-16LE "text\0" for REG_SZ data. */
static void sz(const char *text, struct ws_buf *out)
{
	ws_utf8_to_utf16le(text, strlen(text), out);
	ws_buf_add_u16le(out, 0);
}

/* ---- locationModify ------------------------------------------------------ */

static void relative_move_of_a_folder(void **state)
{
	static const struct atu_file files[] = {
		{ "C:\\Users\\alice\\Projects\\a.txt", "alpha" },
		{ "C:\\Users\\alice\\Projects\\sub\\b.txt", "beta" },
		{ "C:\\Users\\alice\\Other\\c.txt", "gamma" },
	};
	struct lt t;
	struct apply_report r;
	struct ws_error e;
	(void)state;

	lt_setup(&t, NULL, 0, files, 3);
	write_rules(&t,
		    "   <locationModify script=\"MigXmlHelper.RelativeMove('%CSIDL_PROFILE%\\Projects',"
		    "'%CSIDL_PERSONAL%\\Old Projects')\"><objectSet>\n"  /* 10 */
		    "    <pattern type=\"File\">%CSIDL_PROFILE%\\Projects\\* [*]</pattern>\n"
		    "   </objectSet></locationModify>\n");
	tu_assert_ok(lt_apply(&t, 0, &r, &e), &e);
	assert_home(&t, "Documents/Old Projects/a.txt", "alpha");
	assert_home(&t, "Documents/Old Projects/sub/b.txt", "beta");
	assert_home(&t, "Projects/a.txt", NULL);
	assert_home(&t, "Projects/sub/b.txt", NULL);
	assert_home(&t, "Other/c.txt", "gamma");
	assert_int_equal(r.objects_moved, 2);
	assert_int_equal(r.files_placed, 3);
	ASSERT_ACTION(&t, "rule-move|C:\\Users\\alice\\Projects\\sub\\b.txt|C:\\Users\\alice\\Documents\\Old Projects\\sub\\b.txt|locationModify MigXmlHelper.RelativeMove");
	ASSERT_ACTION(&t, "t.xml:11");
	apply_report_release(&r);
	lt_release(&t);
}

static void exact_move_of_a_value(void **state)
{
	struct ws_buf d = WS_BUF_INIT;
	struct lt t;
	struct apply_report r;
	struct reg_value v;
	struct ws_error e;
	struct atu_val vals[1];
	(void)state;

	sz("Ctrl+Shift", &d);
	vals[0] = (struct atu_val){ "HKCU\\Software\\Keyboard Toggle", "", REG_SZ, d.buf, d.len };
	lt_setup(&t, vals, 1, NULL, 0);
	write_rules(&t,
		    "   <locationModify script=\"MigXmlHelper.ExactMove('HKCU\\Software\\Keyboard Layout\\Toggle [HotKey]')\"><objectSet>\n"
		    "    <pattern type=\"Registry\">HKCU\\Software\\Keyboard Toggle []</pattern>\n"
		    "   </objectSet></locationModify>\n");
	tu_assert_ok(lt_apply(&t, 0, &r, &e), &e);
	assert_int_equal(hive_get(&t, "Software\\Keyboard Toggle", "", &v), 0);
	assert_int_equal(hive_get(&t, "Software\\Keyboard Layout\\Toggle", "HotKey", &v), 1);
	assert_int_equal(v.type, REG_SZ);
	assert_int_equal(v.len, d.len);
	assert_memory_equal(v.data, d.buf, d.len);
	reg_value_release(&v);
	ASSERT_ACTION(&t, "rule-move|HKCU\\Software\\Keyboard Toggle []|HKCU\\Software\\Keyboard Layout\\Toggle [HotKey]");
	assert_int_equal(r.objects_moved, 1);
	apply_report_release(&r);
	lt_release(&t);
	ws_buf_release(&d);
}

/* ---- merge on files ------------------------------------------------------ */

static const struct atu_file data_files[] = {
	{ "C:\\Users\\alice\\Data\\x.txt", "source" },
};

static void destination_priority_keeps_target_file(void **state)
{
	struct lt t;
	struct apply_report r;
	struct ws_error e;
	(void)state;

	lt_setup(&t, NULL, 0, data_files, 1);
	home_write(&t, "Data/x.txt", "target");
	write_rules(&t,
		    "   <merge script=\"MigXmlHelper.DestinationPriority()\"><objectSet>\n"
		    "    <pattern type=\"File\">%CSIDL_PROFILE%\\Data\\* [*]</pattern>\n"
		    "   </objectSet></merge>\n");
	tu_assert_ok(lt_apply(&t, 0, &r, &e), &e);
	assert_home(&t, "Data/x.txt", "target");
	assert_home(&t, "Data/x(1).txt", NULL);
	assert_int_equal(r.files_kept, 1);
	assert_int_equal(r.files_renamed, 0);
	ASSERT_ACTION(&t, "file-keep|C:\\Users\\alice\\Data\\x.txt|");
	ASSERT_ACTION(&t, "DestinationPriority() at ");
	ASSERT_ACTION(&t, "t.xml:11: the target's file is kept");
	apply_report_release(&r);
	lt_release(&t);
}

static void source_priority_overwrites(void **state)
{
	struct lt t;
	struct apply_report r;
	struct ws_error e;
	(void)state;

	lt_setup(&t, NULL, 0, data_files, 1);
	home_write(&t, "Data/x.txt", "target");
	write_rules(&t,
		    "   <merge script=\"MigXmlHelper.SourcePriority()\"><objectSet>\n"
		    "    <pattern type=\"File\">%CSIDL_PROFILE%\\Data\\* [*]</pattern>\n"
		    "   </objectSet></merge>\n");
	tu_assert_ok(lt_apply(&t, 0, &r, &e), &e);
	assert_home(&t, "Data/x.txt", "source");
	assert_home(&t, "Data/x(1).txt", NULL);
	assert_int_equal(r.files_overwritten, 1);
	ASSERT_ACTION(&t, "file-overwrite|C:\\Users\\alice\\Data\\x.txt|");
	ASSERT_ACTION(&t, "SourcePriority() at ");
	apply_report_release(&r);
	lt_release(&t);
}

static void no_merge_rule_renames(void **state)
{
	struct lt t;
	struct apply_report r;
	struct ws_error e;
	(void)state;

	lt_setup(&t, NULL, 0, data_files, 1);
	home_write(&t, "Data/x.txt", "target");
	write_rules(&t, "");
	tu_assert_ok(lt_apply(&t, 0, &r, &e), &e);
	assert_home(&t, "Data/x.txt", "target");
	assert_home(&t, "Data/x(1).txt", "source");
	assert_int_equal(r.files_renamed, 1);
	apply_report_release(&r);
	lt_release(&t);
}

static void find_file_place_by_pattern(void **state)
{
	struct lt t;
	struct apply_report r;
	struct ws_error e;
	(void)state;

	lt_setup(&t, NULL, 0, data_files, 1);
	home_write(&t, "Data/x.txt", "target");
	home_write(&t, "Data/x (1).txt", "older copy");
	write_rules(&t,
		    "   <merge script=\"MigXmlHelper.FindFilePlaceByPattern('&lt;F&gt; (&lt;N&gt;).&lt;E&gt;')\"><objectSet>\n"
		    "    <pattern type=\"File\">%CSIDL_PROFILE%\\Data\\* [*]</pattern>\n"
		    "   </objectSet></merge>\n");
	tu_assert_ok(lt_apply(&t, 0, &r, &e), &e);
	assert_home(&t, "Data/x.txt", "target");
	assert_home(&t, "Data/x (1).txt", "older copy");
	assert_home(&t, "Data/x (2).txt", "source");
	assert_home(&t, "Data/x(1).txt", NULL);
	assert_int_equal(r.files_renamed, 1);
	ASSERT_ACTION(&t, "placed as x (2).txt; merge MigXmlHelper.FindFilePlaceByPattern");
	apply_report_release(&r);
	lt_release(&t);
}

/* usmt.md 1.5: the destination has data\SampleB.txt and data\Folder\SampleB.txt. */
static void usmt_worked_example(void **state)
{
	static const struct atu_file files[] = {
		{ "C:\\Users\\alice\\data\\SampleA.txt", "src A" },
		{ "C:\\Users\\alice\\data\\SampleB.txt", "src B" },
		{ "C:\\Users\\alice\\data\\Folder\\SampleB.txt", "src FB" },
	};
	static const struct {
		const char *rules;
		const char *a, *b, *fb;
	} cases[] = {
		/* DestinationPriority on data\* [*]: only SampleA restored */
		{ "   <merge script=\"MigXmlHelper.DestinationPriority()\"><objectSet>\n"
		  "    <pattern type=\"File\">%CSIDL_PROFILE%\\data\\* [*]</pattern>\n"
		  "   </objectSet></merge>\n", "src A", "dst B", "dst FB" },
		/* SourcePriority on data\* [*]: everything overwritten */
		{ "   <merge script=\"MigXmlHelper.SourcePriority()\"><objectSet>\n"
		  "    <pattern type=\"File\">%CSIDL_PROFILE%\\data\\* [*]</pattern>\n"
		  "   </objectSet></merge>\n", "src A", "src B", "src FB" },
		/* both: the more specific data\ [*] wins for the top-level files */
		{ "   <merge script=\"MigXmlHelper.DestinationPriority()\"><objectSet>\n"
		  "    <pattern type=\"File\">%CSIDL_PROFILE%\\data\\* [*]</pattern>\n"
		  "   </objectSet></merge>\n"
		  "   <merge script=\"MigXmlHelper.SourcePriority()\"><objectSet>\n"
		  "    <pattern type=\"File\">%CSIDL_PROFILE%\\data\\ [*]</pattern>\n"
		  "   </objectSet></merge>\n", "src A", "src B", "dst FB" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lt t;
		struct apply_report r;
		struct ws_error e;

		lt_setup(&t, NULL, 0, files, 3);
		home_write(&t, "data/SampleB.txt", "dst B");
		home_write(&t, "data/Folder/SampleB.txt", "dst FB");
		write_rules(&t, cases[i].rules);
		tu_assert_ok(lt_apply(&t, 0, &r, &e), &e);
		assert_home(&t, "data/SampleA.txt", cases[i].a);
		assert_home(&t, "data/SampleB.txt", cases[i].b);
		assert_home(&t, "data/Folder/SampleB.txt", cases[i].fb);
		assert_home(&t, "data/SampleB(1).txt", NULL);
		assert_home(&t, "data/Folder/SampleB(1).txt", NULL);
		assert_int_equal(r.files_renamed, 0);
		apply_report_release(&r);
		lt_release(&t);
	}
}

/* ---- registry: content and merge ----------------------------------------- */

static void convert_to_dword_on_a_string(void **state)
{
	struct ws_buf d = WS_BUF_INIT;
	struct atu_val vals[1];
	struct lt t;
	struct apply_report r;
	struct reg_value v;
	struct ws_error e;
	(void)state;

	sz("42", &d);
	vals[0] = (struct atu_val){ "HKCU\\Software\\Test", "Num", REG_SZ, d.buf, d.len };
	lt_setup(&t, vals, 1, NULL, 0);
	write_rules(&t,
		    "   <contentModify script=\"MigXmlHelper.ConvertToDWORD(NULL)\"><objectSet>\n"
		    "    <pattern type=\"Registry\">HKCU\\Software\\Test [Num]</pattern>\n"
		    "   </objectSet></contentModify>\n");
	tu_assert_ok(lt_apply(&t, 0, &r, &e), &e);
	assert_int_equal(hive_get(&t, "Software\\Test", "Num", &v), 1);
	assert_int_equal(v.type, REG_DWORD);
	assert_int_equal(v.len, 4);
	assert_memory_equal(v.data, "\x2a\0\0\0", 4);
	reg_value_release(&v);
	assert_int_equal(r.values_modified, 1);
	assert_int_equal(r.values_set, 1);
	ASSERT_ACTION(&t, "rule-content|HKCU\\Software\\Test [Num]||contentModify MigXmlHelper.ConvertToDWORD(NULL) at ");
	ASSERT_ACTION(&t, "now REG_DWORD, 4 bytes");
	apply_report_release(&r);
	lt_release(&t);
	ws_buf_release(&d);
}

static void merge_multi_sz_with_target(void **state)
{
	static const char src[] = "a\0b\0\0";
	static const char dst[] = "c\0a\0\0";
	struct ws_buf s = WS_BUF_INIT, want = WS_BUF_INIT;
	struct atu_val vals[1];
	struct lt t;
	struct apply_report r;
	struct reg_value v;
	struct ws_error e;
	(void)state;

	for (size_t i = 0; i < sizeof(src) - 1; i++)
		ws_buf_add_u16le(&s, (unsigned char)src[i]);
	vals[0] = (struct atu_val){ "HKCU\\Software\\Test", "List", REG_MULTI_SZ, s.buf, s.len };
	lt_setup(&t, vals, 1, NULL, 0);
	{
		struct ws_buf d = WS_BUF_INIT;

		for (size_t i = 0; i < sizeof(dst) - 1; i++)
			ws_buf_add_u16le(&d, (unsigned char)dst[i]);
		hive_set(&t, "Software\\Test", "List", REG_MULTI_SZ, d.buf, d.len);
		ws_buf_release(&d);
	}
	write_rules(&t,
		    "   <contentModify script=\"MigXmlHelper.MergeMultiSzContent('Add','z')\"><objectSet>\n"
		    "    <pattern type=\"Registry\">HKCU\\Software\\Test [List]</pattern>\n"
		    "   </objectSet></contentModify>\n");
	tu_assert_ok(lt_apply(&t, 0, &r, &e), &e);
	{
		static const char w[] = "c\0a\0b\0z\0\0";

		for (size_t i = 0; i < sizeof(w) - 1; i++)
			ws_buf_add_u16le(&want, (unsigned char)w[i]);
	}
	assert_int_equal(hive_get(&t, "Software\\Test", "List", &v), 1);
	assert_int_equal(v.type, REG_MULTI_SZ);
	assert_int_equal(v.len, want.len);
	assert_memory_equal(v.data, want.buf, want.len);
	reg_value_release(&v);
	apply_report_release(&r);
	lt_release(&t);
	ws_buf_release(&s);
	ws_buf_release(&want);
}

static void registry_merge_rules(void **state)
{
	static const struct {
		const char *script;
		uint32_t src, dst, want;
		int kept;
	} cases[] = {
		{ "DestinationPriority()", 5, 9, 9, 1 },
		{ "SourcePriority()", 5, 9, 5, 0 },
		{ "HigherValue()", 5, 9, 9, 1 },
		{ "HigherValue()", 12, 9, 12, 0 },
		{ "LowerValue()", 5, 9, 5, 0 },
		{ "LowerValue()", 12, 9, 9, 1 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char sd[4] = { (unsigned char)cases[i].src, 0, 0, 0 };
		unsigned char dd[4] = { (unsigned char)cases[i].dst, 0, 0, 0 };
		struct atu_val vals[1] = { { "HKCU\\Software\\Test", "Level", REG_DWORD, sd, 4 } };
		struct ws_buf x = WS_BUF_INIT;
		struct lt t;
		struct apply_report r;
		struct reg_value v;
		struct ws_error e;

		lt_setup(&t, vals, 1, NULL, 0);
		hive_set(&t, "Software\\Test", "Level", REG_DWORD, dd, 4);
		ws_buf_addf(&x, "   <merge script=\"MigXmlHelper.%s\"><objectSet>\n"
			    "    <pattern type=\"Registry\">HKCU\\Software\\Test [Level]</pattern>\n"
			    "   </objectSet></merge>\n", cases[i].script);
		write_rules(&t, x.buf);
		tu_assert_ok(lt_apply(&t, 0, &r, &e), &e);
		assert_int_equal(hive_get(&t, "Software\\Test", "Level", &v), 1);
		assert_int_equal(v.len, 4);
		if (v.data[0] != cases[i].want)
			fail_msg("case %zu %s: %u, want %u", i, cases[i].script, v.data[0],
				 cases[i].want);
		reg_value_release(&v);
		assert_int_equal(r.values_kept, (uint64_t)cases[i].kept);
		if (cases[i].kept)
			ASSERT_ACTION(&t, "reg-keep|HKCU\\Software\\Test [Level]|");
		apply_report_release(&r);
		lt_release(&t);
		ws_buf_release(&x);
	}
}

/* ---- destinationCleanup --------------------------------------------------- */

static const char cleanup_rules[] =
	"   <destinationCleanup><objectSet>\n"                                   /* 10 */
	"    <pattern type=\"Registry\">HKCU\\Software\\Junk [Old]</pattern>\n"  /* 11 */
	"    <pattern type=\"File\">%CSIDL_PROFILE%\\Cache\\* [*]</pattern>\n"   /* 12 */
	"   </objectSet></destinationCleanup>\n";

static void cleanup_setup(struct lt *t, struct ws_buf *d)
{
	static struct atu_val vals[1];
	static const struct atu_file files[] = { { "C:\\Users\\alice\\Cache\\new.bin", "fresh" } };

	sz("source", d);
	vals[0] = (struct atu_val){ "HKCU\\Software\\Test", "A", REG_SZ, d->buf, d->len };
	lt_setup(t, vals, 1, files, 1);
	hive_set(t, "Software\\Junk", "Old", REG_DWORD, "\x07\0\0\0", 4);
	hive_set(t, "Software\\Junk", "Keep", REG_DWORD, "\x08\0\0\0", 4);
	home_write(t, "Cache/old.bin", "stale cache");
	home_write(t, "Cache/deep/older.bin", "staler");
	home_write(t, "Cache/new.bin", "stale new");
	write_rules(t, cleanup_rules);
}

static void destination_cleanup_then_undo(void **state)
{
	struct ws_buf d = WS_BUF_INIT;
	struct lt t;
	struct apply_report r;
	struct apply_undo_report u;
	struct reg_value v;
	struct ws_error e;
	char *before, *after;
	(void)state;

	cleanup_setup(&t, &d);
	before = atu_tree(t.t.tgt);
	tu_assert_ok(lt_apply(&t, 0, &r, &e), &e);
	assert_int_equal(hive_get(&t, "Software\\Junk", "Old", &v), 0);
	assert_int_equal(hive_get(&t, "Software\\Junk", "Keep", &v), 1);
	reg_value_release(&v);
	assert_int_equal(hive_get(&t, "Software\\Test", "A", &v), 1);
	reg_value_release(&v);
	assert_home(&t, "Cache/old.bin", NULL);
	assert_home(&t, "Cache/deep/older.bin", NULL);
	/* cleaned first, then the source's file lands as new: no collision */
	assert_home(&t, "Cache/new.bin", "fresh");
	assert_int_equal(r.files_renamed, 0);
	assert_int_equal(r.objects_cleaned, 4);
	ASSERT_ACTION(&t, "rule-cleanup|HKCU\\Software\\Junk [Old]||destinationCleanup at ");
	ASSERT_ACTION(&t, "t.xml:11: deleted before apply");
	ASSERT_ACTION(&t, "rule-cleanup|C:\\Users\\alice\\Cache\\deep\\older.bin||destinationCleanup at ");
	ASSERT_ACTION(&t, "t.xml:12: deleted before apply");
	apply_report_release(&r);
	/* undo puts everything back byte for byte */
	ws_error_clear(&e);
	tu_assert_ok(apply_undo(t.t.tgt, NULL, NULL, &u, &e), &e);
	after = atu_tree(t.t.tgt);
	assert_string_equal(before, after);
	free(before);
	free(after);
	lt_release(&t);
	ws_buf_release(&d);
}

static void destination_cleanup_dry_run_lists(void **state)
{
	struct ws_buf d = WS_BUF_INIT;
	struct lt t;
	struct apply_report r;
	struct ws_error e;
	char *before, *after;
	(void)state;

	cleanup_setup(&t, &d);
	before = atu_tree(t.t.tgt);
	tu_assert_ok(lt_apply(&t, 1, &r, &e), &e);
	after = atu_tree(t.t.tgt);
	assert_string_equal(before, after);
	assert_int_equal(r.objects_cleaned, 4);
	ASSERT_ACTION(&t, "rule-cleanup|HKCU\\Software\\Junk [Old]||destinationCleanup at ");
	ASSERT_ACTION(&t, "would be deleted before apply");
	ASSERT_ACTION(&t, "rule-cleanup|C:\\Users\\alice\\Cache\\old.bin|");
	assert_null(strstr(t.actions.buf, "Junk [Keep]"));
	apply_report_release(&r);
	free(before);
	free(after);
	lt_release(&t);
	ws_buf_release(&d);
}

/* ---- NeverRestore, addObjects, unsupported, rule files ------------------- */

static void never_restore_include_not_applied(void **state)
{
	struct ws_buf a = WS_BUF_INIT, b = WS_BUF_INIT;
	struct atu_val vals[2];
	struct lt t;
	struct apply_report r;
	struct reg_value v;
	struct ws_error e;
	(void)state;

	sz("en-US", &a);
	sz("kept", &b);
	vals[0] = (struct atu_val){ "HKCU\\Software\\Intl", "Locale", REG_SZ, a.buf, a.len };
	vals[1] = (struct atu_val){ "HKCU\\Software\\Test", "B", REG_SZ, b.buf, b.len };
	lt_setup(&t, vals, 2, NULL, 0);
	write_rules(&t,
		    "   <include filter=\"MigXmlHelper.NeverRestore()\"><objectSet>\n"
		    "    <pattern type=\"Registry\">HKCU\\Software\\Intl [Locale]</pattern>\n"
		    "   </objectSet></include>\n");
	tu_assert_ok(lt_apply(&t, 0, &r, &e), &e);
	assert_int_equal(hive_get(&t, "Software\\Intl", "Locale", &v), 0);
	assert_int_equal(hive_get(&t, "Software\\Test", "B", &v), 1);
	reg_value_release(&v);
	assert_int_equal(r.values_dropped, 1);
	ASSERT_ACTION(&t, "reg-dropped|HKCU\\Software\\Intl [Locale]||NeverRestore(): captured but never restored (include at ");
	apply_report_release(&r);
	lt_release(&t);
	ws_buf_release(&a);
	ws_buf_release(&b);
}

static void add_objects_creates_values(void **state)
{
	struct lt t;
	struct apply_report r;
	struct reg_value v;
	struct ws_error e;
	(void)state;

	lt_setup(&t, NULL, 0, NULL, 0);
	write_rules(&t,
		    "   <addObjects><object>\n"
		    "    <location type=\"Registry\">HKCU\\Software\\Added [Version]</location>\n"
		    "    <attributes>DWORD</attributes>\n"
		    "    <bytes>0B000000</bytes>\n"
		    "   </object></addObjects>\n");
	tu_assert_ok(lt_apply(&t, 0, &r, &e), &e);
	assert_int_equal(hive_get(&t, "Software\\Added", "Version", &v), 1);
	assert_int_equal(v.type, REG_DWORD);
	assert_memory_equal(v.data, "\x0b\0\0\0", 4);
	reg_value_release(&v);
	ASSERT_ACTION(&t, "rule-add|HKCU\\Software\\Added [Version]||addObjects at ");
	ASSERT_ACTION(&t, "reg-set|HKCU\\Software\\Added [Version]|");
	apply_report_release(&r);
	lt_release(&t);
}

static void unsupported_function_warns_and_keeps_default(void **state)
{
	struct lt t;
	struct apply_report r;
	struct ws_error e;
	(void)state;

	lt_setup(&t, NULL, 0, data_files, 1);
	home_write(&t, "Data/x.txt", "target");
	write_rules(&t,
		    "   <merge script=\"MigXmlHelper.LeafPattern()\"><objectSet>\n"  /* 10 */
		    "    <pattern type=\"File\">%CSIDL_PROFILE%\\Data\\* [*]</pattern>\n"
		    "   </objectSet></merge>\n");
	assert_int_equal(lt_apply(&t, 0, &r, &e), WS_PARTIAL);
	/* default collision behaviour */
	assert_home(&t, "Data/x.txt", "target");
	assert_home(&t, "Data/x(1).txt", "source");
	assert_int_equal(r.rules_unsupported, 1);
	ASSERT_ACTION(&t, "rule-unsupported|C:\\Users\\alice\\Data\\x.txt||merge MigXmlHelper.LeafPattern() at ");
	ASSERT_ACTION(&t, "t.xml:11 not applied: merge function LeafPattern is undocumented");
	assert_non_null(strstr(t.logs.buf, "t.xml:11: merge rule MigXmlHelper.LeafPattern() not applied"));
	apply_report_release(&r);
	lt_release(&t);
}

static void bad_rules_option_refused(void **state)
{
	struct lt t;
	struct apply_report r;
	struct ws_error e;
	char *before, *after;
	(void)state;

	lt_setup(&t, NULL, 0, data_files, 1);
	before = atu_tree(t.t.tgt);
	/* missing file */
	assert_int_equal(lt_apply(&t, 0, &r, &e), WS_E_RULES);
	assert_non_null(strstr(e.where, "t.xml"));
	apply_report_release(&r);
	/* malformed XML */
	tu_write_file(t.rules, "<migration><component>", 22);
	assert_int_equal(lt_apply(&t, 0, &r, &e), WS_E_RULES);
	apply_report_release(&r);
	unlink(t.rules);
	after = atu_tree(t.t.tgt);
	assert_string_equal(before, after);
	free(before);
	free(after);
	lt_release(&t);
}

/* A scan recording its rule file as `recorded`, with one collision. */
static void store_with_rule_files(struct lt *t, const char *recorded)
{
	struct store_open_opts so = { 0 };
	struct store *st;
	struct store_writer *w;
	struct store_scan_info info = { 0 };
	struct store_user u = { 0, SRC_SID, "alice", "C:\\Users\\alice", 0, STORE_USER_LOCAL };
	struct store_file f = { 0 };
	const char *rf[1] = { recorded };
	struct ws_error e;
	char *dir = ws_xasprintf("%s/st2", t->t.dir);

	so.create = 1;
	ws_error_clear(&e);
	tu_assert_ok(store_open(dir, &so, &st, &e), &e);
	info.device = "RULEPC";
	info.system_drive = 'C';
	info.rule_files = rf;
	info.n_rule_files = 1;
	tu_assert_ok(store_scan_begin(st, &info, &w, &e), &e);
	tu_assert_ok(store_scan_add_user(w, &u, &e), &e);
	f.path = "C:\\Users\\alice\\Data\\x.txt";
	f.size = 6;
	f.written_ft = 133000000000000000ull;
	tu_assert_ok(store_scan_add_file_mem(w, &f, "source", 6, &e), &e);
	tu_assert_ok(store_scan_commit(w, NULL, &e), &e);
	store_close(st);
	free(t->t.store);
	t->t.store = dir;
	snprintf(t->t.device, sizeof(t->t.device), "RULEPC");
}

static void scan_rule_files_found_by_base_name(void **state)
{
	struct lt t;
	struct apply_report r;
	struct apply_opts o;
	struct ws_error e;
	char *rdir;
	(void)state;

	lt_setup(&t, NULL, 0, NULL, 0);
	rdir = ws_xasprintf("%s/rules", t.t.dir);
	free(t.rules);
	t.rules = ws_xasprintf("%s/mine.xml", rdir);
	{
		struct ws_error me;

		ws_error_clear(&me);
		tu_assert_ok(ws_mkdir_p(rdir, 0755, &me), &me);
	}
	write_rules(&t,
		    "   <merge script=\"MigXmlHelper.DestinationPriority()\"><objectSet>\n"
		    "    <pattern type=\"File\">%CSIDL_PROFILE%\\Data\\* [*]</pattern>\n"
		    "   </objectSet></merge>\n");
	/* recorded as a path of the source machine: found by base name */
	store_with_rule_files(&t, "D:\\scanner\\rules\\mine.xml");
	home_write(&t, "Data/x.txt", "target");
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.rules_dir = rdir;
	o.on_action = on_act;
	o.on_action_ctx = &t;
	o.log = &t.log;
	tu_assert_ok(atu_apply(&t.t, &o, &r, &e), &e);
	assert_home(&t, "Data/x.txt", "target");
	assert_home(&t, "Data/x(1).txt", NULL);
	assert_int_equal(r.files_kept, 1);
	ASSERT_ACTION(&t, "mine.xml:11: the target's file is kept");
	apply_report_release(&r);
	free(rdir);
	lt_release(&t);
}

static void missing_scan_rule_file_falls_back_to_shipped(void **state)
{
	struct lt t;
	struct apply_report r;
	struct apply_opts o;
	struct ws_error e;
	char *empty, *shipped;
	const char *src = getenv("WS_SOURCE_DIR");
	(void)state;

	if (!src)
		skip();
	lt_setup(&t, NULL, 0, NULL, 0);
	empty = ws_xasprintf("%s/empty", t.t.dir);
	{
		struct ws_error me;

		ws_error_clear(&me);
		tu_assert_ok(ws_mkdir_p(empty, 0755, &me), &me);
	}
	shipped = ws_xasprintf("%s/rules", src);
	setenv("WS_RULES_DIR", shipped, 1);
	store_with_rule_files(&t, "/nowhere/gone.xml");
	home_write(&t, "Data/x.txt", "target");
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.rules_dir = empty;
	o.on_action = on_act;
	o.on_action_ctx = &t;
	o.log = &t.log;
	tu_assert_ok(atu_apply(&t.t, &o, &r, &e), &e);
	unsetenv("WS_RULES_DIR");
	assert_non_null(strstr(t.logs.buf, "gone.xml: rule file of the scan not found"));
	assert_non_null(strstr(t.logs.buf, "using the shipped rule files"));
	/* the shipped set has no merge rule for Data: USMT's default */
	assert_home(&t, "Data/x(1).txt", "source");
	apply_report_release(&r);
	free(empty);
	free(shipped);
	lt_release(&t);
}

/* ---- LoadState ignores <detects> ---------------------------------------- */

static void merge_of_undetected_component_decides(void **state)
{
	struct ws_buf x = WS_BUF_INIT;
	struct lt t;
	struct apply_report r;
	struct ws_error e;
	(void)state;

	lt_setup(&t, NULL, 0, data_files, 1);
	home_write(&t, "Data/x.txt", "target");
	/* the component holding the merge rule detects an application the
	 * target does not have: LoadState treats it as detected anyway */
	ws_buf_adds(&x,
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<migration urlid=\"http://example/loadstate-detect\">\n"
		    " <component type=\"Application\" context=\"User\">\n"
		    "  <displayName>App</displayName>\n"
		    "  <role role=\"Settings\">\n"
		    "   <detects><detect><condition>MigXmlHelper.DoesObjectExist(\"File\","
		    "\"C:\\Program Files\\NoSuchApp\\app.exe\")</condition></detect></detects>\n"
		    "   <rules>\n"
		    "    <include><objectSet><pattern type=\"File\">%CSIDL_PROFILE%\\Data\\* [*]</pattern>"
		    "</objectSet></include>\n"
		    "    <merge script=\"MigXmlHelper.DestinationPriority()\"><objectSet>\n" /* 10 */
		    "     <pattern type=\"File\">%CSIDL_PROFILE%\\Data\\* [*]</pattern>\n"
		    "    </objectSet></merge>\n"
		    "   </rules>\n"
		    "  </role>\n"
		    " </component>\n"
		    "</migration>\n");
	tu_write_file(t.rules, x.buf, x.len);
	tu_assert_ok(lt_apply(&t, 0, &r, &e), &e);
	assert_home(&t, "Data/x.txt", "target");
	assert_home(&t, "Data/x(1).txt", NULL);
	assert_int_equal(r.files_kept, 1);
	assert_int_equal(r.files_renamed, 0);
	ASSERT_ACTION(&t, "file-keep|C:\\Users\\alice\\Data\\x.txt|");
	ASSERT_ACTION(&t, "t.xml:10: the target's file is kept");
	apply_report_release(&r);
	lt_release(&t);
	ws_buf_release(&x);
}

/* ---- users staged for first sign-in -------------------------------------- */

#define STAGED_BUNDLE "ProgramData/winstate/bundles/" SRC_SID

static char *bundle_file(struct lt *t, const char *rel, size_t *len)
{
	char *p = ws_xasprintf("%s/" STAGED_BUNDLE "/%s", t->t.tgt, rel);
	char *d = tu_read_file(p, len);

	free(p);
	return d;
}

/* A staged file by its place below the profile (files.txt). */
static char *staged(struct lt *t, const char *rel, size_t *len)
{
	char *b = ws_xasprintf("%s/" STAGED_BUNDLE, t->t.tgt);
	char *d = atu_bundle_file(b, rel, len);

	free(b);
	return d;
}

static const struct atu_file staged_files[] = {
	{ "C:\\Users\\alice\\Secret\\s.txt", "secret" },
	{ "C:\\Users\\alice\\Projects\\sub\\p.txt", "project" },
	{ "C:\\Users\\alice\\Data\\x.txt", "keep me" },
	{ "C:\\Users\\alice\\Over\\o.txt", "overwrite" },
	{ "C:\\Users\\alice\\Newest\\n.txt", "newest" },
	{ "C:\\Users\\alice\\Plain\\q.txt", "plain" },
};

static void staged_user_file_rules(void **state)
{
	struct ws_buf d = WS_BUF_INIT;
	struct atu_val vals[1];
	struct lt t;
	struct apply_report r;
	struct ws_error e;
	char *txt;
	size_t len;
	(void)state;

	sz("42", &d);
	vals[0] = (struct atu_val){ "HKCU\\Software\\Test", "Num", REG_SZ, d.buf, d.len };
	lt_setup_ex(&t, NULL, vals, 1, staged_files, 6);
	write_rules(&t,
		    "   <include filter=\"MigXmlHelper.NeverRestore()\"><objectSet>\n" /* 10 */
		    "    <pattern type=\"File\">%CSIDL_PROFILE%\\Secret\\* [*]</pattern>\n"
		    "   </objectSet></include>\n"
		    "   <locationModify script=\"MigXmlHelper.RelativeMove('%CSIDL_PROFILE%\\Projects',"
		    "'%CSIDL_PERSONAL%\\Old Projects')\"><objectSet>\n"                 /* 13 */
		    "    <pattern type=\"File\">%CSIDL_PROFILE%\\Projects\\* [*]</pattern>\n"
		    "   </objectSet></locationModify>\n"
		    "   <merge script=\"MigXmlHelper.DestinationPriority()\"><objectSet>\n" /* 16 */
		    "    <pattern type=\"File\">%CSIDL_PROFILE%\\Data\\* [*]</pattern>\n"
		    "   </objectSet></merge>\n"
		    "   <merge script=\"MigXmlHelper.SourcePriority()\"><objectSet>\n"      /* 19 */
		    "    <pattern type=\"File\">%CSIDL_PROFILE%\\Over\\* [*]</pattern>\n"
		    "   </objectSet></merge>\n"
		    "   <merge script=\"MigXmlHelper.NewestVersion('FileVersion')\"><objectSet>\n" /* 22 */
		    "    <pattern type=\"File\">%CSIDL_PROFILE%\\Newest\\* [*]</pattern>\n"
		    "   </objectSet></merge>\n"
		    "   <contentModify script=\"MigXmlHelper.ConvertToDWORD(NULL)\"><objectSet>\n"
		    "    <pattern type=\"Registry\">HKCU\\Software\\Test [Num]</pattern>\n"
		    "   </objectSet></contentModify>\n");
	/* NewestVersion cannot be carried out by the script: reported, exit 3 */
	assert_int_equal(lt_apply(&t, 0, &r, &e), WS_PARTIAL);
	assert_int_equal(r.users_staged, 1);

	/* NeverRestore: not in the bundle, reported */
	assert_null(staged(&t, "Secret\\s.txt", &len));
	assert_int_equal(r.files_dropped, 1);
	ASSERT_ACTION(&t, "file-dropped|C:\\Users\\alice\\Secret\\s.txt||NeverRestore(): "
		      "captured but never restored (include at ");

	/* locationModify: in the bundle where it lands in the new profile */
	assert_null(staged(&t, "Projects\\sub\\p.txt", &len));
	txt = staged(&t, "Documents\\Old Projects\\sub\\p.txt", &len);
	assert_non_null(txt);
	assert_memory_equal(txt, "project", 7);
	free(txt);
	assert_int_equal(r.objects_moved, 1);
	ASSERT_ACTION(&t, "rule-move|C:\\Users\\alice\\Projects\\sub\\p.txt|"
		      "C:\\Users\\alice\\Documents\\Old Projects\\sub\\p.txt|locationModify ");
	ASSERT_ACTION(&t, "file-stage|C:\\Users\\alice\\Projects\\sub\\p.txt|");
	ASSERT_ACTION(&t, "\\files\\");
	txt = bundle_file(&t, "files.txt", &len);
	assert_non_null(strstr(txt, "\tDocuments\\Old Projects\\sub\\p.txt\r\n"));
	free(txt);

	/* merge: recorded for the script, which keeps / overwrites */
	txt = bundle_file(&t, "merge.txt", &len);
	assert_non_null(txt);
	assert_non_null(strstr(txt, "keep\tData\\x.txt\r\n"));
	assert_non_null(strstr(txt, "overwrite\tOver\\o.txt\r\n"));
	assert_null(strstr(txt, "Newest"));
	assert_null(strstr(txt, "Plain"));
	free(txt);
	ASSERT_ACTION(&t, "t.xml:17: at first sign-in a file already there is kept");
	ASSERT_ACTION(&t, "t.xml:20: at first sign-in the source's file replaces one already there");
	{
		char *p = ws_xasprintf("%s/ProgramData/winstate/restore.ps1", t.t.tgt);

		txt = tu_read_file(p, &len);
		free(p);
	}
	assert_non_null(txt);
	assert_non_null(strstr(txt, "merge.txt"));
	assert_non_null(strstr(txt, "$policy[$rel] -eq 'keep'"));
	assert_non_null(strstr(txt, "$policy[$rel] -eq 'overwrite'"));
	free(txt);
	/* what the script cannot express is reported per object */
	assert_int_equal(r.rules_unsupported, 1);
	ASSERT_ACTION(&t, "rule-unsupported|C:\\Users\\alice\\Newest\\n.txt||merge "
		      "MigXmlHelper.NewestVersion('FileVersion') at ");
	ASSERT_ACTION(&t, "the first-sign-in script cannot carry out NewestVersion()");
	txt = staged(&t, "Newest\\n.txt", &len);
	assert_non_null(txt); /* still staged, default collision behaviour */
	free(txt);

	/* contentModify: the REG_SZ "42" lands as a DWORD in settings.reg */
	{
		char *raw = bundle_file(&t, "settings.reg", &len);
		struct ws_buf u = WS_BUF_INIT;

		assert_non_null(raw);
		assert_true(len > 2);
		ws_utf16le_to_utf8(raw + 2, len - 2, &u, 0);
		assert_non_null(strstr(u.buf, "\"Num\"=dword:0000002a"));
		free(raw);
		ws_buf_release(&u);
	}
	assert_int_equal(r.values_modified, 1);
	ASSERT_ACTION(&t, "rule-content|HKCU\\Software\\Test [Num]||contentModify "
		      "MigXmlHelper.ConvertToDWORD(NULL) at ");
	apply_report_release(&r);
	lt_release(&t);
	ws_buf_release(&d);
}

static void staged_user_registry_merge_and_cleanup_reported(void **state)
{
	struct ws_buf d = WS_BUF_INIT;
	struct atu_val vals[1];
	struct lt t;
	struct apply_report r;
	struct ws_error e;
	(void)state;

	sz("v", &d);
	vals[0] = (struct atu_val){ "HKCU\\Software\\Test", "K", REG_SZ, d.buf, d.len };
	lt_setup_ex(&t, NULL, vals, 1, NULL, 0);
	write_rules(&t,
		    "   <merge script=\"MigXmlHelper.DestinationPriority()\"><objectSet>\n" /* 10 */
		    "    <pattern type=\"Registry\">HKCU\\Software\\Test [*]</pattern>\n"
		    "   </objectSet></merge>\n"
		    "   <destinationCleanup><objectSet>\n"
		    "    <pattern type=\"Registry\">HKCU\\Software\\Old [*]</pattern>\n"
		    "   </objectSet></destinationCleanup>\n");
	assert_int_equal(lt_apply(&t, 0, &r, &e), WS_PARTIAL);
	assert_int_equal(r.users_staged, 1);
	assert_int_equal(r.values_staged, 1);
	assert_int_equal(r.rules_unsupported, 2);
	ASSERT_ACTION(&t, "rule-unsupported|HKCU\\Software\\Test [K]||merge "
		      "MigXmlHelper.DestinationPriority() at ");
	ASSERT_ACTION(&t, "reg import cannot carry out DestinationPriority()");
	ASSERT_ACTION(&t, "rule-unsupported|HKCU\\Software\\Old [*]||destinationCleanup not "
		      "carried out for a user staged for first sign-in");
	apply_report_release(&r);
	lt_release(&t);
	ws_buf_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(relative_move_of_a_folder),
		cmocka_unit_test(exact_move_of_a_value),
		cmocka_unit_test(destination_priority_keeps_target_file),
		cmocka_unit_test(source_priority_overwrites),
		cmocka_unit_test(no_merge_rule_renames),
		cmocka_unit_test(find_file_place_by_pattern),
		cmocka_unit_test(usmt_worked_example),
		cmocka_unit_test(convert_to_dword_on_a_string),
		cmocka_unit_test(merge_multi_sz_with_target),
		cmocka_unit_test(registry_merge_rules),
		cmocka_unit_test(destination_cleanup_then_undo),
		cmocka_unit_test(destination_cleanup_dry_run_lists),
		cmocka_unit_test(never_restore_include_not_applied),
		cmocka_unit_test(add_objects_creates_values),
		cmocka_unit_test(unsupported_function_warns_and_keeps_default),
		cmocka_unit_test(bad_rules_option_refused),
		cmocka_unit_test(scan_rule_files_found_by_base_name),
		cmocka_unit_test(missing_scan_rule_file_falls_back_to_shipped),
		cmocka_unit_test(merge_of_undetected_component_decides),
		cmocka_unit_test(staged_user_file_rules),
		cmocka_unit_test(staged_user_registry_merge_and_cleanup_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
