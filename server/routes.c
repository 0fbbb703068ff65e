/* SPDX-License-Identifier: MIT */
/*
 * routes.c - the route table. A route is a method set, a path (exact, or a prefix when it
 * ends in '/'), and a handler. Adding an endpoint is one line here plus its handler.
 */
#include "routes.h"

#include <string.h>

enum { M_GET = 1, M_POST = 2, M_PUT = 4, M_DELETE = 8, M_HEAD = 16, M_OPTIONS = 32 };

struct route {
    const char *name;
    unsigned methods;
    const char *path;
    kb_handler fn;
};

/* Index 0 is "other" (unmatched paths) for metrics. */
static const struct route routes[] = {
    {"other", 0, "", NULL},
    {"healthz", M_GET | M_HEAD, "/healthz", kb_route_health},
    {"search", M_GET | M_POST | M_HEAD, "/api/v1/search", kb_route_search},
    {"page", M_GET | M_HEAD, "/", kb_route_static},
    {"static", M_GET | M_HEAD, "/static/", kb_route_static},
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
    if (n > 1 && pattern[n - 1] == '/') /* "/" itself is exact */
        return strncmp(url, pattern, n) == 0 && url[n] != '\0';
    return strcmp(url, pattern) == 0;
}

void kb_route_dispatch(struct kb_req *req, struct kb_resp *resp)
{
    unsigned m = method_bit(req->method);
    for (size_t i = 1; i < N_ROUTES; i++) {
        if (!path_matches(routes[i].path, req->url))
            continue;
        req->route = (int)i;
        if (m == M_OPTIONS) {
            resp->status = 204;
            resp->allow_cors = 1;
            allow_header(routes[i].methods | M_OPTIONS, resp->allow, sizeof resp->allow);
            return;
        }
        if (!(routes[i].methods & m)) {
            allow_header(routes[i].methods, resp->allow, sizeof resp->allow);
            kb_resp_error(resp, 405, "method_not_allowed", "'%s' is not allowed on '%s'",
                          req->method, req->url);
            return;
        }
        routes[i].fn(req, resp);
        return;
    }
    kb_resp_error(resp, 404, "not_found", "no route for '%s'", req->url);
}
