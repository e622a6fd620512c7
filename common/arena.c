#include "common/arena.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/budget.h"

#define ARENA_CHUNK	(32 * 1024) /* the first chunk, kept between requests */
#define ARENA_CHUNK_MAX (1024 * 1024)
#define ARENA_ALIGN	16

struct chunk {
	struct chunk *next; /* older chunks of this request */
	size_t size;
	size_t used;
	_Alignas(ARENA_ALIGN) char data[];
};

struct arena {
	bool active;
	struct chunk *head; /* the chunk allocations come from */
	struct chunk *keep; /* the first chunk: reused by every request */
	size_t nchunks;
	size_t used_total;
	size_t held;	/* bytes in this request's chunks */
	size_t refused; /* what the budget refused this request to hold, 0: nothing */
};

static _Thread_local struct arena arena;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static pthread_key_t release_key;

static void free_chunks(bool keep_first)
{
	struct chunk *c = arena.head;
	while (c != NULL) {
		struct chunk *next = c->next;
		if (c != arena.keep) {
			budget_give(c->size);
			free(c);
		}
		c = next;
	}
	arena.head = NULL;
	arena.nchunks = 0;
	arena.held = 0;
	if (!keep_first) {
		free(arena.keep);
		arena.keep = NULL;
	}
}

/* Frees a thread's memory when the thread exits (server pool threads end
 * at shutdown; leak checkers must see nothing). */
static void release_chunks(void *unused)
{
	(void)unused;
	free_chunks(false);
}

static struct chunk *new_chunk(size_t need)
{
	/* Geometric growth: a huge review takes a few dozen chunks, and the
	 * large ones are mmapped by malloc (the server pins glibc's mmap
	 * threshold, server/memory.h), so giving them back at the end of the
	 * request returns the memory to the system. */
	size_t size = ARENA_CHUNK << (arena.nchunks < 5 ? arena.nchunks : 5);
	if (size > ARENA_CHUNK_MAX)
		size = ARENA_CHUNK_MAX;
	if (size < need)
		size = need;
	if (arena.held + size > ARENA_LIMIT)
		return NULL; /* jansson reports out of memory: the review is refused */
	struct chunk *c;
	if (arena.nchunks == 0 && arena.keep != NULL && arena.keep->size >= size) {
		c = arena.keep;
	} else {
		/* The kept chunk is the thread's own, not the request's: only the
		 * others count against the process-wide budget. */
		bool keep = arena.keep == NULL && size == ARENA_CHUNK;
		if (!keep && !budget_take(size, arena.held + size)) {
			arena.refused = arena.held + size;
			return NULL; /* as at ARENA_LIMIT; the server tells them apart */
		}
		if ((c = malloc(sizeof(*c) + size)) == NULL) {
			if (!keep)
				budget_give(size);
			return NULL;
		}
		c->size = size;
		if (keep) {
			arena.keep = c;
			pthread_setspecific(release_key, &arena);
		}
	}
	c->used = 0;
	c->next = arena.head;
	arena.head = c;
	arena.nchunks++;
	arena.held += c->size;
	return c;
}

static void *arena_malloc(size_t size)
{
	if (!arena.active)
		return malloc(size);
	if (size > ARENA_LIMIT)
		return NULL;
	size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	struct chunk *c = arena.head;
	if (c == NULL || c->used + size > c->size)
		if ((c = new_chunk(size)) == NULL)
			return NULL;
	void *p = c->data + c->used;
	c->used += size;
	arena.used_total += size;
	return p;
}

/* While a request is in its arena every free is a no-op: the memory goes
 * back at arena_end(). jansson only frees what it allocated, and nothing
 * allocated before arena_begin() is released inside a request, so no
 * malloc'd pointer is dropped here (at worst one would leak, never be
 * freed twice). */
static void arena_free(void *p)
{
	if (!arena.active)
		free(p);
}

static void install(void)
{
	pthread_key_create(&release_key, release_chunks);
	json_set_alloc_funcs(arena_malloc, arena_free);
}

void arena_install_json(void)
{
	pthread_once(&install_once, install);
}

void arena_begin(void)
{
	arena.active = true;
	arena.used_total = 0;
	arena.refused = 0;
}

void arena_end(void)
{
	arena.active = false;
	free_chunks(true);
}

size_t arena_used(void)
{
	return arena.used_total;
}

size_t arena_refused(void)
{
	return arena.refused;
}

void arena_release(void)
{
	free_chunks(false);
}
