/*
 * apply_extract.c - the extract mode: the scan's files as a plain tree
 * (store_extract) and each user's settings as <account>.reg.
 */
#include "apply/apply_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ws_utf.h"
#include "util/ws_winname.h"

static void on_extract_problem(void *ctx, const struct store_problem *p)
{
	struct apply *a = ctx;

	a->sysrep->c.files_skipped++;
	apply_act(a, APPLY_FILE_SKIP, "system", p->file ? p->file : p->object, NULL, p->message);
}

/* <account>.reg with what Windows cannot hold in a name made '_', a
 * reserved device name prefixed with '_' and the name cut to 200 bytes. */
static void reg_file_name(const char *acc, struct ws_buf *out)
{
	size_t start = out->len;

	for (const char *s = acc; *s && out->len - start < 200; s++)
		ws_buf_addch(out, strchr("\\/:*?\"<>|", *s) || (unsigned char)*s < 32 ? '_' : *s);
	while (!ws_utf8_valid(out->buf + start, out->len - start))
		ws_buf_setlen(out, out->len - 1); /* a sequence cut at 200 bytes */
	ws_buf_adds(out, ".reg");
	if (ws_winname_check(out->buf + start, out->len - start)) {
		char *name = ws_xstrdup(out->buf + start);

		ws_buf_setlen(out, start);
		ws_buf_addf(out, "_%s", name);
		free(name);
	}
}

/* Files as a plain tree (store_extract), settings as <account>.reg each. */
int aextract_run(struct store *st, struct apply *a, struct ws_error *err)
{
	const struct apply_opts *o = a->o;
	struct store_extract_opts xo;
	struct store_extract_stats xs;
	struct store_record rec;
	struct reg_export *regs = NULL;
	size_t n = 0;
	const struct store_user *us;
	int rc, xrc = WS_OK;

	if ((rc = store_catalog_open(st, o->device, o->scan_id, &a->cat, err)))
		return rc;
	snprintf(a->r->scan_id, sizeof(a->r->scan_id), "%s", store_catalog_info(a->cat)->scan_id);
	us = store_catalog_users(a->cat, &n);
	a->r->users = ws_xcalloc(n + 1, sizeof(*a->r->users));
	a->r->n_users = n + 1;
	a->sysrep = &a->r->users[n];
	a->sysrep->account = ws_xstrdup("system");
	regs = ws_xcalloc(n + 1, sizeof(*regs));
	for (size_t i = 0; i < n; i++) {
		a->r->users[i].account = ws_xstrdup(us[i].account);
		a->r->users[i].sid = ws_xstrdup(us[i].sid);
		a->r->users[i].mode = APPLY_MODE_EXTRACT;
		reg_export_init(&regs[i]);
	}
	reg_export_init(&regs[n]);
	a->sysrep->mode = APPLY_MODE_EXTRACT;
	for (;;) {
		size_t ui = n;
		struct ws_error e;

		if ((rc = store_catalog_next(a->cat, &rec, err)))
			goto out;
		if (rec.kind == STORE_REC_END)
			break;
		if (rec.kind != STORE_REC_VALUE)
			continue;
		for (size_t i = 0; i < n; i++)
			if (us[i].index == rec.u.value.user)
				ui = i;
		{
			struct reg_value rv = { (char *)rec.u.value.name, rec.u.value.type,
						(unsigned char *)rec.u.value.data, rec.u.value.len };
			if (reg_export_add(&regs[ui], rec.u.value.key, &rv, &e)) {
				a->r->users[ui].c.values_skipped++;
				apply_act(a, APPLY_REG_SKIP, a->r->users[ui].account, rec.u.value.key, NULL, e.msg);
			} else {
				a->r->users[ui].c.values_staged++;
			}
		}
	}
	if (!o->dry_run) {
		memset(&xo, 0, sizeof(xo));
		xo.dest = o->target;
		xo.on_problem = on_extract_problem;
		xo.ctx = a;
		xo.progress = o->progress;
		xrc = store_extract(a->cat, &xo, &xs, err);
		if (xrc != WS_OK && xrc != WS_PARTIAL && xrc != WS_E_CORRUPT) {
			rc = xrc;
			goto out;
		}
		a->sysrep->c.files_placed = xs.files;
		a->sysrep->c.dirs_created = xs.dirs;
		a->sysrep->c.bytes = xs.bytes;
		for (size_t i = 0; i <= n; i++) {
			struct ws_buf p = WS_BUF_INIT;
			const char *acc = a->r->users[i].account;

			if (!a->r->users[i].c.values_staged)
				continue;
			ws_buf_addf(&p, "%s/", o->target);
			reg_file_name(*acc ? acc : "user", &p);
			rc = reg_export_write_file(&regs[i], p.buf, REG_EXPORT_UTF16, err);
			if (!rc) {
				a->r->users[i].target = ws_buf_detach(&p, NULL);
				apply_act(a, APPLY_BUNDLE, acc, "settings", a->r->users[i].target, NULL);
			}
			ws_buf_release(&p);
			if (rc)
				goto out;
		}
	}
	rc = xrc == WS_E_CORRUPT ? WS_PARTIAL : xrc;
out:
	for (size_t i = 0; i <= n; i++)
		reg_export_release(&regs[i]);
	free(regs);
	apply_sum_counts(a->r);
	store_catalog_free(a->cat);
	return rc;
}
