/*
 * store.h - the migration store: a folder of content-addressed, deduplicated,
 * compressed, checksummed and optionally encrypted blobs kept in ustar packs,
 * plus one catalog per scan.  The on-disk format is specified in
 * docs/store-format.md; this header is the whole public API.
 *
 * Life cycle (writer, i.e. the scanner):
 *   1. store_open(dir, &opts{.create = 1, key...}, &st, &err)
 *   2. store_scan_begin(st, &info, &w, &err)         one writer per scan
 *   3. store_scan_add_user / _add_rule / _add_app / _add_key / _add_value
 *      store_scan_add_file(w, &meta, fd, &err)       streams content in chunks
 *   4. store_scan_commit(w, scan_id_out, &err)        catalog written last,
 *      or store_scan_abort(w)                         nothing becomes visible
 *   5. store_close(st)
 * Several writers (threads with one `struct store` each, processes, machines)
 * may write into the same folder at the same time.  A `struct store` and the
 * objects made from it are not thread-safe: use one per thread.
 *
 * Life cycle (reader):
 *   1. store_open(dir, &opts{key...}, &st, &err)      wrong key -> WS_E_KEY
 *   2. store_list_scans(st, device_or_NULL, &list, &err), newest first
 *   3. store_catalog_open(st, device, scan_id_or_NULL, &cat, &err)
 *      store_catalog_info/_users/_rules/_apps (in memory),
 *      store_catalog_next(cat, &rec, &err) streams values, keys and files,
 *      store_catalog_read_file(cat, &file, fd, &err) returns verified content
 *   4. store_catalog_free(cat); store_close(st)
 * Whole-store operations: store_verify, store_extract, store_prune.
 *
 * Errors: every int function returns WS_OK or a WS_E_* code and fills `err`
 * (which may be NULL).  Codes used: WS_E_STORE (not a store, unusable
 * folder, newer format), WS_E_KEY (key missing or wrong), WS_E_CORRUPT
 * (damage; err->where names the pack or catalog, the message what it
 * affects), WS_E_IO, WS_E_NOSPACE, WS_E_USAGE (bad arguments),
 * WS_E_UNSUPPORTED (hostile or out-of-range record refused).
 *
 * Strings are UTF-8 (WTF-8 for unpaired surrogates, see ws_utf.h).  Times
 * named *_ft are Windows FILETIMEs (100 ns since 1601); scan start/finish
 * are Unix seconds.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#include "util/ws_error.h"
#include "util/ws_log.h"

/* Format version written into a new store's header; readers refuse a newer
 * major.  3.0: SHA-256 content hashes (packs and catalogs as in 2.0);
 * 4.0: catalog frames compressed with zstd (catalog major 3). */
#define STORE_FORMAT_MAJOR 4
#define STORE_FORMAT_MINOR 0

#define STORE_HASH_LEN 32               /* SHA-256 (HMAC when encrypted) from
					   format 3 on, BLAKE2b-256 (keyed when
					   encrypted) in older stores */
#define STORE_KEY_LEN 32                /* key file size */
#define STORE_SCAN_ID_MAX 40            /* "20261123T045524Z-0123456789abcdef" + NUL */
#define STORE_CHUNK_DEFAULT (1u << 20)  /* 1 MiB content chunks */
#define STORE_CHUNK_MAX (4u << 20)      /* readers refuse larger chunks */
#define STORE_PACK_DEFAULT (256u << 20) /* packs closed at 256 MiB */
#define STORE_PACK_MAX (2048u << 20)    /* far below the FAT32 4 GiB limit */
#define STORE_PACK_MIN 4096u            /* smallest pack-size a header may set */
/* Writers also close a pack at this many blobs, whatever its size: its
 * index is held in memory until then (48 bytes a blob, and twice that
 * while it is sealed), so small files cannot make it grow without bound. */
#define STORE_PACK_BLOBS_MAX 65536u
#define STORE_GRACE_DEFAULT (24 * 3600) /* prune's safety margin, seconds */

/* User index meaning "not a user": HKLM values, files outside profiles. */
#define STORE_SYSTEM UINT32_MAX

struct store;
struct store_writer;
struct store_catalog;

/* ---------------------------------------------------------------------- */
/* Opening                                                                */

