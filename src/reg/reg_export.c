/*
 * reg_export.c - regedit ".reg" text writer (Version 5.00 format): key
 * sections with ancestor headers, lossless value encoding, UTF-16LE/CRLF
 * output for Windows and UTF-8/LF output for hivexregedit.
 */
#include "reg/reg_export.h"

#include <stdlib.h>
#include <string.h>

#include "util/ws_fs.h"
#include "util/ws_utf.h"

#define HEADER "Windows Registry Editor Version 5.00\n"
#define WRAP_COLUMN 76

void reg_export_init(struct reg_export *x)
{
	memset(x, 0, sizeof(*x));
	ws_buf_init(&x->text);
	ws_buf_adds(&x->text, HEADER);
}

void reg_export_release(struct reg_export *x)
{
	ws_strset_release(&x->seen);
	free(x->last_key);
	ws_buf_release(&x->text);
	memset(x, 0, sizeof(*x));
	ws_buf_init(&x->text);
}

/* Mark a key (case-insensitively); returns 1 if it was new. */
static int mark_seen(struct reg_export *x, const char *key)
{
	struct ws_buf up = WS_BUF_INIT;
	int added;

	ws_name_upper(key, &up);
	added = ws_strset_add(&x->seen, up.buf);
	ws_buf_release(&up);
	return added;
}

static int bad_text(const char *s, size_t len)
{
	struct ws_buf u = WS_BUF_INIT;
	int bad = ws_utf8_to_utf16le(s, len, &u) != 0 ||
		  memchr(s, '\n', len) || memchr(s, '\r', len);

	ws_buf_release(&u);
	return bad;
}

