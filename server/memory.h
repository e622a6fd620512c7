/* How `capgate serve` uses glibc's malloc, so that its RSS after any
 * request goes back to where it was, whichever thread served it.
 *
 * glibc raises its mmap threshold (and twice that, its trim threshold) each
 * time a block bigger than the threshold is freed. After one huge review
 * (a 16 MiB response buffer freed) every later block below 16 MiB — request
 * bodies, arena chunks, response buffers — comes from the malloc heap of
 * whichever thread serves the next one, or from the main arena when that
 * thread's heap cannot grow (measured with gdb: sysmalloc's new heap was
 * deleted again by heap_trim, ENOMEM, arena_get_retry), and freed heap
 * memory below the 32 MiB trim threshold stays resident. Which arenas kept
 * what then depended on which pool thread served which review, and on
 * whether a malloc_trim() happened to run after the frees: VmRSS after three
 * 100,000-container reviews was 11 MiB or 24 MiB from one run to the next.
 *
 * memory_configure() pins the threshold (which also stops the dynamic
 * adjustment of both): every block of MEMORY_MMAP_THRESHOLD or more is its
 * own mapping, unmapped by the free() that ends it, in any thread. The
 * small blocks left in the heaps (TLS sessions and connection buffers of
 * closed connections) are given back by memory_tick() from the main thread
 * after connections close, so no request path pays for a trim.
 */
#ifndef CG_SERVER_MEMORY_H
#define CG_SERVER_MEMORY_H

/* glibc's default starting threshold: requests of a few KiB (every
 * realistic review) never reach it, so they keep the heap's speed. */
#define MEMORY_MMAP_THRESHOLD (128u * 1024)

/* Once, before any thread is started. */
void memory_configure(void);

/* A connection closed (any thread; lock-free). */
void memory_connection_closed(void);

/* Main thread, every tick: gives freed heap memory back to the kernel
 * (malloc_trim) at most once a second, and only after connections closed. */
void memory_tick(void);

#endif
