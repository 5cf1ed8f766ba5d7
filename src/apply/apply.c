/*
 * apply.c - replay of a scan onto a target: user mapping and mode choice,
 * a safety pass over the catalog, registry values into the target's hives
 * (atomic, journaled commits), files into the target profiles with USMT
 * collision handling, staging of first-sign-in bundles, dry-run plans and
 * the extract mode.
 */
#include "apply/apply_int.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "reg/reg_map.h"
#include "rules/rules.h"
#include "util/ws_fs.h"
#include "util/ws_utf.h"
#include "util/ws_winname.h"

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
		"rule-add", "rule-unsupported"
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

#define MAX_SUBS 64

/* One source user and where it lands. */
struct user_map {
	const struct store_user *src;
	int mode;                        /* OFFLINE, FIRST_SIGN_IN, DEFAULT; -1 skipped */
	const struct vol_profile *dst;   /* OFFLINE / DEFAULT */
	char *new_sid, *new_account;     /* NULL when unknown */
	char *dst_win;                   /* target profile path (expected one when staged) */
	struct reg_hive *ntuser, *usrclass;
	struct bundle *bundle;           /* staged settings/files, lazily made */
	struct asub subs[MAX_SUBS], xsubs[MAX_SUBS]; /* xsubs: REG_EXPAND_SZ data */
	size_t nsubs;
	struct apply_user_report *rep;
	struct aw_pins pins;             /* Windows 10 Start tiles, translated */
	int has_tiles;
	struct aw_assoc assoc;           /* UserChoice ProgIds */
};

struct apply {
	const struct apply_opts *o;
	struct apply_report *r;
	struct vol *vol;
	struct store_catalog *cat;
	struct amaps maps;
	struct user_map *users;
	size_t nusers;
	struct apply_user_report *sysrep;
	struct asub syssubs[MAX_SUBS];
	size_t nsyssubs;
	char drive_from[3], drive_to[3];
	struct reg_hive *software, *system;
	struct apf *pf;                  /* what file entries may not touch */
	struct aj *j;
	struct ws_root *rroot;           /* the target, for reads (also dry-run) */
	struct ws_log *log;
	char *programdata;               /* Windows path */
	char *profiles_dir;              /* Windows path of the profiles folder */
	int need_software, need_system;  /* found by the safety pass */
	struct apps_ctx *apps;           /* Store apps: target image, app cache */
	struct acat *acat;               /* notes of the scan's rule files */
	struct aw aw;                    /* source and target Windows builds */
	struct arules *rules;            /* LoadState rules (apply_rules.c) */
	struct asec *sec;                /* security descriptors (apply_sec.c) */
	uint64_t lost;                   /* deferred values not staged anywhere */
	uint64_t done;
	uint64_t started_ft;             /* FILETIME of the start: every key written gets it */
};

static void act(struct apply *a, int kind, const char *user, const char *object,
		const char *target, const char *reason)
{
	struct apply_action ac = { kind, user, object, target, reason };

	if (a->o->on_action)
		a->o->on_action(a->o->on_action_ctx, &ac);
}

static struct user_map *user_of(struct apply *a, uint32_t index)
{
	for (size_t i = 0; i < a->nusers; i++)
		if (a->users[i].src->index == index)
			return &a->users[i];
	return NULL;
}

static struct apply_counts *cnt(struct apply *a, struct user_map *um)
{
	return um ? &um->rep->c : &a->sysrep->c;
}

static const char *short_name(const char *account)
{
	const char *bs = strrchr(account, '\\');

	return bs ? bs + 1 : account;
}

/* User name part of an account or UPN (malloc'd). */
static char *profile_name(const char *account)
{
	const char *s = short_name(account), *at = strchr(s, '@');

	return at ? ws_xstrndup(s, (size_t)(at - s)) : ws_xstrdup(s);
}

/* ---- user mapping ------------------------------------------------------- */

static const struct vol_profile *default_profile(struct apply *a)
{
	size_t n;
	const struct vol_profile *p = vol_profiles(a->vol, &n);

	for (size_t i = 0; i < n; i++)
		if (p[i].kind == VOL_PROFILE_DEFAULT && p[i].ntuser_path)
			return &p[i];
	return NULL;
}

static const struct vol_profile *usable(const struct vol_profile *p)
{
	if (p && (p->kind != VOL_PROFILE_USER || p->stale || !p->ntuser_path))
		return NULL;
	return p;
}

static void add_sub(struct asub *v, size_t *n, const char *from, const char *to, int sid)
{
	if (*n < MAX_SUBS && from && to && *from && ws_name_casecmp(from, to)) {
		v[*n].from = from;
		v[*n].to = to;
		v[*n].sid = sid;
		(*n)++;
	}
}

/* A store's user with a SID or account name that could not safely name a
 * folder, a bundle or a registry value refuses the apply before anything
 * is written; so do a device or scan name bundle.ini could not hold. */
static int check_store_ids(struct apply *a, struct ws_error *err)
{
	size_t n;
	const struct store_user *us = store_catalog_users(a->cat, &n);
	const struct store_scan_info *si = store_catalog_info(a->cat);
	struct ws_buf s1 = WS_BUF_INIT, s2 = WS_BUF_INIT;
	int rc = WS_OK;

	for (size_t i = 0; !rc && i < n; i++) {
		int sid_ok = acheck_sid(us[i].sid);

		if (sid_ok && (!*us[i].account || acheck_account(us[i].account)))
			continue;
		acheck_show(us[i].account, &s1);
		acheck_show(us[i].sid, &s2);
		rc = ws_error_set(err, WS_E_UNSUPPORTED, s1.len ? s1.buf : s2.buf,
				  "refused: the store's user '%s' (SID '%s') has %s; nothing "
				  "was written to the target", s1.buf ? s1.buf : "", s2.buf ? s2.buf : "",
				  sid_ok ? "an account name that is not a plain DOMAIN\\user, "
					   "user or user@domain (control characters, \" / : * ? "
					   "< > | %, a '.' or '..' part)"
					 : "a SID that is not of the form S-1-<authority>-<1..15 "
					   "decimal numbers>");
	}
	if (!rc && (!acheck_name(si->device) || !acheck_name(si->scan_id))) {
		acheck_show(si->device, &s1);
		rc = ws_error_set(err, WS_E_UNSUPPORTED, s1.buf,
				  "refused: the store's device or scan name holds control "
				  "characters or is not UTF-8; nothing was written to the target");
	}
	ws_buf_release(&s1);
	ws_buf_release(&s2);
	return rc;
}

/* A mapped account (--map-user, --map-domain) must be as plain as a store's. */
static int check_mapped(struct user_map *um, struct ws_error *err)
{
	struct ws_buf s = WS_BUF_INIT;
	int rc;

	if (!um->new_account || !*um->new_account || acheck_account(um->new_account))
		return WS_OK;
	acheck_show(um->new_account, &s);
	rc = ws_error_set(err, WS_E_USAGE, s.buf,
			  "the account '%s' that user %s maps to is not a plain "
			  "DOMAIN\\user, user or user@domain", s.buf, um->src->account);
	ws_buf_release(&s);
	return rc;
}

