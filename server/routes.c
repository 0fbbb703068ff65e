/* SPDX-License-Identifier: MIT */
/*
 * routes.c - the route table. A route is a method set, a path (exact, or a prefix when it
 * ends in '/'), whether reading it needs a key with scope "search" when
 * cfg.search_needs_key is set, and a handler. Writes (PUT, DELETE) always need scope
 * "write", and a route may require a scope of its own (analytics: "admin"); that and
 * the per-client rate limit are checked here, once, before any handler runs. Adding an
 * endpoint is one line here plus its handler.
 *
 * kb_route_begin runs on the request headers alone, before any byte of a body is read:
 * an unknown path, a method not allowed, a missing key, a rate limit or a declared
 * length over the route's body limit is answered at once (and "Expect: 100-continue" is
 * then never answered 100). Only POST /api/v1/search, POST /api/v1/session and
 * PUT /api/v1/documents/{id} take a body; every other route refuses one.
 */
#include "routes.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { M_GET = 1, M_POST = 2, M_PUT = 4, M_DELETE = 8, M_HEAD = 16, M_OPTIONS = 32 };

struct route {
    const char *name;
    unsigned methods;
    const char *path;
    int api_read; /* 1: needs scope search when cfg.search_needs_key */
    kb_handler fn;
    unsigned body_methods; /* the methods that take a request body here */
    unsigned scope;        /* a scope the route always needs (0: the rules above) */
};

/* Index 0 is "other" (unmatched paths) for metrics. */
static const struct route routes[] = {
    {"other", 0, "", 0, NULL, 0, 0},
    {"healthz", M_GET | M_HEAD, "/healthz", 0, kb_route_health, 0, 0},
    {"search", M_GET | M_POST | M_HEAD, "/api/v1/search", 1, kb_route_search, M_POST, 0},
    {"suggest", M_GET | M_HEAD, "/api/v1/suggest", 1, kb_route_suggest, 0, 0},
    {"documents", M_GET | M_HEAD | M_PUT | M_DELETE, "/api/v1/documents/", 1,
     kb_route_documents, M_PUT, 0},
    {"stats", M_GET | M_HEAD, "/api/v1/stats", 1, kb_route_stats, 0, 0},
    {"session", M_GET | M_HEAD | M_POST | M_DELETE, "/api/v1/session", 0,
     kb_route_session, M_POST, 0},
    {"openapi", M_GET | M_HEAD, "/api/v1/openapi.json", 0, kb_route_openapi, 0, 0},
    {"schemas", M_GET | M_HEAD, "/api/v1/api/", 0, kb_route_openapi, 0, 0},
    {"metrics", M_GET | M_HEAD, "/metrics", 0, kb_route_metrics, 0, 0},
    {"feed", M_GET | M_HEAD, "/feed.atom", 1, kb_route_feed, 0, 0},
    {"files", M_GET | M_HEAD, "/files/", 1, kb_route_files, 0, 0},
    {"analytics", M_GET | M_HEAD, "/api/v1/analytics/queries", 0, kb_route_analytics, 0,
     KB_SCOPE_ADMIN},
    {"page", M_GET | M_HEAD, "/", 0, kb_route_static, 0, 0},
    {"static", M_GET | M_HEAD, "/static/", 0, kb_route_static, 0, 0},
};

#define N_ROUTES (sizeof routes / sizeof routes[0])

const char *kb_route_name(int i)
{
    return i >= 0 && (size_t)i < N_ROUTES ? routes[i].name : NULL;
}

static unsigned method_bit(const char *m)
{
    static const struct {
        const char *name;
        unsigned bit;
    } tab[] = {{"GET", M_GET},       {"POST", M_POST}, {"PUT", M_PUT},
               {"DELETE", M_DELETE}, {"HEAD", M_HEAD}, {"OPTIONS", M_OPTIONS}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(m, tab[i].name))
            return tab[i].bit;
    return 0;
}

