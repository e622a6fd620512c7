#!/bin/sh
# `make soak` (issue 6, load and faults): capgate serve under SOAK_SECONDS
# (default 600) of wrk at 32 TLS keep-alive connections rotating through a
# mix of realistic reviews (tests/data/review-pod.json and variants, every
# engine case input as a review, 1 in 4 to /validate). Meanwhile the policy
# file is replaced by an invalid one, then a valid different one, and the
# certificate is rotated in place. Then SIGTERM under a second load.
# Loopback only, every run bounded. Prints requests, errors, p99, RSS start,
# peak and end, and exits non-zero when a figure is wrong:
#   - zero errors of any kind (connect, read, write, timeout, non-2xx);
#   - RSS flat: end within SOAK_RSS_SLACK KiB (default 2048) of the RSS
#     after the first 10 % of the run;
#   - the invalid policy counted as a reload failure, the generation kept,
#     the valid one taken; the new certificate served (by serial);
#   - after SIGTERM (with a second instance behind a Service): no error of
#     any kind, none left unanswered, exit status 0.
# shellcheck shell=bash # the line below runs the rest under bash
# shellcheck disable=SC2016 # check and wait_for take a command in single quotes; eval expands it on each try
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
BIN=$(pwd)/$BUILD/capgate
SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_RSS_SLACK=${SOAK_RSS_SLACK:-2048}
CONNS=32
sh mk/deps.sh wrk curl jq openssl python3 python3-yaml golang-go

