/* A capgate policy rendered as in-apiserver admission policies: a
 * ValidatingAdmissionPolicy and its binding per mode the policy uses
 * (admissionregistration.k8s.io/v1, Kubernetes 1.30+), and optionally a
 * MutatingAdmissionPolicy with its binding (JSONPatch; v1beta1 on 1.34 and
 * 1.35 behind a feature gate, v1 from 1.36).
 *
 * Pure: a loaded policy in, jansson objects out; no files, no argv. The
 * CEL itself is in admission/cel.c.
 */
#ifndef CG_ADMISSION_RENDER_H
#define CG_ADMISSION_RENDER_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "policy/policy.h"

#define ADMISSION_MIN_MINOR_VAP 30 /* ValidatingAdmissionPolicy v1 */
#define ADMISSION_MIN_MINOR_MAP 34 /* MutatingAdmissionPolicy v1beta1 */
#define ADMISSION_GA_MINOR_MAP	36 /* MutatingAdmissionPolicy v1 */

typedef struct admission_opts {
	int minor;	    /* Kubernetes 1.<minor> the objects are for */
	bool mutating;	    /* also the MutatingAdmissionPolicy */
	const char *name;   /* base name of the objects (a DNS subdomain) */
	const char *source; /* the policy's file name, for messages */
} admission_opts;

/* On success *objects is a new array of the objects in `kubectl apply`
 * order, and *notes a new array of sentences saying what the objects do not
 * do that the webhook does under this policy (written as comments and in
 * the capgate.dev/not-rendered annotation). Fails with a message naming the
 * option or policy key that cannot be rendered for o->minor. */
int admission_render(const cg_policy *p, const admission_opts *o, json_t **objects, json_t **notes,
		     cg_error *err) CG_MUST_CHECK;

#endif
