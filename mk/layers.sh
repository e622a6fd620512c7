#!/bin/sh
# mk/layers.sh [--graph]: checks the include graph of the C sources.
#  - Folder rule: a folder includes only the folders below it (the table
#    below; docs/architecture.md explains it).
#  - No circle between modules: a module is a .c with its .h (policy/engine
#    is policy/engine.c + policy/engine.h), and files named after a module
#    with a suffix are part of it (policy/policy_nonroot.c, the loader's
#    nonRoot section, is part of policy/policy); an edge A -> B is a file of
#    A including B's header. tsort finds any loop.
# Prints one line per violation and exits 1 when there is any; --graph
# prints the module edges inside policy/ and server/ (A -> B) first.
set -u
cd "$(dirname "$0")/.." || exit 1

# What each folder may include besides itself. ambient/ is the static,
# libc-only wrapper: nothing but the generated capability table.
allowed() {
	case $1 in
	common) echo "" ;;
	json) echo "common" ;;
	yaml) echo "common" ;;
	policy) echo "common json yaml" ;;
	admission) echo "common json yaml policy" ;;
	certs) echo "common" ;;
	server) echo "common json yaml policy certs" ;;
	cli) echo "common json yaml policy admission certs server" ;;
	ambient) echo "common/caps_table.h" ;;
	*) echo "?" ;;
	esac
}
# Upward includes that remain, each with its reason ("FILE INCLUDED"): none.
known_upward=""

# dir/stem, where stem stops at the first '_' when dir/PREFIX.c exists.
module() {
	m=${1%.*}
	p=${m%%_*}
	if [ "$p" != "$m" ] && [ -f "$p.c" ]; then echo "$p"; else echo "$m"; fi
}

edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
bad=0
for f in $(git ls-files '*.c' '*.h' | grep -E '^(common|json|yaml|policy|admission|certs|server|cli|ambient)/'); do
	dir=${f%%/*}
	from=$(module "$f")
	sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f" >"$edges.inc"
	while read -r inc; do
		idir=${inc%%/*}
		to=$(module "$inc")
		[ "$to" != "$from" ] && echo "$from $to" >>"$edges"
		[ "$idir" = "$dir" ] && continue
		ok=0
		for a in $(allowed "$dir"); do
			[ "$a" = "$idir" ] || [ "$a" = "$inc" ] && ok=1
		done
		[ $ok = 1 ] && continue
		if printf '%s\n' "$known_upward" | grep -qx "$f $inc"; then
			echo "# known upward include: $f -> $inc (cli/ owns the subcommands; issue 14 part B)"
			continue
		fi
		echo "upward include: $f includes $inc ($dir/ may include: $(allowed "$dir"))"
		bad=1
	done <"$edges.inc"
done
rm -f "$edges.inc"
if [ "${1:-}" = --graph ]; then
	sort -u "$edges" | awk '$1 ~ /^(policy|server)\// { print $1 " -> " $2 }'
fi
if ! sort -u "$edges" | tsort >/dev/null 2>"$edges.err"; then
	echo "a circle between modules:"
	sed 's/^/  /' "$edges.err"
	bad=1
fi
rm -f "$edges.err"
exit $bad
