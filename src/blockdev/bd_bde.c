/*
 * bd_bde.c - BitLocker volumes decrypted in-process with libbde.
 *
 * libbde reads through a libbfio handle; ours forwards to a bd_source, so a
 * BitLocker partition inside a disk image (or a memory buffer, for the
 * fuzzer) needs no loop device.  libbde takes its keys before opening and
 * has no unlock-after-open, so every key is one open: first without keys
 * (metadata, protectors, clear key), then one open per candidate key.  Only
 * keys that fit one of the volume's protectors are tried: a recovery
 * password tried costs a 2^20-round SHA-256 stretch, so a CSV of thousands
 * of keys is matched by protector GUID instead of tried.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libbde.h>
#include <libbfio.h>

#include "blockdev_private.h"
#include "util/ws_buf.h"

/* ---- libbfio handle over a bd_source -------------------------------- */

/* libbde reads one sector at a time: a read-ahead window turns 200,000
 * 512-byte reads per 100 MiB into 100 reads of 1 MiB. */
#define BIO_WINDOW (1u << 20)

struct bio {
	struct bd_source *src;
	uint64_t off;
	int open;
	struct ws_error *lower_err; /* where a failed read of `src` is recorded, may be NULL */
	uint8_t *win;               /* read-ahead window (lazily allocated), never shared */
	uint64_t win_off;
	size_t win_len;
};

static int bio_free(intptr_t **h, libbfio_error_t **e)
{
	(void)e;
	if (h && *h) {
		free(((struct bio *)*h)->win);
		free(*h);
		*h = NULL;
	}
	return 1;
}

static int bio_clone(intptr_t **dst, intptr_t *src, libbfio_error_t **e)
{
	struct bio *b;

	(void)e;
	if (!dst)
		return -1;
	if (!src) {
		*dst = NULL;
		return 1;
	}
	b = ws_xmemdup(src, sizeof(struct bio));
	b->off = 0;
	b->open = 0;
	b->win = NULL;
	b->win_len = 0;
	*dst = (intptr_t *)b;
	return 1;
}

static int bio_open(intptr_t *h, int flags, libbfio_error_t **e)
{
	(void)e;
	if (flags & LIBBFIO_ACCESS_FLAG_WRITE)
		return -1; /* never written */
	((struct bio *)h)->open = 1;
	return 1;
}

static int bio_close(intptr_t *h, libbfio_error_t **e)
{
	(void)e;
	((struct bio *)h)->open = 0;
	return 0;
}

static ssize_t bio_read(intptr_t *h, uint8_t *buf, size_t n, libbfio_error_t **e)
{
	struct bio *b = (struct bio *)h;
	uint64_t left;

	(void)e;
	if (b->off >= b->src->size)
		return 0;
	left = b->src->size - b->off;
	if (n > left)
		n = (size_t)left;
	if (n >= BIO_WINDOW) {
		if (bd_read_at(b->src, buf, n, b->off, b->lower_err) != WS_OK)
			return -1;
	} else {
		if (b->off < b->win_off || b->off + n > b->win_off + b->win_len) {
			size_t w = left < BIO_WINDOW ? (size_t)left : BIO_WINDOW;

			if (!b->win)
				b->win = ws_xmalloc(BIO_WINDOW);
			b->win_len = 0;
			if (bd_read_at(b->src, b->win, w, b->off, b->lower_err) != WS_OK)
				return -1;
			b->win_off = b->off;
			b->win_len = w;
		}
		memcpy(buf, b->win + (b->off - b->win_off), n);
	}
	b->off += n;
	return (ssize_t)n;
}

static ssize_t bio_write(intptr_t *h, const uint8_t *buf, size_t n, libbfio_error_t **e)
{
	(void)h; (void)buf; (void)n; (void)e;
	return -1;
}

static off64_t bio_seek(intptr_t *h, off64_t off, int whence, libbfio_error_t **e)
{
	struct bio *b = (struct bio *)h;
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)b->off
		     : whence == SEEK_END ? (int64_t)b->src->size : -1;

	(void)e;
	if (base < 0 || (off < 0 && -off > base) || (off > 0 && off > INT64_MAX - base))
		return -1;
	b->off = (uint64_t)(base + off);
	return (off64_t)b->off;
}

