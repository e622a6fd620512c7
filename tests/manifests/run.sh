#!/bin/sh
# tests/manifests: the deployment manifests, `capgate manifests`, `capgate scc`
# and the Dockerfile, checked without a cluster or a Docker engine.
#  - every YAML file parses; manifests/base/policy.yaml is policy/default.yaml;
#  - kustomize builds the base and both overlays (`kubectl kustomize`, or a
#    `kustomize` binary);
#  - every object validates against its API schema (validate.mjs:
#    kubernetes-models, @kubernetes-models/cert-manager, our SCC schema) and
#    keeps the promises checks.mjs lists (replicas, PDB, probes, webhooks...);
#  - `capgate manifests` renders the same objects as the base; `capgate scc`
#    the overlay's SCC, and the data cases in scc-cases/;
#  - scc/: a simulator of OpenShift's SCC admission written from its code
#    (sim.mjs, pinned rule by rule by sim-test.mjs) over the default SCCs
#    OpenShift 4.19 and 4.20 ship (fixtures/);
#  - openshift-cases/: pods and workloads as their authors write them go
#    through SCC admission, capgate, SCC validation and capgate again
#    (sccsim.mjs), and so does every default SCC in the case matrix
#    (scc/matrix.mjs);
#  - the Dockerfile lints and its build steps run as a script
#    (mk/docker-build.sh).
# The node tooling is installed on demand (npm ci) into node_modules/ here.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CAPGATE=${CAPGATE:-$root/build/capgate}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root" || exit 1
failed=0

ok() { echo "ok - $1"; }
not_ok() {
	echo "not ok - $1"
	failed=1
}
# Runs a TAP-printing node script; its failures count as ours.
tap() {
	node "$@" || failed=1
}
# expect_exit CODE NAME CMD...: CMD must exit with CODE.
expect_exit() {
	want=$1
	name=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$name"; else
		not_ok "$name (exit $got, want $want)"
		sed 's/^/# /' "$tmp/err" | head -5
	fi
}

# ---- node tooling --------------------------------------------------------
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "ok - manifests # SKIP node and npm are not installed"
	exit 0
fi
if [ ! -f "$here/node_modules/.package-lock.json" ] ||
	! cmp -s "$here/package-lock.json" "$here/node_modules/.capgate-lock"; then
	if (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >"$tmp/npm.log" 2>&1); then
		cp "$here/package-lock.json" "$here/node_modules/.capgate-lock"
	else
		sed 's/^/# /' "$tmp/npm.log" | tail -5
		echo "not ok - npm ci in tests/manifests"
		exit 1
	fi
fi
V="$here/validate.mjs"
C="$here/checks.mjs"

# ---- files ---------------------------------------------------------------
# shellcheck disable=SC2046 # file names from the repository, no space
tap "$C" parse $(find manifests tests/manifests/scc-cases tests/manifests/openshift-cases -name '*.yaml' | sort)
# The SCC simulator (scc/sim.mjs, from OpenShift's code) against its own
# accepted and rejected pods, and the default SCC fixtures against the schema.
tap "$here/scc/sim-test.mjs"
if cmp -s manifests/base/policy.yaml policy/default.yaml; then
	ok "manifests/base/policy.yaml is policy/default.yaml"
else
	not_ok "manifests/base/policy.yaml is policy/default.yaml (copy it again)"
fi

# ---- kustomize -----------------------------------------------------------
if command -v kubectl >/dev/null 2>&1; then
	kustomize_build() { kubectl kustomize "$1"; }
	kz=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p')
elif command -v kustomize >/dev/null 2>&1; then
	kustomize_build() { kustomize build "$1"; }
	kz=$(kustomize version 2>/dev/null)
else
	kustomize_build() { return 127; }
	kz=""
