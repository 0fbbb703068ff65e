# SPDX-License-Identifier: MIT
#
# test_index_threads.py - kb-indexer gives the same index whatever the number of analysis
# threads. The bundled corpus, plus files that fail (binary content named .html, a JSON
# Lines file with a bad line, a text file in a subfolder), is indexed with --threads=1
# (everything on the main thread) and --threads=3 (three analysis threads, more files
# than the reorder window; a new generation is then built sharded, one database per
# thread merged by the compaction). Checked: both runs exit the same way with the same
# report (counts and the failure list in the same order), the same "indexed" lines in the
# same order, the same documents (by unique id) with the same terms, wdf, values and
# data (xapian-delve), and the same spelling table byte for byte (the words are counted
# per thread and summed by the compaction, so this checks the sums). Document numbers
# differ between thread counts (shards are numbered one after the other), but a second
# --full with 3 threads gives byte-identical termlist, position, docdata and spelling
# tables: a build is reproducible for a given thread count. Then one file is edited,
# one removed, one touched and one added, and an incremental run on each index must
# again agree.
import json
import os
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbtest  # noqa: E402
from kbtest import BIN, SRC, INDEXER, check  # noqa: E402

TABLES = ("termlist", "position", "docdata", "spelling")




def index(tmp, name, threads, *args):
    """Runs kb-indexer; returns (exit code, report dict or None, 'indexed' lines)."""
    cmd = [INDEXER, "--index=" + os.path.join(tmp, name), "--quiet", "--json", "--verbose",
           "--threads=%d" % threads] + list(args) + [os.path.join(tmp, "src")]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    try:
        rep = json.loads(p.stdout)
    except ValueError:
        rep = None
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("kb-indexer: ")]
    return p.returncode, rep, lines


def generation(tmp, name):
    with open(os.path.join(tmp, name, "XAPIANDB")) as f:
        for line in f:
            if line.startswith("auto "):
                return os.path.join(tmp, name, line.split()[1])
    return None


def run_delve(args):
    return subprocess.run(["xapian-delve"] + args, capture_output=True, text=True,
                          timeout=60).stdout


def delve(db):
    """Document count plus every document's terms (wdf, termfreq), values and data,
    found through the unique-id terms ("Q" + path) and listed in unique-id order, so
    that the text does not depend on the document numbers."""
    n = 0
    for line in run_delve([db]).splitlines():
        if line.startswith("number of documents"):
            n = int(line.split("=")[1])
    uids = run_delve(["-A", "Q", "-1", db]).splitlines()[1:]
    out = ["%d uids" % len(uids)]
    for u in uids:
        docids = [x for x in run_delve(["-1", "-t", u, db]).split() if x.isdigit()]
        out.append("%s: %d document(s)" % (u, len(docids)))
        for d in docids:
            text = run_delve(["-1", "-v", "-V", "-d", "-r", d, db])
            out.append(text.replace("record #%s:" % d, "record:")
                       .replace("record #%s (" % d, "record ("))
    return n, "\n".join(out)


def same_tables(label, g1, g2, tables):
    for t in tables:
        with open(os.path.join(g1, t + ".glass"), "rb") as f:
            b1 = f.read()
        with open(os.path.join(g2, t + ".glass"), "rb") as f:
            b2 = f.read()
        check(b1 == b2 and len(b1) > 0, "%s: %s table identical (%d bytes)" % (
            label, t, len(b1)))


def same_report(a, b):
    keys = ("added", "updated", "deleted", "unchanged", "failed", "skipped_failed",
            "documents", "failures")
    return a is not None and b is not None and all(a.get(k) == b.get(k) for k in keys)


