/* test_journal.c - apply's undo journal: apply + undo gives the target back
 * byte for byte, also after an apply killed with SIGKILL at many points
 * (with openat2 and with the O_NOFOLLOW walk), after two applies (the
 * second one's undo puts back the first one's very files), and never
 * half-undoes from a damaged journal. */
#include "apply_tu.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sodium.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>

#include "apply/apply_private.h"
#include "util/ws_root.h"

/* The number of journal entries: the largest n seen (the hook runs on
 * every thread that writes files in place, several at once). */
static void count_entries(void *ctx, unsigned long n)
{
	unsigned long *p = ctx, cur = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (n > cur && !__atomic_compare_exchange_n(p, &cur, n, 0, __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

static void undo_ok(const char *tgt, const char *journal)
{
	struct apply_undo_report u;
	struct ws_error e;

	ws_error_clear(&e);
	tu_assert_ok(apply_undo(tgt, journal, NULL, &u, &e), &e);
}

static void apply_then_undo_restores_everything(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	unsigned long n = 0;
	char *before, *after;
	(void)state;

	atu_setup(&t, 2, "alice");
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.on_journal = count_entries;
	o.on_journal_ctx = &n;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_true(r.users_applied == 1 && r.users_staged == 1);
	assert_true(r.files_placed > 0 && r.values_set > 0 && r.files_staged > 0);
	assert_true(r.hives_committed >= 2);  /* alice's NTUSER.DAT and SOFTWARE */
	assert_true(n > 10);
	assert_true(ws_path_exists(r.journal));
	apply_report_release(&r);
	after = atu_tree(t.tgt);
	assert_string_not_equal(before, after);
	free(after);
	undo_ok(t.tgt, NULL);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	free(before);
	free(after);
	atu_release(&t);
}

static void dry_run_writes_nothing(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct ws_error e;
	char *before, *after;
	(void)state;

	atu_setup(&t, 2, "alice");
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.dry_run = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_string_equal(r.journal, "");
	assert_true(r.values_set > 0 && r.values_staged > 0 && r.files_placed > 0);
	apply_report_release(&r);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	assert_int_equal(apply_undo(t.tgt, NULL, NULL, &u, &e), WS_E_USAGE);
	free(before);
	free(after);
	atu_release(&t);
}

static unsigned long kill_target;

static void kill_hook(void *ctx, unsigned long n)
{
	(void)ctx;
	if (n == kill_target)
		raise(SIGKILL);
}

/* Child body: apply and exit; the parent decides when it dies. */
static void child_apply(struct atu *t, int with_hook)
{
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	int rc;

	apply_opts_init(&o);

	o.allow_plain_target = 1;
	if (with_hook)
		o.on_journal = kill_hook;
	rc = atu_apply(t, &o, &r, &e);
	_exit(rc == WS_OK ? 0 : 1);
}

static int run_child(struct atu *t, unsigned long at, long delay_us)
{
	pid_t pid;
	int status = 0;

	fflush(NULL);
	kill_target = at;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_apply(t, at != 0);
	if (!at) {
		struct timespec ts = { 0, delay_us * 1000 };

		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

static void killed_apply_can_be_undone(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	unsigned long total = 0;
	char *pristine_dir, *before;
	(void)state;

	atu_setup(&t, 2, "alice");
	/* Count the entries of a full apply on a copy. */
	pristine_dir = ws_xasprintf("%s/pristine", t.dir);
	{
		char *cmd = ws_xasprintf("cp -a '%s' '%s'", t.tgt, pristine_dir);
		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.on_journal = count_entries;
	o.on_journal_ctx = &total;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	apply_report_release(&r);
	assert_true(total > 20);
	undo_ok(t.tgt, NULL);
	{
		char *again = atu_tree(t.tgt);
		assert_string_equal(before, again);
		free(again);
	}
	{
		unsigned long points[] = { 1, 2, 3, total / 4, total / 2, (3 * total) / 4,
					   total - 2, total - 1, total };
		long delays[] = { 2000, 20000, 60000 };

		for (size_t i = 0; i < sizeof(points) / sizeof(points[0]) + 3; i++) {
			int how;
			char *now;

			if (i < sizeof(points) / sizeof(points[0]))
				how = run_child(&t, points[i], 0);
			else
				how = run_child(&t, 0, delays[i - sizeof(points) / sizeof(points[0])]);
			if (i < sizeof(points) / sizeof(points[0]))
				assert_int_equal(how, -SIGKILL);
			{
				struct apply_undo_report u;

				ws_error_clear(&e);
				int rc = apply_undo(t.tgt, NULL, NULL, &u, &e);
				/* A kill before the journal existed leaves nothing to undo. */
				if (rc != WS_E_USAGE)
					tu_assert_ok(rc, &e);
			}
			now = atu_tree(t.tgt);
			if (strcmp(before, now))
				fail_msg("kill point %zu (entry %lu): target differs after undo\n"
					 "--- before\n%s\n--- after\n%s", i,
					 i < sizeof(points) / sizeof(points[0]) ? points[i] : 0UL,
					 before, now);
			free(now);
		}
	}
	free(before);
	free(pristine_dir);
	atu_release(&t);
}

/* The same with the O_NOFOLLOW walk instead of openat2. */
static void killed_apply_can_be_undone_fallback(void **state)
{
	setenv("WS_TEST_NO_OPENAT2", "1", 1);
	killed_apply_can_be_undone(state);
	unsetenv("WS_TEST_NO_OPENAT2");
}

/* An apply killed between making its journal folder and flushing the first
 * line leaves that folder (and ProgramData\winstate) with at most a torn
 * journal.log: undo removes exactly that, and nothing a journal did not make. */
static void journal_killed_before_first_line(void **state)
{
	static const char *const logs[] = { NULL, "", "winstate-journal 2 2026" };
	struct atu t;
	struct apply_undo_report u;
	struct ws_error e;
	char *before, *now;
	(void)state;

	atu_setup(&t, 1, "alice");
	before = atu_tree(t.tgt);
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		char *dir = ws_xasprintf("%s/ProgramData/winstate/journal/"
					 "20261202T120000.000000Z-0123abcd", t.tgt);
		char *cmd = ws_xasprintf("mkdir -p '%s'", dir);

		assert_int_equal(system(cmd), 0);
		free(cmd);
		if (logs[i]) {
			char *log = ws_xasprintf("%s/journal.log", dir);
			FILE *f = fopen(log, "w");

			assert_non_null(f);
			fputs(logs[i], f);
			fclose(f);
			free(log);
		}
		ws_error_clear(&e);
		assert_int_equal(apply_undo(t.tgt, NULL, NULL, &u, &e), WS_E_USAGE);
		now = atu_tree(t.tgt);
		assert_string_equal(before, now);
		free(now);
		free(dir);
	}
	/* Killed earlier still: ProgramData\\winstate (and its journal folder)
	 * made, no journal in it yet.  Undo finds none and takes the empty
	 * folders away (an empty listing once reached qsort(NULL, 0)). */
	for (int depth = 0; depth < 2; depth++) {
		char *cmd = ws_xasprintf("mkdir -p '%s/ProgramData/winstate%s'", t.tgt,
					 depth ? "/journal" : "");

		assert_int_equal(system(cmd), 0);
		free(cmd);
		ws_error_clear(&e);
		assert_int_equal(apply_undo(t.tgt, NULL, NULL, &u, &e), WS_E_USAGE);
		now = atu_tree(t.tgt);
		assert_string_equal(before, now);
		free(now);
	}
	/* A folder holding anything else, or a complete first line, stays. */
	{
		char *dir = ws_xasprintf("%s/ProgramData/winstate/journal/"
					 "20261202T120000.000000Z-0123abcd", t.tgt);
		char *cmd = ws_xasprintf("mkdir -p '%s' && echo keep > '%s/other'", dir, dir);
		char *kept = ws_xasprintf("%s/other", dir);

		assert_int_equal(system(cmd), 0);
		ws_error_clear(&e);
		assert_int_equal(apply_undo(t.tgt, NULL, NULL, &u, &e), WS_E_USAGE);
		assert_int_equal(access(kept, F_OK), 0);
		free(cmd);
		free(kept);
		free(dir);
	}
	free(before);
	atu_release(&t);
}

static void two_applies_undo_in_turn(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct ws_error e;
	char *before, *mid, *now;
	(void)state;

	atu_setup(&t, 1, "alice");
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	apply_report_release(&r);
	mid = atu_tree(t.tgt);
	/* Second apply with the source winning collisions: overwrites nothing
	 * new (all equal), still journals the hive it rewrites. */
	o.conflict = APPLY_CONFLICT_SOURCE;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_int_equal(r.files_placed, 0);
	assert_true(r.files_same > 0);
	assert_true(r.values_same > 0);
	apply_report_release(&r);
	undo_ok(t.tgt, NULL);
	now = atu_tree(t.tgt);
	assert_string_equal(mid, now);
	free(now);
	undo_ok(t.tgt, NULL);
	now = atu_tree(t.tgt);
	assert_string_equal(before, now);
	free(now);
	ws_error_clear(&e);
	assert_int_equal(apply_undo(t.tgt, NULL, NULL, &u, &e), WS_E_USAGE);
	free(before);
	free(mid);
	atu_release(&t);
}

static void overwritten_file_comes_back(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *doc, *before, *now, *old;
	(void)state;

	atu_setup(&t, 1, "alice");
	/* A file the scan carries, already on the target with other content. */
	doc = ws_xasprintf("%s/Users/alice/Documents/Projects/Plan.txt", t.tgt);
	{
		char *d = ws_xasprintf("%s/Users/alice/Documents/Projects", t.tgt);
		tu_assert_ok(ws_mkdir_p(d, WS_E_IO, &e), &e);
		free(d);
	}
	tu_write_file(doc, "target's own plan\n", 18);
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.conflict = APPLY_CONFLICT_SOURCE;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_true(r.files_overwritten >= 1);
	apply_report_release(&r);
	old = tu_read_file(doc, NULL);
	assert_string_not_equal(old, "target's own plan\n");
	free(old);
	/* Explicit journal path (its journal.log). */
	{
		char *cmd = ws_xasprintf("ls -d '%s'/ProgramData/winstate/journal/*/journal.log", t.tgt);
		FILE *p = popen(cmd, "r");
		char line[4096];

		assert_non_null(fgets(line, sizeof(line), p));
		pclose(p);
		line[strcspn(line, "\n")] = '\0';
		undo_ok(t.tgt, line);
		free(cmd);
	}
	now = atu_tree(t.tgt);
	assert_string_equal(before, now);
	old = tu_read_file(doc, NULL);
	assert_string_equal(old, "target's own plan\n");
	free(old);
	free(now);
	free(before);
	free(doc);
	atu_release(&t);
}

/* The S lines of journal `journal`: how many, and how many keep the file
 * itself (mode with the link flag 010000) rather than a copy. */
static void saved_kinds(const char *journal, int *all, int *linked)
{
	char *log = ws_xasprintf("%s/journal.log", journal);
	FILE *f = fopen(log, "r");
	char line[8192];

	assert_non_null(f);
	*all = *linked = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long n, mode;

		if (sscanf(line, "S %lu %lo ", &n, &mode) != 2)
			continue;
		(*all)++;
		*linked += (mode & 010000) != 0;
	}
	fclose(f);
	free(log);
}

/* A second apply replaces what the first one made (its committed hive):
 * it keeps the file itself in saved/, and its undo puts back that very
 * object (same inode), so the first apply's identity checks still hold
 * and undoing both is exact. */
static void second_apply_puts_back_the_same_file(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	struct stat st1, st2, st3;
	char *before, *now, *hive;
	int all, linked;
	(void)state;

	atu_setup(&t, 1, "alice");
	hive = ws_xasprintf("%s/Users/alice/NTUSER.DAT", t.tgt);
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	apply_report_release(&r);
	assert_int_equal(stat(hive, &st1), 0);
	o.conflict = APPLY_CONFLICT_SOURCE;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	saved_kinds(r.journal, &all, &linked);
	assert_true(all > 0);
	assert_int_equal(linked, all);
	apply_report_release(&r);
	assert_int_equal(stat(hive, &st2), 0);
	assert_true(st2.st_ino != st1.st_ino);
	undo_ok(t.tgt, NULL);
	assert_int_equal(stat(hive, &st3), 0);
	assert_int_equal(st3.st_ino, st1.st_ino);
	assert_int_equal(st3.st_mtim.tv_sec, st1.st_mtim.tv_sec);
	assert_int_equal(st3.st_mtim.tv_nsec, st1.st_mtim.tv_nsec);
	assert_int_equal(st3.st_mode, st1.st_mode);
	undo_ok(t.tgt, NULL);
	now = atu_tree(t.tgt);
	assert_string_equal(before, now);
	free(now);
	free(before);
	free(hive);
	atu_release(&t);
}

/* A replaced file with another name (a hard link) is saved as a copy: a
 * change through the other name cannot reach the saved file; the other
 * name keeps the old content, undo puts it back exactly. */
static void hard_linked_file_saved_as_copy(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *doc, *other, *before, *now, *got;
	int all, linked;
	(void)state;

	atu_setup(&t, 1, "alice");
	doc = ws_xasprintf("%s/Users/alice/Documents/Projects/Plan.txt", t.tgt);
	other = ws_xasprintf("%s/Users/alice/plan-link.txt", t.tgt);
	{
		char *d = ws_xasprintf("%s/Users/alice/Documents/Projects", t.tgt);
		tu_assert_ok(ws_mkdir_p(d, WS_E_IO, &e), &e);
		free(d);
	}
	tu_write_file(doc, "target's own plan\n", 18);
	assert_int_equal(link(doc, other), 0);
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.conflict = APPLY_CONFLICT_SOURCE;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_true(r.files_overwritten >= 1);
	saved_kinds(r.journal, &all, &linked);
	/* the hive is kept itself, Plan.txt (two names) copied */
	assert_true(all >= 2);
	assert_int_equal(linked, all - 1);
	apply_report_release(&r);
	got = tu_read_file(other, NULL);
	assert_string_equal(got, "target's own plan\n");
	free(got);
	undo_ok(t.tgt, NULL);
	now = atu_tree(t.tgt);
	assert_string_equal(before, now);
	got = tu_read_file(doc, NULL);
	assert_string_equal(got, "target's own plan\n");
	free(got);
	free(now);
	free(before);
	free(other);
	free(doc);
	atu_release(&t);
}

/* Count the lines of the journal of report r starting with `head`. */
static int journal_lines(const char *journal, const char *head)
{
	char *log = ws_xasprintf("%s/journal.log", journal);
	FILE *f = fopen(log, "r");
	char line[8192];
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n += !strncmp(line, head, strlen(head));
	fclose(f);
	free(log);
	return n;
}

/* More new files than three batches: a full batch's flush runs while the
 * next batch is written, its changes follow when it is back.  The journal
 * verifies (undo reads it), every batch closes with "B", and undo is exact
 * after the whole apply and after kills at points inside the batches. */
/* 1,600 new files in 40 new folders of alice's Documents, in the store. */
static void setup_many(struct atu *tp)
{
	struct atu t;
	struct ws_error e;

	atu_setup(&t, 1, "alice");
	for (int d = 0; d < 40; d++) {
		char *dir = ws_xasprintf("%s/Users/alice/Documents/Many/d%02d", t.src, d);

		tu_assert_ok(ws_mkdir_p(dir, WS_E_IO, &e), &e);
		for (int i = 0; i < 40; i++) {
			char *f = ws_xasprintf("%s/f%02d.txt", dir, i);
			char *body = ws_xasprintf("file %d of folder %d\n", i, d);

			tu_write_file(f, body, strlen(body));
			free(f);
			free(body);
		}
		free(dir);
	}
	{
		struct rule_set *rs = rule_set_new();
		struct store_open_opts so = { 0 };
		struct scan_opts sc;
		struct scan_result res;
		struct store *st;

		ws_error_clear(&e);
		tu_assert_ok(rule_set_load_mem(rs, "t.xml", atu_rules, strlen(atu_rules), NULL, &e), &e);
		tu_assert_ok(store_open(t.store, &so, &st, &e), &e);
		scan_opts_init(&sc);
		sc.source = t.src;
		sc.rules = rs;
		tu_assert_ok(scan_device(st, &sc, &res, &e), &e);
		store_close(st);
		rule_set_free(rs);
	}
	*tp = t;
}

static void batches_in_flight_undo_exactly(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	unsigned long total = 0;
	char *before;
	(void)state;

	setup_many(&t);
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.on_journal = count_entries;
	o.on_journal_ctx = &total;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_true(r.files_placed >= 1600);
	/* The first batch closes at 512 files; the next ones grow while the
	 * flush before them runs (up to 2,048), so how many more there are
	 * depends on the disk's speed: at least one. */
	assert_true(journal_lines(r.journal, "B ") >= 2);
	apply_report_release(&r);
	undo_ok(t.tgt, NULL);
	{
		char *now = atu_tree(t.tgt);

		assert_string_equal(before, now);
		free(now);
	}
	{
		unsigned long points[] = { 520, 530, 1040, total / 2, total - 600, total - 5 };

		for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
			struct apply_undo_report u;
			char *now;
			int rc;

			assert_int_equal(run_child(&t, points[i], 0), -SIGKILL);
			ws_error_clear(&e);
			rc = apply_undo(t.tgt, NULL, NULL, &u, &e);
			tu_assert_ok(rc, &e);
			now = atu_tree(t.tgt);
			if (strcmp(before, now))
				fail_msg("kill at entry %lu of %lu: target differs after undo",
					 points[i], total);
			free(now);
		}
	}
	free(before);
	atu_release(&t);
}

/* The folders and files of a batch shared out between threads: each
 * folder is made by whichever thread first needs it, parents before
 * children, with folders that hold no file (a chain of new folders above
 * one file, empty folders) made too; the placed tree is the source's, and
 * undo, also after kills while batches are shared out, gives back the
 * target of before. */
static void shared_batches_make_every_folder(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *before, *src_tree, *tgt_tree, *many_src, *many_tgt;
	unsigned long total = 0;
	(void)state;

	atu_setup(&t, 1, "alice");
	many_src = ws_xasprintf("%s/Users/alice/Documents/Many", t.src);
	many_tgt = ws_xasprintf("%s/Users/alice/Documents/Many", t.tgt);
	for (int d = 0; d < 30; d++) {
		/* every tenth folder three levels down, two of them new */
		char *dir = d % 10 == 5 ? ws_xasprintf("%s/n%02d/x/y", many_src, d)
					: ws_xasprintf("%s/d%02d", many_src, d);

		tu_assert_ok(ws_mkdir_p(dir, WS_E_IO, &e), &e);
		for (int i = 0; i < 30; i++) {
			char *f = ws_xasprintf("%s/f%02d.txt", dir, i);
			char *body = ws_xasprintf("file %d of folder %d\n", i, d);

			tu_write_file(f, body, strlen(body));
			free(f);
			free(body);
		}
		free(dir);
		if (d == 12) {
			/* one file at the bottom of a chain of new folders */
			char *deep = ws_xasprintf("%s/d12/a/b/c/d/e", many_src), *f;

			tu_assert_ok(ws_mkdir_p(deep, WS_E_IO, &e), &e);
			f = ws_xasprintf("%s/only.txt", deep);
			tu_write_file(f, "deep\n", 5);
			free(f);
			free(deep);
			/* empty folders */
			for (int k = 0; k < 3; k++) {
				char *empty = ws_xasprintf("%s/d12/empty%d/in", many_src, k);

				tu_assert_ok(ws_mkdir_p(empty, WS_E_IO, &e), &e);
				free(empty);
			}
		}
	}
	{
		struct rule_set *rs = rule_set_new();
		struct store_open_opts so = { 0 };
		struct scan_opts sc;
		struct scan_result res;
		struct store *st;

		ws_error_clear(&e);
		/* the rules of the other tests, and folders of Many as such */
		static const char rules[] =
			"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<migration urlid=\"http://example/apply-test\">\n"
			" <component type=\"Documents\" context=\"User\">\n"
			"  <displayName>Test</displayName>\n"
			"  <role role=\"Data\"><rules><include><objectSet>\n"
			"   <pattern type=\"File\">%CSIDL_PERSONAL%\\* [*]</pattern>\n"
			"   <pattern type=\"File\">%CSIDL_PERSONAL%\\Many\\*</pattern>\n"
			"  </objectSet></include></rules></role>\n"
			" </component>\n"
			"</migration>\n";

		tu_assert_ok(rule_set_load_mem(rs, "t.xml", rules, strlen(rules), NULL, &e), &e);
		tu_assert_ok(store_open(t.store, &so, &st, &e), &e);
		scan_opts_init(&sc);
		sc.source = t.src;
		sc.rules = rs;
		tu_assert_ok(scan_device(st, &sc, &res, &e), &e);
		store_close(st);
		rule_set_free(rs);
	}
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.on_journal = count_entries;
	o.on_journal_ctx = &total;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_true(r.files_placed >= 901);
	assert_true(journal_lines(r.journal, "B ") >= 2);
	apply_report_release(&r);
	src_tree = atu_tree(many_src);
	tgt_tree = atu_tree(many_tgt);
	assert_string_equal(src_tree, tgt_tree);
	undo_ok(t.tgt, NULL);
	{
		char *now = atu_tree(t.tgt);

		assert_string_equal(before, now);
		free(now);
	}
	for (unsigned long at = total / 4; at < total; at += total / 4) {
		struct apply_undo_report u;
		char *now;

		assert_int_equal(run_child(&t, at, 0), -SIGKILL);
		ws_error_clear(&e);
		tu_assert_ok(apply_undo(t.tgt, NULL, NULL, &u, &e), &e);
		now = atu_tree(t.tgt);
		if (strcmp(before, now))
			fail_msg("kill at entry %lu of %lu: target differs after undo", at, total);
		free(now);
	}
	free(src_tree);
	free(tgt_tree);
	free(many_src);
	free(many_tgt);
	free(before);
	atu_release(&t);
}

/* On a plain target the folders of a batch whose flush is back are made
 * by the linking thread.  One of them swapped for a link right after it
 * is made (the second batch's, landed after its flight): nothing is written through
 * it, the apply stops with exit 71, and undo takes back everything else
 * (the link, which apply did not make, is left and reported, and so is
 * the folder holding it). */
struct swap_dir {
	const char *suffix, *outside;
	char *link;
	pthread_mutex_t mu;      /* the hook runs on several threads at once */
};

static void swap_batch_dir(void *ctx, const char *host)
{
	struct swap_dir *s = ctx;
	size_t n = strlen(host), m = strlen(s->suffix);

	if (n < m || strcmp(host + n - m, s->suffix))
		return;
	pthread_mutex_lock(&s->mu);
	if (!s->link) {
		assert_int_equal(rmdir(host), 0);
		assert_int_equal(symlink(s->outside, host), 0);
		s->link = ws_xstrdup(host);
	}
	pthread_mutex_unlock(&s->mu);
}

static void batch_folder_swapped_for_a_link(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct ws_error e;
	struct swap_dir s = { "/Many/d15", NULL, NULL, PTHREAD_MUTEX_INITIALIZER };
	char *outside, *before, *now;
	DIR *dir;
	struct dirent *de;
	int n = 0;
	(void)state;

	setup_many(&t);
	outside = ws_xasprintf("%s/outside", t.dir);
	assert_int_equal(mkdir(outside, 0755), 0);
	s.outside = outside;
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.on_mkdir = swap_batch_dir;
	o.on_mkdir_ctx = &s;
	ws_error_clear(&e);
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_TARGET);
	assert_non_null(strstr(e.msg, "link"));
	assert_non_null(s.link);
	/* the batches before it were placed */
	assert_true(journal_lines(r.journal, "B ") >= 1);
	dir = opendir(outside);
	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(dir);
	assert_int_equal(n, 0);
	apply_report_release(&r);
	ws_error_clear(&e);
	assert_int_equal(apply_undo(t.tgt, NULL, NULL, &u, &e), WS_PARTIAL);
	assert_int_equal(u.left_files, 1);
	/* the link, and the folder apply made that holds it */
	assert_int_equal(unlink(s.link), 0);
	*strrchr(s.link, '/') = '\0';
	assert_int_equal(rmdir(s.link), 0);
	now = atu_tree(t.tgt);
	assert_string_equal(before, now);
	free(now);
	free(before);
	free(s.link);
	free(outside);
	atu_release(&t);
}

static void damaged_journal_undoes_nothing(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct ws_error e;
	char *saved, *mid, *now;
	(void)state;

	atu_setup(&t, 1, "alice");
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	saved = ws_xasprintf("%s/saved/0", r.journal);
	assert_true(ws_path_exists(saved));
	assert_int_equal(unlink(saved), 0);
	mid = atu_tree(t.tgt);
	ws_error_clear(&e);
	assert_int_equal(apply_undo(t.tgt, NULL, NULL, &u, &e), WS_E_CORRUPT);
	assert_non_null(strstr(e.msg, "missing"));
	now = atu_tree(t.tgt);
	assert_string_equal(mid, now);
	/* A journal of another target is refused. */
	{
		struct atu t2;

		atu_setup(&t2, 1, "alice");
		ws_error_clear(&e);
		assert_int_equal(apply_undo(t2.tgt, r.journal, NULL, &u, &e), WS_E_USAGE);
		atu_release(&t2);
	}
	apply_report_release(&r);
	free(saved);
	free(mid);
	free(now);
	atu_release(&t);
}

/* A crash between writing a replaced file's S line and the copy reaching
 * the disk (they are flushed together, the file replaced only after): the
 * copy is missing, the file is still the original.  Undo passes over that
 * line and undoes the rest exactly. */
static void saved_copy_lost_before_replacing(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *pristine, *before, *now, *saved, *cmd, *log, line[8192], path[4096] = "";
	FILE *f;
	(void)state;

	atu_setup(&t, 1, "alice");
	pristine = ws_xasprintf("%s/pristine", t.dir);
	cmd = ws_xasprintf("cp -a '%s' '%s'", t.tgt, pristine);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	log = ws_xasprintf("%s/journal.log", r.journal);
	f = fopen(log, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *p = line;

		if (strncmp(line, "S 0 ", 4))
			continue;
		for (int i = 0; i < 7 && p; i++)
			p = strchr(p + 1, ' ');
		assert_non_null(p);
		p[strcspn(p, "\t")] = '\0';
		snprintf(path, sizeof(path), "%s", p + 1);
	}
	fclose(f);
	assert_true(path[0] && !strchr(path, '%'));
	saved = ws_xasprintf("%s/saved/0", r.journal);
	assert_int_equal(unlink(saved), 0);
	/* the replacement never happened: the original is in place */
	cmd = ws_xasprintf("cp -p '%s/%s' '%s/%s'", pristine, path, t.tgt, path);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	apply_report_release(&r);
	undo_ok(t.tgt, NULL);
	now = atu_tree(t.tgt);
	assert_string_equal(before, now);
	free(now);
	free(saved);
	free(log);
	free(before);
	free(pristine);
	atu_release(&t);
}

/* Batches fit the open-file limit: three batches' files (linked, in flight,
 * written) and the linking's folder descriptors beside the folder cache,
 * 2048 files at most, 16 at least. */
static void batches_fit_the_open_file_limit(void **state)
{
	(void)state;
	assert_int_equal(aj_batch_size(65536), 2048);
	assert_int_equal(aj_batch_size(1024 * 9), 2048);
	assert_true(4 * aj_batch_size(1024 * 4) + WS_ROOT_MAX_OPEN + 100 < 1024 * 4);
	assert_true(aj_batch_size(1024 * 4) >= 512);
	assert_true(aj_batch_size(1024) < 256);
	assert_true(4 * aj_batch_size(1024) + WS_ROOT_MAX_OPEN + 100 < 1024);
	assert_true(aj_batch_size(1024) >= 128);
	assert_int_equal(aj_batch_size(300), 16);
	assert_int_equal(aj_batch_size(0), 16);
	assert_true(aj_open_min() >= WS_ROOT_MAX_OPEN + 4 * 16);
}

/* A new one-byte file `host` placed through the journal's open batch. */
static void place_byte(struct aj *j, const char *host, struct ws_buf *tmp)
{
	struct ws_error e;
	int fd;

	ws_error_clear(&e);
	tu_assert_ok(aj_temp_open(j, "file", 1, tmp, &fd, &e), &e);
	assert_int_equal(write(fd, "x", 1), 1);
	tu_assert_ok(aj_place_fd(j, tmp->buf, &fd, host, 0, &e), &e);
	if (fd >= 0)
		close(fd);
}

/* A file of a batch still being linked or in flight is in place once
 * aj_settle names it: apply reads such a path back (a later entry for the
 * same file) only after settling it, even when the open batch is empty. */
static void settle_waits_for_every_batch(void **state)
{
	struct atu t;
	struct vol *vol;
	struct aj *j;
	struct ws_error e;
	struct ws_buf tmp = WS_BUF_INIT;
	char *dir, *first, *mid;

	(void)state;
	atu_setup(&t, 1, "alice");
	ws_error_clear(&e);
	tu_assert_ok(vol_open(t.tgt, &vol, &e), &e);
	tu_assert_ok(aj_begin(vol, NULL, NULL, NULL, 1, &j, &e), &e);
	dir = ws_xasprintf("%s/Users/alice/settle", t.tgt);
	first = ws_xasprintf("%s/f0.txt", dir);
	mid = ws_xasprintf("%s/f700.txt", dir);
	tu_assert_ok(aj_mkdirs(j, dir, &e), &e);
	/* 1,536 files: the first batch is being linked, the second in flight,
	 * and the open one is empty (a full batch is launched at once) */
	for (int i = 0; i < 1536; i++) {
		char *host = ws_xasprintf("%s/f%d.txt", dir, i);

		place_byte(j, host, &tmp);
		free(host);
	}
	tu_assert_ok(aj_settle(j, first, &e), &e);
	assert_int_equal(access(first, F_OK), 0);
	tu_assert_ok(aj_settle(j, mid, &e), &e);
	assert_int_equal(access(mid, F_OK), 0);
	tu_assert_ok(aj_end(j, &e), &e);
	aj_close(j);
	vol_close(vol);
	undo_ok(t.tgt, NULL);
	assert_int_not_equal(access(first, F_OK), 0);
	ws_buf_release(&tmp);
	free(dir);
	free(first);
	free(mid);
	atu_release(&t);
}

/* Files named to collide in an unkeyed table (tu_crafted_name) in one
 * folder: the set of the batches' paths, keyed, visits a few slots per
 * lookup; unkeyed, each batch of 2,048 would be one run of slots. */
static void crafted_names_spread_in_batches(void **state)
{
	enum { N = 3072 };       /* placed; names N..4095 are looked up, absent */
	struct atu t;
	struct vol *vol;
	struct aj *j;
	struct ws_error e;
	struct ws_buf tmp = WS_BUF_INIT;
	char *dir, name[13];
	unsigned long probes;

	(void)state;
	atu_setup(&t, 1, "alice");
	ws_error_clear(&e);
	tu_assert_ok(vol_open(t.tgt, &vol, &e), &e);
	tu_assert_ok(aj_begin(vol, NULL, NULL, NULL, 1, &j, &e), &e);
	dir = ws_xasprintf("%s/Users/alice/crafted", t.tgt);
	tu_assert_ok(aj_mkdirs(j, dir, &e), &e);
	for (unsigned i = 0; i < N; i++) {
		char *host;

		tu_crafted_name(i, name);
		host = ws_xasprintf("%s/%s", dir, name);
		place_byte(j, host, &tmp);
		free(host);
		/* a lookup of a path the batches do not hold (apply settles a
		 * path before reading it back): nothing to wait for */
		tu_crafted_name(N + i % (4096 - N), name);
		host = ws_xasprintf("%s/%s", dir, name);
		tu_assert_ok(aj_settle(j, host, &e), &e);
		free(host);
	}
	probes = aj_pset_probes(j);
	tu_assert_ok(aj_end(j, &e), &e);
	/* a handful per path; a run of collisions costs hundreds each */
	assert_true(probes < 8ul * N);
	aj_close(j);
	vol_close(vol);
	undo_ok(t.tgt, NULL);
	for (unsigned i = 0; i < N; i += 97) {
		char *host;

		tu_crafted_name(i, name);
		host = ws_xasprintf("%s/%s", dir, name);
		assert_int_not_equal(access(host, F_OK), 0);
		free(host);
	}
	ws_buf_release(&tmp);
	free(dir);
	atu_release(&t);
}

/* A format-2 journal (F lines without an mtime, written by earlier
 * versions) is still read and undone exactly.  Rewritten from this apply's
 * format-3 journal, each line's checksum chained again as docs/apply.md
 * describes it (BLAKE2b-128 of the previous checksum and the record). */
/* Append record `rec` to `out` as journal.log has it: "rec TAB chk LF",
 * chk the BLAKE2b-128 of the previous chk and the record (documented in
 * apply_journal.c), advancing prev. */
static void chain_line(struct ws_buf *out, unsigned char prev[16], const struct ws_buf *rec)
{
	crypto_generichash_state st;
	char hex[33];

	crypto_generichash_init(&st, NULL, 0, 16);
	crypto_generichash_update(&st, prev, 16);
	crypto_generichash_update(&st, (const unsigned char *)rec->buf, rec->len);
	crypto_generichash_final(&st, prev, 16);
	sodium_bin2hex(hex, sizeof(hex), prev, 16);
	ws_buf_addf(out, "%s\t%s\n", rec->buf, hex);
}

static void format2_journal_undone(void **state)
{
	struct atu t;
	struct ws_buf out = WS_BUF_INIT;
	unsigned char prev[16] = { 0 };
	char *before, *now, *lp, *text, *line;
	int nf = 0;

	(void)state;
	atu_setup(&t, 1, "alice");
	before = atu_tree(t.tgt);
	lp = atu_apply_journal(&t);
	text = tu_read_file(lp, NULL);
	for (line = text; *line; line = strchr(line, '\n') + 1) {
		size_t len = strcspn(line, "\t");
		struct ws_buf rec = WS_BUF_INIT;

		if (!strncmp(line, "winstate-journal 3 ", 19)) {
			ws_buf_adds(&rec, "winstate-journal 2 ");
			ws_buf_add(&rec, line + 19, len - 19);
		} else if (!strncmp(line, "F ", 2)) {
			/* F ino size mtime-s mtime-ns path -> F ino size path */
			const char *p = line + 2, *q;

			q = strchr(strchr(p, ' ') + 1, ' ') + 1;
			ws_buf_add(&rec, line, (size_t)(q - line));
			q = strchr(strchr(q, ' ') + 1, ' ') + 1;
			ws_buf_add(&rec, q, len - (size_t)(q - line));
			nf++;
		} else {
			ws_buf_add(&rec, line, len);
		}
		chain_line(&out, prev, &rec);
		ws_buf_release(&rec);
	}
	assert_true(nf > 0);
	tu_write_file(lp, out.buf, out.len);
	undo_ok(t.tgt, NULL);
	now = atu_tree(t.tgt);
	assert_string_equal(before, now);
	free(now);
	free(before);
	free(text);
	free(lp);
	ws_buf_release(&out);
	atu_release(&t);
}

/* A journal whose first line names a newer format (a later winstate's):
 * undo stops there (36) and never passes over it to undo an older apply
 * out of order. */
static void newer_journal_blocks_undo(void **state)
{
	struct atu t;
	struct ws_buf out = WS_BUF_INIT;
	struct apply_undo_report u;
	struct ws_error e;
	unsigned char prev[16] = { 0 };
	char *first, *lp, *lp2, *text, *line, *applied, *now;
	(void)state;

	atu_setup(&t, 1, "alice");
	first = atu_apply_journal(&t);
	sleep(1);  /* journal ids sort by time */
	lp = atu_apply_journal(&t);
	assert_string_not_equal(first, lp);
	text = tu_read_file(lp, NULL);
	for (line = text; *line; line = strchr(line, '\n') + 1) {
		struct ws_buf rec = WS_BUF_INIT;
		size_t len = strcspn(line, "\t");

		if (line == text) {
			assert_true(!strncmp(line, "winstate-journal 3 ", 19));
			ws_buf_adds(&rec, "winstate-journal 9 ");
			ws_buf_add(&rec, line + 19, len - 19);
		} else {
			ws_buf_add(&rec, line, len);
		}
		chain_line(&out, prev, &rec);
		ws_buf_release(&rec);
	}
	tu_write_file(lp, out.buf, out.len);
	applied = atu_tree(t.tgt);
	ws_error_clear(&e);
	assert_int_equal(apply_undo(t.tgt, NULL, NULL, &u, &e), WS_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "format 9"));
	assert_non_null(strstr(e.msg, "newer"));
	now = atu_tree(t.tgt);
	assert_string_equal(applied, now);   /* the first apply not undone */
	/* named with --journal: the same */
	lp2 = ws_xstrdup(lp);
	*strrchr(lp2, '/') = 0;
	ws_error_clear(&e);
	assert_int_equal(apply_undo(t.tgt, lp2, NULL, &u, &e), WS_E_UNSUPPORTED);
	free(now);
	now = atu_tree(t.tgt);
	assert_string_equal(applied, now);
	free(now);
	free(lp2);
	free(applied);
	free(text);
	free(lp);
	free(first);
	ws_buf_release(&out);
	atu_release(&t);
}

/* ---- no hive held open while it is replaced -------------------------------
 * On ntfs-3g (FUSE) a file renamed over while open is kept as .fuse_hidden*
 * until its last close: a read handle on a hive that apply replaces leaves a
 * copy of the old hive on the target if that close comes late.  Checked at
 * the journal line saving each hive, just before its replacement: no mapping
 * of this process is on the hive (a read-only hivex handle maps its file)
 * and no descriptor but the journal's own (closed before the rename). */

struct held {
	char *root;          /* realpath of the target */
	unsigned checked;    /* hive replacements seen */
	char bad[512];       /* the first hive found held, "" if none */
};

/* Path (decoded, below the root) of the last line of the journal if it is
 * an S line of a hive; "" otherwise. */
static void last_saved_hive(const char *root, char *out, size_t n)
{
	struct ws_buf log = WS_BUF_INIT, path = WS_BUF_INIT;
	char *jdir = ws_xasprintf("%s/ProgramData/winstate/journal", root);
	DIR *d = opendir(jdir);
	struct dirent *de;
	const char *line, *end, *sp;

	out[0] = 0;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		ws_buf_reset(&path);
		ws_buf_addf(&path, "%s/%s/journal.log", jdir, de->d_name);
		ws_buf_reset(&log);
		if (ws_read_file(path.buf, 64u << 20, &log, NULL) != WS_OK)
			continue;
	}
	if (d)
		closedir(d);
	free(jdir);
	/* the last complete line */
	end = log.len && log.buf[log.len - 1] == '\n' ? log.buf + log.len - 1 : NULL;
	if (end) {
		line = end;
		while (line > log.buf && line[-1] != '\n')
			line--;
		if (line[0] == 'S' && line[1] == ' ') {
			const char *tab = memchr(line, '\t', (size_t)(end - line));

			for (sp = tab; sp && sp > line && sp[-1] != ' '; sp--)
				;
			if (tab && sp && (size_t)(tab - sp) < n) {
				memcpy(out, sp, (size_t)(tab - sp));
				out[tab - sp] = 0;
				if (!strcasestr(out, "NTUSER.DAT") && !strcasestr(out, "UsrClass.dat") &&
				    !strcasestr(out, "System32/config/"))
					out[0] = 0;
			}
		}
	}
	ws_buf_release(&log);
	ws_buf_release(&path);
}

