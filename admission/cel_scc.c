/* The SCC narrowing in CEL (see cel_scc.h).
 *
 * SCC admission mutates before webhooks, recording the SCC it chose in the
 * pod's openshift.io/scc annotation, and validates after them; a workload
 * template carries no admitted SCC, only the one that
 * openshift.io/required-scc pins for its pods. As the engine does
 * (policy/engine.c, narrow_to_scc):
 *  - which SCC: a Pod's openshift.io/scc, else openshift.io/required-scc;
 *    a template's required-scc only (an openshift.io/scc there binds
 *    nothing);
 *  - on OpenShift: an SCC named, an openshift.io/scc annotation present, or
 *    spec.openshift.enabled in the policy;
 *  - off OpenShift: the spec as the rules chose it;
 *  - an SCC capgate does not know (none named, or a name it does not know):
 *    no default capability (a container's own allowed adds stay);
 *  - a known SCC: allowed capabilities narrowed to the SCC's allowed and
 *    default ones (unless it allows "*"), less those it requires dropped
 *    by name, and the defaults to what is still allowed.
 */
#include "admission/cel_scc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "admission/cel_expr.h"

#define SCC_ANNOTATION		"openshift.io/scc"
#define REQUIRED_SCC_ANNOTATION "openshift.io/required-scc"

/* What an SCC lets capgate keep: "allowed", its allowed and default adds
 * (["ALL"] when it allows "*"), and "drop", the capabilities it requires
 * dropped by name (capabilities/mustrunas.go Validate). */
static void scc_entry(cel_expr *e, const char *name, const policy_scc *scc, bool *first)
{
	cel_put(e, *first ? "" : ",\n  ");
	*first = false;
	cel_quote(e, name);
	cel_put(e, ": {\"allowed\": ");
	if (scc->allowed & CAPS_BIT(CAPS_ALL))
		cel_put(e, "[\"ALL\"]");
	else
		cel_capslist(e, scc->allowed | scc->default_add);
	cel_put(e, ", \"drop\": ");
	cel_capslist(e, scc->required_drop & CAPS_KNOWN_MASK);
	cel_put(e, "}");
}

static bool seen(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Every SCC name capgate knows, each resolved by policy_find_scc() so that
 * ownSCC, the policy's descriptions and the built-in SCCs of the policy's
 * OpenShift version shadow each other as in the engine. */
static int scc_map(cel_expr *e, const cg_policy *p, cg_error *err)
{
	size_t n_builtin = 0;
	while (policy_builtin_scc_name(n_builtin) != NULL)
		n_builtin++;
	const char **names = calloc(1 + p->n_sccs + n_builtin, sizeof(*names));
	if (names == NULL)
		return cg_error_set(err, ENOMEM, "out of memory");
	size_t n = 0;
	if (p->own_scc)
		names[n++] = p->own_scc;
	for (size_t i = 0; i < p->n_sccs; i++)
		if (!seen(names, n, p->sccs[i].name))
			names[n++] = p->sccs[i].name;
	for (size_t i = 0; i < n_builtin; i++)
		if (!seen(names, n, policy_builtin_scc_name(i)))
			names[n++] = policy_builtin_scc_name(i);
	bool first = true;
	cel_put(e, "{\n  ");
	for (size_t i = 0; i < n; i++) {
		const policy_scc *scc = policy_find_scc(p, names[i]);
		if (scc == NULL) { /* every name listed is one it finds */
			int rc = cg_error_set(err, EINVAL, "SCC \"%s\" not found", names[i]);
			free(names); /* after the message: names[i] lives in names */
			return rc;
		}
		scc_entry(e, names[i], scc, &first);
	}
	cel_put(e, "\n}");
	free(names);
	return 0;
}

int cel_scc_vars(json_t *vars, const cg_policy *p, cg_error *err)
{
	cel_expr e = {0};
	cel_put(&e, "\"" SCC_ANNOTATION "\" in variables.annotations ?\n"
		    "variables.annotations[\"" SCC_ANNOTATION "\"] : null");
	if (cel_add_var(vars, "admittedScc", &e, err) < 0)
		return -1;
	cel_put(&e, "variables.kind == \"Pod\" && variables.admittedScc != null ?\n"
		    "  variables.admittedScc :\n"
		    "\"" REQUIRED_SCC_ANNOTATION "\" in variables.annotations ?\n"
		    "  variables.annotations[\"" REQUIRED_SCC_ANNOTATION "\"] : null");
	if (cel_add_var(vars, "scc", &e, err) < 0)
		return -1;
	cel_putf(&e, "variables.scc != null || variables.admittedScc != null || %s",
		 p->openshift ? "true" : "false");
	if (cel_add_var(vars, "openshift", &e, err) < 0)
		return -1;
	if (scc_map(&e, p, err) < 0 || cel_add_var(vars, "sccs", &e, err) < 0)
		return -1;
	cel_put(&e, "variables.scc != null && variables.scc in variables.sccs");
	if (cel_add_var(vars, "sccKnown", &e, err) < 0)
		return -1;
	/* engine_scc_unknown(): on OpenShift, under no SCC capgate knows. */
	cel_put(&e, "variables.openshift && !variables.sccKnown");
	if (cel_add_var(vars, "sccUnknown", &e, err) < 0)
		return -1;
	cel_put(&e, "!variables.sccKnown ? variables.specAllowed :\n"
		    "variables.specAllowed.filter(c,\n"
		    "  (\"ALL\" in variables.sccs[variables.scc].allowed ||\n"
		    "    c in variables.sccs[variables.scc].allowed) &&\n"
		    "  !(c in variables.sccs[variables.scc].drop))");
	if (cel_add_var(vars, "allowed", &e, err) < 0)
		return -1;
	cel_put(&e, "variables.sccUnknown ? [] :\n"
		    "variables.specDefaultAdd.filter(c, c in variables.allowed)");
	return cel_add_var(vars, "defaultAdd", &e, err);
}
