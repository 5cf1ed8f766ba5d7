/*
 * cli_usmt.c - USMT command lines into winstate's: one table of every
 * ScanState, LoadState and UsmtUtils option with what winstate does with
 * it (maps it to its own option, does not need it and says why, or refuses
 * it because ignoring it would change the result), and the translation
 * into the argv of the native command (cmd_scan, cmd_apply, cmd_verify,
 * rules genconfig), which then parses and runs it as if typed.
 */
#include "cli/cli_usmt.h"

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/cli_text.h"
#include "scan/scan.h"
#include "util/ws_buf.h"

#define SS (1u << CLI_USMT_SCANSTATE)
#define LS (1u << CLI_USMT_LOADSTATE)
#define UU (1u << CLI_USMT_USMTUTILS)

enum { A_NONE, A_REQ, A_OPT };  /* A_OPT: a value only after a colon */

enum {
	O_IGNORE, O_REFUSE, O_HELP, O_I, O_CONFIG, O_GENCONFIG, O_WINDIR, O_WINOLD,
	O_UI, O_UE, O_UEL, O_ALL, O_O, O_V, O_L, O_PROGRESS, O_C, O_P, O_LISTFILES,
	O_ENCRYPT, O_DECRYPT, O_KEY, O_KEYFILE, O_AUTO, O_MU, O_MD, O_VERIFY,
	O_EC, O_EXTRACT, O_XI, O_XE
};

struct uopt {
	const char *name;       /* as USMT's documents write it, without the slash
				   (matched case-insensitively) */
	unsigned tools;
	int arg;
	int what;
	const char *why;        /* O_IGNORE / O_REFUSE: the reason */
	const char *native;     /* the winstate option, for hints and help */
};

static const char why_retry[] =
	"winstate does not retry: the store is a local or mounted folder, and a "
	"device that failed is scanned again with 'winstate scan --only-failed'";
static const char why_format[] =
	"the store is winstate's own (compressed, deduplicated); there is no format to "
	"choose, and 'winstate extract' writes a scan's files as a plain folder";

