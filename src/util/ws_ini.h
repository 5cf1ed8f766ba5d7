/*
 * ws_ini.h - INI text one line at a time, as the scan's content filters
 * (rules/rule_ini.c) and apply's rewrite of Mozilla's profile lists
 * (apply/apply_mozini.c) both read it: a line ends at LF, CR LF or a lone
 * CR; a section line starts with '[' after blanks; a key line has '=' and
 * does not start with ';' or '#'.  Spans point into the caller's text, so a
 * caller can also rewrite a value in place.  The text is anybody's: nothing
 * is assumed of it but its length (NUL bytes included).
 *
 *   for (const char *p = text; p < end;) {
 *           p = ws_ini_next(p, end, &l);
 *           if (l.kind == WS_INI_KEY) ... [l.nb, l.ne) = [l.vb, l.ve)
 *   }
 */
#ifndef WS_INI_H
#define WS_INI_H

enum ws_ini_kind { WS_INI_OTHER, WS_INI_SECTION, WS_INI_KEY };

struct ws_ini_line {
	const char *b, *e;   /* the line, without its end of line */
	int kind;            /* enum ws_ini_kind */
	/* SECTION: the name between the brackets, both NULL when the bracket
	 * is not closed ("[Profile0" names no section).  KEY: the key and the
	 * value, each without the blanks (space, TAB) around it. */
	const char *nb, *ne;
	const char *vb, *ve;
};

/* Reads the line starting at p (p < end) into *l; returns where the next
 * line starts (end after the last). */
const char *ws_ini_next(const char *p, const char *end, struct ws_ini_line *l);

#endif
