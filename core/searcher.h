/* SPDX-License-Identifier: MIT */
/*
 * searcher.h - one thread's engine handle for reading an index: its Xapian reader over
 * the database the index location means (index.h), its analysers (Xapian stemmers are
 * not thread-safe), and what it knows of the data it reads (an epoch bumped whenever the
 * reader moves to other data, and the last revision read). Opened lazily, refreshed at
 * the start of each request (cheap when nothing changed), never shared between threads.
 * Recovery follows ../shared/notes/xapian-1.4.md §2: a modified revision is reopened and
 * the whole operation retried once; a vanished database is opened afresh.
 */
#ifndef KB_SEARCHER_H
#define KB_SEARCHER_H

#include "analysis.h"
#include "config.h"
#include "error.h"
#include "xapian_c.h"

#define KB_SEARCHER_MAX_SHARDS 256
/* A shard that timed out is tried again after 3 x shard_timeout, and at least this many
 * seconds; one that refused the connection, at every request */
#define KB_SHARD_RETRY_SECONDS 2.0

struct kb_searcher {
    const struct kb_config *cfg;    /* borrowed: the index location, limits, ranking */
    const struct kb_resources *res; /* borrowed: stop words, thesaurus */
    xap_reader *reader;             /* NULL until the index could be opened */
    char db[1100];                  /* the database opened (index.h), "" for none */
    /* its identity (the database's and its stub file's device, inode, and the stub's
     * time and size): a new one at the same path is another database (an index rebuilt
     * or copied in place) */
    unsigned long long db_id[6];
    struct kb_analysis an;
    int an_ready;
    unsigned long epoch; /* bumped whenever the reader moves to other data */
    unsigned long rev;   /* the index revision last read (kb_searcher_revision) */
    /* a stub file listing remote shards (docs/deployment-shards.md): the reader has a
     * handle per shard; one that is down is tried again from retry_at[i] on */
    int sharded;
    double retry_at[KB_SEARCHER_MAX_SHARDS];
    char lex[1100]; /* the lexicon database opened (spelling, metadata), "" for none */
};

/* Sets up the analysers; the index is opened by the first kb_searcher_refresh. */
int kb_searcher_init(struct kb_searcher *s, const struct kb_config *cfg,
                     const struct kb_resources *res, struct kb_error *err);
void kb_searcher_release(struct kb_searcher *s);
/* Opens the index (when it is not yet open, or appeared since) or moves the reader to
 * its newest revision and generation. KB_EBUSY in err when the index cannot be opened;
 * a failed refresh keeps serving what was read. */
int kb_searcher_refresh(struct kb_searcher *s, struct kb_error *err);
/* After an engine error: XAP_E_DB_MODIFIED -> refresh; not found/closed -> reopen.
 * Returns 1 when the caller should retry its whole operation once. */
int kb_searcher_recover(struct kb_searcher *s, int xap_code);
/* The index location's revision the reader sees (KB_META_REV_BASE plus the Xapian
 * revision; grows across generations), also kept in s->rev. */
unsigned long kb_searcher_revision(struct kb_searcher *s);
/* Records an engine failure in err (core/xerror.h, read side); returns the kb_status. */
int kb_searcher_error(const struct kb_searcher *s, const struct xap_error *xe,
                      struct kb_error *err);
/* The shards left out of the searches (down), their names in names[0..cap): how many.
 * With partial_results they make answers partial; without, requests fail meanwhile. */
size_t kb_searcher_missing(const struct kb_searcher *s, const char **names, size_t cap);
/* 1 when the index is a stub file listing remote shards (a read-only replica). */
int kb_searcher_index_is_remote(const char *index);
/* The index's metadata value under `key` (malloc'ed, *len bytes) or NULL. */
char *kb_searcher_meta(struct kb_searcher *s, const char *key, size_t *len);

#endif