def compare(tmp, label, r1, r3, full):
    c1, rep1, lines1 = r1
    c3, rep3, lines3 = r3
    check(c1 == c3, "%s: same exit code (%d, %d)" % (label, c1, c3))
    check(same_report(rep1, rep3), "%s: same report\n  %s\n  %s" % (label, rep1, rep3))
    check(lines1 == lines3 and len(lines1) > 0,
          "%s: same %d stderr lines in the same order" % (label, len(lines1)))
    g1, g3 = generation(tmp, "idx1"), generation(tmp, "idx3")
    n1, d1 = delve(g1)
    n3, d3 = delve(g3)
    check(n1 == n3 and n1 > 0, "%s: same document count (%d, %d)" % (label, n1, n3))
    check(d1 == d3 and len(d1) > 10000,
          "%s: same terms, values and data for every document (%d bytes)" % (label,
                                                                          len(d1)))
    if full:
        same_tables(label, g1, g3, ("spelling",))


def main():
    tmp = tempfile.mkdtemp(prefix="kb-threads-")
    try:
        src = os.path.join(tmp, "src")
        shutil.copytree(os.path.join(SRC, "corpus"), src)
        os.makedirs(os.path.join(src, "zz", "deep"))
        with open(os.path.join(src, "aa-binary.html"), "wb") as f:
            f.write(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
        with open(os.path.join(src, "mixed.jsonl"), "w") as f:
            f.write(json.dumps({"id": "j-1", "title": "Pile a combustible",
                                "body": "La pile a hydrogene alimente le moteur electrique",
                                "lang": "fr"}) + "\n")
            f.write("{not json\n")
            f.write(json.dumps({"id": "j-2", "title": "Cambio automatico",
                                "body": "Il cambio a doppia frizione riduce i consumi",
                                "lang": "it"}) + "\n")
        with open(os.path.join(src, "zz", "deep", "note.txt"), "w") as f:
            f.write("Regenerative braking\n\nRegenerative braking recovers energy "
                    "into the traction battery of hybrid powertrains.\n")
        n_files = sum(len(fs) for _, _, fs in os.walk(src))
        check(n_files > 48, "more files (%d) than the reorder window of 3 threads" %
              n_files)

        r1 = index(tmp, "idx1", 1, "--full")
        r3 = index(tmp, "idx3", 3, "--full")
        check(r1[0] == 1, "full run: exit 1 (some files failed), got %d" % r1[0])
        check(r1[1] is not None and r1[1].get("failed", 0) >= 2,
              "full run: the binary .html and the bad JSONL line are failures: %s" %
              (r1[1] or {}).get("failures"))
        compare(tmp, "full", r1, r3, True)
        r3b = index(tmp, "idx3b", 3, "--full")
        check(r3b[0] == r3[0] and same_report(r3[1], r3b[1]),
              "full, 3 threads again: same exit code and report\n  %s %s\n  %s %s" %
              (r3[0], r3[1], r3b[0], r3b[1]))
        same_tables("full, 3 threads twice", generation(tmp, "idx3"),
                    generation(tmp, "idx3b"), TABLES)
        leftovers = [n for n in os.listdir(os.path.join(tmp, "idx3")) if ".build" in n]
        check(leftovers == [], "no build folder or shard left behind: %s" % leftovers)

        # an incremental run: edit, remove, touch, add
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(src) for f in fs
                       if f.endswith(".md"))
        check(len(files) >= 3, "corpus has Markdown files to change")
        with open(files[0], "a") as f:
            f.write("\n\nAdded paragraph about turbocharger lag and e-turbo.\n")
        os.remove(files[1])
        os.utime(files[2])
        with open(os.path.join(src, "zz", "new.txt"), "w") as f:
            f.write("Moteur thermique\n\nLe moteur thermique a injection directe.\n")
        r1 = index(tmp, "idx1", 1)
        r3 = index(tmp, "idx3", 3)
        rep = r1[1] or {}
        check((rep.get("updated"), rep.get("deleted"), rep.get("added")) == (1, 1, 1),
              "incremental: 1 updated, 1 deleted, 1 added: %s" % rep)
        compare(tmp, "incremental", r1, r3, False)

        # --threads=0 (one per core) is accepted and indexes the same
        r0 = index(tmp, "idx0", 0, "--full")
        check(r0[0] == 1, "threads=0: exit 1 (the same files fail), got %d" % r0[0])
        check(r0[1] is not None and r0[1].get("documents") == (r3[1] or {}).get("documents"),
              "threads=0: same document count")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
