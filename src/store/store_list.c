/*
 * store_list.c - listing a store's committed scans (ids, newest first; the
 * scan heads per device) and finding a device by name.
 */
#include "store/store_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/ws_fs.h"
#include "util/ws_utf.h"

/* ---------------------------------------------------------------------- */
/* Listing                                                                */

static int entry_cmp(const void *a, const void *b)
{
	const struct store_scan_info *x = &((const struct store_scan_entry *)a)->info;
	const struct store_scan_info *y = &((const struct store_scan_entry *)b)->info;

	return store_scan_order(x->scan_id, x->started_ns, y->scan_id,
				y->started_ns);
}

static char *dupn(const char *s)
{
	return ws_xstrdup(s ? s : "");
}

/* Every committed scan id in scans/ (sorted newest first). */
int store_cat_list_ids(struct store *st, char ***ids, size_t *n, struct ws_error *err)
{
	struct ws_buf path = WS_BUF_INIT;
	DIR *d;
	struct dirent *de;
	size_t alloc = 0;

	*ids = NULL;
	*n = 0;
	store_abs(st, &path, "scans");
	d = opendir(path.buf);
	if (!d) {
		int e = errno;
		int rc = e == ENOENT ? WS_OK :
			ws_error_set_errno(err, WS_E_STORE, e, path.buf, "cannot list scans");
		ws_buf_release(&path);
		return rc;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char id[STORE_SCAN_ID_MAX];

		if (l < 5 || strcmp(de->d_name + l - 4, ".cat") || l - 4 >= sizeof(id))
			continue;
		memcpy(id, de->d_name, l - 4);
		id[l - 4] = '\0';
		if (!store_scan_id_valid(id))
			continue;
		WS_ALLOC_GROW(*ids, *n + 1, alloc);
		(*ids)[(*n)++] = ws_xstrdup(id);
	}
	closedir(d);
	ws_buf_release(&path);
	return WS_OK;
}

int store_list_scans(struct store *st, const char *device,
		     struct store_scan_list *list, struct ws_error *err)
{
	char **ids;
	size_t n, alloc = 0;
	int rc = store_cat_list_ids(st, &ids, &n, err);

	memset(list, 0, sizeof(*list));
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct store_catalog *cat = NULL;
		struct ws_error e2;

		ws_error_clear(&e2);
		rc = store_cat_load(st, ids[i], 0, &cat, &e2);
		if (rc == WS_E_STORE) {
			if (err)
				*err = e2;
			goto out;
		}
		rc = WS_OK;
		if (!cat) {
			list->damaged++;
			continue;
		}
		if (!device || !ws_name_casecmp(device, store_catalog_info(cat)->device)) {
			struct store_scan_entry *e;
			struct store_scan_info *in;
			const struct store_scan_info *ci = store_catalog_info(cat);

			WS_ALLOC_GROW(list->v, list->n + 1, alloc);
			e = &list->v[list->n++];
			memset(e, 0, sizeof(*e));
			in = &e->info;
			memcpy(in->scan_id, ci->scan_id, sizeof(in->scan_id));
			in->device = dupn(ci->device);
			in->computer = dupn(ci->computer);
			in->os_product = dupn(ci->os_product);
			in->os_build = dupn(ci->os_build);
			in->os_edition = dupn(ci->os_edition);
			in->os_arch = dupn(ci->os_arch);
			in->tool_version = dupn(ci->tool_version);
			in->system_drive = ci->system_drive;
			in->started = ci->started;
			in->started_ns = ci->started_ns;
			in->finished = ci->finished;
			if (ci->n_rule_files) {
				char **rf = ws_xcalloc(ci->n_rule_files, sizeof(char *));
				for (size_t k = 0; k < ci->n_rule_files; k++)
					rf[k] = dupn(ci->rule_files[k]);
				in->rule_files = (const char *const *)rf;
				in->n_rule_files = ci->n_rule_files;
			}
			e->n_users = store_cat_trailer(cat)->n_users;
			e->n_values = store_cat_trailer(cat)->n_values;
			e->n_keys = store_cat_trailer(cat)->n_keys;
			e->n_files = store_cat_trailer(cat)->n_files;
			e->n_apps = store_cat_trailer(cat)->n_apps;
			e->n_rules = store_cat_trailer(cat)->n_rules;
			e->bytes = store_cat_trailer(cat)->bytes;
		}
		store_catalog_free(cat);
	}
	if (list->n)
		qsort(list->v, list->n, sizeof(*list->v), entry_cmp);
out:
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	if (rc)
		store_scan_list_release(list);
	return rc;
}

void store_scan_list_release(struct store_scan_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		struct store_scan_info *in = &list->v[i].info;
		free((char *)in->device);
		free((char *)in->computer);
		free((char *)in->os_product);
		free((char *)in->os_build);
		free((char *)in->os_edition);
		free((char *)in->os_arch);
		free((char *)in->tool_version);
		for (size_t k = 0; k < in->n_rule_files; k++)
			free((char *)in->rule_files[k]);
		free((void *)in->rule_files);
	}
	free(list->v);
	memset(list, 0, sizeof(*list));
}

/* The store's device names, one per device whatever the case of each
 * scan's spelling (the newest scan's), for "unknown device" messages. */
static void device_names(const struct store_scan_list *all, struct ws_buf *out)
{
	size_t shown = 0;

	for (size_t i = 0; i < all->n; i++) {
		const char *d = all->v[i].info.device;
		size_t k;

		for (k = 0; k < i && ws_name_casecmp(all->v[k].info.device, d); k++)
			;
		if (k < i)
			continue;
		/* the message has a bounded size: name as many as fit */
		if (out->len + strlen(d) > 700) {
			ws_buf_adds(out, ", ...");
			return;
		}
		ws_buf_addf(out, "%s%s", shown++ ? ", " : "", d);
	}
}

int store_device_find(struct store *st, const char *device, char *name,
		      size_t name_size, struct ws_error *err)
{
	struct store_scan_list all = STORE_SCAN_LIST_INIT;
	struct ws_buf names = WS_BUF_INIT;
	int rc = store_list_scans(st, NULL, &all, err);

	if (rc)
		return rc;
	rc = WS_E_USAGE;
	for (size_t i = 0; i < all.n && rc; i++) {
		if (ws_name_casecmp(device, all.v[i].info.device))
			continue;
		if (name && name_size)
			snprintf(name, name_size, "%s", all.v[i].info.device);
		rc = WS_OK;
	}
	if (rc) {
		device_names(&all, &names);
		if (names.len)
			ws_error_set(err, rc, device,
				     "no scan of this device in the store; its devices: %s",
				     names.buf);
		else
			ws_error_set(err, rc, device,
				     "no scan of this device in the store: it holds no scan%s",
				     all.damaged ? " that can be read" : "");
	}
	ws_buf_release(&names);
	store_scan_list_release(&all);
	return rc;
}
