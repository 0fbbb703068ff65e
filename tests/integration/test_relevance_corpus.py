# SPDX-License-Identifier: MIT
"""test_relevance_corpus.py - ranking quality on our own briefs, as a regression guard.

Runs bench/relevance/run.py --collection=corpus: corpus/ indexed by the real kb-indexer,
the 48 FR/IT/EN queries of bench/relevance/corpus sent to the real kb-server, scored
against the graded judgements there; SQLite FTS5 (bm25, porter) is measured in the same
run on the same extracted text. Fails when, over all queries or within any one
language, kb ranks worse than FTS5 on MAP or nDCG@10, or when kb falls below the floors
below (the figures of 2026-12-03 are MAP 0.829 / nDCG@10 0.871; the floors leave room
for a deliberate trade-off, not for a regression of the defaults).
"""
import json
import os
import subprocess
import sys
import tempfile

SRC = os.environ.get("KB_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("KB_BIN_DIR", os.path.join(SRC, "build", "bin"))
FLOOR = {"map": 0.78, "ndcg_cut_10": 0.82}

with tempfile.TemporaryDirectory(prefix="kb-test-relevance-") as out:
    proc = subprocess.run(
        [sys.executable, os.path.join(SRC, "bench", "relevance", "run.py"),
         "--collection=corpus", "--systems=kb,sqlite", "--json",
         f"--build={os.path.dirname(os.path.abspath(BIN))}", f"--out={out}"],
        capture_output=True, text=True, timeout=600)
if proc.returncode != 0:
    print(proc.stdout, proc.stderr)
    sys.exit(f"FAIL run.py exited with {proc.returncode}")
table = json.loads(proc.stdout)

failures = []
for group in ("", " [en]", " [fr]", " [it]"):
    kb, fts = table["kb" + group], table["sqlite-fts5" + group]
    if kb["num_q"] != 16 * (3 if not group else 1):
        failures.append(f"kb{group}: {kb['num_q']} queries scored")
    for metric in ("map", "ndcg_cut_10"):
        print(f"kb{group} {metric} {kb[metric]:.4f} (FTS5 {fts[metric]:.4f})")
        if kb[metric] <= fts[metric]:
            failures.append(f"kb{group} {metric} {kb[metric]:.4f} <= FTS5 "
                            f"{fts[metric]:.4f}")
for metric, floor in FLOOR.items():
    if table["kb"][metric] < floor:
        failures.append(f"kb {metric} {table['kb'][metric]:.4f} < {floor}")
for f in failures:
    print("FAIL", f)
sys.exit(1 if failures else 0)
