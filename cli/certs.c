/* `capgate certs`: the command-line face of certs/certs.h. Exit codes:
 * 0 done (or acceptable), 1 a certificate would be rejected or an operation
 * failed, 2 usage errors (and, for inspect, files that cannot be read). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs/certs.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "common/cleanup.h"

#define WARN_DAYS 30

static void usage(FILE *f)
{
	fprintf(f, "usage: capgate certs create --service NAME --namespace NS --out DIR [OPTIONS]\n"
		   "       capgate certs inspect [--key FILE] [--service NAME --namespace NS] "
		   "FILE...\n"
		   "       capgate certs cabundle FILE\n"
		   "\n"
		   "'capgate certs SUBCOMMAND --help' describes a subcommand.\n");
}

static void usage_create(FILE *f)
{
	fprintf(f, "usage: capgate certs create --service NAME --namespace NS --out DIR [OPTIONS]\n"
		   "\n"
		   "Writes DIR/ca.crt, DIR/ca.key (a CA valid 10 years) and DIR/tls.crt,\n"
		   "DIR/tls.key (a serving certificate it signs, SANs NAME, NAME.NS,\n"
		   "NAME.NS.svc, NAME.NS.svc.cluster.local), then prints the base64 caBundle\n"
		   "for the webhook configuration on stdout. Keys are written 0600; existing\n"
		   "files are replaced atomically.\n"
		   "\n"
		   "  --service NAME        the webhook's Service name\n"
		   "  --namespace NS        its namespace\n"
		   "  --out DIR             output directory (created when missing)\n"
		   "  --key-type ecdsa|rsa  ECDSA P-256 (default) or RSA 2048\n"
		   "  --days N              serving certificate validity (default 365)\n"
		   "  --dns NAME            an extra DNS SAN (repeatable)\n"
		   "  --ip ADDR             an extra IP SAN (repeatable)\n");
}

static void usage_inspect(FILE *f)
{
	fprintf(f,
		"usage: capgate certs inspect [--key FILE] [--service NAME --namespace NS] "
		"FILE...\n"
		"\n"
		"Prints what each certificate holds and whether kube-apiserver would accept\n"
		"it as the webhook's serving certificate: a DNS SAN (the CN is ignored), not\n"
		"SHA-1, serverAuth usage, currently valid, and covering NAME.NS.svc when\n"
		"--service/--namespace are given. Without them, a CA certificate (CA:TRUE,\n"
		"no DNS SAN) is judged as a caBundle instead (validity only). --key is\n"
		"compared with every FILE.\n"
		"Warns when fewer than %d days are left.\n"
		"\n"
		"Exit status: 0 acceptable, 1 would be rejected, 2 usage or read error.\n",
		WARN_DAYS);
}

static void usage_cabundle(FILE *f)
{
	fprintf(f, "usage: capgate certs cabundle FILE\n"
		   "\n"
		   "Prints the base64 of a PEM file of certificates on one line, as the\n"
		   "caBundle of a webhook configuration wants it.\n");
}

static int parse_days(const char *s, int *out)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || v < 1 || v > 3650)
		return -1;
	*out = (int)v;
	return 0;
}

static int run_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{"service", required_argument, NULL, 's'},
		{"namespace", required_argument, NULL, 'n'},
		{"out", required_argument, NULL, 'o'},
		{"key-type", required_argument, NULL, 't'},
		{"days", required_argument, NULL, 'd'},
		{"dns", required_argument, NULL, 'D'},
		{"ip", required_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	certs_create_opts o = {0};
	/* Every --dns/--ip is one argv element, so argc bounds their count. */
	cleanup_free const char **dns = calloc((size_t)argc, sizeof(*dns));
	cleanup_free const char **ips = calloc((size_t)argc, sizeof(*ips));
	if (dns == NULL || ips == NULL) {
		fprintf(stderr, "capgate certs create: out of memory\n");
		return 1;
	}
	o.dns = dns;
	o.ips = ips;
	opts_begin(argv, "capgate certs create");
	for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
		switch (c) {
		case 's':
			o.service = optarg;
			break;
		case 'n':
			o.namespace = optarg;
			break;
		case 'o':
			o.out_dir = optarg;
			break;
		case 'D':
			dns[o.n_dns++] = optarg;
			break;
		case 'I':
			ips[o.n_ips++] = optarg;
			break;
		case 'h':
			usage_create(stdout);
			return 0;
		case 't':
			if (strcmp(optarg, "ecdsa") == 0) {
				o.key_type = CERTS_KEY_ECDSA_P256;
			} else if (strcmp(optarg, "rsa") == 0) {
				o.key_type = CERTS_KEY_RSA_2048;
			} else {
				fprintf(stderr,
					"capgate certs create: --key-type \"%s\": expected ecdsa "
					"or rsa\n",
					optarg);
				return 2;
			}
			break;
		case 'd':
			if (parse_days(optarg, &o.days) < 0) {
				fprintf(stderr,
					"capgate certs create: --days \"%s\": expected a number "
					"of days from 1 to 3650\n",
					optarg);
				return 2;
			}
			break;
		default:
			usage_create(stderr);
			return 2;
		}
	}
	const char *missing = o.service == NULL	    ? "--service"
			      : o.namespace == NULL ? "--namespace"
			      : o.out_dir == NULL   ? "--out"
						    : NULL;
	if (missing != NULL || optind < argc) {
		if (missing != NULL)
			fprintf(stderr, "capgate certs create: %s is required\n", missing);
		else
			fprintf(stderr, "capgate certs create: unexpected argument \"%s\"\n",
				argv[optind]);
		usage_create(stderr);
		return 2;
	}
	cg_error err = {0};
	if (certs_create(&o, &err) < 0) {
		fprintf(stderr, "capgate certs create: %s\n", err.msg);
		return err.code == EINVAL ? 2 : 1;
	}
	char ca[4096];
	snprintf(ca, sizeof(ca), "%s/ca.crt", o.out_dir);
	cleanup_free char *bundle = NULL;
	if (certs_cabundle(ca, &bundle, &err) < 0) {
		fprintf(stderr, "capgate certs create: %s\n", err.msg);
		return 1;
	}
	printf("%s\n", bundle);
	return 0;
}

