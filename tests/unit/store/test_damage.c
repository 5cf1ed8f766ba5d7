/* test_damage.c - store: flipped bytes everywhere, truncated and missing
 * packs, hostile catalogs and packs, writers killed mid-scan. */
#include "store_tu.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store_private.h"

struct problems {
	int n, files, catalogs, packs;
	char last_file[256];
};

static void count_problem(void *ctx, const struct store_problem *p)
{
	struct problems *c = ctx;

	c->n++;
	if (p->kind == STORE_PROBLEM_FILE) {
		c->files++;
		snprintf(c->last_file, sizeof(c->last_file), "%s", p->file ? p->file : "");
	}
	if (p->kind == STORE_PROBLEM_CATALOG)
		c->catalogs++;
	if (p->kind == STORE_PROBLEM_PACK || p->kind == STORE_PROBLEM_INDEX)
		c->packs++;
}

static int verify(const char *dir, const char *pass, int deep, struct problems *pr)
{
	struct store *st;
	struct ws_error err;
	struct store_verify_opts o;
	int rc;

	memset(pr, 0, sizeof(*pr));
	memset(&o, 0, sizeof(o));
	o.deep = deep;
	o.on_problem = count_problem;
	o.ctx = pr;
	rc = stu_open(dir, 0, pass, NULL, 0, &st, &err);
	if (rc)
		return rc;
	rc = store_verify(st, &o, NULL, &err);
	store_close(st);
	return rc;
}

/* A store with two devices, a few files (some shared), small packs. */
static void build_store(const char *dir, const char *pass)
{
	struct store *st;
	struct ws_error err;
	unsigned char a[70000], b[3000];
	const char *paths[] = { "C:\\Users\\alice\\a.bin", "C:\\Users\\alice\\b.txt", "C:\\Users\\alice\\c.txt" };
	const void *data[] = { a, b, "shared text" };
	size_t lens[] = { sizeof(a), sizeof(b), 11 };

	stu_random(a, sizeof(a), 1);
	memset(b, 'q', sizeof(b));
	tu_assert_ok(stu_open(dir, 1, pass, NULL, 40000, &st, &err), &err);
	stu_scan(st, "PC-1", paths, data, lens, 3, NULL);
	stu_scan(st, "PC-2", paths + 1, data + 1, lens + 1, 2, NULL);
	store_close(st);
}

static void list_files(const char *dir, const char *rel, char ***out, size_t *n)
{
	struct ws_buf p = WS_BUF_INIT;
	DIR *d;
	struct dirent *de;

	ws_path_join(&p, dir, rel);
	d = opendir(p.buf);
	while (d && (de = readdir(d))) {
		struct ws_buf r = WS_BUF_INIT, full = WS_BUF_INIT;
		struct stat sb;
		if (de->d_name[0] == '.')
			continue;
		if (*rel)
			ws_buf_addf(&r, "%s/%s", rel, de->d_name);
		else
			ws_buf_adds(&r, de->d_name);
		ws_path_join(&full, dir, r.buf);
		lstat(full.buf, &sb);
		if (S_ISDIR(sb.st_mode)) {
			list_files(dir, r.buf, out, n);
			ws_buf_release(&r);
		} else {
			*out = realloc(*out, (*n + 1) * sizeof(char *));
			(*out)[(*n)++] = ws_buf_detach(&r, NULL);
		}
		ws_buf_release(&full);
	}
	if (d)
		closedir(d);
	ws_buf_release(&p);
}

