/* test_extract_prune.c - store: extraction into a plain folder (salvage,
 * hostile paths, never outside the destination) and pruning. */
#include "store_tu.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store_private.h"

struct refused {
	int n;
	char last[512];
};

static void on_problem(void *ctx, const struct store_problem *p)
{
	struct refused *r = ctx;

	r->n++;
	snprintf(r->last, sizeof(r->last), "%s: %s", p->file ? p->file : "", p->message);
}

static int extract(struct store *st, const char *device, const char *dest,
		   const char *inc, const char *exc, struct store_extract_stats *s,
		   struct refused *r)
{
	struct store_catalog *cat;
	struct ws_error err;
	struct store_extract_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(r, 0, sizeof(*r));
	o.dest = dest;
	o.include = &inc;
	o.n_include = inc ? 1 : 0;
	o.exclude = &exc;
	o.n_exclude = exc ? 1 : 0;
	o.on_problem = on_problem;
	o.ctx = r;
	rc = store_catalog_open(st, device, NULL, &cat, &err);
	if (rc)
		return rc;
	rc = store_extract(cat, &o, s, &err);
	store_catalog_free(cat);
	return rc;
}

static void extract_restores_files_and_folders(void **state)
{
	char *dir = stu_tmpdir(), *dest = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-X");
	struct store_extract_stats s;
	struct refused r;

	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	struct store_file d = stu_file("C:\\Users\\alice\\Empty\\", 0);
	d.flags = STORE_FILE_DIR;
	tu_assert_ok(store_scan_add_file(w, &d, -1, &err), &err);
	struct store_file f = stu_file("C:\\Users\\alice\\Documents\\a.txt", 0);
	tu_assert_ok(store_scan_add_file_mem(w, &f, "alpha", 5, &err), &err);
	struct store_file g = stu_file("c:\\Users\\alice\\Music\\b.mp3", 0);
	tu_assert_ok(store_scan_add_file_mem(w, &g, "beta", 4, &err), &err);
	struct store_file e = stu_file("C:\\Users\\alice\\zero.txt", 0);
	tu_assert_ok(store_scan_add_file_mem(w, &e, "", 0, &err), &err);
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);

	tu_assert_ok(extract(st, "PC-X", dest, NULL, "*\\Music\\*", &s, &r), &err);
	assert_int_equal(s.files, 2);
	assert_int_equal(s.dirs, 1);
	struct ws_buf p = WS_BUF_INIT;
	ws_buf_addf(&p, "%s/C/Users/alice/Documents/a.txt", dest);
	size_t len;
	char *c = tu_read_file(p.buf, &len);
	assert_string_equal(c, "alpha");
	free(c);
	struct stat sb;
	assert_int_equal(stat(p.buf, &sb), 0);
	assert_int_equal((int64_t)sb.st_mtime, ws_filetime_to_unix_ns(f.written_ft) / 1000000000);
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/C/Users/alice/Empty", dest);
	assert_int_equal(stat(p.buf, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/C/Users/alice/Music", dest);
	assert_int_not_equal(stat(p.buf, &sb), 0); /* excluded */
	/* include pattern, case-insensitive; existing files are never overwritten */
	assert_int_equal(extract(st, "PC-X", dest, "*\\MUSIC\\*", NULL, &s, &r), WS_OK);
	assert_int_equal(s.files, 1);
	assert_int_equal(extract(st, "PC-X", dest, "*a.txt", NULL, &s, &r), WS_PARTIAL);
	assert_int_equal(s.refused, 1);
	store_close(st);
	ws_buf_release(&p);
}

static void hostile_paths_never_escape(void **state)
{
	char *dir = stu_tmpdir(), *top = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-H");
	struct store_extract_stats s;
	struct refused r;
	const char *bad[] = {
		"\\\\server\\share\\x.txt", "C:\\..\\..\\escape.txt", "C:\\Users\\..\\..\\escape2.txt",
		"D:\\..\\other-drive.txt", "C:relative.txt", "relative\\x.txt", "/etc/passwd",
		"C:\\a/..\\..\\b.txt", "C:\\Users\\.\\x.txt", "C:\\Users\\\\double.txt",
		"C:\\link\\through.txt", "C:\\"
	};
	struct ws_buf dest = WS_BUF_INIT, link = WS_BUF_INIT, outside = WS_BUF_INIT;

	ws_path_join(&dest, top, "dest");
	ws_path_join(&outside, top, "outside");
	mkdir(outside.buf, 0755);
	mkdir(dest.buf, 0755);
	ws_buf_addf(&link, "%s/C", dest.buf);
	mkdir(link.buf, 0755);
	ws_buf_adds(&link, "/link");
	assert_int_equal(symlink(outside.buf, link.buf), 0); /* planted symlink */

	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct store_file f = stu_file(bad[i], 0);
		tu_assert_ok(store_scan_add_file_mem(w, &f, "pwned", 5, &err), &err);
	}
	struct store_file ok = stu_file("C:\\fine.txt", 0);
	tu_assert_ok(store_scan_add_file_mem(w, &ok, "ok", 2, &err), &err);
	/* another drive of the scan: in its own folder, dest/D */
	struct store_file od = stu_file("d:\\Data\\other-drive.txt", 0);
	tu_assert_ok(store_scan_add_file_mem(w, &od, "od", 2, &err), &err);
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	assert_int_equal(extract(st, "PC-H", dest.buf, NULL, NULL, &s, &r), WS_PARTIAL);
	assert_int_equal(s.files, 2);
	{
		struct ws_buf odp = WS_BUF_INIT;
		struct stat sb;

		ws_buf_addf(&odp, "%s/D/Data/other-drive.txt", dest.buf);
		assert_int_equal(stat(odp.buf, &sb), 0);
		assert_int_equal(sb.st_size, 2);
		ws_buf_release(&odp);
	}
	assert_int_equal(s.refused, sizeof(bad) / sizeof(*bad));
	/* nothing landed outside dest or through the link */
	DIR *d = opendir(outside.buf);
	struct dirent *de;
	int entries = 0;
	while ((de = readdir(d)))
		entries += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(entries, 0);
	d = opendir(top);
	entries = 0;
	while ((de = readdir(d)))
		entries += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(entries, 2); /* dest and outside only */
	store_close(st);
	ws_buf_release(&dest);
	ws_buf_release(&link);
	ws_buf_release(&outside);
}

