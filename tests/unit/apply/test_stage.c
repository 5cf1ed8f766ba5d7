/* test_stage.c - first-sign-in staging: complete bundles, the Active Setup
 * component in SOFTWARE (read back through hivex, reglookup, regfexport),
 * the .reg merged by hivexregedit equals the offline write of the same
 * scan, the generated script, --default-profile, extract mode. */
#include "apply_tu.h"

#include "apply/apply_private.h"
#include "util/ws_utf.h"

#define AS_KEY "Microsoft\\Active Setup\\Installed Components"

static char *sid_of(uint64_t seed, unsigned i)
{
	struct ws_buf b = WS_BUF_INIT;

	fx_user_sid(seed, i, &b);
	return ws_buf_detach(&b, NULL);
}

/* A .reg file (UTF-16LE with BOM) as UTF-8 without CRs (malloc'd). */
static char *reg_text(const char *path)
{
	size_t len;
	char *raw = tu_read_file(path, &len);
	struct ws_buf u = WS_BUF_INIT, o = WS_BUF_INIT;

	assert_true(len > 2 && (unsigned char)raw[0] == 0xFF && (unsigned char)raw[1] == 0xFE);
	ws_utf16le_to_utf8(raw + 2, len - 2, &u, 0);
	for (size_t i = 0; i < u.len; i++)
		if (u.buf[i] != '\r')
			ws_buf_addch(&o, u.buf[i]);
	free(raw);
	ws_buf_release(&u);
	return ws_buf_detach(&o, NULL);
}

