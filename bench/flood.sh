#!/bin/sh
# `make bench`, part 3 (issue 13): capgate serve at its default limits
# (1024 connections, 256 per address, 10 s handshake deadline, 128 MiB
# memory budget) while N idle sockets are held, for N = 1,000, 5,000 and
# 20,000 (FLOOD_N), and reviews of 6 MiB arrive 64 at once. Loopback only,
# every run bounded (FLOOD_SECONDS, default 20, per N).
#
# The sockets are a third each plain TCP sending nothing, half a TLS
# ClientHello, and a TLS handshake with no request, from 100 loopback
# addresses, each reopened when the server closes it (at most 1,000 a
# second in all). Meanwhile a review on a fresh TLS connection every 100 ms
# (as an apiserver dialing anew): how many were answered 200, p50/p99/max.
# The figures need a quiet machine; tests/availability checks the bounds.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=$(pwd)/$BUILD/capgate
REVIEW=$(pwd)/tests/data/review-pod.json
SECS=${FLOOD_SECONDS:-20}
NS=${FLOOD_N:-"1000 5000 20000"}
sh mk/deps.sh gcc libssl-dev curl jq
T=$(mktemp -d)
PID=
HOLDERS=
cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	for h in $HOLDERS; do kill "$h" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
cc -std=c11 -D_GNU_SOURCE -O2 -o "$T/flood" tests/availability/flood.c -lssl -lcrypto -lpthread
"$BIN" certs create --service capgate --namespace capgate --out "$T/pki" >/dev/null
start() {
	: >"$T/log"
	"$BIN" serve --listen 127.0.0.1:0 --tls-cert "$T/pki/tls.crt" --tls-key "$T/pki/tls.key" \
		--shutdown-delay 0 2>"$T/log" &
	PID=$!
	PORT=
	for _ in $(seq 1 200); do
		PORT=$(jq -r 'select(.msg == "ready") | .port' "$T/log" 2>/dev/null | head -1)
		[ -n "$PORT" ] && return 0
		sleep 0.05
	done
	echo "flood: the server did not start" >&2
	exit 1
}
stop() {
	kill -TERM "$PID"
	wait "$PID" 2>/dev/null || true
	PID=
}
metric() {
	curl -sk --max-time 5 "https://127.0.0.1:$PORT/metrics" | awk -v m="$1" 'index($0, m) == 1 { s += $2 } END { print s + 0 }'
}
status() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$PID/status"; }

echo "== connection flood: default limits, $(nproc) cores (load average before: $(cut -d' ' -f1-3 /proc/loadavg)) =="
printf '%-8s %-32s %-34s %s\n' "held" "reviews (fresh connection/100 ms)" "p50 / p99 / max ms" "shed (reclaimed, handshake, address)"
for n in $NS; do
	start
	# A process holds at most 5,000 sockets (the file limit here is 20,000).
	per=$((n < 5000 ? n : 5000))
	procs=$(((n + per - 1) / per))
	i=0
	HOLDERS=
	while [ "$i" -lt "$procs" ]; do
		"$T/flood" hold "$PORT" "$per" $((SECS + 2)) "127.0.$((i + 1)).1" 100 $((1000 / procs)) >"$T/hold$i" &
		HOLDERS="$HOLDERS $!"
		i=$((i + 1))
	done
	sleep 2
	"$T/flood" probe "$PORT" "$REVIEW" "$SECS" 100 >"$T/probe"
	# shellcheck disable=SC2086 # one PID a word
	wait $HOLDERS
	HOLDERS=
	read -r _ reviews _ ok _ _ _ p50 _ p99 _ maxms <"$T/probe"
	shed="$(metric 'capgate_connections_shed_total{reason="full_reclaimed"}'), $(metric 'capgate_connections_shed_total{reason="handshake_timeout"}'), $(metric 'capgate_connections_shed_total{reason="address_limit')"
	printf '%-8s %-32s %-34s %s\n' "$n" "$ok of $reviews answered 200" "$p50 / $p99 / $maxms" "$shed"
	stop
done

echo
echo "== memory: 64 reviews of 6 MiB at once (384 MiB of bodies), --memory-budget default 128 MiB =="
{ head -c $((6 * 1024 * 1024)) /dev/zero | tr '\0' ' '; cat "$REVIEW"; } >"$T/six.json"
start
rss0=$(status VmRSS)
"$T/flood" post "$PORT" /mutate "$T/six.json" 64 0 >"$T/post1"
hwm1=$(status VmHWM)
"$T/flood" post "$PORT" /mutate "$T/six.json" 64 60 >"$T/post2"
hwm2=$(status VmHWM)
echo "once:          $(cat "$T/post1")"
echo "with retries:  $(cat "$T/post2")"
echo "VmRSS before $rss0 KiB; peak VmHWM $hwm1 KiB after the first wave, $hwm2 KiB after the retried one"
echo "(budget 131072 KiB; the Deployment's limit is 262144 KiB)"
stop
