/*
 * apps_offline.c - an admin's folder of offline app packages (.msix,
 * .msixbundle, .appx, .appxbundle plus *_License*.xml): identify each file
 * (manifest inside the zip through libarchive, else the file name) and
 * find the package, dependencies and license for an app to reinstall.
 */
#include "apps/apps_private.h"

#include <dirent.h>
#include <errno.h>
#include <expat.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/ws_fs.h"
#include "util/ws_libarchive.h"
#include "util/ws_str.h"

#define OFF_MAX_FILES 100000u      /* files indexed per folder */
#define OFF_MAX_ENTRIES 200000u    /* zip entries looked at per package */
#define OFF_MAX_MANIFEST (1u << 20)

void apps_offline_release(struct apps_offline *off)
{
	for (size_t i = 0; i < off->nfiles; i++) {
		free(off->files[i].path);
		free(off->files[i].file);
		free(off->files[i].family_name);
	}
	free(off->files);
	for (size_t i = 0; i < off->nlicenses; i++)
		free(off->licenses[i]);
	free(off->licenses);
	memset(off, 0, sizeof(*off));
}

static const char *ext_of(const char *name, int *bundle)
{
	static const struct {
		const char *ext;
		int bundle;
	} exts[] = { { ".msixbundle", 1 }, { ".appxbundle", 1 },
		     { ".msix", 0 }, { ".appx", 0 } };
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(exts) / sizeof(*exts); i++) {
		size_t e = strlen(exts[i].ext);

		if (n > e && !strcasecmp(name + n - e, exts[i].ext)) {
			*bundle = exts[i].bundle;
			return name + n - e;
		}
	}
	return NULL;
}

static int is_license(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && !strcasecmp(name + n - 4, ".xml") && strcasestr(name, "_License");
}

/* ---- the manifest inside the package ------------------------------------- */

struct man {
	XML_Parser p;
	struct apps_id *id;
	char publisher[1024];
	int got_identity;
	int depth, in_framework, framework;
	struct ws_buf text;
};

static const char *local(const char *n)
{
	const char *c = strrchr(n, ':');

	return c ? c + 1 : n;
}

static void copy_attr(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = 0;
}

static void XMLCALL man_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct man *m = ud;

	m->depth++;
	/* the package's own Identity is a child of the root element */
	if (m->depth == 2 && !m->got_identity && !strcmp(local(name), "Identity")) {
		m->got_identity = 1;
		for (size_t i = 0; atts[i] && atts[i + 1]; i += 2) {
			const char *a = atts[i], *v = atts[i + 1];

			if (!strcmp(a, "Name"))
				copy_attr(m->id->name, sizeof(m->id->name), v);
			else if (!strcmp(a, "Version"))
				copy_attr(m->id->version, sizeof(m->id->version), v);
			else if (!strcmp(a, "ProcessorArchitecture"))
				copy_attr(m->id->arch, sizeof(m->id->arch), v);
			else if (!strcmp(a, "ResourceId"))
				copy_attr(m->id->resource_id, sizeof(m->id->resource_id), v);
			else if (!strcmp(a, "Publisher"))
				copy_attr(m->publisher, sizeof(m->publisher), v);
		}
	}
	if (m->depth == 3 && !strcmp(local(name), "Framework")) {
		m->in_framework = 1;
		ws_buf_reset(&m->text);
	}
}

static void XMLCALL man_end(void *ud, const XML_Char *name)
{
	struct man *m = ud;

	if (m->in_framework && m->depth == 3) {
		m->framework = !strcasecmp(m->text.buf, "true");
		m->in_framework = 0;
	}
	m->depth--;
}

static void XMLCALL man_text(void *ud, const XML_Char *s, int len)
{
	struct man *m = ud;

	if (m->in_framework && m->text.len < 64)
		ws_buf_add(&m->text, s, (size_t)len);
}

static void XMLCALL man_doctype(void *ud, const XML_Char *n, const XML_Char *s,
				const XML_Char *p, int has)
{
	struct man *m = ud;

	XML_StopParser(m->p, XML_FALSE); /* manifests never have one: entity bombs do */
}

/* 1 = identity read into id (publisher id derived), 0 = none readable
 * (or no libarchive: la NULL). */
static int read_manifest(const struct ws_libarchive *la, const char *path,
			 struct apps_id *id, int *framework)
{
	struct archive *a;
	struct archive_entry *e;
	struct ws_buf data = WS_BUF_INIT;
	unsigned entries = 0;
	int found = 0, ok = 0;

