/*
 * apply.c - offline replay of a scan: user mapping, registry values into the
 * target's hives (atomic commits), files into the target profiles with USMT
 * collision handling, profile-path rewriting, dry-run plans.
 */
#include "apply/apply.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "reg/reg.h"
#include "reg/reg_map.h"
#include "util/ws_buf.h"
#include "util/ws_fs.h"
#include "util/ws_utf.h"
#include "volume/volume.h"

void apply_opts_init(struct apply_opts *o)
{
	memset(o, 0, sizeof(*o));
}

const char *apply_action_name(int kind)
{
	static const char *const names[] = {
		"user-map", "user-missing", "reg-set", "reg-same", "reg-deferred",
		"reg-skip", "key-create", "file-place", "file-rename",
		"file-overwrite", "file-same", "file-keep", "file-skip", "dir-create"
	};

	if (kind < 0 || (size_t)kind >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[kind];
}

/* One source user and where it lands. */
struct user_map {
	const struct store_user *src;
	const struct vol_profile *dst;   /* NULL: missing on the target */
	struct reg_hive *ntuser, *usrclass;
};

struct apply {
	const struct apply_opts *o;
	struct apply_report *r;
	struct vol *vol;
	struct store_catalog *cat;
	struct user_map *users;
	size_t nusers;
	struct reg_hive *software, *system;
	struct ws_log *log;
	uint64_t done;
};

static void act(struct apply *a, int kind, const char *user, const char *object,
		const char *target, const char *reason)
{
	struct apply_action ac = { kind, user, object, target, reason };

	if (a->o->on_action)
		a->o->on_action(a->o->on_action_ctx, &ac);
}

static struct user_map *user_of(struct apply *a, uint32_t index)
{
	for (size_t i = 0; i < a->nusers; i++)
		if (a->users[i].src->index == index)
			return &a->users[i];
	return NULL;
}

/* ---- user mapping ------------------------------------------------------- */

static int map_matches(const char *old, const struct store_user *u)
{
	const char *bs = strrchr(u->account, '\\');

	if (!ws_name_casecmp(old, u->sid) || !ws_name_casecmp(old, u->account))
		return 1;
	if (bs && !ws_name_casecmp(old, bs + 1))
		return 1;
	bs = strrchr(old, '\\');
	return bs && !ws_name_casecmp(bs + 1, u->account);
}

static int map_users(struct apply *a, struct ws_error *err)
{
	size_t n;
	const struct store_user *us = store_catalog_users(a->cat, &n);

	for (size_t k = 0; k < a->o->n_map_user; k++)
		if (!strchr(a->o->map_user[k], '=') || a->o->map_user[k][0] == '=')
			return ws_error_set(err, WS_E_USAGE, a->o->map_user[k],
					    "--map-user takes OLD=NEW");
	a->users = ws_xcalloc(n ? n : 1, sizeof(*a->users));
	a->nusers = n;
	for (size_t i = 0; i < n; i++) {
		const char *want = NULL;
		const struct vol_profile *p = NULL;
		char buf[512];

		a->users[i].src = &us[i];
		for (size_t k = 0; k < a->o->n_map_user; k++) {
			const char *eq = strchr(a->o->map_user[k], '=');

			snprintf(buf, sizeof(buf), "%.*s",
				 (int)(eq - a->o->map_user[k]), a->o->map_user[k]);
			if (map_matches(buf, &us[i])) {
				want = eq + 1;
				break;
			}
		}
		if (want) {
			const char *bs = strrchr(want, '\\');
			p = vol_profile_find(a->vol, bs ? bs + 1 : want);
		} else {
			const char *bs = strrchr(us[i].account, '\\');
			p = vol_profile_find(a->vol, us[i].sid);
			if (!p)
				p = vol_profile_find(a->vol, bs ? bs + 1 : us[i].account);
		}
		if (p && (p->kind != VOL_PROFILE_USER || p->stale || !p->ntuser_path))
			p = NULL;
		a->users[i].dst = p;
		if (p) {
			a->r->users_applied++;
			act(a, APPLY_USER_MAP, us[i].account, us[i].profile_path,
			    p->win_path, NULL);
		} else {
			char why[600];

			a->r->users_missing++;
			snprintf(why, sizeof(why),
				 "no profile for %s on the target%s%s", want ? want : us[i].account,
				 a->o->n_map_user ? "" : " (use --map-user OLD=NEW",
				 a->o->n_map_user ? "" : " to pick one)");
			act(a, APPLY_USER_MISSING, us[i].account, us[i].profile_path,
			    NULL, why);
			ws_logf(a->log, WS_LOG_WARN, us[i].profile_path,
				"user %s (%s) not applied: %s", us[i].account, us[i].sid, why);
		}
	}
	if (n && a->r->users_missing == n)
		return ws_error_set(err, WS_E_NOUSER, vol_get_info(a->vol)->root,
				    "none of the scan's %zu users has a profile on the target; "
				    "nothing was written", n);
	return WS_OK;
}

/* ---- strings ------------------------------------------------------------ */

/* Replace `from` (case-insensitive, on a path boundary) with `to` in UTF-8 s. */
static int rewrite_path_prefix(const char *s, const char *from, const char *to,
			       struct ws_buf *out)
{
	size_t fl = strlen(from);
	int changed = 0;

	while (*s) {
		if (fl && !ws_name_ncasecmp(s, strnlen(s, fl), from, fl) &&
		    (s[fl] == '\0' || s[fl] == '\\' || s[fl] == '"' || s[fl] == ';' ||
		     s[fl] == ',' || s[fl] == ' ')) {
			ws_buf_adds(out, to);
			s += fl;
			changed = 1;
			continue;
		}
		ws_buf_addch(out, *s++);
	}
	return changed;
}

/* Rewrite the source profile path inside string data; returns 1 if changed
 * (new raw data in `out`). */
static int rewrite_value(uint32_t type, const unsigned char *data, size_t len,
			 const char *from, const char *to, struct ws_buf *out)
{
	struct ws_buf u8 = WS_BUF_INIT, tmp = WS_BUF_INIT;
	int changed = 0;
	size_t off = 0;

	if (!from || !to || !ws_name_casecmp(from, to) ||
	    (type != 1 && type != 2 && type != 7) || len < 2)
		return 0;
	/* Each NUL-separated string (one for SZ, several for MULTI_SZ). */
	while (off + 1 < len) {
		size_t end = off;

		while (end + 1 < len && (data[end] || data[end + 1]))
			end += 2;
		ws_buf_reset(&u8);
		ws_buf_reset(&tmp);
		ws_utf16le_to_utf8(data + off, end - off, &u8, 0);
		if (rewrite_path_prefix(u8.buf, from, to, &tmp)) {
			changed = 1;
			ws_utf8_to_utf16le(tmp.buf, tmp.len, out);
		} else {
			ws_buf_add(out, data + off, end - off);
		}
		if (end + 1 < len)
			ws_buf_add(out, "\0\0", 2);
		off = end + 2;
		if (type != 7)
			break;
	}
	if (off < len && type == 7)
		ws_buf_add(out, data + off, len - off);
	else if (type != 7 && off < len)
		ws_buf_add(out, data + off, len - off);
	ws_buf_release(&u8);
	ws_buf_release(&tmp);
	return changed;
}

/* ---- registry ----------------------------------------------------------- */

static int open_hive_w(struct apply *a, const char *host, struct reg_hive **slot,
		       struct ws_error *err)
{
	if (*slot)
		return WS_OK;
	return reg_hive_open(host, a->o->dry_run ? 0 : REG_OPEN_WRITE, slot, err);
}

static int system_hive(struct apply *a, enum reg_hive_kind kind,
		       struct reg_hive **out, struct ws_error *err)
{
	struct ws_buf host = WS_BUF_INIT;
	enum vol_res res;
	struct reg_hive **slot = kind == REG_HIVE_SOFTWARE ? &a->software : &a->system;
	int rc;

	*out = NULL;
	if (*slot) {
		*out = *slot;
		return WS_OK;
	}
	rc = vol_resolve(a->vol, kind == REG_HIVE_SOFTWARE ?
			 "Windows\\System32\\config\\SOFTWARE" :
			 "Windows\\System32\\config\\SYSTEM", &host, &res, err);
	if (!rc && res != VOL_RES_FOUND)
		rc = ws_error_set(err, WS_E_NOT_WINDOWS, host.buf, "hive missing");
	if (!rc)
		rc = open_hive_w(a, host.buf, slot, err);
	*out = *slot;
	ws_buf_release(&host);
	return rc;
}

static int apply_value(struct apply *a, const struct store_value *v,
		       const struct store_key *k, struct ws_error *err)
{
	struct user_map *um = NULL;
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

	ws_error_clear(&e);
	if (v)
		ws_buf_addf(&obj, "%s [%s]", key, v->name);
	else
		ws_buf_adds(&obj, key);
	if (uidx != STORE_SYSTEM) {
		um = user_of(a, uidx);
		if (!um) {
			a->r->values_skipped++;
			act(a, APPLY_REG_SKIP, "?", obj.buf, NULL, "catalog names an unknown user");
			goto out;
		}
		uname = um->src->account;
		if (!um->dst) {
			a->r->values_skipped++;
			act(a, APPLY_REG_SKIP, uname, obj.buf, NULL, "user not on the target");
			goto out;
		}
	}
	if (reg_map_path(key, &kind, &inner, &e)) {
		a->r->values_skipped++;
		act(a, APPLY_REG_SKIP, uname, obj.buf, NULL, e.msg);
		goto out;
	}
	if ((kind == REG_HIVE_NTUSER || kind == REG_HIVE_USRCLASS) != (um != NULL)) {
		a->r->values_skipped++;
		act(a, APPLY_REG_SKIP, uname, obj.buf, NULL,
		    um ? "machine key recorded for a user" : "user key recorded for the machine");
		goto out;
	}
	if (kind == REG_HIVE_NTUSER) {
		rc = open_hive_w(a, um->dst->ntuser_path, &um->ntuser, err);
		h = um->ntuser;
	} else if (kind == REG_HIVE_USRCLASS) {
		if (!um->dst->usrclass_path) {
			a->r->values_deferred++;
			act(a, APPLY_REG_DEFERRED, uname, obj.buf, NULL,
			    "the target profile has no UsrClass.dat yet");
			goto out;
		}
		rc = open_hive_w(a, um->dst->usrclass_path, &um->usrclass, err);
		h = um->usrclass;
	} else if (kind == REG_HIVE_SOFTWARE || kind == REG_HIVE_SYSTEM) {
		rc = system_hive(a, kind, &h, err);
		if (!rc && kind == REG_HIVE_SYSTEM) {
			rc = reg_map_current_control_set(h, inner.buf, &ccs, err);
			ws_buf_reset(&inner);
			ws_buf_add(&inner, ccs.buf, ccs.len);
		}
	} else {
		a->r->values_skipped++;
		act(a, APPLY_REG_SKIP, uname, obj.buf, NULL, "hive not written offline");
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
			a->r->keys_created++;
			act(a, APPLY_KEY_CREATE, uname, obj.buf, NULL, NULL);
		}
		goto out;
	}
	{
		const unsigned char *d = v->data;
		size_t len = v->len;
		struct reg_value cur = { 0 };
		int found = 0;
		struct reg_value nv;

		if (um && rewrite_value(v->type, v->data, v->len,
					um->src->profile_path, um->dst->win_path, &data)) {
			d = (const unsigned char *)data.buf;
			len = data.len;
		}
		if (node && (rc = reg_value_get(h, node, v->name, &cur, &found, err)))
			goto out;
		if (found && cur.type == v->type && cur.len == len &&
		    (!len || !memcmp(cur.data, d, len))) {
			reg_value_release(&cur);
			a->r->values_same++;
			act(a, APPLY_REG_SAME, uname, obj.buf, NULL, NULL);
			goto out;
		}
		reg_value_release(&cur);
		if (a->o->dry_run) {
			struct reg_hive_info hi;
			int big = 0;

			reg_hive_get_info(h, &hi);
			if (node)
				reg_key_has_big_data(h, node, &big, NULL);
			if (hi.minor >= 4 && (len > REG_BIG_DATA_MAX || big)) {
				a->r->values_deferred++;
				act(a, APPLY_REG_DEFERRED, uname, obj.buf, NULL,
				    "big-data value in a format >= 1.4 hive: not writable offline");
			} else {
				a->r->values_set++;
				act(a, APPLY_REG_SET, uname, obj.buf, NULL,
				    found ? "overwrites the target's value" : NULL);
			}
			goto out;
		}
		if (!node && (rc = reg_key_create(h, reg_root(h), inner.buf, &node, err)))
			goto out;
		nv.name = (char *)v->name;
		nv.type = v->type;
		nv.data = (unsigned char *)d;
		nv.len = len;
		rc = reg_value_set(h, node, &nv, &e);
		if (rc == WS_E_UNSUPPORTED) {
			rc = WS_OK;
			a->r->values_deferred++;
			act(a, APPLY_REG_DEFERRED, uname, obj.buf, NULL, e.msg);
			ws_logf(a->log, WS_LOG_WARN, obj.buf, "deferred: %s", e.msg);
			goto out;
		}
		if (rc) {
			if (err)
				*err = e;
			goto out;
		}
		a->r->values_set++;
		act(a, APPLY_REG_SET, uname, obj.buf, NULL,
		    found ? "overwrites the target's value" : NULL);
	}
out:
	ws_buf_release(&inner);
	ws_buf_release(&obj);
	ws_buf_release(&data);
	ws_buf_release(&ccs);
	return rc;
}

