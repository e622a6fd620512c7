/* json/jsonpatch_apply: RFC 6902 Appendix A as data (tests/data/rfc6902), then
 * the error cases the apiserver would reject, then pointer escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "json/jsonpatch_apply.h"

#define RFC_DIR "tests/data/rfc6902/"

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		fail_msg("bad test JSON: %s: %s", je.text, text);
	return j;
}

/* One Appendix A example: {"doc","patch"} and either "expected" (the
 * patched document) or "error" (the exact message). A file that is not
 * valid JSON without duplicates (A.13) must fail to parse with the text in
 * "error": callers parse patches with JSON_REJECT_DUPLICATES. */
static void test_rfc_case(void **state)
{
	const char *file = *state;
	char path[256];
	snprintf(path, sizeof(path), RFC_DIR "%s", file);
	json_error_t je;
	cleanup_json json_t *c = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (c == NULL) {
		cleanup_json json_t *lenient = json_load_file(path, 0, &je);
		assert_non_null(lenient);
		json_error_t strict;
		json_t *again = json_load_file(path, JSON_REJECT_DUPLICATES, &strict);
		assert_null(again);
		const char *want = json_string_value(json_object_get(lenient, "error"));
		assert_non_null(want);
		assert_non_null(strstr(strict.text, want));
		return;
	}
	json_t *doc = json_object_get(c, "doc");
	json_t *patch = json_object_get(c, "patch");
	json_t *expected = json_object_get(c, "expected");
	const char *want_err = json_string_value(json_object_get(c, "error"));
	assert_true((expected == NULL) != (want_err == NULL));
	cleanup_json json_t *before = json_deep_copy(doc);
	cleanup_json json_t *out = NULL;
	cg_error err = {0};
	int r = jsonpatch_apply(doc, patch, &out, &err);
	if (expected != NULL) {
		if (r != 0)
			fail_msg("%s: %s", file, err.msg);
		assert_true(json_equal(out, expected));
	} else {
		assert_int_equal(r, -1);
		assert_null(out);
		assert_string_equal(err.msg, want_err);
	}
	assert_true(json_equal(doc, before));
}

/* Applies patch_text to doc_text; returns the message on failure, or NULL
 * and *result on success. */
static const char *apply_text(const char *doc_text, const char *patch_text, json_t **result)
{
	static cg_error err;
	cleanup_json json_t *doc = parse(doc_text);
	cleanup_json json_t *patch = parse(patch_text);
	cleanup_json json_t *before = json_deep_copy(doc);
	json_t *out = (json_t *)0x1;
	memset(&err, 0, sizeof(err));
	int r = jsonpatch_apply(doc, patch, &out, &err);
	assert_true(json_equal(doc, before));
	if (r < 0) {
		assert_int_equal(r, -1);
		assert_null(out);
		assert_true(err.msg[0] != '\0');
		return err.msg;
	}
	assert_int_equal(r, 0);
	assert_non_null(out);
	if (result)
		*result = out;
	else
		json_decref(out);
	return NULL;
}

static void expect_ok(const char *doc, const char *patch, const char *want)
{
	json_t *out = NULL;
	const char *msg = apply_text(doc, patch, &out);
	if (msg != NULL)
		fail_msg("unexpected error: %s", msg);
	cleanup_json json_t *w = parse(want);
	if (!json_equal(out, w)) {
		char *got = json_dumps(out, JSON_ENCODE_ANY | JSON_COMPACT);
		fail_msg("got %s want %s", got, want);
	}
	json_decref(out);
}

static void expect_err(const char *doc, const char *patch, const char *want)
{
	const char *msg = apply_text(doc, patch, NULL);
	if (msg == NULL)
		fail_msg("patch %s applied, want error %s", patch, want);
	if (strcmp(msg, want) != 0)
		fail_msg("got error \"%s\"\nwant \"%s\"", msg, want);
}

