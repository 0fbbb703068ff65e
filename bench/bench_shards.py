#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench_shards.py - issue #16: query throughput of one index against the same documents
in N local shards (kb-indexer --shards=N), in process (bench_inprocess: the engine
without HTTP), one figure per layout.

    bench_shards.py [--docs 100000] [--shards 1,2,4] [--work /tmp/bench-shards]
                    [--rounds 1] [--seconds 8] [--workers 4] [--snippets 0] [--facets 0]
                    [--open N=PATH ...]

The corpus is ../shared/bench/mkcorpus --docs D --seed 1 (made in WORK/corpus once);
each layout is indexed once into WORK/idx-N (kept: delete WORK to rebuild). N = 1 is
the unsharded index. Per round and layout, bench_inprocess runs --workers threads (one
reader each, as kb-server's workers) over the query set (../shared/bench/queries.txt,
or $KB_BENCH_QUERIES) for --seconds. Prints per-round lines, then a table: queries/s,
p50, p99 (median and min-max over rounds) and the ratio to the single index.

--open N=PATH is the hook for remote shards: bench_inprocess opens PATH for layout N
instead of WORK/idx-N, e.g. a stub file of `remote 127.0.0.1:P` lines for the shards of
WORK/idx-N served by xapian-tcpsrv (with the lexicon beside it, once kb-server reads
it: docs/deployment-shards.md). The layout is still indexed, so its shards can be served.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchstat import fmt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, "..", "shared", "bench")


def bins():
    for b in (os.environ.get("KB_BIN_DIR", ""), os.path.join(ROOT, "build", "bin")):
        if b and os.path.exists(os.path.join(b, "bench_inprocess")):
            return b
    sys.exit("bench_shards: build first (make build): bench_inprocess not found")


def build_layout(b, corpus, idx, n):
    """Indexes corpus into idx with n shards once; returns the wall seconds (0: kept)."""
    if os.path.exists(os.path.join(idx, "XAPIANDB")):
        return 0.0
    t0 = time.monotonic()
    subprocess.run([os.path.join(b, "kb-indexer"), "--index=" + idx, "--shards=%d" % n,
                    "--quiet", corpus], check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, KB_DATA_DIR=os.path.join(ROOT, "schemas")))
    return time.monotonic() - t0


def inprocess(b, index, qfile, a):
    out = subprocess.run([os.path.join(b, "bench_inprocess"), "--index=" + index,
                          "--queries=" + qfile, "--threads=%d" % a.workers,
                          "--seconds=%d" % a.seconds, "--snippets=%d" % a.snippets,
                          "--facets=%d" % a.facets],
                         check=True, stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, KB_DATA_DIR=os.path.join(ROOT, "schemas"))
                         ).stdout
    m = re.search(r"(\d+) queries, ([0-9.]+) q/s, p50 ([0-9.]+) ms, p99 ([0-9.]+) ms", out)
    if not m:
        sys.exit("bench_shards: no figure from bench_inprocess:\n" + out)
    return {"qps": float(m.group(2)), "p50": float(m.group(3)), "p99": float(m.group(4))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=100000)
    ap.add_argument("--shards", default="1,2,4")
    ap.add_argument("--work", default="/tmp/bench-shards")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--snippets", type=int, default=0)
    ap.add_argument("--facets", type=int, default=0)
    ap.add_argument("--open", action="append", default=[], metavar="N=PATH")
    a = ap.parse_args()
    b = bins()
    layouts = [int(x) for x in a.shards.split(",")]
    opens = dict((int(k), v) for k, v in (o.split("=", 1) for o in a.open))
    qfile = os.environ.get("KB_BENCH_QUERIES", os.path.join(SHARED, "queries.txt"))
    work = os.path.join(a.work, "%dk" % (a.docs // 1000))
    corpus = os.path.join(work, "corpus")
    if not os.path.isdir(corpus):
        os.makedirs(work, exist_ok=True)
        subprocess.run([sys.executable, os.path.join(SHARED, "mkcorpus"), "--docs",
                        str(a.docs), "--seed", "1", "--out", corpus], check=True)
    for n in layouts:
        s = build_layout(b, corpus, os.path.join(work, "idx-%d" % n), n)
        if s:
            print("indexed %d docs into %d shard(s) in %.0f s" % (a.docs, n, s), flush=True)
    res = {n: [] for n in layouts}
    for r in range(a.rounds):
        for n in layouts:
            idx = opens.get(n, os.path.join(work, "idx-%d" % n))
            f = inprocess(b, idx, qfile, a)
            res[n].append(f)
            print("round %d, %d shard(s)%s: %.0f q/s, p50 %.2f ms, p99 %.1f ms" % (
                r + 1, n, " (%s)" % idx if n in opens else "", f["qps"], f["p50"],
                f["p99"]), flush=True)
    base = statistics.median(x["qps"] for x in res[layouts[0]])
    print("\n| %dk docs, %d round(s) x %d s, %d threads, snippets=%d facets=%d | queries/s "
          "| p50 ms | p99 ms | vs %d shard(s) |" % (a.docs // 1000, a.rounds, a.seconds,
                                                    a.workers, a.snippets, a.facets,
                                                    layouts[0]))
    print("|---|---|---|---|---|")
    for n in layouts:
        q = [x["qps"] for x in res[n]]
        print("| %s | %s | %s | %s | %.2f |" % (
            "%d local shard%s" % (n, "s" if n > 1 else "") if n > 1 else "single index",
            fmt(q, "%.0f"), fmt([x["p50"] for x in res[n]], "%.2f"),
            fmt([x["p99"] for x in res[n]], "%.1f"), statistics.median(q) / base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
