#!/bin/sh
# Integration tests of `capgate serve`: the real binary on a loopback port,
# real TLS with curl and openssl s_client, TAP lines on stdout.
# shellcheck shell=bash # the line below runs the rest under bash
# shellcheck disable=SC2016 # check and wait_for take a command in single quotes; eval expands it on each try
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/../.." || exit 1
CAPGATE=${CAPGATE:-$PWD/build/capgate}
DATA=$PWD/tests/data
. tests/integration/lib.sh

for tool in curl jq openssl base64; do
	command -v $tool >/dev/null || sh mk/deps.sh curl jq openssl coreutils >/dev/null 2>&1
done
T=$(mktemp -d)
PID=
cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

# --- TLS material: the webhook CA and serving pair, a second pair from
# another CA (rotation), a client CA with good and bad client certificates.
PKI=$T/pki
# shellcheck disable=SC2015 # A && B || C on purpose: C when any step fails
"$CAPGATE" certs create --service capgate --namespace capgate --out "$PKI" >/dev/null &&
	"$CAPGATE" certs create --service capgate --namespace capgate --out "$T/pki2" >/dev/null &&
	"$CAPGATE" certs create --service capgate --namespace capgate --out "$T/clientca" >/dev/null &&
	"$CAPGATE" certs create --service capgate --namespace capgate --out "$T/otherca" >/dev/null &&
	make_client_cert "$T" apiserver kube-apiserver "$T/clientca/ca.crt" "$T/clientca/ca.key" &&
	make_client_cert "$T" intruder kube-apiserver "$T/otherca/ca.crt" "$T/otherca/ca.key" &&
	make_client_cert "$T" othercn someone-else "$T/clientca/ca.crt" "$T/clientca/ca.key" || {
	echo "not ok - test certificates could not be created"
	exit 1
}
cp "$PKI/tls.crt" "$PKI/tls.key" "$T/"
TLS=(--tls-cert "$T/tls.crt" --tls-key "$T/tls.key")
UID0=$(jq -r .request.uid "$DATA/review-pod.json")

# --- start-up refusals: non-zero exit and a message naming the problem.
refuses() {
	local want=$1
	shift
	"$CAPGATE" serve --listen 127.0.0.1:0 "$@" >"$T/start.out" 2>&1 &
	local p=$! rc
	for _ in $(seq 1 50); do kill -0 $p 2>/dev/null || break; sleep 0.1; done
	if kill -0 $p 2>/dev/null; then
		kill -KILL $p
		echo "# still running" >&2
		return 1
	fi
	wait $p
	rc=$?
	# shellcheck disable=SC2015 # A && B || C on purpose: C unless both hold
	grep -q -- "$want" "$T/start.out" && [ $rc -ne 0 ] || {
		echo "# rc=$rc" >&2
		diag <"$T/start.out"
		return 1
	}
}
printf 'apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: bad}\nspec:\n  allowedCapabilities: [NET_ADMN]\n' >"$T/bad.yaml"
check "start-up refuses a missing certificate" refuses "$T/none.crt" --tls-cert "$T/none.crt" --tls-key "$T/tls.key"
check "start-up refuses a key that does not match" refuses "tls.key" --tls-cert "$T/tls.crt" --tls-key "$T/pki2/tls.key"
check "start-up refuses a bad policy with file:line:col" refuses "bad.yaml:5:" "${TLS[@]}" --policy "$T/bad.yaml"
check "start-up refuses a missing policy file" refuses "nope.yaml" "${TLS[@]}" --policy "$T/nope.yaml"
check "start-up refuses a certificate not for --service-dns" refuses "other.example" "${TLS[@]}" --service-dns other.example
check "start-up refuses a bad --tls-priorities" refuses "tls-priorities" "${TLS[@]}" --tls-priorities "NORMAL:+BOGUS"
check "start-up refuses no --tls-cert" refuses "tls-cert" --tls-key "$T/tls.key"
check "start-up refuses a --client-ca that holds no certificate" refuses "client-ca $T/tls.key" "${TLS[@]}" --client-ca "$T/tls.key"
if "$CAPGATE" serve --help | grep -q -- '--client-ca'; then ok "serve --help"; else not_ok "serve --help"; fi