static const struct uopt uopts[] = {
	{ "?", SS | LS | UU, A_NONE, O_HELP, NULL, "--help" },
	{ "help", SS | LS | UU, A_NONE, O_HELP, NULL, "--help" },
	{ "i", SS | LS, A_REQ, O_I, NULL, "--rules" },
	{ "config", SS | LS, A_REQ, O_CONFIG, NULL, "--config" },
	{ "genconfig", SS, A_REQ, O_GENCONFIG, NULL, "rules genconfig -o" },
	{ "offlineWinDir", SS | LS, A_REQ, O_WINDIR, NULL, "--source / --target" },
	{ "offlineWinOld", SS, A_REQ, O_WINOLD, NULL, "--source" },
	{ "offline", SS | LS, A_REQ, O_REFUSE,
	  "an Offline.xml names Windows folders by drive letter (C:\\Windows), which mean "
	  "nothing here: give /offlineWinDir:PATH, the installation's Windows folder", NULL },
	{ "ui", SS | LS, A_REQ, O_UI, NULL, "--users-include" },
	{ "ue", SS | LS, A_REQ, O_UE, NULL, "--users-exclude" },
	{ "uel", SS | LS, A_REQ, O_UEL, NULL, "--users-since" },
	{ "all", SS | LS, A_NONE, O_ALL, NULL, NULL },
	{ "o", SS | UU, A_NONE, O_O, NULL, NULL },
	{ "v", SS | LS | UU, A_REQ, O_V, NULL, "--verbose" },
	{ "l", SS | LS | UU, A_REQ, O_L, NULL, "--log" },
	{ "progress", SS | LS, A_REQ, O_PROGRESS, NULL, "--progress-log" },
	{ "c", SS | LS, A_NONE, O_C, NULL, "--continue-on-error" },
	{ "r", SS | LS, A_REQ, O_IGNORE, why_retry, NULL },
	{ "w", SS | LS, A_REQ, O_IGNORE, why_retry, NULL },
	{ "p", SS, A_OPT, O_P, NULL, "--estimate" },
	{ "listfiles", SS, A_REQ, O_LISTFILES, NULL, "--list-files" },
	{ "encrypt", SS, A_OPT, O_ENCRYPT, NULL, "--encrypt" },
	{ "decrypt", LS | UU, A_OPT, O_DECRYPT, NULL, NULL },
	{ "key", SS | LS | UU, A_REQ, O_KEY, NULL, "--passphrase-env" },
	{ "keyfile", SS | LS | UU, A_REQ, O_KEYFILE, NULL, "--passphrase-env" },
	{ "nocompress", SS | LS, A_NONE, O_IGNORE, why_format, NULL },
	{ "hardlink", SS | LS, A_NONE, O_IGNORE,
	  "winstate makes no hard-link stores: files are copied into the store, once each "
	  "(deduplicated), and the source is never changed", NULL },
	{ "vsc", SS, A_NONE, O_IGNORE,
	  "an offline installation has no file in use: no shadow copy is needed", NULL },
	{ "localonly", SS, A_NONE, O_IGNORE,
	  "offline only the installation's own volume is read: there is no removable or "
	  "network drive to leave out", NULL },
	{ "efs", SS, A_REQ, O_IGNORE,
	  "EFS files get no special handling offline (no certificate can decrypt them "
	  "here): a file is stored as the file system gives it, and one it cannot read "
	  "is an error like any unreadable file (/c skips it)", NULL },
	{ "apps", SS, A_NONE, O_IGNORE,
	  "winstate always records users' Store apps and reinstalls them at sign-in", NULL },
	{ "ppkg", SS, A_REQ, O_REFUSE, "winstate writes no provisioning package", NULL },
	{ "genmigxml", SS, A_REQ, O_REFUSE,
	  "winstate has no document finder to export its rules; 'winstate rules genconfig' "
	  "lists the components found on an installation", NULL },
	{ "auto", SS | LS, A_OPT, O_AUTO, NULL, "--rules" },
	{ "targetwindows7", SS, A_NONE, O_IGNORE,
	  "a winstate store does not depend on the target's Windows version", NULL },
	{ "targetwindows8", SS, A_NONE, O_IGNORE,
	  "a winstate store does not depend on the target's Windows version", NULL },
	{ "mu", LS, A_REQ, O_MU, NULL, "--map-user" },
	{ "md", LS, A_REQ, O_MD, NULL, "--map-domain" },
	{ "lac", LS, A_OPT, O_REFUSE,
	  "winstate creates no accounts: a user without a profile on the target is staged "
	  "for the first sign-in instead (apply's auto mode), so leave /lac out", NULL },
	{ "lae", LS, A_NONE, O_REFUSE,
	  "winstate creates no accounts (see /lac): leave /lac and /lae out", NULL },
	{ "verify", UU, A_OPT, O_VERIFY, NULL, "verify --store" },
	{ "extract", UU, A_NONE, O_EXTRACT, NULL, "extract --store --to" },
	{ "rd", UU, A_NONE, O_REFUSE,
	  "winstate makes no hard-link stores: remove a store's folder with rm -r", NULL },
	{ "ec", UU, A_NONE, O_EC, NULL, NULL },
	{ "y", UU, A_NONE, O_IGNORE, "nothing asks for confirmation here", NULL },
	{ "i", UU, A_REQ, O_XI, NULL, "--include" },
	{ "e", UU, A_REQ, O_XE, NULL, "--exclude" },
	{ NULL, 0, 0, 0, NULL, NULL }
};

static const char *const tool_names[] = { "scanstate", "loadstate", "usmtutils" };

/* ---- building the lines --------------------------------------------------- */

static void push(struct cli_usmt_line *l, const char *s)
{
	WS_ALLOC_GROW(l->argv, (size_t)l->argc + 2, l->alloc);
	l->argv[l->argc++] = ws_xstrdup(s);
	l->argv[l->argc] = NULL;
}

static void push2(struct cli_usmt_line *l, const char *opt, const char *val)
{
	push(l, opt);
	push(l, val);
}

static void note(struct cli_usmt_line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct cli_usmt_line *l, const char *fmt, ...)
{
	va_list ap;
	char buf[768];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	WS_ALLOC_GROW(l->notes, l->n_notes + 1, l->alloc_notes);
	l->notes[l->n_notes++] = ws_xstrdup(buf);
}

static int refuse(struct cli_usmt_line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int refuse(struct cli_usmt_line *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->error, sizeof(l->error), fmt, ap);
	va_end(ap);
	return -1;
}

void cli_usmt_line_release(struct cli_usmt_line *l)
{
	for (int i = 0; i < l->argc; i++)
		free(l->argv[i]);
	free(l->argv);
	for (size_t i = 0; i < l->n_notes; i++)
		free(l->notes[i]);
	free(l->notes);
	memset(l, 0, sizeof(*l));
}

/* ---- reading words ---------------------------------------------------------- */

static const struct uopt *find_opt(int tool, const char *name, size_t len)
{
	for (const struct uopt *o = uopts; o->name; o++)
		if ((o->tools & (1u << tool)) && strlen(o->name) == len &&
		    !strncasecmp(o->name, name, len))
			return o;
	return NULL;
}

/* "/name[:value]" of this tool's table?  A path (/mnt/store: a second
 * slash before any colon) or an existing file is a positional word. */
