/*
 * vol_source.c - what --source names: a mounted folder, or a disk, disk
 * image or partition image read in-process.  A disk's partitions are
 * listed (blockdev's libblkid reader), BitLocker ones unlocked with the
 * keys given, NTFS ones probed; the one Windows installation is opened and
 * the data partitions its MountedDevices names become its other drives.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blockdev/blockdev.h"
#include "util/ws_buf.h"
#include "util/ws_log.h"
#include "volume/volume_private.h"

/* ---- MountedDevices ------------------------------------------------------ */

/* A GUID as Windows stores it (Data1-3 little-endian) in canonical text. */
static void guid_text(const unsigned char *g, char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10],
		 g[11], g[12], g[13], g[14], g[15]);
}

static int cmp_mount(const void *a, const void *b)
{
	return ((const struct vol_mount *)a)->letter - ((const struct vol_mount *)b)->letter;
}

int vol_mounted_devices(struct reg_hive *system, struct vol_mount **v, size_t *n,
			struct ws_error *err)
{
	struct reg_value *vals = NULL;
	size_t nvals = 0, alloc = 0;
	reg_node key = 0;
	int rc;

	*v = NULL;
	*n = 0;
	if ((rc = reg_key_lookup(system, reg_root(system), "MountedDevices", &key, err)))
		return rc;
	if (!key)
		return WS_OK;
	if ((rc = reg_key_values(system, key, &vals, &nvals, err)))
		return rc;
	for (size_t i = 0; i < nvals; i++) {
		const char *name = vals[i].name;
		const unsigned char *d = vals[i].data;
		struct vol_mount m;

		/* "\DosDevices\X:" */
		if (strlen(name) != 14 || strncasecmp(name, "\\DosDevices\\", 12) ||
		    !isalpha((unsigned char)name[12]) || name[13] != ':')
			continue;
		memset(&m, 0, sizeof(m));
		m.letter = (char)toupper((unsigned char)name[12]);
		if (vals[i].len == 12) {
			m.mbr_signature = (uint32_t)d[0] | (uint32_t)d[1] << 8 |
					  (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
			for (int b = 7; b >= 0; b--)
				m.offset = m.offset << 8 | d[4 + b];
		} else if (vals[i].len == 24 && !memcmp(d, "DMIO:ID:", 8)) {
			m.gpt = 1;
			guid_text(d + 8, m.part_guid);
		} else {
			continue;   /* removable media, dynamic disks: not a partition here */
		}
		WS_ALLOC_GROW(*v, *n + 1, alloc);
		(*v)[(*n)++] = m;
	}
	reg_values_free(vals, nvals);
	if (*n)
		qsort(*v, *n, sizeof(**v), cmp_mount);
	return WS_OK;
}

/* ---- drives -------------------------------------------------------------- */

struct vol *vol_route(const struct vol *vol, const char *host_path)
{
	size_t len;

