/* test_map.c - identities: SIDs, Entra object IDs, --map-user, --map-domain,
 * --map-file (CSV), and the rewriting of SIDs and profile paths inside
 * migrated data. */
#include "apply_tu.h"

#include <time.h>

#include "util/ws_fs.h"

#include "apply/apply_private.h"
#include "util/ws_utf.h"

#define OLD_SID "S-1-5-21-1-2-3-1001"
#define ENTRA_GUID "f82d79af-1278-4894-ac01-d90e30875cf8"
#define ENTRA_SID "S-1-12-1-4163729839-1217663608-249102764-4166813488"

static void object_id_to_sid(void **state)
{
	struct ws_buf b = WS_BUF_INIT;
	struct ws_error e;
	const char *bad[] = { "f82d79af-1278-4894-ac01-d90e30875cf", "f82d79af12784894ac01d90e30875cf8",
			      "g82d79af-1278-4894-ac01-d90e30875cf8", "{f82d79af-1278-4894-ac01-d90e30875cf8",
			      "f82d79af-1278-4894-ac01-d90e30875cf8x", "" };
	(void)state;

	ws_error_clear(&e);
	tu_assert_ok(apply_sid_from_object_id(ENTRA_GUID, &b, &e), &e);
	assert_string_equal(b.buf, ENTRA_SID);
	ws_buf_reset(&b);
	tu_assert_ok(apply_sid_from_object_id("{F82D79AF-1278-4894-AC01-D90E30875CF8}", &b, &e), &e);
	assert_string_equal(b.buf, ENTRA_SID);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ws_buf_reset(&b);
		assert_int_equal(apply_sid_from_object_id(bad[i], &b, &e), WS_E_USAGE);
		assert_string_equal(b.buf, "");
	}
	ws_buf_release(&b);
}

