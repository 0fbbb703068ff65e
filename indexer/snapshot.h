/* SPDX-License-Identifier: MIT */
/*
 * snapshot.h - kb-indexer --snapshot=DIR: a consistent, compacted copy of the index's
 * current revision, taken while servers serve and API writes go on (docs/snapshots.md).
 */
#ifndef KB_SNAPSHOT_H
#define KB_SNAPSHOT_H

#include "error.h"

#include <stddef.h>

/* Exit code when a program the snapshot needs (xapian-check) cannot be found; the
 * others are crawl.h's enum kb_exit. */
#define KB_EXIT_MISSING_TOOL 5

struct kb_snapshot_report {
    unsigned docs;              /* documents in the snapshot */
    size_t api_docs;            /* of which written through the API */
    unsigned long long api_seq; /* last API write the snapshot holds (kb:api_seq) */
    unsigned long src_revision; /* revision of the index that was copied */
    char src_db[1200];          /* the database copied (the current generation) */
    double seconds;
};

/* Writes a snapshot of index location `index` into `dir`: the current revision of the
 * current generation compacted into DIR.tmp/gen-1 with a stub, the API document store
 * rebuilt from that same revision, checked with xapian-check (found on PATH), then
 * DIR.tmp renamed to DIR. `dir` must not exist or be an empty folder. Returns an exit
 * code: KB_EXIT_OK; KB_EXIT_USAGE when dir is not empty or there is no index;
 * KB_EXIT_MISSING_TOOL without xapian-check; KB_EXIT_FATAL when copying or the check
 * failed (nothing is left at dir or DIR.tmp). err says why. */
int kb_snapshot(const char *index, const char *dir, struct kb_snapshot_report *rep,
                struct kb_error *err);

#endif
