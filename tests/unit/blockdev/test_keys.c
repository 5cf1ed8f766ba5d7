/* test_keys.c - BitLocker key sets: recovery password checks, the CSV
 * exports of AD, Intune and MBAM, errors naming file:line without a key. */
#include "tu.h"

#include <string.h>

#include "blockdev/blockdev.h"

#define RP1 "235818-357951-253979-013365-241120-245575-342914-591910"
#define ID1 "64311dea-4587-4029-924a-ba299647998e"

static struct bd_keys *parse(const char *text, int want_rc, struct ws_error *err)
{
	struct bd_keys *k = bd_keys_new();

	ws_error_clear(err);
	assert_int_equal(bd_keys_parse_csv(k, "keys.csv", text, strlen(text), err), want_rc);
	return k;
}

static void key_at(const struct bd_keys *k, size_t i, const char *id, const char *origin,
		   const char *computer)
{
	enum bd_key_kind kind;
	const char *kid, *ko, *kc;

	assert_true(bd_keys_get(k, i, &kind, &kid, &ko, &kc));
	assert_int_equal(kind, BD_KEY_RECOVERY);
	assert_string_equal(kid, id);
	assert_string_equal(ko, origin);
	if (computer)
		assert_string_equal(kc, computer);
}

static void recovery_password_checksum(void **state)
{
	struct bd_keys *k = bd_keys_new();
	struct ws_error err;

	tu_assert_ok(bd_keys_add(k, BD_KEY_RECOVERY, RP1, NULL, "a", &err), &err);
	/* without separators, with spaces */
	tu_assert_ok(bd_keys_add(k, BD_KEY_RECOVERY,
				 "235818357951253979013365241120245575342914591910", NULL, "b", &err), &err);
	tu_assert_ok(bd_keys_add(k, BD_KEY_RECOVERY,
				 "235818 357951 253979 013365 241120 245575 342914 591910", "{" ID1 "}",
				 "c", &err), &err);
	/* one digit off: group not a multiple of 11 */
	assert_int_equal(bd_keys_add(k, BD_KEY_RECOVERY,
				     "235819-357951-253979-013365-241120-245575-342914-591910", NULL,
				     "d", &err), WS_E_USAGE);
	assert_null(strstr(err.msg, "235819"));
	assert_string_equal(err.where, "d");
	/* a multiple of 11 but >= 720896 */
	assert_int_equal(bd_keys_add(k, BD_KEY_RECOVERY,
				     "720896-357951-253979-013365-241120-245575-342914-591910", NULL,
				     "e", &err), WS_E_USAGE);
	/* 47 digits, letters, bad GUID */
	assert_int_equal(bd_keys_add(k, BD_KEY_RECOVERY,
				     "23581-357951-253979-013365-241120-245575-342914-591910", NULL,
				     "f", &err), WS_E_USAGE);
	assert_int_equal(bd_keys_add(k, BD_KEY_RECOVERY, "x35818-357951-253979-013365-241120-245575-342914-591910",
				     NULL, "g", &err), WS_E_USAGE);
	assert_int_equal(bd_keys_add(k, BD_KEY_RECOVERY, RP1, "not-a-guid", "h", &err), WS_E_USAGE);
	assert_int_equal(bd_keys_add(k, BD_KEY_PASSWORD, "", NULL, "i", &err), WS_E_USAGE);
	assert_int_equal(bd_keys_count(k), 3);
	key_at(k, 2, ID1, "c", "");
	bd_keys_free(k);
}

