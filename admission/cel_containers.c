/* Every container the engine judges, as CEL records (see cel_containers.h).
 *
 * Stage by stage, as judge.c goes: the records of the containers judged
 * (init, regular, ephemeral; only the new ephemeral ones on the
 * subresource), capgate's own installer recognised by its whole spec,
 * exemptions, names normalised, what the container wants, what it keeps
 * (NET_BIND_SERVICE for a root container's low port included), and
 * whether it is already exactly as the webhook would write it.
 */
#include "admission/cel_containers.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "admission/cel_expr.h"
#include "admission/glob.h"
#include "common/cleanup.h"
#include "policy/wrapper.h"

static const char *const lists[] = {"initContainers", "containers", "ephemeralContainers"};

/* Any capability: the installer's command is compared apart (installer). */
#define SOME_CAP CAPS_NET_BIND_SERVICE

/* Whether container record r (with name and image) is exempt. */
static int exempt(cel_expr *e, const cg_policy *p, cg_error *err)
{
	const policy_exemptions *x = &p->exemptions;
	if (x->container_names.n == 0 && x->images.n == 0) {
		cel_put(e, "false");
		return 0;
	}
	cel_put(e, "(");
	if (x->container_names.n > 0) {
		cel_put(e, "r.name in ");
		cel_strlist(e, &x->container_names);
	}
	if (x->images.n > 0) {
		cel_put(e, x->container_names.n ? " || " : "");
		cel_put(e, "r.image != null && (");
		for (size_t i = 0; i < x->images.n; i++) {
			cg_buf re = {0};
			if (glob_to_re2(x->images.v[i], &re, err) < 0) {
				buf_free(&re);
				return cg_error_prefix(err, "spec.exemptions.images[%zu]", i);
			}
			cel_put(e, i ? " || " : "");
			cel_put(e, "r.image.matches(");
			cel_quote(e, re.data);
			cel_put(e, ")");
			buf_free(&re);
		}
		cel_put(e, ")");
	}
	cel_put(e, ")");
	return 0;
}

/* Whether the policy can have an installer to recognise: the engine's
 * wrapper_is_installer() needs initContainer delivery and an image. */
static bool installer_possible(const cg_policy *p)
{
	return p->nonroot.delivery == POLICY_DELIVERY_INIT_CONTAINER && p->nonroot.image != NULL;
}

/* Some container's command is the wrapper (wrapper.c, is_wrapped). */
static int wrapper_in_pod(json_t *v, const cg_policy *p, cg_error *err)
{
	cel_expr e = {0};
	if (!installer_possible(p)) {
		cel_put(&e, "false");
		return cel_add_var(v, "wrapperInPod", &e, err);
	}
	/* What an installer's --caps may name (wrapper.c, parse_caps_arg). */
	cel_capslist(&e, CAPS_KNOWN_MASK);
	if (cel_add_var(v, "installableCaps", &e, err) < 0)
		return -1;
	cel_put(&e, "(");
	for (size_t l = 0; l < 2; l++)
		cel_putf(&e,
			 "%s(has(variables.podSpec.%s) && variables.podSpec.%s != null ?\n"
			 "  variables.podSpec.%s : [])",
			 l ? " +\n" : "", lists[l], lists[l], lists[l]);
	cel_put(&e, ").exists(c, has(c.command) && c.command != null && size(c.command) > 2 &&\n"
		    "  c.command[0] == ");
	cel_quote(&e, p->nonroot.wrapper_path);
	cel_put(&e, " && c.command[1].startsWith(\"--caps=\") &&\n  c.command[2] == \"--\")");
	return cel_add_var(v, "wrapperInPod", &e, err);
}

/* The installer's command (wrapper.c, installer_command_caps): the three
 * fixed words of want, then `--caps=LIST` with LIST canonical names of
 * capabilities (not ALL), each once, in capability order, at least one
 * (what caps_set_format() writes); or the three words alone, the form
 * capgate wrote before --caps (it installs NET_BIND_SERVICE and NET_RAW). */
