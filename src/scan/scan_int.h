/*
 * scan_int.h - pieces of the scanner shared between its files: offline
 * account names.
 */
#ifndef SCAN_INT_H
#define SCAN_INT_H

#include "reg/reg.h"
#include "util/ws_buf.h"
#include "util/ws_error.h"
#include "util/ws_log.h"
#include "volume/volume.h"

/* Account names known offline. */
struct scan_names;

/*
 * Read the SAM hive (local accounts and the machine SID) and LogonUI's last
 * signed-in user from `software`.  Never fails: what cannot be read is
 * reported to `log` as a note and left unknown.
 */
struct scan_names *scan_names_load(struct vol *vol, struct reg_hive *software,
				   struct ws_log *log);
void scan_names_free(struct scan_names *n);

/* Domain ("" when unknown) and user name of profile `p`; `computer` is the
 * local domain name. */
void scan_names_resolve(const struct scan_names *n, const struct vol_profile *p,
			const char *computer, struct ws_buf *domain,
			struct ws_buf *user);

#endif
