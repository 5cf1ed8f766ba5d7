/*
 * reg_export.h - writer of regedit ".reg" files ("Windows Registry Editor
 * Version 5.00"), used by the first-sign-in step: settings captured offline
 * are imported by `reg import` when the user first signs in.
 *
 * Lifecycle:
 *   1. struct reg_export x; reg_export_init(&x);
 *   2. reg_export_add(&x, "HKCU\\Control Panel\\Desktop", &value, &err) for
 *      each value (NULL value = just make sure the key exists), in any order;
 *      a key header is written whenever the key changes, and every missing
 *      ancestor key gets an empty header first (so importers that do not
 *      create intermediate keys, like hivexregedit, work too).
 *   3. reg_export_write_file(&x, path, REG_EXPORT_UTF16, &err) or take the
 *      text with reg_export_utf8() / reg_export_to_utf16().
 *   4. reg_export_release(&x).
 *
 * Lossless by construction: REG_SZ data is written as "text" only when it
 * is exactly one NUL-terminated UTF-16 string without control line breaks,
 * REG_DWORD as dword: only when 4 bytes long; everything else is hex(N):
 * (hex: for REG_BINARY, N in hex for any 32-bit type number, as regedit
 * writes it), so `reg import` recreates the stored type and bytes, with one
 * exception it imposes (see reg_export_import_growth).
 * Key paths are written with full root names (HKEY_CURRENT_USER\...); a key
 * name may contain or end with ']' (reg import ends a header at the line's
 * last ']'); names with line breaks cannot be written at all.
 */
#ifndef REG_EXPORT_H
#define REG_EXPORT_H

#include "reg/reg.h"
#include "util/ws_strset.h"

struct reg_export {
	struct ws_buf text;    /* UTF-8 with LF line ends */
	char *last_key;        /* key of the section being written, or NULL */
	struct ws_strset seen; /* upper-cased keys already given a header
				  (keyed: the names come from hives) */
};

void reg_export_init(struct reg_export *x);
void reg_export_release(struct reg_export *x);

/*
 * Add a value (v == NULL: only the key) under a live key path: HKCU,
 * HKLM, HKCR, HKU, HKCC or their long names, any case, extra backslashes
 * tolerated.  WS_E_UNSUPPORTED for an unknown root, invalid UTF-8 or a name
 * regedit cannot express (a CR or LF in a key or value name).
 */
int reg_export_add(struct reg_export *x, const char *keypath,
		   const struct reg_value *v, struct ws_error *err);

/*
 * What `reg import` (Windows; Wine's behaves the same) adds to v as written:
 * it ends hex(1)/hex(2)/hex(7) data with a NUL UTF-16 unit unless the last
 * whole unit already is one, looking at whole units only.  So string data
 * not ending with a NUL unit is stored with 2 NUL bytes more, and an odd
 * length is first evened out by writing one NUL byte after the data (which
 * keeps the odd byte that reg import would otherwise overwrite).  Returns
 * the number of NUL bytes reg import's value has beyond v's data (0, 1, 2
 * or 3; 0 = recreated exactly).
 */
size_t reg_export_import_growth(const struct reg_value *v);

/* The file as UTF-8 with LF line ends (hivexregedit --merge reads this). */
const char *reg_export_utf8(const struct reg_export *x);

/* The file as regedit writes it: UTF-16LE, BOM, CRLF; appended to out. */
void reg_export_to_utf16(const struct reg_export *x, struct ws_buf *out);

#define REG_EXPORT_UTF16 1   /* write_file: Windows form (else UTF-8, LF) */

/* Write the file atomically (replacing an existing one). */
int reg_export_write_file(const struct reg_export *x, const char *path,
			  unsigned flags, struct ws_error *err);

#endif
