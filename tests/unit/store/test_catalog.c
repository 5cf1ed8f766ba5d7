/* test_catalog.c - store catalogs: many frames, aborted and failed scans,
 * truncated and renamed catalogs, salvage past a damaged frame, device
 * filters, order of scans started in the same second, frame compression
 * by the store's format (zstd from 4.0) and its bounds. */
#include "store_tu.h"

#include "store/store_private.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

static size_t count_entries(const char *dir, const char *sub)
{
	struct ws_buf p = WS_BUF_INIT;
	DIR *d;
	struct dirent *de;
	size_t n = 0;

	ws_path_join(&p, dir, sub);
	d = opendir(p.buf);
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	ws_buf_release(&p);
	return n;
}

static void large_catalog_spans_many_frames(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-BIGCAT");
	unsigned char data[200];
	char text[600];
	const int nv = 30000, nr = 3000;

	tu_assert_ok(stu_open(dir, 1, "pw", NULL, 0, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	for (int i = 0; i < nr; i++) {
		snprintf(text, sizeof(text), "rule %d %0400d", i, i);
		struct store_rule r = { (uint32_t)i, text };
		tu_assert_ok(store_scan_add_rule(w, &r, &err), &err);
	}
	for (int i = 0; i < nv; i++) {
		char name[32];
		snprintf(name, sizeof(name), "v%d", i);
		stu_random(data, sizeof(data), (uint64_t)i);
		struct store_value v = { STORE_SYSTEM, "HKLM\\Software\\Many", name, 3, data, sizeof(data), 0 };
		tu_assert_ok(store_scan_add_value(w, &v, &err), &err);
	}
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	store_close(st);

	struct store_catalog *cat;
	struct store_record rec;
	tu_assert_ok(stu_open(dir, 0, "pw", NULL, 0, &st, &err), &err);
	tu_assert_ok(store_catalog_open(st, "PC-BIGCAT", NULL, &cat, &err), &err);
	size_t n;
	store_catalog_rules(cat, &n);
	assert_int_equal(n, nr);
	assert_non_null(strstr(store_catalog_rule_text(cat, 2999), "rule 2999"));
	int got = 0;
	for (;;) {
		tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
		if (rec.kind == STORE_REC_END)
			break;
		stu_random(data, sizeof(data), (uint64_t)got);
		assert_memory_equal(rec.u.value.data, data, sizeof(data));
		got++;
	}
	assert_int_equal(got, nv);
	store_catalog_free(cat);
	store_close(st);
}

/* An interrupted scan (store_scan_stop) closes what it stored: nothing is
 * visible, the counts say what was kept, and the rerun stores nothing. */
static void stopped_scan_keeps_its_content(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-STOP");
	struct store_write_stats ws;
	unsigned char buf[30000];

	(void)state;
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	for (int round = 0; round < 2; round++) {
		tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
		for (int i = 0; i < 5; i++) {
			char path[32];
			snprintf(path, sizeof(path), "C:\f%d.bin", i);
			stu_random(buf, sizeof(buf), 100 + (uint64_t)i);
			struct store_file f = stu_file(path, STORE_SYSTEM);
			tu_assert_ok(store_scan_add_file_mem(w, &f, buf, sizeof(buf), &err), &err);
		}
		if (round) {
			store_writer_stats(w, &ws);
			assert_int_equal(ws.chunks_new, 0);
			store_scan_abort(w);
			break;
		}
		store_scan_stop(w, &ws);
		assert_int_equal(ws.packs_new, 1);
		assert_int_equal(ws.bytes_kept, 5 * sizeof(buf));
		assert_int_equal(count_entries(dir, "tmp"), 0);
		assert_int_equal(count_entries(dir, "scans"), 0);
	}
	store_close(st);
}

static void aborted_scan_leaves_nothing(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-AB");
	unsigned char buf[100000];

	stu_random(buf, sizeof(buf), 3);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	struct store_file f = stu_file("C:\\x.bin", STORE_SYSTEM);
	tu_assert_ok(store_scan_add_file_mem(w, &f, buf, sizeof(buf), &err), &err);
	struct store_write_stats ws;
	store_writer_stats(w, &ws); /* the chunks in flight are in the pack */
	assert_int_equal(count_entries(dir, "tmp"), 2);   /* open pack + catalog */
	assert_int_equal(count_entries(dir, "scans"), 1); /* marker */
	store_scan_abort(w);
	assert_int_equal(count_entries(dir, "tmp"), 0);
	assert_int_equal(count_entries(dir, "scans"), 0);
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	tu_assert_ok(store_list_scans(st, NULL, &l, &err), &err);
	assert_int_equal(l.n, 0);
	store_scan_list_release(&l);
	assert_int_equal(store_catalog_open(st, "PC-AB", NULL, &(struct store_catalog *){ NULL }, &err),
			 WS_E_USAGE);
	store_close(st);
}

static void read_error_keeps_writer_usable(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-IO");

	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY); /* read() fails: EISDIR */
	struct store_file f = stu_file("C:\\unreadable.txt", STORE_SYSTEM);
	assert_int_equal(store_scan_add_file(w, &f, dfd, &err), WS_E_IO);
	assert_string_equal(err.where, "C:\\unreadable.txt");
	close(dfd);
	struct store_file g = stu_file("C:\\fine.txt", STORE_SYSTEM);
	tu_assert_ok(store_scan_add_file_mem(w, &g, "ok", 2, &err), &err);
	/* content for a folder is a caller bug */
	struct store_file d = stu_file("C:\\dir", STORE_SYSTEM);
	d.flags = STORE_FILE_DIR;
	assert_int_equal(store_scan_add_file_mem(w, &d, "x", 1, &err), WS_E_USAGE);
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	tu_assert_ok(store_list_scans(st, "PC-IO", &l, &err), &err);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].n_files, 1);
	store_scan_list_release(&l);
	store_close(st);
}

