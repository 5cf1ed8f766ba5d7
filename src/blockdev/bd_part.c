/*
 * bd_part.c - partition tables (GPT, MBR with extended/logical partitions)
 * through util-linux's libblkid, and each partition's file system.
 *
 * libblkid parses the tables; what it does not do is distrust them against
 * the disk they sit on, so every entry is checked here (inside the disk, no
 * overlap, not empty) before anything above may open it.  A truncated GPT
 * disk makes libblkid see no table at all (the header's last usable LBA lies
 * past the end): the protective MBR left behind says what happened.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <blkid/blkid.h>

#include "blockdev_private.h"
#include "util/ws_buf.h"

const char *bd_scheme_name(enum bd_scheme s)
{
	switch (s) {
	case BD_SCHEME_MBR: return "mbr";
	case BD_SCHEME_GPT: return "gpt";
	default: return "none";
	}
}

const char *bd_fs_name(enum bd_fs fs)
{
	switch (fs) {
	case BD_FS_NTFS: return "ntfs";
	case BD_FS_BITLOCKER: return "bitlocker";
	case BD_FS_OTHER: return "other";
	default: return "none";
	}
}

/* Lowercase copy of a GUID string, "" when it is not 36 characters. */
static void guid_copy(char out[37], const char *s)
{
	size_t i;

	out[0] = '\0';
	if (!s || strlen(s) != 36)
		return;
	for (i = 0; i < 36; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[36] = '\0';
}

/* Keep printable text only: labels come from the disk. */
static void text_copy(char *out, size_t n, const char *s)
{
	size_t i = 0;

	for (; s && *s && i + 1 < n; s++)
		out[i++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	out[i] = '\0';
}

/* Probe the file system in [start, start + size) of fd. */
static void probe_fs(int fd, struct bd_part *p)
{
	blkid_probe pr = blkid_new_probe();
	const char *v;

	if (!pr)
		return;
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)p->start, (blkid_loff_t)p->size) == 0) {
		blkid_probe_enable_partitions(pr, 0);
		blkid_probe_enable_superblocks(pr, 1);
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL |
						  BLKID_SUBLKS_UUID);
		if (blkid_do_safeprobe(pr) == 0) {
			if (blkid_probe_lookup_value(pr, "TYPE", &v, NULL) == 0)
				text_copy(p->fs_type, sizeof(p->fs_type), v);
			if (blkid_probe_lookup_value(pr, "LABEL", &v, NULL) == 0)
				text_copy(p->fs_label, sizeof(p->fs_label), v);
			if (blkid_probe_lookup_value(pr, "UUID", &v, NULL) == 0)
				text_copy(p->fs_uuid, sizeof(p->fs_uuid), v);
		}
	}
	blkid_free_probe(pr);
	if (!strcmp(p->fs_type, "ntfs"))
		p->fs = BD_FS_NTFS;
	else if (!strcmp(p->fs_type, "BitLocker"))
		p->fs = BD_FS_BITLOCKER;
	else if (p->fs_type[0])
		p->fs = BD_FS_OTHER;
}

/* `msg` follows "partition N " in the message. */
static void mark_bad(const struct bd_disk *d, struct bd_part *p, int code, const char *msg)
{
	if (p->bad)
		return;
	p->bad = 1;
	ws_error_set(&p->why, code, d->name, "partition %u %s", p->number, msg);
}

/* The checks libblkid does not make. */
static void check_parts(struct bd_disk *d)
{
	for (size_t i = 0; i < d->nparts; i++) {
		struct bd_part *p = &d->parts[i];
		char msg[256];

		if (!p->size) {
			mark_bad(d, p, WS_E_UNSUPPORTED, "is empty (0 bytes)");
		} else if (p->start >= d->size || p->size > d->size - p->start) {
			snprintf(msg, sizeof(msg),
				 "reaches past the end of the disk (%llu bytes at offset %llu; "
				 "the disk has %llu): a truncated image or a damaged table",
				 (unsigned long long)p->size, (unsigned long long)p->start,
				 (unsigned long long)d->size);
			mark_bad(d, p, WS_E_IO, msg);
		}
	}
	for (size_t i = 0; i < d->nparts; i++) {
		struct bd_part *a = &d->parts[i];

		for (size_t j = i + 1; j < d->nparts; j++) {
			struct bd_part *b = &d->parts[j];
			char msg[64];

			/* logicals live inside the extended container */
			if (a->extended || b->extended || !a->size || !b->size)
				continue;
			if (a->start < b->start + b->size && b->start < a->start + a->size) {
				snprintf(msg, sizeof(msg), "overlaps partition %u", b->number);
				mark_bad(d, a, WS_E_UNSUPPORTED, msg);
				snprintf(msg, sizeof(msg), "overlaps partition %u", a->number);
				mark_bad(d, b, WS_E_UNSUPPORTED, msg);
			}
		}
	}
}

