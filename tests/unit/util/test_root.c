/* test_root.c - confined walks below a root (ws_root): case-insensitive
 * names as NTFS, links refused on every step, folders made relative to
 * held descriptors with the hooks in order, a folder swapped for a link
 * between its creation and its use; each test runs with openat2 and with
 * the O_NOFOLLOW fallback. */
#include "tu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/ws_fs.h"
#include "util/ws_root.h"

/* CACHED: the same tests with the folder cache on (ws_root_cache_on) */
#define CACHED 0x100u
static unsigned mode_flags[] = { 0, WS_ROOT_NO_OPENAT2, CACHED, WS_ROOT_NO_OPENAT2 | CACHED };

static struct ws_root *open_root(const char *dir, void **state)
{
	struct ws_root *r;
	struct ws_error e;
	unsigned f = *(unsigned *)*state;

	ws_error_clear(&e);
	tu_assert_ok(ws_root_open(dir, f & ~CACHED, &r, &e), &e);
	if (f & WS_ROOT_NO_OPENAT2)
		assert_false(ws_root_has_openat2(r));
	if (f & CACHED)
		ws_root_cache_on(r, 0);
	return r;
}

static void mkd(const char *root, const char *rel)
{
	char *p = ws_xasprintf("%s/%s", root, rel);
	struct ws_error e;

	ws_error_clear(&e);
	tu_assert_ok(ws_mkdir_p(p, WS_E_IO, &e), &e);
	free(p);
}

static void names_match_as_ntfs(void **state)
{
	char *dir = tu_tmpdir();
	struct ws_root *r;
	struct ws_buf act = WS_BUF_INIT, leaf = WS_BUF_INIT;
	struct ws_error e;
	int fd = -1;

	mkd(dir, "Users/Alice/Documents");
	r = open_root(dir, state);
	ws_error_clear(&e);
	tu_assert_ok(ws_root_opendir(r, "users/ALICE/documents", &fd, &act, &e), &e);
	assert_string_equal(act.buf, "Users/Alice/Documents");
	close(fd);
	tu_assert_ok(ws_root_opendir(r, "", &fd, NULL, &e), &e);
	close(fd);
	/* the parent and the leaf's name on disk, or as given when absent */
	tu_assert_ok(ws_root_parent(r, "USERS/alice/DOCUMENTS", &fd, &leaf, NULL, &e), &e);
	assert_string_equal(leaf.buf, "Documents");
	close(fd);
	ws_buf_reset(&leaf);
	tu_assert_ok(ws_root_parent(r, "users/alice/New.txt", &fd, &leaf, &act, &e), &e);
	assert_string_equal(leaf.buf, "New.txt");
	close(fd);
	assert_int_equal(ws_root_opendir(r, "Users/bob", &fd, NULL, &e), WS_E_IO);
	assert_int_equal(e.sys_errno, ENOENT);
	{
		char *h = ws_xasprintf("%s/Users/x", dir);

		assert_string_equal(ws_root_rel(r, h), "Users/x");
		free(h);
	}
	assert_null(ws_root_rel(r, "/elsewhere/Users"));
	ws_buf_release(&act);
	ws_buf_release(&leaf);
	ws_root_free(r);
	free(dir);
}

