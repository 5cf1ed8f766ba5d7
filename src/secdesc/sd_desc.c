/*
 * sd_desc.c - the self-relative security descriptor: parsing untrusted bytes
 * into the model, serialising it back, and a debugging text (sd.h).
 */
#include "sd.h"

#include <stdlib.h>
#include <string.h>

#define SD_HEADER 20

/* Types whose body is AccessMask, SID, then optional application data. */
static int ace_is_decoded_type(uint8_t type)
{
	switch (type) {
	case SD_ACE_ALLOWED:
	case SD_ACE_DENIED:
	case SD_ACE_AUDIT:
	case SD_ACE_ALARM:
	case SD_ACE_ALLOWED_CALLBACK:
	case SD_ACE_DENIED_CALLBACK:
	case SD_ACE_AUDIT_CALLBACK:
	case SD_ACE_MANDATORY_LABEL:
		return 1;
	default:
		return 0;
	}
}

/* Object ACE types need ACL_REVISION_DS (4). */
static int ace_is_object_type(uint8_t type)
{
	return type == 0x05 || type == 0x06 || type == 0x07 || type == 0x08 ||
	       type == 0x0B || type == 0x0C || type == 0x0F || type == 0x10;
}

void sd_acl_add(struct sd_acl *acl, uint8_t type, uint8_t flags, uint32_t mask,
		const struct sd_sid *sid)
{
	struct sd_ace *a;

	WS_ALLOC_GROW(acl->v, acl->n + 1, acl->alloc);
	a = &acl->v[acl->n++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->flags = flags;
	a->mask = mask;
	a->sid = *sid;
}

void sd_acl_add_copy(struct sd_acl *acl, const struct sd_ace *ace)
{
	struct sd_ace *a;

	WS_ALLOC_GROW(acl->v, acl->n + 1, acl->alloc);
	a = &acl->v[acl->n++];
	*a = *ace;
	a->data = ace->data_len ? ws_xmemdup(ace->data, ace->data_len) : NULL;
}

void sd_acl_release(struct sd_acl *acl)
{
	for (size_t i = 0; i < acl->n; i++)
		free(acl->v[i].data);
	free(acl->v);
	acl->v = NULL;
	acl->n = acl->alloc = 0;
}

void sd_desc_init(struct sd_desc *sd)
{
	static const struct sd_desc blank = SD_DESC_INIT;

	*sd = blank;
}

void sd_desc_release(struct sd_desc *sd)
{
	sd_acl_release(&sd->dacl);
	sd_acl_release(&sd->sacl);
	sd_desc_init(sd);
}

static void acl_copy(struct sd_acl *dst, const struct sd_acl *src)
{
	dst->revision = src->revision;
	for (size_t i = 0; i < src->n; i++)
		sd_acl_add_copy(dst, &src->v[i]);
}

void sd_desc_copy(struct sd_desc *dst, const struct sd_desc *src)
{
	sd_desc_release(dst);
	dst->control = src->control;
	dst->rm_control = src->rm_control;
	dst->has_owner = src->has_owner;
	dst->has_group = src->has_group;
	dst->owner = src->owner;
	dst->group = src->group;
	dst->has_dacl = src->has_dacl;
	dst->has_sacl = src->has_sacl;
	acl_copy(&dst->dacl, &src->dacl);
	acl_copy(&dst->sacl, &src->sacl);
}

/* ---- parsing ------------------------------------------------------------- */

struct range {
	size_t off, len;
	const char *what;
};

static int bad(struct ws_error *err, size_t off, const char *fmt, const char *what)
{
	return ws_error_set(err, WS_E_CORRUPT, NULL,
			    "security descriptor malformed at byte %zu: %s%s", off, what, fmt);
}

static int parse_sid_at(const unsigned char *p, size_t len, uint32_t off, const char *what,
			struct sd_sid *sid, struct range *r, struct ws_error *err)
{
	size_t used;

	if (off < SD_HEADER || off >= len)
		return bad(err, off, " offset outside the descriptor", what);
	if (sd_sid_from_bin(sid, p + off, len - off, &used) != 0)
		return bad(err, off, " is not a valid SID inside the descriptor", what);
	r->off = off;
	r->len = used;
	r->what = what;
	return WS_OK;
}

static int parse_ace(const unsigned char *p, size_t size, size_t at, struct sd_ace *a,
		     struct ws_error *err)
{
	size_t used;

	memset(a, 0, sizeof(*a));
	a->type = p[0];
	a->flags = p[1];
	if (!ace_is_decoded_type(a->type)) {
		a->opaque = 1;
		a->data_len = size - 4;
		a->data = a->data_len ? ws_xmemdup(p + 4, a->data_len) : NULL;
		return WS_OK;
	}
	if (size < 8 + 8)
		return bad(err, at, " too small for a mask and a SID", "ACE");
	a->mask = ws_get_u32le(p + 4);
	if (sd_sid_from_bin(&a->sid, p + 8, size - 8, &used) != 0)
		return bad(err, at + 8, " is not a valid SID inside its ACE", "trustee");
	a->data_len = size - 8 - used;
	a->data = a->data_len ? ws_xmemdup(p + 8 + used, a->data_len) : NULL;
	return WS_OK;
}

static int parse_acl_at(const unsigned char *p, size_t len, uint32_t off, const char *what,
			struct sd_acl *acl, struct range *r, struct ws_error *err)
{
	size_t size, count, pos, end;

	if (off < SD_HEADER || off >= len || len - off < 8)
		return bad(err, off, " offset outside the descriptor", what);
	if (p[off] != 2 && p[off] != 4)
		return bad(err, off, " has an unknown ACL revision", what);
	size = ws_get_u16le(p + off + 2);
	count = ws_get_u16le(p + off + 4);
	if (size < 8 || size > len - off)
		return bad(err, off + 2, " size outside the descriptor", what);
	acl->revision = p[off];
	pos = off + 8;
	end = off + size;
	for (size_t i = 0; i < count; i++) {
		struct sd_ace a;
		size_t asz;
		int rc;

		if (end - pos < 4)
			return bad(err, pos, " has more ACEs than fit in its size", what);
		asz = ws_get_u16le(p + pos + 2);
		if (asz < 4 || asz % 4 != 0 || asz > end - pos)
			return bad(err, pos + 2, " ACE size is invalid", what);
		if ((rc = parse_ace(p + pos, asz, pos, &a, err)) != WS_OK)
			return rc;
		WS_ALLOC_GROW(acl->v, acl->n + 1, acl->alloc);
		acl->v[acl->n++] = a;
		pos += asz;
	}
	r->off = off;
	r->len = size;
	r->what = what;
	return WS_OK;
}

int sd_parse(struct sd_desc *sd, const void *data, size_t len, struct ws_error *err)
{
	const unsigned char *p = data;
	struct sd_desc d = SD_DESC_INIT;
	struct range r[4];
	int nr = 0, rc = WS_OK;
	uint32_t o_owner, o_group, o_sacl, o_dacl;

	if (!p || len < SD_HEADER) {
		ws_error_set(err, WS_E_CORRUPT, NULL,
			     "security descriptor too short (%zu bytes)", len);
		goto fail;
	}
	d.control = ws_get_u16le(p + 2);
	d.rm_control = p[1];
	if (p[0] != 1 || !(d.control & SD_SELF_RELATIVE)) {
		ws_error_set(err, WS_E_CORRUPT, NULL, "security descriptor malformed: "
			     "not a revision 1 self-relative descriptor");
		goto fail;
	}
	o_owner = ws_get_u32le(p + 4);
	o_group = ws_get_u32le(p + 8);
	o_sacl = ws_get_u32le(p + 12);
	o_dacl = ws_get_u32le(p + 16);
	if (o_owner && (rc = parse_sid_at(p, len, o_owner, "owner", &d.owner, &r[nr++], err)))
		goto fail;
	d.has_owner = o_owner != 0;
	if (o_group && (rc = parse_sid_at(p, len, o_group, "group", &d.group, &r[nr++], err)))
		goto fail;
	d.has_group = o_group != 0;
	if (o_sacl && (d.control & SD_SACL_PRESENT)) {
		if ((rc = parse_acl_at(p, len, o_sacl, "SACL", &d.sacl, &r[nr++], err)))
			goto fail;
		d.has_sacl = 1;
	}
	if (o_dacl && (d.control & SD_DACL_PRESENT)) {
		if ((rc = parse_acl_at(p, len, o_dacl, "DACL", &d.dacl, &r[nr++], err)))
			goto fail;
		d.has_dacl = 1;
	}
	/* Parts sharing bytes are never written by Windows; refusing them
	 * keeps one byte from meaning two things. */
	for (int i = 0; i < nr; i++)
		for (int j = i + 1; j < nr; j++)
			if (r[i].off < r[j].off + r[j].len && r[j].off < r[i].off + r[i].len) {
				ws_error_set(err, WS_E_CORRUPT, NULL,
					     "security descriptor malformed: %s and %s overlap",
					     r[i].what, r[j].what);
				goto fail;
			}
	sd_desc_release(sd);
	*sd = d;
	return WS_OK;
fail:
	sd_desc_release(&d);
	sd_desc_release(sd);
	return err ? err->code : WS_E_CORRUPT;
}

/* ---- serialising --------------------------------------------------------- */

static int acl_out(const struct sd_acl *acl, const char *what, struct ws_buf *b,
		   struct ws_error *err)
{
	size_t start = b->len;
	unsigned rev = acl->revision == 4 ? 4 : 2;

	if (acl->n > 0xFFFF)
		return ws_error_set(err, WS_E_UNSUPPORTED, NULL,
				    "%s: %zu ACEs do not fit an ACL", what, acl->n);
	for (size_t i = 0; i < acl->n; i++)
		if (ace_is_object_type(acl->v[i].type))
			rev = 4;
	ws_buf_add_u8(b, rev);
	ws_buf_add_u8(b, 0);
	ws_buf_add_u16le(b, 0);                /* AclSize, patched below */
	ws_buf_add_u16le(b, (unsigned)acl->n);
	ws_buf_add_u16le(b, 0);
	for (size_t i = 0; i < acl->n; i++) {
		const struct sd_ace *a = &acl->v[i];
		size_t size = 4 + a->data_len + (a->opaque ? 0 : 4 + sd_sid_size(&a->sid));
		size_t pad = (4 - size % 4) % 4;

		if (size + pad > 0xFFFF)
			return ws_error_set(err, WS_E_UNSUPPORTED, NULL,
					    "%s: ACE %zu is too large", what, i);
		ws_buf_add_u8(b, a->type);
		ws_buf_add_u8(b, a->flags);
		ws_buf_add_u16le(b, (unsigned)(size + pad));
		if (!a->opaque) {
			ws_buf_add_u32le(b, a->mask);
			sd_sid_to_bin(&a->sid, b);
		}
		if (a->data_len)
			ws_buf_add(b, a->data, a->data_len);
		while (pad--)
			ws_buf_add_u8(b, 0);
	}
	if (b->len - start > 0xFFFF)
		return ws_error_set(err, WS_E_UNSUPPORTED, NULL,
				    "%s: %zu bytes do not fit an ACL", what, b->len - start);
	b->buf[start + 2] = (char)((b->len - start) & 0xFF);
	b->buf[start + 3] = (char)((b->len - start) >> 8);
	return WS_OK;
}

static void put32(struct ws_buf *b, size_t at, size_t v)
{
	for (int i = 0; i < 4; i++)
		b->buf[at + i] = (char)((v >> (8 * i)) & 0xFF);
}

int sd_serialize(const struct sd_desc *sd, struct ws_buf *out, struct ws_error *err)
{
	struct ws_buf b = WS_BUF_INIT;
	uint16_t control = sd->control | SD_SELF_RELATIVE;
	int rc = WS_OK;

	if (sd->has_dacl)
		control |= SD_DACL_PRESENT;
	if (sd->has_sacl)
		control |= SD_SACL_PRESENT;
	ws_buf_add_u8(&b, 1);
	ws_buf_add_u8(&b, sd->rm_control);
	ws_buf_add_u16le(&b, control);
	for (int i = 0; i < 4; i++)
		ws_buf_add_u32le(&b, 0);      /* offsets, patched below */
	if (sd->has_owner) {
		put32(&b, 4, b.len);
		sd_sid_to_bin(&sd->owner, &b);
	}
	if (sd->has_group) {
		put32(&b, 8, b.len);
		sd_sid_to_bin(&sd->group, &b);
	}
	if (sd->has_sacl) {
		put32(&b, 12, b.len);
		rc = acl_out(&sd->sacl, "SACL", &b, err);
	}
	if (rc == WS_OK && sd->has_dacl) {
		put32(&b, 16, b.len);
		rc = acl_out(&sd->dacl, "DACL", &b, err);
	}
	if (rc == WS_OK)
		ws_buf_add(out, b.buf, b.len);
	ws_buf_release(&b);
	return rc;
}

/* ---- text ---------------------------------------------------------------- */

static void acl_text(const struct sd_acl *acl, uint16_t control, int dacl, struct ws_buf *out)
{
	static const struct { uint8_t bit; const char *s; } fl[] = {
		{ SD_ACE_OI, "OI" }, { SD_ACE_CI, "CI" }, { SD_ACE_NP, "NP" },
		{ SD_ACE_IO, "IO" }, { SD_ACE_ID, "ID" }, { SD_ACE_SA, "SA" },
		{ SD_ACE_FA, "FA" },
	};
	char sid[SD_SID_TEXT_MAX];

	if (control & (dacl ? SD_DACL_PROTECTED : SD_SACL_PROTECTED))
		ws_buf_adds(out, "P");
	if (control & (dacl ? SD_DACL_AUTO_INHERIT_REQ : SD_SACL_AUTO_INHERIT_REQ))
		ws_buf_adds(out, "AR");
	if (control & (dacl ? SD_DACL_AUTO_INHERITED : SD_SACL_AUTO_INHERITED))
		ws_buf_adds(out, "AI");
	for (size_t i = 0; i < acl->n; i++) {
		const struct sd_ace *a = &acl->v[i];
		const char *t = NULL;

		switch (a->type) {
		case SD_ACE_ALLOWED: t = "A"; break;
		case SD_ACE_DENIED: t = "D"; break;
		case SD_ACE_AUDIT: t = "AU"; break;
		case SD_ACE_ALARM: t = "AL"; break;
		case SD_ACE_ALLOWED_CALLBACK: t = "XA"; break;
		case SD_ACE_DENIED_CALLBACK: t = "XD"; break;
		case SD_ACE_AUDIT_CALLBACK: t = "XU"; break;
		case SD_ACE_MANDATORY_LABEL: t = "ML"; break;
		}
		ws_buf_addch(out, '(');
		if (t)
			ws_buf_adds(out, t);
		else
			ws_buf_addf(out, "0x%02x", a->type);
		ws_buf_addch(out, ';');
		for (size_t k = 0; k < sizeof(fl) / sizeof(fl[0]); k++)
			if (a->flags & fl[k].bit)
				ws_buf_adds(out, fl[k].s);
		if (a->flags & 0x20)
			ws_buf_adds(out, "0x20");
		if (a->opaque)
			ws_buf_addf(out, ";opaque:%zu)", a->data_len);
		else
			ws_buf_addf(out, ";0x%lx;;;%s)", (unsigned long)a->mask,
				    sd_sid_to_text(&a->sid, sid));
	}
}

void sd_to_text(const struct sd_desc *sd, struct ws_buf *out)
{
	char sid[SD_SID_TEXT_MAX];

	if (sd->has_owner)
		ws_buf_addf(out, "O:%s", sd_sid_to_text(&sd->owner, sid));
	if (sd->has_group)
		ws_buf_addf(out, "G:%s", sd_sid_to_text(&sd->group, sid));
	if (sd->has_dacl || (sd->control & SD_DACL_PRESENT)) {
		ws_buf_adds(out, "D:");
		if (sd->has_dacl)
			acl_text(&sd->dacl, sd->control, 1, out);
		else
			ws_buf_adds(out, "NO_ACCESS_CONTROL");
	}
	if (sd->has_sacl) {
		ws_buf_adds(out, "S:");
		acl_text(&sd->sacl, sd->control, 0, out);
	}
}
