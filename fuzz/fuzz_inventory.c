/* fuzz_inventory.c - any bytes as a fleet inventory CSV, for scan
 * (scan_inventory_parse) and for apply (apply_inventory_parse): must never
 * crash, hang or leak, and every target either is marked bad with a message
 * naming "fuzz.csv:LINE:" or has a source / target folder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apply/apply.h"
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
	{
		struct apply_wave aw = APPLY_WAVE_INIT;

		if (apply_inventory_parse("fuzz.csv", (const char *)data, size, &aw, &e) == WS_OK) {
			for (size_t i = 0; i < aw.n; i++) {
				const struct apply_target *t = &aw.v[i];

				if (t->bad ? !t->message || strncmp(t->message, "fuzz.csv:", 9)
					   : !t->target || !*t->target)
					abort();
				for (size_t j = 0; j < t->n_map_user; j++)
					if (!t->map_user[j] || !*t->map_user[j])
						abort();
			}
		}
		apply_wave_release(&aw);
	}
	return 0;
}
