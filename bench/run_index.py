#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""run_index.py - benchmarks 1 and 6: indexing throughput and index size, ours against
the anchors, run alternately in the same session so machine load hits all alike.

    run_index.py CORPUS_DIR [--rounds 3] [--work DIR] [--only ours,omindex,plain,fts5]

Each round builds, from scratch and in this order, with /usr/bin/time -v around it:
  ours     kb-indexer --full (full language analysis, spelling, thesaurus, compaction)
  omindex  Xapian's omindex (xapian-omega), .md as text/plain, default (English) stemmer as omega uses
  plain    bench_plain_index over the extract_text.py dump (one-thread TermGenerator loop)
  fts5     fts5.py build over the same dump (SQLite FTS5, porter, one transaction)
then prints, per system: wall s, CPU s (user+sys), docs/s, MB/s (corpus bytes on disk /
wall), peak RSS and index size (omindex and plain also after an untimed xapian-compact,
since kb-indexer --full compacts its own), as median and min-max over the rounds, and the ratio of
ours to each anchor (throughput: ours/anchor, > 1 is better; size: ours/anchor, < 1 is
smaller). The dump is made once before the rounds and its time is not counted for plain
and fts5 (they get their text for free). Binaries come from $KB_BIN_DIR (default
build-bench/bin next to this folder).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchstat import fmt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def du(path):
    """Bytes on disk under path (a file or a tree)."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            p = os.path.join(d, f)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v; returns dict(wall, cpu, rss_mb). Exits on error."""
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    if p.returncode not in (0,):
        sys.exit("run_index: %s failed (%d):\n%s" % (cmd[0], p.returncode, p.stderr[-2000:]))
    def field(name):
        m = re.search(r"%s: ([0-9.]+)" % re.escape(name), p.stderr)
        return float(m.group(1)) if m else 0.0
    return {"wall": wall,
            "cpu": field("User time (seconds)") + field("System time (seconds)"),
            "rss_mb": field("Maximum resident set size (kbytes)") / 1024.0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", default="/tmp/kb-bench-index")
    ap.add_argument("--only", default="ours,omindex,plain,fts5")
    a = ap.parse_args()
    bins = os.environ.get("KB_BIN_DIR", os.path.join(ROOT, "build-bench", "bin"))
    corpus = os.path.abspath(a.corpus)
    os.makedirs(a.work, exist_ok=True)
    dump = os.path.join(a.work, "dump.tsv")
    subprocess.run([sys.executable, os.path.join(HERE, "extract_text.py"), corpus, dump],
                   check=True)
    ndocs = sum(1 for _ in open(dump, encoding="utf-8"))
    corpus_mb = du(corpus) / 1e6
    env = dict(os.environ, XAPIAN_FLUSH_THRESHOLD="1000")
    systems = {
        "ours": lambda out: [os.path.join(bins, "kb-indexer"), "--index=" + out + "/index",
                             "--full", "--quiet", corpus],
        "omindex": lambda out: ["omindex", "--db", out, "--url", "/", "--mime-type=md:text/plain",
                                corpus],
        "plain": lambda out: [os.path.join(bins, "bench_plain_index"), dump, out],
        "fts5": lambda out: [sys.executable, os.path.join(HERE, "fts5.py"), "build", dump,
                             out + "/fts5.db"],
    }
    names = [n for n in a.only.split(",") if n in systems]
    res = {n: [] for n in names}
    for r in range(a.rounds):
        for n in names:
            out = os.path.join(a.work, n)
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(out)
            m = timed(systems[n](out), env)
            m["size_mb"] = du(out) / 1e6
            m["compact_mb"] = m["size_mb"]
            if n in ("omindex", "plain"):  # ours is compacted by --full; make it fair
                cdir = out + ".compact"
                shutil.rmtree(cdir, ignore_errors=True)
                subprocess.run(["xapian-compact", "--no-renumber", out, cdir], check=True,
                               stdout=subprocess.DEVNULL)
                m["compact_mb"] = du(cdir) / 1e6
                shutil.rmtree(cdir)
            res[n].append(m)
            print("round %d %-8s wall %7.1f s cpu %7.1f s rss %6.0f MB size %6.1f MB" %
                  (r + 1, n, m["wall"], m["cpu"], m["rss_mb"], m["size_mb"]), flush=True)
    print("\n%d docs, %.1f MB on disk, %d rounds, %s, %d cores, loadavg %s" %
          (ndocs, corpus_mb, a.rounds, time.strftime("%Y-%m-%d"), os.cpu_count(),
           " ".join("%.1f" % x for x in os.getloadavg())))
    print("| system | wall s | CPU s | docs/s | MB/s | peak RSS MB | index MB | compacted MB |")
    print("|---|---|---|---|---|---|---|---|")
    for n in names:
        v = res[n]
        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, fmt([m["wall"] for m in v]), fmt([m["cpu"] for m in v]),
            fmt([ndocs / m["wall"] for m in v], "%.0f"),
            fmt([corpus_mb / m["wall"] for m in v], "%.2f"),
            fmt([m["rss_mb"] for m in v], "%.0f"), fmt([m["size_mb"] for m in v]),
            fmt([m["compact_mb"] for m in v])))
    if "ours" in res:
        print("\n| ours vs | throughput ratio (wall) | CPU-time ratio (anchor/ours) "
              "| size ratio (ours/anchor compacted) |")
        print("|---|---|---|---|")
        med = lambda n, k: statistics.median([m[k] for m in res[n]])
        for n in names:
            if n == "ours":
                continue
            print("| %s | %.2fx | %.2fx | %.2fx |" % (
                n, med(n, "wall") / med("ours", "wall"), med(n, "cpu") / med("ours", "cpu"),
                med("ours", "size_mb") / med(n, "compact_mb")))


if __name__ == "__main__":
    main()
