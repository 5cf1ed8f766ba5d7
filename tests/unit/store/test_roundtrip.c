/* test_roundtrip.c - store: every record kind written and read back,
 * dedup across devices and rescans, chunking, raw storage, encryption. */
#include "store_tu.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/wait.h>

#include <sodium.h>

#include "util/ws_utf.h"

static void every_record_kind_round_trips(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-01");
	const char *rf[] = { "MigUser.xml", "MigApp.xml" };
	char id[STORE_SCAN_ID_MAX];
	unsigned char bin[300];

	ws_error_clear(&err);
	stu_random(bin, sizeof(bin), 7);
	in.rule_files = rf;
	in.n_rule_files = 2;
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	struct store_user u0 = { 0, "S-1-5-21-1-2-3-1001", "PC-01\\alice", "C:\\Users\\alice", 133000000000000001ull, STORE_USER_LOCAL };
	struct store_user u1 = { 5, "S-1-12-1-1-2-3-4", "AzureAD\\Bob", "C:\\Users\\bob", 0, STORE_USER_AZURE };
	tu_assert_ok(store_scan_add_user(w, &u0, &err), &err);
	tu_assert_ok(store_scan_add_user(w, &u1, &err), &err);
	assert_int_equal(store_scan_add_user(w, &u1, &err), WS_E_USAGE);
	struct store_rule r = { 3, "MigUser.xml:42 component 'My Documents' include %CSIDL_PERSONAL%\\* [*]" };
	tu_assert_ok(store_scan_add_rule(w, &r, &err), &err);
	struct store_app a = { 5, "Microsoft.WindowsCalculator_8wekyb3d8bbwe",
			       "Microsoft.WindowsCalculator_11.2307.4.0_x64__8wekyb3d8bbwe",
			       "11.2307.4.0", "x64", "CN=Microsoft Corporation", "store" };
	tu_assert_ok(store_scan_add_app(w, &a, &err), &err);
	struct store_key k = { STORE_SYSTEM, "HKLM\\Software\\Empty", 3 };
	tu_assert_ok(store_scan_add_key(w, &k, &err), &err);
	const unsigned char sz[] = { 'h', 0, 'i', 0, 0, 0 };
	struct store_value v1 = { 0, "HKCU\\Control Panel\\Desktop", "", 1, sz, sizeof(sz), 3 };
	struct store_value v2 = { 5, "HKCU\\Software\\Bin", "Blob", 3, bin, sizeof(bin), 3 };
	struct store_value v3 = { 5, "HKCU\\Software\\Empty", "Nothing", 3, NULL, 0, 3 };
	tu_assert_ok(store_scan_add_value(w, &v1, &err), &err);
	tu_assert_ok(store_scan_add_value(w, &v2, &err), &err);
	tu_assert_ok(store_scan_add_value(w, &v3, &err), &err);
	struct store_file d = stu_file("C:\\Users\\alice\\Documents", 0);
	d.flags = STORE_FILE_DIR;
	d.attributes = 0x10;
	tu_assert_ok(store_scan_add_file(w, &d, -1, &err), &err);
	struct store_file f = stu_file("C:\\Users\\alice\\Documents\\a.txt", 0);
	tu_assert_ok(store_scan_add_file_mem(w, &f, "hello world", 11, &err), &err);
	struct store_file c = stu_file("C:\\Users\\alice\\OneDrive\\cloud.docx", 0);
	c.flags = STORE_FILE_NOT_CAPTURED;
	c.size = 123456;
	tu_assert_ok(store_scan_add_file(w, &c, -1, &err), &err);
	tu_assert_ok(store_scan_commit(w, id, &err), &err);
	store_close(st);

	struct store_catalog *cat;
	tu_assert_ok(stu_open(dir, 0, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(store_catalog_open(st, "PC-01", NULL, &cat, &err), &err);
	const struct store_scan_info *ci = store_catalog_info(cat);
	assert_string_equal(ci->scan_id, id);
	assert_string_equal(ci->device, "PC-01");
	assert_string_equal(ci->os_build, "22631.4317");
	assert_int_equal(ci->system_drive, 'C');
	assert_int_equal(ci->n_rule_files, 2);
	assert_string_equal(ci->rule_files[1], "MigApp.xml");
	assert_true(ci->finished >= ci->started && ci->started > 0);
	size_t n;
	const struct store_user *us = store_catalog_users(cat, &n);
	assert_int_equal(n, 2);
	assert_string_equal(us[1].sid, "S-1-12-1-1-2-3-4");
	assert_string_equal(store_catalog_user(cat, 0)->account, "PC-01\\alice");
	assert_int_equal(store_catalog_user(cat, 0)->last_use_ft, 133000000000000001ull);
	assert_null(store_catalog_user(cat, 9));
	assert_string_equal(store_catalog_rule_text(cat, 3), r.text);
	const struct store_app *ap = store_catalog_apps(cat, &n);
	assert_int_equal(n, 1);
	assert_string_equal(ap[0].publisher, "CN=Microsoft Corporation");
	assert_int_equal(ap[0].user, 5);

	struct store_record rec;
	int kinds[16], nk = 0;
	for (;;) {
		tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
		if (rec.kind == STORE_REC_END)
			break;
		kinds[nk++] = rec.kind;
		if (rec.kind == STORE_REC_KEY) {
			assert_int_equal(rec.u.key.user, STORE_SYSTEM);
			assert_string_equal(rec.u.key.path, "HKLM\\Software\\Empty");
		} else if (rec.kind == STORE_REC_VALUE && !strcmp(rec.u.value.name, "Blob")) {
			assert_int_equal(rec.u.value.len, sizeof(bin));
			assert_memory_equal(rec.u.value.data, bin, sizeof(bin));
			assert_int_equal(rec.u.value.type, 3);
		} else if (rec.kind == STORE_REC_VALUE && !strcmp(rec.u.value.name, "")) {
			assert_int_equal(rec.u.value.len, sizeof(sz));
			assert_string_equal(rec.u.value.key, "HKCU\\Control Panel\\Desktop");
		} else if (rec.kind == STORE_REC_FILE && !strcmp(rec.u.file.path, f.path)) {
			struct ws_buf b = WS_BUF_INIT;
			assert_int_equal(rec.u.file.size, 11);
			assert_int_equal(rec.u.file.written_ft, f.written_ft);
			assert_int_equal(rec.u.file.n_chunks, 1);
			tu_assert_ok(store_catalog_read_file_cb(cat, &rec.u.file, stu_sink, &b, &err), &err);
			assert_string_equal(b.buf, "hello world");
			ws_buf_release(&b);
		} else if (rec.kind == STORE_REC_FILE && rec.u.file.flags & STORE_FILE_NOT_CAPTURED) {
			assert_int_equal(rec.u.file.n_chunks, 0);
			assert_int_equal(rec.u.file.size, 0);
		}
	}
	assert_int_equal(nk, 7);
	assert_int_equal(kinds[0], STORE_REC_KEY);
	assert_int_equal(kinds[6], STORE_REC_FILE);
	/* rewind restarts */
	store_catalog_rewind(cat);
	tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
	assert_int_equal(rec.kind, STORE_REC_KEY);
	store_catalog_free(cat);

	struct store_scan_list list = STORE_SCAN_LIST_INIT;
	tu_assert_ok(store_list_scans(st, NULL, &list, &err), &err);
	assert_int_equal(list.n, 1);
	assert_int_equal(list.v[0].n_files, 3);
	assert_int_equal(list.v[0].n_values, 3);
	assert_int_equal(list.v[0].n_keys, 1);
	assert_int_equal(list.v[0].n_users, 2);
	assert_int_equal(list.v[0].n_apps, 1);
	assert_int_equal(list.v[0].bytes, 11);
	store_scan_list_release(&list);
	tu_assert_ok(store_verify(st, NULL, NULL, &err), &err);
	store_close(st);
}

static uint64_t dir_bytes(const char *dir)
{
	struct ws_buf p = WS_BUF_INIT;
	uint64_t total = 0;
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct stat sb;
		if (de->d_name[0] == '.')
			continue;
		ws_buf_reset(&p);
		ws_path_join(&p, dir, de->d_name);
		if (lstat(p.buf, &sb) != 0)
			continue;
		total += S_ISDIR(sb.st_mode) ? dir_bytes(p.buf) : (uint64_t)sb.st_size;
	}
	if (d)
		closedir(d);
	ws_buf_release(&p);
	return total;
}

static void two_devices_share_content_once(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	unsigned char *big = malloc(300000);
	const char *paths[] = { "C:\\Users\\alice\\big.bin" };
	const void *data[] = { big };
	size_t lens[] = { 300000 };
	struct ws_buf packs = WS_BUF_INIT;

	stu_random(big, 300000, 1);
	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	stu_scan(st, "PC-A", paths, data, lens, 1, NULL);
	ws_path_join(&packs, dir, "packs");
	uint64_t after_a = dir_bytes(packs.buf);
	assert_true(after_a > 300000);
	store_close(st);
	tu_assert_ok(stu_open(dir, 0, NULL, NULL, 0, &st, &err), &err);
	stu_scan(st, "PC-B", paths, data, lens, 1, NULL);
	uint64_t after_b = dir_bytes(packs.buf);
	assert_int_equal(after_a, after_b); /* nothing new stored */
	struct ws_buf b = WS_BUF_INIT;
	tu_assert_ok(stu_read(st, "PC-B", paths[0], &b, &err), &err);
	assert_int_equal(b.len, 300000);
	assert_memory_equal(b.buf, big, 300000);
	ws_buf_release(&b);
	store_close(st);
	ws_buf_release(&packs);
	free(big);
}

static void rescan_stores_almost_nothing(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-R");
	unsigned char buf[5000];
	struct store_write_stats ws1, ws2;
	char ids[2][STORE_SCAN_ID_MAX];

	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	for (int round = 0; round < 2; round++) {
		tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
		for (int i = 0; i < 50; i++) {
			char path[64];
			snprintf(path, sizeof(path), "C:\\Users\\a\\f%d.bin", i);
			stu_random(buf, sizeof(buf), (uint64_t)i);
			struct store_file f = stu_file(path, 0);
			tu_assert_ok(store_scan_add_file_mem(w, &f, buf, sizeof(buf), &err), &err);
		}
		store_writer_stats(w, round ? &ws2 : &ws1);
		tu_assert_ok(store_scan_commit(w, ids[round], &err), &err);
	}
	assert_int_equal(ws1.chunks_new, 50);
	assert_int_equal(ws2.chunks, 50);
	assert_int_equal(ws2.chunks_new, 0);
	assert_int_equal(ws2.bytes_written, 0);
	assert_int_equal(ws2.packs_new, 0);
	struct store_scan_list list = STORE_SCAN_LIST_INIT;
	tu_assert_ok(store_list_scans(st, "PC-R", &list, &err), &err);
	assert_int_equal(list.n, 2);
	/* newest (the rescan) first, even within one second */
	assert_string_equal(list.v[0].info.scan_id, ids[1]);
	assert_string_equal(list.v[1].info.scan_id, ids[0]);
	store_scan_list_release(&list);
	store_close(st);
}

/* Content stored in many packs (the dedup table holds every pack's index,
 * grown pack by pack past its first size) is found again under other
 * names: nothing new is stored.  Within the first scan too, each content
 * comes twice: the second is found in the pack the first went to (the
 * table grows and switches packs as they fill), and every reference names
 * the pack its chunk is in (verify), also for files a third scan takes
 * unchanged from the second. */
static void content_in_many_packs_is_found_again(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-DD");
	unsigned char buf[200];
	struct store_write_stats ws1, ws2;
	const int nf = 3000;

	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 64 * 1024, &st, &err), &err);
	for (int round = 0; round < 2; round++) {
		tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
		for (int i = 0; i < nf; i++) {
			char path[64];
			snprintf(path, sizeof(path), "C:\\Users\\a\\%s%d.bin",
				 round ? "copy" : "f", i);
			stu_random(buf, sizeof(buf), (uint64_t)i);
			struct store_file f = stu_file(path, 0);
			tu_assert_ok(store_scan_add_file_mem(w, &f, buf, sizeof(buf), &err), &err);
			if (round == 0 && i >= 7) {
				/* content met seven files earlier, under another name */
				snprintf(path, sizeof(path), "C:\\Users\\a\\g%d.bin", i - 7);
				stu_random(buf, sizeof(buf), (uint64_t)(i - 7));
				f = stu_file(path, 0);
				tu_assert_ok(store_scan_add_file_mem(w, &f, buf, sizeof(buf), &err),
					     &err);
			}
		}
		store_writer_stats(w, round ? &ws2 : &ws1);
		tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	}
	assert_int_equal(ws1.chunks, 2 * nf - 7);
	assert_int_equal(ws1.chunks_new, nf);
	assert_true(ws1.packs_new >= 4);
	assert_int_equal(ws2.files_unchanged, 0);
	assert_int_equal(ws2.chunks, nf);
	assert_int_equal(ws2.chunks_new, 0);
	assert_int_equal(ws2.bytes_written, 0);
	assert_int_equal(ws2.packs_new, 0);
	/* the copies again, unchanged: each taken where the last scan put it,
	 * in whichever of the packs that is */
	struct store_write_stats ws3;
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	for (int i = 0; i < nf; i++) {
		char path[64];
		int taken = 0;

		snprintf(path, sizeof(path), "C:\\Users\\a\\copy%d.bin", i);
		struct store_file f = stu_file(path, 0);
		f.size = sizeof(buf);
		tu_assert_ok(store_scan_add_file_unchanged(w, &f, &taken, &err), &err);
		assert_true(taken);
	}
	store_writer_stats(w, &ws3);
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	assert_int_equal(ws3.files_unchanged, nf);
	assert_int_equal(ws3.chunks_new, 0);
	struct store_verify_stats vs;
	tu_assert_ok(store_verify(st, NULL, &vs, &err), &err);
	assert_int_equal(vs.problems, 0);
	assert_int_equal(vs.scans, 3);
	store_close(st);
}

