/*
 * cli_run.h - one command's run as the operator sees it, shared by scan,
 * apply, undo, extract and verify: the --log file (a header with program,
 * version and the command line with secrets masked, every message at its
 * level, each device's start and end with its totals, a closing summary),
 * the --progress-log file in USMT's format (docs/logs.md), the progress
 * display on stderr (a bar per running device on a terminal, plain lines
 * otherwise, nothing with -q) and Ctrl-C (a cancel flag the library polls).
 *
 * Only this file writes progress to stderr, so messages and bars never
 * interleave: every library message goes through cli_run_log(), which
 * clears the bars first.
 */
#ifndef CLI_RUN_H
#define CLI_RUN_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "util/ws_log.h"

/* ---- pure formatting (unit-tested) ------------------------------------ */

/* "0:07", "12:34", "1:02:03"; "--:--" for a negative (unknown) time. */
const char *cli_fmt_duration(char *buf, size_t n, double seconds);
/* "512 B", "12.3 KB", "4.5 MB", "1.25 GB" (binary units). */
const char *cli_fmt_bytes(char *buf, size_t n, uint64_t bytes);
/* "HH:MM:SS" of a duration (USMT's migration time). */
const char *cli_fmt_hms(char *buf, size_t n, double seconds);

/* What one progress line shows for a device. */
struct cli_bar {
	const char *device;      /* NULL or "" : the line has no device column */
	const char *phase;       /* "scan", "apply" ... */
	const char *item;        /* current object (file, user); may be NULL */
	uint64_t done, total;    /* objects; total 0 = unknown */
	uint64_t bytes_done, bytes_total;
	double elapsed;          /* seconds since the device started */
};

/* Percentage 0..100 (files and bytes both weigh), -1 when unknown. */
int cli_bar_percent(const struct cli_bar *b);
/* Bytes per second so far (0 when too early to say). */
double cli_bar_rate(const struct cli_bar *b);
/* Seconds left from the rate, -1 when unknown. */
double cli_bar_eta(const struct cli_bar *b);
/*
 * The terminal line: "DEVICE phase [#####.....]  45% 12.3 MB/27.4 MB
 * 3.2 MB/s ETA 0:05 item", cut to `width` columns (the item is shortened
 * from its start: "...\Documents\report.docx").  `tty` draws the bar;
 * without it the line is plain text for a log or a pipe.  Returns buf.
 */
const char *cli_bar_format(char *buf, size_t n, const struct cli_bar *b, int width,
			   int tty);

/*
 * One USMT progress-log line: "08 Jun 2006, 13:49:13, 00:00:10, " then
 * `pairs` ("key, value, key, value").  `now` is local wall time, `elapsed`
 * the migration time.  Returns buf.
 */
const char *cli_plog_format(char *buf, size_t n, time_t now, double elapsed,
			    const char *pairs);

/*
 * The command line as the log records it: arguments joined by spaces,
 * quoted when they hold spaces, the value of a secret option (BitLocker
 * recovery password or password, a passphrase, a key) replaced by "***"
 * whether given as "--opt VALUE" or "--opt=VALUE".  Returns buf.
 */
const char *cli_cmdline_masked(char *buf, size_t n, int argc, char *const *argv);

/* USMT's PHASE word for a progress phase ("scan" -> "Scanning"). */
const char *cli_usmt_phase(const char *phase);

/* ---- the run ---------------------------------------------------------- */

struct cli_run_dev {
	char *name;
	char *shown;              /* the name events give, when it differs */
	char phase[16];
	char *item;
	uint64_t done, total, bytes_done, bytes_total;
	double started, last_line;
	int running;
	int last_pct;             /* last percentage written to the progress log */
	int sized;                /* totalSizeInMBToTransfer written */
	unsigned errors;
};

