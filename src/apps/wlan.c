/*
 * wlan.c - Wi-Fi profiles (WLANProfile XML under ProgramData\Microsoft\
 * Wlansvc\Profiles\Interfaces\{GUID}\): SSID, authentication, whether the
 * key is DPAPI-protected, and so which networks need their key typed again
 * on the target.
 */
#include "apps/apps_private.h"

#include <dirent.h>
#include <errno.h>
#include <expat.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/ws_fs.h"

#define WLAN_MAX_TEXT 4096   /* one element's text */
#define WLAN_MAX_DEPTH 32
#define WLAN_MAX_FILES 10000u

void apps_wlan_list_release(struct apps_wlan_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct apps_wlan *w = &l->v[i];

		free(w->file);
		free(w->profile_name);
		free(w->ssid);
		free(w->authentication);
		free(w->encryption);
		free(w->connection_mode);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct wp {
	XML_Parser p;
	const char *stack[WLAN_MAX_DEPTH]; /* local names, static strings only */
	int depth;
	int too_deep, bad_root, doctype;
	struct ws_buf text;
	struct ws_buf name, ssid, ssid_hex, auth, enc, mode, key_protected, one_x,
		key_material;
	int have_shared_key;
};

/* The element names we care about, so the stack holds no copies. */
static const char *const known[] = {
	"WLANProfile", "name", "SSIDConfig", "SSID", "hex", "connectionMode",
	"MSM", "security", "authEncryption", "authentication", "encryption",
	"useOneX", "sharedKey", "keyType", "protected", "keyMaterial", NULL
};

static const char *intern(const char *n)
{
	const char *c = strrchr(n, ':');

	if (c)
		n = c + 1;
	for (size_t i = 0; known[i]; i++)
		if (!strcmp(n, known[i]))
			return known[i];
	return "";
}

/* Is the path from the root exactly the given names? */
static int at(const struct wp *w, int n, ...)
{
	va_list ap;
	int ok = w->depth == n;

	va_start(ap, n);
	for (int i = 0; ok && i < n; i++)
		ok = !strcmp(w->stack[i], va_arg(ap, const char *));
	va_end(ap);
	return ok;
}

static void XMLCALL wp_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct wp *w = ud;

	if (w->depth == 0 && strcmp(intern(name), "WLANProfile")) {
		w->bad_root = 1;
		XML_StopParser(w->p, XML_FALSE);
		return;
	}
	if (w->depth >= WLAN_MAX_DEPTH) {
		w->too_deep = 1;
		XML_StopParser(w->p, XML_FALSE);
		return;
	}
	w->stack[w->depth++] = intern(name);
	ws_buf_reset(&w->text);
	if (at(w, 4, "WLANProfile", "MSM", "security", "sharedKey"))
		w->have_shared_key = 1;
}

static void set_once(struct ws_buf *dst, const struct ws_buf *text)
{
	if (!dst->len)
		ws_buf_add(dst, text->buf, text->len);
}

static void XMLCALL wp_end(void *ud, const XML_Char *name)
{
	struct wp *w = ud;

	if (at(w, 2, "WLANProfile", "name"))
		set_once(&w->name, &w->text);
	else if (at(w, 4, "WLANProfile", "SSIDConfig", "SSID", "name"))
		set_once(&w->ssid, &w->text);
	else if (at(w, 4, "WLANProfile", "SSIDConfig", "SSID", "hex"))
		set_once(&w->ssid_hex, &w->text);
	else if (at(w, 2, "WLANProfile", "connectionMode"))
		set_once(&w->mode, &w->text);
	else if (at(w, 5, "WLANProfile", "MSM", "security", "authEncryption", "authentication"))
		set_once(&w->auth, &w->text);
	else if (at(w, 5, "WLANProfile", "MSM", "security", "authEncryption", "encryption"))
		set_once(&w->enc, &w->text);
	else if (at(w, 5, "WLANProfile", "MSM", "security", "authEncryption", "useOneX"))
		set_once(&w->one_x, &w->text);
	else if (at(w, 5, "WLANProfile", "MSM", "security", "sharedKey", "protected"))
		set_once(&w->key_protected, &w->text);
	else if (at(w, 5, "WLANProfile", "MSM", "security", "sharedKey", "keyMaterial"))
		set_once(&w->key_material, &w->text);
	if (w->depth > 0)
		w->depth--;
	ws_buf_reset(&w->text);
}

