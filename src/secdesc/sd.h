/*
 * sd.h - Windows security descriptors (MS-DTYP 2.4): SIDs, ACLs, ACEs, the
 * self-relative binary form, inheritance for new objects, the descriptors
 * winstate gives its own folders, and reading/writing them on a mounted
 * NTFS volume (ntfs-3g's system.ntfs_acl, the kernel ntfs3 driver's
 * system.ntfs_security).  Depends on util/ only.
 *
 * SIDs
 *   struct sd_sid is a value (no allocation).  Text is strict and canonical:
 *   "S-1-<authority>-<sub>[-<sub>...]", decimal digits only, no sign, space,
 *   empty part or leading zero ("0" itself is fine), authority < 2^48, each
 *   subauthority < 2^32, 1..15 subauthorities, at most SD_SID_TEXT_MAX-1
 *   characters.  So sd_sid_valid_text() is also a safe check for a SID used
 *   as a file or key name (nothing like "..", "/", quotes can pass), and
 *   text -> binary -> text gives back the same string.
 *
 * Descriptors
 *   1. struct sd_desc d = SD_DESC_INIT;           (or sd_desc_init(&d))
 *   2. sd_parse(&d, bytes, len, &err)             untrusted bytes -> model;
 *      or sd_inherit(&d, &parent, is_dir, owner, group)  a new child's SD;
 *      or sd_make_private / sd_make_shared / sd_make_admin_only;
 *      or fill it by hand with sd_acl_add().
 *   3. sd_serialize(&d, &buf, &err)               model -> self-relative bytes
 *   4. sd_desc_release(&d)                        back to SD_DESC_INIT.
 *   The serialised form is canonical: header, owner, group, SACL, DACL, no
 *   gaps (the layout ntfs-3g, samba's NDR and .NET write), so parse +
 *   serialize reproduces such input byte for byte; other layouts (gaps,
 *   ACLs longer than their ACEs, another order) come out compacted.
 *
 * ACEs whose body is AccessMask + SID (+ optional application data:
 * allowed, denied, audit, alarm, their callback forms, mandatory label) are
 * decoded; every other type (object ACEs, compound, resource attribute, ...)
 * is kept opaque: its body is carried byte for byte.
 *
 * Errors: sd_parse() and sd_serialize() fail with WS_E_CORRUPT (malformed
 * bytes; the message gives the offset) and WS_E_UNSUPPORTED (too large to
 * encode); callers may re-label the code for their context.  The I/O
 * functions fill ws_error with the path.  Nothing here prints.
 */
#ifndef SD_H
#define SD_H

#include <stddef.h>
#include <stdint.h>

#include "util/ws_buf.h"
#include "util/ws_error.h"

/* ---- SIDs ---------------------------------------------------------------- */

#define SD_SID_MAX_SUB 15
/* Longest SID text plus its NUL: "S-1-" 15-digit authority 15 x "-4294967295". */
#define SD_SID_TEXT_MAX 192

struct sd_sid {
	uint8_t nsub;                   /* number of subauthorities, 0..15 */
	uint64_t auth;                  /* 48-bit identifier authority */
	uint32_t sub[SD_SID_MAX_SUB];
};

/* Well-known SIDs (read-only). */
extern const struct sd_sid sd_sid_system;          /* S-1-5-18      SY */
extern const struct sd_sid sd_sid_administrators;  /* S-1-5-32-544  BA */
extern const struct sd_sid sd_sid_users;           /* S-1-5-32-545  BU */
extern const struct sd_sid sd_sid_everyone;        /* S-1-1-0       WD */
extern const struct sd_sid sd_sid_creator_owner;   /* S-1-3-0       CO */
extern const struct sd_sid sd_sid_creator_group;   /* S-1-3-1       CG */
extern const struct sd_sid sd_sid_authenticated;   /* S-1-5-11      AU */

/* Parse strict SID text (see above); 0 on success, -1 (sid untouched) if not
 * a canonical SID.  The _n form reads exactly `len` bytes (no NUL needed). */
int sd_sid_from_text(struct sd_sid *sid, const char *text);
int sd_sid_from_textn(struct sd_sid *sid, const char *text, size_t len);
/* 1 if `text` is a canonical SID, else 0.  NULL gives 0. */
int sd_sid_valid_text(const char *text);
/* Format into buf (SD_SID_TEXT_MAX bytes); returns buf.  Always decimal. */
char *sd_sid_to_text(const struct sd_sid *sid, char *buf);

/* Binary SID (MS-DTYP 2.4.2.2): revision 1, count, 6-byte big-endian
 * authority, little-endian subauthorities.  sd_sid_from_bin reads one SID
 * from the start of `len` bytes: 0 and *used = its size, or -1. */
