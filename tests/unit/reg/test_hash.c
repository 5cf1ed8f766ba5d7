/* test_hash.c - Windows' key-name hash, lf hint and sibling order (reg_hash.c)
 * proven on every subkey list of the real Windows-written hives in
 * ../shared/testdata, read with a small regf walker of the test's own. */
#include "tu.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "reg/reg.h"
#include "reg/reg_hash.h"
#include "util/ws_fs.h"
#include "util/ws_utf.h"

static char *scratch;
static struct reg_upcase *uc;
static int no_testdata;       /* then exit 77, so ctest shows the skip */

static int setup(void **state)
{
	scratch = tu_tmpdir();
	uc = reg_upcase_new();
	return 0;
}

static int teardown(void **state)
{
	reg_upcase_free(uc);
	free(scratch);
	return 0;
}

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

/* ---- the table and the formulas on names whose values are known --------- */

static void upcase_table(void **state)
{
	assert_int_equal(reg_upcase_unit(uc, 'a'), 'A');
	assert_int_equal(reg_upcase_unit(uc, 'Z'), 'Z');
	assert_int_equal(reg_upcase_unit(uc, '_'), '_');
	assert_int_equal(reg_upcase_unit(uc, 0xe9), 0xc9);    /* é */
	assert_int_equal(reg_upcase_unit(uc, 0xff), 0x178);   /* ÿ */
	assert_int_equal(reg_upcase_unit(uc, 0xdf), 0xdf);    /* ß stays */
	assert_int_equal(reg_upcase_unit(uc, 0x3b1), 0x391);  /* α */
	assert_int_equal(reg_upcase_unit(uc, 0x44f), 0x42f);  /* я */
	assert_int_equal(reg_upcase_unit(uc, 0xff41), 0xff21); /* fullwidth a */
	assert_int_equal(reg_upcase_unit(uc, 0xd83d), 0xd83d); /* surrogates */
}

static void hash_formula(void **state)
{
	/* "Ab" compressed: ('A' * 37) + 'B'; as UTF-16 the same */
	struct reg_name c = { (const unsigned char *)"Ab", 2, 1 };
	struct reg_name u = { (const unsigned char *)"A\0b\0", 4, 0 };
	/* "Café": Latin-1 E9 upper-cases to C9 */
	struct reg_name cafe = { (const unsigned char *)"Caf\xe9", 4, 1 };
	struct reg_name lcafe = { (const unsigned char *)"cAF\xc9", 4, 1 };
	struct reg_name greek = { (const unsigned char *)"\xb1\x03\xb2\x03", 4, 0 };
	uint32_t h = 0;

	assert_int_equal(reg_name_hash(uc, &c), 'A' * 37 + 'B');
	assert_int_equal(reg_name_hash(uc, &u), 'A' * 37 + 'B');
	for (const char *p = "CAF"; *p; p++)
		h = h * 37 + (unsigned char)*p;
	assert_int_equal(reg_name_hash(uc, &cafe), h * 37 + 0xc9);
	assert_int_equal(reg_name_hash(uc, &lcafe), reg_name_hash(uc, &cafe));
	assert_int_equal(reg_name_cmp(uc, &cafe, &lcafe), 0);
	assert_int_equal(reg_name_hash(uc, &greek), 0x391 * 37 + 0x392);
	/* hints: the bytes as stored, zero when a unit needs two bytes */
	assert_int_equal(reg_name_hint(&cafe), le32((const unsigned char *)"Caf\xe9"));
	assert_int_equal(reg_name_hint(&u), 'A' | 'b' << 8);
	assert_int_equal(reg_name_hint(&greek), 0);
	/* order: upper-cased units, so '_' (5F) sorts after 'z' ('Z' = 5A) */
	struct reg_name us = { (const unsigned char *)"_x", 2, 1 };
	struct reg_name z = { (const unsigned char *)"zz", 2, 1 };
	struct reg_name zz = { (const unsigned char *)"zzz", 3, 1 };

	assert_true(reg_name_cmp(uc, &z, &us) < 0);
	assert_true(reg_name_cmp(uc, &z, &zz) < 0);
	assert_true(reg_name_cmp(uc, &greek, &cafe) > 0);
}