static void truncated_or_renamed_catalog_is_damage(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	char id1[STORE_SCAN_ID_MAX], id2[STORE_SCAN_ID_MAX];
	const char *paths[] = { "C:\\a.txt" };
	const void *data[] = { "aaa" };
	size_t lens[] = { 3 };
	struct store_catalog *cat = NULL;

	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	stu_scan(st, "PC-T", paths, data, lens, 1, id1);
	stu_scan(st, "PC-U", paths, data, lens, 1, id2);
	struct ws_buf p = WS_BUF_INIT;
	ws_buf_addf(&p, "%s/scans/%s.cat", dir, id1);
	size_t len;
	char *c = tu_read_file(p.buf, &len);
	tu_write_file(p.buf, c, len - 30);
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	tu_assert_ok(store_list_scans(st, NULL, &l, &err), &err);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.damaged, 1);
	store_scan_list_release(&l);
	assert_int_equal(store_catalog_open(st, "PC-T", NULL, &cat, &err), WS_E_CORRUPT);
	assert_int_equal(store_catalog_open(st, NULL, id1, &cat, &err), WS_E_CORRUPT);
	assert_non_null(strstr(err.where, id1));
	/* a catalog copied under another scan id does not authenticate */
	tu_write_file(p.buf, c, len);
	free(c);
	struct ws_buf q = WS_BUF_INIT;
	ws_buf_addf(&q, "%s/scans/%s.cat", dir, id2);
	c = tu_read_file(q.buf, &len);
	tu_write_file(p.buf, c, len);
	assert_int_equal(store_catalog_open(st, NULL, id1, &cat, &err), WS_E_CORRUPT);
	/* a device that does not own the scan */
	assert_int_equal(store_catalog_open(st, "PC-T", id2, &cat, &err), WS_E_USAGE);
	free(c);
	store_close(st);
	ws_buf_release(&p);
	ws_buf_release(&q);
}

struct seen {
	int catalog, files;
};

static void on_problem(void *ctx, const struct store_problem *p)
{
	struct seen *s = ctx;

	s->catalog += p->kind == STORE_PROBLEM_CATALOG;
	s->files += p->kind == STORE_PROBLEM_FILE;
}

