/*
 * test_ntfs_io.c - security descriptors and Windows attributes on a real
 * NTFS image (mkntfs) mounted with ntfs-3g, plain and with -o permissions:
 * the probe finds system.ntfs_acl, a descriptor set with fsetxattr on a new
 * file or folder reads back byte for byte, ntfs-3g's own checks (no group,
 * trailing bytes) surface as WS_E_UNSUPPORTED, and a plain folder probes as
 * "none" with a reason.  Exit 77 without root, FUSE, mkntfs or ntfs-3g.
 */
#include "tu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fx_ntfs.h"
#include "secdesc/sd.h"

static struct fx_ntfs ntfs;
static char *work;

static int run_quiet(const char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Remount the image with ntfs-3g options (NULL: none). */
static void remount(const char *opts)
{
	const char *const plain[] = { "ntfs-3g", ntfs.img, ntfs.mnt, NULL };
	const char *const with[] = { "ntfs-3g", "-o", opts, ntfs.img, ntfs.mnt, NULL };
	char *mounts;
	const char *line;

	fx_ntfs_unmount(&ntfs);
	assert_false(ntfs.mounted);
	if (run_quiet(opts ? with : plain) != 0)
		fail_msg("ntfs-3g -o %s failed", opts ? opts : "(none)");
	ntfs.mounted = 1;
	/* the options took: ntfs-3g turns "permissions" into the kernel's
	 * default_permissions */
	mounts = tu_read_file("/proc/self/mounts", NULL);
	line = strstr(mounts, ntfs.mnt);
	assert_non_null(line);
	line = strchr(line, ' ');
	assert_non_null(line);
	assert_int_equal(strstr(line, "default_permissions") != NULL &&
			 strstr(line, "default_permissions") < strchr(line, '\n'),
			 opts != NULL);
	free(mounts);
}

static void probe_finds_ntfs3g(void **state)
{
	struct sd_target t;
	struct sd_desc root = SD_DESC_INIT;
	struct ws_error err;

	tu_assert_ok(sd_target_probe(ntfs.mnt, &t, &err), &err);
	assert_non_null(t.acl_xattr);
	assert_string_equal(t.acl_xattr, SD_XATTR_NTFS3G);
	assert_true(t.attrib);
	assert_string_equal(t.fs, "fuse");
	/* mkntfs's root descriptor: 4 KiB ACL, owner after it - read with an
	 * exact buffer and parsed */
	tu_assert_ok(sd_load_path(ntfs.mnt, t.acl_xattr, &root, &err), &err);
	assert_true(root.has_owner && root.has_group && root.has_dacl);
	assert_true(root.dacl.n >= 4);
	sd_desc_release(&root);
}

static void probe_plain_folder_says_none(void **state)
{
	struct sd_target t;
	struct ws_error err;

	tu_assert_ok(sd_target_probe(work, &t, &err), &err);
	assert_null(t.acl_xattr);
	assert_false(t.attrib);
	assert_non_null(strstr(t.reason, t.fs));
	assert_non_null(strstr(t.reason, "ntfs-3g"));
	assert_int_equal(sd_target_probe("/nonexistent/winstate", &t, &err), WS_E_IO);
}

/* Create `name` (a folder when is_dir), give it `sd`, read it back both ways. */
static void set_and_read_back(const char *name, int is_dir, const struct sd_desc *sd)
{
	char *path = ws_xasprintf("%s/%s", ntfs.mnt, name);
	struct ws_buf want = WS_BUF_INIT, got = WS_BUF_INIT;
	struct ws_error err;
	int fd;

	if (is_dir) {
		assert_int_equal(mkdir(path, 0755), 0);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	}
	assert_true(fd >= 0);
	tu_assert_ok(sd_serialize(sd, &want, &err), &err);
	tu_assert_ok(sd_store_fd(fd, SD_XATTR_NTFS3G, path, sd, &err), &err);
	tu_assert_ok(sd_read_fd(fd, SD_XATTR_NTFS3G, path, &got, &err), &err);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.buf, want.buf, want.len);
	close(fd);
	ws_buf_reset(&got);
	tu_assert_ok(sd_read_path(path, SD_XATTR_NTFS3G, &got, &err), &err);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.buf, want.buf, want.len);
	ws_buf_release(&want);
	ws_buf_release(&got);
	free(path);
}

