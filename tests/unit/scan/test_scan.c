/* test_scan.c - one device: identity, user selection and offline names,
 * dirty and damaged hives, real-profile traps (links, placeholders,
 * unreadable files, FIFOs, bad names, the store inside the source),
 * estimate, progress totals, rescans, what a user's rules take outside the
 * profile. */
#include "scan_tu.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/ws_utf.h"

static struct rule_set *rs;

/* Scan `src` into the store at `store_dir` (made if needed). */
static int scan_into(const char *store_dir, struct scan_opts *o,
		     struct scan_result *r, struct ws_error *err)
{
	struct store *st = o->estimate ? NULL : stu_store(store_dir, 1);
	int rc;

	o->rules = rs;
	ws_error_clear(err);
	rc = scan_device(st, o, r, err);
	store_close(st);
	return rc;
}

static void sid_of(uint64_t seed, unsigned i, char *out, size_t n)
{
	struct ws_buf b = WS_BUF_INIT;

	fx_user_sid(seed, i, &b);
	snprintf(out, n, "%s", b.buf);
	ws_buf_release(&b);
}

static void identity_and_users_are_recorded(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 11, 3, "LAB-PC-11");
	char *sd = stu_path(dir, "store");
	struct scan_opts o;
	struct scan_result r;
	struct ws_error err;
	struct store *st;
	struct store_catalog *cat;
	const struct store_user *u;
	size_t n;
	char sid[128];

	char *pub = ws_xasprintf("%s/Users/Public/Documents/team.txt", src);
	struct store_record rec;
	int pub_seen = 0;

	tu_write_file(pub, "shared", 6);
	free(pub);
	scan_opts_init(&o);
	o.source = src;
	o.apps = 1;
	tu_assert_ok(scan_into(sd, &o, &r, &err), &err);
	assert_string_equal(r.device, "LAB-PC-11");
	assert_string_equal(r.computer, "LAB-PC-11");
	assert_string_equal(r.os_product, "Windows 10 Pro");
	assert_int_equal(r.users, 3);
	assert_int_equal(r.users_skipped, 1); /* the stale entry */
	assert_true(r.files > 0 && r.values > 0);

	st = stu_store(sd, 0);
	tu_assert_ok(store_catalog_open(st, "LAB-PC-11", NULL, &cat, &err), &err);
	assert_string_equal(store_catalog_info(cat)->computer, "LAB-PC-11");
	assert_string_equal(store_catalog_info(cat)->os_build, "19045");
	assert_string_equal(store_catalog_info(cat)->os_edition, "Professional");
	assert_string_equal(store_catalog_info(cat)->os_arch, "AMD64");
	u = store_catalog_users(cat, &n);
	assert_int_equal(n, 3);
	sid_of(11, 1, sid, sizeof(sid));
	assert_string_equal(u[1].sid, sid);
	assert_string_equal(u[1].account, "bob"); /* no SAM: folder name */
	assert_string_equal(u[1].profile_path, "C:\\Users\\bob");
	assert_true(u[1].last_use_ft > 0);
	/* Public is captured once, in the system context */
	for (;;) {
		tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
		if (rec.kind == STORE_REC_END)
			break;
		if (rec.kind == STORE_REC_FILE &&
		    !strcmp(rec.u.file.path, "C:\\Users\\Public\\Documents\\team.txt")) {
			assert_int_equal(rec.u.file.user, STORE_SYSTEM);
			pub_seen++;
		}
	}
	assert_int_equal(pub_seen, 1);
	/* Store apps of every user, classified, for apply's reinstall list */
	{
		const struct store_app *a = store_catalog_apps(cat, &n);
		int terminal = 0, vclibs = 0;

		assert_int_equal(n, r.apps);
		assert_true(n >= 3 * 3);
		for (size_t i = 0; i < n; i++) {
			if (a[i].user == 2 &&
			    !strcmp(a[i].family, "Microsoft.WindowsTerminal_8wekyb3d8bbwe")) {
				assert_string_equal(a[i].app_class, "user");
				assert_string_equal(a[i].version, "1.18.3181.0");
				assert_string_equal(a[i].arch, "x64");
				terminal++;
			}
			if (!strcmp(a[i].family, "Microsoft.VCLibs.140.00_8wekyb3d8bbwe"))
				vclibs += !strcmp(a[i].app_class, "framework");
		}
		assert_int_equal(terminal, 1);
		assert_int_equal(vclibs, 3);
	}
	store_catalog_free(cat);
	store_close(st);
	free(src);
	free(sd);
}

static void device_name_can_be_given(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 12, 1, NULL);
	char *sd = stu_path(dir, "store");
	struct scan_opts o;
	struct scan_result r;
	struct ws_error err;
	struct store *st;
	struct store_catalog *cat;

	scan_opts_init(&o);
	o.source = src;
	o.device = "ROOM-42";
	tu_assert_ok(scan_into(sd, &o, &r, &err), &err);
	assert_string_equal(r.device, "ROOM-42");
	st = stu_store(sd, 0);
	tu_assert_ok(store_catalog_open(st, "ROOM-42", NULL, &cat, &err), &err);
	assert_string_equal(store_catalog_info(cat)->device, "ROOM-42");
	assert_string_equal(store_catalog_info(cat)->computer, "PC-12");
	store_catalog_free(cat);
	store_close(st);
	free(src);
	free(sd);
}