/* A protective MBR (type 0xEE) in sector 0: a GPT disk. */
static int has_protective_mbr(int fd)
{
	unsigned char s[512];

	if (pread(fd, s, sizeof(s), 0) != (ssize_t)sizeof(s) || s[510] != 0x55 || s[511] != 0xAA)
		return 0;
	for (int i = 0; i < 4; i++)
		if (s[446 + 16 * i + 4] == 0xEE)
			return 1;
	return 0;
}

static int read_table(struct bd_disk *d, struct ws_error *err)
{
	blkid_probe pr = blkid_new_probe();
	blkid_partlist ls;
	blkid_parttable tab;
	const char *type;
	int n, rc, st = WS_OK;

	if (!pr)
		return ws_error_set(err, WS_E_INTERNAL, d->name, "libblkid cannot make a probe");
	if (blkid_probe_set_device(pr, d->fd, 0, 0) != 0) {
		blkid_free_probe(pr);
		return ws_error_set(err, WS_E_IO, d->name, "libblkid cannot read it");
	}
	d->sector_size = blkid_probe_get_sectorsize(pr);
	blkid_probe_enable_superblocks(pr, 0);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	rc = blkid_do_safeprobe(pr);
	if (rc < 0) {
		/* -2: ambiguous (two tables); -1: an error */
		st = ws_error_set(err, rc == -2 ? WS_E_UNSUPPORTED : WS_E_IO, d->name,
				  rc == -2 ? "holds conflicting partition tables"
					   : "its partition table cannot be read");
		goto out;
	}
	ls = blkid_probe_get_partitions(pr);
	tab = ls ? blkid_partlist_get_table(ls) : NULL;
	if (!ls || !tab) {
		if (has_protective_mbr(d->fd))
			st = ws_error_set(err, WS_E_IO, d->name,
					  "is a GPT disk (protective MBR) whose GPT headers do not fit "
					  "its %llu bytes: a truncated image or damaged headers",
					  (unsigned long long)d->size);
		goto out;
	}
	type = blkid_parttable_get_type(tab);
	if (type && !strcmp(type, "gpt")) {
		d->scheme = BD_SCHEME_GPT;
		guid_copy(d->disk_guid, blkid_parttable_get_id(tab));
	} else if (type && !strcmp(type, "dos")) {
		unsigned char sig[4];

		d->scheme = BD_SCHEME_MBR;
		if (pread(d->fd, sig, 4, 440) == 4)
			d->mbr_signature = (uint32_t)sig[0] | (uint32_t)sig[1] << 8 |
					   (uint32_t)sig[2] << 16 | (uint32_t)sig[3] << 24;
	} else {
		st = ws_error_set(err, WS_E_UNSUPPORTED, d->name,
				  "has a %s partition table; only GPT and MBR are read",
				  type ? type : "unknown");
		goto out;
	}
	n = blkid_partlist_numof_partitions(ls);
	if (n < 0 || n > BD_PART_MAX) {
		st = ws_error_set(err, WS_E_UNSUPPORTED, d->name,
				  "lists %d partitions (at most %d are read)", n, BD_PART_MAX);
		goto out;
	}
	d->parts = ws_xcalloc((size_t)n + 1, sizeof(*d->parts));
	for (int i = 0; i < n; i++) {
		blkid_partition par = blkid_partlist_get_partition(ls, i);
		struct bd_part *p = &d->parts[d->nparts];
		blkid_loff_t start, size;
		int no;

		if (!par)
			continue;
		no = blkid_partition_get_partno(par);
		start = blkid_partition_get_start(par);
		size = blkid_partition_get_size(par);
		p->number = no > 0 ? (unsigned)no : (unsigned)i + 1;
		/* libblkid counts in 512-byte sectors whatever the disk's */
		if (start < 0 || size < 0 || (uint64_t)start > UINT64_MAX / 512 ||
		    (uint64_t)size > UINT64_MAX / 512 - (uint64_t)start) {
			p->start = p->size = 0;
			d->nparts++;
			mark_bad(d, p, WS_E_UNSUPPORTED,
				 "has an absurd start or size (past 64-bit byte offsets)");
			continue;
		}
		p->start = (uint64_t)start * 512;
		p->size = (uint64_t)size * 512;
		p->extended = blkid_partition_is_extended(par);
		p->logical = blkid_partition_is_logical(par);
		if (d->scheme == BD_SCHEME_MBR) {
			p->mbr_type = (unsigned)blkid_partition_get_type(par) & 0xff;
		} else {
			guid_copy(p->type_guid, blkid_partition_get_type_string(par));
			guid_copy(p->part_guid, blkid_partition_get_uuid(par));
			text_copy(p->name, sizeof(p->name), blkid_partition_get_name(par));
		}
		d->nparts++;
	}
out:
	blkid_free_probe(pr);
	return st;
}

