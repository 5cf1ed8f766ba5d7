/*
 * volume_private.h - the volume handle and helpers shared by the files of
 * src/volume/ (not part of the public API).
 */
#ifndef VOLUME_PRIVATE_H
#define VOLUME_PRIVATE_H

#ifndef WS_VOLUME_INTERNAL
#error "volume_private.h is private to src/volume/ (its files and tests define WS_VOLUME_INTERNAL)"
#endif

#include "volume/volume.h"

/* A dirty hive met by the handle and its replayed copy (vol_hive.c). */
struct vol_replay {
	char *src;                /* host path of the primary file */
	char *copy;               /* recovered copy in tmp_dir; NULL = replay
				     impossible, the primary is read as is */
	struct ws_error why;      /* copy NULL: why */
};

struct vol_nt; /* the NTFS backend's state (vol_ntfs.c) */

/*
 * The file-system backend: a folder on the host (today's code, handles are
 * file descriptors) or an NTFS image read through libntfs-3g (handles are
 * MFT record numbers).  The walk, stat and path resolution are written once
 * over these operations.  A handle `h` is a folder; `name` one entry of it.
 */
struct vol_fsops {
	/* the root folder: a handle, or -1 with errno */
	long long (*open_root)(struct vol *vol);
	/* the folder `name` inside `h`, never through a link (ELOOP/ENOTDIR) */
	long long (*open_dir)(struct vol *vol, long long h, const char *name);
	void (*close_dir)(struct vol *vol, long long h);
	/* all names in `h` (not sorted, no "." ".."), a handle just opened and
	 * read once, in one block (vol_names_block, freed by vol_list_free):
	 * 0, or -1 with errno */
	int (*read_names)(struct vol *vol, long long h, char ***names, size_t *n);
	/* case-insensitive lookup, as vol_find_child */
	int (*find_child)(struct vol *vol, long long h, const char *name,
			  size_t len, struct ws_buf *out);
	/* fill `e` for h->name.buf inside `h` (vol_walk.c's rules) */
	void (*fill)(struct vol *vol, long long h, struct vol_entry *e,
		     struct vol_entry_hold *hold, unsigned depth);
};

struct vol {
	char *root;               /* realpath of the installation root, no trailing '/' */
	size_t root_len;
	dev_t root_dev;
	struct vol_info info;     /* strings below are owned through `strs` */
	char **strs;              /* every string the handle owns (freed at close) */
	size_t nstrs, astrs;
	struct reg_hive *system, *software;
	struct vol_profile *profiles;
	size_t nprofiles, aprofiles;
	struct vol_vars winenv;   /* Windows' own environment for expanding hive
				     data (%SystemRoot%, %ProgramData% ...) */
	int no_ntfs_xattr;        /* the file system refused system.ntfs_* once
				     (atomic: the walk's reading-ahead thread) */
	int walk_ahead;           /* vol_set_walk_ahead */
	size_t wa_peak_entries;   /* the most entries listings made ahead of
				     the walk held at once (vol_walk_ahead;
				     at most VOL_WA_MAX_ENTRIES and one folder) */
	char *tmp_parent;         /* where tmp_dir is made; NULL = $TMPDIR */
	char *tmp_dir;            /* private folder of replayed copies, or NULL */
	struct vol_replay *replays;
	size_t nreplays, areplays;
	const struct vol_fsops *ops; /* vol_dir_ops or the NTFS backend's */
	struct vol_nt *nt;        /* vol_open_bd: the mounted image, else NULL */
	/* vol_source_open: frees the disk and byte sources below the handle */
	void (*on_close)(void *ctx);
	void *on_close_ctx;
	/* Other drives of the installation (vol_source_open: data partitions
	 * of the same disk by MountedDevices), owned; NULL = none */
	struct vol *drives[26];
};

extern const struct vol_fsops vol_dir_ops;

/* ---- vol_walk.c, shared with the walk that reads ahead (vol_walkahead.c) ---- */
/* `n` names stored one after the other (each ending in '\0', `len`
 * bytes in all) as one block: the pointers, then the names.  A list of
 * names (vol_list) is such a block, freed whole by vol_list_free. */
char **vol_names_block(const char *bytes, size_t len, size_t n);
/* All names of folder `h` (just opened), sorted; -1 with errno. */
int vol_walk_read_names(struct vol *vol, long long h, char ***names, size_t *n);
/* Examine the walk's start `host_path` into e/h; *ph (when given) gets its
 * parent folder's handle (-1 when it could not be opened). */
int vol_walk_stat_start(struct vol *vol, const char *host_path,
			struct vol_entry *e, struct vol_entry_hold *h,
			long long *ph, struct ws_error *err);
/* The start of both walks: examine `host_dir` into e/h (*ph: its parent's
 * handle, -1 when none) and give it to the callback.  Returns WS_OK with
 * *go set when its contents are to be walked; WS_OK with *go clear when
 * the walk is over (a file, or the callback skipped it); else the error
 * (the start cannot be opened, or the callback's own). */
int vol_walk_begin(struct vol *vol, const char *host_dir, vol_walk_fn fn,
		   void *ctx, struct vol_entry *e, struct vol_entry_hold *h,
		   long long *ph, int *go, struct ws_error *err);
/* Run the callback; a negative return stores its error in err and
 * *stop_rc and gives VOL_WALK_STOP. */
int vol_walk_call(vol_walk_fn fn, const struct vol_entry *e, void *ctx,
		  struct ws_error *err, int *stop_rc);
/* Open the folder `name` of `parent` that was examined as `e`: -1 with
 * errno (ESTALE when it is no longer the folder examined). */
