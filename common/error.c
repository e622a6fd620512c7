#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cg_error_set(cg_error *err, int code, const char *fmt, ...)
{
	if (err == NULL)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->code = code;
	return -1;
}

int cg_error_prefix(cg_error *err, const char *fmt, ...)
{
	if (err == NULL)
		return -1;
	char prefix[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	size_t plen = strnlen(prefix, sizeof(prefix) - 3);
	memcpy(prefix + plen, ": ", 3);
	plen += 2;
	/* Shift the old message right (truncating its end) and put the prefix
	 * in front. */
	size_t old = strnlen(err->msg, sizeof(err->msg) - 1);
	if (plen + old > sizeof(err->msg) - 1)
		old = sizeof(err->msg) - 1 - plen;
	memmove(err->msg + plen, err->msg, old);
	memcpy(err->msg, prefix, plen);
	err->msg[plen + old] = '\0';
	return -1;
}
