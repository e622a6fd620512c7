#!/bin/sh
# Hostile input against the running server (issue 6): `capgate serve` on a
# loopback port with a throwaway certificate, attacked over real TLS with
# curl, openssl s_client and client.c (thousands of connections at once, a
# byte a second, raw bytes). Every attack gets its documented answer
# (README "Design notes", issue 3): 400 not a review, 200 + allowed:false +
# uid for a review that cannot be judged, 405, 413, 415, refused handshakes.
# Afterwards a normal review is answered exactly as before, and the server's
# VmRSS has not grown. TAP lines on stdout.
# shellcheck shell=bash # the line below runs the rest under bash
# shellcheck disable=SC2016 # check and wait_for take a command in single quotes; eval expands it on each try
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/../.." || exit 1
CAPGATE=${CAPGATE:-$PWD/build/capgate}
DATA=$PWD/tests/data
SRC=$PWD/tests/hostile
# shellcheck source=tests/hostile/lib.sh
. "$SRC/lib.sh"

for tool in curl jq openssl base64 cc; do
	command -v $tool >/dev/null || sh mk/deps.sh curl jq openssl coreutils gcc >/dev/null 2>&1
done
sh mk/deps.sh libssl-dev >/dev/null 2>&1
T=$(mktemp -d)
PID=
PID2=
PID3=
cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	[ -n "$PID2" ] && kill -KILL "$PID2" 2>/dev/null
	[ -n "$PID3" ] && kill -KILL "$PID3" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
ulimit -n 8192 2>/dev/null

CLIENT=$T/client
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -o "$CLIENT" "$SRC/client.c" -lssl -lcrypto || {
	echo "not ok - tests/hostile/client.c does not build"
	exit 1
}
PKI=$T/pki
"$CAPGATE" certs create --service capgate --namespace capgate --out "$PKI" >/dev/null || {
	echo "not ok - test certificate could not be created"
	exit 1
}
TLS=(--tls-cert "$PKI/tls.crt" --tls-key "$PKI/tls.key")
UID0=$(jq -r .request.uid "$DATA/review-pod.json")

# --- the slow-client server: a short --timeout (idle connections and
# handshakes) and, where the server has it, a short --request-timeout (a
# request still arriving after that long; 30 s by default), so the suite
# stays short. Its 21 slow clients start first and trickle while
# everything else runs.
SLOW_TIMEOUT=3
REQ_TIMEOUT=30
REQ_FLAG=()
if "$CAPGATE" serve --help | grep -q -- --request-timeout; then
	REQ_TIMEOUT=8
	REQ_FLAG=(--request-timeout "$REQ_TIMEOUT")
fi
SLOW_SECS=$((REQ_TIMEOUT + 6))
start_server "$T/slow.log" "${TLS[@]}" --timeout "$SLOW_TIMEOUT" "${REQ_FLAG[@]}" || {
	echo "not ok - slow-client server starts"
	exit 1
}
PID2=$PID
PORT2=$PORT
SLOW_PIDS=()
for what in headers body hello; do
	"$CLIENT" slow "$PORT2" 7 $SLOW_SECS "$what" >"$T/slow.$what" 2>&1 &
	SLOW_PIDS+=("$!")
done
# The 14 sending headers or a body stay until the request deadline; the
# 7 trickling a ClientHello go at --timeout, so on a busy machine some may
# be gone already.
count_held() { ss -Htn state established "( sport = :$PORT2 )" | wc -l; }
wait_for 10 eval '[ "$(count_held)" -ge 14 ]'
PORT=$PORT2
code=$(OUT=$T/slowrev.json review /mutate "$DATA/review-pod.json" --max-time 5)
held=$(count_held)
check "a normal review is answered 200 while $held slow clients hang ($code)" \
	eval '[ "$held" -ge 14 ] && [ "$code" = 200 ] && jq -e --arg u "$UID0" ".response.uid == \$u" "$T/slowrev.json" >/dev/null'