static int bio_exists(intptr_t *h, libbfio_error_t **e) { (void)h; (void)e; return 1; }
static int bio_is_open(intptr_t *h, libbfio_error_t **e) { (void)e; return ((struct bio *)h)->open; }

static int bio_size(intptr_t *h, size64_t *size, libbfio_error_t **e)
{
	(void)e;
	*size = ((struct bio *)h)->src->size;
	return 1;
}

static libbfio_handle_t *bio_new(struct bd_source *src, struct ws_error *lower_err)
{
	libbfio_handle_t *h = NULL;
	struct bio *b = ws_xcalloc(1, sizeof(*b));

	b->src = src;
	b->lower_err = lower_err;
	if (libbfio_handle_initialize(&h, (intptr_t *)b, bio_free, bio_clone, bio_open,
				      bio_close, bio_read, bio_write, bio_seek, bio_exists,
				      bio_is_open, bio_size, LIBBFIO_FLAG_IO_HANDLE_MANAGED,
				      NULL) != 1) {
		free(b);
		return NULL;
	}
	return h;
}

/* ---- names ---------------------------------------------------------- */

const char *bd_bde_method_name(uint16_t method)
{
	switch (method) {
	case LIBBDE_ENCRYPTION_METHOD_AES_128_CBC_DIFFUSER: return "AES-CBC 128-bit with diffuser";
	case LIBBDE_ENCRYPTION_METHOD_AES_256_CBC_DIFFUSER: return "AES-CBC 256-bit with diffuser";
	case LIBBDE_ENCRYPTION_METHOD_AES_128_CBC: return "AES-CBC 128-bit";
	case LIBBDE_ENCRYPTION_METHOD_AES_256_CBC: return "AES-CBC 256-bit";
	case LIBBDE_ENCRYPTION_METHOD_AES_128_XTS: return "AES-XTS 128-bit";
	case LIBBDE_ENCRYPTION_METHOD_AES_256_XTS: return "AES-XTS 256-bit";
	default: return "unknown encryption method";
	}
}

const char *bd_bde_protector_name(uint16_t type, char *buf, size_t n)
{
	switch (type) {
	case BD_PROT_CLEAR_KEY: return "clear key";
	case BD_PROT_TPM: return "TPM";
	case BD_PROT_STARTUP_KEY: return "startup key";
	case BD_PROT_TPM_PIN: return "TPM and PIN";
	case BD_PROT_RECOVERY_PASSWORD: return "recovery password";
	case BD_PROT_PASSWORD: return "password";
	default:
		snprintf(buf, n, "type 0x%04x", type);
		return buf;
	}
}

const char *bd_bde_libversion(void)
{
	return libbde_get_version();
}

/* The innermost libbde message (the cause), without its function name. */
static void bde_reason(libbde_error_t **e, char *out, size_t n)
{
	char full[2048], *nl, *colon;

	snprintf(out, n, "unknown libbde error");
	if (!e || !*e)
		return;
	if (libbde_error_backtrace_sprint(*e, full, sizeof(full)) > 0) {
		full[sizeof(full) - 1] = '\0';
		if ((nl = strchr(full, '\n')))
			*nl = '\0';
		colon = strstr(full, ": ");
		snprintf(out, n, "%s", colon ? colon + 2 : full);
		if ((nl = strrchr(out, '.')) && !nl[1])
			*nl = '\0';
	}
	libbde_error_free(e);
}

static void guid_format(const uint8_t g[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11],
		 g[12], g[13], g[14], g[15]);
}

int bd_bde_probe(struct bd_source *lower, struct ws_error *err)
{
	struct ws_error lerr = { 0 };
	libbfio_handle_t *h = bio_new(lower, &lerr);
	libbde_error_t *e = NULL;
	int r;

	if (!h)
		return -ws_error_set(err, WS_E_INTERNAL, lower->name, "libbfio handle");
	r = libbde_check_volume_signature_file_io_handle(h, &e);
	libbde_error_free(&e);
	libbfio_handle_free(&h, NULL);
	if (lerr.code) {
		if (err)
			*err = lerr;
		return -lerr.code;
	}
	return r == 1;
}

