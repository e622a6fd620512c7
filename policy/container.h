/* What a container declares about itself, read with the pod's defaults
 * (a container's securityContext field overrides the pod's): the uid it
 * runs as, its low ports. Below the capability judgement (judge.c) and the
 * non-root strategies (nonroot.c), which both need them.
 */
#ifndef CG_CONTAINER_H
#define CG_CONTAINER_H

#include <stdbool.h>

#include "policy/decision.h"

/* An integer field of the container's securityContext, else the pod's
 * (only the pod's with pod_only). Returns 1 with *out set when found, 0
 * when absent, negative on a wrong type (c->err filled). */
int container_sc_int(decision *c, decision_ctr *ct, const char *key, bool pod_only,
		     long long *out) CG_MUST_CHECK;

/* Who the container's process runs as: 1 a non-root uid (runAsUser != 0,
 * or runAsNonRoot: true), 0 root or unknown (the image's USER), negative
 * on a field of the wrong type (c->err filled). */
int container_user(decision *c, decision_ctr *ct) CG_MUST_CHECK;

/* The lowest containerPort below 1024 the container declares into *port, 0
 * for none. Negative on a field of the wrong type (c->err filled). */
int container_low_port(decision *c, decision_ctr *ct, long long *port) CG_MUST_CHECK;

#endif