	for (int i = 0; i < 26; i++)
		if (vol->drives[i] && vol_rel_of(vol->drives[i], host_path, &len))
			return vol->drives[i];
	return (struct vol *)vol;
}

/*
 * Give `v` (the installation on `win`) the NTFS partitions of the same disk
 * its MountedDevices names as its other drives.  What cannot be attached
 * (locked, damaged) is a warning: its drive's files are then reported as
 * not on the scanned volume, the rest goes on.
 */
static void attach_drives(struct vol *v, struct vol_disk *d, struct vol_disk_part *win,
			  const struct vol_source_opts *o)
{
	struct ws_log *log = o ? o->log : NULL;
	struct vol_mount *m = NULL;
	size_t n = 0;
	struct ws_error e;

	ws_error_clear(&e);
	if (!vol_system_hive(v) || vol_mounted_devices(vol_system_hive(v), &m, &n, &e)) {
		if (e.code)
			ws_logf(log, WS_LOG_WARN, e.where, "drive letters not read: %s", e.msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct vol_disk_part *t = vol_disk_match(d, &m[i]);
		int k = m[i].letter - 'A';

		if (!t || t == win || m[i].letter == vol_get_info(v)->system_drive || v->drives[k])
			continue;
		if (!t->src || !t->ntfs) {
			ws_logf(log, WS_LOG_WARN, d->disk->name,
				"%c: is partition %u, which cannot be read (%s): its files are "
				"not captured", m[i].letter, t->part->number,
				t->status ? t->err.msg : "not NTFS");
			continue;
		}
		ws_error_clear(&e);
		if (vol_open_bd_data(t->src, m[i].letter, o ? o->tmp_dir : NULL, &v->drives[k], &e)) {
			ws_logf(log, WS_LOG_WARN, d->disk->name,
				"%c: is partition %u, which cannot be read: %s: its files are not "
				"captured", m[i].letter, t->part->number, e.msg);
			v->drives[k] = NULL;
			continue;
		}
		ws_logf(log, WS_LOG_INFO, d->disk->name, "%c: is partition %u", m[i].letter,
			t->part->number);
	}
	free(m);
}

/* ---- disks --------------------------------------------------------------- */

static void look_into(struct vol_disk *d, struct vol_disk_part *vp,
		      const struct vol_source_opts *o)
{
	const struct bd_part *p = vp->part;
	struct vol_ntfs_facts facts;
	struct ws_error e;

	ws_error_clear(&vp->err);
	if (p->bad) {
		vp->err = p->why;
		vp->status = p->why.code;
		return;
	}
	if (p->extended || (p->fs != BD_FS_NTFS && p->fs != BD_FS_BITLOCKER))
		return;
	if ((vp->status = bd_part_open(d->disk, p, &vp->raw, &vp->err)))
		return;
	vp->src = vp->raw;
	if (p->fs == BD_FS_BITLOCKER) {
		struct bd_bde_info info;
		struct bd_source *dec = NULL;

		vp->bitlocker = 1;
		memset(&info, 0, sizeof(info));
		vp->status = bd_bde_open(vp->raw, o ? o->keys : NULL, &dec, &info, &vp->err);
		snprintf(vp->method, sizeof(vp->method), "%s",
			 info.method ? bd_bde_method_name(info.method) : "");
		for (int i = 0; i < info.nprotectors && i < 16; i++) {
			snprintf(vp->protectors[i].id, sizeof(vp->protectors[i].id), "%s",
				 info.protectors[i].id);
			char tb[32];

			snprintf(vp->protectors[i].type, sizeof(vp->protectors[i].type), "%s",
				 bd_bde_protector_name(info.protectors[i].type, tb, sizeof(tb)));
			vp->nprotectors = i + 1;
		}
		if (vp->status) {
			vp->src = NULL;
			return;
		}
		vp->unlocked = 1;
		snprintf(vp->unlocked_by, sizeof(vp->unlocked_by), "%s", info.unlocked_by);
		vp->src = dec;
		if (o && o->log)
			ws_logf(o->log, WS_LOG_INFO, dec->name, "BitLocker volume unlocked by %s",
				info.unlocked_by);
	}
	ws_error_clear(&e);
	if (vol_ntfs_probe(vp->src, &facts, &e)) {
		vp->status = e.code;
		vp->err = e;
		vp->ntfs = facts.is_ntfs;
		return;
	}
	vp->ntfs = facts.is_ntfs;
	vp->windows = facts.has_windows;
	vp->hibernated = facts.hibernated;
	vp->dirty = facts.dirty;
	/* the reader's label, else libblkid's (same field of $Volume) */
	snprintf(vp->label, sizeof(vp->label), "%s", facts.label[0] ? facts.label : p->fs_label);
}

int vol_disk_open(const char *path, const struct vol_source_opts *o,
		  struct vol_disk **out, struct ws_error *err)
{
	struct vol_disk *d;
	struct bd_disk *disk;
	int rc;

	*out = NULL;
	if ((rc = bd_part_scan(path, &disk, err)))
		return rc;
	d = ws_xcalloc(1, sizeof(*d));
	d->disk = disk;
	d->n = disk->nparts;
	d->parts = ws_xcalloc(d->n + 1, sizeof(*d->parts));
	for (size_t i = 0; i < d->n; i++) {
		d->parts[i].part = &disk->parts[i];
		look_into(d, &d->parts[i], o);
	}
	*out = d;
	return WS_OK;
}

void vol_disk_close(struct vol_disk *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		if (d->parts[i].src != d->parts[i].raw)
			bd_close(d->parts[i].src);
		bd_close(d->parts[i].raw);
	}
	free(d->parts);
	bd_part_free(d->disk);
	free(d);
}

struct vol_disk_part *vol_disk_match(struct vol_disk *d, const struct vol_mount *m)
{
	const struct bd_disk *disk = d->disk;

