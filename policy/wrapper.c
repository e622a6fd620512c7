/* The capgate-ambient wrapper as the engine injects it (see wrapper.h).
 *
 * The wrapper carries the file capability cap_X+p and must be the
 * container's command itself: it raises X into the inheritable and ambient
 * sets and execs the real command, which then holds exactly X (product.md,
 * "Kernel facts"). X must be in the container's bounding set, so the
 * capability stays in `capabilities.add`. Copying a file loses its
 * security.capability, so with delivery initContainer a root init container
 * holding CAP_SETFCAP installs it into an emptyDir (a plain tmpfs, not
 * nosuid) that the application container mounts read-only.
 */
#include "policy/wrapper.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "policy/decision.h"
#include "policy/patch.h"

#define INIT_MOUNT    "/capgate-install"
#define IMAGE_WRAPPER "/capgate/capgate-ambient" /* where the capgate image has it */

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

static bool is_wrapped(const policy_nonroot *nr, json_t *cmd)
{
	const char *c1 = json_string_value(json_array_get(cmd, 1));
	const char *c0 = json_string_value(json_array_get(cmd, 0));
	const char *c2 = json_string_value(json_array_get(cmd, 2));
	return c0 && strcmp(c0, nr->wrapper_path) == 0 && c1 && strncmp(c1, "--caps=", 7) == 0 &&
	       c2 && strcmp(c2, "--") == 0;
}

static void scan(wrapper_state *w, decision *c)
{
	static const char *const lists[] = {"initContainers", "containers"};
	w->wrapper_in_pod = false;
	for (size_t l = 0; l < 2; l++) {
		size_t i;
		json_t *ctr;
		json_array_foreach(json_object_get(c->pod_spec, lists[l]), i, ctr)
		{
			if (is_wrapped(&c->policy->nonroot, json_object_get(ctr, "command")))
				w->wrapper_in_pod = true;
		}
	}
}

/* "--caps=NET_BIND_SERVICE,NET_RAW", as the wrapper and its installer take
 * it (capgate-ambient: every comma separates two names). */
static void caps_arg(caps_set caps, char *out, size_t outsz)
{
	snprintf(out, outsz, "--caps=");
	caps_set_format(caps, out + 7, outsz - 7);
	char *w = out; /* spaces out, in one pass */
	for (const char *r = out; *r; r++)
		if (*r != ' ')
			*w++ = *r;
	*w = '\0';
}

/* The capabilities of a --caps= argument capgate wrote (canonical names,
 * capgate's order), or 0. */
static caps_set parse_caps_arg(const char *arg)
{
	caps_set set = 0;
	char again[512];
	if (arg == NULL || strncmp(arg, "--caps=", 7) != 0)
		return 0;
	for (const char *p = arg + 7; *p;) {
		size_t n = strcspn(p, ",");
		int cap = caps_lookup(p, n);
		if (cap < 0 || cap == CAPS_ALL)
			return 0;
		set |= CAPS_BIT(cap);
		p += n + (p[n] == ',');
	}
	caps_arg(set, again, sizeof(again));
	return strcmp(again, arg) == 0 ? set : 0;
}

/* The installer drops ALL, and by name what the policy and the pod's SCC
 * require dropped by name or would add by default (SCC admission validates
 * the pod after webhooks and refuses an SCC whose defaults change it:
 * capabilities/mustrunas.go Generate), so that it holds exactly SETFCAP. */
static caps_set installer_drops(const decision *c)
{
	caps_set d = CAPS_BIT(CAPS_ALL) | (c->spec->required_drop & CAPS_KNOWN_MASK);
	if (c->scc != NULL)
		d |= (c->scc->required_drop | c->scc->default_add) & CAPS_KNOWN_MASK;
	return d & ~CAPS_BIT(CAPS_SETFCAP);
}

/* ALL first, then names in capability order. */
static json_t *drop_list(caps_set s)
{
	json_t *a = json_array();
	if (a && (s & CAPS_BIT(CAPS_ALL)))
		json_array_append_new(a, json_string_nocheck("ALL"));
	for (int i = 0; a && i < CAPS_COUNT; i++)
		if (s & CAPS_BIT(i))
			json_array_append_new(a, json_string_nocheck(caps_name(i)));
	return a;
}

