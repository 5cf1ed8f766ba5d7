/* fuzz_apply_mapfile.c - any bytes as apply's --map-file CSV
 * (amap_parse_csv), then lookups and --map-domain rewriting over what was
 * parsed: must never crash, hang or leak; every mapping has a source user
 * and a failure names a line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WS_APPLY_INTERNAL /* a white-box target: may use the private header */
#include "apply/apply_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amaps m = { 0 };
	struct ws_error e;
	int rc;

	ws_error_clear(&e);
	rc = amap_parse_csv("fuzz.csv", (const char *)data, size, &m, &e);
	if (rc != WS_OK && (rc != WS_E_USAGE || e.line <= 0))
		abort();
	for (size_t i = 0; i < m.n; i++) {
		if (!m.v[i].old || !*m.v[i].old)
			abort();
		if (!amap_find(&m, m.v[i].old, m.v[i].old))
			abort();
		if (m.v[i].new_account) {
			char *d = amap_domain(&m, m.v[i].new_account);
			free(d);
		}
	}
	amap_find(&m, "S-1-5-21-1-2-3-1001", "PC\\bob");
	amap_release(&m);
	return 0;
}
