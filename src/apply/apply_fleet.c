/*
 * apply_fleet.c - many targets (apply --inventory): the inventory CSV, the
 * default device (the target's computer name), and applying to several
 * targets in parallel, one store handle per worker thread, each target
 * recorded in the store as scan's fleet mode does for devices.
 */
#include "apply/apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apply/apply_private.h"
#include "util/ws_buf.h"
#include "util/ws_csv.h"
#include "util/ws_fs.h"
#include "util/ws_pool.h"
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

void apply_wave_release(struct apply_wave *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct apply_target *t = &w->v[i];

		free(t->target);
		free(t->device);
		free(t->scan);
		ws_strv_free(t->map_user, t->n_map_user);
		ws_strv_free(t->map_domain, t->n_map_domain);
		free(t->message);
	}
	free(w->v);
	memset(w, 0, sizeof(*w));
}

enum { COL_TARGET, COL_DEVICE, COL_SCAN, COL_MAPUSER, COL_MAPDOM, NCOLS };

struct inv_ctx {
	struct apply_wave *w;
	const char *name;
};

static void bad_line(void *ctx, long line, const char *const *v, const char *why)
{
	struct inv_ctx *ic = ctx;
	struct apply_target *t = wave_new(ic->w);

	t->line = line;
	t->bad = 1;
	t->code = WS_E_USAGE;
	t->message = ws_xasprintf("%s:%ld: %s", ic->name, line, why);
	t->target = *v[COL_TARGET] ? ws_xstrdup(v[COL_TARGET]) : NULL;
	t->device = *v[COL_DEVICE] ? ws_xstrdup(v[COL_DEVICE]) : NULL;
}

static void good_line(void *ctx, long line, const char *const *v)
{
	struct inv_ctx *ic = ctx;
	struct apply_wave *w = ic->w;
	struct apply_target *t;
	long dup = 0;

	for (size_t i = 0; i < w->n && !dup; i++)
		if (!w->v[i].bad && w->v[i].target && !strcmp(w->v[i].target, v[COL_TARGET]))
			dup = w->v[i].line;
	if (dup) {
		char why[64 + WS_ERROR_TEXT_MAX];

		snprintf(why, sizeof(why), "target '%s' is already listed on line %ld: "
			 "line skipped", v[COL_TARGET], dup);
		bad_line(ctx, line, v, why);
		return;
	}
	t = wave_new(w);
	t->line = line;
	t->target = ws_xstrdup(v[COL_TARGET]);
	t->device = *v[COL_DEVICE] ? ws_xstrdup(v[COL_DEVICE]) : NULL;
	t->scan = *v[COL_SCAN] ? ws_xstrdup(v[COL_SCAN]) : NULL;
	ws_csv_split_list(v[COL_MAPUSER], &t->map_user, &t->n_map_user);
	ws_csv_split_list(v[COL_MAPDOM], &t->map_domain, &t->n_map_domain);
}

int apply_inventory_parse(const char *name, const char *data, size_t len,
			  struct apply_wave *w, struct ws_error *err)
{
	static const char *const cols[NCOLS] = {
		"target", "device", "scan", "map-user", "map-domain"
	};
	struct inv_ctx ic = { w, name };
	const struct ws_csv_table t = {
		cols, NCOLS, COL_TARGET, "target folder",
		"target[,device,scan,map-user,map-domain]", good_line, bad_line, &ic
	};

	return ws_csv_table_parse(&t, name, data, len, err);
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
	struct ws_pool pool;         /* its lock serialises every callback */
	unsigned jobs;               /* applies at once (fleet_jobs) */
};

struct tgt_ctx {
	struct fleet *f;
	size_t index;
	struct apply_notes notes;    /* forwards to tgt_log_fn */
	struct ws_log log;
	struct ws_progress progress; /* forwards to tgt_progress_fn */
};

/* A target's actions, with the target's index, one at a time. */
static void tgt_action_fn(void *ctx, const struct apply_action *a)
{
	struct tgt_ctx *d = ctx;

	ws_pool_lock(&d->f->pool);
	d->f->o->on_action(d->f->o->on_action_ctx, d->index, a);
	ws_pool_unlock(&d->f->pool);
}

