/* fuzz_store_pack.c - hostile packs: the input is a pack index payload
 * (sealed here so it gets past the checksum) and a pack file, separated by
 * the marker "\n--\n"; the pack file is tried as both layouts (1.x .tar,
 * 2.0 .pack), then verified deeply and every blob its index names is read
 * (zlib and zstd blobs).  Nothing may crash, hang or leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WS_STORE_INTERNAL /* a white-box target: may use the private header */
#include "store/store_private.h"
#include "util/ws_fs.h"

#include "fuzz_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PACK_ID "abababababababababababababababab"

/* The run's store, with the packs/ab folder a pack of PACK_ID goes in. */
static char *store_dir(void)
{
	static char *dir;

	if (!dir) {
		struct ws_buf p = WS_BUF_INIT;

		dir = fz_store_dir("pack");
		ws_buf_addf(&p, "%s/packs/ab", dir);
		ws_mkdir_p(p.buf, WS_E_IO, NULL);
		ws_buf_release(&p);
	}
	return dir;
}

/* One layout: index major 1 + <id>.tar, or major 2 + <id>.pack. */
static void one_layout(const char *sdir, int major, const uint8_t *data,
		       size_t size, size_t cut)
{
	struct store *st;
	struct ws_buf idx = WS_BUF_INIT, ad = WS_BUF_INIT, p = WS_BUF_INIT;
	const char *ext = major == 1 ? ".tar" : ".pack";

	if (store_open(sdir, NULL, &st, NULL) != WS_OK)
		return;
	/* index: header + seal(payload) as a writer would make it */
	ws_buf_add(&idx, major == 1 ? "WSIDX\x01\x00\x00" : "WSIDX\x02\x00\x00", 8);
	ws_buf_add(&ad, idx.buf, 8);
	ws_buf_adds(&ad, PACK_ID);
	store_seal(st, st->k_index, ad.buf, ad.len, data, cut, &idx);
	ws_buf_addf(&p, "%s/packs/ab/%s.idx", sdir, PACK_ID);
	ws_write_file_atomic(p.buf, idx.buf, idx.len, 0, WS_E_IO, NULL);
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/packs/ab/%s%s", sdir, PACK_ID, ext);
	ws_write_file_atomic(p.buf, cut + 4 <= size ? data + cut + 4 : (const uint8_t *)"",
			     cut + 4 <= size ? size - cut - 4 : 0, 0, WS_E_IO, NULL);
	struct store_verify_opts vo = { 0 };
	vo.deep = 1;
	store_verify(st, &vo, NULL, NULL);
	struct store_pack *pk = store_pack_find(st, PACK_ID);
	if (pk && store_pack_load(st, pk, NULL) == WS_OK) {
		struct ws_buf out = WS_BUF_INIT;
		for (size_t i = 0; i < pk->n_ix && i < 64; i++) {
			ws_buf_reset(&out);
			store_pack_read_blob(st, pk, &pk->ix[i], &out, NULL);
		}
		ws_buf_release(&out);
	}
	store_close(st);
	unlink(p.buf); /* the other layout must not see this pack file */
	ws_buf_release(&idx);
	ws_buf_release(&ad);
	ws_buf_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cut = size;
	char *sdir = store_dir();

	for (size_t i = 0; i + 4 <= size; i++)
		if (!memcmp(data + i, "\n--\n", 4)) {
			cut = i;
			break;
		}
	one_layout(sdir, 1, data, size, cut);
	one_layout(sdir, 2, data, size, cut);
	return 0;
}
