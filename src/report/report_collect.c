/*
 * report_collect.c - first-sign-in outcomes read from a target's
 * ProgramData\winstate\results\<key>.txt (written by users' restore runs,
 * docs/first-sign-in.md) into the store as events; and finding a user
 * across the devices of a store.  Result files are untrusted: reached
 * through a confined root, names and sizes checked, text bounded.
 */
#include "report/report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "secdesc/sd.h"
#include "util/ws_buf.h"
#include "util/ws_root.h"
#include "util/ws_utf.h"
#include "volume/volume.h"

#define RESULT_MAX (1u << 20)   /* a result record is a few KiB; refuse more */
#define LINE_MAX_SHOWN 2000     /* bytes of the last line kept */

/* A results\ name: "<SID>.txt" or "A-<32 lower-case hex>.txt". */
static int key_of(const char *name, char *key, size_t n)
{
	size_t len = strlen(name);

	if (len < 5 || len - 4 >= n || strcmp(name + len - 4, ".txt"))
		return 0;
	memcpy(key, name, len - 4);
	key[len - 4] = '\0';
	if (!strncmp(key, "A-", 2))
		return strlen(key) == 34 && strspn(key + 2, "0123456789abcdef") == 32;
	return sd_sid_valid_text(key);
}

/* Control characters and invalid UTF-8 shown as \xNN, at most `max` bytes. */
static void shown(const char *s, size_t len, size_t max, struct ws_buf *out)
{
	for (size_t i = 0; i < len && out->len < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			ws_buf_addf(out, "\\x%02X", c);
		else
			ws_buf_addch(out, c);
	}
	if (!ws_utf8_valid(out->buf ? out->buf : "", out->len)) {
		struct ws_buf t = WS_BUF_INIT;

		for (size_t i = 0; i < out->len; i++) {
			unsigned char c = (unsigned char)out->buf[i];

			if (c >= 0x80)
				ws_buf_addf(&t, "\\x%02X", c);
			else
				ws_buf_addch(&t, c);
		}
		ws_buf_reset(out);
		ws_buf_add(out, t.buf ? t.buf : "", t.len);
		ws_buf_release(&t);
	}
	if (!out->buf)
		ws_buf_adds(out, "");
}

const char *report_signin_outcome(const char *line)
{
	const char *what = strstr(line, ": ");

	/* The setup phase (before the desktop) writes its line first; the
	 * restore phase's outcome follows it once the desktop is up. */
	if (strstr(line, "} setup: "))
		return "started";
	what = what ? what + 2 : line;
	if (!strncmp(what, "restored", 8))
		return "restored";
	if (!strncmp(what, "runs again", 10))
		return "retrying";
	if (!strncmp(what, "gave up", 7))
		return "gave-up";
	if (!strncmp(what, "FAILED", 6) || !strncmp(what, "failed", 6))
		return "failed";
	if (strstr(what, "declined"))
		return "declined";
	if (!strncmp(what, "bundle expired", 14))
		return "expired";
	return "unknown";
}

/* "<time> <DOMAIN\user> {id} attempt <n>: <what>": its parts, when the line
 * has that shape (the account may hold spaces: the id is found first). */
static void split_line(const char *line, struct ws_buf *when, struct ws_buf *account,
		       struct ws_buf *id, uint64_t *attempt)
{
	const char *sp = strchr(line, ' ');
	const char *brace = strstr(line, " {");
	const char *close = brace ? strchr(brace, '}') : NULL;

	*attempt = 0;
	if (!sp || !brace || !close || brace < sp || close - brace > 40)
		return;
	ws_buf_add(when, line, (size_t)(sp - line));
	if (brace > sp)
		ws_buf_add(account, sp + 1, (size_t)(brace - sp - 1));
	ws_buf_add(id, brace + 1, (size_t)(close - brace));
	if (!strncmp(close, "} attempt ", 10))
		*attempt = strtoull(close + 10, NULL, 10);
}

static int already(const struct store_event_list *l, const char *computer,
		   const char *key, const unsigned char *digest)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct store_event *e = l->v[i];

		if (e->type == STORE_EVENT_SIGNIN && e->signin &&
		    !ws_name_casecmp(e->computer, computer) &&
		    !strcmp(e->signin->key, key) &&
		    !memcmp(e->signin->digest, digest, STORE_HASH_LEN))
			return 1;
	}
	return 0;
}

/* One result file, opened below the results folder without following
 * links: its event, unless the store has it already. */