/* A target's progress, named by its target (one scan may go to many). */
static void tgt_progress_fn(void *ctx, const struct ws_progress_event *ev)
{
	struct tgt_ctx *d = ctx;
	struct ws_progress_event e = *ev;
	const struct apply_target *t = &d->f->w->v[d->index];

	e.device = t->target ? t->target : ev->device;
	ws_pool_lock(&d->f->pool);
	ws_progress_emit(d->f->o->base.progress, &e);
	ws_pool_unlock(&d->f->pool);
}

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
	ws_pool_lock(&d->f->pool);
	base->fn(base->ctx, level, w.buf, msg);
	ws_pool_unlock(&d->f->pool);
	ws_buf_release(&w);
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
	o.fd_share = f->jobs;
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
	ws_strv_merge(fo->base.map_user, fo->base.n_map_user, t->map_user, t->n_map_user, &mu);
	ws_strv_merge(fo->base.map_domain, fo->base.n_map_domain, t->map_domain,
	      t->n_map_domain, &md);
	o.target = t->target;
	o.device = rep->device;
	o.scan_id = t->scan ? t->scan : fo->base.scan_id;
	o.map_user = mu;
	o.n_map_user = fo->base.n_map_user + t->n_map_user;
	o.map_domain = md;
	o.n_map_domain = fo->base.n_map_domain + t->n_map_domain;
	o.log = &d.notes.log;
	d.progress.fn = tgt_progress_fn;
	d.progress.ctx = &d;
	o.progress = fo->base.progress ? &d.progress : NULL;
	o.on_action = fo->on_action ? tgt_action_fn : NULL;
	o.on_action_ctx = &d;
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

static int pool_skip(void *ctx, size_t i)
{
	struct fleet *f = ctx;

	return f->reps[i].status != WS_OK; /* refused lines are reported already */
}

static void pool_begin(void *ctx, size_t i)
{
	struct fleet *f = ctx;

	if (f->o->on_target)
		f->o->on_target(f->o->on_target_ctx, i, NULL);
}

static void pool_end(void *ctx, size_t i)
{
	struct fleet *f = ctx;

	if (f->o->on_target)
		f->o->on_target(f->o->on_target_ctx, i, &f->reps[i]);
}

/* Each worker thread has a store handle of its own. */
static int pool_open(void *ctx, void **res, struct ws_error *err)
{
	struct fleet *f = ctx;

	return store_open(f->o->store_dir, &f->o->store, (struct store **)res, err);
}

static void pool_close(void *ctx, void *res)
{
	(void)ctx;
	store_close(res);
}

static void pool_run(void *ctx, void *res, size_t i)
{
	apply_one(ctx, res, i);
}

static void pool_fail(void *ctx, size_t i, int status, const struct ws_error *err)
{
	struct fleet *f = ctx;

	ws_pool_item_failed(&f->reps[i].status, &f->reps[i].err, status, err,
			    f->reps[i].target->target);
}

int apply_fleet_status(const struct apply_fleet_report *reports, size_t n)
{
	int worst = WS_OK;

	for (size_t i = 0; i < n; i++)
		worst = ws_status_worse(worst, reports[i].status);
	return worst;
}

/* Applies run at once: --jobs, at most one per target, and no more than
 * the process's limit on open files holds (each apply keeps a folder
 * cache and a batch of new files open: aj_open_min); each then sizes its
 * batches from its share of that limit (apply_opts.fd_share). */
static unsigned fleet_jobs(const struct apply_fleet_opts *opts, size_t targets)
{
	unsigned jobs = opts->jobs ? opts->jobs : 1;
	struct rlimit rl;

	if (targets && jobs > targets)
		jobs = (unsigned)targets;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		uint64_t fit = (uint64_t)rl.rlim_cur / aj_open_min();

		if (fit < 1)
			fit = 1;
		if (jobs > fit) {
			ws_logf(opts->base.log, WS_LOG_WARN, NULL,
				"%u targets at a time instead of %u: this process may open "
				"%llu files and each apply needs about %llu",
				(unsigned)fit, jobs, (unsigned long long)rl.rlim_cur,
				(unsigned long long)aj_open_min());
			jobs = (unsigned)fit;
		}
	}
	return jobs;
}

int apply_fleet(const struct apply_fleet_opts *opts, const struct apply_wave *w,
		struct apply_fleet_report *reports, struct ws_error *err)
{
	static const struct ws_pool_ops ops = {
		pool_skip, pool_begin, pool_end, pool_open, pool_close, pool_run, pool_fail
	};
	struct fleet f;
	struct store *st = NULL;
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
	ws_pool_init(&f.pool, &ops, &f);
	f.pool.cancel = opts->base.cancel;
	f.jobs = fleet_jobs(opts, w->n);
	ws_pool_run(&f.pool, f.jobs, w->n);
	ws_pool_release(&f.pool);
	return apply_fleet_status(reports, w->n);
}
