/* fuzz_store_event.c - hostile event records (docs/store-format.md §13):
 * byte 0 odd: the rest is an event payload, deflated and sealed here so it
 * gets past the checksum; byte 0 even: the rest is a whole event file.  It
 * is parsed, then written into a store and listed with the other events;
 * every field read back must be a NUL-terminated string or a bounded array.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WS_STORE_INTERNAL /* a white-box target: may use the private header */
#include "store/store_private.h"
#include "util/ws_fs.h"

#include "fuzz_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EV_ID "20260101T000000Z-0123456789abcdef"

static size_t touch(const char *s)
{
	return strlen(s);
}

static void use(const struct store_event *e)
{
	size_t n = touch(e->device) + touch(e->computer) + touch(e->location) +
		   touch(e->scan_id) + touch(e->message) + touch(e->tool_version);

	for (size_t i = 0; i < e->n_counts; i++)
		n += touch(e->counts[i].name);
	for (size_t i = 0; i < e->n_users; i++) {
		n += touch(e->users[i].account) + touch(e->users[i].mode);
		for (size_t k = 0; k < e->users[i].n_counts; k++)
			n += touch(e->users[i].counts[k].name);
	}
	for (size_t i = 0; i < e->n_compat; i++)
		n += touch(e->compat[i].component) + touch(e->compat[i].verdict);
	for (size_t i = 0; i < e->n_notes; i++)
		n += touch(e->notes[i].where) + touch(e->notes[i].text);
	if (e->signin)
		n += touch(e->signin->key) + touch(e->signin->last_line) + e->signin->digest[31];
	(void)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store *st;
	struct store_event *ev = NULL;
	struct store_event_list l = STORE_EVENT_LIST_INIT;
	struct ws_buf f = WS_BUF_INIT, z = WS_BUF_INIT, ad = WS_BUF_INIT, path = WS_BUF_INIT;

	if (size < 1 || store_open(fz_store_dir("evt"), NULL, &st, NULL) != WS_OK)
		return 0;
	if (data[0] & 1) {
		unsigned char head[8] = { 'W', 'S', 'E', 'V', 'T', 1, 0, 0 };

		store_deflate(data + 1, size - 1, 1, &z);
		ws_buf_add(&ad, head, 8);
		ws_buf_adds(&ad, EV_ID);
		ws_buf_add(&f, head, 8);
		store_seal(st, st->k_event, ad.buf, ad.len, z.buf, z.len, &f);
	} else {
		ws_buf_add(&f, data + 1, size - 1);
	}
	if (store_event_parse(st, EV_ID, f.buf, f.len, &ev, NULL) == WS_OK) {
		use(ev);
		/* what was read writes back and reads back */
		if (store_event_write(st, ev, NULL, NULL) != WS_OK)
			abort();
		store_event_free(ev);
	}
	store_abs(st, &path, "events");
	ws_mkdir_p(path.buf, WS_E_IO, NULL);
	ws_buf_addf(&path, "/%s.evt", EV_ID);
	ws_write_file_atomic(path.buf, f.buf, f.len, 0, WS_E_IO, NULL);
	if (store_event_list(st, 0, &l, NULL) == WS_OK)
		for (size_t i = 0; i < l.n; i++)
			use(l.v[i]);
	store_event_list_release(&l);
	/* keep the store small: only this input's files */
	ws_buf_reset(&path);
	store_abs(st, &path, "events");
	ws_remove_tree(path.buf, NULL);
	store_close(st);
	ws_buf_release(&f);
	ws_buf_release(&z);
	ws_buf_release(&ad);
	ws_buf_release(&path);
	return 0;
}
