/* test_usmt.c - USMT command lines into winstate's: every mapped option,
 * the ones not needed (one note each), the ones refused, and where the
 * installation's root comes from (/offlineWinDir names the Windows folder). */
#include "tu.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_usmt.h"

/* The translated command as one string, words separated by one space. */
static const char *joined(const struct cli_usmt_line *l, char *buf, size_t n)
{
	buf[0] = '\0';
	for (int i = 0; i < l->argc; i++)
		snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", i ? " " : "", l->argv[i]);
	return buf;
}

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int has_note(const struct cli_usmt_line *l, const char *part)
{
	for (size_t i = 0; i < l->n_notes; i++)
		if (strstr(l->notes[i], part))
			return 1;
	return 0;
}

static void scanstate_maps_to_scan(void **state)
{
	char *argv[] = { "scanstate", "/tmp/st", "/i:a.xml", "/I", "b.xml",
			 "/offlineWinDir:/mnt/win/Windows/", "/ue:*\\*", "/UI:CONTOSO\\alice",
			 "/uel:30", "/c", "/l:s.log", "/Progress:p.log", "/listfiles:f.txt",
			 "/v:5", "/o", "/r:3", "/w", "2", "/all:" };
	struct cli_usmt_line l;
	char buf[2048];

	/* "/all:" has a value it does not take */
	assert_int_equal(cli_usmt_translate(CLI_USMT_SCANSTATE, ARGC(argv), argv, &l), -1);
	assert_non_null(strstr(l.error, "/all takes no value"));
	cli_usmt_line_release(&l);
	assert_int_equal(cli_usmt_translate(CLI_USMT_SCANSTATE, ARGC(argv) - 1, argv, &l), 0);
	assert_string_equal(joined(&l, buf, sizeof(buf)),
			    "scan --source /mnt/win --store /tmp/st --rules a.xml --rules b.xml "
			    "--users-exclude *\\* --users-include CONTOSO\\alice --users-since 30 "
			    "--continue-on-error --log s.log --progress-log p.log --list-files f.txt "
			    "--verbose");
	assert_int_equal(l.n_notes, 3);
	assert_true(has_note(&l, "/o: not needed"));
	assert_true(has_note(&l, "/r:3 ignored: winstate does not retry"));
	assert_true(has_note(&l, "/w ignored"));
	assert_true(l.show);
	assert_null(l.key);
	cli_usmt_line_release(&l);
}

static void scanstate_keys_estimate_genconfig(void **state)
{
	char *enc[] = { "scanstate", "st", "/offlinewindir:w/Windows", "/encrypt:AES_256",
			"/key:s3cret", "/p", "/nocompress", "/hardlink", "/vsc", "/localonly",
			"/efs:copyraw", "/apps", "/targetwindows7", "--", "--jobs", "2" };
	char *gen[] = { "scanstate", "/offlineWinDir:/mnt/w/WINDOWS", "/i:a.xml",
			"/genconfig:/nonexistent/dir/cfg.xml", "/v:1", "/l:g.log" };
	struct cli_usmt_line l;
	char buf[2048];

	assert_int_equal(cli_usmt_translate(CLI_USMT_SCANSTATE, ARGC(enc), enc, &l), 0);
	assert_string_equal(joined(&l, buf, sizeof(buf)),
			    "scan --source w --estimate --encrypt --passphrase-env "
			    CLI_USMT_KEY_ENV " --jobs 2");
	assert_string_equal(l.key, "s3cret");
	assert_non_null(strstr(buf, CLI_USMT_KEY_ENV));
	assert_null(strstr(buf, "s3cret"));       /* never on the command line */
	assert_true(has_note(&l, "XChaCha20-Poly1305"));
	assert_true(has_note(&l, "/nocompress ignored"));
	assert_true(has_note(&l, "/hardlink ignored"));
	assert_true(has_note(&l, "/vsc ignored"));
	assert_true(has_note(&l, "/localonly ignored"));
	assert_true(has_note(&l, "/efs:copyraw ignored"));
	assert_true(has_note(&l, "/apps ignored"));
	assert_true(has_note(&l, "/targetwindows7 ignored"));
	assert_int_equal(l.n_notes, 8);
	cli_usmt_line_release(&l);

	assert_int_equal(cli_usmt_translate(CLI_USMT_SCANSTATE, ARGC(gen), gen, &l), 0);
	assert_string_equal(joined(&l, buf, sizeof(buf)),
			    "rules genconfig --source /mnt/w -o /nonexistent/dir/cfg.xml --rules a.xml");
	assert_true(has_note(&l, "/l:g.log ignored"));
	cli_usmt_line_release(&l);
}