static void extract_salvages_past_damaged_frame(void **state)
{
	char *dir = stu_tmpdir(), *dest = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-F");
	char id[STORE_SCAN_ID_MAX];
	char name[64], big[300];

	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	/* about 12 body frames (256 KiB each) of file records with
	 * incompressible paths */
	for (int i = 0; i < 12000; i++) {
		unsigned char r[100];
		stu_random(r, sizeof(r), (uint64_t)i);
		for (int k = 0; k < 100; k++)
			big[k] = "abcdefghijklmnopqrstuvwxyz0123456789"[r[k] % 36];
		big[100] = 0;
		snprintf(name, sizeof(name), "C:\\d\\%05d-", i);
		char path[200];
		snprintf(path, sizeof(path), "%s%s", name, big);
		struct store_file d = stu_file(path, STORE_SYSTEM);
		d.flags = STORE_FILE_DIR;
		tu_assert_ok(store_scan_add_file(w, &d, -1, &err), &err);
	}
	tu_assert_ok(store_scan_commit(w, id, &err), &err);
	/* damage the middle of the catalog: one body frame */
	struct ws_buf p = WS_BUF_INIT;
	ws_buf_addf(&p, "%s/scans/%s.cat", dir, id);
	size_t len;
	char *c = tu_read_file(p.buf, &len);
	c[len / 2] ^= 1;
	tu_write_file(p.buf, c, len);
	free(c);
	struct store_catalog *cat;
	struct seen s = { 0, 0 };
	struct store_extract_opts o = { 0 };
	struct store_extract_stats xs;
	o.dest = dest;
	o.on_problem = on_problem;
	o.ctx = &s;
	tu_assert_ok(store_catalog_open(st, "PC-F", NULL, &cat, &err), &err);
	assert_int_equal(store_extract(cat, &o, &xs, &err), WS_E_CORRUPT);
	assert_int_equal(s.catalog, 1);
	assert_true(xs.dirs > 4000 && xs.dirs < 12000); /* frames before and after */
	store_catalog_free(cat);
	/* verify names the catalog */
	struct store_verify_opts vo = { 0 };
	memset(&s, 0, sizeof(s));
	vo.on_problem = on_problem;
	vo.ctx = &s;
	assert_int_equal(store_verify(st, &vo, NULL, &err), WS_E_CORRUPT);
	assert_int_equal(s.catalog, 1);
	store_close(st);
	ws_buf_release(&p);
}

/* Every record of an open catalog and every error, as text; a rewind
 * after `rewind_at` records (0: none) and everything again. */
static void read_all(struct store_catalog *cat, size_t rewind_at, struct ws_buf *out)
{
	struct store_record rec;
	struct ws_error err;
	size_t n = 0;

	for (;;) {
		int rc;

		ws_error_clear(&err);
		rc = store_catalog_next(cat, &rec, &err);
		if (rc) {
			ws_buf_addf(out, "error %d %s\n", rc, err.msg);
			continue;
		}
		if (rec.kind == STORE_REC_END)
			break;
		ws_buf_addf(out, "%d %s\n", rec.kind,
			    rec.kind == STORE_REC_FILE ? rec.u.file.path : rec.u.value.name);
		if (++n == rewind_at) {
			ws_buf_adds(out, "rewind\n");
			store_catalog_rewind(cat);
		}
	}
}

/* A scan of device `dev`: `n` folder records of incompressible paths
 * (about a body frame per 1,000), its id in `id`; the frames reused from
 * the scan before. */
