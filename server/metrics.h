/* Prometheus metrics of the webhook, kept in process-wide atomic counters
 * (one registry per process, like the process itself) and rendered in the
 * text exposition format for GET /metrics. Recording is lock-free and never
 * allocates; rendering allocates only the output.
 */
#ifndef CG_SERVER_METRICS_H
#define CG_SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"
#include "common/error.h"
#include "server/review.h"

/* One review answered with HTTP 200 (s->decision set) or refused with 400
 * (s->decision NULL: counted as decision "invalid"). */
void metrics_review(enum review_endpoint ep, const review_summary *s, uint64_t micros,
		    size_t body_len);
/* Every HTTP response by status code. */
void metrics_http(unsigned int status);
void metrics_policy_loaded(unsigned long generation);
void metrics_policy_reload_failed(void);
void metrics_cert_loaded(time_t not_after);
void metrics_cert_reload_failed(void);
void metrics_client_refused(void);
void metrics_slow_clients_closed(unsigned int n);

/* Connections closed to keep slots for others (server/conns.h). */
enum metrics_shed {
	SHED_HANDSHAKE_TIMEOUT, /* no request's headers within --handshake-timeout */
	SHED_ADDRESS_RECLAIMED, /* an idle one of an address over its limit */
	SHED_ADDRESS_REFUSED,	/* a new one of an address whose others are all busy */
	SHED_RECLAIMED,		/* an idle one, the server being full */
	SHED_SHUTDOWN_IDLE,	/* an idle one, at shutdown */
	SHED_N
};
void metrics_connections_shed(enum metrics_shed why, unsigned int n);
/* Open connections now (a gauge). */
void metrics_connections_open(unsigned int n);
/* A request refused because the memory budget was in use; stage "body"
 * (before or while its body arrived) or "arena" (while it was judged). */
void metrics_memory_refused(const char *stage);

int metrics_render(cg_buf *out) CG_MUST_CHECK;

#endif
