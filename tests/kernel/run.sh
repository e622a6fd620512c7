#!/bin/sh
# Real-kernel tests of the two ways capgate makes a non-root container's
# capability need work (issue 4): the ambient wrapper capgate-ambient, and
# the safe sysctls. No mocks: a launcher (launcher.c) starts processes the
# way runc starts a non-root container, a probe (probe.c) reports its
# capability sets and tries bind(:80), a raw ICMP socket and an ICMP echo
# datagram socket. Everything runs in a private mount namespace and each
# case in a fresh network namespace, so no mount, sysctl or socket outlives
# the suite or touches the host's network.
# Env (from tests/run-suites.sh): BUILD, CAPGATE, CAPGATE_AMBIENT.
set -u
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$SELF")/../.." || exit 1
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
W=${CAPGATE_AMBIENT:-$BUILD/capgate-ambient}
CAPGATE=${CAPGATE:-$BUILD/capgate}
SRC=$PWD/tests/kernel

# Mounts made below vanish with this namespace even if the suite is killed.
if [ "$(id -u)" -eq 0 ] && [ -z "${CG_KERNEL_MNTNS:-}" ] &&
	unshare --mount --propagation private true 2>/dev/null; then
	CG_KERNEL_MNTNS=1 exec unshare --mount --propagation private sh "$SELF" "$@"
fi

failed=0
skip() { echo "ok - $1 # SKIP $2"; }

# A case: begin, run one command (rc, $T/out, $T/err), want..., verdict.
begin() { why=""; }
want_rc() { [ "$rc" -eq "$1" ] || why="$why; exit $rc, wanted $1"; }
want_out() { grep -qxF "$1" "$T/out" || why="$why; stdout lacks $1"; }
want_err() { grep -qF "$1" "$T/err" || why="$why; stderr lacks \"$1\""; }
want_no_err() { ! grep -qF "$1" "$T/err" || why="$why; stderr has \"$1\""; }
# The probe prints CapEff first: its absence means COMMAND never ran.
not_ran() { ! grep -q '^CapEff=' "$T/out" || why="$why; the command ran"; }
verdict() {
	if [ -z "$why" ]; then
		echo "ok - $1"
		return
	fi
	echo "not ok - $1"
	echo "#   ${why#; }"
	sed 's/^/#   out: /' "$T/out"
	sed 's/^/#   err: /' "$T/err"
	failed=$((failed + 1))
}
run() {
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
}
# netns [sysctl.name=value]... -- COMMAND: runs COMMAND in a fresh network
# namespace with lo up, after writing the given sysctls there.
netns() {
	# shellcheck disable=SC2016 # the inner sh expands these, from its own arguments
	run unshare -n sh -c '
		while [ "$1" != -- ]; do
			printf "%s\n" "${1#*=}" >"/proc/sys/$(printf %s "${1%%=*}" | tr . /)" || exit 120
			shift
		done
		shift
		ip link set lo up || exit 120
		exec "$@"' netns "$@"
}

T=$(mktemp -d)
chmod 755 "$T" # the probe runs as uid 65534 from here
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	for m in "$T/nosuid" "$T/small" "$T/sbin" "$T/fs"; do
		mountpoint -q "$m" 2>/dev/null && umount "$m"
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- without privileges: the wrapper's own checks ----------------------------
if [ ! -x "$W" ]; then
	echo "not ok - capgate-ambient is built ($W missing)"
	exit 1
fi
# `make asan` builds the wrapper dynamic on purpose (the sanitizer runtimes).
if ! command -v readelf >/dev/null; then
	skip "capgate-ambient is static" "readelf missing"
elif readelf -d "$W" 2>/dev/null | grep -q 'NEEDED.*lib[au]san'; then
	skip "capgate-ambient is static" "sanitizer build"
elif readelf -lW "$W" 2>/dev/null | grep -q INTERP; then
	echo "not ok - capgate-ambient is static"
	echo "#   $W has a program interpreter"
	failed=$((failed + 1))
else
	echo "ok - capgate-ambient is static ($(wc -c <"$W") bytes)"
fi

begin
run "$W" --help
want_rc 0
want_out "       capgate-ambient --install DIR [--caps=CAP[,CAP...]]"
run "$W" --version
want_rc 0
grep -q '^capgate-ambient [0-9]' "$T/out" || why="$why; no version"
verdict "--help and --version"

begin
run "$W" --caps=NET_BIND_SERVIC -- echo CapEff=ran
want_rc 125
want_err 'capgate-ambient: --caps: unknown capability "NET_BIND_SERVIC"'
not_ran
verdict "unknown capability name: usage error 125, command not run"

begin
run "$W" --caps=NET_BIND_SERVICE echo CapEff=ran
want_rc 125
want_err "capgate-ambient: usage: expected -- COMMAND"
not_ran
verdict "missing --: usage error 125, command not run"

begin
run "$W" --caps= -- echo CapEff=ran
want_rc 125
want_err "no capability given"
not_ran
verdict "empty --caps: usage error 125, command not run"