T=$(mktemp -d)
PID=
PID_B=
PROXY=
LOAD=
SAMPLER=
cleanup() {
	[ -n "$LOAD" ] && kill "$LOAD" 2>/dev/null
	[ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
	[ -n "$PROXY" ] && kill "$PROXY" 2>/dev/null
	[ -n "$PID_B" ] && kill -KILL "$PID_B" 2>/dev/null
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM
FAILED=0
verdict() {
	if [ "$1" = 0 ]; then echo "ok       $2"; else
		echo "FAILED   $2"
		FAILED=$((FAILED + 1))
	fi
}

# --- the bodies: the realistic Pod review and variants, every case input.
mkdir -p "$T/bodies"
python3 - "$T/bodies" tests/data/review-pod.json tests/cases/*/input.yaml <<'PY'
import copy, json, sys, yaml
out, pod_review, inputs = sys.argv[1], sys.argv[2], sys.argv[3:]
base = json.load(open(pod_review))
n = 0
def emit(review, path):
    global n
    n += 1
    review["request"]["uid"] = "soak-%04d" % n
    with open("%s/%04d%s.json" % (out, n, path), "w") as f:
        json.dump(review, f, separators=(",", ":"))
emit(copy.deepcopy(base), "")
r = copy.deepcopy(base)
for c in r["request"]["object"]["spec"]["containers"]:
    c.setdefault("securityContext", {})["capabilities"] = {"drop": ["ALL"]}
emit(r, "")  # compliant: no patch
r = copy.deepcopy(base)
r["request"]["object"]["spec"]["containers"][0]["securityContext"]["capabilities"] = {"add": ["cap_sys_admin", "Net_Raw"]}
emit(r, "")
r = copy.deepcopy(base)
r["request"]["object"]["spec"]["containers"][1]["securityContext"] = {"privileged": True}
emit(r, "")
r = copy.deepcopy(base)
r["request"]["namespace"] = "kube-system"
emit(r, "")
GROUPS = {"Pod": ("", "v1", "pods"), "Deployment": ("apps", "v1", "deployments"),
          "ReplicaSet": ("apps", "v1", "replicasets"), "StatefulSet": ("apps", "v1", "statefulsets"),
          "DaemonSet": ("apps", "v1", "daemonsets"), "Job": ("batch", "v1", "jobs"),
          "CronJob": ("batch", "v1", "cronjobs"), "ReplicationController": ("", "v1", "replicationcontrollers"),
          "PodTemplate": ("", "v1", "podtemplates")}
for path in inputs:
    for doc in yaml.safe_load_all(open(path)):
        if not isinstance(doc, dict) or doc.get("kind") not in GROUPS:
            continue
        g, v, res = GROUPS[doc["kind"]]
        gvk = {"group": g, "version": v, "kind": doc["kind"]}
        gvr = {"group": g, "version": v, "resource": res}
        r = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
             "request": {"uid": "", "kind": gvk, "resource": gvr, "requestKind": gvk,
                         "requestResource": gvr, "namespace": doc.get("metadata", {}).get("namespace", "default"),
                         "operation": "CREATE", "userInfo": {"username": "soak"},
                         "object": doc, "oldObject": None, "dryRun": False}}
        emit(r, "")
# 1 in 4 goes to /validate.
import os
for i, f in enumerate(sorted(os.listdir(out))):
    if i % 4 == 3:
        os.rename(os.path.join(out, f), os.path.join(out, f.replace(".json", ".validate.json")))
PY
NBODIES=$(find "$T/bodies" -mindepth 1 -maxdepth 1 | wc -l)
cat >"$T/soak.lua" <<'LUA'
-- Rotates through the bodies given after --, each thread from its own
-- offset; counts what it sends so done() can compare with what came back.
local threads = {}
function setup(thread)
	thread:set("id", #threads)
	table.insert(threads, thread)
end
function init(args)
	bodies, paths = {}, {}
	for _, f in ipairs(args) do
		local h = io.open(f, "rb")
		table.insert(bodies, h:read("*a"))
		h:close()
		table.insert(paths, f:find("validate") and "/validate?timeout=10s" or "/mutate?timeout=10s")
	end
	n = id * 7
	sent = 0
end
function request()
	n = n + 1
	sent = sent + 1
	local i = (n % #bodies) + 1
	return wrk.format("POST", paths[i], {["Content-Type"] = "application/json"}, bodies[i])
end
function done(summary, latency, requests)
	local s = 0
	for _, t in ipairs(threads) do s = s + t:get("sent") end
	local e = summary.errors
	io.write(string.format("SOAK sent %d answered %d connect %d read %d write %d status %d timeout %d p50_us %d p99_us %d max_us %d\n",
		s, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
		latency:percentile(50), latency:percentile(99), latency.max))
end
LUA

# --- the server: a policy file and a certificate pair it watches.
"$BIN" certs create --service capgate --namespace capgate --ip 127.0.0.1 --out "$T/pki" >/dev/null || exit 1
"$BIN" certs create --service capgate --namespace capgate --ip 127.0.0.1 --out "$T/pki2" >/dev/null || exit 1
cp "$T/pki/tls.crt" "$T/pki/tls.key" "$T/"
cp policy/default.yaml "$T/policy.yaml"
# mawk reads a pipe in blocks unless told otherwise; the ready line must
# come through at once.
AWK_LINES=(awk)
if awk -W version 2>/dev/null | grep -q mawk; then AWK_LINES=(awk -W interactive); fi
# Review lines are counted, not kept (millions in 10 minutes); a request to
# /soak-marker makes the counter print how many it has seen so far.
"$BIN" serve --listen 127.0.0.1:0 --policy "$T/policy.yaml" --tls-cert "$T/tls.crt" \
	--tls-key "$T/tls.key" 2> >("${AWK_LINES[@]}" '/"msg":"review"/ { n++; next }
		/soak-marker/ { print "{\"msg\":\"marker\",\"reviews\":" n + 0 "}"; fflush(); next }
		{ print; fflush() } END { print "{\"msg\":\"total\",\"reviews\":" n + 0 "}" }' >"$T/server.log") &
PID=$!
PORT=
for _ in $(seq 1 200); do
	PORT=$(jq -r 'select(.msg == "ready") | .port' "$T/server.log" 2>/dev/null | head -1)
	[ -n "$PORT" ] && break
	sleep 0.05
done
[ -n "$PORT" ] || {
	echo "soak: the server did not start"
	cat "$T/server.log"
	exit 1
}
URL=https://127.0.0.1:$PORT
metric() { curl -sk --max-time 5 "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
serial() { echo | timeout 5 openssl s_client -connect "127.0.0.1:$PORT" -servername capgate.capgate.svc 2>/dev/null |
	openssl x509 -noout -serial 2>/dev/null | cut -d= -f2; }
wait_for() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$PID/status" 2>/dev/null; }
( while kill -0 "$PID" 2>/dev/null; do echo "$(date +%s) $(rss VmRSS)"; sleep 1; done ) >"$T/rss" 2>/dev/null &
SAMPLER=$!
RSS_START=$(rss VmRSS)

echo "== soak: ${SOAK_SECONDS}s, wrk -t2 -c$CONNS over TLS keep-alive, $NBODIES review bodies rotating =="
T0=$(date +%s)
wrk -t2 -c$CONNS -d"${SOAK_SECONDS}s" --timeout 10s -s "$T/soak.lua" "$URL/mutate" -- "$T"/bodies/* >"$T/wrk1" 2>&1 &
LOAD=$!
at() { local s=$(($1 - ($(date +%s) - T0))); [ "$s" -gt 0 ] && sleep "$s"; }

# --- faults during the soak.
at $((SOAK_SECONDS / 10))
RSS_EARLY=$(rss VmRSS)
GEN0=$(metric capgate_policy_generation)
FAIL0=$(metric capgate_policy_reload_failures_total)
at $((SOAK_SECONDS * 2 / 10))
printf 'apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: bad}\nspec:\n  allowedCapabilities: [NET_ADMN]\n' >"$T/policy.new"
mv "$T/policy.new" "$T/policy.yaml"
wait_for 5 eval '[ "$(metric capgate_policy_reload_failures_total)" = $((FAIL0 + 1)) ]'
verdict $? "invalid policy counted as a reload failure ($FAIL0 -> $(metric capgate_policy_reload_failures_total))"
sleep 2
verdict "$([ "$(metric capgate_policy_generation)" = "$GEN0" ] && echo 0 || echo 1)" \
	"invalid policy: the old one kept (generation $GEN0 -> $(metric capgate_policy_generation))"
at $((SOAK_SECONDS * 4 / 10))
sed 's/onDisallowed: strip/onDisallowed: deny/' policy/default.yaml >"$T/policy.new"
mv "$T/policy.new" "$T/policy.yaml"
wait_for 5 eval '[ "$(metric capgate_policy_generation)" = $((GEN0 + 1)) ]'
verdict $? "valid different policy taken (generation $(metric capgate_policy_generation))"
at $((SOAK_SECONDS * 6 / 10))
SERIAL0=$(serial)
CFAIL0=$(metric capgate_cert_reload_failures_total)
# In place, key first: for a moment the pair does not match, which must
# keep the old certificate until the new certificate arrives.
cp "$T/pki2/tls.key" "$T/tls.key.new" && mv "$T/tls.key.new" "$T/tls.key"
sleep 1.5
cp "$T/pki2/tls.crt" "$T/tls.crt.new" && mv "$T/tls.crt.new" "$T/tls.crt"
# shellcheck disable=SC2034 # read by the eval below
WANT_SERIAL=$(openssl x509 -in "$T/pki2/tls.crt" -noout -serial | cut -d= -f2)
wait_for 15 eval '[ "$(serial)" = "$WANT_SERIAL" ]'
verdict $? "certificate rotated in place: served serial $SERIAL0 -> $(serial)"
CFAIL1=$(metric capgate_cert_reload_failures_total)
wait "$LOAD"
LOAD=
RSS_END=$(rss VmRSS)
RSS_PEAK=$(rss VmHWM)

# --- SIGTERM under load, as in a cluster: a second instance (B) beside the
# soaked one, both behind a "Service" that routes new connections to the
# ready ones and learns 1 s late (tests/availability/apiserver.go -proxy),
# a second wrk through it, SIGTERM to the soaked one 3 s in. Its answers
# close their connections during --shutdown-delay (5 s); wrk reconnects
# through the Service and reaches B: no error of any kind.
"$BIN" serve --listen 127.0.0.1:0 --policy "$T/policy.yaml" --tls-cert "$T/tls.crt" \
	--tls-key "$T/tls.key" --shutdown-delay 0 2>"$T/b.log" &
PID_B=$!
PORT_B=
for _ in $(seq 1 200); do
	PORT_B=$(jq -r 'select(.msg == "ready") | .port' "$T/b.log" 2>/dev/null | head -1)
	[ -n "$PORT_B" ] && break
	sleep 0.05
done
GO111MODULE=off go build -o "$T/apiserver" tests/availability/apiserver.go || exit 1
"$T/apiserver" -ca "$T/pki2/ca.crt" -a "$PORT" -b "$PORT_B" -lag 1000 -proxy 30 >"$T/proxy" &
PROXY=$!
wait_for 10 grep -q '^listening' "$T/proxy"
PPORT=$(awk '/^listening/ { print $2 }' "$T/proxy")
curl -sk -o /dev/null "$URL/soak-marker"
wait_for 5 grep -q '"marker"' "$T/server.log"
wrk -t2 -c$CONNS -d10s --timeout 10s -s "$T/soak.lua" "https://127.0.0.1:$PPORT/mutate" -- "$T"/bodies/* >"$T/wrk2" 2>&1 &
LOAD=$!
sleep 3
kill -TERM "$PID"
wait "$PID"
RC=$?
PID=
wait "$LOAD"
LOAD=
kill "$PROXY" "$PID_B" 2>/dev/null
wait "$PROXY" "$PID_B" 2>/dev/null
PROXY=
PID_B=
kill "$SAMPLER" 2>/dev/null
SAMPLER=
sleep 0.5

# --- figures.
read -r _ _ _ _ ANS1 _ CONN1 _ READ1 _ WRITE1 _ STATUS1 _ TO1 _ P50 _ P99 _ MAX <<EOF
$(grep '^SOAK' "$T/wrk1")
EOF
read -r _ _ SENT2 _ ANS2 _ CONN2 _ READ2 _ WRITE2 _ STATUS2 _ TO2 _ _ _ _ _ _ <<EOF
$(grep '^SOAK' "$T/wrk2")
EOF
MARK=$(jq -r 'select(.msg == "marker") | .reviews' "$T/server.log")
TOTAL=$(jq -r 'select(.msg == "total") | .reviews' "$T/server.log")
UNANSWERED=$(jq -r 'select(.msg == "stopped") | .unanswered' "$T/server.log")
# Before the marker, "not answered" lines are requests wrk1 left in flight
# when its time was up (it closes its connections); after it, each would be
# a request the server accepted and dropped.
NOT_ANSWERED=$(awk '/"msg":"marker"/ { m = 1 } m && /"request not answered"/ { n++ } END { print n + 0 }' "$T/server.log")
LEFT_BY_WRK=$(awk '/"msg":"marker"/ { exit } /"request not answered"/ { n++ } END { print n + 0 }' "$T/server.log")
ERR1=$((CONN1 + READ1 + WRITE1 + STATUS1 + TO1))
RSS_MAX_SAMPLED=$(awk '{ print $2 }' "$T/rss" | sort -n | tail -1)
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
echo "requests answered            $ANS1 ($(awk -v n="$ANS1" -v s="$SOAK_SECONDS" 'BEGIN { printf "%.0f", n / s }') req/s)"
echo "errors                       $ERR1 (connect $CONN1, read $READ1, write $WRITE1, non-2xx $STATUS1, timeout $TO1)"
echo "latency p50 / p99 / max      $(ms "$P50") / $(ms "$P99") / $(ms "$MAX") ms"
echo "VmRSS start / at 10% / end   $RSS_START / $RSS_EARLY / $RSS_END KiB (peak VmHWM $RSS_PEAK, sampled max $RSS_MAX_SAMPLED)"
echo "cert reload failures         $CFAIL0 -> $CFAIL1 (the key alone swapped first)"
echo "left in flight by wrk's end  $LEFT_BY_WRK (logged 'request not answered' before SIGTERM)"
BY_B=$(grep -c '"msg":"review"' "$T/b.log")
echo "SIGTERM phase                wrk sent $SENT2, received $ANS2; the soaked instance answered $((TOTAL - MARK)) (then exit $RC, $UNANSWERED unanswered, 'request not answered' $NOT_ANSWERED), the second $BY_B; errors: connect $CONN2, read $READ2, write $WRITE2, non-2xx $STATUS2, timeout $TO2"
verdict "$([ "$ERR1" = 0 ] && [ "$ANS1" -gt 0 ] && echo 0 || echo 1)" "soak: zero errors"
verdict "$([ "$RSS_END" -le $((RSS_EARLY + SOAK_RSS_SLACK)) ] && echo 0 || echo 1)" \
	"soak: RSS flat ($RSS_EARLY -> $RSS_END KiB, slack $SOAK_RSS_SLACK)"
ERR2=$((CONN2 + READ2 + WRITE2 + STATUS2 + TO2))
# wrk stops at 10 s with requests in flight: answered by a server, not
# counted by wrk.
verdict "$([ "$ERR2" = 0 ] && [ "$ANS2" -gt 0 ] && [ "$UNANSWERED" = 0 ] && [ "$NOT_ANSWERED" = 0 ] &&
	[ "$ANS2" -le $((TOTAL - MARK + BY_B)) ] && [ "$BY_B" -gt 0 ] && echo 0 || echo 1)" \
	"SIGTERM: zero failed reviews, clients moved to the second instance ($ERR2 errors, $BY_B answered there)"
verdict "$RC" "SIGTERM: exit status $RC"
[ "$FAILED" -eq 0 ]
