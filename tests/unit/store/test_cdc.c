/* test_cdc.c - store: content-defined chunking of large files: boundaries
 * are deterministic, honour min/max, and survive an insertion or deletion
 * (only the chunks around the edit change); a rescan of a large file with
 * one byte inserted at its start stores about one chunk. */
#include "store_tu.h"

#include <fcntl.h>
#include <unistd.h>

#define AVG (64u * 1024)
#define LEN (8u << 20)

/* The chunk lengths of data, as the writer cuts them. */
static size_t cuts(const struct store_cdc *c, const unsigned char *p, size_t n,
		   size_t *out, size_t max_out)
{
	size_t k = 0;

	for (size_t off = 0; off < n && k < max_out;) {
		size_t len = store_cdc_cut(c, p + off, n - off);
		out[k++] = len;
		off += len;
	}
	return k;
}

/* How many chunks of b (by content) are not among a's. */
static size_t fresh(const unsigned char *a, const size_t *ca, size_t na,
		    const unsigned char *b, const size_t *cb, size_t nb)
{
	size_t n = 0, ob = 0;

	for (size_t j = 0; j < nb; ob += cb[j++]) {
		int found = 0;
		for (size_t i = 0, oa = 0; i < na && !found; oa += ca[i++])
			found = ca[i] == cb[j] && !memcmp(a + oa, b + ob, ca[i]);
		n += !found;
	}
	return n;
}

static void boundaries_deterministic_and_bounded(void **state)
{
	struct store_cdc c, c2;
	unsigned char *p = malloc(LEN);
	size_t *a = calloc(4096, sizeof(*a)), *b = calloc(4096, sizeof(*b));
	size_t na, nb, total = 0;

	(void)state;
	store_cdc_init(&c, AVG);
	store_cdc_init(&c2, AVG);
	assert_int_equal(c.min, AVG / 4);
	assert_int_equal(c.max, AVG * 4);
	stu_random(p, LEN, 1);
	na = cuts(&c, p, LEN, a, 4096);
	nb = cuts(&c2, p, LEN, b, 4096);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(*a));
	for (size_t i = 0; i < na; i++) {
		if (i + 1 < na)
			assert_true(a[i] >= c.min && a[i] <= c.max);
		total += a[i];
	}
	assert_int_equal(total, LEN);
	/* about the average: 8 MiB of random bytes in 64 KiB chunks */
	assert_true(na > LEN / AVG / 2 && na < LEN / AVG * 2);
	/* zeros have no boundary: every chunk is max long */
	memset(p, 0, LEN);
	na = cuts(&c, p, LEN, a, 4096);
	for (size_t i = 0; i + 1 < na; i++)
		assert_int_equal(a[i], c.max);
	/* short input is one chunk */
	assert_int_equal(store_cdc_cut(&c, p, 100), 100);
	free(p);
	free(a);
	free(b);
}

static void insertion_and_deletion_change_few_chunks(void **state)
{
	struct store_cdc c;
	unsigned char *p = malloc(LEN + 1), *q = malloc(LEN + 1);
	size_t *a = calloc(4096, sizeof(*a)), *b = calloc(4096, sizeof(*b));
	size_t na, nb;
	static const size_t at[] = { 0, 12345, LEN / 2, LEN - 10 };

	(void)state;
	store_cdc_init(&c, AVG);
	stu_random(p, LEN, 2);
	na = cuts(&c, p, LEN, a, 4096);
	for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
		/* one byte inserted */
		memcpy(q, p, at[k]);
		q[at[k]] = 0x5a;
		memcpy(q + at[k] + 1, p + at[k], LEN - at[k]);
		nb = cuts(&c, q, LEN + 1, b, 4096);
		assert_true(fresh(p, a, na, q, b, nb) <= 2);
		/* one byte deleted */
		memcpy(q, p, at[k]);
		memcpy(q + at[k], p + at[k] + 1, LEN - at[k] - 1);
		nb = cuts(&c, q, LEN - 1, b, 4096);
		assert_true(fresh(p, a, na, q, b, nb) <= 2);
	}
	free(p);
	free(q);
	free(a);
	free(b);
}

