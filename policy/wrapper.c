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

#include "policy/nonroot.h"
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

static void wrapper_scan(engine_ctx *c)
{
	static const char *const lists[] = {"initContainers", "containers"};
	c->nr.wrapper_in_pod = false;
	for (size_t l = 0; l < 2; l++) {
		size_t i;
		json_t *ctr;
		json_array_foreach(json_object_get(c->pod_spec, lists[l]), i, ctr)
		{
			if (is_wrapped(&c->policy->nonroot, json_object_get(ctr, "command")))
				c->nr.wrapper_in_pod = true;
		}
	}
}

/* The init container that installs the wrapper: root only to write the
 * file capability (CAP_SETFCAP), nothing else. */
json_t *wrapper_installer_spec(const policy_nonroot *nr)
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

bool wrapper_is_installer(engine_ctx *c, const engine_ctr *ct)
{
	const policy_nonroot *nr = &c->policy->nonroot;
	if (strcmp(ct->list, "initContainers") != 0 ||
	    nr->delivery != POLICY_DELIVERY_INIT_CONTAINER || nr->image == NULL ||
	    ct->name == NULL || strcmp(ct->name, NONROOT_INIT_CONTAINER) != 0)
		return false;
	if (!c->nr.scanned) { /* only for a container named like it */
		wrapper_scan(c);
		c->nr.scanned = true;
	}
	if (!c->nr.wrapper_in_pod)
		return false;
	json_t *want = wrapper_installer_spec(nr);
	bool same = want != NULL;
	const char *k;
	json_t *v;
	json_object_foreach(want, k, v)
	{
		json_t *have = json_object_get(ct->obj, k);
		same = same && (strcmp(k, "resources") == 0
					? json_is_object(have) && resources_cover(v, have)
					: json_equal(v, have));
	}
	json_decref(want);
	for (size_t i = 0; same && wrapper_installer_absent[i]; i++)
		same = json_object_get(ct->obj, wrapper_installer_absent[i]) == NULL;
	return same;
}

/* The policy's entrypoint for an image, when the container sets no command.
 * Setting command makes the runtime ignore the image's CMD, so without args
 * of its own the container needs the CMD spelled out: never guess it. */
static int entrypoint_argv(engine_ctx *c, engine_ctr *ct, json_t **orig, json_t **args_new,
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
			return -ENOMEM;
	}
	*orig = strlist_json(&ep->command);
	return *orig ? 1 : -ENOMEM;
}

static int add_mount(engine_ctx *c, engine_ctr *ct)
{
	const policy_nonroot *nr = &c->policy->nonroot;
	if (nr->delivery == POLICY_DELIVERY_IMAGE)
		return 0;
	if (nr->delivery == POLICY_DELIVERY_INIT_CONTAINER)
		c->nr.wrapped_init = true;
	else
		c->nr.wrapped_image_volume = true;
	if (has_named(json_object_get(ct->obj, "volumeMounts"), NONROOT_VOLUME))
		return 0;
	/* wrapperPath is checked at load: absolute, normalised, in a
	 * directory of its own below /. */
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s", nr->wrapper_path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	json_t *m = json_pack("{s:s, s:s, s:b}", "name", NONROOT_VOLUME, "mountPath", dir,
			      "readOnly", 1);
	if (patch_append(c->ops, ct->obj, &ct->path, NULL, 0, "volumeMounts", m) < 0)
		c->oom = true;
	c->changed = c->nr.acted = true;
	return 0;
}

int wrapper_wrap(engine_ctx *c, engine_ctr *ct, caps_set caps, const char **why)
{
	const policy_nonroot *nr = &c->policy->nonroot;
	if (strcmp(ct->list, "ephemeralContainers") == 0 && nr->delivery != POLICY_DELIVERY_IMAGE) {
		*why = "a live pod gets no volume for the wrapper";
		return 0;
	}
	if (nr->delivery == POLICY_DELIVERY_INIT_CONTAINER && !engine_scc_allows_root(c)) {
		*why = "its SCC admits no fitting sysctl or wrapper";
		return 0;
	}
	if (nr->delivery != POLICY_DELIVERY_IMAGE && nr->image == NULL) {
		*why = "no wrapper image: set nonRoot.ambient.image";
		return 0;
	}
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
	json_t *orig = NULL, *args_new = NULL;
	if (json_array_size(cmd) > 0) {
		size_t from = 0;
		if (is_wrapped(nr, cmd)) {
			if (strcmp(json_string_value(json_array_get(cmd, 1)), arg) == 0) {
				/* as re-invocation sees it */
				nonroot_note_applied(c, "ambient", ct->name, caps);
				return add_mount(c, ct) < 0 ? -1 : 1;
			}
			from = 3;
		}
		if ((orig = json_array()) == NULL)
			return -ENOMEM;
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
		return -ENOMEM;
	}
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
	nonroot_note_applied(c, "ambient", ct->name, caps);
	return add_mount(c, ct) < 0 ? -1 : 1;
}

int wrapper_finish(engine_ctx *c)
{
	const policy_nonroot *nr = &c->policy->nonroot;
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
					    : patch_add(c->ops, &p, wrapper_installer_spec(nr)))
				 : patch_append(c->ops, c->pod_spec, &c->spec_path, NULL, 0,
						"initContainers", wrapper_installer_spec(nr));
		if (rc < 0)
			c->oom = true;
		c->changed = c->nr.acted = true;
		engine_warn(c, "capgate-ambient init container runs as root with SETFCAP: "
			       "not allowed under Pod Security restricted");
	}
	return 0;
}
