/* review_handle(): the AdmissionReview contract, end to end without HTTP,
 * and the selective parser against jansson's own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/budget.h"
#include "common/buf.h"
#include "json/jsonpatch_apply.h"
#include "json/jsonsel.h"
#include "server/review.h"

static cg_policy *policy;

static int setup(void **state)
{
	(void)state;
	cg_error err = {0};
	arena_install_json();
	if (policy_load_default(&policy, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	policy_free(policy);
	arena_release();
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return b;
}

static size_t b64dec(const char *in, unsigned char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = 0;
	unsigned v = 0;
	int bits = 0;
	for (; *in && *in != '='; in++) {
		const char *p = strchr(a, *in);
		assert_non_null(p);
		v = v << 6 | (unsigned)(p - a);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(v >> bits);
		}
	}
	return n;
}

/* Runs one review; returns the response (new reference). */
static json_t *run(enum review_endpoint ep, const char *body, size_t len, review_summary *sum)
{
	cg_buf out = {0};
	cg_error err = {0};
	review_summary s;
	int rc = review_handle(policy, ep, body, len, &out, sum ? sum : &s, &err);
	if (rc < 0)
		fail_msg("review_handle: %s", err.msg);
	json_error_t je;
	json_t *resp = json_loadb(out.data, out.len, JSON_REJECT_DUPLICATES, &je);
	if (resp == NULL)
		fail_msg("response is not JSON: %s: %s", je.text, out.data);
	buf_free(&out);
	return resp;
}

static json_t *response_patch(json_t *resp)
{
	json_t *r = json_object_get(resp, "response");
	const char *p64 = json_string_value(json_object_get(r, "patch"));
	if (p64 == NULL)
		return NULL;
	assert_string_equal(json_string_value(json_object_get(r, "patchType")), "JSONPatch");
	unsigned char *raw = malloc(strlen(p64));
	size_t n = b64dec(p64, raw);
	json_error_t je;
	json_t *patch = json_loadb((const char *)raw, n, 0, &je);
	free(raw);
	assert_non_null(patch);
	return patch;
}

static char *with_object(json_t *review, json_t *obj)
{
	json_t *copy = json_deep_copy(review);
	json_object_set(json_object_get(copy, "request"), "object", obj);
	char *s = json_dumps(copy, JSON_COMPACT);
	json_decref(copy);
	return s;
}

/* The realistic review: uid echoed, the patch applies and the patched object
 * needs no further patch. */
