/* The per-container part of the CEL (admission/cel.c calls it): variables
 * that end in `verdicts`, one record per judged container with
 *   list, index, name: where it is (JSON Patch paths, messages);
 *   hasSecurityContext, hasCapabilities, hasAdd: what the patch must add;
 *   keep, mustDrop: the capabilities the webhook writes (unordered);
 *   disallowed, unknownAdd (as written): what it would strip or deny;
 *   badPrivileged, compliant.
 * Reads the variables podSpec, subResource, requiredDrop, allowed,
 * defaultAdd, allowPrivileged and capabilityNames. Internal to admission/.
 */
#ifndef CG_CEL_CONTAINERS_H
#define CG_CEL_CONTAINERS_H

#include <jansson.h>

#include "common/error.h"
#include "policy/policy.h"

int cel_container_vars(json_t *vars, const cg_policy *p, cg_error *err) CG_MUST_CHECK;

#endif
