/* The non-root step of the engine (see nonroot.c for the kernel rules):
 * make the capabilities a non-root container asked for work, with a safe
 * sysctl or the ambient wrapper (wrapper.c). Internal to the engine: engine.c
 * holds one nonroot_state per decision and calls these in order.
 */
#ifndef CG_NONROOT_H
#define CG_NONROOT_H

#include <stdbool.h>

#include "policy/decision.h"
#include "policy/wrapper.h"

/* What the non-root step gathers across the containers of one pod, for
 * the pod-level operations nonroot_finish() emits. */
typedef struct nonroot_state {
	int port_start;	    /* lowest port < 1024 a sysctl must open; -1 none */
	long long ping_gid; /* gid for ping_group_range; -1 none */
	bool acted;	    /* something was changed for a non-root container */
	bool applied_full;  /* applied[] could not take every entry */
	char applied[1024]; /* capgate.dev/applied value */
	wrapper_state wrap; /* the wrapper strategy's own */
} nonroot_state;

/* Starts the state of one decision. */
void nonroot_begin(nonroot_state *nr);

/* Decides for one judged container after the allowlist step (ct->keep and
 * ct->user set): pod sysctls to request, or the wrapper. Never changes
 * ct->keep: an allowed capability the container asked for stays in add.
 * Negative on a field of the wrong type (c->err filled). */
int nonroot_judge(nonroot_state *nr, decision *c, decision_ctr *ct) CG_MUST_CHECK;

/* Emits the pod-level operations (sysctls, the wrapper's volume and init
 * container, the capgate.dev/applied annotation) once every container has
 * been judged. */
int nonroot_finish(nonroot_state *nr, decision *c) CG_MUST_CHECK;

#endif
