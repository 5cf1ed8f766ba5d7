/*
 * ws_pool.c - a wave's items on a few threads (ws_pool.h).
 */
#include "util/ws_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ws_buf.h"

void ws_pool_init(struct ws_pool *p, const struct ws_pool_ops *ops, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->ops = *ops;
	p->ctx = ctx;
	pthread_mutex_init(&p->mu, NULL);
}

void ws_pool_release(struct ws_pool *p)
{
	pthread_mutex_destroy(&p->mu);
}

void ws_pool_lock(struct ws_pool *p)
{
	pthread_mutex_lock(&p->mu);
}

void ws_pool_unlock(struct ws_pool *p)
{
	pthread_mutex_unlock(&p->mu);
}

static void *worker(void *arg)
{
	struct ws_pool *p = arg;
	void *res = NULL;
	int opened = 0, status = WS_OK, canceled;
	struct ws_error err;

	ws_error_clear(&err);
	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->mu);
		while (p->next < p->n && p->ops.skip && p->ops.skip(p->ctx, p->next))
			p->next++;
		if (p->next >= p->n) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		i = p->next++;
		if (p->ops.begin)
			p->ops.begin(p->ctx, i);
		/* read under the lock: a run callback may set it (under the
		 * same lock) from another thread, besides a signal handler */
		canceled = p->cancel && *p->cancel;
		pthread_mutex_unlock(&p->mu);
		if (!opened) {
			opened = 1;
			if (p->ops.open)
				status = p->ops.open(p->ctx, &res, &err);
		}
		if (canceled) {
			struct ws_error cerr;

			ws_error_clear(&cerr);
			ws_error_set(&cerr, WS_E_CANCELED, NULL, "not started: stopped on request");
			p->ops.fail(p->ctx, i, WS_E_CANCELED, &cerr);
		} else if (status) {
			p->ops.fail(p->ctx, i, status, &err);
		} else {
			p->ops.run(p->ctx, res, i);
		}
		if (p->ops.end) {
			pthread_mutex_lock(&p->mu);
			p->ops.end(p->ctx, i);
			pthread_mutex_unlock(&p->mu);
		}
	}
	if (opened && !status && p->ops.close)
		p->ops.close(p->ctx, res);
	return NULL;
}

void ws_pool_run(struct ws_pool *p, unsigned jobs, size_t n)
{
	pthread_t *th;
	size_t started = 0;

	p->next = 0;
	p->n = n;
	if (!jobs)
		jobs = 1;
	if (jobs > n)
		jobs = n ? (unsigned)n : 1;
	th = ws_xcalloc(jobs, sizeof(*th));
	for (unsigned j = 1; j < jobs; j++)
		if (!pthread_create(&th[started], NULL, worker, p))
			started++;
	worker(p);
	for (size_t j = 0; j < started; j++)
		pthread_join(th[j], NULL);
	free(th);
}

void ws_pool_item_failed(int *status_out, struct ws_error *dst, int status,
			 const struct ws_error *err, const char *where)
{
	*status_out = status;
	*dst = *err;
	if (!err->where[0] && where)
		snprintf(dst->where, sizeof(dst->where), "%s", where);
}

int ws_status_worse(int worst, int s)
{
	if (s == WS_OK)
		return worst;
	if (s == WS_PARTIAL)
		return worst == WS_OK ? WS_PARTIAL : worst;
	if (worst == WS_OK || worst == WS_PARTIAL || s > worst)
		return s;
	return worst;
}