static void test_missing_parent(void **state)
{
	(void)state;
	expect_err("{\"spec\":{\"containers\":[{}]}}",
		   "[{\"op\":\"add\",\"path\":\"/spec/x\",\"value\":1},"
		   " {\"op\":\"add\",\"path\":\"/spec/y\",\"value\":2},"
		   " {\"op\":\"add\",\"path\":\"/spec/containers/0/s/x\",\"value\":1},"
		   " {\"op\":\"add\",\"path\":\"/spec/containers/0/x\",\"value\":1}]",
		   "patch op 2 (add /spec/containers/0/s/x): parent does not exist");
	expect_err("{\"a\":\"str\"}", "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":1}]",
		   "patch op 0 (add /a/b): parent is not an object or array");
	expect_err("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]",
		   "patch op 0 (remove /b): path does not exist (no member \"b\")");
	expect_err("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1}]",
		   "patch op 0 (replace /b): path does not exist (no member \"b\")");
	/* v4 lets a test of a missing path against null pass; RFC does not. */
	expect_err("{}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":null}]",
		   "patch op 0 (test /a): path does not exist (no member \"a\")");
	expect_err("{\"a\":{}}", "[{\"op\":\"copy\",\"from\":\"/a/x\",\"path\":\"/b\"}]",
		   "patch op 0 (copy /b from /a/x): from: path does not exist (no member \"x\")");
}

static void test_array_indices(void **state)
{
	(void)state;
	const char *doc = "{\"a\":[1,2]}";
	expect_ok(doc, "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":3}]", "{\"a\":[1,2,3]}");
	expect_ok(doc, "[{\"op\":\"add\",\"path\":\"/a/0\",\"value\":0}]", "{\"a\":[0,1,2]}");
	expect_ok(doc, "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":3}]", "{\"a\":[1,2,3]}");
	expect_ok("[]", "[{\"op\":\"add\",\"path\":\"/-\",\"value\":1}]", "[1]");
	expect_ok(doc, "[{\"op\":\"replace\",\"path\":\"/a/1\",\"value\":9}]", "{\"a\":[1,9]}");
	expect_ok(doc, "[{\"op\":\"remove\",\"path\":\"/a/0\"}]", "{\"a\":[2]}");
	expect_err(
		doc, "[{\"op\":\"add\",\"path\":\"/a/3\",\"value\":3}]",
		"patch op 0 (add /a/3): array index 3 is out of range (the array has 2 elements)");
	expect_err(doc, "[{\"op\":\"remove\",\"path\":\"/a/2\"}]",
		   "patch op 0 (remove /a/2): array index 2 is out of range (the array has 2 "
		   "elements)");
	expect_err("{\"a\":[]}", "[{\"op\":\"remove\",\"path\":\"/a/0\"}]",
		   "patch op 0 (remove /a/0): array index 0 is out of range (the array has 0 "
		   "elements)");
	expect_err(doc, "[{\"op\":\"remove\",\"path\":\"/a/99999999999999999999999\"}]",
		   "patch op 0 (remove /a/99999999999999999999999): array index "
		   "99999999999999999999999 is out of range (the array has 2 elements)");
	expect_err(doc, "[{\"op\":\"remove\",\"path\":\"/a/01\"}]",
		   "patch op 0 (remove /a/01): array index \"01\" has a leading zero");
	expect_err(doc, "[{\"op\":\"add\",\"path\":\"/a/00\",\"value\":1}]",
		   "patch op 0 (add /a/00): array index \"00\" has a leading zero");
	expect_err(doc, "[{\"op\":\"remove\",\"path\":\"/a/-1\"}]",
		   "patch op 0 (remove /a/-1): \"-1\" is not an array index");
	expect_err(doc, "[{\"op\":\"remove\",\"path\":\"/a/+1\"}]",
		   "patch op 0 (remove /a/+1): \"+1\" is not an array index");
	expect_err(doc, "[{\"op\":\"remove\",\"path\":\"/a/\"}]",
		   "patch op 0 (remove /a/): \"\" is not an array index");
	expect_err(doc, "[{\"op\":\"add\",\"path\":\"/a/01/x\",\"value\":1}]",
		   "patch op 0 (add /a/01/x): array index \"01\" has a leading zero");
}

