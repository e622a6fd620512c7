/* Reading a certificate/key pair and judging it the way kube-apiserver, a Go
 * TLS client, will: SAN only (Go >= 1.15 ignores the subject CN), no SHA-1
 * signatures (Go >= 1.18), serverAuth usage, and the validity window. */
#include "certs/certs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certs/certs_internal.h"
#include "common/cleanup.h"
#include "common/file.h"

/* PEM files are small; anything bigger is not what the user meant. */
#define MAX_PEM_SIZE ((size_t)1 << 20)

void certs_ssl_reason(char *out, size_t n)
{
	unsigned long e = ERR_peek_last_error();
	if (e == 0)
		snprintf(out, n, "unknown OpenSSL error");
	else
		ERR_error_string_n(e, out, n);
	ERR_clear_error();
}

/* Never prompt on the terminal for a passphrase: a server must not block,
 * and capgate writes its keys unencrypted. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static int load_cert(const char *path, X509 **out, cg_error *err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;
	if (file_read(path, MAX_PEM_SIZE, FILE_REGULAR | FILE_NONEMPTY, &data, &len, err) < 0)
		return -1;
	cleanup_bio BIO *bio = BIO_new_mem_buf(data, (int)len);
	if (bio == NULL)
		return cg_error_set(err, ENOMEM, "%s: out of memory", path);
	X509 *x = NULL;
	if (strstr(data, "-----BEGIN ") != NULL) {
		x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
		if (x == NULL) {
			char why[256];
			certs_ssl_reason(why, sizeof(why));
			return cg_error_set(err, EINVAL, "%s: no PEM CERTIFICATE in it (%s)", path,
					    why);
		}
	} else {
		/* DER too, since `openssl x509 -outform der` is common. */
		const unsigned char *p = (const unsigned char *)data;
		x = d2i_X509(NULL, &p, (long)len);
		if (x == NULL) {
			ERR_clear_error();
			return cg_error_set(err, EINVAL, "%s: neither a PEM nor a DER certificate",
					    path);
		}
	}
	*out = x;
	return 0;
}

static int load_key(const char *path, EVP_PKEY **out, cg_error *err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;
	if (file_read(path, MAX_PEM_SIZE, FILE_REGULAR | FILE_NONEMPTY, &data, &len, err) < 0)
		return -1;
	cleanup_bio BIO *bio = BIO_new_mem_buf(data, (int)len);
	if (bio == NULL)
		return cg_error_set(err, ENOMEM, "%s: out of memory", path);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (k == NULL) {
		char why[256];
		certs_ssl_reason(why, sizeof(why));
		return cg_error_set(err, EINVAL, "%s: no unencrypted PEM private key in it (%s)",
				    path, why);
	}
	*out = k;
	return 0;
}

static void append(char *dst, size_t n, const char *s)
{
	size_t used = strlen(dst);
	if (used + 1 >= n)
		return;
	snprintf(dst + used, n - used, "%s%s", used > 0 ? ", " : "", s);
}

static void name_text(const X509_NAME *name, char *out, size_t n)
{
	out[0] = '\0';
	cleanup_bio BIO *b = BIO_new(BIO_s_mem());
	if (b == NULL)
		return;
	/* "CN=x, O=y" in certificate order, UTF-8 kept as is. */
	unsigned long flags = XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN |
			      (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	if (X509_NAME_print_ex(b, name, 0, flags) < 0)
		return;
	char *p = NULL;
	long len = BIO_get_mem_data(b, &p);
	if (len < 0)
		return;
	snprintf(out, n, "%.*s", (int)len, p);
}

static void read_sans(X509 *x, certs_info *info)
{
	cleanup_gens GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		int type = 0;
		const ASN1_STRING *s = GENERAL_NAME_get0_value(g, &type);
		if (type == GEN_DNS) {
			char dns[256];
			snprintf(dns, sizeof(dns), "%.*s", ASN1_STRING_length(s),
				 (const char *)ASN1_STRING_get0_data(s));
			append(info->sans, sizeof(info->sans), dns);
			info->has_dns_san = true;
		} else if (type == GEN_IPADD) {
			char ip[INET6_ADDRSTRLEN] = "?";
			int l = ASN1_STRING_length(s);
			const unsigned char *d = ASN1_STRING_get0_data(s);
			if (l == 4 || l == 16)
				inet_ntop(l == 4 ? AF_INET : AF_INET6, d, ip, sizeof(ip));
			append(info->ip_sans, sizeof(info->ip_sans), ip);
		}
	}
}

