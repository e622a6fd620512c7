"""compliant.py REVIEW ANSWER: exit 0 when the answer's JSON Patch applies
to the review's object as the apiserver applies it (RFC 6902 add, remove,
replace; RFC 6901 pointers) and leaves every container compliant with the
default policy: drops ALL, adds nothing but NET_BIND_SERVICE (exact
spelling), not privileged. Python's json keeps the last of duplicate keys,
as Go's decoder does."""
import base64, json, sys


def tokens(path):
    if path == "":
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def apply(doc, ops):
    for op in ops:
        t = tokens(op["path"])
        parent = doc
        for k in t[:-1]:
            parent = parent[int(k)] if isinstance(parent, list) else parent[k]
        k = t[-1]
        if op["op"] == "add":
            if isinstance(parent, list):
                parent.insert(len(parent) if k == "-" else int(k), op["value"])
            elif isinstance(parent, dict):
                parent[k] = op["value"]
            else:
                raise ValueError("add: parent of %s is not a container" % op["path"])
        elif op["op"] in ("remove", "replace"):
            key = int(k) if isinstance(parent, list) else k
            if isinstance(parent, dict) and k not in parent:
                raise KeyError(op["path"])
            if op["op"] == "remove":
                del parent[key]
            else:
                parent[key] = op["value"]
        else:
            raise ValueError(op["op"])
    return doc


def containers(obj):
    spec = obj.get("spec") if isinstance(obj, dict) else None
    specs = [spec]
    if isinstance(spec, dict):
        tmpl = spec.get("template")
        specs.append(tmpl.get("spec") if isinstance(tmpl, dict) else None)
        job = spec.get("jobTemplate")
        if isinstance(job, dict) and isinstance(job.get("spec"), dict):
            t = job["spec"].get("template")
            specs.append(t.get("spec") if isinstance(t, dict) else None)
    for s in specs:
        if not isinstance(s, dict):
            continue
        for key in ("containers", "initContainers", "ephemeralContainers"):
            cs = s.get(key)
            if cs is None:
                continue
            if not isinstance(cs, list):
                raise ValueError("%s is not a list" % key)
            yield from cs


def compliant(c):
    sc = c.get("securityContext") if isinstance(c, dict) else None
    caps = sc.get("capabilities") if isinstance(sc, dict) else None
    if not isinstance(caps, dict) or "ALL" not in (caps.get("drop") or []):
        return False
    if any(a != "NET_BIND_SERVICE" for a in caps.get("add") or []):
        return False
    return sc.get("privileged") is not True


def main():
    with open(sys.argv[1], "rb") as f:
        obj = json.loads(f.read())["request"]["object"]
    with open(sys.argv[2], "rb") as f:
        resp = json.loads(f.read())["response"]
    ops = json.loads(base64.b64decode(resp["patch"])) if "patch" in resp else []
    try:
        obj = apply(obj, ops)
        bad = [c for c in containers(obj) if not compliant(c)]
    except (KeyError, IndexError, ValueError, TypeError) as e:
        print("patch does not apply or object unreadable: %r" % e, file=sys.stderr)
        return 1
    for c in bad[:3]:
        print("not compliant: %s" % json.dumps(c)[:200], file=sys.stderr)
    return 1 if bad else 0


sys.exit(main())
