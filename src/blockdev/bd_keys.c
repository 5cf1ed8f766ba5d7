/*
 * bd_keys.c - BitLocker key sets: recovery passwords, passwords, startup key
 * files, and the CSV escrow exports of AD, Intune and MBAM.  Every buffer
 * that held a secret is wiped (sodium_memzero) before it is freed, and no
 * error message quotes a key: they name the file, line and column instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "blockdev_private.h"
#include "util/ws_buf.h"
#include "util/ws_utf.h"

#define CSV_MAX_FIELDS 64
#define CSV_MAX_FILE (64u << 20)

struct bd_keys *bd_keys_new(void)
{
	return ws_xcalloc(1, sizeof(struct bd_keys));
}

void bd_keys_free(struct bd_keys *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++) {
		sodium_memzero(k->v[i].secret, k->v[i].secret_len);
		free(k->v[i].secret);
		free(k->v[i].origin);
		free(k->v[i].computer);
	}
	free(k->v);
	free(k);
}

size_t bd_keys_count(const struct bd_keys *k) { return k ? k->n : 0; }
size_t bd_keys_skipped(const struct bd_keys *k) { return k ? k->skipped : 0; }

int bd_keys_get(const struct bd_keys *k, size_t i, enum bd_key_kind *kind,
		const char **protector_id, const char **origin, const char **computer)
{
	if (!k || i >= k->n)
		return 0;
	if (kind)
		*kind = k->v[i].kind;
	if (protector_id)
		*protector_id = k->v[i].id;
	if (origin)
		*origin = k->v[i].origin;
	if (computer)
		*computer = k->v[i].computer;
	return 1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int bd_guid_find(const char *s, char out[37])
{
	static const int dash[] = { 8, 13, 18, 23 };

	for (; s && *s; s++) {
		int ok = 1;

		for (int i = 0, d = 0; i < 36 && ok; i++) {
			if (d < 4 && i == dash[d]) {
				ok = s[i] == '-';
				d++;
			} else {
				ok = hexval((unsigned char)s[i]) >= 0;
			}
		}
		/* not inside a longer run of hex digits */
		if (ok && hexval((unsigned char)s[36]) < 0) {
			for (int i = 0; i < 36; i++)
				out[i] = (char)((s[i] >= 'A' && s[i] <= 'F') ? s[i] | 0x20 : s[i]);
			out[36] = '\0';
			return 1;
		}
		/* skip the rest of a hex run so "x1234..." does not match in its middle */
		while (hexval((unsigned char)s[0]) >= 0 && hexval((unsigned char)s[1]) >= 0)
			s++;
	}
	return 0;
}

/*
 * 48 digits in 8 groups of 6, dashes or spaces between groups allowed; each
 * group is a multiple of 11 below 720896 (11 * 65536): BitLocker's own check,
 * which catches a mistyped digit.  Writes "dddddd-...-dddddd" into out[56].
 */
static int recovery_normalise(const char *s, char out[56])
{
	int nd = 0;
	long group = 0;

	for (; *s; s++) {
		if (*s == '-' || *s == ' ')
			continue;
		if (*s < '0' || *s > '9' || nd >= 48)
			return 0;
		group = group * 10 + (*s - '0');
		out[nd + nd / 6] = *s;
		nd++;
		if (nd % 6 == 0) {
			if (group % 11 || group >= 720896)
				return 0;
			group = 0;
			if (nd < 48)
				out[nd + nd / 6 - 1] = '-';
		}
	}
	if (nd != 48)
		return 0;
	out[55] = '\0';
	return 1;
}

