/* The HTTPS side of the webhook: libmicrohttpd with GnuTLS, routing,
 * limits, and the mapping of every outcome to an HTTP status. The engine
 * behind it (server/review.h) knows nothing of HTTP.
 *
 *   POST /mutate, /validate   AdmissionReview in, AdmissionReview out (200);
 *                             400 not a review, 413 body too large,
 *                             415 not JSON, 405 another method
 *   GET  /healthz             200 while the process serves
 *   GET  /readyz              200 while a policy and certificate are loaded
 *                             and the server is not shutting down, else 503
 *   GET  /metrics             Prometheus text
 *   anything else             404
 *
 * With mTLS (client_ca_pem), everything but /healthz and /readyz needs a
 * verified client certificate (403 otherwise): kubelet probes present none.
 *
 * Routing looks at the path only: the apiserver appends ?timeout=10s.
 */
#ifndef CG_SERVER_SERVER_H
#define CG_SERVER_SERVER_H

#include <stddef.h>

#include "common/error.h"
#include "server/config.h"
#include "server/pstore.h"

typedef struct server server;

/* Binds and starts serving with the certificate of server/tlscert.h.
 * policies is borrowed and must outlive the server. */
int server_start(const server_config *cfg, pstore *policies, server **out,
		 cg_error *err) CG_MUST_CHECK;

/* The port actually bound (useful with port 0). */
unsigned int server_port(const server *s);

/* Disconnects clients whose request has been arriving for longer than
 * request_timeout (server/conns.h) and gives memory freed by closed
 * connections back (server/memory.h). The main thread calls it 4 times a
 * second. */
void server_sweep(server *s);

/* After SIGTERM, in two steps (kubernetes/kubernetes#127335: the
 * apiserver keeps reusing keep-alive connections to a terminating pod).
 * server_drain(): /readyz says 503 and every answer carries
 * `Connection: close`, so each keep-alive connection is closed after its
 * next request and the client reconnects, through the Service, to a ready
 * replica; new connections are still accepted and served, for the
 * Endpoints change to reach every node. server_stop_accepting(): the
 * listening socket is closed, then every connection not in a request;
 * returns how many. */
void server_drain(server *s);
unsigned int server_stop_accepting(server *s);

/* Requests received but not yet answered and sent. */
unsigned int server_in_flight(server *s);
/* Open connections, idle keep-alive ones included. */
unsigned int server_connections(server *s);

/* Closes every connection and frees the server; NULL is fine. */
void server_stop(server *s);

#endif
