/* What a container declares about itself, read with the pod's defaults:
 * who it runs as, its ports. See container.h. */
#include "policy/container.h"

#include <errno.h>

static json_t *pod_sc(decision *c)
{
	return json_object_get(c->pod_spec, "securityContext");
}

int container_sc_int(decision *c, decision_ctr *ct, const char *key, bool pod_only, long long *out)
{
	json_t *scs[2] = {pod_only ? NULL : ct->sc, pod_sc(c)};
	for (int i = 0; i < 2; i++) {
		json_t *v = json_object_get(scs[i], key);
		if (v == NULL || json_is_null(v))
			continue;
		if (!json_is_integer(v))
			return cg_error_set(c->err, EINVAL,
					    "%s: securityContext.%s is not an integer",
					    decision_where(c), key);
		*out = json_integer_value(v);
		return 1;
	}
	return 0;
}

int container_user(decision *c, decision_ctr *ct)
{
	long long uid;
	int r = container_sc_int(c, ct, "runAsUser", false, &uid);
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

int container_low_port(decision *c, decision_ctr *ct, long long *port)
{
	json_t *ports = json_object_get(ct->obj, "ports");
	*port = 0;
	if (ports != NULL && !json_is_null(ports) && !json_is_array(ports))
		return cg_error_set(c->err, EINVAL, "%s: ports is not a list", decision_where(c));
	size_t i;
	json_t *p;
	json_array_foreach(ports, i, p)
	{
		json_t *v = json_object_get(p, "containerPort");
		if (v != NULL && !json_is_integer(v))
			return cg_error_set(c->err, EINVAL,
					    "%s: ports[%zu].containerPort is not an integer",
					    decision_where(c), i);
		long long n = json_integer_value(v);
		if (n > 0 && n < 1024 && (*port == 0 || n < *port))
			*port = n;
	}
	return 0;
}
