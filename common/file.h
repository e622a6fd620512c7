/* The one bounded file reader: policies, manifests, PEM files and CA
 * bundles are all read whole, and each has a size past which it is not
 * what the user meant (a log file, a disk image): reading stops there
 * instead of filling memory. Every error names the path:
 *     policy.yaml: cannot open: No such file or directory
 *     big.yaml: larger than 4194304 bytes
 */
#ifndef CG_FILE_H
#define CG_FILE_H

#include <stddef.h>

#include "common/error.h"

enum file_flags {
	/* Refuse anything but a regular file: a FIFO would block and a device
	 * might never end (certificates and keys). Without it, pipes work:
	 * `capgate check <(helm template ...)`. */
	FILE_REGULAR = 1u << 0,
	/* Refuse an empty file. */
	FILE_NONEMPTY = 1u << 1,
};

/* Reads the whole of path, at most max bytes. On success *data is a new
 * malloc'ed buffer, NUL-terminated after its *len bytes (free() it).
 * On failure returns -1, *data is untouched and err names the path. */
int file_read(const char *path, size_t max, unsigned flags, char **data, size_t *len,
	      cg_error *err) CG_MUST_CHECK;

/* file_read of an open descriptor (stdin); name labels errors. fd stays
 * open. */
int file_read_fd(int fd, const char *name, size_t max, unsigned flags, char **data, size_t *len,
		 cg_error *err) CG_MUST_CHECK;

#endif
