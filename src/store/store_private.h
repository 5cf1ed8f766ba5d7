/*
 * store_private.h - what the files of the store module share and nobody
 * else may use: the handle's layout, keys, sealing of frames, blob coding,
 * pack indexes and the catalog record codec.  See docs/store-format.md.
 */
#ifndef STORE_PRIVATE_H
#define STORE_PRIVATE_H

#ifndef WS_STORE_INTERNAL
#error "store_private.h is private to src/store/ (its files and tests define WS_STORE_INTERNAL)"
#endif

#include <stdint.h>
#include <sys/types.h>

#include "store/store.h"
#include "util/ws_buf.h"

#define STORE_HEADER_NAME "winstate-store"
#define STORE_HEADER_MAX 4096
#define STORE_PACK_ID_LEN 32            /* hex chars */
#define STORE_FRAME_MAX (4u << 20)      /* plain payload of a catalog frame */
#define STORE_FRAME_TARGET (256u << 10) /* writer flushes frames at this size */
#define STORE_SEAL_PLAIN 32             /* BLAKE2b-256 tag of plain seals */
#define STORE_SEAL_ENC (24 + 16)        /* nonce + Poly1305 tag */
#define STORE_INDEX_MAGIC "WSIDX"
#define STORE_CAT_MAGIC "WSCAT"
#define STORE_CAT_FOOTER "WSCATEND"
#define STORE_CAT_FOOTER_LEN 24
#define STORE_EVENT_MAGIC "WSEVT"
#define STORE_EVENT_MAX (1u << 20)    /* event file and its inflated payload */
#define STORE_BLOB_ZLIB 1u
#define STORE_BLOB_ENC 2u
#define STORE_BLOB_ZSTD 4u              /* format 2.0 writers */
#define STORE_PACK_MAGIC "WSPACK"       /* format 2.0 packs (<id>.pack) */
/* Version in the first bytes of packs, pack indexes and catalogs: their
 * layout, which format 3.0 (the content hash) left as 2.0 made it. */
#define STORE_OBJ_MAJOR 2
#define STORE_OBJ_MINOR 0
/* Catalogs of format 4.0 stores: the 2.0 layout with zstd frames. */
#define STORE_CAT_MAJOR_ZSTD 3
#define STORE_PACK_HEAD_LEN 8           /* magic, major, minor */
#define STORE_PACK_FOOT_MAGIC "WSPE"
#define STORE_PACK_FOOT_LEN 16          /* u64 blobs_end, u32 index_len, "WSPE" */
#define STORE_MAX_INDEX_ENTRIES (1u << 24)

/* Sub-key ids (crypto_kdf, context "wsstore1"). */
enum store_subkey { SK_HASH = 1, SK_BLOB = 2, SK_CAT = 3, SK_INDEX = 4, SK_CHECK = 5,
		   SK_EVENT = 6, SK_DEVICE = 7 };

/* One entry of a pack index. */
struct store_ix_entry {
	unsigned char hash[STORE_HASH_LEN];
	uint64_t off;          /* offset of the blob's data in the tar */
	uint32_t stored_len;   /* tar entry size */
	uint32_t raw_len;      /* plain chunk size */
};

/* A pack known to this handle. */
struct store_pack {
	char id[STORE_PACK_ID_LEN + 1];
	int has_tar, has_idx;           /* has_tar: the pack file itself (.tar or .pack) */
	int v2;                         /* format 2.0 pack (<id>.pack), else 1.x ustar */
	int loaded;                     /* index parsed (entries valid) */
	int load_rc;                    /* result of the first load attempt */
	struct store_ix_entry *ix;      /* sorted by hash */
	size_t n_ix;
	uint64_t blobs_end;             /* where the index entry's header starts */
	uint64_t tar_size;              /* expected size of the tar */
	size_t ix_len;                  /* bytes of the encoded index */
	int fd;                         /* open tar, -1 */
	long wno;                       /* writer: number in its catalog's pack table, -1 */
	unsigned char *vbad;            /* verify: per index entry, blob damaged */
	int vstate;                     /* verify: 0 unchecked, 1 sound, 2 unusable */
	int vref;                       /* verify/prune: referenced by a catalog */
};

/*
 * Fault injection for the tests: called before every write the store makes
 * into a file (and before creating one) with the path concerned; a nonzero
 * return is used as the errno of that write (ENOSPC, EIO ...).
 */