static void check_hive_not_held(void *ctx, unsigned long n)
{
	struct held *h = ctx;
	char rel[400], host[1024], link[1024], fdp[64];
	unsigned fds = 0, maps = 0;
	DIR *d;
	struct dirent *de;
	FILE *f;
	char line[2048];
	(void)n;

	last_saved_hive(h->root, rel, sizeof(rel));
	if (!rel[0])
		return;
	h->checked++;
	snprintf(host, sizeof(host), "%s/%s", h->root, rel);
	if ((d = opendir("/proc/self/fd"))) {
		while ((de = readdir(d))) {
			ssize_t k;

			snprintf(fdp, sizeof(fdp), "/proc/self/fd/%s", de->d_name);
			k = readlink(fdp, link, sizeof(link) - 1);
			if (k > 0) {
				link[k] = 0;
				fds += strcmp(link, host) == 0;
			}
		}
		closedir(d);
	}
	if ((f = fopen("/proc/self/maps", "r"))) {
		size_t hl = strlen(host);

		while (fgets(line, sizeof(line), f)) {
			size_t l = strcspn(line, "\n");

			line[l] = 0;
			maps += l >= hl && strcmp(line + l - hl, host) == 0;
		}
		fclose(f);
	}
	if ((maps || fds > 1) && !h->bad[0])
		snprintf(h->bad, sizeof(h->bad), "%s: %u mapping(s), %u descriptor(s)", rel, maps, fds);
}

