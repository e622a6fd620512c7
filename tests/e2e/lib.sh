# shellcheck shell=bash
# The e2e suite's machinery (sourced by run.sh): whether it can run here, the
# private containerd, the images, capgate's two outputs, teardown.
#
# Everything this suite creates is named by RUN (random per run) or lives
# under $T, and teardown removes exactly that, whatever state a failure or
# an interruption left: containerd and the shims by pid, the containers by
# runc's own state under $T, the bridge by name, libcni's cache files by
# network name, the cgroups by RUN. Mounts are made in a private mount
# namespace (run.sh re-executes itself in one), so none can leak to the host
# even if teardown is itself killed.

E2E_DIR=$PWD/tests/e2e
PY=/usr/bin/python3 # Debian's python3-grpcio lives in Debian's interpreter

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# --- can it run here? ------------------------------------------------------
# Prints why not (one line) and returns 0 when the suite cannot run.
e2e_cannot_run() {
	local d
	if [ "$(id -u)" -ne 0 ]; then
		echo "not root (a container runtime needs root)"
		return 0
	fi
	for tool in unshare ip mount; do
		command -v $tool >/dev/null || {
			echo "$tool missing"
			return 0
		}
	done
	if ! unshare --mount --propagation private true 2>/dev/null; then
		echo "cannot create a mount namespace"
		return 0
	fi
	if [ ! -x "$CAPGATE" ] || [ ! -x "$CAPGATE_AMBIENT" ]; then
		echo "capgate or capgate-ambient not built"
		return 0
	fi
	# `make asan` links the wrapper dynamically against the sanitizer
	# runtimes, which no image here has.
	if readelf -lW "$CAPGATE_AMBIENT" 2>/dev/null | grep -q INTERP; then
		echo "capgate-ambient is not static (sanitizer build): it cannot run in an image"
		return 0
	fi
	d=$(mktemp -d) || {
		echo "no temporary directory"
		return 0
	}
	mkdir "$d/l" "$d/u" "$d/w" "$d/m"
	if ! unshare --mount --propagation private \
		mount -t overlay overlay -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w" "$d/m" 2>/dev/null; then
		rm -rf "$d"
		echo "no overlayfs on ${TMPDIR:-/tmp} (containerd's overlayfs snapshotter needs it)"
		return 0
	fi
	rm -rf "$d"
	if ! cgroup_mounts | grep -q .; then
		echo "no cgroup filesystem mounted"
		return 0
	fi
	d=$(cgroup_mounts | head -1)/capgate-e2e-check-$$
	if ! mkdir "$d" 2>/dev/null; then
		echo "cannot create cgroups under $(dirname "$d")"
		return 0
	fi
	rmdir "$d"
	# In a new network namespace: the check leaves nothing on the host.
	if ! unshare --net ip link add cge2ea type veth peer name cge2eb 2>/dev/null; then
		echo "cannot create veth pairs (pod networking needs them)"
		return 0
	fi
	return 1
}

# Every cgroup (v1 hierarchy or v2) mount point, one per line.
cgroup_mounts() {
	# mountinfo: optional fields come before the "-" that precedes the type.
	awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $5 }' \
		/proc/self/mountinfo | sort -u
}

# --- packages ----------------------------------------------------------------
e2e_tools_ok() {
	command -v containerd >/dev/null && command -v ctr >/dev/null &&
		command -v containerd-shim-runc-v2 >/dev/null &&
		command -v "$E2E_RUNTIME" >/dev/null &&
		[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] &&
		[ -x /usr/lib/cni/loopback ] && [ -x /bin/busybox ] &&
		$PY -c 'import grpc, grpc_tools.protoc, yaml' 2>/dev/null
}

# --- the private containerd -------------------------------------------------
# write_config OPEN: containerd's config for a profile; OPEN=true gives
# containerd 2.x's CRI defaults (enable_unprivileged_ports/icmp), false
# containerd 1.6's.
write_config() {
	local open=$1 bin
	bin=$(command -v "$E2E_RUNTIME")
	cat >"$T/config.toml" <<EOF
# capgate e2e: a private containerd; nothing here is the system's.
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$T/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/e2e/pause:1"
  # Root here lacks CAP_SYS_RESOURCE: the sandbox's oom_score_adj -998 makes
  # runc fail ("can't get final child's PID from pipe: EOF").
  restrict_oom_score_adj = true
  enable_unprivileged_ports = $open
  enable_unprivileged_icmp = $open
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$T/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "e2e"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.e2e]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.e2e.options]
        BinaryName = "$bin"
        Root = "$T/oci"
EOF
}

