/* The non-root strategies (policy/nonroot.h, policy/wrapper.h): a pod
 * sysctl where one stands in for the capability (the lowest port, the
 * ping group), the capgate-ambient wrapper where none does, a denial or
 * a warning where neither can, and the pod-level operations and the
 * capgate.dev/applied record once every container is judged. Each on a
 * decision set up by hand, with the exact operations checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy/judge.h"
#include "policy/nonroot.h"
#include "tests/unit/decision_fixture.h"

/* Every container in engine.c's order, then the pod-level step. */
static int judge_pod(fixture *f, nonroot_state *nr)
{
	nonroot_begin(nr);
	size_t n = json_array_size(json_object_get(f->c.pod_spec, "containers"));
	for (size_t i = 0; i < n; i++) {
		decision_ctr *ct = fixture_ctr(f, i);
		if (judge_caps(&f->c, ct) < 0 || judge_root(&f->c, ct) < 0 ||
		    nonroot_judge(nr, &f->c, ct) < 0 || judge_emit(&f->c, ct) < 0)
			return -1;
	}
	f->c.cur = NULL;
	return f->c.denied ? 0 : nonroot_finish(nr, &f->c);
}

static json_t *op_at(fixture *f, const char *path)
{
	size_t i;
	json_t *op;
	json_array_foreach(f->c.ops, i, op)
	{
		if (strcmp(json_string_value(json_object_get(op, "path")), path) == 0)
			return json_object_get(op, "value");
	}
	fail_msg("no operation at %s", path);
	return NULL;
}

/* Two non-root containers binding 443 and 80: one pod sysctl opens from
 * the lowest; the capability they asked for stays in add (files with
 * cap_net_bind_service+ep need it in the bounding set). */
static void test_sysctl_lowest_port(void **state)
{
	(void)state;
	fixture f;
	nonroot_state nr;
	fixture_start(&f,
		      "  allowedCapabilities: [NET_BIND_SERVICE]\n  nonRoot: {strategy: sysctl}\n",
		      "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"securityContext\":{\"runAsUser\":"
		      "101},\"containers\":[{\"name\":\"tls\",\"ports\":[{\"containerPort\":443}],"
		      "\"securityContext\":{\"capabilities\":{\"add\":[\"NET_BIND_SERVICE\"]}}},"
		      "{\"name\":\"http\",\"ports\":[{\"containerPort\":80}],\"securityContext\":{"
		      "\"capabilities\":{\"add\":[\"NET_BIND_SERVICE\"]}}}]}}");
	assert_int_equal(judge_pod(&f, &nr), 0);
	assert_int_equal(nr.port_start, 80);
	assert_int_equal(nr.ping_gid, -1);
	assert_json_text(op_at(&f, "/spec/securityContext/sysctls"),
			 "[{\"name\":\"net.ipv4.ip_unprivileged_port_start\",\"value\":\"80\"}]");
	assert_json_text(op_at(&f, "/spec/containers/1/securityContext/capabilities"),
			 "{\"add\":[\"NET_BIND_SERVICE\"],\"drop\":[\"ALL\"]}");
	assert_string_equal(nr.applied, "sysctl:tls=NET_BIND_SERVICE;sysctl:http=NET_BIND_SERVICE");
	assert_json_text(op_at(&f, "/metadata/annotations"),
			 "{\"capgate.dev/applied\":\"sysctl:tls=NET_BIND_SERVICE;sysctl:http="
			 "NET_BIND_SERVICE\"}");
	assert_json_text(json_object_get(f.c.audit, "nonroot"), "\"sysctl:tls=NET_BIND_SERVICE;"
								"sysctl:http=NET_BIND_SERVICE\"");
	fixture_end(&f);
}

/* NET_RAW for ping: ping_group_range for the container's group. */
static void test_sysctl_ping_group(void **state)
{
	(void)state;
	fixture f;
	nonroot_state nr;
	fixture_start(&f,
		      "  allowedCapabilities: [NET_BIND_SERVICE, NET_RAW]\n"
		      "  nonRoot: {strategy: sysctl, netRaw: ping}\n",
		      "{\"spec\":{\"containers\":[{\"name\":\"probe\",\"securityContext\":{"
		      "\"runAsUser\":1000,\"runAsGroup\":3000,\"capabilities\":{\"add\":["
		      "\"NET_RAW\"]}}}]}}");
	assert_int_equal(judge_pod(&f, &nr), 0);
	assert_int_equal(nr.ping_gid, 3000);
	assert_json_text(op_at(&f, "/spec/securityContext"),
			 "{\"sysctls\":[{\"name\":\"net.ipv4.ping_group_range\",\"value\":\"3000 "
			 "3000\"}]}");
	assert_string_equal(nr.applied, "sysctl:probe=NET_RAW");
	fixture_end(&f);
}

/* No sysctl stands in for NET_ADMIN: the wrapper raises it, from the
 * image's volume, and the pod records it. */