static void pattern_matching_follows_usmt(void **state)
{
	const char *all[] = { "*\\*" };
	const char *dom[] = { "CONTOSO\\a*" };
	const char *sid[] = { "*-500" };
	const char *plain[] = { "ALICE" };

	assert_true(scan_users_match(all, 1, "PC-1", "alice", "S-1-5-21-1-2-3-1001"));
	assert_true(scan_users_match(all, 1, "", "alice", "S-1-5-21-1-2-3-1001"));
	assert_true(scan_users_match(dom, 1, "contoso", "anna", "S-1-5-21-9-9-9-1107"));
	assert_false(scan_users_match(dom, 1, "FABRIKAM", "anna", "S-1-5-21-9-9-9-1107"));
	/* unknown domain: the user part decides */
	assert_true(scan_users_match(dom, 1, "", "anna", "S-1-5-21-9-9-9-1107"));
	assert_true(scan_users_match(sid, 1, "PC-1", "Administrator", "S-1-5-21-1-2-3-500"));
	assert_false(scan_users_match(sid, 1, "PC-1", "alice", "S-1-5-21-1-2-3-1001"));
	assert_true(scan_users_match(plain, 1, "PC-1", "alice", "S-1-5-21-1-2-3-1001"));
	assert_false(scan_users_match(plain, 1, "PC-1", "alicia", "S-1-5-21-1-2-3-1001"));
	assert_false(scan_users_match(NULL, 0, "PC-1", "alice", "S-1-5-21-1-2-3-1001"));
}

static unsigned scan_users(const char *src, const char *const *inc, size_t ninc,
			   const char *const *exc, size_t nexc, unsigned since,
			   struct stu_log *l)
{
	struct scan_opts o;
	struct scan_result r;
	struct ws_error err;

	scan_opts_init(&o);
	o.source = src;
	o.estimate = 1;
	o.users_include = inc;
	o.n_users_include = ninc;
	o.users_exclude = exc;
	o.n_users_exclude = nexc;
	o.users_since_days = since;
	o.log = l ? &l->log : NULL;
	tu_assert_ok(scan_into(NULL, &o, &r, &err), &err);
	return r.users;
}

/* USMT /uel's forms: days, a day, and 0 explained. */
static void users_since_text_forms(void **state)
{
	struct ws_error err;
	unsigned days;
	int64_t since;

	ws_error_clear(&err);
	tu_assert_ok(scan_users_since_parse("30", &days, &since, &err), &err);
	assert_int_equal(days, 30);
	assert_int_equal(since, 0);
	tu_assert_ok(scan_users_since_parse("2026/01/01", &days, &since, &err), &err);
	assert_int_equal(days, 0);
	assert_int_equal(since, 1767225600);
	tu_assert_ok(scan_users_since_parse("2020/2/15", &days, &since, &err), &err);
	assert_int_equal(since, 1581724800);
	tu_assert_ok(scan_users_since_parse("2024-02-29", &days, &since, &err), &err);
	assert_int_equal(since, 1709164800);
	assert_int_equal(scan_users_since_parse("0", &days, &since, &err), WS_E_USAGE);
	assert_non_null(strstr(err.msg, "nobody signed in"));
	assert_int_equal(scan_users_since_parse("2023/02/29", &days, &since, &err), WS_E_USAGE);
	assert_int_equal(scan_users_since_parse("2026/13/01", &days, &since, &err), WS_E_USAGE);
	assert_int_equal(scan_users_since_parse("2026/01", &days, &since, &err), WS_E_USAGE);
	assert_int_equal(scan_users_since_parse("2026/01/01x", &days, &since, &err), WS_E_USAGE);
	assert_int_equal(scan_users_since_parse("36501", &days, &since, &err), WS_E_USAGE);
	assert_int_equal(scan_users_since_parse("-3", &days, &since, &err), WS_E_USAGE);
	assert_int_equal(scan_users_since_parse("", &days, &since, &err), WS_E_USAGE);
	assert_int_equal(scan_users_since_parse("soon", &days, &since, &err), WS_E_USAGE);
	assert_null(strstr(err.msg, "--"));
}

static void users_are_selected_by_pattern_and_sid(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 13, 3, NULL);
	char sid[128], sidpat[140];
	const char *ex_bob[] = { "bob" };
	const char *ex_all[] = { "*\\*" };
	const char *in_carol[] = { "*\\carol" };
	const char *ex_sid[1] = { sidpat };
	struct stu_log l;

	assert_int_equal(scan_users(src, NULL, 0, NULL, 0, 0, NULL), 3);
	stu_log_init(&l);
	assert_int_equal(scan_users(src, NULL, 0, ex_bob, 1, 0, &l), 2);
	assert_non_null(strstr(l.all.buf, "excluded by a users-exclude pattern"));
	ws_buf_release(&l.all);
	/* an include wins over an exclude */
	assert_int_equal(scan_users(src, in_carol, 1, ex_all, 1, 0, NULL), 1);
	sid_of(13, 0, sid, sizeof(sid));
	snprintf(sidpat, sizeof(sidpat), "%s", sid);
	assert_int_equal(scan_users(src, NULL, 0, ex_sid, 1, 0, NULL), 2);
	free(src);
}