static void hives_not_held_while_replaced(void **state)
{
	static const char rules[] =
		"<migration urlid=\"http://example/held\">\n"
		" <component type=\"Documents\" context=\"UserAndSystem\">\n"
		"  <displayName>held</displayName>\n"
		"  <role role=\"Data\"><rules>\n"
		"   <include><objectSet>\n"
		"    <pattern type=\"File\">%CSIDL_PERSONAL%\\* [*]</pattern>\n"
		"    <pattern type=\"Registry\">HKCU\\Control Panel\\Desktop [*]</pattern>\n"
		"   </objectSet></include>\n"
		"   <!-- conditions the apply evaluates on the target: they read the\n"
		"        existing user's NTUSER.DAT and SOFTWARE -->\n"
		"   <include><objectSet>\n"
		"    <condition>MigXmlHelper.DoesObjectExist(\"Registry\",\"HKCU\\Control Panel\\Desktop\")</condition>\n"
		"    <condition>MigXmlHelper.DoesObjectExist(\"Registry\",\"HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\")</condition>\n"
		"    <pattern type=\"Registry\">HKCU\\Control Panel\\International [*]</pattern>\n"
		"   </objectSet></include>\n"
		"  </rules></role>\n"
		" </component>\n"
		"</migration>\n";
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	struct held h = { 0 };
	char *rf;
	const char *files[1];
	(void)state;

	atu_setup(&t, 2, "alice");
	rf = ws_xasprintf("%s/held.xml", t.dir);
	tu_write_file(rf, rules, strlen(rules));
	files[0] = rf;
	h.root = realpath(t.tgt, NULL);
	assert_non_null(h.root);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.rule_files = files;
	o.n_rule_files = 1;
	o.on_journal = check_hive_not_held;
	o.on_journal_ctx = &h;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_true(r.hives_committed >= 2);
	apply_report_release(&r);
	if (h.bad[0])
		fail_msg("a hive was held open while it was replaced: %s", h.bad);
	/* alice's NTUSER.DAT and SOFTWARE at least: the check ran */
	assert_true(h.checked >= 2);
	free(h.root);
	free(rf);
	atu_release(&t);
}