struct store_open_opts {
	int create;                 /* create the store when the folder has none */
	int encrypt;                /* with create: make an encrypted store
				       (needs passphrase or key) */
	const char *passphrase;     /* NUL-terminated, or NULL */
	const unsigned char *key;   /* STORE_KEY_LEN bytes, or NULL */
	uint64_t pack_size;         /* 0 = the header's pack-size, else
				       STORE_PACK_DEFAULT; with create it is
				       recorded in a new store's header */
	uint32_t chunk_size;        /* new stores only; 0 = STORE_CHUNK_DEFAULT,
				       4 KiB .. STORE_CHUNK_MAX */
	/* Argon2id cost for a new passphrase store; 0 = libsodium's MODERATE. */
	unsigned long long kdf_opslimit;
	size_t kdf_memlimit;
	struct ws_log *log;         /* optional: warnings (skipped junk files) */
	unsigned threads;           /* threads that hash, compress and decompress
				       content: 0 = one per online core, 1 = all
				       in the caller's thread */
	int reread;                 /* writers read every file, even one whose
				       size and times equal the device's
				       previous scan (see store_scan_add_file) */
};

/*
 * Open the store in `dir`.  With opts->create the folder (and its parents)
 * is created if needed and a header is written with no-replace semantics;
 * when another process created it first, its header is used (an encryption
 * mismatch with what was asked is WS_E_STORE).  An encrypted store needs a
 * passphrase or key: none -> WS_E_KEY, wrong one -> WS_E_KEY (checked
 * against the header's key-check value before anything else is read).
 * A key given for a plain store is ignored when reading and refused
 * (WS_E_STORE) when opts->encrypt asks for encryption.
 * On success *out is owned by the caller: store_close().
 */
int store_open(const char *dir, const struct store_open_opts *opts,
	       struct store **out, struct ws_error *err);

/* Free the handle (NULL is fine).  Open writers/catalogs must be gone. */
void store_close(struct store *st);

/* The threads the store was opened with (store_open_opts.threads, 0
 * resolved to the online cores): >= 1. */
unsigned store_threads(const struct store *st);

/* True when the store is encrypted. */
int store_is_encrypted(const struct store *st);

/*
 * Read a key file: exactly STORE_KEY_LEN raw bytes, or 64 hex digits
 * (optionally followed by a newline).  Anything else -> WS_E_USAGE.
 */
int store_key_file_read(const char *path, unsigned char key[STORE_KEY_LEN],
			struct ws_error *err);

/* ---------------------------------------------------------------------- */
/* Records                                                                */

struct store_scan_info {
	char scan_id[STORE_SCAN_ID_MAX]; /* set by the store (begin/read) */
	const char *device;          /* required, non-empty */
	const char *computer;        /* SYSTEM ComputerName, may be NULL */
	const char *os_product;      /* "Windows 11 Pro" */
	const char *os_build;        /* "22631.4317" */
	const char *os_edition;      /* "Professional" */
	const char *os_arch;         /* "amd64" */
	const char *tool_version;    /* winstate version that scanned */
	char system_drive;           /* 'C' when 0; files must live on it */
	int64_t started;             /* Unix seconds; 0 = now (writer) */
	int32_t started_ns;          /* nanoseconds after the scan id's second
					(0..999999999), set by the store; -1 when
					unknown (catalogs of format 1.0).  Orders
					scans of one second (newest first). */
	int64_t finished;            /* Unix seconds; set by commit */
	const char *const *rule_files; /* rule files used */
	size_t n_rule_files;
};

enum store_user_flags {
	STORE_USER_LOCAL = 1u << 0,     /* local account */
	STORE_USER_DOMAIN = 1u << 1,    /* AD domain account */
	STORE_USER_AZURE = 1u << 2,     /* Entra ID (S-1-12-1-...) */
	STORE_USER_DEFAULT = 1u << 3,   /* the Default profile */
	STORE_USER_LOADED_HIVE_DIRTY = 1u << 4 /* NTUSER.DAT had to be replayed */
};

struct store_user {
	uint32_t index;          /* chosen by the scanner, unique per scan */
	const char *sid;         /* "S-1-5-21-...", required */
	const char *account;     /* "DOMAIN\\user", may be "" */
	const char *profile_path;/* "C:\\Users\\alice" */
	uint64_t last_use_ft;    /* FILETIME, 0 = unknown */
	uint32_t flags;          /* enum store_user_flags */
};

struct store_rule {
	uint32_t index;          /* unique per scan */
	const char *text;        /* "MigUser.xml:42 component 'My Documents' ..." */
};

