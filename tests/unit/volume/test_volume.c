/* test_volume.c - vol_open, identity, resolution, profiles, variables and
 * the safe walker, on installations made by the fixture builder. */
#include "tu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "util/ws_fs.h"
#include "volume/volume.h"

/* Build a source installation into a fresh folder. */
static char *make_source(uint64_t seed, unsigned users, int redirect)
{
	struct fx_opts o;
	struct ws_error err;
	char *dir = tu_tmpdir();

	fx_opts_init(&o);
	o.out_dir = dir;
	o.seed = seed;
	o.users = users;
	o.files = 5;
	o.redirect_documents = redirect;
	o.computer = "DESKTOP-TEST01";
	o.os = FX_WIN11;
	ws_error_clear(&err);
	tu_assert_ok(fx_build(&o, NULL, &err), &err);
	return dir;
}

static void not_windows_is_refused(void **state)
{
	char *dir = tu_tmpdir();
	struct vol *v = NULL;
	struct ws_error err;
	struct ws_buf p = WS_BUF_INIT;

	ws_error_clear(&err);
	assert_int_equal(vol_open(dir, &v, &err), WS_E_NOT_WINDOWS);
	assert_null(v);
	assert_non_null(strstr(err.msg, dir));
	assert_non_null(strstr(err.msg, "SYSTEM"));

	/* a missing folder */
	ws_buf_addf(&p, "%s/nope", dir);
	assert_int_equal(vol_open(p.buf, &v, &err), WS_E_NOT_WINDOWS);
	assert_non_null(strstr(err.msg, "no such folder"));

	/* SYSTEM present but not a hive, SOFTWARE absent */
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/windows/SYSTEM32/Config", dir);
	tu_assert_ok(ws_mkdir_p(p.buf, WS_E_IO, &err), &err);
	ws_buf_adds(&p, "/system");
	tu_write_file(p.buf, "not a hive at all", 17);
	assert_int_equal(vol_open(dir, &v, &err), WS_E_NOT_WINDOWS);
	assert_non_null(strstr(err.msg, "not a registry hive"));
	ws_buf_release(&p);
	free(dir);
}

static void identity_is_read(void **state)
{
	char *dir = make_source(3, 1, 0);
	struct vol *v;
	struct ws_error err;
	const struct vol_info *in;

	ws_error_clear(&err);
	tu_assert_ok(vol_open(dir, &v, &err), &err);
	in = vol_get_info(v);
	assert_string_equal(in->computer_name, "DESKTOP-TEST01");
	assert_string_equal(in->product_name, "Windows 11 Pro");
	assert_string_equal(in->current_build, "22631");
	assert_int_equal(in->build_number, 22631);
	assert_string_equal(in->edition_id, "Professional");
	assert_string_equal(in->display_version, "23H2");
	assert_string_equal(in->installation_type, "Client");
	assert_string_equal(in->architecture, "AMD64");
	assert_int_equal(in->system_drive, 'C');
	assert_string_equal(in->system_root, "C:\\WINDOWS");
	assert_int_equal(in->control_set, 1);
	assert_false(in->system_dirty);
	assert_non_null(vol_system_hive(v));
	assert_non_null(vol_software_hive(v));
	vol_close(v);
	free(dir);
}

