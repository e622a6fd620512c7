#!/bin/sh
# `make bench`, part 2: capgate serve under load over TLS keep-alive
# (HTTP/1.1, as the apiserver calls webhooks), against an nginx answering a
# fixed body over TLS on the same machine as the ceiling. Loopback only,
# every run bounded (DURATION seconds, default 5).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=$(pwd)/$BUILD/capgate
REVIEW=$(pwd)/tests/data/review-pod.json
DURATION=${DURATION:-5}
sh mk/deps.sh wrk nginx nghttp2-client python3 curl

# Other work on the machine shows up in the tail latencies: say how busy it was.
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
T=$(mktemp -d)
CG_PID=
NGX_PID=
cleanup() {
	[ -n "$CG_PID" ] && kill "$CG_PID" 2>/dev/null
	[ -n "$NGX_PID" ] && kill "$NGX_PID" 2>/dev/null
	wait 2>/dev/null
	# capgate is not this shell's child (ready.py started it): wait for it
	# to let go of the fixed port, or the next `make bench` cannot bind it.
	i=0
	while [ -n "$CG_PID" ] && kill -0 "$CG_PID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
"$BIN" certs create --service capgate --namespace capgate --ip 127.0.0.1 --out "$T/pki" >/dev/null

# --- start-to-ready: from exec to the first 200 on /readyz, polled over TLS
# every millisecond by a client that is already running.
cat >"$T/ready.py" <<'PY'
import socket, ssl, subprocess, sys, time
port, logf = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=sys.argv[3])
ctx.check_hostname = False
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[4:], stdout=subprocess.DEVNULL, stderr=open(logf, "w"))
while time.monotonic() - t0 < 5:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            # As Go's net/http (the apiserver) does; without it Nagle and
            # delayed ACK add 40 ms to the client's second small write.
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with ctx.wrap_socket(s, server_hostname="capgate.capgate.svc") as t:
                t.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if t.recv(64).startswith(b"HTTP/1.1 200"):
                    print("%d %.1f" % (p.pid, (time.monotonic() - t0) * 1000))
                    sys.exit(0)
    except OSError:
        pass
    time.sleep(0.001)
print("%d -1" % p.pid)
PY
PORT=18643
read -r CG_PID READY_MS <<EOF2
$(python3 "$T/ready.py" $PORT "$T/capgate.log" "$T/pki/ca.crt" "$BIN" serve \
	--listen 127.0.0.1:$PORT --tls-cert "$T/pki/tls.crt" --tls-key "$T/pki/tls.key" \
	--shutdown-delay 0)
EOF2
rss() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
RSS_IDLE=$(rss "$CG_PID" VmRSS)

# --- the nginx ceiling: same certificate, TLS settings, worker count as
# capgate's threads, and a fixed body the size of capgate's answer.
curl -sS --cacert "$T/pki/ca.crt" -H 'Content-Type: application/json' \
	--data-binary @"$REVIEW" "https://127.0.0.1:$PORT/mutate" -o "$T/answer.json"
NPORT=18644
mkdir -p "$T/nginx"
cat >"$T/nginx/nginx.conf" <<NGX
worker_processes $(nproc);
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $T/nginx; proxy_temp_path $T/nginx;
	fastcgi_temp_path $T/nginx; uwsgi_temp_path $T/nginx; scgi_temp_path $T/nginx;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$NPORT ssl;
		ssl_certificate $T/pki/tls.crt;
		ssl_certificate_key $T/pki/tls.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		client_body_buffer_size 16k;
		location / { default_type application/json; return 200 '$(tr -d "'\\\\" <"$T/answer.json")'; }
	}
}
NGX
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;' &
NGX_PID=$!
sleep 0.3

