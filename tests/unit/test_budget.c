/* common/budget and its use by common/arena: the process-wide memory
 * budget for requests in flight (issue 13). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>

#include "common/arena.h"
#include "common/budget.h"

#define MiB ((size_t)1 << 20)

static int reset(void **state)
{
	(void)state;
	budget_set_limit(0);
	budget_give(budget_in_use());
	return 0;
}

static void test_no_limit_counts_everything(void **state)
{
	(void)state;
	assert_true(budget_take(1000 * MiB, 1000 * MiB));
	assert_int_equal(budget_in_use(), 1000 * MiB);
	assert_int_equal(budget_cap(1), SIZE_MAX);
	budget_give(1000 * MiB);
	assert_int_equal(budget_in_use(), 0);
}

static void test_limit_and_small_reserve(void **state)
{
	(void)state;
	budget_set_limit(64 * MiB);
	/* A big request may bring the budget to 7/8 of the limit, no further. */
	assert_int_equal(budget_cap(2 * MiB), 56 * MiB);
	assert_int_equal(budget_cap(BUDGET_SMALL), 64 * MiB);
	assert_true(budget_take(50 * MiB, 50 * MiB));
	assert_false(budget_take(7 * MiB, 7 * MiB));
	assert_int_equal(budget_in_use(), 50 * MiB); /* a refusal takes nothing */
	assert_true(budget_take(6 * MiB, 6 * MiB));
	assert_false(budget_take(2 * MiB, 2 * MiB));
	/* The last eighth is for small requests, up to the limit itself. */
	for (int i = 0; i < 8; i++)
		assert_true(budget_take(MiB, MiB));
	assert_false(budget_take(1, 1));
	assert_int_equal(budget_in_use(), 64 * MiB);
	/* Already allocated: counted even past the limit. */
	budget_charge(MiB);
	assert_int_equal(budget_in_use(), 65 * MiB);
	assert_false(budget_take(1, 1));
	budget_give(65 * MiB);
	assert_int_equal(budget_in_use(), 0);
}

static void *taker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100000; i++)
		if (budget_take(4096, 4096))
			budget_give(4096);
	return NULL;
}

static void test_exact_under_threads(void **state)
{
	(void)state;
	budget_set_limit(64 * 4096);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, taker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(budget_in_use(), 0);
}

/* A JSON document that needs far more than 8 MiB of nodes. */
static json_t *big_tree(void)
{
	json_t *a = json_array();
	for (int i = 0; a != NULL && i < 100000; i++)
		if (json_array_append_new(a, json_pack("{s:i,s:s}", "n", i, "s", "padding")) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static void test_arena_chunks_count_and_go_back(void **state)
{
	(void)state;
	arena_install_json();
	arena_begin();
	json_t *t = big_tree();
	assert_non_null(t);
	size_t held = budget_in_use();
	assert_true(held > MiB); /* the chunks, not the kept one */
	assert_int_equal(arena_refused(), 0);
	arena_end();
	assert_int_equal(budget_in_use(), 0);
}

static void test_arena_refused_by_the_budget(void **state)
{
	(void)state;
	arena_install_json();
	budget_set_limit(8 * MiB);
	arena_begin();
	json_t *t = big_tree();
	assert_null(t); /* jansson saw an allocation failure */
	/* What this request would then have held: past what one big request
	 * may take (7/8 of 8 MiB). */
	assert_true(arena_refused() > budget_cap(arena_refused()));
	arena_end();
	assert_int_equal(budget_in_use(), 0);
	/* Others holding the budget: refused earlier, with less of its own. */
	assert_true(budget_take(6 * MiB, 6 * MiB));
	arena_begin();
	assert_null(big_tree());
	size_t own = arena_refused();
	assert_true(own > 0 && own <= budget_cap(own));
	arena_end();
	budget_give(6 * MiB);
	/* And the next request starts clean. */
	arena_begin();
	json_t *small = json_pack("{s:s}", "a", "b");
	assert_non_null(small);
	assert_int_equal(arena_refused(), 0);
	arena_end();
	assert_int_equal(budget_in_use(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_no_limit_counts_everything, reset),
		cmocka_unit_test_setup(test_limit_and_small_reserve, reset),
		cmocka_unit_test_setup(test_exact_under_threads, reset),
		cmocka_unit_test_setup(test_arena_chunks_count_and_go_back, reset),
		cmocka_unit_test_setup(test_arena_refused_by_the_budget, reset),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	arena_release();
	return rc;
}
