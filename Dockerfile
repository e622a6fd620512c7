# capgate's image: the webhook server /usr/local/bin/capgate and the ambient
# wrapper /capgate/capgate-ambient (file capability
# cap_net_bind_service,cap_net_raw+p), run as uid 65532.
#
#   docker build -t capgate:0.1.0 .
#
# Every step that is not Docker itself lives in mk/docker-build.sh, which
# tests/manifests runs without a Docker engine (`sh mk/docker-build.sh
# --check`: build, rootfs, capability, payload size).

# ---- build: Debian bookworm, the same toolchain and -dev packages as CI ----
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      gcc make pkg-config libc6-dev libjansson-dev libyaml-dev \
      libmicrohttpd-dev libssl-dev libgnutls28-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# /rootfs: the two binaries, and the Debian packages of every library
# capgate loads except libc6 and libssl3, which the runtime base has.
RUN sh mk/docker-build.sh build /out \
 && sh mk/docker-build.sh rootfs /out /rootfs

# ---- runtime ----------------------------------------------------------------
# distroless/base-debian12 rather than debian:bookworm-slim: glibc, libssl3
# and CA certificates from the same Debian 12, and nothing else; no shell, no
# package manager, no coreutils for an attacker who gets code execution in
# the webhook to use, and ~9 MB added instead of a ~75 MB slim base. The
# libraries copied from /rootfs keep their dpkg status.d entries, so image
# scanners still see (and can flag) them. The :nonroot tag's user is 65532,
# the uid the manifests run as.
FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /rootfs/ /
# The file capability is written here, in the final stage, and not set in
# the build stage: whether COPY carries the security.capability xattr depends
# on the builder and storage driver, and a wrapper without it fails closed at
# every start. There is no shell nor setcap here; the wrapper's own --install
# writes the same bytes as `setcap cap_net_bind_service,cap_net_raw+p` (the
# --check above compares them) and needs CAP_SETFCAP, which a build step run
# as root has.
USER 0:0
RUN ["/capgate/capgate-ambient", "--install", "/capgate"]
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/capgate"]
CMD ["--help"]