/* ---- opening -------------------------------------------------------- */

struct attempt {
	libbde_volume_t *vol;
	libbfio_handle_t *h;
};

static void attempt_close(struct attempt *a)
{
	if (a->vol) {
		libbde_volume_close(a->vol, NULL);
		libbde_volume_free(&a->vol, NULL);
	}
	if (a->h)
		libbfio_handle_free(&a->h, NULL);
}

/*
 * One libbde open with at most one key.  1 = unlocked, 0 = still locked,
 * -1 = libbde cannot open the volume (reason in `why`), -2 = the key itself
 * could not be loaded (startup key file; reason in `why`).
 */
static int attempt_open(struct attempt *a, struct bd_source *lower, const struct bd_key *key,
			struct ws_error *lower_err, char *why, size_t whyn)
{
	libbde_error_t *e = NULL;
	int r = 1;

	memset(a, 0, sizeof(*a));
	if (!(a->h = bio_new(lower, lower_err)) || libbde_volume_initialize(&a->vol, &e) != 1) {
		bde_reason(&e, why, whyn);
		return -1;
	}
	if (key && key->kind == BD_KEY_RECOVERY)
		r = libbde_volume_set_utf8_recovery_password(a->vol, (const uint8_t *)key->secret,
							     key->secret_len - 1, &e);
	else if (key && key->kind == BD_KEY_PASSWORD)
		r = libbde_volume_set_utf8_password(a->vol, (const uint8_t *)key->secret,
						    key->secret_len - 1, &e);
	else if (key && key->kind == BD_KEY_STARTUP)
		r = libbde_volume_read_startup_key(a->vol, key->secret, &e);
	if (r != 1) {
		bde_reason(&e, why, whyn);
		return key && key->kind == BD_KEY_STARTUP ? -2 : 0;
	}
	r = libbde_volume_open_file_io_handle(a->vol, a->h, LIBBDE_OPEN_READ, &e);
	if (r < 0) {
		bde_reason(&e, why, whyn);
		/* a failed open leaves nothing to close */
		libbde_volume_free(&a->vol, NULL);
		return -1;
	}
	libbde_error_free(&e);
	if (r == 0 || libbde_volume_is_locked(a->vol, NULL) != 0)
		return 0;
	return 1;
}

static void read_info(libbde_volume_t *vol, struct bd_bde_info *info)
{
	uint8_t g[16];
	int n = 0;

	if (libbde_volume_get_volume_identifier(vol, g, sizeof(g), NULL) == 1)
		guid_format(g, info->volume_id);
	libbde_volume_get_encryption_method(vol, &info->method, NULL);
	if (libbde_volume_get_number_of_key_protectors(vol, &n, NULL) != 1)
		n = 0;
	info->nprotectors = 0;
	for (int i = 0; i < n && info->nprotectors < BD_BDE_MAX_PROTECTORS; i++) {
		libbde_key_protector_t *kp = NULL;
		uint16_t type = 0;

		if (libbde_volume_get_key_protector(vol, i, &kp, NULL) != 1)
			continue;
		if (libbde_key_protector_get_identifier(kp, g, sizeof(g), NULL) == 1 &&
		    libbde_key_protector_get_type(kp, &type, NULL) == 1) {
			guid_format(g, info->protectors[info->nprotectors].id);
			info->protectors[info->nprotectors].type = type;
			info->nprotectors++;
		}
		libbde_key_protector_free(&kp, NULL);
	}
}

static int has_protector(const struct bd_bde_info *info, uint16_t type, const char *id)
{
	for (int i = 0; i < info->nprotectors; i++)
		if (info->protectors[i].type == type &&
		    (!id || !strcmp(info->protectors[i].id, id)))
			return 1;
	return 0;
}

/* Index of the first recovery-password protector (libbde 20190102 tries no other). */
static int first_recovery(const struct bd_bde_info *info)
{
	for (int i = 0; i < info->nprotectors; i++)
		if (info->protectors[i].type == BD_PROT_RECOVERY_PASSWORD)
			return i;
	return -1;
}

