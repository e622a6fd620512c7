/* A capgate policy as CEL: the variables, validation and JSON Patch
 * expressions that ValidatingAdmissionPolicy and MutatingAdmissionPolicy
 * run inside kube-apiserver (admission/render.c wraps them in objects).
 *
 * The expressions encode the engine's capability decision (policy/engine.c)
 * as it stands, step for step:
 *   - which objects carry a pod template, and where (request.kind.kind);
 *   - what is left alone: exempt namespaces, mirror pods, objects without a
 *     pod spec, Windows pods, exempt labels, exempt container names and
 *     image globs (capgate's own wrapper init container is never exempt);
 *   - which spec applies: rules in order, first match wins;
 *   - OpenShift: the spec narrowed to the SCC named in openshift.io/scc;
 *   - per container (init, regular, ephemeral; only ephemeral on the
 *     pods/ephemeralcontainers subresource): names normalised (any case,
 *     optional CAP_), unknown names, duplicates, ALL, the named drops that
 *     cancel adds and defaultAddCapabilities, privileged, and the exact
 *     capabilities the webhook would write (sorted by number, ALL last).
 * The non-root strategies (sysctl, wrapper) are not encoded: see
 * admission_render()'s notes and docs/admission-policy.md.
 *
 * Only what both kube-apiserver (1.30+) and a conformant evaluator without
 * Kubernetes' libraries support is used: standard macros (all, exists,
 * filter, map), has(), matches(), dyn(), the strings extension's
 * lowerAscii/upperAscii/substring/join, and Kubernetes' lists library's
 * indexOf (for container indices in JSON Patch paths). No optionals, no
 * cel.bind, no two-variable comprehensions.
 */
#ifndef CG_CEL_H
#define CG_CEL_H

#include <jansson.h>

#include "common/error.h"
#include "policy/policy.h"

/* The policy's variables, in evaluation order: a new array of
 * {"name": ..., "expression": ...} objects. */
int cel_variables(const cg_policy *p, json_t **out, cg_error *err) CG_MUST_CHECK;

/* Expressions over those variables (new strings, free() them):
 * cel_validation: true when the object passes under the spec of the given
 *   mode ("enforce", "warn", "audit"): left alone, judged under another
 *   mode, or nothing the webhook would deny or change;
 * cel_message: the rejection message, naming containers and capabilities;
 * cel_audit_value: that message, or null when the object passes;
 * cel_json_patch: the list of JSONPatch operations (enforce mode only). */
char *cel_validation(const char *mode);
char *cel_message(void);
char *cel_audit_value(const char *mode);
char *cel_json_patch(void);

#endif
