/* A growable byte buffer. Zero-initialise (cg_buf b = {0}) before use. */
#ifndef CG_BUF_H
#define CG_BUF_H

#include <stddef.h>

#include "common/error.h"

typedef struct cg_buf {
	char *data; /* NUL-terminated when len > 0 */
	size_t len;
	size_t cap;
} cg_buf;

/* Makes room for extra more bytes (and the NUL). */
int buf_reserve(cg_buf *b, size_t extra) CG_MUST_CHECK;
int buf_append(cg_buf *b, const void *p, size_t n) CG_MUST_CHECK;
int buf_puts(cg_buf *b, const char *s) CG_MUST_CHECK;

/* One byte, without a call when there is room (JSON punctuation). */
static inline int buf_putc(cg_buf *b, char c)
{
	if (b->len + 2 > b->cap && buf_reserve(b, 1) < 0)
		return -1;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
	return 0;
}
int buf_printf(cg_buf *b, const char *fmt, ...) CG_PRINTF(2, 3) CG_MUST_CHECK;
/* Appends s as a JSON string literal, quotes included. */
int buf_json_string(cg_buf *b, const char *s, size_t n) CG_MUST_CHECK;
/* Appends a jansson value as compact JSON (members in their order). */
struct json_t;
int buf_json_value(cg_buf *b, const struct json_t *v, unsigned depth) CG_MUST_CHECK;
void buf_reset(cg_buf *b);
void buf_free(cg_buf *b);

#endif
