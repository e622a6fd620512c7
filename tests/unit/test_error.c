/* common/error: the one error convention. cg_error_set fills and returns
 * -1; cg_error_prefix adds "name: " in front; both accept a NULL error and
 * never overflow the message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "common/error.h"

static void test_set_fills_and_returns_minus_one(void **state)
{
	(void)state;
	cg_error err = {0};
	assert_int_equal(cg_error_set(&err, ENOENT, "%s:%d:%d: unknown capability \"%s\"",
				      "policy.yaml", 12, 5, "NET_ADMN"),
			 -1);
	assert_int_equal(err.code, ENOENT);
	assert_string_equal(err.msg, "policy.yaml:12:5: unknown capability \"NET_ADMN\"");
	/* A second failure replaces the first. */
	assert_int_equal(cg_error_set(&err, 0, "short"), -1);
	assert_int_equal(err.code, 0);
	assert_string_equal(err.msg, "short");
}

static void test_null_error(void **state)
{
	(void)state;
	assert_int_equal(cg_error_set(NULL, EINVAL, "x %d", 1), -1);
	assert_int_equal(cg_error_prefix(NULL, "file"), -1);
}

static void test_set_truncates(void **state)
{
	(void)state;
	char long_text[2000];
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	cg_error err;
	memset(&err, 0x55, sizeof(err));
	assert_int_equal(cg_error_set(&err, E2BIG, "%s", long_text), -1);
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
	assert_int_equal(err.msg[0], 'x');
}

static void test_prefix(void **state)
{
	(void)state;
	cg_error err = {0};
	(void)cg_error_set(&err, EINVAL, "line 3 column 14: invalid escape");
	assert_int_equal(cg_error_prefix(&err, "%s", "review.json"), -1);
	assert_string_equal(err.msg, "review.json: line 3 column 14: invalid escape");
	assert_int_equal(err.code, EINVAL); /* the code is kept */
	assert_int_equal(cg_error_prefix(&err, "document %d", 2), -1);
	assert_string_equal(err.msg, "document 2: review.json: line 3 column 14: invalid escape");
}

/* A prefix on a full message keeps the prefix whole and cuts the end of
 * the old message; the result stays NUL-terminated within msg. */
static void test_prefix_on_full_message(void **state)
{
	(void)state;
	cg_error err = {0};
	char long_text[600];
	memset(long_text, 'm', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	(void)cg_error_set(&err, 0, "%s", long_text);
	assert_int_equal(cg_error_prefix(&err, "file.yaml"), -1);
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
	assert_memory_equal(err.msg, "file.yaml: mmm", 14);
	/* An over-long prefix is cut too, never the terminator. */
	char long_prefix[400];
	memset(long_prefix, 'p', sizeof(long_prefix) - 1);
	long_prefix[sizeof(long_prefix) - 1] = '\0';
	(void)cg_error_set(&err, 0, "tail");
	assert_int_equal(cg_error_prefix(&err, "%s", long_prefix), -1);
	assert_true(strlen(err.msg) < sizeof(err.msg));
	assert_non_null(strstr(err.msg, "pp: tail"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_fills_and_returns_minus_one),
		cmocka_unit_test(test_null_error),
		cmocka_unit_test(test_set_truncates),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_prefix_on_full_message),
	};
	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
