/*
 * scan_fleet.c - a wave of devices: the inventory CSV, and scanning many
 * devices in parallel into one store (one store handle and one volume per
 * worker thread; the rule set is shared read-only).
 */
#include "scan/scan.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/ws_buf.h"
#include "util/ws_csv.h"
#include "util/ws_fs.h"
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

static void strs_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void scan_wave_release(struct scan_wave *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct scan_target *t = &w->v[i];

		free(t->device);
		free(t->source);
		strs_free(t->users_include, t->n_users_include);
		strs_free(t->users_exclude, t->n_users_exclude);
		free(t->message);
	}
	free(w->v);
	memset(w, 0, sizeof(*w));
}

static void split_patterns(const char *s, char ***v, size_t *n)
{
	size_t alloc = 0;

	while (*s) {
		const char *semi = strchr(s, ';');
		size_t len = semi ? (size_t)(semi - s) : strlen(s);
		struct ws_buf b = WS_BUF_INIT;

		ws_buf_add(&b, s, len);
		ws_csv_trim(&b);
		if (b.len) {
			WS_ALLOC_GROW(*v, *n + 1, alloc);
			(*v)[(*n)++] = ws_buf_detach(&b, NULL);
		}
		ws_buf_release(&b);
		s += len;
		if (*s == ';')
			s++;
	}
}