static void XMLCALL wp_text(void *ud, const XML_Char *s, int len)
{
	struct wp *w = ud;

	if (w->text.len + (size_t)len <= WLAN_MAX_TEXT)
		ws_buf_add(&w->text, s, (size_t)len);
}

static void XMLCALL wp_doctype(void *ud, const XML_Char *n, const XML_Char *s,
			       const XML_Char *p, int has)
{
	struct wp *w = ud;

	w->doctype = 1; /* profiles never have one; entity expansion bombs do */
	XML_StopParser(w->p, XML_FALSE);
}

static void trim(struct ws_buf *b)
{
	size_t s = 0, e = b->len;

	while (s < e && strchr(" \t\r\n", b->buf[s]))
		s++;
	while (e > s && strchr(" \t\r\n", b->buf[e - 1]))
		e--;
	memmove(b->buf, b->buf + s, e - s);
	ws_buf_setlen(b, e - s);
}

int apps_wlan_parse(const char *name, const char *xml, size_t len,
		    struct apps_wlan_list *out, struct ws_error *err)
{
	struct wp w;
	struct ws_buf *bufs[] = { &w.text, &w.name, &w.ssid, &w.ssid_hex, &w.auth,
				  &w.enc, &w.mode, &w.key_protected, &w.one_x,
				  &w.key_material };
	const size_t nb = sizeof(bufs) / sizeof(*bufs);
	int rc = WS_OK;

