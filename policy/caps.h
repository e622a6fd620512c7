/* Linux capability names: the one table capgate compares against.
 *
 * Names are normalised before any comparison (case-insensitive, optional
 * CAP_ prefix): containerd turns "net_admin" into CAP_NET_ADMIN and CRI-O
 * accepts "CAP_NET_ADMIN", so an exact-match check would be a bypass.
 * capgate emits upper case without CAP_, and exactly "ALL".
 */
#ifndef CG_CAPS_H
#define CG_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CAPS_<NAME> numbers and CAPS_COUNT, generated from common/caps.list. */
#include "common/caps_table.h"

#define CAPS_ALL 63 /* pseudo capability "ALL" */

/* A set of capabilities: bit n is capability n, bit CAPS_ALL is "ALL". */
typedef uint64_t caps_set;
#define CAPS_BIT(n)	((caps_set)1 << (n))
#define CAPS_KNOWN_MASK (CAPS_BIT(CAPS_COUNT) - 1)

/* Returns the capability number (0..40), CAPS_ALL for "ALL", or -1 when the
 * name is not a capability. Accepts any case, with or without "CAP_". */
int caps_lookup(const char *name, size_t len);

/* Canonical name of capability n ("NET_BIND_SERVICE", "ALL"), or NULL. */
const char *caps_name(int n);

/* True when name is already exactly canonical (what PSA compares literally). */
bool caps_is_canonical(const char *name, size_t len);

/* Writes "A, B, C" for a set into out (truncated). Returns out. */
char *caps_set_format(caps_set s, char *out, size_t outsz);

#endif
