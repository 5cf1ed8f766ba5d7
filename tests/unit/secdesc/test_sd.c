/* test_sd.c - SID text and binary forms, descriptor parse/serialise round
 * trips and hostile descriptors, inheritance and winstate's own folders
 * checked on the model (test_samba.c checks the bytes with samba). */
#include "tu.h"

#include <stdio.h>
#include <string.h>

#include "secdesc/sd.h"

static void sid_text_accepts_canonical(void **state)
{
	static const char *const ok[] = {
		"S-1-5-18", "S-1-5-32-544", "S-1-1-0", "S-1-3-0", "S-1-0-0",
		"S-1-5-21-1004336348-1177238915-682003330-1001",
		"S-1-281474976710655-4294967295",
		"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15",
		"S-1-15-2-1", "S-1-16-12288",
	};
	char buf[SD_SID_TEXT_MAX];
	struct sd_sid s;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(sd_sid_from_text(&s, ok[i]), 0);
		assert_true(sd_sid_valid_text(ok[i]));
		/* canonical: text -> binary -> text is the identity */
		assert_string_equal(sd_sid_to_text(&s, buf), ok[i]);
	}
	assert_int_equal(sd_sid_from_text(&s, "S-1-5-32-544"), 0);
	assert_true(sd_sid_equal(&s, &sd_sid_administrators));
	/* the longest possible text fits the buffer */
	memset(&s, 0, sizeof(s));
	s.auth = 0xFFFFFFFFFFFFull;
	s.nsub = 15;
	for (int i = 0; i < 15; i++)
		s.sub[i] = 0xFFFFFFFFu;
	sd_sid_to_text(&s, buf);
	assert_int_equal(strlen(buf), 184);
	assert_true(sd_sid_valid_text(buf));
}

static void sid_text_refuses_everything_else(void **state)
{
	static const char *const bad[] = {
		"", "S", "S-", "S-1", "S-1-", "S-1-5", "S-1-5-", "S-1-5--18", "S-1-5-18-",
		"s-1-5-18", "S-2-5-18", "S-01-5-18", "S-1-05-18", "S-1-5-018",
		"S-1-+5-18", "S-1-5-+18", "S-1--5-18", "S-1-5-18 ", " S-1-5-18",
		"S-1-5- 18", "S-1-0x5-18", "S-1-5-18\n", "S-1-5-1a", "S-1-5-18/..",
		"../..", "S-1-5-21-1-2-3/../../x", "\"S-1-5-18\"", "'S-1-5-18'",
		"S-1-5-4294967296", "S-1-281474976710656-1", "S-1-5-99999999999999999999",
		"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
		"S-1-5-18\\x", "S-1-5-18.1",
	};
	struct sd_sid s = sd_sid_system, keep = sd_sid_system;
	char longer[400];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sd_sid_from_text(&s, bad[i]) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_false(sd_sid_valid_text(bad[i]));
	}
	assert_true(sd_sid_equal(&s, &keep));
	assert_false(sd_sid_valid_text(NULL));
	/* an embedded NUL in a counted string */
	assert_int_equal(sd_sid_from_textn(&s, "S-1-5-18\0-1", 11), -1);
	assert_int_equal(sd_sid_from_textn(&s, "S-1-5-18-1", 8), 0);
	assert_true(sd_sid_equal(&s, &sd_sid_system));
	/* leading zeros making an overlong but in-range text */
	strcpy(longer, "S-1-5-");
	memset(longer + 6, '0', 300);
	strcpy(longer + 306, "18");
	assert_false(sd_sid_valid_text(longer));
}

