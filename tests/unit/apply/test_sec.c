/*
 * test_sec.c - which descriptor apply gives a new object, by its path below
 * the target (apply_sec.c): winstate's folders (shared, private bundle per
 * SID, shared bundle without SID, results, admin-only journal), inherited
 * ACEs with the profile's user as owner inside a profile and Administrators
 * elsewhere, the group taken from the parent, and the pre-check's verdict
 * on descriptors users could change.
 */
#include "tu.h"

#include <stdlib.h>
#include <string.h>

#include "apply/apply_private.h"
#include "secdesc/sd.h"

#define ALICE "S-1-5-21-1-2-3-1001"

static struct asec *mk(void)
{
	struct asec *s = NULL;

	assert_int_equal(asec_new(NULL, 0, &s, NULL), WS_OK);
	asec_set_winstate(s, "ProgramData/winstate");
	assert_int_equal(asec_add_profile(s, "Users/alice", ALICE), 0);
	assert_int_equal(asec_add_profile(s, "Users/bad", "S-1-5-x"), -1);
	return s;
}

static void classify(void **state)
{
	struct asec *s = mk();
	struct sd_sid sid, want;
	char t[SD_SID_TEXT_MAX];

	(void)state;
	assert_int_equal(asec_classify(s, "ProgramData/winstate", &sid), ASEC_SHARED);
	assert_int_equal(asec_classify(s, "programdata/WINSTATE", &sid), ASEC_SHARED);
	assert_int_equal(asec_classify(s, "ProgramData/winstate/journal", &sid), ASEC_ADMIN_ONLY);
	assert_int_equal(asec_classify(s, "ProgramData/winstate/journal/x", &sid), ASEC_INHERIT);
	assert_int_equal(asec_classify(s, "ProgramData/winstate/results", &sid), ASEC_RESULTS);
	assert_int_equal(asec_classify(s, "ProgramData/winstate/restore.ps1", &sid), ASEC_INHERIT);
	assert_int_equal(asec_classify(s, "ProgramData/winstate/bundles", &sid), ASEC_INHERIT);
	assert_int_equal(asec_classify(s, "ProgramData/winstate/bundles/" ALICE, &sid),
			 ASEC_PRIVATE);
	sd_sid_from_text(&want, ALICE);
	assert_true(sd_sid_equal(&sid, &want));
	assert_string_equal(sd_sid_to_text(&sid, t), ALICE);
	assert_int_equal(asec_classify(s, "ProgramData/winstate/bundles/" ALICE "/f", &sid),
			 ASEC_INHERIT);
	assert_int_equal(asec_classify(s, "ProgramData/winstate/bundles/A-0123456789abcdef0123456789abcdef",
				       &sid), ASEC_SHARED);
	assert_int_equal(asec_classify(s, "ProgramData/winstatex", &sid), ASEC_INHERIT);
	assert_int_equal(asec_classify(s, "ProgramData/other/results", &sid), ASEC_INHERIT);
	assert_int_equal(asec_classify(s, "Users/alice/x", &sid), ASEC_INHERIT);
	asec_free(s);
}

/* A profile folder's descriptor as Windows makes it. */
static void profile_parent(struct sd_desc *p, const struct sd_sid *user)
{
	sd_desc_init(p);
	p->control = SD_DACL_PRESENT | SD_DACL_PROTECTED;
	p->has_owner = p->has_group = p->has_dacl = 1;
	p->owner = *user;
	p->group = *user;
	sd_acl_add(&p->dacl, SD_ACE_ALLOWED, SD_ACE_OI | SD_ACE_CI, SD_FILE_ALL_ACCESS, &sd_sid_system);
	sd_acl_add(&p->dacl, SD_ACE_ALLOWED, SD_ACE_OI | SD_ACE_CI, SD_FILE_ALL_ACCESS, user);
	sd_acl_add(&p->dacl, SD_ACE_ALLOWED, SD_ACE_OI | SD_ACE_CI | SD_ACE_IO, SD_GENERIC_ALL,
		   &sd_sid_creator_owner);
}

static void inherit_in_profile(void **state)
{
	struct asec *s = mk();
	struct sd_desc p, c = SD_DESC_INIT;
	struct sd_sid alice;

	(void)state;
	sd_sid_from_text(&alice, ALICE);
	profile_parent(&p, &alice);
	asec_build(s, "Users/alice/Documents/a.txt", 0, &p, &c);
	assert_true(c.has_owner && sd_sid_equal(&c.owner, &alice));
	assert_true(sd_sid_equal(&c.group, &alice));            /* the parent's */
	assert_false(c.control & SD_DACL_PROTECTED);
	assert_int_equal(c.dacl.n, 3);
	for (size_t i = 0; i < c.dacl.n; i++)
		assert_int_equal(c.dacl.v[i].flags, SD_ACE_ID);
	/* CREATOR OWNER became alice, GENERIC_ALL full control */
	assert_true(sd_sid_equal(&c.dacl.v[2].sid, &alice));
	assert_int_equal(c.dacl.v[2].mask, SD_FILE_ALL_ACCESS);
	/* the profile folder itself is not "inside" it */
	asec_build(s, "Users/alice", 1, &p, &c);
	assert_true(sd_sid_equal(&c.owner, &sd_sid_administrators));
	/* elsewhere: Administrators, group SYSTEM when the parent has none */
	p.has_group = 0;
	asec_build(s, "Program Files/x/y.dll", 0, &p, &c);
	assert_true(sd_sid_equal(&c.owner, &sd_sid_administrators));
	assert_true(sd_sid_equal(&c.group, &sd_sid_system));
	/* no parent descriptor: the default DACL, SYSTEM + Administrators */
	asec_build(s, "Users/alice/new", 1, NULL, &c);
	assert_true(sd_sid_equal(&c.owner, &alice));
	assert_int_equal(c.dacl.n, 2);
	sd_desc_release(&c);
	sd_desc_release(&p);
	asec_free(s);
}

