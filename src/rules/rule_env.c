/*
 * rule_env.c - variables: the case-insensitive name -> value map the scanner
 * fills per context, chained environments for component <environment>
 * blocks, %VAR% expansion, and the list of names USMT recognises.
 */
#include "rules_private.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct rule_env_entry {
	char *name;
	char *value;
	size_t len;                     /* strlen(name) */
};

struct rule_env {
	const struct rule_env *parent;  /* looked up when a name is not here */
	struct rule_env_entry *v;
	size_t n, alloc;
};

struct rule_env *rule_env_new(void)
{
	return ws_xcalloc(1, sizeof(struct rule_env));
}

struct rule_env *rule_env_child(const struct rule_env *parent)
{
	struct rule_env *e = rule_env_new();

	e->parent = parent;
	return e;
}

void rule_env_free(struct rule_env *env)
{
	if (!env)
		return;
	for (size_t i = 0; i < env->n; i++) {
		free(env->v[i].name);
		free(env->v[i].value);
	}
	free(env->v);
	free(env);
}

static struct rule_env_entry *find(const struct rule_env *env, const char *name,
				   size_t len)
{
	/* the length and the first letter but for case before the whole
	 * compare: every variable of every pattern is looked up */
	unsigned char c0 = len ? ((unsigned char)name[0] | 0x20) : 0;

	for (size_t i = 0; i < env->n; i++) {
		const struct rule_env_entry *e = &env->v[i];

		if (e->len == len && (!len || ((unsigned char)e->name[0] | 0x20) == c0) &&
		    !strncasecmp(e->name, name, len))
			return &env->v[i];
	}
	return NULL;
}

void rule_env_set(struct rule_env *env, const char *name, const char *value)
{
	struct rule_env_entry *e = find(env, name, strlen(name));

	if (e) {
		free(e->value);
		e->value = ws_xstrdup(value);
		return;
	}
	WS_ALLOC_GROW(env->v, env->n + 1, env->alloc);
	env->v[env->n].name = ws_xstrdup(name);
	env->v[env->n].value = ws_xstrdup(value);
	env->v[env->n].len = strlen(name);
	env->n++;
}

static const char *get_n(const struct rule_env *env, const char *name, size_t len)
{
	for (; env; env = env->parent) {
		struct rule_env_entry *e = find(env, name, len);

		if (e)
			return e->value;
	}
	return NULL;
}

const char *rule_env_get(const struct rule_env *env, const char *name)
{
	return get_n(env, name, strlen(name));
}

static int expand(const struct rule_env *env, const char *in, struct ws_buf *out,
		  char *missing, size_t missing_len, int depth)
{
	const char *p = in;

	while (*p) {
		const char *end;
		const char *val;

		if (*p != '%') {
			/* up to the next '%' in one append */
			const char *q = strchr(p, '%');
			size_t l = q ? (size_t)(q - p) : strlen(p);

			ws_buf_add(out, p, l);
			p += l;
			continue;
		}
		end = strchr(p + 1, '%');
		/* "%%", a lone '%' or "% not a name %" stay literal */
		if (!end || end == p + 1 || memchr(p + 1, ' ', (size_t)(end - p - 1)) ||
		    memchr(p + 1, '\\', (size_t)(end - p - 1))) {
			ws_buf_addch(out, *p++);
			continue;
		}
		val = get_n(env, p + 1, (size_t)(end - p - 1));
		if (!val) {
			if (missing && missing_len) {
				size_t l = (size_t)(end - p - 1);

				if (l >= missing_len)
					l = missing_len - 1;
				memcpy(missing, p + 1, l);
				missing[l] = 0;
			}
			return -1;
		}
		if (depth < RULE_MAX_EXPAND_DEPTH && strchr(val, '%')) {
			if (expand(env, val, out, missing, missing_len, depth + 1) < 0)
				return -1;
		} else {
			ws_buf_adds(out, val);
		}
		if (out->len > RULE_MAX_PATTERN_LEN * 4) {
			if (missing && missing_len)
				snprintf(missing, missing_len, "%s", "(expansion too long)");
			return -1;
		}
		p = end + 1;
	}
	return 0;
}

int rule_env_expand(const struct rule_env *env, const char *in,
		    struct ws_buf *out, char *missing, size_t missing_len)
{
	return expand(env, in, out, missing, missing_len, 0);
}

