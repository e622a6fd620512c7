/* The decision entry (policy/engine.h): which pod spec each kind carries,
 * what is left alone (operations, exemptions, mirror and Windows pods),
 * which rule applies, what an UPDATE may change, and that an object of the
 * wrong shape fails with the field named. Real policies, real objects, the
 * decision's every field checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/engine.h"
#include "policy/policy.h"

static cg_policy *load(const char *yaml)
{
	cg_policy *p = NULL;
	cg_error err = {0};
	if (policy_load(yaml, strlen(yaml), "test.yaml", &p, &err) < 0)
		fail_msg("policy: %s", err.msg);
	return p;
}

static const char *const rules_yaml =
	"apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: t}\n"
	"spec:\n  allowedCapabilities: [NET_BIND_SERVICE]\n  nonRoot: {strategy: none}\n"
	"  exemptions:\n    namespaces: [kube-system]\n    containerNames: [istio-proxy]\n"
	"    images: [\"registry.example.com/csi/*\"]\n    labels: {capgate.dev/exempt: \"yes\"}\n"
	"  rules:\n  - name: netops\n    match: {namespaces: [netops]}\n"
	"    allowedCapabilities: [NET_BIND_SERVICE, NET_ADMIN]\n";

/* Decides kind/op over the JSON object text; returns rc, fills d and err. */
static int decide(const cg_policy *p, const char *kind, const char *op, const char *ns,
		  const char *obj, const char *old, engine_decision *d, cg_error *err)
{
	json_t *o = json_loads(obj, 0, NULL);
	json_t *oo = old ? json_loads(old, 0, NULL) : NULL;
	assert_non_null(o);
	engine_request r = {.kind = kind,
			    .operation = op,
			    .namespace = ns,
			    .sub_resource = "",
			    .object = o,
			    .old_object = oo};
	int rc = engine_decide(p, &r, d, err);
	json_decref(o);
	json_decref(oo);
	return rc;
}

static char *dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

static void assert_json(const json_t *v, const char *want)
{
	char *got = dump(v);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

#define CTR_NET_ADMIN                                                                              \
	"{\"name\":\"app\",\"securityContext\":{\"runAsUser\":1000,\"capabilities\":{\"add\":["    \
	"\"NET_ADMIN\"]}}}"

/* Each kind's template is found where the kind keeps it: the patch path
 * says so. */
static void test_kind_to_template(void **state)
{
	(void)state;
	cg_policy *p = load(rules_yaml);
	static const struct {
		const char *kind, *obj, *path;
	} k[] = {
		{"Pod", "{\"spec\":{\"containers\":[" CTR_NET_ADMIN "]}}", "/spec/containers/0"},
		{"Deployment",
		 "{\"spec\":{\"template\":{\"spec\":{\"containers\":[" CTR_NET_ADMIN "]}}}}",
		 "/spec/template/spec/containers/0"},
		{"PodTemplate", "{\"template\":{\"spec\":{\"containers\":[" CTR_NET_ADMIN "]}}}",
		 "/template/spec/containers/0"},
		{"CronJob",
		 "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"containers\":["
		 "{\"name\":\"x\",\"securityContext\":{\"runAsUser\":7}}," CTR_NET_ADMIN "]}}}}}}",
		 "/spec/jobTemplate/spec/template/spec/containers/1"},
	};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		engine_decision d;
		cg_error err = {0};
		assert_int_equal(decide(p, k[i].kind, "CREATE", "shop", k[i].obj, NULL, &d, &err),
				 0);
		assert_true(d.allowed);
		assert_null(d.skipped);
		assert_non_null(d.patch);
		char want[512];
		snprintf(want, sizeof(want), "%s/securityContext/capabilities", k[i].path);
		json_t *op = json_array_get(d.patch, json_array_size(d.patch) - 1);
		assert_string_equal(json_string_value(json_object_get(op, "path")), want);
		assert_json(json_object_get(op, "value"), "{\"drop\":[\"ALL\"]}");
		assert_json(d.warnings,
			    "[\"container \\\"app\\\": removed NET_ADMIN (not allowed by capgate "
			    "policy)\"]");
		assert_string_equal(json_string_value(json_object_get(d.audit, "decision")),
				    "patched");
		assert_string_equal(json_string_value(json_object_get(d.audit, "stripped")),
				    "NET_ADMIN");
		engine_decision_clear(&d);
	}
	policy_free(p);
}

