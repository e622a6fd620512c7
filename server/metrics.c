#include "server/metrics.h"

#include <stdatomic.h>
#include <string.h>

#include "common/budget.h"

/* Label values are mapped onto fixed tables so every series is a plain
 * counter in static memory; anything unexpected lands in "other", which
 * also keeps a hostile request from creating unbounded series. */
static const char *const endpoints[] = {"mutate", "validate"};
static const char *const operations[] = {"CREATE", "UPDATE", "DELETE", "CONNECT", "other"};
static const char *const kinds[] = {"Pod",
				    "Deployment",
				    "ReplicaSet",
				    "StatefulSet",
				    "DaemonSet",
				    "Job",
				    "ReplicationController",
				    "PodTemplate",
				    "CronJob",
				    "other"};
static const char *const decisions[] = {"allowed", "patched", "denied",
					"warned",  "error",   "invalid"};

#define N_EP  (sizeof(endpoints) / sizeof(endpoints[0]))
#define N_OP  (sizeof(operations) / sizeof(operations[0]))
#define N_KD  (sizeof(kinds) / sizeof(kinds[0]))
#define N_DEC (sizeof(decisions) / sizeof(decisions[0]))

/* Latency bucket bounds in microseconds, printed in seconds. */
static const uint64_t lat_le[] = {50,	 100,	250,   500,    1000,   2500,   5000,
				  10000, 25000, 50000, 100000, 250000, 500000, 1000000};
#define N_LAT (sizeof(lat_le) / sizeof(lat_le[0]))
static const uint64_t size_le[] = {1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 8388608};
#define N_SIZE (sizeof(size_le) / sizeof(size_le[0]))

static const unsigned int statuses[] = {200, 400, 403, 404, 405, 408, 413, 415, 500, 503};
#define N_STATUS (sizeof(statuses) / sizeof(statuses[0]))

typedef struct histo {
	atomic_ulong bucket[N_LAT > N_SIZE ? N_LAT : N_SIZE]; /* non-cumulative */
	atomic_ulong count;
	atomic_ulong sum;
} histo;

static struct {
	atomic_ulong reviews[N_EP][N_OP][N_KD][N_DEC];
	histo latency[N_EP];
	histo body[N_EP];
	atomic_ulong http[N_STATUS + 1]; /* last: any other status */
	atomic_ulong policy_generation;
	atomic_ulong policy_reload_failures;
	atomic_ulong cert_reloads;
	atomic_ulong cert_reload_failures;
	atomic_long cert_not_after;
	atomic_ulong client_refused;
	atomic_ulong slow_closed;
	atomic_ulong memory_refused[2]; /* body, arena */
	atomic_ulong shed[SHED_N];
	atomic_uint connections;
} m;

static const char *const shed_reasons[SHED_N] = {
	[SHED_HANDSHAKE_TIMEOUT] = "handshake_timeout",
	[SHED_ADDRESS_RECLAIMED] = "address_limit_reclaimed",
	[SHED_ADDRESS_REFUSED] = "address_limit_refused",
	[SHED_RECLAIMED] = "full_reclaimed",
	[SHED_SHUTDOWN_IDLE] = "shutdown_idle",
};

static size_t find(const char *const *table, size_t n, const char *s)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (s != NULL && strcmp(table[i], s) == 0)
			return i;
	return n - 1;
}

static void observe(histo *h, const uint64_t *le, size_t n, uint64_t v)
{
	size_t i = 0;
	while (i < n && v > le[i])
		i++;
	if (i < n)
		atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
}

void metrics_review(enum review_endpoint ep, const review_summary *s, uint64_t micros,
		    size_t body_len)
{
	size_t e = ep == REVIEW_VALIDATE ? 1 : 0;
	size_t op = find(operations, N_OP, s->operation);
	size_t kd = find(kinds, N_KD, s->kind);
	size_t dec = s->decision != NULL ? find(decisions, N_DEC - 1, s->decision) : N_DEC - 1;
	atomic_fetch_add_explicit(&m.reviews[e][op][kd][dec], 1, memory_order_relaxed);
	observe(&m.latency[e], lat_le, N_LAT, micros);
	observe(&m.body[e], size_le, N_SIZE, body_len);
}

