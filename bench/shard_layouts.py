#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""shard_layouts.py - the 1M benchmark's layouts from one build: given an index written
by `kb-indexer --shards=N`, makes the same documents in M shards for each M that divides
N (M = 1: one unsharded index, the lexicon merged in), with xapian-compact only.

    shard_layouts.py SRC_INDEX DST_INDEX M

Why it is exact: kb-indexer puts a document in shard XXH64(id) mod N. When M divides
N, XXH64(id) mod M = (XXH64(id) mod N) mod M, so the documents of M-shard j are those of
the N-shards k with k mod M = j; xapian-compact of those shards gives what
`kb-indexer --shards=M` would write, but for document ids (renumbered by the merge, as
kb-indexer's own merge of its threads' parts does) and per-shard metadata. M = 1 also
merges the lexicon (spelling, synonyms, the location's metadata) into the one database,
as an unsharded index holds them. Compaction is Xapian's standard level, as kb-indexer
uses (`--no-full`).

A 1M-document build takes about an hour on 2 cores; its compactions take minutes. The
layout written (stub files, generation folders) is the one core/index.c documents.
"""
import os
import shutil
import subprocess
import sys
import time


def current_db(part):
    """The database a part's XAPIANDB stub names (its current generation)."""
    with open(os.path.join(part, "XAPIANDB")) as f:
        for line in f:
            w = line.split()
            if len(w) == 2 and w[0] == "auto":
                return os.path.join(part, w[1])
    sys.exit("shard_layouts: no 'auto' line in %s/XAPIANDB" % part)


def stub(path, what, lines):
    with open(path, "w") as f:
        f.write("# written by kb-indexer: %s\n" % what)
        for line in lines:
            f.write(line + "\n")


def compact(srcs, dst):
    t0 = time.monotonic()
    r = subprocess.run(["xapian-compact", "--no-full", "--quiet"] + srcs + [dst])
    if r.returncode:
        sys.exit("shard_layouts: xapian-compact failed for %s" % dst)
    return time.monotonic() - t0


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, dst, m = sys.argv[1], sys.argv[2], int(sys.argv[3])
    n = sum(1 for e in os.listdir(src) if e.startswith("shard"))
    if n < 2 or m < 1 or n % m or m == n:
        sys.exit("shard_layouts: %s has %d shards; M must divide it and be smaller" %
                 (src, n))
    if os.path.exists(dst):
        sys.exit("shard_layouts: %s exists" % dst)
    shards = [current_db(os.path.join(src, "shard%02d" % k)) for k in range(n)]
    lexicon = current_db(os.path.join(src, "lexicon"))
    os.makedirs(dst)
    if m == 1:
        s = compact(shards + [lexicon], os.path.join(dst, "gen-1"))
        stub(os.path.join(dst, "XAPIANDB"), "the current generation", ["auto gen-1"])
        print("%s: one index from %d shards and the lexicon in %.0f s" % (dst, n, s))
        return 0
    for j in range(m):
        part = os.path.join(dst, "shard%02d" % j)
        os.makedirs(part)
        s = compact([shards[k] for k in range(n) if k % m == j], os.path.join(part, "gen-1"))
        stub(os.path.join(part, "XAPIANDB"), "the current generation", ["auto gen-1"])
        print("%s: shard %d of %d in %.0f s" % (dst, j, m, s))
    shutil.copytree(os.path.join(src, "lexicon"), os.path.join(dst, "lexicon"), symlinks=True)
    stub(os.path.join(dst, "XAPIANDB"), "the shards",
         ["auto shard%02d" % j for j in range(m)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