static void users_since_uses_last_use(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 14, 3, NULL);
	char sid[3][128];
	struct ws_error err;
	const char *inc_carol[] = { "carol" };
	const char *ex_alice[] = { "alice" };
	int64_t now = (int64_t)time(NULL);
	struct stu_log l;

	for (unsigned i = 0; i < 3; i++)
		sid_of(14, i, sid[i], sizeof(sid[i]));
	ws_error_clear(&err);
	tu_assert_ok(fx_profile_set_last_use(src, sid[0], now - 10 * 86400, &err), &err);
	tu_assert_ok(fx_profile_set_last_use(src, sid[1], now - 99 * 86400, &err), &err);
	tu_assert_ok(fx_profile_set_last_use(src, sid[2], now - 101 * 86400, &err), &err);
	stu_log_init(&l);
	assert_int_equal(scan_users(src, NULL, 0, NULL, 0, 100, &l), 2);
	assert_non_null(strstr(l.all.buf, "not used within the days the users-since limit allows"));
	ws_buf_release(&l.all);
	assert_int_equal(scan_users(src, NULL, 0, NULL, 0, 30, NULL), 1);
	/* /ui beats /uel; /uel beats /ue */
	assert_int_equal(scan_users(src, inc_carol, 1, NULL, 0, 100, NULL), 3);
	assert_int_equal(scan_users(src, NULL, 0, ex_alice, 1, 100, NULL), 2);
	{
		/* a day: used on or after it (USMT /uel:YYYY/MM/DD) */
		struct scan_opts o;
		struct scan_result r;

		scan_opts_init(&o);
		o.source = src;
		o.estimate = 1;
		o.users_since_time = now - 100 * 86400;
		stu_log_init(&l);
		o.log = &l.log;
		tu_assert_ok(scan_into(NULL, &o, &r, &err), &err);
		assert_int_equal(r.users, 2);
		assert_non_null(strstr(l.all.buf, "not used since the day the users-since limit names"));
		ws_buf_release(&l.all);
		o.log = NULL;
		o.users_since_time = now - 5 * 86400;
		o.allow_empty = 1;
		tu_assert_ok(scan_into(NULL, &o, &r, &err), &err);
		assert_int_equal(r.users, 0);
	}
	free(src);
}

static void local_and_domain_names_are_resolved(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 15, 3, "DESK-15");
	char *sd = stu_path(dir, "store");
	const struct fx_account acc[] = { { "alice", 1001 }, { "Administrator", 500 } };
	char sid[128];
	const char *ex_all[] = { "*\\*" };
	const char *in_local[] = { "DESK-15\\*" };
	struct scan_opts o;
	struct scan_result r;
	struct ws_error err;
	struct store *st;
	struct store_catalog *cat;
	const struct store_user *u;
	size_t n;

	ws_error_clear(&err);
	tu_assert_ok(fx_sam_write(src, 15, acc, 2, &err), &err);
	sid_of(15, 1, sid, sizeof(sid));
	tu_assert_ok(fx_logonui_set(src, sid, "CONTOSO\\bob.smith", &err), &err);

	scan_opts_init(&o);
	o.source = src;
	tu_assert_ok(scan_into(sd, &o, &r, &err), &err);
	st = stu_store(sd, 0);
	tu_assert_ok(store_catalog_open(st, "DESK-15", NULL, &cat, &err), &err);
	u = store_catalog_users(cat, &n);
	assert_int_equal(n, 3);
	assert_string_equal(u[0].account, "DESK-15\\alice");
	assert_true(u[0].flags & STORE_USER_LOCAL);
	assert_string_equal(u[1].account, "CONTOSO\\bob.smith");
	assert_true(u[1].flags & STORE_USER_DOMAIN);
	assert_string_equal(u[2].account, "carol"); /* nothing knows her domain */
	store_catalog_free(cat);
	store_close(st);

	/* only local accounts: /ue:*\* /ui:DESK-15\* */
	assert_int_equal(scan_users(src, in_local, 1, ex_all, 1, 0, NULL), 2);
	free(src);
	free(sd);
}

static int file_same(const char *a, const char *b)
{
	size_t la, lb;
	char *x = tu_read_file(a, &la), *y = tu_read_file(b, &lb);
	int same = la == lb && !memcmp(x, y, la);

	free(x);
	free(y);
	return same;
}

