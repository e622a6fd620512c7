#include "server/conns.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "server/log.h"
#include "server/memory.h"
#include "server/metrics.h"

typedef struct conn {
	struct conn *prev, *next;
	int fd;
	int mtls_verdict;
	atomic_uint requests_done; /* written by the serving thread */
	atomic_bool in_request;	   /* headers arrived, not yet completed */
	/* The sweep's own view, main thread only. */
	uint64_t seen_bytes;
	unsigned int seen_done;
	int64_t busy_since_ms; /* 0: no request under way */
} conn;

struct conns {
	/* The list is only read by the sweep; a connection leaves it (in the
	 * CLOSED notification) before libmicrohttpd closes its socket, so under
	 * the lock every fd in the list is still that connection's. */
	pthread_mutex_t lock;
	conn *head;
};

conns *conns_new(void)
{
	conns *cs = calloc(1, sizeof(*cs));
	if (cs != NULL)
		pthread_mutex_init(&cs->lock, NULL);
	return cs;
}

void conns_free(conns *cs)
{
	if (cs == NULL)
		return;
	pthread_mutex_destroy(&cs->lock);
	free(cs);
}

void conns_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			 enum MHD_ConnectionNotificationCode toe)
{
	conns *cs = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		conn *n = calloc(1, sizeof(*n));
		*socket_context = n;
		if (n == NULL || ci == NULL) /* untracked: only the idle timeout applies */
			return;
		n->fd = ci->connect_fd;
		pthread_mutex_lock(&cs->lock);
		n->next = cs->head;
		if (cs->head != NULL)
			cs->head->prev = n;
		cs->head = n;
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
	atomic_store_explicit(&n->in_request, false, memory_order_relaxed);
	atomic_fetch_add_explicit(&n->requests_done, 1, memory_order_relaxed);
}

int *conns_mtls_verdict(struct MHD_Connection *c)
{
	conn *n = conn_of(c);
	return n != NULL ? &n->mtls_verdict : NULL;
}

unsigned int conns_sweep(conns *cs, unsigned int deadline_s)
{
	struct timespec t;
	unsigned int closed = 0;
	clock_gettime(CLOCK_MONOTONIC, &t);
	/* +1: never 0, which means "no request under way". */
	int64_t now = (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000 + 1;
	pthread_mutex_lock(&cs->lock);
	for (conn *n = cs->head; n != NULL; n = n->next) {
		struct tcp_info ti = {0};
		socklen_t len = sizeof(ti);
		if (getsockopt(n->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
			continue;
		unsigned int done = atomic_load_explicit(&n->requests_done, memory_order_relaxed);
		bool got_bytes = ti.tcpi_bytes_received != n->seen_bytes;
		bool answered = done != n->seen_done;
		n->seen_bytes = ti.tcpi_bytes_received;
		n->seen_done = done;
		if (answered)
			n->busy_since_ms = 0;
		else if (got_bytes && n->busy_since_ms == 0)
			n->busy_since_ms = now;
		if (n->busy_since_ms == 0 || now - n->busy_since_ms < (int64_t)deadline_s * 1000)
			continue;
		/* shutdown, not close: the fd stays libmicrohttpd's, which sees the
		 * end of the stream and closes the connection itself. */
		shutdown(n->fd, SHUT_RDWR);
		n->busy_since_ms = 0;
		closed++;
	}
	pthread_mutex_unlock(&cs->lock);
	if (closed > 0) {
		metrics_slow_clients_closed(closed);
		log_line l;
		log_begin(&l, "warn", "slow clients disconnected");
		log_int(&l, "connections", closed);
		log_int(&l, "deadline_s", deadline_s);
		log_end(&l);
	}
	return closed;
}
