/*
 * cli.h - the program's shared pieces: the subcommand table entry, the
 * option parser used by every cmd_<name>.c, and printing of ws_error.
 */
#ifndef CLI_H
#define CLI_H

#include "util/ws_error.h"

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

#endif
