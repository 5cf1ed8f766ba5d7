/*
 * apply_regs.c - registry values and keys into the target's hives: the
 * catalog's verdicts (malformed, Windows 10 -> 11, default apps, Start
 * tiles), LoadState value rules, path and SID rewrites, staging into a
 * user's bundle, big-data deferral; hives opened through the held root and
 * committed atomically through the journal.
 */
#include "apply/apply_private.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reg/reg_map.h"
#include "util/ws_utf.h"

/* Malformed settings, Windows 10 -> 11 verdicts, NeverRestore, default apps
 * and Start tiles.  1 when the value is dealt with here (not written). */
static int catalog_value(struct apply *a, struct apply_user *um, const struct store_value *v,
			 const char *obj)
{
	char why[600];
	int never = 0, verdict;
	struct acat_comp *c;

	if (!aw_check_type(v->key, v->name, v->type, v->len, why, sizeof(why))) {
		apply_cnt(a, um)->values_skipped++;
		apply_act(a, APPLY_REG_SKIP, um->src->account, obj, NULL, why);
		ws_logf(a->log, WS_LOG_WARN, obj, "not applied: %s", why);
		return 1;
	}
	c = apply_comp_of(a, v->rule, 0, &never);
	verdict = aw_value(&a->aw, v->key, v->name, c, never, why, sizeof(why));
	if (verdict == AW_CARRY)
		return 0;
	if (verdict == AW_DROP) {
		apply_cnt(a, um)->values_dropped++;
		apply_act(a, APPLY_REG_DROPPED, um->src->account, obj, NULL, why);
		return 1;
	}
	if (verdict == AW_DEFAULT_APP) {
		struct ws_buf id = WS_BUF_INIT, progid = WS_BUF_INIT;

		aw_is_default_app(v->key, v->name, &id);
		if (v->type == REG_SZ || v->type == REG_EXPAND_SZ)
			ws_utf16le_to_utf8(v->data, v->len, &progid, WS_UTF16_STOP_AT_NUL);
		if (progid.len) {
			aw_assoc_add(&um->assoc, id.buf, progid.buf, NULL);
			apply_cnt(a, um)->values_translated++;
			apply_act(a, APPLY_REG_TRANSLATED, um->src->account, obj, "default-apps.xml", why);
		} else {
			apply_cnt(a, um)->values_skipped++;
			apply_act(a, APPLY_REG_SKIP, um->src->account, obj, NULL,
			    "malformed value: a default app choice that is not a ProgId string");
			ws_logf(a->log, WS_LOG_WARN, obj, "not applied: default app choice is "
				"not a ProgId string");
		}
		ws_buf_release(&id);
		ws_buf_release(&progid);
		return 1;
	}
	/* AW_START_TILES */
	{
		size_t before = um->pins.n;

		aw_pins_from_tiles(v->data, v->len, &um->pins);
		um->has_tiles = 1;
		apply_cnt(a, um)->values_translated++;
		snprintf(why + strlen(why), sizeof(why) - strlen(why), ": %zu pins found",
			 um->pins.n - before);
		apply_act(a, APPLY_REG_TRANSLATED, um->src->account, obj, "start-pins.json", why);
	}
	return 1;
}

/* A target hive, read through the held root: hivex is handed the file
 * opened without links as /proc/self/fd/<n>.  Without procfs the host
 * path is read after the same checks (what the journal does too). */
static int open_hive_w(struct apply *a, const char *host, struct reg_hive **slot,
		       struct ws_error *err)
{
	unsigned flags = a->o->dry_run ? 0 : REG_OPEN_WRITE;
	char proc[64];
	int rc, fd;

	if (*slot)
		return WS_OK;
	if ((rc = afiles_open_read(a, host, &fd, err)))
		return rc;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (access(proc, R_OK) == 0)
		rc = reg_hive_open_as(proc, host, flags, slot, err);
	else
		rc = reg_hive_open(host, flags, slot, err);
	close(fd);
	if (!rc)
		reg_hive_set_write_time(*slot, a->started_ft); /* one time for the whole apply */
	return rc;
}

int aregs_hive_host(struct apply *a, enum reg_hive_kind kind, struct ws_buf *host,
		     struct ws_error *err)
{
	enum vol_res res;
	int rc = vol_resolve(a->vol, kind == REG_HIVE_SOFTWARE ?
			     "Windows\\System32\\config\\SOFTWARE" :
			     "Windows\\System32\\config\\SYSTEM", host, &res, err);

	if (!rc && res != VOL_RES_FOUND)
		rc = ws_error_set(err, WS_E_NOT_WINDOWS, host->buf, "hive missing");
	return rc;
}