static size_t scan_dirs(struct store *st, const char *dev, int n, char *id)
{
	struct ws_error err;
	struct store_writer *w;
	struct store_scan_info in = stu_info(dev);
	struct store_write_stats ws;
	char path[200];

	ws_error_clear(&err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	for (int i = 0; i < n; i++) {
		unsigned char r[100];
		char name[101];

		stu_random(r, sizeof(r), (uint64_t)i);
		for (int k = 0; k < 100; k++)
			name[k] = "abcdefghijklmnopqrstuvwxyz0123456789"[r[k] % 36];
		name[100] = 0;
		snprintf(path, sizeof(path), "C:\\d\\%05d-%s", i, name);
		struct store_file d = stu_file(path, STORE_SYSTEM);
		d.flags = STORE_FILE_DIR;
		tu_assert_ok(store_scan_add_file(w, &d, -1, &err), &err);
	}
	store_writer_stats(w, &ws);
	tu_assert_ok(store_scan_commit(w, id, &err), &err);
	return ws.frames_reused;
}

/* Frames read ahead on a thread give the same records, errors and salvage
 * past a damaged frame as frames read in turn, a rewind included. */
static void prefetched_frames_read_the_same(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	char id[STORE_SCAN_ID_MAX];
	struct ws_buf p = WS_BUF_INIT;

	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	st->threads = 2;
	scan_dirs(st, "PC-PF", 16000, id); /* about 16 body frames */
	ws_buf_addf(&p, "%s/scans/%s.cat", dir, id);
	for (int damaged = 0; damaged < 2; damaged++) {
		if (damaged) {
			size_t len;
			char *c = tu_read_file(p.buf, &len);

			c[len / 2] ^= 1; /* one body frame */
			tu_write_file(p.buf, c, len);
			free(c);
		}
		for (size_t rw = 0; rw < 10000; rw += 7000) {
			struct ws_buf plain = WS_BUF_INIT, ahead = WS_BUF_INIT;
			struct store_catalog *cat;

			tu_assert_ok(store_catalog_open(st, NULL, id, &cat, &err), &err);
			read_all(cat, rw, &plain);
			store_catalog_free(cat);
			tu_assert_ok(store_catalog_open(st, NULL, id, &cat, &err), &err);
			store_cat_prefetch(cat);
			read_all(cat, rw, &ahead);
			store_catalog_free(cat);
			assert_string_equal(ahead.buf, plain.buf);
			assert_true(strstr(plain.buf, "error") ? damaged : !damaged);
			ws_buf_release(&plain);
			ws_buf_release(&ahead);
		}
	}
	ws_buf_release(&p);
	store_close(st);
}

/* A catalog's major (byte 5) and whether its first frame's payload is a
 * zstd frame (else a zlib stream, §7). */
static unsigned cat_codec(const char *dir, const char *id, int *zstd)
{
	struct ws_buf p = WS_BUF_INIT;
	size_t len;
	unsigned char *c;
	unsigned major;

	ws_buf_addf(&p, "%s/scans/%s.cat", dir, id);
	c = (unsigned char *)tu_read_file(p.buf, &len);
	assert_true(len > 20);
	major = c[5];
	/* 8 header bytes, then u32 sealed_len and u8 kind */
	*zstd = !memcmp(c + 13, "\x28\xb5\x2f\xfd", 4);
	if (!*zstd)
		assert_int_equal(c[13] & 0x0f, 8); /* zlib: deflate */
	free(c);
	ws_buf_release(&p);
	return major;
}


static void read_scan(struct store *st, const char *id, struct ws_buf *out)
{
	struct store_catalog *cat;
	struct ws_error err;

	tu_assert_ok(store_catalog_open(st, NULL, id, &cat, &err), &err);
	read_all(cat, 0, out);
	store_catalog_free(cat);
	assert_null(strstr(out->buf, "error"));
}

/* A new store is of format 4.0 and its catalogs have zstd frames (major
 * 3); a 3.0 store keeps zlib frames (major 2), which its own readers
 * read, and reuses them; a 4.0 header over zlib catalogs (frames that
 * cannot go into a zstd catalog as they are) gets zstd frames, none
 * reused, and every scan reads back the same. */
static void catalog_frames_follow_the_store_format(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	char id[4][STORE_SCAN_ID_MAX];
	struct ws_buf r[4] = { WS_BUF_INIT, WS_BUF_INIT, WS_BUF_INIT, WS_BUF_INIT };
	int zstd;

	(void)state;
	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	st->threads = 2;
	assert_int_equal(st->format_major, stu_v1() ? 1 : 4);
	scan_dirs(st, "PC-Z", 12000, id[0]);
	assert_int_equal(cat_codec(dir, id[0], &zstd), stu_v1() ? 1 : 3);
	assert_int_equal(zstd, !stu_v1());
	read_scan(st, id[0], &r[0]);
	store_close(st);
	if (stu_v1()) {
		ws_buf_release(&r[0]);
		return;
	}

	stu_rewrite_header(dir, "3.0", "content-hash sha256");
	tu_assert_ok(stu_open(dir, 0, NULL, NULL, 0, &st, &err), &err);
	st->threads = 2;
	scan_dirs(st, "PC-Z", 12000, id[1]);
	assert_int_equal(cat_codec(dir, id[1], &zstd), 2);
	assert_false(zstd);
	assert_true(scan_dirs(st, "PC-Z", 12000, id[2]) >= 1);
	assert_int_equal(cat_codec(dir, id[2], &zstd), 2);
	read_scan(st, id[1], &r[1]);
	read_scan(st, id[2], &r[2]);
	store_close(st);

	stu_rewrite_header(dir, "4.0", "content-hash sha256");
	tu_assert_ok(stu_open(dir, 0, NULL, NULL, 0, &st, &err), &err);
	st->threads = 2;
	assert_int_equal(scan_dirs(st, "PC-Z", 12000, id[3]), 0);
	assert_int_equal(cat_codec(dir, id[3], &zstd), 3);
	assert_true(zstd);
	read_scan(st, id[3], &r[3]);
	for (int i = 1; i < 4; i++)
		assert_string_equal(r[i].buf, r[0].buf);
	store_close(st);
	for (int i = 0; i < 4; i++)
		ws_buf_release(&r[i]);
}

/* zstd frame payloads are refused unless they are one frame that
 * declares its size, no more than the bound: no bomb is decompressed,
 * and zlib and zstd are not taken for each other. */
static void catalog_zstd_payloads_are_bounded(void **state)
{
	const size_t max = 1u << 20;
	unsigned char *big = calloc(1, max + 1);
	struct ws_buf z = WS_BUF_INIT, out = WS_BUF_INIT, zl = WS_BUF_INIT, two = WS_BUF_INIT;
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t n;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', max + 1);
	/* the bound itself passes, one byte more is refused before any work */
	store_cat_compress(STORE_CAT_MAJOR_ZSTD, big, max, &z);
	assert_int_equal(store_cat_decompress(STORE_CAT_MAJOR_ZSTD, z.buf, z.len, max, &out), 0);
	assert_int_equal(out.len, max);
	assert_memory_equal(out.buf, big, max);
	ws_buf_reset(&z);
	ws_buf_reset(&out);
	store_cat_compress(STORE_CAT_MAJOR_ZSTD, big, max + 1, &z);
	assert_int_equal(store_cat_decompress(STORE_CAT_MAJOR_ZSTD, z.buf, z.len, max, &out), -1);
	assert_int_equal(out.len, 0);

	/* a frame that does not declare its size */
	ws_buf_reset(&z);
	ws_buf_grow(&z, ZSTD_compressBound(100));
	assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0)));
	{
		ZSTD_outBuffer ob = { z.buf, ZSTD_compressBound(100), 0 };
		ZSTD_inBuffer ib = { big, 100, 0 };

		n = ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end);
		assert_int_equal(n, 0);
		ws_buf_setlen(&z, ob.pos);
	}
	assert_int_equal(store_cat_decompress(STORE_CAT_MAJOR_ZSTD, z.buf, z.len, max, &out), -1);

	/* two frames, one after the other; a truncated frame */
	ws_buf_reset(&z);
	store_cat_compress(STORE_CAT_MAJOR_ZSTD, big, 100, &z);
	ws_buf_add(&two, z.buf, z.len);
	ws_buf_add(&two, z.buf, z.len);
	assert_int_equal(store_cat_decompress(STORE_CAT_MAJOR_ZSTD, two.buf, two.len, max, &out), -1);
	assert_int_equal(store_cat_decompress(STORE_CAT_MAJOR_ZSTD, z.buf, z.len - 1, max, &out), -1);
	assert_int_equal(out.len, 0);

	/* each codec only for its majors */
	store_cat_compress(STORE_OBJ_MAJOR, big, 100, &zl);
	assert_int_equal(store_cat_decompress(STORE_CAT_MAJOR_ZSTD, zl.buf, zl.len, max, &out), -1);
	assert_int_equal(store_cat_decompress(STORE_OBJ_MAJOR, z.buf, z.len, max, &out), -1);
	assert_int_equal(store_cat_decompress(1, zl.buf, zl.len, max, &out), 0);
	assert_int_equal(out.len, 100);

	ZSTD_freeCCtx(cc);
	free(big);
	ws_buf_release(&z);
	ws_buf_release(&zl);
	ws_buf_release(&two);
	ws_buf_release(&out);
}