static void descriptors_on(const char *opts, const char *tag)
{
	struct sd_desc root = SD_DESC_INIT, dir = SD_DESC_INIT, file = SD_DESC_INIT;
	struct sd_sid user;
	struct ws_error err;
	char name[64];

	remount(opts);
	assert_int_equal(sd_sid_from_text(&user, "S-1-5-21-1-2-3-1001"), 0);
	tu_assert_ok(sd_load_path(ntfs.mnt, SD_XATTR_NTFS3G, &root, &err), &err);
	/* a folder as Windows would make it under the root, a private
	 * bundle folder, and a file inherited from that */
	sd_inherit(&dir, &root, 1, &user, &sd_sid_system);
	snprintf(name, sizeof(name), "inherited-%s", tag);
	set_and_read_back(name, 1, &dir);
	sd_make_private(&dir, &user);
	snprintf(name, sizeof(name), "private-%s", tag);
	set_and_read_back(name, 1, &dir);
	sd_inherit(&file, &dir, 0, &sd_sid_administrators, &sd_sid_system);
	snprintf(name, sizeof(name), "private-%s/file.txt", tag);
	set_and_read_back(name, 0, &file);
	sd_desc_release(&root);
	sd_desc_release(&dir);
	sd_desc_release(&file);
}

static void plain_mount(void **state)
{
	descriptors_on(NULL, "plain");
}

static void permissions_mount(void **state)
{
	descriptors_on("permissions", "perm");
}

static void inherit_permissions_mount(void **state)
{
	descriptors_on("inherit,permissions", "inh");
}

/* What ntfs-3g refuses is reported as WS_E_UNSUPPORTED with the path. */
static void ntfs3g_checks_surface(void **state)
{
	char *path = ws_xasprintf("%s/refused.txt", ntfs.mnt);
	struct sd_desc d = SD_DESC_INIT;
	struct ws_buf b = WS_BUF_INIT;
	struct ws_error err;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	sd_make_admin_only(&d);
	tu_assert_ok(sd_serialize(&d, &b, &err), &err);
	ws_buf_add(&b, "\0\0\0\0", 4);                  /* bytes after the DACL */
	assert_int_equal(sd_write_fd(fd, SD_XATTR_NTFS3G, path, b.buf, b.len, &err),
			 WS_E_UNSUPPORTED);
	assert_string_equal(err.where, path);
	d.has_group = 0;                                /* ntfs-3g wants a group */
	assert_int_equal(sd_store_fd(fd, SD_XATTR_NTFS3G, path, &d, &err), WS_E_UNSUPPORTED);
	close(fd);
	ws_buf_reset(&b);
	assert_int_equal(sd_read_path(path, "system.no_such_thing", &b, &err), WS_E_UNSUPPORTED);
	free(path);
	path = ws_xasprintf("%s/missing.txt", ntfs.mnt);
	assert_int_equal(sd_read_path(path, SD_XATTR_NTFS3G, &b, &err), WS_E_IO);
	assert_int_equal(err.sys_errno, ENOENT);
	free(path);
	sd_desc_release(&d);
	ws_buf_release(&b);
}

static void attributes(void **state)
{
	char *path = ws_xasprintf("%s/attr.txt", ntfs.mnt);
	struct ws_error err;
	uint32_t a = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	tu_assert_ok(sd_attrib_read_fd(fd, path, &a, &err), &err);
	assert_int_equal(a, 0x20);                      /* ARCHIVE, as on Windows */
	tu_assert_ok(sd_attrib_write_fd(fd, path, 0x20 | 0x4 | 0x2, &err), &err);
	tu_assert_ok(sd_attrib_read_fd(fd, path, &a, &err), &err);
	assert_int_equal(a, 0x26);
	close(fd);
	tu_assert_ok(sd_attrib_read_path(path, &a, &err), &err);
	assert_int_equal(a, 0x26);
	assert_int_equal(sd_attrib_read_path(work, &a, &err), WS_E_UNSUPPORTED);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(probe_finds_ntfs3g),
		cmocka_unit_test(probe_plain_folder_says_none),
		cmocka_unit_test(plain_mount),
		cmocka_unit_test(ntfs3g_checks_surface),
		cmocka_unit_test(attributes),
		cmocka_unit_test(permissions_mount),
		cmocka_unit_test(inherit_permissions_mount),
	};
	struct ws_error err;
	int rc;

	work = tu_tmpdir();
	fx_ntfs_init(&ntfs, work);
	if (fx_ntfs_create(&ntfs, 16, &err) != WS_OK) {
		char b[2300];

		printf("SKIP: %s\n", ws_error_format(&err, b, sizeof(b)));
		fx_ntfs_release(&ntfs);
		tu_cleanup();
		free(work);
		return 77;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	fx_ntfs_release(&ntfs);
	tu_cleanup();
	free(work);
	return rc;
}