fi
for dir in base overlays/cert-manager overlays/openshift; do
	name=$(basename "$dir")
	if [ -z "$kz" ]; then
		echo "ok - kustomize builds manifests/$dir # SKIP neither kubectl nor kustomize is installed"
		continue
	fi
	if kustomize_build "manifests/$dir" >"$tmp/$name.yaml" 2>"$tmp/err"; then
		ok "kustomize $kz builds manifests/$dir"
	else
		not_ok "kustomize $kz builds manifests/$dir"
		sed 's/^/# /' "$tmp/err" | head -5
		continue
	fi
	tap "$V" "$name" "$tmp/$name.yaml"
	tap "$C" "$name" "$tmp/$name.yaml"
done
# capgate's own webhook on OpenShift runs under restricted-v2, in 4.19 and 4.20.
if [ -f "$tmp/openshift.yaml" ]; then
	for v in 4.19 4.20; do tap "$here/sccsim.mjs" deployment "$v" restricted-v2 "$tmp/openshift.yaml"; done
fi

# ---- capgate manifests ---------------------------------------------------
if "$CAPGATE" manifests --namespace capgate >"$tmp/rendered.yaml" 2>"$tmp/err"; then
	ok "capgate manifests --namespace capgate"
	tap "$V" rendered "$tmp/rendered.yaml"
	tap "$C" base "$tmp/rendered.yaml" rendered
	[ -f "$tmp/base.yaml" ] && tap "$C" same "rendered = kustomize base" "$tmp/base.yaml" "$tmp/rendered.yaml"
else
	not_ok "capgate manifests --namespace capgate"
	sed 's/^/# /' "$tmp/err" | head -5
fi

# Everything filled in: a real CA file, a policy of our own, an image.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=capgate-test-ca -addext basicConstraints=critical,CA:TRUE \
	-keyout "$tmp/ca.key" -out "$tmp/ca.crt" >/dev/null 2>&1
pol=tests/manifests/scc-cases/netraw-rule/policy.yaml
args="--namespace team-a --policy $pol --ca-bundle $tmp/ca.crt --image reg.example/cg:1.2"
# shellcheck disable=SC2086 # the arguments, split on purpose
if "$CAPGATE" manifests $args >"$tmp/filled.yaml" 2>"$tmp/err" &&
	"$CAPGATE" manifests $args -o json >"$tmp/filled.json" 2>>"$tmp/err"; then
	ok "capgate manifests with namespace, policy, caBundle and image"
	tap "$V" filled "$tmp/filled.yaml" "$tmp/filled.json"
	tap "$C" base "$tmp/filled.yaml" filled
	tap "$C" same "-o json = -o yaml" "$tmp/filled.yaml" "$tmp/filled.json"
	# The apiserver reads caBundle as base64 of the PEM; the ConfigMap must
	# hold the policy byte for byte.
	# shellcheck disable=SC2016 # JavaScript, not shell: node reads it
	node -e '
		const fs = require("fs");
		const l = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).items;
		const ca = fs.readFileSync(process.argv[2]);
		const pol = fs.readFileSync(process.argv[3], "utf8");
		const hooks = l.filter((o) => o.kind.endsWith("WebhookConfiguration"));
		const res = [
			["caBundle is the CA file, base64", hooks.length === 2 && hooks.every((h) =>
				Buffer.from(h.webhooks[0].clientConfig.caBundle, "base64").equals(ca))],
			["image set", l.find((o) => o.kind === "Deployment").spec.template.spec.containers[0].image === "reg.example/cg:1.2"],
			["namespace team-a throughout", l.every((o) => o.metadata.namespace === undefined || o.metadata.namespace === "team-a")],
		];
		let bad = 0;
		for (const [n, okk] of res) { console.log(`${okk ? "ok" : "not ok"} - filled: ${n}`); bad += !okk; }
		process.exit(bad ? 1 : 0);
	' "$tmp/filled.json" "$tmp/ca.crt" "$pol" || failed=1
	# The policy names the image deployed: the wrapper is copied from it.
	tap "$C" policy-image "filled" "$tmp/filled.json" "$pol" reg.example/cg:1.2
	node -e 'const l = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).items;
		require("fs").writeFileSync(process.argv[2], l.find((o) => o.kind === "ConfigMap").data["policy.yaml"]);' \
		"$tmp/filled.json" "$tmp/filled-policy.yaml"
	expect_exit 0 "filled: the ConfigMap's policy loads" "$CAPGATE" check --policy "$tmp/filled-policy.yaml" /dev/null
	same=tests/manifests/scc-cases/ambient-init/policy.yaml
	"$CAPGATE" manifests --namespace a --policy $same --image registry.example.com/capgate:0.1.0 -o json >"$tmp/same.json" 2>"$tmp/err"
	tap "$C" policy-image "same image" "$tmp/same.json" $same registry.example.com/capgate:0.1.0
	"$CAPGATE" manifests --namespace a --policy $same --image reg.example/other:2 >/dev/null 2>"$tmp/err"
	if grep -q 'nonRoot.ambient.image is "registry.example.com/capgate:0.1.0", not --image "reg.example/other:2"' "$tmp/err"; then
		ok "manifests: warns when the policy names another image"
	else
		not_ok "manifests: warns when the policy names another image"
	fi
	"$CAPGATE" manifests --namespace a -o json >"$tmp/default.json" 2>/dev/null
	tap "$C" policy-image "default policy" "$tmp/default.json" policy/default.yaml capgate:0.1.0
