/* test_ahead.c - store: decoding ahead (store_catalog_ahead).  A reader
 * that reads ahead hands out the same records, in the same order, with the
 * same content as one that does not, whether or not the caller reads each
 * file, across a rewind and with one thread (where it is off); a damaged
 * chunk of a file decoded ahead fails the read of that file, with the same
 * error naming it, and a caller that stops there has written nothing of
 * the files after it; extract reports it as without.  Extract on two
 * threads or more (batches of files placed by whichever thread is free)
 * writes the same tree, whole, as on one, and reports names taken the
 * same. */
#include "store_tu.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define NFILES 700

struct corpus {
	char *dir;
	char *paths[NFILES];
	unsigned char *data[NFILES];
	size_t lens[NFILES];
};

static int open_threads(const char *dir, int create, unsigned threads, struct store **st,
			struct ws_error *err)
{
	struct store_open_opts o;

	memset(&o, 0, sizeof(o));
	o.create = create;
	o.pack_size = 4u << 20;       /* several packs: indexes loaded on the way */
	o.chunk_size = 64 * 1024;
	o.threads = threads;
	o.kdf_opslimit = 1;
	o.kdf_memlimit = 8192;
	return store_open_test(dir, &o, NULL, NULL, stu_v1(), st, err);
}

/* Files of 0 to 150 KiB (several chunks past 64 KiB), text and random,
 * and two larger than a chunk may be (read when their turn comes). */
static void corpus_make(struct corpus *c)
{
	struct store *st;
	struct ws_error err;
	char id[64];

	c->dir = stu_tmpdir();
	ws_error_clear(&err);
	tu_assert_ok(open_threads(c->dir, 1, 2, &st, &err), &err);
	for (size_t i = 0; i < NFILES; i++) {
		size_t n = (i * 7919) % (150 * 1024);
		char name[96];

		if (i == 123 || i == 456)
			n = STORE_CHUNK_MAX + 12345;
		if (i % 50 == 0)
			n = 0;
		snprintf(name, sizeof(name), "C:\\Users\\alice\\Documents\\d%zu\\f%04zu.bin", i / 40, i);
		c->paths[i] = ws_xstrdup(name);
		c->data[i] = ws_xmalloc(n ? n : 1);
		if (i % 3)
			stu_random(c->data[i], n, i + 1);
		else
			for (size_t k = 0; k < n; k++)
				c->data[i][k] = (unsigned char)("text of a file "[k % 15] + i % 7);
		c->lens[i] = n;
	}
	stu_scan(st, "PC-AHEAD", (const char *const *)c->paths, (const void *const *)c->data,
		 c->lens, NFILES, id);
	store_close(st);
}

static void corpus_free(struct corpus *c)
{
	for (size_t i = 0; i < NFILES; i++) {
		free(c->paths[i]);
		free(c->data[i]);
	}
}

static int file_index(const struct corpus *c, const char *path)
{
	for (int i = 0; i < NFILES; i++)
		if (!strcmp(c->paths[i], path))
			return i;
	fail_msg("unknown file %s", path);
	return -1;
}

/* Walk the scan reading ahead (or not) and check every record and the
 * content of the files read: every file, or every `step`-th one. */
static void walk(struct corpus *c, struct store_catalog *cat, size_t step)
{
	struct store_record rec;
	struct ws_error err;
	size_t files = 0, values = 0;

	ws_error_clear(&err);
	for (;;) {
		tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
		if (rec.kind == STORE_REC_END)
			break;
		if (rec.kind == STORE_REC_VALUE) {
			assert_string_equal(rec.u.value.name, "ScreenSaveActive");
			assert_int_equal(rec.u.value.len, 4);
			values++;
			continue;
		}
		assert_int_equal(rec.kind, STORE_REC_FILE);
		int i = file_index(c, rec.u.file.path);

		assert_int_equal(i, (int)files); /* in the order written */
		assert_int_equal(rec.u.file.size, c->lens[i]);
		if (files++ % step == 0) {
			struct ws_buf got = WS_BUF_INIT;

			tu_assert_ok(store_catalog_read_file_cb(cat, &rec.u.file, stu_sink, &got,
								&err), &err);
			assert_int_equal(got.len, c->lens[i]);
			assert_true(!c->lens[i] || !memcmp(got.buf, c->data[i], c->lens[i]));
			/* a second read of the same record gives it again */
			if (i % 97 == 0) {
				ws_buf_reset(&got);
				tu_assert_ok(store_catalog_read_file_cb(cat, &rec.u.file, stu_sink,
									&got, &err), &err);
				assert_int_equal(got.len, c->lens[i]);
			}
			ws_buf_release(&got);
		}
	}
	assert_int_equal(files, NFILES);
	assert_int_equal(values, 1);
	/* asked again after the end: the end again */
	tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
	assert_int_equal(rec.kind, STORE_REC_END);
}