static void links_refused_on_every_step(void **state)
{
	char *dir = tu_tmpdir(), *outside = tu_tmpdir();
	char *l1 = ws_xasprintf("%s/Users/alice/Documents", dir);
	char *l2 = ws_xasprintf("%s/inside", dir);
	char *f = ws_xasprintf("%s/file", dir);
	struct ws_root *r;
	struct ws_buf leaf = WS_BUF_INIT;
	struct ws_error e;
	int fd = -1;

	mkd(dir, "Users/alice");
	mkd(dir, "Public");
	assert_int_equal(symlink(outside, l1), 0);
	/* a link that stays inside is refused as well: nothing follows links */
	assert_int_equal(symlink("Public", l2), 0);
	tu_write_file(f, "x", 1);
	r = open_root(dir, state);
	ws_error_clear(&e);
	assert_int_equal(ws_root_opendir(r, "Users/alice/Documents", &fd, NULL, &e), WS_E_TARGET);
	assert_non_null(strstr(e.msg, "link"));
	assert_int_equal(ws_root_opendir(r, "users/Alice/documents/sub", &fd, NULL, &e),
			 WS_E_TARGET);
	assert_int_equal(ws_root_mkdirs(r, "Users/alice/Documents/new/deeper", NULL, NULL, NULL,
					&e), WS_E_TARGET);
	assert_int_equal(ws_root_parent(r, "Users/alice/Documents/evil.txt", &fd, &leaf, NULL,
					&e), WS_E_TARGET);
	assert_int_equal(ws_root_opendir(r, "inside", &fd, NULL, &e), WS_E_TARGET);
	assert_int_equal(ws_root_mkdirs(r, "file/x", NULL, NULL, NULL, &e), WS_E_TARGET);
	assert_non_null(strstr(e.msg, "not a folder"));
	assert_true(tu_dir_empty(outside));
	/* "..", "." and empty components are refused, not resolved */
	assert_int_equal(ws_root_opendir(r, "Users/../..", &fd, NULL, &e), WS_E_UNSUPPORTED);
	assert_int_equal(ws_root_mkdirs(r, "Users/./x", NULL, NULL, NULL, &e), WS_E_UNSUPPORTED);
	assert_int_equal(ws_root_mkdirs(r, "Users//x", NULL, NULL, NULL, &e), WS_E_UNSUPPORTED);
	assert_int_equal(ws_root_parent(r, "Users/..", &fd, &leaf, NULL, &e), WS_E_UNSUPPORTED);
	assert_int_equal(ws_root_step(r, ws_root_fd(r), ".."), -1);
	ws_buf_release(&leaf);
	ws_root_free(r);
	free(l1);
	free(l2);
	free(f);
	free(dir);
	free(outside);
}

struct seen {
	struct ws_buf before, made;
	int stop_at;             /* before() fails at this call (1-based), 0 = never */
	int calls;
};

static int on_before(void *ctx, const char *rel, struct ws_error *err)
{
	struct seen *s = ctx;

	ws_buf_addf(&s->before, "%s;", rel);
	if (++s->calls == s->stop_at)
		return ws_error_set(err, WS_E_IO, rel, "stopped");
	return WS_OK;
}

static int on_new(void *ctx, int fd, int is_dir, const char *rel, struct ws_error *err)
{
	struct seen *s = ctx;
	struct stat st;

	(void)err;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(is_dir && S_ISDIR(st.st_mode));
	ws_buf_addf(&s->made, "%s;", rel);
	return WS_OK;
}

static void mkdirs_announce_then_make(void **state)
{
	char *dir = tu_tmpdir(), *p;
	struct ws_root *r;
	struct seen s = { WS_BUF_INIT, WS_BUF_INIT, 0, 0 };
	struct ws_newobj n = { on_new, &s };
	struct ws_error e;
	int fd = -1;

	mkd(dir, "Users/Alice");
	r = open_root(dir, state);
	ws_root_set_newobj(r, &n);
	ws_error_clear(&e);
	tu_assert_ok(ws_root_mkdirs(r, "users/alice/Docs/Sub", on_before, &s, &fd, &e), &e);
	assert_true(fd >= 0);
	close(fd);
	/* existing folders keep their names; only the missing ones are made */
	assert_string_equal(s.before.buf, "Users/Alice/Docs;Users/Alice/Docs/Sub;");
	assert_string_equal(s.made.buf, "Users/Alice/Docs;Users/Alice/Docs/Sub;");
	p = ws_xasprintf("%s/Users/Alice/Docs/Sub", dir);
	assert_true(ws_path_exists(p));
	free(p);
	/* a refusal of before() makes nothing */
	s.calls = 0;
	s.stop_at = 1;
	assert_int_equal(ws_root_mkdirs(r, "Users/Alice/Other", on_before, &s, NULL, &e), WS_E_IO);
	p = ws_xasprintf("%s/Users/Alice/Other", dir);
	assert_false(ws_path_exists(p));
	free(p);
	ws_buf_release(&s.before);
	ws_buf_release(&s.made);
	ws_root_free(r);
	free(dir);
}

static const char *swap_outside;

/* Between creation and use: the new folder becomes a link outside. */
static void swap_for_link(void *ctx, int parent, const char *name, const char *rel)
{
	int *count = ctx;

	(void)rel;
	if ((*count)++ != 0)
		return;
	assert_int_equal(unlinkat(parent, name, AT_REMOVEDIR), 0);
	assert_int_equal(symlinkat(swap_outside, parent, name), 0);
}

