/*
 * store_crypto.c - content hashes (SHA-256 from format 3, BLAKE2b-256
 * before), sealing of frames (checksum or AEAD), zlib with a bounded
 * inflate, zstd, catalog frame compression (zlib or zstd by the catalog's
 * major), and the blob coding (flags byte + payload).
 */
#include "store/store_private.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <zlib.h>
#include <zstd.h>

void store_hash_hex(const unsigned char *hash, char out[2 * STORE_HASH_LEN + 1])
{
	ws_hex_encode(out, hash, STORE_HASH_LEN);
}

void store_content_hash(const struct store *st, const void *data, size_t len,
			unsigned char out[STORE_HASH_LEN])
{
	/* Keyed in encrypted stores, so equal content cannot be matched
	 * across stores or guessed from a known file. */
	if (st->hash_sha256) {
		unsigned int n = STORE_HASH_LEN;
		int ok = st->encrypted
			? HMAC(EVP_sha256(), st->k_hash, sizeof(st->k_hash), data, len,
			       out, &n) != NULL
			: EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1;

		if (!ok || n != STORE_HASH_LEN)
			abort(); /* only on memory exhaustion */
		return;
	}
	crypto_generichash(out, STORE_HASH_LEN, data, len,
			   st->encrypted ? st->k_hash : NULL,
			   st->encrypted ? sizeof(st->k_hash) : 0);
}

void store_seal(const struct store *st, const unsigned char *key,
		const void *ad, size_t adlen, const void *data, size_t len,
		struct ws_buf *out)
{
	if (!st->encrypted) {
		crypto_generichash_state h;
		unsigned char tag[STORE_SEAL_PLAIN];

		crypto_generichash_init(&h, NULL, 0, sizeof(tag));
		crypto_generichash_update(&h, ad, adlen);
		crypto_generichash_update(&h, data, len);
		crypto_generichash_final(&h, tag, sizeof(tag));
		ws_buf_add(out, data, len);
		ws_buf_add(out, tag, sizeof(tag));
		return;
	}
	unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	unsigned long long clen;

	randombytes_buf(nonce, sizeof(nonce));
	ws_buf_grow(out, sizeof(nonce) + len + STORE_SEAL_ENC);
	ws_buf_add(out, nonce, sizeof(nonce));
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		(unsigned char *)out->buf + out->len, &clen, data, len, ad,
		adlen, NULL, nonce, key);
	ws_buf_setlen(out, out->len + (size_t)clen);
}

int store_unseal(const struct store *st, const unsigned char *key,
		 const void *ad, size_t adlen, const void *data, size_t len,
		 struct ws_buf *out)
{
	const unsigned char *p = data;

	if (!st->encrypted) {
		crypto_generichash_state h;
		unsigned char tag[STORE_SEAL_PLAIN];

		if (len < STORE_SEAL_PLAIN)
			return -1;
		len -= STORE_SEAL_PLAIN;
		crypto_generichash_init(&h, NULL, 0, sizeof(tag));
		crypto_generichash_update(&h, ad, adlen);
		crypto_generichash_update(&h, p, len);
		crypto_generichash_final(&h, tag, sizeof(tag));
		if (sodium_memcmp(tag, p + len, sizeof(tag)) != 0)
			return -1;
		ws_buf_add(out, p, len);
		return 0;
	}
	unsigned long long mlen;
	size_t nl = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;

	if (len < STORE_SEAL_ENC)
		return -1;
	ws_buf_grow(out, len);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    (unsigned char *)out->buf + out->len, &mlen, NULL, p + nl,
		    len - nl, ad, adlen, p, key) != 0)
		return -1;
	ws_buf_setlen(out, out->len + (size_t)mlen);
	return 0;
}

void store_deflate(const void *data, size_t len, int level, struct ws_buf *out)
{
	uLongf bound = compressBound((uLong)len);
	uLongf n = bound;

	ws_buf_grow(out, bound);
	if (compress2((Bytef *)out->buf + out->len, &n, data, (uLong)len,
		      level) != Z_OK)
		abort(); /* only fails on memory exhaustion with a valid bound */
	ws_buf_setlen(out, out->len + n);
}