/* Through the writer: a file streamed from a descriptor, rescanned with one
 * byte inserted at its start, stores about one chunk; small files keep
 * fixed chunks. */
static void rescan_after_insert_stores_one_chunk(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-C");
	struct store_write_stats ws;
	unsigned char *p = malloc(LEN + 1);
	struct ws_buf path = WS_BUF_INIT, got = WS_BUF_INIT;
	struct store_file f = stu_file("C:\\Users\\a\\big.pst", 0);

	(void)state;
	if (stu_v1()) { /* 1.x writers cut fixed chunks: nothing to check */
		free(p);
		return;
	}
	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	ws_path_join(&path, dir, "src.bin");
	stu_random(p + 1, LEN, 3);
	p[0] = 0x42;
	for (int round = 0; round < 2; round++) {
		/* round 0: the file; round 1: one byte inserted at its start */
		tu_write_file(path.buf, (char *)p + (round ? 0 : 1), LEN + (round ? 1 : 0));
		int fd = open(path.buf, O_RDONLY);
		assert_true(fd >= 0);
		tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
		tu_assert_ok(store_scan_add_file(w, &f, fd, &err), &err);
		close(fd);
		store_writer_stats(w, &ws);
		tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
		if (round) {
			assert_true(ws.chunks > LEN / AVG / 2);
			assert_true(ws.chunks_new <= 2);
			assert_true(ws.bytes_new <= 2 * 4 * AVG);
		}
	}
	tu_assert_ok(stu_read(st, "PC-C", "C:\\Users\\a\\big.pst", &got, &err), &err);
	assert_int_equal(got.len, LEN + 1);
	assert_memory_equal(got.buf, p, LEN + 1);
	/* a file under the threshold: fixed chunk-size pieces */
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	struct store_file g = stu_file("C:\\Users\\a\\small.bin", 0);
	tu_assert_ok(store_scan_add_file_mem(w, &g, p, 3 * AVG + 5, &err), &err);
	store_writer_stats(w, &ws);
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	assert_int_equal(ws.chunks, 4);
	store_close(st);
	ws_buf_release(&path);
	ws_buf_release(&got);
	free(p);
}

/* A rescan trusts size and times: an unchanged file is taken from the
 * device's previous scan unread (here its descriptor gives nothing), a
 * changed time makes it read; `reread` reads everything. */
static void unchanged_file_is_not_read(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-U");
	struct store_write_stats ws;
	unsigned char buf[100000];
	struct ws_buf path = WS_BUF_INIT, got = WS_BUF_INIT;
	struct store_file f = stu_file("C:\\Users\\a\\doc.txt", 0);

	(void)state;
	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	ws_path_join(&path, dir, "src.bin");
	stu_random(buf, sizeof(buf), 9);
	tu_write_file(path.buf, buf, sizeof(buf));
	f.size = sizeof(buf);
	for (int round = 0; round < 3; round++) {
		/* rounds 1, 2: the descriptor is empty; round 2 changes a time */
		int fd = open(round ? "/dev/null" : path.buf, O_RDONLY);
		if (round == 2)
			f.written_ft++;
		tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
		tu_assert_ok(store_scan_add_file(w, &f, fd, &err), &err);
		close(fd);
		store_writer_stats(w, &ws);
		tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
		assert_int_equal(ws.files_unchanged, round == 1);
		ws_buf_reset(&got);
		tu_assert_ok(stu_read(st, "PC-U", "C:\\Users\\a\\doc.txt", &got, &err), &err);
		if (round < 2) {
			assert_int_equal(got.len, sizeof(buf));
			assert_memory_equal(got.buf, buf, sizeof(buf));
		} else {
			assert_int_equal(got.len, 0); /* read: the descriptor was empty */
		}
	}
	store_close(st);
	ws_buf_release(&path);
	ws_buf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(boundaries_deterministic_and_bounded),
		cmocka_unit_test(insertion_and_deletion_change_few_chunks),
		cmocka_unit_test(rescan_after_insert_stores_one_chunk),
		cmocka_unit_test(unchanged_file_is_not_read),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	stu_cleanup();
	return rc;
}