/* Full root name of a live root, NULL if unknown. */
static const char *long_root(const char *s, size_t len)
{
	static const char *const map[][2] = {
		{ "HKCU", "HKEY_CURRENT_USER" }, { "HKLM", "HKEY_LOCAL_MACHINE" },
		{ "HKCR", "HKEY_CLASSES_ROOT" }, { "HKU", "HKEY_USERS" },
		{ "HKCC", "HKEY_CURRENT_CONFIG" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		for (int j = 0; j < 2; j++)
			if (ws_name_ncasecmp(s, len, map[i][j],
					     strlen(map[i][j])) == 0)
				return map[i][1];
	return NULL;
}

/* Normalise "hkcu\\a\\\\b\\" to "HKEY_CURRENT_USER\\a\\b"; ends[] get the
 * length of each prefix (ends[0] = root only). */
static int normalise_key(const char *path, struct ws_buf *out, size_t *ends,
			 size_t maxc, size_t *nc, struct ws_error *err)
{
	const char *p = path, *e;
	const char *root = NULL;

	*nc = 0;
	while (*p) {
		while (*p == '\\')
			p++;
		if (!*p)
			break;
		e = strchr(p, '\\');
		if (!e)
			e = p + strlen(p);
		if (!root) {
			root = long_root(p, (size_t)(e - p));
			if (!root)
				return ws_error_set(err, WS_E_UNSUPPORTED, path,
						    "unknown registry root");
			ws_buf_adds(out, root);
		} else {
			/* a ']' inside or ending a name is fine: importers end
			 * the header at the line's last ']' */
			if (bad_text(p, (size_t)(e - p)))
				return ws_error_set(err, WS_E_UNSUPPORTED, path,
						    "key name cannot be written "
						    "to a .reg file");
			ws_buf_addch(out, '\\');
			ws_buf_add(out, p, (size_t)(e - p));
		}
		if (*nc == maxc)
			return ws_error_set(err, WS_E_UNSUPPORTED, path,
					    "registry path nested too deeply");
		ends[(*nc)++] = out->len;
		p = e;
	}
	if (!root)
		return ws_error_set(err, WS_E_UNSUPPORTED, path,
				    "empty registry path");
	return WS_OK;
}

static void add_quoted(struct ws_buf *b, const char *s, size_t len)
{
	ws_buf_addch(b, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' || s[i] == '"')
			ws_buf_addch(b, '\\');
		ws_buf_addch(b, s[i]);
	}
	ws_buf_addch(b, '"');
}

/* REG_SZ data that "text" reproduces exactly, as UTF-8 in out. */
static int plain_string(const struct reg_value *v, struct ws_buf *out)
{
	const unsigned char *d = v->data;

	if (v->len < 2 || v->len % 2 || d[v->len - 1] || d[v->len - 2])
		return 0;
	for (size_t i = 0; i + 2 < v->len; i += 2) {
		unsigned u = d[i] | (unsigned)d[i + 1] << 8;

		if (u == 0 || u == '\n' || u == '\r')
			return 0;
	}
	return ws_utf16le_to_utf8(d, v->len - 2, out, 0) == 0;
}

static int string_type(uint32_t type)
{
	return type == REG_SZ || type == REG_EXPAND_SZ || type == REG_MULTI_SZ;
}

/* reg import ends hex(1)/hex(2)/hex(7) data with a NUL UTF-16 unit unless
 * its last whole unit is one (it looks at units only, so an odd last byte
 * would be overwritten): 1 when a NUL byte is written after the data to
 * keep every byte. */
static size_t odd_pad(const struct reg_value *v)
{
	size_t u = v->len / 2 * 2;

	if (!string_type(v->type) || v->len % 2 == 0)
		return 0;
	return u == 0 || v->data[u - 1] || v->data[u - 2];
}

size_t reg_export_import_growth(const struct reg_value *v)
{
	size_t u = v->len / 2 * 2;

	if (!string_type(v->type) || v->len == 0)
		return 0;
	if (odd_pad(v))   /* written unit: the odd byte and the pad */
		return v->data[v->len - 1] ? 3 : 1;
	return v->data[u - 1] | v->data[u - 2] ? 2 : 0;
}

static void add_hex(struct ws_buf *b, const struct reg_value *v, size_t col)
{
	size_t n = v->len + odd_pad(v);

	if (v->type == REG_BINARY)
		ws_buf_adds(b, "hex:");
	else
		ws_buf_addf(b, "hex(%x):", (unsigned)v->type);
	col += v->type == REG_BINARY ? 4 : 7;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = i < v->len ? v->data[i] : 0;

		ws_buf_add_hex(b, &c, 1);
		col += 2;
		if (i + 1 < n) {
			ws_buf_addch(b, ',');
			col++;
			if (col > WRAP_COLUMN) {
				ws_buf_adds(b, "\\\n  ");
				col = 2;
			}
		}
	}
}

static void add_value(struct ws_buf *b, const struct reg_value *v)
{
	struct ws_buf s = WS_BUF_INIT;
	size_t start = b->len;

	if (!v->name || !*v->name)
		ws_buf_addch(b, '@');
	else
		add_quoted(b, v->name, strlen(v->name));
	ws_buf_addch(b, '=');
	if (v->type == REG_SZ && plain_string(v, &s))
		add_quoted(b, s.buf, s.len);
	else if (v->type == REG_DWORD && v->len == 4)
		ws_buf_addf(b, "dword:%02x%02x%02x%02x", v->data[3], v->data[2],
			    v->data[1], v->data[0]);
	else
		add_hex(b, v, b->len - start);
	ws_buf_addch(b, '\n');
	ws_buf_release(&s);
}

int reg_export_add(struct reg_export *x, const char *keypath,
		   const struct reg_value *v, struct ws_error *err)
{
	struct ws_buf key = WS_BUF_INIT;
	size_t ends[600], nc, first;
	int rc;

	rc = normalise_key(keypath, &key, ends, 600, &nc, err);
	if (!rc && v && v->name && bad_text(v->name, strlen(v->name)))
		rc = ws_error_set(err, WS_E_UNSUPPORTED, keypath,
				  "value name '%s' cannot be written to a .reg "
				  "file", v->name);
	if (rc) {
		ws_buf_release(&key);
		return rc;
	}
	if (!x->last_key || strcmp(x->last_key, key.buf) != 0) {
		/* below HKLM and HKU the first level are hives: never create */
		first = strncmp(key.buf, "HKEY_LOCAL_MACHINE", ends[0]) == 0 ||
				strncmp(key.buf, "HKEY_USERS", ends[0]) == 0 ? 2 : 1;
		for (size_t i = first; i + 1 < nc; i++) {
			char *anc = ws_xstrndup(key.buf, ends[i]);

			if (mark_seen(x, anc))
				ws_buf_addf(&x->text, "\n[%s]\n", anc);
			free(anc);
		}
		mark_seen(x, key.buf);
		ws_buf_addf(&x->text, "\n[%s]\n", key.buf);
		free(x->last_key);
		x->last_key = ws_buf_detach(&key, NULL);
	}
	ws_buf_release(&key);
	if (v)
		add_value(&x->text, v);
	return WS_OK;
}

const char *reg_export_utf8(const struct reg_export *x)
{
	return x->text.buf;
}

void reg_export_to_utf16(const struct reg_export *x, struct ws_buf *out)
{
	struct ws_buf u = WS_BUF_INIT;

	ws_utf8_to_utf16le(x->text.buf, x->text.len, &u);
	ws_buf_add(&u, "\n\0", 2);
	ws_buf_add(out, "\xff\xfe", 2);
	for (size_t i = 0; i + 1 < u.len; i += 2) {
		if (u.buf[i] == '\n' && u.buf[i + 1] == 0)
			ws_buf_add(out, "\r\0", 2);
		ws_buf_add(out, u.buf + i, 2);
	}
	ws_buf_release(&u);
}

int reg_export_write_file(const struct reg_export *x, const char *path,
			  unsigned flags, struct ws_error *err)
{
	struct ws_buf out = WS_BUF_INIT;
	int rc;

	if (flags & REG_EXPORT_UTF16) {
		reg_export_to_utf16(x, &out);
	} else {
		ws_buf_add(&out, x->text.buf, x->text.len);
		ws_buf_addch(&out, '\n');
	}
	rc = ws_write_file_atomic(path, out.buf, out.len, 0, WS_E_IO, err);
	ws_buf_release(&out);
	return rc;
}
