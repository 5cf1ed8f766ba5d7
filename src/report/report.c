/*
 * report.c - the wave report's model: devices from the catalogs and the
 * scan events, applies, first-sign-in outcomes, Windows 10 -> 11 verdicts
 * summed, store totals.  Nothing here prints.
 */
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ws_buf.h"
#include "util/ws_utf.h"

const char *report_result_word(int status)
{
	return status == WS_OK ? "ok" : status == WS_PARTIAL ? "partial" : "failed";
}

static int ok_status(int s)
{
	return s == WS_OK || s == WS_PARTIAL;
}

/* A problem sentence: `a` and `b` joined by `sep`. */
static void problem(struct report *r, const char *a, const char *sep, const char *b)
{
	struct ws_buf m = WS_BUF_INIT;

	ws_buf_addf(&m, "%s%s%s", a, sep, b);
	r->problems = ws_xrealloc(r->problems, (r->n_problems + 1) * sizeof(*r->problems));
	r->problems[r->n_problems++] = ws_buf_detach(&m, NULL);
}

/* The device entry named `name` (any case), made when missing. */
static struct report_device *device_get(struct report *r, const char *name,
					size_t *alloc)
{
	for (size_t i = 0; i < r->n_devices; i++)
		if (!ws_name_casecmp(r->devices[i].device, name))
			return &r->devices[i];
	WS_ALLOC_GROW(r->devices, r->n_devices + 1, *alloc);
	memset(&r->devices[r->n_devices], 0, sizeof(r->devices[0]));
	r->devices[r->n_devices].device = ws_xstrdup(name);
	r->devices[r->n_devices].computer = ws_xstrdup("");
	r->devices[r->n_devices].os_product = ws_xstrdup("");
	r->devices[r->n_devices].os_build = ws_xstrdup("");
	return &r->devices[r->n_devices++];
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = ws_xstrdup(s ? s : "");
}

/* The device a scan event belongs to: its name, else the device whose
 * attempts used the same source folder, else the source itself. */
static const char *event_device(const struct store_event_list *l,
				const struct store_event *ev)
{
	if (*ev->device)
		return ev->device;
	for (size_t i = l->n; i-- > 0;) {
		const struct store_event *o = l->v[i];

		if (o->type == STORE_EVENT_SCAN && *o->device && *o->location &&
		    !strcmp(o->location, ev->location))
			return o->device;
	}
	return *ev->location ? ev->location : "?";
}

static int dev_cmp(const void *a, const void *b)
{
	const struct report_device *x = a, *y = b;
	int c = ws_name_casecmp(x->device, y->device);

	return c ? c : strcmp(x->device, y->device);
}

static int verdict_cmp(const void *a, const void *b)
{
	const struct report_verdict *x = a, *y = b;
	int c = strcmp(x->component, y->component);

	return c ? c : strcmp(x->verdict, y->verdict);
}

/* The bundle key of an apply user's target ("...\bundles\<key>"). */
static const char *bundle_key(const struct store_event_user *u)
{
	const char *k = strrchr(u->target, '\\');

	if (strcmp(u->mode, "first-sign-in") || !k)
		return NULL;
	return k + 1;
}

const struct store_event *report_signin_apply(const struct report *r,
					      const struct store_event *s)
{
	if (!s->signin)
		return NULL;
	for (size_t i = r->n_applies; i-- > 0;) {
		const struct store_event *a = r->applies[i];

		if (ws_name_casecmp(a->computer, s->computer))
			continue;
		for (size_t k = 0; k < a->n_users; k++) {
			const char *key = bundle_key(&a->users[k]);

			if (key && !strcmp(key, s->signin->key))
				return a;
		}
	}
	return NULL;
}

