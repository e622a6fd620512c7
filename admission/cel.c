/* The engine's capability decision, written in CEL (see cel.h for what is
 * encoded and the subset of CEL used).
 *
 * Every expression tolerates members that are absent or null ("has(x.f) &&
 * x.f != null"), which is how kube-apiserver hands objects to CEL (optional
 * fields that are unset are absent) and reads the same in any evaluator.
 * Per-container state is built in stages (one variable each) because CEL
 * has no local bindings that both kube-apiserver 1.30 and other evaluators
 * know; each stage copies the members the later ones read.
 */
#include "admission/cel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/cel_containers.h"
#include "admission/cel_expr.h"
#include "admission/cel_scc.h"
#include "common/cleanup.h"

#define MIRROR_ANNOTATION "kubernetes.io/config.mirror"

/* Where each kind keeps its pod template (policy/engine.c, kinds[]). */
static const struct {
	const char *kind;
	const char *path[4];
	size_t n;
	const char *spec_path; /* JSON Pointer of the pod spec */
} kinds[] = {
	{"PodTemplate", {"template"}, 1, "/template/spec"},
	{"CronJob",
	 {"spec", "jobTemplate", "spec", "template"},
	 4,
	 "/spec/jobTemplate/spec/template/spec"},
	{"Deployment", {"spec", "template"}, 2, "/spec/template/spec"},
	{"ReplicaSet", {"spec", "template"}, 2, "/spec/template/spec"},
	{"StatefulSet", {"spec", "template"}, 2, "/spec/template/spec"},
	{"DaemonSet", {"spec", "template"}, 2, "/spec/template/spec"},
	{"Job", {"spec", "template"}, 2, "/spec/template/spec"},
	{"ReplicationController", {"spec", "template"}, 2, "/spec/template/spec"},
};

/* Every pair must be among the labels (a string equal to the value). */
static void labels_match(cel_expr *e, const policy_labels *want)
{
	if (want->n == 0) {
		cel_put(e, "true");
		return;
	}
	for (size_t i = 0; i < want->n; i++) {
		cel_put(e, i ? " && " : "(");
		cel_quote(e, want->v[i].key);
		cel_put(e, " in variables.labels && variables.labels[");
		cel_quote(e, want->v[i].key);
		cel_put(e, "] == ");
		cel_quote(e, want->v[i].value);
	}
	cel_put(e, ")");
}

/* The pod template of root (object or oldObject): a Pod is its own. */
static void template_of(cel_expr *e, const char *root)
{
	cel_putf(e, "variables.kind == \"Pod\" ? %s :\n", root);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		cel_putf(e, "variables.kind == \"%s\" ? ", kinds[k].kind);
		cel_member(e, root, kinds[k].path, kinds[k].n);
		cel_put(e, " :\n");
	}
	cel_put(e, "null");
}

