/* fuzz_apply_mozini.c - any bytes as a Mozilla profiles.ini / installs.ini
 * that apply places (amoz_rewrite), byte 0 choosing the kind: must never
 * crash, hang or leak; a rewrite keeps every byte but the rewritten values
 * (the output is the input with each value replaced), a warning names a
 * line unless it is about the whole file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WS_APPLY_INTERNAL /* a white-box target: may use the private header */
#include "apply/apply_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* C:\Users\jdoe -> C:\Users\john.doe, D: -> C:, the rest not moved */
static int map(void *ctx, const char *p, struct ws_buf *out)
{
	(void)ctx;
	if (!strncmp(p, "C:\\Users\\jdoe", 13) && (!p[13] || p[13] == '\\')) {
		ws_buf_addf(out, "C:\\Users\\john.doe%s", p + 13);
		return 1;
	}
	if (p[0] == 'D') {
		ws_buf_addf(out, "C:%s", p + 2);
		return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_buf out = WS_BUF_INIT;
	struct amoz_notes n = { 0 };
	const char *text;
	size_t len, want, at = 0;
	int kind, r;

	if (!size)
		return 0;
	kind = (data[0] & 1) ? AMOZ_INSTALLS : AMOZ_PROFILES;
	text = (const char *)data + 1;
	len = size - 1;
	r = amoz_rewrite(text, len, kind, map, NULL, &out, &n);
	if (r < 0 || (r == 0 && out.len))
		abort();
	want = len;
	for (size_t i = 0; i < n.n; i++) {
		const struct amoz_note *t = &n.v[i];

		if (t->warn) {
			if (!t->msg || (!t->line && len <= AMOZ_MAX_BYTES))
				abort();
			continue;
		}
		if (!t->line || !t->to || !t->from || t->off < at || t->off + t->len > len ||
		    memcmp(text + t->off, t->from, t->len) || strlen(t->from) != t->len)
			abort();
		if (t->off - len + want + strlen(t->to) > out.len ||
		    memcmp(out.buf + (t->off - len + want), t->to, strlen(t->to)))
			abort();
		want = want - t->len + strlen(t->to);
		at = t->off + t->len;
	}
	if (r && out.len != want)
		abort();
	amoz_notes_release(&n);
	ws_buf_release(&out);
	return 0;
}