static void verify_device_filter(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	unsigned char a[20000], b[20000];
	const char *pa[] = { "C:\\a.bin" }, *pb[] = { "C:\\b.bin" };
	const void *da[] = { a }, *db[] = { b };
	size_t l[] = { sizeof(a) };
	char idb[STORE_SCAN_ID_MAX];

	stu_random(a, sizeof(a), 1);
	stu_random(b, sizeof(b), 2);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	stu_scan(st, "PC-A", pa, da, l, 1, NULL);
	stu_scan(st, "PC-B", pb, db, l, 1, idb);
	/* remove PC-B's pack */
	struct store_catalog *cat;
	tu_assert_ok(store_catalog_open(st, "PC-B", NULL, &cat, &err), &err);
	struct ws_buf p = WS_BUF_INIT;
	const char *pid = store_catalog_pack_id(cat, 0);
	ws_buf_addf(&p, "%s/packs/%.2s/%s%s", dir, pid, pid, stu_ext());
	store_catalog_free(cat);
	unlink(p.buf);
	struct store_verify_opts vo = { 0 };
	struct store_verify_stats vs;
	vo.device = "PC-A";
	vo.deep = 1;
	tu_assert_ok(store_verify(st, &vo, &vs, &err), &err);
	assert_int_equal(vs.scans, 1);
	vo.device = "PC-B";
	assert_int_equal(store_verify(st, &vo, &vs, &err), WS_E_CORRUPT);
	assert_int_equal(vs.files_damaged, 1);
	store_close(st);
	ws_buf_release(&p);
}

