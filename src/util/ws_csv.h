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

#endif
