#!/bin/sh
# `make bench`: prints the figures the issues ask for.
# Part 1: the engine, stage by stage, on the realistic Pod review.
# Part 2 (bench/server.sh, when present): the HTTPS server under load.
# Part 3 (bench/flood.sh): idle-socket floods and 64 reviews of 6 MiB.
set -eu
BUILD=${BUILD:-build}
echo "== engine: per-review cost, $(wc -c <tests/data/review-pod.json) byte Pod AdmissionReview =="
"$BUILD/bench-engine" tests/data/review-pod.json
if [ -f bench/server.sh ]; then
	echo
	sh bench/server.sh
fi
# Part 3: connection floods and the memory budget (issue 13).
echo
sh bench/flood.sh
