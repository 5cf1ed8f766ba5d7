/* fuzz_apps_names.c - package identities: the input is split at newlines
 * into fields, each tried as a PackageFullName, a family name, a version, an
 * architecture, a processor architecture, a publisher and an app record's
 * class; records built from consecutive fields feed the reinstall list.
 * Nothing may crash, hang or leak, and what parses must round-trip. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/apps.h"
#include "util/ws_str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_full(const char *s)
{
	struct apps_id id, fam;
	struct ws_buf b = WS_BUF_INIT;

	if (apps_parse_full_name(s, &id))
		return;
	/* the parts put back together give the name again */
	ws_buf_addf(&b, "%s_%s_%s_%s_%s", id.name, id.version, id.arch, id.resource_id,
		    id.publisher_id);
	if (strcmp(b.buf, s))
		abort();
	ws_buf_reset(&b);
	apps_family_of(&id, &b);
	if (apps_parse_family_name(b.buf, &fam) || strcmp(fam.name, id.name) ||
	    strcmp(fam.publisher_id, id.publisher_id))
		abort();
	if (ws_version_cmp(id.version, id.version, 0) != 0 || !apps_arch_valid(id.arch))
		abort();
	ws_buf_release(&b);
}

static void check_family(const char *s)
{
	struct apps_id id;
	struct ws_buf b = WS_BUF_INIT;

	if (apps_parse_family_name(s, &id))
		return;
	apps_family_of(&id, &b);
	if (strcmp(b.buf, s))
		abort();
	ws_buf_release(&b);
	apps_store_product_id(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *f[64];
	size_t nf = 0;
	struct apps_list l = APPS_LIST_INIT;
	struct ws_buf json = WS_BUF_INIT, cls = WS_BUF_INIT;
	char pub[14];

	memcpy(text, data, size);
	text[size] = 0;
	for (char *p = text; p && nf < 64; nf++) {
		char *nl = strchr(p, '\n');

		f[nf] = p;
		if (nl)
			*nl++ = 0;
		p = nl;
	}
	for (size_t i = 0; i < nf; i++) {
		int c, dep;

		check_full(f[i]);
		check_family(f[i]);
		apps_arch_valid(f[i]);
		apps_arch_from_processor(f[i]);
		apps_publisher_id(f[i], pub);
		if (strlen(pub) != 13)
			abort();
		if (i + 1 < nf) {
			ws_version_cmp(f[i], f[i + 1], 0);
			ws_version_cmp(f[i], f[i + 1], 1);
		}
		if (apps_class_parse(f[i], &c, &dep) == 0 && c >= 0) {
			struct apps_package p = { 0 };

			p.cls = c;
			p.deprovisioned = dep;
			apps_class_name(c);
			ws_buf_reset(&cls);
			apps_class_encode(&p, &cls);
			if (strcmp(cls.buf, f[i]))
				abort();
		}
		/* records: family, full name, class, sid */
		if (i + 3 < nf && l.n < 256 &&
		    apps_list_add_record(&l, f[i], f[i + 1], f[i + 2], f[i + 3]) == 0) {
			const struct apps_package *p = &l.v[l.n - 1];

			if (!p->family_name)
				abort();
			apps_is_reinstallable(p);
		}
	}
	apps_reinstall_json(&l, "2026-01-01T00:00:00Z", &json);
	apps_list_release(&l);
	ws_buf_release(&json);
	ws_buf_release(&cls);
	free(text);
	return 0;
}
