/*
 * rule_vprobe.c - struct rule_probe over an offline Windows installation
 * (volume.h) and one user's hives: what conditions, detection, content
 * extraction and filters need to look at the source, for the scanner and
 * for `winstate rules explain` / `genconfig`.
 */
#include "rules_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reg/reg_map.h"
#include "util/ws_utf.h"
#include "volume/volume.h"

struct rule_vprobe {
	struct rule_probe probe;
	struct vol *vol;
	const struct vol_profile *prof;
	struct reg_hive *lent[REG_HIVE_SECURITY + 1];
	struct reg_hive *owned[REG_HIVE_SECURITY + 1];
	int failed[REG_HIVE_SECURITY + 1];
	int released;  /* rule_vprobe_release_hives: open no hive again */
	struct rule_vprobe_stats stats;
};

/* Host path of a Windows path that exists; 0 found, -1 not. */
static int host_of(struct rule_vprobe *vp, const char *path, struct ws_buf *host)
{
	enum vol_res res;

	ws_buf_reset(host);
	if (!*path || vol_resolve(vp->vol, path, host, &res, NULL) || res != VOL_RES_FOUND)
		return -1;
	return 0;
}

static int vp_file_exists(void *ctx, const char *path)
{
	struct rule_vprobe *vp = ctx;
	struct ws_buf host = WS_BUF_INIT;
	int rc;

	vp->stats.exists++;
	rc = host_of(vp, path, &host) == 0;
	ws_buf_release(&host);
	return rc;
}

static int vp_file_read(void *ctx, const char *path, size_t max, struct ws_buf *data)
{
	struct rule_vprobe *vp = ctx;
	struct ws_buf host = WS_BUF_INIT;
	struct vol_file *f;
	struct ws_error e;
	int rc = 0;

	vp->stats.reads++;
	if (host_of(vp, path, &host) < 0)
		goto out;
	/* through the volume: a folder or an NTFS image */
	if (vol_file_open(vp->vol, host.buf, &f, &e) != WS_OK) {
		rc = e.sys_errno == ENOENT || e.sys_errno == ELOOP ||
		     e.sys_errno == EINVAL ? 0 : -1;
		goto out;
	}
	{
		size_t got = 0;
		long long n;

		if (vol_file_size(f) < max)
			max = (size_t)vol_file_size(f) + 1;
		ws_buf_grow(data, max);
		while (got < max &&
		       (n = vol_file_read(f, data->buf + data->len + got, max - got,
					  NULL)) > 0)
			got += (size_t)n;
		ws_buf_setlen(data, data->len + got);
	}
	vol_file_close(f);
	rc = 1;
out:
	ws_buf_release(&host);
	return rc;
}

static int vp_file_stat(void *ctx, const char *path, struct rule_file_stat *st)
{
	struct rule_vprobe *vp = ctx;
	struct ws_buf host = WS_BUF_INIT;
	struct vol_entry_hold hold = VOL_ENTRY_HOLD_INIT;
	struct vol_entry e;
	int rc = 0;

	vp->stats.stats++;
	if (host_of(vp, path, &host) == 0 && vol_stat(vp->vol, host.buf, &e, &hold, NULL) == 0 &&
	    e.type != VOL_ENT_ERROR) {
		memset(st, 0, sizeof(*st));
		st->size = e.size;
		st->attributes = e.attributes;
		st->creation_time = e.creation_time;
		st->write_time = e.write_time;
		st->access_time = e.access_time;
		rc = 1;
	}
	vol_entry_hold_release(&hold);
	ws_buf_release(&host);
	return rc;
}

static struct reg_hive *hive_of(struct rule_vprobe *vp, enum reg_hive_kind kind)
{
	const char *path = NULL;

	if (vp->lent[kind])
		return vp->lent[kind];
	if (kind == REG_HIVE_SOFTWARE)
		return vol_software_hive(vp->vol);
	if (kind == REG_HIVE_SYSTEM)
		return vol_system_hive(vp->vol);
	if (vp->owned[kind] || vp->failed[kind] || vp->released)
		return vp->owned[kind];
	if (vp->prof && kind == REG_HIVE_NTUSER)
		path = vp->prof->ntuser_path;
	else if (vp->prof && kind == REG_HIVE_USRCLASS)
		path = vp->prof->usrclass_path;
	/* as the scanner reads it: a dirty hive through its replayed logs,
	 * one whose logs cannot be replayed not at all (never its stale
	 * primary, which the scan does not capture either) */
	if (!path || vol_hive_open(vp->vol, path, VOL_HIVE_STRICT, &vp->owned[kind], NULL, NULL))
		vp->failed[kind] = 1;
	return vp->owned[kind];
}

