#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run_1m.sh - the 1M-document figures of issues #13 and #16, unattended, in one go:
#
#     bench/run_1m.sh WORK_DIR        (KB_BIN_DIR: the binaries, default build/bin)
#
# 1. the corpus: ../shared/bench/mkcorpus --docs 1000000 --seed 1 (kept if present);
# 2. ONE build, kb-indexer --full --threads=2 --shards=4, under /usr/bin/time -v
#    (build time, CPU, peak memory), then the index size;
# 3. the 2-shard layout and the single index derived from it (bench/shard_layouts.py:
#    xapian-compact only, exact because 2 divides 4);
# 4. bench_shards.py: 1, 2 and 4 shards, local and through xapian-tcpsrv (--remote);
# 5. run_engine.py over the single index: the default search, snippets and suggest,
#    then facets in a run of their own (a facet search past query_seconds answers
#    503, which ends a run), each against the raw anchor (bench_anchor) searching the
#    same single index. Both benchmarks set query_seconds and shard_timeout to 60 s, so
#    that a slow query is measured whole rather than cut (kb-server answers 503 past
#    query_seconds). omindex's 1M index is not built: it takes hours of one core
#    (bench/README.md), so the anchor searches our own index; at 100k both anchors are
#    measured side by side to relate the two.
# Every step's output goes to WORK_DIR/res/, with a log of times and load averages.
#
# Cost, measured (2026-12-03, 2 idle cores): the build 1 h 31 min (8.2 ms of CPU a
# document, 211 MB peak, 14.7 GB), each derived layout 2.5 min, the benchmarks 7 min:
# about 1 h 45 min in all, and about 45 GB of disk for the three layouts (bench/README.md,
# "1M"). Start it first and run nothing else beside it: the figures are only as good as
# the quiet.
set -u
WORK=${1:?usage: run_1m.sh WORK_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
export KB_BIN_DIR=${KB_BIN_DIR:-$ROOT/build/bin}
export KB_DATA_DIR=${KB_DATA_DIR:-$ROOT/schemas}
R=$WORK/res
L=$WORK/bsw/1000k
mkdir -p "$R" "$L"
log() { echo "$(date -u +%FT%TZ) $* | load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$R/log"; }

log "start ($(git -C "$ROOT" log --oneline -1 | cut -c1-60))"
if [ ! -d "$WORK/corpus/0999" ]; then
    python3 "$ROOT/../shared/bench/mkcorpus" --docs 1000000 --seed 1 --out "$WORK/corpus" \
        > "$R/mkcorpus.txt" 2>&1 || { log "mkcorpus failed"; exit 1; }
    log "corpus made"
fi
ln -sfn "$WORK/corpus" "$L/corpus"
if [ ! -f "$L/idx-4/XAPIANDB" ]; then
    /usr/bin/time -v "$KB_BIN_DIR/kb-indexer" --full --threads=2 --shards=4 \
        --index="$L/idx-4" "$L/corpus" > "$R/build.txt" 2> "$R/build-time.txt"
    rc=$?
    log "build rc=$rc"
    [ $rc = 0 ] || [ $rc = 1 ] || exit 1 # 1: some documents failed, the rest is built
    du -sb "$L/idx-4" > "$R/size.txt"
fi
for m in 2 1; do
    [ -e "$L/idx-$m" ] || /usr/bin/time -f "%e s wall %U user %S sys %M KB" \
        python3 "$HERE/shard_layouts.py" "$L/idx-4" "$L/idx-$m" $m > "$R/derive$m.txt" 2>&1
done
du -sb "$L/idx-1" "$L/idx-2" >> "$R/size.txt"
log "layouts derived"
# the whole cost of every query: no cut at query_seconds, no shard call given up at
# shard_timeout (a p99 past the defaults, 2 s and 5 s, says the defaults would cut some)
SLOW="query-seconds=60 shard-timeout=60"
python3 "$HERE/bench_shards.py" --docs 1000000 --work "$WORK/bsw" --rounds 2 --seconds 8 \
    --warmup 4 --remote $(printf -- "--setting=%s " $SLOW) > "$R/shards.txt" 2>&1
log "shards rc=$?"
SRV=$(printf -- "--server-arg=--%s " $SLOW)
# shellcheck disable=SC2086 # one word a setting
python3 "$HERE/run_engine.py" "$L/idx-1" "$L/idx-1" --rounds 1 --seconds 8 $SRV \
    --wrk-timeout 120 --only anchor,anchor_exact,default,snippets,suggest > "$R/engine.txt" 2>&1
log "engine rc=$?"
# shellcheck disable=SC2086
python3 "$HERE/run_engine.py" "$L/idx-1" "$L/idx-1" --rounds 1 --seconds 8 $SRV \
    --wrk-timeout 120 --only anchor,default,facets > "$R/engine-facets.txt" 2>&1
log "engine facets rc=$?"
log end
