/* Loading what kubectl, `helm template` and `kustomize build` print
 * (multi-document YAML, or JSON, which is YAML) into jansson values, as
 * sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) loads Kubernetes manifests, so
 * `capgate check` sees what the apiserver will.
 *
 * Plain scalars resolve as yamlscalar.h says; every quoted or block scalar
 * is a string. Values JSON cannot hold are errors: .inf and .nan, and
 * integers from 2^63 to 2^64-1. Tags !!str, !!int, !!float, !!bool and
 * !!null are honoured, !!binary is refused, and any other tag makes a
 * scalar a string, as in go-yaml v2.
 * Merge keys (<<) are supported; keys set in the mapping itself win over
 * merged ones, and earlier merged maps win over later ones.
 * Scalar mapping keys become strings as sigs.k8s.io/yaml writes them
 * (`yes: 1` has the key "true"); null and collection keys are errors.
 * JSON input that escapes characters outside the BMP as surrogate pairs,
 * which libyaml (YAML 1.1) refuses, is read by jansson with the same rules.
 */
#ifndef CG_YAMLLOAD_H
#define CG_YAMLLOAD_H

#include <jansson.h>
#include <stddef.h>

#include "common/error.h"

/* Nesting depth (mappings and sequences) beyond which a document is refused. */
#define YAMLLOAD_MAX_DEPTH 64
/* Nodes that alias expansion may create in one stream: enough for manifests
 * that share a block of env vars, far below a "billion laughs" blow-up. */
#define YAMLLOAD_MAX_ALIAS_NODES 100000

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
int yamlload_all_lines(const char *buf, size_t len, const char *name, json_t **docs, size_t **lines,
		       cg_error *err) CG_MUST_CHECK;

/* yamlload_all_lines without the line numbers. */
int yamlload_all(const char *buf, size_t len, const char *name, json_t **docs,
		 cg_error *err) CG_MUST_CHECK;

#endif