struct store_app {
	uint32_t user;           /* user index or STORE_SYSTEM */
	const char *family;      /* package family name */
	const char *full_name;
	const char *version;
	const char *arch;
	const char *publisher;
	const char *app_class;   /* "store", "framework", "provisioned" ... */
};

/* A selected registry key (recorded when it holds no selected value). */
struct store_key {
	uint32_t user;           /* user index or STORE_SYSTEM */
	const char *path;        /* "HKCU\\Control Panel\\Desktop" */
	uint32_t rule;           /* rule index that selected it */
};

struct store_value {
	uint32_t user;           /* user index or STORE_SYSTEM */
	const char *key;         /* "HKCU\\Control Panel\\Desktop" */
	const char *name;        /* "" = the key's default value */
	uint32_t type;           /* REG_* number, any value kept */
	const unsigned char *data;
	size_t len;              /* at most STORE_VALUE_MAX */
	uint32_t rule;
};
#define STORE_VALUE_MAX (16u << 20)

enum store_file_flags {
	STORE_FILE_DIR = 1u << 0,          /* a folder: no content */
	STORE_FILE_NOT_CAPTURED = 1u << 1, /* content deliberately not stored
					      (cloud-only placeholder ...) */
	STORE_FILE_REPARSE = 1u << 2,      /* was a reparse point */
	STORE_FILE_SPARSE = 1u << 3,
	STORE_FILE_OFFLINE = 1u << 4       /* FILE_ATTRIBUTE_OFFLINE/RECALL */
};

/* Where one chunk of a file lives. */
struct store_chunk_ref {
	unsigned char hash[STORE_HASH_LEN];
	uint32_t raw_len;        /* plain bytes in the chunk */
	uint32_t pack;           /* index into the catalog's pack table */
};

struct store_file {
	uint32_t user;           /* user index or STORE_SYSTEM */
	const char *path;        /* "C:\\Users\\alice\\Documents\\a.txt" */
	uint64_t size;           /* bytes stored (sum of chunk raw_len) */
	uint32_t attributes;     /* Windows FILE_ATTRIBUTE_* */
	uint64_t created_ft, written_ft, accessed_ft;
	uint32_t flags;          /* enum store_file_flags */
	uint32_t rule;
	/* Filled by the reader; ignored by store_scan_add_file. */
	const struct store_chunk_ref *chunks;
	size_t n_chunks;
};

/* ---------------------------------------------------------------------- */
/* Writing a scan                                                         */

/*
 * Start a scan of one device.  `info` is copied; the new id is available
 * through store_writer_scan_id().  info->scan_id, when not empty, names
 * the device's scan whose unchanged files are recorded without being read
 * (a caller that has just listed the device's scans gives its newest, so
 * that the store does not list every catalog again); empty: the device's
 * newest scan, found here.  The packs complete now are listed; before
 * the first file that has to be read the writer loads their indexes, so
 * that content already in the store (any device, any scan) is not stored
 * again (an unchanged rescan loads none).  With more than one thread the
 * previous scan is still being read, on a thread of its own, when this
 * returns: the writer waits for it when a file is added, a body frame is
 * written or the scan ends, and `st` is not used by the caller meanwhile
 * (as while any writer is open).  A marker scans/<id>.open tells
 * store_prune that a writer is alive.  *out: store_scan_commit/_abort.
 */
int store_scan_begin(struct store *st, const struct store_scan_info *info,
		     struct store_writer **out, struct ws_error *err);

const char *store_writer_scan_id(const struct store_writer *w);

/* Records: strings are copied.  Duplicate user/rule indexes -> WS_E_USAGE. */
int store_scan_add_user(struct store_writer *w, const struct store_user *u,
			struct ws_error *err);
int store_scan_add_rule(struct store_writer *w, const struct store_rule *r,
			struct ws_error *err);
int store_scan_add_app(struct store_writer *w, const struct store_app *a,
		       struct ws_error *err);
int store_scan_add_key(struct store_writer *w, const struct store_key *k,
		       struct ws_error *err);
int store_scan_add_value(struct store_writer *w, const struct store_value *v,
			 struct ws_error *err);

