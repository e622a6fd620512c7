/* A process-wide ceiling on the memory that requests in flight hold: the
 * bytes of their bodies as they arrive, the arena chunks their JSON trees
 * are built in (common/arena.h), and their answers until they are sent.
 *
 * Without it the worst case was --max-connections x --max-body (8 GiB at
 * the defaults, and an arena can reach 57 times its body): enough to have
 * the webhook OOM-killed, which stops every pod creation it covers. With
 * it, a request that would go over gets a fast answer the client can retry
 * (server/handler.c: 503 with Retry-After) and RSS stays below the limit
 * plus what the budget does not cover (the process itself, and about 40 KiB
 * per open TLS connection).
 *
 * The last eighth of the limit is kept for small requests (up to
 * BUDGET_SMALL in all): every realistic review is a few KiB to a few
 * hundred, so a burst of huge ones cannot starve them.
 *
 * Thread-safe and lock-free; the counters are exact.
 */
#ifndef CG_BUDGET_H
#define CG_BUDGET_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define BUDGET_SMALL ((size_t)1 << 20)

/* 0: no limit (the default; capgate check and the unit tests). */
void budget_set_limit(size_t limit);
size_t budget_limit(void);
size_t budget_in_use(void);

/* Takes n bytes for a request that then holds total bytes in all (n
 * included). False, and nothing taken, when that would pass the limit (for
 * a request of more than BUDGET_SMALL, 7/8 of it). */
bool budget_take(size_t n, size_t total) CG_MUST_CHECK;
/* The most the budget may hold once a request of total bytes is in it
 * (the limit, or 7/8 of it for a big request; SIZE_MAX without a limit). */
size_t budget_cap(size_t total);
/* Counts n bytes that are already allocated (never refused). */
void budget_charge(size_t n);
/* Gives back what budget_take() or budget_charge() counted. */
void budget_give(size_t n);

#endif
