/* The serving certificate GnuTLS presents, replaceable at run time.
 *
 * libmicrohttpd asks for the certificate on every handshake through
 * tlscert_retrieve() (MHD_OPTION_HTTPS_CERT_CALLBACK). The callback has no
 * closure argument, so the pair in use is process-wide state of this module.
 * GnuTLS keeps pointers to the pair it was given for the life of the
 * session, with no hook telling when that ends, so a replaced pair is kept
 * until tlscert_free_all() at exit; rotations are rare and a pair is a few KB.
 */
#ifndef CG_SERVER_TLSCERT_H
#define CG_SERVER_TLSCERT_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "common/error.h"

/* Parses the PEM chain and key with GnuTLS and, on success, makes them the
 * pair for new handshakes. The files are read once; the caller validates
 * them (certs_check_serving) before. */
int tlscert_load(const char *cert_path, const char *key_path, cg_error *err) CG_MUST_CHECK;

/* gnutls_certificate_retrieve_function2. */
int tlscert_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
		     const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		     gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey);

/* After the daemon has stopped: frees every pair ever loaded. */
void tlscert_free_all(void);

#endif
