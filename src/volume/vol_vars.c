/*
 * vol_vars.c - the USMT environment variables of an offline installation:
 * system folders (from SOFTWARE, with Windows' defaults) and each user's
 * known folders (from the user's NTUSER.DAT User Shell Folders, then Shell
 * Folders, then the defaults under the profile).
 */
#include "volume/volume_private.h"

#include <stdlib.h>
#include <string.h>

#include "reg/reg.h"
#include "util/ws_utf.h"

#define WIN_CV "Microsoft\\Windows\\CurrentVersion"
#define USF_KEY "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\User Shell Folders"
#define SF_KEY "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Shell Folders"
#define START_MENU "AppData\\Roaming\\Microsoft\\Windows\\Start Menu"

void vol_vars_release(struct vol_vars *vars)
{
	for (size_t i = 0; i < vars->n; i++) {
		free(vars->v[i].name);
		free(vars->v[i].value);
	}
	free(vars->v);
	vars->v = NULL;
	vars->n = vars->alloc = 0;
}

void vol_vars_set(struct vol_vars *vars, const char *name, const char *value)
{
	for (size_t i = 0; i < vars->n; i++)
		if (!ws_name_casecmp(vars->v[i].name, name)) {
			free(vars->v[i].value);
			vars->v[i].value = ws_xstrdup(value);
			return;
		}
	WS_ALLOC_GROW(vars->v, vars->n + 1, vars->alloc);
	vars->v[vars->n].name = ws_xstrdup(name);
	vars->v[vars->n].value = ws_xstrdup(value);
	vars->n++;
}

const char *vol_vars_get(const struct vol_vars *vars, const char *name)
{
	for (size_t i = 0; i < vars->n; i++)
		if (!ws_name_casecmp(vars->v[i].name, name))
			return vars->v[i].value;
	return NULL;
}

size_t vol_vars_expand(const struct vol_vars *vars, const char *in,
		       struct ws_buf *out)
{
	size_t unknown = 0;
	const char *p = in;

	while (*p) {
		const char *end;

		if (*p != '%' || !(end = strchr(p + 1, '%'))) {
			ws_buf_addch(out, *p++);
			continue;
		}
		if (end == p + 1) { /* "%%" */
			ws_buf_add(out, "%%", 2);
			p += 2;
			continue;
		}
		const char *val = NULL;
		size_t len = (size_t)(end - p - 1);

		for (size_t i = 0; i < vars->n && !val; i++)
			if (!ws_name_ncasecmp(vars->v[i].name,
					      strlen(vars->v[i].name), p + 1,
					      len))
				val = vars->v[i].value;
		if (val) {
			ws_buf_adds(out, val);
		} else {
			unknown++;
			ws_buf_add(out, p, len + 2);
		}
		p = end + 1;
	}
	return unknown;
}

/* value of `name` under key `path` of SOFTWARE expanded with Windows' own
 * environment, or `dflt` */
static void sw_path(struct vol *vol, const struct vol_vars *env,
		    const char *path, const char *name, const char *dflt,
		    struct ws_buf *out)
{
	struct ws_buf b = WS_BUF_INIT;
	int found = 0;

	ws_buf_reset(out);
	if (vol_reg_string(vol->software, path, name, &b, &found, NULL) ==
		    WS_OK && found && b.buf[0])
		vol_vars_expand(env, b.buf, out);
	else
		ws_buf_adds(out, dflt);
	ws_buf_release(&b);
}

static void set_join(struct vol_vars *v, const char *name, const char *base,
		     const char *rel)
{
	struct ws_buf b = WS_BUF_INIT;

	ws_buf_adds(&b, base);
	if (rel && *rel) {
		if (b.len && b.buf[b.len - 1] != '\\')
			ws_buf_addch(&b, '\\');
		ws_buf_adds(&b, rel);
	}
	vol_vars_set(v, name, b.buf);
	ws_buf_release(&b);
}

