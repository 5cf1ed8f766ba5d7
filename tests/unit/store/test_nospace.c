/* test_nospace.c - store: a disk that fills up (ENOSPC injected through the
 * store's private fault hook) at every kind of write of a scan: header,
 * marker, catalog creation and frames, pack creation and blobs, pack index.
 * Each time: WS_E_NOSPACE with a message naming the store, earlier scans
 * intact, nothing visible, no temporary file left, and a rerun completes,
 * reusing what the failed scan managed to close. */
#include "store_tu.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "store/store_private.h"

#define CHUNK (64 * 1024)
#define NFILES 6
#define FILE_LEN (3 * CHUNK + 1000)   /* 4 chunks per file, 24 in all */

struct fault {
	const char *match;   /* substring of the path; NULL = never fail */
	int nth;             /* the nth matching write fails ... */
	int sticky;          /* ... and, if set, every later one too */
	int seen, fired;
};

static int fault_fn(void *ctx, const char *path)
{
	struct fault *f = ctx;

	if (!f->match || !strstr(path, f->match))
		return 0;
	f->seen++;
	if (f->seen == f->nth || (f->sticky && f->seen > f->nth)) {
		f->fired++;
		return ENOSPC;
	}
	return 0;
}

static int open_faulty(const char *dir, struct fault *f, struct store **st,
		       struct ws_error *err)
{
	struct store_open_opts o;

	memset(&o, 0, sizeof(o));
	o.create = 1;
	o.chunk_size = CHUNK;
	o.pack_size = 1 << 20;
	return store_open_test(dir, &o, fault_fn, f, stu_v1(), st, err);
}

static size_t count_entries(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name), sl = strlen(suffix);
		if (de->d_name[0] == '.' && (!de->d_name[1] || de->d_name[1] == '.'))
			continue;
		if (l >= sl && !strcmp(de->d_name + l - sl, suffix))
			n++;
	}
	closedir(d);
	return n;
}

static size_t count_in(const char *store, const char *sub, const char *suffix)
{
	struct ws_buf p = WS_BUF_INIT;
	size_t n;

	ws_path_join(&p, store, sub);
	n = count_entries(p.buf, suffix);
	ws_buf_release(&p);
	return n;
}

/* Content of file i of scan `gen`: half text, half random, all distinct. */
static void make_file(unsigned char *buf, int gen, int i)
{
	stu_random(buf, FILE_LEN, (uint64_t)(gen * 100 + i + 1));
	for (size_t k = 0; k < FILE_LEN / 2; k++)
		buf[k] = (unsigned char)"the quick brown fox jumps "[(k + (size_t)i) % 26];
	snprintf((char *)buf, 32, "gen %d file %d ", gen, i);
}

static char *path_of(int i)
{
	static char p[64];

	snprintf(p, sizeof(p), "C:\\Users\\alice\\Documents\\f%d.bin", i);
	return p;
}

/* One full scan of `device`; returns the first failure (writer aborted). */
static int run_scan(struct store *st, const char *device, int gen,
		    struct store_write_stats *stats, char *id,
		    struct ws_error *err)
{
	struct store_scan_info in = stu_info(device);
	struct store_user u = { 0, "S-1-5-21-1-2-3-1001", "PC\\alice", "C:\\Users\\alice",
				0, STORE_USER_LOCAL };
	unsigned char *buf = malloc(FILE_LEN);
	struct store_writer *w;
	int rc;

	rc = store_scan_begin(st, &in, &w, err);
	if (rc)
		goto out;
	rc = store_scan_add_user(w, &u, err);
	for (int i = 0; !rc && i < NFILES; i++) {
		struct store_file f = stu_file(path_of(i), 0);
		make_file(buf, gen, i);
		rc = store_scan_add_file_mem(w, &f, buf, FILE_LEN, err);
	}
	if (stats)
		store_writer_stats(w, stats);
	if (rc)
		store_scan_abort(w);
	else
		rc = store_scan_commit(w, id, err);
out:
	free(buf);
	return rc;
}

static void assert_sound(const char *dir, size_t scans)
{
	struct store *st;
	struct ws_error err;
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct store_verify_opts vo = { 0 };
	struct store_verify_stats vs;

	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 0, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(store_list_scans(st, NULL, &l, &err), &err);
	assert_int_equal(l.n, scans);
	assert_int_equal(l.damaged, 0);
	store_scan_list_release(&l);
	vo.deep = 1;
	tu_assert_ok(store_verify(st, &vo, &vs, &err), &err);
	assert_int_equal(vs.problems, 0);
	store_close(st);
	/* Nothing of the failed scan lingers. */
	assert_int_equal(count_in(dir, "tmp", ""), 0);
	assert_int_equal(count_in(dir, "scans", ".open"), 0);
	assert_int_equal(count_in(dir, "scans", ".cat"), scans);
}

static int read_file(struct store *st, const char *id, const char *path,
		     struct ws_buf *out, struct ws_error *err)
{
	struct store_catalog *cat;
	struct store_record rec;
	int rc = store_catalog_open(st, NULL, id, &cat, err);

