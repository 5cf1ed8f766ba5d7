/*
 * apply_files.c - files into the target profiles: USMT collision handling
 * (same content, rename to name(N).ext, --conflict, merge rules), staged
 * users' files into their bundle, times and attributes, every write
 * through a temporary file in the journal; reads of the target through
 * the journal's root and its folder cache.
 */
#include "apply/apply_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "rules/rules.h"
#include "util/ws_fs.h"
#include "util/ws_utf.h"
#include "util/ws_winname.h"

/*
 * Open the target file `host` for reading through the held root: no link
 * on the way or at the name is followed, so a link swapped in after the
 * preflight cannot make apply read a file outside the target (#11).
 * WS_E_TARGET for a link or something else than a plain file.
 */
int afiles_open_read(struct apply *a, const char *host, int *fd, struct ws_error *err)
{
	struct ws_buf leaf = WS_BUF_INIT;
	/* the journal's root: its folders held open and listed once (a dry
	 * run has none: the plain root, one walk per read) */
	struct ws_root *root = a->j ? aj_root(a->j) : a->rroot;
	const char *rel = ws_root_rel(root, host);
	struct stat st;
	int pfd, rc = WS_OK, e;

	*fd = -1;
	if (!rel)
		return ws_error_set(err, WS_E_INTERNAL, host, "path outside the target");
	if ((rc = ws_root_parent(root, rel, &pfd, &leaf, NULL, err)))
		goto out;
	/* O_NONBLOCK: a FIFO planted there must not hang the open */
	*fd = openat(pfd, leaf.buf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	e = errno;
	close(pfd);
	if (*fd < 0)
		rc = e == ELOOP ?
		     ws_error_set(err, WS_E_TARGET, host, "a link where apply reads the "
				  "target: nothing is read through it") :
		     ws_error_set_errno(err, WS_E_IO, e, host, "cannot read");
	else if (fstat(*fd, &st) || !S_ISREG(st.st_mode))
		rc = ws_error_set(err, WS_E_TARGET, host, "not a plain file where apply "
				  "reads the target");
	if (rc && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
out:
	ws_buf_release(&leaf);
	return rc;
}

struct cmp_ctx {
	int fd;
	int differ;
};

static int cmp_chunk(void *ctx, const void *data, size_t len)
{
	struct cmp_ctx *c = ctx;
	char buf[65536];
	const char *p = data;

	while (len && !c->differ) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		ssize_t got = read(c->fd, buf, n);

		if (got != (ssize_t)n || memcmp(buf, p, n)) {
			c->differ = 1;
			break;
		}
		p += n;
		len -= n;
	}
	return c->differ ? 1 : 0;
}

/* 1 if the host file has exactly the stored content. */
static int same_content(struct apply *a, const struct store_file *f,
			const char *host)
{
	struct stat st;
	struct cmp_ctx c = { -1, 0 };
	int rc;

	/* through the held root: a link on the way is "not equal", and the
	 * write that follows refuses it */
	if (afiles_open_read(a, host, &c.fd, NULL))
		return 0;
	if (fstat(c.fd, &st) ||
	    (uint64_t)st.st_size != (a->file_data ? a->file_data->len : f->size)) {
		close(c.fd);
		return 0;
	}
	/* a Mozilla profile list with rewritten paths: that content */
	rc = a->file_data ? cmp_chunk(&c, a->file_data->buf, a->file_data->len)
			  : store_catalog_read_file_cb(a->cat, f, cmp_chunk, &c, NULL);
	close(c.fd);
	return rc == WS_OK && !c.differ;
}

/* name.ext -> name(N).ext in the same folder. */
static void renamed(const char *host, unsigned n, struct ws_buf *out)
{
	const char *slash = strrchr(host, '/');
	const char *base = slash ? slash + 1 : host;
	const char *dot = strrchr(base, '.');

	if (!dot || dot == base)
		dot = base + strlen(base);
	ws_buf_add(out, host, (size_t)(dot - host));
	ws_buf_addf(out, "(%u)", n);
	ws_buf_adds(out, dot);
}

/* The access and modification times futimens sets for f. */
static void file_times(const struct store_file *f, struct timespec ts[2])
{
	int64_t ns;

	ns = ws_filetime_to_unix_ns(f->accessed_ft ? f->accessed_ft : f->written_ft);
	ts[0].tv_sec = ns / 1000000000;
	ts[0].tv_nsec = ns % 1000000000;
	ns = ws_filetime_to_unix_ns(f->written_ft);
	ts[1].tv_sec = ns / 1000000000;
	ts[1].tv_nsec = ns % 1000000000;
}

static void set_times_attrs(struct apply *a, int fd, const struct store_file *f)
{
	struct timespec ts[2];
	unsigned char be[32];
	uint64_t t[4];
	int set = 0;

	file_times(f, ts);
	/* ntfs-3g exposes Windows times and attributes; other file systems
	 * refuse these names, which is fine.  The four Windows times hold
	 * what futimens would set: one call where they are taken (on FUSE
	 * each call is a round trip). */
	t[0] = f->created_ft ? f->created_ft : f->written_ft;
	t[1] = f->written_ft;
	t[2] = f->accessed_ft ? f->accessed_ft : f->written_ft;
	t[3] = f->written_ft;
	for (int i = 0; i < 4; i++)
		for (int b = 0; b < 8; b++)
			be[i * 8 + b] = (unsigned char)(t[i] >> (56 - 8 * b));
	if (!a->no_ntfs_xattrs && f->written_ft) {
		if (fsetxattr(fd, "system.ntfs_times_be", be, 32, 0) == 0)
			set = 1;
		else if (errno == ENOTSUP || errno == EOPNOTSUPP)
			a->no_ntfs_xattrs = 1;
	}
	if (f->written_ft && !set)
		futimens(fd, ts);
	if (a->no_ntfs_xattrs)
		return;
	if (f->attributes) {
		uint32_t at = f->attributes & (0x1u | 0x2u | 0x4u | 0x20u); /* RO, hidden, system, archive */
		unsigned char ab[4] = { (unsigned char)(at >> 24), (unsigned char)(at >> 16),
					(unsigned char)(at >> 8), (unsigned char)at };
		fsetxattr(fd, "system.ntfs_attrib_be", ab, 4, 0);
	}
}

static int write_all(int fd, const struct ws_buf *data, const char *dest, struct ws_error *err)
{
	size_t off = 0;

	while (off < data->len) {
		ssize_t w = write(fd, data->buf + off, data->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ws_error_set_errno(err, WS_E_IO, w < 0 ? errno : EIO, dest,
						  "cannot write file");
		off += (size_t)w;
	}
	return WS_OK;
}

static int append_chunk(void *ctx, const void *data, size_t len)
{
	ws_buf_add(ctx, data, len);
	return 0;
}

/* Write the stored content (or a->file_data) to `dest` through a temporary file in the
 * journal; `replace` when dest exists (saved in the journal first).  A small
 * new file on a target where no Windows times or attributes are set (they
 * would need the file) is handed to the journal in memory: it is written
 * under its name by the batch (aj_place_data). */
static int write_file(struct apply *a, struct apply_user *um, const struct store_file *f,
		      const char *dest, int replace, struct ws_error *err)
{
	struct ws_buf tmp = WS_BUF_INIT;
	int fd, rc;
	uint64_t size = a->file_data ? a->file_data->len : f->size;

	if (!replace && a->no_ntfs_xattrs && aj_data_room(a->j, size)) {
		struct timespec ts[2];
		size_t start;
		struct ws_buf *buf = aj_data_begin(a->j, &start);

		if (a->file_data) {
			ws_buf_add(buf, a->file_data->buf, a->file_data->len);
			rc = WS_OK;
		} else {
			rc = store_catalog_read_file_cb(a->cat, f, append_chunk, buf, err);
		}
		if (rc) {
			aj_data_abort(a->j, start);
			goto out;
		}
		file_times(f, ts);
		if ((rc = aj_place_data(a->j, start, f->written_ft ? ts : NULL, dest, err)))
			goto out;
		apply_cnt(a, um)->bytes += size;
		a->bytes_done += f->size;
		goto out;
	}
	if ((rc = aj_temp_open(a->j, "file", !replace, &tmp, &fd, err)))
		goto out;
	/* not flushed here: the journal's batch flushes it (aj_commit); the
	 * descriptor goes to the journal, which keeps it until the file is
	 * in place */
	rc = a->file_data ? write_all(fd, a->file_data, dest, err)
			  : store_catalog_read_file(a->cat, f, fd, err);
	if (!rc) {
		set_times_attrs(a, fd, f);
		rc = aj_place_fd(a->j, tmp.buf, &fd, dest, replace | AJ_OWN_TEMP, err);
	}
	if (fd >= 0 && close(fd) != 0 && !rc)
		rc = ws_error_set_errno(err, WS_E_IO, errno, dest, "cannot write file");
	if (rc && tmp.len)
		unlink(tmp.buf);
	if (!rc) {
		apply_cnt(a, um)->bytes += a->file_data ? a->file_data->len : f->size;
		a->bytes_done += f->size;
	}
out:
	ws_buf_release(&tmp);
	return rc;
}

void afiles_would_mkdirs(struct apply *a, const char *host)
{
	struct ws_buf p = WS_BUF_INIT;

	ws_buf_adds(&p, host);
	/* up from the folder until one exists or is already counted */
	while (p.len > 1 && !ws_path_exists(p.buf)) {
		char *slash;

		if (!ws_strset_add(&a->dry_dirs, p.buf))
			break;
		slash = strrchr(p.buf, '/');
		if (!slash)
			break;
		ws_buf_setlen(&p, (size_t)(slash - p.buf));
	}
	ws_buf_release(&p);
}

static void parent_of(const char *host, struct ws_buf *out)
{
	const char *slash = strrchr(host, '/');

	ws_buf_add(out, host, (size_t)(slash - host));
}

/* Profile-relative part of a user's file path, or NULL. */
const char *afiles_profile_rel(const char *path, const char *profile)
{
	size_t pl = strlen(profile);

	if (ws_name_ncasecmp(path, strnlen(path, pl), profile, pl) || path[pl] != '\\' ||
	    !path[pl + 1])
		return NULL;
	return path + pl + 1;
}

/* tpath on a drive the target lacks -> the same folders on its system drive */
static void reroute_in_place(struct ws_buf *tpath, char sys)
{
	struct ws_buf moved = WS_BUF_INIT;

	if (!afiles_other_drive(tpath->buf, sys))
		return;
	afiles_reroute(tpath->buf, sys, &moved);
	ws_buf_reset(tpath);
	ws_buf_adds(tpath, moved.buf);
	ws_buf_release(&moved);
}

/* The safety pass checked every planned path; a LoadState rule may still
 * move a file (locationModify) onto what file entries may not touch or to a
 * name Windows cannot hold: such a file is skipped (1), reported. */
static int off_limits(struct apply *a, struct apply_user *um, const struct store_file *f,
		      const char *tpath)
{
	const char *why = ws_winpath_check(tpath, NULL);

	if (!why && !(why = apf_refusal(a->pf, tpath)))
		return 0;
	apply_cnt(a, um)->files_skipped++;
	apply_act(a, APPLY_FILE_SKIP, um ? um->src->account : "system", f->path, tpath, why);
	ws_logf(a->log, WS_LOG_WARN, f->path, "not applied: a rule moves it to %s (%s)", tpath,
		why);
	return 1;
}

/*
 * A staged user's file: into the bundle's files\ tree at its place in the
 * profile Windows will make, after the LoadState file rules (NeverRestore,
 * locationModify on that future path); a merge rule the script can carry
 * out is recorded in merge.txt.
 */
static int stage_file(struct apply *a, struct apply_user *um, const struct store_file *f,
		      const struct amoz_notes *notes, struct ws_error *err)
{
	const char *uname = um->src->account, *rel = afiles_profile_rel(f->path, um->src->profile_path);
	struct bundle *b;
	struct ws_buf host = WS_BUF_INIT, parent = WS_BUF_INIT, win = WS_BUF_INIT,
		      tpath = WS_BUF_INIT, mwhy = WS_BUF_INIT;
	int rc = WS_OK, policy;

	if (!rel) {
		apply_cnt(a, um)->files_skipped++;
		apply_act(a, APPLY_FILE_SKIP, uname, f->path, NULL,
		    "file of a user lies outside that user's profile");
		goto out;
	}
	/* the path in the future profile (source profile -> dst_win, SIDs ...) */
	asub_string(f->path, um->subs, um->nsubs, &tpath);
	if (a->rules && arules_file_pre(a->rules, f, &tpath, uname, apply_cnt(a, um)))
		goto out;
	/* a locationModify onto a drive the target lacks: its system drive */
	reroute_in_place(&tpath, a->drive_to[0]);
	if (off_limits(a, um, f, tpath.buf))
		goto out;
	rel = afiles_profile_rel(tpath.buf, um->dst_win);
	if (!rel) {
		apply_cnt(a, um)->files_skipped++;
		apply_act(a, APPLY_FILE_SKIP, uname, f->path, tpath.buf,
		    "moved outside the user's profile: a first-sign-in bundle restores only "
		    "into the profile");
		goto out;
	}
	for (const unsigned char *c = (const unsigned char *)rel; *c; c++) {
		if (*c < 32 || *c == 127) {
			/* files.txt is one line per file */
			apply_cnt(a, um)->files_skipped++;
			apply_act(a, APPLY_FILE_SKIP, uname, f->path, NULL,
			    "the name holds control characters");
			goto out;
		}
	}
	b = abundles_of(a, um);
	if (f->flags & STORE_FILE_DIR) {
		ws_buf_addf(&b->manifest, "-\t%s\r\n", rel);
		goto out;
	}
	/* files\<n>: short names, so that no bundle path is longer than the
	 * bundle's folder plus 16 characters, whatever the destination */
	ws_buf_addf(&host, "%s/files/%llu", b->host, (unsigned long long)b->files + 1);
	ws_buf_addf(&win, "%s\\files\\%llu", b->win, (unsigned long long)b->files + 1);
	parent_of(host.buf, &parent);
	if (!a->o->dry_run) {
		if ((rc = aj_mkdirs(a->j, parent.buf, err)))
			goto out;
		if (!same_content(a, f, host.buf) &&
		    (rc = write_file(a, um, f, host.buf, ws_path_exists(host.buf), err)))
			goto out;
	} else {
		afiles_would_mkdirs(a, parent.buf);
		apply_cnt(a, um)->bytes += f->size;
	}
	policy = a->rules ? arules_file_merge_staged(a->rules, f, tpath.buf, &mwhy, uname,
						     apply_cnt(a, um)) : ARULES_STAGE_DEFAULT;
	if (policy != ARULES_STAGE_DEFAULT)
		ws_buf_addf(&b->merge, "%s\t%s\r\n",
			    policy == ARULES_STAGE_KEEP ? "keep" : "overwrite", rel);
	b->files++;
	ws_buf_addf(&b->manifest, "%llu\t%s\r\n", (unsigned long long)b->files, rel);
	apply_cnt(a, um)->files_staged++;
	apply_act(a, APPLY_FILE_STAGE, uname, f->path, win.buf, mwhy.len ? mwhy.buf : NULL);
	if (a->file_data)
		amoz_report(a, um, f, tpath.buf, notes);
out:
	ws_buf_release(&host);
	ws_buf_release(&parent);
	ws_buf_release(&win);
	ws_buf_release(&tpath);
	ws_buf_release(&mwhy);
	return rc;
}

char afiles_other_drive(const char *path, char system_drive)
{
	char d;

	if (!path || !path[0] || path[1] != ':' || (path[2] != '\\' && path[2] != '\0'))
		return 0;
	d = (char)(path[0] & ~0x20);
	if (d < 'A' || d > 'Z' || d == (char)(system_drive & ~0x20))
		return 0;
	return d;
}

void afiles_reroute(const char *path, char drive, struct ws_buf *out)
{
	ws_buf_reset(out);
	ws_buf_addf(out, "%c:", drive);
	ws_buf_adds(out, path + 2);
	if (out->len == 2)
		ws_buf_addch(out, '\\');
}

/* Windows path on the target of a file record; 0 when not placeable
 * (reason set).  A system file of another drive of the scan lands on the
 * target's system drive, in the same folders (USMT's rule for a drive the
 * destination lacks; docs/apply.md "Files of other drives"). */
int afiles_target_path(struct apply *a, struct apply_user *um, const struct store_file *f,
		       struct ws_buf *tpath, const char **why)
{
	struct ws_buf moved = WS_BUF_INIT;
	const char *path = f->path;

	if (um && !afiles_profile_rel(f->path, um->src->profile_path)) {
		*why = "file of a user lies outside that user's profile";
		return 0;
	}
	if (!um && afiles_other_drive(f->path, a->drive_from[0])) {
		afiles_reroute(f->path, a->drive_from[0], &moved);
		path = moved.buf;
	}
	ws_buf_reset(tpath);
	asub_string(path, um ? um->subs : a->syssubs, um ? um->nsubs : a->nsyssubs, tpath);
	ws_buf_release(&moved);
	return 1;
}

int afiles_apply(struct apply *a, const struct store_file *f,
		      struct ws_error *err)
{
	struct apply_user *um = NULL;
	const char *uname = "system", *why = NULL, *group = NULL;
	struct ws_buf tpath = WS_BUF_INIT, host = WS_BUF_INIT, alt = WS_BUF_INIT,
		      parent = WS_BUF_INIT, mwhy = WS_BUF_INIT, moz = WS_BUF_INIT;
	struct amoz_notes notes = { 0 };
	enum vol_res res;
	int rc = WS_OK, conflict;
	uint32_t n, *last;
	char *place = NULL;
	char planned[1024];      /* the path the safety pass checked */
	size_t planned_len;

	if (f->user == STORE_SYSTEM)
		awifi_check(a->cat, f, a->r, a->log);
	if (f->user != STORE_SYSTEM) {
		um = apply_user_of(a, f->user);
		uname = um ? um->src->account : "?";
		if (um && um->left_out)
			goto out;  /* reported once, as the user */
		if (!um || um->mode < 0) {
			apply_cnt(a, um)->files_skipped++;
			apply_act(a, APPLY_FILE_SKIP, uname, f->path, NULL, "user not on the target");
			goto out;
		}
	}
	if (!(f->flags & STORE_FILE_DIR)) {
		char dwhy[600];
		int never = 0;
		struct acat_comp *c = apply_comp_of(a, f->rule, 1, &never);

		if (aw_file(&a->aw, f->path, c, dwhy, sizeof(dwhy)) == AW_DROP) {
			apply_cnt(a, um)->files_dropped++;
			apply_act(a, APPLY_FILE_DROPPED, uname, f->path, NULL, dwhy);
			goto out;
		}
		group = c ? c->name : NULL;
	}
	if (f->flags & STORE_FILE_NOT_CAPTURED) {
		apply_cnt(a, um)->files_skipped++;
		apply_act(a, APPLY_FILE_SKIP, uname, f->path, NULL,
		    "cloud-only file: its content is in the cloud, not in the store");
		goto out;
	}
	/* a Mozilla profile list naming a moved profile: placed rewritten */
	if (amoz_prepare(a, um, f, group, &moz, &notes))
		a->file_data = &moz;
	if (um && um->mode == APPLY_MODE_FIRST_SIGN_IN) {
		rc = stage_file(a, um, f, &notes, err);
		goto out;
	}
	if (!afiles_target_path(a, um, f, &tpath, &why)) {
		apply_cnt(a, um)->files_skipped++;
		apply_act(a, APPLY_FILE_SKIP, uname, f->path, NULL, why);
		goto out;
	}
	planned_len = tpath.len;
	if (planned_len < sizeof(planned))
		memcpy(planned, tpath.buf, planned_len + 1);
	if (a->rules && arules_file_pre(a->rules, f, &tpath, uname, apply_cnt(a, um)))
		goto out;
	/* a locationModify onto a drive the target lacks: its system drive */
	reroute_in_place(&tpath, a->drive_to[0]);
	/* the planned path passed the safety pass: only a path a rule moved
	 * is checked again */
	if ((planned_len >= sizeof(planned) || tpath.len != planned_len ||
	     memcmp(tpath.buf, planned, planned_len)) && off_limits(a, um, f, tpath.buf))
		goto out;
	/* through the journal's folder cache; a file of the open batch
	 * found there is placed for real first */
	if ((rc = aj_resolve(a->j, a->vol, tpath.buf, &host, &res, err)) ||
	    (res == VOL_RES_FOUND && (rc = aj_settle(a->j, host.buf, err))))
		goto out;
	if (res == VOL_RES_LINK_IN_PATH || res == VOL_RES_OTHER_DRIVE) {
		/* The safety pass refused these; kept for robustness. */
		apply_cnt(a, um)->files_skipped++;
		apply_act(a, APPLY_FILE_SKIP, uname, f->path, tpath.buf,
		    "the target path passes through a link or leaves the volume");
		goto out;
	}
	if (f->flags & STORE_FILE_DIR) {
		if (res == VOL_RES_MISSING) {
			if (!a->o->dry_run && (rc = aj_mkdirs(a->j, host.buf, err)))
				goto out;
			if (a->o->dry_run)
				afiles_would_mkdirs(a, host.buf);
			apply_cnt(a, um)->dirs_created++;
			apply_act(a, APPLY_DIR_CREATE, uname, f->path, tpath.buf, NULL);
		}
		goto out;
	}
	parent_of(host.buf, &parent);
	if (res == VOL_RES_MISSING) {
		if (!a->o->dry_run) {
			/* a file destinationCleanup deleted is saved in the journal:
			 * replacing it keeps undo restoring, not removing, it */
			if ((rc = aj_mkdirs(a->j, parent.buf, err)) ||
			    (rc = write_file(a, um, f, host.buf,
					     arules_cleaned(a->rules, host.buf), err)))
				goto out;
		} else {
			afiles_would_mkdirs(a, parent.buf);
			apply_cnt(a, um)->bytes += f->size;
		}
		apply_cnt(a, um)->files_placed++;
		apply_act(a, APPLY_FILE_PLACE, uname, f->path, tpath.buf, NULL);
		if (a->file_data)
			amoz_report(a, um, f, tpath.buf, &notes);
		goto out;
	}
	/* The target already has something at that path. */
	if (same_content(a, f, host.buf)) {
		apply_cnt(a, um)->files_same++;
		apply_act(a, APPLY_FILE_SAME, uname, f->path, tpath.buf, NULL);
		goto out;
	}
	/* a merge rule decides first; --conflict covers the other collisions */
	conflict = a->o->conflict;
	if (a->rules)
		arules_file_merge(a->rules, f, tpath.buf, host.buf, &conflict, &place, &mwhy,
				  uname, apply_cnt(a, um));
	if (conflict == APPLY_CONFLICT_DESTINATION) {
		apply_cnt(a, um)->files_kept++;
		apply_act(a, APPLY_FILE_KEEP, uname, f->path, tpath.buf, mwhy.len ? mwhy.buf :
		    "the target has a different file there (conflicts keep the destination's)");
		goto out;
	}
	if (conflict == APPLY_CONFLICT_SOURCE) {
		struct stat st;

		if (lstat(host.buf, &st) || !S_ISREG(st.st_mode)) {
			apply_cnt(a, um)->files_skipped++;
			apply_act(a, APPLY_FILE_SKIP, uname, f->path, tpath.buf,
			    "the target has a folder or link there");
			goto out;
		}
		if (!a->o->dry_run && (rc = write_file(a, um, f, host.buf, 1, err)))
			goto out;
		if (a->o->dry_run)
			apply_cnt(a, um)->bytes += f->size;
		apply_cnt(a, um)->files_overwritten++;
		apply_act(a, APPLY_FILE_OVERWRITE, uname, f->path, tpath.buf, mwhy.len ? mwhy.buf : NULL);
		if (a->file_data)
			amoz_report(a, um, f, tpath.buf, &notes);
		goto out;
	}
	/* names up to *last were looked at for an earlier entry: taken */
	last = ws_strset_at(&a->renames, host.buf, NULL);
	for (n = *last + 1; n < 10000; n++) {
		ws_buf_reset(&alt);
		if (place) {
			/* FindFilePlaceByPattern: the rule's name, same folder */
			const char *slash = strrchr(host.buf, '/');

			ws_buf_add(&alt, host.buf, (size_t)(slash - host.buf) + 1);
			if (rule_ls_place_name(place, slash + 1, n, &alt, NULL) < 0) {
				ws_buf_reset(&alt);
				renamed(host.buf, n, &alt);
			}
		} else {
			renamed(host.buf, n, &alt);
		}
		if ((rc = aj_settle(a->j, alt.buf, err)))
			goto out;
		if (!ws_path_exists(alt.buf))
			break;
		if (same_content(a, f, alt.buf)) {
			/* Already placed under that name by an earlier apply. */
			*last = n;
			apply_cnt(a, um)->files_same++;
			apply_act(a, APPLY_FILE_SAME, uname, f->path, alt.buf, NULL);
			goto out;
		}
	}
	if (n >= 10000) {
		*last = n;
		apply_cnt(a, um)->files_skipped++;
		apply_act(a, APPLY_FILE_SKIP, uname, f->path, tpath.buf,
		    "the target has a different file there and no free name for a copy "
		    "(name(1) to name(9999) are taken)");
		goto out;
	}
	*last = n;
	if (!a->o->dry_run && (rc = write_file(a, um, f, alt.buf, 0, err)))
		goto out;
	if (a->o->dry_run)
		apply_cnt(a, um)->bytes += f->size;
	apply_cnt(a, um)->files_renamed++;
	{
		const char *base = strrchr(alt.buf, '/');
		char msg[600];

		snprintf(msg, sizeof(msg), "the target has a different file there: placed as %s%s%s",
			 base ? base + 1 : alt.buf, place ? "; " : "", place ? mwhy.buf : "");
		apply_act(a, APPLY_FILE_RENAME, uname, f->path, tpath.buf, msg);
		if (a->file_data)
			amoz_report(a, um, f, tpath.buf, &notes);
	}
out:
	a->file_data = NULL;
	ws_buf_release(&moz);
	amoz_notes_release(&notes);
	ws_buf_release(&tpath);
	ws_buf_release(&host);
	ws_buf_release(&alt);
	ws_buf_release(&parent);
	ws_buf_release(&mwhy);
	free(place);
	return rc;
}

/* Write `data` at the target's Windows path `win` (replacing, journaled). */
int afiles_write_target(struct apply *a, const char *win, const struct ws_buf *data,
			struct ws_error *err)
{
	struct ws_buf host = WS_BUF_INIT, parent = WS_BUF_INIT, tmp = WS_BUF_INIT;
	enum vol_res res;
	int rc;

	if ((rc = aj_resolve(a->j, a->vol, win, &host, &res, err)) ||
	    (res == VOL_RES_FOUND && (rc = aj_settle(a->j, host.buf, err))))
		goto out;
	if (res == VOL_RES_LINK_IN_PATH || res == VOL_RES_OTHER_DRIVE) {
		rc = ws_error_set(err, WS_E_UNSUPPORTED, win, "passes through a link on the target");
		goto out;
	}
	parent_of(host.buf, &parent);
	if ((rc = aj_mkdirs(a->j, parent.buf, err)))
		goto out;
	aj_temp(a->j, "gen", &tmp);
	if ((rc = ws_write_file_new(tmp.buf, win, data->buf, data->len, WS_E_IO, err)))
		goto out;
	rc = aj_place(a->j, tmp.buf, host.buf, res == VOL_RES_FOUND, err);
	unlink(tmp.buf);
out:
	ws_buf_release(&host);
	ws_buf_release(&parent);
	ws_buf_release(&tmp);
	return rc;
}
