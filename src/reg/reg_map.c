/*
 * reg_map.c - live registry paths (HKCU\..., HKLM\SOFTWARE\...) to hive
 * files and inner paths, and CurrentControlSet resolution.
 */
#include "reg/reg_map.h"

#include <string.h>

#include "util/ws_utf.h"

/* Components of a path, empty ones (doubled/trailing backslashes) dropped. */
struct comps {
	const char *s[64];
	size_t len[64];
	size_t n;
};

static int split(const char *path, struct comps *c)
{
	const char *p = path;

	c->n = 0;
	while (*p) {
		const char *e;

		while (*p == '\\')
			p++;
		if (!*p)
			break;
		e = strchr(p, '\\');
		if (!e)
			e = p + strlen(p);
		if (c->n == sizeof(c->s) / sizeof(c->s[0]))
			return -1;
		c->s[c->n] = p;
		c->len[c->n++] = (size_t)(e - p);
		p = e;
	}
	return 0;
}

static int is(const struct comps *c, size_t i, const char *name)
{
	return i < c->n &&
	       ws_name_ncasecmp(c->s[i], c->len[i], name, strlen(name)) == 0;
}

static void join_from(const struct comps *c, size_t i, struct ws_buf *out)
{
	for (size_t j = i; j < c->n; j++) {
		if (j > i)
			ws_buf_addch(out, '\\');
		ws_buf_add(out, c->s[j], c->len[j]);
	}
}

int reg_map_path(const char *regpath, enum reg_hive_kind *kind,
		 struct ws_buf *inner, struct ws_error *err)
{
	static const struct {
		const char *name;
		enum reg_hive_kind kind;
	} machine[] = {
		{ "SOFTWARE", REG_HIVE_SOFTWARE },
		{ "SYSTEM", REG_HIVE_SYSTEM },
		{ "SAM", REG_HIVE_SAM },
		{ "SECURITY", REG_HIVE_SECURITY },
	};
	struct comps c;

	*kind = REG_HIVE_NONE;
	if (split(regpath, &c) != 0)
		return ws_error_set(err, WS_E_UNSUPPORTED, regpath,
				    "registry path has too many components");
	if (is(&c, 0, "HKCU") || is(&c, 0, "HKEY_CURRENT_USER")) {
		if (is(&c, 1, "Software") && is(&c, 2, "Classes")) {
			*kind = REG_HIVE_USRCLASS;
			join_from(&c, 3, inner);
		} else {
			*kind = REG_HIVE_NTUSER;
			join_from(&c, 1, inner);
		}
		return WS_OK;
	}
	if (is(&c, 0, "HKCR") || is(&c, 0, "HKEY_CLASSES_ROOT")) {
		*kind = REG_HIVE_SOFTWARE;
		ws_buf_adds(inner, "Classes");
		if (c.n > 1)
			ws_buf_addch(inner, '\\');
		join_from(&c, 1, inner);
		return WS_OK;
	}
	if (is(&c, 0, "HKLM") || is(&c, 0, "HKEY_LOCAL_MACHINE")) {
		for (size_t i = 0; i < sizeof(machine) / sizeof(machine[0]); i++) {
			if (is(&c, 1, machine[i].name)) {
				*kind = machine[i].kind;
				join_from(&c, 2, inner);
				return WS_OK;
			}
		}
		return ws_error_set(err, WS_E_UNSUPPORTED, regpath,
				    "no offline hive file holds this HKLM path "
				    "(SOFTWARE, SYSTEM, SAM and SECURITY do)");
	}
	return ws_error_set(err, WS_E_UNSUPPORTED, regpath,
			    "unsupported registry root (HKCU, HKLM and HKCR "
			    "are mapped to hive files)");
}

const char *reg_map_root(enum reg_hive_kind kind)
{
	switch (kind) {
	case REG_HIVE_NTUSER:
		return "HKCU";
	case REG_HIVE_USRCLASS:
		return "HKCU\\Software\\Classes";
	case REG_HIVE_SOFTWARE:
		return "HKLM\\SOFTWARE";
	case REG_HIVE_SYSTEM:
		return "HKLM\\SYSTEM";
	case REG_HIVE_SAM:
		return "HKLM\\SAM";
	case REG_HIVE_SECURITY:
		return "HKLM\\SECURITY";
	default:
		return "";
	}
}

const char *reg_map_hive_file(enum reg_hive_kind kind)
{
	switch (kind) {
	case REG_HIVE_NTUSER:
		return "NTUSER.DAT";
	case REG_HIVE_USRCLASS:
		return "AppData/Local/Microsoft/Windows/UsrClass.dat";
	case REG_HIVE_SOFTWARE:
		return "Windows/System32/config/SOFTWARE";
	case REG_HIVE_SYSTEM:
		return "Windows/System32/config/SYSTEM";
	case REG_HIVE_SAM:
		return "Windows/System32/config/SAM";
	case REG_HIVE_SECURITY:
		return "Windows/System32/config/SECURITY";
	default:
		return "";
	}
}

int reg_map_current_control_set(struct reg_hive *system, const char *inner,
				struct ws_buf *out, struct ws_error *err)
{
	struct comps c;
	reg_node sel;
	uint32_t cur = 0;
	int found = 0, rc;

	if (split(inner, &c) != 0)
		return ws_error_set(err, WS_E_UNSUPPORTED, inner,
				    "registry path has too many components");
	if (!is(&c, 0, "CurrentControlSet")) {
		join_from(&c, 0, out);
		return WS_OK;
	}
	rc = reg_key_lookup(system, reg_root(system), "Select", &sel, err);
	if (!rc)
		rc = reg_get_dword(system, sel, "Current", &cur, &found, err);
	if (rc)
		return rc;
	if (!found || cur == 0 || cur > 999)
		return ws_error_set(err, WS_E_HIVE, reg_hive_path(system),
				    "SYSTEM hive has no usable Select\\Current "
				    "value to resolve CurrentControlSet");
	ws_buf_addf(out, "ControlSet%03u", (unsigned)cur);
	if (c.n > 1)
		ws_buf_addch(out, '\\');
	join_from(&c, 1, out);
	return WS_OK;
}
