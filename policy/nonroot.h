/* The non-root step of the engine (see nonroot.c for the kernel rules):
 * make the capabilities a non-root container asked for work, with a safe
 * sysctl or the ambient wrapper (wrapper.c). Internal to the engine.
 */
#ifndef CG_NONROOT_H
#define CG_NONROOT_H

#include "policy/engine_ctx.h"

#define NONROOT_VOLUME	       "capgate-ambient"
#define NONROOT_INIT_CONTAINER "capgate-ambient-install"

/* Who the container's process runs as: 1 a non-root uid (runAsUser != 0,
 * or runAsNonRoot: true), 0 root or unknown (the image's USER), negative
 * on a field of the wrong type (err filled). */
int nonroot_user(engine_ctx *c, engine_ctr *ct) CG_MUST_CHECK;

/* The lowest containerPort below 1024 the container declares, 0 for none.
 * Negative on a field of the wrong type. */
int nonroot_low_port(engine_ctx *c, engine_ctr *ct, long long *port) CG_MUST_CHECK;

/* Decides for one judged container after the allowlist step (ct->keep and
 * ct->user set): pod sysctls to request, or the wrapper. Never changes
 * ct->keep: an allowed capability the container asked for stays in add. */
int nonroot_judge(engine_ctx *c, engine_ctr *ct) CG_MUST_CHECK;

/* Records "how:container=CAP+CAP" in the capgate.dev/applied value. */
void nonroot_note_applied(engine_ctx *c, const char *how, const char *name, caps_set caps);

/* Emits the pod-level operations (sysctls, the wrapper's volume and init
 * container, the capgate.dev/applied annotation) once every container has
 * been judged. */
int nonroot_finish(engine_ctx *c) CG_MUST_CHECK;

#endif
