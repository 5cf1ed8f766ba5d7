/*
 * vol_walkahead.c - vol_walk on a mounted folder with a second thread that
 * reads folders ahead of the callback.
 *
 * The calling thread walks depth-first as vol_walk does and runs the
 * callback; what it walks are listings: a folder opened, its names read
 * and sorted, every entry examined (fstatat and the rest of vol_walk's
 * fill).  The folders of a listing are jobs.  The reading thread makes
 * listings in the order the walk will want them: the first free job of
 * the innermost folder the walk is in, or below a listing already made
 * for it (depth-first), with at most WA_READY listings made (or being
 * made) between the walk and it in the walk's order.  Listings made ahead
 * that the walk will reach only later (those of a folder's next siblings,
 * when the walk lists the folder itself) do not keep the reading thread
 * from the folders the walk needs first.
 * When the walk reaches a folder the callback lets it enter, it takes the
 * listing made for it, makes it itself when the reading thread has not
 * started it (so the walk never waits for a thread that gets no core), or,
 * while the reading thread makes it, makes the ones that thread would make
 * next, and sleeps only when there are none (so both cores list when the
 * listing is the slower half).  A folder the callback skips, a loop or
 * another file system loses its listing and whatever was read below it:
 * at most WA_READY folders read for nothing per skipped folder, on the
 * reading thread, which also closes and frees the folders the walk is
 * done with.  A folder stays open only while some of its folders are to
 * be listed (opened inside it): its descriptor is closed once the last is
 * opened, so that listings made ahead hold few descriptors.  Until the
 * walk takes its first listing (it waits for the store to be ready), the
 * reading thread lists up to WA_MAX folders ahead.  Whatever the walk's
 * place, listings made ahead hold at most WA_MAX_ENTRIES entries between
 * them (and one more folder's).  Entries reach the callback exactly as
 * vol_walk gives them, in the same order.
 */
#include "volume/volume_private.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/ws_buf.h"

/* Listings made ahead of the walk, in its order, before the next one
 * the reading thread makes.  64 rather than 32: on the benchmark's
 * unchanged rescan (4,700 folders) the reading thread sleeps less while
 * the walk decides, about 1 ms of 57 (median of 150 alternated runs). */
#define WA_READY 64
/* Listings made ahead and not yet taken by the walk, wherever they lie:
 * bounds memory (and the descriptors of the folders still to be listed
 * in them) whatever the tree. */
#define WA_MAX 512
/* Entries in the listings made ahead and not yet taken: folders of tens of
 * thousands of files each would otherwise hold hundreds of MB between
 * them.  A listing the walk needs is made whatever the count (the largest
 * folder is what memory must hold anyway). */
#define WA_MAX_ENTRIES VOL_WA_MAX_ENTRIES
/* The reading thread is woken once the walk has taken half of them, or
 * left as many folders to close: woken per folder, it would take the
 * walk's core from it thousands of times for a few system calls each. */
#define WA_WAKE (WA_READY / 2)

/* JOB_READING: being listed by the reading thread (or by the walk in
 * help); JOB_MAKING: by the walk, which needs it now. */
enum { JOB_FREE, JOB_READING, JOB_MAKING, JOB_MINE, JOB_DONE, JOB_DROPPED };

struct wa_list;

/* A folder of a listing, to be listed. */
struct wa_job {
	size_t idx;                 /* its entry in the parent listing */
	int state;                  /* JOB_* (under the mutex) */
	struct wa_list *out;        /* JOB_DONE: its listing */
};

/* One folder's content, examined.  Everything but the mutex-guarded
 * fields is written once before the listing is shared, then only read. */
struct wa_list {
	long long h;                /* the folder, open; -1 when it failed */
	int err;                    /* errno of opening or reading it, 0 = read */
	char **names;               /* sorted (one block: vol_list_free) */
	size_t n;
	struct vol_entry *ents;     /* ents[i] is names[i], strings below owned;
				       the same block holds `jobs` */
	char **strs;                /* strings of ents (link targets, messages) */
	size_t nstrs, astrs;
	char *path, *win;           /* the folder's host and Windows paths,
				       stored after the structure */
	unsigned depth;             /* of the folder itself (start: 0) */
	dev_t dev;
	ino_t ino;
	struct wa_job *jobs;        /* its folders, in name order */
	size_t njobs;
	size_t to_open;             /* jobs not opened yet, or being opened:
				       h is closed when none is left (under
				       the mutex once shared) */
	size_t i, jcur;             /* the walk's next entry and next job */
	size_t next;                /* reading thread's first job to look at
				       (under the mutex) */
	char paths[];               /* path, then win */
};