static void resolution_is_case_insensitive(void **state)
{
	char *dir = make_source(3, 1, 0);
	struct vol *v;
	struct ws_error err;
	struct ws_buf h = WS_BUF_INIT, w = WS_BUF_INIT, exp = WS_BUF_INIT;
	enum vol_res res;

	ws_error_clear(&err);
	tu_assert_ok(vol_open(dir, &v, &err), &err);
	const char *root = vol_get_info(v)->root;

	ws_buf_addf(&exp, "%s/Users/alice/NTUSER.DAT", root);
	tu_assert_ok(vol_resolve(v, "C:\\Users\\ALICE\\ntuser.dat", &h, &res,
				 &err), &err);
	assert_int_equal(res, VOL_RES_FOUND);
	assert_string_equal(h.buf, exp.buf);
	tu_assert_ok(vol_resolve(v, "USERS/alice/NTUSER.DAT", &h, &res, &err),
		     &err);
	assert_int_equal(res, VOL_RES_FOUND);
	assert_string_equal(h.buf, exp.buf);
	tu_assert_ok(vol_resolve(v, "c:/users\\Alice\\.\\x\\..\\NtUser.Dat",
				 &h, &res, &err), &err);
	assert_int_equal(res, VOL_RES_FOUND);
	assert_string_equal(h.buf, exp.buf);
	/* Cyrillic name: case folding beyond ASCII */
	tu_assert_ok(vol_resolve(v, "C:\\Users\\alice\\Documents\\\xd0\x9e\xd0\xa2\xd0\xa7\xd0\x81\xd0\xa2.XLSX",
				 &h, &res, &err), &err);
	assert_int_equal(res, VOL_RES_FOUND);

	/* never above the root */
	tu_assert_ok(vol_resolve(v, "C:\\..\\..\\..\\Users", &h, &res, &err),
		     &err);
	assert_int_equal(res, VOL_RES_FOUND);
	ws_buf_reset(&exp);
	ws_buf_addf(&exp, "%s/Users", root);
	assert_string_equal(h.buf, exp.buf);

	/* missing: what exists, then the rest as given */
	tu_assert_ok(vol_resolve(v, "C:\\users\\alice\\NoSuch\\File.txt", &h,
				 &res, &err), &err);
	assert_int_equal(res, VOL_RES_MISSING);
	ws_buf_reset(&exp);
	ws_buf_addf(&exp, "%s/Users/alice/NoSuch/File.txt", root);
	assert_string_equal(h.buf, exp.buf);

	/* links on the way are not followed */
	tu_assert_ok(vol_resolve(v, "C:\\Users\\alice\\Desktop\\system config\\passwd",
				 &h, &res, &err), &err);
	assert_int_equal(res, VOL_RES_LINK_IN_PATH);
	tu_assert_ok(vol_resolve(v, "C:\\Users\\alice\\My Documents\\Projects",
				 &h, &res, &err), &err);
	assert_int_equal(res, VOL_RES_LINK_IN_PATH);
	/* ... but a link as last component is found (not followed) */
	tu_assert_ok(vol_resolve(v, "C:\\Users\\alice\\my documents", &h, &res,
				 &err), &err);
	assert_int_equal(res, VOL_RES_FOUND);

	tu_assert_ok(vol_resolve(v, "D:\\Data", &h, &res, &err), &err);
	assert_int_equal(res, VOL_RES_OTHER_DRIVE);
	tu_assert_ok(vol_resolve(v, "\\\\server\\share\\x", &h, &res, &err),
		     &err);
	assert_int_equal(res, VOL_RES_OTHER_DRIVE);
	assert_int_equal(vol_resolve(v, "", &h, &res, &err), WS_E_USAGE);

	/* and back */
	ws_buf_reset(&exp);
	ws_buf_addf(&exp, "%s/Users/alice/NTUSER.DAT", root);
	tu_assert_ok(vol_winpath(v, exp.buf, &w, &err), &err);
	assert_string_equal(w.buf, "C:\\Users\\alice\\NTUSER.DAT");
	ws_buf_reset(&w);
	tu_assert_ok(vol_winpath(v, root, &w, &err), &err);
	assert_string_equal(w.buf, "C:\\");
	assert_int_equal(vol_winpath(v, "/etc/passwd", &w, &err), WS_E_USAGE);

	ws_buf_release(&h);
	ws_buf_release(&w);
	ws_buf_release(&exp);
	vol_close(v);
	free(dir);
}

struct walk_log {
	unsigned files, dirs, links, clouds, errors, other;
	int saw_app_data, saw_etc_link, saw_deep, saw_bad_name;
	int escaped;
	const char *root;
};

