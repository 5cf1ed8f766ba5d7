/*
 * test_events.c - event records (docs/store-format.md §13): every field of
 * every type reads back, in plain and encrypted stores; many writers at once
 * lose nothing; a store without events/ has none; truncated, bit-flipped,
 * renamed, oversized, foreign-key and malformed events are skipped with a
 * reason while the others still read; a catalog is never mistaken for one.
 */
#include "store_tu.h"

#include <pthread.h>
#include <unistd.h>

static const unsigned char key1[STORE_KEY_LEN] = { 1, 2, 3 };
static const unsigned char key2[STORE_KEY_LEN] = { 9, 9, 9 };

static void write_full(struct store *st, char *id)
{
	struct ws_error err;
	struct store_count c[] = { { "users", 2 }, { "bytes_new", 1234567890123ull } };
	struct store_count uc[] = { { "values_set", 7 }, { "files_staged", 3 } };
	struct store_event_user u[] = {
		{ "PC\\alice", "S-1-5-21-1-2-3-1001", "CONTOSO\\alice", "S-1-5-21-9-9-9-1001",
		  "first-sign-in", "C:\\ProgramData\\winstate\\bundles\\S-1-5-21-9-9-9-1001",
		  "no profile on the target", uc, 2 },
		{ "system", "", "", "", "offline", "", "", NULL, 0 },
	};
	struct store_event_compat k[] = { { "Start layout", "dropped", 4, 1 } };
	struct store_event_note n[] = { { WS_LOG_WARN, "C:\\x", "<b>warn</b>" } };
	struct store_event_signin s;
	struct store_event ev;

	memset(&s, 0, sizeof(s));
	s.key = "S-1-5-21-9-9-9-1001";
	s.account = "CONTOSO\\alice";
	s.bundle_id = "{01234567-89AB-CDEF-0123-456789ABCDEF}";
	s.outcome = "restored";
	s.when = "2026-05-01T10:00:00";
	s.last_line = "2026-05-01T10:00:00 CONTOSO\\alice {...} attempt 1: restored";
	s.attempt = 1;
	s.lines = 4;
	s.size = 321;
	memset(s.digest, 0xab, sizeof(s.digest));
	memset(&ev, 0, sizeof(ev));
	ev.type = STORE_EVENT_APPLY;
	ev.started = 1770000000;
	ev.finished = 1770000075;
	ev.status = 3;
	ev.device = "PC-01";
	ev.computer = "NEW-01";
	ev.location = "/mnt/new";
	ev.scan_id = "20260101T000000Z-0123456789abcdef";
	ev.message = "";
	ev.tool_version = "0.1.0";
	ev.line = 4;
	ev.counts = c;
	ev.n_counts = 2;
	ev.users = u;
	ev.n_users = 2;
	ev.compat = k;
	ev.n_compat = 1;
	ev.notes = n;
	ev.n_notes = 1;
	ev.signin = &s;
	ws_error_clear(&err);
	tu_assert_ok(store_event_write(st, &ev, id, &err), &err);
}

static void check_full(const struct store_event *e)
{
	assert_int_equal(e->type, STORE_EVENT_APPLY);
	assert_int_equal(e->started, 1770000000);
	assert_int_equal(e->finished, 1770000075);
	assert_int_equal(e->status, 3);
	assert_string_equal(e->device, "PC-01");
	assert_string_equal(e->computer, "NEW-01");
	assert_string_equal(e->location, "/mnt/new");
	assert_string_equal(e->scan_id, "20260101T000000Z-0123456789abcdef");
	assert_string_equal(e->message, "");
	assert_int_equal(e->line, 4);
	assert_int_equal(e->n_counts, 2);
	assert_true(store_count_get(e->counts, e->n_counts, "bytes_new") == 1234567890123ull);
	assert_int_equal(store_count_get(e->counts, e->n_counts, "nothing"), 0);
	assert_int_equal(e->n_users, 2);
	assert_string_equal(e->users[0].new_account, "CONTOSO\\alice");
	assert_string_equal(e->users[0].mode, "first-sign-in");
	assert_int_equal(store_count_get(e->users[0].counts, e->users[0].n_counts, "files_staged"), 3);
	assert_int_equal(e->users[1].n_counts, 0);
	assert_int_equal(e->n_compat, 1);
	assert_string_equal(e->compat[0].verdict, "dropped");
	assert_int_equal(e->compat[0].values, 4);
	assert_int_equal(e->n_notes, 1);
	assert_string_equal(e->notes[0].text, "<b>warn</b>");
	assert_non_null(e->signin);
	assert_string_equal(e->signin->outcome, "restored");
	assert_int_equal(e->signin->size, 321);
	assert_int_equal(e->signin->digest[31], 0xab);
}