/* usmt.md 1.4: system-and-user names first, then user-only names. */
static const char *const known_vars[] = {
	/* machine-wide (fill in every context) */
	"ALLUSERSAPPDATA", "ALLUSERSPROFILE", "COMMONPROGRAMFILES",
	"COMMONPROGRAMFILES(X86)", "CSIDL_COMMON_ADMINTOOLS", "CSIDL_COMMON_ALTSTARTUP",
	"CSIDL_COMMON_APPDATA", "CSIDL_COMMON_DESKTOPDIRECTORY", "CSIDL_COMMON_DOCUMENTS",
	"CSIDL_COMMON_FAVORITES", "CSIDL_COMMON_MUSIC", "CSIDL_COMMON_PICTURES",
	"CSIDL_COMMON_PROGRAMS", "CSIDL_COMMON_STARTMENU", "CSIDL_COMMON_STARTUP",
	"CSIDL_COMMON_TEMPLATES", "CSIDL_COMMON_VIDEO", "CSIDL_DEFAULT_APPDATA",
	"CSIDL_DEFAULT_LOCAL_APPDATA", "CSIDL_DEFAULT_COOKIES", "CSIDL_DEFAULT_CONTACTS",
	"CSIDL_DEFAULT_DESKTOP", "CSIDL_DEFAULT_DOWNLOADS", "CSIDL_DEFAULT_FAVORITES",
	"CSIDL_DEFAULT_HISTORY", "CSIDL_DEFAULT_INTERNET_CACHE", "CSIDL_DEFAULT_PERSONAL",
	"CSIDL_DEFAULT_MYDOCUMENTS", "CSIDL_DEFAULT_MYPICTURES", "CSIDL_DEFAULT_MYMUSIC",
	"CSIDL_DEFAULT_MYVIDEO", "CSIDL_DEFAULT_RECENT", "CSIDL_DEFAULT_SENDTO",
	"CSIDL_DEFAULT_STARTMENU", "CSIDL_DEFAULT_PROGRAMS", "CSIDL_DEFAULT_STARTUP",
	"CSIDL_DEFAULT_TEMPLATES", "CSIDL_DEFAULT_QUICKLAUNCH", "CSIDL_FONTS",
	"CSIDL_PROGRAM_FILESX86", "CSIDL_PROGRAM_FILES_COMMONX86", "CSIDL_PROGRAM_FILES",
	"CSIDL_PROGRAM_FILES_COMMON", "CSIDL_RESOURCES", "CSIDL_SYSTEM", "CSIDL_WINDOWS",
	"DEFAULTUSERPROFILE", "PROFILESFOLDER", "PROGRAMFILES", "PROGRAMFILES(X86)",
	"SYSTEM", "SYSTEM16", "SYSTEM32", "SYSTEMPROFILE", "SYSTEMROOT", "WINDIR",
	/* commonly used by real files though not in the doc's table */
	"SYSTEMDRIVE", "PROGRAMDATA", "PUBLIC",
	/* per user: from FIRST_USER_VAR on */
	"APPDATA", "CSIDL_ADMINTOOLS", "CSIDL_ALTSTARTUP", "CSIDL_APPDATA",
	"CSIDL_BITBUCKET", "CSIDL_CDBURN_AREA", "CSIDL_CONNECTIONS", "CSIDL_CONTACTS",
	"CSIDL_CONTROLS", "CSIDL_COOKIES", "CSIDL_DESKTOP", "CSIDL_DESKTOPDIRECTORY",
	"CSIDL_DRIVES", "CSIDL_FAVORITES", "CSIDL_HISTORY", "CSIDL_INTERNET",
	"CSIDL_INTERNET_CACHE", "CSIDL_LOCAL_APPDATA", "CSIDL_MYDOCUMENTS",
	"CSIDL_MYMUSIC", "CSIDL_MYPICTURES", "CSIDL_MYVIDEO", "CSIDL_NETHOOD",
	"CSIDL_NETWORK", "CSIDL_PERSONAL", "CSIDL_PLAYLISTS", "CSIDL_PRINTERS",
	"CSIDL_PRINTHOOD", "CSIDL_PROFILE", "CSIDL_PROGRAMS", "CSIDL_RECENT",
	"CSIDL_SENDTO", "CSIDL_STARTMENU", "CSIDL_STARTUP", "CSIDL_TEMPLATES",
	"HOMEPATH", "TEMP", "TMP", "USERPROFILE", "USERSID", "LOCALAPPDATA",
	/* UAC VirtualStore, used by Microsoft's MigApp.xml (per user) */
	"CSIDL_VIRTUALSTORE_PROGRAMFILES", "CSIDL_VIRTUALSTORE_PROGRAMFILES(X86)",
	"CSIDL_VIRTUALSTORE_COMMONPROGRAMFILES",
	"CSIDL_VIRTUALSTORE_COMMONPROGRAMFILES(X86)",
	NULL
};

