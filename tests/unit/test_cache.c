/* SPDX-License-Identifier: MIT */
/*
 * test_cache.c - the server's per-worker answer cache (server/cache.c): a stored answer
 * comes back only under its key and epoch, a put under the same key replaces it, the
 * least recently used way of a full set is the one evicted, and a cache of size 0 is
 * off.
 */
#include "cache.h"
#include "check.h"

#include <stdio.h>
#include <string.h>

static void test_get_put(void)
{
    struct kb_cache c;
    size_t len = 0;
    CHECK_INT(kb_cache_init(&c, 16), 0);
    CHECK(kb_cache_get(&c, "8:hydr", 1, &len) == NULL);
    kb_cache_put(&c, "8:hydr", 1, "{\"a\":1}", 7);
    const char *v = kb_cache_get(&c, "8:hydr", 1, &len);
    CHECK(v != NULL && len == 7 && memcmp(v, "{\"a\":1}", 7) == 0);
    CHECK(kb_cache_get(&c, "8:hydr", 2, &len) == NULL); /* another index epoch */
    CHECK(kb_cache_get(&c, "8:hydro", 1, &len) == NULL);
    CHECK(kb_cache_get(&c, "2:hydr", 1, &len) == NULL);
    kb_cache_put(&c, "8:hydr", 2, "{\"a\":2}", 7); /* same key, newer epoch: replaced */
    v = kb_cache_get(&c, "8:hydr", 2, &len);
    CHECK(v != NULL && memcmp(v, "{\"a\":2}", 7) == 0);
    CHECK(kb_cache_get(&c, "8:hydr", 1, &len) == NULL);
    CHECK_INT((int)c.hits, 2);
    kb_cache_release(&c);
}

static void test_eviction(void)
{
    struct kb_cache c;
    size_t len = 0;
    char key[32], val[32];
    /* 4 entries: one set of four ways, so the fifth key evicts the least recently
     * used one */
    CHECK_INT(kb_cache_init(&c, 4), 0);
    CHECK_INT((int)c.n_sets, 1);
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "v%d", i);
        kb_cache_put(&c, key, 7, val, strlen(val));
    }
    CHECK(kb_cache_get(&c, "k0", 7, &len) != NULL); /* k0 used: k1 is now the oldest */
    kb_cache_put(&c, "k4", 7, "v4", 2);
    CHECK(kb_cache_get(&c, "k1", 7, &len) == NULL);
    const char *v = kb_cache_get(&c, "k0", 7, &len);
    CHECK(v != NULL && strcmp(v, "v0") == 0);
    v = kb_cache_get(&c, "k4", 7, &len);
    CHECK(v != NULL && strcmp(v, "v4") == 0 && len == 2);
    CHECK(kb_cache_get(&c, "k2", 7, &len) != NULL);
    CHECK(kb_cache_get(&c, "k3", 7, &len) != NULL);
    kb_cache_release(&c);
    kb_cache_release(&c); /* released twice: harmless */
}

static void test_off(void)
{
    struct kb_cache c;
    size_t len = 0;
    CHECK_INT(kb_cache_init(&c, 0), 0);
    kb_cache_put(&c, "k", 1, "v", 1);
    CHECK(kb_cache_get(&c, "k", 1, &len) == NULL);
    kb_cache_release(&c);
    CHECK_INT(kb_cache_init(&c, 5), 0); /* rounded up to 2 sets of 4 */
    CHECK_INT((int)c.n_sets, 2);
    kb_cache_release(&c);
}

int main(void)
{
    test_get_put();
    test_eviction();
    test_off();
    return check_done("test_cache");
}
