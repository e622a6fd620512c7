/* The policy's value types read from YAML; see policy_yaml.h. */
#include "policy/policy_yaml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/k8sname.h"

bool policy_yaml_is_image_glob(const char *s, size_t len)
{
	return len > 0 && memchr(s, ' ', len) == NULL;
}

/* How the entries of a list of names are checked. */
static const struct name_kind {
	const char *list; /* "expected a list of ..." */
	const char *item; /* "expected ..., not a list" */
	size_t max;	  /* longest string read at all */
	bool (*valid)(const char *s, size_t len);
	const char *rule; /* why an entry is refused */
} name_kinds[] = {
	[POLICY_YAML_NAMESPACES] =
		{"namespace names", "a namespace name", 253, k8sname_is_dns_label,
		 "is not a namespace name (a DNS-1123 label: at most 63 lower-case "
		 "letters, digits or '-', starting and ending with a letter or "
		 "digit)"},
	[POLICY_YAML_CONTAINER_NAMES] =
		{"container names", "a container name", 253, k8sname_is_dns_label,
		 "is not a container name (a DNS-1123 label: at most 63 "
		 "lower-case letters, digits or '-', starting and ending with a "
		 "letter or digit)"},
	[POLICY_YAML_IMAGE_GLOBS] = {"image globs", "an image glob", 1024,
				     policy_yaml_is_image_glob,
				     "is not an image glob (it must be non-empty, without spaces)"},
};

static int alloc_items(pyaml *y, size_t count, size_t size, void *out)
{
	void *v = count == 0 ? NULL : calloc(count, size);
	if (count != 0 && v == NULL)
		return cg_error_set(y->err, ENOMEM, "%s: out of memory", y->name);
	*(void **)out = v;
	return 0;
}

int policy_yaml_names(pyaml *y, yaml_node_t *n, const char *path, enum policy_yaml_names kind,
		      policy_strlist *out)
{
	const struct name_kind *k = &name_kinds[kind];
	char q[80];
	if (pyaml_list(y, n, path, k->list) < 0 ||
	    alloc_items(y, pyaml_list_len(n), sizeof(char *), &out->v) < 0)
		return -1;
	for (size_t i = 0; i < pyaml_list_len(n); i++) {
		yaml_node_t *item = pyaml_list_at(y, n, i);
		const char *s;
		size_t len;
		if (pyaml_string(y, item, path, k->item, PYAML_TEXT_LINE, k->max, &s, &len) < 0)
			return -1;
		if (!k->valid(s, len))
			return pyaml_fail(y, item, path, "%s %s", pyaml_quote(item, q, sizeof(q)),
					  k->rule);
		if (pyaml_dup(y, s, len, &out->v[out->n++]) < 0)
			return -1;
	}
	return 0;
}

int policy_yaml_labels(pyaml *y, yaml_node_t *n, const char *path, policy_labels *out)
{
	char q[80];
	if (pyaml_mapping(y, n, path, "label names to values") < 0 ||
	    alloc_items(y, pyaml_map_len(n), sizeof(*out->v), &out->v) < 0)
		return -1;
	for (size_t i = 0; i < pyaml_map_len(n); i++) {
		yaml_node_t *k, *v;
		const char *ks, *vs;
		size_t klen, vlen;
		pyaml_pair_at(y, n, i, &k, &v);
		/* 253 for the prefix, '/', 63 for the name. */
		if (pyaml_unique_key(y, n, i, path) < 0 ||
		    pyaml_string(y, k, path, "a label name", PYAML_TEXT_LINE, 317, &ks, &klen) < 0)
			return -1;
		if (!k8sname_is_qualified_name(ks, klen))
			return pyaml_fail(
				y, k, path,
				"%s is not a label name ([prefix/]name: a name of at most "
				"63 letters, digits, '-', '_' or '.', starting and ending "
				"with a letter or digit)",
				pyaml_quote(k, q, sizeof(q)));
		if (pyaml_string(y, v, path, "a label value", PYAML_TEXT_LINE, 63, &vs, &vlen) < 0)
			return -1;
		if (!k8sname_is_label_value(vs, vlen))
			return pyaml_fail(
				y, v, path,
				"%s is not a label value (at most 63 letters, digits, '-', "
				"'_' or '.', starting and ending with a letter or digit)",
				pyaml_quote(v, q, sizeof(q)));
		policy_label *lab = &out->v[out->n++];
		if (pyaml_dup(y, ks, klen, &lab->key) < 0 ||
		    pyaml_dup(y, vs, vlen, &lab->value) < 0)
			return -1;
	}
	return 0;
}

int policy_yaml_argv(pyaml *y, yaml_node_t *n, const char *path, policy_strlist *out)
{
	if (pyaml_list(y, n, path, "command arguments") < 0 ||
	    alloc_items(y, pyaml_list_len(n), sizeof(char *), &out->v) < 0)
		return -1;
	for (size_t i = 0; i < pyaml_list_len(n); i++) {
		const char *s;
		size_t len;
		/* Anything but NUL: `sh -c` scripts hold newlines. */
		if (pyaml_string(y, pyaml_list_at(y, n, i), path, "a command argument",
				 PYAML_TEXT_ARG, 4096, &s, &len) < 0 ||
		    pyaml_dup(y, s, len, &out->v[out->n++]) < 0)
			return -1;
	}
	return 0;
}

int policy_yaml_caps(pyaml *y, yaml_node_t *n, const char *path, bool may_all, caps_set *out,
		     yaml_node_t *where[64])
{
	char q[80];
	if (pyaml_list(y, n, path, "capability names") < 0)
		return -1;
	caps_set set = 0;
	memset(where, 0, 64 * sizeof(*where));
	for (size_t i = 0; i < pyaml_list_len(n); i++) {
		yaml_node_t *item = pyaml_list_at(y, n, i);
		const char *s;
		size_t len;
		if (pyaml_string(y, item, path, "a capability name", PYAML_TEXT_LINE, 64, &s,
				 &len) < 0)
			return -1;
		int c = caps_lookup(s, len);
		if (c < 0)
			return pyaml_fail(y, item, path, "unknown capability %s",
					  pyaml_quote(item, q, sizeof(q)));
		if (c == CAPS_ALL && !may_all)
			return pyaml_fail(y, item, path,
					  "%s cannot be allowed or added as a whole; list the "
					  "capabilities one by one",
					  pyaml_quote(item, q, sizeof(q)));
		set |= CAPS_BIT(c);
		if (where[c] == NULL)
			where[c] = item;
	}
	*out = set;
	return 0;
}
