/*
 * scan_fleet.c - a wave of devices: the inventory CSV, and scanning many
 * devices in parallel into one store (one store handle and one volume per
 * worker thread; the rule set is shared read-only).
 */
#include "scan/scan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/ws_buf.h"
#include "util/ws_csv.h"
#include "util/ws_fs.h"
#include "util/ws_pool.h"
#include "util/ws_utf.h"

#define INVENTORY_MAX (64u << 20)

/* ---- the wave ----------------------------------------------------------- */

static struct scan_target *wave_new(struct scan_wave *w)
{
	struct scan_target *t;

	WS_ALLOC_GROW(w->v, w->n + 1, w->alloc);
	t = &w->v[w->n++];
	memset(t, 0, sizeof(*t));
	return t;
}

void scan_wave_add(struct scan_wave *w, const char *source, const char *device)
{
	struct scan_target *t = wave_new(w);

	t->source = ws_xstrdup(source);
	t->device = device && *device ? ws_xstrdup(device) : NULL;
}

void scan_wave_release(struct scan_wave *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct scan_target *t = &w->v[i];

		free(t->device);
		free(t->source);
		ws_strv_free(t->users_include, t->n_users_include);
		ws_strv_free(t->users_exclude, t->n_users_exclude);
		free(t->message);
	}
	free(w->v);
	memset(w, 0, sizeof(*w));
}

enum { COL_DEVICE, COL_SOURCE, COL_UINC, COL_UEXC, NCOLS };

struct inv_ctx {
	struct scan_wave *w;
	const char *name;
};

static void bad_line(void *ctx, long line, const char *const *v, const char *why)
{
	struct inv_ctx *ic = ctx;
	struct scan_target *t = wave_new(ic->w);

	t->line = line;
	t->bad = 1;
	t->code = WS_E_USAGE;
	t->message = ws_xasprintf("%s:%ld: %s", ic->name, line, why);
	t->device = *v[COL_DEVICE] ? ws_xstrdup(v[COL_DEVICE]) : NULL;
	t->source = *v[COL_SOURCE] ? ws_xstrdup(v[COL_SOURCE]) : NULL;
}

static void good_line(void *ctx, long line, const char *const *v)
{
	struct inv_ctx *ic = ctx;
	struct scan_wave *w = ic->w;
	const char *dev = v[COL_DEVICE];
	struct scan_target *t;
	long dup = 0;

	for (size_t i = 0; *dev && i < w->n && !dup; i++)
		if (!w->v[i].bad && w->v[i].device && !ws_name_casecmp(w->v[i].device, dev))
			dup = w->v[i].line;
	if (dup) {
		char why[64 + WS_ERROR_TEXT_MAX];

		snprintf(why, sizeof(why), "device '%s' is already listed on line %ld: "
			 "line skipped", dev, dup);
		bad_line(ctx, line, v, why);
		return;
	}
	t = wave_new(w);
	t->line = line;
	t->source = ws_xstrdup(v[COL_SOURCE]);
	t->device = *dev ? ws_xstrdup(dev) : NULL;
	ws_csv_split_list(v[COL_UINC], &t->users_include, &t->n_users_include);
	ws_csv_split_list(v[COL_UEXC], &t->users_exclude, &t->n_users_exclude);
}

int scan_inventory_parse(const char *name, const char *data, size_t len,
			 struct scan_wave *w, struct ws_error *err)
{
	static const char *const cols[NCOLS] = {
		"device", "source", "users-include", "users-exclude"
	};
	struct inv_ctx ic = { w, name };
	const struct ws_csv_table t = {
		cols, NCOLS, COL_SOURCE, "source folder",
		"device,source[,users-include,users-exclude]", good_line, bad_line, &ic
	};

	return ws_csv_table_parse(&t, name, data, len, err);
}

int scan_inventory_load(const char *path, struct scan_wave *w,
			struct ws_error *err)
{
	struct ws_buf data = WS_BUF_INIT;
	int rc = ws_read_file(path, INVENTORY_MAX, &data, err);

	if (!rc)
		rc = scan_inventory_parse(path, data.buf, data.len, w, err);
	ws_buf_release(&data);
	return rc;
}

/* ---- reruns ------------------------------------------------------------- */

/* The newest scan event of target t, or NULL. */
static const struct store_event *last_event(const struct store_event_list *l,
					    const struct scan_target *t)
{
	for (size_t i = l->n; i-- > 0;) {
		const struct store_event *e = l->v[i];

		if (t->device ? !ws_name_casecmp(e->device, t->device) :
				(t->source && !strcmp(e->location, t->source)))
			return e;
	}
	return NULL;
}