begin
for caps in "NET_RAW," ",NET_RAW" "NET_RAW,,NET_BIND_SERVICE" ","; do
	run "$W" --caps="$caps" -- echo CapEff=ran
	want_rc 125
	want_err "capgate-ambient: --caps: empty capability name (leading, trailing or double comma)"
	not_ran
done
verdict "stray comma in --caps (trailing, leading, double, alone): usage error 125, not run"

begin
run "$W" --install relative/dir
want_rc 125
want_err "capgate-ambient: --install: DIR must be an absolute path"
run "$W" --install /nonexistent --caps=NET_RAW,
want_rc 125
want_err "empty capability name"
run "$W" --install /nonexistent --cap=NET_RAW
want_rc 125
verdict "--install: relative DIR, bad --caps or option: usage error 125"

if [ "$(id -u)" -ne 0 ]; then
	skip "kernel tests (launcher, file capabilities, sysctls)" "not root"
	exit $((failed > 0))
fi
for tool in unshare ip setcap getcap mountpoint findmnt cc; do
	if ! command -v $tool >/dev/null; then
		skip "kernel tests" "$tool missing (sh mk/deps.sh)"
		exit $((failed > 0))
	fi
done
if ! unshare -n true 2>/dev/null; then
	skip "kernel tests" "cannot create network namespaces here"
	exit $((failed > 0))
fi

mkdir -p "$BUILD/kernel"
# Built under a temp name and renamed: a concurrent run never execs a
# half-written helper.
# The probe is static: LD_* variables handed to it (environment tests) must
# not change what it prints.
for h in launcher probe; do
	static=""
	[ $h = probe ] && static=-static
	if ! cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 $static -o "$BUILD/kernel/$h.$$" \
		"$SRC/$h.c" 2>"$T/err" || ! mv -f "$BUILD/kernel/$h.$$" "$BUILD/kernel/$h"; then
		echo "not ok - build tests/kernel/$h.c"
		sed 's/^/#   /' "$T/err"
		exit 1
	fi
done
L=$BUILD/kernel/launcher
P=$T/probe
cp "$BUILD/kernel/probe" "$P"

# File capabilities need xattrs and a mount without nosuid: /tmp if it has
# both, else a tmpfs of our own (a plain tmpfs, like a medium: Memory emptyDir).
D=$T
# shellcheck disable=SC2015 # the tmpfs whenever any step of the try fails
cp "$W" "$T/try" && setcap cap_net_bind_service+p "$T/try" 2>/dev/null &&
	! findmnt -no OPTIONS -T "$T" | grep -qw nosuid || {
	mkdir "$T/fs" && mount -t tmpfs -o mode=755 tmpfs "$T/fs" && D=$T/fs
}
cp "$W" "$D/capgate-ambient"
setcap cap_net_bind_service,cap_net_raw+p "$D/capgate-ambient"
WP=$D/capgate-ambient
NBS=0000000000000400 # 1 << CAP_NET_BIND_SERVICE (10)
RAW=0000000000002000 # 1 << CAP_NET_RAW (13)
NONE=0000000000000000
# A runtime's non-root container: runAsUser 65534, capabilities drop ALL, add X.
rt() {
	caps=$1
	shift
	netns -- "$L" --bounding "$caps" --caps "$caps" "$@"
}

# --- the problem, and the wrapper solving it ---------------------------------
begin
rt NET_BIND_SERVICE -- "$P"
want_rc 0
want_out "uid=65534"
want_out "CapEff=$NONE"
want_out "CapAmb=$NONE"
want_out "bind:80=EACCES"
verdict "without the wrapper: add NET_BIND_SERVICE, uid 65534 holds nothing and cannot bind :80"

begin
rt NET_BIND_SERVICE -- "$WP" --caps=NET_BIND_SERVICE -- "$P"
want_rc 0
want_out "uid=65534"
want_out "CapAmb=$NBS"
want_out "CapEff=$NBS"
want_out "CapPrm=$NBS"
want_out "bind:80=ok"
want_out "raw=EPERM"
verdict "wrapper +p: child holds exactly NET_BIND_SERVICE (amb/eff/prm) and binds :80"

begin
rt NET_BIND_SERVICE,NET_RAW -- "$WP" --caps=net_raw -- "$P"
want_rc 0
want_out "CapAmb=$RAW"
want_out "CapEff=$RAW"
want_out "raw=ok"
want_out "bind:80=EACCES"
verdict "wrapper --caps=net_raw: exactly NET_RAW, raw ICMP socket opens, NET_BIND_SERVICE dropped"

begin
rt NET_BIND_SERVICE,NET_RAW -- "$WP" --caps=CAP_NET_BIND_SERVICE,Net_Raw -- "$P"
want_rc 0
want_out "CapAmb=0000000000002400"
want_out "bind:80=ok"
want_out "raw=ok"
verdict "wrapper with both (CAP_ prefix, mixed case): binds :80 and opens a raw socket"

