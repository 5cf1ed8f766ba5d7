/*
 * test_win11.c - the settings catalog at apply time: catalog notes, Windows
 * 10 -> 11 verdicts, Start pins from Windows 10 tiles (the real Windows 10
 * hive of ../shared/testdata), default-associations XML, malformed settings
 * values, whole applies from a Windows 10 source to Windows 10 and 11
 * targets, and the Start pins of users staged on Windows 11 (the Default
 * profile's file for one common list, each user's own otherwise).
 */
#include "apply_tu.h"

#include "apply/apply_private.h"

/* apply_tu.h helpers this file does not need. */
static char *(*const keep_tree)(const char *) __attribute__((unused)) = atu_tree;

/* ---- catalog notes ------------------------------------------------------- */

static const char notes_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                       /* 1 */
	"<migration urlid=\"http://example/win11-test\">\n"                  /* 2 */
	" <component type=\"System\" context=\"User\">\n"                    /* 3 */
	"  <displayName>Kept</displayName>\n"                                /* 4 */
	"  <description>\n"                                                  /* 5 */
	"   category: Test\n"                                                /* 6 */
	"   10to11: carried as is\n"                                         /* 7 */
	"  </description>\n"                                                 /* 8 */
	"  <role role=\"Settings\"><rules><include><objectSet>\n"            /* 9 */
	"   <pattern type=\"Registry\">HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Themes\\Personalize [*]</pattern>\n" /* 10 */
	"  </objectSet></include></rules></role>\n"                          /* 11 */
	" </component>\n"                                                    /* 12 */
	" <component type=\"System\" context=\"User\">\n"                    /* 13 */
	"  <displayName>Gone</displayName>\n"                                /* 14 */
	"  <description>\n"                                                  /* 15 */
	"   10to11: dropped: Windows 11 has no such thing\n"                 /* 16 */
	"  </description>\n"                                                 /* 17 */
	"  <role role=\"Settings\"><rules><include><objectSet>\n"            /* 18 */
	"   <pattern type=\"Registry\">HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced [LaunchTo]</pattern>\n" /* 19 */
	"  </objectSet></include>\n"                                         /* 20 */
	"  <include filter=\"MigXmlHelper.NeverRestore()\"><objectSet>\n"    /* 21 */
	"   <pattern type=\"Registry\">HKCU\\Control Panel\\Mouse [*]</pattern>\n" /* 22 */
	"  </objectSet></include>\n"                                         /* 23 */
	"  <exclude><objectSet>\n"                                           /* 24 */
	"   <pattern type=\"Registry\">HKCU\\Control Panel\\Mouse [DoubleClickSpeed]</pattern>\n" /* 25 */
	"  </objectSet></exclude></rules></role>\n"                          /* 26 */
	" </component>\n"                                                    /* 27 */
	"</migration>\n";

static void notes_are_read_from_rule_xml(void **state)
{
	struct acat *c = acat_new();
	struct acat_comp *k;
	struct ws_error e;
	int never = -1;
	(void)state;

	ws_error_clear(&e);
	tu_assert_ok(acat_add_mem(c, "wt.xml", notes_xml, strlen(notes_xml), &e), &e);
	assert_int_equal(acat_count(c), 2);
	k = acat_find(c, "wt.xml:10 component 'Kept' include HKCU\\X [*]", &never);
	assert_non_null(k);
	assert_string_equal(k->name, "Kept");
	assert_int_equal(k->move, ACAT_CARRIED);
	assert_int_equal(never, 0);
	k = acat_find(c, "wt.xml:19 component 'Gone' include HKCU\\Y [LaunchTo]", &never);
	assert_non_null(k);
	assert_int_equal(k->move, ACAT_DROPPED);
	assert_string_equal(k->note, "Windows 11 has no such thing");
	assert_int_equal(never, 0);
	/* The NeverRestore include is known by its pattern's line. */
	assert_ptr_equal(acat_find(c, "wt.xml:22 component 'Gone' include HKCU\\Z [*]", &never), k);
	assert_int_equal(never, 1);
	/* Another file, another component name, no line: unknown. */
	assert_null(acat_find(c, "other.xml:19 component 'Gone' include X", &never));
	assert_null(acat_find(c, "wt.xml:19 component 'Nope' include X", &never));
	assert_null(acat_find(c, "garbage", &never));
	assert_null(acat_find(c, "", &never));
	acat_free(c);
}

static void notes_of_bad_xml_are_refused(void **state)
{
	struct acat *c = acat_new();
	struct ws_error e;
	static const char dtd[] =
		"<?xml version=\"1.0\"?>\n<!DOCTYPE m [<!ENTITY a \"aaaa\">]>\n"
		"<migration><component><displayName>&a;</displayName></component></migration>\n";
	static const char broken[] = "<migration><component><displayName>x</component>";
	(void)state;

	ws_error_clear(&e);
	assert_int_equal(acat_add_mem(c, "bad.xml", broken, strlen(broken), &e), WS_E_RULES);
	assert_non_null(strstr(e.where, "bad.xml"));
	assert_int_equal(acat_count(c), 0);
	assert_int_equal(acat_add_mem(c, "dtd.xml", dtd, strlen(dtd), &e), WS_E_RULES);
	assert_int_equal(acat_count(c), 0);
	/* Still usable afterwards. */
	tu_assert_ok(acat_add_mem(c, "wt.xml", notes_xml, strlen(notes_xml), &e), &e);
	assert_int_equal(acat_count(c), 2);
	acat_free(c);
}

