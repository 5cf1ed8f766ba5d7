/*
 * apply_fleet.c - many targets (apply --inventory): the inventory CSV, the
 * default device (the target's computer name), and applying to several
 * targets in parallel, one store handle per worker thread, each target
 * recorded in the store as scan's fleet mode does for devices.
 */
#include "apply/apply.h"

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
#include "volume/volume.h"

#define INVENTORY_MAX (64u << 20)

int apply_target_device(const char *target, char *name, size_t n,
			struct ws_error *err)
{
	struct vol *vol = NULL;
	int rc = vol_open(target, &vol, err);

	if (rc)
		return rc;
	if (!*vol_get_info(vol)->computer_name)
		rc = ws_error_hint(err, ws_error_set(err, WS_E_USAGE, target,
						     "the target has no computer name in its SYSTEM hive"),
				   WS_INPUT_NONE, WS_HINT_TARGET_DEVICE);
	else
		snprintf(name, n, "%s", vol_get_info(vol)->computer_name);
	vol_close(vol);
	return rc;
}

/* ---- the inventory -------------------------------------------------------- */

static struct apply_target *wave_new(struct apply_wave *w)
{
	struct apply_target *t;

	WS_ALLOC_GROW(w->v, w->n + 1, w->alloc);
	t = &w->v[w->n++];
	memset(t, 0, sizeof(*t));
	return t;
}

static void strs_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void apply_wave_release(struct apply_wave *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct apply_target *t = &w->v[i];

		free(t->target);
		free(t->device);
		free(t->scan);
		strs_free(t->map_user, t->n_map_user);
		strs_free(t->map_domain, t->n_map_domain);
		free(t->message);
	}
	free(w->v);
	memset(w, 0, sizeof(*w));
}

static void split_list(const char *s, char ***v, size_t *n)
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

static void bad_line(struct apply_wave *w, const char *name, long line,
		     const char *target, const char *device, const char *what)
{
	struct apply_target *t = wave_new(w);
	struct ws_buf m = WS_BUF_INIT;

	ws_buf_addf(&m, "%s:%ld: %s", name, line, what);
	t->line = line;
	t->bad = 1;
	t->code = WS_E_USAGE;
	t->message = ws_buf_detach(&m, NULL);
	t->target = target && *target ? ws_xstrdup(target) : NULL;
	t->device = device && *device ? ws_xstrdup(device) : NULL;
}

enum { COL_TARGET, COL_DEVICE, COL_SCAN, COL_MAPUSER, COL_MAPDOM, NCOLS };

int apply_inventory_parse(const char *name, const char *data, size_t len,
			  struct apply_wave *w, struct ws_error *err)
{
	static const char *const col_names[NCOLS] = {
		"target", "device", "scan", "map-user", "map-domain"
	};
	struct ws_csv c;
	struct ws_csv_rec r = WS_CSV_REC_INIT;
	const char *why = NULL;
	long col[NCOLS], header_line;
	size_t ncols;
	int rc = WS_OK, k;

	ws_csv_init(&c, data, len);
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
							"(target[,device,scan,map-user,map-domain])");
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
	if (col[COL_TARGET] < 0) {
		rc = ws_error_set(err, WS_E_USAGE, name,
				  "inventory header has no 'target' column "
				  "(target[,device,scan,map-user,map-domain])");
		ws_error_at(err, header_line, 0);
		goto out;
	}
	for (;;) {
		long line = c.line;
		struct apply_target *t;
		const char *tg, *dev;
		struct ws_buf m = WS_BUF_INIT;
		long dup = 0;

		if (c.p < c.end && *c.p == '#') {
			ws_csv_skip_line(&c);
			continue;
		}
		k = ws_csv_next(&c, &r, &why);
		if (k == 0)
			break;
		if (k < 0) {
			ws_buf_addf(&m, "%s: line skipped", why);
			bad_line(w, name, line, NULL, NULL, m.buf);
			ws_buf_release(&m);
			continue;
		}
		for (size_t i = 0; i < r.n; i++)
			ws_csv_trim(&r.f[i]);
		if (r.n == 1 && !r.f[0].len)
			continue;
		dev = col[COL_DEVICE] >= 0 && (size_t)col[COL_DEVICE] < r.n ?
			      r.f[col[COL_DEVICE]].buf : "";
		tg = (size_t)col[COL_TARGET] < r.n ? r.f[col[COL_TARGET]].buf : "";
		if (r.n != ncols) {
			ws_buf_addf(&m, "%zu fields where the header has %zu: line skipped",
				    r.n, ncols);
			bad_line(w, name, line, tg, dev, m.buf);
			ws_buf_release(&m);
			continue;
		}
		if (!*tg) {
			bad_line(w, name, line, NULL, dev, "no target folder: line skipped");
			continue;
		}
		for (size_t i = 0; i < w->n && !dup; i++)
			if (!w->v[i].bad && w->v[i].target && !strcmp(w->v[i].target, tg))
				dup = w->v[i].line;
		if (dup) {
			ws_buf_addf(&m, "target '%s' is already listed on line %ld: line skipped",
				    tg, dup);
			bad_line(w, name, line, tg, dev, m.buf);
			ws_buf_release(&m);
			continue;
		}
		t = wave_new(w);
		t->line = line;
		t->target = ws_xstrdup(tg);
		t->device = *dev ? ws_xstrdup(dev) : NULL;
		if (col[COL_SCAN] >= 0 && *r.f[col[COL_SCAN]].buf)
			t->scan = ws_xstrdup(r.f[col[COL_SCAN]].buf);
		if (col[COL_MAPUSER] >= 0)
			split_list(r.f[col[COL_MAPUSER]].buf, &t->map_user, &t->n_map_user);
		if (col[COL_MAPDOM] >= 0)
			split_list(r.f[col[COL_MAPDOM]].buf, &t->map_domain, &t->n_map_domain);
	}
