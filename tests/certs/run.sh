#!/bin/sh
# `capgate certs` end to end: the pair it writes is checked by the real
# openssl tools and used for real TLS handshakes (openssl s_server/s_client
# on loopback), and `inspect` is held to its exit codes on pairs made by
# the openssl CLI. Prints TAP lines; exits non-zero when a check fails.
# shellcheck disable=SC3043 # local: dash (Debian's sh, which runs this), bash and busybox have it
set -u
CAPGATE=${CAPGATE:-$(pwd)/build/capgate}
command -v openssl >/dev/null 2>&1 || sh mk/deps.sh openssl
T=$(mktemp -d /tmp/capgate-certs.XXXXXX)
server_pid=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
failed=0
ok() { echo "ok - $1"; }
not_ok() {
	echo "not ok - $1"
	failed=1
}
# check NAME COMMAND...: ok when the command succeeds.
check() {
	local what="$1"
	shift
	if "$@" >"$T/check.out" 2>&1; then ok "$what"; else
		not_ok "$what"
		sed 's/^/#   /' "$T/check.out"
	fi
}
# exit_is NAME CODE COMMAND...: ok when the command exits with CODE; its
# output stays in $T/out and $T/err for the checks that follow.
exit_is() {
	local what="$1" want="$2" got
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$what"; else
		not_ok "$what (exit $got, want $want)"
		sed 's/^/#   /' "$T/out" "$T/err"
	fi
}

SVC=capgate NS=gate-system
D=$T/pair
# --- create ------------------------------------------------------------
start=$(date +%s%N)
"$CAPGATE" certs create --service $SVC --namespace $NS --out "$D" \
	--dns webhook.example.com --ip 127.0.0.1 >"$T/bundle" 2>"$T/create.err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
if [ $rc -eq 0 ] && [ ! -s "$T/create.err" ] && [ -s "$D/ca.crt" ] && [ -s "$D/ca.key" ] &&
	[ -s "$D/tls.crt" ] && [ -s "$D/tls.key" ]; then
	ok "create writes ca.crt ca.key tls.crt tls.key quietly (${ms} ms)"
else
	not_ok "create writes ca.crt ca.key tls.crt tls.key quietly (exit $rc)"
	sed 's/^/#   /' "$T/create.err"
fi
check "keys are 0600, certificates 0644" \
	test "$(stat -c %a "$D/ca.key" "$D/tls.key" "$D/ca.crt" "$D/tls.crt" | tr '\n' ' ')" = \
	"600 600 644 644 "
check "openssl verify -CAfile ca.crt tls.crt" openssl verify -CAfile "$D/ca.crt" "$D/tls.crt"
check "ca.crt is a CA with keyCertSign" sh -c "openssl x509 -noout -ext basicConstraints,keyUsage \
	-in '$D/ca.crt' | tr -d '\n' | grep -q 'CA:TRUE.*Certificate Sign'"

sans=$(openssl x509 -noout -ext subjectAltName -in "$D/tls.crt" | tail -n +2 | tr -d ' ')
want="DNS:$SVC,DNS:$SVC.$NS,DNS:$SVC.$NS.svc,DNS:$SVC.$NS.svc.cluster.local,DNS:webhook.example.com,IPAddress:127.0.0.1"
check "SANs are the four service names plus --dns/--ip" test "$sans" = "$want"
check "serving cert: SHA-256, serverAuth, CA:FALSE" sh -c "openssl x509 -noout -text \
	-in '$D/tls.crt' | tr -d '\n' | grep -q 'Signature Algorithm: ecdsa-with-SHA256.*CA:FALSE.*TLS Web Server Authentication'"
