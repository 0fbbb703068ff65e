#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_replication.py - an index location copied to a search host with Xapian's stock
replication (xapian-replicate-server on the indexing side, xapian-replicate -o on the
replica), as docs/deployment-shards.md sets it up, on 127.0.0.1. kb-indexer builds a
copy of corpus/ with XAPIAN_MAX_CHANGESETS=10; the first replication is a full copy; a
kb-server on the replica, unable to write there (run as nobody when the test is root,
else the folder is read-only), answers every query exactly as a kb-server on the master
does. Then a document is added and the nightly run indexes it: the second replication
sends one changeset (not a copy), and the running replica server finds the new document
without a restart. Last, a --full run switches the master to a new generation: the third
replication is a full copy, the replica's stub is switched, and the running replica
server follows it. Nothing is written in the replica's folder but by xapian-replicate.
"""
import os
import shutil
import sys
import tempfile
import time
import urllib.parse

import kbtest
from kbtest import check

DATA = os.environ.get("KB_DATA_DIR", os.path.join(kbtest.SRC, "schemas"))
QUERIES = ["hydrogen", "batterie", "celle a combustibile", "pile à combustible 700 bar",
           "inverter SiC", "moteur", "quokkaflux", "wombatrix", "title:hydrogen"]
NOBODY = 65534


def run_indexer(index, src, *extra):
    env = dict(os.environ, KB_DATA_DIR=DATA, XAPIAN_MAX_CHANGESETS="10")
    code, rep, _ = kbtest.index_json(index, src, *extra, env=env)
    return code, rep


def start_server(tmp, name, index, as_nobody):
    """kb-server on port 0 over `index`, without keys (no API writes) or analytics."""
    rundir = os.path.join(tmp, "run-" + name)
    os.mkdir(rundir)
    os.chmod(rundir, 0o777)  # the port file, written by nobody too
    prefix = []
    if as_nobody:
        prefix = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]
    return kbtest.start_kb_server(index, os.path.join(rundir, "port"),
                                  os.path.join(tmp, name + ".log"), "--access-log=",
                                  "--analytics-file=off", prefix=prefix,
                                  env=dict(os.environ, KB_DATA_DIR=DATA))


def get(port, path):
    return kbtest.call(port, "GET", path)


def answers(port):
    """Per query: the whole answer (hits, snippets, facets, totals, revision) but its
    time."""
    out = {}
    for q in QUERIES:
        st, b = get(port, "/api/v1/search?facets=true&size=20&q=" + urllib.parse.quote(q))
        if isinstance(b, dict):
            b.pop("took_ms", None)
        out[q] = (st, b)
    return out


def same_answers(master, replica, what):
    """Checks that both servers answer alike; the replica's server reopens per request,
    so a short wait covers a revision it has not looked at yet."""
    a = b = None
    for _ in range(50):
        a, b = answers(master), answers(replica)
        if a == b:
            break
        time.sleep(0.1)
    diff = [q for q in QUERIES if a[q] != b[q]]
    check(not diff, "%s: the replica answers as the master (%d queries)%s" % (
        what, len(QUERIES), (", differ: %s" % diff) if diff else ""))
    return a


def total(port, q):
    st, b = get(port, "/api/v1/search?snippets=false&q=" + urllib.parse.quote(q))
    return b.get("total") if st == 200 else st


def replica_files(replica):
    return sorted(os.listdir(replica))


def main():
    if kbtest.missing_xapian_tools(kbtest.TCPSRV, kbtest.REPLICATE, kbtest.REPLICATE_SERVER):
        return 1
    as_nobody = os.geteuid() == 0
    if as_nobody and not shutil.which("setpriv"):
        print("setpriv is missing (util-linux)")
        return 1
    tmp = tempfile.mkdtemp(prefix="kb-repl-")
    os.chmod(tmp, 0o755)  # nobody must reach the replica (read-only) and its port file
    src = os.path.join(tmp, "src")
    shutil.copytree(os.path.join(kbtest.SRC, "corpus"), src)
    master_dir = os.path.join(tmp, "master")
    index = os.path.join(master_dir, "index")
    os.mkdir(master_dir)
    replica_parent = os.path.join(tmp, "replica")
    os.mkdir(replica_parent)  # xapian-replicate does not create the parent
    replica = os.path.join(replica_parent, "index")
    rs = master_srv = replica_srv = None
    try:
        rc, rep = run_indexer(index, src)
        check(rc == 0 and rep.get("generation") == "gen-1",
              "first run builds gen-1 (exit %d, %s)" % (rc, rep.get("generation")))
        rs = kbtest.start_replicate_server(master_dir, os.path.join(tmp, "replicate.log"))

        rc, out, copies, changesets = kbtest.replicate_once(rs.port, "index", replica)
        check(rc == 0 and copies == 1 and changesets == 0,
              "first replication is a full copy: %s" % out.strip().splitlines()[-1:])
        files = replica_files(replica)
        check(len(files) == 2 and "XAPIANDB" in files and files[1].startswith("replica_"),
              "the replica holds its stub and one copy: %s" % files)

        master_srv, mport = start_server(tmp, "master", index, False)
        if not as_nobody:
            os.chmod(replica, 0o555)  # kb-server tries its writes (api-docs/) at start
        replica_srv, rport = start_server(tmp, "replica", replica, as_nobody)
        if not as_nobody:
            os.chmod(replica, 0o755)  # for xapian-replicate
        st, stats = get(rport, "/api/v1/stats")
        check(st == 200 and stats.get("writes", {}).get("enabled") is False,
              "the replica's server runs with writes disabled: %s" % stats.get("writes"))
        a = same_answers(mport, rport, "after the full copy")
        check(a["hydrogen"][0] == 200 and a["hydrogen"][1].get("total", 0) > 5,
              "the queries find documents (hydrogen: %s)" % a["hydrogen"][1].get("total"))
        check(total(rport, "quokkaflux") == 0, "quokkaflux is not indexed yet")

        # the nightly run: one new document, an incremental run on the same generation
        with open(os.path.join(src, "en", "zz-quokkaflux-rig.md"), "w") as f:
            f.write("# The quokkaflux test rig\n\nA note on the quokkaflux rig, a bench "
                    "for hydrogen valves at 700 bar.\n")
        rc, rep = run_indexer(index, src)
        check(rc == 0 and rep.get("added") == 1 and rep.get("generation") == "gen-1",
              "the nightly run adds the document to gen-1 (%s, %s)" % (
                  rep.get("added"), rep.get("generation")))
        rc, out, copies, changesets = kbtest.replicate_once(rs.port, "index", replica)
        check(rc == 0 and copies == 0 and changesets and changesets >= 1,
              "second replication sends changesets, no copy: %s" %
              out.strip().splitlines()[-1:])
        check(replica_files(replica) == files, "the same copy was updated in place")
        check(total(rport, "quokkaflux") == 1,
              "the running replica server finds the new document")
        same_answers(mport, rport, "after the changeset")

        # a full rebuild: a new generation, so a new database (uuid) behind the stub
        with open(os.path.join(src, "en", "zz-wombatrix-note.md"), "w") as f:
            f.write("# Wombatrix\n\nThe wombatrix coating protects a bipolar plate.\n")
        rc, rep = run_indexer(index, src, "--full")
        check(rc == 0 and rep.get("generation") == "gen-2",
              "--full switches the master to gen-2 (%s)" % rep.get("generation"))
        rc, out, copies, changesets = kbtest.replicate_once(rs.port, "index", replica)
        check(rc == 0 and copies == 1,
              "third replication is a full copy of the new generation: %s" %
              out.strip().splitlines()[-1:])
        files2 = replica_files(replica)
        check(len(files2) == 2 and files2 != files,
              "the replica's stub names the other copy, the old one is gone: %s" % files2)
        check(total(rport, "wombatrix") == 1,
              "the running replica server follows the switch (wombatrix found)")
        same_answers(mport, rport, "after the new generation")
        check(not any(f.startswith("api") for f in replica_files(replica)),
              "kb-server wrote nothing in the replica's folder")
    finally:
        kbtest.stop_server(replica_srv)
        kbtest.stop_server(master_srv)
        kbtest.stop_xapian(rs)
        kbtest.remove_unless_failed(tmp)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