/* Many small files close a pack at STORE_PACK_BLOBS_MAX blobs, far below
 * its size limit: the open pack's index, held in memory, stays bounded. */
static void small_files_close_packs_by_count(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-SMALL");
	struct store_write_stats ws;
	struct store_verify_stats vs;
	const unsigned n = STORE_PACK_BLOBS_MAX + 1000;

	(void)state;
	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	for (unsigned i = 0; i < n; i++) {
		char text[32], path[64];
		size_t len = (size_t)snprintf(text, sizeof(text), "small %u", i);

		snprintf(path, sizeof(path), "C:\\Users\\a\\s\\%u.txt", i);
		struct store_file f = stu_file(path, 0);
		tu_assert_ok(store_scan_add_file_mem(w, &f, text, len, &err), &err);
	}
	store_writer_stats(w, &ws);
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	assert_int_equal(ws.chunks_new, n);
	assert_true(ws.bytes_written < (1u << 20)); /* well below any size limit */
	assert_int_equal(ws.packs_new, 1);          /* the last closes at the commit */
	struct ws_buf pat = WS_BUF_INIT;
	glob_t g;
	ws_buf_addf(&pat, "%s/packs/*/*.idx", dir);
	assert_int_equal(glob(pat.buf, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 2);
	globfree(&g);
	ws_buf_release(&pat);
	tu_assert_ok(store_verify(st, NULL, &vs, &err), &err);
	assert_int_equal(vs.problems, 0);
	store_close(st);
}

/*
 * Content made so that its hashes share their low bits (what a plain
 * store's unkeyed hash lets anyone do) does not pile up in the dedup
 * table: its slots are keyed, so inserting n such chunks looks at about n
 * slots past the first, not n * n / 2.
 */
static void crafted_hashes_do_not_pile_up(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-FLOOD");
	struct store_write_stats ws;
	const int n = 300;
	unsigned long tries = 0;

	(void)state;
	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	for (int i = 0; i < n; i++) {
		char text[64], path[64];
		unsigned char h[STORE_HASH_LEN];
		uint64_t k;
		size_t len;

		/* the low 10 bits of the first 8 bytes zero: one slot of a
		 * table of up to 1,024 unkeyed (this one has 1,024) */
		do {
			len = (size_t)snprintf(text, sizeof(text), "flood %d %lu", i, tries++);
			store_content_hash(st, text, len, h);
			memcpy(&k, h, sizeof(k));
		} while (k & 1023);
		snprintf(path, sizeof(path), "C:\\Users\\a\\flood%d.txt", i);
		struct store_file f = stu_file(path, 0);
		tu_assert_ok(store_scan_add_file_mem(w, &f, text, len, &err), &err);
	}
	store_writer_stats(w, &ws);
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	assert_int_equal(ws.chunks_new, n);
	/* piled up: 44,850; spread: a few hundred at most */
	if (ws.dd_probes > 4 * (uint64_t)n)
		fail_msg("%llu slots looked at past the first for %d chunks",
			 (unsigned long long)ws.dd_probes, n);
	store_close(st);
}

/* The previous scan a writer takes unchanged files from: the one its
 * caller names (found by the caller's own listing), else the device's
 * newest; a scan of another device is not used. */
static void unchanged_files_come_from_the_scan_named(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-P"), other = stu_info("PC-Q");
	unsigned char buf[3000];
	char ids[2][STORE_SCAN_ID_MAX], other_id[STORE_SCAN_ID_MAX];
	struct store_file f = stu_file("C:\\Users\\a\\f.bin", 0);
	int taken;

	ws_error_clear(&err);
	f.size = sizeof(buf);
	stu_random(buf, sizeof(buf), 7);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	/* scan 0 records f as it is; scan 1 as written later */
	for (int round = 0; round < 2; round++) {
		struct store_file g = f;

		g.written_ft += (uint64_t)round;
		tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
		tu_assert_ok(store_scan_add_file_mem(w, &g, buf, sizeof(buf), &err), &err);
		tu_assert_ok(store_scan_commit(w, ids[round], &err), &err);
	}
	tu_assert_ok(store_scan_begin(st, &other, &w, &err), &err);
	tu_assert_ok(store_scan_add_file_mem(w, &f, buf, sizeof(buf), &err), &err);
	tu_assert_ok(store_scan_commit(w, other_id, &err), &err);

	/* named: scan 0, where f is unchanged */
	snprintf(in.scan_id, sizeof(in.scan_id), "%s", ids[0]);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	tu_assert_ok(store_scan_add_file_unchanged(w, &f, &taken, &err), &err);
	assert_int_equal(taken, 1);
	store_scan_abort(w);
	/* none named: the newest, scan 1, where f was written later */
	in.scan_id[0] = '\0';
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	tu_assert_ok(store_scan_add_file_unchanged(w, &f, &taken, &err), &err);
	assert_int_equal(taken, 0);
	store_scan_abort(w);
	/* another device's scan: not used, nothing fails */
	snprintf(in.scan_id, sizeof(in.scan_id), "%s", other_id);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	tu_assert_ok(store_scan_add_file_unchanged(w, &f, &taken, &err), &err);
	assert_int_equal(taken, 0);
	store_scan_abort(w);
	store_close(st);
}

/* Every record of scan `id`, the value data hashed, as text. */
static void dump_scan(struct store *st, const char *id, struct ws_buf *out)
{
	struct store_catalog *cat;
	struct store_record rec;
	struct ws_error err;

	ws_error_clear(&err);
	tu_assert_ok(store_catalog_open(st, NULL, id, &cat, &err), &err);
	while (store_catalog_next(cat, &rec, &err) == WS_OK && rec.kind != STORE_REC_END) {
		if (rec.kind == STORE_REC_VALUE) {
			uint64_t h = 1469598103934665603ull;

			for (size_t i = 0; i < rec.u.value.len; i++)
				h = (h ^ rec.u.value.data[i]) * 1099511628211ull;
			ws_buf_addf(out, "value %s %zu %llx\n", rec.u.value.name, rec.u.value.len,
				    (unsigned long long)h);
		} else if (rec.kind == STORE_REC_FILE) {
			ws_buf_addf(out, "file %s %llu %llu %zu\n", rec.u.file.path,
				    (unsigned long long)rec.u.file.size,
				    (unsigned long long)rec.u.file.written_ft, rec.u.file.n_chunks);
		}
	}
	assert_int_equal(err.code, WS_OK);
	store_catalog_free(cat);
}

/* A rescan that writes the records of the previous scan takes its catalog
 * frames as they are; a frame whose records changed is written anew, with
 * its new records, and only that one. */
static void frames_reused(const char *pass)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-F");
	/* frames close after six values (five stay under the writer's target) */
	const size_t vlen = STORE_FRAME_TARGET / 5 - 2000;
	unsigned char *data = malloc(vlen);
	struct store_write_stats ws[3];
	char ids[3][STORE_SCAN_ID_MAX];
	struct ws_buf d[3] = { WS_BUF_INIT, WS_BUF_INIT, WS_BUF_INIT };
	unsigned char small[1000];

	ws_error_clear(&err);
	stu_random(small, sizeof(small), 5);
	tu_assert_ok(stu_open(dir, 1, pass, NULL, 0, &st, &err), &err);
	for (int round = 0; round < 3; round++) {
		tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
		for (int i = 0; i < 30; i++) {
			char name[16];
			struct store_value v = { 0, "HKCU\\Software\\T", name, 3, data, vlen, 1 };

			snprintf(name, sizeof(name), "v%02d", i);
			/* the third scan changes value 12 (same length) */
			stu_random(data, vlen, (uint64_t)i + (round == 2 && i == 12 ? 1000 : 0));
			tu_assert_ok(store_scan_add_value(w, &v, &err), &err);
		}
		for (int i = 0; i < 20; i++) {
			char path[64];
			struct store_file f;
			int taken = 0;

			snprintf(path, sizeof(path), "C:\\Users\\a\\f%d.bin", i);
			f = stu_file(path, 0);
			f.size = sizeof(small);
			if (round)
				tu_assert_ok(store_scan_add_file_unchanged(w, &f, &taken, &err), &err);
			if (!taken)
				tu_assert_ok(store_scan_add_file_mem(w, &f, small, sizeof(small), &err),
					     &err);
		}
		store_writer_stats(w, &ws[round]);
		tu_assert_ok(store_scan_commit(w, ids[round], &err), &err);
		dump_scan(st, ids[round], &d[round]);
	}
	assert_int_equal(ws[0].frames_reused, 0);
	/* 30 values: five frames of six values, all reused (the
	 * last frame, the files', is written by the commit, after the stats) */
	assert_int_equal(ws[1].files_unchanged, 20);
	assert_int_equal(ws[1].frames_reused, 5);
	assert_string_equal(d[1].buf, d[0].buf);
	/* value 12 is in the third frame: the others are reused */
	assert_int_equal(ws[2].frames_reused, 4);
	assert_string_not_equal(d[2].buf, d[1].buf);
	{
		/* the new scan holds the changed value, as written */
		struct ws_buf want = WS_BUF_INIT;
		char *line = strstr(d[1].buf, "value v12 ");
		uint64_t h = 1469598103934665603ull;

		assert_non_null(line);
		stu_random(data, vlen, 12 + 1000);
		for (size_t i = 0; i < vlen; i++)
			h = (h ^ data[i]) * 1099511628211ull;
		ws_buf_add(&want, d[1].buf, (size_t)(line - d[1].buf));
		ws_buf_addf(&want, "value v12 %zu %llx\n", vlen, (unsigned long long)h);
		ws_buf_adds(&want, strchr(line, '\n') + 1);
		assert_string_equal(d[2].buf, want.buf);
		ws_buf_release(&want);
	}
	for (int i = 0; i < 3; i++)
		ws_buf_release(&d[i]);
	free(data);
	store_close(st);
}

