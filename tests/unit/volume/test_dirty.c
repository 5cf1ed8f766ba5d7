/* test_dirty.c - dirty hives read by the volume: a user's NTUSER.DAT and the
 * SOFTWARE hive with new-format .LOG1/.LOG2 are read through a private
 * replayed copy (regipy's transactions_NTUSER.DAT and its logs), sources
 * untouched, copies gone after vol_close; without logs the primary file is
 * read and flagged. */
#include "tu.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "util/ws_fs.h"
#include "volume/volume.h"

static char *make_source(uint64_t seed)
{
	struct fx_opts o;
	struct ws_error err;
	char *dir = tu_tmpdir();

	fx_opts_init(&o);
	o.out_dir = dir;
	o.seed = seed;
	o.users = 1;
	o.files = 1;
	ws_error_clear(&err);
	tu_assert_ok(fx_build(&o, NULL, &err), &err);
	return dir;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

struct dirty_set {
	char *path[3];  /* primary, .LOG1, .LOG2 in place */
	char *ref[3];   /* reference copies of their bytes */
};

/* Put the dirty test hive and its logs at `primary` (+ ".LOG1"/".LOG2");
 * returns 0 (and the caller skips) when the test data is absent. */
static int place_dirty(const char *primary, const char *scratch, int logs,
		       struct dirty_set *s)
{
	static const char *const rel[3] = {
		"hives/regipy/transactions_NTUSER.DAT",
		"hives/regipy/transactions_ntuser.dat.log1",
		"hives/regipy/transactions_ntuser.dat.log2",
	};

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 3; i++) {
		char *src = tu_testdata_hive(rel[i], scratch);
		size_t len;
		char *b;

		if (!src)
			return 0;
		s->path[i] = i == 0 ? ws_xstrdup(primary)
				    : ws_xasprintf("%s.LOG%d", primary, i);
		s->ref[i] = ws_xasprintf("%s/ref%d", scratch, i);
		b = tu_read_file(src, &len);
		tu_write_file(s->ref[i], b, len);
		if (i == 0 || logs) {
			unlink(s->path[i]);
			tu_write_file(s->path[i], b, len);
		}
		free(b);
		free(src);
	}
	return 1;
}

static void remove_logs(const char *prim)
{
	char *l1 = ws_xasprintf("%s.LOG1", prim), *l2 = ws_xasprintf("%s.LOG2", prim);

	assert_int_equal(unlink(l1), 0);
	assert_int_equal(unlink(l2), 0);
	free(l1);
	free(l2);
}

/* Sources byte-identical to the references; frees the set. */
static void check_untouched(struct dirty_set *s, int logs)
{
	for (int i = 0; i < 3; i++) {
		if (i == 0 || logs) {
			size_t n1, n2;
			char *a = tu_read_file(s->path[i], &n1);
			char *b = tu_read_file(s->ref[i], &n2);

			assert_true(n1 == n2 && memcmp(a, b, n1) == 0);
			free(a);
			free(b);
		}
		free(s->path[i]);
		free(s->ref[i]);
	}
}

/* User variables of alice with TMPDIR = tmp; counts copies made. */
static void user_vars(const char *src, const char *tmp, struct vol_vars *vars,
		      struct vol_info *info_out)
{
	struct vol *v;
	struct ws_error err;
	const struct vol_profile *p;

	setenv("TMPDIR", tmp, 1);
	tu_assert_ok(vol_open(src, &v, &err), &err);
	p = vol_profile_find(v, "alice");
	assert_non_null(p);
	assert_non_null(p->ntuser_path);
	tu_assert_ok(vol_user_vars(v, p, vars, &err), &err);
	/* a second call reuses the copy */
	struct vol_vars again = VOL_VARS_INIT;
	tu_assert_ok(vol_user_vars(v, p, &again, &err), &err);
	vol_vars_release(&again);
	*info_out = *vol_get_info(v);
	if (info_out->user_hives_replayed)
		assert_int_equal(count_entries(tmp), 1);
	vol_close(v);
	assert_int_equal(count_entries(tmp), 0);
	info_out->root = NULL; /* freed with the handle */
}

