/*
 * reg_hive.c - the hivex adapter: opening, probing and committing hives,
 * keys, values and the typed helpers declared in reg.h.
 *
 * Every hivex call that can fail is followed by a translation of its
 * sentinel (NULL, 0, -1) and errno into a ws_code whose message names the
 * hive file and the key.  Name lookups never rely on hivex's own
 * (ASCII-only) case folding: children and values are scanned and compared
 * with ws_name_casecmp, as Windows compares them.  Commit repairs what
 * hivex wrote (reg_hash.c) before the rename, and writes the times this
 * file records for keys created or changed in the session.
 */
#include "reg/reg.h"

#include <errno.h>
#include <fcntl.h>
#include <hivex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reg/reg_hash.h"
#include "reg/reg_private.h"
#include "util/ws_fs.h"
#include "util/ws_utf.h"

/* Windows refuses keys nested deeper than 512 levels; so do we. */
#define REG_MAX_DEPTH 512

struct reg_hive {
	hive_h *hx;
	char *path;
	unsigned flags;
	struct reg_hive_info info;
	/* keys created or changed this session, sorted by node: the
	 * last-written time commit writes into them (hivex cannot) */
	struct reg_stamp *stamps;
	size_t nstamps, astamps;
	uint64_t write_time;       /* reg_hive_set_write_time(); 0 = now */
};

/* ---- base block -------------------------------------------------------- */

uint32_t reg_base_checksum(const unsigned char *base)
{
	uint32_t sum = 0;

	for (int i = 0; i < 127; i++)
		sum ^= ws_get_u32le(base + 4 * i);
	return sum;
}

void reg_base_seal(unsigned char *base)
{
	uint32_t sum = reg_base_checksum(base);

	/* Windows stores 0 and ~0 sums nudged (to 1 and ~1) while hivex
	 * checks the plain XOR: move the timestamp by 100 ns so both agree */
	while (sum == 0 || sum == 0xffffffffu) {
		ws_put_u32le(base + 12, ws_get_u32le(base + 12) + 1);
		sum = reg_base_checksum(base);
	}
	ws_put_u32le(base + 508, sum);
}

int reg_base_parse(const unsigned char *base, size_t len, const char *path,
		   struct reg_hive_info *info, struct ws_error *err)
{
	uint32_t sum;

	if (len < REG_BASE_BLOCK_SIZE)
		return ws_error_set(err, WS_E_HIVE, path,
				    "not a registry hive: %zu bytes, shorter than "
				    "the 4096-byte base block", len);
	if (memcmp(base, "regf", 4) != 0)
		return ws_error_set(err, WS_E_HIVE, path,
				    "not a registry hive: no 'regf' signature");
	sum = reg_base_checksum(base);
	if (sum != ws_get_u32le(base + 508) &&
	    !(sum == 0 && ws_get_u32le(base + 508) == 1) &&
	    !(sum == 0xffffffffu && ws_get_u32le(base + 508) == 0xfffffffeu))
		return ws_error_set(err, WS_E_HIVE, path,
				    "registry hive base block damaged: checksum "
				    "0x%08x, computed 0x%08x",
				    ws_get_u32le(base + 508), sum);
	memset(info, 0, sizeof(*info));
	info->seq1 = ws_get_u32le(base + 4);
	info->seq2 = ws_get_u32le(base + 8);
	info->last_written = (uint64_t)ws_get_u32le(base + 12) |
			     (uint64_t)ws_get_u32le(base + 16) << 32;
	info->major = ws_get_u32le(base + 20);
	info->minor = ws_get_u32le(base + 24);
	info->hbins_size = ws_get_u32le(base + 40);
	info->dirty = info->seq1 != info->seq2;
	if (info->major != 1)
		return ws_error_set(err, WS_E_HIVE, path,
				    "unsupported registry hive format %u.%u",
				    info->major, info->minor);
	return WS_OK;
}

