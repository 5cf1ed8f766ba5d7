/*
 * cli_common.h - helpers shared by subcommands that open stores, load rules
 * or show progress.  Each prints its own error and returns the exit code.
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
};

/* Open (or with create, create) a store with the key options. */
int cli_store_open(const char *cmd, const char *dir, const struct cli_key_opts *k,
		   int create, int encrypt, struct ws_log *log,
		   struct store **out);

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

/* Progress: a one-line bar on a terminal (stderr), and USMT-style lines in
 * the --progress-log file. */
struct cli_progress {
	struct ws_progress sink;
	FILE *log_file;
	int tty, drawn;
	long last_draw;
};
void cli_progress_init(struct cli_progress *p, FILE *log_file, int quiet);
void cli_progress_end(struct cli_progress *p);

#endif
