/*
 * ws_error.h - status codes and the error record every library call fills.
 *
 * Convention used across the library (git's strbuf-err style, libarchive's
 * codes): a function that can fail returns `int`, WS_OK (0) on success or one
 * of the WS_E_* codes below, and fills the caller's `struct ws_error` with the
 * same code, a message and the object (file, store entry, registry path) the
 * failure concerns.  On success the error record is left untouched.  `err`
 * may be NULL when the caller does not want the details.
 *
 * The numeric values ARE the program's exit codes (docs/exit-codes.md) and
 * follow USMT's return codes where a category fits, so that scripts written
 * for ScanState/LoadState keep working.
 */
#ifndef WS_ERROR_H
#define WS_ERROR_H

#include <stdarg.h>
#include <stddef.h>

enum ws_code {
	WS_OK = 0,
	WS_HELP = 1,            /* help was displayed */
	WS_E_CANCELED = 2,      /* stopped on request (Ctrl-C): what was done is kept */
	WS_PARTIAL = 3,         /* completed, but some objects were skipped (--continue-on-error) */
	WS_E_USAGE = 11,        /* bad command line */
	WS_E_NOUSER = 14,       /* a user named in the operation does not exist where needed */
	WS_E_NOT_WINDOWS = 26,  /* source/target is not an (offline) Windows installation */
	WS_E_STORE = 27,        /* store location unusable: missing, not a store, not writable, newer format */
	WS_E_RULES = 28,        /* rule or config XML invalid */
	WS_E_EMPTY = 31,        /* nothing to migrate: a user pattern matched no profile,
				   a scan selected no user, apply of a scan without users */
	WS_E_HIVE = 33,         /* registry hive unreadable, corrupt, or dirty without usable logs */
	WS_E_UNSUPPORTED = 36,  /* the operation is not possible on this input (documented limitation) */
	WS_E_KEY = 37,          /* wrong passphrase or key file for an encrypted store */
	WS_E_BDE_LOCKED = 45,   /* BitLocker volume stays locked: no key given matches a protector */
	WS_E_CORRUPT = 42,      /* store content damaged (checksum, truncation, missing pack) */
	WS_E_IO = 61,           /* I/O error reading or writing */
	WS_E_INTERNAL = 70,     /* bug or resource exhaustion inside winstate */
	WS_E_TARGET = 71,       /* target unusable: read-only, running system, hibernated */
	WS_E_NOSPACE = 72       /* out of disk space */
};

#define WS_ERROR_TEXT_MAX 1024

/*
 * Which input of the operation an error is about, and what the user can do
 * about it: the program that reports the error words both (the CLI names its
 * own options), so library messages never name command-line options.
 */
enum ws_input {
	WS_INPUT_NONE = 0,
	WS_INPUT_RULES,          /* rule files given for the operation */
	WS_INPUT_MAP_USER,       /* an OLD=NEW user mapping */
	WS_INPUT_MAP_DOMAIN,     /* an OLD=NEW domain mapping */
	WS_INPUT_MAP_FILE,       /* the user mapping CSV */
	WS_INPUT_APP_CACHE,      /* the offline package folder */
	WS_INPUT_EXPIRES,        /* the bundles' expiry date */
	WS_INPUT_DEFAULT_PROFILE /* the request to fill the Default profile */
};

enum ws_hint {
	WS_HINT_NONE = 0,
	WS_HINT_PASSPHRASE,      /* the store needs its passphrase */
	WS_HINT_KEY_FILE,        /* the store needs its key file */
	WS_HINT_PLAIN_TARGET,    /* a target without descriptors can be accepted (tests) */
	WS_HINT_SHARED_BUNDLE,   /* give the SID, or accept a bundle every user can read */
	WS_HINT_STAGE_USERS,     /* users without a profile can be staged for first sign-in */
	WS_HINT_DEFAULT_WHICH,   /* name the user whose settings the Default profile gets */
	WS_HINT_LIST_SCANS,      /* list the device's scans to choose one with users */
	WS_HINT_SCAN_ANYWAY,     /* a user pattern matching nothing can be accepted */
	WS_HINT_COMMIT_EMPTY,    /* an empty scan can be committed */
	WS_HINT_NAME_DEVICE,     /* the device needs a name */
	WS_HINT_TARGET_DEVICE    /* the scanned device an apply target takes needs a name */
};

struct ws_error {
	int code;                        /* enum ws_code; WS_OK when nothing happened */
	int sys_errno;                   /* errno behind the failure, 0 if none */
	long line, col;                  /* position inside `where` (XML, CSV), 0 = n/a */
	char where[WS_ERROR_TEXT_MAX];   /* file / store object / registry path concerned, "" if none */
	char msg[WS_ERROR_TEXT_MAX];     /* human sentence, no trailing newline */
	int input;                       /* enum ws_input, WS_INPUT_NONE if none */
	int hint;                        /* enum ws_hint, WS_HINT_NONE if none */
};

/* Reset to WS_OK with empty texts. */
void ws_error_clear(struct ws_error *err);

/*
 * Fill `err` (if not NULL) and return `code`, so that callers can write
 * `return ws_error_set(err, WS_E_IO, path, "cannot read: %s", strerror(e));`.
 * A `where` through a held folder ("/proc/self/fd/N/...") is given as the
 * folder's real path.
 */
int ws_error_set(struct ws_error *err, int code, const char *where,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Same, recording `errnum` and appending ": <strerror(errnum)>" to the message.
 * ENOSPC/EDQUOT turn `code` into WS_E_NOSPACE and the message into "disk full:
 * <message>" (so `where` should name the path that could not be written),
 * EROFS into WS_E_TARGET unless the caller passed WS_E_STORE (a read-only
 * store stays a store error). */
int ws_error_set_errno(struct ws_error *err, int code, int errnum,
		       const char *where, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

int ws_error_vset(struct ws_error *err, int code, const char *where,
		  const char *fmt, va_list ap);

/* Attach the input the error is about and what the user can do (enum
 * ws_input, enum ws_hint; ws_error_set clears both); returns `code`, so that
 * `return ws_error_hint(err, ws_error_set(err, ...), WS_INPUT_NONE, hint);`. */
int ws_error_hint(struct ws_error *err, int code, int input, int hint);
/* Attach a line/column (for XML, CSV); returns err->code. */
int ws_error_at(struct ws_error *err, long line, long col);

/* Prefix the message with more context: "ctx: old message". Returns err->code. */
int ws_error_prefix(struct ws_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "where:line:col: msg" (parts omitted when empty) into buf; returns buf. */
const char *ws_error_format(const struct ws_error *err, char *buf, size_t n);

/* Short stable name of a code ("usage", "hive", "corrupt-store" ...). */
const char *ws_code_name(int code);

#endif
