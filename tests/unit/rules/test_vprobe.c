/* test_vprobe.c - the probe over an offline installation (rule_vprobe) on a
 * synthetic source from the fixture builder: files, the user's and the
 * machine's hives, listings, stat, OS facts, and a selection driven by it. */
#include "tu.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fixture.h"
#include "reg/reg_map.h"
#include "rules/rules.h"
#include "util/ws_utf.h"
#include "volume/volume.h"

struct src {
	char *dir;
	struct vol *vol;
	const struct vol_profile *alice;
};

static int setup(void **state)
{
	struct src *s = ws_xcalloc(1, sizeof(*s));
	struct fx_opts o;
	struct ws_error err;

	s->dir = tu_tmpdir();
	fx_opts_init(&o);
	o.out_dir = s->dir;
	o.users = 2;
	o.files = 3;
	o.os = FX_WIN11;
	o.computer = "DESKTOP-VPROBE";
	ws_error_clear(&err);
	tu_assert_ok(fx_build(&o, NULL, &err), &err);
	tu_assert_ok(vol_open(s->dir, &s->vol, &err), &err);
	s->alice = vol_profile_find(s->vol, "alice");
	assert_non_null(s->alice);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct src *s = *state;

	vol_close(s->vol);
	free(s->dir);
	free(s);
	tu_cleanup();
	return 0;
}

struct names {
	char text[4096];
};

static void add_name(void *arg, const char *name, int is_container)
{
	struct names *n = arg;
	size_t l = strlen(n->text);

	snprintf(n->text + l, sizeof(n->text) - l, "%s%s|", is_container ? "+" : "", name);
}

static void files(void **state)
{
	struct src *s = *state;
	struct rule_vprobe *vp = rule_vprobe_new(s->vol, s->alice);
	const struct rule_probe *p = rule_vprobe_probe(vp);
	struct ws_buf b = WS_BUF_INIT;
	struct rule_file_stat st;
	struct names n = { "" };
	struct rule_vprobe_stats c;

	assert_int_equal(p->file_exists(p->ctx, "C:\\Users\\alice\\Desktop\\Notes.txt"), 1);
	assert_int_equal(p->file_exists(p->ctx, "c:\\USERS\\Alice\\desktop\\notes.TXT"), 1);
	assert_int_equal(p->file_exists(p->ctx, "C:\\Users\\alice\\Desktop"), 1);
	assert_int_equal(p->file_exists(p->ctx, "C:\\Users\\alice\\nope.txt"), 0);
	assert_int_equal(p->file_exists(p->ctx, "D:\\elsewhere"), 0);
	assert_int_equal(p->file_read(p->ctx, "C:\\Users\\alice\\Desktop\\Notes.txt", 1u << 20, &b), 1);
	assert_int_equal(b.len, 500);
	ws_buf_reset(&b);
	assert_int_equal(p->file_read(p->ctx, "C:\\Users\\alice\\Desktop\\Notes.txt", 10, &b), 1);
	assert_int_equal(b.len, 10);
	ws_buf_reset(&b);
	assert_int_equal(p->file_read(p->ctx, "C:\\Users\\alice\\Desktop", 10, &b), 0);
	assert_int_equal(p->file_stat(p->ctx, "C:\\Users\\alice\\Desktop\\Notes.txt", &st), 1);
	assert_int_equal(st.size, 500);
	assert_true(st.write_time > 0);
	assert_int_equal(p->file_stat(p->ctx, "C:\\Users\\alice\\Desktop\\gone.txt", &st), 0);
	assert_int_equal(p->list(p->ctx, RULE_FILE, "C:\\Users", add_name, &n), 1);
	assert_non_null(strstr(n.text, "+alice|"));
	assert_non_null(strstr(n.text, "+Public|"));
	n.text[0] = 0;
	assert_int_equal(p->list(p->ctx, RULE_FILE, "C:\\Users\\alice\\Desktop", add_name, &n), 1);
	assert_non_null(strstr(n.text, "Notes.txt|"));
	assert_int_equal(p->list(p->ctx, RULE_FILE, "C:\\No\\Such", add_name, &n), 0);
	rule_vprobe_stats(vp, &c);
	assert_int_equal(c.exists, 5);
	assert_int_equal(c.reads, 3);
	assert_int_equal(c.stats, 2);
	assert_int_equal(c.lists, 3);
	/* OS facts from the SOFTWARE hive */
	assert_int_equal(p->os_major, 10);
	assert_int_equal(p->os_build, 22631);
	assert_int_equal(p->native64, 1);
	ws_buf_release(&b);
	rule_vprobe_free(vp);
}

