/* RFC 6902 JSON Patch and RFC 6901 JSON Pointer over jansson trees.
 *
 * The engine builds patches that the kube-apiserver applies with
 * evanphx/json-patch v4; tests and `capgate check` apply the same patches
 * here to show the result and to prove the engine idempotent. This applier
 * follows the RFCs strictly; where v4 differs, jsonpatch_apply.c says so next to
 * the rule, and the stricter of the two wins so a patch that passes here
 * also applies on the apiserver.
 */
#ifndef CG_JSONPATCH_APPLY_H
#define CG_JSONPATCH_APPLY_H

#include <jansson.h>
#include <stddef.h>

#include "common/error.h"

/* Applies patch (an array of operation objects) to a deep copy of doc.
 * On success returns 0 and *out holds a new reference to the patched
 * document; doc is never modified. On failure returns -1, *out is NULL and
 * err names the 0-based operation index, its op and path, e.g.
 *     patch op 3 (add /spec/containers/0/x): parent does not exist
 * A malformed operation (not an object, unknown op, missing member) fails
 * the same way. Parse patch text with JSON_REJECT_DUPLICATES: RFC 6902
 * A.13 makes an operation with a member given twice invalid, and only the
 * parser can still see that. */
int jsonpatch_apply(json_t *doc, const json_t *patch, json_t **out, cg_error *err) CG_MUST_CHECK;

/* The value at pointer inside doc: a borrowed reference, or NULL when the
 * pointer is malformed or names nothing. "" is doc itself. */
json_t *jsonpatch_apply_get(json_t *doc, const char *pointer);

/* Writes key escaped as one RFC 6901 reference token ('~' -> "~0",
 * '/' -> "~1") into out, NUL-terminated. Returns the escaped length, or a
 * negative value (out then holds "" if outsz > 0) when it does not fit. */
int jsonpatch_apply_escape(const char *key, char *out, size_t outsz) CG_MUST_CHECK;

#endif
