/* Plain scalars resolved as go-yaml v2 resolves them; see yamlscalar.h. */
#include "yaml/yamlscalar.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

static const struct {
	const char *s;
	enum yamlscalar_type t;
	bool b;
} yaml11_words[] = {
	{"y", YAMLSCALAR_BOOL, true},	   {"Y", YAMLSCALAR_BOOL, true},
	{"yes", YAMLSCALAR_BOOL, true},	   {"Yes", YAMLSCALAR_BOOL, true},
	{"YES", YAMLSCALAR_BOOL, true},	   {"true", YAMLSCALAR_BOOL, true},
	{"True", YAMLSCALAR_BOOL, true},   {"TRUE", YAMLSCALAR_BOOL, true},
	{"on", YAMLSCALAR_BOOL, true},	   {"On", YAMLSCALAR_BOOL, true},
	{"ON", YAMLSCALAR_BOOL, true},	   {"n", YAMLSCALAR_BOOL, false},
	{"N", YAMLSCALAR_BOOL, false},	   {"no", YAMLSCALAR_BOOL, false},
	{"No", YAMLSCALAR_BOOL, false},	   {"NO", YAMLSCALAR_BOOL, false},
	{"false", YAMLSCALAR_BOOL, false}, {"False", YAMLSCALAR_BOOL, false},
	{"FALSE", YAMLSCALAR_BOOL, false}, {"off", YAMLSCALAR_BOOL, false},
	{"Off", YAMLSCALAR_BOOL, false},   {"OFF", YAMLSCALAR_BOOL, false},
	{"", YAMLSCALAR_NULL, false},	   {"~", YAMLSCALAR_NULL, false},
	{"null", YAMLSCALAR_NULL, false},  {"Null", YAMLSCALAR_NULL, false},
	{"NULL", YAMLSCALAR_NULL, false},  {".nan", YAMLSCALAR_NONJSON, 0},
	{".NaN", YAMLSCALAR_NONJSON, 0},   {".NAN", YAMLSCALAR_NONJSON, 0},
	{".inf", YAMLSCALAR_NONJSON, 0},   {".Inf", YAMLSCALAR_NONJSON, 0},
	{".INF", YAMLSCALAR_NONJSON, 0},   {"+.inf", YAMLSCALAR_NONJSON, 0},
	{"+.Inf", YAMLSCALAR_NONJSON, 0},  {"+.INF", YAMLSCALAR_NONJSON, 0},
	{"-.inf", YAMLSCALAR_NONJSON, 0},  {"-.Inf", YAMLSCALAR_NONJSON, 0},
	{"-.INF", YAMLSCALAR_NONJSON, 0},
};

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/* Go's strconv.ParseInt(s, 0, 64), falling back to ParseUint as go-yaml v2
 * does. Returns false when s is not an integer of that syntax or does not
 * fit in 64 bits. */
static bool parse_go_int(const char *s, yamlscalar *r)
{
	bool neg = false, sign = false;
	if (*s == '+' || *s == '-') {
		neg = *s == '-';
		sign = true;
		s++;
	}
	if (*s == '\0')
		return false;
	int base = 10;
	if (s[0] == '0') {
		char p = s[1] | 0x20;
		bool prefixed = s[1] != '\0' && s[2] != '\0' && (p == 'b' || p == 'o' || p == 'x');
		base = !prefixed ? 8 : p == 'b' ? 2 : p == 'o' ? 8 : 16;
		s += prefixed ? 2 : 1;
	}
	unsigned long long v = 0;
	for (; *s != '\0'; s++) {
		int d = digit_value(*s);
		if (d >= base)
			return false;
		if (v > (~0ULL - (unsigned)d) / (unsigned)base)
			return false;
		v = v * (unsigned)base + (unsigned)d;
	}
	if (!sign && v > 0x7fffffffffffffffULL) {
		r->t = YAMLSCALAR_UINT64;
		return true;
	}
	if (v > 0x7fffffffffffffffULL + (neg ? 1 : 0))
		return false;
	r->t = YAMLSCALAR_INT;
	r->i = neg ? (json_int_t)(0 - v) : (json_int_t)v;
	return true;
}

/* go-yaml v2's ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool float_syntax(const char *s)
{
	size_t n;
	s += *s == '+' || *s == '-';
	if (*s == '.') {
		n = strspn(++s, "0123456789");
		if (n == 0)
			return false;
		s += n;
	} else {
		n = strspn(s, "0123456789");
		if (n == 0)
			return false;
		s += n;
		if (*s == '.')
			s += 1 + strspn(s + 1, "0123456789");
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		s += *s == '+' || *s == '-';
		n = strspn(s, "0123456789");
		if (n == 0)
			return false;
		s += n;
	}
	return *s == '\0';
}

/* Go's ParseFloat fails on overflow, and go-yaml then keeps the string. */
static bool parse_float(const char *s, yamlscalar *r)
{
	if (!float_syntax(s))
		return false;
	errno = 0;
	double d = strtod(s, NULL);
	if (errno == ERANGE && isinf(d)) {
		r->numeric = true;
		return false;
	}
	r->t = YAMLSCALAR_FLOAT;
	r->d = d;
	return true;
}

/* What a plain scalar means, following go-yaml v2's resolve(): the first
 * character decides which rules apply at all. */
int yamlscalar_resolve(const char *s, size_t len, yamlscalar *r, cg_error *err)
{
	memset(r, 0, sizeof(*r));
	r->t = YAMLSCALAR_STR;
	if (memchr(s, '\0', len) != NULL)
		return 0;
	char c = len ? s[0] : 'N';
	bool digit = c >= '0' && c <= '9', sign = c == '+' || c == '-';
	if (!digit && !sign && c != '.' && strchr("yYnNtTfFoO~", c) == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(yaml11_words) / sizeof(yaml11_words[0]); i++) {
		if (strlen(yaml11_words[i].s) == len && memcmp(yaml11_words[i].s, s, len) == 0) {
			r->t = yaml11_words[i].t;
			r->b = yaml11_words[i].b;
			return 0;
		}
	}
	if (!digit && !sign && c != '.')
		return 0;
	cleanup_free char *plain = malloc(len + 1);
	if (plain == NULL)
		return cg_error_set(err, ENOMEM, "out of memory");
	if (c == '.') {
		memcpy(plain, s, len);
		plain[len] = '\0';
		parse_float(plain, r);
		return 0;
	}
	/* go-yaml drops every '_' before reading a number. */
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '_')
			plain[n++] = s[i];
	plain[n] = '\0';
	if (!parse_go_int(plain, r))
		parse_float(plain, r);
	return 0;
}