static void registry(void **state)
{
	struct src *s = *state;
	struct rule_vprobe *vp = rule_vprobe_new(s->vol, s->alice);
	struct rule_vprobe *sysvp = rule_vprobe_new(s->vol, NULL);
	const struct rule_probe *p = rule_vprobe_probe(vp), *sp = rule_vprobe_probe(sysvp);
	struct ws_buf b = WS_BUF_INIT, t = WS_BUF_INIT;
	struct names n = { "" };
	uint32_t type = 0;

	/* HKCU from alice's NTUSER.DAT */
	assert_int_equal(p->reg_exists(p->ctx, "HKCU\\Software\\Contoso\\Editor\\Settings", NULL), 1);
	assert_int_equal(p->reg_read(p->ctx, "HKEY_CURRENT_USER\\Software\\Contoso\\Editor\\Settings",
				     "ProjectDir", &type, &b), 1);
	assert_int_equal(type, 2);
	ws_utf16le_to_utf8(b.buf, b.len, &t, WS_UTF16_STOP_AT_NUL);
	assert_string_equal(t.buf, "%USERPROFILE%\\Documents\\Contoso");
	assert_int_equal(p->reg_exists(p->ctx, "HKCU\\Software\\Contoso\\Editor\\Settings", "Nope"), 0);
	assert_int_equal(p->reg_exists(p->ctx, "HKCU\\Software\\NoSuchVendor", NULL), 0);
	/* HKCU\Software\Classes from UsrClass.dat */
	assert_int_equal(p->reg_exists(p->ctx, "HKCU\\Software\\Classes\\Local Settings\\Software\\"
				       "Microsoft\\Windows\\CurrentVersion\\AppModel\\Repository", NULL), 1);
	/* HKLM from the volume, CurrentControlSet resolved */
	assert_int_equal(p->reg_exists(p->ctx, "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
				       "ProductName"), 1);
	ws_buf_reset(&b);
	ws_buf_reset(&t);
	assert_int_equal(sp->reg_read(sp->ctx, "HKLM\\SYSTEM\\CurrentControlSet\\Control\\"
				      "ComputerName\\ComputerName", "ComputerName", &type, &b), 1);
	ws_utf16le_to_utf8(b.buf, b.len, &t, WS_UTF16_STOP_AT_NUL);
	assert_string_equal(t.buf, "DESKTOP-VPROBE");
	/* the system probe has no HKCU; unknown roots are just absent */
	assert_int_equal(sp->reg_exists(sp->ctx, "HKCU\\Software\\Contoso", NULL), 0);
	assert_int_equal(p->reg_exists(p->ctx, "HKU\\.DEFAULT", NULL), 0);
	/* listings: subkeys are containers, values leaves */
	assert_int_equal(p->list(p->ctx, RULE_REGISTRY, "HKLM", add_name, &n), 1);
	assert_string_equal(n.text, "+SOFTWARE|+SYSTEM|");
	n.text[0] = 0;
	assert_int_equal(p->list(p->ctx, RULE_REGISTRY, "HKCU\\Software\\Contoso\\Editor", add_name, &n), 1);
	assert_non_null(strstr(n.text, "+Settings|"));
	n.text[0] = 0;
	assert_int_equal(p->list(p->ctx, RULE_REGISTRY, "HKCU\\Software\\Contoso\\Editor\\Settings",
				 add_name, &n), 1);
	assert_non_null(strstr(n.text, "|ProjectDir|"));
	ws_buf_release(&b);
	ws_buf_release(&t);
	rule_vprobe_free(vp);
	rule_vprobe_free(sysvp);
}

static void lent_hive_is_used(void **state)
{
	struct src *s = *state;
	struct rule_vprobe *vp = rule_vprobe_new(s->vol, NULL);
	const struct rule_probe *p = rule_vprobe_probe(vp);
	struct reg_hive *h;
	struct ws_error err;

	/* lend alice's NTUSER.DAT to a probe made without a profile */
	ws_error_clear(&err);
	tu_assert_ok(reg_hive_open(s->alice->ntuser_path, 0, &h, &err), &err);
	assert_int_equal(p->reg_exists(p->ctx, "HKCU\\Software\\Contoso", NULL), 0);
	rule_vprobe_lend_hive(vp, REG_HIVE_NTUSER, h);
	assert_int_equal(p->reg_exists(p->ctx, "HKCU\\Software\\Contoso", NULL), 1);
	rule_vprobe_free(vp);
	reg_hive_close(h);
}

