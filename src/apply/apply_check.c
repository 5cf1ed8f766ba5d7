/*
 * apply_check.c - the checks every value from a store (or from the target)
 * passes before apply puts it into a path, a bundle file, the first-sign-in
 * script or a registry value that runs something: SIDs, account names,
 * device and scan names, Windows folder paths, bundle keys; and their
 * escaped form for error messages.
 */
#include "apply/apply_private.h"

#include <sodium.h>
#include <string.h>

#include "secdesc/sd.h"
#include "util/ws_utf.h"

/*
 * The one place a SID taken from a store or a target is accepted for a
 * folder name, the bundle or the registry: the canonical SID text of the
 * security-descriptor module (decimal "S-1-<authority>-<sub>...", no
 * leading zeros, 1..15 subauthorities, bounded length), which nothing like
 * "..", "/" or quotes can pass.
 */
int acheck_sid(const char *s)
{
	return sd_sid_valid_text(s);
}

/* Valid UTF-8 without control characters (C0, DEL, C1). */
static int clean_utf8(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n > max || !ws_utf8_valid(s, n))
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 32 || *p == 127)
			return 0;
		if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
			return 0;
	}
	return 1;
}

/* A path step: "." or "..". */
static int dot_part(const char *p, size_t len)
{
	return (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.');
}

int acheck_account(const char *s)
{
	const char *bs;
	size_t n;

	if (!s || !clean_utf8(s, 256) || strpbrk(s, "\"/:*?<>|%"))
		return 0;
	n = strlen(s);
	if (s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	/* at most one backslash, between two non-empty parts */
	bs = strchr(s, '\\');
	if (!bs)
		return !dot_part(s, n);
	if (bs == s || !bs[1] || strchr(bs + 1, '\\'))
		return 0;
	return !dot_part(s, (size_t)(bs - s)) && !dot_part(bs + 1, strlen(bs + 1));
}

int acheck_name(const char *s)
{
	return s && clean_utf8(s, 255);
}

int acheck_win_dir(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 3 || n > 120 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')) ||
	    s[1] != ':' || s[2] != '\\' || s[n - 1] == '\\' || strstr(s, "\\\\") ||
	    strstr(s, "\\.") || strstr(s, " \\"))
		return 0;
	for (size_t i = 3; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr(" ._-()\\", c)))
			return 0;
	}
	return 1;
}

int acheck_token(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > max || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("._-", c)))
			return 0;
	}
	return 1;
}

void acheck_show(const char *s, struct ws_buf *out)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p < 32 || *p == 127 || *p == '\\' || *p == '\'')
			ws_buf_addf(out, *p == '\\' || *p == '\'' ? "\\%c" : "\\x%02X", *p);
		else
			ws_buf_addch(out, (char)*p);
	}
}

void acheck_bundle_key(const char *sid, const char *account, struct ws_buf *out)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	struct ws_buf low = WS_BUF_INIT;

	if (sid && *sid) {
		ws_buf_adds(out, sid);
		return;
	}
	/* ASCII case folding only: the script does exactly the same. */
	for (const char *s = account ? account : ""; *s; s++)
		ws_buf_addch(&low, *s >= 'A' && *s <= 'Z' ? (char)(*s + 32) : *s);
	crypto_hash_sha256(h, (const unsigned char *)(low.buf ? low.buf : ""), low.len);
	ws_buf_adds(out, "A-");
	for (int i = 0; i < 16; i++)
		ws_buf_addf(out, "%02x", h[i]);
	ws_buf_release(&low);
}