static int is_option_word(int tool, const char *w, const struct uopt **o, size_t *nlen)
{
	const char *colon;
	size_t len;
	struct stat st;

	if (w[0] != '/')
		return 0;
	colon = strchr(w + 1, ':');
	len = colon ? (size_t)(colon - (w + 1)) : strlen(w + 1);
	*nlen = len;
	*o = find_opt(tool, w + 1, len);
	if (*o)
		return 1;
	if (memchr(w + 1, '/', len) || stat(w, &st) == 0)
		return 0;
	return 1;  /* an unknown option */
}

/* The closest option of this tool to a mistyped one. */
static const char *closest(int tool, const char *name, size_t len)
{
	const char *cands[64];
	char word[64];
	size_t n = 0;

	for (const struct uopt *o = uopts; o->name && n < 64; o++)
		if ((o->tools & (1u << tool)) && isalpha((unsigned char)o->name[0]))
			cands[n++] = o->name;
	snprintf(word, sizeof(word), "%.*s", (int)len, name);
	return cli_closest(word, cands, n);
}

/* ---- paths -------------------------------------------------------------------- */

static int has_windows_child(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d)))
		found = !strcasecmp(e->d_name, "Windows");
	closedir(d);
	return found;
}

static const char *base_of(const char *p, size_t len)
{
	const char *b = p + len;

	while (b > p && b[-1] != '/')
		b--;
	return b;
}

/*
 * The installation's root from the Windows folder USMT names.  /offlineWinDir
 * names the Windows folder: its parent.  /offlineWinOld names Windows.old,
 * which holds Windows\ and Users\ like a volume root (its Windows folder is
 * accepted too).  A disk or image (not a folder) is passed as it is: scan
 * finds the installation on it.
 */
static int root_of(struct cli_usmt_line *l, const char *opt, const char *path, int old,
		   struct ws_buf *out)
{
	size_t len = strlen(path);
	struct stat st;
	const char *b;
	int is_windows;

	ws_buf_reset(out);
	if (!len)
		return refuse(l, "%s needs the installation's Windows folder", opt);
	if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
		ws_buf_add(out, path, len);
		return 0;
	}
	while (len > 1 && path[len - 1] == '/')
		len--;
	b = base_of(path, len);
	is_windows = path + len - b == 7 && !strncasecmp(b, "windows", 7);
	if (old && !is_windows) {
		ws_buf_add(out, path, len);
		return 0;
	}
	if (!old && !is_windows && has_windows_child(path))
		return refuse(l, "%s names the Windows folder (%.*s/Windows), not the volume "
			      "that holds it (%.*s)", opt, (int)len, path, (int)len, path);
	if (b == path) {                 /* "Windows": the current folder */
		ws_buf_addf(out, ".");
		return 0;
	}
	if (b - path == 1) {             /* "/Windows" */
		ws_buf_addf(out, "/");
		return 0;
	}
	ws_buf_add(out, path, (size_t)(b - path - 1));
	return 0;
}

/* ---- translation ---------------------------------------------------------------- */

struct state {
	int tool;
	const char *store;
	const char *root_opt;        /* "/offlineWinDir" as typed */
	struct ws_buf root;
	int have_root;
	const char *genconfig, *verify_mode;
	int verify, extract;
	const char *dest;            /* /extract's second positional word */
	struct cli_usmt_line xi, xe; /* /extract's /i and /e patterns */
	int all, ui, ue, uel, o, encrypt, estimate, verbose;
	const char *first_mapped;    /* for /genconfig's "not with" */
};

static int add_verbosity(struct cli_usmt_line *l, struct state *s, const char *word,
			 const char *val)
{
	char *end;
	long v = strtol(val, &end, 10);

	/* USMT's levels: a sum of 1 (verbose), 4 (status), 8 (debugger) */
	if (!*val || *end || v < 0 || v > 13 || (v & 2))
		return refuse(l, "%s: the level is 0, 1, 4, 5, 8, 9, 12 or 13 (a sum of 1 verbose, "
			      "4 status, 8 debugger)", word);
	if (v & 8)
		note(l, "%s: there is no debugger port: messages go to the terminal and the log", word);
	if (v & 1)
		s->verbose = 1;
	return 0;
}