/* ---- files -------------------------------------------------------------- */

/* Reject catalog paths that could climb out or name nothing. */
static int path_is_safe(const char *p)
{
	const char *c = p;

	if (!(((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') && p[1] == ':' &&
	      p[2] == '\\'))
		return 0;
	c = p + 3;
	while (*c) {
		const char *e = strchr(c, '\\');
		size_t n = e ? (size_t)(e - c) : strlen(c);

		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.') || memchr(c, '/', n))
			return 0;
		if (!e)
			break;
		c = e + 1;
	}
	return 1;
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

	if (lstat(host, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != f->size)
		return 0;
	c.fd = open(host, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (c.fd < 0)
		return 0;
	rc = store_catalog_read_file_cb(a->cat, f, cmp_chunk, &c, NULL);
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

static void set_times_attrs(int fd, const char *path, const struct store_file *f)
{
	struct timespec ts[2];
	int64_t ns;
	unsigned char be[32];
	uint64_t t[4];

	ns = ws_filetime_to_unix_ns(f->accessed_ft ? f->accessed_ft : f->written_ft);
	ts[0].tv_sec = ns / 1000000000;
	ts[0].tv_nsec = ns % 1000000000;
	ns = ws_filetime_to_unix_ns(f->written_ft);
	ts[1].tv_sec = ns / 1000000000;
	ts[1].tv_nsec = ns % 1000000000;
	if (f->written_ft)
		futimens(fd, ts);
	/* ntfs-3g exposes Windows times and attributes; other file systems
	 * refuse these names, which is fine. */
	t[0] = f->created_ft ? f->created_ft : f->written_ft;
	t[1] = f->written_ft;
	t[2] = f->accessed_ft ? f->accessed_ft : f->written_ft;
	t[3] = f->written_ft;
	for (int i = 0; i < 4; i++)
		for (int b = 0; b < 8; b++)
			be[i * 8 + b] = (unsigned char)(t[i] >> (56 - 8 * b));
	if (f->written_ft)
		lsetxattr(path, "system.ntfs_times_be", be, 32, 0);
	if (f->attributes) {
		uint32_t at = f->attributes & (0x1u | 0x2u | 0x4u | 0x20u); /* RO, hidden, system, archive */
		unsigned char ab[4] = { (unsigned char)(at >> 24), (unsigned char)(at >> 16),
					(unsigned char)(at >> 8), (unsigned char)at };
		lsetxattr(path, "system.ntfs_attrib_be", ab, 4, 0);
	}
}

/* Write the stored content to `dest` (which must not exist, unless
 * overwrite), through a temporary file in the same folder. */
static int write_file(struct apply *a, const struct store_file *f,
		      const char *dest, int overwrite, struct ws_error *err)
{
	struct ws_buf tmp = WS_BUF_INIT, dir = WS_BUF_INIT;
	const char *slash = strrchr(dest, '/');
	int fd, rc;

	ws_buf_add(&dir, dest, (size_t)(slash - dest));
	ws_buf_addf(&tmp, "%s/.winstate-", dir.buf);
	ws_random_hex(&tmp, 6);
	ws_buf_adds(&tmp, ".tmp");
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, dest, "cannot create file");
		goto out;
	}
	rc = store_catalog_read_file(a->cat, f, fd, err);
	if (!rc && fsync(fd) != 0)
		rc = ws_error_set_errno(err, WS_E_IO, errno, dest, "cannot write file");
	if (!rc)
		set_times_attrs(fd, tmp.buf, f);
	if (close(fd) != 0 && !rc)
		rc = ws_error_set_errno(err, WS_E_IO, errno, dest, "cannot write file");
	if (!rc) {
		if (overwrite) {
			if (rename(tmp.buf, dest) != 0)
				rc = ws_error_set_errno(err, WS_E_IO, errno, dest,
							"cannot rename into place");
		} else if (link(tmp.buf, dest) != 0) {
			rc = ws_error_set_errno(err, WS_E_IO, errno, dest,
						"cannot place file");
		}
	}
	unlink(tmp.buf);
	if (!rc)
		a->r->bytes += f->size;
out:
	ws_buf_release(&tmp);
	ws_buf_release(&dir);
	return rc;
}

static int apply_file(struct apply *a, const struct store_file *f,
		      struct ws_error *err)
{
	struct user_map *um = NULL;
	const char *uname = "system";
	struct ws_buf tpath = WS_BUF_INIT, host = WS_BUF_INIT, alt = WS_BUF_INIT,
		      parent = WS_BUF_INIT;
	enum vol_res res;
	int rc = WS_OK;

	if (f->user != STORE_SYSTEM) {
		um = user_of(a, f->user);
		uname = um ? um->src->account : "?";
		if (!um || !um->dst) {
			a->r->files_skipped++;
			act(a, APPLY_FILE_SKIP, uname, f->path, NULL, "user not on the target");
			goto out;
		}
	}
	if (!path_is_safe(f->path)) {
		a->r->files_skipped++;
		act(a, APPLY_FILE_SKIP, uname, f->path, NULL,
		    "unsafe path in the store (relative, '..' or empty component): refused");
		ws_logf(a->log, WS_LOG_WARN, f->path, "refused: unsafe path in the store");
		goto out;
	}
	if (f->flags & STORE_FILE_NOT_CAPTURED) {
		a->r->files_skipped++;
		act(a, APPLY_FILE_SKIP, uname, f->path, NULL,
		    "cloud-only file: its content is in the cloud, not in the store");
		goto out;
	}
	/* Source profile folder -> target profile folder. */
	if (um && !rewrite_path_prefix(f->path, um->src->profile_path,
				       um->dst->win_path, &tpath)) {
		a->r->files_skipped++;
		act(a, APPLY_FILE_SKIP, uname, f->path, NULL,
		    "file of a user lies outside that user's profile");
		goto out;
	}
	if (!um)
		ws_buf_adds(&tpath, f->path);
	if ((rc = vol_resolve(a->vol, tpath.buf, &host, &res, err)))
		goto out;
	if (res == VOL_RES_LINK_IN_PATH || res == VOL_RES_OTHER_DRIVE) {
		a->r->files_skipped++;
		act(a, APPLY_FILE_SKIP, uname, f->path, tpath.buf,
		    res == VOL_RES_LINK_IN_PATH ? "the target path passes through a link: not followed"
						: "not on the target's system drive");
		goto out;
	}
	if (f->flags & STORE_FILE_DIR) {
		if (res == VOL_RES_MISSING) {
			if (!a->o->dry_run && (rc = ws_mkdir_p(host.buf, WS_E_IO, err)))
				goto out;
			a->r->dirs_created++;
			act(a, APPLY_DIR_CREATE, uname, f->path, tpath.buf, NULL);
		}
		goto out;
	}
	{
		const char *slash = strrchr(host.buf, '/');
		ws_buf_add(&parent, host.buf, (size_t)(slash - host.buf));
	}
	if (res == VOL_RES_MISSING) {
		if (!a->o->dry_run) {
			if ((rc = ws_mkdir_p(parent.buf, WS_E_IO, err)) ||
			    (rc = write_file(a, f, host.buf, 0, err)))
				goto out;
		}
		a->r->files_placed++;
		act(a, APPLY_FILE_PLACE, uname, f->path, tpath.buf, NULL);
		goto out;
	}
	/* The target already has something at that path. */
	if (same_content(a, f, host.buf)) {
		a->r->files_same++;
		act(a, APPLY_FILE_SAME, uname, f->path, tpath.buf, NULL);
		goto out;
	}
	if (a->o->conflict == APPLY_CONFLICT_DESTINATION) {
		a->r->files_kept++;
		act(a, APPLY_FILE_KEEP, uname, f->path, tpath.buf,
		    "the target has a different file there (--conflict destination)");
		goto out;
	}
	if (a->o->conflict == APPLY_CONFLICT_SOURCE) {
		struct stat st;

		if (lstat(host.buf, &st) || !S_ISREG(st.st_mode)) {
			a->r->files_skipped++;
			act(a, APPLY_FILE_SKIP, uname, f->path, tpath.buf,
			    "the target has a folder or link there");
			goto out;
		}
		if (!a->o->dry_run && (rc = write_file(a, f, host.buf, 1, err)))
			goto out;
		a->r->files_overwritten++;
		act(a, APPLY_FILE_OVERWRITE, uname, f->path, tpath.buf, NULL);
		goto out;
	}
	for (unsigned n = 1; n < 10000; n++) {
		ws_buf_reset(&alt);
		renamed(host.buf, n, &alt);
		if (!ws_path_exists(alt.buf))
			break;
		if (same_content(a, f, alt.buf)) {
			/* Already placed under that name by an earlier apply. */
			a->r->files_same++;
			act(a, APPLY_FILE_SAME, uname, f->path, alt.buf, NULL);
			goto out;
		}
	}
	if (!a->o->dry_run && (rc = write_file(a, f, alt.buf, 0, err)))
		goto out;
	a->r->files_renamed++;
	{
		const char *base = strrchr(alt.buf, '/');
		char why[600];

		snprintf(why, sizeof(why), "the target has a different file there: placed as %s",
			 base ? base + 1 : alt.buf);
		act(a, APPLY_FILE_RENAME, uname, f->path, tpath.buf, why);
	}
out:
	ws_buf_release(&tpath);
	ws_buf_release(&host);
	ws_buf_release(&alt);
	ws_buf_release(&parent);
	return rc;
}

/* ---- driver ------------------------------------------------------------- */

static int target_writable(const char *root, struct ws_error *err)
{
	struct statvfs sv;

	if (statvfs(root, &sv) == 0 && (sv.f_flag & ST_RDONLY))
		return ws_error_set(err, WS_E_TARGET, root,
				    "the target is mounted read-only (a hibernated or Fast "
				    "Startup volume is mounted read-only by ntfs-3g): remount "
				    "it read-write after a full Windows shutdown");
	if (access(root, W_OK) != 0)
		return ws_error_set_errno(err, WS_E_TARGET, errno, root,
					  "the target is not writable");
	return WS_OK;
}

static int commit_hive(struct apply *a, struct reg_hive *h, struct ws_error *err)
{
	int rc;

	if (!h || a->o->dry_run)
		return WS_OK;
	rc = reg_hive_commit(h, NULL, err);
	if (!rc)
		a->r->hives_committed++;
	return rc;
}

int apply_scan(struct store *st, const struct apply_opts *o,
	       struct apply_report *r, struct ws_error *err)
{
	struct apply a;
	struct store_record rec;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&a, 0, sizeof(a));
	a.o = o;
	a.r = r;
	a.log = o->log;
	if (!o->target || !o->device)
		return ws_error_set(err, WS_E_USAGE, NULL, "apply needs a target and a device");
	if ((rc = vol_open(o->target, &a.vol, err)))
		return rc;
	if (!o->dry_run && (rc = target_writable(vol_get_info(a.vol)->root, err)))
		goto out;
	if ((rc = store_catalog_open(st, o->device, o->scan_id, &a.cat, err)))
		goto out;
	snprintf(r->scan_id, sizeof(r->scan_id), "%s", store_catalog_info(a.cat)->scan_id);
	if ((rc = map_users(&a, err)))
		goto out;
	for (;;) {
		if ((rc = store_catalog_next(a.cat, &rec, err)))
			goto out;
		if (rec.kind == STORE_REC_END)
			break;
		if (rec.kind == STORE_REC_VALUE)
			rc = apply_value(&a, &rec.u.value, NULL, err);
		else if (rec.kind == STORE_REC_KEY)
			rc = apply_value(&a, NULL, &rec.u.key, err);
		else if (rec.kind == STORE_REC_FILE)
			rc = apply_file(&a, &rec.u.file, err);
		if (rc)
			goto out;
		if ((++a.done & 255) == 0) {
			struct ws_progress_event ev = { 0 };
			ev.phase = "apply";
			ev.device = o->device;
			ev.done = a.done;
			ev.bytes_done = r->bytes;
			ws_progress_emit(o->progress, &ev);
		}
	}
	/* Hives last, each atomically: values were all set in memory first. */
	for (size_t i = 0; !rc && i < a.nusers; i++) {
		rc = commit_hive(&a, a.users[i].ntuser, err);
		if (!rc)
			rc = commit_hive(&a, a.users[i].usrclass, err);
	}
	if (!rc)
		rc = commit_hive(&a, a.software, err);
	if (!rc)
		rc = commit_hive(&a, a.system, err);
	if (!rc && (r->users_missing || r->values_deferred || r->values_skipped ||
		    r->files_skipped))
		rc = WS_PARTIAL;
out:
	for (size_t i = 0; i < a.nusers; i++) {
		reg_hive_close(a.users[i].ntuser);
		reg_hive_close(a.users[i].usrclass);
	}
	free(a.users);
	reg_hive_close(a.software);
	reg_hive_close(a.system);
	store_catalog_free(a.cat);
	vol_close(a.vol);
	return rc;
}
