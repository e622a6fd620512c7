/* Non-root containers that keep a capability: make it actually work.
 *
 * A process that runs as a non-root uid loses every capability at execve:
 *   P'(perm) = (P(inh) & F(inh)) | (F(perm) & bounding) | P'(amb)
 * and runtimes fill neither the inheritable nor the ambient set, so
 * `capabilities.add` does nothing for it. Two ways out, least privilege
 * first:
 *  - a safe, namespaced sysctl that removes the need for the capability
 *    (ip_unprivileged_port_start for NET_BIND_SERVICE, ping_group_range for
 *    NET_RAW used for ICMP echo); the capability is then dropped;
 *  - the capgate-ambient wrapper (file capability +p) as the container's
 *    command, which raises the capability into the ambient set and execs the
 *    real command. The capability stays in `add`: it must be in the
 *    bounding set for the file capability to take effect.
 */
#include "policy/nonroot.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP_NET_BIND_SERVICE 10
#define CAP_NET_RAW	     13
#define SYSCTL_PORT	     "net.ipv4.ip_unprivileged_port_start"
#define SYSCTL_PING	     "net.ipv4.ping_group_range"
#define APPLIED_ANNOTATION   "capgate.dev/applied"
#define INIT_MOUNT	     "/capgate-install"
#define IMAGE_WRAPPER	     "/capgate/capgate-ambient" /* where the capgate image has it */

static json_t *pod_sc(engine_ctx *c)
{
	return json_object_get(c->pod_spec, "securityContext");
}

/* An integer field of the container's securityContext, else the pod's.
 * Returns 1 when found, 0 when absent, negative on a wrong type. */
static int sc_int(engine_ctx *c, engine_ctr *ct, const char *key, bool pod_only, long long *out)
{
	json_t *scs[2] = {pod_only ? NULL : ct->sc, pod_sc(c)};
	for (int i = 0; i < 2; i++) {
		json_t *v = json_object_get(scs[i], key);
		if (v == NULL || json_is_null(v))
			continue;
		if (!json_is_integer(v))
			return cg_error_set(c->err, EINVAL,
					    "%s: securityContext.%s is not an integer",
					    engine_where(c), key);
		*out = json_integer_value(v);
		return 1;
	}
	return 0;
}

static int is_nonroot(engine_ctx *c, engine_ctr *ct)
{
	long long uid;
	int r = sc_int(c, ct, "runAsUser", false, &uid);
	if (r != 0)
		return r < 0 ? r : uid != 0;
	json_t *scs[2] = {ct->sc, pod_sc(c)};
	for (int i = 0; i < 2; i++) {
		json_t *v = json_object_get(scs[i], "runAsNonRoot");
		if (json_is_boolean(v))
			return json_is_true(v);
	}
	return 0;
}

/* The pod's own value for a sysctl (dotted or slashed name), or NULL. */
static const char *pod_sysctl(engine_ctx *c, const char *name)
{
	json_t *list = json_object_get(pod_sc(c), "sysctls");
	size_t i;
	json_t *s;
	json_array_foreach(list, i, s)
	{
		const char *n = json_string_value(json_object_get(s, "name"));
		if (n == NULL || strlen(n) != strlen(name))
			continue;
		bool same = true;
		for (size_t k = 0; same && n[k]; k++)
			same = (n[k] == '/' ? '.' : n[k]) == name[k];
		if (same) {
			const char *v = json_string_value(json_object_get(s, "value"));
			return v ? v : "";
		}
	}
	return NULL;
}

/* capgate.dev/applied: "sysctl:app=NET_BIND_SERVICE,ambient:probe=NET_RAW" */
static void note_applied(engine_ctx *c, const char *how, const char *name, const char *caps)
{
	size_t n = strlen(c->nr.applied);
	snprintf(c->nr.applied + n, sizeof(c->nr.applied) - n, "%s%s:%s=%s", n ? "," : "", how,
		 name, caps);
}

/* NET_BIND_SERVICE -> ip_unprivileged_port_start: the lowest declared port
 * below 1024 (not blindly 0: every port above it opens to every process in
 * the pod). Returns 2 when the sysctl must be set, 1 when the pod's own
 * value already covers the need, 0 when no sysctl can. */