/* ---- proof on real hives ----------------------------------------------- */

/* One leaf element: the UTF-8 name of the key it points to, what it holds. */
struct elem {
	char *name;
	int kind;              /* 'h' or 'f' */
	uint32_t stored;
};

struct proof {
	size_t lh, lf, lf_nonzero, pairs, nonascii;
	size_t bad_hash, bad_hint, bad_order;
	struct elem *el;       /* when collecting: every element seen */
	size_t nel, ael;
	int collect;
};

static void proof_release(struct proof *p)
{
	for (size_t i = 0; i < p->nel; i++)
		free(p->el[i].name);
	free(p->el);
}

static char *name_utf8(const struct reg_name *n)
{
	struct ws_buf b = WS_BUF_INIT;

	if (!n->comp) {
		ws_utf16le_to_utf8(n->p, n->len, &b, 0);
		return ws_buf_detach(&b, NULL);
	}
	for (size_t i = 0; i < n->len; i++) {   /* Latin-1 */
		if (n->p[i] < 0x80) {
			ws_buf_addch(&b, (char)n->p[i]);
		} else {
			ws_buf_addch(&b, (char)(0xc0 | n->p[i] >> 6));
			ws_buf_addch(&b, (char)(0x80 | (n->p[i] & 0x3f)));
		}
	}
	return ws_buf_detach(&b, NULL);
}

/* The key node at hive-bins offset `off` of `img`: its name, or 0. */
static int nk_name(const unsigned char *img, size_t len, uint32_t off,
		   struct reg_name *n)
{
	size_t at = 4096 + (size_t)off;
	int32_t sz;

	if (at + 4 + 76 > len)
		return 0;
	sz = (int32_t)le32(img + at);
	if (sz >= 0 || memcmp(img + at + 4, "nk", 2) != 0)
		return 0;
	n->comp = (le16(img + at + 6) & 0x20) != 0;
	n->len = le16(img + at + 4 + 72);
	n->p = img + at + 4 + 76;
	return at + 4 + 76 + n->len <= len && (size_t)-(int64_t)sz >= 80 + n->len;
}

static int is_ascii(const struct reg_name *n)
{
	for (size_t i = 0; i < n->len; i++)
		if (n->p[i] >= 0x80 || (!n->comp && i % 2 && n->p[i]))
			return 0;
	return 1;
}

/*
 * Every allocated lh and lf cell of the hive image, found by stepping
 * through each hbin cell by cell (not through the key tree, so this shares
 * nothing with reg_fix_image's walk): each hash and hint against the
 * name of the key node it points to, and each pair of neighbours in order.
 */
