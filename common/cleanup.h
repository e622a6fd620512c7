/* Scope-bound cleanup, as in crun and systemd: a variable declared with one
 * of these attributes is released when it goes out of scope, so error paths
 * need no goto chains. Hand ownership on with `*out = x; x = NULL;`.
 * Every free function used here accepts NULL. */
#ifndef CG_CLEANUP_H
#define CG_CLEANUP_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cg_freep(void *p)
{
	free(*(void **)p);
}
static inline void cg_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void cg_fclosep(FILE **f)
{
	if (*f != NULL)
		fclose(*f);
}
static inline void cg_json_decrefp(json_t **j)
{
	json_decref(*j);
}

#define cleanup_free   __attribute__((cleanup(cg_freep)))
#define cleanup_close  __attribute__((cleanup(cg_closep)))
#define cleanup_fclose __attribute__((cleanup(cg_fclosep)))
#define cleanup_json   __attribute__((cleanup(cg_json_decrefp)))

/* Takes the value out of a cleanup variable so it is not released. */
#define cg_steal(p)                                                                                \
	({                                                                                         \
		__typeof__(p) steal_tmp_ = (p);                                                    \
		(p) = NULL;                                                                        \
		steal_tmp_;                                                                        \
	})

#endif
