/* SPDX-License-Identifier: MIT */
/*
 * index.h - the index location and everything that writes it. A location is a directory
 * holding a stub file (XAPIANDB, naming the current generation), the generations it may
 * name, a lock file that keeps a second indexer out, and what a killed run may leave
 * (build folders, shards, a half-written stub). A plain Xapian database (a snapshot made
 * by hand, a test index) is accepted as a location too. Every name of that layout is
 * spelled in index.c only.
 *
 * A sharded location (kb-indexer --shards=N, N >= 2; docs/deployment-shards.md) is the
 * same thing N + 1 times: shardNN/ (NN = 00..N-1) each a location-like folder with its
 * own stub and generations holding documents only, lexicon/ likewise holding the
 * spelling dictionary, the synonyms and every metadata key of the location (manifest,
 * failures, revision base, schema, last run, "kb:shards" = "N xxh64"), and a top stub
 * listing "auto shardNN" so that the location opened as a Xapian database is all its
 * shards combined. Document `id` lives in shard kb_index_shard_of(id, N) only.
 *
 * What a reader sees while a sharded location is written:
 *  - an incremental commit (a nightly run, an API batch) commits the changed shards one
 *    by one, then the lexicon. Between two shard commits (milliseconds) a reader that
 *    reopens may see some shards at the new content and others at the old; a document
 *    is never in two shards (its shard is fixed by its id), so it is seen once, in its
 *    old or its new version, or absent/present for an add/delete. The location's
 *    revision (the lexicon's revision base + Xapian revision), the spelling dictionary
 *    and the manifest change only with the lexicon's commit, i.e. after every shard.
 *    A run that fails between shard commits leaves the committed shards new and the
 *    lexicon old: the next run finds those files changed against the manifest and
 *    stores them again (the spelling counts of those files may then be off until the
 *    next --full).
 *  - a --full build compacts every part's new generation first, then switches the top
 *    stub to name them all ("auto shardNN/gen-K": a reader of the location switches at
 *    once), then each shard's own stub, the lexicon's last, then the top stub back to
 *    "auto shardNN". A reader of one shard folder (a replica, xapian-tcpsrv) follows
 *    that shard's stub. A run killed during the switch is finished by the next run
 *    (kb_index_remove_leftovers).
 *
 * Writers (struct kb_index_writer) store and delete documents with the spelling
 * dictionary counted net: a replaced or deleted document takes its words back out, a
 * member-only document never gives any (did-you-mean is shared by every client). The
 * words are summed in memory and written once per kb_index_writer_flush_spelling; the
 * dictionary is the same as with one update per word per document. kb-indexer
 * (indexer/crawl.c) and the server's writer (server/writer.c) both write through here.
 */
#ifndef KB_INDEX_H
#define KB_INDEX_H

#include "doc.h"
#include "error.h"

#include <stddef.h>

struct kb_analysis; /* analysis.h */

/* --- the location ----------------------------------------------------------------- */

/* The generation N the stub of `index` names, or 0 when there is no stub or it names
 * none. */
int kb_index_generation(const char *index);

/* The database that `index` means now, into buf[0..cap): the generation named by the
 * stub, else `index` itself when it is a glass database or a stub file of its own.
 * Returns 0, or -1 when there is no index there (yet). */
int kb_index_current_db(const char *index, char *buf, size_t cap);

/* Generation `gen`'s directory name (for reports) and its path in `index`. */
void kb_index_gen_name(int gen, char *buf, size_t cap);
void kb_index_gen_path(const char *index, int gen, char *buf, size_t cap);
/* Where a new generation `gen` is built (shard 0) and its analysis threads' shards
 * (shard K >= 1); kb_index_remove_build removes them (shards 1..n_shards). */
void kb_index_build_path(const char *index, int gen, size_t shard, char *buf, size_t cap);
void kb_index_remove_build(const char *index, int gen, size_t n_shards);
/* The stub's path (to watch it for a switch). */
void kb_index_stub_path(const char *index, char *buf, size_t cap);

