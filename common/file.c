#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cleanup.h"

int file_read_fd(int fd, const char *name, size_t max, unsigned flags, char **data, size_t *len,
		 cg_error *err)
{
	if (flags & FILE_REGULAR) {
		struct stat st;
		if (fstat(fd, &st) < 0)
			return cg_error_set(err, errno, "%s: cannot stat: %s", name,
					    strerror(errno));
		if (!S_ISREG(st.st_mode))
			return cg_error_set(err, EINVAL, "%s: not a regular file", name);
	}
	cg_buf b = {0};
	char chunk[65536];
	for (;;) {
		/* One byte past max is enough to know the file is too large. */
		size_t want = max - b.len + 1 < sizeof(chunk) ? max - b.len + 1 : sizeof(chunk);
		ssize_t n = read(fd, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			buf_free(&b);
			return cg_error_set(err, e, "%s: cannot read: %s", name, strerror(e));
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max) {
			buf_free(&b);
			return cg_error_set(err, EFBIG, "%s: larger than %zu bytes", name, max);
		}
		if (buf_append(&b, chunk, (size_t)n) < 0) {
			buf_free(&b);
			return cg_error_set(err, ENOMEM, "%s: out of memory", name);
		}
	}
	if (b.len == 0 && (flags & FILE_NONEMPTY))
		return cg_error_set(err, EINVAL, "%s: empty file", name);
	if (b.data == NULL && (b.data = calloc(1, 1)) == NULL)
		return cg_error_set(err, ENOMEM, "%s: out of memory", name);
	*len = b.len;
	*data = b.data;
	return 0;
}

int file_read(const char *path, size_t max, unsigned flags, char **data, size_t *len, cg_error *err)
{
	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer; it does
	 * not change how a regular file reads. */
	cleanup_close int fd =
		open(path, O_RDONLY | O_CLOEXEC | ((flags & FILE_REGULAR) ? O_NONBLOCK : 0));
	if (fd < 0)
		return cg_error_set(err, errno, "%s: cannot open: %s", path, strerror(errno));
	return file_read_fd(fd, path, max, flags, data, len, err);
}
