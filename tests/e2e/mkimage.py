#!/usr/bin/python3
"""Writes a one-layer OCI image archive (an OCI image layout in a tar, what
`ctr images import` reads) from a directory, offline.

  mkimage.py --name docker.io/e2e/probe:1 --rootfs DIR --out FILE.tar
             [--entrypoint JSON] [--cmd JSON] [--user U] [--env K=V]...

The layer is made by GNU tar with --xattrs --xattrs-include=security.capability,
so file capabilities set in DIR (setcap, capgate-ambient --install) are in
the layer as SCHILY.xattr.security.capability PAX records, which containerd's
applier writes back when it unpacks the layer. Owners are forced to 0:0 and
times to 0, so the same files give the same digests."""
import argparse
import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile

ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def blob(tar, data, media_type):
    """Adds DATA under blobs/sha256/ and returns its OCI descriptor."""
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo("blobs/sha256/" + digest)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
    return {"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}


def add_file(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--rootfs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--entrypoint", default="[]")
    ap.add_argument("--cmd", default="[]")
    ap.add_argument("--user", default="")
    ap.add_argument("--env", action="append", default=[])
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        layer_path = os.path.join(tmp, "layer.tar")
        subprocess.run(["tar", "--create", "--file", layer_path, "--directory", a.rootfs,
                        "--format=posix", "--xattrs", "--xattrs-include=security.capability",
                        "--numeric-owner", "--owner=0", "--group=0", "--sort=name",
                        "--mtime=@0", "--pax-option=delete=atime,delete=ctime", "."],
                       check=True)
        with open(layer_path, "rb") as f:
            layer = f.read()

    env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] + a.env
    config = {
        "architecture": ARCH,
        "os": "linux",
        "config": {"Env": env, "WorkingDir": "/"},
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
    }
    for key, value in (("Entrypoint", json.loads(a.entrypoint)), ("Cmd", json.loads(a.cmd)),
                       ("User", a.user)):
        if value:
            config["config"][key] = value
    tag = a.name.rsplit(":", 1)[1] if ":" in a.name.rsplit("/", 1)[-1] else "latest"

    tmp_out = a.out + ".tmp"
    with tarfile.open(tmp_out, "w", format=tarfile.PAX_FORMAT) as tar:
        layer_desc = blob(tar, layer, "application/vnd.oci.image.layer.v1.tar")
        config_desc = blob(tar, json.dumps(config, sort_keys=True).encode(),
                           "application/vnd.oci.image.config.v1+json")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": config_desc, "layers": [layer_desc]}
        manifest_desc = blob(tar, json.dumps(manifest, sort_keys=True).encode(),
                             "application/vnd.oci.image.manifest.v1+json")
        # io.containerd.image.name is the name `ctr images import` gives it.
        manifest_desc["annotations"] = {"io.containerd.image.name": a.name,
                                        "org.opencontainers.image.ref.name": tag}
        manifest_desc["platform"] = {"architecture": ARCH, "os": "linux"}
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                 "manifests": [manifest_desc]}
        add_file(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add_file(tar, "index.json", json.dumps(index, sort_keys=True).encode())
    os.replace(tmp_out, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