static int walk_cb(const struct vol_entry *e, void *ctx, struct ws_error *err)
{
	struct walk_log *l = ctx;

	if (strncmp(e->host_path, l->root, strlen(l->root)) ||
	    strstr(e->host_path, "/Application Data/") ||
	    strstr(e->host_path, "/system config/"))
		l->escaped = 1;
	switch (e->type) {
	case VOL_ENT_FILE:
		l->files++;
		assert_true(e->attributes & VOL_ATTR_ARCHIVE);
		break;
	case VOL_ENT_DIR:
		l->dirs++;
		assert_true(e->attributes & VOL_ATTR_DIRECTORY);
		break;
	case VOL_ENT_LINK:
		l->links++;
		assert_non_null(e->link_target);
		if (!strcmp(e->name, "Application Data")) {
			l->saw_app_data = 1;
			assert_non_null(e->link_win_target);
			assert_string_equal(e->link_win_target,
					    "C:\\Users\\alice\\AppData\\Local");
		}
		if (!strcmp(e->name, "system config")) {
			l->saw_etc_link = 1;
			assert_string_equal(e->link_target, "/etc");
			assert_null(e->link_win_target);
		}
		break;
	case VOL_ENT_CLOUD:
		l->clouds++;
		assert_int_equal(e->reparse_tag, 0x9000601a);
		break;
	case VOL_ENT_ERROR:
		l->errors++;
		break;
	default:
		l->other++;
	}
	if (!strcmp(e->name, "deep.txt")) {
		l->saw_deep = 1;
		assert_true(strlen(e->win_path) > 260);
		assert_string_equal(e->win_path + strlen(e->win_path) - 9,
				    "\\deep.txt");
	}
	if (!e->name_valid)
		l->saw_bad_name = 1;
	return VOL_WALK_CONTINUE;
}

static void walk_never_follows_links(void **state)
{
	char *dir = make_source(5, 1, 0);
	struct vol *v;
	struct ws_error err;
	struct walk_log l = { 0 };
	const struct vol_profile *p;
	struct ws_buf bad = WS_BUF_INIT;

	ws_error_clear(&err);
	tu_assert_ok(vol_open(dir, &v, &err), &err);
	p = vol_profile_find(v, "alice");
	assert_non_null(p);
	assert_non_null(p->host_path);
	/* a name that is not UTF-8 */
	ws_buf_addf(&bad, "%s/Desktop/bad-\xff\xfe.txt", p->host_path);
	tu_write_file(bad.buf, "x", 1);
	l.root = vol_get_info(v)->root;
	tu_assert_ok(vol_walk(v, p->host_path, walk_cb, &l, &err), &err);
	assert_false(l.escaped);
	assert_true(l.saw_app_data);
	assert_true(l.saw_etc_link);
	assert_true(l.saw_deep);
	assert_true(l.saw_bad_name);
	assert_int_equal(l.links, 3); /* Application Data, My Documents, /etc */
	assert_int_equal(l.clouds, 1);
	assert_int_equal(l.errors, 0);
	assert_true(l.files >= 25);

	/* walking through a link is refused, a path outside is a usage error */
	ws_buf_reset(&bad);
	ws_buf_addf(&bad, "%s/My Documents", p->host_path);
	memset(&l, 0, sizeof(l));
	l.root = vol_get_info(v)->root;
	tu_assert_ok(vol_walk(v, bad.buf, walk_cb, &l, &err), &err);
	assert_int_equal(l.links, 1);
	assert_int_equal(l.files + l.dirs, 0);
	assert_int_equal(vol_walk(v, "/etc", walk_cb, &l, &err), WS_E_USAGE);
	ws_buf_release(&bad);
	vol_close(v);
	free(dir);
}

static int count_cb(const struct vol_entry *e, void *ctx, struct ws_error *err)
{
	unsigned *n = ctx;

	(*n)++;
	if (e->type == VOL_ENT_DIR && !strcmp(e->name, "Documents"))
		return VOL_WALK_SKIP;
	if (e->type == VOL_ENT_FILE && !strcmp(e->name, "stop.txt")) {
		ws_error_set(err, WS_E_IO, e->host_path, "stopped by test");
		return -1;
	}
	return VOL_WALK_CONTINUE;
}

