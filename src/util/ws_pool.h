/*
 * ws_pool.h - running the items of a wave (the devices of a fleet scan,
 * the targets of a fleet apply) on a few threads.  Each thread takes the
 * next item not passed over, runs it, and keeps a resource of its own
 * between its items (a store handle), made before its first item.  One lock serialises the pool's bookkeeping
 * and the caller's callbacks; the caller may take it (ws_pool_lock) for its
 * own shared state, such as a log many items write to.
 *
 *   struct ws_pool p;
 *   ws_pool_init(&p, &ops, ctx);
 *   ws_pool_run(&p, jobs, n);         returns when every item has run
 *   ws_pool_release(&p);
 */
#ifndef WS_POOL_H
#define WS_POOL_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>

#include "util/ws_error.h"

struct ws_pool_ops {
	/* Under the lock: 1 to pass over item i (NULL: none is). */
	int (*skip)(void *ctx, size_t i);
	/* Under the lock, before and after item i runs (may be NULL). */
	void (*begin)(void *ctx, size_t i);
	void (*end)(void *ctx, size_t i);
	/* Without the lock, before a thread's first item: its resource into
	 * *res (may be NULL).  A non-zero status (err filled) fails every item
	 * the thread then takes, through fail(), instead of running them. */
	int (*open)(void *ctx, void **res, struct ws_error *err);
	/* When a thread that opened ends (may be NULL). */
	void (*close)(void *ctx, void *res);
	/* Without the lock: run item i with the thread's resource. */
	void (*run)(void *ctx, void *res, size_t i);
	void (*fail)(void *ctx, size_t i, int status, const struct ws_error *err);
};

struct ws_pool {
	struct ws_pool_ops ops;
	void *ctx;
	/* When it reads non-zero (Ctrl-C), the items not started yet are
	 * failed with WS_E_CANCELED instead of run (NULL: never). */
	const volatile sig_atomic_t *cancel;
	pthread_mutex_t mu;
	size_t next, n;
};

void ws_pool_init(struct ws_pool *p, const struct ws_pool_ops *ops, void *ctx);
void ws_pool_release(struct ws_pool *p);

/* Run items 0..n-1 on up to `jobs` threads (this thread is one of them;
 * fewer when a thread cannot be made); returns when all have run. */
void ws_pool_run(struct ws_pool *p, unsigned jobs, size_t n);

void ws_pool_lock(struct ws_pool *p);
void ws_pool_unlock(struct ws_pool *p);

/* For a fail() callback: an item's failure into its report, *status from
 * `status` and *dst a copy of `err` that names `where` (the item's target
 * or source; NULL: nothing) when err names no place of its own, so that a
 * wave's report says which item each error is about. */
void ws_pool_item_failed(int *status_out, struct ws_error *dst, int status,
			 const struct ws_error *err, const char *where);

/* The worse of two statuses of a wave's items: any error beats WS_PARTIAL
 * (some items skipped) which beats WS_OK; of two errors the higher code. */
int ws_status_worse(int worst, int s);

#endif
