#include "common/buf.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int buf_reserve(cg_buf *b, size_t extra)
{
	if (extra > ((size_t)-1) / 2 - b->len)
		return -ENOMEM;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (p == NULL)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_append(cg_buf *b, const void *p, size_t n)
{
	int r = buf_reserve(b, n);
	if (r < 0)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_puts(cg_buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_printf(cg_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	int r = buf_reserve(b, (size_t)n);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* 1 for the bytes a JSON string literal must escape (and DEL, kept out of
 * logs and messages). */
static const unsigned char json_escape[256] = {
	[0x00 ... 0x1f] = 1,
	['"'] = 1,
	['\\'] = 1,
	[0x7f] = 1,
};

int buf_json_string(cg_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int r = buf_reserve(b, n + 2);
	if (r < 0)
		return r;
	b->data[b->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		/* Copy the run of bytes that need no escape in one go. */
		size_t run = i;
		while (run < n && !json_escape[(unsigned char)s[run]])
			run++;
		if (run > i) {
			if ((r = buf_reserve(b, run - i + 1)) < 0)
				return r;
			memcpy(b->data + b->len, s + i, run - i);
			b->len += run - i;
			i = run;
			if (i == n)
				break;
		}
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t k = 0;
		if (c == '"' || c == '\\') {
			esc[k++] = '\\';
			esc[k++] = (char)c;
		} else if (c == '\n') {
			esc[k++] = '\\';
			esc[k++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			k = 6;
		} else {
			esc[k++] = (char)c;
		}
		if ((r = buf_reserve(b, k + 1)) < 0)
			return r;
		memcpy(b->data + b->len, esc, k);
		b->len += k;
	}
	b->data[b->len++] = '"';
	b->data[b->len] = '\0';
	return 0;
}

void buf_reset(cg_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_free(cg_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Compact JSON for a jansson value: jansson's own dumper escapes a
 * character at a time through a callback and costs more than the engine's
 * whole decision for a small patch. Object members keep their order. */
int buf_json_value(cg_buf *b, const json_t *v, unsigned depth)
{
	int r = 0;
	if (depth > 128)
		return -EINVAL;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *m;
		bool first = true;
		r |= buf_putc(b, '{');
		json_object_foreach((json_t *)v, k, m)
		{
			if (!first)
				r |= buf_putc(b, ',');
			first = false;
			r |= buf_json_string(b, k, strlen(k));
			r |= buf_putc(b, ':');
			if (r == 0)
				r = buf_json_value(b, m, depth + 1);
		}
		r |= buf_putc(b, '}');
		break;
	}
	case JSON_ARRAY:
		r |= buf_putc(b, '[');
		for (size_t i = 0; i < json_array_size(v) && r == 0; i++) {
			if (i)
				r |= buf_putc(b, ',');
			r = r ? r : buf_json_value(b, json_array_get(v, i), depth + 1);
		}
		r |= buf_putc(b, ']');
		break;
	case JSON_STRING:
		r = buf_json_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER: {
		char num[24];
		long long n = json_integer_value(v);
		unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
		size_t k = sizeof(num);
		do {
			num[--k] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		if (n < 0)
			num[--k] = '-';
		r = buf_append(b, num + k, sizeof(num) - k);
		break;
	}
	case JSON_REAL:
		r = buf_printf(b, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		r = buf_append(b, "true", 4);
		break;
	case JSON_FALSE:
		r = buf_append(b, "false", 5);
		break;
	default:
		r = buf_append(b, "null", 4);
		break;
	}
	return r ? -ENOMEM : 0;
}
