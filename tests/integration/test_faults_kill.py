# SPDX-License-Identifier: MIT
#
# test_faults_kill.py - kill -9 of kb-indexer in the middle of an incremental run.
# A baseline index is built over 100 generated documents (../shared/bench/mkcorpus); its
# folder is copied aside. Then 200 documents are added and 10 edited, and the indexer is
# killed with SIGKILL once it has stored 30 of them. Checks: the index opens at the
# baseline revision with the baseline documents (xapian-delve), `xapian-check` finds the
# generation clean, the lock is free, and the next run completes. Its index must equal the
# one an uninterrupted run gives from the copied baseline: same document count, same
# unique ids, same terms with the same frequencies (xapian-delve -a -vv). Last, a sharded
# --full (two threads) is killed the same way: the index stays on its generation, and the
# next --full clears the half-built one and its shards and gives the same terms.
import os
import shutil
import sys
import tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbtest  # noqa: E402
from kbtest import BIN, SRC, check  # noqa: E402





index = kbtest.index_json


delve = kbtest.delve


db_info = kbtest.db_info


def dump(idx):
    """Every term with its frequencies, as one comparable text."""
    rc, out = delve("-a", "-vv", "-1", idx)
    return out if rc == 0 else None


def copy_docs(names, gen, src):
    for rel in names:
        dst = os.path.join(src, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(gen, rel), dst)


kill_after = kbtest.kill_indexer_after


def main():
    tmp = tempfile.mkdtemp(prefix="kb-kill-")
    try:
        gen = os.path.join(tmp, "gen")
        kbtest.mkcorpus(gen, 300, 7)
        docs = sorted(os.path.join(d, n) for d in os.listdir(gen)
                      for n in os.listdir(os.path.join(gen, d)))
        check(len(docs) == 300, "mkcorpus wrote 300 documents")
        src = os.path.join(tmp, "src")
        idx = os.path.join(tmp, "idx")
        copy_docs(docs[:100], gen, src)
        code, rep, err = index(idx, src)
        check(code == 0 and rep.get("added") == 100, "baseline: 100 added (%s)" % err[-200:])
        base = db_info(idx)
        shutil.copytree(idx, os.path.join(tmp, "idx-copy"), symlinks=True)

        # the night's changes: 200 new files, 10 edited ones
        copy_docs(docs[100:], gen, src)
        for rel in docs[:10]:
            with open(os.path.join(src, rel), "a", encoding="utf-8") as f:
                f.write("\nedited tonight: quetzalcoatlus\n")

        # a small flush threshold: Xapian writes postings to disk (uncommitted) before
        # the kill, the harder case for "the previous revision is intact"
        killed, stored = kill_after(30, "--index=" + idx, "--flush-threshold=10", src)
        check(killed and stored == 30, "indexer killed -9 mid-run after 30 documents")

        after = db_info(idx)
        check(after.get("revision") == base.get("revision") and
              after.get("number of documents") == "100",
              "index opens at the previous revision %s with 100 documents (%s, %s)" %
              (base.get("revision"), after.get("revision"),
               after.get("number of documents")))
        gens = [n for n in os.listdir(idx) if n.startswith("gen-")]
        check(gens == ["gen-1"], "one generation on disk (%s)" % gens)
        p = kbtest.xapian_check(os.path.join(idx, "gen-1"))
        check(p.returncode == 0 and "No errors found" in p.stdout,
              "xapian-check gen-1 clean (%s)" % p.stdout.strip().splitlines()[-1:])

        code, rep, err = index(idx, src)
        check(code == 0 and rep.get("added") == 200 and rep.get("updated") == 10 and
              rep.get("unchanged") == 90,
              "next run completes: 200 added, 10 updated, 90 unchanged (%s %s)" %
              ({k: rep.get(k) for k in ("added", "updated", "unchanged")}, err[-200:]))

        code, rep2, err = index(os.path.join(tmp, "idx-copy"), src)
        check(code == 0 and rep2.get("added") == 200, "uninterrupted run on the copy")
        a, b = db_info(idx), db_info(os.path.join(tmp, "idx-copy"))
        check(a.get("number of documents") == b.get("number of documents") == "300",
              "both have 300 documents")
        _, qa = delve("-A", "Q", "-1", idx)
        _, qb = delve("-A", "Q", "-1", os.path.join(tmp, "idx-copy"))
        check(qa == qb and qa.count("\n") >= 300, "same unique ids")
        da, db = dump(idx), dump(os.path.join(tmp, "idx-copy"))
        check(da is not None and da == db and len(da) > 1000,
              "same terms and frequencies (%d lines)" % (da or "").count("\n"))
        p = kbtest.xapian_check(os.path.join(idx, "gen-1"))
        check(p.returncode == 0, "xapian-check clean after the resumed run")

        # kill -9 in the middle of a sharded --full (two threads, each writing its own
        # shard): the stub still names gen-1 with its 300 documents, and the next run
        # removes the half-built generation and its shards, then switches to gen-2
        killed, stored = kill_after(100, "--index=" + idx, "--full", "--threads=2",
                                    "--flush-threshold=10", src)
        left = sorted(n for n in os.listdir(idx) if ".build" in n)
        check(killed and stored == 100 and "gen-2.build" in left and
              "gen-2.build.1" in left and "gen-2.build.2" in left,
              "--full killed -9 after 100 documents, its shards on disk: %s" % left)
        after = db_info(idx)
        check(after.get("number of documents") == "300",
              "the index still opens at gen-1 with 300 documents (%s)" %
              after.get("number of documents"))
        code, rep3, err = index(idx, src, "--full", "--threads=2")
        check(code == 0 and rep3.get("added") == 300 and rep3.get("generation") == "gen-2",
              "next --full completes into gen-2 (%s)" % err[-200:])
        left = sorted(n for n in os.listdir(idx) if ".build" in n)
        check(left == [], "no build folder or shard left: %s" % left)
        _, qc = delve("-A", "Q", "-1", idx)
        dc = dump(idx)
        check(qc == qa, "the sharded rebuild has the same unique ids")

        def freqs(text):  # term, term frequency, collection frequency (the fourth
            # column, a wdf upper bound, is only a bound: edits never lower it)
            return [" ".join(ln.split()[:3]) for ln in (text or "").splitlines()]
        check(dc is not None and freqs(dc) == freqs(da),
              "...and the same terms and frequencies as the incremental index")
        lost = 300 - int(after.get("number of documents") or 0)
        print("reliability: test_faults_kill: 2 kill -9 (incremental, sharded --full), "
              "%d documents lost, index equal to an uninterrupted run" % max(lost, 0))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