/* What is left alone, and the reason given for each. */
static void test_left_alone(void **state)
{
	(void)state;
	cg_policy *p = load(rules_yaml);
	const char *pod = "{\"spec\":{\"containers\":[" CTR_NET_ADMIN "]}}";
	static const struct {
		const char *kind, *op, *ns, *obj, *why;
	} k[] = {
		{"Pod", "DELETE", "shop", NULL, "operation carries nothing to judge"},
		{"Pod", "CONNECT", "shop", NULL, "operation carries nothing to judge"},
		{"Pod", "CREATE", "kube-system", NULL, "namespace exempt by policy"},
		{"ConfigMap", "CREATE", "shop", NULL, "carries no pod spec"},
		{"Deployment", "CREATE", "shop", "{\"spec\":{}}", "carries no pod spec"},
		{"Pod", "CREATE", "shop",
		 "{\"metadata\":{\"annotations\":{\"kubernetes.io/config.mirror\":\"x\"}},"
		 "\"spec\":{\"containers\":[" CTR_NET_ADMIN "]}}",
		 "mirror pod"},
		{"Pod", "CREATE", "shop",
		 "{\"spec\":{\"os\":{\"name\":\"windows\"},\"containers\":[" CTR_NET_ADMIN "]}}",
		 "Windows pod: Linux capabilities do not apply"},
		{"Pod", "CREATE", "shop",
		 "{\"metadata\":{\"labels\":{\"capgate.dev/exempt\":\"yes\"}},"
		 "\"spec\":{\"containers\":[" CTR_NET_ADMIN "]}}",
		 "labels exempt by policy"},
		{"Pod", "UPDATE", "shop",
		 "{\"metadata\":{\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},"
		 "\"spec\":{\"containers\":[" CTR_NET_ADMIN "]}}",
		 "being deleted"},
	};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		engine_decision d;
		cg_error err = {0};
		assert_int_equal(decide(p, k[i].kind, k[i].op, k[i].ns, k[i].obj ? k[i].obj : pod,
					NULL, &d, &err),
				 0);
		if (d.skipped == NULL || strcmp(d.skipped, k[i].why) != 0)
			fail_msg("case %zu: skipped \"%s\", want \"%s\"", i,
				 d.skipped ? d.skipped : "(null)", k[i].why);
		assert_true(d.allowed);
		assert_null(d.patch);
		assert_int_equal(json_array_size(d.warnings), 0);
		engine_decision_clear(&d);
	}
	/* Exempt containers (by name, by image glob) are not judged; the
	 * others in the same pod are. */
	engine_decision d;
	cg_error err = {0};
	assert_int_equal(
		decide(p, "Pod", "CREATE", "shop",
		       "{\"spec\":{\"containers\":[{\"name\":\"istio-proxy\",\"securityContext\":{"
		       "\"capabilities\":{\"add\":[\"NET_ADMIN\"]}}},{\"name\":\"csi\",\"image\":"
		       "\"registry.example.com/csi/driver:1\",\"securityContext\":{\"privileged\":"
		       "true}}," CTR_NET_ADMIN "]}}",
		       NULL, &d, &err),
		0);
	assert_int_equal(json_array_size(d.patch), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(d.patch, 0), "path")),
			    "/spec/containers/2/securityContext/capabilities");
	engine_decision_clear(&d);
	policy_free(p);
}

/* The first rule whose match fits decides, and the audit names it. */
static void test_rule_chosen(void **state)
{
	(void)state;
	cg_policy *p = load(rules_yaml);
	const char *pod = "{\"spec\":{\"containers\":[" CTR_NET_ADMIN "]}}";
	engine_decision d;
	cg_error err = {0};
	/* netops allows NET_ADMIN: the container keeps it, drop ALL is added. */
	assert_int_equal(decide(p, "Pod", "CREATE", "netops", pod, NULL, &d, &err), 0);
	assert_json(d.patch,
		    "[{\"op\":\"add\",\"path\":\"/spec/containers/0/securityContext/"
		    "capabilities\",\"value\":{\"add\":[\"NET_ADMIN\"],\"drop\":[\"ALL\"]}}]");
	assert_string_equal(json_string_value(json_object_get(d.audit, "policy")), "netops");
	engine_decision_clear(&d);
	/* The namespace from the object when the request has none. */
	assert_int_equal(decide(p, "Pod", "CREATE", "",
				"{\"metadata\":{\"namespace\":\"netops\"},\"spec\":{\"containers\":"
				"[" CTR_NET_ADMIN "]}}",
				NULL, &d, &err),
			 0);
	assert_string_equal(json_string_value(json_object_get(d.audit, "policy")), "netops");
	engine_decision_clear(&d);
	assert_int_equal(decide(p, "Pod", "CREATE", "shop", pod, NULL, &d, &err), 0);
	assert_string_equal(json_string_value(json_object_get(d.audit, "policy")), "spec");
	engine_decision_clear(&d);
	policy_free(p);
}