static void prove_image(const unsigned char *img, size_t len, struct proof *p,
			const char *label)
{
	size_t bins = le32(img + 40), at = 4096;

	assert_true(4096 + bins <= len);
	while (at + 32 <= 4096 + bins) {
		size_t size = le32(img + at + 8), c;

		assert_memory_equal(img + at, "hbin", 4);
		assert_true(size >= 4096 && at + size <= 4096 + bins);
		for (c = at + 32; c + 4 <= at + size;) {
			int32_t sz = (int32_t)le32(img + c);
			size_t abs = sz < 0 ? (size_t)-(int64_t)sz : (size_t)sz;
			const unsigned char *d = img + c + 4;

			assert_true(abs >= 8 && c + abs <= at + size);
			if (sz < 0 && d[0] == 'l' && (d[1] == 'h' || d[1] == 'f')) {
				size_t n = le16(d + 2);
				struct reg_name prev = { 0 }, cur;

				assert_true(8 + 8 * n <= abs);
				for (size_t i = 0; i < n; i++) {
					uint32_t stored = le32(d + 8 + 8 * i);

					if (!nk_name(img, len, le32(d + 4 + 8 * i), &cur))
						fail_msg("%s: leaf at 0x%zx points to no key node",
							 label, c - 4096);
					if (!is_ascii(&cur))
						p->nonascii++;
					if (p->collect) {
						WS_ALLOC_GROW(p->el, p->nel + 1, p->ael);
						p->el[p->nel].name = name_utf8(&cur);
						p->el[p->nel].kind = d[1];
						p->el[p->nel++].stored = stored;
					}
					if (d[1] == 'h') {
						p->lh++;
						if (stored != reg_name_hash(uc, &cur)) {
							p->bad_hash++;
							printf("  %s: lh 0x%zx[%zu] hash %08x, computed %08x\n",
							       label, c - 4096, i, stored,
							       reg_name_hash(uc, &cur));
						}
					} else {
						p->lf++;
						if (stored)
							p->lf_nonzero++;
						if (stored != reg_name_hint(&cur)) {
							p->bad_hint++;
							printf("  %s: lf 0x%zx[%zu] hint %08x, computed %08x\n",
							       label, c - 4096, i, stored,
							       reg_name_hint(&cur));
						}
					}
					if (i) {
						p->pairs++;
						if (reg_name_cmp(uc, &prev, &cur) >= 0) {
							p->bad_order++;
							printf("  %s: leaf 0x%zx out of order at %zu\n",
							       label, c - 4096, i);
						}
					}
					prev = cur;
				}
			}
			c += abs;
		}
		at += size;
	}
}

static void real_hives(void **state)
{
	static const char *const hives[] = {
		"hives/regipy/NTUSER.DAT", "hives/regipy/NTUSER-WSL.DAT",
		"hives/regipy/NTUSER_with_winscp.DAT", "hives/regipy/UsrClass.dat",
		"hives/regipy/SYSTEM_WIN_10_1709", "hives/regipy/ntuser_software_partial",
		"hives/regipy/transactions_NTUSER.DAT",
		"hives/dfwinreg/NTUSER.DAT", "hives/dfwinreg/UsrClass.dat",
		"hives/notatin/NTUSER.DAT",
	};
	struct proof all = { 0 };
	int found = 0;

	for (size_t i = 0; i < sizeof(hives) / sizeof(hives[0]); i++) {
		char *path = tu_testdata_hive(hives[i], scratch);
		struct proof p = { 0 };
		unsigned char *img;
		size_t len;

		if (!path)
			continue;
		found++;
		img = (unsigned char *)tu_read_file(path, &len);
		prove_image(img, len, &p, hives[i]);
		printf("  %s (1.%u): %zu lh hashes, %zu lf hints (%zu non-zero), "
		       "%zu neighbour pairs, %zu non-ASCII names\n", hives[i],
		       le32(img + 24), p.lh, p.lf, p.lf_nonzero, p.pairs, p.nonascii);
		/* Windows writes lh leaves only from format 1.5 on */
		if (le32(img + 24) < 5)
			assert_int_equal(p.lh, 0);
		all.lh += p.lh;
		all.lf += p.lf;
		all.nonascii += p.nonascii;
		all.bad_hash += p.bad_hash;
		all.bad_hint += p.bad_hint;
		all.bad_order += p.bad_order;
		free(img);
		free(path);
	}
	if (!found) {
		no_testdata = 1;
		skip();
	}
	printf("  all: %zu lh hashes, %zu lf hints, %zu non-ASCII names; "
	       "%zu/%zu/%zu wrong\n", all.lh, all.lf, all.nonascii, all.bad_hash,
	       all.bad_hint, all.bad_order);
	assert_true(all.lh > 1000);
	assert_true(all.lf > 1000);
	assert_int_equal(all.bad_hash, 0);
	assert_int_equal(all.bad_hint, 0);
	assert_int_equal(all.bad_order, 0);
}

/* ---- what reg_hive_commit writes ---------------------------------------- */

/* Names hivex gets wrong, in scripts where Python's str.upper() agrees with
 * Windows' table (so Python can give the expected values independently). */
