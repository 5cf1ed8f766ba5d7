/* test_apps.c - Store apps and Wi-Fi in apply: the reinstall list from the
 * catalog's app records (frameworks, inbox, deprovisioned, malformed, older
 * versions and apps the target image provisions left out), apps.json in the
 * bundle of a staged and of an existing-profile user, offline packages from
 * --app-cache copied and hard-linked between bundles, the script's App
 * lines, report sources, dry run, undo, a bad cache folder, and the Wi-Fi
 * networks whose key must be typed again. */
#include "apply_tu.h"

#include <archive.h>
#include <archive_entry.h>

#include "apps/apps.h"

#define DEV "PC-APPS"
#define ALICE_SID "S-1-5-21-100-200-300-1001"
#define BOB_SID "S-1-5-21-100-200-300-1002"
#define MS_PUB "CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US"
#define TERM "Microsoft.WindowsTerminal_1.18.3181.0_x64__8wekyb3d8bbwe"
#define TERM_FAM "Microsoft.WindowsTerminal_8wekyb3d8bbwe"
#define SPOT "SpotifyAB.SpotifyMusic_1.220.784.0_x86__zpdnekdrzrea0"
#define NOTES2 "Contoso.Notes_2.0.0.0_x64__abcdefghjkmnp"
#define NOTES1 "Contoso.Notes_1.0.0.0_x64__abcdefghjkmnp"
#define PROV "Contoso.Provisioned_1.0.0.0_x64__abcdefghjkmnp"
#define WLAN "C:\\ProgramData\\Microsoft\\Wlansvc\\Profiles\\Interfaces\\{0A1B2C3D-0000-1111-2222-333344445555}\\"
#define WHEAD "<?xml version=\"1.0\"?>\r\n<WLANProfile xmlns=\"http://www.microsoft.com/networking/WLAN/profile/v1\">"

static const char wifi_protected[] = WHEAD
	"<name>HomeNet</name><SSIDConfig><SSID><name>HomeNet</name></SSID></SSIDConfig>"
	"<MSM><security><authEncryption><authentication>WPA2PSK</authentication>"
	"<encryption>AES</encryption><useOneX>false</useOneX></authEncryption><sharedKey>"
	"<keyType>passPhrase</keyType><protected>true</protected><keyMaterial>01000000D08C"
	"</keyMaterial></sharedKey></security></MSM></WLANProfile>";
static const char wifi_open[] = WHEAD
	"<name>Cafe</name><SSIDConfig><SSID><name>Cafe</name></SSID></SSIDConfig>"
	"<MSM><security><authEncryption><authentication>open</authentication>"
	"<encryption>none</encryption><useOneX>false</useOneX></authEncryption>"
	"</security></MSM></WLANProfile>";

struct rec {
	uint32_t user;
	const char *family, *full, *cls;
};

static const struct rec recs[] = {
	{ 0, TERM_FAM, TERM, "user" },
	{ 0, "Microsoft.VCLibs.140.00_8wekyb3d8bbwe",
	  "Microsoft.VCLibs.140.00_14.0.30704.0_x64__8wekyb3d8bbwe", "framework" },
	{ 0, "Microsoft.WindowsCalculator_8wekyb3d8bbwe",
	  "Microsoft.WindowsCalculator_11.2210.0.0_x64__8wekyb3d8bbwe", "inbox" },
	{ 0, "Contoso.Gone_abcdefghjkmnp", "Contoso.Gone_1.0.0.0_x64__abcdefghjkmnp",
	  "deprovisioned-user" },
	{ 0, "bad family", "not_a_package name", "user" },
	{ 0, "Contoso.Notes_abcdefghjkmnp", NOTES1, "user" },
	{ 0, "Contoso.Notes_abcdefghjkmnp", NOTES2, "user" },
	{ 0, "Contoso.Provisioned_abcdefghjkmnp", PROV, "user" },
	{ 1, TERM_FAM, TERM, "user" },
	{ 1, "SpotifyAB.SpotifyMusic_zpdnekdrzrea0", SPOT, "user" },
};

/* A store with alice (profile on the target) and bob (none), their app
 * records and two Wi-Fi profiles. */