# --- endpoints and statuses, default policy.
cp policy/default.yaml "$T/policy.yaml"
if start_server "$T/a.log" "${TLS[@]}" --policy "$T/policy.yaml" --service-dns "$SNI"; then
	ok "server starts and logs ready"
else
	not_ok "server starts and logs ready"
	diag <"$T/a.log"
	exit 1
fi
check "start-up refuses a port already in use" refuses "127.0.0.1:$PORT" "${TLS[@]}" --listen "127.0.0.1:$PORT"
check "start-up refuses a bad --listen" refuses "ADDR:PORT" "${TLS[@]}" --listen localhost
check "GET /healthz is 200" test "$(cg /healthz -o /dev/null -w '%{http_code}')" = 200
check "GET /readyz is 200" test "$(cg /readyz -o /dev/null -w '%{http_code}')" = 200
check "plain HTTP is not served" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")" != 200

code=$(review "/mutate?timeout=10s" "$DATA/review-pod.json")
mutate_ok() {
	[ "$code" = 200 ] &&
		jq -e --arg uid "$UID0" '.apiVersion == "admission.k8s.io/v1" and .kind == "AdmissionReview"
		  and .response.uid == $uid and .response.allowed == true
		  and .response.patchType == "JSONPatch"' "$T/out" >/dev/null &&
		jq -r .response.patch "$T/out" | base64 -d | jq -e 'type == "array" and length > 0' >/dev/null
}
check "POST /mutate?timeout=10s: 200, uid echoed, JSONPatch" mutate_ok || diag <"$T/out"
code=$(review /validate "$DATA/review-pod.json")
validate_ok() {
	[ "$code" = 200 ] &&
		jq -e --arg uid "$UID0" '.response.uid == $uid and (.response | has("patch") | not)
		  and (.response | has("patchType") | not)' "$T/out" >/dev/null
}
check "POST /validate: 200, uid echoed, never a patch" validate_ok || diag <"$T/out"
dry() { jq '.request.dryRun = true' "$DATA/review-pod.json" >"$T/dry.json" &&
	[ "$(review /mutate "$T/dry.json")" = 200 ] && jq -S .response "$T/out" >"$T/dry.out" &&
	review /mutate "$DATA/review-pod.json" >/dev/null && jq -S .response "$T/out" | cmp -s - "$T/dry.out"; }
check "dryRun: true gets the same answer" dry

jq '.request.object.spec.containers = "not a list"' "$DATA/review-pod.json" >"$T/shape.json"
code=$(review /mutate "$T/shape.json")
check "an object the engine cannot judge is denied (onError: deny), never allowed" \
	eval '[ "$code" = 200 ] && jq -e ".response.allowed == false and .response.uid == \"$UID0\"" "$T/out" >/dev/null'