int cli_usmt_translate(int tool, int argc, char **argv, struct cli_usmt_line *l)
{
	const char *name = tool_names[tool];
	struct cli_usmt_line pre;    /* options, in order; the command goes first */
	struct state s;
	struct ws_error err;
	unsigned days;
	int64_t since;
	int i, rc = 0, rest = argc;

	memset(l, 0, sizeof(*l));
	memset(&pre, 0, sizeof(pre));
	memset(&s, 0, sizeof(s));
	s.tool = tool;
	s.root = (struct ws_buf)WS_BUF_INIT;
	for (i = 1; i < argc && !rc; i++) {
		const char *w = argv[i], *val = NULL;
		const struct uopt *o = NULL;
		size_t nlen = 0;

		if (!strcmp(w, "--")) {
			rest = i + 1;
			break;
		}
		if (!strcmp(w, "--help") || !strcmp(w, "-h") || !strcmp(w, "-?")) {
			l->help = 1;
			continue;
		}
		if (!strcmp(w, "--verbose") || !strcmp(w, "-v")) {
			l->show = 1;   /* only show the winstate command line */
			continue;
		}
		if (w[0] == '-') {
			rc = refuse(l, "'%s': USMT options start with '/' (%s /? lists them); "
				    "winstate's own go after '--'", w, name);
			break;
		}
		if (!is_option_word(tool, w, &o, &nlen)) {
			if (s.store && tool == CLI_USMT_USMTUTILS && !s.dest) {
				s.dest = w;   /* /extract STORE DEST */
				continue;
			}
			if (s.store) {
				rc = refuse(l, "one store only: '%s' and '%s'", s.store, w);
				break;
			}
			s.store = w;
			continue;
		}
		if (!o) {
			const char *best = closest(tool, w + 1, nlen);

			if (best)
				rc = refuse(l, "unknown option '%.*s' (did you mean /%s?)",
					    (int)nlen + 1, w, best);
			else
				rc = refuse(l, "unknown option '%.*s' (%s /? lists %s's options)",
					    (int)nlen + 1, w, name, name);
			break;
		}
		if (w[1 + nlen] == ':') {
			val = w + 2 + nlen;
			if (o->arg == A_NONE) {
				rc = refuse(l, "/%s takes no value: '%s'", o->name, w);
				break;
			}
		} else if (o->arg == A_REQ) {
			/* USMT: "either a colon or a space separator" */
			if (i + 1 >= argc) {
				rc = refuse(l, "/%s needs a value (/%s:VALUE)", o->name, o->name);
				break;
			}
			val = argv[++i];
			if (o->what == O_KEY)
				l->key_arg = argv[i];
		}
		if (o->arg == A_REQ && !*val) {
			rc = refuse(l, "/%s needs a value (/%s:VALUE)", o->name, o->name);
			break;
		}
		switch (o->what) {
		case O_HELP:
			l->help = 1;
			break;
		case O_IGNORE:
			note(l, "%s ignored: %s", w, o->why);
			break;
		case O_REFUSE:
			rc = refuse(l, "/%s is not supported: %s", o->name, o->why);
			break;
		case O_I:
			push2(&pre, "--rules", val);
			break;
		case O_CONFIG:
			if (tool == CLI_USMT_LOADSTATE) {
				note(l, "%s ignored: a Config.xml acts at capture (scanstate /config): "
				     "the store holds only what it let through, and apply restores that",
				     w);
				break;
			}
			push2(&pre, "--config", val);
			s.first_mapped = s.first_mapped ? s.first_mapped : "/config";
			break;
		case O_GENCONFIG:
			s.genconfig = val;
			break;
		case O_WINDIR:
		case O_WINOLD:
			if (s.have_root) {
				rc = refuse(l, "one installation only: /offlineWinDir or /offlineWinOld, once");
				break;
			}
			s.root_opt = o->what == O_WINDIR ? "/offlineWinDir" : "/offlineWinOld";
			rc = root_of(l, s.root_opt, val, o->what == O_WINOLD, &s.root);
			s.have_root = 1;
			break;
		case O_UI:
		case O_UE:
		case O_UEL:
			if (o->what == O_UI)
				push2(&pre, "--users-include", val), s.ui = 1;
			else if (o->what == O_UE)
				push2(&pre, "--users-exclude", val), s.ue = 1;
			else if (s.uel)
				rc = refuse(l, "/uel once only");
			else if (scan_users_since_parse(val, &days, &since, &err))
				rc = refuse(l, "%s: %s", w, err.msg);
			else
				push2(&pre, "--users-since", val), s.uel = 1;
			s.first_mapped = s.first_mapped ? s.first_mapped : "/ui /ue /uel";
			break;
		case O_ALL:
			s.all = 1;
			break;
		case O_O:
			s.o = 1;
			if (tool == CLI_USMT_SCANSTATE)
				note(l, "%s: not needed: a winstate store keeps every scan; this one is "
				     "added as the device's newest, and 'winstate prune' removes old ones",
				     w);
			else
				note(l, "%s ignored: winstate extract never replaces a file: one that "
				     "exists is reported and left (extract into an empty folder)", w);
			break;
		case O_V:
			rc = add_verbosity(l, &s, w, val);
			break;
		case O_L:
			push2(&pre, "--log", val);
			break;
		case O_PROGRESS:
			push2(&pre, "--progress-log", val);
			s.first_mapped = s.first_mapped ? s.first_mapped : "/progress";
			break;
		case O_C:
			if (tool == CLI_USMT_LOADSTATE) {
				note(l, "%s ignored: apply stops at the first error with every change "
				     "journaled ('winstate undo' reverts them); it skips nothing", w);
				break;
			}
			push(&pre, "--continue-on-error");
			s.first_mapped = s.first_mapped ? s.first_mapped : "/c";
			break;
		case O_P:
			s.estimate = 1;
			if (val && *val)
				note(l, "%s: the estimate is printed; no XML report is written to %s", w, val);
			s.first_mapped = s.first_mapped ? s.first_mapped : "/p";
			break;
		case O_LISTFILES:
			push2(&pre, "--list-files", val);
			s.first_mapped = s.first_mapped ? s.first_mapped : "/listfiles";
			break;
		case O_ENCRYPT:
			s.encrypt = 1;
			if (val && *val)
				note(l, "%s: the store is encrypted with XChaCha20-Poly1305 "
				     "(docs/store-format.md) whatever algorithm is named", w);
			s.first_mapped = s.first_mapped ? s.first_mapped : "/encrypt";
			break;
		case O_DECRYPT:
			note(l, "%s: not needed: an encrypted store is recognised as such; "
			     "/key or /keyfile gives its key", w);
			break;
		case O_KEY:
			if (l->key)
				rc = refuse(l, "/key once only");
			l->key = val;
			if (!l->key_arg)
				l->key_arg = (char *)w;
			break;
		case O_KEYFILE:
			if (l->key_file)
				rc = refuse(l, "/keyfile once only");
			l->key_file = val;
			break;
		case O_AUTO:
			if (val && *val) {
				struct ws_buf p = WS_BUF_INIT;

				ws_buf_addf(&p, "%s/MigDocs.xml", val);
				push2(&pre, "--rules", p.buf);
				ws_buf_reset(&p);
				ws_buf_addf(&p, "%s/MigApp.xml", val);
				push2(&pre, "--rules", p.buf);
				ws_buf_release(&p);
			} else {
				note(l, "%s: winstate's own rules (USMT's MigDocs.xml and MigApp.xml are "
				     "not shipped with winstate; /auto:DIR reads them from DIR)", w);
			}
			s.verbose = 1;   /* /auto = /i:MigDocs.xml /i:MigApp.xml /v:5 */
			break;
		case O_MU: {
			/* /mu:OldDomain\OldUser:[NewDomain\]NewUser */
			const char *c = strchr(val, ':');
			struct ws_buf m = WS_BUF_INIT;

			if (!c || c == val || !c[1]) {
				rc = refuse(l, "/mu takes OldDomain\\OldUser:[NewDomain\\]NewUser, not '%s'",
					    val);
				break;
			}
			ws_buf_addf(&m, "%.*s=%s", (int)(c - val), val, c + 1);
			push2(&pre, "--map-user", m.buf);
			ws_buf_release(&m);
			break;
		}
		case O_MD: {
			const char *c = strchr(val, ':');
			struct ws_buf m = WS_BUF_INIT;

			if (!c || c == val || !c[1] || strchr(c + 1, ':')) {
				rc = refuse(l, "/md takes OldDomain:NewDomain, not '%s'", val);
				break;
			}
			if (memchr(val, '*', (size_t)(c - val))) {
				rc = refuse(l, "/md: winstate maps whole domain names, no wildcard: give "
					    "each old domain its own /md");
				break;
			}
			ws_buf_addf(&m, "%.*s=%s", (int)(c - val), val, c + 1);
			push2(&pre, "--map-domain", m.buf);
			ws_buf_release(&m);
			break;
		}
		case O_VERIFY:
			s.verify = 1;
			s.verify_mode = val && *val ? val : "summary";
			if (strcasecmp(s.verify_mode, "summary") && strcasecmp(s.verify_mode, "all") &&
			    strcasecmp(s.verify_mode, "failureonly") &&
			    strcasecmp(s.verify_mode, "catalog"))
				rc = refuse(l, "/verify takes summary, all, failureonly or catalog, not '%s'",
					    val);
			else if (!strcasecmp(s.verify_mode, "all"))
				note(l, "%s: verify lists only the damaged files (every other one is "
				     "intact)", w);
			break;
		case O_EXTRACT:
			s.extract = 1;
			break;
		case O_XI:
		case O_XE: {
			/* USMT: patterns separated by commas or semicolons */
			char *copy = ws_xstrdup(val), *save = NULL;

			for (char *p = strtok_r(copy, ",;", &save); p; p = strtok_r(NULL, ",;", &save)) {
				while (*p == ' ')
					p++;
				for (size_t n = strlen(p); n && p[n - 1] == ' '; n--)
					p[n - 1] = '\0';
				if (*p)
					push(o->what == O_XI ? &s.xi : &s.xe, p);
			}
			free(copy);
			break;
		}
		case O_EC:
			l->say = "winstate encrypts stores with XChaCha20-Poly1305, the key derived "
				 "from the passphrase (/key, /keyfile) with Argon2id, or a 32-byte key "
				 "file (winstate's --key-file): there is no algorithm to choose.\n";
			break;
		}
	}
	if (rc || l->help || l->say)
		goto out;

	/* the combinations USMT refuses, and what every line needs */
	if (s.all && (s.ui || s.ue || s.uel)) {
		rc = refuse(l, "/all takes every user: not with /ui, /ue or /uel");
		goto out;
	}
	if (l->key && l->key_file) {
		rc = refuse(l, "/key and /keyfile are exclusive");
		goto out;
	}
	if (tool == CLI_USMT_SCANSTATE && s.genconfig) {
		struct stat st;

		if (s.store) {
			rc = refuse(l, "/genconfig writes a Config.xml and no store: no store path "
				    "('%s')", s.store);
			goto out;
		}
		if (s.first_mapped || s.estimate || s.encrypt || l->key || l->key_file) {
			rc = refuse(l, "/genconfig takes only /i, /v, /l and /o (and the "
				    "installation): not with %s", s.first_mapped ? s.first_mapped :
				    s.estimate ? "/p" : s.encrypt ? "/encrypt" : "/key");
			goto out;
		}
		if (!s.o && stat(s.genconfig, &st) == 0) {
			rc = refuse(l, "%s exists: /o overwrites it", s.genconfig);
			goto out;
		}
	}
	if (!s.have_root && tool != CLI_USMT_USMTUTILS) {
		rc = refuse(l, "winstate %s offline installations only: give /offlineWinDir:PATH, "
			    "the %s installation's Windows folder%s",
			    tool == CLI_USMT_SCANSTATE ? "scans" : "applies to",
			    tool == CLI_USMT_SCANSTATE ? "source" : "target",
			    tool == CLI_USMT_SCANSTATE ? " (/offlineWinOld:PATH for a Windows.old)" : "");
		goto out;
	}
	if (tool == CLI_USMT_USMTUTILS && s.verify == s.extract) {
		rc = refuse(l, "give /verify or /extract (or /ec), one of them");
		goto out;
	}
	if (s.extract) {
		int named = 0;

		for (int k = rest; k < argc; k++)
			named |= !strcmp(argv[k], "--device") || !strncmp(argv[k], "--device=", 9);
		if (!s.dest) {
			rc = refuse(l, "/extract STORE DEST: the folder to extract into is missing");
			goto out;
		}
		if (!named) {
			rc = refuse(l, "/extract: a winstate store holds many devices: name the one "
				    "after '--' (usmtutils /extract STORE DEST -- --device NAME; "
				    "'winstate list --store STORE' lists them)");
			goto out;
		}
	} else if (s.dest) {
		rc = refuse(l, "one store only: '%s' and '%s'", s.store, s.dest);
		goto out;
	}
	if (s.xi.argc && s.xe.argc)
		note(l, "/e ignored: with /i only the files /i matches are extracted, and "
		     "include beats exclude");
	if (!s.store && !(tool == CLI_USMT_SCANSTATE && s.genconfig)) {
		rc = refuse(l, "the store path is missing (%s STORE ...)", name);
		goto out;
	}
	if (tool == CLI_USMT_SCANSTATE && s.encrypt && !l->key && !l->key_file) {
		rc = refuse(l, "/encrypt needs /key or /keyfile");
		goto out;
	}

	/* the winstate command, then the options in the order given */
	if (tool == CLI_USMT_SCANSTATE && s.genconfig) {
		push(l, "rules");
		push(l, "genconfig");
		l->sub = 1;
		push2(l, "--source", s.root.buf);
		push2(l, "-o", s.genconfig);
	} else if (tool == CLI_USMT_SCANSTATE) {
		push(l, "scan");
		push2(l, "--source", s.root.buf);
		if (s.estimate)
			push(l, "--estimate");
		else
			push2(l, "--store", s.store);
		if (s.encrypt)
			push(l, "--encrypt");
	} else if (tool == CLI_USMT_LOADSTATE) {
		push(l, "apply");
		push2(l, "--store", s.store);
		push2(l, "--target", s.root.buf);
	} else if (s.extract) {
		push(l, "extract");
		push2(l, "--store", s.store);
		push2(l, "--to", s.dest);
		for (int k = 0; k < s.xi.argc; k++)
			push2(l, "--include", s.xi.argv[k]);
		for (int k = 0; !s.xi.argc && k < s.xe.argc; k++)
			push2(l, "--exclude", s.xe.argv[k]);
	} else {
		push(l, "verify");
		push2(l, "--store", s.store);
		if (strcasecmp(s.verify_mode, "catalog"))
			push(l, "--deep");
	}
	for (int k = 0; k < pre.argc; k++) {
		if ((l->sub || s.verify) && !strcmp(pre.argv[k], "--log")) {
			note(l, "/l:%s ignored: %s writes no log", pre.argv[k + 1],
			     l->sub ? "rules genconfig" : "verify prints its report and");
			k++;
			continue;
		}
		push(l, pre.argv[k]);
	}
	if (l->key || l->key_file)
		push2(l, "--passphrase-env", CLI_USMT_KEY_ENV);
	if (s.verbose && tool != CLI_USMT_USMTUTILS && !l->sub)
		push(l, "--verbose");
	l->show |= s.verbose;
	for (int k = rest; k < argc; k++)
		push(l, argv[k]);
out:
	cli_usmt_line_release(&pre);
	cli_usmt_line_release(&s.xi);
	cli_usmt_line_release(&s.xe);
	ws_buf_release(&s.root);
	return rc;
}