static int map_users(struct apply *a, struct ws_error *err)
{
	size_t n, n_default = 0;
	const struct store_user *us = store_catalog_users(a->cat, &n);
	const struct apply_opts *o = a->o;
	int rc;

	if ((rc = check_store_ids(a, err)) || (rc = amap_load(o, &a->maps, err)))
		return rc;
	a->users = ws_xcalloc(n ? n : 1, sizeof(*a->users));
	a->nusers = n;
	a->r->users = ws_xcalloc(n + 1, sizeof(*a->r->users));
	a->r->n_users = n + 1;
	a->sysrep = &a->r->users[n];
	a->sysrep->account = ws_xstrdup("system");
	a->sysrep->sid = ws_xstrdup("");
	a->sysrep->new_account = ws_xstrdup("");
	a->sysrep->new_sid = ws_xstrdup("");
	a->sysrep->mode = APPLY_MODE_OFFLINE;
	for (size_t i = 0; i < n; i++) {
		const struct amap *m = amap_find(&a->maps, us[i].sid, us[i].account);
		if (m && m->to_default)
			n_default++;
	}
	if (o->default_profile && !n_default && n > 1)
		return ws_error_set(err, WS_E_USAGE, NULL,
				    "--default-profile: the scan has %zu users; name the one "
				    "whose settings every new user gets with --map-user USER=Default", n);
	for (size_t i = 0; i < n; i++) {
		struct user_map *um = &a->users[i];
		const struct amap *m = amap_find(&a->maps, us[i].sid, us[i].account);
		const struct vol_profile *p = NULL;
		char why[700];

		um->src = &us[i];
		um->rep = &a->r->users[i];
		um->rep->account = ws_xstrdup(us[i].account);
		um->rep->sid = ws_xstrdup(us[i].sid);
		if (m && m->new_account)
			um->new_account = ws_xstrdup(m->new_account);
		else if (!m || !m->new_sid)
			um->new_account = amap_domain(&a->maps, us[i].account);
		if (m && m->new_sid)
			um->new_sid = ws_xstrdup(m->new_sid);
		else if (!(m && m->new_account) && um->new_account &&
			 !ws_name_casecmp(um->new_account, us[i].account))
			um->new_sid = ws_xstrdup(us[i].sid); /* same identity */
		if ((rc = check_mapped(um, err)))
			return rc;
		if ((m && m->to_default) || (o->default_profile && !n_default && n == 1)) {
			p = default_profile(a);
			if (p) {
				um->mode = APPLY_MODE_DEFAULT;
			} else {
				um->mode = -1;
				snprintf(why, sizeof(why), "the target has no Users\\Default\\NTUSER.DAT");
			}
		} else {
			if (o->mode != APPLY_MODE_FIRST_SIGN_IN) {
				if (um->new_sid)
					p = usable(vol_profile_find(a->vol, um->new_sid));
				if (!p && um->new_account) {
					char *pn = profile_name(um->new_account);
					p = usable(vol_profile_find(a->vol, pn));
					free(pn);
				}
			}
			if (p) {
				um->mode = APPLY_MODE_OFFLINE;
				if (acheck_sid(p->sid)) {
					free(um->new_sid);
					um->new_sid = ws_xstrdup(p->sid);
				}
			} else if (o->mode == APPLY_MODE_OFFLINE) {
				um->mode = -1;
				snprintf(why, sizeof(why), "no profile for %s on the target%s",
					 um->new_account ? um->new_account : um->new_sid,
					 a->maps.n ? "" : " (use --map-user OLD=NEW to pick one, "
							  "or --mode auto to stage it for first sign-in)");
			} else {
				um->mode = APPLY_MODE_FIRST_SIGN_IN;
			}
		}
		um->dst = p;
		um->rep->mode = um->mode;
		um->rep->new_account = ws_xstrdup(um->new_account ? um->new_account : "");
		um->rep->new_sid = ws_xstrdup(um->new_sid ? um->new_sid : "");
		if (p) {
			um->dst_win = ws_xstrdup(p->win_path);
		} else if (um->mode == APPLY_MODE_FIRST_SIGN_IN) {
			char *pn = profile_name(um->new_account ? um->new_account : us[i].account);

			um->dst_win = ws_xasprintf("%s\\%s", a->profiles_dir, pn);
			free(pn);
		}
		if (um->mode == APPLY_MODE_OFFLINE || um->mode == APPLY_MODE_DEFAULT) {
			a->r->users_applied++;
			um->rep->target = ws_xstrdup(p->win_path);
			act(a, APPLY_USER_MAP, us[i].account, us[i].profile_path, p->win_path,
			    um->mode == APPLY_MODE_DEFAULT ? "into the Default profile: every new "
							     "user starts with these settings" : NULL);
		} else if (um->mode == APPLY_MODE_FIRST_SIGN_IN) {
			a->r->users_staged++;
			um->rep->reason = ws_xstrdup(o->mode == APPLY_MODE_FIRST_SIGN_IN ?
						     "--mode first-sign-in" :
						     "no profile on the target: staged for first sign-in");
		} else {
			a->r->users_missing++;
			um->rep->reason = ws_xstrdup(why);
			act(a, APPLY_USER_MISSING, us[i].account, us[i].profile_path, NULL, why);
			ws_logf(a->log, WS_LOG_WARN, us[i].profile_path,
				"user %s (%s) not applied: %s", us[i].account, us[i].sid, why);
		}
	}
	if (n && a->r->users_missing == n && o->mode == APPLY_MODE_OFFLINE)
		return ws_error_set(err, WS_E_NOUSER, vol_get_info(a->vol)->root,
				    "none of the scan's %zu users has a profile on the target; "
				    "nothing was written (--mode auto stages them for first sign-in)", n);
	/* Rewrites: own profile path first, then every user's SID, then the drive. */
	for (size_t i = 0; i < n; i++) {
		struct user_map *um = &a->users[i];

		if (um->mode < 0)
			continue;
		add_sub(um->subs, &um->nsubs, us[i].profile_path, um->dst_win, 0);
		um->xsubs[0] = um->subs[0];
		if (um->mode == APPLY_MODE_FIRST_SIGN_IN && um->nsubs)
			um->xsubs[0].to = "%USERPROFILE%";
	}
	for (size_t i = 0; i < n; i++) {
		struct user_map *um = &a->users[i];

		if (um->mode >= 0 && um->new_sid)
			for (size_t k = 0; k <= n; k++) {
				struct user_map *t = k < n ? &a->users[k] : NULL;
				size_t before;

				if (t && t->mode < 0)
					continue;
				before = t ? t->nsubs : a->nsyssubs;
				add_sub(t ? t->subs : a->syssubs, t ? &t->nsubs : &a->nsyssubs,
					us[i].sid, um->new_sid, 1);
				if (t && t->nsubs > before)
					t->xsubs[t->nsubs - 1] = t->subs[t->nsubs - 1];
			}
	}
	for (size_t k = 0; k <= n; k++) {
		struct user_map *t = k < n ? &a->users[k] : NULL;
		size_t before;

		if (t && t->mode < 0)
			continue;
		before = t ? t->nsubs : a->nsyssubs;
		add_sub(t ? t->subs : a->syssubs, t ? &t->nsubs : &a->nsyssubs,
			a->drive_from, a->drive_to, 0);
		if (t && t->nsubs > before)
			t->xsubs[t->nsubs - 1] = t->subs[t->nsubs - 1];
	}
	return WS_OK;
}

/* ---- bundles ------------------------------------------------------------ */

static struct bundle *bundle_of(struct apply *a, struct user_map *um)
{
	struct bundle *b;
	struct ws_buf key = WS_BUF_INIT, win = WS_BUF_INIT, host = WS_BUF_INIT;
	enum vol_res res;

	if (um->bundle)
		return um->bundle;
	b = ws_xcalloc(1, sizeof(*b));
	bundle_init(b);
	/* new_sid passed acheck_sid (store, target) or apply_sid_valid
	 * (command line); accounts passed acheck_account. */
	acheck_bundle_key(um->new_sid, um->new_account ? um->new_account : um->src->account,
			  &key);
	ws_buf_addf(&win, "%s\\winstate\\bundles\\%s", a->programdata, key.buf);
	if (vol_resolve(a->vol, win.buf, &host, &res, NULL) ||
	    res == VOL_RES_LINK_IN_PATH || res == VOL_RES_OTHER_DRIVE) {
		ws_buf_reset(&host);
		ws_buf_addf(&host, "%s/ProgramData/winstate/bundles/%s",
			    vol_get_info(a->vol)->root, key.buf);
	}
	b->key = ws_buf_detach(&key, NULL);
	b->win = ws_buf_detach(&win, NULL);
	b->host = ws_buf_detach(&host, NULL);
	b->sid = ws_xstrdup(um->new_sid ? um->new_sid : "");
	b->account = ws_xstrdup(um->new_account ? um->new_account : "");
	um->bundle = b;
	if (um->mode == APPLY_MODE_FIRST_SIGN_IN) {
		free(um->rep->target);
		um->rep->target = ws_xstrdup(b->win);
	}
	return b;
}

/* ---- registry ----------------------------------------------------------- */

/* The catalog's component of an object (counted for the report). */
static struct acat_comp *comp_of(struct apply *a, uint32_t rule, int is_file, int *never)
{
	struct acat_comp *c = acat_find(a->acat, store_catalog_rule_text(a->cat, rule), never);

	if (c) {
		if (is_file)
			c->files++;
		else
			c->values++;
	}
	return c;
}

/* Malformed settings, Windows 10 -> 11 verdicts, NeverRestore, default apps
 * and Start tiles.  1 when the value is dealt with here (not written). */
static int catalog_value(struct apply *a, struct user_map *um, const struct store_value *v,
			 const char *obj)
{
	char why[600];
	int never = 0, verdict;
	struct acat_comp *c;

	if (!aw_check_type(v->key, v->name, v->type, v->len, why, sizeof(why))) {
		cnt(a, um)->values_skipped++;
		act(a, APPLY_REG_SKIP, um->src->account, obj, NULL, why);
		ws_logf(a->log, WS_LOG_WARN, obj, "not applied: %s", why);
		return 1;
	}
	c = comp_of(a, v->rule, 0, &never);
	verdict = aw_value(&a->aw, v->key, v->name, c, never, why, sizeof(why));
	if (verdict == AW_CARRY)
		return 0;
	if (verdict == AW_DROP) {
		cnt(a, um)->values_dropped++;
		act(a, APPLY_REG_DROPPED, um->src->account, obj, NULL, why);
		return 1;
	}
	if (verdict == AW_DEFAULT_APP) {
		struct ws_buf id = WS_BUF_INIT, progid = WS_BUF_INIT;

		aw_is_default_app(v->key, v->name, &id);
		if (v->type == REG_SZ || v->type == REG_EXPAND_SZ)
			ws_utf16le_to_utf8(v->data, v->len, &progid, WS_UTF16_STOP_AT_NUL);
		if (progid.len) {
			aw_assoc_add(&um->assoc, id.buf, progid.buf, NULL);
			cnt(a, um)->values_translated++;
			act(a, APPLY_REG_TRANSLATED, um->src->account, obj, "default-apps.xml", why);
		} else {
			cnt(a, um)->values_skipped++;
			act(a, APPLY_REG_SKIP, um->src->account, obj, NULL,
			    "malformed value: a default app choice that is not a ProgId string");
			ws_logf(a->log, WS_LOG_WARN, obj, "not applied: default app choice is "
				"not a ProgId string");
		}
		ws_buf_release(&id);
		ws_buf_release(&progid);
		return 1;
	}
	/* AW_START_TILES */
	{
		size_t before = um->pins.n;

		aw_pins_from_tiles(v->data, v->len, &um->pins);
		um->has_tiles = 1;
		cnt(a, um)->values_translated++;
		snprintf(why + strlen(why), sizeof(why) - strlen(why), ": %zu pins found",
			 um->pins.n - before);
		act(a, APPLY_REG_TRANSLATED, um->src->account, obj, "start-pins.json", why);
	}
	return 1;
}

/*
 * Open the target file `host` for reading through the held root: no link
 * on the way or at the name is followed, so a link swapped in after the
 * preflight cannot make apply read a file outside the target (#11).
 * WS_E_TARGET for a link or something else than a plain file.
 */
