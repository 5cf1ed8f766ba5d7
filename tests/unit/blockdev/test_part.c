/* test_part.c - partition tables through libblkid: GPT and MBR disks made
 * by sfdisk (extended and logical partitions too), NTFS found by probing,
 * a bare file system, and hostile tables (past the end, overlapping,
 * absurd, truncated) giving errors that name the disk and the partition. */
#include "tu.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blockdev/blockdev.h"

static char *dir;

/* A sparse image of `mib` MiB with the sfdisk script `script`. */
static char *make_disk(const char *name, unsigned mib, const char *script)
{
	char *path = ws_xasprintf("%s/%s", dir, name);
	char *cmd = ws_xasprintf("truncate -s %uM '%s' && printf '%s' | sfdisk -q '%s' >/dev/null 2>&1",
				 mib, path, script, path);
	struct ws_buf out = WS_BUF_INIT;

	assert_int_equal(tu_run(cmd, &out), 0);
	ws_buf_release(&out);
	free(cmd);
	return path;
}

/* mkntfs a `sectors`-sector file system into the image at sector `start`. */
static void put_ntfs(const char *img, unsigned long start, unsigned long sectors, const char *label)
{
	char *cmd = ws_xasprintf(
		"f='%s.part' && truncate -s %lu \"$f\" && "
		"mkntfs -F -Q -q -s 512 -p %lu -H 0 -S 0 -L '%s' \"$f\" >/dev/null 2>&1 && "
		"dd if=\"$f\" of='%s' bs=512 seek=%lu conv=notrunc,sparse status=none && rm -f \"$f\"",
		img, sectors * 512, start, label, img, start);
	struct ws_buf out = WS_BUF_INIT;

	assert_int_equal(tu_run(cmd, &out), 0);
	ws_buf_release(&out);
	free(cmd);
}

static int have_tools(void)
{
	return tu_have("sfdisk") && tu_have("mkntfs");
}