/* ---- help and hints -------------------------------------------------------- */

static const char scanstate_usage[] =
	"usage: winstate scanstate STORE /offlineWinDir:WINDIR [/i:FILE ...] [/config:FILE]\n"
	"                          [/ui:USER ...] [/ue:USER ...] [/uel:DAYS|YYYY/MM/DD]\n"
	"                          [/encrypt /key:KEY|/keyfile:FILE] [/l:FILE] [/progress:FILE]\n"
	"                          [/listfiles:FILE] [/c] [/p] [/v:N] [-- winstate options]\n"
	"       winstate scanstate /offlineWinDir:WINDIR [/i:FILE ...] /genconfig:FILE\n"
	"\n"
	"USMT's ScanState command line, run as 'winstate scan' (or 'winstate rules\n"
	"genconfig' for /genconfig).  Options are case-insensitive; a value follows a\n"
	"colon or comes as the next word.  /v:1 (or more) shows the winstate command.\n"
	"Quote backslashes and wildcards for the shell: '/ue:*\\*' '/ui:CONTOSO\\alice'.\n"
	"\n"
	"  STORE                   --store STORE\n"
	"  /offlineWinDir:WINDIR   --source: the installation's Windows folder, e.g.\n"
	"                          /mnt/win/Windows (its parent is the volume); a disk or\n"
	"                          image is passed as it is\n"
	"  /offlineWinOld:DIR      --source DIR, a Windows.old folder\n"
	"  /i:FILE                 --rules FILE (repeatable; none: winstate's own rules)\n"
	"  /config:FILE            --config FILE\n"
	"  /genconfig:FILE         rules genconfig -o FILE (no store; /o to overwrite)\n"
	"  /auto[:DIR]             --rules DIR/MigDocs.xml --rules DIR/MigApp.xml\n"
	"  /ui:USER  /ue:USER      --users-include USER, --users-exclude USER\n"
	"  /uel:DAYS|YYYY/MM/DD    --users-since (0, the users signed in now, is refused:\n"
	"                          offline nobody is signed in)\n"
	"  /all                    every user (the default)\n"
	"  /encrypt[:ALG]          --encrypt (always XChaCha20-Poly1305)\n"
	"  /key:KEY  /keyfile:FILE the passphrase, or a text file holding it, through\n"
	"                          --passphrase-env " CLI_USMT_KEY_ENV "\n"
	"  /l:FILE                 --log FILE\n"
	"  /progress:FILE          --progress-log FILE\n"
	"  /listfiles:FILE         --list-files FILE\n"
	"  /c                      --continue-on-error\n"
	"  /p[:FILE]               --estimate (nothing written; FILE is not written)\n"
	"  /v:N                    N with 1 (1, 5, 9, 13): --verbose\n"
	"\n"
	"Not needed, a warning each: /o /r /w /nocompress /hardlink /vsc /localonly /efs\n"
	"/apps /targetwindows7 /targetwindows8.  Refused (exit 11): /offline (drive\n"
	"letters), /ppkg, /genmigxml.  The whole table: docs/usmt.md.\n";