typedef int (*store_fault_fn)(void *ctx, const char *path);

/* The writers' clock (scan ids and their started_ns) for the tests, which
 * set st->clock after opening: scans "in the same second" without racing
 * the real one.  NULL = CLOCK_REALTIME. */
struct timespec;
typedef void (*store_clock_fn)(void *ctx, struct timespec *now);

/* zstd contexts, reused across blobs (one per thread; created lazily). */
struct store_zctx {
	void *c;                        /* ZSTD_CCtx */
	void *d;                        /* ZSTD_DCtx */
};
void store_zctx_release(struct store_zctx *z);

struct store {
	char *dir;
	store_fault_fn fault;           /* NULL outside tests */
	void *fault_ctx;
	store_clock_fn clock;           /* NULL outside tests */
	void *clock_ctx;
	int encrypted;
	uint32_t chunk_size;
	uint64_t pack_size;
	char store_id[33];
	unsigned char k_hash[32], k_blob[32], k_cat[32], k_index[32], k_event[32];
	unsigned char k_device[32];   /* device tags (store_device_tag); zero: plain */
	struct store_pack **packs;      /* individually allocated: stable pointers */
	size_t n_packs, alloc_packs;
	int packs_listed;
	int format_major;               /* the header's (1 to 4) */
	int hash_sha256;                /* content hashes: SHA-256 (header's
					   content-hash), else BLAKE2b-256 */
	int write_v1;                   /* tests only: write 1.x packs/catalogs */
	unsigned threads;               /* >= 1 (store_open_opts.threads) */
	int reread;                     /* store_open_opts.reread */
	struct store_zctx z;            /* the calling thread's contexts */
	struct ws_log *log;
};

/* store.c */
/* store_open with a fault hook installed before anything is written. */
int store_open_faulty(const char *dir, const struct store_open_opts *opts,
		      store_fault_fn fault, void *fault_ctx,
		      struct store **out, struct ws_error *err);
/* Same, and with write_v1 a new store, its packs and catalogs are written
 * as format 1.1 writers wrote them (ustar packs, zlib blobs): the tests'
 * 1.x stores. */
int store_open_test(const char *dir, const struct store_open_opts *opts,
		    store_fault_fn fault, void *fault_ctx, int write_v1,
		    struct store **out, struct ws_error *err);
/* The hook's errno for a write into `path`, 0 when there is no hook. */
int store_fault(const struct store *st, const char *path);
/* write(2) all of buf through the fault hook; 0 or errno. */
int store_write_all(const struct store *st, int fd, const char *path,
		    const void *buf, size_t len);
/* On WS_E_NOSPACE, say which store is full and what a rerun reuses. */
int store_nospace_hint(const struct store *st, int rc, struct ws_error *err);
void store_rel_pack(struct ws_buf *out, const char *id, const char *ext);
/* ".pack" for a format 2.0 pack, ".tar" for a 1.x one. */
const char *store_pack_ext(const struct store_pack *p);
void store_abs(const struct store *st, struct ws_buf *out, const char *rel);
int store_list_packs(struct store *st, struct ws_error *err);
struct store_pack *store_pack_find(struct store *st, const char *id);
struct store_pack *store_pack_add(struct store *st, const char *id);
int store_is_hex(const char *s, size_t n);

/* store_crypto.c */
void store_content_hash(const struct store *st, const void *data, size_t len,
			unsigned char out[STORE_HASH_LEN]);
/* Seal `len` bytes with associated data `ad`: appends sealed bytes to out. */
void store_seal(const struct store *st, const unsigned char *key,
		const void *ad, size_t adlen, const void *data, size_t len,
		struct ws_buf *out);
/* Open a seal; appends the payload to out; -1 when it does not authenticate. */
int store_unseal(const struct store *st, const unsigned char *key,
		 const void *ad, size_t adlen, const void *data, size_t len,
		 struct ws_buf *out);
/* zlib helpers (catalog frames; 1.x blobs): inflate refuses more than
 * `max` output bytes (-1). */
void store_deflate(const void *data, size_t len, int level, struct ws_buf *out);
int store_inflate(const void *data, size_t len, size_t max, struct ws_buf *out);
/* The major a new catalog of this store gets: 1 (tests' 1.x writer), 2
 * (zlib frames: stores of format 1.x to 3.0, which their own readers
 * must go on reading) or STORE_CAT_MAJOR_ZSTD (stores of format 4.0). */
