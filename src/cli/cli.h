/*
 * cli.h - the program's shared pieces: the subcommand table entry, every
 * subcommand's entry point (one file each: cmd_<name>.c), and the few
 * printing helpers.  Only the CLI prints; it turns library statuses into
 * messages and exit codes (docs/exit-codes.md).
 *
 * Each cmd_<name>() parses its options with getopt_long (`+` mode, so the
 * first non-option ends parsing), answers --help on stdout with exit 0
 * (WS_OK), reports bad usage through cli_usage() or, for an option
 * getopt_long refused, cli_bad_option() (exit WS_E_USAGE), does
 * its work through library calls, and returns the exit code.
 */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

#include "util/ws_error.h"
#include "util/ws_log.h"

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

int cmd_scan(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_undo(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Print "winstate: <where>:<line>:<col>: <msg>" on stderr (as
 * cli_error_format words it); return err->code (WS_E_INTERNAL if the record
 * carries no code). */
int cli_fail(const struct ws_error *err);
/* Same, with the device the command was given (a hint may name it). */
int cli_fail_device(const struct ws_error *err, const char *device);

/* ws_error_format, with the command-line option of err->input before the
 * message ("--rules: cannot read") and the hint of err->hint after it,
 * both worded here: library messages never name options.  `device` (NULL:
 * "DEVICE") fills a hint that shows a command.  Returns buf. */
const char *cli_error_format(const struct ws_error *err, const char *device, char *buf,
			     size_t n);

/* Print "winstate <cmd>: <message>" and a hint to --help; return WS_E_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A logger printing warnings and errors to stderr ("winstate: warning:
 * <where>: <msg>"), and info/debug lines too when verbose > 0 / > 1.
 * Also appends every event to `log_file` when not NULL (opened by caller).
 */
struct cli_log_sink {
	FILE *log_file;
	int verbose;
	int quiet;
};
void cli_log_init(struct ws_log *log, struct cli_log_sink *sink);

/*
 * --target of apply / undo (cli_target.c): a folder is used as is; a disk,
 * disk image, partition or DISK@partN is mounted (vol_target_mount; read
 * only for a dry run) until cli_target_close, which unmounts it and checks
 * that.  Meanwhile SIGINT, SIGTERM and SIGHUP go first to the handler that
 * was there (the run's clean stop, after which the command unmounts); with
 * none, or at the second signal, the mount is detached before the process
 * dies.  `root` is the folder to work on.
 */
struct vol_tmount;
struct cli_target {
	const char *arg;             /* as given */
	const char *root;            /* the folder apply/undo work on */
	struct vol_tmount *m;        /* NULL for a folder */
	int handlers;
};
int cli_target_open(struct cli_target *t, const char *target, int read_only,
		    struct ws_log *log, struct ws_error *err);
/* Unmount (when mounted); its error, WS_OK otherwise.  err may be NULL. */
int cli_target_close(struct cli_target *t, struct ws_error *err);
/* A host path below a mounted target's root as "TARGET: rel" (else as is). */
void cli_target_show(const struct cli_target *t, const char *host, char *out, size_t n);
/* The same for err->where (an error from the mounted folder). */
void cli_target_error(const struct cli_target *t, struct ws_error *err);

/* Parse a decimal count option; returns 0 on success, -1 if not a number in [min,max]. */
int cli_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out);

#endif
