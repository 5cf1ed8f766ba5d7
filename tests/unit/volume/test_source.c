/* test_source.c - what --source names (vol_source.c): the DISK@partN
 * syntax, drive letters read from SYSTEM\MountedDevices in both of
 * Windows' forms, and their match against a disk's partitions. */
#include "tu.h"

#include <string.h>

#include "blockdev/blockdev.h"
#include "volume/volume.h"

static void part_suffix(void **state)
{
	unsigned n = 99;

	assert_int_equal(vol_source_split("disk.img@part3", &n), 8);
	assert_int_equal(n, 3);
	assert_int_equal(vol_source_split("/dev/sdb@part12", &n), 8);
	assert_int_equal(n, 12);
	assert_int_equal(vol_source_split("a@b@part1", &n), 3);
	assert_int_equal(n, 1);
	assert_int_equal(vol_source_split("disk.img", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(vol_source_split("disk.img@part", &n), 0);
	assert_int_equal(vol_source_split("disk.img@part3x", &n), 0);
	assert_int_equal(vol_source_split("disk.img@part-1", &n), 0);
	assert_int_equal(vol_source_split("disk.img@part99999999999999999999", &n), 0);
	assert_int_equal(vol_source_split("disk.img@3", &n), 0);
}

static void mounted_devices(void **state)
{
	/* C: MBR disk 0x1234abcd at 1 MiB; D: GPT partition; E: a USB stick's
	 * long device path; F: too short; a volume GUID name */
	static const unsigned char c[12] = { 0xcd, 0xab, 0x34, 0x12, 0x00, 0x00, 0x10, 0, 0, 0, 0, 0 };
	static const unsigned char d[24] = { 'D', 'M', 'I', 'O', ':', 'I', 'D', ':',
		0x55, 0x0a, 0x3e, 0x9f, 0x1c, 0x7b, 0x2d, 0x4e,
		0x8a, 0x66, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab };
	static const char e[] = "_\0?\0?\0_\0U\0S\0B\0S\0T\0O\0R\0";
	char *dir = tu_tmpdir(), *path = ws_xasprintf("%s/SYSTEM", dir);
	struct reg_create_opts o = { 0 };
	struct reg_hive *h;
	struct vol_mount *m;
	size_t n;
	reg_node key;
	struct ws_error err;

	o.root_name = "ROOT";
	tu_assert_ok(reg_hive_create(path, &o, &err), &err);
	tu_assert_ok(reg_hive_open(path, REG_OPEN_WRITE, &h, &err), &err);
	/* no MountedDevices key: no letters, no error */
	tu_assert_ok(vol_mounted_devices(h, &m, &n, &err), &err);
	assert_int_equal(n, 0);
	assert_null(m);
	tu_assert_ok(reg_key_create(h, reg_root(h), "MountedDevices", &key, &err), &err);
	tu_assert_ok(reg_set_binary(h, key, "\\DosDevices\\D:", d, sizeof(d), &err), &err);
	tu_assert_ok(reg_set_binary(h, key, "\\DosDevices\\c:", c, sizeof(c), &err), &err);
	tu_assert_ok(reg_set_binary(h, key, "\\DosDevices\\E:", e, sizeof(e), &err), &err);
	tu_assert_ok(reg_set_binary(h, key, "\\DosDevices\\F:", c, 8, &err), &err);
	tu_assert_ok(reg_set_binary(h, key, "\\??\\Volume{0a0b0c0d-1111-2222-3333-444455556666}",
				    c, sizeof(c), &err), &err);
	tu_assert_ok(vol_mounted_devices(h, &m, &n, &err), &err);
	assert_int_equal(n, 2);
	assert_int_equal(m[0].letter, 'C');
	assert_false(m[0].gpt);
	assert_int_equal(m[0].mbr_signature, 0x1234abcdu);
	assert_int_equal(m[0].offset, 1u << 20);
	assert_int_equal(m[1].letter, 'D');
	assert_true(m[1].gpt);
	assert_string_equal(m[1].part_guid, "9f3e0a55-7b1c-4e2d-8a66-0123456789ab");

	/* matched against a disk's partitions */
	{
		struct bd_part parts[2];
		struct vol_disk_part vps[2];
		struct bd_disk disk;
		struct vol_disk vd;

		memset(parts, 0, sizeof(parts));
		memset(vps, 0, sizeof(vps));
		memset(&disk, 0, sizeof(disk));
		disk.scheme = BD_SCHEME_GPT;
		parts[0].number = 1;
		parts[0].start = 1u << 20;
		parts[0].size = 1u << 20;
		strcpy(parts[0].part_guid, "11111111-2222-3333-4444-555555555555");
		parts[1] = parts[0];
		parts[1].number = 2;
		parts[1].start = 2u << 20;
		strcpy(parts[1].part_guid, "9f3e0a55-7b1c-4e2d-8a66-0123456789ab");
		vps[0].part = &parts[0];
		vps[1].part = &parts[1];
		disk.parts = parts;
		disk.nparts = 2;
		vd.disk = &disk;
		vd.n = 2;
		vd.parts = vps;
		assert_ptr_equal(vol_disk_match(&vd, &m[1]), &vps[1]);
		assert_null(vol_disk_match(&vd, &m[0]));          /* an MBR record on GPT */
		disk.scheme = BD_SCHEME_MBR;
		disk.mbr_signature = 0x1234abcdu;
		assert_ptr_equal(vol_disk_match(&vd, &m[0]), &vps[0]);
		assert_null(vol_disk_match(&vd, &m[1]));
		disk.mbr_signature = 0x1234abce;                  /* another disk */
		assert_null(vol_disk_match(&vd, &m[0]));
		parts[0].bad = 1;
		disk.mbr_signature = 0x1234abcdu;
		assert_null(vol_disk_match(&vd, &m[0]));          /* never a bad partition */
	}
	free(m);
	reg_hive_close(h);
	free(path);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(part_suffix),
		cmocka_unit_test(mounted_devices),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tu_cleanup();
	return rc;
}
