/* capgate manifests / capgate scc: deployment YAML rendered from a policy.
 *
 * `manifests` writes the objects of manifests/base (tests/manifests checks
 * that the two agree) with the namespace, image, caBundle and policy filled
 * in, so that a plain Kubernetes install needs nothing but kubectl.
 *
 * `scc` writes an OpenShift SecurityContextConstraints that admits exactly
 * what capgate emits under a policy. SCC admission validates after the
 * webhooks have run, so a capability or sysctl that capgate adds and the
 * pod's SCC does not allow rejects the user's pod; one the SCC allows but
 * capgate never emits is a hole the SCC need not leave open.
 *
 * Objects are built as jansson trees and written by yamldump, which
 * quotes every string a YAML 1.1 reader would take for another type.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs/certs.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/policy_image.h"
#include "common/buf.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/file.h"
#include "policy/engine.h"
#include "policy/k8sname.h"
#include "policy/policy.h"
#include "yaml/yamldump.h"

#define SERVICE_NAME  "capgate"
#define DEFAULT_IMAGE "capgate:0.1.0"
#define MAX_FILE_SIZE ((size_t)4 << 20)

/* ---- output ----------------------------------------------------------- */

/* Writes each object as one YAML document ("---" between them), or, as
 * JSON, one object or a v1 List, which kubectl applies as it would the
 * documents. */
CG_MUST_CHECK static int write_objects(FILE *out, json_t *objs, bool as_json, cg_error *err)
{
	if (as_json) {
		json_t *doc = json_array_size(objs) == 1
				      ? json_incref(json_array_get(objs, 0))
				      : json_pack("{s:s, s:s, s:O}", "apiVersion", "v1", "kind",
						  "List", "items", objs);
		int rc = doc ? json_dumpf(doc, out, JSON_INDENT(2)) : -1;
		json_decref(doc);
		if (rc < 0 || fputc('\n', out) == EOF)
			return cg_error_set(err, EIO, "writing JSON failed");
		return 0;
	}
	cg_buf b = {0};
	size_t i;
	json_t *o;
	json_array_foreach(objs, i, o)
	{
		if ((i > 0 && buf_puts(&b, "---\n") < 0) || yamldump(o, &b, err) < 0) {
			buf_free(&b);
			return err && err->msg[0] ? -1 : cg_error_set(err, ENOMEM, "out of memory");
		}
	}
	bool written = fwrite(b.data, 1, b.len, out) == b.len;
	buf_free(&b);
	if (!written)
		return cg_error_set(err, EIO, "write error");
	return 0;
}

CG_MUST_CHECK static int output_format(const char *o, bool *as_json, cg_error *err)
{
	if (o == NULL || strcmp(o, "yaml") == 0)
		*as_json = false;
	else if (strcmp(o, "json") == 0)
		*as_json = true;
	else
		return cg_error_set(err, EINVAL, "-o %s: expected yaml or json", o);
	return 0;
}

/* Reads and loads a policy file, or the embedded default when path is NULL.
 * *text keeps the file as written, for the ConfigMap. */
CG_MUST_CHECK static int load_policy(const char *path, char **text, size_t *len, cg_policy **p,
				     cg_error *err)
{
	if (path == NULL) {
		const char *def = policy_default_yaml(len);
		if ((*text = strndup(def, *len)) == NULL)
			return cg_error_set(err, ENOMEM, "out of memory");
		return policy_load_default(p, err);
	}
	if (file_read(path, MAX_FILE_SIZE, 0, text, len, err) < 0)
		return -1;
	return policy_load(*text, *len, path, p, err);
}

/* ---- capgate manifests ------------------------------------------------ */

typedef struct render_opts {
	const char *ns;
	const char *image;
	const char *policy_text;
	char policy_sha256[65];
	char *ca_bundle; /* base64 of the PEM file, or NULL */
} render_opts;

static json_t *labels(void)
{
	return json_pack("{s:s, s:s}", "app.kubernetes.io/name", SERVICE_NAME,
			 "app.kubernetes.io/part-of", SERVICE_NAME);
}

static json_t *selector_labels(void)
{
	return json_pack("{s:s, s:s}", "app.kubernetes.io/name", SERVICE_NAME,
			 "app.kubernetes.io/component", "webhook");
}

