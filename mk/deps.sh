#!/bin/sh
# Installs the Debian packages capgate needs that are missing, so that
# `make test` and `make run` work on a fresh machine. Usage: deps.sh [PKG...]
# (no arguments: the build and test set), or deps.sh --e2e [PKG...]: what
# tests/e2e needs on top, installed only when that suite can run here (so a
# machine that skips it gets no container runtime). Other targets name their
# own: make format and format-check (clang-format, Debian bookworm's is 14),
# make lint (shellcheck), make fuzz (clang, libclang-rt-14-dev).
set -eu
E2E_PKGS="containerd runc containernetworking-plugins python3-grpcio python3-grpc-tools
python3-yaml busybox-static"
if [ "${1:-}" = --e2e ]; then
	shift
	# shellcheck disable=SC2086 # one word per package
	set -- $E2E_PKGS "$@"
fi
PKGS=${*:-"gcc make pkg-config libc6-dev libjansson-dev libyaml-dev libmicrohttpd-dev libcmocka-dev
libssl-dev libgnutls28-dev openssl curl jq libcap2-bin iproute2 util-linux"}
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent or stale on a fresh machine.
# shellcheck disable=SC2086 # $SUDO is empty or sudo, $missing a word a package
$SUDO apt-get install -y -q $missing >/dev/null 2>&1 || {
	$SUDO apt-get update -q >/dev/null
	# shellcheck disable=SC2086 # as above
	$SUDO apt-get install -y -q $missing >/dev/null
}