json_t *wrapper_installer_spec(const policy_nonroot *nr, caps_set caps, caps_set drops)
{
	char arg[512];
	caps_arg(caps, arg, sizeof(arg));
	return json_pack(
		"{s:s, s:s, s:[s,s,s,s], s:[{s:s, s:s}], s:{s:b, s:b, s:i, s:b, s:{s:[s], s:o}},"
		" s:{s:{s:s, s:s}, s:{s:s, s:s}}}",
		"name", WRAPPER_INIT_CONTAINER, "image", nr->image, "command", IMAGE_WRAPPER,
		"--install", INIT_MOUNT, arg, "volumeMounts", "name", WRAPPER_VOLUME, "mountPath",
		INIT_MOUNT, "securityContext", "allowPrivilegeEscalation", 0,
		"readOnlyRootFilesystem", 1, "runAsUser", 0, "runAsNonRoot", 0, "capabilities",
		"add", "SETFCAP", "drop", drop_list(drops), "resources", "requests", "cpu", "10m",
		"memory", "8Mi", "limits", "cpu", "100m", "memory", "16Mi");
}

/* The init container that installs the wrapper for this pod: the installed
 * copy carries exactly caps, what the pod's wrapped containers raise. */
static json_t *init_container(const decision *c, caps_set caps)
{
	return wrapper_installer_spec(&c->policy->nonroot, caps, installer_drops(c));
}

/* The wrapper's volume as capgate injects it: for the installer, a plain
 * tmpfs (medium: Memory; file capabilities count there, no nosuid) that
 * only the installer writes; else the capgate image itself. */
static json_t *own_volume(const policy_nonroot *nr)
{
	if (nr->delivery == POLICY_DELIVERY_INIT_CONTAINER)
		return json_pack("{s:s, s:{s:s, s:s}}", "name", WRAPPER_VOLUME, "emptyDir",
				 "medium", "Memory", "sizeLimit", "4Mi");
	return json_pack("{s:s, s:{s:s, s:s}}", "name", WRAPPER_VOLUME, "image", "reference",
			 nr->image, "pullPolicy", "IfNotPresent");
}

/* Fields the server does not read (env, workingDir...) cannot change what
 * the fixed command does with its fixed mounts. args would; a restartPolicy
 * makes it a sidecar, which may carry probes and lifecycle hooks that run
 * other commands with its privilege (the apiserver refuses those on plain
 * init containers). */
const char *const wrapper_installer_absent[] = {
	"args",		  "restartPolicy", "lifecycle", "livenessProbe",
	"readinessProbe", "startupProbe",  NULL,
};

/* Every request and limit capgate sets is there unchanged; a LimitRange
 * may default others (ephemeral-storage), which grant nothing. */
static bool resources_cover(json_t *want, json_t *have)
{
	const char *k;
	json_t *v;
	json_object_foreach(have, k, v)
	{
		if (strcmp(k, "requests") != 0 && strcmp(k, "limits") != 0)
			return false;
	}
	json_object_foreach(want, k, v)
	{
		json_t *h = json_object_get(have, k);
		const char *r;
		json_t *q;
		json_object_foreach(v, r, q)
		{
			if (!json_equal(q, json_object_get(h, r)))
				return false;
		}
	}
	return true;
}

/* The installer's --caps, from its command: [wrapper, --install, DIR,
 * --caps=LIST]; the three-word form capgate wrote before --caps existed
 * installs NET_BIND_SERVICE and NET_RAW. 0 when it is neither. */
static caps_set installer_command_caps(json_t *cmd)
{
	size_t n = json_array_size(cmd);
	const char *c0 = json_string_value(json_array_get(cmd, 0));
	const char *c1 = json_string_value(json_array_get(cmd, 1));
	const char *c2 = json_string_value(json_array_get(cmd, 2));
	if ((n != 3 && n != 4) || c0 == NULL || strcmp(c0, IMAGE_WRAPPER) != 0 || c1 == NULL ||
	    strcmp(c1, "--install") != 0 || c2 == NULL || strcmp(c2, INIT_MOUNT) != 0)
		return 0;
	if (n == 3)
		return CAPS_BIT(CAPS_NET_BIND_SERVICE) | CAPS_BIT(CAPS_NET_RAW);
	return parse_caps_arg(json_string_value(json_array_get(cmd, 3)));
}