struct wa {
	struct vol *vol;
	pthread_mutex_t mu;
	pthread_cond_t work;        /* reading thread: a job or room appeared */
	pthread_cond_t done;        /* walk: a listing is done, or h is free */
	struct wa_list **st;        /* the walk's open folders, start first */
	size_t nst, ast;
	unsigned ready;             /* listings made ahead, not yet taken */
	size_t ready_entries;       /* their entries, once made */
	unsigned long taken;        /* listings the walk took from the reading
				       thread (or dropped), in all */
	unsigned long slept_at;     /* `taken` when the reading thread went
				       to sleep */
	int walking;                /* the walk has reached a folder entry */
	const struct wa_list *using; /* the listing whose folder the reading
					thread opens a subfolder in, or NULL */
	struct wa_list **trash;     /* folders the walk left: the reading
				       thread closes and frees them */
	size_t ntrash, atrash;
	int reader_on;
	struct vol_entry_hold mk;   /* room for the listings the walk makes */
	int stop, reader_waits, walker_waits;
};

static char *keep(struct wa_list *l, const char *s)
{
	char *c = ws_xstrdup(s);

	WS_ALLOC_GROW(l->strs, l->nstrs + 1, l->astrs);
	l->strs[l->nstrs++] = c;
	return c;
}

/* Free a listing and the listings made below it; the number of those, and
 * their entries added to *entries (may be NULL). */
static unsigned list_free(struct vol *vol, struct wa_list *l, size_t *entries)
{
	unsigned made = 0;

	if (!l)
		return 0;
	if (l->h >= 0)
		vol->ops->close_dir(vol, l->h);
	vol_list_free(l->names, l->n);
	for (size_t i = 0; i < l->nstrs; i++)
		free(l->strs[i]);
	free(l->strs);
	for (size_t i = 0; i < l->njobs; i++)
		if (l->jobs[i].state == JOB_DONE) {
			if (entries)
				*entries += l->jobs[i].out->n;
			made += 1 + list_free(vol, l->jobs[i].out, entries);
		}
	free(l->ents); /* and the jobs */
	free(l);
	return made;
}

/* Is `x` the listing `l` or one made below it? (mutex held) */
static int below(const struct wa_list *l, const struct wa_list *x)
{
	if (l == x)
		return 1;
	for (size_t i = 0; i < l->njobs; i++)
		if (l->jobs[i].state == JOB_DONE && below(l->jobs[i].out, x))
			return 1;
	return 0;
}

/* The child paths of a listing, as vol_walk builds them. */
static void child_paths(const struct wa_list *l, const char *name,
			struct ws_buf *path, struct ws_buf *win)
{
	ws_buf_reset(path);
	ws_buf_adds(path, l->path);
	if (!(path->len == 1 && path->buf[0] == '/'))
		ws_buf_addch(path, '/');
	ws_buf_adds(path, name);
	ws_buf_reset(win);
	ws_buf_adds(win, l->win);
	if (win->len && win->buf[win->len - 1] != '\\')
		ws_buf_addch(win, '\\');
	ws_buf_adds(win, name);
}

/* A listing of the folder `name` in the folder at ppath/pwin (NULL: the
 * folder at `name`, `wname` in Windows), nothing read yet: its paths are
 * stored with it, as child_paths builds them. */
static struct wa_list *list_new(const char *ppath, const char *pwin,
				const char *name, const char *wname)
{
	size_t nl = strlen(name), pl = 0, wl = 0, wnl = wname ? strlen(wname) : nl;
	int psep = 0, wsep = 0;
	struct wa_list *l;
	char *s;

	if (ppath) {
		pl = strlen(ppath);
		wl = strlen(pwin);
		psep = !(pl == 1 && ppath[0] == '/');
		wsep = wl && pwin[wl - 1] != '\\';
	}
	l = ws_xcalloc(1, sizeof(*l) + pl + psep + nl + 1 + wl + wsep + wnl + 1);
	s = l->paths;
	l->path = s;
	if (pl)
		memcpy(s, ppath, pl);
	s += pl;
	if (psep)
		*s++ = '/';
	memcpy(s, name, nl + 1);
	s += nl + 1;
	l->win = s;
	if (wl)
		memcpy(s, pwin, wl);
	s += wl;
	if (wsep)
		*s++ = '\\';
	memcpy(s, wname ? wname : name, wnl + 1);
	return l;
}

