/* certs/: create a pair, read it back, and feed certs_check_serving the
 * pairs kube-apiserver refuses (made with our API or the openssl CLI). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "certs/certs.h"
#include "common/cleanup.h"

#define DAY 86400

static char tmp[64];

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/test_certs.XXXXXX");
	return mkdtemp(tmp) != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* tmp/<sub>/<file> */
static const char *path(const char *sub, const char *file)
{
	static char bufs[8][256];
	static int next;
	char *p = bufs[next++ % 8];
	snprintf(p, 256, "%s/%s/%s", tmp, sub, file);
	return p;
}

static void create(const char *sub, certs_key_type type, int days, time_t not_before)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/%s", tmp, sub);
	certs_create_opts o = {.service = "capgate",
			       .namespace = "gate-system",
			       .out_dir = dir,
			       .key_type = type,
			       .days = days,
			       .not_before = not_before};
	cg_error err = {0};
	int rc = certs_create(&o, &err);
	if (rc != 0)
		fail_msg("certs_create: %s", err.msg);
}

/* Runs an openssl command line in tmp/<sub> (created first). */
static void openssl_in(const char *sub, const char *args)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s' && cd '%s/%s' && openssl %s >/dev/null 2>&1",
		 tmp, sub, tmp, sub, args);
	if (system(cmd) != 0)
		fail_msg("failed: %s", cmd);
}

static mode_t mode_of(const char *p)
{
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	return st.st_mode & 07777;
}

static void test_create_ecdsa_round_trip(void **state)
{
	(void)state;
	time_t before = time(NULL);
	create("ec", CERTS_KEY_ECDSA_P256, 0, 0);
	certs_info i;
	cg_error err = {0};
	assert_int_equal(certs_check_serving(path("ec", "tls.crt"), path("ec", "tls.key"),
					     "capgate.gate-system.svc", &i, &err),
			 0);
	assert_string_equal(i.sans, "capgate, capgate.gate-system, capgate.gate-system.svc, "
				    "capgate.gate-system.svc.cluster.local");
	assert_string_equal(i.key_type, "ECDSA P-256");
	assert_string_equal(i.sig_alg, "ecdsa-with-SHA256");
	assert_true(i.key_checked && i.key_matches && i.has_dns_san && i.server_auth);
	assert_true(i.service_checked && i.service_covered);
	assert_false(i.sha1 || i.is_ca);
	assert_non_null(strstr(i.subject, "CN=capgate.gate-system.svc"));
	assert_non_null(strstr(i.issuer, "capgate CA"));
	/* Valid now, for a year from now (within the clock-skew backdating). */
	assert_true(i.not_before <= before && i.not_before >= before - 600);
	assert_in_range(i.not_after - before, 365 * DAY - 5, 365 * DAY + 5);

	assert_int_equal(certs_inspect(path("ec", "ca.crt"), path("ec", "ca.key"), &i, &err), 0);
	assert_true(i.is_ca && i.key_matches);
	assert_false(i.has_dns_san);
	assert_in_range(i.not_after - before, 3650 * DAY - 5, 3650 * DAY + 5);

	assert_int_equal(mode_of(path("ec", "tls.key")), 0600);
	assert_int_equal(mode_of(path("ec", "ca.key")), 0600);
	assert_int_equal(mode_of(path("ec", "tls.crt")), 0644);
	/* Exactly the four files: no temp file left behind. */
	DIR *d = opendir(path("ec", ""));
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 4);
}

static void test_create_rsa(void **state)
{
	(void)state;
	/* RSA key generation can take seconds (much longer under valgrind):
	 * not_after lies 30 days after some moment inside the call. */
	time_t before = time(NULL);
	create("rsa", CERTS_KEY_RSA_2048, 30, 0);
	time_t after = time(NULL);
	certs_info i;
	cg_error err = {0};
	assert_int_equal(certs_check_serving(path("rsa", "tls.crt"), path("rsa", "tls.key"),
					     "capgate.gate-system.svc", &i, &err),
			 0);
	assert_string_equal(i.key_type, "RSA 2048");
	assert_string_equal(i.sig_alg, "sha256WithRSAEncryption");
	assert_in_range(i.not_after, before + 30 * DAY - 1, after + 30 * DAY + 1);
	assert_int_equal(certs_inspect(path("rsa", "ca.crt"), NULL, &i, &err), 0);
	assert_string_equal(i.key_type, "RSA 2048");
}