/*
 * Files written in place (a plain target): each file exists under its name
 * only once its journal line ("C path") is in journal.log, checked at many
 * journal points (after flushes and files placed, on the threads that
 * place them) of an apply of several batches; in the end every C line is
 * followed by the F line of the object the file became.  Fails if a
 * batch's files were made before its lines were written.
 */
struct inplace_ck {
	pthread_mutex_t mu;
	const char *tgt;
	char *before;            /* atu_tree of the target before the apply */
	char **logged;           /* paths of the C and F lines, sorted */
	size_t nlogged, alogged;
	unsigned long checked, missing, points;
	char bad[512];
};

static struct inplace_ck *inplace_cur;

static int inplace_file(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	struct inplace_ck *c = inplace_cur;
	const char *rel = path + strlen(c->tgt) + 1;
	struct ws_buf line = WS_BUF_INIT;
	char *key;

	(void)flag;
	(void)f;
	if (!S_ISREG(st->st_mode) || strstr(rel, "ProgramData/winstate/"))
		return 0;
	ws_buf_addf(&line, "\n/%s\t", rel);   /* a path of the tree before */
	if (strstr(c->before, line.buf)) {
		ws_buf_release(&line);
		return 0;
	}
	/* a new file: its path (encoded as the journal does) must be logged */
	ws_buf_reset(&line);
	for (const char *p = rel; *p; p++) {
		if (*p == '%' || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			ws_buf_addf(&line, "%%%02X", (unsigned char)*p);
		else
			ws_buf_addch(&line, *p);
	}
	key = line.buf;
	c->checked++;
	if (!c->nlogged ||
	    !bsearch(&key, c->logged, c->nlogged, sizeof(*c->logged), atu_line_cmp)) {
		c->missing++;
		if (!c->bad[0])
			snprintf(c->bad, sizeof(c->bad), "%s", rel);
	}
	ws_buf_release(&line);
	return 0;
}

static void inplace_hook(void *ctx, unsigned long n)
{
	struct inplace_ck *c = ctx;
	struct ws_buf log = WS_BUF_INIT;
	char *pat;
	glob_t g;
	int globbed;

	if (n % 97)
		return;   /* a sample of the points: each check lists the tree */
	pthread_mutex_lock(&c->mu);
	pat = ws_xasprintf("%s/ProgramData/winstate/journal/*/journal.log", c->tgt);
	/* the log first, then the tree: a file seen was made before */
	globbed = glob(pat, 0, NULL, &g) == 0;
	if (globbed && g.gl_pathc == 1 &&
	    ws_read_file(g.gl_pathv[0], 1u << 26, &log, NULL) == WS_OK) {
		c->nlogged = 0;
		for (char *s = log.buf; s && *s;) {
			char *nl = strchr(s, '\n'), *tab;

			if (!nl)
				break;   /* torn: being written */
			*nl = '\0';
			tab = strrchr(s, '\t');
			if ((s[0] == 'C' || s[0] == 'F') && s[1] == ' ' && tab) {
				*tab = '\0';
				WS_ALLOC_GROW(c->logged, c->nlogged + 1, c->alogged);
				c->logged[c->nlogged++] = strrchr(s, ' ') + 1;
			}
			s = nl + 1;
		}
		if (c->nlogged)
			qsort(c->logged, c->nlogged, sizeof(*c->logged), atu_line_cmp);
		inplace_cur = c;
		nftw(c->tgt, inplace_file, 32, FTW_PHYS);
		c->points++;
	}
	if (globbed)
		globfree(&g);
	free(pat);
	ws_buf_release(&log);
	pthread_mutex_unlock(&c->mu);
}

static void files_in_place_after_their_lines(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	struct inplace_ck c;
	struct ws_buf log = WS_BUF_INIT;
	char *path, *after;
	size_t cl = 0, fl = 0;
	(void)state;

	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&c.mu, NULL);
	setup_many(&t);
	c.tgt = t.tgt;
	{
		char *tree = atu_tree(t.tgt);

		c.before = ws_xasprintf("\n%s", tree);
		free(tree);
	}
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.on_journal = inplace_hook;
	o.on_journal_ctx = &c;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_true(r.files_placed >= 1600);
	path = ws_xasprintf("%s/journal.log", r.journal);
	apply_report_release(&r);
	if (c.missing)
		fail_msg("%lu of %lu checks found a file before its journal line (%s)", c.missing,
			 c.checked, c.bad);
	assert_true(c.points >= 10 && c.checked > 1600);
	/* written in place, each C line followed by its F line */
	tu_assert_ok(ws_read_file(path, 1u << 26, &log, &e), &e);
	for (char *s = log.buf; (s = strstr(s, "\nC ")) != NULL; s += 3)
		cl++;
	for (char *s = log.buf; (s = strstr(s, "\nF ")) != NULL; s += 3)
		fl++;
	assert_true(cl >= 1600);
	assert_true(fl >= cl);
	undo_ok(t.tgt, NULL);
	after = atu_tree(t.tgt);
	assert_string_equal(c.before + 1, after);
	free(after);
	free(path);
	free(c.before);
	free(c.logged);
	ws_buf_release(&log);
	pthread_mutex_destroy(&c.mu);
	atu_release(&t);
}