static void allow_header(unsigned methods, char *out, size_t cap)
{
    static const char *names[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"};
    out[0] = '\0';
    for (unsigned i = 0; i < 6; i++) {
        if (!(methods & (1u << i)))
            continue;
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s", n ? ", " : "", names[i]);
    }
}

static int path_matches(const char *pattern, const char *url)
{
    size_t n = strlen(pattern);
    if (n > 1 && pattern[n - 1] == '/')
        return strncmp(url, pattern, n) == 0 && url[n] != '\0';
    return strcmp(url, pattern) == 0;
}

/* Checks the key for a route; fills resp and returns non-zero when refused. */
static int refuse_unauthorised(struct kb_req *req, struct kb_resp *resp, unsigned m,
                               const struct route *r)
{
    unsigned scope = r->scope; /* the route's own scope first */
    if (r->fn == kb_route_session)
        return 0; /* signing in and out: session.c checks the key itself */
    if (!scope && (m & (M_PUT | M_DELETE)))
        scope = KB_SCOPE_WRITE;
    else if (!scope && r->api_read && req->srv->cfg.search_needs_key)
        scope = KB_SCOPE_SEARCH;
    if (!scope)
        return 0;
    struct kb_error err;
    kb_error_clear(&err);
    int rc = kb_keys_check(req->srv, req, scope, &err);
    if (!rc)
        return 0;
    if (rc == KB_EAUTH) {
        kb_resp_error(resp, 401, "unauthorized", "%s", err.msg);
        snprintf(resp->auth_realm, sizeof resp->auth_realm, "kb");
    } else {
        kb_resp_error(resp, 403, "forbidden", "%s", err.msg);
    }
    return 1;
}

/* The body limit of route r for method m: 0 when it takes no body. */
static size_t body_cap(const struct kb_server *srv, const struct route *r, unsigned m)
{
    if (!(r->body_methods & m))
        return 0;
    return m == M_POST ? srv->cfg.max_search_body_bytes : srv->cfg.max_body_bytes;
}

/* Refuses a body the route does not take, or one declared larger than its limit. */
static int refuse_body(struct kb_req *req, struct kb_resp *resp, size_t cap)
{
    const char *cl = kb_req_header(req, "Content-Length");
    const char *te = kb_req_header(req, "Transfer-Encoding");
    unsigned long long n = 0;
    if (cl) {
        char *end;
        n = strtoull(cl, &end, 10);
        if (end == cl || *end)
            n = ~0ULL;
    }
    if (cap == 0 && (n > 0 || te)) {
        kb_resp_error(resp, 413, "payload_too_large", "'%s %s' takes no request body",
                      req->method, req->url);
        return 1;
    }
    if (n > cap) {
        kb_resp_error(resp, 413, "payload_too_large",
                      "request body is larger than %zu bytes", cap);
        return 1;
    }
    return 0;
}

int kb_route_begin(struct kb_req *req, struct kb_resp *resp, size_t *cap)
{
    unsigned m = method_bit(req->method);
    *cap = 0;
    for (size_t i = 1; i < N_ROUTES; i++) {
        if (!path_matches(routes[i].path, req->url))
            continue;
        req->route = (int)i;
        if (m == M_OPTIONS) {
            resp->status = 204;
            resp->allow_cors = 1;
            allow_header(routes[i].methods | M_OPTIONS, resp->allow, sizeof resp->allow);
            return 1;
        }
        if (!(routes[i].methods & m)) {
            allow_header(routes[i].methods, resp->allow, sizeof resp->allow);
            kb_resp_error(resp, 405, "method_not_allowed", "'%s' is not allowed on '%s'",
                          req->method, req->url);
            return 1;
        }
        if (req->srv->ratelimit && strcmp(routes[i].name, "healthz") != 0) {
            char ip[64];
            kb_req_client_ip(req, ip, sizeof ip);
            unsigned wait = kb_ratelimit_take(req->srv->ratelimit, ip);
            if (wait) {
                snprintf(resp->retry_after, sizeof resp->retry_after, "%u", wait);
                kb_resp_error(
                    resp, 429, "rate_limited",
                    "more than %zu requests per second from '%s': retry in %u s",
                    req->srv->cfg.rate_limit, ip, wait);
                return 1;
            }
        }
        if (refuse_unauthorised(req, resp, m, &routes[i]))
            return 1;
        *cap = body_cap(req->srv, &routes[i], m);
        return refuse_body(req, resp, *cap);
    }
    req->route = 0;
    kb_resp_error(resp, 404, "not_found", "no route for '%s'", req->url);
    return 1;
}

void kb_route_run(struct kb_req *req, struct kb_resp *resp)
{
    if (req->route > 0 && (size_t)req->route < N_ROUTES && routes[req->route].fn)
        routes[req->route].fn(req, resp);
    else
        kb_resp_error(resp, 404, "not_found", "no route for '%s'", req->url);
}
