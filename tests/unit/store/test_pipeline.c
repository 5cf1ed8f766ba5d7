/* test_pipeline.c - store: the writer's pipeline (reading and cutting on
 * the caller's thread, hashing and compressing on workers, packs and
 * catalog appended in order by whichever thread retires) writes exactly
 * what one thread writes.
 * The same scan - files read from descriptors, through a read callback and
 * from memory, repeated content, an empty file, content-defined chunks,
 * registry values and folder records between files, packs closed many
 * times - is written
 * with 1, 2 and 4 threads into three stores; then an unchanged rescan of
 * each.  Plain stores (blobs encoded in the ring) and stores encrypted
 * with one key file (blobs encoded into buffers; the same key names equal
 * content alike in each store).  Every catalog record (with its chunks' hashes, sizes and pack
 * numbers), every pack's blobs in write order and every counter must be
 * the same: a chunk retired out of order, a record emitted before its
 * chunks, a lost or double-counted chunk would differ.  In the rescan,
 * records with nothing in flight before them (unchanged files, folders)
 * are written by the caller's thread at once while the others go through
 * the workers: an order mixed up between the two would differ too. */
#include "store_tu.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_FILES 90
#define CHUNK (64u * 1024)   /* stu_open's chunk size */

static const unsigned char test_key[STORE_KEY_LEN] = "pipeline test key, 32 bytes long";

/* Content of file i: sizes from empty to past the content-defined
 * threshold (4 chunk-sizes), text or random, every seventh a copy of an
 * earlier file (deduplicated, sometimes while the first is in flight). */
static size_t file_content(size_t i, unsigned char **out)
{
	size_t src = i % 7 == 6 ? i / 2 : i;
	size_t len = src == 3 ? 0 : (src * 37813u) % (6u * CHUNK) + (src % 5 == 0 ? 5u * CHUNK : 1u);
	unsigned char *p;

	if (src == 40 || src == 41)
		len = CHUNK + src - 40; /* one chunk exactly, one byte more */
	p = malloc(len ? len : 1);

	if (src % 2) {
		stu_random(p, len, 100 + src);
	} else {
		for (size_t k = 0; k < len; k++)
			p[k] = (unsigned char)"the quick brown fox jumps over the lazy dog "[(k * (src + 1) / 7) % 44];
	}
	*out = p;
	return len;
}

struct mem_reader {
	const unsigned char *p;
	size_t len, off;
};

/* A read callback giving odd-sized pieces. */
static long long mem_read(void *ctx, void *buf, size_t n, struct ws_error *err)
{
	struct mem_reader *r = ctx;
	size_t k = r->len - r->off;

	(void)err;
	if (k > n)
		k = n;
	if (k > 40000)
		k = 40000;
	memcpy(buf, r->p + r->off, k);
	r->off += k;
	return (long long)k;
}

/* The size file i had when examined: its length, or with `moved` for
 * some files less (it grew since) or more (it shrank). */
static uint64_t examined_size(size_t i, size_t len, int moved)
{
	if (!moved || i % 4 == 0)
		return len;
	if (i % 4 == 1)
		return len / 2;
	if (i % 4 == 2)
		return len + 1000;
	return len ? len - 1 : 0;
}

static void add_files(struct store_writer *w, const char *dir, int moved)
{
	struct ws_error err;

	ws_error_clear(&err);
	for (size_t i = 0; i < N_FILES; i++) {
		unsigned char *data;
		size_t len = file_content(i, &data);
		char name[64], path[96];
		struct store_file f;

		if (i % 4 == 3) {
			/* a folder: a record without content */
			struct store_file d;

			snprintf(name, sizeof(name), "C:\\Users\\alice\\d%03zu", i);
			d = stu_file(name, 0);
			d.flags = STORE_FILE_DIR;
			d.attributes = 0x10;
			tu_assert_ok(store_scan_add_file(w, &d, -1, &err), &err);
		}
		snprintf(name, sizeof(name), "C:\\Users\\alice\\f%03zu.bin", i);
		f = stu_file(name, 0);
		f.size = examined_size(i, len, moved);
		if (i % 3 == 0) {
			struct ws_buf fp = WS_BUF_INIT;
			int fd;

			snprintf(path, sizeof(path), "f%03zu", i);
			ws_path_join(&fp, dir, path);
			fd = open(fp.buf, O_RDWR | O_CREAT | O_TRUNC, 0644);
			assert_true(fd >= 0);
			assert_int_equal(ws_write_all(fd, data, len), 0);
			assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
			tu_assert_ok(store_scan_add_file(w, &f, fd, &err), &err);
			close(fd);
			ws_buf_release(&fp);
		} else if (i % 3 == 1) {
			struct mem_reader r = { data, len, 0 };

			tu_assert_ok(store_scan_add_file_read(w, &f, mem_read, &r, &err), &err);
		} else {
			tu_assert_ok(store_scan_add_file_mem(w, &f, data, len, &err), &err);
		}
		if (i % 10 == 9) {
			unsigned char dw[4] = { (unsigned char)i, 0, 0, 0 };
			struct store_value v = { 0, "HKCU\\Software\\T", "V", 4, dw, 4, 1 };

			tu_assert_ok(store_scan_add_value(w, &v, &err), &err);
		}
		free(data);
	}
}