static void unchanged_rescan_reuses_catalog_frames(void **state)
{
	frames_reused(NULL);
}

/* Encrypted: each frame is decrypted and encrypted again for its new
 * place (its seal names the scan and the frame's number). */
static void unchanged_rescan_reuses_encrypted_frames(void **state)
{
	frames_reused("frames-pass");
}

/* Unchanged files are found whatever order they come in: the previous
 * scan's order (tried first), reversed, or every other one. */
static void unchanged_files_found_in_any_order(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-O");
	unsigned char buf[100];
	const int nf = 200;

	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	for (int round = 0; round < 4; round++) {
		struct store_write_stats ws;

		tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
		for (int k = 0; k < nf; k++) {
			/* 0, 3: in order; 1: reversed; 2: odd ones, then even ones */
			int i = round == 1 ? nf - 1 - k :
				round == 2 ? (k < nf / 2 ? 2 * k + 1 : 2 * (k - nf / 2)) : k;
			char path[64];
			struct store_file f;
			int taken = 0;

			snprintf(path, sizeof(path), "C:\\Users\\a\\f%d.bin", i);
			f = stu_file(path, 0);
			f.size = sizeof(buf);
			stu_random(buf, sizeof(buf), (uint64_t)i);
			if (round)
				tu_assert_ok(store_scan_add_file_unchanged(w, &f, &taken, &err), &err);
			assert_int_equal(taken, round > 0);
			if (!taken)
				tu_assert_ok(store_scan_add_file_mem(w, &f, buf, sizeof(buf), &err), &err);
		}
		store_writer_stats(w, &ws);
		assert_int_equal(ws.files_unchanged, round ? nf : 0);
		tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	}
	store_close(st);
}

