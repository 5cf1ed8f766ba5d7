/* test_source.c - byte sources (file ranges, memory) and the BitLocker
 * opener on inputs that are not BitLocker or whose header is hostile. */
#include "tu.h"

#include <string.h>

#include "blockdev/blockdev.h"

static void file_range_reads_exactly(void **state)
{
	char *dir = tu_tmpdir(), *path = ws_xasprintf("%s/disk.img", dir);
	char data[4096], buf[64];
	struct bd_source *s;
	struct ws_error err;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	tu_write_file(path, data, sizeof(data));

	tu_assert_ok(bd_file_open(path, 1024, 2048, &s, &err), &err);
	assert_int_equal(bd_size(s), 2048);
	assert_non_null(strstr(s->name, "@1024"));
	tu_assert_ok(bd_read_at(s, buf, 64, 0, &err), &err);
	assert_memory_equal(buf, data + 1024, 64);
	tu_assert_ok(bd_read_at(s, buf, 64, 2048 - 64, &err), &err);
	assert_memory_equal(buf, data + 3072 - 64, 64);
	/* past the range's end, even though the file goes on */
	assert_int_equal(bd_read_at(s, buf, 64, 2048 - 63, &err), WS_E_IO);
	assert_int_equal(bd_read_at(s, buf, 1, UINT64_MAX, &err), WS_E_IO);
	tu_assert_ok(bd_read_at(s, buf, 0, 2048, &err), &err);
	bd_close(s);

	/* length 0: to the end; a range past the end is refused */
	tu_assert_ok(bd_file_open(path, 4000, 0, &s, &err), &err);
	assert_int_equal(bd_size(s), 96);
	bd_close(s);
	assert_int_equal(bd_file_open(path, 4000, 97, &s, &err), WS_E_IO);
	assert_null(s);
	assert_int_equal(bd_file_open(path, 5000, 0, &s, &err), WS_E_IO);
	assert_int_equal(bd_file_open("/nonexistent/disk.img", 0, 0, &s, &err), WS_E_IO);
	assert_string_equal(err.where, "/nonexistent/disk.img");
	bd_close(NULL);
	free(path);
	free(dir);
}

static void not_bitlocker_is_refused_cleanly(void **state)
{
	static char zero[1 << 16];
	char ntfs[512] = { 0 };
	struct bd_source *m = bd_mem_open(zero, sizeof(zero), "zeros"), *out = (void *)1;
	struct bd_keys *k = bd_keys_new();
	struct bd_bde_info info;
	struct ws_error err;

	tu_assert_ok(bd_keys_add(k, BD_KEY_PASSWORD, "pw", NULL, "--password", &err), &err);
	assert_int_equal(bd_bde_probe(m, &err), 0);
	assert_int_equal(bd_bde_open(m, k, &out, &info, &err), WS_E_UNSUPPORTED);
	assert_null(out);
	assert_string_equal(err.where, "zeros");
	assert_non_null(strstr(err.msg, "not a BitLocker volume"));
	bd_close(m);

	memcpy(ntfs + 3, "NTFS    ", 8);
	m = bd_mem_open(ntfs, sizeof(ntfs), "ntfs");
	assert_int_equal(bd_bde_probe(m, &err), 0);
	assert_int_equal(bd_bde_open(m, NULL, &out, NULL, &err), WS_E_UNSUPPORTED);
	bd_close(m);

	m = bd_mem_open(ntfs, 0, "empty");
	assert_true(bd_bde_open(m, NULL, &out, NULL, &err) != WS_OK);
	bd_close(m);
	bd_keys_free(k);
}

/* A Vista+ BitLocker boot sector with absurd sizes and metadata offsets. */
static void hostile_header_is_refused_cleanly(void **state)
{
	static unsigned char img[1 << 20];
	static const uint64_t offs[][3] = {
		{ 0x7FFFFFFFFFFFFE00ull, UINT64_MAX, 1ull << 40 },
		{ 0x10000, 0x10000, 0x10000 },      /* metadata of zeros */
		{ 0xFFFF0, 0xFFFF8, 0xFFFFF },      /* straddling the end */
		{ 0, 0, 0 },
	};
	struct bd_keys *k = bd_keys_new();
	struct ws_error err;

	tu_assert_ok(bd_keys_add(k, BD_KEY_RECOVERY,
				 "235818-357951-253979-013365-241120-245575-342914-591910",
				 "64311dea-4587-4029-924a-ba299647998e", "rp", &err), &err);
	for (size_t t = 0; t < sizeof(offs) / sizeof(offs[0]); t++) {
		struct bd_source *m, *out = NULL;
		int rc;

		memset(img, 0, sizeof(img));
		img[0] = 0xEB; img[1] = 0x58; img[2] = 0x90;
		memcpy(img + 3, "-FVE-FS-", 8);
		img[11] = 0x00; img[12] = 0x02;   /* 512 bytes per sector */
		img[13] = 0x08;                   /* sectors per cluster */
		memset(img + 0x28, 0xFF, 8);      /* absurd total sectors */
		memcpy(img + 0xB0, offs[t], sizeof(offs[t]));
		img[510] = 0x55; img[511] = 0xAA;
		m = bd_mem_open(img, sizeof(img), "hostile");
		rc = bd_bde_open(m, k, &out, NULL, &err);
		assert_true(rc == WS_E_UNSUPPORTED || rc == WS_E_IO || rc == WS_E_BDE_LOCKED);
		assert_null(out);
		assert_null(strstr(err.msg, "357951"));
		bd_close(m);
	}
	bd_keys_free(k);
}

static void names_of_methods_and_protectors(void **state)
{
	char b[32];

	assert_string_equal(bd_bde_method_name(0x8004), "AES-XTS 128-bit");
	assert_string_equal(bd_bde_method_name(0x8005), "AES-XTS 256-bit");
	assert_string_equal(bd_bde_method_name(0x8000), "AES-CBC 128-bit with diffuser");
	assert_string_equal(bd_bde_protector_name(0x0800, b, sizeof(b)), "recovery password");
	assert_string_equal(bd_bde_protector_name(0x1000, b, sizeof(b)), "type 0x1000");
	assert_string_equal(ws_code_name(WS_E_BDE_LOCKED), "bitlocker-locked");
	assert_int_equal(WS_E_BDE_LOCKED, 45);
	assert_non_null(bd_bde_libversion());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(file_range_reads_exactly),
		cmocka_unit_test(not_bitlocker_is_refused_cleanly),
		cmocka_unit_test(hostile_header_is_refused_cleanly),
		cmocka_unit_test(names_of_methods_and_protectors),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tu_cleanup();
	return rc;
}