/* A clock stuck in one second whose nanoseconds go up by 1000 a reading. */
static void fixed_second(void *ctx, struct timespec *now)
{
	long *ns = ctx;

	now->tv_sec = 1764633600; /* 2025-12-02T00:00:00Z */
	now->tv_nsec = *ns;
	*ns += 1000;
}

static void same_second_scans_ordered_by_start(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_scan_info in = stu_info("PC-SS");
	char ids[3][STORE_SCAN_ID_MAX];
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct store_catalog *cat = NULL;
	long ns = 500;
	(void)state;

	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	st->clock = fixed_second;
	st->clock_ctx = &ns;
	for (int i = 0; i < 3; i++) {
		struct store_writer *w;

		tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
		tu_assert_ok(store_scan_commit(w, ids[i], &err), &err);
		assert_memory_equal(ids[i], "20251202T000000Z-", 17);
	}
	/* newest first = reverse commit order, whatever the random parts */
	tu_assert_ok(store_list_scans(st, "PC-SS", &l, &err), &err);
	assert_int_equal(l.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(l.v[i].info.scan_id, ids[2 - i]);
		assert_int_equal(l.v[i].info.started_ns, 500 + 1000 * (2 - i));
	}
	store_scan_list_release(&l);
	tu_assert_ok(store_catalog_open(st, "PC-SS", NULL, &cat, &err), &err);
	assert_string_equal(store_catalog_info(cat)->scan_id, ids[2]);
	store_catalog_free(cat);
	/* prune keeps the two last committed */
	struct store_prune_opts po = { .keep = 2, .grace_seconds = -1 };
	struct store_prune_stats ps;
	tu_assert_ok(store_prune(st, &po, &ps, &err), &err);
	assert_int_equal(ps.scans_removed, 1);
	tu_assert_ok(store_list_scans(st, NULL, &l, &err), &err);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].info.scan_id, ids[2]);
	assert_string_equal(l.v[1].info.scan_id, ids[1]);
	store_scan_list_release(&l);
	store_close(st);
}

