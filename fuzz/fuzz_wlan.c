/* fuzz_wlan.c - any bytes as a Wi-Fi profile (apps_wlan_parse): must never
 * crash, hang or leak; a failure leaves the list unchanged, a success adds
 * exactly one profile whose strings are all set. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apps/apps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apps_wlan_list l = APPS_WLAN_LIST_INIT;
	struct ws_buf out = WS_BUF_INIT;
	struct ws_error e;
	int rc = apps_wlan_parse("fuzz.xml", (const char *)data, size, &l, &e);

	if (rc != WS_OK && l.n != 0)
		abort();
	if (rc == WS_OK) {
		const struct apps_wlan *w = &l.v[0];

		if (l.n != 1 || !w->file || !w->profile_name || !w->ssid || !w->authentication ||
		    !w->encryption || !w->connection_mode)
			abort();
		/* a second parse appends */
		if (apps_wlan_parse("again.xml", (const char *)data, size, &l, &e) != WS_OK ||
		    l.n != 2)
			abort();
		apps_wlan_reenter_list(&l, &out);
	}
	ws_buf_release(&out);
	apps_wlan_list_release(&l);
	return 0;
}
