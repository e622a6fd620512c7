/* What the HTTPS server is configured with: server.c binds and limits with
 * it, handler.c keeps a copy for each request's limits. A header of its
 * own so that the handler needs nothing else of server.h (server.c calls
 * the handler, never the other way round).
 */
#ifndef CG_SERVER_CONFIG_H
#define CG_SERVER_CONFIG_H

#include <stddef.h>

typedef struct server_config {
	const char *listen;	   /* "ADDR:PORT", "[V6ADDR]:PORT"; port 0 picks one */
	const char *priorities;	   /* GnuTLS priority string */
	const char *client_ca_pem; /* trusted client CAs (PEM text); NULL: no mTLS */
	const char *client_cn;	   /* required client CN; NULL: any */
	size_t max_body;
	size_t memory_budget; /* bytes requests in flight may hold (common/budget.h) */
	unsigned int threads;
	unsigned int max_connections;	/* past it, idle slots are reclaimed (server/conns.h) */
	unsigned int max_per_address;	/* the same, per client address; 0: none */
	unsigned int timeout;		/* seconds a keep-alive connection may stay idle */
	unsigned int handshake_timeout; /* seconds for the TLS handshake and the first request */
	unsigned int request_timeout;	/* seconds a request may take to arrive */
} server_config;

#endif