/* The location's shards: N >= 2 when its top stub lists shard folders, else 1 (an
 * unsharded location, or none yet). */
size_t kb_index_shards(const char *index);
/* The shard of document `id` among n (0 when n < 2): XXH64(id, seed 0) % n. */
size_t kb_index_shard_of(const char *id, size_t n);
/* The routing hash's name, as stored in the lexicon ("xxh64"). */
const char *kb_index_route_hash(void);
/* A sharded location's lexicon folder and shard folder `shard` (location-like each). */
void kb_index_lexicon_path(const char *index, char *buf, size_t cap);
void kb_index_shard_path(const char *index, size_t shard, char *buf, size_t cap);

/* 0 when `index` may be written (kb-server's API writes): a local folder, or none
 * yet. KB_EINVAL (err says why) for a stub file (shards served from elsewhere), a
 * folder whose stub lists remote shards, or a replica's folder (xapian-replicate's
 * stub): what is written there diverges from the master. */
int kb_index_writable(const char *index, struct kb_error *err);

/* Creates the location's folder and its missing parents. Returns 0, or -1 (errno). */
int kb_index_mkdir(const char *index);

/* Takes the location's indexer lock without waiting. Returns its descriptor, or -1
 * with err: KB_ELOCKED when another process holds it, else KB_EIO. */
int kb_index_lock(const char *index, struct kb_error *err);
void kb_index_unlock(int fd);

/* Switches `index` to generation `gen` atomically (a new stub renamed over the old one,
 * fsync'ed): readers opening the location from now on get it. `who` signs the stub. */
int kb_index_switch(const char *index, int gen, const char *who, struct kb_error *err);

/* After a switch to `gen`: keeps the previous generation (readers may still be on it)
 * and removes the older ones. */
void kb_index_prune(const char *index, int gen);

/* Under the lock: removes what a killed run may have left (build folders and shards,
 * generations newer than `current`, a half-written stub). */
void kb_index_remove_leftovers(const char *index, int current);

/* Removes generation `gen`'s directory (a half-built one). */
void kb_index_remove_generation(const char *index, int gen);

/* Removes a directory tree (what exists of it). */
void kb_index_remove_tree(const char *path);

/* The location's revision that generation `gen` reached: its KB_META_REV_BASE plus its
 * Xapian revision (0 when it cannot be read). */
unsigned long kb_index_generation_revision(const char *index, int gen);

/* Creates an empty first generation and its stub when `index` holds no index at all,
 * under the indexer lock (KB_ELOCKED while an indexer holds it). `who` signs the
 * stub. KB_OK as well when an index appeared meanwhile. */
int kb_index_create(const char *index, const char *who, struct kb_error *err);

/* --- documents ready to store ----------------------------------------------------- */

/* An analysed document: built by any thread with its own struct kb_analysis, stored by
 * the thread that holds the writer. */
struct kb_index_doc;

/* Builds the document for d (kb_analysis_build: KB_EPARSE and friends for d's own
 * faults). A member-only d (KB_VIS_MEMBERS) gives the spelling dictionary no words. */
int kb_index_doc_build(struct kb_analysis *a, struct kb_doc *d, struct kb_index_doc **out,
                       struct kb_error *err);
void kb_index_doc_free(struct kb_index_doc *doc); /* accepts NULL */

/* --- writers ---------------------------------------------------------------------- */

struct kb_index_writer;

enum kb_index_open_flags {
    KB_INDEX_CREATE = 1 << 0,    /* create the database when missing */
    KB_INDEX_NO_SYNC = 1 << 1,   /* no fsync (a new generation nobody reads yet) */
    KB_INDEX_WAIT_LOCK = 1 << 2, /* wait for Xapian's write lock instead of failing */
};