else
	not_ok "capgate manifests with namespace, policy, caBundle and image"
	sed 's/^/# /' "$tmp/err" | head -5
fi

# Wrong input is refused with a reason, never rendered.
printf 'apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: x}\nspec:\n  allowedCapabilities: [NET_ADMN]\n' >"$tmp/bad-policy.yaml"
echo "not a certificate" >"$tmp/bad.crt"
expect_exit 2 "manifests: --namespace is required" "$CAPGATE" manifests
expect_exit 2 "manifests: refuses namespace Team_A" "$CAPGATE" manifests --namespace Team_A
expect_exit 2 "manifests: refuses an unknown option" "$CAPGATE" manifests --namespace a --nope
expect_exit 2 "manifests: an option without its value" "$CAPGATE" manifests --namespace
expect_exit 1 "manifests: refuses a bad policy" "$CAPGATE" manifests --namespace a --policy "$tmp/bad-policy.yaml"
if grep -q "bad-policy.yaml:5:" "$tmp/err"; then ok "manifests: the policy error names file:line"; else
	not_ok "manifests: the policy error names file:line"
	sed 's/^/# /' "$tmp/err"
fi
expect_exit 1 "manifests: refuses a caBundle that is no certificate" "$CAPGATE" manifests --namespace a --ca-bundle "$tmp/bad.crt"
expect_exit 0 "manifests --help" "$CAPGATE" manifests --help

# The checks themselves must be able to fail.
"$CAPGATE" manifests --namespace other >"$tmp/other.yaml" 2>/dev/null
if [ -f "$tmp/base.yaml" ] && ! node "$C" same x "$tmp/base.yaml" "$tmp/other.yaml" >/dev/null; then
	ok "comparison notices another namespace"
else not_ok "comparison notices another namespace"; fi
sed 's/containerPort: 8443/containerPort: "8443"/' "$tmp/rendered.yaml" >"$tmp/broken.yaml"
if ! node "$V" broken "$tmp/broken.yaml" >/dev/null; then ok "validator rejects a string port"; else
	not_ok "validator rejects a string port"; fi
sed 's/^- NET_BIND_SERVICE/- CAP_NET_BIND_SERVICE/' manifests/overlays/openshift/scc.yaml >"$tmp/broken-scc.yaml"
if ! node "$V" broken "$tmp/broken-scc.yaml" >/dev/null; then ok "validator rejects a CAP_ name in an SCC"; else
	not_ok "validator rejects a CAP_ name in an SCC"; fi
sed 's/failurePolicy: Fail/failurePolicy: Ignore/' "$tmp/rendered.yaml" >"$tmp/ignore.yaml"
if ! node "$C" base "$tmp/ignore.yaml" >/dev/null; then ok "checks reject failurePolicy Ignore"; else
	not_ok "checks reject failurePolicy Ignore"; fi

