/* test_walkahead.c - vol_walk reading folders ahead on a second thread
 * (vol_set_walk_ahead) gives the callback what the plain walk gives it:
 * the same entries in the same order, with folders skipped by the callback,
 * links and link loops, unreadable folders, nesting too deep, a folder of
 * thousands of entries, a callback that stops the walk, and one that
 * pauses now and then (the reading thread then lists far ahead, and the
 * walk lists the folders it reaches first itself); and what is read ahead
 * stays bounded in entries, not only in folders. */
#include "tu.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fixture.h"
#include "util/ws_fs.h"
#include "volume/volume.h"
#include "volume/volume_private.h"

struct rec {
	struct ws_buf log;
	unsigned n;
	unsigned stop_at;          /* 0 = never: else fail at that entry */
	int pause;                 /* pause at some folders */
};

/* Everything the callback can see of an entry, one line each. */
static int rec_cb(const struct vol_entry *e, void *ctx, struct ws_error *err)
{
	struct rec *r = ctx;

	ws_buf_addf(&r->log, "%u|%d|%s|%s|%s|%d|%d|%d|%o|%llu|%llu|%x|%d|%llu|%llu|%llu|"
		    "%x|%s|%s|%d|%d|%s\n",
		    e->depth, (int)e->type, e->host_path, e->win_path, e->name,
		    e->name_valid, e->loop, e->other_device, (unsigned)e->mode,
		    (unsigned long long)e->ino, (unsigned long long)e->size,
		    e->attributes, e->attrs_from_ntfs,
		    (unsigned long long)e->creation_time,
		    (unsigned long long)e->write_time,
		    (unsigned long long)e->change_time, e->reparse_tag,
		    e->link_target ? e->link_target : "-",
		    e->link_win_target ? e->link_win_target : "-", e->err_code,
		    e->err_errno, e->err_msg ? e->err_msg : "-");
	if (r->stop_at && ++r->n == r->stop_at) {
		ws_error_set(err, WS_E_IO, e->host_path, "stopped by test");
		return -1;
	}
	/* a slow callback now and then: the reading thread gets ahead,
	 * then the walk catches up with it */
	if (r->pause && e->type == VOL_ENT_DIR && e->name[0] &&
	    e->name[strlen(e->name) - 1] == '0')
		usleep(300);
	/* the callback's own pruning */
	if (e->type == VOL_ENT_DIR && (!strncmp(e->name, "skip", 4) ||
				       !strcmp(e->name, "AppData")))
		return VOL_WALK_SKIP;
	return VOL_WALK_CONTINUE;
}

static void mk(const char *path)
{
	assert_int_equal(mkdir(path, 0755), 0);
}

/* The installation, with what the walk must get right beyond it. */
static char *make_tree(struct ws_buf *unreadable)
{
	struct fx_opts o;
	struct ws_error err;
	struct ws_buf p = WS_BUF_INIT;
	char *dir = tu_tmpdir();
	size_t base;
	int fd;

	fx_opts_init(&o);
	o.out_dir = dir;
	o.seed = 21;
	o.users = 2;
	o.files = 300;
	o.computer = "DESKTOP-AHEAD";
	o.os = FX_WIN11;
	ws_error_clear(&err);
	tu_assert_ok(fx_build(&o, NULL, &err), &err);

	ws_buf_addf(&p, "%s/Users/Public/x", dir);
	base = p.len;
	tu_assert_ok(ws_mkdir_p(p.buf, WS_E_IO, &err), &err);
	/* skipped folders with content below them (read ahead, then dropped) */
	for (int i = 0; i < 40; i++) {
		ws_buf_setlen(&p, base);
		ws_buf_addf(&p, "/skip%02d", i);
		mk(p.buf);
		for (int k = 0; k < 3; k++) {
			ws_buf_addf(&p, "/d%d", k);
			mk(p.buf);
			ws_buf_adds(&p, "/f.txt");
			tu_write_file(p.buf, "f", 1);
			ws_buf_setlen(&p, p.len - 6);
		}
		ws_buf_setlen(&p, base);
		ws_buf_addf(&p, "/keep%02d", i);
		mk(p.buf);
		ws_buf_adds(&p, "/k.txt");
		tu_write_file(p.buf, "k", 1);
	}
	/* a link to a folder above it (a junction loop), never followed */
	ws_buf_setlen(&p, base);
	ws_buf_adds(&p, "/keep00/loop");
	assert_int_equal(symlink("..", p.buf), 0);
	/* a FIFO */
	ws_buf_setlen(&p, base);
	ws_buf_adds(&p, "/fifo");
	assert_int_equal(mkfifo(p.buf, 0644), 0);
	/* a folder of 3,000 entries, some of them folders */
	ws_buf_setlen(&p, base);
	ws_buf_adds(&p, "/big");
	mk(p.buf);
	for (int i = 0; i < 3000; i++) {
		size_t b2 = p.len;

		ws_buf_addf(&p, "/%04d", i);
		if (i % 10 == 0)
			mk(p.buf);
		else
			tu_write_file(p.buf, "b", 1);
		ws_buf_setlen(&p, b2);
	}
	/* nesting deeper than the walk goes */
	ws_buf_setlen(&p, base);
	fd = open(p.buf, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	for (int i = 0; i < VOL_WALK_MAX_DEPTH + 5; i++) {
		assert_int_equal(mkdirat(fd, "n", 0755), 0);
		int next = openat(fd, "n", O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = next;
		assert_true(fd >= 0);
	}
	close(fd);
	/* a folder that cannot be read (made so by the caller) */
	ws_buf_setlen(&p, base);
	ws_buf_adds(&p, "/locked");
	mk(p.buf);
	ws_buf_adds(&p, "/inside.txt");
	tu_write_file(p.buf, "l", 1);
	ws_buf_setlen(&p, p.len - 11);
	ws_buf_reset(unreadable);
	ws_buf_adds(unreadable, p.buf);
	ws_buf_release(&p);
	return dir;
}

/* Root reads every folder whatever its mode: leave out the capabilities
 * that let it (this thread and the threads it starts); 1 when done. */
static int drop_dac(int drop)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	unsigned bits = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);

	if (geteuid() != 0)
		return 1;
	if (syscall(SYS_capget, &h, d) != 0)
		return 0;
	if (drop)
		d[0].effective &= ~bits;
	else
		d[0].effective |= bits & d[0].permitted;
	return syscall(SYS_capset, &h, d) == 0;
}