static const char loadstate_usage[] =
	"usage: winstate loadstate STORE /offlineWinDir:WINDIR [/i:FILE ...]\n"
	"                          [/mu:OLD:NEW ...] [/md:OLD:NEW ...] [/ui:USER ...]\n"
	"                          [/ue:USER ...] [/uel:DAYS|YYYY/MM/DD]\n"
	"                          [/key:KEY|/keyfile:FILE] [/l:FILE] [/v:N]\n"
	"                          [-- winstate options]\n"
	"\n"
	"USMT's LoadState command line, run as 'winstate apply' onto the offline\n"
	"installation /offlineWinDir names.  Options are case-insensitive; a value\n"
	"follows a colon or comes as the next word.  /v:1 (or more) shows the winstate\n"
	"command.  Words after '--' go to apply as they are (--device NAME when the\n"
	"target's computer name is not the scanned device's, --dry-run).\n"
	"Quote backslashes for the shell: '/mu:CONTOSO\\old:FABRIKAM\\new'.\n"
	"\n"
	"  STORE                   --store STORE\n"
	"  /offlineWinDir:WINDIR   --target: the target's Windows folder (its parent is\n"
	"                          the volume)\n"
	"  /i:FILE                 --rules FILE (LoadState rules; none: the scan's)\n"
	"  /auto[:DIR]             --rules DIR/MigDocs.xml --rules DIR/MigApp.xml\n"
	"  /mu:DOM\\OLD:[DOM\\]NEW   --map-user DOM\\OLD=[DOM\\]NEW\n"
	"  /md:OLD:NEW             --map-domain OLD=NEW\n"
	"  /ui:USER  /ue:USER      --users-include USER, --users-exclude USER: which of\n"
	"                          the scan's users are applied\n"
	"  /uel:DAYS|YYYY/MM/DD    --users-since (0 is refused: nobody is signed in)\n"
	"  /key:KEY  /keyfile:FILE the passphrase, or a text file holding it, through\n"
	"                          --passphrase-env " CLI_USMT_KEY_ENV "\n"
	"  /l:FILE                 --log FILE\n"
	"  /progress:FILE          --progress-log FILE\n"
	"  /v:N                    N with 1 (1, 5, 9, 13): --verbose\n"
	"  /all                    every user of the scan (the default)\n"
	"\n"
	"Not needed, a warning each: /config /decrypt /c /r /w /nocompress /hardlink.\n"
	"Refused (exit 11): /lac and /lae (no accounts are created: users without a\n"
	"profile are staged for their first sign-in), /md with a wildcard.  The whole\n"
	"table: docs/usmt.md.\n";

