/*
 * apply_win11.c - what becomes of each value and file when a Windows 10
 * scan lands on Windows 11 (by the catalog's verdicts, apply_catalog.c),
 * Start pins (start2.bin between compatible builds, Windows 10 tiles
 * translated into a ConfigureStartPins list), default apps (UserChoice
 * ProgIds into a default-associations XML), and the type checks of
 * well-known settings values.
 */
#include "apply/apply_private.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/ws_utf.h"

#define AW_MAX_PINS 512
#define AW_MAX_ASSOC 4096

/* ---- Start pins from Windows 10 tiles ----------------------------------------- */

static int aumid_char(uint32_t u)
{
	return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
	       u == '.' || u == '-' || u == '_' || u == '!';
}

static int text_unit(uint32_t u)
{
	return (u >= 0x20 && u < 0x7f) || (u >= 0xa0 && u < 0xd800) || (u >= 0xe000 && u < 0xfffe);
}

/* "Name_publisherid!AppId": family part with a 13-character publisher id. */
static int valid_aumid(const char *s)
{
	const char *bang = strchr(s, '!'), *us;

	if (!bang || strchr(bang + 1, '!') || !bang[1] || bang == s)
		return 0;
	us = memchr(s, '_', (size_t)(bang - s));
	if (!us)
		return 0;
	while (memchr(us + 1, '_', (size_t)(bang - us - 1)))
		us = memchr(us + 1, '_', (size_t)(bang - us - 1));
	if (bang - us - 1 != 13 || us == s)
		return 0;
	for (const char *p = us + 1; p < bang; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return 0;
	for (const char *p = bang + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
			return 0;
	return 1;
}

struct pin_hit {
	size_t off;
	int kind;
	char *id;
};

static void pins_add(struct aw_pins *out, int kind, const char *id)
{
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].kind == kind && !ws_name_casecmp(out->v[i].id, id))
			return;
	if (out->n >= AW_MAX_PINS)
		return;
	WS_ALLOC_GROW(out->v, out->n + 1, out->alloc);
	out->v[out->n].kind = kind;
	out->v[out->n].id = ws_xstrdup(id);
	out->n++;
}

/* One run of text units (UTF-16 code units, with their byte offsets). */
static void scan_run(const uint16_t *u, size_t n, size_t off0, struct pin_hit **hits,
		     size_t *nh, size_t *ah, size_t *secondary)
{
	for (size_t i = 0; i + 2 < n; i++) {
		int kind = -1;

		if (u[i + 1] == '~' && (u[i] == 'P' || u[i] == 'W'))
			kind = u[i] == 'P' ? AW_PIN_PACKAGED : AW_PIN_DESKTOP_ID;
		if (kind >= 0) {
			struct ws_buf id = WS_BUF_INIT;
			size_t k = i + 2;

			while (k < n && k - i < 300 && aumid_char(u[k]))
				ws_buf_addch(&id, (int)u[k++]);
			/* "P~...!App:1234" is a secondary tile (a pinned web page,
			 * a contact): ConfigureStartPins has no form for it. */
			if (k < n && u[k] == ':' && kind == AW_PIN_PACKAGED) {
				(*secondary)++;
			} else if (id.len && (kind == AW_PIN_DESKTOP_ID || valid_aumid(id.buf))) {
				WS_ALLOC_GROW(*hits, *nh + 1, *ah);
				(*hits)[*nh].off = off0 + 2 * i;
				(*hits)[*nh].kind = kind;
				(*hits)[*nh].id = ws_buf_detach(&id, NULL);
				(*nh)++;
			}
			ws_buf_release(&id);
			i = k - 1;
			continue;
		}
		/* ".lnk" ends a shortcut path; it starts at "X:\" or "%". */
		if (i + 3 < n && u[i] == '.' && (u[i + 1] | 0x20) == 'l' && (u[i + 2] | 0x20) == 'n' &&
		    (u[i + 3] | 0x20) == 'k' && (i + 4 == n || !aumid_char(u[i + 4]))) {
			size_t start = SIZE_MAX;

			for (size_t b = i; b-- > 0 && i - b < 1024;) {
				if (u[b] == '%') {
					/* "%VAR%\...": the closing '%' is followed by '\' */
					if (b + 1 < n && u[b + 1] == '\\') {
						for (size_t c = b; c-- > 0 && b - c < 64;)
							if (u[c] == '%') {
								start = c;
								break;
							}
					} else {
						start = b;
					}
					break;
				}
				if (u[b] == ':' && b > 0 && b + 1 < n && u[b + 1] == '\\' &&
				    ((u[b - 1] | 0x20) >= 'a' && (u[b - 1] | 0x20) <= 'z')) {
					start = b - 1;
					break;
				}
			}
			if (start != SIZE_MAX) {
				struct ws_buf s = WS_BUF_INIT, le = WS_BUF_INIT;

				for (size_t k = start; k < i + 4; k++)
					ws_buf_add_u16le(&le, u[k]);
				ws_utf16le_to_utf8(le.buf, le.len, &s, 0);
				WS_ALLOC_GROW(*hits, *nh + 1, *ah);
				(*hits)[*nh].off = off0 + 2 * start;
				(*hits)[*nh].kind = AW_PIN_LINK;
				(*hits)[*nh].id = ws_buf_detach(&s, NULL);
				(*nh)++;
				ws_buf_release(&le);
			}
			i += 3;
		}
	}
}