static void test_mutate_applies_and_is_idempotent(void **state)
{
	(void)state;
	size_t len;
	char *body = slurp("tests/data/review-pod.json", &len);
	review_summary sum;
	json_t *resp = run(REVIEW_MUTATE, body, len, &sum);
	json_t *r = json_object_get(resp, "response");
	assert_string_equal(json_string_value(json_object_get(resp, "apiVersion")),
			    "admission.k8s.io/v1");
	assert_string_equal(json_string_value(json_object_get(resp, "kind")), "AdmissionReview");
	assert_string_equal(json_string_value(json_object_get(r, "uid")),
			    "705ab4f5-6393-11e8-b7cc-42010a800002");
	assert_true(json_is_true(json_object_get(r, "allowed")));
	assert_string_equal(sum.decision, "patched");
	assert_string_equal(sum.kind, "Pod");
	assert_string_equal(sum.namespace, "shop");

	json_t *patch = response_patch(resp);
	assert_non_null(patch);
	assert_int_equal(sum.patch_ops, (int)json_array_size(patch));
	json_error_t je;
	json_t *review = json_loadb(body, len, 0, &je);
	json_t *obj = json_object_get(json_object_get(review, "request"), "object");
	json_t *after = NULL;
	cg_error err = {0};
	if (jsonpatch_apply(obj, patch, &after, &err) < 0)
		fail_msg("patch does not apply: %s", err.msg);
	/* checkout (uid 10001, fsGroup 2000): NET_BIND_SERVICE kept (binaries
	 * with file capabilities need it in the bounding set) and made to work
	 * by the sysctl for port 80; NET_RAW stripped, ping_group_range stands
	 * in for it; log-shipper drops ALL. */
	json_t *sysctls = jsonpatch_apply_get(after, "/spec/securityContext/sysctls");
	assert_int_equal(json_array_size(sysctls), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(sysctls, 0), "name")),
			    "net.ipv4.ip_unprivileged_port_start");
	assert_string_equal(json_string_value(json_object_get(json_array_get(sysctls, 0), "value")),
			    "80");
	assert_string_equal(json_string_value(json_object_get(json_array_get(sysctls, 1), "value")),
			    "2000 2000");
	assert_string_equal(
		json_string_value(jsonpatch_apply_get(
			after, "/spec/containers/1/securityContext/capabilities/drop/0")),
		"ALL");
	json_t *add =
		jsonpatch_apply_get(after, "/spec/containers/0/securityContext/capabilities/add");
	assert_int_equal(json_array_size(add), 1);
	assert_string_equal(json_string_value(json_array_get(add, 0)), "NET_BIND_SERVICE");
	assert_string_equal(json_string_value(jsonpatch_apply_get(
				    after, "/metadata/annotations/capgate.dev~1applied")),
			    "sysctl:checkout=NET_BIND_SERVICE+NET_RAW");

	char *again = with_object(review, after);
	json_t *resp2 = run(REVIEW_MUTATE, again, strlen(again), &sum);
	assert_null(json_object_get(json_object_get(resp2, "response"), "patch"));
	assert_string_equal(sum.decision, "allowed");

	/* /validate accepts the patched object and refuses the original. */
	json_t *v1 = run(REVIEW_VALIDATE, again, strlen(again), NULL);
	assert_true(json_is_true(json_object_get(json_object_get(v1, "response"), "allowed")));
	json_t *v0 = run(REVIEW_VALIDATE, body, len, &sum);
	json_t *r0 = json_object_get(v0, "response");
	assert_true(json_is_false(json_object_get(r0, "allowed")));
	assert_null(json_object_get(r0, "patch"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r0, "status"), "code")),
			 403);
	assert_non_null(
		strstr(json_string_value(json_object_get(json_object_get(r0, "status"), "message")),
		       "container \"log-shipper\": drop ALL"));
	/* The record says denied, and no mutation is described as done. */
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(r0, "auditAnnotations"), "decision")),
			    "denied");
	assert_null(json_object_get(r0, "warnings"));
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(r0, "status"), "reason")),
		"Forbidden");

	/* Warnings and audit annotations within the apiserver's limits. */
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(r, "warnings"), i, w)
	{
		const char *s = json_string_value(w);
		assert_true(strlen(s) <= 120);
		for (const char *p = s; *p; p++)
			assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
	}
	const char *k;
	json_object_foreach(json_object_get(r, "auditAnnotations"), k, w)
	{
		assert_null(strchr(k, '/'));
		assert_true(strlen(k) <= 63);
	}
	json_decref(resp);
	json_decref(resp2);
	json_decref(v0);
	json_decref(v1);
	json_decref(patch);
	json_decref(review);
	json_decref(after);
	free(again);
	free(body);
}

#define POD_REVIEW                                                                                 \
	"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"       \
	"\"uid\":\"u-1\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"           \
	"\"namespace\":\"default\",\"operation\":\"%s\",\"subResource\":\"%s\",\"dryRun\":%s,"     \
	"\"object\":{\"metadata\":{\"name\":\"p\"},\"spec\":{%s}}}}"

static json_t *run_pod(enum review_endpoint ep, const char *op, const char *sub, const char *dry,
		       const char *spec, review_summary *sum)
{
	char body[4096];
	snprintf(body, sizeof(body), POD_REVIEW, op, sub, dry, spec);
	return run(ep, body, strlen(body), sum);
}

