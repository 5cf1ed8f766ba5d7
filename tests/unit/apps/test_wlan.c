/* test_wlan.c - WLANProfile parsing: SSID, authentication, protected keys,
 * 802.1X, the re-enter list, and profiles that do not parse. */
#include "tu.h"

#include <string.h>
#include <sys/stat.h>

#include "apps/apps.h"
#include "util/ws_fs.h"

#define HEAD "<?xml version=\"1.0\"?>\r\n" \
	"<WLANProfile xmlns=\"http://www.microsoft.com/networking/WLAN/profile/v1\">\r\n"

static const char psk_protected[] = HEAD
	"<name>HomeNet</name><SSIDConfig><SSID><hex>486F6D654E6574</hex>"
	"<name>HomeNet</name></SSID></SSIDConfig><connectionType>ESS</connectionType>"
	"<connectionMode>auto</connectionMode><MSM><security><authEncryption>"
	"<authentication>WPA2PSK</authentication><encryption>AES</encryption>"
	"<useOneX>false</useOneX></authEncryption><sharedKey><keyType>passPhrase</keyType>"
	"<protected>true</protected><keyMaterial>01000000D08C9DDF0115D1118C7A00C04FC297EB"
	"</keyMaterial></sharedKey></security></MSM></WLANProfile>\r\n";

static const char open_hex_only[] = HEAD
	"<name>Caf\xc3\xa9 guest</name><SSIDConfig><SSID><hex>436166C3A9</hex></SSID>"
	"</SSIDConfig><connectionMode>manual</connectionMode><MSM><security>"
	"<authEncryption><authentication>open</authentication><encryption>none</encryption>"
	"<useOneX>false</useOneX></authEncryption></security></MSM></WLANProfile>";

static const char enterprise[] = HEAD
	"<name>Corp</name><SSIDConfig><SSID><name>CORP-WIFI</name></SSID></SSIDConfig>"
	"<MSM><security><authEncryption><authentication>WPA2</authentication>"
	"<encryption>AES</encryption><useOneX>true</useOneX></authEncryption>"
	"<OneX xmlns=\"http://www.microsoft.com/networking/OneX/v1\"><EAPConfig/></OneX>"
	"</security></MSM></WLANProfile>";

static const char plain_key[] = HEAD
	"<name>Lab</name><SSIDConfig><SSID><name>LAB</name></SSID></SSIDConfig>"
	"<MSM><security><authEncryption><authentication>WPA3SAE</authentication>"
	"<encryption>AES</encryption><useOneX>false</useOneX></authEncryption>"
	"<sharedKey><keyType>passPhrase</keyType><protected>false</protected>"
	"<keyMaterial>correct horse</keyMaterial></sharedKey></security></MSM></WLANProfile>";

static void parses_profiles(void **state)
{
	struct apps_wlan_list l = APPS_WLAN_LIST_INIT;
	struct ws_error e;
	struct ws_buf re = WS_BUF_INIT;

	ws_error_clear(&e);
	tu_assert_ok(apps_wlan_parse("a.xml", psk_protected, strlen(psk_protected), &l, &e), &e);
	tu_assert_ok(apps_wlan_parse("b.xml", open_hex_only, strlen(open_hex_only), &l, &e), &e);
	tu_assert_ok(apps_wlan_parse("c.xml", enterprise, strlen(enterprise), &l, &e), &e);
	tu_assert_ok(apps_wlan_parse("d.xml", plain_key, strlen(plain_key), &l, &e), &e);
	assert_int_equal(l.n, 4);

	assert_string_equal(l.v[0].profile_name, "HomeNet");
	assert_string_equal(l.v[0].ssid, "HomeNet");
	assert_string_equal(l.v[0].authentication, "WPA2PSK");
	assert_string_equal(l.v[0].encryption, "AES");
	assert_string_equal(l.v[0].connection_mode, "auto");
	assert_true(l.v[0].has_key);
	assert_true(l.v[0].key_protected);
	assert_true(l.v[0].must_reenter);

	/* SSID only as hex: decoded (UTF-8 bytes) */
	assert_string_equal(l.v[1].ssid, "Caf\xc3\xa9");
	assert_string_equal(l.v[1].authentication, "open");
	assert_false(l.v[1].has_key);
	assert_false(l.v[1].must_reenter);

	assert_true(l.v[2].one_x);
	assert_true(l.v[2].must_reenter);
	assert_false(l.v[2].has_key);

	/* an exported clear-text key travels and needs nothing */
	assert_true(l.v[3].has_key);
	assert_false(l.v[3].key_protected);
	assert_false(l.v[3].must_reenter);

	apps_wlan_reenter_list(&l, &re);
	assert_string_equal(re.buf, "HomeNet (WPA2PSK)\nCORP-WIFI (WPA2, 802.1X sign-in)\n");
	ws_buf_release(&re);
	apps_wlan_list_release(&l);
}

