/*
 * apply_sec.c - Windows security descriptors for what apply creates on an
 * NTFS target (#10).  apply_run probes the target once before writing, runs
 * the pre-checks, and installs asec_newobj as the new-object hook of the
 * journal's confined root; the hook picks a descriptor by the object's
 * target-relative path and sets it on the object's descriptor:
 *
 *   ProgramData/winstate, its files      shared: SYSTEM/Administrators full,
 *                                        Users read & execute (protected)
 *   .../winstate/bundles/<SID>           private to that SID (protected)
 *   .../winstate/bundles/A-<hash>        shared (no SID known, as documented
 *                                        in docs/first-sign-in.md#access)
 *   .../winstate/results                 SYSTEM/Administrators full, Users
 *                                        may add files (this folder only),
 *                                        CREATOR OWNER full on those files
 *   .../winstate/journal                 SYSTEM/Administrators only
 *   anything else                        inherited from its parent folder's
 *                                        descriptor (sd_inherit); owner the
 *                                        profile's user inside a profile of
 *                                        the target's ProfileList, else
 *                                        Administrators; group the parent's
 *                                        (SYSTEM when it has none)
 *
 * Replaced files keep their old descriptor (aj_place copies it); this file
 * only deals with new objects.  Extract mode writes a Linux folder, not a
 * Windows target: no descriptors there.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply/apply_private.h"
#include "secdesc/sd.h"
#include "util/ws_utf.h"

#define ASEC_CACHE 64

struct asec_profile {
	char *rel;                       /* "Users/alice" as on disk */
	struct sd_sid sid;
};

struct asec_cached {
	char *rel;
	struct sd_desc sd;
	int has_sd;                      /* 0: the folder had no usable descriptor */
};

struct asec {
	struct ws_root *root;            /* NULL: no I/O (tests of asec_build) */
	struct sd_target t;
	char *wrel;                      /* ProgramData/winstate; NULL = unknown */
	struct asec_profile *prof;
	size_t nprof;
	struct asec_cached cache[ASEC_CACHE];
	size_t next;                     /* round-robin slot */
};

/* Case-insensitive (NTFS) compare of rel's first `plen` bytes with prefix,
 * which must end there or at a '/'.  Returns the rest ("" or "/...") or NULL. */
static const char *under(const char *rel, const char *prefix)
{
	size_t plen;

	if (!prefix)
		return NULL;
	plen = strlen(prefix);
	if (strlen(rel) < plen || ws_name_ncasecmp(rel, plen, prefix, plen) != 0)
		return NULL;
	if (rel[plen] != '\0' && rel[plen] != '/')
		return NULL;
	return rel + plen;
}

/* Is `rest` ("/x") exactly one component named `name` (any case)? */
static int is_child(const char *rest, const char *name)
{
	size_t n = strlen(name);

	return rest[0] == '/' && strlen(rest + 1) == n &&
	       ws_name_ncasecmp(rest + 1, n, name, n) == 0;
}

int asec_new(const char *root_path, int allow_plain, struct asec **out,
	     struct ws_error *err)
{
	struct asec *s = ws_xcalloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	for (size_t i = 0; i < ASEC_CACHE; i++)
		sd_desc_init(&s->cache[i].sd);
	if (root_path) {
		if ((rc = sd_target_probe(root_path, &s->t, err))) {
			asec_free(s);
			return rc;
		}
		if (!s->t.acl_xattr && !allow_plain) {
			rc = ws_error_hint(err, ws_error_set(err, WS_E_TARGET, root_path,
					  "cannot hold Windows security descriptors (%s): "
					  "everything apply creates would be open to every "
					  "user; mount the NTFS volume with ntfs-3g "
					  "(-o permissions) or the kernel ntfs3 driver "
					  "(docs/apply.md)", s->t.reason[0] ? s->t.reason :
					  "no security descriptor xattr"),
					   WS_INPUT_NONE, WS_HINT_PLAIN_TARGET);
			asec_free(s);
			return rc;
		}
		if (s->t.acl_xattr &&
		    (rc = ws_root_open(root_path, 0, &s->root, err))) {
			asec_free(s);
			return rc;
		}
	}
	*out = s;
	return WS_OK;
}

