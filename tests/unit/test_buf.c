/* common/buf: growth keeps the bytes and the NUL, and the JSON writers
 * produce what a JSON parser reads back as the same value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "common/buf.h"

static void test_append_grows_and_terminates(void **state)
{
	(void)state;
	cg_buf b = {0};
	assert_int_equal(buf_puts(&b, "ab"), 0);
	assert_int_equal(buf_append(&b, "c\0d", 3), 0); /* bytes, NUL included */
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "abc\0d", 6);
	/* Far past the first allocation: earlier bytes stay, NUL follows. */
	for (int i = 0; i < 10000; i++)
		assert_int_equal(buf_putc(&b, (char)('0' + i % 10)), 0);
	assert_int_equal(b.len, 10005);
	assert_true(b.cap > b.len);
	assert_memory_equal(b.data, "abc\0d0123", 9);
	assert_int_equal(b.data[b.len], '\0');
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	buf_free(&b); /* twice is harmless */
}

static void test_printf(void **state)
{
	(void)state;
	cg_buf b = {0};
	assert_int_equal(buf_printf(&b, "%s=%d", "x", 42), 0);
	/* Longer than any small first guess. */
	char big[3000];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_printf(&b, ";%s;", big), 0);
	assert_int_equal(b.len, 4 + 2 + sizeof(big) - 1);
	assert_memory_equal(b.data, "x=42;yyy", 8);
	assert_string_equal(b.data + b.len - 2, "y;");
	buf_free(&b);
}

static void test_reset_keeps_memory(void **state)
{
	(void)state;
	cg_buf b = {0};
	assert_int_equal(buf_puts(&b, "hello"), 0);
	char *mem = b.data;
	size_t cap = b.cap;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_ptr_equal(b.data, mem);
	assert_int_equal(b.cap, cap);
	buf_reset(&(cg_buf){0}); /* never allocated: nothing to touch */
	buf_free(&b);
}

/* Every escape RFC 8259 requires, and nothing else escaped: UTF-8 passes
 * as it is. */
static void test_json_string_escapes(void **state)
{
	(void)state;
	cg_buf b = {0};
	const char s[] = "q\"b\\n\nt\tc\x01\x1f"
			 "d\x7f"
			 "é/\0z";
	assert_int_equal(buf_json_string(&b, s, sizeof(s) - 1), 0);
	assert_string_equal(b.data, "\"q\\\"b\\\\n\\nt\\u0009c\\u0001\\u001fd\\u007fé/\\u0000z\"");
	/* And it reads back as the same string, the NUL included. */
	json_error_t je;
	json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	assert_non_null(v);
	assert_int_equal(json_string_length(v), sizeof(s) - 1);
	assert_memory_equal(json_string_value(v), s, sizeof(s) - 1);
	json_decref(v);
	buf_free(&b);
}

static void test_json_value_round_trip(void **state)
{
	(void)state;
	const char *doc = "{\"b\":[1,-9223372036854775808,9223372036854775807,0.5,-2.5e-300,"
			  "true,false,null],\"a\":{\"k\\\"\":\"v\\n\"},\"e\":[],\"o\":{}}";
	json_error_t je;
	json_t *v = json_loads(doc, JSON_PRESERVE_ORDER, &je);
	assert_non_null(v);
	cg_buf b = {0};
	assert_int_equal(buf_json_value(&b, v, 0), 0);
	/* Compact, members in their order: the same text here. */
	assert_string_equal(b.data, doc);
	json_t *back = json_loadb(b.data, b.len, 0, &je);
	assert_true(json_equal(v, back));
	json_decref(back);
	json_decref(v);
	/* Reals are written with 17 digits: "0.10000000000000001" reads back as
	 * the same double 0.1 is. */
	buf_reset(&b);
	v = json_real(0.1);
	assert_int_equal(buf_json_value(&b, v, 0), 0);
	back = json_loadb(b.data, b.len, JSON_DECODE_ANY, &je);
	assert_true(json_real_value(back) == 0.1);
	json_decref(back);
	json_decref(v);
	buf_free(&b);
}

/* Nesting past 128 is refused rather than recursing without end. */
static void test_json_value_depth(void **state)
{
	(void)state;
	json_t *v = json_array();
	for (int i = 0; i < 200; i++) {
		json_t *outer = json_array();
		json_array_append_new(outer, v);
		v = outer;
	}
	cg_buf b = {0};
	assert_true(buf_json_value(&b, v, 0) < 0);
	json_decref(v);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_grows_and_terminates),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_reset_keeps_memory),
		cmocka_unit_test(test_json_string_escapes),
		cmocka_unit_test(test_json_value_round_trip),
		cmocka_unit_test(test_json_value_depth),
	};
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
