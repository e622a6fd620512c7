#include "server/conns.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "server/log.h"
#include "server/memory.h"
#include "server/metrics.h"

typedef struct conn {
	struct conn *prev, *next;
	int fd;
	unsigned char addr[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d */
	int mtls_verdict;
	/* Written by the serving thread, read under the lock. */
	atomic_uint requests_done;
	atomic_bool in_request; /* headers arrived, not yet completed */
	_Atomic int64_t idle_since_ms;
	/* Under the lock. */
	int64_t accepted_ms;
	bool closing;	     /* shut down here; libmicrohttpd has yet to close it */
	unsigned char stage; /* how far a new one got, as last seen: see stage_of() */
	int64_t stage_ms;    /* when that stage was first seen */
	/* The sweep's own view, main thread only. */
	uint64_t seen_bytes;
	unsigned int seen_done;
	int64_t busy_since_ms; /* 0: no request under way */
} conn;

struct conns {
	/* A connection leaves the list (in the CLOSED notification) before
	 * libmicrohttpd closes its socket, so under the lock every fd in the
	 * list is still that connection's. */
	pthread_mutex_t lock;
	conn *head, *tail; /* newest first */
	unsigned int live; /* in the list and not closing */
	conns_limits lim;
};

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	/* +1: never 0, which means "not set". */
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000 + 1;
}

conns *conns_new(const conns_limits *lim)
{
	conns *cs = calloc(1, sizeof(*cs));
	if (cs == NULL)
		return NULL;
	pthread_mutex_init(&cs->lock, NULL);
	cs->lim = *lim;
	return cs;
}

void conns_free(conns *cs)
{
	if (cs == NULL)
		return;
	pthread_mutex_destroy(&cs->lock);
	free(cs);
}

