/*
 * store.c - opening and closing a store, the folder layout (packs/, scans/,
 * tmp/), discovery of the packs present and small shared helpers.
 */
#include "store/store_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "util/ws_fs.h"

int store_is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

void store_rel_pack(struct ws_buf *out, const char *id, const char *ext)
{
	ws_buf_addf(out, "packs/%.2s/%s%s", id, id, ext);
}

const char *store_pack_ext(const struct store_pack *p)
{
	return p && !p->v2 ? ".tar" : ".pack";
}

void store_abs(const struct store *st, struct ws_buf *out, const char *rel)
{
	ws_path_join(out, st->dir, rel);
}

int store_scan_id_valid(const char *s)
{
	/* YYYYMMDDTHHMMSSZ-<16 hex> */
	size_t n = strlen(s);

	if (n != 33 || s[8] != 'T' || s[15] != 'Z' || s[16] != '-')
		return 0;
	for (size_t i = 0; i < 15; i++)
		if (i != 8 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return store_is_hex(s + 17, 16);
}

int store_scan_order(const char *id_a, int32_t ns_a, const char *id_b,
		     int32_t ns_b)
{
	/* the first 16 bytes are YYYYMMDDTHHMMSSZ: bytewise = chronological */
	int c = strncmp(id_a, id_b, 16);

	if (c)
		return -c;
	if (ns_a != ns_b)
		return ns_a > ns_b ? -1 : 1;
	return -strcmp(id_a, id_b);
}

struct store_pack *store_pack_find(struct store *st, const char *id)
{
	for (size_t i = 0; i < st->n_packs; i++)
		if (!strcmp(st->packs[i]->id, id))
			return st->packs[i];
	return NULL;
}

struct store_pack *store_pack_add(struct store *st, const char *id)
{
	struct store_pack *p = store_pack_find(st, id);

	if (p)
		return p;
	p = ws_xcalloc(1, sizeof(*p));
	memcpy(p->id, id, STORE_PACK_ID_LEN);
	p->fd = -1;
	p->wno = -1;
	WS_ALLOC_GROW(st->packs, st->n_packs + 1, st->alloc_packs);
	st->packs[st->n_packs++] = p;
	return p;
}

void store_pack_release(struct store_pack *p)
{
	free(p->vbad);
	p->vbad = NULL;
	free(p->ix);
	p->ix = NULL;
	p->n_ix = 0;
	p->loaded = 0;
	p->load_rc = 0;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

int store_list_packs(struct store *st, struct ws_error *err)
{
	struct ws_buf path = WS_BUF_INIT;
	DIR *top;
	struct dirent *de;

	/* A fresh view: packs may have been added or pruned meanwhile. */
	for (size_t i = 0; i < st->n_packs; i++)
		st->packs[i]->has_tar = st->packs[i]->has_idx = 0;
	store_abs(st, &path, "packs");
	top = opendir(path.buf);
	if (!top) {
		int e = errno;
		int rc = e == ENOENT ? WS_OK :
			ws_error_set_errno(err, WS_E_IO, e, path.buf, "cannot list packs");
		ws_buf_release(&path);
		return rc;
	}
	while ((de = readdir(top))) {
		struct ws_buf sub = WS_BUF_INIT;
		DIR *d;
		struct dirent *e2;

		if (strlen(de->d_name) != 2 || !store_is_hex(de->d_name, 2))
			continue;
		ws_path_join(&sub, path.buf, de->d_name);
		d = opendir(sub.buf);
		ws_buf_release(&sub);
		if (!d)
			continue;
		while ((e2 = readdir(d))) {
			const char *n = e2->d_name;
			struct store_pack *p;

			if (strlen(n) < STORE_PACK_ID_LEN ||
			    !store_is_hex(n, STORE_PACK_ID_LEN) ||
			    memcmp(n, de->d_name, 2) != 0)
				continue;
			const char *ext = n + STORE_PACK_ID_LEN;
			if (strcmp(ext, ".tar") && strcmp(ext, ".pack") &&
			    strcmp(ext, ".idx"))
				continue;
			char id[STORE_PACK_ID_LEN + 1];
			memcpy(id, n, STORE_PACK_ID_LEN);
			id[STORE_PACK_ID_LEN] = '\0';
			p = store_pack_add(st, id);
			if (!strcmp(ext, ".idx")) {
				p->has_idx = 1;
			} else {
				/* 1.x packs are ustar (.tar), 2.0 packs .pack */
				p->has_tar = 1;
				p->v2 = !strcmp(ext, ".pack");
			}
		}
		closedir(d);
	}
	closedir(top);
	ws_buf_release(&path);
	st->packs_listed = 1;
	return WS_OK;
}

int store_fault(const struct store *st, const char *path)
{
	return st && st->fault ? st->fault(st->fault_ctx, path) : 0;
}

int store_write_all(const struct store *st, int fd, const char *path,
		    const void *buf, size_t len)
{
	int e = store_fault(st, path);

	return e ? e : ws_write_all(fd, buf, len);
}

int store_nospace_hint(const struct store *st, int rc, struct ws_error *err)
{
	if (rc == WS_E_NOSPACE && err && err->code == WS_E_NOSPACE &&
	    !strstr(err->msg, "is full"))
		ws_error_prefix(err, "store %s is full (free space and rerun: "
				"earlier scans are intact, complete packs are reused)",
				st->dir);
	return rc;
}

int store_open(const char *dir, const struct store_open_opts *opts,
	       struct store **out, struct ws_error *err)
{
	return store_open_faulty(dir, opts, NULL, NULL, out, err);
}

int store_open_faulty(const char *dir, const struct store_open_opts *opts,
		      store_fault_fn fault, void *fault_ctx,
		      struct store **out, struct ws_error *err)
{
	return store_open_test(dir, opts, fault, fault_ctx, 0, out, err);
}

int store_open_test(const char *dir, const struct store_open_opts *opts,
		    store_fault_fn fault, void *fault_ctx, int write_v1,
		    struct store **out, struct ws_error *err)
{
	struct store_open_opts none;
	struct store *st;
	int rc, absent;

	*out = NULL;
	if (!opts) {
		memset(&none, 0, sizeof(none));
		opts = &none;
	}
	if (sodium_init() < 0)
		return ws_error_set(err, WS_E_INTERNAL, dir, "libsodium failed to initialise");
	if (opts->pack_size > STORE_PACK_MAX ||
	    (opts->pack_size && opts->pack_size < STORE_PACK_MIN))
		return ws_error_set(err, WS_E_USAGE, dir, "pack size out of range");
	st = ws_xcalloc(1, sizeof(*st));
	st->dir = ws_xstrdup(dir);
	st->log = opts->log;
	st->fault = fault;
	st->fault_ctx = fault_ctx;
	st->write_v1 = write_v1;
	st->threads = opts->threads;
	st->reread = opts->reread;
	if (!st->threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		st->threads = n > 1 ? (unsigned)(n > 64 ? 64 : n) : 1;
	}
	/* 0 here lets the header's pack-size (if any) decide. */
	st->pack_size = opts->pack_size;
	rc = store_header_load(st, dir, opts, &absent, err);
	if (rc && absent && opts->create) {
		rc = ws_mkdir_p(dir, WS_E_STORE, err);
		if (!rc)
			rc = store_header_create(st, dir, opts, err);
		if (!rc)
			rc = store_header_load(st, dir, opts, &absent, err);
	}
	if (!st->pack_size)
		st->pack_size = STORE_PACK_DEFAULT;
	if (!rc && opts->create) {
		static const char *const sub[] = { "packs", "scans", "tmp" };
		for (size_t i = 0; i < 3 && !rc; i++) {
			struct ws_buf p = WS_BUF_INIT;
			store_abs(st, &p, sub[i]);
			rc = ws_mkdir_p(p.buf, WS_E_STORE, err);
			ws_buf_release(&p);
		}
	}
	if (rc) {
		store_nospace_hint(st, rc, err);
		store_close(st);
		return rc;
	}
	*out = st;
	return WS_OK;
}

unsigned store_threads(const struct store *st)
{
	return st->threads;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_packs; i++) {
		store_pack_release(st->packs[i]);
		free(st->packs[i]);
	}
	free(st->packs);
	free(st->dir);
	store_zctx_release(&st->z);
	sodium_memzero(st->k_hash, sizeof(st->k_hash));
	sodium_memzero(st->k_blob, sizeof(st->k_blob));
	sodium_memzero(st->k_cat, sizeof(st->k_cat));
	sodium_memzero(st->k_index, sizeof(st->k_index));
	sodium_memzero(st->k_event, sizeof(st->k_event));
	sodium_memzero(st->k_device, sizeof(st->k_device));
	free(st);
}

int store_is_encrypted(const struct store *st)
{
	return st->encrypted;
}

int store_key_file_read(const char *path, unsigned char key[STORE_KEY_LEN],
			struct ws_error *err)
{
	struct ws_buf b = WS_BUF_INIT;
	int rc = ws_read_file(path, 256, &b, err);

	if (rc) {
		ws_buf_release(&b);
		return rc == WS_E_UNSUPPORTED ?
			ws_error_set(err, WS_E_USAGE, path, "not a key file (too large)") : rc;
	}
	if (b.len == STORE_KEY_LEN) {
		memcpy(key, b.buf, STORE_KEY_LEN);
	} else {
		size_t n = b.len;
		size_t bin_len = 0;
		while (n && (b.buf[n - 1] == '\n' || b.buf[n - 1] == '\r'))
			n--;
		if (n != 2 * STORE_KEY_LEN ||
		    sodium_hex2bin(key, STORE_KEY_LEN, b.buf, n, NULL, &bin_len,
				   NULL) != 0 || bin_len != STORE_KEY_LEN) {
			sodium_memzero(b.buf, b.len);
			ws_buf_release(&b);
			return ws_error_set(err, WS_E_USAGE, path,
					    "a key file holds 32 bytes or 64 hex digits");
		}
	}
	sodium_memzero(b.buf, b.len);
	ws_buf_release(&b);
	return WS_OK;
}