static void scans_part(struct store *st, struct report *r, size_t *alloc)
{
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct ws_error e;

	ws_error_clear(&e);
	if (store_list_scans(st, NULL, &l, &e) != WS_OK) {
		problem(r, e.where, ": ", e.msg);
		return;
	}
	r->catalogs_damaged = l.damaged;
	if (l.damaged) {
		char n[32];

		snprintf(n, sizeof(n), "%zu", l.damaged);
		problem(r, n, " catalogs cannot be read ",
			"(winstate verify names them)");
	}
	r->t.scans = l.n;
	/* newest first: the first scan met of a device is its newest */
	for (size_t i = 0; i < l.n; i++) {
		const struct store_scan_entry *s = &l.v[i];
		struct report_device *d = device_get(r, s->info.device, alloc);
		struct store_catalog *cat = NULL;

		d->scans++;
		if (d->scan_id[0])
			continue;
		set_str(&d->device, s->info.device);
		snprintf(d->scan_id, sizeof(d->scan_id), "%s", s->info.scan_id);
		set_str(&d->computer, s->info.computer);
		set_str(&d->os_product, s->info.os_product);
		set_str(&d->os_build, s->info.os_build);
		d->scan_started = s->info.started;
		d->scan_finished = s->info.finished;
		d->users = s->n_users;
		d->values = s->n_values;
		d->files = s->n_files;
		d->bytes = s->bytes;
		if (store_catalog_open(st, NULL, s->info.scan_id, &cat, &e) == WS_OK) {
			size_t n;
			const struct store_user *u = store_catalog_users(cat, &n);

			d->accounts = ws_xcalloc(n ? n : 1, sizeof(*d->accounts));
			for (size_t k = 0; k < n; k++)
				d->accounts[d->n_accounts++] =
					ws_xstrdup(*u[k].account ? u[k].account : u[k].sid);
			store_catalog_free(cat);
		}
	}
	store_scan_list_release(&l);
}

static void events_part(struct report *r, size_t *alloc)
{
	const struct store_event_list *l = &r->events;
	size_t a_apply = 0, a_signin = 0, a_verd = 0;

	for (size_t i = 0; i < l->damaged; i++)
		problem(r, l->damaged_why[i], "", "");
	for (size_t i = 0; i < l->n; i++) {
		const struct store_event *ev = l->v[i];

		if (ev->type == STORE_EVENT_SCAN) {
			struct report_device *d = device_get(r, event_device(l, ev), alloc);

			d->attempts++;
			if (!ok_status(ev->status))
				d->failures++;
			d->last_attempt = ev; /* oldest first: the last one wins */
		} else if (ev->type == STORE_EVENT_APPLY) {
			WS_ALLOC_GROW(r->applies, r->n_applies + 1, a_apply);
			r->applies[r->n_applies++] = ev;
		} else if (ev->type == STORE_EVENT_SIGNIN && ev->signin) {
			size_t k;

			/* newest per target computer and key */
			for (k = 0; k < r->n_signins; k++)
				if (!ws_name_casecmp(r->signins[k]->computer, ev->computer) &&
				    !strcmp(r->signins[k]->signin->key, ev->signin->key))
					break;
			if (k == r->n_signins) {
				WS_ALLOC_GROW(r->signins, r->n_signins + 1, a_signin);
				r->n_signins++;
			}
			r->signins[k] = ev;
		}
	}
	for (size_t i = 0; i < r->n_devices; i++) {
		struct report_device *d = &r->devices[i];

		if (d->last_attempt) {
			d->attempt_time = d->last_attempt->started;
			d->attempt_status = d->last_attempt->status;
			d->warnings = store_count_get(d->last_attempt->counts,
						      d->last_attempt->n_counts, "warnings");
			d->errors = store_count_get(d->last_attempt->counts,
						    d->last_attempt->n_counts, "errors");
			if (!d->scan_id[0] && *d->last_attempt->computer)
				set_str(&d->computer, d->last_attempt->computer);
		} else {
			d->attempt_time = d->scan_started;
			d->attempt_status = WS_OK;
		}
		for (size_t k = 0; d->scan_id[0] && k < l->n; k++) {
			const struct store_event *ev = l->v[k];

			if (ev->type == STORE_EVENT_SCAN && !strcmp(ev->scan_id, d->scan_id)) {
				d->has_bytes_new = 1;
				d->bytes_new = store_count_get(ev->counts, ev->n_counts, "bytes_new");
			}
		}
	}
	/* applies: users by mode, verdicts summed */
	for (size_t i = 0; i < r->n_applies; i++) {
		const struct store_event *a = r->applies[i];

		if (a->status == WS_PARTIAL)
			r->t.applies_partial++;
		else if (a->status != WS_OK)
			r->t.applies_failed++;
		for (size_t k = 0; k < a->n_users; k++) {
			const struct store_event_user *u = &a->users[k];
			const char *key = bundle_key(u);

			if (!strcmp(u->mode, "skipped"))
				r->t.users_skipped++;
			else if (!strcmp(u->mode, "first-sign-in"))
				r->t.users_staged++;
			else if (strcmp(u->account, "system"))
				r->t.users_offline++;
			if (key) {
				size_t s;

				for (s = 0; s < r->n_signins; s++)
					if (!ws_name_casecmp(r->signins[s]->computer, a->computer) &&
					    !strcmp(r->signins[s]->signin->key, key))
						break;
				if (s == r->n_signins)
					r->t.signins_pending++;
			}
		}
		if (!ok_status(a->status))
			continue;
		for (size_t k = 0; k < a->n_compat; k++) {
			const struct store_event_compat *c = &a->compat[k];
			size_t v;

			for (v = 0; v < r->n_verdicts; v++)
				if (!strcmp(r->verdicts[v].component, c->component) &&
				    !strcmp(r->verdicts[v].verdict, c->verdict))
					break;
			if (v == r->n_verdicts) {
				WS_ALLOC_GROW(r->verdicts, r->n_verdicts + 1, a_verd);
				memset(&r->verdicts[v], 0, sizeof(r->verdicts[v]));
				r->verdicts[v].component = ws_xstrdup(c->component);
				r->verdicts[v].verdict = ws_xstrdup(c->verdict);
				r->n_verdicts++;
			}
			r->verdicts[v].applies++;
			r->verdicts[v].values += c->values;
			r->verdicts[v].files += c->files;
			if (!strcmp(c->verdict, "carried"))
				r->t.carried++;
			else if (!strcmp(c->verdict, "translated"))
				r->t.translated++;
			else if (!strcmp(c->verdict, "dropped"))
				r->t.dropped++;
		}
	}
	if (r->n_verdicts > 1)
		qsort(r->verdicts, r->n_verdicts, sizeof(*r->verdicts), verdict_cmp);
}

