#include "policy/policy_openshift.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C(n)		CAPS_BIT(n)
#define DEFAULT_VERSION 419 /* the oldest OpenShift whose default SCCs are modelled */

/* openshift/api security/v1 FSType, the names an SCC's volumes list takes,
 * in that file's order after "*" and "none". */
static const char *const volume_names[] = {
	"*",
	"none",
	"azureFile",
	"azureDisk",
	"flocker",
	"flexVolume",
	"hostPath",
	"emptyDir",
	"gcePersistentDisk",
	"awsElasticBlockStore",
	"gitRepo",
	"secret",
	"nfs",
	"iscsi",
	"glusterfs",
	"persistentVolumeClaim",
	"rbd",
	"cinder",
	"cephFS",
	"downwardAPI",
	"fc",
	"configMap",
	"vsphere",
	"quobyte",
	"photonPersistentDisk",
	"projected",
	"portworxVolume",
	"scaleIO",
	"storageOS",
	"csi",
	"ephemeral",
	"image",
	NULL,
};

int policy_volume_index(const char *name)
{
	for (int i = 0; name && volume_names[i] != NULL; i++)
		if (strcmp(volume_names[i], name) == 0)
			return i;
	return -1;
}

const char *policy_volume_name(int index)
{
	if (index < 0 || index >= (int)(sizeof(volume_names) / sizeof(volume_names[0])) - 1)
		return NULL;
	return volume_names[index];
}

#define V(i) ((uint64_t)1 << (i))
enum {
	VOL_ALL = 0,
	VOL_HOST_PATH = 6,
	VOL_EMPTY_DIR = 7,
	VOL_SECRET = 11,
	VOL_NFS = 12,
	VOL_PVC = 15,
	VOL_DOWNWARD_API = 19,
	VOL_CONFIG_MAP = 21,
	VOL_PROJECTED = 25,
	VOL_CSI = 29,
	VOL_EPHEMERAL = 30,
	VOL_IMAGE = 31,
};
/* What every default SCC allows (restricted-v2's list); the image volume
 * type joined them in OpenShift 4.20 (cluster-kube-apiserver-operator
 * commit cbe3d7a0, "image" in every default SCC's volumes). */
#define VOL_BASE                                                                                   \
	(V(VOL_CONFIG_MAP) | V(VOL_CSI) | V(VOL_DOWNWARD_API) | V(VOL_EMPTY_DIR) |                 \
	 V(VOL_EPHEMERAL) | V(VOL_PVC) | V(VOL_PROJECTED) | V(VOL_SECRET))
#define DROP_V1 (C(CAPS_KILL) | C(CAPS_MKNOD) | C(CAPS_SETUID) | C(CAPS_SETGID))

/* OpenShift's default SCCs as shipped, from
 * openshift/cluster-kube-apiserver-operator bindata/bootkube/scc-manifests
 * (release-4.19 and release-4.20; main is 4.20 there), reduced to what
 * capgate's output touches: capabilities, whether uid 0 passes the runAsUser
 * strategy (RunAsAny, or nested-container's MustRunAsRange 0-65534), and
 * volume types. None forbids a sysctl or adds a capability by default.
 * tests/manifests/scc/fixtures holds the manifests themselves. */
#define SCC(name, allowed, drop, root, priv, vols)                                                 \
	{                                                                                          \
		(char *)(name), (allowed), 0, (drop), {NULL, 0}, (root), (priv), (vols)            \
	}
