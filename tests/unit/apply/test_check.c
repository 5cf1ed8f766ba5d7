/* test_check.c - the checks of store values before they reach a path, a
 * bundle or the Active Setup command line (apply_check.c), and apply
 * refusing a store whose user has a hostile SID or account name with
 * nothing written to the target. */
#include "apply_tu.h"

#include "apply/apply_private.h"

#define OK_SID "S-1-5-21-1-2-3-1001"

static void sid_check_is_strict(void **state)
{
	const char *good[] = { OK_SID, "S-1-5-18", "S-1-12-1-4163729839-1217663608-249102764-4166813488",
			       "S-1-5-21-4294967295-4294967295-4294967295-4294967295" };
	const char *bad[] = { "../../../../Documents and Settings/pwn",
			      "S-1-5-21-9\" -Command \"calc", "S-1-5-21-9\\..\\x", "s-1-5-18",
			      "S-1-5-21-1-2-3-1001 ", "S-1-5-21-1-2-3-1001\r\n", "S-1-5",
			      "S-1-5-21-4294967296", "", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
			      "S-1-5-021-1", "S-1-0x000000000005-18", "S-1-281474976710656-1",
			      "S-1-5-+18" };
	char longest[200];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!acheck_sid(good[i]))
			fail_msg("'%s' refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (acheck_sid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
	assert_false(acheck_sid(NULL));
	/* 15 subauthorities of 10 digits after a 15-digit authority: 184 chars */
	snprintf(longest, sizeof(longest), "S-1-281474976710655");
	for (int i = 0; i < 15; i++)
		strcat(longest, "-4294967295");
	assert_int_equal(strlen(longest), 184);
	assert_true(acheck_sid(longest));
}

static void account_check(void **state)
{
	const char *good[] = { "bob", "CONTOSO\\o'brien", "carol@contoso.com", "AzureAD\\Ann Lee",
			       "NEWDOM\\carol", "Jos\xC3\xA9" };
	const char *bad[] = { "", "a\\b\\c", "\\bob", "bob\\", "..\\bob", "DOM\\..", ".",
			      "bo\"b", "bob\r\nsid=S-1-5-18", "a/b", "a:b", "b*", "%USERNAME%",
			      " bob", "bob ", "b\x7F", "b\xC2\x85", "b\xFF" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!acheck_account(good[i]))
			fail_msg("'%s' refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (acheck_account(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
	assert_true(acheck_name("OLD-PC \xC3\xA9"));
	assert_false(acheck_name("PC\nx"));
	assert_false(acheck_name(""));
}

static void win_dir_and_token(void **state)
{
	(void)state;
	assert_true(acheck_win_dir("C:\\ProgramData"));
	assert_true(acheck_win_dir("D:\\Program Data (x86)\\a_b-c"));
	assert_false(acheck_win_dir("C:\\ProgramData\\"));
	assert_false(acheck_win_dir("C:\\Pro'gram"));
	assert_false(acheck_win_dir("C:\\Pro\"gram"));
	assert_false(acheck_win_dir("C:\\%TEMP%"));
	assert_false(acheck_win_dir("C:\\a\\..\\b"));
	assert_false(acheck_win_dir("C:\\a\\\\b"));
	assert_false(acheck_win_dir("\\\\server\\share"));
	assert_false(acheck_win_dir("C:ProgramData"));
	assert_true(acheck_token("Microsoft.WindowsCalculator_8wekyb3d8bbwe", 128));
	assert_true(acheck_token("9WZDNCRFHVN5", 32));
	assert_false(acheck_token("a b", 32));
	assert_false(acheck_token("..", 32));
	assert_false(acheck_token("x\ty", 32));
	assert_false(acheck_token("abc", 2));
}

static void bundle_keys(void **state)
{
	struct ws_buf a = WS_BUF_INIT, b = WS_BUF_INIT;

	(void)state;
	acheck_bundle_key(OK_SID, "whatever", &a);
	assert_string_equal(a.buf, OK_SID);
	ws_buf_reset(&a);
	/* ASCII case folded, SHA-256 (Python's hashlib gives the same) */
	acheck_bundle_key(NULL, "CONTOSO\\Bob", &a);
	acheck_bundle_key("", "contoso\\bob", &b);
	assert_string_equal(a.buf, b.buf);
	assert_string_equal(a.buf, "A-19e18005e6581eeb51370a426817259e");
	assert_memory_equal(a.buf, "A-", 2);
	for (size_t i = 2; i < a.len; i++)
		assert_non_null(strchr("0123456789abcdef", a.buf[i]));
	ws_buf_reset(&b);
	acheck_bundle_key(NULL, "CONTOSO\\Bobby", &b);
	assert_string_not_equal(a.buf, b.buf);
	ws_buf_release(&a);
	ws_buf_release(&b);
}

/* ps_quote (through bundle_command): ' and the curly quotes PowerShell also
 * ends a single-quoted string at are doubled; control characters dropped. */
static void quoting_for_powershell(void **state)
{
	struct ws_buf b = WS_BUF_INIT;

	(void)state;
	bundle_command("C:\\a'b\xE2\x80\x99" "c\xE2\x80\x98" "d\x01", "setup", &b);
	assert_non_null(strstr(b.buf, "$r='C:\\a''b\xE2\x80\x99\xE2\x80\x99" "c\xE2\x80\x98\xE2\x80\x98" "d';"));
	assert_non_null(strstr(b.buf, " 'setup' $r\""));
	ws_buf_release(&b);
}

/* A store whose user is hostile: apply (and its dry run) refuses with
 * WS_E_UNSUPPORTED naming the user; the target is unchanged. */
static void refuse(const char *sid, const char *account, const char *expect)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	struct atu_file files[] = { { "C:\\Users\\eve\\Documents\\n.txt", "note" } };
	char *before, *after;

	atu_init(&t);
	atu_fixture(t.tgt, FX_TARGET, 0, "alice", 2);
	snprintf(t.device, sizeof(t.device), "OLDPC");
	atu_store_make(t.store, "OLDPC", sid, account, "C:\\Users\\eve", NULL, 0, files, 1);
	before = atu_tree(t.tgt);
	for (int dry = 1; dry >= 0; dry--) {
		apply_opts_init(&o);
		o.allow_plain_target = 1;
		o.dry_run = dry;
		assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_UNSUPPORTED);
		apply_report_release(&r);
		if (!strstr(e.msg, expect) || !strstr(e.msg, "nothing was written"))
			fail_msg("message: %s", e.msg);
		after = atu_tree(t.tgt);
		assert_string_equal(before, after);
		free(after);
	}
	free(before);
	atu_release(&t);
}

static void hostile_store_users_are_refused(void **state)
{
	(void)state;
	refuse("../../../../Documents and Settings/pwn", "eve", "a SID that is not");
	refuse("S-1-5-21-9\" -Command \"calc", "eve", "Command");
	refuse(OK_SID, "eve\" -Command \"calc", "an account name");
	refuse(OK_SID, "..\\..\\eve", "an account name");
	refuse(OK_SID, "eve\r\nsid=S-1-5-18", "eve\\x0D\\x0Asid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sid_check_is_strict),
		cmocka_unit_test(account_check),
		cmocka_unit_test(win_dir_and_token),
		cmocka_unit_test(bundle_keys),
		cmocka_unit_test(quoting_for_powershell),
		cmocka_unit_test(hostile_store_users_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
