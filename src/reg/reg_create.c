/*
 * reg_create.c - the project's own writer of a new, empty hive file
 * (hivex cannot create one): a 4 KiB base block and one 4 KiB hive bin
 * holding the root key node, its security descriptor and one free cell.
 * Layout after the regf format specification (msuhanov/regf).
 */
#include "reg/reg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reg/reg_private.h"
#include "util/ws_fs.h"
#include "util/ws_utf.h"

/* key node flags */
#define KEY_HIVE_ENTRY 0x0004
#define KEY_NO_DELETE 0x0008
#define KEY_COMP_NAME 0x0020

/* security descriptor bits */
#define SE_DACL_PRESENT 0x0004
#define SE_DACL_PROTECTED 0x1000
#define SE_SELF_RELATIVE 0x8000
#define CONTAINER_INHERIT_ACE 0x02
#define KEY_ALL_ACCESS 0x000f003fu

#define HBIN_HEADER 32
#define NO_OFFSET 0xffffffffu

static void put16(unsigned char *p, unsigned v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Binary SID from "S-1-<authority>-<sub>..." (at most 15 sub-authorities). */
static int parse_sid(const char *s, struct ws_buf *out)
{
	unsigned long long auth, sub[15];
	unsigned n = 0;
	char *end;

	if ((s[0] != 'S' && s[0] != 's') || strncmp(s + 1, "-1-", 3) != 0)
		return -1;
	s += 4;
	errno = 0;
	auth = strtoull(s, &end, 10);
	if (end == s || errno || auth >= (1ULL << 48) || *s == '-')
		return -1;
	s = end;
	while (*s == '-') {
		s++;
		if (n == 15 || *s < '0' || *s > '9')
			return -1;
		sub[n] = strtoull(s, &end, 10);
		if (errno || sub[n] > 0xffffffffULL)
			return -1;
		n++;
		s = end;
	}
	if (*s || !n)
		return -1;
	ws_buf_add_u8(out, 1);
	ws_buf_add_u8(out, n);
	for (int i = 5; i >= 0; i--)
		ws_buf_add_u8(out, (unsigned)(auth >> (8 * i)) & 0xff);
	for (unsigned i = 0; i < n; i++)
		ws_buf_add_u32le(out, (unsigned long)sub[i]);
	return 0;
}

static void add_ace(struct ws_buf *acl, const struct ws_buf *sid)
{
	ws_buf_add_u8(acl, 0);                      /* ACCESS_ALLOWED_ACE_TYPE */
	ws_buf_add_u8(acl, CONTAINER_INHERIT_ACE);
	ws_buf_add_u16le(acl, 8 + (unsigned)sid->len);
	ws_buf_add_u32le(acl, KEY_ALL_ACCESS);
	ws_buf_add(acl, sid->buf, sid->len);
}

/*
 * Self-relative security descriptor: owner Administrators, group SYSTEM,
 * protected DACL granting full control (inherited by subkeys) to SYSTEM,
 * Administrators and the optional owner SID.
 */
static int build_sd(const char *owner_sid, struct ws_buf *sd,
		    struct ws_error *err)
{
	struct ws_buf sys = WS_BUF_INIT, adm = WS_BUF_INIT, usr = WS_BUF_INIT;
	struct ws_buf aces = WS_BUF_INIT;
	unsigned naces = 2;
	size_t dacl_len, owner_off, group_off;

	parse_sid("S-1-5-18", &sys);
	parse_sid("S-1-5-32-544", &adm);
	if (owner_sid && parse_sid(owner_sid, &usr) != 0) {
		ws_buf_release(&sys);
		ws_buf_release(&adm);
		ws_buf_release(&usr);
		return ws_error_set(err, WS_E_USAGE, owner_sid,
				    "not a valid SID string");
	}
	add_ace(&aces, &sys);
	add_ace(&aces, &adm);
	if (usr.len) {
		add_ace(&aces, &usr);
		naces++;
	}
	dacl_len = 8 + aces.len;
	owner_off = 20 + dacl_len;
	group_off = owner_off + adm.len;
	ws_buf_add_u8(sd, 1);                        /* revision */
	ws_buf_add_u8(sd, 0);
	ws_buf_add_u16le(sd, SE_SELF_RELATIVE | SE_DACL_PROTECTED |
			     SE_DACL_PRESENT);
	ws_buf_add_u32le(sd, (unsigned long)owner_off);
	ws_buf_add_u32le(sd, (unsigned long)group_off);
	ws_buf_add_u32le(sd, 0);                     /* no SACL */
	ws_buf_add_u32le(sd, 20);                    /* DACL right after */
	ws_buf_add_u8(sd, 2);                        /* ACL_REVISION */
	ws_buf_add_u8(sd, 0);
	ws_buf_add_u16le(sd, (unsigned)dacl_len);
	ws_buf_add_u16le(sd, naces);
	ws_buf_add_u16le(sd, 0);
	ws_buf_add(sd, aces.buf, aces.len);
	ws_buf_add(sd, adm.buf, adm.len);            /* owner */
	ws_buf_add(sd, sys.buf, sys.len);            /* group */
	ws_buf_release(&sys);
	ws_buf_release(&adm);
	ws_buf_release(&usr);
	ws_buf_release(&aces);
	return WS_OK;
}

/* Key name as stored: Latin-1 with KEY_COMP_NAME when possible, else UTF-16LE. */
static int encode_name(const char *name, struct ws_buf *out, int *compressed,
		       struct ws_error *err)
{
	struct ws_buf u = WS_BUF_INIT;

	if (!*name || strchr(name, '\\') ||
	    ws_utf8_to_utf16le(name, strlen(name), &u) != 0 || u.len > 510) {
		ws_buf_release(&u);
		return ws_error_set(err, WS_E_USAGE, name,
				    "not a usable root key name (1 to 255 "
				    "characters of valid UTF-8, no backslash)");
	}
	*compressed = 1;
	for (size_t i = 0; i < u.len; i += 2)
		if (u.buf[i + 1])
			*compressed = 0;
	if (*compressed) {
		for (size_t i = 0; i < u.len; i += 2)
			ws_buf_addch(out, u.buf[i]);
	} else {
		ws_buf_add(out, u.buf, u.len);
	}
	ws_buf_release(&u);
	return WS_OK;
}

static uint64_t now_filetime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ws_filetime_from_unix_ns((int64_t)ts.tv_sec * 1000000000LL +
					ts.tv_nsec);
}