static void dirty_user_hive_is_replayed_privately(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 16, 2, NULL);
	char *sd = stu_path(dir, "store"), *td = stu_path(dir, "td");
	char *prim, *log1, *log2;
	char *dst = ws_xasprintf("%s/Users/alice/NTUSER.DAT", src);
	char *dst1 = ws_xasprintf("%s.LOG1", dst), *dst2 = ws_xasprintf("%s.LOG2", dst);
	struct scan_opts o;
	struct scan_result r;
	struct ws_error err;
	struct store *st;
	struct stu_cat c;
	struct store_catalog *cat;
	size_t n;

	mkdir(td, 0700);
	prim = tu_testdata_hive("hives/regipy/transactions_NTUSER.DAT", td);
	log1 = tu_testdata_hive("hives/regipy/transactions_ntuser.dat.log1", td);
	log2 = tu_testdata_hive("hives/regipy/transactions_ntuser.dat.log2", td);
	if (!prim || !log1 || !log2) {
		free(prim), free(log1), free(log2), free(src), free(sd), free(td);
		free(dst), free(dst1), free(dst2);
		skip();
	}
	assert_int_equal(rename(prim, dst), 0);
	assert_int_equal(rename(log1, dst1), 0);
	assert_int_equal(rename(log2, dst2), 0);
	free(prim), free(log1), free(log2);
	/* reference copies to prove the source is untouched */
	{
		size_t len;
		char *b;
		const char *names[3] = { dst, dst1, dst2 };

		for (int i = 0; i < 3; i++) {
			char *ref = ws_xasprintf("%s/ref%d", td, i);

			b = tu_read_file(names[i], &len);
			tu_write_file(ref, b, len);
			free(b);
			free(ref);
		}
	}
	scan_opts_init(&o);
	o.source = src;
	o.tmp_dir = td;
	tu_assert_ok(scan_into(sd, &o, &r, &err), &err);
	assert_int_equal(r.hives_replayed, 1);
	assert_int_equal(r.users, 2);
	st = stu_store(sd, 0);
	stu_cat_read(st, "PC-16", &c);
	/* the log-replayed value, not the stale 0x800 of the primary */
	assert_non_null(strstr(c.values.buf,
			       "HKCU\\Control Panel\\Desktop [MaxVirtualDesktopDimension]=400b0000\n"));
	tu_assert_ok(store_catalog_open(st, "PC-16", NULL, &cat, &err), &err);
	assert_true(store_catalog_users(cat, &n)[0].flags & STORE_USER_LOADED_HIVE_DIRTY);
	assert_false(store_catalog_users(cat, &n)[1].flags & STORE_USER_LOADED_HIVE_DIRTY);
	store_catalog_free(cat);
	stu_cat_release(&c);
	store_close(st);
	{
		const char *names[3] = { dst, dst1, dst2 };

		for (int i = 0; i < 3; i++) {
			char *ref = ws_xasprintf("%s/ref%d", td, i);

			assert_true(file_same(names[i], ref));
			free(ref);
		}
	}
	/* the private copy is gone */
	{
		char *cmd = ws_xasprintf("ls %s | grep -q winstate-", td);

		assert_int_not_equal(system(cmd), 0);
		free(cmd);
	}
	free(src), free(sd), free(td), free(dst), free(dst1), free(dst2);
}

static void damaged_user_hive_stops_or_is_skipped(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 17, 2, NULL);
	char *sd = stu_path(dir, "store");
	struct scan_opts o;
	struct scan_result r;
	struct ws_error err;
	struct store *st;
	struct stu_cat c;

	ws_error_clear(&err);
	tu_assert_ok(fx_damage_ntuser(src, "alice", &err), &err);
	scan_opts_init(&o);
	o.source = src;
	assert_int_equal(scan_into(sd, &o, &r, &err), WS_E_HIVE);
	assert_non_null(strstr(err.where, "NTUSER.DAT"));
	assert_non_null(strstr(err.msg, "alice"));

	o.continue_on_error = 1;
	assert_int_equal(scan_into(sd, &o, &r, &err), WS_PARTIAL);
	assert_int_equal(r.users, 2);
	assert_int_equal(r.users_no_registry, 1);
	assert_int_equal(r.errors, 1);
	st = stu_store(sd, 0);
	stu_cat_read(st, "PC-17", &c);
	/* alice's files are there, bob's registry too */
	assert_non_null(strstr(c.files.buf, "C:\\Users\\alice\\Documents\\"));
	assert_true(c.nvalues > 0);
	stu_cat_release(&c);
	store_close(st);
	free(src);
	free(sd);
}

static void links_placeholders_and_long_paths(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 18, 1, NULL);
	char *sd = stu_path(dir, "store");
	struct scan_opts o;
	struct scan_result r;
	struct ws_error err;
	struct store *st;
	struct stu_cat c;
	int long_seen = 0;

	struct rule_set *saved = rs;
	struct stu_log l;

	stu_log_init(&l);
	scan_opts_init(&o);
	o.source = src;
	o.log = &l.log;
	rs = stu_rules_from(stu_profile_xml);
	tu_assert_ok(scan_into(sd, &o, &r, &err), &err);
	rule_set_free(rs);
	rs = saved;
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.cloud, 1);
	/* the walk met the junctions (one a loop) and did not follow them */
	assert_non_null(strstr(l.all.buf, "alice\\My Documents: link not followed"));
	assert_non_null(strstr(l.all.buf, "Application Data: link not followed"));
	assert_non_null(strstr(l.all.buf, "system config: link not followed"));
	ws_buf_release(&l.all);
	st = stu_store(sd, 0);
	stu_cat_read(st, "PC-18", &c);
	assert_null(strstr(c.files.buf, "My Documents"));
	assert_null(strstr(c.files.buf, "Application Data"));
	assert_null(strstr(c.files.buf, "system config"));
	assert_non_null(strstr(c.files.buf, "OneDrive\\Documents\\cloud only.docx\n"));
	assert_int_equal(c.ncloud, 1);
	for (const char *p = c.files.buf; *p;) {
		const char *nl = strchr(p, '\n');

		if (nl - p > 260 && strstr(p, "deep.txt"))
			long_seen = 1;
		p = nl + 1;
	}
	assert_true(long_seen);
	/* no file twice */
	for (const char *p = c.files.buf; *p;) {
		const char *nl = strchr(p, '\n');
		char *line = ws_xstrndup(p, (size_t)(nl - p + 1));

		assert_ptr_equal(strstr(c.files.buf, line), p);
		free(line);
		p = nl + 1;
	}
	stu_cat_release(&c);
	store_close(st);
	free(src);
	free(sd);
}