int reg_hive_probe(const char *path, struct reg_hive_info *info,
		   struct ws_error *err)
{
	unsigned char base[REG_BASE_BLOCK_SIZE];
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ws_error_set_errno(err, WS_E_IO, errno, path,
					  "cannot open registry hive");
	while (got < sizeof(base)) {
		ssize_t n = read(fd, base + got, sizeof(base) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			return ws_error_set_errno(err, WS_E_IO, e, path,
						  "cannot read registry hive");
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return reg_base_parse(base, got, path, info, err);
}

/* ---- error helpers ----------------------------------------------------- */

/* The errno a hivex failure left, mapped to our codes. */
static int hx_code(int e, int dflt)
{
	switch (e) {
	case ENOMEM:
		return WS_E_INTERNAL;
	case ERANGE:
	case ENOTSUP:
		return dflt == WS_E_HIVE ? WS_E_HIVE : WS_E_UNSUPPORTED;
	default:
		return dflt;
	}
}

/* Best-effort key path for messages (never fails, never recurses into errors). */
static void path_for_msg(struct reg_hive *h, reg_node node, struct ws_buf *out)
{
	int saved = errno;

	if (!node || reg_key_path(h, node, out, NULL) != WS_OK) {
		ws_buf_reset(out);
		ws_buf_adds(out, node ? "?" : "");
	}
	errno = saved;
}

/*
 * Report a failed hivex call on `node`: "<what> at key '<path>'" in the
 * message, the hive file as `where`, errno appended.
 */
static int hx_fail(struct reg_hive *h, reg_node node, int dflt,
		   struct ws_error *err, const char *what)
{
	int e = errno;
	struct ws_buf kp = WS_BUF_INIT;
	int rc;

	if (!err)
		return hx_code(e, dflt);
	path_for_msg(h, node, &kp);
	rc = ws_error_set_errno(err, hx_code(e, dflt), e, h->path,
				"%s at key '%s'", what, kp.buf);
	ws_buf_release(&kp);
	return rc;
}

static int need_write(struct reg_hive *h, struct ws_error *err)
{
	if (!(h->flags & REG_OPEN_WRITE))
		return ws_error_set(err, WS_E_INTERNAL, h->path,
				    "registry hive was opened read-only");
	return WS_OK;
}

static int need_node(struct reg_hive *h, reg_node node, struct ws_error *err)
{
	if (!node)
		return ws_error_set(err, WS_E_INTERNAL, h->path,
				    "no key given (node 0)");
	return WS_OK;
}

/* ---- open / close / commit --------------------------------------------- */

int reg_hive_open(const char *path, unsigned flags, struct reg_hive **out,
		  struct ws_error *err)
{
	struct reg_hive_info info;
	struct reg_hive *h;
	hive_h *hx;
	int rc, hxflags = 0, e;

	rc = reg_hive_probe(path, &info, err);
	if (rc)
		return rc;
	if (info.dirty && (flags & REG_OPEN_WRITE))
		return ws_error_set(err, WS_E_HIVE, path,
				    "registry hive is dirty (sequence numbers %u "
				    "and %u differ): its transaction logs must be "
				    "replayed before it can be written",
				    info.seq1, info.seq2);
	if (info.dirty && !(flags & REG_OPEN_ALLOW_DIRTY))
		return ws_error_set(err, WS_E_HIVE, path,
				    "registry hive is dirty (sequence numbers %u "
				    "and %u differ): its transaction logs hold "
				    "newer data than the file", info.seq1, info.seq2);
	if ((flags & REG_OPEN_UNSAFE) && (flags & REG_OPEN_WRITE))
		return ws_error_set(err, WS_E_UNSUPPORTED, path,
				    "a damaged hive can only be opened read-only");
	if (flags & REG_OPEN_WRITE)
		hxflags |= HIVEX_OPEN_WRITE;
	if (flags & REG_OPEN_UNSAFE)
		hxflags |= HIVEX_OPEN_UNSAFE;
	errno = 0;
	hx = hivex_open(path, hxflags);
	if (!hx) {
		e = errno;
		if (e == ENOENT || e == EACCES || e == EPERM || e == EIO ||
		    e == EISDIR)
			return ws_error_set_errno(err, WS_E_IO, e, path,
						  "cannot read registry hive");
		if (e == ENOMEM)
			return ws_error_set_errno(err, WS_E_INTERNAL, e, path,
						  "cannot load registry hive");
		return ws_error_set_errno(err, WS_E_HIVE, e, path,
					  "registry hive is damaged or in a form "
					  "hivex refuses");
	}
	h = ws_xcalloc(1, sizeof(*h));
	h->hx = hx;
	h->path = ws_xstrdup(path);
	h->flags = flags;
	h->info = info;
	errno = 0;
	if (!hivex_root(hx)) {
		rc = ws_error_set_errno(err, WS_E_HIVE, errno, path,
					"registry hive has no usable root key");
		reg_hive_close(h);
		return rc;
	}
	*out = h;
	return WS_OK;
}

int reg_hive_open_as(const char *path, const char *name, unsigned flags,
		     struct reg_hive **out, struct ws_error *err)
{
	int rc = reg_hive_open(path, flags, out, err);

	if (rc && err && !strcmp(err->where, path))
		snprintf(err->where, sizeof(err->where), "%s", name);
	if (!rc) {
		free((*out)->path);
		(*out)->path = ws_xstrdup(name);
	}
	return rc;
}

void reg_hive_close(struct reg_hive *h)
{
	if (!h)
		return;
	hivex_close(h->hx);
	free(h->path);
	free(h->stamps);
	free(h);
}

const char *reg_hive_path(const struct reg_hive *h)
{
	return h->path;
}

void reg_hive_get_info(const struct reg_hive *h, struct reg_hive_info *info)
{
	*info = h->info;
}

static uint64_t filetime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ws_filetime_from_unix_ns((int64_t)ts.tv_sec * 1000000000LL +
					ts.tv_nsec);
}

void reg_hive_set_write_time(struct reg_hive *h, uint64_t filetime)
{
	h->write_time = filetime;
}

/* Index of node in h->stamps, or where it would go (*hit = 0). */
static size_t stamp_find(const struct reg_hive *h, reg_node node, int *hit)
{
	size_t lo = 0, hi = h->nstamps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (h->stamps[mid].node < node)
			lo = mid + 1;
		else
			hi = mid;
	}
	*hit = lo < h->nstamps && h->stamps[lo].node == node;
	return lo;
}