static void extract_salvages_around_damage(void **state)
{
	char *dir = stu_tmpdir(), *dest = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-D");
	struct store_extract_stats s;
	struct refused r;
	unsigned char a[50000], b[50000];

	stu_random(a, sizeof(a), 11);
	stu_random(b, sizeof(b), 12);
	/* two packs: one file each */
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 40000, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	struct store_file fa = stu_file("C:\\a.bin", STORE_SYSTEM);
	tu_assert_ok(store_scan_add_file_mem(w, &fa, a, sizeof(a), &err), &err);
	struct store_file fb = stu_file("C:\\b.bin", STORE_SYSTEM);
	tu_assert_ok(store_scan_add_file_mem(w, &fb, b, sizeof(b), &err), &err);
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	/* damage a.bin's blob: flip a byte in the middle of its pack */
	struct store_catalog *cat;
	struct store_record rec;
	tu_assert_ok(store_catalog_open(st, "PC-D", NULL, &cat, &err), &err);
	tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
	const char *pid = store_catalog_pack_id(cat, rec.u.file.chunks[0].pack);
	struct ws_buf p = WS_BUF_INIT;
	ws_buf_addf(&p, "%s/packs/%.2s/%s%s", dir, pid, pid, stu_ext());
	store_catalog_free(cat);
	size_t len;
	char *c = tu_read_file(p.buf, &len);
	c[5000] ^= 0x40;
	tu_write_file(p.buf, c, len);
	free(c);
	assert_int_equal(extract(st, "PC-D", dest, NULL, NULL, &s, &r), WS_E_CORRUPT);
	assert_int_equal(s.files, 1);
	assert_int_equal(s.damaged, 1);
	assert_non_null(strstr(r.last, "C:\\a.bin"));
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/C/b.bin", dest);
	c = tu_read_file(p.buf, &len);
	assert_int_equal(len, sizeof(b));
	assert_memory_equal(c, b, sizeof(b));
	free(c);
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/C/a.bin", dest);
	assert_false(ws_path_exists(p.buf)); /* no half-written file */
	store_close(st);
	ws_buf_release(&p);
}

