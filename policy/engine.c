/* The decision: which pod spec an object carries, which policy spec applies,
 * whether the operation lets capgate patch it, and every container judged
 * (judge.c for its capabilities, nonroot.c for non-root containers).
 *
 * Do no harm (product.md): a mutation keeps running every workload that ran
 * before and whose needs the policy allows, and every patch is one the
 * apiserver accepts for that operation. On UPDATE the apiserver holds a
 * Pod's containers and a Job's template immutable: a patch there would make
 * it reject the user's request (a label, a finalizer removal) even with
 * failurePolicy: Ignore, so such objects are judged and warned about, never
 * patched or denied. Only the ephemeral containers a pods/ephemeralcontainers
 * request adds are judged and changed.
 */
#include "policy/engine.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/container.h"
#include "policy/decision.h"
#include "policy/judge.h"
#include "policy/nonroot.h"
#include "policy/patch.h"
#include "policy/wrapper.h"

/* Where each kind keeps its pod template. */
static const struct {
	const char *kind;
	const char *const path[5]; /* keys from the object to the template */
	size_t n;
} kinds[] = {
	{"Pod", {NULL}, 0},
	{"Deployment", {"spec", "template"}, 2},
	{"ReplicaSet", {"spec", "template"}, 2},
	{"StatefulSet", {"spec", "template"}, 2},
	{"DaemonSet", {"spec", "template"}, 2},
	{"Job", {"spec", "template"}, 2},
	{"ReplicationController", {"spec", "template"}, 2},
	{"PodTemplate", {"template"}, 1},
	{"CronJob", {"spec", "jobTemplate", "spec", "template"}, 4},
};

static const char *const container_lists[] = {"initContainers", "containers",
					      "ephemeralContainers"};

json_t *engine_resource_rules(void)
{
	return json_pack(
		"[{s:[s], s:[s], s:[s,s], s:[s,s,s], s:s}, {s:[s], s:[s], s:[s], s:[s], s:s},"
		" {s:[s], s:[s], s:[s,s], s:[s,s,s,s], s:s},"
		" {s:[s], s:[s], s:[s,s], s:[s,s], s:s}]",
		"apiGroups", "", "apiVersions", "v1", "operations", "CREATE", "UPDATE", "resources",
		"pods", "replicationcontrollers", "podtemplates", "scope", "Namespaced",
		"apiGroups", "", "apiVersions", "v1", "operations", "UPDATE", "resources",
		"pods/ephemeralcontainers", "scope", "Namespaced", "apiGroups", "apps",
		"apiVersions", "v1", "operations", "CREATE", "UPDATE", "resources", "deployments",
		"replicasets", "statefulsets", "daemonsets", "scope", "Namespaced", "apiGroups",
		"batch", "apiVersions", "v1", "operations", "CREATE", "UPDATE", "resources", "jobs",
		"cronjobs", "scope", "Namespaced");
}

void engine_decision_clear(engine_decision *d)
{
	if (d == NULL)
		return;
	free(d->message);
	json_decref(d->patch);
	json_decref(d->warnings);
	json_decref(d->audit);
	json_decref(d->changes);
	memset(d, 0, sizeof(*d));
}

static bool str_in(const policy_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

static bool labels_match(const policy_labels *want, json_t *labels)
{
	for (size_t i = 0; i < want->n; i++) {
		const char *v = json_string_value(json_object_get(labels, want->v[i].key));
		if (v == NULL || strcmp(v, want->v[i].value) != 0)
			return false;
	}
	return true;
}

static const policy_spec *select_spec(const cg_policy *p, const char *ns, json_t *labels,
				      const char **rule)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const policy_rule *r = &p->rules[i];
		if ((r->namespaces.n == 0 || str_in(&r->namespaces, ns)) &&
		    (r->labels.n == 0 || labels_match(&r->labels, labels))) {
			*rule = r->name;
			return &r->spec;
		}
	}
	*rule = NULL;
	return &p->spec;
}

static bool exempt_container(const cg_policy *p, const char *name, const char *image)
{
	if (name && str_in(&p->exemptions.container_names, name))
		return true;
	for (size_t i = 0; image && i < p->exemptions.images.n; i++)
		if (fnmatch(p->exemptions.images.v[i], image, 0) == 0)
			return true;
	return false;
}