int store_inflate(const void *data, size_t len, size_t max, struct ws_buf *out)
{
	z_stream zs;
	unsigned char tmp[65536];
	size_t produced = 0;
	int zr;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		return -1;
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len;
	do {
		zs.next_out = tmp;
		zs.avail_out = sizeof(tmp);
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END)
			break;
		size_t got = sizeof(tmp) - zs.avail_out;
		produced += got;
		if (produced > max) {
			zr = Z_DATA_ERROR; /* bigger than declared: bomb */
			break;
		}
		ws_buf_add(out, tmp, got);
		if (zr == Z_OK && got == 0 && zs.avail_in == 0) {
			zr = Z_DATA_ERROR; /* truncated stream */
			break;
		}
	} while (zr != Z_STREAM_END);
	inflateEnd(&zs);
	if (zr != Z_STREAM_END || zs.avail_in != 0)
		return -1;
	return 0;
}

unsigned store_cat_major(const struct store *st)
{
	if (st->write_v1)
		return 1;
	/* an older store keeps catalogs its own readers can read */
	return st->format_major >= 4 ? STORE_CAT_MAJOR_ZSTD : STORE_OBJ_MAJOR;
}

void store_cat_compress(unsigned major, const void *data, size_t len,
			struct ws_buf *out)
{
	size_t bound, n;

	if (major < STORE_CAT_MAJOR_ZSTD) {
		store_deflate(data, len, STORE_CAT_ZLIB_LEVEL, out);
		return;
	}
	bound = ZSTD_compressBound(len);
	ws_buf_grow(out, bound);
	n = ZSTD_compress(out->buf + out->len, bound, data, len, STORE_CAT_ZSTD_LEVEL);
	if (ZSTD_isError(n))
		abort(); /* only fails on memory exhaustion with a valid bound */
	ws_buf_setlen(out, out->len + n);
}

int store_cat_decompress(unsigned major, const void *data, size_t len,
			 size_t max, struct ws_buf *out)
{
	unsigned long long n;
	size_t got;

	if (major < STORE_CAT_MAJOR_ZSTD)
		return store_inflate(data, len, max, out);
	/* One frame that declares its size, no bigger than `max`: the
	 * output is allocated once, and a bomb is refused before any work. */
	n = ZSTD_getFrameContentSize(data, len);
	if (n == ZSTD_CONTENTSIZE_UNKNOWN || n == ZSTD_CONTENTSIZE_ERROR || n > max ||
	    ZSTD_findFrameCompressedSize(data, len) != len)
		return -1;
	ws_buf_grow(out, (size_t)n);
	got = ZSTD_decompress(out->buf + out->len, (size_t)n, data, len);
	if (ZSTD_isError(got) || got != n)
		return -1;
	ws_buf_setlen(out, out->len + got);
	return 0;
}

void store_zctx_release(struct store_zctx *z)
{
	ZSTD_freeCCtx(z->c);
	ZSTD_freeDCtx(z->d);
	z->c = z->d = NULL;
}

static ZSTD_CCtx *zctx_c(struct store_zctx *z)
{
	if (!z->c && !(z->c = ZSTD_createCCtx()))
		abort(); /* memory exhaustion */
	return z->c;
}

/* zstd at `level` into out; the compressed size (0 on failure). */
static size_t zstd_into(struct store_zctx *z, const void *data, size_t len,
			int level, struct ws_buf *out)
{
	size_t bound = ZSTD_compressBound(len), n;

	ws_buf_grow(out, bound);
	n = ZSTD_compressCCtx(zctx_c(z), out->buf + out->len, bound, data, len,
			      level);
	if (ZSTD_isError(n))
		return 0;
	ws_buf_setlen(out, out->len + n);
	return n;
}

