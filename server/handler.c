#include "server/handler.h"

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/arena.h"
#include "common/budget.h"
#include "server/conns.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/mtls.h"
#include "server/review.h"

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
	size_t held; /* of the memory budget, for the body */
	/* A refusal decided before the body was read (status 0: none); the
	 * body is dropped as it arrives and the refusal answers it. */
	unsigned int refusal;
	const char *hname, *hvalue; /* one header it carries (Allow, Retry-After) */
	size_t dropped;
	char why[600];
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

static bool is_review(enum route r)
{
	return r == ROUTE_MUTATE || r == ROUTE_VALIDATE;
}

/* An answer's buffer counts against the memory budget until it is sent. */
static void free_answer(void *buf)
{
	budget_give(malloc_usable_size(buf));
	free(buf);
}

#define TEXT_PLAIN "text/plain; charset=utf-8"

/* One answer to queue: named fields rather than positional flags. */
typedef struct answer {
	unsigned int status;
	const char *type; /* Content-Type */
	char *body;
	size_t len;
	bool owned;	    /* body is malloc'd and handed over (freed once sent); else copied */
	bool close;	    /* Connection: close after it (also while draining) */
	const char *hname;  /* one more header (Allow, Retry-After), or NULL */
	const char *hvalue; /* its value */
} answer;