/* ---- the decrypted source ------------------------------------------- */

struct bde_impl {
	struct attempt a;
	pthread_mutex_t mu;
	struct ws_error lower_err;
};

static int bde_read_at(struct bd_source *s, void *buf, size_t n, uint64_t off,
		       struct ws_error *err)
{
	struct bde_impl *b = s->impl;
	char *p = buf;
	int rc = WS_OK;

	pthread_mutex_lock(&b->mu);
	while (n) {
		libbde_error_t *e = NULL;
		ssize_t r;

		ws_error_clear(&b->lower_err);
		r = libbde_volume_read_buffer_at_offset(b->a.vol, p, n, (off64_t)off, &e);
		if (r <= 0) {
			char why[512];

			bde_reason(&e, why, sizeof(why));
			if (b->lower_err.code) {
				if (err)
					*err = b->lower_err;
				rc = b->lower_err.code;
			} else {
				rc = ws_error_set(err, WS_E_IO, s->name,
						  "cannot decrypt %zu bytes at offset %llu: libbde: %s",
						  n, (unsigned long long)off, r == 0 ? "no data" : why);
			}
			break;
		}
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	pthread_mutex_unlock(&b->mu);
	return rc;
}

static void bde_close(struct bd_source *s)
{
	struct bde_impl *b = s->impl;

	attempt_close(&b->a);
	pthread_mutex_destroy(&b->mu);
	free(b);
}

static const struct bd_source_ops bde_ops = { bde_read_at, bde_close };

static int finish(struct bd_source *lower, struct bde_impl *b, struct bd_source **out,
		  struct ws_error *err)
{
	struct bd_source *s;
	size64_t size = 0;

	if (libbde_volume_get_size(b->a.vol, &size, NULL) != 1) {
		attempt_close(&b->a);
		free(b);
		return ws_error_set(err, WS_E_UNSUPPORTED, lower->name,
				    "BitLocker volume unlocked but libbde gives no size");
	}
	pthread_mutex_init(&b->mu, NULL);
	s = ws_xcalloc(1, sizeof(*s));
	s->ops = &bde_ops;
	s->impl = b;
	s->size = size;
	snprintf(s->name, sizeof(s->name), "%.490s (BitLocker)", lower->name);
	*out = s;
	return WS_OK;
}

/* "{id} (type), {id} (type)" of the protectors, for the locked message. */
static void list_protectors(const struct bd_bde_info *info, char *out, size_t n)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < info->nprotectors && o + 1 < n; i++) {
		char tb[32];
		int w = snprintf(out + o, n - o, "%s{%s} (%s)", i ? ", " : "", info->protectors[i].id,
				 bd_bde_protector_name(info->protectors[i].type, tb, sizeof(tb)));

		if (w < 0)
			break;
		o += (size_t)w;
	}
	if (!info->nprotectors)
		snprintf(out, n, "none readable");
}

int bd_bde_open(struct bd_source *lower, const struct bd_keys *keys,
		struct bd_source **out, struct bd_bde_info *info_out,
		struct ws_error *err)
{
	struct bd_bde_info info_local, *info = info_out ? info_out : &info_local;
	struct bde_impl *b = ws_xcalloc(1, sizeof(*b));
	char why[512], note[640] = "";
	size_t nkeys = keys ? keys->n : 0, tried = 0;
	int r, rc;

	*out = NULL;
	memset(info, 0, sizeof(*info));

	/* 1. no key: metadata and protectors; a clear key (suspended protection) unlocks here */
	r = attempt_open(&b->a, lower, NULL, &b->lower_err, why, sizeof(why));
	if (b->lower_err.code) {
		attempt_close(&b->a);
		rc = b->lower_err.code;
		if (err)
			*err = b->lower_err;
		free(b);
		return rc;
	}
	if (r < 0) {
		attempt_close(&b->a);
		free(b);
		return ws_error_set(err, WS_E_UNSUPPORTED, lower->name,
				    "not a BitLocker volume libbde %s can open: %s",
				    libbde_get_version(), why);
	}
	read_info(b->a.vol, info);
	if (r == 1) {
		snprintf(info->unlocked_by, sizeof(info->unlocked_by), "clear key");
		return finish(lower, b, out, err);
	}
	attempt_close(&b->a);