static void big_file_streams_in_bounded_memory(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-BIG");
	struct ws_buf src = WS_BUF_INIT;
	const size_t size = 8u << 20; /* 8 MiB = 128 chunks of 64 KiB */
	unsigned char *blk = malloc(1 << 16);

	ws_error_clear(&err);
	ws_path_join(&src, dir, "src.bin");
	int fd = open(src.buf, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	for (size_t off = 0; off < size; off += 1 << 16) {
		stu_random(blk, 1 << 16, off);
		assert_int_equal(write(fd, blk, 1 << 16), 1 << 16);
	}
	lseek(fd, 0, SEEK_SET);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 1 << 20, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	struct store_file f = stu_file("C:\\big.vhdx", STORE_SYSTEM);
	tu_assert_ok(store_scan_add_file(w, &f, fd, &err), &err);
	struct store_write_stats s;
	store_writer_stats(w, &s);
	if (stu_v1())
		assert_int_equal(s.chunks, size >> 16);
	else /* content-defined chunks of 64 KiB on average */
		assert_true(s.chunks > (size >> 16) / 2 && s.chunks < (size >> 16) * 2);
	assert_true(s.packs_new >= 7); /* 1 MiB packs were closed on the way */
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	close(fd);

	/* read back chunk by chunk: callback never sees more than a chunk */
	struct store_catalog *cat;
	struct store_record rec;
	tu_assert_ok(store_catalog_open(st, "PC-BIG", NULL, &cat, &err), &err);
	tu_assert_ok(store_catalog_next(cat, &rec, &err), &err);
	assert_int_equal(rec.kind, STORE_REC_FILE);
	assert_int_equal(rec.u.file.size, size);
	struct ws_buf out = WS_BUF_INIT;
	ws_path_join(&out, dir, "out.bin");
	int ofd = open(out.buf, O_RDWR | O_CREAT | O_TRUNC, 0644);
	tu_assert_ok(store_catalog_read_file(cat, &rec.u.file, ofd, &err), &err);
	lseek(ofd, 0, SEEK_SET);
	for (size_t off = 0; off < size; off += 1 << 16) {
		unsigned char got[1 << 16];
		stu_random(blk, 1 << 16, off);
		assert_int_equal(read(ofd, got, sizeof(got)), sizeof(got));
		assert_memory_equal(got, blk, sizeof(got));
	}
	close(ofd);
	store_catalog_free(cat);
	store_close(st);
	ws_buf_release(&src);
	ws_buf_release(&out);
	free(blk);
}

static void incompressible_chunk_is_stored_raw(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("PC-RAW");
	unsigned char rnd[60000];
	char text[60000];

	stu_random(rnd, sizeof(rnd), 99);
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = "abcabcabd"[i % 9];
	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	struct store_file f1 = stu_file("C:\\r.bin", STORE_SYSTEM);
	tu_assert_ok(store_scan_add_file_mem(w, &f1, rnd, sizeof(rnd), &err), &err);
	struct store_write_stats s;
	store_writer_stats(w, &s);
	assert_int_equal(s.bytes_written, sizeof(rnd) + 1); /* flags byte only */
	struct store_file f2 = stu_file("C:\\t.txt", STORE_SYSTEM);
	tu_assert_ok(store_scan_add_file_mem(w, &f2, text, sizeof(text), &err), &err);
	store_writer_stats(w, &s);
	assert_true(s.bytes_written < sizeof(rnd) + 1 + 2000); /* compressed well */
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	struct ws_buf b = WS_BUF_INIT;
	tu_assert_ok(stu_read(st, "PC-RAW", "C:\\r.bin", &b, &err), &err);
	assert_memory_equal(b.buf, rnd, sizeof(rnd));
	ws_buf_reset(&b);
	tu_assert_ok(stu_read(st, "PC-RAW", "C:\\t.txt", &b, &err), &err);
	assert_memory_equal(b.buf, text, sizeof(text));
	ws_buf_release(&b);
	store_close(st);
}

static void encrypted_round_trip_and_wrong_key(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	const char *paths[] = { "C:\\Users\\alice\\secret.txt" };
	const void *data[] = { "top secret words" };
	size_t lens[] = { 16 };

	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 1, "correct horse", NULL, 0, &st, &err), &err);
	assert_true(store_is_encrypted(st));
	stu_scan(st, "PC-E", paths, data, lens, 1, NULL);
	store_close(st);
	assert_int_equal(stu_open(dir, 0, "wrong horse", NULL, 0, &st, &err), WS_E_KEY);
	assert_null(st);
	assert_int_equal(stu_open(dir, 0, NULL, NULL, 0, &st, &err), WS_E_KEY);
	unsigned char key[32] = { 1 };
	assert_int_equal(stu_open(dir, 0, NULL, key, 0, &st, &err), WS_E_KEY);
	tu_assert_ok(stu_open(dir, 0, "correct horse", NULL, 0, &st, &err), &err);
	struct ws_buf b = WS_BUF_INIT;
	tu_assert_ok(stu_read(st, "PC-E", paths[0], &b, &err), &err);
	assert_string_equal(b.buf, "top secret words");
	ws_buf_release(&b);
	tu_assert_ok(store_verify(st, &(struct store_verify_opts){ .deep = 1 }, NULL, &err), &err);
	store_close(st);
}