static void installer_command(cel_expr *e, json_t *want)
{
	cel_put(e, "has(c.command) && c.command != null &&\n    (size(c.command) == 3 ?\n"
		   "      c.command == [");
	for (size_t i = 0; i < 3; i++) {
		cel_put(e, i ? ", " : "");
		cel_quote(e, json_string_value(json_array_get(want, i)));
	}
	cel_put(e, "] :\n      size(c.command) == 4 && c.command == [");
	for (size_t i = 0; i < 3; i++) {
		cel_quote(e, json_string_value(json_array_get(want, i)));
		cel_put(e, ", ");
	}
	cel_put(e, "c.command[3]] &&\n"
		   "      c.command[3].startsWith(\"--caps=\") &&\n"
		   "      variables.installableCaps.filter(x,\n"
		   "        x in c.command[3].substring(7).split(\",\")) ==\n"
		   "        c.command[3].substring(7).split(\",\"))");
}

/* The installer's securityContext (wrapper.c, sc_same_but_drops): want's,
 * but for capabilities.drop, which may be any list of canonical names of
 * capabilities, each once, holding ALL and not SETFCAP (the policy's and
 * the SCC's named drops as they were when capgate wrote them). Compared
 * whole, with the container's own drop list in want's place. */
static void installer_sc(cel_expr *e, json_t *want)
{
	cel_put(e, "has(c.securityContext) && c.securityContext != null &&\n"
		   "    has(c.securityContext.capabilities) &&\n"
		   "    c.securityContext.capabilities != null &&\n"
		   "    has(c.securityContext.capabilities.drop) &&\n"
		   "    c.securityContext.capabilities.drop != null &&\n"
		   "    \"ALL\" in c.securityContext.capabilities.drop &&\n"
		   "    !(\"SETFCAP\" in c.securityContext.capabilities.drop) &&\n"
		   "    variables.capabilityNames.filter(x,\n"
		   "      x in c.securityContext.capabilities.drop).size() ==\n"
		   "      c.securityContext.capabilities.drop.size() &&\n"
		   "    c.securityContext == {");
	const char *k;
	json_t *x;
	bool first = true;
	json_object_foreach(want, k, x)
	{
		cel_put(e, first ? "" : ", ");
		first = false;
		cel_quote(e, k);
		cel_put(e, ": dyn(");
		if (strcmp(k, "capabilities") == 0) {
			cel_put(e, "{\"add\": dyn(");
			cel_json(e, json_object_get(x, "add"));
			cel_put(e, "),\n      \"drop\": dyn(c.securityContext.capabilities.drop)}");
		} else {
			cel_json(e, x);
		}
		cel_put(e, ")");
	}
	cel_put(e, "}");
}

/* Container c is capgate's installer by its whole generated spec
 * (wrapper.c, wrapper_is_installer): every member equal but the two that
 * follow the pod, the policy and the SCC (its --caps and its named drops,
 * above), the resources at least the installer's (a LimitRange may add
 * others), none of the members it never has. */
static int installer(cel_expr *e, const cg_policy *p, cg_error *err)
{
	cleanup_json json_t *want =
		wrapper_installer_spec(&p->nonroot, CAPS_BIT(SOME_CAP), CAPS_BIT(CAPS_ALL));
	if (want == NULL)
		return cg_error_set(err, ENOMEM, "out of memory");
	const char *k;
	json_t *x;
	bool first = true;
	/* name first: the other members are compared only for a container
	 * named like the installer. */
	json_object_foreach(want, k, x)
	{
		cel_put(e, first ? "" : " &&\n    ");
		first = false;
		if (strcmp(k, "command") == 0) {
			installer_command(e, x);
			continue;
		}
		if (strcmp(k, "securityContext") == 0) {
			installer_sc(e, x);
			continue;
		}
		cel_putf(e, "has(c.%s) && c.%s != null", k, k);
		if (strcmp(k, "resources") != 0) {
			cel_putf(e, " && c.%s == ", k);
			cel_json(e, x);
			continue;
		}
		cel_put(e, " &&\n    c.resources.all(k, k == \"requests\" || k == \"limits\")");
		const char *kind;
		json_t *q;
		json_object_foreach(x, kind, q)
		{
			const char *r;
			json_t *val;
			json_object_foreach(q, r, val)
			{
				cel_putf(e,
					 " &&\n    \"%s\" in c.resources && \"%s\" in "
					 "c.resources.%s && ",
					 kind, r, kind);
				cel_putf(e, "c.resources.%s[\"%s\"] == ", kind, r);
				cel_json(e, val);
			}
		}
	}
	for (size_t i = 0; wrapper_installer_absent[i]; i++)
		cel_putf(e, " &&\n    !has(c.%s)", wrapper_installer_absent[i]);
	cel_put(e, " &&\n    variables.wrapperInPod");
	return 0;
}

