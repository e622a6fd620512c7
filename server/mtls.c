#include "server/mtls.h"

#include <gnutls/x509.h>
#include <string.h>

#include "server/metrics.h"

static int check_cn(gnutls_session_t session, const char *want, cg_error *err)
{
	unsigned int n = 0;
	const gnutls_datum_t *chain = gnutls_certificate_get_peers(session, &n);
	gnutls_x509_crt_t crt;
	char cn[256];
	size_t len = sizeof(cn);
	if (chain == NULL || n == 0)
		return cg_error_set(err, 0, "no client certificate");
	if (gnutls_x509_crt_init(&crt) < 0)
		return cg_error_set(err, 0, "out of memory");
	int g = gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER);
	if (g >= 0)
		g = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &len);
	gnutls_x509_crt_deinit(crt);
	if (g < 0)
		return cg_error_set(err, 0, "client certificate has no common name (%s)",
				    gnutls_strerror(g));
	/* A CN with an embedded NUL must not match a prefix of it. */
	if (len != strlen(want) || memcmp(cn, want, len) != 0)
		return cg_error_set(err, 0, "client certificate CN \"%.*s\" is not \"%s\"",
				    (int)len, cn, want);
	return 0;
}

int mtls_verify(gnutls_session_t session, const char *cn, cg_error *err)
{
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
	};
	unsigned int status = 0;
	if (gnutls_certificate_type_get(session) != GNUTLS_CRT_X509)
		return cg_error_set(err, 0, "client certificate is not X.509");
	int g = gnutls_certificate_verify_peers(session, &purpose, 1, &status);
	if (g == GNUTLS_E_NO_CERTIFICATE_FOUND)
		return cg_error_set(err, 0, "no client certificate");
	if (g < 0)
		return cg_error_set(err, 0, "client certificate not verified: %s",
				    gnutls_strerror(g));
	if (status != 0) {
		gnutls_datum_t why = {0};
		cg_error_set(err, 0, "client certificate refused");
		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why,
								 0) >= 0) {
			cg_error_set(err, 0, "client certificate refused: %s", why.data);
			gnutls_free(why.data);
		}
		return -1;
	}
	return cn != NULL ? check_cn(session, cn, err) : 0;
}

bool mtls_allowed(struct MHD_Connection *c, const char *cn, int *verdict, cg_error *err)
{
	if (verdict != NULL && *verdict > 0)
		return true;
	if (verdict != NULL && *verdict < 0) {
		cg_error_set(err, 0, "client certificate refused");
		return false;
	}
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	bool ok = ci != NULL && mtls_verify(ci->tls_session, cn, err) == 0;
	if (ci == NULL)
		cg_error_set(err, 0, "no TLS session");
	if (!ok)
		metrics_client_refused();
	if (verdict != NULL)
		*verdict = ok ? 1 : -1;
	return ok;
}
