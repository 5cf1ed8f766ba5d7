/*
 * tu.h - helpers shared by the cmocka unit tests: temporary folders, the
 * real Windows artefacts in ../shared/testdata (decompressed on demand), and
 * small file utilities.  Include after <cmocka.h>'s prerequisites; tu.h pulls
 * them in itself.
 */
#ifndef TU_H
#define TU_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "util/ws_buf.h"
#include "util/ws_error.h"

/* A fresh empty folder under $TMPDIR (or /tmp); malloc'd path, removed by tu_cleanup(). */
char *tu_tmpdir(void);
/* The same, but the path belongs to tu_cleanup(), which frees it: the
 * caller does not. */
char *tu_tmpdir_kept(void);
/* Remove every folder tu_tmpdir() made (called from a cmocka teardown or atexit). */
void tu_cleanup(void);

/* Path of ../shared/testdata/<rel> if it exists, else NULL (malloc'd). */
char *tu_testdata(const char *rel);

/*
 * Decompress ../shared/testdata/<rel>.xz into `dir`/<basename of rel> and
 * return that path (malloc'd), or NULL when the test data is absent: callers
 * then skip() with a message (tu_testdata_hive prints it).
 */
char *tu_testdata_hive(const char *rel, const char *dir);

void tu_write_file(const char *path, const void *data, size_t len);
/* Whole file into a malloc'd NUL-terminated buffer; *len may be NULL. */
char *tu_read_file(const char *path, size_t *len);

/* 1 when `prog` is on PATH; else prints a SKIP line naming it and returns 0. */
int tu_have(const char *prog);

/* Run a shell command, its stdout into `out` (reset first); returns its
 * exit status (-1 when it did not exit normally). */
int tu_run(const char *cmd, struct ws_buf *out);

/* Run the shell command printf would make of fmt with its output and
 * errors discarded; returns system()'s status (0: it ran and exited 0). */
int tu_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 1 when nothing is in the folder `dir` (or there is no such folder): for
 * the tests that check nothing was written where it must not be. */
int tu_dir_empty(const char *dir);

/*
 * Skips are visible to ctest: cmocka counts a skip() as passed, so tu.h
 * counts them (tu_skip_noted) and the group run returns 77, ctest's
 * SKIP_RETURN_CODE, when nothing failed and at least one test skipped
 * (a failure still fails).  Every test file's main() keeps calling
 * cmocka_run_group_tests() and skip() as usual.
 */
void tu_skip_noted(void);
int tu_group_result(int failed);
#undef skip
#define skip() (tu_skip_noted(), _skip(__FILE__, __LINE__))
#undef cmocka_run_group_tests
#define cmocka_run_group_tests(group_tests, group_setup, group_teardown)      \
	tu_group_result(_cmocka_run_group_tests(#group_tests, group_tests,   \
		sizeof(group_tests) / sizeof((group_tests)[0]),               \
		group_setup, group_teardown))

/*
 * Name number i (0..4095) of a set made to collide in unkeyed hash tables:
 * three characters, each U+n F600 (n = 1..16, the planes above the BMP),
 * so every code point has the same low 16 bits, and so have the FNV-1a
 * hashes of all 4,096 names (xor and multiply carry upwards only).
 * `out` gets 12 bytes of UTF-8 and a NUL.
 */
void tu_crafted_name(unsigned i, char out[13]);

/*
 * The next name "<lead><upper-case hex of *i>" (from *i on; *i is advanced past it)
 * such that the FNV-1a-64 hash of prefix + name has the bits of `mask`
 * all zero: names anyone can search for to share a table slot under that
 * unkeyed hash.  `out` gets at most 24 bytes.
 */
void tu_fnv_crafted(const char *prefix, char lead, uint64_t mask, uint64_t *i, char out[24]);

/* Assert helper that shows the ws_error when rc != WS_OK. */
#define tu_assert_ok(rc, errp)                                                 \
	do {                                                                   \
		int tu_rc_ = (rc);                                             \
		if (tu_rc_ != WS_OK) {                                         \
			char tu_b_[2300];                                      \
			fail_msg("expected WS_OK, got %d (%s): %s", tu_rc_,    \
				 ws_code_name(tu_rc_),                         \
				 ws_error_format((errp), tu_b_, sizeof(tu_b_))); \
		}                                                              \
	} while (0)

#endif
