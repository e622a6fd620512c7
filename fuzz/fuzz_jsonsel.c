/* The selective parser against jansson, and against itself.
 *
 * 1. jsonsel_parse(jsonsel_all) and json_loadb(JSON_DECODE_ANY |
 *    JSON_ALLOW_NUL) accept the same inputs and build equal values.
 *    Deliberate differences, not reported:
 *    - nesting deeper than JSONSEL_MAX_DEPTH (256): jsonsel refuses,
 *      jansson goes to 2048;
 *    - a number of 64 characters or more that jsonsel must build: refused
 *      ("number too long"); jansson reads it;
 *    - a raw NUL byte right after a number: jansson 2.14 skips it ("0\0"
 *      and "[1\0]" load), jsonsel refuses the byte as RFC 8259 requires;
 *    - U+0000 in an object key: jansson refuses it; jsonsel reads it and
 *      flags it (info.nul_in_string), and review_handle then refuses the
 *      request.
 * 2. The review schema accepts exactly what the full parse accepts, except
 *    numbers it skips (it checks their grammar, not whether they fit a
 *    long long or a double, nor their length), and what it builds is a
 *    pruning of the full tree: members dropped, none changed or added.
 */
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "common/arena.h"
#include "fuzz/fuzz.h"
#include "json/jsonsel.h"
#include "server/review.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	arena_install_json();
	return 0;
}

static bool pruned_of(json_t *part, json_t *whole, int depth)
{
	if (depth > JSONSEL_MAX_DEPTH + 2)
		return false;
	if (json_is_object(part) && json_is_object(whole)) {
		const char *k;
		size_t n;
		json_t *v;
		json_object_keylen_foreach(part, k, n, v)
		{
			/* The template digest is the parser's own member. */
			if (strcmp(k, REVIEW_TEMPLATE_DIGEST) == 0 &&
			    json_object_getn(whole, k, n) == NULL && json_string_length(v) == 64)
				continue;
			if (!pruned_of(v, json_object_getn(whole, k, n), depth + 1))
				return false;
		}
		return true;
	}
	if (json_is_array(part) && json_is_array(whole)) {
		if (json_array_size(part) != json_array_size(whole))
			return false;
		for (size_t i = 0; i < json_array_size(part); i++)
			if (!pruned_of(json_array_get(part, i), json_array_get(whole, i),
				       depth + 1))
				return false;
		return true;
	}
	return json_equal(part, whole);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	json_error_t je;
	json_t *want = json_loadb(buf, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	json_t *got = NULL;
	jsonsel_info info = {0};
	cg_error err = {0};
	int rc = jsonsel_parse(buf, size, &jsonsel_all, JSONSEL_MAX_DEPTH, &got, &info, &err);
	bool too_deep = rc < 0 && strstr(err.msg, "nesting too deep");
	bool too_long = rc < 0 && strstr(err.msg, "number too long");
	bool too_big = rc < 0 && strstr(err.msg, "out of range");
	bool raw_nul = memchr(buf, '\0', size) != NULL;
	if (want != NULL && rc < 0)
		FUZZ_CHECK(too_deep || too_long || raw_nul, "jansson accepts, jsonsel refuses: %s",
			   err.msg);
	if (want == NULL && rc == 0)
		FUZZ_CHECK(info.nul_in_string && strstr(je.text, "NUL"),
			   "jsonsel accepts, jansson refuses: %s (line %d column %d)", je.text,
			   je.line, je.column);
	if (want != NULL && rc == 0)
		FUZZ_CHECK(json_equal(want, got), "values differ");
	FUZZ_CHECK(rc < 0 || got != NULL, "success without a value");
	FUZZ_CHECK(rc == 0 || err.msg[0], "failure without a message");

	json_t *part = NULL;
	cg_error perr = {0};
	int prc = jsonsel_parse(buf, size, review_schema(), JSONSEL_MAX_DEPTH, &part, NULL, &perr);
	if (rc == 0)
		FUZZ_CHECK(prc == 0, "the review schema refuses what the full parse reads: %s",
			   perr.msg);
	if (prc == 0 && rc < 0)
		FUZZ_CHECK(too_long || too_big,
			   "the review schema reads what the full parse refuses: %s", err.msg);
	if (prc == 0 && rc == 0)
		FUZZ_CHECK(pruned_of(part, got, 0), "the review schema's tree is not a pruning");
	json_decref(part);
	json_decref(want);
	json_decref(got);
	return 0;
}