struct cli_run {
	const char *cmd;          /* "scan", "apply" ... */
	char cmdline[4096];       /* masked, for the logs */
	int verbose, quiet, json;
	FILE *log;                /* --log */
	int log_level;            /* what --log records (enum ws_level) */
	FILE *plog;               /* --progress-log */
	struct ws_log wlog;       /* hand this to the library */
	struct ws_progress sink;  /* and this */
	double t0;                /* monotonic start */
	/* terminal */
	int tty;                  /* bars on stderr */
	int lines;                /* plain progress lines (stderr not a terminal) */
	double line_every;        /* seconds between plain lines */
	int drawn;                /* bar lines on screen now */
	double last_draw;
	/* devices */
	struct cli_run_dev *d;
	size_t nd, ad;
	size_t devices, finished, failed; /* of a wave (0: one object) */
	char *single;             /* one object: its name at the start, which
				     every progress event of the run is about */
	unsigned ignored;         /* errors skipped (numberOfIgnoredErrors) */
};

/*
 * Start a run of `cmd` with the program's argv (before option parsing:
 * the command line is recorded, secrets masked).  Progress shows only
 * once cli_run_output() says how.
 */
void cli_run_init(struct cli_run *r, const char *cmd, int argc, char *const *argv);

/*
 * Open the --log (NULL: none) and --progress-log (NULL: none) files for
 * appending and write their headers.  On failure prints why and returns
 * WS_E_USAGE (11).  Call once options are parsed.
 */
int cli_run_open(struct cli_run *r, const char *log_path, int log_level,
		 const char *plog_path);

/* How the terminal is used: -v count, -q, --json (no bar beside JSON).
 * `progress`: the command shows progress at all (dry runs do not). */
void cli_run_output(struct cli_run *r, int verbose, int quiet, int json, int progress);

/* The logger and progress sink the library gets. */
struct ws_log *cli_run_log(struct cli_run *r);
const struct ws_progress *cli_run_progress(struct cli_run *r);

/* A line at `level` into --log only (and on stderr for errors/warnings as
 * the logger does): for the CLI's own records (actions, summaries). */
void cli_run_note(struct cli_run *r, int level, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A line at `level` into --log only (when the log records that level):
 * what the terminal shows in its own words (apply's actions). */
void cli_run_record(struct cli_run *r, int level, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Print the error as cli_fail_device() does and record it in --log;
 * returns its code. */
struct ws_error;
int cli_run_fail(struct cli_run *r, const struct ws_error *err, const char *device);

/* cli_fail(), also recorded in --log when `log` is a run's logger
 * (cli_run_log): for helpers that get only the logger. */
int cli_fail_log(struct ws_log *log, const struct ws_error *err);

/* "error", "warn"/"warning", "info", "debug" -> enum ws_level, else -1. */
int cli_run_parse_level(const char *s);

/* Erase the bars before printing to stdout/stderr (they come back with
 * the next progress event). */
void cli_run_clear(struct cli_run *r);

/* A device (target, store) starts / ends: a log line each; the end's
 * `totals` are the device's counts in words, `status` its exit code,
 * `error` the failure (NULL when it succeeded), `ignored` errors skipped. */
void cli_run_device_start(struct cli_run *r, const char *device, const char *what);
void cli_run_device_end(struct cli_run *r, const char *device, int status,
			const char *totals, const char *error, unsigned ignored);

/* The end: a summary line in --log, USMT's closing lines in the progress
 * log, files closed.  Returns rc. */
int cli_run_finish(struct cli_run *r, int rc, const char *summary);

/*
 * Ctrl-C and SIGTERM set the flag cli_run_cancel_flag() returns (the
 * library polls it and stops at its next safe point with exit code
 * WS_E_CANCELED); a second one ends the program at once.  The handler
 * only sets the flag (the one global of the CLI: signals have no context).
 */
void cli_run_catch_signals(void);
const volatile sig_atomic_t *cli_run_cancel_flag(void);
int cli_run_canceled(void);

#endif