printf '{"kind":"AdmissionReview","request":' >"$T/trunc.json"
code=$(review /mutate "$T/trunc.json")
check "malformed JSON is 400" test "$code" = 400
jq 'del(.request.uid)' "$DATA/review-pod.json" >"$T/nouid.json"
code=$(review /mutate "$T/nouid.json")
check "review without uid is 400 and says uid" eval '[ "$code" = 400 ] && grep -qi uid "$T/out"'
jq 'del(.request)' "$DATA/review-pod.json" >"$T/noreq.json"
code=$(review /validate "$T/noreq.json")
check "review without request is 400 and says request" eval '[ "$code" = 400 ] && grep -qi request "$T/out"'
code=$(cg /mutate -o "$T/out" -w '%{http_code}' -D "$T/hdr")
check "GET /mutate is 405 with Allow: POST" eval '[ "$code" = 405 ] && grep -qi "^allow: POST" "$T/hdr"'
code=$(cg /healthz -o /dev/null -w '%{http_code}' -X DELETE)
check "DELETE /healthz is 405" test "$code" = 405
code=$(CT=text/yaml review /mutate "$DATA/review-pod.json")
check "Content-Type text/yaml is 415" test "$code" = 415
code=$(CT='application/json; charset=utf-8' review /mutate "$DATA/review-pod.json")
check "Content-Type application/json; charset=utf-8 is accepted" test "$code" = 200
{ jq -c . "$DATA/review-pod.json" | sed "s/\"spec\":/\"deep\":$(printf '[%.0s' $(seq 100))$(printf ']%.0s' $(seq 100)),\"spec\":/"; } >"$T/deep.json"
code=$(review /mutate "$T/deep.json")
check "JSON nested 100 deep is 400 and says so" eval '[ "$code" = 400 ] && grep -q "deep" "$T/out"'
code=$(cg /nothing-here -o /dev/null -w '%{http_code}')
check "unknown path is 404" test "$code" = 404
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$T/big.json"
code=$(review /mutate "$T/big.json")
check "9 MiB body (Content-Length) is 413" test "$code" = 413
code=$(review /mutate "$T/big.json" -H 'Transfer-Encoding: chunked')
check "9 MiB chunked body is 413" test "$code" = 413
# Just under the limit, valid JSON: padding is whitespace, so it is read and judged.
{ head -c $((7 * 1024 * 1024)) /dev/zero | tr '\0' ' '; cat "$DATA/review-pod.json"; } >"$T/large.json"
code=$(review /mutate "$T/large.json")
check "7 MiB review is read and answered 200" test "$code" = 200
{ head -c 300000 /dev/zero | tr '\0' ' '; cat "$DATA/review-pod.json"; } >"$T/slow.json"
review /mutate "$T/slow.json" --limit-rate 100k --max-time 1 >/dev/null 2>&1
check "a client that gives up mid-body is logged as not answered" wait_for 2 \
	log_has "$T/a.log" '.msg == "request not answered" and .endpoint == "mutate"'
check "server still serves after bad requests" test "$(cg /healthz -o /dev/null -w '%{http_code}')" = 200

# Keep-alive: several requests on one TLS connection.
conns=$(cg /healthz -o /dev/null -w '%{num_connects}\n' -o /dev/null "https://$SNI:$PORT/readyz" \
	-o /dev/null "https://$SNI:$PORT/healthz" | tr -d '\n')
check "keep-alive: 3 requests, 1 connection ($conns)" test "$conns" = 100

cg /metrics >"$T/metrics"
metrics_ok() {
	grep -q '^capgate_reviews_total{endpoint="mutate",operation="CREATE",kind="Pod",decision="patched"} [1-9]' "$T/metrics" &&
		grep -q '^capgate_review_duration_seconds_count{endpoint="mutate"} [1-9]' "$T/metrics" &&
		grep -q '^capgate_review_body_bytes_bucket{endpoint="mutate",le="8192"}\|^capgate_review_body_bytes_bucket{endpoint="mutate",le="16384"} [1-9]' "$T/metrics" &&
		grep -q '^capgate_policy_generation 1$' "$T/metrics" &&
		grep -q '^capgate_http_responses_total{code="413"} 2$' "$T/metrics" &&
		awk '$1 == "capgate_cert_expiry_seconds" { exit !($2 > 86400 * 300) }' "$T/metrics"
}
check "GET /metrics: reviews, latency, body sizes, policy, cert expiry" metrics_ok || diag <"$T/metrics"
log_ok() {
	log_has "$T/a.log" '.msg == "review" and .uid == "'"$UID0"'" and .kind == "Pod"
	  and .namespace == "shop" and .operation == "CREATE" and .decision == "patched"
	  and .patch_ops > 0 and (.us | type) == "number" and .dry_run == false' &&
		log_has "$T/a.log" '.status == 400 and (.error | test("uid"))' &&
		log_has "$T/a.log" '.status == 415 and .path == "/mutate"' &&
		log_has "$T/a.log" '.decision == "error" and (.error | test("not a list"))'

}
check "one JSON log line per review and per error" log_ok || diag <"$T/a.log"