# --- the main server: default limits (1024 connections, 30 s, 8 MiB).
start_server "$T/a.log" "${TLS[@]}" || {
	echo "not ok - server starts"
	diag <"$T/a.log"
	exit 1
}
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$PID/status"; }
# Under AddressSanitizer (make asan) memory is held in quarantine and shadow:
# VmRSS says nothing about capgate there, so those checks are skipped.
SANITIZED=0
readelf -d "$CAPGATE" 2>/dev/null | grep -q 'NEEDED.*lib[au]san' && SANITIZED=1
rss_check() { # rss_check NAME CMD...: a VmRSS check, skipped on sanitizer builds
	if [ $SANITIZED = 1 ]; then
		echo "ok - $1 # SKIP sanitizer build: VmRSS is ASan's"
	else
		check "$@"
	fi
}
# rss_back NAME BASE SLACK: within 5 s VmRSS is at most BASE + SLACK KiB.
# Memory freed by a request is unmapped when it is freed; what closed
# connections leave in malloc's heaps is given back by the main thread
# within about a second (server/memory.h). The figure is the last sample.
rss_back() {
	local name=$1 base=$2 slack=$3
	wait_for 5 eval '[ "$(rss)" -le $((base + slack)) ]'
	local rc=$? now
	now=$(rss)
	rss_check "$name ($base -> $now KiB, limit +$slack)" test "$rc" = 0
}
code=$(review /mutate "$DATA/review-pod.json")
[ "$code" = 200 ] && jq -r .response.patch "$T/out" | base64 -d | jq -S . >"$T/patch0.json"
check "baseline: the realistic review is patched" eval 'jq -e "length > 0" "$T/patch0.json" >/dev/null'
RSS0=$(rss)

# --- malformed and truncated JSON, and bodies that are not reviews: 400.
R=$DATA/review-pod.json
bad_json() {
	local name=$1 file=$2
	code=$(review /mutate "$file")
	check "$name is 400 ($code)" test "$code" = 400 || head -c 300 "$T/out" | diag
}
printf '' >"$T/b"
bad_json "empty body" "$T/b"
printf '{' >"$T/b"
bad_json "a lone {" "$T/b"
head -c $(($(wc -c <"$R") / 2)) "$R" >"$T/b"
bad_json "review truncated in the middle" "$T/b"
jq -c . "$R" | head -c -2 >"$T/b"
bad_json "review missing its last }" "$T/b"
{ cat "$R"; printf 'x'; } >"$T/b"
bad_json "review followed by garbage" "$T/b"
{ cat "$R"; cat "$R"; } >"$T/b"
bad_json "two reviews in one body" "$T/b"
sed 's/"uid":"705ab4f5/"uid":705ab4f5/' "$R" >"$T/b"
bad_json "unquoted string" "$T/b"
sed 's/"shop"/"shop",/' "$R" >"$T/b"
bad_json "trailing comma" "$T/b"
sed "s/\"shop\"/'shop'/" "$R" >"$T/b"
bad_json "single quotes" "$T/b"
sed 's/"containerPort":80/"containerPort":0x50/' "$R" >"$T/b"
bad_json "hexadecimal number" "$T/b"
sed 's/"containerPort":80/"containerPort":NaN/' "$R" >"$T/b"
bad_json "NaN" "$T/b"
for v in null '[]' '"review"' 42 true; do
	printf '%s' "$v" >"$T/b"
	bad_json "top-level $v" "$T/b"
done
printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}' >"$T/b"
bad_json "review without request" "$T/b"

