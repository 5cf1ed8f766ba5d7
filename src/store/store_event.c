/*
 * store_event.c - event records: one small sealed file per scan attempt,
 * apply or first-sign-in outcome in events/ (docs/store-format.md §13).
 * Written once under a unique name (no shared file is ever rewritten), read
 * as untrusted input: every length is bounded, damage skips the one event.
 */
#include "store/store_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util/ws_fs.h"

#define EV_HEAD_LEN 8
#define EV_MAJOR 1
#define EV_MINOR 0

/* Record types inside an event's payload. */
enum { ER_EVENT = 1, ER_COUNT = 2, ER_USER = 3, ER_COMPAT = 4, ER_NOTE = 5,
       ER_SIGNIN = 6 };

/* ---------------------------------------------------------------------- */
/* Encoding                                                               */

static void emit(struct ws_buf *b, unsigned type, struct ws_buf *body)
{
	ws_buf_add_u8(b, type);
	ws_buf_add_varint(b, body->len);
	ws_buf_add(b, body->buf, body->len);
	ws_buf_reset(body);
}

static void put_counts(struct ws_buf *r, const struct store_count *c, size_t n)
{
	ws_buf_add_varint(r, n);
	for (size_t i = 0; i < n; i++) {
		store_rec_put_str(r, c[i].name);
		ws_buf_add_varint(r, c[i].value);
	}
}

static void encode(const struct store_event *ev, int32_t id_ns, struct ws_buf *out)
{
	struct ws_buf r = WS_BUF_INIT;

	ws_buf_add_varint(&r, (unsigned)ev->type);
	ws_buf_add_varint(&r, (uint64_t)(ev->started > 0 ? ev->started : 0));
	ws_buf_add_varint(&r, (uint64_t)(ev->finished > 0 ? ev->finished : 0));
	ws_buf_add_varint(&r, (unsigned)(ev->status >= 0 ? ev->status : 0));
	store_rec_put_str(&r, ev->device);
	store_rec_put_str(&r, ev->computer);
	store_rec_put_str(&r, ev->location);
	store_rec_put_str(&r, ev->scan_id);
	store_rec_put_str(&r, ev->message);
	store_rec_put_str(&r, ev->tool_version);
	ws_buf_add_varint(&r, ev->line);
	ws_buf_add_varint(&r, (uint64_t)id_ns); /* orders events of one second */
	emit(out, ER_EVENT, &r);
	for (size_t i = 0; i < ev->n_counts; i++) {
		store_rec_put_str(&r, ev->counts[i].name);
		ws_buf_add_varint(&r, ev->counts[i].value);
		emit(out, ER_COUNT, &r);
	}
	for (size_t i = 0; i < ev->n_users; i++) {
		const struct store_event_user *u = &ev->users[i];

		store_rec_put_str(&r, u->account);
		store_rec_put_str(&r, u->sid);
		store_rec_put_str(&r, u->new_account);
		store_rec_put_str(&r, u->new_sid);
		store_rec_put_str(&r, u->mode);
		store_rec_put_str(&r, u->target);
		store_rec_put_str(&r, u->reason);
		put_counts(&r, u->counts, u->n_counts);
		emit(out, ER_USER, &r);
	}
	for (size_t i = 0; i < ev->n_compat; i++) {
		store_rec_put_str(&r, ev->compat[i].component);
		store_rec_put_str(&r, ev->compat[i].verdict);
		ws_buf_add_varint(&r, ev->compat[i].values);
		ws_buf_add_varint(&r, ev->compat[i].files);
		emit(out, ER_COMPAT, &r);
	}
	for (size_t i = 0; i < ev->n_notes && i < STORE_EVENT_NOTES_MAX; i++) {
		ws_buf_add_varint(&r, (unsigned)ev->notes[i].level);
		store_rec_put_str(&r, ev->notes[i].where);
		store_rec_put_str(&r, ev->notes[i].text);
		emit(out, ER_NOTE, &r);
	}
	if (ev->signin) {
		const struct store_event_signin *s = ev->signin;

		store_rec_put_str(&r, s->key);
		store_rec_put_str(&r, s->account);
		store_rec_put_str(&r, s->bundle_id);
		store_rec_put_str(&r, s->outcome);
		store_rec_put_str(&r, s->when);
		store_rec_put_str(&r, s->last_line);
		ws_buf_add_varint(&r, s->attempt);
		ws_buf_add_varint(&r, s->lines);
		ws_buf_add_varint(&r, s->size);
		store_rec_put_bytes(&r, s->digest, STORE_HASH_LEN);
		emit(out, ER_SIGNIN, &r);
	}
	ws_buf_release(&r);
}