	/* without libarchive, as without a readable manifest: the file name
	 * (apps_offline_scan said so) */
	if (!la)
		return 0;
	a = la->archive_read_new();
	la->archive_read_support_format_zip(a);
	if (la->archive_read_open_filename(a, path, 65536) != ARCHIVE_OK)
		goto out;
	while (la->archive_read_next_header(a, &e) == ARCHIVE_OK && ++entries < OFF_MAX_ENTRIES) {
		const char *n = la->archive_entry_pathname(e);

		if (n && (!strcasecmp(n, "AppxManifest.xml") ||
			  !strcasecmp(n, "AppxMetadata/AppxBundleManifest.xml"))) {
			char buf[16384];
			la_ssize_t r;

			while ((r = la->archive_read_data(a, buf, sizeof(buf))) > 0 &&
			       data.len <= OFF_MAX_MANIFEST)
				ws_buf_add(&data, buf, (size_t)r);
			found = r == 0 && data.len <= OFF_MAX_MANIFEST;
			break;
		}
	}
	if (found) {
		struct man m;

		memset(&m, 0, sizeof(m));
		ws_buf_init(&m.text);
		m.id = id;
		m.p = XML_ParserCreate(NULL);
		XML_SetUserData(m.p, &m);
		XML_SetElementHandler(m.p, man_start, man_end);
		XML_SetCharacterDataHandler(m.p, man_text);
		XML_SetStartDoctypeDeclHandler(m.p, man_doctype);
		if (XML_Parse(m.p, data.buf, (int)data.len, 1) == XML_STATUS_OK &&
		    m.got_identity && id->name[0] && m.publisher[0]) {
			apps_publisher_id(m.publisher, id->publisher_id);
			*framework = m.framework;
			ok = 1;
		}
		XML_ParserFree(m.p);
		ws_buf_release(&m.text);
	}
out:
	la->archive_read_free(a);
	ws_buf_release(&data);
	return ok;
}

/*
 * Identity from a file name without its extension: a full name, or
 * Name_Version followed by an architecture and/or a publisher id (the
 * shapes Store downloads and `winget download` use).  Missing parts stay "".
 */
