#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_replication_shards.py - a sharded location (2 shards + lexicon) copied to a search
host with the stock xapian-replicate-server / xapian-replicate, one `-m` per shard and
`-m lexicon`, as docs/deployment-shards.md sets it up, on 127.0.0.1.

kb-indexer --shards=2 --max-changesets=10 builds corpus/ (the setting, not the
environment, makes the changesets). The first replication of each part is a full copy. A
kb-server over a stub file listing the replica shards (`auto shard00`, `auto shard01`,
the lexicon replica beside it) answers as a kb-server over the master, and refuses API
writes. A nightly run adds one document: each part then replicates by changesets only
(the document's shard and the lexicon get one, the other shard none), and the running
replica server finds the document. A --full run makes new generations: every part is
copied again and the replica server follows.
"""
import os
import shutil
import sys
import tempfile
import time

import kbtest
from kbtest import check
from test_shards_write import index, start_server, req, answer, shard_of, QUERIES

PARTS = ["shard00", "shard01", "lexicon"]


def replicate_all(port, parent):
    out = {}
    for p in PARTS:
        rc, text, copies, changesets = kbtest.replicate_once(port, p,
                                                             os.path.join(parent, p))
        out[p] = (rc, copies, changesets, text.strip().splitlines()[-1:])
    return out


def same(master, replica, what, extra=()):
    qs = QUERIES + list(extra)
    a = b = None
    for _ in range(50):  # the replica's server reopens per request
        a = {q: answer(master, q, False) for q in qs}
        b = {q: answer(replica, q, False) for q in qs}
        if a == b:
            break
        time.sleep(0.1)
    diff = [q for q in qs if a[q] != b[q]]
    check(not diff and a["hydrogen"][1].get("total", 0) > 5,
          "%s: the replica answers %d queries as the master%s" % (
              what, len(qs), (", differ: %s" % diff) if diff else ""))


def total(port, q):
    st, b = req(port, "GET", "/api/v1/search?snippets=false&q=" + q)
    return b.get("total") if st == 200 else st


def main():
    if kbtest.missing_xapian_tools(kbtest.REPLICATE, kbtest.REPLICATE_SERVER):
        return 1
    tmp = tempfile.mkdtemp(prefix="kb-repl-shards-")
    src = os.path.join(tmp, "src")
    shutil.copytree(os.path.join(kbtest.SRC, "corpus"), src)
    master = os.path.join(tmp, "master")
    replica = os.path.join(tmp, "replica")
    os.mkdir(replica)  # xapian-replicate does not create the parent
    rs = msrv = rsrv = None
    try:
        code, rep, err = index(master, src, "--shards=2", "--max-changesets=10")
        check(code == 0 and rep.get("generation") == "gen-1",
              "the master is built in 2 shards (exit %d %s)" % (code, err[-200:]))
        rs = kbtest.start_replicate_server(master, os.path.join(tmp, "replicate.log"))
        r = replicate_all(rs.port, replica)
        check(all(r[p][0] == 0 and r[p][1] == 1 for p in PARTS),
              "first replication: a full copy of each shard and the lexicon (%s)" % r)
        stub = kbtest.write_stub(os.path.join(replica, "shards.stub"),
                                 ["auto shard00", "auto shard01"])
        msrv, mport = start_server(tmp, "master", master)
        rsrv, rport = start_server(tmp, "replica", stub)
        st, stats = req(rport, "GET", "/api/v1/stats")
        check(st == 200 and stats.get("writes", {}).get("enabled") is False,
              "the replica's server (a stub file) runs with writes disabled (%s)" %
              stats.get("writes"))
        p0, port0 = start_server(tmp, "replica-shard00", os.path.join(replica, "shard00"))
        st, stats = req(port0, "GET", "/api/v1/stats")
        kbtest.stop_server(p0)
        log = open(os.path.join(tmp, "replica-shard00.log"), errors="replace").read()
        check(stats.get("writes", {}).get("enabled") is False and "is a replica" in log
              and not os.path.exists(os.path.join(replica, "shard00", "api-docs")),
              "a kb-server over a replica's folder refuses writes and says why")
        same(mport, rport, "after the full copies")
        check(total(rport, "quokkaflux") == 0, "quokkaflux is not indexed yet")

        # the nightly run adds a document: changesets only
        name = "en/zz-quokkaflux-rig.md"
        with open(os.path.join(src, name), "w") as f:
            f.write("# The quokkaflux test rig\n\nA note on the quokkaflux rig, a bench "
                    "for hydrogen valves at 700 bar.\n")
        code, rep, err = index(master, src, "--shards=2", "--max-changesets=10")
        check(code == 0 and rep.get("added") == 1 and rep.get("generation") == "gen-1",
              "the nightly run adds the document to gen-1 (%s %s)" % (rep.get("added"),
                                                                      err[-200:]))
        home = "shard%02d" % shard_of(name, 2)
        other = "shard%02d" % (1 - shard_of(name, 2))
        r = replicate_all(rs.port, replica)
        check(all(r[p][0] == 0 and r[p][1] == 0 for p in PARTS) and
              r[home][2] >= 1 and r["lexicon"][2] >= 1 and r[other][2] == 0,
              "second replication: changesets for %s and the lexicon, none for %s, no "
              "copy (%s)" % (home, other, r))
        ok = False
        for _ in range(50):
            if total(rport, "quokkaflux") == 1:
                ok = True
                break
            time.sleep(0.1)
        check(ok, "the running replica server finds the new document")
        same(mport, rport, "after the changesets", ["quokkaflux"])

        # --full: new generations everywhere, copied again, followed
        code, rep, err = index(master, src, "--shards=2", "--max-changesets=10", "--full")
        check(code == 0 and rep.get("generation") == "gen-2", "--full builds gen-2")
        r = replicate_all(rs.port, replica)
        check(all(r[p][0] == 0 and r[p][1] == 1 for p in PARTS),
              "third replication: each part copied again (%s)" % r)
        same(mport, rport, "after the new generation", ["quokkaflux"])
        check(not any(f.startswith("api") for f in os.listdir(replica)),
              "kb-server wrote nothing in the replica's folder")
    finally:
        kbtest.stop_server(rsrv)
        kbtest.stop_server(msrv)
        kbtest.stop_xapian(rs)
        kbtest.remove_unless_failed(tmp)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
