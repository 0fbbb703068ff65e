/* SPDX-License-Identifier: MIT */
/*
 * route_documents.c - one document by id: GET (metadata and text, with an ETag made of
 * the index revision and the id, 304 on If-None-Match), GET .../similar (more like this),
 * PUT (a JSON document, written through the single writer: 200 once applied, 202 when
 * still queued after about two seconds) and DELETE. Ids are paths such as
 * "en/hydrogen.md", so the id is everything after /api/v1/documents/, percent-decoded
 * (a file named "rapport été.txt" is /api/v1/documents/rapport%20%C3%A9t%C3%A9.txt, and
 * every URL we emit for it is encoded so). Documents indexed
 * from files cannot be replaced or deleted through the API (409): the next indexer run
 * would undo it. A member-only document is, for a client without the members scope,
 * a document that does not exist: 404 document_not_found on GET and on .../similar
 * (never 403, which would say it is there), and absent from similar documents.
 */
#include "schema.h"
#include "search_http.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX             "/api/v1/documents/"
#define SIMILAR            "/similar"
#define APPLY_WAIT_SECONDS 2.0

/* Ids: 1..256 bytes of UTF-8 text (http.c already refused a path that is not UTF-8 or
 * holds control characters), no backslash, no empty or dot segments, no segment that
 * starts or ends with a space. */
static int id_valid(const char *id, size_t len)
{
    if (!len || len > 256 || id[0] == '/' || id[len - 1] == '/')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if ((unsigned char)c < 0x20 || c == 0x7f || c == '\\')
            return 0;
        if (c == ' ' && (i == 0 || i + 1 == len || id[i - 1] == '/' || id[i + 1] == '/'))
            return 0;
        if (c == '/' && id[i + 1] == '/')
            return 0;
        if ((i == 0 || id[i - 1] == '/') && c == '.' &&
            (i + 1 == len || id[i + 1] == '/' ||
             (id[i + 1] == '.' && (i + 2 == len || id[i + 2] == '/'))))
            return 0;
    }
    return 1;
}

