/*
 * ws_str.h - small string helpers shared by several modules.
 */
#ifndef WS_STR_H
#define WS_STR_H

#include <stddef.h>

/*
 * Compare dotted numeric versions ("1.10" > "1.9", "10.0.22631" <
 * "10.0.22631.4317"; a missing component counts as 0, anything after a
 * component's digits up to the next '.' is ignored).  With `b_parts_only`
 * only as many components as `b` has are compared, as USMT's version
 * conditions do: ("6.0.6001", "6.0") compares equal.  Returns <0, 0, >0.
 */
int ws_version_cmp(const char *a, const char *b, int b_parts_only);

/*
 * USMT's user patterns (/ui /ue, winstate's users-include/-exclude): is the
 * account DOMAIN\\user ("" domain = unknown) with this SID matched by one
 * of the patterns (fnmatch, case-insensitive)?  A pattern with a backslash
 * is matched against "DOMAIN\\user" when the domain is known, else its part
 * after the last backslash against the user name; a pattern without one
 * against the user name and the SID.
 */
int ws_account_match(const char *const *pats, size_t n, const char *domain,
		     const char *user, const char *sid);

#endif
