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

#include "policy/caps.h"
#include "policy/container.h"
#include "policy/patch.h"
#include "policy/wrapper.h"

#define SYSCTL_PORT	   "net.ipv4.ip_unprivileged_port_start"
#define SYSCTL_PING	   "net.ipv4.ping_group_range"
#define APPLIED_ANNOTATION "capgate.dev/applied"
#define OPEN_PING_MAX	   2147483647LL /* containerd's "0 2147483647" */

/* What one need comes to: nobody can meet it, the pod or the runtime
 * already does, or capgate sets the pod sysctl. */
enum { NEED_UNMET, NEED_MET, NEED_SYSCTL };

static json_t *pod_sc(decision *c)
{
	return json_object_get(c->pod_spec, "securityContext");
}

/* The pod's own value for a sysctl (dotted or slashed name), or NULL. */
static const char *pod_sysctl(decision *c, const char *name)
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
static void note_applied(nonroot_state *nr, const char *how, const char *name, caps_set caps)
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
	if (nr->applied_full)
		return;
	size_t n = strlen(nr->applied);
	if (n + strlen(entry) + 1 + 4 >= sizeof(nr->applied)) {
		snprintf(nr->applied + n, sizeof(nr->applied) - n, "%s...", n ? ";" : "");
		nr->applied_full = true;
		return;
	}
	snprintf(nr->applied + n, sizeof(nr->applied) - n, "%s%s", n ? ";" : "", entry);
}

/* NET_BIND_SERVICE -> ip_unprivileged_port_start: the lowest declared port
 * below 1024 (not blindly 0: every port above it opens to every process in
 * the pod), else the policy's unprivilegedPortStart. */
static int port_need(nonroot_state *st, decision *c, decision_ctr *ct, bool pod_level,
		     bool host_net)
{
	const policy_nonroot *nr = &c->policy->nonroot;
	long long port;
	if (host_net)
		return NEED_UNMET; /* no pod sysctl on the host's network */
	if (container_low_port(c, ct, &port) < 0)
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
			decision_warn(
				c,
				"%s: pod sets %s=%.16s, port %lld stays closed; left as the pod "
				"set it",
				decision_label(ct), SYSCTL_PORT, have, port);
		return NEED_UNMET;
	}
	if (nr->runtime == POLICY_RUNTIME_OPEN)
		return NEED_MET;
	if (!pod_level || c->spec->nonroot_strategy == POLICY_NONROOT_AMBIENT || port < 0 ||
	    !decision_scc_allows_sysctl(c, SYSCTL_PORT))
		return NEED_UNMET; /* no port known: the sysctl value would be a guess */
	if (st->port_start < 0 || port < st->port_start)
		st->port_start = (int)port;
	return NEED_SYSCTL;
}

/* NET_RAW for ICMP echo -> ping_group_range "G G" for the gid the process
 * runs with; the kernel checks the egid and the supplementary groups, so
 * fsGroup and supplementalGroups count too. */
static int ping_need(nonroot_state *st, decision *c, decision_ctr *ct, bool pod_level,
		     bool host_net)
{
	long long gid = -1;
	if (host_net)
		return NEED_UNMET;
	int r = container_sc_int(c, ct, "runAsGroup", false, &gid);
	if (r == 0)
		r = container_sc_int(c, ct, "fsGroup", true, &gid);
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
			decision_warn(
				c,
				"%s: pod sets %s=\"%.24s\" without gid %lld; left as the pod set "
				"it",
				decision_label(ct), SYSCTL_PING, have, gid);
		return NEED_UNMET;
	}
	/* containerd leaves ping_group_range alone in a user namespace
	 * (hostUsers: false). */
	if (c->policy->nonroot.runtime == POLICY_RUNTIME_OPEN &&
	    !json_is_false(json_object_get(c->pod_spec, "hostUsers")) &&
	    (!known || gid <= OPEN_PING_MAX))
		return NEED_MET;
	if (!known || !pod_level || c->spec->nonroot_strategy == POLICY_NONROOT_AMBIENT ||
	    !decision_scc_allows_sysctl(c, SYSCTL_PING))
		return NEED_UNMET;
	if (st->ping_gid >= 0 && st->ping_gid != gid)
		return NEED_UNMET; /* one range per pod: a second gid uses the wrapper */
	st->ping_gid = gid;
	return NEED_SYSCTL;
}

/* Reports what the sysctls capgate sets do for this container. */
static void report_sysctl(nonroot_state *st, decision *c, decision_ctr *ct, caps_set by_sysctl,
			  caps_set allowed)
{
	char names[256];
	if (by_sysctl & allowed) {
		caps_set_format(by_sysctl & allowed, names, sizeof(names));
		decision_change(c, ct,
				"non-root: a pod sysctl makes %s work; kept in add, which binaries "
				"with file capabilities need",
				names);
		decision_warn(
			c, "%s runs as non-root: %s kept, and a pod-wide safe sysctl makes it work",
			decision_label(ct), names);
	}
	if (by_sysctl & ~allowed) {
		caps_set_format(by_sysctl & ~allowed, names, sizeof(names));
		decision_change(c, ct,
				"non-root: a pod sysctl stands in for %s, which is not allowed",
				names);
		decision_warn(
			c,
			"%s runs as non-root: a pod-wide sysctl stands in for %s (+ep binaries "
			"will fail)",
			decision_label(ct), names);
	}
	/* Where NET_RAW is kept, the wrapper (netRaw: raw) could give raw
	 * sockets; where it is not allowed, nothing could. */
	if (by_sysctl & allowed & CAPS_BIT(CAPS_NET_RAW))
		decision_warn(c,
			      "%s: ping_group_range allows ICMP echo only; raw sockets still need "
			      "NET_RAW (nonRoot.netRaw: raw)",
			      decision_label(ct));
	note_applied(st, "sysctl", ct->name, by_sysctl);
	st->acted = true;
}