static void journal_paths(const char *log, char k, struct ws_buf *out);

/* syncfs fails (EIO) from its syncfs_fail_from-th call on; 0: never.  The
 * journal is linked with -Wl,--wrap=syncfs (tests/CMakeLists.txt). */
static atomic_int syncfs_calls, syncfs_fail_from, syncfs_failed;

int __real_syncfs(int fd);
int __wrap_syncfs(int fd);

/* With fck.tgt set, every syncfs checks that each F line in the journal
 * so far names a file that existed when an earlier syncfs, already back,
 * began (F lines wait for a syncfs that began after their files were
 * written), then notes the files there now. */
static struct {
	pthread_mutex_t mu;
	const char *tgt;
	char **seen, **now;      /* sorted: files when a syncfs that is back
				  * began; files when this one began */
	size_t nseen, aseen, nnow, anow;
	unsigned long bad, checked, syncs;
	char *first_bad;
} fck = { .mu = PTHREAD_MUTEX_INITIALIZER, .tgt = NULL };

static int fck_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fck_file(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)f;
	if (flag == FTW_F && S_ISREG(st->st_mode)) {
		WS_ALLOC_GROW(fck.now, fck.nnow + 1, fck.anow);
		fck.now[fck.nnow++] = ws_xstrdup(path + strlen(fck.tgt) + 1);
	}
	return 0;
}