static void ahead_gives_the_same_records_and_content(void **state)
{
	struct corpus c;
	struct store *st;
	struct store_catalog *cat;
	struct ws_error err;
	unsigned threads[] = { 1, 2, 4 };

	(void)state;
	corpus_make(&c);
	ws_error_clear(&err);
	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		tu_assert_ok(open_threads(c.dir, 0, threads[t], &st, &err), &err);
		tu_assert_ok(store_catalog_open(st, "PC-AHEAD", NULL, &cat, &err), &err);
		store_catalog_ahead(cat, 1);
		walk(&c, cat, 1);
		/* a rewind keeps it on and starts again; files left unread */
		store_catalog_rewind(cat);
		walk(&c, cat, 3);
		store_catalog_rewind(cat);
		walk(&c, cat, 1000);
		/* off again: the plain reader */
		store_catalog_rewind(cat);
		store_catalog_ahead(cat, 0);
		walk(&c, cat, 2);
		/* freed while reading ahead, records half read */
		store_catalog_rewind(cat);
		store_catalog_ahead(cat, 1);
		for (int k = 0; k < 40; k++) {
			struct store_record rec;

			tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
		}
		store_catalog_free(cat);
		store_close(st);
	}
	corpus_free(&c);
}

/* Damage one byte of the first chunk of file `victim` in its pack. */
static void damage(struct corpus *c, int victim)
{
	struct store *st;
	struct store_catalog *cat;
	struct store_record rec;
	struct ws_error err;
	struct store_pack *p;
	const struct store_ix_entry *e;
	struct ws_buf rel = WS_BUF_INIT, abs = WS_BUF_INIT;
	unsigned char b;
	int fd;

	ws_error_clear(&err);
	tu_assert_ok(open_threads(c->dir, 0, 1, &st, &err), &err);
	tu_assert_ok(store_catalog_open(st, "PC-AHEAD", NULL, &cat, &err), &err);
	do {
		tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
		assert_int_not_equal(rec.kind, STORE_REC_END);
	} while (rec.kind != STORE_REC_FILE || strcmp(rec.u.file.path, c->paths[victim]));
	tu_assert_ok(store_cat_chunk_entry(cat, &rec.u.file, 0, &p, &e, &err), &err);
	store_rel_pack(&rel, p->id, store_pack_ext(p));
	store_abs(st, &abs, rel.buf);
	fd = open(abs.buf, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)(e->off + e->stored_len / 2)), 1);
	b ^= 0x5a;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)(e->off + e->stored_len / 2)), 1);
	close(fd);
	ws_buf_release(&rel);
	ws_buf_release(&abs);
	store_catalog_free(cat);
	store_close(st);
}

/* Read every file in order as apply does, stopping at the first failed
 * read: the files read whole, and that read's status and error. */
static int read_until_error(struct corpus *c, unsigned threads, int ahead, size_t *whole,
			    struct ws_error *err)
{
	struct store *st;
	struct store_catalog *cat;
	struct store_record rec;
	int rc;

