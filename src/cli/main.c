/*
 * main.c - the winstate program: global options and dispatch of subcommands
 * from a table to one file each (cmd_<name>.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

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
	{ NULL, NULL, NULL }
};

static void usage(FILE *out)
{
	fprintf(out, "usage: winstate <command> [options]\n"
		     "       winstate --help | --version\n\ncommands:\n");
	for (const struct cli_command *c = commands; c->name; c++)
		fprintf(out, "  %-8s %s\n", c->name, c->summary);
	fprintf(out, "\nRun 'winstate <command> --help' for the options of a command.\n"
		     "Exit codes are listed in docs/exit-codes.md.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return WS_E_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return WS_HELP;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("winstate %s\n", WS_VERSION);
		return WS_OK;
	}
	for (const struct cli_command *c = commands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "winstate: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return WS_E_USAGE;
}