begin
rt NET_BIND_SERVICE,NET_RAW --inh NET_RAW -- "$WP" --caps=NET_BIND_SERVICE -- "$P"
want_rc 0
want_out "CapInh=$NBS"
want_out "CapAmb=$NBS"
verdict "wrapper drops what it was not asked for (NET_RAW left in inheritable)"

begin
rt NET_BIND_SERVICE -- env PATH="$T:/usr/bin:/bin" "$WP" --caps=NET_BIND_SERVICE -- probe bind:80
want_rc 0
want_out "bind:80=ok"
verdict "COMMAND is searched in PATH"

begin
rt NET_BIND_SERVICE -- env PATH="$T:/usr/bin:/bin" "$WP" --caps=NET_BIND_SERVICE -- \
	capgate-no-such-command
want_rc 127
want_err "capgate-ambient: exec capgate-no-such-command: No such file or directory"
verdict "COMMAND not found: 127"

# --- every failure path fails closed ------------------------------------------
begin
rt "" -- "$WP" --caps=NET_BIND_SERVICE -- "$P"
want_rc 126
want_err "capgate-ambient: CAP_NET_BIND_SERVICE is not in the permitted set: it is not in the bounding set"
not_ran
verdict "capability missing from the bounding set: 126, named, command not run"

cp "$W" "$D/ep"
setcap cap_net_bind_service,cap_net_raw+ep "$D/ep"
begin
rt NET_BIND_SERVICE -- "$D/ep" --caps=NET_BIND_SERVICE -- "$P"
want_err "launcher: $D/ep: Operation not permitted"
want_no_err "capgate-ambient:"
not_ran
verdict "+ep with NET_RAW missing from bounding: execve itself fails with EPERM"

begin
rt NET_BIND_SERVICE -- "$WP" --caps=NET_BIND_SERVICE -- "$P"
want_rc 0
want_out "bind:80=ok"
rt NET_BIND_SERVICE -- "$WP" --caps=NET_RAW -- "$P"
want_rc 126
want_err "capgate-ambient: CAP_NET_RAW is not in the permitted set: it is not in the bounding set"
not_ran
verdict "+p with the same bounding set: runs, raises NET_BIND_SERVICE, reports NET_RAW clearly"

mkdir "$T/nosuid"
mount -t tmpfs -o nosuid,mode=755 tmpfs "$T/nosuid"
cp "$W" "$T/nosuid/capgate-ambient"
setcap cap_net_bind_service,cap_net_raw+p "$T/nosuid/capgate-ambient"
begin
getcap "$T/nosuid/capgate-ambient" | grep -q 'cap_net_bind_service,cap_net_raw=p' ||
	why="setcap on the nosuid tmpfs did not stick"
rt NET_BIND_SERVICE -- "$T/nosuid/capgate-ambient" --caps=NET_BIND_SERVICE -- "$P"
want_rc 126
want_err "is not in the permitted set: this file is on a nosuid mount"
not_ran
verdict "file capability on a nosuid mount is ignored: 126, named, command not run"
umount "$T/nosuid"

cp "$W" "$D/nocap"
begin
rt NET_BIND_SERVICE -- "$D/nocap" --caps=NET_BIND_SERVICE -- "$P"
want_rc 126
want_err "is not in the permitted set: this file has no file capability"
not_ran
verdict "no file capability: 126, named, command not run"

begin
rt NET_BIND_SERVICE -- "$WP" --caps=SYS_ADMIN -- "$P"
want_rc 126
want_err "CAP_SYS_ADMIN is not in the permitted set: it is not in the bounding set"
not_ran
netns -- "$L" --bounding NET_BIND_SERVICE,SYS_ADMIN -- "$WP" --caps=SYS_ADMIN -- "$P"
want_rc 126
want_err "CAP_SYS_ADMIN is not in the permitted set: this file's capability does not include it"
not_ran
verdict "capability outside the file's +p set: 126, named, command not run"

begin
netns -- "$L" --bounding NET_BIND_SERVICE --nnp -- "$WP" --caps=NET_BIND_SERVICE -- "$P"
want_rc 126
want_err "CAP_NET_BIND_SERVICE is not in the permitted set: no_new_privs is set"
not_ran
verdict "no_new_privs, capability not in the runtime's permitted set: 126, named, not run"

begin
rt NET_BIND_SERVICE --no-ambient-raise -- "$WP" --caps=NET_BIND_SERVICE -- "$P"
want_rc 126
want_err "capgate-ambient: raising CAP_NET_BIND_SERVICE in the ambient set: Operation not permitted"
not_ran
verdict "ambient raise refused (SECBIT_NO_CAP_AMBIENT_RAISE): 126, named, command not run"

begin
rt NET_BIND_SERVICE --nnp -- "$WP" --caps=NET_BIND_SERVICE -- "$P"
want_rc 0
want_out "CapAmb=$NBS"
want_out "bind:80=ok"
verdict "no_new_privs with the capability permitted (wrapper is the command): works"

