/* fuzz_reg_hive.c - any bytes as a hive file: probe it, open it read-only
 * (plain, and with REG_OPEN_ALLOW_DIRTY / REG_OPEN_UNSAFE as the first
 * input byte says; bit 0 reseals the base block checksum so mutations reach
 * hivex), then walk every key with its values, converting every string and
 * looking each key and value up again.  Nothing may crash, hang or leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_reg_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1;
static char path[64];

static int on_key(void *ctx, struct reg_hive *h, reg_node key, const char *kpath,
		  unsigned depth, const struct reg_value *vals, size_t n, struct ws_error *err)
{
	struct ws_buf b = WS_BUF_INIT;
	uint64_t ft;
	reg_node parent, again;
	int yes, found;

	(*(size_t *)ctx)++;
	reg_key_mtime(h, key, &ft, NULL);
	reg_key_parent(h, key, &parent, NULL);
	reg_key_has_big_data(h, key, &yes, NULL);
	if (reg_key_path(h, key, &b, NULL) == WS_OK && depth < 8)
		reg_key_lookup(h, reg_root(h), b.buf, &again, NULL);
	for (size_t i = 0; i < n; i++) {
		struct reg_value v;

		ws_buf_reset(&b);
		reg_value_to_utf8(&vals[i], &b, NULL);
		reg_type_name(vals[i].type);
		if (i < 16 && reg_value_get(h, key, vals[i].name, &v, &found, NULL) == WS_OK)
			reg_value_release(&v);
	}
	ws_buf_release(&b);
	return WS_OK;
}

static void walk(unsigned flags)
{
	struct reg_hive *h;
	struct reg_hive_info info;
	struct ws_error e;
	size_t keys = 0;

	if (reg_hive_open(path, flags, &h, &e) != WS_OK)
		return;
	reg_hive_get_info(h, &info);
	reg_walk(h, reg_root(h), 0, REG_WALK_VALUES, on_key, &keys, &e);
	reg_hive_close(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reg_hive_info info;
	struct ws_error e;
	unsigned flags;
	unsigned char *copy;

	if (fd < 0) {
		fd = memfd_create("fuzz-hive", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (!size)
		return 0;
	flags = data[0];
	data++;
	size--;
	copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	if ((flags & FZ_HIVE_SEAL) && size >= REG_BASE_BLOCK_SIZE)
		reg_base_seal(copy);
	if (ftruncate(fd, 0) || pwrite(fd, copy, size, 0) != (ssize_t)size)
		abort();
	free(copy);
	reg_hive_probe(path, &info, &e);
	walk(0);
	if (flags & FZ_HIVE_DIRTY)
		walk(REG_OPEN_ALLOW_DIRTY);
	if (flags & FZ_HIVE_UNSAFE)
		walk(REG_OPEN_UNSAFE | REG_OPEN_ALLOW_DIRTY);
	return 0;
}