struct fail_open {
	const char *needle;
	unsigned calls;
};

static int failing_open(void *ctx, const char *host_path)
{
	struct fail_open *f = ctx;

	f->calls++;
	if (strstr(host_path, f->needle)) {
		errno = EIO;
		return -1;
	}
	return open(host_path, O_RDONLY | O_CLOEXEC);
}

static void unreadable_file_is_reported_per_file(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 19, 1, NULL);
	char *sd = stu_path(dir, "store");
	struct fail_open fo = { "Notes.txt", 0 };
	struct scan_opts o;
	struct scan_result r;
	struct ws_error err;
	struct stu_log l;
	struct store *st;
	struct stu_cat c;

	scan_opts_init(&o);
	o.source = src;
	o.open_file = failing_open;
	o.open_file_ctx = &fo;
	assert_int_equal(scan_into(sd, &o, &r, &err), WS_E_IO);
	assert_string_equal(err.where, "C:\\Users\\alice\\Desktop\\Notes.txt");

	stu_log_init(&l);
	o.log = &l.log;
	o.continue_on_error = 1;
	assert_int_equal(scan_into(sd, &o, &r, &err), WS_PARTIAL);
	assert_int_equal(r.errors, 1);
	assert_true(r.files > 1);
	assert_non_null(strstr(l.last_warn, "Notes.txt"));
	st = stu_store(sd, 0);
	stu_cat_read(st, "PC-19", &c);
	assert_null(strstr(c.files.buf, "Notes.txt"));
	assert_int_equal(c.nfiles, r.files + r.cloud);
	stu_cat_release(&c);
	store_close(st);
	ws_buf_release(&l.all);
	free(src);
	free(sd);
}

/* Every file the scan opened, one per line. */
static int recording_open(void *ctx, const char *host_path)
{
	struct ws_buf *seen = ctx;

	ws_buf_addf(seen, "%s\n", host_path);
	return open(host_path, O_RDONLY | O_CLOEXEC);
}

static void rescan_opens_only_changed_files(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 21, 1, NULL);
	char *sd = stu_path(dir, "store");
	char *changed = ws_xasprintf("%s/Users/alice/Desktop/Notes.txt", src);
	struct ws_buf seen = WS_BUF_INIT;
	struct scan_opts o;
	struct scan_result r1, r2;
	struct ws_error err;
	struct stat sb;
	size_t opened = 0;

	(void)state;
	scan_opts_init(&o);
	o.source = src;
	o.open_file = recording_open;
	o.open_file_ctx = &seen;
	tu_assert_ok(scan_into(sd, &o, &r1, &err), &err);
	assert_non_null(strstr(seen.buf, changed));
	assert_true(r1.files > 5);

	/* one file changes (new size and time); the rescan opens it alone
	 * (and empty files, which have no chunks to take over) */
	tu_write_file(changed, "a new version of the notes", 26);
	assert_int_equal(stat(changed, &sb), 0);
	{
		struct timespec ts[2] = { sb.st_atim, sb.st_mtim };

		ts[1].tv_sec += 10;
		assert_int_equal(utimensat(AT_FDCWD, changed, ts, 0), 0);
	}
	ws_buf_reset(&seen);
	tu_assert_ok(scan_into(sd, &o, &r2, &err), &err);
	assert_int_equal(r2.files, r1.files);
	assert_non_null(strstr(seen.buf, changed));
	for (const char *p = seen.buf; *p; opened++) {
		const char *nl = strchr(p, '\n');
		char *one = ws_xstrndup(p, (size_t)(nl - p));

		assert_int_equal(stat(one, &sb), 0);
		if (strcmp(one, changed) && sb.st_size != 0)
			fail_msg("the rescan opened an unchanged file: %s", one);
		free(one);
		p = nl + 1;
	}
	assert_true(opened < r1.files);
	ws_buf_release(&seen);
	free(changed), free(src), free(sd);
}

static void fifo_and_bad_names_do_not_stop_the_scan(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 20, 1, NULL);
	char *sd = stu_path(dir, "store");
	char *fifo = ws_xasprintf("%s/Users/alice/Documents/pipe", src);
	char *bad = ws_xasprintf("%s/Users/alice/Documents/caf\xe9.txt", src);
	struct scan_opts o;
	struct scan_result r;
	struct ws_error err;
	struct stu_log l;
	struct store *st;
	struct stu_cat c;

	assert_int_equal(mkfifo(fifo, 0600), 0);
	tu_write_file(bad, "latin-1 name", 12);
	stu_log_init(&l);
	scan_opts_init(&o);
	o.source = src;
	o.log = &l.log;
	tu_assert_ok(scan_into(sd, &o, &r, &err), &err);
	assert_non_null(strstr(l.all.buf, "pipe: not a regular file"));
	assert_non_null(strstr(l.all.buf, "not valid UTF-8"));
	st = stu_store(sd, 0);
	stu_cat_read(st, "PC-20", &c);
	assert_non_null(strstr(c.files.buf, "C:\\Users\\alice\\Documents\\caf\xc3\xa9.txt\n"));
	assert_null(strstr(c.files.buf, "pipe"));
	assert_true(ws_utf8_valid(c.files.buf, c.files.len));
	stu_cat_release(&c);
	store_close(st);
	ws_buf_release(&l.all);
	free(fifo), free(bad), free(src), free(sd);
}