/* Read and examine the folder open as l->h: names, entries, jobs (`h`:
 * the lister's room, kept from one listing to the next).  On failure
 * l->err is set and the folder closed. */
static void list_fill(struct vol *vol, struct wa_list *l,
		      struct vol_entry_hold *h)
{
	if (vol_walk_read_names(vol, l->h, &l->names, &l->n) < 0) {
		l->err = errno;
		vol->ops->close_dir(vol, l->h);
		l->h = -1;
		return;
	}
	/* the jobs after the entries: one allocation */
	l->ents = ws_xcalloc(l->n ? l->n : 1, sizeof(*l->ents) + sizeof(*l->jobs));
	for (size_t i = 0; i < l->n; i++) {
		struct vol_entry *e = &l->ents[i];

		child_paths(l, l->names[i], &h->path, &h->win);
		ws_buf_reset(&h->name);
		ws_buf_adds(&h->name, l->names[i]);
		vol->ops->fill(vol, l->h, e, h, l->depth + 1);
		/* the walk gives its own path strings; the others stay here */
		e->host_path = e->win_path = e->name = NULL;
		if (e->link_target)
			e->link_target = keep(l, e->link_target);
		if (e->link_win_target)
			e->link_win_target = keep(l, e->link_win_target);
		if (e->err_msg)
			e->err_msg = keep(l, e->err_msg);
	}
	l->jobs = (struct wa_job *)(l->ents + (l->n ? l->n : 1));
	for (size_t i = 0; i < l->n; i++)
		if (l->ents[i].type == VOL_ENT_DIR)
			l->jobs[l->njobs++].idx = i;
	l->to_open = l->njobs;
	if (!l->to_open) {
		/* nothing will be opened inside it */
		vol->ops->close_dir(vol, l->h);
		l->h = -1;
	}
}

/* The listing of the folder entry `idx` of `p` (vol_walk's open and check
 * that it is still the folder examined). */
static struct wa_list *list_make(struct vol *vol, const struct wa_list *p,
				 size_t idx, struct vol_entry_hold *h)
{
	struct wa_list *l = list_new(p->path, p->win, p->names[idx], NULL);
	const struct vol_entry *e = &p->ents[idx];

	l->depth = p->depth + 1;
	l->dev = e->dev;
	l->ino = e->ino;
	l->h = vol_walk_open_dir(vol, p->h, p->names[idx], e);
	if (l->h < 0)
		l->err = errno;
	else
		list_fill(vol, l, h);
	return l;
}

/* One of `l`'s folders is opened (or will never be): once none is left
 * to open, its descriptor is closed (mutex held). */
static void opened_one(struct wa *a, struct wa_list *l)
{
	if (--l->to_open == 0 && l->h >= 0) {
		a->vol->ops->close_dir(a->vol, l->h);
		l->h = -1;
	}
}

/* A listing made ahead is done: its entries count (mutex held). */
static void made_ahead(struct wa *a, const struct wa_list *l)
{
	a->ready_entries += l->n;
	if (a->ready_entries > a->vol->wa_peak_entries)
		a->vol->wa_peak_entries = a->ready_entries;
}

/* ---- the reading thread ------------------------------------------------- */

/* The first job of `l` or below its listings made ahead, depth-first
 * (mutex held), unless *ahead reaches WA_READY first: it counts the
 * listings made or being made that the walk takes before that job.
 * Folders on another file system are left to the walk, which does not
 * enter them. */
