/*
 * scan.c - one device's capture: profiles and their names, per-context rule
 * selections, the passes (their walks are in scan_walk.c), Store apps,
 * records into a store writer.
 */
#include "scan/scan.h"
#include "scan/scan_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apps/apps.h"
#include "reg/reg.h"
#include "reg/reg_map.h"
#include "util/ws_buf.h"
#include "util/ws_fs.h"
#include "util/ws_utf.h"
#include "volume/volume.h"

void scan_opts_init(struct scan_opts *o)
{
	memset(o, 0, sizeof(*o));
}

/* ---- rule texts: each deciding rule is stored once per scan ------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static void rule_table_release(struct rule_table *t)
{
	for (size_t i = 0; i < t->size; i++)
		free(t->slots[i].text);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* Index for `text`, *is_new set when it was not there yet. */
static uint32_t rule_table_get(struct rule_table *t, const char *text,
			       int *is_new)
{
	size_t mask, i;

	if (t->used * 2 >= t->size) {
		struct rule_table bigger = { NULL, t->size ? t->size * 2 : 64, t->used };

		bigger.slots = ws_xcalloc(bigger.size, sizeof(*bigger.slots));
		for (size_t k = 0; k < t->size; k++) {
			if (!t->slots[k].text)
				continue;
			i = hash_str(t->slots[k].text) & (bigger.size - 1);
			while (bigger.slots[i].text)
				i = (i + 1) & (bigger.size - 1);
			bigger.slots[i] = t->slots[k];
		}
		free(t->slots);
		*t = bigger;
	}
	mask = t->size - 1;
	i = hash_str(text) & mask;
	while (t->slots[i].text) {
		if (!strcmp(t->slots[i].text, text)) {
			*is_new = 0;
			return t->slots[i].index;
		}
		i = (i + 1) & mask;
	}
	t->slots[i].text = ws_xstrdup(text);
	t->slots[i].index = (uint32_t)t->used++;
	*is_new = 1;
	return t->slots[i].index;
}

void scan_progress(struct scan *s, const char *phase)
{
	struct ws_progress_event ev = { 0 };

	if (s->counting)
		return;
	/* an estimate reads nothing: its phase says so (USMT's Estimating) */
	ev.phase = s->o->estimate && !strcmp(phase, "scan") ? "estimate" : phase;
	ev.device = s->res->device;
	ev.user = s->user_label;
	ev.done = s->res->files;
	ev.total = s->total_files;
	ev.bytes_done = s->res->bytes;
	ev.bytes_total = s->total_bytes;
	ev.errors = s->res->errors;
	ev.item = s->cur_item ? s->cur_item : s->user_label;
	ws_progress_emit(s->o->progress, &ev);
}

/* Problem with one object: a warning under continue_on_error, else fatal. */
int scan_object_problem(struct scan *s, struct ws_error *err,
			const struct ws_error *what)
{
	s->res->errors++;
	if (s->o->continue_on_error) {
		ws_logf(s->log, WS_LOG_WARN, what->where, "skipped: %s", what->msg);
		return WS_OK;
	}
	if (err && err != what)
		*err = *what;
	return what->code ? what->code : WS_E_IO;
}

void scan_rule_memo_clear(struct scan *s)
{
	memset(s->ri, 0, sizeof(s->ri));
}

int scan_rule_index(struct scan *s, const struct rule_decision *d,
		    uint32_t *out, struct ws_error *err)
{
	struct scan_rule_memo *m;
	struct ws_buf t = WS_BUF_INIT;
	const char *base;
	int is_new, rc = WS_OK;

	if (!d->file) {
		*out = UINT32_MAX;
		return WS_OK;
	}
	/* a few rules decide most files: their text is made and looked up
	 * once, not per file */
	m = &s->ri[((uintptr_t)d->pattern >> 4 ^ (uintptr_t)d->line) %
		   (sizeof(s->ri) / sizeof(s->ri[0]))];
	if (m->file == d->file && m->line == d->line && m->component == d->component &&
	    m->kind == d->kind && m->pattern == d->pattern) {
		*out = m->index;
		return WS_OK;
	}
	base = strrchr(d->file, '/');
	base = base ? base + 1 : d->file;
	ws_buf_addf(&t, "%s:%ld component '%s' %s %s", base, d->line,
		    d->component ? d->component : "", rule_kind_name(d->kind),
		    d->pattern ? d->pattern : "");
	*out = rule_table_get(&s->rules, t.buf, &is_new);
	if (is_new && s->w) {
		struct store_rule r = { *out, t.buf };
		rc = store_scan_add_rule(s->w, &r, err);
	}
	if (!rc) {
		m->file = d->file;
		m->line = d->line;
		m->component = d->component;
		m->kind = d->kind;
		m->pattern = d->pattern;
		m->index = *out;
	}
	ws_buf_release(&t);
	return rc;
}

