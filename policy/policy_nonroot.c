#include "policy/policy_nonroot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IMAGE 1024 /* longer than any registry accepts */
#define MAX_PATH  4096

static const char *const strategy_names[] = {"auto", "sysctl", "ambient", "none", NULL};
static const char *const net_raw_names[] = {"ping", "raw", NULL};
static const char *const runtime_names[] = {"closed", "open", NULL};
static const char *const delivery_names[] = {"initContainer", "image", "imageVolume", NULL};

/* Where a read-only mount of the wrapper's directory would hide the files
 * an image keeps there: initContainer and imageVolume delivery mount the
 * directory of wrapperPath over the application container's own. */
static const char *const system_dirs[] = {
	"/bin",		  "/boot",
	"/etc",		  "/home",
	"/lib",		  "/lib32",
	"/lib64",	  "/libx32",
	"/media",	  "/mnt",
	"/opt",		  "/root",
	"/run",		  "/sbin",
	"/srv",		  "/tmp",
	"/usr",		  "/usr/bin",
	"/usr/lib",	  "/usr/lib32",
	"/usr/lib64",	  "/usr/libexec",
	"/usr/local",	  "/usr/local/bin",
	"/usr/local/lib", "/usr/local/sbin",
	"/usr/sbin",	  "/usr/share",
	"/var",		  "/var/lib",
	"/var/log",	  "/var/run",
	"/var/tmp",	  NULL,
};

