/* Writing jansson values as block-style YAML that sigs.k8s.io/yaml reads
 * back as the same values (yamlload.h reads it the same way).
 */
#ifndef CG_YAMLDUMP_H
#define CG_YAMLDUMP_H

#include <jansson.h>

#include "common/buf.h"
#include "common/error.h"

/* Appends v to out as one block-style YAML document (no "---" before it,
 * newline at the end: the caller writes "---\n" between documents). Strings
 * that would read back as another type ("true", "80", "null", "1.0", "")
 * are quoted and object keys keep their order, so loading the output gives
 * back a value json_equal to v. On failure out is unchanged. */
int yamldump(const json_t *v, cg_buf *out, cg_error *err) CG_MUST_CHECK;

#endif