static void folder_swapped_after_mkdir(void **state)
{
	char *dir = tu_tmpdir(), *outside = tu_tmpdir();
	struct ws_root *r;
	struct ws_error e;
	int count = 0;

	swap_outside = outside;
	r = open_root(dir, state);
	ws_root_set_after_mkdir(r, swap_for_link, &count);
	ws_error_clear(&e);
	assert_int_equal(ws_root_mkdirs(r, "new/deeper/deepest", NULL, NULL, NULL, &e),
			 WS_E_TARGET);
	assert_non_null(strstr(e.msg, "link"));
	assert_int_equal(count, 1);
	assert_true(tu_dir_empty(outside));
	/* and later walks refuse it too */
	ws_root_set_after_mkdir(r, NULL, NULL);
	assert_int_equal(ws_root_mkdirs(r, "new/x", NULL, NULL, NULL, &e), WS_E_TARGET);
	assert_true(tu_dir_empty(outside));
	ws_root_free(r);
	free(dir);
	free(outside);
}

static void remove_tree_never_follows(void **state)
{
	char *dir = tu_tmpdir(), *outside = tu_tmpdir();
	char *keep = ws_xasprintf("%s/keep.txt", outside), *l = ws_xasprintf("%s/t/a/link", dir);
	int fd;

	(void)state;
	mkd(dir, "t/a/b");
	tu_write_file(keep, "k", 1);
	assert_int_equal(symlink(outside, l), 0);
	{
		char *f = ws_xasprintf("%s/t/a/b/f", dir);
		tu_write_file(f, "f", 1);
		free(f);
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(ws_remove_tree_at(fd, "t"), 0);
	assert_int_equal(ws_remove_tree_at(fd, "t"), 0); /* gone: fine */
	close(fd);
	assert_true(tu_dir_empty(dir));
	assert_true(ws_path_exists(keep));
	free(keep);
	free(l);
	free(dir);
	free(outside);
}

static void xattrs_copied(void **state)
{
	char *dir = tu_tmpdir(), *a = ws_xasprintf("%s/a", dir), *b = ws_xasprintf("%s/b", dir);
	const char *names[] = { "user.ws_sd", "user.ws_attr", "user.ws_none", NULL };
	char v[16];
	int fa, fb;

	(void)state;
	tu_write_file(a, "a", 1);
	tu_write_file(b, "b", 1);
	fa = open(a, O_RDONLY);
	fb = open(b, O_RDONLY);
	if (fsetxattr(fa, "user.ws_sd", "SD", 2, 0) != 0) {
		close(fa);
		close(fb);
		printf("[  SKIP    ] no user xattrs on %s\n", dir);
		skip();
	}
	assert_int_equal(fsetxattr(fa, "user.ws_attr", "A1", 2, 0), 0);
	assert_int_equal(fsetxattr(fb, "user.ws_attr", "B2", 2, 0), 0);
	/* keep_existing: b keeps its attribute, gets the descriptor */
	assert_int_equal(ws_copy_xattrs(fa, fb, names, 1), 0);
	assert_int_equal(fgetxattr(fb, "user.ws_sd", v, sizeof(v)), 2);
	assert_memory_equal(v, "SD", 2);
	assert_int_equal(fgetxattr(fb, "user.ws_attr", v, sizeof(v)), 2);
	assert_memory_equal(v, "B2", 2);
	assert_int_equal(ws_copy_xattrs(fa, fb, names, 0), 0);
	assert_int_equal(fgetxattr(fb, "user.ws_attr", v, sizeof(v)), 2);
	assert_memory_equal(v, "A1", 2);
	assert_true(fgetxattr(fb, "user.ws_none", v, sizeof(v)) < 0);
	/* the NTFS names are skipped where the file system has none */
	assert_int_equal(ws_copy_xattrs(fa, fb, ws_ntfs_xattrs, 0), 0);
	close(fa);
	close(fb);
	free(a);
	free(b);
	free(dir);
}

static void openat2_used_where_present(void **state)
{
	char *dir = tu_tmpdir();
	struct ws_root *r;
	struct ws_error e;

	(void)state;
	ws_error_clear(&e);
	tu_assert_ok(ws_root_open(dir, 0, &r, &e), &e);
	/* this kernel (>= 5.6) has it; report rather than fail elsewhere */
	if (!ws_root_has_openat2(r))
		printf("[  NOTE    ] openat2 unavailable: only the fallback walk is tested\n");
	ws_root_free(r);
	setenv("WS_TEST_NO_OPENAT2", "1", 1);
	tu_assert_ok(ws_root_open(dir, 0, &r, &e), &e);
	assert_false(ws_root_has_openat2(r));
	ws_root_free(r);
	unsetenv("WS_TEST_NO_OPENAT2");
	assert_int_equal(ws_root_open("/nonexistent/winstate", 0, &r, &e), WS_E_TARGET);
	free(dir);
}


/* ---- the folder cache ---- */

static int note_before(void *ctx, const char *rel, struct ws_error *err)
{
	(void)err;
	ws_buf_addf(ctx, "%s\n", rel);
	return WS_OK;
}

static int note_newobj(void *ctx, int fd, int is_dir, const char *rel, struct ws_error *err)
{
	struct stat st;

	(void)err;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode) == !!is_dir);
	ws_buf_addf(ctx, "%s\n", rel);
	return WS_OK;
}