int bd_keys_add(struct bd_keys *k, enum bd_key_kind kind, const char *secret,
		const char *protector_id, const char *origin, struct ws_error *err)
{
	char norm[56], id[37] = "";
	struct bd_key *key;
	const char *val = secret;

	if (!origin)
		origin = "key";
	if (!secret || !*secret)
		return ws_error_set(err, WS_E_USAGE, origin, "empty key");
	if (protector_id && *protector_id && !bd_guid_find(protector_id, id))
		return ws_error_set(err, WS_E_USAGE, origin,
				    "key protector ID is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
	if (kind == BD_KEY_RECOVERY) {
		if (!recovery_normalise(secret, norm)) {
			sodium_memzero(norm, sizeof(norm));
			return ws_error_set(err, WS_E_USAGE, origin,
					    "not a BitLocker recovery password: expected 48 digits "
					    "in 8 groups of 6, each a multiple of 11");
		}
		val = norm;
	} else if (kind != BD_KEY_PASSWORD && kind != BD_KEY_STARTUP) {
		return ws_error_set(err, WS_E_INTERNAL, origin, "unknown key kind %d", (int)kind);
	}
	WS_ALLOC_GROW(k->v, k->n + 1, k->alloc);
	key = &k->v[k->n++];
	memset(key, 0, sizeof(*key));
	key->kind = kind;
	key->secret_len = strlen(val) + 1;
	key->secret = ws_xmemdup(val, key->secret_len);
	memcpy(key->id, id, sizeof(id));
	key->origin = ws_xstrdup(origin);
	key->computer = ws_xstrdup("");
	sodium_memzero(norm, sizeof(norm));
	return WS_OK;
}

/* ---- CSV ------------------------------------------------------------- */

struct csv {
	const char *p, *end;
	long line;      /* line of the next character */
	char sep;
	char *scratch;  /* field bytes of the current record (input-sized, wiped) */
	size_t nf;
	char *f[CSV_MAX_FIELDS];
};

/* One record into c->f; 1 = record, 0 = end of text, <0 = error (message in err). */
static int csv_record(struct csv *c, const char *path, long *rec_line, struct ws_error *err)
{
	char *w = c->scratch;

	c->nf = 0;
	if (c->p >= c->end)
		return 0;
	*rec_line = c->line;
	for (;;) {
		int quoted = 0;

		if (c->nf == CSV_MAX_FIELDS) {
			ws_error_set(err, WS_E_USAGE, path, "more than %d columns", CSV_MAX_FIELDS);
			ws_error_at(err, *rec_line, 0);
			return -1;
		}
		c->f[c->nf++] = w;
		/* spaces before an opening quote are tolerated (Excel, hand edits) */
		{
			const char *q = c->p;

			while (q < c->end && *q == ' ')
				q++;
			if (q < c->end && *q == '"') {
				quoted = 1;
				c->p = q + 1;
			}
		}
		while (c->p < c->end) {
			char ch = *c->p;

			if (quoted) {
				if (ch == '"') {
					if (c->p + 1 < c->end && c->p[1] == '"') {
						*w++ = '"';
						c->p += 2;
						continue;
					}
					quoted = 0;
					c->p++;
					continue;
				}
				if (ch == '\n')
					c->line++;
				*w++ = ch;
				c->p++;
				continue;
			}
			if (ch == c->sep || ch == '\n' || ch == '\r')
				break;
			*w++ = ch;
			c->p++;
		}
		if (quoted) {
			ws_error_set(err, WS_E_USAGE, path, "a quoted field is not closed");
			ws_error_at(err, *rec_line, 0);
			return -1;
		}
		*w++ = '\0';
		if (c->p < c->end && *c->p == c->sep) {
			c->p++;
			continue;
		}
		/* end of record: CRLF, LF or a lone CR */
		if (c->p < c->end && *c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p == '\n')
			c->p++;
		c->line++;
		return 1;
	}
}

/* Header name without case, spaces, '-', '_', '.' and quotes: "BitLocker Key ID" -> "bitlockerkeyid". */
static void header_norm(const char *s, char *out, size_t n)
{
	size_t o = 0;

	for (; *s && o + 1 < n; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 'A' && ch <= 'Z')
			out[o++] = (char)(ch | 0x20);
		else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			out[o++] = (char)ch;
	}
	out[o] = '\0';
}

/* Accepted column names, best first (normalised as header_norm does). */
static const char *const id_cols[] = {
	"keyprotectorid", "protectorid", "recoverypasswordid", "passwordid", "recoverykeyid",
	"bitlockerrecoverykeyid", "bitlockerkeyid", "keyid", "msfverecoveryguid", "recoveryguid",
	"keyidentifier", "recoveryid", "guid", "id", NULL
};
/* AD object names carry the ID as "<date>{GUID}": used when no ID column exists. */
static const char *const id_fallback_cols[] = { "name", "cn", "distinguishedname", NULL };
static const char *const rp_cols[] = {
	"recoverypassword", "msfverecoverypassword", "bitlockerrecoverypassword", "recoverykey",
	"bitlockerrecoverykey", "numericalpassword", "bitlockerkey", "key", "password", NULL
};
static const char *const pc_cols[] = {
	"computername", "computer", "devicename", "device", "hostname", "machinename",
	"dnshostname", "name", NULL
};

/* First column named as in `names` (best first) that is none of the avoided ones. */
static int find_col(char norm[][64], size_t nf, const char *const *names, int avoid1, int avoid2,
		    int avoid3)
{
	for (size_t n = 0; names[n]; n++)
		for (size_t i = 0; i < nf; i++)
			if ((int)i != avoid1 && (int)i != avoid2 && (int)i != avoid3 &&
			    !strcmp(norm[i], names[n]))
				return (int)i;
	return -1;
}

static char pick_separator(const char *p, const char *end)
{
	size_t comma = 0, semi = 0, tab = 0;
	int quoted = 0;

	for (; p < end && (quoted || (*p != '\n' && *p != '\r')); p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == ',')
			comma++;
		else if (!quoted && *p == ';')
			semi++;
		else if (!quoted && *p == '\t')
			tab++;
	}
	if (semi > comma && semi >= tab)
		return ';';
	if (tab > comma && tab > semi)
		return '\t';
	return ',';
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