static void bundle_holds_every_file_and_setting(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *bob = sid_of(1, 1), *bdir, *regf, *txt;
	struct store *st;
	struct store_catalog *cat;
	struct store_record rec;
	uint32_t bob_idx = UINT32_MAX;
	size_t n, checked = 0;
	const struct store_user *us;
	(void)state;

	atu_setup(&t, 2, "alice");
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_int_equal(r.users_staged, 1);
	/* alice (offline) gets a bundle too when the scan recorded Store apps */
	assert_int_equal(r.bundles, 1 + (r.users[0].n_apps > 0));
	/* Per-user report: bob staged with his counts. */
	assert_int_equal(r.n_users, 3);
	assert_string_equal(r.users[1].account, "bob");
	assert_int_equal(r.users[1].mode, APPLY_MODE_FIRST_SIGN_IN);
	assert_true(r.users[1].c.files_staged > 0 && r.users[1].c.values_staged > 0);
	assert_int_equal(r.users[0].mode, APPLY_MODE_OFFLINE);
	assert_int_equal(r.users[0].c.files_staged, 0);
	apply_report_release(&r);
	bdir = ws_xasprintf("%s/ProgramData/winstate/bundles/%s", t.tgt, bob);
	st = atu_open(t.store);
	ws_error_clear(&e);
	tu_assert_ok(store_catalog_open(st, t.device, NULL, &cat, &e), &e);
	us = store_catalog_users(cat, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(us[i].account, "bob"))
			bob_idx = us[i].index;
	assert_true(bob_idx != UINT32_MAX);
	regf = ws_xasprintf("%s/settings.reg", bdir);
	txt = reg_text(regf);
	assert_memory_equal(txt, "Windows Registry Editor Version 5.00\n", 37);
	for (;;) {
		tu_assert_ok(store_catalog_next(cat, &rec, &e), &e);
		if (rec.kind == STORE_REC_END)
			break;
		if (rec.kind == STORE_REC_VALUE && rec.u.value.user == bob_idx) {
			char *hdr = ws_xasprintf("[HKEY_CURRENT_USER%s]\n", rec.u.value.key + 4);
			char *nm = ws_xasprintf("\"%s\"=", rec.u.value.name);

			assert_non_null(strstr(txt, hdr));
			assert_non_null(strstr(strstr(txt, hdr), nm));
			free(hdr);
			free(nm);
		}
		if (rec.kind == STORE_REC_FILE && rec.u.file.user == bob_idx &&
		    !(rec.u.file.flags & (STORE_FILE_DIR | STORE_FILE_NOT_CAPTURED))) {
			const char *rel = rec.u.file.path + strlen("C:\\Users\\bob\\");
			struct ws_buf p = WS_BUF_INIT, s = WS_BUF_INIT;
			char *a, *b;
			size_t la, lb;

			ws_buf_addf(&s, "%s/Users/bob/", t.src);
			for (const char *c = rel; *c; c++)
				ws_buf_addch(&s, *c == '\\' ? '/' : *c);
			a = atu_bundle_file(bdir, rel, &la);
			b = tu_read_file(s.buf, &lb);
			assert_non_null(a);
			assert_int_equal(la, lb);
			assert_memory_equal(a, b, la);
			free(a);
			free(b);
			ws_buf_release(&p);
			ws_buf_release(&s);
			checked++;
		}
	}
	assert_true(checked >= 4);
	{
		char *ps = ws_xasprintf("%s/ProgramData/winstate/restore.ps1", t.tgt);
		char *ini = ws_xasprintf("%s/bundle.ini", bdir);
		char *script = tu_read_file(ps, NULL), *inis = tu_read_file(ini, NULL);
		struct ws_buf fixed = WS_BUF_INIT;

		/* one shared script of fixed text: nothing of the store in it */
		assert_memory_equal(script, "\xEF\xBB\xBF#", 4);
		bundle_script(&fixed);
		assert_string_equal(script + 3, fixed.buf);
		ws_buf_release(&fixed);
		assert_null(strstr(script, bob));
		assert_non_null(strstr(script, "reg.exe') import"));
		free(ps);
		ps = ws_xasprintf("%s/restore.ps1", bdir);
		assert_false(ws_path_exists(ps));
		free(ps);
		ps = ws_xasprintf("%s/ProgramData/winstate/results", t.tgt);
		assert_true(ws_path_exists(ps));
		/* files\<n> only: every bundle path is short whatever the
		 * destination (MAX_PATH: 260) */
		{
			char *man = ws_xasprintf("%s/files.txt", bdir), *m = tu_read_file(man, NULL);
			size_t lines = 0;

			for (char *l = m; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
				size_t dn = strspn(l, "0123456789");

				assert_true((dn > 0 && dn < 10) || *l == '-');
				assert_true(l[dn ? dn : 1] == '\t');
				assert_true(strlen("C:\\ProgramData\\winstate\\bundles\\") + strlen(bob) +
					    strlen("\\files\\") + dn < 120);
				lines++;
			}
			assert_true(lines >= 4);
			free(m);
			free(man);
		}
		assert_non_null(strstr(inis, "account=bob\r\n"));
		assert_non_null(strstr(inis, "sid="));
		free(script);
		free(inis);
		free(ps);
		free(ini);
	}
	store_catalog_free(cat);
	store_close(st);
	free(txt);
	free(regf);
	free(bdir);
	free(bob);
	atu_release(&t);
}

