#!/bin/sh
# Availability of `capgate serve` (issue 13): the memory budget, connection
# slots under a flood of idle sockets, and SIGTERM with keep-alive clients.
# Real binary, real TLS on loopback, clients in tests/availability/. Every
# check is a bound that holds however busy the machine is (the suite is run
# with both cores saturated); figures that need a quiet machine are in
# `make bench` (bench/flood.sh). TAP lines on stdout.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/../.." || exit 1
CAPGATE=${CAPGATE:-$PWD/build/capgate}
DATA=$PWD/tests/data
SRC=$PWD/tests/availability
. tests/integration/lib.sh

for tool in curl jq openssl cc; do
	command -v $tool >/dev/null || sh mk/deps.sh curl jq openssl gcc >/dev/null 2>&1
done
sh mk/deps.sh libssl-dev >/dev/null 2>&1
T=$(mktemp -d)
PID=
cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

FLOOD=$T/flood
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -o "$FLOOD" "$SRC/flood.c" -lssl -lcrypto -lpthread || {
	echo "not ok - tests/availability/flood.c does not build"
	exit 1
}
PKI=$T/pki
"$CAPGATE" certs create --service capgate --namespace capgate --out "$PKI" >/dev/null || {
	echo "not ok - test certificate could not be created"
	exit 1
}
TLS="--tls-cert $PKI/tls.crt --tls-key $PKI/tls.key"
status() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# Under AddressSanitizer VmRSS is ASan's: memory checks are skipped there.
SANITIZED=0
readelf -d "$CAPGATE" 2>/dev/null | grep -q 'NEEDED.*lib[au]san' && SANITIZED=1
mem_check() {
	if [ $SANITIZED = 1 ]; then echo "ok - $1 # SKIP sanitizer build: VmRSS is ASan's"; else check "$@"; fi
}

# --- the memory budget: 16 reviews of 6 MiB at once (96 MiB of bodies)
# against a 32 MiB budget. Each is answered: 200, or 503 with Retry-After;
# retried as the apiserver's client retries, every one ends 200. The peak
# RSS stays within the budget plus the process and its connections.
{ head -c $((6 * 1024 * 1024)) /dev/zero | tr '\0' ' '; cat "$DATA/review-pod.json"; } >"$T/six.json"
BUDGET=$((32 * 1024 * 1024))
"$CAPGATE" serve $TLS --memory-budget $((8 * 1024 * 1024)) >"$T/start.out" 2>&1
rc=$?
check "--memory-budget below twice --max-body is a usage error ($rc)" \
	eval '[ "$rc" = 2 ] && grep -q "at least twice as large" "$T/start.out"'
start_server "$T/budget.log" $TLS --memory-budget $BUDGET || {
	echo "not ok - server with --memory-budget starts"
	exit 1
}
RSS0=$(status "$PID" VmRSS)
"$FLOOD" post "$PORT" /mutate "$T/six.json" 16 0 >"$T/post1"
read -r _ ok1 _ r503 _ other _ none _ uidbad _ seen _ nora <"$T/post1"
echo "# $(cat "$T/post1")" >&2
# A big body takes its whole Content-Length from the budget at once, and a
# big request may use 7/8 of it (28 MiB): 4 bodies of 6 MiB. flood.c holds
# each body's last byte until all 16 are in, so it is exactly 4 however the
# threads are scheduled.
check "16 x 6 MiB at once, budget 32 MiB: 4 answered 200, 12 answered 503 ($ok1 / $r503)" \
	eval '[ "$ok1" = 4 ] && [ "$r503" = 12 ] && [ "$uidbad" = 0 ]'
check "every 503 carries Retry-After" test "$nora" = 0
check "the 503s are counted in capgate_memory_refused_total" \
	eval '[ "$(cg /metrics | awk "/^capgate_memory_refused_total/ { n += \$2 } END { print n }")" = "$r503" ]'
"$FLOOD" post "$PORT" /mutate "$T/six.json" 16 30 >"$T/post2"
read -r _ ok2 _ _ _ _ _ _ _ uidbad2 _ seen2 _ _ <"$T/post2"
echo "# $(cat "$T/post2")" >&2
check "retried after Retry-After, all 16 end 200 with their uid ($ok2, after $seen2 503s)" \
	eval '[ "$ok2" = 16 ] && [ "$uidbad2" = 0 ]'
HWM=$(status "$PID" VmHWM)
# 16 TLS connections and the answers in flight add a few MiB; without the
# budget the peak was 96 MiB of bodies alone.
mem_check "peak RSS within the budget: VmHWM $HWM KiB <= start $RSS0 + 32 MiB + 8 MiB" \
	test "$HWM" -le $((RSS0 + BUDGET / 1024 + 8192))
check "nothing held after: capgate_memory_in_use_bytes 0" wait_for 5 eval '[ "$(metric capgate_memory_in_use_bytes)" = 0 ]'
code=$(review /mutate "$DATA/review-pod.json")
check "a normal review is answered 200 afterwards ($code)" test "$code" = 200
stop_server
PID=

[ "$FAILED" -eq 0 ]
