#!/bin/sh
# `make lint`: shellcheck on every tracked shell script, found by name (*.sh)
# and by first line (#!/bin/sh, bash or dash, with or without env: .ci/run
# has no extension), at shellcheck's default severity (style and up).
# Scripts are checked from the repository root with -x, so a `. lib.sh`
# they source is followed and checked with them. Fails when a script has a
# finding, when shellcheck is missing, or when no script is found (a lint
# that checks nothing must not pass). Usage: lint.sh [--list]
set -eu
cd "$(dirname "$0")/.."
list=$(mktemp)
trap 'rm -f "$list"' EXIT
git ls-files | while IFS= read -r f; do
	[ -f "$f" ] || continue
	case $f in
	*.sh) echo "$f" ;;
	*) if head -n 1 "$f" | grep -Eq '^#! *(/usr)?/bin/(env +)?(ba|da)?sh( |$)'; then echo "$f"; fi ;;
	esac
done >"$list"
if [ "${1:-}" = --list ]; then
	cat "$list"
	exit 0
fi
n=$(wc -l <"$list")
if [ "$n" -eq 0 ]; then
	echo "lint: no shell script found (not a git checkout?)" >&2
	exit 1
fi
command -v shellcheck >/dev/null 2>&1 || sh mk/deps.sh shellcheck
# One file name a line, none with a space (git ls-files above), so tr is safe.
tr '\n' '\0' <"$list" | xargs -0 shellcheck -x
echo "lint: $n shell scripts, no shellcheck finding"
