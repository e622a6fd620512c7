/* One decision set up by hand around a Pod, as policy/engine.c sets it up,
 * for the unit tests of the steps below the entry (judge.c, nonroot.c):
 * a real policy, a real pod, the decision's state and voice. */
#ifndef CG_TEST_DECISION_FIXTURE_H
#define CG_TEST_DECISION_FIXTURE_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/container.h"
#include "policy/decision.h"
#include "policy/policy.h"

typedef struct fixture {
	cg_policy *policy;
	json_t *pod;
	cg_error err;
	decision c;
	decision_ctr ct; /* the container fixture_ctr() chose */
} fixture;

#define POLICY_HEAD                                                                                \
	"apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: t}\nspec:\n"

static void fixture_start(fixture *f, const char *policy_spec_yaml, const char *pod)
{
	memset(f, 0, sizeof(*f));
	char yaml[2048];
	snprintf(yaml, sizeof(yaml), POLICY_HEAD "%s", policy_spec_yaml);
	if (policy_load(yaml, strlen(yaml), "test.yaml", &f->policy, &f->err) < 0)
		fail_msg("policy: %s", f->err.msg);
	json_error_t je;
	f->pod = json_loads(pod, 0, &je);
	if (f->pod == NULL)
		fail_msg("pod: %s", je.text);
	decision *c = &f->c;
	c->policy = f->policy;
	c->err = &f->err;
	c->ops = json_array();
	c->warnings = json_array();
	c->audit = json_object();
	c->changes = json_array();
	c->spec = &f->policy->spec;
	c->namespace = "shop";
	c->template_obj = f->pod;
	c->labels = json_object_get(json_object_get(f->pod, "metadata"), "labels");
	c->annotations = json_object_get(json_object_get(f->pod, "metadata"), "annotations");
	c->pod_spec = json_object_get(f->pod, "spec");
	c->explain = true;
	snprintf(c->spec_path.s, sizeof(c->spec_path.s), "/spec");
	c->spec_path.len = 5;
	snprintf(c->spec_label, sizeof(c->spec_label), "Pod.spec");
}

/* Container i of spec.containers, as engine.c hands it to the steps. */
static decision_ctr *fixture_ctr(fixture *f, size_t i)
{
	json_t *obj = json_array_get(json_object_get(f->c.pod_spec, "containers"), i);
	assert_non_null(obj);
	decision_ctr *ct = &f->ct;
	memset(ct, 0, sizeof(*ct));
	ct->obj = obj;
	ct->list = "containers";
	ct->index = i;
	ct->name = json_string_value(json_object_get(obj, "name"));
	ct->image = json_string_value(json_object_get(obj, "image"));
	ct->sc = json_object_get(obj, "securityContext");
	snprintf(ct->path.s, sizeof(ct->path.s), "/spec/containers/%zu", i);
	ct->path.len = strlen(ct->path.s);
	f->c.cur = ct;
	int user = container_user(&f->c, ct);
	assert_true(user >= 0);
	ct->user = user;
	return ct;
}

static void fixture_end(fixture *f)
{
	json_decref(f->c.ops);
	json_decref(f->c.warnings);
	json_decref(f->c.audit);
	json_decref(f->c.changes);
	json_decref(f->pod);
	policy_free(f->policy);
}

static void assert_json_text(const json_t *v, const char *want)
{
	char *got = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

#endif