static void make_store(const char *dir)
{
	struct store_open_opts so = { 0 };
	struct store *st;
	struct store_writer *w;
	struct store_scan_info info = { 0 };
	struct store_user a = { 0, ALICE_SID, "alice", "C:\\Users\\alice", 0, STORE_USER_LOCAL };
	struct store_user b = { 1, BOB_SID, "bob", "C:\\Users\\bob", 0, STORE_USER_LOCAL };
	struct ws_error e;
	static const struct {
		const char *path, *xml;
	} wl[] = { { WLAN "HomeNet.xml", wifi_protected }, { WLAN "Cafe.xml", wifi_open } };

	so.create = 1;
	ws_error_clear(&e);
	tu_assert_ok(store_open(dir, &so, &st, &e), &e);
	info.device = DEV;
	info.system_drive = 'C';
	tu_assert_ok(store_scan_begin(st, &info, &w, &e), &e);
	tu_assert_ok(store_scan_add_user(w, &a, &e), &e);
	tu_assert_ok(store_scan_add_user(w, &b, &e), &e);
	for (size_t i = 0; i < sizeof(recs) / sizeof(*recs); i++) {
		struct apps_id id;
		struct store_app ap = { recs[i].user, recs[i].family, recs[i].full, "", "", "",
					recs[i].cls };

		if (apps_parse_full_name(recs[i].full, &id) == 0) {
			ap.version = id.version;
			ap.arch = id.arch;
			ap.publisher = id.publisher_id;
			tu_assert_ok(store_scan_add_app(w, &ap, &e), &e);
		} else {
			tu_assert_ok(store_scan_add_app(w, &ap, &e), &e);
		}
	}
	for (size_t i = 0; i < 2; i++) {
		struct store_file f = { 0 };

		f.user = STORE_SYSTEM;
		f.path = wl[i].path;
		f.size = strlen(wl[i].xml);
		f.written_ft = 133000000000000000ull;
		tu_assert_ok(store_scan_add_file_mem(w, &f, wl[i].xml, strlen(wl[i].xml), &e), &e);
	}
	tu_assert_ok(store_scan_commit(w, NULL, &e), &e);
	store_close(st);
}

static void write_zip(const char *path, const char *member, const char *text)
{
	struct archive *a = archive_write_new();
	struct archive_entry *en = archive_entry_new();

	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	archive_entry_set_pathname(en, member);
	archive_entry_set_filetype(en, AE_IFREG);
	archive_entry_set_perm(en, 0644);
	archive_entry_set_size(en, (la_int64_t)strlen(text));
	assert_int_equal(archive_write_header(a, en), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, text, strlen(text)), (la_ssize_t)strlen(text));
	archive_entry_free(en);
	archive_write_close(a);
	archive_write_free(a);
}

/* The admin's package folder: the Terminal bundle, VCLibs x64 and arm64,
 * Terminal's license, and a package of an app nobody has. */
static void make_cache(const char *dir)
{
	char *p;

	assert_int_equal(ws_mkdir_p(dir, WS_E_IO, NULL), WS_OK);
	write_zip(p = ws_xasprintf("%s/terminal.msixbundle", dir), "AppxMetadata/AppxBundleManifest.xml",
		  "<Bundle xmlns=\"http://schemas.microsoft.com/appx/2013/bundle\">"
		  "<Identity Name=\"Microsoft.WindowsTerminal\" Publisher=\"" MS_PUB "\" "
		  "Version=\"1.19.10573.0\"/></Bundle>");
	free(p);
	write_zip(p = ws_xasprintf("%s/vclibs.appx", dir), "AppxManifest.xml",
		  "<Package xmlns=\"http://schemas.microsoft.com/appx/manifest/foundation/windows10\">"
		  "<Identity Name=\"Microsoft.VCLibs.140.00\" Publisher=\"" MS_PUB "\" "
		  "Version=\"14.0.30704.0\" ProcessorArchitecture=\"x64\"/>"
		  "<Properties><Framework>true</Framework></Properties></Package>");
	free(p);
	write_zip(p = ws_xasprintf("%s/vclibs-arm64.appx", dir), "AppxManifest.xml",
		  "<Package xmlns=\"http://schemas.microsoft.com/appx/manifest/foundation/windows10\">"
		  "<Identity Name=\"Microsoft.VCLibs.140.00\" Publisher=\"" MS_PUB "\" "
		  "Version=\"14.0.30704.0\" ProcessorArchitecture=\"arm64\"/>"
		  "<Properties><Framework>true</Framework></Properties></Package>");
	free(p);
	write_zip(p = ws_xasprintf("%s/Contoso.Other_1.0.0.0_x64__abcdefghjkmnp.msix", dir),
		  "readme.txt", "x");
	free(p);
	p = ws_xasprintf("%s/" TERM_FAM "_License1.xml", dir);
	tu_write_file(p, "<License/>", 10);
	free(p);
}

