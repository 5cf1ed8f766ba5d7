/*
 * vol_open.c - recognise an offline Windows installation and read its
 * identity (computer name, OS product/build/edition, architecture) from the
 * SYSTEM and SOFTWARE hives.
 */
#include "volume/volume_private.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reg/reg.h"
#include "util/ws_fs.h"

#define CURRENT_VERSION "Microsoft\\Windows NT\\CurrentVersion"

const char *vol_keep(struct vol *vol, const char *s)
{
	WS_ALLOC_GROW(vol->strs, vol->nstrs + 1, vol->astrs);
	vol->strs[vol->nstrs] = ws_xstrdup(s ? s : "");
	return vol->strs[vol->nstrs++];
}

/* A value of key `path` through reg.h's typed getters.  A value of
 * another type is treated as absent: hostile data is not a reason to
 * refuse the whole installation. */
int vol_reg_string(struct reg_hive *h, const char *path, const char *name,
		   struct ws_buf *out, int *found, struct ws_error *err)
{
	struct ws_error e2;
	reg_node key = 0;
	int rc;

	*found = 0;
	if (!h)   /* released (vol_release_hives): nothing found */
		return WS_OK;
	rc = reg_key_lookup(h, reg_root(h), path, &key, err);
	if (rc != WS_OK || !key)
		return rc;
	ws_error_clear(&e2);
	rc = reg_get_string(h, key, name, out, found, &e2);
	if (rc == WS_E_UNSUPPORTED) {
		*found = 0;
		return WS_OK;
	}
	if (rc && err)
		*err = e2;
	return rc;
}

static int reg_dword_at(struct reg_hive *h, const char *path, const char *name,
			uint32_t *out, int *found, struct ws_error *err)
{
	struct ws_error e2;
	reg_node key = 0;
	int rc;

	*found = 0;
	rc = reg_key_lookup(h, reg_root(h), path, &key, err);
	if (rc != WS_OK || !key)
		return rc;
	ws_error_clear(&e2);
	rc = reg_get_dword(h, key, name, out, found, &e2);
	if (rc == WS_E_UNSUPPORTED) {
		*found = 0;
		return WS_OK;
	}
	if (rc && err)
		*err = e2;
	return rc;
}

/* Keep a string value ("" when absent). */
static int keep_string(struct vol *vol, struct reg_hive *h, const char *path,
		       const char *name, const char **dst,
		       struct ws_error *err)
{
	struct ws_buf b = WS_BUF_INIT;
	int found, rc = vol_reg_string(h, path, name, &b, &found, err);

	if (rc == WS_OK)
		*dst = vol_keep(vol, b.buf);
	ws_buf_release(&b);
	return rc;
}

/* Locate and open one hive of Windows\System32\config. */
static int open_config_hive(struct vol *vol, const char *name,
			    struct reg_hive **out, int *dirty, int *replayed,
			    const char **why, struct ws_error *err)
{
	struct ws_buf rel = WS_BUF_INIT, host = WS_BUF_INIT;
	struct reg_hive_info info;
	struct ws_error e2;
	struct vol_hive_how how;
	struct vol_entry_hold hold = VOL_ENTRY_HOLD_INIT;
	struct vol_entry e;
	const char *local;
	enum vol_res res;
	int rc;

	ws_buf_addf(&rel, "Windows\\System32\\config\\%s", name);
	rc = vol_resolve(vol, rel.buf, &host, &res, err);
	if (rc != WS_OK)
		goto out;
	if (res != VOL_RES_FOUND ||
	    vol_stat(vol, host.buf, &e, &hold, NULL) != WS_OK ||
	    e.type != VOL_ENT_FILE) {
		rc = ws_error_set(err, WS_E_NOT_WINDOWS, vol->root,
				  "%s is not a Windows installation: %s %s",
				  vol->root, rel.buf,
				  res == VOL_RES_LINK_IN_PATH
					  ? "lies behind a link"
					  : "is missing");
		goto out;
	}
	ws_error_clear(&e2);
	if ((rc = vol_hive_local(vol, host.buf, &local, err)) != WS_OK)
		goto out;
	if (reg_hive_probe(local, &info, &e2) != WS_OK) {
		rc = ws_error_set(err, WS_E_NOT_WINDOWS, host.buf,
				  "%s is not a Windows installation: %s is not "
				  "a registry hive (%s)",
				  vol->root, rel.buf, e2.msg);
		goto out;
	}
	/* a dirty hive is read through its replayed logs when they can be
	 * used, else from its primary file (still the best offline view);
	 * the flags tell callers which */
	rc = vol_hive_open(vol, host.buf, 0, out, &how, err);
	*dirty = how.state != VOL_HIVE_CLEAN;
	*replayed = how.state == VOL_HIVE_REPLAYED;
	*why = vol_keep(vol, how.state == VOL_HIVE_DIRTY ? how.why.msg : "");
out:
	vol_entry_hold_release(&hold);
	ws_buf_release(&rel);
	ws_buf_release(&host);
	return rc;
}