static void store_inside_the_source_is_not_captured(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 21, 1, NULL);
	char *sd = ws_xasprintf("%s/Users/alice/Documents/migration-store", src);
	char real[4096];
	struct scan_opts o;
	struct scan_result r, r2;
	struct ws_error err;
	struct store *st;
	struct stu_cat c;

	scan_opts_init(&o);
	o.source = src;
	st = stu_store(sd, 1);
	store_close(st);
	assert_non_null(realpath(sd, real));
	o.exclude_host_dir = real;
	tu_assert_ok(scan_into(sd, &o, &r, &err), &err);
	/* twice: the first scan's packs must not enter the second */
	tu_assert_ok(scan_into(sd, &o, &r2, &err), &err);
	assert_int_equal(r.files, r2.files);
	st = stu_store(sd, 0);
	stu_cat_read(st, "PC-21", &c);
	assert_null(strstr(c.files.buf, "migration-store"));
	stu_cat_release(&c);
	store_close(st);
	free(src);
	free(sd);
}

static void rescan_of_unchanged_device_stores_nothing_new(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 22, 2, NULL);
	char *sd = stu_path(dir, "store");
	char *extra = ws_xasprintf("%s/Users/bob/Documents/new.txt", src);
	struct scan_opts o;
	struct scan_result r1, r2, r3;
	struct ws_error err;

	scan_opts_init(&o);
	o.source = src;
	tu_assert_ok(scan_into(sd, &o, &r1, &err), &err);
	assert_true(r1.bytes_new > 0);
	tu_assert_ok(scan_into(sd, &o, &r2, &err), &err);
	assert_int_equal(r2.bytes_new, 0);
	assert_int_equal(r2.files, r1.files);
	assert_int_equal(r2.bytes, r1.bytes);
	assert_string_not_equal(r1.scan_id, r2.scan_id);
	tu_write_file(extra, "a new document written after the first scan", 43);
	tu_assert_ok(scan_into(sd, &o, &r3, &err), &err);
	assert_int_equal(r3.bytes_new, 43);
	assert_int_equal(r3.files, r1.files + 1);
	free(extra), free(src), free(sd);
}

struct prog_seen {
	uint64_t total, last_done, total_bytes, last_bytes;
	int done_phase, decreasing;
};

static void prog_cb(void *ctx, const struct ws_progress_event *ev)
{
	struct prog_seen *p = ctx;

	if (ev->done < p->last_done)
		p->decreasing = 1;
	p->total = ev->total;
	p->total_bytes = ev->bytes_total;
	p->last_done = ev->done;
	p->last_bytes = ev->bytes_done;
	if (!strcmp(ev->phase, "done"))
		p->done_phase = 1;
}

static void estimate_matches_and_precount_gives_totals(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 23, 2, NULL);
	char *sd = stu_path(dir, "store"), *sd2 = stu_path(dir, "unused");
	struct scan_opts o;
	struct scan_result est, r;
	struct ws_error err;
	struct prog_seen ps = { 0 };
	struct ws_progress pg = { prog_cb, &ps };
	struct stat sb;

	scan_opts_init(&o);
	o.source = src;
	o.estimate = 1;
	tu_assert_ok(scan_into(sd2, &o, &est, &err), &err);
	assert_int_not_equal(stat(sd2, &sb), 0); /* nothing written */
	assert_string_equal(est.scan_id, "");

	o.estimate = 0;
	o.precount = 1;
	o.progress = &pg;
	tu_assert_ok(scan_into(sd, &o, &r, &err), &err);
	assert_int_equal(est.files, r.files);
	assert_int_equal(est.bytes, r.bytes);
	assert_int_equal(est.values, r.values);
	assert_int_equal(est.users, r.users);
	assert_true(ps.done_phase);
	assert_false(ps.decreasing);
	assert_int_equal(ps.total, r.files);
	assert_int_equal(ps.last_done, r.files);
	assert_int_equal(ps.total_bytes, r.bytes);
	free(src), free(sd), free(sd2);
}

/*
 * What a user's rules take outside the profile (a Firefox profile that
 * profiles.ini keeps in C:\FirefoxProfiles, named by both users) is
 * recorded once, as the system's; what they leave out there (its
 * telemetry) the system pass does not take by its own rules (a documents
 * finder taking *.json); the precount's totals are the capture's.
 */
