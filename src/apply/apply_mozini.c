/*
 * apply_mozini.c - Mozilla's profile lists (profiles.ini, installs.ini of
 * Firefox, Thunderbird and LibreWolf) placed on the target: an absolute
 * profile path that names a location apply moved (the user's profile
 * folder under another name, a drive the target lacks) is rewritten to
 * where apply put that location, every other byte kept.  The text comes
 * from the source machine's user: nothing in it is trusted.
 */
#include "apply/apply_private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/ws_ini.h"
#include "util/ws_utf.h"
#include "util/ws_winname.h"

/* The application folders (under the profile's AppData\Roaming) whose
 * profiles.ini / installs.ini the Firefox, Thunderbird and LibreWolf rules
 * take, and those rules' groups. */
static const char *const moz_dirs[] = {
	"AppData\\Roaming\\Mozilla\\Firefox\\", "AppData\\Roaming\\Thunderbird\\",
	"AppData\\Roaming\\librewolf\\",
};
static const char *const moz_groups[] = {
	"Mozilla Firefox profiles", "Mozilla Thunderbird profiles", "LibreWolf profiles",
};

int amoz_kind_of(const char *path, const char *profile, const char *group)
{
	const char *base = strrchr(path, '\\'), *rel;
	int kind;

	base = base ? base + 1 : path;
	if (!strcasecmp(base, "profiles.ini"))
		kind = AMOZ_PROFILES;
	else if (!strcasecmp(base, "installs.ini"))
		kind = AMOZ_INSTALLS;
	else
		return AMOZ_NONE;
	for (size_t i = 0; group && i < sizeof(moz_groups) / sizeof(moz_groups[0]); i++)
		if (!strcmp(group, moz_groups[i]))
			return kind;
	rel = profile ? afiles_profile_rel(path, profile) : NULL;
	for (size_t i = 0; rel && i < sizeof(moz_dirs) / sizeof(moz_dirs[0]); i++) {
		size_t dl = strlen(moz_dirs[i]);

		if ((size_t)(base - rel) == dl && !strncasecmp(rel, moz_dirs[i], dl))
			return kind;
	}
	return AMOZ_NONE;
}

void amoz_notes_release(struct amoz_notes *n)
{
	for (size_t i = 0; i < n->n; i++) {
		free(n->v[i].key);
		free(n->v[i].from);
		free(n->v[i].to);
		free(n->v[i].msg);
	}
	free(n->v);
	memset(n, 0, sizeof(*n));
}

static struct amoz_note *note_add(struct amoz_notes *n, size_t line, int warn)
{
	struct amoz_note *t;

	WS_ALLOC_GROW(n->v, n->n + 1, n->alloc);
	t = &n->v[n->n++];
	memset(t, 0, sizeof(*t));
	t->line = line;
	t->warn = warn;
	return t;
}

static int span_is(const char *b, const char *e, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(e - b) == n && !strncasecmp(b, s, n);
}

static int span_prefix(const char *b, const char *e, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(e - b) >= n && !strncasecmp(b, s, n);
}

/* Why an absolute path may not be rewritten, or NULL: the checks apply
 * makes of every path it places (ws_winpath_check), on the path with '/'
 * read as '\\' (Mozilla writes either) and no trailing separator. */
static const char *path_refusal(const char *p, size_t n)
{
	struct ws_buf w = WS_BUF_INIT;
	const char *why;

	ws_buf_add(&w, p, n);
	for (size_t i = 0; i < w.len; i++)
		if (w.buf[i] == '/')
			w.buf[i] = '\\';
	while (w.len > 3 && w.buf[w.len - 1] == '\\')
		ws_buf_setlen(&w, w.len - 1);
	why = ws_winpath_check(w.buf, NULL);
	ws_buf_release(&w);
	return why;
}

static int is_absolute(const char *b, const char *e)
{
	return e - b >= 3 && (((b[0] | 0x20) >= 'a' && (b[0] | 0x20) <= 'z')) && b[1] == ':' &&
	       (b[2] == '\\' || b[2] == '/');
}

int amoz_rewrite(const char *data, size_t len, int kind, amoz_map_fn map, void *ctx,
		 struct ws_buf *out, struct amoz_notes *notes)
{
	const char *end = data + len, *p;
	const unsigned char *u = (const unsigned char *)data;
	unsigned char *relative = NULL; /* per section: IsRelative=1 seen */
	size_t nsec = 0, asec = 0, line, first = notes->n;
	struct ws_buf path = WS_BUF_INIT, to = WS_BUF_INIT;
	struct ws_ini_line l;
	int n = 0;