static void bad_profiles_are_refused(void **state)
{
	static const char *bad[] = {
		HEAD "<name>x</name><MSM>",                       /* truncated */
		"<?xml version=\"1.0\"?><Other><name>x</name></Other>", /* not a profile */
		"<?xml version=\"1.0\"?><!DOCTYPE WLANProfile [<!ENTITY a \"b\">]>"
		"<WLANProfile><name>&a;</name></WLANProfile>",    /* DOCTYPE */
		"",                                               /* empty */
		NULL
	};
	struct apps_wlan_list l = APPS_WLAN_LIST_INIT;
	struct ws_error e;
	struct ws_buf deep = WS_BUF_INIT;

	for (size_t i = 0; bad[i]; i++) {
		ws_error_clear(&e);
		assert_int_equal(apps_wlan_parse("bad.xml", bad[i], strlen(bad[i]), &l, &e),
				 WS_E_UNSUPPORTED);
		assert_string_equal(e.where, "bad.xml");
	}
	ws_buf_adds(&deep, HEAD);
	for (int i = 0; i < 40; i++)
		ws_buf_adds(&deep, "<a>");
	assert_int_equal(apps_wlan_parse("deep.xml", deep.buf, deep.len, &l, &e),
			 WS_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "deeper"));
	ws_buf_reset(&deep);
	ws_buf_grow(&deep, APPS_WLAN_MAX_BYTES + 1);
	memset(deep.buf, ' ', APPS_WLAN_MAX_BYTES + 1);
	ws_buf_setlen(&deep, APPS_WLAN_MAX_BYTES + 1);
	assert_int_equal(apps_wlan_parse("big.xml", deep.buf, deep.len, &l, &e),
			 WS_E_UNSUPPORTED);
	assert_int_equal(l.n, 0);
	ws_buf_release(&deep);
}

static void warn_fn(void *ctx, int level, const char *where, const char *msg)
{
	struct ws_buf *b = ctx;

	ws_buf_addf(b, "%s: %s\n", where, msg);
}

static void scans_interface_folders(void **state)
{
	char *dir = tu_tmpdir();
	struct ws_buf p = WS_BUF_INIT, msgs = WS_BUF_INIT;
	struct apps_wlan_list l = APPS_WLAN_LIST_INIT;
	struct ws_log log = { warn_fn, &msgs, WS_LOG_DEBUG, 0, 0 };
	struct ws_error e;

	ws_buf_addf(&p, "%s/{6E5F0C4A-1111-2222-3333-444455556666}", dir);
	ws_error_clear(&e);
	tu_assert_ok(ws_mkdir_p(p.buf, WS_E_IO, &e), &e);
	ws_buf_adds(&p, "/{A1}.xml");
	tu_write_file(p.buf, psk_protected, strlen(psk_protected));
	ws_buf_setlen(&p, p.len - strlen("{A1}.xml"));
	ws_buf_adds(&p, "{B2}.xml");
	tu_write_file(p.buf, "<WLANProfile><name>", 19);
	ws_buf_setlen(&p, p.len - strlen("{B2}.xml"));
	ws_buf_adds(&p, "{C3}.XML");
	tu_write_file(p.buf, enterprise, strlen(enterprise));
	ws_buf_setlen(&p, p.len - strlen("{C3}.XML"));
	ws_buf_adds(&p, "notes.txt");
	tu_write_file(p.buf, "x", 1);

	tu_assert_ok(apps_wlan_scan(dir, &l, &log, &e), &e);
	assert_int_equal(l.n, 2);
	assert_int_equal(log.warnings, 1);
	assert_non_null(strstr(msgs.buf, "{B2}.xml"));
	assert_non_null(strstr(l.v[0].file, "{A1}.xml"));
	assert_string_equal(l.v[1].ssid, "CORP-WIFI");
	apps_wlan_list_release(&l);

	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/none", dir);
	assert_int_equal(apps_wlan_scan(p.buf, &l, &log, &e), WS_E_IO);
	ws_buf_release(&p);
	ws_buf_release(&msgs);
	free(dir);
}

static void wep_and_open_networks(void **state)
{
	static const char wep[] = HEAD
		"<name>Old</name><SSIDConfig><SSID><name>OLDNET</name></SSID></SSIDConfig>"
		"<MSM><security><authEncryption><authentication>open</authentication>"
		"<encryption>WEP</encryption><useOneX>false</useOneX></authEncryption>"
		"<sharedKey><keyType>networkKey</keyType><protected>true</protected>"
		"<keyMaterial>01000000D08C</keyMaterial></sharedKey><keyIndex>0</keyIndex>"
		"</security></MSM></WLANProfile>";
	struct apps_wlan_list l = APPS_WLAN_LIST_INIT;
	struct ws_buf re = WS_BUF_INIT;
	struct ws_error e;

	ws_error_clear(&e);
	tu_assert_ok(apps_wlan_parse("open.xml", open_hex_only, strlen(open_hex_only), &l, &e), &e);
	apps_wlan_reenter_list(&l, &re);
	assert_string_equal(re.buf, "");
	tu_assert_ok(apps_wlan_parse("wep.xml", wep, strlen(wep), &l, &e), &e);
	assert_string_equal(l.v[1].encryption, "WEP");
	assert_true(l.v[1].must_reenter);
	apps_wlan_reenter_list(&l, &re);
	assert_string_equal(re.buf, "OLDNET (open)\n");
	ws_buf_release(&re);
	apps_wlan_list_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_profiles),
		cmocka_unit_test(wep_and_open_networks),
		cmocka_unit_test(bad_profiles_are_refused),
		cmocka_unit_test(scans_interface_folders),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tu_cleanup();
	return rc;
}