static void key_file_store_and_key_file_parsing(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	unsigned char key[32], back[32];
	struct ws_buf kf = WS_BUF_INIT;
	const char *paths[] = { "C:\\x.txt" };
	const void *data[] = { "x" };
	size_t lens[] = { 1 };

	ws_error_clear(&err);
	stu_random(key, 32, 5);
	ws_path_join(&kf, dir, "key.hex");
	char hex[70];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	strcat(hex, "\n");
	tu_write_file(kf.buf, hex, strlen(hex));
	tu_assert_ok(store_key_file_read(kf.buf, back, &err), &err);
	assert_memory_equal(back, key, 32);
	tu_write_file(kf.buf, key, 32);
	tu_assert_ok(store_key_file_read(kf.buf, back, &err), &err);
	assert_memory_equal(back, key, 32);
	tu_write_file(kf.buf, "short", 5);
	assert_int_equal(store_key_file_read(kf.buf, back, &err), WS_E_USAGE);

	ws_buf_addch(&kf, 'S');
	tu_assert_ok(stu_open(kf.buf, 1, NULL, key, 0, &st, &err), &err);
	stu_scan(st, "PC-K", paths, data, lens, 1, NULL);
	store_close(st);
	assert_int_equal(stu_open(kf.buf, 0, "a passphrase", NULL, 0, &st, &err), WS_E_KEY);
	tu_assert_ok(stu_open(kf.buf, 0, NULL, key, 0, &st, &err), &err);
	tu_assert_ok(store_verify(st, NULL, NULL, &err), &err);
	store_close(st);
	/* asking for encryption of an existing plain store is refused */
	char *plain = stu_tmpdir();
	tu_assert_ok(stu_open(plain, 1, NULL, NULL, 0, &st, &err), &err);
	store_close(st);
	assert_int_equal(stu_open(plain, 1, "pw", NULL, 0, &st, &err), WS_E_STORE);
	ws_buf_release(&kf);
}

