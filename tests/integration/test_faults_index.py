# SPDX-License-Identifier: MIT
#
# test_faults_index.py - the index is missing, corrupt, or replaced under a running
# kb-server. Starts the real server on each broken index in turn (no folder; an empty
# folder; a stub naming a missing generation; a stub of garbage; a table file cut short;
# a table file overwritten with garbage; a version file of garbage) and checks that it
# starts, stays up, and answers every route with JSON: 503 index_unavailable (or 200
# where it could still read something), never a 500, an empty body or a crash; then a
# good index is built in place and the same server answers from it without a restart.
# Last, with a client looping searches (and a writer thread loop of suggest/stats), the
# index directory is moved away and a new one built in its place, then `--full` runs
# twice back to back: no 500s, no connection errors, and the server picks up the new
# index each time.
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbtest  # noqa: E402
from kbtest import SRC, INDEXER, check, stop_server  # noqa: E402

ROUTES = ["/healthz", "/api/v1/search?q=hydrogen", "/api/v1/suggest?q=hydr",
          "/api/v1/stats", "/api/v1/documents/en/fuel-cell-heavy-duty-trucks.md",
          "/feed.atom?q=battery", "/api/v1/search?q=&facets=true"]


def get(port, path, timeout=10):
    st, h, raw = kbtest.http(port, "GET", path, timeout=timeout)
    return st, h.get("Content-Type", ""), raw


def answer_ok(st, ctype, body):
    """200 with a body, or a 503/404 JSON error: never a 500 or an empty answer."""
    if st == 200:
        return bool(body)
    if st not in (503, 404):
        return False
    try:
        return "json" in ctype and json.loads(body)["error"]["code"] != ""
    except (ValueError, KeyError, TypeError):
        return False


def start(tmp, idx):
    return kbtest.start_kb_server(idx, os.path.join(tmp, "port"),
                                  os.path.join(tmp, "server.log"), "--access-log=",
                                  required=False)


def index(idx, src, *extra):
    p = subprocess.run([INDEXER, "--index=" + idx, "--quiet"] + list(extra) + [src],
                       capture_output=True, text=True, timeout=300)
    return p.returncode, p.stderr


def total(port):
    st, _, body = get(port, "/api/v1/search?q=&collapse=false")
    return json.loads(body).get("total") if st == 200 else None


