#!/bin/sh
# shellcheck shell=bash
# End-to-end: capgate's actual output run by the runtime kubelet drives.
# A private containerd (Debian's 1.6, its CRI plugin, runc, CNI bridge +
# host-local) on its own config, root, state and socket under a temporary
# directory; images built offline and imported with `ctr images import`;
# pods from `capgate check -o json` and from `capgate serve` over TLS (the
# returned patch applied as the apiserver would) run through kubelet.py, a
# small kubelet that makes the CRI calls kubelet's kuberuntime makes. The
# whole suite runs twice: under containerd 1.6's CRI defaults, then under
# containerd 2.x's (enable_unprivileged_ports/icmp = true). See README.md.
#
# Env: BUILD, CAPGATE, CAPGATE_AMBIENT (from tests/run-suites.sh or make);
# E2E_REQUIRED=1 (make e2e): failing to run here is a failure, not a skip;
# E2E_RUNTIME=runc|crun (default runc); E2E_JOBS (pods at once, default 8);
# E2E_TIMEOUT (seconds per CRI call and per container, default 60);
# E2E_SUBNET (pod addresses, default 10.213.0.0/24); KEEP=1 keeps $T;
# E2E_WRITE_README=1 rewrites the README's "Verified on" table from this run.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$SELF")/../.." || exit 1
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
CAPGATE=${CAPGATE:-$BUILD/capgate}
CAPGATE_AMBIENT=${CAPGATE_AMBIENT:-$BUILD/capgate-ambient}
E2E_RUNTIME=${E2E_RUNTIME:-runc}
E2E_JOBS=${E2E_JOBS:-8}
E2E_TIMEOUT=${E2E_TIMEOUT:-60}
E2E_SUBNET=${E2E_SUBNET:-10.213.0.0/24}
. tests/e2e/lib.sh
. tests/e2e/expectations.sh

# --- can it run here: else one skip line (make e2e: one failure) ------------
if [ -z "${CG_E2E_MNTNS:-}" ]; then
	if why=$(e2e_cannot_run); then
		if [ -n "${E2E_REQUIRED:-}" ]; then
			echo "not ok - e2e through containerd's CRI cannot run here: $why"
			exit 1
		fi
		echo "ok - e2e through containerd's CRI # SKIP $why"
		exit 0
	fi
	# Every mount the suite, containerd, runc and kubelet.py make stays in
	# this namespace and vanishes with it.
	CG_E2E_MNTNS=1 exec unshare --mount --propagation private bash "$SELF" "$@"
fi

FAILED=0
ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	FAILED=$((FAILED + 1))
}
t0=$(now)

# --- packages (Debian only, mk/deps.sh's e2e list) --------------------------
extra=""
[ "$E2E_RUNTIME" = runc ] || extra=$E2E_RUNTIME
if ! e2e_tools_ok; then
	# shellcheck disable=SC2086 # empty or one package name
	if ! sh mk/deps.sh --e2e $extra || ! e2e_tools_ok; then
		not_ok "e2e: install containerd, $E2E_RUNTIME, CNI plugins, python3-grpcio (sh mk/deps.sh --e2e)"
		exit 1
	fi
fi
t_deps=$(now)

# --- this run's names, and what exists before it ---------------------------
RUN=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
T=$(mktemp -d "${TMPDIR:-/tmp}/capgate-e2e.XXXXXX")
chmod 711 "$T"
SOCK=$T/containerd.sock
NET=capgate-e2e-$RUN
BRIDGE=cge2e$RUN
CGROOT=capgate-e2e-$RUN
CONTAINERD_PID=
WEBHOOK_PID=
KUBELET_PID=
E2E_PREEXISTING="" # teardown removes only the directories not in this list
for p in /var/lib/cni/results /var/lib/cni /run/containerd/s /run/containerd/fifo /run/containerd; do
	[ -e "$p" ] && E2E_PREEXISTING="$E2E_PREEXISTING $p"
