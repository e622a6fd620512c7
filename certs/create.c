/* certs_create: a throwaway CA and the webhook's serving certificate.
 *
 * What kube-apiserver needs from it: a DNS SAN for <svc>.<ns>.svc (the name
 * it dials and sends as SNI; the CN is ignored since Go 1.15), a SHA-256
 * signature (SHA-1 is refused since Go 1.18), and serverAuth usage. The CA
 * goes into the webhook configuration's caBundle. */
#include "certs/certs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certs/certs_internal.h"
#include "common/cleanup.h"

#define CA_DAYS	     3650
#define DEFAULT_DAYS 365
#define SKEW_SECONDS 300

static int ssl_fail(cg_error *err, const char *what)
{
	char why[256];
	certs_ssl_reason(why, sizeof(why));
	return cg_error_set(err, EIO, "%s: %s", what, why);
}

/* A Kubernetes object name used in DNS: lower-case alphanumerics and '-',
 * alphanumeric at both ends, at most 63 characters (DNS-1123 label). */
static bool dns_label_ok(const char *s, size_t len, bool lower_only)
{
	if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			  (!lower_only && c >= 'A' && c <= 'Z');
		if (!ok)
			return false;
	}
	return true;
}

/* A host name for a DNS SAN; a leading "*." wildcard label is allowed. */
static bool dns_name_ok(const char *s)
{
	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	size_t total = strlen(s);
	if (total == 0 || total > 253)
		return false;
	while (*s != '\0') {
		size_t len = strcspn(s, ".");
		if (!dns_label_ok(s, len, false))
			return false;
		s += len;
		if (*s == '.' && *++s == '\0')
			return false;
	}
	return true;
}

static int add_dns(GENERAL_NAMES *gens, const char *name)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();
	if (g == NULL || s == NULL || ASN1_STRING_set(s, name, (int)strlen(name)) != 1) {
		GENERAL_NAME_free(g);
		ASN1_IA5STRING_free(s);
		return -1;
	}
	GENERAL_NAME_set0_value(g, GEN_DNS, s);
	if (sk_GENERAL_NAME_push(gens, g) <= 0) {
		GENERAL_NAME_free(g);
		return -1;
	}
	return 0;
}

static int build_sans(const certs_create_opts *o, GENERAL_NAMES **out, cg_error *err)
{
	cleanup_gens GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	if (gens == NULL)
		return ssl_fail(err, "subjectAltName");
	/* How a Service is reached from inside the cluster; the apiserver dials
	 * <svc>.<ns>.svc. */
	const char *suffix[] = {"", ".svc", ".svc.cluster.local"};
	if (add_dns(gens, o->service) < 0)
		return ssl_fail(err, "subjectAltName");
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char name[256];
		snprintf(name, sizeof(name), "%s.%s%s", o->service, o->namespace, suffix[i]);
		if (add_dns(gens, name) < 0)
			return ssl_fail(err, "subjectAltName");
	}
	for (size_t i = 0; i < o->n_dns; i++) {
		if (!dns_name_ok(o->dns[i]))
			return cg_error_set(err, EINVAL, "--dns \"%s\": not a valid DNS name",
					    o->dns[i]);
		if (add_dns(gens, o->dns[i]) < 0)
			return ssl_fail(err, "subjectAltName");
	}
	for (size_t i = 0; i < o->n_ips; i++) {
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(o->ips[i]);
		if (ip == NULL) {
			ERR_clear_error();
			return cg_error_set(err, EINVAL, "--ip \"%s\": not an IPv4 or IPv6 address",
					    o->ips[i]);
		}
		GENERAL_NAME *g = GENERAL_NAME_new();
		if (g == NULL) {
			ASN1_OCTET_STRING_free(ip);
			return ssl_fail(err, "subjectAltName");
		}
		GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
		if (sk_GENERAL_NAME_push(gens, g) <= 0) {
			GENERAL_NAME_free(g);
			return ssl_fail(err, "subjectAltName");
		}
	}
	*out = cg_steal(gens);
	return 0;
}