static void test_operations_and_subresources(void **state)
{
	(void)state;
	review_summary sum;
	const char *spec = "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}],"
			   "\"ephemeralContainers\":[{\"name\":\"dbg\",\"image\":\"x\"}]";
	/* CREATE patches every list. */
	json_t *r = run_pod(REVIEW_MUTATE, "CREATE", "", "false", spec, &sum);
	json_t *p = response_patch(r);
	assert_int_equal(json_array_size(p), 2);
	json_decref(p);
	json_decref(r);
	/* A Pod UPDATE cannot change its containers: judged, warned about,
	 * never patched; /validate allows it too. */
	r = run_pod(REVIEW_MUTATE, "UPDATE", "", "false", spec, &sum);
	assert_null(response_patch(r));
	assert_string_equal(sum.decision, "warned");
	assert_non_null(
		strstr(json_string_value(json_array_get(
			       json_object_get(json_object_get(r, "response"), "warnings"), 0)),
		       "not patched (a Pod's containers are immutable)"));
	json_decref(r);
	r = run_pod(REVIEW_VALIDATE, "UPDATE", "", "false", spec, &sum);
	assert_true(json_is_true(json_object_get(json_object_get(r, "response"), "allowed")));
	json_decref(r);
	/* pods/ephemeralcontainers: only the ephemeral containers. */
	r = run_pod(REVIEW_MUTATE, "UPDATE", "ephemeralcontainers", "false", spec, &sum);
	p = response_patch(r);
	assert_int_equal(json_array_size(p), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "path")),
			    "/spec/ephemeralContainers/0/securityContext");
	json_decref(p);
	json_decref(r);
	/* dryRun gets the same answer. */
	json_t *a = run_pod(REVIEW_MUTATE, "CREATE", "", "false", spec, NULL);
	json_t *b = run_pod(REVIEW_MUTATE, "CREATE", "", "true", spec, &sum);
	assert_true(sum.dry_run);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	/* DELETE carries nothing to judge. */
	r = run_pod(REVIEW_MUTATE, "DELETE", "", "false", spec, &sum);
	assert_null(response_patch(r));
	json_decref(r);
}

#define EPHEMERAL_REVIEW                                                                           \
	"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"       \
	"\"uid\":\"u-2\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"           \
	"\"namespace\":\"default\",\"operation\":\"UPDATE\",\"subResource\":"                      \
	"\"ephemeralcontainers\","                                                                 \
	"\"object\":{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\"}],"   \
	"\"ephemeralContainers\":[{\"name\":\"old\",\"image\":\"x\"},{\"name\":\"new\",\"image\":" \
	"\"x\"}]}},"                                                                               \
	"\"oldObject\":{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]" \
	","                                                                                        \
	"\"ephemeralContainers\":[%s]}}}}"

/* The codec reads oldObject: on pods/ephemeralcontainers only the
 * ephemeral containers it does not hold are judged ("existing ephemeral
 * containers may not be changed"). */
static void test_old_object_ephemeral(void **state)
{
	(void)state;
	char body[2048];
	review_summary sum;
	snprintf(body, sizeof(body), EPHEMERAL_REVIEW, "{\"name\":\"old\",\"image\":\"x\"}");
	json_t *r = run(REVIEW_MUTATE, body, strlen(body), &sum);
	json_t *p = response_patch(r);
	assert_int_equal(json_array_size(p), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "path")),
			    "/spec/ephemeralContainers/1/securityContext");
	json_decref(p);
	json_decref(r);
	/* Both already there (a retry): nothing to judge. */
	snprintf(body, sizeof(body), EPHEMERAL_REVIEW, "{\"name\":\"old\"},{\"name\":\"new\"}");
	r = run(REVIEW_MUTATE, body, strlen(body), &sum);
	assert_null(response_patch(r));
	assert_string_equal(sum.decision, "allowed");
	json_decref(r);
	/* oldObject null (as for CREATE): every ephemeral container is new. */
	snprintf(body, sizeof(body), EPHEMERAL_REVIEW, "");
	char *at = strstr(body, "\"oldObject\":");
	snprintf(at, sizeof(body) - (size_t)(at - body), "\"oldObject\":null}}");
	r = run(REVIEW_MUTATE, body, strlen(body), &sum);
	p = response_patch(r);
	assert_int_equal(json_array_size(p), 2);
	json_decref(p);
	json_decref(r);
}

