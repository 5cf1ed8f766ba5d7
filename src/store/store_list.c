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

#include <sodium.h>

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

int store_device_tag(const struct store *st, const char *device, char hex[33])
{
	static const char dom[] = "winstate device";
	crypto_generichash_state h;
	unsigned char up[STORE_DEVICE_TAG_MAX], sum[16];
	size_t n = strlen(device), m = 0;

	if (!n || n > sizeof(up))
		return -1;
	/*
	 * Names compare case-insensitively (ws_name_casecmp): ASCII letters
	 * are upper-cased, and each run of other bytes becomes one 0x80,
	 * since ws_ucs_upper keeps ASCII ASCII and every other character
	 * above it (test_buf_utf checks).  Names equal for ws_name_casecmp
	 * have one tag; names that differ only in their non-ASCII letters
	 * share one too, which only costs opening each other's catalogs.
	 */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)device[i];

		if (c >= 0x80) {
			if (!m || up[m - 1] != 0x80)
				up[m++] = 0x80;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			return -1;
		up[m++] = c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
	}
	crypto_generichash_init(&h, st->encrypted ? st->k_device : NULL,
				st->encrypted ? sizeof(st->k_device) : 0, sizeof(sum));
	crypto_generichash_update(&h, (const unsigned char *)dom, sizeof(dom));
	crypto_generichash_update(&h, up, m);
	crypto_generichash_final(&h, sum, sizeof(sum));
	sodium_bin2hex(hex, 33, sum, sizeof(sum));
	return 0;
}

int store_device_tag_name(const char *name, char id[STORE_SCAN_ID_MAX], char tag[33])
{
	size_t l = strlen(name);

	if (l < 4 + 33 + 1 || strcmp(name + l - 4, ".dev") || name[l - 4 - 33] != '.' ||
	    l - 4 - 33 >= STORE_SCAN_ID_MAX)
		return -1;
	memcpy(id, name, l - 4 - 33);
	id[l - 4 - 33] = '\0';
	memcpy(tag, name + l - 4 - 32, 32);
	tag[32] = '\0';
	for (int k = 0; k < 32; k++)
		if (!strchr("0123456789abcdef", tag[k]))
			return -1;
	return store_scan_id_valid(id) ? 0 : -1;
}

struct tag_ent {
	char id[STORE_SCAN_ID_MAX];
	int match;            /* the tag is the device's */
};

static int tag_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tag_ent *)a)->id, ((const struct tag_ent *)b)->id);
}

int store_cat_list_ids_for(struct store *st, const char *device, char ***ids, size_t *n,
			   struct ws_error *err)
{
	struct ws_buf path = WS_BUF_INIT;
	struct tag_ent *tags = NULL;
	size_t ntags = 0, atags = 0, alloc = 0, keep = 0;
	char want[33];
	int filter;
	DIR *d;
	struct dirent *de;

	*ids = NULL;
	*n = 0;
	filter = device && store_device_tag(st, device, want) == 0;
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
		char id[STORE_SCAN_ID_MAX], tag[33];

		if (filter && store_device_tag_name(de->d_name, id, tag) == 0) {
			WS_ALLOC_GROW(tags, ntags + 1, atags);
			memcpy(tags[ntags].id, id, sizeof(id));
			tags[ntags++].match = !strcmp(tag, want);
			continue;
		}
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
	if (!filter || !ntags) {
		free(tags);
		return WS_OK;
	}
	/* a catalog tagged only for other devices is not this device's: left
	 * out unopened (a tag is written before its catalog, so every
	 * catalog of a tagging writer has one) */
	qsort(tags, ntags, sizeof(*tags), tag_cmp);
	for (size_t i = 0; i < *n; i++) {
		struct tag_ent key, *t;
		int any = 0, match = 0;

		snprintf(key.id, sizeof(key.id), "%s", (*ids)[i]);
		t = bsearch(&key, tags, ntags, sizeof(*tags), tag_cmp);
		/* every tag of that id (a planted one beside the real one) */
		while (t && t > tags && !strcmp(t[-1].id, key.id))
			t--;
		for (; t && t < tags + ntags && !strcmp(t->id, key.id); t++) {
			any = 1;
			match |= t->match;
		}
		if (any && !match)
			free((*ids)[i]);
		else
			(*ids)[keep++] = (*ids)[i];
	}
	*n = keep;
	free(tags);
	return WS_OK;
}

/* Every committed scan id in scans/. */
int store_cat_list_ids(struct store *st, char ***ids, size_t *n, struct ws_error *err)
{
	return store_cat_list_ids_for(st, NULL, ids, n, err);
}

/* Newest second first (ids start with YYYYMMDDTHHMMSSZ). */
static int id_desc(const void *a, const void *b)
{
	return -strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 when an entry of the list from `from` on satisfies enough. */
static int found_enough(const struct store_scan_list *list, size_t from,
			int (*enough)(const struct store_scan_entry *, void *), void *ctx)
{
	for (size_t i = from; i < list->n; i++)
		if (enough(&list->v[i], ctx))
			return 1;
	return 0;
}

int store_list_scans(struct store *st, const char *device,
		     struct store_scan_list *list, struct ws_error *err)
{
	return store_list_scans_until(st, device, NULL, NULL, list, err);
}

int store_list_scans_until(struct store *st, const char *device,
			   int (*enough)(const struct store_scan_entry *e, void *ctx),
			   void *ctx, struct store_scan_list *list, struct ws_error *err)
{
	char **ids;
	size_t n, alloc = 0, group = 0;
	int rc = store_cat_list_ids_for(st, device, &ids, &n, err);

	memset(list, 0, sizeof(*list));
	if (rc)
		return rc;
	if (enough && n > 1)
		qsort(ids, n, sizeof(*ids), id_desc);
	for (size_t i = 0; i < n; i++) {
		struct store_catalog *cat = NULL;
		struct ws_error e2;

		/* a second's scans all listed: the older ones only if needed
		 * (scans of one second are ordered by what their catalogs say) */
		if (enough && i > 0 && strncmp(ids[i], ids[i - 1], 16)) {
			if (found_enough(list, group, enough, ctx))
				break;
			group = list->n;
		}

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
