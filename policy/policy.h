/* The capability policy: its model and its YAML loader.
 *
 * policy_load() parses a CapabilityPolicy document (libyaml) from memory; it
 * reads no files. Every error names "NAME:line:column" and what is wrong.
 * A loaded policy is immutable and may be shared by any number of threads.
 * Rules are resolved at load time: each rule carries a complete spec (the
 * policy's spec with the rule's keys laid over it), so the engine never
 * merges anything per request.
 */
#ifndef CG_POLICY_H
#define CG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "policy/caps.h"

enum policy_mode { POLICY_ENFORCE, POLICY_WARN, POLICY_AUDIT };
enum policy_on_disallowed { POLICY_STRIP, POLICY_DENY };
enum policy_on_error { POLICY_ERROR_DENY, POLICY_ERROR_ALLOW };
enum policy_nonroot_strategy {
	POLICY_NONROOT_AUTO,
	POLICY_NONROOT_SYSCTL,
	POLICY_NONROOT_AMBIENT,
	POLICY_NONROOT_NONE
};
enum policy_delivery {
	POLICY_DELIVERY_INIT_CONTAINER,
	POLICY_DELIVERY_IMAGE,
	POLICY_DELIVERY_IMAGE_VOLUME
};
enum policy_net_raw_use { POLICY_NET_RAW_PING, POLICY_NET_RAW_RAW };
/* What every pod network namespace starts with on the nodes (CRI config):
 * closed (containerd 1.x, CRI-O): ip_unprivileged_port_start=1024 and
 * ping_group_range="1 0"; open (containerd 2.x enable_unprivileged_ports and
 * enable_unprivileged_icmp, k3s, kind, minikube): 0 and "0 2147483647". */
enum policy_runtime_defaults { POLICY_RUNTIME_CLOSED, POLICY_RUNTIME_OPEN };

typedef struct policy_strlist {
	char **v;
	size_t n;
} policy_strlist;

typedef struct policy_label {
	char *key;
	char *value;
} policy_label;

typedef struct policy_labels {
	policy_label *v;
	size_t n;
} policy_labels;

/* What a rule may override; the policy's spec is one of these too. */
typedef struct policy_spec {
	enum policy_mode mode;
	caps_set required_drop; /* requiredDropCapabilities (may hold CAPS_ALL) */
	caps_set allowed;	/* allowedCapabilities (never CAPS_ALL) */
	caps_set default_add;	/* defaultAddCapabilities, a subset of allowed */
	enum policy_on_disallowed on_disallowed;
	bool allow_privileged; /* allowPrivileged: privileged: true means every capability */
	enum policy_nonroot_strategy nonroot_strategy;
} policy_spec;

typedef struct policy_entrypoint {
	char *image;		/* glob (fnmatch) on the container image */
	policy_strlist command; /* the image's ENTRYPOINT */
	policy_strlist args;	/* the image's CMD (used when the container sets no args) */
	bool has_args;		/* args given: without it the CMD is unknown */
} policy_entrypoint;

typedef struct policy_nonroot {
	/* sysctl strategy */
	int unprivileged_port_start;	      /* used when no declared port < 1024; -1: none */
	enum policy_net_raw_use net_raw_use;  /* what NET_RAW is wanted for */
	enum policy_runtime_defaults runtime; /* runtimeDefaults: what pods start with */
	/* ambient strategy */
	enum policy_delivery delivery;
	char *wrapper_path; /* where capgate-ambient is inside the app container */
	char *image;	    /* capgate image (initContainer, imageVolume); NULL: none
			     * configured, and no container is wrapped that needs it */
	policy_entrypoint *entrypoints;
	size_t n_entrypoints;
} policy_nonroot;

typedef struct policy_exemptions {
	policy_strlist namespaces;
	policy_strlist images; /* globs */
	policy_strlist container_names;
	policy_labels labels; /* every pair must match the pod's labels */
} policy_exemptions;

typedef struct policy_rule {
	char *name;
	policy_strlist namespaces; /* empty: any namespace */
	policy_labels labels;	   /* empty: any labels */
	policy_spec spec;	   /* resolved: policy spec + this rule's keys */
} policy_rule;