int store_blob_compressible(struct store_zctx *z, const void *data, size_t len)
{
	const unsigned char *p = data;
	unsigned char sample[STORE_SAMPLE_LEN];
	const size_t slice = STORE_SAMPLE_LEN / STORE_SAMPLE_SLICES;
	struct ws_buf c = WS_BUF_INIT;
	size_t n;

	if (len <= STORE_SAMPLE_LEN)
		return 1; /* compressing it whole costs as much as a sample */
	/* Slices spread evenly, first at the start and last at the end, so a
	 * chunk that is compressible only in places still counts as such. */
	for (size_t i = 0; i < STORE_SAMPLE_SLICES; i++) {
		size_t off = (len - slice) / (STORE_SAMPLE_SLICES - 1) * i;
		memcpy(sample + i * slice, p + off, slice);
	}
	n = zstd_into(z, sample, sizeof(sample), 1, &c);
	ws_buf_release(&c);
	return n && n < sizeof(sample) - sizeof(sample) / 32; /* saves >= 3 % */
}

int store_magic_compressed(const void *head, size_t len)
{
	static const struct {
		unsigned off, n;
		const char *magic;
	} m[] = {
		{ 0, 3, "\xff\xd8\xff" },                /* JPEG */
		{ 0, 8, "\x89PNG\r\n\x1a\n" },          /* PNG */
		{ 0, 4, "GIF8" },                        /* GIF */
		{ 0, 4, "PK\x03\x04" },                  /* ZIP, docx/xlsx/pptx, odt, jar, apk */
		{ 0, 2, "\x1f\x8b" },                    /* gzip */
		{ 0, 3, "BZh" },                         /* bzip2 */
		{ 0, 6, "\xfd" "7zXZ\x00" },              /* xz */
		{ 0, 4, "\x28\xb5\x2f\xfd" },            /* zstd */
		{ 0, 6, "7z\xbc\xaf\x27\x1c" },          /* 7z */
		{ 0, 4, "Rar!" },                        /* RAR */
		{ 0, 4, "MSCF" },                        /* CAB */
		{ 4, 4, "ftyp" },                        /* MP4, MOV, M4A, HEIC */
		{ 0, 4, "\x1a\x45\xdf\xa3" },            /* Matroska, WebM */
		{ 0, 4, "OggS" },                        /* Ogg */
		{ 0, 4, "fLaC" },                        /* FLAC */
		{ 0, 3, "ID3" },                         /* MP3 */
		{ 8, 4, "WEBP" },                        /* WebP (RIFF....WEBP) */
	};
	const unsigned char *p = head;

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (len >= m[i].off + m[i].n && !memcmp(p + m[i].off, m[i].magic, m[i].n))
			return 1;
	return 0;
}

void store_blob_encode(const struct store *st, struct store_zctx *z,
		       const unsigned char *hash, const void *data, size_t len,
		       int compress, struct ws_buf *out)
{
	struct ws_buf c = WS_BUF_INIT;
	unsigned char flags = 0;
	const void *payload = data;
	size_t plen = len;

	if (compress < 0)
		compress = store_blob_compressible(z, data, len);
	/* A plain store's zstd blob is compressed in place, after its flags
	 * byte: no copy of the payload. */
	if (compress && !st->write_v1 && !st->encrypted) {
		size_t at = out->len;

		ws_buf_grow(out, 1 + ZSTD_compressBound(len));
		ws_buf_add_u8(out, STORE_BLOB_ZSTD);
		plen = zstd_into(z, data, len, STORE_ZSTD_LEVEL, out);
		if (plen && plen < len)
			return;
		ws_buf_setlen(out, at);
		plen = len;
		compress = 0;
	}
	/* The raw fallback stays: incompressible chunks cost one byte. */
	if (compress && st->write_v1)
		store_deflate(data, len, STORE_ZLIB_LEVEL, &c);
	else if (compress)
		zstd_into(z, data, len, STORE_ZSTD_LEVEL, &c);
	if (compress && c.len && c.len < len) {
		flags |= st->write_v1 ? STORE_BLOB_ZLIB : STORE_BLOB_ZSTD;
		payload = c.buf;
		plen = c.len;
	}
	if (st->encrypted)
		flags |= STORE_BLOB_ENC;
	ws_buf_add_u8(out, flags);
	if (st->encrypted)
		store_seal(st, st->k_blob, hash, STORE_HASH_LEN, payload, plen,
			   out);
	else
		ws_buf_add(out, payload, plen);
	ws_buf_release(&c);
}

