/* SPDX-License-Identifier: MIT */
/*
 * route_analytics.c - GET /api/v1/analytics/queries (scope admin, required by the route
 * table): the most searched queries and the queries that found nothing over the last
 * `days` days (1-365, default 30), at most `limit` of each (1-100, default 20). The
 * counting itself is in analytics.c; route_search.c records a query.
 */
#include "analytics.h"
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A whole number from lo to hi, or the default; 400 invalid_parameter otherwise. */
static int arg_range(const struct kb_req *req, struct kb_resp *resp, const char *name,
                     unsigned long dflt, unsigned long lo, unsigned long hi,
                     unsigned long *out)
{
    const char *v = kb_req_arg(req, name);
    *out = dflt;
    if (!v)
        return 0;
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || v[0] == '+' || x < lo || x > hi) {
        kb_resp_error(resp, 400, "invalid_parameter",
                      "'%s' must be a whole number from %lu to %lu", name, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

void kb_route_analytics(struct kb_req *req, struct kb_resp *resp)
{
    static const char *const allowed[] = {"days", "limit", NULL};
    unsigned long days, limit;
    if (kb_req_only_args(req, resp, allowed) ||
        arg_range(req, resp, "days", 30, 1, KB_ANALYTICS_DAYS, &days) ||
        arg_range(req, resp, "limit", 20, 1, 100, &limit))
        return;
    json_t *o =
        kb_analytics_report(req->srv->analytics, (unsigned)days, limit, time(NULL));
    if (!o) {
        kb_resp_error(resp, 503, "out_of_memory", "out of memory");
        return;
    }
    resp->json = o;
    resp->status = 200;
    snprintf(resp->cache, sizeof resp->cache, "no-store");
}