	*whole = 0;
	ws_error_clear(err);
	tu_assert_ok(open_threads(c->dir, 0, threads, &st, err), err);
	tu_assert_ok(store_catalog_open(st, "PC-AHEAD", NULL, &cat, err), err);
	store_catalog_ahead(cat, ahead);
	for (;;) {
		struct ws_buf got = WS_BUF_INIT;

		tu_assert_ok(store_catalog_next(cat, &rec, err), err);
		if (rec.kind == STORE_REC_END) {
			rc = WS_OK;
			break;
		}
		if (rec.kind != STORE_REC_FILE)
			continue;
		rc = store_catalog_read_file_cb(cat, &rec.u.file, stu_sink, &got, err);
		if (!rc) {
			int i = file_index(c, rec.u.file.path);

			assert_int_equal(i, (int)*whole);
			assert_int_equal(got.len, c->lens[i]);
			(*whole)++;
		}
		ws_buf_release(&got);
		if (rc)
			break;
	}
	store_catalog_free(cat);
	store_close(st);
	return rc;
}

static void damaged_chunk_fails_its_file_only_when_read(void **state)
{
	struct corpus c;
	struct ws_error plain, ahead;
	size_t whole_plain, whole_ahead;
	int victim = 301, rc;

	(void)state;
	corpus_make(&c);
	assert_true(c.lens[victim] > 0);
	damage(&c, victim);
	rc = read_until_error(&c, 1, 0, &whole_plain, &plain);
	assert_int_equal(rc, WS_E_CORRUPT);
	assert_int_equal(whole_plain, (size_t)victim);
	for (unsigned t = 2; t <= 4; t += 2) {
		rc = read_until_error(&c, t, 1, &whole_ahead, &ahead);
		assert_int_equal(rc, WS_E_CORRUPT);
		/* the files before it whole, nothing of those after it */
		assert_int_equal(whole_ahead, (size_t)victim);
		assert_string_equal(ahead.where, plain.where);
		assert_string_equal(ahead.msg, plain.msg);
		assert_non_null(strstr(ahead.msg, c.paths[victim]));
	}
	/* extract goes on past it, as without reading ahead */
	for (unsigned t = 1; t <= 2; t++) {
		struct store *st;
		struct store_catalog *cat;
		struct store_extract_opts xo;
		struct store_extract_stats xs;
		struct ws_error err;
		char *dest = stu_tmpdir();
		struct ws_buf p = WS_BUF_INIT;

		ws_error_clear(&err);
		tu_assert_ok(open_threads(c.dir, 0, t, &st, &err), &err);
		tu_assert_ok(store_catalog_open(st, "PC-AHEAD", NULL, &cat, &err), &err);
		memset(&xo, 0, sizeof(xo));
		xo.dest = dest;
		assert_int_equal(store_extract(cat, &xo, &xs, &err), WS_E_CORRUPT);
		assert_int_equal(xs.damaged, 1);
		assert_int_equal(xs.files, NFILES - 1);
		ws_buf_addf(&p, "%s/C/Users/alice/Documents/d%d/f%04d.bin", dest, victim / 40, victim);
		assert_false(ws_path_exists(p.buf));
		ws_buf_release(&p);
		store_catalog_free(cat);
		store_close(st);
	}
	corpus_free(&c);
}

/* Extract with 1, 2 and 4 threads: every file whole with its time (files
 * of several chunks among the batches, two larger than a chunk may be
 * placed by the reading thread), and a file already at its place (one per
 * folder, so every placing thread meets some) refused and left as it was. */