begin
netns -- "$L" --uid 0 --gid 0 --bounding NET_BIND_SERVICE,NET_RAW --caps NET_BIND_SERVICE,NET_RAW \
	-- "$WP" --caps=NET_BIND_SERVICE -- "$P"
want_rc 126
want_err "capgate-ambient: refusing to run as uid 0: at exec root gets back every capability"
not_ran
verdict "uid 0 without SECBIT_NOROOT: refused (126), command not run"

begin
netns -- "$L" --uid 0 --gid 0 --noroot --bounding NET_BIND_SERVICE,NET_RAW \
	--caps NET_BIND_SERVICE,NET_RAW -- "$WP" --caps=NET_BIND_SERVICE -- "$P"
want_rc 0
want_out "uid=0"
want_out "CapPrm=$NBS"
want_out "CapEff=$NBS"
want_out "CapAmb=$NBS"
want_out "bind:80=ok"
want_out "raw=EPERM"
verdict "uid 0 under SECBIT_NOROOT: exactly NET_BIND_SERVICE, as for any other uid"

begin
netns -- "$L" --deny-capbset-read -- "$WP" --caps=NET_BIND_SERVICE -- "$P"
want_rc 126
want_err "capgate-ambient: CAP_NET_BIND_SERVICE is not in the permitted set: cannot read the bounding set (PR_CAPBSET_READ: Invalid argument"
not_ran
verdict "PR_CAPBSET_READ fails (seccomp, EINVAL): 126 with its own message, command not run"

# --- the command's world: environment, descriptors, PATH ---------------------
# Running a file with file capabilities is a secure exec (AT_SECURE): static
# glibc deletes these from environ before main (sysdeps/generic/unsecvars.h,
# and the SXID_ERASE tunables MALLOC_CHECK_ and glibc.malloc.check) and opens
# /dev/full or /dev/null on a closed fd 0-2. COMMAND must get neither change.
# shellcheck disable=SC2086 # one word per variable, none has a space
set -- GCONV_PATH=/g GETCONF_DIR=/gc HOSTALIASES=/h LD_AUDIT=/nonexistent/a.so LD_DEBUG=x \
	LD_DEBUG_OUTPUT=/o LD_DYNAMIC_WEAK=1 LD_HWCAP_MASK=1 LD_LIBRARY_PATH=/opt/lib \
	LD_ORIGIN_PATH=/op LD_PRELOAD=/nonexistent/p.so LD_PROFILE=x LD_SHOW_AUXV=1 \
	LOCALDOMAIN=example.org LOCPATH=/l MALLOC_TRACE=/mt NIS_PATH=/n NLSPATH=/nl \
	RESOLV_HOST_CONF=/r RES_OPTIONS=ndots:2 TMPDIR=/scratch TZDIR=/tz MALLOC_CHECK_=3 \
	MALLOC_ARENA_MAX=2 GLIBC_TUNABLES=glibc.malloc.check=3:glibc.malloc.arena_max=2 \
	"SPACED=a b=c" EMPTY= FOO=bar
begin
rt NET_BIND_SERVICE -- env -i PATH=/usr/bin:/bin "$@" "$WP" --caps=NET_BIND_SERVICE -- "$P" env bind:80
want_rc 0
want_out "bind:80=ok"
printf 'env=%s\n' PATH=/usr/bin:/bin "$@" >"$T/env.want"
grep '^env=' "$T/out" >"$T/env.got"
cmp -s "$T/env.want" "$T/env.got" ||
	why="$why; environment differs:$(diff "$T/env.want" "$T/env.got" | grep '^[<>]' | tr '\n' ' ')"
verdict "COMMAND gets every variable glibc scrubs under AT_SECURE ($# of them), unchanged, in order"
set --

begin
rt NET_BIND_SERVICE -- sh -c 'exec "$@" <&-' sh "$WP" --caps=NET_BIND_SERVICE -- "$P" fds
want_rc 0
want_out "fd0=closed"
want_out "fd1=$T/out"
want_out "fd2=$T/err"
verdict "stdin closed: COMMAND sees it closed (not glibc's /dev/full), stdout and stderr as given"

begin
rt NET_BIND_SERVICE -- sh -c 'exec "$@" 3>&1 <&- >&- 2>&-' sh "$WP" --caps=NET_BIND_SERVICE \
	-- "$P" -o 3 fds bind:80
want_rc 0
want_out "fd0=closed"
want_out "fd1=closed"
want_out "fd2=closed"
want_out "bind:80=ok"
verdict "stdin, stdout and stderr closed: COMMAND sees all three closed"

begin
rt NET_BIND_SERVICE -- sh -c 'exec "$@" </dev/full 2>/dev/null' sh "$WP" --caps=NET_BIND_SERVICE \
	-- "$P" fds
want_rc 0
want_out "fd0=/dev/full"
want_out "fd2=/dev/null"
verdict "/dev/full and /dev/null given by the caller (not glibc's modes) stay open"