static void dropped(void *ctx, const char *rel)
{
	ws_buf_addf(ctx, "%s\n", rel);
}

/* Deferred folders: announced, known to lookups, absent on disk until
 * ws_root_make_pending makes them (parents first, with the hooks); what is
 * made in a cached folder is found ignoring case; dropped ones vanish. */
static void cache_defers_folders(void **state)
{
	char *dir = tu_tmpdir(), *p;
	struct ws_buf ann = WS_BUF_INIT, made = WS_BUF_INIT, got = WS_BUF_INIT,
		      drop = WS_BUF_INIT;
	struct ws_newobj hook = { note_newobj, &made };
	struct ws_root *r;
	struct ws_rdir *d;
	struct ws_error e;
	int fd;

	mkd(dir, "Users/Alice");
	r = open_root(dir, state);
	ws_root_cache_on(r, 1);
	ws_root_set_newobj(r, &hook);
	ws_error_clear(&e);
	tu_assert_ok(ws_root_mkdirs(r, "users/alice/Docs/Sub", note_before, &ann, NULL, &e), &e);
	assert_string_equal(ann.buf, "Users/Alice/Docs\nUsers/Alice/Docs/Sub\n");
	assert_true(ws_root_has_pending(r));
	p = ws_xasprintf("%s/Users/Alice/Docs", dir);
	assert_false(ws_path_exists(p));
	/* known to lookups while pending, without a descriptor */
	tu_assert_ok(ws_root_dir(r, "USERS/ALICE/docs", &d, NULL, &e), &e);
	assert_true(ws_rdir_pending(d));
	assert_int_equal(ws_rdir_fd(r, d), -1);
	assert_int_equal(ws_rdir_find(r, d, "SUB", &got), 1);
	assert_string_equal(got.buf, "Sub");
	/* a second mkdirs announces nothing more */
	tu_assert_ok(ws_root_mkdirs(r, "Users/Alice/Docs/Sub", note_before, &ann, NULL, &e), &e);
	assert_string_equal(ann.buf, "Users/Alice/Docs\nUsers/Alice/Docs/Sub\n");
	tu_assert_ok(ws_root_make_pending(r, &e), &e);
	assert_false(ws_root_has_pending(r));
	assert_true(ws_path_exists(p));
	assert_string_equal(made.buf, "Users/Alice/Docs\nUsers/Alice/Docs/Sub\n");
	fd = ws_rdir_fd(r, d);
	assert_true(fd >= 0);
	/* a file made there and told to the cache is found ignoring case */
	assert_int_equal(close(openat(fd, "New.txt", O_CREAT | O_WRONLY, 0644)), 0);
	ws_rdir_note(d, "New.txt", 1);
	ws_buf_reset(&got);
	assert_int_equal(ws_rdir_find(r, d, "NEW.TXT", &got), 1);
	assert_string_equal(got.buf, "New.txt");
	ws_rdir_note(d, "New.txt", 0);
	assert_int_equal(ws_rdir_find(r, d, "new.txt", &got), 0);
	/* pending folders dropped after a failure: children first, gone */
	tu_assert_ok(ws_root_mkdirs(r, "Users/Alice/X/Y", NULL, NULL, NULL, &e), &e);
	ws_root_drop_pending(r, dropped, &drop);
	assert_string_equal(drop.buf, "Users/Alice/X/Y\nUsers/Alice/X\n");
	assert_int_equal(ws_root_dir(r, "Users/Alice/X", &d, NULL, &e), WS_E_IO);
	ws_root_free(r);
	ws_buf_release(&ann);
	ws_buf_release(&made);
	ws_buf_release(&got);
	ws_buf_release(&drop);
	free(p);
	free(dir);
}

