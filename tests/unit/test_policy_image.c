/* cli/policy_image: `capgate manifests` names the image it deploys in the
 * policy it deploys. Every form a policy may take gets the image, what the
 * loader reads otherwise stays the same (scalars keep their text and
 * style), and a policy that names an image is left alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cli/policy_image.h"
#include "common/cleanup.h"
#include "policy/policy.h"

#define HEAD  "apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: p}\n"
#define IMAGE "registry.example.com/capgate:1.2"

/* Renders text, loads the result, checks the image landed; returns it. */
static cg_policy *render_ok(const char *text)
{
	enum policy_image_result res;
	cleanup_free char *out = NULL, *other = NULL;
	cg_error err = {0};
	if (policy_image_render(text, strlen(text), "t.yaml", IMAGE, &res, &out, &other, &err) < 0)
		fail_msg("render: %s", err.msg);
	assert_int_equal(res, POLICY_IMAGE_ADDED);
	assert_non_null(out);
	assert_null(other);
	cg_policy *p = NULL;
	if (policy_load(out, strlen(out), "rendered", &p, &err) < 0)
		fail_msg("%s\n%s", err.msg, out);
	assert_non_null(p->nonroot.image);
	assert_string_equal(p->nonroot.image, IMAGE);
	return p;
}

static void test_every_shape_gets_the_image(void **state)
{
	(void)state;
	static const char *const texts[] = {
		HEAD,					    /* no spec */
		HEAD "spec: {}\n",			    /* empty flow */
		HEAD "spec:\n  mode: enforce\n",	    /* no nonRoot */
		HEAD "spec: {nonRoot: {strategy: auto}}\n", /* flow, no ambient */
		HEAD "spec:\n  nonRoot:\n    ambient:\n      delivery: imageVolume\n", /* block */
		HEAD "spec:\n  rules:\n  - name: r\n    match: {namespaces: [a]}\n"
		     "    nonRoot: {strategy: sysctl}\n", /* a rule's nonRoot is not the place */
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		cleanup_policy cg_policy *p = render_ok(texts[i]);
		(void)p;
	}
	/* The rule's nonRoot kept its strategy, and got no image key (which a
	 * rule's nonRoot would refuse). */
	cleanup_policy cg_policy *p = render_ok(texts[5]);
	assert_int_equal(p->n_rules, 1);
	assert_int_equal(p->rules[0].spec.nonroot_strategy, POLICY_NONROOT_SYSCTL);
	/* The delivery stays. */
	cleanup_policy cg_policy *q = render_ok(texts[4]);
	assert_int_equal(q->nonroot.delivery, POLICY_DELIVERY_IMAGE_VOLUME);
}

/* Scalars keep their text and style: a namespace named `yes` stays a
 * plain `yes` (a YAML 1.1 tree round trip would have made it `true`). */
static void test_scalars_unchanged(void **state)
{
	(void)state;
	cleanup_policy cg_policy *p =
		render_ok(HEAD "spec:\n  exemptions: {namespaces: [yes, \"no\", '010']}\n"
			       "  nonRoot: {unprivilegedPortStart: 80}\n");
	assert_int_equal(p->exemptions.namespaces.n, 3);
	assert_string_equal(p->exemptions.namespaces.v[0], "yes");
	assert_string_equal(p->exemptions.namespaces.v[1], "no");
	assert_string_equal(p->exemptions.namespaces.v[2], "010");
	assert_int_equal(p->nonroot.unprivileged_port_start, 80);
}

static void test_named_image_kept(void **state)
{
	(void)state;
	enum policy_image_result res;
	char *out = NULL, *other = NULL;
	cg_error err = {0};
	const char *same = HEAD "spec: {nonRoot: {ambient: {image: \"" IMAGE "\"}}}\n";
	assert_int_equal(
		policy_image_render(same, strlen(same), "t", IMAGE, &res, &out, &other, &err), 0);
	assert_int_equal(res, POLICY_IMAGE_SAME);
	assert_null(out);
	assert_null(other);
	const char *mirror = HEAD "spec: {nonRoot: {ambient: {image: mirror.local/cg:1}}}\n";
	assert_int_equal(
		policy_image_render(mirror, strlen(mirror), "t", IMAGE, &res, &out, &other, &err),
		0);
	assert_int_equal(res, POLICY_IMAGE_DIFFERENT);
	assert_null(out);
	assert_non_null(other);
	assert_string_equal(other, "mirror.local/cg:1");
	free(other);
}

/* An alias, or an anchor, cannot be extended without changing the
 * anchor's other uses (here a rule's nonRoot, which may not hold ambient). */
static void test_alias_refused(void **state)
{
	(void)state;
	enum policy_image_result res;
	char *out = NULL, *other = NULL;
	cg_error err = {0};
	const char *text =
		HEAD "spec:\n  nonRoot: &nr {strategy: auto}\n"
		     "  rules:\n  - name: r\n    match: {namespaces: [a]}\n    nonRoot: *nr\n";
	assert_int_equal(
		policy_image_render(text, strlen(text), "t.yaml", IMAGE, &res, &out, &other, &err),
		-1);
	assert_null(out);
	assert_non_null(strstr(err.msg, "t.yaml: spec.nonRoot carries an anchor (&nr)"));
	const char *alias = HEAD "x: &n {strategy: auto}\nspec: {nonRoot: *n}\n";
	assert_int_equal(policy_image_render(alias, strlen(alias), "a.yaml", IMAGE, &res, &out,
					     &other, &err),
			 -1);
	assert_null(out);
	assert_non_null(strstr(err.msg, "a.yaml: spec.nonRoot is not a mapping written out"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_shape_gets_the_image),
		cmocka_unit_test(test_scalars_unchanged),
		cmocka_unit_test(test_named_image_kept),
		cmocka_unit_test(test_alias_refused),
	};
	return cmocka_run_group_tests_name("policy_image", tests, NULL, NULL);
}
