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
 * Partition tables (struct bd_disk, bd_part_*): GPT and MBR (extended and
 * logical partitions too) read through util-linux's libblkid, each
 * partition's file system probed (NTFS, BitLocker, others), checked against
 * the disk (past its end, overlapping, absurd: marked bad, never opened).
 * A disk without a table that holds a file system is one pseudo-partition
 * number 0 covering it all (a partition image).
 *
 * Dependencies: util only (libbde, libbfio, libsodium, libblkid).
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

/* ---- partition tables ---------------------------------------------- */

enum bd_scheme {
	BD_SCHEME_NONE = 0,    /* no partition table: a bare file system or nothing */
	BD_SCHEME_MBR = 1,     /* DOS/MBR, with extended and logical partitions */
	BD_SCHEME_GPT = 2
};

enum bd_fs {
	BD_FS_NONE = 0,        /* nothing recognised (or not probed: extended, bad) */
	BD_FS_NTFS = 1,
	BD_FS_BITLOCKER = 2,   /* "-FVE-FS-" or BitLocker To Go */
	BD_FS_OTHER = 3        /* anything else libblkid knows: fs_type names it */
};

/* At most this many partitions are listed (GPT allows 128 by default). */
#define BD_PART_MAX 256

struct bd_part {
	unsigned number;       /* as Linux numbers them: 1-4 primary, 5+ logical,
				  GPT entry index + 1; 0 = the whole disk (no table) */
	uint64_t start, size;  /* bytes from the start of the disk */
	unsigned mbr_type;     /* MBR type byte (0x07 NTFS/exFAT, 0x05/0x0f extended); 0 on GPT */
	char type_guid[37];    /* GPT partition type GUID, lowercase; "" on MBR */
	char part_guid[37];    /* GPT unique partition GUID, lowercase; "" on MBR */
	char name[144];        /* GPT partition name (UTF-8), "" if none */
	int extended;          /* MBR extended container: holds logicals, no file system */
	int logical;           /* MBR logical partition (inside the extended one) */
	enum bd_fs fs;
	char fs_type[32];      /* libblkid's TYPE ("ntfs", "BitLocker", "vfat"), "" if none */
	char fs_label[128];    /* file-system label, "" if none */
	char fs_uuid[64];      /* file-system UUID / serial as libblkid gives it */
	int bad;               /* outside the disk, overlapping, empty: never opened */
	struct ws_error why;   /* bad: why (WS_E_IO past the end, WS_E_UNSUPPORTED
				  overlapping/empty), naming disk and partition */
};

struct bd_disk {
	char name[512];        /* path given (for messages) */
	uint64_t size;         /* bytes */
	unsigned sector_size;  /* logical sector size (512 for images) */
	enum bd_scheme scheme;
	uint32_t mbr_signature;/* MBR: the disk signature at offset 440
				  (what MountedDevices records), else 0 */
	char disk_guid[37];    /* GPT: the disk GUID, lowercase; else "" */
	size_t nparts;
	struct bd_part *parts; /* in table order (logicals after primaries) */
	int fd;                /* read-only, owned */
};

/*
 * Read the partition table of the disk, image or device at `path` (opened
 * read-only) and probe every partition's file system.  A disk without a
 * table: one pseudo-partition 0 when a file system covers it, else none.
 * Partitions that lie (partly) outside the disk, overlap another or are
 * empty stay in the list with `bad` set and `why` filled: the rest of the
 * disk is still usable.  Errors: WS_E_IO (cannot open/read; a GPT whose
 * header does not fit the disk, as a truncated image has), WS_E_UNSUPPORTED
 * (a table libblkid rejects, more than BD_PART_MAX partitions), WS_E_USAGE
 * (bd_part_scan: `path` is a folder), each naming
 * the disk.
 */
int bd_part_scan(const char *path, struct bd_disk **out, struct ws_error *err);
/* The same over an open descriptor (duplicated; the caller keeps its own),
 * `name` for messages: memory images through memfd_create (fuzzing). */
int bd_part_scan_fd(int fd, const char *name, struct bd_disk **out,
		    struct ws_error *err);
void bd_part_free(struct bd_disk *d);   /* NULL is allowed */

/* Partition `number` (0: the whole-disk pseudo-partition), NULL if none. */
const struct bd_part *bd_part_find(const struct bd_disk *d, unsigned number);
/*
 * A byte source over partition `p` of `d` (name "disk.img@1048576 (partition 2)"),
 * independent of `d`'s lifetime.  A bad partition is refused with its
 * `why`; an extended container with WS_E_USAGE.
 */
int bd_part_open(const struct bd_disk *d, const struct bd_part *p,
		 struct bd_source **out, struct ws_error *err);
const char *bd_scheme_name(enum bd_scheme s);   /* "none", "mbr", "gpt" */
const char *bd_fs_name(enum bd_fs fs);          /* "none", "ntfs", "bitlocker", "other" */

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
