/* `capgate serve`: flags, start-up checks, and the main thread's life: it
 * owns signals and file watching while libmicrohttpd's threads serve. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "cli/commands.h"
#include "common/buf.h"
#include "server/log.h"
#include "server/reload.h"
#include "server/server.h"
#include "server/tlscert.h"

/* TLS 1.3 and 1.2 only, AEAD ciphers with forward secrecy, no SHA-1
 * signatures: what kube-apiserver speaks, and nothing a scanner flags. */
#define DEFAULT_PRIORITIES                                                                         \
	"SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:"                  \
	"+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"          \
	"-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:-SIGN-DSA-SHA1:%SERVER_PRECEDENCE"

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

static const char usage_text[] =
	"usage: capgate serve --tls-cert FILE --tls-key FILE [OPTIONS]\n"
	"\n"
	"Serves the admission webhook over HTTPS: POST /mutate, POST /validate,\n"
	"GET /healthz, /readyz, /metrics.\n"
	"\n"
	"  --policy FILE          CapabilityPolicy (default: the embedded policy);\n"
	"                         reloaded on SIGHUP and when the file changes\n"
	"  --listen ADDR:PORT     default 0.0.0.0:8443 ([::]:8443 for IPv6)\n"
	"  --tls-cert FILE        serving certificate chain (PEM), reloaded on change\n"
	"  --tls-key FILE         its private key (PEM)\n"
	"  --service-dns NAME     refuse a certificate that does not cover NAME\n"
	"                         (e.g. capgate.capgate.svc)\n"
	"  --client-ca FILE       require a client certificate issued by these CAs\n"
	"                         (except on /healthz and /readyz, for kubelet probes)\n"
	"  --client-cn NAME       and with this common name (e.g. kube-apiserver)\n"
	"  --tls-priorities STR   GnuTLS priority string (default: TLS 1.3/1.2, AEAD)\n"
	"  --max-body BYTES       larger requests get 413 (default 8388608)\n"
	"  --memory-budget BYTES  what the bodies, parse trees and answers of all the\n"
	"                         requests in flight may hold together; a request that\n"
	"                         would go past it gets 503 with Retry-After: 1\n"
	"                         (default 134217728, 128 MiB: with the process and\n"
	"                         1024 connections it stays within a 256 MiB limit)\n"
	"  --threads N            serving threads (default: one per core)\n"
	"  --max-connections N    open connections (default 1024); past it a new\n"
	"                         connection takes the slot of an idle one: one that\n"
	"                         has not sent a request yet, oldest first, else the\n"
	"                         keep-alive connection idle the longest\n"
	"  --max-connections-per-address N\n"
	"                         the same for each client address (default 256: ten\n"
	"                         apiservers behind one proxy address, each with its\n"
	"                         25 idle keep-alive connections); when all of an\n"
	"                         address's connections are in a request, its new ones\n"
	"                         are closed at once\n"
	"  --handshake-timeout SECONDS\n"
	"                         a new connection must finish its TLS handshake and\n"
	"                         send a request's headers within this (default 10)\n"
	"  --timeout SECONDS      idle keep-alive connections are closed (default 120,\n"
	"                         above the apiserver's 90 s keep-alive)\n"
	"  --request-timeout SECONDS\n"
	"                         a client still sending its request after this long\n"
	"                         is disconnected (default 30, the apiserver's longest\n"
	"                         webhook timeout)\n"
	"  --shutdown-delay SECONDS\n"
	"                         after SIGTERM, how long to go on serving new\n"
	"                         connections while /readyz says 503 and every\n"
	"                         answer closes its connection (default 5; 0-60)\n"
	"\n"
	"SIGHUP reloads the policy. SIGTERM or SIGINT: /readyz fails and every answer\n"
	"carries Connection: close at once; after --shutdown-delay the server stops\n"
	"accepting, closes idle keep-alive connections, answers the requests under\n"
	"way and exits 0; a second signal cuts the delay short. Logs are JSON lines\n"
	"on stderr. Exit status:\n"
	"0 after SIGTERM/SIGINT, 1 when it cannot start (the reason is printed),\n"
	"2 for a usage error.\n";

typedef struct serve_opts {
	reload_files files;
	server_config srv;
	const char *client_ca;
	unsigned int shutdown_delay; /* seconds served after SIGTERM */
} serve_opts;

