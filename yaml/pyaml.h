/* pyaml, the plain-YAML reader that policies are read with: one document (libyaml's document API,
 * which keeps every node's mark), typed reads of its nodes, and errors that always say
 * "NAME:line:column: PATH: sentence" for the offending node.
 *
 * Only plain YAML is taken as given: scalars are their text (no YAML 1.1
 * resolution of yes/no/~/0x..), booleans are exactly `true` or `false`,
 * integers are decimal, and explicit tags are refused, so what a reader sees
 * in the file is what capgate reads. Anchors and aliases work (the loader
 * resolves them); merge keys (<<) are not YAML 1.2 and read as unknown keys.
 * Every reader returns 0 or -1 and, on -1, has filled the error passed to
 * pyaml_load().
 *
 * pyaml_string() returns text borrowed from the document (valid until
 * pyaml_free()); the value readers at the end copy what they store.
 */
#ifndef CG_PYAML_H
#define CG_PYAML_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "common/error.h"

/* Upper bounds that keep a policy readable and every loop cheap. */
#define PYAML_MAX_INPUT (1u << 20) /* bytes in a policy file */
#define PYAML_MAX_ITEMS 4096	   /* entries in one list or mapping */

typedef struct pyaml {
	yaml_document_t doc;
	bool loaded;
	const char *name; /* file name for messages */
	cg_error *err;
} pyaml;

/* Parses exactly one YAML document from buf. On failure y needs no free. */
int pyaml_load(pyaml *y, const char *buf, size_t len, const char *name,
	       cg_error *err) CG_MUST_CHECK;
void pyaml_free(pyaml *y);
yaml_node_t *pyaml_root(pyaml *y);

/* Fills the error with "NAME:line:column: PATH: sentence" for node at (no
 * line and column when at is NULL, no "PATH: " when path is ""). Returns -1. */
int pyaml_fail(const pyaml *y, const yaml_node_t *at, const char *path, const char *fmt, ...)
	CG_PRINTF(4, 5);

/* Writes a scalar's text, quoted, for a message: at most ~64 characters,
 * control and non-ASCII bytes shown as '?'. Returns out. */
const char *pyaml_quote(const yaml_node_t *n, char *out, size_t outsz);

/* A mapping whose keys are fixed: on success vals[i] is the value of keys[i]
 * (keys is NULL-terminated) or NULL when absent. Unknown keys (listing the
 * valid ones), duplicate keys and non-scalar keys are errors. */
int pyaml_fields(pyaml *y, yaml_node_t *map, const char *path, const char *const *keys,
		 yaml_node_t **vals) CG_MUST_CHECK;

/* Fails with "missing required key" at map when val is NULL. */
int pyaml_required(pyaml *y, const yaml_node_t *map, const char *path, const char *key,
		   const yaml_node_t *val) CG_MUST_CHECK;

/* Type checks. what completes "expected a list of WHAT" / "a mapping of WHAT". */
int pyaml_mapping(pyaml *y, yaml_node_t *n, const char *path, const char *what) CG_MUST_CHECK;
int pyaml_list(pyaml *y, yaml_node_t *n, const char *path, const char *what) CG_MUST_CHECK;
size_t pyaml_list_len(const yaml_node_t *seq);
size_t pyaml_map_len(const yaml_node_t *map);
yaml_node_t *pyaml_list_at(pyaml *y, const yaml_node_t *seq, size_t i);
/* Pair i of a mapping checked with pyaml_mapping(). */
void pyaml_pair_at(pyaml *y, const yaml_node_t *map, size_t i, yaml_node_t **key,
		   yaml_node_t **val);
/* For mappings with free keys (labels): fails when pair i repeats a key. */
int pyaml_unique_key(pyaml *y, const yaml_node_t *map, size_t i, const char *path) CG_MUST_CHECK;

enum pyaml_text {
	PYAML_TEXT_LINE, /* printable: no control characters at all */
	PYAML_TEXT_ARG	 /* a command argument: anything but NUL */
};

/* A scalar as a string of at most max bytes; *s points into the document
 * and is NUL-terminated. what names the expected value in type errors. */
int pyaml_string(pyaml *y, yaml_node_t *n, const char *path, const char *what, enum pyaml_text kind,
		 size_t max, const char **s, size_t *len) CG_MUST_CHECK;
int pyaml_bool(pyaml *y, yaml_node_t *n, const char *path, bool *out) CG_MUST_CHECK;
int pyaml_int(pyaml *y, yaml_node_t *n, const char *path, long min, long max,
	      int *out) CG_MUST_CHECK;
/* One of names (NULL-terminated), exactly as spelled; *out is its index. */
int pyaml_enum(pyaml *y, yaml_node_t *n, const char *path, const char *const *names,
	       int *out) CG_MUST_CHECK;

/* "PATH.key" into out (cut when it does not fit: paths only appear in
 * messages). Returns out. */
const char *pyaml_path(char *out, size_t outsz, const char *path, const char *key);

/* A one-line string of at most max bytes, copied into *out (freeing what
 * *out held). */
int pyaml_line(pyaml *y, yaml_node_t *n, const char *path, size_t max, char **out) CG_MUST_CHECK;

/* A copy of s[0..len) into *out (freeing what *out held), NUL-terminated. */
int pyaml_dup(pyaml *y, const char *s, size_t len, char **out) CG_MUST_CHECK;

#endif