done
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# The system's containerd, if any, must not notice this suite.
system_state() {
	for f in /run/containerd/containerd.sock /etc/containerd/config.toml /var/lib/containerd; do
		if [ -f "$f" ]; then
			printf '%s %s\n' "$f" "$(md5sum <"$f")"
		elif [ -e "$f" ]; then
			printf '%s inode %s\n' "$f" "$(stat -c %i "$f")"
		else
			printf '%s absent\n' "$f"
		fi
	done
	printf 'containerd pids: %s\n' "$(pidof containerd)"
}
system_state >"$T/system.before"
# What containerd 1.6 and libcni keep outside $T, before this run.
shared_entries() { find /run/containerd/s /run/containerd/fifo /var/lib/cni/results -mindepth 1 -maxdepth 1 2>/dev/null | sort; }
shared_entries >"$T/shared.before"
mkdir -p "$T/pods" "$T/results/1x" "$T/results/2x" "$T/kubelet"

# --- setup: images, containerd 1.6 defaults, import -------------------------
if ! build_images >"$T/build.log" 2>&1; then
	not_ok "e2e setup: build the probe, pause and the four OCI images"
	sed 's/^/#   /' "$T/build.log" | tail -20
	exit 1
fi
t_images=$(now)
write_cni
write_config false
if ! start_containerd; then
	not_ok "e2e setup: a private containerd answers CRI on $SOCK"
	exit 1
fi
t_containerd=$(now)
if ! import_images; then
	not_ok "e2e setup: ctr -n k8s.io images import (pause, probe, ep, capgate)"
	exit 1
fi
t_import=$(now)
ok "e2e setup: private containerd $(containerd --version | awk '{print $3}') ($E2E_RUNTIME $("$E2E_RUNTIME" --version | awk 'NR == 1 {print $3}')) answers CRI $(awk '{print $3}' "$T/cri-version") on its own socket; 4 OCI images imported"

# --- the independent patch applier, checked against RFC 6902 itself --------
if bad=$($PY "$E2E_DIR/jsonpatch.py" --rfc-cases tests/data/rfc6902/*.json 2>&1); then
	ok "jsonpatch.py, the apiserver-strict applier the suite uses, passes RFC 6902 appendix A"
else
	not_ok "jsonpatch.py passes RFC 6902 appendix A"
	printf '%s\n' "$bad" | sed 's/^/#   /'
fi

# --- capgate's output: check -o json, and the webhook over TLS -------------
# case:pod:policy. Each case's pod is run as check gave it and as the
# webhook's patch made it.
STRATEGIES="sysctl:sysctl:default ping:ping:ping ambient-init:ambient:ambient-init ambient-image:ambient:ambient-image"
"$CAPGATE" certs create --service capgate --namespace capgate --out "$T/pki" >/dev/null 2>"$T/certs.err" ||
	not_ok "e2e setup: capgate certs create"
for s in $STRATEGIES; do
	IFS=: read -r c pod policy <<<"$s"
	capgate_check "$c" "$pod" "$policy"
	if ! start_webhook "$policy"; then
		not_ok "webhook: capgate serve starts with policy $policy"
		continue
	fi
	if webhook_review "$c" "$pod" && jq -e --slurpfile w "$T/pods/$c.webhook.json" '. == $w[0]' \
		"$T/pods/$c.check.json" >/dev/null; then
		ok "webhook (TLS, SNI capgate.capgate.svc): $c: allowed, JSONPatch, uid echoed; the patch applies as the apiserver applies it and gives capgate check -o json's object"
	else
		not_ok "webhook: $c: allowed JSONPatch that applies and equals capgate check -o json"
		[ -s "$T/pods/$c.webhook.err" ] && sed 's/^/#   /' "$T/pods/$c.webhook.err"
		[ -f "$T/pods/$c.webhook.json" ] &&
			diff <(jq -S . "$T/pods/$c.check.json") <(jq -S . "$T/pods/$c.webhook.json") | sed 's/^/#   /'
	fi
	stop_webhook
done
# Do no harm: each pattern as written ("before") and as capgate check
# leaves it with the default policy ("after").
for c in dnh-ep dnh-root80 dnh-plain8080; do
	yaml2json "$E2E_DIR/pods/$c.yaml" >"$T/pods/$c.before.json"
	capgate_check "$c" "$c" default
	mv "$T/pods/$c.check.json" "$T/pods/$c.after.json"
	mv "$T/pods/$c.check.err" "$T/pods/$c.after.err"
done
for c in problem layers failclosed; do
	yaml2json "$E2E_DIR/pods/$c.yaml" >"$T/pods/$c.raw.json"
done
capgate_check open open runtime-open
t_capgate=$(now)

# run_pods PROFILE: every pod file that exists goes through kubelet.py.
run_pods() {
	local args=() f b
	for f in "$T"/pods/*.json; do
		b=$(basename "$f" .json)
		case $b in *.raw | *.check | *.webhook | *.before | *.after) ;; *) continue ;; esac
		# An "after"/"check" whose capgate check failed (exit 2) has no pod.
		if [ ! -s "$f" ] || ! jq -e .spec "$f" >/dev/null 2>&1; then continue; fi
		case $b in open.*) [ "$1" = 2x ] || continue ;; esac
		args+=("$f=$T/results/$1/$b.json")
	done
	# In the background: `wait` returns at once on INT/TERM, so the trap
	# tears down right away rather than after the last pod.
	kubelet --jobs "$E2E_JOBS" "${args[@]}" 2>"$T/kubelet-$1.err" &
	KUBELET_PID=$!
	wait "$KUBELET_PID" || {
		not_ok "$1: kubelet.py ran every pod"
		sed 's/^/#   /' "$T/kubelet-$1.err" | tail -20
	}
	KUBELET_PID=
	# A retried sandbox start is not hidden (kubelet retries; so does kubelet.py).
	jq -r '.sandbox.failed_attempts // [] | .[] | "# \(input_filename | sub(".*/"; "")): sandbox retried after: \(.)"' \
		"$T/results/$1"/*.json 2>/dev/null
}