static json_t *meta(const char *name, const char *ns)
{
	json_t *m = json_pack("{s:s, s:o}", "name", name, "labels", labels());
	if (m && ns)
		json_object_set_new(m, "namespace", json_string(ns));
	return m;
}

static json_t *obj(const char *api, const char *kind, json_t *metadata)
{
	return json_pack("{s:s, s:s, s:o}", "apiVersion", api, "kind", kind, "metadata", metadata);
}

static json_t *probe(const char *path, int period, int failures)
{
	return json_pack("{s:{s:s, s:s, s:s}, s:i, s:i, s:i}", "httpGet", "path", path, "port",
			 "https", "scheme", "HTTPS", "periodSeconds", period, "timeoutSeconds", 2,
			 "failureThreshold", failures);
}

static json_t *container(const render_opts *o)
{
	return json_pack(
		"{s:s, s:s, s:s, s:[s], s:[s,s,s,s,s,s,s,s,s], s:[{s:s, s:i, s:s}], s:o, s:o,"
		" s:{s:{s:s, s:s}, s:{s:s, s:s}},"
		" s:{s:b, s:b, s:b, s:b, s:{s:[s]}, s:{s:s}},"
		" s:[{s:s, s:s, s:b}, {s:s, s:s, s:b}]}",
		"name", SERVICE_NAME, "image", o->image, "imagePullPolicy", "IfNotPresent",
		"command", "/usr/local/bin/capgate", "args", "serve", "--policy",
		"/etc/capgate/policy/policy.yaml", "--tls-cert", "/etc/capgate/tls/tls.crt",
		"--tls-key", "/etc/capgate/tls/tls.key", "--listen", "0.0.0.0:8443", "ports",
		"name", "https", "containerPort", 8443, "protocol", "TCP", "livenessProbe",
		probe("/healthz", 10, 3), "readinessProbe", probe("/readyz", 5, 2), "resources",
		"requests", "cpu", "100m", "memory", "64Mi", "limits", "cpu", "1", "memory",
		"256Mi", "securityContext", "runAsNonRoot", 1, "allowPrivilegeEscalation", 0,
		"privileged", 0, "readOnlyRootFilesystem", 1, "capabilities", "drop", "ALL",
		"seccompProfile", "type", "RuntimeDefault", "volumeMounts", "name", "policy",
		"mountPath", "/etc/capgate/policy", "readOnly", 1, "name", "tls", "mountPath",
		"/etc/capgate/tls", "readOnly", 1);
}

static json_t *deployment(const render_opts *o)
{
	/* The policy's hash in the pod template: `kubectl apply` of a changed
	 * policy also rolls the pods (kustomize gets the same from its hashed
	 * ConfigMap name). An in-place edit of the ConfigMap reaches the running
	 * pods through the directory mount and capgate's reload. */
	json_t *spec = json_pack(
		"{s:i, s:i, s:{s:o}, s:{s:s, s:{s:i, s:i}},"
		" s:{s:{s:o, s:{s:s}}, s:{s:s, s:b, s:s,"
		"  s:{s:{s:[{s:i, s:{s:s, s:{s:o}}}]}},"
		"  s:{s:b, s:i, s:i, s:i, s:{s:s}}, s:[o],"
		"  s:[{s:s, s:{s:s}}, {s:s, s:{s:s, s:i}}]}}}",
		"replicas", 2, "revisionHistoryLimit", 5, "selector", "matchLabels",
		selector_labels(), "strategy", "type", "RollingUpdate", "rollingUpdate",
		"maxUnavailable", 0, "maxSurge", 1, "template", "metadata", "labels",
		selector_labels(), "annotations", "capgate.dev/policy-sha256", o->policy_sha256,
		"spec", "serviceAccountName", SERVICE_NAME, "automountServiceAccountToken", 0,
		"priorityClassName", "capgate-webhook", "affinity", "podAntiAffinity",
		"preferredDuringSchedulingIgnoredDuringExecution", "weight", 100, "podAffinityTerm",
		"topologyKey", "kubernetes.io/hostname", "labelSelector", "matchLabels",
		selector_labels(), "securityContext", "runAsNonRoot", 1, "runAsUser", 65532,
		"runAsGroup", 65532, "fsGroup", 65532, "seccompProfile", "type", "RuntimeDefault",
		"containers", container(o), "volumes", "name", "policy", "configMap", "name",
		"capgate-policy", "name", "tls", "secret", "secretName", "capgate-tls",
		"defaultMode", 0440);
	json_t *d = obj("apps/v1", "Deployment", meta(SERVICE_NAME, o->ns));
	if (d && spec)
		json_object_set_new(d, "spec", spec);
	else
		json_decref(spec);
	return d;
}