static void test_dash_outside_add(void **state)
{
	(void)state;
	const char *doc = "{\"a\":[1,2]}";
	const char *want = "array index \"-\" names no element (only add may append)";
	char msg[256];
	snprintf(msg, sizeof(msg), "patch op 0 (remove /a/-): %s", want);
	expect_err(doc, "[{\"op\":\"remove\",\"path\":\"/a/-\"}]", msg);
	snprintf(msg, sizeof(msg), "patch op 0 (replace /a/-): %s", want);
	expect_err(doc, "[{\"op\":\"replace\",\"path\":\"/a/-\",\"value\":0}]", msg);
	snprintf(msg, sizeof(msg), "patch op 0 (test /a/-): %s", want);
	expect_err(doc, "[{\"op\":\"test\",\"path\":\"/a/-\",\"value\":2}]", msg);
	snprintf(msg, sizeof(msg), "patch op 0 (move /b from /a/-): from: %s", want);
	expect_err(doc, "[{\"op\":\"move\",\"from\":\"/a/-\",\"path\":\"/b\"}]", msg);
	snprintf(msg, sizeof(msg), "patch op 0 (copy /b from /a/-): from: %s", want);
	expect_err(doc, "[{\"op\":\"copy\",\"from\":\"/a/-\",\"path\":\"/b\"}]", msg);
	expect_err("{\"a\":[{}]}", "[{\"op\":\"add\",\"path\":\"/a/-/x\",\"value\":1}]",
		   "patch op 0 (add /a/-/x): array index \"-\" names no element (only add may "
		   "append)");
	expect_ok(doc, "[{\"op\":\"copy\",\"from\":\"/a/0\",\"path\":\"/a/-\"}]",
		  "{\"a\":[1,2,1]}");
	expect_ok(doc, "[{\"op\":\"move\",\"from\":\"/a/0\",\"path\":\"/a/-\"}]", "{\"a\":[2,1]}");
}

static void test_test_op(void **state)
{
	(void)state;
	const char *doc =
		"{\"n\":1,\"f\":1.5,\"o\":{\"x\":[1,{\"y\":null}],\"z\":true},\"s\":\"1\"}";
	expect_ok(doc,
		  "[{\"op\":\"test\",\"path\":\"/n\",\"value\":1.0},"
		  " {\"op\":\"test\",\"path\":\"/f\",\"value\":1.5},"
		  " {\"op\":\"test\",\"path\":\"/"
		  "o\",\"value\":{\"z\":true,\"x\":[1.0,{\"y\":null}]}},"
		  " {\"op\":\"test\",\"path\":\"\",\"value\":"
		  "{\"s\":\"1\",\"n\":1,\"f\":1.5,"
		  "\"o\":{\"x\":[1,{\"y\":null}],\"z\":true}}}]",
		  doc);
	expect_err(doc, "[{\"op\":\"test\",\"path\":\"/n\",\"value\":\"1\"}]",
		   "patch op 0 (test /n): test failed: the value differs");
	expect_err(doc, "[{\"op\":\"test\",\"path\":\"/s\",\"value\":1}]",
		   "patch op 0 (test /s): test failed: the value differs");
	expect_err(doc, "[{\"op\":\"test\",\"path\":\"/o/x\",\"value\":[1,{\"y\":null},3]}]",
		   "patch op 0 (test /o/x): test failed: the value differs");
	expect_err(doc, "[{\"op\":\"test\",\"path\":\"/o\",\"value\":{\"x\":[1,{\"y\":null}]}}]",
		   "patch op 0 (test /o): test failed: the value differs");
	expect_err(doc, "[{\"op\":\"test\",\"path\":\"/o/z\",\"value\":false}]",
		   "patch op 0 (test /o/z): test failed: the value differs");
	expect_err(doc, "[{\"op\":\"test\",\"path\":\"/o/x/1/y\",\"value\":0}]",
		   "patch op 0 (test /o/x/1/y): test failed: the value differs");
}