/* CSIDL_DEFAULT_* relative to the default profile. */
static const struct {
	const char *name, *rel;
} default_folders[] = {
	{ "CSIDL_DEFAULT_APPDATA", "AppData\\Roaming" },
	{ "CSIDL_DEFAULT_LOCAL_APPDATA", "AppData\\Local" },
	{ "CSIDL_DEFAULT_COOKIES", "AppData\\Local\\Microsoft\\Windows\\INetCookies" },
	{ "CSIDL_DEFAULT_CONTACTS", "Contacts" },
	{ "CSIDL_DEFAULT_DESKTOP", "Desktop" },
	{ "CSIDL_DEFAULT_DOWNLOADS", "Downloads" },
	{ "CSIDL_DEFAULT_FAVORITES", "Favorites" },
	{ "CSIDL_DEFAULT_HISTORY", "AppData\\Local\\Microsoft\\Windows\\History" },
	{ "CSIDL_DEFAULT_INTERNET_CACHE", "AppData\\Local\\Microsoft\\Windows\\INetCache" },
	{ "CSIDL_DEFAULT_PERSONAL", "Documents" },
	{ "CSIDL_DEFAULT_MYDOCUMENTS", "Documents" },
	{ "CSIDL_DEFAULT_MYPICTURES", "Pictures" },
	{ "CSIDL_DEFAULT_MYMUSIC", "Music" },
	{ "CSIDL_DEFAULT_MYVIDEO", "Videos" },
	{ "CSIDL_DEFAULT_RECENT", "AppData\\Roaming\\Microsoft\\Windows\\Recent" },
	{ "CSIDL_DEFAULT_SENDTO", "AppData\\Roaming\\Microsoft\\Windows\\SendTo" },
	{ "CSIDL_DEFAULT_STARTMENU", START_MENU },
	{ "CSIDL_DEFAULT_PROGRAMS", START_MENU "\\Programs" },
	{ "CSIDL_DEFAULT_STARTUP", START_MENU "\\Programs\\Startup" },
	{ "CSIDL_DEFAULT_TEMPLATES", "AppData\\Roaming\\Microsoft\\Windows\\Templates" },
	{ "CSIDL_DEFAULT_QUICKLAUNCH", "AppData\\Roaming\\Microsoft\\Internet Explorer\\Quick Launch" },
};

/* CSIDL_COMMON_*: value name in HKLM ...\Explorer\User Shell Folders, base
 * variable of the default, and the default below it. */
static const struct {
	const char *name, *usf, *base, *rel;
} common_folders[] = {
	{ "CSIDL_COMMON_DESKTOPDIRECTORY", "Common Desktop", "PUBLIC", "Desktop" },
	{ "CSIDL_COMMON_DOCUMENTS", "Common Documents", "PUBLIC", "Documents" },
	{ "CSIDL_COMMON_MUSIC", "CommonMusic", "PUBLIC", "Music" },
	{ "CSIDL_COMMON_PICTURES", "CommonPictures", "PUBLIC", "Pictures" },
	{ "CSIDL_COMMON_VIDEO", "CommonVideo", "PUBLIC", "Videos" },
	{ "CSIDL_COMMON_FAVORITES", "Common Favorites", "PUBLIC", "Favorites" },
	{ "CSIDL_COMMON_STARTMENU", "Common Start Menu", "PROGRAMDATA", "Microsoft\\Windows\\Start Menu" },
	{ "CSIDL_COMMON_PROGRAMS", "Common Programs", "PROGRAMDATA", "Microsoft\\Windows\\Start Menu\\Programs" },
	{ "CSIDL_COMMON_STARTUP", "Common Startup", "PROGRAMDATA", "Microsoft\\Windows\\Start Menu\\Programs\\Startup" },
	{ "CSIDL_COMMON_ALTSTARTUP", "Common Startup", "PROGRAMDATA", "Microsoft\\Windows\\Start Menu\\Programs\\Startup" },
	{ "CSIDL_COMMON_ADMINTOOLS", "Common Administrative Tools", "PROGRAMDATA", "Microsoft\\Windows\\Start Menu\\Programs\\Administrative Tools" },
	{ "CSIDL_COMMON_TEMPLATES", "Common Templates", "PROGRAMDATA", "Microsoft\\Windows\\Templates" },
	{ "CSIDL_COMMON_APPDATA", "Common AppData", "PROGRAMDATA", "" },
};