check "tls.key is ECDSA P-256" sh -c "openssl pkey -in '$D/tls.key' -noout -text | grep -q 'NIST CURVE: P-256'"
check "caBundle is one line" test "$(wc -l <"$T/bundle")" -eq 1
check "caBundle decodes to ca.crt" sh -c "base64 -d '$T/bundle' | cmp -s - '$D/ca.crt'"
"$CAPGATE" certs cabundle "$D/ca.crt" >"$T/bundle2" 2>&1
check "certs cabundle prints the same caBundle" cmp -s "$T/bundle" "$T/bundle2"
exit_is "certs cabundle refuses a private key" 1 "$CAPGATE" certs cabundle "$D/tls.key"

"$CAPGATE" certs create --service $SVC --namespace $NS --out "$T/rsa" --key-type rsa \
	--days 10 >/dev/null 2>&1
check "--key-type rsa: RSA 2048 signed sha256WithRSAEncryption" sh -c "openssl x509 -noout -text \
	-in '$T/rsa/tls.crt' | tr -d '\n' | grep -q 'sha256WithRSAEncryption.*Public-Key: (2048 bit)'"
check "--days 10: the serving cert ends within 10 days, the CA does not" sh -c "
	openssl x509 -noout -checkend $((10 * 86400 + 60)) -in '$T/rsa/tls.crt' && exit 1
	openssl x509 -noout -checkend $((10 * 86400 - 600)) -in '$T/rsa/tls.crt' &&
	openssl x509 -noout -checkend $((3000 * 86400)) -in '$T/rsa/ca.crt'" 

# --- real TLS handshakes -------------------------------------------------
# start_server DIR: openssl s_server with DIR's pair on a free loopback port.
start_server() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	for try in 1 2 3 4 5; do
		port=$((20000 + ($$ * 7 + try * 1013 + $(date +%N | sed 's/^0*//;s/^$/0/')) % 40000))
		openssl s_server -accept "127.0.0.1:$port" -cert "$1/tls.crt" -key "$1/tls.key" \
			-quiet </dev/null >"$T/server.log" 2>&1 &
		server_pid=$!
		i=0
		while [ $i -lt 50 ]; do
			if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then return 0; fi
			kill -0 $server_pid 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		kill "$server_pid" 2>/dev/null
		server_pid=""
	done
	return 1
}
# handshake CAFILE NAME [ARGS...]: a client that verifies the chain and the name.
# shellcheck disable=SC2317 # called through check
handshake() {
	local ca="$1" name="$2"
	shift 2
	openssl s_client -connect "127.0.0.1:$port" -CAfile "$ca" -verify_return_error \
		-servername "$name" -verify_hostname "$name" "$@" </dev/null 2>&1 |
		grep -q 'Verify return code: 0 (ok)'
}
if start_server "$D"; then
	check "TLS handshake: s_client trusts ca.crt for $SVC.$NS.svc" handshake "$D/ca.crt" $SVC.$NS.svc
	check "TLS handshake over TLS 1.2 with ALPN http/1.1 (as kube-apiserver)" \
		handshake "$D/ca.crt" $SVC.$NS.svc -tls1_2 -alpn http/1.1
	check "TLS handshake: $SVC.$NS.svc.cluster.local is covered" \
		handshake "$D/ca.crt" $SVC.$NS.svc.cluster.local
	exit_is "TLS handshake fails for a name not covered (other.$NS.svc)" 1 \
		handshake "$D/ca.crt" other.$NS.svc
	exit_is "TLS handshake fails against another CA" 1 handshake "$T/rsa/ca.crt" $SVC.$NS.svc
else
	not_ok "openssl s_server did not start"
	sed 's/^/#   /' "$T/server.log"
fi
if start_server "$T/rsa"; then
	check "TLS 1.2 handshake with the RSA pair" handshake "$T/rsa/ca.crt" $SVC.$NS.svc -tls1_2
else
	not_ok "openssl s_server did not start with the RSA pair"