int bd_keys_parse_csv(struct bd_keys *k, const char *path, const char *text,
		      size_t len, struct ws_error *err)
{
	struct csv c = { 0 };
	char norm[CSV_MAX_FIELDS][64];
	int id_col, id_fb_col, rp_col, pc_col, r, rc = WS_OK;
	long line = 0;
	size_t nhead, scratch_len = len + CSV_MAX_FIELDS + 1;

	if (!path)
		path = "keys.csv";
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
		text += 3;
		len -= 3;
	}
	if (memchr(text, '\0', len) || !ws_utf8_valid(text, len))
		return ws_error_set(err, WS_E_USAGE, path,
				    "not UTF-8 text (save the export as CSV UTF-8)");
	c.p = text;
	c.end = text + len;
	c.line = 1;
	c.sep = pick_separator(text, c.end);
	c.scratch = ws_xmalloc(scratch_len);

	/* header: the first non-empty record */
	do {
		r = csv_record(&c, path, &line, err);
	} while (r == 1 && c.nf == 1 && !*trim(c.f[0]));
	if (r < 0) {
		rc = WS_E_USAGE;
		goto out;
	}
	if (r == 0) {
		rc = ws_error_set(err, WS_E_USAGE, path, "empty: expected a header row "
				  "(key protector ID, recovery password, computer name)");
		goto out;
	}
	nhead = c.nf;
	for (size_t i = 0; i < nhead; i++)
		header_norm(c.f[i], norm[i], sizeof(norm[i]));
	id_col = find_col(norm, nhead, id_cols, -1, -1, -1);
	rp_col = find_col(norm, nhead, rp_cols, id_col, -1, -1);
	/* AD's object name holds the ID too: used when there is no ID column,
	 * or when the ID cell has none (msFVE-RecoveryGuid exported as "System.Byte[]") */
	id_fb_col = find_col(norm, nhead, id_fallback_cols, rp_col, id_col, -1);
	if (id_col < 0) {
		id_col = id_fb_col;
		id_fb_col = -1;
	}
	pc_col = find_col(norm, nhead, pc_cols, id_col, rp_col, id_fb_col);
	if (id_col < 0 || rp_col < 0) {
		rc = ws_error_set(err, WS_E_USAGE, path,
				  "the header row has no %s column (accepted: %s)",
				  id_col < 0 ? "key protector ID" : "recovery password",
				  id_col < 0 ? "KeyProtectorId, Password ID, RecoveryKeyId, "
					       "BitLocker Key ID, KeyId, Id, or an AD Name/"
					       "DistinguishedName holding {GUID}"
					     : "RecoveryPassword, msFVE-RecoveryPassword, "
					       "Recovery Key, BitLocker Recovery Key, Key, Password");
		ws_error_at(err, line, 0);
		goto out;
	}

	while ((r = csv_record(&c, path, &line, err)) == 1) {
		char id[37], origin[1100];
		char *rp, *idf;

		if (c.nf == 1 && !*trim(c.f[0]))
			continue; /* empty line */
		rp = (size_t)rp_col < c.nf ? trim(c.f[rp_col]) : (char *)"";
		idf = (size_t)id_col < c.nf ? trim(c.f[id_col]) : (char *)"";
		if (!*rp) {
			k->skipped++; /* escrow entry without a readable password */
			continue;
		}
		if (!bd_guid_find(idf, id) && (id_fb_col < 0 || (size_t)id_fb_col >= c.nf ||
						!bd_guid_find(c.f[id_fb_col], id))) {
			rc = ws_error_set(err, WS_E_USAGE, path,
					  "no key protector GUID in column %d", id_col + 1);
			ws_error_at(err, line, id_col + 1);
			goto out;
		}
		snprintf(origin, sizeof(origin), "%s:%ld", path, line);
		if (bd_keys_add(k, BD_KEY_RECOVERY, rp, id, origin, NULL) != WS_OK) {
			rc = ws_error_set(err, WS_E_USAGE, path,
					  "column %d is not a BitLocker recovery password "
					  "(48 digits in 8 groups of 6, each a multiple of 11)",
					  rp_col + 1);
			ws_error_at(err, line, rp_col + 1);
			goto out;
		}
		if (pc_col >= 0 && (size_t)pc_col < c.nf) {
			free(k->v[k->n - 1].computer);
			k->v[k->n - 1].computer = ws_xstrndup(trim(c.f[pc_col]), 255);
		}
	}
	if (r < 0)
		rc = WS_E_USAGE;
out:
	sodium_memzero(c.scratch, scratch_len);
	free(c.scratch);
	return rc;
}

int bd_keys_load_csv(struct bd_keys *k, const char *path, struct ws_error *err)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int rc, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ws_error_set_errno(err, WS_E_USAGE, errno, path, "cannot open the key file");
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > CSV_MAX_FILE) {
		close(fd);
		return ws_error_set(err, WS_E_USAGE, path,
				    "not a regular file of at most 64 MiB");
	}
	/* one allocation of the final size: no realloc leaves key copies behind */
	buf = ws_xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	rc = bd_keys_parse_csv(k, path, buf, got, err);
	sodium_memzero(buf, (size_t)st.st_size + 1);
	free(buf);
	return rc;
}