static void sid_binary_roundtrip_and_bounds(void **state)
{
	struct ws_buf b = WS_BUF_INIT;
	struct sd_sid s, u;
	size_t used = 0;
	char t[SD_SID_TEXT_MAX];

	assert_int_equal(sd_sid_from_text(&s, "S-1-5-21-1004336348-1177238915-682003330-1001"), 0);
	sd_sid_to_bin(&s, &b);
	assert_int_equal(b.len, 28);
	assert_int_equal(sd_sid_size(&s), 28);
	assert_memory_equal(b.buf, "\x01\x05\x00\x00\x00\x00\x00\x05\x15\x00\x00\x00", 12);
	assert_int_equal(sd_sid_from_bin(&u, b.buf, b.len, &used), 0);
	assert_int_equal(used, 28);
	assert_true(sd_sid_equal(&s, &u));
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(sd_sid_from_bin(&u, b.buf, n, &used), -1);
	b.buf[0] = 2;                                          /* revision */
	assert_int_equal(sd_sid_from_bin(&u, b.buf, b.len, &used), -1);
	b.buf[0] = 1;
	b.buf[1] = 16;                                         /* > 15 subs */
	assert_int_equal(sd_sid_from_bin(&u, b.buf, 200, &used), -1);
	/* a 48-bit authority is big-endian */
	ws_buf_reset(&b);
	ws_buf_add(&b, "\x01\x01\x12\x34\x56\x78\x9a\xbc\x01\x00\x00\x00", 12);
	assert_int_equal(sd_sid_from_bin(&u, b.buf, b.len, NULL), 0);
	assert_string_equal(sd_sid_to_text(&u, t), "S-1-20015998343868-1");
	ws_buf_release(&b);
}

/* O:BA G:SY D:PAI(A;OICI;FA;;;SY)(D;CI;0x10000;;;WD) S:(AU;SA;0x1f01ff;;;WD)
 * (opaque object ACE 0x05 in the SACL); written in the canonical layout. */
static void build_sample(struct ws_buf *b)
{
	struct sd_desc d = SD_DESC_INIT;
	struct sd_ace obj = { 0 };
	unsigned char body[4 + 4 + 16 + 12];

	d.control = SD_DACL_PROTECTED | SD_DACL_AUTO_INHERITED;
	d.has_owner = d.has_group = d.has_dacl = d.has_sacl = 1;
	d.owner = sd_sid_administrators;
	d.group = sd_sid_system;
	sd_acl_add(&d.dacl, SD_ACE_ALLOWED, SD_ACE_OI | SD_ACE_CI, SD_FILE_ALL_ACCESS, &sd_sid_system);
	sd_acl_add(&d.dacl, SD_ACE_DENIED, SD_ACE_CI, 0x10000, &sd_sid_everyone);
	sd_acl_add(&d.sacl, SD_ACE_AUDIT, SD_ACE_SA, SD_FILE_ALL_ACCESS, &sd_sid_everyone);
	memset(body, 0xA5, sizeof(body));
	obj.type = SD_ACE_ALLOWED_OBJECT;
	obj.flags = SD_ACE_CI;
	obj.opaque = 1;
	obj.data = body;
	obj.data_len = sizeof(body);
	sd_acl_add_copy(&d.sacl, &obj);
	tu_assert_ok(sd_serialize(&d, b, NULL), NULL);
	sd_desc_release(&d);
}

