/* The capgate-ambient wrapper as the engine injects it: the container's
 * command, its volume and the root init container that installs it with
 * its file capability. Internal to the engine (nonroot.c decides when),
 * except the installer's spec and the members it never has, which
 * admission/cel_containers.c also reads to recognise the installer in CEL as
 * wrapper_is_installer() does.
 */
#ifndef CG_WRAPPER_H
#define CG_WRAPPER_H

#include <stdbool.h>

#include "policy/decision.h"

#define WRAPPER_VOLUME	       "capgate-ambient"
#define WRAPPER_INIT_CONTAINER "capgate-ambient-install"

/* What the wrapper strategy learns and owes across one pod's containers.
 * Zero-initialise per decision. */
typedef struct wrapper_state {
	bool wrapped_init; /* some container uses the initContainer delivery */
	bool wrapped_image_volume;
	bool scanned;	     /* wrapper_in_pod is known */
	bool wrapper_in_pod; /* a container's command is already the wrapper */
	caps_set init_caps;  /* what the wrapped containers raise: the installer's --caps */
	bool installer_seen; /* capgate's own installer is in the pod, at installer_path */
	caps_set installer_caps;
	bool installer_drops_stale; /* its named drops are not what they should be */
	patch_path installer_path;
	bool slot_checked;    /* slot_why is known */
	const char *slot_why; /* why the wrapper's volume or installer name is not
			       * capgate's to use in this pod, or NULL */
	bool acted;	      /* the wrapper changed something */
} wrapper_state;

/* capgate's own installer: its whole generated spec (name, image, command,
 * args, securityContext, volumeMounts, resources, see
 * wrapper_installer_spec), in a pod where some container already runs the
 * wrapper. It is not judged at all; anything else named like it is judged
 * like any container. */
bool wrapper_is_installer(wrapper_state *w, decision *c, const decision_ctr *ct);

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
 * already done: the caller records it in capgate.dev/applied), 0 when it
 * cannot be (*why says why, for a message), negative on a field of the
 * wrong type (c->err filled). */
int wrapper_wrap(wrapper_state *w, decision *c, decision_ctr *ct, caps_set caps,
		 const char **why) CG_MUST_CHECK;

/* The pod-level part: the wrapper's volume and installer, when some
 * container needs them. */
int wrapper_finish(wrapper_state *w, decision *c) CG_MUST_CHECK;

#endif