/* On UPDATE a Pod's containers are immutable: judged, warned, not
 * patched nor denied. A workload whose template is unchanged is not
 * denied; one whose template changes is. */
static void test_update_limits(void **state)
{
	(void)state;
	cg_policy *p = load("apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: "
			    "t}\nspec:\n  onDisallowed: deny\n  nonRoot: {strategy: none}\n");
	const char *pod = "{\"spec\":{\"containers\":[" CTR_NET_ADMIN "]}}";
	engine_decision d;
	cg_error err = {0};
	assert_int_equal(decide(p, "Pod", "CREATE", "shop", pod, NULL, &d, &err), 0);
	assert_false(d.allowed);
	assert_int_equal(d.status_code, 403);
	assert_string_equal(d.message, "capgate: container \"app\" adds NET_ADMIN (not in "
				       "allowedCapabilities)");
	engine_decision_clear(&d);
	assert_int_equal(decide(p, "Pod", "UPDATE", "shop", pod, pod, &d, &err), 0);
	assert_true(d.allowed);
	assert_null(d.patch);
	assert_string_equal(d.unpatched, "a Pod's containers are immutable");
	assert_json(d.warnings, "[\"not denied (a Pod's containers are immutable): container "
				"\\\"app\\\" adds NET_ADMIN (not in allowedCapabilities)\"]");
	engine_decision_clear(&d);
	const char *dep =
		"{\"spec\":{\"template\":{\"spec\":{\"containers\":[" CTR_NET_ADMIN "]}}}}";
	const char *dep_old = "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
			      "\"app\"}]}}}}";
	assert_int_equal(decide(p, "Deployment", "UPDATE", "shop", dep, dep, &d, &err), 0);
	assert_true(d.allowed);
	assert_string_equal(d.unpatched, "the update leaves its pod template as it was");
	assert_non_null(strstr(json_string_value(json_array_get(d.warnings, 0)),
			       "not denied (the update leaves its pod template as it was)"));
	engine_decision_clear(&d);
	assert_int_equal(decide(p, "Deployment", "UPDATE", "shop", dep, dep_old, &d, &err), 0);
	assert_false(d.allowed);
	engine_decision_clear(&d);
	/* A controller's copy of a template is never patched. */
	assert_int_equal(
		decide(p, "ReplicaSet", "CREATE", "shop",
		       "{\"metadata\":{\"ownerReferences\":[{\"controller\":true}]},\"spec\":"
		       "{\"template\":{\"spec\":{\"containers\":[" CTR_NET_ADMIN "]}}}}",
		       NULL, &d, &err),
		0);
	assert_true(d.allowed);
	assert_string_equal(d.unpatched, "its controller owns the template");
	engine_decision_clear(&d);
	policy_free(p);
}

/* An object of the wrong shape cannot be judged: a negative return, the
 * field named, the decision cleared. */
static void test_wrong_shape_named(void **state)
{
	(void)state;
	cg_policy *p = load(rules_yaml);
	static const struct {
		const char *kind, *obj, *msg;
	} k[] = {
		{"Pod", "[]", "the object is not a JSON object"},
		{"Pod", "{\"spec\":5}", "Pod.spec is not an object"},
		{"Pod", "{\"spec\":{\"containers\":{}}}", "Pod.spec.containers is not a list"},
		{"Pod", "{\"spec\":{\"containers\":[5]}}",
		 "Pod.spec.containers[0] is not an object"},
		{"Deployment", "{\"spec\":{\"template\":[]}}",
		 "Deployment.spec.template is not an object"},
		{"Pod", "{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"securityContext\":7}]}}",
		 "Pod.spec.initContainers[0]: securityContext is not an object"},
		{"Pod",
		 "{\"spec\":{\"containers\":[{\"name\":\"a\",\"securityContext\":{\"capabilities\":"
		 "{\"add\":[1]}}}]}}",
		 "Pod.spec.containers[0]: capabilities.add[0] is not a string"},
	};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		engine_decision d;
		cg_error err = {0};
		assert_true(decide(p, k[i].kind, "CREATE", "shop", k[i].obj, NULL, &d, &err) < 0);
		assert_string_equal(err.msg, k[i].msg);
		assert_null(d.patch);
		assert_null(d.warnings);
		assert_null(d.skipped);
	}
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_to_template),  cmocka_unit_test(test_left_alone),
		cmocka_unit_test(test_rule_chosen),	  cmocka_unit_test(test_update_limits),
		cmocka_unit_test(test_wrong_shape_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