static void sid_syntax(void **state)
{
	const char *good[] = { OLD_SID, "S-1-5-18", "s-1-12-1-4163729839-1217663608-249102764-4166813488",
			       "S-1-0x000000000005-32-544" };
	const char *bad[] = { "S-1-", "S-1-5-", "S-2-5-18", "S-1-5-21-abc", "S-1-5--1",
			      "S-1-5-4294967296", "S-1-5-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1", "SID", "" };
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(apply_sid_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (apply_sid_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
}

static void rewrites_respect_boundaries(void **state)
{
	struct asub subs[] = {
		{ "C:\\Users\\carol", "C:\\Users\\carol.new", 0 },
		{ OLD_SID, "S-1-5-21-7-8-9-500", 1 },
	};
	struct ws_buf o = WS_BUF_INIT;
	(void)state;

	assert_true(asub_string("c:\\users\\CAROL\\Docs;" OLD_SID "_Classes", subs, 2, &o));
	assert_string_equal(o.buf, "C:\\Users\\carol.new\\Docs;S-1-5-21-7-8-9-500_Classes");
	ws_buf_reset(&o);
	/* Longer SID and a longer user name are not touched. */
	assert_false(asub_string(OLD_SID "1 C:\\Users\\carolyn", subs, 2, &o));
	assert_string_equal(o.buf, OLD_SID "1 C:\\Users\\carolyn");
	ws_buf_reset(&o);
	/* after a run of text no substitution starts with, and next to near
	 * misses that differ only in a later letter */
	assert_true(asub_string("xyz;=#~ 12 C:\\Users\\caro C:\\USERS\\Carol\\f c:\\users\\carl", subs, 2, &o));
	assert_string_equal(o.buf, "xyz;=#~ 12 C:\\Users\\caro C:\\Users\\carol.new\\f c:\\users\\carl");
	ws_buf_reset(&o);
	/* case-insensitive past ASCII, from the first character on */
	{
		struct asub u[] = { { "\xc3\x89mile", "emile.new", 0 } };

		assert_true(asub_string("D:\\\xc3\xa9MILE\\x", u, 1, &o));
		assert_string_equal(o.buf, "D:\\emile.new\\x");
	}
	ws_buf_release(&o);
}

/* A target without users, a store whose user carol carries her SID and
 * profile path inside her values. */
static void carol_store(struct atu *t, const char *account)
{
	static const char path[] = "C\0:\0\\\0U\0s\0e\0r\0s\0\\\0c\0a\0r\0o\0l\0\\\0D\0o\0c\0s\0\0";
	static const char sid[] = "S\0-\0" "1\0-\0" "5\0-\0" "2\0" "1\0-\0" "1\0-\0" "2\0-\0" "3\0-\0"
				  "1\0" "0\0" "0\0" "1\0\0";
	static const char longer[] = "S\0-\0" "1\0-\0" "5\0-\0" "2\0" "1\0-\0" "1\0-\0" "2\0-\0" "3\0-\0"
				     "1\0" "0\0" "0\0" "1\0" "1\0\0";
	struct atu_val vals[] = {
		{ "HKCU\\Software\\Test", "Owner", REG_SZ, sid, sizeof(sid) },
		{ "HKCU\\Software\\Test", "Path", REG_SZ, path, sizeof(path) },
		{ "HKCU\\Software\\Test", "Other", REG_SZ, longer, sizeof(longer) },
	};
	struct atu_file files[] = { { "C:\\Users\\carol\\Documents\\n.txt", "carol's note" } };

	atu_init(t); /* the store is made by hand: no source */
	atu_fixture(t->tgt, FX_TARGET, 0, "alice", 2);
	snprintf(t->device, sizeof(t->device), "OLDPC");
	atu_store_make(t->store, "OLDPC", OLD_SID, account, "C:\\Users\\carol", vals, 3, files, 1);
}

static char *bundle_reg(const char *tgt, const char *key)
{
	char *p = ws_xasprintf("%s/ProgramData/winstate/bundles/%s/settings.reg", tgt, key);
	size_t len;
	char *raw = tu_read_file(p, &len);
	struct ws_buf u = WS_BUF_INIT;

	assert_non_null(raw);
	ws_utf16le_to_utf8(raw + 2, len - 2, &u, 0);
	free(raw);
	free(p);
	return ws_buf_detach(&u, NULL);
}

/* The .reg writes REG_SZ strings as text: "Name"="value" with \\ escaped. */
static void map_file_to_entra_identity(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *csv, *txt, *ps;
	(void)state;

	carol_store(&t, "OLDDOM\\carol");
	csv = ws_xasprintf("%s/map.csv", t.dir);
	{
		const char text[] = "\xEF\xBB\xBFold,new\r\n# comment\r\n\r\n"
				    "\"OLDDOM\\carol\",carol@contoso.com," ENTRA_GUID "\r\n";
		tu_write_file(csv, text, sizeof(text) - 1);
	}
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.map_file = csv;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_int_equal(r.users_staged, 1);
	assert_string_equal(r.users[0].new_sid, ENTRA_SID);
	assert_string_equal(r.users[0].new_account, "carol@contoso.com");
	apply_report_release(&r);
	txt = bundle_reg(t.tgt, ENTRA_SID);
	assert_non_null(strstr(txt, "\"Owner\"=\"" ENTRA_SID "\""));
	assert_non_null(strstr(txt, "\"Path\"=\"C:\\\\Users\\\\carol\\\\Docs\""));
	assert_non_null(strstr(txt, "\"Other\"=\"" OLD_SID "1\""));
	free(txt);
	ps = ws_xasprintf("%s/ProgramData/winstate/bundles/" ENTRA_SID "/bundle.ini", t.tgt);
	txt = tu_read_file(ps, NULL);
	assert_non_null(strstr(txt, "sid=" ENTRA_SID "\r\n"));
	assert_non_null(strstr(txt, "account=carol@contoso.com\r\n"));
	free(txt);
	free(ps);
	ps = ws_xasprintf("%s/ProgramData/winstate/bundles/" ENTRA_SID, t.tgt);
	txt = atu_bundle_file(ps, "Documents\\n.txt", NULL);
	assert_non_null(txt);
	assert_string_equal(txt, "carol's note");
	free(txt);
	free(ps);
	free(csv);
	atu_release(&t);
}

static void malformed_map_names_the_line(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *csv, *before, *after;
	const char *cases[] = {
		"OLDDOM\\carol,NEWDOM\\carol\nOLDDOM\\x,S-1-5-21-x\n",
		"OLDDOM\\carol,NEWDOM\\carol\n# c\nOLDDOM\\x,f82d79af-1278-4894-ac01-d90e30875cfz\n",
		"OLDDOM\\carol,NEWDOM\\carol\nS-1-5-21-1-2\n",
	};
	const long lines[] = { 2, 3, 2 };
	(void)state;

	carol_store(&t, "OLDDOM\\carol");
	before = atu_tree(t.tgt);
	csv = ws_xasprintf("%s/map.csv", t.dir);
	for (size_t i = 0; i < 3; i++) {
		tu_write_file(csv, cases[i], strlen(cases[i]));
		apply_opts_init(&o);
		o.allow_plain_target = 1;
		o.map_file = csv;
		assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_USAGE);
		assert_string_equal(e.where, csv);
		assert_int_equal(e.line, lines[i]);
		apply_report_release(&r);
	}
	{
		const char *bad[] = { "carol=S-1-5-21-1-2-x", "carol=f82d79af-1278-4894-ac01", "carol",
				      "S-1-9=bob" };

		for (size_t i = 0; i < 4; i++) {
			apply_opts_init(&o);
			o.allow_plain_target = 1;
			o.map_user = &bad[i];
			o.n_map_user = 1;
			assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_USAGE);
			apply_report_release(&r);
		}
	}
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.map_file = "/nonexistent/map.csv";
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_USAGE);
	apply_report_release(&r);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(csv);
	atu_release(&t);
}

