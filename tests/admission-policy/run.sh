#!/bin/sh
# tests/admission-policy: `capgate admission-policy` checked against the
# webhook's engine (README.md here says how).
#  - the command: versions, errors that name the option or key, comments and
#    annotations for what is not rendered, one policy per mode;
#  - every rendered object validates against the Kubernetes OpenAPI schema
#    (kubernetes-models), YAML and JSON outputs agree;
#  - image globs: CEL matches() against glibc fnmatch();
#  - the differential test (run.mjs): data cases, hostile spellings in every
#    kind, and seeded generated requests through the engine and through the
#    CEL (@bufbuild/cel), verdicts, JSON Patch results and re-invocation.
# ADMISSION_GENERATED (default 2000), ADMISSION_SECONDS (default 20) and
# ADMISSION_SEED (default: time) size the generated part; `make
# admission-policy-long` runs a large one.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
CAPGATE=${CAPGATE:-$BUILD/capgate}
DRIVER=${DRIVER:-$BUILD/tests/admission-driver}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root" || exit 1
failed=0
ok() { echo "ok - $1"; }
not_ok() {
	echo "not ok - $1"
	failed=1
}
tap() { node "$@" || failed=1; }
# expect CODE NAME CMD...: CMD exits with CODE; its stderr is kept in $tmp/err.
expect() {
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
# has NAME FILE PATTERN: FILE holds a line matching PATTERN (grep -E).
has() {
	if grep -Eq -- "$3" "$2"; then ok "$1"; else
		not_ok "$1"
		head -5 "$2" | sed 's/^/# /'
	fi
}

# ---- node tooling: installed when missing, never skipped -----------------
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	sh "$root/mk/deps.sh" nodejs npm >/dev/null 2>&1
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "not ok - admission-policy: node and npm are missing and could not be installed"
	exit 1
fi
if [ ! -f "$here/node_modules/.package-lock.json" ] ||
	! cmp -s "$here/package-lock.json" "$here/node_modules/.capgate-lock"; then
	if (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >"$tmp/npm.log" 2>&1); then
		cp "$here/package-lock.json" "$here/node_modules/.capgate-lock"
	else
		sed 's/^/# /' "$tmp/npm.log" | tail -5
		echo "not ok - npm ci in tests/admission-policy"
		exit 1
	fi
fi
if [ ! -x "$DRIVER" ]; then
	echo "not ok - $DRIVER is missing (make $BUILD/tests/admission-driver)"
	exit 1
fi
C="$here/checks.mjs"

# ---- the command ---------------------------------------------------------
expect 0 "admission-policy --help" "$CAPGATE" admission-policy --help
expect 2 "admission-policy refuses an unknown option" "$CAPGATE" admission-policy --nope
expect 2 "admission-policy refuses a stray argument" "$CAPGATE" admission-policy policy.yaml
expect 2 "admission-policy refuses -o xml" "$CAPGATE" admission-policy -o xml
expect 2 "admission-policy refuses --kubernetes-version 30" "$CAPGATE" admission-policy --kubernetes-version 30
expect 2 "admission-policy refuses --name Capgate_X" "$CAPGATE" admission-policy --name Capgate_X
expect 1 "admission-policy: no ValidatingAdmissionPolicy v1 before 1.30" "$CAPGATE" admission-policy --kubernetes-version 1.29
has "the 1.29 error names --kubernetes-version" "$tmp/err" "--kubernetes-version 1.29: ValidatingAdmissionPolicy"
expect 1 "admission-policy: no MutatingAdmissionPolicy rendered for 1.33 (alpha only)" "$CAPGATE" admission-policy --mutating --kubernetes-version 1.33
has "the 1.33 error names --mutating" "$tmp/err" "^capgate admission-policy: --mutating: "
expect 0 "admission-policy --kubernetes-version 1.30 (no --mutating)" "$CAPGATE" admission-policy --kubernetes-version 1.30
if grep -q MutatingAdmissionPolicy "$tmp/out"; then not_ok "no MutatingAdmissionPolicy without --mutating"; else ok "no MutatingAdmissionPolicy without --mutating"; fi
cp "$tmp/out" "$tmp/v130.yaml"
expect 0 "admission-policy --mutating --kubernetes-version 1.35" "$CAPGATE" admission-policy --mutating --kubernetes-version v1.35.2
has "1.35: MutatingAdmissionPolicy is v1beta1" "$tmp/out" "^apiVersion: admissionregistration.k8s.io/v1beta1$"
has "1.35: the comment says it needs the feature gate" "$tmp/out" "^# .*feature-gates=MutatingAdmissionPolicy=true"
cp "$tmp/out" "$tmp/v135.yaml"
expect 0 "admission-policy --mutating (1.36: v1)" "$CAPGATE" admission-policy --mutating
if grep -q "v1beta1" "$tmp/out"; then not_ok "1.36: no v1beta1 object"; else ok "1.36: no v1beta1 object"; fi
has "default policy: a comment says the non-root strategies are not rendered" "$tmp/out" "^# Not rendered: nonRoot.strategy"
has "default policy: and so does the annotation" "$tmp/out" "capgate.dev/not-rendered: .*Not rendered: nonRoot.strategy"
cp "$tmp/out" "$tmp/default.yaml"
expect 0 "strategy none: rendered" "$CAPGATE" admission-policy --policy tests/cases/nonroot-strategy-none/policy.yaml
if grep -q "Not rendered" "$tmp/out"; then not_ok "strategy none: nothing reported as not rendered"; else ok "strategy none: nothing reported as not rendered"; fi
expect 0 "rich policy: rendered" "$CAPGATE" admission-policy --policy "$here/policies/rich.yaml" --mutating --name cg
for m in enforce:Deny warn:Warn audit:Audit; do
	# shellcheck disable=SC2016 # JavaScript, not shell
	if node -e '
		const [mode, action] = process.argv[1].split(":");
		const docs = require("fs").readFileSync(0, "utf8").split(/^---$/m);
		const b = docs.find((d) => d.includes("kind: ValidatingAdmissionPolicyBinding") && d.includes(`policyName: cg-${mode}`));
		process.exit(b && new RegExp(`validationActions:\\n\\s*- ${action}\\n`).test(b) ? 0 : 1);' "$m" <"$tmp/out"; then
		ok "rules with three modes: binding cg-${m%%:*} has validationActions [${m#*:}]"
	else
		not_ok "rules with three modes: binding cg-${m%%:*} has validationActions [${m#*:}]"
	fi
done
printf 'apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: g}\nspec:\n  exemptions:\n    images: ["ok/*", "reg/x[a-"]\n' >"$tmp/glob.yaml"
expect 1 "an image glob fnmatch reads as matching nothing is refused" "$CAPGATE" admission-policy --policy "$tmp/glob.yaml"
has "the error names the file and spec.exemptions.images[1]" "$tmp/err" "glob.yaml: spec.exemptions.images\[1\]: image glob"
printf 'apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: g}\nspec:\n  allowedCapabilities: [NET_ADMN]\n' >"$tmp/bad.yaml"
expect 1 "a policy that does not load is refused with its file:line" "$CAPGATE" admission-policy --policy "$tmp/bad.yaml"
has "the load error names bad.yaml:5:" "$tmp/err" "bad.yaml:5:"

# The README's commands ("Without a webhook"), as written, output kept.
sed -n '/^## Without a webhook/,/^## [A-Z]/p' README.md | grep '^    capgate admission-policy' >"$tmp/readme"
n=0
while read -r _ cmd rest; do
	n=$((n + 1))
	# shellcheck disable=SC2086 # the README's words
	set -- ${rest%%>*}
	if "$CAPGATE" "$cmd" "$@" >"$tmp/readme$n.yaml" 2>"$tmp/err"; then ok "README: capgate $cmd $*"; else
		not_ok "README: capgate $cmd $*"
		sed 's/^/# /' "$tmp/err" | head -3
	fi
done <"$tmp/readme"
if [ "$n" -ge 2 ]; then ok "README: $n admission-policy commands found"; else not_ok "README: admission-policy commands found ($n)"; fi

# ---- schema --------------------------------------------------------------
i=0
for p in - "$here"/policies/*.yaml tests/cases/*/policy.yaml; do
	i=$((i + 1))
	set -- --mutating
	[ "$p" = - ] || set -- "$@" --policy "$p"
	if "$CAPGATE" admission-policy "$@" >"$tmp/p$i.yaml" 2>"$tmp/err" &&
		"$CAPGATE" admission-policy "$@" -o json >"$tmp/p$i.json" 2>>"$tmp/err"; then :; else
		not_ok "admission-policy --policy $p"
		sed 's/^/# /' "$tmp/err" | head -3
	fi
done
# shellcheck disable=SC2046 # temporary file names, no space
node "$C" schema schema $(ls "$tmp"/p*.yaml "$tmp"/p*.json "$tmp"/readme*.yaml) "$tmp/v130.yaml" "$tmp/v135.yaml" >"$tmp/schema" 2>&1
n=$(grep -c '^ok' "$tmp/schema")
if ! grep -q '^not ok' "$tmp/schema" && [ "$n" -gt 100 ]; then
	ok "schema: $n rendered objects (every policy in tests/, YAML and JSON, 1.30/1.35/1.36) validate"
else
	grep '^not ok\|^#' "$tmp/schema" | head -10
	not_ok "schema: every rendered object validates"
fi
tap "$C" same "$tmp/p1.yaml" "$tmp/p1.json"
sed 's/^    reinvocationPolicy: IfNeeded/    reinvocationPolicy: Sometimes/; s/^  reinvocationPolicy: IfNeeded/  reinvocationPolicy: Sometimes/' "$tmp/default.yaml" >"$tmp/broken.yaml"
if node "$C" schema broken "$tmp/broken.yaml" >/dev/null 2>&1; then not_ok "the schema check rejects reinvocationPolicy: Sometimes"; else
	ok "the schema check rejects reinvocationPolicy: Sometimes"; fi

# ---- image globs against glibc fnmatch -------------------------------------
tap "$C" globs "$DRIVER" "${ADMISSION_SEED:-$(date +%s)}" 3000

# ---- the differential test -----------------------------------------------
f=$tmp/default.yaml
# Bytes of each document of the default policy's YAML, by kind.
awk '/^---$/ { if (k) print k, n; k = ""; n = 0; next } /^kind: / { k = $2 } { n += length($0) + 1 } END { if (k) print k, n }' "$f" >"$tmp/sizes"
echo "# size of the default policy's objects (YAML bytes): $(tr '\n' ' ' <"$tmp/sizes"); all $(grep -c . "$tmp/sizes") objects with the comments: $(wc -c <"$f") bytes"
# The comparison must be able to fail: CEL broken on purpose, one rule at a
# time, each on inputs that exercise it (fixed seed: the same inputs on
# every run).
while read -r t args; do
	# shellcheck disable=SC2086 # the options as listed
	if node "$here/run.mjs" --capgate "$CAPGATE" --driver "$DRIVER" --seed 1 --no-data $args \
		--tamper "$t" >"$tmp/tamper" 2>&1; then
		not_ok "the differential test notices CEL broken on purpose (--tamper $t)"
	else
		n=$(grep -o '[0-9]* disagreements' "$tmp/tamper" | head -1)
		if [ -n "$n" ] && [ "${n%% *}" -gt 0 ]; then
			ok "the differential test notices CEL broken on purpose (--tamper $t): $n"
		else
			not_ok "the differential test notices CEL broken on purpose (--tamper $t)"
			tail -3 "$tmp/tamper" | sed 's/^/# /'
		fi
	fi
done <<'EOF'
case --policies default --generated 0
init --policies default --no-hostile --generated 300
installer --policies installer,openshift --no-hostile --generated 600
owner --policies default --no-hostile --generated 300
job --policies default --no-hostile --generated 300
unchanged --policies deny --no-hostile --generated 600
ephemeral --policies default --no-hostile --generated 600
rootport --policies default --no-hostile --generated 300
deleting --policies default --no-hostile --generated 300
quote --policies deny --generated 0
empty --policies deny --generated 0
judged --policies installer --no-hostile --generated 600
legacy --policies installer --no-hostile --generated 1200
capslist --policies installer --no-hostile --generated 600
drops --policies openshift --no-hostile --generated 600
setfcap --policies installer --no-hostile --generated 1200
requiredscc --policies openshift --no-hostile --generated 300
templatescc --policies openshift --no-hostile --generated 300
sccdrop --policies openshift --no-hostile --generated 600
sccstar --policies openshift --no-hostile --generated 600
unknowndefaults --policies openshift --no-hostile --generated 300
unknownport --policies openshift --no-hostile --generated 300
dropextra --policies openshift --no-hostile --generated 300
enabled --policies openshift --no-hostile --generated 300
EOF
tap "$here/run.mjs" --capgate "$CAPGATE" --driver "$DRIVER" --generated "${ADMISSION_GENERATED:-2000}" \
	--seconds "${ADMISSION_SECONDS:-20}" ${ADMISSION_SEED:+--seed "$ADMISSION_SEED"}

exit $failed