void metrics_http(unsigned int status)
{
	size_t i = 0;
	while (i < N_STATUS && statuses[i] != status)
		i++;
	atomic_fetch_add_explicit(&m.http[i], 1, memory_order_relaxed);
}

void metrics_policy_loaded(unsigned long generation)
{
	atomic_store(&m.policy_generation, generation);
}

void metrics_policy_reload_failed(void)
{
	atomic_fetch_add(&m.policy_reload_failures, 1);
}

void metrics_cert_loaded(time_t not_after)
{
	atomic_fetch_add(&m.cert_reloads, 1);
	atomic_store(&m.cert_not_after, (long)not_after);
}

void metrics_cert_reload_failed(void)
{
	atomic_fetch_add(&m.cert_reload_failures, 1);
}

void metrics_client_refused(void)
{
	atomic_fetch_add(&m.client_refused, 1);
}

void metrics_slow_clients_closed(unsigned int n)
{
	atomic_fetch_add(&m.slow_closed, n);
}

void metrics_connections_shed(enum metrics_shed why, unsigned int n)
{
	atomic_fetch_add_explicit(&m.shed[why], n, memory_order_relaxed);
}

void metrics_connections_open(unsigned int n)
{
	atomic_store_explicit(&m.connections, n, memory_order_relaxed);
}

void metrics_memory_refused(const char *stage)
{
	atomic_fetch_add(&m.memory_refused[strcmp(stage, "arena") == 0], 1);
}

