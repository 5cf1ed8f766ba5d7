/*
 * blockdev.h - byte sources below the file systems: a raw disk image or a
 * partition at an offset, a buffer in memory, and a BitLocker volume
 * decrypted in-process with libbde.  The NTFS reader reads through the same
 * interface whatever lies underneath.
 *
 * Byte source (struct bd_source):
 *   bd_file_open(path, offset, length, &src, &err)   a file/device range
 *   bd_mem_open(data, len, &src)                      borrowed memory
 *   bd_bde_open(lower, keys, &src, &info, &err)       decrypted BitLocker
 *   bd_read_at(src, buf, n, off, &err) ... bd_close(src)
 * bd_read_at reads exactly n bytes or fails (a read past the end is
 * WS_E_IO naming the source): the layers above never see short reads.
 * A source is safe to read from several threads at once.
 *
 * BitLocker keys (struct bd_keys): recovery passwords (48 digits, each with
 * the key protector ID it belongs to when known), passwords, startup key
 * files (.BEK).  bd_keys_load_csv() reads the escrow exports of Active
 * Directory, Intune and MBAM (docs/scan.md "BitLocker" lists the columns);
 * bd_bde_open() picks the recovery password whose ID is one of the volume's
 * protector GUIDs and never tries the others.  Secrets live only in the key
 * set, are wiped by bd_keys_free(), and never appear in a ws_error: errors
 * name the file and line or the protector ID, never the key.
 *
 * Dependencies: util only (libbde, libbfio, libsodium).
 */
#ifndef BLOCKDEV_H
#define BLOCKDEV_H

#include <stddef.h>
#include <stdint.h>

#include "util/ws_error.h"

/* ---- byte sources --------------------------------------------------- */

struct bd_source;

struct bd_source_ops {
	/* Read exactly n bytes at off (< size - n checked by bd_read_at). */
	int (*read_at)(struct bd_source *s, void *buf, size_t n, uint64_t off,
		       struct ws_error *err);
	void (*close)(struct bd_source *s);
};

struct bd_source {
	const struct bd_source_ops *ops;
	uint64_t size;     /* bytes readable from offset 0 */
	char name[512];    /* for error messages: "disk.img@1048576", "disk.img@1048576 (BitLocker)" */
	void *impl;        /* the implementation's state */
};

/*
 * A range of a file or block device, opened read-only: `offset` bytes from
 * its start, `length` bytes long (0: up to the end).  A range reaching past
 * the end is WS_E_IO; a missing file WS_E_IO naming it.
 */
int bd_file_open(const char *path, uint64_t offset, uint64_t length,
		 struct bd_source **out, struct ws_error *err);

/* `len` bytes at `data`, borrowed (must outlive the source). Never fails. */
struct bd_source *bd_mem_open(const void *data, size_t len, const char *name);

int bd_read_at(struct bd_source *s, void *buf, size_t n, uint64_t off,
	       struct ws_error *err);
static inline uint64_t bd_size(const struct bd_source *s) { return s->size; }
/* NULL is allowed. */
void bd_close(struct bd_source *s);

/* ---- BitLocker key sets --------------------------------------------- */

enum bd_key_kind {
	BD_KEY_RECOVERY = 1,   /* 48-digit recovery password */
	BD_KEY_PASSWORD = 2,   /* user password (UTF-8) */
	BD_KEY_STARTUP = 3     /* startup key file (.BEK), by path */
};

struct bd_keys;

struct bd_keys *bd_keys_new(void);
/* Wipes every secret, then frees. NULL is allowed. */
void bd_keys_free(struct bd_keys *k);

/*
 * Add one key.  `protector_id` is the key protector GUID it belongs to
 * (braces and case do not matter) or NULL; `origin` says where the key came
 * from in messages ("--recovery-password", "keys.csv:12"), never the key.
 * A recovery password must be 48 digits in 8 groups of 6 (dashes or spaces
 * optional), each group a multiple of 11 below 720896, else WS_E_USAGE.
 * The secret is copied; the caller wipes its own copy.
 */
int bd_keys_add(struct bd_keys *k, enum bd_key_kind kind, const char *secret,
		const char *protector_id, const char *origin, struct ws_error *err);