out:
	ws_csv_rec_release(&r);
	return rc;
}

int apply_inventory_load(const char *path, struct apply_wave *w,
			 struct ws_error *err)
{
	struct ws_buf data = WS_BUF_INIT;
	int rc = ws_read_file(path, INVENTORY_MAX, &data, err);

	if (!rc)
		rc = apply_inventory_parse(path, data.buf, data.len, w, err);
	ws_buf_release(&data);
	return rc;
}

/* ---- applying in parallel -------------------------------------------------- */

struct fleet {
	const struct apply_fleet_opts *o;
	const struct apply_wave *w;
	struct apply_fleet_report *reps;
	pthread_mutex_t mu;          /* next, and every callback */
	size_t next;
};

struct tgt_ctx {
	struct fleet *f;
	size_t index;
	struct apply_notes notes;    /* forwards to tgt_log_fn */
	struct ws_log log;
};

static void tgt_log_fn(void *ctx, int level, const char *where, const char *msg)
{
	struct tgt_ctx *d = ctx;
	struct ws_log *base = d->f->o->base.log;
	struct ws_buf w = WS_BUF_INIT;
	const struct apply_target *t = &d->f->w->v[d->index];

	if (!base || !base->fn || level > base->max_level)
		return;
	ws_buf_adds(&w, t->target ? t->target : "?");
	if (where && *where)
		ws_buf_addf(&w, ": %s", where);
	pthread_mutex_lock(&d->f->mu);
	base->fn(base->ctx, level, w.buf, msg);
	pthread_mutex_unlock(&d->f->mu);
	ws_buf_release(&w);
}

static void merge(const char *const *a, size_t na, char *const *b, size_t nb,
		  const char ***out)
{
	*out = ws_xcalloc(na + nb + 1, sizeof(**out));
	for (size_t i = 0; i < na; i++)
		(*out)[i] = a[i];
	for (size_t i = 0; i < nb; i++)
		(*out)[na + i] = b[i];
}

