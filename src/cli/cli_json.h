/*
 * cli_json.h - the one JSON writer of the CLI: every --json output (scan,
 * list, verify, apply, undo) is written through it, so that they agree on
 * one convention (docs/store-format.md, "JSON outputs"):
 *   - a string the command does not know is null, never "";
 *     cli_json_str writes NULL as null and keeps "" (a known empty string,
 *     such as a registry default value's name), cli_json_opt writes both
 *     NULL and "" as null (fields whose "" means unknown: computer, OS,
 *     account, scan id ...);
 *   - numbers are never null; true/false for flags;
 *   - members in a fixed order; array elements one per line.
 *
 *   struct cli_json j;
 *   cli_json_init(&j, 0);
 *   cli_json_obj(&j, NULL); cli_json_str(&j, "device", d); ... cli_json_end(&j);
 *   cli_json_print(&j, stdout); cli_json_release(&j);
 *
 * Keys are NULL for array elements and the top value.  Nesting is bounded
 * (CLI_JSON_DEPTH); misuse aborts (a bug, not input).
 */
#ifndef CLI_JSON_H
#define CLI_JSON_H

#include <stdint.h>
#include <stdio.h>

#include "util/ws_buf.h"

#define CLI_JSON_DEPTH 16

struct cli_json {
	struct ws_buf out;
	unsigned base;                        /* indentation of the top value */
	unsigned depth;                       /* open containers */
	unsigned char array[CLI_JSON_DEPTH];  /* container at depth i is an array */
	unsigned char count[CLI_JSON_DEPTH];  /* it has members (saturating) */
};

/* `base`: indentation level of the top value, for a value later embedded
 * with cli_json_raw at that depth. */
void cli_json_init(struct cli_json *j, unsigned base);
void cli_json_release(struct cli_json *j);

void cli_json_obj(struct cli_json *j, const char *key);
void cli_json_arr(struct cli_json *j, const char *key);
void cli_json_end(struct cli_json *j);

void cli_json_str(struct cli_json *j, const char *key, const char *v);
void cli_json_strn(struct cli_json *j, const char *key, const char *v, size_t len);
void cli_json_opt(struct cli_json *j, const char *key, const char *v);
void cli_json_u64(struct cli_json *j, const char *key, uint64_t v);
void cli_json_i64(struct cli_json *j, const char *key, int64_t v);
void cli_json_bool(struct cli_json *j, const char *key, int v);
void cli_json_null(struct cli_json *j, const char *key);
/* A value written by another cli_json (its whole text), e.g. a list built
 * while something else was being written. */
void cli_json_raw(struct cli_json *j, const char *key, const char *json);

/* The text so far (complete once every container is ended). */
const char *cli_json_text(const struct cli_json *j);
/* Write the text and a newline to f. */
void cli_json_print(const struct cli_json *j, FILE *f);

#endif