# containerd 1.6 wants eth0 with an address in POD network mode: a private
# bridge of this run's own, no gateway (no address on the host), no
# masquerade, host-local leases under $T. Nothing is ever sent on it.
write_cni() {
	mkdir -p "$T/cni/net.d"
	cat >"$T/cni/net.d/10-capgate-e2e.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "$NET", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": false, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": "$T/cni/ipam",
            "ranges": [[{"subnet": "$E2E_SUBNET"}]]}}]}
EOF
}

# start_containerd: starts it in its own session and waits (bounded) until
# its CRI answers. Returns 1, with the log's tail, when it does not.
start_containerd() {
	local i
	setsid containerd --config "$T/config.toml" >>"$T/containerd.log" 2>&1 &
	CONTAINERD_PID=$!
	for i in $(seq 1 600); do
		if ! kill -0 "$CONTAINERD_PID" 2>/dev/null; then
			echo "#   containerd exited; its log:"
			tail -5 "$T/containerd.log" | sed 's/^/#   /'
			CONTAINERD_PID=
			return 1
		fi
		[ -S "$SOCK" ] && kubelet --version >"$T/cri-version" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "#   containerd's CRI did not answer within 30 s"
	return 1
}

stop_containerd() {
	local i
	[ -n "${CONTAINERD_PID:-}" ] || return 0
	kill -TERM "$CONTAINERD_PID" 2>/dev/null
	for i in $(seq 1 200); do
		kill -0 "$CONTAINERD_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$CONTAINERD_PID" 2>/dev/null
	wait "$CONTAINERD_PID" 2>/dev/null
	CONTAINERD_PID=
}

kubelet() {
	$PY "$E2E_DIR/kubelet.py" --endpoint "$SOCK" --descriptor "$T/cri.pb" \
		--root "$T/kubelet" --run-id "$RUN" --timeout "$E2E_TIMEOUT" "$@"
}

# --- images -------------------------------------------------------------------
# build_images: the static probe and pause, then four OCI archives in $T/img.
build_images() {
	local h r=$T/rootfs
	mkdir -p "$T/bin" "$T/img"
	for h in probe pause; do
		cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Os -static -o "$T/bin/$h" \
			"$E2E_DIR/$h.c" 2>"$T/cc.err" || {
			echo "#   cc $h.c:"
			sed 's/^/#   /' "$T/cc.err"
			return 1
		}
	done
	$PY -m grpc_tools.protoc -I "$E2E_DIR" --descriptor_set_out="$T/cri.pb" \
		"$E2E_DIR/cri.proto" || return 1

	mkdir -p "$r/pause"
	cp "$T/bin/pause" "$r/pause/pause"

	# The test image: the probe, a shell (busybox) for the script case, the
	# wrapper with its file capability and a plain copy without it.
	mkdir -p "$r/probe/bin" "$r/probe/usr/local/bin" "$r/probe/scripts" "$r/probe/tmp"
	cp "$T/bin/probe" "$r/probe/probe"
	cp /bin/busybox "$r/probe/bin/busybox"
	ln -s busybox "$r/probe/bin/sh"
	cp "$CAPGATE_AMBIENT" "$r/probe/usr/local/bin/capgate-ambient"
	setcap cap_net_bind_service,cap_net_raw+p "$r/probe/usr/local/bin/capgate-ambient" || return 1
	cp "$CAPGATE_AMBIENT" "$r/probe/usr/local/bin/capgate-ambient-copy"
	printf '#!/bin/sh\nexec /usr/local/bin/capgate-ambient --caps=NET_BIND_SERVICE -- /probe bind:80\n' \
		>"$r/probe/scripts/wrapped-probe.sh"
	chmod 755 "$r/probe/scripts/wrapped-probe.sh"
	chmod 1777 "$r/probe/tmp"

	# The ingress-nginx pattern: an entrypoint with cap_net_bind_service=+ep.
	mkdir -p "$r/ep"
	cp "$T/bin/probe" "$r/ep/probe-ep"
	setcap cap_net_bind_service=+ep "$r/ep/probe-ep" || return 1

	# capgate's own image layout (Dockerfile): /usr/local/bin/capgate and
	# /capgate/capgate-ambient, given its file capability by the
	# Dockerfile's own final step (mk/docker-build.sh install-caps, that is
	# capgate-ambient --install). Without the base image and the shared
	# libraries mk/docker-build.sh rootfs adds (6 s of dpkg queries): what
	# the suite runs from this image is the static wrapper.
	mkdir -p "$r/capgate/usr/local/bin" "$r/capgate/capgate"
	install -m 0755 "$CAPGATE" "$r/capgate/usr/local/bin/capgate"
	install -m 0755 "$CAPGATE_AMBIENT" "$r/capgate/capgate/capgate-ambient"
	sh mk/docker-build.sh install-caps "$r/capgate/capgate" >/dev/null || return 1

	mkimage pause '["/pause"]' '[]' "" &&
		mkimage probe '["/probe"]' '[]' "" &&
		mkimage ep '["/probe-ep"]' '["bind:80","bind:443"]' 101 &&
		mkimage capgate '["/usr/local/bin/capgate"]' '["--help"]' 65532:65532
}

