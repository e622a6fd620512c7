/* Policy loader: the default and full policies read as documented, rules are
 * resolved, capability spellings are normalised, and every bad policy in
 * tests/data/policies/bad/ fails with exactly the message in its .err file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "policy/policy.h"

/* Paths are found from this file's own path, so the test runs from the
 * repository root (as `make test` does); CAPGATE_TEST_POLICIES points the
 * data-driven tests at another directory. */
static const char *repo_path(const char *rel, char *out, size_t outsz)
{
	const char *f = __FILE__;
	const char *cut = strstr(f, "tests/unit/test_policy.c");
	snprintf(out, outsz, "%.*s%s", (int)(cut - f), f, rel);
	return out;
}

static const char *data_dir(void)
{
	static char dir[4096];
	const char *env = getenv("CAPGATE_TEST_POLICIES");
	if (dir[0] == '\0' && env != NULL)
		snprintf(dir, sizeof(dir), "%s", env);
	else if (dir[0] == '\0')
		repo_path("tests/data/policies", dir, sizeof(dir));
	return dir;
}

static char *read_file(const char *path, size_t *len)
{
	cleanup_fclose FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	for (;;) {
		if (n + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap);
			assert_non_null(nb);
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Loads tests/data/policies/<rel>, failing the test with the loader's
 * message when it does not load. */
static cg_policy *load_data(const char *rel)
{
	char path[4200];
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", data_dir(), rel);
	cleanup_free char *buf = read_file(path, &len);
	if (buf == NULL)
		fail_msg("cannot read %s", path);
	cg_error err = {0};
	cg_policy *p = NULL;
	if (policy_load(buf, len, rel, &p, &err) < 0)
		fail_msg("%s", err.msg);
	return p;
}

static int load_string(const char *yaml, cg_policy **p, cg_error *err)
{
	return policy_load(yaml, strlen(yaml), "t.yaml", p, err);
}

static void assert_strlist(const policy_strlist *l, size_t n, ...)
{
	va_list ap;
	assert_int_equal(l->n, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(l->v[i], va_arg(ap, const char *));
	va_end(ap);
}

static caps_set caps(int a, int b, int c)
{
	caps_set s = 0;
	int v[3] = {a, b, c};
	for (int i = 0; i < 3; i++)
		if (v[i] >= 0)
			s |= CAPS_BIT(v[i]);
	return s;
}
#define CAP(name) caps_lookup(name, strlen(name))

static void test_default_policy(void **state)
{
	(void)state;
	cg_error err = {0};
	cleanup_policy cg_policy *p = NULL;
	if (policy_load_default(&p, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(p->name, "default");
	assert_int_equal(p->spec.mode, POLICY_ENFORCE);
	assert_true(p->spec.required_drop == CAPS_BIT(CAPS_ALL));
	assert_true(p->spec.allowed == CAPS_BIT(CAP("NET_BIND_SERVICE")));
	assert_true(p->spec.default_add == 0);
	assert_int_equal(p->spec.on_disallowed, POLICY_STRIP);
	assert_false(p->spec.allow_privileged);
	assert_int_equal(p->spec.nonroot_strategy, POLICY_NONROOT_AUTO);
	assert_int_equal(p->on_error, POLICY_ERROR_DENY);
	assert_int_equal(p->nonroot.unprivileged_port_start, -1);
	assert_int_equal(p->nonroot.net_raw_use, POLICY_NET_RAW_PING);
	assert_int_equal(p->nonroot.runtime, POLICY_RUNTIME_CLOSED);
	assert_int_equal(p->nonroot.delivery, POLICY_DELIVERY_INIT_CONTAINER);
	assert_string_equal(p->nonroot.wrapper_path, "/capgate/capgate-ambient");
	/* No image every cluster can pull: none unless the admin names it. */
	assert_null(p->nonroot.image);
	assert_int_equal(p->nonroot.n_entrypoints, 0);
	assert_strlist(&p->exemptions.namespaces, 1, "kube-system");
	assert_int_equal(p->exemptions.images.n, 0);
	assert_int_equal(p->exemptions.container_names.n, 0);
	assert_int_equal(p->exemptions.labels.n, 0);
	assert_int_equal(p->n_rules, 0);
}

/* The embedded bytes are policy/default.yaml itself, not a copy of it. */
static void test_default_is_shipped_file(void **state)
{
	(void)state;
	char path[4200];
	size_t flen, elen;
	cleanup_free char *file =
		read_file(repo_path("policy/default.yaml", path, sizeof(path)), &flen);
	assert_non_null(file);
	const char *embedded = policy_default_yaml(&elen);
	assert_int_equal(elen, flen);
	assert_memory_equal(embedded, file, flen);
}

static void assert_full(const cg_policy *p)
{
	assert_string_equal(p->name, "full.example");
	assert_int_equal(p->spec.mode, POLICY_WARN);
	assert_true(p->spec.required_drop == (CAPS_BIT(CAPS_ALL) | CAPS_BIT(CAP("NET_RAW"))));
	assert_true(p->spec.allowed ==
		    caps(CAP("NET_BIND_SERVICE"), CAP("CHOWN"), CAP("SYS_TIME")));
	assert_true(p->spec.default_add == CAPS_BIT(CAP("CHOWN")));
	assert_int_equal(p->spec.on_disallowed, POLICY_DENY);
	assert_true(p->spec.allow_privileged);
	assert_int_equal(p->spec.nonroot_strategy, POLICY_NONROOT_AMBIENT);
	assert_int_equal(p->on_error, POLICY_ERROR_ALLOW);

	const policy_nonroot *nr = &p->nonroot;
	assert_int_equal(nr->unprivileged_port_start, 80);
	assert_int_equal(nr->net_raw_use, POLICY_NET_RAW_RAW);
	assert_int_equal(nr->runtime, POLICY_RUNTIME_OPEN);
	assert_int_equal(nr->delivery, POLICY_DELIVERY_IMAGE_VOLUME);
	assert_string_equal(nr->wrapper_path, "/opt/capgate/ambient");
	assert_string_equal(nr->image, "registry.example.com/capgate:1.2.3");
	assert_int_equal(nr->n_entrypoints, 2);
	assert_string_equal(nr->entrypoints[0].image, "docker.io/library/nginx:*");
	assert_strlist(&nr->entrypoints[0].command, 1, "/docker-entrypoint.sh");
	assert_true(nr->entrypoints[0].has_args);
	assert_strlist(&nr->entrypoints[0].args, 3, "nginx", "-g", "daemon off;");
	assert_string_equal(nr->entrypoints[1].image, "quay.io/prometheus/blackbox-exporter*");
	assert_strlist(&nr->entrypoints[1].command, 1, "/bin/blackbox_exporter");
	assert_false(nr->entrypoints[1].has_args);
	assert_int_equal(nr->entrypoints[1].args.n, 0);

	const policy_exemptions *ex = &p->exemptions;
	assert_strlist(&ex->namespaces, 2, "kube-system", "capgate-system");
	assert_strlist(&ex->images, 1, "registry.k8s.io/pause:*");
	assert_strlist(&ex->container_names, 1, "istio-proxy");
	assert_int_equal(ex->labels.n, 2);
	assert_string_equal(ex->labels.v[0].key, "capgate.dev/exempt");
	assert_string_equal(ex->labels.v[0].value, "true");
	assert_string_equal(ex->labels.v[1].key, "tier");
	assert_string_equal(ex->labels.v[1].value, "");

	assert_int_equal(p->n_rules, 2);
	const policy_rule *r = &p->rules[0];
	assert_string_equal(r->name, "netops");
	assert_strlist(&r->namespaces, 1, "netops");
	assert_int_equal(r->labels.n, 1);
	assert_string_equal(r->labels.v[0].key, "team");
	assert_string_equal(r->labels.v[0].value, "net");
	assert_int_equal(r->spec.mode, POLICY_ENFORCE);
	assert_true(r->spec.required_drop == CAPS_BIT(CAPS_ALL));
	assert_true(r->spec.allowed ==
		    caps(CAP("NET_BIND_SERVICE"), CAP("NET_RAW"), CAP("NET_ADMIN")));
	assert_true(r->spec.default_add == CAPS_BIT(CAP("NET_RAW")));
	assert_int_equal(r->spec.on_disallowed, POLICY_STRIP);
	assert_false(r->spec.allow_privileged);
	assert_int_equal(r->spec.nonroot_strategy, POLICY_NONROOT_SYSCTL);

	/* The second rule overrides one key and inherits the rest. */
	r = &p->rules[1];
	assert_string_equal(r->name, "time-keepers");
	assert_int_equal(r->namespaces.n, 0);
	assert_int_equal(r->labels.n, 1);
	assert_string_equal(r->labels.v[0].key, "app.kubernetes.io/name");
	assert_string_equal(r->labels.v[0].value, "chrony");
	assert_true(r->spec.allowed == caps(CAP("SYS_TIME"), CAP("CHOWN"), -1));
	assert_int_equal(r->spec.mode, POLICY_WARN);
	assert_true(r->spec.required_drop == p->spec.required_drop);
	assert_true(r->spec.default_add == p->spec.default_add);
	assert_int_equal(r->spec.on_disallowed, POLICY_DENY);
	assert_true(r->spec.allow_privileged);
	assert_int_equal(r->spec.nonroot_strategy, POLICY_NONROOT_AMBIENT);
}

static void test_full_policy(void **state)
{
	(void)state;
	cleanup_policy cg_policy *p = load_data("full.yaml");
	assert_full(p);
}

static void test_full_policy_flow_style(void **state)
{
	(void)state;
	cleanup_policy cg_policy *p = load_data("full-flow.yaml");
	assert_full(p);
}

static void test_rules_resolution(void **state)
{
	(void)state;
	cleanup_policy cg_policy *p = load_data("netops.yaml");
	caps_set nbs = CAPS_BIT(CAP("NET_BIND_SERVICE"));
	assert_true(p->spec.allowed == nbs);
	assert_int_equal(p->n_rules, 2);

	const policy_rule *r = &p->rules[0];
	assert_string_equal(r->name, "netops");
	assert_strlist(&r->namespaces, 1, "netops");
	assert_true(r->spec.allowed == (nbs | CAPS_BIT(CAP("NET_RAW"))));
	/* Everything else comes from spec. */
	assert_int_equal(r->spec.mode, p->spec.mode);
	assert_true(r->spec.required_drop == CAPS_BIT(CAPS_ALL));
	assert_true(r->spec.default_add == 0);
	assert_int_equal(r->spec.on_disallowed, POLICY_STRIP);
	assert_int_equal(r->spec.nonroot_strategy, POLICY_NONROOT_AUTO);

	r = &p->rules[1];
	assert_string_equal(r->name, "legacy-deny");
	assert_strlist(&r->namespaces, 1, "legacy");
	assert_int_equal(r->labels.n, 0);
	assert_true(r->spec.allowed == nbs);
	assert_int_equal(r->spec.on_disallowed, POLICY_DENY);
	assert_int_equal(r->spec.nonroot_strategy, POLICY_NONROOT_NONE);
	/* The policy's own spec is untouched by its rules. */
	assert_int_equal(p->spec.on_disallowed, POLICY_STRIP);
	assert_int_equal(p->spec.nonroot_strategy, POLICY_NONROOT_AUTO);
}

/* A rule laid over spec keys that are not at their defaults inherits them,
 * including a later spec key than the rules (key order does not matter). */
static void test_rules_inherit_spec_written_after(void **state)
{
	(void)state;
	cg_error err = {0};
	cleanup_policy cg_policy *p = NULL;
	int rc = load_string("apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\n"
			     "metadata: {name: x}\n"
			     "spec:\n"
			     "  rules:\n"
			     "    - name: r\n"
			     "      match: {namespaces: [a]}\n"
			     "      mode: audit\n"
			     "  allowedCapabilities: [KILL, CHOWN]\n"
			     "  defaultAddCapabilities: [KILL]\n"
			     "  allowPrivileged: true\n",
			     &p, &err);
	if (rc < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(p->rules[0].spec.mode, POLICY_AUDIT);
	assert_int_equal(p->spec.mode, POLICY_ENFORCE);
	assert_true(p->rules[0].spec.allowed == caps(CAP("KILL"), CAP("CHOWN"), -1));
	assert_true(p->rules[0].spec.default_add == CAPS_BIT(CAP("KILL")));
	assert_true(p->rules[0].spec.allow_privileged);
}

/* Anchors and aliases are plain YAML: a list written once, used twice. */
static void test_anchors_and_aliases(void **state)
{
	(void)state;
	cg_error err = {0};
	cleanup_policy cg_policy *p = NULL;
	int rc = load_string("apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\n"
			     "metadata: {name: x}\n"
			     "spec:\n"
			     "  allowedCapabilities: &net [NET_BIND_SERVICE, NET_RAW]\n"
			     "  requiredDropCapabilities: [ALL]\n"
			     "  exemptions: {namespaces: &ns [a, b]}\n"
			     "  rules:\n"
			     "    - name: r\n"
			     "      match: {namespaces: *ns}\n"
			     "      defaultAddCapabilities: *net\n",
			     &p, &err);
	if (rc < 0)
		fail_msg("%s", err.msg);
	caps_set net = caps(CAP("NET_BIND_SERVICE"), CAP("NET_RAW"), -1);
	assert_true(p->spec.allowed == net);
	assert_true(p->rules[0].spec.default_add == net);
	assert_strlist(&p->rules[0].namespaces, 2, "a", "b");
	assert_strlist(&p->exemptions.namespaces, 2, "a", "b");
}

static void test_capability_spellings(void **state)
{
	(void)state;
	static const char *const spellings[] = {"net_admin", "CAP_NET_ADMIN", "Cap_Net_Admin",
						"NET_ADMIN", "cap_net_admin"};
	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		char yaml[512];
		snprintf(yaml, sizeof(yaml),
			 "apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\n"
			 "metadata: {name: x}\n"
			 "spec:\n  requiredDropCapabilities: [all]\n"
			 "  allowedCapabilities: [%s, net_admin]\n"
			 "  defaultAddCapabilities: [\"%s\"]\n",
			 spellings[i], spellings[i]);
		cg_error err = {0};
		cleanup_policy cg_policy *p = NULL;
		if (load_string(yaml, &p, &err) < 0)
			fail_msg("%s: %s", spellings[i], err.msg);
		assert_true(p->spec.allowed == CAPS_BIT(CAP("NET_ADMIN")));
		assert_true(p->spec.default_add == CAPS_BIT(CAP("NET_ADMIN")));
		assert_true(p->spec.required_drop == CAPS_BIT(CAPS_ALL));
	}
	/* Near misses are refused, quoting the name as written. */
	static const char *const wrong[] = {"NET-ADMIN", "CAP_", "capnet_admin", "NET_ADMIN "};
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		char yaml[512], want[128];
		snprintf(yaml, sizeof(yaml),
			 "apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\n"
			 "metadata: {name: x}\nspec: {allowedCapabilities: [\"%s\"]}\n",
			 wrong[i]);
		snprintf(want, sizeof(want),
			 "t.yaml:4:30: spec.allowedCapabilities: unknown capability \"%s\"",
			 wrong[i]);
		cg_error err = {0};
		cg_policy *p = NULL;
		assert_int_equal(load_string(yaml, &p, &err), -1);
		assert_null(p);
		assert_string_equal(err.msg, want);
	}
}

/* Every tests/data/policies/bad/NAME.yaml fails with exactly NAME.err. */
static void test_bad_policies(void **state)
{
	(void)state;
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s/bad", data_dir());
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t cases = 0, failed = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 6 || strcmp(e->d_name + n - 5, ".yaml") != 0)
			continue;
		char path[4500], errpath[4500];
		size_t len, elen;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		snprintf(errpath, sizeof(errpath), "%s/%.*s.err", dir, (int)(n - 5), e->d_name);
		cleanup_free char *buf = read_file(path, &len);
		cleanup_free char *want = read_file(errpath, &elen);
		assert_non_null(buf);
		cases++;
		if (want == NULL) {
			print_error("%s: no .err file beside it\n", e->d_name);
			failed++;
			continue;
		}
		while (elen > 0 && want[elen - 1] == '\n')
			want[--elen] = '\0';
		cg_error err = {0};
		cg_policy *p = NULL;
		int rc = policy_load(buf, len, e->d_name, &p, &err);
		if (rc == 0) {
			print_error("%s: loaded, expected: %s\n", e->d_name, want);
			policy_free(p);
			failed++;
		} else if (p != NULL || strcmp(err.msg, want) != 0) {
			print_error("%s:\n  got:  %s\n  want: %s\n", e->d_name, err.msg, want);
			failed++;
		}
	}
	closedir(d);
	if (failed > 0)
		fail_msg("%zu of %zu bad policies did not fail as expected", failed, cases);
	/* The suite is the point of this test: losing it must not pass. */
	assert_true(cases >= 25);
}

/* Every good policy in tests/data/policies loads (other tests reuse them). */
static void test_good_policies(void **state)
{
	(void)state;
	DIR *d = opendir(data_dir());
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		cg_policy *p = load_data(e->d_name);
		policy_free(p);
		n++;
	}
	closedir(d);
	assert_true(n >= 5);
}

/* Any prefix of a valid policy either loads or fails with a located error;
 * it never crashes or leaks (run under valgrind / ASan). */
static void test_truncated_policies(void **state)
{
	(void)state;
	char path[4200];
	size_t len;
	snprintf(path, sizeof(path), "%s/full.yaml", data_dir());
	cleanup_free char *buf = read_file(path, &len);
	assert_non_null(buf);
	size_t loaded = 0;
	for (size_t cut = 0; cut < len; cut++) {
		cg_error err = {0};
		cg_policy *p = NULL;
		if (policy_load(buf, cut, "full.yaml", &p, &err) == 0) {
			loaded++;
			policy_free(p);
			continue;
		}
		unsigned line, col;
		char rest[8];
		if (sscanf(err.msg, "full.yaml:%u:%u: %7s", &line, &col, rest) != 3)
			fail_msg("cut at %zu: unlocated error: %s", cut, err.msg);
		assert_true(line >= 1 && col >= 1);
	}
	/* Cuts after the last complete rule entry still load. */
	assert_true(loaded > 0 && loaded < len);
}

static void test_api_edges(void **state)
{
	(void)state;
	policy_free(NULL);
	cg_policy *p = (cg_policy *)1;
	/* err may be NULL. */
	assert_int_equal(policy_load("x: [", 4, "t.yaml", &p, NULL), -1);
	assert_null(p);

	/* Larger than any policy needs to be. */
	size_t big = (1u << 20) + 1;
	cleanup_free char *buf = malloc(big);
	assert_non_null(buf);
	memset(buf, '#', big);
	cg_error err = {0};
	assert_int_equal(policy_load(buf, big, "big.yaml", &p, &err), -1);
	assert_string_equal(err.msg, "big.yaml: the policy is larger than 1048576 bytes");
}

static cg_policy *load_text(const char *text)
{
	cg_error err = {0};
	cg_policy *p = NULL;
	if (policy_load(text, strlen(text), "inline", &p, &err) < 0)
		fail_msg("%s", err.msg);
	return p;
}

#define CAP_BIT(n) ((caps_set)1 << (n))

/* The SCCs capgate knows: OpenShift's defaults per version (4.20 added
 * restricted-v3, nested-container and the image volume type), the admin's
 * descriptions before them, and the SCC `capgate scc` writes, computed
 * from the policy. */
static void test_openshift_sccs(void **state)
{
	(void)state;
	cleanup_policy cg_policy *old = load_text(
		"apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: p}\n"
		"spec: {openshift: {enabled: true}}\n");
	assert_true(old->openshift);
	const policy_scc *r2 = policy_find_scc(old, "restricted-v2");
	assert_non_null(r2);
	assert_int_equal(r2->allowed, CAP_BIT(10));
	assert_int_equal(r2->required_drop, CAP_BIT(CAPS_ALL));
	assert_false(r2->root);
	assert_true(policy_scc_allows_volume(r2, "emptyDir"));
	assert_false(policy_scc_allows_volume(r2, "image")); /* 4.19 */
	/* Only 4.20 ships these: a pod admitted under one is on 4.20. */
	assert_true(policy_scc_allows_volume(policy_find_scc(old, "restricted-v3"), "image"));
	assert_non_null(policy_find_scc(old, "nested-container"));
	const policy_scc *any = policy_find_scc(old, "anyuid");
	assert_true(any->root);
	assert_int_equal(any->required_drop, CAP_BIT(27)); /* MKNOD */
	assert_true(policy_scc_allows_volume(policy_find_scc(old, "privileged"), "image"));
	assert_int_equal(policy_find_scc(old, "restricted")->required_drop,
			 CAP_BIT(5) | CAP_BIT(6) | CAP_BIT(7) | CAP_BIT(27));
	assert_null(policy_find_scc(old, "no-such-scc"));

	cleanup_policy cg_policy *p = load_text(
		"apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: p}\n"
		"spec:\n  allowedCapabilities: [NET_BIND_SERVICE]\n"
		"  nonRoot: {ambient: {image: reg/capgate:1}}\n"
		"  rules:\n  - {name: net, match: {namespaces: [net]}, "
		"allowedCapabilities: [NET_BIND_SERVICE, NET_RAW]}\n"
		"  openshift:\n    enabled: true\n    version: \"4.20\"\n    ownSCCAllowsRoot: "
		"true\n"
		"    sccs:\n    - {name: anyuid, allowedCapabilities: [\"*\"], "
		"defaultAddCapabilities: [chown], requiredDropCapabilities: [MKNOD], "
		"runAsUser: RunAsAny, volumes: [emptyDir], forbiddenSysctls: [\"net.*\"]}\n");
	assert_int_equal(p->openshift_version, 420);
	assert_true(policy_scc_allows_volume(policy_find_scc(p, "restricted-v2"), "image"));
	const policy_scc *v3 = policy_find_scc(p, "restricted-v3");
	assert_non_null(v3);
	assert_false(v3->root);
	const policy_scc *nested = policy_find_scc(p, "nested-container");
	assert_true(nested->root);
	assert_int_equal(nested->allowed, CAP_BIT(6) | CAP_BIT(7));
	const policy_scc *desc = policy_find_scc(p, "anyuid");
	assert_int_equal(desc->allowed, CAP_BIT(CAPS_ALL));
	assert_int_equal(desc->default_add, CAP_BIT(0));
	assert_true(desc->root);
	assert_true(policy_scc_allows_volume(desc, "emptyDir"));
	assert_false(policy_scc_allows_volume(desc, "configMap"));
	assert_true(policy_scc_forbids_sysctl(desc, "net.ipv4.ping_group_range"));
	assert_false(policy_scc_forbids_sysctl(desc, "kernel.shm_rmid_forced"));
	const policy_scc *own = policy_find_scc(p, "capgate");
	assert_ptr_equal(own, &p->own);
	assert_int_equal(own->allowed, CAP_BIT(10) | CAP_BIT(13) | CAP_BIT(31));
	assert_int_equal(own->required_drop, CAP_BIT(CAPS_ALL));
	assert_true(own->root);
	assert_true(policy_scc_allows_volume(own, "image"));
	assert_int_equal(policy_volume_index("image"), 31);
	assert_string_equal(policy_volume_name(policy_volume_index("emptyDir")), "emptyDir");
	assert_int_equal(policy_volume_index("imageVolume"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_policy),
		cmocka_unit_test(test_default_is_shipped_file),
		cmocka_unit_test(test_full_policy),
		cmocka_unit_test(test_full_policy_flow_style),
		cmocka_unit_test(test_rules_resolution),
		cmocka_unit_test(test_rules_inherit_spec_written_after),
		cmocka_unit_test(test_anchors_and_aliases),
		cmocka_unit_test(test_capability_spellings),
		cmocka_unit_test(test_bad_policies),
		cmocka_unit_test(test_good_policies),
		cmocka_unit_test(test_truncated_policies),
		cmocka_unit_test(test_api_edges),
		cmocka_unit_test(test_openshift_sccs),
	};
	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