void nonroot_begin(nonroot_state *nr)
{
	memset(nr, 0, sizeof(*nr));
	nr->port_start = -1;
	nr->ping_gid = -1;
}

int nonroot_judge(nonroot_state *st, decision *c, decision_ctr *ct)
{
	enum policy_nonroot_strategy strategy = c->spec->nonroot_strategy;
	/* A default add looks asked for once capgate (or, on OpenShift, SCC
	 * admission) has added it: so that re-invocation decides the same,
	 * and a template the same as its pods, defaultAddCapabilities never
	 * count, named by the container or not. */
	caps_set scc_default = c->scc != NULL ? c->scc->default_add : 0;
	caps_set asked = ct->add & ~ct->drop_specific & ~c->spec->default_add & ~scc_default;
	if (strategy == POLICY_NONROOT_NONE || asked == 0 || ct->user != 1)
		return 0;
	const policy_nonroot *nr = &c->policy->nonroot;
	bool pod_level = strcmp(ct->list, "ephemeralContainers") != 0;
	bool host_net = json_is_true(json_object_get(c->pod_spec, "hostNetwork"));
	caps_set allowed = asked & ct->keep, met = 0, by_sysctl = 0;
	int r;
	if (asked & CAPS_BIT(CAPS_NET_BIND_SERVICE)) {
		if ((r = port_need(st, c, ct, pod_level, host_net)) < 0)
			return r;
		met |= r == NEED_MET ? CAPS_BIT(CAPS_NET_BIND_SERVICE) : 0;
		by_sysctl |= r == NEED_SYSCTL ? CAPS_BIT(CAPS_NET_BIND_SERVICE) : 0;
	}
	if ((asked & CAPS_BIT(CAPS_NET_RAW)) && nr->net_raw_use == POLICY_NET_RAW_PING) {
		if ((r = ping_need(st, c, ct, pod_level, host_net)) < 0)
			return r;
		met |= r == NEED_MET ? CAPS_BIT(CAPS_NET_RAW) : 0;
		by_sysctl |= r == NEED_SYSCTL ? CAPS_BIT(CAPS_NET_RAW) : 0;
	}
	/* Re-invocation finds the sysctl in place (the need met) and reports
	 * nothing. */
	if (by_sysctl)
		report_sysctl(st, c, ct, by_sysctl, allowed);
	caps_set rest = allowed & ~met & ~by_sysctl;
	const char *why = "strategy sysctl, and no sysctl fits";
	if (rest && strategy != POLICY_NONROOT_SYSCTL) {
		if ((r = wrapper_wrap(&st->wrap, c, ct, rest, &why)) < 0)
			return r;
		if (r == 1) {
			note_applied(st, "ambient", ct->name, rest);
			return 0;
		}
	}
	if (rest == 0)
		return 0;
	char names[256];
	caps_set_format(rest, names, sizeof(names));
	if (strategy == POLICY_NONROOT_AMBIENT) {
		decision_deny(c,
			      "%s runs as non-root and needs %s, which the wrapper cannot give: %s",
			      decision_label(ct), names, why);
		return 0;
	}
	/* Nothing to change: the object is as good as capgate can make it,
	 * and the user is told. */
	decision_warn(c, "%s runs as non-root: %s will have no effect (%s%s)", decision_label(ct),
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

int nonroot_finish(nonroot_state *st, decision *c)
{
	static const char *const sc_key[] = {"securityContext"};
	json_t *sysctls = json_array();
	char val[48];
	if (sysctls == NULL)
		return decision_oom(c);
	if (st->port_start >= 0) {
		snprintf(val, sizeof(val), "%d", st->port_start);
		json_array_append_new(sysctls, sysctl_entry(SYSCTL_PORT, val));
	}
	if (st->ping_gid >= 0) {
		snprintf(val, sizeof(val), "%lld %lld", st->ping_gid, st->ping_gid);
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
						 "sysctls", json_incref(s), c->err) < 0)
					c->oom = true;
			}
			json_decref(sysctls);
		} else if (patch_set_nested(c->ops, c->pod_spec, &c->spec_path, sc_key, 1,
					    "sysctls", sysctls, c->err) < 0) {
			c->oom = true;
		}
	} else {
		json_decref(sysctls);
	}
	if (wrapper_finish(&st->wrap, c) < 0)
		return -1;
	/* pods/ephemeralcontainers keeps nothing but the ephemeral containers
	 * (dropNonEphemeralContainerUpdates): no annotation there. */
	if ((st->acted || st->wrap.acted) && st->applied[0] && !c->ephemeral_only) {
		const char *have =
			json_string_value(json_object_get(c->annotations, APPLIED_ANNOTATION));
		if (have == NULL || strcmp(have, st->applied) != 0) {
			static const char *const meta_keys[] = {"metadata", "annotations"};
			if (patch_set_nested(c->ops, c->template_obj, &c->template_path, meta_keys,
					     2, APPLIED_ANNOTATION, json_string(st->applied),
					     c->err) < 0)
				c->oom = true;
			c->changed = true;
		}
		decision_audit(c, "nonroot", st->applied);
	}
	return 0;
}
