# Helpers for the hostile suite (sourced by run.sh, bash). The server
# helpers follow tests/integration/lib.sh: every server runs on 127.0.0.1
# with port 0, its port read from the "ready" log line; clients connect
# with SNI capgate.capgate.svc as the apiserver does.

SNI=capgate.capgate.svc
FAILED=0

ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	FAILED=$((FAILED + 1))
}
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
diag() { sed 's/^/#   /' >&2; }

# start_server LOG ARGS...: sets PID and PORT; 1 when it did not start.
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

# cg PATH [CURL ARGS...]: one HTTPS request to the current server.
cg() {
	local path=$1
	shift
	curl -sS --max-time 10 --cacert "$PKI/ca.crt" \
		--resolve "$SNI:$PORT:127.0.0.1" "$@" "https://$SNI:$PORT$path"
}

# review PATH FILE [CURL ARGS...]: POSTs FILE (Content-Type $CT, default
# application/json), the body to ${OUT:-$T/out}, prints the status.
review() {
	local path=$1 file=$2
	shift 2
	cg "$path" -o "${OUT:-$T/out}" -w '%{http_code}' -H "Content-Type: ${CT-application/json}" \
		--data-binary @"$file" "$@" 2>/dev/null
}

wait_for() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# compliant_after REVIEW ANSWER: the answer's patch applies to the review's
# object and leaves every container compliant (compliant.py).
compliant_after() { python3 "$SRC/compliant.py" "$1" "$2"; }
