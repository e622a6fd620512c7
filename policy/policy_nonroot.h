/* Reading a policy's `nonRoot` section: part of the policy loader
 * (policy.c), apart because the wrapper's settings carry most of the
 * checks. Errors follow yaml/pyaml.h: "NAME:line:column: PATH: sentence".
 */
#ifndef CG_POLICY_NONROOT_H
#define CG_POLICY_NONROOT_H

#include "policy/policy.h"
#include "policy/policy_yaml.h"

/* Reads the nonRoot mapping n at path. In the spec, nr is the policy's
 * nonRoot settings, filled here; in a rule nr is NULL (a rule overrides the
 * strategy only) and policy_nr is the policy's, already read. The strategy
 * goes to spec->nonroot_strategy. */
int policy_nonroot_read(pyaml *y, yaml_node_t *n, const char *path, policy_spec *spec,
			policy_nonroot *nr, const policy_nonroot *policy_nr) CG_MUST_CHECK;

#endif
