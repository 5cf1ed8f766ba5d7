/* test_compress.c - store: incompressible chunks are recognised before
 * being deflated (sampling, file magic) and stored raw, compressible ones
 * are still compressed, the blob format is unchanged (flags byte); the
 * header's pack-size decides when writers close packs. */
#include "store_tu.h"

#include <sys/stat.h>
#include <unistd.h>

#include "store/store_private.h"

#define MIB (1u << 20)

static void text(unsigned char *p, size_t n, unsigned seed)
{
	static const char *words[] = { "profile ", "settings ", "document ", "the ",
				       "winstate ", "registry ", "of ", "and " };

	for (size_t i = 0; i < n;) {
		const char *w = words[(i / 7 + seed + i % 5) % 8];
		for (; *w && i < n; w++)
			p[i++] = (unsigned char)*w;
	}
}

static void sample_judges_chunks(void **state)
{
	unsigned char *buf = malloc(MIB);
	struct store_zctx z = { NULL, NULL };

	(void)state;
	stu_random(buf, MIB, 1);
	assert_false(store_blob_compressible(&z, buf, MIB));
	text(buf, MIB, 2);
	assert_true(store_blob_compressible(&z, buf, MIB));
	/* Random in its first half, text in its second: the slices spread
	 * over the chunk see the text. */
	stu_random(buf, MIB / 2, 3);
	text(buf + MIB / 2, MIB / 2, 4);
	assert_true(store_blob_compressible(&z, buf, MIB));
	/* Text only at the start: still worth it (the first slice). */
	stu_random(buf, MIB, 5);
	text(buf, 64 * 1024, 6);
	assert_true(store_blob_compressible(&z, buf, MIB));
	/* Small chunks are always tried whole: sampling would cost as much. */
	stu_random(buf, 64 * 1024, 7);
	assert_true(store_blob_compressible(&z, buf, 64 * 1024));
	store_zctx_release(&z);
	free(buf);
}