#define DEPLOY_UPDATE                                                                              \
	"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"       \
	"\"uid\":\"u-3\",\"kind\":{\"group\":\"apps\",\"version\":\"v1\",\"kind\":\"Deployment\"}" \
	","                                                                                        \
	"\"namespace\":\"default\",\"operation\":\"UPDATE\","                                      \
	"\"object\":{\"metadata\":{\"name\":\"d\",\"labels\":{\"l\":\"%s\"}},\"spec\":{"           \
	"\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"env\":"         \
	"[{\"name\":\"FOO\",\"value\":\"%s\"}],\"securityContext\":{\"capabilities\":"             \
	"{\"add\":[\"SYS_ADMIN\"]}}}]}}}},"                                                        \
	"\"oldObject\":{\"metadata\":{\"name\":\"d\",\"labels\":{\"l\":\"1\"}},\"spec\":{"         \
	"\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"env\":"         \
	"[{\"name\":\"FOO\",\"value\":\"1\"}],\"securityContext\":{\"capabilities\":"              \
	"{\"add\":[\"SYS_ADMIN\"]}}}]}}}}}}"

/* An UPDATE is spared a denial only when it leaves the whole pod template
 * as it was (policy/engine.c). The codec builds only what the engine reads,
 * so a change in a skipped field (an env value: a rollout) must still count
 * as a change, through the template's digest; a label on the Deployment
 * alone must not. */
static void test_update_whole_template(void **state)
{
	(void)state;
	static const char deny[] = "apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\n"
				   "metadata: {name: deny}\nspec: {onDisallowed: deny}\n";
	cg_policy *strict = NULL;
	cg_error err = {0};
	if (policy_load(deny, sizeof(deny) - 1, "deny", &strict, &err) < 0)
		fail_msg("%s", err.msg);
	char body[4096];
	const struct {
		const char *label, *env;
		bool allowed;
	} cases[] = {{"2", "1", true}, {"1", "2", false}, {"2", "2", false}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(body, sizeof(body), DEPLOY_UPDATE, cases[i].label, cases[i].env);
		cg_buf out = {0};
		review_summary sum;
		assert_int_equal(
			review_handle(strict, REVIEW_MUTATE, body, strlen(body), &out, &sum, &err),
			0);
		json_t *r = json_loadb(out.data, out.len, 0, NULL);
		assert_non_null(r);
		json_t *allowed = json_object_get(json_object_get(r, "response"), "allowed");
		if (json_is_true(allowed) != cases[i].allowed)
			fail_msg("label %s, env %s: allowed is %s, want %s", cases[i].label,
				 cases[i].env, json_is_true(allowed) ? "true" : "false",
				 cases[i].allowed ? "true" : "false");
		json_decref(r);
		buf_free(&out);
	}
	policy_free(strict);
}

/* Bodies that are not AdmissionReviews: an error naming what is wrong. */
static void test_not_a_review(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		const char *want;
	} cases[] = {
		{"", "unexpected end of input"},
		{"{\"apiVersion\":\"admission.k8s.io/v1\",", "line 1 column 37"},
		{"[1,2]", "not a JSON object"},
		{"{\"apiVersion\":\"v1\",\"kind\":\"AdmissionReview\"}", "apiVersion must be"},
		{"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"Pod\"}", "kind must be"},
		{"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}",
		 "no request"},
		{"{\"apiVersion\":\"admission.k8s.io/"
		 "v1\",\"kind\":\"AdmissionReview\",\"request\":{}}",
		 "request.uid is missing"},
		{"{\"apiVersion\":\"admission.k8s.io/"
		 "v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":7}}",
		 "request.uid is missing or not a string"},
		{"{\"a\":\"\xff\"}", "invalid UTF-8"},
		{"{\"a\":\"\\ud800\"}", "lone high surrogate"},
		{"{\"a\":01}", "leading zero"},
		{"{\"a\":1} x", "trailing data"},
		{"{\"a\":\"x\ny\"}", "control character"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cg_buf out = {0};
		cg_error err = {0};
		review_summary sum;
		int rc = review_handle(policy, REVIEW_MUTATE, cases[i].body, strlen(cases[i].body),
				       &out, &sum, &err);
		if (rc >= 0)
			fail_msg("case %zu accepted: %s", i, cases[i].body);
		if (strstr(err.msg, cases[i].want) == NULL)
			fail_msg("case %zu: error \"%s\" does not say \"%s\"", i, err.msg,
				 cases[i].want);
		buf_free(&out);
	}
	/* 10,000 levels of nesting are refused, not recursed into. */
	size_t n = 10000;
	char *deep = malloc(2 * n + 1);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	cg_buf out = {0};
	cg_error err = {0};
	review_summary sum;
	assert_true(review_handle(policy, REVIEW_MUTATE, deep, 2 * n, &out, &sum, &err) < 0);
	assert_non_null(strstr(err.msg, "nesting too deep"));
	free(deep);
	buf_free(&out);
}