int sd_sid_from_bin(struct sd_sid *sid, const void *data, size_t len, size_t *used);
void sd_sid_to_bin(const struct sd_sid *sid, struct ws_buf *out);   /* appends */
size_t sd_sid_size(const struct sd_sid *sid);                       /* 8 + 4n */
int sd_sid_equal(const struct sd_sid *a, const struct sd_sid *b);   /* 1 if equal */

/* ---- ACEs and ACLs ------------------------------------------------------- */

enum sd_ace_type {
	SD_ACE_ALLOWED = 0x00,
	SD_ACE_DENIED = 0x01,
	SD_ACE_AUDIT = 0x02,
	SD_ACE_ALARM = 0x03,
	SD_ACE_ALLOWED_OBJECT = 0x05,     /* kept opaque */
	SD_ACE_DENIED_OBJECT = 0x06,      /* kept opaque */
	SD_ACE_ALLOWED_CALLBACK = 0x09,
	SD_ACE_DENIED_CALLBACK = 0x0A,
	SD_ACE_AUDIT_CALLBACK = 0x0D,
	SD_ACE_MANDATORY_LABEL = 0x11
};

/* AceFlags */
#define SD_ACE_OI 0x01         /* OBJECT_INHERIT: files inherit it */
#define SD_ACE_CI 0x02         /* CONTAINER_INHERIT: folders inherit it */
#define SD_ACE_NP 0x04         /* NO_PROPAGATE_INHERIT: one level only */
#define SD_ACE_IO 0x08         /* INHERIT_ONLY: not effective on this object */
#define SD_ACE_ID 0x10         /* INHERITED */
#define SD_ACE_SA 0x40         /* SUCCESSFUL_ACCESS (audit) */
#define SD_ACE_FA 0x80         /* FAILED_ACCESS (audit) */

/* Access masks used here (file objects). */
#define SD_FILE_ALL_ACCESS 0x001F01FFu      /* "Full control" (FA) */
#define SD_FILE_READ_EXECUTE 0x001200A9u    /* "Read & execute" (RX) */
#define SD_FILE_GENERIC_READ 0x00120089u
#define SD_FILE_GENERIC_WRITE 0x00120116u
#define SD_FILE_GENERIC_EXECUTE 0x001200A0u
#define SD_GENERIC_ALL 0x10000000u
#define SD_GENERIC_EXECUTE 0x20000000u
#define SD_GENERIC_WRITE 0x40000000u
#define SD_GENERIC_READ 0x80000000u

struct sd_ace {
	uint8_t type;              /* enum sd_ace_type or any other byte */
	uint8_t flags;             /* SD_ACE_OI ... */
	int opaque;                /* 1: body not decoded, `data` is all of it */
	uint32_t mask;             /* decoded ACEs: access mask */
	struct sd_sid sid;         /* decoded ACEs: trustee */
	unsigned char *data;       /* opaque: the body after the 4-byte header;
				    * decoded: bytes after the SID (callback
				    * application data, padding); may be NULL */
	size_t data_len;
};

struct sd_acl {
	uint8_t revision;          /* 2 (ACL_REVISION) or 4 (ACL_REVISION_DS) */
	struct sd_ace *v;
	size_t n, alloc;
};

/* Append a decoded ACE (data none). */
void sd_acl_add(struct sd_acl *acl, uint8_t type, uint8_t flags, uint32_t mask,
		const struct sd_sid *sid);
/* Append a deep copy of `ace`. */
void sd_acl_add_copy(struct sd_acl *acl, const struct sd_ace *ace);
void sd_acl_release(struct sd_acl *acl);     /* empties it, revision kept */

/* ---- Security descriptors ------------------------------------------------ */

/* Control flags (SECURITY_DESCRIPTOR_CONTROL). */
#define SD_OWNER_DEFAULTED 0x0001
#define SD_GROUP_DEFAULTED 0x0002
#define SD_DACL_PRESENT 0x0004
#define SD_DACL_DEFAULTED 0x0008
#define SD_SACL_PRESENT 0x0010
#define SD_SACL_DEFAULTED 0x0020
#define SD_DACL_AUTO_INHERIT_REQ 0x0100
#define SD_SACL_AUTO_INHERIT_REQ 0x0200
#define SD_DACL_AUTO_INHERITED 0x0400
#define SD_SACL_AUTO_INHERITED 0x0800
#define SD_DACL_PROTECTED 0x1000
#define SD_SACL_PROTECTED 0x2000
#define SD_RM_CONTROL_VALID 0x4000
#define SD_SELF_RELATIVE 0x8000

