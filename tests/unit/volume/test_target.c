/* test_target.c - targets on disks, images and partitions (vol_target.c):
 * which --target values are mounted, what is refused before any mount, and
 * (with root and FUSE) a real mount and unmount of an NTFS image that
 * leaves nothing behind, a refusal of an image mounted elsewhere and of a
 * hibernated Windows. */
#include "tu.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fx_ntfs.h"
#include "volume/volume.h"

static char *write_zeros(const char *dir, const char *name, off_t size)
{
	char *p = ws_xasprintf("%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
	return p;
}

/* winstate's target mounts below `tmp` (the folder the test gave it: other
 * tests running at the same time make their own elsewhere). */
static int our_mounts(const char *tmp)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096], *want = ws_xasprintf(" %s/winstate-target-", tmp);
	int n = 0;

	if (!f) {
		free(want);
		return 0;
	}
	while (fgets(line, sizeof(line), f))
		n += strstr(line, want) != NULL;
	fclose(f);
	free(want);
	return n;
}

static void which_targets_are_mounted(void **state)
{
	char *dir = tu_tmpdir(), *img = write_zeros(dir, "disk.img", 1 << 20);
	char *at = ws_xasprintf("%s@part2", img), *dirat = ws_xasprintf("%s@part1", dir);
	char *none = ws_xasprintf("%s/none.img", dir);

	(void)state;
	assert_int_equal(vol_target_is_device(dir), 0);     /* a folder: as is */
	assert_int_equal(vol_target_is_device(img), 1);
	assert_int_equal(vol_target_is_device(at), 1);
	assert_int_equal(vol_target_is_device(dirat), 0);
	assert_int_equal(vol_target_is_device(none), 0);
	assert_int_equal(vol_target_is_device("/dev/null"), 0); /* a character device */
	free(dir);
	free(img);
	free(at);
	free(dirat);
	free(none);
}

static void refused_before_mounting(void **state)
{
	char *dir = tu_tmpdir(), *img = write_zeros(dir, "zeros.img", 4 << 20);
	char *at = ws_xasprintf("%s@part2", img), *dirat = ws_xasprintf("%s@part1", dir);
	struct vol_tmount_opts o = { dir, 0, NULL };
	struct vol_tmount *m = NULL;
	struct ws_error e;

	(void)state;
	ws_error_clear(&e);
	assert_int_equal(vol_target_mount(img, &o, &m, &e), WS_E_NOT_WINDOWS);
	assert_null(m);
	assert_non_null(strstr(e.where, "zeros.img"));
	ws_error_clear(&e);
	assert_int_not_equal(vol_target_mount(at, &o, &m, &e), WS_OK);
	assert_null(m);
	ws_error_clear(&e);
	assert_int_equal(vol_target_mount(dirat, &o, &m, &e), WS_E_NOT_WINDOWS);
	assert_int_equal(our_mounts(dir), 0);
	/* no mount point was made (the folder holds only the image) */
	{
		struct stat st;
		char *probe = ws_xasprintf("%s/winstate-target-", dir);

		assert_int_equal(stat(probe, &st), -1);
		free(probe);
	}
	assert_int_equal(vol_target_unmount(NULL, &e), WS_OK);
	free(dir);
	free(img);
	free(at);
	free(dirat);
}

static void real_mount(void **state)
{
	char *work = tu_tmpdir(), *tmp = ws_xasprintf("%s/tmp", work), *p;
	struct vol_tmount_opts o = { tmp, 0, NULL };
	struct vol_tmount *m = NULL;
	struct fx_ntfs n;
	struct fx_opts fo;
	struct ws_error e;
	struct stat st;
	struct vol *v;
	int fd;

	(void)state;
	mkdir(tmp, 0755);
	fx_ntfs_init(&n, work);
	ws_error_clear(&e);
	if (fx_ntfs_create(&n, 32, &e) != WS_OK) {
		printf("SKIP real_mount: %s\n", e.msg);   /* no root, FUSE or mkntfs */
		fx_ntfs_release(&n);
		free(tmp);
		free(work);
		return;
	}
	fx_opts_init(&fo);
	fo.users = 1;
	fo.files = 2;
	tu_assert_ok(fx_ntfs_build_source(&n, &fo, &e), &e);
	fx_ntfs_unmount(&n);

	/* mounted, a Windows installation there, unmounted: nothing left */
	tu_assert_ok(vol_target_mount(n.img, &o, &m, &e), &e);
	assert_int_equal(our_mounts(tmp), 1);
	assert_int_equal(stat(vol_tmount_root(m), &st), 0);
	p = ws_xasprintf("%s/..", vol_tmount_root(m));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);   /* the private folder */
	free(p);
	tu_assert_ok(vol_open(vol_tmount_root(m), &v, &e), &e);
	vol_close(v);
	tu_assert_ok(vol_target_unmount(m, &e), &e);
	assert_int_equal(our_mounts(tmp), 0);
	assert_int_equal(rmdir(tmp), 0);   /* empty: the mount point is gone */
	mkdir(tmp, 0755);

	/* mounted elsewhere: refused, naming where */
	tu_assert_ok(fx_ntfs_mount(&n, &e), &e);
	ws_error_clear(&e);
	assert_int_equal(vol_target_mount(n.img, &o, &m, &e), WS_E_TARGET);
	assert_non_null(strstr(e.msg, n.mnt));
	assert_int_equal(our_mounts(tmp), 0);

	/* hibernated (hiberfil.sys holds an image): refused */
	p = ws_xasprintf("%s/hiberfil.sys", n.mnt);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "HIBR", 4), 4);
	assert_int_equal(ftruncate(fd, 8192), 0);
	close(fd);
	free(p);
	fx_ntfs_unmount(&n);
	ws_error_clear(&e);
	assert_int_equal(vol_target_mount(n.img, &o, &m, &e), WS_E_TARGET);
	assert_non_null(strstr(e.msg, "hibernated"));
	assert_int_equal(our_mounts(tmp), 0);
	assert_int_equal(rmdir(tmp), 0);

	fx_ntfs_release(&n);
	free(tmp);
	free(work);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(which_targets_are_mounted),
		cmocka_unit_test(refused_before_mounting),
		cmocka_unit_test(real_mount),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
