/* test_confine.c - hostile stores and operator slips against apply and
 * undo: the journal folder as a link out of the target, entries planted
 * among the journals, store files aimed at the journals or at a hive, a
 * folder apply just made swapped for a link (a deterministic race, with
 * openat2 and with the O_NOFOLLOW walk), a target hive swapped for a link
 * after the preflight and before apply reads it, created files changed before undo,
 * damaged, torn, unfinished and format-1 journals; the new-object hook
 * sees every file and folder apply creates, before it is used. */
#include "apply_tu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/xattr.h>

#include "volume/volume.h"

static __attribute__((format(printf, 1, 0))) void sh(const char *fmt, const char *a,
						      const char *b)
{
	char *cmd;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	cmd = ws_xasprintf(fmt, a, b);
#pragma GCC diagnostic pop

	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
	free(cmd);
}

static int undo(const char *tgt, const char *journal, struct apply_undo_report *u,
		struct ws_error *e)
{
	ws_error_clear(e);
	return apply_undo(tgt, journal, NULL, u, e);
}

/* The journal folder (ProgramData/winstate/journal) of the target. */
static char *jroot(const struct atu *t)
{
	return ws_xasprintf("%s/ProgramData/winstate/journal", t->tgt);
}

static void journal_folder_link_refused(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct ws_error e;
	char *outside = tu_tmpdir(), *jr, *before, *after, *bait;
	(void)state;

	atu_setup(&t, 2, "alice");
	sh("mkdir -p '%s/ProgramData/winstate'%s", t.tgt, "");
	jr = jroot(&t);
	assert_int_equal(symlink(outside, jr), 0);
	/* what undo would have taken for the newest journal */
	bait = ws_xasprintf("%s/99999999T999999.999999Z-ffffffff", outside);
	assert_int_equal(mkdir(bait, 0755), 0);
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_TARGET);
	assert_non_null(strstr(e.msg, "link"));
	apply_report_release(&r);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	free(after);
	assert_int_equal(undo(t.tgt, NULL, &u, &e), WS_E_TARGET);
	assert_non_null(strstr(e.msg, "link"));
	assert_true(ws_path_exists(bait));
	/* a journal moved out after apply and linked back is not used either */
	assert_int_equal(unlink(jr), 0);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	apply_report_release(&r);
	{
		char *moved = ws_xasprintf("%s/moved", outside);

		assert_int_equal(rename(jr, moved), 0);
		assert_int_equal(symlink(moved, jr), 0);
		assert_int_equal(undo(t.tgt, NULL, &u, &e), WS_E_TARGET);
		assert_true(ws_path_exists(moved));
		assert_int_equal(unlink(jr), 0);
		assert_int_equal(rename(moved, jr), 0);
		free(moved);
	}
	tu_assert_ok(undo(t.tgt, NULL, &u, &e), &e);
	assert_true(u.complete);
	assert_int_equal(symlink(outside, jr), 0);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	free(after);
	free(before);
	free(bait);
	free(jr);
	free(outside);
	atu_release(&t);
}

static void plant(const char *dir, const char *name, const char *log)
{
	char *p = ws_xasprintf("%s/%s", dir, name), *l;

	if (!log) {
		tu_write_file(p, "planted", 7);
		free(p);
		return;
	}
	assert_int_equal(mkdir(p, 0755), 0);
	l = ws_xasprintf("%s/journal.log", p);
	tu_write_file(l, log, strlen(log));
	free(l);
	free(p);
}