	if (rc)
		return rc;
	while (!(rc = store_catalog_next(cat, &rec, err)) && rec.kind != STORE_REC_END)
		if (rec.kind == STORE_REC_FILE && !strcmp(rec.u.file.path, path)) {
			rc = store_catalog_read_file_cb(cat, &rec.u.file, stu_sink, out, err);
			break;
		}
	store_catalog_free(cat);
	return rc;
}

/* Every file of scan `id` reads back as generation gen. */
static void assert_content(const char *dir, const char *id, int gen)
{
	struct store *st;
	struct ws_error err;
	unsigned char *buf = malloc(FILE_LEN);

	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 0, NULL, NULL, 0, &st, &err), &err);
	for (int i = 0; i < NFILES; i++) {
		struct ws_buf got = WS_BUF_INIT;
		make_file(buf, gen, i);
		tu_assert_ok(read_file(st, id, path_of(i), &got, &err), &err);
		assert_int_equal(got.len, FILE_LEN);
		assert_memory_equal(got.buf, buf, FILE_LEN);
		ws_buf_release(&got);
	}
	store_close(st);
	free(buf);
}

/*
 * The scenario: a first scan fits; the second hits the fault; the store is
 * checked; the rerun (no fault) completes.  Returns the rerun's new chunks.
 */
