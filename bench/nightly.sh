#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# nightly.sh - benchmark of the nightly incremental run: kb-indexer against Xapian's
# omindex (xapian-omega), both over the same generated corpus (../shared/bench/mkcorpus)
# in the same session, so that machine load hits both alike. Not a test: it prints
# figures and writes the table to bench/results/nightly.md.
#
#   bench/nightly.sh [--docs 10000[,100000]] [--rounds 5] [--work DIR] [--out FILE]
#                    [--reuse]
#
# --reuse (with --work, one size): keep the corpus and both indexes a previous run left in
# DIR (skips the long initial builds; the table then says how many files the corpus has
# left after the earlier rounds' deletions).
#
# For each corpus size: one initial build of each index (timed, for reference), then
# `rounds` rounds of each scenario, each round running ours then omindex on the same tree:
#   no-op       nothing changed since the last run
#   1% changed  1% of the files get a line appended (new size and mtime)
#   1% deleted  1% of the files are removed
# Reports median and min-max of wall seconds, and the ratio of the medians ours/omindex
# (< 1: ours is faster). Binaries come from $KB_BIN_DIR (default build/bin); use a
# Release build. omindex runs as bench/run_index.py runs it (.md as text/plain, French
# stemmer); both delete removed files (their default).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bins=${KB_BIN_DIR:-$root/build/bin}
mkcorpus="$root/../shared/bench/mkcorpus"
sizes=10000
rounds=5
work=""
out="$here/results/nightly.md"
reuse=0
while [ $# -gt 0 ]; do
    case "$1" in
    --docs) sizes=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --reuse) reuse=1; shift ;;
    *) echo "usage: $0 [--docs N[,N]] [--rounds R] [--work DIR] [--out FILE]" >&2; exit 2 ;;
    esac
done
command -v omindex >/dev/null || { echo "nightly.sh: omindex missing (apt-get install xapian-omega)" >&2; exit 2; }
[ -x "$bins/kb-indexer" ] || { echo "nightly.sh: no $bins/kb-indexer (set KB_BIN_DIR)" >&2; exit 2; }
own_work=0
if [ -z "$work" ]; then
    work=$(mktemp -d "${TMPDIR:-/tmp}/kb-nightly-bench-XXXXXX")
    own_work=1
fi
cleanup() { if [ "$own_work" = 1 ]; then rm -rf "$work"; fi; }
trap cleanup EXIT

# secs CMD... : runs CMD, prints its wall time in seconds; stops the bench on failure.
secs() {
    local t0 t1 rc
    t0=$(date +%s%N)
    "$@" >"$work/last.out" 2>"$work/last.err" && rc=0 || rc=$?
    t1=$(date +%s%N)
    if [ "$rc" -ne 0 ]; then
        echo "nightly.sh: '$*' failed with $rc:" >&2
        tail -5 "$work/last.err" >&2
        exit 1
    fi
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
}
ours() { secs "$bins/kb-indexer" --index="$work/ours" --quiet "$corpus"; }
omi() {
    secs omindex --db "$work/omindex" --url / --mime-type=md:text/plain \
        --stemmer=french "$corpus"
}
# stats "t1 t2 ...": "median min max"
stats() {
    echo "$1" | tr ' ' '\n' | grep . | sort -g |
        awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                                  printf "%.3f %.3f %.3f\n", m, v[1], v[NR] }'
}

rows=""
for n in ${sizes//,/ }; do
    corpus="$work/corpus-$n"
    if [ "$reuse" = 1 ] && [ -d "$corpus" ] && [ -d "$work/ours" ] && [ -d "$work/omindex" ]; then
        echo "== $n documents: reusing $work" >&2
        ours >/dev/null
        omi >/dev/null
        init_ours="" init_omi=""
    else
        rm -rf "$corpus" "$work/ours" "$work/omindex"
        echo "== $n documents: generating the corpus" >&2
        /usr/bin/python3 "$mkcorpus" --docs "$n" --seed 1 --out "$corpus" >/dev/null
        echo "== $n documents: initial builds" >&2
        init_ours=$(secs "$bins/kb-indexer" --index="$work/ours" --quiet "$corpus")
        init_omi=$(omi)
        echo "   initial: ours ${init_ours}s, omindex ${init_omi}s" >&2
    fi
    mapfile -t files < <(cd "$corpus" && find . -type f | sort)
    step=100 # 1 % of the files, spread over the corpus
    label_n="$n"
    [ "${#files[@]}" -ne "$n" ] && label_n="$n (${#files[@]} left)"
    declare -A t=()
    for r in $(seq 1 "$rounds"); do
        t[noop_ours]+="$(ours) "
        t[noop_omi]+="$(omi) "
        # 1 % changed: every 100th file from offset r (a different set each round)
        for ((i = r; i < ${#files[@]}; i += step)); do
            printf '\nnightly bench edit %d\n' "$r" >>"$corpus/${files[$i]}"
        done
        t[chg_ours]+="$(ours) "
        t[chg_omi]+="$(omi) "
        # 1 % deleted: every 100th file from offset 50 + r
        for ((i = 50 + r; i < ${#files[@]}; i += step)); do
            rm -f "$corpus/${files[$i]}"
        done
        t[del_ours]+="$(ours) "
        t[del_omi]+="$(omi) "
        echo "   round $r of $rounds done" >&2
    done
    for s in noop chg del; do
        case $s in noop) label="no-op" ;; chg) label="1% changed" ;; del) label="1% deleted" ;; esac
        read -r om omin omax <<<"$(stats "${t[${s}_ours]}")"
        read -r xm xmin xmax <<<"$(stats "${t[${s}_omi]}")"
        ratio=$(awk -v a="$om" -v b="$xm" 'BEGIN { printf "%.2f", a / b }')
        row="| $label_n | $label | $om ($omin–$omax) | $xm ($xmin–$xmax) | $ratio |"
        echo "$row"
        rows+="$row"$'\n'
    done
    if [ -n "$init_ours" ]; then
        rows+="| $n | initial build (1 run) | $init_ours | $init_omi | $(awk -v a="$init_ours" -v b="$init_omi" 'BEGIN { printf "%.2f", a / b }') |"$'\n'
    fi
    unset t
done

mkdir -p "$(dirname "$out")"
{
    echo "<!-- SPDX-License-Identifier: MIT -->"
    echo "# Nightly incremental run: kb-indexer vs omindex"
    echo
    echo "Written by \`bench/nightly.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores,"
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds;"
    echo "kb-indexer from \`$bins\`; $(omindex --version 2>&1 | head -1))."
    echo "Wall seconds, median (min–max); ratio = median ours / median omindex (< 1: ours faster)."
    echo
    echo "| docs | scenario | kb-indexer s | omindex s | ratio |"
    echo "|---|---|---|---|---|"
    printf '%s' "$rows"
} >"$out"
echo "written to $out" >&2