static int open_target_r(struct apply *a, const char *host, int *fd, struct ws_error *err)
{
	struct ws_buf leaf = WS_BUF_INIT;
	const char *rel = ws_root_rel(a->rroot, host);
	struct stat st;
	int pfd, rc = WS_OK, e;

	*fd = -1;
	if (!rel)
		return ws_error_set(err, WS_E_INTERNAL, host, "path outside the target");
	if ((rc = ws_root_parent(a->rroot, rel, &pfd, &leaf, NULL, err)))
		goto out;
	/* O_NONBLOCK: a FIFO planted there must not hang the open */
	*fd = openat(pfd, leaf.buf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	e = errno;
	close(pfd);
	if (*fd < 0)
		rc = e == ELOOP ?
		     ws_error_set(err, WS_E_TARGET, host, "a link where apply reads the "
				  "target: nothing is read through it") :
		     ws_error_set_errno(err, WS_E_IO, e, host, "cannot read");
	else if (fstat(*fd, &st) || !S_ISREG(st.st_mode))
		rc = ws_error_set(err, WS_E_TARGET, host, "not a plain file where apply "
				  "reads the target");
	if (rc && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
out:
	ws_buf_release(&leaf);
	return rc;
}

/* A target hive, read through the held root: hivex is handed the file
 * opened without links as /proc/self/fd/<n>.  Without procfs the host
 * path is read after the same checks (what the journal does too). */
static int open_hive_w(struct apply *a, const char *host, struct reg_hive **slot,
		       struct ws_error *err)
{
	unsigned flags = a->o->dry_run ? 0 : REG_OPEN_WRITE;
	char proc[64];
	int rc, fd;

	if (*slot)
		return WS_OK;
	if ((rc = open_target_r(a, host, &fd, err)))
		return rc;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (access(proc, R_OK) == 0)
		rc = reg_hive_open_as(proc, host, flags, slot, err);
	else
		rc = reg_hive_open(host, flags, slot, err);
	close(fd);
	if (!rc)
		reg_hive_set_write_time(*slot, a->started_ft); /* one time for the whole apply */
	return rc;
}

static int hive_host(struct apply *a, enum reg_hive_kind kind, struct ws_buf *host,
		     struct ws_error *err)
{
	enum vol_res res;
	int rc = vol_resolve(a->vol, kind == REG_HIVE_SOFTWARE ?
			     "Windows\\System32\\config\\SOFTWARE" :
			     "Windows\\System32\\config\\SYSTEM", host, &res, err);

	if (!rc && res != VOL_RES_FOUND)
		rc = ws_error_set(err, WS_E_NOT_WINDOWS, host->buf, "hive missing");
	return rc;
}

static int system_hive(struct apply *a, enum reg_hive_kind kind,
		       struct reg_hive **out, struct ws_error *err)
{
	struct ws_buf host = WS_BUF_INIT;
	struct reg_hive **slot = kind == REG_HIVE_SOFTWARE ? &a->software : &a->system;
	int rc = WS_OK;

	if (!*slot) {
		rc = hive_host(a, kind, &host, err);
		if (!rc)
			rc = open_hive_w(a, host.buf, slot, err);
	}
	*out = *slot;
	ws_buf_release(&host);
	return rc;
}

/* Put a value (v) or key (k) into the user's bundle .reg. */
static int stage_value(struct apply *a, struct user_map *um, const struct store_value *v,
		       const struct store_key *k, const char *obj, int deferred,
		       const char *why, struct ws_error *err)
{
	struct bundle *b = bundle_of(a, um);
	struct ws_buf data = WS_BUF_INIT, note = WS_BUF_INIT;
	struct reg_value rv;
	struct ws_error e;
	int rc = WS_OK;

	ws_error_clear(&e);
	if (!v) {
		if (reg_export_add(&b->reg, k->path, NULL, &e)) {
			cnt(a, um)->values_skipped++;
			act(a, APPLY_REG_SKIP, um->src->account, obj, NULL, e.msg);
		}
		goto out;
	}
	rv.name = (char *)v->name;
	rv.type = v->type;
	rv.data = (unsigned char *)v->data;
	rv.len = v->len;
	if (asub_value(v->type, v->data, v->len, v->type == REG_EXPAND_SZ ? um->xsubs : um->subs,
		       um->nsubs, &data)) {
		rv.data = (unsigned char *)data.buf;
		rv.len = data.len;
	}
	if (reg_export_add(&b->reg, v->key, &rv, &e)) {
		cnt(a, um)->values_skipped++;
		act(a, APPLY_REG_SKIP, um->src->account, obj, NULL, e.msg);
		goto out;
	}
	b->values++;
	cnt(a, um)->values_staged++;
	if (reg_export_import_growth(&rv)) {
		/* carried all the same: Windows readers end strings with a NUL anyway */
		ws_buf_reset(&note);
		ws_buf_addf(&note, "string data without a NUL terminator: reg import stores it "
			    "with %zu NUL bytes added", reg_export_import_growth(&rv));
		if (why)
			ws_buf_addf(&note, "; %s", why);
		why = note.buf;
		ws_logf(a->log, WS_LOG_INFO, obj, "%s", note.buf);
	}
	if (deferred) {
		cnt(a, um)->values_deferred++;
		act(a, APPLY_REG_DEFERRED, um->src->account, obj, b->win, why);
		ws_logf(a->log, WS_LOG_INFO, obj, "deferred to first sign-in: %s", why);
	} else {
		act(a, APPLY_REG_STAGE, um->src->account, obj, b->win, why);
	}
out:
	(void)err;
	ws_buf_release(&data);
	ws_buf_release(&note);
	return rc;
}

static int apply_value(struct apply *a, const struct store_value *v,
		       const struct store_key *k, struct ws_error *err)
{
	struct user_map *um = NULL;
	const char *key = v ? v->key : k->path;
	uint32_t uidx = v ? v->user : k->user;
	const char *uname = "system";
	struct ws_buf inner = WS_BUF_INIT, obj = WS_BUF_INIT, data = WS_BUF_INIT,
		      ccs = WS_BUF_INIT;
	enum reg_hive_kind kind;
	struct reg_hive *h = NULL;
	struct ws_error e;
	reg_node node = 0;
	int rc = WS_OK;
	struct arules_val av;

	arules_val_init(&av);
	ws_error_clear(&e);
	if (v)
		ws_buf_addf(&obj, "%s [%s]", key, v->name);
	else
		ws_buf_adds(&obj, key);
	if (uidx != STORE_SYSTEM) {
		um = user_of(a, uidx);
		if (!um) {
			a->sysrep->c.values_skipped++;
			act(a, APPLY_REG_SKIP, "?", obj.buf, NULL, "catalog names an unknown user");
			goto out;
		}
		uname = um->src->account;
		if (um->mode < 0) {
			cnt(a, um)->values_skipped++;
			act(a, APPLY_REG_SKIP, uname, obj.buf, NULL, "user not on the target");
			goto out;
		}
	}
	if (v && um && (rc = catalog_value(a, um, v, obj.buf)) != 0) {
		rc = WS_OK;
		goto out;
	}
	if (v && a->rules) {
		if (arules_value_pre(a->rules, v, &av, uname, obj.buf, cnt(a, um)))
			goto out;
		v = &av.v;
		key = v->key;
	}
	if (reg_map_path(key, &kind, &inner, &e)) {
		cnt(a, um)->values_skipped++;
		act(a, APPLY_REG_SKIP, uname, obj.buf, NULL, e.msg);
		goto out;
	}
	if ((kind == REG_HIVE_NTUSER || kind == REG_HIVE_USRCLASS) != (um != NULL)) {
		cnt(a, um)->values_skipped++;
		act(a, APPLY_REG_SKIP, uname, obj.buf, NULL,
		    um ? "machine key recorded for a user" : "user key recorded for the machine");
		goto out;
	}
	if (um && um->mode == APPLY_MODE_FIRST_SIGN_IN) {
		if (v && av.set) {
			const unsigned char *cd = v->data;

			arules_value_content(a->rules, &av, &av.v.type, &cd, &av.v.len, NULL,
					     &data, uname, obj.buf, cnt(a, um));
			av.v.data = cd;
			arules_value_merge_staged(a->rules, &av, uname, obj.buf, cnt(a, um));
		}
		rc = stage_value(a, um, v, k, obj.buf, 0, NULL, err);
		goto out;
	}
	if (kind == REG_HIVE_NTUSER) {
		rc = open_hive_w(a, um->dst->ntuser_path, &um->ntuser, err);
		h = um->ntuser;
	} else if (kind == REG_HIVE_USRCLASS) {
		if (!um->dst->usrclass_path) {
			if (um->mode == APPLY_MODE_OFFLINE)
				rc = stage_value(a, um, v, k, obj.buf, 1,
						 "the target profile has no UsrClass.dat yet", err);
			else {
				cnt(a, um)->values_deferred++;
				a->lost++;
				act(a, APPLY_REG_DEFERRED, uname, obj.buf, NULL,
				    "the Default profile has no UsrClass.dat");
			}
			goto out;
		}
		rc = open_hive_w(a, um->dst->usrclass_path, &um->usrclass, err);
		h = um->usrclass;
	} else if (kind == REG_HIVE_SOFTWARE || kind == REG_HIVE_SYSTEM) {
		rc = system_hive(a, kind, &h, err);
		if (!rc && kind == REG_HIVE_SYSTEM) {
			rc = reg_map_current_control_set(h, inner.buf, &ccs, err);
			ws_buf_reset(&inner);
			ws_buf_add(&inner, ccs.buf, ccs.len);
		}
	} else {
		cnt(a, um)->values_skipped++;
		act(a, APPLY_REG_SKIP, uname, obj.buf, NULL, "hive not written offline");
		goto out;
	}
	if (rc)
		goto out;
	if ((rc = reg_key_lookup(h, reg_root(h), inner.buf, &node, err)))
		goto out;
	if (!v) {
		if (!node) {
			if (!a->o->dry_run &&
			    (rc = reg_key_create(h, reg_root(h), inner.buf, &node, err)))
				goto out;
			cnt(a, um)->keys_created++;
			act(a, APPLY_KEY_CREATE, uname, obj.buf, NULL, NULL);
		}
		goto out;
	}
	{
		const unsigned char *d = v->data;
		size_t len = v->len;
		uint32_t type = v->type;
		struct reg_value cur = { 0 };
		int found = 0, deferred = 0;
		struct reg_value nv;
		const struct asub *subs = um ? um->subs : a->syssubs;
		size_t ns = um ? um->nsubs : a->nsyssubs;

		if (asub_value(v->type, v->data, v->len, subs, ns, &data)) {
			d = (const unsigned char *)data.buf;
			len = data.len;
		}
		if (node && (rc = reg_value_get(h, node, v->name, &cur, &found, err)))
			goto out;
		if (av.set)
			arules_value_content(a->rules, &av, &type, &d, &len, found ? &cur : NULL,
					     &ccs, uname, obj.buf, cnt(a, um));
		if (found && cur.type == type && cur.len == len &&
		    (!len || !memcmp(cur.data, d, len))) {
			reg_value_release(&cur);
			cnt(a, um)->values_same++;
			act(a, APPLY_REG_SAME, uname, obj.buf, NULL, NULL);
			goto out;
		}
		if (found && av.set &&
		    arules_value_merge(a->rules, &av, type, d, len, &cur, uname, obj.buf,
				       cnt(a, um))) {
			reg_value_release(&cur);
			goto out;
		}
		reg_value_release(&cur);
		if (a->o->dry_run) {
			struct reg_hive_info hi;
			int big = 0;

			reg_hive_get_info(h, &hi);
			if (node)
				reg_key_has_big_data(h, node, &big, NULL);
			deferred = hi.minor >= 4 && (len > REG_BIG_DATA_MAX || big);
		} else {
			if (!node && (rc = reg_key_create(h, reg_root(h), inner.buf, &node, err)))
				goto out;
			nv.name = (char *)v->name;
			nv.type = type;
			nv.data = (unsigned char *)d;
			nv.len = len;
			rc = reg_value_set(h, node, &nv, &e);
			if (rc == WS_E_UNSUPPORTED) {
				rc = WS_OK;
				deferred = 1;
			} else if (rc) {
				if (err)
					*err = e;
				goto out;
			}
		}
		if (deferred) {
			const char *why = "big-data value in a format >= 1.4 hive: not writable offline";

			if (um && um->mode == APPLY_MODE_OFFLINE) {
				rc = stage_value(a, um, v, NULL, obj.buf, 1, why, err);
			} else {
				cnt(a, um)->values_deferred++;
				a->lost++;
				act(a, APPLY_REG_DEFERRED, uname, obj.buf, NULL, why);
				ws_logf(a->log, WS_LOG_WARN, obj.buf, "not applied: %s", why);
			}
			goto out;
		}
		cnt(a, um)->values_set++;
		act(a, APPLY_REG_SET, uname, obj.buf, v != &av.v || !strcmp(v->key, av.src_key) ?
						      NULL : v->key,
		    found ? "overwrites the target's value" : NULL);
	}
out:
	ws_buf_release(&inner);
	ws_buf_release(&obj);
	ws_buf_release(&data);
	ws_buf_release(&ccs);
	arules_val_release(&av);
	return rc;
}

/* ---- files -------------------------------------------------------------- */

/* Why a catalog path cannot be placed: not on the scan's system drive, or
 * a name Windows cannot hold (ws_winpath_check: '..', streams, devices...);
 * NULL when it can. */
static const char *path_refusal(const char *p, char drive)
{
	const char *why = ws_winpath_check(p, NULL);

	if (!why && (p[0] | 0x20) != (drive | 0x20))
		why = "not on the scan's system drive";
	return why;
}

struct cmp_ctx {
	int fd;
	int differ;
};

static int cmp_chunk(void *ctx, const void *data, size_t len)
{
	struct cmp_ctx *c = ctx;
	char buf[65536];
	const char *p = data;

	while (len && !c->differ) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		ssize_t got = read(c->fd, buf, n);

		if (got != (ssize_t)n || memcmp(buf, p, n)) {
			c->differ = 1;
			break;
		}
		p += n;
		len -= n;
	}
	return c->differ ? 1 : 0;
}

/* 1 if the host file has exactly the stored content. */
static int same_content(struct apply *a, const struct store_file *f,
			const char *host)
{
	struct stat st;
	struct cmp_ctx c = { -1, 0 };
	int rc;

	/* through the held root: a link on the way is "not equal", and the
	 * write that follows refuses it */
	if (open_target_r(a, host, &c.fd, NULL))
		return 0;
	if (fstat(c.fd, &st) || (uint64_t)st.st_size != f->size) {
		close(c.fd);
		return 0;
	}
	rc = store_catalog_read_file_cb(a->cat, f, cmp_chunk, &c, NULL);
	close(c.fd);
	return rc == WS_OK && !c.differ;
}

/* name.ext -> name(N).ext in the same folder. */
static void renamed(const char *host, unsigned n, struct ws_buf *out)
{
	const char *slash = strrchr(host, '/');
	const char *base = slash ? slash + 1 : host;
	const char *dot = strrchr(base, '.');

	if (!dot || dot == base)
		dot = base + strlen(base);
	ws_buf_add(out, host, (size_t)(dot - host));
	ws_buf_addf(out, "(%u)", n);
	ws_buf_adds(out, dot);
}

static void set_times_attrs(int fd, const char *path, const struct store_file *f)
{
	struct timespec ts[2];
	int64_t ns;
	unsigned char be[32];
	uint64_t t[4];

	ns = ws_filetime_to_unix_ns(f->accessed_ft ? f->accessed_ft : f->written_ft);
	ts[0].tv_sec = ns / 1000000000;
	ts[0].tv_nsec = ns % 1000000000;
	ns = ws_filetime_to_unix_ns(f->written_ft);
	ts[1].tv_sec = ns / 1000000000;
	ts[1].tv_nsec = ns % 1000000000;
	if (f->written_ft)
		futimens(fd, ts);
	/* ntfs-3g exposes Windows times and attributes; other file systems
	 * refuse these names, which is fine. */
	t[0] = f->created_ft ? f->created_ft : f->written_ft;
	t[1] = f->written_ft;
	t[2] = f->accessed_ft ? f->accessed_ft : f->written_ft;
	t[3] = f->written_ft;
	for (int i = 0; i < 4; i++)
		for (int b = 0; b < 8; b++)
			be[i * 8 + b] = (unsigned char)(t[i] >> (56 - 8 * b));
	if (f->written_ft)
		lsetxattr(path, "system.ntfs_times_be", be, 32, 0);
	if (f->attributes) {
		uint32_t at = f->attributes & (0x1u | 0x2u | 0x4u | 0x20u); /* RO, hidden, system, archive */
		unsigned char ab[4] = { (unsigned char)(at >> 24), (unsigned char)(at >> 16),
					(unsigned char)(at >> 8), (unsigned char)at };
		lsetxattr(path, "system.ntfs_attrib_be", ab, 4, 0);
	}
}

/* Write the stored content to `dest` through a temporary file in the
 * journal; `replace` when dest exists (saved in the journal first). */
static int write_file(struct apply *a, struct user_map *um, const struct store_file *f,
		      const char *dest, int replace, struct ws_error *err)
{
	struct ws_buf tmp = WS_BUF_INIT;
	int fd, rc;

	aj_temp(a->j, "file", &tmp);
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, tmp.buf, "cannot create file");
		goto out;
	}
	rc = store_catalog_read_file(a->cat, f, fd, err);
	if (!rc && fsync(fd) != 0)
		rc = ws_error_set_errno(err, WS_E_IO, errno, dest, "cannot write file");
	if (!rc)
		set_times_attrs(fd, tmp.buf, f);
	if (close(fd) != 0 && !rc)
		rc = ws_error_set_errno(err, WS_E_IO, errno, dest, "cannot write file");
	if (!rc)
		rc = aj_place(a->j, tmp.buf, dest, replace, err);
	unlink(tmp.buf);
	if (!rc)
		cnt(a, um)->bytes += f->size;
