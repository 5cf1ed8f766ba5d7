/* test_ids.c - package identities: full and family names, publisher ids,
 * the Store ProductId table. */
#include "tu.h"

#include <string.h>

#include "apps/apps.h"

static void full_name_parts(void **state)
{
	struct apps_id id;
	struct ws_buf fam = WS_BUF_INIT;

	assert_int_equal(apps_parse_full_name(
		"Microsoft.VCLibs.140.00_14.0.30704.0_x64__8wekyb3d8bbwe", &id), 0);
	assert_string_equal(id.name, "Microsoft.VCLibs.140.00");
	assert_string_equal(id.version, "14.0.30704.0");
	assert_string_equal(id.arch, "x64");
	assert_string_equal(id.resource_id, "");
	assert_string_equal(id.publisher_id, "8wekyb3d8bbwe");
	apps_family_of(&id, &fam);
	assert_string_equal(fam.buf, "Microsoft.VCLibs.140.00_8wekyb3d8bbwe");
	ws_buf_release(&fam);

	/* resource packages and system apps with a "neutral" resource id */
	assert_int_equal(apps_parse_full_name(
		"Microsoft.WindowsCalculator_10.1803.711.0_neutral_split.scale-100_8wekyb3d8bbwe",
		&id), 0);
	assert_string_equal(id.resource_id, "split.scale-100");
	assert_string_equal(id.arch, "neutral");
	assert_int_equal(apps_parse_full_name(
		"1527c705-839a-4832-9118-54d4Bd6a0c89_10.0.16299.15_neutral_neutral_cw5n1h2txyewy",
		&id), 0);
	assert_string_equal(id.name, "1527c705-839a-4832-9118-54d4Bd6a0c89");
	assert_int_equal(apps_parse_full_name("App_1.0.0.0_arm64_~_8wekyb3d8bbwe", &id), 0);
	assert_string_equal(id.resource_id, "~");
}

static void malformed_full_names(void **state)
{
	static const char *bad[] = {
		"",                                                   /* empty */
		"Microsoft.WindowsCalculator_8wekyb3d8bbwe",          /* a family name */
		"App_1.0.0_x64__8wekyb3d8bbwe",                       /* 3-part version */
		"App_1.0.0.70000_x64__8wekyb3d8bbwe",                 /* part > 65535 */
		"App_1.0.0.0_sparc__8wekyb3d8bbwe",                   /* architecture */
		"App_1.0.0.0_x64__8wekyb3d8bbwE",                     /* upper case pub id */
		"App_1.0.0.0_x64__8wekyb3d8bbwi",                     /* 'i' not base32 */
		"App_1.0.0.0_x64__8wekyb3d8bbw",                      /* 12 chars */
		"Ap p_1.0.0.0_x64__8wekyb3d8bbwe",                    /* space */
		"App_1.0.0.0_x64__8wekyb3d8bbwe_extra",               /* 6 parts */
		"_1.0.0.0_x64__8wekyb3d8bbwe",                        /* empty name */
		"App_1.0.0.0_x64_sp@ce_8wekyb3d8bbwe",                /* resource id */
		"App_1..0.0_x64__8wekyb3d8bbwe",
		NULL
	};
	struct apps_id id;

	for (size_t i = 0; bad[i]; i++) {
		if (apps_parse_full_name(bad[i], &id) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(apps_parse_full_name(NULL, &id), -1);
}

static void family_names(void **state)
{
	struct apps_id id;

	assert_int_equal(apps_parse_family_name("SpotifyAB.SpotifyMusic_zpdnekdrzrea0", &id), 0);
	assert_string_equal(id.name, "SpotifyAB.SpotifyMusic");
	assert_string_equal(id.publisher_id, "zpdnekdrzrea0");
	assert_string_equal(id.version, "");
	assert_int_equal(apps_parse_family_name("Microsoft.Windows.Photos", &id), -1);
	assert_int_equal(apps_parse_family_name("a_b_c", &id), -1);
	assert_int_equal(apps_parse_family_name("Some Folder_8wekyb3d8bbwe", &id), -1);
}

static void publisher_ids(void **state)
{
	char pid[14];

	/* Microsoft's Store publisher: the id every Microsoft Store app family carries */
	apps_publisher_id("CN=Microsoft Corporation, O=Microsoft Corporation, "
			  "L=Redmond, S=Washington, C=US", pid);
	assert_string_equal(pid, "8wekyb3d8bbwe");
	/* Windows' own system packages */
	apps_publisher_id("CN=Microsoft Windows, O=Microsoft Corporation, "
			  "L=Redmond, S=Washington, C=US", pid);
	assert_string_equal(pid, "cw5n1h2txyewy");
	apps_publisher_id("CN=Contoso", pid);
	assert_int_equal(strlen(pid), 13);
}

static void arch_and_products(void **state)
{
	assert_true(apps_arch_valid("x64"));
	assert_true(apps_arch_valid("ARM64"));
	assert_true(apps_arch_valid("neutral"));
	assert_false(apps_arch_valid("amd64"));
	assert_string_equal(apps_store_product_id("Microsoft.WindowsTerminal_8wekyb3d8bbwe"),
			    "9N0DX20HK701");
	assert_string_equal(apps_store_product_id("microsoft.windowscalculator_8WEKYB3D8BBWE"),
			    "9WZDNCRFHVN5");
	assert_null(apps_store_product_id("Contoso.Unknown_8wekyb3d8bbwe"));
	assert_string_equal(apps_class_name(APPS_CLASS_FRAMEWORK), "framework");
	assert_string_equal(apps_class_name(APPS_CLASS_USER), "user");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_name_parts),
		cmocka_unit_test(malformed_full_names),
		cmocka_unit_test(family_names),
		cmocka_unit_test(publisher_ids),
		cmocka_unit_test(arch_and_products),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tu_cleanup();
	return rc;
}