/* The installer's securityContext is want's but for the names it drops by
 * name (ALL always among them, every name canonical and once): those
 * follow the policy's and the SCC's required drops, which may change
 * after capgate wrote them. *drops_same: they are want's. */
static bool sc_same_but_drops(json_t *want, json_t *have, bool *drops_same)
{
	if (!json_is_object(have) || json_object_size(have) != json_object_size(want))
		return false;
	const char *k;
	json_t *v;
	json_object_foreach(want, k, v)
	{
		json_t *h = json_object_get(have, k);
		if (strcmp(k, "capabilities") != 0) {
			if (!json_equal(v, h))
				return false;
			continue;
		}
		json_t *drop = json_object_get(h, "drop");
		if (!json_is_object(h) || json_object_size(h) != 2 ||
		    !json_equal(json_object_get(v, "add"), json_object_get(h, "add")) ||
		    !json_is_array(drop))
			return false;
		caps_set seen = 0;
		size_t i;
		json_t *d;
		json_array_foreach(drop, i, d)
		{
			const char *n = json_string_value(d);
			int cap = n ? caps_lookup(n, strlen(n)) : -1;
			if (cap < 0 || !caps_is_canonical(n, strlen(n)) || (seen & CAPS_BIT(cap)))
				return false;
			seen |= CAPS_BIT(cap);
		}
		if (!(seen & CAPS_BIT(CAPS_ALL)) || (seen & CAPS_BIT(CAPS_SETFCAP)))
			return false;
		*drops_same = json_equal(json_object_get(v, "drop"), drop);
	}
	return true;
}

/* Whether obj is capgate's installer as capgate generates it for this pod,
 * whatever capabilities its command installs (*caps: those) and whatever
 * it drops by name besides ALL (*drops_same: exactly what it should): they
 * may lag behind the pod's wrapped containers, the policy or the SCC, or
 * predate --caps, and wrapper_finish() corrects them. Neither can give the
 * installer more than SETFCAP. */
static bool installer_genuine(const decision *c, json_t *obj, caps_set *caps, bool *drops_same)
{
	const char *name = json_string_value(json_object_get(obj, "name"));
	if (name == NULL || strcmp(name, WRAPPER_INIT_CONTAINER) != 0 ||
	    (*caps = installer_command_caps(json_object_get(obj, "command"))) == 0)
		return false;
	json_t *want = init_container(c, *caps);
	bool same = want != NULL;
	const char *k;
	json_t *v;
	json_object_foreach(want, k, v)
	{
		json_t *have = json_object_get(obj, k);
		if (strcmp(k, "command") == 0)
			continue;
		if (strcmp(k, "securityContext") == 0)
			same = same && sc_same_but_drops(v, have, drops_same);
		else
			same = same && (strcmp(k, "resources") == 0
						? json_is_object(have) && resources_cover(v, have)
						: json_equal(v, have));
	}
	json_decref(want);
	for (size_t i = 0; same && wrapper_installer_absent[i]; i++)
		same = json_object_get(obj, wrapper_installer_absent[i]) == NULL;
	return same;
}

bool wrapper_is_installer(wrapper_state *w, decision *c, const decision_ctr *ct)
{
	const policy_nonroot *nr = &c->policy->nonroot;
	caps_set caps;
	bool drops_same = false;
	if (strcmp(ct->list, "initContainers") != 0 ||
	    nr->delivery != POLICY_DELIVERY_INIT_CONTAINER || nr->image == NULL ||
	    ct->name == NULL || strcmp(ct->name, WRAPPER_INIT_CONTAINER) != 0)
		return false;
	if (!w->scanned) { /* only for a container named like it */
		scan(w, c);
		w->scanned = true;
	}
	if (!w->wrapper_in_pod || !installer_genuine(c, ct->obj, &caps, &drops_same))
		return false;
	w->installer_seen = true;
	w->installer_caps = caps;
	w->installer_drops_stale = !drops_same;
	w->installer_path = ct->path;
	return true;
}

static bool mount_read_only(json_t *m)
{
	return json_is_true(json_object_get(m, "readOnly"));
}

