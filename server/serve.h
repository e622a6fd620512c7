/* `capgate serve` below its options: the defaults, and the process that
 * loads the policy and certificate, serves, reloads them when they change
 * and drains on SIGTERM. cli/serve.c fills serve_opts from argv.
 */
#ifndef CG_SERVE_H
#define CG_SERVE_H

#include "common/error.h"
#include "server/reload.h"
#include "server/server.h"

/* TLS 1.3 and 1.2 only, AEAD ciphers with forward secrecy, no SHA-1
 * signatures: what kube-apiserver speaks, and nothing a scanner flags. */
#define SERVE_DEFAULT_PRIORITIES                                                                   \
	"SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:"                  \
	"+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"          \
	"-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:-SIGN-DSA-SHA1:%SERVER_PRECEDENCE"

typedef struct serve_opts {
	reload_files files;
	server_config srv;
	const char *client_ca;	     /* PEM file of the CAs client certificates need; NULL: none */
	unsigned int shutdown_delay; /* seconds served after SIGTERM */
} serve_opts;

/* Fills *o with what each option is when not given (no paths). */
void serve_defaults(serve_opts *o);

/* Blocks SIGTERM, SIGINT and SIGHUP (call it before any thread exists),
 * ignores SIGPIPE, loads what o names and serves until SIGTERM or SIGINT,
 * then drains. Returns 0 after the drain, or -1 with err filled (naming the
 * file or option) when it cannot start. The strings in o are borrowed. */
int serve_run(serve_opts *o, cg_error *err) CG_MUST_CHECK;

#endif