/* ---- verdicts ------------------------------------------------------------- */

#define START_DIR "C:\\Users\\a\\AppData\\Local\\Packages\\" \
	"Microsoft.Windows.StartMenuExperienceHost_cw5n1h2txyewy\\LocalState\\"

static void start_layout_travels_between_compatible_builds(void **state)
{
	struct aw w;
	char why[600];
	(void)state;

	aw_init(&w, "22631.4317", 22631);
	assert_int_equal(w.to11, 0);
	assert_int_equal(aw_file(&w, START_DIR "start2.bin", NULL, why, sizeof(why)), AW_CARRY);
	assert_int_equal(aw_file(&w, START_DIR "start.bin", NULL, why, sizeof(why)), AW_DROP);
	aw_init(&w, "22000", 22631);
	assert_int_equal(aw_file(&w, START_DIR "start2.bin", NULL, why, sizeof(why)), AW_DROP);
	assert_non_null(strstr(why, "22621"));
	assert_non_null(strstr(why, "source build 22000"));
	aw_init(&w, "22621", 22000);
	assert_int_equal(aw_file(&w, START_DIR "start2.bin", NULL, why, sizeof(why)), AW_DROP);
	aw_init(&w, "22000", 22000);
	assert_int_equal(aw_file(&w, START_DIR "start.bin", NULL, why, sizeof(why)), AW_CARRY);
	aw_init(&w, "19045", 22631);
	assert_int_equal(w.to11, 1);
	assert_int_equal(aw_file(&w, START_DIR "START2.BIN", NULL, why, sizeof(why)), AW_DROP);
	/* Unknown source build: never carried. */
	aw_init(&w, NULL, 22631);
	assert_int_equal(w.to11, 0);
	assert_int_equal(aw_file(&w, START_DIR "start2.bin", NULL, why, sizeof(why)), AW_DROP);
	/* Another file of that folder is not concerned. */
	assert_int_equal(aw_file(&w, START_DIR "other.bin", NULL, why, sizeof(why)), AW_CARRY);
}

static void verdicts_follow_the_notes_only_from_10_to_11(void **state)
{
	struct acat_comp gone = { "Gone", "wt.xml", ACAT_DROPPED, "no such thing", 0, 0, 0 };
	struct acat_comp kept = { "Kept", "wt.xml", ACAT_CARRIED, "as is", 0, 0, 0 };
	struct aw w;
	char why[600];
	const char *adv = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Advanced";
	(void)state;

	aw_init(&w, "19045", 22631);
	assert_int_equal(aw_value(&w, adv, "X", &gone, 0, why, sizeof(why)), AW_DROP);
	assert_string_equal(why, "Windows 10 -> 11: no such thing");
	assert_int_equal(aw_value(&w, adv, "X", &kept, 0, why, sizeof(why)), AW_CARRY);
	assert_int_equal(aw_value(&w, adv, "X", NULL, 0, why, sizeof(why)), AW_CARRY);
	assert_int_equal(aw_file(&w, "C:\\Users\\a\\x", &gone, why, sizeof(why)), AW_DROP);
	/* Small taskbar buttons: only for targets before 23H2. */
	assert_int_equal(aw_value(&w, adv, "TaskbarSmallIcons", &kept, 0, why, sizeof(why)), AW_CARRY);
	aw_init(&w, "19045", 22621);
	assert_int_equal(aw_value(&w, adv, "TaskbarSmallIcons", &kept, 0, why, sizeof(why)), AW_DROP);
	/* Windows 10 -> 10: everything carried, NeverRestore still honoured. */
	aw_init(&w, "19045", 19045);
	assert_int_equal(aw_value(&w, adv, "X", &gone, 0, why, sizeof(why)), AW_CARRY);
	assert_int_equal(aw_value(&w, adv, "X", &kept, 1, why, sizeof(why)), AW_DROP);
	assert_non_null(strstr(why, "NeverRestore"));
	/* Default apps and Start tiles whatever the versions. */
	assert_int_equal(aw_value(&w, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\"
				  "FileExts\\.pdf\\UserChoice", "ProgId", NULL, 1, why, sizeof(why)),
			 AW_DEFAULT_APP);
	assert_int_equal(aw_value(&w, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\CloudStore\\"
				  "Store\\Cache\\DefaultAccount\\$de${1}$start.tilegrid$windows.data."
				  "curatedtilecollection.tilecollection\\Current", "Data", NULL, 1,
				  why, sizeof(why)), AW_START_TILES);
}