cat >"$T/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$REVIEW", "rb")
wrk.body = f:read("*a")
f:close()
LUA
# load PORT CONNS OUT: one bounded wrk run, one client thread so the server
# under test keeps most of the second core.
load() {
	wrk -t1 -c"$2" -d"${DURATION}s" --latency -s "$T/post.lua" \
		"https://127.0.0.1:$1/mutate?timeout=10s" >"$3" 2>&1
}
rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }
p99_ms() {
	awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
		f = (u == "us") ? 0.001 : (u == "s") ? 1000 : 1; printf "%.3f", v * f }' "$1"
}
errors() { awk '/Non-2xx|Socket errors/ { print }' "$1"; }

# capgate and nginx alternate, so both see the same background load.
load $PORT 1 "$T/cg1"
load $NPORT 1 "$T/ngx1"
# Sample VmRSS during the 32-connection run, then take VmHWM (the peak).
( while kill -0 "$CG_PID" 2>/dev/null; do rss "$CG_PID" VmRSS; sleep 0.2; done ) >"$T/rss" 2>/dev/null &
SAMPLER=$!
load $PORT 32 "$T/cg32"
kill $SAMPLER 2>/dev/null || true
RSS_LOAD=$(sort -n "$T/rss" | tail -1)
RSS_PEAK=$(rss "$CG_PID" VmHWM)
load $NPORT 32 "$T/ngx32"

CG32=$(rps "$T/cg32")
NGX32=$(rps "$T/ngx32")
RATIO=$(awk -v a="$CG32" -v b="$NGX32" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }')
verdict() { awk -v v="$1" -v lim="$3" -v op="$2" 'BEGIN {
	ok = (op == "<") ? (v + 0 < lim + 0) : (v + 0 >= lim + 0); printf ok ? "ok" : "MISSED" }'; }

echo "== capgate serve: $(nproc) cores (load average before: $LOAD), wrk -t1 ${DURATION}s runs,"
echo "   HTTP/1.1 keep-alive over TLS,"
echo "   POST $(wc -c <"$REVIEW")-byte Pod review to /mutate; nginx $(nginx -v 2>&1 | sed 's/.*\///') fixed $(wc -c <"$T/answer.json")-byte body =="
printf '%-44s %10s  %s\n' "throughput, 32 connections (req/s)" "$CG32" "nginx: $NGX32"
printf '%-44s %9s%%  target >= 30%%: %s\n' "  ratio to nginx" "$RATIO" "$(verdict "$RATIO" ">=" 30)"
printf '%-44s %10s  target < 1 ms: %s   (nginx %s ms, %s req/s)\n' "p99 latency, 1 connection (ms)" \
	"$(p99_ms "$T/cg1")" "$(verdict "$(p99_ms "$T/cg1")" "<" 1)" "$(p99_ms "$T/ngx1")" "$(rps "$T/ngx1")"
printf '%-44s %10s  target < 10 ms: %s   (nginx %s ms)\n' "p99 latency, 32 connections (ms)" \
	"$(p99_ms "$T/cg32")" "$(verdict "$(p99_ms "$T/cg32")" "<" 10)" "$(p99_ms "$T/ngx32")"
printf '%-44s %10s  (%s req/s)\n' "  1 connection throughput" "" "$(rps "$T/cg1")"
printf '%-44s %10s  target < 8192: %s\n' "RSS idle after start (KB, VmRSS)" "$RSS_IDLE" "$(verdict "$RSS_IDLE" "<" 8192)"
printf '%-44s %10s  target < 16384: %s   (sampled VmRSS max %s)\n' "RSS under load (KB, VmHWM)" \
	"$RSS_PEAK" "$(verdict "$RSS_PEAK" "<" 16384)" "$RSS_LOAD"
printf '%-44s %10s  target < 50 ms: %s\n' "start to ready (ms, exec to first /readyz 200)" \
	"$READY_MS" "$(verdict "$READY_MS" "<" 50)"
for f in cg1 cg32 ngx32 ngx1; do
	e=$(errors "$T/$f")
	[ -z "$e" ] || echo "$f: $e"
done