static EVP_PKEY *new_key(certs_key_type type)
{
	if (type == CERTS_KEY_RSA_2048)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* 128 random bits: RFC 5280 allows 20 octets, and CA/B asks for >= 64 bits
 * of randomness so that serials cannot be predicted. */
static int set_random_serial(X509 *x)
{
	unsigned char raw[16];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	raw[0] |= 0x01; /* never zero, which RFC 5280 forbids */
	BIGNUM *bn = BN_bin2bn(raw, sizeof(raw), NULL);
	ASN1_INTEGER *serial = bn != NULL ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	int ok = serial != NULL && X509_set_serialNumber(x, serial) == 1;
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return ok ? 0 : -1;
}

static int set_name(X509 *x, const char *cn)
{
	X509_NAME *name = X509_get_subject_name(x);
	const unsigned char *o = (const unsigned char *)"capgate";
	if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, o, -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
				       0) != 1)
		return -1;
	return 0;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* A certificate for key, valid [from, until), named cn. With ca == NULL it
 * is the self-signed CA; else a serving certificate signed by ca/ca_key. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, time_t from, time_t until, X509 *ca,
		       EVP_PKEY *ca_key, GENERAL_NAMES *sans)
{
	cleanup_x509 X509 *x = X509_new();
	if (x == NULL || X509_set_version(x, X509_VERSION_3) != 1 || set_random_serial(x) < 0 ||
	    set_name(x, cn) < 0 || X509_set_pubkey(x, key) != 1)
		return NULL;
	X509_NAME *issuer = ca != NULL ? X509_get_subject_name(ca) : X509_get_subject_name(x);
	if (X509_set_issuer_name(x, issuer) != 1 ||
	    ASN1_TIME_set(X509_getm_notBefore(x), from) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), until) == NULL)
		return NULL;

	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, ca != NULL ? ca : x, x, NULL, NULL, 0);
	if (ca == NULL) {
		if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
		    add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
		    add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0)
			return NULL;
	} else {
		/* keyEncipherment only matters for RSA key exchange (TLS 1.2). */
		const char *ku = EVP_PKEY_is_a(key, "RSA")
					 ? "critical,digitalSignature,keyEncipherment"
					 : "critical,digitalSignature";
		if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
		    add_ext(x, &ctx, NID_key_usage, ku) < 0 ||
		    add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") < 0 ||
		    add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
		    add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") < 0 ||
		    X509_add1_ext_i2d(x, NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT) != 1)
			return NULL;
	}
	if (X509_sign(x, ca_key != NULL ? ca_key : key, EVP_sha256()) <= 0)
		return NULL;
	return cg_steal(x);
}

/* mkdir -p, so `--out build/run/certs` works on a fresh tree. */
static int make_dir(const char *dir, cg_error *err)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return cg_error_set(err, ENAMETOOLONG, "%s: path too long", dir);
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return cg_error_set(err, errno, "%s: cannot create: %s", path,
					    strerror(errno));
		*p = c;
		if (c == '\0')
			break;
	}
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return cg_error_set(err, ENOTDIR, "%s: not a directory", dir);
	return 0;
}

/* Temp file in the same directory + rename: a reader (the server reloading
 * its pair) never sees half a file, and a key is never world-readable even
 * for an instant since mkstemp creates it 0600. */