/*
 * Add a file or folder.  For a regular file whose content is captured, `fd`
 * is read from its current position to EOF in chunks (memory stays bounded
 * by the chunk size); the record holds the number of bytes actually read.
 * Unless the store was opened with `reread`, a file whose path, size
 * (meta->size), last-write (non-zero) and creation times equal those
 * of the same device's newest committed scan, and whose chunks are all
 * still in the store, is recorded with that scan's chunks without being
 * read (as backup tools trust size and time: an unchanged rescan costs the
 * walk, not the content).  fd = -1 for folders and for
 * STORE_FILE_NOT_CAPTURED.  A read error is WS_E_IO naming meta->path; the
 * file is then not recorded but the writer stays usable.
 */
int store_scan_add_file(struct store_writer *w, const struct store_file *meta,
			int fd, struct ws_error *err);

/*
 * Same, the content read through `read` (a file inside an NTFS image): it
 * returns the count read into buf (at most n), 0 at the end, or -1 having
 * filled its ws_error (then WS_E_IO naming meta->path).
 */
typedef long long (*store_read_fn)(void *ctx, void *buf, size_t n,
				   struct ws_error *err);
int store_scan_add_file_read(struct store_writer *w,
			     const struct store_file *meta, store_read_fn read,
			     void *ctx, struct ws_error *err);

/*
 * The unchanged-file check of store_scan_add_file without the content: when
 * `meta` (size and times as the walk saw them) is unchanged since the
 * device's newest scan as described above, the file is recorded with that
 * scan's chunks and *taken = 1, so a rescan need not even open it; else
 * *taken = 0 and nothing is recorded (add it with its content).
 */
int store_scan_add_file_unchanged(struct store_writer *w,
				  const struct store_file *meta, int *taken,
				  struct ws_error *err);

/* Same, from memory (small files, tests). */
int store_scan_add_file_mem(struct store_writer *w,
			    const struct store_file *meta, const void *data,
			    size_t len, struct ws_error *err);

struct store_write_stats {
	uint64_t chunks;          /* chunks referenced by this scan */
	uint64_t chunks_new;      /* of which stored now */
	uint64_t bytes;           /* plain bytes of content referenced */
	uint64_t bytes_new;       /* plain bytes of chunks stored now */
	uint64_t bytes_written;   /* bytes written into packs (compressed) */
	uint64_t packs_new;       /* packs closed (complete, with their .idx):
				     what a rerun reuses if the scan is not
				     committed */
	uint64_t bytes_kept;      /* plain content bytes in those packs */
	uint64_t files_unchanged; /* taken from the previous scan unread */
	uint64_t frames_reused;   /* catalog body frames of the previous scan
				     taken as they were (same records) */
	uint64_t indexes_read;    /* pack indexes loaded for deduplication:
				     none while every file is unchanged */
	uint64_t dd_probes;       /* slots looked at past the first as chunks
				     enter the dedup table: about as many as
				     chunks whatever their content, for the
				     table's positions are keyed */
};
/* Waits for the chunks in flight (they are counted once stored). */
void store_writer_stats(struct store_writer *w, struct store_write_stats *out);

/*
 * Close the open pack, write the catalog under a temporary name, fsync and
 * rename it into scans/ (the scan becomes visible only then), remove the
 * marker.  scan_id_out (STORE_SCAN_ID_MAX bytes, may be NULL) gets the id.
 * The writer is freed whatever the result; on failure nothing is visible
 * and the packs already closed stay for a rerun to reuse.
 */
int store_scan_commit(struct store_writer *w, char *scan_id_out,
		      struct ws_error *err);

/* Drop the scan: remove temporary files and the marker; free the writer. */
void store_scan_abort(struct store_writer *w);

/*
 * Stop an interrupted scan (Ctrl-C, a failed source): the chunks in flight
 * and the open pack are completed and closed as at its size limit, so a
 * rerun stores only what is missing; then as store_scan_abort (nothing
 * becomes visible).  `out` (may be NULL) gets the final counts: packs_new
 * and bytes_kept say what the rerun will reuse.
 */
void store_scan_stop(struct store_writer *w, struct store_write_stats *out);

/* ---------------------------------------------------------------------- */
/* Listing and reading scans                                              */

struct store_scan_entry {
	struct store_scan_info info;  /* strings owned by the list */
	uint64_t n_users, n_values, n_keys, n_files, n_apps, n_rules;
	uint64_t bytes;               /* plain content bytes referenced */
};