# --- assertions on one pod's result ($R), collected in $why ------------------
NBS=0000000000000400
NONE=0000000000000000
use() { # use CASE VARIANT: the pod's result, flattened to "container<TAB>out|err|exit<TAB>text"
	R=$T/results/$P/$1.$2.json
	F=$R.flat
	why=""
	if [ ! -f "$R" ]; then
		why="; no result for $1.$2"
		[ -s "$T/pods/$1.$2.err" ] && why="$why: capgate check: $(cat "$T/pods/$1.$2.err")"
		: >"$F"
		return 1
	fi
	jq -r '(if .sandbox.error then "-\tpod\tsandbox: " + .sandbox.error else empty end),
		(if .error then "-\tpod\t" + .error else empty end),
		(.containers[] | .name as $n | (.stdout[] | "\($n)\tout\t\(.)"),
			(.stderr[] | "\($n)\terr\t\(.)"), "\($n)\texit\t\(.exit_code)",
			(if .error then "\($n)\terror\t\(.error)" else empty end))' "$R" >"$F"
	grep -q "^-	pod	" "$F" && why="$why; pod failed: $(grep "^-	pod	" "$F" | cut -f3 | tr '\n' ' ')"
}
TAB=$(printf '\t')
out() { # out CONTAINER LINE...: each LINE is in its stdout
	local c=$1 l
	shift
	for l in "$@"; do
		grep -qxF -- "$c${TAB}out${TAB}$l" "$F" || why="$why; $c: no \"$l\""
	done
}
exits() { # exits CONTAINER CODE
	grep -qxF -- "$1${TAB}exit${TAB}$2" "$F" ||
		why="$why; $1: exit code $(grep -F -- "$1${TAB}exit${TAB}" "$F" | cut -f3), wanted $2"
}
err_has() { # err_has CONTAINER STRING...: its stderr has each STRING
	local c=$1 s
	shift
	for s in "$@"; do
		grep -F -- "$c${TAB}err${TAB}" "$F" | grep -qF -- "$s" || why="$why; $c: stderr lacks \"$s\""
	done
}
never_ran() { # the probe prints CapEff= first: without it, it never ran
	! grep -qF -- "$1${TAB}out${TAB}CapEff=" "$F" || why="$why; $1: the command ran"
}
spec_is() { # spec_is CONTAINER JQ-FILTER DESCRIPTION: the runtime spec containerd made
	jq -e --arg c "$1" ".containers[] | select(.name == \$c) | .spec | $2" "$R" >/dev/null 2>&1 ||
		why="$why; $1: runtime spec: not $3"
}
details() {
	[ -f "$R" ] || return 0
	jq -r '(.containers[] | "\(.name): exit \(.exit_code) \(.error // "")",
		"  out: \(.stdout | join(" "))",
		(if (.stderr | length) > 0 then "  err: \(.stderr | join(" "))" else empty end))' "$R"
}
declare -A STATUS
verdict() { # verdict ID NAME: one TAP line for the case in $why
	local id=$P/$1 name="$P: $2" re diag
	re=$(printf '%s\n' "$E2E_EXPECTED_FAILURES" | awk -v id="$id" '$1 == id { $1 = ""; sub(/^ +/, ""); print; exit }')
	if [ -z "$why" ]; then
		STATUS[$id]=ok
		if [ -n "$re" ]; then
			STATUS[$id]=xpass
			echo "ok - $name # TODO unexpected pass: tests/e2e/expectations.sh lists it as an $E2E_TODO_REASON"
		else
			echo "ok - $name"
		fi
		return
	fi
	diag=$(printf '%s\n' "${why#; }" | sed 's/; /\n/g'; details)
	if [ -n "$re" ] && printf '%s\n' "$diag" | grep -Eq -- "$re"; then
		STATUS[$id]=xfail
		echo "not ok - $name # TODO $E2E_TODO_REASON"
	else
		STATUS[$id]=fail
		echo "not ok - $name"
		[ -z "$re" ] || echo "#   listed as an expected failure (/$re/) but failed for another reason"
		FAILED=$((FAILED + 1))
	fi
	printf '%s\n' "$diag" | sed 's/^/#   /'
}

