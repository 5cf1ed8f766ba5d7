/*
 * ws_csv.h - reading CSV records (RFC 4180: quoted fields with "" inside,
 * quoted fields spanning lines, CRLF or LF) with the line each starts on,
 * for the inventories of scan and apply.  Malformed records are reported
 * and skipped so a reader can go on with the next line.
 *
 *   struct ws_csv c; struct ws_csv_rec r = WS_CSV_REC_INIT;
 *   ws_csv_init(&c, data, len);           (skips a UTF-8 BOM)
 *   while ((k = ws_csv_next(&c, &r, &why)) != 0) { k < 0: malformed ... }
 *   ws_csv_rec_release(&r);
 */
#ifndef WS_CSV_H
#define WS_CSV_H

#include <stddef.h>

#include "util/ws_buf.h"
#include "util/ws_error.h"

struct ws_csv {
	const char *p, *end;
	long line;               /* line of the next character (from 1) */
};

struct ws_csv_rec {
	struct ws_buf *f;        /* fields, NUL-terminated */
	size_t n, alloc;
};
#define WS_CSV_REC_INIT { NULL, 0, 0 }

void ws_csv_init(struct ws_csv *c, const char *data, size_t len);

/*
 * The next record into r: 1 with a record, 0 at the end, -1 when malformed
 * (`why` says how: unbalanced quote, text after a closing quote, quote
 * inside an unquoted field; the cursor is then after the record's first
 * line).  c->line before the call is the record's first line.
 */
int ws_csv_next(struct ws_csv *c, struct ws_csv_rec *r, const char **why);

/* Skip to just after the end of the current physical line (comments). */
void ws_csv_skip_line(struct ws_csv *c);

/* Trim spaces, tabs (and a trailing CR) around a field. */
void ws_csv_trim(struct ws_buf *b);

void ws_csv_rec_release(struct ws_csv_rec *r);

/*
 * A table whose header line names its columns (the inventories of scan
 * and apply).  Comment lines ('#') and empty lines are skipped anywhere;
 * the header is the first other line; its names match `cols` ignoring
 * case (a name the header repeats: the first one counts; names not in
 * `cols` are ignored).  Then, for every later record:
 *   row(ctx, line, v)       v[j] is the trimmed field of cols[j], "" when
 *                           the header has no such column;
 *   bad(ctx, line, v, why)  a record that cannot be a row: malformed CSV,
 *                           a field count other than the header's, or an
 *                           empty `cols[key]`; v as far as it is known
 *                           (fields past the end of the record are "").
 * `why` ends in ": line skipped".  Returns WS_E_USAGE (input: name, at the
 * header's line) when there is no header or it lacks `cols[key]`; `shape`
 * is the header such a message shows ("device,source[,users-include]").
 */
struct ws_csv_table {
	const char *const *cols;
	size_t ncols;
	size_t key;                 /* the column every row must fill */
	const char *key_what;       /* "no <key_what>: line skipped" */
	const char *shape;
	void (*row)(void *ctx, long line, const char *const *v);
	void (*bad)(void *ctx, long line, const char *const *v, const char *why);
	void *ctx;
};
int ws_csv_table_parse(const struct ws_csv_table *t, const char *name,
		       const char *data, size_t len, struct ws_error *err);

/* A field holding a ';'-separated list: each item trimmed, empty items
 * dropped, appended to *v (malloc'd strings; free with ws_strv_free). */
void ws_csv_split_list(const char *s, char ***v, size_t *n);

#endif
