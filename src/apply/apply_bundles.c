/*
 * apply_bundles.c - each user's first-sign-in bundle: made on first use,
 * the Store apps planned into it, the Start pins and default apps
 * translated from Windows 10 (for the Default profile: files on the
 * target), and at the end every bundle finished and the shared restore
 * script installed.
 */
#include "apply/apply_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bundle *abundles_of(struct apply *a, struct apply_user *um)
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

/* Each offline or staged user's Store apps: the reinstall list, apps.json
 * into the user's bundle (made for it when needed). */
int abundles_plan_apps(struct apply *a, struct ws_error *err)
{
	size_t n;
	const struct store_app *recs = store_catalog_apps(a->cat, &n);
	int rc;

	if ((rc = aapps_new(a->vol, a->o->app_cache, a->log, &a->apps, err)))
		return rc;
	for (size_t i = 0; i < a->nusers; i++) {
		struct apply_user *um = &a->users[i];
		struct ws_buf json = WS_BUF_INIT;

		if (um->mode != APPLY_MODE_OFFLINE && um->mode != APPLY_MODE_FIRST_SIGN_IN)
			continue;
		aapps_plan(a->apps, recs, n, um->src, a->o, a->log, um->rep, &json);
		if (um->rep->n_apps) {
			struct bundle *b = abundles_of(a, um);

			ws_buf_release(&b->apps_json);
			b->apps_json = json;
		} else {
			ws_buf_release(&json);
		}
	}
	return WS_OK;
}

/* 1 if the target file at host path `host` holds exactly `data`. */
static int target_holds(struct apply *a, const char *host, const struct ws_buf *data)
{
	struct ws_buf have = WS_BUF_INIT;
	char buf[4096];
	ssize_t got;
	int fd, same;

	if (afiles_open_read(a, host, &fd, NULL))
		return 0;
	while (have.len <= data->len && (got = read(fd, buf, sizeof(buf))) > 0)
		ws_buf_add(&have, buf, (size_t)got);
	close(fd);
	same = have.len == data->len && !memcmp(have.buf, data->buf, data->len);
	ws_buf_release(&have);
	return same;
}

/* Where Windows 11's Start reads a profile's first layout, below the profile. */
#define AB_USER_LAYOUT "AppData\\Local\\Microsoft\\Windows\\Shell\\LayoutModification.json"

/*
 * Staged users' Start pins on Windows 11.  A new profile is a copy of
 * Users\Default, and Start reads the profile's own LayoutModification.json
 * when it makes that profile's first layout (the ConfigureStartPins policy
 * would put its list back at every sign-in).  When every staged user with
 * pins has the same list, it goes into the Default profile (no
 * --default-profile user writing it, the image having no layout of its
 * own).  Otherwise (different lists, no Default profile) nothing goes
 * there, since it would give one user's pins to every new user: the
 * first-sign-in script places each user's own start-pins.json in that
 * user's profile before Start starts (apply_stage.c), and each user gets an
 * action saying so.
 */