static void planted_entries_ignored(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct ws_error e;
	char *jr, *before, *after, *ntuser;
	static const char *names[] = {
		"zzzz", "99999999T999999.999999Z-ffffffff", "99999999T999999.999999Z-fffffffe",
		"99999999T999999.999999Z-fffffffd", "99999999T999999.999999Z-fffffffc",
	};
	(void)state;

	atu_setup(&t, 1, "alice");
	jr = jroot(&t);
	sh("mkdir -p '%s'%s", jr, "");
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	apply_report_release(&r);
	ntuser = ws_xasprintf("%s/Users/alice/NTUSER.DAT", t.tgt);
	/* sorting after the real journal: a file, a file named as a journal,
	 * unchecked lines, a first line of another id, a format-1 journal */
	plant(jr, names[0], NULL);
	plant(jr, names[1], NULL);
	plant(jr, names[2], "winstate-journal 2 99999999T999999.999999Z-fffffffe\n"
	      "F 0 0 Users/alice/NTUSER.DAT\n");
	plant(jr, names[3], "winstate-journal 2 20000101T000000.000000Z-00000000\t"
	      "00000000000000000000000000000000\n");
	plant(jr, names[4], "winstate-journal 1\nF Users/alice/NTUSER.DAT\n");
	tu_assert_ok(undo(t.tgt, NULL, &u, &e), &e);
	assert_true(u.restored > 0);
	assert_null(strstr(u.journal, "99999999"));
	assert_true(ws_path_exists(ntuser));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *p = ws_xasprintf("%s/%s", jr, names[i]);

		assert_true(ws_path_exists(p));
		sh("rm -rf '%s'%s", p, "");
		free(p);
	}
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	/* alone, the format-1 journal is refused with a reason, untouched */
	plant(jr, names[4], "winstate-journal 1\nF Users/alice/NTUSER.DAT\n");
	assert_int_equal(undo(t.tgt, NULL, &u, &e), WS_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "format 1"));
	{
		char *p = ws_xasprintf("%s/%s", jr, names[4]);

		assert_int_equal(undo(t.tgt, p, &u, &e), WS_E_UNSUPPORTED);
		free(p);
	}
	assert_true(ws_path_exists(ntuser));
	free(before);
	free(after);
	free(ntuser);
	free(jr);
	atu_release(&t);
}

/* A scan of `device` with user alice whose only file is the system file
 * `path`. */
static void sys_store(const char *dir, const char *device, const char *path,
		      const char *content)
{
	struct store_open_opts so = { 0 };
	struct store *st;
	struct store_writer *w;
	struct store_scan_info info = { 0 };
	struct store_file f = { 0 };
	struct store_user u = { 0, "S-1-5-21-9-9-9-1001", "alice", "C:\\Users\\alice", 0,
				STORE_USER_LOCAL };
	struct ws_error e;

	so.create = 1;
	ws_error_clear(&e);
	tu_assert_ok(store_open(dir, &so, &st, &e), &e);
	info.device = device;
	info.system_drive = 'C';
	tu_assert_ok(store_scan_begin(st, &info, &w, &e), &e);
	tu_assert_ok(store_scan_add_user(w, &u, &e), &e);
	f.user = STORE_SYSTEM;
	f.path = path;
	f.size = strlen(content);
	f.written_ft = 133000000000000000ull;
	tu_assert_ok(store_scan_add_file_mem(w, &f, content, strlen(content), &e), &e);
	tu_assert_ok(store_scan_commit(w, NULL, &e), &e);
	store_close(st);
}

static void store_cannot_write_into_journals(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct ws_error e;
	char *before, *after, *planted;
	int rc;
	(void)state;

	atu_setup(&t, 1, "alice");
	before = atu_tree(t.tgt);
	free(t.store);
	t.store = ws_xasprintf("%s/evil", t.dir);
	sys_store(t.store, "EVILPC", "C:\\ProgramData\\winstate\\journal\\"
		  "99999999T999999.999999Z-ffffffff\\journal.log", "winstate-journal 2 x\n");
	snprintf(t.device, sizeof(t.device), "EVILPC");
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	rc = atu_apply(&t, &o, &r, &e);
	assert_int_equal(rc, WS_E_UNSUPPORTED);
	planted = ws_xasprintf("%s/ProgramData/winstate/journal/"
			       "99999999T999999.999999Z-ffffffff", t.tgt);
	assert_false(ws_path_exists(planted));
	if (r.journal[0])
		tu_assert_ok(undo(t.tgt, NULL, &u, &e), &e);
	apply_report_release(&r);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(planted);
	atu_release(&t);
}