static int read_enum(pyaml *y, yaml_node_t *n, const char *path, const char *key,
		     const char *const *names, int *out)
{
	char p[160];
	return n == NULL ? 0 : pyaml_enum(y, n, pyaml_path(p, sizeof(p), path, key), names, out);
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* wrapperPath becomes the container's command and, for the deliveries that
 * copy the wrapper in, the parent of a read-only mount: every value that
 * would give a pod that cannot start is refused here, not found by the
 * first user whose pod breaks. */
static int check_wrapper_path(pyaml *y, yaml_node_t *at, const char *p, const char *w,
			      enum policy_delivery d)
{
	char q[80];
	pyaml_quote(at, q, sizeof(q));
	size_t n = strlen(w);
	/* A relative path would resolve against the image's working directory. */
	if (w[0] != '/')
		return pyaml_fail(y, at, p, "%s is not an absolute path", q);
	if (n == 1 || w[n - 1] == '/')
		return pyaml_fail(y, at, p, "%s names a directory; name the wrapper file itself",
				  q);
	for (const char *s = w; *s;) {
		const char *e = strchr(s + 1, '/');
		size_t len = (size_t)((e ? e : w + n) - (s + 1));
		if (len == 0 || (len == 1 && s[1] == '.') ||
		    (len == 2 && s[1] == '.' && s[2] == '.'))
			return pyaml_fail(
				y, at, p,
				"%s is not a normalised path (an empty, . or .. component)", q);
		s = e ? e : w + n;
	}
	static const char *const kernel_fs[] = {"/proc", "/sys", "/dev"};
	for (size_t i = 0; i < 3; i++)
		if (under(w, kernel_fs[i]))
			return pyaml_fail(y, at, p,
					  "%s is under %s, which the runtime mounts itself; the "
					  "wrapper cannot live there",
					  q, kernel_fs[i]);
	if (d == POLICY_DELIVERY_IMAGE)
		return 0; /* in the image already: nothing is mounted */
	const char *slash = strrchr(w, '/');
	if (slash == w)
		return pyaml_fail(y, at, p,
				  "%s is directly under /: delivery %s mounts the wrapper's "
				  "directory read-only, which would hide the whole image; use a "
				  "directory of its own such as /capgate/capgate-ambient",
				  q, delivery_names[d]);
	for (size_t i = 0; system_dirs[i] != NULL; i++)
		if (strlen(system_dirs[i]) == (size_t)(slash - w) &&
		    strncmp(w, system_dirs[i], (size_t)(slash - w)) == 0)
			return pyaml_fail(
				y, at, p,
				"%s would mount over %s: delivery %s mounts the wrapper's "
				"directory read-only, hiding the image's own files there; "
				"use a directory of its own",
				q, system_dirs[i], delivery_names[d]);
	return 0;
}

static int read_entrypoint(pyaml *y, yaml_node_t *n, const char *path, policy_entrypoint *ep)
{
	static const char *const keys[] = {"image", "command", "args", NULL};
	yaml_node_t *v[3];
	char p[160], q[80];
	if (pyaml_fields(y, n, path, keys, v) < 0 ||
	    pyaml_required(y, n, path, "image", v[0]) < 0 ||
	    pyaml_required(y, n, path, "command", v[1]) < 0)
		return -1;
	pyaml_path(p, sizeof(p), path, "image");
	if (pyaml_line(y, v[0], p, MAX_IMAGE, &ep->image) < 0)
		return -1;
	if (!policy_yaml_is_image_glob(ep->image, strlen(ep->image)))
		return pyaml_fail(y, v[0], p, "%s %s", pyaml_quote(v[0], q, sizeof(q)),
				  "is not an image glob (it must be non-empty, without spaces)");
	pyaml_path(p, sizeof(p), path, "command");
	if (policy_yaml_argv(y, v[1], p, &ep->command) < 0)
		return -1;
	/* The wrapper execs command[0]: without it there is nothing to run. */
	if (ep->command.n == 0)
		return pyaml_fail(y, v[1], p, "the command must not be empty");
	if (ep->command.v[0][0] == '\0')
		return pyaml_fail(y, pyaml_list_at(y, v[1], 0), p,
				  "the program to run must not be empty");
	ep->has_args = v[2] != NULL;
	return v[2] == NULL ? 0
			    : policy_yaml_argv(y, v[2], pyaml_path(p, sizeof(p), path, "args"),
					       &ep->args);
}

static int read_ambient(pyaml *y, yaml_node_t *n, const char *path, policy_nonroot *nr)
{
	static const char *const keys[] = {"delivery", "wrapperPath", "image", "entrypoints", NULL};
	enum { A_DELIVERY, A_WRAPPER, A_IMAGE, A_ENTRYPOINTS };
	yaml_node_t *v[4];
	char p[160], q[80];
	int d = (int)nr->delivery;
	if (pyaml_fields(y, n, path, keys, v) < 0 ||
	    read_enum(y, v[A_DELIVERY], path, "delivery", delivery_names, &d) < 0)
		return -1;
	nr->delivery = (enum policy_delivery)d;
	if (v[A_WRAPPER] != NULL) {
		pyaml_path(p, sizeof(p), path, "wrapperPath");
		if (pyaml_line(y, v[A_WRAPPER], p, MAX_PATH, &nr->wrapper_path) < 0 ||
		    check_wrapper_path(y, v[A_WRAPPER], p, nr->wrapper_path, nr->delivery) < 0)
			return -1;
	}
	if (v[A_IMAGE] != NULL) {
		pyaml_path(p, sizeof(p), path, "image");
		if (pyaml_line(y, v[A_IMAGE], p, MAX_IMAGE, &nr->image) < 0)
			return -1;
		if (nr->image[0] == '\0' && nr->delivery != POLICY_DELIVERY_IMAGE)
			return pyaml_fail(y, v[A_IMAGE], p,
					  "must not be empty: delivery %s copies the wrapper from "
					  "this image",
					  delivery_names[nr->delivery]);
		if (strchr(nr->image, ' ') != NULL)
			return pyaml_fail(y, v[A_IMAGE], p, "%s is not an image reference",
					  pyaml_quote(v[A_IMAGE], q, sizeof(q)));
	}
	if (v[A_ENTRYPOINTS] == NULL)
		return 0;
	pyaml_path(p, sizeof(p), path, "entrypoints");
	if (pyaml_list(y, v[A_ENTRYPOINTS], p, "{image, command} entries") < 0)
		return -1;
	size_t count = pyaml_list_len(v[A_ENTRYPOINTS]);
	if (count == 0)
		return 0;
	nr->entrypoints = calloc(count, sizeof(*nr->entrypoints));
	if (nr->entrypoints == NULL)
		return cg_error_set(y->err, ENOMEM, "%s: out of memory", y->name);
	for (size_t i = 0; i < count; i++) {
		char ip[200];
		snprintf(ip, sizeof(ip), "%s[%zu]", p, i);
		nr->n_entrypoints++;
		if (read_entrypoint(y, pyaml_list_at(y, v[A_ENTRYPOINTS], i), ip,
				    &nr->entrypoints[i]) < 0)
			return -1;
	}
	return 0;
}

int policy_nonroot_read(pyaml *y, yaml_node_t *n, const char *path, policy_spec *spec,
			policy_nonroot *nr, const policy_nonroot *policy_nr)
{
	static const char *const keys[] = {
		"strategy", "unprivilegedPortStart", "netRaw", "runtimeDefaults", "ambient", NULL};
	static const char *const rule_keys_nr[] = {"strategy", NULL};
	enum { N_STRATEGY, N_PORT, N_NET_RAW, N_RUNTIME, N_AMBIENT };
	yaml_node_t *v[5];
	char p[160];
	int strategy = (int)spec->nonroot_strategy;
	if (pyaml_fields(y, n, path, nr != NULL ? keys : rule_keys_nr, v) < 0 ||
	    read_enum(y, v[N_STRATEGY], path, "strategy", strategy_names, &strategy) < 0)
		return -1;
	spec->nonroot_strategy = (enum policy_nonroot_strategy)strategy;
	if (nr != NULL) {
		int net_raw = (int)nr->net_raw_use, runtime = (int)nr->runtime;
		/* Ports below 1024 only: at 1024 and above no capability is needed. */
		if ((v[N_PORT] != NULL &&
		     pyaml_int(y, v[N_PORT],
			       pyaml_path(p, sizeof(p), path, "unprivilegedPortStart"), 0, 1023,
			       &nr->unprivileged_port_start) < 0) ||
		    read_enum(y, v[N_NET_RAW], path, "netRaw", net_raw_names, &net_raw) < 0 ||
		    read_enum(y, v[N_RUNTIME], path, "runtimeDefaults", runtime_names, &runtime) <
			    0 ||
		    (v[N_AMBIENT] != NULL &&
		     read_ambient(y, v[N_AMBIENT], pyaml_path(p, sizeof(p), path, "ambient"), nr) <
			     0))
			return -1;
		nr->net_raw_use = (enum policy_net_raw_use)net_raw;
		nr->runtime = (enum policy_runtime_defaults)runtime;
		policy_nr = nr;
	}
	/* capgate ships no image that every cluster can pull: a wrapper that
	 * needs one is only ever injected with the image the admin named. */
	if (spec->nonroot_strategy == POLICY_NONROOT_AMBIENT &&
	    policy_nr->delivery != POLICY_DELIVERY_IMAGE && policy_nr->image == NULL)
		return pyaml_fail(
			y, v[N_STRATEGY] ? v[N_STRATEGY] : n,
			v[N_STRATEGY] ? pyaml_path(p, sizeof(p), path, "strategy") : path,
			"strategy ambient with delivery %s needs spec.nonRoot.ambient.image "
			"(the capgate image the wrapper is copied from)",
			delivery_names[policy_nr->delivery]);
	return 0;
}
