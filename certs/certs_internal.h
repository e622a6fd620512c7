/* Helpers shared by certs/certs.c (reading, judging) and certs/create.c
 * (writing). The module is split in two files only to keep each readable in
 * one sitting; outside certs/ use certs/certs.h. */
#ifndef CG_CERTS_INTERNAL_H
#define CG_CERTS_INTERNAL_H

#include <stddef.h>

#include "common/error.h"

/* Reads a whole (small) regular file into a NUL-terminated *data. */
int certs_read_file(const char *path, char **data, size_t *len, cg_error *err) CG_MUST_CHECK;

/* The last OpenSSL error as text; empties the thread's error queue. */
void certs_ssl_reason(char *out, size_t n);

#endif
