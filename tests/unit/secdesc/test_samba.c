/*
 * test_samba.c - descriptors checked by an independent implementation:
 * samba's NDR (Debian python3-samba) builds the parents from SDDL and
 * decodes what sd_serialize wrote back into SDDL.  The expected children
 * are what Windows computes (MS-DTYP 2.5.3.4 and "ACE inheritance rules");
 * each case says why.  Masks are given in hex because samba 4.17 misreads
 * "FA"; samba prints them as 0x%08x and flags in the order OI CI NP IO ID.
 */
#include "tu.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "secdesc/sd.h"

#define PY "/usr/bin/python3"
static const char script[] =
	"import sys\n"
	"from samba.dcerpc import security\n"
	"from samba.ndr import ndr_pack, ndr_unpack\n"
	"m, a = sys.argv[1], sys.argv[2]\n"
	"if m == \"enc\":\n"
	"    d = security.descriptor.from_sddl(a, security.dom_sid(\"S-1-5-21-9-9-9\"))\n"
	"    print(ndr_pack(d).hex())\n"
	"else:\n"
	"    print(ndr_unpack(security.descriptor, bytes.fromhex(a)).as_sddl())\n";

/* Run the script (mode "enc": SDDL -> hex, "dec": hex -> SDDL); stdout
 * without its newline, malloc'd. */
static char *samba(const char *mode, const char *arg)
{
	char *cmd = ws_xasprintf(PY " -c '%s' %s '%s' 2>&1", script, mode, arg);
	struct ws_buf out = WS_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = popen(cmd, "r");
	int st;

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ws_buf_add(&out, chunk, n);
	st = pclose(f);
	free(cmd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char msg[2048];

		snprintf(msg, sizeof(msg), "%s", out.buf);
		ws_buf_release(&out);
		fail_msg("samba %s '%s' failed: %s", mode, arg, msg);
	}
	while (out.len && (out.buf[out.len - 1] == '\n' || out.buf[out.len - 1] == '\r'))
		ws_buf_setlen(&out, out.len - 1);
	return ws_buf_detach(&out, NULL);
}


static void hex_decode(const char *hex, struct ws_buf *b)
{
	for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
		unsigned v;

		assert_int_equal(sscanf(hex + i, "%2x", &v), 1);
		ws_buf_add_u8(b, v);
	}
}

static char *hex_encode(const struct ws_buf *b)
{
	struct ws_buf h = WS_BUF_INIT;

	for (size_t i = 0; i < b->len; i++)
		ws_buf_addf(&h, "%02x", (unsigned char)b->buf[i]);
	return ws_buf_detach(&h, NULL);
}

/* SDDL -> samba bytes -> sd_parse; also checks our serialisation of it is
 * byte-identical (samba lays descriptors out as we do). */
static void from_sddl(const char *sddl, struct sd_desc *d)
{
	char *hex = samba("enc", sddl), *back;
	struct ws_buf b = WS_BUF_INIT, out = WS_BUF_INIT;
	struct ws_error err;

	hex_decode(hex, &b);
	tu_assert_ok(sd_parse(d, b.buf, b.len, &err), &err);
	tu_assert_ok(sd_serialize(d, &out, &err), &err);
	back = hex_encode(&out);
	assert_string_equal(back, hex);
	free(back);
	free(hex);
	ws_buf_release(&b);
	ws_buf_release(&out);
}

/* sd_serialize -> samba -> SDDL */
static void expect_sddl(const struct sd_desc *d, const char *want)
{
	struct ws_buf out = WS_BUF_INIT;
	struct ws_error err;
	char *hex, *got;

	tu_assert_ok(sd_serialize(d, &out, &err), &err);
	hex = hex_encode(&out);
	got = samba("dec", hex);
	assert_string_equal(got, want);
	free(got);
	free(hex);
	ws_buf_release(&out);
}

#define U "S-1-5-21-1-2-3-1001"
#define G "S-1-5-21-1-2-3-513"
#define FA "0x001f01ff"
#define RX "0x001200a9"

static void child_of(const char *parent_sddl, int is_dir, const char *owner,
		     const char *group, const char *want)
{
	struct sd_desc p = SD_DESC_INIT, c = SD_DESC_INIT;
	struct sd_sid o, g;

	assert_int_equal(sd_sid_from_text(&o, owner), 0);
	assert_int_equal(sd_sid_from_text(&g, group), 0);
	from_sddl(parent_sddl, &p);
	sd_inherit(&c, &p, is_dir, &o, &g);
	expect_sddl(&c, want);
	sd_desc_release(&p);
	sd_desc_release(&c);
}

/*
 * Case 1: a profile-like folder with SYSTEM, Administrators and Users
 * inheritable to all, and CREATOR OWNER inherit-only.  A file gets every
 * OI ACE as effective (INHERITED only), CREATOR OWNER replaced by the new
 * owner.  A folder keeps the OICI ACEs as OICI|ID (one ACE each: nothing to
 * map), and CREATOR OWNER splits in two, as "ACE inheritance rules" says
 * for ACEs with generic information: an effective ACE for the owner, then
 * the inherit-only CREATOR OWNER ACE for the next generation.  Both get
 * SE_DACL_AUTO_INHERITED (AI), not the parent's PROTECTED.
 */