static void flip_everywhere(const char *pass)
{
	char *dir = stu_tmpdir();
	char **files = NULL;
	size_t n = 0;
	struct problems pr;
	int checked = 0;

	build_store(dir, pass);
	assert_int_equal(verify(dir, pass, 1, &pr), WS_OK);
	list_files(dir, "", &files, &n);
	assert_true(n >= 7); /* header, >= 2 packs (.tar+.idx), 2 catalogs */
	for (size_t i = 0; i < n; i++) {
		struct ws_buf p = WS_BUF_INIT;
		size_t len;
		char *c;

		ws_path_join(&p, dir, files[i]);
		c = tu_read_file(p.buf, &len);
		size_t step = len / 23 + 1;
		for (size_t pos = 0; pos < len; pos += step) {
			size_t at = pos + (pos * 7) % step;
			if (at >= len)
				at = len - 1;
			c[at] ^= (char)(1 << (pos % 8));
			tu_write_file(p.buf, c, len);
			int rc = verify(dir, pass, 1, &pr);
			if (rc != WS_E_CORRUPT && rc != WS_E_STORE)
				fail_msg("flip at %s:%zu not detected (rc %d)", files[i], at, rc);
			c[at] ^= (char)(1 << (pos % 8));
			checked++;
		}
		tu_write_file(p.buf, c, len);
		free(c);
		ws_buf_release(&p);
		free(files[i]);
	}
	free(files);
	assert_true(checked > 100);
	assert_int_equal(verify(dir, pass, 1, &pr), WS_OK);
}

static void flipped_bytes_detected_plain(void **state)
{
	flip_everywhere(NULL);
}

static void flipped_bytes_detected_encrypted(void **state)
{
	flip_everywhere("pw");
}

static void first_pack(const char *dir, char *id)
{
	char **files = NULL;
	size_t n = 0;

	list_files(dir, "packs", &files, &n);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(files[i]);
		size_t el = strlen(stu_ext());
		if (!id[0] && !strcmp(files[i] + l - el, stu_ext())) {
			memcpy(id, files[i] + l - 32 - el, 32);
			id[32] = 0;
		}
		free(files[i]);
	}
	free(files);
}

static void pack_path(const char *dir, const char *id, const char *ext, struct ws_buf *out)
{
	ws_buf_addf(out, "%s/packs/%.2s/%s%s", dir, id, id, ext);
}

static void truncated_and_missing_packs(void **state)
{
	char *dir = stu_tmpdir();
	char id[33] = "";
	struct ws_buf tar = WS_BUF_INIT, idx = WS_BUF_INIT;
	struct problems pr;
	size_t len;

	build_store(dir, NULL);
	first_pack(dir, id);
	pack_path(dir, id, stu_ext(), &tar);
	pack_path(dir, id, ".idx", &idx);
	char *c = tu_read_file(tar.buf, &len);
	/* truncated: detected even without --deep, files named */
	assert_int_equal(truncate(tar.buf, (off_t)(len / 2)), 0);
	assert_int_equal(verify(dir, NULL, 0, &pr), WS_E_CORRUPT);
	assert_true(pr.packs >= 1);
	assert_int_equal(verify(dir, NULL, 1, &pr), WS_E_CORRUPT);
	assert_true(pr.files >= 1);
	/* missing tar */
	unlink(tar.buf);
	assert_int_equal(verify(dir, NULL, 0, &pr), WS_E_CORRUPT);
	assert_true(pr.files >= 1);
	assert_non_null(strstr(pr.last_file, "C:\\Users\\alice\\"));
	/* missing both tar and idx */
	char *ic = tu_read_file(idx.buf, &len);
	size_t ilen = len;
	unlink(idx.buf);
	assert_int_equal(verify(dir, NULL, 0, &pr), WS_E_CORRUPT);
	assert_true(pr.files >= 1);
	/* missing idx only: the pack's own copy of the index is used */
	tu_write_file(tar.buf, c, strlen(c) > 0 ? 0 : 0);
	free(c);
	ws_buf_release(&tar);
	ws_buf_release(&idx);
	free(ic);
	(void)ilen;
}