/* A review with a uid that capgate cannot judge is answered per the
 * policy's onError (deny by default) with the uid echoed: an HTTP error
 * would be turned into an allowance by failurePolicy: Ignore. */
static void test_cannot_judge_is_denied(void **state)
{
	(void)state;
	static const char *specs[] = {
		"\"containers\":\"nope\"",
		"\"containers\":[{\"name\":\"a\",\"securityContext\":{\"capabilities\":{\"add\":"
		"\"NET_ADMIN\"}}}]",
		"\"containers\":[{\"name\":\"a\",\"securityContext\":{\"capabilities\":{\"add\":[7]"
		"}}}]",
		"\"containers\":[{\"name\":\"a\",\"securityContext\":{\"privileged\":\"yes\"}}]",
		"\"containers\":[{\"name\":\"a\\u0000b\"}]",
	};
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		review_summary sum;
		json_t *r = run_pod(REVIEW_MUTATE, "CREATE", "", "false", specs[i], &sum);
		json_t *resp = json_object_get(r, "response");
		assert_string_equal(json_string_value(json_object_get(resp, "uid")), "u-1");
		if (!json_is_false(json_object_get(resp, "allowed")))
			fail_msg("spec %zu was allowed", i);
		assert_string_equal(sum.decision, "error");
		assert_non_null(strstr(json_string_value(json_object_get(
					       json_object_get(resp, "status"), "message")),
				       "cannot judge"));
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(resp, "status"), "reason")),
				    "BadRequest");
		json_decref(r);
	}
}

/* Keys are compared after unescaping, and the last of repeated keys wins,
 * as in Go's decoder: neither hides a container. */
static void test_parser_no_hiding(void **state)
{
	(void)state;
	review_summary sum;
	json_t *r = run_pod(
		REVIEW_MUTATE, "CREATE", "", "false",
		"\"con\\u0074ainers\":[{\"name\":\"a\",\"securityContext\":{\"capabilities\":"
		"{\"add\":[\"SYS_ADMIN\"],\"drop\":[\"ALL\"]}}}]",
		&sum);
	json_t *p = response_patch(r);
	assert_non_null(p);
	json_decref(p);
	json_decref(r);
	r = run_pod(REVIEW_MUTATE, "CREATE", "", "false",
		    "\"containers\":[],\"containers\":[{\"name\":\"a\"}]", &sum);
	p = response_patch(r);
	assert_int_equal(json_array_size(p), 1);
	json_decref(p);
	json_decref(r);
}

/* With the "build everything" schema the selective parser must agree with
 * json_loadb on values, and on what it refuses. */
