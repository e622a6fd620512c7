/* YAML <-> JSON for `capgate check`: reads what kubectl, `helm template` and
 * `kustomize build` print (multi-document YAML, or JSON, which is YAML) and
 * prints objects back as YAML.
 *
 * Scalars resolve as sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) resolves them
 * for Kubernetes manifests, so `capgate check` sees what the apiserver will:
 *   - plain "", "~", "null", "Null", "NULL"                      -> null
 *   - plain y Y yes Yes YES true True TRUE on On ON               -> true
 *     plain n N no No NO false False FALSE off Off OFF            -> false
 *   - plain integers after removing '_': decimal, 0x hex, 0o or
 *     leading-0 octal, 0b binary, with an optional sign           -> integer
 *   - plain [-+]?(.digits|digits[.digits])([eE][-+]?digits)?, and
 *     integers below -2^63 or above 2^64-1                        -> real
 *   - everything else, and every quoted or block scalar           -> string
 * Values JSON cannot hold are errors: .inf and .nan, and integers from
 * 2^63 to 2^64-1 (go-yaml keeps them as uint64; jansson cannot). Tags
 * !!str, !!int, !!float, !!bool and !!null are honoured, !!binary is
 * refused, and any other tag makes a scalar a string, as in go-yaml v2.
 * Merge keys (<<) are supported; keys set in the mapping itself win over
 * merged ones, and earlier merged maps win over later ones.
 * Scalar mapping keys become strings as sigs.k8s.io/yaml writes them
 * (`yes: 1` has the key "true"); null and collection keys are errors.
 * JSON input that escapes characters outside the BMP as surrogate pairs,
 * which libyaml (YAML 1.1) refuses, is read by jansson with the same rules.
 */
#ifndef CG_YAMLJSON_H
#define CG_YAMLJSON_H

#include <jansson.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"

/* Nesting depth (mappings and sequences) beyond which a document is refused. */
#define YAMLJSON_MAX_DEPTH 64
/* Nodes that alias expansion may create in one stream: enough for manifests
 * that share a block of env vars, far below a "billion laughs" blow-up. */
#define YAMLJSON_MAX_ALIAS_NODES 100000

/* Parses every document in buf[0..len) (name labels errors). On success
 * returns 0 and *docs is a new array with one element per document that is
 * not null: documents that are empty, only comments (as helm emits them) or
 * an explicit null are skipped, as kubectl skips them. If lines is not
 * NULL, *lines is a malloc'ed array (free() it; NULL when there are no
 * documents) of json_array_size(*docs) 1-based line numbers, each the line
 * where that document's top node starts.
 * On failure returns -1, *docs (and *lines) are NULL and err reads
 *     name:line:column: sentence (document N)
 * where N counts every document in the stream from 1, empty ones too. */
int yamljson_load_all_lines(const char *buf, size_t len, const char *name, json_t **docs,
			    size_t **lines, cg_error *err) CG_MUST_CHECK;

/* yamljson_load_all_lines without the line numbers. */
int yamljson_load_all(const char *buf, size_t len, const char *name, json_t **docs,
		      cg_error *err) CG_MUST_CHECK;

/* Appends v to out as one block-style YAML document (no "---" before it,
 * newline at the end: the caller writes "---\n" between documents). Strings that would read back as
 * another type
 * ("true", "80", "null", "1.0", "") are quoted and object keys keep their
 * order, so loading the output gives back a value json_equal to v. */
int yamljson_dump(const json_t *v, cg_buf *out, cg_error *err) CG_MUST_CHECK;

#endif
