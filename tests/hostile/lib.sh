# shellcheck shell=bash
# Helpers for the hostile suite (sourced by run.sh, bash): the integration
# suite's (start_server, cg, wait_for, ...; every server on 127.0.0.1 port 0,
# SNI capgate.capgate.svc as the apiserver sends it), with `review` made fit
# for bodies that are meant to be refused.
# shellcheck source=tests/integration/lib.sh
. "$SRC/../integration/lib.sh"

# review PATH FILE [CURL ARGS...]: POSTs FILE with Content-Type $CT, or with
# none when CT is set and empty (for the 415 cases); the body goes to
# ${OUT:-$T/out}, the status is printed, curl's complaints are dropped.
review() {
	local path=$1 file=$2
	shift 2
	cg "$path" -o "${OUT:-$T/out}" -w '%{http_code}' -H "Content-Type: ${CT-application/json}" \
		--data-binary @"$file" "$@" 2>/dev/null
}

# compliant_after REVIEW ANSWER: the answer's patch applies to the review's
# object and leaves every container compliant (compliant.py).
compliant_after() { python3 "$SRC/compliant.py" "$1" "$2"; }
