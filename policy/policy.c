#include "policy/policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "policy/k8sname.h"
#include "policy/policy_nonroot.h"
#include "policy/policy_openshift.h"
#include "policy/policy_yaml.h"

extern const char policy_default_yaml_start[];
extern const char policy_default_yaml_end[];

#define API_VERSION	     "capgate.dev/v1"
#define KIND		     "CapabilityPolicy"
#define DEFAULT_WRAPPER_PATH "/capgate/capgate-ambient"

/* Where each capability of a list was written, so that a contradiction found
 * after the whole list (or a rule) is read still points at the entry. */
typedef struct caps_src {
	yaml_node_t *list; /* NULL: not written here (default or inherited) */
	yaml_node_t *item[64];
} caps_src;

typedef struct spec_src {
	caps_src drop, allowed, default_add;
} spec_src;

typedef struct loader {
	pyaml y;
	cg_policy *p;
} loader;

/* The keys a rule may override come first in the spec's table and right
 * after name and match in a rule's, so one function reads both. */
#define OVERRIDE_KEYS                                                                              \
	"mode", "requiredDropCapabilities", "allowedCapabilities", "defaultAddCapabilities",       \
		"onDisallowed", "allowPrivileged", "nonRoot"
enum { K_MODE, K_DROP, K_ALLOWED, K_DEFAULT_ADD, K_ON_DISALLOWED, K_PRIVILEGED, K_NONROOT, K_N };
static const char *const spec_keys[] = {OVERRIDE_KEYS, "onError",   "exemptions",
					"rules",       "openshift", NULL};
enum { K_ON_ERROR = K_N, K_EXEMPTIONS, K_RULES, K_OPENSHIFT, K_SPEC_N };
static const char *const rule_keys[] = {"name", "match", OVERRIDE_KEYS, NULL};
enum { R_NAME, R_MATCH, R_OVERRIDES, R_N = R_OVERRIDES + K_N };

static const char *const mode_names[] = {"enforce", "warn", "audit", NULL};
static const char *const on_disallowed_names[] = {"strip", "deny", NULL};
static const char *const on_error_names[] = {"deny", "allow", NULL};

static int oom(loader *l)
{
	return cg_error_set(l->y.err, ENOMEM, "%s: out of memory", l->y.name);
}