# PATH unset: the search uses the PATH runtimes set by default, whose first
# entry /usr/local/sbin glibc's own default (/bin:/usr/bin) lacks. A tmpfs
# over it in this suite's private mount namespace holds the probe.
name="PATH unset: COMMAND found in the runtimes' default PATH (/usr/local/sbin...), env stays empty"
if [ -z "${CG_KERNEL_MNTNS:-}" ] || [ ! -d /usr/local/sbin ]; then
	skip "$name" "no private mount namespace or no /usr/local/sbin"
else
	mkdir -p "$T/sbin"
	cp "$P" "$T/sbin/capgate-probe"
	mount --bind "$T/sbin" /usr/local/sbin
	begin
	rt NET_BIND_SERVICE -- env -i "$WP" --caps=NET_BIND_SERVICE -- capgate-probe env bind:80
	want_rc 0
	want_out "bind:80=ok"
	! grep -q '^env=' "$T/out" || why="$why; the command got an environment"
	verdict "$name"
	umount /usr/local/sbin
fi

begin
# shellcheck disable=SC2016 # expanded by the inner sh
rt NET_BIND_SERVICE -- sh -c 'cd "$0" && exec "$@"' "$T" env PATH=.::/nonexistent \
	"$WP" --caps=NET_BIND_SERVICE -- probe
want_rc 127
want_err "capgate-ambient: exec probe: No such file or directory"
not_ran
verdict "empty and relative PATH entries are not searched (runc refuses those matches too)"

printf 'echo CapEff=ran\n' >"$T/noshebang"
chmod 755 "$T/noshebang"
begin
rt NET_BIND_SERVICE -- "$WP" --caps=NET_BIND_SERVICE -- "$T/noshebang"
want_rc 126
want_err "capgate-ambient: exec $T/noshebang: Exec format error (neither a binary for this machine nor a script with #!; not run with /bin/sh"
not_ran
rt NET_BIND_SERVICE -- env PATH="$T:/usr/bin:/bin" "$WP" --caps=NET_BIND_SERVICE -- noshebang
want_rc 126
want_err "capgate-ambient: exec noshebang: Exec format error"
not_ran
verdict "a script without #! (ENOEXEC): 126, not run by /bin/sh, by path or found in PATH"

begin
rt NET_BIND_SERVICE -- "$WP" --caps=NET_BIND_SERVICE -- "$P/x"
want_rc 127
want_err "capgate-ambient: exec $P/x: Not a directory"
verdict "a path through a file (ENOTDIR): 127, as a shell says"

cp "$P" "$T/noexec"
chmod 644 "$T/noexec"
begin
rt NET_BIND_SERVICE -- "$WP" --caps=NET_BIND_SERVICE -- "$T/noexec"
want_rc 126
want_err "capgate-ambient: exec $T/noexec: Permission denied"
not_ran
verdict "COMMAND not executable (EACCES): 126, not run"

# --- --install: the init-container delivery -----------------------------------
mkdir "$D/inst"
begin
run "$W" --install "$D/inst"
want_rc 0
[ "$(getcap "$D/inst/capgate-ambient")" = "$D/inst/capgate-ambient cap_net_bind_service,cap_net_raw=p" ] ||
	why="$why; getcap: $(getcap "$D/inst/capgate-ambient")"
[ "$(stat -c %a "$D/inst/capgate-ambient")" = 755 ] || why="$why; mode is not 0755"
[ "$(ls -A "$D/inst")" = capgate-ambient ] || why="$why; left behind: $(ls -A "$D/inst")"
cmp -s "$W" "$D/inst/capgate-ambient" || why="$why; content differs from the build"
verdict "--install DIR: cap_net_bind_service,cap_net_raw=p, mode 0755, no temp file left"

begin
rt NET_BIND_SERVICE,NET_RAW -- "$D/inst/capgate-ambient" --caps=NET_BIND_SERVICE,NET_RAW -- "$P"
want_rc 0
want_out "CapAmb=0000000000002400"
want_out "bind:80=ok"
want_out "raw=ok"
verdict "the --install'ed wrapper works like the setcap'ed one"

cp "$D/inst/capgate-ambient" "$D/copied"
begin
[ -z "$(getcap "$D/copied")" ] || why="getcap still shows: $(getcap "$D/copied")"
rt NET_BIND_SERVICE -- "$D/copied" --caps=NET_BIND_SERVICE -- "$P"
want_rc 126
want_err "this file has no file capability"
not_ran
verdict "a plain cp of the installed wrapper loses the capability and fails closed"

mkdir "$D/inst2"
begin
run "$L" --uid 0 --gid 0 --bounding CHOWN,DAC_OVERRIDE,FOWNER --caps CHOWN,DAC_OVERRIDE,FOWNER \
	-- "$W" --install "$D/inst2"
want_rc 1
want_err "capgate-ambient: writing security.capability (needs CAP_SETFCAP): Operation not permitted"
[ -z "$(ls -A "$D/inst2")" ] || why="$why; left behind: $(ls -A "$D/inst2")"
verdict "--install as root without CAP_SETFCAP: exit 1, named, nothing left behind"

