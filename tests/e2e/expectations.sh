# shellcheck shell=bash disable=SC2034 # read by run.sh
# The e2e suite's expectations that other work is expected to change, in one
# place (sourced by run.sh).

# --- expected failures -----------------------------------------------------
# One line each: TEST-ID, then an extended regular expression that the
# test's own diagnostics must match for the failure to count as the known
# one. A listed test that fails for any other reason is a plain failure; a
# listed test that passes prints `ok - ... # TODO` and is counted as an
# unexpected pass: then delete its line here.
#
# All four are issue 9 (do no harm): capgate's sysctl strategy strips the
# NET_BIND_SERVICE the container asked for (an `+ep` entrypoint then fails
# execve with EPERM), drop ALL takes NET_BIND_SERVICE from a root container
# that declares port 80, and the policy cannot yet say that the nodes'
# runtime already opens ports and ICMP (`nonRoot.runtimeDefaults: open` is
# issue 9's proposed key; rename it in policies/runtime-open.yaml if the
# engine names it differently).
E2E_TODO_REASON="expected failure until issue 9 (do no harm) lands"
E2E_EXPECTED_FAILURES='
1x/dnh-ep-after      err: exec /probe-ep: operation not permitted
2x/dnh-ep-after      err: exec /probe-ep: operation not permitted
1x/dnh-root80-after  out: uid=0 .*CapBnd=0{16} .*bind:80=EACCES
2x/runtime-open      unknown key "runtimeDefaults"
'

# --- capgate-ambient's refusals ---------------------------------------------
# Exit code and the stable parts of each message (ambient/README.md). The
# wrapper's wording may change (issue 10): keep to what identifies the rule.
E2E_WRAPPER_EXIT=126
E2E_WRAPPER_MSG_PREFIX="capgate-ambient: CAP_NET_BIND_SERVICE"
E2E_WRAPPER_MSG_NNP="no_new_privs"
E2E_WRAPPER_MSG_NO_XATTR="no file capability"
E2E_WRAPPER_MSG_NOT_BOUNDING="not in the bounding set"
