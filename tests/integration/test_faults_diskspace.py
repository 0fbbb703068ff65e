# SPDX-License-Identifier: MIT
#
# test_faults_diskspace.py - a real full disk: the index lives on a small tmpfs (mounted
# by the test; it needs root, as CI has) that another file nearly fills. Each failed run
# (incremental, then --full, exit 4) must give its space back at once: free space after
# the run is what it was before, and another program can use it. A run killed with
# SIGKILL while it fills the disk leaves its blocks behind; the next run gives them back
# first. Throughout, the previous revision stays intact and a kb-server started before
# keeps serving it; once the other file is removed, the next run completes with no
# manual cleanup and the server sees the new documents. All of it twice: an unsharded
# index, then one of 2 shards (every shard and the lexicon give their space back).
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbtest  # noqa: E402
from kbtest import INDEXER, check, stop_server  # noqa: E402

SIZE_MB = 24
LAYOUT = []  # kb-indexer's arguments for the layout under test (--shards=N)
HEADROOM = 1536 * 1024  # free space left for the run: far less than it needs


def index(idx, src, *extra, popen=False):
    args = [INDEXER, "--index=" + idx, "--quiet", "--flush-threshold=20"] + LAYOUT + \
        list(extra) + [src]
    if popen:
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def fill(path, size):
    """Writes a file of `size` bytes; returns True when the disk took it all."""
    try:
        with open(path, "wb") as f:
            chunk = b"\0" * 65536
            left = size
            while left > 0:
                f.write(chunk[:min(left, len(chunk))])
                left -= min(left, len(chunk))
        return True
    except OSError:
        return False
    finally:
        if os.path.exists(path):
            os.unlink(path)


def databases(idx):
    """The folders of every database of the location (generations of each part)."""
    parts = [os.path.join(idx, p) for p in sorted(os.listdir(idx))
             if p.startswith("shard") or p == "lexicon"] or [idx]
    return [os.path.join(p, g) for p in parts for g in sorted(os.listdir(p))
            if g.startswith("gen-")]


def main():
    for layout in ([], ["--shards=2"]):
        LAYOUT[:] = layout
        print("--- %s" % (" ".join(layout) or "unsharded"), flush=True)
        scenario(" ".join(layout))
    return kbtest.finish()


def scenario(name):
    tmp = tempfile.mkdtemp(prefix="kb-diskspace-")
    mnt = kbtest.mount_tmpfs(tmp, SIZE_MB)
    if mnt is None:
        return
    server = None
    try:
        gen, src, names = kbtest.mkcorpus_source(tmp, 300, 5, 60)
        idx = os.path.join(mnt, "idx")
        code, out, err = index(idx, os.path.dirname(src))
        check(code == 0, "baseline index of 60 documents (%s)" % err[-200:])

        server, port = kbtest.start_kb_server(idx, os.path.join(tmp, "port"),
                                              os.path.join(tmp, "server.log"))

        def total():
            return kbtest.search_total(port)

        check(total() == (200, 60), "server serves the baseline")
        for n in names[60:]:
            shutil.copy2(os.path.join(gen, "0000", n), src)
        ballast = kbtest.write_ballast(mnt, HEADROOM)
        faults = 0
        given = 0
        for label, extra in (("incremental", []), ("--full", ["--full"])):
            before = kbtest.free_bytes(mnt)
            code, out, err = index(idx, os.path.dirname(src), *extra)
            faults += 1
            check(code == 4 and "disk full" in err,
                  "%s on a full disk: exit 4, 'disk full' (got %d: %s)" %
                  (label, code, err.strip()[-200:]))
            after = kbtest.free_bytes(mnt)
            check(after >= before - 64 * 1024,
                  "%s: the run's space is given back (%d KiB free before, %d after)" %
                  (label, before // 1024, after // 1024))
            check(fill(os.path.join(mnt, "another.dat"), before - 128 * 1024),
                  "%s: another program can use that space" % label)
            dbs = databases(idx)
            check(dbs and all(d.endswith("/gen-1") for d in dbs) and
                  not [n for n in os.listdir(idx) if n.startswith("indexer.sizes")],
                  "%s: no leftover generation or state file (%s)" % (
                      label, [os.path.relpath(d, idx) for d in dbs]))
            check(total() == (200, 60), "%s: server still serves 60 documents" % label)
            if "gave back" in err:
                given += int(err.split("gave back ")[1].split()[0])

        # killed while filling the disk: the next run gives the blocks back first
        before = kbtest.free_bytes(mnt)
        proc = index(idx, os.path.dirname(src), popen=True)
        for _ in range(4000):
            if kbtest.free_bytes(mnt) < before - 512 * 1024 or proc.poll() is not None:
                break
            time.sleep(0.002)
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.communicate()
        faults += 1
        check(killed, "the run was killed while it filled the disk")
        check(kbtest.free_bytes(mnt) < before - 256 * 1024,
              "the killed run left its blocks behind")
        code, out, err = index(idx, os.path.dirname(src))
        check("left by a failed run" in err,
              "the next run gives them back first (%s)" % err.strip()[-200:])
        check(code == 4 and kbtest.free_bytes(mnt) >= before - 64 * 1024,
              "... and its own too (exit %d, %d KiB free, %d before)" %
              (code, kbtest.free_bytes(mnt) // 1024, before // 1024))
        for e in err.split("gave back ")[1:]:
            given += int(e.split()[0])

        os.unlink(ballast)
        code, out, err = index(idx, os.path.dirname(src))
        check(code == 0, "space back: the next run completes, no manual cleanup (%s)" %
              err[-200:])
        for d in databases(idx):
            p = kbtest.xapian_check(d)
            check(p.returncode == 0 and "No errors found" in p.stdout,
                  "xapian-check clean: %s" % os.path.relpath(d, idx))
        check(total() == (200, 300), "server sees 300 documents without a restart")
        print("reliability: test_faults_diskspace%s: %d full-disk faults survived, "
              "%d KiB given back, 0 documents lost" % (" " + name if name else "", faults,
                                                       given // 1024))
    finally:
        stop_server(server)
        subprocess.run(["umount", mnt], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
