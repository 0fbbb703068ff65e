# SPDX-License-Identifier: MIT
"""test_relevance_scorer.py - checks bench/relevance/trec_score.py on small runs whose
MAP, nDCG@10, P@10 and Recall@100 were worked out by hand (the arithmetic is in the
comments), including the edge cases trec_eval users trip on: relevant documents never
retrieved, queries with no results, duplicates, the rank-100 cut-off, lines out of order
and graded relevance. Exits non-zero on the first wrong figure.
"""
import math
import os
import subprocess
import sys
import tempfile

SRC = os.environ.get("KB_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "bench", "relevance"))
import trec_score as ts  # noqa: E402

failures = 0


def close(name, got, want):
    global failures
    if not math.isclose(got, want, rel_tol=0, abs_tol=1e-9):
        failures += 1
        print(f"FAIL {name}: got {got!r}, expected {want!r}")


def write(dirname, name, text):
    path = os.path.join(dirname, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


# q1: relevant a, b, c (R = 3); retrieved a x b y z.
#  AP     = (1/1 + 2/3) / 3 = 5/9
#  DCG@10 = 1/log2(2) + 1/log2(4) = 1.5 ; IDCG = 1 + 1/log2(3) + 1/2
#  P@10   = 2/10 ; R@100 = 2/3
rel1 = {"a": 1, "b": 1, "c": 1}
run1 = ["a", "x", "b", "y", "z"]
close("AP q1", ts.average_precision(run1, rel1, 100), 5 / 9)
close("nDCG q1", ts.ndcg(run1, rel1, 10), 1.5 / (1 + 1 / math.log2(3) + 0.5))
close("P@10 q1", ts.precision(run1, rel1, 10), 0.2)
close("R@100 q1", ts.recall(run1, rel1, 100), 2 / 3)

# Everything right for 11 relevant documents: P@10 = 1, nDCG@10 = 1, AP = 1.
rel_all = {str(i): 1 for i in range(11)}
run_all = [str(i) for i in range(11)]
close("AP perfect", ts.average_precision(run_all, rel_all, 100), 1.0)
close("nDCG perfect", ts.ndcg(run_all, rel_all, 10), 1.0)
close("P@10 perfect", ts.precision(run_all, rel_all, 10), 1.0)

# The cut-off: the only relevant document at rank 101 counts for nothing at 100,
# and at rank 100 it counts 1/100.
run_deep = [f"n{i}" for i in range(100)] + ["r"]
close("AP rank 101", ts.average_precision(run_deep, {"r": 1}, 100), 0.0)
close("R@100 rank 101", ts.recall(run_deep, {"r": 1}, 100), 0.0)
run_100 = [f"n{i}" for i in range(99)] + ["r"]
close("AP rank 100", ts.average_precision(run_100, {"r": 1}, 100), 0.01)

# Graded: a is grade 2, b grade 1; retrieved b a.
#  DCG = 1/1 + 2/log2(3) ; IDCG = 2/1 + 1/log2(3)
close("nDCG graded", ts.ndcg(["b", "a"], {"a": 2, "b": 1}, 10),
      (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))

# An empty result is 0 everywhere (and must not divide by zero).
close("AP empty", ts.average_precision([], {"d": 1}, 100), 0.0)
close("nDCG empty", ts.ndcg([], {"d": 1}, 10), 0.0)

# Through the files and the command line: lines out of rank order, a duplicate
# document, a query with no results at all, a judged-not-relevant line, a query whose
# judgements are all 0 (left out of the means) and a query only in the run (ignored).
with tempfile.TemporaryDirectory() as tmp:
    qrels = write(tmp, "qrels", "1 0 a 1\n1 0 b 1\n1 0 c 1\n1 0 x 0\n"
                                "2 0 d 1\n"
                                "3 0 e 1\n"
                                "4 0 f 0\n")
    run = write(tmp, "run",
                "1 Q0 b 3 7.0 t\n1 Q0 a 1 9.0 t\n1 Q0 x 2 8.0 t\n"
                "1 Q0 y 4 6.0 t\n1 Q0 z 5 5.0 t\n"
                "3 Q0 g 1 2.0 t\n3 Q0 g 2 2.0 t\n3 Q0 e 3 1.0 t\n"
                "9 Q0 a 1 1.0 t\n")
    q = ts.read_qrels(qrels)
    r = ts.read_run(run)
    if sorted(q) != ["1", "2", "3"]:
        failures += 1
        print(f"FAIL qrels queries: {sorted(q)}")
    if r.get("1") != ["a", "x", "b", "y", "z"] or r.get("3") != ["g", "e"]:
        failures += 1
        print(f"FAIL run order/dedup: {r}")
    means, per = ts.evaluate(q, r)
    # q1 as above; q2 nothing retrieved: 0; q3: e at rank 2 once deduplicated:
    # AP = 1/2, nDCG = (1/log2(3)) / 1, P@10 = 1/10, R@100 = 1.
    close("MAP", means["map"], (5 / 9 + 0 + 0.5) / 3)
    close("nDCG@10", means["ndcg_cut_10"],
          (1.5 / (1 + 1 / math.log2(3) + 0.5) + 0 + 1 / math.log2(3)) / 3)
    close("P@10", means["P_10"], (0.2 + 0 + 0.1) / 3)
    close("R@100", means["recall_100"], (2 / 3 + 0 + 1) / 3)
    close("num_q", means["num_q"], 3)
    close("q2 AP", per["2"]["map"], 0.0)

    out = subprocess.run([sys.executable, os.path.join(SRC, "bench", "relevance",
                                                       "trec_score.py"), qrels, run],
                         capture_output=True, text=True, check=True).stdout
    want = f"map          {(5 / 9 + 0.5) / 3:.4f}"
    if want not in out:
        failures += 1
        print(f"FAIL command line output:\n{out}")

    bad = write(tmp, "bad", "1 Q0 a 1\n")
    try:
        ts.read_run(bad)
        failures += 1
        print("FAIL a malformed run line was accepted")
    except ValueError:
        pass

if failures:
    print(f"{failures} check(s) failed")
    sys.exit(1)
print("trec_score: all checks passed")
