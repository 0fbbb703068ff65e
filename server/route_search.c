/* SPDX-License-Identifier: MIT */
/*
 * route_search.c - GET and POST /api/v1/search: parameters from the query string or a
 * JSON body (same names, see search.c), answered by kb_search_run. Each limit has its
 * own error: query_too_long (414 in the URI, 413 in a body), page_too_large,
 * offset_too_deep, wildcard_too_broad (400) and query_timeout (503).
 */
#include "analytics.h"
#include "search_http.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void kb_route_search(struct kb_req *req, struct kb_resp *resp)
{
    struct kb_search_params p;
    struct kb_error err;
    json_t *body = NULL;
    kb_search_params_init(&p);
    kb_error_clear(&err);
    int rc;
    if (!strcmp(req->method, "POST")) {
        body = kb_req_json_body(req, resp, 0);
        if (!body)
            goto out;
        rc = kb_search_params_from_json(&p, body, &req->srv->cfg, &err);
    } else {
        rc = kb_search_params_from_query(&p, req, &err);
    }
    if (rc) {
        const char *code = p.err_code ? p.err_code : "invalid_parameter";
        if (rc == KB_EPARSE && strcmp(code, "query_too_long"))
            code = "invalid_body";
        kb_resp_error(resp, kb_api_status(code, rc, !strcmp(req->method, "POST")), code,
                      "%s", err.msg);
        goto out;
    }
    p.members = kb_req_members(req);
    struct kb_worker *w = kb_worker_get(req->srv, &err);
    if (!w) {
        kb_resp_error(resp, 503, "index_unavailable", "%s", err.msg);
        goto out;
    }
    json_t *o = NULL;
    if ((rc = kb_search_run(req->srv, w, &p, &o, &err))) {
        /* in a search, KB_ETOOBIG is a wildcard that expands to too many terms */
        const char *code = rc == KB_ETOOBIG ? "wildcard_too_broad"
                           : rc == KB_EBUSY || rc == KB_ELOCKED || rc == KB_EINDEX
                               ? "index_unavailable"
                               : NULL;
        if (code)
            kb_resp_error(resp, kb_api_status(code, rc, 0), code, "%s", err.msg);
        else
            kb_resp_from_error(resp, &err);
        goto out;
    }
    kb_search_mark_partial(w, NULL, resp); /* the header beside "partial" */
    if (json_is_true(json_object_get(o, "timed_out"))) {
        json_decref(o);
        snprintf(resp->retry_after, sizeof resp->retry_after, "1");
        kb_resp_error(resp, 503, "query_timeout",
                      "the query took longer than %g s: make it more specific",
                      req->srv->cfg.query_seconds);
        goto out;
    }
    /* query analytics: the first page of a final query (typing=true marks
     * search-as-you-type; HEAD probes, suggest and the feed are never counted) */
    if (!p.typing && p.offset == 0 && strcmp(req->method, "HEAD") != 0)
        kb_analytics_record(req->srv->analytics, p.q,
                            json_integer_value(json_object_get(o, "total")) == 0,
                            time(NULL));
    resp->json = o;
    resp->status = 200;
out:
    json_decref(body);
    kb_search_params_release(&p);
}