static void active_setup_component_reads_back(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	struct reg_hive *h;
	reg_node as = 0, *kids = NULL;
	size_t nk = 0;
	int found_one = 0;
	char *sw, *bob = sid_of(1, 1);
	(void)state;

	atu_setup(&t, 2, "alice");
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	apply_report_release(&r);
	sw = ws_xasprintf("%s/Windows/System32/config/SOFTWARE", t.tgt);
	tu_assert_ok(reg_hive_open(sw, 0, &h, &e), &e);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), AS_KEY, &as, &e), &e);
	assert_true(as != 0);
	tu_assert_ok(reg_key_children(h, as, &kids, &nk, &e), &e);
	for (size_t i = 0; i < nk; i++) {
		struct ws_buf id = WS_BUF_INIT, stub = WS_BUF_INIT, name = WS_BUF_INIT;
		struct reg_value sv;
		uint32_t inst = 0;
		int f1, f2, f3;

		tu_assert_ok(reg_get_string(h, kids[i], "ComponentID", &id, &f1, &e), &e);
		tu_assert_ok(reg_get_string(h, kids[i], "", &name, &f3, &e), &e);
		if (f1 && !strcmp(id.buf, "winstate")) {
			struct ws_buf want = WS_BUF_INIT;

			found_one++;
			assert_true(f3);
			assert_string_equal(name.buf, "winstate first-sign-in restore");
			ws_buf_reset(&name);
			tu_assert_ok(reg_key_name(h, kids[i], &name, &e), &e);
			assert_string_equal(name.buf, BUNDLE_COMPONENT);
			tu_assert_ok(reg_value_get(h, kids[i], "StubPath", &sv, &f2, &e), &e);
			assert_true(f2);
			assert_int_equal(sv.type, REG_EXPAND_SZ);
			tu_assert_ok(reg_value_to_utf8(&sv, &stub, &e), &e);
			/* fixed text and the ProgramData path only: no SID, no bundle */
			bundle_command("C:\\ProgramData\\winstate", "setup", &want);
			assert_string_equal(stub.buf, want.buf);
			assert_string_equal(stub.buf,
					    "\"%SystemRoot%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" "
					    "-NoProfile -WindowStyle Hidden -Command \"$r='C:\\ProgramData\\winstate'; "
					    "& ([scriptblock]::Create((Get-Content -LiteralPath "
					    "($r+'\\restore.ps1') -Raw -Encoding UTF8))) 'setup' $r\"");
			assert_null(strstr(stub.buf, bob));
			ws_buf_release(&want);
			reg_value_release(&sv);
			tu_assert_ok(reg_get_dword(h, kids[i], "IsInstalled", &inst, &f3, &e), &e);
			assert_true(f3 && inst == 1);
			ws_buf_reset(&id);
			tu_assert_ok(reg_get_string(h, kids[i], "Version", &id, &f3, &e), &e);
			assert_string_equal(id.buf, "1,0,0,1");
		}
		ws_buf_release(&id);
		ws_buf_release(&stub);
		ws_buf_release(&name);
	}
	assert_int_equal(found_one, 1);
	free(kids);
	reg_hive_close(h);
	/* a second apply: the same component, Version one higher (every user
	 * runs the launcher again) */
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	apply_report_release(&r);
	{
		struct ws_buf v = WS_BUF_INIT;
		int f;

		tu_assert_ok(reg_hive_open(sw, 0, &h, &e), &e);
		tu_assert_ok(reg_key_lookup(h, reg_root(h), AS_KEY "\\" BUNDLE_COMPONENT, &as, &e), &e);
		tu_assert_ok(reg_get_string(h, as, "Version", &v, &f, &e), &e);
		assert_string_equal(v.buf, "1,0,0,2");
		ws_buf_release(&v);
		reg_hive_close(h);
	}
	if (system("command -v reglookup >/dev/null 2>&1") == 0) {
		char *cmd = ws_xasprintf("reglookup -p '/Microsoft/Active Setup/Installed Components' "
					 "'%s' | grep -q 'StubPath,EXPAND_SZ,.*restore.ps1'", sw);
		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	if (system("command -v regfexport >/dev/null 2>&1") == 0) {
		char *cmd = ws_xasprintf("regfexport '%s' 2>&1 | grep -q 'Value: .* StubPath'", sw);
		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	free(sw);
	free(bob);
	atu_release(&t);
}

/* The same scan applied offline (target A) and staged (target B): the
 * staged .reg merged with hivexregedit into B's untouched hive gives the
 * values the offline apply wrote into A's. */
static void merged_reg_equals_offline_write(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *tgt_b, *cmd, *reg_utf8, *hive_a, *hive_b, *alice;
	struct store *st;
	struct store_catalog *cat;
	struct store_record rec;
	size_t compared = 0;
	(void)state;

	if (system("command -v hivexregedit >/dev/null 2>&1") != 0) {
		printf("[  SKIP    ] hivexregedit not installed\n");
		skip();
	}
	atu_setup(&t, 1, "alice");
	tgt_b = ws_xasprintf("%s/tgt-b", t.dir);
	cmd = ws_xasprintf("cp -a '%s' '%s'", t.tgt, tgt_b);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.mode = APPLY_MODE_OFFLINE;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_true(r.values_set > 3);
	apply_report_release(&r);
	{
		char *keep = t.tgt;

		t.tgt = tgt_b;
		apply_opts_init(&o);
		o.allow_plain_target = 1;
		o.mode = APPLY_MODE_FIRST_SIGN_IN;
		tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
		assert_int_equal(r.users_staged, 1);
		assert_int_equal(r.values_set, 0);
		assert_string_not_equal(r.users[0].new_sid, "");
		alice = ws_xstrdup(r.users[0].new_sid);
		apply_report_release(&r);
		t.tgt = keep;
	}
	/* .reg (UTF-16LE, BOM, CRLF) -> UTF-8 LF for hivexregedit. */
	{
		char *regf = ws_xasprintf("%s/ProgramData/winstate/bundles/%s/settings.reg", tgt_b, alice);
		char *txt = reg_text(regf);

		reg_utf8 = ws_xasprintf("%s/settings-utf8.reg", t.dir);
		tu_write_file(reg_utf8, txt, strlen(txt));
		free(txt);
		free(regf);
	}
	hive_b = ws_xasprintf("%s/Users/alice/NTUSER.DAT", tgt_b);
	hive_a = ws_xasprintf("%s/Users/alice/NTUSER.DAT", t.tgt);
	cmd = ws_xasprintf("PERL_UNICODE=SD hivexregedit --merge --prefix 'HKEY_CURRENT_USER' "
			   "'%s' '%s'", hive_b, reg_utf8);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	st = atu_open(t.store);
	ws_error_clear(&e);
	tu_assert_ok(store_catalog_open(st, t.device, NULL, &cat, &e), &e);
	for (;;) {
		struct reg_value va = { 0 }, vb = { 0 };
		const char *inner;
		int fa, fb;

		tu_assert_ok(store_catalog_next(cat, &rec, &e), &e);
		if (rec.kind == STORE_REC_END)
			break;
		if (rec.kind != STORE_REC_VALUE)
			continue;
		inner = rec.u.value.key + 5; /* "HKCU\" */
		fa = atu_hive_value(hive_a, inner, rec.u.value.name, &va);
		fb = atu_hive_value(hive_b, inner, rec.u.value.name, &vb);
		assert_true(fa && fb);
		assert_int_equal(va.type, vb.type);
		if (va.type == REG_EXPAND_SZ) {
			/* Staged: %USERPROFILE%; offline: the profile path. */
			struct ws_buf sa = WS_BUF_INIT, sb = WS_BUF_INIT, x = WS_BUF_INIT;
			ws_utf16le_to_utf8(va.data, va.len, &sa, 0);
			ws_utf16le_to_utf8(vb.data, vb.len, &sb, 0);
			for (const char *s = sb.buf; *s;) {
				if (!strncmp(s, "%USERPROFILE%", 13)) {
					ws_buf_adds(&x, "C:\\Users\\alice");
					s += 13;
				} else {
					ws_buf_addch(&x, *s++);
				}
			}
			if (strcmp(sa.buf, x.buf) && strcmp(sa.buf, sb.buf))
				fail_msg("%s [%s]: offline '%s', staged '%s'", rec.u.value.key,
					 rec.u.value.name, sa.buf, sb.buf);
			ws_buf_release(&sa);
			ws_buf_release(&sb);
			ws_buf_release(&x);
		} else {
			assert_int_equal(va.len, vb.len);
			if (va.len)
				assert_memory_equal(va.data, vb.data, va.len);
		}
		reg_value_release(&va);
		reg_value_release(&vb);
		compared++;
	}
	assert_true(compared > 5);
	store_catalog_free(cat);
	store_close(st);
	free(hive_a);
	free(hive_b);
	free(reg_utf8);
	free(alice);
	free(tgt_b);
	atu_release(&t);
}

static void script_quotes_and_options(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *path, *s;
	size_t napps;
	(void)state;

	atu_setup(&t, 1, NULL);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.prompt = 1;
	o.expires = "2027-01-31";
	{
		const char *m[] = { "alice=CONTOSO\\o'brien" };

		o.map_user = m;
		o.n_map_user = 1;
		tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	}
	/* Mapped to another account without a SID: keyed by account. */
	assert_string_equal(r.users[0].new_sid, "");
	napps = r.users[0].n_apps;
	apply_report_release(&r);
	{
		struct ws_buf key = WS_BUF_INIT;

		acheck_bundle_key(NULL, "CONTOSO\\o'brien", &key);
		path = ws_xasprintf("%s/ProgramData/winstate/bundles/%s/restore.ps1", t.tgt, key.buf);
		ws_buf_release(&key);
	}
	s = tu_read_file(path, NULL);
	assert_null(s); /* no script in the bundle */
	free(path);
	{
		struct ws_buf key = WS_BUF_INIT;

		acheck_bundle_key(NULL, "CONTOSO\\o'brien", &key);
		path = ws_xasprintf("%s/ProgramData/winstate/bundles/%s/bundle.ini", t.tgt, key.buf);
		ws_buf_release(&key);
	}
	/* the options are data in bundle.ini, which the script reads */
	s = tu_read_file(path, NULL);
	assert_non_null(s);
	assert_non_null(strstr(s, "account=CONTOSO\\o'brien\r\n"));
	assert_non_null(strstr(s, "sid=\r\n"));
	assert_non_null(strstr(s, "expires=2027-01-31\r\n"));
	assert_non_null(strstr(s, "prompt=1\r\n"));
	assert_non_null(strstr(s, napps ? "apps=" : "apps=0\r\n"));
	free(s);
	free(path);
	/* the script handles them */
	{
		struct ws_buf sc = WS_BUF_INIT;

		bundle_script(&sc);
		assert_non_null(strstr(sc.buf, "$Expires = $ini['expires']"));
		assert_non_null(strstr(sc.buf, "$Prompt = $ini['prompt'] -eq '1'"));
		assert_non_null(strstr(sc.buf, "'Software\\winstate\\Restore'"));
		assert_non_null(strstr(sc.buf, "Remove-Item -LiteralPath $Bundle -Recurse"));
		/* no Test-Path/-Path on a name from a bundle (wildcards) */
		assert_null(strstr(sc.buf, " -Path $"));
		ws_buf_release(&sc);
	}
	/* A bad date is refused before anything happens. */
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.expires = "31/01/2027";
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_USAGE);
	apply_report_release(&r);
	atu_release(&t);
}