static const char *const uni_names[] = {
	"Caf\xc3\xa9",                                   /* Café */
	"\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9",   /* Ünïcödé */
	"\xc3\xbf" "end",                              /* ÿend: ÿ -> U+0178 */
	"\xce\xb1\xce\xbb\xcf\x86\xce\xac",             /* αλφά */
	"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", /* Привет */
	"Emoji\xf0\x9f\x98\x80",                         /* Emoji😀 (surrogates) */
	"caf\xc3\xb1",                                   /* cafñ: sorts after Café */
	"_under", "zeta", "Alpha", "ABC",
};
#define NUNI (sizeof(uni_names) / sizeof(uni_names[0]))

/* Under `parent` of the hive at `p`: a key per uni_names entry, each with a
 * subkey "Sub" (a first child: hivex starts a new leaf list for it). */
static void add_uni_keys(const char *p, const char *parent, uint64_t when)
{
	struct reg_hive *h;
	struct ws_error e;
	reg_node k;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_open(p, REG_OPEN_WRITE, &h, &e), &e);
	if (when)
		reg_hive_set_write_time(h, when);
	for (size_t i = 0; i < NUNI; i++) {
		char *kp = ws_xasprintf("%s%s%s\\Sub", parent, *parent ? "\\" : "",
					uni_names[i]);

		tu_assert_ok(reg_key_create(h, reg_root(h), kp, &k, &e), &e);
		tu_assert_ok(reg_set_dword(h, k, "N", (uint32_t)i, &e), &e);
		free(kp);
	}
	tu_assert_ok(reg_hive_commit(h, NULL, &e), &e);
	reg_hive_close(h);
}

/* Hash and hint of each name computed by Python, not by reg_hash.c. */
static void python_expect(uint32_t *hash, uint32_t *hint)
{
	char *dir = tu_tmpdir();
	char *names = ws_xasprintf("%s/names", dir), *cmd;
	struct ws_buf in = WS_BUF_INIT, out = WS_BUF_INIT;
	char *line;

	for (size_t i = 0; i < NUNI; i++)
		ws_buf_addf(&in, "%s\n", uni_names[i]);
	tu_write_file(names, in.buf, in.len);
	cmd = ws_xasprintf(
		"/usr/bin/python3 -c '\n"
		"import struct, sys\n"
		"for n in open(sys.argv[1], encoding=\"utf-8\").read().split(\"\\n\")[:-1]:\n"
		"    up = n.upper().encode(\"utf-16-le\")\n"
		"    h = 0\n"
		"    for (u,) in struct.iter_unpack(\"<H\", up): h = (h * 37 + u) & 0xffffffff\n"
		"    units = [u for (u,) in struct.iter_unpack(\"<H\", n.encode(\"utf-16-le\"))][:4]\n"
		"    hint = 0 if any(u > 255 for u in units) else sum(u << (8 * i) for i, u in enumerate(units))\n"
		"    print(h, hint)\n' '%s'", names);
	assert_int_equal(tu_run(cmd, &out), 0);
	line = out.buf;
	for (size_t i = 0; i < NUNI; i++) {
		char *end;

		hash[i] = (uint32_t)strtoul(line, &end, 10);
		hint[i] = (uint32_t)strtoul(end, &end, 10);
		assert_int_equal(*end, '\n');
		line = end + 1;
	}
	free(cmd);
	free(names);
	free(dir);
	ws_buf_release(&in);
	ws_buf_release(&out);
}

/* The committed file: every leaf right, lh only from 1.5 on, each new name's
 * element holding Python's value, and a second repair changing nothing. */