# --- policy reload under traffic: valid, invalid, SIGHUP.
: >"$T/stop"
rm -f "$T/stop"
traffic "$T/t1" "$T/stop" &
TP=$!
sleep 0.3
{
	cat policy/default.yaml
	echo '    - shop'
} | sed 's/namespaces: \[kube-system\]/namespaces:\n    - kube-system/' >"$T/policy.new"
mv "$T/policy.new" "$T/policy.yaml"
check "policy file change is picked up within 2 s" wait_for 3 eval '[ "$(metric capgate_policy_generation)" = 2 ]'
review /mutate "$DATA/review-pod.json" >/dev/null
check "new policy in force (namespace shop now exempt: no patch)" \
	jq -e '.response.allowed == true and (.response | has("patch") | not)' "$T/out" >/dev/null
cp "$T/bad.yaml" "$T/policy.yaml"
check "bad policy is counted as a reload failure" wait_for 3 eval '[ "$(metric capgate_policy_reload_failures_total)" = 1 ]'
check "bad policy keeps the old one (generation 2)" test "$(metric capgate_policy_generation)" = 2
check "bad policy is logged with file:line:col" log_has "$T/a.log" '(.msg | test("policy reload failed")) and (.error | test("policy.yaml:5:[0-9]+: .*NET_ADMN"))'
cp policy/default.yaml "$T/policy.yaml"
wait_for 3 eval '[ "$(metric capgate_policy_generation)" = 3 ]'
kill -HUP "$PID"
check "SIGHUP reloads the policy" wait_for 3 eval '[ "$(metric capgate_policy_generation)" = 4 ]'
touch "$T/stop"
wait $TP
check "no failed request during policy reloads" all_200 "$T/t1" 40

# A ConfigMap volume: the file is a symlink through ..data, which is swapped.
mkdir -p "$T/cm/..v1" "$T/cm/..v2"
cp policy/default.yaml "$T/cm/..v1/policy.yaml"
cp "$T/policy.yaml" "$T/cm/..v2/policy.yaml"
sed -i 's/onDisallowed: strip/onDisallowed: deny/' "$T/cm/..v2/policy.yaml"
ln -s ..v1 "$T/cm/..data"
ln -s ..data/policy.yaml "$T/cm/policy.yaml"
stop_server
start_server "$T/b.log" "${TLS[@]}" --policy "$T/cm/policy.yaml"
ln -s ..v2 "$T/cm/..data_tmp" && mv -T "$T/cm/..data_tmp" "$T/cm/..data"
check "ConfigMap symlink swap is picked up" wait_for 3 eval '[ "$(metric capgate_policy_generation)" = 2 ]'

# --- certificate reload under traffic: clients trust both CAs meanwhile.
cat "$PKI/ca.crt" "$T/pki2/ca.crt" >"$T/both.crt"
rm -f "$T/stop"
CACERT=$T/both.crt traffic "$T/t2" "$T/stop" &
TP=$!
sleep 0.3
cp "$T/pki2/tls.crt" "$T/tls.crt.new" && cp "$T/pki2/tls.key" "$T/tls.key.new"
mv "$T/tls.key.new" "$T/tls.key" && mv "$T/tls.crt.new" "$T/tls.crt"
new_cert() { CACERT=$T/pki2/ca.crt cg /healthz -o /dev/null 2>/dev/null; }
check "new certificate served within 10 s" wait_for 10 new_cert
check "old CA no longer accepted by new connections" eval '! cg /healthz -o /dev/null 2>/dev/null'
failures=$(CACERT=$T/pki2/ca.crt metric capgate_cert_reload_failures_total)
cp "$PKI/tls.key" "$T/tls.key" # now the key does not match the certificate
check "mismatched new pair counted as a failure" wait_for 5 eval '[ "$(CACERT=$T/pki2/ca.crt metric capgate_cert_reload_failures_total)" -gt "$failures" ]'
check "mismatched new pair keeps the old certificate" new_cert
# A check that never ends (open() of a FIFO blocks) must not stall anything.
# shellcheck disable=SC2034 # read by the eval in the check below
failures=$(CACERT=$T/pki2/ca.crt metric capgate_cert_reload_failures_total)
rm -f "$T/tls.crt" && mkfifo "$T/tls.crt"
check "a certificate check that hangs is abandoned and counted" wait_for 9 eval '[ "$(CACERT=$T/pki2/ca.crt metric capgate_cert_reload_failures_total)" -gt "$failures" ]'
check "and meanwhile the old certificate is served" new_cert
rm -f "$T/tls.crt"
touch "$T/stop"
wait $TP
check "no failed request during certificate reloads" all_200 "$T/t2" 40
stop_server
cp "$PKI/tls.crt" "$PKI/tls.key" "$T/"

