/* fuzz_apply_journal.c - any journal.log that undo may meet on a target
 * (apply_undo): the input's lines are the records, each given its checksum
 * by the harness so that the parser and undo itself are reached (byte 0
 * odd: the harness writes the first line, format 3 with the folder's id; a
 * last line without LF stays torn).  The target is a fresh folder per run
 * with two files, a folder, a link to the folder above it and a file
 * beside it (outside the target).  Must never crash, hang or leak; the file
 * outside is never touched (no journal reaches out of its target); a
 * journal refused as damaged, unsupported or not found leaves every file of
 * the target as it was. */
#define _GNU_SOURCE
#include <ftw.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply/apply.h"
#include "util/ws_buf.h"
#include "util/ws_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define JID "20260101T000000.000000Z-0badc0de"

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(p);
	return 0;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static int same_file(const char *path, const char *text)
{
	char buf[64];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return !strcmp(buf, text);
}

/* "rec TAB chk LF" as apply_journal.c chains them. */
static void chain(struct ws_buf *out, unsigned char prev[16], const char *rec, size_t len)
{
	crypto_generichash_state st;
	char hex[33];

	crypto_generichash_init(&st, NULL, 0, 16);
	crypto_generichash_update(&st, prev, 16);
	crypto_generichash_update(&st, (const unsigned char *)rec, len);
	crypto_generichash_final(&st, prev, 16);
	sodium_bin2hex(hex, sizeof(hex), prev, 16);
	ws_buf_add(out, rec, len);
	ws_buf_addf(out, "\t%s\n", hex);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char tmpl[] = "/tmp/fzjournal-XXXXXX";
	struct ws_buf log = WS_BUF_INIT, p = WS_BUF_INIT;
	unsigned char prev[16] = { 0 };
	struct apply_undo_report r;
	struct ws_error e;
	const char *s, *end;
	char *dir;
	int rc;

	if (!size || size > 65536 || sodium_init() < 0)
		return 0;
	if (!(dir = mkdtemp(tmpl)))
		abort();
	ws_buf_addf(&p, "%s/outside.txt", dir);
	put(p.buf, "outside");
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/t/ProgramData/winstate/journal/" JID "/saved", dir);
	for (char *c = p.buf + strlen(dir) + 1; *c; c++)
		if (*c == '/') {
			*c = 0;
			mkdir(p.buf, 0755);
			*c = '/';
		}
	mkdir(p.buf, 0755);
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/t/ProgramData/winstate/journal/" JID "/work", dir);
	mkdir(p.buf, 0755);
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/t/d", dir);
	mkdir(p.buf, 0755);
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/t/a.txt", dir);
	put(p.buf, "a");
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/t/d/b.txt", dir);
	put(p.buf, "b");
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/t/up", dir);
	if (symlink("..", p.buf) != 0)
		abort();

	if (data[0] & 1) {
		static const char head[] = "winstate-journal 3 " JID;

		chain(&log, prev, head, sizeof(head) - 1);
	}
	s = (const char *)data + 1;
	end = (const char *)data + size;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));

		if (!nl) {
			ws_buf_add(&log, s, (size_t)(end - s));   /* torn */
			break;
		}
		chain(&log, prev, s, (size_t)(nl - s));
		s = nl + 1;
	}
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/t/ProgramData/winstate/journal/" JID "/journal.log", dir);
	{
		FILE *f = fopen(p.buf, "w");

		if (!f || fwrite(log.buf, 1, log.len, f) != log.len)
			abort();
		fclose(f);
	}

	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/t", dir);
	ws_error_clear(&e);
	memset(&r, 0, sizeof(r));
	rc = apply_undo(p.buf, NULL, NULL, &r, &e);
	if (rc && !e.msg[0])
		abort();
	ws_buf_reset(&p);
	ws_buf_addf(&p, "%s/outside.txt", dir);
	if (!same_file(p.buf, "outside"))
		abort();   /* reached out of the target */
	if (rc == WS_E_CORRUPT || rc == WS_E_UNSUPPORTED || rc == WS_E_USAGE) {
		/* refused before anything: the target as it was */
		ws_buf_reset(&p);
		ws_buf_addf(&p, "%s/t/a.txt", dir);
		if (!same_file(p.buf, "a"))
			abort();
		ws_buf_reset(&p);
		ws_buf_addf(&p, "%s/t/d/b.txt", dir);
		if (!same_file(p.buf, "b"))
			abort();
	}
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	ws_buf_release(&log);
	ws_buf_release(&p);
	return 0;
}