/*
 * Windows sets a key's last-written time when the key is created, when a
 * value of it is set or deleted and when a subkey is created or deleted;
 * hivex gives a new key its parent's time and never updates one.  Record
 * the time here; reg_hive_commit() writes it into the file.
 */
static void touch(struct reg_hive *h, reg_node node)
{
	uint64_t ft = h->write_time ? h->write_time : filetime_now();
	int hit;
	size_t i = stamp_find(h, node, &hit);

	if (!hit) {
		WS_ALLOC_GROW(h->stamps, h->nstamps + 1, h->astamps);
		memmove(h->stamps + i + 1, h->stamps + i,
			(h->nstamps - i) * sizeof(*h->stamps));
		h->nstamps++;
		h->stamps[i].node = node;
	}
	h->stamps[i].filetime = ft;
}

/*
 * hivex leaves the header's last-written time alone: stamp it (and redo
 * the checksum) in the freshly written temporary file, then fsync it.
 */
static int finish_temp(const char *tmp, const char *dest, int flush,
		       struct reg_hive_info *info, struct ws_error *err)
{
	unsigned char base[REG_BASE_BLOCK_SIZE];
	uint64_t now = filetime_now();
	struct stat st;
	int fd, rc = WS_OK;

	fd = open(tmp, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return ws_error_set_errno(err, WS_E_IO, errno, tmp,
					  "cannot reopen hive written by hivex");
	if (pread(fd, base, sizeof(base), 0) != (ssize_t)sizeof(base)) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, tmp,
					"cannot read back hive written by hivex");
		goto out;
	}
	ws_put_u32le(base + 12, (uint32_t)now);
	ws_put_u32le(base + 16, (uint32_t)(now >> 32));
	reg_base_seal(base);
	if (pwrite(fd, base, sizeof(base), 0) != (ssize_t)sizeof(base)) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, tmp,
					"cannot write hive header");
		goto out;
	}
	/* keep the permissions of the file being replaced */
	if (stat(dest, &st) == 0)
		(void)fchmod(fd, st.st_mode & 07777);
	if (flush && fsync(fd) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, tmp,
					"cannot flush hive to disk");
		goto out;
	}
	rc = reg_base_parse(base, sizeof(base), tmp, info, err);
out:
	if (close(fd) != 0 && rc == WS_OK)
		rc = ws_error_set_errno(err, WS_E_IO, errno, tmp,
					"cannot close hive");
	return rc;
}

static int commit(struct reg_hive *h, const char *path, int flush, struct ws_error *err);

int reg_hive_commit(struct reg_hive *h, const char *path, struct ws_error *err)
{
	return commit(h, path, 1, err);
}

int reg_hive_commit_unflushed(struct reg_hive *h, const char *path, struct ws_error *err)
{
	return commit(h, path, 0, err);
}