static void test_parser_matches_jansson(void **state)
{
	(void)state;
	static const char *docs[] = {
		"{}",
		"[]",
		"0",
		"-0",
		"1.5e3",
		"-12345678901234",
		"9223372036854775807",
		"\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\"",
		"\"caf\xc3\xa9 \xf0\x9f\x98\x80\"",
		"[true,false,null,{\"a\":[1,{\"b\":\"c\"}]}]",
		" { \"x\" : [ 1 , 2 ] } ",
		"{\"a\":1,\"a\":2}",
		"1e400",
		"[1,]",
		"{\"a\"}",
		"\"\xc0\x80\"",
		"\"\xed\xa0\x80\"",
		"\"\xf4\x90\x80\x80\"",
		"nul",
		"[01]",
		"[1.]",
		"[.5]",
		"\"\\x\"",
		"{\"a\":1}}",
		"99999999999999999999",
		"\"\\udc00\"",
		"[\"a\" \"b\"]",
		"-",
		"[-1e-2]",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_error_t je;
		json_t *want = json_loadb(docs[i], strlen(docs[i]), JSON_DECODE_ANY, &je);
		json_t *got = NULL;
		cg_error err = {0};
		int rc =
			jsonsel_parse(docs[i], strlen(docs[i]), &jsonsel_all, 64, &got, NULL, &err);
		if ((want != NULL) != (rc == 0))
			fail_msg("doc %zu (%s): jansson %s, jsonsel %s (%s)", i, docs[i],
				 want ? "accepts" : "refuses", rc == 0 ? "accepts" : "refuses",
				 err.msg);
		if (want && !json_equal(want, got))
			fail_msg("doc %zu (%s): values differ", i, docs[i]);
		json_decref(want);
		json_decref(got);
	}
}

/* Out of memory is the server's failure, never the body's: every negative
 * return says so (ENOMEM, "out of memory", not "malformed JSON"), and a
 * decision that ran out answers onError with the reason, not with
 * "cannot judge this request: " and nothing. The arena is starved through
 * the memory budget (each chunk past the first is refused), with pods
 * growing until parsing itself no longer fits. */
static void test_out_of_memory_says_so(void **state)
{
	(void)state;
	budget_set_limit(1);
	int engine_oom = 0, parse_oom = 0;
	for (int n = 1; n < 400; n += 3) {
		cg_buf b = {0};
		assert_int_equal(buf_puts(&b, "{\"apiVersion\":\"admission.k8s.io/v1\","
					      "\"kind\":\"AdmissionReview\",\"request\":{"
					      "\"uid\":\"u\",\"kind\":{\"kind\":\"Pod\"},"
					      "\"operation\":\"CREATE\",\"object\":{\"kind\":"
					      "\"Pod\",\"spec\":{\"containers\":["),
				 0);
		for (int i = 0; i < n; i++)
			assert_int_equal(buf_printf(&b,
						    "%s{\"name\":\"c%d\",\"securityContext\":{"
						    "\"capabilities\":{\"add\":[\"NET_ADMIN\"]}}}",
						    i ? "," : "", i),
					 0);
		assert_int_equal(buf_puts(&b, "]}}}}"), 0);
		cg_buf out = {0};
		review_summary sum;
		cg_error err = {0};
		int rc = review_handle(policy, REVIEW_MUTATE, b.data, b.len, &out, &sum, &err);
		if (rc < 0) {
			if (err.code != ENOMEM || strcmp(err.msg, "out of memory") != 0)
				fail_msg("%d containers: rc %d, code %d, \"%s\"", n, rc, err.code,
					 err.msg);
			parse_oom++;
		} else {
			json_t *r = json_loadb(out.data, out.len, 0, NULL);
			assert_non_null(r);
			const char *msg = json_string_value(json_object_get(
				json_object_get(json_object_get(r, "response"), "status"),
				"message"));
			if (msg != NULL) {
				assert_string_equal(msg,
						    "capgate cannot judge this request: out of "
						    "memory while building the patch");
				assert_int_equal(err.code, ENOMEM);
				assert_false(json_is_true(json_object_get(
					json_object_get(r, "response"), "allowed")));
				engine_oom++;
			}
			json_decref(r);
		}
		buf_free(&b);
		buf_free(&out);
	}
	budget_set_limit(0);
	/* Both failures were reached: the test cannot pass by never running out. */
	assert_true(engine_oom > 0);
	assert_true(parse_oom > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutate_applies_and_is_idempotent),
		cmocka_unit_test(test_operations_and_subresources),
		cmocka_unit_test(test_old_object_ephemeral),
		cmocka_unit_test(test_update_whole_template),
		cmocka_unit_test(test_not_a_review),
		cmocka_unit_test(test_cannot_judge_is_denied),
		cmocka_unit_test(test_parser_no_hiding),
		cmocka_unit_test(test_parser_matches_jansson),
		cmocka_unit_test(test_out_of_memory_says_so),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