static struct wa_job *job_in(struct wa *a, struct wa_list *l,
			     struct wa_list **parent, unsigned *ahead, unsigned lim)
{
	/* jobs settled by the walk, or never read ahead, stay so */
	while (l->next < l->njobs) {
		struct wa_job *j = &l->jobs[l->next];

		if (!(j->state == JOB_MINE || j->state == JOB_DROPPED ||
		      (j->state == JOB_FREE &&
		       l->ents[j->idx].dev != a->vol->root_dev)))
			break;
		l->next++;
	}
	for (size_t i = l->next; i < l->njobs && *ahead < lim; i++) {
		struct wa_job *j = &l->jobs[i], *sub;

		if (j->state == JOB_FREE && l->ents[j->idx].dev == a->vol->root_dev) {
			*parent = l;
			return j;
		}
		if (j->state == JOB_READING || j->state == JOB_DONE)
			++*ahead;
		if (j->state == JOB_DONE && (sub = job_in(a, j->out, parent, ahead, lim)))
			return sub;
	}
	return NULL;
}

/* The next job to read ahead: where the walk will be first, unless
 * enough listings are made before it or in all (mutex held). */
static struct wa_job *next_job(struct wa *a, struct wa_list **parent)
{
	unsigned ahead = 0, lim = a->walking ? WA_READY : WA_MAX;

	if (a->ready >= WA_MAX || a->ready_entries >= WA_MAX_ENTRIES)
		return NULL;
	for (size_t k = a->nst; k-- > 0 && ahead < lim;) {
		struct wa_job *j = job_in(a, a->st[k], parent, &ahead, lim);

		if (j)
			return j;
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct wa *a = arg;
	struct vol_entry_hold h = VOL_ENTRY_HOLD_INIT;

	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		struct wa_list *p = NULL, *out;
		struct wa_job *j;

		if (a->ntrash) {
			struct wa_list **t = a->trash;
			size_t n = a->ntrash;

			a->trash = NULL;
			a->ntrash = a->atrash = 0;
			pthread_mutex_unlock(&a->mu);
			for (size_t i = 0; i < n; i++)
				list_free(a->vol, t[i], NULL);
			free(t);
			pthread_mutex_lock(&a->mu);
			continue;
		}
		j = next_job(a, &p);

		if (!j) {
			a->slept_at = a->taken;
			a->reader_waits = 1;
			pthread_cond_wait(&a->work, &a->mu);
			a->reader_waits = 0;
			continue;
		}
		j->state = JOB_READING;
		a->using = p;
		a->ready++;
		pthread_mutex_unlock(&a->mu);
		out = list_make(a->vol, p, j->idx, &h);
		pthread_mutex_lock(&a->mu);
		a->using = NULL;
		opened_one(a, p);
		if (j->state == JOB_DROPPED) {
			/* the walk went past it: nobody takes it */
			a->ready--;
			pthread_mutex_unlock(&a->mu);
			list_free(a->vol, out, NULL);
			pthread_mutex_lock(&a->mu);
		} else {
			j->out = out;
			j->state = JOB_DONE;
			made_ahead(a, out);
		}
		if (a->walker_waits)
			pthread_cond_signal(&a->done);
	}
	pthread_mutex_unlock(&a->mu);
	vol_entry_hold_release(&h);
	return NULL;
}

/* ---- the walk ------------------------------------------------------------ */

/*
 * The walk would wait for the folder the reading thread is listing: it
 * lists the next one the reading thread would take instead, as that
 * thread does (mutex held, released while listing); 0 when there is none
 * or enough are made ahead.  Listing is most of an unchanged rescan: the
 * walk's core lists too rather than sleep while the other lists alone.
 * Nothing it lists from can go meanwhile: listings are closed and jobs
 * dropped by the walk only, which is here.
 */
static int help(struct wa *a)
{
	struct wa_list *p = NULL;
	struct wa_job *j = next_job(a, &p);
	struct wa_list *out;

	if (!j)
		return 0;
	j->state = JOB_READING;
	a->ready++;
	pthread_mutex_unlock(&a->mu);
	out = list_make(a->vol, p, j->idx, &a->mk);
	pthread_mutex_lock(&a->mu);
	opened_one(a, p);
	j->out = out;
	j->state = JOB_DONE;
	made_ahead(a, out);
	return 1;
}

/* Settle the job of a folder entry of `p`: its listing when `want`
 * (taken, waited for, or made here: *made set), else dropped with what
 * was read below it.  NULL when not wanted. */
static struct wa_list *job_take(struct wa *a, struct wa_list *p,
				struct wa_job *j, int want, int *made)
{
	struct wa_list *out = NULL;
	int make = 0;