/*
 * A CSV of recovery passwords as AD, Intune and MBAM exports write them:
 * a header row naming at least a key protector ID column and a recovery
 * password column (names matched without case, spaces, '-' or '_'; see
 * docs/scan.md), then one key per row.  Tolerates a UTF-8 BOM, CRLF,
 * quoted fields, ',' ';' or TAB separators, braces around GUIDs and AD's
 * "date{GUID}" object names.  Rows with an empty recovery password are
 * skipped (counted in bd_keys_skipped).  Errors are WS_E_USAGE with
 * `where` = path and the line, never quoting a key.  The text is not
 * modified; the caller wipes it.
 */
int bd_keys_parse_csv(struct bd_keys *k, const char *path, const char *text,
		      size_t len, struct ws_error *err);
/* Read `path` (at most 64 MiB) and parse it; the file's bytes are wiped. */
int bd_keys_load_csv(struct bd_keys *k, const char *path, struct ws_error *err);

size_t bd_keys_count(const struct bd_keys *k);
size_t bd_keys_skipped(const struct bd_keys *k);
/* Lookup for tests and listings: kind, protector ID ("" if none), origin
 * and computer name ("" if none) of key i; never the secret. */
int bd_keys_get(const struct bd_keys *k, size_t i, enum bd_key_kind *kind,
		const char **protector_id, const char **origin, const char **computer);

/* Canonical lowercase "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" of the first
 * GUID found in `s` (with or without braces); 0 when none, 1 when found. */
int bd_guid_find(const char *s, char out[37]);

/* ---- BitLocker volumes ---------------------------------------------- */

#define BD_BDE_MAX_PROTECTORS 16

/* libbde's protector types (key protection types of the FVE metadata). */
enum {
	BD_PROT_CLEAR_KEY = 0x0000,
	BD_PROT_TPM = 0x0100,
	BD_PROT_STARTUP_KEY = 0x0200,
	BD_PROT_TPM_PIN = 0x0500,
	BD_PROT_RECOVERY_PASSWORD = 0x0800,
	BD_PROT_SMART_CARD = 0x1000,
	BD_PROT_PASSWORD = 0x2000
};

struct bd_bde_info {
	char volume_id[37];        /* volume GUID, "" if libbde does not give it */
	uint16_t method;           /* libbde encryption method (0x8000..0x8005) */
	int nprotectors;
	struct {
		char id[37];
		uint16_t type;
	} protectors[BD_BDE_MAX_PROTECTORS];
	/* after a successful open: what unlocked it */
	char unlocked_by[160];     /* key origin ("keys.csv:12"), or "clear key" */
	char unlocked_protector[37]; /* protector ID the key was matched to, "" if not matched by ID */
};

/* 1 when the first sector carries a BitLocker signature (Vista+ "-FVE-FS-"
 * or BitLocker To Go), 0 when not, <0 (a WS_E_* code, negated) on I/O error. */
int bd_bde_probe(struct bd_source *lower, struct ws_error *err);

/*
 * Unlock the BitLocker volume on `lower` with the keys of `keys` (may be
 * NULL: only a clear-key volume, i.e. protection suspended, opens) and return
 * its decrypted bytes as a source.  `lower` is borrowed and must outlive
 * *out.  `info` (may be NULL) is filled even on failure when the metadata
 * could be read.  Keys are tried in this order, each only when the volume
 * has a protector of its kind: recovery passwords whose protector ID is one
 * of the volume's, startup keys, passwords, recovery passwords without ID.
 * Errors:
 *   WS_E_BDE_LOCKED   no key given unlocks it (a .BEK of another volume
 *                     included); the message names the volume and each
 *                     protector ID with its type, to look up;
 *   WS_E_UNSUPPORTED  not a BitLocker volume libbde can read (damaged
 *                     header, encryption in progress, metadata version), or
 *                     an encryption method this libbde cannot decrypt (named);
 *   WS_E_IO           a startup key file or the lower source cannot be read.
 */
int bd_bde_open(struct bd_source *lower, const struct bd_keys *keys,
		struct bd_source **out, struct bd_bde_info *info,
		struct ws_error *err);

/* "AES-XTS 128-bit", "AES-CBC 256-bit with diffuser", ... */
const char *bd_bde_method_name(uint16_t method);
/* "recovery password", "password", "startup key", "TPM", ... or "type 0x%04x" into buf. */
const char *bd_bde_protector_name(uint16_t type, char *buf, size_t n);
/* libbde's version string ("20190102"). */
const char *bd_bde_libversion(void);

#endif
