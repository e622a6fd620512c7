#include "admission/glob.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* An ASCII character set: what one bracket expression matches. */
typedef struct ascii_set {
	uint64_t w[2];
} ascii_set;

static void set_add(ascii_set *s, unsigned c)
{
	s->w[c >> 6] |= (uint64_t)1 << (c & 63);
}

static bool set_has(const ascii_set *s, unsigned c)
{
	return (s->w[c >> 6] >> (c & 63)) & 1;
}

/* The C locale's classes (glibc's isalpha() and friends without a
 * setlocale(), as in capgate). */
static bool in_class(const char *name, size_t n, unsigned c)
{
#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
	bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
	bool digit = c >= '0' && c <= '9';
	bool print = c >= 0x20 && c < 0x7f;
	if (IS("alpha"))
		return upper || lower;
	if (IS("upper"))
		return upper;
	if (IS("lower"))
		return lower;
	if (IS("digit"))
		return digit;
	if (IS("alnum"))
		return upper || lower || digit;
	if (IS("xdigit"))
		return digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	if (IS("space"))
		return c == ' ' || (c >= '\t' && c <= '\r');
	if (IS("blank"))
		return c == ' ' || c == '\t';
	if (IS("cntrl"))
		return c < 0x20 || c == 0x7f;
	if (IS("print"))
		return print;
	if (IS("graph"))
		return print && c != ' ';
	if (IS("punct"))
		return print && c != ' ' && !upper && !lower && !digit;
#undef IS
	return false;
}

static bool is_class_name(const char *name, size_t n)
{
	static const char *const names[] = {"alpha", "upper", "lower", "digit", "alnum", "xdigit",
					    "space", "blank", "cntrl", "print", "graph", "punct"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0)
			return true;
	return false;
}

/* Parses the bracket expression that starts after '[' at *pp. Returns 1
 * with *pp past its ']' and the set filled, 0 when it has no closing ']'
 * (fnmatch then reads the '[' as a plain character), or -1 on what cannot
 * be reproduced. */
static int bracket(const char *glob, const char **pp, ascii_set *set, bool *negate, cg_error *err)
{
	const unsigned char *p = (const unsigned char *)*pp;
	*negate = false;
	memset(set, 0, sizeof(*set));
	if (*p == '!' || *p == '^') {
		*negate = true;
		p++;
	}
	bool first = true;
	for (;;) {
		unsigned c = *p++;
		if (c == '\0')
			return 0;
		if (c == ']' && !first) {
			*pp = (const char *)p;
			return 1;
		}
		first = false;
		if (c == '[' && (*p == '=' || *p == '.'))
			return cg_error_set(err, EINVAL,
					    "image glob \"%s\": [%c...%c] is not supported", glob,
					    *p, *p);
		/* glibc (fnmatch_loop.c) reads "[:" as a class only when letters
		 * 'a'..'y' and then ":]" follow; at any other character the '['
		 * is a plain member of the set ("[?[:]" matches '?', '[' and
		 * ':'), and a name of CHAR_CLASS_MAX_LENGTH letters fails the
		 * whole match. */
		size_t n = 0;
		if (c == '[' && *p == ':')
			while (p[1 + n] >= 'a' && p[1 + n] < 'z' && n < 256)
				n++;
		if (c == '[' && *p == ':' && n == 256)
			return cg_error_set(
				err, EINVAL,
				"image glob \"%s\": a class name that long matches nothing", glob);
		if (c == '[' && *p == ':' && p[1 + n] == ':' && p[2 + n] == ']') {
			const char *name = (const char *)p + 1;
			const char *end = name + n;
			if (!is_class_name(name, n))
				return cg_error_set(err, EINVAL,
						    "image glob \"%s\": unknown class [:%.*s:]",
						    glob, (int)(n > 16 ? 16 : n), name);
			for (unsigned k = 0; k < 128; k++)
				if (in_class(name, n, k))
					set_add(set, k);
			p = (const unsigned char *)end + 2;
			continue;
		}
		if (c == '\\') {
			c = *p++;
			if (c == '\0')
				return cg_error_set(err, EINVAL,
						    "image glob \"%s\" ends in a backslash", glob);
		}
		if (c >= 0x80)
			return cg_error_set(err, EINVAL,
					    "image glob \"%s\": non-ASCII character in [...]",
					    glob);
		unsigned hi = c;
		if (p[0] == '-' && p[1] == '\0')
			return cg_error_set(
				err, EINVAL,
				"image glob \"%s\" ends inside a range (fnmatch then matches "
				"nothing)",
				glob);
		if (p[0] == '-' && p[1] != ']') {
			hi = p[1];
			p += 2;
			if (hi == '\\') {
				hi = *p++;
				if (hi == '\0')
					return cg_error_set(err, EINVAL,
							    "image glob \"%s\" ends in a backslash",
							    glob);
			} else if (hi == '[' && (*p == '.' || *p == '=' || *p == ':')) {
				return cg_error_set(
					err, EINVAL,
					"image glob \"%s\": a range ending in [%c is not "
					"supported",
					glob, *p);
			}
			if (hi >= 0x80)
				return cg_error_set(
					err, EINVAL,
					"image glob \"%s\": non-ASCII character in [...]", glob);
		}
		for (unsigned k = c; k <= hi; k++) /* an inverted range is empty */
			set_add(set, k);
	}
}