static int sysctl_port(engine_ctx *c, engine_ctr *ct)
{
	long long port = -1;
	json_t *ports = json_object_get(ct->obj, "ports");
	if (ports != NULL && !json_is_null(ports) && !json_is_array(ports))
		return cg_error_set(c->err, EINVAL, "%s: ports is not a list", engine_where(c));
	size_t i;
	json_t *p;
	json_array_foreach(ports, i, p)
	{
		json_t *v = json_object_get(p, "containerPort");
		if (v != NULL && !json_is_integer(v))
			return cg_error_set(c->err, EINVAL,
					    "%s: ports[%zu].containerPort is not an integer",
					    engine_where(c), i);
		long long n = json_integer_value(v);
		if (n > 0 && n < 1024 && (port < 0 || n < port))
			port = n;
	}
	if (port < 0)
		port = c->policy->nonroot.unprivileged_port_start;
	if (port < 0)
		return 0; /* no port known: the sysctl value would be a guess */
	if (!engine_scc_allows_sysctl(c, SYSCTL_PORT))
		return 0;
	const char *have = pod_sysctl(c, SYSCTL_PORT);
	if (have != NULL) {
		char *end;
		long long v = strtoll(have, &end, 10);
		if (*have && *end == '\0' && v <= port)
			return 1; /* the pod already opens the port */
		engine_warn(c,
			    "%s: pod sets %s=%.16s, port %lld stays closed; left as the pod set it",
			    engine_label(ct), SYSCTL_PORT, have, port);
		return 0;
	}
	if (c->nr.port_start < 0 || port < c->nr.port_start)
		c->nr.port_start = (int)port;
	return 2;
}

/* NET_RAW for ICMP echo -> ping_group_range "G G" for the gid the process
 * runs with; the kernel checks the egid and the supplementary groups, so
 * fsGroup and supplementalGroups count too. */
static int sysctl_ping(engine_ctx *c, engine_ctr *ct)
{
	long long gid = -1;
	int r = sc_int(c, ct, "runAsGroup", false, &gid);
	if (r == 0)
		r = sc_int(c, ct, "fsGroup", true, &gid);
	if (r == 0) {
		json_t *g = json_array_get(json_object_get(pod_sc(c), "supplementalGroups"), 0);
		if (json_is_integer(g)) {
			gid = json_integer_value(g);
			r = 1;
		}
	}
	if (r <= 0 || gid < 0 || gid > 4294967294LL)
		return r < 0 ? r : 0;
	if (!engine_scc_allows_sysctl(c, SYSCTL_PING))
		return 0;
	const char *have = pod_sysctl(c, SYSCTL_PING);
	if (have != NULL) {
		long long lo, hi;
		if (sscanf(have, "%lld %lld", &lo, &hi) == 2 && lo <= gid && gid <= hi)
			return 1;
		engine_warn(c, "%s: pod sets %s=\"%.24s\" without gid %lld; left as the pod set it",
			    engine_label(ct), SYSCTL_PING, have, gid);
		return 0;
	}
	if (c->nr.ping_gid >= 0 && c->nr.ping_gid != gid)
		return 0; /* one range per pod: a second gid uses the wrapper */
	c->nr.ping_gid = gid;
	return 2;
}

static const policy_entrypoint *find_entrypoint(const policy_nonroot *nr, const char *image)
{
	for (size_t i = 0; image && i < nr->n_entrypoints; i++)
		if (fnmatch(nr->entrypoints[i].image, image, 0) == 0)
			return &nr->entrypoints[i];
	return NULL;
}

static json_t *strlist_json(const policy_strlist *l)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

