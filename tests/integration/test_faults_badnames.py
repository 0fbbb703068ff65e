# SPDX-License-Identifier: MIT
#
# test_faults_badnames.py - files whose names are not valid UTF-8 (as old Samba or FTP
# shares leave them: Latin-1 bytes). Each is reported as failed under a stable escaped
# id (\xHH for each stray byte), the run goes on and commits the others (exit 1, not 4),
# the next run passes it over as an unchanged failure (same id, no new revision), an edit
# is reported again under the same id, a removal drops its record, and the run report
# stays valid JSON for kb-indexer --json and GET /api/v1/stats.
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbtest  # noqa: E402
from kbtest import SRC, INDEXER, check, stop_server  # noqa: E402


def run(idx, src):
    p = subprocess.run([INDEXER, "--index=" + idx, "--json", "--threads=2", src],
                       capture_output=True, timeout=300)
    try:
        rep = json.loads(p.stdout.decode("utf-8"))
    except ValueError:
        rep = None
    return p.returncode, rep, p.stderr.decode("utf-8", "replace")


def main():
    tmp = tempfile.mkdtemp(prefix="kb-badnames-")
    server = None
    try:
        src = os.path.join(tmp, "src").encode()
        os.makedirs(os.path.join(src, b"sub"))
        os.makedirs(os.path.join(src, b"caf\xe9s"))   # a folder, too
        md = sorted(n for n in os.listdir(os.path.join(SRC, "corpus", "en"))
                    if n.endswith(".md"))[:3]
        body = [open(os.path.join(SRC, "corpus", "en", n), "rb").read() for n in md]
        good = {b"ok.md": body[0], b"sub/\xc3\xa9t\xc3\xa9.md": body[1]}  # valid UTF-8
        bad = {b"rapport \xe9t\xe9.md": body[1], b"caf\xe9s/note.md": body[2],
               b"sub/back\\slash\xff.md": body[2]}
        for name, data in list(good.items()) + list(bad.items()):
            with open(os.path.join(src, name), "wb") as f:
                f.write(data)
        want = sorted(["caf\\xe9s/note.md", "rapport \\xe9t\\xe9.md",
                       "sub/back\\x5cslash\\xff.md"])
        idx = os.path.join(tmp, "idx")
        runs = 0

        code, rep, err = run(idx, src.decode("utf-8", "surrogateescape"))
        runs += 1
        check(code == 1, "first run: exit 1, not 4 (got %d: %s)" % (code, err[-300:]))
        check(rep is not None, "first run: the --json report is valid JSON")
        rep = rep or {}
        paths = sorted(f["path"] for f in rep.get("failures", []))
        check(paths == want, "each badly named file is reported under its escaped name "
              "(%s)" % paths)
        check(all("not valid UTF-8" in f["reason"] for f in rep.get("failures", [])),
              "the reason says the name is not valid UTF-8")
        check(rep.get("added") == 2 and rep.get("documents") == 2,
              "the well-named files are committed (%s added)" % rep.get("added"))
        check("out of memory" not in err, "no 'out of memory' message")
        check("rapport \\xe9t\\xe9.md" in err, "stderr shows the escaped name")
        rev = rep.get("revision")

        code, rep, err = run(idx, src.decode("utf-8", "surrogateescape"))
        runs += 1
        rep = rep or {}
        check(code == 0 and rep.get("skipped_failed") == 3 and rep.get("failed") == 0,
              "second run: the same ids are passed over as unchanged failures "
              "(exit %d, %s skipped)" % (code, rep.get("skipped_failed")))
        check(rep.get("revision") == rev, "second run: no new revision")

        later = time.time() + 5
        os.utime(os.path.join(src, b"rapport \xe9t\xe9.md"), (later, later))
        code, rep, err = run(idx, src.decode("utf-8", "surrogateescape"))
        runs += 1
        rep = rep or {}
        check(code == 1 and [f["path"] for f in rep.get("failures", [])] ==
              ["rapport \\xe9t\\xe9.md"] and rep.get("skipped_failed") == 2,
              "an edited file is reported again under the same id")

        os.unlink(os.path.join(src, b"caf\xe9s/note.md"))
        code, rep, err = run(idx, src.decode("utf-8", "surrogateescape"))
        runs += 1
        rep = rep or {}
        check(code == 0 and rep.get("skipped_failed") == 2 and rep.get("documents") == 2,
              "a removed file's record goes, the others stay (exit %d)" % code)

        server, port = kbtest.start_kb_server(idx, os.path.join(tmp, "port"),
                                              os.path.join(tmp, "server.log"))
        st, stats = kbtest.call(port, "GET", "/api/v1/stats", timeout=10)
        check(st == 200 and "last_run" in json.dumps(stats),
              "GET /api/v1/stats answers with the stored run report")
        _, total = kbtest.search_total(port)
        check(total == 2, "the server holds the 2 well-named documents (%s)" % total)
        print("reliability: test_faults_badnames: %d badly named files over %d runs, "
              "0 runs stopped, 0 documents lost" % (len(bad), runs))
    finally:
        stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