static void guid_find_forms(void **state)
{
	char g[37];

	assert_true(bd_guid_find("{64311DEA-4587-4029-924A-BA299647998E}", g));
	assert_string_equal(g, ID1);
	assert_true(bd_guid_find("2019-07-04T09:01:55-00:00{64311DEA-4587-4029-924A-BA299647998E}", g));
	assert_string_equal(g, ID1);
	assert_true(bd_guid_find("CN=2019-07-04T09:01:55-00:00{64311dea-4587-4029-924a-ba299647998e},CN=PC01,OU=x", g));
	assert_string_equal(g, ID1);
	assert_false(bd_guid_find("64311dea-4587-4029-924a-ba299647998", g));
	assert_false(bd_guid_find("64311dea-4587-4029-924a-ba299647998e0", g));
	assert_false(bd_guid_find("", g));
}

static void intune_with_bom_crlf_quotes_braces(void **state)
{
	struct ws_error err;
	struct bd_keys *k = parse("\xEF\xBB\xBF\"Device Name\",\"BitLocker Key ID\",\"BitLocker Recovery Key\"\r\n"
				  "\"PC-1\",\"{64311DEA-4587-4029-924A-BA299647998E}\",\"" RP1 "\"\r\n"
				  "\r\n"
				  "\"PC, two\",\"{11111111-2222-3333-4444-555555555555}\",\"\"\r\n",
				  WS_OK, &err);

	assert_int_equal(bd_keys_count(k), 1);
	assert_int_equal(bd_keys_skipped(k), 1);
	key_at(k, 0, ID1, "keys.csv:2", "PC-1");
	bd_keys_free(k);
}

static void ad_name_column_holds_the_id(void **state)
{
	struct ws_error err;
	struct bd_keys *k = parse("ComputerName,Name,DistinguishedName,msFVE-RecoveryPassword\n"
				  "PC01,2019-07-04T09:01:55-00:00{64311DEA-4587-4029-924A-BA299647998E},"
				  "\"CN=2019-07-04T09:01:55-00:00{64311DEA-4587-4029-924A-BA299647998E},CN=PC01,DC=x\","
				  RP1 "\n", WS_OK, &err);

	key_at(k, 0, ID1, "keys.csv:2", "PC01");
	bd_keys_free(k);
	/* msFVE-RecoveryGuid exported as PowerShell prints a byte array: the Name has the ID */
	k = parse("Name,msFVE-RecoveryGuid,msFVE-RecoveryPassword\n"
		  "2019-07-04T09:01:55-00:00{64311DEA-4587-4029-924A-BA299647998E},System.Byte[],"
		  RP1 "\n", WS_OK, &err);
	key_at(k, 0, ID1, "keys.csv:2", "");
	bd_keys_free(k);
}

static void mbam_integer_id_is_not_the_key_id(void **state)
{
	struct ws_error err;
	struct bd_keys *k = parse("Id;RecoveryKeyId;RecoveryKey;VolumeId\n"
				  "17;" ID1 ";" RP1 ";aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\n", WS_OK, &err);

	key_at(k, 0, ID1, "keys.csv:2", "");
	bd_keys_free(k);
	/* PowerShell Get-BitLockerVolume: KeyProtectorId, RecoveryPassword; tab separated */
	k = parse("KEYPROTECTORID\tRECOVERYPASSWORD\tComputer\n{" ID1 "}\t" RP1 "\tPC7\n", WS_OK, &err);
	key_at(k, 0, ID1, "keys.csv:2", "PC7");
	bd_keys_free(k);
	/* Graph bitlockerRecoveryKey: id, deviceId (another GUID), key */
	k = parse("id,createdDateTime,volumeType,deviceId,key\n" ID1
		  ",2024-01-01,1,aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee," RP1 "\n", WS_OK, &err);
	key_at(k, 0, ID1, "keys.csv:2", "");
	bd_keys_free(k);
}