/* Hive and key of a live registry path; 0 with *node = 0 when absent. */
static int key_of(struct rule_vprobe *vp, const char *key, struct reg_hive **h,
		  reg_node *node)
{
	struct ws_buf inner = WS_BUF_INIT, ccs = WS_BUF_INIT;
	enum reg_hive_kind kind;
	int rc = -1;

	*h = NULL;
	*node = 0;
	vp->stats.reg++;
	if (reg_map_path(key, &kind, &inner, NULL) ||
	    (kind != REG_HIVE_NTUSER && kind != REG_HIVE_USRCLASS && kind != REG_HIVE_SOFTWARE &&
	     kind != REG_HIVE_SYSTEM)) {
		rc = 0; /* HKU, SAM ...: nothing offline */
		goto out;
	}
	*h = hive_of(vp, kind);
	if (!*h) {
		rc = 0;
		goto out;
	}
	if (kind == REG_HIVE_SYSTEM) {
		if (reg_map_current_control_set(*h, inner.buf, &ccs, NULL))
			goto out;
		ws_buf_reset(&inner);
		ws_buf_add(&inner, ccs.buf, ccs.len);
	}
	rc = reg_key_lookup(*h, reg_root(*h), inner.buf, node, NULL) ? -1 : 0;
out:
	ws_buf_release(&inner);
	ws_buf_release(&ccs);
	return rc;
}

static int vp_reg_exists(void *ctx, const char *key, const char *value)
{
	struct reg_hive *h;
	reg_node node;
	struct reg_value v;
	int found = 0;

	if (key_of(ctx, key, &h, &node) < 0)
		return -1;
	if (!node)
		return 0;
	if (!value)
		return 1;
	if (reg_value_get(h, node, value, &v, &found, NULL))
		return -1;
	reg_value_release(&v);
	return found;
}

static int vp_reg_read(void *ctx, const char *key, const char *value, uint32_t *type,
		       struct ws_buf *data)
{
	struct reg_hive *h;
	reg_node node;
	struct reg_value v;
	int found = 0;

	if (key_of(ctx, key, &h, &node) < 0)
		return -1;
	if (!node)
		return 0;
	if (reg_value_get(h, node, value ? value : "", &v, &found, NULL))
		return -1;
	if (found) {
		*type = v.type;
		ws_buf_add(data, v.data, v.len);
	}
	reg_value_release(&v);
	return found;
}

static int list_files(struct rule_vprobe *vp, const char *node,
		      void (*fn)(void *arg, const char *name, int is_container), void *arg)
{
	struct ws_buf host = WS_BUF_INIT, full = WS_BUF_INIT;
	struct vol_entry_hold hold = VOL_ENTRY_HOLD_INIT;
	struct vol_entry e;
	char **names = NULL;
	size_t n = 0;
	int rc;

	memset(&e, 0, sizeof(e));
	/* "C:" alone is the root */
	if (host_of(vp, *node ? node : "C:", &host) < 0) {
		ws_buf_release(&host);
		return 0;
	}
	/* a link or a file is not walked into: only a folder is listed */
	if (vol_stat(vp->vol, host.buf, &e, &hold, NULL) != WS_OK ||
	    e.type != VOL_ENT_DIR) {
		rc = e.type == VOL_ENT_ERROR && e.err_errno != ENOENT ? -1 : 0;
		goto out;
	}
	if (vol_list(vp->vol, host.buf, &names, &n, NULL) != WS_OK) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		ws_buf_reset(&full);
		ws_buf_addf(&full, "%s/%s", host.buf, names[i]);
		/* links are leaves: never walked into */
		if (vol_stat(vp->vol, full.buf, &e, &hold, NULL) != WS_OK ||
		    e.type == VOL_ENT_ERROR)
			continue;
		fn(arg, names[i], e.type == VOL_ENT_DIR);
	}
	rc = 1;