# --- wrong types at every level. The uid is readable, so the answer is 200
# with that uid and allowed:false (onError: deny), or an answer whose patch,
# applied as the apiserver applies it, leaves every container compliant:
# a wrong type is never a way around the policy.
judged() {
	local name=$1 filter=$2 out
	jq "$filter" "$R" >"$T/b"
	code=$(review /mutate "$T/b")
	[ "$code" = 200 ] && jq -e --arg u "$UID0" '.response.uid == $u' "$T/out" >/dev/null &&
		if jq -e '.response.allowed == false' "$T/out" >/dev/null; then
			out=denied
		else
			compliant_after "$T/b" "$T/out" && out="allowed, compliant"
		fi
	check "wrong type, $name: 200, uid, ${out:-NOT SAFE} ($code)" test -n "${out:-}" ||
		head -c 400 "$T/out" | diag
}
wrong_review() {
	local name=$1 filter=$2
	jq "$filter" "$R" >"$T/b"
	bad_json "wrong type, $name" "$T/b"
}
wrong_review "request as array" '.request = []'
wrong_review "request as string" '.request = "x"'
wrong_review "uid as number" '.request.uid = 42'
wrong_review "uid as object" '.request.uid = {}'
wrong_review "uid empty" '.request.uid = ""'
wrong_review "kind as number" '.kind = 5'
wrong_review "apiVersion as array" '.apiVersion = []'
wrong_review "whole review as array of the review" '[.]'
C='.request.object.spec.containers[0]'
judged "object as string" '.request.object = "pod"'
judged "object as array" '.request.object = []'
judged "object null" '.request.object = null'
judged "request.kind as string" '.request.kind = "Pod"'
judged "operation as number" '.request.operation = 1'
judged "dryRun as string" '.request.dryRun = "yes"'
judged "namespace as number" '.request.namespace = 7'
judged "metadata as array" '.request.object.metadata = []'
judged "labels as string" '.request.object.metadata.labels = "a"'
judged "annotations as array" '.request.object.metadata.annotations = []'
judged "spec as array" '.request.object.spec = []'
judged "spec as string" '.request.object.spec = "s"'
judged "spec null" '.request.object.spec = null'
judged "hostNetwork as string" '.request.object.spec.hostNetwork = "true"'
judged "pod securityContext as array" '.request.object.spec.securityContext = []'
judged "pod sysctls as object" '.request.object.spec.securityContext = {sysctls: {name: "x"}}'
judged "os as string" '.request.object.spec.os = "windows"'
judged "containers as object" '.request.object.spec.containers = {}'
judged "containers as string" '.request.object.spec.containers = "c"'
judged "initContainers as number" '.request.object.spec.initContainers = 1'
judged "containers [null]" '.request.object.spec.containers = [null]'
judged "container as string" "$C = \"c\""
judged "container name as number" "$C.name = 5"
judged "image as array" "$C.image = []"
judged "command as string" "$C.command = \"/bin/sh\""
judged "ports as string" "$C.ports = \"80\""
judged "containerPort as string" "$C.ports[0].containerPort = \"80\""
judged "securityContext as number" "$C.securityContext = 5"
judged "privileged as string" "$C.securityContext.privileged = \"true\""
judged "runAsUser as string" "$C.securityContext.runAsUser = \"0\""
judged "runAsUser negative" "$C.securityContext.runAsUser = -1"
# Beyond int64: the parser's range, so "malformed" (400). The apiserver
# cannot send it (runAsUser is an int64), so no allowance can hinge on it.
jq "$C.securityContext.runAsUser = 18446744073709551616" "$R" >"$T/b"
code=$(review /mutate "$T/b")
check "runAsUser 2^64: 400 or denied ($code)" eval '[ "$code" = 400 ] || jq -e ".response.allowed == false" "$T/out" >/dev/null'
judged "capabilities as array" "$C.securityContext.capabilities = []"
judged "capabilities.add as string" "$C.securityContext.capabilities = {add: \"SYS_ADMIN\"}"
judged "capabilities.add [5]" "$C.securityContext.capabilities = {add: [5]}"
judged "capabilities.add [null]" "$C.securityContext.capabilities = {add: [null]}"
judged "capabilities.add [[SYS_ADMIN]]" "$C.securityContext.capabilities = {add: [[\"SYS_ADMIN\"]]}"
judged "capabilities.drop as string" "$C.securityContext.capabilities = {drop: \"ALL\"}"
judged "Deployment template as string" '.request.kind.kind = "Deployment" | .request.object = {kind: "Deployment", spec: {template: "t"}}'

# --- bypass attempts the parser must see through (RFC 8259 escapes,
# duplicate keys read as Go reads them: the last wins).
# bypass NAME FILE TEXT: FILE (which must hold TEXT, the trick itself) is
# denied, or patched into compliance.
bypass() {
	local name=$1 file=$2
	grep -qF -- "$3" "$file" || {
		echo "# $name: the body lacks $3" >&2
		return 1
	}
	code=$(review /mutate "$file")
	[ "$code" = 200 ] && jq -e --arg u "$UID0" '.response.uid == $u' "$T/out" >/dev/null &&
		{ jq -e '.response.allowed == false' "$T/out" >/dev/null || compliant_after "$file" "$T/out"; }
}
jq -c "$C.securityContext.capabilities = {add: [\"SYS_ADMIN\"]}" "$R" |
	sed 's/"capabilities"/"capabilit\\u0069es"/; s/"add"/"\\u0061dd"/' >"$T/b"
check "escaped keys (\"capabilit\\u0069es\", \"\\u0061dd\"): SYS_ADMIN still stripped" bypass escaped "$T/b" '"capabilit\u0069es":{"\u0061dd":["SYS_ADMIN"]}'
jq -c "$C.securityContext.capabilities = {add: [\"SYS_ESCAPED\", \"cap_net_raw\", \"Cap_Sys_Ptrace\"]}" "$R" |
	sed 's/SYS_ESCAPED/SYS_\\u0041DMIN/' >"$T/b"
