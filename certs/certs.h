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
	char sans[1024];     /* DNS SANs, comma-separated */
	char key_type[32];   /* "ECDSA P-256", "RSA 2048", ... */
	char sig_alg[64];    /* "ecdsa-with-SHA256", ... */
	time_t not_before;
	time_t not_after;
	bool key_checked;    /* a key was given */
	bool key_matches;
	bool sha1;           /* signed with SHA-1: kube-apiserver rejects it */
	bool is_ca;
} certs_info;

/* Reads the first PEM certificate of cert_path and, when key_path is not
 * NULL, the key; fills info. Fails only when a file cannot be read or
 * parsed. */
int certs_inspect(const char *cert_path, const char *key_path, certs_info *info, cg_error *err)
	CG_MUST_CHECK;

/* What a serving pair must be for capgate to use it: readable, key matches,
 * currently valid, not SHA-1, has a DNS SAN (and covers service_dns when it
 * is not NULL). The error names the file and the reason. */
int certs_check_serving(const char *cert_path, const char *key_path, const char *service_dns,
			certs_info *info, cg_error *err) CG_MUST_CHECK;

#endif