	for (size_t i = 0; i < d->n; i++) {
		const struct bd_part *p = d->parts[i].part;

		if (p->bad || p->extended)
			continue;
		if (m->gpt ? (disk->scheme == BD_SCHEME_GPT && !strcmp(p->part_guid, m->part_guid))
			   : (disk->scheme == BD_SCHEME_MBR && disk->mbr_signature == m->mbr_signature &&
			      p->start == m->offset))
			return &d->parts[i];
	}
	return NULL;
}

/* ---- --source ------------------------------------------------------------ */

size_t vol_source_split(const char *source, unsigned *number)
{
	const char *at = strrchr(source, '@');
	char *end;
	unsigned long v;

	*number = 0;
	if (!at || strncmp(at + 1, "part", 4) || !isdigit((unsigned char)at[5]))
		return 0;
	errno = 0;
	v = strtoul(at + 5, &end, 10);
	if (*end || errno || v > BD_PART_MAX)
		return 0;
	*number = (unsigned)v;
	return (size_t)(at - source);
}

/* "partition 2 (ntfs "Data", 20 MiB)" for listings. */
static void describe(struct ws_buf *b, const struct vol_disk_part *vp)
{
	const struct bd_part *p = vp->part;

	ws_buf_addf(b, "partition %u (", p->number);
	if (p->bad)
		ws_buf_adds(b, "bad");
	else if (p->extended)
		ws_buf_adds(b, "extended");
	else if (vp->bitlocker && !vp->unlocked)
		ws_buf_adds(b, "BitLocker, locked");
	else if (vp->ntfs)
		ws_buf_addf(b, "%sNTFS%s%s%s%s", vp->bitlocker ? "BitLocker, " : "",
			    vp->label[0] ? " \"" : "", vp->label, vp->label[0] ? "\"" : "",
			    vp->windows ? ", Windows" : "");
	else
		ws_buf_adds(b, p->fs_type[0] ? p->fs_type : "no file system");
	ws_buf_addf(b, ", %llu MiB)", (unsigned long long)(p->size >> 20));
}

/* Byte sources and disk the handle keeps until vol_close. */
static void close_disk(void *ctx)
{
	vol_disk_close(ctx);
}

static void close_src(void *ctx)
{
	bd_close(ctx);
}

/* The whole of `path` as one file system, for the NTFS reader's own
 * verdict on what libblkid did not recognise (a damaged NTFS). */
static int open_bare(const char *path, const char *tmp, struct vol **out,
		     struct ws_error *err)
{
	struct bd_source *src;
	struct vol *v;
	int rc;

	if ((rc = bd_file_open(path, 0, 0, &src, err)))
		return rc;
	if ((rc = vol_open_bd(src, tmp, &v, err))) {
		bd_close(src);
		return rc;
	}
	v->on_close = close_src;
	v->on_close_ctx = src;
	*out = v;
	return WS_OK;
}

/*
 * The partition of the open disk `d` (read from `path`; `source` as the
 * user wrote it) that holds the installation: partition `number` when
 * given (or the whole of a disk without a table), else the one partition
 * holding Windows.  *bare = 1 (WS_OK, *pick NULL) when the disk has no
 * partition libblkid knows: the caller reads it whole.  Errors as
 * vol_source_open's.
 */
int vol_disk_pick(struct vol_disk *d, const char *path, const char *source, unsigned number,
		  struct vol_disk_part **out, int *bare, struct ws_error *err)
{
	struct vol_disk_part *pick = NULL;
	struct ws_buf list = WS_BUF_INIT;
	size_t nwin = 0;
	int rc = WS_OK;

