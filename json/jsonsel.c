#include "json/jsonsel.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

const jsonsel jsonsel_all = {JSONSEL_ALL, NULL, 0, NULL, NULL};

typedef struct parser {
	const unsigned char *s;
	const unsigned char *end;
	const unsigned char *start;
	unsigned depth;
	unsigned max_depth;
	jsonsel_info *info;
	cg_error *err;
	char *scratch; /* unescaped strings */
	size_t scratch_cap;
} parser;

/* 1: the byte needs a closer look inside a string. */
static const unsigned char str_special[256] = {
	[0x00 ... 0x1f] = 1,
	['"'] = 1,
	['\\'] = 1,
	[0x80 ... 0xff] = 1,
};

/* Eight bytes at a time: a mask whose lowest set bit (bit 7 of a byte) marks
 * the first byte that is special inside a string (a control character,
 * '"', '\\' or a byte >= 0x80). Bits above the lowest may be false alarms
 * (borrows), the lowest never is. Most strings in a review are short keys,
 * so finding the closing quote in one step is where the time goes. */
static inline uint64_t special_mask(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t quote = w ^ (ones * '"');
	uint64_t bslash = w ^ (ones * '\\');
	uint64_t t = ((w - ones * 0x20) | (quote - ones) | (bslash - ones)) & ~w;
	return (t | w) & highs;
}