/* One scan of the files with `threads` threads: its stats. */
static void write_scan(const char *sdir, const char *fdir, unsigned threads,
		       int encrypted, int moved, struct store_write_stats *stats)
{
	struct store_open_opts o;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-PIPE");
	struct store_user u = { 0, "S-1-5-21-1-2-3-1001", "PC\\alice", "C:\\Users\\alice",
				0, STORE_USER_LOCAL };
	struct ws_error err;

	ws_error_clear(&err);
	memset(&o, 0, sizeof(o));
	o.create = 1;
	o.chunk_size = CHUNK;
	o.pack_size = 300u * 1024; /* many packs */
	o.threads = threads;
	o.encrypt = encrypted;
	o.key = encrypted ? test_key : NULL;
	tu_assert_ok(store_open_test(sdir, &o, NULL, NULL, stu_v1(), &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	tu_assert_ok(store_scan_add_user(w, &u, &err), &err);
	add_files(w, fdir, moved);
	store_writer_stats(w, stats);
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	store_close(st);
}

/* The newest scan of the store as bytes: records in order, then each pack
 * of its pack table with its blobs in write (offset) order. */
static int by_off(const void *a, const void *b)
{
	const struct store_ix_entry *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static void dump_store(const char *sdir, int encrypted, struct ws_buf *out)
{
	struct store *st;
	struct store_catalog *cat;
	struct store_record rec;
	struct ws_error err;
	uint32_t max_pack = 0;
	int any = 0;

	ws_error_clear(&err);
	tu_assert_ok(stu_open(sdir, 0, NULL, encrypted ? test_key : NULL, 0, &st, &err), &err);
	tu_assert_ok(store_catalog_open(st, "PC-PIPE", NULL, &cat, &err), &err);
	while (!store_catalog_next(cat, &rec, &err) && rec.kind != STORE_REC_END) {
		ws_buf_addf(out, "kind %d\n", rec.kind);
		if (rec.kind != STORE_REC_FILE)
			continue;
		ws_buf_addf(out, "%s %llu %zu %x %x %llu %llu\n", rec.u.file.path,
			    (unsigned long long)rec.u.file.size, rec.u.file.n_chunks,
			    rec.u.file.flags, rec.u.file.attributes,
			    (unsigned long long)rec.u.file.written_ft,
			    (unsigned long long)rec.u.file.created_ft);
		for (size_t i = 0; i < rec.u.file.n_chunks; i++) {
			const struct store_chunk_ref *c = &rec.u.file.chunks[i];

			ws_buf_add_hex(out, c->hash, STORE_HASH_LEN);
			ws_buf_addf(out, " %u %u\n", c->raw_len, c->pack);
			if (c->pack > max_pack)
				max_pack = c->pack;
			any = 1;
		}
	}
	assert_int_equal(rec.kind, STORE_REC_END);
	tu_assert_ok(store_list_packs(st, &err), &err);
	for (uint32_t k = 0; any && k <= max_pack; k++) {
		const char *id = store_catalog_pack_id(cat, k);
		struct store_pack *p;
		struct store_ix_entry *ix;

		assert_non_null(id);
		p = store_pack_find(st, id);
		assert_non_null(p);
		tu_assert_ok(store_pack_load(st, p, &err), &err);
		ix = malloc(p->n_ix * sizeof(*ix));
		memcpy(ix, p->ix, p->n_ix * sizeof(*ix));
		qsort(ix, p->n_ix, sizeof(*ix), by_off);
		ws_buf_addf(out, "pack %u: %zu blobs\n", k, p->n_ix);
		for (size_t i = 0; i < p->n_ix; i++) {
			ws_buf_add_hex(out, ix[i].hash, STORE_HASH_LEN);
			ws_buf_addf(out, " %llu %u %u\n", (unsigned long long)ix[i].off,
				    ix[i].stored_len, ix[i].raw_len);
		}
		free(ix);
	}
	store_catalog_free(cat);
	store_close(st);
}

static void stats_equal(const struct store_write_stats *a,
			const struct store_write_stats *b)
{
	assert_int_equal(a->chunks, b->chunks);
	assert_int_equal(a->chunks_new, b->chunks_new);
	assert_int_equal(a->bytes, b->bytes);
	assert_int_equal(a->bytes_new, b->bytes_new);
	assert_int_equal(a->bytes_written, b->bytes_written);
	assert_int_equal(a->packs_new, b->packs_new);
	assert_int_equal(a->bytes_kept, b->bytes_kept);
	assert_int_equal(a->files_unchanged, b->files_unchanged);
}

static void threads_write_what_one_thread_writes_in(int encrypted)
{
	static const unsigned threads[] = { 1, 2, 4 };
	char *fdir = stu_tmpdir();
	struct ws_buf dumps[3], sd[3];
	struct store_write_stats first[3], again[3];

	for (size_t t = 0; t < 3; t++) {
		char name[16];

		ws_buf_init(&dumps[t]);
		ws_buf_init(&sd[t]);
		snprintf(name, sizeof(name), "store%u", threads[t]);
		ws_path_join(&sd[t], fdir, name);
		write_scan(sd[t].buf, fdir, threads[t], encrypted, 0, &first[t]);
		dump_store(sd[t].buf, encrypted, &dumps[t]);
	}
	/* the scan really exercised what it should */
	assert_true(first[0].chunks > first[0].chunks_new);  /* repeated content */
	assert_true(first[0].packs_new >= 5);
	assert_true(first[0].bytes_written < first[0].bytes_new); /* text compressed */
	assert_true(dumps[0].len > 0);
	for (size_t t = 1; t < 3; t++) {
		stats_equal(&first[0], &first[t]);
		assert_int_equal(dumps[t].len, dumps[0].len);
		assert_memory_equal(dumps[t].buf, dumps[0].buf, dumps[0].len);
	}
	/* An unchanged rescan: the files given by descriptor or read callback
	 * are taken from the previous scan unread (the two empty ones too:
	 * a record without chunks), those in memory deduplicated. */
	for (size_t t = 0; t < 3; t++) {
		write_scan(sd[t].buf, fdir, threads[t], encrypted, 0, &again[t]);
		ws_buf_reset(&dumps[t]);
		dump_store(sd[t].buf, encrypted, &dumps[t]);
	}
	assert_int_equal(again[0].chunks_new, 0);
	assert_int_equal(again[0].files_unchanged, 2 * N_FILES / 3);
	for (size_t t = 1; t < 3; t++) {
		stats_equal(&again[0], &again[t]);
		assert_int_equal(dumps[t].len, dumps[0].len);
		assert_memory_equal(dumps[t].buf, dumps[0].buf, dumps[0].len);
	}
	for (size_t t = 0; t < 3; t++) {
		ws_buf_release(&dumps[t]);
		ws_buf_release(&sd[t]);
	}
}

/* Files whose size changed between their examination and their reading
 * (a file of one chunk by its size is read straight into the pipeline's
 * ring, with a byte more asked for): each record has the bytes read, the
 * same with 1, 2 and 4 threads. */
static void threads_write_files_that_changed_size(void **state)
{
	static const unsigned threads[] = { 1, 2, 4 };
	char *fdir = stu_tmpdir();
	struct ws_buf dumps[3], sd[3];
	struct store_write_stats stats[3];

	(void)state;
	for (size_t t = 0; t < 3; t++) {
		char name[16];

		ws_buf_init(&dumps[t]);
		ws_buf_init(&sd[t]);
		snprintf(name, sizeof(name), "moved%u", threads[t]);
		ws_path_join(&sd[t], fdir, name);
		write_scan(sd[t].buf, fdir, threads[t], 0, 1, &stats[t]);
		dump_store(sd[t].buf, 0, &dumps[t]);
	}
	for (size_t i = 0; i < N_FILES; i++) {
		unsigned char *data;
		size_t len = file_content(i, &data);
		char line[96];

		free(data);
		snprintf(line, sizeof(line), "C:\\Users\\alice\\f%03zu.bin %zu ", i, len);
		assert_non_null(strstr(dumps[0].buf, line));
	}
	for (size_t t = 1; t < 3; t++) {
		stats_equal(&stats[0], &stats[t]);
		assert_int_equal(dumps[t].len, dumps[0].len);
		assert_memory_equal(dumps[t].buf, dumps[0].buf, dumps[0].len);
	}
	for (size_t t = 0; t < 3; t++) {
		ws_buf_release(&dumps[t]);
		ws_buf_release(&sd[t]);
	}
}

static void threads_write_what_one_thread_writes(void **state)
{
	(void)state;
	threads_write_what_one_thread_writes_in(0);
}

static void threads_write_what_one_thread_writes_encrypted(void **state)
{
	(void)state;
	threads_write_what_one_thread_writes_in(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(threads_write_what_one_thread_writes),
		cmocka_unit_test(threads_write_what_one_thread_writes_encrypted),
		cmocka_unit_test(threads_write_files_that_changed_size),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	stu_cleanup();
	return rc;
}
