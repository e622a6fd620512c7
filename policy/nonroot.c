/* Non-root containers that asked for a capability: make it actually work.
 *
 * A process that runs as a non-root uid loses every capability at execve:
 *   P'(perm) = (P(inh) & F(inh)) | (F(perm) & bounding) | P'(amb)
 * and runtimes fill neither the inheritable nor the ambient set, so
 * `capabilities.add` does nothing for a plain binary. Two ways out, least
 * privilege first:
 *  - a safe, namespaced pod sysctl that removes the need for the capability
 *    (ip_unprivileged_port_start for NET_BIND_SERVICE, ping_group_range for
 *    NET_RAW used for ICMP echo);
 *  - the capgate-ambient wrapper as the container's command (wrapper.c).
 *
 * Do no harm: an allowed capability the container asked for stays in
 * `add` even when a sysctl covers the need. Images whose binaries carry
 * file capabilities with the effective bit (ingress-nginx's dumb-init,
 * controller and nginx: cap_net_bind_service=+ep) need it in the bounding
 * set: the kernel refuses execve with EPERM when a file's permitted
 * capabilities are not all in the bounding set and its effective bit is
 * set (security/commoncap.c, bprm_caps_from_vfs_caps). The sysctl stands in
 * for the capability only where the policy does not allow it.
 *
 * Only what a container asked for counts: defaultAddCapabilities fill the
 * bounding set, as under PSP and SCC, and never bring a sysctl that opens
 * something to the whole pod, nor the wrapper and its root init container
 * (a non-root container that names one gets no more than before capgate).
 *
 * Runtimes that open ports and ICMP themselves (nonRoot.runtimeDefaults:
 * open; containerd 2.x enable_unprivileged_ports/icmp) start every pod
 * network namespace with ip_unprivileged_port_start=0 and ping_group_range
 * "0 2147483647", unless the pod sets its own value or uses the host's
 * network: there the need is met, and a pod sysctl would only narrow it.
 */
#include "policy/nonroot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/patch.h"
#include "policy/wrapper.h"

#define CAP_NET_BIND_SERVICE 10
#define CAP_NET_RAW	     13
#define SYSCTL_PORT	     "net.ipv4.ip_unprivileged_port_start"
#define SYSCTL_PING	     "net.ipv4.ping_group_range"
#define APPLIED_ANNOTATION   "capgate.dev/applied"
#define OPEN_PING_MAX	     2147483647LL /* containerd's "0 2147483647" */

/* What one need comes to: nobody can meet it, the pod or the runtime
 * already does, or capgate sets the pod sysctl. */
enum { NEED_UNMET, NEED_MET, NEED_SYSCTL };

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

int nonroot_user(engine_ctx *c, engine_ctr *ct)
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