static unsigned long get(atomic_ulong *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

static int render_histo(cg_buf *o, const char *name, const char *ep, histo *h, const uint64_t *le,
			size_t n, double scale)
{
	unsigned long cum = 0;
	for (size_t i = 0; i < n; i++) {
		cum += get(&h->bucket[i]);
		if (buf_printf(o, "%s_bucket{endpoint=\"%s\",le=\"%.9g\"} %lu\n", name, ep,
			       (double)le[i] * scale, cum) < 0)
			return -1;
	}
	return buf_printf(o,
			  "%s_bucket{endpoint=\"%s\",le=\"+Inf\"} %lu\n"
			  "%s_sum{endpoint=\"%s\"} %.6f\n%s_count{endpoint=\"%s\"} %lu\n",
			  name, ep, get(&h->count), name, ep, (double)get(&h->sum) * scale, name,
			  ep, get(&h->count));
}

static int render_reviews(cg_buf *o)
{
	if (buf_puts(o, "# HELP capgate_reviews_total AdmissionReviews answered.\n"
			"# TYPE capgate_reviews_total counter\n") < 0)
		return -1;
	for (size_t e = 0; e < N_EP; e++)
		for (size_t op = 0; op < N_OP; op++)
			for (size_t k = 0; k < N_KD; k++)
				for (size_t d = 0; d < N_DEC; d++) {
					unsigned long v = get(&m.reviews[e][op][k][d]);
					if (v == 0)
						continue;
					if (buf_printf(o,
						       "capgate_reviews_total{endpoint=\"%s\","
						       "operation=\"%s\",kind=\"%s\","
						       "decision=\"%s\"} %lu\n",
						       endpoints[e], operations[op], kinds[k],
						       decisions[d], v) < 0)
						return -1;
				}
	return 0;
}

static int render_memory(cg_buf *o)
{
	return buf_printf(
		o,
		"# HELP capgate_memory_budget_bytes Memory that requests in flight may hold "
		"(--memory-budget).\n"
		"# TYPE capgate_memory_budget_bytes gauge\ncapgate_memory_budget_bytes %zu\n"
		"# HELP capgate_memory_in_use_bytes Memory requests in flight hold now: bodies, "
		"arenas, answers.\n"
		"# TYPE capgate_memory_in_use_bytes gauge\ncapgate_memory_in_use_bytes %zu\n"
		"# HELP capgate_memory_refused_total Requests answered 503 because the memory "
		"budget was in use.\n"
		"# TYPE capgate_memory_refused_total counter\n"
		"capgate_memory_refused_total{stage=\"body\"} %lu\n"
		"capgate_memory_refused_total{stage=\"arena\"} %lu\n",
		budget_limit(), budget_in_use(), get(&m.memory_refused[0]),
		get(&m.memory_refused[1]));
}

static int render_connections(cg_buf *o)
{
	if (buf_printf(o,
		       "# HELP capgate_connections_open Open connections, idle keep-alive ones "
		       "included.\n"
		       "# TYPE capgate_connections_open gauge\ncapgate_connections_open %u\n"
		       "# HELP capgate_connections_shed_total Connections closed to keep slots "
		       "for others, by reason.\n"
		       "# TYPE capgate_connections_shed_total counter\n",
		       atomic_load_explicit(&m.connections, memory_order_relaxed)) < 0)
		return -1;
	for (size_t i = 0; i < SHED_N; i++)
		if (buf_printf(o, "capgate_connections_shed_total{reason=\"%s\"} %lu\n",
			       shed_reasons[i], get(&m.shed[i])) < 0)
			return -1;
	return 0;
}

int metrics_render(cg_buf *o)
{
	if (render_reviews(o) < 0 || render_memory(o) < 0 || render_connections(o) < 0)
		return -1;
	if (buf_puts(o, "# HELP capgate_review_duration_seconds Time from the last body byte "
			"to the queued answer.\n"
			"# TYPE capgate_review_duration_seconds histogram\n") < 0)
		return -1;
	for (size_t e = 0; e < N_EP; e++)
		if (render_histo(o, "capgate_review_duration_seconds", endpoints[e], &m.latency[e],
				 lat_le, N_LAT, 1e-6) < 0)
			return -1;
	if (buf_puts(o, "# HELP capgate_review_body_bytes Size of AdmissionReview bodies.\n"
			"# TYPE capgate_review_body_bytes histogram\n") < 0)
		return -1;
	for (size_t e = 0; e < N_EP; e++)
		if (render_histo(o, "capgate_review_body_bytes", endpoints[e], &m.body[e], size_le,
				 N_SIZE, 1) < 0)
			return -1;
	if (buf_puts(o, "# HELP capgate_http_responses_total HTTP responses by status.\n"
			"# TYPE capgate_http_responses_total counter\n") < 0)
		return -1;
	for (size_t i = 0; i <= N_STATUS; i++) {
		unsigned long v = get(&m.http[i]);
		if (v == 0)
			continue;
		int r = i < N_STATUS
				? buf_printf(o, "capgate_http_responses_total{code=\"%u\"} %lu\n",
					     statuses[i], v)
				: buf_printf(o,
					     "capgate_http_responses_total{code=\"other\"} %lu\n",
					     v);
		if (r < 0)
			return -1;
	}
	time_t now = time(NULL);
	long not_after = atomic_load(&m.cert_not_after);
	return buf_printf(
		o,
		"# HELP capgate_policy_generation Policies loaded so far (1: the start-up one).\n"
		"# TYPE capgate_policy_generation gauge\ncapgate_policy_generation %lu\n"
		"# HELP capgate_policy_reload_failures_total New policies that did not load.\n"
		"# TYPE capgate_policy_reload_failures_total counter\n"
		"capgate_policy_reload_failures_total %lu\n"
		"# HELP capgate_cert_loads_total Serving certificates put in use.\n"
		"# TYPE capgate_cert_loads_total counter\ncapgate_cert_loads_total %lu\n"
		"# HELP capgate_cert_reload_failures_total New certificates that did not load.\n"
		"# TYPE capgate_cert_reload_failures_total counter\n"
		"capgate_cert_reload_failures_total %lu\n"
		"# HELP capgate_cert_expiry_seconds Seconds until the serving certificate "
		"expires.\n"
		"# TYPE capgate_cert_expiry_seconds gauge\ncapgate_cert_expiry_seconds %ld\n"
		"# HELP capgate_client_refused_total Connections whose client certificate was "
		"refused.\n"
		"# TYPE capgate_client_refused_total counter\ncapgate_client_refused_total %lu\n"
		"# HELP capgate_slow_clients_closed_total Connections closed because a request "
		"took too long to arrive.\n"
		"# TYPE capgate_slow_clients_closed_total counter\n"
		"capgate_slow_clients_closed_total %lu\n",
		get(&m.policy_generation), get(&m.policy_reload_failures), get(&m.cert_reloads),
		get(&m.cert_reload_failures), not_after - (long)now, get(&m.client_refused),
		get(&m.slow_closed));
}