/* ---- Store apps ---------------------------------------------------------- */

/* Folder names under the user's %LOCALAPPDATA%\Packages (package families
 * with data), sorted for deterministic records. */
static void package_folders(struct scan *s, const struct rule_env *env,
			    char ***out, size_t *n)
{
	const char *local = rule_env_get(env, "LOCALAPPDATA");
	struct ws_buf win = WS_BUF_INIT, host = WS_BUF_INIT, full = WS_BUF_INIT;
	struct vol_entry_hold h = VOL_ENTRY_HOLD_INIT;
	enum vol_res res;
	size_t alloc = 0, nn = 0;
	char **names = NULL;

	*out = NULL;
	*n = 0;
	if (!local)
		return;
	ws_buf_addf(&win, "%s\\Packages", local);
	if (vol_resolve(s->vol, win.buf, &host, &res, NULL) || res != VOL_RES_FOUND ||
	    vol_list(s->vol, host.buf, &names, &nn, NULL))
		goto out;
	for (size_t i = 0; i < nn; i++) {
		struct vol_entry e;

		if (names[i][0] == '.')
			continue;
		ws_buf_reset(&full);
		ws_buf_addf(&full, "%s/%s", host.buf, names[i]);
		if (!vol_stat(s->vol, full.buf, &e, &h, NULL) && e.type == VOL_ENT_DIR) {
			WS_ALLOC_GROW(*out, *n + 1, alloc);
			(*out)[(*n)++] = ws_xstrdup(names[i]);
		}
	}
out:
	vol_list_free(names, nn);
	vol_entry_hold_release(&h);
	ws_buf_release(&full);
	ws_buf_release(&win);
	ws_buf_release(&host);
}

/*
 * The user's Store apps (UsrClass.dat repository, replayed when dirty;
 * AppxAllUserStore; data folders) as catalog app records, for apply's
 * reinstall list.  An inventory that cannot be read is a warning: the
 * user's settings and files still travel.
 */
static int record_apps(struct scan *s, const struct rule_env *env,
		       struct ws_error *err)
{
	struct apps_list list = APPS_LIST_INIT;
	struct reg_hive *uc = NULL;
	struct ws_buf cls = WS_BUF_INIT;
	struct ws_error e;
	char **folders;
	size_t nf;
	int rc = WS_OK;

	scan_walk_user_hive(s, REG_HIVE_USRCLASS, 1, &uc, NULL);
	package_folders(s, env, &folders, &nf);
	ws_error_clear(&e);
	if (apps_inventory(uc, s->software, s->prof->sid,
			   (const char *const *)folders, nf, &list, s->log, &e))
		ws_logf(s->log, WS_LOG_WARN, e.where,
			"Store apps of %s not listed: %s", s->user_label, e.msg);
	for (size_t i = 0; !rc && i < list.n; i++) {
		const struct apps_package *p = &list.v[i];
		struct store_app a = { 0 };

		ws_buf_reset(&cls);
		apps_class_encode(p, &cls);
		a.user = s->user;
		a.family = p->family_name;
		a.full_name = p->full_name ? p->full_name : "";
		a.version = p->id.version;
		a.arch = p->id.arch;
		a.publisher = p->id.publisher_id;
		a.app_class = cls.buf;
		s->res->apps++;
		if (s->w)
			rc = store_scan_add_app(s->w, &a, err);
	}
	for (size_t i = 0; i < nf; i++)
		free(folders[i]);
	free(folders);
	ws_buf_release(&cls);
	apps_list_release(&list);
	return rc;
}

