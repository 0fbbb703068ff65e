#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""run_compare.py - benchmark 5: per-query latency of ours against SQLite FTS5 and
Omega's CGI, over the indexes run_index.py left in its --work folder (build time and
index size for the same systems are in run_index.py's tables).

    run_compare.py WORK [--queries N] [--rounds 2]

Per round, alternately, over the first N queries (default 200) of the query set:
  ours   bench_inprocess --threads=1 (kb_search_run, snippets off, facets off) for
         about N queries' worth of seconds, so one reader, one core
  fts5   fts5.py query (in-process Python sqlite3, MATCH + bm25 + LIMIT 10)
  omega  /usr/lib/cgi-bin/omega/omega, one process per query (QUERY_STRING=P=...),
         as a CGI server would run it, over WORK/omindex
Prints p50/p99 latency and queries/s for each, median over rounds.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OMEGA = "/usr/lib/cgi-bin/omega/omega"


def omega(work, queries, tmp):
    """One omega process per query; returns dict(qps, p50, p99)."""
    data = os.path.join(tmp, "data")
    os.makedirs(data, exist_ok=True)
    link = os.path.join(data, "default")
    if not os.path.exists(link):
        os.symlink(os.path.join(work, "omindex"), link)
    conf = os.path.join(tmp, "omega.conf")
    with open(conf, "w") as f:
        f.write("database_dir %s\ntemplate_dir /usr/share/xapian-omega/templates\n"
                "log_dir %s\n" % (data, tmp))
    lat = []
    t0 = time.monotonic()
    for q in queries:
        env = dict(os.environ, OMEGA_CONFIG_FILE=conf, REQUEST_METHOD="GET",
                   QUERY_STRING="P=" + urllib.parse.quote_plus(q) + "&HITSPERPAGE=10")
        t = time.monotonic()
        subprocess.run([OMEGA], env=env, stdout=subprocess.DEVNULL, check=True)
        lat.append(time.monotonic() - t)
    wall = time.monotonic() - t0
    lat.sort()
    return {"qps": len(queries) / wall, "p50": 1e3 * lat[len(lat) // 2],
            "p99": 1e3 * lat[min(len(lat) - 1, len(lat) * 99 // 100)]}


def parse(out, pat):
    """qps/p50/p99 from one of our tools' summary lines."""
    m = re.search(pat, out)
    if not m:
        sys.exit("run_compare: unexpected output:\n" + out)
    return {"qps": float(m.group(1)), "p50": float(m.group(2)), "p99": float(m.group(3))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    bins = os.environ.get("KB_BIN_DIR", os.path.join(ROOT, "build-bench", "bin"))
    qfile = os.path.abspath(os.environ.get(
        "KB_BENCH_QUERIES", os.path.join(ROOT, "..", "shared", "bench", "queries.txt")))
    queries = [l.rstrip("\n") for l in open(qfile, encoding="utf-8")][:a.queries]
    sub = os.path.join(tempfile.mkdtemp(prefix="kb-bench-cmp."), "queries.txt")
    with open(sub, "w", encoding="utf-8") as f:
        f.write("\n".join(queries) + "\n")
    res = {}
    for r in range(a.rounds):
        out = subprocess.run([os.path.join(bins, "bench_inprocess"),
                              "--index=" + os.path.join(a.work, "ours", "index"),
                              "--queries=" + sub, "--threads=1", "--seconds=10"],
                             check=True, stdout=subprocess.PIPE, text=True).stdout
        res.setdefault("ours (in-process, 1 thread)", []).append(
            parse(out, r"([0-9.]+) q/s, p50 ([0-9.]+) ms, p99 ([0-9.]+) ms"))
        out = subprocess.run([sys.executable, os.path.join(HERE, "fts5.py"), "query",
                              os.path.join(a.work, "fts5", "fts5.db"), sub],
                             check=True, stdout=subprocess.PIPE, text=True).stdout
        res.setdefault("fts5 (in-process)", []).append(
            parse(out, r"([0-9.]+) q/s, p50 ([0-9.]+) ms, p99 ([0-9.]+) ms"))
        res.setdefault("omega CGI (process per query)", []).append(
            omega(os.path.abspath(a.work), queries, os.path.dirname(sub)))
        for k, v in res.items():
            print("round %d %-32s %8.1f q/s p50 %7.2f ms p99 %7.2f ms" %
                  (r + 1, k, v[-1]["qps"], v[-1]["p50"], v[-1]["p99"]), flush=True)
    print("\n%d queries, %d rounds, %s, loadavg %s" % (
        len(queries), a.rounds, time.strftime("%Y-%m-%d"),
        " ".join("%.1f" % x for x in os.getloadavg())))
    print("| system | queries/s | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for k, v in res.items():
        med = lambda f: statistics.median([m[f] for m in v])
        print("| %s | %.1f | %.2f | %.2f |" % (k, med("qps"), med("p50"), med("p99")))


if __name__ == "__main__":
    main()