/* Queues an answer. */
static enum MHD_Result respond(handler *h, struct MHD_Connection *c, const answer *a)
{
	struct MHD_Response *r;
	if (a->owned) {
		budget_charge(malloc_usable_size(a->body));
		r = MHD_create_response_from_buffer_with_free_callback_cls(a->len, a->body,
									   free_answer, a->body);
	} else {
		r = MHD_create_response_from_buffer(a->len, a->body, MHD_RESPMEM_MUST_COPY);
	}
	if (r == NULL) {
		if (a->owned)
			free_answer(a->body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
	if (a->hname != NULL)
		MHD_add_response_header(r, a->hname, a->hvalue);
	if (a->close || atomic_load_explicit(&h->draining, memory_order_relaxed))
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ret = MHD_queue_response(c, a->status, r);
	MHD_destroy_response(r);
	metrics_http(a->status);
	return ret;
}

static enum MHD_Result respond_text(handler *h, struct MHD_Connection *c, unsigned int status,
				    const char *text)
{
	return respond(h, c,
		       &(answer){.status = status,
				 .type = TEXT_PLAIN,
				 .body = (char *)text,
				 .len = strlen(text)});
}

/* Every refusal is logged with why and answered with the same sentence;
 * the connection is closed after it. */
static enum MHD_Result send_refusal(handler *h, struct MHD_Connection *c, unsigned int status,
				    const char *method, const char *url, const char *hname,
				    const char *hvalue, const char *why)
{
	log_line l;
	log_begin(&l, "warn", "request refused");
	log_int(&l, "status", status);
	log_str(&l, "method", method);
	log_str(&l, "path", url);
	log_str(&l, "error", why);
	log_end(&l);
	char text[sizeof(((request *)0)->why) + 1];
	int n = snprintf(text, sizeof(text), "%s\n", why);
	return respond(h, c,
		       &(answer){.status = status,
				 .type = TEXT_PLAIN,
				 .body = text,
				 .len = (size_t)n,
				 .close = true,
				 .hname = hname,
				 .hvalue = hvalue});
}

static void set_refusal(request *rq, unsigned int status, const char *allow, const char *fmt, ...)
	CG_PRINTF(4, 5);
static void set_refusal(request *rq, unsigned int status, const char *allow, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rq->why, sizeof(rq->why), fmt, ap);
	va_end(ap);
	rq->refusal = status;
	rq->hname = allow != NULL ? MHD_HTTP_HEADER_ALLOW : NULL;
	rq->hvalue = allow;
}

/* The budget is spent by requests in flight: the client is told to come
 * back in a second. kube-apiserver's REST client retries a 429 or 5xx that
 * carries Retry-After (client-go checkWait), within the webhook's timeout. */
static void refuse_budget(request *rq, const char *stage)
{
	metrics_memory_refused(stage);
	set_refusal(rq, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
		    "the memory budget for requests in flight (%zu bytes, --memory-budget) is in "
		    "use: retry",
		    budget_limit());
	rq->hname = MHD_HTTP_HEADER_RETRY_AFTER;
	rq->hvalue = "1";
}

static bool is_json(const char *type)
{
	static const char want[] = "application/json";
	if (type == NULL || strncasecmp(type, want, sizeof(want) - 1) != 0)
		return false;
	char next = type[sizeof(want) - 1];
	return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

static enum MHD_Result answer_get(handler *h, struct MHD_Connection *c, enum route route)
{
	if (route == ROUTE_HEALTHZ)
		return respond_text(h, c, MHD_HTTP_OK, "ok\n");
	if (route == ROUTE_READYZ) {
		if (atomic_load(&h->draining))
			return respond_text(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down\n");
		return respond_text(h, c, MHD_HTTP_OK, "ready\n");
	}
	cg_buf b = {0};
	if (metrics_render(&b) < 0) {
		buf_free(&b);
		return respond_text(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	return respond(h, c,
		       &(answer){.status = MHD_HTTP_OK,
				 .type = "text/plain; version=0.0.4; charset=utf-8",
				 .body = b.data,
				 .len = b.len,
				 .owned = true});
}

static void log_review(const request *rq, const review_summary *sum, uint64_t us,
		       const cg_error *err)
{
	log_line l;
	log_begin(&l, sum->decision != NULL ? "info" : "warn",
		  sum->decision != NULL ? "review" : "request refused");
	log_str(&l, "endpoint", rq->endpoint == REVIEW_MUTATE ? "mutate" : "validate");
	if (sum->decision == NULL)
		log_int(&l, "status", err->code == ENOMEM ? 500 : 400);
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

/* A body that is not kept: counted, then forgotten. */
static void drop_body(request *rq)
{
	free(rq->body);
	budget_give(rq->held);
	rq->body = NULL;
	rq->dropped += rq->len;
	rq->len = rq->cap = rq->held = 0;
}

static enum MHD_Result answer_review(handler *h, struct MHD_Connection *c, request *rq,
				     const char *method, const char *url)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	review_summary sum = {0};
	cg_error err = {0};
	cg_buf out = {0};
	pstore_ref *ref = pstore_acquire(h->policies);
	int r = review_handle(pstore_policy(ref), rq->endpoint, rq->body ? rq->body : "", rq->len,
			      &out, &sum, &err);
	pstore_release(ref);
	/* The arena ran out of budget: the engine answered onError, as for a
	 * review too big to judge at all. That answer stands when this request
	 * alone went past what the budget gives one request; when others held
	 * part of it, that is no reason to deny, and the client is told to
	 * retry instead (alone, it either fits or gets the onError answer). */
	size_t own = rq->held + arena_refused();
	if (arena_refused() > 0 && own <= budget_cap(own)) {
		buf_free(&out);
		drop_body(rq);
		refuse_budget(rq, "arena");
		return send_refusal(h, c, rq->refusal, method, url, rq->hname, rq->hvalue, rq->why);
	}
	if (r < 0) {
		/* review_handle fills err on every failure: out of memory is
		 * the server's fault (500), anything else the body's (400). */
		buf_free(&out);
		sum.decision = NULL;
		uint64_t us = micros_since(&t0);
		metrics_review(rq->endpoint, &sum, us, rq->len);
		log_review(rq, &sum, us, &err);
		char text[sizeof(err.msg) + 1];
		int n = snprintf(text, sizeof(text), "%s\n", err.msg);
		return respond(h, c,
			       &(answer){.status = err.code == ENOMEM
							   ? MHD_HTTP_INTERNAL_SERVER_ERROR
							   : MHD_HTTP_BAD_REQUEST,
					 .type = TEXT_PLAIN,
					 .body = text,
					 .len = (size_t)n});
	}
	char *body = out.data; /* handed to MHD, which frees it */
	out.data = NULL;
	enum MHD_Result ret = respond(h, c,
				      &(answer){.status = MHD_HTTP_OK,
						.type = "application/json",
						.body = body,
						.len = out.len,
						.owned = true});
	uint64_t us = micros_since(&t0);
	metrics_review(rq->endpoint, &sum, us, rq->len);
	log_review(rq, &sum, us, &err);
	return ret;
}

/* The refusals known from the headers alone, in the order they are
 * checked; 0 when the request may go on. */
static unsigned int judge_headers(handler *h, struct MHD_Connection *c, request *rq,
				  const char *url, const char *method, unsigned long long declared)
{
	cg_error err = {0};
	bool review = is_review(rq->route);
	/* The kubelet's probes present no client certificate: with mTLS the
	 * health endpoints stay open (they reveal nothing), the rest is refused. */
	bool probe = rq->route == ROUTE_HEALTHZ || rq->route == ROUTE_READYZ;
	if (h->cfg.client_ca_pem != NULL && !probe &&
	    !mtls_allowed(c, h->cfg.client_cn, conns_mtls_verdict(c), &err))
		set_refusal(rq, MHD_HTTP_FORBIDDEN, NULL, "%s", err.msg);
	else if (rq->route == ROUTE_NONE)
		set_refusal(rq, MHD_HTTP_NOT_FOUND, NULL, "no such endpoint: %s", url);
	else if (review && strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		set_refusal(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "POST", "%s accepts POST only", url);
	else if (!review && strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
		 strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		set_refusal(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "GET, HEAD", "%s accepts GET only",
			    url);
	else if (review) {
		const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							       MHD_HTTP_HEADER_CONTENT_TYPE);
		if (!is_json(type))
			set_refusal(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, NULL,
				    "Content-Type must be application/json, not \"%s\"",
				    type ? type : "");
		else if (declared > h->cfg.max_body)
			set_refusal(rq, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
				    "body of %llu bytes is over the limit of %zu", declared,
				    h->cfg.max_body);
		/* The whole declared body, now or not at all: taken bit by bit
		 * as bytes arrive, concurrent bodies would each hold a part and
		 * all be refused, again on every retry. A client that declares
		 * a big body and sends it slowly holds that much until
		 * --request-timeout; the budget's last eighth stays for small
		 * requests (common/budget.h). */
		else if (declared > 0 && !budget_take((size_t)declared, (size_t)declared))
			refuse_budget(rq, "body");
		else
			rq->held = (size_t)declared;
	}
	return rq->refusal;
}

/* A client that asked `Expect: 100-continue` waits for the answer before it
 * sends its body: answering at once costs it nothing. */
static bool expects_continue(struct MHD_Connection *c)
{
	const char *e = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
	return e != NULL && strcasecmp(e, "100-continue") == 0;
}

static size_t drop_limit(const handler *h)
{
	return h->cfg.max_body * 2;
}

/* libmicrohttpd 0.9.75 closes the connection after any answer queued on the
 * first call for a request (before it knows the request is complete), so
 * answers, refusals included, wait for the last call (handler.h). */
static enum MHD_Result start_request(handler *h, struct MHD_Connection *c, const char *url,
				     const char *method, void **req_cls)
{
	request *rq = calloc(1, sizeof(*rq));
	if (rq == NULL)
		return MHD_NO;
	rq->route = route_of(url);
	rq->endpoint = rq->route == ROUTE_MUTATE ? REVIEW_MUTATE : REVIEW_VALIDATE;
	clock_gettime(CLOCK_MONOTONIC, &rq->start);
	const char *cl =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long declared = cl != NULL ? strtoull(cl, NULL, 10) : 0;
	if (judge_headers(h, c, rq, url, method, declared) != 0) {
		if (declared > drop_limit(h) || expects_continue(c)) {
			request copy = *rq;
			free(rq);
			return send_refusal(h, c, copy.refusal, method, url, copy.hname,
					    copy.hvalue, copy.why);
		}
	} else if (is_review(rq->route) && declared > 0) {
		/* Content-Length known: one allocation for the whole body. */
		rq->body = malloc((size_t)declared + 1);
		if (rq->body == NULL) {
			budget_give(rq->held);
			free(rq);
			return MHD_NO;
		}
		rq->cap = (size_t)declared + 1;
	}
	conns_request_started(c);
	atomic_fetch_add(&h->in_flight, 1);
	*req_cls = rq;
	return MHD_YES;
}

enum body_result { BODY_OK, BODY_TOO_LARGE, BODY_NO_BUDGET, BODY_NO_MEMORY };

static enum body_result body_append(request *rq, const char *data, size_t n, size_t max)
{
	if (n > max - rq->len)
		return BODY_TOO_LARGE;
	/* A chunked body (no Content-Length) is taken as it arrives. */
	size_t need = rq->len + n;
	if (need > rq->held) {
		if (!budget_take(need - rq->held, need))
			return BODY_NO_BUDGET;
		rq->held = need;
	}
	if (rq->len + n + 1 > rq->cap) {
		size_t cap = rq->cap ? rq->cap : 16384;
		while (cap < rq->len + n + 1)
			cap *= 2;
		char *b = realloc(rq->body, cap);
		if (b == NULL)
			return BODY_NO_MEMORY;
		rq->body = b;
		rq->cap = cap;
	}
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
	rq->body[rq->len] = '\0';
	return BODY_OK;
}

enum MHD_Result handler_request(void *cls, struct MHD_Connection *c, const char *url,
				const char *method, const char *version, const char *upload_data,
				size_t *upload_size, void **req_cls)
{
	handler *h = cls;
	request *rq = *req_cls;
	(void)version;
	if (rq == NULL)
		return start_request(h, c, url, method, req_cls);
	if (*upload_size > 0) {
		/* A client trickling a body cannot hold the request forever; the
		 * connection timeout covers one that stops sending at all. */
		if (micros_since(&rq->start) > (uint64_t)h->cfg.request_timeout * 1000000u)
			return MHD_NO;
		size_t n = *upload_size;
		*upload_size = 0;
		if (rq->refusal == 0 && is_review(rq->route)) {
			switch (body_append(rq, upload_data, n, h->cfg.max_body)) {
			case BODY_OK:
				return MHD_YES;
			case BODY_NO_MEMORY:
				return MHD_NO;
			case BODY_TOO_LARGE: /* chunked: refused like a declared one */
				set_refusal(rq, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
					    "body is over the limit of %zu bytes", h->cfg.max_body);
				break;
			case BODY_NO_BUDGET:
				refuse_budget(rq, "body");
				break;
			}
			drop_body(rq);
		}
		/* A GET's body means nothing here; a refused request's is dropped,
		 * up to a limit past which the client is cut off. */
		rq->dropped += n;
		return rq->dropped > drop_limit(h) ? MHD_NO : MHD_YES;
	}
	if (rq->refusal != 0)
		return send_refusal(h, c, rq->refusal, method, url, rq->hname, rq->hvalue, rq->why);
	if (!is_review(rq->route))
		return answer_get(h, c, rq->route);
	return answer_review(h, c, rq, method, url);
}

void handler_completed(void *cls, struct MHD_Connection *c, void **req_cls,
		       enum MHD_RequestTerminationCode toe)
{
	static const char *const why[] = {
		[MHD_REQUEST_TERMINATED_WITH_ERROR] = "error (or the body deadline passed)",
		[MHD_REQUEST_TERMINATED_TIMEOUT_REACHED] = "connection timeout",
		[MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN] = "server shutdown",
		[MHD_REQUEST_TERMINATED_READ_ERROR] = "client closed the connection",
		[MHD_REQUEST_TERMINATED_CLIENT_ABORT] = "client aborted",
	};
	handler *h = cls;
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
		log_int(&l, "bytes_received", (long long)(rq->len + rq->dropped));
		log_end(&l);
	}
	drop_body(rq);
	free(rq);
	*req_cls = NULL;
	atomic_fetch_sub(&h->in_flight, 1);
}
