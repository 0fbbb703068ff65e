#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_api_crud.py - document writes through the API, end to end with the real programs:
PUT/GET/DELETE with API keys (401/403/409), writes racing the real kb-indexer on the same
index (incremental and --full: nothing lost, indexer unharmed), API documents surviving a
--full rebuild (the writer replays its store into the new generation), and journal replay
after kill -9 of a server whose writes were acknowledged (202) but not yet applied (the
Xapian write lock is held by this test meanwhile, as a running indexer would).
"""
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import kbtest

SRC = os.environ.get("KB_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
BIN = os.environ.get("KB_BIN_DIR", os.path.join(SRC, "build", "bin"))
DATA = os.environ.get("KB_DATA_DIR", os.path.join(SRC, "schemas"))
# max_text_mb 1: an API body past 1 MiB is cut as the indexer cuts a file's text
ENV = dict(os.environ, KB_DATA_DIR=DATA, KB_MAX_TEXT_MB="1")
WKEY = "crud-writer-key-0123456789"
SKEY = "crud-search-key-0123456789"
FAILS = []
procs = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def start_server(tmp, index, keys):
    p, port = kbtest.start_kb_server(index, os.path.join(tmp, "port"),
                                     os.path.join(tmp, "server.log"), "--keys-file=" + keys,
                                     "--access-log=", env=ENV)
    procs.append(p)
    return p, port


def req(port, method, path, body=None, key=WKEY):
    return kbtest.call(port, method, path, body, key)


def doc(i, word="quokkatron"):
    return {"title": "API brief %d about the %s hybrid powertrain" % (i, word),
            "body": "Document %d: the %s test rig measures a hybrid powertrain with an "
                    "electric motor and a battery pack under load." % (i, word),
            "lang": "en", "date": "2025-05-%02d" % (1 + i % 28), "type": "note"}


def wait_for(fn, seconds=15):
    end = time.time() + seconds
    while time.time() < end:
        if fn():
            return True
        time.sleep(0.1)
    return False


def indexer(index, *args):
    return subprocess.run([os.path.join(BIN, "kb-indexer"), "--index=" + index, "--quiet",
                           *args], env=ENV, capture_output=True, text=True)


def main():
    tmp = tempfile.mkdtemp(prefix="kb-crud-")
    try:
        corpus = os.path.join(tmp, "corpus")
        shutil.copytree(os.path.join(SRC, "corpus"), corpus)
        index = os.path.join(tmp, "index")
        r = indexer(index, corpus)
        check(r.returncode == 0, "initial index built (exit %d %s)" % (r.returncode, r.stderr[-300:]))
        keys = kbtest.write_keys(os.path.join(tmp, "keys"), (WKEY, "write"), (SKEY, "search"))
        check(WKEY not in open(keys).read(), "the keys file holds no key in clear")
        srv, port = start_server(tmp, index, keys)
        n0 = req(port, "GET", "/api/v1/stats", key=None)[1]["documents"]

        # suggest answers are cached per worker: fill every worker's cache (4 workers)
        def completions(q):
            st, b = req(port, "GET", "/api/v1/suggest?q=" + q, key=None)
            return [c["term"] for c in b["completions"]] if st == 200 else None
        before = [completions("quokk") for _ in range(16)]
        check(all(c == [] for c in before), "no completion for 'quokk' yet: %s" % before[:2])
        # ...and /metrics counts the lookups: each of the 16 a hit or a miss, at most one
        # miss per worker (4)
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                      timeout=30).read().decode()
        looked = {k: int(v) for k, v in re.findall(
            r'kb_suggest_cache_lookups_total\{result="(hit|miss)"\} (\d+)', text)}
        check(looked.get("hit", 0) + looked.get("miss", 0) == 16 and
              1 <= looked.get("miss", 0) <= 4,
              "suggest cache lookups in /metrics: %s" % looked)

        # a request is in /metrics as soon as its answer is read (it used to be counted
        # only when libmicrohttpd completed it, a moment after the client had the answer)
        def searches_2xx():
            r = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=30)
            m = re.search(r'kb_http_requests_total\{route="search",status="2xx"\} (\d+)',
                          r.read().decode())
            return int(m.group(1)) if m else 0
        late = 0
        for _ in range(300):
            n = searches_2xx()
            req(port, "GET", "/api/v1/search?q=x&size=1", key=None)
            late += searches_2xx() != n + 1
        check(late == 0, "each search counted in /metrics by the time it is answered "
              "(%d of 300 late)" % late)

        # --- CRUD with keys
        st, b = req(port, "PUT", "/api/v1/documents/api/crud/one", doc(0), key=None)
        check(st == 401, "PUT without a key is 401 (%d)" % st)
        st, b = req(port, "PUT", "/api/v1/documents/api/crud/one", doc(0), key=SKEY)
        check(st == 403, "PUT with a search key is 403 (%d)" % st)
        st, b = req(port, "PUT", "/api/v1/documents/api/crud/one", doc(0))
        check(st == 200 and b["status"] == "applied" and b["created"], "PUT applied: %s" % b)
        st, g = req(port, "GET", "/api/v1/documents/api/crud/one", key=None)
        check(st == 200 and g["title"] == doc(0)["title"] and g["format"] == "api",
              "GET returns the document")
        after = [completions("quokk") for _ in range(16)]
        check(all(c == ["quokkatron"] for c in after),
              "no worker answers suggest from its cache of the older revision: %s" %
              [c for c in after if c != ["quokkatron"]][:2])
        check(g["revision"] >= b["revision"], "GET sees the acknowledged revision")
        st, b = req(port, "PUT", "/api/v1/documents/api/crud/one", dict(doc(0), title="Changed"))
        check(st == 200 and not b["created"], "PUT replaces")
        check(req(port, "GET", "/api/v1/documents/api/crud/one")[1]["title"] == "Changed",
              "GET sees the replacement")
        # max_text_mb applies to API writes: the body is cut at 1 MiB, on a character
        big = dict(doc(1), body="x" + "\u00e9" * (1 << 20) + " quokkatail")
        st, b = req(port, "PUT", "/api/v1/documents/api/crud/long", big)
        check(st == 200 and b["status"] == "applied", "PUT of a 2 MiB body applied (%d)" % st)
        st, g = req(port, "GET", "/api/v1/documents/api/crud/long", key=None)
        kept = len(g.get("body", "").encode()) if st == 200 else -1
        check(kept == (1 << 20) - 1, "its body is cut to max_text_mb (%d bytes kept)" % kept)
        st, s2 = req(port, "GET", "/api/v1/search?q=quokkatail", key=None)
        check(st == 200 and s2["total"] == 0, "the words past the cut are not indexed")
        check(req(port, "DELETE", "/api/v1/documents/api/crud/long")[0] == 200,
              "DELETE of the long document applied")
        st, b = req(port, "PUT", "/api/v1/documents/en/fuel-cell-heavy-duty-trucks.md", doc(0))
        check(st == 409, "PUT over a file document is 409 (%d)" % st)
        # the spelling dictionary counts API documents net, as the indexer does: while
        # the only document holding "quokkatron" is there, did-you-mean proposes it...
        def did_you_mean(q):
            st, b = req(port, "GET", "/api/v1/search?q=" + q, key=None)
            return (b or {}).get("suggestion") or "" if st == 200 else None
        check("quokkatron" in did_you_mean("quokkatrn"),
              "did you mean proposes an API document's word (%r)" % did_you_mean("quokkatrn"))
        st, b = req(port, "DELETE", "/api/v1/documents/api/crud/one")
        check(st == 200 and b["status"] == "applied", "DELETE applied")
        check(req(port, "GET", "/api/v1/documents/api/crud/one")[0] == 404, "GET after DELETE is 404")
        # ...and once it is deleted its words leave the dictionary with it
        check("quokkatron" not in did_you_mean("quokkatrn"),
              "did you mean no longer proposes a deleted API document's word (%r)" %
              did_you_mean("quokkatrn"))
        check(req(port, "DELETE", "/api/v1/documents/api/crud/one")[0] == 404, "second DELETE is 404")

        # --- writes racing the indexer (incremental run over touched files, then --full)
        for mode in ("incremental", "full"):
            now = time.time()
            for dp, _, fs in os.walk(corpus):
                for fn in fs:
                    os.utime(os.path.join(dp, fn), (now, now))
            args = [corpus] if mode == "incremental" else ["--full", corpus]
            ix = subprocess.Popen([os.path.join(BIN, "kb-indexer"), "--index=" + index,
                                   "--quiet", *args], env=ENV, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
            results = []
            lock = threading.Lock()

            def writer(t):
                for i in range(8):
                    n = 100 * (1 if mode == "incremental" else 2) + 10 * t + i
                    st, b = req(port, "PUT", "/api/v1/documents/api/race/%d" % n, doc(n))
                    with lock:
                        results.append((n, st))
            ts = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            out, err = ix.communicate(timeout=120)
            check(ix.returncode == 0, "%s indexer run unharmed by API writes (exit %d %s)"
                  % (mode, ix.returncode, err[-300:]))
            check(all(st in (200, 202) for _, st in results),
                  "%s: all 32 writes acknowledged: %s" % (mode, sorted(set(s for _, s in results))))
            ids = [n for n, _ in results]

            def all_there():
                return all(req(port, "GET", "/api/v1/documents/api/race/%d?body=false" % n)[0] == 200
                           for n in ids)
            check(wait_for(all_there, 20), "%s: every acknowledged write is in the index" % mode)
        # the --full run made a new generation: earlier API documents were replayed into it
        st, s = req(port, "GET", "/api/v1/stats", key=None)
        check(s["documents"] == n0 + 64, "stats: %d file documents + 64 API documents (got %d)"
              % (n0, s["documents"]))
        st, res = req(port, "GET", "/api/v1/search?q=quokkatron&size=100&snippets=false",
                      key=None)
        found = {h["id"] for h in res["hits"] if h["format"] == "api"}
        check(found == {"api/race/%d" % (b + 10 * t + i)
                        for b in (100, 200) for t in range(4) for i in range(8)},
              "search finds the 64 API documents (%d)" % len(found))

        # --- journal replay after kill -9: hold the write lock so nothing can be applied
        gen = open(os.path.join(index, "XAPIANDB")).read().split("auto ")[1].split()[0]
        lockf = open(os.path.join(index, gen, "flintlock"), "a+")
        fcntl.lockf(lockf, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
        t0 = time.time()
        st, b = req(port, "PUT", "/api/v1/documents/api/journal/kept", doc(999, "journaled"))
        check(st == 202 and b["status"] == "queued", "locked index: PUT answers 202 queued (%d)" % st)
        check(1.5 < time.time() - t0 < 10, "202 comes after the ~2 s wait")
        st, s = req(port, "GET", "/api/v1/stats", key=None)
        check(s["writes"]["pending"] >= 1, "stats shows the pending write")
        # a DELETE of a document whose PUT is accepted but not yet applied is a delete
        st, b = req(port, "PUT", "/api/v1/documents/api/journal/gone", doc(998, "short-lived"))
        check(st == 202, "locked index: a second PUT is queued (%d)" % st)
        st, b = req(port, "DELETE", "/api/v1/documents/api/journal/gone")
        check(st == 202, "DELETE after a queued PUT is queued too, not 404 (%d %s)" % (st, b))
        st, b = req(port, "DELETE", "/api/v1/documents/api/journal/gone")
        check(st == 404, "a second DELETE of it is 404: its last queued write deletes (%d)" % st)
        st, b = req(port, "DELETE", "/api/v1/documents/api/journal/never")
        check(st == 404, "DELETE of an id never written is still 404 (%d)" % st)
        srv.send_signal(signal.SIGKILL)
        srv.wait()
        journal = open(os.path.join(index, "api-journal.jsonl")).read()
        check("api/journal/kept" in journal, "the acknowledged write is in the journal")
        with open(os.path.join(index, "api-journal.jsonl"), "a") as j:
            j.write('{"seq":99999,"op":"put","id":"api/journal/torn","doc":{"title":"t')  # torn
        fcntl.lockf(lockf, fcntl.LOCK_UN, 1, 0)
        lockf.close()
        srv, port = start_server(tmp, index, keys)
        check(wait_for(lambda: req(port, "GET", "/api/v1/documents/api/journal/kept")[0] == 200),
              "after kill -9 and restart, the journal is replayed")
        check(wait_for(lambda: req(port, "GET", "/api/v1/documents/api/journal/gone")[0] == 404),
              "the queued PUT then DELETE leave no document")
        check(req(port, "GET", "/api/v1/documents/api/journal/torn")[0] == 404,
              "a torn last journal line (never acknowledged) is dropped")
        check(wait_for(lambda: os.path.getsize(os.path.join(index, "api-journal.jsonl")) == 0),
              "the journal is truncated once applied")
        r = subprocess.run(["xapian-check", os.path.join(index, gen)], capture_output=True, text=True)
        check(r.returncode == 0, "xapian-check finds no error")
        srv.send_signal(signal.SIGTERM)
        check(srv.wait(10) == 0, "SIGTERM stops the server cleanly")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failed" % len(FAILS))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
