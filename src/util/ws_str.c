/* ws_str.c - small string helpers. */
#include "ws_str.h"

#include <stdlib.h>

/* Value of the component at *p and advance past it and its '.'. */
static unsigned long next_part(const char **p)
{
	char *end;
	unsigned long v = strtoul(*p, &end, 10);

	if (end == *p)
		v = 0;
	*p = end;
	while (**p && **p != '.')
		(*p)++;
	if (**p == '.')
		(*p)++;
	return v;
}

int ws_version_cmp(const char *a, const char *b, int b_parts_only)
{
	while (*b || (*a && !b_parts_only)) {
		unsigned long x = next_part(&a);
		unsigned long y = next_part(&b);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}
