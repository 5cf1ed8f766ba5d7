/* fuzz_vol_ntfs.c - the in-process NTFS reader (volume/vol_ntfs.c over
 * libntfs-3g) on hostile file systems: the input is a sparse 4 MiB image,
 * records of (u32 LE offset, u16 LE length, bytes) over zeros (seeds: the
 * non-zero blocks of a small mkntfs image holding a few folders, a file
 * with a named stream, an Interix link and a fake SYSTEM hive:
 * ntfs_seeds.py).  Probe, open as a Windows installation, open as a data
 * volume and walk it all, reading every file, descriptor and stream.
 * libntfs-3g is not ours, but our glue must turn every failure into a
 * documented code without crashing, hanging or leaking. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blockdev/blockdev.h"
#include "fuzz_sparse.h"
#include "volume/volume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);

/* libntfs-3g 2022.10.3's ntfs_device_mount leaks the inode it was opening
 * when a damaged volume fails half-way (not ours to free: the volume is
 * never returned).  Only that root is suppressed, found with the slow
 * unwinder (the library has no frame pointers), so an inode our glue forgot
 * to close is still reported. */
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_suppressions(void)
{
	return "leak:ntfs_device_mount\n";
}

#define IMAGE_SIZE (4u << 20)

struct budget {
	struct vol *v;
	unsigned left;
};

static int visit(const struct vol_entry *e, void *ctx, struct ws_error *err)
{
	struct budget *b = ctx;
	struct ws_buf sd = WS_BUF_INIT;
	struct vol_stream *st;
	size_t n;
	int found;

	(void)err;
	if (!b->left--)
		return VOL_WALK_STOP;
	if (e->type == VOL_ENT_FILE) {
		struct vol_file *f;
		char buf[4096];

		if (vol_file_open(b->v, e->host_path, &f, NULL) == WS_OK) {
			for (int i = 0; i < 64 && vol_file_read(f, buf, sizeof(buf), NULL) > 0; i++)
				;
			vol_file_close(f);
		}
	}
	vol_sd_get(b->v, e->host_path, &sd, &found, NULL);
	ws_buf_release(&sd);
	if (vol_streams(b->v, e->host_path, &st, &n, NULL) == WS_OK) {
		for (size_t i = 0; i < n && i < 4; i++) {
			struct ws_buf x = WS_BUF_INIT;

			vol_stream_read(b->v, e->host_path, st[i].name, &x, NULL);
			ws_buf_release(&x);
		}
		vol_streams_free(st, n);
	}
	return VOL_WALK_CONTINUE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_sparse sp = { data, size, IMAGE_SIZE };
	struct bd_source src = { &fz_sparse_ops, IMAGE_SIZE, "fuzz.img", &sp };
	struct vol_ntfs_facts f;
	struct ws_error err;
	struct vol *v = NULL;

	if (vol_ntfs_probe(&src, &f, &err) != WS_OK || !f.is_ntfs)
		return 0;
	if (vol_open_bd(&src, NULL, &v, &err) == WS_OK)
		vol_close(v);
	if (vol_open_bd_data(&src, 'D', NULL, &v, &err) == WS_OK) {
		struct budget b = { v, 2000 };
		struct ws_buf root = WS_BUF_INIT;
		enum vol_res res;

		if (vol_resolve(v, "D:\\", &root, &res, NULL) == WS_OK)
			vol_walk(v, root.buf, visit, &b, NULL);
		ws_buf_release(&root);
		vol_close(v);
	}
	return 0;
}