struct store_scan_list {
	struct store_scan_entry *v;   /* newest first: by the scan id's
					 time, then started_ns, then id */
	size_t n;
	size_t damaged;               /* catalogs skipped because unreadable */
};
#define STORE_SCAN_LIST_INIT { NULL, 0, 0 }

/*
 * Device names are compared case-insensitively everywhere (Windows computer
 * names are; ws_name_casecmp): scans recorded as "pc01" and "PC01" are one
 * device.  Each scan keeps the spelling it was written with; the scanner
 * reuses the spelling of the device's newest scan (docs/store-format.md).
 */

/*
 * Every committed scan (of `device` only when not NULL, any case),
 * newest first.  Damaged catalogs are skipped and counted in list->damaged
 * (store_verify names them).  Release with store_scan_list_release().
 */
int store_list_scans(struct store *st, const char *device,
		     struct store_scan_list *list, struct ws_error *err);
/*
 * The same, stopping early: catalogs are opened newest first (by the
 * second in their ids), and once a second's scans are listed and one of
 * the list satisfies enough(entry, ctx), no older catalog is opened.  The
 * list then holds the newest scans, in order, up to and past that one; a
 * device scanned every week is not read whole to find its last scan.
 * list->damaged counts only the catalogs opened.
 */
int store_list_scans_until(struct store *st, const char *device,
			   int (*enough)(const struct store_scan_entry *e, void *ctx),
			   void *ctx, struct store_scan_list *list, struct ws_error *err);
void store_scan_list_release(struct store_scan_list *list);

/*
 * Is there a readable scan of `device` (any case)?  WS_OK and, when `name`
 * is not NULL, the spelling of its newest scan in `name` (name_size bytes);
 * else WS_E_USAGE whose message lists the store's devices.
 */
int store_device_find(struct store *st, const char *device, char *name,
		      size_t name_size, struct ws_error *err);

/*
 * Open the catalog of `device`'s scan `scan_id`, or its newest scan when
 * scan_id is NULL.  No such scan -> WS_E_USAGE (message names device/id;
 * for an unknown device it lists the store's devices).
 * `device` may be NULL when scan_id is given.
 */
int store_catalog_open(struct store *st, const char *device,
		       const char *scan_id, struct store_catalog **out,
		       struct ws_error *err);
void store_catalog_free(struct store_catalog *cat);

/* The catalog's counts (for progress totals): values, keys and files
 * recorded, and their content bytes; 0 when the catalog does not say. */
void store_catalog_totals(const struct store_catalog *cat, uint64_t *records,
			  uint64_t *bytes);
/* Scan info; strings live as long as the catalog. */
const struct store_scan_info *store_catalog_info(const struct store_catalog *cat);
/* Users, rules and apps (in memory, sorted by index / in insert order). */
const struct store_user *store_catalog_users(const struct store_catalog *cat,
					     size_t *n);
const struct store_rule *store_catalog_rules(const struct store_catalog *cat,
					     size_t *n);
const struct store_app *store_catalog_apps(const struct store_catalog *cat,
					   size_t *n);
/* Find a user / rule by index; NULL when absent. */
const struct store_user *store_catalog_user(const struct store_catalog *cat,
					    uint32_t index);
const char *store_catalog_rule_text(const struct store_catalog *cat,
				    uint32_t index);

enum store_rec_kind {
	STORE_REC_END = 0,
	STORE_REC_KEY = 1,
	STORE_REC_VALUE = 2,
	STORE_REC_FILE = 3
};

struct store_record {
	int kind;                 /* enum store_rec_kind */
	union {
		struct store_key key;
		struct store_value value;
		struct store_file file;
	} u;
};

/*
 * Next key/value/file record in the order they were added (streamed frame
 * by frame: bounded memory).  rec->kind == STORE_REC_END at the end.  The
 * record's pointers stay valid until the next call.  Damage -> WS_E_CORRUPT
 * naming the catalog; calling again continues after the damaged record or
 * frame (salvage), so a loop that goes on after WS_E_CORRUPT ends.
 * store_catalog_rewind() restarts from the first.
 */
int store_catalog_next(struct store_catalog *cat, struct store_record *rec,
		       struct ws_error *err);
void store_catalog_rewind(struct store_catalog *cat);

