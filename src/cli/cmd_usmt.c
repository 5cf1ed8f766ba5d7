/*
 * cmd_usmt.c - `winstate scanstate`, `winstate loadstate`, `winstate
 * usmtutils`: USMT's command lines (cli_usmt.c translates them) run through
 * the native commands' own entries, so they parse, check and do exactly
 * what `winstate scan`, `apply`, `verify`, `extract` or `rules genconfig` do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_usmt.h"

/* Print a word so that a shell reads it back the same. */
static void put_word(FILE *f, const char *w)
{
	int plain = *w != '\0';

	for (const char *p = w; *p && plain; p++)
		plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "0123456789_./:=@%+,-", *p) != NULL;
	if (plain) {
		fputs(w, f);
		return;
	}
	fputc('\'', f);
	for (const char *p = w; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", f);
		else
			fputc(*p, f);
	}
	fputc('\'', f);
}

static void show_line(const char *name, const char *what, const struct cli_usmt_line *l)
{
	fprintf(stderr, "winstate %s: %s: winstate", name, what);
	for (int i = 0; i < l->argc; i++) {
		fputc(' ', stderr);
		put_word(stderr, l->argv[i]);
	}
	fputc('\n', stderr);
}

/* USMT's /keyfile is a text file holding the key string: its first line. */
static int read_key_file(const char *name, const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t len;

	if (!f)
		return cli_usage(name, "cannot read /keyfile %s", path);
	if (!fgets(buf, (int)n, f))
		buf[0] = '\0';
	fclose(f);
	if (!strncmp(buf, "\xef\xbb\xbf", 3))
		memmove(buf, buf + 3, strlen(buf + 3) + 1);
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (!len)
		return cli_usage(name, "/keyfile %s holds no key on its first line", path);
	return WS_OK;
}

static int run(int tool, const char *name, int argc, char **argv)
{
	struct cli_usmt_line l;
	char key[1024];
	int rc;

	if (argc < 2) {
		/* nothing given: what USMT's tools do, the usage (on stderr: an error) */
		fputs(cli_usmt_usage(tool), stderr);
		return WS_E_USAGE;
	}
	if (cli_usmt_translate(tool, argc, argv, &l)) {
		rc = cli_usage(name, "%s", l.error);
		goto out;
	}
	if (l.help || l.say) {
		fputs(l.help ? cli_usmt_usage(tool) : l.say, stdout);
		rc = WS_OK;
		goto out;
	}
	for (size_t i = 0; i < l.n_notes; i++)
		fprintf(stderr, "winstate %s: warning: %s\n", name, l.notes[i]);
	if (l.key || l.key_file) {
		if (l.key)
			snprintf(key, sizeof(key), "%s", l.key);
		else if ((rc = read_key_file(name, l.key_file, key, sizeof(key))))
			goto out;
		setenv(CLI_USMT_KEY_ENV, key, 1);
		memset(key, 0, sizeof(key));
		/* the copy is in the environment: none left in /proc/PID/cmdline */
		if (l.key_arg)
			memset(l.key_arg, 'x', strlen(l.key_arg));
	}
	if (l.show)
		show_line(name, "running", &l);
	if (!strcmp(l.argv[0], "scan"))
		rc = cmd_scan(l.argc, l.argv);
	else if (!strcmp(l.argv[0], "apply"))
		rc = cmd_apply(l.argc, l.argv);
	else if (!strcmp(l.argv[0], "verify"))
		rc = cmd_verify(l.argc, l.argv);
	else if (!strcmp(l.argv[0], "extract"))
		rc = cmd_extract(l.argc, l.argv);
	else
		rc = cmd_rules(l.argc, l.argv);
	/* a usage error names winstate's options: show what they came from */
	if (rc == WS_E_USAGE && !l.show)
		show_line(name, "the command was", &l);
	if (l.key || l.key_file)
		unsetenv(CLI_USMT_KEY_ENV);
out:
	cli_usmt_line_release(&l);
	return rc;
}

int cmd_scanstate(int argc, char **argv)
{
	return run(CLI_USMT_SCANSTATE, "scanstate", argc, argv);
}

int cmd_loadstate(int argc, char **argv)
{
	return run(CLI_USMT_LOADSTATE, "loadstate", argc, argv);
}

int cmd_usmtutils(int argc, char **argv)
{
	return run(CLI_USMT_USMTUTILS, "usmtutils", argc, argv);
}