static void extract_on_threads_writes_the_same_tree(void **state)
{
	struct corpus c;
	unsigned threads[] = { 1, 2, 4 };
	struct timespec mt[NFILES];

	(void)state;
	corpus_make(&c);
	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		struct store *st;
		struct store_catalog *cat;
		struct store_extract_opts xo;
		struct store_extract_stats xs;
		struct ws_error err;
		char *dest = stu_tmpdir();
		size_t taken = 0;

		for (int i = 0; i < NFILES; i += 40) {
			char *d = ws_xasprintf("%s/C/Users/alice/Documents/d%d", dest, i / 40);
			char *f = ws_xasprintf("%s/f%04d.bin", d, i + 1);

			tu_assert_ok(ws_mkdir_p(d, WS_E_IO, &err), &err);
			tu_assert_ok(ws_write_file_new(f, f, "mine", 4, WS_E_IO, &err), &err);
			taken++;
			free(d);
			free(f);
		}
		ws_error_clear(&err);
		tu_assert_ok(open_threads(c.dir, 0, threads[t], &st, &err), &err);
		tu_assert_ok(store_catalog_open(st, "PC-AHEAD", NULL, &cat, &err), &err);
		memset(&xo, 0, sizeof(xo));
		xo.dest = dest;
		assert_int_equal(store_extract(cat, &xo, &xs, &err), WS_PARTIAL);
		assert_int_equal(xs.refused, taken);
		assert_int_equal(xs.files, NFILES - taken);
		assert_int_equal(xs.damaged, 0);
		for (int i = 0; i < NFILES; i++) {
			char *f = ws_xasprintf("%s/C/Users/alice/Documents/d%d/f%04d.bin", dest,
					       i / 40, i);
			struct ws_buf got = WS_BUF_INIT;
			struct stat sb;

			tu_assert_ok(ws_read_file(f, (size_t)64 << 20, &got, &err), &err);
			if (i % 40 == 1) {
				assert_int_equal(got.len, 4);
				assert_memory_equal(got.buf, "mine", 4);
			} else {
				assert_int_equal(got.len, c.lens[i]);
				assert_true(!c.lens[i] || !memcmp(got.buf, c.data[i], c.lens[i]));
				assert_int_equal(stat(f, &sb), 0);
				if (t == 0)
					mt[i] = sb.st_mtim;
				assert_int_equal(sb.st_mtim.tv_sec, mt[i].tv_sec);
				assert_int_equal(sb.st_mtim.tv_nsec, mt[i].tv_nsec);
			}
			ws_buf_release(&got);
			free(f);
		}
		store_catalog_free(cat);
		store_close(st);
	}
	corpus_free(&c);
}

/* Values count against what the ring holds: 64 values of 1 MiB are not all
 * read ahead at once, and each comes out whole. */
static void large_values_are_not_all_held(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct store_writer *w;
	struct store_catalog *cat;
	struct store_record rec;
	struct store_scan_info in = stu_info("PC-VALUES");
	struct store_user u = { 0, "S-1-5-21-1-2-3-1001", "PC\\alice", "C:\\Users\\alice",
				133000000000000000ull, STORE_USER_LOCAL };
	struct store_rule r = { 1, "MigUser.xml:42 component 'Docs'" };
	struct ws_error err;
	size_t len = 1u << 20, before, values = 0;
	unsigned char *data = ws_xmalloc(len);
	char id[64];

	(void)state;
	ws_error_clear(&err);
	tu_assert_ok(open_threads(dir, 1, 2, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	tu_assert_ok(store_scan_add_user(w, &u, &err), &err);
	tu_assert_ok(store_scan_add_rule(w, &r, &err), &err);
	for (int i = 0; i < 64; i++) {
		char name[32];
		struct store_value v = { 0, "HKCU\\Software\\Big", name, 3, data, len, 1 };

		snprintf(name, sizeof(name), "v%02d", i);
		memset(data, i, len);
		tu_assert_ok(store_scan_add_value(w, &v, &err), &err);
	}
	tu_assert_ok(store_scan_commit(w, id, &err), &err);
	store_close(st);

	tu_assert_ok(open_threads(dir, 0, 2, &st, &err), &err);
	tu_assert_ok(store_catalog_open(st, "PC-VALUES", NULL, &cat, &err), &err);
	store_catalog_ahead(cat, 1);
	before = stu_heap_in_use();
	for (;;) {
		tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
		if (values == 0 && stu_heap_in_use() > before)
			/* the ring after its first fill: about 16 MiB, not 64 */
			assert_true(stu_heap_in_use() - before < (size_t)40 << 20);
		if (rec.kind == STORE_REC_END)
			break;
		assert_int_equal(rec.kind, STORE_REC_VALUE);
		assert_int_equal(rec.u.value.len, len);
		assert_int_equal(rec.u.value.data[0], (unsigned char)values);
		assert_int_equal(rec.u.value.data[len - 1], (unsigned char)values);
		values++;
	}
	assert_int_equal(values, 64);
	store_catalog_free(cat);
	store_close(st);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ahead_gives_the_same_records_and_content),
		cmocka_unit_test(damaged_chunk_fails_its_file_only_when_read),
		cmocka_unit_test(extract_on_threads_writes_the_same_tree),
		cmocka_unit_test(large_values_are_not_all_held),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	stu_cleanup();
	return rc;
}
