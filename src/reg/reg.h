/*
 * reg.h - registry hives (regf files) through hivex, behind one adapter.
 *
 * Nothing outside src/reg/ includes <hivex.h>: every hivex sentinel and errno
 * is turned into a ws_code plus a message naming the hive file and key.
 * Names (keys, values) are UTF-8 here; value data is kept raw exactly as
 * stored (strings are UTF-16LE with their terminator), so capture and apply
 * are lossless; the typed helpers convert at the boundary.
 *
 * Lifecycle:
 *   1. reg_hive_open(path, flags, &h, &err)       (or reg_hive_create() first
 *      to make a new empty hive file, then open it with REG_OPEN_WRITE)
 *   2. reg_root(h), reg_key_lookup(), reg_key_children(), reg_key_values() ...
 *   3. writes (REG_OPEN_WRITE only) stay in memory until
 *      reg_hive_commit(h, NULL, &err), which writes a temporary file beside the
 *      hive, fsyncs it and renames it over the original (atomic).
 *   4. reg_hive_close(h) - discards anything not committed.
 *
 * Guards enforced here, not left to callers (see DESIGN.md section 8):
 *   - a dirty hive (primary sequence != secondary sequence) is refused with
 *     WS_E_HIVE unless REG_OPEN_ALLOW_DIRTY is given, and can never be opened
 *     for writing: its transaction logs must be replayed first
 *     (reg_log_recover() in reg_log.h writes a recovered, clean copy).
 *     Real hives copied from a running or uncleanly stopped Windows are
 *     often dirty (several in ../shared/testdata are).
 *   - in a hive of format 1.4 or later, hivex cannot write big-data (db)
 *     values: setting a value longer than REG_BIG_DATA_MAX bytes, or setting
 *     or deleting any value of a key that already holds one, fails with
 *     WS_E_UNSUPPORTED and changes nothing.
 */
#ifndef REG_H
#define REG_H

#include <stddef.h>
#include <stdint.h>

#include "util/ws_buf.h"
#include "util/ws_error.h"

/* Value types, as Windows numbers them. */
enum reg_type {
	REG_NONE = 0,
	REG_SZ = 1,
	REG_EXPAND_SZ = 2,
	REG_BINARY = 3,
	REG_DWORD = 4,
	REG_DWORD_BIG_ENDIAN = 5,
	REG_LINK = 6,
	REG_MULTI_SZ = 7,
	REG_RESOURCE_LIST = 8,
	REG_FULL_RESOURCE_DESCRIPTOR = 9,
	REG_RESOURCE_REQUIREMENTS_LIST = 10,
	REG_QWORD = 11
};

/* Largest value hivex can write correctly into a format >= 1.4 hive. */
#define REG_BIG_DATA_MAX 16344

struct reg_hive;               /* opaque */
typedef uint64_t reg_node;     /* a key inside an open hive; 0 = none */

enum reg_open_flags {
	REG_OPEN_WRITE = 1u,       /* load into memory for modification */
	REG_OPEN_ALLOW_DIRTY = 2u, /* read a dirty hive's (stale) primary file anyway */
	REG_OPEN_UNSAFE = 4u       /* tolerate damage hivex can skip (salvage, read-only) */
};

struct reg_hive_info {
	unsigned major, minor;     /* format version, e.g. 1.3 or 1.5 */
	uint32_t seq1, seq2;       /* primary / secondary sequence numbers */
	int dirty;                 /* seq1 != seq2: transaction logs hold newer data */
	uint64_t last_written;     /* FILETIME from the base block */
	uint32_t hbins_size;       /* bytes of hive bins after the base block */
};

/*
 * Read only the 4 KiB base block of `path` (no hivex): validates signature
 * and checksum.  WS_E_HIVE with a message when it is not a regf file.
 */
int reg_hive_probe(const char *path, struct reg_hive_info *info,
		   struct ws_error *err);

/*
 * Open a hive file.  Errors: WS_E_IO (cannot read), WS_E_HIVE (not a hive,
 * damaged, dirty without REG_OPEN_ALLOW_DIRTY, dirty with REG_OPEN_WRITE).
 * *out is set only on success.
 */
int reg_hive_open(const char *path, unsigned flags, struct reg_hive **out,
		  struct ws_error *err);
/*
 * reg_hive_open of `path` (a /proc/self/fd/<n> name of a file the caller
 * opened without following links), but reg_hive_path() and the messages
 * name the hive `name` (its real path, where a commit is placed).
 */