static void walk_skip_stop_and_long_paths(void **state)
{
	char *dir = make_source(5, 1, 0);
	struct vol *v;
	struct ws_error err;
	struct vol_entry e;
	struct vol_entry_hold hold = VOL_ENTRY_HOLD_INIT;
	struct ws_buf p = WS_BUF_INIT;
	unsigned n1 = 0, n2 = 0;
	char name[201];
	int fd;

	ws_error_clear(&err);
	tu_assert_ok(vol_open(dir, &v, &err), &err);
	const struct vol_profile *alice = vol_profile_find(v, "alice");

	/* SKIP: Documents' content is not visited */
	tu_assert_ok(vol_walk(v, alice->host_path, count_cb, &n1, &err), &err);
	struct walk_log l = { 0 };
	l.root = vol_get_info(v)->root;
	tu_assert_ok(vol_walk(v, alice->host_path, walk_cb, &l, &err), &err);
	assert_true(n1 < l.files + l.dirs + l.links + l.clouds + 1);

	/* a host path longer than PATH_MAX, built with openat */
	memset(name, 'n', 200);
	name[200] = '\0';
	fd = open(alice->host_path, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	for (int i = 0; i < 25; i++) {
		assert_int_equal(mkdirat(fd, name, 0755), 0);
		int next = openat(fd, name, O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = next;
		assert_true(fd >= 0);
	}
	int f = openat(fd, "stop.txt", O_WRONLY | O_CREAT, 0444);
	assert_true(f >= 0);
	close(f);
	close(fd);
	ws_buf_addf(&p, "%s/%s", alice->host_path, name);
	assert_int_equal(vol_walk(v, p.buf, count_cb, &n2, &err), WS_E_IO);
	assert_string_equal(err.msg, "stopped by test");
	assert_int_equal(n2, 26); /* 25 folders, then the file */
	/* from the root: reaches the same file */
	n2 = 0;
	assert_int_equal(vol_walk(v, vol_get_info(v)->root, count_cb, &n2, &err),
			 WS_E_IO);
	assert_true(n2 > 26);

	/* vol_stat: read-only attribute derived from the mode */
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/Desktop/ro.txt", alice->host_path);
	tu_write_file(p.buf, "r", 1);
	chmod(p.buf, 0444);
	tu_assert_ok(vol_stat(v, p.buf, &e, &hold, &err), &err);
	assert_int_equal(e.type, VOL_ENT_FILE);
	assert_int_equal(e.attributes, VOL_ATTR_ARCHIVE | VOL_ATTR_READONLY);
	assert_string_equal(e.win_path, "C:\\Users\\alice\\Desktop\\ro.txt");
	assert_int_equal(e.size, 1);
	ws_buf_adds(&p, ".missing");
	tu_assert_ok(vol_stat(v, p.buf, &e, &hold, &err), &err);
	assert_int_equal(e.type, VOL_ENT_ERROR);
	assert_int_equal(e.err_errno, ENOENT);

	vol_entry_hold_release(&hold);
	ws_buf_release(&p);
	vol_close(v);
	free(dir);
}

struct name_tally {
	unsigned files;
	unsigned char seen[3000];
};

static int tally_cb(const struct vol_entry *e, void *ctx, struct ws_error *err)
{
	struct name_tally *t = ctx;
	unsigned i;

	(void)err;
	if (e->type == VOL_ENT_FILE && sscanf(e->name, "%u-", &i) == 1 && i < 3000) {
		t->files++;
		t->seen[i]++;
	}
	return VOL_WALK_CONTINUE;
}

/* A folder whose entries take many reads of the directory (3,000 names of
 * about 100 bytes: far more than one read returns), walked twice: every
 * name is seen exactly once each time; vol_list gives them all, whole and
 * sorted, in the one block vol_list_free frees. */
static void walk_reads_big_folders_whole(void **state)
{
	char *dir = make_source(5, 1, 0);
	struct vol *v;
	struct ws_error err;
	struct ws_buf p = WS_BUF_INIT;
	size_t base;

	(void)state;
	ws_error_clear(&err);
	tu_assert_ok(vol_open(dir, &v, &err), &err);
	ws_buf_addf(&p, "%s/Documents/big", vol_profile_find(v, "alice")->host_path);
	assert_int_equal(mkdir(p.buf, 0755), 0);
	base = p.len;
	for (unsigned i = 0; i < 3000; i++) {
		ws_buf_setlen(&p, base);
		ws_buf_addf(&p, "/%u-%s.txt", i,
			    "a file name long enough that few fit in one directory read "
			    "of the kernel");
		tu_write_file(p.buf, "x", 1);
	}
	ws_buf_setlen(&p, base);
	for (int round = 0; round < 2; round++) {
		struct name_tally *t = calloc(1, sizeof(*t));

		tu_assert_ok(vol_walk(v, p.buf, tally_cb, t, &err), &err);
		assert_int_equal(t->files, 3000);
		for (unsigned i = 0; i < 3000; i++)
			assert_int_equal(t->seen[i], 1);
		free(t);
	}

	char **names = NULL;
	size_t n = 0;
	unsigned char *seen = calloc(3000, 1);
	char want[160];

	tu_assert_ok(vol_list(v, p.buf, &names, &n, &err), &err);
	assert_int_equal(n, 3000);
	for (size_t k = 0; k < n; k++) {
		unsigned i = 3000;

		assert_int_equal(sscanf(names[k], "%u-", &i), 1);
		assert_true(i < 3000);
		snprintf(want, sizeof(want), "%u-%s.txt", i,
			 "a file name long enough that few fit in one directory read "
			 "of the kernel");
		assert_string_equal(names[k], want);
		seen[i]++;
		if (k)
			assert_true(strcmp(names[k - 1], names[k]) < 0);
	}
	for (unsigned i = 0; i < 3000; i++)
		assert_int_equal(seen[i], 1);
	free(seen);
	vol_list_free(names, n);
	ws_buf_release(&p);
	vol_close(v);
	free(dir);
}

static void profiles_are_classified(void **state)
{
	char *dir = make_source(9, 2, 0);
	struct vol *v;
	struct ws_error err;
	struct ws_buf sid = WS_BUF_INIT, p = WS_BUF_INIT;
	const struct vol_profile *pr, *a;
	size_t n, users = 0, system = 0;

	/* an orphan profile folder (copied in, not in ProfileList) */
	ws_buf_addf(&p, "%s/Users/ghost", dir);
	ws_error_clear(&err);
	tu_assert_ok(ws_mkdir_p(p.buf, WS_E_IO, &err), &err);
	ws_buf_adds(&p, "/ntuser.dat");
	tu_write_file(p.buf, "x", 1);
	/* and a folder without hive: not a profile */
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/Users/NotAProfile", dir);
	tu_assert_ok(ws_mkdir_p(p.buf, WS_E_IO, &err), &err);

	tu_assert_ok(vol_open(dir, &v, &err), &err);
	pr = vol_profiles(v, &n);
	int saw_stale = 0, saw_default = 0, saw_public = 0, saw_ghost = 0;
	for (size_t i = 0; i < n; i++) {
		if (pr[i].kind == VOL_PROFILE_SYSTEM) {
			system++;
			assert_false(pr[i].stale);
		}
		if (pr[i].kind == VOL_PROFILE_USER && !pr[i].stale)
			users++;
		if (pr[i].stale) {
			saw_stale = 1;
			assert_string_equal(pr[i].account, "olduser");
			assert_string_equal(pr[i].stale_reason,
					    "profile folder missing");
			assert_null(pr[i].host_path);
			fx_stale_sid(9, &sid);
			assert_string_equal(pr[i].sid, sid.buf);
			ws_buf_reset(&sid);
		}
		if (pr[i].kind == VOL_PROFILE_DEFAULT) {
			saw_default = 1;
			assert_string_equal(pr[i].win_path, "C:\\Users\\Default");
			assert_non_null(pr[i].ntuser_path);
			assert_false(pr[i].stale);
		}
		if (pr[i].kind == VOL_PROFILE_PUBLIC) {
			saw_public = 1;
			assert_false(pr[i].stale);
		}
		if (!strcmp(pr[i].account, "ghost")) {
			saw_ghost = 1;
			assert_string_equal(pr[i].sid, "");
			assert_false(pr[i].in_profile_list);
			assert_int_equal(pr[i].kind, VOL_PROFILE_USER);
		}
		assert_string_not_equal(pr[i].account, "NotAProfile");
	}
	assert_int_equal(system, 3);
	assert_int_equal(users, 3); /* alice, bob, ghost */
	assert_true(saw_stale && saw_default && saw_public && saw_ghost);
	assert_string_equal(vol_profile_kind_name(VOL_PROFILE_SYSTEM), "system");

	fx_user_sid(9, 0, &sid);
	a = vol_profile_find(v, sid.buf);
	assert_non_null(a);
	assert_ptr_equal(a, vol_profile_find(v, "ALICE"));
	assert_string_equal(a->win_path, "C:\\Users\\alice");
	assert_non_null(a->ntuser_path);
	assert_non_null(a->usrclass_path);
	assert_non_null(strstr(a->usrclass_path,
			       "/AppData/Local/Microsoft/Windows/UsrClass.dat"));
	assert_true(a->in_profile_list);
	assert_true(a->unload_time > a->load_time);
	assert_int_equal(a->last_use, a->unload_time);
	assert_null(vol_profile_find(v, "nobody"));
	ws_buf_release(&sid);
	ws_buf_release(&p);
	vol_close(v);
	free(dir);
}

static void known_folders_and_variables(void **state)
{
	char *dir = make_source(11, 2, 1);
	struct vol *v;
	struct ws_error err;
	struct vol_vars sv = VOL_VARS_INIT, av = VOL_VARS_INIT,
			bv = VOL_VARS_INIT;
	struct ws_buf x = WS_BUF_INIT, sid = WS_BUF_INIT;

	ws_error_clear(&err);
	tu_assert_ok(vol_open(dir, &v, &err), &err);
	tu_assert_ok(vol_system_vars(v, &sv, &err), &err);
	assert_string_equal(vol_vars_get(&sv, "WINDIR"), "C:\\WINDOWS");
	assert_string_equal(vol_vars_get(&sv, "systemdrive"), "C:");
	assert_string_equal(vol_vars_get(&sv, "PROGRAMFILES"), "C:\\Program Files");
	assert_string_equal(vol_vars_get(&sv, "PROGRAMFILES(X86)"),
			    "C:\\Program Files (x86)");
	assert_string_equal(vol_vars_get(&sv, "PROFILESFOLDER"), "C:\\Users");
	assert_string_equal(vol_vars_get(&sv, "PUBLIC"), "C:\\Users\\Public");
	assert_string_equal(vol_vars_get(&sv, "ALLUSERSPROFILE"), "C:\\Users\\Public");
	assert_string_equal(vol_vars_get(&sv, "CSIDL_COMMON_APPDATA"), "C:\\ProgramData");
	assert_string_equal(vol_vars_get(&sv, "CSIDL_COMMON_DOCUMENTS"),
			    "C:\\Users\\Public\\Documents");
	assert_string_equal(vol_vars_get(&sv, "CSIDL_DEFAULT_APPDATA"),
			    "C:\\Users\\Default\\AppData\\Roaming");
	assert_string_equal(vol_vars_get(&sv, "SYSTEMPROFILE"),
			    "C:\\WINDOWS\\system32\\config\\systemprofile");
	assert_null(vol_vars_get(&sv, "USERPROFILE"));

	const struct vol_profile *alice = vol_profile_find(v, "alice");
	const struct vol_profile *bob = vol_profile_find(v, "bob");
	tu_assert_ok(vol_user_vars(v, alice, &av, &err), &err);
	/* alice's Documents is redirected in User Shell Folders */
	assert_string_equal(vol_vars_get(&av, "CSIDL_PERSONAL"),
			    "C:\\Users\\alice\\OneDrive\\Documents");
	assert_string_equal(vol_vars_get(&av, "CSIDL_MYDOCUMENTS"),
			    "C:\\Users\\alice\\OneDrive\\Documents");
	assert_string_equal(vol_vars_get(&av, "FOLDERID_DOWNLOADS"),
			    "C:\\Users\\alice\\Downloads");
	assert_string_equal(vol_vars_get(&av, "APPDATA"),
			    "C:\\Users\\alice\\AppData\\Roaming");
	assert_string_equal(vol_vars_get(&av, "CSIDL_LOCAL_APPDATA"),
			    "C:\\Users\\alice\\AppData\\Local");
	assert_string_equal(vol_vars_get(&av, "TEMP"),
			    "C:\\Users\\alice\\AppData\\Local\\Temp");
	assert_string_equal(vol_vars_get(&av, "CSIDL_STARTUP"),
			    "C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup");
	assert_string_equal(vol_vars_get(&av, "CSIDL_PROFILE"), "C:\\Users\\alice");
	assert_string_equal(vol_vars_get(&av, "HOMEPATH"), "\\Users\\alice");
	assert_string_equal(vol_vars_get(&av, "HOMEDRIVE"), "C:");
	fx_user_sid(11, 0, &sid);
	assert_string_equal(vol_vars_get(&av, "USERSID"), sid.buf);
	assert_string_equal(vol_vars_get(&av, "WINDIR"), "C:\\WINDOWS");

	tu_assert_ok(vol_user_vars(v, bob, &bv, &err), &err);
	assert_string_equal(vol_vars_get(&bv, "CSIDL_PERSONAL"),
			    "C:\\Users\\bob\\Documents");
	/* not in the hive: the Windows default */
	assert_string_equal(vol_vars_get(&bv, "FOLDERID_SAVEDGAMES"),
			    "C:\\Users\\bob\\Saved Games");

	assert_int_equal(vol_vars_expand(&av, "%CSIDL_PERSONAL%\\x [%Unknown%] 100%%",
					 &x), 1);
	assert_string_equal(x.buf,
			    "C:\\Users\\alice\\OneDrive\\Documents\\x [%Unknown%] 100%%");
	vol_vars_set(&av, "usersid", "S-1-0");
	assert_string_equal(vol_vars_get(&av, "USERSID"), "S-1-0");

	vol_vars_release(&sv);
	vol_vars_release(&av);
	vol_vars_release(&bv);
	ws_buf_release(&x);
	ws_buf_release(&sid);
	vol_close(v);
	free(dir);
}

static void missing_hive_falls_back_to_defaults(void **state)
{
	char *dir = make_source(13, 1, 0);
	struct vol *v;
	struct ws_error err;
	struct vol_vars av = VOL_VARS_INIT;
	struct ws_buf p = WS_BUF_INIT;
	size_t n;

	ws_buf_addf(&p, "%s/Users/alice/NTUSER.DAT", dir);
	assert_int_equal(unlink(p.buf), 0);
	ws_error_clear(&err);
	tu_assert_ok(vol_open(dir, &v, &err), &err);
	const struct vol_profile *a = vol_profile_find(v, "alice");
	assert_non_null(a);
	assert_true(a->stale);
	assert_string_equal(a->stale_reason, "NTUSER.DAT missing");
	assert_null(a->ntuser_path);
	tu_assert_ok(vol_user_vars(v, a, &av, &err), &err);
	assert_string_equal(vol_vars_get(&av, "CSIDL_PERSONAL"),
			    "C:\\Users\\alice\\Documents");
	(void)vol_profiles(v, &n);
	vol_vars_release(&av);
	ws_buf_release(&p);
	vol_close(v);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(not_windows_is_refused),
		cmocka_unit_test(identity_is_read),
		cmocka_unit_test(resolution_is_case_insensitive),
		cmocka_unit_test(walk_never_follows_links),
		cmocka_unit_test(walk_skip_stop_and_long_paths),
		cmocka_unit_test(walk_reads_big_folders_whole),
		cmocka_unit_test(profiles_are_classified),
		cmocka_unit_test(known_folders_and_variables),
		cmocka_unit_test(missing_hive_falls_back_to_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
