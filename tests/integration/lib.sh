# shellcheck shell=bash
# Helpers for the integration suite (sourced by run.sh, bash).
# Every server runs on 127.0.0.1 with port 0; its port is read from the
# "ready" log line. Clients connect with SNI capgate.capgate.svc, as the
# apiserver does for a Service named capgate in namespace capgate.

SNI=capgate.capgate.svc
FAILED=0

ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	FAILED=$((FAILED + 1))
}
# check NAME CMD...: one TAP line from a command's exit status.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
diag() { sed 's/^/#   /' >&2; }

# start_server LOG ARGS...: starts capgate serve in the background and waits
# for it to be ready; sets PID and PORT. Returns 1 when it did not start.
start_server() {
	local log=$1
	shift
	: >"$log"
	"$CAPGATE" serve --listen 127.0.0.1:0 "$@" 2>"$log" &
	PID=$!
	PORT=
	for _ in $(seq 1 200); do
		PORT=$(jq -r 'select(.msg == "ready") | .port' "$log" 2>/dev/null | head -1)
		[ -n "$PORT" ] && return 0
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}

# stop_server: SIGTERM, then a second one to cut --shutdown-delay short
# (5 s by default; the suites that test the delay signal once themselves).
stop_server() {
	kill -TERM "$PID" 2>/dev/null
	sleep 0.1
	kill -TERM "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
}

# cg PATH [CURL ARGS...]: one HTTPS request to the current server, trusting
# CACERT (default: the test CA).
cg() {
	local path=$1
	shift
	curl -sS --max-time 10 --cacert "${CACERT:-$PKI/ca.crt}" \
		--resolve "$SNI:$PORT:127.0.0.1" "$@" "https://$SNI:$PORT$path"
}

# review PATH FILE [CURL ARGS...]: POSTs an AdmissionReview (Content-Type
# $CT, default application/json); the body goes to ${OUT:-$T/out}, the status is
# printed.
review() {
	local path=$1 file=$2
	shift 2
	cg "$path" -o "${OUT:-$T/out}" -w '%{http_code}' -H "Content-Type: ${CT:-application/json}" \
		--data-binary @"$file" "$@"
}

# log_has FILE FILTER: some JSON line of FILE satisfies FILTER.
log_has() { jq -e -s "any(.[]; $2)" "$1" >/dev/null; }

metric() { cg /metrics | awk -v m="$1" '$1 == m { print $2 }'; }

# wait_for SECONDS CMD...: polls CMD every 100 ms.
wait_for() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# make_client_cert DIR NAME CN CA_CRT CA_KEY: a clientAuth certificate.
make_client_cert() {
	local dir=$1 name=$2 cn=$3 ca=$4 cakey=$5
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$name.key" 2>/dev/null &&
		openssl req -new -key "$dir/$name.key" -subj "/CN=$cn" -out "$dir/$name.csr" 2>/dev/null &&
		printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n' >"$dir/$name.ext" &&
		openssl x509 -req -in "$dir/$name.csr" -CA "$ca" -CAkey "$cakey" -CAcreateserial \
			-days 2 -extfile "$dir/$name.ext" -out "$dir/$name.crt" 2>/dev/null
}

# traffic OUT STOPFILE: until STOPFILE exists, 2 loops of curl processes,
# each sending 10 keep-alive /mutate requests on a new connection; every
# status goes to OUT (000: the request failed). Run it in the background.
traffic() {
	local out=$1 stop=$2 args=() i
	for i in $(seq 1 10); do args+=(-o /dev/null "https://$SNI:$PORT/mutate?timeout=10s"); done
	for i in 1 2; do
		while [ ! -e "$stop" ]; do
			curl -sS --max-time 20 --cacert "${CACERT:-$PKI/ca.crt}" \
				--resolve "$SNI:$PORT:127.0.0.1" -H 'Content-Type: application/json' \
				--data-binary @"$DATA/review-pod.json" -w '%{http_code}\n' \
				"${args[@]}" >>"$out.$i" 2>/dev/null
		done &
	done
	wait
	cat "$out".[12] >"$out"
}

# all_200 FILE MIN: FILE holds at least MIN lines and every one is 200.
all_200() {
	local n bad
	n=$(wc -l <"$1")
	bad=$(grep -vc '^200$' "$1")
	echo "# $n requests, $bad not 200" >&2
	[ "$n" -ge "$2" ] && [ "$bad" -eq 0 ]
}
