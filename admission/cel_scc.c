/* The SCC narrowing in CEL (see cel_scc.h).
 *
 * SCC admission mutates before webhooks and validates after them, and
 * records the SCC it chose in the pod's openshift.io/scc annotation: capgate
 * keeps only what that SCC admits. As the engine does:
 *  - no annotation: the spec as the rules chose it;
 *  - an SCC capgate does not know: no default capability (a container's own
 *    allowed adds stay);
 *  - an SCC that allows every capability ("*"): the spec as it is;
 *  - else allowed capabilities narrowed to the SCC's allowed and default
 *    ones, and the defaults to what is still allowed.
 */
#include "admission/cel_scc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "admission/cel_expr.h"

#define SCC_ANNOTATION "openshift.io/scc"

/* What an SCC lets capgate keep: its allowed and default adds, or ALL. */
static void scc_entry(cel_expr *e, const char *name, const policy_scc *scc, bool *first)
{
	cel_put(e, *first ? "" : ",\n  ");
	*first = false;
	cel_quote(e, name);
	cel_put(e, ": ");
	if (scc->allowed & CAPS_BIT(CAPS_ALL))
		cel_put(e, "[\"ALL\"]");
	else
		cel_capslist(e, scc->allowed | scc->default_add);
}

static bool seen(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Every SCC name capgate knows, each resolved by policy_find_scc() so that
 * ownSCC, the policy's descriptions and the built-in SCCs shadow each
 * other as in the engine. */
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
	for (size_t i = 0; i < n; i++)
		scc_entry(e, names[i], policy_find_scc(p, names[i]), &first);
	cel_put(e, "\n}");
	free(names);
	return 0;
}

int cel_scc_vars(json_t *vars, const cg_policy *p, cg_error *err)
{
	cel_expr e = {0};
	cel_put(&e, "\"" SCC_ANNOTATION "\" in variables.annotations ?\n"
		    "variables.annotations[\"" SCC_ANNOTATION "\"] : null");
	if (cel_add_var(vars, "scc", &e, err) < 0)
		return -1;
	if (scc_map(&e, p, err) < 0 || cel_add_var(vars, "sccCapabilities", &e, err) < 0)
		return -1;
	cel_put(&e,
		"variables.scc == null || !(variables.scc in variables.sccCapabilities) ||\n"
		"\"ALL\" in variables.sccCapabilities[variables.scc] ? variables.specAllowed :\n"
		"variables.specAllowed.filter(c, c in variables.sccCapabilities[variables.scc])");
	if (cel_add_var(vars, "allowed", &e, err) < 0)
		return -1;
	cel_put(&e,
		"variables.scc != null && !(variables.scc in variables.sccCapabilities) ? [] :\n"
		"variables.specDefaultAdd.filter(c, c in variables.allowed)");
	return cel_add_var(vars, "defaultAdd", &e, err);
}
