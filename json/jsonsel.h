/* A selective JSON parser that builds jansson values.
 *
 * It validates every byte of the input as strict RFC 8259 JSON (UTF-8,
 * escapes, number grammar, nesting depth) but builds json_t values only for
 * the members a schema names; everything else is checked and skipped. A
 * 6 KB Pod review spends most of its bytes on managedFields, status, env and
 * volumes, which the engine never reads: building them is most of the cost
 * of json_loadb.
 *
 * Where a value does not have the type the schema expects (an array where
 * an object was expected), it is built whole, so the engine sees the wrong
 * type and says so instead of silently seeing nothing. Object keys are
 * compared after unescaping, so "con\u0074ainers" is "containers". A
 * member repeated in an object: the last one wins, as in Go's decoder.
 */
#ifndef CG_JSONSEL_H
#define CG_JSONSEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

enum jsonsel_kind {
	JSONSEL_ALL,	/* build the whole value */
	JSONSEL_OBJECT, /* build the listed members only */
	JSONSEL_ARRAY,	/* build every item with `items` */
};

struct jsonsel_field;

typedef struct jsonsel {
	enum jsonsel_kind kind;
	const struct jsonsel_field *fields; /* JSONSEL_OBJECT */
	size_t n_fields;
	const struct jsonsel *items; /* JSONSEL_ARRAY */
	/* JSONSEL_OBJECT: when set, the built object also gets this member,
	 * the SHA-256 (hex) of the object's raw bytes in the input. Pruning
	 * hides what was skipped; the digest lets two pruned objects be
	 * compared for what they really were (json_equal compares it too).
	 * Being built by the parser, it cannot collide with an input member:
	 * members outside the schema are never built. */
	const char *digest_key;
} jsonsel;

typedef struct jsonsel_field {
	const char *key;
	const jsonsel *sel;
} jsonsel_field;

extern const jsonsel jsonsel_all;

#define JSONSEL_MAX_DEPTH 256 /* max_depth is capped at this */

typedef struct jsonsel_info {
	bool nul_in_string; /* a built string holds U+0000 */
} jsonsel_info;

/* Parses buf (at most min(max_depth, JSONSEL_MAX_DEPTH) levels deep). On success *out is a new
 * value built per schema (root may be &jsonsel_all for a full parse). On failure err says where:
 * "line 3 column 14: invalid escape". */
int jsonsel_parse(const char *buf, size_t len, const jsonsel *root, unsigned max_depth,
		  json_t **out, jsonsel_info *info, cg_error *err) CG_MUST_CHECK;

#endif
