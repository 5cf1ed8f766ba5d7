/* test_offline.c - the admin's offline package folder: identities from file
 * names and from the manifest inside the zip, package/dependency/license
 * matching per app. */
#include "tu.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>

#include "apps/apps.h"

static void log_fn(void *ctx, int level, const char *where, const char *msg)
{
	(void)ctx; (void)level; (void)where; (void)msg;
}

/* A zip holding one file `member` with `text`. */
static void write_zip(const char *path, const char *member, const char *text)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	archive_entry_set_pathname(e, member);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)strlen(text));
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, text, strlen(text)), (la_ssize_t)strlen(text));
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
}

static void touch(const char *dir, const char *name, const char *text)
{
	char *p = ws_xasprintf("%s/%s", dir, name);

	tu_write_file(p, text, strlen(text));
	free(p);
}

static struct apps_package app(const char *full)
{
	struct apps_package p;
	struct ws_buf fam = WS_BUF_INIT;

	memset(&p, 0, sizeof(p));
	assert_int_equal(apps_parse_full_name(full, &p.id), 0);
	apps_family_of(&p.id, &fam);
	p.full_name = (char *)full;
	p.family_name = ws_buf_detach(&fam, NULL);
	p.cls = APPS_CLASS_USER;
	p.installed = 1;
	return p;
}

#define MS_PUB "CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US"

static void folder_with_names_and_manifests(void **state)
{
	char *dir = tu_tmpdir();
	char *p;
	struct apps_offline off = APPS_OFFLINE_INIT;
	struct ws_log log = { log_fn, NULL, WS_LOG_DEBUG, 0, 0 };
	struct ws_error e;
	struct apps_package term = app("Microsoft.WindowsTerminal_1.18.3181.0_x64__8wekyb3d8bbwe");
	struct apps_package spot = app("SpotifyAB.SpotifyMusic_1.220.784.0_x86__zpdnekdrzrea0");
	struct apps_package other = app("Contoso.Absent_1.0.0.0_x64__abcdefghjkmnp");
	struct apps_offline_hit hit;

	/* a bundle named as the Store names it, with a real bundle manifest */
	p = ws_xasprintf("%s/terminal-download.msixbundle", dir);
	write_zip(p, "AppxMetadata/AppxBundleManifest.xml",
		  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		  "<Bundle xmlns=\"http://schemas.microsoft.com/appx/2013/bundle\">"
		  "<Identity Name=\"Microsoft.WindowsTerminal\" Publisher=\"" MS_PUB "\" "
		  "Version=\"1.19.10573.0\"/><Packages/></Bundle>");
	free(p);
	/* an older copy known only by its file name */
	write_zip(p = ws_xasprintf("%s/Microsoft.WindowsTerminal_1.17.0.0_x64__8wekyb3d8bbwe.msix", dir),
		  "readme.txt", "no manifest");
	free(p);
	/* framework with Properties/Framework true in its manifest */
	p = ws_xasprintf("%s/vclibs.appx", dir);
	write_zip(p, "AppxManifest.xml",
		  "<Package xmlns=\"http://schemas.microsoft.com/appx/manifest/foundation/windows10\">"
		  "<Identity Name=\"Microsoft.VCLibs.140.00\" Publisher=\"" MS_PUB "\" "
		  "Version=\"14.0.30704.0\" ProcessorArchitecture=\"x64\"/>"
		  "<Properties><Framework>true</Framework></Properties></Package>");
	free(p);
	write_zip(p = ws_xasprintf("%s/Microsoft.VCLibs.140.00_14.0.30704.0_x86__8wekyb3d8bbwe.Appx", dir),
		  "x", "x");
	free(p);
	write_zip(p = ws_xasprintf("%s/Microsoft.UI.Xaml.2.8_8.2310.30001.0_arm64__8wekyb3d8bbwe.appx", dir),
		  "x", "x");
	free(p);
	/* x86 Spotify named Name_Version_Arch; its license */
	touch(dir, "SpotifyAB.SpotifyMusic_1.220.784.0_x86.appx", "not even a zip");
	touch(dir, "SpotifyAB.SpotifyMusic_zpdnekdrzrea0_License1.xml", "<License/>");
	touch(dir, "Microsoft.WindowsTerminal_8wekyb3d8bbwe_License1.xml", "<License/>");
	/* noise: unparsable name and no manifest; unrelated files */
	touch(dir, "random.msix", "junk");
	touch(dir, "notes.txt", "x");

	ws_error_clear(&e);
	tu_assert_ok(apps_offline_scan(dir, &off, &log, &e), &e);
	assert_int_equal(log.warnings, 1);
	assert_int_equal(off.nfiles, 6);
	assert_int_equal(off.nlicenses, 2);

	assert_int_equal(apps_offline_find(&off, &term, NULL, &hit), 1);
	assert_string_equal(hit.package->file, "terminal-download.msixbundle");
	assert_true(hit.package->from_manifest);
	assert_true(hit.package->bundle);
	assert_string_equal(hit.package->family_name, "Microsoft.WindowsTerminal_8wekyb3d8bbwe");
	assert_string_equal(hit.package->id.version, "1.19.10573.0");
	/* x64 frameworks only: the x64 VCLibs (from its manifest) */
	assert_int_equal(hit.ndeps, 1);
	assert_string_equal(hit.deps[0]->file, "vclibs.appx");
	assert_true(hit.deps[0]->from_manifest);
	assert_non_null(strstr(hit.license, "Microsoft.WindowsTerminal_8wekyb3d8bbwe_License1.xml"));
	apps_offline_hit_release(&hit);

	/* the x86 app on an x64 target: x86 package, x64 dependency */
	assert_int_equal(apps_offline_find(&off, &spot, "x64", &hit), 1);
	assert_string_equal(hit.package->file, "SpotifyAB.SpotifyMusic_1.220.784.0_x86.appx");
	assert_false(hit.package->from_manifest);
	assert_string_equal(hit.package->family_name, "");
	assert_non_null(strstr(hit.license, "SpotifyAB.SpotifyMusic_zpdnekdrzrea0_License1.xml"));
	apps_offline_hit_release(&hit);
	/* the same on an x86 target takes the x86 VCLibs */
	assert_int_equal(apps_offline_find(&off, &spot, "x86", &hit), 1);
	assert_int_equal(hit.ndeps, 1);
	assert_string_equal(hit.deps[0]->id.arch, "x86");
	apps_offline_hit_release(&hit);

	assert_int_equal(apps_offline_find(&off, &other, NULL, &hit), 0);
	assert_null(hit.package);
	apps_offline_hit_release(&hit);

	free(term.family_name);
	free(spot.family_name);
	free(other.family_name);
	apps_offline_release(&off);
	free(dir);
}