	if (len > APPS_WLAN_MAX_BYTES)
		return ws_error_set(err, WS_E_UNSUPPORTED, name,
				    "Wi-Fi profile larger than %u bytes",
				    APPS_WLAN_MAX_BYTES);
	memset(&w, 0, sizeof(w));
	for (size_t i = 0; i < nb; i++)
		ws_buf_init(bufs[i]);
	w.p = XML_ParserCreate(NULL);
	XML_SetUserData(w.p, &w);
	XML_SetElementHandler(w.p, wp_start, wp_end);
	XML_SetCharacterDataHandler(w.p, wp_text);
	XML_SetStartDoctypeDeclHandler(w.p, wp_doctype);
	if (XML_Parse(w.p, xml, (int)len, 1) != XML_STATUS_OK || w.bad_root ||
	    w.too_deep || w.doctype) {
		if (w.bad_root)
			rc = ws_error_set(err, WS_E_UNSUPPORTED, name,
					  "not a WLANProfile document");
		else if (w.doctype)
			rc = ws_error_set(err, WS_E_UNSUPPORTED, name,
					  "Wi-Fi profile with a DOCTYPE refused");
		else if (w.too_deep)
			rc = ws_error_set(err, WS_E_UNSUPPORTED, name,
					  "Wi-Fi profile nested deeper than %d",
					  WLAN_MAX_DEPTH);
		else
			rc = ws_error_set(err, WS_E_UNSUPPORTED, name,
					  "malformed Wi-Fi profile XML: %s",
					  XML_ErrorString(XML_GetErrorCode(w.p)));
		if (err)
			ws_error_at(err, (long)XML_GetCurrentLineNumber(w.p),
				    (long)XML_GetCurrentColumnNumber(w.p) + 1);
	} else {
		struct apps_wlan *a;

		for (size_t i = 1; i < nb; i++)
			trim(bufs[i]);
		if (!w.ssid.len && w.ssid_hex.len && w.ssid_hex.len % 2 == 0) {
			for (size_t i = 0; i + 1 < w.ssid_hex.len; i += 2) {
				int hi = ws_hex_value(w.ssid_hex.buf[i]), lo = ws_hex_value(w.ssid_hex.buf[i + 1]);

				if (hi < 0 || lo < 0 || !(hi | lo))
					break;
				ws_buf_addch(&w.ssid, hi << 4 | lo);
			}
		}
		WS_ALLOC_GROW(out->v, out->n + 1, out->alloc);
		a = &out->v[out->n++];
		memset(a, 0, sizeof(*a));
		a->file = ws_xstrdup(name);
		a->profile_name = ws_buf_detach(&w.name, NULL);
		a->ssid = ws_buf_detach(&w.ssid, NULL);
		a->authentication = ws_buf_detach(&w.auth, NULL);
		a->encryption = ws_buf_detach(&w.enc, NULL);
		a->connection_mode = ws_buf_detach(&w.mode, NULL);
		a->one_x = !strcasecmp(w.one_x.buf, "true");
		a->has_key = w.have_shared_key && w.key_material.len;
		a->key_protected = a->has_key && strcasecmp(w.key_protected.buf, "false");
		/* a protected key is a DPAPI blob of the source machine's SYSTEM
		 * context; 802.1X credentials are per user: both are typed again */
		a->must_reenter = a->key_protected || a->one_x;
	}
	XML_ParserFree(w.p);
	for (size_t i = 0; i < nb; i++)
		ws_buf_release(bufs[i]);
	return rc;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* *.xml files in `dir` and in its direct sub-folders (interface GUIDs). */
static int collect(const char *dir, int depth, char ***v, size_t *n, size_t *alloc,
		   struct ws_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return ws_error_set_errno(err, WS_E_IO, errno, dir,
					  "cannot read the Wi-Fi profile folder");
	while ((de = readdir(d)) && *n < WLAN_MAX_FILES) {
		struct ws_buf p = WS_BUF_INIT;
		struct stat st;
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		ws_path_join(&p, dir, de->d_name);
		if (lstat(p.buf, &st)) {
			ws_buf_release(&p);
			continue;
		}
		if (S_ISDIR(st.st_mode) && depth == 0) {
			int rc = collect(p.buf, 1, v, n, alloc, err);

			ws_buf_release(&p);
			if (rc != WS_OK) {
				closedir(d);
				return rc;
			}
			continue;
		}
		if (S_ISREG(st.st_mode) && l > 4 && !strcasecmp(de->d_name + l - 4, ".xml")) {
			WS_ALLOC_GROW(*v, *n + 1, *alloc);
			(*v)[(*n)++] = ws_buf_detach(&p, NULL);
			continue;
		}
		ws_buf_release(&p);
	}
	closedir(d);
	return WS_OK;
}

int apps_wlan_scan(const char *dir, struct apps_wlan_list *out,
		   struct ws_log *log, struct ws_error *err)
{
	char **files = NULL;
	size_t n = 0, alloc = 0;
	int rc = collect(dir, 0, &files, &n, &alloc, err);

	if (n > 1)
		qsort(files, n, sizeof(*files), cmp_path);
	for (size_t i = 0; i < n; i++) {
		struct ws_buf data = WS_BUF_INIT;
		struct ws_error e;

		ws_error_clear(&e);
		if (rc == WS_OK) {
			if (ws_read_file(files[i], APPS_WLAN_MAX_BYTES, &data, &e) != WS_OK ||
			    apps_wlan_parse(files[i], data.buf, data.len, out, &e) != WS_OK) {
				char b[2300];

				ws_logf(log, WS_LOG_WARN, files[i], "Wi-Fi profile skipped: %s",
					ws_error_format(&e, b, sizeof(b)));
			}
		}
		ws_buf_release(&data);
		free(files[i]);
	}
	free(files);
	return rc;
}

void apps_wlan_reenter_list(const struct apps_wlan_list *l, struct ws_buf *out)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct apps_wlan *w = &l->v[i];

		if (!w->must_reenter)
			continue;
		ws_buf_addf(out, "%s (%s%s)\n", w->ssid[0] ? w->ssid : w->profile_name,
			    w->authentication[0] ? w->authentication : "unknown",
			    w->one_x ? ", 802.1X sign-in" : "");
	}
}
