/*
 * scan_walk.c - the walks of one scan pass: registry roots (dirty hives
 * through their logs) and file roots, pruned by the rules, each object
 * decided and recorded into the store writer.
 */
#include "scan/scan.h"
#include "scan/scan_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apps/apps.h"
#include "reg/reg.h"
#include "reg/reg_map.h"
#include "util/ws_buf.h"
#include "util/ws_fs.h"
#include "util/ws_utf.h"

/* ---- decisions, with the object at hand for filters ---------------------- */

/* A registry value: filters (CompareStringContent, SameRegContent ...) see
 * its type and data without asking the probe again. */
static int sel_value(const struct scan *s, const char *key,
		     const struct reg_value *v, struct rule_decision *d)
{
	struct rule_object o = { 0 };

	o.has_value = 1;
	o.reg_type = v->type;
	o.data = v->data;
	o.len = v->len;
	return rule_sel_object_ex(s->sel, RULE_REGISTRY, key, v->name, &o, d);
}

/* A walked file (leaf) or folder (node only): FileProperties sees its size,
 * attributes and times. */
static int sel_entry(struct scan *s, const struct vol_entry *e,
		     int as_folder, struct rule_decision *d)
{
	struct rule_object o = { 0 };
	const char *bs = strrchr(e->win_path, '\\');

	o.has_stat = 1;
	o.st.size = e->size;
	o.st.attributes = e->attributes;
	o.st.creation_time = e->creation_time;
	o.st.write_time = e->write_time;
	o.st.access_time = e->access_time;
	if (as_folder)
		return rule_sel_object_ex(s->sel, RULE_FILE, e->win_path, NULL, &o, d);
	if (!bs)
		return rule_sel_object_ex(s->sel, RULE_FILE, "", e->win_path, &o, d);
	ws_buf_reset(&s->sel_node);
	ws_buf_add(&s->sel_node, e->win_path, (size_t)(bs - e->win_path));
	return rule_sel_object_ex(s->sel, RULE_FILE, s->sel_node.len ? s->sel_node.buf : "",
				  bs + 1, &o, d);
}

/* ---- registry ----------------------------------------------------------- */

struct reg_pass {
	struct scan *s;
	const char *prefix;         /* live path of the walk's start key */
	int skip_classes;           /* NTUSER root: Software\Classes is UsrClass */
};

static int reg_visit(void *ctx, struct reg_hive *h, reg_node key,
		     const char *path, unsigned depth,
		     const struct reg_value *vals, size_t n,
		     struct ws_error *err)
{
	struct reg_pass *p = ctx;
	struct scan *s = p->s;
	struct ws_buf full = WS_BUF_INIT;
	struct rule_decision d;
	int rc = WS_OK, any = 0;

	ws_buf_adds(&full, p->prefix);
	if (*path) {
		ws_buf_addch(&full, '\\');
		ws_buf_adds(&full, path);
	}
	if (p->skip_classes && !ws_name_casecmp(path, "Software\\Classes")) {
		ws_buf_release(&full);
		return REG_WALK_SKIP;
	}
	if (depth > 0 && !rule_sel_dir(s->sel, RULE_REGISTRY, full.buf)) {
		ws_buf_release(&full);
		return REG_WALK_SKIP;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		uint32_t ri;

		if (!sel_value(s, full.buf, &vals[i], &d))
			continue;
		any = 1;
		s->objects++;
		if ((rc = scan_rule_index(s, &d, &ri, err)))
			break;
		if (vals[i].len > STORE_VALUE_MAX) {
			struct ws_error e;
			ws_error_set(&e, WS_E_UNSUPPORTED, full.buf,
				     "value '%s' is %zu bytes, over the store's limit",
				     vals[i].name, vals[i].len);
			rc = scan_object_problem(s, err, &e);
			continue;
		}
		s->res->values++;
		if (s->w) {
			struct store_value v = { s->user, full.buf, vals[i].name,
						 vals[i].type, vals[i].data,
						 vals[i].len, ri };
			rc = store_scan_add_value(s->w, &v, err);
		}
	}
	/* A selected key without selected values still travels (empty keys
	 * carry meaning, e.g. a Preload list cleared by the user). */
	if (!rc && !any && n == 0 && rule_sel_reg(s->sel, full.buf, NULL, &d)) {
		uint32_t ri;

		if (!(rc = scan_rule_index(s, &d, &ri, err))) {
			s->res->keys++;
			if (s->w) {
				struct store_key k = { s->user, full.buf, ri };
				rc = store_scan_add_key(s->w, &k, err);
			}
		}
	}
	(void)h;
	(void)key;
	ws_buf_release(&full);
	return rc;
}

