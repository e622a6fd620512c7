#!/bin/sh
# Exec overhead of capgate-ambient (not part of `make test`; needs root):
# N runs of launcher -> capgate-ambient -> /bin/true against N runs of
# launcher -> /bin/true, as uid 65534 with NET_BIND_SERVICE like a runtime.
# Usage: sh tests/kernel/bench.sh [N]   (after sh tests/kernel/run.sh built
# the launcher into $BUILD/kernel).
set -eu
cd "$(dirname "$0")/../.."
N=${1:-1000}
BUILD=${BUILD:-build}
L=$BUILD/kernel/launcher
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
cp "$BUILD/capgate-ambient" "$T/"
setcap cap_net_bind_service,cap_net_raw+p "$T/capgate-ambient"
loop() { # loop CMD...: prints the wall time of N runs in ms
	s=$(date +%s%N)
	i=0
	while [ $i -lt "$N" ]; do
		"$L" --bounding NET_BIND_SERVICE --caps NET_BIND_SERVICE -- "$@" || exit 1
		i=$((i + 1))
	done
	echo $((($(date +%s%N) - s) / 1000000))
}
loop /bin/true >/dev/null # warm the page cache
plain=$(loop /bin/true)
wrapped=$(loop "$T/capgate-ambient" --caps=NET_BIND_SERVICE -- /bin/true)
strip -o "$T/stripped" "$BUILD/capgate-ambient"
echo "size: $(wc -c <"$BUILD/capgate-ambient") bytes ($(wc -c <"$T/stripped") stripped)"
echo "$N x launcher /bin/true: ${plain} ms ($((plain * 1000 / N)) us/run)"
echo "$N x launcher capgate-ambient /bin/true: ${wrapped} ms ($((wrapped * 1000 / N)) us/run)"
echo "overhead: $(((wrapped - plain) * 1000 / N)) us per exec"