static int read_identity(struct vol *vol, struct ws_error *err)
{
	struct vol_info *in = &vol->info;
	struct ws_buf b = WS_BUF_INIT, path = WS_BUF_INIT;
	uint32_t cur = 0;
	int found, rc;

	/* system drive and Windows folder first: resolution depends on them */
	rc = vol_reg_string(vol->software, CURRENT_VERSION, "SystemRoot", &b,
			    &found, err);
	if (rc != WS_OK)
		goto out;
	if (found && isalpha((unsigned char)b.buf[0]) && b.buf[1] == ':' &&
	    b.buf[2] == '\\' && b.buf[3]) {
		in->system_drive = (char)toupper((unsigned char)b.buf[0]);
		in->system_root = vol_keep(vol, b.buf);
	} else {
		ws_buf_reset(&b);
		ws_buf_addf(&b, "%c:\\Windows", in->system_drive);
		in->system_root = vol_keep(vol, b.buf);
	}

	rc = reg_dword_at(vol->system, "Select", "Current", &cur, &found, err);
	if (rc != WS_OK)
		goto out;
	in->control_set = found && cur >= 1 && cur <= 999 ? cur : 1;
	ws_buf_addf(&path, "ControlSet%03u\\Control\\ComputerName\\ComputerName",
		    in->control_set);
	rc = keep_string(vol, vol->system, path.buf, "ComputerName",
			 &in->computer_name, err);
	if (rc != WS_OK)
		goto out;
	ws_buf_reset(&path);
	ws_buf_addf(&path,
		    "ControlSet%03u\\Control\\Session Manager\\Environment",
		    in->control_set);
	rc = keep_string(vol, vol->system, path.buf, "PROCESSOR_ARCHITECTURE",
			 &in->architecture, err);
	if (rc == WS_OK)
		rc = keep_string(vol, vol->software, CURRENT_VERSION,
				 "ProductName", &in->product_name, err);
	if (rc == WS_OK)
		rc = keep_string(vol, vol->software, CURRENT_VERSION,
				 "EditionID", &in->edition_id, err);
	if (rc == WS_OK)
		rc = keep_string(vol, vol->software, CURRENT_VERSION,
				 "DisplayVersion", &in->display_version, err);
	if (rc == WS_OK)
		rc = keep_string(vol, vol->software, CURRENT_VERSION,
				 "InstallationType", &in->installation_type,
				 err);
	if (rc == WS_OK)
		rc = keep_string(vol, vol->software, CURRENT_VERSION,
				 "CurrentBuild", &in->current_build, err);
	if (rc == WS_OK && !in->current_build[0])
		rc = keep_string(vol, vol->software, CURRENT_VERSION,
				 "CurrentBuildNumber", &in->current_build, err);
	if (rc == WS_OK) {
		char *end;
		unsigned long n = strtoul(in->current_build, &end, 10);

		in->build_number = (end != in->current_build && n < 1000000u)
					   ? (unsigned)n : 0;
	}
out:
	ws_buf_release(&b);
	ws_buf_release(&path);
	return rc;
}

/* Windows' own variables for expanding REG_EXPAND_SZ data found in hives. */
static void set_winenv(struct vol *vol)
{
	struct vol_vars *w = &vol->winenv;
	struct ws_buf b = WS_BUF_INIT;
	int found;

	ws_buf_addf(&b, "%c:", vol->info.system_drive);
	vol_vars_set(w, "SystemDrive", b.buf);
	vol_vars_set(w, "SystemRoot", vol->info.system_root);
	vol_vars_set(w, "windir", vol->info.system_root);
	ws_buf_reset(&b);
	if (vol_reg_string(vol->software,
			   CURRENT_VERSION "\\ProfileList", "ProgramData", &b,
			   &found, NULL) != WS_OK || !found || !b.buf[0]) {
		ws_buf_reset(&b);
		ws_buf_addf(&b, "%c:\\ProgramData", vol->info.system_drive);
	} else if (strchr(b.buf, '%')) {
		struct ws_buf x = WS_BUF_INIT;

		vol_vars_expand(w, b.buf, &x);
		ws_buf_reset(&b);
		ws_buf_adds(&b, x.buf);
		ws_buf_release(&x);
	}
	vol_vars_set(w, "ProgramData", b.buf);
	vol_vars_set(w, "ALLUSERSPROFILE", b.buf);
	ws_buf_release(&b);
}

