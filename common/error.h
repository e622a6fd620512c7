/* capgate's one error convention.
 *
 * Every fallible function returns a negative value on failure (-1, or -errno
 * where an errno is meaningful) and fills a caller-owned cg_error with a
 * sentence that names the input it was given, e.g.
 *     policy.yaml:12:5: unknown capability "NET_ADMN"
 * Success is 0 (or a non-negative count). Errors are turned into HTTP
 * statuses or AdmissionResponses only in server/; everything below it only
 * describes what went wrong.
 *
 * err may be NULL when the caller does not want the text.
 */
#ifndef CG_ERROR_H
#define CG_ERROR_H

#include <stddef.h>

#define CG_MUST_CHECK	     __attribute__((warn_unused_result))
#define CG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

typedef struct cg_error {
	int code;      /* errno-style code, 0 when the failure has none */
	char msg[512]; /* one sentence, no trailing newline */
} cg_error;

/* Fills err (if not NULL) and returns -1 so callers can write
 * `return cg_error_set(err, 0, "...")`. */
int cg_error_set(cg_error *err, int code, const char *fmt, ...) CG_PRINTF(3, 4);

/* Prepends "prefix: " to err->msg (for adding a file or document name on the
 * way up). Returns -1. */
int cg_error_prefix(cg_error *err, const char *fmt, ...) CG_PRINTF(2, 3);

#endif
