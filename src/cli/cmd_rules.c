/*
 * cmd_rules.c - `winstate rules`: tools for USMT-language rule files.
 *
 *   winstate rules lint [--config Config.xml] [--quiet] FILE...
 *       Load every file as scan would; print errors and warnings as
 *       "file:line[:col]: error|warning: message" on stderr and a summary on
 *       stdout.  Exit 28 (WS_E_RULES) if any file has an error, else 0.
 *   winstate rules vars
 *       List every variable name USMT recognises, with its scope.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "rules/rules.h"

struct lint_sink {
	unsigned warnings;
};

static void lint_log(void *ctx, int level, const char *where, const char *msg)
{
	struct lint_sink *s = ctx;

	if (level > WS_LOG_WARN)
		return;
	s->warnings++;
	if (*where)
		fprintf(stderr, "%s: %s: %s\n", where, level == WS_LOG_ERROR ? "error" : "warning",
			msg);
	else
		fprintf(stderr, "%s: %s\n", level == WS_LOG_ERROR ? "error" : "warning", msg);
}

static void lint_usage(FILE *out)
{
	fprintf(out,
		"usage: winstate rules lint [--config Config.xml] [--quiet] FILE...\n"
		"       winstate rules vars\n\n"
		"lint   load USMT rule files as scan does and report problems as\n"
		"       file:line:col: message; exit 28 on errors, 0 with warnings only\n"
		"vars   list the variables USMT recognises (user = per-user value)\n");
}

static int cmd_lint(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lint_sink sink = { 0 };
	struct ws_log log = { 0 };
	struct rule_set *rs;
	const char *config = NULL;
	int quiet = 0, c, errors = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': lint_usage(stdout); return WS_HELP;
		default: return cli_usage("rules lint", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage("rules lint", "no rule file given");
	log.fn = lint_log;
	log.ctx = &sink;
	log.max_level = WS_LOG_WARN;
	rs = rule_set_new();
	for (int i = optind; i < argc; i++) {
		struct ws_error err;
		size_t before = rule_set_file_count(rs);
		int rc;

		ws_error_clear(&err);
		rc = rule_set_load_file(rs, argv[i], &log, &err);
		if (rc) {
			char buf[2 * WS_ERROR_TEXT_MAX + 64];

			ws_error_format(&err, buf, sizeof(buf));
			/* ws_error_format gives "where:line:col: msg" */
			if (err.line) {
				char *colon = strstr(buf, ": ");

				if (colon) {
					*colon = 0;
					fprintf(stderr, "%s: error: %s\n", buf, colon + 2);
				} else {
					fprintf(stderr, "%s: error\n", buf);
				}
			} else {
				fprintf(stderr, "%s: error: %s\n", argv[i], err.msg);
			}
			errors++;
			continue;
		}
		if (rule_set_file_count(rs) > before &&
		    !rule_set_file_has_include(rs, rule_set_file_count(rs) - 1)) {
			fprintf(stderr, "%s: warning: no <include> rule: this file selects nothing\n",
				argv[i]);
			sink.warnings++;
		}
	}
	if (config) {
		struct ws_error err;

		ws_error_clear(&err);
		if (rule_set_load_config(rs, config, &log, &err)) {
			fprintf(stderr, "%s: error: %s\n", config, err.msg);
			errors++;
		}
	}
	if (!quiet) {
		size_t skipped = 0;

		for (size_t i = 0; i < rule_set_component_count(rs); i++) {
			struct rule_component_info ci;

			rule_set_component(rs, i, &ci);
			skipped += ci.state != RULE_COMP_ACTIVE;
		}
		printf("%d file(s), %zu component(s) (%zu skipped), %d error(s), %u warning(s)\n",
		       argc - optind, rule_set_component_count(rs), skipped, errors, sink.warnings);
	}
	rule_set_free(rs);
	return errors ? WS_E_RULES : WS_OK;
}

static int cmd_vars(void)
{
	const char *const *v = rule_known_variables();

	for (size_t i = 0; v[i]; i++)
		printf("%-45s %s\n", v[i],
		       rule_variable_scope(v[i]) == RULE_CTX_USER ? "user" : "system+user");
	return WS_OK;
}

int cmd_rules(int argc, char **argv)
{
	if (argc < 2) {
		lint_usage(stderr);
		return WS_E_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		lint_usage(stdout);
		return WS_HELP;
	}
	if (!strcmp(argv[1], "lint"))
		return cmd_lint(argc - 1, argv + 1);
	if (!strcmp(argv[1], "vars"))
		return cmd_vars();
	return cli_usage("rules", "unknown subcommand '%s' (explain and genconfig are not "
				  "available yet)", argv[1]);
}
