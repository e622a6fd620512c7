/* TLS material: creating the webhook's CA and serving certificate, and
 * inspecting a certificate/key pair the way kube-apiserver will judge it.
 * OpenSSL only; used by `capgate certs` and by `capgate serve` at start-up
 * and on reload. */
#ifndef CG_CERTS_H
#define CG_CERTS_H

#include <stdbool.h>
#include <time.h>

#include "common/error.h"

typedef struct certs_info {
	char subject[256];
	char issuer[256];
	char sans[1024];   /* DNS SANs, comma-separated */
	char key_type[32]; /* "ECDSA P-256", "RSA 2048", ... */
	char sig_alg[64];  /* "ecdsa-with-SHA256", ... */
	time_t not_before;
	time_t not_after;
	bool key_checked; /* a key was given */
	bool key_matches;
	bool sha1; /* signed with SHA-1: kube-apiserver rejects it */
	bool is_ca;
	/* Added after the first contract. */
	char ip_sans[256]; /* IP SANs, comma-separated */
	char serial[80];   /* hex */
	bool has_dns_san;
	bool server_auth;     /* no EKU, or one that allows serverAuth (as Go) */
	bool service_checked; /* a service DNS name was given */
	bool service_covered; /* ... and a DNS SAN matches it */
	char service_dns[256];
} certs_info;

/* Reads the first PEM certificate of cert_path and, when key_path is not
 * NULL, the key; fills info. Fails only when a file cannot be read or
 * parsed. */
int certs_inspect(const char *cert_path, const char *key_path, certs_info *info,
		  cg_error *err) CG_MUST_CHECK;

/* What a serving pair must be for capgate to use it: readable, key matches,
 * currently valid, not SHA-1, has a DNS SAN (and covers service_dns when it
 * is not NULL). The error names the file and the reason. */
int certs_check_serving(const char *cert_path, const char *key_path, const char *service_dns,
			certs_info *info, cg_error *err) CG_MUST_CHECK;

/* --- Additions below the original contract (append-only). --- */

/* The same as certs_inspect, and also records in info whether the first
 * certificate covers service_dns (when it is not NULL) the way a Go client
 * checks it: DNS SANs only, never the subject CN. */
int certs_inspect_service(const char *cert_path, const char *key_path, const char *service_dns,
			  certs_info *info, cg_error *err) CG_MUST_CHECK;

/* Why kube-apiserver (a Go TLS client) would refuse info as a webhook
 * serving certificate at time now, or why its key is unusable. Fills up to
 * max static sentences into reasons and returns how many there are (0: it
 * would be accepted). Only judges what certs_inspect_service recorded. */
size_t certs_problems(const certs_info *info, time_t now, const char **reasons, size_t max);

/* Reads a PEM file that holds only certificates and returns its base64
 * (one line, no newline) in *out, which the caller frees. Refuses files with
 * anything else in them, so a private key never ends up in a webhook
 * configuration. */
int certs_cabundle(const char *pem_path, char **out, cg_error *err) CG_MUST_CHECK;

typedef enum certs_key_type {
	CERTS_KEY_ECDSA_P256 = 0, /* the default: small and fast */
	CERTS_KEY_RSA_2048,
} certs_key_type;

typedef struct certs_create_opts {
	const char *service;   /* Service name, a DNS-1123 label */
	const char *namespace; /* its namespace, a DNS-1123 label */
	const char *out_dir;   /* created (0755, with parents) when missing */
	certs_key_type key_type;
	int days;		/* serving certificate validity, 1..3650; 0: 365 */
	time_t not_before;	/* 0: now minus 5 minutes (clock skew) */
	const char *const *dns; /* extra DNS SANs (may start with "*.") */
	size_t n_dns;
	const char *const *ips; /* extra IP SANs */
	size_t n_ips;
} certs_create_opts;

/* Writes out_dir/ca.crt and ca.key (a self-signed CA valid 10 years) and
 * out_dir/tls.crt and tls.key (a serving certificate it signed, with SANs
 * NAME, NAME.NS, NAME.NS.svc, NAME.NS.svc.cluster.local and the extras;
 * serverAuth; SHA-256). Keys are 0600; every file is replaced atomically.
 * Implemented in certs/create.c. */
int certs_create(const certs_create_opts *opts, cg_error *err) CG_MUST_CHECK;

#endif