xattr_of() { getfattr --absolute-names --only-values -n security.capability "$1" | od -An -tx1; }
name="--install DIR --caps=LIST: exactly those capabilities, the bytes setcap writes"
if ! command -v getfattr >/dev/null; then
	skip "$name" "getfattr missing (apt-get install attr)"
else
	begin
	for caps in NET_BIND_SERVICE NET_RAW,BPF; do
		rm -rf "$D/instc" "$D/setc"
		mkdir "$D/instc"
		run "$W" --install "$D/instc" --caps="$caps"
		want_rc 0
		lower=$(echo "$caps" | tr '[:upper:]' '[:lower:]' | sed 's/^/cap_/; s/,/,cap_/g')
		want_out "installed $D/instc/capgate-ambient ($lower+p)"
		cp "$W" "$D/setc"
		setcap "$lower+p" "$D/setc"
		[ "$(xattr_of "$D/instc/capgate-ambient")" = "$(xattr_of "$D/setc")" ] ||
			why="$why; --caps=$caps: xattr $(xattr_of "$D/instc/capgate-ambient"), setcap $(xattr_of "$D/setc")"
	done
	run "$W" --install "$D/instc" --caps=NET_BIND_SERVICE
	rt NET_BIND_SERVICE,NET_RAW -- "$D/instc/capgate-ambient" --caps=NET_BIND_SERVICE -- "$P"
	want_rc 0
	want_out "CapAmb=$NBS"
	rt NET_BIND_SERVICE,NET_RAW -- "$D/instc/capgate-ambient" --caps=NET_RAW -- "$P"
	want_rc 126
	want_err "CAP_NET_RAW is not in the permitted set: this file's capability does not include it"
	not_ran
	verdict "$name"
fi

# DIR is taken literally: absolute, not through a symbolic link, resolved once.
mkdir -p "$D/rel/sub" "$D/target"
ln -s "$D/target" "$D/link"
begin
(cd "$D/rel" && "$W" --install sub) >"$T/out" 2>"$T/err"
rc=$?
want_rc 125
want_err "capgate-ambient: --install: DIR must be an absolute path"
[ -z "$(ls -A "$D/rel/sub")" ] || why="$why; written into the relative DIR: $(ls -A "$D/rel/sub")"
had_root_file=0
[ -e /capgate-ambient ] && had_root_file=1
run "$W" --install ""
want_rc 125
want_err "capgate-ambient: --install: DIR must be an absolute path"
if [ $had_root_file = 0 ] && [ -e /capgate-ambient ]; then
	why="$why; --install \"\" wrote /capgate-ambient"
	rm -f /capgate-ambient
fi
run "$W" --install "$D/link"
want_rc 1
want_err "capgate-ambient: $D/link: is a symbolic link (refused: name the directory itself)"
[ -z "$(ls -A "$D/target")" ] || why="$why; written through the symlink: $(ls -A "$D/target")"
verdict "--install: relative or empty DIR refused (125), symlinked DIR refused (1), nothing written"

# A full filesystem: the real error (ENOSPC), not EIO, and no partial file.
# 40 KiB is not a multiple of the 64 KiB copy buffer: the write that fills
# it is a short one, then the next fails with ENOSPC.
mkdir "$T/small"
begin
if mount -t tmpfs -o size=40k,mode=755 tmpfs "$T/small"; then
	run "$W" --install "$T/small"
	want_rc 1
	want_err "capgate-ambient: copy: No space left on device"
	[ -z "$(ls -A "$T/small")" ] || why="$why; left behind: $(ls -A "$T/small")"
	umount "$T/small"
else
	why="cannot mount a tmpfs"
fi
verdict "--install into a full tmpfs: exit 1, ENOSPC named, nothing left behind"

# No O_TMPFILE (a seccomp filter answers EOPNOTSUPP, as such a filesystem
# does): the named temp file (O_CREAT|O_EXCL|O_NOFOLLOW) path.
mkdir "$D/inst3"
begin
run "$L" --uid 0 --gid 0 --deny-tmpfile --bounding SETFCAP --caps SETFCAP -- "$W" --install "$D/inst3"
want_rc 0
[ "$(getcap "$D/inst3/capgate-ambient" | sed 's/.* //')" = "cap_net_bind_service,cap_net_raw=p" ] ||
	why="$why; getcap: $(getcap "$D/inst3/capgate-ambient")"
[ "$(ls -A "$D/inst3")" = capgate-ambient ] || why="$why; left behind: $(ls -A "$D/inst3")"
cmp -s "$W" "$D/inst3/capgate-ambient" || why="$why; content differs from the build"
run "$L" --uid 0 --gid 0 --deny-tmpfile --bounding SETFCAP --caps SETFCAP -- "$W" --install "$D/inst3" --caps=NET_RAW
want_rc 0
[ "$(getcap "$D/inst3/capgate-ambient" | sed 's/.* //')" = "cap_net_raw=p" ] ||
	why="$why; getcap after replacing: $(getcap "$D/inst3/capgate-ambient")"
