/* test_hash.c - store: the content hash a store's header names.  A new
 * store (format 3.0 on) hashes chunks with SHA-256, an encrypted one with
 * HMAC-SHA-256 under the content-hash key; a format 2.0 store (no
 * content-hash line) keeps BLAKE2b-256 for reading, verifying, rescanning
 * and deduplicating; an unknown hash name is refused.  Hashes are checked
 * against libsodium's own SHA-256 and BLAKE2b, not the store's code. */
#include "store_tu.h"

#include <sodium.h>

#define CHUNK (64u * 1024)

/* One scan of `data` as one file; the hash of its only chunk. */
static void scan_one(struct store *st, const char *device, const unsigned char *data,
		     size_t len, unsigned char hash[32])
{
	const char *paths[] = { "C:\\Users\\alice\\a.bin" };
	const void *datas[] = { data };
	size_t lens[] = { len };
	struct store_catalog *cat;
	struct store_record rec;
	struct ws_error err;

	stu_scan(st, device, paths, datas, lens, 1, NULL);
	tu_assert_ok(store_catalog_open(st, device, NULL, &cat, &err), &err);
	do
		tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
	while (rec.kind != STORE_REC_FILE && rec.kind != STORE_REC_END);
	assert_int_equal(rec.kind, STORE_REC_FILE);
	assert_int_equal(rec.u.file.n_chunks, 1);
	memcpy(hash, rec.u.file.chunks[0].hash, 32);
	store_catalog_free(cat);
}

static void deep_verify_sound(struct store *st)
{
	struct store_verify_opts vo;
	struct store_verify_stats vs;
	struct ws_error err;

	memset(&vo, 0, sizeof(vo));
	vo.deep = 1;
	tu_assert_ok(store_verify(st, &vo, &vs, &err), &err);
}

static void new_store_hashes_with_sha256(void **state)
{
	char *dir = stu_tmpdir();
	unsigned char data[1000], h[32], want[32];
	struct store *st;
	struct ws_error err;
	struct ws_buf back = WS_BUF_INIT;

	(void)state;
	stu_random(data, sizeof(data), 5);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	scan_one(st, "PC-H", data, sizeof(data), h);
	if (stu_v1())
		crypto_generichash(want, 32, data, sizeof(data), NULL, 0); /* a 1.1 store */
	else
		crypto_hash_sha256(want, data, sizeof(data));
	assert_memory_equal(h, want, 32);
	tu_assert_ok(stu_read(st, "PC-H", "C:\\Users\\alice\\a.bin", &back, &err), &err);
	assert_int_equal(back.len, sizeof(data));
	assert_memory_equal(back.buf, data, sizeof(data));
	deep_verify_sound(st);
	store_close(st);
	ws_buf_release(&back);
}

static void encrypted_store_hashes_with_hmac_sha256(void **state)
{
	char *dir = stu_tmpdir();
	unsigned char data[1000], h[32], want[32];
	struct store *st;
	struct ws_error err;

	(void)state;
	stu_random(data, sizeof(data), 6);
	tu_assert_ok(stu_open(dir, 1, "pass", NULL, 0, &st, &err), &err);
	scan_one(st, "PC-E", data, sizeof(data), h);
	if (stu_v1())
		crypto_generichash(want, 32, data, sizeof(data), st->k_hash, 32);
	else
		crypto_auth_hmacsha256(want, data, sizeof(data), st->k_hash);
	assert_memory_equal(h, want, 32);
	/* not the plain hash: equal content is not recognisable */
	crypto_hash_sha256(want, data, sizeof(data));
	assert_memory_not_equal(h, want, 32);
	deep_verify_sound(st);
	store_close(st);
}

/* A store made by a 2.0 writer (or a 1.1 one with STU_V1): BLAKE2b-256
 * everywhere, also for what a newer writer adds to it, so its old chunks
 * still deduplicate. */
static void format_2_store_keeps_blake2b(void **state)
{
	char *dir = stu_tmpdir();
	unsigned char data[3000], h1[32], h2[32], want[32];
	struct store *st;
	struct ws_error err;
	struct ws_buf back = WS_BUF_INIT;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-OLD");
	struct store_file f = stu_file("C:\\Users\\alice\\b.bin", 0);
	struct store_write_stats ws;

	(void)state;
	stu_random(data, sizeof(data), 7);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	store_close(st);
	if (!stu_v1()) /* a 1.1 store is made as 1.1 writers made it */
		stu_rewrite_header(dir, "2.0", NULL);
	tu_assert_ok(stu_open(dir, 0, NULL, NULL, 0, &st, &err), &err);
	scan_one(st, "PC-OLD", data, sizeof(data), h1);
	crypto_generichash(want, 32, data, sizeof(data), NULL, 0);
	assert_memory_equal(h1, want, 32);
	store_close(st);

	/* reopened (as a later run would): read, verify, rescan with dedup */
	tu_assert_ok(stu_open(dir, 0, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(stu_read(st, "PC-OLD", "C:\\Users\\alice\\a.bin", &back, &err), &err);
	assert_int_equal(back.len, sizeof(data));
	assert_memory_equal(back.buf, data, sizeof(data));
	deep_verify_sound(st);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	tu_assert_ok(store_scan_add_file_mem(w, &f, data, sizeof(data), &err), &err);
	store_writer_stats(w, &ws);
	assert_int_equal(ws.chunks, 1);
	assert_int_equal(ws.chunks_new, 0); /* the old chunk, found by its BLAKE2b */
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	scan_one(st, "PC-OLD2", data, sizeof(data), h2);
	assert_memory_equal(h2, want, 32);
	store_close(st);
	ws_buf_release(&back);
}

static void unknown_content_hash_refused(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;

	(void)state;
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	store_close(st);
	stu_rewrite_header(dir, "3.0", "content-hash md5");
	assert_int_equal(stu_open(dir, 0, NULL, NULL, 0, &st, &err), WS_E_STORE);
	assert_non_null(strstr(err.msg, "md5"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_store_hashes_with_sha256),
		cmocka_unit_test(encrypted_store_hashes_with_hmac_sha256),
		cmocka_unit_test(format_2_store_keeps_blake2b),
		cmocka_unit_test(unknown_content_hash_refused),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	stu_cleanup();
	return rc;
}