int scan_wave_keep_failed(struct store *st, struct scan_wave *w, size_t *dropped,
			  struct ws_error *err)
{
	struct store_event_list l = STORE_EVENT_LIST_INIT;
	size_t out = 0, n = 0;
	int rc;

	if ((rc = store_event_list(st, 1u << STORE_EVENT_SCAN, &l, err)))
		return rc;
	for (size_t i = 0; i < w->n; i++) {
		struct scan_target *t = &w->v[i];
		const struct store_event *e = t->bad ? NULL : last_event(&l, t);

		if (e && (e->status == WS_OK || e->status == WS_PARTIAL)) {
			free(t->device);
			free(t->source);
			ws_strv_free(t->users_include, t->n_users_include);
			ws_strv_free(t->users_exclude, t->n_users_exclude);
			free(t->message);
			n++;
			continue;
		}
		w->v[out++] = *t;
	}
	w->n = out;
	if (dropped)
		*dropped = n;
	store_event_list_release(&l);
	return WS_OK;
}

/* ---- parallel scanning -------------------------------------------------- */

struct fleet {
	const struct scan_fleet_opts *o;
	const struct scan_wave *w;
	struct scan_report *reps;
	struct ws_pool pool;          /* its lock: everything below, and every callback */
	char **names;                 /* device names claimed so far */
	size_t n_names, a_names;
	struct store *first;          /* the handle opened by scan_fleet itself */
	size_t n_pending;             /* devices not refused before scanning */
};

/* What a device's callbacks need: the fleet and the device's label. */
struct dev_ctx {
	struct fleet *f;
	size_t index;
	struct ws_log log;            /* counts this device's warnings */
	struct ws_progress progress;
	/* the device's first warnings and errors, for its event record */
	struct store_event_note notes[STORE_EVENT_NOTES_MAX];
	size_t n_notes;
};

static void dev_notes_release(struct dev_ctx *d)
{
	for (size_t i = 0; i < d->n_notes; i++) {
		free((char *)d->notes[i].where);
		free((char *)d->notes[i].text);
	}
	d->n_notes = 0;
}

static const char *dev_label(const struct dev_ctx *d)
{
	const struct scan_report *r = &d->f->reps[d->index];

	if (r->res.device[0])
		return r->res.device;
	return r->target->source ? r->target->source : "?";
}

static void dev_log_fn(void *ctx, int level, const char *where, const char *msg)
{
	struct dev_ctx *d = ctx;
	struct ws_log *base = d->f->o->base.log;
	struct ws_buf w = WS_BUF_INIT;

	if (level <= WS_LOG_WARN && d->n_notes < STORE_EVENT_NOTES_MAX) {
		struct store_event_note *n = &d->notes[d->n_notes++];

		n->level = level;
		n->where = ws_xstrdup(where ? where : "");
		n->text = ws_xstrdup(msg ? msg : "");
	}
	if (!base || !base->fn || level > base->max_level)
		return;
	ws_buf_adds(&w, dev_label(d));
	if (where && *where)
		ws_buf_addf(&w, ": %s", where);
	ws_pool_lock(&d->f->pool);
	base->fn(base->ctx, level, w.buf, msg);
	ws_pool_unlock(&d->f->pool);
	ws_buf_release(&w);
}

static void dev_progress_fn(void *ctx, const struct ws_progress_event *ev)
{
	struct dev_ctx *d = ctx;

	ws_pool_lock(&d->f->pool);
	ws_progress_emit(d->f->o->base.progress, ev);
	ws_pool_unlock(&d->f->pool);
}

static void dev_file_fn(void *ctx, const struct scan_file_event *ev)
{
	struct dev_ctx *d = ctx;

	ws_pool_lock(&d->f->pool);
	d->f->o->base.on_file(d->f->o->base.on_file_ctx, ev);
	ws_pool_unlock(&d->f->pool);
}

static int claim_locked(struct fleet *f, const char *name)
{
	for (size_t i = 0; i < f->n_names; i++)
		if (!ws_name_casecmp(f->names[i], name))
			return -1;
	WS_ALLOC_GROW(f->names, f->n_names + 1, f->a_names);
	f->names[f->n_names++] = ws_xstrdup(name);
	return 0;
}

static int dev_claim_fn(void *ctx, const char *name)
{
	struct dev_ctx *d = ctx;
	const struct scan_target *t = d->f->reps[d->index].target;
	int rc = 0;

	/* names given explicitly were claimed before the wave started */
	if (t->device && !ws_name_casecmp(t->device, name))
		return 0;
	ws_pool_lock(&d->f->pool);
	rc = claim_locked(d->f, name);
	ws_pool_unlock(&d->f->pool);
	return rc;
}