/*
 * Open a user hive lazily (dirty ones through their logs).  One that cannot
 * be read is an object problem, reported once per user: the user is then
 * scanned without it (continue_on_error) or the device stops.  `quiet`
 * (probes, precount) reports nothing and just finds no hive.
 */
int scan_walk_user_hive(struct scan *s, enum reg_hive_kind kind, int quiet,
			struct reg_hive **out, struct ws_error *err)
{
	int ntuser = kind == REG_HIVE_NTUSER;
	struct reg_hive **slot = ntuser ? &s->ntuser : &s->usrclass;
	int *failed = ntuser ? &s->ntuser_failed : &s->usrclass_failed;
	const char *path = ntuser ? s->prof->ntuser_path : s->prof->usrclass_path;
	struct ws_error e;
	struct vol_hive_how how;
	int rc, replayed;

	*out = NULL;
	if (*slot) {
		*out = *slot;
		return WS_OK;
	}
	if (!path || *failed)
		return WS_OK; /* no UsrClass.dat yet, or already reported */
	ws_error_clear(&e);
	/* strict: a dirty hive whose logs cannot be replayed is not
	 * captured stale; the volume replays each hive once for every reader */
	rc = vol_hive_open(s->vol, path, VOL_HIVE_STRICT, slot, &how, &e);
	replayed = how.state == VOL_HIVE_REPLAYED;
	if (rc) {
		*slot = NULL;
		if (quiet || s->counting)
			return WS_OK;
		*failed = 1;
		ws_error_prefix(&e, "registry of %s not captured", s->user_label);
		rc = scan_object_problem(s, err, &e);
		if (!rc)
			s->res->users_no_registry++;
		return rc;
	}
	if (replayed && ntuser)
		s->ntuser_replayed = 1;
	if (replayed && !s->counting) {
		s->res->hives_replayed++;
		ws_logf(s->log, WS_LOG_INFO, path,
			"dirty hive read through its transaction logs (private copy)");
	}
	*out = *slot;
	return WS_OK;
}

static int walk_reg_root(struct scan *s, const char *root, struct ws_error *err)
{
	struct ws_buf inner = WS_BUF_INIT, ccs = WS_BUF_INIT;
	enum reg_hive_kind kind;
	struct reg_hive *h = NULL;
	struct ws_error e;
	reg_node node = 0;
	int rc;

	ws_error_clear(&e);
	if (reg_map_path(root, &kind, &inner, &e) != WS_OK) {
		/* Bare HKLM / HKCU roots: walk what lies under them. */
		if (!ws_name_casecmp(root, "HKLM") ||
		    !ws_name_casecmp(root, "HKEY_LOCAL_MACHINE")) {
			rc = walk_reg_root(s, "HKLM\\SOFTWARE", err);
			if (!rc)
				rc = walk_reg_root(s, "HKLM\\SYSTEM", err);
		} else {
			ws_logf(s->log, WS_LOG_INFO, root,
				"registry root not captured offline: %s", e.msg);
			rc = WS_OK;
		}
		goto out;
	}
	switch (kind) {
	case REG_HIVE_NTUSER:
	case REG_HIVE_USRCLASS:
		if (!s->prof) {
			rc = WS_OK; /* HKCU has no meaning in the system pass */
			goto out;
		}
		if ((rc = scan_walk_user_hive(s, kind, 0, &h, err)) || !h)
			goto out;
		break;
	case REG_HIVE_SOFTWARE:
	case REG_HIVE_SYSTEM:
		if (s->prof) {
			rc = WS_OK; /* machine settings are captured once, in the system pass */
			goto out;
		}
		h = kind == REG_HIVE_SOFTWARE ? s->software : s->system;
		if (kind == REG_HIVE_SYSTEM) {
			if ((rc = reg_map_current_control_set(h, inner.buf, &ccs, err)))
				goto out;
			ws_buf_reset(&inner);
			ws_buf_add(&inner, ccs.buf, ccs.len);
		}
		break;
	default:
		ws_logf(s->log, WS_LOG_INFO, root, "hive not captured");
		rc = WS_OK;
		goto out;
	}
	if ((rc = reg_key_lookup(h, reg_root(h), inner.buf, &node, err)))
		goto out;
	if (node) {
		struct reg_pass p = { s, root, kind == REG_HIVE_NTUSER && !inner.len };

		rc = reg_walk(h, node, 0, REG_WALK_VALUES, reg_visit, &p, err);
	}
	/* HKCU itself contains HKCU\Software\Classes, which is UsrClass.dat. */
	if (!rc && kind == REG_HIVE_NTUSER &&
	    (!inner.len || !ws_name_casecmp(inner.buf, "Software")))
		rc = walk_reg_root(s, "HKCU\\Software\\Classes", err);
out:
	ws_buf_release(&inner);
	ws_buf_release(&ccs);
	return rc;
}