/* See manifests/base/mutatingwebhook.yaml for why each value is what it is. */
static json_t *webhook_config(const render_opts *o, bool mutating)
{
	json_t *client =
		json_pack("{s:{s:s, s:s, s:s, s:i}}", "service", "name", SERVICE_NAME, "namespace",
			  o->ns, "path", mutating ? "/mutate" : "/validate", "port", 443);
	if (client && o->ca_bundle)
		json_object_set_new(client, "caBundle", json_string(o->ca_bundle));
	json_t *hook = json_pack(
		"{s:s, s:o, s:o, s:s, s:{s:[{s:s, s:s, s:[s,s]}]}, s:s, s:s, "
		"s:[s], s:i}",
		"name", mutating ? "mutate.capgate.dev" : "validate.capgate.dev", "clientConfig",
		client, "rules", engine_resource_rules(), "matchPolicy", "Equivalent",
		"namespaceSelector", "matchExpressions", "key", "kubernetes.io/metadata.name",
		"operator", "NotIn", "values", o->ns, "kube-system", "failurePolicy", "Fail",
		"sideEffects", "None", "admissionReviewVersions", "v1", "timeoutSeconds", 5);
	if (hook && mutating)
		json_object_set_new(hook, "reinvocationPolicy", json_string("IfNeeded"));
	json_t *c =
		obj("admissionregistration.k8s.io/v1",
		    mutating ? "MutatingWebhookConfiguration" : "ValidatingWebhookConfiguration",
		    meta(SERVICE_NAME, NULL));
	if (c && hook)
		json_object_set_new(c, "webhooks", json_pack("[o]", hook));
	else
		json_decref(hook);
	return c;
}

/* The objects of manifests/base, in the order `kubectl apply` needs. */
static json_t *manifests_objects(const render_opts *o)
{
	json_t *ns = obj("v1", "Namespace", meta(o->ns, NULL));
	json_t *ns_labels = ns ? json_object_get(json_object_get(ns, "metadata"), "labels") : NULL;
	if (ns_labels) {
		json_object_set_new(ns_labels, "pod-security.kubernetes.io/enforce",
				    json_string("restricted"));
		json_object_set_new(ns_labels, "pod-security.kubernetes.io/enforce-version",
				    json_string("latest"));
	}
	json_t *pc = obj("scheduling.k8s.io/v1", "PriorityClass", meta("capgate-webhook", NULL));
	if (pc)
		json_object_update_new(
			pc, json_pack("{s:i, s:b, s:s, s:s}", "value", 1000000000, "globalDefault",
				      0, "preemptionPolicy", "PreemptLowerPriority", "description",
				      "capgate admission webhook; pod creation depends on it."));
	json_t *sa = obj("v1", "ServiceAccount", meta(SERVICE_NAME, o->ns));
	if (sa)
		json_object_set_new(sa, "automountServiceAccountToken", json_false());
	json_t *cm = obj("v1", "ConfigMap", meta("capgate-policy", o->ns));
	if (cm)
		json_object_set_new(cm, "data", json_pack("{s:s}", "policy.yaml", o->policy_text));
	json_t *svc = obj("v1", "Service", meta(SERVICE_NAME, o->ns));
	if (svc)
		json_object_set_new(svc, "spec",
				    json_pack("{s:o, s:[{s:s, s:i, s:s, s:s}]}", "selector",
					      selector_labels(), "ports", "name", "https", "port",
					      443, "targetPort", "https", "protocol", "TCP"));
	json_t *pdb = obj("policy/v1", "PodDisruptionBudget", meta(SERVICE_NAME, o->ns));
	if (pdb)
		json_object_set_new(pdb, "spec",
				    json_pack("{s:i, s:{s:o}}", "minAvailable", 1, "selector",
					      "matchLabels", selector_labels()));
	/* "o" steals even on failure, so a NULL from any builder only makes
	 * json_pack fail; nothing leaks. */
	return json_pack("[o,o,o,o,o,o,o,o,o]", ns, pc, sa, cm, svc, deployment(o), pdb,
			 webhook_config(o, true), webhook_config(o, false));
}