out:
	ws_buf_release(&tmp);
	return rc;
}

static void parent_of(const char *host, struct ws_buf *out)
{
	const char *slash = strrchr(host, '/');

	ws_buf_add(out, host, (size_t)(slash - host));
}

/* Profile-relative part of a user's file path, or NULL. */
static const char *profile_rel(const char *path, const char *profile)
{
	size_t pl = strlen(profile);

	if (ws_name_ncasecmp(path, strnlen(path, pl), profile, pl) || path[pl] != '\\' ||
	    !path[pl + 1])
		return NULL;
	return path + pl + 1;
}

/* The safety pass checked every planned path; a LoadState rule may still
 * move a file (locationModify) onto what file entries may not touch or to a
 * name Windows cannot hold: such a file is skipped (1), reported. */
static int off_limits(struct apply *a, struct user_map *um, const struct store_file *f,
		      const char *tpath)
{
	const char *why = ws_winpath_check(tpath, NULL);

	if (!why && !(why = apf_refusal(a->pf, tpath)))
		return 0;
	cnt(a, um)->files_skipped++;
	act(a, APPLY_FILE_SKIP, um ? um->src->account : "system", f->path, tpath, why);
	ws_logf(a->log, WS_LOG_WARN, f->path, "not applied: a rule moves it to %s (%s)", tpath,
		why);
	return 1;
}

/*
 * A staged user's file: into the bundle's files\ tree at its place in the
 * profile Windows will make, after the LoadState file rules (NeverRestore,
 * locationModify on that future path); a merge rule the script can carry
 * out is recorded in merge.txt.
 */
static int stage_file(struct apply *a, struct user_map *um, const struct store_file *f,
		      struct ws_error *err)
{
	const char *uname = um->src->account, *rel = profile_rel(f->path, um->src->profile_path);
	struct bundle *b;
	struct ws_buf host = WS_BUF_INIT, parent = WS_BUF_INIT, win = WS_BUF_INIT,
		      tpath = WS_BUF_INIT, mwhy = WS_BUF_INIT;
	int rc = WS_OK, policy;

