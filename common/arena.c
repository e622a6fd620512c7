#include "common/arena.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define ARENA_CHUNK (32 * 1024)
#define ARENA_ALIGN 16
#define ARENA_MAX_CHUNKS 64 /* beyond that (2 MiB+) fall back to malloc */

struct chunk {
	char *base;
	size_t size;
};

struct arena {
	bool active;
	size_t used_total;
	size_t n; /* chunks in use; chunk 0 is kept between requests */
	size_t off;
	struct chunk c[ARENA_MAX_CHUNKS];
};

static _Thread_local struct arena arena;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static pthread_key_t release_key;

/* Frees a thread's chunks when the thread exits (server pool threads end
 * at shutdown; leak checkers must see nothing). */
static void release_chunks(void *unused)
{
	(void)unused;
	for (size_t i = 0; i < ARENA_MAX_CHUNKS; i++) {
		free(arena.c[i].base);
		arena.c[i].base = NULL;
		arena.c[i].size = 0;
	}
	arena.n = 0;
}

static bool in_arena(const void *p)
{
	for (size_t i = 0; i < arena.n; i++)
		if ((const char *)p >= arena.c[i].base &&
		    (const char *)p < arena.c[i].base + arena.c[i].size)
			return true;
	return false;
}

static void *arena_malloc(size_t size)
{
	if (!arena.active)
		return malloc(size);
	size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (arena.n == 0 || arena.off + size > arena.c[arena.n - 1].size) {
		if (arena.n == ARENA_MAX_CHUNKS)
			return malloc(size);
		size_t want = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		struct chunk *ch = &arena.c[arena.n];
		if (ch->base == NULL || ch->size < want) {
			if (arena.n == 0)
				pthread_setspecific(release_key, &arena);
			free(ch->base);
			ch->base = malloc(want);
			ch->size = want;
			if (ch->base == NULL) {
				ch->size = 0;
				return NULL;
			}
		}
		arena.n++;
		arena.off = 0;
	}
	void *p = arena.c[arena.n - 1].base + arena.off;
	arena.off += size;
	arena.used_total += size;
	return p;
}

static void arena_free(void *p)
{
	if (p == NULL)
		return;
	if (arena.active && in_arena(p))
		return;
	/* A pointer from this thread's arena freed after arena_end() would be
	 * a use of released memory; the in_arena check above cannot see other
	 * threads' arenas, which is why the rule in arena.h exists. */
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
	arena.n = 0;
	arena.off = 0;
}

void arena_end(void)
{
	arena.active = false;
	/* Keep the first chunk for the next request; give back the rest so a
	 * single huge review does not pin its memory to the thread. */
	for (size_t i = 1; i < ARENA_MAX_CHUNKS && arena.c[i].base; i++) {
		free(arena.c[i].base);
		arena.c[i].base = NULL;
		arena.c[i].size = 0;
	}
	arena.n = 0;
}

size_t arena_used(void)
{
	return arena.used_total;
}

void arena_release(void)
{
	release_chunks(NULL);
}

size_t arena_footprint(void)
{
	size_t n = 0;
	for (size_t i = 0; i < ARENA_MAX_CHUNKS; i++)
		n += arena.c[i].size;
	return n;
}
