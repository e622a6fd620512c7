/* One decision's state and voice: what is being judged (the pod spec, the
 * container, the policy spec that applies, the SCC), and what the judging
 * says (warn, change, deny, audit) and builds (the patch operations).
 *
 * Below every step of the engine: engine.c fills it, judge.c, nonroot.c and
 * wrapper.c read it and speak through it; it calls none of them. The
 * non-root strategies keep their own state (nonroot.h, wrapper.h).
 * Internal to policy/, not part of the engine's API (engine.h).
 */
#ifndef CG_DECISION_H
#define CG_DECISION_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "policy/caps.h"
#include "policy/patch.h"
#include "policy/policy.h"

#define DECISION_WARNING_MAX 120 /* the apiserver drops longer warnings */

/* One container under judgement. */
typedef struct decision_ctr {
	json_t *obj;
	json_t *sc; /* securityContext, NULL when absent */
	const char *name;
	const char *image;
	const char *list; /* "containers", "initContainers", "ephemeralContainers" */
	size_t index;
	patch_path path;
	char label[96]; /* `container "app"`, see decision_label() */
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
} decision_ctr;

typedef struct decision {
	const cg_policy *policy;
	cg_error *err;
	json_t *ops;	     /* the patch being built (patch.h) */
	json_t *warnings;    /* the answer's, borrowed: array of strings */
	json_t *audit;	     /* object: key -> string */
	json_t *changes;     /* array of {"container","path","what"} */
	bool ephemeral_only; /* a pods/ephemeralcontainers request */
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
	decision_ctr *cur; /* the container being judged, for messages */
	/* OpenShift: the SCC the pod was admitted under (openshift.io/scc), or
	 * that its template pins (openshift.io/required-scc). */
	bool openshift;	       /* judged as under an SCC, known or not */
	const char *scc_name;  /* NULL: none named */
	const policy_scc *scc; /* NULL with openshift set: an SCC capgate does not know */
	policy_spec scc_spec;  /* the policy spec narrowed to what the SCC admits */
} decision;

/* What the pod's SCC admits: the wrapper's root init container (uid 0,
 * SETFCAP, an emptyDir), a volume type, a sysctl. Everything off OpenShift. */
bool decision_scc_allows_installer(const decision *c);
bool decision_scc_allows_volume(const decision *c, const char *type);
bool decision_scc_allows_sysctl(const decision *c, const char *name);
/* On OpenShift under an SCC capgate does not know: it adds nothing. */
bool decision_scc_unknown(const decision *c);

/* Warnings reach kubectl users verbatim: cut to DECISION_WARNING_MAX and
 * cleaned of control characters. */
void decision_warn(decision *c, const char *fmt, ...) CG_PRINTF(2, 3);
/* What would change and why, for reports and /validate: only when
 * c->explain. ct NULL: a pod-level change. */
void decision_change(decision *c, const decision_ctr *ct, const char *fmt, ...) CG_PRINTF(3, 4);
/* Adds one reason to the denial message ("capgate: a; b"). */
void decision_deny(decision *c, const char *fmt, ...) CG_PRINTF(2, 3);
/* Sets audit annotation key (appended to with "; " except "decision" and
 * "policy", which are replaced). */
void decision_audit(decision *c, const char *key, const char *value);
/* Fills c->err with "out of memory ..." and returns -ENOMEM. */
int decision_oom(decision *c);
/* s made printable and bounded into buf, for messages. */
const char *decision_safe_name(const char *s, char *buf, size_t n);
const char *decision_label(decision_ctr *ct); /* `container "app"` */
const char *decision_where(decision *c);      /* "Pod.spec.containers[2]" */

#endif