static void hive_put_back_when_not_windows(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct ws_error e;
	struct vol *vol;
	char *before, *after, *sw;
	size_t len;
	char *orig;
	int rc;
	(void)state;

	/* an ordinary apply, then the SOFTWARE hive is lost */
	atu_setup(&t, 2, "alice");
	before = atu_tree(t.tgt);
	sw = ws_xasprintf("%s/Windows/System32/config/SOFTWARE", t.tgt);
	orig = tu_read_file(sw, &len);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	assert_true(r.hives_committed >= 2);
	apply_report_release(&r);
	tu_write_file(sw, "not a hive", 10);
	ws_error_clear(&e);
	assert_int_not_equal(vol_open(t.tgt, &vol, &e), WS_OK);
	tu_assert_ok(undo(t.tgt, NULL, &u, &e), &e);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	free(after);
	/* a store's system file where the hive is, overwriting (--conflict
	 * source): refused, or undone byte for byte */
	free(t.store);
	t.store = ws_xasprintf("%s/evil", t.dir);
	sys_store(t.store, "EVILPC", "C:\\Windows\\System32\\config\\SOFTWARE", "evil");
	snprintf(t.device, sizeof(t.device), "EVILPC");
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.conflict = APPLY_CONFLICT_SOURCE;
	rc = atu_apply(&t, &o, &r, &e);
	if (r.journal[0]) {
		int urc = undo(t.tgt, NULL, &u, &e);

		if (urc)
			fail_msg("apply gave %d; undo %d: %s", rc, urc, e.msg);
	}
	apply_report_release(&r);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	{
		size_t l2;
		char *now = tu_read_file(sw, &l2);

		assert_int_equal(l2, len);
		assert_memory_equal(now, orig, len);
		free(now);
	}
	free(orig);
	free(sw);
	free(before);
	free(after);
	atu_release(&t);
}

/* ---- a folder swapped for a link between its creation and its use ---- */

struct swap {
	const char *outside;
	char *link;              /* the folder that became a link */
	int calls;
};

static void swap_first(void *ctx, const char *host)
{
	struct swap *s = ctx;

	/* (the hook may run on several threads at once) */
	if (__atomic_fetch_add(&s->calls, 1, __ATOMIC_SEQ_CST))
		return;
	assert_int_equal(rmdir(host), 0);
	assert_int_equal(symlink(s->outside, host), 0);
	s->link = ws_xstrdup(host);
}

static void swap_race(int fallback)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct ws_error e;
	struct swap s = { 0 };
	char *outside = tu_tmpdir(), *before, *after;

	if (fallback)
		setenv("WS_TEST_NO_OPENAT2", "1", 1);
	atu_setup(&t, 1, "alice");
	before = atu_tree(t.tgt);
	s.outside = outside;
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.on_mkdir = swap_first;
	o.on_mkdir_ctx = &s;
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_TARGET);
	assert_int_equal(WS_E_TARGET, 71);
	assert_non_null(strstr(e.msg, "link"));
	assert_int_equal(s.calls, 1);
	assert_non_null(s.link);
	assert_true(tu_dir_empty(outside));
	assert_true(r.journal[0]);
	apply_report_release(&r);
	/* undo leaves the link (apply did not make it) and says so */
	assert_int_equal(undo(t.tgt, NULL, &u, &e), WS_PARTIAL);
	assert_int_equal(u.left_files, 1);
	assert_true(tu_dir_empty(outside));
	assert_int_equal(unlink(s.link), 0);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	unsetenv("WS_TEST_NO_OPENAT2");
	free(s.link);
	free(before);
	free(after);
	free(outside);
	atu_release(&t);
}

static void race_swap_openat2(void **state)
{
	(void)state;
	swap_race(0);
}

static void race_swap_fallback(void **state)
{
	(void)state;
	swap_race(1);
}

/* ---- a hive swapped for a link after the preflight, before it is read -- */

struct hive_swap {
	const char *hive, *outside;
	int calls;
};

/* The first object apply creates (its journal folder) comes after the
 * preflight and before any hive is read: swap alice's NTUSER.DAT there. */
static int swap_hive(void *ctx, int fd, int is_dir, const char *rel, struct ws_error *err)
{
	struct hive_swap *s = ctx;

	(void)fd;
	(void)is_dir;
	(void)rel;
	(void)err;
	if (s->calls++)
		return WS_OK;
	assert_int_equal(unlink(s->hive), 0);
	assert_int_equal(symlink(s->outside, s->hive), 0);
	return WS_OK;
}