/* ---- files -------------------------------------------------------------- */

int scan_walk_under_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

static int skipped_dir(const struct scan *s, const char *host)
{
	for (size_t i = 0; i < s->n_skip; i++)
		if (scan_walk_under_dir(host, s->skip_dirs[i]))
			return 1;
	return 0;
}

void scan_walk_skip_dir_add(struct scan *s, const char *host)
{
	WS_ALLOC_GROW(s->skip_dirs, s->n_skip + 1, s->a_skip);
	s->skip_dirs[s->n_skip++] = ws_xstrdup(host);
}

void scan_walk_skip_dirs_clear(struct scan *s)
{
	for (size_t i = 0; i < s->n_skip; i++)
		free(s->skip_dirs[i]);
	s->n_skip = 0;
	if (s->o->exclude_host_dir)
		scan_walk_skip_dir_add(s, s->o->exclude_host_dir);
}

/* ---- files a user's rules select outside the user's profile ---------- */

/* Is a Windows path inside the profile folder (as NTFS compares names)? */
static int in_profile(const char *path, const char *profile)
{
	size_t pl = strlen(profile), n = strnlen(path, pl);

	/* the walk spells the profile as the volume does: the same bytes,
	 * mostly, and then no name compared character by character */
	if (!(n == pl && !memcmp(path, profile, pl)) && ws_name_ncasecmp(path, n, profile, pl))
		return 0;
	return path[pl] == '\\' || !path[pl];
}

/* The mark of a path decided by a user pass ('R' or 'X'), 0 if none.  The
 * walker gives a file the same name however a pattern reached it, so names
 * compare exactly. */
static char outside_mark(struct scan *s, const char *path)
{
	uint32_t *v = ws_strset_get(&s->outside, path);

	return v ? (char)*v : 0;
}

static void outside_set(struct scan *s, const char *path, char mark)
{
	*ws_strset_at(&s->outside, path, NULL) = (unsigned char)mark;
}

void scan_walk_outside_free(struct scan *s)
{
	ws_strset_release(&s->outside);
	for (size_t i = 0; i < s->n_outside_dirs; i++)
		free(s->outside_dirs[i]);
	free(s->outside_dirs);
	s->outside_dirs = NULL;
	s->n_outside_dirs = s->a_outside_dirs = 0;
}

void scan_walk_skip_outside_dirs(struct scan *s)
{
	for (size_t i = 0; i < s->n_outside_dirs; i++)
		scan_walk_skip_dir_add(s, s->outside_dirs[i]);
}

/* Is this walked object one a user pass decides outside the profile?  The
 * precount decides as the capture does (its marks are dropped before the
 * capture), so that its totals are the capture's. */
static int user_outside(const struct scan *s, const char *win_path)
{
	return s->prof && !in_profile(win_path, s->prof->win_path);
}

/* A user pass's rules leave out a file or subtree outside the profile (a
 * cache of a Firefox profile that profiles.ini keeps on C:): the system
 * pass must not take it by other rules (the documents finder). */
static void outside_left_out(struct scan *s, const struct vol_entry *e, int dir)
{
	if (!user_outside(s, e->win_path))
		return;
	if (dir) {
		if (rule_sel_dir_excluded(s->sel, RULE_FILE, e->win_path)) {
			WS_ALLOC_GROW(s->outside_dirs, s->n_outside_dirs + 1, s->a_outside_dirs);
			s->outside_dirs[s->n_outside_dirs++] = ws_xstrdup(e->host_path);
		}
	} else if (outside_mark(s, e->win_path) != 'R') {
		outside_set(s, e->win_path, 'X');
	}
}

/*
 * Who a selected object belongs to.  A user pass walks only that user's
 * profile and what lies outside every profile (other profiles are skipped
 * dirs); what a user's rules select outside the profile (a Firefox profile
 * that profiles.ini keeps in C:\FirefoxProfiles or on D:, an admin's
 * user-context rule naming D:\Projects) is data outside profiles: recorded
 * once for the device as the system's, so that apply places it where it
 * was (a user's file outside the profile could not be placed).  -1: not to
 * be recorded (an earlier user pass did, or, in the system pass, a user
 * pass's rules decided it).
 */
