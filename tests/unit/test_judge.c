/* The per-container capability judgement (policy/judge.h): what a container
 * keeps, what is stripped or denied, what a root container loses with drop
 * ALL, and the exact operations emitted, on a decision set up by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy/judge.h"
#include "tests/unit/decision_fixture.h"

/* judge_caps, judge_root, judge_emit: engine.c's order without the
 * non-root step. */
static int judge(fixture *f, size_t i)
{
	decision_ctr *ct = fixture_ctr(f, i);
	if (judge_caps(&f->c, ct) < 0)
		return -1;
	if (f->c.denied)
		return 0;
	if (judge_root(&f->c, ct) < 0)
		return -1;
	return judge_emit(&f->c, ct);
}

static void test_strip_keeps_allowed(void **state)
{
	(void)state;
	fixture f;
	fixture_start(&f, "  allowedCapabilities: [NET_BIND_SERVICE]\n",
		      "{\"spec\":{\"containers\":[{\"name\":\"web\",\"securityContext\":{"
		      "\"runAsUser\":1000,\"capabilities\":{\"add\":[\"net_bind_service\","
		      "\"CAP_SYS_ADMIN\",\"NOT_A_CAP\"]}}}]}}");
	assert_int_equal(judge(&f, 0), 0);
	assert_int_equal(f.ct.keep, CAPS_BIT(CAPS_NET_BIND_SERVICE));
	assert_false(f.ct.tidy); /* lower case, CAP_ prefix, an unknown name */
	assert_false(f.c.denied);
	assert_true(f.c.changed);
	assert_json_text(f.c.ops,
			 "[{\"op\":\"add\",\"path\":\"/spec/containers/0/securityContext/"
			 "capabilities\",\"value\":{\"add\":[\"NET_BIND_SERVICE\"],\"drop\":["
			 "\"ALL\"]}}]");
	assert_json_text(f.c.warnings, "[\"container \\\"web\\\": removed SYS_ADMIN, "
				       "\\\"NOT_A_CAP\\\" (not allowed by capgate policy)\"]");
	/* Names that are not capabilities are quoted as written. */
	assert_json_text(json_object_get(f.c.audit, "stripped"),
			 "\"SYS_ADMIN, \\\"NOT_A_CAP\\\"\"");
	fixture_end(&f);
}

static void test_deny_names_container(void **state)
{
	(void)state;
	fixture f;
	fixture_start(&f, "  allowedCapabilities: []\n  onDisallowed: deny\n",
		      "{\"spec\":{\"containers\":[{\"name\":\"a\",\"securityContext\":{"
		      "\"privileged\":true,\"capabilities\":{\"add\":[\"NET_RAW\"]}}}]}}");
	assert_int_equal(judge(&f, 0), 0);
	assert_true(f.c.denied);
	assert_string_equal(f.c.deny_msg, "capgate: container \"a\" adds NET_RAW (not in "
					  "allowedCapabilities); container \"a\" is privileged "
					  "(allowPrivileged is false)");
	assert_int_equal(json_array_size(f.c.ops), 0);
	fixture_end(&f);
}

/* A specific drop wins over an add and cancels a defaultAdd. */
static void test_specific_drop_wins(void **state)
{
	(void)state;
	fixture f;
	fixture_start(&f,
		      "  allowedCapabilities: [NET_BIND_SERVICE, CHOWN]\n"
		      "  defaultAddCapabilities: [CHOWN]\n",
		      "{\"spec\":{\"containers\":[{\"name\":\"a\",\"securityContext\":{"
		      "\"runAsNonRoot\":true,\"capabilities\":{\"add\":[\"NET_BIND_SERVICE\"],"
		      "\"drop\":[\"NET_BIND_SERVICE\",\"CHOWN\"]}}}]}}");
	assert_int_equal(judge(&f, 0), 0);
	assert_int_equal(f.ct.keep, 0);
	assert_int_equal(f.ct.drop_specific,
			 CAPS_BIT(CAPS_NET_BIND_SERVICE) | CAPS_BIT(CAPS_CHOWN));
	assert_json_text(f.c.ops, "[{\"op\":\"add\",\"path\":\"/spec/containers/0/securityContext/"
				  "capabilities\",\"value\":{\"drop\":[\"CHOWN\","
				  "\"NET_BIND_SERVICE\",\"ALL\"]}}]");
	fixture_end(&f);
}

