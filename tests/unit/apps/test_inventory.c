/* test_inventory.c - Store app inventory and classification on real
 * UsrClass hives (Windows 10 1709, Windows 8.1), on the fixture
 * installation and on hand-made hives; the reinstall list as JSON. */
#include "tu.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "apps/apps.h"
#include "fixture.h"
#include "util/ws_fs.h"
#include "volume/volume.h"

static void count_log(void *ctx, int level, const char *where, const char *msg)
{
	(void)ctx; (void)level; (void)where; (void)msg;
}

static struct ws_log quiet_log(void)
{
	struct ws_log log = { count_log, NULL, WS_LOG_DEBUG, 0, 0 };

	return log;
}

static const struct apps_package *find(const struct apps_list *l, const char *full)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].full_name && !strcmp(l->v[i].full_name, full))
			return &l->v[i];
	return NULL;
}

static const struct apps_package *find_family(const struct apps_list *l, const char *fam)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].family_name, fam))
			return &l->v[i];
	return NULL;
}

static void count_classes(const struct apps_list *l, size_t c[5])
{
	memset(c, 0, 5 * sizeof(*c));
	for (size_t i = 0; i < l->n; i++)
		c[l->v[i].cls]++;
}

static size_t reinstallable(const struct apps_list *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += apps_is_reinstallable(&l->v[i]);
	return n;
}

static struct reg_hive *open_testdata(const char *rel, char **dir)
{
	struct reg_hive *h = NULL;
	struct ws_error e;
	char *p;

	*dir = tu_tmpdir();
	p = tu_testdata_hive(rel, *dir);
	if (!p)
		return NULL;
	ws_error_clear(&e);
	/* the regipy UsrClass is dirty: read its primary file */
	tu_assert_ok(reg_hive_open(p, REG_OPEN_ALLOW_DIRTY, &h, &e), &e);
	free(p);
	return h;
}

static void win10_usrclass(void **state)
{
	char *dir;
	struct reg_hive *h = open_testdata("hives/regipy/UsrClass.dat", &dir);
	struct apps_list l = APPS_LIST_INIT;
	struct ws_log log = quiet_log();
	struct ws_error e;
	size_t c[5], repo = 0;
	const struct apps_package *p;

	free(dir);
	if (!h)
		skip();
	ws_error_clear(&e);
	tu_assert_ok(apps_inventory(h, NULL, "S-1-5-21-1", NULL, 0, &l, &log, &e), &e);
	assert_int_equal(log.warnings, 0);
	for (size_t i = 0; i < l.n; i++)
		repo += (l.v[i].sources & APPS_SRC_REPOSITORY) != 0;
	/* 86 keys under Repository\Packages, 22 more resource/system parts
	 * only under Families */
	assert_int_equal(repo, 86);
	assert_int_equal(l.n, 108);
	count_classes(&l, c);
	assert_int_equal(c[APPS_CLASS_USER], 1);
	assert_int_equal(c[APPS_CLASS_INBOX], 33);
	assert_int_equal(c[APPS_CLASS_SYSTEM], 31);
	assert_int_equal(c[APPS_CLASS_FRAMEWORK], 22);
	assert_int_equal(c[APPS_CLASS_RESOURCE], 21);

	p = find(&l, "Microsoft.WindowsCalculator_10.1803.711.0_x64__8wekyb3d8bbwe");
	assert_non_null(p);
	assert_int_equal(p->cls, APPS_CLASS_INBOX);
	assert_string_equal(p->family_name, "Microsoft.WindowsCalculator_8wekyb3d8bbwe");
	assert_string_equal(p->id.version, "10.1803.711.0");
	assert_string_equal(p->root_folder,
			    "C:\\Program Files\\WindowsApps\\Microsoft.WindowsCalculator_10.1803.711.0_x64__8wekyb3d8bbwe");
	assert_true(p->sources & APPS_SRC_FAMILIES);
	p = find(&l, "Microsoft.VCLibs.140.00_14.0.25426.0_x64__8wekyb3d8bbwe");
	assert_non_null(p);
	assert_int_equal(p->cls, APPS_CLASS_FRAMEWORK);
	assert_true(p->framework_flag);
	/* Framework = 1 in the repository, not in the name table */
	p = find(&l, "Microsoft.Advertising.Xaml_10.1803.2.0_x64__8wekyb3d8bbwe");
	assert_int_equal(p->cls, APPS_CLASS_FRAMEWORK);
	/* SystemApps root folder with the Store publisher */
	p = find(&l, "Microsoft.MicrosoftEdge_41.16299.248.0_neutral__8wekyb3d8bbwe");
	assert_int_equal(p->cls, APPS_CLASS_SYSTEM);
	p = find(&l, "Microsoft.Windows.Cortana_1.9.6.16299_neutral_neutral_cw5n1h2txyewy");
	assert_int_equal(p->cls, APPS_CLASS_SYSTEM);
	p = find(&l, "Microsoft.WindowsCalculator_10.1803.711.0_neutral_split.scale-100_8wekyb3d8bbwe");
	assert_int_equal(p->cls, APPS_CLASS_RESOURCE);
	assert_int_equal(p->sources, APPS_SRC_FAMILIES);
	/* the one app the user installed: the OneDrive Store app */
	p = find(&l, "microsoft.microsoftskydrive_17.28.4.0_x64__8wekyb3d8bbwe");
	assert_int_equal(p->cls, APPS_CLASS_USER);
	assert_string_equal(p->sid, "S-1-5-21-1");
	assert_int_equal(reinstallable(&l), 1);
	assert_true(apps_is_reinstallable(p));
	apps_list_release(&l);
	reg_hive_close(h);
}