static int scope_vars(json_t *v, const cg_policy *p, cg_error *err)
{
	cel_expr e = {0};
	cel_put(&e, "request.kind.kind");
	if (cel_add_var(v, "kind", &e, err) < 0)
		return -1;
	cel_put(&e, "has(request.subResource) ? request.subResource : \"\"");
	if (cel_add_var(v, "subResource", &e, err) < 0)
		return -1;
	cel_put(&e, "request.operation == \"UPDATE\"");
	if (cel_add_var(v, "update", &e, err) < 0)
		return -1;
	cel_put(&e, "has(object.metadata) && object.metadata != null ? object.metadata : {}");
	if (cel_add_var(v, "objectMeta", &e, err) < 0)
		return -1;
	/* The engine takes the request's namespace, else the object's. */
	cel_put(&e,
		"has(request.namespace) && request.namespace != \"\" ? request.namespace :\n"
		"has(variables.objectMeta.namespace) && variables.objectMeta.namespace != null ?\n"
		"  variables.objectMeta.namespace : \"\"");
	if (cel_add_var(v, "namespace", &e, err) < 0)
		return -1;
	template_of(&e, "object");
	if (cel_add_var(v, "template", &e, err) < 0)
		return -1;
	cel_put(&e, "oldObject == null ? null :\n");
	template_of(&e, "oldObject");
	if (cel_add_var(v, "oldTemplate", &e, err) < 0)
		return -1;
	cel_put(&e, "variables.kind == \"Pod\" ? \"/spec\" :\n");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		cel_putf(&e, "variables.kind == \"%s\" ? \"%s\" :\n", kinds[k].kind,
			 kinds[k].spec_path);
	cel_put(&e, "\"\"");
	if (cel_add_var(v, "specPath", &e, err) < 0)
		return -1;
	cel_put(&e, "variables.template == null ? null : ");
	cel_member(&e, "variables.template", (const char *const[]){"spec"}, 1);
	if (cel_add_var(v, "podSpec", &e, err) < 0)
		return -1;
	cel_put(&e, "variables.template != null && has(variables.template.metadata) &&\n"
		    "variables.template.metadata != null ? variables.template.metadata : {}");
	if (cel_add_var(v, "metadata", &e, err) < 0)
		return -1;
	cel_put(&e, "has(variables.metadata.labels) && variables.metadata.labels != null ?\n"
		    "variables.metadata.labels : {}");
	if (cel_add_var(v, "labels", &e, err) < 0)
		return -1;
	cel_put(&e, "has(variables.metadata.annotations) && variables.metadata.annotations != null "
		    "?\nvariables.metadata.annotations : {}");
	if (cel_add_var(v, "annotations", &e, err) < 0)
		return -1;
	/* Left alone, as the engine leaves them before judging anything (an
	 * UPDATE of an object being deleted: cel_not_deleting()). */
	cel_put(&e, "variables.namespace in ");
	cel_strlist(&e, &p->exemptions.namespaces);
	cel_put(&e, " ||\n(variables.kind == \"Pod\" && \"" MIRROR_ANNOTATION
		    "\" in variables.annotations) ||\n"
		    "variables.podSpec == null ||\n"
		    "(has(variables.podSpec.os) && variables.podSpec.os != null &&\n"
		    "  has(variables.podSpec.os.name) && variables.podSpec.os.name == \"windows\") "
		    "||\n");
	if (p->exemptions.labels.n > 0)
		labels_match(&e, &p->exemptions.labels);
	else
		cel_put(&e, "false");
	if (cel_add_var(v, "skip", &e, err) < 0)
		return -1;
	/* What the operation allows (engine.c, operation_limits): the
	 * apiserver holds a Pod's containers and a Job's template immutable,
	 * and a controller compares its own template with what is stored. */
	cel_put(&e,
		"variables.update && variables.kind == \"Pod\" &&\n"
		"  variables.subResource != \"ephemeralcontainers\" ? \"a Pod's containers are "
		"immutable\" :\n"
		"variables.update && variables.kind == \"Job\" ? \"a Job's template is immutable\" "
		":\n"
		"variables.kind != \"Pod\" && has(variables.objectMeta.ownerReferences) &&\n"
		"  variables.objectMeta.ownerReferences != null &&\n"
		"  variables.objectMeta.ownerReferences.exists(o, has(o.controller) && "
		"o.controller "
		"== true) ?\n"
		"  \"its controller owns the template\" : \"\"");
	if (cel_add_var(v, "unpatchable", &e, err) < 0)
		return -1;
	/* Denying a violation the object already had would block every
	 * label change and finalizer removal; an update of the template makes
	 * new pods, and is denied. */
	cel_put(&e,
		"variables.unpatchable != \"\" ? variables.unpatchable :\n"
		"variables.update && variables.subResource != \"ephemeralcontainers\" &&\n"
		"  variables.oldTemplate != null && variables.oldTemplate == variables.template "
		"?\n"
		"  \"the update leaves its pod template as it was\" : \"\"");
	if (cel_add_var(v, "noDeny", &e, err) < 0)
		return -1;
	/* Rules: the first whose namespaces and labels match. */
	for (size_t i = 0; i < p->n_rules; i++) {
		const policy_rule *r = &p->rules[i];
		cel_put(&e, "(");
		if (r->namespaces.n > 0) {
			cel_put(&e, "variables.namespace in ");
			cel_strlist(&e, &r->namespaces);
		} else {
			cel_put(&e, "true");
		}
		cel_put(&e, " && ");
		labels_match(&e, &r->labels);
		cel_putf(&e, ") ? %zu :\n", i);
	}
	cel_put(&e, "-1");
	return cel_add_var(v, "rule", &e, err);
}

/* A per-spec value: the spec's, or the first matching rule's. */
typedef void (*spec_value)(cel_expr *e, const policy_spec *s);

static void per_spec(cel_expr *e, const cg_policy *p, spec_value f)
{
	if (p->n_rules == 0) {
		f(e, &p->spec);
		return;
	}
	cel_put(e, "[");
	f(e, &p->spec);
	for (size_t i = 0; i < p->n_rules; i++) {
		cel_put(e, ", ");
		f(e, &p->rules[i].spec);
	}
	cel_put(e, "][variables.rule + 1]");
}

static void v_mode(cel_expr *e, const policy_spec *s)
{
	static const char *const names[] = {"\"enforce\"", "\"warn\"", "\"audit\""};
	cel_put(e, names[s->mode]);
}
static void v_deny(cel_expr *e, const policy_spec *s)
{
	cel_put(e, s->on_disallowed == POLICY_DENY ? "true" : "false");
}
static void v_priv(cel_expr *e, const policy_spec *s)
{
	cel_put(e, s->allow_privileged ? "true" : "false");
}
static void v_drop(cel_expr *e, const policy_spec *s)
{
	cel_capslist(e, s->required_drop);
}
static void v_allowed(cel_expr *e, const policy_spec *s)
{
	cel_capslist(e, s->allowed);
}
static void v_default(cel_expr *e, const policy_spec *s)
{
	cel_capslist(e, s->default_add);
}

