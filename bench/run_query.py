#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""run_query.py - benchmarks 3, 4 and the server half of 7: query throughput over HTTP
against the engine's in-process ceiling and the HTTP ceiling, run alternately.

    run_query.py INDEX [--rounds 3] [--seconds 8] [--connections 8] [--workers 4]

INDEX is what kb-indexer built (the --index= path). Per round, in this order:
  inprocess/http for each mode: plain (size=10, snippets=false), snippets
  (snippets=true), facets (snippets=false, facets=true);
  ceiling (bench_http_ceiling: fixed 1 KB body), suggest (GET /api/v1/suggest?q=<first
  4 letters of the query's first word>).
wrk runs 2 threads and --connections connections on loopback with queries.lua cycling
the query set (../shared/bench/queries.txt, or $KB_BENCH_QUERIES); bench_inprocess runs
--workers threads (one reader each, as many as the server has) over the same queries. Prints per-round lines, then tables:
queries/s, p50 and p99 (median and min-max over rounds), the ratio HTTP/in-process and
suggest/ceiling, and kb-server's RSS idle (after warm-up) and its peak under load.
Non-2xx responses or engine errors make the run fail: a fast error is not a figure.
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchstat import fmt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODES = {
    "plain": ("&size=10&snippets=false&facets=false", 0, 0),
    "snippets": ("&size=10&snippets=true&facets=false", 1, 0),
    "facets": ("&size=10&snippets=false&facets=true", 0, 1),
}


def ms(s):
    """wrk's '1.23ms' / '456.00us' / '1.20s' as milliseconds."""
    m = re.match(r"([0-9.]+)(us|ms|s|m)", s)
    v = float(m.group(1))
    return v * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[m.group(2)]


def cpu_s(pid):
    """User+system CPU seconds used so far by process pid (from /proc/PID/stat)."""
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url, qfile, path, extra, a, mode="", pid=None):
    """Runs wrk; returns dict(qps, p50, p99, qpc): qpc is requests per CPU-second of the
    server process pid (0 when pid is None)."""
    c0 = cpu_s(pid) if pid else 0.0
    cmd = ["wrk", "-t2", "-c%d" % a.connections, "-d%ds" % a.seconds, "--latency",
           "-s", os.path.join(HERE, "queries.lua"), url, "--", qfile, path, extra]
    if mode:
        cmd.append(mode)
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    c1 = cpu_s(pid) if pid else 0.0
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit("run_query: errors from %s%s:\n%s" % (url, path, out))
    qps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    p50 = ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    n = int(re.search(r"(\d+) requests in", out).group(1))
    return {"qps": qps, "p50": p50, "p99": p99, "qpc": n / (c1 - c0) if c1 > c0 else 0.0}


def inprocess(bins, index, qfile, snippets, facets, a):
    """Runs bench_inprocess; returns dict(qps, p50, p99)."""
    out = subprocess.run([os.path.join(bins, "bench_inprocess"), "--index=" + index,
                          "--queries=" + qfile, "--threads=%d" % a.workers, "--seconds=%d" % a.seconds,
                          "--snippets=%d" % snippets, "--facets=%d" % facets],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    m = re.search(r"(\d+) queries, ([0-9.]+) q/s, p50 ([0-9.]+) ms, p99 ([0-9.]+) ms.*"
                  r"cpu ([0-9.]+) s", out)
    return {"qps": float(m.group(2)), "p50": float(m.group(3)), "p99": float(m.group(4)),
            "qpc": int(m.group(1)) / max(1e-3, float(m.group(5)))}


def start(cmd, tmp, name):
    """Starts a server with --port=0 --port-file; returns (Popen, port)."""
    pf = os.path.join(tmp, name + ".port")
    p = subprocess.Popen(cmd + ["--port=0", "--port-file=" + pf], stdout=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(pf) and open(pf).read().strip():
            return p, int(open(pf).read())
        if p.poll() is not None:
            sys.exit("run_query: %s exited with %d" % (name, p.returncode))
        time.sleep(0.05)
    p.kill()
    sys.exit("run_query: %s did not start" % name)


def stopper(procs):
    """A function that terminates the still-running procs (a list the caller fills),
    also called on SIGTERM before exiting 1."""
    def stop(*_):
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait()
    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(1)))
    return stop


