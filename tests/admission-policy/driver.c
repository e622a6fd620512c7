/* The webhook's engine and capgate's RFC 6902 applier, for the differential
 * test (run.mjs). One JSON request per input line, one JSON answer per
 * output line:
 *
 *   {"op":"decide", "kind", "operation", "namespace", "subResource",
 *    "object", "oldObject", "nonRoot":"none"?}
 *       -> {"skipped", "unpatched", "allowed", "message", "patch", "warnings", "audit",
 *           "mutated"} (the object after the engine's own patch), or
 *          {"error"} when the engine cannot judge the object.
 *       "nonRoot":"none" judges under the policy with every nonRoot.strategy
 *       set to none: the part of the decision the CEL encodes.
 *   {"op":"apply", "object", "patch"} -> {"result"} or {"error"}
 *   {"op":"yaml", "file"} -> {"docs"}: the documents as `capgate check` reads them
 *   {"op":"glob", "glob", "strings"} -> {"re", "fnmatch": [bool...]} or {"error"}
 *   {"op":"wrapper"} -> {"image", "wrapperPath", "delivery"}: the policy's
 *       wrapper, for the generator to build pods that run it
 *
 * Usage: admission-driver POLICY.yaml|-   ("-": the embedded default)
 * The request reaches engine_decide() as the server gives it (server/review.c):
 * oldObject absent or null is NULL, subResource absent is "".
 */
#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/glob.h"
#include "common/buf.h"
#include "json/jsonpatch_apply.h"
#include "policy/engine.h"
#include "policy/policy.h"
#include "yaml/yamlload.h"

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	cg_buf b = {0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n) < 0)
			break;
	fclose(f);
	*len = b.len;
	return b.data ? b.data : strdup("");
}

static int load(const char *path, cg_policy **p, cg_error *err)
{
	if (strcmp(path, "-") == 0)
		return policy_load_default(p, err);
	size_t len = 0;
	char *text = read_file(path, &len);
	if (text == NULL)
		return cg_error_set(err, errno, "%s: %s", path, strerror(errno));
	int rc = policy_load(text, len, path, p, err);
	free(text);
	return rc;
}

static const char *str(json_t *o, const char *k, const char *def)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : def;
}

static json_t *decide(const cg_policy *p, json_t *req)
{
	engine_request er = {.kind = str(req, "kind", ""),
			     .operation = str(req, "operation", "CREATE"),
			     .namespace = str(req, "namespace", ""),
			     .sub_resource = str(req, "subResource", ""),
			     .object = json_object_get(req, "object"),
			     .old_object = json_object_get(req, "oldObject")};
	if (json_is_null(er.old_object))
		er.old_object = NULL;
	engine_decision d;
	cg_error err = {0};
	if (engine_decide(p, &er, &d, &err) < 0)
		return json_pack("{s:s}", "error", err.msg);
	json_t *mutated = json_incref(er.object);
	if (d.patch != NULL && json_array_size(d.patch) > 0) {
		json_decref(mutated);
		if (jsonpatch_apply(er.object, d.patch, &mutated, &err) < 0) {
			engine_decision_clear(&d);
			return json_pack("{s:s}", "error", err.msg);
		}
	}
	json_t *out = json_pack("{s:s?, s:s?, s:b, s:s?, s:O?, s:O, s:O, s:o}", "skipped",
				d.skipped, "unpatched", d.unpatched, "allowed", d.allowed,
				"message", d.message, "patch", d.patch, "warnings", d.warnings,
				"audit", d.audit, "mutated", mutated);
	engine_decision_clear(&d);
	return out;
}

static json_t *apply(json_t *req)
{
	json_t *result = NULL;
	cg_error err = {0};
	if (jsonpatch_apply(json_object_get(req, "object"), json_object_get(req, "patch"), &result,
			    &err) < 0)
		return json_pack("{s:s}", "error", err.msg);
	return json_pack("{s:o}", "result", result);
}

static json_t *yaml(json_t *req)
{
	const char *file = str(req, "file", "");
	size_t len = 0;
	char *text = read_file(file, &len);
	if (text == NULL)
		return json_pack("{s:s}", "error", strerror(errno));
	json_t *docs = NULL;
	cg_error err = {0};
	int rc = yamlload_all(text, len, file, &docs, &err);
	free(text);
	return rc < 0 ? json_pack("{s:s}", "error", err.msg) : json_pack("{s:o}", "docs", docs);
}

static json_t *glob(json_t *req)
{
	const char *g = str(req, "glob", "");
	cg_buf re = {0};
	cg_error err = {0};
	if (glob_to_re2(g, &re, &err) < 0) {
		buf_free(&re);
		return json_pack("{s:s}", "error", err.msg);
	}
	json_t *matches = json_array();
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(req, "strings"), i, s) json_array_append_new(
		matches, json_boolean(fnmatch(g, json_string_value(s), 0) == 0));
	json_t *out = json_pack("{s:s, s:o}", "re", re.data, "fnmatch", matches);
	buf_free(&re);
	return out;
}

static json_t *wrapper(const cg_policy *p)
{
	static const char *const delivery[] = {"initContainer", "image", "imageVolume"};
	return json_pack("{s:s?, s:s, s:s}", "image", p->nonroot.image, "wrapperPath",
			 p->nonroot.wrapper_path, "delivery", delivery[p->nonroot.delivery]);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: admission-driver POLICY.yaml|-\n");
		return 2;
	}
	cg_policy *p = NULL, *none = NULL;
	cg_error err = {0};
	if (load(argv[1], &p, &err) < 0 || load(argv[1], &none, &err) < 0) {
		fprintf(stderr, "admission-driver: %s\n", err.msg);
		return 2;
	}
	none->spec.nonroot_strategy = POLICY_NONROOT_NONE;
	for (size_t i = 0; i < none->n_rules; i++)
		none->rules[i].spec.nonroot_strategy = POLICY_NONROOT_NONE;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		json_error_t je;
		json_t *req = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &je);
		json_t *out;
		const char *op = str(req, "op", "");
		if (req == NULL)
			out = json_pack("{s:s}", "error", je.text);
		else if (strcmp(op, "decide") == 0)
			out = decide(strcmp(str(req, "nonRoot", ""), "none") == 0 ? none : p, req);
		else if (strcmp(op, "apply") == 0)
			out = apply(req);
		else if (strcmp(op, "yaml") == 0)
			out = yaml(req);
		else if (strcmp(op, "glob") == 0)
			out = glob(req);
		else if (strcmp(op, "wrapper") == 0)
			out = wrapper(p);
		else
			out = json_pack("{s:s}", "error", "unknown op");
		if (out == NULL || json_dumpf(out, stdout, JSON_COMPACT) < 0 ||
		    putchar('\n') == EOF)
			return 1;
		json_decref(out);
		json_decref(req);
	}
	free(line);
	policy_free(p);
	policy_free(none);
	return fflush(stdout) == 0 ? 0 : 1;
}
