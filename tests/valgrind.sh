#!/bin/sh
# Runs the unit test binaries and the `capgate check` case suite
# (tests/cases) under valgrind memcheck: any memory error or definite leak
# fails. Usage: sh tests/valgrind.sh (from anywhere; builds what it needs).
# Takes about 6 minutes on 2 cores, most of it in the case suite (about 150
# runs of capgate) and in OpenSSL key generation; it prints its own times.
# Exit 99 or a non-empty log means valgrind found something; another
# failure is a test that does not hold when run 20-50 times slower.
#
# Unit tests run from the gcc build without sanitizers (valgrind and ASan
# do not mix). Possible and indirect leaks are reported but not errors:
# libraries (OpenSSL, GnuTLS, glibc) keep one-time allocations for the
# life of the process.
set -u
cd "$(dirname "$0")/.." || exit 1
sh mk/deps.sh valgrind || exit 1
units=$(printf '%s\n' tests/unit/test_*.c | sed 's#tests/unit/\(.*\)\.c#build/tests/\1#')
# shellcheck disable=SC2086 # one binary path a word
make --no-print-directory all $units >/dev/null || {
	echo "not ok - build"
	exit 1
}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
VG="valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 -q"
start=$(date +%s)
fails=0
for t in $units; do
	name=$(basename "$t")
	t0=$(date +%s)
	CMOCKA_MESSAGE_OUTPUT=TAP $VG --log-file="$logs/$name.%p" "$t" >"$logs/$name.out" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	if [ $rc -eq 0 ] && ! grep -qs . "$logs/$name".[0-9]*; then
		echo "ok - valgrind $name (${secs}s)"
	else
		echo "not ok - valgrind $name (exit $rc, ${secs}s)"
		cat "$logs/$name".[0-9]* 2>/dev/null | head -40 | sed 's/^/#   /'
		grep -A3 '^not ok' "$logs/$name.out" | head -12 | sed 's/^/#   /'
		fails=$((fails + 1))
	fi
done
# The case suite calls $CAPGATE twice per case plus once for idempotence.
cat >"$logs/capgate" <<WRAP
#!/bin/sh
exec $VG --log-file="$logs/check.%p" "$(pwd)/build/capgate" "\$@"
WRAP
chmod +x "$logs/capgate"
t0=$(date +%s)
CAPGATE="$logs/capgate" sh tests/cases/run.sh >"$logs/cases.out" 2>&1
rc=$?
secs=$(($(date +%s) - t0))
runs=$(find "$logs" -maxdepth 1 -name 'check.*' | wc -l)
bad=$(grep -ls . "$logs"/check.* 2>/dev/null | wc -l)
if [ $rc -eq 0 ] && [ "$bad" -eq 0 ] && [ "$runs" -gt 0 ]; then
	echo "ok - valgrind capgate check: $(grep -c '^ok' "$logs/cases.out") case checks, $runs runs (${secs}s)"
else
	echo "not ok - valgrind capgate check: $bad of $runs runs with errors, suite exit $rc (${secs}s)"
	grep '^not ok' "$logs/cases.out" | head -5 | sed 's/^/#   /'
	grep -ls . "$logs"/check.* 2>/dev/null | head -2 | xargs -r cat | head -40 | sed 's/^/#   /'
	fails=$((fails + 1))
fi
echo "# valgrind: $(($(date +%s) - start))s in all, $fails failed"
[ $fails -eq 0 ]