run_tests() {
	local ps pgr v
	if [ "$P" = 1x ]; then
		ps=1024 pgr="1 0"
	else
		ps=0 pgr="0 2147483647"
	fi

	# The problem is real (or, under 2.x defaults, the runtime solved it).
	use problem raw
	out nonroot "CapBnd=$NBS" "CapPrm=$NONE" "CapEff=$NONE" "CapAmb=$NONE" \
		"ip_unprivileged_port_start=$ps" "ping_group_range=$pgr"
	if [ "$P" = 1x ]; then
		out nonroot bind:80=EACCES ping=EACCES
		verdict problem-nonroot "the problem: uid 1000 with add NET_BIND_SERVICE, drop ALL has it only in CapBnd (not CapPrm/CapEff/CapAmb) and cannot bind :80"
	else
		out nonroot bind:80=ok bind:79=ok ping=ok
		verdict problem-nonroot "no problem here: the runtime opens ports and ICMP to every pod (ip_unprivileged_port_start=0, ping_group_range=\"0 2147483647\"); uid 1000 binds :80 and :79 and pings with no capability"
	fi
	use problem raw
	out root "uid=0" "CapEff=$NBS" bind:80=ok
	verdict problem-root "uid 0 with the same capabilities holds NET_BIND_SERVICE and binds :80"

	use layers raw
	out probe-image "fcap:/usr/local/bin/capgate-ambient=+p 2400" \
		"fcap:/usr/local/bin/capgate-ambient-copy=ENODATA"
	exits ep-image 0
	out ep-image "fcap:/probe-ep=+ep 400" "CapEff=$NBS"
	exits capgate-image 0
	out capgate-image "capgate-ambient 0.1.0"
	verdict layers "file capabilities survive into image layers: the wrapper's +p, the ingress-style entrypoint's +ep, and the +p that --install wrote in capgate's image"

	# Each strategy, from capgate check and from the webhook.
	for v in check webhook; do
		use sysctl $v
		exits web 0
		out web "ip_unprivileged_port_start=80" bind:80=ok bind:79=EACCES "CapEff=$NONE" \
			NoNewPrivs=1 Seccomp=2 "write:/probe-was-here=EROFS"
		if [ "$P" = 1x ]; then
			verdict "sysctl-$v" "sysctl strategy (capgate $v): ip_unprivileged_port_start=80; uid 1000 binds :80, not :79, with no capability; no_new_privs, read-only rootfs, seccomp"
		else
			verdict "sysctl-$v" "sysctl strategy (capgate $v): the pod's ip_unprivileged_port_start=80 replaces the runtime's 0 (the default policy assumes a closed runtime): :80 binds, :79 no longer does"
		fi

		use ping $v
		exits pinger 0
		out pinger "ping_group_range=4321 4321" "gid=4321" ping=ok raw=EPERM NoNewPrivs=1 Seccomp=2
		out other-gid "gid=4322" ping=EACCES
		if [ "$P" = 1x ]; then
			verdict "ping-$v" "ping via ping_group_range (capgate $v): gid 4321 opens ICMP echo sockets without NET_RAW (raw sockets still refused), gid 4322 cannot"
		else
			verdict "ping-$v" "ping via ping_group_range (capgate $v): \"4321 4321\" replaces the runtime's \"0 2147483647\": gid 4321 pings, gid 4322 no longer does"
		fi

		use ambient-init $v
		exits capgate-ambient-install 0
		spec_is capgate-ambient-install '.user.uid == 0' "uid 0"
		spec_is capgate-ambient-install '.capabilities.bounding == ["CAP_SETFCAP"] and .capabilities.permitted == ["CAP_SETFCAP"] and .capabilities.effective == ["CAP_SETFCAP"]' "only CAP_SETFCAP"
		spec_is capgate-ambient-install '.noNewPrivileges and .readonlyRootfs' "no_new_privs with a read-only rootfs"
		exits web 0
		out web "uid=1000" "CapAmb=$NBS" "CapEff=$NBS" "CapPrm=$NBS" bind:80=ok bind:79=ok raw=EPERM \
			NoNewPrivs=1 Seccomp=2 "write:/probe-was-here=EROFS" "ip_unprivileged_port_start=$ps"
		verdict "ambient-init-$v" "ambient wrapper, delivery initContainer (capgate $v): the installer runs as root with only SETFCAP, no_new_privs, read-only rootfs; the app (uid 1000, no_new_privs, read-only rootfs, seccomp) holds NET_BIND_SERVICE in CapAmb and binds :80"

		use ambient-image $v
		exits web 0
		out web "uid=1000" "CapAmb=$NBS" "CapEff=$NBS" bind:80=ok raw=EPERM NoNewPrivs=1 Seccomp=2 \
			"write:/probe-was-here=EROFS" "ip_unprivileged_port_start=$ps"
		verdict "ambient-image-$v" "ambient wrapper, delivery image (capgate $v): uid 1000 with no_new_privs, read-only rootfs and seccomp holds NET_BIND_SERVICE in CapAmb and binds :80"
	done

	# The wrapper fails closed on the real runtime.
	use failclosed raw
	exits from-script "$E2E_WRAPPER_EXIT"
	err_has from-script "$E2E_WRAPPER_MSG_PREFIX" "$E2E_WRAPPER_MSG_NNP"
	never_ran from-script
	verdict failclosed-script "fails closed: the wrapper started from a script under no_new_privs exits $E2E_WRAPPER_EXIT naming no_new_privs; the command never runs"
	use failclosed raw
	exits no-xattr "$E2E_WRAPPER_EXIT"
	err_has no-xattr "$E2E_WRAPPER_MSG_PREFIX" "$E2E_WRAPPER_MSG_NO_XATTR"
	never_ran no-xattr
	verdict failclosed-no-xattr "fails closed: a copy of the wrapper without the xattr exits $E2E_WRAPPER_EXIT naming the missing file capability; the command never runs"
	use failclosed raw
	exits not-added "$E2E_WRAPPER_EXIT"
	err_has not-added "$E2E_WRAPPER_MSG_PREFIX" "$E2E_WRAPPER_MSG_NOT_BOUNDING"
	never_ran not-added
	verdict failclosed-not-added "fails closed: a capability missing from capabilities.add exits $E2E_WRAPPER_EXIT naming the bounding set; the command never runs"

	# Do no harm: worked before capgate => works after.
	for v in before after; do
		use dnh-ep $v
		exits controller 0
		out controller "uid=101" "CapEff=$NBS" NoNewPrivs=1 bind:80=ok bind:443=ok
		verdict "dnh-ep-$v" "do no harm, $v capgate: the cap_net_bind_service=+ep entrypoint (ingress-nginx pattern) as uid 101 with no_new_privs starts and binds :80 and :443"
		use dnh-root80 $v
		exits web 0
		out web "uid=0" bind:80=ok
		verdict "dnh-root80-$v" "do no harm, $v capgate: a root container declaring port 80 binds :80"
		use dnh-plain8080 $v
		exits web 0
		out web "uid=1000" bind:8080=ok
		verdict "dnh-plain8080-$v" "do no harm, $v capgate: a plain non-root pod binds :8080"
	done

	if [ "$P" = 2x ]; then
		use open check
		[ -f "$R" ] && ! jq -e '[.spec.securityContext.sysctls[]?.name] |
			(index("net.ipv4.ip_unprivileged_port_start") == null and index("net.ipv4.ping_group_range") == null)' \
			"$T/pods/open.check.json" >/dev/null && why="$why; capgate emitted a port or ping sysctl"
		out web "ip_unprivileged_port_start=0" "ping_group_range=0 2147483647" bind:80=ok bind:79=ok ping=ok
		out other-gid ping=ok
		verdict runtime-open "a policy that says the runtime is open (nonRoot.runtimeDefaults: open): capgate emits no port or ping sysctl; uid 1000 still binds :79 and :80 and every gid pings"
	fi
}

