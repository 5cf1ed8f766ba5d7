/*
 * cli_json.c - the CLI's JSON writer (cli_json.h): commas, nesting, escaping
 * and the null convention in one place.
 */
#include "cli/cli_json.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void cli_json_init(struct cli_json *j, unsigned base)
{
	memset(j, 0, sizeof(*j));
	ws_buf_init(&j->out);
	j->base = base;
}

void cli_json_release(struct cli_json *j)
{
	ws_buf_release(&j->out);
	memset(j, 0, sizeof(*j));
}

static void indent(struct cli_json *j, unsigned level)
{
	ws_buf_addch(&j->out, '\n');
	for (unsigned i = 0; i < j->base + level; i++)
		ws_buf_adds(&j->out, "  ");
}

/* Separator and key before a value.  Array elements and the members of the
 * top object go on their own lines; other members follow on one line. */
static void member(struct cli_json *j, const char *key)
{
	if (j->depth) {
		unsigned d = j->depth - 1;
		int own_line = j->array[d] || j->depth == 1;

		if (j->count[d])
			ws_buf_addch(&j->out, ',');
		if (own_line)
			indent(j, j->depth);
		else if (j->count[d])
			ws_buf_addch(&j->out, ' ');
		j->count[d] = 1;
		if (!j->array[d]) {
			if (!key)
				abort(); /* an object member needs a key */
			ws_buf_addch(&j->out, '"');
			ws_buf_add_json_str(&j->out, key, strlen(key));
			ws_buf_adds(&j->out, "\": ");
		}
	}
}

static void begin(struct cli_json *j, const char *key, int array)
{
	member(j, key);
	if (j->depth >= CLI_JSON_DEPTH)
		abort();
	ws_buf_addch(&j->out, array ? '[' : '{');
	j->array[j->depth] = (unsigned char)array;
	j->count[j->depth] = 0;
	j->depth++;
}

void cli_json_obj(struct cli_json *j, const char *key)
{
	begin(j, key, 0);
}

void cli_json_arr(struct cli_json *j, const char *key)
{
	begin(j, key, 1);
}

void cli_json_end(struct cli_json *j)
{
	unsigned d;

	if (!j->depth)
		abort();
	d = --j->depth;
	if (j->count[d] && (j->array[d] || d == 0))
		indent(j, d);
	ws_buf_addch(&j->out, j->array[d] ? ']' : '}');
}

void cli_json_strn(struct cli_json *j, const char *key, const char *v, size_t len)
{
	member(j, key);
	if (!v) {
		ws_buf_adds(&j->out, "null");
		return;
	}
	ws_buf_addch(&j->out, '"');
	ws_buf_add_json_str(&j->out, v, len);
	ws_buf_addch(&j->out, '"');
}

void cli_json_str(struct cli_json *j, const char *key, const char *v)
{
	cli_json_strn(j, key, v, v ? strlen(v) : 0);
}

void cli_json_opt(struct cli_json *j, const char *key, const char *v)
{
	cli_json_str(j, key, v && *v ? v : NULL);
}

void cli_json_u64(struct cli_json *j, const char *key, uint64_t v)
{
	member(j, key);
	ws_buf_addf(&j->out, "%" PRIu64, v);
}

void cli_json_i64(struct cli_json *j, const char *key, int64_t v)
{
	member(j, key);
	ws_buf_addf(&j->out, "%" PRId64, v);
}

void cli_json_bool(struct cli_json *j, const char *key, int v)
{
	member(j, key);
	ws_buf_adds(&j->out, v ? "true" : "false");
}

void cli_json_null(struct cli_json *j, const char *key)
{
	member(j, key);
	ws_buf_adds(&j->out, "null");
}

void cli_json_raw(struct cli_json *j, const char *key, const char *json)
{
	member(j, key);
	ws_buf_adds(&j->out, json);
}

const char *cli_json_text(const struct cli_json *j)
{
	return j->out.buf;
}

void cli_json_print(const struct cli_json *j, FILE *f)
{
	fputs(j->out.buf, f);
	fputc('\n', f);
}
