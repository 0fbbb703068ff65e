#!/bin/sh
# SPDX-License-Identifier: MIT
# run_libfuzzer.sh NAME BINARY SEEDS WORKDIR - one bounded libFuzzer run of a target (the
# ctest tests fuzzrun.NAME of a clang build: `make test-fuzz`). Runs for $FUZZ_SECONDS
# (default 5) over a scratch corpus (WORKDIR/corpus, new inputs land there) seeded from
# SEEDS, the committed corpus/NAME. A crash, leak, timeout or abort() fails the test and
# leaves the input in WORKDIR/crashes/: commit it into SEEDS with its fix. Prints
# `reliability: fuzz.NAME: N inputs tried in S s` for docs/reliability.md.
set -u
name=$1 bin=$2 seeds=$3 work=$4
secs=${FUZZ_SECONDS:-5}
mkdir -p "$work/corpus" "$work/crashes"
log="$work/last.log"
"$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$work/crashes/" "$work/corpus" "$seeds" \
    >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
if [ "$rc" -ne 0 ]; then
    tail -n 60 "$log"
    echo "fuzz.$name: libFuzzer exited $rc; the input is in $work/crashes/"
    exit 1
fi
echo "reliability: fuzz.$name: ${runs:-0} inputs tried in $secs s"
