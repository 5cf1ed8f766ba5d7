/*
 * vol_hive.c - every source hive is opened here (SYSTEM, SOFTWARE, SAM,
 * users' NTUSER.DAT and UsrClass.dat): a dirty hive whose .LOG1/.LOG2 can
 * be replayed is read through a private recovered copy, never in place; the
 * copies live until vol_close, and why a replay failed is kept with them.
 */
#include "volume/volume_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reg/reg_log.h"
#include "util/ws_fs.h"

/* The handle's temporary folder, made on first need. */
int vol_tmp_dir(struct vol *vol, struct ws_error *err)
{
	const char *parent = vol->tmp_parent;
	char *tmpl;

	if (vol->tmp_dir)
		return WS_OK;
	if (!parent || !*parent)
		parent = getenv("TMPDIR");
	if (!parent || !*parent)
		parent = "/tmp";
	tmpl = ws_xasprintf("%s/winstate-vol-XXXXXX", parent);
	if (!mkdtemp(tmpl)) {
		int rc = ws_error_set_errno(err, WS_E_IO, errno, parent,
					    "cannot make a temporary folder for replayed hives");
		free(tmpl);
		return rc;
	}
	vol->tmp_dir = tmpl;
	return WS_OK;
}

/* Replay `path`'s logs into a new copy; *copy gets its path (malloc'd) or
 * NULL, and err why, when that is impossible. */
static int replay(struct vol *vol, const char *path,
		  const struct reg_hive_info *info, char **copy,
		  struct ws_error *err)
{
	struct ws_buf l1 = WS_BUF_INIT, l2 = WS_BUF_INIT;
	struct reg_log_result lr;
	const char *logs[2];
	char *out = NULL;
	int rc;

	*copy = NULL;
	rc = reg_log_find(path, &l1, &l2, err);
	if (rc == WS_OK && !l1.len && !l2.len)
		rc = ws_error_set(err, WS_E_HIVE, path,
				  "hive is dirty (sequence numbers %u/%u) and has no "
				  ".LOG1/.LOG2 beside it: its newest changes are lost",
				  info->seq1, info->seq2);
	if (rc == WS_OK)
		rc = vol_tmp_dir(vol, err);
	if (rc == WS_OK) {
		logs[0] = l1.len ? l1.buf : NULL;
		logs[1] = l2.len ? l2.buf : NULL;
		out = ws_xasprintf("%s/hive-%zu", vol->tmp_dir, vol->nreplays);
		rc = reg_log_recover(path, logs, 2, out, &lr, err);
		if (rc != WS_OK) {
			/* a half-written copy must not be read or left behind */
			ws_remove_tree(out, NULL);
			free(out);
			out = NULL;
			ws_error_prefix(err, "dirty hive %s could not be replayed", path);
		}
	}
	*copy = out;
	ws_buf_release(&l1);
	ws_buf_release(&l2);
	return rc;
}

/* An error about the private copy `local` names the volume's file. */
static void name_source(struct ws_error *e, const char *local, const char *path)
{
	if (e && local != path && !strcmp(e->where, local))
		snprintf(e->where, sizeof(e->where), "%s", path);
}

int vol_hive_local(struct vol *vol, const char *path, const char **local,
		   struct ws_error *err)
{
	if (!vol->nt) {
		*local = path;
		return WS_OK;
	}
	return vol_nt_local_copy(vol, path, 1, local, err);
}

static int hive_open_local(struct vol *vol, const char *path, unsigned flags,
			   struct reg_hive **out, struct vol_hive_how *how,
			   struct ws_error *err);

int vol_hive_open(struct vol *vol, const char *path, unsigned flags,
		  struct reg_hive **out, struct vol_hive_how *how,
		  struct ws_error *err)
{
	struct vol_hive_how none;
	const char *local;
	int rc;

	if (!how)
		how = &none;
	memset(how, 0, sizeof(*how));
	*out = NULL;
	/* an image's hive (and its logs) is read from a private copy */
	rc = vol_hive_local(vol, path, &local, err);
	if (rc != WS_OK)
		return rc;
	rc = hive_open_local(vol, local, flags, out, how, err);
	name_source(err, local, path);
	name_source(&how->why, local, path);
	return rc;
}

static int hive_open_local(struct vol *vol, const char *path, unsigned flags,
			   struct reg_hive **out, struct vol_hive_how *how,
			   struct ws_error *err)
{
	struct reg_hive_info info;
	struct vol_replay *r = NULL;
	int rc;

	memset(how, 0, sizeof(*how));
	ws_error_clear(&how->why);
	*out = NULL;
	rc = reg_hive_probe(path, &info, err);
	if (rc != WS_OK)
		return rc;
	if (!info.dirty)
		return reg_hive_open(path, 0, out, err);
	for (size_t i = 0; i < vol->nreplays; i++)
		if (!strcmp(vol->replays[i].src, path))
			r = &vol->replays[i];
	if (!r) {
		char *copy;
		struct ws_error why;

		/* any failure (no log, old-format log, damaged log, no room
		 * for the copy) is kept: strict readers refuse the hive, the
		 * others read its primary file, the best view left */
		ws_error_clear(&why);
		replay(vol, path, &info, &copy, &why);
		WS_ALLOC_GROW(vol->replays, vol->nreplays + 1, vol->areplays);
		r = &vol->replays[vol->nreplays++];
		r->src = ws_xstrdup(path);
		r->copy = copy;
		r->why = why;
		how->first = 1;
	}
	how->why = r->why;
	if (r->copy) {
		rc = reg_hive_open(r->copy, 0, out, &how->why);
		if (rc == WS_OK) {
			how->state = VOL_HIVE_REPLAYED;
			ws_error_clear(&how->why);
			return WS_OK;
		}
		r->why = how->why;
	}
	how->state = VOL_HIVE_DIRTY;
	if (flags & VOL_HIVE_STRICT) {
		if (err)
			*err = how->why;
		return how->why.code ? how->why.code : WS_E_HIVE;
	}
	return reg_hive_open(path, REG_OPEN_ALLOW_DIRTY, out, err);
}

void vol_hive_cleanup(struct vol *vol)
{
	for (size_t i = 0; i < vol->nreplays; i++) {
		free(vol->replays[i].src);
		free(vol->replays[i].copy);
	}
	free(vol->replays);
	vol->replays = NULL;
	vol->nreplays = vol->areplays = 0;
	if (vol->tmp_dir)
		ws_remove_tree(vol->tmp_dir, NULL);
	free(vol->tmp_dir);
	vol->tmp_dir = NULL;
	free(vol->tmp_parent);
	vol->tmp_parent = NULL;
}