static int cmp_hit(const void *a, const void *b)
{
	const struct pin_hit *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

void aw_pins_from_tiles(const unsigned char *blob, size_t len, struct aw_pins *out)
{
	struct pin_hit *hits = NULL;
	size_t nh = 0, ah = 0;
	uint16_t *run = ws_xmalloc((len / 2 + 1) * sizeof(*run));

	/* Strings sit at odd and even offsets alike: decode both alignments. */
	for (size_t par = 0; par < 2; par++) {
		size_t n = 0, start = par;

		for (size_t i = par; i + 1 < len; i += 2) {
			uint16_t u = (uint16_t)(blob[i] | (blob[i + 1] << 8));

			if (text_unit(u)) {
				if (!n)
					start = i;
				run[n++] = u;
				continue;
			}
			if (n >= 3)
				scan_run(run, n, start, &hits, &nh, &ah, &out->secondary);
			n = 0;
		}
		if (n >= 3)
			scan_run(run, n, start, &hits, &nh, &ah, &out->secondary);
	}
	free(run);
	if (nh)
		qsort(hits, nh, sizeof(*hits), cmp_hit);
	for (size_t i = 0; i < nh; i++) {
		pins_add(out, hits[i].kind, hits[i].id);
		free(hits[i].id);
	}
	free(hits);
}

void aw_pins_release(struct aw_pins *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].id);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* A shortcut path as ConfigureStartPins wants it: %APPDATA% / %ALLUSERSPROFILE%. */
static void link_env(const char *path, const char *profile, struct ws_buf *out)
{
	static const char roaming[] = "\\AppData\\Roaming\\";
	static const char pd[] = "\\ProgramData\\";
	size_t pl = profile ? strlen(profile) : 0;

	if (pl && !ws_name_ncasecmp(path, strnlen(path, pl), profile, pl) &&
	    !ws_name_ncasecmp(path + pl, strnlen(path + pl, sizeof(roaming) - 1), roaming,
			      sizeof(roaming) - 1)) {
		ws_buf_adds(out, "%APPDATA%\\");
		ws_buf_adds(out, path + pl + sizeof(roaming) - 1);
	} else if (strlen(path) > 2 && path[1] == ':' &&
		   !ws_name_ncasecmp(path + 2, strnlen(path + 2, sizeof(pd) - 1), pd, sizeof(pd) - 1)) {
		ws_buf_adds(out, "%ALLUSERSPROFILE%\\");
		ws_buf_adds(out, path + 2 + sizeof(pd) - 1);
	} else {
		ws_buf_adds(out, path);
	}
}

void aw_pins_json(const struct aw_pins *p, const char *profile, struct ws_buf *out)
{
	ws_buf_adds(out, "{\"pinnedList\":[");
	for (size_t i = 0; i < p->n; i++) {
		struct ws_buf v = WS_BUF_INIT;
		static const char *const keys[] = { "packagedAppId", "desktopAppId", "desktopAppLink" };

		if (p->v[i].kind == AW_PIN_LINK)
			link_env(p->v[i].id, profile, &v);
		else
			ws_buf_adds(&v, p->v[i].id);
		ws_buf_addf(out, "%s\n  {\"%s\":\"", i ? "," : "", keys[p->v[i].kind]);
		ws_buf_add_json_str(out, v.buf, v.len);
		ws_buf_adds(out, "\"}");
		ws_buf_release(&v);
	}
	ws_buf_adds(out, p->n ? "\n]}\n" : "]}\n");
}

