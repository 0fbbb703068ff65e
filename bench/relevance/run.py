# SPDX-License-Identifier: MIT
"""run.py - the driver behind bench/relevance/run.sh: ranking quality of powertrain-kb on a
real test collection (NPL, ../shared/eval/npl), next to two baselines measured the same
way on the same documents and queries.

--collection=corpus measures the same systems on our own briefs instead: corpus/ indexed
as it is (every format), the 48 FR/IT/EN queries and graded judgements of
bench/relevance/corpus; the baselines get each brief's text as our readers extracted it
(title, abstract, body, fetched from the kb server), and the figures are also given per
query language.

--collection=trilingual: corpus/ plus the 30 briefs of bench/relevance/trilingual/docs (10
topics, each one brief written in French, Italian and English), indexed together so the
three versions of a topic compete with the corpus briefs on neighbouring topics; 30
single-language queries, each with its topic's three versions as targets. Besides the
usual figures it prints, overall and per query language, the share of queries whose top 3
(top 5) holds all three versions, and the mean rank of the versions in the two languages
other than the query's (a version not in the top 100 counts as rank 101).

  kb       the real programs: docs.jsonl copied into a temp folder, indexed by kb-indexer
           (its JSON Lines reader), served by kb-server on 127.0.0.1 (port 0), each query
           sent as GET /api/v1/search?q=...&size=100&snippets=false&collapse=false
  sqlite   SQLite FTS5 (python's sqlite3), porter stemmer, ORDER BY bm25(); the query's
           words ORed (FTS5 would otherwise AND them and read AND/OR/NOT as operators)
  xapian   plain Xapian BM25 with default QueryParser settings (xapian_baseline.cc, built
           here with g++), on the queries as given and lower-cased

Each system writes a TREC run file (top 100) into --out; trec_score.py scores it against
qrels.txt and the figures are printed as one table. --split odd|even keeps half of the
queries (a second split, to check that a gain is not fitted to one half).
Standard library only. Everything it starts is stopped, and its temp dir removed, on exit.
"""
import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import trec_score  # noqa: E402

SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_run(path, rows, tag):
    """rows: {qid: [(docid, score), ...]} in rank order."""
    with open(path, "w", encoding="utf-8") as f:
        for qid, hits in rows.items():
            for rank, (doc, score) in enumerate(hits[:100], 1):
                f.write(f"{qid} Q0 {doc} {rank} {score:.6f} {tag}\n")


# --- kb: the real indexer and server ----------------------------------------------------

def get_json(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
        return json.load(r)


def corpus_ids(root=os.path.join(SOURCE, "corpus")):
    """The briefs of root (corpus/), as kb ids (paths under it)."""
    ids = []
    for d, _, files in os.walk(root):
        ids += [os.path.relpath(os.path.join(d, f), root) for f in files]
    return sorted(ids)


def corpus_docs(port, root=os.path.join(SOURCE, "corpus")):
    """Each brief as {id, title, body}: the text kb's readers extracted, for baselines."""
    docs = []
    for i in corpus_ids(root):
        try:
            d = get_json(port, "/api/v1/documents/" + urllib.parse.quote(i))
        except urllib.error.HTTPError as e:
            if e.code == 404:  # a member-only brief: anonymous kb searches never see it
                continue
            raise
        docs.append({"id": i, "title": d.get("title") or "",
                     "body": " ".join(x for x in (d.get("abstract"), d.get("body")) if x)})
    return docs


def run_kb(args, docs_path, queries, tmp, out):
    bindir = os.path.join(args.build, "bin")
    index = args.index or os.path.join(tmp, "index")
    if not args.index or not os.path.exists(index):
        if args.collection == "corpus":
            src = os.path.join(SOURCE, "corpus")
        elif args.collection == "trilingual":  # corpus/ and the briefs under tri/
            src = os.path.join(tmp, "src")
            shutil.copytree(os.path.join(SOURCE, "corpus"), src)
            shutil.copytree(os.path.join(args.eval, "docs"), os.path.join(src, "tri"))
        else:
            src = os.path.join(tmp, "src")
            os.makedirs(src)
            shutil.copy(docs_path, src)
        t0 = time.time()
        subprocess.run([os.path.join(bindir, "kb-indexer"), f"--index={index}", "--quiet",
                        src], check=True, stdout=subprocess.DEVNULL)
        log(f"kb: indexed {docs_path} in {time.time() - t0:.1f} s")
    port_file = os.path.join(tmp, "port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    cmd = [os.path.join(bindir, "kb-server"), f"--index={index}", "--port=0",
           f"--port-file={port_file}", "--workers=2", "--access-log="] + args.kb_arg
    srv = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           start_new_session=True)
    try:
        for _ in range(200):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            if srv.poll() is not None:
                raise RuntimeError("kb-server exited: " + srv.stderr.read().decode())
            time.sleep(0.05)
        port = int(open(port_file).read().strip())
        rows = {}
        for q in queries:
            params = {"q": q["text"], "size": 100, "snippets": "false", "collapse": "false"}
            if args.prefer_lang and q.get("lang"):  # as the page does in its language
                params["prefer_lang"] = q["lang"]
            body = get_json(port, "/api/v1/search?" + urllib.parse.urlencode(params))
            rows[q["id"]] = [(h["id"], h["score"]) for h in body["hits"]]
        if args.collection == "corpus":
            args.docs = corpus_docs(port)
        elif args.collection == "trilingual":
            args.docs = corpus_docs(port, os.path.join(tmp, "src"))
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
    path = os.path.join(out, "kb.run")
    write_run(path, rows, "kb")
    return {"kb": path}


