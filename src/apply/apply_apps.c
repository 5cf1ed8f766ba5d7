/*
 * apply_apps.c - the Store app part of an apply: each user's reinstall list
 * from the catalog's app records (filtered against the target image), the
 * offline packages of --app-cache copied into the bundles (hard-linked
 * between bundles), and the Wi-Fi networks whose key must be typed again.
 */
#include "apply/apply_private.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps/apps.h"
#include "util/ws_fs.h"
#include "util/ws_utf.h"
#include "util/ws_str.h"

/* App records read per user: bounded (quadratic family dedup) work on a hostile catalog (the scanner
 * records up to 100,000 packages per user; real users have a few hundred). */
#define APPS_MAX_PER_USER 2000u

/* One cache file copied into a bundle during this apply. */
struct copied {
	char *src;               /* host path in the cache */
	char *dst;               /* host path of the first copy */
};

struct apps_ctx {
	struct apps_image img;   /* the target's AppxAllUserStore */
	struct apps_offline off; /* the app cache */
	int have_cache;
	const char *arch;        /* target package architecture, or NULL */
	struct copied *copies;
	size_t ncopies, alloc;
};

const char *apply_app_source_name(int source)
{
	switch (source) {
	case APPLY_APP_OFFLINE: return "offline-package";
	case APPLY_APP_WINGET: return "winget";
	default: return "needs-store";
	}
}

int aapps_new(struct vol *vol, const char *app_cache, struct ws_log *log,
	      struct apps_ctx **out, struct ws_error *err)
{
	struct apps_ctx *x = ws_xcalloc(1, sizeof(*x));
	struct reg_hive *sw = vol_software_hive(vol);
	int rc = WS_OK;

	*out = x;
	x->arch = apps_arch_from_processor(vol_get_info(vol)->architecture);
	if (sw && (rc = apps_image_read(sw, &x->img, log, err)))
		return rc;
	if (app_cache) {
		rc = apps_offline_scan(app_cache, &x->off, log, err);
		if (rc == WS_E_IO)
			rc = ws_error_hint(err, ws_error_set(err, WS_E_USAGE, app_cache,
							     "cannot read the offline package folder"),
					   WS_INPUT_APP_CACHE, WS_HINT_NONE);
		x->have_cache = rc == WS_OK;
	}
	return rc;
}

void aapps_free(struct apps_ctx *x)
{
	if (!x)
		return;
	apps_image_release(&x->img);
	apps_offline_release(&x->off);
	for (size_t i = 0; i < x->ncopies; i++) {
		free(x->copies[i].src);
		free(x->copies[i].dst);
	}
	free(x->copies);
	free(x);
}

static void app_free(struct apply_app *a)
{
	free(a->family);
	free(a->full_name);
	free(a->version);
	free(a->arch);
	free(a->product_id);
	free(a->package);
	for (size_t i = 0; i < a->ndeps; i++)
		free(a->deps[i]);
	free(a->deps);
	free(a->license);
}

void aapps_report_release(struct apply_user_report *rep)
{
	for (size_t i = 0; i < rep->n_apps; i++)
		app_free(&rep->apps[i]);
	free(rep->apps);
	rep->apps = NULL;
	rep->n_apps = 0;
}

static void act(const struct apply_opts *o, int kind, const char *user,
		const char *object, const char *target, const char *reason)
{
	struct apply_action ac = { kind, user, object, target, reason };

	if (o->on_action)
		o->on_action(o->on_action_ctx, &ac);
}

static const char *skip_reason(const struct apps_package *p)
{
	if (!p->full_name || !p->installed)
		return "only its data folder was found: not installed";
	if (p->deprovisioned)
		return "removed from the source's image (AppxAllUserStore\\Deprovisioned)";
	switch (p->cls) {
	case APPS_CLASS_FRAMEWORK:
		return "framework: installed with the apps that need it";
	case APPS_CLASS_RESOURCE:
		return "resource package: installed with its app";
	case APPS_CLASS_SYSTEM:
		return "part of Windows";
	case APPS_CLASS_INBOX:
		return "shipped with Windows: the target image brings its own";
	default:
		return "not reinstallable";
	}
}

/* A cache file name that can live in a bundle on NTFS and in the script. */
static int name_ok(const char *name)
{
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (const unsigned char *s = (const unsigned char *)name; *s; s++)
		if (*s < 32 || strchr("\\/:*?\"<>|", *s))
			return 0;
	return 1;
}

static char *in_apps(const char *file)
{
	return ws_xasprintf("apps\\%s", file);
}

/* Fill the offline part of `a` from the cache; 1 when matched. */
static int match_offline(struct apps_ctx *x, const struct apps_package *p,
			 struct apply_app *a, struct ws_log *log)
{
	struct apps_offline_hit hit;
	int ok = 1;

