/* Client certificate checks for mutual TLS.
 *
 * libmicrohttpd given a trust list (MHD_OPTION_HTTPS_MEM_TRUST) only asks
 * the client for a certificate and lets the handshake succeed without one,
 * so the server verifies the peer itself before answering anything.
 */
#ifndef CG_SERVER_MTLS_H
#define CG_SERVER_MTLS_H

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <stdbool.h>

#include "common/error.h"

/* 0 when the peer presented a certificate chain that verifies against the
 * daemon's trust list, is valid now, may be used for TLS client
 * authentication and, when cn is not NULL, has exactly that common name.
 * Otherwise -1 and err says why. */
int mtls_verify(gnutls_session_t session, const char *cn, cg_error *err) CG_MUST_CHECK;

/* mtls_verify() on the connection's TLS session, once per connection when
 * verdict is not NULL (it keeps the outcome: 0 unknown, 1 accepted, -1
 * refused); every refusal is counted in /metrics. */
bool mtls_allowed(struct MHD_Connection *c, const char *cn, int *verdict, cg_error *err);

#endif