static void test_recreate_replaces_keys_and_serials(void **state)
{
	(void)state;
	certs_info a, b;
	cg_error err = {0};
	create("again", CERTS_KEY_ECDSA_P256, 0, 0);
	assert_int_equal(certs_inspect(path("again", "tls.crt"), NULL, &a, &err), 0);
	create("again", CERTS_KEY_ECDSA_P256, 0, 0);
	assert_int_equal(certs_inspect(path("again", "tls.crt"), NULL, &b, &err), 0);
	assert_string_not_equal(a.serial, b.serial);
	/* 128 random bits: 31 or 32 hex digits (a leading zero nibble drops). */
	assert_in_range(strlen(b.serial), 30, 32);
	/* The new key replaced the old one and is still private. */
	assert_int_equal(certs_check_serving(path("again", "tls.crt"), path("again", "tls.key"),
					     NULL, &b, &err),
			 0);
	assert_int_equal(mode_of(path("again", "tls.key")), 0600);
}

static void test_key_mismatch(void **state)
{
	(void)state;
	create("mismatch", CERTS_KEY_ECDSA_P256, 0, 0);
	certs_info i;
	cg_error err = {0};
	assert_int_equal(
		certs_inspect(path("mismatch", "tls.crt"), path("mismatch", "ca.key"), &i, &err),
		0);
	assert_true(i.key_checked);
	assert_false(i.key_matches);
	assert_int_not_equal(certs_check_serving(path("mismatch", "tls.crt"),
						 path("mismatch", "ca.key"), NULL, &i, &err),
			     0);
	assert_non_null(strstr(err.msg, path("mismatch", "ca.key")));
	assert_non_null(strstr(err.msg, "does not match"));
}

static void test_expired_and_not_yet_valid(void **state)
{
	(void)state;
	time_t now = time(NULL);
	certs_info i;
	cg_error err = {0};
	const char *why[8];

	create("expired", CERTS_KEY_ECDSA_P256, 1, now - 10 * DAY);
	assert_int_not_equal(certs_check_serving(path("expired", "tls.crt"),
						 path("expired", "tls.key"), NULL, &i, &err),
			     0);
	assert_non_null(strstr(err.msg, "tls.crt: certificate expired on "));
	assert_int_equal(certs_problems(&i, now, why, 8), 1);
	assert_string_equal(why[0], "expired");
	/* The same certificate judged ten days ago was fine. */
	assert_int_equal(certs_problems(&i, now - 9 * DAY - 3600, why, 8), 0);

	create("future", CERTS_KEY_ECDSA_P256, 0, now + 2 * DAY);
	assert_int_not_equal(certs_check_serving(path("future", "tls.crt"), NULL, NULL, &i, &err),
			     0);
	assert_non_null(strstr(err.msg, "not valid before"));
}

static void test_sha1_rejected(void **state)
{
	(void)state;
	openssl_in("sha1", "req -x509 -sha1 -newkey rsa:2048 -nodes -keyout tls.key -out tls.crt "
			   "-days 30 -subj /CN=capgate.gate-system.svc "
			   "-addext subjectAltName=DNS:capgate.gate-system.svc");
	certs_info i;
	cg_error err = {0};
	assert_int_equal(certs_inspect(path("sha1", "tls.crt"), NULL, &i, &err), 0);
	assert_true(i.sha1);
	assert_string_equal(i.sig_alg, "sha1WithRSAEncryption");
	assert_int_not_equal(certs_check_serving(path("sha1", "tls.crt"), path("sha1", "tls.key"),
						 "capgate.gate-system.svc", &i, &err),
			     0);
	assert_non_null(strstr(err.msg, "SHA-1"));
}