static void default_app_keys_and_xml(void **state)
{
	struct ws_buf id = WS_BUF_INIT, x = WS_BUF_INIT;
	struct aw_assoc a = { 0 };
	(void)state;

	assert_int_equal(aw_is_default_app("HKCU\\Software\\Microsoft\\Windows\\Shell\\Associations\\"
					   "UrlAssociations\\https\\UserChoice", "ProgId", &id), 1);
	assert_string_equal(id.buf, "https");
	assert_int_equal(aw_is_default_app("HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\"
					   "Explorer\\FileExts\\.pdf\\UserChoice", "Hash", NULL), 0);
	assert_int_equal(aw_is_default_app("HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\"
					   "Explorer\\FileExts\\a\\b\\UserChoice", "ProgId", NULL), 0);
	assert_int_equal(aw_is_default_app("HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\"
					   "Explorer\\FileExts\\UserChoice", "ProgId", NULL), 0);
	aw_assoc_add(&a, ".pdf", "AcroExch.Document.DC", NULL);
	aw_assoc_add(&a, ".PDF", "Other", NULL);            /* first choice wins */
	aw_assoc_add(&a, ".x\"<&>", "P&Q", "App \"1\"");
	assert_int_equal(a.n, 2);
	aw_assoc_xml(&a, &x);
	assert_non_null(strstr(x.buf, "<DefaultAssociations>"));
	assert_non_null(strstr(x.buf, "<Association Identifier=\".pdf\" ProgId=\"AcroExch.Document.DC\" "
				      "ApplicationName=\"AcroExch.Document.DC\" />"));
	assert_non_null(strstr(x.buf, "Identifier=\".x&quot;&lt;&amp;&gt;\" ProgId=\"P&amp;Q\" "
				      "ApplicationName=\"App &quot;1&quot;\""));
	assert_null(strstr(x.buf, "Other"));
	aw_assoc_release(&a);
	ws_buf_release(&id);
	ws_buf_release(&x);
}

static void malformed_settings_values_are_refused(void **state)
{
	char why[300];
	const char *pers = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Themes\\Personalize";
	(void)state;

	assert_int_equal(aw_check_type(pers, "AppsUseLightTheme", REG_DWORD, 4, why, sizeof(why)), 1);
	assert_int_equal(aw_check_type(pers, "AppsUseLightTheme", REG_SZ, 4, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "REG_SZ where Windows keeps REG_DWORD"));
	assert_int_equal(aw_check_type(pers, "AppsUseLightTheme", REG_DWORD, 3, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "3 bytes"));
	/* any other value is carried whatever its length */
	assert_int_equal(aw_check_type("HKCU\\Software\\X", "Any", REG_DWORD, 5, why, sizeof(why)), 1);
	assert_int_equal(aw_check_type("HKCU\\Software\\X", "Any", REG_QWORD, 4, why, sizeof(why)), 1);
	assert_int_equal(aw_check_type("HKCU\\Software\\X", "Any", REG_DWORD_BIG_ENDIAN, 0,
				       why, sizeof(why)), 1);
	assert_int_equal(aw_check_type("HKCU\\Software\\X", "Any", REG_SZ, 7, why, sizeof(why)), 1);
	assert_int_equal(aw_check_type("HKCU\\Control Panel\\Desktop", "WallPaper", REG_EXPAND_SZ, 8,
				       why, sizeof(why)), 1);
	assert_int_equal(aw_check_type("HKCU\\Control Panel\\Desktop", "WallPaper", REG_BINARY, 8,
				       why, sizeof(why)), 0);
}

/* ---- Start pins ------------------------------------------------------------ */

static void u16_at(struct ws_buf *b, const char *s)
{
	for (; *s; s++)
		ws_buf_add_u16le(b, (unsigned char)*s);
}

static void pins_from_a_synthetic_blob(void **state)
{
	struct ws_buf b = WS_BUF_INIT, j = WS_BUF_INIT;
	struct aw_pins p = { 0 };
	(void)state;

	ws_buf_add(&b, "\x02\x00\x00\x00\xd2\x0a\x3c", 7);          /* odd alignment next */
	u16_at(&b, "P~Microsoft.WindowsCalculator_8wekyb3d8bbwe!App");
	ws_buf_add(&b, "\xca\x14", 2);
	u16_at(&b, "P~Microsoft.MicrosoftEdge_8wekyb3d8bbwe!MicrosoftEdge:6501008900");
	ws_buf_add(&b, "\xca", 1);                                   /* even alignment next */
	u16_at(&b, "W~MSEdge");
	ws_buf_add(&b, "\x01\xd8", 2);                               /* lone surrogate: a stop */
	u16_at(&b, "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Tool.lnk");
	ws_buf_add(&b, "\x00\x00", 2);
	u16_at(&b, "%ALLUSERSPROFILE%\\Microsoft\\Windows\\Start Menu\\Programs\\Word.lnk");
	ws_buf_add(&b, "\x00\x00", 2);
	u16_at(&b, "P~NoPublisher!App");                             /* not an AUMID */
	ws_buf_add(&b, "\x00\x00", 2);
	u16_at(&b, "P~Microsoft.WindowsCalculator_8wekyb3d8bbwe!App"); /* duplicate */
	aw_pins_from_tiles((const unsigned char *)b.buf, b.len, &p);
	assert_int_equal(p.n, 4);
	assert_int_equal(p.secondary, 1);
	assert_int_equal(p.v[0].kind, AW_PIN_PACKAGED);
	assert_string_equal(p.v[0].id, "Microsoft.WindowsCalculator_8wekyb3d8bbwe!App");
	assert_int_equal(p.v[1].kind, AW_PIN_DESKTOP_ID);
	assert_string_equal(p.v[1].id, "MSEdge");
	assert_int_equal(p.v[2].kind, AW_PIN_LINK);
	assert_int_equal(p.v[3].kind, AW_PIN_LINK);
	aw_pins_json(&p, "C:\\Users\\alice", &j);
	assert_string_equal(j.buf,
		"{\"pinnedList\":[\n"
		"  {\"packagedAppId\":\"Microsoft.WindowsCalculator_8wekyb3d8bbwe!App\"},\n"
		"  {\"desktopAppId\":\"MSEdge\"},\n"
		"  {\"desktopAppLink\":\"%APPDATA%\\\\Microsoft\\\\Windows\\\\Start Menu\\\\Programs\\\\Tool.lnk\"},\n"
		"  {\"desktopAppLink\":\"%ALLUSERSPROFILE%\\\\Microsoft\\\\Windows\\\\Start Menu\\\\Programs\\\\Word.lnk\"}\n"
		"]}\n");
	aw_pins_release(&p);
	ws_buf_release(&b);
	ws_buf_release(&j);
}