unsigned store_cat_major(const struct store *st);
/* A catalog frame's payload compressed, or decompressed, as a catalog of
 * that major has it (zlib below 3, zstd from 3); decompressing refuses
 * (-1) damage and more than `max` bytes, and a zstd payload must be one
 * frame that declares its size. */
void store_cat_compress(unsigned major, const void *data, size_t len,
			struct ws_buf *out);
int store_cat_decompress(unsigned major, const void *data, size_t len,
			 size_t max, struct ws_buf *out);
/* zstd level of blobs, chosen from the table in docs/performance.md (store
 * section).  Any level reads back: the level is not part of the format. */
#ifndef STORE_ZSTD_LEVEL
#define STORE_ZSTD_LEVEL 3
#endif
/* zlib level of catalog frames: a catalog is mostly chunk hashes, which do
 * not compress, so level 1 keeps nearly all of level 6's gain at a
 * fraction of its time (a rescan's catalog is most of its cost).  Any
 * level reads back. */
#ifndef STORE_CAT_ZLIB_LEVEL
#define STORE_CAT_ZLIB_LEVEL 1
#endif
/* zstd level of catalog frames (format 4.0): it compresses a catalog as
 * well as zlib level 1 in a fraction of the time, and an unchanged
 * rescan, which decompresses the previous catalog whole, decompresses it
 * several times as fast. */
#ifndef STORE_CAT_ZSTD_LEVEL
#define STORE_CAT_ZSTD_LEVEL 1
#endif
/* 1.x writers (tests only) used zlib level 3. */
#define STORE_ZLIB_LEVEL 3
/* Sampling of a chunk before compressing it (see store_blob_compressible). */
#define STORE_SAMPLE_LEN (64u * 1024)
#define STORE_SAMPLE_SLICES 4
/*
 * Whether compressing the chunk is worth it: a chunk larger than
 * STORE_SAMPLE_LEN is sampled (STORE_SAMPLE_SLICES slices spread over it,
 * STORE_SAMPLE_LEN bytes in all) and compressed with zstd level 1; when
 * that saves less than 3 %, the chunk is judged incompressible.
 */
int store_blob_compressible(struct store_zctx *z, const void *data, size_t len);
/*
 * True when `head` (the first bytes of a file) starts like a format that is
 * already compressed (JPEG, PNG, GIF, ZIP and Office/OpenDocument files,
 * gzip, bzip2, xz, zstd, 7z, RAR, CAB, MP4/MOV/HEIC, MKV/WebM, Ogg, FLAC,
 * WebP, MP3 with an ID3 tag).
 */
int store_magic_compressed(const void *head, size_t len);
/* Encode a chunk as a blob (flags byte + payload).  `compress`: 1 try
 * (stored raw when it does not shrink), 0 store raw, -1 decide by
 * store_blob_compressible.  zstd, or zlib when st->write_v1 (tests).
 * Thread-safe for distinct `z`: reads only st's keys. */
void store_blob_encode(const struct store *st, struct store_zctx *z,
		       const unsigned char *hash, const void *data, size_t len,
		       int compress, struct ws_buf *out);
/* The same blob as store_blob_encode, made where the chunk lies: buf[1..len]
 * holds the chunk on entry, buf[0] gets the flags byte and buf[1..] the
 * payload (compressed through `scratch` when that shrinks it).  Returns the
 * blob's length.  Plain stores of format 2.0 and later only (not
 * encrypted, not st->write_v1): their blobs are never longer than 1 + len.
 * Thread-safe for distinct `z` and `scratch`. */
size_t store_blob_encode_inplace(const struct store *st, struct store_zctx *z,
				 unsigned char *buf, size_t len, int compress,
				 struct ws_buf *scratch);
/* Decode and check a blob; appends the chunk to out.  -1 + reason on damage.
 * Thread-safe for distinct `z`. */
int store_blob_decode(const struct store *st, struct store_zctx *z,
		      const unsigned char *hash, uint32_t raw_len,
		      const void *blob, size_t len, struct ws_buf *out,
		      const char **why);
void store_hash_hex(const unsigned char *hash, char out[2 * STORE_HASH_LEN + 1]);

/* Plain bytes of chunks a writer has in flight in its pipeline (threads >
 * 1): with their compressed copies, the memory a writer adds to its chunk
 * buffer, whatever the profile's size.  16 MiB rather than 8: fewer stalls
 * of the reading thread behind a slow chunk (two threads against one: 1.61x
 * -> 1.70x on the 1 GB bench profile, peak RSS 38 -> 46 MiB). */