void asec_free(struct asec *s)
{
	if (!s)
		return;
	ws_root_free(s->root);
	free(s->wrel);
	for (size_t i = 0; i < s->nprof; i++)
		free(s->prof[i].rel);
	free(s->prof);
	for (size_t i = 0; i < ASEC_CACHE; i++) {
		free(s->cache[i].rel);
		sd_desc_release(&s->cache[i].sd);
	}
	free(s);
}

const char *asec_xattr(const struct asec *s)
{
	return s ? s->t.acl_xattr : NULL;
}

void asec_set_winstate(struct asec *s, const char *wrel)
{
	free(s->wrel);
	s->wrel = wrel ? ws_xstrdup(wrel) : NULL;
}

int asec_add_profile(struct asec *s, const char *rel, const char *sid)
{
	struct sd_sid v;

	if (!rel || !*rel || !sid || sd_sid_from_text(&v, sid) != 0)
		return -1;
	s->prof = ws_xrealloc(s->prof, (s->nprof + 1) * sizeof(*s->prof));
	s->prof[s->nprof].rel = ws_xstrdup(rel);
	s->prof[s->nprof].sid = v;
	s->nprof++;
	return 0;
}

int asec_classify(const struct asec *s, const char *rel, struct sd_sid *sid)
{
	const char *rest = under(rel, s->wrel), *b;

	if (!rest)
		return ASEC_INHERIT;
	if (!*rest)
		return ASEC_SHARED;
	if (is_child(rest, "journal"))
		return ASEC_ADMIN_ONLY;
	if (is_child(rest, "results"))
		return ASEC_RESULTS;
	if ((b = under(rest + 1, "bundles")) && b[0] == '/' && !strchr(b + 1, '/') && b[1]) {
		if (sd_sid_from_text(sid, b + 1) == 0)
			return ASEC_PRIVATE;
		return ASEC_SHARED;
	}
	return ASEC_INHERIT;
}

/* The user SID of the profile holding rel (strictly below it), or NULL. */
static const struct sd_sid *profile_owner(const struct asec *s, const char *rel)
{
	const struct sd_sid *best = NULL;
	size_t blen = 0;

	for (size_t i = 0; i < s->nprof; i++) {
		const char *rest = under(rel, s->prof[i].rel);
		size_t l = strlen(s->prof[i].rel);

		if (rest && *rest && l > blen) {
			best = &s->prof[i].sid;
			blen = l;
		}
	}
	return best;
}

void asec_results(struct sd_desc *sd)
{
	sd_make_admin_only(sd);
	/* add file, traverse, read attributes, synchronize: a user can create
	 * results\<key>.txt but not list or open anyone else's */
	sd_acl_add(&sd->dacl, SD_ACE_ALLOWED, 0, 0x001000A2u, &sd_sid_users);
	sd_acl_add(&sd->dacl, SD_ACE_ALLOWED, SD_ACE_OI | SD_ACE_IO, SD_FILE_ALL_ACCESS,
		   &sd_sid_creator_owner);
}

void asec_build(const struct asec *s, const char *rel, int is_dir,
		const struct sd_desc *parent, struct sd_desc *out)
{
	struct sd_sid sid;
	const struct sd_sid *owner, *group;

	switch (asec_classify(s, rel, &sid)) {
	case ASEC_SHARED:
		if (is_dir) {
			sd_make_shared(out);
			return;
		}
		break;
	case ASEC_PRIVATE:
		if (is_dir) {
			sd_make_private(out, &sid);
			return;
		}
		break;
	case ASEC_ADMIN_ONLY:
		if (is_dir) {
			sd_make_admin_only(out);
			return;
		}
		break;
	case ASEC_RESULTS:
		if (is_dir) {
			asec_results(out);
			return;
		}
		break;
	default:
		break;
	}
	/* a file where a folder is expected gets the same inherited ACEs as
	 * any other file there */
	owner = profile_owner(s, rel);
	if (!owner)
		owner = &sd_sid_administrators;
	group = parent && parent->has_group ? &parent->group : &sd_sid_system;
	sd_inherit(out, parent, is_dir, owner, group);
}