int reg_hive_open_as(const char *path, const char *name, unsigned flags,
		     struct reg_hive **out, struct ws_error *err);
void reg_hive_close(struct reg_hive *h);
const char *reg_hive_path(const struct reg_hive *h);
void reg_hive_get_info(const struct reg_hive *h, struct reg_hive_info *info);

/*
 * Write the in-memory hive to `path` (NULL = the file it was opened from)
 * atomically: temp file in the same folder, fsync, rename, fsync folder.
 * On failure the destination is unchanged.
 *
 * Before the rename the temporary file written by hivex is put into the
 * form Windows writes (reg_hash.h): every subkey list reachable from the
 * root carries Windows' lh hashes (UTF-16 units upper-cased with Windows'
 * upcase table; hivex hashes UTF-8 bytes, wrong for any non-ASCII name)
 * and lf name hints, is sorted in Windows' order, and a format 1.3/1.4
 * hive holds lf leaves only (hivex starts lh leaves there).  Keys created
 * or changed through reg/ in this session (created, a value set or
 * deleted, a subkey created or deleted) carry their last-written time:
 * the one given to reg_hive_set_write_time(), else the time of the change
 * (hivex would leave the parent's, or the old, time).  The base block's
 * last-written time is the commit's.
 */
int reg_hive_commit(struct reg_hive *h, const char *path, struct ws_error *err);
/* The same without its flushes (fsync of the file and of its folder): for
 * a caller that makes the file durable itself (apply's journal flushes it
 * with the saved copy of the hive it replaces). */
int reg_hive_commit_unflushed(struct reg_hive *h, const char *path, struct ws_error *err);

/*
 * Last-written FILETIME for every key this session creates or changes from
 * now on (an apply passes its own start time so all its keys agree);
 * 0 = the time of each change (the default).
 */
void reg_hive_set_write_time(struct reg_hive *h, uint64_t filetime);

/* Parameters of a new, empty hive (the project's own writer, not hivex). */
struct reg_create_opts {
	unsigned minor;            /* 3 or 5 (major is always 1); 0 = 5 */
	const char *root_name;     /* name of the root key; NULL = "ROOT" */
	const char *owner_sid;     /* SID string granted full control in the
				      root's security descriptor besides SYSTEM
				      and Administrators; NULL = none */
	const char *file_name;     /* name stored in the base block, e.g.
				      "\\??\\C:\\Users\\alice\\ntuser.dat"; NULL = "" */
	uint64_t timestamp;        /* FILETIME for header and root key; 0 = now */
};

/* Create an empty hive file (refuses to overwrite an existing file). */
int reg_hive_create(const char *path, const struct reg_create_opts *opts,
		    struct ws_error *err);

/* ---- keys ---------------------------------------------------------------- */

reg_node reg_root(struct reg_hive *h);

/*
 * Find the key at `path` (backslash-separated, case-insensitive, relative to
 * `from`; "" means `from` itself).  A missing key is not an error: *out = 0.
 */
int reg_key_lookup(struct reg_hive *h, reg_node from, const char *path,
		   reg_node *out, struct ws_error *err);

/* Like lookup, creating every missing component (write mode only). */
int reg_key_create(struct reg_hive *h, reg_node from, const char *path,
		   reg_node *out, struct ws_error *err);

/* Delete a key and its whole subtree (not the root). */
int reg_key_delete(struct reg_hive *h, reg_node node, struct ws_error *err);

/* Name of a key (UTF-8) appended to out. */
int reg_key_name(struct reg_hive *h, reg_node node, struct ws_buf *out,
		 struct ws_error *err);

/* Path of a key relative to the root ("" for the root), backslash-separated. */
int reg_key_path(struct reg_hive *h, reg_node node, struct ws_buf *out,
		 struct ws_error *err);

/* Parent key (0 for the root). */
int reg_key_parent(struct reg_hive *h, reg_node node, reg_node *out,
		   struct ws_error *err);

/* Last-written FILETIME of a key (for a key created or changed in this
 * session: the time commit writes, see reg_hive_commit). */
int reg_key_mtime(struct reg_hive *h, reg_node node, uint64_t *ft,
		  struct ws_error *err);

/* Subkeys of a key: malloc'd array (caller frees with free()). */
int reg_key_children(struct reg_hive *h, reg_node node, reg_node **kids,
		     size_t *n, struct ws_error *err);

/* ---- values -------------------------------------------------------------- */

