/* `capgate serve`: the options, read into server/serve.h's serve_opts,
 * and their start-up checks. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "server/serve.h"

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
	serve_defaults(o);
	unsigned long long v;
	int c;
	opts_begin(argv, "capgate serve");
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
			fputs(usage_text, stderr);
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

int cmd_serve(int argc, char **argv)
{
	serve_opts o;
	int p = parse_opts(argc, argv, &o);
	if (p != 0)
		return p > 0 ? 0 : 2;
	cg_error err = {0};
	if (serve_run(&o, &err) < 0) {
		fprintf(stderr, "capgate serve: %s\n", err.msg);
		return 1;
	}
	return 0;
}