static void dirty_ntuser_is_replayed(void **state)
{
	char *src = make_source(31), *scratch = tu_tmpdir(), *tmp = tu_tmpdir();
	char *prim = ws_xasprintf("%s/Users/alice/NTUSER.DAT", src);
	struct vol_vars rep = VOL_VARS_INIT, stale = VOL_VARS_INIT;
	struct vol_info in;
	struct dirty_set s;

	(void)state;
	if (!place_dirty(prim, scratch, 1, &s)) {
		free(prim), free(src), free(scratch), free(tmp);
		skip();
	}
	user_vars(src, tmp, &rep, &in);
	assert_int_equal(in.user_hives_replayed, 1);
	assert_int_equal(in.user_hives_dirty, 1);
	assert_false(in.software_dirty || in.software_replayed);
	check_untouched(&s, 1);

	/* the same hive without its logs: read stale, flagged */
	remove_logs(prim);
	if (!place_dirty(prim, scratch, 0, &s)) {
		free(prim), free(src), free(scratch), free(tmp);
		skip();
	}
	user_vars(src, tmp, &stale, &in);
	assert_int_equal(in.user_hives_replayed, 0);
	assert_int_equal(in.user_hives_dirty, 1);
	check_untouched(&s, 0);
	/* this hive's logs do not touch the shell folders: same answers */
	assert_int_equal(rep.n, stale.n);
	for (size_t i = 0; i < rep.n; i++)
		assert_string_equal(vol_vars_get(&stale, rep.v[i].name), rep.v[i].value);
	vol_vars_release(&rep);
	vol_vars_release(&stale);
	free(prim);
	free(src), free(scratch), free(tmp);
}

static void dirty_software_is_replayed(void **state)
{
	char *src = make_source(32), *scratch = tu_tmpdir(), *tmp = tu_tmpdir();
	char *prim = ws_xasprintf("%s/Windows/System32/config/SOFTWARE", src);
	struct vol *v;
	struct ws_error err;
	struct dirty_set s;

	(void)state;
	/* no dirty SOFTWARE with logs exists in the test data: the dirty
	 * NTUSER.DAT stands in (a hive is a hive; identity values are absent) */
	if (!place_dirty(prim, scratch, 1, &s)) {
		free(prim), free(src), free(scratch), free(tmp);
		skip();
	}
	setenv("TMPDIR", tmp, 1);
	tu_assert_ok(vol_open(src, &v, &err), &err);
	assert_int_equal(vol_get_info(v)->software_replayed, 1);
	/* still dirty on the volume: writers must refuse it */
	assert_int_equal(vol_get_info(v)->software_dirty, 1);
	assert_int_equal(vol_get_info(v)->system_replayed, 0);
	assert_int_equal(vol_get_info(v)->system_dirty, 0);
	assert_int_equal(count_entries(tmp), 1);
	/* the replayed copy is what the handle reads: a key only the logs hold */
	reg_node k = 0;
	struct reg_hive *h = vol_software_hive(v);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "Software\\ThinPrint\\TPAutoConnect", &k, &err), &err);
	assert_true(k != 0);
	assert_string_not_equal(reg_hive_path(h), prim);
	vol_close(v);
	assert_int_equal(count_entries(tmp), 0);
	check_untouched(&s, 1);

	/* without logs: the primary, flagged dirty */
	remove_logs(prim);
	if (!place_dirty(prim, scratch, 0, &s)) {
		free(prim), free(src), free(scratch), free(tmp);
		skip();
	}
	tu_assert_ok(vol_open(src, &v, &err), &err);
	assert_int_equal(vol_get_info(v)->software_replayed, 0);
	assert_int_equal(vol_get_info(v)->software_dirty, 1);
	assert_non_null(strstr(vol_get_info(v)->software_why, "no .LOG1/.LOG2"));
	h = vol_software_hive(v);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "Software\\ThinPrint\\TPAutoConnect", &k, &err), &err);
	assert_true(k == 0);
	assert_string_equal(reg_hive_path(h), prim);
	vol_close(v);
	assert_int_equal(count_entries(tmp), 0);
	check_untouched(&s, 0);
	free(prim);
	free(src), free(scratch), free(tmp);
}

