# SPDX-License-Identifier: MIT
#
# test_faults_server.py - kb-server under continuous queries while the indexer works.
# Two client threads send /api/v1/search requests (queries from ../shared/bench), one
# every 10 ms each, while, in turn, an incremental run adds 100 documents, a --full run rebuilds the
# index into a new generation and switches the XAPIANDB stub, and a last incremental run
# adds one document to that new generation. Checks: zero failed requests (every answer is
# a 200 with a JSON body), the clients really ran during each phase, and after the switch
# the server answers from gen-2 without a restart: it finds the document that only gen-2
# holds, and its open files are in gen-2.
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbtest  # noqa: E402
from kbtest import BIN, SRC, check, stop_server  # noqa: E402

BENCH = os.path.join(SRC, "..", "shared", "bench")




class Clients:
    """Two threads querying in a loop; counts answers and failures."""

    def __init__(self, port, queries):
        self.port, self.queries = port, queries
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.bad = []
        self.threads = [threading.Thread(target=self.loop, args=(i,)) for i in range(2)]

    def loop(self, i):
        n = i
        while not self.stop.is_set():
            q = self.queries[n % len(self.queries)]
            n += 2
            url = "http://127.0.0.1:%s/api/v1/search?q=%s&limit=10" % (
                self.port, urllib.parse.quote(q))
            try:
                with urllib.request.urlopen(url, timeout=30) as r:
                    body = json.loads(r.read())
                    good = r.status == 200 and "hits" in body
                    err = "status %d" % r.status
            except urllib.error.HTTPError as e:
                good, err = False, "HTTP %d %s" % (e.code, e.read()[:200])
            except Exception as e:  # connection refused, reset, bad JSON...
                good, err = False, repr(e)
            with self.lock:
                if good:
                    self.ok += 1
                else:
                    self.bad.append("%s: %s" % (q, err))
            time.sleep(0.01)  # continuous, but leaves the indexer some CPU on 2 cores

    def count(self):
        with self.lock:
            return self.ok + len(self.bad)


index = kbtest.index_json


def main():
    tmp = tempfile.mkdtemp(prefix="kb-serve-")
    server = None
    clients = None
    try:
        gen, src0, names = kbtest.mkcorpus_source(tmp, 200, 11, 100)
        src = os.path.dirname(src0)
        idx = os.path.join(tmp, "idx")
        code, rep, err = index(idx, src)
        check(code == 0 and rep.get("added") == 100, "baseline: 100 documents")

        server, port = kbtest.start_kb_server(idx, os.path.join(tmp, "port"),
                                              os.path.join(tmp, "server.log"), "--workers=4")
        with open(os.path.join(BENCH, "queries.txt"), encoding="utf-8") as f:
            queries = [l.strip() for l in f if l.strip()][:200]
        clients = Clients(port, queries)
        for t in clients.threads:
            t.start()
        time.sleep(0.5)

        for n in names[100:]:
            shutil.copy2(os.path.join(gen, "0000", n), os.path.join(src, "0000"))
        phases = (("incremental run", []), ("--full run", ["--full"]))
        for label, extra in phases:
            before = clients.count()
            code, rep, err = index(idx, src, *extra)
            check(code == 0, "%s: exit 0 (%s)" % (label, err.strip()[-200:]))
            time.sleep(0.5)
            during = clients.count() - before
            check(during >= 10, "%s: %d requests during the run" % (label, during))
        stub = open(os.path.join(idx, "XAPIANDB")).read()
        check("auto gen-2" in stub, "the stub points at gen-2")

        # a document only gen-2 holds
        with open(os.path.join(src, "0000", "only-in-gen2.txt"), "w") as f:
            f.write("Only in the second generation: xylophonique marimbesque.\n")
        code, rep, err = index(idx, src)
        check(code == 0 and rep.get("added") == 1, "incremental run into gen-2")
        time.sleep(0.5)
        clients.stop.set()
        for t in clients.threads:
            t.join(timeout=60)

        check(clients.ok > 50, "%d successful requests in all" % clients.ok)
        check(not clients.bad, "zero failed requests (%d: %s)" %
              (len(clients.bad), clients.bad[:3]))
        url = "http://127.0.0.1:%s/api/v1/search?q=xylophonique" % port
        found = 0
        for _ in range(8):  # every worker thread, whichever answers
            with urllib.request.urlopen(url, timeout=10) as r:
                hits = json.loads(r.read())["hits"]
                found += len(hits) == 1 and hits[0]["id"] == "0000/only-in-gen2.txt"
        check(found == 8, "server finds the gen-2-only document without a restart "
              "(%d/8)" % found)
        fds = os.listdir("/proc/%d/fd" % server.pid)
        paths = []
        for fd in fds:
            try:
                paths.append(os.readlink("/proc/%d/fd/%s" % (server.pid, fd)))
            except OSError:
                pass
        in2 = [p for p in paths if "/gen-2/" in p]
        check(in2, "server has files of gen-2 open (%d)" % len(in2))
        check(server.poll() is None, "server still running")
        print("reliability: test_faults_server: %d requests held during 3 index runs "
              "(one generation switch), %d failed" % (clients.ok, len(clients.bad)))
    finally:
        if clients:
            clients.stop.set()
            for t in clients.threads:
                t.join(timeout=60)
        stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