static void apply_one(struct fleet *f, struct store *st, size_t i)
{
	const struct apply_fleet_opts *fo = f->o;
	struct apply_fleet_report *rep = &f->reps[i];
	const struct apply_target *t = rep->target;
	struct apply_opts o = fo->base;
	struct tgt_ctx d;
	const char **mu = NULL, **md = NULL;
	int64_t started = (int64_t)time(NULL);
	char buf[2 * WS_ERROR_TEXT_MAX + 64];

	memset(&d, 0, sizeof(d));
	d.f = f;
	d.index = i;
	d.log.fn = tgt_log_fn;
	d.log.ctx = &d;
	d.log.max_level = fo->base.log ? fo->base.log->max_level : WS_LOG_ERROR;
	apply_notes_init(&d.notes, &d.log);
	ws_error_clear(&rep->err);
	if (t->device)
		snprintf(rep->device, sizeof(rep->device), "%s", t->device);
	else if ((rep->status = apply_target_device(t->target, rep->device,
						    sizeof(rep->device), &rep->err)))
		goto out;
	merge(fo->base.map_user, fo->base.n_map_user, t->map_user, t->n_map_user, &mu);
	merge(fo->base.map_domain, fo->base.n_map_domain, t->map_domain,
	      t->n_map_domain, &md);
	o.target = t->target;
	o.device = rep->device;
	o.scan_id = t->scan ? t->scan : fo->base.scan_id;
	o.map_user = mu;
	o.n_map_user = fo->base.n_map_user + t->n_map_user;
	o.map_domain = md;
	o.n_map_domain = fo->base.n_map_domain + t->n_map_domain;
	o.log = &d.notes.log;
	o.progress = NULL;      /* the CLI shows targets, not their objects */
	o.on_action = NULL;     /* per-action lines of many targets: the log's */
	o.on_journal = NULL;
	rep->status = apply_scan(st, &o, &rep->r, &rep->err);
	if (fo->record_events) {
		struct ws_error e;

		buf[0] = '\0';
		if (rep->status != WS_OK && rep->status != WS_PARTIAL)
			ws_error_format(&rep->err, buf, sizeof(buf));
		ws_error_clear(&e);
		if (apply_event_write(st, &o, &rep->r, rep->status, buf, started,
				      &d.notes, &e) != WS_OK) {
			ws_error_format(&e, buf, sizeof(buf));
			ws_logf(&d.log, WS_LOG_WARN, "", "the apply's event record was not "
				"written: %s", buf);
		}
	}
out:
	if (rep->status && rep->status != WS_PARTIAL && fo->record_events &&
	    !rep->device[0]) {
		/* failed before the device was known: still an attempt */
		struct apply_report empty;
		struct ws_error e;

		memset(&empty, 0, sizeof(empty));
		ws_error_format(&rep->err, buf, sizeof(buf));
		o.target = t->target;
		o.device = "";
		apply_event_write(st, &o, &empty, rep->status, buf, started, &d.notes, &e);
	}
	apply_notes_release(&d.notes);
	free(mu);
	free(md);
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
		while (f->next < f->w->n && f->reps[f->next].status)
			f->next++; /* refused lines are reported already */
		if (f->next >= f->w->n) {
			pthread_mutex_unlock(&f->mu);
			break;
		}
		i = f->next++;
		if (f->o->on_target)
			f->o->on_target(f->o->on_target_ctx, i, NULL);
		pthread_mutex_unlock(&f->mu);
		if (!opened) {
			src = store_open(f->o->store_dir, &f->o->store, &st, &serr);
			opened = 1;
		}
		if (src) {
			f->reps[i].status = src;
			f->reps[i].err = serr;
		} else {
			apply_one(f, st, i);
		}
		pthread_mutex_lock(&f->mu);
		if (f->o->on_target)
			f->o->on_target(f->o->on_target_ctx, i, &f->reps[i]);
		pthread_mutex_unlock(&f->mu);
	}
	store_close(st);
	return NULL;
}

int apply_fleet_status(const struct apply_fleet_report *reports, size_t n)
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

int apply_fleet(const struct apply_fleet_opts *opts, const struct apply_wave *w,
		struct apply_fleet_report *reports, struct ws_error *err)
{
	struct fleet f;
	struct store *st = NULL;
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
	/* the store must open (and the key be right) before any target */
	if ((rc = store_open(opts->store_dir, &opts->store, &st, err)))
		return rc;
	for (size_t i = 0; i < w->n; i++) {
		const struct apply_target *t = &w->v[i];

		if (!t->bad)
			continue;
		reports[i].status = t->code ? t->code : WS_E_USAGE;
		ws_error_set(&reports[i].err, reports[i].status, NULL, "%s",
			     t->message ? t->message : "bad inventory line");
		if (opts->record_events && !opts->base.dry_run) {
			struct apply_opts o = opts->base;
			struct apply_report empty;
			char buf[2 * WS_ERROR_TEXT_MAX + 64];
			struct ws_error e;

			memset(&empty, 0, sizeof(empty));
			o.target = t->target ? t->target : "";
			o.device = t->device ? t->device : "";
			ws_error_format(&reports[i].err, buf, sizeof(buf));
			apply_event_write(st, &o, &empty, reports[i].status, buf,
					  (int64_t)time(NULL), NULL, &e);
		}
	}
	store_close(st);
	pthread_mutex_init(&f.mu, NULL);
	if (jobs > w->n)
		jobs = w->n ? (unsigned)w->n : 1;
	th = ws_xcalloc(jobs, sizeof(*th));
	for (unsigned j = 1; j < jobs; j++)
		if (!pthread_create(&th[j], NULL, worker, &f))
			th[started++] = th[j];
	worker(&f);
	for (size_t j = 0; j < started; j++)
		pthread_join(th[j], NULL);
	free(th);
	pthread_mutex_destroy(&f.mu);
	return apply_fleet_status(reports, w->n);
}