static int commit(struct reg_hive *h, const char *path, int flush, struct ws_error *err)
{
	const char *dest = path ? path : h->path;
	const char *slash = strrchr(dest, '/');
	struct ws_buf dir = WS_BUF_INIT, tmp = WS_BUF_INIT;
	struct reg_hive_info info;
	struct reg_fix_stats fix;
	int rc;

	rc = need_write(h, err);
	if (rc)
		return rc;
	if (slash)
		ws_buf_add(&dir, dest, (size_t)(slash - dest));
	if (!dir.len)
		ws_buf_adds(&dir, slash ? "/" : ".");
	ws_buf_addf(&tmp, "%s/.%s.tmp-%ld-", dir.buf, slash ? slash + 1 : dest,
		    (long)getpid());
	ws_random_hex(&tmp, 4);
	errno = 0;
	if (hivex_commit(h->hx, tmp.buf, 0) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, dest,
					"cannot write registry hive (temporary "
					"file %s)", tmp.buf);
		unlink(tmp.buf);
		goto out;
	}
	/* Windows' hashes, hints, order and leaf kinds, keys' times */
	rc = reg_fix_file(tmp.buf, h->stamps, h->nstamps, &fix, err);
	if (!rc)
		rc = finish_temp(tmp.buf, dest, flush, &info, err);
	if (rc) {
		unlink(tmp.buf);
		goto out;
	}
	if (rename(tmp.buf, dest) != 0) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, dest,
					"cannot rename %s into place", tmp.buf);
		unlink(tmp.buf);
		goto out;
	}
	rc = flush ? ws_fsync_dir(dir.buf, WS_E_IO, err) : WS_OK;
	h->info = info;
out:
	ws_buf_release(&dir);
	ws_buf_release(&tmp);
	return rc;
}

/* ---- keys -------------------------------------------------------------- */

reg_node reg_root(struct reg_hive *h)
{
	return hivex_root(h->hx);
}

/* Find one child by name (case-insensitive as Windows); *out = 0 if absent. */
static int find_child(struct reg_hive *h, reg_node node, const char *name,
		      size_t nlen, reg_node *out, struct ws_error *err)
{
	hive_node_h *kids;

	*out = 0;
	errno = 0;
	kids = hivex_node_children(h->hx, node);
	if (!kids)
		return hx_fail(h, node, WS_E_HIVE, err, "cannot list subkeys");
	for (size_t i = 0; kids[i]; i++) {
		char *nm;

		errno = 0;
		nm = hivex_node_name(h->hx, kids[i]);
		/* a name hivex cannot decode cannot equal a valid UTF-8 one */
		if (!nm)
			continue;
		if (ws_name_ncasecmp(nm, strlen(nm), name, nlen) == 0) {
			*out = kids[i];
			free(nm);
			break;
		}
		free(nm);
	}
	free(kids);
	return WS_OK;
}

/* Next backslash-separated component of *p (empty ones skipped). */
static int next_component(const char **p, const char **comp, size_t *len)
{
	const char *s = *p, *e;

	while (*s == '\\')
		s++;
	if (!*s)
		return 0;
	e = strchr(s, '\\');
	if (!e)
		e = s + strlen(s);
	*comp = s;
	*len = (size_t)(e - s);
	*p = e;
	return 1;
}

int reg_key_lookup(struct reg_hive *h, reg_node from, const char *path,
		   reg_node *out, struct ws_error *err)
{
	const char *p = path ? path : "", *comp;
	reg_node cur = from;
	size_t len;
	int rc;

	*out = 0;
	rc = need_node(h, from, err);
	if (rc)
		return rc;
	while (next_component(&p, &comp, &len)) {
		reg_node next;

		rc = find_child(h, cur, comp, len, &next, err);
		if (rc)
			return rc;
		if (!next)
			return WS_OK;
		cur = next;
	}
	*out = cur;
	return WS_OK;
}

/* Key and value names: valid UTF-8, 1..255 UTF-16 units (16383 for values). */
static int check_name(struct reg_hive *h, const char *name, size_t len,
		      size_t max, struct ws_error *err)
{
	size_t units = ws_utf8_utf16_units(name, len);

	if (units == (size_t)-1)
		return ws_error_set(err, WS_E_UNSUPPORTED, h->path,
				    "registry name is not valid UTF-8: '%.*s'",
				    (int)len, name);
	if (units > max)
		return ws_error_set(err, WS_E_UNSUPPORTED, h->path,
				    "registry name longer than %zu characters: "
				    "'%.*s'", max, (int)len, name);
	return WS_OK;
}

int reg_key_create(struct reg_hive *h, reg_node from, const char *path,
		   reg_node *out, struct ws_error *err)
{
	const char *p = path ? path : "", *comp;
	reg_node cur = from;
	size_t len;
	int rc;

	*out = 0;
	rc = need_node(h, from, err);
	if (!rc)
		rc = need_write(h, err);
	if (rc)
		return rc;
	while (next_component(&p, &comp, &len)) {
		reg_node next;
		char *nm;

		rc = find_child(h, cur, comp, len, &next, err);
		if (rc)
			return rc;
		if (!next) {
			rc = check_name(h, comp, len, 255, err);
			if (rc)
				return rc;
			nm = ws_xstrndup(comp, len);
			errno = 0;
			next = hivex_node_add_child(h->hx, cur, nm);
			if (!next) {
				rc = hx_fail(h, cur, WS_E_HIVE, err,
					     "cannot create subkey");
				ws_error_prefix(err, "%s", nm);
				free(nm);
				return rc;
			}
			free(nm);
			touch(h, cur);
			touch(h, next);
		}
		cur = next;
	}
	*out = cur;
	return WS_OK;
}