/* The target provisions Contoso.Provisioned for every user. */
static void provision_on_target(const char *tgt)
{
	char *sw = ws_xasprintf("%s/Windows/System32/config/SOFTWARE", tgt);
	char *tmp = ws_xasprintf("%s.new", sw);
	struct reg_hive *h;
	struct ws_error e;
	reg_node k;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_open(sw, REG_OPEN_WRITE, &h, &e), &e);
	tu_assert_ok(reg_key_create(h, reg_root(h), APPS_ALLUSER_KEY "\\Applications\\" PROV,
				    &k, &e), &e);
	tu_assert_ok(reg_hive_commit(h, tmp, &e), &e);
	reg_hive_close(h);
	assert_int_equal(rename(tmp, sw), 0);
	free(sw);
	free(tmp);
}

struct env {
	char *dir, *tgt, *store, *cache;
};

static void env_make(struct env *v)
{
	v->dir = tu_tmpdir();
	v->tgt = ws_xasprintf("%s/tgt", v->dir);
	v->store = ws_xasprintf("%s/st", v->dir);
	v->cache = ws_xasprintf("%s/cache", v->dir);
	atu_fixture(v->tgt, FX_TARGET, 0, "alice", 2);
	provision_on_target(v->tgt);
	make_store(v->store);
	make_cache(v->cache);
}

static void env_free(struct env *v)
{
	free(v->dir);
	free(v->tgt);
	free(v->store);
	free(v->cache);
}

static struct ws_buf actions = WS_BUF_INIT;

static void on_action(void *ctx, const struct apply_action *a)
{
	(void)ctx;
	ws_buf_addf(&actions, "%s|%s|%s|%s\n", apply_action_name(a->kind), a->user, a->object,
		    a->reason ? a->reason : "");
}

static int run(struct env *v, struct apply_opts *o, struct apply_report *r)
{
	struct store *st = atu_open(v->store);
	struct ws_error e;
	int rc;

	o->target = v->tgt;
	o->device = DEV;
	o->on_action = on_action;
	ws_buf_reset(&actions);
	ws_error_clear(&e);
	rc = apply_scan(st, o, r, &e);
	store_close(st);
	if (rc != WS_OK && rc != WS_PARTIAL)
		fail_msg("apply: %s: %s", e.where, e.msg);
	return rc;
}

static const struct apply_app *app_of(const struct apply_user_report *u, const char *family)
{
	for (size_t i = 0; i < u->n_apps; i++)
		if (!strcmp(u->apps[i].family, family))
			return &u->apps[i];
	return NULL;
}

static char *bundle_file(struct env *v, const char *sid, const char *name)
{
	return ws_xasprintf("%s/ProgramData/winstate/bundles/%s/%s", v->tgt, sid, name);
}

