/* cli_util.c - printing helpers shared by the subcommands. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_fail(const struct ws_error *err)
{
	char buf[2 * WS_ERROR_TEXT_MAX + 64];

	ws_error_format(err, buf, sizeof(buf));
	fprintf(stderr, "winstate: %s\n", buf[0] ? buf : "unknown error");
	return err->code ? err->code : WS_E_INTERNAL;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "winstate %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'winstate %s --help'.\n", cmd);
	return WS_E_USAGE;
}

static const char *level_name(int level)
{
	switch (level) {
	case WS_LOG_ERROR: return "error";
	case WS_LOG_WARN: return "warning";
	case WS_LOG_INFO: return "info";
	default: return "debug";
	}
}

static void sink_fn(void *ctx, int level, const char *where, const char *msg)
{
	struct cli_log_sink *s = ctx;
	int show = level <= WS_LOG_WARN ? !s->quiet : level <= WS_LOG_INFO + s->verbose - 1;

	if (show) {
		if (*where)
			fprintf(stderr, "winstate: %s: %s: %s\n", level_name(level), where, msg);
		else
			fprintf(stderr, "winstate: %s: %s\n", level_name(level), msg);
	}
	if (s->log_file) {
		if (*where)
			fprintf(s->log_file, "%s\t%s\t%s\n", level_name(level), where, msg);
		else
			fprintf(s->log_file, "%s\t\t%s\n", level_name(level), msg);
	}
}

void cli_log_init(struct ws_log *log, struct cli_log_sink *sink)
{
	memset(log, 0, sizeof(*log));
	log->fn = sink_fn;
	log->ctx = sink;
	log->max_level = (sink->log_file || sink->verbose > 1) ? WS_LOG_DEBUG :
			 sink->verbose ? WS_LOG_INFO : WS_LOG_WARN;
}

int cli_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