CG_MUST_CHECK static int sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
		return -1;
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* The apiserver's caBundle is the base64 of PEM text; the file must hold a
 * certificate that parses, or the webhook would fail at the first request. */
CG_MUST_CHECK static int read_ca_bundle(const char *path, char **out, cg_error *err)
{
	cleanup_free char *pem = NULL;
	size_t len;
	certs_info info;
	if (file_read(path, MAX_FILE_SIZE, 0, &pem, &len, err) < 0 ||
	    certs_inspect(path, NULL, &info, err) < 0)
		return -1;
	if (!info.is_ca)
		fprintf(stderr, "capgate manifests: warning: %s is not a CA certificate (%s)\n",
			path, info.subject);
	cleanup_free char *b64 = malloc(4 * ((len + 2) / 3) + 1);
	if (b64 == NULL)
		return cg_error_set(err, ENOMEM, "out of memory");
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)pem, (int)len);
	*out = cg_steal(b64);
	return 0;
}

static const char manifests_usage[] =
	"usage: capgate manifests --namespace NS [--policy FILE] [--ca-bundle FILE]\n"
	"                         [--image IMAGE] [-o yaml|json]\n"
	"Writes the deployment objects to stdout. --ca-bundle: the CA's PEM file, as\n"
	"written by `capgate certs create` (without it, caBundle is left for a CA\n"
	"injector to fill in). --policy: default, the embedded policy. --image: the\n"
	"capgate image to deploy (default capgate:0.1.0); the policy in the ConfigMap\n"
	"names it as spec.nonRoot.ambient.image, which the wrapper is copied from.\n";

