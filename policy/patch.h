/* Building RFC 6902 patches that kube-apiserver always applies.
 *
 * evanphx/json-patch v4 (what the apiserver uses) needs every parent of an
 * `add` to exist, and `remove`/`replace` need the path to exist, so the
 * engine only ever emits `add`: on an object member it creates or replaces
 * the member (RFC 6902 4.1), and missing parents are created by adding the
 * highest missing one with the whole subtree as its value. Paths are RFC 6901
 * pointers with `~` and `/` escaped. Operations are kept in the order they
 * are emitted, which the engine makes deterministic (document order).
 */
#ifndef CG_PATCH_H
#define CG_PATCH_H

#include <jansson.h>
#include <stddef.h>

#include "common/error.h"

#define PATCH_PATH_MAX 512

/* A JSON pointer under construction. */
typedef struct patch_path {
	char s[PATCH_PATH_MAX];
	size_t len;
} patch_path;

/* Every function here returns 0, or a negative value with err filled:
 * -ENAMETOOLONG when a pointer would not fit, -ENOMEM (value NULL counts:
 * a caller may pass what a failed allocation returned). */

/* Appends one reference token (escaped) to a copy of base. */
int patch_path_join(patch_path *out, const patch_path *base, const char *token,
		    cg_error *err) CG_MUST_CHECK;
int patch_path_index(patch_path *out, const patch_path *base, size_t index,
		     cg_error *err) CG_MUST_CHECK;

/* Appends {"op":"add","path":path,"value":value} to ops; steals value. */
int patch_add(json_t *ops, const patch_path *path, json_t *value, cg_error *err) CG_MUST_CHECK;

/* Sets member `key` of the object at obj_path (which exists) to value,
 * creating the chain of missing objects `keys[0..n)` under it first: with
 * obj = pod spec and keys = {"securityContext"}, key "sysctls" yields either
 * add .../securityContext/sysctls or add .../securityContext {"sysctls":..}.
 * obj is the live object at obj_path (used to see what exists). Steals value. */
int patch_set_nested(json_t *ops, json_t *obj, const patch_path *obj_path, const char *const *keys,
		     size_t n, const char *key, json_t *value, cg_error *err) CG_MUST_CHECK;

/* Appends value to the array member `key` of the object at obj_path,
 * creating the array (and missing `keys` parents) when absent. Steals value. */
int patch_append(json_t *ops, json_t *obj, const patch_path *obj_path, const char *const *keys,
		 size_t n, const char *key, json_t *value, cg_error *err) CG_MUST_CHECK;

#endif