/* ---- default apps ---------------------------------------------------------------- */

void aw_assoc_add(struct aw_assoc *a, const char *id, const char *progid, const char *app)
{
	for (size_t i = 0; i < a->n; i++)
		if (!ws_name_casecmp(a->v[i].id, id))
			return;
	if (a->n >= AW_MAX_ASSOC)
		return;
	WS_ALLOC_GROW(a->v, a->n + 1, a->alloc);
	a->v[a->n].id = ws_xstrdup(id);
	a->v[a->n].progid = ws_xstrdup(progid);
	a->v[a->n].app = ws_xstrdup(app && *app ? app : progid);
	a->n++;
}

void aw_assoc_release(struct aw_assoc *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].id);
		free(a->v[i].progid);
		free(a->v[i].app);
	}
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void aw_assoc_xml(const struct aw_assoc *a, struct ws_buf *out)
{
	ws_buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<DefaultAssociations>\r\n");
	for (size_t i = 0; i < a->n; i++) {
		ws_buf_adds(out, "  <Association Identifier=\"");
		ws_buf_add_xml(out, a->v[i].id);
		ws_buf_adds(out, "\" ProgId=\"");
		ws_buf_add_xml(out, a->v[i].progid);
		ws_buf_adds(out, "\" ApplicationName=\"");
		ws_buf_add_xml(out, a->v[i].app);
		ws_buf_adds(out, "\" />\r\n");
	}
	ws_buf_adds(out, "</DefaultAssociations>\r\n");
}

/* ---- what becomes of an object ------------------------------------------------- */

static int ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcasecmp(s + n - m, suffix);
}