/* ---- users -------------------------------------------------------------- */

struct user_pick {
	const struct vol_profile *p;
	char *domain, *name;          /* resolved offline; domain "" = unknown */
};

static int user_recent(const struct scan_opts *o, const struct vol_profile *p)
{
	int64_t now = o->now ? o->now : (int64_t)time(NULL);
	int64_t last;

	if (!p->last_use)
		return 1; /* unknown: not a reason to leave a user behind */
	last = ws_filetime_to_unix_ns(p->last_use) / 1000000000;
	if (o->users_since_time)
		return last >= o->users_since_time;
	return now - last <= (int64_t)o->users_since_days * 86400;
}

/* USMT order: /ui wins over everything, /uel beats /ue, else /ue. */
static const char *user_skip_reason(const struct scan_opts *o,
				    const struct vol_profile *p,
				    const char *domain, const char *name)
{
	if (scan_users_match(o->users_include, o->n_users_include, domain, name,
			     p->sid))
		return NULL;
	if (o->users_since_time)
		return user_recent(o, p) ? NULL :
					   "not used since the day the users-since limit names";
	if (o->users_since_days)
		return user_recent(o, p) ? NULL :
					   "not used within the days the users-since limit allows";
	if (scan_users_match(o->users_exclude, o->n_users_exclude, domain, name,
			     p->sid))
		return "excluded by a users-exclude pattern";
	return NULL;
}

static const char *profile_skip_reason(const struct vol_profile *p)
{
	switch (p->kind) {
	case VOL_PROFILE_SYSTEM: return "system or service profile";
	case VOL_PROFILE_DEFAULT: return "Default profile (template for new users)";
	case VOL_PROFILE_PUBLIC: return "Public folders are captured in system context";
	default: break;
	}
	if (p->stale)
		return p->stale_reason[0] ? p->stale_reason : "stale profile";
	return NULL;
}

/* ---- operator slips ------------------------------------------------------ */

/* What the store knows of the device: its newest scan with users. */
struct scan_prev {
	char newest_id[STORE_SCAN_ID_MAX]; /* for the writer: not listed twice */
	char users_id[STORE_SCAN_ID_MAX];
	uint64_t users_n;
};

/* The device's newest scan that has users ends the listing. */
static int has_users(const struct store_scan_entry *e, void *ctx)
{
	(void)ctx;
	return e->n_users > 0;
}

/* Device names are case-insensitive: take the spelling the store already
 * uses for this device, so that its scans stay under one name. */
static int store_prev(struct scan *s, struct store *st, struct scan_prev *prev,
		      struct ws_error *err)
{
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct scan_result *res = s->res;
	int rc = store_list_scans_until(st, res->device, has_users, NULL, &l, err);

	if (rc)
		return rc;
	if (l.n) {
		const char *stored = l.v[0].info.device;

		if (strcmp(stored, res->device)) {
			ws_logf(s->log, WS_LOG_INFO, res->device,
				"the store names this device '%s' (device names are "
				"case-insensitive): the scan is recorded under that name",
				stored);
			snprintf(res->device, sizeof(res->device), "%s", stored);
		}
		snprintf(prev->newest_id, sizeof(prev->newest_id), "%s", l.v[0].info.scan_id);
		for (size_t i = 0; i < l.n && !prev->users_id[0]; i++) {
			if (!l.v[i].n_users)
				continue;
			snprintf(prev->users_id, sizeof(prev->users_id), "%s",
				 l.v[i].info.scan_id);
			prev->users_n = l.v[i].n_users;
		}
	}
	store_scan_list_release(&l);
	return WS_OK;
}

/* A bounded list of names for a message. */
static void names_add(struct ws_buf *b, const char *name, size_t *n)
{
	if (b->len > 500) {
		if (b->buf[b->len - 1] != '.')
			ws_buf_adds(b, ", ...");
		return;
	}
	ws_buf_addf(b, "%s%s", (*n)++ ? ", " : "", name);
}