static void reinstall_lists_bundles_and_packages(void **state)
{
	struct env v;
	struct apply_opts o;
	struct apply_report r;
	const struct apply_user_report *al, *bo;
	const struct apply_app *a;
	char *alice_sid, *p, *txt;
	struct stat s1, s2;
	(void)state;

	env_make(&v);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.app_cache = v.cache;
	run(&v, &o, &r);
	assert_int_equal(r.n_users, 3);
	al = &r.users[0];
	bo = &r.users[1];
	assert_int_equal(al->mode, APPLY_MODE_OFFLINE);
	assert_int_equal(bo->mode, APPLY_MODE_FIRST_SIGN_IN);
	alice_sid = ws_xstrdup(al->new_sid);
	assert_true(apply_sid_valid(alice_sid));
	/* alice: Terminal (offline package) and Notes 2.0 (needs Store) only */
	assert_int_equal(al->n_apps, 2);
	a = app_of(al, TERM_FAM);
	assert_non_null(a);
	assert_int_equal(a->source, APPLY_APP_OFFLINE);
	assert_string_equal(a->package, "apps\\terminal.msixbundle");
	assert_int_equal(a->ndeps, 1);
	assert_string_equal(a->deps[0], "apps\\vclibs.appx");
	assert_string_equal(a->product_id, "9N0DX20HK701");
	assert_non_null(a->license);
	assert_non_null(strstr(a->license, "_License1.xml"));
	a = app_of(al, "Contoso.Notes_abcdefghjkmnp");
	assert_non_null(a);
	assert_string_equal(a->version, "2.0.0.0");
	assert_int_equal(a->source, APPLY_APP_NEEDS_STORE);
	assert_null(a->package);
	assert_int_equal(al->c.apps_offline, 1);
	assert_int_equal(al->c.apps_needs_store, 1);
	/* framework, inbox, deprovisioned, malformed, provisioned by the target */
	assert_int_equal(al->c.apps_skipped, 5);
	assert_non_null(strstr(actions.buf, "app-skip|alice|" PROV "|the target image provisions it"));
	assert_non_null(strstr(actions.buf, "app-skip|alice|Contoso.Gone_1.0.0.0_x64__abcdefghjkmnp|removed"));
	assert_non_null(strstr(actions.buf, "app-skip|alice|Microsoft.VCLibs.140.00_14.0.30704.0_x64__8wekyb3d8bbwe|framework"));
	assert_non_null(strstr(actions.buf, "app-skip|alice|not_a_package name|malformed"));
	assert_non_null(strstr(actions.buf, "app-stage|bob|" SPOT "|winget install --id 9NCBCSZSJRSB"));
	/* bob: Terminal (offline) and Spotify (winget) */
	assert_int_equal(bo->n_apps, 2);
	assert_int_equal(app_of(bo, TERM_FAM)->source, APPLY_APP_OFFLINE);
	assert_int_equal(app_of(bo, "SpotifyAB.SpotifyMusic_zpdnekdrzrea0")->source, APPLY_APP_WINGET);
	assert_int_equal(r.apps_offline, 2);
	assert_int_equal(r.apps_winget, 1);
	assert_int_equal(r.apps_needs_store, 1);
	assert_int_equal(r.bundles, 2);
	/* Wi-Fi: two profiles, the protected one must be typed again */
	assert_int_equal(r.wifi_profiles, 2);
	assert_int_equal(r.n_wifi, 1);
	assert_string_equal(r.wifi[0].ssid, "HomeNet");
	assert_string_equal(r.wifi[0].authentication, "WPA2PSK");
	apply_report_release(&r);

	/* alice's apps.json: winget-import JSON with Terminal's ProductId only,
	 * the side data with both apps */
	p = bundle_file(&v, alice_sid, "apps.json");
	txt = tu_read_file(p, NULL);
	assert_non_null(txt);
	assert_non_null(strstr(txt, "\"$schema\": \"https://aka.ms/winget-packages.schema.2.0.json\""));
	assert_non_null(strstr(txt, "\"PackageIdentifier\": \"9N0DX20HK701\""));
	assert_non_null(strstr(txt, "\"PackageFullName\": \"" NOTES2 "\""));
	assert_null(strstr(txt, NOTES1));
	assert_null(strstr(txt, "VCLibs"));
	assert_null(strstr(txt, "Calculator"));
	assert_null(strstr(txt, "Contoso.Gone"));
	assert_null(strstr(txt, "Contoso.Provisioned"));
	assert_non_null(strstr(txt, "\"SourceSid\": \"" ALICE_SID "\""));
	free(txt);
	free(p);
	/* the script's app step: apps.txt, one line per app */
	p = bundle_file(&v, alice_sid, "apps.txt");
	txt = tu_read_file(p, NULL);
	assert_non_null(strstr(txt, TERM_FAM "\tapps\\terminal.msixbundle\tapps\\vclibs.appx\t"
				    "9N0DX20HK701\r\n"));
	assert_non_null(strstr(txt, "Contoso.Notes_abcdefghjkmnp\t-\t-\t-\r\n"));
	free(txt);
	free(p);
	p = bundle_file(&v, BOB_SID, "apps.txt");
	txt = tu_read_file(p, NULL);
	assert_non_null(strstr(txt, "SpotifyAB.SpotifyMusic_zpdnekdrzrea0\t-\t-\t9NCBCSZSJRSB\r\n"));
	free(txt);
	free(p);
	/* the shared script's app step */
	p = ws_xasprintf("%s/ProgramData/winstate/restore.ps1", v.tgt);
	txt = tu_read_file(p, NULL);
	assert_non_null(strstr(txt, "Add-AppxPackage @a"));
	assert_non_null(strstr(txt, "winget.exe install --id $id --source msstore "
				    "--accept-package-agreements --accept-source-agreements"));
	assert_non_null(strstr(txt, "needs Store"));
	free(txt);
	free(p);
	p = bundle_file(&v, BOB_SID, "bundle.ini");
	txt = tu_read_file(p, NULL);
	assert_non_null(strstr(txt, "apps=2\r\n"));
	free(txt);
	free(p);
	/* packages: copied once, hard-linked into the second bundle; arm64 VCLibs
	 * and the other app's package not copied; the license not copied */
	p = bundle_file(&v, alice_sid, "apps/terminal.msixbundle");
	assert_int_equal(stat(p, &s1), 0);
	free(p);
	p = bundle_file(&v, BOB_SID, "apps/terminal.msixbundle");
	assert_int_equal(stat(p, &s2), 0);
	free(p);
	assert_true(s1.st_ino == s2.st_ino && s1.st_nlink == 2);
	p = bundle_file(&v, BOB_SID, "apps/vclibs.appx");
	assert_true(ws_path_exists(p));
	free(p);
	p = bundle_file(&v, BOB_SID, "apps/vclibs-arm64.appx");
	assert_false(ws_path_exists(p));
	free(p);
	p = bundle_file(&v, alice_sid, "apps/" TERM_FAM "_License1.xml");
	assert_false(ws_path_exists(p));
	free(p);
	{
		char *a1 = ws_xasprintf("%s/terminal.msixbundle", v.cache);
		char *b1 = bundle_file(&v, alice_sid, "apps/terminal.msixbundle");
		size_t la, lb;
		char *x = tu_read_file(a1, &la), *y = tu_read_file(b1, &lb);

		assert_int_equal(la, lb);
		assert_memory_equal(x, y, la);
		free(x);
		free(y);
		free(a1);
		free(b1);
	}
	free(alice_sid);
	env_free(&v);
}

