/* test_offline_nolib.c - the offline package folder when libarchive cannot
 * be loaded (a broken install): dlopen of it fails here (-Wl,--wrap=dlopen,
 * tests/CMakeLists.txt).  The folder is still indexed by file names, and one
 * warning, naming the library, says the manifests were not read. */
#include "tu.h"

#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <string.h>

#include "apps/apps.h"

void *__real_dlopen(const char *file, int mode);
void *__wrap_dlopen(const char *file, int mode);

static unsigned refused;

/* libarchive is never found; anything else is */
void *__wrap_dlopen(const char *file, int mode)
{
	if (file && strstr(file, "libarchive")) {
		refused++;
		return NULL;
	}
	return __real_dlopen(file, mode);
}

struct seen {
	unsigned libarchive;      /* warnings naming libarchive */
	char where[4096];
};

static void log_fn(void *ctx, int level, const char *where, const char *msg)
{
	struct seen *s = ctx;

	if (level == WS_LOG_WARN && strstr(msg, "libarchive") &&
	    strstr(msg, "file name")) {
		s->libarchive++;
		snprintf(s->where, sizeof(s->where), "%s", where);
	}
}

/* A zip holding AppxManifest.xml with the identity `name` (written with the
 * test's own libarchive, linked, not opened). */
static void write_appx(const char *path, const char *name)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	char *text = ws_xasprintf(
		"<Package xmlns=\"http://schemas.microsoft.com/appx/manifest/foundation/windows10\">"
		"<Identity Name=\"%s\" Publisher=\"CN=Contoso\" Version=\"9.9.9.9\" "
		"ProcessorArchitecture=\"x64\"/></Package>", name);

	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	archive_entry_set_pathname(e, "AppxManifest.xml");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)strlen(text));
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	archive_write_data(a, text, strlen(text));
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	free(text);
}

static void names_only_and_one_warning(void **state)
{
	char *dir = tu_tmpdir(), *p;
	struct seen seen = { 0, "" };
	struct ws_log log = { log_fn, &seen, WS_LOG_DEBUG, 0, 0 };
	struct apps_offline off = APPS_OFFLINE_INIT;
	struct ws_error e;

	(void)state;
	/* its manifest names another package: not read, the name wins */
	write_appx(p = ws_xasprintf("%s/Microsoft.WindowsCalculator_11.2210.0.0_x64__8wekyb3d8bbwe.appx",
				    dir), "Contoso.Other");
	free(p);
	write_appx(p = ws_xasprintf("%s/Contoso.Tool_1.0.0.0_neutral__abcdefghjkmnp.msix", dir),
		   "Contoso.Else");
	free(p);
	/* nothing in its name, and its manifest unread: skipped, as always */
	write_appx(p = ws_xasprintf("%s/download.msix", dir), "Contoso.Named");
	free(p);

	ws_error_clear(&e);
	tu_assert_ok(apps_offline_scan(dir, &off, &log, &e), &e);
	assert_true(refused >= 1);
	assert_int_equal(seen.libarchive, 1);
	assert_string_equal(seen.where, dir);
	/* that one and the skipped download.msix */
	assert_int_equal(log.warnings, 2);
	assert_int_equal(off.nfiles, 2);
	for (size_t i = 0; i < off.nfiles; i++) {
		assert_false(off.files[i].from_manifest);
		assert_true(!strcmp(off.files[i].id.name, "Microsoft.WindowsCalculator") ||
			    !strcmp(off.files[i].id.name, "Contoso.Tool"));
	}
	apps_offline_release(&off);

	/* a second scan says it again: each folder is reported on its own */
	ws_error_clear(&e);
	tu_assert_ok(apps_offline_scan(dir, &off, &log, &e), &e);
	assert_int_equal(seen.libarchive, 2);
	apps_offline_release(&off);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_only_and_one_warning),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