def rss_mb(pid, field="VmRSS"):
    """A /proc/PID/status memory field in MB."""
    m = re.search(r"^%s:\s+(\d+) kB" % field, open("/proc/%d/status" % pid).read(), re.M)
    return int(m.group(1)) / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("index")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--workers", type=int, default=4)
    a = ap.parse_args()
    bins = os.environ.get("KB_BIN_DIR", os.path.join(ROOT, "build-bench", "bin"))
    qfile = os.environ.get("KB_BENCH_QUERIES",
                           os.path.join(ROOT, "..", "shared", "bench", "queries.txt"))
    qfile = os.path.abspath(qfile)
    res = {}
    procs = []
    tmp = tempfile.mkdtemp(prefix="kb-bench-query.")

    stop = stopper(procs)
    try:
        srv, port = start([os.path.join(bins, "kb-server"), "--index=" + a.index,
                           "--workers=%d" % a.workers, "--access-log="], tmp, "kb-server")
        procs.append(srv)
        ceil, cport = start([os.path.join(bins, "bench_http_ceiling"),
                             "--workers=%d" % a.workers], tmp, "ceiling")
        procs.append(ceil)
        url = "http://127.0.0.1:%d" % port
        # warm-up: every worker opens its reader, the page cache holds the index
        subprocess.run(["wrk", "-t2", "-c%d" % a.connections, "-d3s", "-s",
                        os.path.join(HERE, "queries.lua"), url, "--", qfile,
                        "/api/v1/search", MODES["plain"][0]], check=True,
                       stdout=subprocess.DEVNULL)
        idle = rss_mb(srv.pid)
        for r in range(a.rounds):
            for mode, (extra, sn, fa) in MODES.items():
                for kind in ("inprocess", "http"):
                    if kind == "inprocess":
                        m = inprocess(bins, a.index, qfile, sn, fa, a)
                    else:
                        m = wrk(url, qfile, "/api/v1/search", extra, a, pid=srv.pid)
                    res.setdefault((kind, mode), []).append(m)
                    print("round %d %-9s %-8s %8.1f q/s p50 %7.2f ms p99 %7.2f ms %8.1f q/cpu-s" %
                          (r + 1, kind, mode, m["qps"], m["p50"], m["p99"], m["qpc"]),
                          flush=True)
            for kind, u, path, mode, pid in (
                    ("ceiling", "http://127.0.0.1:%d" % cport, "/x", "", ceil.pid),
                    ("suggest", url, "/api/v1/suggest", "prefix", srv.pid)):
                m = wrk(u, qfile, path, "", a, mode, pid)
                res.setdefault((kind, ""), []).append(m)
                print("round %d %-9s %-8s %8.1f q/s p50 %7.2f ms p99 %7.2f ms %8.1f q/cpu-s" %
                      (r + 1, kind, "", m["qps"], m["p50"], m["p99"], m["qpc"]), flush=True)
        peak = rss_mb(srv.pid, "VmHWM")
    finally:
        stop()
    print("\nindex %s, %d rounds of %d s, wrk -t2 -c%d, %d server workers, %s, loadavg %s" %
          (a.index, a.rounds, a.seconds, a.connections, a.workers, time.strftime("%Y-%m-%d"),
           " ".join("%.1f" % x for x in os.getloadavg())))
    print("| run | queries/s | queries/CPU-s | p50 ms | p99 ms | p99/p50 |")
    print("|---|---|---|---|---|---|")
    for (kind, mode), v in res.items():
        print("| %s %s | %s | %s | %s | %s | %.1f |" % (
            kind, mode, fmt([m["qps"] for m in v]), fmt([m["qpc"] for m in v]),
            fmt([m["p50"] for m in v], "%.2f"),
            fmt([m["p99"] for m in v], "%.2f"),
            statistics.median([m["p99"] for m in v]) /
            max(1e-9, statistics.median([m["p50"] for m in v]))))
    med = lambda k, f="qps": statistics.median([m[f] for m in res[k]])
    print("\n| ratio | wall q/s | per CPU-s | goal |")
    print("|---|---|---|---|")
    for mode, goal in (("plain", 0.70), ("snippets", None), ("facets", 0.50)):
        r = med(("http", mode)) / med(("inprocess", mode))
        rc = med(("http", mode), "qpc") / med(("inprocess", mode), "qpc")
        print("| HTTP/in-process %s | %.0f%% | %.0f%% | %s |" % (
            mode, 100 * r, 100 * rc, "-" if goal is None else
            ("met" if min(r, rc) >= goal else "gap (goal %.0f%%)" % (100 * goal))))
    for name, k in (("suggest/ceiling", ("suggest", "")),
                    ("search plain/ceiling", ("http", "plain"))):
        print("| %s | %.1f%% | %.1f%% | - |" % (
            name, 100 * med(k) / med(("ceiling", "")),
            100 * med(k, "qpc") / med(("ceiling", ""), "qpc")))
    print("\nkb-server RSS: idle (after warm-up) %.0f MB, peak under load %.0f MB" % (idle, peak))


if __name__ == "__main__":
    main()
