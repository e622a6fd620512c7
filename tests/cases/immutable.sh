#!/bin/sh
# The immutability oracle for UPDATE cases (called by run.sh):
#   immutable.sh IN.json OUT.json PATCH.json OLD.json SUBRESOURCE
# IN.json and OUT.json: streams of the objects before and after capgate (as
# `capgate check -o json` prints them), PATCH.json: `check -o patch`,
# OLD.json: the stored objects (oldObject), SUBRESOURCE: "" or
# "ephemeralcontainers". Prints one line per field the apiserver holds
# immutable for that kind and operation that capgate touched, and exits 1
# when there is any:
#  - a Pod UPDATE: the whole spec (ValidatePodUpdate lets only images,
#    activeDeadlineSeconds, tolerations and scheduling gates change; capgate
#    writes none of them);
#  - pods/ephemeralcontainers: everything but the ephemeral containers that
#    oldObject does not hold ("existing ephemeral containers may not be
#    changed"; the other fields are silently dropped by the apiserver);
#  - a Job UPDATE: spec.template (batch ValidateImmutableField).
# Both the patch's paths and the objects it leaves are checked: the first
# does not depend on capgate's own JSON Patch applier.
set -u
in=$1 out=$2 patch=$3 old=$4 sub=$5
jq -n -r --slurpfile in "$in" --slurpfile out "$out" --slurpfile patch "$patch" \
	--slurpfile old "$old" --arg sub "$sub" '
def objs: [.[] | if ((.kind // "") | endswith("List")) and (.items | type) == "array"
	then .items[] else . end];
def key: "\(.kind)/\(.metadata.namespace // "")/\(.metadata.name // "")";
($in | objs) as $i | ($out | objs) as $o | ($old | objs) as $old
| def old_names($a): [($old[] | select(key == ($a | key)) | .spec.ephemeralContainers // [])[]
	| .name];
  # The objects as left.
  ([range(0; $i | length) as $k | $i[$k] as $a | $o[$k] as $b
    | if $a.kind == "Pod" and $sub == "" then
        (if $a.spec != $b.spec then "\($a | key): spec changed on UPDATE" else empty end)
      elif $a.kind == "Pod" then
        (if ($a | del(.spec.ephemeralContainers)) != ($b | del(.spec.ephemeralContainers))
         then "\($a | key): changed beyond its ephemeral containers" else empty end),
        (old_names($a) as $names | ($a.spec.ephemeralContainers // [])[]
         | select(.name as $n | $names | index($n)) | . as $e
         | if ([$b.spec.ephemeralContainers[] | select(.name == $e.name)] | first) != $e
           then "\($a | key): existing ephemeral container \($e.name) changed" else empty end)
      elif $a.kind == "Job" then
        (if $a.spec.template != $b.spec.template then "\($a | key): spec.template changed"
         else empty end)
      else empty end]
  # The patch operations.
  + [$patch[0][] | . as $e | ($i[] | select(.kind == $e.kind and .metadata.name == $e.name))
     as $a | $e.patch[] | .path as $p
     | if $e.kind == "Pod" and $sub == "" then "\($a | key): patch op on \($p)"
       elif $e.kind == "Pod" then
         ($p | capture("^/spec/ephemeralContainers/(?<n>[0-9]+)(/|$)") // null) as $m
         | if $m == null then "\($a | key): patch op outside the ephemeral containers: \($p)"
           elif (old_names($a) | index($a.spec.ephemeralContainers[$m.n | tonumber].name))
           then "\($a | key): patch op on an existing ephemeral container: \($p)"
           else empty end
       elif $e.kind == "Job" and ($p | startswith("/spec/template")) then
         "\($a | key): patch op on the immutable template: \($p)"
       else empty end])
| .[]' >"$out.problems" || exit 2
cat "$out.problems"
[ ! -s "$out.problems" ]
