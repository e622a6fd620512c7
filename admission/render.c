/* The Kubernetes objects around the CEL of admission/cel.c.
 *
 * Facts from the admissionregistration API they rely on:
 *  - matchConstraints.resourceRules select the same requests as the
 *    webhook's rules (manifests/base/mutatingwebhook.yaml): CREATE and
 *    UPDATE of pods and every workload with a pod template, and UPDATE of
 *    pods/ephemeralcontainers; matchPolicy Equivalent also catches other
 *    versions of those resources.
 *  - matchConditions run before variables exist (they may not use them):
 *    the one condition there leaves an UPDATE of an object being deleted
 *    alone, as the webhook does.
 *  - validationActions belong to a binding, not to a validation: one
 *    ValidatingAdmissionPolicy and binding per outcome the policy can
 *    have (cel.h, `action`): enforce (Deny) and warn (Warn) for rules in
 *    enforce mode, which warn where the operation forbids a patch or a
 *    denial; warn for warn mode; audit (Audit) for audit mode.
 *  - failurePolicy covers what the webhook's onError covers: an expression
 *    that fails (cost limit, unexpected type) denies with Fail.
 *  - MutatingAdmissionPolicy cannot deny; what the webhook would deny is
 *    left as it is for the ValidatingAdmissionPolicy to deny.
 */
#include "admission/render.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/cel.h"
#include "common/buf.h"
#include "common/cleanup.h"
#include "policy/engine.h"

#define API_GROUP "admissionregistration.k8s.io"

static const char *const mode_names[] = {"enforce", "warn", "audit"};
static const char *const mode_actions[] = {"Deny", "Warn", "Audit"};

static json_t *jstr(char *s)
{
	json_t *j = s ? json_string(s) : NULL;
	free(s);
	return j;
}

/* Finalizers being removed: nothing the object runs can change any more. */
static json_t *match_conditions(void)
{
	return json_pack("[{s:s, s:o}]", "name", "capgate-not-being-deleted", "expression",
			 jstr(cel_not_deleting()));
}

static json_t *metadata(const char *name, const cg_policy *p, json_t *notes)
{
	json_t *m = json_pack("{s:s, s:{s:s, s:s}, s:{s:s}}", "name", name, "labels",
			      "app.kubernetes.io/name", "capgate", "app.kubernetes.io/component",
			      "admission-policy", "annotations", "capgate.dev/policy", p->name);
	if (m == NULL || json_array_size(notes) == 0)
		return m;
	cg_buf b = {0};
	size_t i;
	json_t *n;
	int rc = 0;
	json_array_foreach(notes, i, n) rc |=
		buf_puts(&b, i ? " " : "") | buf_puts(&b, json_string_value(n));
	json_t *a = json_object_get(m, "annotations");
	if (rc < 0 || json_object_set_new(a, "capgate.dev/not-rendered", json_string(b.data)) < 0) {
		json_decref(m);
		m = NULL;
	}
	buf_free(&b);
	return m;
}

static json_t *vap(const cg_policy *p, const char *name, int action, json_t *vars, json_t *notes)
{
	const char *m = mode_names[action];
	json_t *spec =
		json_pack("{s:s, s:{s:s, s:o}, s:o, s:O, s:[{s:o, s:o, s:s, s:s}], s:[{s:s, s:o}]}",
			  "failurePolicy", p->on_error == POLICY_ERROR_ALLOW ? "Ignore" : "Fail",
			  "matchConstraints", "matchPolicy", "Equivalent", "resourceRules",
			  engine_resource_rules(), "matchConditions", match_conditions(),
			  "variables", vars, "validations", "expression", jstr(cel_validation(m)),
			  "messageExpression", jstr(cel_message()), "message",
			  "capgate: capabilities are not as the capability policy requires",
			  "reason", "Forbidden", "auditAnnotations", "key", "capgate-violations",
			  "valueExpression", jstr(cel_audit_value(m)));
	return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", API_GROUP "/v1", "kind",
			 "ValidatingAdmissionPolicy", "metadata", metadata(name, p, notes), "spec",
			 spec);
}

static json_t *vap_binding(const cg_policy *p, const char *name, int action)
{
	return json_pack("{s:s, s:s, s:o, s:{s:s, s:[s]}}", "apiVersion", API_GROUP "/v1", "kind",
			 "ValidatingAdmissionPolicyBinding", "metadata", metadata(name, p, NULL),
			 "spec", "policyName", name, "validationActions", mode_actions[action]);
}

static json_t *map(const cg_policy *p, const char *api, const char *name, json_t *vars,
		   json_t *notes)
{
	/* IfNeeded, as the webhook: other mutations (SCC admission, other
	 * policies) may add containers after this one ran. */
	json_t *spec =
		json_pack("{s:s, s:{s:s, s:o}, s:o, s:O, s:[{s:s, s:{s:o}}], s:s}", "failurePolicy",
			  p->on_error == POLICY_ERROR_ALLOW ? "Ignore" : "Fail", "matchConstraints",
			  "matchPolicy", "Equivalent", "resourceRules", engine_resource_rules(),
			  "matchConditions", match_conditions(), "variables", vars, "mutations",
			  "patchType", "JSONPatch", "jsonPatch", "expression",
			  jstr(cel_json_patch()), "reinvocationPolicy", "IfNeeded");
	return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", api, "kind",
			 "MutatingAdmissionPolicy", "metadata", metadata(name, p, notes), "spec",
			 spec);
}