struct reg_value {
	char *name;            /* UTF-8; "" is the key's default value */
	uint32_t type;         /* enum reg_type, or any other number found */
	unsigned char *data;   /* raw bytes as stored; NULL when len == 0 */
	size_t len;
};

void reg_value_release(struct reg_value *v);
void reg_values_free(struct reg_value *v, size_t n);

/* All values of a key, in hive order: malloc'd array of n entries. */
int reg_key_values(struct reg_hive *h, reg_node node, struct reg_value **vals,
		   size_t *n, struct ws_error *err);

/* One value by name (case-insensitive); *found = 0 and `out` zeroed if absent. */
int reg_value_get(struct reg_hive *h, reg_node node, const char *name,
		  struct reg_value *out, int *found, struct ws_error *err);

/* Add or replace one value (write mode; big-data guard above applies). */
int reg_value_set(struct reg_hive *h, reg_node node, const struct reg_value *v,
		  struct ws_error *err);

/* Remove one value; absent is not an error. */
int reg_value_delete(struct reg_hive *h, reg_node node, const char *name,
		     struct ws_error *err);

/* Does the key hold a value longer than REG_BIG_DATA_MAX? */
int reg_key_has_big_data(struct reg_hive *h, reg_node node, int *yes,
			 struct ws_error *err);

/* ---- typed helpers ------------------------------------------------------- */

/* REG_SZ / REG_EXPAND_SZ / REG_LINK data (UTF-16LE) -> UTF-8, stopping at the
 * first NUL; other types -> WS_E_UNSUPPORTED. */
int reg_value_to_utf8(const struct reg_value *v, struct ws_buf *out,
		      struct ws_error *err);

/* Convenience getters: *found = 0 when the key or value is absent. */
int reg_get_string(struct reg_hive *h, reg_node key, const char *name,
		   struct ws_buf *out, int *found, struct ws_error *err);
int reg_get_dword(struct reg_hive *h, reg_node key, const char *name,
		  uint32_t *out, int *found, struct ws_error *err);

/* Setters building the raw data (UTF-16LE + NUL for strings, double NUL for
 * multi-strings, little-endian numbers). */
int reg_set_string(struct reg_hive *h, reg_node key, const char *name,
		   uint32_t type, const char *utf8, struct ws_error *err);
int reg_set_dword(struct reg_hive *h, reg_node key, const char *name,
		  uint32_t value, struct ws_error *err);
int reg_set_qword(struct reg_hive *h, reg_node key, const char *name,
		  uint64_t value, struct ws_error *err);
int reg_set_binary(struct reg_hive *h, reg_node key, const char *name,
		   const void *data, size_t len, struct ws_error *err);
int reg_set_multi_sz(struct reg_hive *h, reg_node key, const char *name,
		     const char *const *strs, size_t n, struct ws_error *err);

/* Name of a type: "REG_SZ" ..., or "REG_0x%x" for unknown numbers (static
 * string; for unknown numbers a per-thread buffer reused by the next call). */
const char *reg_type_name(uint32_t type);

/* ---- walking a subtree --------------------------------------------------- */

/* reg_walk() flags */
#define REG_WALK_VALUES 1u   /* read each key's values and pass them to fn */

/* Callback return telling reg_walk() not to descend into this key. */
#define REG_WALK_SKIP (-1)

/*
 * Called once per key: `path` is relative to the walk's start ("" for the
 * start itself), `depth` 0 for the start.  With REG_WALK_VALUES, `vals`/`n`
 * are the key's values (owned by reg_walk, valid during the call), else
 * NULL/0.  Return WS_OK to go on, REG_WALK_SKIP to skip the key's subkeys,
 * or a WS_E_* code (having filled err) to stop the walk with that code.
 */
typedef int (*reg_walk_fn)(void *ctx, struct reg_hive *h, reg_node key,
			   const char *path, unsigned depth,
			   const struct reg_value *vals, size_t n,
			   struct ws_error *err);

/*
 * Visit `from` and every key below it, parents before children, subkeys in
 * hive order, iteratively (no recursion).  Keys deeper than `max_depth`
 * below `from` (0 = 512, Windows' own limit) are not visited.  A key met
 * twice (a loop in a damaged hive) stops the walk with WS_E_HIVE.
 */
int reg_walk(struct reg_hive *h, reg_node from, unsigned max_depth,
	     unsigned flags, reg_walk_fn fn, void *ctx, struct ws_error *err);

#endif