/*
 * The selection an operator almost surely did not mean: an include pattern
 * that names no profile of the device (a typo: 'alcie'), or no user at all
 * (every one filtered out, or a device whose earlier scan had users).  Both
 * fail the device before anything is written, unless allow_empty.
 */
static int check_selection(struct scan *s, const char *candidates,
			   size_t n_cand, size_t n_person,
			   const struct ws_buf *unmatched, size_t n_unmatched,
			   size_t nchosen, const struct scan_prev *prev,
			   struct ws_error *err)
{
	const struct scan_opts *o = s->o;
	const char *dev = s->res->device;
	struct ws_buf why = WS_BUF_INIT;
	int rc = WS_OK;

	if (n_unmatched) {
		ws_buf_addf(&why, "the user include pattern%s %s match%s no user profile "
			    "of this device; ", n_unmatched > 1 ? "s" : "", unmatched->buf,
			    n_unmatched > 1 ? "" : "es");
		if (n_cand)
			ws_buf_addf(&why, "its profiles: %s", candidates);
		else
			ws_buf_adds(&why, "it has no user profile");
	} else if (!nchosen) {
		ws_buf_adds(&why, "no user selected: ");
		if (n_person)
			ws_buf_addf(&why, "the user filters leave out every profile (%s)",
				    candidates);
		else
			ws_buf_adds(&why, "the device has no user profile");
		if (prev->users_id[0])
			ws_buf_addf(&why, "; its scan %s in the store has %llu user(s)",
				    prev->users_id, (unsigned long long)prev->users_n);
	}
	if (!why.len)
		goto out;
	if (o->allow_empty) {
		ws_logf(s->log, WS_LOG_WARN, dev, "%s (scanned anyway: empty selections allowed)",
			why.buf);
		goto out;
	}
	/* the device is named by whoever reports the failure */
	rc = ws_error_hint(err, ws_error_set(err, WS_E_EMPTY, NULL, "%s: nothing %s", why.buf,
					     o->estimate ? "would be captured" : "committed"),
			   WS_INPUT_NONE, n_unmatched ? WS_HINT_SCAN_ANYWAY : WS_HINT_COMMIT_EMPTY);
out:
	ws_buf_release(&why);
	return rc;
}

static void close_user_hives(struct scan *s)
{
	reg_hive_close(s->ntuser);
	reg_hive_close(s->usrclass);
	s->ntuser = s->usrclass = NULL;
	s->ntuser_failed = s->usrclass_failed = 0;
	s->ntuser_replayed = 0;
}

/* Skip other profiles' folders during a user pass; all of them in the
 * system pass. */
static void user_skip_dirs(struct scan *s, const struct vol_profile *profs,
			   size_t nprof, const struct vol_profile *p)
{
	scan_walk_skip_dirs_clear(s);
	for (size_t k = 0; k < nprof; k++) {
		if (!profs[k].host_path || &profs[k] == p)
			continue;
		if (p) {
			if (profs[k].kind == VOL_PROFILE_USER &&
			    !(p->host_path && scan_walk_under_dir(p->host_path, profs[k].host_path)))
				scan_walk_skip_dir_add(s, profs[k].host_path);
		} else if (profs[k].kind == VOL_PROFILE_USER ||
			   profs[k].kind == VOL_PROFILE_DEFAULT) {
			scan_walk_skip_dir_add(s, profs[k].host_path);
		}
	}
}

/* The machine hives as vol_open read them: a dirty SOFTWARE/SYSTEM through
 * its replayed logs, else its stale primary file (with a warning saying
 * why: it is still the best view of the machine). */
static void machine_hives(struct scan *s)
{
	const struct vol_info *vi = vol_get_info(s->vol);
	const char *names[2] = { "SOFTWARE", "SYSTEM" };
	int dirty[2] = { vi->software_dirty, vi->system_dirty };
	int replayed[2] = { vi->software_replayed, vi->system_replayed };
	const char *why[2] = { vi->software_why, vi->system_why };

	s->software = vol_software_hive(s->vol);
	s->system = vol_system_hive(s->vol);
	for (int i = 0; i < 2; i++) {
		struct ws_buf win = WS_BUF_INIT;

		if (!dirty[i])
			continue;
		ws_buf_addf(&win, "%s\\System32\\config\\%s", vi->system_root, names[i]);
		if (replayed[i]) {
			s->res->hives_replayed++;
			ws_logf(s->log, WS_LOG_INFO, win.buf,
				"dirty hive read through its transaction logs (private copy)");
		} else {
			ws_logf(s->log, WS_LOG_WARN, win.buf,
				"dirty hive read without its newest changes: %s", why[i]);
		}
		ws_buf_release(&win);
	}
}

