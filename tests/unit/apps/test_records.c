/* test_records.c - the catalog's app records: the app_class encoding
 * (class, deprovisioned- prefix) and back, packages rebuilt from records
 * (malformed names and foreign families refused), the image's
 * AppxAllUserStore sets, processor architecture names. */
#include "tu.h"

#include <string.h>

#include "apps/apps.h"

static void log_fn(void *ctx, int level, const char *where, const char *msg)
{
	(void)ctx; (void)level; (void)where; (void)msg;
}

#define TERM "Microsoft.WindowsTerminal_1.18.3181.0_x64__8wekyb3d8bbwe"
#define TERM_FAM "Microsoft.WindowsTerminal_8wekyb3d8bbwe"

static void class_text_round_trip(void **state)
{
	struct apps_package p;
	struct ws_buf b = WS_BUF_INIT;
	int cls, dep;
	(void)state;

	memset(&p, 0, sizeof(p));
	for (int c = APPS_CLASS_USER; c <= APPS_CLASS_RESOURCE; c++) {
		for (int d = 0; d < 2; d++) {
			p.cls = c;
			p.deprovisioned = d;
			ws_buf_reset(&b);
			apps_class_encode(&p, &b);
			assert_int_equal(apps_class_parse(b.buf, &cls, &dep), 0);
			assert_int_equal(cls, c);
			assert_int_equal(dep, d);
		}
	}
	p.cls = APPS_CLASS_USER;
	p.deprovisioned = 1;
	ws_buf_reset(&b);
	apps_class_encode(&p, &b);
	assert_string_equal(b.buf, "deprovisioned-user");
	assert_int_equal(apps_class_parse("store", &cls, &dep), -1);
	assert_int_equal(apps_class_parse("deprovisioned-", &cls, &dep), -1);
	assert_int_equal(apps_class_parse("User", &cls, &dep), -1);
	assert_int_equal(apps_class_parse(NULL, &cls, &dep), -1);
	ws_buf_release(&b);
}

static void packages_from_records(void **state)
{
	struct apps_list l = APPS_LIST_INIT;
	struct ws_buf js = WS_BUF_INIT;
	(void)state;

	assert_int_equal(apps_list_add_record(&l, TERM_FAM, TERM, "user", "S-1-5-21-1-2-3-1001"), 0);
	assert_int_equal(apps_list_add_record(&l, "", "Contoso.Old_1.0.0.0_x64__abcdefghjkmnp",
					      "deprovisioned-user", NULL), 0);
	assert_int_equal(apps_list_add_record(&l, "Contoso.DataOnly_abcdefghjkmnp", "", "user", NULL), 0);
	assert_int_equal(apps_list_add_record(&l, "", "Microsoft.VCLibs.140.00_14.0.30704.0_x64__8wekyb3d8bbwe",
					      "framework", NULL), 0);
	/* refused: malformed full name, family of another package, unknown class */
	assert_int_equal(apps_list_add_record(&l, "", "not a package", "user", NULL), -1);
	assert_int_equal(apps_list_add_record(&l, "Other_8wekyb3d8bbwe", TERM, "user", NULL), -1);
	assert_int_equal(apps_list_add_record(&l, TERM_FAM, TERM, "store", NULL), -1);
	assert_int_equal(apps_list_add_record(&l, "bad family", "", "user", NULL), -1);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[0].family_name, TERM_FAM);
	assert_string_equal(l.v[0].id.version, "1.18.3181.0");
	assert_string_equal(l.v[0].sid, "S-1-5-21-1-2-3-1001");
	assert_true(apps_is_reinstallable(&l.v[0]));
	assert_true(l.v[1].deprovisioned);
	assert_false(apps_is_reinstallable(&l.v[1]));
	assert_null(l.v[2].full_name);
	assert_false(apps_is_reinstallable(&l.v[2]));
	assert_int_equal(l.v[3].cls, APPS_CLASS_FRAMEWORK);
	assert_false(apps_is_reinstallable(&l.v[3]));
	assert_int_equal(apps_reinstall_json(&l, "2026-01-01T00:00:00.000-00:00", &js), 1);
	assert_non_null(strstr(js.buf, "\"PackageIdentifier\": \"9N0DX20HK701\""));
	assert_null(strstr(js.buf, "Contoso"));
	ws_buf_release(&js);
	apps_list_release(&l);
}

static void image_sets(void **state)
{
	char *dir = tu_tmpdir(), *p = ws_xasprintf("%s/SOFTWARE", dir);
	struct reg_create_opts o = { .minor = 5 };
	struct reg_hive *h;
	struct apps_image img = APPS_IMAGE_INIT;
	struct ws_log log = { log_fn, NULL, WS_LOG_DEBUG, 0, 0 };
	struct ws_error e;
	static const char *const keys[] = {
		APPS_ALLUSER_KEY "\\Applications\\" TERM,
		APPS_ALLUSER_KEY "\\InboxApplications\\Microsoft.WindowsCalculator_11.2210.0.0_x64__8wekyb3d8bbwe",
		APPS_ALLUSER_KEY "\\Applications\\garbage key",
		APPS_ALLUSER_KEY "\\Deprovisioned\\Microsoft.BingNews_8wekyb3d8bbwe",
		NULL
	};
	(void)state;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_create(p, &o, &e), &e);
	tu_assert_ok(reg_hive_open(p, REG_OPEN_WRITE, &h, &e), &e);
	/* no AppxAllUserStore at all: empty sets */
	tu_assert_ok(apps_image_read(h, &img, &log, &e), &e);
	assert_false(apps_image_provides(&img, TERM_FAM));
	apps_image_release(&img);
	for (size_t i = 0; keys[i]; i++) {
		reg_node k;

		tu_assert_ok(reg_key_create(h, reg_root(h), keys[i], &k, &e), &e);
	}
	log.warnings = 0;
	tu_assert_ok(apps_image_read(h, &img, &log, &e), &e);
	assert_int_equal(log.warnings, 1);
	assert_true(apps_image_provides(&img, "microsoft.windowsterminal_8wekyb3d8bbwe"));
	assert_true(apps_image_provides(&img, "Microsoft.WindowsCalculator_8wekyb3d8bbwe"));
	assert_false(apps_image_provides(&img, "Microsoft.BingNews_8wekyb3d8bbwe"));
	assert_int_equal(img.deprovisioned.n, 1);
	apps_image_release(&img);
	reg_hive_close(h);
	free(p);
	free(dir);
}

static void processor_architectures(void **state)
{
	(void)state;
	assert_string_equal(apps_arch_from_processor("AMD64"), "x64");
	assert_string_equal(apps_arch_from_processor("amd64"), "x64");
	assert_string_equal(apps_arch_from_processor("ARM64"), "arm64");
	assert_string_equal(apps_arch_from_processor("x86"), "x86");
	assert_null(apps_arch_from_processor("IA64"));
	assert_null(apps_arch_from_processor(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(class_text_round_trip),
		cmocka_unit_test(packages_from_records),
		cmocka_unit_test(image_sets),
		cmocka_unit_test(processor_architectures),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tu_cleanup();
	return rc;
}