mkimage() { # mkimage NAME ENTRYPOINT CMD USER
	$PY "$E2E_DIR/mkimage.py" --name "docker.io/e2e/$1:1" --rootfs "$T/rootfs/$1" \
		--entrypoint "$2" --cmd "$3" --user "$4" --out "$T/img/$1.tar"
}

import_images() {
	local i
	for i in pause probe ep capgate; do
		ctr -a "$SOCK" -n k8s.io images import --snapshotter overlayfs "$T/img/$i.tar" \
			>>"$T/import.log" 2>&1 || {
			echo "#   ctr images import $i.tar:"
			tail -3 "$T/import.log" | sed 's/^/#   /'
			return 1
		}
	done
}

# --- capgate's two outputs ----------------------------------------------------
yaml2json() { $PY -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)' "$1"; }

# capgate_check CASE POD POLICY: capgate check -o json into $T/pods/CASE.check.json.
capgate_check() {
	local policy=()
	[ "$3" = default ] || policy=(--policy "$E2E_DIR/policies/$3.yaml")
	"$CAPGATE" check "${policy[@]}" -o json "$E2E_DIR/pods/$2.yaml" \
		>"$T/pods/$1.check.json" 2>"$T/pods/$1.check.err"
	echo $? >"$T/pods/$1.check.rc"
}

# start_webhook POLICY: capgate serve on 127.0.0.1 with real TLS; sets
# WEBHOOK_PID and WEBHOOK_PORT. The port comes from the "ready" log line.
start_webhook() {
	local policy=() i
	[ "$1" = default ] || policy=(--policy "$E2E_DIR/policies/$1.yaml")
	: >"$T/serve.log"
	"$CAPGATE" serve --listen 127.0.0.1:0 "${policy[@]}" --tls-cert "$T/pki/tls.crt" \
		--tls-key "$T/pki/tls.key" 2>"$T/serve.log" &
	WEBHOOK_PID=$!
	for i in $(seq 1 400); do
		WEBHOOK_PORT=$(jq -r 'select(.msg == "ready") | .port' "$T/serve.log" 2>/dev/null | head -1)
		[ -n "$WEBHOOK_PORT" ] && return 0
		kill -0 "$WEBHOOK_PID" 2>/dev/null || break
		sleep 0.025
	done
	echo "#   capgate serve did not become ready:"
	sed 's/^/#   /' "$T/serve.log"
	return 1
}

stop_webhook() {
	[ -n "${WEBHOOK_PID:-}" ] || return 0
	kill -TERM "$WEBHOOK_PID" 2>/dev/null
	wait "$WEBHOOK_PID" 2>/dev/null
	WEBHOOK_PID=
}

# webhook_review CASE POD: POSTs a CREATE AdmissionReview of POD to /mutate
# over TLS, as kube-apiserver does (SNI capgate.capgate.svc, the CA from
# `capgate certs create`), and applies the returned base64 JSON patch with
# the independent applier: $T/pods/CASE.webhook.json. Why it failed, if it
# did, is in $T/pods/CASE.webhook.err.
webhook_review() {
	local uid=e2e-$RUN-$1 f=$T/pods/$1 code
	yaml2json "$E2E_DIR/pods/$2.yaml" >"$f.input.json"
	jq --arg uid "$uid" '{apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
		request: {uid: $uid, kind: {group: "", version: "v1", kind: "Pod"},
			resource: {group: "", version: "v1", resource: "pods"},
			requestKind: {group: "", version: "v1", kind: "Pod"},
			requestResource: {group: "", version: "v1", resource: "pods"},
			name: .metadata.name, namespace: .metadata.namespace, operation: "CREATE",
			userInfo: {username: "e2e"}, object: ., oldObject: null, dryRun: false,
			options: {apiVersion: "meta.k8s.io/v1", kind: "CreateOptions"}}}' \
		"$f.input.json" >"$f.review.json"
	: >"$f.webhook.err"
	code=$(curl -sS --max-time 20 --cacert "$T/pki/ca.crt" \
		--resolve "capgate.capgate.svc:$WEBHOOK_PORT:127.0.0.1" \
		-H 'Content-Type: application/json' --data-binary @"$f.review.json" \
		-o "$f.response.json" -w '%{http_code}' \
		"https://capgate.capgate.svc:$WEBHOOK_PORT/mutate?timeout=10s" 2>>"$f.webhook.err")
	if [ "$code" != 200 ]; then
		echo "HTTP status $code" >>"$f.webhook.err"
		return 1
	fi
	jq -e --arg uid "$uid" '.apiVersion == "admission.k8s.io/v1" and .kind == "AdmissionReview"
		and .response.uid == $uid and .response.allowed == true
		and .response.patchType == "JSONPatch"' "$f.response.json" >/dev/null || {
		echo "response is not an allowed JSONPatch for uid $uid: $(head -c 600 "$f.response.json")" \
			>>"$f.webhook.err"
		return 1
	}
	jq -r .response.patch "$f.response.json" | base64 -d >"$f.patch.json" &&
		$PY "$E2E_DIR/jsonpatch.py" "$f.input.json" "$f.patch.json" >"$f.webhook.json" \
			2>>"$f.webhook.err"
}