/*
 * Decode ahead (on = 1): store_catalog_next reads records ahead of the
 * caller (a few hundred, about 16 MiB of content) and worker threads (the
 * store's threads less one; with one thread nothing changes) read, check
 * and decompress the content of the small files among them, so that
 * store_catalog_read_file(_cb) of the record last returned finds it ready.
 * Records, errors and content are the same, in the same order, as without:
 * a damaged chunk is reported by the read of its file, naming it.  Turn it
 * on before the first record or just after a rewind; on = 0 (or
 * store_catalog_free) stops the threads.  A read of another file than the
 * record last returned is served as usual.
 */
void store_catalog_ahead(struct store_catalog *cat, int on);

/* Pack id (32 hex) of entry `pack` of the catalog's pack table, or NULL. */
const char *store_catalog_pack_id(const struct store_catalog *cat,
				  uint32_t pack);

/*
 * Content of `file` (a record from store_catalog_next), every chunk
 * decrypted, decompressed and checked against its hash.  The callback
 * variant gets the bytes chunk by chunk; returning nonzero stops with that
 * value as the status.  A damaged or missing chunk -> WS_E_CORRUPT naming
 * the pack and the file.  The fd variant: a failed write is WS_E_IO (disk
 * full: WS_E_NOSPACE) naming the path `fd` was opened as.
 */
typedef int (*store_data_fn)(void *ctx, const void *data, size_t len);
int store_catalog_read_file_cb(struct store_catalog *cat,
			       const struct store_file *file,
			       store_data_fn fn, void *ctx,
			       struct ws_error *err);
int store_catalog_read_file(struct store_catalog *cat,
			    const struct store_file *file, int fd,
			    struct ws_error *err);

/* ---------------------------------------------------------------------- */
/* Verify                                                                 */

enum store_problem_kind {
	STORE_PROBLEM_HEADER = 1,     /* winstate-store damaged */
	STORE_PROBLEM_PACK = 2,       /* pack file missing, truncated, bad tar */
	STORE_PROBLEM_INDEX = 3,      /* pack index damaged or missing */
	STORE_PROBLEM_BLOB = 4,       /* one blob does not decode or match */
	STORE_PROBLEM_CATALOG = 5,    /* catalog damaged */
	STORE_PROBLEM_FILE = 6,       /* a scan's file lost content */
	STORE_PROBLEM_EVENT = 7       /* an event record damaged (§13) */
};

struct store_problem {
	int kind;                     /* enum store_problem_kind */
	const char *object;           /* path relative to the store */
	const char *device;           /* affected scan's device, or NULL */
	const char *scan_id;          /* affected scan, or NULL */
	const char *file;             /* affected file path, or NULL */
	const char *message;
};

typedef void (*store_problem_fn)(void *ctx, const struct store_problem *p);

struct store_verify_opts {
	const char *device;           /* only this device's scans and their packs
					 (any case; unknown -> WS_E_USAGE listing
					 the store's devices) */
	int deep;                     /* decode and hash every blob */
	store_problem_fn on_problem;  /* may be NULL */
	void *ctx;
	const struct ws_progress *progress;
	const volatile sig_atomic_t *cancel; /* nonzero: stop (WS_E_CANCELED) */
};

struct store_verify_stats {
	uint64_t scans, packs, blobs_checked, files_checked;
	uint64_t problems;
	uint64_t files_damaged;       /* files of scans that lost content */
	uint64_t events;              /* event records checked (whole store) */
};

/*
 * Check the store.  Without deep: header, every catalog read through (all
 * frames authenticated), every pack index authenticated and consistent with
 * its pack's size and embedded index, every chunk a catalog references is
 * present in its pack's index with the same length.  With deep: also every
 * blob is read, decrypted, decompressed and hashed, and the files using a
 * bad blob are reported.  Without opts->device, every event record is
 * authenticated too (STORE_PROBLEM_EVENT).  Returns WS_OK when sound, WS_E_CORRUPT when a
 * problem was reported, another code when verification could not run.
 */
int store_verify(struct store *st, const struct store_verify_opts *opts,
		 struct store_verify_stats *stats, struct ws_error *err);

/* ---------------------------------------------------------------------- */
/* Extract                                                                */

struct store_extract_opts {
	const char *dest;             /* created if missing */
	/* fnmatch(3) patterns (case-insensitive, '\\' separators as stored)
	 * tested against the Windows path; exclude wins; no include = all. */
	const char *const *include;
	size_t n_include;
	const char *const *exclude;
	size_t n_exclude;
	store_problem_fn on_problem;  /* damaged or refused files, may be NULL */
	void *ctx;
	const struct ws_progress *progress;
	const volatile sig_atomic_t *cancel; /* nonzero: stop (WS_E_CANCELED) */
};

