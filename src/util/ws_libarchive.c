/* ws_libarchive.c - libarchive opened by its soname on first use (see
 * ws_libarchive.h). */
#include "util/ws_libarchive.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#ifndef WS_LIBARCHIVE_SONAME
#define WS_LIBARCHIVE_SONAME "libarchive.so.13"
#endif

/* The process's one copy: written once under pthread_once, then only read. */
static pthread_once_t la_once = PTHREAD_ONCE_INIT;
static struct ws_libarchive la_table;
static int la_ok;
static char la_why[256];

static void la_load(void)
{
	void *h = dlopen(WS_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
	const char *missing = NULL;

	if (!h) {
		const char *e = dlerror();
		snprintf(la_why, sizeof(la_why), "%s", e ? e : "cannot be loaded");
		return;
	}
	/* POSIX's way of storing dlsym's object pointer in a function pointer */
#define WS_LIBARCHIVE_SYM(name)                                      \
	if (!missing && !(*(void **)&la_table.name = dlsym(h, #name))) \
		missing = #name;
	WS_LIBARCHIVE_FUNCS(WS_LIBARCHIVE_SYM)
#undef WS_LIBARCHIVE_SYM
	if (missing) {
		snprintf(la_why, sizeof(la_why), "has no function %s", missing);
		dlclose(h);
		return;
	}
	la_ok = 1;
}

int ws_libarchive(const struct ws_libarchive **out, struct ws_error *err)
{
	pthread_once(&la_once, la_load);
	*out = la_ok ? &la_table : NULL;
	if (!la_ok)
		return ws_error_set(err, WS_E_INTERNAL, WS_LIBARCHIVE_SONAME,
				    "cannot load libarchive: %s", la_why);
	return WS_OK;
}

int ws_libarchive_loaded(void)
{
	void *h = dlopen(WS_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_NOLOAD);

	if (!h)
		return 0;
	dlclose(h);
	return 1;
}
