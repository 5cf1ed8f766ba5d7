/*
 * ws_winname.h - names and paths Windows can hold.  apply and extract take
 * file paths from a catalog that may be hostile; both refuse, through these
 * checks, every name a Windows volume could not hold (docs/apply.md,
 * docs/store-format.md §10), so a store never makes a name that Windows
 * would read as a device, a stream or another file.
 */
#ifndef WS_WINNAME_H
#define WS_WINNAME_H

#include <stddef.h>

#define WS_WINNAME_MAX 255    /* UTF-16 units in one component */
#define WS_WINPATH_MAX 32767  /* UTF-16 units in a whole path */

/*
 * Why the component `name` (`len` bytes of UTF-8/WTF-8) cannot be a file or
 * folder name on Windows, or NULL when it can.  Refused: empty, "." and
 * "..", control characters U+0000-U+001F, any of < > : " / \ | ? * (':'
 * would name an alternate data stream), a trailing dot or space, a reserved
 * device name with or without extension, case-insensitive (CON PRN AUX NUL
 * COM1-COM9 LPT1-LPT9 and COM/LPT with superscript 1, 2, 3;
 * spaces before the extension do not help: "nul .txt" is refused), invalid
 * UTF-8, and more than WS_WINNAME_MAX UTF-16 units.
 */
const char *ws_winname_check(const char *name, size_t len);

/*
 * Check a drive-absolute Windows path "X:\a\b" (no trailing backslash):
 * the drive, every component with ws_winname_check, and the whole length in
 * UTF-16 units (WS_WINPATH_MAX).  Returns NULL when Windows can hold it,
 * else the reason; *bad (when not NULL) points at the offending component
 * in `path` (or at `path`).
 */
const char *ws_winpath_check(const char *path, const char **bad);

/*
 * ws_winpath_check of a path whose first `checked` bytes, which end with a
 * backslash, are those of a path that passed it (the folder of the file
 * before, in a long list of files): only the components after them are
 * looked at, and the whole length.  `checked` of 3 ("X:\") checks all.
 */
const char *ws_winpath_check_rest(const char *path, size_t checked, const char **bad);

#endif
