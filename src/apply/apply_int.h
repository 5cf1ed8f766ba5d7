/*
 * apply_int.h - what the files of src/apply/ share: the undo journal, the
 * identity mapping, the first-sign-in staging, and the state of one apply.
 */
#ifndef APPLY_INT_H
#define APPLY_INT_H

#include "apply/apply.h"
#include "reg/reg.h"
#include "reg/reg_export.h"
#include "volume/volume.h"

/* ---- journal (apply_journal.c) ------------------------------------------- */

struct aj;

/*
 * Create ProgramData\winstate\journal\<id>\ under the target root (host path
 * `root`, resolved through `vol`), recording which of the winstate folders
 * it made.  `hook` is called after each durable entry.
 */
int aj_begin(struct vol *vol, void (*hook)(void *, unsigned long), void *hook_ctx,
	     struct aj **out, struct ws_error *err);
/* Close the log; the journal stays on the target for apply_undo. */
void aj_close(struct aj *j);
const char *aj_dir(const struct aj *j);

/* A temporary path inside the journal (same file system as the target). */
void aj_temp(struct aj *j, const char *tag, struct ws_buf *out);

/* Before replacing the existing regular file `host`: save a copy (once per
 * apply; not for files this apply created). */
int aj_save(struct aj *j, const char *host, struct ws_error *err);

/* Before creating the file `host` (which does not exist). */
int aj_will_create(struct aj *j, const char *host, struct ws_error *err);

/* mkdir -p `host`, recording each folder before it is made. */
int aj_mkdirs(struct aj *j, const char *host, struct ws_error *err);

/* Place the finished temporary file `tmp` at `dest`: new (link, recorded
 * before) or replacing (saved before, rename). */
int aj_place(struct aj *j, const char *tmp, const char *dest, int replace,
	     struct ws_error *err);

/* ---- identities (apply_map.c) -------------------------------------------- */

/* One OLD=NEW mapping from --map-user or a CSV line. */
struct amap {
	char *old;               /* SID, DOMAIN\\user or user */
	char *new_account;       /* DOMAIN\\user, user or UPN; NULL when only a SID */
	char *new_sid;           /* SID (given or derived); NULL when unknown */
	int to_default;          /* NEW is "Default" */
};

struct amaps {
	struct amap *v;
	size_t n, alloc;
	char **dom_old, **dom_new; /* --map-domain */
	size_t ndom;
};

/* Parse --map-user / --map-domain values and the CSV file. */
int amap_load(const struct apply_opts *o, struct amaps *m, struct ws_error *err);
void amap_release(struct amaps *m);
/* The --map-file CSV from memory (`path` names it in errors), appended to
 * `m`; on error `m` keeps the lines before (amap_release frees it). */
int amap_parse_csv(const char *path, const char *data, size_t len, struct amaps *m,
		   struct ws_error *err);
/* Mapping of a source user, or NULL. */
const struct amap *amap_find(const struct amaps *m, const char *sid,
			     const char *account);
/* Account after --map-domain (malloc'd). */
char *amap_domain(const struct amaps *m, const char *account);

/* A rewrite inside string data: `from` -> `to`. */
struct asub {
	const char *from, *to;
	int sid;                 /* SID boundary (next char not a digit) instead of
				    path boundary */
};

/* Rewrite UTF-8 `s`; 1 when something changed (result appended to out). */
int asub_string(const char *s, const struct asub *subs, size_t n, struct ws_buf *out);
/* Rewrite REG_SZ/EXPAND_SZ/MULTI_SZ data; 1 when changed (raw data in out). */
int asub_value(uint32_t type, const unsigned char *data, size_t len,
	       const struct asub *subs, size_t n, struct ws_buf *out);

/* ---- staging (apply_stage.c) --------------------------------------------- */

struct bundle {
	char *key;               /* folder name: SID or sanitised account */
	char *host;              /* host path of the bundle folder */
	char *win;               /* its Windows path */
	char *sid, *account;     /* identity the script checks */
	char guid[40];           /* Active Setup component "{...}" */
	struct reg_export reg;   /* settings */
	uint64_t values, files;
	int created;             /* folder made */
	struct ws_buf apps_json; /* apps.json; empty = no apps */
	const struct apply_app *apps; /* the script's app step (the user report's) */
	size_t napps;
};

void bundle_init(struct bundle *b);
void bundle_release(struct bundle *b);

/* Write settings.reg, restore.ps1 and bundle.ini into the bundle folder
 * (journaled) and register Active Setup in `software` (open for write). */
int bundle_finish(struct bundle *b, struct aj *j, struct reg_hive *software,
		  const struct apply_opts *o, const char *device,
		  const char *scan_id, struct ws_error *err);

/* The generated script (for tests and docs). */
void bundle_script(const struct bundle *b, const struct apply_opts *o,
		   struct ws_buf *out);

/* Write `data` as a new file `host` through the journal (or directly when
 * j is NULL). */
int aj_write_new(struct aj *j, const char *host, const void *data, size_t len,
		 struct ws_error *err);

/* ---- Store apps and Wi-Fi (apply_apps.c) --------------------------------- */

struct apps_ctx;

/*
 * Read what the app step needs of the target: its AppxAllUserStore sets
 * (SOFTWARE through `vol`), its architecture, and the index of `app_cache`
 * (NULL = none).  Errors: WS_E_USAGE when app_cache cannot be read,
 * WS_E_HIVE from the SOFTWARE hive.  Free with aapps_free (also on error).
 */
int aapps_new(struct vol *vol, const char *app_cache, struct ws_log *log,
	      struct apps_ctx **out, struct ws_error *err);
void aapps_free(struct apps_ctx *x);

/*
 * One user's reinstall list from the catalog's app records of user
 * `u->index`: rep->apps and the skip counts are filled, every package not
 * reinstalled is reported (APPLY_APP_SKIP through o->on_action), and
 * apps.json is appended to `json` when the list is not empty.
 */
void aapps_plan(struct apps_ctx *x, const struct store_app *recs, size_t n,
		const struct store_user *u, const struct apply_opts *o,
		struct ws_log *log, struct apply_user_report *rep, struct ws_buf *json);

/*
 * Copy the offline packages of rep->apps into <bundle_host>/apps/ through
 * the journal (j NULL = dry run: nothing copied).  A package file that
 * cannot be read is a warning: that app falls back to winget / needs Store.
 * Then every app is reported (APPLY_APP_STAGE) and counted.  Errors: those
 * of writing the target.
 */
int aapps_stage(struct apps_ctx *x, struct aj *j, const char *bundle_host,
		const struct apply_opts *o, struct ws_log *log, const char *user,
		struct apply_user_report *rep, struct ws_error *err);

/* Free rep->apps. */
void aapps_report_release(struct apply_user_report *rep);

/*
 * If `f` is a WLAN profile of the scan (ProgramData\Microsoft\Wlansvc\
 * Profiles\Interfaces\...\*.xml), parse it from the store and add it to
 * r->wifi when its key must be typed again.  Problems are warnings.
 */
void awifi_check(struct store_catalog *cat, const struct store_file *f,
		 struct apply_report *r, struct ws_log *log);

#endif
