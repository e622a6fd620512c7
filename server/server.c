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

#include "policy/review.h"
#include "server/conns.h"
#include "server/log.h"
#include "server/memory.h"
#include "server/metrics.h"
#include "server/mtls.h"
#include "server/tlscert.h"

/* Per-connection buffer for request line and headers (the body has its own
 * buffer): big enough for any apiserver request, small enough that 25
 * keep-alive connections per apiserver cost little. */
#define CONN_MEMORY (32u * 1024)

struct server {
	struct MHD_Daemon *daemon;
	conns *conns;
	pstore *policies;
	server_config cfg;
	atomic_bool draining;
	atomic_uint in_flight;
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} addr;
};

enum route { ROUTE_NONE, ROUTE_MUTATE, ROUTE_VALIDATE, ROUTE_HEALTHZ, ROUTE_READYZ, ROUTE_METRICS };
static const char *const route_names[] = {"none",    "mutate", "validate",
					  "healthz", "readyz", "metrics"};

/* One request, from its headers to the completion callback. */
typedef struct request {
	enum route route;
	enum review_endpoint endpoint;
	struct timespec start;
	char *body;
	size_t len, cap;
	bool too_large; /* the body went past the limit: read and dropped */
} request;

static uint64_t micros_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - t0->tv_sec) * 1000000u +
	       (uint64_t)((t.tv_nsec - t0->tv_nsec) / 1000);
}

static enum route route_of(const char *url)
{
	static const struct {
		const char *path;
		enum route r;
	} routes[] = {
		{"/mutate", ROUTE_MUTATE},   {"/validate", ROUTE_VALIDATE},
		{"/healthz", ROUTE_HEALTHZ}, {"/readyz", ROUTE_READYZ},
		{"/metrics", ROUTE_METRICS},
	};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(url, routes[i].path) == 0)
			return routes[i].r;
	return ROUTE_NONE;
}

/* Queues an answer; body is copied unless owned (then freed by MHD). */
static enum MHD_Result respond(server *s, struct MHD_Connection *c, unsigned int status,
			       const char *type, char *body, size_t len, bool owned,
			       const char *allow, bool close)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
	if (r == NULL) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (close || atomic_load_explicit(&s->draining, memory_order_relaxed))
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	metrics_http(status);
	return ret;
}

static enum MHD_Result respond_text(server *s, struct MHD_Connection *c, unsigned int status,
				    const char *text)
{
	return respond(s, c, status, "text/plain; charset=utf-8", (char *)text, strlen(text), false,
		       NULL, false);
}

/* Every refusal is logged with why and answered with the same sentence. */
static enum MHD_Result refuse(server *s, struct MHD_Connection *c, unsigned int status,
			      const char *method, const char *url, const char *allow, bool close,
			      const char *fmt, ...) CG_PRINTF(8, 9);
static enum MHD_Result refuse(server *s, struct MHD_Connection *c, unsigned int status,
			      const char *method, const char *url, const char *allow, bool close,
			      const char *fmt, ...)
{
	char why[600];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(why, sizeof(why) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(why) - 2)
		n = (int)sizeof(why) - 2;
	log_line l;
	log_begin(&l, "warn", "request refused");
	log_int(&l, "status", status);
	log_str(&l, "method", method);
	log_str(&l, "path", url);
	log_str(&l, "error", why);
	log_end(&l);
	why[n++] = '\n';
	return respond(s, c, status, "text/plain; charset=utf-8", why, (size_t)n, false, allow,
		       close);
}

