/* fuzz_rules_ini.c - any bytes as an INI file a source user left (a
 * profiles.ini): read as INI text (byte order marks), every key of every
 * section listed, and each value checked as a path found in a source's
 * content, relative ones from the INI's folder; an accepted path is an
 * absolute Windows path without '.', '..' or empty components, and its
 * escaped pattern compiles and names exactly it.  Must never crash or hang. */
#define WS_RULES_INTERNAL 1
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_private.h"
#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(void *arg, const char *section, const char *value, long line)
{
	struct ws_buf out = WS_BUF_INIT, pat = WS_BUF_INIT;
	const char *why;
	struct rule_pattern *p = NULL;

	(void)arg;
	(void)section;
	if (line < 1)
		abort();
	why = rule_content_path(value, "C:\\Users\\alice\\AppData\\Roaming\\Mozilla\\Firefox", &out);
	if (why) {
		if (out.len)
			abort();
	} else {
		if (out.len < 3 || out.buf[1] != ':' || out.buf[2] != '\\' ||
		    strstr(out.buf, "\\..\\") || strstr(out.buf, "\\.\\") || strstr(out.buf, "\\\\"))
			abort();
		/* the folder as a pattern names itself: a file in it matches */
		rule_escape_literal(out.buf, &pat);
		ws_buf_adds(&pat, "\\* [*]");
		if (rule_pattern_compile(pat.buf, RULE_FILE, &p, NULL) == WS_OK) {
			if (out.len > 3 && rule_pattern_match(p, out.buf, "prefs.js") != 1)
				abort();
			rule_pattern_free(p);
		}
	}
	ws_buf_release(&out);
	ws_buf_release(&pat);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_buf txt = WS_BUF_INIT;

	if (size > RULE_INI_MAX)
		return 0;
	rule_ini_text((const char *)data, size, &txt);
	rule_ini_each(txt.buf, txt.len, "*", "Path", check, NULL);
	rule_ini_each(txt.buf, txt.len, "Install*", "Default", check, NULL);
	ws_buf_release(&txt);
	return 0;
}
