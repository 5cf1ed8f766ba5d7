/*
 * scan_hive.c - hives read by the scanner: a dirty hive is read through a
 * private copy with its transaction logs replayed, never in place.
 */
#include "scan/scan_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg/reg_log.h"
#include "util/ws_fs.h"

static int tmp_dir(struct scan_tmp *t, struct ws_error *err)
{
	const char *parent = t->parent;
	char *tmpl;

	if (t->dir)
		return WS_OK;
	if (!parent || !*parent)
		parent = getenv("TMPDIR");
	if (!parent || !*parent)
		parent = "/tmp";
	tmpl = ws_xasprintf("%s/winstate-scan-XXXXXX", parent);
	if (!mkdtemp(tmpl)) {
		int rc = ws_error_set_errno(err, WS_E_IO, errno, parent,
					    "cannot make a temporary folder for replayed hives");
		free(tmpl);
		return rc;
	}
	t->dir = tmpl;
	return WS_OK;
}

void scan_tmp_release(struct scan_tmp *t)
{
	if (t->dir)
		ws_remove_tree(t->dir, NULL);
	free(t->dir);
	t->dir = NULL;
	t->n = 0;
}

int scan_hive_open(struct scan_tmp *t, const char *path, struct reg_hive **out,
		   int *replayed, struct ws_error *err)
{
	struct reg_hive_info info;
	struct ws_buf l1 = WS_BUF_INIT, l2 = WS_BUF_INIT, copy = WS_BUF_INIT;
	struct reg_log_result lr;
	const char *logs[2];
	int rc;

	*out = NULL;
	*replayed = 0;
	if ((rc = reg_hive_probe(path, &info, err)))
		return rc;
	if (!info.dirty)
		return reg_hive_open(path, 0, out, err);
	if ((rc = reg_log_find(path, &l1, &l2, err)) || (rc = tmp_dir(t, err)))
		goto out;
	if (!l1.len && !l2.len) {
		rc = ws_error_set(err, WS_E_HIVE, path,
				  "hive is dirty (sequence numbers %u/%u) and has no "
				  ".LOG1/.LOG2 beside it: its newest changes are lost",
				  info.seq1, info.seq2);
		goto out;
	}
	logs[0] = l1.len ? l1.buf : NULL;
	logs[1] = l2.len ? l2.buf : NULL;
	ws_buf_addf(&copy, "%s/hive-%u", t->dir, t->n++);
	rc = reg_log_recover(path, logs, 2, copy.buf, &lr, err);
	if (rc) {
		ws_error_prefix(err, "dirty hive %s could not be replayed", path);
		goto out;
	}
	rc = reg_hive_open(copy.buf, 0, out, err);
	if (!rc)
		*replayed = 1;
out:
	ws_buf_release(&l1);
	ws_buf_release(&l2);
	ws_buf_release(&copy);
	return rc;
}
