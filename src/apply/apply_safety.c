/*
 * apply_safety.c - the safety pass before anything is written: every file
 * entry's path on the target (a name Windows can hold, not off limits, no
 * link on the way), the bundles folder, and the hives that will be written
 * (regular files, not dirty).
 */
#include "apply/apply_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "reg/reg_map.h"
#include "util/ws_winname.h"

/* Why a catalog path cannot be placed: a name Windows cannot hold
 * (ws_winpath_check: not drive-absolute, '..', streams, devices...); NULL
 * when it can.  Other drives than the scan's system drive are rerouted
 * (afiles_target_path), then checked where they land. */
static const char *path_refusal(const char *p)
{
	return ws_winpath_check(p, NULL);
}

/* One warning per drive the target does not have (rerouted files). */
static void warn_rerouted(struct apply *a, const uint64_t *per_drive)
{
	for (int d = 0; d < 26; d++) {
		char where[4] = { (char)('A' + d), ':', '\\', 0 };
		unsigned long long n = per_drive[d];

		if (!n)
			continue;
		ws_logf(a->log, WS_LOG_WARN, where,
			"the target has no drive %c: here: the scan's %llu file%s and folder%s of "
			"that drive are placed on its system drive %s in the same folders, as "
			"USMT does", 'A' + d, n, n == 1 ? "" : "s", n == 1 ? "" : "s", a->drive_to);
	}
}

static int probe_clean(const char *host, struct ws_error *err)
{
	struct reg_hive_info hi;
	int rc;

	if (!host)
		return WS_OK;
	if ((rc = reg_hive_probe(host, &hi, err)))
		return rc;
	if (hi.dirty)
		return ws_error_set(err, WS_E_HIVE, host,
				    "the target hive is dirty (its transaction logs hold newer "
				    "data): start and shut down that Windows cleanly, then "
				    "apply again; nothing was written");
	return WS_OK;
}

/*
 * One store entry or target object refused by the safety pass: the first
 * becomes the error (36), and when there are more each is logged, so a
 * hostile store is listed whole before anything is written.
 */
static void refuse(struct apply *a, unsigned *nref, const char *object,
		   struct ws_error *err, const char *fmt, ...)
{
	char msg[WS_ERROR_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one refusal is the error alone; from the second on all are logged */
	if (*nref == 1 && err)
		ws_logf(a->log, WS_LOG_ERROR, err->where, "%s", err->msg);
	if (*nref >= 1)
		ws_logf(a->log, WS_LOG_ERROR, object, "refused: %s", msg);
	if ((*nref)++ == 0)
		ws_error_set(err, WS_E_UNSUPPORTED, object, "refused: %s", msg);
}

/* The Windows path a file entry will take on the target (placed, or at its
 * place in the future profile of a staged user); 0 when it will not be
 * written. */
static int planned_path(struct apply *a, struct apply_user *um, const struct store_file *f,
			struct ws_buf *tpath)
{
	const char *why;