static int contains(const unsigned char *hay, size_t n, const void *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return 1;
	return 0;
}

static void grep_tree(const char *dir, const char *const *words, size_t nw, int *hits)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct ws_buf p = WS_BUF_INIT;
		struct stat sb;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ws_path_join(&p, dir, de->d_name);
		lstat(p.buf, &sb);
		if (S_ISDIR(sb.st_mode)) {
			grep_tree(p.buf, words, nw, hits);
		} else {
			size_t n;
			unsigned char *c = (unsigned char *)tu_read_file(p.buf, &n);
			for (size_t i = 0; i < nw; i++) {
				struct ws_buf u16 = WS_BUF_INIT;
				ws_utf8_to_utf16le(words[i], strlen(words[i]), &u16);
				if (contains(c, n, words[i], strlen(words[i])) ||
				    contains(c, n, u16.buf, u16.len) ||
				    contains((const unsigned char *)de->d_name, strlen(de->d_name),
					     words[i], strlen(words[i])))
					(*hits)++;
				ws_buf_release(&u16);
			}
			free(c);
		}
		ws_buf_release(&p);
	}
	if (d)
		closedir(d);
}

static void encrypted_store_leaks_no_names(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	struct store_writer *w;
	struct store_scan_info in = stu_info("ZEBRADEVICE");
	const char *words[] = { "ZEBRADEVICE", "alicezebra", "Quokka", "S-1-5-21-777",
				"Wallpaperzebra", "ContentZebraMarker", "Windows 11 Pro" };
	unsigned char val[64];

	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 1, "pw", NULL, 0, &st, &err), &err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	struct store_user u = { 0, "S-1-5-21-777", "PC\\alicezebra", "C:\\Users\\alicezebra", 0, 0 };
	tu_assert_ok(store_scan_add_user(w, &u, &err), &err);
	struct ws_buf u16 = WS_BUF_INIT;
	ws_utf8_to_utf16le("Wallpaperzebra", 14, &u16);
	memcpy(val, u16.buf, u16.len);
	struct store_value v = { 0, "HKCU\\Quokka", "Wallpaperzebra", 1, val, u16.len, 0 };
	tu_assert_ok(store_scan_add_value(w, &v, &err), &err);
	struct store_file f = stu_file("C:\\Users\\alicezebra\\Quokka.txt", 0);
	const char *content = "ContentZebraMarker ContentZebraMarker";
	tu_assert_ok(store_scan_add_file_mem(w, &f, content, strlen(content), &err), &err);
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	store_close(st);
	int hits = 0;
	grep_tree(dir, words, 7, &hits);
	assert_int_equal(hits, 0);
	ws_buf_release(&u16);
}

