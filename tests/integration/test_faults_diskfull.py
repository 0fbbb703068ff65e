# SPDX-License-Identifier: MIT
#
# test_faults_diskfull.py - the disk fills up during a run. The indexer runs with a file
# size limit (RLIMIT_FSIZE, as `ulimit -f` does) a little above the index's current
# largest file, so Xapian's writes fail with EFBIG part-way (kb-indexer ignores SIGXFSZ
# itself: the test restores the default disposition). Checks, for an incremental run and
# for a --full rebuild: exit 4, "disk full" in the message, the previous revision intact
# (same revision and documents, xapian-check clean, stub unchanged, no leftover folders),
# kb-server started before the run still answers from it, and once space is back the
# next run completes and the server sees the new documents without a restart.
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbtest  # noqa: E402
from kbtest import BIN, SRC, INDEXER, check, stop_server  # noqa: E402





def index(idx, src, limit=None, *extra):
    def lim():
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # the indexer must ignore it
        if limit:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    p = subprocess.run([INDEXER, "--index=" + idx, "--quiet", "--flush-threshold=20"] +
                       list(extra) + [src], capture_output=True, text=True, timeout=300,
                       preexec_fn=lim)
    return p.returncode, p.stdout, p.stderr


db_info = kbtest.db_info


def largest_file(path):
    return max(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(path) for n in ns)


def main():
    tmp = tempfile.mkdtemp(prefix="kb-diskfull-")
    server = None
    try:
        gen, src, names = kbtest.mkcorpus_source(tmp, 300, 3, 60)
        idx = os.path.join(tmp, "idx")
        code, out, err = index(idx, os.path.dirname(src))
        check(code == 0, "baseline index (%s)" % err[-200:])
        base = db_info(idx)
        stub = open(os.path.join(idx, "XAPIANDB")).read()

        server, port = kbtest.start_kb_server(idx, os.path.join(tmp, "port"),
                                              os.path.join(tmp, "server.log"))

        def total():
            return kbtest.search_total(port)

        check(total() == (200, 60), "server serves the baseline (60 documents)")

        for n in names[60:]:
            shutil.copy2(os.path.join(gen, "0000", n), src)
        limit = largest_file(idx) + 32 * 1024

        for label, extra in (("incremental", []), ("--full", ["--full"])):
            code, out, err = index(idx, os.path.dirname(src), limit, *extra)
            check(code == 4, "%s under a full disk: exit 4 (got %d)" % (label, code))
            check("disk full" in err, "%s: 'disk full' in the message: %s" %
                  (label, err.strip()[-300:]))
            after = db_info(idx)
            check(after.get("revision") == base.get("revision") and
                  after.get("number of documents") == "60",
                  "%s: previous revision intact (%s -> %s)" %
                  (label, base.get("revision"), after.get("revision")))
            check(open(os.path.join(idx, "XAPIANDB")).read() == stub,
                  "%s: stub unchanged" % label)
            left = sorted(n for n in os.listdir(idx) if n.startswith("gen-"))
            check(left == ["gen-1"], "%s: no leftover generation (%s)" % (label, left))
            p = kbtest.xapian_check(os.path.join(idx, "gen-1"))
            check(p.returncode == 0 and "No errors found" in p.stdout,
                  "%s: xapian-check clean" % label)
            check(total() == (200, 60), "%s: server still serves 60 documents" % label)

        code, out, err = index(idx, os.path.dirname(src))
        check(code == 0, "space back: the next run completes (%s)" % err[-200:])
        check(total() == (200, 300), "server sees 300 documents without a restart")
        print("reliability: test_faults_diskfull: 2 runs over the file size limit "
              "(incremental, --full), 0 documents lost, 300 indexed once space was back")
    finally:
        stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