# --- SIGTERM with requests in flight: during --shutdown-delay /readyz
# fails and new connections are served and closed; then new ones are
# refused; the slow uploads (3 s each) under way throughout are answered;
# exit 0. tests/availability has keep-alive clients moving to another
# instance.
start_server "$T/c.log" "${TLS[@]}" --shutdown-delay 1
for i in 1 2 3 4; do
	OUT=$T/slow$i.out review /mutate "$T/slow.json" --limit-rate 100k >"$T/slow$i.code" 2>&1 &
done
sleep 0.5
kill -TERM "$PID"
sleep 0.2
check "after SIGTERM /readyz is 503 at once" test "$(cg /readyz -o /dev/null -w '%{http_code}')" = 503
code=$(cg /healthz -o /dev/null -D "$T/term.hdr" -w '%{http_code}')
check "during --shutdown-delay a new connection is served, with Connection: close ($code)" \
	eval '[ "$code" = 200 ] && grep -qi "^connection: close" "$T/term.hdr"'
sleep 1.2
check "after --shutdown-delay new connections are refused" eval '! cg /healthz -o /dev/null --max-time 2 2>/dev/null'
# shellcheck disable=SC2046 # one PID a word
wait $(jobs -p | grep -v "^$PID$") 2>/dev/null
inflight_ok() {
	for i in 1 2 3 4; do
		[ "$(cat "$T/slow$i.code")" = 200 ] && jq -e --arg uid "$UID0" '.response.uid == $uid' "$T/slow$i.out" >/dev/null || return 1
	done
}
check "requests in flight at SIGTERM are all answered 200" inflight_ok
wait "$PID"
check "exit status 0 after SIGTERM" test $? = 0
PID=

# --- mTLS: --client-ca + --client-cn.
start_server "$T/d.log" "${TLS[@]}" --client-ca "$T/clientca/ca.crt" --client-cn kube-apiserver
code=$(review /mutate "$DATA/review-pod.json" --cert "$T/apiserver.crt" --key "$T/apiserver.key")
check "mTLS: client certificate from the CA with CN kube-apiserver is served" test "$code" = 200
code=$(review /mutate "$DATA/review-pod.json" 2>/dev/null)
check "mTLS: no client certificate is refused ($code)" test "$code" = 403
code=$(review /mutate "$DATA/review-pod.json" --cert "$T/intruder.crt" --key "$T/intruder.key" 2>/dev/null)
check "mTLS: certificate from another CA is refused ($code)" test "$code" = 403
code=$(review /mutate "$DATA/review-pod.json" --cert "$T/othercn.crt" --key "$T/othercn.key" 2>/dev/null)
check "mTLS: wrong CN is refused ($code)" test "$code" = 403
check "mTLS: /healthz and /readyz stay open to probes without a certificate" \
	eval '[ "$(cg /healthz -o /dev/null -w "%{http_code}")" = 200 ] && [ "$(cg /readyz -o /dev/null -w "%{http_code}")" = 200 ]'
