#include "policy/patch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Every failure says what it was: the engine's caller turns it into the
 * policy's onError answer with this text. */
static int too_long(cg_error *err, const patch_path *base)
{
	cg_error_set(err, ENAMETOOLONG, "a JSON pointer under %.60s is longer than %d bytes",
		     base->len ? base->s : "/", PATCH_PATH_MAX);
	return -ENAMETOOLONG;
}

static int oom(cg_error *err)
{
	cg_error_set(err, ENOMEM, "out of memory while building the patch");
	return -ENOMEM;
}

int patch_path_join(patch_path *out, const patch_path *base, const char *token, cg_error *err)
{
	char buf[PATCH_PATH_MAX];
	size_t k = 0;
	for (const char *p = token; *p; p++) {
		if (k + 3 >= sizeof(buf))
			return too_long(err, base);
		if (*p == '~') {
			buf[k++] = '~';
			buf[k++] = '0';
		} else if (*p == '/') {
			buf[k++] = '~';
			buf[k++] = '1';
		} else {
			buf[k++] = *p;
		}
	}
	if (base->len + 1 + k + 1 > sizeof(out->s))
		return too_long(err, base);
	if (out != base)
		memcpy(out->s, base->s, base->len);
	out->s[base->len] = '/';
	memcpy(out->s + base->len + 1, buf, k);
	out->len = base->len + 1 + k;
	out->s[out->len] = '\0';
	return 0;
}

int patch_path_index(patch_path *out, const patch_path *base, size_t index, cg_error *err)
{
	char tok[24];
	snprintf(tok, sizeof(tok), "%zu", index);
	return patch_path_join(out, base, tok, err);
}

int patch_add(json_t *ops, const patch_path *path, json_t *value, cg_error *err)
{
	json_t *op = json_object();
	if (op == NULL || value == NULL) {
		json_decref(op);
		json_decref(value);
		return oom(err);
	}
	if (json_object_set_new_nocheck(op, "op", json_string_nocheck("add")) < 0 ||
	    json_object_set_new_nocheck(op, "path", json_stringn_nocheck(path->s, path->len)) < 0 ||
	    json_object_set_new_nocheck(op, "value", value) < 0 ||
	    json_array_append_new(ops, op) < 0)
		return oom(err);
	return 0;
}

/* Walks keys[] from obj; returns how many of them exist as objects and the
 * deepest existing one's path. A member that exists but is null counts as
 * missing: `add` on it replaces the null with the subtree. */
static size_t existing_depth(json_t **obj, patch_path *path, const char *const *keys, size_t n,
			     int *rc, cg_error *err)
{
	size_t i = 0;
	*rc = 0;
	for (; i < n; i++) {
		json_t *next = json_object_get(*obj, keys[i]);
		if (!json_is_object(next))
			break;
		if ((*rc = patch_path_join(path, path, keys[i], err)) < 0)
			return i;
		*obj = next;
	}
	return i;
}

/* Wraps value in objects for keys[from..n) and then `key`, innermost first. */
static json_t *wrap(const char *const *keys, size_t from, size_t n, const char *key, json_t *value)
{
	json_t *v = json_object();
	if (v == NULL || json_object_set_new(v, key, value) < 0) {
		json_decref(v);
		return NULL;
	}
	for (size_t i = n; i > from; i--) {
		json_t *outer = json_object();
		if (outer == NULL || json_object_set_new(outer, keys[i - 1], v) < 0) {
			json_decref(outer);
			return NULL;
		}
		v = outer;
	}
	return v;
}

/* Adds value at path + tokens (one or two); steals value. */
static int add_at(json_t *ops, patch_path *path, const char *t1, const char *t2, json_t *value,
		  cg_error *err)
{
	int rc;
	if ((rc = patch_path_join(path, path, t1, err)) < 0 ||
	    (t2 != NULL && (rc = patch_path_join(path, path, t2, err)) < 0)) {
		json_decref(value);
		return rc;
	}
	return patch_add(ops, path, value, err);
}

/* Sets member key once the walk has found `have` of keys[] existing (path
 * points at the deepest): adds it there, or the highest missing parent with
 * the rest of the chain wrapped around value. Steals value. */
static int set_from(json_t *ops, patch_path *path, size_t have, const char *const *keys, size_t n,
		    const char *key, json_t *value, cg_error *err)
{
	if (have == n)
		return add_at(ops, path, key, NULL, value, err);
	json_t *sub = wrap(keys, have + 1, n, key, value);
	if (sub == NULL)
		return oom(err);
	return add_at(ops, path, keys[have], NULL, sub, err);
}

int patch_set_nested(json_t *ops, json_t *obj, const patch_path *obj_path, const char *const *keys,
		     size_t n, const char *key, json_t *value, cg_error *err)
{
	patch_path path = *obj_path;
	int rc;
	size_t have = existing_depth(&obj, &path, keys, n, &rc, err);
	if (rc < 0) {
		json_decref(value);
		return rc;
	}
	return set_from(ops, &path, have, keys, n, key, value, err);
}

int patch_append(json_t *ops, json_t *obj, const patch_path *obj_path, const char *const *keys,
		 size_t n, const char *key, json_t *value, cg_error *err)
{
	patch_path path = *obj_path;
	int rc;
	size_t have = existing_depth(&obj, &path, keys, n, &rc, err);
	if (rc < 0) {
		json_decref(value);
		return rc;
	}
	if (have == n && json_is_array(json_object_get(obj, key)))
		return add_at(ops, &path, key, "-", value, err);
	/* No array yet: create it holding value, from the same walk. */
	json_t *arr = json_array();
	if (arr == NULL || json_array_append_new(arr, value) < 0) {
		json_decref(arr);
		return oom(err);
	}
	return set_from(ops, &path, have, keys, n, key, arr, err);
}
