/* SPDX-License-Identifier: MIT */
/*
 * cache.c - see cache.h.
 */
#include "cache.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define WAYS 4

int kb_cache_init(struct kb_cache *c, size_t entries)
{
    memset(c, 0, sizeof *c);
    if (entries == 0)
        return 0;
    size_t sets = 1;
    while (sets * WAYS < entries)
        sets *= 2;
    c->e = calloc(sets * WAYS, sizeof *c->e);
    if (!c->e)
        return -1;
    c->n_sets = sets;
    return 0;
}

const char *kb_cache_get(struct kb_cache *c, const char *key, unsigned long epoch,
                         size_t *len)
{
    if (!c->n_sets)
        return NULL;
    uint64_t h = XXH64(key, strlen(key), 0);
    struct kb_cache_entry *set = &c->e[(h & (c->n_sets - 1)) * WAYS];
    for (int i = 0; i < WAYS; i++) {
        struct kb_cache_entry *e = &set[i];
        if (e->key && e->hash == h && e->epoch == epoch && strcmp(e->key, key) == 0) {
            e->used = ++c->tick;
            __atomic_add_fetch(&c->hits, 1, __ATOMIC_RELAXED); /* read by /metrics */
            *len = e->len;
            return e->val;
        }
    }
    __atomic_add_fetch(&c->misses, 1, __ATOMIC_RELAXED);
    return NULL;
}

void kb_cache_put(struct kb_cache *c, const char *key, unsigned long epoch,
                  const char *val, size_t len)
{
    if (!c->n_sets || !val)
        return;
    uint64_t h = XXH64(key, strlen(key), 0);
    struct kb_cache_entry *set = &c->e[(h & (c->n_sets - 1)) * WAYS], *victim = &set[0];
    for (int i = 0; i < WAYS; i++) {
        struct kb_cache_entry *e = &set[i];
        if (!e->key || (e->hash == h && strcmp(e->key, key) == 0)) {
            victim = e; /* an empty way, or the same key at an older epoch */
            break;
        }
        if (e->used < victim->used)
            victim = e;
    }
    char *k = strdup(key), *v = malloc(len + 1);
    if (!k || !v) {
        free(k);
        free(v);
        return;
    }
    memcpy(v, val, len);
    v[len] = '\0';
    free(victim->key);
    free(victim->val);
    victim->hash = h;
    victim->key = k;
    victim->epoch = epoch;
    victim->used = ++c->tick;
    victim->val = v;
    victim->len = len;
}

void kb_cache_release(struct kb_cache *c)
{
    for (size_t i = 0; c->e && i < c->n_sets * WAYS; i++) {
        free(c->e[i].key);
        free(c->e[i].val);
    }
    free(c->e);
    memset(c, 0, sizeof *c);
}
