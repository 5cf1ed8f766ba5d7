/*
 * scan_int.h - pieces of the scanner shared between its files: private
 * recovered copies of dirty hives, offline account names.
 */
#ifndef SCAN_INT_H
#define SCAN_INT_H

#include "reg/reg.h"
#include "util/ws_buf.h"
#include "util/ws_error.h"
#include "util/ws_log.h"
#include "volume/volume.h"

/* A private temporary folder for recovered hive copies, made on first use
 * and removed with everything in it by scan_tmp_release. */
struct scan_tmp {
	const char *parent;      /* NULL = $TMPDIR or /tmp */
	char *dir;
	unsigned n;
};

/*
 * Open the hive at host path `path` read-only.  A dirty hive has its
 * .LOG1/.LOG2 (found case-insensitively beside it) replayed into a new copy
 * in the temporary folder, and the copy is opened; *replayed is set then.
 * The source files are never written.  Errors: WS_E_HIVE (damaged, dirty
 * without usable logs; the message says which), WS_E_UNSUPPORTED (only
 * old-format logs), WS_E_IO.
 */
int scan_hive_open(struct scan_tmp *t, const char *path, struct reg_hive **out,
		   int *replayed, struct ws_error *err);
void scan_tmp_release(struct scan_tmp *t);

/* Account names known offline. */
struct scan_names;

/*
 * Read the SAM hive (local accounts and the machine SID) and LogonUI's last
 * signed-in user from `software`.  Never fails: what cannot be read is
 * reported to `log` as a note and left unknown.
 */
struct scan_names *scan_names_load(struct vol *vol, struct reg_hive *software,
				   struct scan_tmp *tmp, struct ws_log *log);
void scan_names_free(struct scan_names *n);

/* Domain ("" when unknown) and user name of profile `p`; `computer` is the
 * local domain name. */
void scan_names_resolve(const struct scan_names *n, const struct vol_profile *p,
			const char *computer, struct ws_buf *domain,
			struct ws_buf *user);

#endif
