#!/bin/sh
# capgate check over manifests written by others (each fixture's header
# names its upstream repository, path and commit): ingress-nginx's deploy
# manifests, kube-prometheus, kubernetes/examples. Under the default policy
# under one that allows what they ask for, and under one that denies what it
# does not allow, for every fixture:
#  - capgate judges every object and its own patches apply (exit 0 or 1;
#    check exits 2 when a patch of its own does not apply);
#  - idempotence: the objects as capgate leaves them need nothing more;
#  - no mutation removes a capability a container asked for and the policy
#    allows (nor NET_BIND_SERVICE from a root container's declared low
#    port), and every container of an object not denied drops ALL after.
# Prints the counts (objects, patched, warned, denied) as TAP comments.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." || exit 1
CAPGATE=${CAPGATE:-build/capgate}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
failed=0
ok() { echo "ok - $1"; }
bad() {
	echo "not ok - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | head -8 | sed 's/^/#   /'
	failed=$((failed + 1))
}
printf 'apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: identity}\nspec: {mode: audit}\n' >"$T/identity.yaml"
# What these manifests ask for, all allowed (node-exporter SYS_TIME,
# Cassandra and Elasticsearch IPC_LOCK, ingress-nginx NET_BIND_SERVICE).
printf 'apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: permissive}\nspec:\n  allowedCapabilities: [NET_BIND_SERVICE, NET_RAW, SYS_TIME, IPC_LOCK]\n' >"$T/permissive.yaml"
printf 'apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: deny}\nspec:\n  allowedCapabilities: [NET_BIND_SERVICE]\n  onDisallowed: deny\n' >"$T/deny.yaml"

