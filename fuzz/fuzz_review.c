/* The whole review path with oracles: bytes -> review_handle -> decode the
 * patch -> apply it with the project's JSON Patch -> check what product.md
 * promises of the result -> review the result again (no patch).
 *
 * Input: the first byte (an ASCII digit in the seeds) picks the policy
 * ('0'..'4': default, sysctl, ambient, deny, warn) and the layout: with
 * '0'..'4' the rest is the request body; with '5'..'9' the second byte picks
 * a kind, operation and namespace and the rest is the object alone, put in a
 * review here, so that mutations spend their time on pod specs. The oracle reads the request with a
 * full parse (jsonsel_all), independently of the pruned tree review_handle builds, and restates the
 * engine's scope rules (operations, exempt namespaces, mirror and Windows pods, the kinds and their
 * templates) from product.md rather than calling into the engine.
 */
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "fuzz/fuzz.h"
#include "json/jsonpatch_apply.h"
#include "json/jsonsel.h"
#include "policy/caps.h"
#include "policy/policy.h"
#include "server/review.h"

#define OWN_INIT "capgate-ambient-install"

/* Non-default policies: one of each non-root strategy, a rule, specific
 * required drops, a deny policy and a warn-mode one. onError stays deny in
 * all of them, so that "allowed" always means "judged". */
static const char *const policy_yaml[] = {
	NULL, /* the embedded default */
	"apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: fuzz-sysctl}\n"
	"spec:\n  requiredDropCapabilities: [ALL, NET_ADMIN]\n"
	"  allowedCapabilities: [NET_BIND_SERVICE, NET_RAW, CHOWN]\n"
	"  defaultAddCapabilities: [CHOWN]\n"
	"  nonRoot: {strategy: sysctl, unprivilegedPortStart: 80, netRaw: ping}\n",
	"apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: fuzz-ambient}\n"
	"spec:\n  allowedCapabilities: [NET_BIND_SERVICE, NET_RAW]\n"
	"  nonRoot:\n    strategy: ambient\n    netRaw: raw\n    ambient:\n"
	"      delivery: initContainer\n      image: capgate:0.1.0\n      entrypoints:\n"
	"      - {image: \"docker.io/library/nginx:*\", command: [/docker-entrypoint.sh],"
	" args: [nginx, -g, \"daemon off;\"]}\n"
	"      - {image: \"*/busybox:*\", command: [sh]}\n"
	"  rules:\n  - name: netops\n    match: {namespaces: [netops]}\n"
	"    allowedCapabilities: [NET_BIND_SERVICE, NET_RAW, NET_ADMIN]\n",
	"apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: fuzz-deny}\n"
	"spec:\n  allowedCapabilities: [NET_BIND_SERVICE]\n  onDisallowed: deny\n"
	"  nonRoot:\n    strategy: auto\n    ambient: {delivery: image, wrapperPath: "
	"/cg/ambient}\n",
	"apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: fuzz-warn}\n"
	"spec:\n  mode: warn\n",
};
#define N_POLICIES (sizeof(policy_yaml) / sizeof(policy_yaml[0]))
static cg_policy *policies[N_POLICIES];

/* How far inputs get, printed at exit when FUZZ_STATS is set: proof that
 * the oracles run, not just the parser. */
static struct {
	unsigned long inputs, reviews, allowed, patched, checked, containers;
} stats;

static void print_stats(void)
{
	fprintf(stderr,
		"fuzz_review: %lu inputs, %lu reviews answered, %lu allowed, %lu patched, "
		"%lu objects checked, %lu containers checked\n",
		stats.inputs, stats.reviews, stats.allowed, stats.patched, stats.checked,
		stats.containers);
}

