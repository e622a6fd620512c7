/* The open connections: per-connection state, and who may keep a slot.
 *
 * libmicrohttpd counts connections but cannot close one it is not serving
 * at that moment, nor tell an idle keep-alive connection from one that
 * never sent a request, nor limit an address other than by refusing its
 * new connections. So every connection is tracked here from its start
 * (NOTIFY_CONNECTION) to its end, and closed, when it must go, with
 * shutdown(2) on its socket: the socket stays libmicrohttpd's, which sees
 * the end of the stream and closes the connection itself in its own
 * thread.
 *
 * - A new connection must complete its TLS handshake and send a request's
 *   headers within handshake_timeout_s (the apiserver sends its request as
 *   soon as it has connected); until then it is "new". Idle keep-alive
 *   connections are left to libmicrohttpd's idle timeout (--timeout).
 * - When an address holds more than per_address connections, or the server
 *   more than max_connections, a slot is reclaimed from a connection that
 *   is not in a request: a new one first, the one that got least far (no
 *   byte sent, part of a ClientHello, a handshake but no request: TCP_INFO
 *   tells) and oldest first, since a real client gets through these in a
 *   few round trips; only when there is no new one at all, the keep-alive
 *   connection idle the longest (Go's transport reuses the most recent idle
 *   connection first, so the oldest is the least likely to be in use).
 *   While no slot can be reclaimed (new ones still within their turn, or
 *   every one in a request), the newcomer is closed at once (per address)
 *   or kept over the limit (the daemon's own limit, a little higher, then
 *   leaves new ones in the listen queue, and the sweep reclaims what it
 *   can 4 times a second). An attacker holding idle sockets therefore cannot keep a fresh
 *   apiserver connection out.
 * - A client that started a request and has not had it answered within
 *   request_timeout_s is disconnected: libmicrohttpd restarts its idle
 *   timeout on every byte, so one sending a byte a second would otherwise
 *   hold its slot for hours (slowloris). Measured with TCP_INFO, from the
 *   sweep that first sees its bytes.
 */
#ifndef CG_SERVER_CONNS_H
#define CG_SERVER_CONNS_H

#include <microhttpd.h>

typedef struct conns_limits {
	unsigned int max_connections;
	unsigned int per_address;
	unsigned int handshake_timeout_s;
	unsigned int request_timeout_s;
} conns_limits;

typedef struct conns conns;

conns *conns_new(const conns_limits *lim);
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

/* Applies the handshake and request deadlines; main thread, 4 times a
 * second. */
void conns_sweep(conns *cs);

/* Closes every connection that is not in a request (at shutdown); returns
 * how many. */
unsigned int conns_close_idle(conns *cs);

#endif