static void copy_identity(struct scan_result *r, const struct vol_info *vi)
{
	snprintf(r->computer, sizeof(r->computer), "%s", vi->computer_name);
	snprintf(r->os_product, sizeof(r->os_product), "%s", vi->product_name);
	snprintf(r->os_build, sizeof(r->os_build), "%s", vi->current_build);
	snprintf(r->os_edition, sizeof(r->os_edition), "%s", vi->edition_id);
	snprintf(r->os_arch, sizeof(r->os_arch), "%s", vi->architecture);
}

int scan_device(struct store *st, const struct scan_opts *o,
		struct scan_result *res, struct ws_error *err)
{
	struct scan s;
	const struct vol_profile *profs;
	const struct vol_info *vi;
	struct store_scan_info info = { 0 };
	struct rule_env *sysenv = NULL, **envs = NULL;
	struct user_pick *chosen = NULL;
	struct ws_buf dom = WS_BUF_INIT, name = WS_BUF_INIT, acct = WS_BUF_INIT;
	size_t nprof, nchosen = 0;
	unsigned warn0 = o->log ? o->log->warnings : 0;
	struct scan_prev prev;
	struct ws_buf cands = WS_BUF_INIT;  /* the device's user profiles, named */
	size_t n_cand = 0, n_person = 0;
	char *inc_hit = NULL;               /* per users_include pattern: matched */
	struct ws_buf unmatched = WS_BUF_INIT;
	size_t n_unmatched = 0;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	memset(&prev, 0, sizeof(prev));
	s.o = o;
	s.res = res;
	s.log = o->log;
	if (!o->rules || !o->source || (!st && !o->estimate))
		return ws_error_set(err, WS_E_USAGE, NULL,
				    "scan needs a source, rules and a store");
	snprintf(res->device, sizeof(res->device), "%s",
		 o->device && *o->device ? o->device : "");
	{
		struct vol_source_opts so = { o->bde_keys, o->tmp_dir, o->log };

		if ((rc = vol_source_open(o->source, &so, &s.vol, err)))
			goto out;
	}
	/* with a second core, folders are read ahead of the rules and the
	 * store (a rescan that finds nothing changed is mostly this walk) */
	if (st && store_threads(st) > 1)
		vol_set_walk_ahead(s.vol, 1);
	vi = vol_get_info(s.vol);
	copy_identity(res, vi);
	/* read-only is safe, but what Windows held in memory is not there */
	if (vi->ntfs_hibernated)
		ws_logf(s.log, WS_LOG_WARN, NULL,
			"the NTFS volume is hibernated or was shut down with Fast "
			"Startup: read as it is on disk (read-only); changes Windows "
			"had not written yet are not captured");
	else if (vi->ntfs_dirty)
		ws_logf(s.log, WS_LOG_WARN, NULL,
			"the NTFS volume is marked dirty (not shut down cleanly): "
			"read as it is on disk (read-only)");
	if (!res->device[0])
		snprintf(res->device, sizeof(res->device), "%s", vi->computer_name);
	if (!res->device[0]) {
		rc = ws_error_hint(err, ws_error_set(err, WS_E_USAGE, o->source,
						     "the SYSTEM hive holds no computer name"),
				   WS_INPUT_NONE, WS_HINT_NAME_DEVICE);
		goto out;
	}
	if (o->claim_device && o->claim_device(o->claim_device_ctx, res->device)) {
		rc = ws_error_set(err, WS_E_USAGE, o->source,
				  "device name '%s' is already used by another device "
				  "of this wave: give it its own name", res->device);
		goto out;
	}
	if (st && (rc = store_prev(&s, st, &prev, err)))
		goto out;
	machine_hives(&s);
	s.names = scan_names_load(s.vol, s.software, s.log);

