/* The non-root step of the engine (see nonroot.c for the kernel rules):
 * safe sysctls or the ambient wrapper for non-root containers that keep a
 * capability. Internal to the engine. */
#ifndef CG_NONROOT_H
#define CG_NONROOT_H

#include "policy/engine_ctx.h"

#define NONROOT_VOLUME	       "capgate-ambient"
#define NONROOT_INIT_CONTAINER "capgate-ambient-install"

/* Decides for one container after the allowlist step; may clear bits of
 * ct->keep (capabilities a sysctl replaces) and emit container-level ops. */
int nonroot_judge(engine_ctx *c, engine_ctr *ct) CG_MUST_CHECK;

/* Emits the pod-level operations (sysctls, volume, init container, the
 * capgate.dev/applied annotation) once every container has been judged. */
int nonroot_finish(engine_ctx *c) CG_MUST_CHECK;

/* capgate's own wrapper-installing init container (judged with SETFCAP
 * allowed, and never wrapped). */
bool nonroot_is_own_container(const engine_ctx *c, const engine_ctr *ct);

#endif