/*
 * The device's event record (docs/store-format.md §13): what was tried, how
 * it ended and why.  A record that cannot be written is a warning: the scan
 * itself is what counts.
 */
static void record_event(struct fleet *f, struct store *st,
			 const struct scan_report *rep, int64_t started,
			 const struct store_event_note *notes, size_t n_notes)
{
	const struct scan_result *r = &rep->res;
	const struct scan_target *t = rep->target;
	struct store_count c[] = {
		{ "users", r->users }, { "users_skipped", r->users_skipped },
		{ "values", r->values }, { "keys", r->keys }, { "files", r->files },
		{ "dirs", r->dirs }, { "cloud", r->cloud }, { "bytes", r->bytes },
		{ "bytes_new", r->bytes_new }, { "apps", r->apps },
		{ "hives_replayed", r->hives_replayed },
		{ "warnings", r->warnings }, { "errors", r->errors },
		{ "components_skipped", r->components_skipped },
	};
	struct store_event ev;
	struct ws_error e;
	char msg[2 * WS_ERROR_TEXT_MAX + 8];

	if (!st || f->o->base.estimate || !f->o->record_events)
		return;
	memset(&ev, 0, sizeof(ev));
	msg[0] = '\0';
	if (rep->status != WS_OK && rep->status != WS_PARTIAL)
		ws_error_format(&rep->err, msg, sizeof(msg));
	ev.type = STORE_EVENT_SCAN;
	ev.started = started;
	ev.finished = (int64_t)time(NULL);
	ev.status = rep->status;
	ev.device = r->device;
	ev.computer = r->computer;
	ev.location = t->source;
	ev.scan_id = r->scan_id;
	ev.message = msg;
	ev.tool_version = WS_VERSION;
	ev.line = t->line > 0 ? (uint64_t)t->line : 0;
	ev.counts = c;
	ev.n_counts = sizeof(c) / sizeof(c[0]);
	ev.notes = notes;
	ev.n_notes = n_notes;
	ws_error_clear(&e);
	if (store_event_write(st, &ev, NULL, &e) != WS_OK && f->o->base.log) {
		char buf[2 * WS_ERROR_TEXT_MAX + 8];

		ws_error_format(&e, buf, sizeof(buf));
		ws_pool_lock(&f->pool);
		ws_logf(f->o->base.log, WS_LOG_WARN, r->device,
			"the scan's event record was not written: %s", buf);
		ws_pool_unlock(&f->pool);
	}
}

static void scan_one(struct fleet *f, struct store *st, size_t i)
{
	const struct scan_fleet_opts *fo = f->o;
	struct scan_report *rep = &f->reps[i];
	const struct scan_target *t = rep->target;
	struct dev_ctx d;
	struct scan_opts o = fo->base;
	const char **inc = NULL, **exc = NULL;
	int64_t started;

	memset(&d, 0, sizeof(d));
	d.f = f;
	d.index = i;
	d.log.fn = dev_log_fn;
	d.log.ctx = &d;
	d.log.max_level = fo->base.log ? fo->base.log->max_level : WS_LOG_ERROR;
	d.progress.fn = dev_progress_fn;
	d.progress.ctx = &d;
	o.source = t->source;
	o.device = t->device;
	ws_strv_merge(fo->base.users_include, fo->base.n_users_include,
		   t->users_include, t->n_users_include, &inc);
	ws_strv_merge(fo->base.users_exclude, fo->base.n_users_exclude,
		   t->users_exclude, t->n_users_exclude, &exc);
	o.users_include = inc;
	o.n_users_include = fo->base.n_users_include + t->n_users_include;
	/* a wave's shared patterns name users of some devices, not of each */
	o.n_users_include_optional = f->n_pending > 1 ? fo->base.n_users_include : 0;
	o.users_exclude = exc;
	o.n_users_exclude = fo->base.n_users_exclude + t->n_users_exclude;
	o.log = &d.log;
	o.progress = fo->base.progress ? &d.progress : NULL;
	o.on_file = fo->base.on_file ? dev_file_fn : NULL;
	o.on_file_ctx = &d;
	o.claim_device = dev_claim_fn;
	o.claim_device_ctx = &d;
	ws_error_clear(&rep->err);
	started = (int64_t)time(NULL);
	rep->status = scan_device(st, &o, &rep->res, &rep->err);
	if (rep->status != WS_OK && rep->status != WS_PARTIAL && !rep->res.device[0])
		snprintf(rep->res.device, sizeof(rep->res.device), "%s",
			 t->device ? t->device : "");
	record_event(f, st, rep, started, d.notes, d.n_notes);
	dev_notes_release(&d);
	free(inc);
	free(exc);
}