static void pins_from_hostile_blobs(void **state)
{
	struct ws_buf b = WS_BUF_INIT, j = WS_BUF_INIT;
	struct aw_pins p = { 0 };
	uint64_t r = 88172645463325252ull;
	(void)state;

	aw_pins_from_tiles(NULL, 0, &p);
	aw_pins_from_tiles((const unsigned char *)"P", 1, &p);
	assert_int_equal(p.n, 0);
	aw_pins_json(&p, NULL, &j);
	assert_string_equal(j.buf, "{\"pinnedList\":[]}\n");
	/* Random bytes find nothing; thousands of distinct pins are capped. */
	for (int i = 0; i < 200000; i++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		ws_buf_addch(&b, (int)(r & 0xff));
	}
	aw_pins_from_tiles((const unsigned char *)b.buf, b.len, &p);
	assert_int_equal(p.n, 0);
	ws_buf_reset(&b);
	for (int i = 0; i < 3000; i++) {
		char s[80];

		snprintf(s, sizeof(s), "P~App%d_8wekyb3d8bbwe!App", i);
		u16_at(&b, s);
		ws_buf_add(&b, "\x00\x00", 2);
	}
	aw_pins_from_tiles((const unsigned char *)b.buf, b.len, &p);
	assert_int_equal(p.n, 512);
	aw_pins_release(&p);
	ws_buf_release(&b);
	ws_buf_release(&j);
}

#define TILEGRID "Software\\Microsoft\\Windows\\CurrentVersion\\CloudStore\\Store\\Cache\\" \
	"DefaultAccount\\$de${8a09bc9e-40f2-4f5c-8385-ea0e3969f8cf}$start.tilegrid$" \
	"windows.data.curatedtilecollection.tilecollection\\Current"

static void pins_of_the_real_windows10_hive(void **state)
{
	char *dir = tu_tmpdir();
	char *hive = tu_testdata_hive("hives/regipy/NTUSER-WSL.DAT", dir);
	struct reg_value v = { 0 };
	struct aw_pins p = { 0 };
	(void)state;

	free(dir);
	if (!hive)
		skip();
	assert_int_equal(atu_hive_value(hive, TILEGRID, "Data", &v), 1);
	assert_int_equal(v.type, REG_BINARY);
	aw_pins_from_tiles(v.data, v.len, &p);
	/* The pins of that Start menu, in blob order. */
	assert_int_equal(p.n, 13);
	assert_int_equal(p.v[0].kind, AW_PIN_DESKTOP_ID);
	assert_string_equal(p.v[0].id, "Microsoft.SkyDrive.Desktop");
	assert_string_equal(p.v[1].id, "Microsoft.Office.OneNote_8wekyb3d8bbwe!microsoft.onenoteim");
	assert_string_equal(p.v[3].id, "Microsoft.WindowsCalculator_8wekyb3d8bbwe!App");
	assert_string_equal(p.v[4].id, "7EE7776C.LinkedInforWindows_w1wdnht996qgy!App");
	assert_int_equal(p.v[5].kind, AW_PIN_DESKTOP_ID);
	assert_string_equal(p.v[5].id, "MSEdge");
	assert_string_equal(p.v[9].id, "Microsoft.WindowsStore_8wekyb3d8bbwe!App");
	assert_string_equal(p.v[11].id, "Microsoft.Windows.Photos_8wekyb3d8bbwe!App");
	assert_string_equal(p.v[12].id, "Microsoft.Todos_8wekyb3d8bbwe!App");
	/* Four pinned Edge pages are secondary tiles, left out. */
	assert_int_equal(p.secondary, 4);
	aw_pins_release(&p);
	reg_value_release(&v);
	free(hive);
}

/* ---- whole applies ------------------------------------------------------------ */

/* Source (Windows 10) scanned with notes_xml saved as <dir>/rules/wt.xml. */
static void setup_win10(struct atu *t, int target_os, const char *existing)
{
	struct rule_set *rs = rule_set_new();
	struct ws_error e;
	struct fx_opts fo;
	char *rules, *rf;

	atu_init(t);
	rules = ws_xasprintf("%s/rules", t->dir);
	rf = ws_xasprintf("%s/wt.xml", rules);
	assert_int_equal(mkdir(rules, 0755), 0);
	tu_write_file(rf, notes_xml, strlen(notes_xml));
	atu_fixture(t->src, FX_SOURCE, 1, NULL, 1);
	fx_opts_init(&fo);
	fo.out_dir = t->tgt;
	fo.kind = FX_TARGET;
	fo.seed = 2;
	fo.os = target_os;
	fo.existing_user = existing;
	ws_error_clear(&e);
	tu_assert_ok(fx_build(&fo, NULL, &e), &e);
	tu_assert_ok(rule_set_load_file(rs, rf, NULL, &e), &e);
	atu_scan(t, rs);
	rule_set_free(rs);
	free(rf);
	free(rules);
}

struct seen {
	int dropped, translated, skipped;
	char reason[600];
};

