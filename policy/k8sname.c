#include "policy/k8sname.h"

#include <string.h>

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? with no length limit of its own. */
static bool is_dns_part(const char *s, size_t len)
{
	if (len == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool k8sname_is_dns_label(const char *s, size_t len)
{
	return len <= 63 && is_dns_part(s, len);
}

/* apimachinery limits the whole subdomain, not each of its parts. */
bool k8sname_is_dns_subdomain(const char *s, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (!is_dns_part(s + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

/* The name part of a qualified name, and a non-empty label value. */
static bool is_name_part(const char *s, size_t len)
{
	if (len == 0 || len > 63 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

bool k8sname_is_qualified_name(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	if (slash == NULL)
		return is_name_part(s, len);
	size_t plen = (size_t)(slash - s);
	return k8sname_is_dns_subdomain(s, plen) && is_name_part(slash + 1, len - plen - 1);
}

bool k8sname_is_label_value(const char *s, size_t len)
{
	return len == 0 || is_name_part(s, len);
}