static void outside_profiles_once_and_precount_agrees(void **state)
{
	static const char xml[] =
		"<migration urlid=\"o\"><component type=\"Application\" context=\"User\">"
		"<displayName>Firefox</displayName><role role=\"Settings\"><rules>"
		"<include><objectSet>"
		"<pattern type=\"File\">%CSIDL_APPDATA%\\Mozilla\\Firefox\\* [*]</pattern>"
		"<content filter='MigXmlHelper.ExtractDirectory(NULL, \"0\")'><objectSet>"
		"<pattern type=\"Ini\">%CSIDL_APPDATA%\\Mozilla\\Firefox\\profiles.ini|Profile* [Path]</pattern>"
		"</objectSet></content></objectSet></include>"
		"<unconditionalExclude><objectSet>"
		"<content filter='MigXmlHelper.ExtractDirectory(NULL, \"0\", \"datareporting\\* [*]\")'>"
		"<objectSet><pattern type=\"Ini\">%CSIDL_APPDATA%\\Mozilla\\Firefox\\profiles.ini|Profile* [Path]"
		"</pattern></objectSet></content></objectSet></unconditionalExclude>"
		"</rules></role></component>"
		"<component type=\"Documents\" context=\"System\"><displayName>json</displayName>"
		"<role role=\"Data\"><rules><include><objectSet>"
		"<pattern type=\"File\">C:\\FirefoxProfiles\\* [*.json]</pattern>"
		"</objectSet></include></rules></role></component></migration>";
	char *dir = stu_tmpdir(), *src = stu_path(dir, "src"), *sd = stu_path(dir, "store");
	struct rule_set *mine = stu_rules_from(xml);
	struct fx_opts fo;
	struct scan_opts o;
	struct scan_result r;
	struct ws_error err;
	struct prog_seen ps = { 0 };
	struct ws_progress pg = { prog_cb, &ps };
	struct store *st;
	struct store_catalog *cat;
	struct store_record rec;
	int prefs = 0, logins = 0, telemetry = 0, alice_prefs = 0;

	(void)state;
	fx_opts_init(&fo);
	fo.out_dir = src;
	fo.seed = 31;
	fo.users = 2;
	fo.files = 1;
	fo.app_layouts = 1;
	fo.computer = "OUT-PC";
	ws_error_clear(&err);
	tu_assert_ok(fx_build(&fo, NULL, &err), &err);
	scan_opts_init(&o);
	o.source = src;
	o.rules = mine;
	o.precount = 1;
	o.progress = &pg;
	st = stu_store(sd, 1);
	tu_assert_ok(scan_device(st, &o, &r, &err), &err);
	assert_int_equal(ps.total, r.files);
	assert_int_equal(ps.total_bytes, r.bytes);
	tu_assert_ok(store_catalog_open(st, "OUT-PC", NULL, &cat, &err), &err);
	for (;;) {
		tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
		if (rec.kind == STORE_REC_END)
			break;
		if (rec.kind != STORE_REC_FILE)
			continue;
		if (!strcmp(rec.u.file.path, "C:\\FirefoxProfiles\\s1h2r3d4.default-esr\\prefs.js")) {
			assert_int_equal(rec.u.file.user, STORE_SYSTEM);
			prefs++;
		}
		if (!strcmp(rec.u.file.path, "C:\\FirefoxProfiles\\s1h2r3d4.default-esr\\logins.json")) {
			assert_int_equal(rec.u.file.user, STORE_SYSTEM);
			logins++;
		}
		telemetry += !strcmp(rec.u.file.path,
				     "C:\\FirefoxProfiles\\s1h2r3d4.default-esr\\datareporting\\state.json");
		/* inside the profile: the user's own */
		if (!strcmp(rec.u.file.path, "C:\\Users\\alice\\Documents\\ff\\"
					     "d3v4e5d6.dev-edition-default\\prefs.js")) {
			assert_int_equal(rec.u.file.user, 0);
			alice_prefs++;
		}
	}
	assert_int_equal(prefs, 1);
	assert_int_equal(logins, 1);
	assert_int_equal(telemetry, 0);
	assert_int_equal(alice_prefs, 1);
	store_catalog_free(cat);
	store_close(st);
	rule_set_free(mine);
	free(src), free(sd);
}

/* Make a hive dirty: primary sequence number != secondary, checksum fixed. */
static void make_dirty(const char *path)
{
	size_t len;
	unsigned char *b = (unsigned char *)tu_read_file(path, &len);
	uint32_t x = 0;

	assert_true(len >= 4096);
	b[4] ^= 0x01; /* seq1 */
	for (int i = 0; i < 508; i += 4)
		x ^= (uint32_t)b[i] | (uint32_t)b[i + 1] << 8 |
		     (uint32_t)b[i + 2] << 16 | (uint32_t)b[i + 3] << 24;
	b[508] = (unsigned char)x;
	b[509] = (unsigned char)(x >> 8);
	b[510] = (unsigned char)(x >> 16);
	b[511] = (unsigned char)(x >> 24);
	tu_write_file(path, b, len);
	free(b);
}

static void dirty_machine_hive_without_logs_is_read_with_a_warning(void **state)
{
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 24, 1, NULL);
	char *sd = stu_path(dir, "store");
	char *sw = ws_xasprintf("%s/Windows/System32/config/SOFTWARE", src);
	struct scan_opts o;
	struct scan_result r;
	struct ws_error err;
	struct stu_log l;
	struct store *st;
	struct stu_cat c;

	make_dirty(sw);
	stu_log_init(&l);
	scan_opts_init(&o);
	o.source = src;
	o.log = &l.log;
	tu_assert_ok(scan_into(sd, &o, &r, &err), &err);
	assert_int_equal(r.hives_replayed, 0);
	assert_non_null(strstr(l.all.buf, "SOFTWARE: dirty hive read without its newest changes"));
	assert_non_null(strstr(l.all.buf, "no .LOG1/.LOG2"));
	assert_true(r.warnings >= 1);
	st = stu_store(sd, 0);
	stu_cat_read(st, "PC-24", &c);
	assert_non_null(strstr(c.values.buf, "HKLM\\SOFTWARE\\Contoso\\Editor [InstallDir]="));
	stu_cat_release(&c);
	store_close(st);
	ws_buf_release(&l.all);
	free(sw), free(src), free(sd);
}