	ws_buf_reset(out);
	if (kind == AMOZ_NONE || !len)
		return 0;
	if (len > AMOZ_MAX_BYTES) {
		note_add(notes, 0, 1)->msg = ws_xasprintf("larger than %u bytes: its profile paths "
							  "are not rewritten", AMOZ_MAX_BYTES);
		return 0;
	}
	if (len >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff))) {
		note_add(notes, 1, 1)->msg = ws_xstrdup("UTF-16 text, not the UTF-8 Mozilla writes: "
							"its profile paths are not rewritten");
		return 0;
	}
	p = data;
	if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf)
		p += 3;
	/* first pass: which sections say IsRelative=1 (it may follow Path=) */
	for (const char *q = p; q < end;) {
		q = ws_ini_next(q, end, &l);
		if (l.kind == WS_INI_SECTION) {
			WS_ALLOC_GROW(relative, nsec + 1, asec);
			relative[nsec++] = 0;
		} else if (nsec && l.kind == WS_INI_KEY && span_is(l.nb, l.ne, "IsRelative")) {
			relative[nsec - 1] = span_is(l.vb, l.ve, "1");
		}
	}
	/* second pass: the values that name a moved location */
	line = 0;
	nsec = 0;
	{
		int want = 0; /* the current section's path key: 1 Path, 2 Default */

		for (const char *q = p; q < end;) {
			const char *vb, *ve, *why;

			q = ws_ini_next(q, end, &l);
			line++;
			if (l.kind == WS_INI_SECTION) {
				nsec++;
				if (!l.nb || l.ne == l.nb)
					want = 0;
				else if (kind == AMOZ_INSTALLS)
					want = 2;
				else if (span_prefix(l.nb, l.ne, "Profile"))
					want = relative[nsec - 1] ? 0 : 1;
				else if (span_prefix(l.nb, l.ne, "Install"))
					want = 2;
				continue;
			}
			if (!want || l.kind != WS_INI_KEY ||
			    !span_is(l.nb, l.ne, want == 1 ? "Path" : "Default") ||
			    !is_absolute(l.vb, l.ve))
				continue;
			vb = l.vb;
			ve = l.ve;
			if (!ws_utf8_valid(vb, (size_t)(ve - vb)) || memchr(vb, '\0', (size_t)(ve - vb))) {
				note_add(notes, line, 1)->msg =
					ws_xasprintf("%s= is not valid UTF-8: not rewritten",
						     want == 1 ? "Path" : "Default");
				continue;
			}
			ws_buf_reset(&path);
			ws_buf_add(&path, vb, (size_t)(ve - vb));
			if ((why = path_refusal(path.buf, path.len))) {
				struct amoz_note *t = note_add(notes, line, 1);

				t->msg = ws_xasprintf("%s=%.200s%s: %s: not rewritten",
						      want == 1 ? "Path" : "Default", path.buf,
						      path.len > 200 ? "..." : "", why);
				continue;
			}
			ws_buf_reset(&to);
			if (!map(ctx, path.buf, &to) || !to.len || !strcmp(to.buf, path.buf))
				continue;
			{
				struct amoz_note *t = note_add(notes, line, 0);

				t->key = ws_xstrdup(want == 1 ? "Path" : "Default");
				t->from = ws_xstrdup(path.buf);
				t->to = ws_xstrdup(to.buf);
				t->off = (size_t)(vb - data);
				t->len = (size_t)(ve - vb);
			}
			n++;
		}
	}
	/* splice the rewritten values into the untouched bytes */
	ws_buf_reset(out);
	if (n) {
		size_t at = 0;

		for (size_t i = first; i < notes->n; i++) {
			const struct amoz_note *t = &notes->v[i];

			if (t->warn || !t->to || t->off < at)
				continue;
			ws_buf_add(out, data + at, t->off - at);
			ws_buf_adds(out, t->to);
			at = t->off + t->len;
		}
		ws_buf_add(out, data + at, len - at);
	}
	free(relative);
	ws_buf_release(&path);
	ws_buf_release(&to);
	return n;
}

/* ---- in an apply ----------------------------------------------------------- */

static void ascii_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s | 0x20);
}

static int str_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

void amoz_rerouted_done(struct apply *a)
{
	if (a->n_rerouted)
		qsort(a->rerouted, a->n_rerouted, sizeof(*a->rerouted), str_cmp);
}

/* Whether the scan has files at or under `path` on a drive the target
 * lacks (a->rerouted holds them, sorted). */