long long vol_walk_open_dir(struct vol *vol, long long parent, const char *name,
			    const struct vol_entry *e);
/* vol_walk on the folder backend with a second thread reading folders
 * ahead of the callback (vol_walkahead.c): same entries, same order. */
/* Entries the listings made ahead of the walk may hold before no more is
 * read ahead (vol_walkahead.c). */
#define VOL_WA_MAX_ENTRIES 65536
int vol_walk_ahead(struct vol *vol, const char *host_dir, vol_walk_fn fn,
		   void *ctx, struct ws_error *err);

/* An open file (vol_file_open): a descriptor, or an NTFS data attribute. */
struct vol_file {
	int fd;                   /* folder backend; -1 for an image */
	void *ni, *na;            /* image: ntfs_inode, ntfs_attr */
	uint64_t pos, size;
	char *path;               /* host path, for errors */
};

/* The part of vol_open shared by both backends: hives, identity, profiles.
 * On failure the handle is closed. */
int vol_open_finish(struct vol *vol, struct vol **out, struct ws_error *err);

/* Handle of the folder `rel` (exact names, '/'-separated) through the
 * backend, never through a link: -1 with errno. */
long long vol_open_rel(struct vol *vol, const char *rel);

/* The file to give reg_ for the hive at host path `path`: itself, or for
 * an image its private copy (with its .LOG1/.LOG2). */
int vol_hive_local(struct vol *vol, const char *path, const char **local,
		   struct ws_error *err);

/* The handle's temporary folder, made on first need (vol_hive.c). */
int vol_tmp_dir(struct vol *vol, struct ws_error *err);

/* ---- vol_ntfs.c ---- */
extern const struct vol_fsops vol_nt_ops;
void vol_nt_close(struct vol_nt *nt);
/* Copy the file at host path `path` of an image (and its .LOG* siblings
 * for a hive) into the private folder: *local is the copy (kept by the
 * handle, same copy on later calls). */
int vol_nt_local_copy(struct vol *vol, const char *path, int with_logs,
		      const char **local, struct ws_error *err);
int vol_nt_file_open(struct vol *vol, const char *path, struct vol_file **out,
		     struct ws_error *err);
long long vol_nt_file_read(struct vol_file *f, void *buf, size_t n,
			   struct ws_error *err);
uint64_t vol_nt_file_size(const struct vol_file *f);
void vol_nt_file_close(struct vol_file *f);
int vol_nt_sd_get(struct vol *vol, const char *path, struct ws_buf *out,
		  int *found, struct ws_error *err);
int vol_nt_streams(struct vol *vol, const char *path, struct vol_stream **v,
		   size_t *n, struct ws_error *err);
int vol_nt_stream_read(struct vol *vol, const char *path, const char *name,
		       struct ws_buf *out, struct ws_error *err);

/* The handle whose root `host_path` is under: an attached drive's, else
 * `vol` itself (vol_source.c).  Public functions taking a host path call
 * it first, so the walk and reads of D:\ go to the D: volume. */
struct vol *vol_route(const struct vol *vol, const char *host_path);

/* The partition of disk `d` holding the installation (vol_source.c): the
 * one `number` names, else the one with Windows; *bare when the disk has
 * no partition at all (read it whole).  Errors as vol_source_open's. */
struct vol_disk;
struct vol_disk_part;
int vol_disk_pick(struct vol_disk *d, const char *path, const char *source, unsigned number,
		  struct vol_disk_part **out, int *bare, struct ws_error *err);
/* Split "DISK@partN" when the whole name does not exist: the disk's path
 * into `path`, N into *number (else 0).  WS_E_NOT_WINDOWS when the disk
 * part is a folder or does not exist. */
int vol_source_path(const char *source, struct ws_buf *path, unsigned *number,
		    struct ws_error *err);

/* Forget the replayed copies and remove the temporary folder. */
void vol_hive_cleanup(struct vol *vol);

/* Keep a copy of s in the handle; returns it. */
const char *vol_keep(struct vol *vol, const char *s);

/* Fill `e` after the backend's facts: a LINK with a cloud tag is a CLOUD,
 * a LINK whose text points inside the root gets its Windows path, a FILE
 * with a cloud tag or offline/recall attributes is a CLOUD. */
void vol_entry_classify(struct vol *vol, struct vol_entry *e,
			struct vol_entry_hold *h);
void vol_entry_set_error(struct vol_entry *e, struct vol_entry_hold *h,
			 int code, int errnum, const char *what);

/*
 * The part of `host_path` below the root ("" for the root itself), or NULL
 * when it is not under the root.  Trailing slashes are ignored.
 */
const char *vol_rel_of(const struct vol *vol, const char *host_path,
		       size_t *rel_len);

/* Case-insensitive child lookup inside an open folder: exact name first,
 * else the bytewise smallest case-insensitive match.  Appends the real
 * name to `out` and returns 1, 0 when absent, -1 on a readdir error. */
int vol_find_child(int dirfd, const char *name, size_t name_len,
		   struct ws_buf *out);

/* Resolve `winpath` and return a kept host path, or NULL when it is not
 * FOUND (errors count as not found). */
const char *vol_resolve_keep(struct vol *vol, const char *winpath);

/* Fill the known-folder-free profile list (vol_profiles.c). */
int vol_load_profiles(struct vol *vol, struct ws_error *err);

/* Read a string value (SZ/EXPAND_SZ) of key `path` in hive h; "" when absent.
 * Hive read errors are returned. */
int vol_reg_string(struct reg_hive *h, const char *path, const char *name,
		   struct ws_buf *out, int *found, struct ws_error *err);

#endif