/* The translation's error for argv, "" when it was accepted. */
static const char *refused(int tool, int argc, char **argv, char *buf, size_t n)
{
	struct cli_usmt_line l;
	int rc = cli_usmt_translate(tool, argc, argv, &l);

	snprintf(buf, n, "%s", rc ? l.error : "");
	cli_usmt_line_release(&l);
	return buf;
}

static void scanstate_refusals(void **state)
{
	char *nokey[] = { "scanstate", "st", "/offlineWinDir:w/Windows", "/encrypt" };
	char *both[] = { "scanstate", "st", "/offlineWinDir:w/Windows", "/key:a", "/keyfile:b" };
	char *all[] = { "scanstate", "st", "/offlineWinDir:w/Windows", "/all", "/ue:x" };
	char *typo[] = { "scanstate", "st", "/offlineWinDr:w/Windows" };
	char *uel0[] = { "scanstate", "st", "/offlineWinDir:w/Windows", "/uel:0" };
	char *date[] = { "scanstate", "st", "/offlineWinDir:w/Windows", "/uel:2026/01/01" };
	char *noroot[] = { "scanstate", "st", "/i:a.xml" };
	char *nostore[] = { "scanstate", "/offlineWinDir:w/Windows" };
	char *ppkg[] = { "scanstate", "st", "/offlineWinDir:w/Windows", "/ppkg:x.ppkg" };
	char *offxml[] = { "scanstate", "st", "/offline:offline.xml" };
	char *genst[] = { "scanstate", "st", "/offlineWinDir:w/Windows", "/genconfig:c.xml" };
	char *genui[] = { "scanstate", "/offlineWinDir:w/Windows", "/genconfig:c.xml", "/ui:x" };
	char *dash[] = { "scanstate", "st", "/offlineWinDir:w/Windows", "-x" };
	char *noval[] = { "scanstate", "st", "/offlineWinDir:w/Windows", "/i" };
	char *badv[] = { "scanstate", "st", "/offlineWinDir:w/Windows", "/v:3" };
	char *help[] = { "scanstate", "/?" };
	char buf[1024];
	struct cli_usmt_line l;

	assert_string_equal(refused(0, ARGC(nokey), nokey, buf, sizeof(buf)),
			    "/encrypt needs /key or /keyfile");
	assert_string_equal(refused(0, ARGC(both), both, buf, sizeof(buf)),
			    "/key and /keyfile are exclusive");
	assert_non_null(strstr(refused(0, ARGC(all), all, buf, sizeof(buf)), "/all takes every user"));
	assert_string_equal(refused(0, ARGC(typo), typo, buf, sizeof(buf)),
			    "unknown option '/offlineWinDr' (did you mean /offlineWinDir?)");
	assert_non_null(strstr(refused(0, ARGC(uel0), uel0, buf, sizeof(buf)), "nobody signed in"));
	assert_string_equal(refused(0, ARGC(date), date, buf, sizeof(buf)), "");
	assert_non_null(strstr(refused(0, ARGC(noroot), noroot, buf, sizeof(buf)),
			       "give /offlineWinDir:PATH"));
	assert_non_null(strstr(refused(0, ARGC(nostore), nostore, buf, sizeof(buf)),
			       "store path is missing"));
	assert_non_null(strstr(refused(0, ARGC(ppkg), ppkg, buf, sizeof(buf)),
			       "/ppkg is not supported"));
	assert_non_null(strstr(refused(0, ARGC(offxml), offxml, buf, sizeof(buf)),
			       "drive letter"));
	assert_non_null(strstr(refused(0, ARGC(genst), genst, buf, sizeof(buf)), "no store path"));
	assert_non_null(strstr(refused(0, ARGC(genui), genui, buf, sizeof(buf)),
			       "not with /ui /ue /uel"));
	assert_non_null(strstr(refused(0, ARGC(dash), dash, buf, sizeof(buf)), "start with '/'"));
	assert_non_null(strstr(refused(0, ARGC(noval), noval, buf, sizeof(buf)), "/i needs a value"));
	assert_non_null(strstr(refused(0, ARGC(badv), badv, buf, sizeof(buf)), "the level is"));
	assert_int_equal(cli_usmt_translate(0, ARGC(help), help, &l), 0);
	assert_true(l.help);
	cli_usmt_line_release(&l);
}