static void magic_recognises_compressed_formats(void **state)
{
	static const struct {
		const char *bytes;
		size_t n;
	} yes[] = {
		{ "\xff\xd8\xff\xe0\x00\x10JFIF", 10 },
		{ "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16 },
		{ "GIF89a", 6 },
		{ "PK\x03\x04\x14\x00\x06\x00", 8 },
		{ "\x1f\x8b\x08\x00", 4 },
		{ "BZh91AY", 7 },
		{ "\xfd" "7zXZ\x00\x00", 7 },
		{ "\x28\xb5\x2f\xfd\x04", 5 },
		{ "7z\xbc\xaf\x27\x1c\x00\x04", 8 },
		{ "Rar!\x1a\x07\x01", 7 },
		{ "MSCF\0\0\0\0", 8 },
		{ "\0\0\0\x20" "ftypisom", 12 },
		{ "\x1a\x45\xdf\xa3\x9f", 5 },
		{ "OggS\0\x02", 6 },
		{ "fLaC\0\0\0\x22", 8 },
		{ "ID3\x04\0", 5 },
		{ "RIFF\x24\0\0\0WEBPVP8 ", 16 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!store_magic_compressed(yes[i].bytes, yes[i].n))
			fail_msg("format %zu not recognised", i);
	}
	assert_false(store_magic_compressed("hello, world\n", 13));
	assert_false(store_magic_compressed("RIFF\x24\0\0\0WAVEfmt ", 16)); /* WAV: plain PCM */
	assert_false(store_magic_compressed("%PDF-1.7", 8));
	assert_false(store_magic_compressed("\xff\xd8", 2));              /* too short */
	assert_false(store_magic_compressed("", 0));
}

/* Write one file, return the bytes written into packs for it. */
static uint64_t store_one(struct store *st, const char *device,
			  const unsigned char *data, size_t len, int from_fd)
{
	struct store_writer *w;
	struct store_scan_info in = stu_info(device);
	struct store_file f = stu_file("C:\\Users\\alice\\x.bin", STORE_SYSTEM);
	struct store_write_stats ws;
	struct ws_error err;
	struct ws_buf got = WS_BUF_INIT;

	ws_error_clear(&err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	if (from_fd) {
		char path[] = "/tmp/wsstore-compress-XXXXXX";
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		unlink(path);
		assert_int_equal(ws_write_all(fd, data, len), 0);
		lseek(fd, 0, SEEK_SET);
		tu_assert_ok(store_scan_add_file(w, &f, fd, &err), &err);
		close(fd);
	} else {
		tu_assert_ok(store_scan_add_file_mem(w, &f, data, len, &err), &err);
	}
	store_writer_stats(w, &ws);
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	tu_assert_ok(stu_read(st, device, f.path, &got, &err), &err);
	assert_int_equal(got.len, len);
	assert_memory_equal(got.buf, data, len);
	ws_buf_release(&got);
	return ws.bytes_written;
}

static struct store *open_mib(const char *dir, uint64_t pack_size)
{
	struct store_open_opts o;
	struct store *st;
	struct ws_error err;

	memset(&o, 0, sizeof(o));
	o.create = 1;
	o.chunk_size = MIB;
	o.pack_size = pack_size;
	ws_error_clear(&err);
	tu_assert_ok(store_open(dir, &o, &st, &err), &err);
	return st;
}

static void writer_skips_and_compresses(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st = open_mib(dir, 0);
	size_t n = 3 * MIB + 5000;
	unsigned char *buf = malloc(n);

	(void)state;
	/* Random content: stored raw, one flags byte per chunk more. */
	stu_random(buf, n, 11);
	assert_int_equal(store_one(st, "PC-RAND", buf, n, 1), n + 4);
	/* Text: compressed to a fraction. */
	text(buf, n, 12);
	assert_true(store_one(st, "PC-TEXT", buf, n, 1) < n / 4);
	/* A PNG signature in front of text: the magic wins, stored raw
	 * (from an fd and from memory alike). */
	text(buf, n, 13);
	memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
	assert_int_equal(store_one(st, "PC-PNG", buf, n, 1), n + 4);
	text(buf, n, 14); /* other content: nothing deduplicated */
	memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
	assert_int_equal(store_one(st, "PC-PNG2", buf, n, 0), n + 4);
	store_close(st);
	free(buf);
}

/* The raw blob decodes with the same reader as before: flags byte 0;
 * compressible chunks are zstd (2.0). */
static void raw_blob_has_flag_zero(void **state)
{
	struct store_zctx z = { NULL, NULL };
	char *dir = stu_tmpdir();
	struct store *st = open_mib(dir, 0);
	unsigned char *buf = malloc(MIB);
	struct ws_buf blob = WS_BUF_INIT, out = WS_BUF_INIT;
	unsigned char h[STORE_HASH_LEN];
	const char *why = NULL;

	(void)state;
	stu_random(buf, MIB, 21);
	store_content_hash(st, buf, MIB, h);
	store_blob_encode(st, &z, h, buf, MIB, -1, &blob);
	assert_int_equal(blob.len, MIB + 1);
	assert_int_equal((unsigned char)blob.buf[0], 0);
	assert_int_equal(store_blob_decode(st, &z, h, MIB, blob.buf, blob.len, &out, &why), 0);
	assert_memory_equal(out.buf, buf, MIB);
	ws_buf_reset(&blob);
	ws_buf_reset(&out);
	text(buf, MIB, 22);
	store_content_hash(st, buf, MIB, h);
	store_blob_encode(st, &z, h, buf, MIB, -1, &blob);
	assert_int_equal((unsigned char)blob.buf[0], STORE_BLOB_ZSTD);
	assert_true(blob.len < MIB / 4);
	assert_int_equal(store_blob_decode(st, &z, h, MIB, blob.buf, blob.len, &out, &why), 0);
	assert_memory_equal(out.buf, buf, MIB);
	/* a zstd frame that inflates past raw_len (bomb) is refused */
	ws_buf_reset(&out);
	assert_int_equal(store_blob_decode(st, &z, h, MIB - 1, blob.buf, blob.len, &out, &why), -1);
	/* zlib and zstd flags together are damage */
	blob.buf[0] |= STORE_BLOB_ZLIB;
	assert_int_equal(store_blob_decode(st, &z, h, MIB, blob.buf, blob.len, &out, &why), -1);
	ws_buf_release(&blob);
	ws_buf_release(&out);
	store_zctx_release(&z);
	store_close(st);
	free(buf);
}

/* pack-size recorded at creation is what later writers use; the opener's
 * own size wins; out-of-range sizes are refused. */
static void header_pack_size(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st = open_mib(dir, 1 * MIB);
	struct store_open_opts o;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-PACKS");
	struct store_write_stats ws;
	struct ws_error err;
	unsigned char *buf = malloc(MIB);
	struct ws_buf hdr = WS_BUF_INIT, path = WS_BUF_INIT;

	(void)state;
	store_close(st);
	ws_path_join(&path, dir, "winstate-store");
	ws_error_clear(&err);
	tu_assert_ok(ws_read_file(path.buf, 4096, &hdr, &err), &err);
	assert_non_null(strstr(hdr.buf, "\npack-size 1048576\n"));
	memset(&o, 0, sizeof(o));
	tu_assert_ok(store_open(dir, &o, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	for (int i = 0; i < 5; i++) {
		char p[64];
		struct store_file f;
		snprintf(p, sizeof(p), "C:\\r%d.bin", i);
		f = stu_file(p, STORE_SYSTEM);
		stu_random(buf, MIB, 100 + (uint64_t)i);
		tu_assert_ok(store_scan_add_file_mem(w, &f, buf, MIB, &err), &err);
	}
	store_writer_stats(w, &ws);
	assert_int_equal(ws.packs_new, 5); /* each 1 MiB blob filled a pack */
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	store_close(st);

	o.pack_size = 64 * MIB;
	tu_assert_ok(store_open(dir, &o, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	for (int i = 0; i < 5; i++) {
		char p[64];
		struct store_file f;
		snprintf(p, sizeof(p), "C:\\s%d.bin", i);
		f = stu_file(p, STORE_SYSTEM);
		stu_random(buf, MIB, 200 + (uint64_t)i);
		tu_assert_ok(store_scan_add_file_mem(w, &f, buf, MIB, &err), &err);
	}
	store_writer_stats(w, &ws);
	assert_int_equal(ws.packs_new, 0); /* still open: 64 MiB not reached */
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	store_close(st);

	o.pack_size = 100;
	assert_int_equal(store_open(dir, &o, &st, &err), WS_E_USAGE);
	ws_buf_release(&hdr);
	ws_buf_release(&path);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sample_judges_chunks),
		cmocka_unit_test(magic_recognises_compressed_formats),
		cmocka_unit_test(writer_skips_and_compresses),
		cmocka_unit_test(raw_blob_has_flag_zero),
		cmocka_unit_test(header_pack_size),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	stu_cleanup();
	return rc;
}