int vol_open(const char *root_dir, struct vol **out, struct ws_error *err)
{
	return vol_open_in(root_dir, NULL, out, err);
}

int vol_open_in(const char *root_dir, const char *tmp_dir, struct vol **out,
		struct ws_error *err)
{
	struct vol *vol;
	char *real;
	struct stat st;

	if (!root_dir || !*root_dir)
		return ws_error_set(err, WS_E_NOT_WINDOWS, "",
				    "no Windows installation folder given");
	real = realpath(root_dir, NULL);
	if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
		int e = real ? ENOTDIR : errno;

		free(real);
		if (e == EACCES || e == EIO)
			return ws_error_set_errno(err, WS_E_IO, e, root_dir,
						  "cannot open the folder");
		return ws_error_set(err, WS_E_NOT_WINDOWS, root_dir,
				    "%s is not a Windows installation: %s",
				    root_dir,
				    e == ENOENT ? "no such folder"
						: "not a folder");
	}
	vol = ws_xcalloc(1, sizeof(*vol));
	vol->root = real;
	vol->root_len = strlen(real);
	vol->root_dev = st.st_dev;
	vol->ops = &vol_dir_ops;
	if (tmp_dir && *tmp_dir)
		vol->tmp_parent = ws_xstrdup(tmp_dir);
	return vol_open_finish(vol, out, err);
}

int vol_open_finish(struct vol *vol, struct vol **out, struct ws_error *err)
{
	int rc;

	vol->info.root = vol->root;
	vol->info.system_drive = 'C';
	vol->info.system_why = vol->info.software_why = "";
	rc = open_config_hive(vol, "SYSTEM", &vol->system,
			      &vol->info.system_dirty,
			      &vol->info.system_replayed,
			      &vol->info.system_why, err);
	if (rc == WS_OK)
		rc = open_config_hive(vol, "SOFTWARE", &vol->software,
				      &vol->info.software_dirty,
				      &vol->info.software_replayed,
				      &vol->info.software_why, err);
	if (rc == WS_OK)
		rc = read_identity(vol, err);
	if (rc == WS_OK) {
		set_winenv(vol);
		rc = vol_load_profiles(vol, err);
	}
	if (rc != WS_OK) {
		vol_close(vol);
		return rc;
	}
	*out = vol;
	return WS_OK;
}

void vol_close(struct vol *vol)
{
	if (!vol)
		return;
	for (int i = 0; i < 26; i++)
		vol_close(vol->drives[i]);
	if (vol->system)
		reg_hive_close(vol->system);
	if (vol->software)
		reg_hive_close(vol->software);
	for (size_t i = 0; i < vol->nstrs; i++)
		free(vol->strs[i]);
	free(vol->strs);
	free(vol->profiles);
	vol_vars_release(&vol->winenv);
	vol_hive_cleanup(vol);
	vol_nt_close(vol->nt);
	free(vol->root);
	if (vol->on_close)
		vol->on_close(vol->on_close_ctx);
	free(vol);
}

const struct vol_info *vol_get_info(const struct vol *vol)
{
	return &vol->info;
}

size_t vol_fixed_drives(const struct vol *vol, char *out, size_t n)
{
	size_t k = 0;

	for (int i = 0; i < 26 && n; i++)
		if ((vol->drives[i] || 'A' + i == vol->info.system_drive) && k + 1 < n)
			out[k++] = (char)('A' + i);
	if (n)
		out[k] = 0;
	return k;
}

struct reg_hive *vol_system_hive(struct vol *vol)
{
	return vol->system;
}

struct reg_hive *vol_software_hive(struct vol *vol)
{
	return vol->software;
}

void vol_release_hives(struct vol *vol)
{
	reg_hive_close(vol->system);
	reg_hive_close(vol->software);
	vol->system = vol->software = NULL;
}
