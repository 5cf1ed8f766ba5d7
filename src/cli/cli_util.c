/* cli_util.c - printing helpers shared by the subcommands. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The option each enum ws_input stands for. */
static const char *input_option(int input)
{
	switch (input) {
	case WS_INPUT_RULES: return "--rules";
	case WS_INPUT_MAP_USER: return "--map-user";
	case WS_INPUT_MAP_DOMAIN: return "--map-domain";
	case WS_INPUT_MAP_FILE: return "--map-file";
	case WS_INPUT_APP_CACHE: return "--app-cache";
	case WS_INPUT_EXPIRES: return "--expires";
	case WS_INPUT_DEFAULT_PROFILE: return "--default-profile";
	default: return NULL;
	}
}

/* What the user can do, appended to the message; "%s" is the device. */
static const char *hint_text(int hint)
{
	switch (hint) {
	case WS_HINT_PASSPHRASE: return ": give --passphrase-env";
	case WS_HINT_KEY_FILE: return ": give --key-file";
	case WS_HINT_PLAIN_TARGET: return ", or pass --allow-plain-target for a test target";
	case WS_HINT_SHARED_BUNDLE:
		return ": give the SID (--map-user OLD=S-1-..., an Entra object ID, or a "
		       "--map-file column), or accept a bundle every local user can read with "
		       "--allow-shared-bundle";
	case WS_HINT_STAGE_USERS: return " (--mode auto stages them for first sign-in)";
	case WS_HINT_DEFAULT_WHICH:
		return "; name the one whose settings every new user gets with "
		       "--map-user USER=Default";
	case WS_HINT_LIST_SCANS:
		return " (choose a scan with users: winstate list --store DIR --device %s)";
	case WS_HINT_SCAN_ANYWAY: return " (--allow-empty scans anyway)";
	case WS_HINT_COMMIT_EMPTY: return " (--allow-empty commits an empty scan)";
	case WS_HINT_NAME_DEVICE: return ": name the device with --device";
	case WS_HINT_TARGET_DEVICE:
		return ": give the device (--device, or the inventory's device column)";
	default: return NULL;
	}
}

const char *cli_error_format(const struct ws_error *err, const char *device, char *buf,
			     size_t n)
{
	const char *opt = input_option(err->input), *hint = hint_text(err->hint);
	struct ws_error e = *err;
	char tail[512] = "";

	if (hint) {
		const char *d = strstr(hint, "%s");

		if (d)
			snprintf(tail, sizeof(tail), "%.*s%s%s", (int)(d - hint), hint,
				 device ? device : "DEVICE", d + 2);
		else
			snprintf(tail, sizeof(tail), "%s", hint);
	}
	snprintf(e.msg, sizeof(e.msg), "%s%s%s%s", opt ? opt : "", opt ? ": " : "", err->msg,
		 tail);
	return ws_error_format(&e, buf, n);
}

int cli_fail_device(const struct ws_error *err, const char *device)
{
	char buf[2 * WS_ERROR_TEXT_MAX + 64];

	cli_error_format(err, device, buf, sizeof(buf));
	fprintf(stderr, "winstate: %s\n", buf[0] ? buf : "unknown error");
	return err->code ? err->code : WS_E_INTERNAL;
}

int cli_fail(const struct ws_error *err)
{
	return cli_fail_device(err, NULL);
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
