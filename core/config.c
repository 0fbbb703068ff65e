/* SPDX-License-Identifier: MIT */
/* config.c - see config.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef KB_DATA_DIR_DEFAULT
#define KB_DATA_DIR_DEFAULT "schemas"
#endif

/* The data_dir setting, once given: it wins over KB_DATA_DIR and the defaults. */
static char data_dir_set[1024];

static int copy_to(char *dst, size_t cap, const char *v, const char *key,
                   struct kb_error *err)
{
    size_t n = strlen(v);
    if (n >= cap)
        return kb_error_set(err, KB_EINVAL, "'%s' is longer than %zu bytes", key,
                            cap - 1);
    memcpy(dst, v, n + 1);
    return KB_OK;
}

void kb_config_defaults(struct kb_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->index, sizeof c->index, "var/index");
    snprintf(c->data_dir, sizeof c->data_dir, "%s", kb_data_dir());
    c->max_file_mb = 64;
    c->max_text_mb = 8;
    c->file_seconds = 30;
    c->flush_threshold = 1000;
    c->shards = 1;
    snprintf(c->bind, sizeof c->bind, "127.0.0.1");
    c->port = 8080;
    c->workers = 4;
    c->max_query_bytes = 1024;
    c->max_body_bytes = 16u << 20;
    c->max_page_size = 100;
    c->max_offset = 100000;
    c->max_wildcard = 1000;
    c->suggest_cache = 4096;
    c->query_seconds = 2.0;
    c->ranking = KB_RANK_BM25;
    c->bb2_c = 1.0;
    c->bm25_k1 = 1.0;
    c->bm25_b = 0.5;
    c->feedback_docs = 3;
    c->feedback_terms = 40;
    c->feedback_weight = 0.4;
    c->feedback_max_df = 0.2;
    c->typo_tolerance = 1;
    c->translation_share = 1.0;
    snprintf(c->access_log, sizeof c->access_log, "-");
    c->max_connections = 8192;
    c->max_connections_per_ip = 128;
    c->request_seconds = 20;
    c->max_search_body_bytes = 65536;
    snprintf(c->remote_user_scopes, sizeof c->remote_user_scopes, "search,members");
    c->session_minutes = 720;
    c->max_sessions = 10000;
    c->cookie_secure = -1;
    c->shard_timeout = 5;
}

static int parse_size(const char *v, size_t lo, size_t hi, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || x < lo || x > hi)
        return -1;
    *out = (size_t)x;
    return 0;
}

static int parse_double(const char *v, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !(x >= lo && x <= hi))
        return -1;
    *out = x;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
        *out = 1;
    else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") ||
             !strcmp(v, "off"))
        *out = 0;
    else
        return -1;
    return 0;
}

struct size_key {
    const char *name;
    size_t off;
    size_t lo, hi;
};

#define SK(f, lo, hi)                                                                    \
    {                                                                                    \
#f, offsetof(struct kb_config, f), lo, hi                                        \
    }
static const struct size_key size_keys[] = {
    SK(max_file_mb, 1, 4096),
    SK(max_text_mb, 1, 1024),
    SK(flush_threshold, 1, 1000000),
    SK(threads, 0, 64),
    SK(shards, 1, 64),
    SK(max_changesets, 0, 100000),
    SK(workers, 1, 256),
    SK(max_query_bytes, 16, 1 << 20),
    SK(max_body_bytes, 1024, 1u << 30),
    SK(max_page_size, 1, 10000),
    SK(max_offset, 0, 100000000),
    SK(max_wildcard, 1, 1000000),
    SK(suggest_cache, 0, 1000000),
    SK(rate_limit, 0, 1000000),
    SK(feedback_docs, 0, 100),
    SK(feedback_terms, 1, 1000),
    SK(max_connections, 16, 1000000),
    SK(max_connections_per_ip, 0, 1000000),
    SK(max_search_body_bytes, 1024, 1u << 30),
    SK(session_minutes, 1, 525600),
    SK(max_sessions, 1, 10000000),
};
#undef SK

