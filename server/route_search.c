/* SPDX-License-Identifier: MIT */
/*
 * route_search.c - GET and POST /api/v1/search: parameters from the query string or a
 * JSON body (same names, see search.c), answered by kb_search_run.
 */
#include "search.h"

#include <string.h>

void kb_route_search(struct kb_req *req, struct kb_resp *resp)
{
    struct kb_search_params p;
    struct kb_error err;
    kb_search_params_init(&p);
    kb_error_clear(&err);
    int rc;
    if (!strcmp(req->method, "POST")) {
        const char *ct = kb_req_header(req, "Content-Type");
        if (ct && strncmp(ct, "application/json", 16) != 0) {
            kb_resp_error(resp, 415, "unsupported_media_type",
                          "the body must be application/json, not '%s'", ct);
            goto out;
        }
        json_error_t je;
        json_t *body = json_loadb(kb_buf_str(&req->body), req->body.len,
                                  JSON_REJECT_DUPLICATES, &je);
        if (!body) {
            kb_resp_error(resp, 400, "invalid_json",
                          "the body is not valid JSON: %s (line %d)", je.text, je.line);
            goto out;
        }
        rc = kb_search_params_from_json(&p, body, &req->srv->cfg, &err);
        json_decref(body);
    } else {
        rc = kb_search_params_from_query(&p, req, &err);
    }
    if (rc) {
        kb_resp_error(resp, kb_http_status(rc),
                      rc == KB_ETOOBIG ? "query_too_long" : "invalid_parameter", "%s",
                      err.msg);
        goto out;
    }
    struct kb_worker *w = kb_worker_get(req->srv, &err);
    if (!w) {
        kb_resp_error(resp, 503, "index_unavailable", "%s", err.msg);
        goto out;
    }
    json_t *o = NULL;
    if (kb_search_run(req->srv, w, &p, &o, &err)) {
        kb_resp_from_error(resp, &err);
        goto out;
    }
    resp->json = o;
    resp->status = 200;
out:
    kb_search_params_release(&p);
}
