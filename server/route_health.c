/* SPDX-License-Identifier: MIT */
/*
 * route_health.c - GET /healthz: 200 with the index's document count and revision when
 * the index answers, 503 when it cannot be opened (load balancers take us out).
 */
#include "search_http.h"

void kb_route_health(struct kb_req *req, struct kb_resp *resp)
{
    struct kb_error err;
    kb_error_clear(&err);
    struct kb_worker *w = kb_worker_get(req->srv, &err);
    if (!w) {
        kb_resp_error(resp, 503, "index_unavailable", "%s", err.msg);
        return;
    }
    unsigned docs = 0;
    unsigned long rev = 0;
    unsigned per_lang[KB_LANG_COUNT];
    /* public documents only for anonymous clients (session.c) */
    kb_search_count_visible(&w->s, kb_req_members(req), &docs, per_lang, NULL);
    rev = kb_worker_revision(w);
    resp->json =
        json_pack("{s:s, s:I, s:I, s:f}", "status", "ok", "documents", (json_int_t)docs,
                  "revision", (json_int_t)rev, "uptime_s", kb_now() - req->srv->started);
    resp->cache[0] = '\0';
}
