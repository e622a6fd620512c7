/* A capgate policy as CEL: the variables, validation and JSON Patch
 * expressions that ValidatingAdmissionPolicy and MutatingAdmissionPolicy
 * run inside kube-apiserver (admission/render.c wraps them in objects).
 *
 * The expressions encode the engine's capability decision (policy/engine.c,
 * judge.c, the installer test of wrapper.c) step for step:
 *   - which objects carry a pod template, and where (request.kind.kind);
 *   - what is left alone: an UPDATE of an object being deleted, exempt
 *     namespaces, mirror pods, objects without a pod spec, Windows pods,
 *     exempt labels, exempt container names and image globs, and on
 *     pods/ephemeralcontainers every container but the ephemeral ones that
 *     oldObject does not hold;
 *   - what the operation allows: a Pod UPDATE (other than that
 *     subresource), a Job UPDATE and a template a controller owns are
 *     judged and warned about, never patched or denied; an UPDATE that
 *     leaves the whole pod template as it was is not denied;
 *   - which spec applies: rules in order, first match wins; OpenShift's SCC
 *     narrowing (cel_scc.c);
 *   - per container: names normalised (any case, optional CAP_), unknown
 *     names, duplicates, ALL, named drops that cancel adds and defaults,
 *     privileged, NET_BIND_SERVICE kept for a root container that declares
 *     a port below 1024, capgate's own installer (its whole spec, in a pod
 *     that runs the wrapper) with SETFCAP, and the exact lists the webhook
 *     writes (by capability number, ALL last);
 *   - the outcome as the variable `action`: "" (nothing to do), "enforce"
 *     (the webhook would deny or patch), "warn" or "audit" (it would warn,
 *     or record, and admit).
 * The non-root strategies (sysctl, wrapper) are not encoded: see
 * admission_render()'s notes and docs/admission-policy.md.
 *
 * Only what both kube-apiserver (1.30+) and a conformant evaluator without
 * Kubernetes' libraries support is used (docs/admission-policy.md, "The CEL
 * subset").
 */
#ifndef CG_CEL_H
#define CG_CEL_H

#include <jansson.h>

#include "common/error.h"
#include "policy/policy.h"

/* The policy's variables, in evaluation order: a new array of
 * {"name": ..., "expression": ...} objects. */
int cel_variables(const cg_policy *p, json_t **out, cg_error *err) CG_MUST_CHECK;

/* Expressions (new strings, free() them; NULL without memory):
 * cel_not_deleting: the matchCondition that leaves an UPDATE of an object
 *   being deleted alone (it reads no variables, as matchConditions must);
 * cel_validation: true unless `action` is the given one;
 * cel_message: the message, naming containers and capabilities (for a
 *   denial, the webhook's own message);
 * cel_audit_value: that message when `action` is the given one, else null;
 * cel_json_patch: the list of JSONPatch operations (enforce only). */
char *cel_not_deleting(void);
char *cel_validation(const char *action);
char *cel_message(void);
char *cel_audit_value(const char *action);
char *cel_json_patch(void);

#endif
