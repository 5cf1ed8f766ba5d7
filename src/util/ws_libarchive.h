/*
 * ws_libarchive.h - libarchive, loaded the first time it is used.
 *
 * Linked at start, libarchive brings libxml2, ICU and libstdc++ with it:
 * about 1.2 ms of dynamic linking at every start of the program (measured
 * against a program linking nothing), which needs it only to read .appx
 * packages (apps_offline.c) and to write format 1.x packs (tests).  It is
 * opened by its soname instead, and its functions are called through the
 * table below:
 *
 *	const struct ws_libarchive *la;
 *	int rc = ws_libarchive(&la, err);
 *	if (rc)
 *		return rc;
 *	struct archive *a = la->archive_read_new();
 *
 * The table is made once per process (pthread_once), from any thread, and
 * never freed: the library stays loaded, as a linked one would.
 */
#ifndef WS_LIBARCHIVE_H
#define WS_LIBARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

#include "util/ws_error.h"

/* Every libarchive function the program calls. */
#define WS_LIBARCHIVE_FUNCS(X)                  \
	X(archive_errno)                        \
	X(archive_error_string)                 \
	X(archive_entry_clear)                  \
	X(archive_entry_free)                   \
	X(archive_entry_new)                    \
	X(archive_entry_pathname)               \
	X(archive_entry_set_filetype)           \
	X(archive_entry_set_mtime)              \
	X(archive_entry_set_pathname)           \
	X(archive_entry_set_perm)               \
	X(archive_entry_set_size)               \
	X(archive_read_data)                    \
	X(archive_read_free)                    \
	X(archive_read_new)                     \
	X(archive_read_next_header)             \
	X(archive_read_open_filename)           \
	X(archive_read_support_format_zip)      \
	X(archive_write_add_filter_none)        \
	X(archive_write_close)                  \
	X(archive_write_data)                   \
	X(archive_write_free)                   \
	X(archive_write_header)                 \
	X(archive_write_new)                    \
	X(archive_write_open)                   \
	X(archive_write_set_bytes_in_last_block) \
	X(archive_write_set_bytes_per_block)    \
	X(archive_write_set_format_ustar)

struct ws_libarchive {
#define WS_LIBARCHIVE_FIELD(name) __typeof__(name) *name;
	WS_LIBARCHIVE_FUNCS(WS_LIBARCHIVE_FIELD)
#undef WS_LIBARCHIVE_FIELD
};

/*
 * *out: the functions of libarchive, loaded on the first call.  When the
 * library or one of its functions cannot be found (an installation
 * without libarchive13): WS_E_INTERNAL, err naming the library with the
 * loader's reason, *out NULL; every later call fails the same way.
 */
int ws_libarchive(const struct ws_libarchive **out, struct ws_error *err);

/* Whether libarchive is loaded in this process (for tests). */
int ws_libarchive_loaded(void);

#endif
