/* test_image.c - the volume module reading an NTFS image in-process
 * (vol_open_bd, libntfs-3g, no mount) reports exactly what it reports on
 * the same volume mounted with ntfs-3g: every entry of the walk (type,
 * size, attributes, times, reparse tag, link target), file contents,
 * security descriptors and named streams; the probe; a hibernated volume;
 * images that are not NTFS, truncated or damaged give clean errors.
 * The image is filled through an ntfs-3g mount: skipped (77) without root,
 * /dev/fuse, mkntfs, ntfs-3g or setfattr. */
#include "tu.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blockdev/blockdev.h"
#include "fixture.h"
#include "fx_ntfs.h"
#include "util/ws_fs.h"
#include "volume/volume.h"

static char *work, *img, *mnt;
static int mounted;
static uint64_t loop_a, loop_b; /* MFT records of LoopA and LoopA/LoopBee */

static int do_mount(const char *opts)
{
	if (tu_sh("ntfs-3g %s '%s' '%s'", opts, img, mnt) != 0)
		return -1;
	mounted = 1;
	return 0;
}

static void do_umount(void)
{
	if (mounted && tu_sh("umount '%s'", mnt) == 0)
		mounted = 0;
}

/* One line per entry, paths relative to the walk start: what a scan sees. */
struct dump {
	struct vol *v;
	struct ws_buf out;
	size_t n;
};

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static int dump_cb(const struct vol_entry *e, void *ctx, struct ws_error *err)
{
	struct dump *d = ctx;
	struct ws_buf sd = WS_BUF_INIT;
	struct vol_stream *st;
	size_t nst;
	int found;

	(void)err;
	d->n++;
	ws_buf_addf(&d->out, "%s|t%d|s%llu|a%x|%llu,%llu,%llu,%llu|r%x|%s|l%d",
		    e->win_path, (int)e->type, (unsigned long long)e->size,
		    e->attributes, (unsigned long long)e->creation_time,
		    (unsigned long long)e->write_time,
		    (unsigned long long)e->access_time,
		    (unsigned long long)e->change_time, e->reparse_tag,
		    /* an Interix link's text is a host path of the mount
		     * that made it: only reparse points are comparable */
		    e->link_win_target && e->reparse_tag ? e->link_win_target : "-",
		    e->loop);
	if (e->type == VOL_ENT_FILE) {
		struct vol_file *f;
		char buf[8192];
		long long r;
		uint64_t h = 1469598103934665603ull, total = 0;

		tu_assert_ok(vol_file_open(d->v, e->host_path, &f, err), err);
		assert_int_equal(vol_file_size(f), e->size);
		while ((r = vol_file_read(f, buf, sizeof(buf), err)) > 0) {
			h = fnv(buf, (size_t)r, h);
			total += (uint64_t)r;
		}
		assert_true(r == 0);
		vol_file_close(f);
		assert_int_equal(total, e->size);
		ws_buf_addf(&d->out, "|h%016llx", (unsigned long long)h);
	}
	if (e->type != VOL_ENT_ERROR) {
		tu_assert_ok(vol_sd_get(d->v, e->host_path, &sd, &found, err), err);
		ws_buf_addf(&d->out, "|sd%d:%016llx", found,
			    (unsigned long long)fnv(sd.buf, sd.len, 1));
		if (e->type != VOL_ENT_LINK && e->type != VOL_ENT_CLOUD) {
			tu_assert_ok(vol_streams(d->v, e->host_path, &st, &nst, err), err);
			for (size_t i = 0; i < nst; i++) {
				struct ws_buf x = WS_BUF_INIT;

				tu_assert_ok(vol_stream_read(d->v, e->host_path,
							     st[i].name, &x, err), err);
				assert_int_equal(x.len, st[i].size);
				ws_buf_addf(&d->out, "|ads:%s=%zu:%016llx", st[i].name,
					    x.len, (unsigned long long)fnv(x.buf, x.len, 1));
				ws_buf_release(&x);
			}
			vol_streams_free(st, nst);
		}
	}
	ws_buf_addch(&d->out, '\n');
	ws_buf_release(&sd);
	return VOL_WALK_CONTINUE;
}

