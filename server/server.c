#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/budget.h"
#include "server/conns.h"
#include "server/handler.h"
#include "server/log.h"
#include "server/memory.h"
#include "server/tlscert.h"

/* Per-connection buffer for request line and headers (the body has its own
 * buffer): big enough for any apiserver request, small enough that 25
 * keep-alive connections per apiserver cost little. */
#define CONN_MEMORY (32u * 1024)

struct server {
	struct MHD_Daemon *daemon;
	conns *conns;
	handler h;
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} addr;
};

/* libmicrohttpd reports every failed handshake; a flood of sockets shed
 * by conns.c fails thousands a second. At most LOG_BURST of its lines a
 * second are written, then one line says how many were left out. */
#define LOG_BURST 100

static void on_mhd_error(void *cls, const char *fmt, va_list ap) CG_PRINTF(2, 0);
static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static time_t second;
	static unsigned int lines, dropped;
	(void)cls;
	time_t now = time(NULL);
	unsigned int skipped = 0;
	bool write_it;
	pthread_mutex_lock(&lock);
	if (now != second) {
		skipped = dropped;
		second = now;
		lines = dropped = 0;
	}
	write_it = lines < LOG_BURST;
	if (write_it)
		lines++;
	else
		dropped++;
	pthread_mutex_unlock(&lock);
	if (skipped > 0)
		log_msgf("warn", "libmicrohttpd", "%u more messages in the last second not logged",
			 skipped);
	if (!write_it)
		return;
	char text[512];
	vsnprintf(text, sizeof(text), fmt, ap);
	size_t n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '.'))
		text[--n] = '\0';
	log_msg("warn", "libmicrohttpd", text);
}

static int parse_listen(server *s, const char *listen, cg_error *err)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	if (colon == NULL || colon == listen || (size_t)(colon - listen) >= sizeof(host))
		return cg_error_set(err, 0, "--listen %s: expected ADDR:PORT", listen);
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port > 65535)
		return cg_error_set(err, 0, "--listen %s: bad port", listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	size_t hl = strlen(host);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		s->addr.in6.sin6_family = AF_INET6;
		s->addr.in6.sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &s->addr.in6.sin6_addr) == 1)
			return 0;
	} else {
		s->addr.in4.sin_family = AF_INET;
		s->addr.in4.sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &s->addr.in4.sin_addr) == 1)
			return 0;
	}
	return cg_error_set(err, 0, "--listen %s: \"%s\" is not an IP address", listen, host);
}

/* Every connection is a file descriptor. Containers often start with a
 * soft limit of 1024 and a far higher hard one: raise the soft one, as Go
 * programs do at start-up. */
static int raise_nofile(unsigned int need, cg_error *err)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return cg_error_set(err, errno, "getrlimit: %s", strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
		return cg_error_set(err, 0,
				    "--max-connections needs %u open files, the limit is %llu: "
				    "lower it or raise the limit",
				    need, (unsigned long long)rl.rlim_max);
	return 0;
}

int server_start(const server_config *cfg, pstore *policies, server **out, cg_error *err)
{
	gnutls_priority_t prio;
	const char *bad = NULL;
	if (gnutls_priority_init(&prio, cfg->priorities, &bad) < 0)
		return cg_error_set(err, 0, "--tls-priorities: invalid at \"%s\"",
				    bad ? bad : cfg->priorities);
	gnutls_priority_deinit(prio);
	server *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return cg_error_set(err, ENOMEM, "out of memory");
	s->h.cfg = *cfg;
	s->h.policies = policies;
	memory_configure();
	budget_set_limit(cfg->memory_budget);
	if (parse_listen(s, cfg->listen, err) < 0) {
		free(s);
		return -1;
	}
	/* poll(2), not epoll: libmicrohttpd 0.9.75's epoll loop (and its later
	 * versions') calls epoll_wait() again, with the same timeout, whenever
	 * one call returned its maximum of 128 events, before it serves them;
	 * with nothing new to report that second wait lasts until the
	 * earliest connection timeout (up to --timeout, 120 s). 128 requests
	 * arriving at once on one thread then wait that long: seen in the
	 * hostile suite (256 requests at once over 2 threads: 128 each),
	 * answered only when the handshake deadline closed them 10 s later.
	 * poll() serves every ready connection of each wake-up; at the
	 * connection limits here (a few hundred per thread) its cost per call
	 * is a few microseconds. */
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_TLS |
			     MHD_USE_ERROR_LOG | MHD_USE_ITC;
	if (s->addr.sa.sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* Past --max-connections, conns.c reclaims idle slots; the daemon's
	 * own limit, a little higher, holds the connections that arrive while
	 * every slot is in a request (then new ones wait in the listen queue). */
	unsigned int hard = cfg->max_connections + cfg->max_connections / 8 + 16;
	if (raise_nofile(hard + 64, err) < 0) {
		free(s);
		return -1;
	}
	conns_limits lim = {
		.max_connections = cfg->max_connections,
		.per_address = cfg->max_per_address,
		.handshake_timeout_s = cfg->handshake_timeout,
		.request_timeout_s = cfg->request_timeout,
	};
	s->conns = conns_new(&lim);
	if (s->conns == NULL) {
		free(s);
		return cg_error_set(err, ENOMEM, "out of memory");
	}
	/* One thread means no pool: MHD warns about a pool of size 0 or 1, so
	 * the option slot repeats the connection limit instead. */
	enum MHD_OPTION pool =
		cfg->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_CONNECTION_LIMIT;
	unsigned int pool_arg = cfg->threads > 1 ? cfg->threads : hard;
	/* The logger goes first: MHD reports problems with later options. */
	// clang-format off
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handler_request, &s->h,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
		MHD_OPTION_SOCK_ADDR, &s->addr.sa,
		pool, pool_arg,
		MHD_OPTION_CONNECTION_LIMIT, hard,
		MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
		MHD_OPTION_HTTPS_PRIORITIES, cfg->priorities,
		MHD_OPTION_HTTPS_CERT_CALLBACK, tlscert_retrieve,
		MHD_OPTION_HTTPS_MEM_TRUST, cfg->client_ca_pem,
		MHD_OPTION_NOTIFY_CONNECTION, conns_on_connection, s->conns,
		MHD_OPTION_NOTIFY_COMPLETED, handler_completed, &s->h,
		MHD_OPTION_END);
	// clang-format on
	if (s->daemon == NULL) {
		conns_free(s->conns);
		free(s);
		return cg_error_set(err, 0, "cannot serve on %s (address in use, or see the log)",
				    cfg->listen);
	}
	*out = s;
	return 0;
}

unsigned int server_port(const server *s)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	return i != NULL ? i->port : 0;
}

void server_drain(server *s)
{
	atomic_store(&s->h.draining, true);
}

unsigned int server_stop_accepting(server *s)
{
	/* First the socket, so no connection arrives after the idle ones are
	 * closed. */
	MHD_socket fd = MHD_quiesce_daemon(s->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	return conns_close_idle(s->conns);
}

unsigned int server_in_flight(server *s)
{
	return atomic_load(&s->h.in_flight);
}

void server_sweep(server *s)
{
	conns_sweep(s->conns);
	memory_tick();
}

unsigned int server_connections(server *s)
{
	const union MHD_DaemonInfo *i =
		MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return i != NULL ? i->num_connections : 0;
}

void server_stop(server *s)
{
	if (s == NULL)
		return;
	MHD_stop_daemon(s->daemon);
	conns_free(s->conns);
	free(s);
}
