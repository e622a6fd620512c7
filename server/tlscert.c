#include "server/tlscert.h"

#include <stdatomic.h>
#include <stdlib.h>

#define TLSCERT_MAX_CHAIN 8

typedef struct tls_pair {
	gnutls_pcert_st chain[TLSCERT_MAX_CHAIN];
	unsigned int n;
	gnutls_privkey_t key;
	struct tls_pair *older; /* every pair loaded before, kept (see header) */
} tls_pair;

static _Atomic(tls_pair *) current;

static void pair_free(tls_pair *p)
{
	for (unsigned int i = 0; i < p->n; i++)
		gnutls_pcert_deinit(&p->chain[i]);
	if (p->key != NULL)
		gnutls_privkey_deinit(p->key);
	free(p);
}

int tlscert_load(const char *cert_path, const char *key_path, cg_error *err)
{
	gnutls_datum_t cert = {0}, key = {0};
	tls_pair *p = calloc(1, sizeof(*p));
	int r = -1;
	if (p == NULL)
		return cg_error_set(err, 0, "out of memory loading %s", cert_path);
	int g = gnutls_load_file(cert_path, &cert);
	if (g < 0) {
		cg_error_set(err, 0, "%s: %s", cert_path, gnutls_strerror(g));
		goto out;
	}
	g = gnutls_load_file(key_path, &key);
	if (g < 0) {
		cg_error_set(err, 0, "%s: %s", key_path, gnutls_strerror(g));
		goto out;
	}
	p->n = TLSCERT_MAX_CHAIN;
	g = gnutls_pcert_list_import_x509_raw(p->chain, &p->n, &cert, GNUTLS_X509_FMT_PEM, 0);
	if (g < 0) {
		p->n = 0;
		cg_error_set(err, 0, "%s: GnuTLS cannot use the certificate: %s", cert_path,
			     gnutls_strerror(g));
		goto out;
	}
	g = gnutls_privkey_init(&p->key);
	if (g >= 0)
		g = gnutls_privkey_import_x509_raw(p->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (g < 0) {
		cg_error_set(err, 0, "%s: GnuTLS cannot use the key: %s", key_path,
			     gnutls_strerror(g));
		goto out;
	}
	/* Only the main thread loads, so reading then replacing is not a race. */
	p->older = atomic_load(&current);
	atomic_store(&current, p);
	p = NULL;
	r = 0;
out:
	gnutls_free(cert.data);
	gnutls_free(key.data);
	if (p != NULL)
		pair_free(p);
	return r;
}

int tlscert_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
		     const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		     gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
	(void)session;
	(void)req_ca_dn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	tls_pair *p = atomic_load(&current);
	if (p == NULL)
		return -1;
	*pcert = p->chain;
	*pcert_length = p->n;
	*pkey = p->key;
	return 0;
}

void tlscert_free_all(void)
{
	tls_pair *p = atomic_exchange(&current, NULL);
	while (p != NULL) {
		tls_pair *older = p->older;
		pair_free(p);
		p = older;
	}
}
