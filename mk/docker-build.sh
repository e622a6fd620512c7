#!/bin/sh
# The steps of the Dockerfile that are not Docker itself, so that the same
# code builds the image and is tested where no Docker engine runs.
#
#   docker-build.sh build OUT          make the two binaries into OUT
#   docker-build.sh rootfs OUT ROOTFS  lay out the image's files in ROOTFS:
#        the binaries, and the shared libraries capgate loads (ldd) taken
#        whole from their installed Debian packages, with each package's
#        status.d entry and copyright so that image scanners still see them;
#        packages the runtime base image already has are left out
#   docker-build.sh install-caps DIR   the final stage's one RUN step
#   docker-build.sh --check            all of the above in a temp dir, then
#        checks the result (TAP lines) and prints the payload size
set -eu

# gcr.io/distroless/base-debian12 ships these; copying ours over them would
# fork the base's own files.
BASE_PKGS="libc6 libssl3"
CAPS_WANTED="cap_net_bind_service,cap_net_raw=p"

build() {
	make --no-print-directory -s BUILD="$1" "$1/capgate" "$1/capgate-ambient"
}

# The Debian package that owns a library path as ldd prints it (on merged-usr
# bookworm dpkg knows /lib/... and ldd may print either spelling).
owner() {
	for f in "$1" "$(readlink -f "$1")" "/usr$1"; do
		p=$(dpkg-query -S "$f" 2>/dev/null | sed -n '1s/:.*//p')
		[ -n "$p" ] && echo "$p" && return 0
	done
	return 1
}

runtime_pkgs() {
	pkgs=""
	for lib in $(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
		p=$(owner "$lib") || { echo "docker-build.sh: no package owns $lib" >&2; return 1; }
		pkgs="$pkgs ${p%:*}"
	done
	# shellcheck disable=SC2086 # one word per package: split on purpose
	printf '%s\n' $pkgs | sort -u
}

rootfs() {
	out=$1
	root=$2
	mkdir -p "$root/usr/local/bin" "$root/capgate" "$root/var/lib/dpkg/status.d" \
		"$root/usr/lib/x86_64-linux-gnu"
	install -m 0755 "$out/capgate" "$root/usr/local/bin/capgate"
	# A plain copy: the final stage gives it its capability (install-caps).
	install -m 0755 "$out/capgate-ambient" "$root/capgate/capgate-ambient"
	pkgs=$(runtime_pkgs "$out/capgate")
	for p in $pkgs; do
		case " $BASE_PKGS " in *" $p "*) continue ;; esac
		# Shared objects only, all under /usr/lib whatever dpkg calls the
		# path: a /lib directory in ROOTFS would replace a merged-usr
		# base's /lib symlink.
		dpkg-query -L "$p" | grep -E '\.so(\.[0-9]+)*$' | while read -r f; do
			[ -e "$f" ] || [ -L "$f" ] || continue
			cp -P "$f" "$root/usr/lib/x86_64-linux-gnu/"
		done
		if [ -f "/usr/share/doc/$p/copyright" ]; then
			mkdir -p "$root/usr/share/doc/$p"
			cp "/usr/share/doc/$p/copyright" "$root/usr/share/doc/$p/"
		fi
		dpkg-query -s "$p" >"$root/var/lib/dpkg/status.d/$p"
	done
}

# COPY does not reliably keep security.capability (it depends on the builder
# and the storage driver), so the final stage writes it where the file is.
# capgate-ambient --install writes the same vfs_cap_data as
# `setcap cap_net_bind_service,cap_net_raw+p` (checked by --check), and needs
# neither a shell nor libcap in the image.
install_caps() {
	"$1/capgate-ambient" --install "$1"
}