/* GET: the stored document (without its text when ?body=false), ETag and 304. */
static void get_document(struct kb_req *req, struct kb_resp *resp, struct kb_worker *w,
                         const char *id)
{
    struct kb_error err;
    kb_error_clear(&err);
    json_t *d = NULL;
    unsigned long rev = 0;
    const char *body_arg = kb_req_arg(req, "body");
    int with_body = 1;
    if (body_arg && strcmp(body_arg, "true") && strcmp(body_arg, "false")) {
        kb_resp_error(resp, 400, "invalid_parameter", "'body' must be true or false");
        goto out;
    }
    if (body_arg && !strcmp(body_arg, "false"))
        with_body = 0;
    int members = kb_req_members(req);
    if (kb_search_document(&w->s, id, with_body, members, &d, &err)) {
        kb_resp_error(resp, kb_http_status(err.code),
                      err.code == KB_ENOTFOUND ? "document_not_found"
                                               : kb_status_name(err.code),
                      "%s", err.msg);
        goto out;
    }
    rev = kb_worker_revision(w);
    unsigned char h[8];
    char hex[17];
    crypto_generichash(h, sizeof h, (const unsigned char *)id, strlen(id), NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(resp->etag, sizeof resp->etag, "\"%lu-%s%s\"", rev, hex,
             with_body ? "" : "-m");
    /* a member-only document must not be kept by a shared cache */
    snprintf(resp->cache, sizeof resp->cache, "%s",
             members ? "private, no-cache" : "no-cache");
    const char *inm = kb_req_header(req, "If-None-Match");
    if (inm && (strstr(inm, resp->etag) || !strcmp(inm, "*"))) {
        resp->status = 304;
        goto out;
    }
    struct kb_buf url;
    kb_buf_init(&url, 4096);
    kb_buf_adds(&url, PREFIX);
    kb_url_path_encode(&url, id);
    json_object_set_new(d, "url", json_string(kb_buf_str(&url)));
    kb_buf_release(&url);
    json_object_set_new(d, "revision", json_integer((json_int_t)rev));
    resp->json = d;
    d = NULL;
    resp->status = 200;
out:
    json_decref(d);
}

/* Reads an optional whole-number argument into *out (dflt when absent); on a bad value
 * fills resp with a 400 and returns -1. */
static int arg_uint(struct kb_req *req, struct kb_resp *resp, const char *name,
                    size_t dflt, size_t max, size_t *out)
{
    const char *s = kb_req_arg(req, name);
    *out = dflt;
    if (!s)
        return 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || s[0] == '-' || v > max) {
        kb_resp_error(resp, 400, "invalid_parameter",
                      "'%s' must be a whole number from 0 to %zu", name, max);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* GET .../similar: documents like `id` (Xapian relevance feedback on its terms). */
static void get_similar(struct kb_req *req, struct kb_resp *resp, struct kb_worker *w,
                        const char *id)
{
    const struct kb_config *cfg = &req->srv->cfg;
    struct kb_search_result res = {0};
    size_t limit, offset;
    double t0 = kb_now();
    /* limit/offset, or page/size as in search; anything else is refused, not ignored */
    static const char *const allowed[] = {"limit", "offset", "page", "size", NULL};
    size_t page, size;
    if (kb_req_only_args(req, resp, allowed) ||
        arg_uint(req, resp, "limit", 10, cfg->max_page_size, &limit) ||
        arg_uint(req, resp, "offset", 0, cfg->max_offset, &offset) ||
        arg_uint(req, resp, "size", limit, cfg->max_page_size, &size) ||
        arg_uint(req, resp, "page", 1, 1000000, &page))
        goto out;
    if (kb_req_arg(req, "size") || kb_req_arg(req, "page")) {
        if (page == 0) {
            kb_resp_error(resp, 400, "invalid_parameter", "'page' starts at 1");
            goto out;
        }
        limit = size;
        offset = (page - 1) * size;
        if (offset > cfg->max_offset) {
            kb_resp_error(resp, 400, "offset_too_deep",
                          "results deeper than %zu are not served", cfg->max_offset);
            goto out;
        }
    }
    int members = kb_req_members(req);
    if (!members) { /* the source must be one the client may see */
        struct kb_error err;
        json_t *src = NULL;
        kb_error_clear(&err);
        if (kb_search_document(&w->s, id, 0, 0, &src, &err)) {
            kb_resp_error(resp, kb_http_status(err.code),
                          err.code == KB_ENOTFOUND ? "document_not_found"
                                                   : kb_status_name(err.code),
                          "%s", err.msg);
            goto out;
        }
        json_decref(src);
    }
    struct kb_error err;
    kb_error_clear(&err);
    if (kb_search_similar(&w->s, id, offset, limit, members, &res, &err)) {
        if (err.code == KB_ENOTFOUND)
            kb_resp_error(resp, 404, "document_not_found", "no document '%s'", id);
        else
            kb_resp_from_error(resp, &err);
        goto out;
    }
    json_t *hits = json_array();
    for (size_t i = 0; i < res.n_hits; i++) {
        json_t *hit = kb_search_hit_json(res.hits[i].meta);
        json_object_set_new(hit, "score", json_real(res.hits[i].score));
        json_array_append_new(hits, hit);
    }
    unsigned long rev = 0;
    rev = kb_worker_revision(w);
    resp->json =
        json_pack("{s:s, s:I, s:b, s:I, s:I, s:o, s:I, s:f}", "id", id, "total",
                  (json_int_t)res.total, "total_exact", res.total_exact, "offset",
                  (json_int_t)offset, "limit", (json_int_t)limit, "hits", hits,
                  "revision", (json_int_t)rev, "took_ms", (kb_now() - t0) * 1000.0);
    if (resp->json)
        kb_search_mark_partial(w, resp->json, resp);
    resp->status = 200;
out:
    kb_search_result_release(&res);
}

/* PUT and DELETE: validate, refuse ids owned by the indexer, journal, wait a little. */
static void write_document(struct kb_req *req, struct kb_resp *resp, struct kb_worker *w,
                           const char *id, int is_put)
{
    struct kb_error err;
    kb_error_clear(&err);
    json_t *body = NULL, *old = NULL;
    struct kb_doc d;
    kb_doc_init(&d);
    if (req->srv->cfg.read_only) {
        kb_resp_error(resp, 405, "read_only",
                      "this server is a read-only replica: write on the indexing host");
        goto out;
    }
    if (!req->srv->writer) {
        snprintf(resp->retry_after, sizeof resp->retry_after, "60");
        kb_resp_error(resp, 503, "writes_unavailable",
                      "this server cannot write the index");
        goto out;
    }
    if (is_put) {
        body = kb_req_json_body(req, resp, 1);
        if (!body)
            goto out;
        const char *bid = json_string_value(json_object_get(body, "id"));
        const char *fmt = json_string_value(json_object_get(body, "format"));
        if (kb_doc_from_json(&d, body, 1, &err)) {
            kb_resp_error(resp, 400, "invalid_document", "%s", err.msg);
            goto out;
        }
        if (bid && strcmp(bid, id) != 0) {
            kb_resp_error(resp, 400, "invalid_document",
                          "field 'id' ('%.200s') differs from the id in the path", bid);
            goto out;
        }
        if (fmt && strcmp(fmt, "api") != 0) {
            kb_resp_error(resp, 400, "invalid_document", "field 'format' must be 'api'");
            goto out;
        }
        if (!d.title || !*d.title || !d.body || !*d.body) {
            kb_resp_error(resp, 400, "invalid_document",
                          "fields 'title' and 'body' are required and not empty");
            goto out;
        }
        if (d.lang && kb_lang_from_code(d.lang) < 0) {
            kb_resp_error(resp, 400, "invalid_document",
                          "field 'lang' must be fr, it or en");
            goto out;
        }
    }
    int rc = kb_search_document(&w->s, id, 0, 1, &old, &err);
    if (rc && rc != KB_ENOTFOUND) {
        kb_resp_from_error(resp, &err);
        goto out;
    }
    const char *ofmt = old ? json_string_value(json_object_get(old, "format")) : NULL;
    if (old && (!ofmt || strcmp(ofmt, "api") != 0)) {
        kb_resp_error(resp, 409, "document_from_files",
                      "'%s' is indexed from files (format '%s'): change the file instead",
                      id, ofmt ? ofmt : "?");
        goto out;
    }
    /* a PUT accepted but not yet applied (202), or an API document a new generation has
     * not caught up with yet, exists for a DELETE */
    if (!is_put && !old && !kb_writer_holds(req->srv, id)) {
        kb_resp_error(resp, 404, "document_not_found", "no document '%s'", id);
        goto out;
    }
    unsigned long long seq = 0;
    kb_error_clear(&err);
    if (kb_writer_submit(req->srv, is_put ? KB_WRITE_PUT : KB_WRITE_DELETE, id, body,
                         &seq, &err)) {
        if (err.code == KB_ENOSPC) /* nothing to hide: say what the client can wait for */
            kb_resp_error(
                resp, 507, "insufficient_storage",
                "the disk is full: the write was not accepted; retry once space "
                "is freed");
        else
            kb_resp_error(resp, 503, "journal_unavailable", "%s", err.msg);
        goto out;
    }
    unsigned long rev = 0;
    int applied = kb_writer_wait(req->srv, seq, APPLY_WAIT_SECONDS, &rev);
    resp->json =
        json_pack("{s:s, s:s, s:s, s:I}", "id", id, "op", is_put ? "put" : "delete",
                  "status", applied ? "applied" : "queued", "seq", (json_int_t)seq);
    if (applied) {
        json_object_set_new(resp->json, "revision", json_integer((json_int_t)rev));
        resp->revision = rev;
    }
    json_object_set_new(resp->json, "created", json_boolean(is_put && !old));
    if (is_put) {
        struct kb_buf loc;
        kb_buf_init(&loc, sizeof resp->location - 1);
        kb_buf_adds(&loc, PREFIX);
        if (!kb_url_path_encode(&loc, id))
            snprintf(resp->location, sizeof resp->location, "%s", kb_buf_str(&loc));
        kb_buf_release(&loc);
    }
    resp->status = applied ? 200 : 202;
out:
    kb_doc_release(&d);
    json_decref(body);
    json_decref(old);
}

void kb_route_documents(struct kb_req *req, struct kb_resp *resp)
{
    struct kb_error err;
    kb_error_clear(&err);
    char *id = NULL;
    const char *rest = req->url + strlen(PREFIX);
    size_t len = strlen(rest);
    int similar = 0;
    if (len > strlen(SIMILAR) && !strcmp(rest + len - strlen(SIMILAR), SIMILAR)) {
        similar = 1;
        len -= strlen(SIMILAR);
    }
    if (!id_valid(rest, len)) {
        kb_resp_error(resp, 400, "invalid_id",
                      "a document id is 1 to 256 bytes of text without control "
                      "characters or backslashes, empty or dot segments, or spaces at "
                      "the ends of a segment");
        goto out;
    }
    id = strndup(rest, len);
    if (!id) {
        kb_resp_error(resp, 503, "out_of_memory", "out of memory");
        goto out;
    }
    int is_get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    if (similar && !is_get) {
        snprintf(resp->allow, sizeof resp->allow, "GET, HEAD");
        kb_resp_error(resp, 405, "method_not_allowed", "'%s' is not allowed on '%s'",
                      req->method, req->url);
        goto out;
    }
    struct kb_worker *w = kb_worker_get(req->srv, &err);
    if (!w) {
        kb_resp_error(resp, 503, "index_unavailable", "%s", err.msg);
        goto out;
    }
    if (similar)
        get_similar(req, resp, w, id);
    else if (is_get)
        get_document(req, resp, w, id);
    else
        write_document(req, resp, w, id, !strcmp(req->method, "PUT"));
out:
    free(id);
}
