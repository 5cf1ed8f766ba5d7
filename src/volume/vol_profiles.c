/*
 * vol_profiles.c - user profiles of an offline installation: SOFTWARE
 * ProfileList (SIDs, ProfileImagePath, load/unload times), Default and
 * Public, and profile folders under the profiles directory that ProfileList
 * does not name (copied-in or orphaned profiles).
 */
#include "volume/volume_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reg/reg.h"
#include "util/ws_fs.h"
#include "util/ws_utf.h"

#define PROFILE_LIST "Microsoft\\Windows NT\\CurrentVersion\\ProfileList"
#define USRCLASS_REL "AppData\\Local\\Microsoft\\Windows\\UsrClass.dat"

const char *vol_profile_kind_name(enum vol_profile_kind kind)
{
	switch (kind) {
	case VOL_PROFILE_USER: return "user";
	case VOL_PROFILE_SYSTEM: return "system";
	case VOL_PROFILE_DEFAULT: return "default";
	case VOL_PROFILE_PUBLIC: return "public";
	}
	return "unknown";
}

const struct vol_profile *vol_profiles(const struct vol *vol, size_t *n)
{
	*n = vol->nprofiles;
	return vol->profiles;
}

const struct vol_profile *vol_profile_find(const struct vol *vol,
					   const char *sid_or_name)
{
	for (size_t i = 0; i < vol->nprofiles; i++)
		if (vol->profiles[i].sid[0] &&
		    !ws_name_casecmp(vol->profiles[i].sid, sid_or_name))
			return &vol->profiles[i];
	for (size_t i = 0; i < vol->nprofiles; i++)
		if (!ws_name_casecmp(vol->profiles[i].account, sid_or_name))
			return &vol->profiles[i];
	return NULL;
}

/* A DWORD value of an open key (reg_get_dword); 0 when absent or of
 * another type: hostile data does not refuse the profile list. */
static int key_dword(struct reg_hive *h, reg_node key, const char *name,
		     uint32_t *out, struct ws_error *err)
{
	struct ws_error e2;
	int found, rc;

	*out = 0;
	ws_error_clear(&e2);
	rc = reg_get_dword(h, key, name, out, &found, &e2);
	if (rc == WS_E_UNSUPPORTED) {
		*out = 0;
		return WS_OK;
	}
	if (rc && err)
		*err = e2;
	return rc;
}

/* A string value (reg_get_string); *found = 0 when of another type. */
static int key_string(struct reg_hive *h, reg_node key, const char *name,
		      struct ws_buf *out, int *found, struct ws_error *err)
{
	struct ws_error e2;
	int rc;

	ws_error_clear(&e2);
	rc = reg_get_string(h, key, name, out, found, &e2);
	if (rc == WS_E_UNSUPPORTED) {
		*found = 0;
		return WS_OK;
	}
	if (rc && err)
		*err = e2;
	return rc;
}

static int sid_is_system(const char *sid)
{
	return !strcmp(sid, "S-1-5-18") || !strcmp(sid, "S-1-5-19") ||
	       !strcmp(sid, "S-1-5-20");
}

static struct vol_profile *add_profile(struct vol *vol)
{
	struct vol_profile *p;

	WS_ALLOC_GROW(vol->profiles, vol->nprofiles + 1, vol->aprofiles);
	p = &vol->profiles[vol->nprofiles++];
	memset(p, 0, sizeof(*p));
	p->sid = p->account = p->win_path = p->stale_reason = "";
	return p;
}

/* Last component of a Windows path. */
static const char *last_component(const char *w)
{
	const char *s = strrchr(w, '\\');

	return s ? s + 1 : w;
}

/*
 * Fill paths, stale flag and last use of a profile whose win_path is set.
 */