/* Whether the old object's ephemeral containers hold one named name. */
static bool old_ephemeral(decision *c, const char *name)
{
	size_t i;
	json_t *o;
	json_t *old_spec = json_object_get(c->old_template, "spec");
	json_array_foreach(json_object_get(old_spec, "ephemeralContainers"), i, o)
	{
		const char *n = json_string_value(json_object_get(o, "name"));
		if (n && name && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

static int judge_one(decision *c, nonroot_state *nr, decision_ctr *ct)
{
	/* capgate's own installer, exactly as it generates it for this pod:
	 * nothing in it is the pod author's to judge (no defaultAdd, no
	 * rewrite), so re-invocation finds it unchanged. */
	if (wrapper_is_installer(&nr->wrap, c, ct) ||
	    exempt_container(c->policy, ct->name, ct->image))
		return 0;
	ct->sc = json_object_get(ct->obj, "securityContext");
	if (ct->sc != NULL && !json_is_null(ct->sc) && !json_is_object(ct->sc))
		return cg_error_set(c->err, EINVAL, "%s: securityContext is not an object",
				    decision_where(c));
	if (json_is_null(ct->sc))
		ct->sc = NULL;
	if (judge_caps(c, ct) < 0)
		return -1;
	if (c->denied)
		return 0; /* still judge the rest, to name them all */
	if ((ct->user = container_user(c, ct)) < 0 || judge_root(c, ct) < 0 ||
	    nonroot_judge(nr, c, ct) < 0)
		return -1;
	return judge_emit(c, ct);
}

static int judge_containers(decision *c, nonroot_state *nr)
{
	bool ephemeral_only = c->ephemeral_only;
	for (size_t l = 0; l < 3; l++) {
		if (ephemeral_only && l != 2)
			continue;
		json_t *list = json_object_get(c->pod_spec, container_lists[l]);
		if (list == NULL || json_is_null(list))
			continue;
		if (!json_is_array(list))
			return cg_error_set(c->err, EINVAL, "%s.%s is not a list", c->spec_label,
					    container_lists[l]);
		patch_path lp;
		if (patch_path_join(&lp, &c->spec_path, container_lists[l], c->err) < 0)
			return -1;
		size_t i;
		json_t *obj;
		json_array_foreach(list, i, obj)
		{
			if (!json_is_object(obj))
				return cg_error_set(c->err, EINVAL, "%s.%s[%zu] is not an object",
						    c->spec_label, container_lists[l], i);
			decision_ctr ct = {.obj = obj, .list = container_lists[l], .index = i};
			ct.name = json_string_value(json_object_get(obj, "name"));
			ct.image = json_string_value(json_object_get(obj, "image"));
			/* The apiserver refuses any change to an ephemeral
			 * container that already exists ("existing ephemeral
			 * containers may not be changed"): only the new ones
			 * are judged. */
			if (ephemeral_only && old_ephemeral(c, ct.name))
				continue;
			c->cur = &ct;
			if (patch_path_index(&ct.path, &lp, i, c->err) < 0)
				return -1;
			if (judge_one(c, nr, &ct) < 0)
				return -1;
		}
	}
	c->cur = NULL;
	return 0;
}

/* Finds the pod spec an object carries. Returns 1 with c->pod_spec set, 0
 * when the object carries none (left alone), negative on a wrong shape. */
static int find_pod_spec(decision *c, const engine_request *r)
{
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		if (strcmp(r->kind, kinds[k].kind) != 0)
			continue;
		json_t *t = r->object;
		snprintf(c->spec_label, sizeof(c->spec_label), "%s", r->kind);
		for (size_t i = 0; i < kinds[k].n; i++) {
			t = json_object_get(t, kinds[k].path[i]);
			if (t == NULL || json_is_null(t))
				return 0;
			if (!json_is_object(t))
				return cg_error_set(c->err, EINVAL, "%s.%s is not an object",
						    c->spec_label, kinds[k].path[i]);
			size_t n = strlen(c->spec_label);
			snprintf(c->spec_label + n, sizeof(c->spec_label) - n, ".%s",
				 kinds[k].path[i]);
			if (patch_path_join(&c->spec_path, &c->spec_path, kinds[k].path[i],
					    c->err) < 0)
				return -1;
		}
		c->template_obj = t; /* the Pod itself, or the template */
		c->template_path = c->spec_path;
		json_t *meta = json_object_get(t, "metadata");
		c->labels = json_object_get(meta, "labels");
		c->annotations = json_object_get(meta, "annotations");
		if (meta != NULL && !json_is_null(meta) && !json_is_object(meta))
			return cg_error_set(c->err, EINVAL, "%s.metadata is not an object",
					    c->spec_label);
		json_t *spec = json_object_get(t, "spec");
		if (spec == NULL || json_is_null(spec))
			return 0;
		if (!json_is_object(spec))
			return cg_error_set(c->err, EINVAL, "%s.spec is not an object",
					    c->spec_label);
		size_t n = strlen(c->spec_label);
		snprintf(c->spec_label + n, sizeof(c->spec_label) - n, ".spec");
		if (patch_path_join(&c->spec_path, &c->spec_path, "spec", c->err) < 0)
			return -1;
		c->pod_spec = spec;
		return 1;
	}
	return 0;
}

static bool is_windows(json_t *spec)
{
	const char *os = json_string_value(json_object_get(json_object_get(spec, "os"), "name"));
	return os != NULL && strcmp(os, "windows") == 0;
}

/* SCC admission (openshift/apiserver-library-go sccadmission/admission.go)
 * mutates before webhooks, recording its choice in openshift.io/scc, and
 * validates after them: Validate tries that SCC first and takes an SCC only
 * if applying its defaults leaves the pod unchanged; openshift.io/required-scc
 * pins the one SCC both phases use. So on OpenShift everything capgate emits
 * must pass the pod's SCC and be a fixed point of its defaults. A workload
 * template carries no admitted SCC: its pods are admitted later, under
 * whichever SCC matches them, unless required-scc pins one. capgate only
 * ever removes capabilities, except for defaultAddCapabilities, which are
 * narrowed to what the SCC allows. Under an SCC capgate does not know it
 * emits nothing that any SCC could reject: no added capability, no sysctl,
 * no root init container, no volume. */
static void narrow_to_scc(decision *c, const char *kind)
{
	bool is_pod = strcmp(kind, "Pod") == 0;
	const char *admitted =
		json_string_value(json_object_get(c->annotations, "openshift.io/scc"));
	const char *required =
		json_string_value(json_object_get(c->annotations, "openshift.io/required-scc"));
	c->scc_name = is_pod && admitted != NULL ? admitted : required;
	c->openshift = c->scc_name != NULL || admitted != NULL || c->policy->openshift;
	if (!c->openshift)
		return;
	c->scc = policy_find_scc(c->policy, c->scc_name);
	c->scc_spec = *c->spec;
	if (c->scc == NULL) {
		c->scc_spec.default_add = 0;
	} else {
		/* capabilities/mustrunas.go Validate: an added capability must
		 * be allowed or a default add, unless "*" is allowed; a named
		 * required drop is dropped whatever add says. */
		if (!(c->scc->allowed & CAPS_BIT(CAPS_ALL)))
			c->scc_spec.allowed &= c->scc->allowed | c->scc->default_add;
		c->scc_spec.allowed &= ~(c->scc->required_drop & CAPS_KNOWN_MASK);
		c->scc_spec.default_add &= c->scc_spec.allowed;
	}
	c->spec = &c->scc_spec;
}

/* The changes as warnings, for a decision that patches nothing (warn mode,
 * or an object capgate may not patch): they say what enforce would do. */
static void warn_changes(decision *c, const char *why)
{
	size_t i;
	json_t *ch;
	json_array_foreach(c->changes, i, ch)
	{
		const char *name = json_string_value(json_object_get(ch, "container"));
		const char *what = json_string_value(json_object_get(ch, "what"));
		char nb[64], who[96];
		snprintf(who, sizeof(who), "%s%s%s", name[0] ? "container \"" : "pod",
			 decision_safe_name(name, nb, sizeof(nb)), name[0] ? "\"" : "");
		if (why != NULL)
			decision_warn(c, "not patched (%s): %s: %s", why, who, what);
		else
			decision_warn(c, "capgate would change %s: %s", who, what);
	}
}

static int finish(decision *c, nonroot_state *nr, engine_decision *d)
{
	enum policy_mode mode = c->spec->mode;
	if (!c->denied && nonroot_finish(nr, c) < 0)
		return -1;
	if (c->oom)
		return decision_oom(c);
	if (c->denied) {
		d->allowed = false;
		d->status_code = 403;
		d->message = strdup(c->deny_msg);
		decision_audit(c, "decision", "denied");
		if (mode == POLICY_ENFORCE && c->no_deny == NULL)
			return d->message ? 0 : decision_oom(c);
		/* warn and audit report what enforce would deny, and allow; so
		 * does enforce for a violation the request does not bring. */
		d->allowed = true;
		d->status_code = 0;
		if (mode == POLICY_WARN)
			decision_warn(c, "would deny: %s", c->deny_msg + strlen("capgate: "));
		else if (mode == POLICY_ENFORCE)
			decision_warn(c, "not denied (%s): %s", c->no_deny,
				      c->deny_msg + strlen("capgate: "));
		free(d->message);
		d->message = NULL;
		if (mode == POLICY_ENFORCE)
			d->unpatched = c->no_deny;
		decision_audit(c, "decision", mode == POLICY_AUDIT ? "audited" : "warned");
		if (mode == POLICY_AUDIT)
			json_array_clear(d->warnings);
		decision_audit(c, "would-deny", c->deny_msg);
		return 0;
	}
	d->allowed = true;
	if (!c->changed)
		return 0;
	if (mode == POLICY_ENFORCE && c->unpatchable == NULL) {
		d->patch = json_incref(c->ops);
		decision_audit(c, "decision", "patched");
		return 0;
	}
	/* warn and audit never patch, nor does anything on an object capgate
	 * may not change: warnings say what enforce would change. */
	json_array_clear(d->warnings);
	if (mode == POLICY_WARN)
		warn_changes(c, NULL);
	else if (mode == POLICY_ENFORCE) {
		warn_changes(c, c->unpatchable);
		d->unpatched = c->unpatchable;
	}
	decision_audit(c, "decision", mode == POLICY_AUDIT ? "audited" : "warned");
	return 0;
}

/* The pod template of obj (of the request's kind; a Pod is its own), or
 * NULL. */
static json_t *template_of(const char *kind, json_t *obj)
{
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		if (strcmp(kind, kinds[k].kind) != 0)
			continue;
		for (size_t i = 0; i < kinds[k].n; i++)
			obj = json_object_get(obj, kinds[k].path[i]);
		return json_is_object(obj) ? obj : NULL;
	}
	return NULL;
}

/* A workload object that a controller made from its own template (a
 * ReplicaSet of a Deployment, a Job of a CronJob...). The Deployment
 * controller finds its current ReplicaSet by comparing templates
 * (EqualIgnoreHash, pkg/controller/deployment/util): one capgate changed
 * never equals the Deployment's, so the controller takes it for an old
 * one, and on AlreadyExists bumps collisionCount and creates ReplicaSets
 * over and over. Operators that compare what they made with what is stored
 * would rewrite it on every pass. The pods such objects create are judged
 * when they are created. */
static bool controller_owned(json_t *meta)
{
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(meta, "ownerReferences"), i, o)
	{
		if (json_is_true(json_object_get(o, "controller")))
			return true;
	}
	return false;
}

