/*
 * cli_text.c - "did you mean" for mistyped options and commands, and the
 * words for what getopt_long refused (main sets opterr = 0, so these are
 * the only messages a bad option gets).
 */
#include "cli/cli_text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_usmt.h"

size_t cli_edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *block, *prev2, *prev, *cur, best = cap + 1;

	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	block = calloc(3 * (lb + 1), sizeof(size_t));
	if (!block)
		return cap + 1;
	prev2 = block;
	prev = block + lb + 1;
	cur = prev + lb + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t row_min, *t;

		cur[0] = row_min = i;
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
			size_t d = prev[j - 1] + (ca != cb);

			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			/* a swap of two neighbours ("tagret") is one slip */
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
			if (d < row_min)
				row_min = d;
		}
		if (row_min > cap)
			goto out;
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	best = prev[lb] > cap ? cap + 1 : prev[lb];
out:
	free(block);
	return best;
}

const char *cli_closest(const char *word, const char *const *cands, size_t n)
{
	size_t len = strlen(word), cap = 1 + len / 4, best_d = (size_t)-1;
	const char *best = NULL;

	if (!len)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t d = cli_edit_distance(word, cands[i], cap);

		if (d <= cap && d < len && d < best_d) {
			best = cands[i];
			best_d = d;
		}
	}
	return best;
}

const char *cli_closest_option(const char *word, const struct option *opts)
{
	const char *names[128];
	size_t n = 0;

	for (const struct option *o = opts; o->name && n < 128; o++)
		names[n++] = o->name;
	return cli_closest(word, names, n);
}

static const struct option *long_by_val(const struct option *opts, int val)
{
	for (const struct option *o = opts; o->name; o++)
		if (o->val == val && !o->flag)
			return o;
	return NULL;
}

const char *cli_bad_option_text(const struct option *opts, const char *shortopts,
				int argc, char **argv, char *buf, size_t n)
{
	/* getopt_long has moved optind past the word it refused */
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";

	if (!arg)
		arg = "";
	if (!strncmp(arg, "--", 2) && arg[2]) {
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		char word[128];
		const struct option *o = optopt ? long_by_val(opts, optopt) : NULL;

		snprintf(word, sizeof(word), "%.*s", (int)len, name);
		if (o) {
			if (o->has_arg == no_argument)
				snprintf(buf, n, "option '--%s' takes no value", o->name);
			else
				snprintf(buf, n, "option '--%s' needs a value", o->name);
			return buf;
		}
		{
			/* an abbreviation several options start with */
			char list[512] = "";
			size_t hits = 0;

			for (const struct option *p = opts; p->name; p++)
				if (!strncmp(p->name, word, len) && strlen(list) + strlen(p->name) + 5 < sizeof(list)) {
					snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s--%s",
						 hits ? ", " : "", p->name);
					hits++;
				}
			if (hits > 1) {
				snprintf(buf, n, "option '--%s' is ambiguous: %s", word, list);
				return buf;
			}
		}
		{
			const char *best = cli_closest_option(word, opts);

			if (best)
				snprintf(buf, n, "unknown option '--%s' (did you mean --%s?)", word, best);
			else
				snprintf(buf, n, "unknown option '--%s'", word);
		}
		return buf;
	}
	if (optopt > 0 && optopt < 256 && strchr(shortopts, optopt) && optopt != ':' &&
	    optopt != '+') {
		const struct option *o = long_by_val(opts, optopt);

		if (o)
			snprintf(buf, n, "option '-%c' (--%s) needs a value", optopt, o->name);
		else
			snprintf(buf, n, "option '-%c' needs a value", optopt);
		return buf;
	}
	if (optopt > 0 && optopt < 256 && isprint(optopt)) {
		/* in a cluster getopt stays on the word until its last letter */
		const char *w = optind < argc && argv[optind] && argv[optind][0] == '-' &&
				argv[optind][1] != '-' && strchr(argv[optind], optopt) ?
				argv[optind] : arg;

		/* "-dry-run": a long option with one dash */
		if (w[0] == '-' && w[1] && w[1] != '-' && strlen(w) > 2) {
			const char *best = cli_closest_option(w + 1, opts);

			if (best) {
				snprintf(buf, n, "unknown option '-%c' in '%s' (did you mean --%s?)", optopt,
					 w, best);
				return buf;
			}
		}
		snprintf(buf, n, "unknown option '-%c'", optopt);
		return buf;
	}
	snprintf(buf, n, "unknown option '%s'", arg);
	return buf;
}

int cli_bad_option(const char *cmd, const struct option *opts, const char *shortopts,
		   int argc, char **argv)
{
	char buf[768];

	cli_bad_option_text(opts, shortopts, argc, argv, buf, sizeof(buf));
	return cli_usage(cmd, "%s", buf);
}

int cli_unexpected(const char *cmd, const char *arg)
{
	char hint[256];

	if (cli_usmt_hint(cmd, arg, hint, sizeof(hint)))
		return cli_usage(cmd, "unexpected argument '%s': %s", arg, hint);
	return cli_usage(cmd, "unexpected argument '%s'", arg);
}