	if (um && um->mode == APPLY_MODE_FIRST_SIGN_IN) {
		if (!afiles_profile_rel(f->path, um->src->profile_path))
			return 0;
		ws_buf_reset(tpath);
		asub_string(f->path, um->subs, um->nsubs, tpath);
		return 1;
	}
	return afiles_target_path(a, um, f, tpath, &why);
}

/* Is `path` in folder `dir` ("X:\\a\\", up to its last backslash), and
 * does its own name follow? */
static int same_folder(const struct ws_buf *dir, const char *path)
{
	return dir->len && !strncmp(path, dir->buf, dir->len) && !strchr(path + dir->len, '\\') &&
	       path[dir->len];
}

/* dir = path's folder, up to and with its last backslash (none: empty). */
static void note_folder(struct ws_buf *dir, const char *path)
{
	const char *e = strrchr(path, '\\');

	ws_buf_reset(dir);
	if (e && e - path >= 2)
		ws_buf_add(dir, path, (size_t)(e - path) + 1);
}

/* Check every file path and every hive before anything is written. */
int asafety_pass(struct apply *a, struct ws_error *err)
{
	struct store_record rec;
	struct ws_buf tpath = WS_BUF_INIT, host = WS_BUF_INIT;
	/* The folder (up to its last backslash) of the last catalog path that
	 * passed, and of the last target path that passed and resolved without
	 * a link: a catalog lists a folder's files together, and nothing
	 * changes during this pass, so a file in the same folder needs only its
	 * own name checked, and cannot meet a link on the way. */
	struct ws_buf okcat = WS_BUF_INIT, okdir = WS_BUF_INIT;
	char drive = store_catalog_info(a->cat)->system_drive;
	struct ws_root *walk = NULL;
	unsigned nref = 0;
	uint64_t rerouted[26] = { 0 };
	int rc;

	/* every file's folders looked at once (a cache of this pass only: the
	 * apply's own reads see what it writes) */
	if (!ws_root_open(vol_get_info(a->vol)->root, 0, &walk, NULL))
		ws_root_cache_on(walk, 0);
	if (!drive)
		drive = 'C';
	a->pf = apf_new(a->vol, a->programdata, a->profiles_dir);
	for (size_t i = 0; i < a->nusers; i++)
		if (a->users[i].mode >= 0 && a->users[i].dst_win)
			apf_add_profile(a->pf, a->users[i].dst_win);
	for (;;) {
		struct apply_user *um = NULL;
		const char *why;
		enum vol_res res;
		int same;

		if ((rc = store_catalog_next(a->cat, &rec, err)))
			goto out;
		if (rec.kind == STORE_REC_END)
			break;
		if (rec.kind == STORE_REC_VALUE || rec.kind == STORE_REC_KEY) {
			uint32_t u = rec.kind == STORE_REC_VALUE ? rec.u.value.user : rec.u.key.user;
			enum reg_hive_kind kind;
			struct ws_buf in = WS_BUF_INIT;

			if (u == STORE_SYSTEM &&
			    !reg_map_path(rec.kind == STORE_REC_VALUE ? rec.u.value.key : rec.u.key.path,
					  &kind, &in, NULL)) {
				if (kind == REG_HIVE_SOFTWARE)
					a->need_software = 1;
				if (kind == REG_HIVE_SYSTEM)
					a->need_system = 1;
			}
			ws_buf_release(&in);
			continue;
		}
		if (rec.kind != STORE_REC_FILE)
			continue;
		if ((why = same_folder(&okcat, rec.u.file.path) ?
			   ws_winpath_check_rest(rec.u.file.path, okcat.len, NULL) :
			   path_refusal(rec.u.file.path))) {
			refuse(a, &nref, rec.u.file.path, err,
			       "this store entry's path is not one Windows can hold (%s); "
			       "nothing was written to the target", why);
			continue;
		}
		note_folder(&okcat, rec.u.file.path);
		if (rec.u.file.user != STORE_SYSTEM) {
			um = apply_user_of(a, rec.u.file.user);
			if (!um || um->mode < 0)
				continue;
		}
		if (!planned_path(a, um, &rec.u.file, &tpath))
			continue;
		if (!um) {
			char d = afiles_other_drive(rec.u.file.path, drive);

			if (d) {
				char *k = ws_xstrdup(rec.u.file.path);

				rerouted[d - 'A']++;
				for (char *c = k; *c; c++)
					if (*c >= 'A' && *c <= 'Z')
						*c = (char)(*c | 0x20);
				WS_ALLOC_GROW(a->rerouted, a->n_rerouted + 1, a->a_rerouted);
				a->rerouted[a->n_rerouted++] = k;
			}
		}
		same = same_folder(&okdir, tpath.buf);
		if ((why = same ? ws_winpath_check_rest(tpath.buf, okdir.len, NULL) :
				  ws_winpath_check(tpath.buf, NULL))) {
			refuse(a, &nref, rec.u.file.path, err,
			       "on the target it would be %s (%s); nothing was written to the "
			       "target", tpath.buf, why);
			continue;
		}
		if ((why = apf_refusal(a->pf, tpath.buf))) {
			refuse(a, &nref, rec.u.file.path, err,
			       "on the target %s is %s, which a file entry may not replace or "
			       "create; nothing was written to the target", tpath.buf, why);
			continue;
		}
		if (um && um->mode == APPLY_MODE_FIRST_SIGN_IN)
			continue; /* written into the bundle, checked below */
		if (same)
			continue; /* its folder resolved without a link: so does it */
		if ((rc = walk ? aj_resolve_root(walk, a->vol, tpath.buf, &host, &res, err)
			       : vol_resolve(a->vol, tpath.buf, &host, &res, err)))
			goto out;
		if (res != VOL_RES_LINK_IN_PATH && res != VOL_RES_OTHER_DRIVE)
			note_folder(&okdir, tpath.buf);
		else
			refuse(a, &nref, rec.u.file.path, err,
			       "on the target, %s %s; nothing was written to the target", tpath.buf,
			       res == VOL_RES_OTHER_DRIVE ? "is not on the target's volume"
							  : "passes through a link (junction or "
							    "symlink) that apply does not follow");
	}
	if (nref > 1)
		ws_error_prefix(err, "%u store entries refused (each is in the log), the first",
				nref);
	if (nref) {
		rc = WS_E_UNSUPPORTED;
		goto out;
	}
	warn_rerouted(a, rerouted);
	amoz_rerouted_done(a);
	store_catalog_rewind(a->cat);
	/* Hives that will be written must be clean. */
	{
		const struct vol_info *vi = vol_get_info(a->vol);

		for (size_t i = 0; i < a->nusers; i++)
			if (a->users[i].bundle)
				a->need_software = 1; /* Active Setup for app bundles */
		if (a->r->users_staged)
			a->need_software = 1;
		/* The launcher's path goes into the Active Setup command line. */
		if (a->need_software && !acheck_win_dir(a->programdata)) {
			rc = ws_error_set(err, WS_E_UNSUPPORTED, a->programdata,
					  "refused: the target's ProgramData folder is not a plain "
					  "X:\\folder path (letters, digits, space . _ - ( )), which "
					  "the first-sign-in command line needs; nothing was written");
			goto out;
		}
		/* Bundles (of staged users, or of deferred values) must not land
		 * through a link. */
		{
			struct ws_buf w = WS_BUF_INIT;
			enum vol_res res;

			ws_buf_addf(&w, "%s\\winstate\\bundles", a->programdata);
			rc = vol_resolve(a->vol, w.buf, &host, &res, err);
			if (!rc && (res == VOL_RES_LINK_IN_PATH || res == VOL_RES_OTHER_DRIVE))
				rc = ws_error_set(err, WS_E_TARGET, w.buf,
						  "the bundles folder passes through a link or leaves "
						  "the volume; nothing was written");
			ws_buf_release(&w);
			if (rc)
				goto out;
		}
		/* Hives that will be written must be regular files reached
		 * without a link: the writer would replace, or write through, it. */
		for (int k = 0; k < 2; k++)
			if ((k ? a->need_system : a->need_software) &&
			    aregs_hive_host(a, k ? REG_HIVE_SYSTEM : REG_HIVE_SOFTWARE, &host, NULL) == WS_OK &&
			    apf_hive_is_link(vi->root, host.buf))
				refuse(a, &nref, host.buf, err,
				       "the target's %s hive is a link or not a regular file; apply "
				       "does not write through links; nothing was written",
				       k ? "SYSTEM" : "SOFTWARE");
		for (size_t i = 0; i < a->nusers; i++) {
			const struct vol_profile *d = a->users[i].dst;
			const char *hv[2] = { d ? d->ntuser_path : NULL, d ? d->usrclass_path : NULL };

			if (a->users[i].mode != APPLY_MODE_OFFLINE && a->users[i].mode != APPLY_MODE_DEFAULT)
				continue;
			for (int k = 0; k < 2; k++)
				if (hv[k] && apf_hive_is_link(vi->root, hv[k]))
					refuse(a, &nref, hv[k], err,
					       "this user hive of the target is a link or not a regular "
					       "file; apply does not write through links; nothing was "
					       "written");
		}
		if (nref) {
			rc = WS_E_UNSUPPORTED;
			goto out;
		}
		if ((a->need_software && vi->software_dirty) || (a->need_system && vi->system_dirty)) {
			struct ws_buf h = WS_BUF_INIT;

			aregs_hive_host(a, vi->software_dirty ? REG_HIVE_SOFTWARE : REG_HIVE_SYSTEM, &h, NULL);
			rc = probe_clean(h.buf, err);
			ws_buf_release(&h);
			if (!rc)
				rc = ws_error_set(err, WS_E_HIVE, vi->root, "a system hive is dirty");
			goto out;
		}
		for (size_t i = 0; i < a->nusers; i++) {
			struct apply_user *u = &a->users[i];

			if (u->mode != APPLY_MODE_OFFLINE && u->mode != APPLY_MODE_DEFAULT)
				continue;
			if ((rc = probe_clean(u->dst->ntuser_path, err)) ||
			    (rc = probe_clean(u->dst->usrclass_path, err)))
				goto out;
		}
	}
out:
	ws_root_free(walk);
	ws_buf_release(&tpath);
	ws_buf_release(&okcat);
	ws_buf_release(&okdir);
	ws_buf_release(&host);
	return rc;
}
