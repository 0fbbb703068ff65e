/* SPDX-License-Identifier: MIT */
/*
 * crawl.h - one indexer run: walk the source folders, (re)index what is new or changed,
 * delete what was removed, record failures, and give readers one atomic new revision.
 *
 * State lives in the index itself, as Xapian metadata committed with the documents:
 *   kb:file:<source path>   -> {"m": mtime s, "n": mtime ns, "s": size, "c": xxh64,
 *                               "ids": [...] (JSONL only)}
 *   kb:failed:<source path> -> {"m": mtime s, "n": mtime ns, "s": size, "reason": "..."}
 *   kb:last_run             -> the run report (GET /api/v1/stats shows it)
 * so a run killed at any point leaves the previous revision and its state intact, and the
 * next run simply redoes the work. Documents written through the API have no kb:file
 * entry and are never deleted by a run.
 */
#ifndef KB_CRAWL_H
#define KB_CRAWL_H

#include "config.h"
#include "error.h"
#include "reader.h"

#include <stddef.h>

/* Exit codes of kb-indexer (documented in the README and --help). */
enum kb_exit {
    KB_EXIT_OK = 0, /* all indexed */
    KB_EXIT_FAILED =
        1, /* finished, but some files or folders failed (or deletions refused) */
    KB_EXIT_USAGE = 2,  /* bad command line or configuration */
    KB_EXIT_LOCKED = 3, /* another indexer holds the index */
    KB_EXIT_FATAL = 4   /* fatal error: nothing committed */
};

struct kb_run_opts {
    int full;         /* rebuild everything into a new generation, then switch */
    int no_delete;    /* keep documents whose files are gone */
    int force_delete; /* allow a run to delete every document of a source */
    int retry_failed; /* retry files that failed before even if unchanged */
    int progress;     /* draw a progress bar on stderr */
    int verbose;      /* one line per file on stderr */
};

#define KB_RUN_MAX_FAILURES 50 /* failures listed in the report (all are counted) */

struct kb_run_report {
    size_t added, updated, deleted, unchanged, failed, skipped_failed, seen;
    double seconds;
    unsigned long revision;
    unsigned docs;
    int deletions_refused;
    char generation[256]; /* with --full: the new generation's directory name */
    struct {
        char path[512];
        char reason[512];
    } failures[KB_RUN_MAX_FAILURES];
    size_t n_failures;
    /* the files whose failure is recorded in the index after the run (path order, the
     * first KB_RUN_MAX_FAILURES), tried this run or skipped as remembered */
    struct {
        char path[512];
        char reason[512];
    } failing[KB_RUN_MAX_FAILURES];
    size_t n_failing, n_failing_total;
};

/* Runs the indexer with configuration c, filling rep (caller-owned). Returns a kb_exit
 * code; err says why for 2, 3 and 4 (a full disk or file size limit is KB_ENOSPC with a
 * message starting "disk full"). With 4 nothing was committed: the index is as it was.
 * Unchanged files (same mtime, nanoseconds and size) are only stat'ed, never opened. */
int kb_index_run(const struct kb_config *c, const struct kb_run_opts *o,
                 struct kb_run_report *rep, struct kb_error *err);

/* The report as a JSON object (new reference; NULL only when out of memory). */
struct json_t;
struct json_t *kb_run_report_json(const struct kb_run_report *rep);

#endif
