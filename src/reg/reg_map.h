/*
 * reg_map.h - which hive file holds a registry path.
 *
 * USMT rules and catalogs name registry objects by their live path
 * (HKCU\Control Panel\Desktop, HKLM\SOFTWARE\...).  Offline, each root lives in
 * a file: HKCU in the user's NTUSER.DAT, HKCU\Software\Classes in the user's
 * UsrClass.dat, HKLM\SOFTWARE and HKLM\SYSTEM in Windows\System32\config.
 * HKLM\SYSTEM\CurrentControlSet is resolved to ControlSet00N through the
 * SYSTEM hive's Select\Current value (reg_map_current_control_set).
 */
#ifndef REG_MAP_H
#define REG_MAP_H

#include "reg/reg.h"

enum reg_hive_kind {
	REG_HIVE_NONE = 0,
	REG_HIVE_NTUSER,     /* HKCU, minus Software\Classes */
	REG_HIVE_USRCLASS,   /* HKCU\Software\Classes */
	REG_HIVE_SOFTWARE,   /* HKLM\SOFTWARE */
	REG_HIVE_SYSTEM,     /* HKLM\SYSTEM */
	REG_HIVE_SAM,        /* HKLM\SAM */
	REG_HIVE_SECURITY    /* HKLM\SECURITY */
};

/*
 * Split a registry path into hive kind and the path inside that hive.
 * Accepts HKCU, HKEY_CURRENT_USER, HKLM, HKEY_LOCAL_MACHINE, HKCR /
 * HKEY_CLASSES_ROOT (= HKLM\SOFTWARE\Classes, the machine view) in any case,
 * trailing backslashes, and the bare root.  The inner path (no leading or
 * trailing backslash, "" for a hive's root) is appended to `inner`.
 * Unknown roots (HKU, HKCC ...) -> WS_E_UNSUPPORTED naming the path.
 */
int reg_map_path(const char *regpath, enum reg_hive_kind *kind,
		 struct ws_buf *inner, struct ws_error *err);

/* The live root of a hive kind, e.g. "HKCU\\Software\\Classes" (static). */
const char *reg_map_root(enum reg_hive_kind kind);

/* Path of the hive file relative to the Windows root (SOFTWARE, SYSTEM, SAM,
 * SECURITY) or to the profile folder (NTUSER, USRCLASS), with '/' separators,
 * e.g. "Windows/System32/config/SOFTWARE", "AppData/Local/Microsoft/Windows/UsrClass.dat". */
const char *reg_map_hive_file(enum reg_hive_kind kind);

/* Rewrite a SYSTEM-hive inner path starting with CurrentControlSet to
 * ControlSet00N using Select\Current of `system` (an open SYSTEM hive). */
int reg_map_current_control_set(struct reg_hive *system, const char *inner,
				struct ws_buf *out, struct ws_error *err);

#endif
