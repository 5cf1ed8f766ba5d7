/* ws_error.c - filling and formatting struct ws_error. */
#include "ws_error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void ws_error_clear(struct ws_error *err)
{
	if (!err)
		return;
	err->code = WS_OK;
	err->sys_errno = 0;
	err->line = err->col = 0;
	err->where[0] = '\0';
	err->msg[0] = '\0';
	err->input = WS_INPUT_NONE;
	err->hint = WS_HINT_NONE;
}

static void copy_text(char *dst, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= WS_ERROR_TEXT_MAX)
		n = WS_ERROR_TEXT_MAX - 1;
	if (n)
		memmove(dst, src, n);
	dst[n] = '\0';
}

/* "/proc/self/fd/N/rest" (a path through a held folder) -> the folder's
 * real path + "/rest", so that messages name a place people know. */
static void real_where(char *where)
{
	static const char pfx[] = "/proc/self/fd/";
	char link[64], real[WS_ERROR_TEXT_MAX], out[WS_ERROR_TEXT_MAX];
	size_t n = sizeof(pfx) - 1, d = 0;
	ssize_t len;

	if (strncmp(where, pfx, n))
		return;
	while (where[n + d] >= '0' && where[n + d] <= '9')
		d++;
	if (!d || (where[n + d] && where[n + d] != '/') || n + d >= sizeof(link))
		return;
	memcpy(link, where, n + d);
	link[n + d] = '\0';
	len = readlink(link, real, sizeof(real) - 1);
	if (len <= 0 || real[0] != '/')
		return;
	real[len] = '\0';
	snprintf(out, sizeof(out), "%s%s", real, where + n + d);
	copy_text(where, out);
}

int ws_error_vset(struct ws_error *err, int code, const char *where,
		  const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	err->sys_errno = 0;
	err->line = err->col = 0;
	err->input = WS_INPUT_NONE;
	err->hint = WS_HINT_NONE;
	copy_text(err->where, where);
	real_where(err->where);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return code;
}

int ws_error_hint(struct ws_error *err, int code, int input, int hint)
{
	if (err) {
		err->input = input;
		err->hint = hint;
	}
	return code;
}

int ws_error_set(struct ws_error *err, int code, const char *where,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ws_error_vset(err, code, where, fmt, ap);
	va_end(ap);
	return code;
}

int ws_error_set_errno(struct ws_error *err, int code, int errnum,
		       const char *where, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (errnum == ENOSPC || errnum == EDQUOT)
		code = WS_E_NOSPACE;
	else if (errnum == EROFS && code != WS_E_STORE)
		code = WS_E_TARGET;
	if (!err)
		return code;
	va_start(ap, fmt);
	ws_error_vset(err, code, where, fmt, ap);
	va_end(ap);
	err->sys_errno = errnum;
	/* said in words every reader knows, whatever the sentence was */
	if (code == WS_E_NOSPACE)
		ws_error_prefix(err, "disk full");
	len = strlen(err->msg);
	if (errnum && len < sizeof(err->msg) - 3)
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s",
			 strerror(errnum));
	return code;
}

int ws_error_at(struct ws_error *err, long line, long col)
{
	if (!err)
		return WS_OK;
	err->line = line;
	err->col = col;
	return err->code;
}

int ws_error_prefix(struct ws_error *err, const char *fmt, ...)
{
	char head[WS_ERROR_TEXT_MAX], old[WS_ERROR_TEXT_MAX];
	va_list ap;

	if (!err)
		return WS_OK;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", head, old);
	return err->code;
}

const char *ws_error_format(const struct ws_error *err, char *buf, size_t n)
{
	if (!n)
		return buf;
	if (!err->where[0])
		snprintf(buf, n, "%s", err->msg);
	else if (err->line && err->col)
		snprintf(buf, n, "%s:%ld:%ld: %s", err->where, err->line,
			 err->col, err->msg);
	else if (err->line)
		snprintf(buf, n, "%s:%ld: %s", err->where, err->line, err->msg);
	else
		snprintf(buf, n, "%s: %s", err->where, err->msg);
	return buf;
}

const char *ws_code_name(int code)
{
	switch (code) {
	case WS_OK: return "ok";
	case WS_HELP: return "help";
	case WS_E_CANCELED: return "canceled";
	case WS_PARTIAL: return "partial";
	case WS_E_USAGE: return "usage";
	case WS_E_NOUSER: return "no-such-user";
	case WS_E_NOT_WINDOWS: return "not-windows";
	case WS_E_STORE: return "store";
	case WS_E_RULES: return "rules";
	case WS_E_EMPTY: return "empty-selection";
	case WS_E_HIVE: return "hive";
	case WS_E_UNSUPPORTED: return "unsupported";
	case WS_E_KEY: return "wrong-key";
	case WS_E_BDE_LOCKED: return "bitlocker-locked";
	case WS_E_CORRUPT: return "corrupt-store";
	case WS_E_IO: return "io";
	case WS_E_INTERNAL: return "internal";
	case WS_E_TARGET: return "target";
	case WS_E_NOSPACE: return "no-space";
	default: return "unknown";
	}
}