static void roundtrip(void **state)
{
	(void)state;
	for (int enc = 0; enc < 2; enc++) {
		char *dir = stu_tmpdir();
		struct store *st;
		struct ws_error err;
		struct store_event_list l = STORE_EVENT_LIST_INIT;
		char id[STORE_SCAN_ID_MAX];
		struct store_event ev;

		ws_error_clear(&err);
		tu_assert_ok(stu_open(dir, 1, NULL, enc ? key1 : NULL, 0, &st, &err), &err);
		/* a store without events/ has none */
		tu_assert_ok(store_event_list(st, 0, &l, &err), &err);
		assert_int_equal(l.n, 0);
		assert_int_equal(l.damaged, 0);
		write_full(st, id);
		memset(&ev, 0, sizeof(ev));
		ev.type = STORE_EVENT_SCAN;
		ev.status = 33;
		ev.location = "/mnt/old";
		ev.message = "damaged hive";
		tu_assert_ok(store_event_write(st, &ev, NULL, &err), &err);
		store_close(st);

		tu_assert_ok(stu_open(dir, 0, NULL, enc ? key1 : NULL, 0, &st, &err), &err);
		tu_assert_ok(store_event_list(st, 0, &l, &err), &err);
		assert_int_equal(l.n, 2);
		assert_int_equal(l.damaged, 0);
		for (size_t i = 0; i < l.n; i++) {
			if (l.v[i]->type == STORE_EVENT_APPLY) {
				assert_string_equal(l.v[i]->id, id);
				check_full(l.v[i]);
			} else {
				assert_int_equal(l.v[i]->status, 33);
				assert_string_equal(l.v[i]->device, "");
				assert_null(l.v[i]->signin);
			}
		}
		store_event_list_release(&l);
		/* type filter */
		tu_assert_ok(store_event_list(st, 1u << STORE_EVENT_SCAN, &l, &err), &err);
		assert_int_equal(l.n, 1);
		assert_string_equal(l.v[0]->message, "damaged hive");
		store_event_list_release(&l);
		store_close(st);
		if (enc) {
			/* encrypted: nothing readable in the file */
			struct ws_buf p = WS_BUF_INIT, d = WS_BUF_INIT;

			ws_buf_addf(&p, "%s/events/%s.evt", dir, id);
			tu_assert_ok(ws_read_file(p.buf, 1 << 20, &d, &err), &err);
			assert_null(memmem(d.buf, d.len, "PC-01", 5));
			assert_null(memmem(d.buf, d.len, "alice", 5));
			ws_buf_release(&p);
			ws_buf_release(&d);
			/* another key: the store refuses it before any event */
			assert_int_equal(stu_open(dir, 0, NULL, key2, 0, &st, &err), WS_E_KEY);
		}
	}
}

struct writer_arg {
	const char *dir;
	int n;
};

static void *writer(void *p)
{
	struct writer_arg *a = p;
	struct store *st;
	struct ws_error err;

	if (stu_open(a->dir, 0, NULL, NULL, 0, &st, &err))
		return (void *)1;
	for (int i = 0; i < a->n; i++) {
		struct store_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.type = STORE_EVENT_SCAN;
		ev.device = "PC";
		ev.line = (uint64_t)i;
		if (store_event_write(st, &ev, NULL, &err))
			return (void *)1;
	}
	store_close(st);
	return NULL;
}

static void many_writers(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_event_list l = STORE_EVENT_LIST_INIT;
	pthread_t th[4];
	struct writer_arg a = { dir, 25 };

	(void)state;
	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, writer, &a), 0);
	for (int i = 0; i < 4; i++) {
		void *r;

		pthread_join(th[i], &r);
		assert_null(r);
	}
	tu_assert_ok(store_event_list(st, 0, &l, &err), &err);
	assert_int_equal(l.n, 100);
	/* oldest first: by the id's second, then its nanoseconds */
	for (size_t i = 1; i < l.n; i++) {
		int c = strncmp(l.v[i - 1]->id, l.v[i]->id, 16);

		assert_true(c < 0 || (c == 0 && l.v[i - 1]->id_ns <= l.v[i]->id_ns));
		assert_true(l.v[i]->id_ns >= 0);
	}
	store_event_list_release(&l);
	store_close(st);
}

