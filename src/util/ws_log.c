/* ws_log.c - formatting log events for the caller's callback. */
#include "ws_log.h"

#include <stdarg.h>
#include <stdio.h>

void ws_logf(struct ws_log *log, int level, const char *where,
	     const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (!log)
		return;
	if (level == WS_LOG_WARN)
		log->warnings++;
	else if (level == WS_LOG_ERROR)
		log->errors++;
	if (!log->fn || level > log->max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log->fn(log->ctx, level, where ? where : "", msg);
}