	if (!rel) {
		cnt(a, um)->files_skipped++;
		act(a, APPLY_FILE_SKIP, uname, f->path, NULL,
		    "file of a user lies outside that user's profile");
		goto out;
	}
	/* the path in the future profile (source profile -> dst_win, SIDs ...) */
	asub_string(f->path, um->subs, um->nsubs, &tpath);
	if (a->rules && arules_file_pre(a->rules, f, &tpath, uname, cnt(a, um)))
		goto out;
	if (off_limits(a, um, f, tpath.buf))
		goto out;
	rel = profile_rel(tpath.buf, um->dst_win);
	if (!rel) {
		cnt(a, um)->files_skipped++;
		act(a, APPLY_FILE_SKIP, uname, f->path, tpath.buf,
		    "moved outside the user's profile: a first-sign-in bundle restores only "
		    "into the profile");
		goto out;
	}
	for (const unsigned char *c = (const unsigned char *)rel; *c; c++) {
		if (*c < 32 || *c == 127) {
			/* files.txt is one line per file */
			cnt(a, um)->files_skipped++;
			act(a, APPLY_FILE_SKIP, uname, f->path, NULL,
			    "the name holds control characters");
			goto out;
		}
	}
	b = bundle_of(a, um);
	if (f->flags & STORE_FILE_DIR) {
		ws_buf_addf(&b->manifest, "-\t%s\r\n", rel);
		goto out;
	}
	/* files\<n>: short names, so that no bundle path is longer than the
	 * bundle's folder plus 16 characters, whatever the destination */
	ws_buf_addf(&host, "%s/files/%llu", b->host, (unsigned long long)b->files + 1);
	ws_buf_addf(&win, "%s\\files\\%llu", b->win, (unsigned long long)b->files + 1);
	parent_of(host.buf, &parent);
	if (!a->o->dry_run) {
		if ((rc = aj_mkdirs(a->j, parent.buf, err)))
			goto out;
		if (!same_content(a, f, host.buf) &&
		    (rc = write_file(a, um, f, host.buf, ws_path_exists(host.buf), err)))
			goto out;
	}
	policy = a->rules ? arules_file_merge_staged(a->rules, f, tpath.buf, &mwhy, uname,
						     cnt(a, um)) : ARULES_STAGE_DEFAULT;
	if (policy != ARULES_STAGE_DEFAULT)
		ws_buf_addf(&b->merge, "%s\t%s\r\n",
			    policy == ARULES_STAGE_KEEP ? "keep" : "overwrite", rel);
	b->files++;
	ws_buf_addf(&b->manifest, "%llu\t%s\r\n", (unsigned long long)b->files, rel);
	cnt(a, um)->files_staged++;
	act(a, APPLY_FILE_STAGE, uname, f->path, win.buf, mwhy.len ? mwhy.buf : NULL);
out:
	ws_buf_release(&host);
	ws_buf_release(&parent);
	ws_buf_release(&win);
	ws_buf_release(&tpath);
	ws_buf_release(&mwhy);
	return rc;
}

/* Windows path on the target of a file record; 0 when not placeable
 * (reason set). */
static int target_path(struct apply *a, struct user_map *um, const struct store_file *f,
		       struct ws_buf *tpath, const char **why)
{
	if (um && !profile_rel(f->path, um->src->profile_path)) {
		*why = "file of a user lies outside that user's profile";
		return 0;
	}
	ws_buf_reset(tpath);
	asub_string(f->path, um ? um->subs : a->syssubs, um ? um->nsubs : a->nsyssubs, tpath);
	return 1;
}

static int apply_file(struct apply *a, const struct store_file *f,
		      struct ws_error *err)
{
	struct user_map *um = NULL;
	const char *uname = "system", *why = NULL;
	struct ws_buf tpath = WS_BUF_INIT, host = WS_BUF_INIT, alt = WS_BUF_INIT,
		      parent = WS_BUF_INIT, mwhy = WS_BUF_INIT;
	enum vol_res res;
	int rc = WS_OK, conflict;
	char *place = NULL;

	if (f->user == STORE_SYSTEM)
		awifi_check(a->cat, f, a->r, a->log);
	if (f->user != STORE_SYSTEM) {
		um = user_of(a, f->user);
		uname = um ? um->src->account : "?";
		if (!um || um->mode < 0) {
			cnt(a, um)->files_skipped++;
			act(a, APPLY_FILE_SKIP, uname, f->path, NULL, "user not on the target");
			goto out;
		}
	}
	if (!(f->flags & STORE_FILE_DIR)) {
		char dwhy[600];
		int never = 0;
		struct acat_comp *c = comp_of(a, f->rule, 1, &never);

		if (aw_file(&a->aw, f->path, c, dwhy, sizeof(dwhy)) == AW_DROP) {
			cnt(a, um)->files_dropped++;
			act(a, APPLY_FILE_DROPPED, uname, f->path, NULL, dwhy);
			goto out;
		}
	}
	if (f->flags & STORE_FILE_NOT_CAPTURED) {
		cnt(a, um)->files_skipped++;
		act(a, APPLY_FILE_SKIP, uname, f->path, NULL,
		    "cloud-only file: its content is in the cloud, not in the store");
		goto out;
	}
	if (um && um->mode == APPLY_MODE_FIRST_SIGN_IN) {
		rc = stage_file(a, um, f, err);
		goto out;
	}
	if (!target_path(a, um, f, &tpath, &why)) {
		cnt(a, um)->files_skipped++;
		act(a, APPLY_FILE_SKIP, uname, f->path, NULL, why);
		goto out;
	}
	if (a->rules && arules_file_pre(a->rules, f, &tpath, uname, cnt(a, um)))
		goto out;
	if (off_limits(a, um, f, tpath.buf))
		goto out;
	if ((rc = vol_resolve(a->vol, tpath.buf, &host, &res, err)))
		goto out;
	if (res == VOL_RES_LINK_IN_PATH || res == VOL_RES_OTHER_DRIVE) {
		/* The safety pass refused these; kept for robustness. */
		cnt(a, um)->files_skipped++;
		act(a, APPLY_FILE_SKIP, uname, f->path, tpath.buf,
		    "the target path passes through a link or leaves the volume");
		goto out;
	}
	if (f->flags & STORE_FILE_DIR) {
		if (res == VOL_RES_MISSING) {
			if (!a->o->dry_run && (rc = aj_mkdirs(a->j, host.buf, err)))
				goto out;
			cnt(a, um)->dirs_created++;
			act(a, APPLY_DIR_CREATE, uname, f->path, tpath.buf, NULL);
		}
		goto out;
	}
	parent_of(host.buf, &parent);
	if (res == VOL_RES_MISSING) {
		if (!a->o->dry_run) {
			/* a file destinationCleanup deleted is saved in the journal:
			 * replacing it keeps undo restoring, not removing, it */
			if ((rc = aj_mkdirs(a->j, parent.buf, err)) ||
			    (rc = write_file(a, um, f, host.buf,
					     arules_cleaned(a->rules, host.buf), err)))
				goto out;
		}
		cnt(a, um)->files_placed++;
		act(a, APPLY_FILE_PLACE, uname, f->path, tpath.buf, NULL);
		goto out;
	}
	/* The target already has something at that path. */
	if (same_content(a, f, host.buf)) {
		cnt(a, um)->files_same++;
		act(a, APPLY_FILE_SAME, uname, f->path, tpath.buf, NULL);
		goto out;
	}
	/* a merge rule decides first; --conflict covers the other collisions */
	conflict = a->o->conflict;
	if (a->rules)
		arules_file_merge(a->rules, f, tpath.buf, host.buf, &conflict, &place, &mwhy,
				  uname, cnt(a, um));
	if (conflict == APPLY_CONFLICT_DESTINATION) {
		cnt(a, um)->files_kept++;
		act(a, APPLY_FILE_KEEP, uname, f->path, tpath.buf, mwhy.len ? mwhy.buf :
		    "the target has a different file there (--conflict destination)");
		goto out;
	}
	if (conflict == APPLY_CONFLICT_SOURCE) {
		struct stat st;

		if (lstat(host.buf, &st) || !S_ISREG(st.st_mode)) {
			cnt(a, um)->files_skipped++;
			act(a, APPLY_FILE_SKIP, uname, f->path, tpath.buf,
			    "the target has a folder or link there");
			goto out;
		}
		if (!a->o->dry_run && (rc = write_file(a, um, f, host.buf, 1, err)))
			goto out;
		cnt(a, um)->files_overwritten++;
		act(a, APPLY_FILE_OVERWRITE, uname, f->path, tpath.buf, mwhy.len ? mwhy.buf : NULL);
		goto out;
	}
	for (unsigned n = 1; n < 10000; n++) {
		ws_buf_reset(&alt);
		if (place) {
			/* FindFilePlaceByPattern: the rule's name, same folder */
			const char *slash = strrchr(host.buf, '/');

			ws_buf_add(&alt, host.buf, (size_t)(slash - host.buf) + 1);
			if (rule_ls_place_name(place, slash + 1, n, &alt, NULL) < 0) {
				ws_buf_reset(&alt);
				renamed(host.buf, n, &alt);
			}
		} else {
			renamed(host.buf, n, &alt);
		}
		if (!ws_path_exists(alt.buf))
			break;
		if (same_content(a, f, alt.buf)) {
			/* Already placed under that name by an earlier apply. */
			cnt(a, um)->files_same++;
			act(a, APPLY_FILE_SAME, uname, f->path, alt.buf, NULL);
			goto out;
		}
	}
	if (!a->o->dry_run && (rc = write_file(a, um, f, alt.buf, 0, err)))
		goto out;
	cnt(a, um)->files_renamed++;
	{
		const char *base = strrchr(alt.buf, '/');
		char msg[600];

		snprintf(msg, sizeof(msg), "the target has a different file there: placed as %s%s%s",
			 base ? base + 1 : alt.buf, place ? "; " : "", place ? mwhy.buf : "");
		act(a, APPLY_FILE_RENAME, uname, f->path, tpath.buf, msg);
	}
out:
	ws_buf_release(&tpath);
	ws_buf_release(&host);
	ws_buf_release(&alt);
	ws_buf_release(&parent);
	ws_buf_release(&mwhy);
	free(place);
	return rc;
}

