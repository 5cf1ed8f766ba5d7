/* test_memory.c - store: a 256 MiB file is written into a scan and read
 * back with heap use bounded by a few chunk sizes, whatever the file's size.
 * A sampling thread watches the bytes allocated on the heap (the sanitizer
 * allocator's own count under ASan, mallinfo2() otherwise) while the main
 * thread streams the file; this measures allocations, not timing. */
#include "store_tu.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>


#define BIG_SIZE ((off_t)256 << 20)
#define CHUNK (1u << 20)

struct sampler {
	pthread_t th;
	atomic_int stop;
	atomic_size_t peak;
	size_t samples;
};

static void *sample_loop(void *arg)
{
	struct sampler *s = arg;

	while (!atomic_load(&s->stop)) {
		size_t now = stu_heap_in_use();
		if (now > atomic_load(&s->peak))
			atomic_store(&s->peak, now);
		s->samples++;
		usleep(200);
	}
	return NULL;
}

static void sampler_start(struct sampler *s)
{
	atomic_store(&s->stop, 0);
	atomic_store(&s->peak, stu_heap_in_use());
	s->samples = 0;
	assert_int_equal(pthread_create(&s->th, NULL, sample_loop, s), 0);
}

static size_t sampler_stop(struct sampler *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	assert_true(s->samples > 10); /* the loop really watched */
	return atomic_load(&s->peak);
}

/* A sparse 256 MiB file with a distinct random 64 KiB block every 8 MiB,
 * so most chunks differ (and are compressed and written), yet the file
 * costs the disk only 2 MiB. */
static int make_sparse(const char *path)
{
	unsigned char blk[65536];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, BIG_SIZE), 0);
	for (off_t off = 0; off < BIG_SIZE; off += 8 << 20) {
		stu_random(blk, sizeof(blk), (uint64_t)off + 1);
		assert_int_equal(pwrite(fd, blk, sizeof(blk), off + 4096), (ssize_t)sizeof(blk));
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static void big_sparse_file_streams_in_bounded_memory(void **state)
{
	char *dir = stu_tmpdir();
	struct store_open_opts o;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-SPARSE");
	struct store_file f = stu_file("C:\\disk.vhdx", STORE_SYSTEM);
	struct store_write_stats ws;
	struct store_catalog *cat;
	struct store_record rec;
	struct ws_error err;
	struct ws_buf path = WS_BUF_INIT, sp = WS_BUF_INIT;
	struct sampler smp;
	size_t base, peak;
	int fd, nul;

	(void)state;
	ws_error_clear(&err);
	ws_path_join(&path, dir, "disk.vhdx");
	ws_path_join(&sp, dir, "store");
	fd = make_sparse(path.buf);
	memset(&o, 0, sizeof(o));
	o.create = 1;
	o.chunk_size = CHUNK;
	o.pack_size = 64u << 20;
	tu_assert_ok(store_open(sp.buf, &o, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);

	/* Writing: hash, compress, pack, catalog record. */
	base = stu_heap_in_use();
	sampler_start(&smp);
	tu_assert_ok(store_scan_add_file(w, &f, fd, &err), &err);
	peak = sampler_stop(&smp);
	close(fd);
	store_writer_stats(w, &ws);
	assert_int_equal(ws.bytes, (uint64_t)BIG_SIZE);
	/* content-defined chunks (a large file): between a quarter and four
	 * times the chunk size */
	assert_true(ws.chunks >= BIG_SIZE / (4 * CHUNK) && ws.chunks <= BIG_SIZE / (CHUNK / 4));
	assert_true(ws.chunks_new >= 32);  /* the distinct chunks were stored */
	print_message("write: heap %zu KiB before, peak +%zu KiB\n", base >> 10,
		      (peak - base) >> 10);
	/* a chunk buffer, the chunks in flight with their compressed copies,
	 * and each worker's zstd contexts */
	assert_true(peak - base < 6 * CHUNK + 3 * STORE_PIPE_BYTES);
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);

	/* Reading back: decode and check every chunk, written to /dev/null. */
	tu_assert_ok(store_catalog_open(st, "PC-SPARSE", NULL, &cat, &err), &err);
	tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
	assert_int_equal(rec.kind, STORE_REC_FILE);
	assert_int_equal(rec.u.file.size, (uint64_t)BIG_SIZE);
	nul = open("/dev/null", O_WRONLY);
	assert_true(nul >= 0);
	base = stu_heap_in_use();
	sampler_start(&smp);
	tu_assert_ok(store_catalog_read_file(cat, &rec.u.file, nul, &err), &err);
	peak = sampler_stop(&smp);
	close(nul);
	print_message("read: heap %zu KiB before, peak +%zu KiB\n", base >> 10,
		      (peak - base) >> 10);
	/* and chunks decoded ahead by the other threads */
	assert_true(peak - base < 6 * CHUNK + 3 * STORE_PIPE_BYTES);
	store_catalog_free(cat);
	store_close(st);
	ws_buf_release(&path);
	ws_buf_release(&sp);
}

/* The same bound must not depend on the size: a 4 times bigger file peaks
 * no higher than the small one plus a chunk and the pipeline's bytes in
 * flight (whether the small file filled the pipeline depends on the
 * threads' timing), so no per-byte growth hides in the bound above. */
static void heap_peak_does_not_grow_with_file_size(void **state)
{
	char *dir = stu_tmpdir();
	struct store_open_opts o;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-GROW");
	struct ws_error err;
	struct ws_buf sp = WS_BUF_INIT;
	size_t peaks[2];
	unsigned char *blk = malloc(CHUNK);

	(void)state;
	ws_error_clear(&err);
	ws_path_join(&sp, dir, "store");
	memset(&o, 0, sizeof(o));
	o.create = 1;
	o.chunk_size = CHUNK;
	o.pack_size = 8u << 20;
	tu_assert_ok(store_open(sp.buf, &o, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	for (int k = 0; k < 2; k++) {
		/* 16 then 64 MiB of distinct incompressible chunks through a pipe
		 * fed by a child process. */
		size_t n = k ? 64 : 16;
		int p[2];
		pid_t pid;
		struct sampler smp;
		size_t base;
		struct store_file f = stu_file(k ? "C:\\b.bin" : "C:\\a.bin", STORE_SYSTEM);

		assert_int_equal(pipe(p), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			for (size_t i = 0; i < n; i++) {
				stu_random(blk, CHUNK, 1000 * (uint64_t)k + i);
				if (ws_write_all(p[1], blk, CHUNK))
					_exit(1);
			}
			_exit(0);
		}
		close(p[1]);
		base = stu_heap_in_use();
		sampler_start(&smp);
		tu_assert_ok(store_scan_add_file(w, &f, p[0], &err), &err);
		peaks[k] = sampler_stop(&smp) - base;
		close(p[0]);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	print_message("peak +%zu KiB for 16 MiB, +%zu KiB for 64 MiB\n",
		      peaks[0] >> 10, peaks[1] >> 10);
	assert_true(peaks[1] < 6 * CHUNK + 3 * STORE_PIPE_BYTES);
	assert_true(peaks[1] < peaks[0] + CHUNK + STORE_PIPE_BYTES);
	store_scan_abort(w);
	store_close(st);
	ws_buf_release(&sp);
	free(blk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(big_sparse_file_streams_in_bounded_memory),
		cmocka_unit_test(heap_peak_does_not_grow_with_file_size),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	stu_cleanup();
	return rc;
}