static void fck_check(void)
{
	glob_t g;
	struct ws_buf log = WS_BUF_INIT, fp = WS_BUF_INIT;
	struct ws_error e;
	char *pat = ws_xasprintf("%s/ProgramData/winstate/journal/*/journal.log", fck.tgt);

	if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc == 1 &&
	    ws_read_file(g.gl_pathv[0], 1u << 26, &log, &e) == WS_OK) {
		struct ws_buf cp = WS_BUF_INIT;
		char **cv = NULL;
		size_t nc = 0, ac = 0;

		ws_buf_addch(&log, '\0');
		journal_paths(log.buf, 'F', &fp);
		/* only files written in place (a C line before): the F line of
		 * another file comes before it is made, as its announcement */
		journal_paths(log.buf, 'C', &cp);
		for (char *p = cp.buf + 1, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
			*nl = '\0';
			WS_ALLOC_GROW(cv, nc + 1, ac);
			cv[nc++] = p;
		}
		if (nc)
			qsort(cv, nc, sizeof(char *), fck_cmp);
		for (char *p = fp.buf + 1, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
			*nl = '\0';
			if (!nc || !bsearch(&p, cv, nc, sizeof(char *), fck_cmp))
				continue;
			/* percent-decoded, as on the disk */
			for (char *r = p, *w = p; ; r++, w++) {
				if (r[0] == '%' && isxdigit((unsigned char)r[1]) &&
				    isxdigit((unsigned char)r[2])) {
					char hx[3] = { r[1], r[2], 0 };

					*w = (char)strtol(hx, NULL, 16);
					r += 2;
				} else if (!(*w = *r)) {
					break;
				}
			}
			fck.checked++;
			if (!fck.nseen || !bsearch(&p, fck.seen, fck.nseen, sizeof(char *), fck_cmp)) {
				if (!fck.bad++)
					fck.first_bad = ws_xstrdup(p);
			}
		}
		free(cv);
		ws_buf_release(&cp);
	}
	if (g.gl_pathc)
		globfree(&g);
	free(pat);
	ws_buf_release(&log);
	ws_buf_release(&fp);
}

