/*
 * vol_path.c - Windows path <-> host path on an offline volume: component by
 * component, case-insensitive as NTFS, never through a symlink/junction and
 * never above the root.  Folders are opened relative to their parent
 * (openat + O_NOFOLLOW), so long paths work and nothing on the way is
 * followed even if the tree changes underneath.
 */
#include "volume/volume_private.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/ws_root.h"
#include "util/ws_utf.h"

const char *vol_rel_of(const struct vol *vol, const char *host_path,
		       size_t *rel_len)
{
	size_t n = strlen(host_path);

	while (n > 1 && host_path[n - 1] == '/')
		n--;
	if (n < vol->root_len || memcmp(host_path, vol->root, vol->root_len))
		return NULL;
	if (n == vol->root_len) {
		*rel_len = 0;
		return host_path + n;
	}
	/* root "/" is a special case: every absolute path is under it */
	if (vol->root_len == 1) {
		*rel_len = n - 1;
		return host_path + 1;
	}
	if (host_path[vol->root_len] != '/')
		return NULL;
	*rel_len = n - vol->root_len - 1;
	return host_path + vol->root_len + 1;
}

int vol_find_child(int dirfd, const char *name, size_t name_len,
		   struct ws_buf *out)
{
	/* one matching rule for reading and for confined writes */
	return ws_root_find_child(dirfd, name, name_len, out);
}

/* One component of a split Windows path. */
struct comp {
	const char *s;
	size_t len;
};

/* Split into components, applying "." and ".." (clamped at the root). */
static size_t split_components(const char *p, struct comp **out)
{
	struct comp *c = NULL;
	size_t n = 0, alloc = 0;

	while (*p) {
		size_t len = strcspn(p, "\\/");

		if (len == 0) {
			p++;
			continue;
		}
		if (len == 1 && p[0] == '.') {
			/* nothing */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (n)
				n--;
		} else {
			WS_ALLOC_GROW(c, n + 1, alloc);
			c[n].s = p;
			c[n].len = len;
			n++;
		}
		p += len;
	}
	*out = c;
	return n;
}

int vol_resolve(struct vol *vol, const char *winpath, struct ws_buf *host,
		enum vol_res *res, struct ws_error *err)
{
	const char *p = winpath;
	struct comp *comps = NULL;
	size_t n, i;
	long long h;
	struct vol_entry e;
	struct vol_entry_hold hold = VOL_ENTRY_HOLD_INIT;
	int rc = WS_OK;

	ws_buf_reset(host);
	if (!winpath || !*winpath)
		return ws_error_set(err, WS_E_USAGE, "", "empty Windows path");
	/* \\?\C:\..., \??\C:\... (NT forms) */
	if ((!strncmp(p, "\\\\?\\", 4) || !strncmp(p, "\\??\\", 4)) &&
	    isalpha((unsigned char)p[4]) && p[5] == ':')
		p += 4;
	if ((p[0] == '\\' && p[1] == '\\') || (p[0] == '/' && p[1] == '/')) {
		*res = VOL_RES_OTHER_DRIVE;
		return WS_OK;
	}
	if (isalpha((unsigned char)p[0]) && p[1] == ':') {
		if (toupper((unsigned char)p[0]) != vol->info.system_drive) {
			struct vol *d = vol->drives[toupper((unsigned char)p[0]) - 'A'];

			if (d)   /* an attached drive resolves its own paths */
				return vol_resolve(d, p, host, res, err);
			*res = VOL_RES_OTHER_DRIVE;
			return WS_OK;
		}
		p += 2;
	}
	n = split_components(p, &comps);

	h = vol->ops->open_root(vol);
	if (h < 0) {
		free(comps);
		return ws_error_set_errno(err, WS_E_IO, errno, vol->root,
					  "cannot open the volume root");
	}
	ws_buf_adds(host, vol->root);
	*res = VOL_RES_FOUND;
	for (i = 0; i < n; i++) {
		size_t mark = host->len;
		int r;

		if (!(host->len == 1 && host->buf[0] == '/'))
			ws_buf_addch(host, '/');
		size_t name_at = host->len;
		r = vol->ops->find_child(vol, h, comps[i].s, comps[i].len, host);
		if (r < 0) {
			rc = ws_error_set_errno(err, WS_E_IO, errno, host->buf,
						"cannot read folder");
			ws_buf_setlen(host, mark);
			break;
		}
		if (r == 0) {
			ws_buf_setlen(host, name_at);
			*res = VOL_RES_MISSING;
			break;
		}
		if (i + 1 == n)
			break;
		ws_buf_reset(&hold.name);
		ws_buf_adds(&hold.name, host->buf + name_at);
		vol->ops->fill(vol, h, &e, &hold, 1);
		if (e.type == VOL_ENT_ERROR) {
			ws_buf_setlen(host, name_at);
			*res = VOL_RES_MISSING;
			break;
		}
		if (S_ISLNK(e.mode)) {
			*res = VOL_RES_LINK_IN_PATH;
			break;
		}
		if (e.type != VOL_ENT_DIR) {
			/* a file where a folder is needed: the rest cannot exist */
			i++;
			*res = VOL_RES_MISSING;
			break;
		}
		long long next = vol->ops->open_dir(vol, h, host->buf + name_at);
		if (next < 0) {
			if (errno == ELOOP || errno == ENOTDIR) {
				*res = VOL_RES_LINK_IN_PATH;
				break;
			}
			rc = ws_error_set_errno(err, WS_E_IO, errno, host->buf,
						"cannot open folder");
			break;
		}
		vol->ops->close_dir(vol, h);
		h = next;
	}
	vol->ops->close_dir(vol, h);
	vol_entry_hold_release(&hold);
	if (rc == WS_OK && *res == VOL_RES_MISSING) {
		/* append the rest as given: what a create would make */
		for (; i < n; i++) {
			if (host->len && host->buf[host->len - 1] != '/')
				ws_buf_addch(host, '/');
			ws_buf_add(host, comps[i].s, comps[i].len);
		}
	}
	free(comps);
	if (rc != WS_OK)
		ws_buf_reset(host);
	return rc;
}

int vol_winpath(const struct vol *vol, const char *host_path,
		struct ws_buf *out, struct ws_error *err)
{
	size_t rel_len;
	const char *rel;

	vol = vol_route(vol, host_path);
	rel = vol_rel_of(vol, host_path, &rel_len);
	if (!rel)
		return ws_error_set(err, WS_E_USAGE, host_path,
				    "path is not inside the Windows volume %s",
				    vol->root);
	ws_buf_addch(out, vol->info.system_drive);
	ws_buf_adds(out, ":\\");
	for (size_t i = 0; i < rel_len; i++) {
		char c = rel[i];

		if (c == '/') {
			/* collapse "//" */
			if (out->buf[out->len - 1] == '\\')
				continue;
			c = '\\';
		}
		ws_buf_addch(out, c);
	}
	return WS_OK;
}

const char *vol_resolve_keep(struct vol *vol, const char *winpath)
{
	struct ws_buf host = WS_BUF_INIT;
	enum vol_res res;
	const char *kept = NULL;

	if (vol_resolve(vol, winpath, &host, &res, NULL) == WS_OK &&
	    res == VOL_RES_FOUND)
		kept = vol_keep(vol, host.buf);
	ws_buf_release(&host);
	return kept;
}