int kb_config_set(struct kb_config *c, const char *key, const char *v,
                  struct kb_error *err)
{
    if (!strcmp(key, "index"))
        return copy_to(c->index, sizeof c->index, v, key, err);
    if (!strcmp(key, "data_dir")) {
        int rc = copy_to(c->data_dir, sizeof c->data_dir, v, key, err);
        if (!rc) /* the data files are found through kb_data_dir() */
            snprintf(data_dir_set, sizeof data_dir_set, "%s", v);
        return rc;
    }
    if (!strcmp(key, "web_dir"))
        return copy_to(c->web_dir, sizeof c->web_dir, v, key, err);
    if (!strcmp(key, "keys_file"))
        return copy_to(c->keys_file, sizeof c->keys_file, v, key, err);
    if (!strcmp(key, "access_log"))
        return copy_to(c->access_log, sizeof c->access_log, v, key, err);
    if (!strcmp(key, "analytics_file"))
        return copy_to(c->analytics_file, sizeof c->analytics_file, v, key, err);
    if (!strcmp(key, "lexicon"))
        return copy_to(c->lexicon, sizeof c->lexicon, v, key, err);
    if (!strcmp(key, "partial_results") || !strcmp(key, "read_only")) {
        if (parse_bool(v,
                       !strcmp(key, "read_only") ? &c->read_only : &c->partial_results))
            return kb_error_set(err, KB_EINVAL, "'%s' must be true or false", key);
        return KB_OK;
    }
    if (!strcmp(key, "shard_timeout")) {
        if (parse_double(v, 0.01, 3600, &c->shard_timeout))
            return kb_error_set(
                err, KB_EINVAL,
                "'shard_timeout' must be a number of seconds, 0.01 to 3600");
        return KB_OK;
    }
    if (!strcmp(key, "bind"))
        return copy_to(c->bind, sizeof c->bind, v, key, err);
    if (!strcmp(key, "cors_origins"))
        return copy_to(c->cors_origins, sizeof c->cors_origins, v, key, err);
    if (!strcmp(key, "public_url")) {
        size_t n = strlen(v);
        if (n && ((strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) ||
                  strpbrk(v, "<>\"'& \t\r\n") || v[n - 1] == '/'))
            return kb_error_set(err, KB_EINVAL,
                                "'public_url' must be an http(s) URL without a trailing "
                                "'/', such as https://kb.example.org");
        return copy_to(c->public_url, sizeof c->public_url, v, key, err);
    }
    if (!strcmp(key, "trusted_proxies"))
        return copy_to(c->trusted_proxies, sizeof c->trusted_proxies, v, key, err);
    if (!strcmp(key, "remote_user_scopes"))
        return copy_to(c->remote_user_scopes, sizeof c->remote_user_scopes, v, key, err);
    if (!strcmp(key, "cookie_secure")) {
        int b;
        if (!strcmp(v, "auto"))
            c->cookie_secure = -1;
        else if (parse_bool(v, &b))
            return kb_error_set(err, KB_EINVAL, "'%s' must be auto, true or false", key);
        else
            c->cookie_secure = b;
        return KB_OK;
    }
    if (!strcmp(key, "source") || !strcmp(key, "sources")) {
        if (c->n_sources >= KB_CONFIG_MAX_SOURCES)
            return kb_error_set(err, KB_EINVAL, "more than %d sources",
                                KB_CONFIG_MAX_SOURCES);
        int rc = copy_to(c->sources[c->n_sources], sizeof c->sources[0], v, key, err);
        if (!rc)
            c->n_sources++;
        return rc;
    }
    if (!strcmp(key, "port")) {
        size_t p;
        if (parse_size(v, 0, 65535, &p))
            return kb_error_set(err, KB_EINVAL, "'port' must be 0-65535, not '%s'", v);
        c->port = (unsigned)p;
        return KB_OK;
    }
    if (!strcmp(key, "search_needs_key") || !strcmp(key, "typo_tolerance")) {
        if (parse_bool(v, !strcmp(key, "typo_tolerance") ? &c->typo_tolerance
                                                         : &c->search_needs_key))
            return kb_error_set(err, KB_EINVAL, "'%s' must be true or false", key);
        return KB_OK;
    }
    if (!strcmp(key, "file_seconds") || !strcmp(key, "query_seconds") ||
        !strcmp(key, "request_seconds")) {
        double *dst = !strcmp(key, "file_seconds")    ? &c->file_seconds
                      : !strcmp(key, "query_seconds") ? &c->query_seconds
                                                      : &c->request_seconds;
        if (parse_double(v, 0.001, 3600, dst))
            return kb_error_set(err, KB_EINVAL, "'%s' must be a number of seconds", key);
        return KB_OK;
    }
    if (!strcmp(key, "ranking")) {
        if (!strcmp(v, "bb2") || !strcmp(v, "bm25")) {
            c->ranking = !strcmp(v, "bb2") ? KB_RANK_BB2 : KB_RANK_BM25;
            return KB_OK;
        }
        return kb_error_set(err, KB_EINVAL, "'ranking' must be bb2 or bm25, not '%s'", v);
    }
    if (!strcmp(key, "bb2_c") || !strcmp(key, "feedback_weight")) {
        int c2 = !strcmp(key, "bb2_c");
        if (parse_double(v, 0.01, c2 ? 100 : 10, c2 ? &c->bb2_c : &c->feedback_weight))
            return kb_error_set(err, KB_EINVAL, "'%s' must be a number from 0.01 to %s",
                                key, c2 ? "100" : "10");
        return KB_OK;
    }
    if (!strcmp(key, "translation_share")) {
        if (parse_double(v, 0, 10, &c->translation_share))
            return kb_error_set(err, KB_EINVAL, "'%s' must be a number from 0 to 10",
                                key);
        return KB_OK;
    }
    if (!strcmp(key, "feedback_max_df")) {
        if (parse_double(v, 0.01, 1, &c->feedback_max_df))
            return kb_error_set(err, KB_EINVAL,
                                "'%s' must be a share of the documents, 0.01 to 1", key);
        return KB_OK;
    }
    if (!strcmp(key, "bm25_k1") || !strcmp(key, "bm25_b")) {
        int k1 = !strcmp(key, "bm25_k1");
        if (parse_double(v, 0.01, k1 ? 10 : 1, k1 ? &c->bm25_k1 : &c->bm25_b))
            return kb_error_set(err, KB_EINVAL, "'%s' must be a number from 0.01 to %s",
                                key, k1 ? "10" : "1");
        return KB_OK;
    }
    for (size_t i = 0; i < sizeof size_keys / sizeof size_keys[0]; i++) {
        if (strcmp(key, size_keys[i].name) != 0)
            continue;
        size_t *dst = (size_t *)((char *)c + size_keys[i].off);
        if (parse_size(v, size_keys[i].lo, size_keys[i].hi, dst))
            return kb_error_set(err, KB_EINVAL,
                                "'%s' must be a whole number from %zu to %zu", key,
                                size_keys[i].lo, size_keys[i].hi);
        return KB_OK;
    }
    return kb_error_set(err, KB_ENOTFOUND, "unknown setting '%s'", key);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int kb_config_load_file(struct kb_config *c, const char *path, struct kb_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return kb_error_set(err, errno == ENOENT ? KB_ENOTFOUND : KB_EIO,
                            "cannot open config '%s': %s", path, strerror(errno));
    char line[2048];
    int rc = KB_OK;
    unsigned lineno = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = kb_error_set(err, KB_EINVAL, "config '%s' line %u: expected key = value",
                              path, lineno);
            break;
        }
        *eq = '\0';
        struct kb_error e2;
        kb_error_clear(&e2);
        rc = kb_config_set(c, trim(s), trim(eq + 1), &e2);
        if (rc)
            kb_error_set(err, rc, "config '%s' line %u: %s", path, lineno, e2.msg);
    }
    fclose(f);
    return rc;
}

