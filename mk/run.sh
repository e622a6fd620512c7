#!/bin/sh
# `make run`: serves the webhook on https://127.0.0.1:8443 with the embedded
# default policy and a throwaway certificate, in the foreground (Ctrl-C stops).
# Usage: mk/run.sh BIN
set -eu
BIN=${1:-build/capgate}
# Next to the binary, replaced on every run: nothing piles up in /tmp.
dir=$(cd "$(dirname "$BIN")" && pwd)/run-pki
rm -rf "$dir"
mkdir -p "$dir"
if ! "$BIN" certs create --service capgate --namespace capgate --dns localhost \
	--ip 127.0.0.1 --days 7 --out "$dir" >/dev/null 2>"$dir/certs.err"; then
	# capgate certs not usable: a self-signed pair from the openssl CLI.
	echo "capgate certs create failed ($(cat "$dir/certs.err")); using openssl" >&2
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
		-subj /CN=capgate.capgate.svc -keyout "$dir/tls.key" -out "$dir/tls.crt" \
		-addext "subjectAltName=DNS:capgate.capgate.svc,DNS:localhost,IP:127.0.0.1" \
		2>/dev/null
	cp "$dir/tls.crt" "$dir/ca.crt"
fi
review=$(cd "$(dirname "$0")/.." && pwd)/tests/data/review-pod.json
cat <<MSG
capgate: serving https://127.0.0.1:8443 (certificates in $dir). Try:

  curl --cacert $dir/ca.crt -H 'Content-Type: application/json' \\
    --data-binary @$review https://127.0.0.1:8443/mutate

MSG
exec "$BIN" serve --listen 127.0.0.1:8443 --tls-cert "$dir/tls.crt" --tls-key "$dir/tls.key"
