# SPDX-License-Identifier: MIT
"""trec_score.py - our scorer for TREC run files against TREC qrels (standard library only).

It computes the four figures bench/relevance/run.sh prints, with trec_eval's definitions:

  AP@k      (1/R) * sum of P@i over the ranks i <= k holding a relevant document, where R is
            the number of relevant documents of the query in the qrels (not only retrieved
            ones); MAP is its mean over the queries.
  nDCG@k    DCG@k / IDCG@k with gain = relevance grade and discount log2(rank + 1); the
            ideal ranking puts the R relevant documents first (sorted by grade).
  P@k       relevant documents in the top k, divided by k (even when fewer were returned).
  Recall@k  relevant documents in the top k, divided by R.

Averages are over every query that has at least one relevant document in the qrels: a
query the system returned nothing for counts as 0, as it does for a user. Within a query,
documents are taken in the run's rank order (column 4); a document listed twice counts
once, at its first rank. Relevance grades <= 0 are "not relevant".

Usage: trec_score.py QRELS RUN [--per-query] [--json]
"""
import argparse
import json
import math
import sys


def read_qrels(path):
    """{qid: {docid: grade}} from 'qid iter docid grade' lines; grades <= 0 are dropped."""
    qrels = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 4:
                raise ValueError(f"{path}:{n}: expected 'qid iter docid grade'")
            qid, _, doc, grade = parts
            g = int(grade)
            qrels.setdefault(qid, {})
            if g > 0:
                qrels[qid][doc] = g
    return {q: d for q, d in qrels.items() if d}


def read_run(path):
    """{qid: [docid, ...]} in rank order from 'qid Q0 docid rank score tag' lines."""
    rows = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 6:
                raise ValueError(f"{path}:{n}: expected 'qid Q0 docid rank score tag'")
            qid, _, doc, rank, score, _ = parts
            rows.setdefault(qid, []).append((int(rank), -float(score), doc))
    run = {}
    for qid, lst in rows.items():
        lst.sort()
        seen, docs = set(), []
        for _, _, doc in lst:
            if doc not in seen:
                seen.add(doc)
                docs.append(doc)
        run[qid] = docs
    return run


def average_precision(ranked, rel, k):
    """AP@k of one ranked list against {docid: grade}."""
    if not rel:
        return 0.0
    hits, total = 0, 0.0
    for i, doc in enumerate(ranked[:k], 1):
        if doc in rel:
            hits += 1
            total += hits / i
    return total / len(rel)


def ndcg(ranked, rel, k):
    """nDCG@k with gain = grade and discount log2(rank + 1)."""
    dcg = sum(rel.get(doc, 0) / math.log2(i + 1) for i, doc in enumerate(ranked[:k], 1))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 1) for i, g in enumerate(ideal, 1))
    return dcg / idcg if idcg > 0 else 0.0


def precision(ranked, rel, k):
    """P@k: relevant documents in the top k over k."""
    return sum(1 for doc in ranked[:k] if doc in rel) / k


def recall(ranked, rel, k):
    """Recall@k: relevant documents in the top k over all relevant ones."""
    if not rel:
        return 0.0
    return sum(1 for doc in ranked[:k] if doc in rel) / len(rel)


METRICS = (
    ("map", lambda r, q: average_precision(r, q, 100)),
    ("ndcg_cut_10", lambda r, q: ndcg(r, q, 10)),
    ("P_10", lambda r, q: precision(r, q, 10)),
    ("recall_100", lambda r, q: recall(r, q, 100)),
)


def evaluate(qrels, run, qids=None):
    """Mean of each metric over qids (default: every query of the qrels), plus per-query
    figures: returns ({metric: mean}, {qid: {metric: value}})."""
    qids = sorted(qrels if qids is None else [q for q in qids if q in qrels],
                  key=lambda s: (len(s), s))
    per = {}
    for qid in qids:
        ranked = run.get(qid, [])
        per[qid] = {name: fn(ranked, qrels[qid]) for name, fn in METRICS}
    means = {}
    for name, _ in METRICS:
        means[name] = sum(p[name] for p in per.values()) / len(per) if per else 0.0
    means["num_q"] = len(per)
    return means, per


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("qrels")
    ap.add_argument("run")
    ap.add_argument("--per-query", action="store_true", help="also print each query")
    ap.add_argument("--json", action="store_true", help="print the means as JSON")
    a = ap.parse_args(argv)
    qrels = read_qrels(a.qrels)
    means, per = evaluate(qrels, read_run(a.run))
    if a.json:
        print(json.dumps(means))
        return 0
    if a.per_query:
        for qid, m in per.items():
            print(qid, " ".join(f"{k}={v:.4f}" for k, v in m.items()))
    for name, _ in METRICS:
        print(f"{name:<12} {means[name]:.4f}")
    print(f"{'num_q':<12} {means['num_q']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