static void loadstate_maps_to_apply(void **state)
{
	char *argv[] = { "loadstate", "/tmp/st", "/offlineWinDir", "/mnt/new/Windows",
			 "/mu:OLD\\a:NEW\\b", "/md:OLD:NEW", "/i:x.xml", "/l:l.log", "/ui:a",
			 "/decrypt:AES_256", "/keyfile:k.txt", "/config:c.xml", "/c",
			 "/progress:p.log", "/ue:*\\*", "/uel:2026/01/01", "--", "--dry-run" };
	char *all[] = { "loadstate", "st", "/offlineWinDir:w/Windows", "/all", "/ue:x" };
	char *uel[] = { "loadstate", "st", "/offlineWinDir:w/Windows", "/uel:0" };
	char *lac[] = { "loadstate", "st", "/offlineWinDir:w/Windows", "/lac:pw" };
	char *lae[] = { "loadstate", "st", "/offlineWinDir:w/Windows", "/lae" };
	char *mdw[] = { "loadstate", "st", "/offlineWinDir:w/Windows", "/md:*:NEW" };
	char *mub[] = { "loadstate", "st", "/offlineWinDir:w/Windows", "/mu:alice" };
	char *gen[] = { "loadstate", "st", "/offlineWinDir:w/Windows", "/genconfig:x" };
	struct cli_usmt_line l;
	char buf[2048];

	assert_int_equal(cli_usmt_translate(CLI_USMT_LOADSTATE, ARGC(argv), argv, &l), 0);
	assert_string_equal(joined(&l, buf, sizeof(buf)),
			    "apply --store /tmp/st --target /mnt/new --map-user OLD\\a=NEW\\b "
			    "--map-domain OLD=NEW --rules x.xml --log l.log --users-include a "
			    "--progress-log p.log --users-exclude *\\* --users-since 2026/01/01 "
			    "--passphrase-env " CLI_USMT_KEY_ENV " --dry-run");
	assert_string_equal(l.key_file, "k.txt");
	assert_true(has_note(&l, "/decrypt:AES_256: not needed"));
	assert_true(has_note(&l, "/config:c.xml ignored"));
	assert_true(has_note(&l, "/c ignored"));
	assert_int_equal(l.n_notes, 3);
	cli_usmt_line_release(&l);

	assert_non_null(strstr(refused(1, ARGC(all), all, buf, sizeof(buf)), "/all takes every user"));
	assert_non_null(strstr(refused(1, ARGC(uel), uel, buf, sizeof(buf)), "nobody signed in"));
	assert_non_null(strstr(refused(1, ARGC(lac), lac, buf, sizeof(buf)), "creates no accounts"));
	assert_non_null(strstr(refused(1, ARGC(lae), lae, buf, sizeof(buf)), "/lae is not supported"));
	assert_non_null(strstr(refused(1, ARGC(mdw), mdw, buf, sizeof(buf)), "no wildcard"));
	assert_non_null(strstr(refused(1, ARGC(mub), mub, buf, sizeof(buf)), "/mu takes"));
	/* a ScanState option is not LoadState's */
	assert_non_null(strstr(refused(1, ARGC(gen), gen, buf, sizeof(buf)),
			       "unknown option '/genconfig'"));
}