	*out = NULL;
	*bare = 0;
	if (!number && !d->n) {
		/* no partition, no file system libblkid knows (an NTFS too
		 * damaged for its probe, whose boot sector may even pass for an
		 * empty MBR): the NTFS reader says what it is not */
		*bare = 1;
		return WS_OK;
	}
	if (number || d->disk->scheme == BD_SCHEME_NONE) {
		const struct bd_part *p = bd_part_find(d->disk, number);

		if (!p) {
			for (size_t i = 0; i < d->n; i++) {
				ws_buf_adds(&list, i ? "; " : "");
				describe(&list, &d->parts[i]);
			}
			rc = ws_error_set(err, WS_E_USAGE, path,
					  "has no partition %u (it has: %s)", number,
					  d->n ? list.buf : "none");
			goto out;
		}
		pick = &d->parts[p - d->disk->parts];
		if (pick->status) {
			rc = pick->status;
			if (err)
				*err = pick->err;   /* names the disk and partition */
			goto out;
		}
		if (!pick->ntfs) {
			ws_buf_reset(&list);
			describe(&list, pick);
			rc = ws_error_set(err, WS_E_NOT_WINDOWS, source,
					  "is not a Windows installation: %s is not NTFS",
					  number ? list.buf : "the file system");
			goto out;
		}
	} else {
		struct vol_disk_part *locked = NULL;

		for (size_t i = 0; i < d->n; i++) {
			ws_buf_adds(&list, i ? "; " : "");
			describe(&list, &d->parts[i]);
			if (d->parts[i].windows) {
				if (!nwin++)
					pick = &d->parts[i];
			} else if (d->parts[i].status == WS_E_BDE_LOCKED && !locked) {
				locked = &d->parts[i];
			}
		}
		if (nwin > 1) {
			ws_buf_reset(&list);
			for (size_t i = 0; i < d->n; i++)
				if (d->parts[i].windows) {
					ws_buf_addf(&list, "%s%s@part%u", list.len ? ", " : "",
						    path, d->parts[i].part->number);
					if (d->parts[i].label[0])
						ws_buf_addf(&list, " (\"%s\")", d->parts[i].label);
				}
			rc = ws_error_set(err, WS_E_USAGE, path,
					  "holds %zu Windows installations: %s; name one as "
					  "SOURCE@partN", nwin, list.buf);
			goto out;
		}
		if (!nwin && locked) {
			rc = locked->status;
			if (err) {
				*err = locked->err;
				ws_error_prefix(err, "no Windows installation found on %s; "
						"partition %u is BitLocker-encrypted", path,
						locked->part->number);
			}
			goto out;
		}
		if (!nwin) {
			rc = ws_error_set(err, WS_E_NOT_WINDOWS, path,
					  "holds no Windows installation (partitions: %s)",
					  d->n ? list.buf : "none");
			goto out;
		}
	}
	*out = pick;
out:
	ws_buf_release(&list);
	return rc;
}

/* "DISK@partN": the disk's path into `path`, N into *number (0 when the
 * source has no such suffix or the whole name exists).  WS_E_NOT_WINDOWS
 * when @partN follows a folder or nothing that exists. */
int vol_source_path(const char *source, struct ws_buf *path, unsigned *number,
		    struct ws_error *err)
{
	struct stat st;
	size_t len;

	*number = 0;
	ws_buf_reset(path);
	ws_buf_adds(path, source);
	if (stat(source, &st) != 0 && (len = vol_source_split(source, number))) {
		ws_buf_reset(path);
		ws_buf_add(path, source, len);
		if (stat(path->buf, &st) != 0 || S_ISDIR(st.st_mode))
			return ws_error_set(err, WS_E_NOT_WINDOWS, source,
					    "@partN names a partition of a disk or disk image, "
					    "and %.*s is none", (int)len, source);
	}
	return WS_OK;
}

int vol_source_open(const char *source, const struct vol_source_opts *o,
		    struct vol **out, struct ws_error *err)
{
	const char *tmp = o ? o->tmp_dir : NULL;
	struct vol_disk *d = NULL;
	struct vol_disk_part *pick = NULL;
	struct ws_buf path = WS_BUF_INIT;
	struct vol *v = NULL;
	struct stat st;
	unsigned number = 0;
	int rc, bare = 0;

	*out = NULL;
	if (stat(source, &st) == 0 && S_ISDIR(st.st_mode))
		return vol_open_in(source, tmp, out, err);
	if ((rc = vol_source_path(source, &path, &number, err)))
		goto out;
	if (stat(path.buf, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		ws_buf_release(&path);
		return vol_open_in(source, tmp, out, err);   /* its own message */
	}
	if ((rc = vol_disk_open(path.buf, o, &d, err)))
		goto out;
	if ((rc = vol_disk_pick(d, path.buf, source, number, &pick, &bare, err)))
		goto out;
	if (bare) {
		rc = open_bare(path.buf, tmp, out, err);
		goto out;
	}
	if ((rc = vol_open_bd(pick->src, tmp, &v, err)))
		goto out;
	attach_drives(v, d, pick, o);
	v->on_close = close_disk;
	v->on_close_ctx = d;
	d = NULL;
	*out = v;
out:
	vol_disk_close(d);
	ws_buf_release(&path);
	return rc;
}

/* ---- sizes --------------------------------------------------------------- */

struct tree_size {
	uint64_t bytes, files;
};

static int tree_size_fn(const struct vol_entry *e, void *ctx, struct ws_error *cb_err)
{
	struct tree_size *t = ctx;

	(void)cb_err;
	if (e->type == VOL_ENT_FILE) {
		t->bytes += e->size;
		t->files++;
	}
	return VOL_WALK_CONTINUE;
}

int vol_tree_size(struct vol *vol, const char *host_dir, uint64_t *bytes,
		  uint64_t *files, struct ws_error *err)
{
	struct tree_size t = { 0, 0 };
	int rc = vol_walk(vol, host_dir, tree_size_fn, &t, err);

	*bytes = t.bytes;
	*files = t.files;
	return rc;
}