/* Info, profiles and the walk of the whole volume, as text. */
static void dump_volume(struct vol *v, struct ws_buf *out)
{
	const struct vol_info *in = vol_get_info(v);
	const struct vol_profile *p;
	struct dump d = { v, WS_BUF_INIT, 0 };
	struct ws_buf root = WS_BUF_INIT;
	struct ws_error err;
	enum vol_res res;
	size_t n;

	ws_buf_addf(out, "%s %s %s %u dirty=%d,%d\n", in->computer_name,
		    in->product_name, in->current_build, in->control_set,
		    in->system_dirty, in->software_dirty);
	p = vol_profiles(v, &n);
	for (size_t i = 0; i < n; i++)
		ws_buf_addf(out, "profile %s %s %s stale=%d nt=%d uc=%d last=%llu\n",
			    p[i].sid, p[i].account, p[i].win_path, p[i].stale,
			    !!p[i].ntuser_path, !!p[i].usrclass_path,
			    (unsigned long long)p[i].last_use);
	ws_error_clear(&err);
	tu_assert_ok(vol_resolve(v, "C:\\", &root, &res, &err), &err);
	tu_assert_ok(vol_walk(v, root.buf, dump_cb, &d, &err), &err);
	ws_buf_add(out, d.out.buf, d.out.len);
	assert_true(d.n > 50);
	ws_buf_release(&d.out);
	ws_buf_release(&root);
}

static void setf(const char *name, const char *val, const char *rel)
{
	if (tu_sh("setfattr -h -n %s -v %s '%s/%s'", name, val, mnt, rel))
		fail_msg("setfattr %s on %s failed", name, rel);
}

/* Fill the image: a fixture installation, a junction, a OneDrive
 * placeholder, named streams, odd attributes and times, a descriptor. */
static void fill_image(void)
{
	struct fx_opts o;
	struct ws_error err;
	struct ws_buf p = WS_BUF_INIT;

	assert_int_equal(do_mount(""), 0);
	fx_opts_init(&o);
	o.out_dir = mnt;
	o.files = 4;
	ws_error_clear(&err);
	tu_assert_ok(fx_build(&o, NULL, &err), &err);
	ws_buf_addf(&p, "%s/Users/alice/JDocs", mnt);
	tu_assert_ok(ws_mkdir_p(p.buf, WS_E_IO, &err), &err);
	tu_assert_ok(fx_ntfs_junction(p.buf, "C:\\Users\\alice\\Documents", &err), &err);
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/Users/alice/Documents/placeholder.docx", mnt);
	tu_write_file(p.buf, "", 0);
	setf("system.ntfs_reparse_data", "0x1a600090080000000102030405060708",
	     "Users/alice/Documents/placeholder.docx");
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/Users/alice/Documents/odd.txt", mnt);
	tu_write_file(p.buf, "odd", 3);
	setf("user.Zone.Identifier", "0x5b5a6f6e655472616e736665725d0d0a", "Users/alice/Documents/odd.txt");
	setf("system.ntfs_attrib_be", "0x00000027", "Users/alice/Documents/odd.txt");
	/* creation 1999, write 2001, access 2030, change 2002 */
	setf("system.ntfs_times_be",
	     "0x01be53e2f0c8e00001c0b1a5d0f2b8000232fe4ac5f5e00001c1eefe8c3a2000",
	     "Users/alice/Documents/odd.txt");
	/* owner BA, group SY, DACL: Everyone read */
	setf("system.ntfs_acl", "0x01000480140000002400000000000000300000000102000000000005200000002002000001010000000000051200000002001c000100000000001400a9001200010100000000000100000000",
	     "Users/alice/Documents/odd.txt");
	/* a folder whose index will be made to point at its parent */
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/Users/alice/LoopA/LoopBee", mnt);
	tu_assert_ok(ws_mkdir_p(p.buf, WS_E_IO, &err), &err);
	{
		struct stat st;

		assert_int_equal(stat(p.buf, &st), 0);
		loop_b = st.st_ino;
		ws_buf_setlen(&p, p.len - strlen("/LoopBee"));
		assert_int_equal(stat(p.buf, &st), 0);
		loop_a = st.st_ino;
	}
	do_umount();
	ws_buf_release(&p);
}

