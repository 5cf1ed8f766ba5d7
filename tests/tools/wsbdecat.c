/*
 * wsbdecat.c - test tool (not installed): unlock a BitLocker volume with
 * blockdev/ and print what the tests compare: the SHA-256 of the decrypted
 * stream, the protectors, and what unlocked it.  Exit status = ws_code.
 *
 *   wsbdecat [--offset N] [--password PW] [--recovery-password RP [--id GUID]]
 *            [--startup-key FILE.BEK] [--keys FILE.csv] [--info] [--sha256]
 *            [--read-at OFF:LEN] IMAGE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "blockdev/blockdev.h"

static int usage(void)
{
	fprintf(stderr, "usage: wsbdecat [--offset N] [--password PW] [--recovery-password RP "
		"[--id GUID]] [--startup-key BEK] [--keys CSV] [--info] [--sha256] "
		"[--read-at OFF:LEN] IMAGE\n");
	return WS_E_USAGE;
}

static int report(const struct ws_error *err)
{
	char buf[2300];

	fprintf(stderr, "wsbdecat: %s\n", ws_error_format(err, buf, sizeof(buf)));
	return err->code;
}

int main(int argc, char **argv)
{
	struct ws_error err = { 0 };
	struct bd_keys *keys = bd_keys_new();
	struct bd_source *raw = NULL, *vol = NULL;
	struct bd_bde_info info;
	const char *image = NULL, *read_at = NULL;
	unsigned long long offset = 0;
	int info_flag = 0, sha_flag = 0, rc = WS_OK;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--info")) {
			info_flag = 1;
		} else if (!strcmp(a, "--sha256")) {
			sha_flag = 1;
		} else if (v && !strcmp(a, "--offset")) {
			offset = strtoull(v, NULL, 0), i++;
		} else if (v && !strcmp(a, "--read-at")) {
			read_at = v, i++;
		} else if (v && !strcmp(a, "--password")) {
			rc = bd_keys_add(keys, BD_KEY_PASSWORD, v, NULL, "--password", &err), i++;
		} else if (v && !strcmp(a, "--startup-key")) {
			rc = bd_keys_add(keys, BD_KEY_STARTUP, v, NULL, v, &err), i++;
		} else if (v && !strcmp(a, "--recovery-password")) {
			const char *id = i + 3 < argc && !strcmp(argv[i + 2], "--id") ? argv[i + 3] : NULL;

			rc = bd_keys_add(keys, BD_KEY_RECOVERY, v, id, "--recovery-password", &err);
			i += id ? 3 : 1;
		} else if (v && !strcmp(a, "--keys")) {
			rc = bd_keys_load_csv(keys, v, &err), i++;
		} else if (a[0] != '-' && !image) {
			image = a;
		} else {
			bd_keys_free(keys);
			return usage();
		}
		if (rc)
			goto out;
	}
	if (!image) {
		bd_keys_free(keys);
		return usage();
	}
	if ((rc = bd_file_open(image, offset, 0, &raw, &err)))
		goto out;
	rc = bd_bde_open(raw, keys, &vol, &info, &err);
	if (info_flag) {
		printf("volume {%s}\nmethod %s\n", info.volume_id, bd_bde_method_name(info.method));
		for (int i = 0; i < info.nprotectors; i++) {
			char tb[32];

			printf("protector {%s} %s\n", info.protectors[i].id,
			       bd_bde_protector_name(info.protectors[i].type, tb, sizeof(tb)));
		}
		if (!rc)
			printf("unlocked-by %s%s%s%s\nsize %llu\n", info.unlocked_by,
			       info.unlocked_protector[0] ? " {" : "", info.unlocked_protector,
			       info.unlocked_protector[0] ? "}" : "",
			       (unsigned long long)bd_size(vol));
	}
	if (rc)
		goto out;
	if (read_at) {
		unsigned long long off = strtoull(read_at, NULL, 0), len = 0;
		const char *colon = strchr(read_at, ':');
		char *buf;

		if (colon)
			len = strtoull(colon + 1, NULL, 0);
		if (len > (64u << 20)) {
			rc = usage();
			goto out;
		}
		buf = malloc(len ? len : 1);
		rc = bd_read_at(vol, buf, len, off, &err);
		if (!rc)
			fwrite(buf, 1, len, stdout);
		free(buf);
		if (rc)
			goto out;
	}
	if (sha_flag) {
		crypto_hash_sha256_state st;
		unsigned char h[32];
		size_t chunk = 4u << 20;
		char *buf = malloc(chunk);

		crypto_hash_sha256_init(&st);
		for (uint64_t off = 0; off < bd_size(vol) && !rc; off += chunk) {
			size_t n = bd_size(vol) - off < chunk ? (size_t)(bd_size(vol) - off) : chunk;

			rc = bd_read_at(vol, buf, n, off, &err);
			if (!rc)
				crypto_hash_sha256_update(&st, (unsigned char *)buf, n);
		}
		free(buf);
		if (rc)
			goto out;
		crypto_hash_sha256_final(&st, h);
		for (int i = 0; i < 32; i++)
			printf("%02x", h[i]);
		printf("  %llu\n", (unsigned long long)bd_size(vol));
	}
out:
	if (rc)
		report(&err);
	bd_close(vol);
	bd_close(raw);
	bd_keys_free(keys);
	return rc;
}