/* One character outside brackets, escaped for RE2. */
static int literal(cg_buf *out, unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80)
		return buf_putc(out, (char)c);
	if (c < 0x20 || c == 0x7f)
		return buf_printf(out, "\\x{%02x}", c);
	char esc[3] = {'\\', (char)c, '\0'};
	return buf_puts(out, esc);
}

/* A set as an RE2 class of \x{..} ranges; an empty set never matches. */
static int set_class(cg_buf *out, const ascii_set *s)
{
	int rc = buf_putc(out, '[');
	bool any = false;
	for (unsigned c = 0; c < 128; c++) {
		if (!set_has(s, c))
			continue;
		unsigned e = c;
		while (e + 1 < 128 && set_has(s, e + 1))
			e++;
		rc |= e == c ? buf_printf(out, "\\x{%02x}", c)
			     : buf_printf(out, "\\x{%02x}-\\x{%02x}", c, e);
		any = true;
		c = e;
	}
	if (!any) /* RE2 has no empty class: a class of nothing */
		rc |= buf_puts(out, "^\\x{0}-\\x{10ffff}");
	rc |= buf_putc(out, ']');
	return rc;
}

int glob_to_re2(const char *glob, cg_buf *out, cg_error *err)
{
	/* (?s): fnmatch's '*' and '?' match a newline too. */
	int rc = buf_puts(out, "(?s)^");
	for (const char *p = glob; *p && rc == 0;) {
		unsigned char c = (unsigned char)*p++;
		if (c == '*') {
			rc = buf_puts(out, ".*");
		} else if (c == '?') {
			rc = buf_puts(out, "[\\x{00}-\\x{7f}]");
		} else if (c == '\\') {
			if (*p == '\0')
				return cg_error_set(
					err, EINVAL,
					"image glob \"%s\" ends in a backslash (fnmatch "
					"then matches nothing)",
					glob);
			c = (unsigned char)*p++;
			rc = literal(out, c);
		} else if (c == '[') {
			ascii_set set;
			bool negate;
			const char *q = p;
			int b = bracket(glob, &q, &set, &negate, err);
			if (b < 0)
				return -1;
			if (b == 0) {
				rc = literal(out, c);
				continue;
			}
			if (negate) /* the complement within ASCII, see glob.h */
				for (int w = 0; w < 2; w++)
					set.w[w] = ~set.w[w];
			rc = set_class(out, &set);
			p = q;
		} else {
			rc = literal(out, c);
		}
	}
	if (rc == 0)
		rc = buf_putc(out, '$');
	return rc < 0 ? cg_error_set(err, ENOMEM, "out of memory") : 0;
}