int reg_key_delete(struct reg_hive *h, reg_node node, struct ws_error *err)
{
	reg_node parent;
	int rc = need_node(h, node, err);

	if (!rc)
		rc = need_write(h, err);
	if (rc)
		return rc;
	if (node == reg_root(h))
		return ws_error_set(err, WS_E_UNSUPPORTED, h->path,
				    "the root key of a hive cannot be deleted");
	rc = reg_key_parent(h, node, &parent, err);
	if (rc)
		return rc;
	errno = 0;
	if (hivex_node_delete_child(h->hx, node) != 0)
		return hx_fail(h, node, WS_E_HIVE, err, "cannot delete key");
	touch(h, parent);
	return WS_OK;
}

int reg_key_name(struct reg_hive *h, reg_node node, struct ws_buf *out,
		 struct ws_error *err)
{
	char *nm;
	int rc = need_node(h, node, err);

	if (rc)
		return rc;
	errno = 0;
	nm = hivex_node_name(h->hx, node);
	if (!nm)
		return hx_fail(h, 0, WS_E_HIVE, err, "cannot read key name");
	ws_buf_adds(out, nm);
	free(nm);
	return WS_OK;
}

int reg_key_parent(struct reg_hive *h, reg_node node, reg_node *out,
		   struct ws_error *err)
{
	hive_node_h p;
	int rc = need_node(h, node, err);

	*out = 0;
	if (rc)
		return rc;
	if (node == reg_root(h))
		return WS_OK;
	errno = 0;
	p = hivex_node_parent(h->hx, node);
	if (!p)
		return hx_fail(h, 0, WS_E_HIVE, err, "cannot find parent key");
	*out = p;
	return WS_OK;
}

int reg_key_path(struct reg_hive *h, reg_node node, struct ws_buf *out,
		 struct ws_error *err)
{
	reg_node chain[REG_MAX_DEPTH + 1], root = reg_root(h);
	size_t n = 0;
	int rc = need_node(h, node, err);

	if (rc)
		return rc;
	while (node != root) {
		if (n == REG_MAX_DEPTH)
			return ws_error_set(err, WS_E_HIVE, h->path,
					    "key nested deeper than %d levels "
					    "(loop in a damaged hive?)",
					    REG_MAX_DEPTH);
		chain[n++] = node;
		rc = reg_key_parent(h, node, &node, err);
		if (rc)
			return rc;
	}
	while (n--) {
		rc = reg_key_name(h, chain[n], out, err);
		if (rc)
			return rc;
		if (n)
			ws_buf_addch(out, '\\');
	}
	return WS_OK;
}

int reg_key_mtime(struct reg_hive *h, reg_node node, uint64_t *ft,
		  struct ws_error *err)
{
	int64_t t;
	int hit;
	size_t i;
	int rc = need_node(h, node, err);

	if (rc)
		return rc;
	i = stamp_find(h, node, &hit);
	if (hit) {
		*ft = h->stamps[i].filetime;
		return WS_OK;
	}
	errno = 0;
	t = hivex_node_timestamp(h->hx, node);
	if (t == -1 && errno)
		return hx_fail(h, node, WS_E_HIVE, err,
			       "cannot read key timestamp");
	*ft = (uint64_t)t;
	return WS_OK;
}

int reg_key_children(struct reg_hive *h, reg_node node, reg_node **kids,
		     size_t *n, struct ws_error *err)
{
	hive_node_h *hk;
	size_t cnt = 0;
	int rc = need_node(h, node, err);

	*kids = NULL;
	*n = 0;
	if (rc)
		return rc;
	errno = 0;
	hk = hivex_node_children(h->hx, node);
	if (!hk)
		return hx_fail(h, node, WS_E_HIVE, err, "cannot list subkeys");
	while (hk[cnt])
		cnt++;
	if (cnt) {
		*kids = ws_xmalloc(cnt * sizeof(**kids));
		for (size_t i = 0; i < cnt; i++)
			(*kids)[i] = hk[i];
	}
	*n = cnt;
	free(hk);
	return WS_OK;
}

/* ---- values ------------------------------------------------------------ */

void reg_value_release(struct reg_value *v)
{
	if (!v)
		return;
	free(v->name);
	free(v->data);
	memset(v, 0, sizeof(*v));
}

void reg_values_free(struct reg_value *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		reg_value_release(&v[i]);
	free(v);
}

