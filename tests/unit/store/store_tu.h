/* store_tu.h - helpers shared by the store unit tests (not a test itself). */
#ifndef STORE_TU_H
#define STORE_TU_H

#include "tu.h"

#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "store/store.h"
#include "store/store_private.h"
#include "util/ws_fs.h"

#include <sodium.h>

#if defined(__SANITIZE_ADDRESS__)
/* From the sanitizer runtime (sanitizer/allocator_interface.h, whose
 * header is not always installed). */
size_t __sanitizer_get_current_allocated_bytes(void);
#else
#include <malloc.h>
#endif

/* Bytes of heap in use now (the memory tests bound peaks with it). */
static inline size_t stu_heap_in_use(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd;
#endif
}

/* STU_V1 set in the environment: every store is made and written as format
 * 1.1 writers did (ustar packs, zlib), so the same tests prove 1.x stores
 * stay readable, verifiable, extractable and prunable (ctest runs each
 * store test twice). */
static inline int stu_v1(void)
{
	return getenv("STU_V1") != NULL;
}

/* The pack file's extension, and that of a pack being written. */
static inline const char *stu_ext(void)
{
	return stu_v1() ? ".tar" : ".pack";
}

static inline const char *stu_part(void)
{
	return stu_v1() ? ".tar.part" : ".pack.part";
}

/* tu_tmpdir() whose path is freed by stu_cleanup() at the end of main. */
static inline char *stu_tmpdir(void)
{
	return tu_tmpdir_kept();
}

static inline void stu_cleanup(void)
{
	tu_cleanup();
}

/* Open (creating) a store with cheap Argon2id parameters for tests. */
static inline int stu_open(const char *dir, int create, const char *pass,
			   const unsigned char *key, uint64_t pack_size,
			   struct store **st, struct ws_error *err)
{
	struct store_open_opts o;

	memset(&o, 0, sizeof(o));
	o.create = create;
	o.encrypt = create && (pass || key);
	o.passphrase = pass;
	o.key = key;
	o.pack_size = pack_size;
	o.chunk_size = 64 * 1024;
	o.kdf_opslimit = 1;
	o.kdf_memlimit = 8192;
	return store_open_test(dir, &o, NULL, NULL, stu_v1(), st, err);
}

/* Deterministic incompressible bytes. */
static inline void stu_random(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 2654435761u + 88172645463325252ull;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
	}
}

static inline struct store_scan_info stu_info(const char *device)
{
	struct store_scan_info in;

	memset(&in, 0, sizeof(in));
	in.device = device;
	in.computer = device;
	in.os_product = "Windows 11 Pro";
	in.os_build = "22631.4317";
	in.os_edition = "Professional";
	in.os_arch = "amd64";
	in.tool_version = "0.1.0";
	return in;
}

static inline struct store_file stu_file(const char *path, uint32_t user)
{
	struct store_file f;

	memset(&f, 0, sizeof(f));
	f.path = path;
	f.user = user;
	f.attributes = 0x20;
	f.created_ft = 133000000000000000ull;
	f.written_ft = 133100000000000000ull;
	f.accessed_ft = 133200000000000000ull;
	f.rule = 1;
	return f;
}

/* A scan with one user, one rule, a value and the given in-memory files. */
static inline void stu_scan(struct store *st, const char *device,
			    const char *const *paths, const void *const *data,
			    const size_t *lens, size_t n, char *id_out)
{
	struct ws_error err;
	struct store_writer *w;
	struct store_scan_info in = stu_info(device);
	struct store_user u = { 0, "S-1-5-21-1-2-3-1001", "PC\\alice", "C:\\Users\\alice",
				133000000000000000ull, STORE_USER_LOCAL };
	struct store_rule r = { 1, "MigUser.xml:42 component 'Docs'" };
	unsigned char dw[4] = { 1, 0, 0, 0 };
	struct store_value v = { 0, "HKCU\\Control Panel\\Desktop", "ScreenSaveActive", 4, dw, 4, 1 };

	ws_error_clear(&err);
	tu_assert_ok(store_scan_begin(st, &in, &w, &err), &err);
	tu_assert_ok(store_scan_add_user(w, &u, &err), &err);
	tu_assert_ok(store_scan_add_rule(w, &r, &err), &err);
	tu_assert_ok(store_scan_add_value(w, &v, &err), &err);
	for (size_t i = 0; i < n; i++) {
		struct store_file f = stu_file(paths[i], 0);
		tu_assert_ok(store_scan_add_file_mem(w, &f, data[i], lens[i], &err), &err);
	}
	tu_assert_ok(store_scan_commit(w, id_out, &err), &err);
}

static inline int stu_sink(void *ctx, const void *d, size_t n)
{
	ws_buf_add(ctx, d, n);
	return 0;
}

/* Read a file's content of the newest scan of `device` by path. */
static inline int stu_read(struct store *st, const char *device, const char *path,
			   struct ws_buf *out, struct ws_error *err)
{
	struct store_catalog *cat;
	struct store_record rec;
	int rc = store_catalog_open(st, device, NULL, &cat, err), found = 0;

	if (rc)
		return rc;
	while (!(rc = store_catalog_next(cat, &rec, err)) && rec.kind != STORE_REC_END) {
		if (rec.kind == STORE_REC_FILE && !strcmp(rec.u.file.path, path)) {
			found = 1;
			rc = store_catalog_read_file_cb(cat, &rec.u.file, stu_sink, out, err);
			break;
		}
	}
	if (!rc && !found)
		rc = ws_error_set(err, WS_E_USAGE, path, "file not in the scan");
	store_catalog_free(cat);
	return rc;
}

/* Rewrite the header as `format` without its content-hash line (or with
 * `hash_line` after the format line), checksum recomputed (§3). */
static inline void stu_rewrite_header(const char *dir, const char *format, const char *hash_line)
{
	struct ws_buf p = WS_BUF_INIT, in = WS_BUF_INIT, out = WS_BUF_INIT;
	struct ws_error err;
	unsigned char sum[32];
	char hx[65];
	char *line, *next;

	ws_path_join(&p, dir, "winstate-store");
	tu_assert_ok(ws_read_file(p.buf, 4096, &in, &err), &err);
	for (line = in.buf; *line; line = next) {
		next = strchr(line, '\n');
		assert_non_null(next);
		*next++ = '\0';
		if (!strncmp(line, "checksum ", 9))
			break;
		if (!strncmp(line, "format ", 7)) {
			ws_buf_addf(&out, "format %s\n", format);
			if (hash_line)
				ws_buf_addf(&out, "%s\n", hash_line);
		} else if (strncmp(line, "content-hash ", 13)) {
			ws_buf_addf(&out, "%s\n", line);
		}
	}
	crypto_generichash(sum, 32, (unsigned char *)out.buf, out.len, NULL, 0);
	sodium_bin2hex(hx, sizeof(hx), sum, 32);
	ws_buf_addf(&out, "checksum %s\n", hx);
	tu_write_file(p.buf, out.buf, out.len);
	ws_buf_release(&p);
	ws_buf_release(&in);
	ws_buf_release(&out);
}

#endif