#define DEFAULT_SCCS(img)                                                                          \
	SCC("restricted-v2", C(CAPS_NET_BIND_SERVICE), C(CAPS_ALL), false, false,                  \
	    VOL_BASE | (img)),                                                                     \
		SCC("nonroot-v2", C(CAPS_NET_BIND_SERVICE), C(CAPS_ALL), false, false,             \
		    VOL_BASE | (img)),                                                             \
		SCC("hostnetwork-v2", C(CAPS_NET_BIND_SERVICE), C(CAPS_ALL), false, false,         \
		    VOL_BASE | (img)),                                                             \
		SCC("restricted", 0, DROP_V1, false, false, VOL_BASE | (img)),                     \
		SCC("nonroot", 0, DROP_V1, false, false, VOL_BASE | (img)),                        \
		SCC("hostnetwork", 0, DROP_V1, false, false, VOL_BASE | (img)),                    \
		SCC("hostaccess", 0, DROP_V1, false, false, VOL_BASE | V(VOL_HOST_PATH) | (img)),  \
		SCC("anyuid", 0, C(CAPS_MKNOD), true, false, VOL_BASE | (img)),                    \
		SCC("hostmount-anyuid", 0, C(CAPS_MKNOD), true, false,                             \
		    VOL_BASE | V(VOL_HOST_PATH) | V(VOL_NFS) | (img)),                             \
		SCC("hostmount-anyuid-v2", 0, C(CAPS_MKNOD), true, false,                          \
		    VOL_BASE | V(VOL_HOST_PATH) | V(VOL_NFS) | (img)),                             \
		SCC("privileged", C(CAPS_ALL), 0, true, true, V(VOL_ALL))

static const policy_scc builtin_419[] = {DEFAULT_SCCS(0)};
static const policy_scc builtin_420[] = {
	DEFAULT_SCCS(V(VOL_IMAGE)),
	/* New in 4.20. restricted-v3: MustRunAsRange 1000-65534 in a user
	 * namespace; nested-container: MustRunAsRange 0-65534, SETUID and
	 * SETGID, in a user namespace. */
	SCC("restricted-v3", C(CAPS_NET_BIND_SERVICE), C(CAPS_ALL), false, false,
	    VOL_BASE | V(VOL_IMAGE)),
	SCC("nested-container", C(CAPS_SETUID) | C(CAPS_SETGID), 0, true, false,
	    VOL_BASE | V(VOL_IMAGE)),
};

const policy_scc *policy_find_scc(const cg_policy *p, const char *name)
{
	if (name == NULL)
		return NULL;
	if (p->own_scc && strcmp(name, p->own_scc) == 0)
		return &p->own;
	for (size_t i = 0; i < p->n_sccs; i++)
		if (strcmp(p->sccs[i].name, name) == 0)
			return &p->sccs[i];
	/* restricted-v3 and nested-container exist from 4.20 on: a pod
	 * admitted under one of them is on 4.20 or later whatever the policy
	 * says, so the 4.20 table is searched after the policy's version's. */
	bool v420 = (p->openshift_version ? p->openshift_version : DEFAULT_VERSION) >= 420;
	const policy_scc *t = v420 ? builtin_420 : builtin_419;
	size_t n = v420 ? sizeof(builtin_420) / sizeof(builtin_420[0])
			: sizeof(builtin_419) / sizeof(builtin_419[0]);
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	for (size_t i = 0; !v420 && i < sizeof(builtin_420) / sizeof(builtin_420[0]); i++)
		if (strcmp(builtin_420[i].name, name) == 0)
			return &builtin_420[i];
	return NULL;
}

/* The 4.20 table names every SCC the 4.19 one does, and two more. */
const char *policy_builtin_scc_name(size_t i)
{
	return i < sizeof(builtin_420) / sizeof(builtin_420[0]) ? builtin_420[i].name : NULL;
}

/* sysctl/mustmatchpatterns.go isForbidden: a name, or a prefix ending in '*'. */
bool policy_scc_forbids_sysctl(const policy_scc *scc, const char *name)
{
	for (size_t i = 0; i < scc->forbidden_sysctls.n; i++) {
		const char *f = scc->forbidden_sysctls.v[i];
		size_t n = strlen(f);
		if (n > 0 && f[n - 1] == '*' ? strncmp(f, name, n - 1) == 0 : strcmp(f, name) == 0)
			return true;
	}
	return false;
}

/* sccmatching/provider.go ValidatePodSecurityContext: "*" allows every
 * type (util.SCCAllowsAllVolumes), else the type must be listed. */
bool policy_scc_allows_volume(const policy_scc *scc, const char *type)
{
	int i = policy_volume_index(type);
	return (scc->volumes & V(VOL_ALL)) || (i > 0 && (scc->volumes & V(i)));
}

/* ---- reading ----------------------------------------------------------- */