/* Who the container runs as (policy/container.c, container_user): runAsUser of the
 * container, else of the pod; else runAsNonRoot likewise; else root or
 * unknown. */
static const char non_root[] =
	"has(c.securityContext) && c.securityContext != null &&\n"
	"      has(c.securityContext.runAsUser) && c.securityContext.runAsUser != null ?\n"
	"      c.securityContext.runAsUser != 0 :\n"
	"    has(variables.podSecurityContext.runAsUser) &&\n"
	"      variables.podSecurityContext.runAsUser != null ?\n"
	"      variables.podSecurityContext.runAsUser != 0 :\n"
	"    has(c.securityContext) && c.securityContext != null &&\n"
	"      has(c.securityContext.runAsNonRoot) && c.securityContext.runAsNonRoot != null ?\n"
	"      c.securityContext.runAsNonRoot == true :\n"
	"    has(variables.podSecurityContext.runAsNonRoot) &&\n"
	"      variables.podSecurityContext.runAsNonRoot == true";

static int container_records(json_t *v, const cg_policy *p, cg_error *err)
{
	cel_expr e = {0};
	char name[64];
	/* Container indices for JSON Patch paths: names are unique in a pod
	 * that passes validation. */
	for (size_t l = 0; l < 3; l++) {
		cel_putf(&e,
			 "has(variables.podSpec.%s) && variables.podSpec.%s != null ?\n"
			 "variables.podSpec.%s.map(x, has(x.name) ? x.name : \"\") : []",
			 lists[l], lists[l], lists[l]);
		snprintf(name, sizeof(name), "%sNames", lists[l]);
		if (cel_add_var(v, name, &e, err) < 0)
			return -1;
	}
	/* The apiserver refuses any change to an ephemeral container that
	 * exists: on the subresource only the new ones are judged. */
	cel_put(&e, "variables.subResource == \"ephemeralcontainers\" && oldObject != null ?\n  "
		    "(");
	cel_member(&e, "oldObject", (const char *const[]){"spec", "ephemeralContainers"}, 2);
	cel_put(&e, " == null ? [] :\n  oldObject.spec.ephemeralContainers.map(x,\n"
		    "    has(x.name) && x.name != null ? x.name : null)) : []");
	if (cel_add_var(v, "oldEphemeralNames", &e, err) < 0)
		return -1;
	cel_put(&e,
		"has(variables.podSpec.securityContext) && variables.podSpec.securityContext != "
		"null ?\nvariables.podSpec.securityContext : {}");
	if (cel_add_var(v, "podSecurityContext", &e, err) < 0 || wrapper_in_pod(v, p, err) < 0)
		return -1;
	/* Only ephemeral containers on the ephemeralcontainers subresource. */
	for (size_t l = 0; l < 3; l++) {
		const char *n = lists[l];
		cel_put(&e, l ? " +\n" : "");
		if (l < 2)
			cel_put(&e, "(variables.subResource == \"ephemeralcontainers\" ? [] : ");
		cel_putf(&e,
			 "(has(variables.podSpec.%s) && variables.podSpec.%s != null ?\n"
			 "  variables.podSpec.%s : [])",
			 n, n, n);
		if (l == 2)
			cel_put(&e, ".filter(c, !(has(c.name) && c.name != null &&\n"
				    "    c.name in variables.oldEphemeralNames))");
		cel_putf(&e,
			 ".map(c, {\"list\": dyn(\"%s\"),\n"
			 "  \"index\": dyn(variables.%sNames.indexOf(has(c.name) ? c.name : "
			 "\"\")),\n",
			 n, n);
		cel_put(&e, "  \"name\": dyn(has(c.name) && c.name != null ? c.name : null),\n"
			    "  \"image\": dyn(has(c.image) && c.image != null ? c.image : null),\n"
			    "  \"sc\": dyn(has(c.securityContext) && c.securityContext != null ?\n"
			    "    c.securityContext : null),\n"
			    "  \"own\": dyn(");
		if (l == 0 && installer_possible(p)) {
			if (installer(&e, p, err) < 0) {
				buf_free(&e.b);
				return -1;
			}
		} else {
			cel_put(&e, "false");
		}
		cel_put(&e, "),\n  \"nonRoot\": dyn(");
		cel_put(&e, non_root);
		cel_put(&e,
			"),\n"
			"  \"lowPort\": dyn(has(c.ports) && c.ports != null && c.ports.exists(x,\n"
			"    has(x.containerPort) && x.containerPort != null && x.containerPort "
			"> 0 &&\n    x.containerPort < 1024))})");
		if (l < 2)
			cel_put(&e, ")");
	}
	return cel_add_var(v, "containers", &e, err);
}