P=1x
run_pods 1x
t_pods1=$(now)
run_tests
t_tests1=$(now)

# --- the same suite under containerd 2.x's CRI defaults ---------------------
stop_containerd
write_config true
if ! start_containerd; then
	not_ok "e2e setup: containerd restarts with enable_unprivileged_ports/icmp = true"
	exit 1
fi
t_restart=$(now)
P=2x
run_pods 2x
t_pods2=$(now)
run_tests

# --- the README's "Verified on" table, from what this run observed ----------
. tests/e2e/verified-on.sh
verified_on_table >"$T/verified-on.md"
mkdir -p "$BUILD/e2e"
cp "$T/verified-on.md" "$BUILD/e2e/verified-on.md"
readme_table() { sed -n '/^<!-- e2e verified-on begin/,/^<!-- e2e verified-on end/p' README.md | sed '1d;$d'; }
if [ -n "${E2E_WRITE_README:-}" ]; then
	write_readme_table "$T/verified-on.md"
fi
if diff <(readme_table) "$T/verified-on.md" >"$T/readme.diff"; then
	ok "README's \"Verified on\" table is what this run observed"
else
	not_ok "README's \"Verified on\" table is what this run observed (E2E_WRITE_README=1 rewrites it)"
	sed 's/^/#   /' "$T/readme.diff"
