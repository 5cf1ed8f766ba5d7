/* test_ntfs.c - the volume module on a real NTFS file system mounted with
 * ntfs-3g (an image in a file): junctions and OneDrive placeholders as
 * ntfs-3g shows them, reparse tags, Windows attributes and times from the
 * system.ntfs_* xattrs.  Skipped (77) without root, /dev/fuse, mkntfs,
 * ntfs-3g or setfattr, or when mounting is not permitted. */
#include "tu.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_ntfs.h"
#include "util/ws_fs.h"
#include "volume/volume.h"

static struct fx_ntfs ntfs;   /* a 64 MiB image, mounted for the tests */
static const char *mnt;

struct seen {
	int junction, cloud, hidden, loop_entered;
	uint64_t hidden_ctime;
};

static int cb(const struct vol_entry *e, void *ctx, struct ws_error *err)
{
	struct seen *s = ctx;

	if (strstr(e->host_path, "/Loop/"))
		s->loop_entered = 1;
	if (!strcmp(e->name, "Loop")) {
		assert_int_equal(e->type, VOL_ENT_LINK);
		assert_int_equal(e->reparse_tag, VOL_TAG_MOUNT_POINT);
		assert_non_null(e->link_win_target);
		assert_string_equal(e->link_win_target,
				    "C:\\Users\\alice\\AppData\\Local");
		assert_true(e->attrs_from_ntfs);
		assert_true(e->attributes & VOL_ATTR_REPARSE_POINT);
		s->junction = 1;
	}
	if (!strcmp(e->name, "placeholder.docx")) {
		assert_int_equal(e->type, VOL_ENT_CLOUD);
		assert_int_equal(e->reparse_tag, 0x9000601Au);
		s->cloud = 1;
	}
	if (!strcmp(e->name, "hidden.txt")) {
		assert_int_equal(e->type, VOL_ENT_FILE);
		assert_true(e->attrs_from_ntfs);
		assert_int_equal(e->attributes,
				 VOL_ATTR_HIDDEN | VOL_ATTR_ARCHIVE);
		s->hidden = 1;
		s->hidden_ctime = e->creation_time;
	}
	return VOL_WALK_CONTINUE;
}

static void ntfs_mount_is_walked_safely(void **state)
{
	struct fx_opts o;
	struct ws_error err;
	struct ws_buf p = WS_BUF_INIT;
	struct vol *v;
	struct seen s = { 0 };

	fx_opts_init(&o);
	o.out_dir = mnt;
	o.files = 3;
	ws_error_clear(&err);
	tu_assert_ok(fx_build(&o, NULL, &err), &err);

	ws_buf_addf(&p, "%s/Users/alice/AppData/Local/Loop", mnt);
	tu_assert_ok(ws_mkdir_p(p.buf, WS_E_IO, &err), &err);
	tu_assert_ok(fx_ntfs_junction(p.buf, "C:\\Users\\alice\\AppData\\Local", &err), &err);
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/Users/alice/Documents/placeholder.docx", mnt);
	tu_write_file(p.buf, "", 0);
	assert_int_equal(tu_sh("setfattr -h -n system.ntfs_reparse_data -v "
			     "0x1a600090080000000102030405060708 '%s'", p.buf), 0);
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/Users/alice/Documents/hidden.txt", mnt);
	tu_write_file(p.buf, "h", 1);
	assert_int_equal(tu_sh("setfattr -h -n system.ntfs_attrib_be -v 0x00000022 '%s'",
			     p.buf), 0);
	/* the junction shows as a symlink only after a remount */
	fx_ntfs_unmount(&ntfs);
	assert_false(ntfs.mounted);
	tu_assert_ok(fx_ntfs_mount(&ntfs, &err), &err);

	tu_assert_ok(vol_open(mnt, &v, &err), &err);
	assert_string_equal(vol_get_info(v)->computer_name, "PC-1");
	const struct vol_profile *a = vol_profile_find(v, "ALICE");
	assert_non_null(a);
	assert_false(a->stale);
	tu_assert_ok(vol_walk(v, a->host_path, cb, &s, &err), &err);
	assert_true(s.junction);
	assert_true(s.cloud);
	assert_true(s.hidden);
	assert_false(s.loop_entered);
	assert_true(s.hidden_ctime > 116444736000000000ull); /* after 1970 */
	vol_close(v);
	ws_buf_release(&p);
}

struct loops {
	int loop_seen, entered;
};

static int loop_cb(const struct vol_entry *e, void *ctx, struct ws_error *err)
{
	struct loops *l = ctx;

	if (!strcmp(e->name, "bindloop")) {
		assert_int_equal(e->type, VOL_ENT_DIR);
		assert_true(e->loop);
		l->loop_seen = 1;
	}
	if (strstr(e->host_path, "/bindloop/"))
		l->entered = 1;
	return VOL_WALK_CONTINUE;
}

/* A folder mounted inside itself (same st_dev/st_ino as an ancestor) is
 * reported as a loop and not entered. */
static void bind_mount_loop_is_not_entered(void **state)
{
	char *dir = tu_tmpdir();
	struct fx_opts o;
	struct ws_error err;
	struct ws_buf p = WS_BUF_INIT, src = WS_BUF_INIT;
	struct vol *v;
	struct loops l = { 0 };

	fx_opts_init(&o);
	o.out_dir = dir;
	o.files = 2;
	ws_error_clear(&err);
	tu_assert_ok(fx_build(&o, NULL, &err), &err);
	ws_buf_addf(&src, "%s/Users/alice", dir);
	ws_buf_addf(&p, "%s/Documents/bindloop", src.buf);
	tu_assert_ok(ws_mkdir_p(p.buf, WS_E_IO, &err), &err);
	if (tu_sh("mount --bind '%s' '%s'", src.buf, p.buf) != 0) {
		ws_buf_release(&p);
		ws_buf_release(&src);
		free(dir);
		skip();
	}
	tu_assert_ok(vol_open(dir, &v, &err), &err);
	tu_assert_ok(vol_walk(v, src.buf, loop_cb, &l, &err), &err);
	vol_close(v);
	tu_sh("umount '%s'", p.buf);
	assert_true(l.loop_seen);
	assert_false(l.entered);
	ws_buf_release(&p);
	ws_buf_release(&src);
	free(dir);
}

static int teardown(void **state)
{
	fx_ntfs_unmount(&ntfs);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(ntfs_mount_is_walked_safely, teardown),
		cmocka_unit_test(bind_mount_loop_is_not_entered),
	};
	struct ws_error err;
	char *work;
	int rc;

	if (geteuid() != 0 || access("/dev/fuse", R_OK | W_OK) != 0 ||
	    tu_sh("command -v mkntfs && command -v ntfs-3g && command -v setfattr")) {
		printf("[  SKIP    ] needs root, /dev/fuse, mkntfs, ntfs-3g and setfattr\n");
		return 77;
	}
	work = tu_tmpdir();
	fx_ntfs_init(&ntfs, work);
	mnt = ntfs.mnt;
	ws_error_clear(&err);
	if (fx_ntfs_create(&ntfs, 64, &err) != WS_OK) {
		printf("[  SKIP    ] cannot make or mount an NTFS image here: %s\n", err.msg);
		fx_ntfs_release(&ntfs);
		free(work);
		return 77;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	fx_ntfs_release(&ntfs);
	free(work);
	return rc;
}
