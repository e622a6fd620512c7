/* The webhook as a process: the main thread's life after the options are
 * read (cli/serve.c reads them). It owns signals and file watching while
 * libmicrohttpd's threads serve. */
#include "server/serve.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/buf.h"
#include "server/log.h"
#include "server/tlscert.h"

/* The main loop wakes every TICK_MS to disconnect slow clients (so they
 * are cut within a quarter second of --request-timeout) and looks for file
 * changes every POLL_TICKS ticks, once a second: within the 2 s promised
 * for policies and far within the 10 s for certificates. */
#define TICK_MS	   250
#define POLL_TICKS 4
/* After SIGTERM and --shutdown-delay: requests under way are answered
 * until none has been seen for DRAIN_IDLE_MS, and for at most DRAIN_MAX_MS,
 * inside Kubernetes' default 30 s grace period. */
#define DRAIN_IDLE_MS 1000
#define DRAIN_MAX_MS  20000

void serve_defaults(serve_opts *o)
{
	*o = (serve_opts){0};
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	/* Kubernetes removes a terminating pod from its Service's endpoints at
	 * once, but kube-proxy on each node (the apiserver reaches the webhook
	 * through the Service) takes a moment, usually a second or two. */
	o->shutdown_delay = 5;
	o->srv = (server_config){
		.listen = "0.0.0.0:8443",
		.priorities = SERVE_DEFAULT_PRIORITIES,
		.max_body = 8u << 20,
		/* The Deployment's limit is 256 MiB: the process takes about 8,
		 * 1024 TLS connections about 45, and the rest is slack for what
		 * malloc keeps and the budget does not count. */
		.memory_budget = (size_t)128 << 20,
		.threads = cores < 1	? 1
			   : cores > 64 ? 64
					: (unsigned int)cores,
		.max_connections = 1024,
		/* kube-apiserver keeps up to 25 idle connections per webhook host
		 * and opens more while busy; several apiservers may reach the
		 * webhook through one proxy or NAT address. */
		.max_per_address = 256,
		/* The apiserver sends its request as soon as it has connected; Go's
		 * client gives its own handshake 10 s. */
		.handshake_timeout = 10,
		/* Longer than the apiserver's 90 s idle timeout: the client closes
		 * idle connections first, so it never sends a review on one that
		 * the server is closing at that moment. */
		.timeout = 120,
		.request_timeout = 30,
	};
}

/* The client CA bundle is handed to GnuTLS as text; it is parsed here first
 * so a wrong file is reported by name, not as a failed daemon start. */
static int read_client_ca(const char *path, cg_buf *pem, cg_error *err)
{
	gnutls_datum_t data = {0};
	gnutls_x509_crt_t *crts = NULL;
	unsigned int n = 0;
	int g = gnutls_load_file(path, &data);
	if (g < 0)
		return cg_error_set(err, 0, "--client-ca %s: %s", path, gnutls_strerror(g));
	g = gnutls_x509_crt_list_import2(&crts, &n, &data, GNUTLS_X509_FMT_PEM, 0);
	if (g >= 0 && n == 0)
		g = GNUTLS_E_NO_CERTIFICATE_FOUND;
	if (g >= 0) {
		for (unsigned int i = 0; i < n; i++)
			gnutls_x509_crt_deinit(crts[i]);
		gnutls_free(crts);
		if (buf_append(pem, data.data, data.size) < 0)
			g = GNUTLS_E_MEMORY_ERROR;
	}
	gnutls_free(data.data);
	if (g < 0)
		return cg_error_set(err, 0, "--client-ca %s: no PEM certificate: %s", path,
				    gnutls_strerror(g));
	return 0;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* SIGTERM: see server_drain() for why the server goes on serving for
 * shutdown_delay_s first. A second SIGTERM or SIGINT cuts the delay short. */
static void drain(server *s, unsigned int shutdown_delay_s, sigset_t *sigs)
{
	struct timespec t0, tick = {0, 20 * 1000000};
	long idle_ms = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	server_drain(s);
	log_line l;
	log_begin(&l, "info", "shutting down");
	log_int(&l, "shutdown_delay_s", shutdown_delay_s);
	log_end(&l);
	while (ms_since(&t0) < (long)shutdown_delay_s * 1000) {
		struct timespec wait = {0, TICK_MS * 1000000L};
		int sig = sigtimedwait(sigs, NULL, &wait);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		server_sweep(s);
	}
	unsigned int idle = server_stop_accepting(s);
	while (idle_ms < DRAIN_IDLE_MS && ms_since(&t0) < DRAIN_MAX_MS &&
	       server_connections(s) > 0) {
		nanosleep(&tick, NULL);
		idle_ms = server_in_flight(s) == 0 ? idle_ms + 20 : 0;
	}
	log_begin(&l, "info", "stopped");
	log_int(&l, "drain_ms", ms_since(&t0));
	log_int(&l, "idle_closed", idle);
	log_int(&l, "unanswered", server_in_flight(s));
	log_end(&l);
}

int serve_run(serve_opts *o, cg_error *err)
{
	cg_buf ca = {0};
	reload *r = NULL;
	server *s = NULL;
	int rc = -1;
	/* Blocked before any thread exists so every thread inherits the mask
	 * and only sigtimedwait() in the main loop receives them. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (o->client_ca != NULL) {
		if (read_client_ca(o->client_ca, &ca, err) < 0)
			goto out;
		o->srv.client_ca_pem = ca.data;
	}
	if (reload_open(&o->files, &r, err) < 0)
		goto out;
	if (server_start(&o->srv, reload_policies(r), &s, err) < 0)
		goto out;
	log_line l;
	log_begin(&l, "info", "ready");
	log_str(&l, "listen", o->srv.listen);
	log_int(&l, "port", server_port(s));
	log_str(&l, "policy", o->files.policy_path ? o->files.policy_path : "<default>");
	log_int(&l, "threads", o->srv.threads);
	log_bool(&l, "mtls", o->client_ca != NULL);
	log_end(&l);
	for (unsigned int tick = 1;; tick++) {
		struct timespec wait = {0, TICK_MS * 1000000L};
		int sig = sigtimedwait(&sigs, NULL, &wait);
		if (sig == SIGTERM || sig == SIGINT) {
			drain(s, o->shutdown_delay, &sigs);
			break;
		}
		server_sweep(s);
		if (sig == SIGHUP || tick % POLL_TICKS == 0)
			reload_poll(r, sig == SIGHUP);
	}
	rc = 0;
out:
	server_stop(s);
	reload_free(r);
	tlscert_free_all();
	buf_free(&ca);
	return rc;
}