static void check_committed(const char *p, unsigned minor, size_t min_elems)
{
	struct proof pr = { .collect = 1 };
	struct reg_fix_stats st;
	struct ws_error e;
	uint32_t hash[NUNI], hint[NUNI];
	unsigned char *img;
	size_t len;

	img = (unsigned char *)tu_read_file(p, &len);
	assert_int_equal(le32(img + 24), minor);
	prove_image(img, len, &pr, p);
	assert_int_equal(pr.bad_hash, 0);
	assert_int_equal(pr.bad_hint, 0);
	assert_int_equal(pr.bad_order, 0);
	assert_true(pr.lh + pr.lf >= min_elems);
	if (minor < 5)
		assert_int_equal(pr.lh, 0);
	else
		assert_int_equal(pr.lf, 0);
	if (access("/usr/bin/python3", X_OK) == 0) {
		python_expect(hash, hint);
		for (size_t i = 0; i < NUNI; i++) {
			size_t hits = 0;

			for (size_t j = 0; j < pr.nel; j++) {
				if (strcmp(pr.el[j].name, uni_names[i]) != 0)
					continue;
				hits++;
				assert_int_equal(pr.el[j].stored,
						 pr.el[j].kind == 'h' ? hash[i] : hint[i]);
			}
			if (!hits)
				fail_msg("no leaf element for %s", uni_names[i]);
		}
	}
	proof_release(&pr);
	free(img);
	ws_error_clear(&e);
	tu_assert_ok(reg_fix_file(p, NULL, 0, &st, &e), &e);
	assert_int_equal(st.hashes_fixed + st.hints_fixed + st.converted +
			 st.resorted + st.skipped, 0);
}

static char *new_hive(unsigned minor, uint64_t ts)
{
	char *d = tu_tmpdir();
	char *p = ws_xasprintf("%s/hive%u.dat", d, minor);
	struct reg_create_opts o = { .minor = minor, .timestamp = ts };
	struct ws_error e;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_create(p, &o, &e), &e);
	free(d);
	return p;
}

/* Independent readers find every new key. */
static void check_readers(const char *p)
{
	struct ws_buf out = WS_BUF_INIT;
	char *cmd;

	if (tu_have("regfexport")) {
		cmd = ws_xasprintf("regfexport '%s' 2>&1", p);
		assert_int_equal(tu_run(cmd, &out), 0);
		free(cmd);
		assert_null(strstr(out.buf, "rror"));
		for (size_t i = 0; i < NUNI; i++) {
			char *want = ws_xasprintf("Key path: ROOT\\%s\\Sub\n", uni_names[i]);

			if (!strstr(out.buf, want))
				fail_msg("regfexport lacks %s", want);
			free(want);
		}
	}
	if (tu_have("reglookup")) {
		cmd = ws_xasprintf("reglookup -t DWORD '%s' 2>&1", p);
		assert_int_equal(tu_run(cmd, &out), 0);
		free(cmd);
		for (size_t i = 0; i < NUNI; i++) {
			char *want = ws_xasprintf("/Sub/N,DWORD,0x%08zX,", i);

			if (!strstr(out.buf, want))
				fail_msg("reglookup lacks %s:\n%s", want, out.buf);
			free(want);
		}
	}
	if (tu_have("hivexregedit")) {
		/* Perl prints Latin-1 names as Latin-1 bytes unless told UTF-8 */
		cmd = ws_xasprintf("PERL_UNICODE=S hivexregedit --export '%s' '\\' 2>&1", p);
		assert_int_equal(tu_run(cmd, &out), 0);
		free(cmd);
		for (size_t i = 0; i < NUNI; i++) {
			char *want = ws_xasprintf("[\\%s\\Sub]\n\"N\"=dword:%08zx\n",
						  uni_names[i], i);

			if (!strstr(out.buf, want))
				fail_msg("hivexregedit lacks %s:\n%s", want, out.buf);
			free(want);
		}
	}
	if (access("/usr/bin/python3", X_OK) == 0 &&
	    system("/usr/bin/python3 -c 'import hivex' 2>/dev/null") == 0) {
		cmd = ws_xasprintf(
			"/usr/bin/python3 -c '\n"
			"import hivex\n"
			"h = hivex.Hivex(\"%s\")\n"
			"for k in h.node_children(h.root()):\n"
			"    s = h.node_children(k)[0]\n"
			"    print(h.node_name(k), h.value_dword(h.node_get_value(s, \"N\")))\n'", p);
		assert_int_equal(tu_run(cmd, &out), 0);
		free(cmd);
		for (size_t i = 0; i < NUNI; i++) {
			char *want = ws_xasprintf("%s %zu\n", uni_names[i], i);

			if (!strstr(out.buf, want))
				fail_msg("python3-hivex lacks %s", want);
			free(want);
		}
	}
	ws_buf_release(&out);
}