static void missing_index_falls_back_to_pack_copy(void **state)
{
	char *dir = stu_tmpdir();
	char id[33] = "";
	struct ws_buf idx = WS_BUF_INIT;
	struct store *st;
	struct ws_error err;
	struct problems pr;

	build_store(dir, NULL);
	first_pack(dir, id);
	pack_path(dir, id, ".idx", &idx);
	unlink(idx.buf);
	/* Every file still reads; verify finds nothing damaged. */
	assert_int_equal(verify(dir, NULL, 1, &pr), WS_OK);
	tu_assert_ok(stu_open(dir, 0, NULL, NULL, 0, &st, &err), &err);
	struct ws_buf b = WS_BUF_INIT;
	tu_assert_ok(stu_read(st, "PC-1", "C:\\Users\\alice\\a.bin", &b, &err), &err);
	assert_int_equal(b.len, 70000);
	/* a damaged .idx is also worked around when reading */
	tu_write_file(idx.buf, "WSIDX garbage", 13);
	store_close(st);
	tu_assert_ok(stu_open(dir, 0, NULL, NULL, 0, &st, &err), &err);
	ws_buf_reset(&b);
	tu_assert_ok(stu_read(st, "PC-1", "C:\\Users\\alice\\a.bin", &b, &err), &err);
	assert_int_equal(b.len, 70000);
	store_close(st);
	assert_int_equal(verify(dir, NULL, 0, &pr), WS_E_CORRUPT);
	ws_buf_release(&b);
	ws_buf_release(&idx);
}

/* Write a catalog by hand through the private codec. */
static void forge(struct store *st, const char *device, const struct store_file *files,
		  size_t nf, const char *const *packs, size_t np, char *id_out)
{
	struct ws_buf f = WS_BUF_INIT, pl = WS_BUF_INIT, path = WS_BUF_INIT;
	struct store_scan_info in = stu_info(device);
	struct store_trailer tr;
	char id[40];
	uint32_t no = 0;

	memset(&tr, 0, sizeof(tr));
	unsigned hsh = 5381;
	for (const char *c = device; *c; c++)
		hsh = hsh * 33 + (unsigned char)*c;
	snprintf(id, sizeof(id), "20260101T000000Z-%016x", hsh);
	memcpy(in.scan_id, id, 34);
	in.system_drive = 'C';
	store_cat_file_header(st, &f);
	store_enc_head(&pl, &in);
	store_cat_frame(st, id, no++, FR_HEAD, pl.buf, pl.len, &f);
	ws_buf_reset(&pl);
	for (size_t i = 0; i < nf; i++)
		store_enc_file(&pl, &files[i]);
	if (pl.len)
		store_cat_frame(st, id, no++, FR_BODY, pl.buf, pl.len, &f);
	ws_buf_reset(&pl);
	tr.meta_offset = f.len;
	tr.meta_first_frame = no;
	tr.n_files = nf;
	ws_buf_add_u8(&pl, REC_PACKS);
	ws_buf_add_varint(&pl, 1 + 32 * np);
	ws_buf_add_varint(&pl, np);
	for (size_t i = 0; i < np; i++)
		ws_buf_add(&pl, packs[i], 32);
	store_cat_frame(st, id, no++, FR_META, pl.buf, pl.len, &f);
	ws_buf_reset(&pl);
	uint64_t toff = f.len;
	store_enc_trailer(&pl, &tr);
	store_cat_frame(st, id, no++, FR_TRAILER, pl.buf, pl.len, &f);
	store_cat_footer(&f, toff, no - 1);
	ws_buf_addf(&path, "%s/scans/%s.cat", st->dir, id);
	tu_write_file(path.buf, f.buf, f.len);
	if (id_out)
		memcpy(id_out, id, 34);
	ws_buf_release(&f);
	ws_buf_release(&pl);
	ws_buf_release(&path);
}