fi
[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
server_pid=""

# --- inspect exit codes --------------------------------------------------
exit_is "inspect: created pair is acceptable (0)" 0 \
	"$CAPGATE" certs inspect --key "$D/tls.key" --service $SVC --namespace $NS "$D/tls.crt"
check "inspect reports SANs, key and verdict" sh -c "grep -q 'DNS SANs: *$SVC, ' '$T/out' &&
	grep -q 'key type: *ECDSA P-256' '$T/out' && grep -q 'tls.key matches' '$T/out' &&
	grep -q 'verdict: *OK' '$T/out'"
exit_is "inspect: ca.crt alone is acceptable as a caBundle (0)" 0 "$CAPGATE" certs inspect "$D/ca.crt"
exit_is "inspect: key mismatch (1)" 1 "$CAPGATE" certs inspect --key "$D/ca.key" "$D/tls.crt"
exit_is "inspect: service not covered (1)" 1 \
	"$CAPGATE" certs inspect --service other --namespace $NS "$D/tls.crt"
exit_is "inspect: 10 days left is acceptable (0)" 0 "$CAPGATE" certs inspect "$T/rsa/tls.crt"
check "inspect warns under 30 days" grep -q 'warning: .*under 30' "$T/out"

X=$T/openssl
mkdir -p "$X"
openssl req -new -key "$D/tls.key" -subj /CN=x -addext "subjectAltName=DNS:$SVC.$NS.svc" \
	-out "$X/r.csr" 2>/dev/null
openssl x509 -req -in "$X/r.csr" -CA "$D/ca.crt" -CAkey "$D/ca.key" -days -1 \
	-copy_extensions copy -out "$X/expired.crt" 2>/dev/null
exit_is "inspect: expired (1)" 1 "$CAPGATE" certs inspect --key "$D/tls.key" "$X/expired.crt"
check "inspect says why: expired" grep -q -- '- expired' "$T/out"
openssl req -x509 -sha1 -newkey rsa:2048 -nodes -keyout "$X/sha1.key" -out "$X/sha1.crt" \
	-days 30 -subj "/CN=$SVC.$NS.svc" -addext "subjectAltName=DNS:$SVC.$NS.svc" 2>/dev/null
exit_is "inspect: SHA-1 signature (1)" 1 "$CAPGATE" certs inspect --key "$X/sha1.key" "$X/sha1.crt"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$X/nosan.key" \
	-out "$X/nosan.crt" -days 30 -subj "/CN=$SVC.$NS.svc" 2>/dev/null
exit_is "inspect: no SAN, only a CN (1)" 1 \
	"$CAPGATE" certs inspect --service $SVC --namespace $NS "$X/nosan.crt"
exit_is "inspect: missing file (2)" 2 "$CAPGATE" certs inspect "$T/nope.crt"
check "inspect names the missing file" grep -q 'nope.crt: cannot open' "$T/err"
exit_is "inspect: no FILE (2)" 2 "$CAPGATE" certs inspect
exit_is "inspect: --service without --namespace (2)" 2 \
	"$CAPGATE" certs inspect --service $SVC "$D/tls.crt"

# --- usage ---------------------------------------------------------------
for sub in create inspect cabundle; do
	exit_is "certs $sub --help (0)" 0 "$CAPGATE" certs $sub --help
done
exit_is "create --key-type dsa is a usage error (2)" 2 \
	"$CAPGATE" certs create --service a --namespace b --out "$T/x" --key-type dsa
check "the error names --key-type" grep -q -- '--key-type "dsa"' "$T/err"
exit_is "create without --out is a usage error (2)" 2 "$CAPGATE" certs create --service a --namespace b
exit_is "create with a bad Service name (2)" 2 \
	"$CAPGATE" certs create --service Bad_Name --namespace b --out "$T/x"
exit_is "create --bogus is a usage error (2)" 2 "$CAPGATE" certs create --bogus
check "the error names --bogus" grep -q -- "capgate certs create: unrecognized option '--bogus'" "$T/err"
exit_is "unknown certs subcommand (2)" 2 "$CAPGATE" certs frobnicate
exit $failed
