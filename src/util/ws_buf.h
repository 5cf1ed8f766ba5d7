/*
 * ws_buf.h - growable byte/string buffer (after git's strbuf) and the
 * allocation wrappers the whole library uses.
 *
 * Lifecycle:
 *   1. struct ws_buf b = WS_BUF_INIT;   (or ws_buf_init(&b))
 *   2. ws_buf_add*(&b, ...) as often as needed; b.buf is always NUL-terminated
 *      and b.len excludes the NUL, so it is usable both as C string and bytes.
 *   3. ws_buf_release(&b) frees it and leaves it as after WS_BUF_INIT;
 *      ws_buf_detach(&b) hands the malloc'd string to the caller instead.
 *
 * Memory exhaustion: ws_xmalloc & co. abort() after printing nothing, like
 * git's xmalloc dies; every other failure is reported through ws_error.
 */
#ifndef WS_BUF_H
#define WS_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *ws_xmalloc(size_t n);
void *ws_xcalloc(size_t nmemb, size_t size);
void *ws_xrealloc(void *p, size_t n);
char *ws_xstrdup(const char *s);
char *ws_xstrndup(const char *s, size_t n);
char *ws_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *ws_xmemdup(const void *p, size_t n);

/* Free n strings and the array (NULL: nothing). */
void ws_strv_free(char **v, size_t n);
/* *out = a new NULL-terminated array of a's na strings then b's nb (the
 * strings are borrowed: free only the array). */
void ws_strv_merge(const char *const *a, size_t na, char *const *b, size_t nb,
		   const char ***out);

/* Grow an array `p` holding `nr` elements with capacity `alloc` to fit `need`. */
#define WS_ALLOC_GROW(p, need, alloc)                                         \
	do {                                                                  \
		if ((size_t)(need) > (alloc)) {                               \
			size_t ws_new_ = (alloc) < 8 ? 8 : (alloc) * 2;       \
			while (ws_new_ < (size_t)(need))                      \
				ws_new_ *= 2;                                 \
			(p) = ws_xrealloc((p), ws_new_ * sizeof(*(p)));       \
			(alloc) = ws_new_;                                    \
		}                                                             \
	} while (0)

struct ws_buf {
	char *buf;    /* never NULL after init: points to a static "" when empty */
	size_t len;   /* bytes used, excluding the terminating NUL */
	size_t alloc; /* bytes allocated, 0 while buf is the static "" */
};

extern char ws_buf_empty[];
#define WS_BUF_INIT { ws_buf_empty, 0, 0 }

void ws_buf_init(struct ws_buf *b);
void ws_buf_release(struct ws_buf *b);
/* Return the malloc'd contents (caller frees) and re-init b. */
char *ws_buf_detach(struct ws_buf *b, size_t *len);
/* Make room for `extra` more bytes. */
void ws_buf_grow_slow(struct ws_buf *b, size_t extra);
static inline void ws_buf_grow(struct ws_buf *b, size_t extra)
{
	/* the room is there (most calls: every append asks): no call */
	if (b->alloc && extra < b->alloc - b->len)
		return;
	ws_buf_grow_slow(b, extra);
}
void ws_buf_reset(struct ws_buf *b);
void ws_buf_setlen(struct ws_buf *b, size_t len);

void ws_buf_add(struct ws_buf *b, const void *data, size_t len);
void ws_buf_adds(struct ws_buf *b, const char *s);
void ws_buf_addch(struct ws_buf *b, int c);
void ws_buf_addf(struct ws_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ws_buf_vaddf(struct ws_buf *b, const char *fmt, va_list ap);

/* Little-endian / varint encoders used by binary formats. */
void ws_buf_add_u8(struct ws_buf *b, unsigned v);
void ws_buf_add_u16le(struct ws_buf *b, unsigned v);
void ws_buf_add_u32le(struct ws_buf *b, unsigned long v);
void ws_buf_add_u64le(struct ws_buf *b, unsigned long long v);
/* Unsigned LEB128. */
void ws_buf_add_varint(struct ws_buf *b, unsigned long long v);

/* Little-endian reads and writes of fixed-size fields at `p` (no bounds:
 * callers check the length first). */
static inline uint16_t ws_get_u16le(const void *p)
{
	const unsigned char *b = p;

	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t ws_get_u32le(const void *p)
{
	const unsigned char *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static inline uint64_t ws_get_u64le(const void *p)
{
	const unsigned char *b = p;

	return (uint64_t)ws_get_u32le(b) | (uint64_t)ws_get_u32le(b + 4) << 32;
}

static inline void ws_put_u32le(void *p, uint32_t v)
{
	unsigned char *b = p;

	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
	b[2] = (unsigned char)(v >> 16);
	b[3] = (unsigned char)(v >> 24);
}

/* Hex digits: the value of one ('0'-'9', 'a'-'f', 'A'-'F') or -1; and
 * `n` bytes appended as lowercase pairs. */
int ws_hex_value(int c);
void ws_buf_add_hex(struct ws_buf *b, const void *p, size_t n);
/* The same into out[2n + 1], NUL-terminated. */
void ws_hex_encode(char *out, const void *p, size_t n);

/* Append `s` JSON-escaped (without quotes); invalid UTF-8 bytes become \u00XX
 * of the Latin-1 reading so output is always valid JSON. */
void ws_buf_add_json_str(struct ws_buf *b, const char *s, size_t len);

/* Append `s` escaped for XML 1.0 text or a double-quoted attribute:
 * & < > " as entities; TAB, LF, CR as character references (kept through
 * attribute-value normalisation); other control characters, which XML 1.0
 * cannot carry at all, as U+FFFD. */
void ws_buf_add_xml(struct ws_buf *b, const char *s);

#endif
