/* SPDX-License-Identifier: MIT */
/*
 * manifest.c - the state of one indexer run's files, kept in the index itself as
 * metadata committed with the documents (crawl.h lists the keys): loading it at the
 * start of a run, finding a file's entry, and writing or deleting a file's state or
 * failure record.
 */
#include "crawl_priv.h"
#include "schema.h"

#include <stdlib.h>
#include <string.h>

int manifest_cmp(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

struct entry *manifest_find(struct run *r, const char *path)
{
    struct entry key;
    memset(&key, 0, sizeof key);
    key.path = (char *)path;
    return r->n_e ? bsearch(&key, r->e, r->n_e, sizeof *r->e, manifest_cmp) : NULL;
}

/* Integer member `k` of state, or `dflt` when absent. */
long long manifest_int(const json_t *state, const char *k, long long dflt)
{
    const json_t *v = json_object_get(state, k);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

int manifest_load_cb(const char *key, const char *val, size_t len, void *ctx)
{
    struct run *r = ctx;
    json_t *st = json_loadb(val, len, 0, NULL);
    if (!st)
        return 0; /* unreadable: treated as unknown, the file is reindexed */
    if (r->n_e == r->cap_e) {
        size_t cap = r->cap_e ? r->cap_e * 2 : 1024; /* geometric: O(n) for the load */
        struct entry *e = realloc(r->e, cap * sizeof *e);
        if (!e) {
            json_decref(st);
            return KB_ENOMEM;
        }
        r->e = e;
        r->cap_e = cap;
    }
    struct entry *e = &r->e[r->n_e];
    e->path = strdup(key + strlen(MANIFEST_PREFIX));
    e->state = st;
    e->m = manifest_int(st, "m", -1);
    e->ns = manifest_int(st, "n", -1);
    e->s = manifest_int(st, "s", -1);
    e->seen = 0;
    if (!e->path) {
        json_decref(st);
        return KB_ENOMEM;
    }
    r->n_e++;
    return 0;
}

int manifest_load_failed_cb(const char *key, const char *val, size_t len, void *ctx)
{
    struct run *r = ctx;
    json_t *st = json_loadb(val, len, 0, NULL);
    if (st) {
        json_object_set(r->failing, key + strlen(KB_META_FAILED_PREFIX), st);
        json_object_set_new(r->failed, key + strlen(KB_META_FAILED_PREFIX), st);
    }
    return 0;
}

int manifest_set(struct run *r, const char *prefix, const char *path, json_t *v,
                 struct kb_error *err)
{
    char key[1200];
    r->writes++;
    int kn = snprintf(key, sizeof key, "%s%s", prefix, path);
    if (kn < 0 || (size_t)kn >= sizeof key)
        return kb_error_set(err, KB_EINVAL, "path too long for the index state");
    int rc;
    if (v) {
        char *s = json_dumps(v, JSON_COMPACT);
        if (!s)
            return kb_error_set(err, KB_ENOMEM, "out of memory");
        rc = kb_index_writer_set_meta(r->w, key, s, strlen(s), err);
        free(s);
    } else {
        rc = kb_index_writer_set_meta(r->w, key, "", 0, err);
    }
    if (rc)
        return rc;
    if (!strcmp(prefix, KB_META_FAILED_PREFIX)) {
        if (v)
            json_object_set(r->failing, path, v);
        else
            json_object_del(r->failing, path);
    }
    return KB_OK;
}

/* Marks every known file at `prefix` or under `prefix/` as seen, so that a run that
 * could not look at them (an unreadable folder) keeps their documents. */
void manifest_keep_under(struct run *r, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < r->n_e; i++) {
        const char *p = r->e[i].path;
        if (strncmp(p, prefix, n) == 0 && (p[n] == '\0' || p[n] == '/'))
            r->e[i].seen = 1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(r->failed, k, v)
    {
        if (strncmp(k, prefix, n) == 0 && (k[n] == '\0' || k[n] == '/'))
            json_object_set_new(v, "seen", json_true());
    }
}