static const char *const run_as_user_names[] = {"RunAsAny", "MustRunAs", "MustRunAsRange",
						"MustRunAsNonRoot", NULL};

/* A list of capability names, with "*" for all as SCCs spell it (and ALL,
 * as capgate's own lists do). */
static int read_caps(pyaml *y, yaml_node_t *n, const char *path, const char *key, caps_set *out)
{
	char p[200], q[80];
	pyaml_path(p, sizeof(p), path, key);
	if (pyaml_list(y, n, p, "capability names") < 0)
		return -1;
	*out = 0;
	for (size_t i = 0; i < pyaml_list_len(n); i++) {
		yaml_node_t *item = pyaml_list_at(y, n, i);
		const char *s;
		size_t len;
		if (pyaml_string(y, item, p, "a capability name", PYAML_TEXT_LINE, 64, &s, &len) <
		    0)
			return -1;
		int c = len == 1 && s[0] == '*' ? CAPS_ALL : caps_lookup(s, len);
		if (c < 0)
			return pyaml_fail(y, item, p, "unknown capability %s",
					  pyaml_quote(item, q, sizeof(q)));
		*out |= CAPS_BIT(c);
	}
	return 0;
}

static int read_volumes(pyaml *y, yaml_node_t *n, const char *path, uint64_t *out)
{
	char p[200], q[80], valid[600];
	pyaml_path(p, sizeof(p), path, "volumes");
	if (pyaml_list(y, n, p, "volume types") < 0)
		return -1;
	*out = 0;
	for (size_t i = 0; i < pyaml_list_len(n); i++) {
		yaml_node_t *item = pyaml_list_at(y, n, i);
		const char *s;
		if (pyaml_string(y, item, p, "a volume type", PYAML_TEXT_LINE, 64, &s, NULL) < 0)
			return -1;
		int v = policy_volume_index(s);
		if (v < 0) {
			size_t k = 0;
			valid[0] = '\0';
			for (int j = 0; volume_names[j] && k + 40 < sizeof(valid); j++)
				k += (size_t)snprintf(valid + k, sizeof(valid) - k, "%s%s",
						      j ? ", " : "", volume_names[j]);
			return pyaml_fail(y, item, p, "%s is not a volume type (one of %s)",
					  pyaml_quote(item, q, sizeof(q)), valid);
		}
		*out |= V(v);
	}
	return 0;
}

static int read_scc(pyaml *y, yaml_node_t *n, const char *path, policy_scc *scc)
{
	static const char *const keys[] = {"name",
					   "allowedCapabilities",
					   "defaultAddCapabilities",
					   "requiredDropCapabilities",
					   "forbiddenSysctls",
					   "runAsUser",
					   "volumes",
					   NULL};
	enum { S_NAME, S_ALLOWED, S_DEFAULT, S_DROP, S_SYSCTLS, S_RUN_AS, S_VOLUMES };
	yaml_node_t *v[7];
	char p[200];
	int run_as = 2;
	/* Without a volumes list: the types every default SCC allows, not
	 * image (4.19's restricted-v2). */
	scc->volumes = VOL_BASE;
	if (pyaml_fields(y, n, path, keys, v) < 0 ||
	    pyaml_required(y, n, path, "name", v[S_NAME]) < 0 ||
	    pyaml_line(y, v[S_NAME], pyaml_path(p, sizeof(p), path, "name"), 253, &scc->name) < 0 ||
	    (v[S_ALLOWED] &&
	     read_caps(y, v[S_ALLOWED], path, "allowedCapabilities", &scc->allowed) < 0) ||
	    (v[S_DEFAULT] &&
	     read_caps(y, v[S_DEFAULT], path, "defaultAddCapabilities", &scc->default_add) < 0) ||
	    (v[S_DROP] &&
	     read_caps(y, v[S_DROP], path, "requiredDropCapabilities", &scc->required_drop) < 0) ||
	    (v[S_RUN_AS] && pyaml_enum(y, v[S_RUN_AS], pyaml_path(p, sizeof(p), path, "runAsUser"),
				       run_as_user_names, &run_as) < 0) ||
	    (v[S_VOLUMES] && read_volumes(y, v[S_VOLUMES], path, &scc->volumes) < 0))
		return -1;
	if (scc->default_add & CAPS_BIT(CAPS_ALL))
		return pyaml_fail(y, v[S_DEFAULT],
				  pyaml_path(p, sizeof(p), path, "defaultAddCapabilities"),
				  "cannot add every capability by default");
	/* Only RunAsAny is known to admit uid 0: MustRunAs and MustRunAsRange
	 * take their uid or range from the SCC or the namespace, which the
	 * description does not carry. */
	scc->root = run_as == 0;
	if (v[S_SYSCTLS] == NULL)
		return 0;
	pyaml_path(p, sizeof(p), path, "forbiddenSysctls");
	if (pyaml_list(y, v[S_SYSCTLS], p, "sysctl names or patterns") < 0)
		return -1;
	size_t count = pyaml_list_len(v[S_SYSCTLS]);
	if (count > 0 && (scc->forbidden_sysctls.v = calloc(count, sizeof(char *))) == NULL)
		return cg_error_set(y->err, ENOMEM, "%s: out of memory", y->name);
	for (size_t i = 0; i < count; i++) {
		char ip[240];
		snprintf(ip, sizeof(ip), "%s[%zu]", p, i);
		if (pyaml_line(y, pyaml_list_at(y, v[S_SYSCTLS], i), ip, 253,
			       &scc->forbidden_sysctls.v[i]) < 0)
			return -1;
		scc->forbidden_sysctls.n++;
	}
	return 0;
}

