/* fuzz_bd_keys.c - any bytes as a BitLocker key CSV (bd_keys_parse_csv):
 * must never crash, hang or leak; a failure is WS_E_USAGE naming the file; every
 * key parsed has a protector GUID in canonical form and an origin. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blockdev/blockdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bd_keys *k = bd_keys_new();
	struct ws_error e;
	int rc;

	ws_error_clear(&e);
	rc = bd_keys_parse_csv(k, "fuzz.csv", (const char *)data, size, &e);
	if (rc != WS_OK && (rc != WS_E_USAGE || strcmp(e.where, "fuzz.csv") || !e.msg[0]))
		abort();
	for (size_t i = 0; i < bd_keys_count(k); i++) {
		enum bd_key_kind kind;
		const char *id, *origin, *pc;
		char g[37];

		if (!bd_keys_get(k, i, &kind, &id, &origin, &pc) || kind != BD_KEY_RECOVERY ||
		    strlen(id) != 36 || !bd_guid_find(id, g) || strcmp(g, id) ||
		    strncmp(origin, "fuzz.csv:", 9) || !pc)
			abort();
	}
	bd_keys_free(k);
	return 0;
}
