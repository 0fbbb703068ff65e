# SPDX-License-Identifier: MIT
"""test_typos.py - typo tolerance measured on our briefs, as a regression guard.

Runs bench/relevance/typos.py: corpus/ indexed by the real kb-indexer, the 36 misspelled
FR/IT/EN queries of bench/relevance/typos.tsv (one typo each) and their correct forms
sent to the real kb-server. Fails when fewer than 9 in 10 misspelled queries find their
correct form's first hit in their top 5, in all or in any one language, or when a
correct form is "corrected". With typo_tolerance = false the same queries score 31/36
(0.86), so the test fails without the feature.
"""
import json
import os
import subprocess
import sys

SRC = os.environ.get("KB_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("KB_BIN_DIR", os.path.join(SRC, "build", "bin"))
GOAL = 0.9

proc = subprocess.run(
    [sys.executable, os.path.join(SRC, "bench", "relevance", "typos.py"), "--json",
     f"--build={os.path.dirname(os.path.abspath(BIN))}"],
    capture_output=True, text=True, timeout=600)
print(proc.stderr)
if proc.returncode != 0:
    print(proc.stdout)
    sys.exit(f"FAIL typos.py exited with {proc.returncode}")
table = json.loads(proc.stdout)

failures = []
for group in ("all", "en", "fr", "it"):
    t = table[group]
    if t["queries"] < (30 if group == "all" else 10):
        failures.append(f"{group}: only {t['queries']} queries")
    if t["rate"] < GOAL:
        failures.append(f"{group}: {t['found']}/{t['queries']} = {t['rate']:.2f} < {GOAL}")
    if t["correct_forms_corrected"]:
        failures.append(f"{group}: {t['correct_forms_corrected']} correct queries corrected")
for f in failures:
    print("FAIL", f)
sys.exit(1 if failures else 0)
