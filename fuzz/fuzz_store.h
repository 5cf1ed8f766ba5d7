/* fuzz_store.h - what the store fuzz targets share: one empty store for
 * the fuzzer's whole run (fz_store_dir), made at its first call in
 * /tmp/wsfuzz-<name>-XXXXXX and removed when the fuzzer exits, so that
 * each input does not pay for making one. */
#ifndef FUZZ_STORE_H
#define FUZZ_STORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/ws_fs.h"

static char *fz_store;

static void fz_store_cleanup(void)
{
	ws_remove_tree(fz_store, NULL);
}

static char *fz_store_dir(const char *name)
{
	if (!fz_store) {
		char tmpl[64];
		struct store_open_opts o = { 0 };
		struct store *st;

		snprintf(tmpl, sizeof(tmpl), "/tmp/wsfuzz-%s-XXXXXX", name);
		fz_store = strdup(mkdtemp(tmpl));
		atexit(fz_store_cleanup);
		o.create = 1;
		if (store_open(fz_store, &o, &st, NULL) != WS_OK)
			abort();
		store_close(st);
	}
	return fz_store;
}

#endif