# ---- capgate scc ---------------------------------------------------------
osp=manifests/overlays/openshift/policy.yaml
if "$CAPGATE" scc --policy $osp --name capgate >"$tmp/scc.yaml" 2>"$tmp/err"; then
	ok "capgate scc --policy $osp"
	tap "$V" scc "$tmp/scc.yaml"
	tap "$C" same "overlay SCC = capgate scc" manifests/overlays/openshift/scc.yaml "$tmp/scc.yaml"
else
	not_ok "capgate scc --policy $osp"
	sed 's/^/# /' "$tmp/err" | head -5
fi
# The overlay's policy is the default one, and says the cluster is OpenShift.
tap "$C" overlay-policy $osp policy/default.yaml
for case in tests/manifests/scc-cases/*/; do
	case=${case%/}
	n=$(basename "$case")
	if "$CAPGATE" scc --policy "$case/policy.yaml" -o json >"$tmp/scc-$n.json" 2>"$tmp/err"; then
		tap "$V" "scc $n" "$tmp/scc-$n.json"
		tap "$C" subset "scc $n: expected fields" "$case/expected.yaml" "$tmp/scc-$n.json"
	else
		not_ok "capgate scc --policy $case/policy.yaml"
		sed 's/^/# /' "$tmp/err" | head -5
	fi
done
# The OpenShift ordering: SCC mutates, capgate, SCC validates, capgate again:
# the data cases, then every default SCC in the case matrix.
tap "$here/sccsim.mjs" "$CAPGATE" tests/manifests/openshift-cases
tap "$here/scc/matrix.mjs" "$CAPGATE"
expect_exit 2 "scc: --policy is required" "$CAPGATE" scc
expect_exit 2 "scc: refuses name Bad_Name" "$CAPGATE" scc --policy policy/default.yaml --name Bad_Name
expect_exit 1 "scc: refuses a bad policy" "$CAPGATE" scc --policy "$tmp/bad-policy.yaml"
# The engine trusts the SCC named by the policy's ownSCC only.
"$CAPGATE" scc --policy policy/default.yaml --name other >/dev/null 2>"$tmp/err"
if grep -q 'ownSCC is "capgate", not "other"' "$tmp/err"; then ok "scc: warns when --name is not the policy's ownSCC"; else
	not_ok "scc: warns when --name is not the policy's ownSCC"; fi
"$CAPGATE" scc --policy policy/default.yaml >/dev/null 2>"$tmp/err"
if [ ! -s "$tmp/err" ]; then ok "scc: no warning for the default name"; else
	not_ok "scc: no warning for the default name"; sed 's/^/# /' "$tmp/err"; fi

# ---- Dockerfile ----------------------------------------------------------
if [ -x "$here/node_modules/.bin/dockerfile-utils" ]; then
	"$here/node_modules/.bin/dockerfile-utils" lint Dockerfile >"$tmp/lint" 2>&1
	if [ ! -s "$tmp/lint" ]; then ok "Dockerfile lints clean (dockerfile-utils)"; else
		not_ok "Dockerfile lints clean (dockerfile-utils)"
		sed 's/^/# /' "$tmp/lint"
	fi
fi
if command -v hadolint >/dev/null 2>&1; then
	if hadolint Dockerfile >"$tmp/lint" 2>&1; then ok "hadolint Dockerfile"; else
		not_ok "hadolint Dockerfile"
		sed 's/^/# /' "$tmp/lint"
	fi
else
	echo "ok - hadolint Dockerfile # SKIP hadolint is in neither Debian bookworm nor npm"
fi
if sh mk/docker-build.sh --check >"$tmp/docker" 2>&1; then
	sed -n 's/^\(ok\|not ok\) - /&/p' "$tmp/docker"
	grep -q '^not ok' "$tmp/docker" && failed=1
	grep '^# ' "$tmp/docker"
else
	sed 's/^\([^on#]\)/# \1/' "$tmp/docker"
	not_ok "mk/docker-build.sh --check"
fi

exit $failed
