/* test_libarchive.c - util: libarchive opened on first use: every function
 * the program calls is found, the same table is returned to every caller
 * and thread, and it works (a ustar archive written and read back as the
 * pack writer and the package reader use it). */
#include "tu.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ws_libarchive.h"

static void every_function_is_found(void **state)
{
	const struct ws_libarchive *la = NULL;
	struct ws_error err;

	(void)state;
	ws_error_clear(&err);
	tu_assert_ok(ws_libarchive(&la, &err), &err);
	assert_non_null(la);
#define CHECK(name) assert_non_null(la->name);
	WS_LIBARCHIVE_FUNCS(CHECK)
#undef CHECK
	assert_true(ws_libarchive_loaded());
}

static void *get_table(void *arg)
{
	const struct ws_libarchive **out = arg;

	if (ws_libarchive(out, NULL) != WS_OK)
		*out = NULL;
	return NULL;
}

static void one_table_for_every_thread(void **state)
{
	const struct ws_libarchive *t[4] = { 0 }, *mine;
	pthread_t th[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, get_table, &t[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(ws_libarchive(&mine, NULL), WS_OK);
	for (int i = 0; i < 4; i++)
		assert_ptr_equal(t[i], mine);
}

static la_ssize_t to_buf(struct archive *a, void *ctx, const void *p, size_t n)
{
	struct ws_buf *b = ctx;

	(void)a;
	ws_buf_add(b, p, n);
	return (la_ssize_t)n;
}

static void the_functions_work(void **state)
{
	const struct ws_libarchive *la;
	struct ws_buf tar = WS_BUF_INIT;
	struct archive *a;
	struct archive_entry *e;
	char *dir = tu_tmpdir();
	char path[4096];

	(void)state;
	assert_int_equal(ws_libarchive(&la, NULL), WS_OK);
	a = la->archive_write_new();
	assert_int_equal(la->archive_write_set_format_ustar(a), ARCHIVE_OK);
	assert_int_equal(la->archive_write_open(a, &tar, NULL, to_buf, NULL), ARCHIVE_OK);
	e = la->archive_entry_new();
	la->archive_entry_set_pathname(e, "AppxManifest.xml");
	la->archive_entry_set_size(e, 5);
	la->archive_entry_set_filetype(e, AE_IFREG);
	la->archive_entry_set_perm(e, 0644);
	assert_int_equal(la->archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(la->archive_write_data(a, "hello", 5), 5);
	assert_int_equal(la->archive_write_close(a), ARCHIVE_OK);
	la->archive_entry_free(e);
	la->archive_write_free(a);

	snprintf(path, sizeof(path), "%s/a.tar", dir);
	tu_write_file(path, tar.buf, tar.len);
	a = la->archive_read_new();
	/* the reader accepts zip only: a tar is refused, as a bad package is */
	la->archive_read_support_format_zip(a);
	int r = la->archive_read_open_filename(a, path, 65536);
	if (r == ARCHIVE_OK)
		r = la->archive_read_next_header(a, &e);
	assert_int_not_equal(r, ARCHIVE_OK);
	assert_non_null(la->archive_error_string(a));
	assert_true(tar.len >= 1024 && !memcmp(tar.buf + 257, "ustar", 5));
	la->archive_read_free(a);
	ws_buf_release(&tar);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_function_is_found),
		cmocka_unit_test(one_table_for_every_thread),
		cmocka_unit_test(the_functions_work),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