int kb_config_load_env(struct kb_config *c, struct kb_error *err)
{
    static const char *keys[] = {"index",
                                 "data_dir",
                                 "web_dir",
                                 "keys_file",
                                 "access_log",
                                 "bind",
                                 "port",
                                 "search_needs_key",
                                 "file_seconds",
                                 "query_seconds",
                                 "max_file_mb",
                                 "max_text_mb",
                                 "flush_threshold",
                                 "threads",
                                 "shards",
                                 "max_changesets",
                                 "workers",
                                 "max_query_bytes",
                                 "max_body_bytes",
                                 "max_page_size",
                                 "max_offset",
                                 "max_wildcard",
                                 "rate_limit",
                                 "bm25_k1",
                                 "bm25_b",
                                 "ranking",
                                 "bb2_c",
                                 "feedback_docs",
                                 "feedback_terms",
                                 "feedback_weight",
                                 "feedback_max_df",
                                 "translation_share",
                                 "suggest_cache",
                                 "max_connections",
                                 "max_connections_per_ip",
                                 "request_seconds",
                                 "max_search_body_bytes",
                                 "cors_origins",
                                 "public_url",
                                 "trusted_proxies",
                                 "remote_user_scopes",
                                 "session_minutes",
                                 "max_sessions",
                                 "cookie_secure",
                                 "analytics_file",
                                 "typo_tolerance",
                                 "lexicon",
                                 "shard_timeout",
                                 "partial_results",
                                 "read_only"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char name[64] = "KB_";
        size_t j;
        for (j = 0; keys[i][j] && j + 4 < sizeof name; j++)
            name[3 + j] = (char)toupper((unsigned char)keys[i][j]);
        name[3 + j] = '\0';
        const char *v = getenv(name);
        if (!v)
            continue;
        struct kb_error e2;
        kb_error_clear(&e2);
        int rc = kb_config_set(c, keys[i], v, &e2);
        if (rc)
            return kb_error_set(err, rc, "environment %s: %s", name, e2.msg);
    }
    return KB_OK;
}

char *kb_install_dir(const char *rel, char *buf, size_t cap)
{
    char exe[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || (size_t)n >= sizeof exe - 1)
        return NULL;
    exe[n] = '\0';
    for (int up = 0; up < 2; up++) { /* drop the program's name, then its bin/ */
        char *slash = strrchr(exe, '/');
        if (!slash)
            return NULL;
        *slash = '\0';
    }
    struct stat st;
    int w = snprintf(buf, cap, "%s/%s", exe, rel);
    if (w < 0 || (size_t)w >= cap || stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return buf;
}

static char installed_data[1024];

static void find_installed_data(void)
{
    if (!kb_install_dir("share/powertrain-kb", installed_data, sizeof installed_data))
        installed_data[0] = '\0';
}

const char *kb_data_dir(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (data_dir_set[0])
        return data_dir_set;
    const char *d = getenv("KB_DATA_DIR");
    if (d && *d)
        return d;
    pthread_once(&once, find_installed_data);
    return installed_data[0] ? installed_data : KB_DATA_DIR_DEFAULT;
}

char *kb_data_path(const char *name, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s/%s", kb_data_dir(), name);
    return n < 0 || (size_t)n >= cap ? NULL : buf;
}