/* "4.20" -> 420: OpenShift versions are MAJOR.MINOR, 4.x or later. */
static int read_version(pyaml *y, yaml_node_t *n, const char *path, int *out)
{
	char p[200], q[80];
	const char *s;
	pyaml_path(p, sizeof(p), path, "version");
	if (pyaml_string(y, n, p, "an OpenShift version such as \"4.20\"", PYAML_TEXT_LINE, 16, &s,
			 NULL) < 0)
		return -1;
	/* Digits, one dot, digits; no leading zeros, so "4.020" is no 4.20. */
	const char *dot = strchr(s, '.');
	size_t a = strspn(s, "0123456789"), b = dot ? strspn(dot + 1, "0123456789") : 0;
	unsigned major = 0, minor = 0;
	if (dot == NULL || a == 0 || a > 2 || dot != s + a || b == 0 || b > 2 ||
	    dot[1 + b] != '\0' || s[0] == '0' || (b == 2 && dot[1] == '0') ||
	    sscanf(s, "%u.%u", &major, &minor) != 2 || major < 4)
		return pyaml_fail(y, n, p,
				  "%s is not an OpenShift version (MAJOR.MINOR, 4.x or later, "
				  "such as \"4.20\")",
				  pyaml_quote(n, q, sizeof(q)));
	*out = (int)(major * 100 + minor);
	return 0;
}

int policy_openshift_read(pyaml *y, yaml_node_t *n, const char *path, cg_policy *p,
			  yaml_node_t **root_at)
{
	static const char *const keys[] = {"enabled", "version",	  "ownSCC",
					   "sccs",    "ownSCCAllowsRoot", NULL};
	enum { O_ENABLED, O_VERSION, O_OWN, O_SCCS, O_ROOT };
	yaml_node_t *v[5];
	char pp[200];
	*root_at = NULL;
	if (pyaml_fields(y, n, path, keys, v) < 0 ||
	    (v[O_ENABLED] &&
	     pyaml_bool(y, v[O_ENABLED], pyaml_path(pp, sizeof(pp), path, "enabled"),
			&p->openshift) < 0) ||
	    (v[O_VERSION] && read_version(y, v[O_VERSION], path, &p->openshift_version) < 0) ||
	    (v[O_ROOT] &&
	     pyaml_bool(y, v[O_ROOT], pyaml_path(pp, sizeof(pp), path, "ownSCCAllowsRoot"),
			&p->own_scc_root) < 0))
		return -1;
	*root_at = v[O_ROOT];
	if (v[O_OWN] != NULL) {
		free(p->own_scc);
		p->own_scc = NULL;
		if (pyaml_line(y, v[O_OWN], pyaml_path(pp, sizeof(pp), path, "ownSCC"), 253,
			       &p->own_scc) < 0)
			return -1;
	}
	if (v[O_SCCS] == NULL)
		return 0;
	pyaml_path(pp, sizeof(pp), path, "sccs");
	if (pyaml_list(y, v[O_SCCS], pp, "sccs") < 0)
		return -1;
	size_t count = pyaml_list_len(v[O_SCCS]);
	if (count > 0 && (p->sccs = calloc(count, sizeof(*p->sccs))) == NULL)
		return cg_error_set(y->err, ENOMEM, "%s: out of memory", y->name);
	for (size_t i = 0; i < count; i++) {
		char q[240];
		snprintf(q, sizeof(q), "%s[%zu]", pp, i);
		p->n_sccs++;
		if (read_scc(y, pyaml_list_at(y, v[O_SCCS], i), q, &p->sccs[i]) < 0)
			return -1;
		for (size_t k = 0; k < i; k++)
			if (strcmp(p->sccs[k].name, p->sccs[i].name) == 0)
				return pyaml_fail(y, pyaml_list_at(y, v[O_SCCS], i), q,
						  "SCC \"%s\" is described twice", p->sccs[i].name);
	}
	return 0;
}