int aregs_system(struct apply *a, enum reg_hive_kind kind,
		       struct reg_hive **out, struct ws_error *err)
{
	struct ws_buf host = WS_BUF_INIT;
	struct reg_hive **slot = kind == REG_HIVE_SOFTWARE ? &a->software : &a->system;
	int rc = WS_OK;

	if (!*slot) {
		rc = aregs_hive_host(a, kind, &host, err);
		if (!rc)
			rc = open_hive_w(a, host.buf, slot, err);
	}
	*out = *slot;
	ws_buf_release(&host);
	return rc;
}

/* Put a value (v) or key (k) into the user's bundle .reg. */
static int stage_value(struct apply *a, struct apply_user *um, const struct store_value *v,
		       const struct store_key *k, const char *obj, int deferred,
		       const char *why, struct ws_error *err)
{
	struct bundle *b = abundles_of(a, um);
	struct ws_buf data = WS_BUF_INIT, note = WS_BUF_INIT;
	struct reg_value rv;
	struct ws_error e;
	int rc = WS_OK;

	ws_error_clear(&e);
	if (!v) {
		if (reg_export_add(&b->reg, k->path, NULL, &e)) {
			apply_cnt(a, um)->values_skipped++;
			apply_act(a, APPLY_REG_SKIP, um->src->account, obj, NULL, e.msg);
		}
		goto out;
	}
	rv.name = (char *)v->name;
	rv.type = v->type;
	rv.data = (unsigned char *)v->data;
	rv.len = v->len;
	if (asub_value(v->type, v->data, v->len, v->type == REG_EXPAND_SZ ? um->xsubs : um->subs,
		       um->nsubs, &data)) {
		rv.data = (unsigned char *)data.buf;
		rv.len = data.len;
	}
	if (reg_export_add(&b->reg, v->key, &rv, &e)) {
		apply_cnt(a, um)->values_skipped++;
		apply_act(a, APPLY_REG_SKIP, um->src->account, obj, NULL, e.msg);
		goto out;
	}
	b->values++;
	apply_cnt(a, um)->values_staged++;
	if (reg_export_import_growth(&rv)) {
		/* carried all the same: Windows readers end strings with a NUL anyway */
		ws_buf_reset(&note);
		ws_buf_addf(&note, "string data without a NUL terminator: reg import stores it "
			    "with %zu NUL bytes added", reg_export_import_growth(&rv));
		if (why)
			ws_buf_addf(&note, "; %s", why);
		why = note.buf;
		ws_logf(a->log, WS_LOG_INFO, obj, "%s", note.buf);
	}
	if (deferred) {
		apply_cnt(a, um)->values_deferred++;
		apply_act(a, APPLY_REG_DEFERRED, um->src->account, obj, b->win, why);
		ws_logf(a->log, WS_LOG_INFO, obj, "deferred to first sign-in: %s", why);
	} else {
		apply_act(a, APPLY_REG_STAGE, um->src->account, obj, b->win, why);
	}
out:
	(void)err;
	ws_buf_release(&data);
	ws_buf_release(&note);
	return rc;
}

