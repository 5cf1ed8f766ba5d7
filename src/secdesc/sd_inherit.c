/*
 * sd_inherit.c - the descriptor of a new file or folder computed from its
 * parent's as Windows does (MS-DTYP 2.5.3.4, with the split of generic ACEs
 * Windows applies to containers), and the descriptors of winstate's own
 * folders (sd.h).
 */
#include "sd.h"

#include <string.h>

#define GENERIC_BITS (SD_GENERIC_READ | SD_GENERIC_WRITE | SD_GENERIC_EXECUTE | SD_GENERIC_ALL)

static int is_creator_sid(const struct sd_sid *s)
{
	return sd_sid_equal(s, &sd_sid_creator_owner) || sd_sid_equal(s, &sd_sid_creator_group);
}

/* The file object's GenericMapping. */
static uint32_t map_mask(uint32_t m)
{
	uint32_t r = m & ~GENERIC_BITS;

	if (m & SD_GENERIC_READ)
		r |= SD_FILE_GENERIC_READ;
	if (m & SD_GENERIC_WRITE)
		r |= SD_FILE_GENERIC_WRITE;
	if (m & SD_GENERIC_EXECUTE)
		r |= SD_FILE_GENERIC_EXECUTE;
	if (m & SD_GENERIC_ALL)
		r |= SD_FILE_ALL_ACCESS;
	return r;
}

static void add_with_flags(struct sd_acl *acl, const struct sd_ace *a, uint8_t flags)
{
	sd_acl_add_copy(acl, a);
	acl->v[acl->n - 1].flags = flags;
}

/* An effective ACE for the child: trustee and generic rights mapped. */
static void add_effective(struct sd_acl *acl, const struct sd_ace *a,
			  const struct sd_sid *owner, const struct sd_sid *group)
{
	struct sd_ace *e;

	add_with_flags(acl, a, SD_ACE_ID);
	if (a->opaque)
		return;
	e = &acl->v[acl->n - 1];
	if (sd_sid_equal(&e->sid, &sd_sid_creator_owner))
		e->sid = *owner;
	else if (sd_sid_equal(&e->sid, &sd_sid_creator_group))
		e->sid = group ? *group : *owner;
	e->mask = map_mask(e->mask);
}

static void inherit_acl(struct sd_acl *out, const struct sd_acl *in, int is_dir,
			const struct sd_sid *owner, const struct sd_sid *group)
{
	out->revision = in->revision;
	for (size_t i = 0; i < in->n; i++) {
		const struct sd_ace *a = &in->v[i];
		uint8_t f = a->flags;
		uint8_t inh = f & (SD_ACE_OI | SD_ACE_CI);

		if (!is_dir) {
			if (f & SD_ACE_OI)
				add_effective(out, a, owner, group);
		} else if (f & SD_ACE_CI) {
			if (f & SD_ACE_NP)
				add_effective(out, a, owner, group);
			else if (!a->opaque && (is_creator_sid(&a->sid) || (a->mask & GENERIC_BITS))) {
				/* effective with the generic parts resolved, and the
				 * generic original for the next generation */
				add_effective(out, a, owner, group);
				add_with_flags(out, a, inh | SD_ACE_IO | SD_ACE_ID);
			} else {
				add_with_flags(out, a, inh | SD_ACE_ID);
			}
		} else if ((f & SD_ACE_OI) && !(f & SD_ACE_NP)) {
			add_with_flags(out, a, SD_ACE_OI | SD_ACE_IO | SD_ACE_ID);
		}
	}
}

void sd_inherit(struct sd_desc *child, const struct sd_desc *parent, int is_dir,
		const struct sd_sid *owner, const struct sd_sid *group)
{
	sd_desc_release(child);
	child->has_owner = 1;
	child->owner = *owner;
	if (group) {
		child->has_group = 1;
		child->group = *group;
	}
	child->has_dacl = 1;
	if (parent && parent->has_dacl)
		inherit_acl(&child->dacl, &parent->dacl, is_dir, owner, group);
	if (child->dacl.n > 0) {
		child->control = SD_DACL_PRESENT | SD_DACL_AUTO_INHERITED;
		return;
	}
	/* nothing to inherit: the default DACL of a SYSTEM / admin token */
	sd_acl_release(&child->dacl);
	child->dacl.revision = 2;
	child->control = SD_DACL_PRESENT;
	sd_acl_add(&child->dacl, SD_ACE_ALLOWED, 0, SD_FILE_ALL_ACCESS, &sd_sid_system);
	sd_acl_add(&child->dacl, SD_ACE_ALLOWED, 0, SD_FILE_ALL_ACCESS, &sd_sid_administrators);
}

/* A protected DACL owned by Administrators, group SYSTEM, no ACE yet. */
static void own_folder(struct sd_desc *sd)
{
	sd_desc_release(sd);
	sd->control = SD_DACL_PRESENT | SD_DACL_PROTECTED | SD_DACL_AUTO_INHERITED;
	sd->has_owner = sd->has_group = sd->has_dacl = 1;
	sd->owner = sd_sid_administrators;
	sd->group = sd_sid_system;
	sd_acl_add(&sd->dacl, SD_ACE_ALLOWED, SD_ACE_OI | SD_ACE_CI, SD_FILE_ALL_ACCESS,
		   &sd_sid_system);
	sd_acl_add(&sd->dacl, SD_ACE_ALLOWED, SD_ACE_OI | SD_ACE_CI, SD_FILE_ALL_ACCESS,
		   &sd_sid_administrators);
}

void sd_make_private(struct sd_desc *sd, const struct sd_sid *user)
{
	own_folder(sd);
	sd_acl_add(&sd->dacl, SD_ACE_ALLOWED, SD_ACE_OI | SD_ACE_CI, SD_FILE_ALL_ACCESS, user);
}

void sd_make_shared(struct sd_desc *sd)
{
	own_folder(sd);
	sd_acl_add(&sd->dacl, SD_ACE_ALLOWED, SD_ACE_OI | SD_ACE_CI, SD_FILE_READ_EXECUTE,
		   &sd_sid_users);
}

void sd_make_admin_only(struct sd_desc *sd)
{
	own_folder(sd);
}
