#!/bin/sh
# The documentation, checked against the code:
#  - every fenced ```yaml block of README.md and docs/*.md that is a
#    CapabilityPolicy loads (`capgate check --policy BLOCK /dev/null`);
#  - a block right after `<!-- test: FILE INDENT -->` appears in FILE, each
#    line indented by INDENT spaces (README's example is a data case);
#  - the "Do no harm" table names every tests/cases/harm-* directory, and
#    every case it names exists;
#  - every `make TARGET` and script of the Development table exists.
set -u
cd "$(dirname "$0")/../.." || exit 1
CAPGATE=${CAPGATE:-build/capgate}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
failed=0
ok() { echo "ok - $1"; }
bad() {
	echo "not ok - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | head -5 | sed 's/^/#   /'
	failed=$((failed + 1))
}

# Splits FILE's fenced yaml blocks into $T/NAME.N.yaml, and writes
# $T/NAME.N.test ("FILE INDENT") for blocks after a test marker.
split_blocks() {
	awk -v out="$T/$2" '
		/^<!-- test: .* -->$/ { test = $3 " " $4; next }
		/^```yaml$/ { n++; inb = 1; f = out "." n ".yaml"; printf "" > f;
			if (test != "") { print test > (out "." n ".test"); close(out "." n ".test") }
			test = ""; next }
		/^```/ && inb { inb = 0; close(f); next }
		inb { print > f }
		!inb && !/^$/ { test = "" }
	' "$1"
}

policies=0
for doc in README.md docs/*.md; do
	name=$(echo "$doc" | tr / _)
	split_blocks "$doc" "$name"
done
for block in "$T"/*.yaml; do
	[ -f "$block" ] || continue
	label=$(basename "$block" .yaml)
	if grep -q '^kind: CapabilityPolicy' "$block"; then
		policies=$((policies + 1))
		if err=$("$CAPGATE" check --policy "$block" /dev/null 2>&1); then
			ok "policy snippet $label loads"
		else
			bad "policy snippet $label loads" "$err"
		fi
	fi
	t=${block%.yaml}.test
	[ -f "$t" ] || continue
	read -r file indent <"$t"
	# The block, indented, must be a run of lines in file.
	if awk -v ind="$indent" -v frag="$block" '
		BEGIN { pad = sprintf("%" ind "s", ""); while ((getline l < frag) > 0) want = want pad l "\n" }
		{ have = have $0 "\n" }
		END { exit index(have, want) ? 0 : 1 }' "$file"; then
		ok "snippet $label is in $file"
	else
		bad "snippet $label is in $file" "$(cat "$block")"
	fi
done
if [ "$policies" -gt 0 ]; then ok "$policies policy snippets found"; else bad "policy snippets found"; fi

# The do-no-harm table and the harm-* cases name each other.
table=$(awk '/^## Do no harm/{f=1} f&&/^## /&&!/Do no harm/{exit} f' README.md)
for d in tests/cases/harm-*/; do
	c=$(basename "$d")
	if echo "$table" | grep -q "\`$c\`"; then ok "README's do-no-harm table names $c"; else
		bad "README's do-no-harm table names $c"; fi
done
# shellcheck disable=SC2016 # the backquotes are Markdown, not a command substitution
for c in $(echo "$table" | grep -o '`[a-z0-9-]*`' | tr -d '`' | grep -E '^(harm-|pod-update)'); do
	if [ -f "tests/cases/$c/input.yaml" ]; then ok "case $c named in the table exists"; else
		bad "case $c named in the table exists"; fi
done
# The Development table: every `make TARGET` it names is a Makefile target,
# and every command it names that is a file (`.ci/run`, `sh X`) exists.
dev=$(sed -n '/^## Development$/,/^## [^D]/p' README.md)
n=0
# shellcheck disable=SC2016 # the backquotes are Markdown, not a command substitution
for t in $(echo "$dev" | grep -o '^| `make [a-z0-9-]*`' | sed 's/^| `make \(.*\)`$/\1/'); do
	n=$((n + 1))
	if grep -q "^$t:" Makefile; then ok "README's make $t is a Makefile target"; else
		bad "README's make $t is a Makefile target"; fi
done
[ "$n" -ge 5 ] || bad "README's Development table names make targets ($n found)"
# shellcheck disable=SC2016 # as above
for f in $(echo "$dev" | grep -o '^| `\(sh \)\{0,1\}[a-z./-]*/[a-z./-]*' | sed 's/^| `\(sh \)\{0,1\}//'); do
	if [ -f "$f" ]; then ok "README's $f exists"; else bad "README's $f exists"; fi
done
# The checks must be able to fail.
printf 'apiVersion: capgate.dev/v1\nkind: CapabilityPolicy\nmetadata: {name: x}\nspec:\n  nonRoot: {unprivilegedPortStart: 1024}\n' >"$T/bad.yaml"
if "$CAPGATE" check --policy "$T/bad.yaml" /dev/null >/dev/null 2>&1; then
	bad "a snippet that does not load is noticed"
else
	ok "a snippet that does not load is noticed"
fi
[ $failed -eq 0 ]
