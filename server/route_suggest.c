/* SPDX-License-Identifier: MIT */
/*
 * route_suggest.c - GET /api/v1/suggest?q=hydr: search-as-you-type. The parameters are
 * checked here and the suggestions made by core/suggest.h (completions of the last word,
 * matching titles; member-only documents are closed off there). Answers are cached per
 * worker thread (cache.h), keyed by what the client may see, and stamped with the
 * searcher's epoch.
 */
#include "search_http.h"
#include "suggest.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SUGGEST KB_SUGGEST_MAX

/* Answers with a serialised answer object (`{...}`, len bytes) and its took_ms. */
static void finish_body(struct kb_resp *resp, const char *obj, size_t len, double t0)
{
    char tail[64];
    int n = snprintf(tail, sizeof tail, ",\"took_ms\":%.3f}", (kb_now() - t0) * 1000.0);
    resp->body = malloc(len + (size_t)n + 1);
    if (!resp->body || len < 2) {
        free(resp->body);
        resp->body = NULL;
        kb_resp_error(resp, 503, "out_of_memory", "out of memory");
        return;
    }
    memcpy(resp->body, obj, len - 1); /* without the closing brace */
    memcpy(resp->body + len - 1, tail, (size_t)n + 1);
    resp->body_len = len - 1 + (size_t)n;
    resp->ctype = "application/json; charset=utf-8";
    resp->status = 200;
}

void kb_route_suggest(struct kb_req *req, struct kb_resp *resp)
{
    struct kb_error err;
    struct kb_buf ckey;
    struct kb_suggest_result r = {0};
    kb_error_clear(&err);
    kb_buf_init(&ckey, req->srv->cfg.max_query_bytes + 32);
    double t0 = kb_now();
    const char *q = kb_req_arg(req, "q");
    const char *ls = kb_req_arg(req, "limit");
    size_t limit = 8;
    if (!q || !*q) {
        kb_resp_error(resp, 400, "missing_parameter", "'q' is required");
        goto out;
    }
    if (strlen(q) > req->srv->cfg.max_query_bytes) {
        kb_resp_error(resp, 414, "query_too_long", "'q' is longer than %zu bytes",
                      req->srv->cfg.max_query_bytes);
        goto out;
    }
    if (!kb_utf8_valid(q, strlen(q))) { /* e.g. a prefix cut inside a character */
        kb_resp_error(resp, 400, "invalid_parameter", "'q' is not valid UTF-8");
        goto out;
    }
    if (ls) {
        char *end;
        unsigned long v = strtoul(ls, &end, 10);
        if (!*ls || *end || ls[0] == '-' || v < 1 || v > MAX_SUGGEST) {
            kb_resp_error(resp, 400, "invalid_parameter", "'limit' must be from 1 to %d",
                          MAX_SUGGEST);
            goto out;
        }
        limit = v;
    }
    /* the same keystrokes as a moment ago, on the same index: the answer is known */
    struct kb_worker *w = kb_worker_get(req->srv, &err);
    if (!w) {
        kb_resp_error(resp, 503, "index_unavailable", "%s", err.msg);
        goto out;
    }
    /* answers differ by what the client may see: never one cache entry for both */
    int members = kb_req_members(req);
    char lim[32];
    snprintf(lim, sizeof lim, "%c%zu:", members ? 'm' : 'p', limit);
    kb_buf_adds(&ckey, lim);
    kb_buf_adds(&ckey, q);
    size_t known_len = 0;
    const char *known =
        kb_cache_get(&w->suggest_cache, kb_buf_str(&ckey), w->s.epoch, &known_len);
    if (known) {
        finish_body(resp, known, known_len, t0);
        goto out;
    }
    if (kb_suggest_run(&w->s, q, limit, members, &r, &err)) {
        if (err.code == KB_EINVAL) /* 'q' cannot be normalised */
            kb_resp_error(resp, 400, "invalid_parameter", "%s", err.msg);
        else
            kb_resp_from_error(resp, &err);
        goto out;
    }
    json_t *comps = json_array();
    for (size_t i = 0; i < r.n_comps; i++)
        json_array_append_new(comps, json_pack("{s:s, s:s, s:I}", "text", r.comps[i].text,
                                               "term", r.comps[i].term, "freq",
                                               (json_int_t)r.comps[i].freq));
    json_t *titles = json_array();
    for (size_t i = 0; i < r.n_titles; i++) {
        if (!r.titles[i])
            continue;
        json_t *hit = kb_search_hit_json(r.titles[i]);
        json_array_append_new(titles, json_pack("{s:O, s:O, s:O, s:O}", "id",
                                                json_object_get(hit, "id"), "title",
                                                json_object_get(hit, "title"), "url",
                                                json_object_get(hit, "url"), "lang",
                                                json_object_get(hit, "lang")));
        json_decref(hit);
    }
    int cacheable = r.cacheable;
    /* serialised once without took_ms, kept in the cache as such; finish_body adds it */
    json_t *o = json_pack("{s:s, s:o, s:o, s:I}", "query", q, "completions", comps,
                          "titles", titles, "revision", (json_int_t)w->rev);
    if (o && kb_search_mark_partial(w, o, resp))
        cacheable = 0; /* a shard was left out: never serve this answer again */
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!body) {
        kb_resp_error(resp, 503, "out_of_memory", "out of memory");
        goto out;
    }
    if (cacheable)
        kb_cache_put(&w->suggest_cache, kb_buf_str(&ckey), w->s.epoch, body,
                     strlen(body));
    finish_body(resp, body, strlen(body), t0);
    free(body);
out:
    kb_suggest_result_release(&r);
    kb_buf_release(&ckey);
}