static void addr_key(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

/* Under the lock. */
static void shed(conns *cs, conn *n, enum metrics_shed why)
{
	n->closing = true;
	cs->live--;
	/* shutdown, not close: see conns.h. */
	shutdown(n->fd, SHUT_RDWR);
	metrics_connections_shed(why, 1);
}

/* A client gets this long for its turn in the exchange (a round trip and
 * its own work) before it counts as stuck. */
#define TURN_MS 250

/* How far a connection got, from what it and the server have sent (a new
 * one only moves forward, so what was seen is kept, with when it was first
 * seen):
 *   0  the client sent nothing (a bare TCP connection)
 *   1  it sent something, the server nothing yet (part of a ClientHello)
 *   2  the server answered: a handshake under way or done, no request yet
 *   3  it had a request answered: an idle keep-alive connection
 * Under the lock. */
static void set_stage(conn *n, const struct tcp_info *ti, int64_t now)
{
	int st = ti->tcpi_bytes_received == 0 ? 0 : ti->tcpi_bytes_sent == 0 ? 1 : 2;
	if (st > n->stage || n->stage_ms == 0) {
		n->stage = (unsigned char)st;
		n->stage_ms = now;
	}
}

static int stage_of(conn *n, int64_t now)
{
	if (atomic_load_explicit(&n->requests_done, memory_order_relaxed) > 0)
		return 3;
	if (n->stage < 2) {
		struct tcp_info ti = {0};
		socklen_t len = sizeof(ti);
		if (getsockopt(n->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
			set_stage(n, &ti, now);
	}
	return n->stage;
}

/* Whether it is the client's turn and it has let it pass: its stage has
 * not moved for TURN_MS and every byte it sent has been read. Bytes still
 * waiting in the socket mean the server has not got to it yet (a real
 * client's ClientHello, or its next request, on a busy server): that is
 * not the client's doing. */
static bool stuck(const conn *n, int64_t since, int64_t now)
{
	int pending = 0;
	return now - since >= TURN_MS && ioctl(n->fd, FIONREAD, &pending) == 0 && pending == 0;
}

static bool can_reclaim(const conn *n, const conn *except, const unsigned char *addr)
{
	return n != except && !n->closing &&
	       !atomic_load_explicit(&n->in_request, memory_order_relaxed) &&
	       (addr == NULL || memcmp(n->addr, addr, 16) == 0);
}

/* The connection to reclaim a slot from (under the lock): not in a
 * request, not `except`, from `addr` when it is not NULL, stuck. The new
 * ones that got least far first, oldest first (walking from the tail);
 * then, only when there is no new one at all, the keep-alive one idle the
 * longest: new ones still within their turn will either send a request or
 * be taken at a later look (the sweep's), and an apiserver's idle pool
 * must not pay for a burst of fresh sockets. NULL: none now. */
static conn *pick_idle(conns *cs, const conn *except, const unsigned char *addr)
{
	int64_t now = now_ms();
	bool new_ones = false;
	/* From the stage last seen (the sweep looks at every connection 4
	 * times a second): no system call for the many that cannot be taken,
	 * which keeps accepting fast under a flood; a candidate is looked at
	 * again before it is taken. */
	for (int stage = 0; stage < 3; stage++)
		for (conn *n = cs->tail; n != NULL; n = n->prev) {
			if (!can_reclaim(n, except, addr) ||
			    atomic_load_explicit(&n->requests_done, memory_order_relaxed) > 0 ||
			    n->stage != stage)
				continue;
			new_ones = true;
			if (now - n->stage_ms >= TURN_MS && stage_of(n, now) == stage &&
			    stuck(n, n->stage_ms, now))
				return n;
		}
	if (new_ones)
		return NULL;
	conn *best = NULL;
	int64_t best_t = INT64_MAX;
	for (conn *n = cs->head; n != NULL; n = n->next) {
		if (!can_reclaim(n, except, addr) ||
		    atomic_load_explicit(&n->requests_done, memory_order_relaxed) == 0)
			continue;
		int64_t t = atomic_load_explicit(&n->idle_since_ms, memory_order_relaxed);
		if (t < best_t && stuck(n, t, now)) {
			best = n;
			best_t = t;
		}
	}
	return best;
}

/* A new connection n (under the lock): the address limit, then the
 * server's. */
static void admit(conns *cs, conn *n)
{
	unsigned int same = 0;
	for (conn *o = cs->head; o != NULL; o = o->next)
		same += !o->closing && memcmp(o->addr, n->addr, 16) == 0;
	if (cs->lim.per_address > 0 && same > cs->lim.per_address) {
		conn *v = pick_idle(cs, n, n->addr);
		if (v == NULL) {
			shed(cs, n, SHED_ADDRESS_REFUSED);
			return;
		}
		shed(cs, v, SHED_ADDRESS_RECLAIMED);
	}
	if (cs->live > cs->lim.max_connections) {
		conn *v = pick_idle(cs, n, NULL);
		if (v != NULL)
			shed(cs, v, SHED_RECLAIMED);
	}
}

void conns_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			 enum MHD_ConnectionNotificationCode toe)
{
	conns *cs = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *ad =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		conn *n = calloc(1, sizeof(*n));
		*socket_context = n;
		if (n == NULL || fd == NULL) /* untracked: only the idle timeout applies */
			return;
		n->fd = fd->connect_fd;
		addr_key(ad != NULL ? ad->client_addr : NULL, n->addr);
		n->accepted_ms = now_ms();
		n->stage_ms = n->accepted_ms;
		pthread_mutex_lock(&cs->lock);
		n->next = cs->head;
		if (cs->head != NULL)
			cs->head->prev = n;
		else
			cs->tail = n;
		cs->head = n;
		cs->live++;
		admit(cs, n);
		metrics_connections_open(cs->live);
		pthread_mutex_unlock(&cs->lock);
		return;
	}
	memory_connection_closed();
	conn *n = *socket_context;
	if (n == NULL)
		return;
	pthread_mutex_lock(&cs->lock);
	if (n->prev != NULL)
		n->prev->next = n->next;
	else if (cs->head == n)
		cs->head = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	else if (cs->tail == n)
		cs->tail = n->prev;
	if (!n->closing)
		cs->live--;
	metrics_connections_open(cs->live);
	pthread_mutex_unlock(&cs->lock);
	free(n);
	*socket_context = NULL;
}

static conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

void conns_request_started(struct MHD_Connection *c)
{
	conn *n = conn_of(c);
	if (n != NULL)
		atomic_store_explicit(&n->in_request, true, memory_order_relaxed);
}

void conns_request_done(struct MHD_Connection *c)
{
	conn *n = conn_of(c);
	if (n == NULL)
		return;
	atomic_store_explicit(&n->idle_since_ms, now_ms(), memory_order_relaxed);
	atomic_fetch_add_explicit(&n->requests_done, 1, memory_order_relaxed);
	atomic_store_explicit(&n->in_request, false, memory_order_relaxed);
}

int *conns_mtls_verdict(struct MHD_Connection *c)
{
	conn *n = conn_of(c);
	return n != NULL ? &n->mtls_verdict : NULL;
}

/* Whether n's request has been under way for the request deadline (main
 * thread, under the lock). */
static bool request_overdue(conns *cs, conn *n, int64_t now)
{
	struct tcp_info ti = {0};
	socklen_t len = sizeof(ti);
	if (getsockopt(n->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return false;
	if (n->stage < 2)
		set_stage(n, &ti, now);
	unsigned int done = atomic_load_explicit(&n->requests_done, memory_order_relaxed);
	bool got_bytes = ti.tcpi_bytes_received != n->seen_bytes;
	bool answered = done != n->seen_done;
	n->seen_bytes = ti.tcpi_bytes_received;
	n->seen_done = done;
	if (answered)
		n->busy_since_ms = 0;
	else if (got_bytes && n->busy_since_ms == 0)
		n->busy_since_ms = now;
	return n->busy_since_ms != 0 &&
	       now - n->busy_since_ms >= (int64_t)cs->lim.request_timeout_s * 1000;
}

void conns_sweep(conns *cs)
{
	int64_t now = now_ms();
	unsigned int slow = 0;
	pthread_mutex_lock(&cs->lock);
	for (conn *n = cs->head; n != NULL; n = n->next) {
		if (n->closing)
			continue;
		/* The handshake and the first request's headers: counted from
		 * the accept, whatever arrives meanwhile. */
		if (atomic_load_explicit(&n->requests_done, memory_order_relaxed) == 0 &&
		    !atomic_load_explicit(&n->in_request, memory_order_relaxed) &&
		    now - n->accepted_ms >= (int64_t)cs->lim.handshake_timeout_s * 1000) {
			shed(cs, n, SHED_HANDSHAKE_TIMEOUT);
			continue;
		}
		if (request_overdue(cs, n, now)) {
			n->closing = true;
			cs->live--;
			shutdown(n->fd, SHUT_RDWR);
			slow++;
		}
	}
	/* Connections that arrived while no slot could be reclaimed (all were
	 * new) are over the limit; by now some have had their turn. While the
	 * daemon's own limit is reached it accepts nothing, so this is also
	 * what lets the listen queue move. */
	while (cs->live > cs->lim.max_connections) {
		conn *v = pick_idle(cs, NULL, NULL);
		if (v == NULL)
			break;
		shed(cs, v, SHED_RECLAIMED);
	}
	metrics_connections_open(cs->live);
	pthread_mutex_unlock(&cs->lock);
	if (slow > 0) {
		metrics_slow_clients_closed(slow);
		log_line l;
		log_begin(&l, "warn", "slow clients disconnected");
		log_int(&l, "connections", slow);
		log_int(&l, "deadline_s", cs->lim.request_timeout_s);
		log_end(&l);
	}
}

unsigned int conns_close_idle(conns *cs)
{
	unsigned int closed = 0;
	pthread_mutex_lock(&cs->lock);
	for (conn *n = cs->head; n != NULL; n = n->next) {
		if (n->closing || atomic_load_explicit(&n->in_request, memory_order_relaxed))
			continue;
		shed(cs, n, SHED_SHUTDOWN_IDLE);
		closed++;
	}
	metrics_connections_open(cs->live);
	pthread_mutex_unlock(&cs->lock);
	return closed;
}