int __wrap_syncfs(int fd)
{
	int n = atomic_fetch_add(&syncfs_calls, 1) + 1, from = atomic_load(&syncfs_fail_from), rc;

	if (from && n >= from) {
		atomic_fetch_add(&syncfs_failed, 1);
		errno = EIO;
		return -1;
	}
	if (!fck.tgt)
		return __real_syncfs(fd);
	pthread_mutex_lock(&fck.mu);
	fck_check();
	fck.nnow = 0;
	assert_int_equal(nftw(fck.tgt, fck_file, 32, FTW_PHYS), 0);
	rc = __real_syncfs(fd);
	if (rc == 0) {
		/* this syncfs is back: what was there when it began counts */
		for (size_t i = 0; i < fck.nnow; i++) {
			WS_ALLOC_GROW(fck.seen, fck.nseen + 1, fck.aseen);
			fck.seen[fck.nseen++] = fck.now[i];
		}
		fck.nnow = 0;
		qsort(fck.seen, fck.nseen, sizeof(char *), fck_cmp);
		fck.syncs++;
	}
	for (size_t i = 0; i < fck.nnow; i++)
		free(fck.now[i]);
	fck.nnow = 0;
	pthread_mutex_unlock(&fck.mu);
	return rc;
}

/* The paths of the journal's lines of kind k ("C" or "F"), one per line,
 * each ending in '\n' (so that strstr finds whole paths). */