/* hivex's value handles of a key (0-terminated, caller frees). */
static int value_handles(struct reg_hive *h, reg_node node, hive_value_h **out,
			 struct ws_error *err)
{
	errno = 0;
	*out = hivex_node_values(h->hx, node);
	if (!*out)
		return hx_fail(h, node, WS_E_HIVE, err, "cannot list values");
	return WS_OK;
}

static int read_value(struct reg_hive *h, reg_node node, hive_value_h vh,
		      struct reg_value *v, struct ws_error *err)
{
	hive_type t;
	size_t len = 0;
	char *data;

	memset(v, 0, sizeof(*v));
	errno = 0;
	v->name = hivex_value_key(h->hx, vh);
	if (!v->name)
		return hx_fail(h, node, WS_E_HIVE, err, "cannot read value name");
	errno = 0;
	data = hivex_value_value(h->hx, vh, &t, &len);
	if (!data && len) {
		int rc = hx_fail(h, node, WS_E_HIVE, err,
				 "cannot read value data");

		if (err)
			ws_error_prefix(err, "value '%s'", v->name);
		reg_value_release(v);
		return rc;
	}
	v->type = (uint32_t)t;
	v->len = len;
	if (len)
		v->data = (unsigned char *)data;
	else
		free(data);
	return WS_OK;
}

int reg_key_values(struct reg_hive *h, reg_node node, struct reg_value **vals,
		   size_t *n, struct ws_error *err)
{
	hive_value_h *vh;
	struct reg_value *arr = NULL;
	size_t cnt = 0;
	int rc = need_node(h, node, err);

	*vals = NULL;
	*n = 0;
	if (!rc)
		rc = value_handles(h, node, &vh, err);
	if (rc)
		return rc;
	while (vh[cnt])
		cnt++;
	if (cnt)
		arr = ws_xcalloc(cnt, sizeof(*arr));
	for (size_t i = 0; i < cnt; i++) {
		rc = read_value(h, node, vh[i], &arr[i], err);
		if (rc) {
			reg_values_free(arr, i);
			free(vh);
			return rc;
		}
	}
	free(vh);
	*vals = arr;
	*n = cnt;
	return WS_OK;
}

/* Handle of a value by name (case-insensitive) and its stored spelling. */
static int find_value(struct reg_hive *h, reg_node node, const char *name,
		      hive_value_h *out, char **spelling, struct ws_error *err)
{
	hive_value_h *vh;
	int rc = value_handles(h, node, &vh, err);

	*out = 0;
	if (spelling)
		*spelling = NULL;
	if (rc)
		return rc;
	for (size_t i = 0; vh[i]; i++) {
		char *k;

		errno = 0;
		k = hivex_value_key(h->hx, vh[i]);
		if (!k)
			continue;
		if (ws_name_casecmp(k, name) == 0) {
			*out = vh[i];
			if (spelling)
				*spelling = k;
			else
				free(k);
			break;
		}
		free(k);
	}
	free(vh);
	return WS_OK;
}

int reg_value_get(struct reg_hive *h, reg_node node, const char *name,
		  struct reg_value *out, int *found, struct ws_error *err)
{
	hive_value_h vh;
	int rc = need_node(h, node, err);

	memset(out, 0, sizeof(*out));
	*found = 0;
	if (!rc)
		rc = find_value(h, node, name ? name : "", &vh, NULL, err);
	if (rc || !vh)
		return rc;
	rc = read_value(h, node, vh, out, err);
	if (!rc)
		*found = 1;
	return rc;
}

int reg_key_has_big_data(struct reg_hive *h, reg_node node, int *yes,
			 struct ws_error *err)
{
	hive_value_h *vh;
	int rc = need_node(h, node, err);

	*yes = 0;
	if (!rc)
		rc = value_handles(h, node, &vh, err);
	if (rc)
		return rc;
	for (size_t i = 0; vh[i] && !*yes; i++) {
		hive_type t;
		size_t len = 0;

		errno = 0;
		if (hivex_value_type(h->hx, vh[i], &t, &len) != 0) {
			rc = hx_fail(h, node, WS_E_HIVE, err,
				     "cannot read value size");
			break;
		}
		if (len > REG_BIG_DATA_MAX)
			*yes = 1;
	}
	free(vh);
	return rc;
}

