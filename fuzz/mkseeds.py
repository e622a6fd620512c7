#!/usr/bin/env python3
"""Writes fuzz/corpus/review/ from the test data: tests/data/review-pod.json
and every object of tests/cases/*/input.yaml wrapped in an AdmissionReview.
Updates carry the case's old.yaml object as oldObject and its subResource.
Each seed's first byte picks fuzz_review's policy ('0' default, '1' sysctl,
'2' ambient, '3' deny, '4' warn; '5'..'9' the same with the object alone,
after a byte that picks its kind). Run from the repository root; commit the
result (at most 100 files).
"""
import glob
import json
import os

import yaml

OUT = "fuzz/corpus/review"
# Cases whose own policy is close to one of fuzz_review's policies.
POLICY_OF = {"ambient": 2, "sysctl": 1, "deny": 3, "warn": 4, "ping": 1, "netraw": 2}


def review(obj, uid, op="CREATE", sub=None, old=None):
    req = {
        "uid": uid,
        "kind": {"group": "", "version": "v1", "kind": obj.get("kind", "Pod")},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": (obj.get("metadata") or {}).get("namespace", "default"),
        "operation": op,
        "object": obj,
    }
    if sub:
        req["subResource"] = sub
    if old is not None:
        req["oldObject"] = old
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}


KINDS = ["Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob",
         "PodTemplate", "ReplicationController"]


def write(name, sel, doc):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([ord("0") + sel]) + json.dumps(doc, separators=(",", ":")).encode())


def write_object(name, sel, obj):
    """The object alone; its kind byte says CREATE in namespace default."""
    kind = obj.get("kind", "Pod")
    k = KINDS.index(kind) if kind in KINDS else 0
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([ord("5") + sel, k]) + json.dumps(obj, separators=(",", ":")).encode())


def load(path):
    """Every object of a YAML file, List items included; none when absent."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if isinstance(d, dict)]
    items = []
    for d in docs:
        items.extend(d.get("items") or [] if d.get("kind", "").endswith("List") else [d])
    return items


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in glob.glob(OUT + "/*"):
        os.remove(old)
    with open("tests/data/review-pod.json") as f:
        pod = json.load(f)
    for sel in range(5):
        write("review-pod-%d" % sel, sel, pod)
    objects = []
    for case in sorted(glob.glob("tests/cases/*/input.yaml")):
        name = case.split("/")[2]
        sel = next((v for k, v in POLICY_OF.items() if k in name), 0)
        args = ""
        if os.path.exists("tests/cases/%s/args" % name):
            args = open("tests/cases/%s/args" % name).read()
        op = "UPDATE" if "UPDATE" in args else "CREATE"
        sub = "ephemeralcontainers" if "ephemeralcontainers" in args else None
        items = load("tests/cases/%s/input.yaml" % name)
        olds = load("tests/cases/%s/old.yaml" % name)
        # One seed per case (the cases outnumber the seeds allowed), the
        # stored object as oldObject for updates.
        for i, obj in enumerate(items[:1]):
            old = next((o for o in olds if o.get("kind") == obj.get("kind") and
                        (o.get("metadata") or {}).get("name") ==
                        (obj.get("metadata") or {}).get("name")), None)
            write("%s-%d" % (name, i), sel, review(obj, "uid-%s-%d" % (name, i), op, sub, old))
            if op == "CREATE":
                objects.append(("obj-%s" % name, sel, obj))
    # The ephemeralcontainers subresource, once.
    eph = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"name": "a", "image": "x"}],
                    "ephemeralContainers": [{"name": "dbg", "image": "busybox:1",
                                             "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}]}}
    write("ephemeral-subresource", 3, review(eph, "uid-eph", "UPDATE", "ephemeralcontainers"))
    for name, sel, obj in objects[: 100 - len(os.listdir(OUT))]:
        write_object(name, sel, obj)


main()
assert len(os.listdir(OUT)) <= 100, "too many seeds"