static void descriptor_roundtrip(void **state)
{
	struct ws_buf b = WS_BUF_INIT, again = WS_BUF_INIT, txt = WS_BUF_INIT;
	struct sd_desc d = SD_DESC_INIT, c = SD_DESC_INIT;
	struct ws_error err;

	build_sample(&b);
	/* header: revision 1, control with SELF_RELATIVE|DACL|SACL present,
	 * owner right after the header */
	assert_int_equal((unsigned char)b.buf[0], 1);
	assert_int_equal((unsigned char)b.buf[2] | (unsigned char)b.buf[3] << 8,
			 0x8000 | 0x1000 | 0x0400 | 0x0010 | 0x0004);
	assert_int_equal((unsigned char)b.buf[4], 20);
	tu_assert_ok(sd_parse(&d, b.buf, b.len, &err), &err);
	assert_int_equal(d.dacl.n, 2);
	assert_int_equal(d.sacl.n, 2);
	assert_int_equal(d.sacl.revision, 4);       /* object ACE needs ACL_REVISION_DS */
	assert_true(d.sacl.v[1].opaque);
	assert_int_equal(d.sacl.v[1].data_len, 36);
	assert_true(sd_sid_equal(&d.owner, &sd_sid_administrators));
	sd_to_text(&d, &txt);
	assert_string_equal(txt.buf,
			    "O:S-1-5-32-544G:S-1-5-18D:PAI(A;OICI;0x1f01ff;;;S-1-5-18)"
			    "(D;CI;0x10000;;;S-1-1-0)S:(AU;SA;0x1f01ff;;;S-1-1-0)(0x05;CI;opaque:36)");
	tu_assert_ok(sd_serialize(&d, &again, &err), &err);
	assert_int_equal(again.len, b.len);
	assert_memory_equal(again.buf, b.buf, b.len);
	/* a copy serialises the same */
	sd_desc_copy(&c, &d);
	ws_buf_reset(&again);
	tu_assert_ok(sd_serialize(&c, &again, &err), &err);
	assert_memory_equal(again.buf, b.buf, b.len);
	sd_desc_release(&c);
	sd_desc_release(&d);
	ws_buf_release(&b);
	ws_buf_release(&again);
	ws_buf_release(&txt);
}

/* What mkntfs writes for the root folder: DACL first, ACL size far beyond
 * its ACEs, owner and group after it.  Accepted, and re-serialised compact. */
static void gaps_and_other_orders_are_accepted(void **state)
{
	struct ws_buf b = WS_BUF_INIT, out = WS_BUF_INIT;
	struct sd_desc d = SD_DESC_INIT, e = SD_DESC_INIT;
	struct ws_error err;

	ws_buf_add(&b, "\x01\x00\x04\x80", 4);
	ws_buf_add_u32le(&b, 20 + 200);                 /* owner */
	ws_buf_add_u32le(&b, 20 + 200 + 12);            /* group */
	ws_buf_add_u32le(&b, 0);
	ws_buf_add_u32le(&b, 20);                       /* DACL */
	ws_buf_add(&b, "\x02\x00", 2);
	ws_buf_add_u16le(&b, 200);
	ws_buf_add_u16le(&b, 1);
	ws_buf_add_u16le(&b, 0);
	ws_buf_add(&b, "\x00\x03\x14\x00", 4);
	ws_buf_add_u32le(&b, SD_FILE_ALL_ACCESS);
	sd_sid_to_bin(&sd_sid_system, &b);
	while (b.len < 220)
		ws_buf_addch(&b, 0);
	sd_sid_to_bin(&sd_sid_system, &b);
	sd_sid_to_bin(&sd_sid_system, &b);
	ws_buf_add(&b, "\0\0\0\0", 4);                  /* trailing bytes */
	tu_assert_ok(sd_parse(&d, b.buf, b.len, &err), &err);
	assert_int_equal(d.dacl.n, 1);
	assert_int_equal(d.dacl.v[0].flags, SD_ACE_OI | SD_ACE_CI);
	tu_assert_ok(sd_serialize(&d, &out, &err), &err);
	assert_int_equal(out.len, 20 + 12 + 12 + 8 + 20);
	tu_assert_ok(sd_parse(&e, out.buf, out.len, &err), &err);
	assert_true(sd_sid_equal(&e.owner, &sd_sid_system));
	assert_int_equal(e.dacl.v[0].mask, SD_FILE_ALL_ACCESS);
	sd_desc_release(&d);
	sd_desc_release(&e);
	ws_buf_release(&b);
	ws_buf_release(&out);
}

static void set16(struct ws_buf *b, size_t at, unsigned v)
{
	b->buf[at] = (char)(v & 0xFF);
	b->buf[at + 1] = (char)(v >> 8);
}

