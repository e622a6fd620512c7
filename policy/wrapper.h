/* The capgate-ambient wrapper as the engine injects it: the container's
 * command, its volume and the root init container that installs it with
 * its file capability. Internal to the engine (nonroot.c decides when),
 * except the installer's spec and the members it never has, which
 * admission/cel_containers.c also reads to recognise the installer in CEL as
 * wrapper_is_installer() does.
 */
#ifndef CG_WRAPPER_H
#define CG_WRAPPER_H

#include "policy/engine_ctx.h"

/* capgate's own installer: its whole generated spec (name, image, command,
 * args, securityContext, volumeMounts, resources, see
 * wrapper_installer_spec), in a pod where some container already runs the
 * wrapper. It is not judged at all; anything else named like it is judged
 * like any container. */
bool wrapper_is_installer(engine_ctx *c, const engine_ctr *ct);

/* The installer init container as the engine injects it: a new object (NULL
 * without memory). nr->image must be set; caps (what it installs, not 0)
 * go in its command, `--caps=LIST` after the three fixed words, and drops
 * (ALL first, then names in capability order) in
 * securityContext.capabilities.drop. Its resources are a minimum: the
 * installer may hold more (a LimitRange's defaults) but not other values.
 * The engine takes an installer whose command installs other capabilities
 * (or is the older three-word form) or whose drops are other canonical
 * names with ALL and without SETFCAP as its own, and rewrites those two. */
json_t *wrapper_installer_spec(const policy_nonroot *nr, caps_set caps, caps_set drops);

/* Members capgate's installer never has, NULL-terminated. */
extern const char *const wrapper_installer_absent[];

/* Makes the wrapper raise caps for the container. Returns 1 when done (or
 * already done), 0 when it cannot be (*why says why, for a message),
 * negative on a field of the wrong type. */
int wrapper_wrap(engine_ctx *c, engine_ctr *ct, caps_set caps, const char **why) CG_MUST_CHECK;

/* The pod-level part: the wrapper's volume and installer, when some
 * container needs them. */
int wrapper_finish(engine_ctx *c) CG_MUST_CHECK;

#endif
