/* The policy in force, swappable while reviews run.
 *
 * Each review takes a reference to the policy current when it starts and
 * gives it back when done; a reload installs a new policy for the reviews
 * that start afterwards, and the old one is freed when its last review
 * finishes. So a review never sees a policy change under it.
 */
#ifndef CG_SERVER_PSTORE_H
#define CG_SERVER_PSTORE_H

#include "policy/policy.h"

typedef struct pstore pstore;
typedef struct pstore_ref pstore_ref;

/* Takes ownership of p (generation 1). Returns NULL when out of memory
 * (p is then freed). */
pstore *pstore_new(cg_policy *p);
/* Frees the store; every reference must have been released. */
void pstore_free(pstore *s);

pstore_ref *pstore_acquire(pstore *s);
const cg_policy *pstore_policy(const pstore_ref *r);
void pstore_release(pstore_ref *r);

/* Installs p (taking ownership) and returns its generation, or -1 when out
 * of memory (p is then freed and the old policy stays). */
long pstore_swap(pstore *s, cg_policy *p);

#endif