static void test_move(void **state)
{
	(void)state;
	const char *doc = "{\"a\":{\"b\":{\"c\":1}},\"ab\":0}";
	expect_err(doc, "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/d\"}]",
		   "patch op 0 (move /a/b/d from /a): cannot move a location into one of its own "
		   "children");
	expect_err(doc, "[{\"op\":\"move\",\"from\":\"\",\"path\":\"/x\"}]",
		   "patch op 0 (move /x from ): cannot move a location into one of its own "
		   "children");
	/* "/a" is a string prefix of "/ab" but not a pointer prefix. */
	expect_ok(doc, "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/ab\"}]",
		  "{\"ab\":{\"b\":{\"c\":1}}}");
	expect_ok(doc, "[{\"op\":\"move\",\"from\":\"/a/b\",\"path\":\"/a/b\"}]", doc);
	expect_ok(doc, "[{\"op\":\"move\",\"from\":\"/a/b/c\",\"path\":\"/c\"}]",
		  "{\"a\":{\"b\":{}},\"ab\":0,\"c\":1}");
	expect_ok("[1,2,3]", "[{\"op\":\"move\",\"from\":\"/2\",\"path\":\"/0\"}]", "[3,1,2]");
	expect_err(doc, "[{\"op\":\"move\",\"from\":\"/a/b\",\"path\":\"/a/b/x\"}]",
		   "patch op 0 (move /a/b/x from /a/b): cannot move a location into one of its "
		   "own children");
	/* The target is resolved after the removal, as RFC 6902 4.4 says. */
	expect_err("{\"a\":[1]}", "[{\"op\":\"move\",\"from\":\"/a/0\",\"path\":\"/a/1\"}]",
		   "patch op 0 (move /a/1 from /a/0): array index 1 is out of range (the array "
		   "has 0 elements)");
}

static void test_copy_is_deep(void **state)
{
	(void)state;
	expect_ok("{\"a\":{\"x\":1}}",
		  "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"},"
		  " {\"op\":\"replace\",\"path\":\"/b/x\",\"value\":2}]",
		  "{\"a\":{\"x\":1},\"b\":{\"x\":2}}");
	/* Values from the patch are copied too: the patch stays intact. */
	cleanup_json json_t *doc = parse("{}");
	cleanup_json json_t *patch =
		parse("[{\"op\":\"add\",\"path\":\"/v\",\"value\":{\"k\":[1]}},"
		      " {\"op\":\"add\",\"path\":\"/v/k/-\",\"value\":2}]");
	cleanup_json json_t *before = json_deep_copy(patch);
	cleanup_json json_t *out = NULL;
	cg_error err = {0};
	assert_int_equal(jsonpatch_apply(doc, patch, &out, &err), 0);
	assert_true(json_equal(patch, before));
	cleanup_json json_t *want = parse("{\"v\":{\"k\":[1,2]}}");
	assert_true(json_equal(out, want));
}

static void test_root(void **state)
{
	(void)state;
	expect_ok("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":[1]}]", "[1]");
	expect_ok("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":\"s\"}]", "\"s\"");
	expect_err("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]",
		   "patch op 0 (remove ): cannot remove the whole document");
	expect_ok("{\"\":{\"\":1}}", "[{\"op\":\"replace\",\"path\":\"//\",\"value\":2}]",
		  "{\"\":{\"\":2}}");
}

static void test_atomic(void **state)
{
	(void)state;
	/* apply_text checks the input is untouched; the first two ops apply
	 * to the copy before op 2 fails. */
	expect_err("{\"a\":[1],\"b\":{}}",
		   "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":2},"
		   " {\"op\":\"remove\",\"path\":\"/b\"},"
		   " {\"op\":\"test\",\"path\":\"/a/1\",\"value\":3}]",
		   "patch op 2 (test /a/1): test failed: the value differs");
	expect_ok("[]", "[]", "[]");
}