static void map_domain_changes_identity(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	const char *dom[] = { "olddom=NEWDOM" };
	char *ini, *txt;
	(void)state;

	carol_store(&t, "OLDDOM\\carol");
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.map_domain = dom;
	o.n_map_domain = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_string_equal(r.users[0].new_account, "NEWDOM\\carol");
	assert_string_equal(r.users[0].new_sid, "");   /* another domain: SID unknown */
	apply_report_release(&r);
	{
		struct ws_buf key = WS_BUF_INIT;

		/* no SID: keyed by a hash of the account (A-...) */
		acheck_bundle_key(NULL, "newdom\\CAROL", &key);
		assert_memory_equal(key.buf, "A-", 2);
		assert_int_equal(key.len, 34);
		ini = ws_xasprintf("%s/ProgramData/winstate/bundles/%s/bundle.ini", t.tgt, key.buf);
		ws_buf_release(&key);
	}
	txt = tu_read_file(ini, NULL);
	assert_non_null(txt);
	assert_non_null(strstr(txt, "account=NEWDOM\\carol\r\n"));
	free(txt);
	free(ini);
	atu_release(&t);
}

/* LoadState /ui /ue /uel: the users left out get nothing and are reported
 * once; the apply is not partial for them; leaving out everyone writes
 * nothing (WS_E_EMPTY). */
