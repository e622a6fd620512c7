/* Internal to the engine (policy/engine.c, policy/nonroot.c): the state of
 * one decision. Not part of the engine's API. */
#ifndef CG_ENGINE_CTX_H
#define CG_ENGINE_CTX_H

#include <jansson.h>
#include <stdbool.h>

#include "policy/engine.h"
#include "policy/patch.h"

#define ENGINE_WARNING_MAX 120 /* the apiserver drops longer warnings */

/* One container under judgement. */
typedef struct engine_ctr {
	json_t *obj;
	json_t *sc; /* securityContext, NULL when absent */
	const char *name;
	const char *image;
	const char *list; /* "containers", "initContainers", "ephemeralContainers" */
	size_t index;
	patch_path path;
	char label[96]; /* `container "app"`, see engine_label() */
	/* capabilities as found */
	caps_set add, drop;
	bool tidy;	       /* every name canonical, known, once */
	bool unknown_drop;     /* drop holds names that are not capabilities */
	bool bad_priv;	       /* privileged: true and the policy forbids it */
	char unknown_add[256]; /* names in add that are not capabilities, as written */
	int user;	       /* 1 runs as non-root, 0 as root or an unknown user */
	/* what they must become */
	caps_set keep;		/* allowed adds the container keeps */
	caps_set drop_specific; /* its own named drops (they cancel defaultAdd) */
	caps_set drop_extra;	/* stripped capabilities also dropped by name (OpenShift) */
	caps_set lost_defaults; /* runtime defaults a newly imposed drop ALL removes */
	caps_set wrapped;	/* what the wrapper raises for it, once wrapped */
} engine_ctr;

typedef struct nonroot_state {
	int port_start;	    /* lowest port < 1024 a sysctl must open; -1 none */
	long long ping_gid; /* gid for ping_group_range; -1 none */
	bool wrapped_init;  /* some container uses the initContainer delivery */
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
	bool acted;	      /* something was changed for a non-root container */
	bool applied_full;    /* applied[] could not take every entry */
	char applied[1024];   /* capgate.dev/applied value */
} nonroot_state;

typedef struct engine_ctx {
	const cg_policy *policy;
	const engine_request *req;
	engine_decision *out;
	cg_error *err;
	json_t *ops;
	const policy_spec *spec;
	const char *namespace;
	json_t *template_obj; /* the Pod, or the pod template */
	patch_path template_path;
	json_t *labels;
	json_t *annotations;
	json_t *pod_spec;
	json_t *old_template; /* the same template in the request's oldObject, or NULL */
	patch_path spec_path;
	char spec_label[96]; /* "Deployment.spec.template.spec" */
	char ctr_label[160]; /* "Pod.spec.containers[2]" */
	bool changed;
	bool denied;
	bool oom;
	bool explain; /* build out->changes */
	/* Why nothing may be patched although the object is judged (an
	 * immutable template, a controller's copy), or NULL. */
	const char *unpatchable;
	/* Why a violation is reported rather than denied (unpatchable, or an
	 * UPDATE that leaves the pod spec as it was), or NULL. */
	const char *no_deny;
	char deny_msg[2048];
	nonroot_state nr;
	engine_ctr *cur; /* the container being judged, for messages */
	/* OpenShift: the SCC the pod was admitted under (openshift.io/scc), or
	 * that its template pins (openshift.io/required-scc). */
	bool openshift;	       /* judged as under an SCC, known or not */
	const char *scc_name;  /* NULL: none named */
	const policy_scc *scc; /* NULL with openshift set: an SCC capgate does not know */
	policy_spec scc_spec;  /* the policy spec narrowed to what the SCC admits */
} engine_ctx;

/* What the pod's SCC admits: the wrapper's root init container (uid 0,
 * SETFCAP, an emptyDir), a volume type, a sysctl. Everything off OpenShift. */
bool engine_scc_allows_installer(const engine_ctx *c);
bool engine_scc_allows_volume(const engine_ctx *c, const char *type);
bool engine_scc_allows_sysctl(const engine_ctx *c, const char *name);
/* On OpenShift under an SCC capgate does not know: it adds nothing. */
bool engine_scc_unknown(const engine_ctx *c);

void engine_warn(engine_ctx *c, const char *fmt, ...) CG_PRINTF(2, 3);
void engine_change(engine_ctx *c, const engine_ctr *ct, const char *fmt, ...) CG_PRINTF(3, 4);
void engine_deny(engine_ctx *c, const char *fmt, ...) CG_PRINTF(2, 3);
void engine_audit_note(engine_ctx *c, const char *key, const char *value);
const char *engine_safe_name(const char *s, char *buf, size_t n);
const char *engine_label(engine_ctr *ct); /* `container "app"` */
const char *engine_where(engine_ctx *c);  /* "Pod.spec.containers[2]" */

#endif