static void default_profile_gets_the_settings(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	struct reg_value v = { 0 };
	struct ws_buf s = WS_BUF_INIT;
	char *hive;
	(void)state;

	atu_setup(&t, 1, NULL);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.default_profile = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_int_equal(r.users_applied, 1);
	assert_int_equal(r.users[0].mode, APPLY_MODE_DEFAULT);
	assert_int_equal(r.bundles, 0);
	assert_true(r.values_set > 0);
	apply_report_release(&r);
	hive = ws_xasprintf("%s/Users/Default/NTUSER.DAT", t.tgt);
	assert_true(atu_hive_value(hive, "Control Panel\\Desktop", "WallPaper", &v));
	ws_utf16le_to_utf8(v.data, v.len, &s, 0);
	/* The profile path now names the Default profile. */
	assert_string_equal(s.buf, "C:\\Users\\Default\\Pictures\\wall.jpg");
	reg_value_release(&v);
	ws_buf_release(&s);
	free(hive);
	/* Two users and no choice: refused. */
	{
		struct atu t2;

		atu_setup(&t2, 2, NULL);
		apply_opts_init(&o);
		o.allow_plain_target = 1;
		o.default_profile = 1;
		assert_int_equal(atu_apply(&t2, &o, &r, &e), WS_E_USAGE);
		apply_report_release(&r);
		apply_opts_init(&o);
		o.allow_plain_target = 1;
		{
			const char *m[] = { "bob=Default" };

			o.map_user = m;
			o.n_map_user = 1;
			tu_assert_ok(atu_apply(&t2, &o, &r, &e), &e);
			assert_int_equal(r.users[1].mode, APPLY_MODE_DEFAULT);
			assert_int_equal(r.users[0].mode, APPLY_MODE_FIRST_SIGN_IN);
			apply_report_release(&r);
		}
		atu_release(&t2);
	}
	atu_release(&t);
}