	*made = 0;
	pthread_mutex_lock(&a->mu);
	a->walking = 1;
	while (want && j->state == JOB_READING) {
		if (help(a))
			continue;
		a->walker_waits = 1;
		pthread_cond_wait(&a->done, &a->mu);
		a->walker_waits = 0;
	}
	switch (j->state) {
	case JOB_FREE:
		j->state = want ? JOB_MAKING : JOB_DROPPED;
		make = want;
		if (!want)
			opened_one(a, p);
		break;
	case JOB_READING:
		j->state = JOB_DROPPED; /* the reading thread frees it */
		break;
	case JOB_DONE:
		/* out of the reading thread's reach from now on */
		out = j->out;
		j->out = NULL;
		j->state = JOB_MINE;
		a->ready--;
		a->ready_entries -= out->n;
		a->taken++;
		if (!want) {
			while (a->using && below(out, a->using)) {
				a->walker_waits = 1;
				pthread_cond_wait(&a->done, &a->mu);
				a->walker_waits = 0;
			}
		}
		if (a->reader_waits && a->taken - a->slept_at >= WA_WAKE)
			pthread_cond_signal(&a->work);
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&a->mu);
	if (make) {
		*made = 1;
		out = list_make(a->vol, p, j->idx, &a->mk);
		pthread_mutex_lock(&a->mu);
		j->state = JOB_MINE;
		opened_one(a, p);
		pthread_mutex_unlock(&a->mu);
		return out;
	}
	if (!want && out) {
		size_t entries = 0;
		unsigned freed = list_free(a->vol, out, &entries);

		pthread_mutex_lock(&a->mu);
		a->ready -= freed;
		a->ready_entries -= entries;
		if (a->reader_waits)
			pthread_cond_signal(&a->work);
		pthread_mutex_unlock(&a->mu);
		out = NULL;
	}
	return out;
}

/* Enter listing `l`; `made` when the walk made it itself: its folders
 * come next, before any listing the reading thread made ahead, which
 * then lists them whatever it waits for. */
static void push(struct wa *a, struct wa_list *l, int made)
{
	pthread_mutex_lock(&a->mu);
	WS_ALLOC_GROW(a->st, a->nst + 1, a->ast);
	a->st[a->nst++] = l;
	if (a->reader_waits && l->njobs &&
	    (made || a->ready <= WA_WAKE || a->taken - a->slept_at >= WA_WAKE))
		pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->mu);
}

/* Close the innermost folder once the reading thread no longer uses it
 * (its jobs are all settled: nothing below it is read any more). */
static void pop(struct wa *a)
{
	struct wa_list *l;

	pthread_mutex_lock(&a->mu);
	l = a->st[a->nst - 1];
	while (a->using == l) {
		a->walker_waits = 1;
		pthread_cond_wait(&a->done, &a->mu);
		a->walker_waits = 0;
	}
	a->nst--;
	if (a->reader_on) {
		/* closing and freeing is the reading thread's: not the walk's time */
		WS_ALLOC_GROW(a->trash, a->ntrash + 1, a->atrash);
		a->trash[a->ntrash++] = l;
		l = NULL;
		if (a->reader_waits && (a->ntrash >= WA_WAKE || a->ready <= WA_WAKE))
			pthread_cond_signal(&a->work);
	}
	pthread_mutex_unlock(&a->mu);
	list_free(a->vol, l, NULL);
}

/* The walk of vol_walk's loop over listings (see the file comment). */
static int walk(struct wa *a, vol_walk_fn fn, void *ctx,
		struct vol_entry_hold *h, struct ws_error *err)
{
	struct vol *vol = a->vol;
	int stop_rc = WS_OK, r;