static int starts_with_ci(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

#define FILEEXTS "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\FileExts\\"
#define URLASSOC "HKCU\\Software\\Microsoft\\Windows\\Shell\\Associations\\UrlAssociations\\"
#define CLOUDSTORE "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\CloudStore\\Store\\Cache\\DefaultAccount\\"
#define START_LOCALSTATE "\\AppData\\Local\\Packages\\Microsoft.Windows.StartMenuExperienceHost_cw5n1h2txyewy\\LocalState\\"

int aw_is_default_app(const char *key, const char *name, struct ws_buf *id)
{
	const char *rest = NULL;
	size_t n;

	if (strcasecmp(name, "ProgId") || !ends_with_ci(key, "\\UserChoice"))
		return 0;
	if (starts_with_ci(key, FILEEXTS))
		rest = key + strlen(FILEEXTS);
	else if (starts_with_ci(key, URLASSOC))
		rest = key + strlen(URLASSOC);
	if (!rest || strlen(rest) <= strlen("\\UserChoice"))
		return 0;
	n = strlen(rest) - strlen("\\UserChoice");
	if (!n || memchr(rest, '\\', n))
		return 0;
	if (id)
		ws_buf_add(id, rest, n);
	return 1;
}

int aw_is_start_tiles(const char *key, const char *name)
{
	const char *rest;

	if (strcasecmp(name, "Data") || !starts_with_ci(key, CLOUDSTORE))
		return 0;
	rest = key + strlen(CLOUDSTORE);
	return ends_with_ci(rest, "$start.tilegrid$windows.data.curatedtilecollection.tilecollection\\Current");
}

/* start2.bin (Windows 11 22H2 and later) or start.bin (21H2) of a profile. */
static int start_bin(const char *path)
{
	const char *p = strstr(path, "\\AppData\\");
	size_t n = strlen(START_LOCALSTATE);

	for (; p; p = strstr(p + 1, "\\AppData\\"))
		if (!strncasecmp(p, START_LOCALSTATE, n)) {
			if (!strcasecmp(p + n, "start2.bin"))
				return 2;
			if (!strcasecmp(p + n, "start.bin"))
				return 1;
		}
	return 0;
}

static unsigned build_of(const char *s)
{
	unsigned long v = s ? strtoul(s, NULL, 10) : 0;

	return v > 1000000 ? 0 : (unsigned)v;
}

void aw_init(struct aw *w, const char *src_build, unsigned dst_build)
{
	memset(w, 0, sizeof(*w));
	w->src_build = build_of(src_build);
	w->dst_build = dst_build;
	w->to11 = w->src_build && w->src_build < 22000 && dst_build >= 22000;
}

int aw_file(const struct aw *w, const char *path, const struct acat_comp *comp,
	    char *why, size_t whylen)
{
	int sb = start_bin(path);

	if (sb == 2 && !(w->src_build >= 22621 && w->dst_build >= 22621)) {
		snprintf(why, whylen, "start2.bin travels only between Windows 11 22H2 or later "
			 "(build 22621+) on both sides; source build %u, target build %u",
			 w->src_build, w->dst_build);
		return AW_DROP;
	}
	if (sb == 1 && !(w->src_build >= 22000 && w->src_build < 22621 &&
			 w->dst_build >= 22000 && w->dst_build < 22621)) {
		snprintf(why, whylen, "start.bin is the Start layout of Windows 11 21H2 only; "
			 "source build %u, target build %u", w->src_build, w->dst_build);
		return AW_DROP;
	}
	if (sb)
		return AW_CARRY;
	if (w->to11 && comp && comp->move == ACAT_DROPPED) {
		snprintf(why, whylen, "Windows 10 -> 11: %s", comp->note);
		return AW_DROP;
	}
	return AW_CARRY;
}

int aw_value(const struct aw *w, const char *key, const char *name,
	     const struct acat_comp *comp, int never_restore, char *why, size_t whylen)
{
	if (aw_is_default_app(key, name, NULL)) {
		snprintf(why, whylen, "default app choice: UserChoice needs a hash bound to the "
			 "user and PC; written into default-apps.xml instead");
		return AW_DEFAULT_APP;
	}
	if (aw_is_start_tiles(key, name)) {
		snprintf(why, whylen, "Windows 10 Start tiles: translated into a "
			 "ConfigureStartPins list (start-pins.json)");
		return AW_START_TILES;
	}
	if (never_restore) {
		snprintf(why, whylen, "captured for the record only (NeverRestore)%s%s%s",
			 comp ? ": '" : "", comp ? comp->name : "", comp ? "'" : "");
		return AW_DROP;
	}
	if (w->to11 && comp && comp->move == ACAT_DROPPED) {
		snprintf(why, whylen, "Windows 10 -> 11: %s", comp->note);
		return AW_DROP;
	}
	if (w->to11 && w->dst_build < 22631 && !strcasecmp(name, "TaskbarSmallIcons") &&
	    ends_with_ci(key, "\\Explorer\\Advanced")) {
		snprintf(why, whylen, "Windows 10 -> 11: small taskbar buttons have no meaning on "
			 "Windows 11 before 23H2 (target build %u)", w->dst_build);
		return AW_DROP;
	}
	return AW_CARRY;
}

/* ---- type checks of well-known settings values --------------------------------- */

struct known_type {
	const char *key_suffix;  /* the key ends with it (case-insensitive) */
	const char *name;        /* value name, "*" = any */
	uint32_t type;
};

static const struct known_type known[] = {
	{ "\\Themes\\Personalize", "*", REG_DWORD },
	{ "\\Explorer\\Advanced", "HideFileExt", REG_DWORD },
	{ "\\Explorer\\Advanced", "Hidden", REG_DWORD },
	{ "\\Explorer\\Advanced", "ShowSuperHidden", REG_DWORD },
	{ "\\Explorer\\Advanced", "LaunchTo", REG_DWORD },
	{ "\\Explorer\\Advanced", "NavPaneShowAllFolders", REG_DWORD },
	{ "\\Explorer\\Advanced", "ShowStatusBar", REG_DWORD },
	{ "\\Explorer\\Advanced", "TaskbarAl", REG_DWORD },
	{ "\\Explorer\\Advanced", "TaskbarDa", REG_DWORD },
	{ "\\Explorer\\Advanced", "TaskbarMn", REG_DWORD },
	{ "\\Explorer\\Advanced", "ShowTaskViewButton", REG_DWORD },
	{ "\\Explorer\\Advanced", "TaskbarGlomLevel", REG_DWORD },
	{ "\\Explorer\\Advanced", "TaskbarSmallIcons", REG_DWORD },
	{ "\\Explorer\\Advanced", "Start_TrackDocs", REG_DWORD },
	{ "\\Explorer\\Advanced", "Start_TrackProgs", REG_DWORD },
	{ "\\Explorer\\Advanced", "Start_Layout", REG_DWORD },
	{ "\\Explorer\\Advanced", "SnapAssist", REG_DWORD },
	{ "\\Explorer\\Advanced", "EnableSnapAssistFlyout", REG_DWORD },
	{ "\\Explorer\\Accent", "AccentColorMenu", REG_DWORD },
	{ "\\Explorer\\Accent", "StartColorMenu", REG_DWORD },
	{ "\\Explorer\\Accent", "AccentPalette", REG_BINARY },
	{ "\\Microsoft\\Windows\\DWM", "AccentColor", REG_DWORD },
	{ "\\Microsoft\\Windows\\DWM", "ColorizationColor", REG_DWORD },
	{ "\\Microsoft\\Windows\\DWM", "ColorizationAfterglow", REG_DWORD },
	{ "\\Microsoft\\Windows\\DWM", "ColorPrevalence", REG_DWORD },
	{ "\\Microsoft\\Windows\\DWM", "EnableWindowColorization", REG_DWORD },
	{ "\\Control Panel\\Desktop", "WallPaper", REG_SZ },
	{ "\\Control Panel\\Desktop", "WallpaperStyle", REG_SZ },
	{ "\\Control Panel\\Desktop", "TileWallpaper", REG_SZ },
	{ "\\Control Panel\\Desktop", "PreferredUILanguages", REG_MULTI_SZ },
	{ "\\Windows\\CurrentVersion\\Themes", "CurrentTheme", REG_SZ },
	{ "\\Internet Settings", "ProxyEnable", REG_DWORD },
	{ "\\Internet Settings", "ProxyServer", REG_SZ },
	{ "\\PushNotifications", "ToastEnabled", REG_DWORD },
	{ "\\Microsoft\\Clipboard", "EnableClipboardHistory", REG_DWORD },
	{ "\\System\\GameConfigStore", "GameDVR_Enabled", REG_DWORD },
	{ "\\Explorer\\StuckRects3", "Settings", REG_BINARY },
	{ "\\Explorer\\Taskband", "Favorites", REG_BINARY },
	{ "\\CurrentVersion\\Search", "SearchboxTaskbarMode", REG_DWORD },
	{ "\\UserChoice", "ProgId", REG_SZ },
};

int aw_check_type(const char *key, const char *name, uint32_t type, size_t len,
		  char *why, size_t whylen)
{
	static const char *const tn[] = { "REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY",
					  "REG_DWORD", "REG_DWORD_BIG_ENDIAN", "REG_LINK",
					  "REG_MULTI_SZ", "", "", "", "REG_QWORD" };
	const char *t = type < sizeof(tn) / sizeof(tn[0]) && *tn[type] ? tn[type] : "?";

	/* Only well-known settings are judged: any other value is carried as
	 * the source holds it, whatever its length (apps store what they like). */
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const struct known_type *k = &known[i];
		uint32_t want = k->type;

		if (!ends_with_ci(key, k->key_suffix) ||
		    (strcmp(k->name, "*") && strcasecmp(k->name, name)))
			continue;
		if (!strcmp(k->name, "*") && !strcasecmp(name, ""))
			continue;
		if ((type == REG_DWORD || type == REG_DWORD_BIG_ENDIAN) && len != 4) {
			snprintf(why, whylen, "malformed value: %s of %zu bytes (4 expected)", t, len);
			return 0;
		}
		if (type == REG_QWORD && len != 8) {
			snprintf(why, whylen, "malformed value: REG_QWORD of %zu bytes (8 expected)",
				 len);
			return 0;
		}
		if (type == want || (want == REG_SZ && type == REG_EXPAND_SZ))
			return 1;
		snprintf(why, whylen, "wrong type for this setting: %s where Windows keeps %s",
			 t, tn[want]);
		return 0;
	}
	return 1;
}
