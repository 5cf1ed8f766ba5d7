/*
 * ws_root.h - confined access to a folder tree (a target installation, an
 * extract destination).  The root is opened once; every path below it is
 * walked component by component from held folder descriptors, each step
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
 * where the kernel has it, else openat(O_NOFOLLOW | O_DIRECTORY).  A link
 * anywhere on the way (a symlink, or a junction as ntfs-3g shows it) is
 * refused, and folders are made, files linked, renamed and removed relative
 * to the held parent, so nothing changes between the check and the write.
 *
 * Relative paths are '/'-separated; "", "." and ".." components are refused.
 * Names match as NTFS does (ws_name_ncasecmp): the exact name first, else
 * the byte-wise smallest of the names equal ignoring case.
 */
#ifndef WS_ROOT_H
#define WS_ROOT_H

#include <stddef.h>

#include "ws_buf.h"
#include "ws_error.h"

struct ws_root;

/*
 * Called for every object created through the root, with its descriptor:
 * a folder right after mkdirat, before anything is put in it; a file (the
 * temporary that becomes it) before it is linked or renamed into place.
 * `rel` is the object's final path below the root.  A non-zero return
 * stops the creation with that status.  For a Windows security descriptor
 * (system.ntfs_acl) and attributes (system.ntfs_attrib_be).
 */
struct ws_newobj {
	int (*fn)(void *ctx, int fd, int is_dir, const char *rel, struct ws_error *err);
	void *ctx;
};

/* Flags of ws_root_open. */
#define WS_ROOT_NO_OPENAT2 0x1u  /* walk with openat(O_NOFOLLOW) even where openat2 exists */

/* Open the folder `path` (followed: the root itself may be a link) as a
 * root.  The environment variable WS_TEST_NO_OPENAT2 (tests only) forces
 * the fallback walk, so both walks are tested on one kernel.  WS_E_TARGET when it is not a folder or cannot be opened. */
int ws_root_open(const char *path, unsigned flags, struct ws_root **out,
		 struct ws_error *err);
void ws_root_free(struct ws_root *r);

const char *ws_root_path(const struct ws_root *r);
int ws_root_fd(const struct ws_root *r);
/* 1 when walks use openat2 (the kernel has it and it was not refused). */
int ws_root_has_openat2(const struct ws_root *r);

/* Hook for new objects (NULL = none); copied. */
void ws_root_set_newobj(struct ws_root *r, const struct ws_newobj *n);

/* Tests: called right after a folder is made, before it is opened, with
 * its parent's descriptor and name (to swap it for a link). */
void ws_root_set_after_mkdir(struct ws_root *r,
			     void (*fn)(void *ctx, int parent, const char *name,
					const char *rel),
			     void *ctx);

/* Host path `host` below the root -> its relative part (points into host),
 * NULL when outside or the root itself. */
const char *ws_root_rel(const struct ws_root *r, const char *host);

/*
 * The name in folder `dirfd` that `name` (len bytes) denotes: appended to
 * out; 1 found, 0 none, -1 with errno on a read error.
 */
int ws_root_find_child(int dirfd, const char *name, size_t len, struct ws_buf *out);

/* One step: open child folder `name` of dirfd without following a link;
 * -1 with errno (ELOOP for a link, ENOTDIR for a file, ENOENT ...). */
int ws_root_step(const struct ws_root *r, int dirfd, const char *name);

/*
 * Open the folder `rel` (must exist; "" = the root): *fd is a new
 * descriptor; the names found on disk are appended to `actual` (may be
 * NULL), '/'-separated.  Errors: WS_E_TARGET for a link or a file on the
 * way, WS_E_IO with errno ENOENT when a component is missing,
 * WS_E_UNSUPPORTED for an invalid component.
 */
int ws_root_opendir(struct ws_root *r, const char *rel, int *fd, struct ws_buf *actual,
		    struct ws_error *err);

/*
 * mkdir -p `rel`: every missing folder is announced to before(ctx, its
 * path as made) first (a non-zero return stops), then made, then given to
 * the new-object hook.  *fd (may be NULL) receives the last folder.
 * Errors as ws_root_opendir.
 */
int ws_root_mkdirs(struct ws_root *r, const char *rel,
		   int (*before)(void *ctx, const char *rel, struct ws_error *err),
		   void *ctx, int *fd, struct ws_error *err);

/*
 * Open the parent folder of `rel` (must exist) -> *dirfd; the leaf's name
 * on disk (or as given when absent) appended to `leaf`, and `actual` (may
 * be NULL) gets the whole path as found.  Errors as ws_root_opendir.
 */
int ws_root_parent(struct ws_root *r, const char *rel, int *dirfd, struct ws_buf *leaf,
		   struct ws_buf *actual, struct ws_error *err);

/* Call the new-object hook, if any. */
int ws_root_newobj(struct ws_root *r, int fd, int is_dir, const char *rel,
		   struct ws_error *err);

/* Remove `name` in dirfd and everything below it, never following a
 * link.  Returns 0 or errno. */
int ws_remove_tree_at(int at, const char *name);

/*
 * Folder cache (apply's journal root, one walk per folder).  Once on, every
 * folder a walk reaches stays known: its descriptor is kept open (at most
 * WS_ROOT_MAX_OPEN at a time, the others closed and opened again from their
 * parent when needed) and its names are read once (one listing per folder)
 * for the case-insensitive lookups.  Everything made or removed in a cached
 * folder must be told with ws_rdir_note (ws_root's own mkdirs are).  A
 * folder moved away while it is held is still written through its held
 * descriptor: the cache is for a target nobody else changes meanwhile.
 * With `defer`, ws_root_mkdirs only announces (before()) and remembers the
 * folders it would make ("pending": known to the cache, absent on disk);
 * ws_root_make_pending makes them, in order, with the hooks.
 */
