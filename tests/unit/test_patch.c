/* The patch builder (policy/patch.h): JSON pointers escaped and bounded,
 * and the `add`-only operations that create the highest missing parent,
 * checked against the exact operations and against the failures' text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "policy/patch.h"

/* ops as compact JSON, members in order, compared as text. */
static void assert_ops(json_t *ops, const char *want)
{
	char *got = json_dumps(ops, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_path_escapes_tokens(void **state)
{
	(void)state;
	patch_path root = {.s = "", .len = 0}, p;
	cg_error err = {0};
	assert_int_equal(patch_path_join(&p, &root, "metadata", &err), 0);
	/* RFC 6901: '~' is written ~0 and '/' ~1, in that order. */
	assert_int_equal(patch_path_join(&p, &p, "capgate.dev/a~b", &err), 0);
	assert_string_equal(p.s, "/metadata/capgate.dev~1a~0b");
	assert_int_equal(p.len, strlen(p.s));
	assert_int_equal(patch_path_index(&p, &root, 12, &err), 0);
	assert_string_equal(p.s, "/12");
	assert_string_equal(err.msg, "");
}

static void test_path_too_long_says_so(void **state)
{
	(void)state;
	patch_path root = {.s = "", .len = 0}, p;
	char token[PATCH_PATH_MAX];
	memset(token, 'a', sizeof(token) - 1);
	token[sizeof(token) - 1] = '\0';
	cg_error err = {0};
	assert_int_equal(patch_path_join(&p, &root, token, &err), -ENAMETOOLONG);
	assert_int_equal(err.code, ENAMETOOLONG);
	assert_string_equal(err.msg, "a JSON pointer under / is longer than 512 bytes");
	/* A pointer that fits token by token but not as a whole. */
	patch_path long_base = {.len = PATCH_PATH_MAX - 4};
	memset(long_base.s, 'b', long_base.len);
	long_base.s[0] = '/';
	cg_error err2 = {0};
	assert_int_equal(patch_path_join(&p, &long_base, "spec", &err2), -ENAMETOOLONG);
	assert_int_equal(err2.code, ENAMETOOLONG);
	assert_non_null(strstr(err2.msg, "is longer than 512 bytes"));
}

static void test_add_and_null_value(void **state)
{
	(void)state;
	json_t *ops = json_array();
	patch_path p = {.s = "/spec/x", .len = 7};
	cg_error err = {0};
	assert_int_equal(patch_add(ops, &p, json_integer(3), &err), 0);
	assert_ops(ops, "[{\"op\":\"add\",\"path\":\"/spec/x\",\"value\":3}]");
	/* A failed allocation handed on as value is an out-of-memory with
	 * its reason, and adds nothing. */
	assert_int_equal(patch_add(ops, &p, NULL, &err), -ENOMEM);
	assert_int_equal(err.code, ENOMEM);
	assert_string_equal(err.msg, "out of memory while building the patch");
	assert_int_equal(json_array_size(ops), 1);
	json_decref(ops);
}

/* evanphx/json-patch needs every parent of an add to exist: the builder
 * adds the highest missing one with the rest of the chain as its value. */
static void test_set_nested_creates_highest_missing_parent(void **state)
{
	(void)state;
	static const char *const keys[] = {"securityContext"};
	json_t *ctr = json_loads("{\"name\":\"app\"}", 0, NULL);
	json_t *ops = json_array();
	patch_path at = {.s = "/spec/containers/0", .len = 18};
	cg_error err = {0};
	assert_int_equal(patch_set_nested(ops, ctr, &at, keys, 1, "capabilities",
					  json_loads("{\"drop\":[\"ALL\"]}", 0, NULL), &err),
			 0);
	assert_ops(ops, "[{\"op\":\"add\",\"path\":\"/spec/containers/0/securityContext\","
			"\"value\":{\"capabilities\":{\"drop\":[\"ALL\"]}}}]");
	/* With the parent there, the member itself is added. */
	json_object_set_new(ctr, "securityContext", json_object());
	json_array_clear(ops);
	assert_int_equal(patch_set_nested(ops, ctr, &at, keys, 1, "capabilities",
					  json_loads("{\"drop\":[\"ALL\"]}", 0, NULL), &err),
			 0);
	assert_ops(ops, "[{\"op\":\"add\",\"path\":\"/spec/containers/0/securityContext/"
			"capabilities\",\"value\":{\"drop\":[\"ALL\"]}}]");
	/* A null parent counts as missing: add replaces the null. */
	json_object_set_new(ctr, "securityContext", json_null());
	json_array_clear(ops);
	assert_int_equal(patch_set_nested(ops, ctr, &at, keys, 1, "privileged", json_false(), &err),
			 0);
	assert_ops(ops, "[{\"op\":\"add\",\"path\":\"/spec/containers/0/securityContext\","
			"\"value\":{\"privileged\":false}}]");
	json_decref(ops);
	json_decref(ctr);
}

static void test_append_to_array_or_create_it(void **state)
{
	(void)state;
	static const char *const keys[] = {"securityContext"};
	json_t *spec = json_loads("{\"securityContext\":{\"sysctls\":[]}}", 0, NULL);
	json_t *ops = json_array();
	patch_path at = {.s = "/spec", .len = 5};
	cg_error err = {0};
	assert_int_equal(patch_append(ops, spec, &at, keys, 1, "sysctls", json_string("a"), &err),
			 0);
	assert_ops(ops, "[{\"op\":\"add\",\"path\":\"/spec/securityContext/sysctls/-\","
			"\"value\":\"a\"}]");
	json_object_del(json_object_get(spec, "securityContext"), "sysctls");
	json_array_clear(ops);
	assert_int_equal(patch_append(ops, spec, &at, keys, 1, "sysctls", json_string("a"), &err),
			 0);
	assert_ops(ops, "[{\"op\":\"add\",\"path\":\"/spec/securityContext/sysctls\","
			"\"value\":[\"a\"]}]");
	json_object_clear(spec);
	json_array_clear(ops);
	assert_int_equal(patch_append(ops, spec, &at, keys, 1, "sysctls", json_string("a"), &err),
			 0);
	assert_ops(ops, "[{\"op\":\"add\",\"path\":\"/spec/securityContext\","
			"\"value\":{\"sysctls\":[\"a\"]}}]");
	assert_string_equal(err.msg, "");
	json_decref(ops);
	json_decref(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_escapes_tokens),
		cmocka_unit_test(test_path_too_long_says_so),
		cmocka_unit_test(test_add_and_null_value),
		cmocka_unit_test(test_set_nested_creates_highest_missing_parent),
		cmocka_unit_test(test_append_to_array_or_create_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