#define STORE_PIPE_BYTES (16u << 20)

/* store_cdc.c: content-defined chunking of large files (format 2.0). */
#define STORE_CDC_SEED 0x77696e7374617465ull  /* "winstate": fixes the gear table */
/* Files of at least this many chunk-sizes are cut by content; smaller ones
 * in fixed chunk-size pieces (they are rewritten whole, not edited). */
#define STORE_CDC_FACTOR 4u
struct store_cdc {
	uint64_t gear[256];
	size_t min, avg, max;         /* avg/4, avg, min(4 avg, STORE_CHUNK_MAX) */
	uint64_t mask_s, mask_l;
};
void store_cdc_init(struct store_cdc *c, uint32_t avg);
/* Length of the chunk starting at p (n bytes available): a content
 * boundary in [min, max], or min(n, max) when there is none; n when n <= min.
 * The caller gives at least max bytes unless the file ends sooner. */
size_t store_cdc_cut(const struct store_cdc *c, const unsigned char *p, size_t n);

/* store_header.c */
int store_header_load(struct store *st, const char *dir,
		      const struct store_open_opts *opts, int *absent,
		      struct ws_error *err);
int store_header_create(const struct store *st, const char *dir,
			const struct store_open_opts *opts, struct ws_error *err);

/* store_pack.c */
int store_pack_load(struct store *st, struct store_pack *p, struct ws_error *err);
const struct store_ix_entry *store_pack_lookup(const struct store_pack *p,
					       const unsigned char *hash);
/* Parse index bytes (the .idx file or the tar's "index" entry). */
int store_index_parse(const struct store *st, const char *pack_id,
		      const void *data, size_t len, struct store_pack *p,
		      const char *where, struct ws_error *err);
void store_index_encode(const struct store *st, const struct store_pack *p,
			const struct store_ix_entry *ix, size_t n,
			uint64_t blobs_end, struct ws_buf *out);
/* Read and check one blob of pack p into out (appends). */
int store_pack_read_blob(struct store *st, struct store_pack *p,
			 const struct store_ix_entry *e, struct ws_buf *out,
			 struct ws_error *err);
/* Same with the caller's zstd contexts: safe from several threads at once
 * once p's file is open (store_pack_open_fd) and its index loaded. */
int store_pack_read_blob_z(struct store *st, struct store_pack *p,
			   const struct store_ix_entry *e, struct store_zctx *z,
			   struct ws_buf *out, struct ws_error *err);

/*
 * Run fn(ctx, i, z) for i in [0, n) on up to st->threads threads (the
 * caller's one included), each with its own zstd contexts; returns when
 * every call has returned.  fn must only touch what index i owns.
 */
typedef void (*store_par_fn)(void *ctx, size_t i, struct store_zctx *z);
void store_parallel(struct store *st, size_t n, store_par_fn fn, void *ctx);
int store_pack_open_fd(struct store *st, struct store_pack *p,
		       struct ws_error *err);
void store_pack_release(struct store_pack *p);
/* Parse a ustar header block (checksum and magic checked): name and size;
 * -1 when it is not a valid header. */
int store_tar_header(const unsigned char *h, char name[101], uint64_t *size);
uint64_t store_tar_size(uint64_t blobs_end, size_t index_len);
/* Exact size of a pack of either layout from its index. */
uint64_t store_pack_size(const struct store_pack *p, uint64_t blobs_end,
			 size_t index_len);
/* Read `len` bytes at `off` (pread loop): 0, an errno, or -1 at EOF. */
int store_read_at(int fd, void *buf, size_t len, uint64_t off);

/* Pack writer (one open pack at a time). */
struct store_packw;
int store_packw_new(struct store *st, struct store_packw **out,
		    struct ws_error *err);
/* Append a blob; *off gets the data offset. */
int store_packw_add(struct store_packw *pw, const unsigned char *hash,
		    const void *blob, size_t len, uint64_t *off,
		    struct ws_error *err);
uint64_t store_packw_size(const struct store_packw *pw);
const char *store_packw_id(const struct store_packw *pw);
int store_packw_v2(const struct store_packw *pw);
/*
 * After a failed write (disk full): keep the blobs that reached the disk
 * whole.  The pack is truncated after the last complete blob, closed with
 * an index of those blobs and renamed into packs/ like a finished pack, so
 * a rerun deduplicates against it.  *kept gets the number of index entries
 * kept (a prefix of ix, which is in write order).  Frees pw whatever the
 * result; WS_OK only when the pack and its .idx are in place.
 */