static size_t count_packs(const char *dir)
{
	struct ws_buf p = WS_BUF_INIT;
	size_t n = 0;
	DIR *top;
	struct dirent *de;

	ws_path_join(&p, dir, "packs");
	top = opendir(p.buf);
	while (top && (de = readdir(top))) {
		struct ws_buf s = WS_BUF_INIT;
		DIR *d;
		struct dirent *e2;
		if (de->d_name[0] == '.')
			continue;
		ws_path_join(&s, p.buf, de->d_name);
		d = opendir(s.buf);
		while (d && (e2 = readdir(d)))
			n += strlen(e2->d_name) == 32 + strlen(stu_ext()) &&
			     !strcmp(e2->d_name + 32, stu_ext());
		if (d)
			closedir(d);
		ws_buf_release(&s);
	}
	if (top)
		closedir(top);
	ws_buf_release(&p);
	return n;
}

static void prune_keeps_newest_and_drops_unreferenced(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_prune_opts o;
	struct store_prune_stats s;
	unsigned char buf[30000];
	char ids[3][STORE_SCAN_ID_MAX];

	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 20000, &st, &err), &err);
	for (int i = 0; i < 3; i++) {
		const char *paths[] = { "C:\\f.bin" };
		const void *data[] = { buf };
		size_t lens[] = { sizeof(buf) };
		stu_random(buf, sizeof(buf), (uint64_t)i);
		stu_scan(st, "PC-P", paths, data, lens, 1, ids[i]);
		sleep(i < 2); /* distinct scan ids by time */
	}
	const char *other[] = { "C:\\o.txt" };
	const void *od[] = { "other device" };
	size_t ol[] = { 12 };
	stu_scan(st, "PC-Q", other, od, ol, 1, NULL);
	size_t before = count_packs(dir);
	assert_int_equal(before, 4);
	memset(&o, 0, sizeof(o));
	o.keep = 1;
	o.grace_seconds = 3600;
	/* within the grace period nothing but catalogs goes */
	tu_assert_ok(store_prune(st, &o, &s, &err), &err);
	assert_int_equal(s.scans_removed, 2);
	assert_int_equal(s.packs_removed, 0);
	assert_int_equal(s.packs_kept_young, 2);
	assert_int_equal(count_packs(dir), 4);
	/* a live writer blocks pack removal */
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-LIVE");
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	o.grace_seconds = 0;
	memset(&s, 0, sizeof(s));
	o.grace_seconds = 1;
	sleep(2);
	store_scan_abort(w);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	tu_assert_ok(store_prune(st, &o, &s, &err), &err);
	assert_true(s.writers_alive);
	assert_int_equal(s.packs_removed, 0);
	store_scan_abort(w);
	/* then the unreferenced packs go */
	tu_assert_ok(store_prune(st, &o, &s, &err), &err);
	assert_int_equal(s.packs_removed, 2);
	assert_int_equal(count_packs(dir), 2);
	struct store_scan_list list = STORE_SCAN_LIST_INIT;
	tu_assert_ok(store_list_scans(st, "PC-P", &list, &err), &err);
	assert_int_equal(list.n, 1);
	assert_string_equal(list.v[0].info.scan_id, ids[2]);
	store_scan_list_release(&list);
	store_close(st);
	struct store_verify_opts vo = { .deep = 1 };
	tu_assert_ok(stu_open(dir, 0, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(store_verify(st, &vo, NULL, &err), &err);
	struct ws_buf b = WS_BUF_INIT;
	tu_assert_ok(stu_read(st, "PC-P", "C:\\f.bin", &b, &err), &err);
	stu_random(buf, sizeof(buf), 2);
	assert_memory_equal(b.buf, buf, sizeof(buf));
	ws_buf_release(&b);
	o.keep = 0;
	assert_int_equal(store_prune(st, &o, &s, &err), WS_E_USAGE);
	store_close(st);
}

static void prune_keeps_packs_when_a_catalog_is_damaged(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_prune_opts o;
	struct store_prune_stats s;
	char id[STORE_SCAN_ID_MAX];
	const char *paths[] = { "C:\\f.txt" };
	const void *data[] = { "data" };
	size_t lens[] = { 4 };

	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	stu_scan(st, "PC-1", paths, data, lens, 1, id);
	struct ws_buf p = WS_BUF_INIT;
	ws_buf_addf(&p, "%s/scans/%s.cat", dir, id);
	tu_write_file(p.buf, "WSCAT junk", 10);
	memset(&o, 0, sizeof(o));
	o.keep = 1;
	assert_int_equal(store_prune(st, &o, &s, &err), WS_E_CORRUPT);
	assert_int_equal(s.packs_removed, 0);
	assert_int_equal(count_packs(dir), 1);
	assert_true(ws_path_exists(p.buf)); /* never removed */
	store_close(st);
	ws_buf_release(&p);
}

static void prune_restores_index_of_referenced_pack(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_prune_opts o;
	struct store_prune_stats s;
	const char *paths[] = { "C:\\f.txt" };
	const void *data[] = { "some content" };
	size_t lens[] = { 12 };

	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	stu_scan(st, "PC-1", paths, data, lens, 1, NULL);
	struct store_catalog *cat;
	tu_assert_ok(store_catalog_open(st, "PC-1", NULL, &cat, &err), &err);
	struct ws_buf idx = WS_BUF_INIT;
	const char *pid = store_catalog_pack_id(cat, 0);
	ws_buf_addf(&idx, "%s/packs/%.2s/%s.idx", dir, pid, pid);
	store_catalog_free(cat);
	size_t len;
	char *orig = tu_read_file(idx.buf, &len);
	unlink(idx.buf);
	memset(&o, 0, sizeof(o));
	o.keep = 1;
	o.grace_seconds = 0;
	tu_assert_ok(store_prune(st, &o, &s, &err), &err);
	assert_int_equal(s.packs_removed, 0);
	assert_true(ws_path_exists(idx.buf));
	store_close(st);
	/* a rescan deduplicates against it again */
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-1");
	struct store_write_stats ws;
	tu_assert_ok(stu_open(dir, 0, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	struct store_file f = stu_file(paths[0], STORE_SYSTEM);
	tu_assert_ok(store_scan_add_file_mem(w, &f, data[0], lens[0], &err), &err);
	store_writer_stats(w, &ws);
	assert_int_equal(ws.chunks_new, 0);
	store_scan_abort(w);
	store_close(st);
	free(orig);
	ws_buf_release(&idx);
}

/* Writes `name` below `dir`, dated `age` seconds ago. */
static void put_file(const char *dir, const char *name, time_t age)
{
	struct ws_buf p = WS_BUF_INIT;
	struct timespec ts[2];

	ws_buf_addf(&p, "%s/%s", dir, name);
	tu_write_file(p.buf, "partial", 7);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - age;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, p.buf, ts, 0), 0);
	ws_buf_release(&p);
}

static int exists_in(const char *dir, const char *name)
{
	struct ws_buf p = WS_BUF_INIT;
	int r;

	ws_buf_addf(&p, "%s/%s", dir, name);
	r = ws_path_exists(p.buf);
	ws_buf_release(&p);
	return r;
}

/* A writer killed inside an atomic write leaves ".<name>.tmp-<pid>-<hex>"
 * in the store's folder, scans/, events/ or packs/<xx>/: prune removes
 * those older than the grace period, keeps young ones (a writer may be
 * inside that write now) and never touches the events or packs around. */
static void prune_removes_dead_writers_temporaries(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_prune_opts o;
	struct store_prune_stats s;
	const char *paths[] = { "C:\\f.txt" };
	const void *data[] = { "some content" };
	size_t lens[] = { 12 };
	struct ws_buf ev = WS_BUF_INIT, pk = WS_BUF_INIT;
	struct store_catalog *cat;

	(void)state;
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	stu_scan(st, "PC-T", paths, data, lens, 1, NULL);
	tu_assert_ok(store_catalog_open(st, "PC-T", NULL, &cat, &err), &err);
	ws_buf_addf(&pk, "%s/packs/%.2s", dir, store_catalog_pack_id(cat, 0));
	store_catalog_free(cat);
	ws_buf_addf(&ev, "%s/events", dir);
	mkdir(ev.buf, 0700);
	put_file(ev.buf, "20261203T000000Z-0000000000000001.evt", 90000);
	put_file(ev.buf, ".20261203T000000Z-0000000000000002.evt.tmp-77-0a0b0c0d", 90000);
	put_file(ev.buf, ".20261203T000000Z-0000000000000003.evt.tmp-78-0a0b0c0e", 10);
	put_file(pk.buf, ".0123.idx.tmp-79-01020304", 90000);
	put_file(dir, ".winstate-store.tmp-80-01020305", 90000);
	put_file(dir, "notes.txt", 90000);
	memset(&o, 0, sizeof(o));
	o.keep = 1;
	o.grace_seconds = 3600;
	o.dry_run = 1;
	tu_assert_ok(store_prune(st, &o, &s, &err), &err);
	assert_true(exists_in(ev.buf, ".20261203T000000Z-0000000000000002.evt.tmp-77-0a0b0c0d"));
	o.dry_run = 0;
	tu_assert_ok(store_prune(st, &o, &s, &err), &err);
	assert_false(exists_in(ev.buf, ".20261203T000000Z-0000000000000002.evt.tmp-77-0a0b0c0d"));
	assert_false(exists_in(pk.buf, ".0123.idx.tmp-79-01020304"));
	assert_false(exists_in(dir, ".winstate-store.tmp-80-01020305"));
	assert_true(exists_in(ev.buf, ".20261203T000000Z-0000000000000003.evt.tmp-78-0a0b0c0e"));
	assert_true(exists_in(ev.buf, "20261203T000000Z-0000000000000001.evt"));
	assert_true(exists_in(dir, "notes.txt"));
	assert_true(exists_in(dir, "winstate-store"));
	struct ws_buf b = WS_BUF_INIT;
	tu_assert_ok(stu_read(st, "PC-T", paths[0], &b, &err), &err);
	assert_memory_equal(b.buf, data[0], lens[0]);
	ws_buf_release(&b);
	store_close(st);
	ws_buf_release(&ev);
	ws_buf_release(&pk);
}

/* Scan order: second of the id, then started_ns (-1 = format 1.0 catalog,
 * oldest of its second), then the id; the 1.1 HEAD only appends a field. */
static void scan_order_and_head_compat(void **state)
{
	const char *a = "20261123T045524Z-ffffffffffffffff";
	const char *b = "20261123T045524Z-0000000000000000";
	const char *later = "20261123T045525Z-0000000000000000";
	struct store_scan_info in = stu_info("PC-O");
	struct ws_buf v10 = WS_BUF_INIT, v11 = WS_BUF_INIT;

	(void)state;
	assert_true(store_scan_order(b, 2, a, 1) < 0);   /* later ns wins */
	assert_true(store_scan_order(a, 1, b, 2) > 0);
	assert_true(store_scan_order(a, -1, b, 0) > 0);  /* unknown is oldest */
	assert_true(store_scan_order(a, 5, b, 5) < 0);   /* then the id */
	assert_true(store_scan_order(later, -1, a, 999999999) < 0);
	assert_int_equal(store_scan_order(a, 3, a, 3), 0);

	memcpy(in.scan_id, a, strlen(a) + 1);
	in.started = 1;
	in.started_ns = -1;
	store_enc_head(&v10, &in);
	in.started_ns = 300;
	store_enc_head(&v11, &in);
	/* type, body length (one byte here), body: the 1.0 body then varint 300 */
	assert_int_equal(v11.len, v10.len + 2);
	assert_int_equal((unsigned char)v11.buf[1], (unsigned char)v10.buf[1] + 2);
	assert_memory_equal(v11.buf + 2, v10.buf + 2, v10.len - 2);
	assert_int_equal((unsigned char)v11.buf[v10.len], 0xac);
	assert_int_equal((unsigned char)v11.buf[v10.len + 1], 0x02);
	ws_buf_release(&v10);
	ws_buf_release(&v11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(extract_restores_files_and_folders),
		cmocka_unit_test(hostile_paths_never_escape),
		cmocka_unit_test(extract_salvages_around_damage),
		cmocka_unit_test(prune_keeps_newest_and_drops_unreferenced),
		cmocka_unit_test(scan_order_and_head_compat),
		cmocka_unit_test(prune_keeps_packs_when_a_catalog_is_damaged),
		cmocka_unit_test(prune_restores_index_of_referenced_pack),
		cmocka_unit_test(prune_removes_dead_writers_temporaries),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	stu_cleanup();
	return rc;
}
