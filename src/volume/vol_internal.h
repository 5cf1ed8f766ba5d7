/*
 * vol_internal.h - the volume handle and helpers shared by the files of
 * src/volume/ (not part of the public API).
 */
#ifndef VOL_INTERNAL_H
#define VOL_INTERNAL_H

#include "volume/volume.h"

/* A dirty hive met by the handle and its replayed copy (vol_hive.c). */
struct vol_replay {
	char *src;                /* host path of the primary file */
	char *copy;               /* recovered copy in tmp_dir; NULL = replay
				     impossible, the primary is read as is */
	struct ws_error why;      /* copy NULL: why */
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
	int no_ntfs_xattr;        /* the file system refused system.ntfs_* once */
	char *tmp_parent;         /* where tmp_dir is made; NULL = $TMPDIR */
	char *tmp_dir;            /* private folder of replayed copies, or NULL */
	struct vol_replay *replays;
	size_t nreplays, areplays;
};

/* Forget the replayed copies and remove the temporary folder. */
void vol_hive_cleanup(struct vol *vol);

/* Keep a copy of s in the handle; returns it. */
const char *vol_keep(struct vol *vol, const char *s);

/*
 * Open the folder at `rel` (host-relative to the root, '/'-separated, exact
 * names, no "..") without following any symlink on the way: a descriptor
 * (O_RDONLY|O_DIRECTORY) or -1 with errno (ELOOP/ENOTDIR for a link).
 */
int vol_open_rel_dir(const struct vol *vol, const char *rel);

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
