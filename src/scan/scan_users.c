/*
 * scan_users.c - which profiles a scan takes and what their accounts are
 * called, offline: SAM for local accounts, LogonUI for the last signed-in
 * user, the profile folder otherwise.
 */
#include "scan/scan.h"
#include "scan/scan_private.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/ws_str.h"
#include "util/ws_utf.h"

struct rid_name {
	uint32_t rid;
	char *name;
};

struct scan_names {
	char machine_sid[96];        /* "S-1-5-21-a-b-c", "" when unknown */
	struct rid_name *local;
	size_t n, alloc;
	char *last_sid;              /* LogonUI LastLoggedOnUserSID */
	char *last_sam;              /* LogonUI LastLoggedOnSAMUser "DOM\\user" */
};

#define SAM_NAMES "SAM\\Domains\\Account\\Users\\Names"

/* The machine SID is the last 12 bytes of SAM\Domains\Account [V]: the
 * three sub-authorities after S-1-5-21. */
static void read_machine_sid(struct scan_names *n, struct reg_hive *h)
{
	struct reg_value v;
	reg_node acct = 0;
	int found = 0;

	if (reg_key_lookup(h, reg_root(h), "SAM\\Domains\\Account", &acct, NULL) ||
	    !acct || reg_value_get(h, acct, "V", &v, &found, NULL))
		return;
	if (found && v.len >= 24) {
		const unsigned char *s = v.data + v.len - 24;

		/* revision 1, 4 sub-authorities, authority 5, first sub 21 */
		if (s[0] == 1 && s[1] == 4 && s[7] == 5 &&
		    s[8] == 21 && !s[9] && !s[10] && !s[11]) {
			uint32_t a[3];

			for (int i = 0; i < 3; i++)
				a[i] = ws_get_u32le(s + 12 + 4 * i);
			snprintf(n->machine_sid, sizeof(n->machine_sid),
				 "S-1-5-21-%u-%u-%u", a[0], a[1], a[2]);
		}
	}
	reg_value_release(&v);
}

static void read_sam(struct scan_names *n, struct vol *vol, struct ws_log *log)
{
	struct ws_buf host = WS_BUF_INIT, win = WS_BUF_INIT;
	struct reg_hive *h = NULL;
	struct ws_error e;
	enum vol_res res;
	reg_node names = 0;
	reg_node *kids = NULL;
	size_t nk = 0;

	ws_error_clear(&e);
	ws_buf_addf(&win, "%s\\System32\\config\\SAM", vol_get_info(vol)->system_root);
	if (vol_resolve(vol, win.buf, &host, &res, NULL) || res != VOL_RES_FOUND)
		goto out; /* no SAM: names from profile folders only */
	if (vol_hive_open(vol, host.buf, VOL_HIVE_STRICT, &h, NULL, &e)) {
		ws_logf(log, WS_LOG_INFO, win.buf,
			"SAM not read, local account names unknown: %s", e.msg);
		goto out;
	}
	read_machine_sid(n, h);
	if (reg_key_lookup(h, reg_root(h), SAM_NAMES, &names, NULL) || !names ||
	    reg_key_children(h, names, &kids, &nk, NULL))
		goto out;
	for (size_t i = 0; i < nk; i++) {
		struct ws_buf name = WS_BUF_INIT;
		struct reg_value v;
		int found = 0;

		/* The RID is the *type* of the key's default value. */
		if (!reg_key_name(h, kids[i], &name, NULL) &&
		    !reg_value_get(h, kids[i], "", &v, &found, NULL)) {
			if (found) {
				WS_ALLOC_GROW(n->local, n->n + 1, n->alloc);
				n->local[n->n].rid = v.type;
				n->local[n->n++].name = ws_buf_detach(&name, NULL);
			}
			reg_value_release(&v);
		}
		ws_buf_release(&name);
	}
out:
	free(kids);
	reg_hive_close(h);
	ws_buf_release(&host);
	ws_buf_release(&win);
}

static char *get_sz(struct reg_hive *h, reg_node k, const char *name)
{
	struct ws_buf b = WS_BUF_INIT;
	int found = 0;

	if (reg_get_string(h, k, name, &b, &found, NULL) || !found || !b.len) {
		ws_buf_release(&b);
		return NULL;
	}
	return ws_buf_detach(&b, NULL);
}

struct scan_names *scan_names_load(struct vol *vol, struct reg_hive *software,
				   struct ws_log *log)
{
	struct scan_names *n = ws_xcalloc(1, sizeof(*n));
	reg_node k = 0;