static void on_act(void *ctx, const struct apply_action *a)
{
	struct seen *s = ctx;

	if (a->kind == APPLY_REG_DROPPED && strstr(a->object, "[LaunchTo]")) {
		s->dropped++;
		snprintf(s->reason, sizeof(s->reason), "%s", a->reason);
	}
	if (a->kind == APPLY_REG_DROPPED && strstr(a->object, "Control Panel\\Mouse"))
		s->translated++; /* NeverRestore */
	if (a->kind == APPLY_REG_SKIP)
		s->skipped++;
}

/* setup_win10 with alice's profile on the target, then an apply with the
 * rules it saved, its actions counted in `s`; returns the path of alice's
 * hive on the target (malloc'd). */
static char *apply_win10(struct atu *t, int target_os, struct seen *s, struct apply_report *r)
{
	struct apply_opts o;
	struct ws_error e;
	char *rules;

	setup_win10(t, target_os, "alice");
	rules = ws_xasprintf("%s/rules", t->dir);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.rules_dir = rules;
	o.on_action = on_act;
	o.on_action_ctx = s;
	tu_assert_ok(atu_apply(t, &o, r, &e), &e);
	free(rules);
	return ws_xasprintf("%s/Users/alice/NTUSER.DAT", t->tgt);
}

static void win10_to_win11_drops_with_reasons(void **state)
{
	struct atu t;
	struct apply_report r;
	struct seen s = { 0 };
	struct reg_value v = { 0 };
	char *hive;
	(void)state;

	hive = apply_win10(&t, FX_WIN11, &s, &r);
	assert_int_equal(r.source_build, 19045);
	assert_int_equal(r.target_build, 22631);
	assert_int_equal(r.win10_to_11, 1);
	assert_int_equal(s.dropped, 1);
	assert_string_equal(s.reason, "Windows 10 -> 11: Windows 11 has no such thing");
	/* NeverRestore values of any version are not written either. */
	assert_true(s.translated >= 2);
	assert_int_equal(r.values_dropped, (uint64_t)(s.dropped + s.translated));
	assert_int_equal(s.skipped, 0);
	/* Both groups in the table, with their verdicts. */
	assert_int_equal(r.n_compat, 2);
	assert_string_equal(r.compat[0].component, "Kept");
	assert_string_equal(r.compat[0].verdict, "carried");
	assert_true(r.compat[0].values >= 3);
	assert_string_equal(r.compat[1].component, "Gone");
	assert_string_equal(r.compat[1].verdict, "dropped");
	/* The target hive: the carried values, not the dropped ones. */
	assert_int_equal(atu_hive_value(hive, "Software\\Microsoft\\Windows\\CurrentVersion\\Themes\\"
					"Personalize", "AppsUseLightTheme", &v), 1);
	reg_value_release(&v);
	/* LaunchTo: the target profile keeps its own 2 (the source had 1). */
	assert_int_equal(atu_hive_value(hive, "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\"
					"Advanced", "LaunchTo", &v), 1);
	assert_int_equal(v.data[0], 2);
	reg_value_release(&v);
	{
		char *sh = ws_xasprintf("%s/Users/alice/NTUSER.DAT", t.src);
		struct reg_value sv = { 0 };

		assert_int_equal(atu_hive_value(sh, "Control Panel\\Mouse", "MouseSensitivity", &sv), 1);
		if (atu_hive_value(hive, "Control Panel\\Mouse", "MouseSensitivity", &v))
			assert_false(v.len == sv.len && !memcmp(v.data, sv.data, v.len));
		reg_value_release(&v);
		reg_value_release(&sv);
		free(sh);
	}
	apply_report_release(&r);
	free(hive);
	atu_release(&t);
}

static void win10_to_win10_carries_everything(void **state)
{
	struct atu t;
	struct apply_report r;
	struct seen s = { 0 };
	struct reg_value v = { 0 };
	char *hive;
	(void)state;

	hive = apply_win10(&t, FX_WIN10, &s, &r);
	assert_int_equal(r.win10_to_11, 0);
	assert_int_equal(r.n_compat, 0);
	assert_int_equal(s.dropped, 0);
	assert_int_equal(atu_hive_value(hive, "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\"
					"Advanced", "LaunchTo", &v), 1);
	reg_value_release(&v);
	apply_report_release(&r);
	/* Without the rule files the notes are unknown: NeverRestore cannot be
	 * honoured, everything is carried (a later apply finds values equal). */
	free(hive);
	atu_release(&t);
}

struct bad_seen {
	int skipped_type, skipped_size, set;
};

static void on_bad(void *ctx, const struct apply_action *a)
{
	struct bad_seen *s = ctx;

	if (a->kind == APPLY_REG_SKIP && strstr(a->object, "[AppsUseLightTheme]") &&
	    strstr(a->reason, "REG_SZ where Windows keeps REG_DWORD"))
		s->skipped_type++;
	if (a->kind == APPLY_REG_SKIP && strstr(a->object, "[SystemUsesLightTheme]") &&
	    strstr(a->reason, "3 bytes"))
		s->skipped_size++;
	if (a->kind == APPLY_REG_SET && strstr(a->object, "[EnableTransparency]"))
		s->set++;
}

