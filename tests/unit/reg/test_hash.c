/* test_hash.c - Windows' key-name hash, lf hint and sibling order (reg_hash.c)
 * proven on every subkey list of the real Windows-written hives in
 * ../shared/testdata, read with a small regf walker of the test's own. */
#include "tu.h"

#include <stdio.h>
#include <string.h>

#include "reg/reg.h"
#include "reg/reg_hash.h"

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

struct proof {
	size_t lh, lf, lf_nonzero, pairs, nonascii;
	size_t bad_hash, bad_hint, bad_order;
};

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(upcase_table),
		cmocka_unit_test(hash_formula),
		cmocka_unit_test(real_hives),
	};
	int rc = cmocka_run_group_tests(tests, setup, teardown);

	tu_cleanup();
	return rc == 0 && no_testdata ? 77 : rc;
}