static const char usmtutils_usage[] =
	"usage: winstate usmtutils /verify[:summary|all|failureonly|catalog] STORE\n"
	"                          [/key:KEY|/keyfile:FILE]\n"
	"       winstate usmtutils /extract STORE DEST [/i:PATTERNS] [/e:PATTERNS]\n"
	"                          [/key:KEY|/keyfile:FILE] -- --device NAME\n"
	"       winstate usmtutils /ec\n"
	"\n"
	"USMT's UsmtUtils command line: /verify runs 'winstate verify', /extract\n"
	"'winstate extract'.\n"
	"\n"
	"  /verify[:MODE] STORE    verify --store STORE --deep (catalog: without --deep)\n"
	"  /extract STORE DEST     extract --store STORE --to DEST; a store holds many\n"
	"                          devices: give the one after '--' (--device NAME)\n"
	"  /i:PATTERNS /e:PATTERNS --include / --exclude, one per pattern of the comma or\n"
	"                          semicolon separated list (with /i, /e changes nothing)\n"
	"  /key:KEY  /keyfile:FILE the passphrase of an encrypted store, through\n"
	"                          --passphrase-env " CLI_USMT_KEY_ENV "\n"
	"  /ec                     the encryption winstate uses (nothing to choose)\n"
	"\n"
	"Not needed, a warning each: /l /v /decrypt /o (extract never replaces a file)\n"
	"/y.  Refused (exit 11): /rd (no hard-link stores).  The whole table:\n"
	"docs/usmt.md.\n";

