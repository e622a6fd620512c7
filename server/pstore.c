#include "server/pstore.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct pstore_ref {
	atomic_long refs; /* the store's own reference + one per review */
	cg_policy *policy;
};

struct pstore {
	/* Taking a reference must be atomic with reading `current`, or a swap
	 * could free the policy between the two; an uncontended mutex costs
	 * tens of nanoseconds, against tens of microseconds per review. */
	pthread_mutex_t lock;
	pstore_ref *current;
	long generation;
};

static pstore_ref *ref_new(cg_policy *p)
{
	pstore_ref *r = malloc(sizeof(*r));
	if (r == NULL) {
		policy_free(p);
		return NULL;
	}
	atomic_init(&r->refs, 1);
	r->policy = p;
	return r;
}

pstore *pstore_new(cg_policy *p)
{
	pstore *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		policy_free(p);
		return NULL;
	}
	s->current = ref_new(p);
	if (s->current == NULL) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->generation = 1;
	return s;
}

void pstore_free(pstore *s)
{
	if (s == NULL)
		return;
	pstore_release(s->current);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

pstore_ref *pstore_acquire(pstore *s)
{
	pthread_mutex_lock(&s->lock);
	pstore_ref *r = s->current;
	atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&s->lock);
	return r;
}

const cg_policy *pstore_policy(const pstore_ref *r)
{
	return r->policy;
}

void pstore_release(pstore_ref *r)
{
	if (r == NULL)
		return;
	if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1) {
		policy_free(r->policy);
		free(r);
	}
}

long pstore_swap(pstore *s, cg_policy *p)
{
	pstore_ref *r = ref_new(p);
	if (r == NULL)
		return -1;
	pthread_mutex_lock(&s->lock);
	pstore_ref *old = s->current;
	s->current = r;
	long gen = ++s->generation;
	pthread_mutex_unlock(&s->lock);
	pstore_release(old);
	return gen;
}
