/*
 * ws_csv.c - CSV records for the inventories (ws_csv.h).
 */
#include "util/ws_csv.h"

#include <stdlib.h>
#include <string.h>

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

