/* SPDX-License-Identifier: MIT */
/*
 * crawl_priv.h - what the parts of one indexer run share (not a public interface):
 * crawl.c holds the run (what changed, storing each file, deletions, the report);
 * manifest.c the per-file state kept in the index metadata; walk.c the folder
 * traversal (names, visibility files); pool.c the analysis threads and their shards.
 */
#ifndef KB_CRAWL_PRIV_H
#define KB_CRAWL_PRIV_H

#include "analysis.h"
#include "crawl.h"
#include "index.h"

#include <jansson.h>
#include <pthread.h>
#include <sys/stat.h>

#define MANIFEST_PREFIX "kb:file:"
#define KB_MAX_SHARDS   64 /* at most this many analysis threads write shards */

/* One known file from the previous runs. The stat fields are parsed once at load so
 * that the no-op check (the whole cost of a nightly run on an unchanged corpus) is a
 * bsearch and three integer compares. */
struct entry {
    char *path;
    json_t *state; /* {"m","n","s","c","ids"} */
    long long m;   /* mtime, seconds */
    long long ns;  /* mtime, nanoseconds part; -1 when unknown (older manifests) */
    long long s;   /* size */
    int seen;
};

/* What an analysis thread made of one changed file, for the main thread to store. */
enum job_kind {
    JOB_DOC,     /* x is the document to store */
    JOB_STORED,  /* sharded build: the thread stored the document in its own shard */
    JOB_TOUCHED, /* same bytes as indexed: only the mtime changed */
    JOB_JSONL,   /* buf holds a JSON Lines file: the main thread indexes it */
    JOB_FAILED,  /* fe says why; recorded as a failure */
    JOB_FATAL    /* fe says why; the run stops (out of memory, resources missing) */
};

/* One changed or new file on its way through the pipeline. The main thread fills the
 * first group and owns e; one analysis thread fills the second; the main thread then
 * stores it and frees everything (crawl_job_clear). */
struct job {
    char *full, *id;
    struct stat st;
    struct entry *e;  /* manifest entry, NULL for a new file (main thread only) */
    char old_sum[17]; /* checksum recorded in e, "" when none */
    enum job_kind kind;
    int rc;
    struct kb_error fe;
    char sum[17];
    enum kb_format fmt;
    char *buf; /* JOB_JSONL: the file's bytes */
    size_t len;
    struct kb_index_doc *x; /* JOB_DOC */
    char lang[16];          /* JOB_DOC: detected language, for --verbose */
    int folder_vis;         /* enum kb_visibility of the file's folder (.kb-visibility) */
    int doc_vis;            /* JOB_DOC: the document's own, after its metadata */
};

struct run;

/* One analysis context: a thread of the pool, or the main thread (threads = 1, JSONL). */
struct worker {
    struct run *r;
    struct kb_analysis an;
    int an_ready;
    pthread_t tid;
    size_t next;                   /* sequence number of the next job this thread takes */
    struct kb_index_writer *shard; /* sharded build: this thread's own database */
    size_t unflushed; /* sharded build: documents stored since the last commit */
    int closed;       /* sharded build: shard_close ran (its result below) */
    int close_rc;     /* ... KB_OK or the status, with close_err */
    struct kb_error close_err;
    unsigned docs; /* ... documents in the closed shard */
};

/* The pipeline. Jobs get consecutive sequence numbers; slot seq % window holds one.
 * [head, tail) are in flight; worker K works jobs K, K+n, K+2n... (its `next`). The
 * main thread stores jobs strictly in sequence order, so the index, the manifest and
 * the failure list come out as from a single-threaded run; at most `window` files are
 * in flight, which bounds memory. */
struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work; /* workers: a job was queued, or stop */
    pthread_cond_t done; /* main thread: a job finished */
    struct job *slot;
    unsigned char *finished;
    size_t window, head, tail;
    int finish;      /* sharded build: every job is stored, threads close their shard */
    size_t n_closed; /* threads that did */
    struct worker *w;
    size_t n_workers, n_started;
    int stop;
};

struct run {
    const struct kb_config *c;
    const struct kb_run_opts *o;
    struct kb_run_report *rep;
    struct kb_index_writer *w;
    pthread_mutex_t res_mu; /* guards res, res_state and analyser set-up */
    struct kb_resources res;
    int res_state; /* 0 not loaded, 1 loaded, <0 failed (res_err says why) */
    struct kb_error res_err;
    struct worker main_w;  /* analysis on the main thread (threads = 1, JSONL lines) */
    size_t threads;        /* analysis threads; 1 = all on the main thread */
    const char *build_dir; /* a new generation is built here (else NULL) */
    int sharded;           /* build_dir and threads > 1: one shard per thread */
    unsigned shard_docs;   /* documents in the committed shards */
    struct pool pool;
    int pool_ready;
    int gen; /* the generation written (built, when build_dir) */
    struct kb_read_limits lim;
    struct entry *e; /* sorted by path */
    size_t n_e, cap_e;
    json_t *failed;  /* path -> {"m","s","reason"} of earlier failures */
    json_t *failing; /* the failure records as this run leaves them (for the report) */
    size_t total_files;
    size_t writes; /* changes made to the index so far in this run */
    int tty;
};

/* --- crawl.c ------------------------------------------------------------------------ */

/* Copies src into dst (cap bytes), cut at a UTF-8 character boundary. */
void crawl_copy_trunc(char *dst, size_t cap, const char *src);
/* Counts a failed file and keeps the first KB_RUN_MAX_FAILURES for the report. */
void crawl_add_failure(struct run *r, const char *path, const char *reason);
/* One file met by the walk: skipped when unchanged, else handed to the analysis. */
int crawl_file(struct run *r, const char *full, const char *id, const struct stat *st,
               int folder_vis, int bad_name, struct kb_error *err);
/* The analysis side of one changed file (any thread). */
void crawl_work(struct worker *wk, struct job *j);
/* The storing side of one changed file (main thread, in walk order). */
int crawl_finish(struct run *r, struct job *j, struct kb_error *err);
/* Frees what a job holds and empties it. */
void crawl_job_clear(struct job *j);

/* --- manifest.c: per-file state in the index metadata (MANIFEST_PREFIX, failures) --- */

int manifest_cmp(const void *a, const void *b);
struct entry *manifest_find(struct run *r, const char *path);
long long manifest_int(const json_t *state, const char *k, long long dflt);
int manifest_load_cb(const char *key, const char *val, size_t len, void *ctx);
int manifest_load_failed_cb(const char *key, const char *val, size_t len, void *ctx);
int manifest_set(struct run *r, const char *prefix, const char *path, json_t *v,
                 struct kb_error *err);
void manifest_keep_under(struct run *r, const char *prefix);

/* --- walk.c: the source folders ------------------------------------------------------
 */

int walk_folder(struct run *r, const char *dir, const char *rel, int depth, int vis,
                int count_only, int bad_name, struct kb_error *err);

/* --- pool.c: analysis threads ------------------------------------------------------- */

int pool_submit(struct run *r, struct job *j, struct kb_error *err);
int pool_drain(struct run *r, struct kb_error *err);
int pool_shards_finish(struct run *r, struct kb_error *err);
void pool_stop(struct run *r);

#endif