int report_build(struct store *st, struct report *r, struct ws_error *err)
{
	size_t alloc = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = store_event_list(st, 0, &r->events, err)))
		return rc;
	scans_part(st, r, &alloc);
	events_part(r, &alloc);
	if (r->n_devices > 1)
		qsort(r->devices, r->n_devices, sizeof(*r->devices), dev_cmp);
	r->t.devices = r->n_devices;
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct report_device *d = &r->devices[i];

		if (d->scan_id[0]) {
			r->t.devices_captured++;
			r->t.users += d->users;
			r->t.bytes += d->bytes;
			if (d->has_bytes_new) {
				r->t.bytes_new += d->bytes_new;
				r->t.dedup_saved += d->bytes > d->bytes_new ? d->bytes - d->bytes_new : 0;
			}
		}
		if (!ok_status(d->attempt_status))
			r->t.devices_failed++;
	}
	r->t.applies = r->n_applies;
	r->t.signins = r->n_signins;
	for (size_t i = 0; i < r->n_signins; i++) {
		const char *o = r->signins[i]->signin->outcome;

		if (!strcmp(o, "restored"))
			r->t.signins_restored++;
		else if (!strcmp(o, "started"))
			r->t.signins_pending++;
		else if (strcmp(o, "declined") && strcmp(o, "expired"))
			r->t.signins_failed++;
	}
	return store_disk_usage(st, &r->t.packs, &r->t.store_bytes, err);
}

void report_release(struct report *r)
{
	for (size_t i = 0; i < r->n_devices; i++) {
		struct report_device *d = &r->devices[i];

		free(d->device);
		free(d->computer);
		free(d->os_product);
		free(d->os_build);
		for (size_t k = 0; k < d->n_accounts; k++)
			free(d->accounts[k]);
		free(d->accounts);
	}
	free(r->devices);
	free(r->applies);
	free(r->signins);
	for (size_t i = 0; i < r->n_verdicts; i++) {
		free(r->verdicts[i].component);
		free(r->verdicts[i].verdict);
	}
	free(r->verdicts);
	for (size_t i = 0; i < r->n_problems; i++)
		free(r->problems[i]);
	free(r->problems);
	store_event_list_release(&r->events);
	memset(r, 0, sizeof(*r));
}
