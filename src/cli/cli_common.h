/*
 * cli_common.h - helpers shared by subcommands that open stores, load rules
 * or take BitLocker keys (progress and logs: cli_run.h).  Each prints its own error and returns the exit code.
 */
#ifndef CLI_COMMON_H
#define CLI_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "rules/rules.h"
#include "store/store.h"

struct cli_key_opts {
	const char *key_file;        /* --key-file */
	const char *passphrase_env;  /* --passphrase-env */
	unsigned threads;            /* --threads (0: one per core) */
};

/* Open (or with create, create) a store with the key options. */
int cli_store_open(const char *cmd, const char *dir, const struct cli_key_opts *k,
		   int create, int encrypt, struct ws_log *log,
		   struct store **out);

/*
 * BitLocker keys for a --source that is a disk, an image or a partition
 * (scan, rules explain): the options below, in each command's option table
 * (CLI_BDE_OPTIONS) and help text (CLI_BDE_USAGE).  cli_bde_option() takes
 * one of them into *keys (made on first use): 0 when taken, -1 when `opt`
 * is not one of them, else the exit code after printing why.  A secret on
 * the command line is wiped from argv once copied.  Keys never reach a
 * message, a log or the output.
 */
enum {
	CLI_OPT_BDE_KEYS = 900, CLI_OPT_BDE_RECOVERY, CLI_OPT_BDE_BEK, CLI_OPT_BDE_PASSWORD
};
#define CLI_BDE_OPTIONS                                                            \
	{ "bitlocker-keys", required_argument, NULL, CLI_OPT_BDE_KEYS },           \
	{ "recovery-password", required_argument, NULL, CLI_OPT_BDE_RECOVERY },    \
	{ "bek", required_argument, NULL, CLI_OPT_BDE_BEK },                       \
	{ "bitlocker-password", required_argument, NULL, CLI_OPT_BDE_PASSWORD }
#define CLI_BDE_USAGE                                                              \
	"  --bitlocker-keys FILE   CSV of BitLocker recovery keys as AD, Intune or MBAM\n" \
	"                          export them; each volume's key is picked by its\n"     \
	"                          protector ID (repeatable)\n"                          \
	"  --recovery-password P   a 48-digit BitLocker recovery password (repeatable)\n" \
	"  --bek FILE              a BitLocker startup key file (.BEK) (repeatable)\n"    \
	"  --bitlocker-password P  a BitLocker password (repeatable)\n"
struct bd_keys;
int cli_bde_option(struct bd_keys **keys, int opt, char *arg);

/* Folder of the running binary (malloc'd) or NULL. */
char *cli_exe_dir(void);

/*
 * Load rule files: each path a file or a folder of *.xml; none = the shipped
 * winstate-*.xml (rule_default_dir).  Then Config.xml if given.  On success
 * *rs_out and the list of files loaded (free with cli_strv_free).
 */
int cli_rules_load(const char *const *paths, size_t npaths, const char *config,
		   struct ws_log *log, struct rule_set **rs_out,
		   char ***files_out, size_t *nfiles_out);
void cli_strv_free(char **v, size_t n);

#endif