static void profile_folder(void **state)
{
	const char *parent = "O:BAG:SYD:PAI(A;OICI;0x1f01ff;;;SY)(A;OICI;0x1f01ff;;;BA)"
			     "(A;OICIIO;0x1f01ff;;;CO)(A;OICI;0x1200a9;;;BU)";

	child_of(parent, 0, U, G,
		 "O:" U "G:" G "D:AI(A;ID;" FA ";;;SY)(A;ID;" FA ";;;BA)(A;ID;" FA ";;;" U ")"
		 "(A;ID;" RX ";;;BU)");
	child_of(parent, 1, U, G,
		 "O:" U "G:" G "D:AI(A;OICIID;" FA ";;;SY)(A;OICIID;" FA ";;;BA)"
		 "(A;ID;" FA ";;;" U ")(A;OICIIOID;" FA ";;;CO)(A;OICIID;" RX ";;;BU)");
}

/*
 * Case 2: the root of a Windows 10/11 system drive.  Authenticated Users'
 * "Modify" on children is given as an inherit-only ACE with generic rights
 * (DELETE|GENERIC_READ|GENERIC_WRITE|GENERIC_EXECUTE) next to an explicit,
 * non-inheritable ACE for the folder itself.  A file maps the generic
 * rights through the file GenericMapping: 0x10000|0x120089|0x120116|
 * 0x1200a0 = 0x1301bf ("Modify").  A folder gets that mapped ACE plus the
 * generic one kept inherit-only; the explicit (A;;...;;;AU) is not
 * inheritable and reaches no child.
 */
static void system_drive_root(void **state)
{
	const char *parent = "O:SYG:SYD:PAI(A;OICI;0x1f01ff;;;BA)(A;OICI;0x1f01ff;;;SY)"
			     "(A;OICI;0x1200a9;;;BU)(A;;0x1301bf;;;AU)(A;OICIIO;SDGRGWGX;;;AU)";

	child_of(parent, 0, "S-1-5-32-544", "S-1-5-18",
		 "O:BAG:SYD:AI(A;ID;" FA ";;;BA)(A;ID;" FA ";;;SY)(A;ID;" RX ";;;BU)"
		 "(A;ID;0x001301bf;;;AU)");
	child_of(parent, 1, "S-1-5-32-544", "S-1-5-18",
		 "O:BAG:SYD:AI(A;OICIID;" FA ";;;BA)(A;OICIID;" FA ";;;SY)(A;OICIID;" RX ";;;BU)"
		 "(A;ID;0x001301bf;;;AU)(A;OICIIOID;SDGRGWGX;;;AU)");
}

/*
 * Case 3: every flag combination once, in this order:
 *   (A;CI;RX;;;AU)        container-only: a file must not get it; a folder
 *                         gets it effective and still container-inheritable
 *   (A;OICINP;FA;;;1002)  no-propagate: effective on both, inheritable by
 *                         neither's children (flags = ID only)
 *   (A;OI;GR;;;BU)        object-only: effective (GR mapped to 0x120089) on a
 *                         file; a folder keeps it inherit-only (OI|IO),
 *                         unmapped, for the files it will hold
 *   (A;OINPIO;GW;;;1003)  object-only, no-propagate: the file gets GW mapped
 *                         (0x120116); a folder gets nothing (NP)
 *   (D;OICIIO;SD;;;WD)    the parent's INHERIT_ONLY does not matter: a deny
 *                         DELETE reaches both, the folder's stays OICI
 *   (A;;FA;;;SY)          not inheritable: reaches no child
 *   (A;OICI;GA;;;CG)      CREATOR GROUP with GENERIC_ALL: the group gets FA;
 *                         a folder also keeps the generic ACE inherit-only
 */
static void flag_combinations(void **state)
{
	const char *parent = "O:BAG:SYD:(A;CI;0x1200a9;;;AU)"
			     "(A;OICINP;0x1f01ff;;;S-1-5-21-1-2-3-1002)(A;OI;GR;;;BU)"
			     "(A;OINPIO;GW;;;S-1-5-21-1-2-3-1003)(D;OICIIO;0x10000;;;WD)"
			     "(A;;0x1f01ff;;;SY)(A;OICI;GA;;;CG)";

	child_of(parent, 0, U, G,
		 "O:" U "G:" G "D:AI(A;ID;" FA ";;;S-1-5-21-1-2-3-1002)(A;ID;0x00120089;;;BU)"
		 "(A;ID;0x00120116;;;S-1-5-21-1-2-3-1003)(D;ID;SD;;;WD)(A;ID;" FA ";;;" G ")");
	child_of(parent, 1, U, G,
		 "O:" U "G:" G "D:AI(A;CIID;" RX ";;;AU)(A;ID;" FA ";;;S-1-5-21-1-2-3-1002)"
		 "(A;OIIOID;GR;;;BU)(D;OICIID;SD;;;WD)(A;ID;" FA ";;;" G ")(A;OICIIOID;GA;;;CG)");
}