/* Root with a declared port below 1024 keeps NET_BIND_SERVICE (the
 * runtime default it bound with); drop ALL's other losses are named. */
static void test_root_low_port_keeps_bind(void **state)
{
	(void)state;
	fixture f;
	fixture_start(&f, "  allowedCapabilities: [NET_BIND_SERVICE]\n",
		      "{\"spec\":{\"containers\":[{\"name\":\"nginx\",\"ports\":[{"
		      "\"containerPort\":8080},{\"containerPort\":80}]}]}}");
	assert_int_equal(judge(&f, 0), 0);
	assert_int_equal(f.ct.user, 0);
	assert_int_equal(f.ct.keep, CAPS_BIT(CAPS_NET_BIND_SERVICE));
	assert_json_text(f.c.ops,
			 "[{\"op\":\"add\",\"path\":\"/spec/containers/0/securityContext\","
			 "\"value\":{\"capabilities\":{\"add\":[\"NET_BIND_SERVICE\"],\"drop\":["
			 "\"ALL\"]}}}]");
	assert_int_equal(json_array_size(f.c.warnings), 1);
	assert_non_null(strstr(json_string_value(json_array_get(f.c.warnings, 0)),
			       "container \"nginx\" may run as root"));
	fixture_end(&f);
}

/* A compliant container gets no operation at all. */
static void test_compliant_untouched(void **state)
{
	(void)state;
	fixture f;
	fixture_start(&f, "  allowedCapabilities: [NET_BIND_SERVICE]\n",
		      "{\"spec\":{\"containers\":[{\"name\":\"a\",\"securityContext\":{"
		      "\"capabilities\":{\"add\":[\"NET_BIND_SERVICE\"],\"drop\":[\"ALL\"]}}}]}}");
	assert_int_equal(judge(&f, 0), 0);
	assert_false(f.c.changed);
	assert_int_equal(json_array_size(f.c.ops), 0);
	assert_int_equal(json_array_size(f.c.warnings), 0);
	assert_int_equal(json_array_size(f.c.changes), 0);
	fixture_end(&f);
}

static void test_wrong_types_named(void **state)
{
	(void)state;
	static const char *const pods[][2] = {
		{"{\"spec\":{\"containers\":[{\"name\":\"a\",\"securityContext\":{\"capabilities\":"
		 "[]}}]}}",
		 "Pod.spec.containers[0]: securityContext.capabilities is not an object"},
		{"{\"spec\":{\"containers\":[{\"name\":\"a\",\"securityContext\":{\"capabilities\":"
		 "{\"drop\":\"ALL\"}}}]}}",
		 "Pod.spec.containers[0]: capabilities.drop is not a list"},
		{"{\"spec\":{\"containers\":[{\"name\":\"a\",\"securityContext\":{\"privileged\":"
		 "\"yes\"}}]}}",
		 "Pod.spec.containers[0]: securityContext.privileged is not a boolean"},
		{"{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":\"80\"}]"
		 "}]"
		 "}}",
		 "Pod.spec.containers[0]: ports[0].containerPort is not an integer"},
	};
	for (size_t i = 0; i < sizeof(pods) / sizeof(pods[0]); i++) {
		fixture f;
		fixture_start(&f, "  allowedCapabilities: [NET_BIND_SERVICE]\n", pods[i][0]);
		assert_true(judge(&f, 0) < 0);
		assert_string_equal(f.err.msg, pods[i][1]);
		fixture_end(&f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strip_keeps_allowed),
		cmocka_unit_test(test_deny_names_container),
		cmocka_unit_test(test_specific_drop_wins),
		cmocka_unit_test(test_root_low_port_keeps_bind),
		cmocka_unit_test(test_compliant_untouched),
		cmocka_unit_test(test_wrong_types_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
