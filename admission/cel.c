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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/glob.h"
#include "common/buf.h"
#include "common/cleanup.h"

#define OWN_INIT_CONTAINER "capgate-ambient-install" /* policy/nonroot.h */
#define MIRROR_ANNOTATION  "kubernetes.io/config.mirror"
#define SCC_ANNOTATION	   "openshift.io/scc"

/* OpenShift's default SCCs, by name: policy_find_scc() knows what they
 * admit (policy.h). */
static const char *const builtin_sccs[] = {
	"restricted-v2", "nonroot-v2", "hostnetwork-v2",   "restricted", "nonroot",
	"hostnetwork",	 "anyuid",     "hostmount-anyuid", "hostaccess", "privileged",
};

/* One expression under construction; the first failure sticks. */
typedef struct expr {
	cg_buf b;
	int rc;
} expr;

static void put(expr *e, const char *s)
{
	if (e->rc == 0 && buf_puts(&e->b, s) < 0)
		e->rc = -ENOMEM;
}

static void CG_PRINTF(2, 3) putf(expr *e, const char *fmt, ...)
{
	if (e->rc != 0)
		return;
	char small[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(small))
		e->rc = -ENAMETOOLONG; /* formats here are short; text goes via quote() */
	else
		put(e, small);
}

/* A CEL string literal: double quotes, with backslash escapes for the
 * quote, the backslash and control characters; UTF-8 is kept as is. */
static void quote(expr *e, const char *s)
{
	put(e, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p && e->rc == 0; p++) {
		if (*p == '"' || *p == '\\') {
			char esc[3] = {'\\', (char)*p, '\0'};
			put(e, esc);
		} else if (*p < 0x20 || *p == 0x7f) {
			putf(e, "\\x%02x", *p);
		} else if (e->rc == 0 && buf_putc(&e->b, (char)*p) < 0) {
			e->rc = -ENOMEM;
		}
	}
	put(e, "\"");
}

static void strlist(expr *e, const policy_strlist *l)
{
	put(e, "[");
	for (size_t i = 0; i < l->n; i++) {
		put(e, i ? ", " : "");
		quote(e, l->v[i]);
	}
	put(e, "]");
}

/* Canonical names in capability-number order, ALL last: the order the
 * webhook writes add and drop in. */
static void capslist(expr *e, caps_set s)
{
	bool first = true;
	put(e, "[");
	for (int i = 0; i < 64; i++) {
		if (!(s & CAPS_BIT(i)) || caps_name(i) == NULL)
			continue;
		put(e, first ? "" : ", ");
		quote(e, caps_name(i));
		first = false;
	}
	put(e, "]");
}

/* Every pair must be among the labels (a string equal to the value). */
static void labels_match(expr *e, const policy_labels *want)
{
	if (want->n == 0) {
		put(e, "true");
		return;
	}
	for (size_t i = 0; i < want->n; i++) {
		put(e, i ? " && " : "(");
		quote(e, want->v[i].key);
		put(e, " in variables.labels && variables.labels[");
		quote(e, want->v[i].key);
		put(e, "] == ");
		quote(e, want->v[i].value);
	}
	put(e, ")");
}

static int add_var(json_t *vars, const char *name, expr *e, cg_error *err)
{
	if (e->rc != 0) {
		buf_free(&e->b);
		return cg_error_set(err, -e->rc, "variable %s: %s", name,
				    e->rc == -ENOMEM ? "out of memory" : "text too long");
	}
	json_t *v = json_pack("{s:s, s:s}", "name", name, "expression", e->b.data);
	buf_free(&e->b);
	if (v == NULL || json_array_append_new(vars, v) < 0)
		return cg_error_set(err, ENOMEM, "out of memory");
	return 0;
}

/* A per-spec value: the spec's, or the first matching rule's. */
typedef void (*spec_value)(expr *e, const policy_spec *s);

