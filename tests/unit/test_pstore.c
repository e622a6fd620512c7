/* server/pstore: a review keeps the policy it started with across a swap;
 * generations count up; the last reference frees (ASan checks the frees). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "server/pstore.h"

static cg_policy *load(const char *mode)
{
	char doc[256];
	snprintf(doc, sizeof(doc),
		 "apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: t}\n"
		 "spec:\n  mode: %s\n",
		 mode);
	cg_policy *p = NULL;
	cg_error err = {0};
	if (policy_load(doc, strlen(doc), "t.yaml", &p, &err) < 0)
		fail_msg("%s", err.msg);
	return p;
}

static void test_swap_keeps_inflight(void **state)
{
	(void)state;
	pstore *s = pstore_new(load("enforce"));
	assert_non_null(s);
	pstore_ref *before = pstore_acquire(s);
	assert_int_equal(pstore_swap(s, load("warn")), 2);
	pstore_ref *after = pstore_acquire(s);
	/* The review that started before the swap still reads its policy. */
	assert_int_equal(pstore_policy(before)->spec.mode, POLICY_ENFORCE);
	assert_int_equal(pstore_policy(after)->spec.mode, POLICY_WARN);
	pstore_release(before); /* last reference to the first policy: freed */
	assert_int_equal(pstore_swap(s, load("audit")), 3);
	assert_int_equal(pstore_policy(after)->spec.mode, POLICY_WARN);
	pstore_release(after);
	pstore_ref *now = pstore_acquire(s);
	assert_int_equal(pstore_policy(now)->spec.mode, POLICY_AUDIT);
	pstore_release(now);
	pstore_free(s);
}

static pstore *shared;

static void *reviewer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20000; i++) {
		pstore_ref *r = pstore_acquire(shared);
		int m = (int)pstore_policy(r)->spec.mode;
		if (m != POLICY_ENFORCE && m != POLICY_WARN)
			return (void *)1;
		pstore_release(r);
	}
	return NULL;
}

static void test_concurrent_swaps(void **state)
{
	(void)state;
	shared = pstore_new(load("enforce"));
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reviewer, NULL), 0);
	long gen = 0;
	for (int i = 0; i < 200; i++)
		gen = pstore_swap(shared, load(i % 2 ? "enforce" : "warn"));
	for (int i = 0; i < 3; i++) {
		void *ret;
		pthread_join(t[i], &ret);
		assert_null(ret);
	}
	assert_int_equal(gen, 201);
	pstore_free(shared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_keeps_inflight),
		cmocka_unit_test(test_concurrent_swaps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