static void bad_target(struct scan_wave *w, const char *name, long line,
		       const char *device, const char *source,
		       const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static void bad_target(struct scan_wave *w, const char *name, long line,
		       const char *device, const char *source,
		       const char *fmt, ...)
{
	struct scan_target *t = wave_new(w);
	struct ws_buf m = WS_BUF_INIT;
	va_list ap;

	ws_buf_addf(&m, "%s:%ld: ", name, line);
	va_start(ap, fmt);
	ws_buf_vaddf(&m, fmt, ap);
	va_end(ap);
	t->line = line;
	t->bad = 1;
	t->code = WS_E_USAGE;
	t->message = ws_buf_detach(&m, NULL);
	t->device = device && *device ? ws_xstrdup(device) : NULL;
	t->source = source && *source ? ws_xstrdup(source) : NULL;
}

enum { COL_DEVICE, COL_SOURCE, COL_UINC, COL_UEXC, NCOLS };

int scan_inventory_parse(const char *name, const char *data, size_t len,
			 struct scan_wave *w, struct ws_error *err)
{
	static const char *const col_names[NCOLS] = {
		"device", "source", "users-include", "users-exclude"
	};
	struct ws_csv c;
	struct ws_csv_rec r = WS_CSV_REC_INIT;
	const char *why = NULL;
	long col[NCOLS], header_line;
	size_t ncols;
	int rc = WS_OK, k;

	ws_csv_init(&c, data, len);
	/* header: the first line that is neither empty nor a comment */
	for (;;) {
		header_line = c.line;
		if (c.p < c.end && *c.p == '#') {
			ws_csv_skip_line(&c);
			continue;
		}
		k = ws_csv_next(&c, &r, &why);
		if (k <= 0) {
			rc = ws_error_set(err, WS_E_USAGE, name, "%s",
					  k < 0 ? why : "inventory has no header line "
							"(device,source[,users-include,users-exclude])");
			ws_error_at(err, header_line, 0);
			goto out;
		}
		if (r.n > 1 || (r.n == 1 && r.f[0].len > 0 &&
				!(r.f[0].len == 1 && r.f[0].buf[0] == '\r')))
			break;
	}
	ncols = r.n;
	for (int i = 0; i < NCOLS; i++)
		col[i] = -1;
	for (size_t i = 0; i < ncols; i++) {
		ws_csv_trim(&r.f[i]);
		for (int j = 0; j < NCOLS; j++)
			if (!strcasecmp(r.f[i].buf, col_names[j]) && col[j] < 0)
				col[j] = (long)i;
	}
	if (col[COL_SOURCE] < 0) {
		rc = ws_error_set(err, WS_E_USAGE, name,
				  "inventory header has no 'source' column "
				  "(device,source[,users-include,users-exclude])");
		ws_error_at(err, header_line, 0);
		goto out;
	}
	for (;;) {
		long line = c.line;
		struct scan_target *t;
		const char *dev, *src;

		if (c.p < c.end && *c.p == '#') {
			ws_csv_skip_line(&c);
			continue;
		}
		k = ws_csv_next(&c, &r, &why);
		if (k == 0)
			break;
		if (k < 0) {
			bad_target(w, name, line, NULL, NULL, "%s: line skipped", why);
			continue;
		}
		for (size_t i = 0; i < r.n; i++)
			ws_csv_trim(&r.f[i]);
		if (r.n == 1 && !r.f[0].len)
			continue; /* empty line */
		dev = col[COL_DEVICE] >= 0 && (size_t)col[COL_DEVICE] < r.n ?
			      r.f[col[COL_DEVICE]].buf : "";
		if (r.n != ncols) {
			bad_target(w, name, line, dev, NULL,
				   "%zu fields where the header has %zu: line skipped",
				   r.n, ncols);
			continue;
		}
		src = r.f[col[COL_SOURCE]].buf;
		if (!*src) {
			bad_target(w, name, line, dev, NULL, "no source folder: line skipped");
			continue;
		}
		if (*dev) {
			long dup = 0;

			for (size_t i = 0; i < w->n && !dup; i++)
				if (!w->v[i].bad && w->v[i].device &&
				    !ws_name_casecmp(w->v[i].device, dev))
					dup = w->v[i].line;
			if (dup) {
				bad_target(w, name, line, dev, src,
					   "device '%s' is already listed on line %ld: "
					   "line skipped", dev, dup);
				continue;
			}
		}
		t = wave_new(w);
		t->line = line;
		t->source = ws_xstrdup(src);
		t->device = *dev ? ws_xstrdup(dev) : NULL;
		if (col[COL_UINC] >= 0)
			split_patterns(r.f[col[COL_UINC]].buf, &t->users_include,
				       &t->n_users_include);
		if (col[COL_UEXC] >= 0)
			split_patterns(r.f[col[COL_UEXC]].buf, &t->users_exclude,
				       &t->n_users_exclude);
	}
out:
	ws_csv_rec_release(&r);
	return rc;
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
			strs_free(t->users_include, t->n_users_include);
			strs_free(t->users_exclude, t->n_users_exclude);
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
	pthread_mutex_t mu;           /* everything below, and every callback */
	size_t next;
	char **names;                 /* device names claimed so far */
	size_t n_names, a_names;
	struct store *first;          /* the handle opened by scan_fleet itself */
	const size_t *map;            /* index in `reps` -> index in the wave */
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
	pthread_mutex_lock(&d->f->mu);
	base->fn(base->ctx, level, w.buf, msg);
	pthread_mutex_unlock(&d->f->mu);
	ws_buf_release(&w);
}

static void dev_progress_fn(void *ctx, const struct ws_progress_event *ev)
{
	struct dev_ctx *d = ctx;

	pthread_mutex_lock(&d->f->mu);
	ws_progress_emit(d->f->o->base.progress, ev);
	pthread_mutex_unlock(&d->f->mu);
}

static void dev_file_fn(void *ctx, const struct scan_file_event *ev)
{
	struct dev_ctx *d = ctx;

	pthread_mutex_lock(&d->f->mu);
	d->f->o->base.on_file(d->f->o->base.on_file_ctx, ev);
	pthread_mutex_unlock(&d->f->mu);
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
	pthread_mutex_lock(&d->f->mu);
	rc = claim_locked(d->f, name);
	pthread_mutex_unlock(&d->f->mu);
	return rc;
}

static void merge_pats(const char *const *a, size_t na, char *const *b,
		       size_t nb, const char ***out)
{
	*out = ws_xcalloc(na + nb + 1, sizeof(**out));
	for (size_t i = 0; i < na; i++)
		(*out)[i] = a[i];
	for (size_t i = 0; i < nb; i++)
		(*out)[na + i] = b[i];
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
		pthread_mutex_lock(&f->mu);
		ws_logf(f->o->base.log, WS_LOG_WARN, r->device,
			"the scan's event record was not written: %s", buf);
		pthread_mutex_unlock(&f->mu);
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
	merge_pats(fo->base.users_include, fo->base.n_users_include,
		   t->users_include, t->n_users_include, &inc);
	merge_pats(fo->base.users_exclude, fo->base.n_users_exclude,
		   t->users_exclude, t->n_users_exclude, &exc);
	o.users_include = inc;
	o.n_users_include = fo->base.n_users_include + t->n_users_include;
	/* a wave's shared patterns name users of some devices, not of each */
	o.n_users_include_optional = f->w->n > 1 ? fo->base.n_users_include : 0;
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

static void *worker(void *arg)
{
	struct fleet *f = arg;
	struct store *st = NULL;
	struct ws_error serr;
	int src = WS_OK, opened = 0;

	ws_error_clear(&serr);
	for (;;) {
		size_t i;

		pthread_mutex_lock(&f->mu);
		if (f->next >= f->w->n) {
			pthread_mutex_unlock(&f->mu);
			break;
		}
		i = f->next++;
		/* the first worker to come uses the handle already open */
		if (!opened && f->first) {
			st = f->first;
			f->first = NULL;
			opened = 2;
		}
		if (f->o->on_device)
			f->o->on_device(f->o->on_device_ctx, f->map[i], NULL);
		pthread_mutex_unlock(&f->mu);

		if (!opened && !f->o->base.estimate) {
			src = store_open(f->o->store_dir, &f->o->store, &st, &serr);
			opened = 1;
		}
		if (src) {
			f->reps[i].status = src;
			f->reps[i].err = serr;
		} else {
			scan_one(f, st, i);
		}
		pthread_mutex_lock(&f->mu);
		if (f->o->on_device)
			f->o->on_device(f->o->on_device_ctx, f->map[i], &f->reps[i]);
		pthread_mutex_unlock(&f->mu);
	}
	store_close(st);
	return NULL;
}

int scan_fleet_status(const struct scan_report *reports, size_t n)
{
	int worst = WS_OK;

	for (size_t i = 0; i < n; i++) {
		int s = reports[i].status;

		if (s == WS_OK)
			continue;
		if (s == WS_PARTIAL) {
			if (worst == WS_OK)
				worst = WS_PARTIAL;
		} else if (worst == WS_OK || worst == WS_PARTIAL || s > worst) {
			worst = s;
		}
	}
	return worst;
}

int scan_fleet(const struct scan_fleet_opts *opts, const struct scan_wave *w,
	       struct scan_report *reports, struct ws_error *err)
{
	struct fleet f;
	unsigned jobs = opts->jobs ? opts->jobs : 1;
	pthread_t *th;
	size_t started = 0;
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
	pthread_mutex_init(&f.mu, NULL);
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
	{
		struct scan_wave pending = SCAN_WAVE_INIT;
		struct scan_report *sub;
		size_t *map;

		map = ws_xcalloc(w->n ? w->n : 1, sizeof(*map));
		for (size_t i = 0; i < w->n; i++) {
			if (reports[i].status)
				continue;
			WS_ALLOC_GROW(pending.v, pending.n + 1, pending.alloc);
			pending.v[pending.n] = w->v[i];
			map[pending.n++] = i;
		}
		sub = ws_xcalloc(pending.n ? pending.n : 1, sizeof(*sub));
		for (size_t i = 0; i < pending.n; i++)
			sub[i].target = &w->v[map[i]];
		f.w = &pending;
		f.reps = sub;
		f.map = map;
		if (jobs > pending.n)
			jobs = pending.n ? (unsigned)pending.n : 1;
		th = ws_xcalloc(jobs, sizeof(*th));
		for (unsigned j = 1; j < jobs; j++)
			if (!pthread_create(&th[j], NULL, worker, &f))
				th[started++] = th[j];
		worker(&f); /* this thread works too */
		for (size_t j = 0; j < started; j++)
			pthread_join(th[j], NULL);
		for (size_t i = 0; i < pending.n; i++) {
			sub[i].target = &w->v[map[i]];
			reports[map[i]] = sub[i];
		}
		free(th);
		free(sub);
		free(map);
		free(pending.v); /* the targets themselves belong to `w` */
	}
	store_close(f.first);
	pthread_mutex_destroy(&f.mu);
	for (size_t i = 0; i < f.n_names; i++)
		free(f.names[i]);
	free(f.names);
	return scan_fleet_status(reports, w->n);
}