static int spec_vars(json_t *v, const cg_policy *p, cg_error *err)
{
	static const struct {
		const char *name;
		spec_value f;
	} specs[] = {{"mode", v_mode},
		     {"denyDisallowed", v_deny},
		     {"allowPrivileged", v_priv},
		     {"requiredDrop", v_drop},
		     {"specAllowed", v_allowed},
		     {"specDefaultAdd", v_default}};
	cel_expr e = {0};
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		per_spec(&e, p, specs[i].f);
		if (cel_add_var(v, specs[i].name, &e, err) < 0)
			return -1;
	}
	if (cel_scc_vars(v, p, err) < 0)
		return -1;
	cel_capslist(&e, CAPS_KNOWN_MASK | CAPS_BIT(CAPS_ALL));
	return cel_add_var(v, "capabilityNames", &e, err);
}

/* `container "app"` as the webhook labels a record r in messages. The
 * name as it is: a ValidatingAdmissionPolicy runs after the apiserver
 * validated the object, and container names are DNS labels by then. */
static void label(cel_expr *e)
{
	cel_put(e, "(r.list == \"containers\" ? \"container\" : r.list == \"initContainers\" ?\n"
		   "    \"initContainer\" : \"ephemeralContainer\") + \" \\\"\" +\n"
		   "    (r.name != null ? r.name : \"?\") + \"\\\"\"");
}

/* The webhook's denial parts for record r, label l: a list of strings. */
static void deny_parts(cel_expr *e)
{
	cel_put(e, "(size(r.disallowed) > 0 || size(r.unknownAdd) > 0 ?\n"
		   "    [string(l + \" adds \" + (variables.capabilityNames.filter(x, x in "
		   "r.disallowed) +\n"
		   "      r.unknownAdd.map(n, \"\\\"\" + ");
	cel_printable(e, "n", 40, true);
	cel_put(e,
		" + \"\\\"\")).join(\", \") +\n"
		"      \" (not in allowedCapabilities)\")] : []) +\n"
		"  (r.badPrivileged ? [string(l + \" is privileged (allowPrivileged is false)\")] "
		": [])");
}

static int decision_vars(json_t *v, cg_error *err)
{
	cel_expr e = {0};
	cel_put(&e, "variables.denyDisallowed && variables.verdicts.exists(r,\n"
		    "  size(r.disallowed) > 0 || size(r.unknownAdd) > 0 || r.badPrivileged)");
	if (cel_add_var(v, "denied", &e, err) < 0)
		return -1;
	cel_put(&e, "variables.verdicts.exists(r, !r.compliant || r.badPrivileged)");
	if (cel_add_var(v, "changes", &e, err) < 0)
		return -1;
	/* engine.c, finish(): warn and audit modes never patch or deny; in
	 * enforce, what the operation forbids is warned about instead. */
	cel_put(&e, "variables.skip || !(variables.denied || variables.changes) ? \"\" :\n"
		    "variables.mode != \"enforce\" ? variables.mode :\n"
		    "(variables.denied ? variables.noDeny : variables.unpatchable) == \"\" ? "
		    "\"enforce\" : \"warn\"");
	if (cel_add_var(v, "action", &e, err) < 0)
		return -1;
	/* The denial as the webhook words it: container by container, in the
	 * order init, regular, ephemeral. */
	cel_put(&e, "variables.verdicts.filter(r, size(r.disallowed) > 0 || size(r.unknownAdd) > 0 "
		    "||\n    r.badPrivileged).map(r, [");
	label(&e);
	cel_put(&e, "].map(l,\n  (");
	deny_parts(&e);
	cel_put(&e, ").join(\"; \"))[0]).join(\"; \")");
	if (cel_add_var(v, "denyText", &e, err) < 0)
		return -1;
	/* What the webhook would change, container by container. */
	cel_put(&e, "variables.verdicts.filter(r, !r.compliant || r.badPrivileged).map(r, [");
	label(&e);
	cel_put(&e, "].map(l,\n  (");
	deny_parts(&e);
	cel_put(&e,
		" +\n  (r.compliant ? [] : [string(l + \" must have capabilities \" +\n"
		"    (size(r.keep) > 0 ? \"add [\" +\n"
		"      variables.capabilityNames.filter(x, x in r.keep).join(\", \") + \"], \" : "
		"\"\") +\n"
		"    \"drop [\" + variables.capabilityNames.filter(x, x in r.mustDrop).join(\", "
		"\") + \"]\")])\n"
		"  ).join(\"; \"))[0]).join(\"; \")");
	if (cel_add_var(v, "changeText", &e, err) < 0)
		return -1;
	cel_put(&e,
		"(variables.mode != \"enforce\" ?\n"
		"  (variables.denied ? \"would deny: \" : \"would change: \") :\n"
		"variables.denied ?\n"
		"  (variables.noDeny == \"\" ? \"\" : \"not denied (\" + variables.noDeny + \"): "
		"\") :\n"
		"  (variables.unpatchable == \"\" ? \"\" :\n"
		"    \"not patched (\" + variables.unpatchable + \"): \")) +\n"
		"(variables.denied ? variables.denyText : variables.changeText)");
	return cel_add_var(v, "message", &e, err);
}