static void concurrent_creators_converge(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_buf sub = WS_BUF_INIT;
	pid_t pids[4];

	ws_path_join(&sub, dir, "store");
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct store *st;
			struct ws_error err;
			int rc = stu_open(sub.buf, 1, NULL, NULL, 0, &st, &err);
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
	ws_buf_release(&sub);
}

static void newer_major_format_refused(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_buf h = WS_BUF_INIT, p = WS_BUF_INIT;
	struct store *st;
	struct ws_error err;
	unsigned char sum[32];
	char hx[65];

	ws_buf_adds(&h, "winstate-store\nformat 5.0\nstore-id 0123456789abcdef0123456789abcdef\n"
			"chunk-size 65536\nencryption none\n");
	crypto_generichash(sum, 32, (unsigned char *)h.buf, h.len, NULL, 0);
	for (int i = 0; i < 32; i++)
		snprintf(hx + 2 * i, 3, "%02x", sum[i]);
	ws_buf_addf(&h, "checksum %s\n", hx);
	ws_path_join(&p, dir, "winstate-store");
	tu_write_file(p.buf, h.buf, h.len);
	assert_int_equal(stu_open(dir, 0, NULL, NULL, 0, &st, &err), WS_E_STORE);
	assert_non_null(strstr(err.msg, "newer"));
	/* and a folder that is not a store */
	char *empty = stu_tmpdir();
	assert_int_equal(stu_open(empty, 0, NULL, NULL, 0, &st, &err), WS_E_STORE);
	ws_buf_release(&h);
	ws_buf_release(&p);
}