int aregs_apply(struct apply *a, const struct store_value *v,
		       const struct store_key *k, struct ws_error *err)
{
	struct apply_user *um = NULL;
	const char *key = v ? v->key : k->path;
	uint32_t uidx = v ? v->user : k->user;
	const char *uname = "system";
	struct ws_buf inner = WS_BUF_INIT, obj = WS_BUF_INIT, data = WS_BUF_INIT,
		      ccs = WS_BUF_INIT;
	enum reg_hive_kind kind;
	struct reg_hive *h = NULL;
	struct ws_error e;
	reg_node node = 0;
	int rc = WS_OK;
	struct arules_val av;

	arules_val_init(&av);
	ws_error_clear(&e);
	if (v)
		ws_buf_addf(&obj, "%s [%s]", key, v->name);
	else
		ws_buf_adds(&obj, key);
	if (uidx != STORE_SYSTEM) {
		um = apply_user_of(a, uidx);
		if (!um) {
			a->sysrep->c.values_skipped++;
			apply_act(a, APPLY_REG_SKIP, "?", obj.buf, NULL, "catalog names an unknown user");
			goto out;
		}
		uname = um->src->account;
		if (um->left_out)
			goto out;  /* reported once, as the user */
		if (um->mode < 0) {
			apply_cnt(a, um)->values_skipped++;
			apply_act(a, APPLY_REG_SKIP, uname, obj.buf, NULL, "user not on the target");
			goto out;
		}
	}
	if (v && um && (rc = catalog_value(a, um, v, obj.buf)) != 0) {
		rc = WS_OK;
		goto out;
	}
	if (v && a->rules) {
		if (arules_value_pre(a->rules, v, &av, uname, obj.buf, apply_cnt(a, um)))
			goto out;
		v = &av.v;
		key = v->key;
	}
	if (reg_map_path(key, &kind, &inner, &e)) {
		apply_cnt(a, um)->values_skipped++;
		apply_act(a, APPLY_REG_SKIP, uname, obj.buf, NULL, e.msg);
		goto out;
	}
	if ((kind == REG_HIVE_NTUSER || kind == REG_HIVE_USRCLASS) != (um != NULL)) {
		apply_cnt(a, um)->values_skipped++;
		apply_act(a, APPLY_REG_SKIP, uname, obj.buf, NULL,
		    um ? "machine key recorded for a user" : "user key recorded for the machine");
		goto out;
	}
	if (um && um->mode == APPLY_MODE_FIRST_SIGN_IN) {
		if (v && av.set) {
			const unsigned char *cd = v->data;

			arules_value_content(a->rules, &av, &av.v.type, &cd, &av.v.len, NULL,
					     &data, uname, obj.buf, apply_cnt(a, um));
			av.v.data = cd;
			arules_value_merge_staged(a->rules, &av, uname, obj.buf, apply_cnt(a, um));
		}
		rc = stage_value(a, um, v, k, obj.buf, 0, NULL, err);
		goto out;
	}
	if (kind == REG_HIVE_NTUSER) {
		rc = open_hive_w(a, um->dst->ntuser_path, &um->ntuser, err);
		h = um->ntuser;
	} else if (kind == REG_HIVE_USRCLASS) {
		if (!um->dst->usrclass_path) {
			if (um->mode == APPLY_MODE_OFFLINE)
				rc = stage_value(a, um, v, k, obj.buf, 1,
						 "the target profile has no UsrClass.dat yet", err);
			else {
				apply_cnt(a, um)->values_deferred++;
				a->lost++;
				apply_act(a, APPLY_REG_DEFERRED, uname, obj.buf, NULL,
				    "the Default profile has no UsrClass.dat");
			}
			goto out;
		}
		rc = open_hive_w(a, um->dst->usrclass_path, &um->usrclass, err);
		h = um->usrclass;
	} else if (kind == REG_HIVE_SOFTWARE || kind == REG_HIVE_SYSTEM) {
		rc = aregs_system(a, kind, &h, err);
		if (!rc && kind == REG_HIVE_SYSTEM) {
			rc = reg_map_current_control_set(h, inner.buf, &ccs, err);
			ws_buf_reset(&inner);
			ws_buf_add(&inner, ccs.buf, ccs.len);
		}
	} else {
		apply_cnt(a, um)->values_skipped++;
		apply_act(a, APPLY_REG_SKIP, uname, obj.buf, NULL, "hive not written offline");
		goto out;
	}
	if (rc)
		goto out;
	if ((rc = reg_key_lookup(h, reg_root(h), inner.buf, &node, err)))
		goto out;
	if (!v) {
		if (!node) {
			if (!a->o->dry_run &&
			    (rc = reg_key_create(h, reg_root(h), inner.buf, &node, err)))
				goto out;
			apply_cnt(a, um)->keys_created++;
			apply_act(a, APPLY_KEY_CREATE, uname, obj.buf, NULL, NULL);
		}
		goto out;
	}
	{
		const unsigned char *d = v->data;
		size_t len = v->len;
		uint32_t type = v->type;
		struct reg_value cur = { 0 };
		int found = 0, deferred = 0;
		struct reg_value nv;
		const struct asub *subs = um ? um->subs : a->syssubs;
		size_t ns = um ? um->nsubs : a->nsyssubs;

		if (asub_value(v->type, v->data, v->len, subs, ns, &data)) {
			d = (const unsigned char *)data.buf;
			len = data.len;
		}
		if (node && (rc = reg_value_get(h, node, v->name, &cur, &found, err)))
			goto out;
		if (av.set)
			arules_value_content(a->rules, &av, &type, &d, &len, found ? &cur : NULL,
					     &ccs, uname, obj.buf, apply_cnt(a, um));
		if (found && cur.type == type && cur.len == len &&
		    (!len || !memcmp(cur.data, d, len))) {
			reg_value_release(&cur);
			apply_cnt(a, um)->values_same++;
			apply_act(a, APPLY_REG_SAME, uname, obj.buf, NULL, NULL);
			goto out;
		}
		if (found && av.set &&
		    arules_value_merge(a->rules, &av, type, d, len, &cur, uname, obj.buf,
				       apply_cnt(a, um))) {
			reg_value_release(&cur);
			goto out;
		}
		reg_value_release(&cur);
		if (a->o->dry_run) {
			struct reg_hive_info hi;
			int big = 0;

			reg_hive_get_info(h, &hi);
			if (node)
				reg_key_has_big_data(h, node, &big, NULL);
			deferred = hi.minor >= 4 && (len > REG_BIG_DATA_MAX || big);
		} else {
			if (!node && (rc = reg_key_create(h, reg_root(h), inner.buf, &node, err)))
				goto out;
			nv.name = (char *)v->name;
			nv.type = type;
			nv.data = (unsigned char *)d;
			nv.len = len;
			rc = reg_value_set(h, node, &nv, &e);
			if (rc == WS_E_UNSUPPORTED) {
				rc = WS_OK;
				deferred = 1;
			} else if (rc) {
				if (err)
					*err = e;
				goto out;
			}
		}
		if (deferred) {
			const char *why = "big-data value in a format >= 1.4 hive: not writable offline";

			if (um && um->mode == APPLY_MODE_OFFLINE) {
				rc = stage_value(a, um, v, NULL, obj.buf, 1, why, err);
			} else {
				apply_cnt(a, um)->values_deferred++;
				a->lost++;
				apply_act(a, APPLY_REG_DEFERRED, uname, obj.buf, NULL, why);
				ws_logf(a->log, WS_LOG_WARN, obj.buf, "not applied: %s", why);
			}
			goto out;
		}
		apply_cnt(a, um)->values_set++;
		apply_act(a, APPLY_REG_SET, uname, obj.buf, v != &av.v || !strcmp(v->key, av.src_key) ?
						      NULL : v->key,
		    found ? "overwrites the target's value" : NULL);
	}
out:
	ws_buf_release(&inner);
	ws_buf_release(&obj);
	ws_buf_release(&data);
	ws_buf_release(&ccs);
	arules_val_release(&av);
	return rc;
}