static void hive_swap_race(int fallback)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct ws_error e;
	struct hive_swap s = { 0 };
	struct stat st;
	char *before, *after, *hive, *outside, *orig, *now;
	size_t len, l2;

	if (fallback)
		setenv("WS_TEST_NO_OPENAT2", "1", 1);
	atu_setup(&t, 1, "alice");
	before = atu_tree(t.tgt);
	hive = ws_xasprintf("%s/Users/alice/NTUSER.DAT", t.tgt);
	/* outside: a valid hive (alice's own), so only the way it is
	 * reached can refuse it */
	outside = ws_xasprintf("%s/outside.dat", t.dir);
	orig = tu_read_file(hive, &len);
	tu_write_file(outside, orig, len);
	s.hive = hive;
	s.outside = outside;
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.on_newobj = swap_hive;
	o.on_newobj_ctx = &s;
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_TARGET);
	assert_non_null(strstr(e.msg, "link where apply reads"));
	assert_true(s.calls >= 1);
	assert_int_equal(r.hives_committed, 0);
	/* the link is left as it was, the outside file unread into the
	 * target and unchanged */
	assert_int_equal(lstat(hive, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	now = tu_read_file(outside, &l2);
	assert_int_equal(l2, len);
	assert_memory_equal(now, orig, len);
	free(now);
	assert_true(r.journal[0]);
	apply_report_release(&r);
	ws_error_clear(&e);
	(void)undo(t.tgt, NULL, &u, &e);
	now = tu_read_file(outside, &l2);
	assert_int_equal(l2, len);
	assert_memory_equal(now, orig, len);
	free(now);
	/* put the hive back: the target is otherwise as it was */
	assert_int_equal(unlink(hive), 0);
	tu_write_file(hive, orig, len);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	unsetenv("WS_TEST_NO_OPENAT2");
	free(before);
	free(after);
	free(orig);
	free(hive);
	free(outside);
	atu_release(&t);
}

static void hive_swapped_before_read_openat2(void **state)
{
	(void)state;
	hive_swap_race(0);
}

static void hive_swapped_before_read_fallback(void **state)
{
	(void)state;
	hive_swap_race(1);
}

/* ---- created files changed before undo; damaged journals -------------- */

/* Path of the first "F" line of the journal (relative), malloc'd. */
static char *first_created(const char *journal)
{
	char *lp = ws_xasprintf("%s/journal.log", journal), *text = tu_read_file(lp, NULL);
	char *s = strstr(text, "\nF "), *out;

	assert_non_null(s);
	s += 3;
	for (int i = 0; i < 4; i++)   /* ino size mtime-s mtime-ns */
		s = strchr(s, ' ') + 1;
	out = ws_xstrndup(s, strcspn(s, "\t"));
	/* percent-decode (%20 ...) */
	for (char *r = out, *w = out;; r++, w++) {
		unsigned v;

		if (*r == '%' && sscanf(r + 1, "%2x", &v) == 1) {
			*w = (char)v;
			r += 2;
		} else {
			*w = *r;
		}
		if (!*r)
			break;
	}
	free(text);
	free(lp);
	return out;
}

static void changed_file_left_in_place(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct ws_error e;
	char *before, *after, *rel, *p, *tmp, *got;
	(void)state;

	atu_setup(&t, 1, "alice");
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	rel = first_created(r.journal);
	apply_report_release(&r);
	p = ws_xasprintf("%s/%s", t.tgt, rel);
	tmp = ws_xasprintf("%s.new", p);
	tu_write_file(tmp, "the user's own", 14);
	assert_int_equal(rename(tmp, p), 0);
	assert_int_equal(undo(t.tgt, NULL, &u, &e), WS_PARTIAL);
	assert_int_equal(u.left_files, 1);
	got = tu_read_file(p, NULL);
	assert_string_equal(got, "the user's own");
	assert_int_equal(unlink(p), 0);
	after = atu_tree(t.tgt);
	/* all else as before; only the kept file's new folders may remain */
	for (char *l = before; *l; l = strchr(l, '\n') + 1) {
		char *line = ws_xstrndup(l, strcspn(l, "\n") + 1);

		if (!strstr(after, line))
			fail_msg("missing after undo: %s", line);
		free(line);
	}
	for (char *l = after; *l; l = strchr(l, '\n') + 1) {
		char *line = ws_xstrndup(l, strcspn(l, "\n") + 1), *tab = strchr(line, '\t');

		if (!strstr(before, line)) {
			*tab = '\0';
			if (tab[1] != 'd' || strncmp(line + 1, rel, strlen(line + 1)))
				fail_msg("left after undo: %s", line);
		}
		free(line);
	}
	free(got);
	free(tmp);
	free(p);
	free(rel);
	free(before);
	free(after);
	atu_release(&t);
}

/* A file apply created and the user edited in place since, keeping its size
 * and inode (a settings file toggled, a database page): its mtime changed,
 * so undo leaves it (format 3 journals record the mtime). */
static void same_size_edit_left_in_place(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct ws_error e;
	struct stat st1, st2;
	char *rel, *p, *got, *want;
	size_t len;
	int fd;

	(void)state;
	atu_setup(&t, 1, "alice");
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	rel = first_created(r.journal);
	apply_report_release(&r);
	p = ws_xasprintf("%s/%s", t.tgt, rel);
	want = tu_read_file(p, &len);
	assert_true(len > 0);
	want[0] = want[0] == 'x' ? 'y' : 'x';
	assert_int_equal(stat(p, &st1), 0);
	fd = open(p, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, want, 1, 0), 1);
	assert_int_equal(close(fd), 0);
	assert_int_equal(stat(p, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
	assert_int_equal(st1.st_size, st2.st_size);
	assert_int_equal(undo(t.tgt, NULL, &u, &e), WS_PARTIAL);
	assert_int_equal(u.left_files, 1);
	got = tu_read_file(p, NULL);
	assert_memory_equal(got, want, len);
	free(got);
	free(want);
	free(p);
	free(rel);
	atu_release(&t);
}

static void journal_damage(void **state)
{
	struct atu t;
	struct apply_undo_report u;
	struct ws_error e;
	char *before, *mid, *now, *lp, *text;
	size_t len;
	(void)state;

	atu_setup(&t, 1, "alice");
	before = atu_tree(t.tgt);
	lp = atu_apply_journal(&t);
	text = tu_read_file(lp, &len);
	{
		/* one byte of a middle record changed */
		char *bad = ws_xmemdup(text, len + 1), *l2 = strchr(strchr(bad, '\n') + 1, '\n') + 1;

		l2[2] = l2[2] == 'x' ? 'y' : 'x';
		tu_write_file(lp, bad, len);
		mid = atu_tree(t.tgt);
		assert_int_equal(undo(t.tgt, NULL, &u, &e), WS_E_CORRUPT);
		assert_true(e.line > 1);
		free(bad);
		now = atu_tree(t.tgt);
		assert_string_equal(mid, now);
		free(now);
	}
	{
		/* a line added after END, even one with a well-formed checksum field */
		struct ws_buf b = WS_BUF_INIT;

		ws_buf_add(&b, text, len);
		ws_buf_adds(&b, "F 0 0 Windows/System32/config/SOFTWARE\t"
			    "00000000000000000000000000000000\n");
		tu_write_file(lp, b.buf, b.len);
		free(mid);
		mid = atu_tree(t.tgt);
		assert_int_equal(undo(t.tgt, NULL, &u, &e), WS_E_CORRUPT);
		ws_buf_release(&b);
		now = atu_tree(t.tgt);
		assert_string_equal(mid, now);
		free(now);
	}
	{
		/* without END (an apply that stopped) and a torn last line: undone */
		char *cut = ws_xmemdup(text, len + 1), *end = strstr(cut, "\nEND ");

		assert_non_null(end);
		strcpy(end + 1, "F 12 3 Users/ali");
		tu_write_file(lp, cut, strlen(cut));
		free(cut);
		tu_assert_ok(undo(t.tgt, NULL, &u, &e), &e);
		assert_false(u.complete);
		now = atu_tree(t.tgt);
		assert_string_equal(before, now);
		free(now);
	}
	free(text);
	free(lp);
	free(before);
	free(mid);
	atu_release(&t);
}

/* ---- the new-object hook ------------------------------------------------ */

struct newobj_seen {
	struct ws_buf calls;     /* "d rel\n" / "f rel\n" */
	int fail_at;             /* fail the n-th call (1-based), 0 = never */
	int n, xattrs;
};

static int on_newobj(void *ctx, int fd, int is_dir, const char *rel, struct ws_error *err)
{
	struct newobj_seen *s = ctx;
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	assert_true(is_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
	ws_buf_addf(&s->calls, "%c %s\n", is_dir ? 'd' : 'f', rel);
	/* what a security descriptor module would do: mark the object itself */
	if (fsetxattr(fd, "user.ws_newobj", "1", 1, 0) == 0)
		s->xattrs++;
	if (++s->n == s->fail_at)
		return ws_error_set(err, WS_E_TARGET, rel, "refused by the hook");
	return WS_OK;
}

static void pct_dec(char *s)
{
	for (char *r = s, *w = s;; r++, w++) {
		unsigned v;

		if (*r == '%' && sscanf(r + 1, "%2x", &v) == 1) {
			*w = (char)v;
			r += 2;
		} else {
			*w = *r;
		}
		if (!*r)
			break;
	}
}

static void newobj_hook_sees_every_creation(void **state)
{
	struct atu t;
	struct apply_opts o;
	struct apply_report r;
	struct apply_undo_report u;
	struct ws_error e;
	struct newobj_seen s = { WS_BUF_INIT, 0, 0, 0 };
	char *before, *after, *lp, *text;
	size_t checked = 0;
	(void)state;

	atu_setup(&t, 2, "alice");
	before = atu_tree(t.tgt);
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.on_newobj = on_newobj;
	o.on_newobj_ctx = &s;
	tu_assert_ok(atu_apply(&t, &o, &r, &e), &e);
	lp = ws_xasprintf("%s/journal.log", r.journal);
	text = tu_read_file(lp, NULL);
	/* every folder (D) and file (F) the journal announces went through it */
	for (char *l = strchr(text, '\n') + 1; *l; l = strchr(l, '\n') + 1) {
		char *line = ws_xstrndup(l, strcspn(l, "\t")), *path = NULL, *want, *host;

		if (line[0] == 'D')
			path = line + 2;
		else if (line[0] == 'F') {
			path = line + 2;
			for (int i = 0; i < 4; i++)   /* ino size mtime-s mtime-ns */
				path = strchr(path, ' ') + 1;
		}
		if (path) {
			pct_dec(path);
			want = ws_xasprintf("%c %s\n", line[0] == 'D' ? 'd' : 'f', path);
			if (!strstr(s.calls.buf, want))
				fail_msg("no new-object call for %s", want);
			host = ws_xasprintf("%s/%s", t.tgt, path);
			if (s.xattrs) {
				char v[4];

				if (getxattr(host, "user.ws_newobj", v, sizeof(v)) != 1)
					fail_msg("%s: not the object the hook saw", host);
			}
			checked++;
			free(want);
			free(host);
		}
		free(line);
	}
	assert_true(checked > 10);
	/* the journal's own folders too */
	assert_non_null(strstr(s.calls.buf, "/saved\n"));
	assert_non_null(strstr(s.calls.buf, "/work\n"));
	apply_report_release(&r);
	tu_assert_ok(undo(t.tgt, NULL, &u, &e), &e);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	free(after);
	/* a hook that refuses stops the apply; undo reverts what was done */
	ws_buf_reset(&s.calls);
	s.n = 0;
	s.fail_at = 8;
	apply_opts_init(&o);
	o.allow_plain_target = 1;
	o.on_newobj = on_newobj;
	o.on_newobj_ctx = &s;
	assert_int_equal(atu_apply(&t, &o, &r, &e), WS_E_TARGET);
	assert_non_null(strstr(e.msg, "refused by the hook"));
	apply_report_release(&r);
	tu_assert_ok(undo(t.tgt, NULL, &u, &e), &e);
	after = atu_tree(t.tgt);
	assert_string_equal(before, after);
	ws_buf_release(&s.calls);
	free(after);
	free(before);
	free(text);
	free(lp);
	atu_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(journal_folder_link_refused),
		cmocka_unit_test(planted_entries_ignored),
		cmocka_unit_test(store_cannot_write_into_journals),
		cmocka_unit_test(hive_put_back_when_not_windows),
		cmocka_unit_test(race_swap_openat2),
		cmocka_unit_test(race_swap_fallback),
		cmocka_unit_test(hive_swapped_before_read_openat2),
		cmocka_unit_test(hive_swapped_before_read_fallback),
		cmocka_unit_test(changed_file_left_in_place),
		cmocka_unit_test(same_size_edit_left_in_place),
		cmocka_unit_test(journal_damage),
		cmocka_unit_test(newobj_hook_sees_every_creation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