/* vol_hive_open, the one way to open a source hive: a dirty hive is
 * replayed once per handle whoever asks (vol_user_vars, then a reader);
 * without logs a strict reader gets the kept reason, a lenient one the
 * stale primary and the same reason; the copy goes with vol_close. */
static void hive_open_replays_once_and_keeps_why(void **state)
{
	char *src = make_source(33), *scratch = tu_tmpdir(), *tmp = tu_tmpdir();
	char *prim = ws_xasprintf("%s/Users/alice/NTUSER.DAT", src);
	struct vol_vars vars = VOL_VARS_INIT;
	struct vol_hive_how how;
	struct reg_hive *h, *h2;
	struct vol *v;
	struct ws_error err;
	struct dirty_set s;
	const struct vol_profile *p;

	(void)state;
	if (!place_dirty(prim, scratch, 1, &s)) {
		free(prim), free(src), free(scratch), free(tmp);
		skip();
	}
	tu_assert_ok(vol_open_in(src, tmp, &v, &err), &err);
	p = vol_profile_find(v, "alice");
	tu_assert_ok(vol_user_vars(v, p, &vars, &err), &err);
	assert_int_equal(vol_get_info(v)->user_hives_replayed, 1);
	tu_assert_ok(vol_hive_open(v, prim, VOL_HIVE_STRICT, &h, &how, &err), &err);
	assert_int_equal(how.state, VOL_HIVE_REPLAYED);
	assert_int_equal(how.first, 0); /* the copy vol_user_vars made */
	assert_string_not_equal(reg_hive_path(h), prim);
	tu_assert_ok(vol_hive_open(v, prim, 0, &h2, NULL, &err), &err);
	assert_string_equal(reg_hive_path(h2), reg_hive_path(h));
	reg_hive_close(h);
	reg_hive_close(h2);
	/* one private folder holding one copy */
	assert_int_equal(count_entries(tmp), 1);
	vol_close(v);
	assert_int_equal(count_entries(tmp), 0);
	vol_vars_release(&vars);
	check_untouched(&s, 1);

	remove_logs(prim);
	if (!place_dirty(prim, scratch, 0, &s)) {
		free(prim), free(src), free(scratch), free(tmp);
		skip();
	}
	tu_assert_ok(vol_open_in(src, tmp, &v, &err), &err);
	ws_error_clear(&err);
	assert_int_equal(vol_hive_open(v, prim, VOL_HIVE_STRICT, &h, &how, &err), WS_E_HIVE);
	assert_null(h);
	assert_int_equal(how.first, 1);
	assert_int_equal(how.state, VOL_HIVE_DIRTY);
	assert_non_null(strstr(err.msg, "no .LOG1/.LOG2"));
	assert_string_equal(err.where, prim);
	/* lenient: the stale primary, and the same reason */
	tu_assert_ok(vol_hive_open(v, prim, 0, &h, &how, &err), &err);
	assert_int_equal(how.state, VOL_HIVE_DIRTY);
	assert_int_equal(how.first, 0);
	assert_non_null(strstr(how.why.msg, "no .LOG1/.LOG2"));
	assert_string_equal(reg_hive_path(h), prim);
	reg_hive_close(h);
	vol_close(v);
	check_untouched(&s, 0);
	free(prim);
	free(src), free(scratch), free(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dirty_ntuser_is_replayed),
		cmocka_unit_test(dirty_software_is_replayed),
		cmocka_unit_test(hive_open_replays_once_and_keeps_why),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	tu_cleanup();
	return rc;
}
