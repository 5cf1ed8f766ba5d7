/* fuzz_bd_part.c - any bytes as a disk (bd_part_scan_fd through a memfd):
 * must never crash, hang or leak; a failure names the disk; every listed
 * partition is either marked bad or lies inside the disk and can be opened
 * and read at both ends. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blockdev/blockdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzzdisk", MFD_CLOEXEC);
	struct bd_disk *d = NULL;
	struct ws_error e;
	char b[16];

	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	ws_error_clear(&e);
	if (bd_part_scan_fd(fd, "fuzz.img", &d, &e) != WS_OK) {
		if (d || strcmp(e.where, "fuzz.img") || !e.msg[0])
			abort();
		close(fd);
		return 0;
	}
	if (d->nparts > BD_PART_MAX || d->size != size)
		abort();
	for (size_t i = 0; i < d->nparts; i++) {
		const struct bd_part *p = &d->parts[i];
		struct bd_source *s = NULL;
		int rc = bd_part_open(d, p, &s, &e);

		if (p->bad || p->extended) {
			if (rc == WS_OK || s)
				abort();
			continue;
		}
		if (rc != WS_OK || p->start >= size || p->size > size - p->start)
			abort();
		if (bd_read_at(s, b, p->size < sizeof(b) ? p->size : sizeof(b), 0, &e) != WS_OK ||
		    bd_read_at(s, b, 1, p->size - 1, &e) != WS_OK)
			abort();
		bd_close(s);
	}
	bd_part_free(d);
	close(fd);
	return 0;
}