check "mTLS: /metrics needs the certificate" test "$(cg /metrics -o /dev/null -w '%{http_code}')" = 403
check "mTLS: refusals logged and counted" eval '[ "$(jq -c "select(.status == 403)" "$T/d.log" | wc -l)" -eq 4 ] &&
	[ "$(cg /metrics --cert "$T/apiserver.crt" --key "$T/apiserver.key" | awk "/^capgate_client_refused_total/ { print \$2 }")" = 4 ]'
stop_server

# --- TLS versions and suites: 1.2 and 1.3 only, AEAD only.
start_server "$T/e.log" "${TLS[@]}"
hs() { echo | timeout 5 openssl s_client -connect "127.0.0.1:$PORT" -servername "$SNI" "$@" 2>&1 | grep -q '^New, TLSv1\.[23]'; }
check "TLS 1.3 handshake succeeds" hs -tls1_3
check "TLS 1.2 handshake succeeds" hs -tls1_2
check "TLS 1.1 is refused" eval '! hs -tls1_1 -cipher "DEFAULT:@SECLEVEL=0"'
check "TLS 1.2 with a CBC suite is refused" eval '! hs -tls1_2 -cipher AES128-SHA'
check "curl --tls-max 1.1 is refused" eval '! cg /healthz --tls-max 1.1 -o /dev/null 2>/dev/null'
check "refused handshakes reached the server" test "$(grep -c 'libmicrohttpd' "$T/e.log")" -ge 3
stop_server

# --- limits on connections: how many, how long a new one may take to send
# a request (here clients that connect and never even start the TLS
# handshake), and how long a request may take to arrive (a client
# trickling its headers, slowloris). tests/availability floods them.
start_server "$T/f.log" "${TLS[@]}" --max-connections 2 --timeout 4 --handshake-timeout 3 --request-timeout 2
ms_now() { echo $(($(date +%s%N) / 1000000)); }
idle_conn() {
	local t0
	t0=$(ms_now)
	exec 3<>"/dev/tcp/127.0.0.1/$PORT"
	timeout 10 cat <&3 >/dev/null
	echo $(($(ms_now) - t0)) >"$T/idle$1"
}
idle_conn 1 &
I1=$!
idle_conn 2 &
I2=$!
sleep 0.5
check "--max-connections 2, both held by silent connections: a third takes the slot of one and is served" \
	test "$(cg /healthz -o /dev/null -w '%{http_code}' --max-time 5)" = 200
wait $I1 $I2
idle_ms=$(sort -n "$T/idle1" "$T/idle2" | tr '\n' ' ')
check "... one silent connection was closed for it, the other at --handshake-timeout 3 s ($idle_ms ms)" \
	eval 'set -- $idle_ms; [ "$1" -le 2500 ] && [ "$2" -ge 2900 ] && [ "$2" -le 5500 ]'
check "served again once they are gone" test "$(cg /healthz -o /dev/null -w '%{http_code}')" = 200
t0=$(ms_now)
# One byte every 0.3 s restarts the idle timeout each time; only the
# request deadline ends it.
{ for _ in $(seq 1 60); do printf 'G'; sleep 0.3; done; } 2>/dev/null |
	timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -servername "$SNI" -quiet >/dev/null 2>&1
slow=$(($(ms_now) - t0))
check "--request-timeout 2: a client trickling its headers is disconnected ($slow ms)" \
	eval '[ "$slow" -ge 1900 ] && [ "$slow" -le 4000 ]'
check "slow client logged and counted" eval 'log_has "$T/f.log" ".msg == \"slow clients disconnected\"" &&
	[ "$(metric capgate_slow_clients_closed_total)" = 1 ]'
keepalive_idle() {
	{
		printf 'GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n' "$SNI"
		sleep 3
		printf 'GET /readyz HTTP/1.1\r\nHost: %s\r\n\r\n' "$SNI"
		sleep 0.5
	} | openssl s_client -connect "127.0.0.1:$PORT" -servername "$SNI" -quiet 2>/dev/null |
		grep -c '^HTTP/1.1 200'
}
check "a keep-alive connection idle 3 s after an answer is kept (not a slow request)" test "$(keepalive_idle)" = 2
stop_server

[ "$FAILED" -eq 0 ]