static int rerouted_has(const struct apply *a, const char *path)
{
	char *k = ws_xasprintf("%s\\", path);
	size_t kl = strlen(k), lo = 0, hi = a->n_rerouted;
	int found = 0;

	ascii_lower(k);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(a->rerouted[mid], k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* the first path from "<path>\" on is under it, if any is */
	if (lo < a->n_rerouted && !strncmp(a->rerouted[lo], k, kl))
		found = 1;
	/* the folder's own record sorts just before "<path>\" */
	k[kl - 1] = '\0';
	if (!found && lo > 0 && !strcmp(a->rerouted[lo - 1], k))
		found = 1;
	free(k);
	return found;
}

struct map_ctx {
	struct apply *a;
	struct apply_user *um;
};

/* Where apply puts what the source had at `p`: the user's own profile
 * folder mapped (its name, drive, SIDs), a drive the target lacks on its
 * system drive (only where the scan took files there), the system drive's
 * letter.  Another user's profile or a place the scan has nothing of: not
 * moved. */
static int moz_map(void *ctx, const char *p, struct ws_buf *out)
{
	struct map_ctx *m = ctx;
	struct apply *a = m->a;
	struct apply_user *um = m->um;
	struct ws_buf moved = WS_BUF_INIT;

	if (um && (afiles_profile_rel(p, um->src->profile_path) ||
		   !ws_name_casecmp(p, um->src->profile_path))) {
		asub_string(p, um->subs, um->nsubs, out);
		return 1;
	}
	if (afiles_other_drive(p, a->drive_from[0])) {
		if (!rerouted_has(a, p))
			return 0;
		afiles_reroute(p, a->drive_from[0], &moved);
		asub_string(moved.buf, a->syssubs, a->nsyssubs, out);
		ws_buf_release(&moved);
		return 1;
	}
	for (size_t i = 0; i < a->nusers; i++)
		if (a->users[i].src && (afiles_profile_rel(p, a->users[i].src->profile_path) ||
					!ws_name_casecmp(p, a->users[i].src->profile_path)))
			return 0;
	asub_string(p, a->syssubs, a->nsyssubs, out);
	return 1;
}

static int collect(void *ctx, const void *data, size_t len)
{
	struct ws_buf *b = ctx;

	if (b->len + len > AMOZ_MAX_BYTES)
		return -1;
	ws_buf_add(b, data, len);
	return 0;
}

int amoz_prepare(struct apply *a, struct apply_user *um, const struct store_file *f,
		 const char *group, struct ws_buf *out, struct amoz_notes *notes)
{
	struct ws_buf text = WS_BUF_INIT;
	struct map_ctx m = { a, um };
	int kind, n = 0;

	ws_buf_reset(out);
	if (f->flags & STORE_FILE_DIR)
		return 0;
	kind = amoz_kind_of(f->path, um ? um->src->profile_path : NULL, group);
	if (kind == AMOZ_NONE)
		return 0;
	if (f->size > AMOZ_MAX_BYTES) {
		ws_logf(a->log, WS_LOG_WARN, f->path, "larger than %u bytes: its profile paths are "
			"not rewritten (placed as it is)", AMOZ_MAX_BYTES);
		return 0;
	}
	/* a content that cannot be read is reported by the write that follows */
	if (store_catalog_read_file_cb(a->cat, f, collect, &text, NULL) == WS_OK)
		n = amoz_rewrite(text.buf ? text.buf : "", text.len, kind, moz_map, &m, out, notes);
	for (size_t i = 0; i < notes->n; i++) {
		const struct amoz_note *t = &notes->v[i];
		char *where;

		if (!t->warn)
			continue;
		where = t->line ? ws_xasprintf("%s:%zu", f->path, t->line) : ws_xstrdup(f->path);
		ws_logf(a->log, WS_LOG_WARN, where, "%s (placed as it is)", t->msg);
		free(where);
	}
	ws_buf_release(&text);
	if (!n)
		ws_buf_reset(out);
	return n > 0;
}

void amoz_report(struct apply *a, struct apply_user *um, const struct store_file *f,
		 const char *target, const struct amoz_notes *notes)
{
	for (size_t i = 0; i < notes->n; i++) {
		const struct amoz_note *t = &notes->v[i];
		char *obj, *why;

		if (t->warn)
			continue;
		obj = ws_xasprintf("%s:%zu [%s]", f->path, t->line, t->key);
		why = ws_xasprintf("profile path rewritten to where apply placed it: %s -> %s",
				   t->from, t->to);
		apply_act(a, APPLY_RULE_CONTENT, um ? um->src->account : "system", obj, target, why);
		free(obj);
		free(why);
	}
}