static void commit_v15(void **state)
{
	char *p = new_hive(5, 0);

	add_uni_keys(p, "", 0);
	check_committed(p, 5, 2 * NUNI);
	check_readers(p);
	free(p);
}

static void commit_v13(void **state)
{
	char *p = new_hive(3, 0);

	add_uni_keys(p, "", 0);
	check_committed(p, 3, 2 * NUNI);
	check_readers(p);
	free(p);
}

/* New keys, and keys whose values or subkeys changed, get the session's
 * time; untouched keys keep theirs; reg_key_mtime agrees before commit. */
static void commit_times(void **state)
{
	const uint64_t t0 = 130000000000000000ULL, t1 = 133000000000000000ULL;
	char *p = new_hive(5, t0);
	struct reg_hive *h;
	struct ws_error e;
	reg_node a, b, c, old;
	uint64_t ft, before;

	ws_error_clear(&e);
	tu_assert_ok(reg_hive_open(p, REG_OPEN_WRITE, &h, &e), &e);
	tu_assert_ok(reg_key_create(h, reg_root(h), "Old\\Kept", &old, &e), &e);
	tu_assert_ok(reg_hive_commit(h, NULL, &e), &e);
	reg_hive_close(h);

	tu_assert_ok(reg_hive_open(p, REG_OPEN_WRITE, &h, &e), &e);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "Old\\Kept", &old, &e), &e);
	tu_assert_ok(reg_key_mtime(h, old, &before, &e), &e);
	reg_hive_set_write_time(h, t1);
	tu_assert_ok(reg_key_create(h, reg_root(h), "New\\Caf\xc3\xa9", &a, &e), &e);
	tu_assert_ok(reg_key_mtime(h, a, &ft, &e), &e);
	assert_true(ft == t1);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "Old", &b, &e), &e);
	tu_assert_ok(reg_set_dword(h, b, "V", 1, &e), &e);
	tu_assert_ok(reg_hive_commit(h, NULL, &e), &e);
	reg_hive_close(h);

	tu_assert_ok(reg_hive_open(p, 0, &h, &e), &e);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "New", &c, &e), &e);
	tu_assert_ok(reg_key_mtime(h, c, &ft, &e), &e);
	assert_true(ft == t1);
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "New\\caf\xc3\x89", &c, &e), &e);
	assert_true(c != 0);
	tu_assert_ok(reg_key_mtime(h, c, &ft, &e), &e);
	assert_true(ft == t1);
	tu_assert_ok(reg_key_mtime(h, reg_root(h), &ft, &e), &e);
	assert_true(ft == t1);                  /* a subkey was created */
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "Old", &c, &e), &e);
	tu_assert_ok(reg_key_mtime(h, c, &ft, &e), &e);
	assert_true(ft == t1);                  /* a value was set */
	tu_assert_ok(reg_key_lookup(h, reg_root(h), "Old\\Kept", &c, &e), &e);
	tu_assert_ok(reg_key_mtime(h, c, &ft, &e), &e);
	assert_true(ft == before);              /* untouched */
	assert_true(before != t1 && before != t0);  /* stamped "now" then */
	reg_hive_close(h);
	free(p);
}

/* Real Windows hives of both formats: new keys among thousands of existing
 * list elements, a first subkey under a leaf key (hivex makes an lh leaf
 * for it, in the 1.3 hive too). */