static void per_spec(expr *e, const cg_policy *p, spec_value f)
{
	if (p->n_rules == 0) {
		f(e, &p->spec);
		return;
	}
	put(e, "[");
	f(e, &p->spec);
	for (size_t i = 0; i < p->n_rules; i++) {
		put(e, ", ");
		f(e, &p->rules[i].spec);
	}
	put(e, "][variables.rule + 1]");
}

static void v_mode(expr *e, const policy_spec *s)
{
	static const char *const names[] = {"\"enforce\"", "\"warn\"", "\"audit\""};
	put(e, names[s->mode]);
}
static void v_deny(expr *e, const policy_spec *s)
{
	put(e, s->on_disallowed == POLICY_DENY ? "true" : "false");
}
static void v_priv(expr *e, const policy_spec *s)
{
	put(e, s->allow_privileged ? "true" : "false");
}
static void v_drop(expr *e, const policy_spec *s)
{
	capslist(e, s->required_drop);
}
static void v_allowed(expr *e, const policy_spec *s)
{
	capslist(e, s->allowed);
}
static void v_default(expr *e, const policy_spec *s)
{
	capslist(e, s->default_add);
}

/* What an SCC lets capgate keep: its allowed and default adds, or ALL. */
static void scc_entry(expr *e, const char *name, const policy_scc *scc, bool *first)
{
	put(e, *first ? "" : ",\n  ");
	*first = false;
	quote(e, name);
	put(e, ": ");
	if (scc->allowed & CAPS_BIT(CAPS_ALL))
		put(e, "[\"ALL\"]");
	else
		capslist(e, scc->allowed | scc->default_add);
}

