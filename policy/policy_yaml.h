/* The policy's value types read from YAML with the strict reader
 * (yaml/pyaml.h): lists of names, label maps, argvs and capability lists,
 * each entry checked so that a typo is refused at load time.
 */
#ifndef CG_POLICY_YAML_H
#define CG_POLICY_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"
#include "yaml/pyaml.h"

/* Each reader allocates what it stores in *out (released by policy_free()),
 * also on failure, so the caller only ever frees the whole policy.
 *
 * Lists of names, each entry checked so that a typo is refused here rather
 * than never matching. */
enum policy_yaml_names {
	POLICY_YAML_NAMESPACES,
	POLICY_YAML_CONTAINER_NAMES,
	POLICY_YAML_IMAGE_GLOBS
};
int policy_yaml_names(pyaml *y, yaml_node_t *n, const char *path, enum policy_yaml_names kind,
		      policy_strlist *out) CG_MUST_CHECK;
bool policy_yaml_is_image_glob(const char *s, size_t len);
/* A mapping of Kubernetes label keys to values. */
int policy_yaml_labels(pyaml *y, yaml_node_t *n, const char *path,
		       policy_labels *out) CG_MUST_CHECK;
/* An argv (ENTRYPOINT or CMD). */
int policy_yaml_argv(pyaml *y, yaml_node_t *n, const char *path, policy_strlist *out) CG_MUST_CHECK;
/* A list of capability names in any spelling caps_lookup() accepts; ALL
 * only when may_all. where[c] is the entry that named capability c (NULL
 * for the others), so later checks can point at it. */
int policy_yaml_caps(pyaml *y, yaml_node_t *n, const char *path, bool may_all, caps_set *out,
		     yaml_node_t *where[64]) CG_MUST_CHECK;

#endif