static int collect_one(struct store *st, int dirfd, const char *name,
		       const char *key, const char *computer, const char *target,
		       const struct store_event_list *have, struct ws_log *log,
		       struct report_collect_stats *stats, struct ws_error *err)
{
	struct ws_buf data = WS_BUF_INIT, last = WS_BUF_INIT, when = WS_BUF_INIT;
	struct ws_buf acct = WS_BUF_INIT, id = WS_BUF_INIT, wshown = WS_BUF_INIT;
	struct ws_buf ashown = WS_BUF_INIT, ishown = WS_BUF_INIT;
	struct store_event_signin s;
	struct store_event ev;
	struct stat sb;
	int fd, rc = WS_OK;
	size_t end, start, lines = 0;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size > RESULT_MAX) {
		ws_logf(log, WS_LOG_WARN, name,
			"first-sign-in result record refused: %s",
			fd < 0 ? strerror(errno) :
			!S_ISREG(sb.st_mode) ? "not a regular file" : "over 1 MiB");
		stats->refused++;
		if (fd >= 0)
			close(fd);
		return WS_OK;
	}
	ws_buf_grow(&data, (size_t)sb.st_size + 1);
	for (;;) {
		ssize_t n = read(fd, data.buf + data.len, RESULT_MAX + 1 - data.len < 65536 ?
				 RESULT_MAX + 1 - data.len : 65536);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		ws_buf_grow(&data, (size_t)n);
		ws_buf_setlen(&data, data.len + (size_t)n);
		if (data.len > RESULT_MAX)
			break;
	}
	close(fd);
	if (data.len > RESULT_MAX) {
		ws_logf(log, WS_LOG_WARN, name, "first-sign-in result record refused: over 1 MiB");
		stats->refused++;
		goto out;
	}
	stats->found++;
	memset(&s, 0, sizeof(s));
	crypto_generichash(s.digest, STORE_HASH_LEN, (const unsigned char *)data.buf,
			   data.len, NULL, 0);
	if (already(have, computer, key, s.digest)) {
		stats->unchanged++;
		goto out;
	}
	/* the last non-empty line (CRLF from PowerShell) */
	for (size_t i = 0; i < data.len; i++)
		if (data.buf[i] == '\n')
			lines++;
	if (data.len && data.buf[data.len - 1] != '\n')
		lines++;
	end = data.len;
	while (end && (data.buf[end - 1] == '\n' || data.buf[end - 1] == '\r'))
		end--;
	start = end;
	while (start && data.buf[start - 1] != '\n')
		start--;
	shown(data.buf + start, end - start, LINE_MAX_SHOWN, &last);
	{
		/* the parts from the raw line, each shown safely */
		struct ws_buf raw = WS_BUF_INIT;

		ws_buf_add(&raw, data.buf + start, end - start);
		ws_buf_addch(&raw, '\0');
		split_line(raw.buf, &when, &acct, &id, &s.attempt);
		ws_buf_release(&raw);
	}
	shown(when.buf ? when.buf : "", when.len, 64, &wshown);
	shown(acct.buf ? acct.buf : "", acct.len, 512, &ashown);
	shown(id.buf ? id.buf : "", id.len, 64, &ishown);
	s.key = key;
	s.account = ashown.buf;
	s.bundle_id = ishown.buf;
	s.when = wshown.buf;
	s.last_line = last.buf;
	s.outcome = report_signin_outcome(last.buf);
	s.lines = lines;
	s.size = data.len;
	memset(&ev, 0, sizeof(ev));
	ev.type = STORE_EVENT_SIGNIN;
	ev.started = ev.finished = (int64_t)time(NULL);
	ev.status = !strcmp(s.outcome, "restored") ? WS_OK : WS_PARTIAL;
	ev.computer = computer;
	ev.location = target;
	ev.tool_version = WS_VERSION;
	ev.signin = &s;
	if ((rc = store_event_write(st, &ev, NULL, err)) == WS_OK)
		stats->recorded++;
out:
	ws_buf_release(&data);
	ws_buf_release(&last);
	ws_buf_release(&when);
	ws_buf_release(&acct);
	ws_buf_release(&id);
	ws_buf_release(&wshown);
	ws_buf_release(&ashown);
	ws_buf_release(&ishown);
	return rc;
}

int report_collect_signins(struct store *st, const char *target,
			   struct ws_log *log, struct report_collect_stats *stats,
			   struct ws_error *err)
{
	struct vol *vol = NULL;
	struct ws_root *root = NULL;
	struct store_event_list have = STORE_EVENT_LIST_INIT;
	char *computer = NULL;
	int rc, dfd = -1;
	DIR *d = NULL;
	struct dirent *de;