	read_sam(n, vol, log);
	if (software &&
	    !reg_key_lookup(software, reg_root(software),
			    "Microsoft\\Windows\\CurrentVersion\\Authentication\\LogonUI",
			    &k, NULL) && k) {
		n->last_sid = get_sz(software, k, "LastLoggedOnUserSID");
		n->last_sam = get_sz(software, k, "LastLoggedOnSAMUser");
	}
	return n;
}

void scan_names_free(struct scan_names *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		free(n->local[i].name);
	free(n->local);
	free(n->last_sid);
	free(n->last_sam);
	free(n);
}

void scan_names_resolve(const struct scan_names *n, const struct vol_profile *p,
			const char *computer, struct ws_buf *domain,
			struct ws_buf *user)
{
	const char *dash = strrchr(p->sid, '-');

	ws_buf_reset(domain);
	ws_buf_reset(user);
	/* Local account: the SID is the machine SID plus the RID. */
	if (n && dash && !strncmp(p->sid, "S-1-5-21-", 9)) {
		size_t dom_len = (size_t)(dash - p->sid);
		int same_machine = !n->machine_sid[0] ||
				   (strlen(n->machine_sid) == dom_len &&
				    !strncmp(n->machine_sid, p->sid, dom_len));
		char *end;
		unsigned long rid = strtoul(dash + 1, &end, 10);

		for (size_t i = 0; same_machine && !*end && i < n->n; i++) {
			if (n->local[i].rid == rid) {
				ws_buf_adds(domain, computer);
				ws_buf_adds(user, n->local[i].name);
				return;
			}
		}
	}
	if (n && n->last_sid && n->last_sam && !strcasecmp(n->last_sid, p->sid)) {
		const char *bs = strrchr(n->last_sam, '\\');

		if (bs && bs > n->last_sam) {
			/* ".\\user" is a local account */
			if (bs - n->last_sam == 1 && n->last_sam[0] == '.')
				ws_buf_adds(domain, computer);
			else
				ws_buf_add(domain, n->last_sam,
					   (size_t)(bs - n->last_sam));
			ws_buf_adds(user, bs + 1);
			return;
		}
	}
	if (!strncmp(p->sid, "S-1-12-1-", 9))
		ws_buf_adds(domain, "AzureAD");
	ws_buf_adds(user, p->account);
}

int scan_users_match(const char *const *pats, size_t n, const char *domain,
		     const char *user, const char *sid)
{
	return ws_account_match(pats, n, domain, user, sid);
}

/* ---- users-since (USMT /uel) --------------------------------------------- */

static int days_in_month(long y, long m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

int scan_users_since_parse(const char *text, unsigned *days, int64_t *since,
			   struct ws_error *err)
{
	const char *s = text ? text : "";
	char *end;
	long y, m, d;

	*days = 0;
	*since = 0;
	if (*s >= '0' && *s <= '9') {
		unsigned long n;

		errno = 0;
		n = strtoul(s, &end, 10);
		if (!*end && !errno) {
			if (n == 0)
				return ws_error_set(err, WS_E_USAGE, s,
						    "0 stands for the users signed in at the time "
						    "(USMT's reading), and an offline installation has "
						    "nobody signed in: it would select no one; give a "
						    "number of days or a day YYYY/MM/DD");
			if (n > 36500)
				return ws_error_set(err, WS_E_USAGE, s,
						    "more than 36500 days: give a day YYYY/MM/DD instead");
			*days = (unsigned)n;
			return WS_OK;
		}
		/* YYYY/MM/DD or YYYY-MM-DD */
		y = strtol(s, &end, 10);
		if ((*end == '/' || *end == '-') && end - s == 4) {
			char sep = *end;
			const char *p = end + 1;

			m = strtol(p, &end, 10);
			if (end > p && end - p <= 2 && *end == sep) {
				p = end + 1;
				d = strtol(p, &end, 10);
				if (end > p && end - p <= 2 && !*end && y >= 1601 && m >= 1 &&
				    m <= 12 && d >= 1 && d <= days_in_month(y, m)) {
					struct tm tm;

					memset(&tm, 0, sizeof(tm));
					tm.tm_year = (int)(y - 1900);
					tm.tm_mon = (int)(m - 1);
					tm.tm_mday = (int)d;
					*since = (int64_t)timegm(&tm);
					if (!*since)
						*since = 1; /* 1970/01/01: still a limit */
					return WS_OK;
				}
				return ws_error_set(err, WS_E_USAGE, s,
						    "not a day of the calendar (YYYY/MM/DD)");
			}
		}
	}
	return ws_error_set(err, WS_E_USAGE, s,
			    "neither a number of days nor a day YYYY/MM/DD");
}