out:
	vol_list_free(names, n);
	vol_entry_hold_release(&hold);
	ws_buf_release(&full);
	ws_buf_release(&host);
	return rc;
}

static int list_reg(struct rule_vprobe *vp, const char *node,
		    void (*fn)(void *arg, const char *name, int is_container), void *arg)
{
	struct reg_hive *h;
	reg_node key, *kids = NULL;
	struct reg_value *vals = NULL;
	size_t n = 0, nv = 0;
	struct ws_buf name = WS_BUF_INIT;

	if (!ws_name_casecmp(node, "HKLM") || !ws_name_casecmp(node, "HKEY_LOCAL_MACHINE")) {
		fn(arg, "SOFTWARE", 1);
		fn(arg, "SYSTEM", 1);
		return 1;
	}
	if (key_of(vp, node, &h, &key) < 0)
		return -1;
	if (!key)
		return 0;
	if (reg_key_children(h, key, &kids, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			ws_buf_reset(&name);
			if (reg_key_name(h, kids[i], &name, NULL) == 0)
				fn(arg, name.buf, 1);
		}
		free(kids);
	}
	if (reg_key_values(h, key, &vals, &nv, NULL) == 0) {
		for (size_t i = 0; i < nv; i++)
			fn(arg, vals[i].name, 0);
		reg_values_free(vals, nv);
	}
	ws_buf_release(&name);
	return 1;
}

static int vp_list(void *ctx, int type, const char *node,
		   void (*fn)(void *arg, const char *name, int is_container), void *arg)
{
	struct rule_vprobe *vp = ctx;

	vp->stats.lists++;
	if (type == RULE_REGISTRY)
		return list_reg(vp, node, fn, arg);
	if (type == RULE_FILE)
		return list_files(vp, node, fn, arg);
	return 0;
}

struct rule_vprobe *rule_vprobe_new(struct vol *vol, const struct vol_profile *profile)
{
	struct rule_vprobe *vp = ws_xcalloc(1, sizeof(*vp));
	const struct vol_info *vi = vol_get_info(vol);
	unsigned b = vi->build_number;

	vp->vol = vol;
	vp->prof = profile;
	vp->probe.ctx = vp;
	vp->probe.file_exists = vp_file_exists;
	vp->probe.reg_exists = vp_reg_exists;
	vp->probe.reg_read = vp_reg_read;
	vp->probe.file_read = vp_file_read;
	vp->probe.file_stat = vp_file_stat;
	vp->probe.list = vp_list;
	/* the NT version from the build: 7 = 6.1, 8 = 6.2, 8.1 = 6.3, then 10.0 */
	vp->probe.os_major = b && b < 10240 ? 6 : 10;
	vp->probe.os_minor = !b || b >= 10240 ? 0 : b >= 9600 ? 3 : b >= 9200 ? 2 : 1;
	vp->probe.os_build = b;
	vp->probe.native64 = !strcasecmp(vi->architecture, "AMD64") ||
			     !strcasecmp(vi->architecture, "ARM64") ||
			     !strcasecmp(vi->architecture, "IA64");
	return vp;
}

void rule_vprobe_free(struct rule_vprobe *vp)
{
	if (!vp)
		return;
	for (size_t i = 0; i < sizeof(vp->owned) / sizeof(vp->owned[0]); i++)
		reg_hive_close(vp->owned[i]);
	free(vp);
}

void rule_vprobe_release_hives(struct rule_vprobe *vp)
{
	if (!vp)
		return;
	for (size_t i = 0; i < sizeof(vp->owned) / sizeof(vp->owned[0]); i++) {
		reg_hive_close(vp->owned[i]);
		vp->owned[i] = NULL;
	}
	vp->released = 1;
}

const struct rule_probe *rule_vprobe_probe(const struct rule_vprobe *vp)
{
	return &vp->probe;
}

void rule_vprobe_lend_hive(struct rule_vprobe *vp, int kind, struct reg_hive *h)
{
	if (kind <= REG_HIVE_NONE || kind > REG_HIVE_SECURITY)
		return;
	vp->lent[kind] = h;
}

void rule_vprobe_stats(const struct rule_vprobe *vp, struct rule_vprobe_stats *out)
{
	*out = vp->stats;
}
