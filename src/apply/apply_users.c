/*
 * apply_users.c - where each of the scan's users lands: checks of the
 * store's identities, --map-user / --map-domain, the target profile or the
 * Default profile or first-sign-in staging, and the path and SID rewrites
 * of each user's data.
 */
#include "apply/apply_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/ws_fs.h"
#include "util/ws_str.h"
#include "util/ws_utf.h"
#include "util/ws_winname.h"

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

const struct vol_profile *ausers_default_profile(struct apply *a)
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
	if (*n < APPLY_MAX_SUBS && from && to && *from && ws_name_casecmp(from, to)) {
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
static int check_mapped(struct apply_user *um, struct ws_error *err)
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

/* Why the user selection leaves this source user out, or NULL (USMT
 * order: /ui wins, /uel beats /ue, else /ue). */
static const char *left_out_reason(const struct apply_opts *o, const struct store_user *u)
{
	const char *bs = strrchr(u->account, '\\');
	char domain[256] = "";
	const char *user = bs ? bs + 1 : u->account;

	if (bs)
		snprintf(domain, sizeof(domain), "%.*s", (int)(bs - u->account), u->account);
	if (ws_account_match(o->users_include, o->n_users_include, domain, user, u->sid))
		return NULL;
	if ((o->users_since_days || o->users_since_time) && u->last_use_ft) {
		int64_t last = ws_filetime_to_unix_ns(u->last_use_ft) / 1000000000;
		int64_t now = o->now ? o->now : (int64_t)time(NULL);

		if (o->users_since_time)
			return last >= o->users_since_time ? NULL :
			       "left out: not used on the source since the day the users-since "
			       "limit names";
		return now - last <= (int64_t)o->users_since_days * 86400 ? NULL :
		       "left out: not used on the source within the users-since limit's days";
	}
	if (o->users_since_days || o->users_since_time)
		return NULL;  /* last use unknown: not a reason to leave a user behind */
	if (ws_account_match(o->users_exclude, o->n_users_exclude, domain, user, u->sid))
		return "left out by a users-exclude pattern";
	return NULL;
}

int ausers_map(struct apply *a, struct ws_error *err)
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
		return ws_error_hint(err, ws_error_set(err, WS_E_USAGE, NULL,
						       "the scan has %zu users", n),
				     WS_INPUT_DEFAULT_PROFILE, WS_HINT_DEFAULT_WHICH);
	for (size_t i = 0; i < n; i++) {
		struct apply_user *um = &a->users[i];
		const struct amap *m = amap_find(&a->maps, us[i].sid, us[i].account);
		const struct vol_profile *p = NULL;
		const char *why_out;
		char why[700];

		um->src = &us[i];
		um->rep = &a->r->users[i];
		um->rep->account = ws_xstrdup(us[i].account);
		um->rep->sid = ws_xstrdup(us[i].sid);
		if ((why_out = left_out_reason(o, &us[i]))) {
			um->mode = um->rep->mode = -1;
			um->left_out = 1;
			um->rep->reason = ws_xstrdup(why_out);
			um->rep->new_account = ws_xstrdup("");
			um->rep->new_sid = ws_xstrdup("");
			a->r->users_left_out++;
			apply_act(a, APPLY_USER_LEFT_OUT, us[i].account, us[i].profile_path, NULL,
				  why_out);
			continue;
		}
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
			p = ausers_default_profile(a);
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
					 a->maps.n ? "" : " (map the user to a profile the target has, "
							  "or let apply stage it for first sign-in)");
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
			apply_act(a, APPLY_USER_MAP, us[i].account, us[i].profile_path, p->win_path,
			    um->mode == APPLY_MODE_DEFAULT ? "into the Default profile: every new "
							     "user starts with these settings" : NULL);
		} else if (um->mode == APPLY_MODE_FIRST_SIGN_IN) {
			a->r->users_staged++;
			um->rep->reason = ws_xstrdup(o->mode == APPLY_MODE_FIRST_SIGN_IN ?
						     "staged for first sign-in, as the mode asks" :
						     "no profile on the target: staged for first sign-in");
		} else {
			a->r->users_missing++;
			um->rep->reason = ws_xstrdup(why);
			apply_act(a, APPLY_USER_MISSING, us[i].account, us[i].profile_path, NULL, why);
			ws_logf(a->log, WS_LOG_WARN, us[i].profile_path,
				"user %s (%s) not applied: %s", us[i].account, us[i].sid, why);
		}
	}
	if (n && a->r->users_left_out == n)
		return ws_error_set(err, WS_E_EMPTY, NULL,
				    "the user selection leaves out every one of the scan's %zu "
				    "users; nothing was written", n);
	if (n && a->r->users_missing == n && o->mode == APPLY_MODE_OFFLINE)
		return ws_error_hint(err, ws_error_set(err, WS_E_NOUSER, vol_get_info(a->vol)->root,
						       "none of the scan's %zu users has a profile "
						       "on the target; nothing was written", n),
				     WS_INPUT_NONE, WS_HINT_STAGE_USERS);
	/* Rewrites: own profile path first, then every user's SID, then the drive. */
	for (size_t i = 0; i < n; i++) {
		struct apply_user *um = &a->users[i];

		if (um->mode < 0)
			continue;
		add_sub(um->subs, &um->nsubs, us[i].profile_path, um->dst_win, 0);
		um->xsubs[0] = um->subs[0];
		if (um->mode == APPLY_MODE_FIRST_SIGN_IN && um->nsubs)
			um->xsubs[0].to = "%USERPROFILE%";
	}
	for (size_t i = 0; i < n; i++) {
		struct apply_user *um = &a->users[i];

		if (um->mode >= 0 && um->new_sid)
			for (size_t k = 0; k <= n; k++) {
				struct apply_user *t = k < n ? &a->users[k] : NULL;
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
		struct apply_user *t = k < n ? &a->users[k] : NULL;
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