static void journal_paths(const char *log, char k, struct ws_buf *out)
{
	ws_buf_addch(out, '\n');
	for (const char *s = log; (s = strchr(s, '\n')) != NULL;) {
		const char *nl, *tab, *path;

		s++;
		if (s[0] != k || s[1] != ' ' || !(nl = strchr(s, '\n')))
			continue;
		tab = memrchr(s, '\t', (size_t)(nl - s));
		assert_non_null(tab);
		path = k == 'F' ? memrchr(s, ' ', (size_t)(tab - s)) + 1 : s + 2;
		ws_buf_add(out, path, (size_t)(tab - path));
		ws_buf_addch(out, '\n');
	}
}

/* Also between syncfs calls: at every 32nd journal entry. */
static void fck_hook(void *ctx, unsigned long n)
{
	(void)ctx;
	if (n % 32)
		return;
	pthread_mutex_lock(&fck.mu);
	if (fck.tgt)
		fck_check();
	pthread_mutex_unlock(&fck.mu);
}

/* Batches written in place are flushed by an fdatasync of the log and
 * their files' F lines wait for a syncfs run between batches: at every
 * syncfs and at the end, each F line in the journal names a file that
 * was there when a syncfs that is back began (checked at every syncfs and
 * every 32nd journal entry); undo exact. */
static void f_lines_follow_a_syncfs(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct ws_error e;
	char *before, *after;
	(void)state;

	setup_many(&t);
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.on_journal = fck_hook;
	pthread_mutex_lock(&fck.mu);
	fck.tgt = t.tgt;
	fck.bad = fck.checked = fck.syncs = 0;
	pthread_mutex_unlock(&fck.mu);
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_true(r.files_placed >= 1600);
	apply_report_release(&r);
	pthread_mutex_lock(&fck.mu);
	fck_check();   /* the journal as it ended */
	fck.tgt = NULL;
	pthread_mutex_unlock(&fck.mu);
	if (fck.bad)
		fail_msg("%lu of %lu F lines before a syncfs that began after their file (%s)",
			 fck.bad, fck.checked, fck.first_bad);
	assert_true(fck.checked >= 1600);
	assert_true(fck.syncs >= 1);
	for (size_t i = 0; i < fck.nseen; i++)
		free(fck.seen[i]);
	free(fck.seen);
	free(fck.now);
	fck.seen = fck.now = NULL;
	fck.nseen = fck.aseen = fck.anow = 0;
	undo_ok(t.tgt, NULL);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	free(after);
	free(before);
	atu_release(&t);
}

/*
 * A syncfs that fails mid-apply: the files already written in place are
 * flushed one by one and get their F lines, so that undo checks them like
 * any file apply made and leaves one the user changed since in place
 * (without its F line, a C line's file is removed whatever it holds).
 */
static void in_place_files_kept_when_syncfs_fails(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct ws_error e;
	struct ws_buf log = WS_BUF_INIT, cp = WS_BUF_INIT, fp = WS_BUF_INIT;
	char *path;
	unsigned long cl = 0;
	(void)state;

	setup_many(&t);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	atomic_store(&syncfs_calls, 0);
	atomic_store(&syncfs_failed, 0);
	atomic_store(&syncfs_fail_from, 3);
	ws_error_clear(&e);
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	atomic_store(&syncfs_fail_from, 0);
	assert_true(atomic_load(&syncfs_failed) > 0);
	assert_true(r.files_placed >= 1600);
	path = ws_xasprintf("%s/journal.log", r.journal);
	apply_report_release(&r);
	tu_assert_ok(ws_read_file(path, 1u << 26, &log, &e), &e);
	journal_paths(log.buf, 'C', &cp);
	journal_paths(log.buf, 'F', &fp);
	/* every file written in place has its F line, and the user edits it */
	for (const char *s = cp.buf + 1; *s; cl++) {
		const char *nl = strchr(s, '\n');
		char *needle = ws_xasprintf("\n%.*s\n", (int)(nl - s), s);
		char *file = ws_xasprintf("%s/%.*s", t.tgt, (int)(nl - s), s), *w = file;

		for (const char *c = file; *c; c++) {   /* the journal's %XX */
			unsigned x;

			if (*c == '%' && sscanf(c + 1, "%2x", &x) == 1) {
				*w++ = (char)x;
				c += 2;
			} else {
				*w++ = *c;
			}
		}
		*w = '\0';

		if (!strstr(fp.buf, needle))
			fail_msg("no F line for the file written in place %s", needle + 1);
		tu_write_file(file, "edited by the user\n", 19);
		free(needle);
		free(file);
		s = nl + 1;
	}
	assert_true(cl > 0);
	ws_error_clear(&e);
	/* partial: the edited files are left in place, every other change undone */
	assert_int_equal(apply_undo(t.tgt, NULL, NULL, &u, &e), WS_PARTIAL);
	assert_int_equal(u.left_files, cl);
	assert_true(u.complete && u.removed_files > 0);
	free(path);
	ws_buf_release(&log);
	ws_buf_release(&cp);
	ws_buf_release(&fp);
	atu_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(batches_fit_the_open_file_limit),
		cmocka_unit_test(apply_then_undo_restores_everything),
		cmocka_unit_test(dry_run_writes_nothing),
		cmocka_unit_test(killed_apply_can_be_undone),
		cmocka_unit_test(settle_waits_for_every_batch),
		cmocka_unit_test(crafted_names_spread_in_batches),
		cmocka_unit_test(format2_journal_undone),
		cmocka_unit_test(killed_apply_can_be_undone_fallback),
		cmocka_unit_test(journal_killed_before_first_line),
		cmocka_unit_test(two_applies_undo_in_turn),
		cmocka_unit_test(overwritten_file_comes_back),
		cmocka_unit_test(second_apply_puts_back_the_same_file),
		cmocka_unit_test(hard_linked_file_saved_as_copy),
		cmocka_unit_test(damaged_journal_undoes_nothing),
		cmocka_unit_test(batches_in_flight_undo_exactly),
		cmocka_unit_test(shared_batches_make_every_folder),
		cmocka_unit_test(batch_folder_swapped_for_a_link),
		cmocka_unit_test(saved_copy_lost_before_replacing),
		cmocka_unit_test(hives_not_held_while_replaced),
		cmocka_unit_test(newer_journal_blocks_undo),
		cmocka_unit_test(files_in_place_after_their_lines),
		cmocka_unit_test(in_place_files_kept_when_syncfs_fails),
		cmocka_unit_test(f_lines_follow_a_syncfs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
