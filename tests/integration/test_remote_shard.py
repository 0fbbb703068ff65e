#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_remote_shard.py - an index served by the stock xapian-tcpsrv on 127.0.0.1 and
read by kb-server through a Xapian stub file (`remote 127.0.0.1:P`), as one shard of
docs/deployment-shards.md. Searches (without facets, whose spy is not yet one Xapian can
send over the wire) answer exactly as kb-server on the local index does. When the shard's
xapian-tcpsrv is killed (with the children it forked per connection), a search answers
503 at once instead of hanging; once the shard is back on its port, the server answers
again by itself, with the same results.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

import kbtest
from kbtest import check

DATA = os.environ.get("KB_DATA_DIR", os.path.join(kbtest.SRC, "schemas"))
QUERIES = ["hydrogen", "batterie", "celle a combustibile", "pile à combustible 700 bar",
           "inverter SiC", "title:hydrogen", "lang:it idrogeno", "moteur -diesel"]


def start_server(tmp, name, index):
    return kbtest.start_kb_server(index, os.path.join(tmp, name + ".port"),
                                  os.path.join(tmp, name + ".log"), "--access-log=",
                                  "--analytics-file=off", "--workers=2",
                                  env=dict(os.environ, KB_DATA_DIR=DATA))


def get(port, path, timeout=60):
    return kbtest.call(port, "GET", path, timeout=timeout)


def answers(port):
    """Per query: the whole answer but its time and its revision (Xapian 1.4 has no
    revision for a remote database: get_revision() raises UnimplementedError)."""
    out = {}
    for q in QUERIES:
        st, b = get(port, "/api/v1/search?size=20&q=" + urllib.parse.quote(q))
        if isinstance(b, dict):
            b.pop("took_ms", None)
            b.pop("revision", None)
        out[q] = (st, b)
    return out


def main():
    if kbtest.missing_xapian_tools(kbtest.TCPSRV):
        return 1
    tmp = tempfile.mkdtemp(prefix="kb-remote-")
    index = os.path.join(tmp, "index")
    shard = local = remote = None
    try:
        r = subprocess.run([kbtest.INDEXER, "--index=" + index, "--quiet",
                            os.path.join(kbtest.SRC, "corpus")],
                           env=dict(os.environ, KB_DATA_DIR=DATA), timeout=300)
        check(r.returncode == 0, "corpus indexed (exit %d)" % r.returncode)
        # the index location as it is (its XAPIANDB stub names the generation)
        shard = kbtest.start_tcpsrv(index, os.path.join(tmp, "tcpsrv.log"))
        stub = kbtest.write_stub(os.path.join(tmp, "shards.stub"),
                                 [kbtest.remote_line(shard.port)])
        local, lport = start_server(tmp, "local", index)
        remote, rport = start_server(tmp, "remote", stub)

        a, b = answers(lport), answers(rport)
        check(a["hydrogen"][0] == 200 and a["hydrogen"][1].get("total", 0) > 5,
              "the local server finds documents (hydrogen: %s)" %
              a["hydrogen"][1].get("total"))
        diff = [q for q in QUERIES if a[q] != b[q]]
        check(not diff, "through the remote shard, %d searches answer as locally%s" % (
            len(QUERIES), (", differ: %s" % diff) if diff else ""))

        kbtest.stop_xapian(shard, signal.SIGKILL)
        shard_port = shard.port
        t0 = time.monotonic()
        st, body = get(rport, "/api/v1/search?q=hydrogen")
        took = time.monotonic() - t0
        check(st == 503 and body["error"]["code"] == "index_unavailable",
              "the shard killed: 503 index_unavailable (%d, %s)" % (st, body))
        check(took < 30, "the 503 came in %.1f s (never a hang)" % took)

        shard = kbtest.start_tcpsrv(index, os.path.join(tmp, "tcpsrv.log"), port=shard_port)
        statuses = []
        for _ in range(10):  # each worker may spend one request finding its link broken
            st, _b = get(rport, "/api/v1/search?q=hydrogen")
            statuses.append(st)
            if st == 200:
                break
        check(statuses[-1] == 200, "the shard restarted: answers again by itself (%s)" %
              statuses)
        diff = [q for q, v in answers(rport).items() if v != a[q]]
        check(not diff, "after the restart, the same answers as locally%s" % (
            (", differ: %s" % diff) if diff else ""))
    finally:
        kbtest.stop_server(remote)
        kbtest.stop_server(local)
        kbtest.stop_xapian(shard)
        kbtest.remove_unless_failed(tmp)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