/* Capability name normalised as caps_lookup() does: upper case (ASCII),
 * a CAP_ prefix dropped when something follows it. */
#define NORM_N                                                                                     \
	"(n.upperAscii().startsWith(\"CAP_\") && n.size() > 4 ?\n"                                 \
	"      n.upperAscii().substring(4) : n.upperAscii())"
#define CAPS_MEMBER(k)                                                                             \
	"r.sc != null && has(r.sc.capabilities) && r.sc.capabilities != null &&\n"                 \
	"    has(r.sc.capabilities." k ") && r.sc.capabilities." k " != null"

int cel_container_vars(json_t *v, const cg_policy *p, cg_error *err)
{
	cel_expr e = {0};
	if (container_records(v, p, err) < 0)
		return -1;
	/* capgate's own installer is not judged at all (engine.c, judge_one):
	 * nothing in it is the pod author's, so re-invocation finds it as
	 * capgate wrote it. */
	cel_put(&e, "variables.containers.filter(r, !r.own && !");
	if (exempt(&e, p, err) < 0) {
		buf_free(&e.b);
		return -1;
	}
	cel_put(&e,
		").map(r, {\"list\": r.list, \"index\": r.index, \"name\": r.name,\n"
		"  \"nonRoot\": r.nonRoot, \"lowPort\": r.lowPort,\n"
		"  \"hasCapabilities\": dyn(r.sc != null && has(r.sc.capabilities) &&\n"
		"    r.sc.capabilities != null),\n"
		"  \"hasSecurityContext\": dyn(r.sc != null),\n"
		"  \"privileged\": dyn(r.sc != null && has(r.sc.privileged) &&\n"
		"    r.sc.privileged == true),\n"
		"  \"hasAdd\": dyn(" CAPS_MEMBER(
			"add") "),\n"
			       "  \"add\": dyn(" CAPS_MEMBER(
				       "add") " ? r.sc.capabilities.add : []),\n"
					      "  \"drop\": dyn(" CAPS_MEMBER(
						      "drop") " ? r.sc.capabilities.drop : [])})");
	if (cel_add_var(v, "judged", &e, err) < 0)
		return -1;
		/* tidy: every name already canonical and given once (judge.c). Names
		 * that are not capabilities are kept as written, for messages. */
#define COMMON                                                                                     \
	"{\"list\": r.list, \"index\": r.index, \"name\": r.name,\n"                               \
	"  \"hasSecurityContext\": r.hasSecurityContext, \"hasCapabilities\": "                    \
	"r.hasCapabilities,\n"                                                                     \
	"  \"hasAdd\": r.hasAdd, \"privileged\": r.privileged,\n"
	cel_put(&e, "variables.judged.map(r, " COMMON
		    "  \"nonRoot\": r.nonRoot, \"lowPort\": r.lowPort,\n"
		    "  \"addN\": dyn(r.add.map(n, " NORM_N ")),\n"
		    "  \"dropN\": dyn(r.drop.map(n, " NORM_N ")),\n"
		    "  \"unknownAdd\": dyn(r.add.filter(n,\n"
		    "    !(" NORM_N " in variables.capabilityNames))),\n"
		    "  \"unknownDrop\": dyn(r.drop.exists(n,\n"
		    "    !(" NORM_N " in variables.capabilityNames))),\n"
		    "  \"tidy\": dyn(r.add.all(n, n in variables.capabilityNames &&\n"
		    "      r.add.filter(m, m == n).size() == 1) &&\n"
		    "    r.drop.all(n, n in variables.capabilityNames &&\n"
		    "      r.drop.filter(m, m == n).size() == 1))})");
	if (cel_add_var(v, "named", &e, err) < 0)
		return -1;
	/* A specific drop wins over an add and over defaultAdd; ALL in drop is
	 * the baseline and cancels nothing. Sets are unordered lists here; the
	 * webhook's order is applied only where lists are written out. */
	cel_put(&e, "variables.named.map(r, " COMMON
		    "  \"nonRoot\": r.nonRoot, \"lowPort\": r.lowPort, \"addN\": r.addN,\n"
		    "  \"dropN\": r.dropN, \"unknownAdd\": r.unknownAdd, \"unknownDrop\": "
		    "r.unknownDrop,\n"
		    "  \"tidy\": r.tidy,\n"
		    "  \"want\": dyn((r.addN.filter(x, x in variables.capabilityNames) +\n"
		    "    variables.defaultAdd).filter(x, x == \"ALL\" || !(x in r.dropN))),\n"
		    "  \"mustDrop\": dyn(variables.requiredDrop +\n"
		    "    r.dropN.filter(x, x != \"ALL\" && x in variables.capabilityNames))})");
	if (cel_add_var(v, "wanted", &e, err) < 0)
		return -1;
	/* judge_root: a container that may run as root and did not drop ALL
	 * had the runtime's NET_BIND_SERVICE; for a declared port below 1024
	 * it keeps it where the policy allows it (drop ALL would close the
	 * port), except under an SCC capgate does not know, where capgate adds
	 * nothing. judge_caps: on OpenShift a capability stripped is also
	 * dropped by name, since SCC admission adds its defaults back to a
	 * container that does not drop them by name (drop ALL does not count)
	 * and capgate cannot always know them. */
	cel_put(&e,
		"variables.wanted.map(r, " COMMON
		"  \"dropN\": r.dropN, \"addN\": r.addN, \"tidy\": r.tidy,\n"
		"  \"unknownAdd\": r.unknownAdd, \"unknownDrop\": r.unknownDrop,\n"
		"  \"mustDrop\": dyn(variables.openshift && !variables.denyDisallowed ?\n"
		"    r.mustDrop + r.want.filter(x, !(x in variables.allowed)) : r.mustDrop),\n"
		"  \"keep\": dyn(r.want.filter(x, x in variables.allowed) +\n"
		"    (r.lowPort && !r.nonRoot && !variables.sccUnknown &&\n"
		"     \"ALL\" in variables.requiredDrop &&\n"
		"     !(\"ALL\" in r.dropN) && \"NET_BIND_SERVICE\" in variables.allowed &&\n"
		"     !(\"NET_BIND_SERVICE\" in r.dropN) && !(\"NET_BIND_SERVICE\" in r.want) ?\n"
		"      [\"NET_BIND_SERVICE\"] : [])),\n"
		"  \"disallowed\": dyn(r.want.filter(x, !(x in variables.allowed))),\n"
		"  \"badPrivileged\": dyn(r.privileged && !variables.allowPrivileged)})");
	if (cel_add_var(v, "kept", &e, err) < 0)
		return -1;
	cel_put(&e,
		"variables.kept.map(r, " COMMON
		"  \"mustDrop\": r.mustDrop, \"keep\": r.keep, \"unknownAdd\": r.unknownAdd,\n"
		"  \"disallowed\": r.disallowed, \"badPrivileged\": r.badPrivileged,\n"
		"  \"compliant\": dyn(r.tidy && !r.unknownDrop && r.mustDrop.all(x, x in r.dropN) "
		"&&\n"
		"    r.addN.all(x, x in r.keep) && r.keep.all(x, x in r.addN))})");
#undef COMMON
	return cel_add_var(v, "verdicts", &e, err);
}