static void hostile_catalogs_refused(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	char id[33] = "", sid[40];
	struct store_catalog *cat;
	struct store_record rec;

	build_store(dir, NULL);
	first_pack(dir, id);
	const char *packs[] = { id };
	tu_assert_ok(stu_open(dir, 0, NULL, NULL, 0, &st, &err), &err);
	/* size that lies about its chunks */
	struct store_chunk_ref ref = { { 0 }, 100, 0 };
	struct store_file f = stu_file("C:\\liar.txt", STORE_SYSTEM);
	f.size = 1u << 30;
	f.chunks = &ref;
	f.n_chunks = 1;
	forge(st, "EVIL", &f, 1, packs, 1, sid);
	tu_assert_ok(store_catalog_open(st, "EVIL", sid, &cat, &err), &err);
	assert_int_equal(store_catalog_next(cat, &rec, &err), WS_E_CORRUPT);
	assert_non_null(strstr(err.msg, "does not match its chunks"));
	store_catalog_free(cat);
	/* reference to a missing blob, and a pack index out of range */
	f.size = 100;
	forge(st, "EVIL2", &f, 1, packs, 1, sid);
	tu_assert_ok(store_catalog_open(st, "EVIL2", sid, &cat, &err), &err);
	tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
	struct ws_buf b = WS_BUF_INIT;
	assert_int_equal(store_catalog_read_file_cb(cat, &rec.u.file, stu_sink, &b, &err), WS_E_CORRUPT);
	assert_non_null(strstr(err.msg, "not in its pack"));
	store_catalog_free(cat);
	ref.pack = 5;
	forge(st, "EVIL3", &f, 1, packs, 1, sid);
	tu_assert_ok(store_catalog_open(st, "EVIL3", sid, &cat, &err), &err);
	assert_int_equal(store_catalog_next(cat, &rec, &err), WS_E_CORRUPT);
	store_catalog_free(cat);
	/* a chunk claiming to be larger than any chunk may be */
	ref.pack = 0;
	ref.raw_len = STORE_CHUNK_MAX + 1;
	f.size = ref.raw_len;
	forge(st, "EVIL4", &f, 1, packs, 1, sid);
	tu_assert_ok(store_catalog_open(st, "EVIL4", sid, &cat, &err), &err);
	assert_int_equal(store_catalog_next(cat, &rec, &err), WS_E_CORRUPT);
	store_catalog_free(cat);
	/* verify names the hostile scans */
	struct problems pr;
	store_close(st);
	assert_int_equal(verify(dir, NULL, 0, &pr), WS_E_CORRUPT);
	assert_true(pr.catalogs + pr.files >= 4);
	ws_buf_release(&b);
}

static void decompression_bomb_refused(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct ws_buf z = WS_BUF_INIT, out = WS_BUF_INIT;
	char *zeros = calloc(1, 8u << 20);
	unsigned char h[32];
	const char *why = NULL;

	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	/* a blob that inflates to 8 MiB while its index says 100 bytes */
	ws_buf_add_u8(&z, STORE_BLOB_ZLIB);
	store_deflate(zeros, 8u << 20, 9, &z);
	store_content_hash(st, zeros, 100, h);
	assert_int_equal(store_blob_decode(st, &st->z, h, 100, z.buf, z.len, &out, &why), -1);
	assert_true(out.len <= 100 + 65536);
	/* inflate never produces more than its limit */
	ws_buf_reset(&out);
	assert_int_equal(store_inflate(z.buf + 1, z.len - 1, 1000, &out), -1);
	assert_true(out.len <= 1000 + 65536);
	/* a blob with unknown flags, an empty blob */
	unsigned char bad[2] = { 0x80, 0 };
	assert_int_equal(store_blob_decode(st, &st->z, h, 1, bad, 2, &out, &why), -1);
	assert_int_equal(store_blob_decode(st, &st->z, h, 1, bad, 0, &out, &why), -1);
	store_close(st);
	free(zeros);
	ws_buf_release(&z);
	ws_buf_release(&out);
}