static void print_time(const char *label, time_t t)
{
	struct tm tm;
	char text[64] = "?";
	if (gmtime_r(&t, &tm) != NULL)
		strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("  %-12s %s", label, text);
}

/* A CA certificate given to inspect is judged as what it is for, the
 * caBundle: Go does not check a root's own signature or names. Asking about
 * a service name means the user wants it judged as a serving certificate. */
static bool is_ca_role(const certs_info *i)
{
	return i->is_ca && !i->has_dns_san && !i->service_checked;
}

/* The key and the service name are not judged here: kube-apiserver only
 * ever sees the CA's certificate, and --key is usually the serving key. */
static size_t ca_problems(const certs_info *i, time_t now, const char **reasons, size_t max)
{
	size_t n = 0;
	if (now >= i->not_after && n < max)
		reasons[n++] = "expired";
	if (now < i->not_before && n < max)
		reasons[n++] = "not valid yet";
	return n;
}

/* Prints the report for one certificate; returns true when acceptable. */
static bool report(const char *path, const char *key_path, const certs_info *i, time_t now)
{
	printf("%s:\n", path);
	printf("  %-12s %s\n", "subject:", i->subject);
	printf("  %-12s %s\n", "issuer:", i->issuer);
	printf("  %-12s %s\n", "serial:", i->serial);
	printf("  %-12s %s\n", "DNS SANs:", i->has_dns_san ? i->sans : "(none)");
	if (i->ip_sans[0] != '\0')
		printf("  %-12s %s\n", "IP SANs:", i->ip_sans);
	print_time("not before:", i->not_before);
	printf("\n");
	print_time("not after:", i->not_after);
	long long left = ((long long)i->not_after - (long long)now) / 86400;
	if (now >= i->not_after)
		printf(" (expired)\n");
	else if (now < i->not_before)
		printf(" (not valid yet)\n");
	else
		printf(" (%lld days left)\n", left);
	printf("  %-12s %s\n", "key type:", i->key_type);
	printf("  %-12s %s\n", "signature:", i->sig_alg);
	printf("  %-12s %s\n", "CA:", i->is_ca ? "yes" : "no");
	if (i->key_checked)
		printf("  %-12s %s %s\n", "key:", key_path,
		       i->key_matches ? "matches" : "does NOT match");
	if (i->service_checked && !is_ca_role(i))
		printf("  %-12s %s %s\n", "service:", i->service_dns,
		       i->service_covered ? "covered" : "NOT covered");

	const char *reasons[16];
	size_t n = is_ca_role(i) ? ca_problems(i, now, reasons, 16)
				 : certs_problems(i, now, reasons, 16);
	const char *role = is_ca_role(i) ? "a CA certificate for the webhook's caBundle"
					 : "the webhook's serving certificate";
	if (n == 0) {
		printf("  %-12s OK: kube-apiserver would accept it as %s\n", "verdict:", role);
	} else {
		printf("  %-12s REJECTED: kube-apiserver would refuse it as %s:\n",
		       "verdict:", role);
		for (size_t k = 0; k < n; k++)
			printf("    - %s\n", reasons[k]);
	}
	if (now < i->not_after && left < WARN_DAYS)
		printf("  warning:     only %lld days left (under %d): renew it\n", left,
		       WARN_DAYS);
	return n == 0;
}