static void offline_mode_without_profiles_writes_nothing(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *before, *after;
	(void)state;

	atu_setup(&t, 2, NULL);
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.mode = APPLY_MODE_OFFLINE;
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_NOUSER);
	assert_int_equal(r.users_missing, 2);
	apply_report_release(&r);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	free(before);
	free(after);
	atu_release(&t);
}

static void extract_mode_writes_plain_tree_and_reg(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *out, *p, *txt;
	struct store *st;
	(void)state;

	atu_setup(&t, 1, NULL);
	out = ws_xasprintf("%s/extract", t.dir);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.mode = APPLY_MODE_EXTRACT;
	st = atu_open(t.store);
	o.target = out;
	o.device = t.device;
	ws_error_clear(&e);
	tu_assert_ok(apply_scan(st, &o, &r, &e), &e);
	store_close(st);
	assert_true(r.files_placed > 3);
	assert_true(r.values_staged > 3);
	apply_report_release(&r);
	p = ws_xasprintf("%s/C/Users/alice/Documents/Projects/Plan.txt", out);
	assert_true(ws_path_exists(p));
	free(p);
	p = ws_xasprintf("%s/alice.reg", out);
	txt = reg_text(p);
	assert_non_null(strstr(txt, "[HKEY_CURRENT_USER\\Control Panel\\Desktop]"));
	free(txt);
	free(p);
	free(out);
	atu_release(&t);
}

