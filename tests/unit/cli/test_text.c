/* test_text.c - "did you mean": edit distance, the closest option of a
 * command's own table, and the words for each option getopt_long refuses. */
#include "tu.h"

#include <getopt.h>
#include <string.h>

#include "cli/cli_text.h"

static const struct option opts[] = {
	{ "store", required_argument, NULL, 256 },
	{ "target", required_argument, NULL, 257 },
	{ "dry-run", no_argument, NULL, 258 },
	{ "users-include", required_argument, NULL, 259 },
	{ "users-exclude", required_argument, NULL, 260 },
	{ "json", no_argument, NULL, 261 },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void distance_counts_slips(void **state)
{
	assert_int_equal(cli_edit_distance("dryrun", "dry-run", 5), 1);
	assert_int_equal(cli_edit_distance("tagret", "target", 5), 1);   /* a swap */
	assert_int_equal(cli_edit_distance("STORE", "store", 5), 0);     /* case */
	assert_int_equal(cli_edit_distance("", "abc", 5), 3);
	assert_int_equal(cli_edit_distance("store", "json", 1), 2);      /* capped */
	assert_int_equal(cli_edit_distance("a", "abcdefgh", 2), 3);
}

static void closest_is_a_slip_or_nothing(void **state)
{
	assert_string_equal(cli_closest_option("dryrun", opts), "dry-run");
	assert_string_equal(cli_closest_option("tagret", opts), "target");
	assert_string_equal(cli_closest_option("stroe", opts), "store");
	assert_string_equal(cli_closest_option("verbos", opts), "verbose");
	assert_null(cli_closest_option("verb", opts)); /* getopt takes prefixes itself */
	assert_null(cli_closest_option("source", opts));
	assert_null(cli_closest_option("x", opts));
	assert_null(cli_closest_option("", opts));
}

/* Run getopt_long over argv like a command does, return its text for the
 * first refused option. */
static const char *refused(char **argv, int argc, char *buf, size_t n)
{
	int c;

	opterr = 0;
	optind = 0; /* a full reinit of glibc's getopt */
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1)
		if (c == '?')
			return cli_bad_option_text(opts, "+vh", argc, argv, buf, n);
	return NULL;
}

static void refused_options_are_worded(void **state)
{
	char buf[512];
	char *a1[] = { "apply", "--store", "s", "--dryrun", NULL };
	char *a2[] = { "apply", "--tagret=/mnt/x", NULL };
	char *a3[] = { "apply", "--store", NULL };
	char *a4[] = { "apply", "--json=yes", NULL };
	char *a5[] = { "apply", "--users", "x", NULL };
	char *a6[] = { "apply", "-x", NULL };
	char *a7[] = { "apply", "-dry-run", NULL };
	char *a8[] = { "apply", "--frobnicate", NULL };

	assert_string_equal(refused(a1, 4, buf, sizeof(buf)),
			    "unknown option '--dryrun' (did you mean --dry-run?)");
	assert_string_equal(refused(a2, 2, buf, sizeof(buf)),
			    "unknown option '--tagret' (did you mean --target?)");
	assert_string_equal(refused(a3, 2, buf, sizeof(buf)), "option '--store' needs a value");
	assert_string_equal(refused(a4, 2, buf, sizeof(buf)), "option '--json' takes no value");
	assert_string_equal(refused(a5, 3, buf, sizeof(buf)),
			    "option '--users' is ambiguous: --users-include, --users-exclude");
	assert_string_equal(refused(a6, 2, buf, sizeof(buf)), "unknown option '-x'");
	assert_string_equal(refused(a7, 2, buf, sizeof(buf)),
			    "unknown option '-d' in '-dry-run' (did you mean --dry-run?)");
	assert_string_equal(refused(a8, 2, buf, sizeof(buf)), "unknown option '--frobnicate'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(distance_counts_slips),
		cmocka_unit_test(closest_is_a_slip_or_nothing),
		cmocka_unit_test(refused_options_are_worded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
