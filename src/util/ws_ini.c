/*
 * ws_ini.c - INI text one line at a time (ws_ini.h).
 */
#include "util/ws_ini.h"

#include <string.h>

static const char *skip_blanks(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static const char *trim_blanks(const char *b, const char *e)
{
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return e;
}

const char *ws_ini_next(const char *p, const char *end, struct ws_ini_line *l)
{
	const char *le = p, *q, *qe, *c;

	while (le < end && *le != '\n' && *le != '\r')
		le++;
	memset(l, 0, sizeof(*l));
	l->b = p;
	l->e = le;
	q = skip_blanks(p, le);
	qe = trim_blanks(q, le);
	if (q < qe && *q == '[') {
		l->kind = WS_INI_SECTION;
		if ((c = memchr(q, ']', (size_t)(qe - q)))) {
			l->nb = q + 1;
			l->ne = c;
		}
	} else if (q < qe && *q != ';' && *q != '#' && (c = memchr(q, '=', (size_t)(qe - q)))) {
		l->kind = WS_INI_KEY;
		l->nb = q;
		l->ne = trim_blanks(q, c);
		l->vb = skip_blanks(c + 1, qe);
		l->ve = qe;
	}
	if (le < end && *le == '\r' && le + 1 < end && le[1] == '\n')
		le++;
	return le < end ? le + 1 : end;
}