/* ---- safety pass -------------------------------------------------------- */

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
static int planned_path(struct apply *a, struct user_map *um, const struct store_file *f,
			struct ws_buf *tpath)
{
	const char *why;

	if (um && um->mode == APPLY_MODE_FIRST_SIGN_IN) {
		if (!profile_rel(f->path, um->src->profile_path))
			return 0;
		ws_buf_reset(tpath);
		asub_string(f->path, um->subs, um->nsubs, tpath);
		return 1;
	}
	return target_path(a, um, f, tpath, &why);
}

/* Check every file path and every hive before anything is written. */
static int safety_pass(struct apply *a, struct ws_error *err)
{
	struct store_record rec;
	struct ws_buf tpath = WS_BUF_INIT, host = WS_BUF_INIT;
	char drive = store_catalog_info(a->cat)->system_drive;
	unsigned nref = 0;
	int rc;

	if (!drive)
		drive = 'C';
	a->pf = apf_new(a->vol, a->programdata, a->profiles_dir);
	for (size_t i = 0; i < a->nusers; i++)
		if (a->users[i].mode >= 0 && a->users[i].dst_win)
			apf_add_profile(a->pf, a->users[i].dst_win);
	for (;;) {
		struct user_map *um = NULL;
		const char *why;
		enum vol_res res;

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
		if ((why = path_refusal(rec.u.file.path, drive))) {
			refuse(a, &nref, rec.u.file.path, err,
			       "this store entry's path is not one Windows can hold on the "
			       "scan's system drive %c: (%s); nothing was written to the target",
			       drive, why);
			continue;
		}
		if (rec.u.file.user != STORE_SYSTEM) {
			um = user_of(a, rec.u.file.user);
			if (!um || um->mode < 0)
				continue;
		}
		if (!planned_path(a, um, &rec.u.file, &tpath))
			continue;
		if ((why = ws_winpath_check(tpath.buf, NULL))) {
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
		if ((rc = vol_resolve(a->vol, tpath.buf, &host, &res, err)))
			goto out;
		if (res == VOL_RES_LINK_IN_PATH || res == VOL_RES_OTHER_DRIVE)
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
			    hive_host(a, k ? REG_HIVE_SYSTEM : REG_HIVE_SOFTWARE, &host, NULL) == WS_OK &&
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

			hive_host(a, vi->software_dirty ? REG_HIVE_SOFTWARE : REG_HIVE_SYSTEM, &h, NULL);
			rc = probe_clean(h.buf, err);
			ws_buf_release(&h);
			if (!rc)
				rc = ws_error_set(err, WS_E_HIVE, vi->root, "a system hive is dirty");
			goto out;
		}
		for (size_t i = 0; i < a->nusers; i++) {
			struct user_map *u = &a->users[i];

			if (u->mode != APPLY_MODE_OFFLINE && u->mode != APPLY_MODE_DEFAULT)
				continue;
			if ((rc = probe_clean(u->dst->ntuser_path, err)) ||
			    (rc = probe_clean(u->dst->usrclass_path, err)))
				goto out;
		}
	}
out:
	ws_buf_release(&tpath);
	ws_buf_release(&host);
	return rc;
}

/* ---- driver ------------------------------------------------------------- */

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

static int commit_hive(struct apply *a, struct reg_hive *h, struct ws_error *err)
{
	struct ws_buf tmp = WS_BUF_INIT;
	char *dest;
	int rc;

	if (!h || a->o->dry_run)
		return WS_OK;
	dest = ws_xstrdup(reg_hive_path(h));
	aj_temp(a->j, "hive", &tmp);
	rc = reg_hive_commit(h, tmp.buf, err);
	if (!rc)
		rc = aj_place(a->j, tmp.buf, dest, AJ_REPLACE_ALL, err);
	unlink(tmp.buf);
	if (!rc)
		a->r->hives_committed++;
	free(dest);
	ws_buf_release(&tmp);
	return rc;
}

static int valid_date(const char *s)
{
	int y, m, d;
	char c;

	return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &c) == 3 &&
	       s[4] == '-' && s[7] == '-' && y >= 2000 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static void sum_counts(struct apply_report *r)
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

/* ProgramData\winstate: its Windows and host paths. */
static void winstate_dir(struct apply *a, struct ws_buf *win, struct ws_buf *host)
{
	enum vol_res res;

	ws_buf_addf(win, "%s\\winstate", a->programdata);
	if (vol_resolve(a->vol, win->buf, host, &res, NULL) ||
	    res == VOL_RES_LINK_IN_PATH || res == VOL_RES_OTHER_DRIVE) {
		ws_buf_reset(host);
		ws_buf_addf(host, "%s/ProgramData/winstate", vol_get_info(a->vol)->root);
	}
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
	winstate_dir(a, &win, &host);
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
		const struct user_map *um = &a->users[i];

		/* A bundle can only be made private to a SID: without one it
		 * would be readable by every local user until that user signs in. */
		if (um->mode == APPLY_MODE_FIRST_SIGN_IN && !um->new_sid &&
		    !a->o->allow_shared_bundle) {
			rc = ws_error_set(err, WS_E_USAGE,
					  um->new_account ? um->new_account : um->src->account,
					  "the target cannot know this account's SID, so its "
					  "first-sign-in bundle cannot be made private to it: give "
					  "the SID (--map-user OLD=S-1-..., an Entra object ID, or "
					  "a --map-file column), or accept a bundle every local "
					  "user can read with --allow-shared-bundle");
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

static int finish_bundles(struct apply *a, struct ws_error *err)
{
	const struct store_scan_info *si = store_catalog_info(a->cat);
	int rc = WS_OK;

	for (size_t i = 0; !rc && i < a->nusers; i++) {
		struct user_map *um = &a->users[i];
		struct reg_hive *sw = NULL;
		char msg[200];

		if (!um->bundle)
			continue;
		if ((rc = system_hive(a, REG_HIVE_SOFTWARE, &sw, err)))
			break;
		if (um->rep->n_apps) {
			if ((rc = aapps_stage(a->apps, a->o->dry_run ? NULL : a->j, um->bundle->host,
					      a->o, a->log, um->src->account, um->rep, err)))
				break;
			um->bundle->apps = um->rep->apps;
			um->bundle->napps = um->rep->n_apps;
		}
		if (!a->o->dry_run &&
		    (rc = bundle_finish(um->bundle, a->j, a->o, si->device, si->scan_id, err)))
			break;
		a->r->bundles++;
		snprintf(msg, sizeof(msg), "%llu values, %llu files, %zu Store apps; runs at "
			 "first sign-in through Active Setup",
			 (unsigned long long)um->bundle->values, (unsigned long long)um->bundle->files,
			 um->bundle->napps);
		act(a, um->mode == APPLY_MODE_FIRST_SIGN_IN ? APPLY_USER_STAGE : APPLY_BUNDLE,
		    um->src->account, um->src->profile_path, um->bundle->win, msg);
	}
	/* The one script every bundle shares, and Active Setup starting it. */
	if (!rc && a->r->bundles && !a->o->dry_run) {
		struct ws_buf win = WS_BUF_INIT, host = WS_BUF_INIT;
		struct reg_hive *sw = NULL;

		winstate_dir(a, &win, &host);
		if (!(rc = system_hive(a, REG_HIVE_SOFTWARE, &sw, err)))
			rc = bundle_install(a->j, sw, host.buf, win.buf, err);
		ws_buf_release(&win);
		ws_buf_release(&host);
	}
	return rc;
}

static int apply_extract(struct store *st, struct apply *a, struct ws_error *err);

/* ---- LoadState rules (apply_rules.c) ------------------------------------- */

/* destinationCleanup's view of the target hives: those of offline and
 * Default users and the machine's (opened for write, committed with the
 * rest, so the journal saves them first). */
static int rules_hive(void *ctx, uint32_t user, const char *key, struct reg_hive **h,
		      struct ws_buf *inner, struct ws_error *err)
{
	struct apply *a = ctx;
	struct user_map *um = user == STORE_SYSTEM ? NULL : user_of(a, user);
	struct ws_buf ccs = WS_BUF_INIT;
	enum reg_hive_kind kind;
	int rc = WS_OK;

	*h = NULL;
	if (reg_map_path(key, &kind, inner, NULL))
		return WS_OK;
	if ((kind == REG_HIVE_NTUSER || kind == REG_HIVE_USRCLASS) != (um != NULL))
		return WS_OK;
	if (um) {
		const char *path = kind == REG_HIVE_NTUSER ? um->dst->ntuser_path :
							     um->dst->usrclass_path;
		struct reg_hive **slot = kind == REG_HIVE_NTUSER ? &um->ntuser : &um->usrclass;

		if (path && !(rc = open_hive_w(a, path, slot, err)))
			*h = *slot;
	} else if (kind == REG_HIVE_SOFTWARE || kind == REG_HIVE_SYSTEM) {
		rc = system_hive(a, kind, h, err);
		if (!rc && kind == REG_HIVE_SYSTEM) {
			rc = reg_map_current_control_set(*h, inner->buf, &ccs, err);
			ws_buf_reset(inner);
			ws_buf_add(inner, ccs.buf, ccs.len);
		}
	}
	ws_buf_release(&ccs);
	return rc;
}

static int rules_add_value(void *ctx, const struct store_value *v, struct ws_error *err)
{
	return apply_value(ctx, v, NULL, err);
}

static const char *rules_uname(void *ctx, uint32_t user)
{
	struct user_map *um = user == STORE_SYSTEM ? NULL : user_of(ctx, user);

	return um ? um->src->account : "system";
}

static struct apply_counts *rules_counts(void *ctx, uint32_t user)
{
	return cnt(ctx, user == STORE_SYSTEM ? NULL : user_of(ctx, user));
}

/* Load the rules and compile a selection per applied user and the system. */
static int rules_begin(struct apply *a, struct ws_error *err)
{
	int rc = arules_new(a->vol, a->cat, a->o, &a->rules, err);

	for (size_t i = 0; !rc && i < a->nusers; i++) {
		struct user_map *um = &a->users[i];

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
		struct user_map *um = &a->users[i];

		if (um->mode == APPLY_MODE_OFFLINE || um->mode == APPLY_MODE_DEFAULT)
			rc = arules_cleanup(a->rules, um->src->index, a->j, um->src->account,
					    cnt(a, um), rules_hive, a, err);
		else if (um->mode == APPLY_MODE_FIRST_SIGN_IN)
			arules_cleanup_staged(a->rules, um->src->index, um->src->account, cnt(a, um));
	}
	if (!rc)
		rc = arules_cleanup(a->rules, STORE_SYSTEM, a->j, "system", cnt(a, NULL),
				    rules_hive, a, err);
	return rc;
}

/* Write `data` at the target's Windows path `win` (replacing, journaled). */
static int write_target(struct apply *a, const char *win, const struct ws_buf *data,
			struct ws_error *err)
{
	struct ws_buf host = WS_BUF_INIT, parent = WS_BUF_INIT, tmp = WS_BUF_INIT;
	enum vol_res res;
	int rc, fd;

	if ((rc = vol_resolve(a->vol, win, &host, &res, err)))
		goto out;
	if (res == VOL_RES_LINK_IN_PATH || res == VOL_RES_OTHER_DRIVE) {
		rc = ws_error_set(err, WS_E_UNSUPPORTED, win, "passes through a link on the target");
		goto out;
	}
	parent_of(host.buf, &parent);
	if ((rc = aj_mkdirs(a->j, parent.buf, err)))
		goto out;
	aj_temp(a->j, "gen", &tmp);
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, tmp.buf, "cannot create file");
		goto out;
	}
	if (ws_write_all(fd, data->buf, data->len) || fsync(fd))
		rc = ws_error_set_errno(err, WS_E_IO, errno, win, "cannot write file");
	if (close(fd) && !rc)
		rc = ws_error_set_errno(err, WS_E_IO, errno, win, "cannot write file");
	if (!rc)
		rc = aj_place(a->j, tmp.buf, host.buf, res == VOL_RES_FOUND, err);
	unlink(tmp.buf);
out:
	ws_buf_release(&host);
	ws_buf_release(&parent);
	ws_buf_release(&tmp);
	return rc;
}