# --- SQLite FTS5 ------------------------------------------------------------------------

def fts_query(text):
    """The query's words, each quoted (so AND/OR/NOT are words), ORed."""
    words = "".join(c if c.isalnum() else " " for c in text).split()
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)


def run_sqlite(args, docs, queries, tmp, out):
    db = sqlite3.connect(os.path.join(tmp, "fts.db"))
    db.execute("CREATE VIRTUAL TABLE d USING fts5(id UNINDEXED, title, body, "
               "tokenize = 'porter unicode61')")
    db.executemany("INSERT INTO d VALUES (?, ?, ?)",
                   ((d["id"], d.get("title", ""), d.get("body", "")) for d in docs))
    db.commit()
    rows = {}
    for q in queries:
        fq = fts_query(q["text"])
        res = db.execute("SELECT id, bm25(d) FROM d WHERE d MATCH ? ORDER BY bm25(d) "
                         "LIMIT 100", (fq,)).fetchall() if fq else []
        rows[q["id"]] = [(doc, -score) for doc, score in res]
    db.close()
    path = os.path.join(out, "sqlite-fts5.run")
    write_run(path, rows, "sqlite-fts5")
    return {"sqlite-fts5": path}


# --- plain Xapian -----------------------------------------------------------------------

def build_baseline(args):
    src = os.path.join(HERE, "xapian_baseline.cc")
    exe = os.path.join(args.build, "bench-relevance", "xapian_baseline")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        os.makedirs(os.path.dirname(exe), exist_ok=True)
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "xapian-core"],
                               check=True, capture_output=True, text=True).stdout.split()
        subprocess.run(["g++", "-std=c++11", "-O2", "-Wall", "-o", exe, src] + flags,
                       check=True)
    return exe


def run_xapian(args, docs, queries, tmp, out):
    exe = build_baseline(args)
    dtsv = os.path.join(tmp, "docs.tsv")
    with open(dtsv, "w", encoding="utf-8") as f:
        for d in docs:
            text = " ".join(x for x in (d.get("title"), d.get("body")) if x)
            f.write(d["id"] + "\t" + " ".join(text.split()) + "\n")
    runs = {}
    for tag, lower in (("xapian-bm25", False), ("xapian-bm25-lc", True)):
        qtsv = os.path.join(tmp, f"{tag}.tsv")
        with open(qtsv, "w", encoding="utf-8") as f:
            for q in queries:
                t = " ".join(q["text"].split())
                f.write(q["id"] + "\t" + (t.lower() if lower else t) + "\n")
        dbdir = os.path.join(tmp, "xapian-db")  # built by the first call, then reused
        path = os.path.join(out, tag + ".run")
        with open(path, "w", encoding="utf-8") as f:
            subprocess.run([exe, dtsv, qtsv, dbdir, tag], check=True, stdout=f)
        runs[tag] = path
    return runs


# --- trilingual: are the three versions of a topic ranked together? --------------------

def trilingual_figures(qrels, run, queries):
    """Per group of queries (all, then each language): the share with all three target
    versions in the top 3 and in the top 5, and the mean rank of the targets written in
    another language than the query (101 when not in the top 100)."""
    def one(qs):
        top3 = top5 = 0
        other = []
        for q in qs:
            ranked = run.get(q["id"], [])
            targets = [d for d, g in qrels.get(q["id"], {}).items() if g > 0]
            ranks = {d: (ranked.index(d) + 1 if d in ranked else 101) for d in targets}
            top3 += all(r <= 3 for r in ranks.values())
            top5 += all(r <= 5 for r in ranks.values())
            other += [r for d, r in ranks.items() if f"-{q['lang']}-" not in d]
        n = len(qs) or 1
        return {"num_q": len(qs), "all3_top3": top3 / n, "all3_top5": top5 / n,
                "other_lang_mean_rank": sum(other) / (len(other) or 1)}
    out = {"": one(queries)}
    for lang in sorted({q["lang"] for q in queries}):
        out[lang] = one([q for q in queries if q["lang"] == lang])
    return out