static void gpt_disk(void **state)
{
	struct bd_disk *d;
	const struct bd_part *p;
	struct bd_source *s;
	struct ws_error err;
	char buf[8];
	char *img;

	if (!have_tools())
		skip();
	img = make_disk("gpt.img", 64,
			"label: gpt\\n"
			"label-id: 0A1B2C3D-1111-2222-3333-444455556666\\n"
			"start=2048, size=4096, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI system\"\\n"
			"start=6144, size=40960, type=EBD0A0A2-B9E5-4433-87C0-68B9B26699C7, "
			"uuid=9F3E0A55-7B1C-4E2D-8A66-0123456789AB, name=\"Basic data partition\"\\n"
			"start=47104, size=20480, type=EBD0A0A2-B9E5-4433-87C0-68B9B26699C7, "
			"uuid=11111111-2222-3333-4444-555555555555, name=\"Data\"\\n");
	put_ntfs(img, 6144, 40960, "Windows");
	put_ntfs(img, 47104, 20480, "Data");

	tu_assert_ok(bd_part_scan(img, &d, &err), &err);
	assert_int_equal(d->scheme, BD_SCHEME_GPT);
	assert_string_equal(bd_scheme_name(d->scheme), "gpt");
	assert_string_equal(d->disk_guid, "0a1b2c3d-1111-2222-3333-444455556666");
	assert_int_equal(d->size, 64u << 20);
	assert_int_equal(d->nparts, 3);

	p = bd_part_find(d, 1);
	assert_non_null(p);
	assert_int_equal(p->start, 2048 * 512);
	assert_string_equal(p->type_guid, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
	assert_string_equal(p->name, "EFI system");
	assert_int_equal(p->fs, BD_FS_NONE);

	p = bd_part_find(d, 2);
	assert_non_null(p);
	assert_int_equal(p->start, 6144ull * 512);
	assert_int_equal(p->size, 40960ull * 512);
	assert_string_equal(p->part_guid, "9f3e0a55-7b1c-4e2d-8a66-0123456789ab");
	assert_int_equal(p->fs, BD_FS_NTFS);
	assert_string_equal(p->fs_type, "ntfs");
	assert_string_equal(p->fs_label, "Windows");
	assert_false(p->bad);
	assert_int_equal(p->mbr_type, 0);

	/* the source reads the partition, not the disk */
	tu_assert_ok(bd_part_open(d, p, &s, &err), &err);
	assert_int_equal(bd_size(s), 40960ull * 512);
	assert_non_null(strstr(s->name, "(partition 2)"));
	tu_assert_ok(bd_read_at(s, buf, 8, 3, &err), &err);
	assert_memory_equal(buf, "NTFS    ", 8);
	bd_part_free(d);   /* the source outlives the disk */
	tu_assert_ok(bd_read_at(s, buf, 8, 3, &err), &err);
	bd_close(s);

	tu_assert_ok(bd_part_scan(img, &d, &err), &err);
	p = bd_part_find(d, 3);
	assert_string_equal(p->fs_label, "Data");
	assert_null(bd_part_find(d, 4));
	bd_part_free(d);
	free(img);
}

static void mbr_disk_with_logicals(void **state)
{
	struct bd_disk *d;
	const struct bd_part *p;
	struct bd_source *s;
	struct ws_error err;
	char *img;

	if (!have_tools())
		skip();
	img = make_disk("mbr.img", 64,
			"label: dos\\n"
			"label-id: 0x1234abcd\\n"
			"start=2048, size=40960, type=7, bootable\\n"
			"start=43008, size=45056, type=5\\n"
			"start=45056, size=20480, type=7\\n"
			"start=67584, size=20480, type=83\\n");
	put_ntfs(img, 2048, 40960, "System");
	put_ntfs(img, 45056, 20480, "Logical");

	tu_assert_ok(bd_part_scan(img, &d, &err), &err);
	assert_int_equal(d->scheme, BD_SCHEME_MBR);
	assert_int_equal(d->mbr_signature, 0x1234abcdu);
	assert_string_equal(d->disk_guid, "");
	assert_int_equal(d->nparts, 4);

	p = bd_part_find(d, 1);
	assert_int_equal(p->mbr_type, 0x07);
	assert_int_equal(p->fs, BD_FS_NTFS);
	assert_string_equal(p->fs_label, "System");
	assert_false(p->logical);
	assert_string_equal(p->part_guid, "");

	p = bd_part_find(d, 2);
	assert_true(p->extended);
	assert_int_equal(p->fs, BD_FS_NONE);
	assert_int_equal(bd_part_open(d, p, &s, &err), WS_E_USAGE);
	assert_null(s);
	assert_non_null(strstr(err.msg, "partition 2 is an extended partition"));

	p = bd_part_find(d, 5);
	assert_non_null(p);
	assert_true(p->logical);
	assert_int_equal(p->start, 45056ull * 512);
	assert_int_equal(p->fs, BD_FS_NTFS);
	assert_string_equal(p->fs_label, "Logical");
	assert_false(p->bad);

	p = bd_part_find(d, 6);
	assert_non_null(p);
	assert_int_equal(p->mbr_type, 0x83);
	assert_int_equal(p->fs, BD_FS_NONE);
	bd_part_free(d);
	free(img);
}

static void bare_file_system_and_nothing(void **state)
{
	struct bd_disk *d;
	struct ws_error err;
	char *img, *zero;

	if (!have_tools())
		skip();
	img = ws_xasprintf("%s/bare.img", dir);
	tu_write_file(img, "", 0);
	put_ntfs(img, 0, 20480, "Bare");
	tu_assert_ok(bd_part_scan(img, &d, &err), &err);
	assert_int_equal(d->scheme, BD_SCHEME_NONE);
	assert_int_equal(d->nparts, 1);
	assert_int_equal(d->parts[0].number, 0);
	assert_int_equal(d->parts[0].start, 0);
	assert_int_equal(d->parts[0].size, 20480 * 512);
	assert_int_equal(d->parts[0].fs, BD_FS_NTFS);
	assert_ptr_equal(bd_part_find(d, 0), &d->parts[0]);
	bd_part_free(d);

	zero = ws_xasprintf("%s/zero.img", dir);
	tu_write_file(zero, "", 0);
	assert_int_equal(truncate(zero, 1 << 20), 0);
	tu_assert_ok(bd_part_scan(zero, &d, &err), &err);
	assert_int_equal(d->scheme, BD_SCHEME_NONE);
	assert_int_equal(d->nparts, 0);
	bd_part_free(d);

	assert_int_equal(bd_part_scan("/nonexistent/disk.img", &d, &err), WS_E_IO);
	assert_null(d);
	assert_string_equal(err.where, "/nonexistent/disk.img");
	free(zero);
	free(img);
}

/* An MBR written by hand: entries (type, start LBA, sectors). */
static char *hand_mbr(const char *name, uint64_t bytes, const uint32_t ent[][3], int n)
{
	unsigned char s[512] = { 0 };
	char *path = ws_xasprintf("%s/%s", dir, name);

	s[440] = 0x78; s[441] = 0x56; s[442] = 0x34; s[443] = 0x12;
	for (int i = 0; i < n; i++) {
		unsigned char *e = s + 446 + 16 * i;

		e[4] = (unsigned char)ent[i][0];
		for (int b = 0; b < 4; b++) {
			e[8 + b] = (unsigned char)(ent[i][1] >> (8 * b));
			e[12 + b] = (unsigned char)(ent[i][2] >> (8 * b));
		}
	}
	s[510] = 0x55; s[511] = 0xAA;
	tu_write_file(path, s, sizeof(s));
	assert_int_equal(truncate(path, (off_t)bytes), 0);
	return path;
}

static void hostile_tables(void **state)
{
	static const uint32_t past_end[][3] = {
		{ 0x07, 2048, 4096 },            /* fine */
		{ 0x07, 8192, 0x10000 },         /* 32 MiB on an 8 MiB disk */
		{ 0x07, 0xFFFFFFF0u, 0xFFFFFFFFu } /* absurd: 2 TiB out */
	};
	static const uint32_t overlap[][3] = {
		{ 0x07, 2048, 8192 },
		{ 0x07, 6144, 4096 },
		{ 0x07, 12288, 2048 },
	};
	struct bd_disk *d;
	const struct bd_part *p;
	struct bd_source *s;
	struct ws_error err;
	char *img;

	img = hand_mbr("past.img", 8u << 20, past_end, 3);
	tu_assert_ok(bd_part_scan(img, &d, &err), &err);
	assert_int_equal(d->mbr_signature, 0x12345678u);
	assert_false(bd_part_find(d, 1)->bad);
	for (unsigned n = 2; n <= 3; n++) {
		p = bd_part_find(d, n);
		assert_non_null(p);
		assert_true(p->bad);
		assert_int_equal(p->why.code, WS_E_IO);
		assert_string_equal(p->why.where, img);
		assert_non_null(strstr(p->why.msg, "reaches past the end of the disk"));
		assert_int_equal(bd_part_open(d, p, &s, &err), WS_E_IO);
		assert_null(s);
		assert_string_equal(err.where, img);
		assert_non_null(strstr(err.msg, n == 2 ? "partition 2 " : "partition 3 "));
	}
	bd_part_free(d);
	free(img);

	img = hand_mbr("overlap.img", 8u << 20, overlap, 3);
	tu_assert_ok(bd_part_scan(img, &d, &err), &err);
	p = bd_part_find(d, 1);
	assert_true(p->bad);
	assert_int_equal(p->why.code, WS_E_UNSUPPORTED);
	assert_non_null(strstr(p->why.msg, "partition 1 overlaps partition 2"));
	assert_true(bd_part_find(d, 2)->bad);
	assert_false(bd_part_find(d, 3)->bad);
	bd_part_free(d);
	free(img);

	/* a GPT disk cut short: the headers no longer fit */
	if (tu_have("sfdisk")) {
		img = make_disk("cut.img", 64,
				"label: gpt\\nstart=2048, size=100000, type=EBD0A0A2-B9E5-4433-87C0-68B9B26699C7\\n");
		assert_int_equal(truncate(img, 16 << 20), 0);
		assert_int_equal(bd_part_scan(img, &d, &err), WS_E_IO);
		assert_null(d);
		assert_string_equal(err.where, img);
		assert_non_null(strstr(err.msg, "truncated"));
		free(img);
	}
}

/* Random sectors behind a valid MBR signature: whatever libblkid makes of
 * them, no crash, and every listed partition checked against the disk. */
static void random_tables_do_not_crash(void **state)
{
	unsigned char buf[1 << 16];
	uint32_t x = 12345;

	for (int round = 0; round < 200; round++) {
		struct bd_disk *d = NULL;
		struct ws_error err;
		int fd = memfd_create("disk", MFD_CLOEXEC);

		assert_true(fd >= 0);
		for (size_t i = 0; i < sizeof(buf); i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (unsigned char)(x >> 16);
		}
		if (round & 1) {
			memcpy(buf + 512, "EFI PART", 8);
			buf[450] = 0xEE;
		}
		buf[510] = 0x55; buf[511] = 0xAA;
		assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
		if (bd_part_scan_fd(fd, "random", &d, &err) == WS_OK) {
			for (size_t i = 0; i < d->nparts; i++) {
				const struct bd_part *p = &d->parts[i];

				assert_true(p->bad || p->extended ||
					    (p->start < d->size && p->size <= d->size - p->start));
			}
			bd_part_free(d);
		} else {
			assert_null(d);
			assert_string_equal(err.where, "random");
		}
		close(fd);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gpt_disk),
		cmocka_unit_test(mbr_disk_with_logicals),
		cmocka_unit_test(bare_file_system_and_nothing),
		cmocka_unit_test(hostile_tables),
		cmocka_unit_test(random_tables_do_not_crash),
	};
	int rc;

	dir = tu_tmpdir();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(dir);
	tu_cleanup();
	return rc;
}
