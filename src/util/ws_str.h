/*
 * ws_str.h - small string helpers shared by several modules.
 */
#ifndef WS_STR_H
#define WS_STR_H

/*
 * Compare dotted numeric versions ("1.10" > "1.9", "10.0.22631" <
 * "10.0.22631.4317"; a missing component counts as 0, anything after a
 * component's digits up to the next '.' is ignored).  With `b_parts_only`
 * only as many components as `b` has are compared, as USMT's version
 * conditions do: ("6.0.6001", "6.0") compares equal.  Returns <0, 0, >0.
 */
int ws_version_cmp(const char *a, const char *b, int b_parts_only);

#endif
