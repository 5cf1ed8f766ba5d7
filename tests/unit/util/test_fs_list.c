/* test_fs_list.c - ws_list_dir_suffix: the suffix matched without regard to
 * case and never as the whole name, the prefix matched exactly, only the
 * entries appended by one call sorted, a missing folder reported with errno
 * and nothing appended. */
#include "tu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ws_buf.h"
#include "util/ws_fs.h"

static void touch(const char *dir, const char *name)
{
	char *p = ws_xasprintf("%s/%s", dir, name);

	tu_write_file(p, "x", 1);
	free(p);
}

static void expect(char **v, size_t i, const char *dir, const char *name)
{
	char *want = ws_xasprintf("%s/%s", dir, name);

	assert_string_equal(v[i], want);
	free(want);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void suffix_any_case_sorted(void **state)
{
	char *dir = tu_tmpdir();
	char **v = NULL;
	size_t n = 0, alloc = 0;

	(void)state;
	touch(dir, "b.xml");
	touch(dir, "A.XML");
	touch(dir, "c.Xml");
	touch(dir, ".xml");          /* the suffix alone is no match */
	touch(dir, "d.xml.bak");
	touch(dir, "e.txt");
	assert_int_equal(ws_list_dir_suffix(dir, NULL, ".xml", &v, &n, &alloc), 0);
	assert_int_equal(n, 3);
	expect(v, 0, dir, "A.XML");
	expect(v, 1, dir, "b.xml");
	expect(v, 2, dir, "c.Xml");
	strv_free(v, n);
	free(dir);
}

static void prefix_exact_and_appends(void **state)
{
	char *dir = tu_tmpdir(), *other = tu_tmpdir();
	char **v = NULL;
	size_t n = 0, alloc = 0;

	(void)state;
	touch(dir, "winstate-z.xml");
	touch(dir, "winstate-a.xml");
	touch(dir, "Winstate-b.xml");  /* the prefix is matched exactly */
	touch(dir, "other.xml");
	touch(other, "a.xml");
	assert_int_equal(ws_list_dir_suffix(other, NULL, ".xml", &v, &n, &alloc), 0);
	assert_int_equal(ws_list_dir_suffix(dir, "winstate-", ".xml", &v, &n, &alloc), 0);
	assert_int_equal(n, 3);
	expect(v, 0, other, "a.xml");  /* earlier entries stay in place */
	expect(v, 1, dir, "winstate-a.xml");
	expect(v, 2, dir, "winstate-z.xml");
	strv_free(v, n);
	free(dir);
	free(other);
}

static void missing_folder(void **state)
{
	char *dir = tu_tmpdir(), *gone = ws_xasprintf("%s/none", dir);
	char **v = NULL;
	size_t n = 0, alloc = 0;

	(void)state;
	errno = 0;
	assert_int_equal(ws_list_dir_suffix(gone, NULL, ".xml", &v, &n, &alloc), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(n, 0);
	free(v);
	free(gone);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(suffix_any_case_sorted),
		cmocka_unit_test(prefix_exact_and_appends),
		cmocka_unit_test(missing_folder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