static bool seen(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* The SCCs capgate knows, each as policy_find_scc() resolves its name, so
 * ownSCC, the policy's descriptions and the defaults shadow each other as
 * in the engine. */
static void scc_map(expr *e, const cg_policy *p)
{
	const char *names[sizeof(builtin_sccs) / sizeof(builtin_sccs[0]) + 1 + 256];
	size_t n = 0;
	if (p->own_scc)
		names[n++] = p->own_scc;
	for (size_t i = 0; i < p->n_sccs && n < 257; i++)
		if (!seen(names, n, p->sccs[i].name))
			names[n++] = p->sccs[i].name;
	for (size_t i = 0; i < sizeof(builtin_sccs) / sizeof(builtin_sccs[0]); i++)
		if (!seen(names, n, builtin_sccs[i]))
			names[n++] = builtin_sccs[i];
	bool first = true;
	put(e, "{\n  ");
	for (size_t i = 0; i < n; i++) {
		const policy_scc *scc = policy_find_scc(p, names[i]);
		if (scc != NULL)
			scc_entry(e, names[i], scc, &first);
	}
	put(e, "\n}");
}

/* Whether container record r (with name and image) is exempt. */
static int exempt(expr *e, const cg_policy *p, cg_error *err)
{
	const policy_exemptions *x = &p->exemptions;
	if (x->container_names.n == 0 && x->images.n == 0) {
		put(e, "false");
		return 0;
	}
	put(e, "(");
	if (x->container_names.n > 0) {
		put(e, "r.name in ");
		strlist(e, &x->container_names);
	}
	if (x->images.n > 0) {
		put(e, x->container_names.n ? " || " : "");
		put(e, "r.image != null && (");
		for (size_t i = 0; i < x->images.n; i++) {
			cg_buf re = {0};
			if (glob_to_re2(x->images.v[i], &re, err) < 0) {
				buf_free(&re);
				return cg_error_prefix(err, "spec.exemptions.images[%zu]", i);
			}
			put(e, i ? " || " : "");
			put(e, "r.image.matches(");
			quote(e, re.data);
			put(e, ")");
			buf_free(&re);
		}
		put(e, ")");
	}
	put(e, ")");
	return 0;
}

/* Capability name normalised as caps_lookup() does: upper case (ASCII),
 * a CAP_ prefix dropped when something follows it. */
#define NORM_N                                                                                     \
	"(n.upperAscii().startsWith(\"CAP_\") && n.size() > 4 ?\n"                                 \
	"      n.upperAscii().substring(4) : n.upperAscii())"

static const char *const lists[] = {"initContainers", "containers", "ephemeralContainers"};

static int scope_vars(json_t *v, const cg_policy *p, cg_error *err)
{
	expr e = {0};
	put(&e, "request.kind.kind");
	if (add_var(v, "kind", &e, err) < 0)
		return -1;
	put(&e, "has(request.subResource) ? request.subResource : \"\"");
	if (add_var(v, "subResource", &e, err) < 0)
		return -1;
	/* The engine takes the request's namespace, else the object's. */
	put(&e, "has(request.namespace) && request.namespace != \"\" ? request.namespace :\n"
		"has(object.metadata) && object.metadata != null && has(object.metadata.namespace) "
		"&&\n  object.metadata.namespace != null ? object.metadata.namespace : \"\"");
	if (add_var(v, "namespace", &e, err) < 0)
		return -1;
	put(&e,
	    "variables.kind == \"Pod\" ? object :\n"
	    "variables.kind == \"PodTemplate\" ?\n"
	    "  (has(object.template) && object.template != null ? object.template : null) :\n"
	    "variables.kind == \"CronJob\" ?\n"
	    "  (has(object.spec) && object.spec != null && has(object.spec.jobTemplate) &&\n"
	    "   object.spec.jobTemplate != null && has(object.spec.jobTemplate.spec) &&\n"
	    "   object.spec.jobTemplate.spec != null && has(object.spec.jobTemplate.spec.template) "
	    "&&\n"
	    "   object.spec.jobTemplate.spec.template != null ? "
	    "object.spec.jobTemplate.spec.template : null) :\n"
	    "variables.kind in [\"Deployment\", \"ReplicaSet\", \"StatefulSet\", \"DaemonSet\", "
	    "\"Job\",\n  \"ReplicationController\"] ?\n"
	    "  (has(object.spec) && object.spec != null && has(object.spec.template) &&\n"
	    "   object.spec.template != null ? object.spec.template : null) :\n"
	    "null");
	if (add_var(v, "template", &e, err) < 0)
		return -1;
	put(&e, "variables.kind == \"Pod\" ? \"/spec\" :\n"
		"variables.kind == \"PodTemplate\" ? \"/template/spec\" :\n"
		"variables.kind == \"CronJob\" ? \"/spec/jobTemplate/spec/template/spec\" :\n"
		"\"/spec/template/spec\"");
	if (add_var(v, "specPath", &e, err) < 0)
		return -1;
	put(&e, "variables.template != null && has(variables.template.spec) &&\n"
		"variables.template.spec != null ? variables.template.spec : null");
	if (add_var(v, "podSpec", &e, err) < 0)
		return -1;
	put(&e, "variables.template != null && has(variables.template.metadata) &&\n"
		"variables.template.metadata != null ? variables.template.metadata : {}");
	if (add_var(v, "metadata", &e, err) < 0)
		return -1;
	put(&e, "has(variables.metadata.labels) && variables.metadata.labels != null ?\n"
		"variables.metadata.labels : {}");
	if (add_var(v, "labels", &e, err) < 0)
		return -1;
	put(&e, "has(variables.metadata.annotations) && variables.metadata.annotations != null "
		"?\nvariables.metadata.annotations : {}");
	if (add_var(v, "annotations", &e, err) < 0)
		return -1;
	/* Left alone, as the engine leaves them before judging anything. */
	put(&e, "variables.namespace in ");
	strlist(&e, &p->exemptions.namespaces);
	put(&e,
	    " ||\n(variables.kind == \"Pod\" && has(object.metadata) && object.metadata != "
	    "null &&\n  has(object.metadata.annotations) && object.metadata.annotations != "
	    "null &&\n  \"" MIRROR_ANNOTATION "\" in object.metadata.annotations) ||\n"
	    "variables.podSpec == null ||\n"
	    "(has(variables.podSpec.os) && variables.podSpec.os != null &&\n"
	    "  has(variables.podSpec.os.name) && variables.podSpec.os.name == \"windows\") ||\n");
	if (p->exemptions.labels.n > 0)
		labels_match(&e, &p->exemptions.labels);
	else
		put(&e, "false");
	if (add_var(v, "skip", &e, err) < 0)
		return -1;
	/* Rules: the first whose namespaces and labels match. */
	for (size_t i = 0; i < p->n_rules; i++) {
		const policy_rule *r = &p->rules[i];
		put(&e, "(");
		if (r->namespaces.n > 0) {
			put(&e, "variables.namespace in ");
			strlist(&e, &r->namespaces);
		} else {
			put(&e, "true");
		}
		put(&e, " && ");
		labels_match(&e, &r->labels);
		putf(&e, ") ? %zu :\n", i);
	}
	put(&e, "-1");
	return add_var(v, "rule", &e, err);
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
	expr e = {0};
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		per_spec(&e, p, specs[i].f);
		if (add_var(v, specs[i].name, &e, err) < 0)
			return -1;
	}
	/* OpenShift: SCC admission ran before and validates after; capgate
	 * keeps only what the pod's SCC admits (engine.c, narrow_to_scc). */
	put(&e, "\"" SCC_ANNOTATION "\" in variables.annotations &&\n"
		"variables.annotations[\"" SCC_ANNOTATION "\"] != null ?\n"
		"variables.annotations[\"" SCC_ANNOTATION "\"] : null");
	if (add_var(v, "scc", &e, err) < 0)
		return -1;
	scc_map(&e, p);
	if (add_var(v, "sccCapabilities", &e, err) < 0)
		return -1;
	put(&e, "variables.scc == null || !(variables.scc in variables.sccCapabilities) ||\n"
		"\"ALL\" in variables.sccCapabilities[variables.scc] ? variables.specAllowed :\n"
		"variables.specAllowed.filter(c, c in variables.sccCapabilities[variables.scc])");
	if (add_var(v, "allowed", &e, err) < 0)
		return -1;
	put(&e, "variables.scc != null && !(variables.scc in variables.sccCapabilities) ? [] :\n"
		"variables.specDefaultAdd.filter(c, c in variables.allowed)");
	if (add_var(v, "defaultAdd", &e, err) < 0)
		return -1;
	capslist(&e, CAPS_KNOWN_MASK | CAPS_BIT(CAPS_ALL));
	return add_var(v, "capabilityNames", &e, err);
}

