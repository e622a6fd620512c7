/* OpenShift: the policy spec narrowed to what the pod's SCC admits, in CEL.
 * The one place where the admission policies follow the engine's SCC rules
 * (policy/engine.c, narrow_to_scc; policy_find_scc() for the SCCs capgate
 * knows), so that a change there has one counterpart here. Internal to
 * admission/.
 *
 * Reads the variables `kind`, `annotations` (the pod template's),
 * `specAllowed` and `specDefaultAdd` (the spec the rules chose, canonical
 * names); defines `openshift` (judged as under an SCC, known or not),
 * `sccUnknown` (on OpenShift under an SCC capgate does not know), and
 * `allowed` and `defaultAdd`, the lists every later expression uses.
 */
#ifndef CG_CEL_SCC_H
#define CG_CEL_SCC_H

#include <jansson.h>

#include "common/error.h"
#include "policy/policy.h"

int cel_scc_vars(json_t *vars, const cg_policy *p, cg_error *err) CG_MUST_CHECK;

#endif
