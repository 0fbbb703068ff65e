# SPDX-License-Identifier: MIT
#
# test_nightly_incremental.py - the nightly indexer's incremental behaviour, run for real:
# kb-indexer over a small copy of the bundled corpus, one step at a time, checking the
# --json report (and exit code) of each run: first run adds all; a no-op run reports all
# unchanged; touch without change is unchanged (checksum); an edit is 1 updated; a removal
# is 1 deleted; --no-delete keeps a removed file's document; the safety valve refuses to
# empty the index when the source folder is empty (exit 1 + message); a failed file is
# recorded, skipped on the next run, retried with --retry-failed and when it changes.
# Finally kb-server shows that the same content at two paths is collapsed into one hit
# (value slot KB_SLOT_CHECKSUM) and that a removed document is no longer found, and that
# the spelling dictionary ("suggestion") loses the words edited away at once, and those
# of removed files at the next --full.
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbtest  # noqa: E402
from kbtest import BIN, SRC, INDEXER, check, stop_server  # noqa: E402

FIELDS = ("added", "updated", "deleted", "unchanged", "failed", "seconds", "revision")




def run(tmp, *args):
    """Runs kb-indexer with --json; returns (exit code, report dict or None, stderr)."""
    cmd = [INDEXER, "--index=" + os.path.join(tmp, "idx"), "--quiet", "--json",
           "--max-file-mb=1"] + list(args) + [os.path.join(tmp, "src")]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    try:
        rep = json.loads(p.stdout)
    except ValueError:
        rep = None
    return p.returncode, rep, p.stderr


def counts(rep):
    return {k: rep.get(k) for k in ("added", "updated", "deleted", "unchanged", "failed",
                                     "skipped_failed")} if rep else None


def expect(tmp, label, want_code, want, *args):
    code, rep, err = run(tmp, *args)
    check(code == want_code, "%s: exit %d (want %d) %s" % (label, code, want_code,
                                                           err.strip()[-300:]))
    got = counts(rep)
    ok = got is not None and all(got[k] == v for k, v in want.items())
    check(ok, "%s: report %s matches %s" % (label, got, want))
    return rep, err