/* Conditions look at the source through the volume probe (a wildcard
 * DoesObjectExist needs its folder listings), and a pattern starting with
 * '*' (walk root "") searches the whole drive: each user's pass finds that
 * user's file only, other profiles are left to their own pass. */
static void probe_and_drive_wide_patterns(void **state)
{
	static const char xml[] =
		"<migration urlid='http://winstate.test/probe'>\n"
		" <component type='Documents' context='User'>\n"
		"  <displayName>Detected through a wildcard</displayName>\n"
		"  <role role='Data'>\n"
		"   <detection><conditions><condition>MigXmlHelper.DoesObjectExist("
		"\"File\",\"%CSIDL_PERSONAL%\\Projects\\* [*.txt]\")</condition>"
		"</conditions></detection>\n"
		"   <rules><include><objectSet>\n"
		"    <pattern type='File'>* [Plan.txt]</pattern>\n"
		"   </objectSet></include></rules></role>\n"
		" </component>\n"
		" <component type='Documents' context='User'>\n"
		"  <displayName>Not detected</displayName>\n"
		"  <role role='Data'>\n"
		"   <detection><conditions><condition>MigXmlHelper.DoesObjectExist("
		"\"File\",\"%CSIDL_PERSONAL%\\Nowhere\\* [*.txt]\")</condition>"
		"</conditions></detection>\n"
		"   <rules><include><objectSet>\n"
		"    <pattern type='File'>%CSIDL_DESKTOP%\\* [*]</pattern>\n"
		"   </objectSet></include></rules></role>\n"
		" </component>\n"
		"</migration>\n";
	char *dir = stu_tmpdir(), *src = stu_build(dir, "src", 21, 2, "PROBE-PC");
	char *sd = stu_path(dir, "store");
	struct rule_set *own = stu_rules_from(xml), *saved = rs;
	struct scan_opts o;
	struct scan_result r;
	struct ws_error err;
	struct store *st;
	struct stu_cat c;

	scan_opts_init(&o);
	o.source = src;
	rs = own;
	tu_assert_ok(scan_into(sd, &o, &r, &err), &err);
	rs = saved;
	assert_int_equal(r.components_skipped, 0);
	st = stu_store(sd, 0);
	stu_cat_read(st, "PROBE-PC", &c);
	assert_int_equal(c.nfiles, 2);
	assert_non_null(strstr(c.files.buf, "C:\\Users\\alice\\Documents\\Projects\\Plan.txt\n"));
	assert_non_null(strstr(c.files.buf, "C:\\Users\\bob\\Documents\\Projects\\Plan.txt\n"));
	assert_null(strstr(c.files.buf, "\\Desktop\\"));
	stu_cat_release(&c);
	store_close(st);
	rule_set_free(own);
	free(sd);
	free(src);
}

static void not_windows_is_refused(void **state)
{
	char *dir = stu_tmpdir();
	struct scan_opts o;
	struct scan_result r;
	struct ws_error err;

	scan_opts_init(&o);
	o.source = dir;
	o.estimate = 1;
	assert_int_equal(scan_into(NULL, &o, &r, &err), WS_E_NOT_WINDOWS);
	assert_int_equal(r.users, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identity_and_users_are_recorded),
		cmocka_unit_test(device_name_can_be_given),
		cmocka_unit_test(pattern_matching_follows_usmt),
		cmocka_unit_test(users_are_selected_by_pattern_and_sid),
		cmocka_unit_test(users_since_uses_last_use),
		cmocka_unit_test(users_since_text_forms),
		cmocka_unit_test(local_and_domain_names_are_resolved),
		cmocka_unit_test(dirty_user_hive_is_replayed_privately),
		cmocka_unit_test(damaged_user_hive_stops_or_is_skipped),
		cmocka_unit_test(links_placeholders_and_long_paths),
		cmocka_unit_test(unreadable_file_is_reported_per_file),
		cmocka_unit_test(rescan_opens_only_changed_files),
		cmocka_unit_test(fifo_and_bad_names_do_not_stop_the_scan),
		cmocka_unit_test(store_inside_the_source_is_not_captured),
		cmocka_unit_test(rescan_of_unchanged_device_stores_nothing_new),
		cmocka_unit_test(estimate_matches_and_precount_gives_totals),
		cmocka_unit_test(outside_profiles_once_and_precount_agrees),
		cmocka_unit_test(dirty_machine_hive_without_logs_is_read_with_a_warning),
		cmocka_unit_test(probe_and_drive_wide_patterns),
		cmocka_unit_test(not_windows_is_refused),
	};
	int rc;

	rs = stu_rules();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rule_set_free(rs);
	stu_cleanup();
	return rc;
}