static void hostile_index_refused(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_pack p;
	struct ws_buf b = WS_BUF_INIT;
	struct store_ix_entry e[2];
	const char *id = "0123456789abcdef0123456789abcdef";

	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	memset(&p, 0, sizeof(p));
	memcpy(p.id, id, STORE_PACK_ID_LEN); /* a 1.x index (p.v2 = 0) */
	memset(e, 0, sizeof(e));
	e[0].off = 512;
	e[0].stored_len = 10;
	e[0].raw_len = 10;
	e[1] = e[0];
	e[1].hash[0] = 1;
	/* a blob reaching past the end of the blobs */
	store_index_encode(st, &p, e, 1, 512, &b);
	assert_int_equal(store_index_parse(st, id, b.buf, b.len, &p, "x", &err), WS_E_CORRUPT);
	/* unsorted or duplicate hashes */
	ws_buf_reset(&b);
	struct store_ix_entry rev[2] = { e[1], e[0] };
	store_index_encode(st, &p, rev, 2, 4096, &b);
	assert_int_equal(store_index_parse(st, id, b.buf, b.len, &p, "x", &err), WS_E_CORRUPT);
	/* a stored length far larger than the chunk */
	ws_buf_reset(&b);
	e[0].stored_len = 100000;
	store_index_encode(st, &p, e, 1, 1u << 20, &b);
	assert_int_equal(store_index_parse(st, id, b.buf, b.len, &p, "x", &err), WS_E_CORRUPT);
	/* an index sealed for another pack id */
	ws_buf_reset(&b);
	e[0].stored_len = 10;
	store_index_encode(st, &p, e, 1, 1024, &b);
	assert_int_equal(store_index_parse(st, "ffffffffffffffffffffffffffffffff", b.buf, b.len, &p, "x", &err), WS_E_CORRUPT);
	tu_assert_ok(store_index_parse(st, id, b.buf, b.len, &p, "x", &err), &err);
	free(p.ix);
	store_close(st);
	ws_buf_release(&b);
}

/* Child: write many files into a scan, SIGKILLed by the parent. */
static void killed_writer(const char *dir, int files)
{
	struct store *st;
	struct ws_error err;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-KILL");
	unsigned char buf[20000];

	if (stu_open(dir, 0, NULL, NULL, 100000, &st, &err))
		_exit(2);
	if (store_scan_begin(st, &in, &w, &err))
		_exit(3);
	for (int i = 0; i < files; i++) {
		char path[64];
		snprintf(path, sizeof(path), "C:\\Users\\k\\f%d.bin", i);
		stu_random(buf, sizeof(buf), (uint64_t)i + 1000);
		struct store_file f = stu_file(path, 0);
		if (store_scan_add_file_mem(w, &f, buf, sizeof(buf), &err))
			_exit(4);
	}
	/* chunks still in the pipeline are lost with the process, as the
	 * open pack is: let them reach it first */
	struct store_write_stats ws;
	store_writer_stats(w, &ws);
	kill(getpid(), SIGSTOP); /* parent kills us here, mid-scan */
	_exit(5);
}