static int container_vars(json_t *v, const cg_policy *p, cg_error *err)
{
	expr e = {0};
	char name[64];
	/* Container indices for JSON Patch paths: names are unique in a pod
	 * that passes validation. */
	for (size_t l = 0; l < 3; l++) {
		putf(&e,
		     "has(variables.podSpec.%s) && variables.podSpec.%s != null ?\n"
		     "variables.podSpec.%s.map(x, has(x.name) ? x.name : \"\") : []",
		     lists[l], lists[l], lists[l]);
		snprintf(name, sizeof(name), "%sNames", lists[l]);
		if (add_var(v, name, &e, err) < 0)
			return -1;
	}
	/* Only ephemeral containers on the ephemeralcontainers subresource. */
	for (size_t l = 0; l < 3; l++) {
		const char *n = lists[l];
		put(&e, l ? " +\n" : "");
		if (l < 2)
			put(&e, "(variables.subResource == \"ephemeralcontainers\" ? [] : ");
		putf(&e,
		     "(has(variables.podSpec.%s) && variables.podSpec.%s != null ?\n"
		     "  variables.podSpec.%s : []).map(c, {\"list\": dyn(\"%s\"),\n"
		     "  \"index\": dyn(variables.%sNames.indexOf(has(c.name) ? c.name : \"\")),\n",
		     n, n, n, n, n);
		put(&e, "  \"name\": dyn(has(c.name) && c.name != null ? c.name : null),\n"
			"  \"image\": dyn(has(c.image) && c.image != null ? c.image : null),\n"
			"  \"securityContext\": dyn(has(c.securityContext) && c.securityContext != "
			"null ?\n    c.securityContext : null)})");
		if (l < 2)
			put(&e, ")");
	}
	if (add_var(v, "containers", &e, err) < 0)
		return -1;
	/* capgate's own wrapper installer may add SETFCAP and is never exempt. */
	expr own = {0};
	put(&own, "r.list == \"initContainers\" && r.name == \"" OWN_INIT_CONTAINER "\" && ");
	if (p->nonroot.image != NULL) {
		quote(&own, p->nonroot.image);
		put(&own, " == r.image");
	} else {
		put(&own, "false");
	}
	if (own.rc != 0)
		return buf_free(&own.b), cg_error_set(err, ENOMEM, "out of memory");
	put(&e, "variables.containers.filter(r, (");
	put(&e, own.b.data);
	put(&e, ") || !");
	if (exempt(&e, p, err) < 0) {
		buf_free(&e.b);
		buf_free(&own.b);
		return -1;
	}
	put(&e, ").map(r, {\"list\": r.list, \"index\": r.index, \"name\": r.name,\n"
		"  \"securityContext\": r.securityContext,\n  \"own\": dyn(");
	put(&e, own.b.data);
	buf_free(&own.b);
	put(&e,
	    "),\n  \"capabilities\": dyn(r.securityContext != null &&\n"
	    "    has(r.securityContext.capabilities) && r.securityContext.capabilities != "
	    "null ?\n    r.securityContext.capabilities : null),\n"
	    "  \"privileged\": dyn(r.securityContext != null && "
	    "has(r.securityContext.privileged) &&\n    r.securityContext.privileged == true)})");
	if (add_var(v, "judged", &e, err) < 0)
		return -1;
	put(&e, "variables.judged.map(r, {\"list\": r.list, \"index\": r.index, \"name\": "
		"r.name,\n"
		"  \"securityContext\": r.securityContext, \"capabilities\": r.capabilities,\n"
		"  \"own\": r.own, \"privileged\": r.privileged,\n"
		"  \"add\": dyn(r.capabilities != null && has(r.capabilities.add) &&\n"
		"    r.capabilities.add != null ? r.capabilities.add : []),\n"
		"  \"drop\": dyn(r.capabilities != null && has(r.capabilities.drop) &&\n"
		"    r.capabilities.drop != null ? r.capabilities.drop : []),\n"
		"  \"hasAdd\": dyn(r.capabilities != null && has(r.capabilities.add) &&\n"
		"    r.capabilities.add != null)})");
	if (add_var(v, "raw", &e, err) < 0)
		return -1;
	/* tidy: every name already canonical and given once (engine.c). An
	 * unknown name that normalises to "" is removed without being named,
	 * as the engine does (read_caps lists it as "", which reads as none). */
	put(&e, "variables.raw.map(r, {\"list\": r.list, \"index\": r.index, \"name\": r.name,\n"
		"  \"securityContext\": r.securityContext, \"capabilities\": r.capabilities,\n"
		"  \"own\": r.own, \"privileged\": r.privileged, \"hasAdd\": r.hasAdd,\n"
		"  \"addN\": dyn(r.add.map(n, " NORM_N ")),\n"
		"  \"dropN\": dyn(r.drop.map(n, " NORM_N ")),\n"
		"  \"unknownAdd\": dyn(r.add.map(n, " NORM_N ").filter(n,\n"
		"    n != \"\" && !(n in variables.capabilityNames))),\n"
		"  \"unknownDrop\": dyn(r.drop.exists(n,\n"
		"    !(" NORM_N " in variables.capabilityNames))),\n"
		"  \"tidy\": dyn(r.add.all(n, n in variables.capabilityNames &&\n"
		"      r.add.filter(m, m == n).size() == 1) &&\n"
		"    r.drop.all(n, n in variables.capabilityNames &&\n"
		"      r.drop.filter(m, m == n).size() == 1))})");
	if (add_var(v, "named", &e, err) < 0)
		return -1;
	/* A specific drop wins over an add and over defaultAdd; ALL in drop is
	 * the baseline and cancels nothing. Sets are unordered lists here; the
	 * webhook's order (capability number, ALL last) is applied only where
	 * lists are written out. */
	put(&e, "variables.named.map(r, {\"list\": r.list, \"index\": r.index, \"name\": r.name,\n"
		"  \"securityContext\": r.securityContext, \"capabilities\": r.capabilities,\n"
		"  \"privileged\": r.privileged, \"hasAdd\": r.hasAdd, \"addN\": r.addN,\n"
		"  \"dropN\": r.dropN, \"unknownAdd\": r.unknownAdd, \"unknownDrop\": "
		"r.unknownDrop,\n"
		"  \"tidy\": r.tidy,\n"
		"  \"want\": dyn((r.addN.filter(x, x in variables.capabilityNames) + "
		"variables.defaultAdd)\n"
		"    .filter(x, x == \"ALL\" || !(x in r.dropN))),\n"
		"  \"mustDrop\": dyn(variables.requiredDrop +\n"
		"    r.dropN.filter(x, x != \"ALL\" && x in variables.capabilityNames)),\n"
		"  \"allowedHere\": dyn(r.own ? variables.allowed + [\"SETFCAP\"] : "
		"variables.allowed)})");
	if (add_var(v, "wanted", &e, err) < 0)
		return -1;
	put(&e, "variables.wanted.map(r, {\"list\": r.list, \"index\": r.index, \"name\": r.name,\n"
		"  \"securityContext\": r.securityContext, \"capabilities\": r.capabilities,\n"
		"  \"hasAdd\": r.hasAdd, \"mustDrop\": r.mustDrop, \"unknownAdd\": r.unknownAdd,\n"
		"  \"keep\": dyn(r.want.filter(x, x in r.allowedHere)),\n"
		"  \"disallowed\": dyn(r.want.filter(x, !(x in r.allowedHere))),\n"
		"  \"badPrivileged\": dyn(r.privileged && !variables.allowPrivileged),\n"
		"  \"compliant\": dyn(r.tidy && !r.unknownDrop && r.mustDrop.all(x, x in r.dropN) "
		"&&\n"
		"    r.addN.all(x, x in r.want && x in r.allowedHere) &&\n"
		"    r.want.all(x, !(x in r.allowedHere) || x in r.addN))})");
	if (add_var(v, "verdicts", &e, err) < 0)
		return -1;
	put(&e, "variables.denyDisallowed && variables.verdicts.exists(r,\n"
		"  size(r.disallowed) > 0 || size(r.unknownAdd) > 0 || r.badPrivileged)");
	if (add_var(v, "denied", &e, err) < 0)
		return -1;
	put(&e, "variables.verdicts.exists(r, !r.compliant || r.badPrivileged)");
	if (add_var(v, "changes", &e, err) < 0)
		return -1;
#define LABEL                                                                                      \
	"(r.list == \"containers\" ? \"container\" : r.list == \"initContainers\" ?\n"             \
	"    \"initContainer\" : \"ephemeralContainer\") + \" \\\"\" +\n"                          \
	"    (r.name != null ? r.name : \"?\") + \"\\\"\""
	/* string(...): each message is a string for the type checker too, so
	 * that join() applies to a list(string). */
	put(&e,
	    "variables.verdicts.filter(r, size(r.disallowed) > 0 || size(r.unknownAdd) > 0)"
	    ".map(r,\n  string(" LABEL " + \" adds \" +\n"
	    "    (r.disallowed + r.unknownAdd).join(\", \") + \" (not in "
	    "allowedCapabilities)\")) +\n"
	    "variables.verdicts.filter(r, r.badPrivileged).map(r,\n  string(" LABEL
	    " + \" is privileged (allowPrivileged is false)\")) +\n"
	    "variables.verdicts.filter(r, !r.compliant).map(r,\n  string(" LABEL
	    " + \" must have capabilities \" +\n"
	    "    (size(r.keep) > 0 ? \"add [\" +\n"
	    "      variables.capabilityNames.filter(x, x in r.keep).join(\", \") + \"], \" : "
	    "\"\") +\n"
	    "    \"drop [\" + variables.capabilityNames.filter(x, x in r.mustDrop).join(\", \") + "
	    "\"]\"))");
#undef LABEL
	return add_var(v, "problems", &e, err);
}