static void bad_settings_values_are_skipped_the_rest_carried(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	struct bad_seen s = { 0 };
	struct reg_value v = { 0 };
	static const char sz[] = "0\0\0";                 /* "0" as UTF-16 */
	static const unsigned char three[] = { 1, 0, 0 };
	static const unsigned char one[] = { 1, 0, 0, 0 };
	const char *pk = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Themes\\Personalize";
	struct atu_val vals[] = {
		{ pk, "AppsUseLightTheme", REG_SZ, sz, 4 },
		{ pk, "SystemUsesLightTheme", REG_DWORD, three, 3 },
		{ pk, "EnableTransparency", REG_DWORD, one, 4 },
	};
	char *hive;
	(void)state;

	atu_setup(&t, 1, "alice");
	free(t.store);
	t.store = ws_xasprintf("%s/bad", t.dir);
	snprintf(t.device, sizeof(t.device), "BADPC");
	atu_store_make(t.store, "BADPC", "S-1-5-21-9-9-9-1001", "alice", "C:\\Users\\alice",
		       vals, 3, NULL, 0);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.on_action = on_bad;
	o.on_action_ctx = &s;
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_PARTIAL);
	assert_int_equal(s.skipped_type, 1);
	assert_int_equal(s.skipped_size, 1);
	assert_int_equal(s.set, 1);
	assert_int_equal(r.values_skipped, 2);
	hive = ws_xasprintf("%s/Users/alice/NTUSER.DAT", t.tgt);
	assert_int_equal(atu_hive_value(hive, pk + 5, "EnableTransparency", &v), 1);
	reg_value_release(&v);
	/* The target keeps its own (default) value of the skipped ones. */
	assert_int_equal(atu_hive_value(hive, pk + 5, "SystemUsesLightTheme", &v), 1);
	assert_int_equal(v.len, 4);
	reg_value_release(&v);
	apply_report_release(&r);
	free(hive);
	atu_release(&t);
}

/* ---- a Wi-Fi profile that does not parse ----------------------------------- */

#define WLAN_DIR "C:\\ProgramData\\Microsoft\\Wlansvc\\Profiles\\Interfaces\\{0A1B2C3D-0000-1111-2222-333344445555}\\"

struct warn_seen {
	int wifi_warn;
	int placed;
};

static void on_log(void *ctx, int level, const char *where, const char *msg)
{
	struct warn_seen *w = ctx;

	if (level == WS_LOG_WARN && strstr(where, "Broken.xml") && strstr(msg, "Wi-Fi profile not read"))
		w->wifi_warn++;
}

static void on_place(void *ctx, const struct apply_action *a)
{
	struct warn_seen *w = ctx;

	if (a->kind == APPLY_FILE_PLACE && strstr(a->object, "\\Wlansvc\\"))
		w->placed++;
}

static void wifi_profile_that_does_not_parse_is_a_warning(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	struct warn_seen w = { 0, 0 };
	struct ws_log log = { on_log, &w, WS_LOG_DEBUG, 0, 0 };
	struct store_open_opts so = { 0 };
	struct store *st;
	struct store_writer *wr;
	struct store_scan_info info = { 0 };
	struct store_user u = { 0, "S-1-5-21-9-9-9-1001", "alice", "C:\\Users\\alice", 0,
				STORE_USER_LOCAL };
	static const char good[] =
		"<?xml version=\"1.0\"?>\r\n<WLANProfile xmlns=\"http://www.microsoft.com/networking/WLAN/profile/v1\">"
		"<name>HomeNet</name><SSIDConfig><SSID><name>HomeNet</name></SSID></SSIDConfig>"
		"<MSM><security><authEncryption><authentication>WPA2PSK</authentication>"
		"<encryption>AES</encryption><useOneX>false</useOneX></authEncryption><sharedKey>"
		"<keyType>passPhrase</keyType><protected>true</protected><keyMaterial>01000000D08C"
		"</keyMaterial></sharedKey></security></MSM></WLANProfile>";
	static const char broken[] = "<?xml version=\"1.0\"?>\r\n<WLANProfile><name>Cut</name><SSIDConfig>";
	const char *paths[] = { WLAN_DIR "HomeNet.xml", WLAN_DIR "Broken.xml" };
	const char *data[] = { good, broken };
	(void)state;

	atu_setup(&t, 1, "alice");
	free(t.store);
	t.store = ws_xasprintf("%s/wifi", t.dir);
	snprintf(t.device, sizeof(t.device), "WIFIPC");
	so.create = 1;
	ws_error_clear(&e);
	tu_assert_ok(store_open(t.store, &so, &st, &e), &e);
	info.device = "WIFIPC";
	info.system_drive = 'C';
	tu_assert_ok(store_scan_begin(st, &info, &wr, &e), &e);
	tu_assert_ok(store_scan_add_user(wr, &u, &e), &e);
	for (int i = 0; i < 2; i++) {
		struct store_file f = { 0 };

		f.user = STORE_SYSTEM;
		f.path = paths[i];
		f.size = strlen(data[i]);
		f.written_ft = 133000000000000000ull;
		tu_assert_ok(store_scan_add_file_mem(wr, &f, data[i], strlen(data[i]), &e), &e);
	}
	tu_assert_ok(store_scan_commit(wr, NULL, &e), &e);
	store_close(st);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.log = &log;
	o.on_action = on_place;
	o.on_action_ctx = &w;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_int_equal(w.wifi_warn, 1);
	/* The rest is carried: both files placed, the good one listed. */
	assert_int_equal(w.placed, 2);
	assert_int_equal(r.wifi_profiles, 2);
	assert_int_equal(r.n_wifi, 1);
	assert_string_equal(r.wifi[0].ssid, "HomeNet");
	apply_report_release(&r);
	atu_release(&t);
}

/* ---- Start pins of users staged on Windows 11 ---------------------------------- */

