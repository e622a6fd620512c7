#include "common/budget.h"

#include <stdatomic.h>
#include <stdint.h>

static atomic_size_t limit_bytes;
static atomic_size_t used;

void budget_set_limit(size_t limit)
{
	atomic_store(&limit_bytes, limit);
}

size_t budget_limit(void)
{
	return atomic_load_explicit(&limit_bytes, memory_order_relaxed);
}

size_t budget_in_use(void)
{
	return atomic_load_explicit(&used, memory_order_relaxed);
}

size_t budget_cap(size_t total)
{
	size_t limit = budget_limit();
	if (limit == 0)
		return SIZE_MAX;
	return total > BUDGET_SMALL ? limit - limit / 8 : limit;
}

bool budget_take(size_t n, size_t total)
{
	if (budget_limit() == 0) {
		atomic_fetch_add_explicit(&used, n, memory_order_relaxed);
		return true;
	}
	size_t cap = budget_cap(total);
	size_t cur = atomic_load_explicit(&used, memory_order_relaxed);
	do {
		if (n > cap || cur > cap - n)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&used, &cur, cur + n, memory_order_relaxed,
							memory_order_relaxed));
	return true;
}

void budget_charge(size_t n)
{
	atomic_fetch_add_explicit(&used, n, memory_order_relaxed);
}

void budget_give(size_t n)
{
	atomic_fetch_sub_explicit(&used, n, memory_order_relaxed);
}