static void test_malformed(void **state)
{
	(void)state;
	const char *doc = "{\"a\":1}";
	expect_err(doc, "{\"op\":\"add\"}", "patch is not an array of operations");
	expect_err(doc, "[{\"op\":\"test\",\"path\":\"/a\",\"value\":1}, 5]",
		   "patch op 1: operation is not an object");
	expect_err(doc, "[{\"path\":\"/a\"}]", "patch op 0: missing \"op\" string");
	expect_err(doc, "[{\"op\":7,\"path\":\"/a\"}]", "patch op 0: missing \"op\" string");
	expect_err(doc, "[{\"op\":\"merge\",\"path\":\"/a\"}]",
		   "patch op 0 (merge): unknown op \"merge\"");
	expect_err(doc, "[{\"op\":\"Add\",\"path\":\"/a\",\"value\":1}]",
		   "patch op 0 (Add): unknown op \"Add\"");
	expect_err(doc, "[{\"op\":\"remove\"}]", "patch op 0 (remove): missing \"path\" string");
	expect_err(doc, "[{\"op\":\"remove\",\"path\":[\"a\"]}]",
		   "patch op 0 (remove): missing \"path\" string");
	expect_err(doc, "[{\"op\":\"add\",\"path\":\"/b\"}]",
		   "patch op 0 (add /b): missing \"value\"");
	expect_err(doc, "[{\"op\":\"replace\",\"path\":\"/a\"}]",
		   "patch op 0 (replace /a): missing \"value\"");
	expect_err(doc, "[{\"op\":\"test\",\"path\":\"/a\"}]",
		   "patch op 0 (test /a): missing \"value\"");
	expect_err(doc, "[{\"op\":\"move\",\"path\":\"/b\"}]",
		   "patch op 0 (move /b): missing \"from\" string");
	expect_err(doc, "[{\"op\":\"copy\",\"path\":\"/b\",\"from\":null}]",
		   "patch op 0 (copy /b): missing \"from\" string");
	expect_err(doc, "[{\"op\":\"remove\",\"path\":\"a\"}]",
		   "patch op 0 (remove a): JSON pointer \"a\" must be empty or start with '/'");
	expect_err(
		doc, "[{\"op\":\"remove\",\"path\":\"/a~2\"}]",
		"patch op 0 (remove /a~2): JSON pointer \"/a~2\" has '~' not followed by 0 or 1");
	expect_err(doc, "[{\"op\":\"remove\",\"path\":\"/a~\"}]",
		   "patch op 0 (remove /a~): JSON pointer \"/a~\" has '~' not followed by 0 or 1");
	expect_err(doc, "[{\"op\":\"copy\",\"path\":\"/b\",\"from\":\"a\"}]",
		   "patch op 0 (copy /b from a): from: JSON pointer \"a\" must be empty or start "
		   "with '/'");
	json_error_t je;
	cleanup_json json_t *nul =
		json_loads("[{\"op\":\"remove\",\"path\":\"/a\\u0000/b\"}]", JSON_ALLOW_NUL, &je);
	cleanup_json json_t *d = parse(doc);
	json_t *o = NULL;
	cg_error e = {0};
	assert_int_equal(jsonpatch_apply(d, nul, &o, &e), -1);
	assert_string_equal(e.msg, "patch op 0 (remove /a): \"path\" contains a NUL character");
	/* null is a value; "from" on an add is ignored. */
	expect_ok(doc, "[{\"op\":\"add\",\"path\":\"/b\",\"value\":null,\"from\":7}]",
		  "{\"a\":1,\"b\":null}");
	cg_error err = {0};
	json_t *out = NULL;
	cleanup_json json_t *patch = parse("[]");
	assert_int_equal(jsonpatch_apply(NULL, patch, &out, &err), -1);
	assert_null(out);
}