int bd_part_scan_fd(int fd, const char *name, struct bd_disk **out, struct ws_error *err)
{
	struct bd_disk *d;
	off_t end;
	int st;

	*out = NULL;
	d = ws_xcalloc(1, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d->fd < 0) {
		st = ws_error_set_errno(err, WS_E_IO, errno, name, "cannot duplicate its descriptor");
		free(d);
		return st;
	}
	end = lseek(d->fd, 0, SEEK_END);
	if (end < 0) {
		st = ws_error_set_errno(err, WS_E_IO, errno, name, "cannot find its size");
		bd_part_free(d);
		return st;
	}
	d->size = (uint64_t)end;
	st = read_table(d, err);
	if (st) {
		bd_part_free(d);
		return st;
	}
	if (d->scheme == BD_SCHEME_NONE) {
		/* no table: a bare file system covering the disk, if any */
		struct bd_part p = { 0 };

		p.size = d->size;
		probe_fs(d->fd, &p);
		if (p.fs != BD_FS_NONE) {
			d->parts = ws_xmemdup(&p, sizeof(p));
			d->nparts = 1;
		}
	} else {
		check_parts(d);
		for (size_t i = 0; i < d->nparts; i++)
			if (!d->parts[i].bad && !d->parts[i].extended)
				probe_fs(d->fd, &d->parts[i]);
	}
	*out = d;
	return WS_OK;
}

int bd_part_scan(const char *path, struct bd_disk **out, struct ws_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), st;
	struct stat sb;

	*out = NULL;
	if (fd < 0)
		return ws_error_set_errno(err, WS_E_IO, errno, path, "cannot open");
	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		close(fd);
		return ws_error_set(err, WS_E_USAGE, path, "is a folder, not a disk or disk image");
	}
	st = bd_part_scan_fd(fd, path, out, err);
	close(fd);
	return st;
}

void bd_part_free(struct bd_disk *d)
{
	if (!d)
		return;
	if (d->fd >= 0)
		close(d->fd);
	free(d->parts);
	free(d);
}

const struct bd_part *bd_part_find(const struct bd_disk *d, unsigned number)
{
	for (size_t i = 0; i < d->nparts; i++)
		if (d->parts[i].number == number)
			return &d->parts[i];
	return NULL;
}

int bd_part_open(const struct bd_disk *d, const struct bd_part *p,
		 struct bd_source **out, struct ws_error *err)
{
	char name[512];
	int fd;

	*out = NULL;
	if (p->bad) {
		if (err)
			*err = p->why;
		return p->why.code;
	}
	if (p->extended)
		return ws_error_set(err, WS_E_USAGE, d->name,
				    "partition %u is an extended partition (a container of "
				    "logical ones), not a file system", p->number);
	fd = fcntl(d->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return ws_error_set_errno(err, WS_E_IO, errno, d->name, "cannot duplicate its descriptor");
	if (p->number)
		snprintf(name, sizeof(name), "%s (partition %u)", d->name, p->number);
	else
		snprintf(name, sizeof(name), "%s", d->name);
	*out = bd_fd_source(fd, p->start, p->size, name);
	return WS_OK;
}
