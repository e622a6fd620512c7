/* One container's capabilities: what it has, what the policy lets it keep,
 * and the operations that make it so. Internal to the engine: engine.c
 * calls the three steps in order for every judged container, with the
 * non-root step (nonroot.c) between the second and the third.
 */
#ifndef CG_JUDGE_H
#define CG_JUDGE_H

#include "policy/decision.h"

/* Reads the container's capabilities and privileged flag, computes
 * ct->keep (the allowed adds, defaultAddCapabilities included), and strips
 * (warning) or denies what the policy does not allow. */
int judge_caps(decision *c, decision_ctr *ct) CG_MUST_CHECK;

/* A container that may run as root and did not drop ALL ran with the
 * runtime's default capabilities: keeps NET_BIND_SERVICE for a declared
 * port below 1024 when the policy allows it, and says by name what a newly
 * imposed drop ALL removes. */
int judge_root(decision *c, decision_ctr *ct) CG_MUST_CHECK;

/* Emits the container's capabilities (and privileged: false) when they are
 * not already exactly what the policy makes them; nothing for a compliant
 * container. */
int judge_emit(decision *c, decision_ctr *ct) CG_MUST_CHECK;

#endif
