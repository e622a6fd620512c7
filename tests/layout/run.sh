#!/bin/sh
# The layout the design relies on (docs/architecture.md), checked:
#  - the include graph: every folder includes only the folders below it,
#    and no two modules include each other, directly or round a circle
#    (mk/layers.sh);
#  - capability numbers are named once: common/caps_table.h is what
#    mk/caps-table.sh makes of common/caps.list, the list agrees with the
#    kernel's <linux/capability.h>, and no other file defines a capability
#    number of its own.
set -u
cd "$(dirname "$0")/../.." || exit 1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
failed=0
ok() { echo "ok - $1"; }
bad() {
	echo "not ok - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | head -10 | sed 's/^/#   /'
	failed=$((failed + 1))
}

if sh mk/layers.sh >"$T/layers" 2>&1; then
	ok "include graph: no upward include, no circle between modules"
	grep '^#' "$T/layers"
else
	bad "include graph: no upward include, no circle between modules" "$(cat "$T/layers")"
fi

sh mk/caps-table.sh common/caps.list >"$T/caps_table.h"
if cmp -s "$T/caps_table.h" common/caps_table.h; then
	ok "common/caps_table.h is generated from common/caps.list"
else
	bad "common/caps_table.h is generated from common/caps.list (make common/caps_table.h)" \
		"$(diff common/caps_table.h "$T/caps_table.h")"
fi

# The kernel's numbers, as the C compiler sees <linux/capability.h>.
printf '#include <linux/capability.h>\n' | cc -E -dM - 2>/dev/null |
	awk '$1 == "#define" && $2 ~ /^CAP_[A-Z_]+$/ && $3 ~ /^[0-9]+$/ { print $3, substr($2, 5) }' |
	grep -v '^[0-9]* LAST_CAP$' | sort -n >"$T/kernel"
if [ ! -s "$T/kernel" ]; then
	echo "ok - common/caps.list agrees with <linux/capability.h> # SKIP no kernel headers"
else
	grep -v '^#' common/caps.list | grep . | sort -n >"$T/list"
	# Every capability the kernel header names is in the list, with its
	# number; the list may be newer than the header, never different.
	missing=$(comm -23 "$T/kernel" "$T/list")
	if [ -z "$missing" ]; then
		ok "common/caps.list agrees with <linux/capability.h> ($(wc -l <"$T/kernel") capabilities)"
	else
		bad "common/caps.list agrees with <linux/capability.h>" "$missing"
	fi
fi

# Capability numbers written out elsewhere: a #define CAP_... NUMBER or
# CAPS_BIT(NUMBER) in the sources (tests keep their own, as an oracle).
stray=$(git ls-files '*.c' '*.h' | grep -Ev '^(tests|build)/|^common/caps_table\.h$' |
	xargs grep -nE '#define[[:space:]]+CAPS?_[A-Z_]+[[:space:]]+[0-9]+|CAPS_BIT\([0-9]+\)' |
	grep -v 'CAPS_ALL[[:space:]]*63')
if [ -z "$stray" ]; then
	ok "capability numbers are named only in common/caps.list"
else
	bad "capability numbers are named only in common/caps.list" "$stray"
fi

[ "$failed" -eq 0 ]