def trilingual_ranks(qrels, run, queries):
    """One line per query: its text and the rank of each target (for reading)."""
    lines = []
    for q in queries:
        ranked = run.get(q["id"], [])
        ranks = []
        for d in sorted(qrels.get(q["id"], {})):
            lang = d.split("-")[1]
            ranks.append(f"{lang}:{ranked.index(d) + 1 if d in ranked else '-'}")
        lines.append(f"{q['id']:<4} {q['lang']} {' '.join(ranks):<20} {q['text']}  "
                     f"top3: {', '.join(ranked[:3])}")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("KB_BUILD_DIR",
                                                      os.path.join(SOURCE, "build")),
                    help="build directory holding bin/kb-indexer and bin/kb-server")
    ap.add_argument("--collection", choices=("npl", "corpus", "trilingual"),
                    default="npl",
                    help="NPL (../shared/eval/npl), our briefs (corpus/ and "
                    "bench/relevance/corpus), or corpus/ with the trilingual briefs "
                    "(bench/relevance/trilingual)")
    ap.add_argument("--eval", help="collection directory (queries.jsonl, qrels.txt; "
                    "docs.jsonl for NPL)")
    ap.add_argument("--out", help="where run files go (default BUILD/bench-relevance)")
    ap.add_argument("--systems", default="kb,sqlite,xapian")
    ap.add_argument("--split", choices=("all", "odd", "even"), default="all",
                    help="score all queries, or only odd / even query ids")
    ap.add_argument("--index", help="reuse (or build once into) this kb index directory")
    ap.add_argument("--prefer-lang", action="store_true",
                    help="kb: send each query's language as prefer_lang (the page sends "
                         "its interface language)")
    ap.add_argument("--kb-arg", action="append", default=[],
                    help="extra kb-server setting, e.g. --kb-arg=--bm25-k1=1.0")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--verbose", action="store_true",
                    help="trilingual: also print the rank of each version per query")
    a = ap.parse_args(argv)
    a.build = os.path.abspath(a.build)
    if not a.eval:
        a.eval = (os.path.join(HERE, a.collection) if a.collection != "npl" else
                  os.path.join(SOURCE, "..", "shared", "eval", "npl"))
    out = a.out or os.path.join(a.build, "bench-relevance")
    os.makedirs(out, exist_ok=True)
    docs_path = os.path.join(a.eval, "docs.jsonl")
    queries = load_jsonl(os.path.join(a.eval, "queries.jsonl"))
    if a.split != "all":
        want = 1 if a.split == "odd" else 0
        queries = [q for q in queries if int(q["id"].lstrip("ct")) % 2 == want]
    qrels = trec_score.read_qrels(os.path.join(a.eval, "qrels.txt"))
    systems = a.systems.split(",")
    a.docs = []
    if a.collection != "npl":  # the baselines read the text kb extracted
        systems = ["kb"] + [s for s in systems if s != "kb"]
    elif {"sqlite", "xapian"} & set(systems):
        a.docs = load_jsonl(docs_path)
    tmp = tempfile.mkdtemp(prefix="kb-relevance-")
    runs = {}
    try:
        for s in systems:
            t0 = time.time()
            fn = {"kb": lambda: run_kb(a, docs_path, queries, tmp, out),
                  "sqlite": lambda: run_sqlite(a, a.docs, queries, tmp, out),
                  "xapian": lambda: run_xapian(a, a.docs, queries, tmp, out)}.get(s)
            if not fn:
                ap.error(f"unknown system '{s}'")
            runs.update(fn())
            log(f"{s}: done in {time.time() - t0:.1f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    groups = [("", [q["id"] for q in queries])]
    langs = sorted({q["lang"] for q in queries if q.get("lang")})
    groups += [(lang, [q["id"] for q in queries if q.get("lang") == lang])
               for lang in langs]
    table = {}
    for name, path in runs.items():
        run = trec_score.read_run(path)
        for lang, qids in groups:
            table[name + (f" [{lang}]" if lang else "")] = trec_score.evaluate(
                qrels, run, qids)[0]
    if a.collection == "trilingual":
        for name, path in runs.items():
            run = trec_score.read_run(path)
            for lang, fig in trilingual_figures(qrels, run, queries).items():
                table[name + (f" [{lang}]" if lang else "")].update(fig)
            if a.verbose and not a.json:
                print(f"{name}: rank of each version, per query")
                print("\n".join(trilingual_ranks(qrels, run, queries)))
    if a.json:
        print(json.dumps(table, indent=1))
        return 0
    print(f"collection {a.collection}, {len(queries)} queries ({a.split}), top 100")
    print(f"{'system':<21} {'MAP':>7} {'nDCG@10':>8} {'P@10':>7} {'R@100':>7}")
    for name, m in table.items():
        print(f"{name:<21} {m['map']:7.4f} {m['ndcg_cut_10']:8.4f} {m['P_10']:7.4f} "
              f"{m['recall_100']:7.4f}")
    if a.collection == "trilingual":
        print(f"{'system':<21} {'all 3 in top 3':>14} {'in top 5':>9} "
              f"{'mean rank, other languages':>27}")
        for name, m in table.items():
            print(f"{name:<21} {m['all3_top3']:14.3f} {m['all3_top5']:9.3f} "
                  f"{m['other_lang_mean_rank']:27.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
