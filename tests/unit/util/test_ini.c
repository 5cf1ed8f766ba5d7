/* test_ini.c - ws_ini_next: line ends (LF, CR LF, lone CR, none at the
 * end), sections closed or not, key lines with blanks around key and value,
 * comments, lines with NUL bytes, and spans that point into the text. */
#include "tu.h"

#include <string.h>

#include "util/ws_ini.h"

static int span(const char *b, const char *e, const char *want)
{
	return b && (size_t)(e - b) == strlen(want) && !memcmp(b, want, strlen(want));
}

static void lines_and_spans(void **state)
{
	static const char text[] = "[Profile0]\r\n  Path = C:\\x y \t\n; Path=no\r"
				   "#Path=no\n[Install\nName=\n=v\nplain\n\n[a]b\nK=v";
	const char *p = text, *end = text + sizeof(text) - 1;
	struct ws_ini_line l[16];
	size_t n = 0;
	(void)state;

	while (p < end && n < 16)
		p = ws_ini_next(p, end, &l[n++]);
	assert_int_equal(n, 11);
	assert_int_equal(l[0].kind, WS_INI_SECTION);
	assert_true(span(l[0].nb, l[0].ne, "Profile0"));
	assert_true(span(l[0].b, l[0].e, "[Profile0]"));
	assert_int_equal(l[1].kind, WS_INI_KEY);
	assert_true(span(l[1].nb, l[1].ne, "Path"));
	assert_true(span(l[1].vb, l[1].ve, "C:\\x y"));
	assert_int_equal(l[2].kind, WS_INI_OTHER);   /* ends at a lone CR */
	assert_int_equal(l[3].kind, WS_INI_OTHER);
	assert_int_equal(l[4].kind, WS_INI_SECTION); /* not closed: no name */
	assert_null(l[4].nb);
	assert_int_equal(l[5].kind, WS_INI_KEY);
	assert_true(span(l[5].nb, l[5].ne, "Name") && l[5].vb == l[5].ve);
	assert_int_equal(l[6].kind, WS_INI_KEY);
	assert_true(l[6].nb == l[6].ne && span(l[6].vb, l[6].ve, "v"));
	assert_int_equal(l[7].kind, WS_INI_OTHER);
	assert_int_equal(l[8].kind, WS_INI_OTHER);   /* empty line */
	assert_int_equal(l[9].kind, WS_INI_SECTION);
	assert_true(span(l[9].nb, l[9].ne, "a"));
	assert_int_equal(l[10].kind, WS_INI_KEY);    /* the last, no end of line */
	assert_true(span(l[10].vb, l[10].ve, "v"));
	assert_ptr_equal(p, end);
	/* spans point into the text, so a value can be rewritten in place */
	assert_ptr_equal(l[1].vb, strstr(text, "C:\\x"));
}

static void nul_bytes_are_text(void **state)
{
	static const char text[] = "K=a\0b\nL=c";
	const char *end = text + sizeof(text) - 1, *p;
	struct ws_ini_line l;
	(void)state;

	p = ws_ini_next(text, end, &l);
	assert_int_equal(l.kind, WS_INI_KEY);
	assert_int_equal(l.ve - l.vb, 3);
	p = ws_ini_next(p, end, &l);
	assert_true(span(l.vb, l.ve, "c"));
	assert_ptr_equal(p, end);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_and_spans),
		cmocka_unit_test(nul_bytes_are_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
