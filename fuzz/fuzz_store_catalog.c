/* fuzz_store_catalog.c - hostile catalogs: the input is either a whole
 * catalog file (byte 0 even) or, to get past the checksums, the payloads of
 * a head, a body and a meta frame that are sealed here, with a trailer that
 * points at them (byte 0 odd; payloads separated by "\n--\n").  With bit 1
 * of byte 0 also set, the body part is taken as the frame's compressed
 * bytes (zstd in the harness's store, format 4.0) and only sealed: the
 * decompressor sees hostile input a plain store's checksum does not keep
 * out.  The catalog is then listed, opened, iterated, read and extracted;
 * nothing may crash, hang, leak or write outside the extraction folder. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WS_STORE_INTERNAL /* a white-box target: may use the private header */
#include "store/store_private.h"
#include "util/ws_fs.h"

#include "fuzz_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SCAN_ID "20260101T000000Z-0123456789abcdef"

static void build(struct store *st, const uint8_t *d, size_t n, int rawz,
		  struct ws_buf *f)
{
	static const unsigned kinds[] = { FR_HEAD, FR_BODY, FR_META };
	const uint8_t *part[3];
	size_t len[3] = { 0, 0, 0 }, k = 0;
	struct store_trailer tr;
	struct ws_buf t = WS_BUF_INIT;
	uint32_t no = 0;

	part[0] = d;
	part[1] = part[2] = d + n;
	for (size_t i = 0; i + 4 <= n && k < 2; i++) {
		if (!memcmp(d + i, "\n--\n", 4)) {
			len[k] = (size_t)(d + i - part[k]);
			part[++k] = d + i + 4;
			i += 3;
		}
	}
	len[k] = (size_t)(d + n - part[k]);
	memset(&tr, 0, sizeof(tr));
	store_cat_file_header(st, f);
	for (size_t i = 0; i < 3; i++) {
		if (i == 2) {
			tr.meta_offset = f->len;
			tr.meta_first_frame = no;
		}
		if (i == 1 && rawz)
			store_cat_frame_sealed(st, SCAN_ID, no++, kinds[i], part[i], len[i], f);
		else if (len[i] || i == 0)
			store_cat_frame(st, SCAN_ID, no++, kinds[i], part[i], len[i], f);
	}
	uint64_t toff = f->len;
	store_enc_trailer(&t, &tr);
	store_cat_frame(st, SCAN_ID, no, FR_TRAILER, t.buf, t.len, f);
	store_cat_footer(f, toff, no);
	ws_buf_release(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store *st;
	struct store_catalog *cat = NULL;
	struct ws_buf path = WS_BUF_INIT, f = WS_BUF_INIT, x = WS_BUF_INIT;
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct store_record rec;
	char *dir = fz_store_dir("cat");

	if (size < 1 || store_open(dir, NULL, &st, NULL) != WS_OK)
		return 0;
	if (data[0] & 1)
		build(st, data + 1, size - 1, data[0] & 2, &f);
	else
		ws_buf_add(&f, data + 1, size - 1);
	ws_buf_addf(&path, "%s/scans/%s.cat", dir, SCAN_ID);
	ws_write_file_atomic(path.buf, f.buf, f.len, 0, WS_E_IO, NULL);
	store_list_scans(st, NULL, &l, NULL);
	store_scan_list_release(&l);
	if (store_catalog_open(st, NULL, SCAN_ID, &cat, NULL) == WS_OK) {
		for (int i = 0; i < 100000; i++) {
			if (store_catalog_next(cat, &rec, NULL) != WS_OK || rec.kind == STORE_REC_END)
				break;
			if (rec.kind == STORE_REC_FILE)
				store_catalog_read_file(cat, &rec.u.file, -1, NULL);
		}
		struct store_extract_opts xo = { 0 };
		ws_buf_addf(&x, "%s/x", dir);
		xo.dest = x.buf;
		store_extract(cat, &xo, NULL, NULL);
		ws_remove_tree(x.buf, NULL);
		store_catalog_free(cat);
	}
	store_close(st);
	ws_buf_release(&path);
	ws_buf_release(&f);
	ws_buf_release(&x);
	return 0;
}
