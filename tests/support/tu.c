/* tu.c - test helpers: temp folders, testdata decompression, file utils. */
#include "tu.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/ws_fs.h"

static char **dirs;
static size_t ndirs, adirs;
static int registered;
static unsigned skipped;

void tu_skip_noted(void)
{
	skipped++;
}

int tu_group_result(int failed)
{
	if (failed)
		return failed == 77 ? 1 : failed;
	if (skipped) {
		fprintf(stderr, "%u test(s) skipped: reported to ctest as skipped (exit 77)\n",
			skipped);
		return 77;
	}
	return 0;
}

void tu_cleanup(void)
{
	for (size_t i = 0; i < ndirs; i++) {
		if (!getenv("TU_KEEP"))
			ws_remove_tree(dirs[i], NULL);
		free(dirs[i]);
	}
	free(dirs);
	dirs = NULL;
	ndirs = adirs = 0;
}

char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p = ws_xasprintf("%s/wstest-XXXXXX", base && *base ? base : "/tmp");

	if (!mkdtemp(p)) {
		fprintf(stderr, "mkdtemp %s: %s\n", p, strerror(errno));
		abort();
	}
	if (!registered) {
		atexit(tu_cleanup);
		registered = 1;
	}
	WS_ALLOC_GROW(dirs, ndirs + 1, adirs);
	dirs[ndirs++] = ws_xstrdup(p);
	return p;
}

char *tu_tmpdir_kept(void)
{
	free(tu_tmpdir());
	return dirs[ndirs - 1];   /* tu_tmpdir's own copy */
}

char *tu_testdata(const char *rel)
{
	const char *root = getenv("WS_TESTDATA");
	char *p;

	if (!root || !*root)
		return NULL;
	p = ws_xasprintf("%s/%s", root, rel);
	if (access(p, R_OK) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

char *tu_testdata_hive(const char *rel, const char *dir)
{
	char *xzrel = ws_xasprintf("%s.xz", rel);
	char *src = tu_testdata(xzrel);
	const char *base = strrchr(rel, '/');
	char *out;
	struct archive *a;
	struct archive_entry *e;
	FILE *f;
	char buf[65536];
	la_ssize_t n;

	free(xzrel);
	if (!src) {
		printf("[  SKIP    ] test data %s.xz not found (set WS_TESTDATA "
		       "to ../shared/testdata)\n", rel);
		return NULL;
	}
	out = ws_xasprintf("%s/%s", dir, base ? base + 1 : rel);
	a = archive_read_new();
	archive_read_support_filter_xz(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, src, 65536) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		fprintf(stderr, "cannot open %s: %s\n", src, archive_error_string(a));
		abort();
	}
	f = fopen(out, "wb");
	if (!f)
		abort();
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, f);
	if (n < 0) {
		fprintf(stderr, "cannot decompress %s: %s\n", src,
			archive_error_string(a));
		abort();
	}
	fclose(f);
	archive_read_free(a);
	free(src);
	return out;
}

void tu_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		abort();
	}
}

char *tu_read_file(const char *path, size_t *len)
{
	struct ws_buf b = WS_BUF_INIT;

	if (ws_read_file(path, (size_t)1 << 31, &b, NULL) != WS_OK) {
		ws_buf_release(&b);
		return NULL;
	}
	return ws_buf_detach(&b, len);
}

int tu_have(const char *prog)
{
	char *cmd = ws_xasprintf("command -v %s >/dev/null 2>&1", prog);
	int ok = system(cmd) == 0;

	free(cmd);
	if (!ok)
		printf("[  SKIP    ] %s not installed\n", prog);
	return ok;
}

int tu_run(const char *cmd, struct ws_buf *out)
{
	FILE *f = popen(cmd, "r");
	char buf[65536];
	size_t n;
	int st;

	assert_non_null(f);
	ws_buf_reset(out);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		ws_buf_add(out, buf, n);
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int tu_sh(const char *fmt, ...)
{
	struct ws_buf cmd = WS_BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	ws_buf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	ws_buf_adds(&cmd, " >/dev/null 2>&1");
	rc = system(cmd.buf);
	ws_buf_release(&cmd);
	return rc;
}

int tu_dir_empty(const char *dir)
{
	return tu_sh("test -z \"$(ls -A '%s')\"", dir) == 0;
}

void tu_crafted_name(unsigned i, char out[13])
{
	char *o = out;

	for (int k = 0; k < 3; k++, i >>= 4) {
		uint32_t cp = ((uint32_t)(1 + (i & 15)) << 16) | 0xF600u;

		*o++ = (char)(0xF0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	}
	*o = '\0';
}

void tu_fnv_crafted(const char *prefix, char lead, uint64_t mask, uint64_t *i, char out[24])
{
	uint64_t h0 = 1469598103934665603ULL;
	const char *p;

	for (p = prefix; *p; p++)
		h0 = (h0 ^ (unsigned char)*p) * 1099511628211ULL;
	for (;; (*i)++) {
		uint64_t h = h0;

		snprintf(out, 24, "%c%llX", lead, (unsigned long long)*i);
		for (p = out; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		if (!(h & mask)) {
			(*i)++;
			return;
		}
	}
}
