# SPDX-License-Identifier: MIT
#
# test_faults_apiwrite_full.py - the disk fills during API writes. The index (and so the
# writer's journal and store, which live beside it) is on a small tmpfs mounted by the
# test (root only, as in CI), nearly filled by another file. PUT /api/v1/documents/{id}
# is sent in a loop with large documents: every answer must be JSON, either acknowledged
# (200 applied, 202 queued: durable in the journal) or refused with 507 and a JSON
# error, never a 500 or a crash; searches keep answering from the last good revision;
# the failed commits give their space back. Once the other file is removed, every
# acknowledged write is applied (nothing lost), xapian-check is clean, and new writes
# answer 200 again.
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbtest  # noqa: E402
from kbtest import BIN, SRC, INDEXER, check, stop_server  # noqa: E402

WKEY = "fault-test-write-key-0123456789abcdef"
SIZE_MB = 64
HEADROOM = 1024 * 1024


free = kbtest.free_bytes


def req(port, method, path, body=None, timeout=30):
    status, _, raw = kbtest.http(port, method, path, body, WKEY, timeout=timeout)
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, {"not_json": raw[:200].decode("latin-1")}


def tables(idx):
    """Bytes in the current generation's table files."""
    gens = sorted((g for g in os.listdir(idx) if g.startswith("gen-") and "." not in g),
                  key=lambda g: int(g[4:]))
    d = os.path.join(idx, gens[-1])
    return sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d)
               if n.endswith(".glass"))


def doc(n, rnd):
    words = ["hydrogen", "battery", "inverter", "traction", "cathode", "electrolyser",
             "catalyst", "turbine", "charger", "busbar", "stack", "membrane"]
    body = " ".join("%s%d" % (rnd.choice(words), rnd.randrange(100000))
                    for _ in range(1000))
    return {"title": "Disk fill note %d" % n, "body": body, "lang": "en"}


def main():
    tmp = tempfile.mkdtemp(prefix="kb-apifull-")
    mnt = kbtest.mount_tmpfs(tmp, SIZE_MB)
    if mnt is None:
        return kbtest.finish()
    server = None
    try:
        src = os.path.join(tmp, "src")
        shutil.copytree(os.path.join(SRC, "corpus", "en"), os.path.join(src, "en"))
        idx = os.path.join(mnt, "idx")
        p = subprocess.run([INDEXER, "--index=" + idx, "--quiet", src],
                           capture_output=True, text=True, timeout=300)
        check(p.returncode in (0, 1), "baseline index (%s)" % p.stderr[-200:])
        keys = kbtest.write_keys(os.path.join(tmp, "keys"), (WKEY, "write"))
        server, port = kbtest.start_kb_server(idx, os.path.join(tmp, "port"),
                                              os.path.join(tmp, "server.log"),
                                              "--keys-file=" + keys, "--access-log=")
        st, b = req(port, "GET", "/api/v1/stats")
        n0 = b.get("documents", 0)

        committed = tables(idx)
        ballast = kbtest.write_ballast(mnt, HEADROOM)
        rnd = random.Random(7)
        acked, refused, bad = [], [], []
        statuses = {}
        for n in range(200):
            st, b = req(port, "PUT", "/api/v1/documents/api/full/%d" % n, doc(n, rnd))
            statuses[st] = statuses.get(st, 0) + 1
            if st in (200, 202):
                acked.append(n)
            elif (st == 507 and isinstance(b.get("error"), dict)
                  and b["error"].get("code") == "insufficient_storage"
                  and "disk is full" in b["error"].get("message", "")):
                refused.append(n)
            else:
                bad.append((n, st, b))
            s2, b2 = req(port, "GET", "/api/v1/search?q=hydrogen")
            if s2 != 200:
                bad.append(("search", s2, b2))
            if len(refused) >= 3:
                break
        print("statuses while full: %s, %d KiB free" % (statuses, free(mnt) // 1024))
        check(not bad, "every answer is an acknowledgement or a 507 insufficient_storage JSON error, "
              "searches answer 200 (%s)" % bad[:3])
        check(refused, "the full disk was reached (%d refused)" % len(refused))
        check(server.poll() is None, "the server is still running")
        # the writer retries every 0.5 s; between two tries its blocks must be given back
        low = committed * 10
        for _ in range(40):
            low = min(low, tables(idx))
            time.sleep(0.05)
        check(low <= committed + 64 * 1024, "failed batches give their space back (tables "
              "%d KiB committed, %d KiB at the lowest)" % (committed // 1024, low // 1024))
        print("%d writes acknowledged while the disk was full" % len(acked))
        st, b = req(port, "GET", "/healthz")
        check(st in (200, 503) and "not_json" not in b, "healthz answers JSON (%d)" % st)

        os.unlink(ballast)
        # the writer retries on its own; wait for the queue to drain
        deadline = time.time() + 60
        while time.time() < deadline:
            st, b = req(port, "GET", "/api/v1/documents/api/full/%d" % acked[-1]) \
                if acked else (200, {})
            if st == 200:
                break
            time.sleep(0.5)
        missing = [n for n in acked
                   if req(port, "GET", "/api/v1/documents/api/full/%d" % n)[0] != 200]
        check(not missing, "space back: all %d acknowledged writes are applied (missing %s)"
              % (len(acked), missing))
        later = []
        for n in refused[:3]:
            st, b = req(port, "PUT", "/api/v1/documents/api/full/%d" % n, doc(n, rnd))
            later.append(st)
        check(all(s == 200 for s in later), "writes succeed again (%s)" % later)
        st, b = req(port, "GET", "/api/v1/stats")
        want = n0 + len(acked) + len(later)
        check(b.get("documents") == want, "documents: %s (want %d)" %
              (b.get("documents"), want))
        stop_server(server)
        server = None
        gens = [g for g in os.listdir(idx) if g.startswith("gen-") and "." not in g]
        p = subprocess.run(["xapian-check", os.path.join(idx, sorted(gens)[-1])],
                           capture_output=True, text=True, timeout=120)
        check(p.returncode == 0 and "No errors found" in p.stdout, "xapian-check clean")
        print("reliability: test_faults_apiwrite_full: %d writes on a full disk, "
              "%d refused with a JSON error, 0 acknowledged writes lost" %
              (sum(statuses.values()), len(refused)))
    finally:
        stop_server(server)
        if kbtest.failures:
            print("server log (tail):\n" +
                  open(os.path.join(tmp, "server.log"), errors="replace").read()[-3000:])
        subprocess.run(["umount", mnt], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