static void win81_usrclass(void **state)
{
	char *dir;
	struct reg_hive *h = open_testdata("hives/dfwinreg/UsrClass.dat", &dir);
	struct apps_list l = APPS_LIST_INIT;
	struct ws_log log = quiet_log();
	struct ws_error e;
	size_t c[5];
	const struct apps_package *p;

	free(dir);
	if (!h)
		skip();
	ws_error_clear(&e);
	tu_assert_ok(apps_inventory(h, NULL, NULL, NULL, 0, &l, &log, &e), &e);
	assert_int_equal(log.warnings, 0);
	assert_int_equal(l.n, 34);
	count_classes(&l, c);
	assert_int_equal(c[APPS_CLASS_USER], 0);
	assert_int_equal(c[APPS_CLASS_INBOX], 21);
	assert_int_equal(c[APPS_CLASS_SYSTEM], 8);
	assert_int_equal(c[APPS_CLASS_FRAMEWORK], 5);
	p = find(&l, "Microsoft.WinJS.2.0_1.0.9600.16408_neutral__8wekyb3d8bbwe");
	assert_int_equal(p->cls, APPS_CLASS_FRAMEWORK);
	p = find(&l, "Microsoft.WindowsCalculator_6.3.9600.20278_x64__8wekyb3d8bbwe");
	assert_int_equal(p->cls, APPS_CLASS_INBOX);
	p = find(&l, "Microsoft.SkypeApp_2.5.0.1005_x86__kzf8qxf38zg5c");
	assert_string_equal(p->id.arch, "x86");
	/* 8.1 VPN plug-ins live only under Families: system parts */
	p = find(&l, "JuniperNetworks.JunosPulseVpn_1.0.0.206_neutral_neutral_cw5n1h2txyewy");
	assert_int_equal(p->cls, APPS_CLASS_SYSTEM);
	assert_int_equal(reinstallable(&l), 0);
	apps_list_release(&l);
	reg_hive_close(h);
}

/* A hive with the given keys (NULL-terminated) under its root. */
static struct reg_hive *make_hive(const char *dir, const char *name,
				  const char *const *keys)
{
	char *p = ws_xasprintf("%s/%s", dir, name);
	struct reg_create_opts o = { .minor = 5 };
	struct reg_hive *h = NULL;
	struct ws_error e;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_create(p, &o, &e), &e);
	tu_assert_ok(reg_hive_open(p, REG_OPEN_WRITE, &h, &e), &e);
	for (size_t i = 0; keys[i]; i++) {
		reg_node k;

		tu_assert_ok(reg_key_create(h, reg_root(h), keys[i], &k, &e), &e);
		if (strstr(keys[i], "Framework.Test_"))
			tu_assert_ok(reg_set_dword(h, k, "Framework", 1, &e), &e);
		if (strstr(keys[i], "Contoso.Typed_"))
			tu_assert_ok(reg_set_dword(h, k, "DisplayName", 7, &e), &e);
	}
	free(p);
	return h;
}

#define PKGS APPS_REPOSITORY_KEY "\\Packages\\"
#define AUS APPS_ALLUSER_KEY "\\"
#define SID "S-1-5-21-111-222-333-1001"