/*
 * Case 4: nothing inheritable for a file (the only inheritable ACE is
 * container-only): Windows falls back to the creator's default DACL, here
 * that of SYSTEM / an elevated administrator, without AI.  A folder does
 * inherit the CI ACE.
 */
static void nothing_to_inherit(void **state)
{
	const char *parent = "O:BAG:SYD:P(A;;0x1f01ff;;;SY)(A;CI;0x1f01ff;;;BA)";

	child_of(parent, 0, U, G,
		 "O:" U "G:" G "D:(A;;" FA ";;;SY)(A;;" FA ";;;BA)");
	child_of(parent, 1, U, G, "O:" U "G:" G "D:AI(A;CIID;" FA ";;;BA)");
}

/*
 * Case 5: two generations.  The folder made in case 1 holds (A;ID;FA;;;U)
 * (not inheritable) and the inherit-only CREATOR OWNER ACE; a file created
 * in it by Administrators gets the OICI ACEs and CREATOR OWNER mapped to
 * Administrators - the first folder's owner U is not carried on.
 */
static void grandchild(void **state)
{
	struct sd_desc p = SD_DESC_INIT, c = SD_DESC_INIT, gc = SD_DESC_INIT;
	struct sd_sid u, g;

	assert_int_equal(sd_sid_from_text(&u, U), 0);
	assert_int_equal(sd_sid_from_text(&g, G), 0);
	from_sddl("O:BAG:SYD:PAI(A;OICI;0x1f01ff;;;SY)(A;OICI;0x1f01ff;;;BA)"
		  "(A;OICIIO;0x1f01ff;;;CO)(A;OICI;0x1200a9;;;BU)", &p);
	sd_inherit(&c, &p, 1, &u, &g);
	sd_inherit(&gc, &c, 0, &sd_sid_administrators, &sd_sid_system);
	expect_sddl(&gc, "O:BAG:SYD:AI(A;ID;" FA ";;;SY)(A;ID;" FA ";;;BA)(A;ID;" FA ";;;BA)"
			 "(A;ID;" RX ";;;BU)");
	sd_desc_release(&p);
	sd_desc_release(&c);
	sd_desc_release(&gc);
}

/* winstate's own folders, and a file made inside the private one. */
static void own_folders(void **state)
{
	struct sd_desc d = SD_DESC_INIT, f = SD_DESC_INIT;
	struct sd_sid u;

	assert_int_equal(sd_sid_from_text(&u, U), 0);
	sd_make_private(&d, &u);
	expect_sddl(&d, "O:BAG:SYD:PAI(A;OICI;" FA ";;;SY)(A;OICI;" FA ";;;BA)(A;OICI;" FA ";;;" U ")");
	sd_inherit(&f, &d, 0, &sd_sid_administrators, &sd_sid_system);
	expect_sddl(&f, "O:BAG:SYD:AI(A;ID;" FA ";;;SY)(A;ID;" FA ";;;BA)(A;ID;" FA ";;;" U ")");
	sd_make_shared(&d);
	expect_sddl(&d, "O:BAG:SYD:PAI(A;OICI;" FA ";;;SY)(A;OICI;" FA ";;;BA)(A;OICI;" RX ";;;BU)");
	sd_make_admin_only(&d);
	expect_sddl(&d, "O:BAG:SYD:PAI(A;OICI;" FA ";;;SY)(A;OICI;" FA ";;;BA)");
	sd_desc_release(&d);
	sd_desc_release(&f);
}

/* Parts samba writes that our model must carry through untouched: a SACL,
 * object ACEs, no DACL, no group. */
static void samba_roundtrips(void **state)
{
	static const char *const cases[] = {
		"O:BAG:SYD:AI(A;ID;0x1f01ff;;;SY)S:AI(AU;SAFA;0x1f01ff;;;WD)",
		"O:SYG:SYD:(OA;CI;0x10;bf967aba-0de6-11d0-a285-00aa003049e2;;AU)(A;;0x1;;;BU)",
		"O:BAG:SY",
		"O:S-1-5-21-1004336348-1177238915-682003330-1001D:PAI(D;OICI;0x10000;;;WD)",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sd_desc d = SD_DESC_INIT;
		char *hex = samba("enc", cases[i]), *want = samba("dec", hex);

		from_sddl(cases[i], &d);     /* byte-identical re-serialisation */
		expect_sddl(&d, want);
		free(hex);
		free(want);
		sd_desc_release(&d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(profile_folder),
		cmocka_unit_test(system_drive_root),
		cmocka_unit_test(flag_combinations),
		cmocka_unit_test(nothing_to_inherit),
		cmocka_unit_test(grandchild),
		cmocka_unit_test(own_folders),
		cmocka_unit_test(samba_roundtrips),
	};
	if (access(PY, X_OK) != 0 ||
	    system(PY " -c 'import samba.dcerpc.security' >/dev/null 2>&1") != 0) {
		printf("SKIP: python3-samba is not installed (./build.sh installs it)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
