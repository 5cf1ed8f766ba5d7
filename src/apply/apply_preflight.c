/*
 * apply_preflight.c - what file entries may never touch on a target: its
 * registry hives and their logs (machine hives, every profile's NTUSER.DAT
 * and UsrClass.dat), winstate's own folders, the boot files, the paging and
 * hibernation files and System Volume Information.  apply's safety pass asks
 * before the first write, for every file entry of the plan, so a store that
 * names one of them is refused whole (docs/apply.md "Off limits").
 */
#include "apply/apply_private.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/ws_utf.h"

enum { PF_TREE, PF_FILE, PF_PREFIX };

struct apf_rule {
	char *pat;        /* upper-cased components below the root, '\' separated;
			     "*" matches one component */
	int kind;         /* PF_TREE: the path or below; PF_FILE: the path;
			     PF_PREFIX: last component starts with the last pattern one */
	const char *what;
	size_t first;     /* bytes of the pattern's first component */
	const char *last; /* its last component (in pat) */
	size_t last_len;
};

struct apf {
	struct apf_rule *r;
	size_t n, cap;
};

static const char *const HIVE = "a registry hive or one of its logs";

/* "C:\Users" -> "USERS"; NULL when not drive-absolute. */
static char *below_root(const char *win)
{
	struct ws_buf b = WS_BUF_INIT;

	if (!win || !((win[0] | 0x20) >= 'a' && (win[0] | 0x20) <= 'z') || win[1] != ':' ||
	    win[2] != '\\')
		return NULL;
	ws_name_upper(win + 3, &b);
	while (b.len && b.buf[b.len - 1] == '\\')
		ws_buf_setlen(&b, b.len - 1);
	return ws_buf_detach(&b, NULL);
}

static void add(struct apf *p, const char *base, const char *rest, int kind, const char *what)
{
	struct ws_buf b = WS_BUF_INIT;

	if (base) {
		ws_buf_adds(&b, base);
		if (*base && *rest)
			ws_buf_addch(&b, '\\');
	}
	ws_name_upper(rest, &b);
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 32;
		p->r = ws_xrealloc(p->r, p->cap * sizeof(*p->r));
	}
	p->r[p->n].pat = ws_buf_detach(&b, NULL);
	p->r[p->n].first = strcspn(p->r[p->n].pat, "\\");
	p->r[p->n].last = strrchr(p->r[p->n].pat, '\\');
	p->r[p->n].last = p->r[p->n].last ? p->r[p->n].last + 1 : p->r[p->n].pat;
	p->r[p->n].last_len = strlen(p->r[p->n].last);
	p->r[p->n].kind = kind;
	p->r[p->n].what = what;
	p->n++;
}

void apf_add_profile(struct apf *p, const char *profile_win)
{
	char *b = below_root(profile_win);

	if (!b)
		return;
	add(p, b, "NTUSER.DAT", PF_PREFIX, HIVE);
	add(p, b, "NTUSER.MAN", PF_PREFIX, HIVE);
	add(p, b, "AppData\\Local\\Microsoft\\Windows\\UsrClass.dat", PF_PREFIX, HIVE);
	free(b);
}

struct apf *apf_new(struct vol *vol, const char *programdata, const char *profiles_dir)
{
	struct apf *p = ws_xcalloc(1, sizeof(*p));
	const struct vol_info *vi = vol_get_info(vol);
	const struct vol_profile *pr;
	char *sysroot = below_root(vi->system_root), *pd = below_root(programdata),
	     *users = below_root(profiles_dir);
	static const char *const root_files[] = {
		"bootmgr", "BOOTNXT", "BOOTSECT.BAK", "pagefile.sys", "hiberfil.sys",
		"swapfile.sys",
	};
	size_t n;