struct sd_desc {
	uint16_t control;          /* SD_* control flags (SELF_RELATIVE is set on output) */
	uint8_t rm_control;        /* Sbz1 / resource-manager byte, kept as is */
	int has_owner, has_group;
	struct sd_sid owner, group;
	/* has_dacl: an ACL is there.  SD_DACL_PRESENT without one is a NULL
	 * DACL (everyone has full access), without the flag there is none. */
	int has_dacl, has_sacl;
	struct sd_acl dacl, sacl;
};

#define SD_DESC_INIT { .dacl = { 2, NULL, 0, 0 }, .sacl = { 2, NULL, 0, 0 } }

void sd_desc_init(struct sd_desc *sd);
void sd_desc_release(struct sd_desc *sd);
void sd_desc_copy(struct sd_desc *dst, const struct sd_desc *src);  /* dst: released first */

/*
 * Parse a self-relative descriptor from untrusted bytes.  Checked: header
 * (revision 1, SE_SELF_RELATIVE), every offset and size inside `len`, no
 * component overlapping the header or another component, SIDs (revision 1,
 * <= 15 subauthorities, fully inside), ACLs (revision 2 or 4, AclSize >= 8,
 * every ACE inside AclSize, AceSize >= 4 and a multiple of 4, decoded ACEs
 * big enough for mask and SID).  An ACL whose PRESENT flag is clear is
 * ignored, as Windows ignores it.  On failure (WS_E_CORRUPT) `sd` is left
 * as after sd_desc_init; on success its old contents are replaced.
 */
int sd_parse(struct sd_desc *sd, const void *data, size_t len, struct ws_error *err);

/* Append the canonical self-relative bytes to `out`.  WS_E_UNSUPPORTED if an
 * ACE or ACL does not fit the format's 16-bit sizes (out unchanged). */
int sd_serialize(const struct sd_desc *sd, struct ws_buf *out, struct ws_error *err);

/*
 * SDDL-like text for logs and debugging: "O:<sid>G:<sid>D:<flags>(<ace>)...
 * S:...", SIDs in full, masks in hex, ACE flags as SDDL letters (OI CI NP IO
 * ID SA FA), types A D AU AL XA XD XU ML or 0x<type> for others; opaque ACEs
 * print as (0x<type>;<flags>;opaque:<n bytes>).  Not meant to be parsed back.
 */
void sd_to_text(const struct sd_desc *sd, struct ws_buf *out);

/* ---- Inheritance (MS-DTYP 2.5.3.4) --------------------------------------- */

/*
 * The descriptor Windows gives a new file (is_dir 0) or folder (is_dir 1)
 * created in a folder whose descriptor is `parent` (may be NULL: no parent
 * descriptor known), with `owner` and `group` (group may be NULL: none, but
 * ntfs-3g refuses a descriptor without a group; Windows gives a new object
 * its creator's primary group, SYSTEM for system processes).
 * `child` is released first.
 *
 * DACL, from each parent DACL ACE in order (the parent ACE's own
 * INHERIT_ONLY does not matter; INHERITED is set on every result):
 *   file:   OI             -> an effective ACE (flags = ID)
 *   folder: CI + NP        -> an effective ACE (flags = ID)
 *           CI             -> one ACE, flags = OI/CI as the parent's + ID,
 *                             unless it must be mapped (trustee CREATOR
 *                             OWNER / CREATOR GROUP, or GENERIC_* bits in
 *                             the mask): then an effective, mapped ACE
 *                             (flags = ID) followed by the unmapped ACE as
 *                             inherit-only (parent's OI/CI + IO + ID)
 *           OI only, no NP -> inherit-only copy (OI + IO + ID)
 *   anything else          -> nothing
 * Mapping an effective ACE: CREATOR OWNER -> owner, CREATOR GROUP -> group
 * (owner when group is NULL), GENERIC_READ/WRITE/EXECUTE/ALL -> the file
 * rights FILE_GENERIC_* / FILE_ALL_ACCESS.  Opaque ACEs follow the same
 * flag rules but are never mapped or split (their body is copied as is);
 * object ACEs' InheritedObjectType GUIDs are not looked at (NTFS has no
 * object types).  The control gets SD_DACL_PRESENT | SD_DACL_AUTO_INHERITED.
 *
 * When nothing is inherited (no parent, no DACL, a NULL DACL, or no ACE
 * inheritable by this kind of child), Windows uses the creating token's
 * default DACL; there is no token offline, so this takes the default DACL
 * of a SYSTEM or elevated administrator token, mapped:
 * (A;;FA;;;SY)(A;;FA;;;BA), control SD_DACL_PRESENT only.
 *
 * SACL: none.  Windows inherits SACL ACEs only for callers holding
 * SeSecurityPrivilege and writing one needs it too; a migrated file is not
 * audited until Windows re-propagates its parent's SACL.
 */