# sock_pids: the processes whose command line names this run's socket
# (shims, a kubelet.py), but for this shell and the grep that looked.
sock_pids() {
	local p found
	found=$(grep -lzF -- "$SOCK" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3)
	for p in $found; do # the grep has exited by now: a pid still there is not it
		[ "$p" != $$ ] && [ -e "/proc/$p" ] && echo "$p"
	done
}

# --- teardown -----------------------------------------------------------------
# Removes everything the suite made; safe to run at any point, and twice.
teardown() {
	local p cg
	stop_webhook
	if [ -n "${KUBELET_PID:-}" ]; then # interrupted amid the pods
		kill -TERM "$KUBELET_PID" 2>/dev/null
		wait "$KUBELET_PID" 2>/dev/null
		KUBELET_PID=
	fi
	if [ -n "${CONTAINERD_PID:-}" ] && kill -0 "$CONTAINERD_PID" 2>/dev/null; then
		E2E_TIMEOUT=10 kubelet --cleanup >/dev/null 2>&1
	fi
	stop_containerd
	# Containers left running (an interrupted run): runc's state is ours.
	if [ -d "$T/oci/k8s.io" ]; then
		for p in $("$E2E_RUNTIME" --root "$T/oci/k8s.io" list -q 2>/dev/null); do
			"$E2E_RUNTIME" --root "$T/oci/k8s.io" kill "$p" KILL >/dev/null 2>&1
			"$E2E_RUNTIME" --root "$T/oci/k8s.io" delete --force "$p" >/dev/null 2>&1
		done
	fi
	# Shims outlive containerd by design: ours name our socket.
	for p in $(sock_pids); do
		kill -KILL "$p" 2>/dev/null
	done
	# Mounts (also gone with this mount namespace, but not left to that).
	if [ -n "${T:-}" ] && [ -d "$T" ]; then
		findmnt -rn -o TARGET | grep -F "$T/" | sort -r | while read -r p; do
			umount -l "$p" 2>/dev/null
		done
	fi
	[ -n "${BRIDGE:-}" ] && ip link del "$BRIDGE" 2>/dev/null
	# What containerd 1.6 keeps outside its root and state, for the
	# sandboxes and containers an interruption left: libcni's cache
	# (<network>-<id>-<ifname>, also for the built-in loopback network) and
	# the shims' sockets (sha256 of "<containerd address>/<namespace>/<id>").
	rm -f /var/lib/cni/results/"$NET"-* 2>/dev/null
	for p in "$T"/root/io.containerd.grpc.v1.cri/sandboxes/* "$T"/root/io.containerd.grpc.v1.cri/containers/* \
		"$T"/state/io.containerd.grpc.v1.cri/sandboxes/* "$T"/state/io.containerd.grpc.v1.cri/containers/*; do
		[ -d "$p" ] || continue
		p=${p##*/}
		rm -f /var/lib/cni/results/*-"$p"-* \
			"/run/containerd/s/$(printf '%s' "$SOCK/k8s.io/$p" | sha256sum | cut -c1-64)" 2>/dev/null
	done
	for p in /var/lib/cni/results /var/lib/cni /run/containerd/s /run/containerd/fifo /run/containerd; do
		case " $E2E_PREEXISTING " in *" $p "*) ;; *) rmdir "$p" 2>/dev/null ;; esac
	done
	for cg in $(cgroup_mounts); do
		[ -d "$cg/$CGROOT" ] && find "$cg/$CGROOT" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