/* Windows' environment extended with Program Files & co (for expanding
 * machine-wide REG_EXPAND_SZ data). */
static void system_env(struct vol *vol, struct vol_vars *env,
		       struct vol_vars *out)
{
	struct ws_buf b = WS_BUF_INIT, d = WS_BUF_INIT;
	const char *sysroot = vol->info.system_root;
	char drive[3] = { vol->info.system_drive, ':', 0 };
	int x86 = !ws_name_casecmp(vol->info.architecture, "x86");

	for (size_t i = 0; i < vol->winenv.n; i++)
		vol_vars_set(env, vol->winenv.v[i].name, vol->winenv.v[i].value);

	ws_buf_addf(&d, "%s\\Program Files", drive);
	sw_path(vol, env, WIN_CV, "ProgramFilesDir", d.buf, &b);
	vol_vars_set(env, "ProgramFiles", b.buf);
	vol_vars_set(out, "PROGRAMFILES", b.buf);
	vol_vars_set(out, "CSIDL_PROGRAM_FILES", b.buf);
	ws_buf_reset(&d);
	ws_buf_addf(&d, "%s\\Common Files", b.buf);
	sw_path(vol, env, WIN_CV, "CommonFilesDir", d.buf, &b);
	vol_vars_set(env, "CommonProgramFiles", b.buf);
	vol_vars_set(out, "COMMONPROGRAMFILES", b.buf);
	vol_vars_set(out, "CSIDL_PROGRAM_FILES_COMMON", b.buf);

	ws_buf_reset(&d);
	ws_buf_addf(&d, x86 ? "%s\\Program Files" : "%s\\Program Files (x86)",
		    drive);
	sw_path(vol, env, WIN_CV, "ProgramFilesDir (x86)", d.buf, &b);
	vol_vars_set(env, "ProgramFiles(x86)", b.buf);
	vol_vars_set(out, "PROGRAMFILES(X86)", b.buf);
	vol_vars_set(out, "CSIDL_PROGRAM_FILESX86", b.buf);
	ws_buf_reset(&d);
	ws_buf_addf(&d, "%s\\Common Files", b.buf);
	sw_path(vol, env, WIN_CV, "CommonFilesDir (x86)", d.buf, &b);
	vol_vars_set(env, "CommonProgramFiles(x86)", b.buf);
	vol_vars_set(out, "COMMONPROGRAMFILES(X86)", b.buf);
	vol_vars_set(out, "CSIDL_PROGRAM_FILES_COMMONX86", b.buf);

	vol_vars_set(out, "SYSTEMDRIVE", drive);
	vol_vars_set(out, "WINDIR", sysroot);
	vol_vars_set(out, "SYSTEMROOT", sysroot);
	vol_vars_set(out, "CSIDL_WINDOWS", sysroot);
	set_join(out, "SYSTEM", sysroot, "system32");
	set_join(out, "SYSTEM32", sysroot, "system32");
	set_join(out, "CSIDL_SYSTEM", sysroot, "system32");
	set_join(out, "SYSTEM16", sysroot, "system");
	set_join(out, "CSIDL_FONTS", sysroot, "Fonts");
	set_join(out, "CSIDL_RESOURCES", sysroot, "Resources");
	ws_buf_release(&b);
	ws_buf_release(&d);
}

int vol_system_vars(struct vol *vol, struct vol_vars *out,
		    struct ws_error *err)
{
	struct vol_vars env = VOL_VARS_INIT;
	struct ws_buf b = WS_BUF_INIT;
	const char *programdata = vol_vars_get(&vol->winenv, "ProgramData");
	const char *profiles = vol_vars_get(&vol->winenv, "PROFILESFOLDER");
	const char *pub = NULL, *dflt = NULL, *sysprof = NULL;
	size_t n;
	const struct vol_profile *pr = vol_profiles(vol, &n);