/* Opens database `db` (a generation's path, a build folder) for writing. Errors are the
 * write side's (xerror.h): KB_ELOCKED while another writer holds it. */
int kb_index_writer_open(const char *db, unsigned flags, struct kb_index_writer **out,
                         struct kb_error *err);
/* Opens the location's current state for writing: the current generation of an
 * unsharded location, or every shard's and the lexicon's (KB_ENOTFOUND: no index). On
 * a sharded location documents go to their shard, spelling and metadata to the
 * lexicon; kb_index_writer_commit commits the shards, then the lexicon. */
int kb_index_writer_open_location(const char *index, unsigned flags,
                                  struct kb_index_writer **out, struct kb_error *err);
/* Opens build slot `slot` (0: the run's main writer, K >= 1: analysis thread K) of the
 * new generation `gen` of a location of n shards (n < 2: unsharded), creating folders. */
int kb_index_writer_open_build(const char *index, size_t n, int gen, size_t slot,
                               unsigned flags, struct kb_index_writer **out,
                               struct kb_error *err);
/* The disk space of a failed write (core/space.h) for a whole location: its one
 * database, or each shard and the lexicon. kb_index_space_take notes every database's
 * committed table sizes through w (a location's writer, kb_index_writer_open_location,
 * so the write locks are held); with keep_note it also keeps the note in files beside
 * the location's lock, so that the next run gives back what a killed one left
 * (kb_index_space_recover). NULL when nothing could be noted (out of memory). */
#define KB_INDEX_MAX_SHARDS 64 /* the most shards a location has (setting shards) */
struct kb_index_space;
struct kb_index_space *kb_index_space_take(struct kb_index_writer *w, const char *index,
                                           int keep_note);
/* After a failed commit, once w is freed: cuts each database back to its noted sizes
 * (each only if still at its noted revision). Returns the bytes given back. */
long long kb_index_space_restore(const struct kb_index_space *s);
/* Frees s and removes its note files (accepts NULL). */
void kb_index_space_free(struct kb_index_space *s);
/* A run killed after it filled the disk: gives back what its notes say, for every
 * database of the location still at the noted generation, and removes the notes.
 * Returns the bytes given back. */
long long kb_index_space_recover(const char *index);

/* Compacts the build of generation gen (slots 0..n_slots) of every part into place and
 * switches the location to it (order: index.h's top), pruning older generations and
 * the parts of another layout. `who` signs the stubs. */
int kb_index_finish_build(const char *index, size_t n, int gen, size_t n_slots,
                          const char *who, struct kb_error *err);
/* Opens `db` only to hold its write lock, waiting up to 10 s (writers wait meanwhile);
 * nothing is written through it. NULL when it could not be had. */
struct kb_index_writer *kb_index_writer_hold(const char *db);
/* Commits (outside a transaction) and frees the writer, even on failure. */
int kb_index_writer_close(struct kb_index_writer *w, struct kb_error *err);
/* Frees the writer; an open transaction is cancelled. Accepts NULL. */
void kb_index_writer_free(struct kb_index_writer *w);

/* One transaction (one per database of a sharded writer): nothing is visible before
 * kb_index_writer_commit. */
int kb_index_writer_begin(struct kb_index_writer *w, struct kb_error *err);
/* Commits the transaction (if one is open) and makes the revision durable: on a
 * sharded writer every shard in order, then the lexicon (with "kb:shards" and, for a
 * location's writer, "kb:shard_revisions" = each shard's revision). The
 * spelling counts are not flushed: call kb_index_writer_flush_spelling first. */
int kb_index_writer_commit(struct kb_index_writer *w, struct kb_error *err);

int kb_index_writer_revision(struct kb_index_writer *w, unsigned long *rev,
                             struct kb_error *err);
int kb_index_writer_doc_count(struct kb_index_writer *w, unsigned *n,
                              struct kb_error *err);