/* What an OpenShift SecurityContextConstraints admits, as far as capgate's
 * output is concerned (openshift/apiserver-library-go,
 * pkg/securitycontextconstraints): SCC admission records the SCC it chose in
 * the pod's openshift.io/scc annotation before webhooks run, and validates
 * the final pod after them, where an SCC counts only if applying its
 * defaults changes nothing: capgate must emit nothing it would reject or
 * default again. */
typedef struct policy_scc {
	char *name;
	caps_set allowed;		  /* allowedCapabilities; CAPS_ALL is "*" */
	caps_set default_add;		  /* defaultAddCapabilities */
	caps_set required_drop;		  /* requiredDropCapabilities; CAPS_ALL is ALL */
	policy_strlist forbidden_sysctls; /* names, or patterns ending in '*' */
	bool root;			  /* its runAsUser strategy admits uid 0 */
	bool privileged;		  /* allowPrivilegedContainer */
	uint64_t volumes;		  /* allowed volume types, bit policy_volume_index() */
} policy_scc;

typedef struct cg_policy {
	char *name;
	policy_spec spec;
	enum policy_on_error on_error; /* onError: a request capgate cannot judge */
	policy_nonroot nonroot;
	policy_exemptions exemptions;
	policy_rule *rules;
	size_t n_rules;
	/* spec.openshift */
	bool openshift;	       /* enabled: the cluster is OpenShift, so a template is
				* judged under an unknown SCC unless it names one
				* with openshift.io/required-scc */
	int openshift_version; /* version "4.N" as 400 + N (0: not given, taken as
				* 4.19): the default SCCs allow image volumes from 4.20 */
	policy_scc *sccs;      /* sccs: described by the admin */
	size_t n_sccs;
	char *own_scc;	   /* ownSCC: the SCC `capgate scc` writes from this policy */
	bool own_scc_root; /* ownSCCAllowsRoot: that SCC admits the wrapper's root
			    * init container (RunAsAny and SETFCAP, for every
			    * container of the pods it admits) */
	policy_scc own;	   /* what that SCC admits, computed at load */
} cg_policy;

/* Parses a policy document. name is used in error messages (a file name, or
 * "<default>"). On success *out owns a new policy. */
int policy_load(const char *buf, size_t len, const char *name, cg_policy **out,
		cg_error *err) CG_MUST_CHECK;

/* The embedded default policy (policy/default.yaml, linked in verbatim). */
int policy_load_default(cg_policy **out, cg_error *err) CG_MUST_CHECK;
const char *policy_default_yaml(size_t *len);

/* The SCC named name: ownSCC (what `capgate scc` writes from this policy),
 * the policy's own descriptions, else OpenShift's default SCCs as shipped
 * (openshift/cluster-kube-apiserver-operator bindata/bootkube/scc-manifests:
 * restricted-v2, restricted-v3, nonroot-v2, hostnetwork-v2, restricted,
 * nonroot, hostnetwork, hostaccess, anyuid, hostmount-anyuid,
 * hostmount-anyuid-v2, nested-container, privileged). NULL when capgate does
 * not know it. Borrowed from p. */
const policy_scc *policy_find_scc(const cg_policy *p, const char *name);

/* The names of OpenShift's default SCCs that policy_find_scc() knows, of
 * every version it models: the i-th, or NULL past the last. What a name
 * stands for depends on the policy's openshift.version (and ownSCC or the
 * policy's descriptions may shadow it): resolve it with policy_find_scc().
 * admission/ renders them in CEL. */
const char *policy_builtin_scc_name(size_t i);

/* Whether the SCC forbids setting sysctl name. */
bool policy_scc_forbids_sysctl(const policy_scc *scc, const char *name);

/* The volume types an SCC can name (openshift/api security/v1 FSType, "*"
 * included): index of name, or -1. */
int policy_volume_index(const char *name);
const char *policy_volume_name(int index);
bool policy_scc_allows_volume(const policy_scc *scc, const char *type);

void policy_free(cg_policy *p);
static inline void policy_freep(cg_policy **p)
{
	policy_free(*p);
}
#define cleanup_policy __attribute__((cleanup(policy_freep)))

#endif