	system_env(vol, &env, out);
	for (size_t i = 0; i < n; i++) {
		if (pr[i].kind == VOL_PROFILE_PUBLIC && !pub)
			pub = pr[i].win_path;
		if (pr[i].kind == VOL_PROFILE_DEFAULT && !dflt)
			dflt = pr[i].win_path;
		if (!strcmp(pr[i].sid, "S-1-5-18"))
			sysprof = pr[i].win_path;
	}
	vol_vars_set(out, "PROGRAMDATA", programdata);
	vol_vars_set(out, "ALLUSERSAPPDATA", programdata);
	vol_vars_set(out, "PROFILESFOLDER", profiles);
	vol_vars_set(out, "PUBLIC", pub ? pub : "");
	/* USMT: ALLUSERSPROFILE is %PROFILESFOLDER%\Public, not ProgramData */
	vol_vars_set(out, "ALLUSERSPROFILE", pub ? pub : "");
	vol_vars_set(&env, "PUBLIC", pub ? pub : "");
	vol_vars_set(out, "DEFAULTUSERPROFILE", dflt ? dflt : "");
	if (sysprof) {
		vol_vars_set(out, "SYSTEMPROFILE", sysprof);
	} else {
		ws_buf_addf(&b, "%s\\system32\\config\\systemprofile",
			    vol->info.system_root);
		vol_vars_set(out, "SYSTEMPROFILE", b.buf);
	}
	for (size_t i = 0; i < sizeof(common_folders) / sizeof(*common_folders);
	     i++) {
		struct ws_buf d = WS_BUF_INIT;

		set_join(out, common_folders[i].name,
			 vol_vars_get(out, common_folders[i].base),
			 common_folders[i].rel);
		ws_buf_adds(&d, vol_vars_get(out, common_folders[i].name));
		sw_path(vol, &env, WIN_CV "\\Explorer\\User Shell Folders",
			common_folders[i].usf, d.buf, &b);
		vol_vars_set(out, common_folders[i].name, b.buf);
		ws_buf_release(&d);
	}
	for (size_t i = 0;
	     i < sizeof(default_folders) / sizeof(*default_folders); i++)
		set_join(out, default_folders[i].name, dflt ? dflt : "",
			 default_folders[i].rel);
	ws_buf_release(&b);
	vol_vars_release(&env);
	return WS_OK;
}

/* A user's known folder: value names in User Shell Folders / Shell Folders
 * (legacy name first, then the GUID ones), the variables it defines, and
 * the default below the profile. */
struct known_folder {
	const char *values[3];
	const char *vars[3];
	const char *rel;
};

