#include "server/memory.h"

#include <malloc.h>
#include <stdatomic.h>
#include <time.h>

static atomic_uint closed_since_trim;
static struct timespec last_trim;

void memory_configure(void)
{
	/* Setting it at all turns off glibc's dynamic threshold (and the
	 * dynamic trim threshold that follows it): see memory.h. */
	mallopt(M_MMAP_THRESHOLD, (int)MEMORY_MMAP_THRESHOLD);
	clock_gettime(CLOCK_MONOTONIC, &last_trim);
}

void memory_connection_closed(void)
{
	atomic_fetch_add_explicit(&closed_since_trim, 1, memory_order_relaxed);
}

void memory_tick(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - last_trim.tv_sec < 1 ||
	    atomic_load_explicit(&closed_since_trim, memory_order_relaxed) == 0)
		return;
	atomic_store_explicit(&closed_since_trim, 0, memory_order_relaxed);
	last_trim = now;
	/* Walks every malloc arena (one per serving thread, and the main one)
	 * and hands whole free pages back with MADV_DONTNEED: after 1,000 TLS
	 * connections close, 40 MiB of their sessions' memory. */
	malloc_trim(0);
}