static bool is_json(const char *type)
{
	static const char want[] = "application/json";
	if (type == NULL || strncasecmp(type, want, sizeof(want) - 1) != 0)
		return false;
	char next = type[sizeof(want) - 1];
	return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

static enum MHD_Result answer_get(server *s, struct MHD_Connection *c, enum route route)
{
	if (route == ROUTE_HEALTHZ)
		return respond_text(s, c, MHD_HTTP_OK, "ok\n");
	if (route == ROUTE_READYZ) {
		if (atomic_load(&s->draining))
			return respond_text(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down\n");
		return respond_text(s, c, MHD_HTTP_OK, "ready\n");
	}
	cg_buf b = {0};
	if (metrics_render(&b) < 0) {
		buf_free(&b);
		return respond_text(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	return respond(s, c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len,
		       true, NULL, false);
}

static void log_review(const request *rq, const review_summary *sum, uint64_t us,
		       const cg_error *err)
{
	log_line l;
	log_begin(&l, sum->decision != NULL ? "info" : "warn",
		  sum->decision != NULL ? "review" : "request refused");
	log_str(&l, "endpoint", rq->endpoint == REVIEW_MUTATE ? "mutate" : "validate");
	if (sum->decision == NULL)
		log_int(&l, "status", 400);
	log_str(&l, "uid", sum->uid);
	log_str(&l, "namespace", sum->namespace);
	log_str(&l, "kind", sum->kind);
	log_str(&l, "name", sum->name);
	log_str(&l, "operation", sum->operation);
	if (sum->decision != NULL) {
		log_str(&l, "decision", sum->decision);
		log_int(&l, "patch_ops", sum->patch_ops);
		log_int(&l, "warnings", sum->warnings);
	}
	log_bool(&l, "dry_run", sum->dry_run);
	log_int(&l, "us", (long long)us);
	log_int(&l, "bytes", (long long)rq->len);
	if (err->msg[0] != '\0')
		log_str(&l, "error", err->msg);
	log_end(&l);
}

static enum MHD_Result answer_review(server *s, struct MHD_Connection *c, request *rq)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	review_summary sum = {0};
	cg_error err = {0};
	cg_buf out = {0};
	pstore_ref *ref = pstore_acquire(s->policies);
	int r = review_handle(pstore_policy(ref), rq->endpoint, rq->body ? rq->body : "", rq->len,
			      &out, &sum, &err);
	pstore_release(ref);
	if (r < 0) {
		buf_free(&out);
		sum.decision = NULL;
		if (err.msg[0] == '\0')
			cg_error_set(&err, 0, "not an AdmissionReview");
		uint64_t us = micros_since(&t0);
		metrics_review(rq->endpoint, &sum, us, rq->len);
		log_review(rq, &sum, us, &err);
		char text[sizeof(err.msg) + 1];
		int n = snprintf(text, sizeof(text), "%s\n", err.msg);
		return respond(s, c, MHD_HTTP_BAD_REQUEST, "text/plain; charset=utf-8", text,
			       (size_t)n, false, NULL, false);
	}
	char *body = out.data; /* handed to MHD, which frees it */
	out.data = NULL;
	enum MHD_Result ret =
		respond(s, c, MHD_HTTP_OK, "application/json", body, out.len, true, NULL, false);
	uint64_t us = micros_since(&t0);
	metrics_review(rq->endpoint, &sum, us, rq->len);
	log_review(rq, &sum, us, &err);
	return ret;
}

/* libmicrohttpd 0.9.75 closes the connection after any answer queued on the
 * first call for a request (before it knows the request is complete), so
 * answers wait for the last call and keep the connection; refusals from the
 * headers alone are queued at once, so the body is never read and the
 * connection is closed. */
static enum MHD_Result start_request(server *s, struct MHD_Connection *c, const char *url,
				     const char *method, void **req_cls)
{
	cg_error err = {0};
	enum route route = route_of(url);
	bool review = route == ROUTE_MUTATE || route == ROUTE_VALIDATE;
	/* The kubelet's probes present no client certificate: with mTLS the
	 * health endpoints stay open (they reveal nothing), the rest is refused. */
	bool probe = route == ROUTE_HEALTHZ || route == ROUTE_READYZ;
	if (s->cfg.client_ca_pem != NULL && !probe &&
	    !mtls_allowed(c, s->cfg.client_cn, conns_mtls_verdict(c), &err))
		return refuse(s, c, MHD_HTTP_FORBIDDEN, method, url, NULL, true, "%s", err.msg);
	unsigned long long declared = 0;
	if (route == ROUTE_NONE)
		return refuse(s, c, MHD_HTTP_NOT_FOUND, method, url, NULL, true,
			      "no such endpoint: %s", url);
	if (review && strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return refuse(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, method, url, "POST", true,
			      "%s accepts POST only", url);
	if (!review && strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return refuse(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, method, url, "GET, HEAD", true,
			      "%s accepts GET only", url);
	if (review) {
		const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							       MHD_HTTP_HEADER_CONTENT_TYPE);
		if (!is_json(type))
			return refuse(s, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, method, url, NULL,
				      true, "Content-Type must be application/json, not \"%s\"",
				      type ? type : "");
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		declared = cl != NULL ? strtoull(cl, NULL, 10) : 0;
		if (declared > s->cfg.max_body)
			return refuse(s, c, MHD_HTTP_CONTENT_TOO_LARGE, method, url, NULL, true,
				      "body of %llu bytes is over the limit of %zu", declared,
				      s->cfg.max_body);
	}
	request *rq = calloc(1, sizeof(*rq));
	if (rq == NULL)
		return MHD_NO;
	rq->route = route;
	rq->endpoint = route == ROUTE_MUTATE ? REVIEW_MUTATE : REVIEW_VALIDATE;
	clock_gettime(CLOCK_MONOTONIC, &rq->start);
	/* Content-Length known: one allocation for the whole body. */
	if (declared > 0) {
		rq->body = malloc((size_t)declared + 1);
		if (rq->body == NULL) {
			free(rq);
			return MHD_NO;
		}
		rq->cap = (size_t)declared + 1;
	}
	atomic_fetch_add(&s->in_flight, 1);
	*req_cls = rq;
	return MHD_YES;
}

static bool body_append(request *rq, const char *data, size_t n, size_t max)
{
	if (rq->too_large || n > max - rq->len) {
		rq->too_large = true;
		return true;
	}
	if (rq->len + n + 1 > rq->cap) {
		size_t cap = rq->cap ? rq->cap : 16384;
		while (cap < rq->len + n + 1)
			cap *= 2;
		char *b = realloc(rq->body, cap);
		if (b == NULL)
			return false;
		rq->body = b;
		rq->cap = cap;
	}
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
	rq->body[rq->len] = '\0';
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **req_cls)
{
	server *s = cls;
	request *rq = *req_cls;
	(void)version;
	if (rq == NULL)
		return start_request(s, c, url, method, req_cls);
	if (*upload_size > 0) {
		/* A client trickling a body cannot hold the request forever; the
		 * connection timeout covers one that stops sending at all. */
		if (micros_since(&rq->start) > (uint64_t)s->cfg.request_timeout * 1000000u)
			return MHD_NO;
		/* A GET's body means nothing here and is dropped. */
		size_t max = rq->route == ROUTE_MUTATE || rq->route == ROUTE_VALIDATE
				     ? s->cfg.max_body
				     : 0;
		if (!body_append(rq, upload_data, *upload_size, max))
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->route != ROUTE_MUTATE && rq->route != ROUTE_VALIDATE)
		return answer_get(s, c, rq->route);
	if (rq->too_large)
		return refuse(s, c, MHD_HTTP_CONTENT_TOO_LARGE, method, url, NULL, true,
			      "body is over the limit of %zu bytes", s->cfg.max_body);
	return answer_review(s, c, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	static const char *const why[] = {
		[MHD_REQUEST_TERMINATED_WITH_ERROR] = "error (or the body deadline passed)",
		[MHD_REQUEST_TERMINATED_TIMEOUT_REACHED] = "connection timeout",
		[MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN] = "server shutdown",
		[MHD_REQUEST_TERMINATED_READ_ERROR] = "client closed the connection",
		[MHD_REQUEST_TERMINATED_CLIENT_ABORT] = "client aborted",
	};
	server *s = cls;
	request *rq = *req_cls;
	conns_request_done(c);
	if (rq == NULL)
		return;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
		log_line l;
		log_begin(&l, "warn", "request not answered");
		log_str(&l, "endpoint", route_names[rq->route]);
		log_str(&l, "reason",
			(size_t)toe < sizeof(why) / sizeof(why[0]) && why[toe] ? why[toe]
									       : "unknown");
		log_int(&l, "bytes_received", (long long)rq->len);
		log_end(&l);
	}
	free(rq->body);
	free(rq);
	*req_cls = NULL;
	atomic_fetch_sub(&s->in_flight, 1);
}

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
	s->cfg = *cfg;
	s->policies = policies;
	memory_configure();
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
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
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
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
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
	atomic_store(&s->draining, true);
	MHD_socket fd = MHD_quiesce_daemon(s->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

unsigned int server_in_flight(server *s)
{
	return atomic_load(&s->in_flight);
}

void server_sweep(server *s)
{
	conns_sweep(s->conns, s->cfg.request_timeout);
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