/* Sets c->unpatchable and c->no_deny for what the operation allows. */
static void operation_limits(decision *c, const engine_request *r, json_t *meta)
{
	bool update = strcmp(r->operation, "UPDATE") == 0;
	bool ephemeral = strcmp(r->sub_resource, "ephemeralcontainers") == 0;
	if (update && strcmp(r->kind, "Pod") == 0 && !ephemeral)
		/* Only the ephemeralcontainers subresource adds containers
		 * to a live pod; every other field capgate writes is
		 * immutable (ValidatePodUpdate). */
		c->unpatchable = "a Pod's containers are immutable";
	else if (update && strcmp(r->kind, "Job") == 0)
		/* batch validation: ValidateImmutableField(spec.template). */
		c->unpatchable = "a Job's template is immutable";
	else if (strcmp(r->kind, "Pod") != 0 && controller_owned(meta))
		c->unpatchable = "its controller owns the template";
	c->no_deny = c->unpatchable;
	if (c->no_deny == NULL && update && !ephemeral && c->old_template != NULL &&
	    json_equal(c->old_template, c->template_obj))
		/* A label, a finalizer removal, a scale: denying a violation
		 * the object already had would block them all, the garbage
		 * collector's removal of its own finalizer included. An update
		 * of the template (a rollout restart too) makes new pods,
		 * which would be denied one by one: that one is denied. */
		c->no_deny = "the update leaves its pod template as it was";
}

