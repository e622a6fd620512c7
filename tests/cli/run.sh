#!/bin/sh
# capgate check as a CI pipeline uses it: inputs, output formats, exit codes
# and the messages of bad input.
set -u
cd "$(dirname "$0")/../.." || exit 1
CAPGATE=${CAPGATE:-build/capgate}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
failed=0
ok() { echo "ok - $1"; }
bad() {
	echo "not ok - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'
	failed=$((failed + 1))
}
# expect NAME WANT_RC [GREP_STDOUT [GREP_STDERR]] -- ARGS...
expect() {
	name=$1 want=$2 out_re=$3 err_re=$4
	shift 5
	"$CAPGATE" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	if [ $rc -ne "$want" ]; then
		bad "$name" "exit $rc, want $want; stderr: $(cat "$T/err")"
	elif [ -n "$out_re" ] && ! grep -q -- "$out_re" "$T/out"; then
		bad "$name" "stdout lacks /$out_re/: $(head -5 "$T/out")"
	elif [ -n "$err_re" ] && ! grep -q -- "$err_re" "$T/err"; then
		bad "$name" "stderr lacks /$err_re/: $(cat "$T/err")"
	else
		ok "$name"
	fi
}
POD=tests/cases/bypass-spellings/input.yaml
GOOD=tests/cases/pod-already-compliant/input.yaml

expect "check: compliant input exits 0" 0 "0 would change, 0 denied" "" -- check $GOOD
expect "check: input to change exits 1" 1 "would be patched" "" -- check $POD
expect "check: denial exits 1 and names containers" 1 'denied: capgate: initContainer "init" adds CHOWN' "" \
	-- check --policy tests/cases/on-disallowed-deny/policy.yaml tests/cases/on-disallowed-deny/input.yaml

# -o patch: a JSON array whose patches apply (jq can read it, ops are adds).
expect "check -o patch: JSON array of patches" 1 '"op": "add"' "" -- check -o patch $POD
if jq -e 'type == "array" and length == 1 and (.[0].patch | length) == 7 and .[0].kind == "Pod"' "$T/out" >/dev/null; then
	ok "check -o patch: one entry with seven operations for the bypass pod"
else
	bad "check -o patch: one entry with seven operations for the bypass pod" "$(cat "$T/out")"
fi

# -o json: a stream of JSON documents, document order kept.
"$CAPGATE" check -o json tests/cases/helm-multidoc/input.yaml >"$T/out" 2>&1
if [ "$(jq -s -r '[.[].kind] | join(",")' "$T/out")" = "ServiceAccount,Deployment" ]; then
	ok "check -o json: documents in order"
else
	bad "check -o json: documents in order" "$(head -5 "$T/out")"
fi

# stdin, and JSON input (kubectl get -o json prints a List).
"$CAPGATE" check -o json $POD >"$T/pod.json" 2>/dev/null
jq '{apiVersion: "v1", kind: "List", items: [., .]}' "$T/pod.json" >"$T/list.json"
"$CAPGATE" check - <$POD >"$T/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "<stdin>: document 1 (line 3): Pod default/sneaky: would be patched" "$T/out"; then
	ok "check -: reads stdin and names it in the report"
else
	bad "check -: reads stdin and names it in the report" "exit $rc: $(head -3 "$T/out")"
fi
expect "check: kubectl List in JSON, already patched, is compliant" 0 "item 2: Pod default/sneaky: compliant" "" \
	-- check "$T/list.json"

# Exit 2 with the file and document named.
printf 'apiVersion: v1\nkind: Pod\n---\nkey: [unclosed\n' >"$T/broken.yaml"
expect "check: bad YAML exits 2 naming file, line and document" 2 "" "broken.yaml:5:1:.*document 2" -- check "$T/broken.yaml"
printf 'apiVersion: v1\nmetadata: {name: x}\n' >"$T/nokind.yaml"
expect "check: a document without kind exits 2 naming it" 2 "" "nokind.yaml: document 1.*no kind" -- check "$T/nokind.yaml"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: notalist}\n' >"$T/shape.yaml"
expect "check: a pod spec of the wrong shape exits 2 and says what" 2 "" "cannot judge.*containers is not a list" -- check "$T/shape.yaml"
expect "check: a missing file exits 2" 2 "" "nosuchfile.yaml: cannot open: No such file" -- check "$T/nosuchfile.yaml"
expect "check: no input exits 2" 2 "" "no input" -- check
expect "check: unknown -o exits 2" 2 "" "-o must be report, patch, yaml or json" -- check -o xml $POD

