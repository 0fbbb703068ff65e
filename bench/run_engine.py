#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""run_engine.py - issue #13: the engine's cost against raw Xapian, side by side in one
run. kb-server over HTTP is measured against bench_anchor (raw Xapian in-process, see
bench_anchor.cc), alternately, round after round, so machine load hits all alike.

    run_engine.py INDEX ANCHOR_INDEX [--rounds 2] [--seconds 8] [--connections 4]
                  [--anchor-threads 2] [--workers 4] [--variants a,b] [--suggest-ref Q]
                  [--server-arg --KEY=VALUE ...] [--wrk-timeout 30]

INDEX is what kb-indexer built (its --index= path); ANCHOR_INDEX any Xapian database of
the same corpus (the figures in bench/README.md use omindex's). Any size works: at 1M
give the 1M index and the 1M omindex. Per round (the order is reversed every other
round):
  anchor    bench_anchor --threads=A --seconds=S (QueryParser, English stemmer, BM25,
            top 10 with document data; one Database per thread)
  default   GET /api/v1/search?q=..&size=10&snippets=false (every other feature as
            shipped: language branches, thesaurus, feedback, typo tolerance, collapsing)
  snippets  the same with snippets=true
  facets    snippets=false&facets=lang,topic,year,org,type (exact counts)
  suggest   GET /api/v1/suggest?q=<first 4 characters of the query's first word>
and the --variants asked for (each a cost split of the default search):
  nofeedback  default on a second kb-server with --feedback-docs=0
  lang_en     default with lang=en (one language branch, and a filter)
  nocorrect   default with correct=false (no typo-tolerance pass)
  anchor_exact  the anchor counting every match (check_at_least = all documents), as
              kb-server does up to KB_EXACT_DOCS (20,000) documents and for facets
wrk: 2 threads, --connections connections, queries.lua cycling the query set
(../shared/bench/queries.txt or $KB_BENCH_QUERIES). Server CPU is read from
/proc/PID/stat before and after each wrk run (wrk's own CPU is not counted); the
anchor's is its threads' CPU in their loops. Prints per-run lines, then a table:
queries/s, CPU ms per query, p50, p99, p99/p50, the ratio to the anchor (wall q/s and
per CPU-second) and the goal's verdict. Binaries: $KB_BIN_DIR (default build-bench/bin).
Non-2xx answers make the run fail: a fast error is not a figure. A query past
query_seconds (2 s) answers 503, so a large index is measured with, e.g.,
--server-arg=--query-seconds=60 (its slow queries measured whole); wrk gives up on an
answer after --wrk-timeout seconds (a socket error, which also fails the run).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchstat import fmt  # noqa: E402
from run_query import cpu_s, ms, rss_mb, start, stopper  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FACETS = "lang,topic,year,org,type"
# name: (server, path, query-string tail, wrk mode)
MODES = {
    "default": ("main", "/api/v1/search", "&size=10&snippets=false", ""),
    "snippets": ("main", "/api/v1/search", "&size=10&snippets=true", ""),
    "facets": ("main", "/api/v1/search", "&size=10&snippets=false&facets=" + FACETS, ""),
    "suggest": ("main", "/api/v1/suggest", "", "prefix"),
    "nofeedback": ("nofb", "/api/v1/search", "&size=10&snippets=false", ""),
    "lang_en": ("main", "/api/v1/search", "&size=10&snippets=false&lang=en", ""),
    "nocorrect": ("main", "/api/v1/search", "&size=10&snippets=false&correct=false", ""),
}


def wrk(url, qfile, path, extra, mode, pid, a):
    """One wrk run; returns dict(qps, p50, p99, cpu_ms): server CPU ms per request."""
    c0 = cpu_s(pid)
    cmd = ["wrk", "-t2", "-c%d" % a.connections, "-d%ds" % a.seconds, "--latency",
           "--timeout", "%ds" % a.wrk_timeout, "-s", os.path.join(HERE, "queries.lua"), url,
           "--", qfile, path, extra]
    if mode:
        cmd.append(mode)
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    c1 = cpu_s(pid)
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit("run_engine: errors from %s%s:\n%s" % (url, path, out))
    n = int(re.search(r"(\d+) requests in", out).group(1))
    return {"qps": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)),
            "p50": ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
            "p99": ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
            "cpu_ms": 1e3 * (c1 - c0) / max(1, n)}


