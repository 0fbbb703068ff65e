/* SPDX-License-Identifier: MIT */
/*
 * fuzz_params.c - libFuzzer target for the URL query string of GET /api/v1/search (and
 * /feed.atom, which takes the same parameters): the input is what follows '?'. It is
 * split on '&' and '=' and decoded ('+' and %XX) as libmicrohttpd does, with
 * MHD_http_unescape itself, then turned into a typed search request by
 * kb_search_params_from_pairs, the function the server calls with libmicrohttpd's
 * pairs. Properties: an error has a non-empty message that is valid UTF-8 (it becomes
 * a JSON error, so it must be); a success obeys every configured limit (page size,
 * offset, query length, 16 values per filter) and holds only valid UTF-8.
 */
#include "fuzz.h"
#include "search_http.h"
#include "text.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PAIRS 64

static void check_list(char *const *v, size_t n)
{
    if (n > KB_SEARCH_MAX_VALUES)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!v[i] || !kb_utf8_valid(v[i], strlen(v[i])) || strlen(v[i]) > 200)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct kb_config cfg;
    static int ready;
    if (!ready) {
        kb_config_defaults(&cfg);
        ready = 1;
    }
    if (size > 16384)
        return 0; /* libmicrohttpd refuses longer request lines */
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *kv[2 * MAX_PAIRS];
    size_t n = 0;
    for (char *s = buf, *next; s && n < MAX_PAIRS; s = next) {
        next = strchr(s, '&');
        if (next)
            *next++ = '\0';
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (eq)
            *eq++ = '\0';
        for (char *p = s; *p; p++)
            if (*p == '+')
                *p = ' ';
        MHD_http_unescape(s);
        if (eq) {
            for (char *p = eq; *p; p++)
                if (*p == '+')
                    *p = ' ';
            MHD_http_unescape(eq);
        }
        kv[2 * n] = s;
        kv[2 * n + 1] = eq; /* NULL for "key" without '=' */
        n++;
    }
    struct kb_search_params p;
    struct kb_error err;
    kb_search_params_init(&p);
    kb_error_clear(&err);
    int rc = kb_search_params_from_pairs(&p, kv, n, &cfg, &err);
    if (rc) {
        if (rc > 0 || !err.msg[0] || !kb_utf8_valid(err.msg, strlen(err.msg)))
            abort();
    } else {
        if (p.limit > cfg.max_page_size || p.offset > cfg.max_offset)
            abort();
        if (p.q &&
            (strlen(p.q) > cfg.max_query_bytes || !kb_utf8_valid(p.q, strlen(p.q))))
            abort();
        check_list(p.langs, p.n_langs);
        check_list(p.topics, p.n_topics);
        check_list(p.orgs, p.n_orgs);
        check_list(p.types, p.n_types);
        if (p.facets & ~KB_FACET_ALL)
            abort();
        if (p.date_from < 0 || p.date_to < 0)
            abort();
    }
    kb_search_params_release(&p);
    free(buf);
    return 0;
}