static void set32(struct ws_buf *b, size_t at, unsigned long v)
{
	for (int i = 0; i < 4; i++)
		b->buf[at + i] = (char)((v >> (8 * i)) & 0xFF);
}

static unsigned long get32(const struct ws_buf *b, size_t at)
{
	const unsigned char *p = (const unsigned char *)b->buf + at;

	return p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 |
	       (unsigned long)p[3] << 24;
}

/* Parse must fail with WS_E_CORRUPT and leave the model empty. */
static void expect_corrupt(const struct ws_buf *b, size_t len, const char *why)
{
	struct sd_desc d = SD_DESC_INIT;
	struct ws_error err;

	sd_make_admin_only(&d);          /* something to be cleared */
	ws_error_clear(&err);
	if (sd_parse(&d, b->buf, len, &err) != WS_E_CORRUPT)
		fail_msg("accepted: %s", why);
	assert_int_equal(err.code, WS_E_CORRUPT);
	assert_true(err.msg[0] != 0);
	assert_false(d.has_owner || d.has_dacl || d.dacl.n || d.sacl.n);
	assert_int_equal(sd_parse(&d, b->buf, len, NULL), WS_E_CORRUPT);
}

static void hostile_descriptors_are_refused(void **state)
{
	struct ws_buf b = WS_BUF_INIT, m = WS_BUF_INIT;
	size_t o_owner, o_sacl, o_dacl;

	build_sample(&b);
	o_owner = get32(&b, 4);
	o_sacl = get32(&b, 12);
	o_dacl = get32(&b, 16);

	for (size_t n = 0; n < b.len; n++) {     /* every truncation */
		char why[64];

		snprintf(why, sizeof(why), "truncated to %zu", n);
		expect_corrupt(&b, n, why);
	}
#define MUT(stmt, why)                                   \
	do {                                             \
		ws_buf_reset(&m);                        \
		ws_buf_add(&m, b.buf, b.len);            \
		stmt;                                    \
		expect_corrupt(&m, m.len, why);          \
	} while (0)
	MUT(m.buf[0] = 2, "SD revision 2");
	MUT(set16(&m, 2, 0x0004), "absolute (not self-relative) descriptor");
	MUT(set32(&m, 4, 8), "owner inside the header");
	MUT(set32(&m, 4, m.len), "owner at the end");
	MUT(set32(&m, 4, 0xFFFFFFFFul), "owner offset huge");
	MUT(set32(&m, 8, o_owner), "group = owner (overlap)");
	MUT(set32(&m, 8, o_owner + 4), "group inside owner");
	MUT(set32(&m, 16, o_sacl), "DACL = SACL");
	MUT(set32(&m, 16, o_dacl - 4), "DACL overlapping the SACL");
	MUT(m.buf[o_owner] = 2, "owner SID revision");
	MUT(m.buf[o_owner + 1] = 15, "owner SID past the end");
	MUT(m.buf[o_dacl] = 3, "ACL revision 3");
	MUT(m.buf[o_dacl] = 0, "ACL revision 0");
	MUT(set16(&m, o_dacl + 2, 4), "ACL size < 8");
	MUT(set16(&m, o_dacl + 2, 0xFFFF), "ACL size past the end");
	MUT(set16(&m, o_dacl + 4, 0xFFFF), "65535 ACEs");
	MUT(set16(&m, o_dacl + 4, 3), "one ACE more than fits");
	MUT(set16(&m, o_dacl + 8 + 2, 0), "ACE size 0");
	MUT(set16(&m, o_dacl + 8 + 2, 2), "ACE size 2");
	MUT(set16(&m, o_dacl + 8 + 2, 22), "ACE size not a multiple of 4");
	MUT(set16(&m, o_dacl + 8 + 2, 0x2000), "ACE size past the ACL");
	MUT(set16(&m, o_dacl + 8 + 2, 12), "ACE too small for its SID");
	MUT(m.buf[o_dacl + 8 + 8] = 9, "ACE SID revision");
	MUT(m.buf[o_dacl + 8 + 9] = 5, "ACE SID longer than the ACE");
	MUT(m.buf[o_dacl + 8 + 9] = 200, "ACE SID with 200 subauthorities");
	ws_buf_release(&m);
	ws_buf_release(&b);
}