static void hostile_manifest_and_missing_folder(void **state)
{
	char *dir = tu_tmpdir();
	char *p = ws_xasprintf("%s/Contoso.Bomb_1.0.0.0_x64__abcdefghjkmnp.msix", dir);
	struct apps_offline off = APPS_OFFLINE_INIT;
	struct ws_error e;

	/* an entity bomb in the manifest: refused, the file name still counts */
	write_zip(p, "AppxManifest.xml",
		  "<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY a \"aaaaaaaaaa\">"
		  "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
		  "<Package><Identity Name=\"&b;\" Publisher=\"CN=x\" Version=\"1.0.0.0\"/></Package>");
	ws_error_clear(&e);
	tu_assert_ok(apps_offline_scan(dir, &off, NULL, &e), &e);
	assert_int_equal(off.nfiles, 1);
	assert_false(off.files[0].from_manifest);
	assert_string_equal(off.files[0].id.name, "Contoso.Bomb");
	apps_offline_release(&off);
	free(p);

	p = ws_xasprintf("%s/absent", dir);
	assert_int_equal(apps_offline_scan(p, &off, NULL, &e), WS_E_IO);
	assert_non_null(strstr(e.where, "absent"));
	free(p);
	free(dir);
}

static void highest_version_and_missing_dependencies(void **state)
{
	char *dir = tu_tmpdir();
	char *p;
	struct apps_offline off = APPS_OFFLINE_INIT;
	struct ws_error e;
	struct apps_package a = app("Contoso.Notes_2.0.0.0_arm64__abcdefghjkmnp");
	struct apps_offline_hit hit;
	static const char *names[] = {
		"Contoso.Notes_1.9.0.0_arm64__abcdefghjkmnp.msix",
		"Contoso.Notes_1.10.0.0_arm64__abcdefghjkmnp.msix",
		"Contoso.Notes_1.11.0.0_x64__abcdefghjkmnp.msix",
		"Contoso.Notes_1.2.0.0_neutral__abcdefghjkmnp.msix",
		"Microsoft.VCLibs.140.00_14.0.30704.0_x64__8wekyb3d8bbwe.appx",
		"Contoso.Notes_License.xml",
		NULL
	};

	for (size_t i = 0; names[i]; i++) {
		p = ws_xasprintf("%s/%s", dir, names[i]);
		tu_write_file(p, "x", 1);
		free(p);
	}
	ws_error_clear(&e);
	tu_assert_ok(apps_offline_scan(dir, &off, NULL, &e), &e);
	assert_int_equal(off.nfiles, 5);
	assert_int_equal(apps_offline_find(&off, &a, NULL, &hit), 1);
	/* 1.10 beats 1.9 numerically; the x64 build does not fit an arm64 app */
	assert_string_equal(hit.package->id.version, "1.10.0.0");
	assert_int_equal(hit.ndeps, 0);
	/* license named Name_License.xml */
	assert_non_null(hit.license);
	apps_offline_hit_release(&hit);
	free(a.family_name);
	apps_offline_release(&off);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(folder_with_names_and_manifests),
		cmocka_unit_test(highest_version_and_missing_dependencies),
		cmocka_unit_test(hostile_manifest_and_missing_folder),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tu_cleanup();
	return rc;
}