/* The descriptor of folder prel: cached, else read through the root.
 * NULL when it has none or it cannot be parsed (sd_inherit then uses the
 * default DACL). */
static const struct sd_desc *parent_sd(struct asec *s, const char *prel)
{
	struct ws_buf raw = WS_BUF_INIT;
	struct asec_cached *c;
	int fd = -1;

	for (size_t i = 0; i < ASEC_CACHE; i++)
		if (s->cache[i].rel && strcmp(s->cache[i].rel, prel) == 0)
			return s->cache[i].has_sd ? &s->cache[i].sd : NULL;
	c = &s->cache[s->next];
	s->next = (s->next + 1) % ASEC_CACHE;
	free(c->rel);
	c->rel = ws_xstrdup(prel);
	c->has_sd = 0;
	sd_desc_release(&c->sd);
	if (!ws_root_opendir(s->root, prel, &fd, NULL, NULL) &&
	    !sd_read_fd(fd, s->t.acl_xattr, prel, &raw, NULL) &&
	    !sd_parse(&c->sd, raw.buf, raw.len, NULL))
		c->has_sd = 1;
	if (fd >= 0)
		close(fd);
	ws_buf_release(&raw);
	return c->has_sd ? &c->sd : NULL;
}

static void remember(struct asec *s, const char *rel, const struct sd_desc *sd)
{
	struct asec_cached *c = NULL;

	for (size_t i = 0; i < ASEC_CACHE && !c; i++)
		if (s->cache[i].rel && strcmp(s->cache[i].rel, rel) == 0)
			c = &s->cache[i];
	if (!c) {
		c = &s->cache[s->next];
		s->next = (s->next + 1) % ASEC_CACHE;
		free(c->rel);
		c->rel = ws_xstrdup(rel);
	}
	sd_desc_copy(&c->sd, sd);
	c->has_sd = 1;
}

int asec_newobj(void *ctx, int fd, int is_dir, const char *rel, struct ws_error *err)
{
	struct asec *s = ctx;
	struct sd_desc sd = SD_DESC_INIT;
	const struct sd_desc *parent = NULL;
	const char *slash;
	char *prel;
	int rc;

	if (!s || !s->t.acl_xattr || !s->root)
		return WS_OK;
	slash = strrchr(rel, '/');
	prel = slash ? ws_xstrndup(rel, (size_t)(slash - rel)) : ws_xstrdup("");
	parent = parent_sd(s, prel);
	asec_build(s, rel, is_dir, parent, &sd);
	struct ws_error e2 = { 0 };

	rc = sd_store_fd(fd, s->t.acl_xattr, rel, &sd, &e2);
	if (rc)
		rc = ws_error_set(err, WS_E_TARGET, rel,
				  "cannot set the security descriptor (%s)",
				  e2.msg[0] ? e2.msg : "refused by the file system");
	else if (is_dir)
		remember(s, rel, &sd);
	sd_desc_release(&sd);
	free(prel);
	return rc;
}

/* Rights that let their holder change an object or what is in it. */
#define ASEC_WRITE_RIGHTS (0x00000002u | 0x00000004u | 0x00000010u | 0x00000040u | \
			   0x00000100u | 0x00010000u | 0x00040000u | 0x00080000u | \
			   SD_GENERIC_ALL | SD_GENERIC_WRITE)