def corrupt_cases(good):
    """(label, function(idx)) for each way of breaking a copy of the good index."""
    def gen1(idx, name):
        return os.path.join(idx, "gen-1", name)

    def cut(idx):
        p = gen1(idx, "postlist.glass")
        os.truncate(p, os.path.getsize(p) // 3)

    def garbage(idx, name):
        p = gen1(idx, name)
        size = os.path.getsize(p)
        with open(p, "r+b") as f:
            f.write(bytes((i * 37 + 11) % 256 for i in range(size)))

    return [
        ("no index folder", lambda idx: shutil.rmtree(idx)),
        ("an empty folder", lambda idx: [shutil.rmtree(idx), os.makedirs(idx)]),
        ("a stub naming a missing generation",
         lambda idx: open(os.path.join(idx, "XAPIANDB"), "w").write("auto gen-9\n")),
        ("a stub of garbage",
         lambda idx: open(os.path.join(idx, "XAPIANDB"), "wb").write(b"\x00\xff" * 40)),
        ("a table file cut short", cut),
        ("a table file of garbage", lambda idx: garbage(idx, "postlist.glass")),
        ("the record table of garbage", lambda idx: garbage(idx, "docdata.glass")),
        ("a version file of garbage", lambda idx: garbage(idx, "iamglass")),
    ]


class Client:
    """Loops over search, suggest, documents and stats; counts answers by kind."""

    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.n = 0
        self.bad = []
        self.t = threading.Thread(target=self.loop)
        self.t.start()

    def loop(self):
        i = 0
        while not self.stop.is_set():
            path = ROUTES[1 + i % (len(ROUTES) - 1)]
            i += 1
            try:
                st, ctype, body = get(self.port, path)
                if not answer_ok(st, ctype, body) or st != 200:
                    self.bad.append((path, st, body[:120]))
            except Exception as e:  # noqa: BLE001 - a refused or reset connection
                self.bad.append((path, "error", str(e)))
            self.n += 1

    def end(self):
        self.stop.set()
        self.t.join()


def main():
    tmp = tempfile.mkdtemp(prefix="kb-index-faults-")
    server = None
    try:
        src = os.path.join(tmp, "src")
        shutil.copytree(os.path.join(SRC, "corpus", "en"), os.path.join(src, "en"))
        good = os.path.join(tmp, "good")
        code, err = index(good, src, "--threads=1")
        check(code in (0, 1), "a good index to copy (%s)" % err[-200:])
        n_good = None
        faults = 0
        for label, spoil in corrupt_cases(good):
            idx = os.path.join(tmp, "idx")
            shutil.rmtree(idx, ignore_errors=True)
            shutil.copytree(good, idx)
            spoil(idx)
            server, port = start(tmp, idx)
            faults += 1
            check(port is not None, "%s: the server starts" % label)
            if port is None:
                stop_server(server)
                server = None
                continue
            answers = [get(port, r) for r in ROUTES for _ in range(2)]
            wrong = [(r, a[0], a[2][:80]) for r, a in zip(ROUTES * 2, answers)
                     if not answer_ok(*a)]
            check(not wrong, "%s: every route answers JSON 503 (or 200), no 500 (%s)" %
                  (label, wrong[:2]))
            st, ctype, body = get(port, "/healthz")
            # a table cut short still opens (Xapian reads the damaged blocks only when a
            # lookup needs them, and those answer 503): /healthz may then say 200
            check((st == 503 or (st == 200 and "cut short" in label)) and "json" in ctype,
                  "%s: /healthz says 503 in JSON (%d %s)" % (label, st, body[:100]))
            check(server.poll() is None, "%s: the server is still running" % label)
            if "missing generation" in label:
                time.sleep(1.5)  # the writer's first pass has run
                check(not os.path.exists(os.path.join(idx, "gen-9")) and
                      get(port, "/healthz")[0] == 503,
                      "%s: the server does not create an empty generation" % label)
            # a good index appears in its place: the same server answers from it
            shutil.rmtree(idx, ignore_errors=True)
            shutil.copytree(good, idx)
            if n_good is None:
                time.sleep(0.1)
            for _ in range(100):
                if get(port, "/healthz")[0] == 200 and total(port):
                    break
                time.sleep(0.1)
            n = total(port)
            n_good = n_good or n
            check(n and n == n_good and get(port, "/healthz")[0] == 200,
                  "%s: recovers without a restart once a good index is there (%s)" %
                  (label, n))
            stop_server(server)
            server = None

        # replaced under a running server, with a client looping
        idx = os.path.join(tmp, "idx")
        shutil.rmtree(idx, ignore_errors=True)
        shutil.copytree(good, idx)
        server, port = start(tmp, idx)
        client = Client(port)
        time.sleep(0.3)
        os.rename(idx, idx + ".old")
        extra = os.path.join(src, "en", "zz-replaced.md")
        with open(extra, "w") as f:
            f.write("# Replaced index marker\n\nThe quokkaphone marker is only in the new "
                    "index: solid-state battery note.\n")
        code, err = index(idx, src)
        faults += 1
        check(code in (0, 1), "a new index built in the old one's place (%s)" % err[-200:])
        found = 0
        for _ in range(100):
            st, _, body = get(port, "/api/v1/search?q=quokkaphone")
            if st == 200 and json.loads(body).get("total") == 1:
                found = 1
                break
            time.sleep(0.1)
        check(found, "the server picks up the new index without a restart")
        for i in range(2):
            code, err = index(idx, src, "--full")
            faults += 1
            check(code in (0, 1), "--full number %d (%s)" % (i + 1, err[-200:]))
        shutil.rmtree(idx + ".old", ignore_errors=True)
        time.sleep(1.5)
        client.end()
        check(client.n >= 20, "the client ran throughout (%d requests)" % client.n)
        bad = [b for b in client.bad if b[1] != 503]
        check(not bad, "no 500, no connection error while the index was replaced (%s)" %
              bad[:3])
        check(len(client.bad) <= client.n // 2,
              "503 only while no index was there (%d of %d)" % (len(client.bad), client.n))
        st, _, body = get(port, "/api/v1/search?q=quokkaphone")
        check(st == 200 and json.loads(body).get("total") == 1,
              "after two --full runs the server answers from the newest generation")
        check(server.poll() is None, "the server is still running")
        print("reliability: test_faults_index: %d broken or replaced indexes survived, "
              "%d requests during replacement, 0 answers 500" % (faults, client.n))
    finally:
        stop_server(server)
        if kbtest.failures:
            print("server log (tail):\n" +
                  open(os.path.join(tmp, "server.log"), errors="replace").read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