/* Active Setup is registered for alice's app bundle although her profile
 * exists; a dry run plans the same and writes nothing; undo removes the
 * packages and links. */
static void existing_profile_dry_run_and_undo(void **state)
{
	struct env v;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct ws_error e;
	char *before, *after, *sw;
	struct reg_hive *h;
	reg_node as = 0, *kids = NULL;
	size_t nk = 0;
	int alice_component = 0;
	uint64_t dry_bytes;
	(void)state;

	env_make(&v);
	before = atu_tree(v.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.app_cache = v.cache;
	o.dry_run = 1;
	run(&v, &o, &r);
	assert_int_equal(r.users[0].n_apps, 2);
	assert_int_equal(r.apps_offline, 2);
	assert_int_equal(r.n_wifi, 1);
	dry_bytes = r.bytes;     /* what the real run writes, packages aside */
	assert_true(dry_bytes > 0);
	apply_report_release(&r);
	after = atu_tree(v.tgt);
	assert_string_equal(before, after);
	free(after);

	apply_opts_init(&o);

	o.allow_plain_target = 1;
	o.app_cache = v.cache;
	run(&v, &o, &r);
	assert_true(r.bytes >= dry_bytes);
	apply_report_release(&r);
	sw = ws_xasprintf("%s/Windows/System32/config/SOFTWARE", v.tgt);
	ws_error_clear(&e);
	tu_assert_ok(reg_hive_open(sw, 0, &h, &e), &e);
	tu_assert_ok(reg_key_lookup(h, reg_root(h),
				    "Microsoft\\Active Setup\\Installed Components", &as, &e), &e);
	assert_true(as != 0);
	tu_assert_ok(reg_key_children(h, as, &kids, &nk, &e), &e);
	for (size_t i = 0; i < nk; i++) {
		struct ws_buf name = WS_BUF_INIT;
		int f;

		tu_assert_ok(reg_get_string(h, kids[i], "", &name, &f, &e), &e);
		alice_component += f && !strcmp(name.buf, "winstate first-sign-in restore");
		ws_buf_release(&name);
	}
	assert_int_equal(alice_component, 1);
	free(kids);
	reg_hive_close(h);
	free(sw);

	ws_error_clear(&e);
	tu_assert_ok(apply_undo(v.tgt, NULL, NULL, &u, &e), &e);
	after = atu_tree(v.tgt);
	assert_string_equal(before, after);
	free(after);
	free(before);
	env_free(&v);
}

/* Without a cache: Terminal goes to winget; an unreadable cache folder is a
 * usage error and nothing is written. */
static void without_cache_and_bad_cache(void **state)
{
	struct env v;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	struct store *st;
	char *before, *after, *missing;
	(void)state;

	env_make(&v);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.dry_run = 1;
	run(&v, &o, &r);
	assert_int_equal(app_of(&r.users[0], TERM_FAM)->source, APPLY_APP_WINGET);
	assert_int_equal(r.apps_offline, 0);
	assert_int_equal(r.apps_winget, 3);
	apply_report_release(&r);

	before = atu_tree(v.tgt);
	missing = ws_xasprintf("%s/no-such-folder", v.dir);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.app_cache = missing;
	o.target = v.tgt;
	o.device = DEV;
	st = atu_open(v.store);
	ws_error_clear(&e);
	assert_int_equal(apply_scan(st, &o, &r, &e), WS_E_USAGE);
	/* the message is about the folder; the CLI names the option */
	assert_int_equal(e.input, WS_INPUT_APP_CACHE);
	assert_non_null(strstr(e.msg, "offline package folder"));
	apply_report_release(&r);
	store_close(st);
	after = atu_tree(v.tgt);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(missing);
	env_free(&v);
}

static void count_warn(void *ctx, int level, const char *where, const char *msg)
{
	(void)where;
	if (level == WS_LOG_WARN && strstr(msg, "app records"))
		(*(int *)ctx)++;
}

/* A catalog with more app records for one user than apply reads: the rest
 * is ignored with one warning, in bounded time. */
static void too_many_app_records(void **state)
{
	char *dir = tu_tmpdir(), *tgt = ws_xasprintf("%s/tgt", dir), *sd = ws_xasprintf("%s/st", dir);
	struct store_open_opts so = { 0 };
	struct store *st;
	struct store_writer *w;
	struct store_scan_info info = { 0 };
	struct store_user b = { 0, BOB_SID, "bob", "C:\\Users\\bob", 0, STORE_USER_LOCAL };
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	int warned = 0;
	struct ws_log log = { count_warn, &warned, WS_LOG_DEBUG, 0, 0 };
	(void)state;

	atu_fixture(tgt, FX_TARGET, 0, NULL, 2);
	so.create = 1;
	ws_error_clear(&e);
	tu_assert_ok(store_open(sd, &so, &st, &e), &e);
	info.device = DEV;
	info.system_drive = 'C';
	tu_assert_ok(store_scan_begin(st, &info, &w, &e), &e);
	tu_assert_ok(store_scan_add_user(w, &b, &e), &e);
	for (unsigned i = 0; i < 2100; i++) {
		char fam[64], full[96];
		struct store_app ap = { 0, fam, full, "1.0.0.0", "x64", "abcdefghjkmnp", "user" };

		snprintf(fam, sizeof(fam), "Contoso.App%u_abcdefghjkmnp", i);
		snprintf(full, sizeof(full), "Contoso.App%u_1.0.0.0_x64__abcdefghjkmnp", i);
		tu_assert_ok(store_scan_add_app(w, &ap, &e), &e);
	}
	tu_assert_ok(store_scan_commit(w, NULL, &e), &e);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.target = tgt;
	o.device = DEV;
	o.dry_run = 1;
	o.log = &log;
	tu_assert_ok(apply_scan(st, &o, &r, &e), &e);
	assert_int_equal(r.users[0].n_apps, 2000);
	assert_int_equal(r.apps_needs_store, 2000);
	assert_int_equal(warned, 1);
	apply_report_release(&r);
	store_close(st);
	free(tgt);
	free(sd);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reinstall_lists_bundles_and_packages),
		cmocka_unit_test(existing_profile_dry_run_and_undo),
		cmocka_unit_test(without_cache_and_bad_cache),
		cmocka_unit_test(too_many_app_records),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	ws_buf_release(&actions);
	tu_cleanup();
	return rc;
}