	/* Choose users. */
	profs = vol_profiles(s.vol, &nprof);
	chosen = ws_xcalloc(nprof ? nprof : 1, sizeof(*chosen));
	inc_hit = ws_xcalloc(o->n_users_include + 1, 1);
	for (size_t i = 0; i < nprof; i++) {
		const char *why = profile_skip_reason(&profs[i]);

		if (!why) {
			scan_names_resolve(s.names, &profs[i], vi->computer_name,
					   &dom, &name);
			why = user_skip_reason(o, &profs[i], dom.buf, name.buf);
			n_person++;
			ws_buf_reset(&acct);
			if (dom.len)
				ws_buf_addf(&acct, "%s\\", dom.buf);
			ws_buf_adds(&acct, name.buf);
			names_add(&cands, acct.buf, &n_cand);
			for (size_t k = 0; k < o->n_users_include; k++)
				if (!inc_hit[k] &&
				    scan_users_match(&o->users_include[k], 1, dom.buf,
						     name.buf, profs[i].sid))
					inc_hit[k] = 1;
		}
		if (why) {
			if (profs[i].kind == VOL_PROFILE_USER)
				res->users_skipped++;
			ws_logf(s.log, WS_LOG_INFO, profs[i].win_path,
				"profile %s not scanned: %s",
				profs[i].sid[0] ? profs[i].sid : profs[i].account, why);
			continue;
		}
		chosen[nchosen].p = &profs[i];
		chosen[nchosen].domain = ws_xstrdup(dom.buf);
		chosen[nchosen++].name = ws_xstrdup(name.buf);
	}

	for (size_t k = o->n_users_include_optional; k < o->n_users_include; k++)
		if (!inc_hit[k])
			ws_buf_addf(&unmatched, "%s'%s'", n_unmatched++ ? ", " : "",
				    o->users_include[k]);
	if ((rc = check_selection(&s, cands.buf, n_cand, n_person, &unmatched,
				  n_unmatched, nchosen, &prev, err)))
		goto out;

	/* Per-user environments first: GenerateUserPatterns needs them all. */
	envs = ws_xcalloc(nchosen ? nchosen : 1, sizeof(*envs));
	for (size_t i = 0; i < nchosen; i++)
		if ((rc = rule_env_of(s.vol, chosen[i].p, &envs[i], err)))
			goto out;
	if ((rc = rule_env_of(s.vol, NULL, &sysenv, err)))
		goto out;

	/* Totals for the progress display: the same walks, counting only. */
	if (o->precount && !o->estimate) {
		s.counting = 1;
		for (size_t i = 0; !rc && i <= nchosen; i++) {
			const struct vol_profile *p = i < nchosen ? chosen[i].p : NULL;

			s.prof = p;
			user_skip_dirs(&s, profs, nprof, p);
			if (!p)
				scan_walk_skip_outside_dirs(&s);
			rc = scan_walk_run_pass(&s, i < nchosen ? envs[i] : sysenv,
				      p ? RULE_CTX_USER : RULE_CTX_SYSTEM,
				      (const struct rule_env *const *)envs, nchosen,
				      p ? (long)i : -1, err);
			close_user_hives(&s);
		}
		s.counting = 0;
		/* the capture decides again what lies outside the profiles */
		scan_walk_outside_free(&s);
		if (rc)
			goto out;
	}

	if (!o->estimate) {
		info.device = res->device;
		info.computer = vi->computer_name;
		info.os_product = vi->product_name;
		info.os_build = vi->current_build;
		info.os_edition = vi->edition_id;
		info.os_arch = vi->architecture;
		info.tool_version = WS_VERSION;
		info.system_drive = vi->system_drive;
		info.rule_files = o->rule_files;
		info.n_rule_files = o->n_rule_files;
		memcpy(info.scan_id, prev.newest_id, sizeof(info.scan_id));
		if ((rc = store_scan_begin(st, &info, &s.w, err)))
			goto out;
		snprintf(res->scan_id, sizeof(res->scan_id), "%s",
			 store_writer_scan_id(s.w));
	}