static void event_ad(struct ws_buf *ad, const unsigned char *head,
		     const char *id)
{
	ws_buf_add(ad, head, EV_HEAD_LEN);
	ws_buf_adds(ad, id);
}

/* Same clock as scan ids, so events and scans order together. */
int store_event_write(struct store *st, const struct store_event *ev,
		      char *id_out, struct ws_error *err)
{
	struct ws_buf pl = WS_BUF_INIT, z = WS_BUF_INIT, ad = WS_BUF_INIT;
	struct ws_buf f = WS_BUF_INIT, path = WS_BUF_INIT;
	unsigned char head[EV_HEAD_LEN];
	char id[STORE_SCAN_ID_MAX];
	int32_t ns;
	int rc;

	store_make_id(st, id, &ns);
	encode(ev, ns, &pl);
	if (pl.len > STORE_EVENT_MAX - 1024) {
		rc = ws_error_set(err, WS_E_USAGE, id, "event record too large (%zu bytes)",
				  pl.len);
		goto out;
	}
	memcpy(head, STORE_EVENT_MAGIC, 5);
	head[5] = EV_MAJOR;
	head[6] = EV_MINOR;
	head[7] = st->encrypted ? 1 : 0;
	store_deflate(pl.buf, pl.len, 6, &z);
	event_ad(&ad, head, id);
	ws_buf_add(&f, head, sizeof(head));
	store_seal(st, st->k_event, ad.buf, ad.len, z.buf, z.len, &f);
	store_abs(st, &path, "events");
	if ((rc = ws_mkdir_p(path.buf, WS_E_STORE, err)))
		goto out;
	ws_buf_addf(&path, "/%s.evt", id);
	if ((rc = store_fault(st, path.buf))) {
		rc = ws_error_set_errno(err, rc == ENOSPC ? WS_E_NOSPACE : WS_E_IO, rc,
					path.buf, "cannot write the event record");
		goto out;
	}
	rc = ws_write_file_atomic(path.buf, f.buf, f.len, 1, WS_E_STORE, err);
	if (!rc && id_out)
		memcpy(id_out, id, sizeof(id));
out:
	ws_buf_release(&pl);
	ws_buf_release(&z);
	ws_buf_release(&ad);
	ws_buf_release(&f);
	ws_buf_release(&path);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Decoding                                                               */

/* Everything an event read back owns. */
struct ev_obj {
	struct store_event ev;
	char **strs;
	size_t n_strs, a_strs;
	struct store_count *counts;
	size_t a_counts;
	struct store_event_user *users;
	size_t a_users;
	struct store_event_compat *compat;
	size_t a_compat;
	struct store_event_note *notes;
	size_t a_notes;
	struct store_count **ucounts;   /* each user's counts */
	struct store_event_signin signin;
};

static const char *get_str(struct ev_obj *o, struct store_cur *c)
{
	char *s = NULL;
	const char *r = store_cur_str(c, STORE_EVENT_MAX, &s);

	if (s) {
		WS_ALLOC_GROW(o->strs, o->n_strs + 1, o->a_strs);
		o->strs[o->n_strs++] = s;
	}
	return r;
}

void store_event_free(struct store_event *ev)
{
	struct ev_obj *o = (struct ev_obj *)ev;

	if (!o)
		return;
	for (size_t i = 0; i < o->n_strs; i++)
		free(o->strs[i]);
	free(o->strs);
	free(o->counts);
	for (size_t i = 0; i < o->ev.n_users; i++)
		free(o->ucounts[i]);
	free(o->ucounts);
	free(o->users);
	free(o->compat);
	free(o->notes);
	free(o);
}

static int parse_payload(struct ev_obj *o, const unsigned char *p, size_t len)
{
	struct store_cur top = { p, p + len, 0 };
	int have_event = 0;

	while (top.p < top.end) {
		unsigned type = *top.p++;
		uint64_t blen = store_cur_varint(&top);
		struct store_cur c;

		if (top.bad || blen > (uint64_t)(top.end - top.p))
			return -1;
		c.p = top.p;
		c.end = top.p + blen;
		c.bad = 0;
		top.p += blen;
		if (!have_event && type != ER_EVENT)
			return -1; /* the EVENT record comes first */
		switch (type) {
		case ER_EVENT: {
			uint64_t t, st, fi, status;

			if (have_event)
				return -1;
			have_event = 1;
			t = store_cur_varint(&c);
			st = store_cur_varint(&c);
			fi = store_cur_varint(&c);
			status = store_cur_varint(&c);
			if (t > 255 || status > 255 || st > INT64_MAX || fi > INT64_MAX)
				return -1;
			o->ev.type = (int)t;
			o->ev.started = (int64_t)st;
			o->ev.finished = (int64_t)fi;
			o->ev.status = (int)status;
			o->ev.device = get_str(o, &c);
			o->ev.computer = get_str(o, &c);
			o->ev.location = get_str(o, &c);
			o->ev.scan_id = get_str(o, &c);
			o->ev.message = get_str(o, &c);
			o->ev.tool_version = get_str(o, &c);
			o->ev.line = store_cur_varint(&c);
			o->ev.id_ns = -1;
			if (!c.bad && c.p < c.end) {
				uint64_t ns = store_cur_varint(&c);

				if (ns > 999999999)
					return -1;
				o->ev.id_ns = (int32_t)ns;
			}
			break;
		}
		case ER_COUNT: {
			struct store_count k;

			k.name = get_str(o, &c);
			k.value = store_cur_varint(&c);
			WS_ALLOC_GROW(o->counts, o->ev.n_counts + 1, o->a_counts);
			o->counts[o->ev.n_counts++] = k;
			o->ev.counts = o->counts;
			break;
		}
		case ER_USER: {
			struct store_event_user u;
			struct store_count *uc = NULL;
			uint64_t n;

			memset(&u, 0, sizeof(u));
			u.account = get_str(o, &c);
			u.sid = get_str(o, &c);
			u.new_account = get_str(o, &c);
			u.new_sid = get_str(o, &c);
			u.mode = get_str(o, &c);
			u.target = get_str(o, &c);
			u.reason = get_str(o, &c);
			n = store_cur_varint(&c);
			/* each count takes 2 bytes at least */
			if (c.bad || n > (uint64_t)(c.end - c.p) / 2)
				return -1;
			if (n)
				uc = ws_xcalloc((size_t)n, sizeof(*uc));
			u.counts = uc;
			u.n_counts = (size_t)n;
			/* owned by the event before anything else can fail */
			WS_ALLOC_GROW(o->users, o->ev.n_users + 1, o->a_users);
			o->ucounts = ws_xrealloc(o->ucounts,
						 (o->ev.n_users + 1) * sizeof(*o->ucounts));
			o->ucounts[o->ev.n_users] = uc;
			o->users[o->ev.n_users++] = u;
			o->ev.users = o->users;
			for (uint64_t i = 0; i < n; i++) {
				uc[i].name = get_str(o, &c);
				uc[i].value = store_cur_varint(&c);
			}
			break;
		}
		case ER_COMPAT: {
			struct store_event_compat k;

			k.component = get_str(o, &c);
			k.verdict = get_str(o, &c);
			k.values = store_cur_varint(&c);
			k.files = store_cur_varint(&c);
			WS_ALLOC_GROW(o->compat, o->ev.n_compat + 1, o->a_compat);
			o->compat[o->ev.n_compat++] = k;
			o->ev.compat = o->compat;
			break;
		}
		case ER_NOTE: {
			struct store_event_note k;
			uint64_t lv = store_cur_varint(&c);

			if (lv > 16)
				return -1;
			k.level = (int)lv;
			k.where = get_str(o, &c);
			k.text = get_str(o, &c);
			WS_ALLOC_GROW(o->notes, o->ev.n_notes + 1, o->a_notes);
			o->notes[o->ev.n_notes++] = k;
			o->ev.notes = o->notes;
			break;
		}
		case ER_SIGNIN: {
			struct store_event_signin *s = &o->signin;
			uint64_t dl;

			if (o->ev.signin)
				return -1;
			s->key = get_str(o, &c);
			s->account = get_str(o, &c);
			s->bundle_id = get_str(o, &c);
			s->outcome = get_str(o, &c);
			s->when = get_str(o, &c);
			s->last_line = get_str(o, &c);
			s->attempt = store_cur_varint(&c);
			s->lines = store_cur_varint(&c);
			s->size = store_cur_varint(&c);
			dl = store_cur_varint(&c);
			if (c.bad || dl != STORE_HASH_LEN || (size_t)(c.end - c.p) < dl)
				return -1;
			memcpy(s->digest, c.p, STORE_HASH_LEN);
			c.p += STORE_HASH_LEN;
			o->ev.signin = s;
			break;
		}
		default:
			continue; /* a later minor's record: skipped */
		}
		/* a record's fields must fit its body; bytes after them are a
		 * later minor's additions */
		if (c.bad)
			return -1;
	}
	return have_event ? 0 : -1;
}

int store_event_parse(struct store *st, const char *id, const void *data,
		      size_t len, struct store_event **out, struct ws_error *err)
{
	const unsigned char *d = data;
	struct ws_buf ad = WS_BUF_INIT, z = WS_BUF_INIT, pl = WS_BUF_INIT;
	struct ev_obj *o = NULL;
	const char *why = NULL;
	int rc = WS_OK;

	*out = NULL;
	if (!store_scan_id_valid(id))
		return ws_error_set(err, WS_E_CORRUPT, id, "not an event record name");
	if (len > STORE_EVENT_MAX)
		why = "over 1 MiB";
	else if (len < EV_HEAD_LEN || memcmp(d, STORE_EVENT_MAGIC, 5))
		why = "not an event record (truncated or wrong magic)";
	else if (d[5] > EV_MAJOR)
		return ws_error_set(err, WS_E_UNSUPPORTED, id,
				    "event record of a newer format (%u.%u)", d[5], d[6]);
	else if (d[5] != EV_MAJOR || d[7] != (st->encrypted ? 1 : 0))
		why = "event record header does not match the store";
	if (why)
		return ws_error_set(err, WS_E_CORRUPT, id, "%s", why);
	event_ad(&ad, d, id);
	if (store_unseal(st, st->k_event, ad.buf, ad.len, d + EV_HEAD_LEN,
			 len - EV_HEAD_LEN, &z)) {
		why = "does not authenticate (damaged, tampered or renamed)";
	} else if (store_inflate(z.buf, z.len, STORE_EVENT_MAX, &pl)) {
		why = "payload does not inflate (or over 1 MiB)";
	} else {
		o = ws_xcalloc(1, sizeof(*o));
		memcpy(o->ev.id, id, strlen(id) + 1);
		if (parse_payload(o, (const unsigned char *)pl.buf, pl.len)) {
			why = "malformed record";
			store_event_free(&o->ev);
			o = NULL;
		}
	}
	if (why)
		rc = ws_error_set(err, WS_E_CORRUPT, id, "event record %s", why);
	else
		*out = &o->ev;
	ws_buf_release(&ad);
	ws_buf_release(&z);
	ws_buf_release(&pl);
	return rc;
}

static int id_cmp(const void *a, const void *b)
{
	const struct store_event *x = *(struct store_event *const *)a;
	const struct store_event *y = *(struct store_event *const *)b;

	/* oldest first: the same order as scans (store_scan_order is newest
	 * first) */
	return -store_scan_order(x->id, x->id_ns, y->id, y->id_ns);
}

int store_event_list(struct store *st, unsigned type_mask,
		     struct store_event_list *list, struct ws_error *err)
{
	struct ws_buf dir = WS_BUF_INIT;
	char **names = NULL;
	size_t n = 0, alloc = 0, a_damaged = 0;
	int rc = WS_OK;

	store_abs(st, &dir, "events");
	if (ws_list_dir_suffix(dir.buf, NULL, ".evt", &names, &n, &alloc)) {
		if (errno != ENOENT)
			rc = ws_error_set_errno(err, WS_E_IO, errno, dir.buf,
						"cannot list the event records");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *base = strrchr(names[i], '/') + 1;
		size_t bl = strlen(base) - 4;
		char id[STORE_SCAN_ID_MAX];
		struct ws_buf data = WS_BUF_INIT;
		struct ws_error e;
		struct store_event *ev = NULL;
		int r;

		if (bl >= sizeof(id) || base[0] == '.' || strcmp(base + bl, ".evt"))
			continue; /* temporaries and other names are not events */
		memcpy(id, base, bl);
		id[bl] = '\0';
		if (!store_scan_id_valid(id))
			continue;
		ws_error_clear(&e);
		r = ws_read_file(names[i], STORE_EVENT_MAX, &data, &e);
		if (r == WS_OK)
			r = store_event_parse(st, id, data.buf, data.len, &ev, &e);
		ws_buf_release(&data);
		if (r != WS_OK) {
			char msg[WS_ERROR_TEXT_MAX + 64];

			WS_ALLOC_GROW(list->damaged_why, list->damaged + 1, a_damaged);
			snprintf(msg, sizeof(msg), "events/%s.evt: %s", id, e.msg);
			list->damaged_why[list->damaged++] = ws_xstrdup(msg);
			continue;
		}
		if (type_mask && !(ev->type < 32 && (type_mask & (1u << ev->type)))) {
			store_event_free(ev);
			continue;
		}
		WS_ALLOC_GROW(list->v, list->n + 1, list->alloc);
		list->v[list->n++] = ev;
	}
	if (list->n > 1)
		qsort(list->v, list->n, sizeof(*list->v), id_cmp);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	ws_buf_release(&dir);
	return rc;
}

void store_event_list_release(struct store_event_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		store_event_free(list->v[i]);
	free(list->v);
	for (size_t i = 0; i < list->damaged; i++)
		free(list->damaged_why[i]);
	free(list->damaged_why);
	memset(list, 0, sizeof(*list));
}

uint64_t store_count_get(const struct store_count *c, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c[i].name, name))
			return c[i].value;
	return 0;
}

int store_disk_usage(struct store *st, uint64_t *packs, uint64_t *bytes,
		     struct ws_error *err)
{
	int rc = store_list_packs(st, err);

	*packs = *bytes = 0;
	for (size_t i = 0; !rc && i < st->n_packs; i++) {
		struct store_pack *p = st->packs[i];
		struct ws_buf rel = WS_BUF_INIT, abs = WS_BUF_INIT;
		struct stat sb;

		if (!p->has_tar)
			continue;
		store_rel_pack(&rel, p->id, store_pack_ext(p));
		store_abs(st, &abs, rel.buf);
		if (stat(abs.buf, &sb) == 0) {
			(*packs)++;
			*bytes += (uint64_t)sb.st_size;
		}
		ws_buf_release(&rel);
		ws_buf_release(&abs);
	}
	return rc;
}
