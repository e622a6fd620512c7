/* server/log: every line is one valid JSON object, whatever the values hold
 * (quotes, control characters, invalid UTF-8 aside) and however long. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "server/log.h"

/* Runs fn with stderr redirected to a file and returns the one line written
 * as parsed JSON. */
static json_t *capture(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	int saved = dup(STDERR_FILENO);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn();
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	char line[LOG_LINE_MAX + 16];
	rewind(tmp);
	assert_non_null(fgets(line, sizeof(line), tmp));
	size_t n = strlen(line);
	assert_true(n > 0 && line[n - 1] == '\n');
	assert_null(fgets(line + n, (int)(sizeof(line) - n), tmp)); /* exactly one line */
	fclose(tmp);
	json_error_t e;
	json_t *j = json_loads(line, 0, &e);
	if (j == NULL)
		fail_msg("not JSON (%s): %s", e.text, line);
	return j;
}

static void write_fields(void)
{
	log_line l;
	log_begin(&l, "info", "review");
	log_str(&l, "name", "a\"b\\c\n\t\x01\x7f");
	log_int(&l, "us", -42);
	log_bool(&l, "dry_run", true);
	log_str(&l, "null", NULL);
	log_end(&l);
}

static void test_fields_escaped(void **state)
{
	(void)state;
	json_t *j = capture(write_fields);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
	assert_string_equal(json_string_value(json_object_get(j, "msg")), "review");
	assert_string_equal(json_string_value(json_object_get(j, "name")), "a\"b\\c\n\t\x01\x7f");
	assert_int_equal(json_integer_value(json_object_get(j, "us")), -42);
	assert_true(json_is_true(json_object_get(j, "dry_run")));
	assert_string_equal(json_string_value(json_object_get(j, "null")), "");
	const char *ts = json_string_value(json_object_get(j, "ts"));
	assert_non_null(ts);
	assert_int_equal(strlen(ts), strlen("2026-01-01T00:00:00.000Z"));
	json_decref(j);
}

static char huge[3 * LOG_LINE_MAX];

static void write_huge(void)
{
	log_line l;
	log_begin(&l, "error", "x");
	log_str(&l, "a", huge);
	log_str(&l, "b", huge);
	log_int(&l, "after", 7);
	log_end(&l);
}

static void test_truncated_line_stays_json(void **state)
{
	(void)state;
	/* Quotes escape to two bytes: the cut must not split an escape. */
	for (size_t i = 0; i + 1 < sizeof(huge); i++)
		huge[i] = i % 3 == 0 ? '"' : 'x';
	json_t *j = capture(write_huge);
	const char *a = json_string_value(json_object_get(j, "a"));
	assert_non_null(a);
	assert_true(strlen(a) > 1000 && strlen(a) < LOG_LINE_MAX);
	json_decref(j);
}

static size_t fill;

static void write_nearly_full(void)
{
	log_line l;
	log_begin(&l, "info", "x");
	memset(huge, 'y', fill);
	huge[fill] = '\0';
	log_str(&l, "a", huge);
	log_int(&l, "n", 1234567890123LL);
	log_bool(&l, "b", false);
	log_str(&l, "s", "\"\"\"");
	log_end(&l);
}

/* Whatever field hits the end of the buffer, the line is still JSON (the
 * capture fails otherwise): numbers and booleans are whole or absent,
 * strings a prefix of their value. */
static void test_every_fill_level(void **state)
{
	(void)state;
	for (fill = LOG_LINE_MAX - 120; fill < LOG_LINE_MAX; fill++) {
		json_t *j = capture(write_nearly_full);
		json_t *n = json_object_get(j, "n");
		assert_true(n == NULL || json_integer_value(n) == 1234567890123LL);
		json_t *s = json_object_get(j, "s");
		/* Strings are cut to fit, never broken mid-escape. */
		assert_true(s == NULL || strncmp(json_string_value(s), "\"\"\"",
						 strlen(json_string_value(s))) == 0);
		json_decref(j);
	}
}

static void write_msgf(void)
{
	log_msgf("warn", "policy reload failed", "%s:%d:%d: %s", "p.yaml", 5, 25, "bad");
}

static void test_msgf(void **state)
{
	(void)state;
	json_t *j = capture(write_msgf);
	assert_string_equal(json_string_value(json_object_get(j, "error")), "p.yaml:5:25: bad");
	assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_escaped),
		cmocka_unit_test(test_truncated_line_stays_json),
		cmocka_unit_test(test_every_fill_level),
		cmocka_unit_test(test_msgf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
