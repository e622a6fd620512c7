/* Kubernetes name syntax, checked against apimachinery's rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "policy/k8sname.h"

typedef bool (*check_fn)(const char *s, size_t len);

static void expect(check_fn f, const char *s, bool want)
{
	if (f(s, strlen(s)) != want)
		fail_msg("\"%s\": expected %s", s, want ? "valid" : "invalid");
}

static char *repeat(char *buf, char c, size_t n, const char *tail)
{
	memset(buf, c, n);
	strcpy(buf + n, tail);
	return buf;
}

static void test_dns_label(void **state)
{
	(void)state;
	char b[300];
	expect(k8sname_is_dns_label, "kube-system", true);
	expect(k8sname_is_dns_label, "a", true);
	expect(k8sname_is_dns_label, "0abc9", true);
	expect(k8sname_is_dns_label, repeat(b, 'a', 63, ""), true);
	expect(k8sname_is_dns_label, repeat(b, 'a', 64, ""), false);
	expect(k8sname_is_dns_label, "", false);
	expect(k8sname_is_dns_label, "Kube-System", false);
	expect(k8sname_is_dns_label, "-a", false);
	expect(k8sname_is_dns_label, "a-", false);
	expect(k8sname_is_dns_label, "a_b", false);
	expect(k8sname_is_dns_label, "a.b", false);
	/* Only len bytes are read. */
	assert_true(k8sname_is_dns_label("abc!", 3));
}

static void test_dns_subdomain(void **state)
{
	(void)state;
	char b[300];
	expect(k8sname_is_dns_subdomain, "default", true);
	expect(k8sname_is_dns_subdomain, "full.example", true);
	expect(k8sname_is_dns_subdomain, "a-1.b-2.c", true);
	/* apimachinery limits the whole name, not each dot-separated part. */
	expect(k8sname_is_dns_subdomain, repeat(b, 'a', 100, ".b"), true);
	expect(k8sname_is_dns_subdomain, repeat(b, 'a', 253, ""), true);
	expect(k8sname_is_dns_subdomain, repeat(b, 'a', 254, ""), false);
	expect(k8sname_is_dns_subdomain, "", false);
	expect(k8sname_is_dns_subdomain, "a..b", false);
	expect(k8sname_is_dns_subdomain, ".a", false);
	expect(k8sname_is_dns_subdomain, "a.", false);
	expect(k8sname_is_dns_subdomain, "a.-b", false);
	expect(k8sname_is_dns_subdomain, "My_Policy", false);
}

static void test_qualified_name(void **state)
{
	(void)state;
	char b[400];
	expect(k8sname_is_qualified_name, "team", true);
	expect(k8sname_is_qualified_name, "app.kubernetes.io/name", true);
	expect(k8sname_is_qualified_name, "capgate.dev/exempt", true);
	expect(k8sname_is_qualified_name, "Team_1.x-Y", true);
	expect(k8sname_is_qualified_name, repeat(b, 'n', 63, ""), true);
	expect(k8sname_is_qualified_name, repeat(b, 'n', 64, ""), false);
	expect(k8sname_is_qualified_name, "", false);
	expect(k8sname_is_qualified_name, "team/", false);
	expect(k8sname_is_qualified_name, "/team", false);
	expect(k8sname_is_qualified_name, "a/b/c", false);
	expect(k8sname_is_qualified_name, "Example.com/x", false);
	expect(k8sname_is_qualified_name, "_team", false);
	expect(k8sname_is_qualified_name, "team.", false);
	expect(k8sname_is_qualified_name, "te am", false);
}

static void test_label_value(void **state)
{
	(void)state;
	char b[100];
	expect(k8sname_is_label_value, "", true);
	expect(k8sname_is_label_value, "net", true);
	expect(k8sname_is_label_value, "v1.2_3-x", true);
	expect(k8sname_is_label_value, repeat(b, 'v', 63, ""), true);
	expect(k8sname_is_label_value, repeat(b, 'v', 64, ""), false);
	expect(k8sname_is_label_value, "net ops", false);
	expect(k8sname_is_label_value, "-net", false);
	expect(k8sname_is_label_value, "a/b", false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_label),
		cmocka_unit_test(test_dns_subdomain),
		cmocka_unit_test(test_qualified_name),
		cmocka_unit_test(test_label_value),
	};
	return cmocka_run_group_tests_name("k8sname", tests, NULL, NULL);
}
