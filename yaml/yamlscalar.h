/* What a plain YAML scalar means to sigs.k8s.io/yaml (go-yaml v2, YAML 1.1),
 * shared by the loader (yamlload.h), which must read manifests as the
 * apiserver will, and the dumper (yamldump.h), which must quote every
 * string that would read back as another type:
 *   - plain "", "~", "null", "Null", "NULL"                      -> null
 *   - plain y Y yes Yes YES true True TRUE on On ON               -> true
 *     plain n N no No NO false False FALSE off Off OFF            -> false
 *   - plain integers after removing '_': decimal, 0x hex, 0o or
 *     leading-0 octal, 0b binary, with an optional sign           -> integer
 *   - plain [-+]?(.digits|digits[.digits])([eE][-+]?digits)?, and
 *     integers below -2^63 or above 2^64-1                        -> real
 *   - everything else                                             -> string
 * Values JSON cannot hold are marked: .inf and .nan (YAMLSCALAR_NONJSON),
 * and integers from 2^63 to 2^64-1 (YAMLSCALAR_UINT64: go-yaml keeps them
 * as uint64; jansson cannot).
 */
#ifndef CG_YAMLSCALAR_H
#define CG_YAMLSCALAR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

enum yamlscalar_type {
	YAMLSCALAR_STR,
	YAMLSCALAR_NULL,
	YAMLSCALAR_BOOL,
	YAMLSCALAR_INT,
	YAMLSCALAR_FLOAT,
	YAMLSCALAR_NONJSON,
	YAMLSCALAR_UINT64
};

typedef struct yamlscalar {
	enum yamlscalar_type t;
	bool b;	      /* YAMLSCALAR_BOOL */
	bool numeric; /* a string only because the number overflows */
	json_int_t i; /* YAMLSCALAR_INT */
	double d;     /* YAMLSCALAR_FLOAT */
} yamlscalar;

/* Resolves the plain scalar s[0..len) (which may hold NUL bytes: then it is
 * a string) into *r. Fails only when out of memory (-1, err filled). */
int yamlscalar_resolve(const char *s, size_t len, yamlscalar *r, cg_error *err) CG_MUST_CHECK;

#endif