static int walk_log(struct vol *v, const char *start, int ahead,
		    unsigned stop_at, struct ws_buf *out, struct ws_error *err)
{
	struct rec r = { WS_BUF_INIT, 0, stop_at, ahead > 1 };
	int rc;

	vol_set_walk_ahead(v, ahead != 0);
	rc = vol_walk(v, start, rec_cb, &r, err);
	ws_buf_reset(out);
	ws_buf_add(out, r.log.buf, r.log.len);
	ws_buf_release(&r.log);
	return rc;
}

static void walk_ahead_gives_the_same_entries(void **state)
{
	struct ws_buf locked = WS_BUF_INIT, plain = WS_BUF_INIT, ahead = WS_BUF_INIT;
	char *dir = make_tree(&locked);
	struct vol *v;
	struct ws_error err;
	const char *root;
	int dropped;

	(void)state;
	ws_error_clear(&err);
	tu_assert_ok(vol_open(dir, &v, &err), &err);
	root = vol_get_info(v)->root;
	assert_int_equal(chmod(locked.buf, 0), 0);
	dropped = drop_dac(1);

	tu_assert_ok(walk_log(v, root, 0, 0, &plain, &err), &err);
	/* what the walk must have met for the comparison to mean something */
	assert_non_null(strstr(plain.buf, "folder nesting too deep"));
	assert_non_null(strstr(plain.buf, "\\keep00\\loop|"));
	assert_non_null(strstr(plain.buf, "\\skip07|"));
	assert_null(strstr(plain.buf, "\\skip07\\"));
	assert_non_null(strstr(plain.buf, "\\big\\2999|"));
	if (dropped)
		assert_non_null(strstr(plain.buf, "cannot read folder"));
	/* several times: the threads meet at different places each time */
	for (int i = 0; i < 4; i++) {
		tu_assert_ok(walk_log(v, root, 1, 0, &ahead, &err), &err);
		assert_string_equal(ahead.buf, plain.buf);
	}
	/* with pauses in the callback (2: walk ahead, pausing) */
	tu_assert_ok(walk_log(v, root, 2, 0, &ahead, &err), &err);
	assert_string_equal(ahead.buf, plain.buf);
	/* from a folder below the root, and from a file */
	{
		struct ws_buf start = WS_BUF_INIT;

		ws_buf_addf(&start, "%s/Users/Public/x/big", root);
		tu_assert_ok(walk_log(v, start.buf, 0, 0, &plain, &err), &err);
		tu_assert_ok(walk_log(v, start.buf, 1, 0, &ahead, &err), &err);
		assert_string_equal(ahead.buf, plain.buf);
		ws_buf_adds(&start, "/0001");
		tu_assert_ok(walk_log(v, start.buf, 0, 0, &plain, &err), &err);
		tu_assert_ok(walk_log(v, start.buf, 1, 0, &ahead, &err), &err);
		assert_string_equal(ahead.buf, plain.buf);
		ws_buf_release(&start);
	}
	drop_dac(0);
	chmod(locked.buf, 0755);
	vol_set_walk_ahead(v, 0);
	vol_close(v);
	ws_buf_release(&locked);
	ws_buf_release(&plain);
	ws_buf_release(&ahead);
	free(dir);
}