static void usmtutils_verify(void **state)
{
	char *sum[] = { "usmtutils", "/verify", "/tmp/st", "/key", "pw" };
	char *cat[] = { "usmtutils", "/VERIFY:catalog", "/tmp/st" };
	char *all[] = { "usmtutils", "/verify:all", "/tmp/st", "/l:x.log" };
	char *bad[] = { "usmtutils", "/verify:some", "/tmp/st" };
	char *ec[] = { "usmtutils", "/ec" };
	char *ex[] = { "usmtutils", "/extract", "/tmp/st", "/tmp/out", "/i:*.txt, *.pdf;*.doc",
		       "/e:*.tmp", "/o", "/keyfile:k.txt", "/l:x.log", "--", "--device", "PC17" };
	char *exnodev[] = { "usmtutils", "/extract", "/tmp/st", "/tmp/out" };
	char *exnodest[] = { "usmtutils", "/extract", "/tmp/st", "--", "--device", "PC17" };
	char *both[] = { "usmtutils", "/extract", "/verify", "/tmp/st", "/tmp/out" };
	char *rd[] = { "usmtutils", "/rd", "/tmp/st" };
	char *none[] = { "usmtutils", "/tmp/st" };
	struct cli_usmt_line l;
	char buf[1024];

	assert_int_equal(cli_usmt_translate(CLI_USMT_USMTUTILS, ARGC(sum), sum, &l), 0);
	assert_string_equal(joined(&l, buf, sizeof(buf)),
			    "verify --store /tmp/st --deep --passphrase-env " CLI_USMT_KEY_ENV);
	assert_string_equal(l.key, "pw");
	assert_ptr_equal(l.key_arg, sum[4]);        /* the word the caller blanks */
	cli_usmt_line_release(&l);
	assert_int_equal(cli_usmt_translate(CLI_USMT_USMTUTILS, ARGC(cat), cat, &l), 0);
	assert_string_equal(joined(&l, buf, sizeof(buf)), "verify --store /tmp/st");
	cli_usmt_line_release(&l);
	assert_int_equal(cli_usmt_translate(CLI_USMT_USMTUTILS, ARGC(all), all, &l), 0);
	assert_true(has_note(&l, "only the damaged files"));
	assert_true(has_note(&l, "/l:x.log ignored"));
	cli_usmt_line_release(&l);
	assert_int_equal(cli_usmt_translate(CLI_USMT_USMTUTILS, ARGC(ec), ec, &l), 0);
	assert_non_null(l.say);
	cli_usmt_line_release(&l);
	assert_int_equal(cli_usmt_translate(CLI_USMT_USMTUTILS, ARGC(ex), ex, &l), 0);
	assert_string_equal(joined(&l, buf, sizeof(buf)),
			    "extract --store /tmp/st --to /tmp/out --include *.txt --include *.pdf "
			    "--include *.doc --log x.log --passphrase-env " CLI_USMT_KEY_ENV
			    " --device PC17");
	assert_true(has_note(&l, "/e ignored"));
	assert_true(has_note(&l, "/o ignored: winstate extract never replaces a file"));
	cli_usmt_line_release(&l);
	assert_non_null(strstr(refused(2, ARGC(exnodev), exnodev, buf, sizeof(buf)),
			       "many devices"));
	assert_non_null(strstr(refused(2, ARGC(exnodest), exnodest, buf, sizeof(buf)),
			       "folder to extract into is missing"));
	assert_non_null(strstr(refused(2, ARGC(both), both, buf, sizeof(buf)), "one of them"));
	assert_non_null(strstr(refused(2, ARGC(bad), bad, buf, sizeof(buf)), "/verify takes"));
	assert_non_null(strstr(refused(2, ARGC(rd), rd, buf, sizeof(buf)), "no hard-link stores"));
	assert_non_null(strstr(refused(2, ARGC(none), none, buf, sizeof(buf)), "give /verify"));
}