static bool has_named(json_t *list, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		const char *n = json_string_value(json_object_get(v, "name"));
		if (n && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

/* Makes the wrapper the container's command. Returns 1 when done (or
 * already done), 0 when the entrypoint is unknown, negative on error. */
static int wrap_command(engine_ctx *c, engine_ctr *ct, caps_set caps)
{
	const policy_nonroot *nr = &c->policy->nonroot;
	bool ephemeral = strcmp(ct->list, "ephemeralContainers") == 0;
	if (ephemeral && nr->delivery != POLICY_DELIVERY_IMAGE)
		return 0; /* a live pod cannot gain volumes or init containers */
	if (nr->delivery == POLICY_DELIVERY_INIT_CONTAINER && !engine_scc_allows_root(c))
		return 0; /* the SCC would reject the root init container */
	char arg[512] = "--caps=";
	caps_set_format(caps, arg + 7, sizeof(arg) - 7);
	for (char *p = arg; *p; p++)
		if (*p == ' ')
			memmove(p, p + 1, strlen(p));
	json_t *cmd = json_object_get(ct->obj, "command");
	if (cmd != NULL && !json_is_null(cmd) && !json_is_array(cmd))
		return cg_error_set(c->err, EINVAL, "%s: command is not a list", engine_where(c));
	size_t i;
	json_t *v;
	json_array_foreach(cmd, i, v)
	{
		if (!json_is_string(v))
			return cg_error_set(c->err, EINVAL, "%s: command[%zu] is not a string",
					    engine_where(c), i);
	}

	json_t *orig = NULL;
	json_t *args_new = NULL;
	if (json_array_size(cmd) > 0) {
		const char *c0 = json_string_value(json_array_get(cmd, 0));
		const char *c1 = json_string_value(json_array_get(cmd, 1));
		const char *c2 = json_string_value(json_array_get(cmd, 2));
		size_t from = 0;
		if (strcmp(c0, nr->wrapper_path) == 0 && c1 && strncmp(c1, "--caps=", 7) == 0 &&
		    c2 && strcmp(c2, "--") == 0) {
			if (strcmp(c1, arg) == 0)
				goto mounts; /* already wrapped, as re-invocation sees it */
			from = 3;
		}
		orig = json_array();
		for (i = from; orig && i < json_array_size(cmd); i++)
			json_array_append(orig, json_array_get(cmd, i));
	} else {
		const policy_entrypoint *ep = find_entrypoint(nr, ct->image);
		if (ep == NULL)
			return 0;
		json_t *args = json_object_get(ct->obj, "args");
		/* Setting command makes the runtime ignore the image's CMD, so
		 * without args of its own the container needs the CMD spelled
		 * out: never guess it. */
		if (json_array_size(args) == 0) {
			if (!ep->has_args)
				return 0;
			if (ep->args.n > 0)
				args_new = strlist_json(&ep->args);
		}
		orig = strlist_json(&ep->command);
	}
	json_t *wrapped = json_array();
	if (!orig || !wrapped) {
		json_decref(orig);
		json_decref(wrapped);
		json_decref(args_new);
		return -ENOMEM;
	}
	json_array_append_new(wrapped, json_string(nr->wrapper_path));
	json_array_append_new(wrapped, json_string(arg));
	json_array_append_new(wrapped, json_string("--"));
	json_array_extend(wrapped, orig);
	json_decref(orig);
	patch_path p;
	if (patch_path_join(&p, &ct->path, "command") < 0 || patch_add(c->ops, &p, wrapped) < 0)
		c->oom = true;
	if (args_new &&
	    (patch_path_join(&p, &ct->path, "args") < 0 || patch_add(c->ops, &p, args_new) < 0))
		c->oom = true;
	c->changed = c->nr.acted = true;
	engine_change(c, ct,
		      "command wrapped by capgate-ambient %s (non-root: capability made ambient)",
		      arg);
	engine_warn(c, "%s runs as non-root: %s made ambient by the capgate-ambient wrapper",
		    engine_label(ct), arg + 7);
	char nb[64];
	note_applied(c, "ambient", engine_safe_name(ct->name ? ct->name : "?", nb, sizeof(nb)),
		     arg + 7);
mounts:
	if (nr->delivery == POLICY_DELIVERY_IMAGE)
		return 1;
	if (nr->delivery == POLICY_DELIVERY_INIT_CONTAINER)
		c->nr.wrapped_init = true;
	else
		c->nr.wrapped_image_volume = true;
	if (!has_named(json_object_get(ct->obj, "volumeMounts"), NONROOT_VOLUME)) {
		char dir[256];
		snprintf(dir, sizeof(dir), "%s", nr->wrapper_path);
		char *slash = strrchr(dir, '/');
		if (slash != NULL)
			*(slash == dir ? slash + 1 : slash) = '\0';
		json_t *m = json_pack("{s:s, s:s, s:b}", "name", NONROOT_VOLUME, "mountPath", dir,
				      "readOnly", 1);
		if (patch_append(c->ops, ct->obj, &ct->path, NULL, 0, "volumeMounts", m) < 0)
			c->oom = true;
		c->changed = c->nr.acted = true;
	}
	return 1;
}

int nonroot_judge(engine_ctx *c, engine_ctr *ct)
{
	enum policy_nonroot_strategy st = c->spec->nonroot_strategy;
	if (st == POLICY_NONROOT_NONE || ct->keep == 0)
		return 0;
	int r = is_nonroot(c, ct);
	if (r <= 0)
		return r;
	const policy_nonroot *nr = &c->policy->nonroot;
	bool pod_level = strcmp(ct->list, "ephemeralContainers") != 0;
	bool host_net = json_is_true(json_object_get(c->pod_spec, "hostNetwork"));
	caps_set need = ct->keep, via_sysctl = 0;
	bool new_sysctl = false;
	char names[256];

	if (st != POLICY_NONROOT_AMBIENT && pod_level && !host_net) {
		if ((need & CAPS_BIT(CAP_NET_BIND_SERVICE)) && (r = sysctl_port(c, ct)) != 0) {
			if (r < 0)
				return r;
			via_sysctl |= CAPS_BIT(CAP_NET_BIND_SERVICE);
			new_sysctl |= r == 2;
		}
		if ((need & CAPS_BIT(CAP_NET_RAW)) && nr->net_raw_use == POLICY_NET_RAW_PING &&
		    (r = sysctl_ping(c, ct)) != 0) {
			if (r < 0)
				return r;
			via_sysctl |= CAPS_BIT(CAP_NET_RAW);
			new_sysctl |= r == 2;
		}
	}
	caps_set rest = need & ~via_sysctl;
	if (rest && st != POLICY_NONROOT_SYSCTL) {
		if ((r = wrap_command(c, ct, rest)) < 0)
			return r;
		if (r == 1)
			rest = 0;
	}
	ct->keep &= ~via_sysctl;
	/* Re-invocation sees the sysctl in place and the capability gone: it
	 * decides the same and reports nothing. */
	if (via_sysctl && (new_sysctl || (via_sysctl & ct->add))) {
		caps_set_format(via_sysctl, names, sizeof(names));
		engine_change(c, ct, "non-root: %s replaced by a pod sysctl and dropped", names);
		engine_warn(c, "%s runs as non-root: %s replaced by a pod-wide safe sysctl",
			    engine_label(ct), names);
		if (via_sysctl & CAPS_BIT(CAP_NET_RAW))
			engine_warn(c,
				    "%s: ping_group_range allows ICMP echo only; raw sockets still "
				    "need NET_RAW (nonRoot.netRaw: raw)",
				    engine_label(ct));
		char nb[64];
		note_applied(c, "sysctl",
			     engine_safe_name(ct->name ? ct->name : "?", nb, sizeof(nb)), names);
		c->nr.acted = true;
	}
	if (rest) {
		caps_set_format(rest, names, sizeof(names));
		if (st == POLICY_NONROOT_AMBIENT) {
			engine_deny(c,
				    "%s runs as non-root and needs %s, but has no command and no "
				    "policy entrypoint for its image: set command",
				    engine_label(ct), names);
			return 0;
		}
		/* Nothing to change: the object is as good as capgate can make
		 * it, and the user is told. */
		engine_warn(c, "%s runs as non-root: %s will have no effect (%s)", engine_label(ct),
			    names,
			    host_net	  ? "hostNetwork"
			    : c->scc_name ? "its SCC admits no fitting sysctl or wrapper"
					  : "no sysctl fits, no command to wrap");
	}
	return 0;
}

bool nonroot_is_own_container(const engine_ctx *c, const engine_ctr *ct)
{
	const policy_nonroot *nr = &c->policy->nonroot;
	return strcmp(ct->list, "initContainers") == 0 && ct->name &&
	       strcmp(ct->name, NONROOT_INIT_CONTAINER) == 0 && ct->image && nr->image &&
	       strcmp(ct->image, nr->image) == 0;
}

/* The init container that installs the wrapper: root only to write the
 * file capability (CAP_SETFCAP), nothing else. */
static json_t *init_container(const policy_nonroot *nr)
{
	return json_pack(
		"{s:s, s:s, s:[s,s,s], s:[{s:s, s:s}], s:{s:b, s:b, s:i, s:b, s:{s:[s], s:[s]}},"
		" s:{s:{s:s, s:s}, s:{s:s, s:s}}}",
		"name", NONROOT_INIT_CONTAINER, "image", nr->image, "command", IMAGE_WRAPPER,
		"--install", INIT_MOUNT, "volumeMounts", "name", NONROOT_VOLUME, "mountPath",
		INIT_MOUNT, "securityContext", "allowPrivilegeEscalation", 0,
		"readOnlyRootFilesystem", 1, "runAsUser", 0, "runAsNonRoot", 0, "capabilities",
		"add", "SETFCAP", "drop", "ALL", "resources", "requests", "cpu", "10m", "memory",
		"8Mi", "limits", "cpu", "100m", "memory", "16Mi");
}

static json_t *sysctl_entry(const char *name, const char *value)
{
	json_t *o = json_object();
	if (o != NULL &&
	    (json_object_set_new_nocheck(o, "name", json_string_nocheck(name)) < 0 ||
	     json_object_set_new_nocheck(o, "value", json_string_nocheck(value)) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int nonroot_finish(engine_ctx *c)
{
	const policy_nonroot *nr = &c->policy->nonroot;
	static const char *const sc_key[] = {"securityContext"};
	json_t *sysctls = json_array();
	char val[48];
	if (sysctls == NULL)
		return -ENOMEM;
	if (c->nr.port_start >= 0) {
		snprintf(val, sizeof(val), "%d", c->nr.port_start);
		json_array_append_new(sysctls, sysctl_entry(SYSCTL_PORT, val));
	}
	if (c->nr.ping_gid >= 0) {
		snprintf(val, sizeof(val), "%lld %lld", c->nr.ping_gid, c->nr.ping_gid);
		json_array_append_new(sysctls, sysctl_entry(SYSCTL_PING, val));
	}
	if (json_array_size(sysctls) > 0) {
		c->changed = true;
		engine_warn(c, "pod sysctls set: they apply to every container in the pod");
		if (json_is_array(json_object_get(pod_sc(c), "sysctls"))) {
			size_t i;
			json_t *s;
			json_array_foreach(sysctls, i, s)
			{
				if (patch_append(c->ops, c->pod_spec, &c->spec_path, sc_key, 1,
						 "sysctls", json_incref(s)) < 0)
					c->oom = true;
			}
			json_decref(sysctls);
		} else if (patch_set_nested(c->ops, c->pod_spec, &c->spec_path, sc_key, 1,
					    "sysctls", sysctls) < 0) {
			c->oom = true;
		}
	} else {
		json_decref(sysctls);
	}
	json_t *volumes = json_object_get(c->pod_spec, "volumes");
	if ((c->nr.wrapped_init || c->nr.wrapped_image_volume) &&
	    !has_named(volumes, NONROOT_VOLUME)) {
		json_t *vol =
			c->nr.wrapped_init
				? json_pack("{s:s, s:{s:s, s:s}}", "name", NONROOT_VOLUME,
					    "emptyDir", "medium", "Memory", "sizeLimit", "4Mi")
				: json_pack("{s:s, s:{s:s, s:s}}", "name", NONROOT_VOLUME, "image",
					    "reference", nr->image, "pullPolicy", "IfNotPresent");
		if (patch_append(c->ops, c->pod_spec, &c->spec_path, NULL, 0, "volumes", vol) < 0)
			c->oom = true;
		c->changed = c->nr.acted = true;
		/* KEP-4639 first asked runtimes to mount image volumes noexec
		 * (CRI-O did); the wrapper cannot run from such a mount. */
		if (c->nr.wrapped_image_volume)
			engine_warn(
				c,
				"capgate-ambient from an image volume: needs a runtime that mounts "
				"it without noexec/nosuid");
	}
	json_t *inits = json_object_get(c->pod_spec, "initContainers");
	if (c->nr.wrapped_init && !has_named(inits, NONROOT_INIT_CONTAINER)) {
		/* First, so that init containers that need the wrapper find it. */
		patch_path p;
		int rc = json_is_array(inits)
				 ? (patch_path_join(&p, &c->spec_path, "initContainers") < 0 ||
						    patch_path_join(&p, &p, "0") < 0
					    ? -1
					    : patch_add(c->ops, &p, init_container(nr)))
				 : patch_append(c->ops, c->pod_spec, &c->spec_path, NULL, 0,
						"initContainers", init_container(nr));
		if (rc < 0)
			c->oom = true;
		c->changed = c->nr.acted = true;
		engine_warn(c, "capgate-ambient init container runs as root with SETFCAP: "
			       "not allowed under Pod Security restricted");
	}
	if (c->nr.acted && c->nr.applied[0]) {
		const char *have =
			json_string_value(json_object_get(c->annotations, APPLIED_ANNOTATION));
		if (have == NULL || strcmp(have, c->nr.applied) != 0) {
			static const char *const meta_keys[] = {"metadata", "annotations"};
			if (patch_set_nested(c->ops, c->template_obj, &c->template_path, meta_keys,
					     2, APPLIED_ANNOTATION, json_string(c->nr.applied)) < 0)
				c->oom = true;
			c->changed = true;
		}
		engine_audit_note(c, "nonroot", c->nr.applied);
	}
	return 0;
}