#define FIRST_USER_VAR "APPDATA"

const char *const *rule_known_variables(void)
{
	return known_vars;
}

/* known_vars' indexes in name order (equal names by index), made once:
 * the loader asks about every variable it reads */
static size_t nknown, first_user;
static unsigned short by_name[sizeof(known_vars) / sizeof(known_vars[0])];
static pthread_once_t by_name_once = PTHREAD_ONCE_INIT;

static int cmp_known(const void *a, const void *b)
{
	unsigned short x = *(const unsigned short *)a, y = *(const unsigned short *)b;
	int c = strcmp(known_vars[x], known_vars[y]);

	return c ? c : (x > y) - (x < y);
}

static void by_name_make(void)
{
	first_user = (size_t)-1;
	for (nknown = 0; known_vars[nknown]; nknown++) {
		by_name[nknown] = (unsigned short)nknown;
		if (first_user == (size_t)-1 && !strcmp(known_vars[nknown], FIRST_USER_VAR))
			first_user = nknown;
	}
	qsort(by_name, nknown, sizeof(by_name[0]), cmp_known);
}

int rule_variable_scope(const char *name)
{
	/* the names are upper case ASCII, none this long: `name` upper-cased
	 * once, then strcmp */
	char up[64];
	size_t l, lo = 0, hi;

	for (l = 0; name[l]; l++) {
		if (l + 1 >= sizeof(up))
			return 0;
		up[l] = name[l] >= 'a' && name[l] <= 'z' ? (char)(name[l] - 32) : name[l];
	}
	up[l] = 0;
	pthread_once(&by_name_once, by_name_make);
	/* the first of the names equal to up (the lowest index) */
	hi = nknown;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(known_vars[by_name[mid]], up) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == nknown || strcmp(known_vars[by_name[lo]], up))
		return 0;
	return by_name[lo] >= first_user ? RULE_CTX_USER : RULE_CTX_USER_AND_SYSTEM;
}

/* `a`/`b` if it is a folder; else NULL, and the path is added to `tried`
 * (", "-separated) so an error can say where we looked. */
static char *dir_if_exists(const char *a, const char *b, struct ws_buf *tried)
{
	struct ws_buf p = WS_BUF_INIT;
	struct stat st;

	ws_buf_adds(&p, a);
	if (b) {
		if (p.len && p.buf[p.len - 1] != '/')
			ws_buf_addch(&p, '/');
		ws_buf_adds(&p, b);
	}
	if (stat(p.buf, &st) == 0 && S_ISDIR(st.st_mode))
		return ws_buf_detach(&p, NULL);
	if (tried) {
		if (tried->len)
			ws_buf_adds(tried, ", ");
		ws_buf_adds(tried, p.buf);
	}
	ws_buf_release(&p);
	return NULL;
}

char *rule_find_default_dir(const char *exe_dir, struct ws_buf *tried)
{
	const char *env = getenv("WS_RULES_DIR");
	/* Beside the binary first (boot media: winstate and rules/ side by
	 * side), then the installed layout relative to it (a moved prefix still
	 * works), then a build tree in the sources. */
	static const char *const rel[] = { "rules", "../share/winstate/rules",
					   "../rules", "../../rules" };
	char *d = NULL;

	if (env && *env && (d = dir_if_exists(env, NULL, tried)))
		return d;
	for (size_t i = 0; exe_dir && i < sizeof(rel) / sizeof(rel[0]); i++)
		if ((d = dir_if_exists(exe_dir, rel[i], tried)))
			return d;
#ifdef WS_RULES_DIR_DEFAULT
	if ((d = dir_if_exists(WS_RULES_DIR_DEFAULT, NULL, tried)))
		return d;
#endif
	return NULL;
}

char *rule_default_dir(const char *exe_dir)
{
	return rule_find_default_dir(exe_dir, NULL);
}
