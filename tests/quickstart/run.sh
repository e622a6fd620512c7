#!/bin/sh
# The README's first command: `make run` serves on https://127.0.0.1:8443
# with the embedded default policy and prints a curl command that sends it a
# real AdmissionReview. This runs mk/run.sh (what `make run` runs after
# building), runs the curl command exactly as printed, and checks the answer
# is that review's patch. The port is 8443 as the README says; when something
# else on this machine holds it, the suite skips (it cannot prove anything
# about a port it does not own).
set -u
cd "$(dirname "$0")/../.." || exit 1
CAPGATE=${CAPGATE:-build/capgate}
T=$(mktemp -d)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
if curl -sk -o /dev/null --max-time 2 https://127.0.0.1:8443/ 2>/dev/null ||
	[ -n "$(ss -Hltn 'sport = :8443' 2>/dev/null)" ]; then
	echo "ok - make run # SKIP port 8443 is in use on this machine"
	exit 0
fi
# A copy of the binary in its own folder: mk/run.sh keeps its certificates
# next to the binary, and the build folder is not this suite's to litter.
cp "$CAPGATE" "$T/capgate"
sh mk/run.sh "$T/capgate" >"$T/out" 2>"$T/err" &
PID=$!
i=0
until curl -s -o /dev/null --max-time 1 --cacert "$T/run-pki/ca.crt" https://127.0.0.1:8443/readyz 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$PID" 2>/dev/null; then
		echo "not ok - make run serves on https://127.0.0.1:8443 ($(head -c 300 "$T/err"))"
		exit 1
	fi
	sleep 0.1
done
echo "ok - make run serves on https://127.0.0.1:8443 with the embedded default policy"
# The command as printed: the lines from "curl" to the first line not ending
# in a backslash, joined.
cmd=$(awk '/^ *curl /{on=1} on{print; if ($0 !~ /\\$/) exit}' "$T/out" | sed 's/\\$//' | tr -d '\n')
if [ -z "$cmd" ]; then
	echo "not ok - make run prints a curl command"
	exit 1
fi
echo "ok - make run prints a curl command"
eval "$cmd --silent --show-error --max-time 10" >"$T/answer" 2>"$T/curl.err"
uid=$(jq -r .request.uid tests/data/review-pod.json)
if jq -e --arg uid "$uid" '.kind == "AdmissionReview" and .response.uid == $uid and
	.response.allowed == true and .response.patchType == "JSONPatch"' "$T/answer" >/dev/null 2>&1 &&
	jq -r .response.patch "$T/answer" | base64 -d | jq -e 'map(select(.path | test("capabilities"))) | length > 0' >/dev/null 2>&1; then
	echo "ok - the printed curl command gets that review's capability patch"
else
	echo "not ok - the printed curl command gets that review's capability patch ($(head -c 300 "$T/answer") $(head -c 200 "$T/curl.err"))"
fi
