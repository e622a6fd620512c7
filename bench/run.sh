#!/bin/sh
# `make bench`: prints the figures the issues ask for.
# Part 1: the engine, stage by stage, on the realistic Pod review.
# Part 2 (bench/server.sh, when present): the HTTPS server under load.
set -eu
BUILD=${BUILD:-build}
echo "== engine: per-review cost, $(wc -c <tests/data/review-pod.json) byte Pod AdmissionReview =="
"$BUILD/bench-engine" tests/data/review-pod.json
if [ -f bench/server.sh ]; then
	echo
	sh bench/server.sh
fi
