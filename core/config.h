/* SPDX-License-Identifier: MIT */
/*
 * config.h - configuration shared by both programs. Every setting has a default, so
 * nothing is required to start; a file (`key = value` lines, '#' comments), then the
 * environment (KB_<KEY> upper-cased, e.g. KB_PORT=9000), then command-line flags
 * (--key=value or --key value) override it in that order.
 */
#ifndef KB_CONFIG_H
#define KB_CONFIG_H

#include "error.h"

#include <stddef.h>

#define KB_CONFIG_MAX_SOURCES 16

enum kb_ranking { KB_RANK_BB2 = 0, KB_RANK_BM25 = 1 };

struct kb_config {
    /* shared */
    char index[1024]; /* index location: directory or stub file (default "var/index") */
    char data_dir[1024]; /* thesaurus, stop words, schemas (default: the source tree's) */
    /* indexer */
    char sources[KB_CONFIG_MAX_SOURCES][1024]; /* folders to index (default "corpus") */
    size_t n_sources;
    size_t max_file_mb;     /* largest input file (64) */
    size_t max_text_mb;     /* extracted text kept per document (8) */
    double file_seconds;    /* time budget per file (30) */
    size_t flush_threshold; /* documents buffered before Xapian flushes (1000) */
    size_t threads;         /* analysis threads (0 = number of cores) */
    size_t shards;          /* index shards (1 = unsharded; docs/deployment-shards.md) */
    size_t max_changesets;  /* XAPIAN_MAX_CHANGESETS for replication (0 = none) */
    /* server */
    char bind[64];          /* address to listen on (127.0.0.1) */
    unsigned port;          /* 8080; 0 = any free port, printed at start */
    size_t workers;         /* HTTP worker threads, one Xapian reader each (4) */
    char web_dir[1024];     /* static files of the search page */
    char keys_file[1024];   /* API keys (hashed); "" = no key can write */
    int search_needs_key;   /* 1: search also requires a key with scope search */
    size_t max_query_bytes; /* 1024 */
    size_t max_body_bytes;  /* request bodies, 16 MiB */
    size_t max_page_size;   /* 100 */
    size_t max_offset;      /* deepest offset allowed (100000) */
    size_t max_wildcard;    /* terms a wildcard may expand to (1000) */
    size_t suggest_cache;   /* suggest answers cached per worker thread (4096; 0 off) */
    double query_seconds;   /* time limit per query (2.0) */
    size_t rate_limit;      /* requests per second per client, 0 = none */
    /* ranking (bench/relevance/README.md has the measurements behind the defaults) */
    int ranking;    /* KB_RANK_BM25 (default) or KB_RANK_BB2: "bm25" | "bb2" */
    double bb2_c;   /* DFR BB2 length normalisation c, 0.01-100 (1.0) */
    double bm25_k1; /* BM25 term-frequency saturation, 0.01-10 (1.0) */
    double bm25_b;  /* BM25 length normalisation, 0.01-1 (0.5) */
    size_t
        feedback_docs; /* pseudo-relevance feedback: first-pass documents, 0 = off (3) */
    size_t feedback_terms;  /* words taken from them, 1-1000 (40) */
    double feedback_weight; /* weight of those words against the query's, 0.01-10 (0.4) */
    double feedback_max_df; /* only words in at most this share of documents (0.2) */
    int typo_tolerance;     /* 1 (default): a search also searches the corrections of its
                             * misspelled words (server/search.c); 0: did-you-mean only */
    /* versions of a brief (translation_of) among the top 3 rise together by this share
     * of their best version's score, 0-10, 0 = off (1.0) */
    double translation_share;
    char access_log[1024]; /* "-" = stderr, "" = none */
    /* server: hostile clients (docs/reliability.md) */
    size_t max_connections;        /* open connections in all (8192) */
    size_t max_connections_per_ip; /* open connections per client address (128) */
    double
        request_seconds; /* a request's headers and body must arrive within this (20) */
    size_t max_search_body_bytes; /* POST /api/v1/search bodies (65536) */
    char cors_origins[1024]; /* origins allowed to read answers, comma list ("" = none) */
    char public_url[256];    /* base of absolute links in feeds ("" = relative links) */
    /* members (server/session.c) */
    char trusted_proxies[512];   /* addresses whose Remote-User header is believed ("") */
    char remote_user_scopes[64]; /* scopes given to a trusted Remote-User (search,members)
                                  */
    size_t session_minutes;      /* a sign-in lasts this long (720) */
    size_t max_sessions;         /* signed-in sessions kept at once (10000) */
    int cookie_secure; /* session cookie Secure: 1 always, 0 never, -1 auto (default:
                        * when a trusted proxy says X-Forwarded-Proto: https) */
    char analytics_file[1024]; /* query counts: "" = beside the index, "off" = none */
    /* shards (docs/deployment-shards.md) */
    char lexicon[1024];   /* spelling, synonyms, metadata ("": found beside the index) */
    double shard_timeout; /* seconds a remote shard may take per call (5) */
    int partial_results;  /* 1: a shard down gives partial results; 0 (default): 503 */
    int read_only;        /* 1: no API writes, nothing written beside the index */
};

/* Fills every default. */
void kb_config_defaults(struct kb_config *c);
/* Reads `key = value` lines from path. Unknown keys and bad values are errors naming the
 * line. A missing file is KB_ENOTFOUND. */
int kb_config_load_file(struct kb_config *c, const char *path, struct kb_error *err);
/* Applies KB_* environment variables. */
int kb_config_load_env(struct kb_config *c, struct kb_error *err);
/* Sets one key from a string (used by the three sources above and by flags).
 * KB_ENOTFOUND for an unknown key, KB_EINVAL for a bad value. The key "source" appends.
 */
int kb_config_set(struct kb_config *c, const char *key, const char *value,
                  struct kb_error *err);

/* The data directory: the data_dir setting once set, else $KB_DATA_DIR, else
 * ../share/powertrain-kb beside the program's bin/ directory when it exists (an installed
 * program: /usr/bin -> /usr/share/powertrain-kb), else the source tree's schemas/ (a
 * build default, for programs run from the build tree). */
const char *kb_data_dir(void);
/* Writes <the program's directory>/../rel into buf (from /proc/self/exe) and returns buf
 * when that directory exists; NULL otherwise. How an installed program finds its files.
 */
char *kb_install_dir(const char *rel, char *buf, size_t cap);
/* Writes kb_data_dir()/name into buf; returns buf, or NULL when it does not fit. */
char *kb_data_path(const char *name, char *buf, size_t cap);

#endif