struct store_extract_stats {
	uint64_t files, dirs, bytes;
	uint64_t damaged;             /* files not written: content damaged */
	uint64_t refused;             /* hostile or invalid paths */
};

/*
 * Restore the catalog's files into opts->dest as dest/<drive>/<path...>
 * (C:\Users\a\x.txt -> dest/C/Users/a/x.txt, D:\Data\y -> dest/D/Data/y:
 * every drive of the scan in its own folder), with their write times.
 * Refused (reported, skipped): paths not drive-absolute, with "", ".", "..", '/' or NUL components, longer than 4096
 * bytes.  Nothing is written outside dest: no symlink is followed, existing
 * files are never overwritten (-> reported as refused).  Every undamaged
 * file is written (to a temporary name, renamed when complete).  Returns
 * WS_OK, WS_E_CORRUPT when some content was damaged, WS_PARTIAL when some
 * paths were refused but nothing was damaged, or an error code.
 */
int store_extract(struct store_catalog *cat,
		  const struct store_extract_opts *opts,
		  struct store_extract_stats *stats, struct ws_error *err);

/* ---------------------------------------------------------------------- */
/* Prune                                                                  */

struct store_prune_opts {
	unsigned keep;            /* newest scans kept per device (>= 1) */
	int64_t grace_seconds;    /* <0 = STORE_GRACE_DEFAULT; packs younger
				     than this and live writers are respected */
	int dry_run;
	int force;                /* also remove a device's newest scan with
				     users when newer scans have none */
	struct ws_log *log;       /* one INFO line per removed object */
};

struct store_prune_stats {
	uint64_t scans_removed, packs_removed, bytes_freed;
	uint64_t packs_kept_young;  /* unreferenced, but within the grace period */
	uint64_t scans_kept_users;  /* beyond keep, kept as the device's newest
				       scan with users (not forced) */
	int writers_alive;          /* packs were kept because scans were running */
};

/*
 * Remove all but the newest opts->keep scans of every device (devices
 * compared case-insensitively), then the packs no remaining catalog
 * references.  Unless opts->force, a device's newest scan that has users
 * is kept even beyond keep (newer scans without users, committed with
 * scan's --allow-empty, must not push it out).  See docs/store-format.md,
 * "Pruning and concurrent writers", for why this is safe while scanners
 * run.  Catalogs that cannot be read are never removed and make prune keep
 * every pack (WS_E_CORRUPT is returned after the catalog step).
 */
int store_prune(struct store *st, const struct store_prune_opts *opts,
		struct store_prune_stats *stats, struct ws_error *err);

/* ---------------------------------------------------------------------- */
/* Event records                                                          */

/*
 * What happened to devices and targets, beside the scans: every scan
 * attempt (committed or failed), every apply, every first-sign-in outcome
 * collected from a target.  One small sealed file per event in events/
 * (docs/store-format.md §13): written once under a unique name, so any
 * number of writers may add events at once; encrypted like catalogs in an
 * encrypted store.  Stores without events/ read as having none.
 */
enum store_event_type {
	STORE_EVENT_SCAN = 1,     /* a scan attempt of one device */
	STORE_EVENT_APPLY = 2,    /* an apply onto one target (not dry runs) */
	STORE_EVENT_SIGNIN = 3    /* a first-sign-in result record collected */
};

struct store_count {
	const char *name;        /* "users", "bytes_new", "files_placed" ... */
	uint64_t value;
};

/* Apply: one source user (and "system"). */
struct store_event_user {
	const char *account, *sid;         /* source */
	const char *new_account, *new_sid; /* after mapping ("" unknown) */
	const char *mode;        /* "offline", "first-sign-in", "extract",
				    "default", "skipped" */
	const char *target;      /* profile or bundle path ("" none) */
	const char *reason;      /* why skipped/staged ("" none) */
	const struct store_count *counts;
	size_t n_counts;
};

/* Apply: one settings-catalog group of a Windows 10 -> 11 apply. */
struct store_event_compat {
	const char *component;
	const char *verdict;     /* "carried", "translated", "dropped" */
	uint64_t values, files;
};

/* A warning or error met on the way (with its reason). */
struct store_event_note {
	int level;               /* WS_LOG_ERROR or WS_LOG_WARN */
	const char *where;
	const char *text;
};