[ "$(ls -A "$D/inst3")" = capgate-ambient ] || why="$why; left behind: $(ls -A "$D/inst3")"
verdict "--install without O_TMPFILE: named temp file, renamed over the old copy, nothing left"

# --- safe sysctls, each in a fresh network namespace --------------------------
PORT_START=net.ipv4.ip_unprivileged_port_start
PING=net.ipv4.ping_group_range
if [ ! -f /proc/sys/net/ipv4/ip_unprivileged_port_start ]; then
	skip "ip_unprivileged_port_start" "kernel < 4.11"
else
	begin
	netns "$PORT_START=80" -- "$L" -- "$P" bind:80 bind:79
	want_rc 0
	want_out "CapEff=$NONE"
	want_out "bind:80=ok"
	want_out "bind:79=EACCES"
	verdict "$PORT_START=80: uid 65534 with no capability binds :80 (not :79)"

	begin
	netns -- sh -c 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start; exec "$@"' sh \
		"$L" -- "$P" bind:80
	want_rc 0
	want_out 1024
	want_out "bind:80=EACCES"
	verdict "$PORT_START default (1024): uid 65534 cannot bind :80"
fi

G=4321
begin
netns "$PING=$G $G" -- "$L" --gid $G -- "$P" ping raw
want_rc 0
want_out "ping=ok"
want_out "raw=EPERM"
netns "$PING=$G $G" -- "$L" --gid $((G + 1)) -- "$P" ping
want_rc 0
want_out "ping=EACCES"
verdict "$PING=\"$G $G\": gid $G opens an ICMP echo socket (not raw), gid $((G + 1)) cannot"

begin
netns "$PING=$((G + 1)) $G" -- sh -c 'cat /proc/sys/net/ipv4/ping_group_range; exec "$@"' sh \
	"$L" --gid $G -- "$P" ping
want_rc 0
want_out "$(printf '1\t0')"
want_out "ping=EACCES"
verdict "an inverted $PING disables ICMP echo sockets"

# --- the values capgate computes (engine) -------------------------------------
# pod-sysctl.yaml runs as uid 1000, gid 4321, port 80, and adds NET_BIND_SERVICE
# and NET_RAW; the default policy strips NET_RAW, policy-sysctl.yaml allows it.
sysctl_of() { # sysctl_of NAME: its value in the mutated pod in $T/check.json
	jq -r --arg n "$1" '[.. | objects | select(has("sysctls")) | .sysctls[]?
		| select(.name == $n) | .value] | first // empty' "$T/check.json"
}
capgate_check() { # capgate_check TEST-NAME ARGS...: 0 when $T/check.json is usable
	name=$1
	shift
	"$CAPGATE" check -o json "$@" >"$T/check.json" 2>"$T/err"
	crc=$?
	if [ $crc -eq 2 ] && grep -q "not built yet" "$T/err"; then
		skip "$name" "capgate check not available"
		return 1
	fi
	# Exit 1 is "capgate would change this" (the point here); 2 is an error.
	if [ $crc -ne 1 ] || ! jq -e . "$T/check.json" >/dev/null 2>&1; then
		echo "not ok - $name"
		echo "#   capgate check $* exited $crc or printed no JSON"
		sed 's/^/#   err: /' "$T/err"
		failed=$((failed + 1))
		return 1
	fi
}
if [ ! -x "$CAPGATE" ] || ! command -v jq >/dev/null; then
	skip "capgate check sysctls applied to the kernel" "capgate or jq missing"
else
	name="capgate check: its $PORT_START lets the pod's uid bind :80 (not :79)"
	if capgate_check "$name" "$SRC/pod-sysctl.yaml"; then
		v=$(sysctl_of $PORT_START)
		begin
		if [ -z "$v" ]; then
			why="no $PORT_START in the mutated pod"
		else
			netns "$PORT_START=$v" -- "$L" --uid 1000 --gid 4321 -- "$P" bind:80 bind:79
			want_rc 0
			want_out "bind:80=ok"
			want_out "bind:79=EACCES"
		fi
		verdict "$name"
	fi
	name="capgate check: its $PING lets the pod's gid open ICMP echo sockets, no other gid"
	if capgate_check "$name" --policy "$SRC/policy-sysctl.yaml" "$SRC/pod-sysctl.yaml"; then
		v=$(sysctl_of $PING)
		begin
		if [ -z "$v" ]; then
			why="no $PING in the mutated pod"
		else
			netns "$PING=$v" -- "$L" --uid 1000 --gid 4321 -- "$P" ping
			want_rc 0
			want_out "ping=ok"
			netns "$PING=$v" -- "$L" --uid 1000 --gid 4322 -- "$P" ping
			want_rc 0
			want_out "ping=EACCES"
		fi
		verdict "$name"
	fi
