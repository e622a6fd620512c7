/* jsonpatch_apply on arbitrary document/patch pairs.
 *
 * Input: one JSON object {"doc": ..., "patch": ...}, the layout of the
 * tests/data/rfc6902 cases, which are the seeds. Oracles: the document and
 * the patch are never modified, nor shared with the result; applying twice
 * gives the same answer; an error names the operation; every prefix of a
 * patch that applies also applies; after the last operation its effect can
 * be read back (and a `test` op says so too).
 */
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "common/arena.h"
#include "fuzz/fuzz.h"
#include "json/jsonpatch_apply.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	arena_install_json();
	return 0;
}

/* Writes into every container of v, so that any value shared with another
 * tree shows up there as a change. */
static void scribble(json_t *v, int depth)
{
	if (depth > 300)
		return;
	size_t i;
	json_t *c;
	const char *k;
	if (json_is_array(v)) {
		json_array_foreach(v, i, c) scribble(c, depth + 1);
		json_array_append_new(v, json_string("scribbled"));
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, c) scribble(c, depth + 1);
		json_object_set_new(v, "\x01scribbled", json_null());
	}
}

/* The pointer the last op's effect can be read at: "/-" becomes the index
 * of the appended item. */
static char *effect_path(json_t *out, const char *path)
{
	size_t n = strlen(path);
	char *p = strdup(path);
	if (n >= 2 && strcmp(path + n - 2, "/-") == 0) {
		p[n - 2] = '\0';
		json_t *parent = jsonpatch_apply_get(out, p);
		if (!json_is_array(parent) || json_array_size(parent) == 0) {
			free(p);
			return NULL;
		}
		char *q = malloc(n + 24);
		snprintf(q, n + 24, "%s/%zu", p, json_array_size(parent) - 1);
		free(p);
		return q;
	}
	return p;
}

static void check_last_op(json_t *doc, json_t *patch, json_t *out)
{
	size_t n = json_array_size(patch);
	json_t *last = json_array_get(patch, n - 1);
	json_t *prefix = json_array();
	for (size_t i = 0; i + 1 < n; i++)
		json_array_append(prefix, json_array_get(patch, i));
	json_t *mid = NULL;
	cg_error err = {0};
	FUZZ_CHECK(jsonpatch_apply(doc, prefix, &mid, &err) == 0,
		   "a prefix of a patch that applies fails: %s", err.msg);
	const char *op = json_string_value(json_object_get(last, "op"));
	const char *path = json_string_value(json_object_get(last, "path"));
	const char *from = json_string_value(json_object_get(last, "from"));
	json_t *want = NULL;
	if (strcmp(op, "add") == 0 || strcmp(op, "replace") == 0)
		want = json_object_get(last, "value");
	else if (strcmp(op, "copy") == 0 || strcmp(op, "move") == 0)
		want = jsonpatch_apply_get(mid, from);
	else if (strcmp(op, "test") == 0)
		FUZZ_CHECK(json_equal(mid, out), "a test op changed the document");
	char *at = want ? effect_path(out, path) : NULL;
	if (at != NULL) {
		json_t *got = jsonpatch_apply_get(out, at);
		/* json_equal tells 1 from 1.0; the RFC's test op does not. */
		FUZZ_CHECK(got != NULL, "%s %s: nothing at %s afterwards", op, path, at);
		json_t *test =
			json_pack("[{s:s, s:s, s:O}]", "op", "test", "path", at, "value", want);
		json_t *same = NULL;
		FUZZ_CHECK(jsonpatch_apply(out, test, &same, &err) == 0,
			   "%s %s: test at %s fails: %s", op, path, at, err.msg);
		json_decref(same);
		json_decref(test);
		free(at);
	}
	json_decref(mid);
	json_decref(prefix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	json_t *doc = json_object_get(in, "doc");
	json_t *patch = json_object_get(in, "patch");
	if (doc == NULL || patch == NULL) {
		json_decref(in);
		return 0;
	}
	json_t *doc0 = json_deep_copy(doc);
	json_t *patch0 = json_deep_copy(patch);
	json_t *out1 = NULL, *out2 = NULL;
	cg_error e1 = {0}, e2 = {0};
	int r1 = jsonpatch_apply(doc, patch, &out1, &e1);
	int r2 = jsonpatch_apply(doc, patch, &out2, &e2);
	FUZZ_CHECK(json_equal(doc, doc0), "the document was modified");
	FUZZ_CHECK(json_equal(patch, patch0), "the patch was modified");
	FUZZ_CHECK(r1 == r2 && strcmp(e1.msg, e2.msg) == 0, "two runs differ: %s / %s", e1.msg,
		   e2.msg);
	if (r1 < 0) {
		FUZZ_CHECK(out1 == NULL && e1.msg[0], "failure without a message or with a result");
		FUZZ_CHECK(!json_is_array(patch) || json_array_size(patch) == 0 ||
				   strncmp(e1.msg, "patch op ", 9) == 0,
			   "error does not name the op: %s", e1.msg);
	} else {
		FUZZ_CHECK(out1 && json_equal(out1, out2), "two runs give different documents");
		/* null, true and false are jansson singletons: copies are the same. */
		FUZZ_CHECK(out1 != doc || json_is_null(doc) || json_is_boolean(doc),
			   "the result is the document itself");
		if (json_array_size(patch) > 0)
			check_last_op(doc, patch, out1);
		json_t *out0 = json_deep_copy(out2);
		scribble(out1, 0);
		FUZZ_CHECK(json_equal(doc, doc0), "the result shares values with the document");
		FUZZ_CHECK(json_equal(patch, patch0), "the result shares values with the patch");
		FUZZ_CHECK(json_equal(out2, out0), "two results share values");
		json_decref(out0);
	}
	json_decref(out1);
	json_decref(out2);
	json_decref(doc0);
	json_decref(patch0);
	json_decref(in);
	return 0;
}