static int id_from_name(const char *stem, struct apps_id *id)
{
	char buf[512], full[600];
	char *part[5];
	size_t n = 0;
	char *s = buf;
	const char *arch = "neutral", *pub = "0000000000000";
	int has_arch = 0, has_pub = 0;

	if (apps_parse_full_name(stem, id) == 0)
		return 0;
	if (strlen(stem) >= sizeof(buf))
		return -1;
	strcpy(buf, stem);
	for (;;) {
		char *u = strchr(s, '_');

		if (n == 5)
			return -1;
		part[n++] = s;
		if (!u)
			break;
		*u = 0;
		s = u + 1;
	}
	if (n < 2)
		return -1;
	for (size_t i = 2; i < n; i++) {
		if (!part[i][0])
			continue;
		if (!has_arch && apps_arch_valid(part[i])) {
			arch = part[i];
			has_arch = 1;
		} else if (i == n - 1) {
			pub = part[i];
			has_pub = 1;
		} else {
			return -1;
		}
	}
	/* reuse the full-name checks with placeholders for the missing parts */
	snprintf(full, sizeof(full), "%s_%s_%s__%s", part[0], part[1], arch, pub);
	if (apps_parse_full_name(full, id) < 0)
		return -1;
	if (!has_arch)
		id->arch[0] = 0;
	if (!has_pub)
		id->publisher_id[0] = 0;
	return 0;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct apps_offline_file *)a)->file,
		      ((const struct apps_offline_file *)b)->file);
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int apps_offline_scan(const char *dir, struct apps_offline *off,
		      struct ws_log *log, struct ws_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t start = off->nfiles, lstart = off->nlicenses;
	const struct ws_libarchive *la = NULL;
	int la_tried = 0;

	if (!d)
		return ws_error_set_errno(err, WS_E_IO, errno, dir,
					  "cannot read the offline package folder");
	while ((de = readdir(d)) && off->nfiles < OFF_MAX_FILES) {
		struct ws_buf path = WS_BUF_INIT;
		struct stat st;
		const char *ext;
		int bundle = 0, fw = 0, from_man;
		struct apps_id id;
		struct apps_offline_file *f;

		if (de->d_name[0] == '.')
			continue;
		ws_path_join(&path, dir, de->d_name);
		if (stat(path.buf, &st) || !S_ISREG(st.st_mode)) {
			ws_buf_release(&path);
			continue;
		}
		if (is_license(de->d_name)) {
			WS_ALLOC_GROW(off->licenses, off->nlicenses + 1, off->alloc_licenses);
			off->licenses[off->nlicenses++] = ws_buf_detach(&path, NULL);
			continue;
		}
		ext = ext_of(de->d_name, &bundle);
		if (!ext) {
			ws_buf_release(&path);
			continue;
		}
		if (!la_tried) {
			struct ws_error lae;

			/* once per folder, at its first package: a broken
			 * install must not pass for packages without manifests */
			la_tried = 1;
			ws_error_clear(&lae);
			if (ws_libarchive(&la, &lae) != WS_OK)
				ws_logf(log, WS_LOG_WARN, dir,
					"%s (%s): the packages' manifests are not read, each "
					"package is known by its file name only",
					lae.msg, lae.where);
		}
		memset(&id, 0, sizeof(id));
		from_man = read_manifest(la, path.buf, &id, &fw);
		{
			struct apps_id fn;
			char *stem = ws_xstrndup(de->d_name, (size_t)(ext - de->d_name));
			int ok = id_from_name(stem, &fn) == 0;

			free(stem);
			if (!from_man && !ok) {
				ws_logf(log, WS_LOG_WARN, path.buf,
					"neither the file name nor a manifest identifies "
					"the package: skipped");
				ws_buf_release(&path);
				continue;
			}
			if (!from_man)
				id = fn;
			else if (ok && !id.arch[0])
				memcpy(id.arch, fn.arch, sizeof(id.arch));
		}
		WS_ALLOC_GROW(off->files, off->nfiles + 1, off->alloc_files);
		f = &off->files[off->nfiles++];
		memset(f, 0, sizeof(*f));
		f->path = ws_buf_detach(&path, NULL);
		f->file = ws_xstrdup(de->d_name);
		f->id = id;
		f->bundle = bundle;
		f->from_manifest = from_man;
		f->framework = fw || apps_is_framework_name(id.name);
		if (id.publisher_id[0]) {
			struct ws_buf fam = WS_BUF_INIT;

			apps_family_of(&id, &fam);
			f->family_name = ws_buf_detach(&fam, NULL);
		} else {
			f->family_name = ws_xstrdup("");
		}
	}
	closedir(d);
	if (off->nfiles - start > 1)
		qsort(off->files + start, off->nfiles - start, sizeof(*off->files), cmp_file);
	if (off->nlicenses - lstart > 1)
		qsort(off->licenses + lstart, off->nlicenses - lstart,
		      sizeof(*off->licenses), cmp_cstr);
	return WS_OK;
}

static int arch_fits(const char *have, const char *want)
{
	return !have[0] || !strcasecmp(have, "neutral") || !strcasecmp(have, want);
}

int apps_offline_find(const struct apps_offline *off,
		      const struct apps_package *app, const char *target_arch,
		      struct apps_offline_hit *hit)
{
	const char *arch = target_arch ? target_arch : app->id.arch;

	memset(hit, 0, sizeof(*hit));
	for (size_t i = 0; i < off->nfiles; i++) {
		const struct apps_offline_file *f = &off->files[i];
		int same = f->family_name[0]
				   ? !strcasecmp(f->family_name, app->family_name)
				   : !strcasecmp(f->id.name, app->id.name);

		if (!same || f->framework)
			continue;
		if (!f->bundle && !arch_fits(f->id.arch, app->id.arch[0] ? app->id.arch : arch))
			continue;
		if (!hit->package ||
		    ws_version_cmp(f->id.version, hit->package->id.version, 0) > 0)
			hit->package = f;
	}
	if (!hit->package)
		return 0;
	hit->deps = ws_xcalloc(off->nfiles, sizeof(*hit->deps));
	for (size_t i = 0; i < off->nfiles; i++) {
		const struct apps_offline_file *f = &off->files[i];

		if (f->framework && (f->bundle || arch_fits(f->id.arch, arch)))
			hit->deps[hit->ndeps++] = f;
	}
	for (size_t i = 0; i < off->nlicenses && !hit->license; i++) {
		const char *base = strrchr(off->licenses[i], '/');

		base = base ? base + 1 : off->licenses[i];
		if (!strncasecmp(base, app->family_name, strlen(app->family_name)) ||
		    (!strncasecmp(base, app->id.name, strlen(app->id.name)) &&
		     base[strlen(app->id.name)] == '_'))
			hit->license = off->licenses[i];
	}
	return 1;
}

void apps_offline_hit_release(struct apps_offline_hit *hit)
{
	free(hit->deps);
	memset(hit, 0, sizeof(*hit));
}