static void locate_profile(struct vol *vol, struct vol_profile *p)
{
	struct ws_buf host = WS_BUF_INIT, w = WS_BUF_INIT;
	enum vol_res res = VOL_RES_MISSING;
	struct vol_entry_hold h = VOL_ENTRY_HOLD_INIT;
	struct vol_entry e;

	memset(&e, 0, sizeof(e));
	p->account = vol_keep(vol, last_component(p->win_path));
	if (!p->win_path[0]) {
		p->stale = 1;
		p->stale_reason = "no profile path";
		goto out;
	}
	if (vol_resolve(vol, p->win_path, &host, &res, NULL) != WS_OK)
		res = VOL_RES_MISSING;
	if (res == VOL_RES_FOUND &&
	    (vol_stat(vol, host.buf, &e, &h, NULL) != WS_OK ||
	     e.type != VOL_ENT_DIR))
		res = e.type == VOL_ENT_LINK || e.type == VOL_ENT_CLOUD
			      ? VOL_RES_LINK_IN_PATH : VOL_RES_MISSING;
	if (res != VOL_RES_FOUND) {
		p->stale = 1;
		p->stale_reason = res == VOL_RES_OTHER_DRIVE
					  ? "profile folder not on this volume"
				  : res == VOL_RES_LINK_IN_PATH
					  ? "profile folder is a link"
					  : "profile folder missing";
		goto out;
	}
	p->host_path = vol_keep(vol, host.buf);
	ws_buf_addf(&w, "%s\\NTUSER.DAT", p->win_path);
	p->ntuser_path = vol_resolve_keep(vol, w.buf);
	ws_buf_reset(&w);
	ws_buf_addf(&w, "%s\\" USRCLASS_REL, p->win_path);
	p->usrclass_path = vol_resolve_keep(vol, w.buf);
	if (!p->ntuser_path && p->kind != VOL_PROFILE_PUBLIC &&
	    p->kind != VOL_PROFILE_SYSTEM) {
		p->stale = 1;
		p->stale_reason = "NTUSER.DAT missing";
	}
out:
	p->last_use = p->load_time > p->unload_time ? p->load_time
						     : p->unload_time;
	/* stat(2) would follow a link: only a file's own time counts */
	if (!p->last_use && p->ntuser_path &&
	    vol_stat(vol, p->ntuser_path, &e, &h, NULL) == WS_OK &&
	    e.type == VOL_ENT_FILE)
		p->last_use = e.write_time;
	vol_entry_hold_release(&h);
	ws_buf_release(&host);
	ws_buf_release(&w);
}

static void expanded(struct vol *vol, const char *in, struct ws_buf *out)
{
	ws_buf_reset(out);
	vol_vars_expand(&vol->winenv, in, out);
}

static int read_entry(struct vol *vol, reg_node key, const char *sid,
		      struct ws_error *err)
{
	struct reg_hive *h = vol->software;
	struct ws_buf b = WS_BUF_INIT, x = WS_BUF_INIT;
	struct vol_profile *p;
	uint32_t lo, hi;
	int found, rc;

	rc = key_string(h, key, "ProfileImagePath", &b, &found, err);
	if (rc != WS_OK)
		goto out;
	p = add_profile(vol);
	p->sid = vol_keep(vol, sid);
	p->in_profile_list = 1;
	p->kind = sid_is_system(sid) ? VOL_PROFILE_SYSTEM : VOL_PROFILE_USER;
	expanded(vol, b.buf, &x);
	p->win_path = vol_keep(vol, x.buf);
	if ((rc = key_dword(h, key, "Flags", &p->flags, err)) ||
	    (rc = key_dword(h, key, "State", &p->state, err)))
		goto out;
	if ((rc = key_dword(h, key, "LocalProfileLoadTimeLow", &lo, err)) ||
	    (rc = key_dword(h, key, "LocalProfileLoadTimeHigh", &hi, err)))
		goto out;
	p->load_time = ((uint64_t)hi << 32) | lo;
	if ((rc = key_dword(h, key, "LocalProfileUnloadTimeLow", &lo, err)) ||
	    (rc = key_dword(h, key, "LocalProfileUnloadTimeHigh", &hi, err)))
		goto out;
	p->unload_time = ((uint64_t)hi << 32) | lo;
	locate_profile(vol, p);
out:
	ws_buf_release(&b);
	ws_buf_release(&x);
	return rc;
}

/* Default / Public from ProfileList [name], else <profiles dir>\<dflt>. */
static void add_special(struct vol *vol, reg_node list, const char *value,
			const char *profiles_dir, const char *dflt,
			enum vol_profile_kind kind)
{
	struct ws_buf b = WS_BUF_INIT, x = WS_BUF_INIT;
	struct vol_profile *p;
	int found = 0;