/* 1 if the target file at host path `host` holds exactly `data`. */
static int target_holds(struct apply *a, const char *host, const struct ws_buf *data)
{
	struct ws_buf have = WS_BUF_INIT;
	char buf[4096];
	ssize_t got;
	int fd, same;

	if (open_target_r(a, host, &fd, NULL))
		return 0;
	while (have.len <= data->len && (got = read(fd, buf, sizeof(buf))) > 0)
		ws_buf_add(&have, buf, (size_t)got);
	close(fd);
	same = have.len == data->len && !memcmp(have.buf, data->buf, data->len);
	ws_buf_release(&have);
	return same;
}

/*
 * Staged users' Start pins on Windows 11: the Default profile's
 * LayoutModification.json, which Windows 11 reads once, when it makes a new
 * user's profile from Default (a staged user's, at first sign-in); the
 * ConfigureStartPins policy would put its list back at every sign-in.  The
 * file serves every new user of the PC: written only when all staged users
 * with pins have the same list, no --default-profile user writes it, and
 * the image has no layout of its own.  Each refusal is said once.
 */
static int staged_layout(struct apply *a, struct ws_error *err)
{
	struct ws_buf json = WS_BUF_INIT, one = WS_BUF_INIT, win = WS_BUF_INIT,
		      host = WS_BUF_INIT;
	const struct vol_profile *dp = default_profile(a);
	char why[300] = "";
	size_t nstaged = 0;
	enum vol_res res;
	int rc = WS_OK, kind = APPLY_SETTINGS_FILE;

	for (size_t i = 0; i < a->nusers; i++) {
		struct user_map *um = &a->users[i];

		if (um->mode == APPLY_MODE_DEFAULT && um->has_tiles)
			goto out; /* that user's pins are the Default profile's */
		if (um->mode != APPLY_MODE_FIRST_SIGN_IN || !um->has_tiles || !um->pins.n)
			continue;
		ws_buf_reset(&one);
		aw_pins_json(&um->pins, um->src->profile_path, &one);
		if (!nstaged++)
			ws_buf_add(&json, one.buf, one.len);
		else if (one.len != json.len || memcmp(one.buf, json.buf, one.len))
			snprintf(why, sizeof(why), "the staged users have different Start pins and "
				 "the Default profile holds one list for every new user");
	}
	if (!nstaged || a->aw.dst_build < 22000)
		goto out; /* Windows 10 reads an XML layout, not this JSON */
	if (!*why && !dp)
		snprintf(why, sizeof(why), "the target has no Default profile");
	if (!*why) {
		ws_buf_addf(&win, "%s\\AppData\\Local\\Microsoft\\Windows\\Shell\\"
			    "LayoutModification.json", dp->win_path);
		if ((rc = vol_resolve(a->vol, win.buf, &host, &res, err)))
			goto out;
		if (res == VOL_RES_FOUND && target_holds(a, host.buf, &json))
			kind = APPLY_FILE_SAME;
		else if (res == VOL_RES_FOUND)
			kind = APPLY_FILE_KEEP;
		else if (!a->o->dry_run)
			rc = write_target(a, win.buf, &json, err);
	}
	if (*why) {
		ws_logf(a->log, WS_LOG_WARN, "LayoutModification.json", "Start pins of staged users "
			"not written for Windows 11: %s; they stay in each bundle's start-pins.json",
			why);
		goto out;
	}
	for (size_t i = 0; !rc && i < a->nusers; i++) {
		struct user_map *um = &a->users[i];

		if (um->mode == APPLY_MODE_FIRST_SIGN_IN && um->has_tiles && um->pins.n)
			act(a, kind, um->src->account, "start-pins", win.buf,
			    kind == APPLY_FILE_KEEP ?
			    "the image has a LayoutModification.json of its own: kept, the pins "
			    "stay in start-pins.json" :
			    "Start pins for Windows 11: read when Windows makes the user's profile "
			    "at first sign-in (every new user of this PC starts with them)");
	}
out:
	ws_buf_release(&json);
	ws_buf_release(&one);
	ws_buf_release(&win);
	ws_buf_release(&host);
	return rc;
}

/* Start pins and default apps of each user: into the bundle, or for the
 * Default profile LayoutModification.json and ProgramData\\winstate. */