static int fail(parser *p, const char *what)
{
	unsigned line = 1, col = 1;
	for (const unsigned char *q = p->start; q < p->s && q < p->end; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	return cg_error_set(p->err, EINVAL, "line %u column %u: %s", line, col, what);
}

static inline void ws(parser *p)
{
	while (p->s < p->end && *p->s <= ' ' &&
	       (*p->s == ' ' || *p->s == '\n' || *p->s == '\r' || *p->s == '\t'))
		p->s++;
}

/* One UTF-8 sequence starting at p->s (>= 0x80): RFC 3629, no overlongs,
 * no surrogates, nothing above U+10FFFF. */
static int utf8(parser *p)
{
	const unsigned char *s = p->s;
	size_t left = (size_t)(p->end - s);
	unsigned c = s[0];
	if (c >= 0xc2 && c <= 0xdf) {
		if (left >= 2 && (s[1] & 0xc0) == 0x80) {
			p->s += 2;
			return 0;
		}
	} else if (c >= 0xe0 && c <= 0xef) {
		if (left >= 3 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 &&
		    !(c == 0xe0 && s[1] < 0xa0) && !(c == 0xed && s[1] >= 0xa0)) {
			p->s += 3;
			return 0;
		}
	} else if (c >= 0xf0 && c <= 0xf4) {
		if (left >= 4 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 &&
		    (s[3] & 0xc0) == 0x80 && !(c == 0xf0 && s[1] < 0x90) &&
		    !(c == 0xf4 && s[1] >= 0x90)) {
			p->s += 4;
			return 0;
		}
	}
	return fail(p, "invalid UTF-8 in a string");
}

static int hex4(parser *p, const unsigned char *s, unsigned *out)
{
	unsigned v = 0;
	if (p->end - s < 4)
		return fail(p, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		unsigned c = s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return fail(p, "invalid \\u escape");
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* Validates a string (p->s just past the opening quote) and, when dst is
 * not NULL, unescapes it into p->scratch: *dst, *dlen. */
static int string(parser *p, const char **dst, size_t *dlen)
{
	const unsigned char *begin = p->s;
	bool escaped = false;
	for (;;) {
		while (p->end - p->s >= 8) {
			uint64_t w;
			memcpy(&w, p->s, 8); /* little-endian: byte 0 is the lowest */
			uint64_t m = special_mask(w);
			if (m) {
				p->s += __builtin_ctzll(m) >> 3;
				goto special;
			}
			p->s += 8;
		}
		while (p->s < p->end && !str_special[*p->s])
			p->s++;
	special:
		if (p->s >= p->end)
			return fail(p, "unterminated string");
		unsigned c = *p->s;
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(p, "control character in a string");
		if (c >= 0x80) {
			if (utf8(p) < 0)
				return -1;
			continue;
		}
		/* backslash */
		escaped = true;
		if (p->s + 1 >= p->end)
			return fail(p, "unterminated string");
		unsigned e = p->s[1];
		if (e == 'u') {
			unsigned u;
			if (hex4(p, p->s + 2, &u) < 0)
				return -1;
			p->s += 6;
			if (u >= 0xdc00 && u <= 0xdfff)
				return fail(p, "lone low surrogate in \\u escape");
			if (u >= 0xd800 && u <= 0xdbff) {
				unsigned lo;
				if (p->end - p->s < 6 || p->s[0] != '\\' || p->s[1] != 'u' ||
				    hex4(p, p->s + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					return fail(p, "lone high surrogate in \\u escape");
				p->s += 6;
			}
			continue;
		}
		if (!strchr("\"\\/bfnrt", (int)e) || e == 0)
			return fail(p, "invalid escape in a string");
		p->s += 2;
	}
	const unsigned char *finish = p->s;
	p->s++; /* closing quote */
	if (dst == NULL)
		return 0;
	size_t n = (size_t)(finish - begin);
	if (!escaped) {
		*dst = (const char *)begin;
		*dlen = n;
		return 0;
	}
	if (n + 1 > p->scratch_cap) {
		char *sc = realloc(p->scratch, n + 1);
		if (sc == NULL)
			return cg_error_set(p->err, ENOMEM, "out of memory");
		p->scratch = sc;
		p->scratch_cap = n + 1;
	}
	/* Second pass over validated input: decode. */
	char *o = p->scratch;
	for (const unsigned char *s = begin; s < finish;) {
		if (*s != '\\') {
			*o++ = (char)*s++;
			continue;
		}
		unsigned e = s[1];
		if (e != 'u') {
			static const char map[128] = {
				['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
				['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t'};
			*o++ = map[e];
			s += 2;
			continue;
		}
		unsigned u, lo;
		(void)hex4(p, s + 2, &u);
		s += 6;
		if (u >= 0xd800 && u <= 0xdbff) {
			(void)hex4(p, s + 2, &lo);
			s += 6;
			u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
		}
		if (u == 0 && p->info)
			p->info->nul_in_string = true;
		if (u < 0x80) {
			*o++ = (char)u;
		} else if (u < 0x800) {
			*o++ = (char)(0xc0 | u >> 6);
			*o++ = (char)(0x80 | (u & 0x3f));
		} else if (u < 0x10000) {
			*o++ = (char)(0xe0 | u >> 12);
			*o++ = (char)(0x80 | ((u >> 6) & 0x3f));
			*o++ = (char)(0x80 | (u & 0x3f));
		} else {
			*o++ = (char)(0xf0 | u >> 18);
			*o++ = (char)(0x80 | ((u >> 12) & 0x3f));
			*o++ = (char)(0x80 | ((u >> 6) & 0x3f));
			*o++ = (char)(0x80 | (u & 0x3f));
		}
	}
	*dst = p->scratch;
	*dlen = (size_t)(o - p->scratch);
	return 0;
}

/* Skips a string (p->s just past the opening quote). Most strings in a
 * review are plain ASCII: find the closing quote here, inline, and leave
 * escapes and UTF-8 to string(). */
static inline __attribute__((always_inline)) int skip_string(parser *p)
{
	const unsigned char *q = p->s;
	while (p->end - q >= 8) {
		uint64_t w;
		memcpy(&w, q, 8);
		uint64_t m = special_mask(w);
		if (m) {
			q += __builtin_ctzll(m) >> 3;
			if (*q != '"')
				break; /* an escape or UTF-8: the careful path */
			p->s = q + 1;
			return 0;
		}
		q += 8;
	}
	return string(p, NULL, NULL);
}

static bool digit(const unsigned char *s, const unsigned char *end)
{
	return s < end && *s >= '0' && *s <= '9';
}

static int number(parser *p, json_t **out)
{
	const unsigned char *b = p->s;
	bool real = false;
	if (*p->s == '-')
		p->s++;
	if (!digit(p->s, p->end))
		return fail(p, "invalid number");
	if (*p->s == '0') {
		p->s++;
		if (digit(p->s, p->end))
			return fail(p, "invalid number: leading zero");
	} else {
		while (digit(p->s, p->end))
			p->s++;
	}
	if (p->s < p->end && *p->s == '.') {
		real = true;
		p->s++;
		if (!digit(p->s, p->end))
			return fail(p, "invalid number: no digit after the point");
		while (digit(p->s, p->end))
			p->s++;
	}
	if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
		real = true;
		p->s++;
		if (p->s < p->end && (*p->s == '+' || *p->s == '-'))
			p->s++;
		if (!digit(p->s, p->end))
			return fail(p, "invalid number: no digit in the exponent");
		while (digit(p->s, p->end))
			p->s++;
	}
	if (out == NULL)
		return 0;
	char buf[64];
	size_t n = (size_t)(p->s - b);
	if (n >= sizeof(buf))
		return fail(p, "number too long");
	memcpy(buf, b, n);
	buf[n] = '\0';
	errno = 0;
	if (!real) {
		long long v = strtoll(buf, NULL, 10);
		if (errno == ERANGE)
			return fail(p, "integer out of range");
		*out = json_integer(v);
	} else {
		double d = strtod(buf, NULL);
		if (errno == ERANGE && (d > 1 || d < -1))
			return fail(p, "real number out of range");
		*out = json_real(d);
	}
	return *out ? 0 : cg_error_set(p->err, ENOMEM, "out of memory");
}

static int literal(parser *p, const char *word, json_t *(*make)(void), json_t **out)
{
	size_t n = strlen(word);
	if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n) != 0)
		return fail(p, "invalid literal");
	p->s += n;
	if (out)
		*out = make();
	return 0;
}

static const jsonsel *field_sel(const jsonsel *sel, const char *key, size_t len)
{
	for (size_t i = 0; i < sel->n_fields; i++) {
		const char *k = sel->fields[i].key;
		/* Length first: memcmp may read all len bytes of k, past its
		 * end when the key is longer (or holds U+0000). */
		if (k[0] == key[0] && strnlen(k, len + 1) == len && memcmp(k, key, len) == 0)
			return sel->fields[i].sel;
	}
	return NULL;
}

static int value(parser *p, const jsonsel *sel, json_t **out);

/* `"key" :` inside an object being skipped. */
static inline __attribute__((always_inline)) int skip_key(parser *p)
{
	ws(p);
	if (p->s >= p->end || *p->s != '"')
		return fail(p, "expected a string key");
	p->s++;
	if (skip_string(p) < 0)
		return -1;
	ws(p);
	if (p->s >= p->end || *p->s != ':')
		return fail(p, "expected ':' after a key");
	p->s++;
	return 0;
}

/* Validates and skips one value without building anything. Iterative:
 * skipped subtrees (managedFields above all) are most of a review, and a
 * call per token costs more than the bytes themselves. */
static int skip(parser *p)
{
	bool is_obj[JSONSEL_MAX_DEPTH];
	unsigned depth = 0;
	for (;;) {
		/* a value is expected */
		ws(p);
		if (p->s >= p->end)
			return fail(p, "unexpected end of input");
		unsigned char c = *p->s;
		if (c == '{' || c == '[') {
			if (p->depth + depth + 1 > p->max_depth || depth + 1 >= JSONSEL_MAX_DEPTH)
				return fail(p, "nesting too deep");
			p->s++;
			ws(p);
			if (p->s < p->end && *p->s == (c == '{' ? '}' : ']')) {
				p->s++;
			} else {
				is_obj[depth++] = c == '{';
				if (c == '{' && skip_key(p) < 0)
					return -1;
				continue;
			}
		} else if (c == '"') {
			p->s++;
			if (skip_string(p) < 0)
				return -1;
		} else if (c == 't') {
			if (literal(p, "true", json_true, NULL) < 0)
				return -1;
		} else if (c == 'f') {
			if (literal(p, "false", json_false, NULL) < 0)
				return -1;
		} else if (c == 'n') {
			if (literal(p, "null", json_null, NULL) < 0)
				return -1;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			if (number(p, NULL) < 0)
				return -1;
		} else {
			return fail(p, "unexpected character");
		}
		/* after a value: close containers until one continues */
		for (;;) {
			if (depth == 0)
				return 0;
			ws(p);
			if (p->s >= p->end)
				return fail(p, "unexpected end of input");
			bool obj = is_obj[depth - 1];
			if (*p->s == ',') {
				p->s++;
				if (obj && skip_key(p) < 0)
					return -1;
				break;
			}
			if (*p->s == (obj ? '}' : ']')) {
				p->s++;
				depth--;
				continue;
			}
			return fail(p, obj ? "expected ',' or '}' in an object"
					   : "expected ',' or ']' in an array");
		}
	}
}

/* Sets member sel->digest_key of obj to the SHA-256 of the raw bytes
 * [from, p->s): the whole object as it stood in the input. */
static int add_digest(parser *p, const jsonsel *sel, json_t *obj, const unsigned char *from)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	if (EVP_Digest(from, (size_t)(p->s - from), md, &mdlen, EVP_sha256(), NULL) != 1)
		return cg_error_set(p->err, ENOMEM, "SHA-256 of an object failed");
	for (unsigned int i = 0; i < mdlen; i++) {
		hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	if (json_object_set_new_nocheck(obj, sel->digest_key,
					json_stringn_nocheck(hex, 2 * (size_t)mdlen)) < 0)
		return cg_error_set(p->err, ENOMEM, "out of memory");
	return 0;
}

static int object(parser *p, const jsonsel *sel, json_t **out)
{
	const unsigned char *from = p->s;
	json_t *obj = NULL;
	if (out) {
		if (sel->kind != JSONSEL_OBJECT)
			sel = &jsonsel_all;
		if ((obj = json_object()) == NULL)
			return cg_error_set(p->err, ENOMEM, "out of memory");
		*out = obj;
	}
	p->s++;
	ws(p);
	if (p->s < p->end && *p->s == '}') {
		p->s++;
		return obj && sel->digest_key ? add_digest(p, sel, obj, from) : 0;
	}
	for (;;) {
		ws(p);
		if (p->s >= p->end || *p->s != '"')
			return fail(p, "expected a string key");
		p->s++;
		const char *key;
		size_t klen;
		if (string(p, &key, &klen) < 0)
			return -1;
		const jsonsel *child = NULL;
		if (obj)
			child = sel->kind == JSONSEL_ALL ? &jsonsel_all : field_sel(sel, key, klen);
		/* The key lives in scratch or the input: copy it before the value
		 * reuses scratch. */
		char kbuf[256];
		char *kcopy = NULL;
		if (child) {
			if (klen >= sizeof(kbuf) && (kcopy = malloc(klen + 1)) == NULL)
				return cg_error_set(p->err, ENOMEM, "out of memory");
			char *k = kcopy ? kcopy : kbuf;
			memcpy(k, key, klen);
			k[klen] = '\0';
			key = k;
		}
		ws(p);
		if (p->s >= p->end || *p->s != ':') {
			free(kcopy);
			return fail(p, "expected ':' after a key");
		}
		p->s++;
		json_t *v = NULL;
		int rc = value(p, child, child ? &v : NULL);
		if (rc == 0 && v && json_object_setn_new_nocheck(obj, key, klen, v) < 0)
			rc = cg_error_set(p->err, ENOMEM, "out of memory");
		else if (rc < 0)
			json_decref(v);
		free(kcopy);
		if (rc < 0)
			return rc;
		ws(p);
		if (p->s < p->end && *p->s == ',') {
			p->s++;
			continue;
		}
		if (p->s < p->end && *p->s == '}') {
			p->s++;
			return obj && sel->digest_key ? add_digest(p, sel, obj, from) : 0;
		}
		return fail(p, "expected ',' or '}' in an object");
	}
}

static int array(parser *p, const jsonsel *sel, json_t **out)
{
	json_t *arr = NULL;
	const jsonsel *items = &jsonsel_all;
	if (out) {
		if (sel->kind == JSONSEL_ARRAY)
			items = sel->items;
		if ((arr = json_array()) == NULL)
			return cg_error_set(p->err, ENOMEM, "out of memory");
		*out = arr;
	}
	p->s++;
	ws(p);
	if (p->s < p->end && *p->s == ']') {
		p->s++;
		return 0;
	}
	for (;;) {
		json_t *v = NULL;
		if (value(p, arr ? items : NULL, arr ? &v : NULL) < 0) {
			json_decref(v);
			return -1;
		}
		if (v && json_array_append_new(arr, v) < 0)
			return cg_error_set(p->err, ENOMEM, "out of memory");
		ws(p);
		if (p->s < p->end && *p->s == ',') {
			p->s++;
			continue;
		}
		if (p->s < p->end && *p->s == ']') {
			p->s++;
			return 0;
		}
		return fail(p, "expected ',' or ']' in an array");
	}
}

/* sel NULL / out NULL: validate and skip. */
static int value(parser *p, const jsonsel *sel, json_t **out)
{
	if (out == NULL)
		return skip(p);
	ws(p);
	if (p->s >= p->end)
		return fail(p, "unexpected end of input");
	int rc;
	switch (*p->s) {
	case '{':
	case '[':
		if (++p->depth > p->max_depth)
			return fail(p, "nesting too deep");
		rc = *p->s == '{' ? object(p, sel, out) : array(p, sel, out);
		p->depth--;
		return rc;
	case '"': {
		p->s++;
		const char *s;
		size_t n;
		if (string(p, out ? &s : NULL, out ? &n : NULL) < 0)
			return -1;
		if (out && (*out = json_stringn_nocheck(s, n)) == NULL)
			return cg_error_set(p->err, ENOMEM, "out of memory");
		return 0;
	}
	case 't':
		return literal(p, "true", json_true, out);
	case 'f':
		return literal(p, "false", json_false, out);
	case 'n':
		return literal(p, "null", json_null, out);
	default:
		if (*p->s == '-' || (*p->s >= '0' && *p->s <= '9'))
			return number(p, out);
		return fail(p, "unexpected character");
	}
}

int jsonsel_parse(const char *buf, size_t len, const jsonsel *root, unsigned max_depth,
		  json_t **out, jsonsel_info *info, cg_error *err)
{
	parser p = {.s = (const unsigned char *)buf,
		    .end = (const unsigned char *)buf + len,
		    .start = (const unsigned char *)buf,
		    .max_depth = max_depth < JSONSEL_MAX_DEPTH ? max_depth : JSONSEL_MAX_DEPTH,
		    .info = info,
		    .err = err};
	json_t *v = NULL;
	if (info)
		memset(info, 0, sizeof(*info));
	int rc = value(&p, root, &v);
	if (rc == 0) {
		ws(&p);
		if (p.s != p.end)
			rc = fail(&p, "trailing data after the JSON value");
	}
	free(p.scratch);
	if (rc < 0) {
		json_decref(v);
		return rc;
	}
	*out = v;
	return 0;
}