static void malformed_names_are_skipped_with_warnings(void **state)
{
	char *dir = tu_tmpdir();
	const char *keys[] = {
		PKGS "Contoso.Good_1.0.0.0_x64__abcdefghjkmnp",
		PKGS "not a package",
		PKGS "Contoso.Bad_1.0_x64__abcdefghjkmnp",
		PKGS "Framework.Test_2.0.0.0_x64__abcdefghjkmnp",
		PKGS "Contoso.Typed_1.0.0.0_x64__abcdefghjkmnp",
		NULL
	};
	struct reg_hive *h = make_hive(dir, "UsrClass.dat", keys);
	const char *folders[] = { "Contoso.Good_abcdefghjkmnp", "Desktop.ini-folder",
				  "Contoso.Leftover_abcdefghjkmnp" };
	struct apps_list l = APPS_LIST_INIT;
	struct ws_log log = quiet_log();
	struct ws_error e;
	const struct apps_package *p;

	ws_error_clear(&e);
	tu_assert_ok(apps_inventory(h, NULL, SID, folders, 3, &l, &log, &e), &e);
	/* two bad keys, one bad folder, one DisplayName of the wrong type */
	assert_int_equal(log.warnings, 4);
	assert_int_equal(l.n, 4);
	p = find(&l, "Contoso.Good_1.0.0.0_x64__abcdefghjkmnp");
	assert_int_equal(p->sources, APPS_SRC_REPOSITORY | APPS_SRC_FOLDER);
	assert_int_equal(p->cls, APPS_CLASS_USER);
	assert_true(apps_is_reinstallable(p));
	p = find(&l, "Framework.Test_2.0.0.0_x64__abcdefghjkmnp");
	assert_int_equal(p->cls, APPS_CLASS_FRAMEWORK);
	assert_false(apps_is_reinstallable(p));
	p = find(&l, "Contoso.Typed_1.0.0.0_x64__abcdefghjkmnp");
	assert_string_equal(p->display_name, "");
	/* a data folder alone: known, but not installed, so not reinstalled */
	p = find_family(&l, "Contoso.Leftover_abcdefghjkmnp");
	assert_null(p->full_name);
	assert_int_equal(p->sources, APPS_SRC_FOLDER);
	assert_false(p->installed);
	assert_false(apps_is_reinstallable(p));
	apps_list_release(&l);
	reg_hive_close(h);
	free(dir);
}

static void software_hive_signals(void **state)
{
	char *dir = tu_tmpdir();
	const char *keys[] = {
		AUS "Applications\\Contoso.Provisioned_3.0.0.0_x64__abcdefghjkmnp",
		AUS "InboxApplications\\Contoso.Shell_1.0.0.0_neutral_neutral_abcdefghjkmnp",
		AUS "Deprovisioned\\Contoso.Gone_abcdefghjkmnp",
		AUS SID "\\Contoso.Mine_1.2.0.0_x64__abcdefghjkmnp",
		AUS SID "\\Contoso.Mine_1.10.0.0_x64__abcdefghjkmnp",
		AUS SID "\\Contoso.Provisioned_3.0.0.0_x64__abcdefghjkmnp",
		AUS SID "\\Contoso.Gone_1.0.0.0_x64__abcdefghjkmnp",
		AUS SID "\\Contoso.Shell_1.0.0.0_neutral_neutral_abcdefghjkmnp",
		AUS "S-1-5-21-9-9-9-1002\\Contoso.Other_1.0.0.0_x64__abcdefghjkmnp",
		AUS "Applications\\broken",
		NULL
	};
	struct reg_hive *sw = make_hive(dir, "SOFTWARE", keys);
	struct apps_list l = APPS_LIST_INIT;
	struct ws_log log = quiet_log();
	struct ws_error e;
	struct ws_buf js = WS_BUF_INIT;

	ws_error_clear(&e);
	tu_assert_ok(apps_inventory(NULL, sw, SID, NULL, 0, &l, &log, &e), &e);
	assert_int_equal(log.warnings, 1);
	/* another user's packages and machine-only entries are not this user's */
	assert_int_equal(l.n, 5);
	assert_null(find_family(&l, "Contoso.Other_abcdefghjkmnp"));
	assert_int_equal(find(&l, "Contoso.Provisioned_3.0.0.0_x64__abcdefghjkmnp")->cls,
			 APPS_CLASS_INBOX);
	assert_int_equal(find(&l, "Contoso.Shell_1.0.0.0_neutral_neutral_abcdefghjkmnp")->cls,
			 APPS_CLASS_SYSTEM);
	assert_true(find(&l, "Contoso.Gone_1.0.0.0_x64__abcdefghjkmnp")->deprovisioned);
	assert_int_equal(reinstallable(&l), 2);
	/* one family, two versions: the list names the highest (1.10 > 1.2) */
	assert_int_equal(apps_reinstall_json(&l, "2024-05-01T10:00:00.000-00:00", &js), 1);
	assert_non_null(strstr(js.buf, "\"Contoso.Mine_1.10.0.0_x64__abcdefghjkmnp\""));
	assert_null(strstr(js.buf, "Contoso.Gone"));
	assert_null(strstr(js.buf, "Contoso.Provisioned"));
	/* no known ProductId: the winget part has no source (Packages may not be empty) */
	assert_non_null(strstr(js.buf, "\"Sources\": []"));
	ws_buf_release(&js);
	apps_list_release(&l);
	reg_hive_close(sw);
	free(dir);
}