	while (a->nst) {
		struct wa_list *f = a->st[a->nst - 1];
		struct vol_entry e;

		if (f->i == f->n) {
			pop(a);
			continue;
		}
		size_t k = f->i++;
		unsigned depth = (unsigned)a->nst;

		child_paths(f, f->names[k], &h->path, &h->win);
		e = f->ents[k];
		e.host_path = h->path.buf;
		e.win_path = h->win.buf;
		e.name = f->names[k];
		e.depth = depth;
		if (e.type == VOL_ENT_DIR) {
			for (size_t s = 0; s < a->nst; s++)
				if (a->st[s]->dev == e.dev && a->st[s]->ino == e.ino)
					e.loop = 1;
			if (e.dev != vol->root_dev)
				e.other_device = 1;
		}
		r = vol_walk_call(fn, &e, ctx, err, &stop_rc);
		if (r == VOL_WALK_STOP)
			break;
		if (e.type != VOL_ENT_DIR)
			continue;

		struct wa_job *j = &f->jobs[f->jcur++];
		int want = !(r == VOL_WALK_SKIP || e.loop || e.other_device) &&
			   depth < VOL_WALK_MAX_DEPTH;
		int made;
		struct wa_list *l = job_take(a, f, j, want, &made);

		if (r == VOL_WALK_SKIP || e.loop || e.other_device)
			continue;
		if (!want) {
			vol_entry_set_error(&e, h, WS_E_UNSUPPORTED, 0,
					    "folder nesting too deep: not walked");
			if (vol_walk_call(fn, &e, ctx, err, &stop_rc) == VOL_WALK_STOP)
				break;
			continue;
		}
		if (l->err) {
			vol_entry_set_error(&e, h, WS_E_IO, l->err, "cannot read folder");
			list_free(vol, l, NULL);
			if (vol_walk_call(fn, &e, ctx, err, &stop_rc) == VOL_WALK_STOP)
				break;
			continue;
		}
		push(a, l, made);
	}
	return stop_rc;
}

int vol_walk_ahead(struct vol *vol, const char *host_dir, vol_walk_fn fn,
		   void *ctx, struct ws_error *err)
{
	struct vol_entry_hold h = VOL_ENTRY_HOLD_INIT;
	struct vol_entry e;
	struct wa a;
	struct wa_list *root = NULL;
	pthread_t tid;
	long long ph = -1;
	int rc, started = 0, go;

	memset(&a, 0, sizeof(a));
	a.vol = vol;
	a.mk = (struct vol_entry_hold)VOL_ENTRY_HOLD_INIT;
	rc = vol_walk_begin(vol, host_dir, fn, ctx, &e, &h, &ph, &go, err);
	if (rc != WS_OK || !go)
		goto out;
	/* the start folder, read here (as vol_walk: not checked against e) */
	root = list_new(NULL, NULL, h.path.buf, h.win.buf);
	root->dev = e.dev;
	root->ino = e.ino;
	root->h = vol->ops->open_dir(vol, ph, h.name.buf);
	if (root->h < 0)
		root->err = errno;
	else
		list_fill(vol, root, &a.mk);
	if (root->err) {
		rc = ws_error_set_errno(err, WS_E_IO, root->err, host_dir,
					"cannot read folder");
		list_free(vol, root, NULL);
		goto out;
	}
	pthread_mutex_init(&a.mu, NULL);
	pthread_cond_init(&a.work, NULL);
	pthread_cond_init(&a.done, NULL);
	push(&a, root, 1);
	/* without the thread the walk makes every listing itself */
	started = pthread_create(&tid, NULL, reader, &a) == 0;
	a.reader_on = started; /* read by pop on this thread only */
	rc = walk(&a, fn, ctx, &h, err);
	pthread_mutex_lock(&a.mu);
	a.stop = 1;
	pthread_cond_signal(&a.work);
	pthread_mutex_unlock(&a.mu);
	if (started)
		pthread_join(tid, NULL);
	/* stopped early: the reading thread is gone, nothing is busy */
	while (a.nst)
		list_free(vol, a.st[--a.nst], NULL);
	for (size_t i = 0; i < a.ntrash; i++)
		list_free(vol, a.trash[i], NULL);
	free(a.trash);
	free(a.st);
	pthread_mutex_destroy(&a.mu);
	pthread_cond_destroy(&a.work);
	pthread_cond_destroy(&a.done);
out:
	if (ph >= 0)
		vol->ops->close_dir(vol, ph);
	vol_entry_hold_release(&h);
	vol_entry_hold_release(&a.mk);
	return rc;
}

void vol_set_walk_ahead(struct vol *vol, int on)
{
	vol->walk_ahead = on;
	for (int i = 0; i < 26; i++)
		if (vol->drives[i])
			vol_set_walk_ahead(vol->drives[i], on);
}