/* More folders than descriptors held: the others are closed and opened
 * again from their parents. */
static void cache_reopens_beyond_limit(void **state)
{
	char *dir = tu_tmpdir();
	struct ws_root *r = open_root(dir, state);
	struct ws_error e;
	char rel[64];
	int fd;

	ws_root_cache_on(r, 0);
	ws_error_clear(&e);
	for (int i = 0; i < WS_ROOT_MAX_OPEN + 40; i++) {
		snprintf(rel, sizeof(rel), "a/d%d/e", i);
		tu_assert_ok(ws_root_mkdirs(r, rel, NULL, NULL, NULL, &e), &e);
	}
	for (int i = 0; i < WS_ROOT_MAX_OPEN + 40; i++) {
		snprintf(rel, sizeof(rel), "A/D%d/E", i);
		tu_assert_ok(ws_root_opendir(r, rel, &fd, NULL, &e), &e);
		close(fd);
	}
	ws_root_free(r);
	free(dir);
}

/* A folder of names made to collide in an unkeyed table (tu_crafted_name):
 * with the cache's keyed hash, reading the folder and finding each name
 * (in other case) visits a few slots per name, not a run of thousands. */
static void cache_spreads_crafted_names(void **state)
{
	enum { N = 4096 };
	char *dir = tu_tmpdir(), *f = ws_xasprintf("%s/F", dir);
	struct ws_buf got = WS_BUF_INIT;
	struct ws_root *r;
	struct ws_rdir *d;
	struct ws_error e;
	char name[13], path[64];
	size_t probes;
	int dfd;

	(void)state;
	mkd(dir, "F");
	assert_true((dfd = open(f, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0);
	for (unsigned i = 0; i < N; i++) {
		int fd;

		tu_crafted_name(i, name);
		snprintf(path, sizeof(path), "%s.Txt", name);
		assert_true((fd = openat(dfd, path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) >= 0);
		close(fd);
	}
	close(dfd);
	ws_error_clear(&e);
	tu_assert_ok(ws_root_open(dir, 0, &r, &e), &e);
	ws_root_cache_on(r, 0);
	tu_assert_ok(ws_root_dir(r, "f", &d, NULL, &e), &e);
	for (unsigned i = 0; i < N; i++) {
		tu_crafted_name(i, name);
		snprintf(path, sizeof(path), "%s.TXT", name);
		ws_buf_reset(&got);
		assert_int_equal(ws_rdir_find(r, d, path, &got), 1);
		assert_int_equal(strcmp(got.buf + 12, ".Txt"), 0);
	}
	/* about 12 per name (listing: a search and an insertion at up to 3/4
	 * full, growing, finding); one run of collisions costs N * N / 2 */
	probes = ws_root_probes(r);
	assert_true(probes < 32 * N);
	ws_root_free(r);
	ws_buf_release(&got);
	free(f);
	free(dir);
}

#define BOTH(fn) cmocka_unit_test_prestate(fn, &mode_flags[0]), \
		 cmocka_unit_test_prestate(fn, &mode_flags[1])
#define CACHE(fn) cmocka_unit_test_prestate(fn, &mode_flags[2]), \
		  cmocka_unit_test_prestate(fn, &mode_flags[3])

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(names_match_as_ntfs),
		BOTH(links_refused_on_every_step),
		CACHE(names_match_as_ntfs),
		CACHE(links_refused_on_every_step),
		CACHE(mkdirs_announce_then_make),
		BOTH(cache_defers_folders),
		BOTH(cache_reopens_beyond_limit),
		BOTH(mkdirs_announce_then_make),
		BOTH(folder_swapped_after_mkdir),
		cmocka_unit_test(remove_tree_never_follows),
		cmocka_unit_test(xattrs_copied),
		cmocka_unit_test(openat2_used_where_present),
		cmocka_unit_test(cache_spreads_crafted_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