fi

# --- the initContainer delivery exactly as the engine emits it -----------------
# capgate check injects the wrapper into a pod whose uid-1000 container adds
# NET_BIND_SERVICE; the installer it emits (its command, uid, capabilities,
# allowPrivilegeEscalation) is run as written, into a `medium: Memory`
# emptyDir (a tmpfs, mode 0777). Its --caps names what the wrapped container
# raises, so the copy carries cap_net_bind_service=p and nothing else: the
# app container (uid 65534, add NET_BIND_SERVICE and NET_RAW, no privilege
# escalation) binds :80 through it and cannot raise NET_RAW with it.
name="initContainer delivery exactly as the engine emits it: root with only SETFCAP installs a NET_BIND_SERVICE-only wrapper into a memory emptyDir, uid 65534 then binds :80"
if [ "$(id -u)" -ne 0 ]; then
	skip "$name" "not root"
elif ! command -v jq >/dev/null; then
	skip "$name" "jq missing"
else
	begin
	E=$T/emptydir
	mkdir -p "$E"
	printf '%s\n' 'apiVersion: capgate.dev/v1' 'kind: CapabilityPolicy' 'metadata: {name: kernel}' \
		'spec: {allowedCapabilities: [NET_BIND_SERVICE], nonRoot: {strategy: ambient, ambient: {image: reg/capgate:1}}}' \
		>"$T/policy.yaml"
	printf '%s\n' 'apiVersion: v1' 'kind: Pod' 'metadata: {name: web, namespace: default}' \
		'spec: {securityContext: {runAsUser: 1000}, containers: [{name: web, image: web, command: [/web],' \
		'  securityContext: {capabilities: {add: [NET_BIND_SERVICE]}}}]}' >"$T/pod.yaml"
	"$CAPGATE" check --policy "$T/policy.yaml" -o json "$T/pod.yaml" >"$T/pod.json" 2>"$T/err"
	inst='.spec.initContainers[0]'
	# The launcher takes what the spec says; the spec's own values are
	# checked, so a change in the engine's installer shows up here.
	fields='[.name, (.command | join(" ")), .securityContext.runAsUser, (.securityContext.capabilities.add | join(",")),
		(.securityContext.capabilities.drop | join(",")), .securityContext.allowPrivilegeEscalation,
		.volumeMounts[0].mountPath] | join("|")'
	spec=$(jq -r "$inst | $fields" "$T/pod.json" 2>>"$T/err")
	want_spec="capgate-ambient-install|/capgate/capgate-ambient --install /capgate-install --caps=NET_BIND_SERVICE|0|SETFCAP|ALL|false|/capgate-install"
	[ "$spec" = "$want_spec" ] || why="$why; installer spec is \"$spec\", want \"$want_spec\""
	vol=$(jq -c '.spec.volumes[0]' "$T/pod.json")
	[ "$vol" = '{"name":"capgate-ambient","emptyDir":{"medium":"Memory","sizeLimit":"4Mi"}}' ] ||
		why="$why; volume is $vol"
	app=$(jq -r '.spec.containers[0] | (.command[0:3] | join(" ")) + "|" + .volumeMounts[0].mountPath + "|" + (.volumeMounts[0].readOnly | tostring)' "$T/pod.json")
	[ "$app" = "/capgate/capgate-ambient --caps=NET_BIND_SERVICE --|/capgate|true" ] || why="$why; app container is \"$app\""
	if [ -z "$why" ] && mount -t tmpfs -o mode=0777,size=4m tmpfs "$E" 2>/dev/null; then
		# The command as emitted, with the emptyDir's mount point here;
		# uid 0, SETFCAP only and no_new_privs, as the spec above says.
		# shellcheck disable=SC2046 # the emitted command, one argument a word
		set -- $(jq -r "$inst"'.command[]' "$T/pod.json" | sed "s#^/capgate-install\$#$E#; s#^/capgate/capgate-ambient\$#$W#")
		netns -- "$L" --uid 0 --gid 0 --bounding SETFCAP --caps SETFCAP --nnp -- "$@"
		want_rc 0
		[ "$(getcap "$E/capgate-ambient" | sed 's/.* //')" = "cap_net_bind_service=p" ] ||
			why="$why; installed copy has $(getcap "$E/capgate-ambient")"
		[ -z "$why" ] && rt NET_BIND_SERVICE,NET_RAW --nnp -- "$E/capgate-ambient" --caps=NET_BIND_SERVICE -- "$P" bind:80
		[ -z "$why" ] && want_rc 0 && want_out "CapAmb=$NBS" && want_out "bind:80=ok"
		if [ -z "$why" ]; then
			rt NET_BIND_SERVICE,NET_RAW -- "$E/capgate-ambient" --caps=NET_RAW -- "$P"
			want_rc 126
			not_ran
		fi
		umount "$E"
	elif [ -z "$why" ]; then
		why="cannot mount a tmpfs"
	fi
	verdict "$name"
fi

exit $((failed > 0))
