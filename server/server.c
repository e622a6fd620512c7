#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

static void on_mhd_error(void *cls, const char *fmt, va_list ap) CG_PRINTF(2, 0);
static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	char text[512];
	(void)cls;
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
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS |
			     MHD_USE_ERROR_LOG | MHD_USE_ITC;
	if (s->addr.sa.sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->conns = conns_new();
	if (s->conns == NULL) {
		free(s);
		return cg_error_set(err, ENOMEM, "out of memory");
	}
	/* One thread means no pool: MHD warns about a pool of size 0 or 1, so
	 * the option slot repeats the connection limit instead. */
	enum MHD_OPTION pool =
		cfg->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_CONNECTION_LIMIT;
	unsigned int pool_arg = cfg->threads > 1 ? cfg->threads : cfg->max_connections;
	/* The logger goes first: MHD reports problems with later options. */
	// clang-format off
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handler_request, &s->h,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
		MHD_OPTION_SOCK_ADDR, &s->addr.sa,
		pool, pool_arg,
		MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
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
	MHD_socket fd = MHD_quiesce_daemon(s->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

unsigned int server_in_flight(server *s)
{
	return atomic_load(&s->h.in_flight);
}

void server_sweep(server *s)
{
	conns_sweep(s->conns, s->h.cfg.request_timeout);
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