int engine_decide(const cg_policy *p, const engine_request *req, engine_decision *out,
		  cg_error *err)
{
	memset(out, 0, sizeof(*out));
	out->allowed = true;
	out->warnings = json_array();
	out->audit = json_object();
	out->changes = json_array();
	json_t *ops = json_array();
	decision c = {.policy = p,
		      .err = err,
		      .ops = ops,
		      .warnings = out->warnings,
		      .audit = out->audit,
		      .changes = out->changes,
		      .ephemeral_only = strcmp(req->sub_resource, "ephemeralcontainers") == 0,
		      .spec = &p->spec};
	nonroot_state nr;
	nonroot_begin(&nr);
	int rc = 0;
	if (!out->warnings || !out->audit || !out->changes || !ops) {
		rc = cg_error_set(err, ENOMEM, "out of memory");
		goto done;
	}
	bool update = strcmp(req->operation, "UPDATE") == 0;
	if (!update && strcmp(req->operation, "CREATE") != 0) {
		out->skipped = "operation carries nothing to judge";
		goto done; /* DELETE and CONNECT */
	}
	if (!json_is_object(req->object)) {
		rc = cg_error_set(err, EINVAL, "the object is not a JSON object");
		goto done;
	}
	bool is_pod = strcmp(req->kind, "Pod") == 0;
	json_t *meta = json_object_get(req->object, "metadata");
	json_t *deleting = json_object_get(meta, "deletionTimestamp");
	if (update && deleting != NULL && !json_is_null(deleting)) {
		/* Finalizers being removed: nothing the object runs can
		 * change any more. */
		out->skipped = "being deleted";
		goto done;
	}
	const char *ns = req->namespace;
	if (ns == NULL || ns[0] == '\0')
		ns = json_string_value(json_object_get(meta, "namespace"));
	c.namespace = ns ? ns : "";
	if (str_in(&p->exemptions.namespaces, c.namespace)) {
		out->skipped = "namespace exempt by policy";
		goto done;
	}
	if (is_pod && json_object_get(json_object_get(meta, "annotations"),
				      "kubernetes.io/config.mirror") != NULL) {
		/* mirror pods are the kubelet's static pods: read-only here */
		out->skipped = "mirror pod";
		goto done;
	}
	if ((rc = find_pod_spec(&c, req)) <= 0) {
		out->skipped = "carries no pod spec";
		goto done;
	}
	rc = 0;
	if (is_windows(c.pod_spec)) {
		out->skipped = "Windows pod: Linux capabilities do not apply";
		goto done;
	}
	if (p->exemptions.labels.n > 0 && labels_match(&p->exemptions.labels, c.labels)) {
		out->skipped = "labels exempt by policy";
		goto done;
	}
	if (update)
		c.old_template = template_of(req->kind, req->old_object);
	operation_limits(&c, req, meta);
	const char *rule;
	c.spec = select_spec(p, c.namespace, c.labels, &rule);
	c.explain = req->explain || c.spec->mode == POLICY_WARN || c.unpatchable != NULL;
	narrow_to_scc(&c, req->kind);
	if ((rc = judge_containers(&c, &nr)) < 0)
		goto done;
	if ((rc = finish(&c, &nr, out)) < 0)
		goto done;
	if (c.changed || c.denied)
		decision_audit(&c, "policy", rule ? rule : "spec");
done:
	json_decref(ops);
	if (rc < 0) /* clearing resets skipped too */
		engine_decision_clear(out);
	return rc < 0 ? rc : 0;
}
