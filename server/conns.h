/* The open connections: per-connection state, and the guard against
 * clients that send a request too slowly to ever finish it.
 *
 * libmicrohttpd restarts a connection's idle timeout on every byte, so a
 * client sending its headers one byte a second would hold a connection
 * slot for hours (slowloris); 1024 of them take every slot. Four times a
 * second conns_sweep() looks at each connection's TCP counters (TCP_INFO): a
 * client that started sending (the TLS handshake counts) and has not had
 * a request answered within the deadline is disconnected. Idle keep-alive
 * connections send nothing and are left to the idle timeout.
 */
#ifndef CG_SERVER_CONNS_H
#define CG_SERVER_CONNS_H

#include <microhttpd.h>

typedef struct conns conns;

conns *conns_new(void);
/* After the daemon has stopped (every connection closed). */
void conns_free(conns *cs);

/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the conns. */
void conns_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			 enum MHD_ConnectionNotificationCode toe);

/* A request's headers have arrived on c (from the access handler). */
void conns_request_started(struct MHD_Connection *c);
/* A request on c has been answered (from the completion callback). */
void conns_request_done(struct MHD_Connection *c);

/* Where the mTLS verdict of c is kept (0 unknown, 1 accepted, -1
 * refused); NULL when c is not tracked. */
int *conns_mtls_verdict(struct MHD_Connection *c);

/* Disconnects every client whose request has been under way for
 * deadline_s seconds (measured from the sweep that first saw its bytes);
 * returns how many. Main thread only. */
unsigned int conns_sweep(conns *cs, unsigned int deadline_s);

#endif