	if (!sysroot)
		sysroot = ws_xstrdup("WINDOWS");
	add(p, sysroot, "System32\\config", PF_TREE, HIVE);
	add(p, sysroot, "Boot", PF_TREE, "a boot file");
	add(p, NULL, "Boot", PF_TREE, "a boot file");
	add(p, NULL, "EFI", PF_TREE, "a boot file");
	add(p, NULL, "System Volume Information", PF_TREE, "System Volume Information");
	for (size_t i = 0; i < sizeof(root_files) / sizeof(root_files[0]); i++)
		add(p, NULL, root_files[i], PF_FILE, i < 3 ? "a boot file" :
		    "the paging, hibernation or swap file");
	add(p, pd ? pd : "PROGRAMDATA", "winstate", PF_TREE, "winstate's own folder");
	/* every folder of the profiles folder, and every profile anywhere */
	{
		struct ws_buf any = WS_BUF_INIT;

		ws_buf_addf(&any, "%s\\*", users ? users : "USERS");
		add(p, any.buf, "NTUSER.DAT", PF_PREFIX, HIVE);
		add(p, any.buf, "NTUSER.MAN", PF_PREFIX, HIVE);
		add(p, any.buf, "AppData\\Local\\Microsoft\\Windows\\UsrClass.dat", PF_PREFIX,
		    HIVE);
		ws_buf_release(&any);
	}
	pr = vol_profiles(vol, &n);
	for (size_t i = 0; i < n; i++)
		apf_add_profile(p, pr[i].win_path);
	free(sysroot);
	free(pd);
	free(users);
	return p;
}

void apf_free(struct apf *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->r[i].pat);
	free(p->r);
	free(p);
}

/* Does the upper-cased path `s` match rule `r`? */
static int matches(const struct apf_rule *r, const char *s)
{
	const char *q = r->pat;

	for (;;) {
		const char *qe = strchr(q, '\\'), *se = strchr(s, '\\');
		size_t ql = qe ? (size_t)(qe - q) : strlen(q),
		       sl = se ? (size_t)(se - s) : strlen(s);

		if (!qe && r->kind == PF_PREFIX) /* the last pattern component */
			return !se && sl >= ql && !memcmp(s, q, ql);
		if (!(ql == 1 && *q == '*') && (ql != sl || memcmp(q, s, ql)))
			return 0;
		if (!qe) /* the pattern is used up */
			return r->kind == PF_TREE || !se;
		if (!se)
			return 0;
		q = qe + 1;
		s = se + 1;
	}
}

/* Can rule `r` not match a path whose first component is s[0..sl) and
 * whose last is `leaf`?  What matches() would find first, without its
 * string scans: every file entry asks every rule, and most differ in one
 * of them. */
static int cannot_match(const struct apf_rule *r, const char *s, size_t sl, const char *leaf)
{
	const char *q = r->pat;

	if (r->kind == PF_FILE && strcmp(r->last, "*") != 0 && strcmp(leaf, r->last) != 0)
		return 1;
	if (r->kind == PF_PREFIX && strncmp(leaf, r->last, r->last_len) != 0)
		return 1;
	if (r->kind == PF_PREFIX && !q[r->first])
		return 0; /* a prefix test on that component: done above */
	if (r->first == 1 && *q == '*')
		return 0;
	return r->first != sl || memcmp(q, s, sl) != 0;
}

const char *apf_refusal(const struct apf *p, const char *tpath)
{
	char *s = below_root(tpath);
	const char *why = NULL, *leaf;
	size_t sl;

	if (!s)
		return "not a drive-absolute path";
	sl = strcspn(s, "\\");
	leaf = strrchr(s, '\\');
	leaf = leaf ? leaf + 1 : s;
	for (size_t i = 0; i < p->n && !why; i++)
		if (*s && !cannot_match(&p->r[i], s, sl, leaf) && matches(&p->r[i], s))
			why = p->r[i].what;
	free(s);
	return why;
}

int apf_hive_is_link(const char *root, const char *host)
{
	struct stat st;
	char *rr, *rh;
	size_t rl = strlen(root);
	int link;

	if (lstat(host, &st) != 0)
		return 0; /* missing: the writer reports it */
	if (!S_ISREG(st.st_mode))
		return 1;
	/* a folder on the way that is a link shows as a different real path */
	rr = realpath(root, NULL);
	rh = realpath(host, NULL);
	link = !rr || !rh || strncmp(host, root, rl) != 0 ||
	       strncmp(rh, rr, strlen(rr)) != 0 || strcmp(rh + strlen(rr), host + rl) != 0;
	free(rr);
	free(rh);
	return link;
}
