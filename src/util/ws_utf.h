/*
 * ws_utf.h - UTF-16LE <-> UTF-8 at the Windows boundary, and NTFS-style
 * case-insensitive name comparison.
 *
 * Windows names are UTF-16 but not always valid UTF-16 (lone surrogates are
 * legal in NTFS names and registry strings).  To stay lossless we convert
 * lone surrogates to WTF-8 (the 3-byte generalised UTF-8 form) and accept
 * WTF-8 back, so a name read from a hive or a volume round-trips exactly.
 */
#ifndef WS_UTF_H
#define WS_UTF_H

#include <stddef.h>
#include <stdint.h>

#include "ws_buf.h"

#define WS_UTF16_STOP_AT_NUL 1u  /* stop at the first U+0000 unit */

/*
 * Append the UTF-8 (WTF-8) form of `nbytes` bytes of UTF-16LE to `out`.
 * An odd trailing byte is ignored.  Returns the number of lone surrogates
 * met (0 = the input was valid UTF-16).
 */
size_t ws_utf16le_to_utf8(const void *src, size_t nbytes, struct ws_buf *out,
			  unsigned flags);

/*
 * Append the UTF-16LE form of `len` bytes of UTF-8/WTF-8 to `out` (no NUL
 * terminator is added).  Returns 0, or -1 when `s` is not valid (W)UTF-8, in
 * which case `out` is left as it was.
 */
int ws_utf8_to_utf16le(const char *s, size_t len, struct ws_buf *out);

/* How many UTF-16 units ws_utf8_to_utf16le would append for `len` bytes of
 * UTF-8/WTF-8, without making them; (size_t)-1 when it would fail. */
size_t ws_utf8_utf16_units(const char *s, size_t len);

/* Length of the valid UTF-8 sequence at `s` (at most `n` bytes), or 0 when
 * it is not one (overlong, truncated, surrogate, beyond U+10FFFF). */
size_t ws_utf8_seq_len(const char *s, size_t n);

/* True if `s` (len bytes) is valid UTF-8 (surrogate code points rejected). */
int ws_utf8_valid(const char *s, size_t len);

/* Simple upper-case mapping used by NTFS and the registry for the scripts
 * Windows names really use (Latin, Greek, Cyrillic, fullwidth Latin). */
uint32_t ws_ucs_upper(uint32_t cp);

/*
 * Compare two UTF-8 names as NTFS/registry do (case-insensitive by code
 * point after ws_ucs_upper).  Returns <0, 0, >0.  Invalid bytes compare as
 * themselves.  The _n variant compares at most the given byte lengths.
 */
int ws_name_casecmp(const char *a, const char *b);
int ws_name_ncasecmp(const char *a, size_t alen, const char *b, size_t blen);

/* Upper-case copy of a UTF-8 name into out (appends). */
void ws_name_upper(const char *s, struct ws_buf *out);

#endif