check "escaped and mixed-case capability names are stripped" bypass spelled "$T/b" 'SYS_\u0041DMIN'
jq -c "$C.securityContext = {privileged: false}" "$R" |
	sed 's/"securityContext":{"privileged":false}/"securityContext":{"privileged":false},"securityContext":{"privileged":true,"capabilities":{"add":["SYS_ADMIN"]}}/' >"$T/b"
check "duplicate securityContext (the last one is privileged): judged as Go reads it" bypass dup "$T/b" '"securityContext":{"privileged":true'
jq -c "$C.securityContext.capabilities = {add: [\"NET_BIND_SERVICE\\u0000SYS_ADMIN\"]}" "$R" |
	sed 's/\\\\u0000/\\u0000/' >"$T/b"
check "capability name with \\u0000 inside is not taken for NET_BIND_SERVICE" bypass nul "$T/b" 'NET_BIND_SERVICE\u0000SYS_ADMIN'

# --- invalid UTF-8 and NUL bytes: 400 (RFC 8259 is UTF-8), or judged with
# the uid echoed byte for byte; the answer is always valid JSON.
utf8() {
	local name=$1
	code=$(review /mutate "$T/b")
	check "$name: 400, or 200 with valid JSON and the same uid ($code)" eval '! cmp -s "$T/b" "$R" && { [ "$code" = 400 ] ||
		{ [ "$code" = 200 ] && jq -e --slurpfile r "$T/b" ".response.uid == \$r[0].request.uid" "$T/out" >/dev/null; }; }'
}
sed 's/"name":"checkout"/"name":"check\xffout"/' "$R" >"$T/b"
utf8 "byte 0xff in a container name"
sed 's/"name":"checkout"/"name":"check\xc0\xafout"/' "$R" >"$T/b"
utf8 "overlong encoding in a container name"
sed 's/"name":"checkout"/"name":"check\xed\xa0\x80out"/' "$R" >"$T/b"
utf8 "UTF-16 surrogate as UTF-8 bytes"
sed "s/\"uid\":\"$UID0\"/\"uid\":\"$UID0\xfe\"/" "$R" >"$T/b"
utf8 "invalid UTF-8 in the uid"
sed "s/\"uid\":\"$UID0\"/\"uid\":\"$UID0\\\\ud800\"/" "$R" >"$T/b"
utf8 "lone surrogate escape \\ud800 in the uid"
sed "s/\"uid\":\"$UID0\"/\"uid\":\"a\\\\u0000b\"/" "$R" >"$T/b"
utf8 "\\u0000 inside the uid"
sed 's/"name":"checkout"/"name":"check\x00out"/' "$R" >"$T/b"
bad_json "raw NUL byte inside a string" "$T/b"
{ cat "$R"; printf '\0'; } >"$T/b"
bad_json "raw NUL byte after the review" "$T/b"
sed 's/"name":"checkout"/"name":"check\x01out"/' "$R" >"$T/b"
bad_json "raw control character inside a string" "$T/b"