/* The kubelet's safe sysctls (product.md). */
static const char *const safe_sysctls[] = {
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_rmem",
	"net.ipv4.tcp_wmem",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	arena_install_json();
	if (getenv("FUZZ_STATS"))
		atexit(print_stats);
	for (size_t i = 0; i < N_POLICIES; i++) {
		cg_error err = {0};
		int rc = policy_yaml[i] ? policy_load(policy_yaml[i], strlen(policy_yaml[i]),
						      "fuzz-policy", &policies[i], &err)
					: policy_load_default(&policies[i], &err);
		FUZZ_CHECK(rc == 0, "policy %zu: %s", i, err.msg);
	}
	return 0;
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Strict standard base64 (padding required), as Go's decoder reads it. */
static json_t *decode_patch(const char *s, size_t n)
{
	FUZZ_CHECK(n % 4 == 0 && n > 0, "patch base64 length %zu", n);
	unsigned char *raw = malloc(n / 4 * 3);
	size_t k = 0;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		for (int j = 0; j < 4; j++) {
			v[j] = b64val((unsigned char)s[i + j]);
			bool pad = s[i + j] == '=' && i + 4 == n &&
				   (j == 3 || (j == 2 && s[i + 3] == '='));
			FUZZ_CHECK(v[j] >= 0 || pad, "bad base64 at %zu", i + j);
			if (pad)
				v[j] = -2;
		}
		raw[k++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (v[2] >= 0)
			raw[k++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (v[3] >= 0)
			raw[k++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	json_error_t je;
	json_t *patch = json_loadb((const char *)raw, k, JSON_REJECT_DUPLICATES, &je);
	FUZZ_CHECK(patch != NULL, "patch is not JSON: %s: %.*s", je.text, (int)k, (char *)raw);
	FUZZ_CHECK(json_is_array(patch) && json_array_size(patch) > 0,
		   "patch not a non-empty array");
	free(raw);
	return patch;
}

typedef struct answer {
	json_t *resp; /* the parsed response body, NULL when review_handle failed */
	bool allowed;
	json_t *patch; /* decoded, or NULL */
} answer;

static void answer_clear(answer *a)
{
	json_decref(a->resp);
	json_decref(a->patch);
	memset(a, 0, sizeof(*a));
}

/* review_handle, plus everything any answer must satisfy. */
static int ask(const cg_policy *p, enum review_endpoint ep, const char *body, size_t len,
	       json_t *uid, answer *a)
{
	cg_buf out = {0};
	review_summary sum;
	cg_error err = {0};
	memset(a, 0, sizeof(*a));
	int rc = review_handle(p, ep, body, len, &out, &sum, &err);
	if (rc < 0) {
		buf_free(&out);
		return rc;
	}
	json_error_t je;
	a->resp = json_loadb(out.data, out.len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	FUZZ_CHECK(a->resp != NULL, "response is not JSON: %s: %.*s", je.text, (int)out.len,
		   out.data);
	buf_free(&out);
	FUZZ_CHECK(eq(str(a->resp, "kind"), "AdmissionReview"), "response kind");
	json_t *r = json_object_get(a->resp, "response");
	json_t *ruid = json_object_get(r, "uid");
	FUZZ_CHECK(json_is_string(ruid) && (uid == NULL || json_equal(ruid, uid)),
		   "response uid is not the request's");
	json_t *allowed = json_object_get(r, "allowed");
	FUZZ_CHECK(json_is_boolean(allowed), "response.allowed not a boolean");
	a->allowed = json_is_true(allowed);
	if (!a->allowed) {
		json_t *st = json_object_get(r, "status");
		FUZZ_CHECK(json_is_integer(json_object_get(st, "code")) && str(st, "message"),
			   "denial without status code and message");
	}
	json_t *pt = json_object_get(r, "patch");
	FUZZ_CHECK(ep == REVIEW_MUTATE || (pt == NULL && json_object_get(r, "patchType") == NULL),
		   "/validate answered with a patch");
	if (pt != NULL) {
		FUZZ_CHECK(a->allowed && eq(str(r, "patchType"), "JSONPatch") && json_is_string(pt),
			   "patch without allowed/patchType");
		a->patch = decode_patch(json_string_value(pt), json_string_length(pt));
	}
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(r, "warnings"), i, w)
	{
		const char *s = json_string_value(w);
		FUZZ_CHECK(s && json_string_length(w) <= 120, "warning too long or not a string");
		for (const char *q = s; *q; q++)
			FUZZ_CHECK((unsigned char)*q >= 0x20 && *q != 0x7f,
				   "control char in warning");
	}
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(r, "auditAnnotations"), k, v)
	{
		FUZZ_CHECK(strlen(k) > 0 && strlen(k) <= 63 && !strchr(k, '/') && json_is_string(v),
			   "bad audit annotation key %s", k);
		for (const char *q = k; *q; q++)
			FUZZ_CHECK((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
					   (*q >= '0' && *q <= '9') || strchr("-_.", *q),
				   "audit key %s", k);
	}
	return 0;
}

/* Where each kind keeps its pod (product.md), as keys from the object.
 * *parent and *key (when not NULL) say where the template hangs; the Pod
 * is its own template (*parent NULL). */
static json_t *pod_template_at(const char *kind, json_t *obj, json_t **parent, const char **key)
{
	static const struct {
		const char *kind;
		const char *path[4];
	} kinds[] = {
		{"Pod", {NULL}},
		{"Deployment", {"spec", "template"}},
		{"ReplicaSet", {"spec", "template"}},
		{"StatefulSet", {"spec", "template"}},
		{"DaemonSet", {"spec", "template"}},
		{"Job", {"spec", "template"}},
		{"ReplicationController", {"spec", "template"}},
		{"PodTemplate", {"template"}},
		{"CronJob", {"spec", "jobTemplate", "spec", "template"}},
	};
	json_t *up = NULL;
	const char *last = NULL;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		if (!eq(kind, kinds[k].kind))
			continue;
		for (size_t i = 0; i < 4 && kinds[k].path[i]; i++) {
			up = obj;
			last = kinds[k].path[i];
			obj = json_object_get(obj, last);
		}
		if (parent) {
			*parent = up;
			*key = last;
		}
		return obj;
	}
	return NULL;
}

static json_t *pod_template(const char *kind, json_t *obj)
{
	return pod_template_at(kind, obj, NULL, NULL);
}

typedef struct scope {
	const cg_policy *p;
	const policy_spec *spec;
	json_t *template; /* the Pod or the template in the judged object */
	bool ephemeral_only;
	json_t *old_ephemeral; /* oldObject's ephemeral containers (pods/ephemeralcontainers) */
} scope;

/* Whether oldObject already holds an ephemeral container of this name: the
 * apiserver refuses any change to it. */
static bool old_ephemeral(const scope *s, json_t *c)
{
	size_t i;
	json_t *o;
	const char *name = str(c, "name");
	json_array_foreach(s->old_ephemeral, i, o)
	{
		if (name && eq(str(o, "name"), name))
			return true;
	}
	return false;
}

static bool controller_owned(json_t *meta)
{
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(meta, "ownerReferences"), i, o)
	{
		if (json_is_true(json_object_get(o, "controller")))
			return true;
	}
	return false;
}

/* Whether the engine must have judged this request, per product.md.
 * Returns false for what is left alone. */
static bool in_scope(const cg_policy *p, json_t *req, json_t *obj, scope *s)
{
	const char *op = str(req, "operation");
	const char *kind = str(json_object_get(req, "kind"), "kind");
	const char *sub = str(req, "subResource");
	bool pod = eq(kind, "Pod");
	bool update = eq(op, "UPDATE");
	s->ephemeral_only = eq(sub, "ephemeralcontainers");
	/* product.md, "UPDATE and immutability": a Pod's containers (but for
	 * new ephemeral ones) and a Job's template cannot change on UPDATE;
	 * objects a controller made from its own template are left to it. */
	if (!eq(op, "CREATE") && !(update && (!pod || s->ephemeral_only)))
		return false;
	if (update && eq(kind, "Job"))
		return false;
	json_t *m = json_object_get(obj, "metadata");
	if (!pod && controller_owned(m))
		return false;
	json_t *deleting = json_object_get(m, "deletionTimestamp");
	if (update && deleting != NULL && !json_is_null(deleting))
		return false;
	/* oldObject only on UPDATE: the apiserver sends it for UPDATE (and
	 * DELETE), and the engine reads it only then; a CREATE that claims
	 * the ephemeralcontainers subresource (the apiserver has none) has
	 * every ephemeral container judged. */
	json_t *old = update ? json_object_get(req, "oldObject") : NULL;
	s->old_ephemeral = json_object_get(json_object_get(old, "spec"), "ephemeralContainers");
	const char *ns = str(req, "namespace");
	if (ns == NULL || !ns[0])
		ns = str(json_object_get(obj, "metadata"), "namespace");
	ns = ns ? ns : "";
	for (size_t i = 0; i < p->exemptions.namespaces.n; i++)
		if (strcmp(ns, p->exemptions.namespaces.v[i]) == 0)
			return false;
	json_t *meta = json_object_get(obj, "metadata");
	if (pod &&
	    json_object_get(json_object_get(meta, "annotations"), "kubernetes.io/config.mirror"))
		return false;
	s->template = pod_template(kind, obj);
	json_t *spec = json_object_get(s->template, "spec");
	if (!json_is_object(spec) || eq(str(json_object_get(spec, "os"), "name"), "windows"))
		return false;
	/* Rules in these policies match on namespace only. */
	s->spec = &p->spec;
	for (size_t r = 0; r < p->n_rules && s->spec == &p->spec; r++)
		for (size_t i = 0; i < p->rules[r].namespaces.n; i++)
			if (strcmp(ns, p->rules[r].namespaces.v[i]) == 0)
				s->spec = &p->rules[r].spec;
	s->p = p;
	return true;
}

static caps_set read_list(json_t *list, const char *what, const char *name)
{
	caps_set set = 0;
	size_t i;
	json_t *v;
	FUZZ_CHECK(list == NULL || json_is_array(list), "%s of %s not a list", what, name);
	json_array_foreach(list, i, v)
	{
		const char *s = json_string_value(v);
		FUZZ_CHECK(s != NULL, "%s[%zu] of %s not a string", what, i, name);
		int n = caps_lookup(s, json_string_length(v));
		FUZZ_CHECK(n >= 0 && caps_is_canonical(s, json_string_length(v)),
			   "%s of %s holds %s", what, name, s);
		FUZZ_CHECK(!(set & CAPS_BIT(n)), "%s of %s repeats %s", what, name, s);
		set |= CAPS_BIT(n);
	}
	return set;
}

/* Every judged container drops ALL (and the required drops), adds only
 * allowed capabilities, none of them also dropped, and is not privileged. */
static void check_container(const scope *s, json_t *c, bool init)
{
	FUZZ_CHECK(json_is_object(c), "container not an object");
	stats.containers++;
	const char *name = str(c, "name");
	name = name ? name : "?";
	json_t *sc = json_object_get(c, "securityContext");
	FUZZ_CHECK(json_is_object(sc), "container %s has no securityContext", name);
	FUZZ_CHECK(!json_is_true(json_object_get(sc, "privileged")), "container %s privileged",
		   name);
	json_t *caps = json_object_get(sc, "capabilities");
	FUZZ_CHECK(json_is_object(caps), "container %s has no capabilities", name);
	caps_set drop = read_list(json_object_get(caps, "drop"), "drop", name);
	caps_set add = read_list(json_object_get(caps, "add"), "add", name);
	FUZZ_CHECK((drop & s->spec->required_drop) == s->spec->required_drop,
		   "container %s does not drop every required capability", name);
	FUZZ_CHECK(drop & CAPS_BIT(CAPS_ALL), "container %s does not drop ALL", name);
	caps_set allowed = s->spec->allowed;
	if (init && eq(name, OWN_INIT) && eq(str(c, "image"), s->p->nonroot.image))
		allowed |= CAPS_BIT(CAPS_SETFCAP); /* for capgate's own installer */
	FUZZ_CHECK((add & ~allowed) == 0, "container %s adds a capability not allowed", name);
	FUZZ_CHECK((add & drop) == 0, "container %s adds what it drops", name);
}

static bool safe_sysctl(const char *n)
{
	for (size_t i = 0; n && i < sizeof(safe_sysctls) / sizeof(safe_sysctls[0]); i++)
		if (strcmp(n, safe_sysctls[i]) == 0)
			return true;
	return false;
}

/* Sysctls capgate added (entries not in the original) are safe, dotted,
 * with sane values, and there are none on hostNetwork pods. */
static void check_sysctls(json_t *orig_spec, json_t *spec)
{
	json_t *before = json_object_get(json_object_get(orig_spec, "securityContext"), "sysctls");
	json_t *after = json_object_get(json_object_get(spec, "securityContext"), "sysctls");
	if (json_is_true(json_object_get(spec, "hostNetwork"))) {
		FUZZ_CHECK(json_equal(before, after) || (before == NULL && after == NULL),
			   "sysctls changed on a hostNetwork pod");
		return;
	}
	size_t i, j;
	json_t *a, *b;
	json_array_foreach(after, i, a)
	{
		bool had = false;
		json_array_foreach(before, j, b) had |= json_equal(a, b);
		if (had)
			continue;
		const char *n = str(a, "name"), *v = str(a, "value");
		FUZZ_CHECK(safe_sysctl(n), "unsafe sysctl added: %s", n ? n : "(none)");
		FUZZ_CHECK(v != NULL, "sysctl %s without value", n);
		long long lo, hi;
		char tail;
		if (strcmp(n, "net.ipv4.ping_group_range") == 0)
			FUZZ_CHECK(sscanf(v, "%lld %lld%c", &lo, &hi, &tail) == 2 && 0 <= lo &&
					   lo <= hi,
				   "ping_group_range \"%s\"", v);
		if (strcmp(n, "net.ipv4.ip_unprivileged_port_start") == 0)
			FUZZ_CHECK(sscanf(v, "%lld%c", &lo, &tail) == 1 && 0 <= lo && lo < 1024,
				   "ip_unprivileged_port_start \"%s\"", v);
	}
}

/* json_equal() says two absent values differ. */
static bool same(json_t *a, json_t *b)
{
	return (a == NULL && b == NULL) || json_equal(a, b);
}

static bool listed(const char *k, size_t n, const char *const *may)
{
	for (; *may; may++)
		if (strlen(*may) == n && memcmp(*may, k, n) == 0)
			return true;
	return false;
}

/* Everything in a and b but the members named in may (NULL-terminated) is
 * equal: capgate changes only what it must. Absent and null read as {}. */
static void same_except(json_t *a, json_t *b, const char *const *may, const char *what)
{
	json_t *empty = json_object();
	if (a == NULL || json_is_null(a))
		a = empty;
	if (b == NULL || json_is_null(b))
		b = empty;
	if (!json_is_object(a) || !json_is_object(b)) {
		FUZZ_CHECK(json_equal(a, b), "%s changed", what);
		json_decref(empty);
		return;
	}
	const char *k;
	size_t n;
	json_t *v;
	json_object_keylen_foreach(a, k, n, v)
	{
		if (!listed(k, n, may))
			FUZZ_CHECK(json_equal(v, json_object_getn(b, k, n)), "%s.%.*s changed",
				   what, (int)n, k);
	}
	json_object_keylen_foreach(b, k, n, v)
	{
		if (!listed(k, n, may))
			FUZZ_CHECK(json_object_getn(a, k, n) != NULL, "%s.%.*s added", what, (int)n,
				   k);
	}
	json_decref(empty);
}

/* The first n items of a (an array, or absent) are the first items of b. */
static void prefix_of(json_t *a, json_t *b, const char *what)
{
	if (!json_is_array(a))
		return;
	FUZZ_CHECK(json_is_array(b) && json_array_size(b) >= json_array_size(a), "%s shrank", what);
	for (size_t i = 0; i < json_array_size(a); i++)
		FUZZ_CHECK(json_equal(json_array_get(a, i), json_array_get(b, i)),
			   "%s[%zu] changed", what, i);
}

static bool wrapped(const cg_policy *p, json_t *cmd)
{
	const char *c1 = json_string_value(json_array_get(cmd, 1));
	return eq(json_string_value(json_array_get(cmd, 0)), p->nonroot.wrapper_path) && c1 &&
	       strncmp(c1, "--caps=", 7) == 0 &&
	       eq(json_string_value(json_array_get(cmd, 2)), "--");
}

/* A changed command is the wrapper (product.md: the wrapper is the
 * container's command itself) raising capabilities the container adds,
 * then the container's own command. */
static void check_command(const scope *s, json_t *oc, json_t *pc, const char *name)
{
	json_t *ocmd = json_object_get(oc, "command"), *cmd = json_object_get(pc, "command");
	if (same(ocmd, cmd))
		return;
	/* capgate's own installer: --caps follows what the wrapped
	 * containers raise (it runs only capgate's fixed command). */
	if (eq(name, OWN_INIT) && json_array_size(cmd) == 4 &&
	    eq(json_string_value(json_array_get(cmd, 0)), "/capgate/capgate-ambient") &&
	    eq(json_string_value(json_array_get(cmd, 1)), "--install") &&
	    eq(json_string_value(json_array_get(cmd, 2)), "/capgate-install") &&
	    strncmp(json_string_value(json_array_get(cmd, 3))
			    ? json_string_value(json_array_get(cmd, 3))
			    : "",
		    "--caps=", 7) == 0)
		return;
	FUZZ_CHECK(wrapped(s->p, cmd), "container %s: command changed but not wrapped", name);
	caps_set add =
		read_list(json_object_get(json_object_get(json_object_get(pc, "securityContext"),
							  "capabilities"),
					  "add"),
			  "add", name);
	char caps[256];
	snprintf(caps, sizeof(caps), "%s", json_string_value(json_array_get(cmd, 1)) + 7);
	for (char *save = NULL, *c = strtok_r(caps, ",", &save); c;
	     c = strtok_r(NULL, ",", &save)) {
		int n = caps_lookup(c, strlen(c));
		FUZZ_CHECK(n >= 0 && n != CAPS_ALL && caps_is_canonical(c, strlen(c)) &&
				   (add & CAPS_BIT(n)),
			   "container %s: wrapper raises %s, which it does not add", name, c);
	}
	if (json_array_size(ocmd) == 0)
		return; /* the policy's entrypoint */
	size_t from = wrapped(s->p, ocmd) ? 3 : 0;
	FUZZ_CHECK(json_array_size(cmd) - 3 == json_array_size(ocmd) - from,
		   "container %s: wrapped command lost arguments", name);
	for (size_t i = from; i < json_array_size(ocmd); i++)
		FUZZ_CHECK(json_equal(json_array_get(ocmd, i), json_array_get(cmd, i - from + 3)),
			   "container %s: wrapped command differs", name);
}

static void check_unchanged_container(const scope *s, json_t *oc, json_t *pc)
{
	static const char *const ctr_may[] = {"securityContext", "command", "args", "volumeMounts",
					      NULL};
	static const char *const sc_may[] = {"capabilities", "privileged", NULL};
	const char *name = str(oc, "name");
	name = name ? name : "?";
	same_except(oc, pc, ctr_may, "container");
	same_except(json_object_get(oc, "securityContext"), json_object_get(pc, "securityContext"),
		    sc_may, "container.securityContext");
	prefix_of(json_object_get(oc, "volumeMounts"), json_object_get(pc, "volumeMounts"),
		  "volumeMounts");
	json_t *args = json_object_get(oc, "args");
	if (json_array_size(args) > 0)
		FUZZ_CHECK(json_equal(args, json_object_get(pc, "args")),
			   "container %s: args changed", name);
	check_command(s, oc, pc, name);
}

/* What the patch may touch: container capabilities, privileged, command,
 * args and mounts; the pod's sysctls, volumes and init containers; the
 * capgate.dev/applied annotation. Nothing else changes. */
static void check_unchanged(const scope *s, json_t *orig, json_t *obj, const char *kind)
{
	json_t *op = NULL, *pp = NULL;
	const char *key = NULL;
	json_t *ot = pod_template_at(kind, orig, &op, &key);
	json_t *pt = pod_template_at(kind, obj, &pp, &key);
	if (op != NULL) { /* outside the template */
		json_t *a = json_deep_copy(orig), *b = json_deep_copy(obj);
		json_t *ap = NULL, *bp = NULL;
		pod_template_at(kind, a, &ap, &key);
		pod_template_at(kind, b, &bp, &key);
		json_object_del(ap, key);
		json_object_del(bp, key);
		FUZZ_CHECK(json_equal(a, b), "the object changed outside its pod template");
		json_decref(a);
		json_decref(b);
	}
	static const char *const tmpl_may[] = {"metadata", "spec", NULL};
	static const char *const meta_may[] = {"annotations", NULL};
	static const char *const ann_may[] = {"capgate.dev/applied", NULL};
	static const char *const spec_may[] = {"securityContext", "initContainers",
					       "containers",	  "ephemeralContainers",
					       "volumes",	  NULL};
	static const char *const psc_may[] = {"sysctls", NULL};
	same_except(ot, pt, tmpl_may, "template");
	json_t *om = json_object_get(ot, "metadata"), *pm = json_object_get(pt, "metadata");
	same_except(om, pm, meta_may, "metadata");
	same_except(json_object_get(om, "annotations"), json_object_get(pm, "annotations"), ann_may,
		    "annotations");
	json_t *os = json_object_get(ot, "spec"), *ps = json_object_get(pt, "spec");
	same_except(os, ps, spec_may, "spec");
	same_except(json_object_get(os, "securityContext"), json_object_get(ps, "securityContext"),
		    psc_may, "spec.securityContext");
	prefix_of(json_object_get(os, "volumes"), json_object_get(ps, "volumes"), "volumes");
	static const char *const lists[] = {"initContainers", "containers", "ephemeralContainers"};
	for (size_t l = 0; l < 3; l++) {
		json_t *ol = json_object_get(os, lists[l]), *pl = json_object_get(ps, lists[l]);
		size_t shift = json_array_size(pl) - json_array_size(ol);
		if (!json_is_array(ol)) {
			/* only capgate's own init container may appear */
			FUZZ_CHECK(same(ol, pl) || (l == 0 && json_array_size(pl) == 1),
				   "%s appeared", lists[l]);
			continue;
		}
		FUZZ_CHECK(json_is_array(pl) && (shift == 0 || (l == 0 && shift == 1)),
			   "%s: containers added or removed", lists[l]);
		if (shift == 1)
			FUZZ_CHECK(eq(str(json_array_get(pl, 0), "name"), OWN_INIT),
				   "an init container other than capgate's appeared");
		for (size_t i = 0; i < json_array_size(ol); i++) {
			json_t *oc = json_array_get(ol, i), *pc = json_array_get(pl, i + shift);
			if (l == 2 && s->ephemeral_only && old_ephemeral(s, oc))
				FUZZ_CHECK(json_equal(oc, pc),
					   "an existing ephemeral container changed");
			else
				check_unchanged_container(s, oc, pc);
		}
	}
}

static void check_object(const scope *s, json_t *orig, json_t *obj, const char *kind)
{
	json_t *spec = json_object_get(pod_template(kind, obj), "spec");
	json_t *orig_spec = json_object_get(pod_template(kind, orig), "spec");
	FUZZ_CHECK(json_is_object(spec), "patched object lost its pod spec");
	static const char *const lists[] = {"initContainers", "containers", "ephemeralContainers"};
	for (size_t l = 0; l < 3; l++) {
		if (s->ephemeral_only && l != 2)
			continue;
		json_t *list = json_object_get(spec, lists[l]);
		FUZZ_CHECK(list == NULL || json_is_null(list) || json_is_array(list), "%s",
			   lists[l]);
		size_t i;
		json_t *c;
		json_array_foreach(list, i, c)
		{
			if (!(l == 2 && s->ephemeral_only && old_ephemeral(s, c)))
				check_container(s, c, l == 0);
		}
	}
	if (!s->ephemeral_only)
		check_sysctls(orig_spec, spec);
	if (obj != orig)
		check_unchanged(s, orig, obj, kind);
}

/* The patched object, reviewed again, gets no patch and passes /validate. */
static void check_again(const cg_policy *p, json_t *review, json_t *patched, json_t *uid)
{
	json_t *again = json_deep_copy(review);
	json_object_set(json_object_get(again, "request"), "object", patched);
	char *body = json_dumps(again, JSON_COMPACT | JSON_ENCODE_ANY);
	FUZZ_CHECK(body != NULL, "cannot dump the patched review");
	answer a;
	FUZZ_CHECK(ask(p, REVIEW_MUTATE, body, strlen(body), uid, &a) == 0, "re-review failed");
	FUZZ_CHECK(a.allowed && a.patch == NULL, "not idempotent: re-review %s",
		   a.allowed ? "patches again" : "denies");
	answer_clear(&a);
	FUZZ_CHECK(ask(p, REVIEW_VALIDATE, body, strlen(body), uid, &a) == 0, "re-validate failed");
	FUZZ_CHECK(a.allowed, "/validate denies the patched object");
	answer_clear(&a);
	free(body);
	json_decref(again);
}

/* The review fields without which review_handle answers 400. */
static json_t *review_uid(json_t *review)
{
	const char *api = str(review, "apiVersion");
	json_t *req = json_object_get(review, "request");
	json_t *uid = json_object_get(req, "uid");
	if (!(eq(api, "admission.k8s.io/v1") || eq(api, "admission.k8s.io/v1beta1")) ||
	    !eq(str(review, "kind"), "AdmissionReview") || !json_is_object(req) ||
	    !json_is_string(uid) || json_string_length(uid) == 0)
		return NULL;
	return uid;
}

/* An UPDATE (not of pods/ephemeralcontainers) whose object and oldObject
 * hold the same pod template, as capgate reads them: through the review
 * schema, whose pruning fuzz_jsonsel checks. */
static bool unchanged_update(const char *body, size_t len)
{
	json_t *r = NULL;
	cg_error err = {0};
	if (jsonsel_parse(body, len, review_schema(), REVIEW_MAX_DEPTH, &r, NULL, &err) < 0)
		return false;
	json_t *req = json_object_get(r, "request");
	const char *kind = str(json_object_get(req, "kind"), "kind");
	const char *sub = str(req, "subResource");
	json_t *a = pod_template(kind, json_object_get(req, "object"));
	json_t *b = pod_template(kind, json_object_get(req, "oldObject"));
	bool equal = eq(str(req, "operation"), "UPDATE") && !eq(sub, "ephemeralcontainers") &&
		     json_is_object(a) && json_is_object(b) && json_equal(a, b);
	json_decref(r);
	return equal;
}

/* Wraps an object in a review: kind, operation and namespace from sel. */
static char *envelope(uint8_t sel, const uint8_t *obj, size_t n, size_t *len)
{
	static const char *const kinds[] = {"Pod",	   "Deployment",  "ReplicaSet",
					    "StatefulSet", "DaemonSet",	  "Job",
					    "CronJob",	   "PodTemplate", "ReplicationController"};
	static const char *const ns[] = {"default", "kube-system", "netops", ""};
	const char *kind = kinds[sel % 9];
	const char *op = (sel / 9) % 4 == 3 ? "UPDATE" : "CREATE";
	const char *sub = (sel / 9) % 4 == 3 && sel % 9 == 0 ? "ephemeralcontainers" : "";
	char head[512];
	int h = snprintf(head, sizeof(head),
			 "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
			 "\"request\":{\"uid\":\"fuzz-uid\",\"kind\":{\"group\":\"\",\"version\":"
			 "\"v1\",\"kind\":\"%s\"},\"namespace\":\"%s\",\"operation\":\"%s\","
			 "\"subResource\":\"%s\",\"object\":",
			 kind, ns[(sel / 36) % 4], op, sub);
	char *b = malloc((size_t)h + n + 3);
	memcpy(b, head, (size_t)h);
	memcpy(b + h, obj, n);
	memcpy(b + h + n, "}}", 3);
	*len = (size_t)h + n + 2;
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	stats.inputs++;
	uint8_t sel = (uint8_t)(data[0] - '0');
	const cg_policy *p = policies[sel % N_POLICIES];
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	char *wrapped_body = NULL;
	if ((sel / N_POLICIES) % 2 == 1) {
		if (size < 2)
			return 0;
		body = wrapped_body = envelope(data[1], data + 2, size - 2, &len);
	}

	json_t *review = NULL;
	cg_error err = {0};
	/* A full parse fails where review_handle's passes only when a number
	 * it skips is longer than jsonsel builds (63 characters) or out of
	 * range (fuzz_jsonsel checks that). */
	bool full =
		jsonsel_parse(body, len, &jsonsel_all, REVIEW_MAX_DEPTH, &review, NULL, &err) == 0;
	json_t *uid = full ? review_uid(review) : NULL;

	answer m, v;
	int rm = ask(p, REVIEW_MUTATE, body, len, uid, &m);
	int rv = ask(p, REVIEW_VALIDATE, body, len, uid, &v);
	FUZZ_CHECK((rm == 0) == (rv == 0), "/mutate and /validate disagree on the body");
	FUZZ_CHECK(rm < 0 || !full || uid != NULL, "answered 200 to a body that is not a review");
	FUZZ_CHECK(rm == 0 || !full || uid == NULL, "refused a review: %s", err.msg);
	if (rm == 0) {
		stats.reviews++;
		stats.allowed += m.allowed;
		stats.patched += m.patch != NULL;
		FUZZ_CHECK(v.allowed == (m.allowed && m.patch == NULL),
			   "/validate %s but /mutate %s", v.allowed ? "allows" : "denies",
			   m.patch     ? "patches"
			   : m.allowed ? "allows"
				       : "denies");
		FUZZ_CHECK(p->spec.mode == POLICY_ENFORCE || m.patch == NULL, "patch in warn mode");
	}
	if (rm == 0 && full && m.allowed && p->spec.mode == POLICY_ENFORCE) {
		json_t *req = json_object_get(review, "request");
		json_t *obj = json_object_get(req, "object");
		json_t *patched = NULL;
		if (m.patch != NULL) {
			FUZZ_CHECK(jsonpatch_apply(obj, m.patch, &patched, &err) == 0,
				   "the patch does not apply: %s", err.msg);
		}
		scope s;
		/* README: an UPDATE that leaves the pod template as it was is
		 * never denied; unpatched, it may stay as it was. */
		bool kept = m.patch == NULL && unchanged_update(body, len);
		if (!kept && in_scope(p, req, obj, &s) && ++stats.checked)
			check_object(&s, obj, patched ? patched : obj,
				     str(json_object_get(req, "kind"), "kind"));
		else
			FUZZ_CHECK(patched == NULL, "patched what product.md leaves alone");
		if (patched != NULL)
			check_again(p, review, patched, uid);
		json_decref(patched);
	}
	answer_clear(&m);
	answer_clear(&v);
	json_decref(review);
	free(wrapped_body);
	return 0;
}
