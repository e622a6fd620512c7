#!/bin/sh
# Runs every test suite and prints one closing line: "N passed, N failed,
# N skipped". Suites: the cmocka unit binaries given as arguments (TAP
# output), then every tests/*/run.sh (only those named in $SUITES, e.g.
# SUITES=e2e, when it is set). Each suite prints TAP lines ("ok - x",
# "not ok - x", "ok - x # SKIP why"); a suite that exits non-zero without
# saying why counts as one failure.
# Expected failures are TAP TODO tests: "not ok - x # TODO why" is neither a
# pass nor a failure, "ok - x # TODO why" is an unexpected pass; both are
# listed and counted on the line before the closing one.
set -u
export CMOCKA_MESSAGE_OUTPUT=TAP
todo='# *[Tt][Oo][Dd][Oo]( |$)' # TAP's TODO directive, any case
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run_suite() {
	name=$1
	shift
	echo "# suite $name"
	out=$(mktemp)
	"$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	cat "$out" >>"$log"
	if [ $rc -ne 0 ] && ! grep '^not ok' "$out" | grep -Eqv "$todo"; then
		echo "not ok - suite $name exited $rc" | tee -a "$log"
	fi
	rm -f "$out"
}
for bin in "$@"; do
	run_suite "$(basename "$bin")" "$bin"
done
for s in tests/*/run.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$(dirname "$s")")
	case " ${SUITES:-$name} " in *" $name "*) ;; *) continue ;; esac
	run_suite "$name" sh "$s"
done
passed=$(grep -Ec '^ok ' "$log")
skipped=$(grep -Eic '^ok .*# *SKIP' "$log")
xpass=$(grep -Ec "^ok .*$todo" "$log")
xfail=$(grep -Ec "^not ok .*$todo" "$log")
failed=$(grep '^not ok' "$log" | grep -Evc "$todo")
passed=$((passed - skipped - xpass))
echo
grep '^not ok' "$log" | grep -Ev "$todo" | sed 's/^/FAILED: /'
grep -E "^not ok .*$todo" "$log" | sed 's/^/EXPECTED FAILURE: /'
grep -E "^ok .*$todo" "$log" | sed 's/^/UNEXPECTED PASS: /'
if [ $((xfail + xpass)) -gt 0 ]; then
	echo "$xfail expected failures, $xpass unexpected passes (TAP # TODO; neither counts below)"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