static void collect_log(void *ctx, int level, const char *where, const char *msg)
{
	ws_buf_addf(ctx, "%d %s: %s\n", level, where ? where : "", msg);
}

/* A later apply reports what the restores of earlier ones recorded in
 * results\ (users write those files: control characters escaped, names
 * that are no bundle key ignored) and the bundles still waiting. */
static void earlier_results_are_reported(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	struct ws_log log = { 0 };
	struct ws_buf got = WS_BUF_INIT;
	char *bob = sid_of(1, 1), *p;
	(void)state;

	atu_setup(&t, 2, "alice");
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	apply_report_release(&r);
	p = ws_xasprintf("%s/ProgramData/winstate/results/%s.txt", t.tgt, bob);
	{
		const char rec[] = "2027-01-02T08:00:00 PC\\bob {X} attempt 1: restored: 3 files\r\n"
				   "2027-01-03T08:00:00 PC\\bob {X} attempt 2: FAILED, 1 step(s)\x1b[2J\r\n";

		tu_write_file(p, rec, sizeof(rec) - 1);
	}
	free(p);
	p = ws_xasprintf("%s/ProgramData/winstate/results/..%%2f.txt", t.tgt);
	tu_write_file(p, "x\n", 2);
	free(p);
	log.fn = collect_log;
	log.ctx = &got;
	log.max_level = WS_LOG_INFO;
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.dry_run = 1;
	o.log = &log;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	apply_report_release(&r);
	p = ws_xasprintf("first-sign-in restore of %s, last result: 2027-01-03T08:00:00 "
			 "PC\\\\bob {X} attempt 2: FAILED, 1 step(s)\\x1B[2J\n", bob);
	if (!strstr(got.buf, p))
		fail_msg("log:\n%s", got.buf);
	{
		const char *hit = strstr(got.buf, p), *bol = hit;

		while (bol > got.buf && bol[-1] != '\n')
			bol--;
		assert_memory_equal(bol, "1 ", 2); /* a failure: WS_LOG_WARN */
	}
	free(p);
	p = ws_xasprintf("the first-sign-in bundle %s of an earlier apply is still there", bob);
	assert_non_null(strstr(got.buf, p));
	free(p);
	assert_null(strstr(got.buf, "%2f"));
	ws_buf_release(&got);
	free(bob);
	atu_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bundle_holds_every_file_and_setting),
		cmocka_unit_test(active_setup_component_reads_back),
		cmocka_unit_test(merged_reg_equals_offline_write),
		cmocka_unit_test(script_quotes_and_options),
		cmocka_unit_test(default_profile_gets_the_settings),
		cmocka_unit_test(offline_mode_without_profiles_writes_nothing),
		cmocka_unit_test(extract_mode_writes_plain_tree_and_reg),
		cmocka_unit_test(earlier_results_are_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
