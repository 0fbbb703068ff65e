#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_analytics.py - query analytics end to end with the real programs: the real
kb-indexer builds an index of corpus/, the real kb-server counts searches; checks what is
counted (the final query, normalised) and what is not (typing=true, later pages, empty
queries, suggest, the feed), that counts survive a SIGTERM restart, that the file beside
the index holds neither the client address nor the key, that thousands of distinct
queries leave memory and file bounded, that an unwritable analytics_file is a warning and
not a failure, and that GET /api/v1/analytics/queries needs scope admin.
"""
import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse

import kbtest
from kbtest import check

DATA = os.environ.get("KB_DATA_DIR", os.path.join(kbtest.SRC, "schemas"))
ENV = dict(os.environ, KB_DATA_DIR=DATA)
AKEY = "analytics-admin-key-0123456789"
SKEY = "analytics-search-key-0123456789"
DAY_MAX = 1000  # KB_ANALYTICS_DAY_MAX


def start(tmp, index, keys, *extra):
    return kbtest.start_kb_server(index, os.path.join(tmp, "port"),
                                  os.path.join(tmp, "server.log"), "--keys-file=" + keys,
                                  "--access-log=", *extra, env=ENV)


def get(port, path, key=None, body=None):
    st, _, raw = kbtest.http(port, "GET" if body is None else "POST", path, body, key)
    if st >= 300:
        return st, json.loads(raw or b"null")
    return st, json.loads(raw) if raw[:1] in (b"{", b"[") else raw


def search(port, q, extra=""):
    return get(port, "/api/v1/search?q=" + urllib.parse.quote(q) + extra)[0]


def report(port, days=30, limit=100):
    st, b = get(port, "/api/v1/analytics/queries?days=%d&limit=%d" % (days, limit), AKEY)
    if st != 200:
        raise RuntimeError("analytics answered %d: %s" % (st, b))
    return ({x["query"]: x["count"] for x in b["top"]},
            {x["query"]: x["count"] for x in b["zero_results"]}, b)


def main():
    tmp = tempfile.mkdtemp(prefix="kb-analytics-")
    srv = None
    try:
        index = os.path.join(tmp, "index")
        r = subprocess.run([kbtest.INDEXER, "--index=" + index, "--quiet",
                            os.path.join(kbtest.SRC, "corpus")], env=ENV,
                           capture_output=True, text=True)
        check(r.returncode == 0, "index of corpus/ built (exit %d)" % r.returncode)
        keys = kbtest.write_keys(os.path.join(tmp, "keys"), (AKEY, "admin"), (SKEY, "search"))
        srv, port = start(tmp, index, keys)

        # scope admin, and only admin
        check(get(port, "/api/v1/analytics/queries")[0] == 401, "no key: 401")
        check(get(port, "/api/v1/analytics/queries", SKEY)[0] == 403, "search key: 403")
        check(get(port, "/api/v1/analytics/queries", AKEY)[0] == 200, "admin key: 200")

        # what the page does: completions while typing, then the submitted query
        for prefix in ("pi", "pil", "pile", "pile a", "pile a comb"):
            get(port, "/api/v1/suggest?q=" + urllib.parse.quote(prefix))
        search(port, "Pile à  Combustible")
        # a client with live results while typing marks them typing=true
        for prefix in ("pile", "pile a", "pile a comb"):
            search(port, prefix, "&typing=true")
        search(port, " pile à combustible ")
        get(port, "/api/v1/search", body={"q": "PILE À COMBUSTIBLE"})
        get(port, "/api/v1/search", body={"q": "pile à combustible", "typing": True})
        search(port, "pile à combustible", "&page=2")  # the same query, next page
        search(port, "")                               # the home page's listing
        get(port, "/feed.atom?q=hydrogen")
        search(port, "xylophonic quagmire")
        search(port, "Xylophonic  quagmire")
        top, zero, body = report(port)
        check(top.get("pile à combustible") == 3,
              "the submitted query counted 3 times, normalised: %s" % top)
        check(not any(q.startswith("pi") and q != "pile à combustible" for q in top),
              "no search-as-you-type prefix counted: %s" % sorted(top))
        check("" not in top and "hydrogen" not in top, "empty query and feed not counted")
        check(zero == {"xylophonic quagmire": 2},
              "queries without results: %s" % zero)
        check("pile à combustible" not in zero, "a query with results is not in zero_results")
        check(body["days"] == 30 and len(body["since"]) == 10, "window: %s" % body["since"])

        # restart: the counts come back from the file
        kbtest.stop_server(srv)
        check(srv.returncode == 0, "server stopped cleanly (SIGTERM)")
        path = os.path.join(index, "analytics.json")
        check(os.path.exists(path), "analytics.json written beside the index at stop")
        text = open(path, encoding="utf-8").read()
        check("127.0.0.1" not in text and AKEY not in text and SKEY not in text and
              "Bearer" not in text, "the file holds no client address and no key")
        stored = json.loads(text)
        check(set(stored) == {"version", "days"} and
              all(set(d) == {"date", "top", "zero_results"} for d in stored["days"]),
              "the file holds dates, queries and counts only")
        srv, port = start(tmp, index, keys)
        top2, zero2, _ = report(port)
        check(top2 == top and zero2 == zero, "counts survived the restart")
        search(port, "pile a combustible")  # another spelling: counted apart (no folding)
        search(port, "Pile à combustible")
        top3, _, _ = report(port)
        check(top3.get("pile à combustible") == 4, "counting goes on after the restart")

        # bounded: many distinct queries (a crawler, a fuzzer) in one day
        for i in range(int(DAY_MAX * 2.5)):
            search(port, "bounded query %d" % i, "&snippets=false&size=1")
            if i % 4 == 0:
                search(port, "pile à combustible", "&snippets=false&size=1")
        top4, zero4, _ = report(port, limit=100)
        check(len(top4) <= 100 and len(zero4) <= 100, "limit holds")
        check(top4.get("pile à combustible", 0) >= 4 + 625,
              "the frequent query kept its count among 2500 distinct ones: %s" %
              top4.get("pile à combustible"))
        kbtest.stop_server(srv)
        srv = None
        stored = json.load(open(path, encoding="utf-8"))
        n_top = sum(len(d["top"]) for d in stored["days"])
        n_zero = sum(len(d["zero_results"]) for d in stored["days"])
        size = os.path.getsize(path)
        check(n_top <= DAY_MAX * len(stored["days"]) and n_zero <= DAY_MAX * len(stored["days"]),
              "file bounded: %d + %d queries for %d day(s), %d bytes" %
              (n_top, n_zero, len(stored["days"]), size))
        check(size < 2 * DAY_MAX * 200, "file size bounded: %d bytes" % size)

        # an unwritable place: a warning, never a failure
        srv, port = start(tmp, index, keys,
                          "--analytics-file=" + os.path.join(tmp, "no-such-dir", "a.json"))
        check(search(port, "hydrogen") == 200, "searches answered with an unwritable file")
        top5, _, _ = report(port)
        check(top5.get("hydrogen") == 1, "counted in memory")
        kbtest.stop_server(srv)
        check(srv.returncode == 0, "stopped cleanly although the file could not be written")
        srv = None
        log = open(os.path.join(tmp, "server.log")).read()
        check("warning: query analytics kept in memory only" in log,
              "the unwritable file is logged as a warning")
    finally:
        kbtest.stop_server(srv)
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    raise SystemExit(main())