# --- nesting and size.
deep() { printf "$2%.0s" $(seq "$1"); }
{ deep 10000 '['; deep 10000 ']'; } >"$T/b"
code=$(review /mutate "$T/b")
check "10,000-deep [ ] is 400 and says deep ($code)" eval '[ "$code" = 400 ] && grep -q deep "$T/out"'
{ printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","x":'; deep 10000 '{"a":'; printf '0'; deep 10000 '}'; printf '}'; } >"$T/b"
code=$(review /mutate "$T/b")
check "10,000-deep {\"a\": inside a review is 400 and says deep ($code)" eval '[ "$code" = 400 ] && grep -q deep "$T/out"'
jq -c '.' "$R" | sed "s/\"spec\":/\"deep\":$(deep 10000 '[')$(deep 10000 ']'),\"spec\":/" >"$T/b"
code=$(review /mutate "$T/b")
check "10,000-deep array inside the pod object is 400 ($code)" test "$code" = 400
jq -c '.request.object.status = {junk: [range(1000000) | 0]}' "$R" >"$T/b"
code=$(review /mutate "$T/b")
check "a 1,000,000-item array in a field not read: same patch as the baseline ($code)" \
	eval '[ "$code" = 200 ] && jq -r .response.patch "$T/out" | base64 -d | jq -S . | cmp -s - "$T/patch0.json"'
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$T/big.json"
code=$(review /mutate "$T/big.json")
check "9 MiB body is 413 ($code)" test "$code" = 413
code=$(review /mutate "$T/big.json" -H 'Transfer-Encoding: chunked')
check "9 MiB chunked body is 413 ($code)" test "$code" = 413
code=$(review /validate "$T/big.json" -H 'Expect: 100-continue')
check "9 MiB body with Expect: 100-continue is 413 ($code)" test "$code" = 413
# Python's http.client sends the whole body before it reads: found here
# (issue 13), it got SSLEOFError, the connection closed under it, not the
# 413. The body is now read and dropped (up to 2 x --max-body) first.
sendall() { python3 "$SRC/sendall.py" "$PORT" "$PKI/ca.crt" "$@"; }
got=$(sendall /mutate $((9 * 1024 * 1024)))
check "9 MiB body sent whole before reading (http.client): reads 413 and why ($got)" \
	eval '[[ "$got" == "413 body of 9437184 bytes is over the limit of 8388608" ]]'
got=$(sendall /validate $((9 * 1024 * 1024)) chunked)
check "9 MiB chunked body sent whole before reading: reads 413 ($got)" eval '[[ "$got" == "413 "* ]]'
got=$(sendall /nothing-here $((1024 * 1024)))
check "1 MiB body to an unknown path sent whole before reading: reads 404 ($got)" eval '[[ "$got" == "404 "* ]]'
got=$(sendall /mutate $((20 * 1024 * 1024)))
check "20 MiB body (over 2 x --max-body): cut off without reading it all ($got)" eval '[[ "$got" != 200* ]]'

# --- methods and content types.
for m in GET PUT DELETE PATCH OPTIONS TRACE BREW; do
	code=$(cg /mutate -X $m -o /dev/null -D "$T/hdr" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$R")
	check "$m /mutate is 405 with Allow: POST ($code)" eval '[ "$code" = 405 ] && grep -qi "^allow: POST" "$T/hdr"'
done
code=$(cg /validate -X PUT -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$R")
check "PUT /validate is 405 ($code)" test "$code" = 405
code=$(cg /healthz -X POST -o /dev/null -w '%{http_code}' --data-binary @"$R")
check "POST /healthz is 405 ($code)" test "$code" = 405
code=$(cg /metrics -X DELETE -o /dev/null -w '%{http_code}')
check "DELETE /metrics is 405 ($code)" test "$code" = 405
for ct in "" text/plain application/x-www-form-urlencoded application/yaml application/jsonx \
	'multipart/form-data; boundary=x' 'application/json-patch+json'; do
	code=$(CT=$ct review /mutate "$R")
	check "Content-Type \"$ct\" is 415 ($code)" test "$code" = 415
done
code=$(CT=APPLICATION/JSON review /mutate "$R")
check "Content-Type APPLICATION/JSON is accepted ($code)" test "$code" = 200

# --- raw HTTP that curl will not send: the status libmicrohttpd or capgate
# answers (0: the connection was closed without one), never a hang.
raw() {
	# shellcheck disable=SC2059 # $3 is the request written with printf escapes (\r\n, \0)
	printf "$3" >"$T/raw"
	got=$("$CLIENT" raw "$PORT" "$T/raw" ${4:+"$4"})
	want=$2
	check "raw: $1 gets ${got:-nothing} (want $want)" eval '[ -n "$got" ] && [[ "$got" =~ ^($want)$ ]]'
}
P='POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
raw "garbage request line" 400 'HELLO WORLD\r\n\r\n'
# libmicrohttpd is lenient here; nothing depends on Host.
raw "HTTP/1.1 without Host" '200|400' 'GET /healthz HTTP/1.1\r\n\r\n'
raw "HTTP/9.9" '505|400' 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n'
raw "Content-Length: -1" 400 "${P}Content-Length: -1\r\n\r\n{}"
raw "Content-Length: 2^64+" '413|400' "${P}Content-Length: 99999999999999999999999\r\n\r\n{}"
raw "two different Content-Length headers" 400 "${P}Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}"
raw "Content-Length and chunked together" 400 "${P}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
raw "bad chunk size" 400 "${P}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
raw "body shorter than Content-Length, then EOF" 0 "${P}Content-Length: 5000\r\n\r\n{\"a\":" shut
raw "NUL in a header value" '200|400' 'GET /healthz HTTP/1.1\r\nHost: x\0y\r\n\r\n'
raw "a review with a NUL-cut Content-Type" '200|400|415' "POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\0yaml\r\nContent-Length: 2\r\n\r\n{}"
{ printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: '; head -c 40000 /dev/zero | tr '\0' a; printf '\r\n\r\n'; } >"$T/raw"
got=$("$CLIENT" raw "$PORT" "$T/raw")
check "raw: a 40 KB header gets $got (want 431|413|400)" eval '[[ "$got" =~ ^(431|413|400)$ ]]'
check "server still serves after the bad requests" test "$(cg /healthz -o /dev/null -w '%{http_code}')" = 200
RSS1=$(rss)

# --- TLS: only 1.2 and 1.3 with AEAD suites. Each refusal must be the
# server's: the client really offered it (else SKIP) and the server logged
# the failed handshake.
hs() { echo | timeout 5 openssl s_client -connect "127.0.0.1:$PORT" -servername "$SNI" "$@" 2>&1 | grep -q '^New, TLSv1\.[0-3]'; }
mhd_errors() { grep -c '"libmicrohttpd"' "$T/a.log"; }
refused() {
	local name=$1 before
	shift
	# shellcheck disable=SC2034 # read by the eval below
	before=$(mhd_errors)
	if ! hs "$@" && wait_for 2 eval '[ "$(mhd_errors)" -gt "$before" ]'; then ok "$name is refused"; else not_ok "$name is refused"; fi
}
offers() { [ -n "$(openssl ciphers -s "$@" 2>/dev/null)" ]; }
check "TLS 1.3 handshake succeeds" hs -tls1_3
check "TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256 succeeds" hs -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
check "TLS 1.2 ECDHE-ECDSA-CHACHA20-POLY1305 succeeds" hs -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305
refused "TLS 1.0" -tls1 -cipher 'DEFAULT:@SECLEVEL=0'
refused "TLS 1.1" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
for c in RC4 3DES NULL aNULL EXPORT DES 'ECDHE-ECDSA-AES128-SHA' 'ECDHE-ECDSA-AES256-SHA384' \
	'AES128-GCM-SHA256' 'DHE-RSA-AES128-GCM-SHA256' 'PSK'; do
	if offers -tls1_2 "$c:@SECLEVEL=0"; then
		refused "TLS 1.2 cipher $c" -tls1_2 -cipher "$c:@SECLEVEL=0"
	else
		echo "ok - TLS 1.2 cipher $c is refused # SKIP this OpenSSL cannot offer it"
	fi
done
refused "TLS 1.3 TLS_AES_128_CCM_8_SHA256" -tls1_3 -ciphersuites TLS_AES_128_CCM_8_SHA256
refused "TLS 1.3 TLS_AES_128_CCM_SHA256" -tls1_3 -ciphersuites TLS_AES_128_CCM_SHA256
code=$(cg /healthz --tls-max 1.1 -o /dev/null -w '%{http_code}' 2>/dev/null)
check "curl --tls-max 1.1 gets no answer ($code)" test "$code" = 000
check "plain HTTP on the TLS port is not answered" \
	eval '[ "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 "http://127.0.0.1:$PORT/healthz")" != 200 ]'

# --- 2,000 connections at once from one address, against the default
# limits (1024 connections, 256 per address): the address keeps at most 256
# (a new connection takes the slot of one that finished its handshake and
# sat idle, so the last 256 are kept); each of those is answered 200, the
# others closed, none answered otherwise or left hanging; then the server
# serves again.
# On a slow machine some of those the client saw handshaken have had their
# slot taken already, and are closed. On a failure the server's side is
# printed too: its connection counters (how many it shed, and why) and
# the warnings it logged most.
shed_counts() { cg /metrics | grep '^capgate_connections' | diag; }
flood() {
	"$CLIENT" conns "$PORT" 2000 >"$T/flood" 2>&1
	read -r _ opened _ _ _ _ _ _ _ ok200 _ other _ unans _ ms <"$T/flood"
	echo "# $(cat "$T/flood")" >&2
	[ "$opened" = 2000 ] && [ "$ok200" -ge 128 ] && [ "$ok200" -le 256 ] &&
		[ "$other" = 0 ] && [ "$unans" = 0 ] && return 0
	shed_counts
	jq -r 'select(.level != "info") | .error // .msg' "$T/a.log" | sort | uniq -c | sort -rn | head -n 5 | diag
	return 1
}
fds() { find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
FDS0=$(fds)
check "2,000 connections from one address: at most 256 kept, each answered 200, the rest closed" flood
check "after the flood a review is answered within 10 s" wait_for 10 eval '[ "$(review /mutate "$R" --max-time 2)" = 200 ]'
# 1024 TLS connections take about 40 KiB each while they are open; a leak
# of 6 KiB per connection would stay behind.
rss_back "VmRSS back within 6 MiB of the start after 1024 connections closed" "$RSS0" 6144
RSS2=$(rss)
check "a second flood behaves the same" flood
wait_for 10 eval '[ "$(review /mutate "$R" --max-time 2)" = 200 ]'
rss_back "VmRSS back within 6 MiB of the start after a second flood" "$RSS0" 6144
RSS3=$(rss)
check "open file descriptors back to $FDS0 after the floods" wait_for 5 eval '[ "$(fds)" -le "$FDS0" ]'

# --- the same without chance: 16 handshaken connections at a server's
# limit of 16 per address, then 4 more that get in one at a time, each by
# taking the slot of one that sat idle since its handshake. The flood
# above meets this only when the machine is slow (a handshaken one idle
# past its turn while the last ones connect); there the client once
# counted every kept connection as closed, none answered (OpenSSL's error
# queue, see client.c). 4 are closed, the 16 others answered 200, and the
# server counted 4 slots reclaimed (read with retries: the metrics request
# comes from the same address, and a connection of the client's that the
# server has yet to finish closing could keep it out for a moment).
reclaimed_count() {
	cg /metrics | awk '$1 == "capgate_connections_shed_total{reason=\"address_limit_reclaimed\"}" { print $2 }'
}
reclaimed() {
	local got shed=
	got=$("$CLIENT" reclaim "$PORT" 16 4)
	echo "# $got" >&2
	wait_for 10 eval 'shed=$(reclaimed_count); [ -n "$shed" ]'
	[[ "$got" == "first 16 new 4 tries "*" answered_200 16 answered_other 0 unanswered 0 closed 4 "* ]] &&
		[ "$shed" = 4 ] && return 0
	shed_counts
	return 1
}
MAIN_PID=$PID MAIN_PORT=$PORT
if start_server "$T/r.log" "${TLS[@]}" --max-connections-per-address 16; then
	PID3=$PID PID=$MAIN_PID
	check "16 handshaken at the address limit, then 4 more that take idle slots: 4 closed, 16 answered 200" reclaimed
	kill -TERM "$PID3" # twice: no --shutdown-delay wanted here
	sleep 0.1
	kill -TERM "$PID3"
	wait "$PID3" 2>/dev/null
	PID3=
else
	PID=$MAIN_PID
	not_ok "a server with --max-connections-per-address 16 starts"
fi
PORT=$MAIN_PORT

# --- huge arrays within the body limit.
jq -c '.request.object.spec.containers = [range(100000) as $i | {name: "c\($i)", image: "b"} |
	if $i % 997 == 0 then .securityContext = {capabilities: {add: ["SYS_ADMIN"]}} else . end]' "$R" >"$T/huge.json"

t0=$(date +%s%N)
code=$(review /mutate "$T/huge.json" --max-time 30)
ms=$((($(date +%s%N) - t0) / 1000000))
RSS4=$(rss)
check "100,000 containers ($(($(wc -c <"$T/huge.json") / 1024)) KiB): 200, uid, denied or all compliant, in $ms ms" \
	eval '[ "$code" = 200 ] && jq -e --arg u "$UID0" ".response.uid == \$u" "$T/out" >/dev/null &&
	{ jq -e ".response.allowed == false" "$T/out" >/dev/null || compliant_after "$T/huge.json" "$T/out"; }'
# Found here: every such review left VmRSS 30-230 MiB higher, review after
# review (server at 15:42 on 2026-11-22); fixed by the arena's per-request
# cap and giving chunks back (commit 112cd6e). Then (issue 13) 11 or 24 MiB
# after three of them, from one run to the next: glibc had raised its mmap
# threshold after the first, so the next ones' 3 MB body and 16 MiB response
# stayed in the heap of whichever thread (or the main arena) served them.
# So: two more on new connections, then four at once, so that every serving
# thread takes some; each answered, and VmRSS back where it was.
for _ in 1 2; do review /mutate "$T/huge.json" --max-time 60 >/dev/null; done
HUGE_PIDS=()
for i in 1 2 3 4; do
	OUT=$T/huge$i.out review /mutate "$T/huge.json" --max-time 60 -D "$T/huge$i.hdr" >"$T/huge$i.code" &
	HUGE_PIDS+=("$!")
done
wait "${HUGE_PIDS[@]}"
# Each one's parse tree (about 170 MB) is past the memory budget's share
# for one request: alone, it is answered per onError; while others hold the
# budget, 503 with Retry-After (the apiserver retries).
huge_answered() {
	for i in 1 2 3 4; do
		case $(cat "$T/huge$i.code") in
		200) jq -e --arg u "$UID0" '.response.uid == $u' "$T/huge$i.out" >/dev/null || return 1 ;;
		503) grep -qi '^retry-after: 1' "$T/huge$i.hdr" || return 1 ;;
		*) return 1 ;;
		esac
	done
}
check "four 100,000-container reviews at once: each 200 with its uid, or 503 with Retry-After" huge_answered
rss_back "VmRSS back within 4 MiB of before them after seven 100,000-container reviews, four at once" "$RSS3" 4096
RSS5=$(rss)

# --- the slow clients: every one closed by the server, a handshake at
# --timeout, a request at the request deadline. Found here at 15:25 on
# 2026-11-22: a client sending its headers one byte a second was never
# closed (each byte restarted libmicrohttpd's idle timeout, and the body
# deadline only started after the headers); 1024 of them would hold every
# connection slot. server/ has since added a request deadline.
wait "${SLOW_PIDS[@]}"
slow_ok() {
	local what=$1 lo=$2 hi=$3 n late
	n=$(wc -l <"$T/slow.$what")
	late=$(awk -v lo="$lo" -v hi="$hi" '$1 < lo || $1 > hi' "$T/slow.$what" | wc -l)
	echo "# $what: closed after ms: $(cut -d' ' -f1 "$T/slow.$what" | tr '\n' ' ')(-1: still open at $SLOW_SECS s)" >&2
	[ "$n" = 7 ] && [ "$late" = 0 ]
}
check "slow clients trickling a ClientHello are closed after --timeout $SLOW_TIMEOUT s" \
	slow_ok hello $((SLOW_TIMEOUT * 1000 - 500)) $((SLOW_TIMEOUT * 1000 + 3000))
check "slow clients trickling a body are closed at the $REQ_TIMEOUT s request deadline" \
	slow_ok body $((REQ_TIMEOUT * 1000 - 500)) $((REQ_TIMEOUT * 1000 + 3500))
check "slow clients trickling request headers are closed at the $REQ_TIMEOUT s request deadline" \
	slow_ok headers $((REQ_TIMEOUT * 1000 - 500)) $((REQ_TIMEOUT * 1000 + 3500))
PORT=$PORT2
check "the slow-client server still answers" test "$(cg /healthz -o /dev/null -w '%{http_code}')" = 200
kill -TERM "$PID2"
wait "$PID2" 2>/dev/null
PID2=
PORT=$(jq -r 'select(.msg == "ready") | .port' "$T/a.log" | head -1)

# --- after all of it: the same answer, the same memory.
code=$(review /mutate "$R")
final_ok() {
	[ "$code" = 200 ] && jq -e --arg u "$UID0" '.response.uid == $u and .response.allowed == true' "$T/out" >/dev/null &&
		jq -r .response.patch "$T/out" | base64 -d | jq -S . | cmp -s - "$T/patch0.json"
}
check "after all of it a normal review is answered: uid echoed, the same patch" final_ok
cg /metrics >"$T/metrics"
check "/metrics still renders and counted the 413s" grep -q '^capgate_http_responses_total{code="413"} [3-9]' "$T/metrics"
echo "# VmRSS KiB: start $RSS0, after bad input $RSS1, after 1st flood $RSS2, after 2nd flood $RSS3," \
	"after 1 huge review $RSS4, after 7 $RSS5, end $(rss)" >&2
rss_check "VmRSS after bad input, TLS and raw HTTP within 2 MiB of the start ($RSS0 -> $RSS1 KiB)" \
	test "$RSS1" -le $((RSS0 + 2048))
rss_back "VmRSS at the end within 8 MiB of the start" "$RSS0" 8192
check "the server process is still the one started ($PID)" kill -0 "$PID"
kill -TERM "$PID"
wait "$PID"
rc=$?
PID=
check "exit status 0 after SIGTERM ($rc)" test "$rc" = 0
[ "$FAILED" -eq 0 ]
