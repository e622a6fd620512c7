/* common/file: the one bounded file reader. Limits hold to the byte, every
 * error names the path, and nothing is handed back on failure. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/capgate-test-file.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes n bytes of c to dir/name; returns the path (static storage). */
static const char *make(const char *name, char c, size_t n)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(fputc(c, f), EOF);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void test_reads_whole_file(void **state)
{
	(void)state;
	const char *p = make("small", 'x', 10);
	char *data = NULL;
	size_t len = 99;
	cg_error err = {0};
	assert_int_equal(file_read(p, 100, 0, &data, &len, &err), 0);
	assert_int_equal(len, 10);
	assert_memory_equal(data, "xxxxxxxxxx", 11); /* NUL-terminated */
	free(data);
}

/* max is inclusive: a file of exactly max bytes loads, one more does not,
 * also past the reader's 64 KiB chunk. */
static void test_limit_to_the_byte(void **state)
{
	(void)state;
	const size_t sizes[] = {1, 4096, 65536, 65537, 200000};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t max = sizes[i];
		char *data = NULL;
		size_t len = 0;
		cg_error err = {0};
		const char *p = make("at-max", 'a', max);
		assert_int_equal(file_read(p, max, 0, &data, &len, &err), 0);
		assert_int_equal(len, max);
		assert_int_equal(data[max], '\0');
		free(data);

		p = make("over-max", 'a', max + 1);
		data = NULL;
		assert_int_equal(file_read(p, max, 0, &data, &len, &err), -1);
		assert_null(data);
		assert_int_equal(err.code, EFBIG);
		char want[256];
		snprintf(want, sizeof(want), "%s: larger than %zu bytes", p, max);
		assert_string_equal(err.msg, want);
	}
}

static void test_missing_file_names_path(void **state)
{
	(void)state;
	char p[128], want[256];
	snprintf(p, sizeof(p), "%s/no-such-file.yaml", dir);
	char *data = (char *)"untouched";
	size_t len = 7;
	cg_error err = {0};
	assert_int_equal(file_read(p, 100, 0, &data, &len, &err), -1);
	assert_string_equal(data, "untouched");
	assert_int_equal(len, 7);
	assert_int_equal(err.code, ENOENT);
	snprintf(want, sizeof(want), "%s: cannot open: %s", p, strerror(ENOENT));
	assert_string_equal(err.msg, want);
}

static void test_directory(void **state)
{
	(void)state;
	char *data = NULL;
	size_t len;
	cg_error err = {0};
	char want[256];
	assert_int_equal(file_read(dir, 100, 0, &data, &len, &err), -1);
	snprintf(want, sizeof(want), "%s: cannot read: %s", dir, strerror(EISDIR));
	assert_string_equal(err.msg, want);
	assert_int_equal(file_read(dir, 100, FILE_REGULAR, &data, &len, &err), -1);
	snprintf(want, sizeof(want), "%s: not a regular file", dir);
	assert_string_equal(err.msg, want);
	assert_null(data);
}

/* FILE_REGULAR refuses a FIFO without waiting for a writer to open it. */
static void test_fifo_refused_without_blocking(void **state)
{
	(void)state;
	char p[128], want[256];
	snprintf(p, sizeof(p), "%s/fifo", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	char *data = NULL;
	size_t len;
	cg_error err = {0};
	assert_int_equal(file_read(p, 100, FILE_REGULAR, &data, &len, &err), -1);
	snprintf(want, sizeof(want), "%s: not a regular file", p);
	assert_string_equal(err.msg, want);
}

static void test_empty(void **state)
{
	(void)state;
	const char *p = make("empty", 'x', 0);
	char *data = NULL;
	size_t len = 5;
	cg_error err = {0};
	assert_int_equal(file_read(p, 100, 0, &data, &len, &err), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);
	data = NULL;
	assert_int_equal(file_read(p, 100, FILE_NONEMPTY, &data, &len, &err), -1);
	assert_null(data);
	char want[256];
	snprintf(want, sizeof(want), "%s: empty file", p);
	assert_string_equal(err.msg, want);
}

/* A pipe (stdin, `<(helm template ...)`) reads to its end, within max. */
static void test_fd_pipe(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	const char msg[] = "kind: Pod\n";
	assert_int_equal(write(fds[1], msg, strlen(msg)), (ssize_t)strlen(msg));
	close(fds[1]);
	char *data = NULL;
	size_t len = 0;
	cg_error err = {0};
	assert_int_equal(file_read_fd(fds[0], "-", 100, 0, &data, &len, &err), 0);
	assert_int_equal(len, strlen(msg));
	assert_string_equal(data, msg);
	free(data);
	close(fds[0]);

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], msg, strlen(msg)), (ssize_t)strlen(msg));
	close(fds[1]);
	data = NULL;
	assert_int_equal(file_read_fd(fds[0], "-", 4, 0, &data, &len, &err), -1);
	assert_null(data);
	assert_string_equal(err.msg, "-: larger than 4 bytes");
	close(fds[0]);
}

/* err may be NULL: the failure is still reported by the return value. */
static void test_null_error(void **state)
{
	(void)state;
	char *data = NULL;
	size_t len;
	assert_int_equal(file_read("/nonexistent/capgate", 10, 0, &data, &len, NULL), -1);
	assert_null(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_whole_file),
		cmocka_unit_test(test_limit_to_the_byte),
		cmocka_unit_test(test_missing_file_names_path),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_fifo_refused_without_blocking),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_fd_pipe),
		cmocka_unit_test(test_null_error),
	};
	return cmocka_run_group_tests_name("file", tests, setup, teardown);
}
