/* Reading a policy's `openshift` section and the SCCs capgate knows: part of
 * the policy loader (policy.c), apart because OpenShift's default SCCs and
 * the SCC `capgate scc` writes are a model of their own. Errors follow
 * yaml/pyaml.h: "NAME:line:column: PATH: sentence".
 */
#ifndef CG_POLICY_OPENSHIFT_H
#define CG_POLICY_OPENSHIFT_H

#include "policy/policy.h"
#include "policy/policy_yaml.h"

/* Reads the openshift mapping n at path into p; *root_at is the node of
 * ownSCCAllowsRoot (NULL when absent), for policy_openshift_finish(). */
int policy_openshift_read(pyaml *y, yaml_node_t *n, const char *path, cg_policy *p,
			  yaml_node_t **root_at) CG_MUST_CHECK;

/* Once the spec and every rule are read: computes p->own, what the SCC
 * `capgate scc` writes from this policy admits, and refuses an
 * ownSCCAllowsRoot that has no root init container to admit (at, the
 * node that set it, or NULL). */
int policy_openshift_finish(pyaml *y, yaml_node_t *at, cg_policy *p) CG_MUST_CHECK;

/* Frees what policy_openshift_read() stored in p. */
void policy_openshift_free(cg_policy *p);

#endif