fi

# --- teardown, and proof that it left nothing ------------------------------
t_tear0=$(now)
keep=${KEEP:-}
KEEP=1 teardown
t_tear=$(now)
left=""
[ -n "$(sock_pids)" ] && left="$left processes $(sock_pids | tr '\n' ' ');"
findmnt -rn -o TARGET | grep -qF "$T/" && left="$left mounts;"
ip link show "$BRIDGE" >/dev/null 2>&1 && left="$left bridge $BRIDGE;"
ls /var/lib/cni/results/"$NET"-* >/dev/null 2>&1 && left="$left CNI cache;"
for cg in $(cgroup_mounts); do [ -e "$cg/$CGROOT" ] && left="$left cgroup $cg/$CGROOT;"; done
for p in /run/containerd/s /run/containerd/fifo /var/lib/cni/results; do
	case " $E2E_PREEXISTING " in *" $p "*) ;; *) [ -e "$p" ] && left="$left $p;" ;; esac
done
[ -n "$(comm -13 "$T/shared.before" <(shared_entries))" ] &&
	left="$left new entries in /run/containerd or /var/lib/cni: $(comm -13 "$T/shared.before" <(shared_entries) | tr '\n' ' ');"
if [ -z "$left" ]; then ok "teardown leaves no process, mount, bridge, CNI cache, cgroup, shim socket or directory it made"; else
	not_ok "teardown leaves nothing behind:$left"; fi
system_state >"$T/system.after"
if diff "$T/system.before" "$T/system.after" >"$T/system.diff"; then
	ok "the system's containerd is untouched ($(grep -c absent "$T/system.before") of its 3 paths absent, pids unchanged)"
else
	not_ok "the system's containerd is untouched"
	sed 's/^/#   /' "$T/system.diff"
fi
if [ -n "$keep" ]; then echo "# kept $T"; else rm -rf "$T"; fi

echo "# e2e timing (s): packages $(secs "$t0" "$t_deps"), images $(secs "$t_deps" "$t_images"), containerd start $(secs "$t_images" "$t_containerd"), import $(secs "$t_containerd" "$t_import"), capgate check+webhook $(secs "$t_import" "$t_capgate"); setup $(secs "$t0" "$t_capgate")"
echo "# e2e timing (s): pods 1.x $(secs "$t_capgate" "$t_pods1"), its checks $(secs "$t_pods1" "$t_tests1"), restart $(secs "$t_tests1" "$t_restart"), pods 2.x $(secs "$t_restart" "$t_pods2"), teardown $(secs "$t_tear0" "$t_tear"); suite $(secs "$t_capgate" "$t_tear"); total $(secs "$t0" "$t_tear")"
exit $((FAILED > 0))