/* Write `len` bytes as events/<id>.evt. */
static void put(const char *dir, const char *id, const void *p, size_t len)
{
	struct ws_buf path = WS_BUF_INIT;
	struct ws_error err;

	ws_buf_addf(&path, "%s/events/%s.evt", dir, id);
	tu_assert_ok(ws_write_file_atomic(path.buf, p, len, 0, WS_E_IO, &err), &err);
	ws_buf_release(&path);
}

static void hostile(void **state)
{
	char *dir = stu_tmpdir();
	struct store *st;
	struct ws_error err;
	struct store_event_list l = STORE_EVENT_LIST_INIT;
	struct ws_buf path = WS_BUF_INIT, good = WS_BUF_INIT, x = WS_BUF_INIT;
	char id[STORE_SCAN_ID_MAX];
	struct store_event *ev;

	(void)state;
	ws_error_clear(&err);
	tu_assert_ok(stu_open(dir, 1, NULL, NULL, 0, &st, &err), &err);
	write_full(st, id);
	ws_buf_addf(&path, "%s/events/%s.evt", dir, id);
	tu_assert_ok(ws_read_file(path.buf, 1 << 20, &good, &err), &err);

	/* truncated at every length: a clean error, never a crash */
	for (size_t n = 0; n < good.len; n++) {
		assert_int_equal(store_event_parse(st, id, good.buf, n, &ev, &err), WS_E_CORRUPT);
		assert_null(ev);
	}
	/* one bit flipped anywhere */
	for (size_t i = 0; i < good.len; i++) {
		ws_buf_reset(&x);
		ws_buf_add(&x, good.buf, good.len);
		x.buf[i] ^= 0x10;
		assert_int_not_equal(store_event_parse(st, id, x.buf, x.len, &ev, &err), WS_OK);
	}
	/* renamed: the id is authenticated */
	put(dir, "20260101T000000Z-00000000000000aa", good.buf, good.len);
	/* truncated, tampered and huge files among good ones */
	put(dir, "20260101T000000Z-00000000000000bb", good.buf, good.len / 2);
	ws_buf_reset(&x);
	ws_buf_add(&x, good.buf, good.len);
	x.buf[x.len - 3] ^= 1;
	put(dir, "20260101T000000Z-00000000000000cc", x.buf, x.len);
	ws_buf_reset(&x);
	ws_buf_add(&x, good.buf, 8);
	for (size_t i = 0; i < (1u << 20); i++)
		ws_buf_addch(&x, 'A');
	put(dir, "20260101T000000Z-00000000000000dd", x.buf, x.len);
	/* a newer major */
	ws_buf_reset(&x);
	ws_buf_add(&x, good.buf, good.len);
	x.buf[5] = 2;
	assert_int_equal(store_event_parse(st, id, x.buf, x.len, &ev, &err), WS_E_UNSUPPORTED);
	/* names that are not events are not read */
	put(dir, "not-an-id", "x", 1);
	tu_assert_ok(store_event_list(st, 0, &l, &err), &err);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0]->id, id);
	assert_int_equal(l.damaged, 4);
	for (size_t i = 0; i < l.damaged; i++)
		assert_non_null(strstr(l.damaged_why[i], "events/20260101T000000Z-00000000000000"));
	store_event_list_release(&l);
	store_close(st);

	/* the same bytes in an encrypted store: header mismatch, refused */
	{
		char *d2 = stu_tmpdir();

		tu_assert_ok(stu_open(d2, 1, NULL, key1, 0, &st, &err), &err);
		assert_int_equal(store_event_parse(st, id, good.buf, good.len, &ev, &err), WS_E_CORRUPT);
		store_close(st);
	}
	ws_buf_release(&path);
	ws_buf_release(&good);
	ws_buf_release(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(many_writers),
		cmocka_unit_test(hostile),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	stu_cleanup();
	return rc;
}
