/* A per-thread bump arena behind jansson's allocator.
 *
 * jansson allocates every node, key and string with malloc; building a
 * review's tree costs more in malloc/free than in parsing. Between
 * arena_begin() and arena_end() every jansson allocation made by this thread
 * is carved from the thread's arena and freeing it is a no-op; arena_end()
 * releases it all at once. Allocations made by other threads, or outside a
 * begin/end pair, go to malloc as usual, so jansson stays usable anywhere.
 *
 * Rule: a json_t allocated inside the arena must not be used or released
 * after arena_end().
 */
#ifndef CG_ARENA_H
#define CG_ARENA_H

#include <stddef.h>

/* The most one request may take (a realistic review takes ~20 KB; an
 * 8 MiB body of minimal containers about 40x its size). Beyond it jansson
 * sees an allocation failure and the review is refused, not the process. */
#define ARENA_LIMIT ((size_t)256 << 20)

/* Installs the allocator (json_set_alloc_funcs) once per process. Call
 * before creating any json_t, so that nothing malloc'd by jansson is ever
 * handed to the arena's free and the other way round. */
void arena_install_json(void);

void arena_begin(void);
void arena_end(void);

/* Bytes handed out since arena_begin() on this thread (for the bench). */
size_t arena_used(void);

/* Every chunk but the one kept per thread counts against the process-wide
 * budget (common/budget.h). When the budget refused one since
 * arena_begin() on this thread, the bytes this request would then have
 * held (jansson saw an allocation failure); 0 otherwise. */
size_t arena_refused(void);

/* Frees this thread's chunks now, the kept one too (the main thread at
 * exit; pool threads do it on their own when they end). arena_end() gives
 * back everything but one 32 KB chunk, so a huge review leaves nothing
 * behind. */
void arena_release(void);

#endif