void sd_inherit(struct sd_desc *child, const struct sd_desc *parent, int is_dir,
		const struct sd_sid *owner, const struct sd_sid *group);

/* ---- winstate's own objects ---------------------------------------------- */

/*
 * Protected DACLs (SD_DACL_PROTECTED | SD_DACL_AUTO_INHERITED: the parent's
 * ACEs do not flow in), owner Administrators, group SYSTEM, every ACE
 * OI|CI so files and folders made inside inherit it (use sd_inherit with
 * this as parent for them).  `sd` is released first.
 *   private:    Full control to SYSTEM, Administrators and `user`: a
 *               first-sign-in bundle folder that only its user (and the
 *               system) can read, change or delete.
 *   shared:     Full control to SYSTEM and Administrators, Read & execute
 *               to Users: the launcher folder Active Setup runs for every
 *               user, which no user can change.
 *   admin_only: Full control to SYSTEM and Administrators only: the undo
 *               journal, which holds hive copies.
 */
void sd_make_private(struct sd_desc *sd, const struct sd_sid *user);
void sd_make_shared(struct sd_desc *sd);
void sd_make_admin_only(struct sd_desc *sd);

/* ---- On a mounted NTFS volume -------------------------------------------- */

#define SD_XATTR_NTFS3G "system.ntfs_acl"        /* ntfs-3g (FUSE) */
#define SD_XATTR_NTFS3 "system.ntfs_security"    /* kernel ntfs3 driver */
#define SD_XATTR_ATTRIB_BE "system.ntfs_attrib_be" /* both: 4-byte big-endian */

/* What a target's file system can do. */
struct sd_target {
	const char *acl_xattr;    /* SD_XATTR_NTFS3G, SD_XATTR_NTFS3 or NULL */
	int attrib;               /* system.ntfs_attrib_be readable at the root */
	char fs[32];              /* file system type seen by statfs ("fuse", "ntfs3", "ext4", ...) */
	char reason[256];         /* when acl_xattr is NULL: why, one sentence */
};

/*
 * Which xattr carries security descriptors under `root` (read from root
 * itself, nothing is written).  WS_OK with t->acl_xattr NULL and t->reason
 * set when none works (a plain folder, FAT, a network share, an old ntfs
 * driver); an error only when root cannot be examined (WS_E_IO / WS_E_TARGET).
 */
int sd_target_probe(const char *root, struct sd_target *t, struct ws_error *err);

/*
 * Raw descriptor bytes of an object (replacing `out`'s contents).  _path
 * does not follow a final symlink (a junction is its own object);
 * _fd works on any fd but O_PATH ones.  The size is asked first and the
 * buffer made exact: ntfs-3g answers EIO, not ERANGE, to a short buffer.
 * WS_E_UNSUPPORTED when the file system has no such xattr.
 */
int sd_read_path(const char *path, const char *xattr, struct ws_buf *out,
		 struct ws_error *err);
int sd_read_fd(int fd, const char *xattr, const char *what, struct ws_buf *out,
	       struct ws_error *err);
/* Set the descriptor of the object open as `fd` (a file, or a folder
 * opened O_RDONLY|O_DIRECTORY); `what` names it in errors.  ntfs-3g checks
 * the bytes itself and answers EINVAL (-> WS_E_UNSUPPORTED) to what it
 * does not accept: a descriptor without owner or group, or with bytes after
 * its last part.  It takes them the same with or without -o permissions. */
int sd_write_fd(int fd, const char *xattr, const char *what, const void *sd,
		size_t len, struct ws_error *err);
/* Read + sd_parse, and sd_serialize + write. */
int sd_load_path(const char *path, const char *xattr, struct sd_desc *sd,
		 struct ws_error *err);
int sd_store_fd(int fd, const char *xattr, const char *what,
		const struct sd_desc *sd, struct ws_error *err);

/* Windows file attributes (FILE_ATTRIBUTE_*) through system.ntfs_attrib_be. */
int sd_attrib_read_path(const char *path, uint32_t *attrib, struct ws_error *err);
int sd_attrib_read_fd(int fd, const char *what, uint32_t *attrib, struct ws_error *err);
int sd_attrib_write_fd(int fd, const char *what, uint32_t attrib, struct ws_error *err);

#endif