static void read_key_type(EVP_PKEY *pub, certs_info *info)
{
	int bits = EVP_PKEY_get_bits(pub);
	if (EVP_PKEY_is_a(pub, "EC")) {
		char group[64] = "";
		size_t glen = 0;
		const char *curve = group;
		if (EVP_PKEY_get_group_name(pub, group, sizeof(group), &glen) == 1) {
			const char *nist = EC_curve_nid2nist(OBJ_txt2nid(group));
			if (nist != NULL)
				curve = nist;
		}
		snprintf(info->key_type, sizeof(info->key_type), "ECDSA %.25s",
			 curve[0] ? curve : "unknown curve");
	} else if (EVP_PKEY_is_a(pub, "RSA")) {
		snprintf(info->key_type, sizeof(info->key_type), "RSA %d", bits);
	} else {
		snprintf(info->key_type, sizeof(info->key_type), "%s",
			 OBJ_nid2sn(EVP_PKEY_get_base_id(pub)));
	}
}

static void read_usage(X509 *x, certs_info *info)
{
	uint32_t xku = X509_get_extended_key_usage(x);
	/* Go accepts a certificate without an EKU extension for any usage. */
	info->server_auth = (X509_get_extension_flags(x) & EXFLAG_XKUSAGE) == 0 ||
			    (xku & (XKU_SSL_SERVER | XKU_ANYEKU)) != 0;
	info->is_ca = X509_check_ca(x) > 0;
}

static void read_cert(X509 *x, certs_info *info)
{
	name_text(X509_get_subject_name(x), info->subject, sizeof(info->subject));
	name_text(X509_get_issuer_name(x), info->issuer, sizeof(info->issuer));
	read_sans(x, info);
	read_usage(x, info);

	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	snprintf(info->serial, sizeof(info->serial), "%s", hex != NULL ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);

	int sig_nid = X509_get_signature_nid(x);
	snprintf(info->sig_alg, sizeof(info->sig_alg), "%s", OBJ_nid2ln(sig_nid));
	int md_nid = NID_undef, pk_nid = NID_undef;
	if (OBJ_find_sigid_algs(sig_nid, &md_nid, &pk_nid) == 1)
		info->sha1 = md_nid == NID_sha1;

	struct tm tm;
	if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) == 1)
		info->not_before = timegm(&tm);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		info->not_after = timegm(&tm);

	EVP_PKEY *pub = X509_get0_pubkey(x);
	if (pub != NULL)
		read_key_type(pub, info);
	ERR_clear_error();
}

int certs_inspect_service(const char *cert_path, const char *key_path, const char *service_dns,
			  certs_info *info, cg_error *err)
{
	memset(info, 0, sizeof(*info));
	cleanup_x509 X509 *x = NULL;
	if (load_cert(cert_path, &x, err) < 0)
		return -1;
	read_cert(x, info);
	if (key_path != NULL) {
		cleanup_pkey EVP_PKEY *key = NULL;
		if (load_key(key_path, &key, err) < 0)
			return -1;
		info->key_checked = true;
		info->key_matches = EVP_PKEY_eq(X509_get0_pubkey(x), key) == 1;
	}
	if (service_dns != NULL) {
		info->service_checked = true;
		snprintf(info->service_dns, sizeof(info->service_dns), "%s", service_dns);
		/* Go never falls back to the CN, nor matches partial wildcards. */
		unsigned flags =
			X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
		info->service_covered = X509_check_host(x, service_dns, 0, flags, NULL) == 1;
	}
	ERR_clear_error();
	return 0;
}

int certs_inspect(const char *cert_path, const char *key_path, certs_info *info, cg_error *err)
{
	return certs_inspect_service(cert_path, key_path, NULL, info, err);
}