static const struct known_folder known_folders[] = {
	{ { "Personal", "{F42EE2D3-909F-4907-8871-4C22FC0BF756}" },
	  { "CSIDL_PERSONAL", "CSIDL_MYDOCUMENTS" }, "Documents" },
	{ { "Desktop", "{754AC886-DF64-4CBA-86B5-F7FBF4FBCEF5}" },
	  { "CSIDL_DESKTOP", "CSIDL_DESKTOPDIRECTORY" }, "Desktop" },
	{ { "My Pictures", "{0DDD015D-B06C-45D5-8C4C-F59713854639}" },
	  { "CSIDL_MYPICTURES" }, "Pictures" },
	{ { "My Music", "{A0C69A99-21C8-4671-8703-7934162FCF1D}" },
	  { "CSIDL_MYMUSIC" }, "Music" },
	{ { "My Video", "{35286A68-3C57-41A1-BBB1-0EAE73D76C95}" },
	  { "CSIDL_MYVIDEO" }, "Videos" },
	{ { "{374DE290-123F-4565-9164-39C4925E467B}",
	    "{7D83EE9B-2244-4E70-B1F5-5393042AF1E4}" },
	  { "FOLDERID_DOWNLOADS" }, "Downloads" },
	{ { "Favorites" }, { "CSIDL_FAVORITES" }, "Favorites" },
	{ { "AppData" }, { "CSIDL_APPDATA", "APPDATA" }, "AppData\\Roaming" },
	{ { "Local AppData" }, { "CSIDL_LOCAL_APPDATA", "LOCALAPPDATA" },
	  "AppData\\Local" },
	{ { "Start Menu" }, { "CSIDL_STARTMENU" }, START_MENU },
	{ { "Programs" }, { "CSIDL_PROGRAMS" }, START_MENU "\\Programs" },
	{ { "Startup" }, { "CSIDL_STARTUP", "CSIDL_ALTSTARTUP" },
	  START_MENU "\\Programs\\Startup" },
	{ { "Administrative Tools" }, { "CSIDL_ADMINTOOLS" },
	  START_MENU "\\Programs\\Administrative Tools" },
	{ { "Recent" }, { "CSIDL_RECENT" },
	  "AppData\\Roaming\\Microsoft\\Windows\\Recent" },
	{ { "SendTo" }, { "CSIDL_SENDTO" },
	  "AppData\\Roaming\\Microsoft\\Windows\\SendTo" },
	{ { "Templates" }, { "CSIDL_TEMPLATES" },
	  "AppData\\Roaming\\Microsoft\\Windows\\Templates" },
	{ { "Cookies" }, { "CSIDL_COOKIES" },
	  "AppData\\Local\\Microsoft\\Windows\\INetCookies" },
	{ { "History" }, { "CSIDL_HISTORY" },
	  "AppData\\Local\\Microsoft\\Windows\\History" },
	{ { "Cache" }, { "CSIDL_INTERNET_CACHE" },
	  "AppData\\Local\\Microsoft\\Windows\\INetCache" },
	{ { "NetHood" }, { "CSIDL_NETHOOD" },
	  "AppData\\Roaming\\Microsoft\\Windows\\Network Shortcuts" },
	{ { "PrintHood" }, { "CSIDL_PRINTHOOD" },
	  "AppData\\Roaming\\Microsoft\\Windows\\Printer Shortcuts" },
	{ { "CD Burning" }, { "CSIDL_CDBURN_AREA" },
	  "AppData\\Local\\Microsoft\\Windows\\Burn\\Burn" },
	{ { "{56784854-C6CB-462B-8169-88E350ACB882}" }, { "CSIDL_CONTACTS" },
	  "Contacts" },
	{ { "{4C5C32FF-BB9D-43B0-B5B4-2D72E54EAAA4}" },
	  { "FOLDERID_SAVEDGAMES" }, "Saved Games" },
	{ { "{BFB9D5E0-C6A9-404C-B2B2-AE6DB6AF4968}" }, { "FOLDERID_LINKS" },
	  "Links" },
	{ { "{7D1D3A04-DEBB-4115-95CF-2F29DA2920DA}" },
	  { "FOLDERID_SEARCHES" }, "Searches" },
};

/* Look the folder up in key `path` of the user hive (first name found). */
static int usf_lookup(struct reg_hive *h, reg_node key,
		      const struct known_folder *kf, struct ws_buf *out)
{
	for (int i = 0; i < 3 && kf->values[i]; i++) {
		struct reg_value v;
		int found = 0;

		if (reg_value_get(h, key, kf->values[i], &v, &found, NULL) !=
			    WS_OK || !found)
			continue;
		ws_buf_reset(out);
		if ((v.type == REG_SZ || v.type == REG_EXPAND_SZ) &&
		    reg_value_to_utf8(&v, out, NULL) == WS_OK && out->len) {
			reg_value_release(&v);
			return 1;
		}
		reg_value_release(&v);
	}
	return 0;
}

int vol_user_vars(struct vol *vol, const struct vol_profile *p,
		  struct vol_vars *out, struct ws_error *err)
{
	struct vol_vars env = VOL_VARS_INIT;
	struct ws_buf b = WS_BUF_INIT, x = WS_BUF_INIT;
	struct reg_hive *h = NULL;
	reg_node usf = 0, sf = 0, envkey = 0;
	const char *prof = p->win_path;
	struct vol_hive_how how;
	int rc;

	rc = vol_system_vars(vol, out, err);
	if (rc != WS_OK)
		return rc;
	{
		struct vol_vars scratch = VOL_VARS_INIT;

		system_env(vol, &env, &scratch);
		vol_vars_release(&scratch);
	}
	vol_vars_set(&env, "USERPROFILE", prof);
	vol_vars_set(&env, "USERNAME", p->account);
	vol_vars_set(&env, "PUBLIC", vol_vars_get(out, "PUBLIC"));