/* Validate with python3's json module and the schema's required fields. */
static int python_check(const char *json_path, const char *expect_ids)
{
	char cmd[8192];
	const char *py =
		"import json,sys\n"
		"d=json.load(open(sys.argv[1]))\n"
		"assert d['$schema']=='https://aka.ms/winget-packages.schema.2.0.json'\n"
		"assert isinstance(d['CreationDate'],str)\n"
		"ids=[]\n"
		"for s in d['Sources']:\n"
		"  sd=s['SourceDetails']\n"
		"  for k in ('Name','Identifier','Argument','Type'): assert isinstance(sd[k],str)\n"
		"  assert sd['Name']=='msstore' and sd['Type']=='Microsoft.Rest'\n"
		"  assert len(s['Packages'])>=1\n"
		"  ids+=[p['PackageIdentifier'] for p in s['Packages']]\n"
		"assert ','.join(sorted(ids))==sys.argv[2], ids\n"
		"for a in d['winstate']['apps']:\n"
		"  for k in ('PackageFamilyName','PackageFullName','SourceSid','Route'): assert a[k]\n";
	FILE *f;
	char *pyf = ws_xasprintf("%s.py", json_path);
	int rc;

	f = fopen(pyf, "w");
	assert_non_null(f);
	fputs(py, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s' '%s'", pyf, json_path, expect_ids);
	rc = system(cmd);
	free(pyf);
	return rc;
}

static void fixture_installation(void **state)
{
	char *root = tu_tmpdir();
	struct fx_opts o;
	struct ws_error e;
	struct vol *v = NULL;
	const struct vol_profile *alice;
	struct apps_list l = APPS_LIST_INIT;
	struct ws_log log = quiet_log();
	struct ws_buf js = WS_BUF_INIT, sid = WS_BUF_INIT;
	char *jpath;
	const struct apps_package *p;

	fx_opts_init(&o);
	o.out_dir = root;
	o.files = 2;
	ws_error_clear(&e);
	tu_assert_ok(fx_build(&o, NULL, &e), &e);
	tu_assert_ok(vol_open(root, &v, &e), &e);
	alice = vol_profile_find(v, "alice");
	assert_non_null(alice);
	tu_assert_ok(apps_user_inventory(v, alice, &l, &log, &e), &e);
	assert_int_equal(log.warnings, 0);
	assert_int_equal(l.n, 5);
	fx_user_sid(1, 0, &sid);
	p = find(&l, "Microsoft.WindowsTerminal_1.18.3181.0_x64__8wekyb3d8bbwe");
	assert_int_equal(p->cls, APPS_CLASS_USER);
	assert_string_equal(p->display_name, "Windows Terminal");
	assert_string_equal(p->sid, sid.buf);
	/* repository key, AppxAllUserStore\<SID> and the LocalState folder */
	assert_int_equal(p->sources, APPS_SRC_REPOSITORY | APPS_SRC_FAMILIES |
				     APPS_SRC_USER_STORE | APPS_SRC_FOLDER);
	assert_int_equal(find(&l, "SpotifyAB.SpotifyMusic_1.220.784.0_x86__zpdnekdrzrea0")->cls,
			 APPS_CLASS_USER);
	assert_int_equal(find(&l, "Microsoft.VCLibs.140.00_14.0.30704.0_x64__8wekyb3d8bbwe")->cls,
			 APPS_CLASS_FRAMEWORK);
	assert_int_equal(find(&l, "Microsoft.Windows.StartMenuExperienceHost_10.0.19041.3636_neutral_neutral_cw5n1h2txyewy")->cls,
			 APPS_CLASS_SYSTEM);
	assert_int_equal(reinstallable(&l), 3);

	assert_int_equal(apps_reinstall_json(&l, NULL, &js), 3);
	jpath = ws_xasprintf("%s/apps.json", root);
	tu_write_file(jpath, js.buf, js.len);
	assert_int_equal(python_check(jpath, "9N0DX20HK701,9NCBCSZSJRSB,9NKSQGP7F2NH"), 0);
	assert_null(strstr(js.buf, "VCLibs"));
	assert_null(strstr(js.buf, "StartMenuExperienceHost"));
	free(jpath);
	ws_buf_release(&js);
	ws_buf_release(&sid);
	apps_list_release(&l);
	vol_close(v);
	free(root);
}

static void json_escapes_and_empty_list(void **state)
{
	struct apps_list l = APPS_LIST_INIT;
	struct ws_buf js = WS_BUF_INIT;
	char *dir = tu_tmpdir();
	char *jpath = ws_xasprintf("%s/empty.json", dir);

	assert_int_equal(apps_reinstall_json(&l, "2024-01-01T00:00:00.000-00:00", &js), 0);
	tu_write_file(jpath, js.buf, js.len);
	assert_int_equal(python_check(jpath, ""), 0);
	ws_buf_release(&js);
	free(jpath);
	free(dir);
}

static void json_mixes_store_and_side_data(void **state)
{
	char *dir = tu_tmpdir();
	const char *keys[] = {
		PKGS "Microsoft.WindowsTerminal_1.19.10573.0_x64__8wekyb3d8bbwe",
		PKGS "Contoso.Unknown_2.0.0.0_arm64__abcdefghjkmnp",
		PKGS "Microsoft.WindowsCalculator_11.2307.4.0_x64__8wekyb3d8bbwe",
		NULL
	};
	struct reg_hive *h = make_hive(dir, "UsrClass.dat", keys);
	struct apps_list l = APPS_LIST_INIT;
	struct ws_buf js = WS_BUF_INIT;
	struct ws_error e;
	char *jpath = ws_xasprintf("%s/mixed.json", dir);

	ws_error_clear(&e);
	tu_assert_ok(apps_inventory(h, NULL, SID, NULL, 0, &l, NULL, &e), &e);
	assert_int_equal(apps_reinstall_json(&l, "2024-05-01T10:00:00.000-00:00", &js), 2);
	tu_write_file(jpath, js.buf, js.len);
	/* winget gets the Store id it can install; the inbox Calculator stays out */
	assert_int_equal(python_check(jpath, "9N0DX20HK701"), 0);
	assert_non_null(strstr(js.buf, "\"Route\": \"msstore\""));
	assert_non_null(strstr(js.buf, "\"Route\": \"offline-or-manual\""));
	assert_non_null(strstr(js.buf, "\"SourceSid\": \"" SID "\""));
	assert_non_null(strstr(js.buf, "\"Architecture\": \"arm64\""));
	assert_null(strstr(js.buf, "WindowsCalculator"));
	free(jpath);
	ws_buf_release(&js);
	apps_list_release(&l);
	reg_hive_close(h);
	free(dir);
}

static void target_profile_sources(void **state)
{
	char *root = tu_tmpdir();
	struct fx_opts o;
	struct ws_error e;
	struct vol *v = NULL;
	const struct vol_profile *p;
	struct apps_list l = APPS_LIST_INIT;

	fx_opts_init(&o);
	o.out_dir = root;
	o.kind = FX_TARGET;
	o.os = FX_WIN11;
	o.existing_user = "alice";
	ws_error_clear(&e);
	tu_assert_ok(fx_build(&o, NULL, &e), &e);
	tu_assert_ok(vol_open(root, &v, &e), &e);
	p = vol_profile_find(v, "alice");
	assert_non_null(p);
	tu_assert_ok(apps_user_inventory(v, p, &l, NULL, &e), &e);
	/* the fresh profile's repository holds only the framework and the
	 * system app; the fixture's SOFTWARE hive lists all five packages under
	 * AppxAllUserStore\<SID>, which alone still counts as installed */
	assert_int_equal(l.n, 5);
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].cls == APPS_CLASS_USER)
			assert_int_equal(l.v[i].sources, APPS_SRC_USER_STORE);
		else
			assert_true(l.v[i].sources & APPS_SRC_REPOSITORY);
	}
	assert_int_equal(reinstallable(&l), 3);
	apps_list_release(&l);
	vol_close(v);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(win10_usrclass),
		cmocka_unit_test(win81_usrclass),
		cmocka_unit_test(malformed_names_are_skipped_with_warnings),
		cmocka_unit_test(software_hive_signals),
		cmocka_unit_test(fixture_installation),
		cmocka_unit_test(json_escapes_and_empty_list),
		cmocka_unit_test(json_mixes_store_and_side_data),
		cmocka_unit_test(target_profile_sources),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tu_cleanup();
	return rc;
}
