#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_snapshot.py - kb-indexer --snapshot=DIR end to end with the real programs: an
index built from a copy of corpus/, the real kb-server on it with an API document written
before the snapshot; the snapshot is taken while one client keeps searching and another
keeps writing. Checks that the command succeeds, that the snapshot passes xapian-check,
opens in a second kb-server as it is, holds exactly the API writes up to its kb:api_seq
(the one written before it started among them) with a matching API store, and answers the
same results as the live index brought back to that revision. Then the restore of
docs/snapshots.md: stop, switch folders, start: same results; writes go on with later
sequence numbers, and a --full rebuild of the restored index keeps its API documents.
Refusals: a non-empty DIR (exit 2), a missing index (exit 2), no xapian-check (exit 5).
"""
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse

import kbtest
from kbtest import check

DATA = os.environ.get("KB_DATA_DIR", os.path.join(kbtest.SRC, "schemas"))
ENV = dict(os.environ, KB_DATA_DIR=DATA)
WKEY = "snapshot-writer-key-0123456789"
QUERIES = ["hydrogen", "batterie", "celle a combustibile", "zebrafinch", "snapwriter",
           "pile à combustible 700 bar", "inverter SiC"]


def start(tmp, name, index, keys):
    return kbtest.start_kb_server(index, os.path.join(tmp, name + ".port"),
                                  os.path.join(tmp, name + ".log"), "--keys-file=" + keys,
                                  "--access-log=", "--analytics-file=off", env=ENV)


def call(port, method, path, body=None, key=WKEY):
    return kbtest.call(port, method, path, body, key)


def doc(i, word):
    return {"title": "API note %d on the %s bench" % (i, word),
            "body": "Note %d: the %s rig tests a fuel cell stack and a 700 bar hydrogen "
                    "tank on the bench." % (i, word),
            "lang": "en", "date": "2025-06-%02d" % (1 + i % 28), "type": "note"}


def results(port):
    """Per query: (total, sorted ids of the first 20 hits)."""
    out = {}
    for q in QUERIES:
        st, b = call(port, "GET", "/api/v1/search?snippets=false&size=20&q=" +
                     urllib.parse.quote(q), key=None)
        out[q] = (st, b.get("total"), sorted(h["id"] for h in b.get("hits", [])))
    return out


def snapshot(index, dest, env=ENV):
    return subprocess.run([kbtest.INDEXER, "--index=" + index, "--snapshot=" + dest,
                           "--json"], env=env, capture_output=True, text=True)


def main():
    tmp = tempfile.mkdtemp(prefix="kb-snapshot-")
    live = snap_srv = None
    try:
        corpus = os.path.join(tmp, "corpus")
        shutil.copytree(os.path.join(kbtest.SRC, "corpus"), corpus)
        index = os.path.join(tmp, "index")
        r = subprocess.run([kbtest.INDEXER, "--index=" + index, "--quiet", corpus], env=ENV,
                           capture_output=True, text=True)
        check(r.returncode == 0, "index built from a test folder (exit %d)" % r.returncode)
        keys = kbtest.write_keys(os.path.join(tmp, "keys"), (WKEY, "write"))
        live, port = start(tmp, "live", index, keys)
        st, b = call(port, "PUT", "/api/v1/documents/api/snap/before", doc(0, "zebrafinch"))
        check(st == 200 and b["status"] == "applied", "API document written before: %s" % b)

        # one client searching, one writing, while the snapshot is taken
        stop = threading.Event()
        searched, search_errors, writes = [0], [], []

        def searcher():
            while not stop.is_set():
                st, _ = call(port, "GET", "/api/v1/search?q=hydrogen&snippets=false", key=None)
                searched[0] += 1
                if st != 200:
                    search_errors.append(st)

        def writer():
            i = 1
            while not stop.is_set():
                st, b = call(port, "PUT", "/api/v1/documents/api/snap/w-%d" % i,
                             doc(i, "snapwriter"))
                writes.append((i, st, b.get("seq") if isinstance(b, dict) else None))
                i += 1

        threads = [threading.Thread(target=searcher), threading.Thread(target=writer)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        dest = os.path.join(tmp, "snap")
        r = snapshot(index, dest)
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join()
        check(r.returncode == 0, "snapshot taken during searches and writes (exit %d: %s)" %
              (r.returncode, r.stderr.strip()))
        rep = json.loads(r.stdout or "{}")
        print("     report: %s" % r.stdout.strip())
        check(not search_errors and searched[0] > 0,
              "%d searches meanwhile, none failed (%s)" % (searched[0], search_errors[:5]))
        check(all(st in (200, 202) for _, st, _ in writes) and len(writes) >= 2,
              "%d writes meanwhile, all accepted" % len(writes))
        check(os.path.isdir(dest) and not os.path.exists(dest + ".tmp"),
              "DIR in place, no DIR.tmp left")
        check(sorted(os.listdir(dest)) == ["XAPIANDB", "api-docs", "gen-1"],
              "DIR is an index location: %s" % sorted(os.listdir(dest)))
        xc = subprocess.run(["xapian-check", os.path.join(dest, "gen-1")],
                            capture_output=True, text=True)
        check(xc.returncode == 0, "the snapshot passes xapian-check")
        api_seq = rep.get("api_seq", 0)
        seq_of = {"api/snap/w-%d" % i: s for i, st, s in writes}
        in_snap = {i for i, s in seq_of.items() if s is not None and s <= api_seq}
        check(rep.get("api_documents") == 1 + len(in_snap),
              "the report counts %s API documents: the one before and the %d writes up to "
              "write %d" % (rep.get("api_documents"), len(in_snap), api_seq))

        # the snapshot as it is, in a second server
        snap_srv, sport = start(tmp, "snap", dest, keys)
        st, b = call(sport, "GET", "/api/v1/documents/api/snap/before", key=None)
        check(st == 200 and "zebrafinch" in b.get("title", ""),
              "the API document written before the snapshot is in it")
        present = {i for i in seq_of
                   if call(sport, "GET", "/api/v1/documents/" + i, key=None)[0] == 200}
        check(present == in_snap, "exactly the writes up to kb:api_seq: %d of %d (%s)" %
              (len(present), len(seq_of), sorted(present ^ in_snap)[:5]))
        live_store = set(os.listdir(os.path.join(index, "api-docs")))
        snap_store = {n for n in os.listdir(os.path.join(dest, "api-docs")) if n.endswith(".json")}
        check(len(snap_store) == 1 + len(in_snap) and snap_store <= live_store,
              "the snapshot's store has one file per API document, named as the server names them")

        # the live index brought back to the snapshot's revision answers the same
        for i in sorted(set(seq_of) - in_snap):
            call(port, "DELETE", "/api/v1/documents/" + i)
        live_res, snap_res = results(port), results(sport)
        check(live_res == snap_res, "same results as the live index at that revision")
        check(call(sport, "GET", "/api/v1/stats", key=None)[1]["documents"] ==
              call(port, "GET", "/api/v1/stats", key=None)[1]["documents"], "same document count")
        kbtest.stop_server(snap_srv)
        snap_srv = None
        check("replayed" not in open(os.path.join(tmp, "snap.log")).read(),
              "the server opened the snapshot without replaying anything")

        # refusals
        r = snapshot(index, dest)
        check(r.returncode == 2 and "not an empty folder" in r.stderr,
              "a non-empty DIR is refused with exit 2: %s" % r.stderr.strip())
        r = snapshot(os.path.join(tmp, "nothing"), os.path.join(tmp, "snap2"))
        check(r.returncode == 2 and "no index" in r.stderr, "no index: exit 2")
        r = snapshot(index, os.path.join(tmp, "snap3"), dict(ENV, PATH="/nonexistent"))
        check(r.returncode == 5 and "xapian-check" in r.stderr and
              not os.path.exists(os.path.join(tmp, "snap3")),
              "without xapian-check: exit 5, nothing written: %s" % r.stderr.strip())

        # restore: stop, switch, start
        kbtest.stop_server(live)
        live = None
        os.rename(index, index + ".old")
        os.rename(dest, index)
        live, port = start(tmp, "restored", index, keys)
        check(results(port) == snap_res, "the restored index answers as the snapshot did")
        st, b = call(port, "PUT", "/api/v1/documents/api/snap/after", doc(9999, "kiwibird"))
        check(st == 200 and b["seq"] > api_seq,
              "writes go on after the restore, seq %s after %d" % (b.get("seq"), api_seq))
        kbtest.stop_server(live)
        live = None
        r = subprocess.run([kbtest.INDEXER, "--index=" + index, "--quiet", "--full", corpus],
                           env=ENV, capture_output=True, text=True)
        check(r.returncode == 0, "--full on the restored index (exit %d)" % r.returncode)
        live, port = start(tmp, "rebuilt", index, keys)
        ok = False
        for _ in range(100):  # the writer replays the store into the new generation
            if (call(port, "GET", "/api/v1/documents/api/snap/before", key=None)[0] == 200 and
                    call(port, "GET", "/api/v1/documents/api/snap/after", key=None)[0] == 200):
                ok = True
                break
            time.sleep(0.1)
        check(ok, "API documents kept through a --full rebuild of the restored index")
    finally:
        stop_all = [live, snap_srv]
        for p in stop_all:
            kbtest.stop_server(p)
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    raise SystemExit(main())