static int translated_outputs(struct apply *a, struct ws_error *err)
{
	int rc = WS_OK;

	for (size_t i = 0; !rc && i < a->nusers; i++) {
		struct user_map *um = &a->users[i];
		struct ws_buf pins = WS_BUF_INIT, xml = WS_BUF_INIT, win = WS_BUF_INIT;
		char msg[300];

		if (um->mode < 0 || (!um->has_tiles && !um->assoc.n))
			continue;
		if (um->has_tiles)
			aw_pins_json(&um->pins, um->src->profile_path, &pins);
		if (um->assoc.n)
			aw_assoc_xml(&um->assoc, &xml);
		snprintf(msg, sizeof(msg), "%zu Start pins in ConfigureStartPins form (%zu secondary "
			 "tiles left out)", um->pins.n, um->pins.secondary);
		if (um->mode == APPLY_MODE_DEFAULT) {
			if (pins.len) {
				ws_buf_addf(&win, "%s\\AppData\\Local\\Microsoft\\Windows\\Shell\\"
					    "LayoutModification.json", um->dst->win_path);
				if (!a->o->dry_run)
					rc = write_target(a, win.buf, &pins, err);
				if (!rc)
					act(a, APPLY_SETTINGS_FILE, um->src->account, "start-pins",
					    win.buf, msg);
			}
			if (!rc && xml.len) {
				ws_buf_reset(&win);
				ws_buf_addf(&win, "%s\\winstate\\default-apps.xml", a->programdata);
				if (!a->o->dry_run)
					rc = write_target(a, win.buf, &xml, err);
				if (!rc)
					act(a, APPLY_SETTINGS_FILE, um->src->account, "default-apps",
					    win.buf, "default associations: import with dism /online "
					    "/import-defaultappassociations or the 'Set a default "
					    "associations configuration file' policy");
			}
		} else {
			struct bundle *b = bundle_of(a, um);

			if (pins.len) {
				ws_buf_release(&b->start_pins);
				b->start_pins = pins;
				ws_buf_init(&pins);
				ws_buf_addf(&win, "%s\\start-pins.json", b->win);
				act(a, APPLY_SETTINGS_FILE, um->src->account, "start-pins", win.buf, msg);
			}
			if (xml.len) {
				ws_buf_release(&b->default_apps);
				b->default_apps = xml;
				ws_buf_init(&xml);
				ws_buf_reset(&win);
				ws_buf_addf(&win, "%s\\default-apps.xml", b->win);
				act(a, APPLY_SETTINGS_FILE, um->src->account, "default-apps", win.buf,
				    "default associations, kept at sign-in: Windows applies them only "
				    "through dism /online /import-defaultappassociations (administrator) "
				    "or the 'Set a default associations configuration file' policy");
			}
		}
		ws_buf_release(&pins);
		ws_buf_release(&xml);
		ws_buf_release(&win);
	}
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

/* Each offline or staged user's Store apps: the reinstall list, apps.json
 * into the user's bundle (made for it when needed). */
static int plan_apps(struct apply *a, struct ws_error *err)
{
	size_t n;
	const struct store_app *recs = store_catalog_apps(a->cat, &n);
	int rc;

	if ((rc = aapps_new(a->vol, a->o->app_cache, a->log, &a->apps, err)))
		return rc;
	for (size_t i = 0; i < a->nusers; i++) {
		struct user_map *um = &a->users[i];
		struct ws_buf json = WS_BUF_INIT;

		if (um->mode != APPLY_MODE_OFFLINE && um->mode != APPLY_MODE_FIRST_SIGN_IN)
			continue;
		aapps_plan(a->apps, recs, n, um->src, a->o, a->log, um->rep, &json);
		if (um->rep->n_apps) {
			struct bundle *b = bundle_of(a, um);

			ws_buf_release(&b->apps_json);
			b->apps_json = json;
		} else {
			ws_buf_release(&json);
		}
	}
	return WS_OK;
}

int apply_scan(struct store *st, const struct apply_opts *o,
	       struct apply_report *r, struct ws_error *err)
{
	struct apply a;
	struct store_record rec;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&a, 0, sizeof(a));
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
		return ws_error_set(err, WS_E_USAGE, o->expires,
				    "--expires takes a date as YYYY-MM-DD");
	if (o->mode < APPLY_MODE_AUTO || o->mode > APPLY_MODE_EXTRACT)
		return ws_error_set(err, WS_E_USAGE, NULL, "unknown apply mode %d", o->mode);
	/* A scan without users (scan --allow-empty) would restore nothing a
	 * user misses: refused before anything is touched.  Other catalog
	 * problems are reported where the catalog is opened below. */
	if (!store_catalog_open(st, o->device, o->scan_id, &a.cat, NULL)) {
		size_t nu = 0;

		store_catalog_users(a.cat, &nu);
		rc = nu ? WS_OK :
		     ws_error_set(err, WS_E_EMPTY, store_catalog_info(a.cat)->scan_id,
				  "the scan of %s has no user: nothing to apply (choose "
				  "a scan with users: winstate list --store DIR --device %s)",
				  store_catalog_info(a.cat)->device, o->device);
		store_catalog_free(a.cat);
		a.cat = NULL;
		if (rc)
			return rc;
	}
	if (o->mode == APPLY_MODE_EXTRACT)
		return apply_extract(st, &a, err);
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
	if ((rc = map_users(&a, err)))
		goto out;
	{
		/* what the first-sign-in restores of earlier applies recorded */
		struct ws_buf win = WS_BUF_INIT, host = WS_BUF_INIT;

		winstate_dir(&a, &win, &host);
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
	if ((rc = plan_apps(&a, err)))
		goto out;
	if ((rc = safety_pass(&a, err)))
		goto out;
	arules_off_limits(a.rules, a.pf);
	if (!o->dry_run) {
		struct ws_newobj no = { newobj_chain, &a };

		if ((rc = aj_begin(a.vol, o->on_journal, o->on_journal_ctx,
				   &no, &a.j, err)))
			goto out;
		snprintf(r->journal, sizeof(r->journal), "%s", aj_dir(a.j));
		if (o->on_mkdir)
			aj_set_mkdir_hook(a.j, o->on_mkdir, o->on_mkdir_ctx);
	}
	if ((rc = rules_cleanup(&a, err)))
		goto out;
	for (;;) {
		if ((rc = store_catalog_next(a.cat, &rec, err)))
			goto out;
		if (rec.kind == STORE_REC_END)
			break;
		if (rec.kind == STORE_REC_VALUE)
			rc = apply_value(&a, &rec.u.value, NULL, err);
		else if (rec.kind == STORE_REC_KEY)
			rc = apply_value(&a, NULL, &rec.u.key, err);
		else if (rec.kind == STORE_REC_FILE)
			rc = apply_file(&a, &rec.u.file, err);
		if (rc)
			goto out;
		if ((++a.done & 255) == 0) {
			struct ws_progress_event ev = { 0 };
			ev.phase = "apply";
			ev.device = o->device;
			ev.done = a.done;
			ws_progress_emit(o->progress, &ev);
		}
	}
	if ((rc = arules_add_objects(a.rules, rules_add_value, &a, rules_uname, rules_counts, err)))
		goto out;
	compat_report(&a);
	if ((rc = translated_outputs(&a, err)) || (rc = staged_layout(&a, err)) ||
	    (rc = finish_bundles(&a, err)))
		goto out;
	/* Hives last, each atomically: values were all set in memory first. */
	for (size_t i = 0; !rc && i < a.nusers; i++) {
		rc = commit_hive(&a, a.users[i].ntuser, err);
		if (!rc)
			rc = commit_hive(&a, a.users[i].usrclass, err);
	}
	if (!rc)
		rc = commit_hive(&a, a.software, err);
	if (!rc)
		rc = commit_hive(&a, a.system, err);
out:
	sum_counts(r);
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
	arules_free(a.rules);
	amap_release(&a.maps);
	reg_hive_close(a.software);
	reg_hive_close(a.system);
	if (a.j) {
		/* END: the apply stopped writing (also after an error) */
		if (!rc || rc == WS_PARTIAL)
			rc = aj_end(a.j, err) ? WS_E_IO : rc;
		else
			aj_end(a.j, NULL);
	}
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

/* ---- extract mode ------------------------------------------------------- */

static void on_extract_problem(void *ctx, const struct store_problem *p)
{
	struct apply *a = ctx;

	a->sysrep->c.files_skipped++;
	act(a, APPLY_FILE_SKIP, "system", p->file ? p->file : p->object, NULL, p->message);
}

/* <account>.reg with what Windows cannot hold in a name made '_', a
 * reserved device name prefixed with '_' and the name cut to 200 bytes. */
static void reg_file_name(const char *acc, struct ws_buf *out)
{
	size_t start = out->len;

	for (const char *s = acc; *s && out->len - start < 200; s++)
		ws_buf_addch(out, strchr("\\/:*?\"<>|", *s) || (unsigned char)*s < 32 ? '_' : *s);
	while (!ws_utf8_valid(out->buf + start, out->len - start))
		ws_buf_setlen(out, out->len - 1); /* a sequence cut at 200 bytes */
	ws_buf_adds(out, ".reg");
	if (ws_winname_check(out->buf + start, out->len - start)) {
		char *name = ws_xstrdup(out->buf + start);

		ws_buf_setlen(out, start);
		ws_buf_addf(out, "_%s", name);
		free(name);
	}
}

/* Files as a plain tree (store_extract), settings as <account>.reg each. */
static int apply_extract(struct store *st, struct apply *a, struct ws_error *err)
{
	const struct apply_opts *o = a->o;
	struct store_extract_opts xo;
	struct store_extract_stats xs;
	struct store_record rec;
	struct reg_export *regs = NULL;
	size_t n = 0;
	const struct store_user *us;
	int rc, xrc = WS_OK;

	if ((rc = store_catalog_open(st, o->device, o->scan_id, &a->cat, err)))
		return rc;
	snprintf(a->r->scan_id, sizeof(a->r->scan_id), "%s", store_catalog_info(a->cat)->scan_id);
	us = store_catalog_users(a->cat, &n);
	a->r->users = ws_xcalloc(n + 1, sizeof(*a->r->users));
	a->r->n_users = n + 1;
	a->sysrep = &a->r->users[n];
	a->sysrep->account = ws_xstrdup("system");
	regs = ws_xcalloc(n + 1, sizeof(*regs));
	for (size_t i = 0; i < n; i++) {
		a->r->users[i].account = ws_xstrdup(us[i].account);
		a->r->users[i].sid = ws_xstrdup(us[i].sid);
		a->r->users[i].mode = APPLY_MODE_EXTRACT;
		reg_export_init(&regs[i]);
	}
	reg_export_init(&regs[n]);
	a->sysrep->mode = APPLY_MODE_EXTRACT;
	for (;;) {
		size_t ui = n;
		struct ws_error e;

		if ((rc = store_catalog_next(a->cat, &rec, err)))
			goto out;
		if (rec.kind == STORE_REC_END)
			break;
		if (rec.kind != STORE_REC_VALUE)
			continue;
		for (size_t i = 0; i < n; i++)
			if (us[i].index == rec.u.value.user)
				ui = i;
		{
			struct reg_value rv = { (char *)rec.u.value.name, rec.u.value.type,
						(unsigned char *)rec.u.value.data, rec.u.value.len };
			if (reg_export_add(&regs[ui], rec.u.value.key, &rv, &e)) {
				a->r->users[ui].c.values_skipped++;
				act(a, APPLY_REG_SKIP, a->r->users[ui].account, rec.u.value.key, NULL, e.msg);
			} else {
				a->r->users[ui].c.values_staged++;
			}
		}
	}
	if (!o->dry_run) {
		memset(&xo, 0, sizeof(xo));
		xo.dest = o->target;
		xo.on_problem = on_extract_problem;
		xo.ctx = a;
		xo.progress = o->progress;
		xrc = store_extract(a->cat, &xo, &xs, err);
		if (xrc != WS_OK && xrc != WS_PARTIAL && xrc != WS_E_CORRUPT) {
			rc = xrc;
			goto out;
		}
		a->sysrep->c.files_placed = xs.files;
		a->sysrep->c.dirs_created = xs.dirs;
		a->sysrep->c.bytes = xs.bytes;
		for (size_t i = 0; i <= n; i++) {
			struct ws_buf p = WS_BUF_INIT;
			const char *acc = a->r->users[i].account;

			if (!a->r->users[i].c.values_staged)
				continue;
			ws_buf_addf(&p, "%s/", o->target);
			reg_file_name(*acc ? acc : "user", &p);
			rc = reg_export_write_file(&regs[i], p.buf, REG_EXPORT_UTF16, err);
			if (!rc) {
				a->r->users[i].target = ws_buf_detach(&p, NULL);
				act(a, APPLY_BUNDLE, acc, "settings", a->r->users[i].target, NULL);
			}
			ws_buf_release(&p);
			if (rc)
				goto out;
		}
	}
	rc = xrc == WS_E_CORRUPT ? WS_PARTIAL : xrc;
out:
	for (size_t i = 0; i <= n; i++)
		reg_export_release(&regs[i]);
	free(regs);
	sum_counts(a->r);
	store_catalog_free(a->cat);
	return rc;
}