/* A callback that fails stops both walks at the same entry, with its error,
 * whatever the reading thread was doing then; on the start folder itself
 * too (a Ctrl-C then must not read as a complete walk). */
static void walk_ahead_stops_where_asked(void **state)
{
	struct ws_buf locked = WS_BUF_INIT, plain = WS_BUF_INIT, ahead = WS_BUF_INIT;
	char *dir = make_tree(&locked);
	struct vol *v;
	struct ws_error err;
	const char *root;
	unsigned total;

	(void)state;
	ws_error_clear(&err);
	tu_assert_ok(vol_open(dir, &v, &err), &err);
	root = vol_get_info(v)->root;
	tu_assert_ok(walk_log(v, root, 0, 0, &plain, &err), &err);
	total = 0;
	for (size_t i = 0; i < plain.len; i++)
		total += plain.buf[i] == '\n';
	assert_true(total > 3000);
	for (unsigned at = 1; at < total; at += total / 5 + 1) {
		int rp, ra;

		rp = walk_log(v, root, 0, at, &plain, &err);
		assert_int_equal(rp, WS_E_IO);
		assert_string_equal(err.msg, "stopped by test");
		ra = walk_log(v, root, 1, at, &ahead, &err);
		assert_int_equal(ra, rp);
		assert_string_equal(err.msg, "stopped by test");
		assert_string_equal(ahead.buf, plain.buf);
	}
	vol_close(v);
	ws_buf_release(&locked);
	ws_buf_release(&plain);
	ws_buf_release(&ahead);
	free(dir);
}

/* A callback that stops a while at the first file (inside the first
 * folder, the others listed as jobs): the reading thread meanwhile reads
 * ahead as far as it may. */
static int slow_start_cb(const struct vol_entry *e, void *ctx, struct ws_error *err)
{
	unsigned *n = ctx;

	(void)err;
	if (e->type == VOL_ENT_FILE && n[1]++ == 0)
		usleep(1000 * 1000);
	n[0]++;
	return VOL_WALK_CONTINUE;
}

/* Folders of thousands of files each: the listings read ahead of the walk
 * hold at most VOL_WA_MAX_ENTRIES entries and one folder's, not every
 * folder the reading thread could reach (512 listings). */
static void walk_ahead_bounded_in_entries(void **state)
{
	enum { FOLDERS = 28, FILES = 3000 };
	struct fx_opts o;
	struct ws_error err;
	struct ws_buf p = WS_BUF_INIT;
	char *dir = tu_tmpdir();
	struct vol *v;
	unsigned seen[2] = { 0, 0 };
	size_t base;

	(void)state;
	fx_opts_init(&o);
	o.out_dir = dir;
	o.seed = 22;
	o.users = 1;
	o.files = 10;
	o.computer = "DESKTOP-WIDE";
	o.os = FX_WIN11;
	ws_error_clear(&err);
	tu_assert_ok(fx_build(&o, NULL, &err), &err);
	ws_buf_addf(&p, "%s/Users/Public/wide", dir);
	base = p.len;
	tu_assert_ok(ws_mkdir_p(p.buf, WS_E_IO, &err), &err);
	for (int i = 0; i < FOLDERS; i++) {
		ws_buf_setlen(&p, base);
		ws_buf_addf(&p, "/d%02d", i);
		mk(p.buf);
		for (int k = 0; k < FILES; k++) {
			size_t l = p.len;
			int fd;

			ws_buf_addf(&p, "/%04d", k);
			fd = open(p.buf, O_WRONLY | O_CREAT | O_EXCL, 0644);
			assert_true(fd >= 0);
			close(fd);
			ws_buf_setlen(&p, l);
		}
	}
	ws_buf_setlen(&p, base);
	tu_assert_ok(vol_open(dir, &v, &err), &err);
	vol_set_walk_ahead(v, 1);
	tu_assert_ok(vol_walk(v, p.buf, slow_start_cb, seen, &err), &err);
	assert_int_equal(seen[0], 1 + FOLDERS * (FILES + 1));
	/* it did read ahead (over 20 folders in 1 s), and stopped at the bound */
	if (v->wa_peak_entries < 20 * FILES || v->wa_peak_entries > VOL_WA_MAX_ENTRIES + FILES)
		fail_msg("read ahead: at most %zu entries at once (bound %d, a folder %d, all %d)",
			 v->wa_peak_entries, VOL_WA_MAX_ENTRIES, FILES, FOLDERS * FILES);
	vol_close(v);
	ws_buf_release(&p);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walk_ahead_gives_the_same_entries),
		cmocka_unit_test(walk_ahead_stops_where_asked),
		cmocka_unit_test(walk_ahead_bounded_in_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