/* What the SCC `capgate scc` writes from the policy admits: restricted-v2
 * (of the policy's OpenShift version) plus exactly what capgate may emit
 * under the spec or any rule, since a pod gets whichever rule matches it. */
int policy_openshift_finish(pyaml *y, yaml_node_t *at, cg_policy *p)
{
	policy_scc *o = &p->own;
	caps_set all = CAPS_KNOWN_MASK | CAPS_BIT(CAPS_ALL);
	bool image_volume = false, installer = false;
	bool has_image = p->nonroot.image != NULL;
	memset(o, 0, sizeof(*o));
	o->name = p->own_scc;
	for (size_t i = 0; i <= p->n_rules; i++) {
		const policy_spec *s = i == 0 ? &p->spec : &p->rules[i - 1].spec;
		caps_set drop = (s->required_drop & CAPS_BIT(CAPS_ALL)) ? all : s->required_drop;
		o->required_drop = i == 0 ? drop : o->required_drop & drop;
		o->allowed |= s->allowed | s->default_add;
		o->privileged |= s->allow_privileged;
		bool ambient = s->nonroot_strategy == POLICY_NONROOT_AUTO ||
			       s->nonroot_strategy == POLICY_NONROOT_AMBIENT;
		/* The wrapper is only injected from an image the policy names. */
		if (ambient && has_image && s->allowed != 0) {
			installer |= p->nonroot.delivery == POLICY_DELIVERY_INIT_CONTAINER;
			image_volume |= p->nonroot.delivery == POLICY_DELIVERY_IMAGE_VOLUME;
		}
	}
	if (o->required_drop & CAPS_BIT(CAPS_ALL))
		o->required_drop = CAPS_BIT(CAPS_ALL);
	else
		o->required_drop &= ~o->allowed;
	if (p->own_scc_root && !installer)
		return pyaml_fail(y, at, "spec.openshift.ownSCCAllowsRoot",
				  "there is no root init container to admit: it needs "
				  "nonRoot.ambient.delivery initContainer, nonRoot.ambient.image "
				  "and strategy auto or ambient with a capability allowed");
	if (p->own_scc_root) {
		/* The installer writes the wrapper's file capability as uid 0. */
		o->root = true;
		o->allowed |= C(CAPS_SETFCAP);
	}
	int version = p->openshift_version ? p->openshift_version : DEFAULT_VERSION;
	o->volumes = VOL_BASE | (version >= 420 || image_volume ? V(VOL_IMAGE) : 0);
	return 0;
}

void policy_openshift_free(cg_policy *p)
{
	for (size_t i = 0; i < p->n_sccs; i++) {
		free(p->sccs[i].name);
		for (size_t k = 0; k < p->sccs[i].forbidden_sysctls.n; k++)
			free(p->sccs[i].forbidden_sysctls.v[k]);
		free(p->sccs[i].forbidden_sysctls.v);
	}
	free(p->sccs);
	free(p->own_scc);
}
