#!/bin/sh
# Runs libFuzzer harnesses for a bounded time each and prints one line per
# harness with its execs and coverage. Usage: run.sh BUILD SECONDS HARNESS...
# Inputs from fuzz/regressions/<harness>/ are replayed first. The working
# corpus grows in BUILD/corpus/<harness>, or $FUZZ_WORK/<harness> (seeded
# from fuzz/corpus/<harness>);
# crashes are saved in BUILD/artifacts/<harness>/. Exits 1 on any failure.
set -u
build=$1
secs=$2
shift 2
fails=0
for h in "$@"; do
	bin=$build/fuzz_$h
	log=$build/fuzz_$h.log
	work=${FUZZ_WORK:-$build/corpus}/$h
	art=$build/artifacts/$h/
	mkdir -p "$work" "$art"
	if [ -d "fuzz/regressions/$h" ] && [ -n "$(ls -A "fuzz/regressions/$h" 2>/dev/null)" ]; then
		if ! "$bin" -runs=0 fuzz/regressions/"$h"/* >"$log.regressions" 2>&1; then
			echo "fuzz_$h: FAILED on a regression input (see $log.regressions)"
			fails=$((fails + 1))
			continue
		fi
	fi
	set -- -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$art"
	[ -f "fuzz/$h.dict" ] && set -- "$@" -dict="fuzz/$h.dict"
	# shellcheck disable=SC2046 # the options file holds one libFuzzer flag a word
	[ -f "fuzz/$h.options" ] && set -- "$@" $(cat "fuzz/$h.options")
	"$bin" "$@" "$work" "fuzz/corpus/$h" >"$log" 2>&1
	rc=$?
	# The last status line: "#N DONE cov: C ft: F corp: ..." (or the last
	# pulse before a crash).
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
	if [ $rc -eq 0 ]; then
		echo "fuzz_$h: ${secs}s execs=${execs:-?} execs/s=${rate:-?} cov=${cov:-?} ft=${ft:-?} corpus=${corp:-?} peak_rss_mb=${rss:-?}"
	else
		echo "fuzz_$h: FAILED (exit $rc) after execs=${execs:-?} cov=${cov:-?}; log $log, input in $art"
		grep -E 'ORACLE FAILURE|ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehavior|libFuzzer)|runtime error' "$log" | head -3 | sed 's/^/  /'
		fails=$((fails + 1))
	fi
done
[ $fails -eq 0 ]