	for (size_t i = 0; i < nchosen; i++) {
		const struct vol_profile *p = chosen[i].p;
		struct store_user u = { 0 };
		struct reg_hive *h;

		s.user = (uint32_t)i;
		s.prof = p;
		s.user_label = chosen[i].name;
		ws_buf_reset(&acct);
		if (*chosen[i].domain)
			ws_buf_addf(&acct, "%s\\", chosen[i].domain);
		ws_buf_adds(&acct, chosen[i].name);
		/* NTUSER.DAT first: a dirty one is replayed, a bad one reported
		 * before the user is recorded. */
		if ((rc = scan_walk_user_hive(&s, REG_HIVE_NTUSER, 0, &h, err)))
			goto out;
		u.index = s.user;
		u.sid = p->sid[0] ? p->sid : p->account;
		u.account = acct.buf;
		u.profile_path = p->win_path;
		u.last_use_ft = p->last_use;
		if (!strncmp(p->sid, "S-1-12-1-", 9))
			u.flags |= STORE_USER_AZURE;
		else if (*chosen[i].domain &&
			 !ws_name_casecmp(chosen[i].domain, vi->computer_name))
			u.flags |= STORE_USER_LOCAL;
		else if (*chosen[i].domain)
			u.flags |= STORE_USER_DOMAIN;
		if (h && s.ntuser_replayed)
			u.flags |= STORE_USER_LOADED_HIVE_DIRTY;
		if (s.w && (rc = store_scan_add_user(s.w, &u, err)))
			goto out;
		user_skip_dirs(&s, profs, nprof, p);
		rc = scan_walk_run_pass(&s, envs[i], RULE_CTX_USER,
			      (const struct rule_env *const *)envs, nchosen,
			      (long)i, err);
		if (!rc && o->apps)
			rc = record_apps(&s, envs[i], err);
		close_user_hives(&s);
		if (rc)
			goto out;
		res->users++;
	}

	/* System context: machine settings, Public, ProgramData ...; user
	 * profiles were captured in their own passes. */
	s.user = STORE_SYSTEM;
	s.prof = NULL;
	s.user_label = "system";
	user_skip_dirs(&s, profs, nprof, NULL);
	scan_walk_skip_outside_dirs(&s);
	if ((rc = scan_walk_run_pass(&s, sysenv, RULE_CTX_SYSTEM,
			   (const struct rule_env *const *)envs, nchosen, -1, err)))
		goto out;

	if (s.w) {
		struct store_write_stats ws;

		scan_progress(&s, "commit");
		store_writer_stats(s.w, &ws);
		res->bytes_new = ws.bytes_new;
		rc = store_scan_commit(s.w, res->scan_id, err);
		s.w = NULL;
		if (rc)
			goto out;
	}
	scan_progress(&s, "done");
	rc = res->errors ? WS_PARTIAL : WS_OK;
out:
	if (s.w) {
		/* interrupted or failed: what is stored stays for the rerun */
		struct store_write_stats ws;

		store_scan_stop(s.w, &ws);
		res->bytes_new = ws.bytes_new;
		res->packs_kept = ws.packs_new;
		res->bytes_kept = ws.bytes_kept;
	}
	close_user_hives(&s);
	if (s.sel)
		rule_sel_free(s.sel);
	for (size_t i = 0; envs && i < nchosen; i++)
		rule_env_free(envs[i]);
	free(envs);
	for (size_t i = 0; chosen && i < nchosen; i++) {
		free(chosen[i].domain);
		free(chosen[i].name);
	}
	free(chosen);
	free(inc_hit);
	ws_buf_release(&cands);
	ws_buf_release(&unmatched);
	rule_env_free(sysenv);
	for (size_t i = 0; i < s.n_skip; i++)
		free(s.skip_dirs[i]);
	free(s.skip_dirs);
	scan_walk_outside_free(&s);
	rule_table_release(&s.rules);
	ws_buf_release(&s.tmp_path);
	ws_buf_release(&s.sel_node);
	ws_buf_release(&dom);
	ws_buf_release(&name);
	ws_buf_release(&acct);
	scan_names_free(s.names);
	if (s.log)
		res->warnings = s.log->warnings - warn0;
	vol_close(s.vol);
	return rc;
}
