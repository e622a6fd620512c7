#!/bin/sh
# Runs every test suite and prints one closing line: "N passed, N failed".
# Suites: the cmocka unit binaries given as arguments (TAP output), then every
# tests/*/run.sh. Each suite prints TAP lines ("ok - x", "not ok - x",
# "ok - x # SKIP why"); a suite that exits non-zero without saying why counts
# as one failure.
set -u
export CMOCKA_MESSAGE_OUTPUT=TAP
log=$(mktemp)
trap 'rm -f "$log"' EXIT
suite_fail=0
run_suite() {
	name=$1
	shift
	echo "# suite $name"
	out=$(mktemp)
	"$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	cat "$out" >>"$log"
	if [ $rc -ne 0 ] && ! grep -q '^not ok' "$out"; then
		echo "not ok - suite $name exited $rc" | tee -a "$log"
	fi
	rm -f "$out"
}
for bin in "$@"; do
	run_suite "$(basename "$bin")" "$bin"
done
for s in tests/*/run.sh; do
	[ -f "$s" ] || continue
	run_suite "$(basename "$(dirname "$s")")" sh "$s"
done
passed=$(grep -Ec '^ok ' "$log" | head -1)
skipped=$(grep -Ec '^ok .*# ?SKIP' "$log" | head -1)
failed=$(grep -Ec '^not ok' "$log" | head -1)
passed=$((passed - skipped))
echo
grep '^not ok' "$log" | sed 's/^/FAILED: /'
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
