#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""fts5.py - the SQLite FTS5 anchor (porter stemmer over unicode61, bm25 ranking).

    fts5.py build DUMP.tsv DB        index the extract_text.py dump (one transaction)
    fts5.py query DB QUERIES.txt [N] run the first N queries (all by default), LIMIT 10,
                                     print per-query latency median/p99 and queries/s

Queries are the benchmark's own strings turned into FTS5 syntax: words ANDed (FTS5's
default), "quoted phrases" kept, a trailing * kept as a prefix query; other punctuation
dropped. The title column is weighted 3 like kb-indexer's titles.
"""
import re
import sqlite3
import sys
import time


def build(dump, db):
    """Creates DB from the dump; prints docs and seconds."""
    t0 = time.monotonic()
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("CREATE VIRTUAL TABLE docs USING fts5(path UNINDEXED, lang UNINDEXED, "
                "title, body, tokenize='porter unicode61 remove_diacritics 2')")
    n = 0
    with open(dump, encoding="utf-8") as f:
        rows = (line.rstrip("\n").split("\t", 3) for line in f)
        for _ in con.executemany("INSERT INTO docs VALUES (?,?,?,?)", rows):
            pass
    n = con.execute("SELECT count(*) FROM docs").fetchone()[0]
    con.commit()
    con.execute("INSERT INTO docs(docs) VALUES('optimize')")
    con.commit()
    con.close()
    print("fts5: %d docs, %.3f s" % (n, time.monotonic() - t0))


def fts_query(q):
    """The benchmark query string as an FTS5 MATCH expression."""
    out = []
    for m in re.finditer(r'"([^"]*)"|(\S+)', q):
        if m.group(1) is not None:
            words = re.findall(r"\w+", m.group(1))
            if words:
                out.append('"%s"' % " ".join(words))
        else:
            w = m.group(2)
            star = w.endswith("*")
            words = re.findall(r"\w+", w)
            if words:
                out.append('"%s"%s' % (" ".join(words), "*" if star else ""))
    return " ".join(out)


def query(db, qfile, limit):
    """Runs the queries; prints latency figures."""
    con = sqlite3.connect(db)
    qs = [line.rstrip("\n") for line in open(qfile, encoding="utf-8")][:limit]
    lat = []
    hits = 0
    t0 = time.monotonic()
    for q in qs:
        e = fts_query(q)
        t = time.monotonic()
        if e:
            rows = con.execute("SELECT path, title FROM docs WHERE docs MATCH ? "
                               "ORDER BY bm25(docs, 0, 0, 3.0, 1.0) LIMIT 10",
                               (e,)).fetchall()
            hits += len(rows)
        lat.append(time.monotonic() - t)
    total = time.monotonic() - t0
    lat.sort()
    print("fts5-query: %d queries, %.1f q/s, p50 %.3f ms, p99 %.3f ms, %d hits" %
          (len(qs), len(qs) / total, 1e3 * lat[len(lat) // 2],
           1e3 * lat[min(len(lat) - 1, int(len(lat) * 0.99))], hits))


def main():
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "build":
        build(a[1], a[2])
    elif len(a) in (3, 4) and a[0] == "query":
        query(a[1], a[2], int(a[3]) if len(a) == 4 else 10**9)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
