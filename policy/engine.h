/* The engine: policy + Kubernetes object in, decision + JSON patch out.
 *
 * Pure: no sockets, files, clocks or logging. The object is a jansson tree
 * (borrowed; it may be a pruned tree from server/review.c holding only the fields
 * the engine reads). Every json_t in a decision is owned by the decision and
 * released by engine_decision_clear(); in the server they live in the
 * request's arena (common/arena.h) and clearing is free.
 */
#ifndef CG_ENGINE_H
#define CG_ENGINE_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "policy/policy.h"

typedef struct engine_request {
	const char *kind;	  /* "Pod", "Deployment", ..., from request.kind.kind */
	const char *operation;	  /* "CREATE", "UPDATE", "DELETE", "CONNECT" */
	const char *namespace;	  /* request namespace, or the object's; may be "" */
	const char *sub_resource; /* "" or e.g. "ephemeralcontainers" */
	json_t *object;		  /* borrowed */
	json_t *old_object;	  /* borrowed: request.oldObject on UPDATE, else NULL */
	bool explain;		  /* fill decision.changes (reports, /validate) */
} engine_request;

typedef struct engine_decision {
	const char *skipped;   /* why the object was left alone unjudged, or NULL */
	const char *unpatched; /* why a judged object that is not compliant gets
				* neither a patch nor a denial (an immutable
				* template...), or NULL */
	bool allowed;
	int status_code;  /* when denied: the code for status.code (403) */
	char *message;	  /* when denied: names every container and capability */
	json_t *patch;	  /* RFC 6902 operations in apply order; NULL: no change */
	json_t *warnings; /* array of strings, each <= 120 chars, printable */
	json_t *audit;	  /* object: key (qualified name, no '/', <= 63) -> string */
	json_t *changes;  /* array of {"container","path","what"}: filled when
			   * the request asks to explain, or in warn mode */
} engine_decision;

/* Judges one object. Returns 0 with *out filled, or a negative value when the
 * object cannot be judged (a pod spec of the wrong shape): err says what is
 * wrong and the caller answers per the policy's onError. */
int engine_decide(const cg_policy *p, const engine_request *req, engine_decision *out,
		  cg_error *err) CG_MUST_CHECK;

void engine_decision_clear(engine_decision *d);

/* The resources the engine judges, as admissionregistration.k8s.io/v1 rules
 * (the kinds of kinds[] in engine.c, and pods/ephemeralcontainers on
 * UPDATE): the MutatingWebhookConfiguration and the admission policies
 * match exactly these. A new array the caller owns, or NULL without
 * memory. */
json_t *engine_resource_rules(void);

#endif
