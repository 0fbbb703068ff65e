#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""typos.py - typo tolerance measured on our briefs: for each misspelled query of
typos.tsv (FR/IT/EN, one typo each), does the misspelled query find what its correct
form finds?

corpus/ is indexed by the real kb-indexer (or --index=DIR is reused) and served by the
real kb-server on 127.0.0.1 (port 0); both forms of each query are sent as
GET /api/v1/search?q=...&size=5&snippets=false. A misspelled query "finds the correct
query's top 5" when the correct query's first hit is among its top 5; the overlap of
the two top 5 lists (0-5) is reported too, and whether the answer said "corrected".

  typos.py [--build=DIR] [--index=DIR] [--kb-arg=--typo-tolerance=false] [--json]
           [--min-rate=0.9]

Prints one line per query and the totals (per language too); with --json, the totals as
JSON on stdout. Exit status 1 when --min-rate is given and the hit rate is below it.
Standard library only; the server it starts is stopped, and its temp dir removed.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))


def load(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            lang, kind, wrong, right = line.rstrip("\n").split("\t")
            rows.append({"lang": lang, "kind": kind, "wrong": wrong, "right": right})
    return rows


def search(port, q):
    params = urllib.parse.urlencode({"q": q, "size": 5, "snippets": "false"})
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/search?{params}",
                                timeout=30) as r:
        return json.load(r)


def measure(port, rows):
    for row in rows:
        good = search(port, row["right"])
        bad = search(port, row["wrong"])
        top_good = [h["id"] for h in good["hits"]]
        top_bad = [h["id"] for h in bad["hits"]]
        row["found"] = bool(top_good) and top_good[0] in top_bad
        row["overlap"] = len(set(top_good) & set(top_bad))
        row["corrected"] = bad.get("corrected")
        row["right_corrected"] = good.get("corrected")
    return rows


def totals(rows):
    out = {}
    for group in ("all", "en", "fr", "it"):
        sel = [r for r in rows if group == "all" or r["lang"] == group]
        if not sel:
            continue
        out[group] = {
            "queries": len(sel),
            "found": sum(r["found"] for r in sel),
            "rate": sum(r["found"] for r in sel) / len(sel),
            "mean_overlap": sum(r["overlap"] for r in sel) / len(sel),
            "corrected": sum(r["corrected"] is not None for r in sel),
            # a correct query must never be corrected
            "correct_forms_corrected": sum(r["right_corrected"] is not None for r in sel),
        }
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("KB_BUILD_DIR",
                                                      os.path.join(SOURCE, "build")))
    ap.add_argument("--queries", default=os.path.join(HERE, "typos.tsv"))
    ap.add_argument("--index", help="reuse (or build once into) this kb index directory")
    ap.add_argument("--kb-arg", action="append", default=[],
                    help="extra kb-server setting, e.g. --kb-arg=--typo-tolerance=false")
    ap.add_argument("--json", action="store_true", help="print the totals as JSON")
    ap.add_argument("--min-rate", type=float, help="exit 1 when the hit rate is below")
    args = ap.parse_args(argv)
    rows = load(args.queries)
    bindir = os.path.join(args.build, "bin")
    with tempfile.TemporaryDirectory(prefix="kb-typos-") as tmp:
        index = args.index or os.path.join(tmp, "index")
        if not os.path.exists(index):
            subprocess.run([os.path.join(bindir, "kb-indexer"), f"--index={index}",
                            "--quiet", os.path.join(SOURCE, "corpus")],
                           check=True, stdout=subprocess.DEVNULL)
        port_file = os.path.join(tmp, "port")
        srv = subprocess.Popen([os.path.join(bindir, "kb-server"), f"--index={index}",
                                "--port=0", f"--port-file={port_file}", "--workers=2",
                                "--access-log="] + args.kb_arg,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
        try:
            for _ in range(300):
                if os.path.exists(port_file) and open(port_file).read().strip():
                    break
                if srv.poll() is not None:
                    raise RuntimeError("kb-server exited: " + srv.stderr.read().decode())
                time.sleep(0.05)
            port = int(open(port_file).read().strip())
            measure(port, rows)
        finally:
            srv.send_signal(signal.SIGTERM)
            try:
                srv.wait(timeout=10)
            except subprocess.TimeoutExpired:
                srv.kill()
                srv.wait()
    tot = totals(rows)
    out = sys.stderr if args.json else sys.stdout
    for r in rows:
        print(f"{'ok  ' if r['found'] else 'MISS'} {r['lang']} {r['kind']:<13} "
              f"{r['wrong']!r} -> {r['corrected']!r} (top 5 overlap {r['overlap']}/5)",
              file=out)
    for group, t in tot.items():
        print(f"{group}: {t['found']}/{t['queries']} find the correct query's first hit "
              f"in their top 5 ({t['rate']:.0%}), mean top-5 overlap "
              f"{t['mean_overlap']:.2f}/5, {t['corrected']} corrected, "
              f"{t['correct_forms_corrected']} correct forms corrected", file=out)
    if args.json:
        print(json.dumps(tot, indent=1))
    if args.min_rate is not None and tot["all"]["rate"] < args.min_rate:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
