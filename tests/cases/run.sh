#!/bin/sh
# Data-driven engine cases: tests/cases/<name>/
#   input.yaml     manifests given to `capgate check`
#   policy.yaml    the policy (else the embedded default)
#   args           extra arguments (e.g. --operation UPDATE)
#   expected.yaml  `check -o yaml` output: the objects as capgate leaves them
#   expected.txt   `check -o report` output (what changes and why)
#   expected.exit  exit status of `check`
# Every case is also re-checked on its own output: the patched objects must
# need no further patch (idempotence), except where enforce does not patch
# (denials, warn and audit modes), which must answer the same again.
# UPDATE=1 rewrites the expected files (review the diff before committing).
set -u
cd "$(dirname "$0")"
CAPGATE=${CAPGATE:-../../build/capgate}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
for dir in */; do
	c=${dir%/}
	[ -f "$c/input.yaml" ] || continue
	set --
	[ -f "$c/policy.yaml" ] && set -- --policy "$c/policy.yaml"
	# shellcheck disable=SC2046
	[ -f "$c/args" ] && set -- "$@" $(cat "$c/args")
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
	# Idempotence: check the output again.
	"$CAPGATE" check "$@" -o yaml "$tmp/out.yaml" >"$tmp/again.yaml" 2>"$tmp/err2"
	rc2=$?
	if grep -q '^  denied: \|policy mode is not enforce' "$tmp/report"; then
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
done
[ $fails -eq 0 ]