	memset(stats, 0, sizeof(*stats));
	/* the target's identity: its computer name from its SYSTEM hive */
	if ((rc = vol_open(target, &vol, err)))
		return rc;
	computer = ws_xstrdup(vol_get_info(vol)->computer_name);
	if ((rc = ws_root_open(vol_get_info(vol)->root, 0, &root, err)))
		goto out;
	{
		struct ws_error e;

		ws_error_clear(&e);
		rc = ws_root_opendir(root, "ProgramData/winstate/results", &dfd, NULL, &e);
		if (rc == WS_E_IO && e.sys_errno == ENOENT) {
			rc = WS_OK; /* nothing staged there, or nothing ran yet */
			goto out;
		}
		if (rc) {
			if (err)
				*err = e;
			goto out;
		}
	}
	if ((rc = store_event_list(st, 1u << STORE_EVENT_SIGNIN, &have, err)))
		goto out;
	if (!(d = fdopendir(dfd))) {
		rc = ws_error_set_errno(err, WS_E_IO, errno, target,
					"cannot list ProgramData\\winstate\\results");
		goto out;
	}
	dfd = -1; /* owned by d */
	while ((de = readdir(d)) != NULL) {
		char key[200];

		if (de->d_name[0] == '.')
			continue;
		if (!key_of(de->d_name, key, sizeof(key))) {
			struct ws_buf n = WS_BUF_INIT;

			shown(de->d_name, strlen(de->d_name), 300, &n);
			ws_logf(log, WS_LOG_WARN, "ProgramData\\winstate\\results",
				"not a result record name, not read: %s", n.buf);
			ws_buf_release(&n);
			stats->refused++;
			continue;
		}
		if ((rc = collect_one(st, dirfd(d), de->d_name, key, computer, target,
				      &have, log, stats, err)))
			break;
	}
out:
	if (d)
		closedir(d);
	if (dfd >= 0)
		close(dfd);
	store_event_list_release(&have);
	ws_root_free(root);
	vol_close(vol);
	free(computer);
	return rc;
}

/* ---- a user across devices ---------------------------------------------- */

static int name_match(const char *pat, const char *s)
{
	return *s && !fnmatch(pat, s, FNM_CASEFOLD | FNM_NOESCAPE);
}

int report_find_user(struct store *st, const char *pattern,
		     struct report_user_hits *hits, struct ws_error *err)
{
	struct store_scan_list l = STORE_SCAN_LIST_INIT;
	int rc;

	if ((rc = store_list_scans(st, NULL, &l, err)))
		return rc;
	for (size_t i = 0; i < l.n; i++) {
		struct store_catalog *cat = NULL;
		const struct store_user *u;
		size_t n;
		int newest = 1;

		for (size_t k = 0; k < i; k++)
			if (!ws_name_casecmp(l.v[k].info.device, l.v[i].info.device))
				newest = 0;
		if (store_catalog_open(st, NULL, l.v[i].info.scan_id, &cat, NULL) != WS_OK)
			continue;
		u = store_catalog_users(cat, &n);
		for (size_t k = 0; k < n; k++) {
			const char *bs = strrchr(u[k].account, '\\');
			const char *pf = strrchr(u[k].profile_path, '\\');
			struct report_user_hit *h;

			if (!name_match(pattern, u[k].account) &&
			    !(bs && name_match(pattern, bs + 1)) &&
			    !name_match(pattern, u[k].sid) &&
			    !(pf && name_match(pattern, pf + 1)))
				continue;
			WS_ALLOC_GROW(hits->v, hits->n + 1, hits->alloc);
			h = &hits->v[hits->n++];
			h->device = ws_xstrdup(l.v[i].info.device);
			h->scan_id = ws_xstrdup(l.v[i].info.scan_id);
			h->started = l.v[i].info.started;
			h->account = ws_xstrdup(u[k].account);
			h->sid = ws_xstrdup(u[k].sid);
			h->profile = ws_xstrdup(u[k].profile_path);
			h->last_use_ft = u[k].last_use_ft;
			h->newest = newest;
		}
		store_catalog_free(cat);
	}
	store_scan_list_release(&l);
	/* by device; the list is newest first within each device already */
	for (size_t i = 1; i < hits->n; i++) {
		struct report_user_hit h = hits->v[i];
		size_t j = i;

		while (j > 0 && ws_name_casecmp(hits->v[j - 1].device, h.device) > 0) {
			hits->v[j] = hits->v[j - 1];
			j--;
		}
		hits->v[j] = h;
	}
	return WS_OK;
}

void report_user_hits_release(struct report_user_hits *hits)
{
	for (size_t i = 0; i < hits->n; i++) {
		free(hits->v[i].device);
		free(hits->v[i].scan_id);
		free(hits->v[i].account);
		free(hits->v[i].sid);
		free(hits->v[i].profile);
	}
	free(hits->v);
	memset(hits, 0, sizeof(*hits));
}