/* The guard of reg.h: hivex cannot write db records (format >= 1.4). */
static int big_data_guard(struct reg_hive *h, reg_node node, const char *name,
			  size_t newlen, struct ws_error *err)
{
	int yes = 0, rc;
	struct ws_buf kp = WS_BUF_INIT;

	if (h->info.minor < 4)
		return WS_OK;
	if (newlen > REG_BIG_DATA_MAX) {
		path_for_msg(h, node, &kp);
		rc = ws_error_set(err, WS_E_UNSUPPORTED, h->path,
				  "value '%s' at key '%s' is %zu bytes: a format "
				  "1.%u hive stores values over %d bytes as "
				  "big-data records, which cannot be written",
				  name, kp.buf, newlen, h->info.minor,
				  REG_BIG_DATA_MAX);
		ws_buf_release(&kp);
		return rc;
	}
	rc = reg_key_has_big_data(h, node, &yes, err);
	if (rc || !yes)
		return rc;
	path_for_msg(h, node, &kp);
	rc = ws_error_set(err, WS_E_UNSUPPORTED, h->path,
			  "key '%s' holds a big-data value: changing its values "
			  "in a format 1.%u hive would damage it (value '%s')",
			  kp.buf, h->info.minor, name);
	ws_buf_release(&kp);
	return rc;
}

int reg_value_set(struct reg_hive *h, reg_node node, const struct reg_value *v,
		  struct ws_error *err)
{
	const char *name = v->name ? v->name : "";
	hive_set_value sv;
	hive_value_h old;
	char *spelling = NULL;
	static char empty[1];
	int rc = need_node(h, node, err);

	if (!rc)
		rc = need_write(h, err);
	if (!rc)
		rc = check_name(h, name, strlen(name), 16383, err);
	if (!rc)
		rc = big_data_guard(h, node, name, v->len, err);
	/* reuse the stored spelling so hivex (ASCII-only folding) replaces it */
	if (!rc)
		rc = find_value(h, node, name, &old, &spelling, err);
	if (rc)
		return rc;
	sv.key = spelling ? spelling : (char *)name;
	sv.t = (hive_type)v->type;
	sv.len = v->len;
	sv.value = v->len ? (char *)v->data : empty;
	errno = 0;
	if (hivex_node_set_value(h->hx, node, &sv, 0) != 0) {
		rc = hx_fail(h, node, WS_E_HIVE, err, "cannot set value");
		if (err)
			ws_error_prefix(err, "value '%s'", name);
	} else {
		touch(h, node);
	}
	free(spelling);
	return rc;
}

int reg_value_delete(struct reg_hive *h, reg_node node, const char *name,
		     struct ws_error *err)
{
	struct reg_value *vals = NULL;
	hive_set_value *sv;
	size_t n = 0, m = 0;
	int rc = need_node(h, node, err), hit = 0;
	static char empty[1];

	if (!name)
		name = "";
	if (!rc)
		rc = need_write(h, err);
	if (!rc)
		rc = reg_key_values(h, node, &vals, &n, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (ws_name_casecmp(vals[i].name, name) == 0)
			hit = 1;
	if (!hit) {
		reg_values_free(vals, n);
		return WS_OK;
	}
	rc = big_data_guard(h, node, name, 0, err);
	if (rc) {
		reg_values_free(vals, n);
		return rc;
	}
	/* hivex has no single-value delete: rewrite the list without it */
	sv = ws_xcalloc(n, sizeof(*sv));
	for (size_t i = 0; i < n; i++) {
		if (ws_name_casecmp(vals[i].name, name) == 0)
			continue;
		sv[m].key = vals[i].name;
		sv[m].t = (hive_type)vals[i].type;
		sv[m].len = vals[i].len;
		sv[m].value = vals[i].len ? (char *)vals[i].data : empty;
		m++;
	}
	errno = 0;
	if (hivex_node_set_values(h->hx, node, m, sv, 0) != 0) {
		rc = hx_fail(h, node, WS_E_HIVE, err, "cannot delete value");
		if (err)
			ws_error_prefix(err, "value '%s'", name);
	} else {
		touch(h, node);
	}
	free(sv);
	reg_values_free(vals, n);
	return rc;
}

/* ---- typed helpers ----------------------------------------------------- */

int reg_value_to_utf8(const struct reg_value *v, struct ws_buf *out,
		      struct ws_error *err)
{
	if (v->type != REG_SZ && v->type != REG_EXPAND_SZ && v->type != REG_LINK)
		return ws_error_set(err, WS_E_UNSUPPORTED, v->name,
				    "value of type %s is not a string",
				    reg_type_name(v->type));
	ws_utf16le_to_utf8(v->data, v->len, out, WS_UTF16_STOP_AT_NUL);
	return WS_OK;
}

int reg_get_string(struct reg_hive *h, reg_node key, const char *name,
		   struct ws_buf *out, int *found, struct ws_error *err)
{
	struct reg_value v;
	int rc;