#define PIN_TILES "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\CloudStore\\Store\\Cache\\" \
	"DefaultAccount\\$de${8a09bc9e-40f2-4f5c-8385-ea0e3969f8cf}$start.tilegrid" \
	"$windows.data.curatedtilecollection.tilecollection\\Current"
#define PIN_SHELL "AppData\\Local\\Microsoft\\Windows\\Shell\\LayoutModification.json"

/* A Windows 10 scan of alice and bob, each with Start tiles pinning
 * Calculator and one more app; an empty Windows 11 target (both staged). */
static void pins_setup(struct atu *t, const char *app_alice, const char *app_bob)
{
	static const char *const sids[] = { "S-1-5-21-7-7-7-1001", "S-1-5-21-7-7-7-1002" };
	static const char *const names[] = { "alice", "bob" };
	const char *apps[] = { app_alice, app_bob };
	struct store_open_opts so = { 0 };
	struct store_scan_info info = { 0 };
	struct store_writer *w;
	struct store *st;
	struct ws_error e;
	struct fx_opts fo;

	atu_init(t); /* the store is made by hand: no source */
	snprintf(t->device, sizeof(t->device), "PINPC");
	fx_opts_init(&fo);
	fo.out_dir = t->tgt;
	fo.kind = FX_TARGET;
	fo.seed = 2;
	fo.os = FX_WIN11;
	ws_error_clear(&e);
	tu_assert_ok(fx_build(&fo, NULL, &e), &e);
	so.create = 1;
	tu_assert_ok(store_open(t->store, &so, &st, &e), &e);
	info.device = t->device;
	info.os_build = "19045.1";
	info.system_drive = 'C';
	tu_assert_ok(store_scan_begin(st, &info, &w, &e), &e);
	for (uint32_t i = 0; i < 2; i++) {
		char *prof = ws_xasprintf("C:\\Users\\%s", names[i]);
		struct store_user u = { i, sids[i], names[i], prof, 0, STORE_USER_LOCAL };
		struct ws_buf b = WS_BUF_INIT;
		struct store_value v = { 0 };

		tu_assert_ok(store_scan_add_user(w, &u, &e), &e);
		ws_buf_add(&b, "\x02\x00\x00\x00", 4);
		u16_at(&b, "P~Microsoft.WindowsCalculator_8wekyb3d8bbwe!App");
		ws_buf_add(&b, "\x00\x00", 2);
		u16_at(&b, apps[i]);
		ws_buf_add(&b, "\x00\x00", 2);
		v.user = i;
		v.key = PIN_TILES;
		v.name = "Data";
		v.type = 3; /* REG_BINARY */
		v.data = (const unsigned char *)b.buf;
		v.len = b.len;
		tu_assert_ok(store_scan_add_value(w, &v, &e), &e);
		ws_buf_release(&b);
		free(prof);
	}
	tu_assert_ok(store_scan_commit(w, NULL, &e), &e);
	store_close(st);
}

struct pin_acts {
	char targets[4][200];
	char users[4][16];
	int kinds[4];
	int n;
};

static void on_pin_act(void *ctx, const struct apply_action *a)
{
	struct pin_acts *p = ctx;

	if ((a->kind != APPLY_SETTINGS_FILE && a->kind != APPLY_FILE_KEEP) ||
	    strcmp(a->object, "start-pins") || !a->target ||
	    !strstr(a->target, "LayoutModification.json") || p->n >= 4)
		return;
	snprintf(p->targets[p->n], sizeof(p->targets[0]), "%s", a->target);
	snprintf(p->users[p->n], sizeof(p->users[0]), "%s", a->user);
	p->kinds[p->n] = a->kind;
	if (a->kind == APPLY_SETTINGS_FILE && strstr(a->target, "\\Users\\Default\\") == NULL)
		assert_non_null(strstr(a->reason, "before Start makes the profile's first layout"));
	p->n++;
}

static void pins_apply(struct atu *t, struct pin_acts *p)
{
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;

	memset(p, 0, sizeof(*p));
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.on_action = on_pin_act;
	o.on_action_ctx = p;
	tu_assert_ok(atu_apply(t, &o, &r, &e), &e);
	assert_int_equal(r.users_staged, 2);
	assert_int_equal(r.target_build, 22631);
	apply_report_release(&r);
}

static char *pins_bundle(struct atu *t, const char *sid)
{
	char *p = ws_xasprintf("%s/ProgramData/winstate/bundles/%s/start-pins.json", t->tgt, sid);
	char *s = tu_read_file(p, NULL);

	free(p);
	return s;
}

/* Different lists: none in the Default profile (it would give one user's
 * pins to every new user); each bundle holds its own user's list, each user
 * an action naming the LayoutModification.json of that user's profile, and
 * the one script places it before Start starts. */
