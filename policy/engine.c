/* The decision: which pod spec an object carries, which policy spec applies,
 * and for every container what its capabilities must become.
 *
 * Semantics (product.md): every container drops ALL (or the required drops)
 * and adds only allowed capabilities; names are normalised before any
 * comparison; an already compliant container gets no patch; the patched
 * object evaluates to no patch (idempotence). Non-root strategies are in
 * policy/nonroot.c.
 */
#include "policy/engine.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/engine_ctx.h"
#include "policy/nonroot.h"
#include "policy/patch.h"

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

/* Warnings reach kubectl users verbatim: the apiserver drops ones over 120
 * characters or with control characters, so they are cut and cleaned here. */
void engine_warn(engine_ctx *c, const char *fmt, ...)
{
	char msg[512];
	if (strchr(fmt, '%') == NULL) { /* constant text: no formatting */
		if (json_array_append_new(c->out->warnings, json_string_nocheck(fmt)) < 0)
			c->oom = true;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	if (strlen(msg) > ENGINE_WARNING_MAX)
		memcpy(msg + ENGINE_WARNING_MAX - 3, "...", 4);
	if (json_array_append_new(c->out->warnings, json_string(msg)) < 0)
		c->oom = true;
}

void engine_change(engine_ctx *c, const engine_ctr *ct, const char *fmt, ...)
{
	if (!c->explain)
		return;
	char msg[1024];
	const char *what = fmt;
	if (strchr(fmt, '%') != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		what = msg;
	}
	json_t *o = json_object();
	const char *name = ct && ct->name ? ct->name : "";
	const patch_path *path = ct ? &ct->path : &c->spec_path;
	if (o == NULL || json_object_set_new_nocheck(o, "container", json_string(name)) < 0 ||
	    json_object_set_new_nocheck(o, "path", json_stringn_nocheck(path->s, path->len)) < 0 ||
	    json_object_set_new_nocheck(o, "what", json_string(what)) < 0 ||
	    json_array_append_new(c->out->changes, o) < 0)
		c->oom = true;
}

/* Labels are formatted only when a message needs them: snprintf is a
 * sizeable part of a decision's cost. */
const char *engine_label(engine_ctr *ct)
{
	if (ct->label[0] == '\0') {
		char nb[64];
		const char *kind = strcmp(ct->list, "containers") == 0	     ? "container"
				   : strcmp(ct->list, "initContainers") == 0 ? "initContainer"
									     : "ephemeralContainer";
		snprintf(ct->label, sizeof(ct->label), "%s \"%s\"", kind,
			 engine_safe_name(ct->name ? ct->name : "?", nb, sizeof(nb)));
	}
	return ct->label;
}

const char *engine_where(engine_ctx *c)
{
	if (c->cur == NULL)
		return c->spec_label;
	snprintf(c->ctr_label, sizeof(c->ctr_label), "%s.%s[%zu]", c->spec_label, c->cur->list,
		 c->cur->index);
	return c->ctr_label;
}

/* Names in messages: printable ASCII, bounded, so a hostile name cannot
 * forge log lines or blow up a warning. */
const char *engine_safe_name(const char *s, char *buf, size_t n)
{
	size_t k = 0;
	for (; s && s[k] && k + 1 < n; k++)
		buf[k] = ((unsigned char)s[k] < 0x20 || (unsigned char)s[k] >= 0x7f) ? '?' : s[k];
	buf[k] = '\0';
	return buf;
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

/* Reads a capability list. Names that are not capabilities go to *unknown
 * (canonical spelling, comma-separated); *tidy is cleared when any entry is
 * not canonical, repeated or unknown, so the list must be rewritten. */
static int read_caps(engine_ctx *c, json_t *list, const char *what, caps_set *set, char *unknown,
		     size_t unknown_sz, bool *tidy)
{
	size_t i;
	json_t *v;
	*set = 0;
	if (list == NULL || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return cg_error_set(c->err, EINVAL, "%s: %s is not a list", engine_where(c), what);
	json_array_foreach(list, i, v)
	{
		if (!json_is_string(v))
			return cg_error_set(c->err, EINVAL, "%s: %s[%zu] is not a string",
					    engine_where(c), what, i);
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);
		int n = caps_lookup(s, len);
		if (n < 0) {
			char canon[64];
			caps_canonical(s, len, canon, sizeof(canon));
			size_t k = strlen(unknown);
			snprintf(unknown + k, unknown_sz - k, "%s%s", k ? ", " : "", canon);
			*tidy = false;
			continue;
		}
		if (!caps_is_canonical(s, len) || (*set & CAPS_BIT(n)))
			*tidy = false;
		*set |= CAPS_BIT(n);
	}
	return 0;
}

static json_t *caps_list(caps_set s)
{
	json_t *a = json_array();
	for (int i = 0; a && i < 64; i++)
		if ((s & CAPS_BIT(i)) && caps_name(i) &&
		    json_array_append_new(a, json_string_nocheck(caps_name(i))) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Judges one container's capabilities (the drop-ALL/allowlist step): reads
 * what it has and computes what it keeps. The patch is emitted by
 * emit_caps() once the non-root step has had its say. */
static int judge_caps(engine_ctx *c, engine_ctr *ct)
{
	const policy_spec *sp = c->spec;
	json_t *caps = json_object_get(ct->sc, "capabilities");
	if (caps != NULL && !json_is_null(caps) && !json_is_object(caps))
		return cg_error_set(c->err, EINVAL,
				    "%s: securityContext.capabilities is not an object",
				    engine_where(c));
	char unknown_add[256] = "", unknown_drop[256] = "";
	ct->tidy = true;
	if (read_caps(c, json_object_get(caps, "add"), "capabilities.add", &ct->add, unknown_add,
		      sizeof(unknown_add), &ct->tidy) < 0 ||
	    read_caps(c, json_object_get(caps, "drop"), "capabilities.drop", &ct->drop,
		      unknown_drop, sizeof(unknown_drop), &ct->tidy) < 0)
		return -1;
	ct->unknown_drop = unknown_drop[0] != '\0';
	json_t *priv = json_object_get(ct->sc, "privileged");
	if (priv != NULL && !json_is_null(priv) && !json_is_boolean(priv))
		return cg_error_set(c->err, EINVAL,
				    "%s: securityContext.privileged is not a boolean",
				    engine_where(c));
	/* privileged: true grants every capability whatever the lists say. */
	ct->bad_priv = json_is_true(priv) && !sp->allow_privileged;

	/* A specific drop wins over an add, as containerd and CRI-O apply them;
	 * dropping ALL is the baseline and does not cancel defaultAdd. */
	caps_set allowed = sp->allowed | ct->allowed_extra;
	ct->drop_specific = ct->drop & CAPS_KNOWN_MASK;
	caps_set want = (ct->add | sp->default_add) & ~ct->drop_specific;
	caps_set disallowed = want & ~allowed;
	ct->keep = want & allowed;
	char names[512];

	if (disallowed || unknown_add[0]) {
		char list[768];
		snprintf(list, sizeof(list), "%s%s%s",
			 caps_set_format(disallowed, names, sizeof(names)),
			 (disallowed && unknown_add[0]) ? ", " : "", unknown_add);
		if (sp->on_disallowed == POLICY_DENY) {
			engine_deny(c, "%s adds %s (not in allowedCapabilities)", engine_label(ct),
				    list);
		} else {
			engine_warn(c, "%s: removed %s (not allowed by capgate policy)",
				    engine_label(ct), list);
			engine_change(c, ct, "remove %s: not in allowedCapabilities", list);
			engine_audit_note(c, "stripped", list);
		}
	}
	if (ct->bad_priv) {
		if (sp->on_disallowed == POLICY_DENY) {
			engine_deny(c, "%s is privileged (allowPrivileged is false)",
				    engine_label(ct));
		} else {
			engine_warn(c, "%s: privileged set to false (allowPrivileged is false)",
				    engine_label(ct));
			engine_change(c, ct, "set privileged: false: it grants every capability");
			engine_audit_note(c, "stripped", "privileged");
		}
	}
	return 0;
}

/* Emits the container's capabilities when they are not already exactly what
 * the policy makes them: canonical names, no repeats, drop covering the
 * required drops, add equal to what it keeps. A compliant container gets no
 * operation at all. */
static int emit_caps(engine_ctx *c, engine_ctr *ct)
{
	const policy_spec *sp = c->spec;
	char names[512];
	caps_set must_drop = sp->required_drop | ct->drop_specific;
	bool compliant = ct->tidy && ct->add == ct->keep && (ct->drop & must_drop) == must_drop &&
			 !ct->unknown_drop;
	if (!compliant) {
		if ((sp->required_drop & CAPS_BIT(CAPS_ALL)) && !(ct->drop & CAPS_BIT(CAPS_ALL)))
			engine_change(c, ct, "drop ALL");
		if (ct->unknown_drop)
			engine_change(c, ct, "remove names that are not capabilities from drop");
		if (!ct->tidy)
			engine_change(c, ct, "rewrite capability names in canonical form");
		if (ct->add & ct->drop_specific)
			engine_change(
				c, ct,
				"remove %s from add: also dropped by name, and a named drop wins",
				caps_set_format(ct->add & ct->drop_specific, names, sizeof(names)));
		if (sp->required_drop & CAPS_KNOWN_MASK & ~ct->drop)
			engine_change(
				c, ct, "drop %s (requiredDropCapabilities)",
				caps_set_format(sp->required_drop & CAPS_KNOWN_MASK & ~ct->drop,
						names, sizeof(names)));
		if (ct->keep & ~ct->add)
			engine_change(c, ct, "add %s (defaultAddCapabilities)",
				      caps_set_format(ct->keep & ~ct->add, names, sizeof(names)));
		json_t *v = json_object();
		if (v == NULL)
			return -ENOMEM;
		if (ct->keep && json_object_set_new(v, "add", caps_list(ct->keep)) < 0)
			c->oom = true;
		if (json_object_set_new(v, "drop", caps_list(must_drop)) < 0)
			c->oom = true;
		static const char *const sc_key[] = {"securityContext"};
		if (patch_set_nested(c->ops, ct->obj, &ct->path, sc_key, 1, "capabilities", v) < 0)
			c->oom = true;
		c->changed = true;
	}
	if (ct->bad_priv && sp->on_disallowed == POLICY_STRIP) {
		patch_path p;
		if (patch_path_join(&p, &ct->path, "securityContext") < 0 ||
		    patch_path_join(&p, &p, "privileged") < 0 ||
		    patch_add(c->ops, &p, json_false()) < 0)
			c->oom = true;
		c->changed = true;
	}
	return 0;
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

static int judge_containers(engine_ctx *c)
{
	bool ephemeral_only = strcmp(c->req->sub_resource, "ephemeralcontainers") == 0;
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
		if (patch_path_join(&lp, &c->spec_path, container_lists[l]) < 0)
			return -ENAMETOOLONG;
		size_t i;
		json_t *obj;
		json_array_foreach(list, i, obj)
		{
			if (!json_is_object(obj))
				return cg_error_set(c->err, EINVAL, "%s.%s[%zu] is not an object",
						    c->spec_label, container_lists[l], i);
			engine_ctr ct = {.obj = obj, .list = container_lists[l], .index = i};
			ct.name = json_string_value(json_object_get(obj, "name"));
			ct.image = json_string_value(json_object_get(obj, "image"));
			c->cur = &ct;
			if (patch_path_index(&ct.path, &lp, i) < 0)
				return -ENAMETOOLONG;
			if (nonroot_is_own_container(c, &ct))
				ct.allowed_extra = CAPS_BIT(31); /* SETFCAP, see nonroot.c */
			else if (exempt_container(c->policy, ct.name, ct.image)) {
				continue;
			}
			ct.sc = json_object_get(obj, "securityContext");
			if (ct.sc != NULL && !json_is_null(ct.sc) && !json_is_object(ct.sc))
				return cg_error_set(c->err, EINVAL,
						    "%s: securityContext is not an object",
						    engine_where(c));
			if (json_is_null(ct.sc))
				ct.sc = NULL;
			if (judge_caps(c, &ct) < 0)
				return -1;
			if (c->denied)
				continue; /* still judge the rest, to name them all */
			if (!ct.allowed_extra && nonroot_judge(c, &ct) < 0)
				return -1;
			if (emit_caps(c, &ct) < 0)
				return -1;
		}
	}
	return 0;
}

/* Finds the pod spec an object carries. Returns 1 with c->pod_spec set, 0
 * when the object carries none (left alone), negative on a wrong shape. */
static int find_pod_spec(engine_ctx *c)
{
	const engine_request *r = c->req;
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
			if (patch_path_join(&c->spec_path, &c->spec_path, kinds[k].path[i]) < 0)
				return -ENAMETOOLONG;
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
		if (patch_path_join(&c->spec_path, &c->spec_path, "spec") < 0)
			return -ENAMETOOLONG;
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

/* SCC admission mutates before webhooks and validates after them, so on
 * OpenShift everything capgate emits must pass the SCC recorded in
 * openshift.io/scc. capgate only ever removes capabilities, except for
 * defaultAddCapabilities: those are narrowed to what the SCC allows. An SCC
 * capgate does not know gets nothing that any SCC could reject: no added
 * capability, no sysctl, no root init container. */
static void narrow_to_scc(engine_ctx *c)
{
	c->scc_name = json_string_value(json_object_get(c->annotations, "openshift.io/scc"));
	if (c->scc_name == NULL)
		return;
	c->scc = policy_find_scc(c->policy, c->scc_name);
	c->scc_spec = *c->spec;
	if (c->scc == NULL) {
		c->scc_spec.default_add = 0;
	} else if (!(c->scc->allowed & CAPS_BIT(CAPS_ALL))) {
		c->scc_spec.allowed &= c->scc->allowed | c->scc->default_add;
		c->scc_spec.default_add &= c->scc_spec.allowed;
	}
	c->spec = &c->scc_spec;
}

bool engine_scc_allows_root(const engine_ctx *c)
{
	return c->scc_name == NULL || (c->scc != NULL && c->scc->run_as_any);
}

bool engine_scc_allows_sysctl(const engine_ctx *c, const char *name)
{
	return c->scc_name == NULL || (c->scc != NULL && !policy_scc_forbids_sysctl(c->scc, name));
}

static int finish(engine_ctx *c)
{
	engine_decision *d = c->out;
	const policy_spec *sp = c->spec;
	if (!c->denied && nonroot_finish(c) < 0)
		return -1;
	if (c->oom)
		return cg_error_set(c->err, ENOMEM, "out of memory while building the patch");
	if (c->denied) {
		d->allowed = false;
		d->status_code = 403;
		d->message = strdup(c->deny_msg);
		engine_audit_note(c, "decision", "denied");
		if (sp->mode == POLICY_ENFORCE)
			return d->message ? 0 : -ENOMEM;
		/* warn and audit report what enforce would deny, and allow. */
		d->allowed = true;
		d->status_code = 0;
		if (sp->mode == POLICY_WARN)
			engine_warn(c, "would deny: %s", d->message + strlen("capgate: "));
		free(d->message);
		d->message = NULL;
		engine_audit_note(c, "decision", sp->mode == POLICY_WARN ? "warned" : "audited");
		if (sp->mode == POLICY_AUDIT)
			json_array_clear(d->warnings);
		engine_audit_note(c, "would-deny", c->deny_msg);
		return 0;
	}
	d->allowed = true;
	if (!c->changed)
		return 0;
	if (sp->mode == POLICY_ENFORCE) {
		d->patch = json_incref(c->ops);
		engine_audit_note(c, "decision", "patched");
		return 0;
	}
	/* warn and audit never patch: warnings say what enforce would change. */
	json_array_clear(d->warnings);
	if (sp->mode == POLICY_WARN) {
		size_t i;
		json_t *ch;
		json_array_foreach(d->changes, i, ch)
		{
			const char *name = json_string_value(json_object_get(ch, "container"));
			char nb[64];
			engine_warn(c, "capgate would change %s%s%s: %s",
				    name[0] ? "container \"" : "pod",
				    engine_safe_name(name, nb, sizeof(nb)), name[0] ? "\"" : "",
				    json_string_value(json_object_get(ch, "what")));
		}
	}
	engine_audit_note(c, "decision", sp->mode == POLICY_WARN ? "warned" : "audited");
	return 0;
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
	engine_ctx c = {.policy = p,
			.req = req,
			.out = out,
			.err = err,
			.ops = ops,
			.spec = &p->spec,
			.nr = {.port_start = -1, .ping_gid = -1}};
	int rc = 0;
	if (!out->warnings || !out->audit || !out->changes || !ops) {
		rc = cg_error_set(err, ENOMEM, "out of memory");
		goto done;
	}
	if (strcmp(req->operation, "CREATE") != 0 && strcmp(req->operation, "UPDATE") != 0) {
		out->skipped = "operation carries nothing to judge";
		goto done; /* DELETE and CONNECT */
	}
	if (!json_is_object(req->object)) {
		rc = cg_error_set(err, EINVAL, "the object is not a JSON object");
		goto done;
	}
	bool is_pod = strcmp(req->kind, "Pod") == 0;
	/* A Pod's containers are immutable after creation: patching them on
	 * UPDATE would make the apiserver reject every label change and
	 * finalizer removal on pods created before capgate. Only the
	 * ephemeralcontainers subresource adds containers to a live pod. */
	if (is_pod && strcmp(req->operation, "UPDATE") == 0 &&
	    strcmp(req->sub_resource, "ephemeralcontainers") != 0) {
		out->skipped = "a Pod's containers cannot change on UPDATE";
		goto done;
	}
	json_t *meta = json_object_get(req->object, "metadata");
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
	if ((rc = find_pod_spec(&c)) <= 0) {
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
	const char *rule;
	c.spec = select_spec(p, c.namespace, c.labels, &rule);
	c.explain = req->explain || c.spec->mode == POLICY_WARN;
	narrow_to_scc(&c);
	if ((rc = judge_containers(&c)) < 0)
		goto done;
	if ((rc = finish(&c)) < 0)
		goto done;
	if (c.changed || c.denied)
		engine_audit_note(&c, "policy", rule ? rule : "spec");
done:
	json_decref(ops);
	if (rc < 0) /* clearing resets skipped too */
		engine_decision_clear(out);
	return rc < 0 ? rc : 0;
}

void engine_deny(engine_ctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t n = strlen(c->deny_msg);
	if (n == 0)
		n = (size_t)snprintf(c->deny_msg, sizeof(c->deny_msg), "capgate: ");
	snprintf(c->deny_msg + n, sizeof(c->deny_msg) - n, "%s%s", c->denied ? "; " : "", msg);
	c->denied = true;
}

/* Audit annotation keys are qualified names without '/': the apiserver
 * prefixes them with the webhook's name. */
void engine_audit_note(engine_ctx *c, const char *key, const char *value)
{
	json_t *old = json_object_get(c->out->audit, key);
	char buf[1024];
	if (json_is_string(old) && strcmp(key, "decision") != 0 && strcmp(key, "policy") != 0) {
		snprintf(buf, sizeof(buf), "%s; %s", json_string_value(old), value);
		value = buf;
	}
	if (json_object_set_new(c->out->audit, key, json_string(value)) < 0)
		c->oom = true;
}