static void image_equals_mount(void **state)
{
	struct bd_source *src;
	struct ws_error err;
	struct vol *vi, *vm;
	struct ws_buf a = WS_BUF_INIT, b = WS_BUF_INIT;
	struct vol_ntfs_facts f;

	(void)state;
	ws_error_clear(&err);
	tu_assert_ok(bd_file_open(img, 0, 0, &src, &err), &err);
	tu_assert_ok(vol_ntfs_probe(src, &f, &err), &err);
	assert_true(f.is_ntfs);
	assert_true(f.has_windows);
	assert_false(f.hibernated);
	assert_true(f.serial != 0);

	tu_assert_ok(vol_open_bd(src, work, &vi, &err), &err);
	assert_true(vol_is_image(vi));
	assert_false(vol_get_info(vi)->ntfs_hibernated);
	dump_volume(vi, &a);
	vol_close(vi);

	/* the same file system as a data volume D: (no Windows needed) */
	{
		struct ws_buf h = WS_BUF_INIT;
		struct vol_entry_hold hold = VOL_ENTRY_HOLD_INIT;
		struct vol_entry e;
		enum vol_res res;

		tu_assert_ok(vol_open_bd_data(src, 'd', work, &vi, &err), &err);
		assert_null(vol_system_hive(vi));
		tu_assert_ok(vol_resolve(vi, "D:\\users\\ALICE\\documents\\ODD.TXT",
					 &h, &res, &err), &err);
		assert_int_equal(res, VOL_RES_FOUND);
		tu_assert_ok(vol_stat(vi, h.buf, &e, &hold, &err), &err);
		assert_string_equal(e.win_path, "D:\\Users\\alice\\Documents\\odd.txt");
		assert_int_equal(e.size, 3);
		ws_buf_reset(&h);
		tu_assert_ok(vol_resolve(vi, "C:\\Users", &h, &res, &err), &err);
		assert_int_equal(res, VOL_RES_OTHER_DRIVE);
		vol_entry_hold_release(&hold);
		ws_buf_release(&h);
		vol_close(vi);
	}

	assert_int_equal(do_mount("-o ro"), 0);
	tu_assert_ok(vol_open(mnt, &vm, &err), &err);
	assert_false(vol_is_image(vm));
	dump_volume(vm, &b);
	vol_close(vm);
	do_umount();
	if (strcmp(a.buf, b.buf)) {
		tu_write_file("/tmp/ws-image.txt", a.buf, a.len);
		tu_write_file("/tmp/ws-mount.txt", b.buf, b.len);
	}
	assert_string_equal(a.buf, b.buf);
	/* the odd file is there with its stream, descriptor and times */
	assert_non_null(strstr(a.buf, "odd.txt|t0|s3|a27|"));
	assert_non_null(strstr(a.buf, "ads:Zone.Identifier=16:"));
	assert_non_null(strstr(a.buf, "placeholder.docx|t3|"));
	{
		const char *j = strstr(a.buf, "JDocs|t2|");

		assert_non_null(j);
		assert_non_null(strstr(j, "|ra0000003|C:\\Users\\alice\\Documents|"));
	}
	bd_close(src);
	ws_buf_release(&a);
	ws_buf_release(&b);
}

/* A hiberfil.sys holding a hibernation image: read all the same, said. */
static void hibernated_volume_is_read(void **state)
{
	struct bd_source *src;
	struct ws_error err;
	struct vol *v;
	struct vol_ntfs_facts f;
	struct ws_buf p = WS_BUF_INIT;
	char hdr[4096] = "HIBR";

	(void)state;
	assert_int_equal(do_mount(""), 0);
	ws_buf_addf(&p, "%s/hiberfil.sys", mnt);
	tu_write_file(p.buf, hdr, sizeof(hdr));
	do_umount();
	ws_error_clear(&err);
	tu_assert_ok(bd_file_open(img, 0, 0, &src, &err), &err);
	tu_assert_ok(vol_ntfs_probe(src, &f, &err), &err);
	assert_true(f.hibernated);
	tu_assert_ok(vol_open_bd(src, work, &v, &err), &err);
	assert_true(vol_get_info(v)->ntfs_hibernated);
	vol_close(v);
	bd_close(src);
	/* ntfs-3g itself only mounts it read-only now; clear it */
	assert_int_equal(tu_sh("ntfs-3g -o remove_hiberfile '%s' '%s'", img, mnt), 0);
	mounted = 1;
	assert_int_equal(access(p.buf, F_OK), -1);
	do_umount();
	ws_buf_release(&p);
}

/* Not NTFS, truncated, damaged: clean errors. */
static void hostile_images_fail_cleanly(void **state)
{
	static unsigned char zeros[65536];
	struct bd_source *mem;
	struct ws_error err;
	struct vol *v = NULL;
	struct vol_ntfs_facts f;
	size_t len;
	unsigned char *data;
	int rc;

	(void)state;
	mem = bd_mem_open(zeros, sizeof(zeros), "zeros");
	ws_error_clear(&err);
	assert_int_equal(vol_open_bd(mem, work, &v, &err), WS_E_NOT_WINDOWS);
	assert_null(v);
	tu_assert_ok(vol_ntfs_probe(mem, &f, &err), &err);
	assert_false(f.is_ntfs);
	bd_close(mem);

	/* the first 2 MiB only: the boot sector says NTFS, the MFT is cut */
	data = (unsigned char *)tu_read_file(img, &len);
	assert_true(len > (8u << 20));
	mem = bd_mem_open(data, 2u << 20, "truncated.img");
	rc = vol_open_bd(mem, work, &v, &err);
	assert_true(rc == WS_E_IO || rc == WS_E_NOT_WINDOWS);
	assert_null(v);
	bd_close(mem);

	/* every MFT record's "FILE" magic broken in the first 16 MiB */
	for (size_t off = 0; off + 4 <= len && off < (16u << 20); off += 1024)
		if (!memcmp(data + off, "FILE", 4))
			memcpy(data + off, "BAAD", 4);
	mem = bd_mem_open(data, len, "damaged.img");
	rc = vol_open_bd(mem, work, &v, &err);
	assert_true(rc == WS_E_IO || rc == WS_E_NOT_WINDOWS);
	assert_null(v);
	bd_close(mem);
	free(data);
}