static int run_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{"key", required_argument, NULL, 'k'},
		{"service", required_argument, NULL, 's'},
		{"namespace", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *key = NULL, *service = NULL, *ns = NULL;
	opts_begin(argv, "capgate certs inspect");
	for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
		switch (c) {
		case 'k':
			key = optarg;
			break;
		case 's':
			service = optarg;
			break;
		case 'n':
			ns = optarg;
			break;
		case 'h':
			usage_inspect(stdout);
			return 0;
		default:
			usage_inspect(stderr);
			return 2;
		}
	}
	if ((service == NULL) != (ns == NULL)) {
		fprintf(stderr, "capgate certs inspect: --service and --namespace go together\n");
		return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "capgate certs inspect: no certificate FILE given\n");
		usage_inspect(stderr);
		return 2;
	}
	/* The name the apiserver dials and sends as SNI. */
	char svc[256];
	if (service != NULL)
		snprintf(svc, sizeof(svc), "%s.%s.svc", service, ns);
	time_t now = time(NULL);
	int rc = 0;
	for (int a = optind; a < argc; a++) {
		certs_info info;
		cg_error err = {0};
		if (a > optind)
			printf("\n");
		if (certs_inspect_service(argv[a], key, service != NULL ? svc : NULL, &info, &err) <
		    0) {
			fprintf(stderr, "capgate certs inspect: %s\n", err.msg);
			rc = 2;
			continue;
		}
		if (!report(argv[a], key, &info, now) && rc == 0)
			rc = 1;
	}
	fflush(stdout);
	return rc;
}

static int run_cabundle(int argc, char **argv)
{
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	opts_begin(argv, "capgate certs cabundle");
	for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
		if (c == 'h') {
			usage_cabundle(stdout);
			return 0;
		}
		usage_cabundle(stderr);
		return 2;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "capgate certs cabundle: expected exactly one FILE\n");
		usage_cabundle(stderr);
		return 2;
	}
	cg_error err = {0};
	cleanup_free char *b64 = NULL;
	if (certs_cabundle(argv[optind], &b64, &err) < 0) {
		fprintf(stderr, "capgate certs cabundle: %s\n", err.msg);
		return 1;
	}
	printf("%s\n", b64);
	return 0;
}

/* `capgate certs check-serving CERT KEY [SERVICE_DNS]`: the start-up and
 * reload check of capgate serve, run in a fresh process (see
 * server/reload.c). Prints "ok NOT_AFTER" or "error MESSAGE" on one line. */
static int run_check_serving(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: capgate certs check-serving CERT KEY [SERVICE_DNS]\n");
		return 2;
	}
	certs_info info;
	cg_error err = {0};
	if (certs_check_serving(argv[1], argv[2], argc == 4 ? argv[3] : NULL, &info, &err) < 0) {
		for (char *p = err.msg; *p; p++)
			if (*p == '\n')
				*p = ' ';
		printf("error %s\n", err.msg);
		return 1;
	}
	printf("ok %lld\n", (long long)info.not_after);
	return 0;
}

int cmd_certs(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(sub, "create") == 0)
		return run_create(argc - 1, argv + 1);
	if (strcmp(sub, "inspect") == 0)
		return run_inspect(argc - 1, argv + 1);
	if (strcmp(sub, "cabundle") == 0)
		return run_cabundle(argc - 1, argv + 1);
	if (strcmp(sub, "check-serving") == 0)
		return run_check_serving(argc - 1, argv + 1);
	fprintf(stderr, "capgate certs: unknown subcommand \"%s\"\n", sub);
	usage(stderr);
	return 2;
}
