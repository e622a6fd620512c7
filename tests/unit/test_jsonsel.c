/* json/jsonsel: the selective parser builds what its schema names, checks
 * and skips the rest, and refuses what json_loadb (RFC 8259) refuses.
 * fuzz/fuzz_jsonsel.c compares it with json_loadb on random input; these
 * are the cases a reader can check by eye. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "json/jsonsel.h"

/* {"spec": {"containers": [{"name", "image"}]}, "kind"}, with a digest of
 * each container. */
static const jsonsel_field container_fields[] = {{"name", &jsonsel_all}, {"image", &jsonsel_all}};
static const jsonsel container = {JSONSEL_OBJECT, container_fields, 2, NULL, "#sha256"};
static const jsonsel containers = {JSONSEL_ARRAY, NULL, 0, &container, NULL};
static const jsonsel_field spec_fields[] = {{"containers", &containers}};
static const jsonsel spec = {JSONSEL_OBJECT, spec_fields, 1, NULL, NULL};
static const jsonsel_field pod_fields[] = {{"kind", &jsonsel_all}, {"spec", &spec}};
static const jsonsel pod = {JSONSEL_OBJECT, pod_fields, 2, NULL, NULL};

static json_t *parse(const char *text, const jsonsel *sel)
{
	json_t *v = NULL;
	cg_error err = {0};
	if (jsonsel_parse(text, strlen(text), sel, JSONSEL_MAX_DEPTH, &v, NULL, &err) < 0)
		fail_msg("%s: %s", text, err.msg);
	return v;
}

