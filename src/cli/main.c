/*
 * main.c - the winstate program: global options and dispatch of subcommands
 * from a table to one file each (cmd_<name>.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "cli/cli_text.h"
#include "cli/cli_usmt.h"

static const struct cli_command commands[] = {
	{ "scan", cmd_scan, "capture users' settings and files from offline Windows installations" },
	{ "apply", cmd_apply, "replay a scan onto an offline Windows installation" },
	{ "undo", cmd_undo, "revert an apply from its journal on the target" },
	{ "verify", cmd_verify, "check a store for damage (--deep reads every blob)" },
	{ "list", cmd_list, "list devices and scans, or a scan's content" },
	{ "extract", cmd_extract, "restore a scan's files into a plain folder" },
	{ "prune", cmd_prune, "keep the newest N scans per device, remove unused packs" },
	{ "report", cmd_report, "report a wave: devices, applies, first sign-ins (--html, --csv, --json)" },
	{ "rules", cmd_rules, "lint rule files, explain a decision, write a Config.xml (genconfig)" },
	{ "devices", cmd_devices, "list disks, partitions, BitLocker volumes and Windows installations" },
	{ "scanstate", cmd_scanstate, "USMT ScanState's command line, run as scan (docs/usmt.md)" },
	{ "loadstate", cmd_loadstate, "USMT LoadState's command line, run as apply" },
	{ "usmtutils", cmd_usmtutils, "USMT UsmtUtils /verify and /extract, run as verify and extract" },
	{ NULL, NULL, NULL }
};

static void usage(FILE *out)
{
	fprintf(out, "usage: winstate <command> [options]\n"
		     "       winstate help [<command>] | --help | --version\n\ncommands:\n");
	for (const struct cli_command *c = commands; c->name; c++)
		fprintf(out, "  %-9s %s\n", c->name, c->summary);
	fprintf(out, "\nRun 'winstate help <command>' or 'winstate <command> --help' for the\n"
		     "options of a command.\n"
		     "Exit codes are listed in docs/exit-codes.md.\n");
}

static const struct cli_command *find_command(const char *name)
{
	for (const struct cli_command *c = commands; c->name; c++)
		if (!strcmp(name, c->name))
			return c;
	return NULL;
}

/* "unknown command 'X'" with the closest command's name; exit 11. */
static int unknown_command(const char *name)
{
	const char *names[32];
	size_t n = 0;
	const char *best;

	for (const struct cli_command *c = commands; c->name && n < 32; c++)
		names[n++] = c->name;
	best = cli_closest(name, names, n);
	if (best)
		fprintf(stderr, "winstate: unknown command '%s' (did you mean %s?)\n", name, best);
	else
		fprintf(stderr, "winstate: unknown command '%s'\n", name);
	fprintf(stderr, "Run 'winstate --help' for the list of commands.\n");
	return WS_E_USAGE;
}

/* `winstate help CMD [SUB]`: CMD's own --help (exit 0). */
static int help_command(int argc, char **argv)
{
	const struct cli_command *c;
	char *hargv[4];
	int n = 0;

	if (argc < 3 || !strcmp(argv[2], "help")) {
		usage(stdout);
		return WS_OK;
	}
	if (!(c = find_command(argv[2])))
		return unknown_command(argv[2]);
	hargv[n++] = argv[2];
	if (argc > 3 && c->fn == cmd_rules)
		hargv[n++] = argv[3];  /* a subcommand: `help rules genconfig` */
	hargv[n++] = (char *)"--help";
	hargv[n] = NULL;
	return c->fn(n, hargv);
}

/* An apply holds a batch's new files open until they are linked (two
 * batches, about a thousand files, beside its folders): the soft limit on
 * open files, often 1024, is raised to the hard one, as far as 65536.  The
 * journal makes its batches smaller where that is not enough. */
static void raise_open_files(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 65536)
		rl.rlim_max = 65536;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	const struct cli_command *c;

	raise_open_files();
	/* the commands word every refused option themselves (cli_bad_option) */
	opterr = 0;
	if (argc < 2) {
		usage(stderr);
		return WS_E_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))  {
		usage(stdout);
		return WS_OK;
	}
	if (!strcmp(argv[1], "help"))
		return help_command(argc, argv);
	if (!strcmp(argv[1], "--version")) {
		printf("winstate %s\n", WS_VERSION);
		return WS_OK;
	}
	if ((c = find_command(argv[1])))
		return c->fn(argc - 1, argv + 1);
	if (argv[1][0] == '-') {
		static const struct option top[] = {
			{ "help", no_argument, NULL, 'h' },
			{ "version", no_argument, NULL, 'V' },
			{ NULL, 0, NULL, 0 }
		};
		const char *best = argv[1][1] == '-' ? cli_closest_option(argv[1] + 2, top) : NULL;

		if (best)
			fprintf(stderr, "winstate: unknown option '%s' (did you mean --%s?)\n", argv[1],
				best);
		else
			fprintf(stderr, "winstate: unknown option '%s'\n", argv[1]);
		usage(stderr);
		return WS_E_USAGE;
	}
	return unknown_command(argv[1]);
}
