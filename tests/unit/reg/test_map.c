/* test_map.c - live registry paths to hive kinds and inner paths. */
#include "tu.h"

#include <string.h>

#include "reg/reg_map.h"

static void expect(const char *path, enum reg_hive_kind kind, const char *inner)
{
	struct ws_buf b = WS_BUF_INIT;
	enum reg_hive_kind k;
	struct ws_error e;

	ws_error_clear(&e);
	tu_assert_ok(reg_map_path(path, &k, &b, &e), &e);
	assert_int_equal(k, kind);
	assert_string_equal(b.buf, inner);
	ws_buf_release(&b);
}

static void user_paths(void **state)
{
	expect("HKCU\\Control Panel\\Desktop", REG_HIVE_NTUSER, "Control Panel\\Desktop");
	expect("hkey_current_user\\Software\\Microsoft\\", REG_HIVE_NTUSER, "Software\\Microsoft");
	expect("HKCU", REG_HIVE_NTUSER, "");
	expect("HKCU\\", REG_HIVE_NTUSER, "");
	expect("HKCU\\Software\\Classes", REG_HIVE_USRCLASS, "");
	expect("hkcu\\SOFTWARE\\classes\\.txt\\\\", REG_HIVE_USRCLASS, ".txt");
	expect("HKCU\\Software\\ClassesX", REG_HIVE_NTUSER, "Software\\ClassesX");
	expect("HKCU\\Software", REG_HIVE_NTUSER, "Software");
}

static void machine_paths(void **state)
{
	expect("HKLM\\SOFTWARE\\Microsoft\\Windows NT", REG_HIVE_SOFTWARE, "Microsoft\\Windows NT");
	expect("HKEY_LOCAL_MACHINE\\software", REG_HIVE_SOFTWARE, "");
	expect("HKLM\\System\\CurrentControlSet\\Control", REG_HIVE_SYSTEM, "CurrentControlSet\\Control");
	expect("hklm\\sam\\SAM", REG_HIVE_SAM, "SAM");
	expect("HKLM\\SECURITY\\Policy\\", REG_HIVE_SECURITY, "Policy");
	expect("HKCR\\.txt", REG_HIVE_SOFTWARE, "Classes\\.txt");
	expect("HKEY_CLASSES_ROOT", REG_HIVE_SOFTWARE, "Classes");
}

static void unknown_roots(void **state)
{
	static const char *const bad[] = { "HKU\\S-1-5-18", "HKCC\\Software", "HKLM",
					   "HKLM\\HARDWARE\\DESCRIPTION", "", "Software\\X" };
	struct ws_buf b = WS_BUF_INIT;
	enum reg_hive_kind k;
	struct ws_error e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ws_error_clear(&e);
		assert_int_equal(reg_map_path(bad[i], &k, &b, &e), WS_E_UNSUPPORTED);
		assert_string_equal(e.where, bad[i]);
		assert_int_equal(k, REG_HIVE_NONE);
	}
	ws_buf_release(&b);
}

static void roots_and_files(void **state)
{
	assert_string_equal(reg_map_root(REG_HIVE_USRCLASS), "HKCU\\Software\\Classes");
	assert_string_equal(reg_map_root(REG_HIVE_SYSTEM), "HKLM\\SYSTEM");
	assert_string_equal(reg_map_root(REG_HIVE_NONE), "");
	assert_string_equal(reg_map_hive_file(REG_HIVE_NTUSER), "NTUSER.DAT");
	assert_string_equal(reg_map_hive_file(REG_HIVE_USRCLASS),
			    "AppData/Local/Microsoft/Windows/UsrClass.dat");
	assert_string_equal(reg_map_hive_file(REG_HIVE_SOFTWARE), "Windows/System32/config/SOFTWARE");
	/* every root maps back to its own kind */
	for (int k = REG_HIVE_NTUSER; k <= REG_HIVE_SECURITY; k++) {
		char *p = ws_xasprintf("%s\\X", reg_map_root(k));

		expect(p, k, "X");
		free(p);
	}
}

static void current_control_set(void **state)
{
	char *d = tu_tmpdir();
	char *p = ws_xasprintf("%s/SYSTEM", d);
	struct reg_create_opts o = { .root_name = "SYSTEM" };
	struct ws_buf b = WS_BUF_INIT;
	struct reg_hive *h;
	struct ws_error e;
	reg_node sel;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_create(p, &o, &e), &e);
	tu_assert_ok(reg_hive_open(p, REG_OPEN_WRITE, &h, &e), &e);
	assert_int_equal(reg_map_current_control_set(h, "CurrentControlSet\\X", &b, &e), WS_E_HIVE);
	tu_assert_ok(reg_key_create(h, reg_root(h), "Select", &sel, &e), &e);
	tu_assert_ok(reg_set_dword(h, sel, "Current", 2, &e), &e);
	tu_assert_ok(reg_map_current_control_set(h, "currentcontrolset\\Control\\ComputerName", &b, &e), &e);
	assert_string_equal(b.buf, "ControlSet002\\Control\\ComputerName");
	ws_buf_reset(&b);
	tu_assert_ok(reg_map_current_control_set(h, "CurrentControlSet", &b, &e), &e);
	assert_string_equal(b.buf, "ControlSet002");
	ws_buf_reset(&b);
	tu_assert_ok(reg_map_current_control_set(h, "Select\\", &b, &e), &e);
	assert_string_equal(b.buf, "Select");
	ws_buf_release(&b);
	reg_hive_close(h);
	free(p);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(user_paths),
		cmocka_unit_test(machine_paths),
		cmocka_unit_test(unknown_roots),
		cmocka_unit_test(roots_and_files),
		cmocka_unit_test(current_control_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