	if (!x->have_cache || !apps_offline_find(&x->off, p, x->arch, &hit))
		return 0;
	ok = name_ok(hit.package->file);
	for (size_t i = 0; ok && i < hit.ndeps; i++)
		ok = name_ok(hit.deps[i]->file);
	if (!ok) {
		ws_logf(log, WS_LOG_WARN, hit.package->path,
			"offline package (or a dependency) has a file name Windows "
			"cannot hold: not used for %s", p->family_name);
		apps_offline_hit_release(&hit);
		return 0;
	}
	a->package = in_apps(hit.package->file);
	a->deps = ws_xcalloc(hit.ndeps ? hit.ndeps : 1, sizeof(*a->deps));
	for (size_t i = 0; i < hit.ndeps; i++)
		a->deps[a->ndeps++] = in_apps(hit.deps[i]->file);
	a->license = hit.license ? ws_xstrdup(hit.license) : NULL;
	apps_offline_hit_release(&hit);
	return 1;
}

void aapps_plan(struct apps_ctx *x, const struct store_app *recs, size_t n,
		const struct store_user *u, const struct apply_opts *o,
		struct ws_log *log, struct apply_user_report *rep, struct ws_buf *json)
{
	struct apps_list l = APPS_LIST_INIT;
	size_t alloc = 0, seen = 0;

	for (size_t i = 0; i < n; i++) {
		const struct store_app *r = &recs[i];

		if (r->user != u->index)
			continue;
		if (++seen > APPS_MAX_PER_USER) {
			ws_logf(log, WS_LOG_WARN, u->profile_path, "more than %u app records for "
				"%s: the rest is not reinstalled", APPS_MAX_PER_USER, u->account);
			break;
		}
		if (apps_list_add_record(&l, r->family ? r->family : "", r->full_name,
					 r->app_class, u->sid) < 0) {
			char msg[300];

			snprintf(msg, sizeof(msg), "malformed app record (family \"%.80s\", "
				 "class \"%.40s\"): skipped", r->family ? r->family : "",
				 r->app_class ? r->app_class : "");
			ws_logf(log, WS_LOG_WARN, r->full_name && *r->full_name ? r->full_name
				: r->family ? r->family : "?", "%s", msg);
			rep->c.apps_skipped++;
			act(o, APPLY_APP_SKIP, u->account, r->full_name && *r->full_name ?
			    r->full_name : (r->family ? r->family : ""), NULL, msg);
		}
	}
	for (size_t i = 0; i < l.n; i++) {
		struct apps_package *p = &l.v[i];
		const char *obj = p->full_name ? p->full_name : p->family_name;

		if (!apps_is_reinstallable(p)) {
			rep->c.apps_skipped++;
			act(o, APPLY_APP_SKIP, u->account, obj, NULL, skip_reason(p));
		} else if (apps_image_provides(&x->img, p->family_name)) {
			/* Inbox as far as the target is concerned: out of apps.json too. */
			p->cls = APPS_CLASS_INBOX;
			rep->c.apps_skipped++;
			act(o, APPLY_APP_SKIP, u->account, obj, NULL,
			    "the target image provisions it (AppxAllUserStore): every user has it");
		}
	}
	/* One per family, highest version: the same picks as apps.json. */
	for (size_t i = 0; i < l.n; i++) {
		const struct apps_package *p = &l.v[i];
		struct apply_app *a = NULL;
		const char *pid;

		if (!apps_is_reinstallable(p))
			continue;
		for (size_t k = 0; k < rep->n_apps; k++)
			if (!ws_name_casecmp(rep->apps[k].family, p->family_name))
				a = &rep->apps[k];
		if (a) {
			struct apps_id cur;

			if (apps_parse_full_name(a->full_name, &cur) == 0 &&
			    ws_version_cmp(p->id.version, cur.version, 0) <= 0)
				continue;
			app_free(a);
		} else {
			WS_ALLOC_GROW(rep->apps, rep->n_apps + 1, alloc);
			a = &rep->apps[rep->n_apps++];
		}
		memset(a, 0, sizeof(*a));
		a->family = ws_xstrdup(p->family_name);
		a->full_name = ws_xstrdup(p->full_name);
		a->version = ws_xstrdup(p->id.version);
		a->arch = ws_xstrdup(p->id.arch);
		pid = apps_store_product_id(p->family_name);
		a->product_id = pid ? ws_xstrdup(pid) : NULL;
		if (match_offline(x, p, a, log))
			a->source = APPLY_APP_OFFLINE;
		else
			a->source = pid ? APPLY_APP_WINGET : APPLY_APP_NEEDS_STORE;
	}
	if (rep->n_apps)
		apps_reinstall_json(&l, NULL, json);
	apps_list_release(&l);
}