int cmd_manifests(int argc, char **argv)
{
	static const struct option opts[] = {
		{"namespace", required_argument, NULL, 'n'},
		{"policy", required_argument, NULL, 'p'},
		{"ca-bundle", required_argument, NULL, 'c'},
		{"image", required_argument, NULL, 'i'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *policy_path = NULL, *ca_path = NULL, *out = NULL;
	render_opts o = {.image = DEFAULT_IMAGE};
	cg_error err = {0};
	opts_begin(argv, "capgate manifests");
	for (int c; (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1;) {
		switch (c) {
		case 'n':
			o.ns = optarg;
			break;
		case 'p':
			policy_path = optarg;
			break;
		case 'c':
			ca_path = optarg;
			break;
		case 'i':
			o.image = optarg;
			break;
		case 'o':
			/* "-o=json" worked before these options were getopt's. */
			out = optarg[0] == '=' ? optarg + 1 : optarg;
			break;
		case 'h':
			fputs(manifests_usage, stdout);
			return 0;
		default:
			fputs(manifests_usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "capgate manifests: unexpected argument \"%s\"\n%s", argv[optind],
			manifests_usage);
		return 2;
	}
	bool as_json;
	if (o.ns == NULL) {
		fprintf(stderr, "capgate manifests: --namespace is required\n%s", manifests_usage);
		return 2;
	}
	if (!k8sname_is_dns_label(o.ns, strlen(o.ns))) {
		fprintf(stderr,
			"capgate manifests: --namespace \"%s\" is not a namespace name "
			"(lower-case letters, digits, '-', at most 63)\n",
			o.ns);
		return 2;
	}
	if (o.image[0] == '\0' || strpbrk(o.image, " \t\n") != NULL) {
		fprintf(stderr, "capgate manifests: --image \"%s\" is not an image reference\n",
			o.image);
		return 2;
	}
	cleanup_free char *text = NULL;
	cleanup_policy cg_policy *p = NULL;
	size_t len;
	if (output_format(out, &as_json, &err) < 0 ||
	    load_policy(policy_path, &text, &len, &p, &err) < 0 ||
	    (ca_path && read_ca_bundle(ca_path, &o.ca_bundle, &err) < 0)) {
		fprintf(stderr, "capgate manifests: %s\n", err.msg);
		free(o.ca_bundle);
		return 1;
	}
	/* The policy must name the image deployed here: the wrapper's init
	 * container is copied from it. */
	enum policy_image_result ir;
	cleanup_free char *rendered = NULL, *other = NULL;
	if (policy_image_render(text, len, policy_path ? policy_path : "<default>", o.image, &ir,
				&rendered, &other, &err) < 0) {
		fprintf(stderr, "capgate manifests: %s\n", err.msg);
		free(o.ca_bundle);
		return 1;
	}
	if (ir == POLICY_IMAGE_DIFFERENT)
		fprintf(stderr,
			"capgate manifests: warning: the policy's nonRoot.ambient.image is \"%s\", "
			"not --image \"%s\"; kept as the policy says (a mirror?)\n",
			other, o.image);
	if (rendered != NULL) {
		cleanup_policy cg_policy *check = NULL;
		/* What goes into the cluster must load, with the image set. */
		if (policy_load(rendered, strlen(rendered), "rendered policy", &check, &err) < 0 ||
		    check->nonroot.image == NULL || strcmp(check->nonroot.image, o.image) != 0) {
			fprintf(stderr,
				"capgate manifests: cannot add the image to the policy: %s\n",
				err.msg[0] ? err.msg : "the image did not land");
			free(o.ca_bundle);
			return 1;
		}
		free(text);
		text = NULL;
		cg_buf b = {0};
		if (buf_printf(&b,
			       "# Rendered by `capgate manifests` from %s with\n"
			       "# spec.nonRoot.ambient.image set to the image deployed (--image);\n"
			       "# the comments of the source are not kept.\n%s",
			       policy_path ? policy_path : "the embedded default policy",
			       rendered) < 0) {
			buf_free(&b);
			free(o.ca_bundle);
			fprintf(stderr, "capgate manifests: out of memory\n");
			return 1;
		}
		text = b.data;
		len = b.len;
	}
	o.policy_text = text;
	if (sha256_hex(text, len, o.policy_sha256) < 0) {
		free(o.ca_bundle);
		fprintf(stderr, "capgate manifests: SHA-256 failed\n");
		return 1;
	}
	cleanup_json json_t *objs = manifests_objects(&o);
	free(o.ca_bundle);
	if (objs == NULL) {
		fprintf(stderr, "capgate manifests: out of memory\n");
		return 1;
	}
	if (write_objects(stdout, objs, as_json, &err) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "capgate manifests: %s\n", err.msg[0] ? err.msg : "write error");
		return 1;
	}
	return 0;
}

/* ---- capgate scc ------------------------------------------------------ */

static json_t *cap_list(caps_set s)
{
	json_t *a = json_array();
	if (s & CAPS_BIT(CAPS_ALL))
		json_array_append_new(a, json_string("ALL"));
	else
		for (int i = 0; i < CAPS_COUNT; i++)
			if (s & CAPS_BIT(i))
				json_array_append_new(a, json_string(caps_name(i)));
	return a;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The volume types, sorted as OpenShift's own SCCs list them. */
static json_t *volume_list(uint64_t volumes)
{
	const char *names[64];
	size_t n = 0;
	for (int i = 0; policy_volume_name(i) != NULL; i++)
		if (volumes & ((uint64_t)1 << i))
			names[n++] = policy_volume_name(i);
	qsort(names, n, sizeof(names[0]), by_name);
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

/* restricted-v2, of the policy's OpenShift version, plus exactly what
 * capgate may emit under the policy (policy_openshift.c computes it, and
 * the engine trusts the SCC named ownSCC to admit that much and no more).
 * No forbiddenSysctls: like restricted-v2 it leaves every safe sysctl to
 * the pods, whose own sysctls capgate never overrides. */
static json_t *scc_object(const cg_policy *p, const char *name)
{
	const policy_scc *own = &p->own;
	char desc[600];
	snprintf(desc, sizeof(desc),
		 "capgate policy \"%.64s\": restricted-v2 plus what capgate emits (capabilities, "
		 "safe sysctls, the wrapper's volume).%s",
		 p->name ? p->name : "?",
		 own->root ? " WARNING: runAsUser RunAsAny and SETFCAP, for the wrapper's "
			     "installer: every container of a pod under this SCC may run as any "
			     "uid, root included, and add SETFCAP. Grant with caution."
			   : "");
	return json_pack(
		"{s:s, s:s, s:{s:s, s:{s:s}}, s:n, s:b, s:b, s:b, s:o, s:o, s:[], s:b, s:b, s:b, "
		"s:b,"
		" s:b, s:b, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:[s], s:o, s:[], s:[]}",
		"apiVersion", "security.openshift.io/v1", "kind", "SecurityContextConstraints",
		"metadata", "name", name, "annotations", "kubernetes.io/description", desc,
		"priority", "allowPrivilegedContainer", own->privileged, "allowPrivilegeEscalation",
		own->privileged, "defaultAllowPrivilegeEscalation", 0, "requiredDropCapabilities",
		cap_list(own->required_drop), "allowedCapabilities", cap_list(own->allowed),
		"defaultAddCapabilities", "allowHostDirVolumePlugin", 0, "allowHostIPC", 0,
		"allowHostNetwork", 0, "allowHostPID", 0, "allowHostPorts", 0,
		"readOnlyRootFilesystem", 0, "runAsUser", "type",
		own->root ? "RunAsAny" : "MustRunAsRange", "seLinuxContext", "type", "MustRunAs",
		"fsGroup", "type", "MustRunAs", "supplementalGroups", "type", "RunAsAny",
		"seccompProfiles", "runtime/default", "volumes", volume_list(own->volumes), "users",
		"groups");
}

static const char scc_usage[] =
	"usage: capgate scc --policy FILE [--name NAME] [-o yaml|json]\n"
	"Writes an OpenShift SecurityContextConstraints (default name: capgate):\n"
	"restricted-v2 plus exactly what capgate emits under the policy. Pods that\n"
	"need it are granted it and pinned to it (openshift.io/required-scc).\n";

int cmd_scc(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"name", required_argument, NULL, 'N'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *policy_path = NULL, *name = SERVICE_NAME, *out = NULL;
	opts_begin(argv, "capgate scc");
	for (int c; (c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1;) {
		switch (c) {
		case 'p':
			policy_path = optarg;
			break;
		case 'N':
			name = optarg;
			break;
		case 'o':
			/* "-o=json" worked before these options were getopt's. */
			out = optarg[0] == '=' ? optarg + 1 : optarg;
			break;
		case 'h':
			fputs(scc_usage, stdout);
			return 0;
		default:
			fputs(scc_usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "capgate scc: unexpected argument \"%s\"\n%s", argv[optind],
			scc_usage);
		return 2;
	}
	if (policy_path == NULL) {
		fprintf(stderr, "capgate scc: --policy is required\n%s", scc_usage);
		return 2;
	}
	if (!k8sname_is_dns_label(name, strlen(name))) {
		fprintf(stderr, "capgate scc: --name \"%s\" is not a valid SCC name\n", name);
		return 2;
	}
	cg_error err = {0};
	bool as_json;
	cleanup_free char *text = NULL;
	cleanup_policy cg_policy *p = NULL;
	size_t len;
	if (output_format(out, &as_json, &err) < 0 ||
	    load_policy(policy_path, &text, &len, &p, &err) < 0) {
		fprintf(stderr, "capgate scc: %s\n", err.msg);
		return 1;
	}
	cleanup_json json_t *objs = json_pack("[o]", scc_object(p, name));
	if (objs == NULL) {
		fprintf(stderr, "capgate scc: out of memory\n");
		return 1;
	}
	/* The engine trusts only the SCC named ownSCC to admit everything the
	 * policy emits; under any other name it would hold back. */
	if (p->own_scc == NULL || strcmp(p->own_scc, name) != 0)
		fprintf(stderr,
			"capgate scc: warning: the policy's spec.openshift.ownSCC is \"%s\", not "
			"\"%s\": "
			"capgate will not treat this SCC as its own\n",
			p->own_scc ? p->own_scc : "", name);
	if (p->own.root)
		fprintf(stderr, "capgate scc: warning: spec.openshift.ownSCCAllowsRoot: this SCC "
				"admits runAsUser RunAsAny and SETFCAP for every container of the "
				"pods pinned to it, not only capgate's installer\n");
	if (write_objects(stdout, objs, as_json, &err) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "capgate scc: %s\n", err.msg[0] ? err.msg : "write error");
		return 1;
	}
	return 0;
}