static void selection_over_the_volume(void **state)
{
	struct src *s = *state;
	const char *xml =
		"<migration urlid=\"v\"><component type=\"Application\" context=\"User\">"
		"<displayName>Contoso</displayName><role role=\"Settings\">"
		"<detection><conditions operation=\"AND\">"
		"<condition>MigXmlHelper.DoesObjectExist(\"Registry\",\"HKCU\\Software\\Contoso\\Editor\\Settings [Theme]\")</condition>"
		"<condition>MigXmlHelper.DoesObjectExist(\"File\",\"%CSIDL_PROFILE%\\Music\\* [*.mp3]\")</condition>"
		"</conditions></detection>"
		"<rules><include filter='MigXmlHelper.FileProperties(\"filesize\",\"lte\",\"1KB\")'>"
		"<objectSet><pattern type=\"File\">%CSIDL_PROFILE%\\Desktop\\* [*]</pattern></objectSet>"
		"</include></rules></role></component>"
		"<component type=\"Application\" context=\"User\"><displayName>Absent</displayName>"
		"<role role=\"Settings\"><detects><detect><objectSet><pattern type=\"Registry\">"
		"HKCU\\Software\\NoSuchVendor\\* [*]</pattern></objectSet></detect></detects>"
		"<rules><include><objectSet><pattern type=\"File\">%CSIDL_PROFILE%\\* [*]</pattern>"
		"</objectSet></include></rules></role></component></migration>";
	struct rule_vprobe *vp;
	struct rule_env *env;
	struct rule_set *rs = rule_set_new();
	struct rule_sel_opts o = { 0 };
	struct rule_vol_opts vo = { s->alice, NULL, NULL };
	struct rule_sel *sel;
	struct rule_component_info ci;
	struct ws_error err;

	/* the builder scan, explain and apply share */
	ws_error_clear(&err);
	tu_assert_ok(rule_env_of(s->vol, s->alice, &env, &err), &err);
	assert_string_equal(rule_env_get(env, "USERNAME"), "alice");
	tu_assert_ok(rule_set_load_mem(rs, "v.xml", xml, strlen(xml), NULL, &err), &err);
	o.context = RULE_CTX_USER;
	o.env = env;
	o.current_user = -1;
	tu_assert_ok(rule_sel_new_vol(rs, s->vol, &vo, &o, &vp, &sel, &err), &err);
	rule_sel_component(sel, 0, &ci);
	assert_int_equal(ci.state, RULE_COMP_ACTIVE);
	rule_sel_component(sel, 1, &ci);
	assert_int_equal(ci.state, RULE_COMP_NOT_DETECTED);
	/* Notes.txt is 500 bytes: within the size filter, stat'ed on the volume */
	assert_true(rule_sel_file(sel, "C:\\Users\\alice\\Desktop\\Notes.txt", NULL));
	assert_false(rule_sel_file(sel, "C:\\Users\\alice\\Desktop\\missing.txt", NULL));
	rule_sel_free(sel);
	rule_set_free(rs);
	rule_env_free(env);
	rule_vprobe_free(vp);
}

/* Conditions read a dirty NTUSER.DAT as the scanner captures it: through
 * its replayed logs (a key only the logs hold exists), and not at all when
 * its logs are missing (never the stale primary). */
static void dirty_user_hive_as_the_scanner_reads_it(void **state)
{
	static const char *const rel[3] = {
		"hives/regipy/transactions_NTUSER.DAT",
		"hives/regipy/transactions_ntuser.dat.log1",
		"hives/regipy/transactions_ntuser.dat.log2",
	};
	const char *key = "HKCU\\Software\\ThinPrint\\TPAutoConnect";
	char *dir = tu_tmpdir(), *scratch = tu_tmpdir();
	struct fx_opts fo;
	struct ws_error err;
	struct vol *vol;
	struct rule_vprobe *vp;
	const struct rule_probe *p;
	char *dst[3];
	(void)state;

	fx_opts_init(&fo);
	fo.out_dir = dir;
	fo.users = 1;
	fo.files = 1;
	ws_error_clear(&err);
	tu_assert_ok(fx_build(&fo, NULL, &err), &err);
	for (int i = 0; i < 3; i++) {
		char *src = tu_testdata_hive(rel[i], scratch);

		if (!src) {
			for (int k = 0; k < i; k++)
				free(dst[k]);
			free(dir), free(scratch);
			skip();
		}
		dst[i] = i ? ws_xasprintf("%s/Users/alice/NTUSER.DAT.LOG%d", dir, i)
			   : ws_xasprintf("%s/Users/alice/NTUSER.DAT", dir);
		assert_int_equal(rename(src, dst[i]), 0);
		free(src);
	}
	tu_assert_ok(vol_open(dir, &vol, &err), &err);
	vp = rule_vprobe_new(vol, vol_profile_find(vol, "alice"));
	p = rule_vprobe_probe(vp);
	assert_int_equal(p->reg_exists(p->ctx, key, NULL), 1);
	rule_vprobe_free(vp);
	vol_close(vol);

	/* without its logs: no HKCU at all, as the scan captures none */
	assert_int_equal(unlink(dst[1]), 0);
	assert_int_equal(unlink(dst[2]), 0);
	tu_assert_ok(vol_open(dir, &vol, &err), &err);
	vp = rule_vprobe_new(vol, vol_profile_find(vol, "alice"));
	p = rule_vprobe_probe(vp);
	assert_int_equal(p->reg_exists(p->ctx, key, NULL), 0);
	assert_int_equal(p->reg_exists(p->ctx, "HKCU\\Software", NULL), 0);
	rule_vprobe_free(vp);
	vol_close(vol);
	for (int i = 0; i < 3; i++)
		free(dst[i]);
	free(dir), free(scratch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(files),
		cmocka_unit_test(registry),
		cmocka_unit_test(lent_hive_is_used),
		cmocka_unit_test(selection_over_the_volume),
		cmocka_unit_test(dirty_user_hive_as_the_scanner_reads_it),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
