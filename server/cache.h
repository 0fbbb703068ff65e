/* SPDX-License-Identifier: MIT */
/*
 * cache.h - a small response cache owned by one worker thread (so no lock): answers
 * (bytes, typically serialised JSON) keyed by a string, each stamped with the worker's
 * index epoch (struct kb_worker), so an answer from an older revision or generation is
 * never returned. Four-way set associative, least recently used out. Used by GET
 * /api/v1/suggest, where every member typing "hydr" asks the same thing.
 */
#ifndef KB_CACHE_H
#define KB_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct kb_cache_entry {
    uint64_t hash;
    char *key;           /* NULL: empty */
    unsigned long epoch; /* the worker's epoch when stored */
    uint64_t used;       /* last use, for LRU within a set */
    char *val;           /* malloc'ed copy */
    size_t len;
};

struct kb_cache {
    struct kb_cache_entry *e;
    size_t n_sets; /* a power of two; 4 entries each */
    uint64_t tick;
    size_t hits, misses; /* lookups; other threads read them with __atomic_load_n */
};

/* Sets up a cache of about `entries` answers (rounded up to 4 times a power of two);
 * 0 makes a disabled cache (get misses, put does nothing). Returns 0, or -1 out of
 * memory (the cache is then disabled). */
int kb_cache_init(struct kb_cache *c, size_t entries);
/* The answer stored under key at this epoch (valid until the next put), its length in
 * *len; or NULL. */
const char *kb_cache_get(struct kb_cache *c, const char *key, unsigned long epoch,
                         size_t *len);
/* Stores a copy of val (len bytes) under key at this epoch, replacing the least
 * recently used entry of its set. Out of memory: nothing stored. */
void kb_cache_put(struct kb_cache *c, const char *key, unsigned long epoch,
                  const char *val, size_t len);
void kb_cache_release(struct kb_cache *c);

#endif
