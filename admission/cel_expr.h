/* Writing CEL text: one expression under construction, literals from the
 * policy, and the variable list the admission policies carry. Internal to
 * admission/ (cel.c, cel_scc.c).
 *
 * Every literal is written so that kube-apiserver's type checker (cel-go,
 * homogeneous aggregate literals) accepts it: string lists only, and maps
 * whose values are of several types hold each value in dyn().
 */
#ifndef CG_CEL_EXPR_H
#define CG_CEL_EXPR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"
#include "policy/policy.h"

/* One expression; zero-initialise. The first failure sticks in rc (a
 * negative errno) and later writes do nothing. */
typedef struct cel_expr {
	cg_buf b;
	int rc;
} cel_expr;

void cel_put(cel_expr *e, const char *s);
void cel_putf(cel_expr *e, const char *fmt, ...) CG_PRINTF(2, 3); /* short formats only */

/* A string literal: double quotes, backslash escapes for '"', '\\' and
 * control bytes; UTF-8 is kept as is. */
void cel_quote(cel_expr *e, const char *s);
void cel_strlist(cel_expr *e, const policy_strlist *l);

/* Canonical capability names in capability-number order, ALL last: the
 * order the webhook writes add and drop in. */
void cel_capslist(cel_expr *e, caps_set s);

/* The literal for a JSON value (strings, integers, booleans, arrays,
 * objects; every object member in dyn()). */
void cel_json(cel_expr *e, const json_t *v);

/* root.k1.k2...: the member when every step is present and not null, else
 * null (root and keys are identifiers). */
void cel_member(cel_expr *e, const char *root, const char *const *keys, size_t n);

/* Text x (a CEL expression of type string, evaluated once) as the webhook
 * prints names in messages: bytes outside printable ASCII as '?', cut to
 * max bytes, then "..." when ellipsis and it was longer. */
void cel_printable(cel_expr *e, const char *x, size_t max, bool ellipsis);

/* Appends {"name", "expression"} to vars and resets e for the next one. */
int cel_add_var(json_t *vars, const char *name, cel_expr *e, cg_error *err) CG_MUST_CHECK;

/* The text, owned by the caller (free()), or NULL after a failure. */
char *cel_take(cel_expr *e);

#endif
