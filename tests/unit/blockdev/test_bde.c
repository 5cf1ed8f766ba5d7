/* test_bde.c - a real BitLocker volume (made on Windows: cryptsetup's
 * bitlk-aes-xts-128 image) unlocked from memory through bd_mem_open: the
 * image is rebuilt from its non-zero blocks kept as the fuzzer's seed
 * (fuzz/corpus/bd_bde, records of u32 offset, u16 length, bytes), so this
 * runs without unpacking the test images.  t36 hashes every image. */
#include "tu.h"

#include <stdio.h>
#include <string.h>

#include "blockdev/blockdev.h"

#define IMAGE_SIZE (100u << 20)
#define PW_ID "3e55195c-8811-4d9b-97b4-2b9e5f8f5384"
#define RP_ID "64311dea-4587-4029-924a-ba299647998e"
#define RP "235818-357951-253979-013365-241120-245575-342914-591910"

static unsigned char *image(void)
{
	const char *src = getenv("WS_SOURCE_DIR");
	char *path, *seed;
	size_t len, p = 0;
	unsigned char *img;

	if (!src)
		return NULL;
	path = ws_xasprintf("%s/fuzz/corpus/bd_bde/bitlk-aes-xts-128", src);
	seed = tu_read_file(path, &len);
	free(path);
	if (!seed)
		return NULL;
	img = ws_xcalloc(1, IMAGE_SIZE);
	while (p + 6 <= len) {
		const unsigned char *r = (const unsigned char *)seed + p;
		uint32_t off = r[0] | r[1] << 8 | r[2] << 16 | (uint32_t)r[3] << 24;
		size_t n = r[4] | r[5] << 8;

		assert_true(p + 6 + n <= len && off + n <= IMAGE_SIZE);
		memcpy(img + off, r + 6, n);
		p += 6 + n;
	}
	free(seed);
	return img;
}

static void unlocks_from_memory_by_csv_guid(void **state)
{
	unsigned char *img = image(), boot[512];
	struct bd_source *m, *vol = NULL;
	struct bd_keys *k = bd_keys_new();
	struct bd_bde_info info;
	struct ws_error err;
	struct ws_buf csv = WS_BUF_INIT;

	if (!img)
		skip();
	m = bd_mem_open(img, IMAGE_SIZE, "xts128.img");
	assert_int_equal(bd_bde_probe(m, &err), 1);

	/* no key: locked, both protectors named with their types */
	assert_int_equal(bd_bde_open(m, NULL, &vol, &info, &err), WS_E_BDE_LOCKED);
	assert_null(vol);
	assert_string_equal(err.where, "xts128.img");
	assert_non_null(strstr(err.msg, "{" PW_ID "} (password)"));
	assert_non_null(strstr(err.msg, "{" RP_ID "} (recovery password)"));
	assert_string_equal(info.volume_id, "8f595209-f5b9-49a0-85d4-cb8f80258c27");
	assert_int_equal(info.method, 0x8004);
	assert_int_equal(info.nprotectors, 2);

	/* 300 decoys with valid passwords and the right one in the middle: one KDF only */
	ws_buf_adds(&csv, "ComputerName,KeyProtectorId,RecoveryPassword\n");
	for (int i = 0; i < 300; i++) {
		if (i == 150)
			ws_buf_adds(&csv, "DESKTOP-NPM7RCA,{" RP_ID "}," RP "\n");
		ws_buf_addf(&csv, "PC%d,{%08x-1111-4111-8111-111111111111},", i, i);
		for (int g = 0; g < 8; g++)
			ws_buf_addf(&csv, "%06d%s", 11 * (i + g), g < 7 ? "-" : "\n");
	}
	tu_assert_ok(bd_keys_parse_csv(k, "keys.csv", csv.buf, csv.len, &err), &err);
	tu_assert_ok(bd_bde_open(m, k, &vol, &info, &err), &err);
	assert_string_equal(info.unlocked_by, "keys.csv:152");
	assert_string_equal(info.unlocked_protector, RP_ID);
	assert_int_equal(bd_size(vol), IMAGE_SIZE);
	tu_assert_ok(bd_read_at(vol, boot, sizeof(boot), 0, &err), &err);
	assert_memory_equal(boot + 3, "NTFS    ", 8);
	assert_int_equal(boot[510], 0x55);
	assert_int_equal(boot[511], 0xAA);
	tu_assert_ok(bd_read_at(vol, boot, sizeof(boot), IMAGE_SIZE - 512, &err), &err);
	assert_int_equal(bd_read_at(vol, boot, 2, IMAGE_SIZE - 1, &err), WS_E_IO);
	bd_close(vol);

	bd_close(m);
	bd_keys_free(k);
	ws_buf_release(&csv);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unlocks_from_memory_by_csv_guid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
