/*
 * scan.c - one device's capture: profiles and their names, per-context rule
 * selections, registry (dirty hives through their logs) and file walks
 * pruned by the rules, records into a store writer.
 */
#include "scan/scan.h"
#include "scan/scan_int.h"

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
#include "volume/volume.h"

void scan_opts_init(struct scan_opts *o)
{
	memset(o, 0, sizeof(*o));
}

/* ---- rule texts: each deciding rule is stored once per scan ------------- */

struct rule_slot {
	char *text;
	uint32_t index;
};

struct rule_table {
	struct rule_slot *slots;  /* open addressing, power-of-two size */
	size_t size, used;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static void rule_table_release(struct rule_table *t)
{
	for (size_t i = 0; i < t->size; i++)
		free(t->slots[i].text);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* Index for `text`, *is_new set when it was not there yet. */
static uint32_t rule_table_get(struct rule_table *t, const char *text,
			       int *is_new)
{
	size_t mask, i;

	if (t->used * 2 >= t->size) {
		struct rule_table bigger = { NULL, t->size ? t->size * 2 : 64, t->used };

		bigger.slots = ws_xcalloc(bigger.size, sizeof(*bigger.slots));
		for (size_t k = 0; k < t->size; k++) {
			if (!t->slots[k].text)
				continue;
			i = hash_str(t->slots[k].text) & (bigger.size - 1);
			while (bigger.slots[i].text)
				i = (i + 1) & (bigger.size - 1);
			bigger.slots[i] = t->slots[k];
		}
		free(t->slots);
		*t = bigger;
	}
	mask = t->size - 1;
	i = hash_str(text) & mask;
	while (t->slots[i].text) {
		if (!strcmp(t->slots[i].text, text)) {
			*is_new = 0;
			return t->slots[i].index;
		}
		i = (i + 1) & mask;
	}
	t->slots[i].text = ws_xstrdup(text);
	t->slots[i].index = (uint32_t)t->used++;
	*is_new = 1;
	return t->slots[i].index;
}

/* ---- the scan context --------------------------------------------------- */

struct scan {
	const struct scan_opts *o;
	struct vol *vol;
	struct store_writer *w;
	struct scan_result *res;
	struct rule_table rules;
	struct ws_log *log;
	struct scan_names *names;
	struct reg_hive *software, *system;   /* machine hives as the volume reads them */

	/* current pass */
	uint32_t user;                  /* user index or STORE_SYSTEM */
	const struct vol_profile *prof; /* NULL in the system pass */
	const char *user_label;
	struct rule_sel *sel;
	struct reg_hive *ntuser, *usrclass;
	int ntuser_failed, usrclass_failed; /* tried and reported already */
	int ntuser_replayed;            /* NTUSER.DAT read through its logs */
	int counting;                   /* precount pass: totals only, silent */
	/* host folders the current file pass must not enter */
	char **skip_dirs;
	size_t n_skip, a_skip;

	uint64_t objects;
	uint64_t total_files, total_bytes; /* from the precount, 0 = unknown */
	struct ws_buf tmp_path;
};

static void progress(struct scan *s, const char *phase)
{
	struct ws_progress_event ev = { 0 };

	if (s->counting)
		return;
	ev.phase = phase;
	ev.device = s->res->device;
	ev.user = s->user_label;
	ev.done = s->res->files;
	ev.total = s->total_files;
	ev.bytes_done = s->res->bytes;
	ev.bytes_total = s->total_bytes;
	ev.errors = s->res->errors;
	ws_progress_emit(s->o->progress, &ev);
}

/* Problem with one object: a warning under continue_on_error, else fatal. */
static int object_problem(struct scan *s, struct ws_error *err,
			  const struct ws_error *what)
{
	s->res->errors++;
	if (s->o->continue_on_error) {
		ws_logf(s->log, WS_LOG_WARN, what->where, "skipped: %s", what->msg);
		return WS_OK;
	}
	if (err && err != what)
		*err = *what;
	return what->code ? what->code : WS_E_IO;
}

static int rule_index(struct scan *s, const struct rule_decision *d,
		      uint32_t *out, struct ws_error *err)
{
	struct ws_buf t = WS_BUF_INIT;
	const char *base;
	int is_new, rc = WS_OK;

	if (!d->file) {
		*out = UINT32_MAX;
		return WS_OK;
	}
	base = strrchr(d->file, '/');
	base = base ? base + 1 : d->file;
	ws_buf_addf(&t, "%s:%ld component '%s' %s %s", base, d->line,
		    d->component ? d->component : "", rule_kind_name(d->kind),
		    d->pattern ? d->pattern : "");
	*out = rule_table_get(&s->rules, t.buf, &is_new);
	if (is_new && s->w) {
		struct store_rule r = { *out, t.buf };
		rc = store_scan_add_rule(s->w, &r, err);
	}
	ws_buf_release(&t);
	return rc;
}

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
static int sel_entry(const struct scan *s, const struct vol_entry *e,
		     int as_folder, struct rule_decision *d)
{
	struct rule_object o = { 0 };
	const char *bs = strrchr(e->win_path, '\\');
	char *node;
	int r;

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
	node = ws_xstrndup(e->win_path, (size_t)(bs - e->win_path));
	r = rule_sel_object_ex(s->sel, RULE_FILE, node, bs + 1, &o, d);
	free(node);
	return r;
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
		if ((rc = rule_index(s, &d, &ri, err)))
			break;
		if (vals[i].len > STORE_VALUE_MAX) {
			struct ws_error e;
			ws_error_set(&e, WS_E_UNSUPPORTED, full.buf,
				     "value '%s' is %zu bytes, over the store's limit",
				     vals[i].name, vals[i].len);
			rc = object_problem(s, err, &e);
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

		if (!(rc = rule_index(s, &d, &ri, err))) {
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
static int user_hive(struct scan *s, enum reg_hive_kind kind, int quiet,
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
		rc = object_problem(s, err, &e);
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
		if ((rc = user_hive(s, kind, 0, &h, err)) || !h)
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

static int under_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

static int skipped_dir(const struct scan *s, const char *host)
{
	for (size_t i = 0; i < s->n_skip; i++)
		if (under_dir(host, s->skip_dirs[i]))
			return 1;
	return 0;
}

static void skip_dir_add(struct scan *s, const char *host)
{
	WS_ALLOC_GROW(s->skip_dirs, s->n_skip + 1, s->a_skip);
	s->skip_dirs[s->n_skip++] = ws_xstrdup(host);
}

static void skip_dirs_clear(struct scan *s)
{
	for (size_t i = 0; i < s->n_skip; i++)
		free(s->skip_dirs[i]);
	s->n_skip = 0;
	if (s->o->exclude_host_dir)
		skip_dir_add(s, s->o->exclude_host_dir);
}

static int open_captured(struct scan *s, const char *host_path)
{
	struct stat st;
	int fd;

	if (s->o->open_file)
		return s->o->open_file(s->o->open_file_ctx, host_path);
	fd = open(host_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* what was a file when walked may have been replaced meanwhile */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

static int add_file_record(struct scan *s, const struct vol_entry *e,
			   uint32_t flags, const struct rule_decision *d,
			   struct ws_error *err)
{
	struct store_file f = { 0 };
	struct ws_error fe;
	uint32_t ri;
	int rc, fd = -1;

	if ((rc = rule_index(s, d, &ri, err)))
		return rc;
	f.user = s->user;
	f.path = e->win_path;
	f.size = e->size;
	f.attributes = e->attributes;
	f.created_ft = e->creation_time;
	f.written_ft = e->write_time;
	f.accessed_ft = e->access_time;
	f.flags = flags;
	f.rule = ri;
	if (s->w && !(flags & (STORE_FILE_DIR | STORE_FILE_NOT_CAPTURED))) {
		fd = open_captured(s, e->host_path);
		if (fd < 0) {
			ws_error_set_errno(&fe, WS_E_IO, errno, e->win_path,
					   "cannot open file");
			return object_problem(s, err, &fe);
		}
	}
	if (s->w) {
		ws_error_clear(&fe);
		rc = store_scan_add_file(s->w, &f, fd, &fe);
		if (fd >= 0)
			close(fd);
		/* Reading the source file failed (the store names it): a problem
		 * with that file.  Anything else (the store could not write)
		 * stops the device: the scan could not be committed anyway. */
		if (rc == WS_E_IO && !strcmp(fe.where, e->win_path))
			return object_problem(s, err, &fe);
		if (rc) {
			if (err)
				*err = fe;
			return rc;
		}
	}
	if (s->o->on_file && !(flags & STORE_FILE_DIR)) {
		struct scan_file_event ev = { s->res->device, e->win_path, e->size,
					      s->user,
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
		progress(s, "scan");
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
		progress(s, "scan");
	switch (e->type) {
	case VOL_ENT_DIR:
		if (e->depth > 0 && skipped_dir(s, e->host_path))
			return VOL_WALK_SKIP;
		if (e->loop || e->other_device)
			return VOL_WALK_SKIP;
		if (e->depth > 0 &&
		    !rule_sel_dir(s->sel, RULE_FILE, e->win_path))
			return VOL_WALK_SKIP;
		if (!s->counting && e->depth > 0 &&
		    sel_entry(s, e, 1, &d)) {
			rc = add_file_record(s, e, STORE_FILE_DIR, &d, err);
			if (rc)
				return -1;
		}
		return VOL_WALK_CONTINUE;
	case VOL_ENT_FILE:
		if (!sel_entry(s, e, 0, &d))
			return VOL_WALK_CONTINUE;
		if (s->counting) {
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
		rc = object_problem(s, err, &fe);
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

static int run_pass(struct scan *s, const struct rule_env *env, int context,
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
		user_hive(s, REG_HIVE_NTUSER, 1, &vo.ntuser, NULL);
		user_hive(s, REG_HIVE_USRCLASS, 1, &vo.usrclass, NULL);
	}
	so.context = context;
	so.env = env;
	so.log = s->counting ? NULL : s->log; /* the capture pass says it */
	so.users = users;
	so.nusers = nusers;
	so.current_user = current;
	rc = rule_sel_new_vol(s->o->rules, s->vol, &vo, &so, &vp, &s->sel, err);
	if (!rc) {
		if (!s->counting) {
			note_skipped_components(s);
			progress(s, "scan");
		}
		rc = walk_roots(s, err);
		rule_sel_free(s->sel);
		s->sel = NULL;
	}
	rule_vprobe_free(vp);
	return rc;
}

/* ---- Store apps ---------------------------------------------------------- */

/* Folder names under the user's %LOCALAPPDATA%\Packages (package families
 * with data), sorted for deterministic records. */
static void package_folders(struct scan *s, const struct rule_env *env,
			    char ***out, size_t *n)
{
	const char *local = rule_env_get(env, "LOCALAPPDATA");
	struct ws_buf win = WS_BUF_INIT, host = WS_BUF_INIT;
	enum vol_res res;
	size_t alloc = 0;
	DIR *d;
	struct dirent *de;

	*out = NULL;
	*n = 0;
	if (!local)
		return;
	ws_buf_addf(&win, "%s\\Packages", local);
	if (vol_resolve(s->vol, win.buf, &host, &res, NULL) || res != VOL_RES_FOUND ||
	    !(d = opendir(host.buf)))
		goto out;
	while ((de = readdir(d))) {
		struct ws_buf full = WS_BUF_INIT;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		ws_buf_addf(&full, "%s/%s", host.buf, de->d_name);
		if (!lstat(full.buf, &st) && S_ISDIR(st.st_mode)) {
			WS_ALLOC_GROW(*out, *n + 1, alloc);
			(*out)[(*n)++] = ws_xstrdup(de->d_name);
		}
		ws_buf_release(&full);
	}
	closedir(d);
out:
	ws_buf_release(&win);
	ws_buf_release(&host);
}

/*
 * The user's Store apps (UsrClass.dat repository, replayed when dirty;
 * AppxAllUserStore; data folders) as catalog app records, for apply's
 * reinstall list.  An inventory that cannot be read is a warning: the
 * user's settings and files still travel.
 */
static int record_apps(struct scan *s, const struct rule_env *env,
		       struct ws_error *err)
{
	struct apps_list list = APPS_LIST_INIT;
	struct reg_hive *uc = NULL;
	struct ws_buf cls = WS_BUF_INIT;
	struct ws_error e;
	char **folders;
	size_t nf;
	int rc = WS_OK;

	user_hive(s, REG_HIVE_USRCLASS, 1, &uc, NULL);
	package_folders(s, env, &folders, &nf);
	ws_error_clear(&e);
	if (apps_inventory(uc, s->software, s->prof->sid,
			   (const char *const *)folders, nf, &list, s->log, &e))
		ws_logf(s->log, WS_LOG_WARN, e.where,
			"Store apps of %s not listed: %s", s->user_label, e.msg);
	for (size_t i = 0; !rc && i < list.n; i++) {
		const struct apps_package *p = &list.v[i];
		struct store_app a = { 0 };

		ws_buf_reset(&cls);
		apps_class_encode(p, &cls);
		a.user = s->user;
		a.family = p->family_name;
		a.full_name = p->full_name ? p->full_name : "";
		a.version = p->id.version;
		a.arch = p->id.arch;
		a.publisher = p->id.publisher_id;
		a.app_class = cls.buf;
		s->res->apps++;
		if (s->w)
			rc = store_scan_add_app(s->w, &a, err);
	}
	for (size_t i = 0; i < nf; i++)
		free(folders[i]);
	free(folders);
	ws_buf_release(&cls);
	apps_list_release(&list);
	return rc;
}

/* ---- users -------------------------------------------------------------- */

struct user_pick {
	const struct vol_profile *p;
	char *domain, *name;          /* resolved offline; domain "" = unknown */
};

static int user_recent(const struct scan_opts *o, const struct vol_profile *p)
{
	int64_t now = o->now ? o->now : (int64_t)time(NULL);
	int64_t last;

	if (!p->last_use)
		return 1; /* unknown: not a reason to leave a user behind */
	last = ws_filetime_to_unix_ns(p->last_use) / 1000000000;
	return now - last <= (int64_t)o->users_since_days * 86400;
}

/* USMT order: /ui wins over everything, /uel beats /ue, else /ue. */
static const char *user_skip_reason(const struct scan_opts *o,
				    const struct vol_profile *p,
				    const char *domain, const char *name)
{
	if (scan_users_match(o->users_include, o->n_users_include, domain, name,
			     p->sid))
		return NULL;
	if (o->users_since_days)
		return user_recent(o, p) ? NULL :
					   "not used within --users-since days";
	if (scan_users_match(o->users_exclude, o->n_users_exclude, domain, name,
			     p->sid))
		return "excluded by --users-exclude";
	return NULL;
}

static const char *profile_skip_reason(const struct vol_profile *p)
{
	switch (p->kind) {
	case VOL_PROFILE_SYSTEM: return "system or service profile";
	case VOL_PROFILE_DEFAULT: return "Default profile (template for new users)";
	case VOL_PROFILE_PUBLIC: return "Public folders are captured in system context";
	default: break;
	}
	if (p->stale)
		return p->stale_reason[0] ? p->stale_reason : "stale profile";
	return NULL;
}

/* ---- operator slips ------------------------------------------------------ */

/* What the store knows of the device: its newest scan with users. */
struct scan_prev {
	char users_id[STORE_SCAN_ID_MAX];
	uint64_t users_n;
};

/* Device names are case-insensitive: take the spelling the store already
 * uses for this device, so that its scans stay under one name. */
static int store_prev(struct scan *s, struct store *st, struct scan_prev *prev,
		      struct ws_error *err)
{
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	struct scan_result *res = s->res;
	int rc = store_list_scans(st, res->device, &l, err);

	if (rc)
		return rc;
	if (l.n) {
		const char *stored = l.v[0].info.device;

		if (strcmp(stored, res->device)) {
			ws_logf(s->log, WS_LOG_INFO, res->device,
				"the store names this device '%s' (device names are "
				"case-insensitive): the scan is recorded under that name",
				stored);
			snprintf(res->device, sizeof(res->device), "%s", stored);
		}
		for (size_t i = 0; i < l.n && !prev->users_id[0]; i++) {
			if (!l.v[i].n_users)
				continue;
			snprintf(prev->users_id, sizeof(prev->users_id), "%s",
				 l.v[i].info.scan_id);
			prev->users_n = l.v[i].n_users;
		}
	}
	store_scan_list_release(&l);
	return WS_OK;
}

/* A bounded list of names for a message. */
static void names_add(struct ws_buf *b, const char *name, size_t *n)
{
	if (b->len > 500) {
		if (b->buf[b->len - 1] != '.')
			ws_buf_adds(b, ", ...");
		return;
	}
	ws_buf_addf(b, "%s%s", (*n)++ ? ", " : "", name);
}

/*
 * The selection an operator almost surely did not mean: an include pattern
 * that names no profile of the device (a typo: 'alcie'), or no user at all
 * (every one filtered out, or a device whose earlier scan had users).  Both
 * fail the device before anything is written, unless allow_empty.
 */
static int check_selection(struct scan *s, const char *candidates,
			   size_t n_cand, size_t n_person,
			   const struct ws_buf *unmatched, size_t n_unmatched,
			   size_t nchosen, const struct scan_prev *prev,
			   struct ws_error *err)
{
	const struct scan_opts *o = s->o;
	const char *dev = s->res->device;
	struct ws_buf why = WS_BUF_INIT;
	int rc = WS_OK;

	if (n_unmatched) {
		ws_buf_addf(&why, "--users-include %s match%s no user profile of "
			    "this device; ", unmatched->buf, n_unmatched > 1 ? "" : "es");
		if (n_cand)
			ws_buf_addf(&why, "its profiles: %s", candidates);
		else
			ws_buf_adds(&why, "it has no user profile");
	} else if (!nchosen) {
		ws_buf_adds(&why, "no user selected: ");
		if (n_person)
			ws_buf_addf(&why, "the user filters leave out every profile (%s)",
				    candidates);
		else
			ws_buf_adds(&why, "the device has no user profile");
		if (prev->users_id[0])
			ws_buf_addf(&why, "; its scan %s in the store has %llu user(s)",
				    prev->users_id, (unsigned long long)prev->users_n);
	}
	if (!why.len)
		goto out;
	if (o->allow_empty) {
		ws_logf(s->log, WS_LOG_WARN, dev, "%s (scanned anyway: --allow-empty)",
			why.buf);
		goto out;
	}
	/* the device is named by whoever reports the failure */
	rc = ws_error_set(err, WS_E_EMPTY, NULL, "%s: nothing %s (--allow-empty %s)",
			  why.buf, o->estimate ? "would be captured" : "committed",
			  n_unmatched ? "scans anyway" : "commits an empty scan");
out:
	ws_buf_release(&why);
	return rc;
}

static void close_user_hives(struct scan *s)
{
	reg_hive_close(s->ntuser);
	reg_hive_close(s->usrclass);
	s->ntuser = s->usrclass = NULL;
	s->ntuser_failed = s->usrclass_failed = 0;
	s->ntuser_replayed = 0;
}

/* Skip other profiles' folders during a user pass; all of them in the
 * system pass. */
static void user_skip_dirs(struct scan *s, const struct vol_profile *profs,
			   size_t nprof, const struct vol_profile *p)
{
	skip_dirs_clear(s);
	for (size_t k = 0; k < nprof; k++) {
		if (!profs[k].host_path || &profs[k] == p)
			continue;
		if (p) {
			if (profs[k].kind == VOL_PROFILE_USER &&
			    !(p->host_path && under_dir(p->host_path, profs[k].host_path)))
				skip_dir_add(s, profs[k].host_path);
		} else if (profs[k].kind == VOL_PROFILE_USER ||
			   profs[k].kind == VOL_PROFILE_DEFAULT) {
			skip_dir_add(s, profs[k].host_path);
		}
	}
}

/* The machine hives as vol_open read them: a dirty SOFTWARE/SYSTEM through
 * its replayed logs, else its stale primary file (with a warning saying
 * why: it is still the best view of the machine). */
static void machine_hives(struct scan *s)
{
	const struct vol_info *vi = vol_get_info(s->vol);
	const char *names[2] = { "SOFTWARE", "SYSTEM" };
	int dirty[2] = { vi->software_dirty, vi->system_dirty };
	int replayed[2] = { vi->software_replayed, vi->system_replayed };
	const char *why[2] = { vi->software_why, vi->system_why };

	s->software = vol_software_hive(s->vol);
	s->system = vol_system_hive(s->vol);
	for (int i = 0; i < 2; i++) {
		struct ws_buf win = WS_BUF_INIT;

		if (!dirty[i])
			continue;
		ws_buf_addf(&win, "%s\\System32\\config\\%s", vi->system_root, names[i]);
		if (replayed[i]) {
			s->res->hives_replayed++;
			ws_logf(s->log, WS_LOG_INFO, win.buf,
				"dirty hive read through its transaction logs (private copy)");
		} else {
			ws_logf(s->log, WS_LOG_WARN, win.buf,
				"dirty hive read without its newest changes: %s", why[i]);
		}
		ws_buf_release(&win);
	}
}

static void copy_identity(struct scan_result *r, const struct vol_info *vi)
{
	snprintf(r->computer, sizeof(r->computer), "%s", vi->computer_name);
	snprintf(r->os_product, sizeof(r->os_product), "%s", vi->product_name);
	snprintf(r->os_build, sizeof(r->os_build), "%s", vi->current_build);
	snprintf(r->os_edition, sizeof(r->os_edition), "%s", vi->edition_id);
	snprintf(r->os_arch, sizeof(r->os_arch), "%s", vi->architecture);
}

int scan_device(struct store *st, const struct scan_opts *o,
		struct scan_result *res, struct ws_error *err)
{
	struct scan s;
	const struct vol_profile *profs;
	const struct vol_info *vi;
	struct store_scan_info info = { 0 };
	struct rule_env *sysenv = NULL, **envs = NULL;
	struct user_pick *chosen = NULL;
	struct ws_buf dom = WS_BUF_INIT, name = WS_BUF_INIT, acct = WS_BUF_INIT;
	size_t nprof, nchosen = 0;
	unsigned warn0 = o->log ? o->log->warnings : 0;
	struct scan_prev prev;
	struct ws_buf cands = WS_BUF_INIT;  /* the device's user profiles, named */
	size_t n_cand = 0, n_person = 0;
	char *inc_hit = NULL;               /* per users_include pattern: matched */
	struct ws_buf unmatched = WS_BUF_INIT;
	size_t n_unmatched = 0;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	memset(&prev, 0, sizeof(prev));
	s.o = o;
	s.res = res;
	s.log = o->log;
	if (!o->rules || !o->source || (!st && !o->estimate))
		return ws_error_set(err, WS_E_USAGE, NULL,
				    "scan needs a source, rules and a store");
	snprintf(res->device, sizeof(res->device), "%s",
		 o->device && *o->device ? o->device : "");
	if ((rc = vol_open_in(o->source, o->tmp_dir, &s.vol, err)))
		goto out;
	vi = vol_get_info(s.vol);
	copy_identity(res, vi);
	if (!res->device[0])
		snprintf(res->device, sizeof(res->device), "%s", vi->computer_name);
	if (!res->device[0]) {
		rc = ws_error_set(err, WS_E_USAGE, o->source,
				  "the SYSTEM hive holds no computer name: name the device with --device");
		goto out;
	}
	if (o->claim_device && o->claim_device(o->claim_device_ctx, res->device)) {
		rc = ws_error_set(err, WS_E_USAGE, o->source,
				  "device name '%s' is already used by another device "
				  "of this wave: give it its own name", res->device);
		goto out;
	}
	if (st && (rc = store_prev(&s, st, &prev, err)))
		goto out;
	machine_hives(&s);
	s.names = scan_names_load(s.vol, s.software, s.log);

	/* Choose users. */
	profs = vol_profiles(s.vol, &nprof);
	chosen = ws_xcalloc(nprof ? nprof : 1, sizeof(*chosen));
	inc_hit = ws_xcalloc(o->n_users_include + 1, 1);
	for (size_t i = 0; i < nprof; i++) {
		const char *why = profile_skip_reason(&profs[i]);

		if (!why) {
			scan_names_resolve(s.names, &profs[i], vi->computer_name,
					   &dom, &name);
			why = user_skip_reason(o, &profs[i], dom.buf, name.buf);
			n_person++;
			ws_buf_reset(&acct);
			if (dom.len)
				ws_buf_addf(&acct, "%s\\", dom.buf);
			ws_buf_adds(&acct, name.buf);
			names_add(&cands, acct.buf, &n_cand);
			for (size_t k = 0; k < o->n_users_include; k++)
				if (!inc_hit[k] &&
				    scan_users_match(&o->users_include[k], 1, dom.buf,
						     name.buf, profs[i].sid))
					inc_hit[k] = 1;
		}
		if (why) {
			if (profs[i].kind == VOL_PROFILE_USER)
				res->users_skipped++;
			ws_logf(s.log, WS_LOG_INFO, profs[i].win_path,
				"profile %s not scanned: %s",
				profs[i].sid[0] ? profs[i].sid : profs[i].account, why);
			continue;
		}
		chosen[nchosen].p = &profs[i];
		chosen[nchosen].domain = ws_xstrdup(dom.buf);
		chosen[nchosen++].name = ws_xstrdup(name.buf);
	}

	for (size_t k = o->n_users_include_optional; k < o->n_users_include; k++)
		if (!inc_hit[k])
			ws_buf_addf(&unmatched, "%s'%s'", n_unmatched++ ? ", " : "",
				    o->users_include[k]);
	if ((rc = check_selection(&s, cands.buf, n_cand, n_person, &unmatched,
				  n_unmatched, nchosen, &prev, err)))
		goto out;

	/* Per-user environments first: GenerateUserPatterns needs them all. */
	envs = ws_xcalloc(nchosen ? nchosen : 1, sizeof(*envs));
	for (size_t i = 0; i < nchosen; i++)
		if ((rc = rule_env_of(s.vol, chosen[i].p, &envs[i], err)))
			goto out;
	if ((rc = rule_env_of(s.vol, NULL, &sysenv, err)))
		goto out;

	/* Totals for the progress display: the same walks, counting only. */
	if (o->precount && !o->estimate) {
		s.counting = 1;
		for (size_t i = 0; !rc && i <= nchosen; i++) {
			const struct vol_profile *p = i < nchosen ? chosen[i].p : NULL;

			s.prof = p;
			user_skip_dirs(&s, profs, nprof, p);
			rc = run_pass(&s, i < nchosen ? envs[i] : sysenv,
				      p ? RULE_CTX_USER : RULE_CTX_SYSTEM,
				      (const struct rule_env *const *)envs, nchosen,
				      p ? (long)i : -1, err);
			close_user_hives(&s);
		}
		s.counting = 0;
		if (rc)
			goto out;
	}

	if (!o->estimate) {
		info.device = res->device;
		info.computer = vi->computer_name;
		info.os_product = vi->product_name;
		info.os_build = vi->current_build;
		info.os_edition = vi->edition_id;
		info.os_arch = vi->architecture;
		info.tool_version = WS_VERSION;
		info.system_drive = vi->system_drive;
		info.rule_files = o->rule_files;
		info.n_rule_files = o->n_rule_files;
		if ((rc = store_scan_begin(st, &info, &s.w, err)))
			goto out;
		snprintf(res->scan_id, sizeof(res->scan_id), "%s",
			 store_writer_scan_id(s.w));
	}

	for (size_t i = 0; i < nchosen; i++) {
		const struct vol_profile *p = chosen[i].p;
		struct store_user u = { 0 };
		struct reg_hive *h;

		s.user = (uint32_t)i;
		s.prof = p;
		s.user_label = chosen[i].name;
		ws_buf_reset(&acct);
		if (*chosen[i].domain)
			ws_buf_addf(&acct, "%s\\", chosen[i].domain);
		ws_buf_adds(&acct, chosen[i].name);
		/* NTUSER.DAT first: a dirty one is replayed, a bad one reported
		 * before the user is recorded. */
		if ((rc = user_hive(&s, REG_HIVE_NTUSER, 0, &h, err)))
			goto out;
		u.index = s.user;
		u.sid = p->sid[0] ? p->sid : p->account;
		u.account = acct.buf;
		u.profile_path = p->win_path;
		u.last_use_ft = p->last_use;
		if (!strncmp(p->sid, "S-1-12-1-", 9))
			u.flags |= STORE_USER_AZURE;
		else if (*chosen[i].domain &&
			 !ws_name_casecmp(chosen[i].domain, vi->computer_name))
			u.flags |= STORE_USER_LOCAL;
		else if (*chosen[i].domain)
			u.flags |= STORE_USER_DOMAIN;
		if (h && s.ntuser_replayed)
			u.flags |= STORE_USER_LOADED_HIVE_DIRTY;
		if (s.w && (rc = store_scan_add_user(s.w, &u, err)))
			goto out;
		user_skip_dirs(&s, profs, nprof, p);
		rc = run_pass(&s, envs[i], RULE_CTX_USER,
			      (const struct rule_env *const *)envs, nchosen,
			      (long)i, err);
		if (!rc && o->apps)
			rc = record_apps(&s, envs[i], err);
		close_user_hives(&s);
		if (rc)
			goto out;
		res->users++;
	}

	/* System context: machine settings, Public, ProgramData ...; user
	 * profiles were captured in their own passes. */
	s.user = STORE_SYSTEM;
	s.prof = NULL;
	s.user_label = "system";
	user_skip_dirs(&s, profs, nprof, NULL);
	if ((rc = run_pass(&s, sysenv, RULE_CTX_SYSTEM,
			   (const struct rule_env *const *)envs, nchosen, -1, err)))
		goto out;

	if (s.w) {
		struct store_write_stats ws;

		progress(&s, "commit");
		store_writer_stats(s.w, &ws);
		res->bytes_new = ws.bytes_new;
		rc = store_scan_commit(s.w, res->scan_id, err);
		s.w = NULL;
		if (rc)
			goto out;
	}
	progress(&s, "done");
	rc = res->errors ? WS_PARTIAL : WS_OK;
out:
	if (s.w)
		store_scan_abort(s.w);
	close_user_hives(&s);
	if (s.sel)
		rule_sel_free(s.sel);
	for (size_t i = 0; envs && i < nchosen; i++)
		rule_env_free(envs[i]);
	free(envs);
	for (size_t i = 0; chosen && i < nchosen; i++) {
		free(chosen[i].domain);
		free(chosen[i].name);
	}
	free(chosen);
	free(inc_hit);
	ws_buf_release(&cands);
	ws_buf_release(&unmatched);
	rule_env_free(sysenv);
	for (size_t i = 0; i < s.n_skip; i++)
		free(s.skip_dirs[i]);
	free(s.skip_dirs);
	rule_table_release(&s.rules);
	ws_buf_release(&s.tmp_path);
	ws_buf_release(&dom);
	ws_buf_release(&name);
	ws_buf_release(&acct);
	scan_names_free(s.names);
	if (s.log)
		res->warnings = s.log->warnings - warn0;
	vol_close(s.vol);
	return rc;
}