/* Whether the names capgate injects under are free for it in this pod: a
 * volume named capgate-ambient that is not exactly capgate's (a
 * PersistentVolumeClaim, an emptyDir of the pod's own) would receive a
 * capability-bearing binary, possibly on shared, persistent storage; a
 * container that mounts it writable could replace what the others run; an
 * init container named like the installer that is not capgate's would be
 * taken for it. NULL when free, else why not (for a message). */
static const char *slot_taken(wrapper_state *w, decision *c)
{
	const policy_nonroot *nr = &c->policy->nonroot;
	if (w->slot_checked)
		return w->slot_why;
	w->slot_checked = true;
	if (!w->scanned) {
		scan(w, c);
		w->scanned = true;
	}
	size_t i;
	json_t *o, *installer = NULL;
	json_array_foreach(json_object_get(c->pod_spec, "volumes"), i, o)
	{
		const char *n = json_string_value(json_object_get(o, "name"));
		if (n == NULL || strcmp(n, WRAPPER_VOLUME) != 0)
			continue;
		json_t *want = own_volume(nr);
		bool same = json_equal(want, o);
		json_decref(want);
		if (!same)
			return w->slot_why = "volume " WRAPPER_VOLUME " is the pod's own";
	}
	json_array_foreach(json_object_get(c->pod_spec, "initContainers"), i, o)
	{
		const char *n = json_string_value(json_object_get(o, "name"));
		caps_set caps;
		bool drops_same;
		if (n == NULL || strcmp(n, WRAPPER_INIT_CONTAINER) != 0)
			continue;
		if (nr->delivery != POLICY_DELIVERY_INIT_CONTAINER || !w->wrapper_in_pod ||
		    !installer_genuine(c, o, &caps, &drops_same))
			return w->slot_why = WRAPPER_INIT_CONTAINER " is the pod's own";
		installer = o;
	}
	static const char *const lists[] = {"initContainers", "containers", "ephemeralContainers"};
	for (size_t l = 0; l < 3; l++) {
		json_array_foreach(json_object_get(c->pod_spec, lists[l]), i, o)
		{
			size_t k;
			json_t *m;
			json_array_foreach(json_object_get(o, "volumeMounts"), k, m)
			{
				const char *n = json_string_value(json_object_get(m, "name"));
				if (n != NULL && strcmp(n, WRAPPER_VOLUME) == 0 &&
				    !mount_read_only(m) && o != installer)
					return w->slot_why = "a container mounts " WRAPPER_VOLUME
							     " writable";
			}
		}
	}
	return NULL;
}

/* The container's own mount of the wrapper's directory: 1 capgate's
 * (read-only, at dir), 0 none, -1 one that is not capgate's (the volume
 * mounted elsewhere or writable, or another volume at dir: the apiserver
 * refuses two mounts at one path). */
static int own_mount(decision_ctr *ct, const char *dir)
{
	size_t i;
	json_t *m;
	int found = 0;
	json_array_foreach(json_object_get(ct->obj, "volumeMounts"), i, m)
	{
		const char *n = json_string_value(json_object_get(m, "name"));
		const char *path = json_string_value(json_object_get(m, "mountPath"));
		bool at_dir = path != NULL && strcmp(path, dir) == 0;
		if (n != NULL && strcmp(n, WRAPPER_VOLUME) == 0) {
			if (!at_dir || !mount_read_only(m) || json_object_get(m, "subPath"))
				return -1;
			found = 1;
		} else if (at_dir) {
			return -1;
		}
	}
	return found;
}

/* wrapperPath is checked at load: absolute, normalised, in a directory of
 * its own below /. */