int nonroot_low_port(engine_ctx *c, engine_ctr *ct, long long *port)
{
	json_t *ports = json_object_get(ct->obj, "ports");
	*port = 0;
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
		if (n > 0 && n < 1024 && (*port == 0 || n < *port))
			*port = n;
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

/* capgate.dev/applied: "sysctl:http=NET_BIND_SERVICE;ambient:probe=NET_RAW+NET_ADMIN".
 * Entries are separated by ';', each is HOW:CONTAINER=CAPS with CAPS
 * joined by '+'; a last entry "..." says that more did not fit. Container
 * names are DNS labels once the apiserver has validated them, but webhooks
 * see objects before validation: other bytes are written as '?'. */
void nonroot_note_applied(engine_ctx *c, const char *how, const char *name, caps_set caps)
{
	char entry[600], cn[64], names[512];
	size_t k = 0;
	for (const char *s = name ? name : "?"; *s && k + 1 < sizeof(cn); s++, k++) {
		char ch = *s;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_';
		cn[k] = ok ? ch : '?';
	}
	cn[k] = '\0';
	caps_set_format(caps, names, sizeof(names));
	/* ", " -> "+", in one pass: no overlapping memmove, which valgrind
	 * reports here as an overlapping __memcpy_chk (glibc's x86-64
	 * __memmove_chk shares its code with __memcpy_chk). */
	char *w = names;
	for (const char *r = names; *r; r++) {
		if (r[0] == ',' && r[1] == ' ') {
			*w++ = '+';
			r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	snprintf(entry, sizeof(entry), "%s:%s=%s", how, cn, names);
	if (c->nr.applied_full)
		return;
	size_t n = strlen(c->nr.applied);
	if (n + strlen(entry) + 1 + 4 >= sizeof(c->nr.applied)) {
		snprintf(c->nr.applied + n, sizeof(c->nr.applied) - n, "%s...", n ? ";" : "");
		c->nr.applied_full = true;
		return;
	}
	snprintf(c->nr.applied + n, sizeof(c->nr.applied) - n, "%s%s", n ? ";" : "", entry);
}

/* NET_BIND_SERVICE -> ip_unprivileged_port_start: the lowest declared port
 * below 1024 (not blindly 0: every port above it opens to every process in
 * the pod), else the policy's unprivilegedPortStart. */
static int port_need(engine_ctx *c, engine_ctr *ct, bool pod_level, bool host_net)
{
	const policy_nonroot *nr = &c->policy->nonroot;
	long long port;
	if (host_net)
		return NEED_UNMET; /* no pod sysctl on the host's network */
	if (nonroot_low_port(c, ct, &port) < 0)
		return -1;
	if (port == 0)
		port = nr->unprivileged_port_start;
	const char *have = pod_sysctl(c, SYSCTL_PORT);
	if (have != NULL) {
		char *end;
		long long v = strtoll(have, &end, 10);
		if (port >= 0 && *have && *end == '\0' && v <= port)
			return NEED_MET; /* the pod already opens the port */
		if (port >= 0)
			engine_warn(
				c,
				"%s: pod sets %s=%.16s, port %lld stays closed; left as the pod "
				"set it",
				engine_label(ct), SYSCTL_PORT, have, port);
		return NEED_UNMET;
	}
	if (nr->runtime == POLICY_RUNTIME_OPEN)
		return NEED_MET;
	if (!pod_level || c->spec->nonroot_strategy == POLICY_NONROOT_AMBIENT || port < 0 ||
	    !engine_scc_allows_sysctl(c, SYSCTL_PORT))
		return NEED_UNMET; /* no port known: the sysctl value would be a guess */
	if (c->nr.port_start < 0 || port < c->nr.port_start)
		c->nr.port_start = (int)port;
	return NEED_SYSCTL;
}

/* NET_RAW for ICMP echo -> ping_group_range "G G" for the gid the process
 * runs with; the kernel checks the egid and the supplementary groups, so
 * fsGroup and supplementalGroups count too. */
static int ping_need(engine_ctx *c, engine_ctr *ct, bool pod_level, bool host_net)
{
	long long gid = -1;
	if (host_net)
		return NEED_UNMET;
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
	if (r < 0)
		return r;
	bool known = r > 0 && gid >= 0 && gid <= 4294967294LL;
	const char *have = pod_sysctl(c, SYSCTL_PING);
	if (have != NULL) {
		long long lo, hi;
		if (known && sscanf(have, "%lld %lld", &lo, &hi) == 2 && lo <= gid && gid <= hi)
			return NEED_MET;
		if (known)
			engine_warn(
				c,
				"%s: pod sets %s=\"%.24s\" without gid %lld; left as the pod set "
				"it",
				engine_label(ct), SYSCTL_PING, have, gid);
		return NEED_UNMET;
	}
	/* containerd leaves ping_group_range alone in a user namespace
	 * (hostUsers: false). */
	if (c->policy->nonroot.runtime == POLICY_RUNTIME_OPEN &&
	    !json_is_false(json_object_get(c->pod_spec, "hostUsers")) &&
	    (!known || gid <= OPEN_PING_MAX))
		return NEED_MET;
	if (!known || !pod_level || c->spec->nonroot_strategy == POLICY_NONROOT_AMBIENT ||
	    !engine_scc_allows_sysctl(c, SYSCTL_PING))
		return NEED_UNMET;
	if (c->nr.ping_gid >= 0 && c->nr.ping_gid != gid)
		return NEED_UNMET; /* one range per pod: a second gid uses the wrapper */
	c->nr.ping_gid = gid;
	return NEED_SYSCTL;
}

/* Reports what the sysctls capgate sets do for this container. */
static void report_sysctl(engine_ctx *c, engine_ctr *ct, caps_set by_sysctl, caps_set allowed)
{
	char names[256];
	if (by_sysctl & allowed) {
		caps_set_format(by_sysctl & allowed, names, sizeof(names));
		engine_change(c, ct,
			      "non-root: a pod sysctl makes %s work; kept in add, which binaries "
			      "with file capabilities need",
			      names);
		engine_warn(
			c, "%s runs as non-root: %s kept, and a pod-wide safe sysctl makes it work",
			engine_label(ct), names);
	}
	if (by_sysctl & ~allowed) {
		caps_set_format(by_sysctl & ~allowed, names, sizeof(names));
		engine_change(c, ct,
			      "non-root: a pod sysctl stands in for %s, which is not allowed",
			      names);
		engine_warn(c,
			    "%s runs as non-root: a pod-wide sysctl stands in for %s (+ep binaries "
			    "will fail)",
			    engine_label(ct), names);
	}
	/* Where NET_RAW is kept, the wrapper (netRaw: raw) could give raw
	 * sockets; where it is not allowed, nothing could. */
	if (by_sysctl & allowed & CAPS_BIT(CAP_NET_RAW))
		engine_warn(c,
			    "%s: ping_group_range allows ICMP echo only; raw sockets still need "
			    "NET_RAW (nonRoot.netRaw: raw)",
			    engine_label(ct));
	nonroot_note_applied(c, "sysctl", ct->name, by_sysctl);
	c->nr.acted = true;
}

int nonroot_judge(engine_ctx *c, engine_ctr *ct)
{
	enum policy_nonroot_strategy st = c->spec->nonroot_strategy;
	/* A default add looks asked for once capgate (or, on OpenShift, SCC
	 * admission) has added it: so that re-invocation decides the same,
	 * and a template the same as its pods, defaultAddCapabilities never
	 * count, named by the container or not. */
	caps_set scc_default = c->scc != NULL ? c->scc->default_add : 0;
	caps_set asked = ct->add & ~ct->drop_specific & ~c->spec->default_add & ~scc_default;
	if (st == POLICY_NONROOT_NONE || asked == 0 || ct->user != 1)
		return 0;
	const policy_nonroot *nr = &c->policy->nonroot;
	bool pod_level = strcmp(ct->list, "ephemeralContainers") != 0;
	bool host_net = json_is_true(json_object_get(c->pod_spec, "hostNetwork"));
	caps_set allowed = asked & ct->keep, met = 0, by_sysctl = 0;
	int r;
	if (asked & CAPS_BIT(CAP_NET_BIND_SERVICE)) {
		if ((r = port_need(c, ct, pod_level, host_net)) < 0)
			return r;
		met |= r == NEED_MET ? CAPS_BIT(CAP_NET_BIND_SERVICE) : 0;
		by_sysctl |= r == NEED_SYSCTL ? CAPS_BIT(CAP_NET_BIND_SERVICE) : 0;
	}
	if ((asked & CAPS_BIT(CAP_NET_RAW)) && nr->net_raw_use == POLICY_NET_RAW_PING) {
		if ((r = ping_need(c, ct, pod_level, host_net)) < 0)
			return r;
		met |= r == NEED_MET ? CAPS_BIT(CAP_NET_RAW) : 0;
		by_sysctl |= r == NEED_SYSCTL ? CAPS_BIT(CAP_NET_RAW) : 0;
	}
	/* Re-invocation finds the sysctl in place (the need met) and reports
	 * nothing. */
	if (by_sysctl)
		report_sysctl(c, ct, by_sysctl, allowed);
	caps_set rest = allowed & ~met & ~by_sysctl;
	const char *why = "strategy sysctl, and no sysctl fits";
	if (rest && st != POLICY_NONROOT_SYSCTL) {
		if ((r = wrapper_wrap(c, ct, rest, &why)) < 0)
			return r;
		if (r == 1)
			return 0;
	}
	if (rest == 0)
		return 0;
	char names[256];
	caps_set_format(rest, names, sizeof(names));
	if (st == POLICY_NONROOT_AMBIENT) {
		engine_deny(c,
			    "%s runs as non-root and needs %s, which the wrapper cannot give: %s",
			    engine_label(ct), names, why);
		return 0;
	}
	/* Nothing to change: the object is as good as capgate can make it,
	 * and the user is told. */
	engine_warn(c, "%s runs as non-root: %s will have no effect (%s%s)", engine_label(ct),
		    names, host_net ? "hostNetwork; " : "", why);
	return 0;
}

/* Built by hand: json_pack parses its format on every call, a sizeable
 * part of a decision's cost. */
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
		c->changed = true; /* each container's warning says "pod-wide" */
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
	if (wrapper_finish(c) < 0)
		return -1;
	/* pods/ephemeralcontainers keeps nothing but the ephemeral containers
	 * (dropNonEphemeralContainerUpdates): no annotation there. */
	bool ephemeral_only = strcmp(c->req->sub_resource, "ephemeralcontainers") == 0;
	if (c->nr.acted && c->nr.applied[0] && !ephemeral_only) {
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