	*found = 0;
	if (!key)
		return WS_OK;
	rc = reg_value_get(h, key, name, &v, found, err);
	if (rc || !*found)
		return rc;
	rc = reg_value_to_utf8(&v, out, err);
	if (rc && err)
		ws_error_set(err, rc, h->path, "value '%s' is %s, not a string",
			     v.name, reg_type_name(v.type));
	reg_value_release(&v);
	return rc;
}

int reg_get_dword(struct reg_hive *h, reg_node key, const char *name,
		  uint32_t *out, int *found, struct ws_error *err)
{
	struct reg_value v;
	int rc;

	*found = 0;
	if (!key)
		return WS_OK;
	rc = reg_value_get(h, key, name, &v, found, err);
	if (rc || !*found)
		return rc;
	if (v.len != 4 || (v.type != REG_DWORD && v.type != REG_DWORD_BIG_ENDIAN)) {
		rc = ws_error_set(err, WS_E_UNSUPPORTED, h->path,
				  "value '%s' is %s of %zu bytes, not a DWORD",
				  v.name, reg_type_name(v.type), v.len);
	} else if (v.type == REG_DWORD) {
		*out = ws_get_u32le(v.data);
	} else {
		*out = (uint32_t)v.data[0] << 24 | (uint32_t)v.data[1] << 16 |
		       (uint32_t)v.data[2] << 8 | v.data[3];
	}
	reg_value_release(&v);
	return rc;
}

static int set_raw(struct reg_hive *h, reg_node key, const char *name,
		   uint32_t type, const void *data, size_t len,
		   struct ws_error *err)
{
	struct reg_value v;

	v.name = (char *)(name ? name : "");
	v.type = type;
	v.data = (unsigned char *)data;
	v.len = len;
	return reg_value_set(h, key, &v, err);
}

int reg_set_string(struct reg_hive *h, reg_node key, const char *name,
		   uint32_t type, const char *utf8, struct ws_error *err)
{
	struct ws_buf u = WS_BUF_INIT;
	int rc;

	if (ws_utf8_to_utf16le(utf8, strlen(utf8), &u) != 0)
		return ws_error_set(err, WS_E_UNSUPPORTED, h->path,
				    "data for value '%s' is not valid UTF-8",
				    name ? name : "");
	ws_buf_add(&u, "\0", 2);
	rc = set_raw(h, key, name, type, u.buf, u.len, err);
	ws_buf_release(&u);
	return rc;
}

int reg_set_dword(struct reg_hive *h, reg_node key, const char *name,
		  uint32_t value, struct ws_error *err)
{
	unsigned char b[4];

	ws_put_u32le(b, value);
	return set_raw(h, key, name, REG_DWORD, b, 4, err);
}

int reg_set_qword(struct reg_hive *h, reg_node key, const char *name,
		  uint64_t value, struct ws_error *err)
{
	unsigned char b[8];

	ws_put_u32le(b, (uint32_t)value);
	ws_put_u32le(b + 4, (uint32_t)(value >> 32));
	return set_raw(h, key, name, REG_QWORD, b, 8, err);
}

int reg_set_binary(struct reg_hive *h, reg_node key, const char *name,
		   const void *data, size_t len, struct ws_error *err)
{
	return set_raw(h, key, name, REG_BINARY, data, len, err);
}

int reg_set_multi_sz(struct reg_hive *h, reg_node key, const char *name,
		     const char *const *strs, size_t n, struct ws_error *err)
{
	struct ws_buf u = WS_BUF_INIT;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (ws_utf8_to_utf16le(strs[i], strlen(strs[i]), &u) != 0) {
			ws_buf_release(&u);
			return ws_error_set(err, WS_E_UNSUPPORTED, h->path,
					    "string %zu for value '%s' is not "
					    "valid UTF-8", i, name ? name : "");
		}
		ws_buf_add(&u, "\0", 2);
	}
	ws_buf_add(&u, "\0", 2);
	rc = set_raw(h, key, name, REG_MULTI_SZ, u.buf, u.len, err);
	ws_buf_release(&u);
	return rc;
}

const char *reg_type_name(uint32_t type)
{
	static const char *const names[] = {
		"REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY",
		"REG_DWORD", "REG_DWORD_BIG_ENDIAN", "REG_LINK", "REG_MULTI_SZ",
		"REG_RESOURCE_LIST", "REG_FULL_RESOURCE_DESCRIPTOR",
		"REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD"
	};
	static _Thread_local char buf[24];

	if (type < sizeof(names) / sizeof(names[0]))
		return names[type];
	snprintf(buf, sizeof(buf), "REG_0x%x", (unsigned)type);
	return buf;
}