static int write_atomic(const char *dir, const char *name, BIO *pem, mode_t mode, cg_error *err)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= (int)sizeof(tmp))
		return cg_error_set(err, ENAMETOOLONG, "%s/%s: path too long", dir, name);
	char *data = NULL;
	long len = BIO_get_mem_data(pem, &data);
	cleanup_close int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return cg_error_set(err, errno, "%s: cannot create: %s", tmp, strerror(errno));
	int rc = fchmod(fd, mode);
	for (long off = 0; rc == 0 && off < len;) {
		ssize_t w = write(fd, data + off, (size_t)(len - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			rc = -1;
		else
			off += w;
	}
	if (rc == 0)
		rc = fsync(fd);
	if (rc == 0)
		rc = rename(tmp, path);
	if (rc != 0) {
		int e = errno;
		unlink(tmp);
		return cg_error_set(err, e, "%s: cannot write: %s", path, strerror(e));
	}
	return 0;
}

static int save(const char *dir, X509 *cert, EVP_PKEY *key, const char *crt_name,
		const char *key_name, cg_error *err)
{
	cleanup_bio BIO *kb = BIO_new(BIO_s_mem());
	cleanup_bio BIO *cb = BIO_new(BIO_s_mem());
	if (kb == NULL || cb == NULL ||
	    PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_X509(cb, cert) != 1)
		return ssl_fail(err, crt_name);
	if (write_atomic(dir, key_name, kb, 0600, err) < 0 ||
	    write_atomic(dir, crt_name, cb, 0644, err) < 0)
		return -1;
	return 0;
}

static int check_opts(const certs_create_opts *o, cg_error *err)
{
	if (o->service == NULL || !dns_label_ok(o->service, strlen(o->service), true))
		return cg_error_set(err, EINVAL,
				    "--service \"%s\": not a Service name (lower-case letters, "
				    "digits and '-', at most 63)",
				    o->service != NULL ? o->service : "");
	if (o->namespace == NULL || !dns_label_ok(o->namespace, strlen(o->namespace), true))
		return cg_error_set(err, EINVAL,
				    "--namespace \"%s\": not a namespace name (lower-case "
				    "letters, digits and '-', at most 63)",
				    o->namespace != NULL ? o->namespace : "");
	if (o->out_dir == NULL || o->out_dir[0] == '\0')
		return cg_error_set(err, EINVAL, "no output directory given");
	if (o->days < 0 || o->days > CA_DAYS)
		return cg_error_set(err, EINVAL,
				    "--days %d: must be between 1 and %d (the CA's lifetime)",
				    o->days, CA_DAYS);
	return 0;
}

int certs_create(const certs_create_opts *o, cg_error *err)
{
	if (check_opts(o, err) < 0)
		return -1;
	cleanup_gens GENERAL_NAMES *sans = NULL;
	if (build_sans(o, &sans, err) < 0)
		return -1;

	time_t now = time(NULL);
	time_t from = o->not_before != 0 ? o->not_before : now - SKEW_SECONDS;
	time_t start = o->not_before != 0 ? o->not_before : now;
	time_t days = o->days != 0 ? o->days : DEFAULT_DAYS;

	/* The CN is informative only; 64 characters is its X.520 limit. */
	char ca_cn[65], cn[65];
	snprintf(ca_cn, sizeof(ca_cn), "capgate CA for %s.%s", o->service, o->namespace);
	if ((size_t)snprintf(cn, sizeof(cn), "%s.%s.svc", o->service, o->namespace) >= sizeof(cn))
		snprintf(cn, sizeof(cn), "%s", o->service);

	cleanup_pkey EVP_PKEY *ca_key = new_key(o->key_type);
	cleanup_pkey EVP_PKEY *key = new_key(o->key_type);
	if (ca_key == NULL || key == NULL)
		return ssl_fail(err, "key generation");
	cleanup_x509 X509 *ca =
		make_cert(ca_key, ca_cn, from, start + (time_t)CA_DAYS * 86400, NULL, NULL, NULL);
	if (ca == NULL)
		return ssl_fail(err, "CA certificate");
	cleanup_x509 X509 *leaf = make_cert(key, cn, from, start + days * 86400, ca, ca_key, sans);
	if (leaf == NULL)
		return ssl_fail(err, "serving certificate");

	if (make_dir(o->out_dir, err) < 0 ||
	    save(o->out_dir, ca, ca_key, "ca.crt", "ca.key", err) < 0 ||
	    save(o->out_dir, leaf, key, "tls.crt", "tls.key", err) < 0)
		return -1;
	return 0;
}