	vol_vars_set(out, "USERPROFILE", prof);
	vol_vars_set(out, "CSIDL_PROFILE", prof);
	vol_vars_set(out, "USERNAME", p->account);
	vol_vars_set(out, "USERSID", p->sid);
	if (prof[0] && prof[1] == ':') {
		char drive[3] = { prof[0], ':', 0 };

		vol_vars_set(out, "HOMEDRIVE", drive);
		vol_vars_set(out, "HOMEPATH", prof[2] ? prof + 2 : "\\");
	} else {
		vol_vars_set(out, "HOMEDRIVE", vol_vars_get(out, "SYSTEMDRIVE"));
		vol_vars_set(out, "HOMEPATH", prof);
	}

	/* best effort: a profile without a readable hive gets the defaults */
	if (p->ntuser_path &&
	    vol_hive_open(vol, p->ntuser_path, 0, &h, &how, NULL) == WS_OK) {
		vol->info.user_hives_replayed +=
			how.first && how.state == VOL_HIVE_REPLAYED;
		vol->info.user_hives_dirty +=
			how.first && how.state != VOL_HIVE_CLEAN;
		if (reg_key_lookup(h, reg_root(h), USF_KEY, &usf, NULL))
			usf = 0;
		if (reg_key_lookup(h, reg_root(h), SF_KEY, &sf, NULL))
			sf = 0;
		if (reg_key_lookup(h, reg_root(h), "Environment", &envkey,
				   NULL))
			envkey = 0;
	}
	for (size_t i = 0; i < sizeof(known_folders) / sizeof(*known_folders);
	     i++) {
		const struct known_folder *kf = &known_folders[i];

		ws_buf_reset(&x);
		if ((usf && usf_lookup(h, usf, kf, &b)) ||
		    (sf && usf_lookup(h, sf, kf, &b)))
			vol_vars_expand(&env, b.buf, &x);
		else
			ws_buf_addf(&x, "%s\\%s", prof, kf->rel);
		for (int k = 0; k < 3 && kf->vars[k]; k++)
			vol_vars_set(out, kf->vars[k], x.buf);
		/* later folders may be written relative to earlier ones */
		if (!strcmp(kf->vars[0], "CSIDL_APPDATA"))
			vol_vars_set(&env, "APPDATA", x.buf);
		if (!strcmp(kf->vars[0], "CSIDL_LOCAL_APPDATA"))
			vol_vars_set(&env, "LOCALAPPDATA", x.buf);
	}
	ws_buf_reset(&x);
	ws_buf_addf(&x, "%s\\Playlists", vol_vars_get(out, "CSIDL_MYMUSIC"));
	vol_vars_set(out, "CSIDL_PLAYLISTS", x.buf);

	/* TEMP/TMP: HKCU\Environment, else %LOCALAPPDATA%\Temp */
	static const char *const temps[] = { "TEMP", "TMP" };
	for (int i = 0; i < 2; i++) {
		struct reg_value v;
		int found = 0;

		ws_buf_reset(&x);
		if (envkey &&
		    reg_value_get(h, envkey, temps[i], &v, &found, NULL) ==
			    WS_OK && found) {
			ws_buf_reset(&b);
			if ((v.type == REG_SZ || v.type == REG_EXPAND_SZ) &&
			    reg_value_to_utf8(&v, &b, NULL) == WS_OK && b.len)
				vol_vars_expand(&env, b.buf, &x);
			reg_value_release(&v);
		}
		if (!x.len)
			ws_buf_addf(&x, "%s\\Temp",
				    vol_vars_get(out, "CSIDL_LOCAL_APPDATA"));
		vol_vars_set(out, temps[i], x.buf);
	}
	if (h)
		reg_hive_close(h);
	vol_vars_release(&env);
	ws_buf_release(&b);
	ws_buf_release(&x);
	return WS_OK;
}
