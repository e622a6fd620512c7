#!/bin/sh
# Data-driven engine cases: tests/cases/<name>/
#   input.yaml     manifests given to `capgate check`
#   policy.yaml    the policy (else the embedded default)
#   args           extra arguments: `--operation UPDATE` for an update, with
#                  `--subresource ephemeralcontainers` for `kubectl debug`
#   old.yaml       for UPDATE cases: the objects as stored before the update
#                  (the AdmissionReview's oldObject), passed as --old-object
#                  and matched to input.yaml's objects by kind, namespace and
#                  name
#   expected.yaml  `check -o yaml` output: the objects as capgate leaves them
#   expected.txt   `check -o report` output (what changes and why)
#   expected.exit  exit status of `check`
# Every case is also re-checked on its own output: the patched objects must
# need no further patch (idempotence), except where enforce does not patch
# (denials, warn and audit modes, objects capgate may not change), which
# must answer the same again.
# Every UPDATE case goes through immutable.sh: no patch may touch a field
# the apiserver holds immutable for that kind and operation (a Pod's spec,
# the ephemeral containers that already exist, a Job's template).
# The cases named harm-* are the "do no harm" patterns of the README; the
# end-to-end suite runs the same directories on a real runtime.
# UPDATE=1 rewrites the expected files (review the diff before committing).
set -u
cd "$(dirname "$0")" || exit 1
CAPGATE=${CAPGATE:-../../build/capgate}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
# A policy that never patches: `check -o json` with it prints the input as
# capgate reads it, to compare with what a case's patch leaves.
printf 'apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: identity}\nspec: {mode: audit}\n' >"$tmp/identity.yaml"
echo '{}' >"$tmp/none.json"

# immutability CASE_DIR OLD_JSON SUBRESOURCE ARGS...: the oracle on a case.
immutability() {
	d=$1 oldj=$2 sub=$3
	shift 3
	"$CAPGATE" check --policy "$tmp/identity.yaml" -o json "$d/input.yaml" >"$tmp/in.json" 2>/dev/null
	"$CAPGATE" check "$@" -o json "$d/input.yaml" >"$tmp/out.json" 2>/dev/null
	"$CAPGATE" check "$@" -o patch "$d/input.yaml" >"$tmp/patch.json" 2>/dev/null
	sh ./immutable.sh "$tmp/in.json" "$tmp/out.json" "$tmp/patch.json" "$oldj" "$sub"
}

for dir in */; do
	c=${dir%/}
	[ -f "$c/input.yaml" ] || continue
	set --
	[ -f "$c/policy.yaml" ] && set -- --policy "$c/policy.yaml"
	# shellcheck disable=SC2046 # the args file holds capgate check's arguments, split on purpose
	[ -f "$c/args" ] && set -- "$@" $(cat "$c/args")
	[ -f "$c/old.yaml" ] && set -- "$@" --old-object "$c/old.yaml"
	"$CAPGATE" check "$@" -o yaml "$c/input.yaml" >"$tmp/out.yaml" 2>"$tmp/err"
	rc=$?
	"$CAPGATE" check "$@" "$c/input.yaml" >"$tmp/report" 2>&1
	if [ "${UPDATE:-}" = 1 ]; then
		cp "$tmp/out.yaml" "$c/expected.yaml"
		echo "$rc" >"$c/expected.exit"
		sed "s#$c/##" "$tmp/report" >"$c/expected.txt"
	fi
	sed -i "s#$c/##" "$tmp/report"
	ok=1
	why=""
	if [ "$rc" != "$(cat "$c/expected.exit" 2>/dev/null)" ]; then
		ok=0
		why="exit $rc, want $(cat "$c/expected.exit" 2>/dev/null): $(cat "$tmp/err")"
	elif ! cmp -s "$tmp/out.yaml" "$c/expected.yaml"; then
		ok=0
		why="output differs: $(diff "$c/expected.yaml" "$tmp/out.yaml" | head -20)"
	elif ! cmp -s "$tmp/report" "$c/expected.txt"; then
		ok=0
		why="report differs: $(diff "$c/expected.txt" "$tmp/report" | head -20)"
	fi
	if [ $ok = 1 ]; then
		echo "ok - case $c"
	else
		echo "not ok - case $c"
		echo "$why" | sed 's/^/#   /'
		fails=$((fails + 1))
	fi
	# Idempotence: check the output again (as the stored object it is
	# now, for UPDATE cases too).
	"$CAPGATE" check "$@" -o yaml "$tmp/out.yaml" >"$tmp/again.yaml" 2>"$tmp/err2"
	rc2=$?
	if grep -q '^  denied: \|policy mode is not enforce\|not compliant, left as' "$tmp/report"; then
		want=$rc
	else
		want=0
	fi
	if [ "$rc2" = "$want" ] && cmp -s "$tmp/out.yaml" "$tmp/again.yaml"; then
		echo "ok - case $c is idempotent"
	else
		echo "not ok - case $c is idempotent (exit $rc2, want $want)"
		diff "$tmp/out.yaml" "$tmp/again.yaml" | head -10 | sed 's/^/#   /'
		fails=$((fails + 1))
	fi
	# UPDATE: nothing immutable touched.
	case " $* " in *" --operation UPDATE "*) ;; *) continue ;; esac
	oldj="$tmp/none.json"
	if [ -f "$c/old.yaml" ]; then
		"$CAPGATE" check --policy "$tmp/identity.yaml" -o json "$c/old.yaml" >"$tmp/old.json" 2>/dev/null
		oldj="$tmp/old.json"
	fi
	sub=""
	case " $* " in *" --subresource ephemeralcontainers "*) sub=ephemeralcontainers ;; esac
	if out=$(immutability "$c" "$oldj" "$sub" "$@"); then
		echo "ok - case $c leaves every immutable field as it was"
	else
		echo "not ok - case $c leaves every immutable field as it was"
		echo "$out" | head -10 | sed 's/^/#   /'
		fails=$((fails + 1))
	fi
done

# The oracle must be able to fail: the same objects patched as on CREATE,
# or with the stored ephemeral containers unknown, touch immutable fields.
check_oracle() {
	name=$1 d=$2 oldj=$3 sub=$4
	shift 4
	if immutability "$d" "$oldj" "$sub" "$@" >"$tmp/oracle" 2>&1; then
		echo "not ok - immutability oracle notices $name"
		fails=$((fails + 1))
	else
		echo "ok - immutability oracle notices $name: $(head -1 "$tmp/oracle")"
	fi
}
check_oracle "a Pod spec patched on UPDATE" pod-update-left-alone "$tmp/none.json" ""
check_oracle "a Job template patched on UPDATE" harm-job-update "$tmp/none.json" ""
"$CAPGATE" check --policy "$tmp/identity.yaml" -o json harm-kubectl-debug/old.yaml >"$tmp/old.json" 2>/dev/null
check_oracle "an existing ephemeral container patched" harm-kubectl-debug "$tmp/old.json" \
	ephemeralcontainers --operation UPDATE --subresource ephemeralcontainers
[ $fails -eq 0 ]