/* Metadata. get: KB_ENOTFOUND when unset, else *val is malloc'ed (caller frees).
 * set: an empty value deletes the key. for_each: fn(key, val, len, ctx) for each key
 * starting with prefix; fn returns 0 to go on, or a status that stops (returned). */
int kb_index_writer_get_meta(struct kb_index_writer *w, const char *key, char **val,
                             struct kb_error *err);
int kb_index_writer_set_meta(struct kb_index_writer *w, const char *key, const char *val,
                             size_t len, struct kb_error *err);
typedef int (*kb_index_meta_fn)(const char *key, const char *val, size_t len, void *ctx);
int kb_index_writer_for_each_meta(struct kb_index_writer *w, const char *prefix,
                                  kb_index_meta_fn fn, void *ctx, struct kb_error *err);

/* Stores doc under `id` (doc stays the caller's). `replacing`: an earlier version may
 * be stored, whose words leave the spelling counts first (0 in a new generation, which
 * holds none). Returns KB_OK; a status for which kb_index_fatal() holds when the index
 * cannot be written; another status when only this document is at fault. */
int kb_index_store(struct kb_index_writer *w, const char *id,
                   const struct kb_index_doc *doc, int replacing, struct kb_error *err);

enum kb_index_delete_flags {
    /* a run's bulk deletions: the words stay until the next full rebuild, as taking
     * them out costs a rewrite of the dictionary for every word reaching zero */
    KB_INDEX_KEEP_SPELLING = 1 << 0
};
/* Deletes document `id`, its words out of the spelling counts (unless
 * KB_INDEX_KEEP_SPELLING). *deleted (may be NULL) is 1 when there was one. */
int kb_index_delete(struct kb_index_writer *w, const char *id, unsigned flags,
                    int *deleted, struct kb_error *err);

/* 1 when an indexed term goes into the spelling dictionary: a plain word (no prefix,
 * starts with a-z) of 3 to 40 bytes. */
int kb_index_spelling_word(const char *term, size_t len);
/* Writes the counted spelling words into the dictionary (added or taken out) and
 * empties the counts. */
int kb_index_writer_flush_spelling(struct kb_index_writer *w, struct kb_error *err);

/* 1 when a status from writing means the index itself cannot be written (a run or a
 * batch must stop, nothing committed), rather than one input being bad. */
int kb_index_fatal(int rc);

/* Merges databases srcs[0..n) into a new compacted database `dst` (must not exist). */
int kb_index_compact(const char *const *srcs, size_t n, const char *dst,
                     struct kb_error *err);

/* --- reading a database as a whole (snapshots) ------------------------------------ */

struct kb_index_reader;

/* Errors are the read side's (xerror.h). */
int kb_index_reader_open(const char *db, struct kb_index_reader **out,
                         struct kb_error *err);
void kb_index_reader_close(struct kb_index_reader *r); /* accepts NULL */
int kb_index_reader_revision(struct kb_index_reader *r, unsigned long *rev,
                             struct kb_error *err);
int kb_index_reader_doc_count(struct kb_index_reader *r, unsigned *n,
                              struct kb_error *err);
int kb_index_reader_get_meta(struct kb_index_reader *r, const char *key, char **val,
                             struct kb_error *err);
/* Calls fn(data, len, ctx) with the stored data of every document that has an id, in
 * id order; fn returns 0 to go on, or a status that stops (returned). */
typedef int (*kb_index_data_fn)(const char *data, size_t len, void *ctx);
int kb_index_reader_for_each_doc(struct kb_index_reader *r, kb_index_data_fn fn,
                                 void *ctx, struct kb_error *err);

/* 1 when xapian-check can be run (on PATH). */
int kb_index_check_available(void);
/* Runs xapian-check on db: KB_OK when it passes, KB_ENOTFOUND when it could not be
 * started, else KB_EINDEX with its last words. */
int kb_index_check(const char *db, struct kb_error *err);

#endif