static void absent_parts_and_null_dacl(void **state)
{
	struct ws_buf b = WS_BUF_INIT, out = WS_BUF_INIT;
	struct sd_desc d = SD_DESC_INIT;
	struct ws_error err;

	/* DACL present flag with offset 0 = NULL DACL; SACL offset without
	 * the present flag is ignored (even if it points nowhere) */
	ws_buf_add(&b, "\x01\x00\x04\x80", 4);
	ws_buf_add_u32le(&b, 0);
	ws_buf_add_u32le(&b, 0);
	ws_buf_add_u32le(&b, 0xFFFF);
	ws_buf_add_u32le(&b, 0);
	tu_assert_ok(sd_parse(&d, b.buf, b.len, &err), &err);
	assert_false(d.has_owner || d.has_group || d.has_dacl || d.has_sacl);
	assert_true(d.control & SD_DACL_PRESENT);
	ws_buf_add(&out, "", 0);
	tu_assert_ok(sd_serialize(&d, &out, &err), &err);
	assert_int_equal(out.len, 20);
	assert_memory_equal(out.buf, "\x01\x00\x04\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	sd_desc_release(&d);
	ws_buf_release(&b);
	ws_buf_release(&out);
}

static void serialize_refuses_oversize(void **state)
{
	struct sd_desc d = SD_DESC_INIT;
	struct ws_buf out = WS_BUF_INIT;
	struct ws_error err;
	struct sd_sid big = sd_sid_system;

	big.nsub = 15;
	d.has_dacl = 1;
	for (int i = 0; i < 1000; i++)         /* 1000 x 72 bytes > 64 KiB */
		sd_acl_add(&d.dacl, SD_ACE_ALLOWED, 0, 1, &big);
	ws_buf_adds(&out, "keep");
	assert_int_equal(sd_serialize(&d, &out, &err), WS_E_UNSUPPORTED);
	assert_string_equal(out.buf, "keep");
	sd_desc_release(&d);
	ws_buf_release(&out);
}

static const struct sd_ace *ace(const struct sd_desc *d, size_t i)
{
	assert_true(i < d->dacl.n);
	return &d->dacl.v[i];
}

static void inheritance_on_the_model(void **state)
{
	struct sd_desc p = SD_DESC_INIT, f = SD_DESC_INIT, dir = SD_DESC_INIT;
	struct sd_sid user, grp;
	struct sd_ace opq = { 0 };
	unsigned char body[40] = { 0 };

	assert_int_equal(sd_sid_from_text(&user, "S-1-5-21-1-2-3-1001"), 0);
	assert_int_equal(sd_sid_from_text(&grp, "S-1-5-21-1-2-3-513"), 0);
	p.has_dacl = 1;
	p.control = SD_DACL_PRESENT | SD_DACL_PROTECTED;
	sd_acl_add(&p.dacl, SD_ACE_ALLOWED, SD_ACE_OI | SD_ACE_CI | SD_ACE_IO, SD_GENERIC_ALL,
		   &sd_sid_creator_owner);
	opq.type = SD_ACE_ALLOWED_OBJECT;
	opq.flags = SD_ACE_OI | SD_ACE_CI | SD_ACE_IO;
	opq.opaque = 1;
	opq.data = body;
	opq.data_len = sizeof(body);
	sd_acl_add_copy(&p.dacl, &opq);

	sd_inherit(&f, &p, 0, &user, &grp);
	assert_int_equal(f.control, SD_DACL_PRESENT | SD_DACL_AUTO_INHERITED);
	assert_true(f.has_owner && f.has_group && sd_sid_equal(&f.group, &grp));
	assert_int_equal(f.dacl.n, 2);
	assert_true(sd_sid_equal(&ace(&f, 0)->sid, &user));
	assert_int_equal(ace(&f, 0)->mask, SD_FILE_ALL_ACCESS);
	assert_int_equal(ace(&f, 0)->flags, SD_ACE_ID);
	/* the opaque ACE is carried raw, only its flags recomputed */
	assert_true(ace(&f, 1)->opaque);
	assert_int_equal(ace(&f, 1)->flags, SD_ACE_ID);
	assert_int_equal(ace(&f, 1)->data_len, sizeof(body));

	sd_inherit(&dir, &p, 1, &user, NULL);
	assert_false(dir.has_group);
	assert_int_equal(dir.dacl.n, 3);
	assert_int_equal(ace(&dir, 0)->flags, SD_ACE_ID);
	assert_int_equal(ace(&dir, 1)->flags, SD_ACE_OI | SD_ACE_CI | SD_ACE_IO | SD_ACE_ID);
	assert_int_equal(ace(&dir, 1)->mask, SD_GENERIC_ALL);
	assert_true(sd_sid_equal(&ace(&dir, 1)->sid, &sd_sid_creator_owner));
	assert_int_equal(ace(&dir, 2)->flags, SD_ACE_OI | SD_ACE_CI | SD_ACE_ID);

	/* no parent at all: the default DACL */
	sd_inherit(&f, NULL, 0, &user, &grp);
	assert_int_equal(f.control, SD_DACL_PRESENT);
	assert_int_equal(f.dacl.n, 2);
	assert_true(sd_sid_equal(&ace(&f, 0)->sid, &sd_sid_system));
	assert_true(sd_sid_equal(&ace(&f, 1)->sid, &sd_sid_administrators));
	sd_desc_release(&p);
	sd_desc_release(&f);
	sd_desc_release(&dir);
}

static void own_folders(void **state)
{
	struct sd_desc d = SD_DESC_INIT;
	struct ws_buf t = WS_BUF_INIT;
	struct sd_sid user;

	assert_int_equal(sd_sid_from_text(&user, "S-1-5-21-7-8-9-1105"), 0);
	sd_make_private(&d, &user);
	sd_to_text(&d, &t);
	assert_string_equal(t.buf, "O:S-1-5-32-544G:S-1-5-18D:PAI(A;OICI;0x1f01ff;;;S-1-5-18)"
			    "(A;OICI;0x1f01ff;;;S-1-5-32-544)(A;OICI;0x1f01ff;;;S-1-5-21-7-8-9-1105)");
	ws_buf_reset(&t);
	sd_make_shared(&d);
	sd_to_text(&d, &t);
	assert_string_equal(t.buf, "O:S-1-5-32-544G:S-1-5-18D:PAI(A;OICI;0x1f01ff;;;S-1-5-18)"
			    "(A;OICI;0x1f01ff;;;S-1-5-32-544)(A;OICI;0x1200a9;;;S-1-5-32-545)");
	ws_buf_reset(&t);
	sd_make_admin_only(&d);
	sd_to_text(&d, &t);
	assert_string_equal(t.buf, "O:S-1-5-32-544G:S-1-5-18D:PAI(A;OICI;0x1f01ff;;;S-1-5-18)"
			    "(A;OICI;0x1f01ff;;;S-1-5-32-544)");
	sd_desc_release(&d);
	ws_buf_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sid_text_accepts_canonical),
		cmocka_unit_test(sid_text_refuses_everything_else),
		cmocka_unit_test(sid_binary_roundtrip_and_bounds),
		cmocka_unit_test(descriptor_roundtrip),
		cmocka_unit_test(gaps_and_other_orders_are_accepted),
		cmocka_unit_test(hostile_descriptors_are_refused),
		cmocka_unit_test(absent_parts_and_null_dacl),
		cmocka_unit_test(serialize_refuses_oversize),
		cmocka_unit_test(inheritance_on_the_model),
		cmocka_unit_test(own_folders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
