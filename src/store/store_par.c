/*
 * store_par.c - the readers' parallel loop: blobs of a pack (verify
 * --deep) and chunks of a file (apply, extract) are read and decompressed
 * on every core, each thread with its own zstd contexts.
 */
#include "store/store_private.h"

#include <pthread.h>
#include <stdlib.h>

struct par {
	pthread_mutex_t mu;
	size_t next, n;
	store_par_fn fn;
	void *ctx;
};

struct par_thread {
	struct par *par;
	struct store_zctx z;
	pthread_t th;
	int started;
};

/* Take indexes one at a time: blobs differ in size, so a static split
 * would leave threads idle. */
static void par_loop(struct par *pr, struct store_zctx *z)
{
	for (;;) {
		size_t i;

		pthread_mutex_lock(&pr->mu);
		i = pr->next < pr->n ? pr->next++ : pr->n;
		pthread_mutex_unlock(&pr->mu);
		if (i >= pr->n)
			return;
		pr->fn(pr->ctx, i, z);
	}
}

static void *par_main(void *arg)
{
	struct par_thread *t = arg;

	par_loop(t->par, &t->z);
	return NULL;
}

void store_parallel(struct store *st, size_t n, store_par_fn fn, void *ctx)
{
	struct par pr = { .next = 0, .n = n, .fn = fn, .ctx = ctx };
	size_t nt = st->threads > 1 ? st->threads - 1 : 0;
	struct par_thread *t;

	if (n < 2 || !nt) {
		for (size_t i = 0; i < n; i++)
			fn(ctx, i, &st->z);
		return;
	}
	if (nt > n - 1)
		nt = n - 1;
	pthread_mutex_init(&pr.mu, NULL);
	t = ws_xcalloc(nt, sizeof(*t));
	for (size_t k = 0; k < nt; k++) {
		t[k].par = &pr;
		t[k].started = pthread_create(&t[k].th, NULL, par_main, &t[k]) == 0;
	}
	par_loop(&pr, &st->z); /* the caller works too */
	for (size_t k = 0; k < nt; k++) {
		if (t[k].started)
			pthread_join(t[k].th, NULL);
		store_zctx_release(&t[k].z);
	}
	free(t);
	pthread_mutex_destroy(&pr.mu);
}