size_t certs_problems(const certs_info *info, time_t now, const char **reasons, size_t max)
{
	size_t n = 0;
#define PROBLEM(cond, text)                                                                        \
	do {                                                                                       \
		if ((cond) && n < max)                                                             \
			reasons[n++] = (text);                                                     \
	} while (0)
	PROBLEM(info->key_checked && !info->key_matches,
		"the private key does not match the certificate");
	PROBLEM(now >= info->not_after, "expired");
	PROBLEM(now < info->not_before, "not valid yet");
	PROBLEM(info->sha1, "signed with SHA-1, which kube-apiserver (Go >= 1.18) rejects");
	PROBLEM(!info->has_dns_san, "no DNS subjectAltName; kube-apiserver (Go >= 1.15) ignores "
				    "the subject CN");
	PROBLEM(!info->server_auth, "its extended key usage does not allow serverAuth");
	PROBLEM(info->service_checked && !info->service_covered,
		"its DNS SANs do not cover the service name");
#undef PROBLEM
	return n;
}

static void utc_text(time_t t, char *out, size_t n)
{
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL || strftime(out, n, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, n, "%lld", (long long)t);
}

int certs_check_serving(const char *cert_path, const char *key_path, const char *service_dns,
			certs_info *info, cg_error *err)
{
	if (certs_inspect_service(cert_path, key_path, service_dns, info, err) < 0)
		return -1;
	time_t now = time(NULL);
	char when[64];
	if (info->key_checked && !info->key_matches)
		return cg_error_set(err, EINVAL,
				    "%s: private key does not match the certificate %s", key_path,
				    cert_path);
	if (now >= info->not_after) {
		utc_text(info->not_after, when, sizeof(when));
		return cg_error_set(err, EINVAL, "%s: certificate expired on %s", cert_path, when);
	}
	if (now < info->not_before) {
		utc_text(info->not_before, when, sizeof(when));
		return cg_error_set(err, EINVAL, "%s: certificate not valid before %s", cert_path,
				    when);
	}
	if (info->sha1)
		return cg_error_set(err, EINVAL,
				    "%s: certificate signed with SHA-1 (%s); kube-apiserver "
				    "rejects SHA-1 signatures",
				    cert_path, info->sig_alg);
	if (!info->has_dns_san)
		return cg_error_set(err, EINVAL,
				    "%s: certificate has no DNS subjectAltName; kube-apiserver "
				    "ignores the subject CN (%s)",
				    cert_path, info->subject);
	if (!info->server_auth)
		return cg_error_set(
			err, EINVAL,
			"%s: certificate's extended key usage does not allow serverAuth",
			cert_path);
	if (info->service_checked && !info->service_covered)
		return cg_error_set(err, EINVAL,
				    "%s: certificate does not cover \"%s\" (DNS SANs: %s)",
				    cert_path, service_dns, info->sans);
	return 0;
}

int certs_cabundle(const char *pem_path, char **out, cg_error *err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;
	if (file_read(pem_path, MAX_PEM_SIZE, FILE_REGULAR | FILE_NONEMPTY, &data, &len, err) < 0)
		return -1;
	cleanup_bio BIO *bio = BIO_new_mem_buf(data, (int)len);
	if (bio == NULL)
		return cg_error_set(err, ENOMEM, "%s: out of memory", pem_path);
	int certs = 0;
	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *der = NULL;
		long der_len = 0;
		if (PEM_read_bio(bio, &name, &header, &der, &der_len) != 1)
			break;
		bool is_cert = strcmp(name, PEM_STRING_X509) == 0;
		const unsigned char *p = der;
		X509 *x = is_cert ? d2i_X509(NULL, &p, der_len) : NULL;
		X509_free(x);
		char block[64];
		snprintf(block, sizeof(block), "%s", name);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(der);
		if (!is_cert)
			return cg_error_set(err, EINVAL,
					    "%s: holds a \"%s\" block; a caBundle must hold "
					    "certificates only",
					    pem_path, block);
		if (x == NULL)
			return cg_error_set(err, EINVAL, "%s: certificate %d does not parse",
					    pem_path, certs + 1);
		certs++;
	}
	ERR_clear_error();
	if (certs == 0)
		return cg_error_set(err, EINVAL, "%s: no PEM certificate in it", pem_path);

	/* EVP_EncodeBlock writes 4 bytes per 3, no newlines, and a NUL. */
	char *b64 = malloc(4 * ((len + 2) / 3) + 1);
	if (b64 == NULL)
		return cg_error_set(err, ENOMEM, "%s: out of memory", pem_path);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)data, (int)len);
	*out = b64;
	return 0;
}
