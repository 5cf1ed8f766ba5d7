/*
 * ws_log.h - how the library reports warnings and progress without printing:
 * callers hand in callbacks; a NULL logger or progress sink drops events.
 */
#ifndef WS_LOG_H
#define WS_LOG_H

#include <stdint.h>

enum ws_level { WS_LOG_ERROR = 0, WS_LOG_WARN = 1, WS_LOG_INFO = 2, WS_LOG_DEBUG = 3 };

struct ws_log {
	/* `where` names the file/object concerned ("" if none); `msg` has no newline. */
	void (*fn)(void *ctx, int level, const char *where, const char *msg);
	void *ctx;
	int max_level;     /* events above this level are not formatted at all */
	unsigned warnings; /* counters kept by ws_logf, for summaries */
	unsigned errors;
};

void ws_logf(struct ws_log *log, int level, const char *where,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

struct ws_progress_event {
	const char *phase;   /* "scan", "store", "apply", "verify" ... */
	const char *device;  /* may be NULL */
	const char *user;    /* may be NULL */
	uint64_t done, total;          /* objects; total 0 = unknown */
	uint64_t bytes_done, bytes_total;
	unsigned errors;
	const char *item;    /* the object being worked on (file, pack); may be NULL */
};

struct ws_progress {
	void (*fn)(void *ctx, const struct ws_progress_event *ev);
	void *ctx;
};

static inline void ws_progress_emit(const struct ws_progress *p,
				    const struct ws_progress_event *ev)
{
	if (p && p->fn)
		p->fn(p->ctx, ev);
}

#endif