static void commit_real(void **state)
{
	static const struct {
		const char *rel;
		unsigned minor;
		const char *parent;
	} cases[] = {
		{ "hives/regipy/NTUSER-WSL.DAT", 3, "Software" },
		{ "hives/notatin/NTUSER.DAT", 5, "Software" },
	};
	int found = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = tu_testdata_hive(cases[i].rel, scratch);

		if (!p)
			continue;
		found++;
		add_uni_keys(p, cases[i].parent, 0);
		check_committed(p, cases[i].minor, 2000);
		free(p);
	}
	if (!found) {
		no_testdata = 1;
		skip();
	}
}

/* What hivex itself writes (through python3-hivex, without reg/) is wrong
 * in exactly the ways reg_fix_file() repairs. */
static void fix_hivex_output(void **state)
{
	static const unsigned minors[] = { 5, 3 };

	if (access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import hivex' 2>/dev/null") != 0) {
		printf("[  SKIP    ] python3 hivex module not installed\n");
		skip();
	}
	for (size_t m = 0; m < 2; m++) {
		char *p = new_hive(minors[m], 0), *cmd;
		struct ws_buf out = WS_BUF_INIT;
		struct proof before = { 0 }, after = { 0 };
		struct reg_fix_stats st;
		struct ws_error e;
		unsigned char *img;
		size_t len;

		cmd = ws_xasprintf(
			"/usr/bin/python3 -c '\n"
			"import hivex, sys\n"
			"h = hivex.Hivex(sys.argv[1], write=True)\n"
			"for n in sys.argv[2:]: h.node_add_child(h.root(), n)\n"
			"h.commit(None)\n' '%s' 'Caf\xc3\xa9' 'caf\xc3\xb1' 'Caf\xc3\xa8' "
			"'Caf\xc3\x8a' '\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82' 'Zulu' 'alpha'", p);
		assert_int_equal(tu_run(cmd, &out), 0);
		free(cmd);
		img = (unsigned char *)tu_read_file(p, &len);
		prove_image(img, len, &before, "hivex");
		free(img);
		ws_error_clear(&e);
		tu_assert_ok(reg_fix_file(p, NULL, 0, &st, &e), &e);
		img = (unsigned char *)tu_read_file(p, &len);
		prove_image(img, len, &after, "fixed");
		free(img);
		printf("  1.%u: hivex wrote %zu lh/%zu lf elements, %zu wrong hashes, "
		       "%zu wrong hints, %zu out of order; fixed %zu hashes, %zu "
		       "hints, %zu leaves to lf, %zu lists re-sorted\n", minors[m],
		       before.lh, before.lf, before.bad_hash, before.bad_hint,
		       before.bad_order, st.hashes_fixed, st.hints_fixed,
		       st.converted, st.resorted);
		/* hivex starts an lh leaf whatever the format */
		assert_int_equal(before.lh, 7);
		assert_true(before.bad_hash >= 3);          /* é, ñ, è, Привет */
		assert_true(before.bad_order >= 1);         /* Ê before é: UTF-8 order */
		assert_true(st.resorted == 1);
		if (minors[m] < 5) {
			assert_int_equal(st.converted, 1);
			assert_int_equal(after.lh, 0);
			assert_int_equal(after.lf, 7);
		} else {
			assert_int_equal(st.converted, 0);
			assert_int_equal(after.lh, 7);
			assert_true(st.hashes_fixed >= 3);
		}
		assert_int_equal(after.bad_hash + after.bad_hint + after.bad_order, 0);
		ws_buf_release(&out);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(upcase_table),
		cmocka_unit_test(hash_formula),
		cmocka_unit_test(real_hives),
		cmocka_unit_test(commit_v15),
		cmocka_unit_test(commit_v13),
		cmocka_unit_test(commit_times),
		cmocka_unit_test(commit_real),
		cmocka_unit_test(fix_hivex_output),
	};
	int rc = cmocka_run_group_tests(tests, setup, teardown);

	tu_cleanup();
	return rc == 0 && no_testdata ? 77 : rc;
}