# The capability oracle: IN and OUT are the objects before and after,
# ALLOWED the policy's allowedCapabilities, DENIED the "Kind ns/name" of
# the objects capgate denied (one a line). Prints one line per loss.
oracle() {
	jq -n -r --slurpfile in "$1" --slurpfile out "$2" --argjson allowed "$3" \
		--rawfile denied "${4:-/dev/null}" '
	def objs: [.[] | if ((.kind // "") | endswith("List")) then .items[] else . end];
	def spec: if .kind == "Pod" then .spec
		elif .kind == "PodTemplate" then .template.spec
		elif .kind == "CronJob" then .spec.jobTemplate.spec.template.spec
		else .spec.template.spec end;
	def canon: ascii_upcase | sub("^CAP_"; "");
	def root($s): ((.securityContext.runAsUser // $s.securityContext.runAsUser) as $u
		| if $u != null then $u == 0
		  else ((.securityContext.runAsNonRoot // $s.securityContext.runAsNonRoot) != true) end);
	($in | objs) as $i | ($out | objs) as $o
	| range(0; $i | length) as $k | ($i[$k] | spec) as $a | ($o[$k] | spec) as $b
	| ($i[$k] | "\(.kind) \(.metadata.namespace // "" | if . == "" then "" else . + "/" end)\(.metadata.name)") as $key
	| select($a != null and ($i[$k].metadata.annotations["kubernetes.io/config.mirror"] == null))
	| select($denied | split("\n") | index($key) | not)
	| ["initContainers", "containers"][] as $l
	| range(0; ($a[$l] // []) | length) as $n
	| $a[$l][$n] as $c | $b[$l][$n] as $d
	| ($c.securityContext.capabilities // {}) as $cc
	| ([$cc.drop // [] | .[] | canon]) as $dropped
	| ([$cc.add // [] | .[] | canon] - $dropped) as $asked
	| ($d.securityContext.capabilities // {}) as $dc
	| "\($i[$k].kind)/\($i[$k].metadata.name) \($l)/\($c.name)" as $who
	| (($asked | map(select(. as $x | $allowed | index($x)))) - ($dc.add // [])
	   | select(length > 0) | "\($who): lost \(join(","))"),
	  (if ($dc.drop // []) | index("ALL") | not then "\($who): does not drop ALL" else empty end),
	  (if ($c | root($a)) and (($cc.drop // []) | map(canon) | index("ALL") | not)
	      and ([$c.ports // [] | .[].containerPort | select(. > 0 and . < 1024)] | length > 0)
	      and ($allowed | index("NET_BIND_SERVICE")) and ($dropped | index("NET_BIND_SERVICE") | not)
	      and (($dc.add // []) | index("NET_BIND_SERVICE") | not)
	   then "\($who): root with a port below 1024 lost NET_BIND_SERVICE" else empty end)'
}

for policy in default permissive deny; do
	case $policy in
	default) set -- && allowed='["NET_BIND_SERVICE"]' ;;
	permissive) set -- --policy "$T/permissive.yaml" && allowed='["NET_BIND_SERVICE","NET_RAW","SYS_TIME","IPC_LOCK"]' ;;
	deny) set -- --policy "$T/deny.yaml" && allowed='["NET_BIND_SERVICE"]' ;;
	esac
	for f in "$here"/*.yaml; do
		n=$(basename "$f" .yaml)
		label="$n ($policy policy)"
		"$CAPGATE" check "$@" "$f" >"$T/report" 2>"$T/err"
		rc=$?
		"$CAPGATE" check "$@" -o json "$f" >"$T/out.json" 2>/dev/null
		"$CAPGATE" check "$@" -o yaml "$f" >"$T/out.yaml" 2>/dev/null
		"$CAPGATE" check --policy "$T/identity.yaml" -o json "$f" >"$T/in.json" 2>/dev/null
		if [ $rc -eq 0 ] || [ $rc -eq 1 ]; then
			ok "$label: every object judged, every patch applies"
		else
			bad "$label: every object judged, every patch applies" "$(cat "$T/err")"
			continue
		fi
		"$CAPGATE" check "$@" -o yaml "$T/out.yaml" >"$T/again.yaml" 2>/dev/null
		rc2=$?
		denied=$(grep -c ': denied$' "$T/report")
		if { [ "$rc2" -eq 0 ] || [ "$denied" -gt 0 ]; } && cmp -s "$T/out.yaml" "$T/again.yaml"; then
			ok "$label: idempotent"
		else
			bad "$label: idempotent" "exit $rc2; $(diff "$T/out.yaml" "$T/again.yaml" | head -5)"
		fi
		sed -n 's/^[^ ].*: \([A-Za-z]* [^ ]*\): denied$/\1/p' "$T/report" >"$T/denied"
		if losses=$(oracle "$T/in.json" "$T/out.json" "$allowed" "$T/denied") && [ -z "$losses" ]; then
			ok "$label: no container loses a capability it asked for and the policy allows"
		else
			bad "$label: no container loses a capability it asked for and the policy allows" "$losses"
		fi
		objects=$(sed -n 's/^\([0-9]*\) objects\{0,1\}:.*/\1/p' "$T/report")
		patched=$(grep -c ': would be patched' "$T/report")
		warned=$(awk '/^[^ ].*: (Pod|Deployment|ReplicaSet|StatefulSet|DaemonSet|Job|CronJob|ReplicationController|PodTemplate) /{o=$0; next} /^  warning:/ && o {n++; o=""} END {print n+0}' "$T/report")
		echo "# $label: $objects objects, $patched patched, $warned warned, $denied denied"
	done
done

# The oracle must be able to fail: a patch that strips an allowed capability.
f="$here/ingress-nginx.yaml"
"$CAPGATE" check --policy "$T/identity.yaml" -o json "$f" >"$T/in.json" 2>/dev/null
printf 'apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: none}\nspec: {allowedCapabilities: []}\n' >"$T/none.yaml"
"$CAPGATE" check --policy "$T/none.yaml" -o json "$f" >"$T/out.json" 2>/dev/null
if oracle "$T/in.json" "$T/out.json" '["NET_BIND_SERVICE"]' | grep -q 'controller: lost NET_BIND_SERVICE'; then
	ok "the oracle notices a lost NET_BIND_SERVICE"
else
	bad "the oracle notices a lost NET_BIND_SERVICE"
fi
[ $failed -eq 0 ]