/* destinationCleanup's view of the target hives: those of offline and
 * Default users and the machine's (opened for write, committed with the
 * rest, so the journal saves them first). */
int aregs_cleanup_hive(void *ctx, uint32_t user, const char *key, struct reg_hive **h,
		      struct ws_buf *inner, struct ws_error *err)
{
	struct apply *a = ctx;
	struct apply_user *um = user == STORE_SYSTEM ? NULL : apply_user_of(a, user);
	struct ws_buf ccs = WS_BUF_INIT;
	enum reg_hive_kind kind;
	int rc = WS_OK;

	*h = NULL;
	if (reg_map_path(key, &kind, inner, NULL))
		return WS_OK;
	if ((kind == REG_HIVE_NTUSER || kind == REG_HIVE_USRCLASS) != (um != NULL))
		return WS_OK;
	if (um) {
		const char *path = kind == REG_HIVE_NTUSER ? um->dst->ntuser_path :
							     um->dst->usrclass_path;
		struct reg_hive **slot = kind == REG_HIVE_NTUSER ? &um->ntuser : &um->usrclass;

		if (path && !(rc = open_hive_w(a, path, slot, err)))
			*h = *slot;
	} else if (kind == REG_HIVE_SOFTWARE || kind == REG_HIVE_SYSTEM) {
		rc = aregs_system(a, kind, h, err);
		if (!rc && kind == REG_HIVE_SYSTEM) {
			rc = reg_map_current_control_set(*h, inner->buf, &ccs, err);
			ws_buf_reset(inner);
			ws_buf_add(inner, ccs.buf, ccs.len);
		}
	}
	ws_buf_release(&ccs);
	return rc;
}

int aregs_commit(struct apply *a, struct reg_hive *h, struct ws_error *err)
{
	struct ws_buf tmp = WS_BUF_INIT;
	char *dest;
	int rc;

	if (!h || a->o->dry_run)
		return WS_OK;
	dest = ws_xstrdup(reg_hive_path(h));
	aj_temp(a->j, "hive", &tmp);
	/* not flushed here: aj_place's one flush takes the new hive with the
	 * saved copy of the old one */
	rc = reg_hive_commit_unflushed(h, tmp.buf, err);
	if (!rc)
		rc = aj_place(a->j, tmp.buf, dest, AJ_REPLACE_ALL, err);
	unlink(tmp.buf);
	if (!rc)
		a->r->hives_committed++;
	free(dest);
	ws_buf_release(&tmp);
	return rc;
}