static void roots_of_windows_folders(void **state)
{
	char *dir = tu_tmpdir(), img[512], vol[512], win[512], arg[600];
	char *a1[] = { "scanstate", "st", "/offlineWinDir:Windows" };
	char *a2[] = { "scanstate", "st", "/offlineWinDir:/Windows" };
	char *a3[] = { "scanstate", "st", "/offlineWinOld:/mnt/c/Windows.old" };
	char *a4[] = { "scanstate", "st", "/offlineWinOld:/mnt/c/Windows.old/Windows" };
	char *a5[] = { "scanstate", "st", arg };
	struct cli_usmt_line l;
	char buf[2048];

	assert_int_equal(cli_usmt_translate(0, ARGC(a1), a1, &l), 0);
	assert_string_equal(l.argv[2], ".");
	cli_usmt_line_release(&l);
	assert_int_equal(cli_usmt_translate(0, ARGC(a2), a2, &l), 0);
	assert_string_equal(l.argv[2], "/");
	cli_usmt_line_release(&l);
	assert_int_equal(cli_usmt_translate(0, ARGC(a3), a3, &l), 0);
	assert_string_equal(l.argv[2], "/mnt/c/Windows.old");
	cli_usmt_line_release(&l);
	assert_int_equal(cli_usmt_translate(0, ARGC(a4), a4, &l), 0);
	assert_string_equal(l.argv[2], "/mnt/c/Windows.old");
	cli_usmt_line_release(&l);
	/* a disk image is passed as it is: scan finds Windows on it */
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	tu_write_file(img, "x", 1);
	snprintf(arg, sizeof(arg), "/offlineWinDir:%s", img);
	assert_int_equal(cli_usmt_translate(0, ARGC(a5), a5, &l), 0);
	assert_string_equal(l.argv[2], img);
	cli_usmt_line_release(&l);
	/* the volume instead of its Windows folder is a slip worth a word */
	snprintf(vol, sizeof(vol), "%s/vol", dir);
	snprintf(win, sizeof(win), "%s/vol/WINDOWS", dir);
	assert_int_equal(mkdir(vol, 0700), 0);
	assert_int_equal(mkdir(win, 0700), 0);
	snprintf(arg, sizeof(arg), "/offlineWinDir:%s", vol);
	assert_non_null(strstr(refused(0, ARGC(a5), a5, buf, sizeof(buf)),
			       "names the Windows folder"));
	snprintf(arg, sizeof(arg), "/offlineWinDir:%s", win);
	assert_int_equal(cli_usmt_translate(0, ARGC(a5), a5, &l), 0);
	assert_string_equal(l.argv[2], vol);
	cli_usmt_line_release(&l);
	/* a path is a store, not an option: /tmp/x has a second slash */
	{
		char *p[] = { "scanstate", "/tmp/some/store", "/offlineWinDir:w/Windows" };

		assert_int_equal(cli_usmt_translate(0, ARGC(p), p, &l), 0);
		assert_string_equal(l.argv[4], "/tmp/some/store");
		cli_usmt_line_release(&l);
	}
	tu_cleanup();
	free(dir);
}

static void native_commands_hint_at_usmt(void **state)
{
	char buf[256];

	assert_true(cli_usmt_hint("scan", "/ui:CONTOSO\\alice", buf, sizeof(buf)));
	assert_non_null(strstr(buf, "USMT's /ui is --users-include here"));
	assert_non_null(strstr(buf, "winstate scanstate"));
	assert_true(cli_usmt_hint("apply", "/mu:a:b", buf, sizeof(buf)));
	assert_non_null(strstr(buf, "--map-user"));
	assert_true(cli_usmt_hint("apply", "/ue:x", buf, sizeof(buf)));
	assert_non_null(strstr(buf, "--users-exclude"));
	assert_true(cli_usmt_hint("apply", "/config:x", buf, sizeof(buf)));
	assert_null(strstr(buf, "--config"));   /* apply has none */
	assert_false(cli_usmt_hint("scan", "/tmp/x/y", buf, sizeof(buf)));
	assert_false(cli_usmt_hint("list", "/ui:x", buf, sizeof(buf)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scanstate_maps_to_scan),
		cmocka_unit_test(scanstate_keys_estimate_genconfig),
		cmocka_unit_test(scanstate_refusals),
		cmocka_unit_test(loadstate_maps_to_apply),
		cmocka_unit_test(usmtutils_verify),
		cmocka_unit_test(roots_of_windows_folders),
		cmocka_unit_test(native_commands_hint_at_usmt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
