/*
 * vol_hive.c - hives read by the volume (SYSTEM, SOFTWARE, users'
 * NTUSER.DAT): a dirty hive whose .LOG1/.LOG2 can be replayed is read
 * through a private recovered copy under $TMPDIR, never in place; the
 * copies live until vol_close.
 */
#include "volume/vol_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg/reg_log.h"
#include "util/ws_fs.h"

/* The handle's temporary folder, made on first need. */
static int tmp_dir(struct vol *vol, struct ws_error *err)
{
	const char *parent = getenv("TMPDIR");
	char *tmpl;

	if (vol->tmp_dir)
		return WS_OK;
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
 * NULL when there is no usable log. */
static int replay(struct vol *vol, const char *path, char **copy,
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
				  "dirty hive has no .LOG1/.LOG2 beside it");
	if (rc == WS_OK)
		rc = tmp_dir(vol, err);
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
		}
	}
	*copy = out;
	ws_buf_release(&l1);
	ws_buf_release(&l2);
	return rc;
}

int vol_hive_open(struct vol *vol, const char *path, struct reg_hive **out,
		  enum vol_hive_state *state, int *first, struct ws_error *err)
{
	struct reg_hive_info info;
	struct vol_replay *r = NULL;
	struct ws_error e2;
	int rc;

	*out = NULL;
	*state = VOL_HIVE_CLEAN;
	if (first)
		*first = 0;
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

		ws_error_clear(&e2);
		/* any failure (no log, old-format log, damaged log, no room
		 * for the copy) leaves the primary file as the best view */
		replay(vol, path, &copy, &e2);
		WS_ALLOC_GROW(vol->replays, vol->nreplays + 1, vol->areplays);
		r = &vol->replays[vol->nreplays++];
		r->src = ws_xstrdup(path);
		r->copy = copy;
		if (first)
			*first = 1;
	}
	if (r->copy) {
		rc = reg_hive_open(r->copy, 0, out, err);
		if (rc == WS_OK) {
			*state = VOL_HIVE_REPLAYED;
			return WS_OK;
		}
	}
	*state = VOL_HIVE_DIRTY;
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
}