size_t store_blob_encode_inplace(const struct store *st, struct store_zctx *z,
				 unsigned char *buf, size_t len, int compress,
				 struct ws_buf *scratch)
{
	(void)st;
	if (compress < 0)
		compress = store_blob_compressible(z, buf + 1, len);
	if (compress) {
		size_t n;

		ws_buf_reset(scratch);
		n = zstd_into(z, buf + 1, len, STORE_ZSTD_LEVEL, scratch);
		if (n && n < len) {
			buf[0] = STORE_BLOB_ZSTD;
			memcpy(buf + 1, scratch->buf, n);
			return 1 + n;
		}
	}
	buf[0] = 0; /* raw: the chunk is the payload */
	return 1 + len;
}

/* zstd frame of exactly raw_len bytes; more is refused (bombs). */
static int zstd_decode(struct store_zctx *z, const void *data, size_t len,
		       uint32_t raw_len, struct ws_buf *out)
{
	size_t n;

	if (!z->d && !(z->d = ZSTD_createDCtx()))
		abort();
	ws_buf_grow(out, raw_len ? raw_len : 1);
	n = ZSTD_decompressDCtx(z->d, out->buf + out->len, raw_len, data, len);
	if (ZSTD_isError(n) || n != raw_len)
		return -1;
	ws_buf_setlen(out, out->len + n);
	return 0;
}

int store_blob_decode(const struct store *st, struct store_zctx *z,
		      const unsigned char *hash, uint32_t raw_len,
		      const void *blob, size_t len, struct ws_buf *out,
		      const char **why)
{
	const unsigned char *p = blob;
	struct ws_buf plain = WS_BUF_INIT;
	const unsigned char *payload;
	size_t plen, start = out->len;
	unsigned char h[STORE_HASH_LEN];
	int rc = -1;

	if (len < 1 || raw_len > STORE_CHUNK_MAX) {
		*why = "blob too short or chunk too large";
		return -1;
	}
	/* zlib and zstd are both read whatever the pack's version: a blob
	 * says how it was compressed (one of the two at most). */
	if ((p[0] & ~(STORE_BLOB_ZLIB | STORE_BLOB_ENC | STORE_BLOB_ZSTD)) ||
	    (p[0] & STORE_BLOB_ZLIB && p[0] & STORE_BLOB_ZSTD) ||
	    !!(p[0] & STORE_BLOB_ENC) != !!st->encrypted) {
		*why = "unknown blob flags";
		return -1;
	}
	payload = p + 1;
	plen = len - 1;
	if (st->encrypted) {
		if (store_unseal(st, st->k_blob, hash, STORE_HASH_LEN, p + 1,
				 len - 1, &plain) != 0) {
			*why = "blob does not authenticate";
			goto out;
		}
		payload = (const unsigned char *)plain.buf;
		plen = plain.len;
	}
	if (p[0] & STORE_BLOB_ZLIB) {
		if (store_inflate(payload, plen, raw_len, out) != 0) {
			*why = "blob does not decompress";
			goto fail;
		}
	} else if (p[0] & STORE_BLOB_ZSTD) {
		if (zstd_decode(z, payload, plen, raw_len, out) != 0) {
			*why = "blob does not decompress";
			goto fail;
		}
	} else {
		ws_buf_add(out, payload, plen);
	}
	if (out->len - start != raw_len) {
		*why = "blob length differs from its index";
		goto fail;
	}
	store_content_hash(st, out->buf + start, raw_len, h);
	if (sodium_memcmp(h, hash, STORE_HASH_LEN) != 0) {
		*why = "blob content does not match its hash";
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	ws_buf_setlen(out, start);
out:
	ws_buf_release(&plain);
	return rc;
}