int cel_variables(const cg_policy *p, json_t **out, cg_error *err)
{
	cleanup_json json_t *v = json_array();
	if (v == NULL)
		return cg_error_set(err, ENOMEM, "out of memory");
	if (scope_vars(v, p, err) < 0 || spec_vars(v, p, err) < 0 ||
	    cel_container_vars(v, p, err) < 0 || decision_vars(v, err) < 0)
		return -1;
	*out = cg_steal(v);
	return 0;
}

char *cel_not_deleting(void)
{
	cel_expr e = {0};
	cel_put(&e, "!(request.operation == \"UPDATE\" && has(object.metadata) &&\n"
		    "  object.metadata != null && has(object.metadata.deletionTimestamp) &&\n"
		    "  object.metadata.deletionTimestamp != null)");
	return cel_take(&e);
}

char *cel_validation(const char *action)
{
	cel_expr e = {0};
	cel_putf(&e, "variables.action != \"%s\"", action);
	return cel_take(&e);
}

char *cel_message(void)
{
	cel_expr e = {0};
	cel_put(&e, "\"capgate: \" + variables.message");
	return cel_take(&e);
}

char *cel_audit_value(const char *action)
{
	cel_expr e = {0};
	cel_putf(&e, "variables.action != \"%s\" ? null :\n", action);
	cel_put(&e, "dyn(\"capgate: \" + variables.message)");
	return cel_take(&e);
}

/* Per-field operations: capabilities are rewritten member by member (drop,
 * then add or its removal), never replaced as a whole; a missing
 * securityContext or capabilities is added with what it must hold. */
#define CTR_PATH    "variables.specPath + \"/\" + r.list + \"/\" + string(r.index) + "
#define KEEP_SORTED "variables.capabilityNames.filter(x, x in r.keep)"
#define DROP_SORTED "variables.capabilityNames.filter(x, x in r.mustDrop)"
#define CAPS_VALUE                                                                                 \
	"(size(r.keep) > 0 ?\n      {\"add\": " KEEP_SORTED ", \"drop\": " DROP_SORTED "} :\n"     \
	"      {\"drop\": " DROP_SORTED "})"

char *cel_json_patch(void)
{
	cel_expr e = {0};
	cel_put(&e,
		"variables.action != \"enforce\" || variables.denied ? [] :\n"
		"variables.verdicts.filter(r, !r.compliant && !r.hasSecurityContext).map(r,\n"
		"  JSONPatch{op: \"add\", path: " CTR_PATH "\"/securityContext\",\n"
		"    value: {\"capabilities\": " CAPS_VALUE "}}) +\n"
		"variables.verdicts.filter(r, !r.compliant && r.hasSecurityContext &&\n"
		"    !r.hasCapabilities).map(r,\n"
		"  JSONPatch{op: \"add\", path: " CTR_PATH "\"/securityContext/capabilities\",\n"
		"    value: " CAPS_VALUE "}) +\n"
		"variables.verdicts.filter(r, !r.compliant && r.hasCapabilities).map(r,\n"
		"  JSONPatch{op: \"add\", path: " CTR_PATH
		"\"/securityContext/capabilities/drop\",\n"
		"    value: " DROP_SORTED "}) +\n"
		"variables.verdicts.filter(r, !r.compliant && r.hasCapabilities &&\n"
		"    size(r.keep) > 0).map(r,\n"
		"  JSONPatch{op: \"add\", path: " CTR_PATH
		"\"/securityContext/capabilities/add\",\n"
		"    value: " KEEP_SORTED "}) +\n"
		"variables.verdicts.filter(r, !r.compliant && r.hasCapabilities &&\n"
		"    size(r.keep) == 0 && r.hasAdd).map(r,\n"
		"  JSONPatch{op: \"remove\", path: " CTR_PATH
		"\"/securityContext/capabilities/add\"}) "
		"+\n"
		"variables.verdicts.filter(r, r.badPrivileged).map(r,\n"
		"  JSONPatch{op: \"add\", path: " CTR_PATH "\"/securityContext/privileged\",\n"
		"    value: false})");
	return cel_take(&e);
}