static void own_folders(void **state)
{
	struct asec *s = mk();
	struct sd_desc c = SD_DESC_INIT, sh = SD_DESC_INIT, f = SD_DESC_INIT;
	struct sd_sid alice;

	(void)state;
	sd_sid_from_text(&alice, ALICE);
	asec_build(s, "ProgramData/winstate/bundles/" ALICE, 1, NULL, &c);
	assert_true(c.control & SD_DACL_PROTECTED);
	assert_int_equal(c.dacl.n, 3);
	assert_true(sd_sid_equal(&c.dacl.v[2].sid, &alice));
	/* what goes into the bundle inherits it: the user may delete all of it */
	asec_build(s, "ProgramData/winstate/bundles/" ALICE "/files/x", 0, &c, &f);
	assert_int_equal(f.dacl.n, 3);
	assert_true(sd_sid_equal(&f.dacl.v[2].sid, &alice));
	assert_int_equal(f.dacl.v[2].mask, SD_FILE_ALL_ACCESS);
	assert_true(sd_sid_equal(&f.owner, &sd_sid_administrators));

	asec_build(s, "ProgramData/winstate", 1, NULL, &sh);
	assert_true(sh.control & SD_DACL_PROTECTED);
	assert_int_equal(sh.dacl.n, 3);
	assert_true(sd_sid_equal(&sh.dacl.v[2].sid, &sd_sid_users));
	assert_int_equal(sh.dacl.v[2].mask, SD_FILE_READ_EXECUTE);
	asec_build(s, "ProgramData/winstate/restore.ps1", 0, &sh, &f);
	assert_int_equal(f.dacl.n, 3);
	assert_int_equal(f.dacl.v[2].mask, SD_FILE_READ_EXECUTE);
	assert_int_equal(f.dacl.v[2].flags, SD_ACE_ID);
	assert_int_equal(asec_hostile(&f, (char[200]){ 0 }, 200), 0);

	asec_build(s, "ProgramData/winstate/journal", 1, &sh, &c);
	assert_int_equal(c.dacl.n, 2);
	assert_true(c.control & SD_DACL_PROTECTED);

	/* results: users add files (no list, no read), own what they add */
	asec_build(s, "ProgramData/winstate/results", 1, &sh, &c);
	assert_int_equal(c.dacl.n, 4);
	assert_true(sd_sid_equal(&c.dacl.v[2].sid, &sd_sid_users));
	assert_int_equal(c.dacl.v[2].flags, 0);
	assert_int_equal(c.dacl.v[2].mask & 0x1u, 0);           /* no list */
	assert_int_equal(c.dacl.v[2].mask & 0x2u, 0x2u);        /* add file */
	sd_inherit(&f, &c, 0, &alice, &alice);                  /* alice's record */
	assert_int_equal(f.dacl.n, 3);
	assert_true(sd_sid_equal(&f.dacl.v[2].sid, &alice));
	for (size_t i = 0; i < f.dacl.n; i++)
		assert_false(sd_sid_equal(&f.dacl.v[i].sid, &sd_sid_users));
	sd_desc_release(&c);
	sd_desc_release(&sh);
	sd_desc_release(&f);
	asec_free(s);
}

static void hostile(void **state)
{
	struct sd_desc d = SD_DESC_INIT;
	struct sd_sid alice;
	char why[200];

	(void)state;
	sd_sid_from_text(&alice, ALICE);
	sd_make_shared(&d);
	assert_int_equal(asec_hostile(&d, why, sizeof(why)), 0);
	d.owner = alice;
	assert_int_equal(asec_hostile(&d, why, sizeof(why)), 1);
	assert_non_null(strstr(why, ALICE));
	sd_make_shared(&d);
	sd_acl_add(&d.dacl, SD_ACE_ALLOWED, SD_ACE_CI, 0x00000004u, &sd_sid_users);
	assert_int_equal(asec_hostile(&d, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "S-1-5-32-545"));
	/* inherit-only CREATOR OWNER and denies do not count */
	sd_make_shared(&d);
	sd_acl_add(&d.dacl, SD_ACE_ALLOWED, SD_ACE_OI | SD_ACE_CI | SD_ACE_IO, SD_GENERIC_ALL,
		   &sd_sid_creator_owner);
	sd_acl_add(&d.dacl, SD_ACE_DENIED, 0, SD_FILE_ALL_ACCESS, &sd_sid_everyone);
	assert_int_equal(asec_hostile(&d, why, sizeof(why)), 0);
	d.has_dacl = 0;
	assert_int_equal(asec_hostile(&d, why, sizeof(why)), 1);
	sd_desc_release(&d);
}

/* A plain folder is refused unless allowed; then the hook does nothing. */
static void plain_target(void **state)
{
	struct asec *s = NULL;
	struct ws_error err = { 0 };
	char *dir = tu_tmpdir();

	(void)state;
	assert_int_equal(asec_new(dir, 0, &s, &err), WS_E_TARGET);
	assert_null(s);
	assert_int_equal(err.hint, WS_HINT_PLAIN_TARGET);
	assert_null(strstr(err.msg, "--"));
	assert_int_equal(asec_new(dir, 1, &s, &err), WS_OK);
	assert_null(asec_xattr(s));
	assert_int_equal(asec_newobj(s, -1, 0, "x", &err), WS_OK);
	asec_free(s);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(classify),
		cmocka_unit_test(inherit_in_profile),
		cmocka_unit_test(own_folders),
		cmocka_unit_test(hostile),
		cmocka_unit_test(plain_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