static void test_wrapper_wraps_command(void **state)
{
	(void)state;
	fixture f;
	nonroot_state nr;
	fixture_start(&f,
		      "  allowedCapabilities: [NET_BIND_SERVICE, NET_ADMIN]\n"
		      "  nonRoot:\n    strategy: ambient\n    ambient: {image: "
		      "registry.example.com/capgate:0.1.0}\n",
		      "{\"spec\":{\"containers\":[{\"name\":\"vpn\",\"command\":[\"/vpn\",\"-d\"],"
		      "\"securityContext\":{\"runAsNonRoot\":true,\"capabilities\":{\"add\":["
		      "\"NET_ADMIN\"]}}}]}}");
	assert_int_equal(judge_pod(&f, &nr), 0);
	assert_false(f.c.denied);
	assert_true(nr.wrap.acted);
	assert_true(nr.wrap.wrapped_init);
	assert_int_equal(nr.wrap.init_caps, CAPS_BIT(CAPS_NET_ADMIN));
	assert_json_text(
		op_at(&f, "/spec/containers/0/command"),
		"[\"/capgate/capgate-ambient\",\"--caps=NET_ADMIN\",\"--\",\"/vpn\",\"-d\"]");
	json_t *init = op_at(&f, "/spec/initContainers");
	assert_string_equal(json_string_value(json_object_get(json_array_get(init, 0), "name")),
			    WRAPPER_INIT_CONTAINER);
	assert_string_equal(nr.applied, "ambient:vpn=NET_ADMIN");
	assert_non_null(strstr(json_string_value(json_array_get(f.c.warnings, 0)),
			       "container \"vpn\" runs as non-root: NET_ADMIN made ambient"));
	fixture_end(&f);
}

/* strategy ambient and nothing to wrap (no command, no entrypoint for the
 * image): denied, with the reason. strategy auto: a warning instead. */
static void test_cannot_wrap(void **state)
{
	(void)state;
	static const char *const pod =
		"{\"spec\":{\"containers\":[{\"name\":\"vpn\",\"image\":\"example/vpn:1\","
		"\"securityContext\":{\"runAsUser\":1000,\"capabilities\":{\"add\":[\"NET_ADMIN\"]"
		"}}}]}}";
	fixture f;
	nonroot_state nr;
	fixture_start(&f,
		      "  allowedCapabilities: [NET_ADMIN]\n  nonRoot:\n    strategy: ambient\n"
		      "    ambient: {image: registry.example.com/capgate:0.1.0}\n",
		      pod);
	assert_int_equal(judge_pod(&f, &nr), 0);
	assert_true(f.c.denied);
	assert_string_equal(
		f.c.deny_msg,
		"capgate: container \"vpn\" runs as non-root and needs NET_ADMIN, which "
		"the wrapper cannot give: no command to wrap, no policy entrypoint for its "
		"image");
	fixture_end(&f);
	fixture_start(&f,
		      "  allowedCapabilities: [NET_ADMIN]\n  nonRoot:\n    strategy: auto\n"
		      "    ambient: {image: registry.example.com/capgate:0.1.0}\n",
		      pod);
	assert_int_equal(judge_pod(&f, &nr), 0);
	assert_false(f.c.denied);
	assert_string_equal(nr.applied, "");
	assert_json_text(f.c.warnings,
			 "[\"container \\\"vpn\\\" runs as non-root: NET_ADMIN will have no effect "
			 "(no command to wrap, no policy entrypoint for its image)\"]");
	fixture_end(&f);
}

/* strategy none: the non-root step does nothing; a root container is not
 * its business either. */
static void test_none_and_root(void **state)
{
	(void)state;
	fixture f;
	nonroot_state nr;
	fixture_start(
		&f, "  allowedCapabilities: [NET_BIND_SERVICE]\n  nonRoot: {strategy: none}\n",
		"{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80}],"
		"\"securityContext\":{\"runAsUser\":1000,\"capabilities\":{\"add\":["
		"\"NET_BIND_SERVICE\"]}}}]}}");
	assert_int_equal(judge_pod(&f, &nr), 0);
	assert_int_equal(nr.port_start, -1);
	assert_string_equal(nr.applied, "");
	assert_int_equal(json_array_size(f.c.ops), 1); /* only the capabilities */
	fixture_end(&f);
	fixture_start(
		&f, "  allowedCapabilities: [NET_BIND_SERVICE]\n  nonRoot: {strategy: sysctl}\n",
		"{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":80}],"
		"\"securityContext\":{\"runAsUser\":0,\"capabilities\":{\"add\":["
		"\"NET_BIND_SERVICE\"]}}}]}}");
	assert_int_equal(judge_pod(&f, &nr), 0);
	assert_int_equal(nr.port_start, -1);
	assert_int_equal(json_array_size(f.c.ops), 1);
	fixture_end(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sysctl_lowest_port),
		cmocka_unit_test(test_sysctl_ping_group),
		cmocka_unit_test(test_wrapper_wraps_command),
		cmocka_unit_test(test_cannot_wrap),
		cmocka_unit_test(test_none_and_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