static void expect_fail(const char *text, const char *want)
{
	json_t *v = NULL;
	cg_error err = {0};
	if (jsonsel_parse(text, strlen(text), &jsonsel_all, JSONSEL_MAX_DEPTH, &v, NULL, &err) == 0)
		fail_msg("%s: parsed, want \"%s\"", text, want);
	assert_null(v);
	if (strcmp(err.msg, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", text, err.msg, want);
}

/* With jsonsel_all the result is what json_loads builds. */
static void test_full_parse_equals_jansson(void **state)
{
	(void)state;
	const char *docs[] = {
		"{}",
		"[]",
		"{\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\"], \"b\": {}}",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
		"0",
		"-0.0",
		"[[[[[]]]]]",
		" \t\r\n{\"k\" : \"v\"} \n",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_error_t je;
		json_t *want = json_loads(docs[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
		assert_non_null(want);
		json_t *got = parse(docs[i], &jsonsel_all);
		if (!json_equal(want, got))
			fail_msg("%s: differs from json_loads", docs[i]);
		json_decref(want);
		json_decref(got);
	}
}

/* Members outside the schema are checked but not built; the schema's own
 * members are built as the schema says. */
static void test_schema_prunes(void **state)
{
	(void)state;
	json_t *v = parse("{\"kind\": \"Pod\", \"status\": {\"phase\": \"Running\"},"
			  " \"spec\": {\"volumes\": [1, 2], \"containers\": [{\"name\": \"a\","
			  " \"image\": \"nginx\", \"env\": [{\"name\": \"X\"}]}]}}",
			  &pod);
	assert_string_equal(json_string_value(json_object_get(v, "kind")), "Pod");
	assert_null(json_object_get(v, "status"));
	json_t *s = json_object_get(v, "spec");
	assert_int_equal(json_object_size(s), 1);
	json_t *c = json_array_get(json_object_get(s, "containers"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "name")), "a");
	assert_string_equal(json_string_value(json_object_get(c, "image")), "nginx");
	assert_null(json_object_get(c, "env"));
	/* name, image and the digest: nothing else. */
	assert_int_equal(json_object_size(c), 3);
	assert_int_equal(strlen(json_string_value(json_object_get(c, "#sha256"))), 64);
	json_decref(v);
}

/* The digest is of the raw bytes: two containers that differ only in what
 * was skipped still compare different. */
static void test_digest_sees_skipped_members(void **state)
{
	(void)state;
	json_t *a = parse("{\"spec\": {\"containers\": [{\"name\": \"a\", \"env\": []}]}}", &pod);
	json_t *b = parse("{\"spec\": {\"containers\": [{\"name\": \"a\", \"env\": [1]}]}}", &pod);
	json_t *c = parse("{\"spec\": {\"containers\": [{\"name\": \"a\", \"env\": []}]}}", &pod);
	assert_false(json_equal(a, b));
	assert_true(json_equal(a, c));
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

/* A member of the wrong type is built whole, so the engine sees the wrong
 * type and says so instead of seeing nothing. */
static void test_wrong_type_built_whole(void **state)
{
	(void)state;
	json_t *v = parse("{\"spec\": {\"containers\": {\"name\": \"a\", \"env\": [1]}}}", &pod);
	json_t *c = json_object_get(json_object_get(v, "spec"), "containers");
	assert_true(json_is_object(c));
	assert_non_null(json_object_get(c, "env"));
	json_decref(v);
	v = parse("{\"spec\": [1, {\"x\": 2}]}", &pod);
	assert_int_equal(json_array_size(json_object_get(v, "spec")), 2);
	json_decref(v);
}

/* Keys compare after unescaping; a repeated member: the last one wins, as
 * in Go's decoder (the apiserver's). */
static void test_escaped_and_repeated_keys(void **state)
{
	(void)state;
	json_t *v = parse("{\"spec\": {\"con\\u0074ainers\": [{\"n\\u0061me\": \"x\"}]}}", &pod);
	json_t *c = json_array_get(json_object_get(json_object_get(v, "spec"), "containers"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "name")), "x");
	json_decref(v);
	v = parse("{\"kind\": \"A\", \"kind\": \"B\"}", &pod);
	assert_string_equal(json_string_value(json_object_get(v, "kind")), "B");
	json_decref(v);
}

/* Errors say where, also inside members that are skipped. */
static void test_errors_say_where(void **state)
{
	(void)state;
	expect_fail("{\n  \"a\": tru}", "line 2 column 8: invalid literal");
	expect_fail("[1,]", "line 1 column 4: unexpected character");
	expect_fail("{\"a\" 1}", "line 1 column 6: expected ':' after a key");
	expect_fail("01", "line 1 column 2: invalid number: leading zero");
	expect_fail("\"\\x\"", "line 1 column 2: invalid escape in a string");
	/* At the point where the low half should have started. */
	expect_fail("\"\\ud800\"", "line 1 column 8: lone high surrogate in \\u escape");
	expect_fail("\"a\xff\"", "line 1 column 3: invalid UTF-8 in a string");
	expect_fail("\"a\nb\"", "line 1 column 3: control character in a string");
	expect_fail("{} x", "line 1 column 4: trailing data after the JSON value");
	expect_fail("", "line 1 column 1: unexpected end of input");
	/* Pruning does not skip validation. */
	json_t *v = NULL;
	cg_error err = {0};
	const char *bad = "{\"status\": {\"x\": [1, 2,]}, \"kind\": \"Pod\"}";
	assert_int_equal(jsonsel_parse(bad, strlen(bad), &pod, 64, &v, NULL, &err), -1);
	assert_null(v);
	assert_string_equal(err.msg, "line 1 column 24: unexpected character");
}

static void test_depth_limit(void **state)
{
	(void)state;
	char deep[64];
	memset(deep, '[', 10);
	memset(deep + 10, ']', 10);
	deep[20] = '\0';
	json_t *v = NULL;
	cg_error err = {0};
	assert_int_equal(jsonsel_parse(deep, 20, &jsonsel_all, 10, &v, NULL, &err), 0);
	json_decref(v);
	v = NULL;
	assert_int_equal(jsonsel_parse(deep, 20, &jsonsel_all, 9, &v, NULL, &err), -1);
	assert_null(v);
	assert_non_null(strstr(err.msg, "nesting too deep"));
}

/* info reports a U+0000 in a built string (the engine refuses those);
 * one in a skipped member is not reported. */
static void test_nul_in_string(void **state)
{
	(void)state;
	const char *t = "{\"kind\": \"P\\u0000d\"}";
	json_t *v = NULL;
	jsonsel_info info;
	cg_error err = {0};
	assert_int_equal(jsonsel_parse(t, strlen(t), &pod, 64, &v, &info, &err), 0);
	assert_true(info.nul_in_string);
	assert_int_equal(json_string_length(json_object_get(v, "kind")), 3);
	json_decref(v);
	t = "{\"other\": \"P\\u0000d\", \"kind\": \"Pod\"}";
	assert_int_equal(jsonsel_parse(t, strlen(t), &pod, 64, &v, &info, &err), 0);
	assert_false(info.nul_in_string);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_parse_equals_jansson),
		cmocka_unit_test(test_schema_prunes),
		cmocka_unit_test(test_digest_sees_skipped_members),
		cmocka_unit_test(test_wrong_type_built_whole),
		cmocka_unit_test(test_escaped_and_repeated_keys),
		cmocka_unit_test(test_errors_say_where),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_nul_in_string),
	};
	return cmocka_run_group_tests_name("jsonsel", tests, NULL, NULL);
}
