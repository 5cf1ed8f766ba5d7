/*
 * apply.c - replay of a scan onto a target, the driver: options and the
 * report, the checks before anything is written (target writable, security
 * descriptors, LoadState rules), the pass over the catalog that hands each
 * value to apply_regs.c and each file to apply_files.c, the hives committed
 * last; the extract mode is apply_extract.c.
 */
#include "apply/apply_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "util/ws_fs.h"

void apply_opts_init(struct apply_opts *o)
{
	memset(o, 0, sizeof(*o));
}

const char *apply_action_name(int kind)
{
	static const char *const names[] = {
		"user-map", "user-missing", "reg-set", "reg-same", "reg-deferred",
		"reg-skip", "key-create", "file-place", "file-rename",
		"file-overwrite", "file-same", "file-keep", "file-skip", "dir-create",
		"user-stage", "reg-stage", "file-stage", "bundle", "app-stage",
		"app-skip", "reg-dropped", "file-dropped", "reg-translated",
		"settings-file", "rule-move", "rule-content", "reg-keep", "rule-cleanup",
		"rule-add", "rule-unsupported", "user-left-out"
	};

	if (kind < 0 || (size_t)kind >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[kind];
}

static const char *const mode_names[] = {
	"auto", "offline", "first-sign-in", "extract", "default"
};

const char *apply_mode_name(int mode)
{
	if (mode < 0 || (size_t)mode >= sizeof(mode_names) / sizeof(mode_names[0]))
		return "skipped";
	return mode_names[mode];
}

int apply_mode_parse(const char *s)
{
	for (size_t i = 0; i < 4; i++)
		if (!strcmp(s, mode_names[i]))
			return (int)i;
	return -1;
}

void apply_report_release(struct apply_report *r)
{
	for (size_t i = 0; i < r->n_users; i++) {
		struct apply_user_report *u = &r->users[i];

		free(u->account);
		free(u->sid);
		free(u->new_account);
		free(u->new_sid);
		free(u->target);
		free(u->reason);
		aapps_report_release(u);
	}
	free(r->users);
	r->users = NULL;
	r->n_users = 0;
	for (size_t i = 0; i < r->n_wifi; i++) {
		free(r->wifi[i].file);
		free(r->wifi[i].ssid);
		free(r->wifi[i].authentication);
		free(r->wifi[i].reason);
	}
	free(r->wifi);
	r->wifi = NULL;
	r->n_wifi = 0;
	for (size_t i = 0; i < r->n_compat; i++) {
		free(r->compat[i].component);
		free(r->compat[i].verdict);
		free(r->compat[i].note);
	}
	free(r->compat);
	r->compat = NULL;
	r->n_compat = 0;
}

void apply_act(struct apply *a, int kind, const char *user, const char *object,
		const char *target, const char *reason)
{
	struct apply_action ac = { kind, user, object, target, reason };

	if (a->o->on_action)
		a->o->on_action(a->o->on_action_ctx, &ac);
}

struct apply_user *apply_user_of(struct apply *a, uint32_t index)
{
	/* in the catalog's order: by index, each index once (store_catalog.c);
	 * every record asks, and a store may name many users */
	size_t lo = 0, hi = a->nusers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t at = a->users[mid].src->index;

		if (at == index)
			return &a->users[mid];
		if (at < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct apply_counts *apply_cnt(struct apply *a, struct apply_user *um)
{
	return um ? &um->rep->c : &a->sysrep->c;
}

/* The catalog's component of an object (counted for the report). */
struct acat_comp *apply_comp_of(struct apply *a, uint32_t rule, int is_file, int *never)
{
	struct acat_comp *c;
	struct acomp_memo *m, one = { 0 };
	size_t nrules = 0;

	/* indexes are the writer's: a hostile catalog's huge one is looked
	 * up every time rather than given memory */
	store_catalog_rules(a->cat, &nrules);
	if (rule >= 4 * nrules + 1024) {
		m = &one;
	} else {
		if (rule >= a->n_comp_memo) {
			size_t n = (size_t)rule + 64;

			a->comp_memo = ws_xrealloc(a->comp_memo, n * sizeof(*a->comp_memo));
			memset(a->comp_memo + a->n_comp_memo, 0,
			       (n - a->n_comp_memo) * sizeof(*a->comp_memo));
			a->n_comp_memo = n;
		}
		m = &a->comp_memo[rule];
	}
	if (!m->known) {
		m->comp = acat_find(a->acat, store_catalog_rule_text(a->cat, rule), &m->never);
		m->known = 1;
	}
	c = m->comp;
	*never = m->never;

	if (c) {
		if (is_file)
			c->files++;
		else
			c->values++;
	}
	return c;
}

/* ProgramData\winstate: its Windows and host paths. */
void apply_winstate_dir(struct apply *a, struct ws_buf *win, struct ws_buf *host)
{
	enum vol_res res;

	ws_buf_addf(win, "%s\\winstate", a->programdata);
	if (vol_resolve(a->vol, win->buf, host, &res, NULL) ||
	    res == VOL_RES_LINK_IN_PATH || res == VOL_RES_OTHER_DRIVE) {
		ws_buf_reset(host);
		ws_buf_addf(host, "%s/ProgramData/winstate", vol_get_info(a->vol)->root);
	}
}

void apply_sum_counts(struct apply_report *r)
{
	for (size_t i = 0; i < r->n_users; i++) {
		const struct apply_counts *c = &r->users[i].c;

		r->values_set += c->values_set;
		r->values_same += c->values_same;
		r->values_deferred += c->values_deferred;
		r->values_skipped += c->values_skipped;
		r->values_staged += c->values_staged;
		r->keys_created += c->keys_created;
		r->files_placed += c->files_placed;
		r->files_renamed += c->files_renamed;
		r->files_overwritten += c->files_overwritten;
		r->files_same += c->files_same;
		r->files_kept += c->files_kept;
		r->files_skipped += c->files_skipped;
		r->dirs_created += c->dirs_created;
		r->files_staged += c->files_staged;
		r->bytes += c->bytes;
		r->apps_offline += c->apps_offline;
		r->apps_winget += c->apps_winget;
		r->apps_needs_store += c->apps_needs_store;
		r->apps_skipped += c->apps_skipped;
		r->values_dropped += c->values_dropped;
		r->files_dropped += c->files_dropped;
		r->values_translated += c->values_translated;
		r->objects_moved += c->objects_moved;
		r->values_modified += c->values_modified;
		r->values_kept += c->values_kept;
		r->objects_cleaned += c->objects_cleaned;
		r->rules_unsupported += c->rules_unsupported;
	}
}

static int target_writable(const char *root, struct ws_error *err)
{
	struct statvfs sv;

	if (statvfs(root, &sv) == 0 && (sv.f_flag & ST_RDONLY))
		return ws_error_set(err, WS_E_TARGET, root,
				    "the target is mounted read-only (a hibernated or Fast "
				    "Startup volume is mounted read-only by ntfs-3g): remount "
				    "it read-write after a full Windows shutdown");
	if (access(root, W_OK) != 0)
		return ws_error_set_errno(err, WS_E_TARGET, errno, root,
					  "the target is not writable");
	return WS_OK;
}

static int valid_date(const char *s)
{
	int y, m, d;
	char c;

	return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &c) == 3 &&
	       s[4] == '-' && s[7] == '-' && y >= 2000 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* Target-relative form of a host path below the target root (NULL if not). */
static const char *rel_of_host(struct apply *a, const char *host)
{
	const char *root = vol_get_info(a->vol)->root;
	size_t n = strlen(root);

	while (n > 1 && root[n - 1] == '/')
		n--;
	if (strncmp(host, root, n) != 0 || host[n] != '/' || !host[n + 1])
		return NULL;
	return host + n + 1;
}

/* Descriptors: where winstate's folder and each profile are, and the
 * checks that must pass before anything is written. */
static int sec_setup(struct apply *a, struct ws_error *err)
{
	struct ws_buf win = WS_BUF_INIT, host = WS_BUF_INIT;
	const struct vol_profile *p;
	const char *rel;
	size_t n;
	int rc = WS_OK;

	if (!asec_xattr(a->sec))
		return WS_OK;
	apply_winstate_dir(a, &win, &host);
	rel = rel_of_host(a, host.buf);
	asec_set_winstate(a->sec, rel ? rel : "ProgramData/winstate");
	ws_buf_release(&win);
	ws_buf_release(&host);
	p = vol_profiles(a->vol, &n);
	for (size_t i = 0; i < n; i++)
		if (p[i].host_path && p[i].sid && *p[i].sid &&
		    (rel = rel_of_host(a, p[i].host_path)))
			asec_add_profile(a->sec, rel, p[i].sid);
	if ((rc = asec_precheck_winstate(a->sec, err)))
		return rc;
	for (size_t i = 0; !rc && i < a->nusers; i++) {
		const struct apply_user *um = &a->users[i];

		/* A bundle can only be made private to a SID: without one it
		 * would be readable by every local user until that user signs in. */
		if (um->mode == APPLY_MODE_FIRST_SIGN_IN && !um->new_sid &&
		    !a->o->allow_shared_bundle) {
			rc = ws_error_hint(err, ws_error_set(err, WS_E_USAGE,
					  um->new_account ? um->new_account : um->src->account,
					  "the target cannot know this account's SID, so its "
					  "first-sign-in bundle cannot be made private to it"),
					   WS_INPUT_NONE, WS_HINT_SHARED_BUNDLE);
			break;
		}
		if ((um->mode == APPLY_MODE_OFFLINE || um->mode == APPLY_MODE_DEFAULT) &&
		    um->dst && um->dst->host_path && (rel = rel_of_host(a, um->dst->host_path)))
			rc = asec_precheck_profile(a->sec, rel, err);
	}
	return rc;
}

/* apply's own new-object hook (descriptors), then the caller's. */
static int newobj_chain(void *ctx, int fd, int is_dir, const char *rel, struct ws_error *err)
{
	struct apply *a = ctx;
	int rc = asec_newobj(a->sec, fd, is_dir, rel, err);

	if (!rc && a->o->on_newobj)
		rc = a->o->on_newobj(a->o->on_newobj_ctx, fd, is_dir, rel, err);
	return rc;
}

static int rules_add_value(void *ctx, const struct store_value *v, struct ws_error *err)
{
	return aregs_apply(ctx, v, NULL, err);
}

static const char *rules_uname(void *ctx, uint32_t user)
{
	struct apply_user *um = user == STORE_SYSTEM ? NULL : apply_user_of(ctx, user);

	return um ? um->src->account : "system";
}

static struct apply_counts *rules_counts(void *ctx, uint32_t user)
{
	return apply_cnt(ctx, user == STORE_SYSTEM ? NULL : apply_user_of(ctx, user));
}

/* Load the rules and compile a selection per applied user and the system. */
static int rules_begin(struct apply *a, struct ws_error *err)
{
	int rc = arules_new(a->vol, a->cat, a->o, &a->rules, err);

	for (size_t i = 0; !rc && i < a->nusers; i++) {
		struct apply_user *um = &a->users[i];

		if (um->mode < 0)
			continue;
		rc = arules_user(a->rules, um->src->index, um->mode == APPLY_MODE_FIRST_SIGN_IN ?
			NULL : um->dst, um->dst_win, um->new_sid, um->new_account, err);
	}
	if (!rc)
		rc = arules_user(a->rules, STORE_SYSTEM, NULL, NULL, NULL, NULL, err);
	return rc;
}

/* destinationCleanup before anything is applied (not for staged users:
 * their profile does not exist yet; reported). */
static int rules_cleanup(struct apply *a, struct ws_error *err)
{
	int rc = WS_OK;

	for (size_t i = 0; !rc && i < a->nusers; i++) {
		struct apply_user *um = &a->users[i];

		if (um->mode == APPLY_MODE_OFFLINE || um->mode == APPLY_MODE_DEFAULT)
			rc = arules_cleanup(a->rules, um->src->index, a->j, um->src->account,
					    apply_cnt(a, um), aregs_cleanup_hive, a, err);
		else if (um->mode == APPLY_MODE_FIRST_SIGN_IN)
			arules_cleanup_staged(a->rules, um->src->index, um->src->account, apply_cnt(a, um));
	}
	if (!rc)
		rc = arules_cleanup(a->rules, STORE_SYSTEM, a->j, "system", apply_cnt(a, NULL),
				    aregs_cleanup_hive, a, err);
	return rc;
}

/* The Windows 10 -> 11 table of the report: every catalog group met. */
static void compat_report(struct apply *a)
{
	struct apply_report *r = a->r;

	r->source_build = a->aw.src_build;
	r->target_build = a->aw.dst_build;
	r->win10_to_11 = a->aw.to11;
	if (!a->aw.to11)
		return;
	for (size_t i = 0; i < acat_count(a->acat); i++) {
		static const char *const moves[] = { "unknown", "carried", "translated", "dropped" };
		struct acat_comp *c = acat_get(a->acat, i);
		struct apply_compat *o;

		if (!c->values && !c->files)
			continue;
		r->compat = ws_xrealloc(r->compat, (r->n_compat + 1) * sizeof(*r->compat));
		o = &r->compat[r->n_compat++];
		o->component = ws_xstrdup(c->name);
		o->verdict = ws_xstrdup(moves[c->move]);
		o->note = ws_xstrdup(c->note);
		o->values = c->values;
		o->files = c->files;
	}
}

int apply_scan(struct store *st, const struct apply_opts *o,
	       struct apply_report *r, struct ws_error *err)
{
	struct apply a;
	struct store_record rec;
	uint64_t all_records = 0, all_bytes = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&a, 0, sizeof(a));
	a.renames.flags = WS_STRSET_NOCASE;
	a.o = o;
	a.r = r;
	a.log = o->log;
	{
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		a.started_ft = ws_filetime_from_unix_ns((int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
	}
	if (!o->target || !o->device)
		return ws_error_set(err, WS_E_USAGE, NULL, "apply needs a target and a device");
	if (o->expires && !valid_date(o->expires))
		return ws_error_hint(err, ws_error_set(err, WS_E_USAGE, o->expires,
						       "takes a date as YYYY-MM-DD"),
				     WS_INPUT_EXPIRES, WS_HINT_NONE);
	if (o->mode < APPLY_MODE_AUTO || o->mode > APPLY_MODE_EXTRACT)
		return ws_error_set(err, WS_E_USAGE, NULL, "unknown apply mode %d", o->mode);
	/* A scan without users (scan --allow-empty) would restore nothing a
	 * user misses: refused before anything is touched.  Other catalog
	 * problems are reported where the catalog is opened below. */
	if (!store_catalog_open(st, o->device, o->scan_id, &a.cat, NULL)) {
		size_t nu = 0;

		store_catalog_users(a.cat, &nu);
		rc = nu ? WS_OK :
		     ws_error_hint(err, ws_error_set(err, WS_E_EMPTY,
						     store_catalog_info(a.cat)->scan_id,
						     "the scan of %s has no user: nothing to apply",
						     store_catalog_info(a.cat)->device),
				   WS_INPUT_NONE, WS_HINT_LIST_SCANS);
		store_catalog_free(a.cat);
		a.cat = NULL;
		if (rc)
			return rc;
	}
	if (o->mode == APPLY_MODE_EXTRACT)
		return aextract_run(st, &a, err);
	if ((rc = vol_open(o->target, &a.vol, err)))
		return rc;
	snprintf(r->target_computer, sizeof(r->target_computer), "%s",
		 vol_get_info(a.vol)->computer_name);
	if ((rc = ws_root_open(vol_get_info(a.vol)->root, 0, &a.rroot, err)))
		goto out;
	if (!o->dry_run && (rc = target_writable(vol_get_info(a.vol)->root, err)))
		goto out;
	/* before anything is written: can the target hold descriptors? */
	if ((rc = asec_new(vol_get_info(a.vol)->root, o->allow_plain_target, &a.sec, err)))
		goto out;
	if ((rc = store_catalog_open(st, o->device, o->scan_id, &a.cat, err)))
		goto out;
	snprintf(r->scan_id, sizeof(r->scan_id), "%s", store_catalog_info(a.cat)->scan_id);
	{
		struct vol_vars vars = VOL_VARS_INIT;
		const char *s;
		char sd = store_catalog_info(a.cat)->system_drive;

		if ((rc = vol_system_vars(a.vol, &vars, err))) {
			vol_vars_release(&vars);
			goto out;
		}
		s = vol_vars_get(&vars, "PROGRAMDATA");
		a.programdata = ws_xstrdup(s ? s : "C:\\ProgramData");
		s = vol_vars_get(&vars, "PROFILESFOLDER");
		a.profiles_dir = ws_xstrdup(s ? s : "C:\\Users");
		vol_vars_release(&vars);
		snprintf(a.drive_from, sizeof(a.drive_from), "%c:", sd ? sd : 'C');
		snprintf(a.drive_to, sizeof(a.drive_to), "%c:", vol_get_info(a.vol)->system_drive);
	}
	if ((rc = ausers_map(&a, err)))
		goto out;
	{
		/* what the first-sign-in restores of earlier applies recorded */
		struct ws_buf win = WS_BUF_INIT, host = WS_BUF_INIT;

		apply_winstate_dir(&a, &win, &host);
		bundle_earlier(host.buf, a.log);
		ws_buf_release(&win);
		ws_buf_release(&host);
	}
	if ((rc = sec_setup(&a, err)))
		goto out;
	a.acat = acat_load(o->rules_dir, a.cat, a.log);
	if ((rc = rules_begin(&a, err)))
		goto out;
	aw_init(&a.aw, store_catalog_info(a.cat)->os_build, vol_get_info(a.vol)->build_number);
	if ((rc = abundles_plan_apps(&a, err)))
		goto out;
	if ((rc = asafety_pass(&a, err)))
		goto out;
	arules_off_limits(a.rules, a.pf);
	if (!o->dry_run) {
		/* none where nothing is given a descriptor (a plain target): the
		 * journal then makes folders off this thread */
		struct ws_newobj no = { asec_xattr(a.sec) || o->on_newobj ? newobj_chain : NULL,
					&a };

		if ((rc = aj_begin(a.vol, o->on_journal, o->on_journal_ctx,
				   &no, o->fd_share, &a.j, err)))
			goto out;
		snprintf(r->journal, sizeof(r->journal), "%s", aj_dir(a.j));
		if (o->on_mkdir)
			aj_set_mkdir_hook(a.j, o->on_mkdir, o->on_mkdir_ctx);
	} else {
		/* the journal's folders count among those the real run makes */
		struct ws_buf jw = WS_BUF_INIT, jh = WS_BUF_INIT;

		apply_winstate_dir(&a, &jw, &jh);
		ws_buf_adds(&jh, "/journal");
		afiles_would_mkdirs(&a, jh.buf);
		ws_buf_release(&jw);
		ws_buf_release(&jh);
	}
	if ((rc = rules_cleanup(&a, err)))
		goto out;
	store_catalog_totals(a.cat, &all_records, &all_bytes);
	/* the next files' content is read, checked and decompressed on the
	 * other threads while this one writes (a dry run reads none) */
	store_catalog_ahead(a.cat, !o->dry_run);
	for (;;) {
		if (o->cancel && *o->cancel) {
			/* between entries: each one done is journaled whole */
			rc = ws_error_set(err, WS_E_CANCELED, o->target, "stopped on request");
			goto out;
		}
		if ((rc = store_catalog_next(a.cat, &rec, err)))
			goto out;
		if (rec.kind == STORE_REC_END)
			break;
		if (rec.kind == STORE_REC_VALUE)
			rc = aregs_apply(&a, &rec.u.value, NULL, err);
		else if (rec.kind == STORE_REC_KEY)
			rc = aregs_apply(&a, NULL, &rec.u.key, err);
		else if (rec.kind == STORE_REC_FILE)
			rc = afiles_apply(&a, &rec.u.file, err);
		if (rc)
			goto out;
		if ((++a.done & 63) == 0) {
			/* bytes as files land (content written so far) */
			struct ws_progress_event ev = { 0 };
			ev.phase = "apply";
			ev.device = o->device;
			ev.done = a.done;
			ev.total = all_records;
			ev.bytes_done = a.bytes_done;
			ev.bytes_total = all_bytes;
			ev.item = rec.kind == STORE_REC_FILE ? rec.u.file.path : NULL;
			ws_progress_emit(o->progress, &ev);
		}
	}
	store_catalog_ahead(a.cat, 0);
	if ((rc = arules_add_objects(a.rules, rules_add_value, &a, rules_uname, rules_counts, err)))
		goto out;
	compat_report(&a);
	if ((rc = abundles_translated(&a, err)) || (rc = abundles_staged_layout(&a, err)) ||
	    (rc = abundles_finish(&a, err)))
		goto out;
	/* Hives last, each atomically: values were all set in memory first.
	 * No read handle stays on a hive being replaced (ntfs-3g would keep
	 * the old file as .fuse_hidden* until it is closed). */
	arules_release_hives(a.rules);
	vol_release_hives(a.vol);
	for (size_t i = 0; !rc && i < a.nusers; i++) {
		rc = aregs_commit(&a, a.users[i].ntuser, err);
		if (!rc)
			rc = aregs_commit(&a, a.users[i].usrclass, err);
	}
	if (!rc)
		rc = aregs_commit(&a, a.software, err);
	if (!rc)
		rc = aregs_commit(&a, a.system, err);
out:
	apply_sum_counts(r);
	/* folders counted where they are made: file parents, bundles, the
	 * journal's records (what undo removes), not only captured folders */
	if (o->dry_run)
		r->dirs_created = ws_strset_count(&a.dry_dirs);
	ws_strset_release(&a.dry_dirs);
	ws_strv_free(a.rerouted, a.n_rerouted);
	ws_strset_release(&a.renames);
	if (!rc && (r->users_missing || a.lost ||
		    r->values_skipped || r->files_skipped || r->rules_unsupported))
		rc = WS_PARTIAL;
	for (size_t i = 0; i < a.nusers; i++) {
		reg_hive_close(a.users[i].ntuser);
		reg_hive_close(a.users[i].usrclass);
		free(a.users[i].new_sid);
		free(a.users[i].new_account);
		free(a.users[i].dst_win);
		aw_pins_release(&a.users[i].pins);
		aw_assoc_release(&a.users[i].assoc);
		if (a.users[i].bundle) {
			bundle_release(a.users[i].bundle);
			free(a.users[i].bundle);
		}
	}
	free(a.users);
	aapps_free(a.apps);
	acat_free(a.acat);
	free(a.comp_memo);
	arules_free(a.rules);
	amap_release(&a.maps);
	reg_hive_close(a.software);
	reg_hive_close(a.system);
	if (a.j) {
		/* END: the apply stopped writing (also after an error) */
		if (!rc || rc == WS_PARTIAL) {
			/* the last batch's changes are made here: a full disk
			 * then is still 72 */
			int erc = aj_end(a.j, err);

			if (erc)
				rc = erc;
		} else {
			aj_end(a.j, NULL);
		}
	}
	if (a.j && !o->dry_run)
		r->dirs_created = aj_dirs_made(a.j);
	aj_close(a.j);
	store_catalog_free(a.cat);
	free(a.programdata);
	free(a.profiles_dir);
	apf_free(a.pf);
	asec_free(a.sec);
	ws_root_free(a.rroot);
	vol_close(a.vol);
	return rc;
}