static int record_owner(struct scan *s, const char *win_path, uint32_t *owner)
{
	*owner = s->user;
	if (s->prof) {
		if (in_profile(win_path, s->prof->win_path))
			return 0;
		*owner = STORE_SYSTEM;
		if (outside_mark(s, win_path) == 'R')
			return -1;
		outside_set(s, win_path, 'R');
		return 0;
	}
	return outside_mark(s, win_path) ? -1 : 0;
}

static long long vol_reader(void *ctx, void *buf, size_t n, struct ws_error *err)
{
	return vol_file_read(ctx, buf, n, err);
}

static int add_file_record(struct scan *s, const struct vol_entry *e,
			   uint32_t flags, const struct rule_decision *d,
			   struct ws_error *err)
{
	struct store_file f = { 0 };
	struct ws_error fe;
	struct vol_file *vf = NULL;
	uint32_t ri, owner;
	int rc, fd = -1;

	if (record_owner(s, e->win_path, &owner) < 0)
		return WS_OK;
	if ((rc = scan_rule_index(s, d, &ri, err)))
		return rc;
	f.user = owner;
	f.path = e->win_path;
	f.size = e->size;
	f.attributes = e->attributes;
	f.created_ft = e->creation_time;
	f.written_ft = e->write_time;
	f.accessed_ft = e->access_time;
	f.flags = flags;
	f.rule = ri;
	/* content is read through the volume (a folder or an NTFS image);
	 * tests may open it themselves to inject failures */
	if (s->w && !(flags & (STORE_FILE_DIR | STORE_FILE_NOT_CAPTURED))) {
		int taken;

		/* unchanged since the last scan: recorded without opening it */
		if ((rc = store_scan_add_file_unchanged(s->w, &f, &taken, err)))
			return rc;
		if (taken)
			goto recorded;
		if (s->o->open_file) {
			fd = s->o->open_file(s->o->open_file_ctx, e->host_path);
			if (fd < 0) {
				ws_error_set_errno(&fe, WS_E_IO, errno, e->win_path,
						   "cannot open file");
				return scan_object_problem(s, err, &fe);
			}
		} else if (vol_file_open(s->vol, e->host_path, &vf, &fe) != WS_OK) {
			ws_error_set_errno(&fe, WS_E_IO, fe.sys_errno, e->win_path,
					   "cannot open file");
			return scan_object_problem(s, err, &fe);
		}
	}
	if (s->w) {
		ws_error_clear(&fe);
		if (vf)
			rc = store_scan_add_file_read(s->w, &f, vol_reader, vf, &fe);
		else
			rc = store_scan_add_file(s->w, &f, fd, &fe);
		if (fd >= 0)
			close(fd);
		vol_file_close(vf);
		/* Reading the source file failed (the store names it): a problem
		 * with that file.  Anything else (the store could not write)
		 * stops the device: the scan could not be committed anyway. */
		if (rc == WS_E_IO && !strcmp(fe.where, e->win_path))
			return scan_object_problem(s, err, &fe);
		if (rc) {
			if (err)
				*err = fe;
			return rc;
		}
	}
recorded:
	if (s->o->on_file && !(flags & STORE_FILE_DIR)) {
		struct scan_file_event ev = { s->res->device, e->win_path, e->size,
					      owner,
					      !!(flags & STORE_FILE_NOT_CAPTURED) };
		s->o->on_file(s->o->on_file_ctx, &ev);
	}
	if (flags & STORE_FILE_DIR) {
		s->res->dirs++;
	} else if (flags & STORE_FILE_NOT_CAPTURED) {
		s->res->cloud++;
	} else {
		s->res->files++;
		s->res->bytes += e->size;
		s->cur_item = e->win_path;
		scan_progress(s, "scan");
		s->cur_item = NULL;
	}
	return WS_OK;
}

/* A name that is not UTF-8 cannot exist on NTFS: it comes from a mount with
 * the wrong character set.  Its bytes are read as Latin-1 (the usual cause)
 * so the file is kept under a name Windows can hold. */
