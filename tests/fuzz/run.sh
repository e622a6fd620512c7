#!/bin/sh
# A short bounded pass of every libFuzzer harness (fuzz/): FUZZ_TEST_SECONDS
# each (default 6), after replaying fuzz/regressions, from the committed
# seeds only (a throwaway working corpus, so the time does not grow with
# earlier runs). `make fuzz` runs the long version. Needs clang with
# libFuzzer: installed through mk/deps.sh when missing, skipped when that is
# not possible. Takes about 35 s once the harnesses are built.
# FUZZ_REQUIRED=1 (for CI): clang being unavailable is a failure, not a skip:
# the selective JSON parser (json/jsonsel.c) is kept only because
# fuzz_jsonsel holds it to json_loadb on every run.
set -u
cd "$(dirname "$0")/../.." || exit 1
secs=${FUZZ_TEST_SECONDS:-6}
FUZZ_WORK=$(mktemp -d)
export FUZZ_WORK
trap 'rm -rf "$FUZZ_WORK"' EXIT
harnesses="review policy jsonpatch jsonsel"
have_fuzzer() {
	command -v clang >/dev/null 2>&1 &&
		echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}' |
		clang -x c -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1
}
if ! have_fuzzer; then
	sh mk/deps.sh clang libclang-rt-14-dev >/dev/null 2>&1
fi
if ! have_fuzzer; then
	if [ -n "${FUZZ_REQUIRED:-}" ]; then
		echo "not ok - fuzz: clang with libFuzzer (-fsanitize=fuzzer) is not available"
		exit 1
	fi
	echo "ok - fuzz # SKIP clang with libFuzzer (-fsanitize=fuzzer) is not available"
	exit 0
fi
if ! out=$(make --no-print-directory -f fuzz/Makefile build 2>&1); then
	echo "not ok - fuzz harnesses build with clang"
	echo "$out" | grep -E 'error' | head -10 | sed 's/^/#   /'
	exit 1
fi
echo "ok - fuzz harnesses build with clang"
fails=0
for h in $harnesses; do
	line=$(sh fuzz/run.sh build-fuzz "$secs" "$h" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok - $(echo "$line" | head -1)"
	else
		echo "not ok - fuzz_$h ${secs}s"
		echo "$line" | sed 's/^/#   /'
		fails=$((fails + 1))
	fi
done
[ $fails -eq 0 ]