	if (!list || key_string(vol->software, list, value, &b, &found,
				NULL) != WS_OK || !found || !b.buf[0]) {
		ws_buf_reset(&b);
		ws_buf_addf(&b, "%s\\%s", profiles_dir, dflt);
	}
	expanded(vol, b.buf, &x);
	p = add_profile(vol);
	p->kind = kind;
	p->in_profile_list = found;
	p->win_path = vol_keep(vol, x.buf);
	locate_profile(vol, p);
	ws_buf_release(&b);
	ws_buf_release(&x);
}

static int claimed(const struct vol *vol, const char *host)
{
	for (size_t i = 0; i < vol->nprofiles; i++)
		if (vol->profiles[i].host_path &&
		    !strcmp(vol->profiles[i].host_path, host))
			return 1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Folders under the profiles directory with an NTUSER.DAT, not claimed. */
static void add_orphans(struct vol *vol, const char *profiles_dir)
{
	struct ws_buf host = WS_BUF_INIT, w = WS_BUF_INIT;
	struct vol_entry_hold h = VOL_ENTRY_HOLD_INIT;
	enum vol_res res;
	char **names = NULL;
	size_t n = 0;

	if (vol_resolve(vol, profiles_dir, &host, &res, NULL) != WS_OK ||
	    res != VOL_RES_FOUND)
		goto out;
	if (vol_list(vol, host.buf, &names, &n, NULL) != WS_OK)
		goto out;
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct vol_entry e;
		const char *nt;

		ws_buf_reset(&w);
		ws_buf_addf(&w, "%s\\%s", profiles_dir, names[i]);
		ws_buf_reset(&host);
		if (vol_resolve(vol, w.buf, &host, &res, NULL) != WS_OK ||
		    res != VOL_RES_FOUND ||
		    vol_stat(vol, host.buf, &e, &h, NULL) != WS_OK ||
		    e.type != VOL_ENT_DIR || claimed(vol, host.buf))
			continue;
		ws_buf_adds(&w, "\\NTUSER.DAT");
		nt = vol_resolve_keep(vol, w.buf);
		if (!nt)
			continue;
		struct vol_profile *p = add_profile(vol);

		ws_buf_setlen(&w, w.len - strlen("\\NTUSER.DAT"));
		p->kind = VOL_PROFILE_USER;
		p->win_path = vol_keep(vol, w.buf);
		locate_profile(vol, p);
	}
out:
	vol_list_free(names, n);
	vol_entry_hold_release(&h);
	ws_buf_release(&host);
	ws_buf_release(&w);
}

int vol_load_profiles(struct vol *vol, struct ws_error *err)
{
	struct reg_hive *h = vol->software;
	struct ws_buf b = WS_BUF_INIT, dir = WS_BUF_INIT, name = WS_BUF_INIT;
	reg_node list = 0, *kids = NULL;
	size_t nkids = 0;
	int found = 0, rc;

	rc = reg_key_lookup(h, reg_root(h), PROFILE_LIST, &list, err);
	if (rc != WS_OK)
		goto out;
	if (list) {
		rc = key_string(h, list, "ProfilesDirectory", &b, &found, err);
		if (rc != WS_OK)
			goto out;
	}
	if (found && b.buf[0])
		expanded(vol, b.buf, &dir);
	else
		ws_buf_addf(&dir, "%c:\\Users", vol->info.system_drive);
	vol_vars_set(&vol->winenv, "PROFILESFOLDER", dir.buf);

	if (list) {
		rc = reg_key_children(h, list, &kids, &nkids, err);
		if (rc != WS_OK)
			goto out;
	}
	for (size_t i = 0; i < nkids; i++) {
		ws_buf_reset(&name);
		rc = reg_key_name(h, kids[i], &name, err);
		if (rc != WS_OK)
			goto out;
		/* <SID>.bak: Windows' temporary-profile leftover, not a profile */
		if (name.len > 4 &&
		    !ws_name_casecmp(name.buf + name.len - 4, ".bak"))
			continue;
		rc = read_entry(vol, kids[i], name.buf, err);
		if (rc != WS_OK)
			goto out;
	}
	add_special(vol, list, "Default", dir.buf, "Default",
		    VOL_PROFILE_DEFAULT);
	add_special(vol, list, "Public", dir.buf, "Public",
		    VOL_PROFILE_PUBLIC);
	add_orphans(vol, dir.buf);
out:
	free(kids);
	ws_buf_release(&b);
	ws_buf_release(&dir);
	ws_buf_release(&name);
	return rc;
}