def main():
    tmp = tempfile.mkdtemp(prefix="kb-nightly-")
    server = None
    try:
        src = os.path.join(tmp, "src")
        os.makedirs(os.path.join(src, "a"))
        os.makedirs(os.path.join(src, "b"))
        picked = []
        for lang in ("en", "fr", "it"):
            d = os.path.join(SRC, "corpus", lang)
            names = sorted(n for n in os.listdir(d) if n.endswith((".md", ".txt")))
            picked += [os.path.join(d, n) for n in names[:2]]
        for p in picked:
            shutil.copy(p, os.path.join(src, "a", os.path.basename(p)))
        # the same content at a second path: one hit in results, with duplicates = 1
        dup_src = os.path.join(src, "a", os.path.basename(picked[0]))
        shutil.copy(dup_src, os.path.join(src, "b", "copy-" + os.path.basename(picked[0])))
        n = len(picked) + 1

        rep, _ = expect(tmp, "first run", 0, {"added": n, "updated": 0, "deleted": 0,
                                              "unchanged": 0, "failed": 0})
        check(rep is not None and all(k in rep for k in FIELDS),
              "report has fields %s" % (FIELDS,))
        check(rep is not None and rep.get("documents") == n, "first run: %d documents" % n)
        rev1 = rep["revision"] if rep else 0

        rep, _ = expect(tmp, "no-op run", 0, {"added": 0, "updated": 0, "deleted": 0,
                                              "unchanged": n, "failed": 0})
        check(rep is not None and rep["revision"] == rev1,
              "no-op run: index untouched, still revision %s" % rev1)

        target = os.path.join(src, "a", os.path.basename(picked[1]))
        future = time.time() + 5
        os.utime(target, (future, future))
        rep, _ = expect(tmp, "touch without change", 0, {"updated": 0, "unchanged": n})
        check(rep is not None and rep["revision"] == rev1 + 1,
              "touch without change: the new mtime is committed")

        with open(target, "a", encoding="utf-8") as f:
            f.write("\n\nZanzibarquux appended paragraph for the nightly test.\n")
        expect(tmp, "one file changed", 0, {"added": 0, "updated": 1, "unchanged": n - 1})
        # an edit that keeps the size and the second: only nanoseconds tell it apart
        with open(target, "r+b") as f:
            f.seek(-8, os.SEEK_END)
            f.write(b"zzzzzzz\n")
        expect(tmp, "same-size edit", 0, {"updated": 1, "unchanged": n - 1})

        os.unlink(os.path.join(src, "a", os.path.basename(picked[2])))
        rep, _ = expect(tmp, "one file removed", 0, {"deleted": 1, "unchanged": n - 1})
        check(rep is not None and rep.get("documents") == n - 1,
              "after removal: %d documents" % (n - 1))

        os.unlink(os.path.join(src, "a", os.path.basename(picked[3])))
        rep, _ = expect(tmp, "--no-delete", 0, {"deleted": 0, "unchanged": n - 2},
                        "--no-delete")
        check(rep is not None and rep.get("documents") == n - 1,
              "--no-delete keeps the document (%s)" % (rep and rep.get("documents")))

        # safety valve: the source folder is empty (e.g. an unmounted share)
        hold = os.path.join(tmp, "hold")
        shutil.move(src, hold)
        os.makedirs(src)
        rep, err = expect(tmp, "safety valve", 1, {"deleted": 0})
        check("refusing to delete" in err, "safety valve: message on stderr")
        check(rep is not None and rep.get("deletions_refused") is True
              and rep.get("documents") == n - 1, "safety valve: nothing deleted")
        os.rmdir(src)
        shutil.move(hold, src)

        # a failing file (over --max-file-mb=1): recorded, then skipped
        big = os.path.join(src, "a", "big.txt")
        with open(big, "w", encoding="utf-8") as f:
            f.write("hydrogen " * 250000)  # 2.25 MB
        # (this run also deletes the file kept by --no-delete: it is still gone)
        rep, err = expect(tmp, "failing file", 1, {"failed": 1, "deleted": 1})
        check(rep is not None and rep["failures"] and "big.txt" in rep["failures"][0]["path"],
              "failing file: named in the report")
        expect(tmp, "failed file skipped", 0, {"failed": 0, "skipped_failed": 1})
        expect(tmp, "--retry-failed", 1, {"failed": 1, "skipped_failed": 0},
               "--retry-failed")
        expect(tmp, "failed file skipped again", 0, {"failed": 0, "skipped_failed": 1})
        with open(big, "w", encoding="utf-8") as f:
            f.write("Zanzibarquux fixed file about hydrogen storage.\n")
        expect(tmp, "failed file changed", 0, {"added": 1, "failed": 0, "skipped_failed": 0})

        # end to end through the server: duplicates collapsed, deleted doc gone
        server, port = kbtest.start_kb_server(os.path.join(tmp, "idx"), os.path.join(tmp, "port"),
                                              os.path.join(tmp, "server.log"))

        def search(q, extra=""):
            url = "http://127.0.0.1:%s/api/v1/search?q=%s&limit=50%s" % (port, q, extra)
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.loads(r.read())

        dup_id = "a/" + os.path.basename(picked[0])
        copy_id = "b/copy-" + os.path.basename(picked[0])
        all_hits = search("", "&collapse=false")["hits"]
        ids = [h["id"] for h in all_hits]
        check(dup_id in ids and copy_id in ids, "both paths indexed (%s)" % ids)
        hits = search("")["hits"]
        ids_c = [h["id"] for h in hits]
        check((dup_id in ids_c) != (copy_id in ids_c), "same content collapsed to one hit")
        kept = [h for h in hits if h["id"] in (dup_id, copy_id)]
        check(kept and kept[0].get("duplicates") == 1, "the hit says duplicates = 1")
        check("a/" + os.path.basename(picked[2]) not in ids, "removed file not found")
        zh = search("zanzibarquux")["hits"]
        check(sorted(h["id"] for h in zh) == ["a/big.txt", "a/" + os.path.basename(picked[1])],
              "updated and fixed files searchable (%s)" % [h["id"] for h in zh])

        # a path too long for an id is reported, not silently left out
        deep = os.path.join(src, "a", *(["d" * 60] * 4))
        os.makedirs(deep)
        with open(os.path.join(deep, "long.txt"), "w", encoding="utf-8") as f:
            f.write("a file with a very long path\n")
        rep, _ = expect(tmp, "path too long", 1, {"failed": 1, "added": 0})
        check(rep is not None and rep["failures"] and
              "longer than 200 bytes" in rep["failures"][0]["reason"],
              "path too long: reason in the report")
        shutil.rmtree(os.path.join(src, "a", "d" * 60))

        # the spelling dictionary follows edits at once (a word that only an edited-away
        # paragraph held is no longer proposed), and deletions at the next --full (a
        # removed file's words stay until then: see spell_map in indexer/crawl.c)
        def suggestion(q):
            return search(q).get("suggestion")

        def wait_suggestion(q, want):
            got = None
            for _ in range(50):  # the server picks up the new revision by itself
                got = suggestion(q)
                if got == want:
                    break
                time.sleep(0.1)
            return got

        edited = os.path.join(src, "a", "spell-edit.txt")
        removed = os.path.join(src, "a", "spell-remove.txt")
        with open(edited, "w", encoding="utf-8") as f:
            f.write("Quetzalcoatlus notes\n\nThe quetzalcoatlus paragraph, to be edited.\n")
        with open(removed, "w", encoding="utf-8") as f:
            f.write("Archaeopteryx notes\n\nArchaeopteryx feathers, a file to remove.\n")
        expect(tmp, "spelling words added", 0, {"added": 2})
        got = wait_suggestion("quetzalcoatlas", "quetzalcoatlus")
        check(got == "quetzalcoatlus", "a new word is proposed (%s)" % got)
        got = wait_suggestion("archaeopteryz", "archaeopteryx")
        check(got == "archaeopteryx", "a second new word is proposed (%s)" % got)
        with open(edited, "w", encoding="utf-8") as f:
            f.write("Notes\n\nThe paragraph was edited: nothing about pterosaurs now.\n")
        os.unlink(removed)
        expect(tmp, "spelling words taken out", 0, {"updated": 1, "deleted": 1})
        got = wait_suggestion("quetzalcoatlas", None)
        check(got is None, "a word edited away is no longer proposed (%s)" % got)
        got = suggestion("archaeopteryz")
        check(got == "archaeopteryx", "a removed file's word stays until --full (%s)" % got)
        expect(tmp, "--full", 0, {"added": n}, "--full")
        got = wait_suggestion("archaeopteryz", None)
        check(got is None, "after --full, a removed file's word is no longer proposed "
              "(%s)" % got)
    finally:
        stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
