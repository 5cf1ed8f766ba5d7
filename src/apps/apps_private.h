/*
 * apps_private.h - what the files of src/apps/ share and nobody else uses.
 */
#ifndef APPS_PRIVATE_H
#define APPS_PRIVATE_H

#ifndef WS_APPS_INTERNAL
#error "apps_private.h is private to src/apps/ (its files and tests define WS_APPS_INTERNAL)"
#endif

#include "apps/apps.h"

/* Name (not family) of a framework / dependency package? */
int apps_is_framework_name(const char *name);
/* Name of an app Windows provisions by default? */
int apps_is_inbox_name(const char *name);
/* NULL-terminated table of those names. */
const char *const *apps_inbox_table(void);

struct apps_product {
	const char *family;
	const char *product_id;
};
/* The ProductId table, ended by { NULL, NULL }. */
const struct apps_product *apps_product_table(void);

/* Publisher id of Windows' own system apps. */
#define APPS_PUB_WINDOWS "cw5n1h2txyewy"

#endif