def anchor(bins, index, qfile, seconds, exact, a):
    """One bench_anchor run; returns the same dict as wrk()."""
    out = subprocess.run([os.path.join(bins, "bench_anchor"), "--index=" + index,
                          "--queries=" + qfile, "--threads=%d" % a.anchor_threads,
                          "--seconds=%d" % seconds, "--exact=%d" % exact],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    m = re.search(r"(\d+) queries, ([0-9.]+) q/s, p50 ([0-9.]+) ms, p99 ([0-9.]+) ms.*"
                  r"cpu ([0-9.]+) s", out)
    return {"qps": float(m.group(2)), "p50": float(m.group(3)), "p99": float(m.group(4)),
            "cpu_ms": 1e3 * float(m.group(5)) / max(1, int(m.group(1)))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("index")
    ap.add_argument("anchor_index")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--anchor-threads", type=int, default=2)
    ap.add_argument("--variants", default="", help="comma list: nofeedback,lang_en,nocorrect")
    ap.add_argument("--only", default="anchor,default,snippets,facets,suggest")
    ap.add_argument("--server-arg", action="append", default=[], metavar="--KEY=VALUE",
                    help="a kb-server option for every server, e.g. --query-seconds=60")
    ap.add_argument("--wrk-timeout", type=int, default=30,
                    help="seconds wrk waits for one answer (wrk's own default: 2)")
    ap.add_argument("--suggest-ref", type=float, default=0.0,
                    help="today's suggest queries/s, for the suggest goal (0: none)")
    a = ap.parse_args()
    bins = os.environ.get("KB_BIN_DIR", os.path.join(ROOT, "build-bench", "bin"))
    qfile = os.path.abspath(os.environ.get(
        "KB_BENCH_QUERIES", os.path.join(ROOT, "..", "shared", "bench", "queries.txt")))
    runs = [n for n in a.only.split(",") if n] + [v for v in a.variants.split(",") if v]
    for n in runs:
        if n not in ("anchor", "anchor_exact") and n not in MODES:
            sys.exit("run_engine: unknown run '%s'" % n)
    load0 = os.getloadavg()
    procs, res, servers = [], {}, {}
    tmp = tempfile.mkdtemp(prefix="kb-bench-engine.")

    stop = stopper(procs)
    try:
        base = [os.path.join(bins, "kb-server"), "--index=" + a.index,
                "--workers=%d" % a.workers, "--access-log="] + a.server_arg
        wanted = {MODES[n][0] for n in runs if not n.startswith("anchor")}
        for name in sorted(wanted):
            extra = ["--feedback-docs=0"] if name == "nofb" else []
            p, port = start(base + extra, tmp, "kb-server-" + name)
            procs.append(p)
            servers[name] = (p, "http://127.0.0.1:%d" % port)
            # warm-up: every worker opens its reader, the page cache holds the index
            subprocess.run(["wrk", "-t2", "-c%d" % a.connections, "-d3s", "--timeout",
                            "%ds" % a.wrk_timeout, "-s",
                            os.path.join(HERE, "queries.lua"), servers[name][1], "--",
                            qfile, "/api/v1/search", MODES["default"][2]], check=True,
                           stdout=subprocess.DEVNULL)
        if "anchor" in runs:
            anchor(bins, a.anchor_index, qfile, 2, 0, a)  # warm-up
        for r in range(a.rounds):
            order = runs if r % 2 == 0 else runs[::-1]
            for n in order:
                if n.startswith("anchor"):
                    m = anchor(bins, a.anchor_index, qfile, a.seconds, n == "anchor_exact", a)
                else:
                    srv, path, extra, mode = MODES[n]
                    p, url = servers[srv]
                    m = wrk(url, qfile, path, extra, mode, p.pid, a)
                res.setdefault(n, []).append(m)
                print("round %d %-10s %9.1f q/s %7.3f cpu-ms/q p50 %8.3f ms p99 %8.3f ms" %
                      (r + 1, n, m["qps"], m["cpu_ms"], m["p50"], m["p99"]), flush=True)
        peak = {n: rss_mb(p.pid, "VmHWM") for n, (p, _) in servers.items()}
    finally:
        stop()
    load1 = os.getloadavg()

    med = lambda n, k: statistics.median([m[k] for m in res[n]])  # noqa: E731
    print("\nindex %s, anchor %s; %d rounds of %d s; wrk -t2 -c%d, %d server workers, "
          "anchor %d threads%s; %s; loadavg %s at start, %s at end; server peak RSS %s" % (
              a.index, a.anchor_index, a.rounds, a.seconds, a.connections, a.workers,
              a.anchor_threads, "".join(" " + x for x in a.server_arg),
              time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              " ".join("%.1f" % x for x in load0), " ".join("%.1f" % x for x in load1),
              ", ".join("%s %.0f MB" % kv for kv in peak.items())))
    goals = {"default": ("anchor", 1 / 3), "snippets": ("anchor", 1 / 4),
             "facets": ("default", 1 / 2)}
    print("| run | queries/s | CPU ms/query | p50 ms | p99 ms | p99/p50 | vs anchor: "
          "q/s; per CPU-s | goal | verdict |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in runs:
        v = res[n]
        qps, cpu = med(n, "qps"), med(n, "cpu_ms")
        tail = med(n, "p99") / max(1e-9, med(n, "p50"))
        ratio, goal, verdict = "-", "-", "-"
        if "anchor" in res and n not in ("anchor", "anchor_exact", "suggest"):
            ratio = "1/%.1f; 1/%.1f" % (med("anchor", "qps") / qps,
                                         cpu / med("anchor", "cpu_ms"))
        if n in goals and goals[n][0] in res:
            ref, g = goals[n]
            got = qps / med(ref, "qps")
            goal = "≥ 1/%d of %s" % (round(1 / g), ref)
            ok = got >= g
            if n == "facets":
                goal += ", p99/p50 ≤ 4"
                ok = ok and tail <= 4
                verdict = "%s (%.2f of default, p99/p50 %.1f)" % (
                    "met" if ok else "NOT met", got, tail)
            else:
                verdict = "%s (1/%.1f)" % ("met" if ok else "NOT met", 1 / got)
        if n == "suggest" and a.suggest_ref > 0:
            goal = "≥ %.0f q/s" % a.suggest_ref
            verdict = "%s (%.2fx)" % ("met" if qps >= a.suggest_ref else "NOT met",
                                      qps / a.suggest_ref)
        print("| %s | %s | %s | %s | %s | %.1f | %s | %s | %s |" % (
            n, fmt([m["qps"] for m in v], "%.0f"), fmt([m["cpu_ms"] for m in v], "%.3f"),
            fmt([m["p50"] for m in v], "%.2f"), fmt([m["p99"] for m in v], "%.2f"), tail,
            ratio, goal, verdict))


if __name__ == "__main__":
    main()
