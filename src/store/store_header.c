/*
 * store_header.c - the `winstate-store` header file: creation with
 * no-replace semantics (concurrent creators converge on the first one),
 * parsing with format-version and checksum checks, key derivation
 * (Argon2id or key file) and the key-check value.
 */
#include "store/store_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util/ws_fs.h"

static const char kdf_ctx[crypto_kdf_CONTEXTBYTES + 1] = "wsstore1";

static void checksum_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), data, len, NULL, 0);
	store_hash_hex(h, out);
}

static int hex_decode(const char *s, unsigned char *out, size_t n)
{
	if (strlen(s) != 2 * n || !store_is_hex(s, 2 * n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static void key_check(const unsigned char *master, const char *store_id,
		      char out[65])
{
	unsigned char kc[32], h[32];
	static const char label[] = "winstate key check";

	crypto_kdf_derive_from_key(kc, sizeof(kc), SK_CHECK, kdf_ctx, master);
	crypto_generichash_state s;
	crypto_generichash_init(&s, kc, sizeof(kc), sizeof(h));
	crypto_generichash_update(&s, (const unsigned char *)label, sizeof(label) - 1);
	crypto_generichash_update(&s, (const unsigned char *)store_id, strlen(store_id));
	crypto_generichash_final(&s, h, sizeof(h));
	store_hash_hex(h, out);
	sodium_memzero(kc, sizeof(kc));
}

static int derive_master(const struct store_open_opts *opts,
			 const unsigned char *salt, unsigned long long ops,
			 size_t mem, int passphrase, unsigned char master[32],
			 const char *where, struct ws_error *err)
{
	if (passphrase) {
		if (!opts->passphrase)
			return ws_error_hint(err, ws_error_set(err, WS_E_KEY, where,
							       "the store is encrypted with a passphrase"),
					     WS_INPUT_NONE, WS_HINT_PASSPHRASE);
		if (crypto_pwhash(master, 32, opts->passphrase,
				  strlen(opts->passphrase), salt, ops, mem,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
			return ws_error_set(err, WS_E_INTERNAL, where,
					    "Argon2id failed (out of memory?)");
		return WS_OK;
	}
	if (!opts->key)
		return ws_error_hint(err, ws_error_set(err, WS_E_KEY, where,
						       "the store is encrypted with a key file"),
				     WS_INPUT_NONE, WS_HINT_KEY_FILE);
	memcpy(master, opts->key, 32);
	return WS_OK;
}

int store_header_create(const struct store *st, const char *dir,
			const struct store_open_opts *opts, struct ws_error *err)
{
	struct ws_buf b = WS_BUF_INIT, id = WS_BUF_INIT, path = WS_BUF_INIT;
	char sum[65];
	int rc;
	uint32_t chunk = opts->chunk_size ? opts->chunk_size : STORE_CHUNK_DEFAULT;

	ws_path_join(&path, dir, STORE_HEADER_NAME);
	if (chunk < 4096 || chunk > STORE_CHUNK_MAX) {
		rc = ws_error_set(err, WS_E_USAGE, path.buf,
				  "chunk size %u out of range", chunk);
		goto out;
	}
	if (opts->encrypt && !opts->passphrase && !opts->key) {
		rc = ws_error_set(err, WS_E_KEY, path.buf,
				  "encryption needs a passphrase or a key file");
		goto out;
	}
	ws_random_hex(&id, 16);
	/* st->write_v1 (tests only) makes a store as 1.1 writers did */
	ws_buf_addf(&b, "winstate-store\nformat %d.%d\nstore-id %s\nchunk-size %u\n",
		    st->write_v1 ? 1 : STORE_FORMAT_MAJOR,
		    st->write_v1 ? 1 : STORE_FORMAT_MINOR, id.buf, chunk);
	if (!st->write_v1)
		ws_buf_adds(&b, "content-hash sha256\n");
	if (!opts->encrypt) {
		ws_buf_adds(&b, "encryption none\n");
	} else {
		unsigned char master[32], salt[crypto_pwhash_SALTBYTES];
		char kc[65];
		int pass = opts->passphrase != NULL;
		unsigned long long ops = opts->kdf_opslimit ? opts->kdf_opslimit :
			crypto_pwhash_OPSLIMIT_MODERATE;
		size_t mem = opts->kdf_memlimit ? opts->kdf_memlimit :
			crypto_pwhash_MEMLIMIT_MODERATE;

		randombytes_buf(salt, sizeof(salt));
		rc = derive_master(opts, salt, ops, mem, pass, master, path.buf, err);
		if (rc)
			goto out;
		key_check(master, id.buf, kc);
		sodium_memzero(master, sizeof(master));
		ws_buf_adds(&b, "encryption xchacha20poly1305\n");
		if (pass) {
			char sh[2 * sizeof(salt) + 1];
			sodium_bin2hex(sh, sizeof(sh), salt, sizeof(salt));
			ws_buf_addf(&b, "key-source passphrase\nkdf argon2id\nkdf-salt %s\n"
				    "kdf-opslimit %llu\nkdf-memlimit %zu\n", sh, ops, mem);
		} else {
			ws_buf_adds(&b, "key-source key-file\n");
		}
		ws_buf_addf(&b, "key-check %s\n", kc);
	}
	if (opts->pack_size)
		ws_buf_addf(&b, "pack-size %llu\n", (unsigned long long)opts->pack_size);
	checksum_hex(b.buf, b.len, sum);
	ws_buf_addf(&b, "checksum %s\n", sum);
	struct ws_error e;
	int fe = store_fault(st, path.buf);
	ws_error_clear(&e);
	if (fe)
		rc = ws_error_set_errno(&e, WS_E_STORE, fe, path.buf, "cannot create store header");
	else
		rc = ws_write_file_atomic(path.buf, b.buf, b.len, 1, WS_E_STORE, &e);
	if (rc && e.sys_errno == EEXIST && ws_path_exists(path.buf))
		rc = WS_OK; /* someone else created it first: use theirs */
	else if (rc && err)
		*err = e;
out:
	ws_buf_release(&b);
	ws_buf_release(&id);
	ws_buf_release(&path);
	return rc;
}

struct hdr_fields {
	int major, minor;
	char *store_id, *encryption, *key_source, *kdf, *salt, *key_check;
	char *content_hash;
	unsigned long long ops, mem, chunk, pack;
};

static void hdr_fields_release(struct hdr_fields *h)
{
	free(h->store_id);
	free(h->encryption);
	free(h->key_source);
	free(h->kdf);
	free(h->salt);
	free(h->key_check);
	free(h->content_hash);
}

int store_header_load(struct store *st, const char *dir,
		      const struct store_open_opts *opts, int *absent,
		      struct ws_error *err)
{
	struct ws_buf path = WS_BUF_INIT, b = WS_BUF_INIT;
	struct hdr_fields h;
	char sum[65];
	char *line, *next, *ck = NULL;
	int rc = WS_OK;

	memset(&h, 0, sizeof(h));
	*absent = 0;
	ws_path_join(&path, dir, STORE_HEADER_NAME);
	if (!ws_path_exists(path.buf)) {
		*absent = 1;
		rc = ws_error_set(err, WS_E_STORE, dir,
				  "not a winstate store (no %s file)", STORE_HEADER_NAME);
		goto out;
	}
	rc = ws_read_file(path.buf, STORE_HEADER_MAX, &b, err);
	if (rc) {
		if (rc == WS_E_UNSUPPORTED)
			rc = ws_error_set(err, WS_E_CORRUPT, path.buf, "store header is too large");
		goto out;
	}
	if (strlen(b.buf) != b.len || strncmp(b.buf, "winstate-store\n", 15) != 0) {
		rc = ws_error_set(err, WS_E_STORE, path.buf, "not a winstate store header");
		goto out;
	}
	ck = strstr(b.buf, "\nchecksum ");
	if (!ck) {
		rc = ws_error_set(err, WS_E_CORRUPT, path.buf, "store header has no checksum");
		goto out;
	}
	checksum_hex(b.buf, (size_t)(ck + 1 - b.buf), sum);
	if (strncmp(ck + 10, sum, 64) != 0 || ck[74] != '\n') {
		rc = ws_error_set(err, WS_E_CORRUPT, path.buf,
				  "store header damaged (checksum mismatch): the whole store is unreadable");
		goto out;
	}
	for (line = b.buf; line && *line; line = next) {
		char *sp, *val;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		val = sp + 1;
		if (!strcmp(line, "format")) {
			if (sscanf(val, "%d.%d", &h.major, &h.minor) != 2)
				h.major = -1;
		} else if (!strcmp(line, "store-id") && !h.store_id) {
			h.store_id = ws_xstrdup(val);
		} else if (!strcmp(line, "pack-size")) {
			h.pack = strtoull(val, NULL, 10);
		} else if (!strcmp(line, "chunk-size")) {
			h.chunk = strtoull(val, NULL, 10);
		} else if (!strcmp(line, "encryption") && !h.encryption) {
			h.encryption = ws_xstrdup(val);
		} else if (!strcmp(line, "key-source") && !h.key_source) {
			h.key_source = ws_xstrdup(val);
		} else if (!strcmp(line, "kdf") && !h.kdf) {
			h.kdf = ws_xstrdup(val);
		} else if (!strcmp(line, "kdf-salt") && !h.salt) {
			h.salt = ws_xstrdup(val);
		} else if (!strcmp(line, "kdf-opslimit")) {
			h.ops = strtoull(val, NULL, 10);
		} else if (!strcmp(line, "kdf-memlimit")) {
			h.mem = strtoull(val, NULL, 10);
		} else if (!strcmp(line, "key-check") && !h.key_check) {
			h.key_check = ws_xstrdup(val);
		} else if (!strcmp(line, "content-hash") && !h.content_hash) {
			h.content_hash = ws_xstrdup(val);
		}
	}
	if (h.major > STORE_FORMAT_MAJOR) {
		rc = ws_error_set(err, WS_E_STORE, path.buf,
				  "store format %d.%d is newer than this winstate reads (%d.x)",
				  h.major, h.minor, STORE_FORMAT_MAJOR);
		goto out;
	}
	if (h.major < 1 || !h.store_id || strlen(h.store_id) != 32 ||
	    !store_is_hex(h.store_id, 32) || !h.encryption ||
	    h.chunk < 4096 || h.chunk > STORE_CHUNK_MAX ||
	    (h.pack && (h.pack < STORE_PACK_MIN || h.pack > STORE_PACK_MAX))) {
		rc = ws_error_set(err, WS_E_CORRUPT, path.buf, "store header incomplete or invalid");
		goto out;
	}
	/* Absent: BLAKE2b-256, the hash of every store before format 3. */
	if (h.content_hash && strcmp(h.content_hash, "sha256") &&
	    strcmp(h.content_hash, "blake2b-256")) {
		rc = ws_error_set(err, WS_E_STORE, path.buf,
				  "unknown content hash '%s'", h.content_hash);
		goto out;
	}
	st->hash_sha256 = h.content_hash && !strcmp(h.content_hash, "sha256");
	memcpy(st->store_id, h.store_id, 33);
	st->format_major = h.major;
	st->chunk_size = (uint32_t)h.chunk;
	if (!st->pack_size && h.pack)
		st->pack_size = h.pack; /* the opener's own size wins */
	if (!strcmp(h.encryption, "none")) {
		st->encrypted = 0;
		if (opts->encrypt) {
			rc = ws_error_set(err, WS_E_STORE, dir,
					  "the store exists and is not encrypted");
			goto out;
		}
	} else if (!strcmp(h.encryption, "xchacha20poly1305")) {
		unsigned char master[32], salt[crypto_pwhash_SALTBYTES];
		char kc[65];
		int pass;

		st->encrypted = 1;
		if (!h.key_source || !h.key_check || strlen(h.key_check) != 64) {
			rc = ws_error_set(err, WS_E_CORRUPT, path.buf, "store header lacks key parameters");
			goto out;
		}
		pass = !strcmp(h.key_source, "passphrase");
		if (pass && (!h.kdf || strcmp(h.kdf, "argon2id") || !h.salt ||
			     hex_decode(h.salt, salt, sizeof(salt)) ||
			     h.ops < crypto_pwhash_OPSLIMIT_MIN ||
			     h.ops > crypto_pwhash_OPSLIMIT_MAX ||
			     h.mem < crypto_pwhash_MEMLIMIT_MIN ||
			     h.mem > (1ull << 32))) {
			rc = ws_error_set(err, WS_E_CORRUPT, path.buf, "store header has invalid KDF parameters");
			goto out;
		}
		if (!pass && strcmp(h.key_source, "key-file")) {
			rc = ws_error_set(err, WS_E_STORE, path.buf,
					  "unknown key source '%s'", h.key_source);
			goto out;
		}
		rc = derive_master(opts, salt, h.ops, (size_t)h.mem, pass, master, dir, err);
		if (rc)
			goto out;
		key_check(master, st->store_id, kc);
		if (sodium_memcmp(kc, h.key_check, 64) != 0) {
			sodium_memzero(master, sizeof(master));
			rc = ws_error_set(err, WS_E_KEY, dir,
					  pass ? "wrong passphrase for this store"
					       : "wrong key file for this store");
			goto out;
		}
		crypto_kdf_derive_from_key(st->k_hash, 32, SK_HASH, kdf_ctx, master);
		crypto_kdf_derive_from_key(st->k_blob, 32, SK_BLOB, kdf_ctx, master);
		crypto_kdf_derive_from_key(st->k_cat, 32, SK_CAT, kdf_ctx, master);
		crypto_kdf_derive_from_key(st->k_index, 32, SK_INDEX, kdf_ctx, master);
		crypto_kdf_derive_from_key(st->k_event, 32, SK_EVENT, kdf_ctx, master);
		crypto_kdf_derive_from_key(st->k_device, 32, SK_DEVICE, kdf_ctx, master);
		sodium_memzero(master, sizeof(master));
	} else {
		rc = ws_error_set(err, WS_E_STORE, path.buf,
				  "unknown encryption '%s'", h.encryption);
	}
out:
	hdr_fields_release(&h);
	ws_buf_release(&path);
	ws_buf_release(&b);
	return rc;
}