static void latin1_fix(const char *in, struct ws_buf *out)
{
	size_t len = strlen(in);

	ws_buf_reset(out);
	for (size_t i = 0; i < len;) {
		size_t j = i + 1;

		while (j < len && ((unsigned char)in[j] & 0xC0) == 0x80)
			j++;
		if (ws_utf8_valid(in + i, j - i)) {
			ws_buf_add(out, in + i, j - i);
			i = j;
			continue;
		}
		unsigned c = (unsigned char)in[i++];
		if (c < 0x80) {
			ws_buf_addch(out, (int)c);
		} else {
			ws_buf_addch(out, (int)(0xC0 | (c >> 6)));
			ws_buf_addch(out, (int)(0x80 | (c & 0x3F)));
		}
	}
}

static int file_visit_entry(const struct vol_entry *e, struct scan *s,
			    struct ws_error *err)
{
	struct rule_decision d;
	int rc;

	if ((++s->objects & 1023) == 0)
		scan_progress(s, "scan");
	if (s->o->cancel && *s->o->cancel) {
		/* a safe point: every object recorded so far is whole */
		ws_error_set(err, WS_E_CANCELED, e->win_path, "stopped on request");
		return -1;
	}
	switch (e->type) {
	case VOL_ENT_DIR:
		if (e->depth > 0 && skipped_dir(s, e->host_path))
			return VOL_WALK_SKIP;
		if (e->loop || e->other_device)
			return VOL_WALK_SKIP;
		if (e->depth > 0 &&
		    !rule_sel_dir(s->sel, RULE_FILE, e->win_path)) {
			outside_left_out(s, e, 1);
			return VOL_WALK_SKIP;
		}
		if (!s->counting && e->depth > 0 &&
		    sel_entry(s, e, 1, &d)) {
			rc = add_file_record(s, e, STORE_FILE_DIR, &d, err);
			if (rc)
				return -1;
		}
		return VOL_WALK_CONTINUE;
	case VOL_ENT_FILE:
		if (!sel_entry(s, e, 0, &d)) {
			if (d.kind == RULE_EXCLUDE || d.kind == RULE_UNCOND_EXCLUDE)
				outside_left_out(s, e, 0);
			return VOL_WALK_CONTINUE;
		}
		if (s->counting) {
			uint32_t owner;

			if (record_owner(s, e->win_path, &owner) < 0)
				return VOL_WALK_CONTINUE;
			s->total_files++;
			s->total_bytes += e->size;
			return VOL_WALK_CONTINUE;
		}
		rc = add_file_record(s, e,
				     (e->attributes & VOL_ATTR_SPARSE) ?
					     STORE_FILE_SPARSE : 0, &d, err);
		return rc ? -1 : VOL_WALK_CONTINUE;
	case VOL_ENT_CLOUD:
		if (s->counting || !sel_entry(s, e, 0, &d))
			return VOL_WALK_CONTINUE;
		/* Files-On-Demand: the data is in the cloud, recorded as such. */
		rc = add_file_record(s, e, STORE_FILE_NOT_CAPTURED |
					   STORE_FILE_REPARSE | STORE_FILE_OFFLINE,
				     &d, err);
		return rc ? -1 : VOL_WALK_CONTINUE;
	case VOL_ENT_LINK:
		/* Junctions and symlinks are never followed nor captured: what
		 * they point to is captured where it really lives. */
		if (!s->counting)
			ws_logf(s->log, WS_LOG_DEBUG, e->win_path,
				"link not followed (target %s)",
				e->link_target ? e->link_target : "?");
		return VOL_WALK_CONTINUE;
	case VOL_ENT_OTHER:
		if (!s->counting && rule_sel_file(s->sel, e->win_path, NULL))
			ws_logf(s->log, WS_LOG_WARN, e->win_path,
				"not a regular file (FIFO, socket or device): not captured");
		return VOL_WALK_CONTINUE;
	case VOL_ENT_ERROR: {
		struct ws_error fe;

		if (s->counting)
			return VOL_WALK_CONTINUE;
		if (!rule_sel_file(s->sel, e->win_path, NULL) &&
		    !rule_sel_dir(s->sel, RULE_FILE, e->win_path))
			return VOL_WALK_CONTINUE;
		ws_error_set(&fe, e->err_code ? e->err_code : WS_E_IO,
			     e->win_path, "%s", e->err_msg ? e->err_msg : "unreadable");
		rc = scan_object_problem(s, err, &fe);
		return rc ? -1 : VOL_WALK_CONTINUE;
	}
	default:
		return VOL_WALK_CONTINUE;
	}
}