static void test_get(void **state)
{
	(void)state;
	cleanup_json json_t *doc =
		parse("{\"foo\":[\"bar\",\"baz\"],\"\":0,\"a/b\":1,\"c%d\":2,\"e^f\":3,\"g|h\":4,"
		      "\"i\\\\j\":5,\"k\\\"l\":6,\" \":7,\"m~n\":8,\"01\":9}");
	/* RFC 6901 section 5. */
	assert_ptr_equal(jsonpatch_apply_get(doc, ""), doc);
	assert_true(json_equal(jsonpatch_apply_get(doc, "/foo"), json_object_get(doc, "foo")));
	assert_string_equal(json_string_value(jsonpatch_apply_get(doc, "/foo/0")), "bar");
	struct {
		const char *ptr;
		int want;
	} cases[] = {{"/", 0},	   {"/a~1b", 1}, {"/c%d", 2}, {"/e^f", 3},  {"/g|h", 4},
		     {"/i\\j", 5}, {"/k\"l", 6}, {"/ ", 7},   {"/m~0n", 8}, {"/01", 9}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = jsonpatch_apply_get(doc, cases[i].ptr);
		if (v == NULL)
			fail_msg("%s: not found", cases[i].ptr);
		assert_int_equal(json_integer_value(v), cases[i].want);
	}
	const char *missing[] = {"/nope", "/foo/2", "/foo/-",	"/foo/01", "/foo/-1",
				 "foo",	  "/a~2b",  "/foo/0/x", "/a/b"};
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
		if (jsonpatch_apply_get(doc, missing[i]) != NULL)
			fail_msg("%s: found", missing[i]);
	assert_null(jsonpatch_apply_get(NULL, ""));
}

static void test_escape(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(jsonpatch_apply_escape("a/b~c", out, sizeof(out)), 7);
	assert_string_equal(out, "a~1b~0c");
	assert_int_equal(jsonpatch_apply_escape("~1", out, sizeof(out)), 3);
	assert_string_equal(out, "~01");
	assert_int_equal(jsonpatch_apply_escape("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(jsonpatch_apply_escape("ab", out, 3), 2);
	assert_true(jsonpatch_apply_escape("abc", out, 3) < 0);
	assert_string_equal(out, "");
	assert_true(jsonpatch_apply_escape("a/", out, 3) < 0);
	assert_true(jsonpatch_apply_escape("", out, 0) < 0);
	assert_int_equal(jsonpatch_apply_escape("a/", out, 4), 3);
}

/* Random keys from an alphabet heavy in '~', '/', '0', '1': escaping then
 * adding through the pointer must create exactly that key, and get and
 * test must find it again. */
static void test_escape_round_trip(void **state)
{
	(void)state;
	static const char alphabet[] = "~/01a-";
	srand(6902);
	for (int n = 0; n < 500; n++) {
		char key[16], tok[40], ptr[48];
		size_t len = (size_t)(rand() % 8);
		for (size_t i = 0; i < len; i++)
			key[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		key[len] = '\0';
		assert_true(jsonpatch_apply_escape(key, tok, sizeof(tok)) >= 0);
		snprintf(ptr, sizeof(ptr), "/o/%s", tok);
		cleanup_json json_t *doc = parse("{\"o\":{\"~\":0,\"/\":1}}");
		cleanup_json json_t *patch =
			json_pack("[{s:s,s:s,s:i}, {s:s,s:s,s:i}]", "op", "add", "path", ptr,
				  "value", n, "op", "test", "path", ptr, "value", n);
		cleanup_json json_t *out = NULL;
		cg_error err = {0};
		if (jsonpatch_apply(doc, patch, &out, &err) < 0)
			fail_msg("key \"%s\": %s", key, err.msg);
		json_t *o = json_object_get(out, "o");
		assert_int_equal(json_integer_value(json_object_get(o, key)), n);
		assert_ptr_equal(jsonpatch_apply_get(out, ptr), json_object_get(o, key));
		size_t want = strcmp(key, "~") == 0 || strcmp(key, "/") == 0 ? 2 : 3;
		assert_int_equal(json_object_size(o), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define RFC(n)                                                                                     \
	{.name = "rfc6902 A." #n, .test_func = test_rfc_case, .initial_state = "A." #n ".json"}
		RFC(01),
		RFC(02),
		RFC(03),
		RFC(04),
		RFC(05),
		RFC(06),
		RFC(07),
		RFC(08),
		RFC(09),
		RFC(10),
		RFC(11),
		RFC(12),
		RFC(13),
		RFC(14),
		RFC(15),
		RFC(16),
		cmocka_unit_test(test_missing_parent),
		cmocka_unit_test(test_array_indices),
		cmocka_unit_test(test_dash_outside_add),
		cmocka_unit_test(test_test_op),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_copy_is_deep),
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_atomic),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_round_trip),
	};
	return cmocka_run_group_tests_name("jsonpatch", tests, NULL, NULL);
}