static void strlist_free(policy_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static void labels_free(policy_labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
}

static int read_enum(loader *l, yaml_node_t *n, const char *path, const char *key,
		     const char *const *names, int *out)
{
	char p[160];
	return n == NULL ? 0
			 : pyaml_enum(&l->y, n, pyaml_path(p, sizeof(p), path, key), names, out);
}

static int read_caps(loader *l, yaml_node_t *n, const char *path, const char *key, bool may_all,
		     caps_set *out, caps_src *src)
{
	char p[160];
	if (n == NULL)
		return 0;
	src->list = n;
	return policy_yaml_caps(&l->y, n, pyaml_path(p, sizeof(p), path, key), may_all, out,
				src->item);
}

static int lowest(caps_set s)
{
	return __builtin_ctzll(s);
}

/* The contradictions a spec (the policy's, or a rule's resolved one) must
 * not hold, reported at the entry that introduced them. */
static int check_spec(loader *l, const policy_spec *s, const spec_src *own, const char *path,
		      bool is_rule)
{
	char p[160], q[80];
	const char *inherited = is_rule ? " (inherited from spec)" : "";
	caps_set both = s->allowed & s->required_drop & CAPS_KNOWN_MASK;
	if (both != 0) {
		int c = lowest(both);
		/* A capability added and dropped by name is dropped by the
		 * runtime: allowing it would be a promise the pod cannot keep. */
		if (own->allowed.list != NULL)
			return pyaml_fail(&l->y, own->allowed.item[c],
					  pyaml_path(p, sizeof(p), path, "allowedCapabilities"),
					  "%s is also in requiredDropCapabilities%s; only ALL may "
					  "drop an allowed capability",
					  pyaml_quote(own->allowed.item[c], q, sizeof(q)),
					  own->drop.list != NULL ? "" : inherited);
		return pyaml_fail(
			&l->y, own->drop.item[c],
			pyaml_path(p, sizeof(p), path, "requiredDropCapabilities"),
			"%s is also in allowedCapabilities%s; only ALL may drop an allowed "
			"capability",
			pyaml_quote(own->drop.item[c], q, sizeof(q)), inherited);
	}
	caps_set extra = s->default_add & ~s->allowed;
	if (extra != 0) {
		int c = lowest(extra);
		if (own->default_add.list != NULL)
			return pyaml_fail(&l->y, own->default_add.item[c],
					  pyaml_path(p, sizeof(p), path, "defaultAddCapabilities"),
					  "%s is not in allowedCapabilities%s",
					  pyaml_quote(own->default_add.item[c], q, sizeof(q)),
					  own->allowed.list != NULL ? "" : inherited);
		return pyaml_fail(&l->y, own->allowed.list,
				  pyaml_path(p, sizeof(p), path, "allowedCapabilities"),
				  "leaves out %s, which defaultAddCapabilities%s adds; override "
				  "defaultAddCapabilities too",
				  caps_name(c), inherited);
	}
	return 0;
}

/* v holds the override keys' values (K_MODE..K_NONROOT). */
static int read_overrides(loader *l, yaml_node_t **v, const char *path, policy_spec *s,
			  spec_src *src, policy_nonroot *nr)
{
	char p[160];
	int mode = (int)s->mode, od = (int)s->on_disallowed;
	if (read_enum(l, v[K_MODE], path, "mode", mode_names, &mode) < 0 ||
	    read_caps(l, v[K_DROP], path, "requiredDropCapabilities", true, &s->required_drop,
		      &src->drop) < 0 ||
	    read_caps(l, v[K_ALLOWED], path, "allowedCapabilities", false, &s->allowed,
		      &src->allowed) < 0 ||
	    read_caps(l, v[K_DEFAULT_ADD], path, "defaultAddCapabilities", false, &s->default_add,
		      &src->default_add) < 0 ||
	    read_enum(l, v[K_ON_DISALLOWED], path, "onDisallowed", on_disallowed_names, &od) < 0)
		return -1;
	s->mode = (enum policy_mode)mode;
	s->on_disallowed = (enum policy_on_disallowed)od;
	if (v[K_PRIVILEGED] != NULL &&
	    pyaml_bool(&l->y, v[K_PRIVILEGED], pyaml_path(p, sizeof(p), path, "allowPrivileged"),
		       &s->allow_privileged) < 0)
		return -1;
	if (v[K_NONROOT] != NULL &&
	    policy_nonroot_read(&l->y, v[K_NONROOT], pyaml_path(p, sizeof(p), path, "nonRoot"), s,
				nr, &l->p->nonroot) < 0)
		return -1;
	return 0;
}

static int read_exemptions(loader *l, yaml_node_t *n, const char *path)
{
	static const char *const keys[] = {"namespaces", "images", "containerNames", "labels",
					   NULL};
	policy_exemptions *ex = &l->p->exemptions;
	yaml_node_t *v[4];
	char p[4][160];
	if (pyaml_fields(&l->y, n, path, keys, v) < 0)
		return -1;
	for (int i = 0; i < 4; i++)
		pyaml_path(p[i], sizeof(p[i]), path, keys[i]);
	if ((v[0] &&
	     policy_yaml_names(&l->y, v[0], p[0], POLICY_YAML_NAMESPACES, &ex->namespaces) < 0) ||
	    (v[1] &&
	     policy_yaml_names(&l->y, v[1], p[1], POLICY_YAML_IMAGE_GLOBS, &ex->images) < 0) ||
	    (v[2] && policy_yaml_names(&l->y, v[2], p[2], POLICY_YAML_CONTAINER_NAMES,
				       &ex->container_names) < 0) ||
	    (v[3] && policy_yaml_labels(&l->y, v[3], p[3], &ex->labels) < 0))
		return -1;
	return 0;
}

static int read_match(loader *l, yaml_node_t *n, const char *path, policy_rule *r)
{
	static const char *const keys[] = {"namespaces", "labels", NULL};
	yaml_node_t *v[2];
	char p[2][160];
	if (pyaml_fields(&l->y, n, path, keys, v) < 0)
		return -1;
	pyaml_path(p[0], sizeof(p[0]), path, keys[0]);
	pyaml_path(p[1], sizeof(p[1]), path, keys[1]);
	if ((v[0] &&
	     policy_yaml_names(&l->y, v[0], p[0], POLICY_YAML_NAMESPACES, &r->namespaces) < 0) ||
	    (v[1] && policy_yaml_labels(&l->y, v[1], p[1], &r->labels) < 0))
		return -1;
	/* An empty match would take every pod and shadow the rules below. */
	if (r->namespaces.n == 0 && r->labels.n == 0)
		return pyaml_fail(&l->y, n, path,
				  "needs at least one namespace or label (settings for every pod "
				  "belong in spec)");
	return 0;
}

static int read_rule(loader *l, yaml_node_t *n, const char *path, size_t index)
{
	policy_rule *r = &l->p->rules[index];
	yaml_node_t *v[R_N];
	char p[160], q[80];
	if (pyaml_fields(&l->y, n, path, rule_keys, v) < 0 ||
	    pyaml_required(&l->y, n, path, "name", v[R_NAME]) < 0 ||
	    pyaml_required(&l->y, n, path, "match", v[R_MATCH]) < 0 ||
	    pyaml_line(&l->y, v[R_NAME], pyaml_path(p, sizeof(p), path, "name"), 253, &r->name) < 0)
		return -1;
	/* Rule names end up in warnings and audit annotation values. */
	if (r->name[0] == '\0' || !k8sname_is_label_value(r->name, strlen(r->name)))
		return pyaml_fail(&l->y, v[R_NAME], p,
				  "%s is not a rule name (1 to 63 letters, digits, '-', '_' or "
				  "'.', starting and ending with a letter or digit)",
				  pyaml_quote(v[R_NAME], q, sizeof(q)));
	for (size_t j = 0; j < index; j++)
		if (strcmp(l->p->rules[j].name, r->name) == 0)
			return pyaml_fail(&l->y, v[R_NAME], p,
					  "duplicate rule name %s (spec.rules[%zu] has it too)",
					  pyaml_quote(v[R_NAME], q, sizeof(q)), j);
	if (read_match(l, v[R_MATCH], pyaml_path(p, sizeof(p), path, "match"), r) < 0)
		return -1;
	spec_src own = {0};
	r->spec = l->p->spec;
	if (read_overrides(l, v + R_OVERRIDES, path, &r->spec, &own, NULL) < 0)
		return -1;
	return check_spec(l, &r->spec, &own, path, true);
}

static int read_rules(loader *l, yaml_node_t *n, const char *path)
{
	if (pyaml_list(&l->y, n, path, "rules") < 0)
		return -1;
	size_t count = pyaml_list_len(n);
	if (count == 0)
		return 0;
	l->p->rules = calloc(count, sizeof(*l->p->rules));
	if (l->p->rules == NULL)
		return oom(l);
	for (size_t i = 0; i < count; i++) {
		char p[160];
		if (snprintf(p, sizeof(p), "%s[%zu]", path, i) < 0)
			return oom(l);
		l->p->n_rules++;
		if (read_rule(l, pyaml_list_at(&l->y, n, i), p, i) < 0)
			return -1;
	}
	return 0;
}

static int read_spec(loader *l, yaml_node_t *n)
{
	yaml_node_t *v[K_SPEC_N];
	spec_src own = {0};
	int on_error = (int)l->p->on_error;
	if (pyaml_fields(&l->y, n, "spec", spec_keys, v) < 0 ||
	    read_overrides(l, v, "spec", &l->p->spec, &own, &l->p->nonroot) < 0 ||
	    check_spec(l, &l->p->spec, &own, "spec", false) < 0 ||
	    read_enum(l, v[K_ON_ERROR], "spec", "onError", on_error_names, &on_error) < 0)
		return -1;
	l->p->on_error = (enum policy_on_error)on_error;
	/* Rules copy the spec, so they are read after everything they inherit. */
	yaml_node_t *root_at = NULL;
	if ((v[K_OPENSHIFT] &&
	     policy_openshift_read(&l->y, v[K_OPENSHIFT], "spec.openshift", l->p, &root_at) < 0) ||
	    (v[K_EXEMPTIONS] && read_exemptions(l, v[K_EXEMPTIONS], "spec.exemptions") < 0) ||
	    (v[K_RULES] && read_rules(l, v[K_RULES], "spec.rules") < 0))
		return -1;
	return policy_openshift_finish(&l->y, root_at, l->p);
}

static int read_fixed(loader *l, yaml_node_t *n, const char *path, const char *want)
{
	const char *s;
	char q[80];
	if (pyaml_string(&l->y, n, path, "a string", PYAML_TEXT_LINE, 253, &s, NULL) < 0)
		return -1;
	if (strcmp(s, want) != 0)
		return pyaml_fail(&l->y, n, path, "%s is not supported; expected %s",
				  pyaml_quote(n, q, sizeof(q)), want);
	return 0;
}

static int read_policy(loader *l)
{
	static const char *const keys[] = {"apiVersion", "kind", "metadata", "spec", NULL};
	static const char *const meta_keys[] = {"name", NULL};
	yaml_node_t *root = pyaml_root(&l->y), *v[4], *meta[1];
	char q[80];
	if (pyaml_fields(&l->y, root, "", keys, v) < 0 ||
	    pyaml_required(&l->y, root, "", "apiVersion", v[0]) < 0 ||
	    pyaml_required(&l->y, root, "", "kind", v[1]) < 0 ||
	    pyaml_required(&l->y, root, "", "metadata", v[2]) < 0 ||
	    read_fixed(l, v[0], "apiVersion", API_VERSION) < 0 ||
	    read_fixed(l, v[1], "kind", KIND) < 0 ||
	    pyaml_fields(&l->y, v[2], "metadata", meta_keys, meta) < 0 ||
	    pyaml_required(&l->y, v[2], "metadata", "name", meta[0]) < 0 ||
	    pyaml_line(&l->y, meta[0], "metadata.name", 253, &l->p->name) < 0)
		return -1;
	if (!k8sname_is_dns_subdomain(l->p->name, strlen(l->p->name)))
		return pyaml_fail(&l->y, meta[0], "metadata.name",
				  "%s is not a valid name (a DNS-1123 subdomain: lower-case "
				  "letters, digits, '-' and '.', at most 253 characters)",
				  pyaml_quote(meta[0], q, sizeof(q)));
	return v[3] == NULL ? policy_openshift_finish(&l->y, NULL, l->p) : read_spec(l, v[3]);
}

static cg_policy *policy_new(void)
{
	cg_policy *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->spec = (policy_spec){
		.mode = POLICY_ENFORCE,
		.required_drop = CAPS_BIT(CAPS_ALL),
		.on_disallowed = POLICY_STRIP,
		.nonroot_strategy = POLICY_NONROOT_AUTO,
	};
	p->on_error = POLICY_ERROR_DENY;
	p->nonroot.unprivileged_port_start = -1;
	p->nonroot.net_raw_use = POLICY_NET_RAW_PING;
	p->nonroot.delivery = POLICY_DELIVERY_INIT_CONTAINER;
	p->nonroot.wrapper_path = strdup(DEFAULT_WRAPPER_PATH);
	p->own_scc = strdup("capgate");
	if (p->nonroot.wrapper_path == NULL || p->own_scc == NULL) {
		policy_free(p);
		return NULL;
	}
	return p;
}

int policy_load(const char *buf, size_t len, const char *name, cg_policy **out, cg_error *err)
{
	loader l = {0};
	*out = NULL;
	if (name == NULL)
		name = "<policy>";
	if (pyaml_load(&l.y, buf, len, name, err) < 0)
		return -1;
	cleanup_policy cg_policy *p = policy_new();
	l.p = p;
	int rc = p == NULL ? oom(&l) : read_policy(&l);
	pyaml_free(&l.y);
	if (rc < 0)
		return -1;
	*out = cg_steal(p);
	return 0;
}

const char *policy_default_yaml(size_t *len)
{
	*len = (size_t)(policy_default_yaml_end - policy_default_yaml_start);
	return policy_default_yaml_start;
}

int policy_load_default(cg_policy **out, cg_error *err)
{
	size_t len;
	const char *buf = policy_default_yaml(&len);
	return policy_load(buf, len, "<default>", out, err);
}

void policy_free(cg_policy *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->nonroot.wrapper_path);
	free(p->nonroot.image);
	for (size_t i = 0; i < p->nonroot.n_entrypoints; i++) {
		free(p->nonroot.entrypoints[i].image);
		strlist_free(&p->nonroot.entrypoints[i].command);
		strlist_free(&p->nonroot.entrypoints[i].args);
	}
	free(p->nonroot.entrypoints);
	strlist_free(&p->exemptions.namespaces);
	strlist_free(&p->exemptions.images);
	strlist_free(&p->exemptions.container_names);
	labels_free(&p->exemptions.labels);
	for (size_t i = 0; i < p->n_rules; i++) {
		free(p->rules[i].name);
		strlist_free(&p->rules[i].namespaces);
		labels_free(&p->rules[i].labels);
	}
	free(p->rules);
	policy_openshift_free(p);
	free(p);
}
