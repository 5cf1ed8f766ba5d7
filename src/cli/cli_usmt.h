/*
 * cli_usmt.h - USMT's command lines (ScanState, LoadState, UsmtUtils)
 * translated into winstate's own: `winstate scanstate STORE /i:x.xml
 * /offlineWinDir:/mnt/win/Windows /ue:*\* /ui:CONTOSO\alice` runs `winstate
 * scan --source /mnt/win --store STORE --rules x.xml ...` through the same
 * cmd_scan().  Options are case-insensitive, their value follows a colon or
 * comes as the next word; every USMT option winstate does not need gets
 * one warning saying why, and one whose effect winstate cannot give is
 * refused (docs/usmt.md has the whole table).
 */
#ifndef CLI_USMT_H
#define CLI_USMT_H

#include <stddef.h>

enum cli_usmt_tool { CLI_USMT_SCANSTATE, CLI_USMT_LOADSTATE, CLI_USMT_USMTUTILS };

/* The environment variable /key and /keyfile hand the passphrase over in
 * (--passphrase-env), so it never appears on the translated command line. */
#define CLI_USMT_KEY_ENV "WINSTATE_USMT_KEY"

struct cli_usmt_line {
	char **argv;            /* the winstate command: "scan", "--source", ...,
				   NULL-terminated; argv[0] is the command */
	int argc;
	size_t alloc;
	int sub;                /* argv[1] is a subcommand ("rules genconfig") */
	char **notes;           /* one warning per USMT option not needed:
				   "/r:3 ignored: ..." */
	size_t n_notes, alloc_notes;
	const char *key;        /* /key:STRING (in the caller's argv), or NULL */
	const char *key_file;   /* /keyfile:FILE, or NULL */
	char *key_arg;          /* the argv word holding /key's value, to blank */
	int help;               /* /? or /help: print the front end's usage */
	const char *say;        /* a text to print instead of running (/ec) */
	int show;               /* /v with bit 1: print the translated line */
	char error[768];        /* why the line is refused (usage error) */
};

/*
 * Translate a USMT command line (argv[0] = "scanstate" | "loadstate" |
 * "usmtutils", then USMT's arguments; words after "--" go to the winstate
 * command unchanged).  Returns 0 with out->argv filled (or out->help /
 * out->say set), or -1 with out->error set.  Release with
 * cli_usmt_line_release() either way.
 */
int cli_usmt_translate(int tool, int argc, char **argv, struct cli_usmt_line *out);
void cli_usmt_line_release(struct cli_usmt_line *l);

/* The front end's --help text. */
const char *cli_usmt_usage(int tool);

/* For a native command's "unexpected argument '/ui:X'": the winstate
 * option of that USMT option ("USMT's /ui is --users-include here") into
 * buf; 0 when arg is not a USMT option of that command's tool. */
int cli_usmt_hint(const char *cmd, const char *arg, char *buf, size_t n);

/* cmd_usmt.c: the front ends' entries (the command table's). */
int cmd_scanstate(int argc, char **argv);
int cmd_loadstate(int argc, char **argv);
int cmd_usmtutils(int argc, char **argv);

#endif
