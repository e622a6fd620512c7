/* server/metrics: what /metrics shows after a few recorded events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/metrics.h"

static review_summary sum(const char *op, const char *kind, const char *decision)
{
	review_summary s = {0};
	snprintf(s.operation, sizeof(s.operation), "%s", op);
	snprintf(s.kind, sizeof(s.kind), "%s", kind);
	s.decision = decision;
	return s;
}

static void has(const char *text, const char *line)
{
	if (strstr(text, line) == NULL)
		fail_msg("missing \"%s\" in:\n%s", line, text);
}

static void test_render(void **state)
{
	(void)state;
	review_summary a = sum("CREATE", "Pod", "patched");
	review_summary b = sum("UPDATE", "Deployment", "allowed");
	review_summary c = sum("PATCH", "FancyCRD", "surprising");
	review_summary d = sum("", "", NULL);
	metrics_review(REVIEW_MUTATE, &a, 80, 6000);
	metrics_review(REVIEW_MUTATE, &a, 700, 6000);
	metrics_review(REVIEW_VALIDATE, &b, 3000000, 2 << 20);
	metrics_review(REVIEW_MUTATE, &c, 10, 10);
	metrics_review(REVIEW_VALIDATE, &d, 10, 10);
	metrics_http(200);
	metrics_http(413);
	metrics_http(418);
	metrics_policy_loaded(3);
	metrics_policy_reload_failed();
	metrics_cert_loaded(time(NULL) + 1000);
	metrics_memory_refused("body");
	metrics_memory_refused("arena");
	metrics_memory_refused("arena");
	metrics_connections_shed(SHED_RECLAIMED, 3);
	metrics_connections_shed(SHED_HANDSHAKE_TIMEOUT, 1);
	metrics_connections_open(7);
	metrics_http(503);
	cg_buf o = {0};
	assert_int_equal(metrics_render(&o), 0);
	has(o.data, "capgate_reviews_total{endpoint=\"mutate\",operation=\"CREATE\",kind=\"Pod\","
		    "decision=\"patched\"} 2\n");
	has(o.data, "capgate_reviews_total{endpoint=\"validate\",operation=\"UPDATE\","
		    "kind=\"Deployment\",decision=\"allowed\"} 1\n");
	/* Unknown labels fold into fixed values: no unbounded series. */
	has(o.data, "capgate_reviews_total{endpoint=\"mutate\",operation=\"other\",kind=\"other\","
		    "decision=\"error\"} 1\n");
	has(o.data, "capgate_reviews_total{endpoint=\"validate\",operation=\"other\","
		    "kind=\"other\",decision=\"invalid\"} 1\n");
	/* Cumulative buckets: 80 us and 700 us are both <= 1 ms, one <= 100 us. */
	has(o.data,
	    "capgate_review_duration_seconds_bucket{endpoint=\"mutate\",le=\"0.0001\"} 2\n");
	has(o.data, "capgate_review_duration_seconds_bucket{endpoint=\"mutate\",le=\"0.001\"} 3\n");
	has(o.data, "capgate_review_duration_seconds_bucket{endpoint=\"validate\",le=\"1\"} 1\n");
	has(o.data,
	    "capgate_review_duration_seconds_bucket{endpoint=\"validate\",le=\"+Inf\"} 2\n");
	has(o.data, "capgate_review_body_bytes_bucket{endpoint=\"validate\",le=\"4194304\"} 2\n");
	has(o.data, "capgate_http_responses_total{code=\"413\"} 1\n");
	has(o.data, "capgate_http_responses_total{code=\"other\"} 1\n");
	has(o.data, "capgate_policy_generation 3\n");
	has(o.data, "capgate_policy_reload_failures_total 1\n");
	has(o.data, "capgate_cert_expiry_seconds 1000\n");
	has(o.data, "capgate_memory_refused_total{stage=\"body\"} 1\n");
	has(o.data, "capgate_memory_refused_total{stage=\"arena\"} 2\n");
	has(o.data, "capgate_memory_budget_bytes 0\n");
	has(o.data, "capgate_connections_shed_total{reason=\"full_reclaimed\"} 3\n");
	has(o.data, "capgate_connections_shed_total{reason=\"handshake_timeout\"} 1\n");
	has(o.data, "capgate_connections_shed_total{reason=\"address_limit_refused\"} 0\n");
	has(o.data, "capgate_connections_open 7\n");
	has(o.data, "capgate_http_responses_total{code=\"503\"} 1\n");
	buf_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