check() {
	# getfattr (attr) to compare the capability bytes; setcap, getcap
	# (libcap2-bin) and setpriv (util-linux) are in the default set.
	sh mk/deps.sh attr libcap2-bin util-linux
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	chmod 755 "$tmp"
	ok() { echo "ok - docker: $1"; }
	not_ok() {
		echo "not ok - docker: $1"
		bad=1
	}
	bad=0
	# The build stage's context as a fresh clone has it: the committed tree
	# (work in progress elsewhere in the working tree stays out).
	mkdir "$tmp/src"
	git archive HEAD | tar -x -C "$tmp/src"
	if (cd "$tmp/src" && timeout 300 make --no-print-directory -s BUILD="$tmp/out" "$tmp/out/capgate" "$tmp/out/capgate-ambient") >"$tmp/log" 2>&1; then ok "build stage: make"; else
		not_ok "build stage: make"
		sed 's/^/# /' "$tmp/log" | tail -5
		return 1
	fi
	if pkgs=$(runtime_pkgs "$tmp/out/capgate") && rootfs "$tmp/out" "$tmp/rootfs"; then
		# shellcheck disable=SC2086 # one word per package: split on purpose
		ok "build stage: rootfs from Debian packages: $(printf '%s ' $pkgs)"
	else
		not_ok "build stage: rootfs"
		return 1
	fi
	install_caps "$tmp/rootfs/capgate" >/dev/null
	got=$(getcap "$tmp/rootfs/capgate/capgate-ambient" | sed 's/^[^ ]* //')
	if [ "$got" = "$CAPS_WANTED" ]; then ok "final stage: capgate-ambient has $got"; else
		not_ok "final stage: capgate-ambient has '$got', want $CAPS_WANTED"; fi
	cp "$tmp/out/capgate-ambient" "$tmp/setcap-copy"
	setcap cap_net_bind_service,cap_net_raw+p "$tmp/setcap-copy"
	if [ "$(getfattr --absolute-names --only-values -n security.capability "$tmp/setcap-copy" | od -An -tx1)" = \
		"$(getfattr --absolute-names --only-values -n security.capability "$tmp/rootfs/capgate/capgate-ambient" | od -An -tx1)" ]; then
		ok "final stage: --install wrote the bytes setcap writes"
	else not_ok "final stage: --install wrote the bytes setcap writes"; fi
	# The image's user gets exactly the capability through the wrapper when
	# the runtime grants it in the bounding set, as Kubernetes does with
	# capabilities.add.
	amb=$(setpriv --reuid 65532 --regid 65532 --clear-groups --inh-caps=-all \
		--bounding-set=-all,+net_bind_service \
		"$tmp/rootfs/capgate/capgate-ambient" --caps=NET_BIND_SERVICE -- \
		sh -c 'sed -n "s/^CapAmb:\t//p" /proc/self/status' 2>&1) || true
	if [ "$amb" = "0000000000000400" ]; then ok "final stage: uid 65532 gets NET_BIND_SERVICE in ambient"; else
		not_ok "final stage: uid 65532 gets NET_BIND_SERVICE in ambient (got '$amb')"; fi
	# The libraries in ROOTFS are the ones capgate resolves to.
	if LD_LIBRARY_PATH="$tmp/rootfs/usr/lib/x86_64-linux-gnu" "$tmp/rootfs/usr/local/bin/capgate" --help >/dev/null; then
		ok "final stage: capgate runs against the rootfs libraries"
	else not_ok "final stage: capgate runs against the rootfs libraries"; fi
	# Payload: the binaries plus every library ldd resolves (the base's too),
	# each file once, and what the image adds on top of the distroless base.
	libs=$(ldd "$tmp/out/capgate" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
		xargs -n1 readlink -f | sort -u)
	# shellcheck disable=SC2086 # one library path a word
	total=$(du -cb -L "$tmp/out/capgate" "$tmp/out/capgate-ambient" $libs | tail -1 | cut -f1)
	added=$(du -sb "$tmp/rootfs" | cut -f1)
	echo "# payload (binaries + ldd libraries): $total bytes ($((total / 1024)) KiB)"
	echo "# added on top of the base image (rootfs): $added bytes ($((added / 1024)) KiB)"
	echo "# capgate $(stat -c %s "$tmp/out/capgate") bytes, capgate-ambient $(stat -c %s "$tmp/out/capgate-ambient") bytes"
	return $bad
}

case "${1:-}" in
build) build "$2" ;;
rootfs) rootfs "$2" "$3" ;;
install-caps) install_caps "$2" ;;
--check) check ;;
*)
	echo "usage: docker-build.sh build OUT | rootfs OUT ROOTFS | install-caps DIR | --check" >&2
	exit 2
	;;
esac