static void errors_name_file_and_line_never_the_key(void **state)
{
	struct ws_error err;
	struct bd_keys *k;

	k = parse("KeyProtectorId,RecoveryPassword\n" ID1 "," RP1 "\n"
		  ID1 ",235818-357951-253979-013365-241120-245575-342914-591911\n",
		  WS_E_USAGE, &err);
	assert_string_equal(err.where, "keys.csv");
	assert_int_equal(err.line, 3);
	assert_int_equal(err.col, 2);
	assert_null(strstr(err.msg, "591911"));
	bd_keys_free(k);

	k = parse("KeyProtectorId,RecoveryPassword\nnot-a-guid," RP1 "\n", WS_E_USAGE, &err);
	assert_int_equal(err.line, 2);
	assert_null(strstr(err.msg, "357951"));
	bd_keys_free(k);

	k = parse("Computer,Password\nPC," RP1 "\n", WS_E_USAGE, &err);
	assert_int_equal(err.line, 1);
	assert_non_null(strstr(err.msg, "key protector ID"));
	bd_keys_free(k);

	k = parse("KeyId,Something\n" ID1 ",x\n", WS_E_USAGE, &err);
	assert_non_null(strstr(err.msg, "recovery password"));
	bd_keys_free(k);

	k = parse("KeyId,Key\n\"" ID1 "," RP1 "\n", WS_E_USAGE, &err);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "quoted"));
	bd_keys_free(k);

	k = parse("", WS_E_USAGE, &err);
	bd_keys_free(k);
	k = parse("KeyId,Key\n\xff\xfe\n", WS_E_USAGE, &err);
	bd_keys_free(k);
}

static void quoted_newline_keeps_line_numbers(void **state)
{
	struct ws_error err;
	struct bd_keys *k = parse("Computer,Note,KeyId,Key\n"
				  "PC1,\"two\nlines\"," ID1 "," RP1 "\n"
				  "PC2,x,{11111111-2222-3333-4444-555555555555},12\n", WS_E_USAGE, &err);

	assert_int_equal(bd_keys_count(k), 1);
	key_at(k, 0, ID1, "keys.csv:2", "PC1");
	assert_int_equal(err.line, 4);
	bd_keys_free(k);
}

static void thousand_keys_load_from_file(void **state)
{
	char *dir = tu_tmpdir(), *path;
	struct ws_buf b = WS_BUF_INIT;
	struct bd_keys *k = bd_keys_new();
	struct ws_error err;

	ws_buf_adds(&b, "ComputerName,PasswordID,RecoveryPassword\n");
	for (int i = 0; i < 1000; i++) {
		ws_buf_addf(&b, "PC%d,{%08x-0000-4000-8000-%012d},", i, i, i);
		for (int g = 0; g < 8; g++)
			ws_buf_addf(&b, "%06d%s", 11 * ((i * 7 + g) % 65536), g < 7 ? "-" : "\n");
	}
	path = ws_xasprintf("%s/keys.csv", dir);
	tu_write_file(path, b.buf, b.len);
	tu_assert_ok(bd_keys_load_csv(k, path, &err), &err);
	assert_int_equal(bd_keys_count(k), 1000);
	{
		const char *id, *origin;

		assert_true(bd_keys_get(k, 999, NULL, &id, &origin, NULL));
		assert_string_equal(id, "000003e7-0000-4000-8000-000000000999");
		assert_non_null(strstr(origin, "keys.csv:1001"));
	}
	bd_keys_free(k);
	k = bd_keys_new();
	assert_int_equal(bd_keys_load_csv(k, dir, &err), WS_E_USAGE);
	bd_keys_free(k);
	ws_buf_release(&b);
	free(path);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(recovery_password_checksum),
		cmocka_unit_test(guid_find_forms),
		cmocka_unit_test(intune_with_bom_crlf_quotes_braces),
		cmocka_unit_test(ad_name_column_holds_the_id),
		cmocka_unit_test(mbam_integer_id_is_not_the_key_id),
		cmocka_unit_test(errors_name_file_and_line_never_the_key),
		cmocka_unit_test(quoted_newline_keeps_line_numbers),
		cmocka_unit_test(thousand_keys_load_from_file),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tu_cleanup();
	return rc;
}