static uint64_t scenario(struct fault *f, int want_fired)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_write_stats ws;
	char store[4096], id1[STORE_SCAN_ID_MAX], id2[STORE_SCAN_ID_MAX];
	int rc;

	snprintf(store, sizeof(store), "%s/store", dir);
	ws_error_clear(&err);
	{
		struct fault none = { 0 };
		tu_assert_ok(open_faulty(store, &none, &st, &err), &err);
		tu_assert_ok(run_scan(st, "PC-01", 1, NULL, id1, &err), &err);
		store_close(st);
	}
	tu_assert_ok(open_faulty(store, f, &st, &err), &err);
	rc = run_scan(st, "PC-01", 2, NULL, NULL, &err);
	store_close(st);
	if (want_fired)
		assert_true(f->fired > 0);
	assert_int_equal(rc, WS_E_NOSPACE);
	assert_int_equal(err.code, WS_E_NOSPACE);
	/* The message says which store is full and why. */
	assert_non_null(strstr(err.msg, store));
	assert_non_null(strstr(err.msg, "is full"));
	assert_non_null(strstr(err.msg, strerror(ENOSPC)));
	assert_sound(store, 1);
	assert_content(store, id1, 1);

	/* Space freed: the rerun completes. */
	tu_assert_ok(stu_open(store, 0, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(run_scan(st, "PC-01", 2, &ws, id2, &err), &err);
	store_close(st);
	assert_int_equal(ws.chunks, NFILES * 4);
	assert_sound(store, 2);
	assert_content(store, id2, 2);
	assert_content(store, id1, 1);
	return ws.chunks_new;
}

/* A blob write fails once (the disk had a little room left after the
 * partial blob was cut): the whole blobs written before are kept as a
 * closed pack and the rerun stores only the rest. */
static void pack_write_once_keeps_whole_blobs(void **state)
{
	struct fault f = { stu_part(), 12, 0, 0, 0 };
	uint64_t fresh;

	(void)state;
	fresh = scenario(&f, 1);
	assert_true(fresh > 0);
	assert_true(fresh < NFILES * 4);
}

/* The disk stays full: nothing of the open pack can be kept. */
static void pack_write_sticky_discards_pack(void **state)
{
	struct fault f = { stu_part(), 12, 1, 0, 0 };

	(void)state;
	assert_int_equal(scenario(&f, 1), NFILES * 4);
}

/* Creating the pack file fails. */
static void pack_create_fails(void **state)
{
	struct fault f = { stu_part(), 1, 1, 0, 0 };

	(void)state;
	assert_int_equal(scenario(&f, 1), NFILES * 4);
}

/* The .idx of a full pack cannot be written: the pack is removed again (no
 * writer could use it) and the scan fails; a later pack is not reached. */
static void pack_index_write_fails(void **state)
{
	struct fault f = { ".idx", 1, 1, 0, 0 };

	(void)state;
	assert_int_equal(scenario(&f, 1), NFILES * 4);
}

/* The catalog's creation fails: begin reports it. */
static void catalog_create_fails(void **state)
{
	struct fault f = { ".cat.part", 1, 0, 0, 0 };

	(void)state;
	assert_int_equal(scenario(&f, 1), NFILES * 4);
}

/* The catalog's frames cannot be written at commit: the open pack was
 * closed first, so the rerun stores no content at all. */
static void catalog_commit_write_fails(void **state)
{
	struct fault f = { ".cat.part", 4, 1, 0, 0 };

	(void)state;
	assert_int_equal(scenario(&f, 1), 0);
}

/* The writer-alive marker cannot be created. */
static void marker_create_fails(void **state)
{
	struct fault f = { ".open", 1, 0, 0, 0 };

	(void)state;
	assert_int_equal(scenario(&f, 1), NFILES * 4);
}

/* A new store on a full disk: no header, no temporary file, the message
 * names the store. */
static void header_create_fails(void **state)
{
	char *dir = stu_tmpdir();
	struct fault f = { "winstate-store", 1, 1, 0, 0 };
	struct store *st = NULL;
	struct ws_error err;
	char store[4096];

	(void)state;
	snprintf(store, sizeof(store), "%s/store", dir);
	ws_error_clear(&err);
	assert_int_equal(open_faulty(store, &f, &st, &err), WS_E_NOSPACE);
	assert_null(st);
	assert_non_null(strstr(err.msg, store));
	assert_int_equal(count_entries(store, ""), 0);
	/* Space back: the store is created. */
	f.match = NULL;
	tu_assert_ok(open_faulty(store, &f, &st, &err), &err);
	store_close(st);
}

/* After a failure the writer refuses everything, even content that is
 * already in the store, and commit reports the first failure's code. */
static void failed_writer_stays_failed(void **state)
{
	char *dir = stu_tmpdir();
	struct fault f = { stu_part(), 3, 0, 0, 0 };
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-01");
	struct ws_error err;
	unsigned char *buf = malloc(FILE_LEN);
	struct store_file f0 = stu_file(path_of(0), 0);
	int rc = WS_OK;

	(void)state;
	ws_error_clear(&err);
	tu_assert_ok(open_faulty(dir, &f, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	for (int i = 0; i < NFILES && !rc; i++) {
		struct store_file fi = stu_file(path_of(i), 0);
		make_file(buf, 1, i);
		rc = store_scan_add_file_mem(w, &fi, buf, FILE_LEN, &err);
	}
	/* with worker threads a chunk fails once retired: maybe after its
	 * file's call returned, at the latest when the writer is drained */
	assert_true(rc == WS_OK || rc == WS_E_NOSPACE);
	struct store_write_stats ws;
	store_writer_stats(w, &ws);
	make_file(buf, 1, 0);
	assert_int_equal(store_scan_add_file_mem(w, &f0, buf, FILE_LEN, &err), WS_E_NOSPACE);
	assert_int_equal(store_scan_commit(w, NULL, &err), WS_E_NOSPACE);
	assert_non_null(strstr(err.msg, "is full"));
	store_close(st);
	free(buf);
}

/* A body frame fails on the thread that writes frames while records are
 * still being added: the writer fails (at the latest at commit) with the
 * full store named, the first scan stays whole, nothing of the failed one
 * is left, and the rerun completes. */
static void body_frame_fails_while_scanning(void **state)
{
	char *dir = stu_tmpdir();
	/* the catalog's creation, its header, frame 0, then the first body
	 * frame, written mid-scan; sticky: every later one fails too */
	struct fault f = { ".cat.part", 4, 1, 0, 0 };
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-01");
	struct ws_error err;
	char store[4096], id1[STORE_SCAN_ID_MAX], id2[STORE_SCAN_ID_MAX];
	int rc = WS_OK, added = 0;

	(void)state;
	snprintf(store, sizeof(store), "%s/store", dir);
	ws_error_clear(&err);
	{
		struct fault none = { 0 };
		tu_assert_ok(open_faulty(store, &none, &st, &err), &err);
		tu_assert_ok(run_scan(st, "PC-01", 1, NULL, id1, &err), &err);
		store_close(st);
	}
	tu_assert_ok(open_faulty(store, &f, &st, &err), &err);
	st->threads = 2;
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	/* about three frames of folder records */
	for (int i = 0; i < 30000 && !rc; i++, added++) {
		char path[96];
		struct store_file d;

		snprintf(path, sizeof(path), "C:\\Users\\alice\\AppData\\Local\\folder-%06d-abcdefghij", i);
		d = stu_file(path, 0);
		d.flags = STORE_FILE_DIR;
		rc = store_scan_add_file(w, &d, -1, &err);
	}
	if (rc)
		store_scan_stop(w, NULL);
	else
		rc = store_scan_commit(w, NULL, &err);
	store_close(st);
	assert_true(f.fired > 0);
	/* told while adding, one frame later than it failed */
	assert_true(added < 30000);
	assert_int_equal(rc, WS_E_NOSPACE);
	assert_non_null(strstr(err.msg, store));
	assert_non_null(strstr(err.msg, "is full"));
	assert_sound(store, 1);
	assert_content(store, id1, 1);
	assert_int_equal(count_in(store, "tmp", ".cat.part"), 0);

	tu_assert_ok(stu_open(store, 0, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(run_scan(st, "PC-01", 2, NULL, id2, &err), &err);
	store_close(st);
	assert_sound(store, 2);
	assert_content(store, id2, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pack_write_once_keeps_whole_blobs),
		cmocka_unit_test(pack_write_sticky_discards_pack),
		cmocka_unit_test(pack_create_fails),
		cmocka_unit_test(pack_index_write_fails),
		cmocka_unit_test(catalog_create_fails),
		cmocka_unit_test(catalog_commit_write_fails),
		cmocka_unit_test(marker_create_fails),
		cmocka_unit_test(header_create_fails),
		cmocka_unit_test(failed_writer_stays_failed),
		cmocka_unit_test(body_frame_fails_while_scanning),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	stu_cleanup();
	return rc;
}
