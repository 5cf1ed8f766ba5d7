/* test_tools.c - hives created by reg_hive_create and filled through reg/
 * are read back by independent readers when installed: libregf's regfinfo
 * and regfexport, reglookup, hivexregedit (Perl) and Python's hivex. */
#include "tu.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reg/reg.h"

#define NKEYS 300
#define PRIVET "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* A hive of format 1.<minor> with NKEYS keys of 3 values each, plus Unicode. */
static char *make_hive(unsigned minor)
{
	char *d = tu_tmpdir();
	char *p = ws_xasprintf("%s/hive%u.dat", d, minor);
	struct reg_create_opts o = { .minor = minor, .owner_sid = "S-1-5-21-1-2-3-1001",
				     .file_name = "\\??\\C:\\Users\\alice\\ntuser.dat" };
	struct reg_hive *h;
	struct ws_error e;
	reg_node k;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_create(p, &o, &e), &e);
	tu_assert_ok(reg_hive_open(p, REG_OPEN_WRITE, &h, &e), &e);
	for (int i = 0; i < NKEYS; i++) {
		char path[64], bin[40];

		snprintf(path, sizeof(path), "Software\\Vendor\\Key%03d", i);
		memset(bin, i & 0xff, sizeof(bin));
		tu_assert_ok(reg_key_create(h, reg_root(h), path, &k, &e), &e);
		tu_assert_ok(reg_set_dword(h, k, "Dw", (uint32_t)i, &e), &e);
		tu_assert_ok(reg_set_string(h, k, "Str", REG_SZ, path, &e), &e);
		tu_assert_ok(reg_set_binary(h, k, "Bin", bin, sizeof(bin), &e), &e);
	}
	tu_assert_ok(reg_key_create(h, reg_root(h), PRIVET, &k, &e), &e);
	tu_assert_ok(reg_set_string(h, k, "", REG_SZ, "default", &e), &e);
	tu_assert_ok(reg_hive_commit(h, NULL, &e), &e);
	reg_hive_close(h);
	free(d);
	return p;
}

static void check_readers(unsigned minor)
{
	char *p = make_hive(minor);
	struct ws_buf out = WS_BUF_INIT;
	char *cmd;
	int ran = 0;

	if (tu_have("regfinfo")) {
		cmd = ws_xasprintf("regfinfo '%s' 2>&1", p);
		assert_int_equal(tu_run(cmd, &out), 0);
		free(cmd);
		assert_non_null(strstr(out.buf, minor == 3 ? "1.3" : "1.5"));
		ran++;
	}
	if (tu_have("regfexport")) {
		cmd = ws_xasprintf("regfexport '%s' 2>&1", p);
		assert_int_equal(tu_run(cmd, &out), 0);
		free(cmd);
		assert_null(strstr(out.buf, "rror"));
		assert_int_equal(count(out.buf, "Key path: ROOT\\Software\\Vendor\\Key"), NKEYS);
		assert_int_equal(count(out.buf, "Value: 0 Dw"), NKEYS);
		assert_non_null(strstr(out.buf, "Key path: ROOT\\Software\\Vendor\\Key299"));
		assert_non_null(strstr(out.buf, "Key path: ROOT\\" PRIVET));
		ran++;
	}
	if (tu_have("reglookup")) {
		cmd = ws_xasprintf("reglookup '%s' 2>/dev/null", p);
		assert_int_equal(tu_run(cmd, &out), 0);
		free(cmd);
		/* root, Software, Vendor, NKEYS keys, the Unicode key */
		assert_int_equal(count(out.buf, ",KEY,"), NKEYS + 4);
		assert_int_equal(count(out.buf, ",DWORD,"), NKEYS);
		assert_non_null(strstr(out.buf, "/Software/Vendor/Key123/Dw,DWORD,0x0000007B,"));
		ran++;
	}
	if (tu_have("hivexregedit")) {
		cmd = ws_xasprintf("hivexregedit --export '%s' '\\' 2>/dev/null", p);
		assert_int_equal(tu_run(cmd, &out), 0);
		free(cmd);
		assert_non_null(strstr(out.buf, "[\\Software\\Vendor\\Key299]\n\"Bin\"="));
		assert_non_null(strstr(out.buf, "\"Dw\"=dword:0000012b"));
		assert_int_equal(count(out.buf, "\"Str\"=hex(1):"), NKEYS);
		ran++;
	}
	if (access("/usr/bin/python3", X_OK) == 0 &&
	    system("/usr/bin/python3 -c 'import hivex' 2>/dev/null") == 0) {
		cmd = ws_xasprintf(
			"/usr/bin/python3 -c '\n"
			"import hivex\n"
			"h = hivex.Hivex(\"%s\")\n"
			"n = v = 0\n"
			"st = [h.root()]\n"
			"while st:\n"
			"    x = st.pop(); n += 1; v += len(h.node_values(x))\n"
			"    st.extend(h.node_children(x))\n"
			"k = h.node_get_child(h.node_get_child(h.node_get_child(h.root(), \"Software\"), \"Vendor\"), \"Key042\")\n"
			"print(n, v, h.value_dword(h.node_get_value(k, \"Dw\")))\n'", p);
		assert_int_equal(tu_run(cmd, &out), 0);
		free(cmd);
		char *expect = ws_xasprintf("%d %d 42\n", NKEYS + 4, NKEYS * 3 + 1);
		assert_string_equal(out.buf, expect);
		free(expect);
		ran++;
	} else {
		printf("[  SKIP    ] python3 hivex module not installed\n");
	}
	ws_buf_release(&out);
	free(p);
	if (!ran)
		skip();
}

static void readers_accept_v15(void **state)
{
	check_readers(5);
}

static void readers_accept_v13(void **state)
{
	check_readers(3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(readers_accept_v15),
		cmocka_unit_test(readers_accept_v13),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