/* ---- copying ---------------------------------------------------------------- */

/* The cache file behind a bundle-relative "apps\\name". */
static const struct apps_offline_file *cache_file(struct apps_ctx *x, const char *rel)
{
	const char *name = rel + 5;

	for (size_t i = 0; i < x->off.nfiles; i++)
		if (!strcmp(x->off.files[i].file, name))
			return &x->off.files[i];
	return NULL;
}

/* Copy `src` to the new file `dest` through a journal temporary.
 * *src_bad is set when the problem is reading the cache file. */
static int copy_file(struct aj *j, const char *src, const char *dest, uint64_t *bytes,
		     int *src_bad, struct ws_error *err)
{
	struct ws_buf tmp = WS_BUF_INIT;
	char buf[65536];
	int in, out = -1, rc = WS_OK;
	ssize_t got;

	*src_bad = 0;
	in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0) {
		*src_bad = 1;
		return ws_error_set_errno(err, WS_E_IO, errno, src, "cannot read the offline package");
	}
	aj_temp(j, "app", &tmp);
	out = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, tmp.buf, "cannot create file");
		goto out;
	}
	while ((got = read(in, buf, sizeof(buf))) > 0) {
		int e = ws_write_all(out, buf, (size_t)got);

		if (e) {
			rc = ws_error_set_errno(err, e == ENOSPC ? WS_E_NOSPACE : WS_E_IO, e,
						dest, "cannot write file");
			goto out;
		}
		*bytes += (uint64_t)got;
	}
	if (got < 0) {
		*src_bad = 1;
		rc = ws_error_set_errno(err, WS_E_IO, errno, src, "cannot read the offline package");
		goto out;
	}
	if (fsync(out) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, dest, "cannot write file");
		goto out;
	}
	close(out);
	out = -1;
	rc = aj_place(j, tmp.buf, dest, ws_path_exists(dest), err);
out:
	if (out >= 0)
		close(out);
	close(in);
	unlink(tmp.buf);
	ws_buf_release(&tmp);
	return rc;
}

/* Put cache file `f` at <dir>/<name>: a hard link to an earlier copy of
 * this apply, else a copy. */
static int place_one(struct apps_ctx *x, struct aj *j, const char *dir,
		     const struct apps_offline_file *f, uint64_t *bytes, int *src_bad,
		     struct ws_error *err)
{
	struct ws_buf dest = WS_BUF_INIT;
	struct copied *c = NULL;
	int rc = WS_OK;

	*src_bad = 0;
	ws_path_join(&dest, dir, f->file);
	for (size_t i = 0; i < x->ncopies; i++)
		if (!strcmp(x->copies[i].src, f->path))
			c = &x->copies[i];
	if (c && !strcmp(c->dst, dest.buf))
		goto out; /* already in this bundle (a shared dependency) */
	if (c && !ws_path_exists(dest.buf)) {
		int linked = 0;

		if ((rc = aj_link(j, c->dst, dest.buf, &linked, err)) || linked)
			goto out;
		/* No hard links here (another file system): copy. */
	}
	rc = copy_file(j, f->path, dest.buf, bytes, src_bad, err);
	if (!rc && !c) {
		WS_ALLOC_GROW(x->copies, x->ncopies + 1, x->alloc);
		x->copies[x->ncopies].src = ws_xstrdup(f->path);
		x->copies[x->ncopies++].dst = ws_xstrdup(dest.buf);
	}
out:
	ws_buf_release(&dest);
	return rc;
}

static int copy_app(struct apps_ctx *x, struct aj *j, const char *dir,
		    struct apply_app *a, uint64_t *bytes, int *src_bad,
		    struct ws_error *err)
{
	int rc = WS_OK;

	for (size_t i = 0; !rc && i <= a->ndeps; i++) {
		const char *rel = i < a->ndeps ? a->deps[i] : a->package;
		const struct apps_offline_file *f = cache_file(x, rel);

		if (!f) {
			*src_bad = 1;
			return ws_error_set(err, WS_E_IO, rel, "offline package vanished");
		}
		rc = place_one(x, j, dir, f, bytes, src_bad, err);
	}
	return rc;
}

int aapps_stage(struct apps_ctx *x, struct aj *j, const char *bundle_host,
		const struct apply_opts *o, struct ws_log *log, const char *user,
		struct apply_user_report *rep, struct ws_error *err)
{
	struct ws_buf dir = WS_BUF_INIT, why = WS_BUF_INIT;
	int rc = WS_OK, made = 0;