struct loopseen {
	int loop, entered;
	unsigned n;
};

static int loop_cb(const struct vol_entry *e, void *ctx, struct ws_error *err)
{
	struct loopseen *l = ctx;

	(void)err;
	if (++l->n > 1000)
		return VOL_WALK_STOP;
	if (!strcmp(e->name, "LoopBee") && e->loop)
		l->loop = 1;
	if (strstr(e->win_path, "LoopBee\\"))
		l->entered = 1;
	return VOL_WALK_CONTINUE;
}

/* LoopA's index entry for LoopBee made to point at LoopA itself (a loop in
 * the directory tree): the walk sees a folder it is already in and does
 * not enter it. */
static void directory_loop_is_not_entered(void **state)
{
	static const unsigned char name[] = { 'L', 0, 'o', 0, 'o', 0, 'p', 0,
					      'B', 0, 'e', 0, 'e', 0 };
	struct bd_source *mem;
	struct ws_error err;
	struct ws_buf h = WS_BUF_INIT;
	struct vol *v;
	struct loopseen l = { 0, 0, 0 };
	enum vol_res res;
	size_t len, patched = 0;
	unsigned char *d;

	(void)state;
	d = (unsigned char *)tu_read_file(img, &len);
	for (size_t i = 82; i + sizeof(name) <= len; i++) {
		unsigned char *e;

		if (memcmp(d + i, name, sizeof(name)))
			continue;
		e = d + i - 82; /* index entry: file ref, lengths, FILE_NAME key */
		if ((ws_get_u64le(e) & 0xFFFFFFFFFFFFull) != loop_b ||
		    (ws_get_u64le(e + 16) & 0xFFFFFFFFFFFFull) != loop_a)
			continue;
		/* an update sequence slot (last 2 bytes of a sector) stays */
		if ((size_t)(e - d) % 512 > 502)
			continue;
		memcpy(e, e + 16, 8); /* LoopBee -> LoopA (with its sequence) */
		patched++;
	}
	assert_true(patched >= 1);
	mem = bd_mem_open(d, len, "loop.img");
	ws_error_clear(&err);
	tu_assert_ok(vol_open_bd(mem, work, &v, &err), &err);
	tu_assert_ok(vol_resolve(v, "C:\\Users\\alice\\LoopA", &h, &res, &err), &err);
	assert_int_equal(res, VOL_RES_FOUND);
	tu_assert_ok(vol_walk(v, h.buf, loop_cb, &l, &err), &err);
	assert_true(l.loop);
	assert_false(l.entered);
	assert_true(l.n < 10);
	vol_close(v);
	bd_close(mem);
	ws_buf_release(&h);
	free(d);
}

static int group_setup(void **state)
{
	(void)state;
	fill_image();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	do_umount();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(image_equals_mount, teardown),
		cmocka_unit_test_teardown(hibernated_volume_is_read, teardown),
		cmocka_unit_test(hostile_images_fail_cleanly),
		cmocka_unit_test(directory_loop_is_not_entered),
	};
	int rc;

	if (geteuid() != 0 || access("/dev/fuse", R_OK | W_OK) != 0 ||
	    tu_sh("command -v mkntfs && command -v ntfs-3g && command -v setfattr >/dev/null")) {
		printf("[  SKIP    ] needs root, /dev/fuse, mkntfs, ntfs-3g and setfattr\n");
		return 77;
	}
	work = tu_tmpdir();
	img = ws_xasprintf("%s/ntfs.img", work);
	mnt = ws_xasprintf("%s/mnt", work);
	if (mkdir(mnt, 0755) != 0 || tu_sh("truncate -s 64M '%s'", img) ||
	    tu_sh("mkntfs -q -F -f -L WINIMG '%s'", img) || do_mount("") != 0) {
		printf("[  SKIP    ] cannot make or mount an NTFS image here\n");
		free(work), free(img), free(mnt);
		return 77;
	}
	do_umount();
	rc = cmocka_run_group_tests(tests, group_setup, NULL);
	do_umount();
	free(work), free(img), free(mnt);
	return rc;
}