static int parse_uint(const char *flag, const char *s, unsigned long long max,
		      unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v == 0 || v > max) {
		fprintf(stderr, "capgate serve: %s \"%s\": expected a number from 1 to %llu\n",
			flag, s, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, serve_opts *o)
{
	enum {
		O_POLICY = 256,
		O_LISTEN,
		O_CERT,
		O_KEY,
		O_CA,
		O_CN,
		O_PRIO,
		O_BODY,
		O_BUDGET,
		O_THREADS,
		O_CONNS,
		O_PER_ADDR,
		O_HANDSHAKE,
		O_TIMEOUT,
		O_REQ_TIMEOUT,
		O_SHUTDOWN_DELAY,
		O_DNS,
		O_HELP
	};
	static const struct option longopts[] = {
		{"policy", required_argument, NULL, O_POLICY},
		{"listen", required_argument, NULL, O_LISTEN},
		{"tls-cert", required_argument, NULL, O_CERT},
		{"tls-key", required_argument, NULL, O_KEY},
		{"client-ca", required_argument, NULL, O_CA},
		{"client-cn", required_argument, NULL, O_CN},
		{"tls-priorities", required_argument, NULL, O_PRIO},
		{"max-body", required_argument, NULL, O_BODY},
		{"memory-budget", required_argument, NULL, O_BUDGET},
		{"threads", required_argument, NULL, O_THREADS},
		{"max-connections", required_argument, NULL, O_CONNS},
		{"max-connections-per-address", required_argument, NULL, O_PER_ADDR},
		{"handshake-timeout", required_argument, NULL, O_HANDSHAKE},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"request-timeout", required_argument, NULL, O_REQ_TIMEOUT},
		{"shutdown-delay", required_argument, NULL, O_SHUTDOWN_DELAY},
		{"service-dns", required_argument, NULL, O_DNS},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	/* Kubernetes removes a terminating pod from its Service's endpoints at
	 * once, but kube-proxy on each node (the apiserver reaches the webhook
	 * through the Service) takes a moment, usually a second or two. */
	o->shutdown_delay = 5;
	o->srv = (server_config){
		.listen = "0.0.0.0:8443",
		.priorities = DEFAULT_PRIORITIES,
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
	unsigned long long v;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_POLICY:
			o->files.policy_path = optarg;
			break;
		case O_LISTEN:
			o->srv.listen = optarg;
			break;
		case O_CERT:
			o->files.cert_path = optarg;
			break;
		case O_KEY:
			o->files.key_path = optarg;
			break;
		case O_CA:
			o->client_ca = optarg;
			break;
		case O_CN:
			o->srv.client_cn = optarg;
			break;
		case O_PRIO:
			o->srv.priorities = optarg;
			break;
		case O_DNS:
			o->files.service_dns = optarg;
			break;
		case O_BODY:
			if (parse_uint("--max-body", optarg, 1ull << 30, &v) < 0)
				return -1;
			o->srv.max_body = (size_t)v;
			break;
		case O_BUDGET:
			if (parse_uint("--memory-budget", optarg, 1ull << 40, &v) < 0)
				return -1;
			o->srv.memory_budget = (size_t)v;
			break;
		case O_THREADS:
			if (parse_uint("--threads", optarg, 256, &v) < 0)
				return -1;
			o->srv.threads = (unsigned int)v;
			break;
		case O_CONNS:
			if (parse_uint("--max-connections", optarg, 1000000, &v) < 0)
				return -1;
			o->srv.max_connections = (unsigned int)v;
			break;
		case O_PER_ADDR:
			if (parse_uint("--max-connections-per-address", optarg, 1000000, &v) < 0)
				return -1;
			o->srv.max_per_address = (unsigned int)v;
			break;
		case O_HANDSHAKE:
			if (parse_uint("--handshake-timeout", optarg, 3600, &v) < 0)
				return -1;
			o->srv.handshake_timeout = (unsigned int)v;
			break;
		case O_TIMEOUT:
			if (parse_uint("--timeout", optarg, 3600, &v) < 0)
				return -1;
			o->srv.timeout = (unsigned int)v;
			break;
		case O_SHUTDOWN_DELAY:
			/* 0 is allowed: no delay (outside Kubernetes). */
			if (strcmp(optarg, "0") == 0) {
				o->shutdown_delay = 0;
				break;
			}
			if (parse_uint("--shutdown-delay", optarg, 60, &v) < 0)
				return -1;
			o->shutdown_delay = (unsigned int)v;
			break;
		case O_REQ_TIMEOUT:
			if (parse_uint("--request-timeout", optarg, 3600, &v) < 0)
				return -1;
			o->srv.request_timeout = (unsigned int)v;
			break;
		case O_HELP:
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		default:
			fprintf(stderr, "capgate serve: unknown or incomplete option \"%s\"\n%s",
				argv[optind - 1], usage_text);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "capgate serve: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (o->files.cert_path == NULL || o->files.key_path == NULL) {
		fprintf(stderr, "capgate serve: --tls-cert and --tls-key are required\n%s",
			usage_text);
		return -1;
	}
	/* A body at the limit must fit in what the budget gives one big
	 * request (7/8 of it), with room for its parse tree. */
	if (o->srv.memory_budget / 2 < o->srv.max_body) {
		fprintf(stderr,
			"capgate serve: --memory-budget %zu is too small for --max-body %zu: it "
			"must be at least twice as large\n",
			o->srv.memory_budget, o->srv.max_body);
		return -1;
	}
	if (o->srv.client_cn != NULL && o->client_ca == NULL) {
		fprintf(stderr, "capgate serve: --client-cn needs --client-ca\n");
		return -1;
	}
	return 0;
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

static int run(serve_opts *o, sigset_t *sigs)
{
	cg_error err = {0};
	cg_buf ca = {0};
	reload *r = NULL;
	server *s = NULL;
	int rc = 1;
	if (o->client_ca != NULL) {
		if (read_client_ca(o->client_ca, &ca, &err) < 0)
			goto out;
		o->srv.client_ca_pem = ca.data;
	}
	if (reload_open(&o->files, &r, &err) < 0)
		goto out;
	if (server_start(&o->srv, reload_policies(r), &s, &err) < 0)
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
		int sig = sigtimedwait(sigs, NULL, &wait);
		if (sig == SIGTERM || sig == SIGINT) {
			drain(s, o->shutdown_delay, sigs);
			break;
		}
		server_sweep(s);
		if (sig == SIGHUP || tick % POLL_TICKS == 0)
			reload_poll(r, sig == SIGHUP);
	}
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "capgate serve: %s\n", err.msg);
	server_stop(s);
	reload_free(r);
	tlscert_free_all();
	buf_free(&ca);
	return rc;
}

int cmd_serve(int argc, char **argv)
{
	serve_opts o = {0};
	int p = parse_opts(argc, argv, &o);
	if (p != 0)
		return p > 0 ? 0 : 2;
	/* Blocked before any thread exists so every thread inherits the mask
	 * and only sigtimedwait() in the main loop receives them. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	return run(&o, &sigs);
}
