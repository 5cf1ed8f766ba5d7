/* fuzz_sd.c - any bytes as a self-relative security descriptor (sd_parse)
 * and as SID text.  Checked besides "no crash, leak, hang": a parsed
 * descriptor serialises, is never longer than its input, and its canonical
 * bytes parse and serialise to themselves; a failure leaves the model
 * empty; inheritance from it (file and folder) serialises or is refused
 * as too large and parses back; SID text accepted is canonical (formats
 * back to the same bytes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secdesc/sd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_child(const struct sd_desc *parent, int is_dir)
{
	struct sd_desc c = SD_DESC_INIT, back = SD_DESC_INIT;
	struct ws_buf b = WS_BUF_INIT;
	struct sd_sid user = { 5, 5, { 21, 1, 2, 3, 1001 } };

	sd_inherit(&c, parent, is_dir, parent->has_owner ? &parent->owner : &user,
		   parent->has_group ? &parent->group : NULL);
	if (c.dacl.n == 0)
		abort();
	if (sd_serialize(&c, &b, NULL) == WS_OK && sd_parse(&back, b.buf, b.len, NULL) != WS_OK)
		abort();
	sd_desc_release(&back);
	sd_desc_release(&c);
	ws_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_desc d = SD_DESC_INIT, again = SD_DESC_INIT;
	struct ws_buf b1 = WS_BUF_INIT, b2 = WS_BUF_INIT, txt = WS_BUF_INIT;
	struct sd_sid sid;
	char text[SD_SID_TEXT_MAX];

	if (sd_parse(&d, data, size, NULL) == WS_OK) {
		if (sd_serialize(&d, &b1, NULL) != WS_OK || b1.len > size)
			abort();
		if (sd_parse(&again, b1.buf, b1.len, NULL) != WS_OK ||
		    sd_serialize(&again, &b2, NULL) != WS_OK || b1.len != b2.len ||
		    memcmp(b1.buf, b2.buf, b1.len) != 0)
			abort();
		sd_to_text(&d, &txt);
		check_child(&d, 0);
		check_child(&d, 1);
	} else if (d.has_owner || d.has_dacl || d.dacl.n || d.sacl.n) {
		abort();
	}
	if (sd_sid_from_textn(&sid, (const char *)data, size) == 0 &&
	    (strlen(sd_sid_to_text(&sid, text)) != size || memcmp(text, data, size) != 0))
		abort();
	sd_desc_release(&d);
	sd_desc_release(&again);
	ws_buf_release(&b1);
	ws_buf_release(&b2);
	ws_buf_release(&txt);
	return 0;
}