int store_packw_salvage(struct store_packw *pw, const struct store_ix_entry *ix,
			size_t n, size_t *kept, struct ws_error *err);
/* Write the index, close, rename into packs/, write the .idx.  Frees pw. */
int store_packw_finish(struct store_packw *pw, const struct store_ix_entry *ix,
		       size_t n, struct ws_error *err);
void store_packw_discard(struct store_packw *pw);

/* store_catalog.c: record codec shared by writer and reader. */
enum store_rec_type {
	REC_HEAD = 1, REC_USER = 2, REC_RULE = 3, REC_APP = 4, REC_PACKS = 5,
	REC_KEY = 6, REC_VALUE = 7, REC_FILE = 8, REC_TRAILER = 9
};
enum store_frame_kind { FR_HEAD = 1, FR_BODY = 2, FR_META = 3, FR_TRAILER = 4 };

struct store_trailer {
	int64_t finished;
	uint64_t n_users, n_values, n_keys, n_files, n_apps, n_rules, bytes;
	uint64_t meta_offset;
	uint32_t meta_first_frame;
};

void store_cat_frame_ad(struct ws_buf *ad, const unsigned char *head,
			const char *scan_id, uint32_t frame_no, unsigned kind);
void store_rec_put_str(struct ws_buf *b, const char *s);
void store_rec_put_bytes(struct ws_buf *b, const void *p, size_t n);

/*
 * Reading records back (catalog, events) as untrusted input: a bounded
 * cursor.  A read past the end, an over-long varint or a value out of range
 * sets `bad`; reads then return 0 or "" and the caller drops the record.
 */
struct store_cur {
	const unsigned char *p, *end;
	int bad;
};
uint64_t store_cur_varint(struct store_cur *c);
uint32_t store_cur_u32(struct store_cur *c);
/* A length-prefixed string of at most `max` bytes, copied NUL-terminated
 * into *owned (the caller frees it; NULL when nothing was copied); an
 * embedded NUL makes the record bad. */
const char *store_cur_str(struct store_cur *c, size_t max, char **owned);

/* A new scan or event id, "YYYYMMDDTHHMMSSZ-" and 16 random hex digits,
 * from the store's clock; *ns gets the reading's nanoseconds (ids of one
 * second are ordered by them). */
void store_make_id(const struct store *st, char *out, int32_t *ns);
void store_enc_head(struct ws_buf *b, const struct store_scan_info *info);
void store_enc_user(struct ws_buf *b, const struct store_user *u);
void store_enc_rule(struct ws_buf *b, const struct store_rule *r);
void store_enc_app(struct ws_buf *b, const struct store_app *a);
void store_enc_key(struct ws_buf *b, const struct store_key *k);
void store_enc_value(struct ws_buf *b, const struct store_value *v);
void store_enc_file(struct ws_buf *b, const struct store_file *f);
void store_enc_trailer(struct ws_buf *b, const struct store_trailer *t);
/* Append one sealed frame to `out`. */
void store_cat_frame(const struct store *st, const char *scan_id,
		     uint32_t frame_no, unsigned kind, const void *payload,
		     size_t len, struct ws_buf *out);
/* The same for a payload compressed already (`z`, as store_cat_compress
 * makes it for the store's catalog major). */
void store_cat_frame_sealed(const struct store *st, const char *scan_id,
			    uint32_t frame_no, unsigned kind, const void *z,
			    size_t zlen, struct ws_buf *out);
void store_cat_file_header(const struct store *st, struct ws_buf *out);
void store_cat_footer(struct ws_buf *out, uint64_t trailer_off,
		      uint32_t trailer_frame);
uint32_t store_user_dec(uint64_t v);
/* Open scans/<id>.cat: head and trailer; with `full` also users, rules,
 * apps and the pack table. */
int store_cat_load(struct store *st, const char *scan_id, int full,
		   struct store_catalog **out, struct ws_error *err);
/* Committed scan ids found in scans/ (malloc'd array of malloc'd ids). */
int store_cat_list_ids(struct store *st, char ***ids, size_t *n,
		       struct ws_error *err);
