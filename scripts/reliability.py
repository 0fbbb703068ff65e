#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""reliability.py - runs the reliability tests and refreshes the table of
docs/reliability.md from the figures they print (`reliability: <test>: <figure>`).

    scripts/reliability.py [--build build] [--fuzz-build build-fuzz] [--check]

Runs, through ctest in the build directory, every test named in TESTS below (and, when
the clang build directory of `make test-fuzz` exists, its fuzzrun.* tests), collects
each test's line, and rewrites the rows between the markers of docs/reliability.md.
With --check nothing is written: it exits 1 when a test failed or printed no figure.
`make reliability` runs it."""
import argparse
import datetime
import os
import re
import subprocess
import sys

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(SRC, "docs", "reliability.md")
BEGIN, END = "<!-- reliability:begin -->", "<!-- reliability:end -->"

# test -> (ctest name, what it throws at the programs)
TESTS = {
    "test_faults_kill": ("integration.test_faults_kill",
                         "kill -9 of kb-indexer mid-run (incremental, then a sharded --full)"),
    "test_faults_lock": ("integration.test_faults_lock",
                         "a second kb-indexer on the same index while the first runs"),
    "test_faults_diskfull": ("integration.test_faults_diskfull",
                             "the file size limit reached mid-run (RLIMIT_FSIZE)"),
    "test_faults_diskspace": ("integration.test_faults_diskspace",
                              "a real full disk (tmpfs): incremental, --full, and a run "
                              "killed while filling it"),
    "test_faults_server": ("integration.test_faults_server",
                           "queries in a loop while the indexer adds, rebuilds and switches "
                           "generation"),
    "test_faults_index": ("integration.test_faults_index",
                          "a missing, empty or damaged index at start (stub, tables, "
                          "version file); the index moved away and rebuilt, --full twice, "
                          "under a looping client"),
    "test_faults_unreadable": ("integration.test_faults_unreadable",
                               "a subfolder that cannot be listed (chmod 000) or searched "
                               "(chmod 644), as a non-root user"),
    "test_faults_badnames": ("integration.test_faults_badnames",
                             "file and folder names that are not UTF-8 (Latin-1 bytes)"),
    "test_faults_apiwrite_full": ("integration.test_faults_apiwrite_full",
                                  "PUT /api/v1/documents/{id} in a loop on a disk that "
                                  "fills up"),
    "test_alloc_fail": ("unit.test_alloc_fail",
                        "each allocation of core and xapian-c failing in turn over 9 "
                        "operations"),
}
FUZZ_WHAT = "libFuzzer, {s} s, ASan+UBSan: random mutations of the seed corpus"


def run(build, names, label=None, seconds=None):
    """Runs ctest -V for names (or a label); returns ({test: figure}, failed tests)."""
    cmd = ["ctest", "-V"]
    if label:
        cmd += ["-L", label]
    else:
        cmd += ["-R", "^(" + "|".join(re.escape(n) for n in names) + ")$"]
    env = dict(os.environ)
    if seconds:
        env["FUZZ_SECONDS"] = str(seconds)
    p = subprocess.run(cmd, cwd=build, capture_output=True, text=True, env=env)
    figures = {}
    for line in p.stdout.splitlines():
        m = re.search(r"reliability: ([\w.]+): (.*)$", line)
        if m:
            figures[m.group(1)] = m.group(2).strip()
    failed = re.findall(r"\d+ - (\S+) \(Failed|\d+ - (\S+) \(", p.stdout)
    failed = [a or b for a, b in failed]
    return figures, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--fuzz-build", default=os.path.join(SRC, "build-fuzz"))
    ap.add_argument("--fuzz-seconds", type=int, default=3)
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    figures, failed = run(a.build, [v[0] for v in TESTS.values()])
    rows = []
    for test, (_, what) in TESTS.items():
        rows.append((test, what, figures.get(test)))
    if os.path.isdir(a.fuzz_build):
        fz, ffail = run(a.fuzz_build, None, "fuzzrun", a.fuzz_seconds)
        failed += ffail
        for name in sorted(fz):
            rows.append((name, FUZZ_WHAT.format(s=a.fuzz_seconds), fz[name]))
    missing = [t for t, _, f in rows if not f]
    for t in failed:
        print("reliability: FAILED %s" % t)
    for t in missing:
        print("reliability: no figure from %s" % t)
    if a.check:
        for t, _, f in rows:
            print("%-28s %s" % (t, f))
        return 1 if failed or missing else 0
    today = datetime.date.today().isoformat()
    table = ["| test | what it throws | last measured (%s) |" % today, "|---|---|---|"]
    for t, what, f in rows:
        table.append("| `%s` | %s | %s |" % (t, what, f or "(no figure: failed?)"))
    doc = open(DOC).read()
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    doc = doc[:start] + "\n" + "\n".join(table) + "\n" + doc[end:]
    open(DOC, "w").write(doc)
    print("reliability: %d rows written to %s" % (len(rows), os.path.relpath(DOC, SRC)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