/* A file record as docs/store-format.md spells it, field by field. */
static void ref_file_record(struct ws_buf *b, const struct store_file *f)
{
	struct ws_buf r = WS_BUF_INIT;

	ws_buf_add_varint(&r, f->user == STORE_SYSTEM ? 0 : (uint64_t)f->user + 1);
	store_rec_put_str(&r, f->path);
	ws_buf_add_varint(&r, f->size);
	ws_buf_add_varint(&r, f->attributes);
	ws_buf_add_varint(&r, f->created_ft);
	ws_buf_add_varint(&r, f->written_ft);
	ws_buf_add_varint(&r, f->accessed_ft);
	ws_buf_add_varint(&r, f->flags);
	ws_buf_add_varint(&r, f->rule);
	ws_buf_add_varint(&r, f->n_chunks);
	for (size_t i = 0; i < f->n_chunks; i++) {
		ws_buf_add_varint(&r, f->chunks[i].pack);
		ws_buf_add_varint(&r, f->chunks[i].raw_len);
		ws_buf_add(&r, f->chunks[i].hash, STORE_HASH_LEN);
	}
	ws_buf_add_u8(b, REC_FILE);
	ws_buf_add_varint(b, r.len);
	ws_buf_add(b, r.buf, r.len);
	ws_buf_release(&r);
}

/* store_enc_file appends exactly the record of the format, after what the
 * buffer holds: small and huge numbers, no path, long paths, many chunks,
 * a record whose length takes a varint of two and three bytes. */
static void file_record_bytes(void **state)
{
	struct store_chunk_ref refs[600];
	struct ws_buf got = WS_BUF_INIT, want = WS_BUF_INIT, path = WS_BUF_INIT;

	(void)state;
	for (size_t i = 0; i < 600; i++) {
		memset(refs[i].hash, (int)(i * 7 + 1), STORE_HASH_LEN);
		refs[i].raw_len = i % 3 ? (uint32_t)(i * 4099) : UINT32_MAX;
		refs[i].pack = (uint32_t)(i % 5 ? i : 300000 + i);
	}
	ws_buf_adds(&got, "before");
	ws_buf_adds(&want, "before");
	for (int k = 0; k < 12; k++) {
		struct store_file f = { 0 };

		ws_buf_reset(&path);
		for (int i = 0; i < k * k * 3; i++)
			ws_buf_adds(&path, i % 2 ? "\\dossier" : "\\Été");
		f.user = k % 3 == 0 ? STORE_SYSTEM : (uint32_t)(k * 1000);
		f.path = k == 1 ? NULL : path.buf;
		f.size = k % 2 ? UINT64_MAX : (uint64_t)k << (k * 5 % 60);
		f.attributes = (uint32_t)(0x80000000u >> k);
		f.created_ft = 133000000000000000ull + (uint64_t)k;
		f.written_ft = k == 4 ? 0 : 133100000000000000ull;
		f.accessed_ft = (uint64_t)1 << (7 * k % 64);
		f.flags = (uint32_t)k;
		f.rule = (uint32_t)(k * 127);
		f.chunks = refs;
		f.n_chunks = k < 6 ? (size_t)k : (size_t)(k * 50);
		store_enc_file(&got, &f);
		ref_file_record(&want, &f);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.buf, want.buf, want.len);
	}
	ws_buf_release(&got);
	ws_buf_release(&want);
	ws_buf_release(&path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(large_catalog_spans_many_frames),
		cmocka_unit_test(aborted_scan_leaves_nothing),
		cmocka_unit_test(stopped_scan_keeps_its_content),
		cmocka_unit_test(read_error_keeps_writer_usable),
		cmocka_unit_test(truncated_or_renamed_catalog_is_damage),
		cmocka_unit_test(extract_salvages_past_damaged_frame),
		cmocka_unit_test(prefetched_frames_read_the_same),
		cmocka_unit_test(verify_device_filter),
		cmocka_unit_test(same_second_scans_ordered_by_start),
		cmocka_unit_test(file_record_bytes),
		cmocka_unit_test(catalog_frames_follow_the_store_format),
		cmocka_unit_test(catalog_zstd_payloads_are_bounded),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	stu_cleanup();
	return rc;
}
