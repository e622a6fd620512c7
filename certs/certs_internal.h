/* Helpers shared by certs/certs.c (reading, judging) and certs/create.c
 * (writing). The module is split in two files only to keep each readable in
 * one sitting; outside certs/ use certs/certs.h. */
#ifndef CG_CERTS_INTERNAL_H
#define CG_CERTS_INTERNAL_H

#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/error.h"

/* The last OpenSSL error as text; empties the thread's error queue. */
void certs_ssl_reason(char *out, size_t n);

static inline void certs_x509_freep(X509 **x)
{
	X509_free(*x);
}
static inline void certs_pkey_freep(EVP_PKEY **k)
{
	EVP_PKEY_free(*k);
}
static inline void certs_bio_freep(BIO **b)
{
	BIO_free(*b);
}
static inline void certs_gens_freep(GENERAL_NAMES **g)
{
	GENERAL_NAMES_free(*g);
}
#define cleanup_x509 __attribute__((cleanup(certs_x509_freep)))
#define cleanup_pkey __attribute__((cleanup(certs_pkey_freep)))
#define cleanup_bio  __attribute__((cleanup(certs_bio_freep)))
#define cleanup_gens __attribute__((cleanup(certs_gens_freep)))

#endif