static void staged_users_with_different_pins_get_their_own(void **state)
{
	struct atu t;
	struct pin_acts p;
	char *def, *a, *b, *script;
	struct ws_buf fixed = WS_BUF_INIT;
	(void)state;

	pins_setup(&t, "P~Microsoft.Windows.Photos_8wekyb3d8bbwe!App",
		   "P~Microsoft.Windows.Paint3_8wekyb3d8bbwe!App");
	pins_apply(&t, &p);
	def = ws_xasprintf("%s/Users/Default/AppData/Local/Microsoft/Windows/Shell/"
			   "LayoutModification.json", t.tgt);
	assert_int_not_equal(access(def, F_OK), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.users[0], "alice");
	assert_string_equal(p.targets[0], "C:\\Users\\alice\\" PIN_SHELL);
	assert_string_equal(p.users[1], "bob");
	assert_string_equal(p.targets[1], "C:\\Users\\bob\\" PIN_SHELL);
	a = pins_bundle(&t, "S-1-5-21-7-7-7-1001");
	b = pins_bundle(&t, "S-1-5-21-7-7-7-1002");
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, "{\"pinnedList\":[\n"
			    "  {\"packagedAppId\":\"Microsoft.WindowsCalculator_8wekyb3d8bbwe!App\"},\n"
			    "  {\"packagedAppId\":\"Microsoft.Windows.Photos_8wekyb3d8bbwe!App\"}\n]}\n");
	assert_non_null(strstr(b, "Microsoft.Windows.Paint3_8wekyb3d8bbwe!App"));
	assert_null(strstr(b, "Photos"));
	/* the script's step: in the setup phase (before the desktop), copying
	 * the data file without overwriting, only without a Start layout */
	bundle_script(&fixed);
	script = fixed.buf;
	assert_non_null(strstr(script, "function StartPins("));
	assert_true(strstr(script, "try { StartPins $found[0] $found[1] $found[2] } catch { }") <
		    strstr(script, "try { RunOnce $true } catch { }"));
	assert_true(strstr(script, "if ($Phase -eq 'setup') {") <
		    strstr(script, "try { StartPins $found[0]"));
	assert_non_null(strstr(script, "[IO.File]::Copy($src, $dst, $false)"));
	assert_non_null(strstr(script, "foreach ($b in 'start2.bin', 'start.bin')"));
	assert_non_null(strstr(script, "'Microsoft\\Windows\\Shell\\LayoutModification.json'"));
	ws_buf_release(&fixed);
	free(a);
	free(b);
	free(def);
	atu_release(&t);
}

/* Different lists on an image whose Default profile has a layout of its
 * own: every new profile is copied with it and the script keeps it, which
 * each user's action says (file-keep); the image's file is left alone. */
static void different_pins_and_the_images_own_layout(void **state)
{
	static const char image[] = "{\"pinnedList\":[{\"desktopAppId\":\"MSEdge\"}]}\n";
	struct atu t;
	struct pin_acts p;
	char *dir, *def, *got;
	(void)state;

	pins_setup(&t, "P~Microsoft.Windows.Photos_8wekyb3d8bbwe!App",
		   "P~Microsoft.Windows.Paint3_8wekyb3d8bbwe!App");
	dir = ws_xasprintf("%s/Users/Default/AppData/Local/Microsoft/Windows/Shell", t.tgt);
	def = ws_xasprintf("%s/LayoutModification.json", dir);
	assert_int_equal(ws_mkdir_p(dir, WS_E_IO, NULL), WS_OK);
	tu_write_file(def, image, strlen(image));
	pins_apply(&t, &p);
	assert_int_equal(p.n, 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(p.kinds[i], APPLY_FILE_KEEP);
	assert_string_equal(p.targets[1], "C:\\Users\\bob\\" PIN_SHELL);
	got = tu_read_file(def, NULL);
	assert_string_equal(got, image);
	free(got);
	free(def);
	free(dir);
	atu_release(&t);
}

/* One list for everybody: the Default profile's file, as before. */
static void staged_users_with_the_same_pins_share_the_default_file(void **state)
{
	struct atu t;
	struct pin_acts p;
	char *def, *got;
	(void)state;

	pins_setup(&t, "W~MSEdge", "W~MSEdge");
	pins_apply(&t, &p);
	def = ws_xasprintf("%s/Users/Default/AppData/Local/Microsoft/Windows/Shell/"
			   "LayoutModification.json", t.tgt);
	got = tu_read_file(def, NULL);
	assert_non_null(got);
	assert_string_equal(got, "{\"pinnedList\":[\n"
			    "  {\"packagedAppId\":\"Microsoft.WindowsCalculator_8wekyb3d8bbwe!App\"},\n"
			    "  {\"desktopAppId\":\"MSEdge\"}\n]}\n");
	assert_int_equal(p.n, 2);
	for (int i = 0; i < 2; i++)
		assert_string_equal(p.targets[i], "C:\\Users\\Default\\" PIN_SHELL);
	free(got);
	free(def);
	atu_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(notes_are_read_from_rule_xml),
		cmocka_unit_test(notes_of_bad_xml_are_refused),
		cmocka_unit_test(start_layout_travels_between_compatible_builds),
		cmocka_unit_test(verdicts_follow_the_notes_only_from_10_to_11),
		cmocka_unit_test(default_app_keys_and_xml),
		cmocka_unit_test(malformed_settings_values_are_refused),
		cmocka_unit_test(pins_from_a_synthetic_blob),
		cmocka_unit_test(pins_from_hostile_blobs),
		cmocka_unit_test(pins_of_the_real_windows10_hive),
		cmocka_unit_test(win10_to_win11_drops_with_reasons),
		cmocka_unit_test(win10_to_win10_carries_everything),
		cmocka_unit_test(bad_settings_values_are_skipped_the_rest_carried),
		cmocka_unit_test(wifi_profile_that_does_not_parse_is_a_warning),
		cmocka_unit_test(staged_users_with_different_pins_get_their_own),
		cmocka_unit_test(staged_users_with_the_same_pins_share_the_default_file),
		cmocka_unit_test(different_pins_and_the_images_own_layout),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tu_cleanup();
	return rc;
}
