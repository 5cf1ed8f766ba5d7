/* fuzz_util_names.c - names as NTFS compares them, against the keyed hash
 * the folder cache and the journal's path set use (util/ws_hash.h): two
 * names equal ignoring case must hash alike, or apply misses the file a
 * target already has under another case and makes a second one.  The
 * input is split at its first NUL into two names; each is also compared
 * with its upper-cased form (ws_name_upper).  abort() on a name pair
 * ws_name_ncasecmp calls equal whose hashes differ. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/ws_buf.h"
#include "util/ws_hash.h"
#include "util/ws_utf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_pair(const struct ws_hkey *k, const char *a, size_t alen, const char *b,
		       size_t blen)
{
	if (ws_name_ncasecmp(a, alen, b, blen) == 0 &&
	    ws_hash_name(k, a, alen) != ws_hash_name(k, b, blen))
		abort();
	/* the comparison is symmetric */
	if ((ws_name_ncasecmp(a, alen, b, blen) == 0) != (ws_name_ncasecmp(b, blen, a, alen) == 0))
		abort();
}

static void check_upper(const struct ws_hkey *k, const char *s, size_t len)
{
	struct ws_buf up = WS_BUF_INIT;
	char *z = malloc(len + 1);

	/* ws_name_upper reads a C string: the name up to its first NUL */
	memcpy(z, s, len);
	z[len] = '\0';
	ws_name_upper(z, &up);
	check_pair(k, z, strlen(z), up.buf ? up.buf : "", up.len);
	ws_buf_release(&up);
	free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ws_hkey k;
	static int keyed;
	const char *a = (const char *)data, *nul = memchr(data, 0, size);
	size_t alen = nul ? (size_t)(nul - a) : size;
	const char *b = nul ? nul + 1 : a;
	size_t blen = nul ? size - alen - 1 : 0;

	if (!keyed) {
		ws_hkey_init(&k);
		keyed = 1;
	}
	check_pair(&k, a, alen, b, blen);
	check_upper(&k, a, alen);
	check_upper(&k, b, blen);
	return 0;
}