#define WS_ROOT_MAX_OPEN 256
void ws_root_cache_on(struct ws_root *r, int defer);

/* A cached folder: valid until ws_root_free. */
struct ws_rdir;

/* The cached folder `rel` (must exist or be pending); `actual` as in
 * ws_root_opendir.  Errors as ws_root_opendir; WS_E_INTERNAL without the
 * cache. */
int ws_root_dir(struct ws_root *r, const char *rel, struct ws_rdir **d,
		struct ws_buf *actual, struct ws_error *err);
/* Name on disk of `name` in d (exact first, else the byte-wise smallest
 * equal ignoring case) appended to out: 1 found, 0 none, -1 errno (the
 * folder cannot be listed). */
int ws_rdir_find(struct ws_root *r, struct ws_rdir *d, const char *name, struct ws_buf *out);
/* The held descriptor of d (not to be closed; valid until the next walk),
 * -1 with errno when it cannot be opened or d is pending (ENOENT). */
int ws_rdir_fd(struct ws_root *r, struct ws_rdir *d);
int ws_rdir_pending(const struct ws_rdir *d);
const char *ws_rdir_rel(const struct ws_rdir *d);
/* `name` was made (present = 1) or removed (0) in d. */
void ws_rdir_note(struct ws_rdir *d, const char *name, int present);
/* The same by path: `rel` (as on disk) was made or removed. */
void ws_root_note(struct ws_root *r, const char *rel, int present);
/* Make the pending folders (parents first): mkdirat, the after-mkdir hook,
 * open, the new-object hook.  Errors as ws_root_mkdirs. */
int ws_root_make_pending(struct ws_root *r, struct ws_error *err);
/* The same for the first n pending folders only (those announced before a
 * point, see ws_root_pending_count); later ones stay pending. */
int ws_root_make_pending_n(struct ws_root *r, size_t n, struct ws_error *err);
/* How many folders are pending now (made or dropped ones may count). */
size_t ws_root_pending_count(const struct ws_root *r);
/* Forget the folders still pending (after a failure), each told to fn
 * (children before their parents). */
void ws_root_drop_pending(struct ws_root *r, void (*fn)(void *ctx, const char *rel), void *ctx);
/* 1 when folders wait to be made. */
int ws_root_has_pending(const struct ws_root *r);
/* Folders made by another thread: the i-th pending folder (parents first);
 * ws_root_take_pending_n takes the first n off the list, and they stay
 * pending for the cache (no descriptor, nothing opened in them) until
 * ws_root_made (made: fd, its descriptor, is kept or closed) or
 * ws_root_unmade (not made: told to fn as by ws_root_drop_pending), called
 * on the cache's thread.  The maker only reads ws_rdir_parent, _name and
 * _rel of these nodes (they do not change), calls ws_root_step and
 * ws_root_after_mkdir, never the new-object hook (see ws_root_has_newobj). */
struct ws_rdir *ws_root_pending_at(const struct ws_root *r, size_t i);
void ws_root_take_pending_n(struct ws_root *r, size_t n);
void ws_root_made(struct ws_root *r, struct ws_rdir *d, int fd);
void ws_root_unmade(struct ws_root *r, struct ws_rdir *d,
		    void (*fn)(void *ctx, const char *rel), void *ctx);
struct ws_rdir *ws_rdir_parent(const struct ws_rdir *d);
const char *ws_rdir_name(const struct ws_rdir *d);
/* Fill err for a failed ws_root_step at `where` (errno e): WS_E_TARGET for
 * a link or a non-folder, as the walks say it. */
int ws_root_step_error(int e, const char *where, struct ws_error *err);
/* The after-mkdir hook of the tests (ws_root_set_after_mkdir), if any. */
void ws_root_after_mkdir(const struct ws_root *r, int parent, const char *name,
			 const char *rel);
/* 1 when a new-object hook is set (ws_root_set_newobj with a function). */
int ws_root_has_newobj(const struct ws_root *r);

/* Tests: slots the folders' name tables have visited so far (a table
 * keyed by ws_hash_name visits about one per lookup, whatever the names). */
size_t ws_root_probes(const struct ws_root *r);

/* Windows security descriptor and attributes as ntfs-3g exposes them. */
extern const char *const ws_ntfs_xattrs[];
/* The same two kept on a copy under names of their own (user.winstate.*):
 * a file saved in the undo journal carries its own descriptor and
 * attributes there while the copy itself has the journal's. */
extern const char *const ws_ntfs_xattrs_kept[];

/*
 * Copy the extended attributes `names` (NULL-terminated) from `from` to
 * `to` (descriptors); names the source lacks or a file system does not
 * support are skipped; with keep_existing, names `to` already has stay.
 * Returns 0 or the errno of a failed copy.
 */
int ws_copy_xattrs(int from, int to, const char *const *names, int keep_existing);
/* ws_copy_xattrs, names[i] of `from` stored as as[i] on `to` (both
 * NULL-terminated, the same length). */
int ws_copy_xattrs_as(int from, const char *const *names, int to, const char *const *as,
		      int keep_existing);

#endif
