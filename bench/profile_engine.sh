#!/bin/sh
# SPDX-License-Identifier: MIT
# profile_engine.sh - where a kb-server search's CPU goes (issue #13): starts kb-server on
# INDEX (4 workers, loopback port 0), warms it up, then records it with perf (cpu-clock
# samples, dwarf call graphs) while wrk sends the query set (2 threads, 4 connections)
# as GET /api/v1/search?q=..EXTRA for SECONDS. Prints the inclusive top of the report.
#
#     bench/profile_engine.sh INDEX OUT.perf [SECONDS=12] [EXTRA=&size=10&snippets=false]
#
# Binaries from $KB_BIN_DIR (default build-bench/bin), queries from $KB_BENCH_QUERIES
# (default ../shared/bench/queries.txt). cpu-clock, because this VM has no hardware
# counters (`perf stat -e instructions true` says <not supported>).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${KB_BIN_DIR:-$here/../build-bench/bin}
queries=${KB_BENCH_QUERIES:-$here/../../shared/bench/queries.txt}
index=${1:?usage: profile_engine.sh INDEX OUT.perf [SECONDS] [EXTRA]}
out=${2:?usage: profile_engine.sh INDEX OUT.perf [SECONDS] [EXTRA]}
secs=${3:-12}
extra=${4:-&size=10&snippets=false}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kb-profile.XXXXXX")
"$bin/kb-server" --index="$index" --workers=4 --access-log= --port=0 \
    --port-file="$tmp/port" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
i=0
while [ ! -s "$tmp/port" ]; do
    i=$((i + 1))
    [ $i -lt 200 ] || { echo "profile_engine: kb-server did not start" >&2; exit 1; }
    sleep 0.05
done
url=http://127.0.0.1:$(cat "$tmp/port")
wrk -t2 -c4 -d3s -s "$here/queries.lua" "$url" -- "$queries" /api/v1/search "$extra" >/dev/null
perf record -q -e cpu-clock -F 249 --call-graph dwarf,16384 -p $pid -o "$out" \
    -- sleep "$secs" &
rec=$!
wrk -t2 -c4 -d"${secs}s" --latency -s "$here/queries.lua" "$url" -- "$queries" \
    /api/v1/search "$extra" | grep -E "Requests/sec|requests in"
wait $rec
perf report -i "$out" --children --sort symbol -g none --stdio 2>/dev/null |
    grep -v '^#' | sed '/^$/d' | head -80