	ws_path_join(&dir, bundle_host, "apps");
	for (size_t i = 0; i < rep->n_apps; i++) {
		struct apply_app *a = &rep->apps[i];

		ws_buf_reset(&why);
		if (a->source == APPLY_APP_OFFLINE && j) {
			struct ws_error e;
			int src_bad = 0;

			if (!made && (rc = aj_mkdirs(j, dir.buf, err)))
				break;
			made = 1;
			ws_error_clear(&e);
			rc = copy_app(x, j, dir.buf, a, &rep->c.bytes, &src_bad, &e);
			if (rc && !src_bad) {
				if (err)
					*err = e;
				break;
			}
			if (rc) {
				char b[2300];

				ws_logf(log, WS_LOG_WARN, e.where, "offline package not staged "
					"for %s: %s", a->family, ws_error_format(&e, b, sizeof(b)));
				free(a->package);
				a->package = NULL;
				for (size_t k = 0; k < a->ndeps; k++)
					free(a->deps[k]);
				a->ndeps = 0;
				a->source = a->product_id ? APPLY_APP_WINGET : APPLY_APP_NEEDS_STORE;
				ws_buf_adds(&why, "offline package unreadable; ");
				rc = WS_OK;
			}
		}
		switch (a->source) {
		case APPLY_APP_OFFLINE:
			rep->c.apps_offline++;
			ws_buf_addf(&why, "offline package %s", a->package);
			if (a->ndeps)
				ws_buf_addf(&why, " with %zu dependenc%s", a->ndeps,
					    a->ndeps == 1 ? "y" : "ies");
			break;
		case APPLY_APP_WINGET:
			rep->c.apps_winget++;
			ws_buf_addf(&why, "winget install --id %s --source msstore at sign-in "
				    "(needs winget and a network, else the Store)", a->product_id);
			break;
		default:
			rep->c.apps_needs_store++;
			ws_buf_adds(&why, "needs Store: no offline package and no known ProductId");
			break;
		}
		act(o, APPLY_APP_STAGE, user, a->full_name, a->package, why.buf);
	}
	ws_buf_release(&dir);
	ws_buf_release(&why);
	return rc;
}

/* ---- Wi-Fi ------------------------------------------------------------------ */

#define WLAN_DIR "\\ProgramData\\Microsoft\\Wlansvc\\Profiles\\Interfaces\\"

static int wifi_chunk(void *ctx, const void *data, size_t len)
{
	struct ws_buf *b = ctx;

	if (b->len + len > APPS_WLAN_MAX_BYTES)
		return WS_E_UNSUPPORTED;
	ws_buf_add(b, data, len);
	return 0;
}

void awifi_check(struct store_catalog *cat, const struct store_file *f,
		 struct apply_report *r, struct ws_log *log)
{
	const char *p = f->path;
	size_t n = strlen(p), dl = strlen(WLAN_DIR);
	struct ws_buf data = WS_BUF_INIT;
	struct apps_wlan_list l = APPS_WLAN_LIST_INIT;
	struct ws_error e;
	int rc;

	if (f->user != STORE_SYSTEM || (f->flags & (STORE_FILE_DIR | STORE_FILE_NOT_CAPTURED)) ||
	    n < 2 + dl + 4 || p[1] != ':' || strncasecmp(p + 2, WLAN_DIR, dl) ||
	    strcasecmp(p + n - 4, ".xml"))
		return;
	r->wifi_profiles++;
	ws_error_clear(&e);
	if (f->size > APPS_WLAN_MAX_BYTES)
		rc = ws_error_set(&e, WS_E_UNSUPPORTED, p, "Wi-Fi profile larger than %u bytes",
				  APPS_WLAN_MAX_BYTES);
	else
		rc = store_catalog_read_file_cb(cat, f, wifi_chunk, &data, &e);
	if (rc == WS_OK)
		rc = apps_wlan_parse(p, data.buf ? data.buf : "", data.len, &l, &e);
	if (rc != WS_OK) {
		char b[2300];

		ws_logf(log, WS_LOG_WARN, p, "Wi-Fi profile not read: %s",
			ws_error_format(&e, b, sizeof(b)));
	} else if (l.n && l.v[0].must_reenter) {
		const struct apps_wlan *w = &l.v[0];
		struct apply_wifi *o;

		r->wifi = ws_xrealloc(r->wifi, (r->n_wifi + 1) * sizeof(*r->wifi));
		o = &r->wifi[r->n_wifi++];
		o->file = ws_xstrdup(p);
		o->ssid = ws_xstrdup(w->ssid[0] ? w->ssid : w->profile_name);
		o->authentication = ws_xstrdup(w->authentication);
		o->reason = ws_xstrdup(w->one_x ? "802.1X / EAP: the user signs in to the network again"
					       : "the key is encrypted for the source PC (DPAPI): "
						 "type it again");
	}
	apps_wlan_list_release(&l);
	ws_buf_release(&data);
}