int reg_hive_create(const char *path, const struct reg_create_opts *opts,
		    struct ws_error *err)
{
	static const struct reg_create_opts dflt;
	unsigned char *img;
	unsigned char *base, *bin, *nk, *sk;
	struct ws_buf name = WS_BUF_INIT, sd = WS_BUF_INIT, fname = WS_BUF_INIT;
	const char *fn;
	size_t nk_size, sk_size, nk_off, sk_off, free_off;
	uint64_t ts;
	unsigned minor;
	int compressed = 1, rc;

	if (!opts)
		opts = &dflt;
	minor = opts->minor ? opts->minor : 5;
	if (minor != 3 && minor != 5)
		return ws_error_set(err, WS_E_USAGE, path,
				    "hive format 1.%u cannot be created (1.3 or "
				    "1.5 only)", minor);
	rc = encode_name(opts->root_name ? opts->root_name : "ROOT", &name,
			 &compressed, err);
	if (!rc)
		rc = build_sd(opts->owner_sid, &sd, err);
	if (rc)
		goto out;
	fn = opts->file_name ? opts->file_name : "";
	if (ws_utf8_to_utf16le(fn, strlen(fn), &fname) != 0) {
		rc = ws_error_set(err, WS_E_USAGE, path,
				  "hive file name is not valid UTF-8");
		goto out;
	}
	ts = opts->timestamp ? opts->timestamp : now_filetime();

	img = ws_xcalloc(1, REG_BASE_BLOCK_SIZE + REG_HBIN_SIZE);
	base = img;
	bin = img + REG_BASE_BLOCK_SIZE;
	nk_off = HBIN_HEADER;
	nk_size = align8(4 + 76 + name.len);
	sk_off = nk_off + nk_size;
	sk_size = align8(4 + 20 + sd.len);
	free_off = sk_off + sk_size;

	/* base block */
	memcpy(base, "regf", 4);
	put32(base + 4, 1);
	put32(base + 8, 1);
	put64(base + 12, ts);
	put32(base + 20, 1);
	put32(base + 24, minor);
	put32(base + 28, 0);                         /* primary file */
	put32(base + 32, 1);                         /* direct memory load */
	put32(base + 36, (uint32_t)nk_off);
	put32(base + 40, REG_HBIN_SIZE);
	put32(base + 44, 1);                         /* clustering factor */
	/* the tail of the name fits in 31 UTF-16 units + NUL */
	if (fname.len > 62)
		memcpy(base + 48, fname.buf + fname.len - 62, 62);
	else
		memcpy(base + 48, fname.buf, fname.len);
	reg_base_seal(base);

	/* hive bin header */
	memcpy(bin, "hbin", 4);
	put32(bin + 4, 0);
	put32(bin + 8, REG_HBIN_SIZE);
	put64(bin + 20, ts);

	/* root key node */
	put32(bin + nk_off, (uint32_t)-(int32_t)nk_size);
	nk = bin + nk_off + 4;
	memcpy(nk, "nk", 2);
	put16(nk + 2, KEY_HIVE_ENTRY | KEY_NO_DELETE |
		      (compressed ? KEY_COMP_NAME : 0));
	put64(nk + 4, ts);
	put32(nk + 16, NO_OFFSET);                   /* no parent */
	put32(nk + 28, NO_OFFSET);                   /* no subkeys list */
	put32(nk + 32, NO_OFFSET);                   /* no volatile list */
	put32(nk + 40, NO_OFFSET);                   /* no values list */
	put32(nk + 44, (uint32_t)sk_off);
	put32(nk + 48, NO_OFFSET);                   /* no class name */
	put16(nk + 72, (unsigned)name.len);
	memcpy(nk + 76, name.buf, name.len);

	/* its security item: a one-entry list pointing at itself */
	put32(bin + sk_off, (uint32_t)-(int32_t)sk_size);
	sk = bin + sk_off + 4;
	memcpy(sk, "sk", 2);
	put32(sk + 4, (uint32_t)sk_off);
	put32(sk + 8, (uint32_t)sk_off);
	put32(sk + 12, 1);
	put32(sk + 16, (uint32_t)sd.len);
	memcpy(sk + 20, sd.buf, sd.len);

	/* the rest of the bin is one unallocated cell */
	put32(bin + free_off, (uint32_t)(REG_HBIN_SIZE - free_off));

	rc = ws_write_file_atomic(path, img, REG_BASE_BLOCK_SIZE + REG_HBIN_SIZE,
				  1, WS_E_IO, err);
	if (rc && err && err->sys_errno == EEXIST) {
		ws_error_set(err, WS_E_IO, path,
			     "cannot create hive: the file already exists");
		err->sys_errno = EEXIST;
	}
	free(img);
out:
	ws_buf_release(&name);
	ws_buf_release(&sd);
	ws_buf_release(&fname);
	return rc;
}
