# shellcheck shell=bash
# The README's "Verified on" table, generated from one run's results
# (sourced by run.sh after both profiles ran; uses $T and STATUS).

# facts PROFILE CASE VARIANT CONTAINER KEY...: the probe's KEY=value lines,
# or how the container failed, or why the pod did not run.
facts() {
	local f=$T/results/$1/$2.$3.json err=$T/pods/$2.$3.err c=$4
	shift 4
	if [ ! -f "$f" ]; then
		if [ -s "$err" ]; then
			# "capgate check: policy: FILE:L:C: KEY: WHAT; valid keys..."
			printf 'capgate check refuses the policy: %s' "$(sed 's/^.*: \([^:;]*\).*$/\1/' "$err" | head -1)"
		else
			printf 'not run'
		fi
		return
	fi
	jq -r --arg c "$c" '.containers[] | select(.name == $c) |
		if .error then "fails: " + (.error | sub("^[A-Za-z]+: "; "") | .[0:70])
		else ([.stdout[] as $l | $ARGS.positional[] as $k | $l | select(startswith($k + "="))]
			| join(" ")) as $facts
			| if .exit_code != 0 then "exit \(.exit_code): \(.stderr[0] // "" | .[0:70])"
				+ (if $facts != "" then " " + $facts else "" end)
			else $facts end
		end' "$f" --args "$@"
}

# status PROFILE ID: a note for the tests that are not plain passes.
status() {
	case ${STATUS[$1/$2]:-} in
	xfail) printf ' **(expected failure, issue 9)**' ;;
	xpass) printf ' **(unexpected pass)**' ;;
	fail) printf ' **(FAILED)**' ;;
	esac
}

# does CASE VARIANT: what capgate's output changed, read from the pod it gave.
does() {
	local f=$T/pods/$1.$2.json
	if [ ! -s "$f" ]; then
		printf 'policy not loaded'
		return
	fi
	jq -r '[(.spec.securityContext.sysctls // [] | .[] | "sysctl `\(.name | sub("net.ipv4."; ""))=\(.value)`"),
		(.spec.initContainers // [] | .[] | "init container `\(.name)`"),
		(.spec.containers[0] | if (.command // [])[0] | tostring | test("capgate-ambient$")
			then "command wrapped" else empty end),
		(.spec.containers[0].securityContext.capabilities // {} |
			(if (.add // []) == [] then "adds nothing" else "add `\(.add | join(","))`" end)
			+ (if .drop then ", drop `\(.drop | join(","))`" else "" end))] | join(", ")' "$f"
}

row() { printf '| %s | %s | %s | %s |\n' "$@"; }

# strategy PROFILE CASE TEST-ID CELL-COMMAND...: the cell for capgate check's
# pod and the webhook's, once when they agree.
strategy() {
	local p=$1 c=$2 id=$3 a b
	shift 3
	a="$("$@" "$p" "$c" check)$(status "$p" "$id-check")"
	b="$("$@" "$p" "$c" webhook)$(status "$p" "$id-webhook")"
	if [ "$a" = "$b" ]; then printf '%s' "$a"; else printf 'check: %s; webhook: %s' "$a" "$b"; fi
}
cell_sysctl() { facts "$1" "$2" "$3" web bind:80 bind:79; }
cell_ping() { printf 'gid 4321: %s; gid 4322: %s' "$(facts "$1" "$2" "$3" pinger ping raw)" "$(facts "$1" "$2" "$3" other-gid ping)"; }
cell_ambient() { facts "$1" "$2" "$3" web CapAmb bind:80; }
cell_failclosed() {
	printf 'exit %s, the command never ran%s%s%s' \
		"$(jq -r '[.containers[].exit_code | tostring] | join(", ")' "$T/results/$1/failclosed.raw.json")" \
		"$(status "$1" failclosed-script)" "$(status "$1" failclosed-no-xattr)" "$(status "$1" failclosed-not-added)"
}
# shellcheck disable=SC2086 # KEYS: one word each
cell_dnh() { # cell_dnh PROFILE ID CONTAINER KEYS
	printf 'before: %s%s; after: %s%s' "$(facts "$1" "$2" before "$3" $4)" "$(status "$1" "$2-before")" \
		"$(facts "$1" "$2" after "$3" $4)" "$(status "$1" "$2-after")"
}

verified_on_table() {
	local s
	row "workload" "what capgate does" "containerd 1.6 CRI defaults" "containerd 2.x CRI defaults"
	row "---" "---" "---" "---"
	row "uid 1000, add NET_BIND_SERVICE, drop ALL" "nothing (no capgate)" \
		"$(facts 1x problem raw nonroot ip_unprivileged_port_start ping_group_range bind:80 ping)$(status 1x problem-nonroot)" \
		"$(facts 2x problem raw nonroot ip_unprivileged_port_start ping_group_range bind:80 ping)$(status 2x problem-nonroot)"
	row "uid 0, same capabilities" "nothing (no capgate)" \
		"$(facts 1x problem raw root bind:80)$(status 1x problem-root)" \
		"$(facts 2x problem raw root bind:80)$(status 2x problem-root)"
	row "uid 1000, port 80 (check and webhook)" "$(does sysctl check)" \
		"$(strategy 1x sysctl sysctl cell_sysctl)" "$(strategy 2x sysctl sysctl cell_sysctl)"
	row "uid 1000 gid 4321, NET_RAW for ping (check and webhook)" "$(does ping check)" \
		"$(strategy 1x ping ping cell_ping)" "$(strategy 2x ping ping cell_ping)"
	for s in init image; do
		row "uid 1000, port 80, policy ambient delivery $s (check and webhook)" "$(does "ambient-$s" check)" \
			"$(strategy 1x "ambient-$s" "ambient-$s" cell_ambient)" "$(strategy 2x "ambient-$s" "ambient-$s" cell_ambient)"
	done
	row "wrapper from a script under no_new_privs; a copy without the xattr; capability not in add" \
		"nothing (no capgate)" "$(cell_failclosed 1x)" "$(cell_failclosed 2x)"
	row "do no harm: +ep entrypoint, uid 101, no_new_privs, ports 80/443" "$(does dnh-ep after)" \
		"$(cell_dnh 1x dnh-ep controller "bind:80 bind:443")" "$(cell_dnh 2x dnh-ep controller "bind:80 bind:443")"
	row "do no harm: root, port 80, no securityContext" "$(does dnh-root80 after)" \
		"$(cell_dnh 1x dnh-root80 web bind:80)" "$(cell_dnh 2x dnh-root80 web bind:80)"
	row "do no harm: uid 1000, port 8080" "$(does dnh-plain8080 after)" \
		"$(cell_dnh 1x dnh-plain8080 web bind:8080)" "$(cell_dnh 2x dnh-plain8080 web bind:8080)"
	row "uid 1000 gid 4321, port 80 + ping, policy \`runtimeDefaults: open\`" "$(does open check)" \
		"not run (this runtime opens nothing)" \
		"$(facts 2x open check web bind:80 bind:79 ping)$(status 2x runtime-open)"
}

# write_readme_table FILE: replaces the table between the markers in README.md.
write_readme_table() {
	awk -v f="$1" '/^<!-- e2e verified-on begin/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
		/^<!-- e2e verified-on end/ { skip = 0 } !skip' README.md >README.md.tmp && mv README.md.tmp README.md
}