static json_t *map_binding(const cg_policy *p, const char *api, const char *name)
{
	return json_pack("{s:s, s:s, s:o, s:{s:s}}", "apiVersion", api, "kind",
			 "MutatingAdmissionPolicyBinding", "metadata", metadata(name, p, NULL),
			 "spec", "policyName", name);
}

static int note(json_t *notes, const char *s)
{
	return json_array_append_new(notes, json_string(s));
}

/* What the webhook does under this policy that the objects do not. */
static int collect_notes(const cg_policy *p, const admission_opts *o, json_t *notes)
{
	bool nonroot = p->spec.nonroot_strategy != POLICY_NONROOT_NONE, ambient = false;
	bool passive = p->spec.mode != POLICY_ENFORCE;
	for (size_t i = 0; i < p->n_rules; i++) {
		nonroot |= p->rules[i].spec.nonroot_strategy != POLICY_NONROOT_NONE;
		passive |= p->rules[i].spec.mode != POLICY_ENFORCE;
	}
	ambient = p->spec.nonroot_strategy == POLICY_NONROOT_AMBIENT;
	for (size_t i = 0; i < p->n_rules; i++)
		ambient |= p->rules[i].spec.nonroot_strategy == POLICY_NONROOT_AMBIENT;
	int rc = 0;
	if (nonroot)
		rc |= note(notes,
			   "Not rendered: nonRoot.strategy (safe sysctls, the capgate-ambient "
			   "wrapper with its volume and installer, and the installer's --caps "
			   "and named drops, which the webhook brings up to date when it wraps "
			   "a container; what the pod's SCC admits of them; "
			   "nonRoot.runtimeDefaults; the capgate.dev/applied annotation). These "
			   "policies judge capabilities as under strategy none: a non-root "
			   "container keeps an allowed capability it asked for in add, where "
			   "the webhook would also set a sysctl or wrap the command so that it "
			   "works.");
	if (ambient)
		rc |= note(notes,
			   "Not rendered: under strategy ambient the webhook denies a non-root "
			   "container it cannot wrap (its SCC, no wrapper image, the wrapper's "
			   "volume or installer name held by the pod, a writable mount of that "
			   "volume, a conflicting mount of its own); these policies do not.");
	if (o->mutating && passive)
		rc |= note(notes, "Under mode warn or audit the MutatingAdmissionPolicy changes "
				  "nothing, as the webhook patches nothing then.");
	if (o->mutating && o->minor < ADMISSION_GA_MINOR_MAP)
		rc |= note(notes,
			   "MutatingAdmissionPolicy is beta (v1beta1) before 1.36: "
			   "kube-apiserver needs --feature-gates=MutatingAdmissionPolicy=true "
			   "and --runtime-config=admissionregistration.k8s.io/v1beta1=true.");
	return rc < 0 ? -ENOMEM : 0;
}

int admission_render(const cg_policy *p, const admission_opts *o, json_t **objects, json_t **notes,
		     cg_error *err)
{
	const char *src = o->source ? o->source : "<policy>";
	if (o->minor < ADMISSION_MIN_MINOR_VAP)
		return cg_error_set(err, EINVAL,
				    "--kubernetes-version 1.%d: ValidatingAdmissionPolicy (%s/v1) "
				    "needs Kubernetes 1.%d or later",
				    o->minor, API_GROUP, ADMISSION_MIN_MINOR_VAP);
	if (o->mutating && o->minor < ADMISSION_MIN_MINOR_MAP)
		return cg_error_set(err, EINVAL,
				    "--mutating: MutatingAdmissionPolicy needs Kubernetes 1.%d "
				    "(v1beta1, feature gate) or 1.%d (v1); --kubernetes-version is "
				    "1.%d (1.32 and 1.33 have only the alpha v1alpha1)",
				    ADMISSION_MIN_MINOR_MAP, ADMISSION_GA_MINOR_MAP, o->minor);
	cleanup_json json_t *objs = json_array();
	cleanup_json json_t *ns = json_array();
	cleanup_json json_t *vars = NULL;
	if (objs == NULL || ns == NULL || collect_notes(p, o, ns) < 0)
		return cg_error_set(err, ENOMEM, "out of memory");
	if (cel_variables(p, &vars, err) < 0)
		return cg_error_prefix(err, "%s", src);
	/* One ValidatingAdmissionPolicy per outcome in use (see above). */
	bool used[3] = {false, false, false};
	used[p->spec.mode] = true;
	for (size_t i = 0; i < p->n_rules; i++)
		used[p->rules[i].spec.mode] = true;
	used[POLICY_WARN] |= used[POLICY_ENFORCE];
	int n_used = used[0] + used[1] + used[2];
	for (int m = 0; m < 3; m++) {
		if (!used[m])
			continue;
		char name[300];
		if (n_used > 1)
			snprintf(name, sizeof(name), "%s-%s", o->name, mode_names[m]);
		else
			snprintf(name, sizeof(name), "%s", o->name);
		if (json_array_append_new(objs, vap(p, name, m, vars, ns)) < 0 ||
		    json_array_append_new(objs, vap_binding(p, name, m)) < 0)
			return cg_error_set(err, ENOMEM, "out of memory");
	}
	if (o->mutating) {
		const char *api =
			o->minor >= ADMISSION_GA_MINOR_MAP ? API_GROUP "/v1" : API_GROUP "/v1beta1";
		if (json_array_append_new(objs, map(p, api, o->name, vars, ns)) < 0 ||
		    json_array_append_new(objs, map_binding(p, api, o->name)) < 0)
			return cg_error_set(err, ENOMEM, "out of memory");
	}
	*objects = cg_steal(objs);
	*notes = cg_steal(ns);
	return 0;
}
