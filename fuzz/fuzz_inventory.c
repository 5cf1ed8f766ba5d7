/* fuzz_inventory.c - any bytes as a fleet inventory CSV
 * (scan_inventory_parse): must never crash, hang or leak, and every target
 * it returns must be either marked bad with a message or have a source. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scan_wave w = SCAN_WAVE_INIT;
	struct ws_error e;

	if (scan_inventory_parse("fuzz.csv", (const char *)data, size, &w, &e) == WS_OK) {
		for (size_t i = 0; i < w.n; i++) {
			const struct scan_target *t = &w.v[i];

			if (t->bad ? !t->message || !t->code : !t->source || !*t->source)
				abort();
			for (size_t j = 0; j < t->n_users_include; j++)
				if (!t->users_include[j])
					abort();
			for (size_t j = 0; j < t->n_users_exclude; j++)
				if (!t->users_exclude[j])
					abort();
		}
	}
	scan_wave_release(&w);
	return 0;
}