/* The same, only those that may be `device`'s (NULL: all): a catalog whose
 * device tag (scans/<id>.<tag>.dev) names another device is left out
 * unopened; one without a tag (an older writer's) is kept. */
int store_cat_list_ids_for(struct store *st, const char *device, char ***ids, size_t *n,
			   struct ws_error *err);
/* "<32 hex>" of `device` (§2 device tags): 0, or -1 when the name has no
 * tag (an ASCII control character, or longer than STORE_DEVICE_TAG_MAX
 * bytes). */
#define STORE_DEVICE_TAG_MAX 256
int store_device_tag(const struct store *st, const char *device, char hex[33]);
/* A device tag file's scan id and tag ("<id>.<32 hex>.dev"): 0, or -1 when
 * `name` is not one. */
int store_device_tag_name(const char *name, char id[STORE_SCAN_ID_MAX], char tag[33]);
size_t store_cat_n_packs(const struct store_catalog *cat);
/* The store's threads (store_open_opts.threads). */
unsigned store_cat_threads(const struct store_catalog *cat);
/* The store the catalog was opened from. */
struct store *store_cat_store(const struct store_catalog *cat);
/* The reader itself (store_catalog_next without reading ahead). */
int store_cat_next_raw(struct store_catalog *cat, struct store_record *rec,
		       struct ws_error *err);
/* Called by store_cat_next_raw for each body frame it opens: its number,
 * where it lies in the catalog file (the 5-byte frame header at `off`,
 * then `sealed_len` sealed bytes), its plain payload's length and `h`, the
 * payload's SipHash-128 under `key` (computed where the frame is inflated:
 * with store_cat_prefetch, on that thread).  Set before store_cat_prefetch.
 * The writer reuses an unchanged rescan's frames as they are
 * (store_writer.c). */
typedef void (*store_cat_frame_fn)(void *ctx, uint32_t no, uint64_t off,
				   uint32_t sealed_len, const unsigned char h[16], size_t len);
void store_cat_on_body_frame(struct store_catalog *cat, store_cat_frame_fn fn, void *ctx,
			     const unsigned char key[16]);
/* With the store's threads, each body frame is read, unsealed and
 * inflated on a thread of its own while the records of the one before are
 * decoded (same records, errors and salvage as without). */
void store_cat_prefetch(struct store_catalog *cat);
/* The catalog's scan id and its file's 8-byte header (bound into every
 * frame's seal). */
const char *store_cat_scan_id(const struct store_catalog *cat);
const unsigned char *store_cat_head(const struct store_catalog *cat);
/* 1 when the catalog's pack `pack` is found and its index loaded. */
int store_cat_pack_loaded(const struct store_catalog *cat, uint32_t pack);
/* Chunk i of file: its pack (file open) and index entry; the caller's
 * thread (loads indexes, opens pack files).  Damage -> WS_E_CORRUPT. */
int store_cat_chunk_entry(struct store_catalog *cat, const struct store_file *file,
			  size_t i, struct store_pack **pp,
			  const struct store_ix_entry **ep, struct ws_error *err);

/*
 * store_ahead.c: records read ahead of the caller into a ring, small
 * files' content decoded on worker threads (store_catalog_ahead).
 * _next hands out the next record (same records and errors as
 * store_cat_next_raw); _read delivers the content of the record last
 * handed out: returns 0 when it has none (the caller reads as usual), 1
 * with *rc the read's status.  _reset forgets what was read ahead.
 */
struct store_ahead;
struct store_ahead *store_ahead_new(struct store_catalog *cat, struct store *st);
void store_ahead_free(struct store_ahead *ah);
void store_ahead_reset(struct store_ahead *ah);
int store_ahead_next(struct store_ahead *ah, struct store_record *rec,
		     struct ws_error *err);
int store_ahead_read(struct store_ahead *ah, const struct store_file *file,
		     store_data_fn fn, void *ctx, int *rc, struct ws_error *err);

/* The trailer's counts of a loaded catalog (for the listing). */
const struct store_trailer *store_cat_trailer(const struct store_catalog *cat);

/* Scan ids: syntactically valid catalog name stem. */
int store_scan_id_valid(const char *s);

/*
 * Order of two scans, newest first (<0 when a is newer): the second in the
 * scan id, then the start's nanoseconds (-1 = unknown sorts as oldest of its
 * second), then the id itself so the order is total.
 */
int store_scan_order(const char *id_a, int32_t ns_a, const char *id_b,
		     int32_t ns_b);

#endif
