/* ws_str.c - small string helpers. */
#include "ws_str.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "ws_buf.h"

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

int ws_account_match(const char *const *pats, size_t n, const char *domain,
		     const char *user, const char *sid)
{
	const int fl = FNM_CASEFOLD | FNM_NOESCAPE;
	struct ws_buf full = WS_BUF_INIT;
	int hit = 0;

	if (domain && *domain)
		ws_buf_addf(&full, "%s\\%s", domain, user);
	for (size_t i = 0; !hit && i < n; i++) {
		const char *bs = strrchr(pats[i], '\\');

		if (bs) {
			/* the domain part decides only when the domain is known */
			if (full.len)
				hit = !fnmatch(pats[i], full.buf, fl);
			else
				hit = !fnmatch(bs + 1, user, fl);
			continue;
		}
		hit = !fnmatch(pats[i], user, fl) ||
		      (sid && *sid && !fnmatch(pats[i], sid, fl));
	}
	ws_buf_release(&full);
	return hit;
}