static void test_no_san_rejected_even_if_cn_matches(void **state)
{
	(void)state;
	openssl_in("nosan",
		   "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		   "-keyout tls.key -out tls.crt -days 30 -subj /CN=capgate.gate-system.svc");
	certs_info i;
	cg_error err = {0};
	assert_int_equal(certs_inspect_service(path("nosan", "tls.crt"), path("nosan", "tls.key"),
					       "capgate.gate-system.svc", &i, &err),
			 0);
	assert_false(i.has_dns_san);
	/* Go >= 1.15 never falls back to the CN, so neither do we. */
	assert_false(i.service_covered);
	assert_int_not_equal(certs_check_serving(path("nosan", "tls.crt"), path("nosan", "tls.key"),
						 NULL, &i, &err),
			     0);
	assert_non_null(strstr(err.msg, "no DNS subjectAltName"));
}

static void test_client_only_eku_rejected(void **state)
{
	(void)state;
	openssl_in("client", "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
			     "-keyout tls.key -out tls.crt -days 30 -subj /CN=x "
			     "-addext subjectAltName=DNS:capgate.gate-system.svc "
			     "-addext extendedKeyUsage=clientAuth");
	certs_info i;
	cg_error err = {0};
	assert_int_not_equal(certs_check_serving(path("client", "tls.crt"), NULL, NULL, &i, &err),
			     0);
	assert_false(i.server_auth);
	assert_non_null(strstr(err.msg, "serverAuth"));
}

static void test_service_coverage(void **state)
{
	(void)state;
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/extra", tmp);
	const char *dns[] = {"*.example.com", "webhook.internal"};
	const char *ips[] = {"10.1.2.3", "fd00::1"};
	certs_create_opts o = {.service = "svc",
			       .namespace = "ns",
			       .out_dir = dir,
			       .dns = dns,
			       .n_dns = 2,
			       .ips = ips,
			       .n_ips = 2};
	cg_error err = {0};
	assert_int_equal(certs_create(&o, &err), 0);

	struct {
		const char *name;
		bool covered;
	} cases[] = {
		{"svc.ns.svc", true},	    {"svc.ns.svc.cluster.local", true},
		{"svc.ns", true},	    {"svc", true},
		{"SVC.NS.SVC", true},	    {"other.ns.svc", false},
		{"svc.other.svc", false},   {"a.example.com", true},
		{"a.b.example.com", false}, {"webhook.internal", true},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		certs_info i;
		assert_int_equal(certs_inspect_service(path("extra", "tls.crt"), NULL,
						       cases[k].name, &i, &err),
				 0);
		if (i.service_covered != cases[k].covered)
			fail_msg("%s: covered=%d, want %d", cases[k].name, i.service_covered,
				 cases[k].covered);
		int rc = certs_check_serving(path("extra", "tls.crt"), path("extra", "tls.key"),
					     cases[k].name, &i, &err);
		assert_int_equal(rc == 0, cases[k].covered);
		if (!cases[k].covered)
			assert_non_null(strstr(err.msg, "does not cover"));
	}
	certs_info i;
	assert_int_equal(certs_inspect(path("extra", "tls.crt"), NULL, &i, &err), 0);
	assert_string_equal(i.ip_sans, "10.1.2.3, fd00::1");
}

static void test_bad_create_options(void **state)
{
	(void)state;
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/bad", tmp);
	const char *bad_dns[] = {"bad..name"};
	const char *bad_ip[] = {"300.1.1.1"};
	struct {
		certs_create_opts o;
		const char *msg;
	} cases[] = {
		{{.service = "Capgate", .namespace = "ns", .out_dir = dir},
		 "--service \"Capgate\""},
		{{.service = "c", .namespace = "-ns", .out_dir = dir}, "--namespace \"-ns\""},
		{{.service = "c", .namespace = "ns", .out_dir = dir, .days = 5000}, "--days 5000"},
		{{.service = "c", .namespace = "ns", .out_dir = dir, .dns = bad_dns, .n_dns = 1},
		 "--dns \"bad..name\""},
		{{.service = "c", .namespace = "ns", .out_dir = dir, .ips = bad_ip, .n_ips = 1},
		 "--ip \"300.1.1.1\""},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		cg_error err = {0};
		assert_int_not_equal(certs_create(&cases[k].o, &err), 0);
		if (strstr(err.msg, cases[k].msg) == NULL)
			fail_msg("case %zu: \"%s\" does not name %s", k, err.msg, cases[k].msg);
	}
	/* Nothing was written for a refused request. */
	struct stat st;
	assert_int_not_equal(stat(dir, &st), 0);
}

static void test_unreadable_inputs(void **state)
{
	(void)state;
	create("unread", CERTS_KEY_ECDSA_P256, 0, 0);
	FILE *f = fopen(path("unread", "garbage"), "w");
	assert_non_null(f);
	fputs("not a certificate\n", f);
	fclose(f);
	struct {
		const char *cert, *key, *msg;
	} cases[] = {
		{path("unread", "missing.crt"), NULL, "missing.crt: cannot open: No such file"},
		{path("unread", "garbage"), NULL, "garbage: neither a PEM nor a DER certificate"},
		{path("unread", "tls.key"), NULL, "tls.key: no PEM CERTIFICATE in it"},
		{path("unread", "tls.crt"), path("unread", "tls.crt"), "tls.crt: no unencrypted"},
		{path("unread", ""), NULL, "not a regular file"},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		certs_info i;
		cg_error err = {0};
		assert_int_not_equal(
			certs_check_serving(cases[k].cert, cases[k].key, NULL, &i, &err), 0);
		if (strstr(err.msg, cases[k].msg) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", k, err.msg, cases[k].msg);
	}
}

static void test_cabundle(void **state)
{
	(void)state;
	create("bundle", CERTS_KEY_ECDSA_P256, 0, 0);
	cleanup_free char *b64 = NULL;
	cg_error err = {0};
	assert_int_equal(certs_cabundle(path("bundle", "ca.crt"), &b64, &err), 0);
	assert_null(strchr(b64, '\n'));

	FILE *f = fopen(path("bundle", "ca.crt"), "r");
	assert_non_null(f);
	char pem[8192];
	size_t n = fread(pem, 1, sizeof(pem), f);
	fclose(f);
	unsigned char decoded[8192];
	int len = EVP_DecodeBlock(decoded, (const unsigned char *)b64, (int)strlen(b64));
	assert_true(len >= (int)n);
	/* EVP_DecodeBlock counts the '=' padding as zero bytes. */
	assert_memory_equal(decoded, pem, n);
	assert_in_range(len - (int)n, 0, 2);

	cleanup_free char *leak = NULL;
	assert_int_not_equal(certs_cabundle(path("bundle", "tls.key"), &leak, &err), 0);
	assert_non_null(strstr(err.msg, "PRIVATE KEY"));
	assert_null(leak);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_ecdsa_round_trip),
		cmocka_unit_test(test_create_rsa),
		cmocka_unit_test(test_recreate_replaces_keys_and_serials),
		cmocka_unit_test(test_key_mismatch),
		cmocka_unit_test(test_expired_and_not_yet_valid),
		cmocka_unit_test(test_sha1_rejected),
		cmocka_unit_test(test_no_san_rejected_even_if_cn_matches),
		cmocka_unit_test(test_client_only_eku_rejected),
		cmocka_unit_test(test_service_coverage),
		cmocka_unit_test(test_bad_create_options),
		cmocka_unit_test(test_unreadable_inputs),
		cmocka_unit_test(test_cabundle),
	};
	return cmocka_run_group_tests_name("certs", tests, group_setup, group_teardown);
}
