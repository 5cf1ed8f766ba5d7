/*
 * ws_csv.c - CSV records for the inventories (ws_csv.h).
 */
#include "util/ws_csv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ws_csv_init(struct ws_csv *c, const char *data, size_t len)
{
	c->p = data;
	c->end = data + len;
	c->line = 1;
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		c->p += 3;
}

static void rec_clear(struct ws_csv_rec *r)
{
	for (size_t i = 0; i < r->alloc; i++)
		ws_buf_reset(&r->f[i]);
	r->n = 0;
}

void ws_csv_rec_release(struct ws_csv_rec *r)
{
	for (size_t i = 0; i < r->alloc; i++)
		ws_buf_release(&r->f[i]);
	free(r->f);
	memset(r, 0, sizeof(*r));
}

static struct ws_buf *rec_field(struct ws_csv_rec *r)
{
	if (r->n == r->alloc) {
		size_t old = r->alloc;

		r->alloc = old ? old * 2 : 8;
		r->f = ws_xrealloc(r->f, r->alloc * sizeof(*r->f));
		for (size_t i = old; i < r->alloc; i++)
			ws_buf_init(&r->f[i]);
	}
	ws_buf_reset(&r->f[r->n]);
	return &r->f[r->n++];
}

/* Skip to just after the end of the current physical line. */
void ws_csv_skip_line(struct ws_csv *c)
{
	while (c->p < c->end && *c->p != '\n')
		c->p++;
	if (c->p < c->end) {
		c->p++;
		c->line++;
	}
}

/*
 * One record (quoted fields may span lines).  Returns 1 with a record, 0 at
 * the end, -1 when malformed (`why` says how; the cursor is then after the
 * record's first line so reading resumes there).
 */
int ws_csv_next(struct ws_csv *c, struct ws_csv_rec *r, const char **why)
{
	const char *start = c->p;
	long start_line = c->line;
	struct ws_buf *f;

	rec_clear(r);
	if (c->p >= c->end)
		return 0;
	f = rec_field(r);
	while (c->p < c->end) {
		char ch = *c->p;

		if (ch == '"' && !f->len) {
			c->p++;
			for (;;) {
				if (c->p >= c->end) {
					*why = "unbalanced quote";
					c->p = start;
					c->line = start_line;
					ws_csv_skip_line(c);
					return -1;
				}
				if (*c->p == '"') {
					if (c->p + 1 < c->end && c->p[1] == '"') {
						ws_buf_addch(f, '"');
						c->p += 2;
						continue;
					}
					c->p++;
					break;
				}
				if (*c->p == '\n')
					c->line++;
				ws_buf_addch(f, *c->p++);
			}
			/* after a closing quote: separator or end of line */
			while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
				c->p++;
			if (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
			    *c->p != '\r') {
				*why = "text after a closing quote";
				c->p = start;
				c->line = start_line;
				ws_csv_skip_line(c);
				return -1;
			}
			continue;
		}
		if (ch == ',') {
			f = rec_field(r);
			c->p++;
			continue;
		}
		if (ch == '\r' && c->p + 1 < c->end && c->p[1] == '\n') {
			c->p++;
			continue;
		}
		if (ch == '\n') {
			c->p++;
			c->line++;
			return 1;
		}
		if (ch == '"') {
			*why = "quote inside an unquoted field";
			c->p = start;
			c->line = start_line;
			ws_csv_skip_line(c);
			return -1;
		}
		ws_buf_addch(f, ch);
		c->p++;
	}
	return 1;
}

void ws_csv_trim(struct ws_buf *b)
{
	size_t s = 0, e = b->len;

	while (s < e && (b->buf[s] == ' ' || b->buf[s] == '\t'))
		s++;
	while (e > s && (b->buf[e - 1] == ' ' || b->buf[e - 1] == '\t' ||
			 b->buf[e - 1] == '\r'))
		e--;
	memmove(b->buf, b->buf + s, e - s);
	ws_buf_setlen(b, e - s);
}


/* ---- tables with a header line ------------------------------------------ */

/* The record's fields by column (see ws_csv_table_parse), "" when absent. */
static void table_values(const struct ws_csv_table *t, const long *col,
			 const struct ws_csv_rec *r, const char **v)
{
	for (size_t j = 0; j < t->ncols; j++)
		v[j] = col[j] >= 0 && (size_t)col[j] < r->n ? r->f[col[j]].buf : "";
}