/* First sign-in: what a target's results\<key>.txt said. */
struct store_event_signin {
	const char *key;         /* SID or "A-<32 hex>" (the file's name) */
	const char *account;     /* DOMAIN\user of the last line ("" unknown) */
	const char *bundle_id;   /* "{GUID}" of the last line ("" unknown) */
	const char *outcome;     /* "restored", "failed", "retrying", "gave-up",
				    "declined", "expired", "unknown" */
	const char *when;        /* the last line's local time text */
	const char *last_line;   /* control characters shown as \xNN */
	uint64_t attempt;        /* of the last line, 0 unknown */
	uint64_t lines, size;    /* of the result file */
	unsigned char digest[STORE_HASH_LEN]; /* BLAKE2b-256 of the file: a
						 file collected twice is one event */
};

struct store_event {
	int type;                /* enum store_event_type (others: skip) */
	char id[STORE_SCAN_ID_MAX]; /* set by store_event_write / the reader */
	int32_t id_ns;           /* reader: nanoseconds of the id's second (-1
				    unknown): orders events of one second */
	int64_t started, finished;  /* Unix seconds */
	int status;              /* the attempt's exit status (0 ok, 3 partial) */
	const char *device;      /* scan: the device ("" not known); apply: the
				    scan's device; signin: "" */
	const char *computer;    /* scan: the source's computer name; apply and
				    signin: the target's */
	const char *location;    /* scan: source folder; apply, signin: target */
	const char *scan_id;     /* scan: committed scan; apply: applied scan */
	const char *message;     /* why it failed ("" when it did not) */
	const char *tool_version;
	uint64_t line;           /* scan: inventory line (0 = command line) */
	const struct store_count *counts;
	size_t n_counts;
	const struct store_event_user *users;
	size_t n_users;
	const struct store_event_compat *compat;
	size_t n_compat;
	const struct store_event_note *notes;
	size_t n_notes;
	const struct store_event_signin *signin; /* signin only, else NULL */
};
#define STORE_EVENT_NOTES_MAX 50 /* writers keep the first 50 notes */

/*
 * Write one event (strings NULL = ""): events/<id>.evt appears whole or
 * not at all.  ev->id is ignored; id_out (STORE_SCAN_ID_MAX, may be NULL)
 * gets the new id.  Errors: WS_E_STORE / WS_E_IO / WS_E_NOSPACE naming the
 * file; WS_E_USAGE when the event would exceed STORE_EVENT_MAX.
 */
int store_event_write(struct store *st, const struct store_event *ev,
		      char *id_out, struct ws_error *err);

/* An event read back: the strings and arrays belong to it. */
struct store_event_list {
	struct store_event **v;  /* oldest first (the id's second, then id_ns,
				    then the id, as scans are ordered) */
	size_t n, alloc;
	size_t damaged;          /* event files that could not be read */
	char **damaged_why;      /* one message each ("events/<id>.evt: ...") */
};
#define STORE_EVENT_LIST_INIT { NULL, 0, 0, 0, NULL }

/*
 * Every readable event of the store (types in `type_mask`, bit 1 << type;
 * 0 = all).  A damaged, truncated, tampered, oversized or hostile event is
 * skipped and counted with its reason; only a store that cannot be listed
 * fails (WS_E_IO).  Release with store_event_list_release.
 */
int store_event_list(struct store *st, unsigned type_mask,
		     struct store_event_list *list, struct ws_error *err);
void store_event_list_release(struct store_event_list *list);

/*
 * Decode the bytes of one event file named `id` (for tests and fuzzing):
 * WS_OK and *out (free with store_event_free), or WS_E_CORRUPT (does not
 * authenticate, truncated, over STORE_EVENT_MAX, malformed) with the
 * reason, or WS_E_UNSUPPORTED (newer major).
 */
int store_event_parse(struct store *st, const char *id, const void *data,
		      size_t len, struct store_event **out, struct ws_error *err);
void store_event_free(struct store_event *ev);

/* The packs on disk: how many and their bytes (what the store costs). */
int store_disk_usage(struct store *st, uint64_t *packs, uint64_t *bytes,
		     struct ws_error *err);

/* Value of count `name` of an event or user (0 when absent). */
uint64_t store_count_get(const struct store_count *c, size_t n,
			 const char *name);

#endif
