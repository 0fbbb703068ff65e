#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench_shards.py - issue #16: query throughput of one index against the same documents
in N local shards (kb-indexer --shards=N), in process (bench_inprocess: the engine
without HTTP), one figure per layout.

    bench_shards.py [--docs 100000] [--shards 1,2,4] [--work /tmp/bench-shards]
                    [--rounds 1] [--seconds 8] [--workers 4] [--snippets 0] [--facets 0]
                    [--open N=PATH ...] [--remote] [--warmup S] [--setting KEY=VALUE ...]

The corpus is ../shared/bench/mkcorpus --docs D --seed 1 (made in WORK/corpus once);
each layout is indexed once into WORK/idx-N (kept: delete WORK to rebuild). N = 1 is
the unsharded index. Per round and layout, bench_inprocess runs --workers threads (one
reader each, as kb-server's workers) over the query set (../shared/bench/queries.txt,
or $KB_BENCH_QUERIES) for --seconds. Prints per-round lines, then a table: queries/s,
p50, p99 (median and min-max over rounds) and the ratio to the single index.

--remote adds, for each layout, a row of the same shards served by the stock
xapian-tcpsrv on loopback (one process per shard, started and stopped here; N = 1 serves
the single index): bench_inprocess opens a stub file of `remote 127.0.0.1:P` lines with
the layout's lexicon beside it, as a search host does (docs/deployment-shards.md).
--open N=PATH opens PATH for layout N instead of WORK/idx-N (any stub of your own).
Every row's ratio is against the first layout's local figure (the single index).
--warmup S runs each row for S seconds, unmeasured, before each of its measured runs: an
index larger than the page cache leaves (1M: 14 GB a layout) is otherwise measured cold
after the other layouts. --setting KEY=VALUE passes a kb-server setting to the engine
(e.g. query-seconds=60 shard-timeout=60, so that a slow query is measured whole instead of
cut). A row shows its errors and the answers cut by query_seconds, if any.
"""
import argparse
import os
import re
import socket
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


def free_port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def serve_remote(idx, n, where, procs):
    """Starts one xapian-tcpsrv per shard of layout idx (n = 1: the index itself) and
    writes where/XAPIANDB.stub listing them, the lexicon beside it. Returns the stub."""
    os.makedirs(where, exist_ok=True)
    parts = [idx] if n == 1 else [os.path.join(idx, "shard%02d" % k) for k in range(n)]
    lines = []
    for part in parts:
        port = free_port()
        procs.append(subprocess.Popen(["xapian-tcpsrv", "--interface", "127.0.0.1",
                                       "--port", str(port), "--quiet", part],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True))  # its SIGTERM: the group
        lines.append("remote 127.0.0.1:%d" % port)
        for _ in range(100):  # until it listens
            with socket.socket() as so:
                if so.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
    lex = os.path.join(where, "lexicon")
    if os.path.lexists(lex):
        os.unlink(lex)
    os.symlink(idx if n == 1 else os.path.join(idx, "lexicon"), lex)
    stub = os.path.join(where, "XAPIANDB.stub")
    with open(stub, "w") as f:
        f.write("\n".join(lines) + "\n")
    return stub


def inprocess(b, index, qfile, a, seconds):
    """One bench_inprocess run; returns dict(qps, p50, p99, errors, timed_out). A run
    with errors still gives its figure (exit 1); one without a figure ends the script."""
    p = subprocess.run([os.path.join(b, "bench_inprocess"), "--index=" + index,
                        "--queries=" + qfile, "--threads=%d" % a.workers,
                        "--seconds=%d" % seconds, "--snippets=%d" % a.snippets,
                        "--facets=%d" % a.facets] + ["--" + s for s in a.setting],
                       stdout=subprocess.PIPE, text=True,
                       env=dict(os.environ, KB_DATA_DIR=os.path.join(ROOT, "schemas")))
    m = re.search(r"(\d+) queries, ([0-9.]+) q/s, p50 ([0-9.]+) ms, p99 ([0-9.]+) ms, "
                  r"(\d+) errors.*?(?:(\d+) timed out)?$", p.stdout, re.M)
    if not m or p.returncode not in (0, 1):
        sys.exit("bench_shards: no figure from bench_inprocess (exit %d):\n%s" %
                 (p.returncode, p.stdout))
    return {"qps": float(m.group(2)), "p50": float(m.group(3)), "p99": float(m.group(4)),
            "errors": int(m.group(5)), "timed_out": int(m.group(6) or 0)}


def label(row, opens):
    n, kind = row
    if kind == "remote":
        return "%d remote shard%s (xapian-tcpsrv, loopback)" % (n, "s" if n > 1 else "")
    if n in opens:
        return "%d shard(s) as %s" % (n, opens[n])
    return "%d local shards" % n if n > 1 else "single index"


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
    ap.add_argument("--remote", action="store_true",
                    help="also each layout's shards through xapian-tcpsrv on loopback")
    ap.add_argument("--warmup", type=int, default=0,
                    help="seconds of unmeasured queries before each measured run")
    ap.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE",
                    help="a kb-server setting for the engine, e.g. query-seconds=60")
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
    rows = [(n, "local") for n in layouts] + ([(n, "remote") for n in layouts]
                                              if a.remote else [])
    paths, procs = {}, []
    try:
        for n, kind in rows:
            idx = os.path.join(work, "idx-%d" % n)
            if kind == "remote":
                paths[(n, kind)] = serve_remote(idx, n, os.path.join(work, "remote-%d" % n),
                                                procs)
            else:
                paths[(n, kind)] = opens.get(n, idx)
        res = {r: [] for r in rows}
        for r in range(a.rounds):
            for row in rows:
                if a.warmup:
                    inprocess(b, paths[row], qfile, a, a.warmup)
                f = inprocess(b, paths[row], qfile, a, a.seconds)
                res[row].append(f)
                print("round %d, %s: %.0f q/s, p50 %.2f ms, p99 %.1f ms, %d errors, "
                      "%d timed out" % (r + 1, label(row, opens), f["qps"], f["p50"],
                                        f["p99"], f["errors"], f["timed_out"]), flush=True)
    finally:
        for p in procs:
            p.terminate()
            p.wait()
    base = statistics.median(x["qps"] for x in res[rows[0]])
    print("\n| %dk docs, %d round(s) x %d s, %d threads, snippets=%d facets=%d%s | queries/s "
          "| p50 ms | p99 ms | errors, timed out | vs %s |" % (
              a.docs // 1000, a.rounds, a.seconds, a.workers, a.snippets, a.facets,
              "".join(", " + s for s in a.setting), label(rows[0], opens)))
    print("|---|---|---|---|---|---|")
    for row in rows:
        q = [x["qps"] for x in res[row]]
        print("| %s | %s | %s | %s | %d, %d | %.2f |" % (
            label(row, opens), fmt(q, "%.0f"), fmt([x["p50"] for x in res[row]], "%.2f"),
            fmt([x["p99"] for x in res[row]], "%.1f"), sum(x["errors"] for x in res[row]),
            sum(x["timed_out"] for x in res[row]), statistics.median(q) / base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