/* 1 when the record is an empty line (or only blanks). */
static int rec_empty(const struct ws_csv_rec *r)
{
	return r->n == 0 || (r->n == 1 && r->f[0].len == 0);
}

int ws_csv_table_parse(const struct ws_csv_table *t, const char *name,
		       const char *data, size_t len, struct ws_error *err)
{
	struct ws_csv c;
	struct ws_csv_rec r = WS_CSV_REC_INIT;
	struct ws_buf why = WS_BUF_INIT;
	const char *cwhy = NULL;
	long *col = ws_xcalloc(t->ncols, sizeof(*col));
	const char **v = ws_xcalloc(t->ncols, sizeof(*v));
	long header_line;
	size_t ncols;
	int rc = WS_OK, k;

	ws_csv_init(&c, data, len);
	for (;;) {
		header_line = c.line;
		if (c.p < c.end && *c.p == '#') {
			ws_csv_skip_line(&c);
			continue;
		}
		k = ws_csv_next(&c, &r, &cwhy);
		if (k <= 0) {
			if (k < 0)
				rc = ws_error_set(err, WS_E_USAGE, name, "%s", cwhy);
			else
				rc = ws_error_set(err, WS_E_USAGE, name,
						  "inventory has no header line (%s)", t->shape);
			ws_error_at(err, header_line, 0);
			goto out;
		}
		for (size_t i = 0; i < r.n; i++)
			ws_csv_trim(&r.f[i]);
		if (!rec_empty(&r))
			break;
	}
	ncols = r.n;
	for (size_t j = 0; j < t->ncols; j++)
		col[j] = -1;
	for (size_t i = 0; i < ncols; i++)
		for (size_t j = 0; j < t->ncols; j++)
			if (col[j] < 0 && !strcasecmp(r.f[i].buf, t->cols[j]))
				col[j] = (long)i;
	if (col[t->key] < 0) {
		rc = ws_error_set(err, WS_E_USAGE, name, "inventory header has no '%s' column (%s)",
				  t->cols[t->key], t->shape);
		ws_error_at(err, header_line, 0);
		goto out;
	}
	for (;;) {
		long line = c.line;

		if (c.p < c.end && *c.p == '#') {
			ws_csv_skip_line(&c);
			continue;
		}
		k = ws_csv_next(&c, &r, &cwhy);
		if (k == 0)
			break;
		ws_buf_reset(&why);
		if (k < 0) {
			for (size_t j = 0; j < t->ncols; j++)
				v[j] = "";
			ws_buf_addf(&why, "%s: line skipped", cwhy);
			t->bad(t->ctx, line, v, why.buf);
			continue;
		}
		for (size_t i = 0; i < r.n; i++)
			ws_csv_trim(&r.f[i]);
		if (rec_empty(&r))
			continue;
		table_values(t, col, &r, v);
		if (r.n != ncols) {
			ws_buf_addf(&why, "%zu fields where the header has %zu: line skipped",
				    r.n, ncols);
			t->bad(t->ctx, line, v, why.buf);
		} else if (!*v[t->key]) {
			ws_buf_addf(&why, "no %s: line skipped", t->key_what);
			t->bad(t->ctx, line, v, why.buf);
		} else {
			t->row(t->ctx, line, v);
		}
	}
out:
	ws_buf_release(&why);
	ws_csv_rec_release(&r);
	free(col);
	free(v);
	return rc;
}

void ws_csv_split_list(const char *s, char ***v, size_t *n)
{
	size_t alloc = *n;

	while (*s) {
		const char *semi = strchr(s, ';');
		size_t len = semi ? (size_t)(semi - s) : strlen(s);
		struct ws_buf b = WS_BUF_INIT;

		ws_buf_add(&b, s, len);
		ws_csv_trim(&b);
		if (b.len) {
			WS_ALLOC_GROW(*v, *n + 1, alloc);
			(*v)[(*n)++] = ws_buf_detach(&b, NULL);
		}
		ws_buf_release(&b);
		s += len;
		if (*s == ';')
			s++;
	}
}
