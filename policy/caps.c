#include "policy/caps.h"

#include <stdio.h>
#include <string.h>

/* Index = capability number, as in <linux/capability.h> (Linux 5.9+): the
 * table the ambient wrapper is built with too (common/caps.list). */
static const char *const caps_names[CAPS_COUNT] = {CAPS_TABLE_NAMES};

static char upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* Strips an optional CAP_ prefix (any case). */
static void strip_prefix(const char **name, size_t *len)
{
	const char *s = *name;
	if (*len > 4 && upper(s[0]) == 'C' && upper(s[1]) == 'A' && upper(s[2]) == 'P' &&
	    s[3] == '_') {
		*name += 4;
		*len -= 4;
	}
}

static bool eq_upper(const char *s, size_t len, const char *canon)
{
	size_t i = 0;
	for (; i < len; i++)
		if (canon[i] == '\0' || upper(s[i]) != canon[i])
			return false;
	return canon[i] == '\0';
}

int caps_lookup(const char *name, size_t len)
{
	strip_prefix(&name, &len);
	if (len == 0 || len > 24)
		return -1;
	if (eq_upper(name, len, "ALL"))
		return CAPS_ALL;
	for (int i = 0; i < CAPS_COUNT; i++)
		if (eq_upper(name, len, caps_names[i]))
			return i;
	return -1;
}

const char *caps_name(int n)
{
	if (n == CAPS_ALL)
		return "ALL";
	if (n < 0 || n >= CAPS_COUNT)
		return NULL;
	return caps_names[n];
}

bool caps_is_canonical(const char *name, size_t len)
{
	int n = caps_lookup(name, len);
	if (n < 0)
		return false;
	const char *c = caps_name(n);
	return strlen(c) == len && memcmp(c, name, len) == 0;
}

char *caps_set_format(caps_set s, char *out, size_t outsz)
{
	size_t k = 0;
	if (outsz == 0)
		return out;
	out[0] = '\0';
	for (int i = 0; i < 64; i++) {
		const char *name = (s & CAPS_BIT(i)) ? caps_name(i) : NULL;
		if (name == NULL)
			continue;
		size_t n = strlen(name);
		if (k + n + 3 > outsz)
			break;
		if (k) {
			memcpy(out + k, ", ", 2);
			k += 2;
		}
		memcpy(out + k, name, n + 1);
		k += n;
	}
	return out;
}