static void writer_killed_mid_scan(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct problems pr;
	const char *paths[] = { "C:\\keep.txt" };
	const void *data[] = { "earlier scan" };
	size_t lens[] = { 12 };

	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 100000, &st, &err), &err);
	stu_scan(st, "PC-OLD", paths, data, lens, 1, NULL);
	store_close(st);
	int counts[] = { 0, 3, 12, 30 };
	for (size_t k = 0; k < 4; k++) {
		pid_t pid = fork();
		int status;
		if (pid == 0)
			killed_writer(dir, counts[k]);
		waitpid(pid, &status, WUNTRACED);
		assert_true(WIFSTOPPED(status));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		assert_true(WIFSIGNALED(status));
		/* earlier scans intact, the interrupted one invisible */
		assert_int_equal(verify(dir, NULL, 1, &pr), WS_OK);
		tu_assert_ok(stu_open(dir, 0, NULL, NULL, 100000, &st, &err), &err);
		struct store_scan_list list = STORE_SCAN_LIST_INIT;
		tu_assert_ok(store_list_scans(st, NULL, &list, &err), &err);
		assert_int_equal(list.n, 1);
		store_scan_list_release(&list);
		struct ws_buf b = WS_BUF_INIT;
		tu_assert_ok(stu_read(st, "PC-OLD", "C:\\keep.txt", &b, &err), &err);
		assert_string_equal(b.buf, "earlier scan");
		ws_buf_release(&b);
		store_close(st);
	}
	/* a rerun completes and reuses the packs the killed scans finished */
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-KILL");
	unsigned char buf[20000];
	tu_assert_ok(stu_open(dir, 0, NULL, NULL, 100000, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	for (int i = 0; i < 30; i++) {
		char path[64];
		snprintf(path, sizeof(path), "C:\\Users\\k\\f%d.bin", i);
		stu_random(buf, sizeof(buf), (uint64_t)i + 1000);
		struct store_file f = stu_file(path, 0);
		tu_assert_ok(store_scan_add_file_mem(w, &f, buf, sizeof(buf), &err), &err);
	}
	struct store_write_stats ws;
	store_writer_stats(w, &ws);
	assert_true(ws.chunks_new < 10); /* most were in completed packs */
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	struct ws_buf b = WS_BUF_INIT;
	tu_assert_ok(stu_read(st, "PC-KILL", "C:\\Users\\k\\f29.bin", &b, &err), &err);
	stu_random(buf, sizeof(buf), 1029);
	assert_memory_equal(b.buf, buf, sizeof(buf));
	ws_buf_release(&b);
	store_close(st);
	assert_int_equal(verify(dir, NULL, 1, &pr), WS_OK);
}

static void concurrent_writers(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct problems pr;
	pid_t pids[4];

	tu_assert_ok(stu_open(dir, 1, "pw", NULL, 60000, &st, &err), &err);
	store_close(st);
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			char dev[16];
			unsigned char buf[30000];
			struct store_writer *w;
			snprintf(dev, sizeof(dev), "PC-%d", i);
			struct store_scan_info in = stu_info(dev);
			if (stu_open(dir, 0, "pw", NULL, 60000, &st, &err) ||
			    store_scan_begin(st, &in, &w, &err))
				_exit(2);
			for (int k = 0; k < 20; k++) {
				char path[64];
				snprintf(path, sizeof(path), "C:\\Users\\u\\f%d.bin", k);
				/* half shared with the other writers, half own */
				stu_random(buf, sizeof(buf), (uint64_t)(k % 2 ? k : k + 100 * (i + 1)));
				struct store_file f = stu_file(path, 0);
				if (store_scan_add_file_mem(w, &f, buf, sizeof(buf), &err))
					_exit(3);
			}
			int rc = store_scan_commit(w, NULL, &err);
			store_close(st);
			_exit(rc);
		}
	}
	for (int i = 0; i < 4; i++) {
		int status;
		waitpid(pids[i], &status, 0);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(verify(dir, "pw", 1, &pr), WS_OK);
	tu_assert_ok(stu_open(dir, 0, "pw", NULL, 0, &st, &err), &err);
	struct store_scan_list list = STORE_SCAN_LIST_INIT;
	tu_assert_ok(store_list_scans(st, NULL, &list, &err), &err);
	assert_int_equal(list.n, 4);
	store_scan_list_release(&list);
	for (int i = 0; i < 4; i++) {
		char dev[16];
		unsigned char buf[30000];
		struct ws_buf b = WS_BUF_INIT;
		snprintf(dev, sizeof(dev), "PC-%d", i);
		tu_assert_ok(stu_read(st, dev, "C:\\Users\\u\\f4.bin", &b, &err), &err);
		stu_random(buf, sizeof(buf), (uint64_t)(4 + 100 * (i + 1)));
		assert_memory_equal(b.buf, buf, sizeof(buf));
		ws_buf_release(&b);
	}
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flipped_bytes_detected_plain),
		cmocka_unit_test(flipped_bytes_detected_encrypted),
		cmocka_unit_test(truncated_and_missing_packs),
		cmocka_unit_test(missing_index_falls_back_to_pack_copy),
		cmocka_unit_test(hostile_catalogs_refused),
		cmocka_unit_test(decompression_bomb_refused),
		cmocka_unit_test(hostile_index_refused),
		cmocka_unit_test(writer_killed_mid_scan),
		cmocka_unit_test(concurrent_writers),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	stu_cleanup();
	return rc;
}