static int file_visit(const struct vol_entry *e, void *ctx, struct ws_error *err)
{
	struct scan *s = ctx;
	struct vol_entry fixed;
	int rc;

	if (ws_utf8_valid(e->win_path, strlen(e->win_path)))
		return file_visit_entry(e, s, err);
	fixed = *e;
	latin1_fix(e->win_path, &s->tmp_path);
	fixed.win_path = s->tmp_path.buf;
	if (!e->name_valid && !s->counting)
		ws_logf(s->log, WS_LOG_WARN, s->tmp_path.buf,
			"name is not valid UTF-8 (mounted without a UTF-8 character "
			"set?): its bytes were read as Latin-1");
	rc = file_visit_entry(&fixed, s, err);
	return rc;
}

static int walk_file_root(struct scan *s, const char *root, struct ws_error *err)
{
	struct ws_buf host = WS_BUF_INIT;
	enum vol_res res;
	int rc;

	rc = vol_resolve(s->vol, root, &host, &res, err);
	if (rc)
		goto out;
	if (res != VOL_RES_FOUND) {
		if (!s->counting)
			ws_logf(s->log, WS_LOG_DEBUG, root, "%s",
				res == VOL_RES_OTHER_DRIVE ? "not on the scanned volume" :
				res == VOL_RES_LINK_IN_PATH ? "behind a link: not followed" :
							       "does not exist");
		goto out;
	}
	if (skipped_dir(s, host.buf))
		goto out;
	rc = vol_walk(s->vol, host.buf, file_visit, s, err);
out:
	ws_buf_release(&host);
	return rc;
}

/* ---- passes ------------------------------------------------------------- */

static void note_skipped_components(struct scan *s)
{
	size_t n = rule_set_component_count(s->o->rules);

	for (size_t i = 0; i < n; i++) {
		struct rule_component_info ci;

		rule_sel_component(s->sel, i, &ci);
		if (ci.state == RULE_COMP_UNSUPPORTED || ci.state == RULE_COMP_ERROR) {
			char where[1200];

			snprintf(where, sizeof(where), "%s:%ld", ci.file, ci.line);
			ws_logf(s->log, WS_LOG_WARN, where,
				"component '%s' skipped for %s: %s", ci.name,
				s->user_label, ci.reason);
			s->res->components_skipped++;
		}
	}
}

/* A root of "" means "everything of that type" (a pattern starting with *). */
static int walk_roots(struct scan *s, struct ws_error *err)
{
	int rc = WS_OK;

	for (size_t i = 0; !rc && i < rule_sel_root_count(s->sel, RULE_REGISTRY); i++) {
		const char *root = rule_sel_root(s->sel, RULE_REGISTRY, i);

		if (s->counting)
			break;
		if (!*root)
			root = s->prof ? "HKCU" : "HKLM";
		rc = walk_reg_root(s, root, err);
	}
	for (size_t i = 0; !rc && i < rule_sel_root_count(s->sel, RULE_FILE); i++) {
		const char *root = rule_sel_root(s->sel, RULE_FILE, i);
		char drive[4] = { vol_get_info(s->vol)->system_drive, ':', '\\', '\0' };

		rc = walk_file_root(s, *root ? root : drive, err);
	}
	return rc;
}

int scan_walk_run_pass(struct scan *s, const struct rule_env *env, int context,
		       const struct rule_env *const *users, size_t nusers,
		       long current, struct ws_error *err)
{
	struct rule_sel_opts so = { 0 };
	struct rule_vol_opts vo = { s->prof, NULL, NULL };
	struct rule_vprobe *vp;
	int rc;

	/* Conditions see the hives the capture reads (the volume's, dirty
	 * ones through their replayed logs); lend the user's, open already. */
	if (s->prof) {
		scan_walk_user_hive(s, REG_HIVE_NTUSER, 1, &vo.ntuser, NULL);
		scan_walk_user_hive(s, REG_HIVE_USRCLASS, 1, &vo.usrclass, NULL);
	}
	so.context = context;
	so.env = env;
	so.log = s->counting ? NULL : s->log; /* the capture pass says it */
	so.users = users;
	so.nusers = nusers;
	so.current_user = current;
	rc = rule_sel_new_vol(s->o->rules, s->vol, &vo, &so, &vp, &s->sel, err);
	scan_rule_memo_clear(s); /* a new selection: its strings are new */
	if (!rc) {
		if (!s->counting) {
			note_skipped_components(s);
			scan_progress(s, "scan");
		}
		rc = walk_roots(s, err);
		rule_sel_free(s->sel);
		s->sel = NULL;
		scan_rule_memo_clear(s);
	}
	rule_vprobe_free(vp);
	return rc;
}