const char *cli_usmt_usage(int tool)
{
	switch (tool) {
	case CLI_USMT_SCANSTATE: return scanstate_usage;
	case CLI_USMT_LOADSTATE: return loadstate_usage;
	default: return usmtutils_usage;
	}
}

int cli_usmt_hint(const char *cmd, const char *arg, char *buf, size_t n)
{
	int tool;
	const struct uopt *o;
	const char *native;
	size_t len;

	if (!strcmp(cmd, "scan"))
		tool = CLI_USMT_SCANSTATE;
	else if (!strcmp(cmd, "apply"))
		tool = CLI_USMT_LOADSTATE;
	else if (!strcmp(cmd, "verify"))
		tool = CLI_USMT_USMTUTILS;
	else
		return 0;
	if (!is_option_word(tool, arg, &o, &len) || !o)
		return 0;
	native = o->native;
	if (o->what == O_WINDIR)
		native = tool == CLI_USMT_SCANSTATE ? "--source (the Windows folder's parent)" :
						      "--target (the Windows folder's parent)";
	if (tool == CLI_USMT_LOADSTATE && (o->what == O_CONFIG || o->what == O_C))
		native = NULL;
	if (native && native[0] == '-')
		snprintf(buf, n, "USMT's /%s is %s here, or run 'winstate %s', which reads "
			 "USMT's syntax", o->name, native, tool_names[tool]);
	else
		snprintf(buf, n, "that is USMT's syntax: 'winstate %s' reads it", tool_names[tool]);
	return 1;
}