static void wrapper_dir(const policy_nonroot *nr, char *dir, size_t n)
{
	snprintf(dir, n, "%s", nr->wrapper_path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
}

/* The policy's entrypoint for an image, when the container sets no command.
 * Setting command makes the runtime ignore the image's CMD, so without args
 * of its own the container needs the CMD spelled out: never guess it. */
static int entrypoint_argv(decision *c, decision_ctr *ct, json_t **orig, json_t **args_new,
			   const char **why)
{
	const policy_nonroot *nr = &c->policy->nonroot;
	const policy_entrypoint *ep = find_entrypoint(nr, ct->image);
	if (ep == NULL) {
		*why = "no command to wrap, no policy entrypoint for its image";
		return 0;
	}
	if (json_array_size(json_object_get(ct->obj, "args")) == 0) {
		if (!ep->has_args) {
			*why = "no args, and the policy entrypoint for its image gives none";
			return 0;
		}
		if (ep->args.n > 0 && (*args_new = strlist_json(&ep->args)) == NULL)
			return decision_oom(c);
	}
	*orig = strlist_json(&ep->command);
	return *orig ? 1 : -ENOMEM;
}

static int add_mount(wrapper_state *w, decision *c, decision_ctr *ct, caps_set caps)
{
	const policy_nonroot *nr = &c->policy->nonroot;
	ct->wrapped = caps;
	if (nr->delivery == POLICY_DELIVERY_IMAGE)
		return 0;
	if (nr->delivery == POLICY_DELIVERY_INIT_CONTAINER) {
		w->wrapped_init = true;
		w->init_caps |= caps;
	} else {
		w->wrapped_image_volume = true;
	}
	char dir[4200];
	wrapper_dir(nr, dir, sizeof(dir));
	if (own_mount(ct, dir) == 1)
		return 0;
	json_t *m = json_pack("{s:s, s:s, s:b}", "name", WRAPPER_VOLUME, "mountPath", dir,
			      "readOnly", 1);
	if (patch_append(c->ops, ct->obj, &ct->path, NULL, 0, "volumeMounts", m, c->err) < 0)
		c->oom = true;
	c->changed = w->acted = true;
	return 0;
}

/* Why the wrapper cannot reach this container in this pod (its SCC, the
 * names it needs), or NULL. */
static const char *delivery_blocked(wrapper_state *w, decision *c, decision_ctr *ct)
{
	const policy_nonroot *nr = &c->policy->nonroot;
	if (nr->delivery == POLICY_DELIVERY_IMAGE)
		return NULL;
	if (strcmp(ct->list, "ephemeralContainers") == 0)
		return "a live pod gets no volume for the wrapper";
	/* The installer runs as uid 0 with SETFCAP, writing into an emptyDir;
	 * the other delivery mounts an image volume. */
	if (nr->delivery == POLICY_DELIVERY_INIT_CONTAINER
		    ? !decision_scc_allows_installer(c)
		    : !decision_scc_allows_volume(c, "image"))
		return "its SCC admits no fitting sysctl or wrapper";
	if (nr->image == NULL)
		return "no wrapper image: set nonRoot.ambient.image";
	const char *why = slot_taken(w, c);
	if (why != NULL)
		return why;
	char dir[4200];
	wrapper_dir(nr, dir, sizeof(dir));
	if (own_mount(ct, dir) < 0)
		return "its own mounts conflict with the wrapper's";
	return NULL;
}

int wrapper_wrap(wrapper_state *w, decision *c, decision_ctr *ct, caps_set caps, const char **why)
{
	const policy_nonroot *nr = &c->policy->nonroot;
	const char *blocked = delivery_blocked(w, c, ct);
	if (blocked != NULL) {
		*why = blocked;
		return 0;
	}
	char arg[512];
	caps_arg(caps, arg, sizeof(arg));
	json_t *cmd = json_object_get(ct->obj, "command");
	if (cmd != NULL && !json_is_null(cmd) && !json_is_array(cmd))
		return cg_error_set(c->err, EINVAL, "%s: command is not a list", decision_where(c));
	size_t i;
	json_t *v;
	json_array_foreach(cmd, i, v)
	{
		if (!json_is_string(v))
			return cg_error_set(c->err, EINVAL, "%s: command[%zu] is not a string",
					    decision_where(c), i);
	}
	json_t *orig = NULL, *args_new = NULL;
	if (json_array_size(cmd) > 0) {
		size_t from = 0;
		if (is_wrapped(nr, cmd)) {
			if (strcmp(json_string_value(json_array_get(cmd, 1)), arg) == 0) {
				/* as re-invocation sees it */
				return add_mount(w, c, ct, caps) < 0 ? -1 : 1;
			}
			from = 3;
		}
		if ((orig = json_array()) == NULL)
			return decision_oom(c);
		for (i = from; i < json_array_size(cmd); i++)
			json_array_append(orig, json_array_get(cmd, i));
	} else {
		int r = entrypoint_argv(c, ct, &orig, &args_new, why);
		if (r <= 0) {
			json_decref(args_new);
			return r;
		}
	}
	json_t *wrapped = json_pack("[s,s,s]", nr->wrapper_path, arg, "--");
	if (wrapped == NULL || json_array_extend(wrapped, orig) < 0) {
		json_decref(orig);
		json_decref(wrapped);
		json_decref(args_new);
		return decision_oom(c);
	}
	json_decref(orig);
	patch_path p;
	if (patch_path_join(&p, &ct->path, "command", c->err) < 0 ||
	    patch_add(c->ops, &p, wrapped, c->err) < 0)
		c->oom = true;
	if (args_new && (patch_path_join(&p, &ct->path, "args", c->err) < 0 ||
			 patch_add(c->ops, &p, args_new, c->err) < 0))
		c->oom = true;
	c->changed = w->acted = true;
	decision_change(c, ct,
			"command wrapped by capgate-ambient %s (non-root: capability made ambient)",
			arg);
	decision_warn(c, "%s runs as non-root: %s made ambient by the capgate-ambient wrapper",
		      decision_label(ct), arg + 7);
	return add_mount(w, c, ct, caps) < 0 ? -1 : 1;
}

int wrapper_finish(wrapper_state *w, decision *c)
{
	json_t *volumes = json_object_get(c->pod_spec, "volumes");
	if ((w->wrapped_init || w->wrapped_image_volume) && !has_named(volumes, WRAPPER_VOLUME)) {
		if (patch_append(c->ops, c->pod_spec, &c->spec_path, NULL, 0, "volumes",
				 own_volume(&c->policy->nonroot), c->err) < 0)
			c->oom = true;
		c->changed = w->acted = true;
		/* KEP-4639 first asked runtimes to mount image volumes noexec
		 * (CRI-O did); the wrapper cannot run from such a mount. */
		if (w->wrapped_image_volume)
			decision_warn(
				c,
				"capgate-ambient from an image volume: needs a runtime that mounts "
				"it without noexec/nosuid");
	}
	if (!w->wrapped_init)
		return 0;
	patch_path p;
	if (w->installer_seen) {
		/* A container wrapped since (a sidecar another webhook added,
		 * re-invocation) may need a capability the installed copy does
		 * not carry, or none may need one it does: the installer's
		 * --caps follows what the pod's wrapped containers raise. Its
		 * named drops follow the policy and the SCC. */
		if (w->installer_caps != w->init_caps) {
			char arg[512];
			caps_arg(w->init_caps, arg, sizeof(arg));
			if (patch_path_join(&p, &w->installer_path, "command", c->err) < 0 ||
			    patch_add(c->ops, &p,
				      json_pack("[s,s,s,s]", IMAGE_WRAPPER, "--install", INIT_MOUNT,
						arg),
				      c->err) < 0)
				c->oom = true;
			c->changed = w->acted = true;
			decision_change(
				c, NULL,
				"capgate-ambient installer: %s (what the wrapped containers "
				"raise)",
				arg);
		}
		if (w->installer_drops_stale) {
			static const char *const keys[] = {"securityContext", "capabilities",
							   "drop"};
			p = w->installer_path;
			for (size_t i = 0; i < 3; i++)
				if (patch_path_join(&p, &p, keys[i], c->err) < 0)
					c->oom = true;
			if (!c->oom &&
			    patch_add(c->ops, &p, drop_list(installer_drops(c)), c->err) < 0)
				c->oom = true;
			c->changed = w->acted = true;
			decision_change(
				c, NULL,
				"capgate-ambient installer: drops what the policy and the SCC "
				"require by name");
		}
		return 0;
	}
	/* First, so that init containers that need the wrapper find it. */
	json_t *inits = json_object_get(c->pod_spec, "initContainers");
	json_t *ic = init_container(c, w->init_caps);
	int rc = json_is_array(inits)
			 ? (patch_path_join(&p, &c->spec_path, "initContainers", c->err) < 0 ||
					    patch_path_join(&p, &p, "0", c->err) < 0
				    ? (json_decref(ic), -1)
				    : patch_add(c->ops, &p, ic, c->err))
			 : patch_append(c->ops, c->pod_spec, &c->spec_path, NULL, 0,
					"initContainers", ic, c->err);
	if (rc < 0)
		c->oom = true;
	c->changed = w->acted = true;
	decision_warn(c, "capgate-ambient init container runs as root with SETFCAP: "
			 "not allowed under Pod Security restricted");
	return 0;
}