	/* 2. the keys, in order: matched recovery passwords, startup keys, passwords, unmatched recovery passwords */
	for (int pass = 0; pass < 4; pass++) {
		for (size_t i = 0; i < nkeys; i++) {
			const struct bd_key *k = &keys->v[i];
			int use = 0;

			switch (pass) {
			case 0: use = k->kind == BD_KEY_RECOVERY && k->id[0] &&
				      has_protector(info, BD_PROT_RECOVERY_PASSWORD, k->id); break;
			case 1: use = k->kind == BD_KEY_STARTUP &&
				      has_protector(info, BD_PROT_STARTUP_KEY, NULL); break;
			case 2: use = k->kind == BD_KEY_PASSWORD &&
				      has_protector(info, BD_PROT_PASSWORD, NULL); break;
			case 3: use = k->kind == BD_KEY_RECOVERY && !k->id[0] &&
				      has_protector(info, BD_PROT_RECOVERY_PASSWORD, NULL); break;
			}
			if (!use)
				continue;
			tried++;
			r = attempt_open(&b->a, lower, k, &b->lower_err, why, sizeof(why));
			if (b->lower_err.code) {
				attempt_close(&b->a);
				rc = b->lower_err.code;
				if (err)
					*err = b->lower_err;
				free(b);
				return rc;
			}
			if (r == 1) {
				snprintf(info->unlocked_by, sizeof(info->unlocked_by), "%s", k->origin);
				snprintf(info->unlocked_protector, sizeof(info->unlocked_protector),
					 "%s", pass == 0 ? k->id : "");
				return finish(lower, b, out, err);
			}
			attempt_close(&b->a);
			if (r == -2) {
				free(b);
				return ws_error_set(err, WS_E_IO, k->origin,
						    "cannot read the startup key file: libbde: %s", why);
			}
			if (r == -1 && info->method == LIBBDE_ENCRYPTION_METHOD_AES_256_XTS) {
				free(b);
				return ws_error_set(err, WS_E_UNSUPPORTED, lower->name,
						    "BitLocker volume {%s} is encrypted with %s, which "
						    "libbde %s cannot decrypt (%s)", info->volume_id,
						    bd_bde_method_name(info->method),
						    libbde_get_version(), why);
			}
			if (r == -1 && k->kind == BD_KEY_STARTUP) {
				/* the volume opened without keys: a .BEK libbde rejects
				 * holds no key of this volume */
				if (!note[0])
					snprintf(note, sizeof(note),
						 "; the startup key %.300s is not one of this volume's "
						 "(libbde: %.200s)", k->origin, why);
				continue;
			}
			if (r == -1) {
				free(b);
				return ws_error_set(err, WS_E_UNSUPPORTED, lower->name,
						    "BitLocker volume {%s}: libbde %s cannot open it "
						    "with the key from %s: %s", info->volume_id,
						    libbde_get_version(), k->origin, why);
			}
			/* a matched key that fails: say which, and libbde's one-protector limit */
			if (pass == 0 && !note[0]) {
				int fr = first_recovery(info);

				if (fr >= 0 && strcmp(info->protectors[fr].id, k->id))
					snprintf(note, sizeof(note),
						 "; the recovery password from %.300s is for protector "
						 "{%s}, but libbde %s only tries the first recovery-password "
						 "protector {%s}", k->origin, k->id, libbde_get_version(),
						 info->protectors[fr].id);
				else
					snprintf(note, sizeof(note),
						 "; the recovery password from %.300s for protector {%s} "
						 "is wrong", k->origin, k->id);
			}
		}
	}
	free(b);
	{
		char plist[700];

		list_protectors(info, plist, sizeof(plist));
		return ws_error_set(err, WS_E_BDE_LOCKED, lower->name,
				    "BitLocker volume {%s} stays locked: %s (%zu of %zu given keys "
				    "fit its protectors); look up the key for protector %s%s",
				    info->volume_id, tried ? "no key given unlocks it"
				    : "no key given fits it", tried, nkeys, plist, note);
	}
}
