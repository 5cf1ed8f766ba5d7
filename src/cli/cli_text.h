/*
 * cli_text.h - words for mistakes on the command line: "did you mean" for a
 * mistyped option or command (edit distance over the command's own option
 * table), and the message for whatever getopt_long refused.
 */
#ifndef CLI_TEXT_H
#define CLI_TEXT_H

#include <getopt.h>
#include <stddef.h>

/* Optimal-string-alignment distance between a and b (ASCII case folded):
 * insertions, deletions, substitutions and swaps of two neighbours each
 * count one.  Stops counting at `cap` (returns cap + 1 when farther). */
size_t cli_edit_distance(const char *a, const char *b, size_t cap);

/* The candidate closest to `word` if it is close enough to be a slip
 * (distance <= 1 + strlen(word) / 4, and less than the word's length);
 * NULL when none is.  A tie goes to the first. */
const char *cli_closest(const char *word, const char *const *cands, size_t n);

/* The same over a getopt_long table (names without "--"). */
const char *cli_closest_option(const char *word, const struct option *opts);

/*
 * After getopt_long returned '?' (opterr = 0, set by main): what was wrong,
 * worded into buf ("unknown option '--dryrun' (did you mean --dry-run?)",
 * "option '--store' needs a value", "option '--json' takes no value",
 * "option '--user' is ambiguous: --users-include, --users-exclude").
 * `shortopts` is the string given to getopt_long.  Returns buf.
 */
const char *cli_bad_option_text(const struct option *opts, const char *shortopts,
				int argc, char **argv, char *buf, size_t n);

/* cli_usage(cmd, <that text>): prints it and returns WS_E_USAGE. */
int cli_bad_option(const char *cmd, const struct option *opts, const char *shortopts,
		   int argc, char **argv);

/* "unexpected argument 'X'"; returns WS_E_USAGE. */
int cli_unexpected(const char *cmd, const char *arg);

#endif