static void user_selection_leaves_users_out(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	const char *inc[] = { "BOB" };
	const char *exc[] = { "*\\*" };
	char *before, *after;
	int left = 0;
	(void)state;

	atu_setup(&t, 3, "alice");
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.users_include = inc;
	o.n_users_include = 1;
	o.users_exclude = exc;
	o.n_users_exclude = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_int_equal(r.users_left_out, 2);
	assert_int_equal(r.users_missing, 0);
	assert_int_equal(r.users_applied + r.users_staged, 1);
	assert_int_equal(r.files_skipped, 0);
	assert_int_equal(r.values_skipped, 0);
	for (size_t i = 0; i + 1 < r.n_users; i++) {
		if (strstr(r.users[i].account, "bob")) {
			assert_true(r.users[i].mode >= 0);
			continue;
		}
		assert_int_equal(r.users[i].mode, -1);
		assert_non_null(strstr(r.users[i].reason, "users-exclude"));
		assert_int_equal(r.users[i].c.files_placed + r.users[i].c.files_staged, 0);
		left++;
	}
	assert_int_equal(left, 2);
	apply_report_release(&r);
	atu_release(&t);

	/* everyone left out: nothing written */
	atu_setup(&t, 2, "alice");
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.users_since_time = (int64_t)time(NULL) + 86400;  /* nobody used it since */
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_EMPTY);
	assert_non_null(strstr(e.msg, "leaves out every one"));
	apply_report_release(&r);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	free(after);
	/* /uel:1970/01/01 keeps everyone */
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.users_since_time = 1;
	o.dry_run = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_int_equal(r.users_left_out, 0);
	apply_report_release(&r);
	free(before);
	atu_release(&t);
}

static uint64_t now_ft(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ws_filetime_from_unix_ns((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

/* Last-written FILETIME of `key` in the hive file `hive`. */
static uint64_t key_time(const char *hive, const char *key)
{
	struct reg_hive *h;
	struct ws_error e;
	reg_node n = 0;
	uint64_t ft = 0;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_open(hive, 0, &h, &e), &e);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), key, &n, &e), &e);
	assert_true(n != 0);
	tu_assert_ok(reg_key_mtime(h, n, &ft, &e), &e);
	reg_hive_close(h);
	return ft;
}

static void map_user_onto_existing_profile(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	const char *m[] = { OLD_SID "=alice" };
	struct ws_buf alice = WS_BUF_INIT, s = WS_BUF_INIT;
	struct reg_value v = { 0 };
	char *hive, *f;
	(void)state;

	uint64_t t0, t1;

	carol_store(&t, "carol");
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.map_user = m;
	o.n_map_user = 1;
	t0 = now_ft();
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	t1 = now_ft();
	assert_int_equal(r.users_applied, 1);
	assert_int_equal(r.users[0].mode, APPLY_MODE_OFFLINE);
	/* The target profile's own SID becomes the new identity. */
	assert_true(apply_sid_valid(r.users[0].new_sid));
	assert_string_not_equal(r.users[0].new_sid, OLD_SID);
	ws_buf_adds(&alice, r.users[0].new_sid);
	assert_int_equal(r.values_set, 3);
	apply_report_release(&r);
	hive = ws_xasprintf("%s/Users/alice/NTUSER.DAT", t.tgt);
	{
		/* Keys apply created or changed carry the apply's start time,
		 * one time for all (hivex would leave the parent's). */
		uint64_t made = key_time(hive, "Software\\Test"), parent = key_time(hive, "Software");

		assert_true(made >= t0 - 10000000 && made <= t1);
		assert_true(parent == made);
	}
	assert_true(atu_hive_value(hive, "Software\\Test", "Owner", &v));
	ws_utf16le_to_utf8(v.data, v.len, &s, 0);
	assert_string_equal(s.buf, alice.buf);
	reg_value_release(&v);
	ws_buf_reset(&s);
	assert_true(atu_hive_value(hive, "Software\\Test", "Path", &v));
	ws_utf16le_to_utf8(v.data, v.len, &s, 0);
	assert_string_equal(s.buf, "C:\\Users\\alice\\Docs");
	reg_value_release(&v);
	f = ws_xasprintf("%s/Users/alice/Documents/n.txt", t.tgt);
	assert_true(ws_path_exists(f));
	free(f);
	free(hive);
	ws_buf_release(&s);
	ws_buf_release(&alice);
	atu_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(object_id_to_sid),
		cmocka_unit_test(sid_syntax),
		cmocka_unit_test(rewrites_respect_boundaries),
		cmocka_unit_test(map_file_to_entra_identity),
		cmocka_unit_test(malformed_map_names_the_line),
		cmocka_unit_test(map_domain_changes_identity),
		cmocka_unit_test(user_selection_leaves_users_out),
		cmocka_unit_test(map_user_onto_existing_profile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
