# SPDX-License-Identifier: MIT
#
# test_faults_unreadable.py - a folder that the indexer cannot read. Run as an ordinary
# user (root ignores permissions: under root, as in CI, the indexer runs as `nobody` in
# a child that drops its privileges): `chmod 000 sub` (cannot be listed) and
# `chmod 644 sub` (listed, but its files cannot be reached) must each be an error of the
# run (exit 1, the folder or its files in the report's failures) and keep every
# document indexed from it, while the rest of the run (a file deleted elsewhere) goes on.
# Once the folder is readable again, the next run is clean and nothing was lost.
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbtest  # noqa: E402
from kbtest import SRC, INDEXER, check  # noqa: E402


def drop():
    """preexec_fn: become nobody when root (no-op otherwise)."""
    if os.getuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)


def run(idx, src):
    p = subprocess.run([INDEXER, "--index=" + idx, "--json", src], capture_output=True,
                       text=True, timeout=300, preexec_fn=drop)
    try:
        rep = json.loads(p.stdout)
    except ValueError:
        rep = {}
    return p.returncode, rep, p.stderr


def main():
    tmp = tempfile.mkdtemp(prefix="kb-unreadable-")
    try:
        src = os.path.join(tmp, "src")
        sub = os.path.join(src, "sub")
        os.makedirs(os.path.join(sub, "deeper"))
        names = sorted(n for n in os.listdir(os.path.join(SRC, "corpus", "en"))
                       if n.endswith((".md", ".txt", ".html")))[:6]
        for i, n in enumerate(names):
            where = src if i < 2 else (sub if i < 4 else os.path.join(sub, "deeper"))
            shutil.copy(os.path.join(SRC, "corpus", "en", n), where)
        idx = os.path.join(tmp, "idx")
        if os.getuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chmod(tmp, 0o755)
            for d, ds, fs in os.walk(tmp):
                os.chown(d, nobody.pw_uid, nobody.pw_gid)
                for f in fs:
                    os.chown(os.path.join(d, f), nobody.pw_uid, nobody.pw_gid)
        code, rep, err = run(idx, src)
        check(code == 0 and rep.get("documents") == 6,
              "baseline: 6 documents (exit %d, %s)" % (code, err[-200:]))
        faults = 0
        lost = 0
        gone = os.path.join(src, names[0])
        for mode, what in ((0o000, "cannot be listed"), (0o644, "cannot be searched")):
            os.chmod(sub, mode)
            code, rep, err = run(idx, src)
            faults += 1
            fails = rep.get("failures", [])
            check(code == 1, "%s (chmod %03o): exit 1 (got %d)" % (what, mode, code))
            check(rep.get("deleted") == 0 and rep.get("documents") == 6,
                  "%s: no document deleted (%s deleted, %s left)" %
                  (what, rep.get("deleted"), rep.get("documents")))
            lost += 6 - (rep.get("documents") or 0)
            check(fails and all(f["path"].startswith("sub") for f in fails) and
                  all("documents are kept" in f["reason"] for f in fails),
                  "%s: reported as failed (%s)" % (what, fails))
            check("Permission denied" in err, "%s: stderr says why" % what)
        # the rest of the run goes on: a file removed elsewhere is deleted
        os.unlink(gone)
        code, rep, err = run(idx, src)
        check(code == 1 and rep.get("deleted") == 1 and rep.get("documents") == 5,
              "a file removed elsewhere is still deleted (exit %d, %s deleted)" %
              (code, rep.get("deleted")))
        os.chmod(sub, 0o755)
        code, rep, err = run(idx, src)
        check(code == 0 and rep.get("documents") == 5 and rep.get("failed") == 0,
              "readable again: a clean run, 5 documents (exit %d, %s)" %
              (code, rep.get("documents")))
        print("reliability: test_faults_unreadable: %d unreadable-folder faults, "
              "%d documents lost" % (faults, lost))
    finally:
        for d, ds, fs in os.walk(tmp):
            os.chmod(d, 0o755)
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