int asec_hostile(const struct sd_desc *sd, char *why, size_t n)
{
	char t[SD_SID_TEXT_MAX];

	if (!sd->has_owner || (!sd_sid_equal(&sd->owner, &sd_sid_system) &&
			       !sd_sid_equal(&sd->owner, &sd_sid_administrators))) {
		snprintf(why, n, "owned by %s, not SYSTEM or Administrators",
			 sd->has_owner ? sd_sid_to_text(&sd->owner, t) : "nobody");
		return 1;
	}
	if (!sd->has_dacl) {
		snprintf(why, n, "it has no DACL: everyone may change it");
		return 1;
	}
	for (size_t i = 0; i < sd->dacl.n; i++) {
		const struct sd_ace *e = &sd->dacl.v[i];

		if (e->opaque || (e->flags & SD_ACE_IO) ||
		    (e->type != SD_ACE_ALLOWED && e->type != SD_ACE_ALLOWED_CALLBACK))
			continue;
		if (sd_sid_equal(&e->sid, &sd_sid_system) ||
		    sd_sid_equal(&e->sid, &sd_sid_administrators))
			continue;
		if (e->mask & ASEC_WRITE_RIGHTS) {
			snprintf(why, n, "its DACL lets %s change it (mask 0x%08x)",
				 sd_sid_to_text(&e->sid, t), (unsigned)e->mask);
			return 1;
		}
	}
	return 0;
}

/* rel (below the root) exists: its descriptor must not let users change
 * it.  A missing object is fine. */
static int check_own(struct asec *s, const char *rel, struct ws_error *err)
{
	struct ws_buf raw = WS_BUF_INIT, leaf = WS_BUF_INIT;
	struct sd_desc sd = SD_DESC_INIT;
	char why[200];
	int pfd = -1, fd = -1, rc = WS_OK;

	if (ws_root_parent(s->root, rel, &pfd, &leaf, NULL, NULL))
		goto out;
	fd = openat(pfd, leaf.buf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		goto out;
	if (sd_read_fd(fd, s->t.acl_xattr, rel, &raw, NULL) ||
	    sd_parse(&sd, raw.buf, raw.len, NULL))
		rc = ws_error_set(err, WS_E_TARGET, rel,
				  "exists without a readable security descriptor: "
				  "winstate's folder must be changeable by SYSTEM and "
				  "Administrators only; remove or fix it first");
	else if (asec_hostile(&sd, why, sizeof(why)))
		rc = ws_error_set(err, WS_E_TARGET, rel,
				  "exists and %s: Active Setup would run what a user "
				  "can change; remove it or give it to SYSTEM/"
				  "Administrators first", why);
out:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	sd_desc_release(&sd);
	ws_buf_release(&raw);
	ws_buf_release(&leaf);
	return rc;
}

int asec_precheck_winstate(struct asec *s, struct ws_error *err)
{
	static const char *const parts[] = { "", "/restore.ps1", "/bundles", "/journal" };
	struct ws_buf rel = WS_BUF_INIT;
	int rc = WS_OK;

	if (!s->root || !s->wrel)
		return WS_OK;
	for (size_t i = 0; !rc && i < sizeof(parts) / sizeof(parts[0]); i++) {
		ws_buf_reset(&rel);
		ws_buf_addf(&rel, "%s%s", s->wrel, parts[i]);
		rc = check_own(s, rel.buf, err);
	}
	ws_buf_release(&rel);
	return rc;
}

int asec_precheck_profile(struct asec *s, const char *rel, struct ws_error *err)
{
	struct ws_buf raw = WS_BUF_INIT;
	struct sd_desc sd = SD_DESC_INIT;
	int fd = -1, rc = WS_OK;

	if (!s->root)
		return WS_OK;
	if (ws_root_opendir(s->root, rel, &fd, NULL, NULL))
		goto out;          /* missing: apply reports that itself */
	if (sd_read_fd(fd, s->t.acl_xattr, rel, &raw, NULL) ||
	    sd_parse(&sd, raw.buf, raw.len, NULL) || !sd.has_dacl)
		rc = ws_error_set(err, WS_E_TARGET, rel,
				  "the profile folder has no security descriptor to "
				  "inherit from: new files there would not get the "
				  "user's access; repair the profile's permissions first");
out:
	if (fd >= 0)
		close(fd);
	sd_desc_release(&sd);
	ws_buf_release(&raw);
	return rc;
}