# A bad policy: exit 2, file:line:column and a sentence.
printf 'apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: p}\nspec:\n  allowedCapabilities: [NET_ADMN]\n' >"$T/policy.yaml"
expect "check: a bad policy exits 2 with file:line:column" 2 "" 'policy.yaml:5:25: spec.allowedCapabilities: unknown capability "NET_ADMN"' \
	-- check --policy "$T/policy.yaml" $POD
# Integral numbers go out as integers (sigs.k8s.io/yaml reads 1e3 as 1000,
# and Go refuses 1000.0 for an int64 field: kubectl apply would fail).
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: n, namespace: default}\nspec:\n  replicas: 1e3\n  template:\n    spec:\n      terminationGracePeriodSeconds: 30.0\n      containers:\n      - name: a\n        image: x\n        resources: {limits: {cpu: 0.5}}\n        securityContext: {capabilities: {drop: [ALL]}}\n' >"$T/numbers.yaml"
"$CAPGATE" check -o json "$T/numbers.yaml" >"$T/out" 2>&1
if grep -q '"replicas": 1000,' "$T/out" && grep -q '"terminationGracePeriodSeconds": 30,' "$T/out" &&
	grep -q '"cpu": 0.5' "$T/out" && ! grep -q '1000\.0\|30\.0' "$T/out"; then
	ok "check -o json: integral numbers as integers, others as they were"
else
	bad "check -o json: integral numbers as integers, others as they were" "$(grep -n 'replicas\|Grace\|cpu' "$T/out")"
fi
"$CAPGATE" check -o yaml "$T/numbers.yaml" >"$T/out" 2>&1
if grep -q '^  replicas: 1000$' "$T/out" && grep -q 'terminationGracePeriodSeconds: 30$' "$T/out"; then
	ok "check -o yaml: integral numbers as integers"
else
	bad "check -o yaml: integral numbers as integers" "$(grep -n 'replicas\|Grace' "$T/out")"
fi

# capgate.dev/applied: HOW:CONTAINER=CAP+CAP entries joined by ';'.
"$CAPGATE" check -o json --policy tests/cases/nonroot-netraw-raw-wrapped/policy.yaml \
	tests/cases/nonroot-netraw-raw-wrapped/input.yaml >"$T/out" 2>/dev/null
if jq -e '.metadata.annotations["capgate.dev/applied"] | split(";")
	| map(capture("^(?<how>sysctl|ambient):(?<c>[a-z0-9.-]+)=(?<caps>[A-Z_]+(\\+[A-Z_]+)*)$"))
	| map("\(.how) \(.c) \(.caps)") == ["sysctl traceroute NET_BIND_SERVICE", "ambient traceroute NET_RAW"]' "$T/out" >/dev/null; then
	ok "capgate.dev/applied parses as HOW:CONTAINER=CAPS;..."
else
	bad "capgate.dev/applied parses as HOW:CONTAINER=CAPS;..." "$(jq -r '.metadata.annotations' "$T/out")"
fi

# UPDATE options: what they need, and what they refuse.
expect "check: --subresource needs --operation UPDATE" 2 "" "need --operation UPDATE" -- \
	check --subresource ephemeralcontainers $POD
expect "check: --old-object needs --operation UPDATE" 2 "" "need --operation UPDATE" -- \
	check --old-object $POD $POD
expect "check: only the ephemeralcontainers subresource" 2 "" "must be ephemeralcontainers" -- \
	check --operation UPDATE --subresource status $POD
expect "check: a missing --old-object file exits 2" 2 "" "old-object: .*nosuch.yaml" -- \
	check --operation UPDATE --old-object "$T/nosuch.yaml" $POD
expect "check: an UPDATE left as it is exits 1 and says why" 1 "not compliant, left as it is (a Job's template is immutable)" "" -- \
	check --operation UPDATE --old-object tests/cases/harm-job-update/old.yaml tests/cases/harm-job-update/input.yaml
expect "check --help" 0 "Exit status" "" -- check --help
expect "capgate: unknown command exits 2" 2 "" 'unknown command "frobnicate"' -- frobnicate

[ $failed -eq 0 ]
