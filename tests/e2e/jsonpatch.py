#!/usr/bin/python3
"""Applies an RFC 6902 JSON patch to a JSON document the way kube-apiserver
does (evanphx/json-patch v4), written apart from capgate's own applier
(json/jsonpatch_apply.c) so that the e2e suite checks the webhook's patch against
an independent reading of the RFC rather than against itself.

  jsonpatch.py DOC.json PATCH.json > RESULT.json     (exit 1: patch rejected)
  jsonpatch.py --rfc-cases tests/data/rfc6902/*.json  (its own check)

Strict where the apiserver is: `add` needs the parent to exist, `remove`
and `replace` need the target to exist, array indices are decimal without
leading zeros and within bounds (`-` appends, for `add` only), pointers
escape `~` as `~0` and `/` as `~1`, a failed `test` rejects the patch."""
import copy
import json
import sys


class PatchError(Exception):
    pass


def tokens(pointer):
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError("pointer %r does not start with /" % pointer)
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def index(tok, size, allow_end):
    if tok == "-" and allow_end:
        return size
    if not tok.isdigit() or (len(tok) > 1 and tok[0] == "0"):
        raise PatchError("bad array index %r" % tok)
    i = int(tok)
    if i > size or (i == size and not allow_end):
        raise PatchError("array index %d out of bounds (%d)" % (i, size))
    return i


def parent(doc, pointer):
    toks = tokens(pointer)
    if not toks:
        raise PatchError("operation on the whole document")
    node = doc
    for tok in toks[:-1]:
        if isinstance(node, dict):
            if tok not in node:
                raise PatchError("%s: parent %r missing" % (pointer, tok))
            node = node[tok]
        elif isinstance(node, list):
            node = node[index(tok, len(node), False)]
        else:
            raise PatchError("%s: parent is not a container" % pointer)
    return node, toks[-1]


def get(doc, pointer):
    node, last = parent(doc, pointer)
    if isinstance(node, dict):
        if last not in node:
            raise PatchError("%s: missing" % pointer)
        return node[last]
    if isinstance(node, list):
        return node[index(last, len(node), False)]
    raise PatchError("%s: parent is not a container" % pointer)


def add(doc, pointer, value):
    node, last = parent(doc, pointer)
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, list):
        node.insert(index(last, len(node), True), value)
    else:
        raise PatchError("%s: parent is not a container" % pointer)


def remove(doc, pointer):
    node, last = parent(doc, pointer)
    if isinstance(node, dict):
        if last not in node:
            raise PatchError("remove %s: missing" % pointer)
        return node.pop(last)
    if isinstance(node, list):
        return node.pop(index(last, len(node), False))
    raise PatchError("%s: parent is not a container" % pointer)


def apply(doc, patch):
    doc = copy.deepcopy(doc)
    if not isinstance(patch, list):
        raise PatchError("a patch is a JSON array")
    for i, op in enumerate(patch):
        try:
            kind, path = op["op"], op["path"]
            if kind == "add":
                add(doc, path, copy.deepcopy(op["value"]))
            elif kind == "remove":
                remove(doc, path)
            elif kind == "replace":
                get(doc, path)
                node, last = parent(doc, path)
                node[last if isinstance(node, dict) else index(last, len(node), False)] = \
                    copy.deepcopy(op["value"])
            elif kind == "move":
                add(doc, path, remove(doc, op["from"]))
            elif kind == "copy":
                add(doc, path, copy.deepcopy(get(doc, op["from"])))
            elif kind == "test":
                if get(doc, path) != op["value"]:
                    raise PatchError("test %s failed" % path)
            else:
                raise PatchError("unknown op %r" % kind)
        except KeyError as e:
            raise PatchError("operation %d lacks %s" % (i, e)) from None
        except PatchError as e:
            raise PatchError("operation %d (%s): %s" % (i, op.get("op"), e)) from None
    return doc


def rfc_cases(paths):
    """Self-check on tests/data/rfc6902/*.json ({doc, patch, expected} or
    {doc, patch, error}): prints each disagreement, exit 1 if any."""
    bad = 0
    for path in paths:
        with open(path) as f:
            case = json.load(f)
        try:
            got = apply(case["doc"], case["patch"])
            if "error" in case:
                print("%s: applied, the RFC says it must fail" % path)
                bad += 1
            elif got != case["expected"]:
                print("%s: got %s" % (path, json.dumps(got)))
                bad += 1
        except PatchError as e:
            if "error" not in case:
                print("%s: refused: %s" % (path, e))
                bad += 1
    return 1 if bad or not paths else 0


def main():
    if sys.argv[1] == "--rfc-cases":
        return rfc_cases(sys.argv[2:])
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    with open(sys.argv[2]) as f:
        patch = json.load(f)
    try:
        out = apply(doc, patch)
    except PatchError as e:
        print("jsonpatch.py: %s" % e, file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