int abundles_staged_layout(struct apply *a, struct ws_error *err)
{
	struct ws_buf json = WS_BUF_INIT, one = WS_BUF_INIT, win = WS_BUF_INIT,
		      host = WS_BUF_INIT;
	const struct vol_profile *dp = ausers_default_profile(a);
	char why[300] = "";
	size_t nstaged = 0;
	enum vol_res res;
	int rc = WS_OK, kind = APPLY_SETTINGS_FILE;

	for (size_t i = 0; i < a->nusers; i++) {
		struct apply_user *um = &a->users[i];

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
		ws_buf_addf(&win, "%s\\" AB_USER_LAYOUT, dp->win_path);
		if ((rc = vol_resolve(a->vol, win.buf, &host, &res, err)))
			goto out;
		if (res == VOL_RES_FOUND && target_holds(a, host.buf, &json))
			kind = APPLY_FILE_SAME;
		else if (res == VOL_RES_FOUND)
			kind = APPLY_FILE_KEEP;
		else if (!a->o->dry_run)
			rc = afiles_write_target(a, win.buf, &json, err);
	}
	if (*why && dp) {
		/* a layout of the image's own: every new profile is copied with it */
		ws_buf_addf(&win, "%s\\" AB_USER_LAYOUT, dp->win_path);
		if ((rc = vol_resolve(a->vol, win.buf, &host, &res, err)))
			goto out;
		if (res == VOL_RES_FOUND)
			kind = APPLY_FILE_KEEP;
	}
	if (*why) {
		/* each user's own list, placed by the first-sign-in script */
		ws_logf(a->log, WS_LOG_INFO, "LayoutModification.json", "Start pins of staged users "
			"not written to the Default profile: %s; the first-sign-in script places each "
			"user's own start-pins.json as that user's LayoutModification.json", why);
		for (size_t i = 0; i < a->nusers; i++) {
			struct apply_user *um = &a->users[i];

			if (um->mode != APPLY_MODE_FIRST_SIGN_IN || !um->has_tiles || !um->pins.n ||
			    !um->dst_win)
				continue;
			ws_buf_reset(&win);
			ws_buf_addf(&win, "%s\\" AB_USER_LAYOUT, um->dst_win);
			apply_act(a, kind, um->src->account, "start-pins", win.buf,
			    kind == APPLY_FILE_KEEP ?
			    "the image's Default profile has a LayoutModification.json of its own, "
			    "which the new profile is copied with: the restore script keeps it, the "
			    "pins stay in start-pins.json" :
			    "Start pins for Windows 11: at first sign-in, before Start makes the "
			    "profile's first layout, the restore script copies this user's "
			    "start-pins.json here, unless the profile has a Start layout (start2.bin) "
			    "or a LayoutModification.json already");
		}
		goto out;
	}
	for (size_t i = 0; !rc && i < a->nusers; i++) {
		struct apply_user *um = &a->users[i];

		if (um->mode == APPLY_MODE_FIRST_SIGN_IN && um->has_tiles && um->pins.n)
			apply_act(a, kind, um->src->account, "start-pins", win.buf,
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
int abundles_translated(struct apply *a, struct ws_error *err)
{
	int rc = WS_OK;

	for (size_t i = 0; !rc && i < a->nusers; i++) {
		struct apply_user *um = &a->users[i];
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
					rc = afiles_write_target(a, win.buf, &pins, err);
				if (!rc)
					apply_act(a, APPLY_SETTINGS_FILE, um->src->account, "start-pins",
					    win.buf, msg);
			}
			if (!rc && xml.len) {
				ws_buf_reset(&win);
				ws_buf_addf(&win, "%s\\winstate\\default-apps.xml", a->programdata);
				if (!a->o->dry_run)
					rc = afiles_write_target(a, win.buf, &xml, err);
				if (!rc)
					apply_act(a, APPLY_SETTINGS_FILE, um->src->account, "default-apps",
					    win.buf, "default associations: import with dism /online "
					    "/import-defaultappassociations or the 'Set a default "
					    "associations configuration file' policy");
			}
		} else {
			struct bundle *b = abundles_of(a, um);

			if (pins.len) {
				ws_buf_release(&b->start_pins);
				b->start_pins = pins;
				ws_buf_init(&pins);
				ws_buf_addf(&win, "%s\\start-pins.json", b->win);
				apply_act(a, APPLY_SETTINGS_FILE, um->src->account, "start-pins", win.buf, msg);
			}
			if (xml.len) {
				ws_buf_release(&b->default_apps);
				b->default_apps = xml;
				ws_buf_init(&xml);
				ws_buf_reset(&win);
				ws_buf_addf(&win, "%s\\default-apps.xml", b->win);
				apply_act(a, APPLY_SETTINGS_FILE, um->src->account, "default-apps", win.buf,
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

int abundles_finish(struct apply *a, struct ws_error *err)
{
	const struct store_scan_info *si = store_catalog_info(a->cat);
	int rc = WS_OK;

	for (size_t i = 0; !rc && i < a->nusers; i++) {
		struct apply_user *um = &a->users[i];
		struct reg_hive *sw = NULL;
		char msg[200];

		if (!um->bundle)
			continue;
		if ((rc = aregs_system(a, REG_HIVE_SOFTWARE, &sw, err)))
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
		if (a->o->dry_run)
			afiles_would_mkdirs(a, um->bundle->host);
		a->r->bundles++;
		snprintf(msg, sizeof(msg), "%llu values, %llu files, %zu Store apps; runs at "
			 "first sign-in through Active Setup",
			 (unsigned long long)um->bundle->values, (unsigned long long)um->bundle->files,
			 um->bundle->napps);
		apply_act(a, um->mode == APPLY_MODE_FIRST_SIGN_IN ? APPLY_USER_STAGE : APPLY_BUNDLE,
		    um->src->account, um->src->profile_path, um->bundle->win, msg);
	}
	if (!rc && a->r->bundles && a->o->dry_run) {
		struct ws_buf win = WS_BUF_INIT, host = WS_BUF_INIT;

		apply_winstate_dir(a, &win, &host);
		ws_buf_adds(&host, "/results");
		afiles_would_mkdirs(a, host.buf);
		ws_buf_release(&win);
		ws_buf_release(&host);
	}
	/* The one script every bundle shares, and Active Setup starting it. */
	if (!rc && a->r->bundles && !a->o->dry_run) {
		struct ws_buf win = WS_BUF_INIT, host = WS_BUF_INIT;
		struct reg_hive *sw = NULL;

		apply_winstate_dir(a, &win, &host);
		if (!(rc = aregs_system(a, REG_HIVE_SOFTWARE, &sw, err)))
			rc = bundle_install(a->j, sw, host.buf, win.buf, err);
		ws_buf_release(&win);
		ws_buf_release(&host);
	}
	return rc;
}