/* The one pack's .idx in store `dir` (exactly one is expected). */
static void only_index(const char *dir, struct ws_buf *out)
{
	struct ws_buf pat = WS_BUF_INIT;
	glob_t g;

	ws_buf_addf(&pat, "%s/packs/*/*.idx", dir);
	assert_int_equal(glob(pat.buf, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	ws_buf_reset(out);
	ws_buf_adds(out, g.gl_pathv[0]);
	globfree(&g);
	ws_buf_release(&pat);
}

/* One scan of device PC-IX holding the file `f`, its content read from
 * `path`: its stats. */
static struct store_write_stats scan_one(struct store *st, const struct store_file *f,
					 const char *path)
{
	struct store_scan_info in = stu_info("PC-IX");
	struct store_write_stats ws;
	struct store_writer *w;
	struct ws_error err;
	int fd = open(path, O_RDONLY);

	ws_error_clear(&err);
	assert_true(fd >= 0);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	tu_assert_ok(store_scan_add_file(w, f, fd, &err), &err);
	close(fd);
	store_writer_stats(w, &ws);
	tu_assert_ok(store_scan_commit(w, NULL, &err), &err);
	return ws;
}

/*
 * An unchanged rescan takes its files where the previous scan put them
 * while that pack is complete, without loading any pack index; the dedup
 * table is loaded for the first file that is read.  A pack whose .idx is
 * gone (being pruned) is not referenced: its files are read again.  With
 * one thread and with two (the previous scan read on a thread).  An empty
 * descriptor tells a file read from one taken unread.
 */
static void unchanged_rescan_reads_no_index(void **state)
{
	char *dir = stu_tmpdir();
	struct ws_error err;
	struct store *st;
	struct store_write_stats ws;
	unsigned char buf[60000]; /* one chunk */
	struct ws_buf sdir = WS_BUF_INIT, src = WS_BUF_INIT, idx = WS_BUF_INIT;
	struct ws_buf got = WS_BUF_INIT;
	struct store_file f = stu_file("C:\\Users\\a\\doc.bin", 0);
	struct store_file g = stu_file("C:\\Users\\a\\copy.bin", 0);

	(void)state;
	ws_error_clear(&err);
	stu_random(buf, sizeof(buf), 31);
	f.size = g.size = sizeof(buf);
	for (int threads = 1; threads <= 2; threads++) {
		ws_buf_reset(&sdir);
		ws_buf_addf(&sdir, "%s/t%d", dir, threads);
		assert_int_equal(mkdir(sdir.buf, 0700), 0);
		tu_assert_ok(stu_open(sdir.buf, 1, NULL, NULL, 0, &st, &err), &err);
		st->threads = (unsigned)threads;
		ws_buf_reset(&src);
		ws_buf_addf(&src, "%s/src.bin", sdir.buf);
		tu_write_file(src.buf, buf, sizeof(buf));

		/* the first scan: one file, one pack */
		scan_one(st, &f, src.buf);
		only_index(sdir.buf, &idx);

		/* unchanged: taken unread, no index */
		ws = scan_one(st, &f, "/dev/null");
		assert_int_equal(ws.files_unchanged, 1);
		assert_int_equal(ws.indexes_read, 0);
		ws_buf_reset(&got);
		tu_assert_ok(stu_read(st, "PC-IX", f.path, &got, &err), &err);
		assert_int_equal(got.len, sizeof(buf));
		assert_memory_equal(got.buf, buf, sizeof(buf));

		/* a file read: the index is loaded, its chunk deduplicated */
		ws = scan_one(st, &g, src.buf);
		assert_int_equal(ws.indexes_read, 1);
		assert_int_equal(ws.chunks_new, 0);
		assert_int_equal(ws.chunks, 1);

		/* the .idx is gone: the pack is not referenced, the file is
		 * read (stored empty) */
		assert_int_equal(unlink(idx.buf), 0);
		ws = scan_one(st, &g, "/dev/null");
		assert_int_equal(ws.files_unchanged, 0);
		ws_buf_reset(&got);
		tu_assert_ok(stu_read(st, "PC-IX", g.path, &got, &err), &err);
		assert_int_equal(got.len, 0);
		store_close(st);
	}
	ws_buf_release(&sdir);
	ws_buf_release(&src);
	ws_buf_release(&idx);
	ws_buf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_record_kind_round_trips),
		cmocka_unit_test(two_devices_share_content_once),
		cmocka_unit_test(rescan_stores_almost_nothing),
		cmocka_unit_test(content_in_many_packs_is_found_again),
		cmocka_unit_test(crafted_hashes_do_not_pile_up),
		cmocka_unit_test(small_files_close_packs_by_count),
		cmocka_unit_test(unchanged_files_come_from_the_scan_named),
		cmocka_unit_test(unchanged_files_found_in_any_order),
		cmocka_unit_test(unchanged_rescan_reuses_catalog_frames),
		cmocka_unit_test(unchanged_rescan_reads_no_index),
		cmocka_unit_test(unchanged_rescan_reuses_encrypted_frames),
		cmocka_unit_test(big_file_streams_in_bounded_memory),
		cmocka_unit_test(incompressible_chunk_is_stored_raw),
		cmocka_unit_test(encrypted_round_trip_and_wrong_key),
		cmocka_unit_test(key_file_store_and_key_file_parsing),
		cmocka_unit_test(encrypted_store_leaks_no_names),
		cmocka_unit_test(concurrent_creators_converge),
		cmocka_unit_test(newer_major_format_refused),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	stu_cleanup();
	return rc;
}