int cel_variables(const cg_policy *p, json_t **out, cg_error *err)
{
	cleanup_json json_t *v = json_array();
	if (v == NULL)
		return cg_error_set(err, ENOMEM, "out of memory");
	if (scope_vars(v, p, err) < 0 || spec_vars(v, p, err) < 0 || container_vars(v, p, err) < 0)
		return -1;
	*out = cg_steal(v);
	return 0;
}

static char *dup_buf(expr *e)
{
	if (e->rc != 0) {
		buf_free(&e->b);
		return NULL;
	}
	return e->b.data; /* owned by the caller now */
}

char *cel_validation(const char *mode)
{
	expr e = {0};
	putf(&e, "variables.skip || variables.mode != \"%s\" ||\n", mode);
	put(&e, "!(variables.denied || variables.changes)");
	return dup_buf(&e);
}

char *cel_message(void)
{
	expr e = {0};
	put(&e, "\"capgate: \" + variables.problems.join(\"; \")");
	return dup_buf(&e);
}

char *cel_audit_value(const char *mode)
{
	expr e = {0};
	putf(&e, "variables.skip || variables.mode != \"%s\" ||\n", mode);
	put(&e, "!(variables.denied || variables.changes) ? null :\n"
		"dyn(\"capgate: \" + variables.problems.join(\"; \"))");
	return dup_buf(&e);
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
	expr e = {0};
	put(&e,
	    "variables.skip || variables.mode != \"enforce\" || variables.denied ? [] :\n"
	    "variables.verdicts.filter(r, !r.compliant && r.securityContext == null).map(r,\n"
	    "  JSONPatch{op: \"add\", path: " CTR_PATH "\"/securityContext\",\n"
	    "    value: {\"capabilities\": " CAPS_VALUE "}}) +\n"
	    "variables.verdicts.filter(r, !r.compliant && r.securityContext != null &&\n"
	    "    r.capabilities == null).map(r,\n"
	    "  JSONPatch{op: \"add\", path: " CTR_PATH "\"/securityContext/capabilities\",\n"
	    "    value: " CAPS_VALUE "}) +\n"
	    "variables.verdicts.filter(r, !r.compliant && r.capabilities != null).map(r,\n"
	    "  JSONPatch{op: \"add\", path: " CTR_PATH "\"/securityContext/capabilities/drop\",\n"
	    "    value: " DROP_SORTED "}) +\n"
	    "variables.verdicts.filter(r, !r.compliant && r.capabilities != null &&\n"
	    "    size(r.keep) > 0).map(r,\n"
	    "  JSONPatch{op: \"add\", path: " CTR_PATH "\"/securityContext/capabilities/add\",\n"
	    "    value: " KEEP_SORTED "}) +\n"
	    "variables.verdicts.filter(r, !r.compliant && r.capabilities != null &&\n"
	    "    size(r.keep) == 0 && r.hasAdd).map(r,\n"
	    "  JSONPatch{op: \"remove\", path: " CTR_PATH
	    "\"/securityContext/capabilities/add\"}) +\n"
	    "variables.verdicts.filter(r, r.badPrivileged).map(r,\n"
	    "  JSONPatch{op: \"add\", path: " CTR_PATH "\"/securityContext/privileged\",\n"
	    "    value: false})");
	return dup_buf(&e);
}