static int pool_skip(void *ctx, size_t i)
{
	struct fleet *f = ctx;

	return f->reps[i].status != WS_OK; /* refused before scanning */
}

static void pool_begin(void *ctx, size_t i)
{
	struct fleet *f = ctx;

	if (f->o->on_device)
		f->o->on_device(f->o->on_device_ctx, i, NULL);
}

static void pool_end(void *ctx, size_t i)
{
	struct fleet *f = ctx;

	if (f->o->on_device)
		f->o->on_device(f->o->on_device_ctx, i, &f->reps[i]);
}

/* Each worker thread has a store handle of its own. */
static int pool_open(void *ctx, void **res, struct ws_error *err)
{
	struct fleet *f = ctx;
	struct store *st;

	/* the first worker to come uses the handle already open */
	ws_pool_lock(&f->pool);
	st = f->first;
	f->first = NULL;
	ws_pool_unlock(&f->pool);
	*res = st;
	if (st || f->o->base.estimate)
		return WS_OK;
	return store_open(f->o->store_dir, &f->o->store, (struct store **)res, err);
}

static void pool_close(void *ctx, void *res)
{
	(void)ctx;
	store_close(res);
}

static void pool_run(void *ctx, void *res, size_t i)
{
	scan_one(ctx, res, i);
}

static void pool_fail(void *ctx, size_t i, int status, const struct ws_error *err)
{
	struct fleet *f = ctx;

	ws_pool_item_failed(&f->reps[i].status, &f->reps[i].err, status, err,
			    f->reps[i].target->source);
}

int scan_fleet_status(const struct scan_report *reports, size_t n)
{
	int worst = WS_OK;

	for (size_t i = 0; i < n; i++)
		worst = ws_status_worse(worst, reports[i].status);
	return worst;
}

int scan_fleet_stopped(const struct scan_report *reports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (reports[i].status == WS_E_CANCELED)
			return 1;
	return 0;
}

int scan_fleet(const struct scan_fleet_opts *opts, const struct scan_wave *w,
	       struct scan_report *reports, struct ws_error *err)
{
	static const struct ws_pool_ops ops = {
		pool_skip, pool_begin, pool_end, pool_open, pool_close, pool_run, pool_fail
	};
	struct fleet f;
	unsigned jobs = opts->jobs ? opts->jobs : 1;
	int rc;

	memset(&f, 0, sizeof(f));
	f.o = opts;
	f.w = w;
	f.reps = reports;
	for (size_t i = 0; i < w->n; i++) {
		memset(&reports[i], 0, sizeof(reports[i]));
		reports[i].target = &w->v[i];
	}
	if (!opts->base.estimate) {
		if (!opts->store_dir)
			return ws_error_set(err, WS_E_USAGE, NULL, "no store given");
		if ((rc = store_open(opts->store_dir, &opts->store, &f.first, err)))
			return rc;
	}
	ws_pool_init(&f.pool, &ops, &f);
	f.pool.cancel = opts->base.cancel;
	/* Bad inventory lines are reported without scanning; names given
	 * explicitly are claimed first so a computer name cannot take them. */
	for (size_t i = 0; i < w->n; i++) {
		const struct scan_target *t = &w->v[i];

		if (t->bad) {
			reports[i].status = t->code ? t->code : WS_E_USAGE;
			ws_error_set(&reports[i].err, reports[i].status, NULL, "%s",
				     t->message ? t->message : "bad inventory line");
			snprintf(reports[i].res.device, sizeof(reports[i].res.device),
				 "%s", t->device ? t->device : "");
		} else if (t->device && claim_locked(&f, t->device)) {
			reports[i].status = WS_E_USAGE;
			ws_error_set(&reports[i].err, WS_E_USAGE, t->source,
				     "device name '%s' is given twice in this wave",
				     t->device);
			snprintf(reports[i].res.device, sizeof(reports[i].res.device),
				 "%s", t->device);
		}
	}
	/* Targets refused before scanning are failed attempts too. */
	for (size_t i = 0; i < w->n; i++)
		if (reports[i].status)
			record_event(&f, f.first, &reports[i], (int64_t)time(NULL), NULL, 0);
	/* Reported targets are passed over by the workers. */
	for (size_t i = 0; i < w->n; i++)
		f.n_pending += !reports[i].status;
	ws_pool_run(&f.pool, jobs < f.n_pending ? jobs : (unsigned)(f.n_pending ? f.n_pending : 1),
		    w->n);
	store_close(f.first);
	ws_pool_release(&f.pool);
	for (size_t i = 0; i < f.n_names; i++)
		free(f.names[i]);
	free(f.names);
	return scan_fleet_status(reports, w->n);
}
